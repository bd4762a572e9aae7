"""Signing in through the dialog, as a user types it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.ui.sign_in import SignInDialog
from tests.conftest import make_actor
from tests.ui.conftest import clinic_details

pytestmark = pytest.mark.gui


@pytest.fixture
def dialog(qtbot, ui_services: Services, clinic) -> SignInDialog:  # type: ignore[no-untyped-def]
    make_actor(ui_services, Role.NURSE)  # user t_nurse, password pw-nurse
    dialog = SignInDialog(ui_services)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.clinicLoaded):
        dialog.show()
    return dialog


def test_right_password_signs_in(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    assert dialog.clinic.text() == "Lakeview Infusion Suite"
    assert not dialog.demo_banner.isVisible()

    qtbot.keyClicks(dialog.username, "t_nurse")
    qtbot.keyClick(dialog.username, Qt.Key.Key_Tab)
    qtbot.keyClicks(dialog.password, "pw-nurse")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.actor is not None and dialog.actor.role is Role.NURSE


def test_wrong_password_shows_error_and_clears_password(qtbot, dialog: SignInDialog) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClicks(dialog.username, "t_nurse")
    qtbot.keyClicks(dialog.password, "not-the-password")
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    qtbot.waitUntil(lambda: dialog.error.isVisible(), timeout=10_000)
    assert dialog.error.text() == "Wrong user name or password."
    assert dialog.password.text() == ""
    assert dialog.focusWidget() is dialog.password
    assert dialog.isVisible() and dialog.actor is None
    assert dialog.sign_in_button.isEnabled()


def test_demo_clinic_shows_banner_and_demo_users(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    admin = make_actor(ui_services, Role.ADMIN)
    ui_services.clinic.update_details(admin, clinic_details("Maple Grove (DEMO)", is_demo=True))
    dialog = SignInDialog(ui_services)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.clinicLoaded):
        dialog.show()

    assert dialog.demo_banner.isVisible()
    assert dialog.demo_banner.text() == "Demo clinic — fictional data"
    hint = dialog.demo_hint.text()
    for user in ("frontdesk", "nurse", "biller", "manager", "admin"):
        assert user in hint
    assert "password: demo" in hint
