"""The front desk's work queues on screen: counts in the tabs, Enter opens the fix."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models import EligibilityCheck
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.worklists import QUEUE_TITLES, Queue
from infusion_desk.ui.work_queues import WorkQueuesView
from tests.conftest import make_actor
from tests.services.frontdesk_seed import clinic_today, seed_desk
from tests.ui.helpers import column


def test_queues_show_counts_and_enter_opens_the_fix(qtbot: QtBot, qtmodeltester: object,
                                                    ui_services: Services) -> None:
    today = clinic_today()
    desk = seed_desk(ui_services, day=today + timedelta(days=1))
    with ui_services.db.session() as session:
        session.execute(sa.delete(EligibilityCheck))
    view = WorkQueuesView(ui_services, make_actor(ui_services, Role.FRONT_DESK), lambda: today)
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.queues is not None)
    assert view.tabs.tabText(0) == f"{QUEUE_TITLES[Queue.UNVERIFIED_COVERAGE]} (1)"
    assert view.tabs.tabText(2) == f"{QUEUE_TITLES[Queue.ORDERS_TO_RENEW]} (0)"
    table = view.tables[Queue.UNVERIFIED_COVERAGE]
    assert column(table, "Patient") == ["Deskcase, Testy"]
    qtmodeltester.check(table.model())  # type: ignore[attr-defined]
    table.setFocus()
    table.setCurrentIndex(table.model().index(0, 0))
    with qtbot.waitSignal(view.fixRequested) as requested:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert requested.args == ["verify_eligibility", desk.patient, desk.policy]
    assert "1 item to work" in view.status.text()
