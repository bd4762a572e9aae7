"""Two workstations saving the same record: the second save is refused and told who was first.

A record users edit (patient, policy, authorization, claim, payment) carries a ``version``
(:class:`~infusion_desk.models.base.Versioned`). The screen keeps the version it showed; the
save passes it back as ``expected_version`` and calls :func:`take_version` *first*, before it
reads or changes anything::

    take_version(session, Patient, patient_id, expected_version, entity="patient", what="This patient")

That one statement, ``UPDATE … SET version = version + 1 WHERE id = ? AND version = ?``,
both checks and claims the record: on PostgreSQL it locks the row until the save commits, on
SQLite it takes the database's write lock, so a second save waits for the first and then finds
the version moved on. It raises :class:`ChangedElsewhere`, naming the user and the time of the
last change from the audit trail, and the user chooses to reload (their edits are on screen
until then): nothing is overwritten silently. Saves that do not come from a screen (the command
line, the services' own steps) pass ``None``: they take the row the same way and move its
version on, so a screen holding the old version is refused afterwards.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.models import AuditEvent
from infusion_desk.models.base import Versioned
from infusion_desk.services.errors import NotFound, ServiceError

NOT_CHANGES = ("view", "print", "print_receipt", "export", "verify")


class ChangedElsewhere(ServiceError):
    """The record changed since the screen showed it; the message says who changed it and when."""

    def __init__(self, message: str, *, by: str | None, at: datetime | None, current_version: int) -> None:
        super().__init__(message)
        self.by = by
        self.at = at
        self.current_version = current_version


def last_change(session: Session, entity: str, row_id: int) -> tuple[str | None, datetime | None]:
    """Who last changed the record and when, from the audit trail (``(None, None)`` if unknown)."""
    row = session.execute(
        sa.select(AuditEvent.username, AuditEvent.at)
        .where(
            AuditEvent.entity == entity,
            AuditEvent.entity_id == str(row_id),
            AuditEvent.action.not_in(NOT_CHANGES),
        )
        .order_by(AuditEvent.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else (None, None)


def take_version(
    session: Session,
    model: type[Versioned],
    row_id: int,
    expected_version: int | None,
    *,
    entity: str,
    what: str,
) -> int:
    """Claim the record for this save and return its new version (see the module's description).

    ``entity`` is the record's name in the audit trail; ``what`` starts the message
    ("This patient", "Policy 12").
    """
    table = model.__table__  # type: ignore[attr-defined]
    condition = table.c.id == row_id
    if expected_version is not None:
        condition = sa.and_(condition, table.c.version == expected_version)
    result = session.execute(
        sa.update(table).where(condition).values(version=table.c.version + 1).returning(table.c.version)
    ).first()
    if result is not None:
        return int(result[0])
    current = session.execute(sa.select(table.c.version).where(table.c.id == row_id)).scalar_one_or_none()
    if current is None:
        raise NotFound(f"{what} no longer exists.")
    by, at = last_change(session, entity, row_id)
    when = ""
    if at is not None:
        from infusion_desk.services.coding import clinic_timezone

        local = at.astimezone(clinic_timezone(session))
        when = f" at {local.strftime('%I:%M %p').lstrip('0')} on {local:%m/%d/%Y}"
    who = f"by {by}" if by else "on another workstation"
    raise ChangedElsewhere(
        f"{what} was changed {who}{when} after you opened it. Reload to see the change (what you "
        "typed is still on screen until you do), then make your change again.",
        by=by, at=at, current_version=int(current),
    )
