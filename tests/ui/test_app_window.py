"""The application window is on screen before the database is open, then signs in to the workspaces."""

from __future__ import annotations

import threading

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role
from infusion_desk.models.migrate import DatabaseTooNewError
from infusion_desk.services.app import Services
from infusion_desk.ui.app_window import AppWindow
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor


def test_window_first_then_sign_in_then_workspaces(qtbot: QtBot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    make_actor(ui_services, Role.NURSE, "nora")
    opened = threading.Event()

    def slow_open() -> Services:
        opened.wait(10)  # the database takes its time; the window must not wait for it
        return ui_services

    window = AppWindow(slow_open)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    form = window.sign_in
    assert form.isVisible() and not form.sign_in_button.isEnabled()
    assert "Opening the clinic database" in form.clinic.text()

    with qtbot.waitSignal(window.ready, timeout=5000):
        opened.set()
    qtbot.waitUntil(lambda: form.clinic.text() == "Lakeview Infusion Suite", timeout=5000)
    qtbot.keyClicks(form.username, "nora")
    qtbot.keyClicks(form.password, "pw-nurse")
    with qtbot.waitSignal(window.signedIn, timeout=10000):
        qtbot.keyClick(form.password, Qt.Key.Key_Return)
    assert window.main is not None and window.main.workspace_titles() == ["Nursing"]
    qtbot.waitUntil(lambda: "Lakeview Infusion Suite" in window.windowTitle(), timeout=5000)
    wait_for_idle()


def test_a_database_that_cannot_open_is_explained_in_the_window(qtbot: QtBot) -> None:
    def too_new() -> Services:
        raise DatabaseTooNewError("This database was last opened by a newer version of Infusion Desk.")

    window = AppWindow(too_new)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.sign_in.error.isVisible(), timeout=5000)
    assert "newer version" in window.sign_in.error.text()
    assert not window.sign_in.sign_in_button.isEnabled()
    wait_for_idle()


def test_the_window_module_loads_without_the_data_layer_keyring_or_ssh() -> None:
    """The window appears before the database layer loads (start-up figure in bench/RESULTS.md).

    Regression: the error messages module imported the keyring service at start-up, pulling
    SQLAlchemy and keyring in before the first paint and making start-up five times slower.
    """
    import os
    import subprocess
    import sys

    probe = (
        "import sys, infusion_desk.ui.app; "
        "print(sorted(m for m in ('sqlalchemy', 'keyring', 'paramiko') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    ).stdout.strip()
    assert out == "[]"


def test_ctrl_l_locks_the_signed_in_window_and_the_users_menu_is_the_administrators(  # type: ignore[no-untyped-def]
    qtbot: QtBot, ui_services: Services, clinic
) -> None:
    make_actor(ui_services, Role.NURSE, "nora")
    window = AppWindow(lambda: ui_services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitSignal(window.ready, timeout=5000)
    qtbot.waitUntil(lambda: window.services is not None, timeout=5000)
    form = window.sign_in
    qtbot.keyClicks(form.username, "nora")
    qtbot.keyClicks(form.password, "pw-nurse")
    with qtbot.waitSignal(window.signedIn, timeout=10000):
        qtbot.keyClick(form.password, Qt.Key.Key_Return)
    main = window.main
    assert main is not None and window.idle_lock is not None
    assert not main.users_action.isVisible()  # a nurse does not manage users
    assert main.lock_action.isEnabled() and main.lock_action.shortcut().toString() == "Ctrl+L"

    main.lock_action.trigger()
    lock = window.idle_lock
    assert lock.is_locked
    qtbot.keyClicks(lock.screen.password, "pw-wrong")
    qtbot.keyClick(lock.screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: lock.screen.error.text() != "", timeout=5000)
    assert lock.is_locked
    lock.screen.password.clear()
    qtbot.keyClicks(lock.screen.password, "pw-nurse")
    qtbot.keyClick(lock.screen.password, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not lock.is_locked, timeout=5000)
    wait_for_idle()
    window.close()


def test_an_empty_database_opens_the_setup_wizard_and_then_the_sign_in(  # type: ignore[no-untyped-def]
    qtbot: QtBot, ui_services: Services, monkeypatch
) -> None:
    from PySide6.QtWidgets import QApplication

    from infusion_desk.services import setup as first_run
    from infusion_desk.ui.first_run_wizard import Page

    monkeypatch.setattr(first_run, "DEMO_PATIENTS", 4)
    monkeypatch.setattr(first_run, "DEMO_MONTHS", 1)
    window = AppWindow(lambda: ui_services)  # no clinic, no users: a new clinic database
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.wizard is not None and window.wizard.isVisible(), timeout=10_000)
    wizard = window.wizard
    assert wizard is not None and window.stack.currentWidget() is wizard
    assert not window.sign_in.isVisible()
    with qtbot.waitActive(window):
        window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is not None, timeout=5_000)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_I, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(wizard.database_page.demo.isChecked)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: wizard.currentId() == int(Page.DEMO), timeout=20_000)
    qtbot.waitUntil(wizard.demo_page.isComplete, timeout=60_000)
    with qtbot.waitSignal(window.ready, timeout=10_000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)
    form = window.sign_in
    assert window.stack.currentWidget() is form
    qtbot.keyClicks(form.username, "biller")
    qtbot.keyClicks(form.password, "demo")
    with qtbot.waitSignal(window.signedIn, timeout=10_000):
        qtbot.keyClick(form.password, Qt.Key.Key_Return)
    assert window.main is not None and "Billing" in window.main.workspace_titles()
    wait_for_idle()
    window.close()


def test_the_first_start_on_a_computer_asks_where_the_database_lives_first(
    qtbot: QtBot, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    opened: list[str] = []
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    window = AppWindow(lambda: opened.append("opened"), choose_database=url)  # type: ignore[arg-type, return-value]
    qtbot.addWidget(window)
    window.show()
    assert window.wizard is not None and window.stack.currentWidget() is window.wizard
    assert str(tmp_path / "clinic.sqlite3") in window.wizard.database_page.local_path.text()
    wait_for_idle()
    assert opened == [] and not (tmp_path / "clinic.sqlite3").exists()  # nothing opened before a choice
    window.close()
