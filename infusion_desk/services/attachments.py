"""Scanned insurance cards, orders and authorization letters kept with the patient.

    attachments = AttachmentService(db)
    attachment_id = attachments.add(actor, patient_id, AttachmentKind.CARD_FRONT, "card.png", data, "")
    [a.filename for a in attachments.list(actor, patient_id)]   # ["card.png"]
    filename, mime, content = attachments.content(actor, attachment_id)

The file's type is read from its first bytes (PDF, PNG, JPEG or TIFF), never from its name,
so a renamed executable or a Word document is refused. Listing returns metadata only;
the bytes are read when someone opens the file, and that viewing is audited.
"""

from __future__ import annotations

import builtins
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa

from infusion_desk.billing.findings import Finding, error
from infusion_desk.models import Attachment, Patient, User
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import Role
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import NotFound, PermissionDenied, ValidationFailed

MAX_BYTES = 20 * 1024 * 1024
"""The largest file kept (20 MB): a phone photo of a card or a multi-page scanned letter fits."""


class AttachmentKind(StrEnum):
    CARD_FRONT = "insurance_card_front"
    CARD_BACK = "insurance_card_back"
    ORDER = "order"
    AUTHORIZATION = "authorization_letter"
    OTHER = "other"


KIND_LABELS: dict[AttachmentKind, str] = {
    AttachmentKind.CARD_FRONT: "Insurance card (front)",
    AttachmentKind.CARD_BACK: "Insurance card (back)",
    AttachmentKind.ORDER: "Physician order",
    AttachmentKind.AUTHORIZATION: "Authorization letter",
    AttachmentKind.OTHER: "Other",
}

# Magic numbers of the kinds of file a front desk scans: (prefix, MIME type).
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"II*\x00", "image/tiff"),
    (b"MM\x00*", "image/tiff"),
)

IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/tiff"})


def detect_type(content: bytes) -> str | None:
    """The MIME type the bytes' signature says, or None for anything else.

    >>> detect_type(b"%PDF-1.7 ..."), detect_type(b"PK a .docx saved as .pdf")
    ('application/pdf', None)
    """
    for prefix, mime in _SIGNATURES:
        if content.startswith(prefix):
            return mime
    return None


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def check_file(content: bytes, description: str | None) -> tuple[Finding, ...]:
    """Why a file may not be attached: empty, too large, not a PDF or image, description too long."""
    findings: list[Finding] = []
    if not content:
        findings.append(
            error(
                "ATTACHMENT_EMPTY", "The file is empty (0 bytes): choose the scanned file again.", "content"
            )
        )
    elif len(content) > MAX_BYTES:
        findings.append(
            error(
                "ATTACHMENT_TOO_LARGE",
                f"The file is {_megabytes(len(content))} ({len(content):,} bytes); the limit is 20 MB "
                f"({MAX_BYTES:,} bytes). Scan it at a lower resolution or split the document.",
                "content",
            )
        )
    elif detect_type(content) is None:
        findings.append(
            error(
                "ATTACHMENT_TYPE",
                "This file is not a PDF, PNG, JPEG or TIFF (judged by its contents, not its name). "
                "Save the scan as a PDF or an image and attach that.",
                "content",
            )
        )
    if description is not None and len(description.strip()) > 200:
        findings.append(
            error(
                "ATTACHMENT_DESCRIPTION",
                "The description is too long: keep it under 200 characters.",
                "description",
            )
        )
    return tuple(findings)


_UNSAFE = re.compile(r"[\x00-\x1f/\\]")


def _clean_filename(filename: str) -> str:
    """The name without folders or control characters, shortened to fit, never empty."""
    base = re.split(r"[\\/]", filename.strip())[-1]
    base = _UNSAFE.sub("_", base).strip() or "attachment"
    if len(base) > 200:
        stem, dot, suffix = base.rpartition(".")
        base = f"{stem[: 199 - len(suffix)]}{dot}{suffix}" if dot and len(suffix) <= 10 else base[:200]
    return base


