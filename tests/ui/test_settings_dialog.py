"""Clinic settings: a bad NPI is named and keeps the dialog open; a fixed one saves."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.ui.main_window import MainWindow
from infusion_desk.ui.settings_dialog import SettingsDialog
from tests.conftest import make_actor

pytestmark = pytest.mark.gui


def _retype(qtbot, field, text: str) -> None:  # type: ignore[no-untyped-def]
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, text)


def test_bad_npi_is_shown_then_fixed_and_saved(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(ui_services, make_actor(ui_services, Role.MANAGER))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.clinicLoaded, timeout=5_000):
        window.show()
    window.activateWindow()
    qtbot.waitActive(window)

    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(QDialog, "settingsDialog")
    assert isinstance(dialog, SettingsDialog)
    qtbot.waitUntil(lambda: dialog.fields["name"].text() == "Lakeview Infusion Suite", timeout=5_000)
    assert dialog.fields["npi"].text() == "1234567893"
    assert dialog.fields["taxonomy"].text() == "261QM1300X"

    npi = dialog.fields["npi"]
    _retype(qtbot, npi, "1234567890")
    with qtbot.waitSignal(dialog.findingsShown, timeout=5_000):
        qtbot.keyClick(npi, Qt.Key.Key_Return)

    error = dialog.errors["npi"]
    assert error.isVisible()
    assert "check digit" in error.text()
    assert not dialog.errors["name"].isVisible()
    assert dialog.isVisible()
    assert dialog.focusWidget() is npi
    assert "Not saved" in dialog.message.text()

    _retype(qtbot, npi, "1234567893")
    assert not error.isVisible()  # editing the field clears its message
    _retype(qtbot, dialog.fields["name"], "Lakeview Infusion Center")
    with qtbot.waitSignal(window.clinicLoaded, timeout=5_000):
        qtbot.keyClick(dialog.fields["name"], Qt.Key.Key_Return)

    assert window.windowTitle() == "Infusion Desk — Lakeview Infusion Center"
    details = ui_services.clinic.details()
    assert details is not None and details.name == "Lakeview Infusion Center"


def test_several_findings_focus_the_first_field_in_form_order(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    manager = make_actor(ui_services, Role.MANAGER)
    dialog = SettingsDialog(ui_services, manager)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=5_000):
        dialog.show()
    _retype(qtbot, dialog.fields["zip_code"], "6270")
    _retype(qtbot, dialog.fields["tin"], "12-34")
    with qtbot.waitSignal(dialog.findingsShown, timeout=5_000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)

    assert dialog.errors["tin"].isVisible() and dialog.errors["zip_code"].isVisible()
    assert dialog.focusWidget() is dialog.fields["tin"]
    assert dialog.result() != QDialog.DialogCode.Accepted and dialog.isVisible()


def test_nurse_has_no_settings_shortcut(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(ui_services, make_actor(ui_services, Role.NURSE))
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.clinicLoaded, timeout=5_000):
        window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert window.findChild(QDialog, "settingsDialog") is None
