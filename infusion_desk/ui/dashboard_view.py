"""The manager's dashboard: the five numbers checked each morning, each with its trend.

    view = DashboardView(services, manager)                       # ReportService.dashboard, today
    view.openReport.connect(reports_page.open_report)             # a tile opens the report behind it

Each figure is a tile: its label, its value (``$12,340.00``, ``8.5%``, ``42.0 days``), a
sparkline of its recent trend (oldest on the left; the numbers are in the tooltip), and
how it moved from the trend's last period but one to its last — an arrow and the change,
green when it moved the good way (``Figure.better``: a falling denial rate, a rising
collection rate), red when the bad way, grey when it did not move.

Tiles take the keyboard focus (Tab, or the arrow keys between them); Enter, Space or a
click on one emits :attr:`DashboardView.openReport` with the report behind it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Literal, Protocol

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFocusEvent, QKeyEvent, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from infusion_desk.billing.report_model import COUNT, DAYS, MONEY, PERCENT, Figure
from infusion_desk.services.access import Permission
from infusion_desk.ui import theme
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.report_chart import show_month, show_value

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

GOOD = "#1b7a3a"
BAD = "#b00020"
FLAT = "#555555"
TILES_PER_ROW = 5

Verdict = Literal["good", "bad", "flat"]


class DashboardSource(Protocol):
    def dashboard(self, actor: Actor, today: date) -> Sequence[Figure]: ...


def movement(figure: Figure) -> Decimal | None:
    """The change from the trend's last period but one to its last, or None without two periods."""
    if len(figure.trend) < 2:
        return None
    return Decimal(figure.trend[-1][1]) - Decimal(figure.trend[-2][1])


def verdict(figure: Figure) -> Verdict | None:
    """Whether the figure moved the good way (``better`` says which way that is)."""
    change = movement(figure)
    if change is None:
        return None
    if change == 0:
        return "flat"
    return "good" if (change > 0) == (figure.better == "up") else "bad"


def show_change(kind: str, change: Decimal) -> str:
    """A change as the tile says it: ``+$1,200.00``, ``-1.5 pts``, ``+3``, ``+2.0 days``."""
    sign = "+" if change > 0 else "-" if change < 0 else "±"
    size = abs(change)
    if kind == MONEY:
        return f"{sign}{show_value(MONEY, size)}"
    if kind == PERCENT:
        return f"{sign}{size:,.1f} pts"
    if kind == DAYS:
        return f"{sign}{size:,.1f} days"
    if kind == COUNT:
        return f"{sign}{int(size):,}"
    return f"{sign}{size}"


def show_figure(figure: Figure) -> str:
    text = show_value(figure.kind, figure.value)
    return f"{text} days" if figure.kind == DAYS else text


class Sparkline(QWidget):
    """A tiny line of the trend's values, oldest on the left, the latest point marked."""

    def __init__(self, values: Sequence[Decimal], colour: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("dashboardSparkline")
        self.values = tuple(float(v) for v in values)  # floats only to draw
        self._colour = QColor(colour)
        self.setMinimumSize(120, 32)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def points(self) -> list[QPointF]:
        if not self.values:
            return []
        area = QRectF(self.rect()).adjusted(4, 4, -4, -4)
        low, high = min(self.values), max(self.values)
        span = (high - low) or 1.0
        step = area.width() / max(len(self.values) - 1, 1)
        return [
            QPointF(area.left() + step * i, area.bottom() - (v - low) / span * area.height())
            for i, v in enumerate(self.values)
        ]

    def paintEvent(self, event: QPaintEvent) -> None:
        points = self.points()
        if len(points) < 2:
            return
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#2f6ea5"), 1.5))
        painter.drawPolyline(points)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(self._colour)
        painter.drawEllipse(points[-1], 3, 3)
        painter.end()


class FigureTile(QFrame):
    """One dashboard figure; Enter, Space or a click activates it."""

    activated = Signal()

    def __init__(self, figure: Figure, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.figure = figure
        self.setObjectName(f"dashboardTile-{figure.name}")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.verdict = verdict(figure)
        tone = {"good": GOOD, "bad": BAD, "flat": FLAT, None: FLAT}[self.verdict]
        colour = theme.tone_colour(tone).name()  # as is on a light window, lighter on a dark one
        self.colour = colour

        self.label = QLabel(figure.label, self)
        self.label.setObjectName("dashboardTileLabel")
        self.label.setWordWrap(True)
        self.value = QLabel(show_figure(figure), self)
        self.value.setObjectName("dashboardTileValue")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.8)
        font.setBold(True)
        self.value.setFont(font)
        change = movement(figure)
        if change is None:
            said = "No trend yet."
        else:
            arrow = "▲" if change > 0 else "▼" if change < 0 else "▶"
            said = f"{arrow} {show_change(figure.kind, change)} vs {show_month(figure.trend[-2][0])}"
        self.change = QLabel(said, self)
        self.change.setObjectName("dashboardTileChange")
        theme.set_tone(self.change, tone)
        self.sparkline = Sparkline([v for _label, v in figure.trend], colour, self)
        trend = ", ".join(f"{show_month(label)}: {show_value(figure.kind, v)}" for label, v in figure.trend)
        self.setToolTip(f"{figure.label}\n{trend or 'No trend yet.'}\nEnter or click: the report behind it")
        moved = {"good": "the good way", "bad": "the wrong way", "flat": "unchanged", None: ""}[self.verdict]
        self.setAccessibleName(
            f"{figure.label}: {show_figure(figure)}. {said} {moved}. Trend: {trend or 'none'}."
        )

        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.value)
        layout.addWidget(self.change)
        layout.addWidget(self.sparkline)
        self._style(focused=False)

    def _style(self, *, focused: bool) -> None:
        border = "2px solid #2f6ea5" if focused else "1px solid #c8c8c8"
        self.setStyleSheet(f"FigureTile {{ border: {border}; border-radius: 6px; }}")

    def focusInEvent(self, event: QFocusEvent) -> None:
        super().focusInEvent(event)
        self._style(focused=True)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self._style(focused=False)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.activated.emit()
            return
        super().keyPressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.rect().contains(event.position().toPoint()):
            self.setFocus(Qt.FocusReason.MouseFocusReason)
            self.activated.emit()
            return
        super().mouseReleaseEvent(event)


