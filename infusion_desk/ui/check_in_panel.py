"""Check-in at the front desk: today's arrivals, the problems to fix, the estimate and the copay.

    desk = CheckInDesk(services, actor, today_local)
    desk.fixRequested.connect(workspace.open_fix)   # (Fix, patient id, target id)

Selecting an arrival runs every check-in check off the GUI thread. Each problem has the
button that opens the screen fixing it; once fixed, "Re-check" (F5) runs the checks again.
Checking in with errors left asks the receptionist to accept them first, and says which.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import PaymentMethod, VisitStatus
from infusion_desk.services.access import Permission
from infusion_desk.services.check_in import (
    FIX_LABELS,
    CheckInProblem,
    CheckInReview,
    CheckInService,
    CopayInput,
    CopayRecord,
    Fix,
)
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import local_time, us_date
from infusion_desk.ui.tables import configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, WARNING, set_tone
from infusion_desk.ui.visit_table import NURSING_COLUMNS, VisitTableModel

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

METHODS = (
    (PaymentMethod.CARD, "Card"),
    (PaymentMethod.CASH, "Cash"),
    (PaymentMethod.CHECK, "Check"),
    (PaymentMethod.OTHER, "Other"),
)


def _dollars(value: object) -> str:
    return "—" if value is None else f"${value:,.2f}"


class CheckInPanel(QWidget):
    """One visit's check-in: problems with their fixes, the estimate, the copay and the receipt."""

    fixRequested = Signal(str, int, int)  # Fix value, patient id, target id (0 = none)
    checkedIn = Signal(int)  # visit id

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        save_path: Callable[[QWidget, str], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("checkInPanel")
        self._services, self._actor = services, actor
        self._desk = CheckInService(services.db)
        self._runner = TaskRunner(self)
        self._save_path = save_path or _ask_save_path
        self.review: CheckInReview | None = None
        self.last_copay: CopayRecord | None = None

        self.heading = QLabel("Choose an arrival from the list.", self)
        self.heading.setObjectName("checkInHeading")
        self.heading.setWordWrap(True)
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.heading.setFont(font)
        self.summary = QLabel("", self)
        self.summary.setObjectName("checkInSummary")
        self.summary.setWordWrap(True)

        self.problem_box = QGroupBox("&Problems to fix", self)
        self.problem_layout = QGridLayout(self.problem_box)
        self.problem_layout.setColumnStretch(1, 1)
        self.problem_rows: list[tuple[CheckInProblem, QLabel, QPushButton | None]] = []

        self.estimate_box = QGroupBox("Estimated patient responsibility today", self)
        estimate_form = QFormLayout(self.estimate_box)
        self.allowed = QLabel(self.estimate_box)
        self.allowed.setObjectName("estimateAllowed")
        self.total = QLabel(self.estimate_box)
        self.total.setObjectName("estimateTotal")
        self.steps = QLabel(self.estimate_box)
        self.steps.setObjectName("estimateSteps")
        self.steps.setWordWrap(True)
        self.uncertain = QLabel(self.estimate_box)
        self.uncertain.setObjectName("estimateUncertain")
        self.uncertain.setWordWrap(True)
        estimate_form.addRow("Expected allowed:", self.allowed)
        estimate_form.addRow("Patient pays about:", self.total)
        estimate_form.addRow(self.steps)
        estimate_form.addRow(self.uncertain)

        self.copay_box = QGroupBox("Collect copay", self)
        copay_form = QFormLayout(self.copay_box)
        self.amount = QLineEdit(self.copay_box)
        self.amount.setObjectName("copayAmount")
        self.method = QComboBox(self.copay_box)
        self.method.setObjectName("copayMethod")
        for method, label in METHODS:
            self.method.addItem(label, method.value)
        self.reference = QLineEdit(self.copay_box)
        self.reference.setObjectName("copayReference")
        self.reference.setPlaceholderText("check number, or card approval code / last 4")
        self.copay_findings = QLabel(self.copay_box)
        self.copay_findings.setObjectName("copayFindings")
        self.copay_findings.setWordWrap(True)
        set_tone(self.copay_findings, ERROR)
        self.collect_button = QPushButton("&Record payment", self.copay_box)
        self.collect_button.setObjectName("collectCopayButton")
        self.collect_button.clicked.connect(self.collect_copay)
        self.receipt_button = QPushButton("Print r&eceipt…", self.copay_box)
        self.receipt_button.setObjectName("receiptButton")
        self.receipt_button.setEnabled(False)
        self.receipt_button.clicked.connect(self.save_receipt)
        self.collected = QLabel(self.copay_box)
        self.collected.setObjectName("copaysCollected")
        self.collected.setWordWrap(True)
        amount_label = QLabel("A&mount:", self.copay_box)
        amount_label.setBuddy(self.amount)
        method_label = QLabel("Pa&id by:", self.copay_box)
        method_label.setBuddy(self.method)
        reference_label = QLabel("Re&ference:", self.copay_box)
        reference_label.setBuddy(self.reference)
        copay_form.addRow(amount_label, self.amount)
        copay_form.addRow(method_label, self.method)
        copay_form.addRow(reference_label, self.reference)
        copay_form.addRow(self.copay_findings)
        copay_buttons = QHBoxLayout()
        copay_buttons.addWidget(self.collect_button)
        copay_buttons.addWidget(self.receipt_button)
        copay_buttons.addStretch(1)
        copay_form.addRow(copay_buttons)
        copay_form.addRow(self.collected)

        self.recheck_button = QPushButton("Re-chec&k  (F5)", self)
        self.recheck_button.setObjectName("recheckButton")
        self.recheck_button.clicked.connect(self.reload)
        self.check_in_button = QPushButton("&Check in  (Ctrl+Enter)", self)
        self.check_in_button.setObjectName("checkInButton")
        self.check_in_button.clicked.connect(self.check_in)
        QShortcut(QKeySequence("Ctrl+Return"), self, self.check_in)
        QShortcut(QKeySequence("Ctrl+Enter"), self, self.check_in)
        actions = QHBoxLayout()
        actions.addWidget(self.recheck_button)
        actions.addStretch(1)
        actions.addWidget(self.check_in_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.summary)
        layout.addWidget(self.problem_box)
        layout.addWidget(self.estimate_box)
        layout.addWidget(self.copay_box)
        layout.addLayout(actions)
        layout.addStretch(1)
        self._set_enabled(False)

    # Loading -------------------------------------------------------------------------------
    def show_visit(self, visit_id: int) -> None:
        self._visit_id = visit_id
        self.reload()

    def reload(self) -> None:
        visit_id = getattr(self, "_visit_id", None)
        if visit_id is None:
            return
        self.heading.setText("Checking…")
        self._runner.run(lambda: self._desk.review(self._actor, visit_id), self._show, self._failed)

    def _failed(self, exc: object) -> None:
        assert isinstance(exc, Exception)
        self.heading.setText(describe(exc))
        show_error(self, exc, retry=self.reload)

    def _show(self, review: CheckInReview) -> None:
        self.review = review
        self.heading.setText(
            f"{review.patient_name}  ·  MRN {review.mrn}  ·  {local_time(review.scheduled_start)} "
            f"{us_date(review.date_of_service)}"
        )
        status = review.status.value.replace("_", " ")
        self.summary.setText(
            f"{review.drug or 'No order'}  ·  {review.payer or 'Self-pay'}  ·  {status}  ·  "
            + ("Ready to check in." if review.ready else "Fix the problems below, or accept them.")
        )
        self._show_problems(review.problems)
        estimate = review.estimate
        self.allowed.setText(_dollars(estimate.allowed_total))
        self.total.setText(_dollars(estimate.total) if estimate.total is not None else "unknown")
        self.steps.setText("\n".join(estimate.steps))
        self.uncertain.setText("\n".join(estimate.uncertain))
        self.uncertain.setVisible(bool(estimate.uncertain))
        if not self.amount.text() and estimate.copay:
            self.amount.setText(f"{estimate.copay:.2f}")
        self.collected.setText(
            "\n".join(
                f"Collected {_dollars(c.amount)} by {c.method.value} on {us_date(c.received_on)} "
                f"(receipt {c.receipt_number})"
                for c in review.copays
            )
        )
        self.receipt_button.setEnabled(bool(review.copays))
        self._set_enabled(True)
        self.check_in_button.setEnabled(
            review.status is VisitStatus.SCHEDULED and self._actor.can(Permission.CHECK_IN)
        )

    def _show_problems(self, problems: tuple[CheckInProblem, ...]) -> None:
        while self.problem_layout.count():
            item = self.problem_layout.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.deleteLater()
        self.problem_rows = []
        if not problems:
            ok = QLabel("No problems found: coverage, authorization, order and claim data are in order.")
            ok.setObjectName("checkInAllClear")
            self.problem_layout.addWidget(ok, 0, 0, 1, 3)
            return
        for row, problem in enumerate(problems):
            badge = QLabel("Error" if problem.blocks else "Warning")
            set_tone(badge, *((ERROR, "font-weight: bold;") if problem.blocks else (WARNING, "")))
            message = QLabel(problem.message)
            message.setObjectName(f"problem_{problem.code}")
            message.setWordWrap(True)
            button: QPushButton | None = None
            if problem.fix is not Fix.NONE:
                button = QPushButton(FIX_LABELS[problem.fix])
                button.setObjectName(f"fix_{problem.code}")
                button.clicked.connect(lambda _checked=False, p=problem: self._request_fix(p))
            self.problem_layout.addWidget(badge, row, 0)
            self.problem_layout.addWidget(message, row, 1)
            if button is not None:
                self.problem_layout.addWidget(button, row, 2)
            self.problem_rows.append((problem, message, button))

    def _request_fix(self, problem: CheckInProblem) -> None:
        if self.review is not None:
            self.fixRequested.emit(problem.fix.value, self.review.patient_id, problem.target_id or 0)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.problem_box, self.estimate_box, self.copay_box, self.recheck_button):
            widget.setEnabled(enabled)
        self.check_in_button.setEnabled(enabled)
        self.collect_button.setEnabled(enabled and self._actor.can(Permission.PATIENT_PAYMENT))

    # Actions -------------------------------------------------------------------------------
    def check_in(self) -> None:
        review = self.review
        if review is None or review.status is not VisitStatus.SCHEDULED:
            return
        blocking = [p for p in review.problems if p.blocks]
        if blocking:
            box = QMessageBox(self)
            box.setObjectName("acceptProblems")
            box.setIcon(QMessageBox.Icon.Warning)
            box.setWindowTitle("Check in with problems?")
            box.setText(
                f"{len(blocking)} problem{'s' if len(blocking) != 1 else ''} may get this visit denied:"
            )
            box.setInformativeText("\n".join(f"• {p.message}" for p in blocking))
            accept = box.addButton("Check in &anyway", QMessageBox.ButtonRole.AcceptRole)
            box.addButton("&Fix first", QMessageBox.ButtonRole.RejectRole)
            box.setDefaultButton(QMessageBox.StandardButton.NoButton)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.buttonClicked.connect(lambda button: self._do_check_in(True) if button is accept else None)
            box.open()
            self.accept_box = box
            return
        self._do_check_in(False)

    def _do_check_in(self, acknowledge: bool) -> None:
        review = self.review
        if review is None:
            return
        visit_id = review.visit_id
        self._runner.run(
            lambda: self._desk.check_in(self._actor, visit_id, acknowledge_problems=acknowledge),
            self._checked_in,
            self._failed_action,
        )

    def _checked_in(self, review: CheckInReview) -> None:
        self._show(review)
        self.checkedIn.emit(review.visit_id)

    def _failed_action(self, exc: object) -> None:
        assert isinstance(exc, Exception)
        show_error(self, exc)

    def collect_copay(self) -> None:
        review = self.review
        if review is None:
            return
        data = CopayInput(self.amount.text(), PaymentMethod(self.method.currentData()), self.reference.text())
        visit_id = review.visit_id
        self.copay_findings.clear()
        self._runner.run(
            lambda: self._desk.collect_copay(self._actor, visit_id, data),
            self._collected,
            self._copay_refused,
        )

    def _copay_refused(self, exc: object) -> None:
        if isinstance(exc, ValidationFailed):
            self.copay_findings.setText("\n".join(f.message for f in exc.findings))
            return
        assert isinstance(exc, Exception)
        show_error(self, exc)

    def _collected(self, record: CopayRecord) -> None:
        self.last_copay = record
        self.amount.clear()
        self.reference.clear()
        self.reload()

    def save_receipt(self) -> None:
        review = self.review
        if review is None or not review.copays:
            return
        record = self.last_copay or review.copays[-1]
        path = self._save_path(self, f"receipt-{record.receipt_number}.pdf")
        if not path:
            return
        payment_id = record.payment_id

        def write() -> str:
            Path(path).write_bytes(self._desk.receipt(self._actor, payment_id))
            return path

        self._runner.run(
            write,
            lambda saved: self.collected.setText(self.collected.text() + f"\nReceipt saved to {saved}."),
            self._failed_action,
        )


