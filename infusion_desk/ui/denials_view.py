"""The denial work queue (Billing → Denials): what payers denied, most money and nearest deadline first.

    view = DenialsView(services, biller)
    view.refresh()

Each row is one denied line (or a claim denied as a whole) with the amount at stake and the
appeal deadline; the panel under the table says why the payer denied it, in plain words, and
what to do next. **Take** (Alt+T) makes the item yours; **Transfer to patient…** and
**Request write-off…** ask for the reason and end the item; **Approve write-off** is a
manager's. Nothing is written off without a person's reason and a manager's approval.
**Appeal…** (Alt+A) opens the appeal letter of the picked denial (:mod:`.appeal_dialog`);
**Correct and resubmit…** (Alt+C) answers it with a corrected claim instead. The
**Appeals** tab (Alt+L) tracks every appeal: sent, deadline, days left, status, amount and
what it recovered; **Record outcome…** (Alt+O) enters the payer's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Permission
from infusion_desk.services.appeals import AppealRow, AppealService
from infusion_desk.services.denials import DenialRow, DenialService
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.appeal_dialog import AppealDialog, AskFolder, AskPath, OutcomeDialog
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.prompts import AskReason, ask_reason
from infusion_desk.ui.tables import Column, RowTableModel, configure_table

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

DENIAL_COLUMNS: tuple[Column[DenialRow], ...] = (
    ("Amount", lambda r: f"${r.amount:,.2f}"),
    ("Appeal by", lambda r: us_date(r.appeal_deadline)),
    ("Claim", lambda r: r.claim_number),
    ("Patient", lambda r: r.patient),
    ("Payer", lambda r: r.payer),
    ("Date of service", lambda r: us_date(r.service_date)),
    ("Code", lambda r: r.code),
    ("Adjustment", lambda r: r.adjustment),
    ("Category", lambda r: r.category),
    ("Owner", lambda r: r.owner),
    ("Status", lambda r: r.status),
)

APPEAL_COLUMNS: tuple[Column[AppealRow], ...] = (
    ("Claim", lambda r: r.claim_number),
    ("Patient", lambda r: r.patient),
    ("Payer", lambda r: r.payer),
    ("Category", lambda r: r.category),
    ("Level", lambda r: str(r.level)),
    ("Status", lambda r: r.status),
    ("Sent", lambda r: us_date(r.sent_on)),
    ("Deadline", lambda r: us_date(r.deadline)),
    ("Days left", lambda r: "" if r.days_left is None else str(r.days_left)),
    ("Amount", lambda r: f"${r.amount:,.2f}"),
    ("Recovered", lambda r: "" if r.recovered is None else f"${r.recovered:,.2f}"),
    ("Decided", lambda r: us_date(r.outcome_on)),
)


class DenialsView(Page):
    finished = Signal()  # an action finished and the queue reloads

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        ask: AskReason | None = None,
        save_path: AskPath | None = None,
        ask_folder: AskFolder | None = None,
    ) -> None:
        super().__init__("denials", parent)
        self._services = services
        self._actor = actor
        self._service = DenialService(services.db)
        self._appeals = AppealService(services.db)
        self._ask = ask or ask_reason
        self._save_path = save_path
        self._ask_folder = ask_folder
        self.appeal_dialog: AppealDialog | None = None
        self.outcome_dialog: OutcomeDialog | None = None
        self.model: RowTableModel[DenialRow] = RowTableModel(DENIAL_COLUMNS, self)
        self.table = configure_table(QTableView(self), "denialQueue", "Denials to work")
        self.table.setModel(self.model)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._show_current())
        queue_label = QLabel("&Denials to work (most money first, then the nearest deadline):", self)
        queue_label.setBuddy(self.table)
        self.detail = QLabel("Pick a denial to see why the payer denied it and what to do.", self)
        self.detail.setObjectName("denialDetail")
        self.detail.setWordWrap(True)

        self.take_button = QPushButton("&Take", self)
        self.take_button.setObjectName("takeDenialButton")
        self.take_button.setToolTip("Make this denial yours to work")
        self.take_button.clicked.connect(self.take)
        self.transfer_button = QPushButton("Transfer to &patient…", self)
        self.transfer_button.setObjectName("transferDenialButton")
        self.transfer_button.clicked.connect(self.transfer)
        self.write_off_button = QPushButton("Request &write-off…", self)
        self.write_off_button.setObjectName("requestWriteOffButton")
        self.write_off_button.clicked.connect(self.request_write_off)
        self.approve_button = QPushButton("Appro&ve write-off", self)
        self.approve_button.setObjectName("approveWriteOffButton")
        self.approve_button.setVisible(actor.can(Permission.WRITE_OFF_APPROVE))
        self.approve_button.clicked.connect(self.approve)
        self.appeal_button = QPushButton("&Appeal…", self)
        self.appeal_button.setObjectName("appealDenialButton")
        self.appeal_button.setToolTip("Draft, edit and print the appeal letter of this denial")
        self.appeal_button.clicked.connect(self.appeal)
        self.resubmit_button = QPushButton("&Correct and resubmit…", self)
        self.resubmit_button.setObjectName("resubmitDenialButton")
        self.resubmit_button.setToolTip(
            "Answer the denial with a corrected claim (frequency 7) from the visit's coding"
        )
        self.resubmit_button.clicked.connect(self.resubmit)
        actions = QHBoxLayout()
        for button in (
            self.take_button, self.appeal_button, self.resubmit_button, self.transfer_button,
            self.write_off_button, self.approve_button,
        ):
            actions.addWidget(button)
        actions.addStretch(1)

        queue_page = QWidget(self)
        queue_layout = QVBoxLayout(queue_page)
        queue_layout.addWidget(queue_label)
        queue_layout.addWidget(self.table, 1)
        queue_layout.addWidget(self.detail)
        queue_layout.addLayout(actions)

        self.appeals_model: RowTableModel[AppealRow] = RowTableModel(APPEAL_COLUMNS, self)
        self.appeals_table = configure_table(QTableView(self), "appealList", "Appeals")
        self.appeals_table.setModel(self.appeals_model)
        self.appeals_table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.appeals_table.activated.connect(lambda *_: self.open_appeal())
        self.open_appeal_button = QPushButton("Ope&n letter…", self)
        self.open_appeal_button.setObjectName("openAppealButton")
        self.open_appeal_button.clicked.connect(self.open_appeal)
        self.outcome_button = QPushButton("Record &outcome…", self)
        self.outcome_button.setObjectName("recordOutcomeButton")
        self.outcome_button.setToolTip("Enter the payer's decision on a sent appeal")
        self.outcome_button.clicked.connect(self.record_outcome)
        appeal_actions = QHBoxLayout()
        appeal_actions.addWidget(self.open_appeal_button)
        appeal_actions.addWidget(self.outcome_button)
        appeal_actions.addStretch(1)
        appeals_page = QWidget(self)
        appeals_layout = QVBoxLayout(appeals_page)
        appeals_label = QLabel("Appeals: drafts and sent letters by nearest deadline, then decided:", self)
        appeals_layout.addWidget(appeals_label)
        appeals_layout.addWidget(self.appeals_table, 1)
        appeals_layout.addLayout(appeal_actions)

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("denialTabs")
        self.tabs.addTab(queue_page, "Work &queue")
        self.tabs.addTab(appeals_page, "Appea&ls")

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        chain: list[QWidget] = [
            self.table,
            self.take_button,
            self.appeal_button,
            self.resubmit_button,
            self.transfer_button,
            self.write_off_button,
            self.approve_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.table)
        self._enable()

    # -- loading ----------------------------------------------------------------------------------

    def _load(self) -> tuple[list[DenialRow], list[AppealRow]]:
        return self._service.work_queue(self._actor), self._appeals.appeals(self._actor)

    def _present(self, loaded: tuple[list[DenialRow], list[AppealRow]]) -> None:
        rows, appeals = loaded
        # a reload keeps the denial and the appeal the user had picked, where they still are
        denial, appeal = self.current(), self.current_appeal()
        self.model.set_rows(rows)
        self.appeals_model.set_rows(appeals)
        again = None if denial is None else self.model.find(lambda r: r.id, denial.id)
        if again is not None:
            self.table.selectRow(again)
        again = None if appeal is None else self.appeals_model.find(lambda r: r.id, appeal.id)
        if again is not None:
            self.appeals_table.selectRow(again)
        total = sum((r.amount for r in rows), Decimal("0.00"))
        text = f"{len(rows)} denial(s) to work, ${total:,.2f} at stake." if rows else "No denials to work."
        waiting = sum(1 for a in appeals if a.status == "sent")
        drafts = sum(1 for a in appeals if a.status == "draft")
        if waiting or drafts:
            text += f" Appeals: {drafts} draft(s), {waiting} waiting for the payer."
        self.summary.setText(text)
        self._show_current()

    # -- the picked denial --------------------------------------------------------------------------

    def current(self) -> DenialRow | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _show_current(self) -> None:
        row = self.current()
        if row is not None:
            self.detail.setText(
                f"{row.claim_number}, {row.code} ({row.adjustment}, {row.category}): {row.reason}\n"
                f"Next step: {row.action}"
            )
        self._enable()

    def _enable(self) -> None:
        row = self.current()
        can_work = self._actor.can(Permission.DENIAL_WORK) and row is not None
        requested = row is not None and row.status == "write off requested"
        mine = row is not None and row.owner == self._actor.username
        self.take_button.setEnabled(can_work and not requested and not mine)
        self.transfer_button.setEnabled(can_work and not requested)
        self.write_off_button.setEnabled(
            can_work and not requested and self._actor.can(Permission.WRITE_OFF_REQUEST)
        )
        self.approve_button.setEnabled(self._actor.can(Permission.WRITE_OFF_APPROVE) and requested)
        self.appeal_button.setEnabled(can_work and not requested)
        self.resubmit_button.setEnabled(can_work and not requested and self._actor.can(Permission.CLAIM_EDIT))
        appeal = self.current_appeal()
        self.open_appeal_button.setEnabled(appeal is not None and self._actor.can(Permission.DENIAL_WORK))
        self.outcome_button.setEnabled(
            appeal is not None and appeal.status == "sent" and self._actor.can(Permission.DENIAL_WORK)
        )

    def current_appeal(self) -> AppealRow | None:
        index = self.appeals_table.currentIndex()
        return self.appeals_model.row(index.row()) if index.isValid() else None

    # -- actions ----------------------------------------------------------------------------------

    def take(self) -> None:
        row = self.current()
        if row is not None and self.take_button.isEnabled():
            done = f"{row.claim_number} {row.code} is yours."
            self._act(lambda: self._service.take(self._actor, row.id), done)

    def transfer(self) -> None:
        row = self.current()
        if row is None or not self.transfer_button.isEnabled():
            return
        note = self._ask(self, "Transfer to patient", f"Why does the patient owe ${row.amount:,.2f}?")
        if note is not None:
            self._act(
                lambda: self._service.transfer_to_patient(self._actor, row.id, note),
                f"{row.claim_number} {row.code}: ${row.amount:,.2f} moved to the patient's responsibility.",
            )

    def request_write_off(self) -> None:
        row = self.current()
        if row is None or not self.write_off_button.isEnabled():
            return
        question = f"Why write off ${row.amount:,.2f}? A manager reads it."
        reason = self._ask(self, "Request a write-off", question)
        if reason is not None:
            self._act(
                lambda: self._service.request_write_off(self._actor, row.id, reason),
                f"{row.claim_number} {row.code}: write-off requested; it waits for a manager.",
            )

    def approve(self) -> None:
        row = self.current()
        if row is not None and self.approve_button.isEnabled():
            self._act(
                lambda: self._service.approve_write_off(self._actor, row.id),
                f"{row.claim_number} {row.code}: ${row.amount:,.2f} written off.",
            )

    def appeal(self) -> None:
        row = self.current()
        if row is not None and self.appeal_button.isEnabled():
            self._open_dialog(AppealDialog(
                self._services, self._actor, self, work_item_id=row.id,
                save_path=self._save_path, ask_folder=self._ask_folder,
            ))

    def open_appeal(self) -> None:
        appeal = self.current_appeal()
        if appeal is not None and self.open_appeal_button.isEnabled():
            self._open_dialog(AppealDialog(
                self._services, self._actor, self, appeal_id=appeal.id,
                save_path=self._save_path, ask_folder=self._ask_folder,
            ))

    def _open_dialog(self, dialog: AppealDialog) -> None:
        if self.appeal_dialog is not None:
            self.appeal_dialog.close()
        self.appeal_dialog = dialog
        dialog.changed.connect(self.refresh)
        dialog.finished.connect(lambda _result: self.refresh())
        dialog.open()

    def record_outcome(self) -> None:
        appeal = self.current_appeal()
        if appeal is None or not self.outcome_button.isEnabled():
            return
        dialog = OutcomeDialog(self._services, self._actor, appeal, self)
        self.outcome_dialog = dialog

        def recorded() -> None:
            self.say(f"{appeal.claim_number}: the appeal's outcome is recorded.")
            self.refresh()
            self.finished.emit()

        dialog.recorded.connect(recorded)
        dialog.open()

    def resubmit(self) -> None:
        row = self.current()
        if row is None or not self.resubmit_button.isEnabled():
            return
        reason = self._ask(
            self, "Correct and resubmit", f"What does the corrected claim for {row.claim_number} fix?"
        )
        if reason is not None:
            self._act(
                lambda: self._service.correct_and_resubmit(self._actor, row.id, reason),
                f"{row.claim_number}: a corrected claim (frequency 7) replaces it and goes out with the "
                "next batch; the claim's open denials are marked resubmitted.",
            )

    def _act(self, work: Callable[[], object], done: str) -> None:
        for button in (
            self.take_button, self.transfer_button, self.write_off_button, self.approve_button,
            self.appeal_button, self.resubmit_button,
        ):
            button.setEnabled(False)
        self._runner.run(work, lambda _result: self._done(done), self._failed)

    def _done(self, text: str) -> None:
        self.say(text)
        self.refresh()
        self.finished.emit()

    def _failed(self, exc: Exception) -> None:
        self.say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)
        self.refresh()
        self.finished.emit()
