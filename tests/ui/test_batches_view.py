"""Billing → Batches: export with progress and Cancel, confirm the upload, re-export, import acknowledgements."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from infusion_desk.models import Claim, ClaimBatch, InboundFile
from infusion_desk.models.enums import BatchStatus, ClaimStatus
from infusion_desk.services import batches
from infusion_desk.services.app import Services
from infusion_desk.ui.batches_view import BatchesView, ExportBatchDialog
from tests.ui.claims_seed import (
    TODAY,
    acknowledgement_999,
    biller,
    build_claims,
    claims_per_file,
    close,
    demo_template,
    export_batches,
    open_copy,
)
from tests.ui.helpers import column

pytestmark = pytest.mark.gui

PROFILE = "Demo clearinghouse (test mode)"


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo clinic with its claims built, once for the module."""
    path = demo_template(tmp_path_factory.mktemp("batches-demo"))
    services, _ = Services.open(f"sqlite:///{path}")
    try:
        build_claims(services)
    finally:
        services.close()
    return path


@pytest.fixture
def clinic(template: Path, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(template, tmp_path)
    yield services
    close(services)


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
