"""Patient statements (Billing → Statements): who gets one this run, the run itself, reprints and holds.

    view = StatementsView(services, biller)
    view.refresh()

The table is the run's preview: every patient who owes or may owe something, with the amount
due, the age of the oldest date of service owed, the last statement and whether this run
sends one or why not (on hold, under the minimum, sent within the cycle, nothing patient-due
yet). **Run statements…** (Ctrl+R) asks for a folder, then writes one PDF per patient and one
PDF of the whole run for printing on the worker thread, with a progress bar; nothing is
recorded unless every file was written. **Reprint last statement…** (Alt+P) saves the selected
patient's last statement exactly as it was sent; **Hold statements…** / **Release hold**
(Alt+H) stops or resumes statements to the selected patient (a hold asks why). The settings
(minimum balance, days between statements, days until due) are a manager's to change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Permission
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.statements import (
    PreviewRow,
    RunPreview,
    RunSummary,
    StatementService,
    StatementSettings,
)
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.tables import Column, RowTableModel, configure_table

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

AskFolder = Callable[[QWidget], str | None]
AskPath = Callable[[QWidget, str], str | None]
AskReason = Callable[[QWidget, str, str], str | None]


def ask_statement_folder(parent: QWidget) -> str | None:
    return QFileDialog.getExistingDirectory(parent, "Write the statements to") or None


def ask_reprint_path(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(parent, "Save the statement", suggested, "PDF (*.pdf)")
    return path or None


def ask_hold_reason(parent: QWidget, title: str, question: str) -> str | None:
    text, ok = QInputDialog.getText(parent, title, question)
    return text if ok else None


def _status(row: PreviewRow) -> str:
    return "Will be sent" if row.send else f"Skipped: {row.reason}"


PREVIEW_COLUMNS: tuple[Column[PreviewRow], ...] = (
    ("Patient", lambda r: r.patient),
    ("MRN", lambda r: r.mrn),
    ("Amount due", lambda r: f"${r.amount_due:,.2f}"),
    ("Oldest (days)", lambda r: str(r.oldest_days) if r.amount_due > 0 else ""),
    ("Last statement", lambda r: us_date(r.last_statement)),
    ("Hold", lambda r: "On hold" if r.hold else ""),
    ("Status", _status),
)


class _ProgressRelay(QObject):
    progressed = Signal(int, int)


class StatementsView(Page):
    finished = Signal()  # an action finished and the preview reloads

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        today: date | None = None,
        ask_folder: AskFolder | None = None,
        save_path: AskPath | None = None,
        ask_reason: AskReason | None = None,
    ) -> None:
        super().__init__("statements", parent)
        self._actor = actor
        self._service = StatementService(services.db)
        self._today = today
        self._ask_folder = ask_folder or ask_statement_folder
        self._save_path = save_path or ask_reprint_path
        self._ask_reason = ask_reason or ask_hold_reason
        self._running = False
        self._has_statements = False
        may_run = actor.can(Permission.PATIENT_PAYMENT) and actor.can(Permission.REPORTS_VIEW)

        self.model: RowTableModel[PreviewRow] = RowTableModel(PREVIEW_COLUMNS, self)
        self.table = configure_table(QTableView(self), "statementPreview", "Statement run preview")
        self.table.setModel(self.model)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        table_label = QLabel("Pa&tients who owe (those to send first, then those skipped and why):", self)
        table_label.setBuddy(self.table)

        self.run_button = QPushButton("&Run statements…  (Ctrl+R)", self)
        self.run_button.setObjectName("runStatementsButton")
        self.run_button.setToolTip("Write and record the statements the preview lists as 'Will be sent'")
        self.run_button.setEnabled(False)
        self.run_button.clicked.connect(self.run_statements)
        self.reprint_button = QPushButton("Re&print last statement…", self)
        self.reprint_button.setObjectName("reprintStatementButton")
        self.reprint_button.setToolTip("Save the selected patient's last statement exactly as it was sent")
        self.reprint_button.clicked.connect(self.reprint)
        self.hold_button = QPushButton("&Hold statements…", self)
        self.hold_button.setObjectName("holdStatementsButton")
        self.hold_button.clicked.connect(self.toggle_hold)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("statementProgress")
        self.progress.setFormat("%v of %m statements")
        self.progress.setVisible(False)
        self._may_run = may_run

        self.minimum = QLineEdit(self)
        self.minimum.setObjectName("statementMinimum")
        self.minimum.setAccessibleName("Minimum balance")
        self.cycle = QSpinBox(self)
        self.cycle.setObjectName("statementCycle")
        self.cycle.setRange(1, 365)
        self.cycle.setSuffix(" days")
        self.due_days = QSpinBox(self)
        self.due_days.setObjectName("statementDueDays")
        self.due_days.setRange(1, 90)
        self.due_days.setSuffix(" days")
        self.save_button = QPushButton("Save &settings", self)
        self.save_button.setObjectName("saveStatementSettingsButton")
        self.save_button.clicked.connect(self.save_settings)
        may_set = actor.can(Permission.CLINIC_SETTINGS)
        self._may_set = may_set
        for widget in (self.minimum, self.cycle, self.due_days, self.save_button):
            widget.setEnabled(may_set)
        self.save_button.setToolTip(
            "Save the statement settings" if may_set else "A manager changes the statement settings"
        )
        form = QFormLayout()
        form.addRow("&Minimum balance ($):", self.minimum)
        form.addRow("Days &between statements:", self.cycle)
        form.addRow("Payment &due after:", self.due_days)
        form.addRow("", self.save_button)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.progress)
        top.addWidget(self.run_button)
        actions = QHBoxLayout()
        actions.addWidget(self.reprint_button)
        actions.addWidget(self.hold_button)
        actions.addStretch(1)
        body = QHBoxLayout()
        left = QVBoxLayout()
        left.addWidget(table_label)
        left.addWidget(self.table, 1)
        left.addLayout(actions)
        body.addLayout(left, 3)
        body.addLayout(form, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        QShortcut(QKeySequence("Ctrl+R"), self, self.run_statements)
        chain: list[QWidget] = [
            self.table, self.reprint_button, self.hold_button, self.run_button, self.minimum, self.cycle,
            self.due_days, self.save_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.table)
        self._enable()

    # -- loading ----------------------------------------------------------------------------------

    def _load(self) -> tuple[RunPreview, StatementSettings]:
        return self._service.preview_run(self._actor, self._today), self._service.settings(self._actor)

    def _present(self, value: tuple[RunPreview, StatementSettings]) -> None:
        preview, settings = value
        self.model.set_rows(preview.rows)
        self.minimum.setText(f"{settings.minimum_balance:.2f}")
        self.cycle.setValue(settings.cycle_days)
        self.due_days.setValue(settings.due_days)
        count = len(preview.to_send)
        if count:
            self.summary.setText(
                f"{count} statement(s) to send on {us_date(preview.statement_date)}, "
                f"${preview.total_due:,.2f} due; {len(preview.skipped)} patient(s) skipped."
            )
        else:
            self.summary.setText(
                f"No statements to send on {us_date(preview.statement_date)}; "
                f"{len(preview.skipped)} patient(s) skipped."
            )
        self._has_statements = count > 0
        self._enable()

    # -- state --------------------------------------------------------------------------------------

    def current(self) -> PreviewRow | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        row = self.current()
        may_bill = self._actor.can(Permission.PATIENT_PAYMENT)
        idle = not self._running
        self.run_button.setEnabled(self._may_run and idle and self._has_statements)
        self.save_button.setEnabled(self._may_set and idle)
        sent_before = row is not None and row.last_statement is not None
        self.reprint_button.setEnabled(may_bill and idle and sent_before)
        self.hold_button.setEnabled(may_bill and idle and row is not None)
        self.hold_button.setText("Release &hold" if row is not None and row.hold else "&Hold statements…")

    # -- the run ------------------------------------------------------------------------------------

    def run_statements(self) -> None:
        if not self.run_button.isEnabled():
            return
        folder = self._ask_folder(self)
        if not folder:
            return
        service, actor, today = self._service, self._actor, self._today
        relay = _ProgressRelay(self)
        relay.progressed.connect(self._progressed)
        self._running = True
        self._enable()
        self.progress.setRange(0, 0)
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.say("Writing the statements…")
        self._runner.run(
            lambda: service.run(
                actor, out_dir=Path(folder), today=today,
                progress=lambda done, total: relay.progressed.emit(done, total),
            ),
            self._ran,
            self._failed,
        )

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _ran(self, summary: RunSummary) -> None:
        self._over()
        self.say(summary.text().replace("\n", " "))
        self.refresh()
        self.finished.emit()

    def _failed(self, exc: Exception) -> None:
        self._over()
        self.say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)
        self.refresh()
        self.finished.emit()

    def _over(self) -> None:
        self._running = False
        self.progress.setVisible(False)
        self._enable()

    # -- reprint and hold ---------------------------------------------------------------------------

    def reprint(self) -> None:
        row = self.current()
        if row is None or not self.reprint_button.isEnabled() or row.last_statement is None:
            return
        path = self._save_path(self, f"statement_{row.last_statement:%Y%m%d}_{row.mrn}.pdf")
        if not path:
            return
        service, actor = self._service, self._actor

        def work() -> str:
            history = service.statements_for(actor, row.patient_id)
            pdf = service.reprint(actor, history[0].id)
            Path(path).write_bytes(pdf)
            return path

        when = us_date(row.last_statement)
        self._act(work, lambda saved: f"Saved {row.patient}'s statement of {when} to {saved}.")

    def toggle_hold(self) -> None:
        row = self.current()
        if row is None or not self.hold_button.isEnabled():
            return
        if row.hold:
            reason = ""
        else:
            asked = self._ask_reason(self, "Hold statements", f"Why hold statements to {row.patient}?")
            if asked is None:
                return
            reason = asked
        hold = not row.hold
        service, actor = self._service, self._actor
        done = f"Statements to {row.patient} are on hold." if hold else f"Statements to {row.patient} resume."
        self._act(lambda: service.set_hold(actor, row.patient_id, hold, reason), lambda _result: done)

    def save_settings(self) -> None:
        if not self.save_button.isEnabled():
            return
        try:
            minimum = Decimal(self.minimum.text().strip().lstrip("$").replace(",", "") or "x")
        except InvalidOperation:
            self.say("Minimum balance: type an amount such as 5.00.", error=True)
            self.minimum.setFocus()
            return
        settings = StatementSettings(minimum, self.cycle.value(), self.due_days.value())
        service, actor = self._service, self._actor
        self._act(lambda: service.set_settings(actor, settings), lambda _result: "Statement settings saved.")

    def _act(self, work: Callable[[], object], done: Callable[[object], str]) -> None:
        self._running = True
        self._enable()
        self._runner.run(work, lambda result: self._done(done(result)), self._failed)

    def _done(self, text: str) -> None:
        self._over()
        self.say(text)
        self.refresh()
        self.finished.emit()
