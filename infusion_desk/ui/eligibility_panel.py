"""The eligibility log of the opened patient: where each policy stands, every check, and 271 files.

    panel = EligibilityPanel(services, actor)
    panel.show_patient(patient_id)      # loads on the worker thread

The status line says, per policy in force today, when it was last verified and when it
is due again ("Verified 11/20/2026 — due again by 12/20/2026" or "Not verified"). The table
lists every check, newest first; a 271 the payer rejected reads "Rejected" with the reason.
**Record verification…** (Alt+V) opens the form; **Import 271…** (Alt+I) reads the
clearinghouse's answer file on the worker thread and lists what was recorded, what did
not match a patient on file and what the payer rejected. A file that cannot be read is
reported in the panel and changes nothing, so the log keeps working.
:class:`Export270Dialog` writes the 270 batch for the coming days' appointments.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import EligibilityStatus
from infusion_desk.services.eligibility import (
    EligibilityRow,
    EligibilityService,
    Export270Result,
    Import271Result,
    PolicyVerification,
)
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.eligibility_dialog import METHOD_LABELS, EligibilityDialog
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tables import RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services



def _money(value: Decimal | None) -> str:
    return "" if value is None else f"${value:,.2f}"


def _percent(value: Decimal | None) -> str:
    return "" if value is None else f"{value.normalize():f}%"


def _pair(total: Decimal | None, met: Decimal | None) -> str:
    if total is None and met is None:
        return ""
    return f"{_money(total) or '?'} / {_money(met) or '?'} met"


def _result(row: EligibilityRow) -> str:
    if row.status is EligibilityStatus.ERROR:
        return "Rejected"
    return "Active" if row.status is EligibilityStatus.ACTIVE else "Inactive"


def _remarks(row: EligibilityRow) -> str:
    parts = [f"Rejected: {row.rejection}" if row.rejection else "", row.notes or ""]
    return " ".join(p for p in parts if p)


COLUMNS: list[tuple[str, Any]] = [
    ("Checked", lambda r: us_date(r.checked_on)),
    ("By", lambda r: r.checked_by),
    ("How", lambda r: METHOD_LABELS[r.method]),
    ("Policy", lambda r: r.policy_label),
    ("Result", _result),
    ("Copay", lambda r: _money(r.copay)),
    ("Deductible", lambda r: _pair(r.deductible, r.deductible_met)),
    ("Coinsurance", lambda r: _percent(r.coinsurance_percent)),
    ("Out of pocket", lambda r: _pair(r.out_of_pocket_max, r.out_of_pocket_met)),
    ("Reference", lambda r: r.reference_number or ""),
    ("Rejection / notes", _remarks),
]


class EligibilityPanel(QWidget):
    """The log for one patient; ``changed`` fires after a verification or an import was recorded."""

    changed = Signal(int)
    loaded = Signal(int)  # the patient's id, once their log is on screen

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("eligibilityPanel")
        self._services = services
        self._actor = actor
        self._service = EligibilityService(services.db)
        self._runner = TaskRunner(self)
        self._patient_id: int | None = None
        self._policies: tuple[PolicyVerification, ...] = ()
        self._today: date | None = None
        self.dialog: EligibilityDialog | None = None
        self._record_when_loaded = False
        self._record_policy: int | None = None
        self._loaded_for: int | None = None

        self.status = QLabel("Open a patient to see their eligibility.")
        self.status.setObjectName("eligibilityStatus")
        self.status.setWordWrap(True)
        self.model: RowTableModel[EligibilityRow] = RowTableModel(COLUMNS, self)
        self.table = configure_table(QTableView(), "eligibilityTable", "Eligibility checks")
        self.table.setModel(self.model)
        self.record_button = QPushButton("Record &verification…")
        self.record_button.setObjectName("eligibilityRecord")
        self.record_button.clicked.connect(lambda: self.open_record_dialog())
        self.import_button = QPushButton("&Import 271…")
        self.import_button.setObjectName("eligibilityImport")
        self.import_button.clicked.connect(self.choose_271)
        self.message = QLabel("")
        self.message.setObjectName("eligibilityMessage")
        self.message.setWordWrap(True)

        buttons = QHBoxLayout()
        buttons.addWidget(self.record_button)
        buttons.addWidget(self.import_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(self.table, 1)
        self.setTabOrder(self.record_button, self.import_button)
        self.setTabOrder(self.import_button, self.table)
        self._enable()

    @property
    def patient_id(self) -> int | None:
        return self._patient_id

    def _enable(self) -> None:
        has_patient = self._patient_id is not None
        self.record_button.setEnabled(has_patient and bool(self._policies))
        self.import_button.setEnabled(True)

    def show_patient(self, patient_id: int) -> None:
        self._patient_id = patient_id
        self.message.setText("")
        self.refresh()

    def refresh(self) -> None:
        patient_id = self._patient_id
        if patient_id is None:
            return
        self.status.setText("Loading eligibility…")
        service, actor = self._service, self._actor

        def load() -> tuple[int, date, tuple[PolicyVerification, ...], tuple[EligibilityRow, ...]]:
            today = service.clinic_today()
            policies = service.policy_status(actor, patient_id, today=today)
            return patient_id, today, policies, service.history(actor, patient_id)

        self._runner.run(load, self._loaded, self._load_failed)

    def _loaded(
        self, value: tuple[int, date, tuple[PolicyVerification, ...], tuple[EligibilityRow, ...]]
    ) -> None:
        patient_id, today, policies, rows = value
        if patient_id != self._patient_id:
            return  # another patient was opened meanwhile
        self._today = today
        self._policies = policies
        set_tone(self.status, None)
        lines = [p.line for p in policies] or ["No insurance in force today (self-pay)."]
        self.status.setText("\n".join(lines))
        self.model.set_rows(rows)
        self._enable()
        self._loaded_for = patient_id
        self.loaded.emit(patient_id)
        if self._record_when_loaded:
            self._record_when_loaded = False
            self.open_record_dialog(self._record_policy)

    def record_for(self, patient_id: int, policy_id: int | None = None) -> None:
        """Open the verification form for ``patient_id`` as soon as their policies are loaded.

        With ``policy_id`` (the policy a check-in problem or work queue item is about) the
        form starts on that policy, so its answer is not recorded against another one.
        """
        if patient_id == self._loaded_for and not self._runner.busy:
            self.open_record_dialog(policy_id)
            return
        self._record_when_loaded = True
        self._record_policy = policy_id
        if patient_id != self._patient_id:
            self.show_patient(patient_id)

    def _load_failed(self, exc: Exception) -> None:
        self.status.setText(f"Eligibility could not be loaded: {describe(exc)}")
        set_tone(self.status, ERROR)

    # -- record ---------------------------------------------------------------------------------

    def open_record_dialog(self, policy_id: int | None = None) -> EligibilityDialog | None:
        """The verification form, on ``policy_id`` when that policy is in force."""
        if self._patient_id is None or not self._policies:
            return None
        self.dialog = EligibilityDialog(self._services, self._actor, self._policies, self, today=self._today)
        if policy_id is not None and (index := self.dialog.policy.findData(policy_id)) >= 0:
            self.dialog.policy.setCurrentIndex(index)
        self.dialog.saved.connect(self._recorded)
        self.dialog.open()
        return self.dialog

    def _recorded(self, _policy_id: int) -> None:
        set_tone(self.message, None)
        self.message.setText("Verification recorded.")
        if self._patient_id is not None:
            self.changed.emit(self._patient_id)
        self.refresh()

    # -- import ---------------------------------------------------------------------------------

    def choose_271(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Import 271 eligibility answers", "", "271 files (*.271 *.edi *.x12 *.txt);;All files (*)"
        )
        if path:
            self.import_271(Path(path))

    def import_271(self, path: Path) -> None:
        """Read and record ``path`` on the worker thread."""
        set_tone(self.message, None)
        self.message.setText(f"Importing {path.name}…")
        self.import_button.setEnabled(False)
        service, actor = self._service, self._actor

        def work() -> Import271Result:
            text = path.read_text(encoding="utf-8-sig", errors="replace")
            return service.import_271(actor, text, path.name)

        self._runner.run(work, self._imported, lambda exc: self._import_failed(path, exc))

    def _imported(self, result: Import271Result) -> None:
        self.import_button.setEnabled(True)
        lines = [result.summary]
        lines += [f"Recorded: {r.line}" for r in result.recorded]
        lines += [f"Not matched: {m}" for m in result.unmatched]
        lines += [f"Rejected: {m}" for m in result.rejected]
        set_tone(self.message, ERROR if result.unmatched or result.rejected else None)
        self.message.setText("\n".join(lines))
        if self._patient_id is not None and any(r.patient_id == self._patient_id for r in result.recorded):
            self.changed.emit(self._patient_id)
        self.refresh()

    def _import_failed(self, path: Path, exc: Exception) -> None:
        self.import_button.setEnabled(True)
        if isinstance(exc, ValidationFailed | OSError):
            reason = describe(exc) if isinstance(exc, ValidationFailed) else f"{path.name}: {exc.strerror}"
            set_tone(self.message, ERROR)
            self.message.setText(f"Nothing was imported. {reason}")
            return
        self.message.setText("")
        show_error(self, exc)


class Export270Dialog(QDialog):
    """Write the 270 batch for the visits from today through the chosen number of days."""

    exported = Signal(object)

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("export270Dialog")
        self.setWindowTitle("Export eligibility inquiries (270)")
        self._service = EligibilityService(services.db)
        self._actor = actor
        self._runner = TaskRunner(self)
        form = QFormLayout(self)
        self.days = QSpinBox()
        self.days.setObjectName("export270Days")
        self.days.setRange(0, 60)
        self.days.setValue(3)
        self.days.setSuffix(" days ahead")
        self.path = QLineEdit(str(Path.home() / "eligibility.270"))
        self.path.setObjectName("export270Path")
        self.browse = QPushButton("&Browse…")
        self.browse.setObjectName("export270Browse")
        self.browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.browse)
        form.addRow("&Days", self.days)
        form.addRow("&File", row)
        self.result = QLabel("")
        self.result.setObjectName("export270Result")
        self.result.setWordWrap(True)
        form.addRow(self.result)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.export_button = buttons.addButton("&Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setObjectName("export270Export")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        form.labelForField(self.days).setBuddy(self.days)  # type: ignore[union-attr]
        pin_minimum_size(self)

    def _browse(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the 270 file", self.path.text(),
                                              "270 files (*.270);;All files (*)")
        if path:
            self.path.setText(path)

    def export(self) -> None:
        text = self.path.text().strip()
        if not text:
            self._show("Choose the file to write.", error=True)
            return
        path = Path(text)
        days, service, actor = self.days.value(), self._service, self._actor

        def work() -> tuple[Export270Result, bool]:
            result = service.export_270(actor, days=days)
            if not result.text:
                return result, False
            partial = path.with_name(path.name + ".part")
            partial.write_text(result.text, encoding="ascii")
            partial.replace(path)
            return result, True

        self.export_button.setEnabled(False)
        self._show("Exporting…")
        self._runner.run(work, lambda value: self._done(path, *value), self._failed)

    def _done(self, path: Path, result: Export270Result, written: bool) -> None:
        self.export_button.setEnabled(True)
        span = f"{us_date(result.first_day)} through {us_date(result.last_day)}"
        if written:
            lines = [f"Wrote {result.inquiries} inquiries for {result.patients} patient(s) and "
                     f"{result.payers} payer(s), visits {span}, to {path}."]
        else:
            lines = [f"Nothing to send for {span}: no file written."]
        if result.skipped:
            lines.append(f"Skipped {len(result.skipped)}:")
            lines += [f"• {s.line}" for s in result.skipped]
        self._show("\n".join(lines))
        self.exported.emit(result)

    def _failed(self, exc: Exception) -> None:
        self.export_button.setEnabled(True)
        if isinstance(exc, ValidationFailed | OSError):
            self._show(describe(exc) if isinstance(exc, ValidationFailed) else f"Cannot write the file: "
                       f"{exc.strerror}", error=True)
            return
        self._show("")
        show_error(self, exc)

    def _show(self, message: str, *, error: bool = False) -> None:
        set_tone(self.result, ERROR if error else None)
        self.result.setText(message)
        grow_to_fit(self)
