"""The claim work queue and the picked claim's detail (Billing → Claims).

    view = ClaimsView(services, biller)
    view.fixRequested.connect(workspace.open_fix)   # (fix target, patient id, visit id or 0)
    view.refresh()                                   # loads on the worker thread

The queue is filtered by status ("Needs attention" is draft or rejected), payer, age,
finding code and a search for a claim number, a patient's last name or an MRN. **Build
claims** (Ctrl+B) turns every signed visit without a claim into one and scrubs it; **Scrub
again** (Ctrl+R) scrubs the selected claims, or every open claim when none is selected
(Ctrl+Shift+R: every open claim). Picking a claim shows its header, diagnoses, lines with
the coding engine's rule trace for the picked line, the scrubber's findings (each with
the button that opens the screen where it is fixed, when that is elsewhere) and its
history. A biller closes a claim or marks it appealed with a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing.claim_lifecycle import EDITABLE, SENT, can_move
from infusion_desk.billing.findings import Finding
from infusion_desk.billing.scrubber import fix_target
from infusion_desk.models.enums import ClaimStatus
from infusion_desk.services.access import Permission
from infusion_desk.services.claims import (
    BuildSummary,
    ClaimDetail,
    ClaimRow,
    ClaimService,
    HistoryEntry,
    LineDetail,
    ScrubSummary,
)
from infusion_desk.services.concurrency import ChangedElsewhere
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui import code_help
from infusion_desk.ui.conflicts import offer_reload
from infusion_desk.ui.errors import describe, report_failure, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, WARNING, set_tone, tone_colour
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

SEARCH_DELAY_MS = 300
REPORT_LINES = 200

STATUS_LABELS: dict[ClaimStatus, str] = {
    ClaimStatus.DRAFT: "Draft",
    ClaimStatus.READY: "Ready",
    ClaimStatus.BATCHED: "Batched",
    ClaimStatus.SUBMITTED: "Submitted",
    ClaimStatus.ACCEPTED: "Accepted",
    ClaimStatus.REJECTED: "Rejected",
    ClaimStatus.PAID: "Paid",
    ClaimStatus.PARTIALLY_PAID: "Partially paid",
    ClaimStatus.DENIED: "Denied",
    ClaimStatus.APPEALED: "Appealed",
    ClaimStatus.CLOSED: "Closed",
}

ALL = "all"
ATTENTION = "attention"
NEEDS_ATTENTION = (ClaimStatus.DRAFT, ClaimStatus.REJECTED)
STATUS_FILTERS: tuple[tuple[str, str], ...] = (
    ("All claims", ALL),
    ("Needs attention (draft or rejected)", ATTENTION),
    *((label, status.value) for status, label in STATUS_LABELS.items()),
)

FREQUENCY_LABELS = {"1": "1 (original)", "7": "7 (replacement)", "8": "8 (void)"}

FIX_LABELS: dict[str, str] = {
    "authorization": "Open authorizations…",
    "eligibility": "Verify eligibility…",
    "patient": "Edit patient…",
    "subscriber": "Edit policy…",
    "order": "Open orders…",
    "coding": "Review coding…",
    "charge_master": "Open the charge master…",
    "drug_catalog": "Open the drug catalog…",
    "provider": "Open providers…",
    "clinic": "Open clinic settings…",
}
"""The button beside a finding, by where the finding is fixed; "claim" (fixed on the claim) has none."""

ANY_FINDING = "Any finding"

Today = Callable[[], date | None]
"""The clinic day for aging and scrubbing; ``None`` lets the service take the clinic's today."""


def _clinic_today() -> date | None:
    return None


