"""The sign-in dialog: the clinic's name, a demo banner when the data is fictional, the fields.

Enter signs in; on success ``dialog.actor`` is the signed-in user. A user whose password an
administrator reset chooses a new one first (:class:`ChangePasswordDialog`); cancelling it
leaves them at the sign-in form.

The password check (argon2, deliberately slow) runs on the background worker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.errors import ServiceError
from infusion_desk.ui.change_password_dialog import ChangePasswordDialog
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services
    from infusion_desk.services.auth import SignIn
    from infusion_desk.services.clinic import ClinicDetails

DEMO_BANNER = "Demo clinic — fictional data"


@dataclass(frozen=True, slots=True)
class _ClinicInfo:
    details: ClinicDetails | None
    demo_hint: str | None


def _clinic_info(services: Services) -> _ClinicInfo:
    details = services.clinic.details()
    hint = None
    if details is not None and details.is_demo:
        # Imported only for a demo database: the user list lives with the demo generator.
        from infusion_desk.services.demo import DEMO_PASSWORD, DEMO_USERS

        names = ", ".join(username for username, _display, _role in DEMO_USERS)
        hint = f"Demo users: {names} — password: {DEMO_PASSWORD}"
    return _ClinicInfo(details, hint)


class SignInDialog(QDialog):
    clinicLoaded = Signal()

    def __init__(self, services: Services | None, parent: QWidget | None = None) -> None:
        """Without ``services`` the form waits (disabled) until :meth:`attach` brings them."""
        super().__init__(parent)
        self.setObjectName("signInDialog")
        self.setWindowTitle("Sign in — Infusion Desk")
        self._services = services
        self._runner = TaskRunner(self)
        self.actor: Actor | None = None
        self.change_password: ChangePasswordDialog | None = None

        self.clinic = QLabel("Infusion Desk", self)
        self.clinic.setObjectName("signInClinic")
        font = self.clinic.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.clinic.setFont(font)
        self.clinic.setWordWrap(True)

        self.demo_banner = QLabel(DEMO_BANNER, self)
        self.demo_banner.setObjectName("signInDemoBanner")
        self.demo_banner.setStyleSheet(
            "background: #fff3cd; color: #664d03; padding: 6px; font-weight: bold;"
        )
        self.demo_banner.hide()
        self.demo_hint = QLabel(self)
        self.demo_hint.setObjectName("signInDemoHint")
        self.demo_hint.setWordWrap(True)
        self.demo_hint.hide()

        self.username = QLineEdit(self)
        self.username.setObjectName("signInUser")
        self.username.setAccessibleName("User name")
        self.password = QLineEdit(self)
        self.password.setObjectName("signInPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setAccessibleName("Password")
        user_label = QLabel("&User name:", self)
        user_label.setBuddy(self.username)
        password_label = QLabel("&Password:", self)
        password_label.setBuddy(self.password)
        form = QFormLayout()
        form.addRow(user_label, self.username)
        form.addRow(password_label, self.password)

        self.error = QLabel(self)
        self.error.setObjectName("signInError")
        set_tone(self.error, ERROR)
        self.error.setWordWrap(True)
        self.error.hide()

        self.sign_in_button = QPushButton("&Sign in", self)
        self.sign_in_button.setObjectName("signInButton")
        self.sign_in_button.setDefault(True)
        self.sign_in_button.clicked.connect(self.sign_in)
        quit_button = QPushButton("Quit", self)
        quit_button.setObjectName("signInQuit")
        quit_button.setAutoDefault(False)
        quit_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.sign_in_button)
        buttons.addWidget(quit_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.clinic)
        layout.addWidget(self.demo_banner)
        layout.addWidget(self.demo_hint)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        QWidget.setTabOrder(self.username, self.password)
        QWidget.setTabOrder(self.password, self.sign_in_button)
        QWidget.setTabOrder(self.sign_in_button, quit_button)
        self.username.setFocus(Qt.FocusReason.OtherFocusReason)
        self.resize(420, self.sizeHint().height())
        pin_minimum_size(self)
        if services is not None:
            self.attach(services)
        else:
            self.clinic.setText("Opening the clinic database…")
            self.sign_in_button.setEnabled(False)

    def attach(self, services: Services) -> None:
        """The database is open: show the clinic and accept sign-ins."""
        self._services = services
        self.sign_in_button.setEnabled(True)
        self._runner.run(lambda: _clinic_info(services), self._show_clinic, self._clinic_failed)

    def _show_clinic(self, info: _ClinicInfo) -> None:
        if info.details is None:
            self.clinic.setText("Infusion Desk — no clinic set up yet")
        else:
            self.clinic.setText(info.details.name)
        self.demo_banner.setVisible(info.demo_hint is not None)
        self.demo_hint.setVisible(info.demo_hint is not None)
        self.demo_hint.setText(info.demo_hint or "")
        grow_to_fit(self)
        self.clinicLoaded.emit()

    def _clinic_failed(self, exc: Exception) -> None:
        self._show_error(describe(exc))

    def sign_in(self) -> None:
        if not self.sign_in_button.isEnabled() or self._services is None:
            return
        username, password = self.username.text(), self.password.text()
        if not username.strip():
            self._show_error("Enter your user name.")
            self.username.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.sign_in_button.setEnabled(False)
        self.error.hide()
        self.setCursor(Qt.CursorShape.BusyCursor)
        auth = self._services.auth
        self._runner.run(
            lambda: auth.authenticate(username, password),
            lambda result: self._signed_in(result, password),
            self._failed,
        )

    def _signed_in(self, result: SignIn, password: str) -> None:
        self.unsetCursor()
        if not result.must_change_password:
            self.actor = result.actor
            self.accept()
            return
        assert self._services is not None
        # Kept (hidden) with the form once closed: deleting it from its own signals crashed
        # PySide6 in the offscreen tests, and a forced change happens once per reset.
        dialog = ChangePasswordDialog(
            self._services, result.actor, self, current_password=password, forced=True
        )
        dialog.accepted.connect(lambda: self._password_changed(result.actor))
        dialog.rejected.connect(self._change_cancelled)
        self.change_password = dialog
        dialog.open()

    def _password_changed(self, actor: Actor) -> None:
        self.change_password = None
        self.actor = actor
        self.accept()

    def _change_cancelled(self) -> None:
        self.change_password = None
        self.sign_in_button.setEnabled(True)
        self.password.clear()
        self._show_error("Choose a new password to sign in: an administrator reset yours.")
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def _failed(self, exc: Exception) -> None:
        self.unsetCursor()
        self.sign_in_button.setEnabled(True)
        self._show_error(describe(exc))
        self.password.clear()
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)
        if not isinstance(exc, ServiceError):
            show_error(self, exc)

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        grow_to_fit(self)
