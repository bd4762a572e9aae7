"""User accounts (File → Users…) and the forced password change at sign-in, driven from the keyboard."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog

from infusion_desk.models.enums import Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.auth import MAX_FAILED_ATTEMPTS
from infusion_desk.services.errors import AuthenticationFailed
from infusion_desk.ui.sign_in import SignInDialog
from infusion_desk.ui.users_dialog import UsersDialog
from tests.conftest import make_actor

pytestmark = pytest.mark.gui

GOOD = "Quiet-Harbor-77"


@pytest.fixture
def dialog(qtbot, ui_services: Services, admin_actor: Actor) -> UsersDialog:  # type: ignore[no-untyped-def]
    make_actor(ui_services, Role.NURSE, "nell")
    dialog = UsersDialog(ui_services, admin_actor)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    qtbot.waitUntil(lambda: dialog.idle_minutes.value() == 10, timeout=10_000)
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    dialog.table.setFocus()
    return dialog


def _alt(qtbot, dialog: UsersDialog, key: Qt.Key) -> None:  # type: ignore[no-untyped-def]
    dialog.activateWindow()  # back from the last form (offscreen windows do not hand activation back)
    qtbot.waitUntil(dialog.isActiveWindow, timeout=5_000)
    qtbot.keyClick(dialog, key, Qt.KeyboardModifier.AltModifier)  # a mnemonic clicks after a moment


def _open_form(qtbot, dialog: UsersDialog, key: Qt.Key, name: str):  # type: ignore[no-untyped-def]
    _alt(qtbot, dialog, key)
    qtbot.waitUntil(lambda: dialog.form is not None, timeout=5_000)
    form = dialog.form
    assert form is not None and form.objectName() == name
    return form


def _cell(dialog: UsersDialog, username: str, column: str) -> str:
    headers = [dialog.model.headerData(c, Qt.Orientation.Horizontal) for c in range(dialog.model.columnCount())]
    for row in range(dialog.model.rowCount()):
        if dialog.model.row(row).username == username:
            return str(dialog.model.index(row, headers.index(column)).data())
    raise AssertionError(f"{username} not listed")


def _reload(qtbot, dialog: UsersDialog, action) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        action()


def test_the_list_shows_each_accounts_role_state_and_last_sign_in(qtbot, dialog: UsersDialog, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(dialog.model)
    assert _cell(dialog, "nell", "Role") == "Nurse"
    assert _cell(dialog, "nell", "Status") == "Active"
    assert _cell(dialog, "nell", "Locked") == ""
    assert _cell(dialog, "nell", "Last sign-in").count("/") == 2  # MM/DD/YYYY h:mm AM
    assert _cell(dialog, "t_admin", "Role") == "Administrator"


def test_add_a_user_from_the_keyboard_and_weak_passwords_are_explained(
    qtbot, dialog: UsersDialog, ui_services: Services  # type: ignore[no-untyped-def]
) -> None:
    form = _open_form(qtbot, dialog, Qt.Key.Key_A, "addUserDialog")
    qtbot.waitUntil(form.username.hasFocus, timeout=2000)
    qtbot.keyClicks(form.username, "bea")
    qtbot.keyClick(form.username, Qt.Key.Key_Tab)
    qtbot.keyClicks(form.display_name, "Bea Biller")
    form.role.setCurrentIndex(form.role.findData(Role.BILLER.value))
    qtbot.keyClicks(form.new_password.password, "bea12345")
    qtbot.keyClicks(form.new_password.confirm, "bea12345")
    qtbot.keyClick(form.new_password.confirm, Qt.Key.Key_Return)

    qtbot.waitUntil(form.findings.isVisible, timeout=10_000)
    assert "use at least 12 characters" in form.findings.text()
    assert "your user name or your name" in form.findings.text()
    assert form.isVisible() and form.username.text() == "bea"  # nothing typed is lost
    with pytest.raises(AuthenticationFailed):
        ui_services.auth.sign_in("bea", "bea12345")  # nothing saved

    form.new_password.password.clear()
    form.new_password.confirm.clear()
    qtbot.keyClicks(form.new_password.password, GOOD)
    qtbot.keyClicks(form.new_password.confirm, GOOD + "x")
    qtbot.keyClick(form.new_password.confirm, Qt.Key.Key_Return)
    assert form.findings.text() == "Confirm password: the two passwords are not the same."

    qtbot.keyClicks(form.new_password.confirm, GOOD)
    _reload(qtbot, dialog, lambda: qtbot.keyClick(form.new_password.confirm, Qt.Key.Key_Return))
    assert _cell(dialog, "bea", "Role") == "Biller"
    assert _cell(dialog, "bea", "Password") == "Must change at next sign-in"
    assert dialog.selected() is not None and dialog.selected().username == "bea"  # type: ignore[union-attr]
    assert ui_services.auth.authenticate("bea", GOOD).must_change_password


def test_reset_unlock_role_and_deactivate_the_selected_user(
    qtbot, dialog: UsersDialog, ui_services: Services, admin_actor: Actor  # type: ignore[no-untyped-def]
) -> None:
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            ui_services.auth.sign_in("nell", "wrong")
    _reload(qtbot, dialog, dialog.refresh)
    dialog.select_user("nell")
    assert _cell(dialog, "nell", "Locked").startswith("Locked until")
    assert dialog.unlock_button.isEnabled()
    _reload(qtbot, dialog, lambda: _alt(qtbot, dialog, Qt.Key.Key_U))
    assert _cell(dialog, "nell", "Locked") == "" and not dialog.unlock_button.isEnabled()
    assert ui_services.auth.sign_in("nell", "pw-nurse").username == "nell"

    form = _open_form(qtbot, dialog, Qt.Key.Key_O, "changeRoleDialog")
    form.role.setCurrentIndex(form.role.findData(Role.FRONT_DESK.value))
    _reload(qtbot, dialog, lambda: qtbot.keyClick(form.role, Qt.Key.Key_Return))
    assert _cell(dialog, "nell", "Role") == "Front desk"

    form = _open_form(qtbot, dialog, Qt.Key.Key_R, "resetPasswordDialog")
    qtbot.keyClicks(form.new_password.password, GOOD)
    qtbot.keyClicks(form.new_password.confirm, GOOD)
    _reload(qtbot, dialog, lambda: qtbot.keyClick(form.new_password.confirm, Qt.Key.Key_Return))
    assert _cell(dialog, "nell", "Password") == "Must change at next sign-in"

    assert dialog.active_button.text() == "&Deactivate"
    _reload(qtbot, dialog, lambda: _alt(qtbot, dialog, Qt.Key.Key_D))
    assert _cell(dialog, "nell", "Status") == "Inactive"
    assert dialog.active_button.text() == "Reac&tivate"
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        ui_services.auth.authenticate("nell", GOOD)
    _reload(qtbot, dialog, lambda: _alt(qtbot, dialog, Qt.Key.Key_T))
    assert _cell(dialog, "nell", "Status") == "Active"


def test_the_last_administrator_is_told_why_they_cannot_deactivate_themselves(
    qtbot, dialog: UsersDialog  # type: ignore[no-untyped-def]
) -> None:
    dialog.select_user("t_admin")
    _alt(qtbot, dialog, Qt.Key.Key_D)
    qtbot.waitUntil(dialog.findings.isVisible, timeout=10_000)
    assert "only active administrator" in dialog.findings.text()
    assert _cell(dialog, "t_admin", "Status") == "Active"


def test_the_idle_lock_minutes_are_saved(qtbot, dialog: UsersDialog, ui_services: Services, admin_actor: Actor) -> None:  # type: ignore[no-untyped-def]
    dialog.idle_minutes.setValue(5)
    _alt(qtbot, dialog, Qt.Key.Key_V)
    qtbot.waitUntil(dialog.findings.isVisible, timeout=10_000)
    assert "after 5 minutes" in dialog.findings.text()
    assert ui_services.auth.idle_lock_minutes(admin_actor) == 5


# -- the forced change at sign-in ------------------------------------------------------------


@pytest.fixture
def reset_nurse(ui_services: Services, admin_actor: Actor, clinic) -> None:  # type: ignore[no-untyped-def]
    nurse = make_actor(ui_services, Role.NURSE, "nell")
    ui_services.auth.reset_password(admin_actor, nurse.user_id, GOOD)


def _sign_in(qtbot, ui_services: Services) -> SignInDialog:  # type: ignore[no-untyped-def]
    dialog = SignInDialog(ui_services)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.clinicLoaded, timeout=10_000):
        dialog.show()
    qtbot.keyClicks(dialog.username, "nell")
    qtbot.keyClicks(dialog.password, GOOD)
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.change_password is not None, timeout=10_000)
    return dialog


def test_after_a_reset_the_user_chooses_a_new_password_before_working(
    qtbot, ui_services: Services, reset_nurse: None  # type: ignore[no-untyped-def]
) -> None:
    dialog = _sign_in(qtbot, ui_services)
    change = dialog.change_password
    assert change is not None and not change.old.isVisible()  # the password just typed is the current one
    qtbot.waitUntil(change.new.hasFocus, timeout=2000)
    qtbot.keyClicks(change.new, "nellnellnell")
    qtbot.keyClick(change.new, Qt.Key.Key_Tab)
    qtbot.keyClicks(change.confirm, "nellnellnell")
    qtbot.keyClick(change.confirm, Qt.Key.Key_Return)
    qtbot.waitUntil(change.findings.isVisible, timeout=10_000)
    assert "your user name or your name" in change.findings.text()
    assert dialog.actor is None

    change.new.clear()
    change.confirm.clear()
    qtbot.keyClicks(change.new, "lantern maple 4 river")
    qtbot.keyClicks(change.confirm, "lantern maple 4 river")
    with qtbot.waitSignal(dialog.accepted, timeout=10_000):
        qtbot.keyClick(change.confirm, Qt.Key.Key_Return)
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert dialog.actor is not None and dialog.actor.username == "nell"
    assert ui_services.auth.sign_in("nell", "lantern maple 4 river").username == "nell"


def test_cancelling_the_change_leaves_the_user_at_the_sign_in_form(
    qtbot, ui_services: Services, reset_nurse: None  # type: ignore[no-untyped-def]
) -> None:
    dialog = _sign_in(qtbot, ui_services)
    change = dialog.change_password
    assert change is not None
    qtbot.keyClick(change, Qt.Key.Key_Escape)
    qtbot.waitUntil(dialog.error.isVisible, timeout=2000)
    assert "Choose a new password to sign in" in dialog.error.text()
    assert dialog.actor is None and dialog.password.text() == ""
    assert dialog.sign_in_button.isEnabled()
    assert QApplication.activeModalWidget() is None
