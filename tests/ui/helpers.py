"""What a user sees in a table, read through the view's model."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QTableView


def column(view: QTableView, header: str) -> list[str]:
    model = view.model()
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    col = headers.index(header)
    return [model.index(row, col).data() for row in range(model.rowCount())]
