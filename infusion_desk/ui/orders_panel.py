"""The opened patient's physician orders: dose and today's computed dose, doses left, expiry, warnings.

    panel = OrdersPanel(services, actor)
    panel.show_patient(patient_id)      # loads on the worker thread

Rows with a problem (expired, out of doses, expiring soon) are tinted and say why in the
Warnings column. New order… (Alt+N), Edit… (Alt+I, or Enter on a row), Discontinue… (Alt+D).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.orders import OrderService, OrderSummary
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.order_dialog import OrderDialog
from infusion_desk.ui.patient_rows import PatientRowsPanel
from infusion_desk.ui.tables import RowTableModel, configure_table
from infusion_desk.ui.theme import ERROR, WARNING, tint

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services



def _doses(order: OrderSummary) -> str:
    if order.doses_ordered is None:
        return f"{order.doses_used} given"
    return f"{order.doses_used} / {order.doses_ordered} ({order.doses_left} left)"


COLUMNS: list[tuple[str, Any]] = [
    ("Drug", lambda o: o.drug),
    ("Dose", lambda o: o.dose),
    ("Today's dose", lambda o: o.computed_dose),
    ("Frequency", lambda o: o.frequency),
    ("Doses used", _doses),
    ("Diagnoses", lambda o: ", ".join(d.display for d in o.diagnoses)),
    ("Provider", lambda o: o.provider),
    ("Start", lambda o: us_date(o.start_date)),
    ("Expiry", lambda o: us_date(o.end_date)),
    ("Status", lambda o: o.status_label),
    ("Warnings", lambda o: " ".join(f.message for f in o.findings)),
]


class OrderTableModel(RowTableModel[OrderSummary]):
    """Orders, with rows that need attention tinted (red: cannot treat; amber: act soon)."""

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ToolTipRole) and index.isValid():
            if not 0 <= index.row() < self.rowCount():
                return None
            order = self.row(index.row())
            if not order.findings:
                return None
            if role == Qt.ItemDataRole.ToolTipRole:
                return "\n".join(f.message for f in order.findings)
            return tint(ERROR) if any(f.blocks for f in order.findings) else tint(WARNING)
        return super().data(index, role)


class OrdersPanel(PatientRowsPanel[OrderSummary]):
    plural = "orders"

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ordersPanel")
        self._services, self._actor = services, actor
        self._service = OrderService(services.db)
        self.dialog: OrderDialog | None = None
        layout = QVBoxLayout(self)
        title = QLabel("Physician orders")
        title.setObjectName("ordersTitle")
        self.model = OrderTableModel(COLUMNS, self)
        self.table = configure_table(QTableView(), "ordersTable", "Physician orders")
        self.table.setModel(self.model)
        self.table.doubleClicked.connect(lambda _index: self.edit_order())
        self.table.activated.connect(lambda _index: self.edit_order())
        self.status = QLabel("")
        self.status.setObjectName("ordersStatus")
        buttons = QHBoxLayout()
        self.new_button = QPushButton("&New order…")
        self.new_button.setObjectName("newOrder")
        self.edit_button = QPushButton("Ed&it…")
        self.edit_button.setObjectName("editOrder")
        self.discontinue_button = QPushButton("&Discontinue…")
        self.discontinue_button.setObjectName("discontinueOrder")
        for button in (self.new_button, self.edit_button, self.discontinue_button):
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.new_button.clicked.connect(self.new_order)
        self.edit_button.clicked.connect(self.edit_order)
        self.discontinue_button.clicked.connect(self.discontinue_order)
        layout.addWidget(title)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._enable())

    def _fetch(self, patient_id: int) -> Callable[[], tuple[OrderSummary, ...]]:
        actor, service = self._actor, self._service
        return lambda: service.orders(actor, patient_id)

    def _enable(self) -> None:
        from infusion_desk.services.access import Permission

        can_edit = self._actor.can(Permission.PATIENT_EDIT) and self._patient_id is not None
        selected = self._selected()
        self.new_button.setEnabled(can_edit)
        self.edit_button.setEnabled(can_edit and selected is not None)
        self.discontinue_button.setEnabled(
            can_edit and selected is not None and selected.status_label == "Active"
        )

    def _open(self, order: OrderSummary | None) -> None:
        if self._patient_id is None:
            return
        self.dialog = OrderDialog(self._services, self._actor, self._patient_id, order, self)
        self.dialog.saved.connect(lambda _id: self.refresh())
        self.dialog.open()

    def new_order(self) -> None:
        self._open(None)

    def edit_order(self) -> None:
        selected = self._selected()
        if selected is not None and self.edit_button.isEnabled():
            self._open(selected)

    def discontinue_order(self) -> None:
        selected = self._selected()
        if selected is None:
            return
        ask = QInputDialog(self)
        ask.setObjectName("discontinueReason")
        ask.setWindowTitle("Discontinue order")
        ask.setLabelText(f"Why is the {selected.drug} order discontinued?")
        ask.textValueSelected.connect(lambda reason: self._discontinue(selected.id, reason))
        self.reason_dialog = ask
        ask.open()

    def _discontinue(self, order_id: int, reason: str) -> None:
        actor, service = self._actor, self._service
        self._runner.run(
            lambda: service.discontinue(actor, order_id, reason),
            lambda _none: self.refresh(),
            lambda exc: show_error(self, exc),
        )
