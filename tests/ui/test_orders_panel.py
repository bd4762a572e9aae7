"""The orders panel and form, driven from the keyboard and mouse as the front desk would."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.orders import OrderService
from infusion_desk.ui.orders_panel import OrdersPanel
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor
from tests.services.test_authorizations import arrange


def _pick(qtbot: QtBot, picker, text: str, expected_first: str) -> None:  # type: ignore[no-untyped-def]
    picker.search_box.clear()
    qtbot.keyClicks(picker.search_box, text)
    qtbot.waitUntil(
        lambda: picker.results.count() > 0 and picker.results.item(0).text().startswith(expected_first),
        timeout=10_000,
    )
    before = len(picker.codes())
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(picker.codes()) == before + 1, timeout=5000)
    assert picker.codes()[-1] == expected_first.replace(".", "")


def test_new_order_with_two_diagnoses_typed_in_the_picker(qtbot: QtBot, qtmodeltester, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    a = arrange(ui_services)
    desk = make_actor(ui_services, Role.FRONT_DESK)
    panel = OrdersPanel(ui_services, desk)
    qtbot.addWidget(panel)
    panel.show()
    panel.show_patient(a.patient)
    # The first order list builds the ICD-10-CM index for the descriptions (a few seconds, once).
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1 and panel.new_button.isEnabled(), timeout=30_000)
    # The arranged per-kg order shows today's dose from the 73 kg weighed on 11/05/2026.
    assert panel.model.index(0, 2).data() == "5 mg/kg → 365 mg at 73 kg (11/05/2026)"
    assert panel.model.index(0, 4).data() == "1 / 8 (7 left)"
    qtmodeltester.check(panel.model)

    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    qtbot.keyClicks(dialog.dose, "10")
    dialog.basis.setCurrentIndex(dialog.basis.findData("per_kg"))
    # 10 mg/kg x 73 kg = 730 mg, previewed before saving
    assert dialog.preview.text() == "10 mg/kg → 730 mg at 73 kg (11/05/2026)"
    qtbot.keyClicks(dialog.frequency, "every 8 weeks")
    qtbot.keyClicks(dialog.doses, "6")
    dialog.expiry.clear()
    qtbot.keyClicks(dialog.expiry, "10/31/2027")
    _pick(qtbot, dialog.diagnoses, "crohn small intestine without", "K50.00")
    _pick(qtbot, dialog.diagnoses, "m05.79", "M05.79")
    assert dialog.diagnoses.codes() == ("K5000", "M0579")
    # Delete removes the selected chosen code; it is typed again to keep both.
    dialog.diagnoses.chosen.setFocus()
    dialog.diagnoses.chosen.setCurrentRow(1)
    qtbot.keyClick(dialog.diagnoses.chosen, Qt.Key.Key_Delete)
    assert dialog.diagnoses.codes() == ("K5000",)
    _pick(qtbot, dialog.diagnoses, "M05.79", "M05.79")

    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 2, timeout=5000)
    created = [o for o in OrderService(ui_services.db).orders(desk, a.patient) if o.id != a.order]
    assert [d.display for d in created[0].diagnoses] == ["K50.00", "M05.79"]
    assert created[0].doses_ordered == 6
    wait_for_idle()


def test_bad_order_shows_the_message_and_saves_nothing(qtbot: QtBot, ui_services: Services) -> None:
    a = arrange(ui_services)
    desk = make_actor(ui_services, Role.FRONT_DESK)
    panel = OrdersPanel(ui_services, desk)
    qtbot.addWidget(panel)
    panel.show_patient(a.patient)
    qtbot.waitUntil(lambda: panel.new_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(panel.new_button, Qt.MouseButton.LeftButton)
    dialog = panel.dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.loaded, timeout=5000)
    qtbot.keyClicks(dialog.dose, "400")
    qtbot.keyClicks(dialog.frequency, "once")
    # No diagnosis picked: the service refuses, the picker is marked.
    qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "at least one diagnosis" in dialog.error.text(), timeout=5000)
    assert dialog.isVisible()
    assert len(OrderService(ui_services.db).orders(desk, a.patient)) == 1
    wait_for_idle()
