"""Attachments from the keyboard and mouse: add a card image and an order PDF, view them, remove one."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, QUrl
from PySide6.QtGui import QColor, QImage
from PySide6.QtWidgets import QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role, Sex
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.attachments import AttachmentKind, AttachmentService
from infusion_desk.services.patients import PatientInput
from infusion_desk.ui.attachments_panel import AttachmentsPanel
from infusion_desk.ui.formatting import today_local
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor
from tests.ui.conftest import TODAY
from tests.ui.helpers import column


def card_png(path: Path) -> bytes:
    image = QImage(320, 200, QImage.Format.Format_RGB32)
    image.fill(QColor("lightsteelblue"))
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    path.write_bytes(bytes(data))
    return bytes(data)


def order_pdf(path: Path) -> bytes:
    from reportlab.pdfgen import canvas

    out = io.BytesIO()
    page = canvas.Canvas(out)
    page.drawString(72, 720, "Fictional infusion order for a demo patient")
    page.save()
    path.write_bytes(out.getvalue())
    return out.getvalue()


class Opened:
    def __init__(self) -> None:
        self.urls: list[QUrl] = []

    def __call__(self, url: QUrl) -> bool:
        self.urls.append(url)
        return True


@pytest.fixture
def desk(ui_services: Services) -> Actor:
    return make_actor(ui_services, Role.FRONT_DESK)


@pytest.fixture
def patient(ui_services: Services, desk: Actor) -> int:
    return ui_services.patients.register(
        desk,
        PatientInput(
            "Bram", "Oddfellow", date(1964, 2, 2), Sex.MALE, "6 Demo Yard", "Springfield", "IL", "62704"
        ),
        TODAY,
    )


def _panel(qtbot: QtBot, services: Services, actor: Actor, patient: int, **kwargs) -> AttachmentsPanel:  # type: ignore[no-untyped-def]
    panel = AttachmentsPanel(services, actor, **kwargs)
    qtbot.addWidget(panel)
    panel.resize(800, 400)
    panel.show()
    panel.set_patient(patient)
    qtbot.waitUntil(lambda: panel.status.text() != "Loading attachments…", timeout=5000)
    return panel


def test_add_a_card_image_and_view_it_in_the_app(
    qtbot: QtBot, ui_services: Services, desk: Actor, patient: int, tmp_path: Path
) -> None:
    card = tmp_path / "front of card.png"
    card_png(card)
    panel = _panel(qtbot, ui_services, desk, patient)
    assert "No attachments yet" in panel.status.text()
    assert not panel.view_button.isEnabled()

    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.add_dialog
    assert dialog is not None and dialog.isVisible()
    qtbot.keyClicks(dialog.path, str(card))
    dialog.kind.setCurrentIndex(dialog.kind.findData(AttachmentKind.CARD_FRONT))
    qtbot.keyClicks(dialog.description, "Pinecrest card, front")
    with qtbot.waitSignal(panel.changed, timeout=5000):
        qtbot.keyClick(dialog.description, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    assert column(panel.table, "Kind") == ["Insurance card (front)"]
    assert column(panel.table, "Description") == ["Pinecrest card, front"]
    assert column(panel.table, "File") == ["front of card.png"]
    assert column(panel.table, "Added") == [today_local().strftime("%m/%d/%Y")]
    assert column(panel.table, "By") == ["Test front_desk"]

    panel.table.setFocus()
    qtbot.mouseClick(panel.view_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.viewer is not None and panel.viewer.isVisible(), timeout=5000)
    viewer = panel.viewer
    shown = viewer.image.pixmap()
    assert not shown.isNull() and shown.width() <= viewer.scroll.viewport().width()  # zoomed to fit
    viewer.zoom_by(4)
    zoomed = viewer.image.pixmap()
    assert zoomed.width() > viewer.scroll.viewport().width()
    viewer.fit()
    fitted, room = viewer.image.pixmap(), viewer.scroll.viewport().size()
    assert fitted.width() < zoomed.width()
    assert fitted.width() <= room.width() and fitted.height() <= room.height()
    viewer.reject()
    wait_for_idle()


def test_a_pdf_opens_in_the_system_viewer_with_exactly_its_bytes(
    qtbot: QtBot, ui_services: Services, desk: Actor, patient: int, tmp_path: Path
) -> None:
    order = tmp_path / "order.pdf"
    content = order_pdf(order)
    opened = Opened()
    panel = _panel(qtbot, ui_services, desk, patient, opener=opened, choose_file=lambda _parent: str(order))
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.add_dialog
    qtbot.mouseClick(dialog.browse, Qt.MouseButton.LeftButton)
    assert dialog.path.text() == str(order)
    dialog.kind.setCurrentIndex(dialog.kind.findData(AttachmentKind.ORDER))
    with qtbot.waitSignal(panel.changed, timeout=5000):
        qtbot.mouseClick(
            dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
        )
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)

    # Enter on the row opens it, like the View button.
    panel.table.setFocus()
    qtbot.keyClick(panel.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(opened.urls) == 1, timeout=5000)
    written = Path(opened.urls[0].toLocalFile())
    assert written.name == "order.pdf" and written.read_bytes() == content
    assert panel.viewer is None
    wait_for_idle()


def test_files_that_are_not_scans_are_refused_in_the_dialog(
    qtbot: QtBot, ui_services: Services, desk: Actor, patient: int, tmp_path: Path
) -> None:
    fake = tmp_path / "letter.pdf"
    fake.write_bytes(b"PK\x03\x04 a word document renamed")
    panel = _panel(qtbot, ui_services, desk, patient)
    qtbot.mouseClick(panel.add_button, Qt.MouseButton.LeftButton)
    dialog = panel.add_dialog
    qtbot.keyClick(dialog.description, Qt.Key.Key_Return)
    assert "Choose the file" in dialog.error.text()
    qtbot.keyClicks(dialog.path, str(fake))
    qtbot.keyClick(dialog.path, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "not a PDF, PNG, JPEG or TIFF" in dialog.error.text(), timeout=5000)
    dialog.path.clear()
    qtbot.keyClicks(dialog.path, str(tmp_path / "missing.png"))
    qtbot.keyClick(dialog.path, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "could not be read" in dialog.error.text(), timeout=5000)
    assert dialog.isVisible()
    assert AttachmentService(ui_services.db).list(desk, patient) == []
    wait_for_idle()


def test_remove_asks_first_and_only_the_uploader_may(
    qtbot: QtBot, ui_services: Services, desk: Actor, patient: int, tmp_path: Path
) -> None:
    attachments = AttachmentService(ui_services.db)
    attachments.add(desk, patient, AttachmentKind.CARD_BACK, "back.png", card_png(tmp_path / "b.png"), "")
    colleague = make_actor(ui_services, Role.FRONT_DESK, "t_colleague")
    other = _panel(qtbot, ui_services, colleague, patient)
    qtbot.waitUntil(lambda: other.model.rowCount() == 1, timeout=5000)
    assert other.view_button.isEnabled() and not other.remove_button.isEnabled()

    panel = _panel(qtbot, ui_services, desk, patient)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5000)
    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    box = panel.confirm
    assert box is not None and "back.png" in box.text()
    qtbot.mouseClick(box.button(QMessageBox.StandardButton.Cancel), Qt.MouseButton.LeftButton)
    wait_for_idle()
    assert len(attachments.list(desk, patient)) == 1

    qtbot.mouseClick(panel.remove_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.changed, timeout=5000):
        qtbot.mouseClick(panel.confirm.button(QMessageBox.StandardButton.Yes), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 0, timeout=5000)
    assert attachments.list(desk, patient) == []
    wait_for_idle()


def test_attachment_model_passes_the_model_tester(
    qtmodeltester,
    ui_services: Services,
    desk: Actor,
    patient: int,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from infusion_desk.ui.attachments_panel import AttachmentTableModel

    attachments = AttachmentService(ui_services.db)
    attachments.add(desk, patient, AttachmentKind.ORDER, "o.pdf", order_pdf(tmp_path / "o.pdf"), "Order")
    model = AttachmentTableModel()
    model.set_rows(attachments.list(desk, patient))
    qtmodeltester.check(model)
