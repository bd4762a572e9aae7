"""A report's chart on screen (matplotlib drawn into Qt), and how report figures read as text.

    chart = ReportChart(parent)
    chart.show_report(report)                 # bar, stacked bar or line, as report.chart says
    chart.rowClicked.connect(drill_into)      # a click on a bar (or a line's point): its row

The chart draws the report's rows (never its total row): ``report.chart.x`` names the
column along the bottom, ``report.chart.series`` the columns drawn; the value axis reads
as the first series' kind says (``$12,000`` for money, ``12%`` for a percentage). A
report without a chart, or without rows, shows a line saying so.

:func:`show_value` is the one way a figure reads on the Reports page, in its chart and on
the dashboard: ``show_value(MONEY, Decimal("-12.5"))`` is ``"-$12.50"``.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

os.environ.setdefault("QT_API", "PySide6")  # matplotlib's Qt backend on our binding, never PyQt

import matplotlib  # noqa: E402 - the binding must be chosen first

matplotlib.use("QtAgg")

from matplotlib.backend_bases import MouseEvent  # noqa: E402
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg  # noqa: E402
from matplotlib.figure import Figure as MplFigure  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402
from PySide6.QtCore import QPoint, Signal  # noqa: E402
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget  # noqa: E402

from infusion_desk.billing.report_model import COUNT, DATE, DAYS, MONEY, PERCENT, Report  # noqa: E402
from infusion_desk.ui.formatting import us_date  # noqa: E402

HIT_RADIUS = 8
"""How near (in pixels) a click must land to a line's point to pick it."""

COLOURS = ("#2f6ea5", "#e08a2c", "#4f9a5a", "#b8483e", "#7d5fa6", "#8c6d4f", "#c464a8", "#6b6b6b")


MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")


def show_month(text: str) -> str:
    """A month key as the screens say months: ``2026-11`` is ``11/2026``; other text is left as it is."""
    match = MONTH.fullmatch(text)
    return f"{match[2]}/{match[1]}" if match else text


def show_value(kind: str, value: Any) -> str:
    """A figure as the screens show it: ``$1,234.50``, ``12.5%``, ``1,204``, ``42.3``, ``11/26/2026``.

    A month (``2026-11``, as reports key them) reads ``11/2026``.
    """
    if value is None or value == "":
        return ""
    if kind == MONEY:
        amount = Decimal(value)
        return f"-${-amount:,.2f}" if amount < 0 else f"${amount:,.2f}"
    if kind == PERCENT:
        return f"{Decimal(value):,.1f}%"
    if kind == COUNT:
        return f"{int(value):,}"
    if kind == DAYS:
        return f"{Decimal(value):,.1f}"
    if kind == DATE and isinstance(value, date):
        return us_date(value)
    return show_month(str(value))


def _axis_text(kind: str, value: float) -> str:
    if kind == MONEY:
        return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"
    if kind == PERCENT:
        return f"{value:,.0f}%"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _number(value: Any) -> float:
    # floats only for drawing: every figure the user reads comes from the Decimal
    if value is None or value == "":
        return math.nan
    return float(value)


