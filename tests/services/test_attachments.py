"""Insurance cards, orders and letters kept with the patient, on both engines."""

from __future__ import annotations

import io
import struct
import zlib
from datetime import date

import pytest
import sqlalchemy as sa

from infusion_desk.models.enums import Role, Sex
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.attachments import MAX_BYTES, AttachmentKind, AttachmentService
from infusion_desk.services.errors import NotFound, PermissionDenied, ValidationFailed
from infusion_desk.services.patients import PatientInput
from tests.conftest import make_actor

TODAY = date(2026, 11, 26)


def tiny_png() -> bytes:
    """A 1x1 white PNG, built by hand (signature, IHDR, IDAT, IEND)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


def tiny_pdf(text: str = "Fictional order for a demo patient") -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, text)
    page.save()
    return buffer.getvalue()


@pytest.fixture
def desk(services: Services) -> Actor:
    return make_actor(services, Role.FRONT_DESK)


@pytest.fixture
def patient(services: Services, desk: Actor) -> int:
    return services.patients.register(
        desk,
        PatientInput(
            "Juniper", "Testcase", date(1965, 5, 5), Sex.FEMALE, "3 Demo Row", "Springfield", "IL", "62701"
        ),
        TODAY,
    )


def _actions(services: Services) -> list[str]:
    from infusion_desk.models import AuditEvent

    with services.db.session() as session:
        query = sa.select(AuditEvent.action).where(AuditEvent.entity == "attachment").order_by(AuditEvent.id)
        return list(session.scalars(query))


def test_files_are_kept_listed_without_bytes_and_read_back_exactly(
    services: Services, desk: Actor, patient: int
) -> None:
    attachments = AttachmentService(services.db)
    png, pdf = tiny_png(), tiny_pdf()
    card = attachments.add(
        desk, patient, AttachmentKind.CARD_FRONT, "C:\\scans\\card front.png", png, " Front "
    )
    order = attachments.add(desk, patient, "order", "order.pdf", pdf, "")

    listed = attachments.list(desk, patient)
    assert [a.id for a in listed] == [order, card]  # newest first
    newest, oldest = listed
    assert (oldest.kind_label, oldest.filename, oldest.description) == (
        "Insurance card (front)",
        "card front.png",
        "Front",
    )
    assert (oldest.mime_type, oldest.size, oldest.is_image) == ("image/png", len(png), True)
    assert (newest.kind_label, newest.mime_type, newest.description, newest.is_image) == (
        "Physician order",
        "application/pdf",
        None,
        False,
    )
    assert oldest.uploaded_by == "Test front_desk" and oldest.uploaded_at.tzinfo is not None
    assert not hasattr(oldest, "content")

    assert attachments.content(desk, order) == ("order.pdf", "application/pdf", pdf)
    assert attachments.content(desk, card)[2] == png
    assert _actions(services) == ["create", "create", "view", "view"]


def test_the_type_comes_from_the_bytes_and_refused_files_save_nothing(
    services: Services, desk: Actor, patient: int
) -> None:
    attachments = AttachmentService(services.db)
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
    tiff = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 32
    # A JPEG named .pdf is kept as a JPEG; a TIFF is accepted too.
    attachments.add(desk, patient, AttachmentKind.AUTHORIZATION, "letter.pdf", jpeg, "")
    attachments.add(desk, patient, AttachmentKind.OTHER, "fax.tif", tiff, "")
    assert [a.mime_type for a in attachments.list(desk, patient)] == ["image/tiff", "image/jpeg"]

    refusals = [
        (b"PK\x03\x04 a word document", "letter.pdf", "not a PDF, PNG, JPEG or TIFF"),
        (b"", "card.png", "empty"),
        (
            b"%PDF-" + b"\x00" * MAX_BYTES,
            "huge.pdf",
            "The file is 20.0 MB (20,971,525 bytes); the limit is 20 MB (20,971,520 bytes)",
        ),
        (b"%PDF-" + b"\x00" * (MAX_BYTES + 5 * 1024 * 1024), "huger.pdf", "The file is 25.0 MB"),
    ]
    for content, name, phrase in refusals:
        with pytest.raises(ValidationFailed) as caught:
            attachments.add(desk, patient, AttachmentKind.ORDER, name, content, "")
        assert phrase in caught.value.findings[0].message
    with pytest.raises(ValidationFailed, match="Choose what the file is"):
        attachments.add(desk, patient, "selfie", "card.png", tiny_png(), "")
    with pytest.raises(ValidationFailed, match="under 200 characters"):
        attachments.add(desk, patient, AttachmentKind.OTHER, "card.png", tiny_png(), "x" * 201)
    assert len(attachments.list(desk, patient)) == 2
    # Exactly the limit is still accepted.
    at_limit = b"%PDF-" + b"\x00" * (MAX_BYTES - 5)
    attachments.add(desk, patient, AttachmentKind.ORDER, "limit.pdf", at_limit, "")
    assert attachments.list(desk, patient)[0].size == MAX_BYTES


def test_removal_by_the_uploader_or_a_manager_only(services: Services, desk: Actor, patient: int) -> None:
    attachments = AttachmentService(services.db)
    colleague = make_actor(services, Role.FRONT_DESK, "t_colleague")
    manager = make_actor(services, Role.MANAGER)
    nurse = make_actor(services, Role.NURSE)
    mine = attachments.add(desk, patient, AttachmentKind.CARD_BACK, "back.png", tiny_png(), "")
    other = attachments.add(desk, patient, AttachmentKind.CARD_FRONT, "front.png", tiny_png(), "")

    with pytest.raises(PermissionDenied, match="person who attached"):
        attachments.remove(colleague, mine)
    with pytest.raises(PermissionDenied):
        attachments.add(nurse, patient, AttachmentKind.ORDER, "o.pdf", tiny_pdf(), "")
    assert len(attachments.list(nurse, patient)) == 2  # a nurse may look

    assert attachments.remove(desk, mine) == patient
    assert attachments.remove(manager, other) == patient
    assert attachments.list(desk, patient) == []
    assert _actions(services).count("delete") == 2
    with pytest.raises(NotFound):
        attachments.content(desk, mine)
    with pytest.raises(NotFound):
        attachments.add(desk, patient + 999, AttachmentKind.ORDER, "o.pdf", tiny_pdf(), "")
