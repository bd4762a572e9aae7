"""The clearinghouse profile: who the clinic is to its clearinghouse, as the envelope of every file says.

Sender and receiver IDs and their qualifiers come from the clearinghouse's companion
guide, with how claim files are made for it: claims per file, the file name pattern, the
folder the user uploads from on the clearinghouse's portal, and optional SFTP upload
details (the password itself lives in the operating system's keyring, never here). The
first profile is the clinic's default; a payer may be routed to another one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.findings import Finding, error
from infusion_desk.billing.x12.envelope import Parties
from infusion_desk.models import ClearinghouseProfile
from infusion_desk.models.db import Database
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import ValidationFailed

ID_QUALIFIERS: dict[str, str] = {
    "01": "DUNS number",
    "14": "DUNS plus suffix",
    "20": "Health industry number",
    "27": "Carrier ID (Medicare)",
    "28": "Fiscal intermediary ID (Medicare)",
    "29": "Medicare provider/supplier ID",
    "30": "U.S. federal tax ID",
    "33": "NAIC company code",
    "ZZ": "Mutually defined",
}
"""ISA05/ISA07 interchange ID qualifiers allowed in 5010."""

_ID = re.compile(r"^[A-Za-z0-9 ]{1,15}$")
MAX_CLAIMS_PER_FILE = 5000
MISSING_PROFILE = (
    "No clearinghouse is set up. Ask a manager to enter the clearinghouse's sender and receiver IDs "
    "(from its companion guide) in the clinic settings, then export again."
)


@dataclass(frozen=True, slots=True)
class ClearinghouseSettings:
    name: str
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    application_sender_code: str
    application_receiver_code: str
    production: bool
    id: int | None = None
    claims_per_file: int = 500
    file_name_pattern: str = "{profile}_{icn}.837"
    export_folder: str | None = None
    sftp_host: str | None = None
    sftp_port: int | None = None
    sftp_username: str | None = None
    sftp_remote_dir: str | None = None

    @property
    def parties(self) -> Parties:
        return Parties(self.sender_qualifier, self.sender_id, self.receiver_qualifier, self.receiver_id,
                       self.application_sender_code, self.application_receiver_code)


def validate_settings(data: ClearinghouseSettings) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    if not data.name.strip():
        findings.append(error("REQUIRED", "Clearinghouse name is required.", "name"))
    qualifiers = (
        ("sender_qualifier", "Sender ID qualifier"),
        ("receiver_qualifier", "Receiver ID qualifier"),
    )
    for field, label in qualifiers:
        value = getattr(data, field)
        if value not in ID_QUALIFIERS:
            findings.append(error("QUALIFIER", f"{label} {value!r} is not one of {', '.join(ID_QUALIFIERS)}.",
                                  field))
    for field, label in (
        ("sender_id", "Sender ID"),
        ("receiver_id", "Receiver ID"),
        ("application_sender_code", "Application sender code"),
        ("application_receiver_code", "Application receiver code"),
    ):
        value = getattr(data, field).strip()
        if not _ID.match(value):
            findings.append(error("X12_ID", f"{label} {value!r}: 1 to 15 letters, digits or spaces, as the "
                                  "clearinghouse's companion guide gives it.", field))
    if not 1 <= data.claims_per_file <= MAX_CLAIMS_PER_FILE:
        findings.append(error(
            "CLAIMS_PER_FILE",
            f"Claims per file must be 1 to {MAX_CLAIMS_PER_FILE:,} (the 837P guide's limit per "
            "transaction; many clearinghouses want fewer).",
            "claims_per_file",
        ))
    pattern = data.file_name_pattern.strip()
    try:
        sample = pattern.format(profile="CH", icn="000000001", date="20260101")
    except (KeyError, IndexError, ValueError):
        sample = ""
    if "{icn}" not in pattern or not sample or "/" in sample or "\\" in sample or sample.startswith("."):
        findings.append(error(
            "FILE_NAME",
            "The file name pattern must contain {icn} (so every file has its own name), may use "
            "{profile} and {date}, and no folder separators, for example {profile}_{icn}.837.",
            "file_name_pattern",
        ))
    if data.sftp_host:
        if not data.sftp_username:
            findings.append(error("SFTP_USER", "Enter the SFTP user name the clearinghouse gave you.",
                                  "sftp_username"))
        if data.sftp_port is not None and not 1 <= data.sftp_port <= 65535:
            findings.append(error("SFTP_PORT", "The SFTP port is a number from 1 to 65535 (usually 22).",
                                  "sftp_port"))
    return tuple(findings)


def _settings(row: ClearinghouseProfile) -> ClearinghouseSettings:
    return ClearinghouseSettings(
        name=row.name, sender_qualifier=row.sender_qualifier, sender_id=row.sender_id,
        receiver_qualifier=row.receiver_qualifier, receiver_id=row.receiver_id,
        application_sender_code=row.application_sender_code,
        application_receiver_code=row.application_receiver_code, production=row.production, id=row.id,
        claims_per_file=row.claims_per_file, file_name_pattern=row.file_name_pattern,
        export_folder=row.export_folder, sftp_host=row.sftp_host, sftp_port=row.sftp_port,
        sftp_username=row.sftp_username, sftp_remote_dir=row.sftp_remote_dir,
    )


def load_profile(session: Session) -> ClearinghouseSettings | None:
    """The profile in use (the first one on file), or ``None`` when none is set up."""
    row = session.scalars(sa.select(ClearinghouseProfile).order_by(ClearinghouseProfile.id).limit(1)).first()
    return None if row is None else _settings(row)


class ClearinghouseService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def profile(self, actor: Actor) -> ClearinghouseSettings | None:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return load_profile(session)

    def save(self, actor: Actor, data: ClearinghouseSettings) -> ClearinghouseSettings:
        """Create the profile, or update the one in use."""
        actor.require(Permission.CLINIC_SETTINGS)
        data = ClearinghouseSettings(
            name=data.name.strip(), sender_qualifier=data.sender_qualifier.strip().upper(),
            sender_id=data.sender_id.strip().upper(),
            receiver_qualifier=data.receiver_qualifier.strip().upper(),
            receiver_id=data.receiver_id.strip().upper(),
            application_sender_code=data.application_sender_code.strip().upper(),
            application_receiver_code=data.application_receiver_code.strip().upper(),
            production=data.production,
            claims_per_file=data.claims_per_file,
            file_name_pattern=data.file_name_pattern.strip() or "{profile}_{icn}.837",
            export_folder=(data.export_folder or "").strip() or None,
            sftp_host=(data.sftp_host or "").strip() or None,
            sftp_port=data.sftp_port,
            sftp_username=(data.sftp_username or "").strip() or None,
            sftp_remote_dir=(data.sftp_remote_dir or "").strip() or None,
        )
        findings = validate_settings(data)
        if any(f.blocks for f in findings):
            raise ValidationFailed(findings)
        with self._db.session() as session:
            row = session.scalars(
                sa.select(ClearinghouseProfile).order_by(ClearinghouseProfile.id).limit(1)
            ).first()
            if row is None:
                row = ClearinghouseProfile(name=data.name, sender_id="", receiver_id="",
                                           application_sender_code="", application_receiver_code="")
                session.add(row)
            for field in ("name", "sender_qualifier", "sender_id", "receiver_qualifier", "receiver_id",
                          "application_sender_code", "application_receiver_code", "production",
                          "claims_per_file", "file_name_pattern", "export_folder", "sftp_host", "sftp_port",
                          "sftp_username", "sftp_remote_dir"):
                setattr(row, field, getattr(data, field))
            session.flush()
            audit.record(session, actor, "clearinghouse.save", "clearinghouse_profile", row.id,
                         detail={"sender_id": row.sender_id, "receiver_id": row.receiver_id,
                                 "production": row.production})
            return _settings(row)
