"""The front desk books, drags, moves, cancels and pages through the chair schedule with mouse and keyboard."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import AdminClass, DoseBasis, Role, VisitStatus
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.schedule import Booking, BookingInput, ScheduleService
from infusion_desk.ui.booking_dialog import BookingDialog
from infusion_desk.ui.schedule_view import BookingBlock, CancelDialog, MoveDialog, ScheduleView
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor
from tests.ui.conftest import Patients

CHICAGO = ZoneInfo("America/Chicago")  # the clinic's zone when none is set


def next_monday() -> date:
    """A Monday still to come in the clinic, so every slot of its week from Monday on can be booked."""
    today = datetime.now(UTC).astimezone(CHICAGO).date()
    return today + timedelta(days=7 - today.weekday())


MONDAY = next_monday()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), CHICAGO)


@dataclass
class Desk:
    services: Services
    schedule: ScheduleService
    desk: Actor
    patients: Patients
    chairs: tuple[int, ...]
    quenby_order: int
    vantreese_order: int

    def book(self, patient: int, order: int, chair: int, start: datetime, **extra: object) -> tuple[int, ...]:
        return self.schedule.book(self.desk, BookingInput(patient, order, self.chairs[chair], start, None, **extra))

    def shown(self) -> tuple[Booking, ...]:
        return self.schedule.bookings(self.desk, MONDAY - timedelta(days=7), MONDAY + timedelta(days=60))


@pytest.fixture
def desk(ui_services: Services, patients: Patients, admin_actor: Actor) -> Desk:
    """Three chairs, 7 AM to 6 PM; Ms Quenby and Mr Vantreese each have a 90-minute order every 4 weeks."""
    from infusion_desk.models import Drug, PhysicianOrder, Provider

    schedule = ScheduleService(ui_services.db)
    setup = schedule.configure(admin_actor, ["Chair 1", "Chair 2", "Chair 3"], time(7), time(18))
    with ui_services.db.session() as session:
        drug = Drug(name="infliximab", hcpcs="J1745", billing_unit_amount=Decimal(10), billing_unit="mg",
                    admin_class=AdminClass.COMPLEX_BIOLOGIC, unit_price=Decimal(100), typical_minutes=90)
        provider = Provider(first_name="Ann", last_name="Order", npi="1245319599")
        session.add_all([drug, provider])
        session.flush()
        orders = [
            PhysicianOrder(patient_id=patient, drug_id=drug.id, ordering_provider_id=provider.id,
                           dose_amount=Decimal(5), dose_unit="mg", dose_basis=DoseBasis.PER_KG,
                           frequency="every 4 weeks", doses_ordered=10, start_date=date(2026, 1, 1))
            for patient in (patients.quenby, patients.vantreese)
        ]
        session.add_all(orders)
        session.flush()
        order_ids = (orders[0].id, orders[1].id)
    return Desk(ui_services, schedule, make_actor(ui_services, Role.FRONT_DESK, "t_scheduler"), patients,
                tuple(chair.id for chair in setup.chairs), *order_ids)


@pytest.fixture
def view(qtbot: QtBot, desk: Desk) -> Iterator[ScheduleView]:
    widget = ScheduleView(desk.services, desk.desk, today=lambda: MONDAY)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitUntil(lambda: widget.grid is not None, timeout=5000)
    yield widget
    wait_for_idle()


def block_for(view: ScheduleView, visit_id: int) -> BookingBlock | None:
    return view.blocks.get(visit_id)


def place_of(view: ScheduleView, visit_id: int) -> tuple[str, str] | None:
    block = block_for(view, visit_id)
    if block is None:
        return None
    return block.booking.chair_name or "", block.times


def viewport_point(view: ScheduleView, scene_point: QPointF) -> QPoint:
    return view.canvas.mapFromScene(scene_point)


def drag(view: ScheduleView, block: BookingBlock, column: int, slot: int) -> None:
    """Press on the block, move in steps to the target cell, release (as a hand on a mouse would)."""
    assert view.grid is not None
    grab = block.sceneBoundingRect().topLeft() + QPointF(10, 6)
    target = view.grid.cell_rect(column, slot).topLeft() + QPointF(10, 6)
    viewport = view.canvas.viewport()
    start, end = viewport_point(view, grab), viewport_point(view, target)
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 6):
        QTest.mouseMove(viewport, start + (end - start) * step / 5)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


def slot_of(view: ScheduleView, hour: int, minute: int = 0) -> int:
    assert view.grid is not None
    return ((hour - 7) * 60 + minute) // view.grid.setup.slot_minutes


def test_a_visit_is_booked_from_the_keyboard_and_its_block_appears(view: ScheduleView, desk: Desk,
                                                                   qtbot: QtBot) -> None:
    view.set_patient(desk.patients.quenby)
    view.canvas.setFocus()
    qtbot.keyClick(view.canvas, Qt.Key.Key_Right)  # Chair 2
    for _ in range(8):  # 7:00 AM + 8 x 15 min = 9:00 AM
        qtbot.keyClick(view.canvas, Qt.Key.Key_Down)
    qtbot.keyClick(view.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(getattr(view, "dialog", None), BookingDialog), timeout=3000)
    dialog = view.dialog
    assert isinstance(dialog, BookingDialog)
    qtbot.waitUntil(dialog.book_button.isEnabled, timeout=5000)
    # The form starts where the cursor was, with the drug's usual duration and the policy in force.
    assert dialog.chair.currentText() == "Chair 2" and dialog.start.currentText() == "9:00 AM"
    assert dialog.date.text() == f"{MONDAY:%m/%d/%Y}"
    assert dialog.minutes.value() == 90 and "QX123456789" in dialog.policy.currentText()
    assert "every 4 weeks" in dialog.order.currentText() and "10 of 10 doses left" in dialog.order.currentText()
    qtbot.keyClick(dialog.repeat, Qt.Key.Key_Up)  # two visits
    assert dialog.interval.value() == 28 and "every 4 weeks" in dialog.interval_text.text()
    qtbot.keyClicks(dialog.notes, "Bring the premedication list")
    with qtbot.waitSignal(dialog.booked, timeout=5000) as booked:
        qtbot.keyClick(dialog.notes, Qt.Key.Key_Return)
    first, second = booked.args[0]
    qtbot.waitUntil(lambda: block_for(view, first) is not None, timeout=5000)
    assert place_of(view, first) == ("Chair 2", "9:00 AM–10:30 AM")
    block = block_for(view, first)
    assert block is not None and block.label.startswith("Quenby, Marisol\ninfliximab")
    assert block.isSelected()
    assert [b.day for b in desk.shown() if b.visit_id in (first, second)] == [MONDAY, MONDAY + timedelta(weeks=4)]


def test_the_booking_form_shows_the_services_findings_and_books_nothing(view: ScheduleView, desk: Desk,
                                                                        qtbot: QtBot) -> None:
    desk.book(desk.patients.vantreese, desk.vantreese_order, 0, at(MONDAY, 9))
    dialog = BookingDialog(desk.services, desk.desk, desk.patients.quenby, view, day=MONDAY,
                           chair_id=desk.chairs[0], start=time(9, 30))
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(dialog.book_button.isEnabled, timeout=5000)
    qtbot.mouseClick(dialog.book_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "overlaps O.V." in dialog.error.text(), timeout=5000)
    assert "Vantreese" not in dialog.error.text() and dialog.isVisible()
    assert len(desk.shown()) == 1


def test_a_block_dragged_to_another_chair_and_time_moves_the_visit(view: ScheduleView, desk: Desk,
                                                                   qtbot: QtBot) -> None:
    (visit_id,) = desk.book(desk.patients.quenby, desk.quenby_order, 0, at(MONDAY, 9))
    view.refresh()
    qtbot.waitUntil(lambda: block_for(view, visit_id) is not None, timeout=5000)
    block = block_for(view, visit_id)
    assert block is not None
    with qtbot.waitSignal(view.bookingChanged, timeout=5000):
        drag(view, block, column=2, slot=slot_of(view, 11))
    qtbot.waitUntil(lambda: place_of(view, visit_id) == ("Chair 3", "11:00 AM–12:30 PM"), timeout=5000)
    (moved,) = desk.shown()
    assert moved.chair_id == desk.chairs[2] and moved.start == at(MONDAY, 11)
    assert "Moved Quenby, Marisol to Chair 3" in view.message.text()


def test_an_overlapping_drop_is_refused_and_the_block_returns(view: ScheduleView, desk: Desk, qtbot: QtBot) -> None:
    (visit_id,) = desk.book(desk.patients.quenby, desk.quenby_order, 0, at(MONDAY, 9))
    desk.book(desk.patients.vantreese, desk.vantreese_order, 1, at(MONDAY, 10))
    view.refresh()
    qtbot.waitUntil(lambda: len(view.blocks) == 2, timeout=5000)
    block = block_for(view, visit_id)
    assert block is not None
    home = block.pos()
    drag(view, block, column=1, slot=slot_of(view, 10, 30))
    qtbot.waitUntil(lambda: "Not moved" in view.message.text(), timeout=5000)
    assert "overlaps O.V., booked 10:00 AM–11:30 AM" in view.message.text()
    assert "Vantreese" not in view.message.text()
    assert block.pos() == home
    assert [b.chair_id for b in desk.shown() if b.visit_id == visit_id] == [desk.chairs[0]]


def test_the_move_dialog_moves_the_selected_booking_from_the_keyboard(view: ScheduleView, desk: Desk,
                                                                      qtbot: QtBot) -> None:
    (visit_id,) = desk.book(desk.patients.quenby, desk.quenby_order, 0, at(MONDAY, 7))
    view.refresh()
    qtbot.waitUntil(lambda: block_for(view, visit_id) is not None, timeout=5000)
    view.canvas.setFocus()
    qtbot.keyClick(view.canvas, Qt.Key.Key_Down)  # the cursor lands on the 7:00 booking and selects it
    assert view.selected() is not None and view.selected().visit_id == visit_id  # type: ignore[union-attr]
    qtbot.keyClick(view.canvas, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(getattr(view, "dialog", None), MoveDialog), timeout=3000)
    dialog = view.dialog
    assert isinstance(dialog, MoveDialog)
    qtbot.keyClick(dialog.chair, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.chair, Qt.Key.Key_Down)
    qtbot.keyClicks(dialog.start, "1:00")
    assert (dialog.chair.currentText(), dialog.start.currentText()) == ("Chair 3", "1:00 PM")
    with qtbot.waitSignal(dialog.moved, timeout=5000):
        qtbot.keyClick(dialog.start, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: place_of(view, visit_id) == ("Chair 3", "1:00 PM–2:30 PM"), timeout=5000)


def test_the_week_view_shows_the_weeks_bookings_and_pages_on(view: ScheduleView, desk: Desk, qtbot: QtBot) -> None:
    monday = desk.book(desk.patients.quenby, desk.quenby_order, 0, at(MONDAY, 9))[0]
    wednesday = desk.book(desk.patients.vantreese, desk.vantreese_order, 2,
                          at(MONDAY + timedelta(days=2), 14))[0]
    view.refresh()
    qtbot.waitUntil(lambda: set(view.blocks) == {monday}, timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: set(view.blocks) == {monday, wednesday}, timeout=5000)
    assert view.week_button.isChecked() and view.grid is not None and view.grid.week
    assert view.title.text().startswith(f"Week of Mon {MONDAY:%m/%d/%Y}")
    assert view.blocks[wednesday].label == "Vantreese\n2:00 PM"
    # Wednesday's block sits in Wednesday's third chair column, to the right of Monday's.
    assert view.blocks[wednesday].x() > view.blocks[monday].x() + 2 * 3 * view.grid.column_width
    view.canvas.setFocus()
    qtbot.keyClick(view.canvas, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: view.blocks == {} and view.grid is not None
                    and view.grid.days[0] == MONDAY + timedelta(days=7), timeout=5000)
    qtbot.keyClick(view.canvas, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: set(view.blocks) == {monday, wednesday}, timeout=5000)
    qtbot.keyClick(view, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: set(view.blocks) == {monday} and view.grid is not None and not view.grid.week,
                    timeout=5000)


def test_a_cancelled_booking_frees_its_slot(view: ScheduleView, desk: Desk, qtbot: QtBot) -> None:
    (visit_id,) = desk.book(desk.patients.quenby, desk.quenby_order, 0, at(MONDAY, 9))
    view.refresh()
    qtbot.waitUntil(lambda: block_for(view, visit_id) is not None, timeout=5000)
    view.blocks[visit_id].setSelected(True)
    view.canvas.setFocus()
    qtbot.keyClick(view.canvas, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: isinstance(getattr(view, "dialog", None), CancelDialog), timeout=3000)
    dialog = view.dialog
    assert isinstance(dialog, CancelDialog)
    qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)  # no reason yet
    qtbot.waitUntil(lambda: "Say why" in dialog.error.text(), timeout=5000)
    qtbot.keyClicks(dialog.reason, "Patient called: unwell")
    with qtbot.waitSignal(view.bookingChanged, timeout=5000):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: view.blocks == {}, timeout=5000)
    assert "the chair is free" in view.message.text()
    # The slot takes another patient; the cancelled visit is still there to see on request.
    (other,) = desk.book(desk.patients.vantreese, desk.vantreese_order, 0, at(MONDAY, 9))
    view.show_freed.setChecked(True)
    view.refresh()
    qtbot.waitUntil(lambda: set(view.blocks) == {visit_id, other}, timeout=5000)
    assert view.blocks[visit_id].booking.status is VisitStatus.CANCELLED
    assert view.blocks[visit_id].rect().width() < view.blocks[other].rect().width()
    assert not view.blocks[visit_id].flags() & BookingBlock.GraphicsItemFlag.ItemIsMovable


def test_a_nurse_sees_the_schedule_but_cannot_book_or_drag(desk: Desk, qtbot: QtBot) -> None:
    (visit_id,) = desk.book(desk.patients.quenby, desk.quenby_order, 0, at(MONDAY, 9))
    nurse = make_actor(desk.services, Role.NURSE, "t_nurse_schedule")
    widget = ScheduleView(desk.services, nurse, today=lambda: MONDAY)
    qtbot.addWidget(widget)
    widget.show()
    widget.set_patient(desk.patients.quenby)
    qtbot.waitUntil(lambda: block_for(widget, visit_id) is not None, timeout=5000)
    assert not widget.book_button.isEnabled()
    assert not widget.blocks[visit_id].flags() & BookingBlock.GraphicsItemFlag.ItemIsMovable
    widget.blocks[visit_id].setSelected(True)
    assert not widget.move_button.isEnabled() and widget.open_button.isEnabled()
    with qtbot.waitSignal(widget.openPatient, timeout=2000) as opened:
        qtbot.keyClick(widget.canvas, Qt.Key.Key_Return)
    assert opened.args == [desk.patients.quenby]
    wait_for_idle()
