"""Claim batches (Billing → Batches): export ready claims to 837P files, confirm uploads, read answers.

    view = BatchesView(services, biller)
    view.changed.connect(claims_view.refresh)   # claims moved: exported, submitted, rejected
    view.refresh()

**Export batch…** (Ctrl+E) asks for the clearinghouse and the folder (remembered), then
writes the files on the worker thread with a progress bar; **Cancel** stops after the file
being written, and the claims not reached stay ready. **Confirm upload** marks a batch
submitted once the file is on the clearinghouse's portal, **Re-export…** writes a batch's
file again, byte for byte, and **Import acknowledgements…** (Ctrl+I) reads 999, 277CA and
TA1 files and lists what each one said. A file that cannot be read changes nothing.

**Upload by SFTP…** (Ctrl+U), when the clearinghouse has an SFTP server, sends the selected
exported batch's stored file with a progress bar and **Cancel upload**; once it arrives the
batch and its claims are submitted. The password is the one saved on this computer
(File → Clearinghouse…) or typed for this upload, with *Remember on this computer* (saved
once the server has accepted it). A server never uploaded to before is trusted only when the
user compares its fingerprint and says so; a wrong password asks again, and a failure that
may pass (network down, server busy) offers Retry.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSettings, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
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
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import BatchStatus
from infusion_desk.services.access import Permission
from infusion_desk.services.acknowledgements import AcknowledgementService
from infusion_desk.services.batches import BatchRow, BatchService, ExportSummary
from infusion_desk.services.clearinghouse import ClearinghouseService, ClearinghouseSettings
from infusion_desk.services.errors import ENVIRONMENT_ERRORS, ValidationFailed
from infusion_desk.services.secrets import SecretService, SecretStoreUnavailable, load_sftp_secret
from infusion_desk.ui.claims_view import Today, local_stamp
from infusion_desk.ui.errors import describe, report_failure, show_error
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import pin_minimum_size
from infusion_desk.ui.workstation import workstation_settings

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services
    from infusion_desk.services.uploads import UploadFailed, UploadResult

FOLDER_KEY = "batches/export_folder"
ACK_FILTER = "Acknowledgements (*.999 *.277 *.277ca *.ta1 *.txt *.x12 *.edi);;All files (*)"

ChooseFolder = Callable[[QWidget, str, str], str | None]
"""(parent, title, starting folder) -> the folder chosen, or None."""
ChooseFiles = Callable[[QWidget], list[str]]

STATUS_LABELS: dict[BatchStatus, str] = {
    BatchStatus.OPEN: "Open",
    BatchStatus.EXPORTED: "Exported (not uploaded yet)",
    BatchStatus.SUBMITTED: "Submitted",
    BatchStatus.ACKNOWLEDGED: "Acknowledged",
    BatchStatus.REJECTED: "Rejected",
}

BATCH_COLUMNS: tuple[Column[BatchRow], ...] = (
    ("Batch", lambda b: str(b.id)),
    ("Status", lambda b: STATUS_LABELS.get(b.status, str(b.status))),
    ("Exported", lambda b: local_stamp(b.exported_at)),
    ("Claims", lambda b: str(b.claims)),
    ("File", lambda b: b.file_name or ""),
    ("Clearinghouse", lambda b: b.profile),
    ("Submitted", lambda b: local_stamp(b.submitted_at)),
    ("By", lambda b: b.exported_by),
    ("Acknowledgements", lambda b: b.acknowledgements),
)


def settings_store() -> QSettings:
    """Where the workstation remembers the export folder (per user, not in the clinic database)."""
    return workstation_settings()


def ask_folder(parent: QWidget, title: str, start: str) -> str | None:
    return QFileDialog.getExistingDirectory(parent, title, start) or None


def ask_acknowledgement_files(parent: QWidget) -> list[str]:
    paths, _filter = QFileDialog.getOpenFileNames(
        parent, "Import acknowledgement files (999, 277CA, TA1)", "", ACK_FILTER
    )
    return list(paths)


def _counted(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


class _ProgressRelay(QObject):
    """Carries ``progress(done, total)`` from the worker thread to the dialog (a queued signal)."""

    progressed = Signal(int, int)


@dataclass(frozen=True, slots=True)
class _Outlook:
    profile: str | None
    export_folder: str | None
    ready: int | None
    problem: str | None


class ExportBatchDialog(QDialog):
    """Choose the clearinghouse and folder, then write the batch files with progress and Cancel."""

    exported = Signal(object)  # ExportSummary
    progressed = Signal(int, int)  # done, total (as shown)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
        choose_folder: ChooseFolder | None = None,
        today: Today | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("exportBatchDialog")
        self._today: Today = today or (lambda: None)
        self.setWindowTitle("Export claims to the clearinghouse (837P)")
        self._actor = actor
        self._service = BatchService(services.db)
        self._clearinghouses = ClearinghouseService(services.db)
        self._settings = settings if settings is not None else settings_store()
        self._choose_folder = choose_folder or ask_folder
        self._runner = TaskRunner(self)
        self._stop: threading.Event | None = None
        self._relay: _ProgressRelay | None = None
        self.summary: ExportSummary | None = None

        self.clearinghouse = QComboBox(self)
        self.clearinghouse.setObjectName("exportClearinghouse")
        self.clearinghouse.setEditable(True)
        self.clearinghouse.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.clearinghouse.setToolTip("Leave it as it is to use the clinic's clearinghouse")
        self.folder = QLineEdit(str(self._settings.value(FOLDER_KEY, "") or ""), self)
        self.folder.setObjectName("exportFolder")
        self.folder.setPlaceholderText("the folder you upload from on the clearinghouse's portal")
        self.browse = QPushButton("&Browse…", self)
        self.browse.setObjectName("exportBrowse")
        self.browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder, 1)
        folder_row.addWidget(self.browse)
        self.ready = QLabel("Counting the ready claims…", self)
        self.ready.setObjectName("exportReady")
        self.ready.setWordWrap(True)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("exportProgress")
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("not started")
        self.state = QLabel("", self)
        self.state.setObjectName("exportState")
        self.state.setWordWrap(True)
        self.result = QPlainTextEdit(self)
        self.result.setObjectName("exportResult")
        self.result.setAccessibleName("Files written")
        self.result.setReadOnly(True)
        self.result.setTabChangesFocus(True)
        self.result.setMinimumHeight(90)

        form = QFormLayout(self)
        clearinghouse_label = QLabel("Clearing&house:", self)
        clearinghouse_label.setBuddy(self.clearinghouse)
        folder_label = QLabel("&Folder:", self)
        folder_label.setBuddy(self.folder)
        form.addRow(clearinghouse_label, self.clearinghouse)
        form.addRow(folder_label, folder_row)
        form.addRow(self.ready)
        form.addRow(self.progress)
        form.addRow(self.state)
        form.addRow(self.result)
        buttons = QDialogButtonBox(self)
        self.export_button = buttons.addButton("&Export", QDialogButtonBox.ButtonRole.ActionRole)
        self.export_button.setObjectName("exportStart")
        self.export_button.setDefault(True)
        self.export_button.clicked.connect(self.export)
        self.cancel_button = buttons.addButton("C&ancel export", QDialogButtonBox.ButtonRole.ActionRole)
        self.cancel_button.setObjectName("exportCancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.close_button.setObjectName("exportClose")
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(560, 380)
        pin_minimum_size(self)
        self._look_ahead()

    # -- what is there to export -------------------------------------------------------------

    def _look_ahead(self) -> None:
        service, clearinghouses, actor = self._service, self._clearinghouses, self._actor

        def outlook() -> _Outlook:
            profile = clearinghouses.profile(actor)
            if profile is None:
                return _Outlook(None, None, None, None)
            try:
                return _Outlook(profile.name, profile.export_folder, service.ready_count(actor), None)
            except ValidationFailed as exc:
                return _Outlook(profile.name, profile.export_folder, None, describe(exc))

        self._runner.run(outlook, self._show_outlook, self._failed)

    def _show_outlook(self, outlook: _Outlook) -> None:
        if outlook.profile is None:
            set_tone(self.ready, ERROR)
            self.ready.setText(
                "No clearinghouse is set up yet. A manager enters it in File → Clearinghouse…; "
                "then export again."
            )
            return
        if not self.clearinghouse.currentText():
            self.clearinghouse.addItem(outlook.profile)
            self.clearinghouse.setCurrentIndex(0)
        if not self.folder.text() and outlook.export_folder:
            self.folder.setText(outlook.export_folder)
        if outlook.problem:
            set_tone(self.ready, ERROR)
            self.ready.setText(outlook.problem)
        elif outlook.ready is not None:
            set_tone(self.ready, None)
            self.ready.setText(
                f"{_counted(outlook.ready, 'claim')} ready to export to {outlook.profile}."
                if outlook.ready
                else f"No claims are ready to export to {outlook.profile}."
            )

    def _browse(self) -> None:
        chosen = self._choose_folder(self, "Folder for the claim files", self.folder.text())
        if chosen:
            self.folder.setText(chosen)

    # -- exporting ------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._stop is not None

    def export(self) -> None:
        if self.running:
            return
        folder = self.folder.text().strip()
        if not folder:
            self._say("Choose the folder to write the claim files to (Browse…).", error=True)
            self.folder.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._settings.setValue(FOLDER_KEY, folder)
        name = self.clearinghouse.currentText().strip() or None
        stop = threading.Event()
        relay = _ProgressRelay()
        relay.progressed.connect(self._progress)
        self._stop, self._relay = stop, relay
        service, actor, today = self._service, self._actor, self._today()

        def report(done: int, total: int) -> None:
            relay.progressed.emit(done, total)

        def work() -> ExportSummary:
            return service.export(
                actor,
                clearinghouse=name,
                out_dir=Path(folder),
                progress=report,
                cancelled=stop.is_set,
                today=today,
            )

        self.summary = None
        self.result.clear()
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("%v of %m claims")
        self._set_running(True)
        self._say("Exporting… (Cancel stops after the file being written)")
        self._runner.run(work, self._done, self._failed)

    def cancel(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self.cancel_button.setEnabled(False)
            self._say("Cancelling after the file being written…")

    def reject(self) -> None:
        """Escape or Close: while files are being written this cancels; the dialog stays open."""
        if self.running:
            self.cancel()
            return
        super().reject()

    def _set_running(self, running: bool) -> None:
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.close_button.setEnabled(not running)
        self.browse.setEnabled(not running)
        self.folder.setEnabled(not running)
        self.clearinghouse.setEnabled(not running)
        if running:
            self.cancel_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progressed.emit(done, total)

    def _finish(self) -> None:
        self._stop = None
        if self._relay is not None:
            self._relay.progressed.disconnect(self._progress)
            self._relay = None
        self._set_running(False)

    def _done(self, summary: ExportSummary) -> None:
        self._finish()
        self.summary = summary
        if summary.files and not summary.cancelled:
            self.progress.setValue(self.progress.maximum())
        written = sum(f.claims for f in summary.files)
        if summary.cancelled:
            self._say(f"Export cancelled after {_counted(len(summary.files), 'file')}; the rest stay ready.")
        elif summary.files:
            self._say(
                f"Done: {_counted(written, 'claim')} in {_counted(len(summary.files), 'file')}. Upload "
                "the files on the clearinghouse's portal, then press Confirm upload on each batch."
            )
        else:
            self._say("Nothing was written.")
        self.result.setPlainText(summary.text())
        self.close_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.exported.emit(summary)

    def _failed(self, exc: Exception) -> None:
        was_running = self.running
        if was_running:
            self._finish()
        self._say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc, retry=self.export if isinstance(exc, ENVIRONMENT_ERRORS) else None)
        if was_running:
            self.exported.emit(None)  # files written before the failure are in the history

    def _say(self, text: str, *, error: bool = False) -> None:
        set_tone(self.state, ERROR if error else None)
        self.state.setText(text)


@dataclass(frozen=True, slots=True)
class _Upload:
    """One upload the user asked for, as it goes from password to host key to the server."""

    batch_id: int
    file_name: str
    claims: int
    profile: str
    host: str
    secret: str = field(default="", repr=False)
    remember: bool = False
    trust_new_host: bool = False


class SftpPasswordDialog(QDialog):
    """The SFTP password for one upload, with "Remember on this computer"."""

    entered = Signal(str, bool)  # the password, whether to remember it

    def __init__(
        self,
        profile: ClearinghouseSettings,
        parent: QWidget | None = None,
        *,
        problem: str = "",
        can_remember: bool = True,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("sftpPasswordDialog")
        self.setWindowTitle("SFTP password")
        where = f"{profile.sftp_username or 'the SFTP user'} on {profile.sftp_host} ({profile.name})"
        self.intro = QLabel(f"The SFTP password for {where}:", self)
        self.intro.setWordWrap(True)
        self.problem = QLabel(problem, self)
        self.problem.setObjectName("sftpPasswordProblem")
        self.problem.setWordWrap(True)
        set_tone(self.problem, ERROR)
        self.problem.setVisible(bool(problem))
        self.password = QLineEdit(self)
        self.password.setObjectName("sftpPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.remember = QCheckBox("&Remember on this computer", self)
        self.remember.setObjectName("sftpRemember")
        self.remember.setToolTip(
            "Kept in this computer's password store (keyring), never in the clinic database; "
            "saved once the server has accepted it"
        )
        self.remember.setEnabled(can_remember)
        password_label = QLabel("&Password:", self)
        password_label.setBuddy(self.password)
        form = QFormLayout(self)
        form.addRow(self.intro)
        form.addRow(self.problem)
        form.addRow(password_label, self.password)
        form.addRow(self.remember)
        buttons = QDialogButtonBox(self)
        self.upload_button = buttons.addButton("&Upload", QDialogButtonBox.ButtonRole.AcceptRole)
        self.upload_button.setObjectName("sftpPasswordUpload")
        self.upload_button.setDefault(True)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        pin_minimum_size(self)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def accept(self) -> None:
        if not self.password.text():
            self.problem.setText("Enter the password, or press Cancel.")
            self.problem.setVisible(True)
            self.password.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self.entered.emit(self.password.text(), self.remember.isChecked() and self.remember.isEnabled())
        super().accept()


class BatchesView(QWidget):
    """The Batches page: ready count, export, the batch history with its actions, acknowledgements."""

    changed = Signal()  # claims moved (exported, submitted, acknowledged): the claim queue is stale
    loaded = Signal()
    finished = Signal()  # an action finished and its result is shown

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        settings: QSettings | None = None,
        choose_folder: ChooseFolder | None = None,
        choose_files: ChooseFiles | None = None,
        today: Today | None = None,
        known_hosts: Path | None = None,
    ) -> None:
        """``known_hosts``: the trusted SFTP server keys (None: this computer's, beside its data)."""
        super().__init__(parent)
        self.setObjectName("batchesView")
        self._today = today
        self._services, self._actor = services, actor
        self._service = BatchService(services.db)
        self._acks = AcknowledgementService(services.db)
        self._settings = settings if settings is not None else settings_store()
        self._choose_folder = choose_folder or ask_folder
        self._choose_files = choose_files or ask_acknowledgement_files
        self._runner = TaskRunner(self)
        self._generation = 0
        self._started = False
        self.dialog: ExportBatchDialog | None = None
        self.confirm_box: QMessageBox | None = None
        self.password_dialog: SftpPasswordDialog | None = None
        self.trust_box: QMessageBox | None = None
        self._known_hosts = known_hosts
        self._profile: ClearinghouseSettings | None = None
        self._upload: _Upload | None = None  # from the password lookup until the result is shown
        self._upload_stop: threading.Event | None = None
        self._upload_relay: _ProgressRelay | None = None
        allowed = actor.can(Permission.BATCH_EXPORT)

        self.ready = QLabel("Loading…", self)
        self.ready.setObjectName("batchesReady")
        self.ready.setWordWrap(True)
        font = self.ready.font()
        font.setBold(True)
        self.ready.setFont(font)
        self.export_button = QPushButton("&Export batch…  (Ctrl+E)", self)
        self.export_button.setObjectName("exportBatchButton")
        self.export_button.setEnabled(allowed)
        self.export_button.clicked.connect(self.open_export)
        self.import_button = QPushButton("&Import acknowledgements…  (Ctrl+I)", self)
        self.import_button.setObjectName("importAcksButton")
        self.import_button.setToolTip("Read the clearinghouse's 999, 277CA or TA1 files")
        self.import_button.setEnabled(allowed)
        self.import_button.clicked.connect(self.import_acknowledgements)
        top = QHBoxLayout()
        top.addWidget(self.ready, 1)
        top.addWidget(self.export_button)
        top.addWidget(self.import_button)

        self.model: RowTableModel[BatchRow] = RowTableModel(BATCH_COLUMNS, self)
        self.table = configure_table(QTableView(self), "batchHistory", "Claim batches")
        self.table.setModel(self.model)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        history_label = QLabel("Batch his&tory (newest first):", self)
        history_label.setBuddy(self.table)
        self.confirm_button = QPushButton("&Confirm upload", self)
        self.confirm_button.setObjectName("confirmUploadButton")
        self.confirm_button.setToolTip(
            "You uploaded this batch's file on the portal: its claims become submitted"
        )
        self.confirm_button.clicked.connect(self.confirm_upload)
        self.reexport_button = QPushButton("&Re-export…", self)
        self.reexport_button.setObjectName("reexportButton")
        self.reexport_button.setToolTip("Write this batch's file again, exactly as first exported")
        self.reexport_button.clicked.connect(self.reexport)
        self.upload_button = QPushButton("&Upload by SFTP…  (Ctrl+U)", self)
        self.upload_button.setObjectName("uploadSftpButton")
        self.upload_button.clicked.connect(self.upload_by_sftp)
        self.upload_progress = QProgressBar(self)
        self.upload_progress.setObjectName("uploadProgress")
        self.upload_progress.setFormat("%v of %m files")
        self.upload_progress.setVisible(False)
        self.cancel_upload_button = QPushButton("C&ancel upload", self)
        self.cancel_upload_button.setObjectName("cancelUploadButton")
        self.cancel_upload_button.setToolTip(
            "Stop before the next file; a file being sent still arrives whole"
        )
        self.cancel_upload_button.clicked.connect(self.cancel_upload)
        self.cancel_upload_button.setVisible(False)
        row_actions = QHBoxLayout()
        row_actions.addWidget(self.confirm_button)
        row_actions.addWidget(self.upload_button)
        row_actions.addWidget(self.reexport_button)
        row_actions.addWidget(self.upload_progress, 1)
        row_actions.addWidget(self.cancel_upload_button)
        row_actions.addStretch(1)

        self.message = QLabel("", self)
        self.message.setObjectName("batchesMessage")
        self.message.setWordWrap(True)
        self.report = QPlainTextEdit(self)
        self.report.setObjectName("batchesReport")
        self.report.setAccessibleName("What the last import or re-export did")
        self.report.setReadOnly(True)
        self.report.setTabChangesFocus(True)
        self.report.setMaximumHeight(160)
        self.report.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(history_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(row_actions)
        layout.addWidget(self.message)
        layout.addWidget(self.report)
        QShortcut(QKeySequence("Ctrl+E"), self, self.open_export)
        QShortcut(QKeySequence("Ctrl+I"), self, self.import_acknowledgements)
        QShortcut(QKeySequence("Ctrl+U"), self, self.upload_by_sftp)
        chain: list[QWidget] = [
            self.export_button,
            self.import_button,
            self.table,
            self.confirm_button,
            self.upload_button,
            self.reexport_button,
            self.cancel_upload_button,
            self.report,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.table)
        self._enable()

    # -- loading ----------------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._started:
            self.refresh()

    def refresh(self) -> None:
        self._started = True
        self._generation += 1
        generation = self._generation
        service, actor = self._service, self._actor
        clearinghouses = ClearinghouseService(self._services.db)

        def load() -> tuple[str, list[BatchRow], ClearinghouseSettings | None]:
            profile = clearinghouses.profile(actor)
            if profile is None:
                ready = "No clearinghouse is set up yet: a manager enters it in File → Clearinghouse…."
            else:
                try:
                    count = service.ready_count(actor)
                except ValidationFailed as exc:
                    ready = describe(exc)
                else:
                    ready = (
                        f"{_counted(count, 'claim')} ready to export to {profile.name}."
                        if count
                        else f"No claims are ready to export to {profile.name}."
                    )
            return ready, service.batches(actor), profile

        self._runner.run(
            load,
            lambda value: self._loaded(generation, *value),
            lambda exc: self._load_failed(generation, exc),
        )

    def _load_failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        report_failure(self, self.ready, exc, retry=self.refresh)

    def _loaded(
        self, generation: int, ready: str, rows: list[BatchRow], profile: ClearinghouseSettings | None
    ) -> None:
        if generation != self._generation:
            return
        picked = self.current_batch()
        self._profile = profile
        self.ready.setText(ready)
        self.model.set_rows(rows)
        if picked is not None:
            position = next((i for i, row in enumerate(rows) if row.id == picked.id), None)
            if position is not None:
                self.table.selectRow(position)
        self._enable()
        self.loaded.emit()

    def current_batch(self) -> BatchRow | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        batch = self.current_batch()
        allowed = self._actor.can(Permission.BATCH_EXPORT)
        exported = allowed and batch is not None and batch.status is BatchStatus.EXPORTED
        uploading = self._upload is not None
        self.confirm_button.setEnabled(exported and not uploading)
        self.reexport_button.setEnabled(allowed and batch is not None and bool(batch.file_name))
        has_sftp = self._profile is not None and bool(self._profile.sftp_host)
        self.upload_button.setEnabled(exported and has_sftp and not uploading)
        self.upload_button.setToolTip(
            "Send this batch's file to the clearinghouse's SFTP server; its claims become submitted"
            if has_sftp
            else "No SFTP server is set up for the clearinghouse (a manager enters it in "
            "File → Clearinghouse…); upload on the portal, then press Confirm upload"
        )

    # -- export -------------------------------------------------------------------------------------

    def open_export(self) -> None:
        if not self._actor.can(Permission.BATCH_EXPORT):
            return
        if self.dialog is not None and self.dialog.isVisible():
            self.dialog.activateWindow()
            return
        dialog = ExportBatchDialog(
            self._services,
            self._actor,
            self,
            settings=self._settings,
            choose_folder=self._choose_folder,
            today=self._today,
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.exported.connect(lambda _summary: self._moved())
        dialog.finished.connect(lambda _result: setattr(self, "dialog", None))
        dialog.open()
        self.dialog = dialog

    def _moved(self) -> None:
        self.changed.emit()
        self.refresh()

    # -- batch actions --------------------------------------------------------------------------------

    def confirm_upload(self) -> None:
        batch = self.current_batch()
        if batch is None or batch.status is not BatchStatus.EXPORTED or not self.confirm_button.isEnabled():
            return
        box = QMessageBox(self)
        box.setObjectName("confirmUploadBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Confirm upload")
        box.setText(f"Did you upload {batch.file_name} to the clearinghouse's portal?")
        box.setInformativeText(f"Its {_counted(batch.claims, 'claim')} will be marked submitted.")
        yes = box.addButton("&Yes, it is uploaded", QMessageBox.ButtonRole.AcceptRole)
        yes.setObjectName("confirmUploadYes")
        box.addButton("&Not yet", QMessageBox.ButtonRole.RejectRole)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        batch_id = batch.id
        box.buttonClicked.connect(lambda button: self._confirmed(batch_id) if button is yes else None)
        box.finished.connect(lambda _result: setattr(self, "confirm_box", None))
        box.open()
        self.confirm_box = box

    def _confirmed(self, batch_id: int) -> None:
        service, actor = self._service, self._actor
        self._say(f"Marking batch {batch_id} submitted…")
        self._runner.run(
            lambda: service.confirm_upload(actor, batch_id),
            lambda count: self._action_done(
                f"Batch {batch_id} is submitted: {_counted(count, 'claim')}.", ""
            ),
            self._action_failed,
        )

    def reexport(self) -> None:
        batch = self.current_batch()
        if batch is None or not batch.file_name or not self.reexport_button.isEnabled():
            return
        start = str(self._settings.value(FOLDER_KEY, "") or "")
        folder = self._choose_folder(self, f"Folder to write batch {batch.id}'s file to", start)
        if not folder:
            return
        service, actor, batch_id = self._service, self._actor, batch.id
        self._say(f"Writing batch {batch_id} again…")
        self._runner.run(
            lambda: service.reexport(actor, batch_id, Path(folder)),
            lambda path: self._action_done(
                f"Batch {batch_id}'s file was written again, unchanged.", str(path)
            ),
            self._action_failed,
        )

    # -- upload by SFTP ----------------------------------------------------------------------------

    def upload_by_sftp(self) -> None:
        """Send the selected exported batch to the clearinghouse's SFTP server (Ctrl+U)."""
        batch, profile = self.current_batch(), self._profile
        if batch is None or profile is None or not profile.sftp_host or not self.upload_button.isEnabled():
            return
        job = _Upload(batch.id, batch.file_name or "", batch.claims, profile.name, profile.sftp_host)
        self._upload = job
        self._enable()
        self._say("Looking for the SFTP password saved on this computer…")
        name = profile.name
        self._runner.run(
            lambda: load_sftp_secret(name),
            lambda secret: self._got_secret(job, secret),
            lambda exc: self._secret_failed(job, exc),
        )

    def _got_secret(self, job: _Upload, secret: str | None) -> None:
        if secret:
            self._send(replace(job, secret=secret))
        else:
            self._ask_password(job)

    def _secret_failed(self, job: _Upload, exc: Exception) -> None:
        if isinstance(exc, SecretStoreUnavailable):  # the password can still be typed for this upload
            self._ask_password(job, describe(exc), can_remember=False)
            return
        self._upload_over()
        self._action_failed(exc)

    def _ask_password(self, job: _Upload, problem: str = "", *, can_remember: bool = True) -> None:
        profile = self._profile
        if profile is None:
            self._upload_over()
            return
        dialog = SftpPasswordDialog(profile, self, problem=problem, can_remember=can_remember)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.entered.connect(
            lambda secret, remember: self._send(replace(job, secret=secret, remember=remember))
        )
        dialog.rejected.connect(lambda: self._upload_over("Not uploaded: no password was given."))
        dialog.finished.connect(lambda _result: setattr(self, "password_dialog", None))
        dialog.open()
        self.password_dialog = dialog

    def _send(self, job: _Upload) -> None:
        self._upload = job
        stop = threading.Event()
        relay = _ProgressRelay()
        relay.progressed.connect(self._upload_progressed)
        self._upload_stop, self._upload_relay = stop, relay
        service, actor, known_hosts = self._service, self._actor, self._known_hosts

        def report(done: int, total: int) -> None:
            relay.progressed.emit(done, total)

        def work() -> UploadResult:
            return service.upload(
                actor,
                [job.batch_id],
                secret=job.secret,
                known_hosts=known_hosts,
                trust_new_host=job.trust_new_host,
                progress=report,
                cancelled=stop.is_set,
            )

        self.upload_progress.setRange(0, 1)
        self.upload_progress.setValue(0)
        self.upload_progress.setVisible(True)
        self.cancel_upload_button.setVisible(True)
        self.cancel_upload_button.setEnabled(True)
        self._enable()
        self.cancel_upload_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self._say(f"Uploading {job.file_name} to {job.host}… (Cancel upload stops before the next file)")
        self._runner.run(
            work, lambda result: self._uploaded(job, result), lambda exc: self._send_failed(job, exc)
        )

    @property
    def uploading(self) -> bool:
        """Files are being sent (the worker is talking to the SFTP server)."""
        return self._upload_stop is not None

    def cancel_upload(self) -> None:
        if self._upload_stop is not None:
            self._upload_stop.set()
            self.cancel_upload_button.setEnabled(False)
            self._say("Cancelling: no further file is sent…")

    def _upload_progressed(self, done: int, total: int) -> None:
        self.upload_progress.setRange(0, max(total, 1))
        self.upload_progress.setValue(done)

    def _sent(self) -> None:
        """The worker is done with the server: hide the progress and Cancel."""
        self._upload_stop = None
        if self._upload_relay is not None:
            self._upload_relay.progressed.disconnect(self._upload_progressed)
            self._upload_relay = None
        self.upload_progress.setVisible(False)
        self.cancel_upload_button.setVisible(False)

    def _upload_over(self, text: str | None = None) -> None:
        """The upload conversation ended without sending anything more."""
        self._upload = None
        self._enable()
        if text is not None:
            self._say(text)
            self.finished.emit()

    def _uploaded(self, job: _Upload, result: UploadResult) -> None:
        self._sent()
        if result.remote_paths:
            again = " (it was already there, unchanged)" if result.already_there else ""
            summary = (
                f"Batch {job.batch_id} is on {job.host}{again} and submitted: "
                f"{_counted(job.claims, 'claim')}."
            )
        else:
            summary = f"Upload cancelled: nothing was sent; batch {job.batch_id} is still exported."
        if not job.remember:
            self._upload_finished(summary, result.text())
            return
        # The server accepted the password, so it is worth keeping.
        secrets, actor = SecretService(self._services.db), self._actor
        self._runner.run(
            lambda: secrets.set_sftp_secret(actor, job.profile, job.secret),
            lambda _none: self._upload_finished(
                f"{summary} The password is saved on this computer.", result.text()
            ),
            lambda exc: self._upload_finished(
                f"{summary} The password was not saved: {describe(exc)}", result.text(), error=True
            ),
        )

    def _upload_finished(self, summary: str, details: str, *, error: bool = False) -> None:
        self._upload = None
        self._action_done(summary, details, error=error)

    def _send_failed(self, job: _Upload, failure: Exception) -> None:
        # Loaded with the upload itself (paramiko is not needed before the first upload).
        from infusion_desk.services.uploads import UploadFailed, UploadProblem

        self._sent()
        if not isinstance(failure, UploadFailed):
            self._upload = None
            self._action_failed(failure)
            return
        if failure.uploaded:
            self.changed.emit()  # what arrived before the failure is submitted
        if failure.problem is UploadProblem.UNKNOWN_HOST and not job.trust_new_host:
            self._ask_trust(job, failure)
            return
        self._say(describe(failure), error=True)
        if failure.problem is UploadProblem.AUTHENTICATION:
            self._ask_password(replace(job, secret=""), describe(failure))
            return
        self._upload = None
        show_error(self, failure, retry=(lambda: self._send(job)) if failure.retryable else None)
        self.refresh()
        self.finished.emit()

    def _ask_trust(self, job: _Upload, failure: UploadFailed) -> None:
        box = QMessageBox(self)
        box.setObjectName("trustServerBox")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Trust this server?")
        box.setText(
            f"Infusion Desk has not uploaded to {job.host} before. Trust this server?\n"
            f"Fingerprint {failure.fingerprint}"
        )
        box.setInformativeText(
            f"Compare the fingerprint with the one {job.profile} gave you. Trust the server only if "
            "they match: its key is then remembered on this computer and checked at every upload."
        )
        trust = box.addButton("&Trust and upload", QMessageBox.ButtonRole.YesRole)
        trust.setObjectName("trustServerYes")
        refuse = box.addButton("&No", QMessageBox.ButtonRole.NoRole)
        refuse.setObjectName("trustServerNo")
        box.setDefaultButton(refuse)
        box.setEscapeButton(refuse)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(_result: int) -> None:
            self.trust_box = None
            if box.clickedButton() is trust:
                self._send(replace(job, trust_new_host=True))
            else:
                self._upload_over(
                    f"Not uploaded: {job.host} was not trusted. Check its fingerprint with "
                    f"{job.profile}, then upload again."
                )

        box.finished.connect(answered)
        box.open()
        self.trust_box = box

    def import_acknowledgements(self) -> None:
        if not self._actor.can(Permission.BATCH_EXPORT):
            return
        paths = [Path(p) for p in self._choose_files(self)]
        if not paths:
            return
        acks, actor = self._acks, self._actor

        def work() -> list[tuple[str, str | None, ValidationFailed | None]]:
            out: list[tuple[str, str | None, ValidationFailed | None]] = []
            for path in paths:
                try:
                    out.append((path.name, acks.import_file(actor, path).text(), None))
                except ValidationFailed as exc:  # this file is refused; the others are still read
                    out.append((path.name, None, exc))
            return out

        self._say(f"Reading {_counted(len(paths), 'file')}…")
        self.import_button.setEnabled(False)
        self._runner.run(work, self._imported, self._import_failed)

    def _imported(self, results: list[tuple[str, str | None, ValidationFailed | None]]) -> None:
        self.import_button.setEnabled(self._actor.can(Permission.BATCH_EXPORT))
        texts = [text if exc is None else describe(exc) for _name, text, exc in results]
        refused = [name for name, _text, exc in results if exc is not None]
        read = len(results) - len(refused)
        summary = f"Read {_counted(read, 'acknowledgement file')}."
        if refused:
            summary += (
                f" {_counted(len(refused), 'file')} could not be read and changed nothing: "
                f"{', '.join(refused)}."
            )
        self._action_done(summary, "\n".join(texts), error=bool(refused))

    def _import_failed(self, exc: Exception) -> None:
        self.import_button.setEnabled(self._actor.can(Permission.BATCH_EXPORT))
        self._action_failed(exc)

    def _action_done(self, summary: str, details: str, *, error: bool = False) -> None:
        self._say(summary, error=error)
        self.report.setPlainText(details)
        self.report.setVisible(bool(details))
        self._moved()
        self.finished.emit()

    def _action_failed(self, exc: Exception) -> None:
        self._say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)
        self.refresh()
        self.finished.emit()

    def _say(self, text: str, *, error: bool = False) -> None:
        set_tone(self.message, ERROR if error else None)
        self.message.setText(text)