class ReportChart(QWidget):
    """Draws one report's chart; a click on a bar or point emits that row's index."""

    rowClicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("reportChart")
        self.setAccessibleName("Report chart")
        self.figure = MplFigure(figsize=(6, 3), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setParent(self)
        self.canvas.setObjectName("reportChartCanvas")
        self.canvas.setMinimumHeight(220)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)
        self.report: Report | None = None
        self._bars: list[list[Any]] = []
        """Per row, its bar patches (one per series) — what a click is tested against."""
        self._points: list[tuple[float, float]] = []
        """Per row, the data coordinates of a line chart's first series' point."""
        self.canvas.mpl_connect("button_press_event", self._clicked)
        self.show_report(None)

    @property
    def kind(self) -> str | None:
        return None if self.report is None or self.report.chart is None else self.report.chart.kind

    def show_report(self, report: Report | None) -> None:
        self.report = report
        self._bars = []
        self._points = []
        self.figure.clear()
        axes = self.figure.add_subplot()
        chart = report.chart if report is not None else None
        if report is None or chart is None or not report.rows:
            axes.set_axis_off()
            text = (
                ""
                if report is None
                else "This report has no chart." if chart is None else "Nothing to chart for these dates."
            )
            axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#555555")
            self.canvas.draw_idle()
            return
        x_index = report.column_index(chart.x)
        x_kind = report.columns[x_index].kind
        labels = [show_value(x_kind, row.values[x_index]) for row in report.rows]
        indexes = [report.column_index(key) for key in chart.series]
        series = [(report.columns[index], index) for index in indexes]
        positions = list(range(len(report.rows)))
        if chart.kind == "line":
            for number, (column, index) in enumerate(series):
                values = [_number(row.values[index]) for row in report.rows]
                axes.plot(
                    positions, values, marker="o", label=column.header, color=COLOURS[number % len(COLOURS)]
                )
                if number == 0:
                    self._points = list(zip([float(p) for p in positions], values, strict=True))
        else:
            stacked = chart.kind == "stacked_bar"
            width = 0.8 if stacked or len(series) == 1 else 0.8 / len(series)
            bottoms = [0.0] * len(positions)
            self._bars = [[] for _ in positions]
            for number, (column, index) in enumerate(series):
                values = [_number(row.values[index]) for row in report.rows]
                values = [0.0 if math.isnan(v) else v for v in values]
                if stacked:
                    xs = [float(p) for p in positions]
                else:
                    xs = [p - 0.4 + width * (number + 0.5) for p in positions]
                bars = axes.bar(
                    xs,
                    values,
                    width,
                    bottom=bottoms if stacked else None,
                    label=column.header,
                    color=COLOURS[number % len(COLOURS)],
                )
                for row, patch in enumerate(bars.patches):
                    self._bars[row].append(patch)
                if stacked:
                    bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        value_kind = series[0][0].kind if series else COUNT
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: _axis_text(value_kind, value)))
        crowded = len(labels) > 6
        axes.set_xticks(positions, labels, rotation=30 if crowded else 0, ha="right" if crowded else "center")
        axes.set_title(chart.title or report.title, fontsize=10)
        axes.grid(axis="y", alpha=0.3)
        axes.spines[["top", "right"]].set_visible(False)
        if len(series) > 1:
            axes.legend(fontsize=8, frameon=False)
        self.canvas.draw_idle()

    # -- drill-down -------------------------------------------------------------------------------

    def row_at(self, event: MouseEvent) -> int | None:
        """The row whose bar (or line point) is under a click, if any."""
        if event.inaxes is None:
            return None
        for row, patches in enumerate(self._bars):
            if any(patch.contains(event)[0] for patch in patches):
                return row
        if self._points:
            axes = event.inaxes
            best, nearest = None, float(HIT_RADIUS)
            for row, point in enumerate(self._points):
                if math.isnan(point[1]):
                    continue
                px, py = axes.transData.transform(point)
                distance = math.hypot(px - event.x, py - event.y)
                if distance <= nearest:
                    best, nearest = row, distance
            return best
        return None

    def _clicked(self, event: Any) -> None:
        if event.button != 1:
            return
        row = self.row_at(event)
        if row is not None:
            self.rowClicked.emit(row)

    def point_of(self, row: int) -> QPoint:
        """Where row ``row``'s bar (its top segment's middle) or point is, in the canvas's coordinates."""
        self.canvas.draw()  # the layout settles on a draw; positions are only right after one
        if self._bars:
            patch = self._bars[row][-1]
            box = patch.get_window_extent()
            x, y = (box.x0 + box.x1) / 2, (box.y0 + box.y1) / 2
        else:
            axes = self.figure.axes[0]
            x, y = axes.transData.transform(self._points[row])
        ratio = self.canvas.device_pixel_ratio or 1
        return QPoint(round(x / ratio), round(self.canvas.height() - y / ratio))

    def series_heights(self) -> Sequence[Sequence[float]]:
        """Per row, the drawn height of each series' bar (what the chart shows, for checking)."""
        return [[patch.get_height() for patch in patches] for patches in self._bars]
