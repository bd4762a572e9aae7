"""Billing → Batches: export with progress and Cancel, confirm the upload, re-export, import acknowledgements,
and upload by SFTP to a local test server (tests/services/sftp_server.py).

Every test runs with an in-memory keyring and a known hosts file in its own temporary folder:
nothing here reads or writes this computer's password store or trusted server keys.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import keyring
import paramiko
import pytest
import sqlalchemy as sa
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from infusion_desk.models import Claim, ClaimBatch, ClearinghouseProfile, InboundFile
from infusion_desk.models.enums import BatchStatus, ClaimStatus
from infusion_desk.services import batches, uploads
from infusion_desk.services.app import Services
from infusion_desk.services.batches import ExportedFile
from infusion_desk.services.secrets import (
    LOCKED_KEYRING,
    SERVICE_NAME,
    SecretStoreUnavailable,
    sftp_secret_key,
)
from infusion_desk.services.uploads import UploadFailed, UploadProblem
from infusion_desk.ui.batches_view import BatchesView, ExportBatchDialog, SftpPasswordDialog
from infusion_desk.ui.errors import ENVIRONMENT_MESSAGE, show_error
from tests.services.sftp_server import PASSWORD, USERNAME, SftpTestServer
from tests.services.test_secrets import LockedKeyring, MemoryKeyring
from tests.ui.claims_seed import (
    TODAY,
    acknowledgement_999,
    biller,
    built_template,
    claims_per_file,
    close,
    export_batches,
    open_copy,
)
from tests.ui.helpers import column

pytestmark = pytest.mark.gui

PROFILE = "Demo clearinghouse (test mode)"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo clinic with its claims built, once for the module."""
    return built_template(tmp_path_factory.mktemp("batches-demo"))


@pytest.fixture
def clinic(template: Path, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(template, tmp_path)
    yield services
    close(services)


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    """This computer's password store is never touched: a dict stands in for it."""
    backend = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def known_hosts(tmp_path: Path) -> Path:
    """The workstation's trusted server keys, in the test's own folder (never ~/.local/share)."""
    return tmp_path / "workstation" / "known_hosts"


@pytest.fixture(scope="module")
def host_key() -> paramiko.PKey:
    return paramiko.ECDSAKey.generate()


@pytest.fixture
def server(tmp_path: Path, host_key: paramiko.PKey, clinic: Services) -> Iterator[SftpTestServer]:
    """The clearinghouse's SFTP server on 127.0.0.1, entered in the clinic's clearinghouse profile."""
    root = tmp_path / "server"
    (root / "inbound").mkdir(parents=True)
    with SftpTestServer(root, host_key) as running:
        with clinic.db.session() as session:
            session.execute(
                sa.update(ClearinghouseProfile).values(
                    sftp_host="127.0.0.1", sftp_port=running.port, sftp_username=USERNAME, sftp_remote_dir="/inbound"
                )
            )
        yield running


class Picker:
    """Stands in for the folder and file dialogs: answers what the test put in it."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        self.files: list[Path] = []
        self.asked: list[str] = []

    def choose_folder(self, _parent: object, title: str, _start: str) -> str | None:
        self.asked.append(title)
        return str(self.folder) if self.folder else None

    def choose_files(self, _parent: object) -> list[str]:
        self.asked.append("files")
        return [str(p) for p in self.files]


def _ready(clinic: Services) -> int:
    with clinic.db.session() as session:
        return session.scalar(sa.select(sa.func.count(Claim.id)).where(Claim.status == ClaimStatus.READY)) or 0


def _open(qtbot: QtBot, clinic: Services, tmp_path: Path, picker: Picker) -> BatchesView:
    settings = QSettings(str(tmp_path / "workstation.ini"), QSettings.Format.IniFormat)
    view = BatchesView(
        clinic,
        biller(clinic),
        settings=settings,
        choose_folder=picker.choose_folder,
        choose_files=picker.choose_files,
        today=lambda: TODAY,
        known_hosts=tmp_path / "workstation" / "known_hosts",
    )
    qtbot.addWidget(view)
    view.resize(1200, 700)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    _activate(qtbot, view)
    return view


def _activate(qtbot: QtBot, view: BatchesView) -> None:
    """Bring the page's window to the front (a closed dialog leaves no window active), so its keys work."""
    view.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is view, timeout=5_000)


