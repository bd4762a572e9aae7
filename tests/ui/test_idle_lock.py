"""The idle lock, as a user meets it: walk away, come back, type the password, find everything as left."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QLineEdit, QMainWindow, QMessageBox, QVBoxLayout

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.auth import MAX_FAILED_ATTEMPTS
from infusion_desk.ui.idle_lock import IdleLock
from tests.conftest import make_actor

pytestmark = pytest.mark.gui

IDLE_MS = 300


class Window(QMainWindow):
    def __init__(self) -> None:
        super().__init__()
        self.note = QLineEdit(self)
        self.note.setObjectName("note")
        self.setCentralWidget(self.note)
        self.quits = 0
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit_action.triggered.connect(lambda: setattr(self, "quits", self.quits + 1))
        self.addAction(self.quit_action)
        self.resize(640, 400)


@pytest.fixture
def setup(qtbot, ui_services: Services):  # type: ignore[no-untyped-def]
    nurse = make_actor(ui_services, Role.NURSE)  # password pw-nurse
    make_actor(ui_services, Role.BILLER)  # password pw-biller
    window = Window()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    signed_out: list[bool] = []
    lock = IdleLock(
        window,
        lambda password: ui_services.auth.confirm_password(nurse, password),
        who="Test nurse (t_nurse)",
        timeout_ms=IDLE_MS,
        sign_out=lambda: signed_out.append(True),
    )
    yield window, lock, signed_out
    lock.stop()


def _unlock(qtbot, lock: IdleLock, password: str) -> None:  # type: ignore[no-untyped-def]
    qtbot.keyClicks(lock.screen.password, password)
    qtbot.keyClick(lock.screen.password, Qt.Key.Key_Return)


def test_typed_text_survives_the_lock_and_only_the_right_password_unlocks(qtbot, setup) -> None:  # type: ignore[no-untyped-def]
    window, lock, _signed_out = setup
    window.note.setFocus()
    qtbot.keyClicks(window.note, "Infusion started 10:42, ")
    assert not lock.is_locked

    with qtbot.waitSignal(lock.locked, timeout=5000):
        pass  # nobody touches anything
    assert lock.screen.isVisible() and lock.screen.geometry() == window.rect()
    assert lock.screen.password.hasFocus()
    qtbot.keyClicks(window.note, "typed by a passer-by")  # input behind the lock goes nowhere
    assert window.note.text() == "Infusion started 10:42, "
    qtbot.keyClick(lock.screen.password, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    assert window.quits == 0  # the window's shortcuts are asleep too

    _unlock(qtbot, lock, "not-my-password")
    qtbot.waitUntil(lambda: lock.screen.error.isVisible(), timeout=5000)
    assert lock.is_locked and lock.screen.error.text() == "Wrong user name or password."
    assert lock.screen.password.text() == ""

    _unlock(qtbot, lock, "pw-biller")  # another user's password is no key
    qtbot.waitUntil(lambda: lock.screen.unlock_button.isEnabled(), timeout=5000)
    assert lock.is_locked

    with qtbot.waitSignal(lock.unlocked, timeout=5000):
        _unlock(qtbot, lock, "pw-nurse")
    assert not lock.screen.isVisible()
    assert window.note.text() == "Infusion started 10:42, "
    qtbot.waitUntil(window.note.hasFocus, timeout=2000)
    qtbot.keyClicks(window.note, "ended 11:30")
    assert window.note.text() == "Infusion started 10:42, ended 11:30"


def test_input_keeps_the_window_unlocked(qtbot, setup) -> None:  # type: ignore[no-untyped-def]
    window, lock, _signed_out = setup
    lock.set_timeout_ms(1000)  # roomy: a busy test machine must not pass for an idle user
    for _ in range(6):
        qtbot.wait(250)
        qtbot.keyClicks(window.note, "x")
    assert not lock.is_locked and window.note.text() == "xxxxxx"
    with qtbot.waitSignal(lock.locked, timeout=5000):
        pass


def test_an_open_dialog_is_hidden_while_locked_and_back_as_it_was(qtbot, setup) -> None:  # type: ignore[no-untyped-def]
    window, lock, _signed_out = setup
    dialog = QDialog(window)
    dialog.setWindowTitle("Record verification (test)")
    field = QLineEdit(dialog)
    QVBoxLayout(dialog).addWidget(field)
    dialog.open()
    qtbot.waitExposed(dialog)
    dialog.activateWindow()
    field.setFocus()
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    qtbot.keyClicks(field, "REF-20261127")

    lock.lock()
    assert not dialog.isVisible()  # nothing about a patient shows around the lock
    with qtbot.waitSignal(lock.unlocked, timeout=5000):
        _unlock(qtbot, lock, "pw-nurse")
    assert dialog.isVisible() and field.text() == "REF-20261127"
    assert dialog.isModal() or dialog.windowModality() != Qt.WindowModality.NonModal
    qtbot.waitUntil(field.hasFocus, timeout=2000)
    dialog.reject()


def test_wrong_passwords_lock_the_account_and_only_sign_out_remains(qtbot, setup, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    _window, lock, signed_out = setup
    lock.lock()
    for _ in range(MAX_FAILED_ATTEMPTS):
        _unlock(qtbot, lock, "wrong")
        qtbot.waitUntil(lambda: lock.screen.unlock_button.isEnabled(), timeout=5000)
    _unlock(qtbot, lock, "pw-nurse")
    qtbot.waitUntil(lambda: "locked" in lock.screen.error.text(), timeout=5000)
    assert lock.is_locked

    qtbot.mouseClick(lock.screen.sign_out_button, Qt.MouseButton.LeftButton)
    box = lock.sign_out_box
    assert box is not None and "Anything typed but not saved" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.No), Qt.MouseButton.LeftButton)
    assert lock.is_locked and signed_out == []

    qtbot.mouseClick(lock.screen.sign_out_button, Qt.MouseButton.LeftButton)
    box = lock.sign_out_box
    assert box is not None
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    assert signed_out == [True]
