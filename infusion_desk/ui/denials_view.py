"""The denial work queue (Billing → Denials): what payers denied, most money and nearest deadline first.

    view = DenialsView(services, biller)
    view.refresh()

Each row is one denied line (or a claim denied as a whole) with the amount at stake and the
appeal deadline; the panel under the table says why the payer denied it, in plain words, and
what to do next. **Take** (Alt+T) makes the item yours; **Transfer to patient…** and
**Request write-off…** ask for the reason and end the item; **Approve write-off** is a
manager's. Nothing is written off without a person's reason and a manager's approval.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Permission
from infusion_desk.services.denials import DenialRow, DenialService
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.tables import Column, RowTableModel, configure_table

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

AskReason = Callable[[QWidget, str, str], str | None]
"""(parent, title, question) -> the text typed, or None when cancelled."""


def ask_reason(parent: QWidget, title: str, question: str) -> str | None:
    text, ok = QInputDialog.getText(parent, title, question)
    return text if ok else None


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


class DenialsView(Page):
    finished = Signal()  # an action finished and the queue reloads

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        ask: AskReason | None = None,
    ) -> None:
        super().__init__("denials", parent)
        self._actor = actor
        self._service = DenialService(services.db)
        self._ask = ask or ask_reason
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
        actions = QHBoxLayout()
        for button in (self.take_button, self.transfer_button, self.write_off_button, self.approve_button):
            actions.addWidget(button)
        actions.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(queue_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.detail)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        chain: list[QWidget] = [
            self.table,
            self.take_button,
            self.transfer_button,
            self.write_off_button,
            self.approve_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.table)
        self._enable()

    # -- loading ----------------------------------------------------------------------------------

    def _load(self) -> list[DenialRow]:
        return self._service.work_queue(self._actor)

    def _present(self, rows: list[DenialRow]) -> None:
        self.model.set_rows(rows)
        total = sum((r.amount for r in rows), Decimal("0.00"))
        self.summary.setText(
            f"{len(rows)} denial(s) to work, ${total:,.2f} at stake." if rows else "No denials to work."
        )
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

    def _act(self, work: Callable[[], None], done: str) -> None:
        for button in (self.take_button, self.transfer_button, self.write_off_button, self.approve_button):
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
