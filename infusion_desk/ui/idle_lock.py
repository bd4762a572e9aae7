"""The idle lock: after some minutes without keyboard or mouse input, the window locks itself.

    lock = IdleLock(window, lambda pw: services.auth.confirm_password(actor, pw),
                    who=f"{actor.display_name} ({actor.username})", timeout_ms=10 * 60_000)

An application event filter restarts a timer on every key press, click, wheel turn or mouse
move. When it runs out, a lock screen covers ``window`` and the other windows of the
application (open dialogs, messages) are hidden; only the signed-in user's password (checked by
``verify`` on the background worker, so wrong guesses count towards the account's lockout)
brings everything back as it was: dialogs, typed text and focus included. Nothing behind the
lock receives input while it is up. Someone else can only **Sign out…**, which closes the
application after asking, because anything typed but not saved would be lost.
"""

from __future__ import annotations

from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QWindow
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.errors import ServiceError
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

DEFAULT_TIMEOUT_MS = 10 * 60_000

_ACTIVITY = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
    }
)
_BLOCKED = frozenset(
    {
        QEvent.Type.KeyPress,
        QEvent.Type.KeyRelease,
        QEvent.Type.ShortcutOverride,
        QEvent.Type.Shortcut,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseButtonRelease,
        QEvent.Type.MouseButtonDblClick,
        QEvent.Type.Wheel,
        QEvent.Type.ContextMenu,
        QEvent.Type.TouchBegin,
    }
)
_TRANSIENT = (Qt.WindowType.Popup, Qt.WindowType.ToolTip)


