"""Read-only tables: one generic model over records, and the shared view set-up (whole rows, no editing).

    view = configure_table(QTableView(self), "claimsTable", "Claims")
    view.setModel(RowTableModel(CLAIM_COLUMNS, view))

Every table remembers its columns on this workstation under its name: the columns fit their
contents when rows first arrive (measuring the rows on screen, not all of them), the user can
drag a column wider or to another place, and that layout comes back the next time the table
is built, until "Fit columns to contents" (the header's context menu) forgets it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QByteArray,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QHelpEvent
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QToolTip
from shiboken6 import isValid

from infusion_desk.ui.code_help import column_help
from infusion_desk.ui.workstation import workstation_settings

Row = TypeVar("Row")
Column = tuple[str, Callable[[Row], str]]
_Index = QModelIndex | QPersistentModelIndex

FIT_ROWS = 100
"""Rows measured beyond those on screen when columns fit their contents (a big table stays quick)."""
SAVE_DELAY_MS = 250


def configure_table(view: QTableView, name: str, accessible_name: str) -> QTableView:
    view.setObjectName(name)
    view.setAccessibleName(accessible_name)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)  # Tab moves to the next control, arrows move between rows
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    view.horizontalHeader().setStretchLastSection(True)
    view.horizontalHeader().setSectionsMovable(True)
    ColumnMemory(view, name)
    return view


def header_tooltip(view: QTableView, logical: int) -> str:
    """The tooltip of a column header: the model's own, else what the code in that column is."""
    model = view.horizontalHeader().model()
    if model is None or not 0 <= logical < model.columnCount():
        return ""
    own = model.headerData(logical, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    if own:
        return str(own)
    title = str(model.headerData(logical, Qt.Orientation.Horizontal) or "")
    return column_help(view.objectName(), title)


def header_key(name: str) -> str:
    """Where a table's column layout is kept in the workstation settings."""
    return f"tables/{name}/header"


class ColumnMemory(QObject):
    """Fits a table's columns to its rows and remembers the user's widths and order under ``name``.

    The saved layout is the header's own state together with the column titles it was made
    for, so a table whose columns changed (another role's view, a newer version) starts fitted
    instead of restoring widths that belong to other columns. The sort indicator is not
    restored: a table opens in the order its service gives.
    """

    def __init__(self, view: QTableView, name: str) -> None:
        super().__init__(view)
        self.setObjectName(f"{name}ColumnMemory")
        self._view = view
        self._header = view.horizontalHeader()
        self._name = name
        self._model: QAbstractItemModel | None = None
        self._busy = False  # our own resizes and restores are not the user's
        self._by_hand = False
        self._restored_for: tuple[str, ...] | None = None
        self._fit_pending = False
        self._dirty = False
        self._save_timer = QTimer(self)
        self._save_timer.setSingleShot(True)
        self._save_timer.setInterval(SAVE_DELAY_MS)  # a drag resizes many times; write once it rests
        self._save_timer.timeout.connect(self.flush)
        # Column widths come from the rows on screen plus FIT_ROWS more, never from every row.
        view.verticalHeader().setResizeContentsPrecision(FIT_ROWS)
        self._header.setResizeContentsPrecision(FIT_ROWS)
        self._header.sectionCountChanged.connect(self._columns_changed)
        self._header.sectionResized.connect(self._resized)
        self._header.sectionMoved.connect(self._moved)
        view.installEventFilter(self)
        self._header.viewport().installEventFilter(self)
        self.fit_action = QAction("&Fit columns to contents", self._header)
        self.fit_action.setObjectName(f"{name}FitColumns")
        self.fit_action.triggered.connect(self.forget)
        self._header.addAction(self.fit_action)
        self._header.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)

    @property
    def by_hand(self) -> bool:
        """Whether the user has sized or moved the columns (now or in an earlier session)."""
        return self._by_hand

    def forget(self) -> None:
        """Drop the remembered layout: columns back in their first order, fitted to the rows."""
        workstation_settings().remove(f"tables/{self._name}")
        self._by_hand = False
        self._busy = True
        try:
            for logical in range(self._header.count()):
                visual = self._header.visualIndex(logical)
                if visual != logical:
                    self._header.moveSection(visual, logical)
        finally:
            self._busy = False
        self._fit()

    # -- following the model ---------------------------------------------------------------

    def _alive(self) -> bool:
        # Qt may still signal while the view is being destroyed around us.
        return isValid(self._view) and isValid(self._header)

    def _columns_changed(self, _old: int, _new: int) -> None:
        if not self._alive():
            return
        self._follow_model()
        self._restore()
        self._schedule_fit()

    def _follow_model(self) -> None:
        model = self._header.model()
        if model is self._model:
            return
        if self._model is not None:
            for signal in (self._model.modelReset, self._model.rowsInserted, self._model.headerDataChanged):
                try:
                    signal.disconnect(self._rows_changed)
                except (RuntimeError, TypeError):  # already gone with its model
                    pass
        self._model = model
        if model is not None:
            model.modelReset.connect(self._rows_changed)
            model.rowsInserted.connect(self._rows_changed)
            model.headerDataChanged.connect(self._rows_changed)

    def _rows_changed(self, *_args: object) -> None:
        if not self._alive():
            return
        self._restore()
        self._schedule_fit()

    def _titles(self) -> tuple[str, ...]:
        model = self._header.model()
        if model is None:
            return ()
        return tuple(
            str(model.headerData(column, Qt.Orientation.Horizontal) or "")
            for column in range(model.columnCount())
        )

    def _restore(self) -> None:
        titles = self._titles()
        if not titles or titles == self._restored_for:
            return
        self._restored_for = titles
        settings = workstation_settings()
        saved = settings.value(header_key(self._name))
        if list(titles) != _as_list(settings.value(f"tables/{self._name}/columns")) or not isinstance(
            saved, QByteArray
        ):
            return
        section, order = self._header.sortIndicatorSection(), self._header.sortIndicatorOrder()
        self._busy = True
        try:
            if self._header.restoreState(saved):
                self._by_hand = True
                self._header.setSortIndicator(section, order)
                self._header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        finally:
            self._busy = False

    # -- fitting ----------------------------------------------------------------------------

    def _schedule_fit(self) -> None:
        # Rows often arrive one by one (appendRow); fit once they are all in.
        if self._by_hand or self._fit_pending:
            return
        self._fit_pending = True
        QTimer.singleShot(0, self, self._fit_when_shown)

    def _fit_when_shown(self) -> None:
        self._fit_pending = False
        # Hidden, Qt would measure every row: the Show event fits instead.
        if self._alive() and self._view.isVisible():
            self._fit()

    def _fit(self) -> None:
        model = self._header.model()
        if self._by_hand or model is None or model.columnCount() == 0:
            return
        self._busy = True
        try:
            self._view.resizeColumnsToContents()
        finally:
            self._busy = False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not self._alive():
            return False
        if watched is self._view and event.type() == QEvent.Type.Show:
            self._schedule_fit()
        elif watched is self._view and event.type() == QEvent.Type.Hide:
            self.flush()  # a dialog closing keeps the layout its user just made
        elif event.type() == QEvent.Type.ToolTip and isinstance(event, QHelpEvent):
            text = header_tooltip(self._view, self._header.logicalIndexAt(event.pos()))
            if text:
                QToolTip.showText(event.globalPos(), text, self._header)
                return True
        return False

    # -- the user's hand --------------------------------------------------------------------

    def _resized(self, logical: int, _old: int, _new: int) -> None:
        if self._busy or not self._alive():
            return
        last = self._header.logicalIndex(self._header.count() - 1)
        if self._header.stretchLastSection() and logical == last:
            return  # the last column follows the window's width, not the user's hand
        self._save()

    def _moved(self, _logical: int, _old_visual: int, _new_visual: int) -> None:
        if not self._busy and self._alive():
            self._save()

    def _save(self) -> None:
        if self._titles():
            self._by_hand = True
            self._dirty = True
            self._save_timer.start()

    def flush(self) -> None:
        """Write a layout the user changed that is still waiting for the drag to rest."""
        if not self._dirty or not self._alive():
            return
        self._dirty = False
        self._save_timer.stop()
        titles = self._titles()
        if not titles:
            return
        self._restored_for = titles
        settings = workstation_settings()
        settings.setValue(header_key(self._name), self._header.saveState())
        settings.setValue(f"tables/{self._name}/columns", list(titles))


def _as_list(value: object) -> list[str]:
    if isinstance(value, str):  # QSettings gives a one-item list back as a plain string
        return [value]
    return [str(item) for item in value] if isinstance(value, list) else []


class RowTableModel(QAbstractTableModel, Generic[Row]):
    """A read-only table over a list of records, one column per (header, formatter).

    The finder's results, a patient's policies and the chair list all use it; the
    columns are data, so no model class repeats Qt's row/column bookkeeping.
    """

    def __init__(self, columns: Sequence[Column[Row]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._columns = tuple(columns)
        self._rows: list[Row] = []

    def set_rows(self, rows: Iterable[Row]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def find(self, key: Callable[[Row], object], value: object) -> int | None:
        """The first row whose ``key`` is ``value`` (a record's id, say): to pick it again after a reload."""
        return next((i for i, row in enumerate(self._rows) if key(row) == value), None)

    def row(self, index: int) -> Row:
        return self._rows[index]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        record = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self._columns[index.column()][1](record)
        if role == Qt.ItemDataRole.UserRole:
            return getattr(record, "id", None)
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
