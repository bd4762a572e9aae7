"""The opened patient's prior authorizations with their burn-down: approved / used / scheduled / remaining.

    panel = AuthorizationsPanel(services, actor)
    panel.show_patient(patient_id)      # loads on the worker thread

Used and scheduled come from the visits (coded units, or the order's dose for booked
visits); a "?" means a booked dose cannot be computed yet (no weight on file). The bar
shows used (█), scheduled (▒) and remaining (░) out of what was approved. Rows with an
alert (low, expiring, visits outside the window, denied or expired) are tinted and say
why. New authorization… (Alt+N), Edit… (Alt+I, or Enter on a row).
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QTableView, QVBoxLayout, QWidget

from infusion_desk.billing.authorizations import BurnDown
from infusion_desk.services.access import Permission
from infusion_desk.services.authorizations import AuthorizationService, AuthorizationSummary
from infusion_desk.ui.authorization_dialog import AuthorizationDialog
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.patient_rows import PatientRowsPanel
from infusion_desk.ui.tables import RowTableModel, configure_table
from infusion_desk.ui.theme import ERROR, WARNING, tint

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

BAR_WIDTH = 12


def _n(value: Decimal | int | None) -> str:
    if value is None:
        return "?"
    return str(value) if isinstance(value, int) else format(value.normalize(), "f")


def _figures(bd: BurnDown) -> tuple[str, str, str, str]:
    """Approved, used, scheduled, remaining: units when approved in units, else visits."""
    if bd.approved_units is not None:
        return _n(bd.approved_units), _n(bd.used_units), _n(bd.scheduled_units), _n(bd.remaining_units)
    if bd.approved_visits is not None:
        return (
            f"{bd.approved_visits} visits",
            f"{bd.used_visits} visits",
            f"{bd.scheduled_visits} visits",
            f"{bd.remaining_visits} visits",
        )
    return "", _n(bd.used_units), _n(bd.scheduled_units), ""


def burn_bar(bd: BurnDown, width: int = BAR_WIDTH) -> str:
    """A compact text bar: used █, scheduled ▒, remaining ░, scaled to what was approved."""
    if bd.approved_units is not None and bd.approved_units > 0:
        total, used, booked = bd.approved_units, bd.used_units, bd.scheduled_units
    elif bd.approved_visits:
        total, used, booked = (
            Decimal(bd.approved_visits),
            Decimal(bd.used_visits),
            Decimal(bd.scheduled_visits),
        )
    else:
        return ""
    used_cells = min(width, round(used / total * width))
    booked_cells = 0 if booked is None else min(width - used_cells, round(booked / total * width))
    rest = width - used_cells - booked_cells
    bar = "█" * used_cells + "▒" * booked_cells + ("?" if booked is None else "░") * rest
    over = used + (booked or 0) > total
    return bar + (" over" if over else "")


COLUMNS: list[tuple[str, Any]] = [
    ("Number", lambda a: a.number),
    ("Payer / policy", lambda a: a.policy),
    ("Codes", lambda a: ", ".join(a.codes)),
    ("Status", lambda a: a.status_label),
    ("Window", lambda a: f"{us_date(a.valid_from)}–{us_date(a.valid_to)}"),
    ("Approved", lambda a: _figures(a.burn_down)[0]),
    ("Used", lambda a: _figures(a.burn_down)[1]),
    ("Scheduled", lambda a: _figures(a.burn_down)[2]),
    ("Remaining", lambda a: _figures(a.burn_down)[3]),
    ("Burn-down", lambda a: burn_bar(a.burn_down)),
    ("Alerts", lambda a: " ".join(f.message for f in a.alerts)),
]


class AuthorizationTableModel(RowTableModel[AuthorizationSummary]):
    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ToolTipRole) and index.isValid():
            if not 0 <= index.row() < self.rowCount():
                return None
            row = self.row(index.row())
            if not row.alerts:
                return None
            if role == Qt.ItemDataRole.ToolTipRole:
                return "\n".join(f.message for f in row.alerts)
            return tint(ERROR) if any(f.blocks for f in row.alerts) else tint(WARNING)
        return super().data(index, role)


class AuthorizationsPanel(PatientRowsPanel[AuthorizationSummary]):
    plural = "authorizations"

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("authorizationsPanel")
        self._services, self._actor = services, actor
        self._service = AuthorizationService(services.db)
        self.dialog: AuthorizationDialog | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Prior authorizations"))
        self.model = AuthorizationTableModel(COLUMNS, self)
        self.table = configure_table(QTableView(), "authorizationsTable", "Prior authorizations")
        self.table.setModel(self.model)
        self.table.doubleClicked.connect(lambda _index: self.edit_authorization())
        self.table.activated.connect(lambda _index: self.edit_authorization())
        self.status = QLabel("")
        self.status.setObjectName("authorizationsStatus")
        buttons = QHBoxLayout()
        self.new_button = QPushButton("&New authorization…")
        self.new_button.setObjectName("newAuthorization")
        self.edit_button = QPushButton("Ed&it…")
        self.edit_button.setObjectName("editAuthorization")
        for button in (self.new_button, self.edit_button):
            button.setEnabled(False)
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.new_button.clicked.connect(self.new_authorization)
        self.edit_button.clicked.connect(self.edit_authorization)
        layout.addWidget(self.table)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._enable())

    def _fetch(self, patient_id: int) -> Callable[[], tuple[AuthorizationSummary, ...]]:
        actor, service = self._actor, self._service
        return lambda: service.authorizations(actor, patient_id)

    def _enable(self) -> None:
        can_edit = self._actor.can(Permission.PATIENT_EDIT) and self._patient_id is not None
        self.new_button.setEnabled(can_edit)
        self.edit_button.setEnabled(can_edit and self._selected() is not None)

    def _open(self, existing: AuthorizationSummary | None) -> None:
        if self._patient_id is None:
            return
        self.dialog = AuthorizationDialog(self._services, self._actor, self._patient_id, existing, self)
        self.dialog.saved.connect(lambda _id: self.refresh())
        self.dialog.open()

    def new_authorization(self) -> None:
        self._open(None)

    def edit_authorization(self) -> None:
        selected = self._selected()
        if selected is not None and self.edit_button.isEnabled():
            self._open(selected)
