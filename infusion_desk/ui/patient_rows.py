"""A table of one patient's records (orders, authorizations) that loads off the GUI thread.

    class OrdersPanel(PatientRowsPanel[OrderSummary]):
        plural = "orders"
        def _fetch(self, patient_id): return lambda: service.orders(actor, patient_id)

The subclass builds its table, model, status label and buttons; the base class loads the
patient's rows, shows them with a count, keeps the first selected and reports failures.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from PySide6.QtWidgets import QLabel, QTableView, QWidget

from infusion_desk.ui.errors import show_error
from infusion_desk.ui.tables import RowTableModel
from infusion_desk.ui.tasks import TaskRunner

Row = TypeVar("Row")


class PatientRowsPanel(QWidget, Generic[Row]):
    plural = "records"
    model: RowTableModel[Row]
    table: QTableView
    status: QLabel

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = TaskRunner(self)
        self._patient_id: int | None = None

    def _fetch(self, patient_id: int) -> Callable[[], tuple[Row, ...]]:
        """A callable for the worker thread returning the patient's rows."""
        raise NotImplementedError

    def _enable(self) -> None:
        """Enable the buttons for the current patient and selection."""

    def show_patient(self, patient_id: int) -> None:
        self._patient_id = patient_id
        self.refresh()

    def refresh(self) -> None:
        if self._patient_id is None:
            return
        self.status.setText(f"Loading {self.plural}…")
        self._runner.run(self._fetch(self._patient_id), self._show_rows, self._failed)

    def _show_rows(self, rows: tuple[Row, ...]) -> None:
        self.model.set_rows(rows)
        count = f"{len(rows)} {self.plural[:-1]}(s)."
        self.status.setText(count if rows else f"No {self.plural} on file.")
        if rows:
            self.table.selectRow(0)
        self._enable()

    def _failed(self, exc: Any) -> None:
        self.status.setText("")
        show_error(self, exc, retry=self.refresh)

    def _selected(self) -> Row | None:
        indexes = self.table.selectionModel().selectedRows()
        return self.model.row(indexes[0].row()) if indexes else None
