"""Choosing a new password: after an administrator's reset (forced at sign-in), or by choice.

    dialog = ChangePasswordDialog(services, actor, parent, current_password=typed, forced=True)
    dialog.accepted.connect(...)      # the new password is saved
    dialog.open()

The rules (length, mix, not the user's name, not an obvious password) are the service's;
the form shows its findings under the fields and keeps what was typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from infusion_desk.services.errors import AuthenticationFailed, ValidationFailed
from infusion_desk.services.password_policy import password_rules_text
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services


def password_field(parent: QWidget, name: str, accessible: str) -> QLineEdit:
    field = QLineEdit(parent)
    field.setObjectName(name)
    field.setAccessibleName(accessible)
    field.setEchoMode(QLineEdit.EchoMode.Password)
    return field


def findings_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    set_tone(label, ERROR)
    label.setWordWrap(True)
    label.hide()
    return label


class ChangePasswordDialog(QDialog):
    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        current_password: str | None = None,
        forced: bool = False,
    ) -> None:
        """``current_password`` is the one just typed at sign-in; without it the form asks for it."""
        super().__init__(parent)
        self.setObjectName("changePasswordDialog")
        self.setWindowTitle("Choose a new password" if forced else "Change your password")
        self._auth = services.auth
        self._actor = actor
        self._current = current_password
        self._runner = TaskRunner(self)

        intro = QLabel(
            f"An administrator reset the password of {actor.display_name}. Choose your own "
            "password to continue." if forced else f"Change the password of {actor.display_name}.",
            self,
        )
        intro.setObjectName("changePasswordIntro")
        intro.setWordWrap(True)
        self.old = password_field(self, "currentPassword", "Current password")
        self.new = password_field(self, "newPassword", "New password")
        self.confirm = password_field(self, "confirmPassword", "Confirm new password")
        hint = QLabel(password_rules_text(), self)
        hint.setObjectName("passwordRules")
        hint.setWordWrap(True)
        self.findings = findings_label(self, "changePasswordFindings")

        form = QFormLayout(self)
        form.addRow(intro)
        if current_password is None:
            caption = QLabel("C&urrent password:", self)
            caption.setBuddy(self.old)
            form.addRow(caption, self.old)
        else:
            self.old.hide()
        for text, field in (("&New password:", self.new), ("&Confirm new password:", self.confirm)):
            caption = QLabel(text, self)
            caption.setBuddy(field)
            form.addRow(caption, field)
        form.addRow(hint)
        form.addRow(self.findings)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText("C&hange password")
        self.ok_button.setObjectName("changePasswordButton")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        first = self.old if current_password is None else self.new
        first.setFocus(Qt.FocusReason.OtherFocusReason)

    def save(self) -> None:
        if not self.ok_button.isEnabled():
            return
        new, confirm = self.new.text(), self.confirm.text()
        if new != confirm:
            self._show("Confirm new password: the two new passwords are not the same.")
            self.confirm.clear()
            self.confirm.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        current = self._current if self._current is not None else self.old.text()
        self.ok_button.setEnabled(False)
        self.findings.hide()
        auth, actor = self._auth, self._actor
        self._runner.run(lambda: auth.change_password(actor, current, new), self._saved, self._refused)

    def _saved(self, _result: object) -> None:
        self.ok_button.setEnabled(True)
        self.accept()

    def _refused(self, exc: Exception) -> None:
        self.ok_button.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self._show(describe(exc))
            self.new.setFocus(Qt.FocusReason.OtherFocusReason)
        elif isinstance(exc, AuthenticationFailed):
            self._show(describe(exc))
            self.old.clear()
            (self.old if self.old.isVisible() else self.new).setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            show_error(self, exc)

    def _show(self, text: str) -> None:
        self.findings.setText(text)
        self.findings.show()
