"""The opened patient's attachments: insurance cards, orders and letters, added, viewed and removed.

    panel = AttachmentsPanel(services, actor)
    panel.set_patient(patient_id)

Images open in a viewer inside the app (zoomed to fit; Ctrl++ / Ctrl+- / Ctrl+0). PDFs open
in the system's PDF viewer from a private temporary copy, removed when Infusion Desk quits.
The opener and the file chooser are parameters so the tests can see exactly what is opened.
"""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QImage, QKeySequence, QPixmap, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import Role
from infusion_desk.services.access import Permission
from infusion_desk.services.attachments import (
    KIND_LABELS,
    AttachmentKind,
    AttachmentService,
    AttachmentSummary,
)
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import local_date, us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

Opener = Callable[[QUrl], bool]
FileChooser = Callable[[QWidget], str | None]


def _size(size: int) -> str:
    if size < 1024 * 1024:
        return f"{max(1, round(size / 1024))} KB"
    return f"{size / (1024 * 1024):.1f} MB"


ATTACHMENT_COLUMNS: tuple[Column[AttachmentSummary], ...] = (
    ("Kind", lambda a: a.kind_label),
    ("Description", lambda a: a.description or ""),
    ("File", lambda a: a.filename),
    ("Added", lambda a: us_date(local_date(a.uploaded_at))),
    ("By", lambda a: a.uploaded_by or ""),
    ("Size", lambda a: _size(a.size)),
)


class AttachmentTableModel(RowTableModel[AttachmentSummary]):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(ATTACHMENT_COLUMNS, parent)


_temp_dir: Path | None = None


def viewing_folder() -> Path:
    """A private folder for copies handed to the system viewer, emptied when the app quits."""
    global _temp_dir
    if _temp_dir is None or not _temp_dir.exists():
        _temp_dir = Path(tempfile.mkdtemp(prefix="infusion-desk-view-"))
        atexit.register(shutil.rmtree, _temp_dir, True)
    return _temp_dir


def write_viewing_copy(attachment_id: int, filename: str, content: bytes) -> Path:
    """Write ``content`` to a file the system viewer can open; the name keeps the original's."""
    safe = re.sub(r"[^A-Za-z0-9._ -]", "_", filename).strip() or "attachment.pdf"
    folder = viewing_folder() / str(attachment_id)
    folder.mkdir(exist_ok=True)
    path = folder / safe
    path.write_bytes(content)
    return path


def _choose_file(parent: QWidget) -> str | None:
    path, _filter = QFileDialog.getOpenFileName(
        parent,
        "Choose a scanned file",
        "",
        "Scans (*.pdf *.png *.jpg *.jpeg *.tif *.tiff);;All files (*)",
    )
    return path or None


