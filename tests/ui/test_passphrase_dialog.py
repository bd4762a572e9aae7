"""Without a keyring the window asks for the database passphrase: chosen at the first start, typed after."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models.encryption import FileState, file_state
from infusion_desk.services.app import Services
from infusion_desk.ui.app_window import AppWindow
from infusion_desk.ui.tasks import wait_for_idle
from tests.memory_keyring import installed

PASSPHRASE = "seven quiet chairs by the window"


@pytest.fixture
def no_keyring() -> Iterator[KeyringBackend]:
    yield from installed(fail.Keyring())


def _window(qtbot: QtBot, path: Path, opened: list[Services]) -> AppWindow:
    def open_services(passphrase: str | None = None) -> Services:
        services, _ = Services.open(f"sqlite:///{path}", passphrase=passphrase)
        opened.append(services)
        return services

    window = AppWindow(open_services)
    qtbot.addWidget(window)
    window.show()
    return window


def _type_and_confirm(qtbot: QtBot, window: AppWindow, passphrase: str, again: str | None = None) -> None:
    dialog = window.passphrase_dialog
    assert dialog is not None
    dialog.passphrase_edit.clear()
    qtbot.keyClicks(dialog.passphrase_edit, passphrase)
    if again is not None:
        dialog.confirm_edit.clear()
        qtbot.keyClicks(dialog.confirm_edit, again)
    qtbot.keyClick(dialog.passphrase_edit, Qt.Key.Key_Return)


def test_the_first_start_asks_for_a_passphrase_then_every_start_after(
    qtbot: QtBot, tmp_path: Path, no_keyring: KeyringBackend
) -> None:
    path = tmp_path / "clinic.sqlite3"
    opened: list[Services] = []
    window = _window(qtbot, path, opened)
    qtbot.waitUntil(lambda: window.passphrase_dialog is not None and window.passphrase_dialog.isVisible())
    dialog = window.passphrase_dialog
    assert dialog is not None and dialog.first_run and dialog.confirm_edit.isVisible()

    _type_and_confirm(qtbot, window, "short", "short")
    assert dialog.isVisible() and "at least 12 characters" in dialog.error.text()
    _type_and_confirm(qtbot, window, PASSPHRASE, PASSPHRASE + "!")
    assert dialog.isVisible() and "differ" in dialog.error.text()
    _type_and_confirm(qtbot, window, PASSPHRASE, PASSPHRASE)
    # the new database is open and empty: the setup wizard takes over
    qtbot.waitUntil(lambda: window.wizard is not None and window.wizard.isVisible(), timeout=10000)
    assert file_state(path) is FileState.ENCRYPTED
    wait_for_idle()
    window.close()
    for services in opened:
        services.close()

    opened.clear()
    window = _window(qtbot, path, opened)
    qtbot.waitUntil(lambda: window.passphrase_dialog is not None and window.passphrase_dialog.isVisible())
    first = window.passphrase_dialog
    assert first is not None and not first.first_run and not first.confirm_edit.isVisible()
    _type_and_confirm(qtbot, window, "seven loud chairs by the door")
    qtbot.waitUntil(lambda: window.passphrase_dialog is not first and window.passphrase_dialog is not None
                    and window.passphrase_dialog.isVisible(), timeout=10000)
    retry = window.passphrase_dialog
    assert retry is not None and "That passphrase does not open clinic.sqlite3" in retry.error.text()
    _type_and_confirm(qtbot, window, PASSPHRASE)
    qtbot.waitUntil(lambda: window.wizard is not None and window.wizard.isVisible(), timeout=10000)
    assert not window.sign_in.error.isVisible()
    wait_for_idle()
    window.close()
    for services in opened:
        services.close()


def test_cancelling_the_passphrase_leaves_the_explanation_in_the_window(
    qtbot: QtBot, tmp_path: Path, no_keyring: KeyringBackend
) -> None:
    window = _window(qtbot, tmp_path / "clinic.sqlite3", [])
    qtbot.waitUntil(lambda: window.passphrase_dialog is not None and window.passphrase_dialog.isVisible())
    assert window.passphrase_dialog is not None
    window.passphrase_dialog.reject()
    qtbot.waitUntil(lambda: window.sign_in.error.isVisible())
    assert "Choose a passphrase" in window.sign_in.error.text()
    assert not window.sign_in.sign_in_button.isEnabled()
    assert not (tmp_path / "clinic.sqlite3").exists()
    wait_for_idle()
