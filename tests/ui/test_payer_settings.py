"""A manager changes how one payer wants waste billed, from the keyboard-friendly settings form."""

from __future__ import annotations

from datetime import date

from pytestqt.qtbot import QtBot

from infusion_desk.services.app import Services
from infusion_desk.services.demo import generate_demo
from infusion_desk.ui.payer_settings import PayerSettingsDialog
from infusion_desk.ui.tasks import wait_for_idle


def test_manager_sets_a_commercial_payer_to_jw_jz(qtbot: QtBot, sqlite_services: Services) -> None:
    generate_demo(sqlite_services.db, patients=2, months=0, seed=1, today=date(2026, 11, 26))
    manager = sqlite_services.auth.sign_in("manager", "demo")
    dialog = PayerSettingsDialog(sqlite_services, manager)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.payer_combo.count() == 5, timeout=5000)
    index = next(i for i in range(5) if "Bluebonnet" in dialog.payer_combo.itemText(i))
    payer_id = dialog.payer_combo.itemData(index)
    dialog.payer_combo.setCurrentIndex(index)
    waste = dialog.combos["waste_modifiers"]
    qtbot.waitUntil(lambda: waste.currentData() == "jw", timeout=5000)  # commercial default
    waste.setCurrentIndex(waste.findData("jw_jz"))
    qtbot.keyClicks(dialog.therapeutic_codes_edit, "j2350, J2323")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    assert "Saved" in dialog.status.text()
    stored = sqlite_services.clinic.payer_coding_settings(manager, payer_id)
    assert stored["waste_modifiers"] == "jw_jz" and stored["separate_site_modifier"] == "59"
    assert stored["therapeutic_admin_hcpcs"] == ("J2350", "J2323")
    wait_for_idle()


def test_manager_lets_a_payers_matched_remittances_post_at_once(qtbot: QtBot, sqlite_services: Services) -> None:
    from infusion_desk.models.enums import EraPosting

    generate_demo(sqlite_services.db, patients=2, months=0, seed=1, today=date(2026, 11, 26))
    manager = sqlite_services.auth.sign_in("manager", "demo")
    dialog = PayerSettingsDialog(sqlite_services, manager)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.payer_combo.count() == 5, timeout=5000)
    payer_id = dialog.payer_combo.currentData()
    assert sqlite_services.clinic.payer_era_posting(manager, payer_id) is EraPosting.REVIEW  # the default
    qtbot.waitUntil(lambda: dialog.era_combo.currentData() == "review", timeout=5000)
    dialog.era_combo.setFocus()
    dialog.era_combo.setCurrentIndex(dialog.era_combo.findData("matched"))
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        dialog.save()
    assert sqlite_services.clinic.payer_era_posting(manager, payer_id) is EraPosting.MATCHED
    wait_for_idle()
