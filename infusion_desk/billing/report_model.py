"""The shape every manager's report and dashboard figure takes, whatever it measures.

A report is a table (columns with a kind, rows of values), an optional total row, the chart
that draws it, and notes that show how a figure is computed ("Days in A/R = total A/R ÷
average daily charges over the last 90 days"). Each row keeps the ids of the claims behind
it, so a screen can drill from any figure into those claims. The exporters (CSV, XLSX, PDF)
and the screens read only this, so a new report needs no new export or screen code.

    >>> from decimal import Decimal
    >>> report = Report(
    ...     name="aging", title="A/R aging", start=None, end=date(2026, 11, 30),
    ...     columns=(Column("payer", "Payer", TEXT), Column("total", "Total", MONEY)),
    ...     rows=(Row(("Fictional Health Plan", Decimal("1200.00")), claim_ids=(7, 9)),),
    ... )
    >>> report.column_index("total"), report.rows[0].value(report, "total")
    (1, Decimal('1200.00'))
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final, Literal

Kind = Literal["text", "money", "count", "percent", "days", "date"]

TEXT: Final = "text"
MONEY: Final = "money"
"""A Decimal amount in dollars, to the cent."""
COUNT: Final = "count"
PERCENT: Final = "percent"
"""A Decimal percentage (``Decimal("12.5")`` is 12.5%)."""
DAYS: Final = "days"
"""A Decimal number of days."""
DATE: Final = "date"


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    header: str
    kind: Kind = TEXT


@dataclass(frozen=True, slots=True)
class Row:
    values: tuple[Any, ...]
    claim_ids: tuple[int, ...] = ()
    """The claims behind this row's figures: what a drill-down lists."""

    def value(self, report: Report, key: str) -> Any:
        return self.values[report.column_index(key)]


@dataclass(frozen=True, slots=True)
class Chart:
    """How the report is drawn: ``x`` names the category column, ``series`` the value columns."""

    kind: Literal["bar", "stacked_bar", "line"]
    x: str
    series: tuple[str, ...]
    title: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    name: str
    """The report's command-line name (``aging``, ``days-in-ar``...)."""
    title: str
    start: date | None
    end: date
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    total: Row | None = None
    chart: Chart | None = None
    notes: tuple[str, ...] = ()
    """How the figures are computed, in words (formulas shown to the reader)."""

    def column_index(self, key: str) -> int:
        for index, column in enumerate(self.columns):
            if column.key == key:
                return index
        raise KeyError(f"report {self.name!r} has no column {key!r}")


@dataclass(frozen=True, slots=True)
class Figure:
    """One dashboard number with its recent trend (oldest first) and the report behind it."""

    name: str
    label: str
    value: Decimal
    kind: Kind
    trend: tuple[tuple[str, Decimal], ...] = field(default=())
    """(period label, value) pairs, e.g. the last six months."""
    better: Literal["up", "down"] = "up"
    """Which way is good: a rising collection rate, a falling denial rate."""
    report: str = ""
    """The report (by name) a click on the figure opens."""