class AddAttachmentDialog(QDialog):
    """Choose a file, say what it is, and keep it with the patient."""

    saved = Signal(int)  # the attachment's id

    def __init__(
        self,
        attachments: AttachmentService,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        choose_file: FileChooser = _choose_file,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("addAttachmentDialog")
        self.setWindowTitle("Add attachment")
        self._attachments, self._actor, self._patient_id = attachments, actor, patient_id
        self._choose_file = choose_file
        self._runner = TaskRunner(self)
        self.path = QLineEdit()
        self.path.setObjectName("attachmentPath")
        self.path.setPlaceholderText("The scanned PDF or image")
        self.browse = QPushButton("&Browse…")
        self.browse.setObjectName("attachmentBrowse")
        self.browse.setAutoDefault(False)
        self.browse.clicked.connect(self._browse)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(self.browse)
        self.kind = QComboBox()
        self.kind.setObjectName("attachmentKind")
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind)
        self.description = QLineEdit()
        self.description.setObjectName("attachmentDescription")
        self.description.setMaxLength(200)
        form = QFormLayout(self)
        file_label = QLabel("&File")
        file_label.setBuddy(self.path)
        form.addRow(file_label, path_row)
        form.addRow("&Kind", self.kind)
        form.addRow("&Description", self.description)
        self.error = QLabel("")
        self.error.setObjectName("attachmentError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        pin_minimum_size(self)

    def _browse(self) -> None:
        chosen = self._choose_file(self)
        if chosen:
            self.path.setText(chosen)

    def save(self) -> None:
        text = self.path.text().strip()
        if not text:
            self._show("Choose the file to attach (Browse…).")
            return
        path = Path(text)
        kind = AttachmentKind(self.kind.currentData())
        description = self.description.text().strip() or None
        attachments, actor, patient_id = self._attachments, self._actor, self._patient_id

        def add() -> int:
            try:
                content = path.read_bytes()
            except OSError as exc:  # a wrong path is the user's to fix, not a database fault
                from infusion_desk.billing.findings import error

                reason = exc.strerror or type(exc).__name__
                raise ValidationFailed(
                    [error("ATTACHMENT_READ", f"{path.name or text} could not be read: {reason}.", "path")]
                ) from None
            return attachments.add(actor, patient_id, kind, path.name, content, description)

        self.buttons.setEnabled(False)
        self._runner.run(add, self._saved, self._failed)

    def _saved(self, attachment_id: Any) -> None:
        self.saved.emit(int(attachment_id))
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self._show(describe(exc))
        else:
            show_error(self, exc)

    def _show(self, message: str) -> None:
        self.error.setText(message)
        grow_to_fit(self)


class ImageViewer(QDialog):
    """One scanned image, zoomed to fit the window until the user zooms."""

    def __init__(self, title: str, image: QImage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("imageViewer")
        self.setWindowTitle(title)
        self._pixmap = QPixmap.fromImage(image)
        self._zoom: float | None = None  # None: fit to the window
        self.image = QLabel()
        self.image.setObjectName("imageViewerImage")
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll = QScrollArea()
        self.scroll.setWidget(self.image)
        self.scroll.setWidgetResizable(True)
        self.scroll.setAlignment(Qt.AlignmentFlag.AlignCenter)
        hint = QLabel("Ctrl++ zoom in, Ctrl+- zoom out, Ctrl+0 fit to window, Esc close")
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(hint)
        layout.addWidget(close)
        for keys, action in (
            (QKeySequence.StandardKey.ZoomIn, lambda: self.zoom_by(1.25)),
            (QKeySequence.StandardKey.ZoomOut, lambda: self.zoom_by(0.8)),
            (QKeySequence("Ctrl+0"), self.fit),
        ):
            QShortcut(keys, self, action)
        self.resize(720, 640)
        self._render()

    @property
    def zoom(self) -> float:
        """The scale the image is shown at (1.0: its own size)."""
        return self.image.pixmap().width() / max(1, self._pixmap.width())

    def fit(self) -> None:
        self._zoom = None
        self._render()

    def zoom_by(self, factor: float) -> None:
        self._zoom = min(8.0, max(0.05, self.zoom * factor))
        self._render()

    def _render(self) -> None:
        if self._zoom is None:
            room = self.scroll.viewport().size()
            shown = self._pixmap.scaled(
                max(1, room.width() - 4),
                max(1, room.height() - 4),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        else:
            shown = self._pixmap.scaledToWidth(
                max(1, round(self._pixmap.width() * self._zoom)), Qt.TransformationMode.SmoothTransformation
            )
        self.image.setPixmap(shown)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self._zoom is None:
            self._render()


class AttachmentsPanel(QWidget):
    """Lists the patient's attachments, with Add…, View and Remove…."""

    changed = Signal(int)  # the patient's id, after an attachment was added or removed

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        opener: Opener = QDesktopServices.openUrl,
        choose_file: FileChooser = _choose_file,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("attachmentsPanel")
        attachments = getattr(services, "attachments", None)
        self._attachments: AttachmentService = attachments or AttachmentService(services.db)
        self._actor = actor
        self._opener, self._choose_file = opener, choose_file
        self._runner = TaskRunner(self)
        self.patient_id: int | None = None
        self._generation = 0
        self.add_dialog: AddAttachmentDialog | None = None
        self.viewer: ImageViewer | None = None
        self.confirm: QMessageBox | None = None

        self.model = AttachmentTableModel(self)
        self.table = configure_table(QTableView(self), "attachmentsTable", "Attachments")
        self.table.setModel(self.model)
        self.table.doubleClicked.connect(lambda _index: self.view())
        self.table.activated.connect(lambda _index: self.view())
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.status = QLabel("")
        self.status.setObjectName("attachmentsStatus")
        self.status.setWordWrap(True)
        self.add_button = QPushButton("A&dd…")
        self.add_button.setObjectName("attachmentAdd")
        self.add_button.clicked.connect(self.add)
        self.view_button = QPushButton("&View")
        self.view_button.setObjectName("attachmentView")
        self.view_button.clicked.connect(self.view)
        self.remove_button = QPushButton("&Remove…")
        self.remove_button.setObjectName("attachmentRemove")
        self.remove_button.clicked.connect(self.remove)
        for button in (self.add_button, self.view_button, self.remove_button):
            button.setAutoDefault(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.view_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.setFocusProxy(self.table)
        self._selection_changed()

    # --- loading --------------------------------------------------------------------------

    def set_patient(self, patient_id: int | None) -> None:
        self.patient_id = patient_id
        self.model.set_rows(())
        self.refresh()

    def refresh(self, select: int | None = None) -> None:
        self._generation += 1
        generation, patient_id = self._generation, self.patient_id
        if patient_id is None:
            self._selection_changed()
            return
        attachments, actor = self._attachments, self._actor
        self.status.setText("Loading attachments…")
        self._runner.run(
            lambda: attachments.list(actor, patient_id),
            lambda rows: self._loaded(generation, rows, select),
            lambda exc: self._load_failed(generation, exc),
        )

    def _loaded(self, generation: int, rows: list[AttachmentSummary], select: int | None) -> None:
        if generation != self._generation:
            return
        self.model.set_rows(rows)
        self.status.setText("" if rows else "No attachments yet: add the insurance card, order or letters.")
        row = next((i for i, a in enumerate(rows) if a.id == select), 0)
        if rows:
            self.table.selectRow(row)
        self._selection_changed()

    def _load_failed(self, generation: int, exc: Exception) -> None:
        if generation == self._generation:
            self.status.setText(describe(exc))

    def selected(self) -> AttachmentSummary | None:
        index = self.table.currentIndex()
        if not index.isValid() or not self.table.selectionModel().isRowSelected(index.row(), QModelIndex()):
            return None
        return self.model.row(index.row())

    def _may_remove(self, attachment: AttachmentSummary) -> bool:
        if not self._actor.can(Permission.PATIENT_EDIT):
            return False
        return (
            self._actor.role in (Role.MANAGER, Role.ADMIN) or attachment.uploaded_by_id == self._actor.user_id
        )

    def _selection_changed(self, *_args: object) -> None:
        chosen = self.selected()
        self.add_button.setEnabled(self.patient_id is not None and self._actor.can(Permission.PATIENT_EDIT))
        self.view_button.setEnabled(chosen is not None)
        self.remove_button.setEnabled(chosen is not None and self._may_remove(chosen))
        if chosen is not None and not self._may_remove(chosen) and self._actor.can(Permission.PATIENT_EDIT):
            self.remove_button.setToolTip("Only the person who attached it, a manager or an administrator.")
        else:
            self.remove_button.setToolTip("")

    # --- actions --------------------------------------------------------------------------

    def add(self) -> None:
        if self.patient_id is None or not self._actor.can(Permission.PATIENT_EDIT):
            return
        dialog = AddAttachmentDialog(self._attachments, self._actor, self.patient_id, self, self._choose_file)
        patient_id = self.patient_id
        dialog.saved.connect(lambda attachment_id: self._changed(patient_id, attachment_id))
        dialog.open()
        self.add_dialog = dialog

    def _changed(self, patient_id: int, select: int | None = None) -> None:
        if patient_id == self.patient_id:
            self.refresh(select)
        self.changed.emit(patient_id)

    def view(self) -> None:
        chosen = self.selected()
        if chosen is None:
            return
        attachments, actor = self._attachments, self._actor

        def fetch() -> tuple[str, str, bytes, Path | None]:
            filename, mime, content = attachments.content(actor, chosen.id)
            # Images are shown in the app; anything else goes to the system viewer from a copy.
            path = None if chosen.is_image else write_viewing_copy(chosen.id, filename, content)
            return filename, mime, content, path

        self.status.setText(f"Opening {chosen.filename}…")
        self._runner.run(
            fetch, lambda result: self._show(chosen, *result), lambda exc: self._view_failed(exc)
        )

    def _show(
        self, chosen: AttachmentSummary, filename: str, mime: str, content: bytes, path: Path | None
    ) -> None:
        self.status.setText("")
        if path is None:
            image = QImage.fromData(content)
            if not image.isNull():
                title = f"{chosen.kind_label}: {filename}"
                self.viewer = ImageViewer(title, image, self)
                self.viewer.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
                self.viewer.open()
                return
            # Qt cannot draw this image (a TIFF without the plugin): the system viewer can.
            path = write_viewing_copy(chosen.id, filename, content)
        if not self._opener(QUrl.fromLocalFile(str(path))):
            self.status.setText(
                f"No program on this computer opens {mime} files. Install a PDF or image viewer, "
                "then choose View again."
            )

    def _view_failed(self, exc: Exception) -> None:
        self.status.setText(describe(exc))
        show_error(self, exc)

    def remove(self) -> None:
        chosen = self.selected()
        if chosen is None or not self._may_remove(chosen):
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            "Remove attachment",
            f"Remove {chosen.kind_label.lower()} “{chosen.filename}” from this patient's record? "
            "This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("attachmentRemoveConfirm")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        confirm = box.button(QMessageBox.StandardButton.Yes)
        confirm.setText("&Remove")
        box.buttonClicked.connect(lambda button: self._remove(chosen) if button is confirm else None)
        box.finished.connect(box.deleteLater)
        box.open()
        self.confirm = box

    def _remove(self, chosen: AttachmentSummary) -> None:
        attachments, actor = self._attachments, self._actor
        self._runner.run(
            lambda: attachments.remove(actor, chosen.id),
            lambda patient_id: self._changed(int(patient_id)),
            lambda exc: show_error(self, exc),
        )