def _ask_save_path(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(parent, "Save receipt", suggested, "PDF (*.pdf)")
    return path or None


class CheckInDesk(QWidget):
    """Today's arrivals on the left, the selected visit's check-in on the right."""

    fixRequested = Signal(str, int, int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        today: Callable[[], date],
        parent: QWidget | None = None,
        *,
        save_path: Callable[[QWidget, str], str | None] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("checkInDesk")
        self._services, self._actor, self._today = services, actor, today
        self._runner = TaskRunner(self)
        self.model = VisitTableModel(NURSING_COLUMNS, self)
        self.arrivals = QTableView(self)
        configure_table(self.arrivals, "arrivalsTable", "Today's arrivals")
        self.arrivals.setModel(self.model)
        self.arrivals.selectionModel().currentRowChanged.connect(self._selected)
        label = QLabel("Today's a&rrivals:", self)
        label.setBuddy(self.arrivals)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(label)
        left_layout.addWidget(self.arrivals)
        self.panel = CheckInPanel(services, actor, self, save_path=save_path)
        self.panel.fixRequested.connect(self.fixRequested)
        self.panel.checkedIn.connect(lambda _visit: self.refresh())
        splitter = QSplitter(self)
        splitter.addWidget(left)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        QShortcut(QKeySequence("F5"), self, self.refresh)
        self.setFocusProxy(self.arrivals)

    def refresh(self) -> None:
        day = self._today()
        self._runner.run(
            lambda: self._services.visits.day_list(self._actor, day),
            self._show,
            lambda exc: show_error(self, exc),
        )
        self.panel.reload()

    def _show(self, rows: list[object]) -> None:
        # the visit the user picked (its check-in may still be loading), else the one on show
        picked = self.arrivals.currentIndex()
        if picked.isValid():
            current: int | None = self.model.visit(picked.row()).id
        else:
            current = self.panel.review.visit_id if self.panel.review is not None else None
        self.model.set_rows(rows)
        for row in range(self.model.rowCount()):
            if self.model.visit(row).id == current:
                self.arrivals.selectRow(row)
                break

    def _selected(self, current: object, _previous: object) -> None:
        assert isinstance(current, QModelIndex)
        if current.isValid():
            visit = self.model.visit(current.row())
            if self.panel.review is None or self.panel.review.visit_id != visit.id:
                self.panel.show_visit(visit.id)
