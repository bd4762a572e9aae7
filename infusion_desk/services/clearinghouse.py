"""The clearinghouse profile: who the clinic is to its clearinghouse, as the envelope of every file says.

Sender and receiver IDs and their qualifiers come from the clearinghouse's companion
guide. One profile is in use (the first); the claims work will grow this module with
file naming and upload settings.
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
    return tuple(findings)


def _settings(row: ClearinghouseProfile) -> ClearinghouseSettings:
    return ClearinghouseSettings(
        name=row.name, sender_qualifier=row.sender_qualifier, sender_id=row.sender_id,
        receiver_qualifier=row.receiver_qualifier, receiver_id=row.receiver_id,
        application_sender_code=row.application_sender_code,
        application_receiver_code=row.application_receiver_code, production=row.production, id=row.id,
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
                          "application_sender_code", "application_receiver_code", "production"):
                setattr(row, field, getattr(data, field))
            session.flush()
            audit.record(session, actor, "clearinghouse.save", "clearinghouse_profile", row.id,
                         detail={"sender_id": row.sender_id, "receiver_id": row.receiver_id,
                                 "production": row.production})
            return _settings(row)
