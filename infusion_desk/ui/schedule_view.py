"""The chair schedule on screen: a day (chairs across, time down) or a week of blocks to book and drag.

    view = ScheduleView(services, actor)
    view.set_patient(patient_id)            # "Book…" (Ctrl+B / Insert) books this patient at the cursor
    view.bookingChanged.connect(check_in_list.refresh)
    view.openPatient.connect(front_desk.open_patient)

Keys: arrows move the slot cursor (a booking under it is selected), PageUp/PageDown or
Alt+Left/Alt+Right go to the previous/next day or week, Ctrl+T to today, Alt+D / Alt+W switch
day and week, Ctrl+B or Insert books, Ctrl+M moves the selected booking, Delete cancels it,
Alt+H marks a no-show, Enter opens the patient. A block dragged with the mouse snaps to
chairs and slots; on release the move is asked of the service, and a refused move puts the
block back and says why. Everything is loaded and saved off the GUI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

import shiboken6
from PySide6.QtCore import QDate, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QBrush,
    QColor,
    QContextMenuEvent,
    QFont,
    QKeyEvent,
    QKeySequence,
    QPainter,
    QPen,
    QResizeEvent,
    QShortcut,
)
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGraphicsItem,
    QGraphicsRectItem,
    QGraphicsScene,
    QGraphicsSceneMouseEvent,
    QGraphicsSimpleTextItem,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QStyleOptionGraphicsItem,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import VisitStatus
from infusion_desk.services.access import Permission
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.schedule import Booking, ScheduleService, ScheduleSetup
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import STATUS_LABELS, today_local, us_date
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

GUTTER = 70.0
"""Width of the time column on the left."""

STATUS_COLOURS: dict[VisitStatus, tuple[str, str]] = {
    VisitStatus.SCHEDULED: ("#d6e6ff", "#2f5f9e"),
    VisitStatus.CHECKED_IN: ("#ffe9a8", "#9a7410"),
    VisitStatus.IN_CHAIR: ("#c9efcf", "#23794a"),
    VisitStatus.COMPLETED: ("#e3e3e3", "#6b6b6b"),
    VisitStatus.CANCELLED: ("#f7d7d7", "#a33a3a"),
    VisitStatus.NO_SHOW: ("#ead4f2", "#6f3a8c"),
}
"""(fill, border) of a block by visit status; the status is also written in the block and its tooltip."""


def clock_text(value: time | datetime) -> str:
    return value.strftime("%I:%M %p").lstrip("0")


def week_of(day: date) -> tuple[date, ...]:
    """The Monday-to-Sunday week holding ``day``."""
    monday = day - timedelta(days=day.weekday())
    return tuple(monday + timedelta(days=n) for n in range(7))


@dataclass(frozen=True)
class Place:
    """A cell of the grid: which day, which chair and when (clinic-local, aware)."""

    day: date
    chair_id: int
    chair_name: str
    start: datetime


class Grid:
    """Where days, chairs and times are on the scene, and back: one column per (day, chair)."""

    def __init__(
        self, setup: ScheduleSetup, days: tuple[date, ...], *, week: bool, available_width: float = 0
    ) -> None:
        self.setup, self.days, self.week = setup, days, week
        self.zone = setup.zone
        columns = max(len(days) * len(setup.chairs), 1)
        # Columns share the visible width, within limits that keep a block's label readable.
        fitted = (available_width - GUTTER - 2) / columns
        self.column_width = float(int(min(max(fitted, 34.0 if week else 150.0), 90.0 if week else 260.0)))
        self.slot_height = 10.0 if week else 22.0
        self.header = 44.0 if week else 28.0
        opens = datetime.combine(date(2000, 1, 1), setup.opens)
        closes = datetime.combine(date(2000, 1, 1), setup.closes)
        self.slot_count = max(int((closes - opens).total_seconds() // 60 // setup.slot_minutes), 1)
        self.columns = [(day, chair) for day in days for chair in setup.chairs]

    @property
    def width(self) -> float:
        return GUTTER + len(self.columns) * self.column_width

    @property
    def height(self) -> float:
        return self.header + self.slot_count * self.slot_height

    def slot_start(self, day: date, slot: int) -> datetime:
        opening = datetime.combine(day, self.setup.opens, self.zone)
        return opening + timedelta(minutes=slot * self.setup.slot_minutes)

    def column_of(self, day: date, chair_id: int | None) -> int | None:
        for index, (column_day, chair) in enumerate(self.columns):
            if column_day == day and chair.id == chair_id:
                return index
        return None

    def rect_for(self, booking: Booking) -> QRectF | None:
        column = self.column_of(booking.day, booking.chair_id)
        if column is None:
            return None
        local = booking.start.astimezone(self.zone)
        minutes = (local - datetime.combine(local.date(), self.setup.opens, self.zone)).total_seconds() / 60
        y = self.header + max(minutes, 0) / self.setup.slot_minutes * self.slot_height
        height = max(booking.expected_minutes / self.setup.slot_minutes * self.slot_height, self.slot_height)
        return QRectF(GUTTER + column * self.column_width, y, self.column_width, height)

    def cell_at(self, point: QPointF) -> tuple[int, int]:
        """The (column, slot) under ``point``, kept inside the grid."""
        column = int((point.x() - GUTTER) // self.column_width)
        slot = int((point.y() - self.header) // self.slot_height)
        return (min(max(column, 0), len(self.columns) - 1), min(max(slot, 0), self.slot_count - 1))

    def snap(self, top_left: QPointF) -> QPointF:
        """The nearest column and slot for a block being dragged to ``top_left``."""
        column = round((top_left.x() - GUTTER) / self.column_width)
        slot = round((top_left.y() - self.header) / self.slot_height)
        column = min(max(column, 0), len(self.columns) - 1)
        slot = min(max(slot, 0), self.slot_count - 1)
        return QPointF(GUTTER + column * self.column_width, self.header + slot * self.slot_height)

    def cell_rect(self, column: int, slot: int) -> QRectF:
        return QRectF(GUTTER + column * self.column_width, self.header + slot * self.slot_height,
                      self.column_width, self.slot_height)

    def place(self, column: int, slot: int) -> Place:
        day, chair = self.columns[column]
        return Place(day, chair.id, chair.name, self.slot_start(day, slot))


class BookingBlock(QGraphicsRectItem):
    """One booking: coloured by status, labelled, draggable when it may still move."""

    def __init__(self, booking: Booking, grid: Grid, rect: QRectF, *, movable: bool,
                 on_drop: Callable[[BookingBlock], None]) -> None:
        freed = not booking.holds_chair
        width = rect.width() * (0.35 if freed else 1.0)
        super().__init__(0, 0, width - 2, rect.height() - 1)
        self.booking, self._grid, self._on_drop = booking, grid, on_drop
        self.home = QPointF(rect.x() + (rect.width() - width) + 1, rect.y())
        self.setPos(self.home)
        self.setZValue(1 if freed else 2)
        fill, border = STATUS_COLOURS[booking.status]
        self.setBrush(QBrush(QColor(fill)))
        self.setPen(QPen(QColor(border), 1))
        flags = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
        if movable and booking.movable:
            flags |= (QGraphicsItem.GraphicsItemFlag.ItemIsMovable
                      | QGraphicsItem.GraphicsItemFlag.ItemSendsGeometryChanges)
            self.setCursor(Qt.CursorShape.OpenHandCursor)
        self.setFlags(flags)
        zone = grid.zone
        start, end = booking.start.astimezone(zone), booking.end.astimezone(zone)
        self.times = f"{clock_text(start)}–{clock_text(end)}"
        self.setToolTip(
            f"{booking.patient_name} (MRN {booking.mrn})\n{booking.drug or 'No order'}\n"
            f"{booking.chair_name}, {start:%a} {us_date(booking.day)} {self.times}\n"
            f"{STATUS_LABELS[booking.status]}"
            + (f"\n{booking.policy}" if booking.policy else "\nSelf-pay")
            + ("\nRecurring" if booking.series_id else "")
            + (f"\n{booking.notes}" if booking.notes else "")
        )

    @property
    def label(self) -> str:
        b = self.booking
        if self._grid.week:
            return f"{b.patient_name.split(',')[0]}\n{self.times.split('–')[0]}"
        return f"{b.patient_name}\n{b.drug or 'No order'}\n{self.times} · {STATUS_LABELS[b.status]}"

    def itemChange(self, change: QGraphicsItem.GraphicsItemChange, value: Any) -> Any:
        if change == QGraphicsItem.GraphicsItemChange.ItemPositionChange and isinstance(value, QPointF):
            return self._grid.snap(value) + QPointF(1, 0)
        return super().itemChange(change, value)

    def mousePressEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        self.home = self.pos()
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QGraphicsSceneMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if self.flags() & QGraphicsItem.GraphicsItemFlag.ItemIsMovable and self.pos() != self.home:
            self._on_drop(self)

    def snap_back(self) -> None:
        self.setPos(self.home)

    def paint(
        self, painter: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        painter.setBrush(self.brush())
        pen = QPen(self.pen())
        if self.isSelected():
            pen.setWidth(3)
            pen.setColor(QColor("#111111"))
        painter.setPen(pen)
        painter.drawRoundedRect(self.rect(), 3, 3)
        if not self.booking.holds_chair:
            painter.drawLine(self.rect().topLeft(), self.rect().bottomRight())
        painter.setPen(QColor("#111111"))
        font = QFont(painter.font())
        font.setPointSizeF(7 if self._grid.week else 8.5)
        painter.setFont(font)
        painter.drawText(self.rect().adjusted(3, 1, -2, -1),
                         int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
                         | int(Qt.TextFlag.TextWordWrap),
                         self.label)


class _Canvas(QGraphicsView):
    """The scrolling scene; arrows move the slot cursor, Enter opens the selected booking's patient."""

    keyMove = Signal(int, int)  # columns, slots
    activated = Signal()
    cellClicked = Signal(QPointF)
    menuAt = Signal(QPointF, object)  # scene point, block or None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        steps = {
            Qt.Key.Key_Left: (-1, 0), Qt.Key.Key_Right: (1, 0),
            Qt.Key.Key_Up: (0, -1), Qt.Key.Key_Down: (0, 1),
        }
        key = Qt.Key(event.key())
        if key in steps and not event.modifiers() & Qt.KeyboardModifier.AltModifier:
            self.keyMove.emit(*steps[key])
            return
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activated.emit()
            return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: Any) -> None:
        super().mousePressEvent(event)
        self.cellClicked.emit(self.mapToScene(event.position().toPoint()))

    def mouseDoubleClickEvent(self, event: Any) -> None:
        super().mouseDoubleClickEvent(event)
        if self.itemAt(event.position().toPoint()) is not None:
            self.activated.emit()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        item = self.itemAt(event.pos())
        self.menuAt.emit(QPointF(event.globalPos()), item if isinstance(item, BookingBlock) else None)