def money_text(value: Decimal | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def plain_number(value: Decimal | None) -> str:
    return "" if value is None else format(value.normalize(), "f")


def local_stamp(value: datetime | None) -> str:
    """A stored UTC timestamp as MM/DD/YYYY HH:MM on this workstation's clock."""
    return "" if value is None else value.astimezone().strftime("%m/%d/%Y %H:%M")


def status_label(status: ClaimStatus | None) -> str:
    return "New" if status is None else STATUS_LABELS.get(status, str(status))


def _counted(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


CLAIM_COLUMNS: tuple[Column[ClaimRow], ...] = (
    ("Claim", lambda r: r.claim_number),
    ("Service date", lambda r: us_date(r.service_date)),
    ("Patient", lambda r: r.patient),
    ("Payer", lambda r: r.payer),
    ("Status", lambda r: status_label(r.status)),
    ("Charge", lambda r: money_text(r.total_charge)),
    ("Errors", lambda r: str(r.errors) if r.errors else ""),
    ("Warnings", lambda r: str(r.warnings) if r.warnings else ""),
    ("Age (days)", lambda r: str(r.age_days)),
    ("First problem", lambda r: r.first_problem),
)

LINE_COLUMNS: tuple[Column[LineDetail], ...] = (
    ("Line", lambda line: str(line.line_number)),
    ("Code", lambda line: line.code),
    ("Modifiers", lambda line: " ".join(line.modifiers)),
    ("Units", lambda line: plain_number(line.units)),
    ("Charge", lambda line: money_text(line.charge)),
    ("Pointers", lambda line: ",".join(str(p) for p in line.diagnosis_pointers)),
    ("NDC", lambda line: line.ndc or ""),
    ("NDC qty", lambda line: plain_number(line.ndc_quantity)),
    ("NDC unit", lambda line: line.ndc_unit or ""),
    ("Authorization", lambda line: line.authorization or ""),
)

HISTORY_COLUMNS: tuple[Column[HistoryEntry], ...] = (
    ("When", lambda h: local_stamp(h.at)),
    ("From → to", lambda h: f"{status_label(h.from_status)} → {status_label(h.to_status)}"),
    ("Who", lambda h: h.who),
    ("Why", lambda h: h.reason),
)

_Index = QModelIndex | QPersistentModelIndex


class ClaimTableModel(RowTableModel[ClaimRow]):
    """The queue: rejected claims read in red, and the first problem's full text is its tooltip."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(CLAIM_COLUMNS, parent)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < self.rowCount():
            return None
        record = self.row(index.row())
        if role == Qt.ItemDataRole.ForegroundRole and record.status is ClaimStatus.REJECTED:
            return QBrush(tone_colour(ERROR, background=QPalette.ColorRole.Base))
        if role == Qt.ItemDataRole.ToolTipRole and record.first_problem:
            return record.first_problem
        return super().data(index, role)

    def position(self, claim_id: int) -> int | None:
        return next((i for i in range(self.rowCount()) if self.row(i).id == claim_id), None)


class ReasonDialog(QDialog):
    """Move a claim by hand (close it, mark it appealed); the reason is kept in its history."""

    moved = Signal(int)  # claim id

    def __init__(
        self,
        service: ClaimService,
        actor: Actor,
        claim: ClaimRow,
        target: ClaimStatus | None,
        parent: QWidget | None = None,
        *,
        correction: str | None = None,
    ) -> None:
        """A status move to ``target``, or with ``correction`` ("replace" or "void") a new claim."""
        super().__init__(parent)
        self.setObjectName("claimReasonDialog")
        self._correction = correction
        self.new_claim_id: int | None = None
        if correction == "replace":
            title, verb = f"Replacement for claim {claim.claim_number}", "&Build replacement"
            summary = ("A corrected claim (frequency 7) will be built from the visit's current coding, "
                       "with the payer's claim number.")
            example = "e.g. drug units corrected after the coder's override"
        elif correction == "void":
            title, verb = f"Void claim {claim.claim_number}", "&Build void"
            summary = "A void (frequency 8) repeating this claim will be built with the payer's claim number."
            example = "e.g. billed to the wrong payer"
        elif target is ClaimStatus.CLOSED:
            title, verb, summary = f"Close claim {claim.claim_number}", "&Close claim", ""
            example = "e.g. paid in full, balance transferred to the patient"
        else:
            title, verb, summary = f"Mark claim {claim.claim_number} appealed", "&Mark appealed", ""
            example = "e.g. appeal letter sent with the infusion records"
        self.setWindowTitle(title)
        self._service, self._actor, self._claim, self._target = service, actor, claim, target
        self._runner = TaskRunner(self)
        form = QFormLayout(self)
        intro = QLabel(
            f"Claim {claim.claim_number} for {claim.patient}, {us_date(claim.service_date)}: "
            + (summary or f"{status_label(claim.status)} → {status_label(target or claim.status)}."),
            self,
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.reason = QLineEdit(self)
        self.reason.setObjectName("claimReason")
        self.reason.setPlaceholderText(example)
        form.addRow("&Reason", self.reason)
        self.error = QLabel("", self)
        self.error.setObjectName("claimReasonError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        buttons = QDialogButtonBox(self)
        self.confirm = buttons.addButton(verb, QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm.setObjectName("claimReasonConfirm")
        self.confirm.setDefault(True)
        keep = buttons.addButton("&Keep as is", QDialogButtonBox.ButtonRole.RejectRole)
        keep.setObjectName("claimReasonKeep")
        keep.setAutoDefault(False)  # Enter in the reason always means the move, never "keep"
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        pin_minimum_size(self)

    def submit(self) -> None:
        service, actor, claim_id, target = self._service, self._actor, self._claim.id, self._target
        reason = self.reason.text()
        self.confirm.setEnabled(False)
        if self._correction == "replace":
            self._runner.run(lambda: service.correct(actor, claim_id, reason), self._built, self._failed)
        elif self._correction == "void":
            self._runner.run(lambda: service.void(actor, claim_id, reason), self._built, self._failed)
        else:
            assert target is not None
            version = self._claim.version
            self._runner.run(
                lambda: service.set_status(actor, claim_id, target, reason, expected_version=version),
                lambda _none: self._done(claim_id),
                self._failed,
            )

    def _built(self, new_claim_id: int) -> None:
        self.new_claim_id = new_claim_id
        self._done(self._claim.id)

    def _done(self, claim_id: int) -> None:
        self.moved.emit(claim_id)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.confirm.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self.error.setText(describe(exc))
            self.reason.setFocus(Qt.FocusReason.OtherFocusReason)
            grow_to_fit(self)
        elif isinstance(exc, ChangedElsewhere):
            self.error.setText(str(exc))
            self.confirm.setEnabled(False)  # this screen's claim is out of date: only a reload helps
            self.conflict = offer_reload(self, exc, self._reload)
        else:
            show_error(self, exc)

    def _reload(self) -> None:
        """Close, and have the claim shown again as it is now (the panel reloads on ``moved``)."""
        self.moved.emit(self._claim.id)
        self.reject()


class ClaimDetailPanel(QWidget):
    """One claim: header, diagnoses, lines with the picked line's rule trace, findings, history."""

    fixRequested = Signal(str, int, int)  # fix target, patient id, visit id (0 = none)
    claimChanged = Signal(int)  # claim id: its status was changed here
    loaded = Signal(int)  # claim id, once its detail is on screen

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        today: Today | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("claimDetail")
        self._actor = actor
        self._today: Today = today or _clinic_today
        self._service = ClaimService(services.db)
        self._runner = TaskRunner(self)
        self._claim_id: int | None = None
        self._generation = 0
        self.detail: ClaimDetail | None = None
        self.dialog: ReasonDialog | None = None

        self.heading = QLabel("Pick a claim from the list to see its lines, findings and history.", self)
        self.heading.setObjectName("claimHeading")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.heading.setFont(font)
        self.rejection = QLabel("", self)
        self.rejection.setObjectName("claimRejection")
        self.rejection.setWordWrap(True)
        set_tone(self.rejection, ERROR, "font-weight: bold; border: 1px solid {colour}; padding: 4px;")
        self.rejection.setVisible(False)

        self.facts = QWidget(self)
        facts = QFormLayout(self.facts)
        facts.setContentsMargins(0, 0, 0, 0)
        self.status_value = self._fact("claimStatus")
        self.payer_value = self._fact("claimPayer")
        self.patient_value = self._fact("claimPatient")
        self.service_date_value = self._fact("claimServiceDate")
        self.total_value = self._fact("claimTotal")
        self.frequency_value = self._fact("claimFrequency")
        code_help.set_code_help(self.frequency_value, code_help.CLAIM_FREQUENCY)
        self.original_value = self._fact("claimOriginal")
        self.payer_number_value = self._fact("claimPayerNumber")
        code_help.set_code_help(self.payer_number_value, code_help.PAYER_CLAIM_NUMBER)
        self.diagnoses_value = self._fact("claimDiagnoses")
        code_help.set_code_help(self.diagnoses_value, code_help.ICD10)
        facts.addRow("Status:", self.status_value)
        facts.addRow("Payer:", self.payer_value)
        facts.addRow("Patient:", self.patient_value)
        facts.addRow("Date of service:", self.service_date_value)
        facts.addRow("Total charge:", self.total_value)
        facts.addRow("Frequency:", self.frequency_value)
        facts.addRow("Original claim:", self.original_value)
        facts.addRow("Payer's claim number:", self.payer_number_value)
        facts.addRow("Diagnoses:", self.diagnoses_value)

        self.lines_model: RowTableModel[LineDetail] = RowTableModel(LINE_COLUMNS, self)
        self.lines = configure_table(QTableView(self), "claimLines", "Claim lines")
        self.lines.setModel(self.lines_model)
        self.lines.setMinimumHeight(120)
        self.lines.selectionModel().currentRowChanged.connect(self._line_picked)
        lines_label = QLabel("&Lines:", self)
        lines_label.setBuddy(self.lines)
        self.trace = QPlainTextEdit(self)
        self.trace.setObjectName("claimRuleTrace")
        self.trace.setAccessibleName("Rule trace of the picked line")
        self.trace.setReadOnly(True)
        self.trace.setTabChangesFocus(True)
        self.trace.setMaximumHeight(90)
        self.trace_label = QLabel("Rule t&race:", self)
        self.trace_label.setBuddy(self.trace)

        self.findings_box = QGroupBox("F&indings", self)
        self.findings_box.setObjectName("claimFindings")
        self.findings_layout = QGridLayout(self.findings_box)
        self.findings_layout.setColumnStretch(1, 1)
        self.finding_rows: list[tuple[Finding, QLabel, QPushButton | None]] = []

        self.history_model: RowTableModel[HistoryEntry] = RowTableModel(HISTORY_COLUMNS, self)
        self.history = configure_table(QTableView(self), "claimHistory", "Claim history")
        self.history.setModel(self.history_model)
        self.history.setMinimumHeight(110)
        history_label = QLabel("Histor&y:", self)
        history_label.setBuddy(self.history)

        self.close_button = QPushButton("&Close claim…", self)
        self.close_button.setObjectName("closeClaimButton")
        self.close_button.clicked.connect(lambda: self.move_claim(ClaimStatus.CLOSED))
        self.appeal_button = QPushButton("&Mark appealed…", self)
        self.appeal_button.setObjectName("appealClaimButton")
        self.appeal_button.clicked.connect(lambda: self.move_claim(ClaimStatus.APPEALED))
        self.rebuild_button = QPushButton("Rebuil&d from visit", self)
        self.rebuild_button.setObjectName("rebuildClaimButton")
        self.rebuild_button.setToolTip("Retake lines, charges and NDCs after a coding, charge or catalog fix")
        self.rebuild_button.clicked.connect(self.rebuild_claim)
        self.replace_button = QPushButton("Replac&ement claim…", self)
        self.replace_button.setObjectName("replaceClaimButton")
        self.replace_button.clicked.connect(lambda: self.correct_claim("replace"))
        self.void_button = QPushButton("&Void claim…", self)
        self.void_button.setObjectName("voidClaimButton")
        self.void_button.clicked.connect(lambda: self.correct_claim("void"))
        self.secondary_button = QPushButton("Bill ne&xt payer", self)
        self.secondary_button.setObjectName("secondaryClaimButton")
        self.secondary_button.setToolTip("The secondary claim, carrying this payer's posted remittance")
        self.secondary_button.clicked.connect(self.bill_next_payer)
        self.action_message = QLabel("", self)
        self.action_message.setObjectName("claimActionMessage")
        self.action_message.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addStretch(1)
        for button in (self.rebuild_button, self.replace_button, self.void_button, self.secondary_button,
                       self.appeal_button, self.close_button):
            actions.addWidget(button)

        content = QWidget(self)
        column = QVBoxLayout(content)
        column.addWidget(self.heading)
        column.addWidget(self.rejection)
        column.addWidget(self.facts)
        column.addWidget(lines_label)
        column.addWidget(self.lines, 2)
        column.addWidget(self.trace_label)
        column.addWidget(self.trace)
        column.addWidget(self.findings_box)
        column.addWidget(history_label)
        column.addWidget(self.history, 1)
        column.addLayout(actions)
        column.addWidget(self.action_message)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(content)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scroll)
        QWidget.setTabOrder(self.history, self.rebuild_button)
        QWidget.setTabOrder(self.rebuild_button, self.replace_button)
        QWidget.setTabOrder(self.replace_button, self.void_button)
        QWidget.setTabOrder(self.void_button, self.secondary_button)
        QWidget.setTabOrder(self.secondary_button, self.appeal_button)
        QWidget.setTabOrder(self.appeal_button, self.close_button)
        self.setFocusProxy(self.lines)
        self._set_claim_widgets(False)

    def _fact(self, name: str) -> QLabel:
        label = QLabel("", self)
        label.setObjectName(name)
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        return label

    def _set_claim_widgets(self, shown: bool) -> None:
        for widget in (self.facts, self.lines, self.trace, self.trace_label, self.findings_box, self.history):
            widget.setEnabled(shown)
        self._enable_actions()

    def _enable_actions(self) -> None:
        detail = self.detail
        allowed = detail is not None and self._actor.can(Permission.CLAIM_EDIT)
        status = detail.row.status if detail is not None else None
        self.close_button.setEnabled(allowed and status is not None and can_move(status, ClaimStatus.CLOSED))
        self.appeal_button.setEnabled(
            allowed and status is not None and can_move(status, ClaimStatus.APPEALED)
        )
        row = detail.row if detail is not None else None
        rebuildable = (
            row is not None
            and status in EDITABLE
            and detail is not None
            and detail.visit_id is not None
            and row.frequency_code != "8"
            and (row.frequency_code == "7" or row.responsibility == "P")
        )
        self.rebuild_button.setEnabled(allowed and rebuildable)
        sent = status is not None and status in SENT
        self.replace_button.setEnabled(allowed and sent)
        self.void_button.setEnabled(allowed and sent)
        adjudicated = status in (ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED)
        self.secondary_button.setEnabled(
            allowed and adjudicated and row is not None and row.frequency_code == "1"
        )

    # -- loading ----------------------------------------------------------------------------

    @property
    def claim_id(self) -> int | None:
        return self._claim_id

    def show_claim(self, claim_id: int) -> None:
        self._claim_id = claim_id
        self.reload()

    def clear(self) -> None:
        self._claim_id = None
        self._generation += 1
        self.detail = None
        self.heading.setText("Pick a claim from the list to see its lines, findings and history.")
        self.rejection.setVisible(False)
        self.lines_model.set_rows([])
        self.history_model.set_rows([])
        self.trace.clear()
        self._show_findings(())
        self._set_claim_widgets(False)

    def reload(self) -> None:
        claim_id = self._claim_id
        if claim_id is None:
            return
        self._generation += 1
        generation = self._generation
        service, actor, today = self._service, self._actor, self._today()
        self._runner.run(
            lambda: service.detail(actor, claim_id, today=today),
            lambda detail: self._show(generation, detail),
            lambda exc: self._failed(generation, exc),
        )

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        report_failure(self, self.heading, exc, retry=self.reload)

    def _show(self, generation: int, detail: ClaimDetail) -> None:
        if generation != self._generation:
            return  # another claim was picked meanwhile
        same_claim = self.detail is not None and self.detail.row.id == detail.row.id
        self.detail = detail
        row = detail.row
        self.heading.setText(
            f"Claim {row.claim_number}  ·  {status_label(row.status)}  ·  {money_text(row.total_charge)}"
        )
        rejected = row.status is ClaimStatus.REJECTED
        self.rejection.setText(f"Rejected: {row.first_problem or 'no reason was given.'}" if rejected else "")
        self.rejection.setVisible(rejected)
        self.status_value.setText(status_label(row.status))
        self.payer_value.setText(f"{row.payer} ({row.responsibility})" if row.responsibility else row.payer)
        self.patient_value.setText(row.patient)
        self.service_date_value.setText(us_date(row.service_date))
        self.total_value.setText(money_text(row.total_charge))
        self.frequency_value.setText(FREQUENCY_LABELS.get(row.frequency_code, row.frequency_code))
        self.original_value.setText(detail.original_claim_number or "—")
        self.payer_number_value.setText(detail.payer_claim_control_number or "—")
        self.diagnoses_value.setText(
            "  ".join(f"{i}. {code}" for i, code in enumerate(detail.diagnoses, start=1)) or "none"
        )
        picked = self.lines.currentIndex().row() if same_claim else 0
        self.lines_model.set_rows(detail.lines)
        self.trace.clear()
        if detail.lines:
            self.lines.selectRow(picked if 0 <= picked < len(detail.lines) else 0)
        self._show_findings(detail.findings)
        self.history_model.set_rows(detail.history)
        if detail.history:
            self.history.scrollToBottom()
        self._set_claim_widgets(True)
        self.loaded.emit(row.id)

    def _line_picked(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if not current.isValid():
            self.trace.clear()
            return
        line = self.lines_model.row(current.row())
        self.trace_label.setText(f"Rule t&race of line {line.line_number} ({line.code}):")
        self.trace.setPlainText(line.explanation or "No rule trace was kept for this line.")

    def _show_findings(self, findings: Sequence[Finding]) -> None:
        while self.findings_layout.count():
            item = self.findings_layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.finding_rows = []
        ordered = sorted(findings, key=lambda f: not f.blocks)
        self.findings_box.setTitle(f"F&indings ({len(ordered)})" if ordered else "F&indings")
        if not ordered:
            clean = QLabel(
                "No findings: the claim passed every scrub rule." if self.detail is not None else "",
                self.findings_box,
            )
            clean.setObjectName("claimNoFindings")
            self.findings_layout.addWidget(clean, 0, 0, 1, 3)
            return
        for position, finding in enumerate(ordered):
            badge = QLabel("Error" if finding.blocks else "Warning", self.findings_box)
            set_tone(badge, ERROR if finding.blocks else WARNING, "font-weight: bold;")
            message = QLabel(finding.message, self.findings_box)
            message.setObjectName(f"finding_{finding.code}")
            message.setWordWrap(True)
            message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            target = fix_target(finding)
            button: QPushButton | None = None
            if target in FIX_LABELS:
                button = QPushButton(FIX_LABELS[target], self.findings_box)
                button.setObjectName(f"fix_{finding.code}")
                button.setToolTip(f"Go to where this is fixed ({target.replace('_', ' ')})")
                button.clicked.connect(lambda _checked=False, t=target: self._request_fix(t))
            self.findings_layout.addWidget(badge, position, 0, Qt.AlignmentFlag.AlignTop)
            self.findings_layout.addWidget(message, position, 1)
            if button is not None:
                self.findings_layout.addWidget(button, position, 2, Qt.AlignmentFlag.AlignTop)
            self.finding_rows.append((finding, message, button))
        previous: QWidget = self.trace  # Tab: rule trace, each fix button, then the history
        for _finding, _message, fix in self.finding_rows:
            if fix is not None:
                QWidget.setTabOrder(previous, fix)
                previous = fix
        QWidget.setTabOrder(previous, self.history)

    def _request_fix(self, target: str) -> None:
        detail = self.detail
        if detail is not None:
            self.fixRequested.emit(target, detail.patient_id, detail.visit_id or 0)

    # -- moving the claim by hand -------------------------------------------------------------

    def move_claim(self, target: ClaimStatus) -> None:
        detail = self.detail
        if detail is None or not can_move(detail.row.status, target):
            return
        dialog = ReasonDialog(self._service, self._actor, detail.row, target, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.moved.connect(self._moved)
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()
        self.dialog = dialog

    def correct_claim(self, kind: str) -> None:
        """A replacement (7) or a void (8) of the claim shown, with the reason asked for."""
        detail = self.detail
        if detail is None:
            return
        dialog = ReasonDialog(self._service, self._actor, detail.row, None, self, correction=kind)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.moved.connect(lambda _claim_id: self._created(dialog.new_claim_id, kind))
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()
        self.dialog = dialog

    def rebuild_claim(self) -> None:
        detail = self.detail
        if detail is None:
            return
        service, actor, claim_id = self._service, self._actor, detail.row.id
        self.rebuild_button.setEnabled(False)
        self.action_message.setText("Rebuilding the claim from its visit…")
        self._runner.run(
            lambda: service.rebuild(actor, [claim_id]),
            lambda _summary: self._acted(claim_id, "Rebuilt from the visit and scrubbed again."),
            self._action_failed,
        )

    def bill_next_payer(self) -> None:
        detail = self.detail
        if detail is None:
            return
        service, actor = self._service, self._actor
        claim_id = detail.row.id
        self.secondary_button.setEnabled(False)
        self._runner.run(
            lambda: service.build_secondary(actor, claim_id),
            lambda new_id: self._created(new_id, "secondary"),
            self._action_failed,
        )

    def _created(self, new_id: int | None, kind: str) -> None:
        words = {"replace": "Replacement", "void": "Void", "secondary": "Secondary claim"}[kind]
        self.action_message.setText(f"{words} built; it is in the queue, scrubbed and ready to check.")
        self.claimChanged.emit(new_id or 0)
        if new_id:
            self.show_claim(new_id)

    def _acted(self, claim_id: int, message: str) -> None:
        self.action_message.setText(message)
        self.claimChanged.emit(claim_id)
        if claim_id == self._claim_id:
            self.reload()

    def _action_failed(self, exc: Exception) -> None:
        self._enable_actions()
        report_failure(self, self.action_message, exc)

    def _moved(self, claim_id: int) -> None:
        self.claimChanged.emit(claim_id)
        if claim_id == self._claim_id:
            self.reload()


class ClaimsView(QWidget):
    """The Claims page: filters, the claim queue, Build claims, Scrub again, and the picked claim."""

    fixRequested = Signal(str, int, int)  # fix target, patient id, visit id (0 = none)
    changed = Signal()  # claims were built, scrubbed or moved: the batch page's count is stale
    loaded = Signal()  # the queue is on screen
    finished = Signal()  # a build or scrub finished and its summary is shown

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        today: Today | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("claimsView")
        self._services, self._actor = services, actor
        self._today: Today = today or _clinic_today
        self._service = ClaimService(services.db)
        self._runner = TaskRunner(self)
        self._generation = 0
        self._started = False
        self._payers_loaded = False
        self._wanted: str | None = None  # a claim number to pick when the queue next loads
        can_edit = actor.can(Permission.CLAIM_EDIT)

        self.status_filter = QComboBox(self)
        self.status_filter.setObjectName("claimStatusFilter")
        for label, key in STATUS_FILTERS:
            self.status_filter.addItem(label, key)
        self.payer_filter = QComboBox(self)
        self.payer_filter.setObjectName("claimPayerFilter")
        self.payer_filter.addItem("All payers", 0)
        self.age_filter = QSpinBox(self)
        self.age_filter.setObjectName("claimAgeFilter")
        self.age_filter.setRange(0, 3650)
        self.age_filter.setSpecialValueText("any age")
        self.age_filter.setSuffix(" days")
        self.finding_filter = QComboBox(self)
        self.finding_filter.setObjectName("claimFindingFilter")
        self.finding_filter.setEditable(True)
        self.finding_filter.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.finding_filter.addItem(ANY_FINDING)
        self.finding_filter.setMinimumContentsLength(14)
        self.search = QLineEdit(self)
        self.search.setObjectName("claimSearch")
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText("claim number, patient last name or MRN")
        filters = QHBoxLayout()
        for text, field in (
            ("S&tatus:", self.status_filter),
            ("&Payer:", self.payer_filter),
            ("&Older than:", self.age_filter),
            ("Fi&nding:", self.finding_filter),
            ("&Search:", self.search),
        ):
            label = QLabel(text, self)
            label.setBuddy(field)
            filters.addWidget(label)
            filters.addWidget(field, 2 if field is self.search else 0)

        self.build_button = QPushButton("&Build claims  (Ctrl+B)", self)
        self.build_button.setObjectName("buildClaimsButton")
        self.build_button.setToolTip("Make a claim of every signed visit that has none yet, and scrub it")
        self.build_button.setEnabled(can_edit)
        self.build_button.clicked.connect(self.build_claims)
        self.scrub_button = QPushButton("Scrub &again  (Ctrl+R)", self)
        self.scrub_button.setObjectName("scrubClaimsButton")
        self.scrub_button.setEnabled(can_edit)
        self.scrub_button.clicked.connect(self.scrub_selected)
        self.message = QLabel("", self)
        self.message.setObjectName("claimsMessage")
        self.message.setWordWrap(True)
        actions = QHBoxLayout()
        actions.addWidget(self.build_button)
        actions.addWidget(self.scrub_button)
        actions.addWidget(self.message, 1)

        self.report = QPlainTextEdit(self)
        self.report.setObjectName("claimsReport")
        self.report.setAccessibleName("What the last build or scrub did")
        self.report.setReadOnly(True)
        self.report.setTabChangesFocus(True)
        self.report.setMaximumHeight(110)
        self.report.setVisible(False)

        self.model = ClaimTableModel(self)
        self.table = configure_table(QTableView(self), "claimQueue", "Claims")
        self.table.setModel(self.model)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.selectionModel().currentRowChanged.connect(self._row_picked)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._label_scrub())
        self.table.activated.connect(self._open_row)
        self.count = QLabel("Loading…", self)
        self.count.setObjectName("claimsCount")
        self.count.setWordWrap(True)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.table, 1)
        left_layout.addWidget(self.count)

        self.detail = ClaimDetailPanel(services, actor, self, today=self._today)
        self.detail.fixRequested.connect(self.fixRequested)
        self.detail.claimChanged.connect(lambda _claim_id: self._moved())
        self.detail.loaded.connect(
            lambda _claim_id: self._add_finding_codes(
                [f.code for f in self.detail.detail.findings] if self.detail.detail else []
            )
        )
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addLayout(actions)
        layout.addWidget(self.report)
        layout.addWidget(splitter, 1)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.refresh)
        self.status_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.payer_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.finding_filter.activated.connect(lambda _i: self.refresh())
        self.finding_filter.lineEdit().returnPressed.connect(self.refresh)
        self.finding_filter.editTextChanged.connect(lambda _text: self._search_timer.start())
        self.age_filter.valueChanged.connect(lambda _value: self._search_timer.start())
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        self.search.returnPressed.connect(self.refresh)
        self.shortcuts: dict[str, QShortcut] = {}
        for keys, slot in (
            ("Ctrl+B", self.build_claims),
            ("Ctrl+R", self.scrub_selected),
            ("Ctrl+Shift+R", self.scrub_all),
        ):
            self.shortcuts[keys] = QShortcut(QKeySequence(keys), self, slot)

        chain: list[QWidget] = [
            self.status_filter,
            self.payer_filter,
            self.age_filter,
            self.finding_filter,
            self.search,
            self.table,
            self.build_button,
            self.scrub_button,
            self.detail.lines,
            self.detail.trace,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.table)
        self._label_scrub()

    # -- filters and loading -------------------------------------------------------------------

    def filters(self) -> dict[str, Any]:
        """What the filter bar asks for, as :meth:`ClaimService.claims` takes it."""
        key = str(self.status_filter.currentData())
        statuses: list[ClaimStatus] | None
        if key == ALL:
            statuses = None
        elif key == ATTENTION:
            statuses = list(NEEDS_ATTENTION)
        else:
            statuses = [ClaimStatus(key)]
        payer = int(self.payer_filter.currentData() or 0)
        code = self.finding_filter.currentText().strip()
        return {
            "statuses": statuses,
            "payer_id": payer or None,
            "min_age_days": self.age_filter.value() or None,
            "finding_code": None if not code or code == ANY_FINDING else code.upper(),
            "search": self.search.text().strip() or None,
        }

    def find_claim(self, claim_number: str) -> None:
        """Show one claim by its number (a report's drill-down): the filters cleared, the claim picked."""
        filters: tuple[QWidget, ...] = (
            self.status_filter, self.payer_filter, self.finding_filter, self.age_filter,
        )
        for widget in filters:
            widget.blockSignals(True)
        self.status_filter.setCurrentIndex(max(self.status_filter.findData(ALL), 0))
        self.payer_filter.setCurrentIndex(0)
        self.finding_filter.setCurrentIndex(0)
        self.age_filter.setValue(0)
        for widget in filters:
            widget.blockSignals(False)
        self.search.blockSignals(True)
        self.search.setText(claim_number)
        self.search.blockSignals(False)
        self._wanted = claim_number
        self.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._started:
            self.refresh()

    def refresh(self) -> None:
        """Load the queue for the current filters (the picked claim's detail is reloaded too)."""
        self._started = True
        self._search_timer.stop()
        self._generation += 1
        generation = self._generation
        service, actor, filters, today = self._service, self._actor, self.filters(), self._today()
        clinic = self._services.clinic
        want_payers = not self._payers_loaded

        def load() -> tuple[list[tuple[int, str]] | None, list[ClaimRow]]:
            payers = [(pid, name) for pid, name, _type in clinic.payers(actor)] if want_payers else None
            return payers, service.claims(actor, **filters, today=today)

        self.count.setText("Loading…")
        self._runner.run(
            load,
            lambda value: self._loaded(generation, *value),
            lambda exc: self._failed(generation, exc),
        )

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        report_failure(self, self.count, exc, retry=self.refresh)

    def _loaded(self, generation: int, payers: list[tuple[int, str]] | None, rows: list[ClaimRow]) -> None:
        if generation != self._generation:
            return  # the filters changed meanwhile; a newer answer is on its way
        if payers is not None:
            self._fill_payers(payers)
        picked = self.detail.claim_id
        wanted, self._wanted = self._wanted, None
        if wanted is not None:
            picked = next((row.id for row in rows if row.claim_number == wanted), picked)
        self.model.set_rows(rows)
        self._show_count(rows)
        position = self.model.position(picked) if picked is not None else None
        if position is not None:
            self.table.selectRow(position)  # reloads the detail through currentRowChanged
        elif picked is not None:
            self.detail.reload()
        self._label_scrub()
        self.loaded.emit()

    def _fill_payers(self, payers: list[tuple[int, str]]) -> None:
        self._payers_loaded = True
        self.payer_filter.blockSignals(True)
        for payer_id, name in payers:
            self.payer_filter.addItem(name, payer_id)
        self.payer_filter.blockSignals(False)

    def _show_count(self, rows: list[ClaimRow]) -> None:
        if not rows:
            self.count.setText(
                "No claims match these filters."
                if any(v for v in self.filters().values())
                else "No claims yet. Press Ctrl+B to build claims from the signed visits."
            )
            return
        errors = sum(1 for r in rows if r.errors)
        rejected = sum(1 for r in rows if r.status is ClaimStatus.REJECTED)
        parts = [f"{_counted(len(rows), 'claim')}, newest service first"]
        if errors:
            parts.append(f"{errors} with errors to fix")
        if rejected:
            parts.append(f"{rejected} rejected")
        self.count.setText("; ".join(parts) + ". Enter opens the picked claim.")

    def _add_finding_codes(self, codes: Sequence[str]) -> None:
        known = {self.finding_filter.itemText(i) for i in range(self.finding_filter.count())}
        new = sorted({c for c in codes if c and c not in known})
        if new:
            self.finding_filter.blockSignals(True)
            text = self.finding_filter.currentText()
            self.finding_filter.addItems(new)
            self.finding_filter.setEditText(text)
            self.finding_filter.blockSignals(False)

    # -- picking a claim ---------------------------------------------------------------------------

    def _row_picked(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.detail.show_claim(self.model.row(current.row()).id)

    def _open_row(self, index: QModelIndex) -> None:
        if not index.isValid():
            return
        claim_id = self.model.row(index.row()).id
        if claim_id != self.detail.claim_id:
            self.detail.show_claim(claim_id)
        self.detail.lines.setFocus(Qt.FocusReason.OtherFocusReason)

    def selected_ids(self) -> list[int]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.model.row(r).id for r in rows]

    def _label_scrub(self) -> None:
        count = len(self.selected_ids())
        self.scrub_button.setText(
            f"Scrub &again: {_counted(count, 'selected claim')}  (Ctrl+R)"
            if count
            else "Scrub &again: all open claims  (Ctrl+R)"
        )

    # -- build and scrub ---------------------------------------------------------------------------

    def _busy(self, text: str) -> None:
        self.build_button.setEnabled(False)
        self.scrub_button.setEnabled(False)
        set_tone(self.message, None)
        self.message.setText(text)

    def _idle(self) -> None:
        can_edit = self._actor.can(Permission.CLAIM_EDIT)
        self.build_button.setEnabled(can_edit)
        self.scrub_button.setEnabled(can_edit)

    def _run(self, text: str, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        if not self._actor.can(Permission.CLAIM_EDIT) or not self.build_button.isEnabled():
            return  # nothing to do for this role, or a build or scrub is still running
        self._busy(text)
        self._runner.run(work, lambda value: self._succeeded(done, value), self._action_failed)

    def _succeeded(self, done: Callable[[Any], None], value: Any) -> None:
        self._idle()
        done(value)
        self.changed.emit()
        self.refresh()
        self.finished.emit()

    def _action_failed(self, exc: Exception) -> None:
        self._idle()
        set_tone(self.message, ERROR)
        report_failure(self, self.message, exc)
        self.finished.emit()

    def build_claims(self) -> None:
        service, actor, today = self._service, self._actor, self._today()
        self._run(
            "Building claims from the signed visits…", lambda: service.build(actor, today=today), self._built
        )

    def _built(self, summary: BuildSummary) -> None:
        text = summary.text()
        first, _, rest = text.partition("\n")
        self.message.setText(
            first if summary.claim_ids or summary.skipped else "No signed visit is waiting for a claim."
        )
        self._show_report(text if rest else "")

    def scrub_selected(self) -> None:
        """Scrub the selected claims, or every open claim when none is selected."""
        ids = self.selected_ids()
        if not ids:
            self.scrub_all()
            return
        service, actor, today = self._service, self._actor, self._today()
        self._run(
            f"Scrubbing {_counted(len(ids), 'claim')}…",
            lambda: service.scrub(actor, ids, today=today),
            self._scrubbed,
        )

    def scrub_all(self) -> None:
        service, actor, today = self._service, self._actor, self._today()
        self._run("Scrubbing every open claim…", lambda: service.scrub(actor, today=today), self._scrubbed)

    def _scrubbed(self, summary: ScrubSummary) -> None:
        self.message.setText(
            f"Scrubbed {_counted(summary.scrubbed, 'claim')}: {summary.ready} ready to export, "
            f"{summary.with_errors} need fixing first."
        )
        self._add_finding_codes([f.code for findings in summary.findings.values() for f in findings])
        lines = [
            f"{number}: {f.message}"
            for number, findings in summary.findings.items()
            for f in findings
            if f.blocks
        ]
        if len(lines) > REPORT_LINES:
            more = len(lines) - REPORT_LINES
            lines = [*lines[:REPORT_LINES], f"… and {more} more: filter on Needs attention."]
        self._show_report("\n".join(lines))

    def _show_report(self, text: str) -> None:
        self.report.setPlainText(text)
        self.report.setVisible(bool(text))

    def _moved(self) -> None:
        self.changed.emit()
        self.refresh()
