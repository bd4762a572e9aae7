"""A table of visits (the chair list, the coding queue) built from service ``VisitRow``s.

    model = VisitTableModel(NURSING_COLUMNS)
    model.set_rows(services.visits.day_list(actor, today))

The columns are data, so the nursing and billing workspaces share one model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QWidget

from infusion_desk.services.visits import VisitRow
from infusion_desk.ui.formatting import STATUS_LABELS, local_time, us_date

_Index = QModelIndex | QPersistentModelIndex
Column = tuple[str, Callable[[VisitRow], str]]

NURSING_COLUMNS: tuple[Column, ...] = (
    ("Chair", lambda v: v.chair or "—"),
    ("Time", lambda v: local_time(v.scheduled_start)),
    ("Patient", lambda v: v.patient_name),
    ("Drug", lambda v: v.drug or ""),
    ("Status", lambda v: STATUS_LABELS.get(v.status, str(v.status))),
)

CODING_COLUMNS: tuple[Column, ...] = (
    ("Date of service", lambda v: us_date(v.date_of_service)),
    ("Patient", lambda v: v.patient_name),
    ("MRN", lambda v: v.mrn),
    ("Drug", lambda v: v.drug or ""),
    ("Chair", lambda v: v.chair or "—"),
)


class VisitTableModel(QAbstractTableModel):
    def __init__(self, columns: tuple[Column, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._columns = columns
        self._rows: list[VisitRow] = []

    def set_rows(self, rows: list[VisitRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def visit(self, row: int) -> VisitRow:
        return self._rows[row]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[index.column()][1](self._rows[index.row()])
        if role == Qt.ItemDataRole.UserRole:
            return self._rows[index.row()].id
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._columns)
        ):
            return self._columns[section][0]
        return None

