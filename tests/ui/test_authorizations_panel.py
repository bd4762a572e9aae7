"""The authorizations panel and form: burn-down from the visits, and reversed dates refused."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from infusion_desk.models import PriorAuthorization
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.ui.authorizations_panel import AuthorizationsPanel
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor
from tests.services.test_authorizations import arrange


def _open_form(qtbot: QtBot, ui_services: Services):  # type: ignore[no-untyped-def]
    # A completed visit coded J1745 x37 + JW x3 + 96413, and two visits booked at 5 mg/kg, 73 kg.
    a = arrange(ui_services, booked=(date(2099, 1, 6), date(2099, 3, 3)))
    desk = make_actor(ui_services, Role.FRONT_DESK)
    panel = AuthorizationsPanel(ui_services, desk)
    qtbot.addWidget(panel)
    panel.show()
    panel.show_patient(a.patient)
    qtbot.waitUntil(lambda: panel.new_button.isEnabled(), timeout=5000)
    assert panel.status.text() == "No authorizations on file."
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    return a, panel, dialog


def _count(ui_services: Services) -> int:
    with ui_services.db.session() as session:
        return int(session.scalar(sa.select(sa.func.count(PriorAuthorization.id))) or 0)


def test_create_and_see_the_burn_down(qtbot: QtBot, qtmodeltester, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    a, panel, dialog = _open_form(qtbot, ui_services)
    qtbot.keyClicks(dialog.number, "PA-UI-0001")
    dialog.order.setCurrentIndex(1)  # the infliximab order: its HCPCS fills the codes
    assert dialog.codes.text() == "J1745"
    qtbot.keyClicks(dialog.units, "120")
    qtbot.keyClicks(dialog.valid_from, "11/01/2026")
    qtbot.keyClicks(dialog.valid_to, "12/31/2099")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    row = [panel.model.index(0, c).data() for c in range(panel.model.columnCount())]
    # approved 120; used 37 + 3 JW = 40 (96413 is not on this authorization); booked 2 x 37 = 74;
    # remaining 120 - 40 - 74 = 6
    assert row[0] == "PA-UI-0001" and row[2] == "J1745" and row[3] == "Approved"
    assert row[5:9] == ["120", "40", "74", "6"]
    # 12 cells: 40/120 -> 4 used, 74/120 -> 7 booked, 1 left
    assert row[9] == "████▒▒▒▒▒▒▒░"
    qtmodeltester.check(panel.model)
    wait_for_idle()


def test_reversed_dates_show_the_message_and_nothing_is_saved(qtbot: QtBot, ui_services: Services) -> None:
    a, panel, dialog = _open_form(qtbot, ui_services)
    qtbot.keyClicks(dialog.number, "PA-UI-0002")
    qtbot.keyClicks(dialog.codes, "J1745")
    qtbot.keyClicks(dialog.units, "120")
    qtbot.keyClicks(dialog.valid_from, "01/31/2027")
    qtbot.keyClicks(dialog.valid_to, "11/01/2026")
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    message = dialog._errors["valid_to"]
    qtbot.waitUntil(lambda: message.isVisible(), timeout=5000)
    assert "The authorization ends before it starts (01/31/2027 to 11/01/2026)" in message.text()
    assert dialog.isVisible()
    assert _count(ui_services) == 0
    assert panel.model.rowCount() == 0
    wait_for_idle()