class LockScreen(QWidget):
    """What covers the window while it is locked: who is signed in, the password, two buttons."""

    def __init__(self, who: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName("lockScreen")
        self.setAutoFillBackground(True)
        title = QLabel("Infusion Desk is locked", self)
        title.setObjectName("lockTitle")
        font = title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        title.setFont(font)
        self.who = QLabel(f"Signed in: {who}. Enter your password to go on where you left off.", self)
        self.who.setObjectName("lockWho")
        self.who.setWordWrap(True)
        self.password = QLineEdit(self)
        self.password.setObjectName("lockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        caption = QLabel("&Password:", self)
        caption.setBuddy(self.password)
        self.error = QLabel(self)
        self.error.setObjectName("lockError")
        set_tone(self.error, ERROR)
        self.error.setWordWrap(True)
        self.error.hide()
        self.unlock_button = QPushButton("&Unlock", self)
        self.unlock_button.setObjectName("unlockButton")
        self.unlock_button.setDefault(True)
        self.sign_out_button = QPushButton("Sign &out…", self)
        self.sign_out_button.setObjectName("signOutButton")
        self.sign_out_button.setAutoDefault(False)

        field = QHBoxLayout()
        field.addWidget(caption)
        field.addWidget(self.password, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.unlock_button)
        buttons.addWidget(self.sign_out_button)
        box = QVBoxLayout()
        box.addWidget(title)
        box.addWidget(self.who)
        box.addLayout(field)
        box.addWidget(self.error)
        box.addLayout(buttons)
        panel = QWidget(self)
        panel.setLayout(box)
        panel.setMaximumWidth(460)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addWidget(panel, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(2)
        self.password.returnPressed.connect(self.unlock_button.click)
        self.hide()

    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: A002 - Qt's name
        """Tab cycles through the lock's own fields, never into the window behind it."""
        chain = [w for w in (self.password, self.unlock_button, self.sign_out_button) if w.isEnabled()]
        current = QApplication.focusWidget()
        index = chain.index(current) if current in chain else -1
        step = 1 if next else -1
        chain[(index + step) % len(chain)].setFocus(
            Qt.FocusReason.TabFocusReason if next else Qt.FocusReason.BacktabFocusReason
        )
        return True


class IdleLock(QObject):
    locked = Signal()
    unlocked = Signal()

    def __init__(
        self,
        window: QWidget,
        verify: Callable[[str], object],
        *,
        who: str,
        timeout_ms: int = DEFAULT_TIMEOUT_MS,
        sign_out: Callable[[], object] | None = None,
    ) -> None:
        """``verify(password)`` raises (``AuthenticationFailed``) unless it is the signed-in user's.

        ``sign_out`` runs after the user confirms signing out; by default it closes the window.
        """
        super().__init__(window)
        self._window = window
        self._verify = verify
        self._sign_out = sign_out or window.window().close
        self._runner = TaskRunner(self)
        self._is_locked = False
        self._hidden: list[QWidget] = []
        self._focus: QWidget | None = None
        self.screen = LockScreen(who, window)
        self.screen.unlock_button.clicked.connect(self.try_unlock)
        self.screen.sign_out_button.clicked.connect(self.ask_sign_out)
        self.sign_out_box: QMessageBox | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.lock)
        self.set_timeout_ms(timeout_ms)
        app = QCoreApplication.instance()
        assert app is not None, "the idle lock needs a running QApplication"
        self._app = app
        app.installEventFilter(self)  # Qt drops the filter by itself when this object is deleted

    @property
    def is_locked(self) -> bool:
        return self._is_locked

    def set_timeout_ms(self, msecs: int) -> None:
        self._timer.setInterval(max(1, msecs))
        if not self._is_locked:
            self._timer.start()

    def set_timeout_minutes(self, minutes: int) -> None:
        self.set_timeout_ms(minutes * 60_000)

    def stop(self) -> None:
        """No more locking (signing out): the filter is removed and nothing stays covered."""
        self._timer.stop()
        self._app.removeEventFilter(self)
        if self._is_locked:
            self._release()

    # -- locking ------------------------------------------------------------------------------

    def lock(self) -> None:
        if self._is_locked or not self._window.isVisible():
            return  # a closed window has nothing to protect, and must not hide the others
        self._is_locked = True
        self._timer.stop()
        focus = QApplication.focusWidget()
        self._focus = focus if focus is not None and not self._inside_lock(focus) else None
        host = self._window.window()
        self._hidden = []
        for widget in QApplication.topLevelWidgets():
            if widget is host or not widget.isVisible() or self._inside_lock(widget):
                continue
            if widget.windowType() not in _TRANSIENT:
                self._hidden.append(widget)
            widget.hide()
        self.screen.error.hide()
        self.screen.password.clear()
        self.screen.unlock_button.setEnabled(True)
        self._cover()
        self.screen.show()
        self.screen.raise_()
        host.activateWindow()
        self.screen.password.setFocus(Qt.FocusReason.OtherFocusReason)
        self.locked.emit()

    def _cover(self) -> None:
        self.screen.setGeometry(self._window.rect())

    def try_unlock(self) -> None:
        if not self._is_locked or not self.screen.unlock_button.isEnabled():
            return
        password = self.screen.password.text()
        if not password:
            self._refused_text("Enter your password.")
            return
        self.screen.unlock_button.setEnabled(False)
        self.screen.error.hide()
        verify = self._verify
        self._runner.run(lambda: verify(password), lambda _ok: self._release(), self._refused)

    def _refused(self, exc: Exception) -> None:
        self.screen.unlock_button.setEnabled(True)
        self._refused_text(describe(exc))
        if not isinstance(exc, ServiceError):
            show_error(self.screen, exc)

    def _refused_text(self, text: str) -> None:
        self.screen.password.clear()
        self.screen.error.setText(text)
        self.screen.error.show()
        self.screen.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def _release(self) -> None:
        self._is_locked = False
        self.screen.password.clear()
        self.screen.hide()
        for widget in self._hidden:
            if shiboken6.isValid(widget):
                widget.show()
        self._hidden = []
        focus, self._focus = self._focus, None
        if focus is not None and shiboken6.isValid(focus) and focus.isVisible():
            focus.window().activateWindow()
            focus.setFocus(Qt.FocusReason.OtherFocusReason)
        self._timer.start()
        self.unlocked.emit()

    def ask_sign_out(self) -> None:
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Sign out",
            "Sign out and close Infusion Desk? Anything typed but not saved in the open windows "
            "will be lost.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self.screen,
        )
        box.setObjectName("signOutQuestion")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.button(QMessageBox.StandardButton.Yes).clicked.connect(self._signed_out)
        box.finished.connect(lambda _result: setattr(self, "sign_out_box", None))
        self.sign_out_box = box
        box.open()

    def _signed_out(self) -> None:
        self.stop()
        self._sign_out()

    # -- the event filter ---------------------------------------------------------------------

    def _inside_lock(self, obj: QObject) -> bool:
        node: QObject | None = obj
        while node is not None:
            if node is self.screen:
                return True
            node = node.parent()
        return False

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if not self._is_locked:
            if kind in _ACTIVITY:
                self._timer.start()
            return False
        if watched is self._window and kind == QEvent.Type.Resize:
            self._cover()
            return False
        if kind in _BLOCKED:
            # Input reaches a QWindow before its widgets; the widget-level event is the one judged.
            return not isinstance(watched, QWindow) and not self._inside_lock(watched)
        if (
            kind == QEvent.Type.Show
            and isinstance(watched, QWidget)
            and watched.isWindow()
            and watched is not self._window.window()
            and not self._inside_lock(watched)
        ):
            # A window opened behind the lock (a finished background task's message) waits too.
            if watched.windowType() not in _TRANSIENT:
                self._hidden.append(watched)
            QTimer.singleShot(0, watched, watched.hide)
        return False
