"""The clearinghouse profile: the IDs every X12 file's envelope carries, from the companion guide.

A manager enters them once (File → Clearinghouse…); the 270 export, and later the claim
batches, use them. Findings from the service are shown under the form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from infusion_desk.services.clearinghouse import ID_QUALIFIERS, ClearinghouseService, ClearinghouseSettings
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services


def _qualifiers(name: str) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    for code, label in ID_QUALIFIERS.items():
        combo.addItem(f"{code} — {label}", code)
    combo.setCurrentIndex(combo.findData("ZZ"))
    return combo


class ClearinghouseDialog(QDialog):
    saved = Signal(object)  # the saved ClearinghouseSettings

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("clearinghouseDialog")
        self.setWindowTitle("Clearinghouse")
        self._service = ClearinghouseService(services.db)
        self._actor = actor
        self._runner = TaskRunner(self)
        self.name = QLineEdit()
        self.name.setObjectName("clearinghouseName")
        self.sender_qualifier = _qualifiers("senderQualifier")
        self.sender_id = QLineEdit()
        self.sender_id.setObjectName("senderId")
        self.receiver_qualifier = _qualifiers("receiverQualifier")
        self.receiver_id = QLineEdit()
        self.receiver_id.setObjectName("receiverId")
        self.application_sender = QLineEdit()
        self.application_sender.setObjectName("applicationSender")
        self.application_receiver = QLineEdit()
        self.application_receiver.setObjectName("applicationReceiver")
        self.production = QCheckBox("&Production (unticked: the clearinghouse's test mode)")
        self.production.setObjectName("production")
        self.findings = QLabel()
        self.findings.setObjectName("clearinghouseFindings")
        self.findings.setWordWrap(True)
        self.findings.setStyleSheet("color: #b00020")
        form = QFormLayout(self)
        form.addRow(QLabel("Enter the IDs exactly as the clearinghouse's companion guide gives them."))
        for label, widget in (
            ("&Name:", self.name),
            ("Sender ID &qualifier (ISA05):", self.sender_qualifier),
            ("&Sender ID (ISA06):", self.sender_id),
            ("Receiver ID q&ualifier (ISA07):", self.receiver_qualifier),
            ("&Receiver ID (ISA08):", self.receiver_id),
            ("Application s&ender code (GS02):", self.application_sender),
            ("Application recei&ver code (GS03):", self.application_receiver),
        ):
            caption = QLabel(label)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        form.addRow(self.production)
        form.addRow(self.findings)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._runner.run(lambda: self._service.profile(actor), self._fill, lambda exc: show_error(self, exc))

    def _fill(self, profile: ClearinghouseSettings | None) -> None:
        if profile is None:
            return
        self.name.setText(profile.name)
        self.sender_qualifier.setCurrentIndex(self.sender_qualifier.findData(profile.sender_qualifier))
        self.sender_id.setText(profile.sender_id)
        self.receiver_qualifier.setCurrentIndex(self.receiver_qualifier.findData(profile.receiver_qualifier))
        self.receiver_id.setText(profile.receiver_id)
        self.application_sender.setText(profile.application_sender_code)
        self.application_receiver.setText(profile.application_receiver_code)
        self.production.setChecked(profile.production)

    def settings(self) -> ClearinghouseSettings:
        return ClearinghouseSettings(
            name=self.name.text(),
            sender_qualifier=str(self.sender_qualifier.currentData()),
            sender_id=self.sender_id.text(),
            receiver_qualifier=str(self.receiver_qualifier.currentData()),
            receiver_id=self.receiver_id.text(),
            application_sender_code=self.application_sender.text() or self.sender_id.text(),
            application_receiver_code=self.application_receiver.text() or self.receiver_id.text(),
            production=self.production.isChecked(),
        )

    def save(self) -> None:
        data = self.settings()
        self.findings.clear()
        self._runner.run(lambda: self._service.save(self._actor, data), self._saved, self._refused)

    def _saved(self, profile: ClearinghouseSettings) -> None:
        self.saved.emit(profile)
        self.accept()

    def _refused(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            self.findings.setText("\n".join(f.message for f in exc.findings))
            return
        show_error(self, exc)
