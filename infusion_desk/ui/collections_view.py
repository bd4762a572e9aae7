"""Billing → Collections: old patient balances to follow up, and payment plans behind on instalments.

    view = CollectionsView(services, biller)
    view.refresh()

**Worklist** (Alt+W): every patient with a patient-due balance older than the clinic's
threshold (90 days by default), oldest first, with the age bucket, the amount, the last
statement, the last note, the next action date and the hand-off status. **Add note…**
(Alt+N) records a call or letter and when to act next; **Hand off…** (Alt+H) sends the old
lines to a collection agency and **Recall…** (Alt+R) takes them back: both a manager's.
**Missed plan payments** (Alt+M): plans with missed instalments, how much is overdue, how
late, and the phone number to call.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Permission
from infusion_desk.services.collections import CollectionsService, NoteRow, WorklistRow
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.plans import STATUS_LABELS, MissedPaymentRow, PlanService
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.tables import Column, RowTableModel, configure_table

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

AskNote = Callable[[QWidget, str], tuple[str, date | None] | None]
AskText = Callable[[QWidget, str, str], str | None]


class NoteDialog(QDialog):
    """A follow-up note and, if ticked, the next action date."""

    def __init__(self, parent: QWidget | None, title: str) -> None:
        super().__init__(parent)
        self.setObjectName("collectionNoteDialog")
        self.setWindowTitle(title)
        self.note = QLineEdit(self)
        self.note.setObjectName("collectionNote")
        self.has_next = QCheckBox("&Next action on:", self)
        self.has_next.setChecked(True)
        self.next_action = QDateEdit(self)
        self.next_action.setObjectName("collectionNextAction")
        self.next_action.setDisplayFormat("MM/dd/yyyy")
        self.next_action.setCalendarPopup(True)
        self.next_action.setDate(QDate.currentDate().addDays(7))
        self.has_next.toggled.connect(self.next_action.setEnabled)
        standard = QDialogButtonBox.StandardButton
        buttons = QDialogButtonBox(standard.Ok | standard.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("N&ote:", self.note)
        form.addRow(self.has_next, self.next_action)
        form.addRow(buttons)
        self.note.setFocus()

    def value(self) -> tuple[str, date | None]:
        day: date = self.next_action.date().toPython()  # type: ignore[assignment]
        return self.note.text(), day if self.has_next.isChecked() else None


def ask_collection_note(parent: QWidget, title: str) -> tuple[str, date | None] | None:
    dialog = NoteDialog(parent, title)
    return dialog.value() if dialog.exec() == QDialog.DialogCode.Accepted else None


def ask_collection_text(parent: QWidget, title: str, question: str) -> str | None:
    text, ok = QInputDialog.getText(parent, title, question)
    return text if ok else None


def _money(value: object) -> str:
    return f"${value:,.2f}"


WORKLIST_COLUMNS: tuple[Column[WorklistRow], ...] = (
    ("Patient", lambda r: r.patient),
    ("MRN", lambda r: r.mrn),
    ("Age (days)", lambda r: str(r.age_days)),
    ("Bucket", lambda r: r.bucket),
    ("Amount", lambda r: _money(r.amount)),
    ("Total due", lambda r: _money(r.total_due)),
    ("Last statement", lambda r: us_date(r.last_statement)),
    ("Last note", lambda r: r.last_note or ""),
    ("Next action", lambda r: us_date(r.next_action_date)),
    ("Hand-off", lambda r: r.handoff_status or ""),
    ("Phone", lambda r: r.phone or ""),
)

MISSED_COLUMNS: tuple[Column[MissedPaymentRow], ...] = (
    ("Patient", lambda r: r.patient),
    ("MRN", lambda r: r.mrn),
    ("Phone", lambda r: r.phone or ""),
    ("Plan", lambda r: STATUS_LABELS[r.status]),
    ("Missed", lambda r: str(r.instalments_missed)),
    ("Overdue", lambda r: _money(r.amount_overdue)),
    ("Days late", lambda r: str(r.days_late)),
    ("Balance left", lambda r: _money(r.balance_left)),
    ("Next due", lambda r: us_date(r.next_due)),
)


NOTE_COLUMNS: tuple[Column[NoteRow], ...] = (
    ("Date", lambda r: us_date(r.at_day)),
    ("By", lambda r: r.by or ""),
    ("Note", lambda r: r.note),
    ("Next action", lambda r: us_date(r.next_action_date)),
    ("Hand-off", lambda r: r.handoff_status or ""),
)


class CollectionsView(Page):
    finished = Signal()  # an action finished and the lists reload

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        today: date | None = None,
        ask_note: AskNote | None = None,
        ask_text: AskText | None = None,
    ) -> None:
        super().__init__("collections", parent)
        self._actor = actor
        self._service = CollectionsService(services.db)
        self._plans = PlanService(services.db)
        self._today = today
        self._ask_note = ask_note or ask_collection_note
        self._ask_text = ask_text or ask_collection_text
        self._busy = False

        self.model: RowTableModel[WorklistRow] = RowTableModel(WORKLIST_COLUMNS, self)
        self.table = configure_table(QTableView(self), "collectionsWorklist", "Collections worklist")
        self.table.setModel(self.model)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._load_notes())
        self.notes_model: RowTableModel[NoteRow] = RowTableModel(NOTE_COLUMNS, self)
        self.notes = configure_table(QTableView(self), "collectionNotes", "The patient's collection notes")
        self.notes.setModel(self.notes_model)
        self.notes.setMaximumHeight(160)
        self.notes_label = QLabel("Notes (newest first):", self)
        self.missed_model: RowTableModel[MissedPaymentRow] = RowTableModel(MISSED_COLUMNS, self)
        self.missed = configure_table(QTableView(self), "missedPlanPayments", "Missed plan payments")
        self.missed.setModel(self.missed_model)
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("collectionsTabs")
        self.tabs.addTab(self.table, "&Worklist")
        self.tabs.addTab(self.missed, "&Missed plan payments")
        self.tabs.currentChanged.connect(lambda *_: self._enable())

        self.note_button = QPushButton("Add &note…", self)
        self.note_button.setObjectName("collectionNoteButton")
        self.note_button.clicked.connect(self.add_note)
        self.hand_off_button = QPushButton("&Hand off…", self)
        self.hand_off_button.setObjectName("handOffButton")
        self.hand_off_button.clicked.connect(self.hand_off)
        self.recall_button = QPushButton("&Recall…", self)
        self.recall_button.setObjectName("recallButton")
        self.recall_button.clicked.connect(self.recall)
        manager = actor.can(Permission.COLLECTIONS_HANDOFF)
        self.hand_off_button.setVisible(manager)
        self.recall_button.setVisible(manager)

        actions = QHBoxLayout()
        for button in (self.note_button, self.hand_off_button, self.recall_button):
            actions.addWidget(button)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.notes_label)
        layout.addWidget(self.notes)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        chain: list[QWidget] = [
            self.tabs, self.table, self.missed, self.note_button, self.hand_off_button, self.recall_button
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.table)
        self._enable()

    # -- loading ------------------------------------------------------------------------------------

    def _load(self) -> tuple[tuple[WorklistRow, ...], tuple[MissedPaymentRow, ...]]:
        return (
            self._service.worklist(self._actor, self._today),
            self._plans.missed_payments(self._actor, self._today),
        )

    def _load_notes(self) -> None:
        """The selected patient's notes, read on the worker thread (an answer for another row is dropped)."""
        row = self.current()
        self.notes_model.set_rows([])
        if row is None:
            return
        patient_id, service, actor = row.patient_id, self._service, self._actor

        def shown(notes: tuple[NoteRow, ...]) -> None:
            current = self.current()
            if current is not None and current.patient_id == patient_id:
                self.notes_model.set_rows(list(notes))

        self._runner.run(lambda: service.notes(actor, patient_id), shown, self._failed)

    def _present(self, value: tuple[tuple[WorklistRow, ...], tuple[MissedPaymentRow, ...]]) -> None:
        rows, missed = value
        picked = self.current()
        self.model.set_rows(rows)
        again = next(
            (i for i, r in enumerate(rows) if picked is not None and r.patient_id == picked.patient_id), None
        )
        if again is not None:
            self.table.selectRow(again)  # the same patient stays picked, their notes reloaded
        self.missed_model.set_rows(missed)
        over = sum(1 for r in rows if r.bucket == "over 120")
        self.summary.setText(
            f"{len(rows)} account(s) to follow up ({over} over 120 days), "
            f"{_money(sum((r.amount for r in rows), 0))} old balance; "
            f"{len(missed)} plan(s) behind on payments."
        )
        self._enable()

    # -- state --------------------------------------------------------------------------------------

    def current(self) -> WorklistRow | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        row = self.current() if self.tabs.currentWidget() is self.table else None
        idle = not self._busy
        self.note_button.setEnabled(idle and row is not None and self._actor.can(Permission.PATIENT_PAYMENT))
        self.hand_off_button.setEnabled(idle and row is not None and row.amount > row.in_collections)
        self.recall_button.setEnabled(idle and row is not None and row.in_collections > 0)

    # -- actions ------------------------------------------------------------------------------------

    def add_note(self) -> None:
        row = self.current()
        if row is None or not self.note_button.isEnabled():
            return
        answer = self._ask_note(self, f"Follow-up note — {row.patient}")
        if answer is None:
            return
        note, next_action = answer
        service, actor, today = self._service, self._actor, self._today
        self._act(
            lambda: service.add_note(actor, row.patient_id, note, next_action, today=today),
            f"Note added for {row.patient}.",
        )

    def hand_off(self) -> None:
        row = self.current()
        if row is None or not self.hand_off_button.isEnabled():
            return
        agency = self._ask_text(self, "Hand off to collections", f"Collection agency for {row.patient}:")
        if agency is None:
            return
        service, actor, today = self._service, self._actor, self._today
        self._act(
            lambda: service.hand_off(actor, row.patient_id, agency, today=today),
            f"{row.patient}'s old balance was handed off.",
        )

    def recall(self) -> None:
        row = self.current()
        if row is None or not self.recall_button.isEnabled():
            return
        reason = self._ask_text(self, "Recall from collections", f"Why recall {row.patient}'s account?")
        if reason is None:
            return
        service, actor = self._service, self._actor
        self._act(
            lambda: service.recall(actor, row.patient_id, reason),
            f"{row.patient}'s account was recalled from collections.",
        )

    def _act(self, work: Callable[[], object], done: str) -> None:
        self._busy = True
        self._enable()
        self._runner.run(work, lambda _result: self._done(done), self._failed)

    def _done(self, text: str) -> None:
        self._busy = False
        self.say(text)
        self.refresh()
        self.finished.emit()

    def _failed(self, exc: Exception) -> None:
        self._busy = False
        self.say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)
        self._enable()

