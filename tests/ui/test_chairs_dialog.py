"""A manager sets the chairs and opening hours the schedule shows and books."""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from PySide6.QtCore import Qt, QTime
from PySide6.QtWidgets import QDialogButtonBox

from infusion_desk.models import Visit
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.schedule import ScheduleService
from infusion_desk.ui.chairs_dialog import ChairsDialog
from tests.conftest import make_actor
from tests.services.frontdesk_seed import clinic_today, seed_desk

pytestmark = pytest.mark.gui


def _dialog(qtbot, services: Services, actor) -> ChairsDialog:  # type: ignore[no-untyped-def]
    dialog = ChairsDialog(services, actor)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_manager_sets_chairs_and_hours(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    manager = make_actor(ui_services, Role.MANAGER)
    dialog = _dialog(qtbot, ui_services, manager)
    dialog.chairs.selectAll()
    qtbot.keyClicks(dialog.chairs, "Window 1")
    qtbot.keyClick(dialog.chairs, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.chairs, "Window 2")
    qtbot.keyClick(dialog.chairs, Qt.Key.Key_Return)
    qtbot.keyClicks(dialog.chairs, "Recliner")
    dialog.opens.setTime(QTime(7, 30))
    dialog.closes.setTime(QTime(17, 0))
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    setup = ScheduleService(ui_services.db).setup(manager)
    assert [c.name for c in setup.chairs] == ["Window 1", "Window 2", "Recliner"]
    assert (setup.opens, setup.closes) == (time(7, 30), time(17, 0))

    again = _dialog(qtbot, ui_services, manager)
    qtbot.waitUntil(lambda: again.chairs.toPlainText() == "Window 1\nWindow 2\nRecliner")
    assert again.opens.time() == QTime(7, 30)


def test_a_chair_with_bookings_to_come_cannot_be_removed(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    manager = make_actor(ui_services, Role.MANAGER)
    schedule = ScheduleService(ui_services.db)
    setup = schedule.configure(manager, ["Chair A", "Chair B"], time(7, 0), time(18, 0))
    desk = seed_desk(ui_services, day=clinic_today() + timedelta(days=3))
    with ui_services.db.session() as session:
        visit = session.get(Visit, desk.visit)
        assert visit is not None
        visit.chair_id = setup.chairs[1].id
    dialog = _dialog(qtbot, ui_services, manager)
    qtbot.waitUntil(lambda: dialog.chairs.toPlainText() == "Chair A\nChair B")
    dialog.chairs.setPlainText("Chair A")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Chair B" in dialog.findings.text())
    assert dialog.isVisible()
    assert [c.name for c in schedule.setup(manager).chairs] == ["Chair A", "Chair B"]
