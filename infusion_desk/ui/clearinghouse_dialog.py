"""The clearinghouse profile: the IDs every X12 file's envelope carries, from the companion guide.

A manager enters them once (File → Clearinghouse…); the 270 export and the claim batches
use them. Below the IDs: how claim files are made (claims per file, the file name pattern,
the folder uploaded from on the clearinghouse's portal) and the optional SFTP upload
details. The SFTP password typed here goes to this computer's password store (the OS
keyring), never the database. Findings from the service are shown under the form.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from infusion_desk.services.clearinghouse import ID_QUALIFIERS, ClearinghouseService, ClearinghouseSettings
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.secrets import SecretService
from infusion_desk.ui import code_help
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

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
        self._secrets = SecretService(services.db)
        self._actor = actor
        self._runner = TaskRunner(self)
        self.name = QLineEdit()
        self.name.setObjectName("clearinghouseName")
        self.sender_qualifier = _qualifiers("senderQualifier")
        self.sender_id = QLineEdit()
        self.sender_id.setObjectName("senderId")
        code_help.set_code_help(self.sender_id, code_help.INTERCHANGE_ID)
        self.receiver_qualifier = _qualifiers("receiverQualifier")
        self.receiver_id = QLineEdit()
        self.receiver_id.setObjectName("receiverId")
        code_help.set_code_help(self.receiver_id, code_help.INTERCHANGE_ID)
        self.application_sender = QLineEdit()
        self.application_sender.setObjectName("applicationSender")
        self.application_receiver = QLineEdit()
        self.application_receiver.setObjectName("applicationReceiver")
        self.production = QCheckBox("&Production (unticked: the clearinghouse's test mode)")
        self.production.setObjectName("production")
        self.claims_per_file = QSpinBox()
        self.claims_per_file.setObjectName("claimsPerFile")
        self.claims_per_file.setRange(1, 5000)
        self.claims_per_file.setValue(500)
        self.file_name_pattern = QLineEdit("{profile}_{icn}.837")
        self.file_name_pattern.setObjectName("fileNamePattern")
        self.file_name_pattern.setToolTip("{icn}: the interchange number; {profile} and {date}: optional.")
        self.export_folder = QLineEdit()
        self.export_folder.setObjectName("exportFolder")
        self.export_folder.setAccessibleName("Export folder")
        self.export_folder.setPlaceholderText("The folder you upload claim files from")
        self.browse = QPushButton("&Browse…")
        self.browse.setObjectName("browseExportFolder")
        self.browse.clicked.connect(self._browse)
        folder_row = QWidget()
        folder_layout = QHBoxLayout(folder_row)
        folder_layout.setContentsMargins(0, 0, 0, 0)
        folder_layout.addWidget(self.export_folder, 1)
        folder_layout.addWidget(self.browse)
        self.sftp_host = QLineEdit()
        self.sftp_host.setObjectName("sftpHost")
        self.sftp_host.setPlaceholderText("Leave empty to upload through the portal")
        self.sftp_port = QSpinBox()
        self.sftp_port.setObjectName("sftpPort")
        self.sftp_port.setRange(1, 65535)
        self.sftp_port.setValue(22)
        self.sftp_username = QLineEdit()
        self.sftp_username.setObjectName("sftpUsername")
        self.sftp_remote_dir = QLineEdit()
        self.sftp_remote_dir.setObjectName("sftpRemoteDir")
        self.sftp_remote_dir.setPlaceholderText("e.g. /inbound")
        self.sftp_secret = QLineEdit()
        self.sftp_secret.setObjectName("sftpSecret")
        self.sftp_secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.sftp_secret.setPlaceholderText("Kept in this computer's password store, never in the database")
        self.findings = QLabel()
        self.findings.setObjectName("clearinghouseFindings")
        self.findings.setWordWrap(True)
        set_tone(self.findings, ERROR)
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
        form.addRow(QLabel("<b>Claim files</b>"))
        for label, widget, buddy in (
            ("Claims per &file:", self.claims_per_file, self.claims_per_file),
            ("File name pa&ttern:", self.file_name_pattern, self.file_name_pattern),
            ("E&xport folder:", folder_row, self.export_folder),
            ("SFTP &host (optional):", self.sftp_host, self.sftp_host),
            ("SFTP p&ort:", self.sftp_port, self.sftp_port),
            ("SFTP user na&me:", self.sftp_username, self.sftp_username),
            ("Remote fol&der:", self.sftp_remote_dir, self.sftp_remote_dir),
            ("SFTP pass&word:", self.sftp_secret, self.sftp_secret),
        ):
            caption = QLabel(label)
            caption.setBuddy(buddy)
            form.addRow(caption, widget)
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
        self.claims_per_file.setValue(profile.claims_per_file)
        self.file_name_pattern.setText(profile.file_name_pattern)
        self.export_folder.setText(profile.export_folder or "")
        self.sftp_host.setText(profile.sftp_host or "")
        self.sftp_port.setValue(profile.sftp_port or 22)
        self.sftp_username.setText(profile.sftp_username or "")
        self.sftp_remote_dir.setText(profile.sftp_remote_dir or "")

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export folder", self.export_folder.text())
        if folder:
            self.export_folder.setText(folder)

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
            claims_per_file=self.claims_per_file.value(),
            file_name_pattern=self.file_name_pattern.text(),
            export_folder=self.export_folder.text() or None,
            sftp_host=self.sftp_host.text() or None,
            sftp_port=self.sftp_port.value() if self.sftp_host.text().strip() else None,
            sftp_username=self.sftp_username.text() or None,
            sftp_remote_dir=self.sftp_remote_dir.text() or None,
        )

    def save(self) -> None:
        data = self.settings()
        secret = self.sftp_secret.text()
        self.findings.clear()
        service, secrets, actor = self._service, self._secrets, self._actor

        def save() -> ClearinghouseSettings:
            profile = service.save(actor, data)
            if secret:
                secrets.set_sftp_secret(actor, profile.name, secret)
            return profile

        self._runner.run(save, self._saved, self._refused)

    def _saved(self, profile: ClearinghouseSettings) -> None:
        self.sftp_secret.clear()
        self.saved.emit(profile)
        self.accept()

    def _refused(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            self.findings.setText("\n".join(f.message for f in exc.findings))
            return
        show_error(self, exc)
