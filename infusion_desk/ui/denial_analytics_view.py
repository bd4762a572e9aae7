"""Denial figures for managers (Manager workspace): how often payers deny, why, on what, and what is open.

    view = DenialAnalyticsView(services, manager)            # twelve months to today
    view = DenialAnalyticsView(services, manager, today=date(2026, 11, 20))

The page reads :meth:`DenialService.analytics` on the worker thread: the denial rate over
the claims the payers answered since the **Since** date (twelve calendar months by default),
by payer and by month; denied dollars by category and by code (the drug or administration
code denied); open denial dollars by how long ago the payer decided; and what appeals
recovered. Each table sorts by any column (click its header). **Export CSV…**
(Ctrl+Shift+S) writes what is shown, table by table in the order shown, with plain numbers
a spreadsheet can add up. The figures need the reports permission (managers, billers).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import QModelIndex, QObject, QPersistentModelIndex, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Permission
from infusion_desk.services.denials import AGE_BUCKETS, AmountRow, DenialAnalytics, DenialService, RateRow
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.tables import RowTableModel, configure_table

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

Row = TypeVar("Row")
_Index = QModelIndex | QPersistentModelIndex
SORT_ROLE = Qt.ItemDataRole.UserRole + 1

ChoosePath = Callable[[QWidget, str], str | None]
"""(parent, suggested file name) -> where to write the CSV, or None when cancelled."""


def ask_csv_path(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(
        parent, "Export denial figures", suggested, "CSV files (*.csv);;All files (*)"
    )
    return path or None


def twelve_months_back(today: date) -> date:
    """The first day of the month eleven months before ``today``'s: twelve calendar months in all."""
    months = today.year * 12 + today.month - 1 - 11
    return date(months // 12, months % 12 + 1, 1)


@dataclass(frozen=True, slots=True)
class Col(Generic[Row]):
    """One column: its header, what the screen shows, how it sorts and what the CSV gets."""

    header: str
    show: Callable[[Row], str]
    key: Callable[[Row], Any]
    """A sort key Qt compares natively (an int or a str): money in cents, rates in tenths."""
    raw: Callable[[Row], str]


AGE_ORDER = {label: order for order, (_limit, label) in enumerate(AGE_BUCKETS)}


def _dollars(amount: Decimal) -> str:
    return f"${amount:,.2f}"


def _cents(amount: Decimal) -> int:
    return int(amount * 100)


def _month(key: str) -> str:
    """``2026-11`` as the screen says months: ``11/2026``."""
    year, _, month = key.partition("-")
    return f"{month}/{year}" if month else key


def _denied_claims(row: RateRow) -> str:
    return str(row.denied_claims)


def _rate_columns(name: str, show_key: Callable[[str], str] = str) -> tuple[Col[RateRow], ...]:
    return (
        Col(name, lambda r: show_key(r.key), lambda r: r.key, lambda r: show_key(r.key)),
        Col("Claims answered", lambda r: str(r.claims), lambda r: r.claims, lambda r: str(r.claims)),
        Col("With a denial", lambda r: str(r.denied_claims), lambda r: r.denied_claims, _denied_claims),
        Col("Denial rate", lambda r: f"{r.rate}%", lambda r: int(r.rate * 10), lambda r: str(r.rate)),
        Col(
            "Denied",
            lambda r: _dollars(r.denied_amount),
            lambda r: _cents(r.denied_amount),
            lambda r: str(r.denied_amount),
        ),
    )


def _amount_columns(
    name: str, key: Callable[[AmountRow], Any] | None = None, *, with_rate: bool = False
) -> tuple[Col[AmountRow], ...]:
    rate = (
        Col("Claims denied", lambda r: str(r.claims), lambda r: r.claims, lambda r: str(r.claims)),
        Col("Denial rate", lambda r: f"{r.rate}%", lambda r: int(r.rate * 10), lambda r: str(r.rate)),
    )
    return (
        Col(name, lambda r: r.key, key or (lambda r: r.key), lambda r: r.key),
        Col("Denials", lambda r: str(r.items), lambda r: r.items, lambda r: str(r.items)),
        *(rate if with_rate else ()),
        Col("Amount", lambda r: _dollars(r.amount), lambda r: _cents(r.amount), lambda r: str(r.amount)),
    )


class SortableModel(RowTableModel[Row]):
    """The shared read-only table model, plus a sort key per cell under :data:`SORT_ROLE`."""

    def __init__(self, columns: Sequence[Col[Row]], parent: QObject | None = None) -> None:
        super().__init__([(c.header, c.show) for c in columns], parent)
        self.columns = tuple(columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == SORT_ROLE and index.isValid() and 0 <= index.row() < self.rowCount():
            return self.columns[index.column()].key(self.row(index.row()))
        return super().data(index, role)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if role == Qt.ItemDataRole.InitialSortOrderRole and orientation == Qt.Orientation.Horizontal:
            # a click on a figure's header puts the largest first; on the name column, A to Z
            return Qt.SortOrder.AscendingOrder if section == 0 else Qt.SortOrder.DescendingOrder
        return super().headerData(section, orientation, role)


@dataclass
class _Table(Generic[Row]):
    title: str
    model: SortableModel[Row]
    proxy: QSortFilterProxyModel
    view: QTableView

    def shown(self) -> list[Row]:
        """The rows in the order the table shows them now (after sorting)."""
        return [
            self.model.row(self.proxy.mapToSource(self.proxy.index(i, 0)).row())
            for i in range(self.proxy.rowCount())
        ]


def write_csv(path: Path, blocks: Sequence[tuple[str, Sequence[str], Sequence[Sequence[str]]]]) -> None:
    """Each block is a title, its column headers and its rows, followed by an empty line."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        out = csv.writer(handle)
        for title, headers, rows in blocks:
            out.writerow([title])
            if headers:
                out.writerow(headers)
            out.writerows(rows)
            out.writerow([])


class DenialAnalyticsView(Page):
    exported = Signal(str)  # the CSV written

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        today: date | None = None,
        choose_path: ChoosePath | None = None,
    ) -> None:
        super().__init__("denialAnalytics", parent)
        self._actor = actor
        self._service = DenialService(services.db)
        self._today = today
        self._choose_path = choose_path or ask_csv_path
        self._since = twelve_months_back(today or today_local())
        self.figures: DenialAnalytics | None = None
        allowed = actor.can(Permission.REPORTS_VIEW)

        self.since = QLineEdit(us_date(self._since), self)
        self.since.setObjectName("denialAnalyticsSince")
        self.since.setPlaceholderText("MM/DD/YYYY")
        self.since.setToolTip("Count the claims payers answered on or after this date")
        self.since.setMaximumWidth(120)
        self.since.returnPressed.connect(self.refresh)
        since_label = QLabel("&Since", self)
        since_label.setBuddy(self.since)
        self.show_button = QPushButton("Sho&w", self)
        self.show_button.setObjectName("denialAnalyticsShow")
        self.show_button.clicked.connect(self.refresh)
        self.export_button = QPushButton("E&xport CSV…  (Ctrl+Shift+S)", self)
        self.export_button.setObjectName("denialAnalyticsExport")
        self.export_button.setToolTip("Write the figures shown to a CSV file for a spreadsheet")
        self.export_button.clicked.connect(self.export_csv)
        self.export_button.setEnabled(False)
        for widget in (self.since, self.show_button):
            widget.setEnabled(allowed)
        top = QHBoxLayout()
        top.addWidget(since_label)
        top.addWidget(self.since)
        top.addWidget(self.show_button)
        top.addStretch(1)
        top.addWidget(self.export_button)
        self.recovered = QLabel("", self)
        self.recovered.setObjectName("denialAnalyticsRecovered")

        self.by_payer = self._table("Denial rate by payer", "denialRateByPayer", _rate_columns("Payer"))
        self.by_month = self._table(
            "Denial rate by month", "denialRateByMonth", _rate_columns("Month", _month)
        )
        self.by_category = self._table(
            "Denials by category", "deniedByCategory", _amount_columns("Category", with_rate=True)
        )
        self.by_code = self._table(
            "Denials by code (drug or administration)",
            "deniedByCode",
            _amount_columns("Code", with_rate=True),
        )
        self.open_by_age = self._table(
            "Open denial dollars by age (days since the payer's decision)",
            "openDenialsByAge",
            # buckets keep their own order (0-30 days first), not the alphabet's
            _amount_columns("Age", key=lambda r: AGE_ORDER.get(r.key, len(AGE_ORDER))),
        )
        grid = QGridLayout()
        placed = (
            (self.by_payer, "By &payer", 0, 0),
            (self.by_month, "By &month", 0, 1),
            (self.by_category, "By &category", 2, 0),
            (self.by_code, "By c&ode (drug or administration)", 2, 1),
            (self.open_by_age, "Open denials by &age", 4, 0),
        )
        for table, text, row, col in placed:
            label = QLabel(text, self)
            label.setBuddy(table.view)
            grid.addWidget(label, row, col)
            grid.addWidget(table.view, row + 1, col)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(self.recovered)
        layout.addLayout(grid, 1)
        layout.addWidget(self.message)
        QShortcut(QKeySequence("Ctrl+Shift+S"), self, self.export_csv)
        chain: list[QWidget] = [
            self.since,
            self.show_button,
            self.export_button,
            *(table.view for table, *_rest in placed),
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.since)

    def _table(self, title: str, name: str, columns: Sequence[Col[Row]]) -> _Table[Row]:
        model: SortableModel[Row] = SortableModel(columns, self)
        proxy = QSortFilterProxyModel(self)
        proxy.setSourceModel(model)
        proxy.setSortRole(SORT_ROLE)
        view = configure_table(QTableView(self), name, title)
        view.setModel(proxy)
        view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # as the service ordered
        view.setSortingEnabled(True)
        return _Table(title, model, proxy, view)

    # -- loading ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        self._started = True
        if not self._actor.can(Permission.REPORTS_VIEW):
            self.summary.setText("Denial figures are for accounts that may view reports (managers, billers).")
            return
        try:
            self._since = datetime.strptime(self.since.text().strip(), "%m/%d/%Y").date()  # noqa: DTZ007
        except ValueError:
            self.say("Since: type a date as MM/DD/YYYY, for example 12/01/2025.", error=True)
            return
        self.say("")
        super().refresh()

    def _load(self) -> DenialAnalytics:
        return self._service.analytics(self._actor, self._since, self._today)

    def _present(self, figures: DenialAnalytics) -> None:
        self.figures = figures
        overall = figures.overall
        if overall.claims:
            self.summary.setText(
                f"Since {us_date(figures.since)}: {overall.rate}% of the {overall.claims} claim(s) the "
                f"payers answered had a denial ({overall.denied_claims} claim(s), "
                f"{_dollars(overall.denied_amount)} denied)."
            )
        else:
            self.summary.setText(f"No claims answered by the payers since {us_date(figures.since)}.")
        self.recovered.setText(f"Recovered by appeals: {_dollars(figures.recovered)}.")
        self.by_payer.model.set_rows(figures.by_payer)
        self.by_month.model.set_rows(figures.by_month)
        self.by_category.model.set_rows(figures.by_category)
        self.by_code.model.set_rows(figures.by_code)
        self.open_by_age.model.set_rows(figures.open_by_age)
        self.export_button.setEnabled(True)

    def tables(self) -> tuple[_Table[Any], ...]:
        return (self.by_payer, self.by_month, self.by_category, self.by_code, self.open_by_age)

    # -- export -----------------------------------------------------------------------------------

    def export_csv(self) -> None:
        figures = self.figures
        if figures is None or not self.export_button.isEnabled():
            return
        chosen = self._choose_path(self, f"denials-since-{figures.since.isoformat()}.csv")
        if not chosen:
            return
        path = Path(chosen)
        overall = figures.overall
        blocks: list[tuple[str, Sequence[str], Sequence[Sequence[str]]]] = [
            (
                f"Denial analytics since {us_date(figures.since)}",
                ["Claims answered", "With a denial", "Denial rate %", "Denied", "Recovered by appeals"],
                [
                    [
                        str(overall.claims),
                        str(overall.denied_claims),
                        str(overall.rate),
                        str(overall.denied_amount),
                        str(figures.recovered),
                    ]
                ],
            )
        ]
        for table in self.tables():
            columns = table.model.columns
            blocks.append(
                (
                    table.title,
                    [c.header + (" %" if c.header == "Denial rate" else "") for c in columns],
                    [[c.raw(row) for c in columns] for row in table.shown()],
                )
            )
        self.export_button.setEnabled(False)
        self.say(f"Writing {path.name}…")
        self._runner.run(
            lambda: write_csv(path, blocks), lambda _none: self._written(path), self._export_failed
        )

    def _written(self, path: Path) -> None:
        self.export_button.setEnabled(True)
        self.say(f"Wrote {path}.")
        self.exported.emit(str(path))

    def _export_failed(self, exc: Exception) -> None:
        self.export_button.setEnabled(True)
        if isinstance(exc, OSError):  # a folder that is read-only or gone, a full disk: choose another place
            self.say(f"Could not write the CSV ({exc.strerror or exc}); choose another folder.", error=True)
        else:
            self.say(describe(exc), error=True)
            show_error(self, exc)

