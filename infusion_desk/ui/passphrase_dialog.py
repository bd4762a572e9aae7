"""Asking for the database passphrase: chosen once (first run without a keyring), then entered at start.

    dialog = PassphraseDialog(first_run=True, message="This computer has no password store…")
    if dialog.exec():
        services = open_services(passphrase=dialog.passphrase())

Choosing asks twice and checks the rule of :func:`infusion_desk.services.vault.check_passphrase`
before the dialog closes; entering shows what went wrong last time (a wrong passphrase) above
the field.
"""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.ui.theme import ERROR, set_tone


class PassphraseDialog(QDialog):
    def __init__(
        self, *, first_run: bool, message: str, error: str | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("passphraseDialog")
        self.first_run = first_run
        self.setWindowTitle("Choose the database passphrase" if first_run else "Database passphrase")
        intro = QLabel(message, self)
        intro.setWordWrap(True)
        self.passphrase_edit = QLineEdit(self)
        self.passphrase_edit.setObjectName("passphraseEdit")
        self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase_edit.setAccessibleName("Database passphrase")
        self.confirm_edit = QLineEdit(self)
        self.confirm_edit.setObjectName("confirmEdit")
        self.confirm_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.confirm_edit.setAccessibleName("Database passphrase again")
        self.error = QLabel(error or "", self)
        self.error.setObjectName("passphraseError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        self.error.setVisible(bool(error))
        form = QFormLayout()
        label = QLabel("&Passphrase:", self)
        label.setBuddy(self.passphrase_edit)
        form.addRow(label, self.passphrase_edit)
        if first_run:
            again = QLabel("&Again:", self)
            again.setBuddy(self.confirm_edit)
            form.addRow(again, self.confirm_edit)
        else:
            self.confirm_edit.hide()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.passphrase_edit.setFocus()

    def passphrase(self) -> str:
        return self.passphrase_edit.text()

    def _problem(self) -> str | None:
        text = self.passphrase()
        if not self.first_run:
            return None if text else "Type the passphrase."
        from infusion_desk.services.vault import check_passphrase

        problem = check_passphrase(text)
        if problem:
            return problem
        if text != self.confirm_edit.text():
            return "The two passphrases differ: type the same one twice."
        return None

    def accept(self) -> None:
        problem = self._problem()
        if problem:
            self.error.setText(problem)
            self.error.show()
            self.passphrase_edit.setFocus()
            return
        super().accept()