def _export_dialog(qtbot: QtBot, view: BatchesView) -> ExportBatchDialog:
    _activate(qtbot, view)
    qtbot.keyClick(view, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    dialog = view.dialog
    assert isinstance(dialog, ExportBatchDialog)
    qtbot.waitUntil(lambda: "ready to export" in dialog.ready.text(), timeout=10_000)
    return dialog


def test_export_writes_the_files_with_progress_and_the_batch_appears(
    qtbot: QtBot, qtmodeltester: object, clinic: Services, tmp_path: Path
) -> None:
    ready = _ready(clinic)
    assert ready > 0
    picker = Picker()
    view = _open(qtbot, clinic, tmp_path, picker)
    assert view.ready.text() == f"{ready} claims ready to export to {PROFILE}."
    assert view.model.rowCount() == 0
    dialog = _export_dialog(qtbot, view)
    assert dialog.clearinghouse.currentText() == PROFILE
    assert dialog.ready.text() == f"{ready} claims ready to export to {PROFILE}."

    # Without a folder nothing is written, and the dialog says what to do.
    assert dialog.folder.text() == ""
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert dialog.state.text() == "Choose the folder to write the claim files to (Browse…)."
    assert _ready(clinic) == ready

    out = tmp_path / "for the portal"
    picker.folder = out
    qtbot.mouseClick(dialog.browse, Qt.MouseButton.LeftButton)
    assert dialog.folder.text() == str(out)
    with qtbot.waitSignal(dialog.exported, timeout=30_000) as exported:
        qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    summary = exported.args[0]
    assert dialog.progress.maximum() == ready and dialog.progress.value() == ready
    assert summary.files and all(f.path.exists() and f.path.parent == out for f in summary.files)
    assert sorted(p.name for p in out.iterdir()) == sorted(f.path.name for f in summary.files)
    assert all(str(f.path) in dialog.result.toPlainText() for f in summary.files)
    assert dialog.state.text().startswith(f"Done: {ready} claims in {len(summary.files)} file")

    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: view.dialog is None, timeout=5_000)
    qtbot.waitUntil(lambda: view.model.rowCount() == len(summary.files), timeout=10_000)
    qtmodeltester.check(view.model)  # type: ignore[attr-defined]
    assert column(view.table, "Status") == ["Exported (not uploaded yet)"] * len(summary.files)
    assert sum(int(c) for c in column(view.table, "Claims")) == ready
    assert column(view.table, "Acknowledgements") == ["none yet"] * len(summary.files)
    assert view.ready.text() == f"No claims are ready to export to {PROFILE}."

    # The folder is remembered for the next export.
    second = _export_dialog(qtbot, view)
    assert second.folder.text() == str(out)
    assert second.ready.text() == f"No claims are ready to export to {PROFILE}."
    second.reject()