@dataclass(frozen=True, slots=True)
class AttachmentSummary:
    """One attachment as listed: everything but the bytes."""

    id: int
    patient_id: int
    kind: AttachmentKind | str
    description: str | None
    filename: str
    mime_type: str
    size: int
    uploaded_at: datetime
    uploaded_by: str | None
    uploaded_by_id: int | None

    @property
    def kind_label(self) -> str:
        try:
            return KIND_LABELS[AttachmentKind(self.kind)]
        except ValueError:
            return str(self.kind)

    @property
    def is_image(self) -> bool:
        return self.mime_type in IMAGE_TYPES


class AttachmentService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def add(
        self,
        actor: Actor,
        patient_id: int,
        kind: AttachmentKind | str,
        filename: str,
        content: bytes,
        description: str | None = None,
    ) -> int:
        """Keep a file with the patient; a refused file (type, size, empty) saves nothing."""
        actor.require(Permission.PATIENT_EDIT)
        try:
            chosen = AttachmentKind(kind)
        except ValueError:
            raise ValidationFailed(
                [
                    error(
                        "ATTACHMENT_KIND",
                        "Choose what the file is: card front or back, order, authorization letter, or other.",
                        "kind",
                    )
                ]
            ) from None
        findings = check_file(content, description)
        if any(f.blocks for f in findings):
            raise ValidationFailed(findings)
        mime = detect_type(content)
        assert mime is not None  # check_file refused anything else
        with self._db.session() as session:
            if session.get(Patient, patient_id) is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            attachment = Attachment(
                patient_id=patient_id,
                kind=chosen.value,
                description=(description or "").strip() or None,
                filename=_clean_filename(filename),
                mime_type=mime,
                content=content,
                uploaded_at=utcnow(),
                uploaded_by_id=actor.user_id,
            )
            session.add(attachment)
            session.flush()
            audit.record(
                session,
                actor,
                "create",
                "attachment",
                attachment.id,
                patient_id=patient_id,
                detail={"kind": chosen.value, "filename": attachment.filename, "size": len(content)},
            )
            return attachment.id

    def list(self, actor: Actor, patient_id: int) -> builtins.list[AttachmentSummary]:
        """The patient's attachments, newest first, without their bytes."""
        actor.require(Permission.PATIENT_VIEW)
        stmt = (
            sa.select(
                Attachment.id,
                Attachment.patient_id,
                Attachment.kind,
                Attachment.description,
                Attachment.filename,
                Attachment.mime_type,
                sa.func.length(Attachment.content),
                Attachment.uploaded_at,
                User.display_name,
                Attachment.uploaded_by_id,
            )
            .outerjoin(User, User.id == Attachment.uploaded_by_id)
            .where(Attachment.patient_id == patient_id)
            .order_by(Attachment.uploaded_at.desc(), Attachment.id.desc())
        )
        with self._db.session() as session:
            rows = session.execute(stmt).all()
        return [AttachmentSummary(*row) for row in rows]

    def content(self, actor: Actor, attachment_id: int) -> tuple[str, str, bytes]:
        """The file's name, MIME type and bytes; opening it is written to the audit trail."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            attachment = session.get(Attachment, attachment_id)
            if attachment is None:
                raise NotFound(f"Attachment {attachment_id} no longer exists.")
            audit.record(
                session, actor, "view", "attachment", attachment.id, patient_id=attachment.patient_id
            )
            return attachment.filename, attachment.mime_type, bytes(attachment.content)

    def remove(self, actor: Actor, attachment_id: int) -> int:
        """Delete an attachment: its uploader, a manager or an administrator. Returns the patient's id."""
        actor.require(Permission.PATIENT_EDIT)
        with self._db.session() as session:
            attachment = session.get(Attachment, attachment_id)
            if attachment is None:
                raise NotFound(f"Attachment {attachment_id} no longer exists.")
            if actor.role not in (Role.MANAGER, Role.ADMIN) and attachment.uploaded_by_id != actor.user_id:
                raise PermissionDenied(
                    "Only the person who attached this file, a manager or an administrator may remove it."
                )
            patient_id = attachment.patient_id
            audit.record(
                session,
                actor,
                "delete",
                "attachment",
                attachment.id,
                patient_id=patient_id,
                detail={"kind": attachment.kind, "filename": attachment.filename},
            )
            session.delete(attachment)
            return patient_id