class DashboardView(Page):
    openReport = Signal(str)  # the report's name (``denial-rate``), as ReportsView.open_report takes it

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        source: DashboardSource | None = None,
        today: date | None = None,
    ) -> None:
        super().__init__("dashboard", parent)
        self._services = services
        self._actor = actor
        self._source = source
        self._today = today
        self.tiles: list[FigureTile] = []
        self.grid = QGridLayout()
        self.grid.setSpacing(12)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(self.grid)
        layout.addStretch(1)
        layout.addWidget(self.message)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    @property
    def source(self) -> DashboardSource:
        if self._source is None:
            from infusion_desk.services.reports import ReportService

            self._source = ReportService(self._services.db)
        return self._source

    def refresh(self) -> None:
        self._started = True
        if not self._actor.can(Permission.REPORTS_VIEW):
            self.summary.setText("The dashboard is for accounts that may view reports (managers, billers).")
            return
        super().refresh()

    def _day(self) -> date:
        return self._today or today_local()

    def _load(self) -> tuple[date, Sequence[Figure]]:
        day = self._day()
        return day, self.source.dashboard(self._actor, day)

    def _present(self, value: tuple[date, Sequence[Figure]]) -> None:
        day, figures = value
        had_focus = next((i for i, tile in enumerate(self.tiles) if tile.hasFocus()), None)
        for tile in self.tiles:
            self.grid.removeWidget(tile)
            tile.deleteLater()
        self.tiles = []
        for number, figure in enumerate(figures):
            tile = FigureTile(figure, self)
            tile.activated.connect(lambda figure=figure: self.openReport.emit(figure.report or figure.name))
            self.grid.addWidget(tile, number // TILES_PER_ROW, number % TILES_PER_ROW)
            tile.show()  # now, not when the layout gets to it: focus can only go to a visible tile
            self.tiles.append(tile)
        for first, second in zip(self.tiles, self.tiles[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.tiles[0] if self.tiles else None)
        self.summary.setText(
            f"As of {us_date(day)}. Enter on a figure (or a click) opens the report behind it; F5 refreshes."
            if figures
            else f"No figures as of {us_date(day)}."
        )
        if had_focus is not None and self.tiles:
            self.tiles[min(had_focus, len(self.tiles) - 1)].setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # the arrow keys move between tiles, as between a table's cells
        step = {Qt.Key.Key_Right: 1, Qt.Key.Key_Down: 1, Qt.Key.Key_Left: -1, Qt.Key.Key_Up: -1}.get(
            Qt.Key(event.key())
        )
        current = next((i for i, tile in enumerate(self.tiles) if tile.hasFocus()), None)
        if step is not None and current is not None:
            self.tiles[(current + step) % len(self.tiles)].setFocus(Qt.FocusReason.TabFocusReason)
            return
        super().keyPressEvent(event)

    def tile(self, name: str) -> FigureTile:
        """The tile of the figure called ``name``."""
        return next(tile for tile in self.tiles if tile.figure.name == name)

    def figures(self) -> list[Figure]:
        return [tile.figure for tile in self.tiles]