def test_cancel_after_the_first_file_leaves_the_rest_ready(
    qtbot: QtBot, clinic: Services, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    claims_per_file(clinic, 1)
    ready = _ready(clinic)
    assert ready >= 3
    # The first file's rendering waits until the user has pressed Cancel, so the test knows
    # exactly when the cancel lands: after the file being written, before the next one.
    rendering, go_on = threading.Event(), threading.Event()
    real_render = batches.render_batch

    def render_after_cancel(*args: object, **kwargs: object) -> str:
        rendering.set()
        assert go_on.wait(10)
        return real_render(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batches, "render_batch", render_after_cancel)
    picker = Picker()
    picker.folder = tmp_path / "out"
    view = _open(qtbot, clinic, tmp_path, picker)
    dialog = _export_dialog(qtbot, view)
    qtbot.mouseClick(dialog.browse, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(dialog.export_button, Qt.MouseButton.LeftButton)
    assert not dialog.export_button.isEnabled() and not dialog.close_button.isEnabled()
    qtbot.waitUntil(rendering.is_set, timeout=10_000)
    qtbot.mouseClick(dialog.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.state.text() == "Cancelling after the file being written…"
    with qtbot.waitSignal(dialog.exported, timeout=30_000) as exported:
        go_on.set()
    summary = exported.args[0]
    assert summary.cancelled and len(summary.files) == 1
    assert dialog.progress.value() == 1 and dialog.progress.maximum() == ready
    assert dialog.state.text() == "Export cancelled after 1 file; the rest stay ready."
    assert "Export cancelled; the remaining claims stay ready." in dialog.result.toPlainText()
    assert dialog.close_button.isEnabled()
    assert [p.name for p in (tmp_path / "out").iterdir()] == [summary.files[0].path.name]
    assert _ready(clinic) == ready - 1
    qtbot.waitUntil(lambda: view.ready.text() == f"{ready - 1} claims ready to export to {PROFILE}.", timeout=10_000)
    assert view.model.rowCount() == 1


def test_confirm_upload_reexport_and_a_999_that_accepts_the_batch(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    exported = export_batches(clinic, tmp_path / "first").files[0]
    picker = Picker()
    view = _open(qtbot, clinic, tmp_path, picker)
    assert column(view.table, "Batch") == [str(exported.batch_id)]
    assert not view.confirm_button.isEnabled()  # nothing picked yet
    view.table.setFocus()
    view.table.setCurrentIndex(view.model.index(0, 0))
    assert view.confirm_button.isEnabled() and view.reexport_button.isEnabled()

    picker.folder = tmp_path / "again"
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.mouseClick(view.reexport_button, Qt.MouseButton.LeftButton)
    again = tmp_path / "again" / exported.path.name
    assert again.read_bytes() == exported.path.read_bytes()
    assert view.message.text() == f"Batch {exported.batch_id}'s file was written again, unchanged."

    qtbot.mouseClick(view.confirm_button, Qt.MouseButton.LeftButton)
    box = view.confirm_box
    assert isinstance(box, QMessageBox) and exported.path.name in box.text()
    yes = box.findChild(QPushButton, "confirmUploadYes")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.mouseClick(yes, Qt.MouseButton.LeftButton)
    del box, yes  # the message box deletes itself on close
    assert column(view.table, "Status") == ["Submitted"]
    claims = f"{exported.claims} claim{'' if exported.claims == 1 else 's'}"
    assert view.message.text() == f"Batch {exported.batch_id} is submitted: {claims}."
    with clinic.db.session() as session:
        statuses = set(session.scalars(sa.select(Claim.status).where(Claim.batch_id == exported.batch_id)))
    assert statuses == {ClaimStatus.SUBMITTED}
    assert not view.confirm_button.isEnabled()

    answer = tmp_path / "answer.999"
    answer.write_text(acknowledgement_999(clinic, exported.batch_id, accepted=True), encoding="ascii")
    picker.files = [answer]
    _activate(qtbot, view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert view.message.text() == "Read 1 acknowledgement file."
    assert f"batches acknowledged: {exported.batch_id}" in view.report.toPlainText()
    assert column(view.table, "Acknowledgements") == ["999 accepted"]
    assert column(view.table, "Status") == ["Acknowledged"]


def test_a_malformed_acknowledgement_is_reported_and_changes_nothing(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    exported = export_batches(clinic, tmp_path / "out").files[0]
    picker = Picker()
    view = _open(qtbot, clinic, tmp_path, picker)
    broken = tmp_path / "download.999"
    broken.write_text("ISA*00*this is not an acknowledgement", encoding="ascii")
    picker.files = [broken]
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.mouseClick(view.import_button, Qt.MouseButton.LeftButton)
    assert view.message.text() == (
        "Read 0 acknowledgement files. 1 file could not be read and changed nothing: download.999."
    )
    assert "download.999 is not a readable acknowledgement file" in view.report.toPlainText()
    assert "Nothing was changed" in view.report.toPlainText()
    assert column(view.table, "Status") == ["Exported (not uploaded yet)"]
    assert column(view.table, "Acknowledgements") == ["none yet"]
    with clinic.db.session() as session:
        assert session.scalar(sa.select(sa.func.count(InboundFile.id))) == 0
        batch = session.get(ClaimBatch, exported.batch_id)
        assert batch is not None and batch.status is BatchStatus.EXPORTED
        statuses = set(session.scalars(sa.select(Claim.status).where(Claim.batch_id == exported.batch_id)))
    assert statuses == {ClaimStatus.BATCHED}


# -- upload by SFTP ------------------------------------------------------------------------------------


def _trust(server: SftpTestServer, known_hosts: Path) -> None:
    """This workstation has uploaded to the server before: its key is on file."""
    known_hosts.parent.mkdir(parents=True, exist_ok=True)
    key = server.host_key
    known_hosts.write_text(f"[127.0.0.1]:{server.port} {key.get_name()} {key.get_base64()}\n")


def _saved_password(backend: MemoryKeyring) -> str | None:
    return backend.entries.get((SERVICE_NAME, sftp_secret_key(PROFILE)))


def _exported_and_picked(qtbot: QtBot, clinic: Services, tmp_path: Path) -> tuple[ExportedFile, BatchesView]:
    """One exported batch, the Batches page open on it (the cursor on its row), the page active."""
    exported = export_batches(clinic, tmp_path / "out").files[0]
    view = _open(qtbot, clinic, tmp_path, Picker())
    row = column(view.table, "Batch").index(str(exported.batch_id))
    view.table.setFocus()
    view.table.setCurrentIndex(view.model.index(row, 0))
    _activate(qtbot, view)
    return exported, view


def _ctrl_u(qtbot: QtBot, view: BatchesView) -> None:
    qtbot.keyClick(view, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)


def _password_dialog(qtbot: QtBot, view: BatchesView) -> SftpPasswordDialog:
    qtbot.waitUntil(lambda: view.password_dialog is not None and view.password_dialog.isVisible(), timeout=10_000)
    dialog = view.password_dialog
    assert isinstance(dialog, SftpPasswordDialog)
    return dialog


def _statuses(clinic: Services, batch_id: int) -> tuple[BatchStatus, set[ClaimStatus]]:
    with clinic.db.session() as session:
        batch = session.get(ClaimBatch, batch_id)
        assert batch is not None
        return batch.status, {c.status for c in batch.claims}


def test_without_an_sftp_server_the_upload_button_says_where_to_set_one_up(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    exported, view = _exported_and_picked(qtbot, clinic, tmp_path)
    assert view.confirm_button.isEnabled()
    assert not view.upload_button.isEnabled()
    assert "File → Clearinghouse…" in view.upload_button.toolTip()
    _ctrl_u(qtbot, view)
    assert view.password_dialog is None
    assert _statuses(clinic, exported.batch_id)[0] is BatchStatus.EXPORTED


def test_upload_asks_the_password_and_to_trust_the_server_then_the_batch_is_submitted(
    qtbot: QtBot, clinic: Services, tmp_path: Path, server: SftpTestServer, known_hosts: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    exported, view = _exported_and_picked(qtbot, clinic, tmp_path)
    assert view.upload_button.isEnabled()
    _ctrl_u(qtbot, view)

    # Nothing saved on this computer: the password is asked for, and may be remembered.
    dialog = _password_dialog(qtbot, view)
    assert dialog.intro.text() == f"The SFTP password for {USERNAME} on 127.0.0.1 ({PROFILE}):"
    assert not dialog.problem.isVisible()
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)  # an empty password is not sent
    assert dialog.isVisible() and dialog.problem.text() == "Enter the password, or press Cancel."
    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClick(dialog.remember, Qt.Key.Key_Space)
    assert dialog.remember.isChecked()
    qtbot.keyClick(dialog.password, Qt.Key.Key_Return)

    # The server was never uploaded to: its fingerprint is shown, and No is the default answer.
    qtbot.waitUntil(lambda: view.trust_box is not None, timeout=10_000)
    box = view.trust_box
    assert isinstance(box, QMessageBox)
    assert "Trust this server?" in box.text() and f"Fingerprint {server.host_key.fingerprint}" in box.text()
    assert box.defaultButton() is box.findChild(QPushButton, "trustServerNo")
    assert server.files() == {} and server.passwords_received == 0 and not known_hosts.exists()
    assert _saved_password(memory_keyring) is None

    with qtbot.waitSignal(view.loaded, timeout=20_000):
        qtbot.mouseClick(box.findChild(QPushButton, "trustServerYes"), Qt.MouseButton.LeftButton)
    del box
    assert server.files() == {exported.path.name: exported.path.read_bytes()}  # byte for byte, no .part
    assert column(view.table, "Status") == ["Submitted"]
    claims = f"{exported.claims} claim{'' if exported.claims == 1 else 's'}"
    assert view.message.text() == (
        f"Batch {exported.batch_id} is on 127.0.0.1 and submitted: {claims}. The password is saved on this computer."
    )
    assert view.report.toPlainText() == f"1 file(s) uploaded.\n  /inbound/{exported.path.name}"
    assert _statuses(clinic, exported.batch_id) == (BatchStatus.SUBMITTED, {ClaimStatus.SUBMITTED})
    assert server.host_key.get_base64() in known_hosts.read_text()
    assert _saved_password(memory_keyring) == PASSWORD
    assert not view.upload_button.isEnabled() and not view.upload_progress.isVisible()


def test_an_untrusted_server_gets_nothing_not_even_the_password(
    qtbot: QtBot, clinic: Services, tmp_path: Path, server: SftpTestServer, known_hosts: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    keyring.set_password(SERVICE_NAME, sftp_secret_key(PROFILE), PASSWORD)
    exported, view = _exported_and_picked(qtbot, clinic, tmp_path)
    _ctrl_u(qtbot, view)
    qtbot.waitUntil(lambda: view.trust_box is not None, timeout=10_000)
    assert view.password_dialog is None  # the saved password was used
    with qtbot.waitSignal(view.finished, timeout=5_000):
        qtbot.keyClick(view.trust_box, Qt.Key.Key_Escape)
    assert view.message.text() == (
        f"Not uploaded: 127.0.0.1 was not trusted. Check its fingerprint with {PROFILE}, then upload again."
    )
    assert server.files() == {} and server.passwords_received == 0
    assert not known_hosts.exists()
    assert _statuses(clinic, exported.batch_id) == (BatchStatus.EXPORTED, {ClaimStatus.BATCHED})
    assert view.upload_button.isEnabled()  # free to try again


def test_a_wrong_saved_password_is_refused_and_the_right_one_replaces_it(
    qtbot: QtBot, clinic: Services, tmp_path: Path, server: SftpTestServer, known_hosts: Path,
    memory_keyring: MemoryKeyring,
) -> None:
    keyring.set_password(SERVICE_NAME, sftp_secret_key(PROFILE), "wrong-fictional-password")
    _trust(server, known_hosts)
    exported, view = _exported_and_picked(qtbot, clinic, tmp_path)
    _ctrl_u(qtbot, view)

    dialog = _password_dialog(qtbot, view)
    assert "authentication refused" in dialog.problem.text() and dialog.problem.isVisible()
    assert "authentication refused" in view.message.text()
    assert "wrong-fictional-password" not in view.message.text()
    assert server.files() == {}
    assert _statuses(clinic, exported.batch_id)[0] is BatchStatus.EXPORTED

    qtbot.keyClicks(dialog.password, PASSWORD)
    qtbot.keyClick(dialog.remember, Qt.Key.Key_Space)
    with qtbot.waitSignal(view.loaded, timeout=20_000):
        qtbot.mouseClick(dialog.upload_button, Qt.MouseButton.LeftButton)
    assert column(view.table, "Status") == ["Submitted"]
    assert set(server.files()) == {exported.path.name}
    assert _saved_password(memory_keyring) == PASSWORD


def test_a_locked_password_store_still_lets_the_password_be_typed(
    qtbot: QtBot, clinic: Services, tmp_path: Path, server: SftpTestServer, known_hosts: Path
) -> None:
    keyring.set_keyring(LockedKeyring())  # the autouse fixture puts the previous one back
    _trust(server, known_hosts)
    exported, view = _exported_and_picked(qtbot, clinic, tmp_path)
    _ctrl_u(qtbot, view)
    dialog = _password_dialog(qtbot, view)
    assert dialog.problem.text() == LOCKED_KEYRING
    assert not dialog.remember.isEnabled()
    qtbot.keyClicks(dialog.password, PASSWORD)
    with qtbot.waitSignal(view.loaded, timeout=20_000):
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
    assert column(view.table, "Status") == ["Submitted"]
    assert set(server.files()) == {exported.path.name}


def test_a_server_that_cannot_store_the_file_offers_retry(
    qtbot: QtBot, clinic: Services, tmp_path: Path, server: SftpTestServer, known_hosts: Path
) -> None:
    keyring.set_password(SERVICE_NAME, sftp_secret_key(PROFILE), PASSWORD)
    _trust(server, known_hosts)
    exported, view = _exported_and_picked(qtbot, clinic, tmp_path)
    server.fail_writes = True  # a full disk on the clearinghouse's side
    _ctrl_u(qtbot, view)
    qtbot.waitUntil(lambda: view.findChild(QMessageBox, "errorMessage") is not None, timeout=20_000)
    box = view.findChild(QMessageBox, "errorMessage")
    assert box.windowTitle() == "Upload not completed"
    assert f"did not store {exported.path.name}" in box.text() and "Try again later" in box.text()
    retry = box.button(QMessageBox.StandardButton.Retry)
    assert retry is not None and box.defaultButton() is retry
    assert view.message.text() == box.text()
    assert server.files() == {}  # nothing half-written left there
    assert _statuses(clinic, exported.batch_id)[0] is BatchStatus.EXPORTED

    server.fail_writes = False
    with qtbot.waitSignal(view.loaded, timeout=20_000):
        qtbot.mouseClick(retry, Qt.MouseButton.LeftButton)
    del box, retry
    qtbot.waitUntil(lambda: column(view.table, "Status") == ["Submitted"], timeout=10_000)
    assert server.files() == {exported.path.name: exported.path.read_bytes()}


def test_cancel_before_the_file_is_sent_leaves_the_batch_exported(
    qtbot: QtBot, clinic: Services, tmp_path: Path, server: SftpTestServer, known_hosts: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyring.set_password(SERVICE_NAME, sftp_secret_key(PROFILE), PASSWORD)
    _trust(server, known_hosts)
    # Signed in, the upload waits until the user has pressed Cancel, so the test knows exactly
    # when the cancel lands: before the first file.
    connected, go_on = threading.Event(), threading.Event()
    real_folder = uploads._remote_folder

    def folder_after_cancel(*args: object) -> str:
        connected.set()
        assert go_on.wait(10)
        return real_folder(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(uploads, "_remote_folder", folder_after_cancel)
    exported, view = _exported_and_picked(qtbot, clinic, tmp_path)
    _ctrl_u(qtbot, view)
    qtbot.waitUntil(connected.is_set, timeout=10_000)
    assert view.upload_progress.isVisible() and view.cancel_upload_button.isVisible()
    assert not view.upload_button.isEnabled() and not view.confirm_button.isEnabled()
    assert QApplication.focusWidget() is view.cancel_upload_button
    qtbot.keyClick(view.cancel_upload_button, Qt.Key.Key_Space)
    assert view.message.text() == "Cancelling: no further file is sent…"
    with qtbot.waitSignal(view.loaded, timeout=20_000):
        go_on.set()
    assert view.message.text() == f"Upload cancelled: nothing was sent; batch {exported.batch_id} is still exported."
    assert "Upload cancelled" in view.report.toPlainText()
    assert server.files() == {}
    assert column(view.table, "Status") == ["Exported (not uploaded yet)"]
    assert not view.upload_progress.isVisible() and view.upload_button.isEnabled()


@pytest.mark.parametrize(
    ("failure", "title", "retry"),
    [
        (UploadFailed("The SFTP server did not answer. Try again.", UploadProblem.UNREACHABLE, retryable=True),
         "Upload not completed", True),
        (UploadFailed("The password was refused.", UploadProblem.AUTHENTICATION, retryable=False),
         "Upload not completed", False),
        (SecretStoreUnavailable(LOCKED_KEYRING, retryable=True), "Password store not available", True),
        (SecretStoreUnavailable("No password store.", retryable=False), "Password store not available", False),
    ],
)
def test_upload_and_password_store_failures_show_their_own_message(
    qtbot: QtBot, failure: Exception, title: str, retry: bool
) -> None:
    parent = QWidget()
    qtbot.addWidget(parent)
    retried: list[bool] = []
    box = show_error(parent, failure, retry=lambda: retried.append(True))
    assert box.windowTitle() == title
    assert box.text() == str(failure) and ENVIRONMENT_MESSAGE not in box.text()  # not a database fault
    button = box.button(QMessageBox.StandardButton.Retry)
    assert (button is not None) is retry
    if button is not None:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
        assert retried == [True]
    else:
        box.close()