class ScheduleView(QWidget):
    """The chair schedule: day and week views, booking, drag-to-move, cancel and no-show."""

    bookingChanged = Signal()
    openPatient = Signal(int)

    def __init__(
        self, services: Services, actor: Actor, parent: QWidget | None = None, *,
        today: Callable[[], date] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("scheduleView")
        self._services, self._actor = services, actor
        self._schedule = ScheduleService(services.db)
        self._runner = TaskRunner(self)
        self._today = today
        self._can_edit = actor.can(Permission.SCHEDULE_EDIT)
        self._patient_id: int | None = None
        self._request = 0
        self.setup: ScheduleSetup | None = None
        self.grid: Grid | None = None
        self.bookings: tuple[Booking, ...] = ()
        self.blocks: dict[int, BookingBlock] = {}
        self.day = self.today()
        self.week = False
        self.cursor_cell = (0, 0)
        self._selected_visit: int | None = None
        self.dialog: QDialog | None = None
        """The booking, move or cancel form last opened (non-modal to the rest of the app)."""

        self.previous_button = QPushButton("◀ Pre&vious", self)
        self.today_button = QPushButton("&Today", self)
        self.next_button = QPushButton("Ne&xt ▶", self)
        self.day_button = QPushButton("&Day", self)
        self.week_button = QPushButton("&Week", self)
        for button in (self.day_button, self.week_button):
            button.setCheckable(True)
        self.day_button.setChecked(True)
        modes = QButtonGroup(self)
        modes.setExclusive(True)
        modes.addButton(self.day_button)
        modes.addButton(self.week_button)
        self.title = QLabel(self)
        self.title.setObjectName("scheduleTitle")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.show_freed = QCheckBox("Show c&ancelled", self)
        self.show_freed.setObjectName("scheduleShowCancelled")
        self.show_freed.setToolTip("Also show cancelled visits and no-shows (narrow, struck through)")
        self.book_button = QPushButton("&Book…", self)
        self.move_button = QPushButton("&Move…", self)
        self.cancel_button = QPushButton("Cance&l visit…", self)
        self.no_show_button = QPushButton("No-s&how", self)
        self.open_button = QPushButton("&Open patient", self)
        for name, button in (
            ("schedulePrevious", self.previous_button), ("scheduleToday", self.today_button),
            ("scheduleNext", self.next_button), ("scheduleDay", self.day_button),
            ("scheduleWeek", self.week_button), ("scheduleBook", self.book_button),
            ("scheduleMove", self.move_button), ("scheduleCancel", self.cancel_button),
            ("scheduleNoShow", self.no_show_button), ("scheduleOpen", self.open_button),
        ):
            button.setObjectName(name)
            button.setAutoDefault(False)
        self.previous_button.setToolTip("Previous day or week (PageUp, Alt+Left)")
        self.next_button.setToolTip("Next day or week (PageDown, Alt+Right)")
        self.today_button.setToolTip("Today (Ctrl+T)")
        self.book_button.setToolTip(
            "Book the patient opened at the front desk in the cursor's slot (Ctrl+B, Insert)"
        )
        self.move_button.setToolTip("Move the selected booking to another chair, day or time (Ctrl+M)")
        self.cancel_button.setToolTip("Cancel the selected booking, with a reason (Delete)")

        self.scene = QGraphicsScene(self)
        self.canvas = _Canvas(self.scene, self)
        self.canvas.setObjectName("scheduleCanvas")
        self.canvas.setAccessibleName("Chair schedule")
        self.canvas.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.canvas.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.canvas.setRenderHint(QPainter.RenderHint.Antialiasing)
        self.message = QLabel("", self)
        self.message.setObjectName("scheduleMessage")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        bar = QHBoxLayout()
        widget: QWidget
        for widget in (self.previous_button, self.today_button, self.next_button, self.title):
            bar.addWidget(widget)
        bar.addStretch(1)
        for widget in (self.day_button, self.week_button, self.show_freed):
            bar.addWidget(widget)
        actions = QHBoxLayout()
        for widget in (self.book_button, self.move_button, self.cancel_button, self.no_show_button,
                       self.open_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)

        self.previous_button.clicked.connect(lambda: self.step(-1))
        self.next_button.clicked.connect(lambda: self.step(1))
        self.today_button.clicked.connect(self.go_today)
        self.day_button.clicked.connect(self.show_day)
        self.week_button.clicked.connect(self.show_week)
        self.show_freed.toggled.connect(lambda _on: self._draw())
        self.book_button.clicked.connect(self.book)
        self.move_button.clicked.connect(self.move_selected)
        self.cancel_button.clicked.connect(self.cancel_selected)
        self.no_show_button.clicked.connect(self.no_show_selected)
        self.open_button.clicked.connect(self._open_selected)
        self.canvas.keyMove.connect(self._move_cursor)
        self.canvas.activated.connect(self._open_selected)
        self.canvas.cellClicked.connect(self._clicked)
        self.canvas.menuAt.connect(self._menu)
        self.scene.selectionChanged.connect(self._selection_changed)
        self.canvas.verticalScrollBar().valueChanged.connect(lambda _v: self._pin_headers())
        self.canvas.horizontalScrollBar().valueChanged.connect(lambda _v: self._pin_headers())
        for keys, slot in (
            (("PgUp", "Alt+Left"), lambda: self.step(-1)),
            (("PgDown", "Alt+Right"), lambda: self.step(1)),
            (("Ctrl+T",), self.go_today),
            (("Ctrl+B", "Ins"), self.book),
            (("Ctrl+M",), self.move_selected),
            (("Del",), self.cancel_selected),
        ):
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
                shortcut.activated.connect(slot)
        self._header_items: list[QGraphicsItem] = []
        self._gutter_items: list[QGraphicsItem] = []
        self._cursor_item: QGraphicsRectItem | None = None
        self._update_actions()
        self.resize(1000, 700)
        pin_minimum_size(self)
        self.refresh()

    # --- navigation -----------------------------------------------------------------------

    def today(self) -> date:
        if self._today is not None:
            return self._today()
        if self.setup is not None:
            return datetime.now(UTC).astimezone(self.setup.zone).date()
        return today_local()

    @property
    def days(self) -> tuple[date, ...]:
        return week_of(self.day) if self.week else (self.day,)

    def set_day(self, day: date) -> None:
        self.day = day
        self.refresh()

    def step(self, direction: int) -> None:
        self.set_day(self.day + timedelta(days=direction * (7 if self.week else 1)))

    def go_today(self) -> None:
        self.set_day(self.today())

    def show_day(self) -> None:
        self.day_button.setChecked(True)
        if self.week:
            self.week = False
            self.cursor_cell = (0, self.cursor_cell[1])
            self.refresh()

    def show_week(self) -> None:
        self.week_button.setChecked(True)
        if not self.week:
            self.week = True
            self.refresh()

    def set_patient(self, patient_id: int | None) -> None:
        """The patient "Book…" books (the one opened at the front desk), or None."""
        self._patient_id = patient_id
        self._update_actions()

    # --- loading --------------------------------------------------------------------------

    def refresh(self) -> None:
        days = self.days
        self._request += 1
        request, schedule, actor = self._request, self._schedule, self._actor
        self._show_title()
        self._runner.run(
            lambda: (schedule.setup(actor), schedule.bookings(actor, days[0], days[-1])),
            lambda result: self._loaded(request, days, result),
            self._load_failed,
        )

    def _load_failed(self, exc: Exception) -> None:
        show_error(self, exc, retry=self.refresh)

    def _loaded(
        self, request: int, days: tuple[date, ...], result: tuple[ScheduleSetup, tuple[Booking, ...]]
    ) -> None:
        if request != self._request:
            return  # the user has paged on; a newer answer is coming
        self.setup, self.bookings = result
        self.grid = self._grid_for(days)
        self._draw()

    def _grid_for(self, days: tuple[date, ...]) -> Grid:
        assert self.setup is not None
        return Grid(self.setup, days, week=self.week, available_width=self.canvas.viewport().width())

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.grid is not None and self._grid_for(self.grid.days).column_width != self.grid.column_width:
            self.grid = self._grid_for(self.grid.days)
            self.message.setProperty("keep", True)
            self._draw()

    def _show_title(self) -> None:
        days = self.days
        if self.week:
            self.title.setText(f"Week of {days[0]:%a} {us_date(days[0])} – {days[-1]:%a} {us_date(days[-1])}")
        else:
            self.title.setText(f"{self.day:%A} {us_date(self.day)}")

    # --- drawing --------------------------------------------------------------------------

    def _draw(self) -> None:
        grid = self.grid
        if grid is None:
            return
        selected = self._selected_visit
        self.scene.blockSignals(True)
        self.scene.clear()
        self.scene.blockSignals(False)
        self.blocks = {}
        self._header_items, self._gutter_items = [], []
        self.scene.setSceneRect(0, 0, grid.width, grid.height)
        if not grid.columns:
            self.scene.addSimpleText("No chairs are set up: a manager adds them in clinic settings.")
            return
        self._draw_grid(grid)
        hidden = 0
        show_freed = self.show_freed.isChecked()
        for booking in self.bookings:
            if not booking.holds_chair and not show_freed:
                continue
            rect = grid.rect_for(booking)
            if rect is None:
                hidden += 1
                continue
            block = BookingBlock(booking, grid, rect, movable=self._can_edit, on_drop=self._dropped)
            self.scene.addItem(block)
            self.blocks[booking.visit_id] = block
        column, slot = self.cursor_cell
        self.cursor_cell = (min(column, len(grid.columns) - 1), min(slot, grid.slot_count - 1))
        self._cursor_item = self.scene.addRect(QRectF(), QPen(QColor("#d2691e"), 2, Qt.PenStyle.DashLine))
        self._cursor_item.setZValue(5)
        self._place_cursor(select=False)
        if selected in self.blocks:
            self.scene.blockSignals(True)  # a restored selection is not news to announce
            self.blocks[selected].setSelected(True)
            self.scene.blockSignals(False)
        self._pin_headers()
        held = sum(1 for b in self.bookings if b.holds_chair)
        note = f" {hidden} visit(s) are in chairs no longer in use." if hidden else ""
        if not self.message.property("keep"):
            self._say(f"{held} booking(s) shown.{note}")
        self.message.setProperty("keep", False)
        self._update_actions()

    def _draw_grid(self, grid: Grid) -> None:
        light, hour_pen = QPen(QColor("#e6e6e6")), QPen(QColor("#bdbdbd"))
        for slot in range(grid.slot_count + 1):
            y = grid.header + slot * grid.slot_height
            minutes = slot * grid.setup.slot_minutes
            moment = datetime.combine(date(2000, 1, 1), grid.setup.opens) + timedelta(minutes=minutes)
            on_hour = moment.minute == 0
            self.scene.addLine(GUTTER, y, grid.width, y, hour_pen if on_hour else light).setZValue(-2)
        for index in range(len(grid.columns) + 1):
            x = GUTTER + index * grid.column_width
            day_edge = grid.week and index % max(len(grid.setup.chairs), 1) == 0
            pen = QPen(QColor("#555555"), 2) if day_edge else hour_pen
            self.scene.addLine(x, grid.header, x, grid.height, pen).setZValue(-2)
        # The header row and the time column stay in view while the grid scrolls under them.
        header = self.scene.addRect(QRectF(0, 0, grid.width, grid.header), QPen(Qt.PenStyle.NoPen),
                                    QBrush(QColor("#f4f4f4")))
        header.setZValue(10)
        self._header_items.append(header)
        for index, (day, chair) in enumerate(grid.columns):
            x = GUTTER + index * grid.column_width
            name = chair.name.replace("Chair ", "") if grid.week else chair.name
            text = QGraphicsSimpleTextItem(name, header)
            text.setPos(x + 4, grid.header - 18)
            if grid.week and index % len(grid.setup.chairs) == 0:
                day_text = QGraphicsSimpleTextItem(f"{day:%a} {day:%m/%d}", header)
                font = day_text.font()
                font.setBold(True)
                day_text.setFont(font)
                day_text.setPos(x + 4, 4)
        gutter = self.scene.addRect(QRectF(0, 0, GUTTER, grid.height), QPen(Qt.PenStyle.NoPen),
                                    QBrush(QColor("#f4f4f4")))
        gutter.setZValue(11)
        self._gutter_items.append(gutter)
        every = max(1, 60 // grid.setup.slot_minutes) if grid.week else 1
        for slot in range(0, grid.slot_count, every):
            start = grid.slot_start(grid.days[0], slot)
            if grid.week or start.minute == 0 or grid.setup.slot_minutes >= 30 or slot % 2 == 0:
                text = QGraphicsSimpleTextItem(clock_text(start), gutter)
                text.setPos(6, grid.header + slot * grid.slot_height - (0 if grid.week else 1))

    def _pin_headers(self) -> None:
        if not shiboken6.isValid(self.scene):
            # The view is being destroyed: the scene (our child) went first, and the scroll
            # bars' reset still calls here. Its header items are gone with it.
            return
        top_left = self.canvas.mapToScene(0, 0)
        for item in self._header_items:
            item.setY(max(top_left.y(), 0))
        for item in self._gutter_items:
            item.setX(max(top_left.x(), 0))

    # --- cursor and selection -------------------------------------------------------------

    def _move_cursor(self, columns: int, slots: int) -> None:
        if self.grid is None:
            return
        column, slot = self.cursor_cell
        self.cursor_cell = (
            min(max(column + columns, 0), len(self.grid.columns) - 1),
            min(max(slot + slots, 0), self.grid.slot_count - 1),
        )
        self._place_cursor(select=True)

    def _clicked(self, point: QPointF) -> None:
        if self.grid is None or point.x() < GUTTER or point.y() < self.grid.header:
            return
        self.cursor_cell = self.grid.cell_at(point)
        self._place_cursor(select=False)

    def _place_cursor(self, *, select: bool) -> None:
        if self.grid is None or self._cursor_item is None:
            return
        rect = self.grid.cell_rect(*self.cursor_cell)
        self._cursor_item.setRect(rect)
        self.canvas.ensureVisible(rect, 20, 20)
        if select:
            under = [item for item in self.scene.items(rect.center()) if isinstance(item, BookingBlock)]
            self.scene.clearSelection()
            if under:
                under[0].setSelected(True)

    def place_at_cursor(self) -> Place | None:
        return None if self.grid is None else self.grid.place(*self.cursor_cell)

    def set_cursor(self, chair_id: int, start: datetime) -> None:
        """Put the slot cursor on ``chair_id`` at ``start`` (shown day or week only)."""
        if self.grid is None:
            return
        local = start.astimezone(self.grid.zone)
        column = self.grid.column_of(local.date(), chair_id)
        if column is None:
            return
        opening = datetime.combine(local.date(), self.grid.setup.opens, self.grid.zone)
        slot = int((local - opening).total_seconds() // 60 // self.grid.setup.slot_minutes)
        self.cursor_cell = (column, min(max(slot, 0), self.grid.slot_count - 1))
        self._place_cursor(select=True)

    def selected(self) -> Booking | None:
        for item in self.scene.selectedItems():
            if isinstance(item, BookingBlock):
                return item.booking
        return None

    def _selection_changed(self) -> None:
        booking = self.selected()
        self._selected_visit = booking.visit_id if booking else None
        if booking is not None:
            self._say(f"{booking.patient_name} — {booking.drug or 'no order'} — "
                      f"{self.blocks[booking.visit_id].times} — {STATUS_LABELS[booking.status]}"
                      + (f" — {booking.policy}" if booking.policy else " — self-pay"))
        self._update_actions()

    def _update_actions(self) -> None:
        booking = self.selected() if hasattr(self, "scene") else None
        self.book_button.setEnabled(self._can_edit and self._patient_id is not None)
        self.move_button.setEnabled(self._can_edit and booking is not None and booking.movable)
        self.cancel_button.setEnabled(self._can_edit and booking is not None and booking.movable)
        self.no_show_button.setEnabled(
            self._can_edit and booking is not None and booking.status is VisitStatus.SCHEDULED
        )
        self.open_button.setEnabled(booking is not None)

    def _say(self, text: str, *, problem: bool = False) -> None:
        self.message.setText(text)
        set_tone(self.message, ERROR if problem else None)

    # --- actions --------------------------------------------------------------------------

    def _open_selected(self) -> None:
        booking = self.selected()
        if booking is not None:
            self.openPatient.emit(booking.patient_id)

    def _menu(self, where: QPointF, block: BookingBlock | None) -> None:
        if block is None:
            return
        self.scene.clearSelection()
        block.setSelected(True)
        menu = QMenu(self)
        menu.setObjectName("scheduleMenu")
        for text, slot, enabled in (
            ("&Move…", self.move_selected, self.move_button.isEnabled()),
            ("Cance&l visit…", self.cancel_selected, self.cancel_button.isEnabled()),
            ("No-s&how", self.no_show_selected, self.no_show_button.isEnabled()),
            ("&Open patient", self._open_selected, True),
        ):
            action = menu.addAction(text)
            action.setEnabled(enabled)
            action.triggered.connect(slot)
        menu.popup(where.toPoint())

    def book(self) -> None:
        """Open the booking form for the front desk's patient at the cursor's chair and time."""
        if not self.book_button.isEnabled() or self._patient_id is None:
            if self._can_edit:
                self._say("Open a patient at the front desk first, then book them here.", problem=True)
            return
        from infusion_desk.ui.booking_dialog import BookingDialog

        place = self.place_at_cursor()
        dialog = BookingDialog(
            self._services, self._actor, self._patient_id, self,
            day=place.day if place else self.day, chair_id=place.chair_id if place else None,
            start=place.start.time() if place else None,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.booked.connect(self._booked)
        dialog.open()
        self.dialog = dialog

    def _booked(self, visit_ids: list[int]) -> None:
        self._selected_visit = visit_ids[0] if visit_ids else None
        self._keep(f"Booked {len(visit_ids)} visit(s)." if len(visit_ids) > 1 else "Booked.")
        self.bookingChanged.emit()
        self.refresh()

    def _keep(self, text: str) -> None:
        """Say ``text`` and keep it through the reload that follows."""
        self._say(text)
        self.message.setProperty("keep", True)

    def move_selected(self) -> None:
        booking = self.selected()
        if booking is None or not self.move_button.isEnabled() or self.setup is None:
            return
        dialog = MoveDialog(self._schedule, self._actor, self.setup, booking, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.moved.connect(self._moved)
        dialog.open()
        self.dialog = dialog

    def _dropped(self, block: BookingBlock) -> None:
        if self.grid is None:
            return
        column, slot = self.grid.cell_at(block.pos() + QPointF(2, 2))
        place = self.grid.place(column, slot)
        booking = block.booking
        if place.chair_id == booking.chair_id and place.start == booking.start:
            return
        self._say(f"Moving {booking.patient_name} to {place.chair_name} at {clock_text(place.start)}…")
        schedule, actor = self._schedule, self._actor
        self._runner.run(
            lambda: schedule.move(actor, booking.visit_id, place.chair_id, place.start),
            self._moved,
            lambda exc: self._move_refused(block, exc),
        )

    def _moved(self, booking: Booking) -> None:
        self._selected_visit = booking.visit_id
        local = booking.start.astimezone(self.grid.zone if self.grid else UTC)
        self._keep(f"Moved {booking.patient_name} to {booking.chair_name}, {local:%a} {us_date(booking.day)} "
                   f"{clock_text(local)}.")
        self.bookingChanged.emit()
        self.refresh()

    def _move_refused(self, block: BookingBlock, exc: Exception) -> None:
        if shiboken6.isValid(block) and block.scene() is self.scene:
            block.snap_back()
        else:
            self._draw()  # the schedule was redrawn meanwhile; draw the blocks where they are
        if isinstance(exc, ValidationFailed):
            self._say(f"Not moved: {describe(exc)}", problem=True)
        else:
            show_error(self, exc)
            self.refresh()

    def cancel_selected(self) -> None:
        booking = self.selected()
        if booking is None or not self.cancel_button.isEnabled():
            return
        dialog = CancelDialog(self._schedule, self._actor, booking, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.cancelled.connect(self._cancelled)
        dialog.open()
        self.dialog = dialog

    def _cancelled(self, count: int) -> None:
        self._keep("Visit cancelled; the chair is free." if count == 1 else f"{count} visits cancelled.")
        self.bookingChanged.emit()
        self.refresh()

    def no_show_selected(self) -> None:
        booking = self.selected()
        if booking is None or not self.no_show_button.isEnabled():
            return
        schedule, actor = self._schedule, self._actor
        self._runner.run(lambda: schedule.no_show(actor, booking.visit_id), self._no_show_done, self._refused)

    def _no_show_done(self, booking: Booking) -> None:
        self._keep(f"{booking.patient_name} marked as a no-show; the chair is free.")
        self.bookingChanged.emit()
        self.refresh()

    def _refused(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            self._say(describe(exc), problem=True)
        else:
            show_error(self, exc)


class MoveDialog(QDialog):
    """Move to…: the keyboard way to drag a booking (chair, date, start time)."""

    moved = Signal(object)  # the Booking after the move

    def __init__(self, schedule: ScheduleService, actor: Actor, setup: ScheduleSetup, booking: Booking,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("moveDialog")
        self.setWindowTitle(f"Move {booking.patient_name}")
        self._schedule, self._actor, self._setup, self._booking = schedule, actor, setup, booking
        self._runner = TaskRunner(self)
        zone = setup.zone
        local = booking.start.astimezone(zone)
        form = QFormLayout(self)
        form.addRow(QLabel(
            f"{booking.patient_name} — {booking.drug or 'no order'} — {booking.expected_minutes} min"
        ))
        self.chair = QComboBox(self)
        self.chair.setObjectName("moveChair")
        for chair in setup.chairs:
            self.chair.addItem(chair.name, chair.id)
        self.chair.setCurrentIndex(max(self.chair.findData(booking.chair_id), 0))
        self.date = QDateEdit(QDate(local.year, local.month, local.day), self)
        self.date.setObjectName("moveDate")
        self.date.setDisplayFormat("MM/dd/yyyy")
        self.date.setCalendarPopup(True)
        self.start = slot_combo(setup, self)
        self.start.setObjectName("moveStart")
        self.start.setCurrentIndex(max(self.start.findText(clock_text(local)), 0))
        form.addRow("&Chair", self.chair)
        form.addRow("&Date", self.date)
        form.addRow("&Start", self.start)
        self.error = QLabel("", self)
        self.error.setObjectName("moveError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.move_button = buttons.addButton("&Move", QDialogButtonBox.ButtonRole.AcceptRole)
        self.move_button.setObjectName("moveConfirm")
        self.move_button.setDefault(True)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        pin_minimum_size(self)

    def target(self) -> tuple[int, datetime]:
        day = self.date.date().toPython()
        assert isinstance(day, date)
        return int(self.chair.currentData()), datetime.combine(day, slot_time(self.start), self._setup.zone)

    def submit(self) -> None:
        chair_id, start = self.target()
        schedule, actor, visit_id = self._schedule, self._actor, self._booking.visit_id
        self.move_button.setEnabled(False)
        self._runner.run(lambda: schedule.move(actor, visit_id, chair_id, start), self._done, self._failed)

    def _done(self, booking: Booking) -> None:
        self.moved.emit(booking)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.move_button.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self.error.setText(describe(exc))
            grow_to_fit(self)
        else:
            show_error(self, exc)


class CancelDialog(QDialog):
    """Cancel a visit (or the rest of its series) with the reason the front desk was given."""

    cancelled = Signal(int)  # how many visits

    def __init__(self, schedule: ScheduleService, actor: Actor, booking: Booking,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("cancelDialog")
        self.setWindowTitle(f"Cancel {booking.patient_name}'s visit")
        self._schedule, self._actor, self._booking = schedule, actor, booking
        self._runner = TaskRunner(self)
        form = QFormLayout(self)
        form.addRow(QLabel(f"{booking.patient_name} — {booking.chair_name} — {us_date(booking.day)}"))
        self.reason = QLineEdit(self)
        self.reason.setObjectName("cancelReason")
        self.reason.setPlaceholderText("e.g. patient called: unwell")
        form.addRow("&Reason", self.reason)
        self.series = QCheckBox("Also cancel the &later visits of this series", self)
        self.series.setObjectName("cancelSeries")
        self.series.setVisible(booking.series_id is not None)
        form.addRow(self.series)
        self.error = QLabel("", self)
        self.error.setObjectName("cancelError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        buttons = QDialogButtonBox(self)
        self.confirm = buttons.addButton("Cancel &visit", QDialogButtonBox.ButtonRole.AcceptRole)
        self.confirm.setObjectName("cancelConfirm")
        self.confirm.setDefault(True)
        keep = buttons.addButton("&Keep visit", QDialogButtonBox.ButtonRole.RejectRole)
        keep.setObjectName("cancelKeep")
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        pin_minimum_size(self)

    def submit(self) -> None:
        schedule, actor, booking, reason = self._schedule, self._actor, self._booking, self.reason.text()
        whole = self.series.isChecked() and booking.series_id is not None

        def run() -> int:
            if whole and booking.series_id is not None:
                return len(schedule.cancel_series(actor, booking.series_id, booking.day, reason))
            schedule.cancel(actor, booking.visit_id, reason)
            return 1

        self.confirm.setEnabled(False)
        self._runner.run(run, self._done, self._failed)

    def _done(self, count: int) -> None:
        self.cancelled.emit(count)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.confirm.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self.error.setText(describe(exc))
            grow_to_fit(self)
        else:
            show_error(self, exc)


def slot_combo(setup: ScheduleSetup, parent: QWidget) -> QComboBox:
    """A list of the day's slot start times ("7:00 AM"…); :func:`slot_time` reads the chosen one."""
    combo = QComboBox(parent)
    moment = datetime.combine(date(2000, 1, 1), setup.opens)
    closes = datetime.combine(date(2000, 1, 1), setup.closes)
    while moment < closes:
        combo.addItem(clock_text(moment), moment.hour * 60 + moment.minute)
        moment += timedelta(minutes=setup.slot_minutes)
    return combo


def slot_time(combo: QComboBox) -> time:
    minutes = int(combo.currentData())
    return time(minutes // 60, minutes % 60)
