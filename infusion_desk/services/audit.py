"""The audit trail: who viewed, printed, exported or changed what, as a hash-chained log.

Each record carries the hash of the one before it, so removing or editing a record
breaks the chain at that point (verification comes with the security work).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.models import AuditEvent
from infusion_desk.models.base import utcnow
from infusion_desk.services.access import Actor


def _digest(event: AuditEvent) -> str:
    payload = json.dumps(
        {
            "at": event.at.isoformat(),
            "user_id": event.user_id,
            "username": event.username,
            "action": event.action,
            "entity": event.entity,
            "entity_id": event.entity_id,
            "patient_id": event.patient_id,
            "detail": event.detail,
            "previous_hash": event.previous_hash,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def record(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: object = None,
    *,
    patient_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one audit event in the caller's transaction."""
    previous = session.execute(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()
    event = AuditEvent(
        at=utcnow(),
        user_id=actor.user_id if actor else None,
        username=actor.username if actor else None,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        detail=json.loads(json.dumps(detail or {}, default=str)),
        previous_hash=previous,
    )
    event.hash = _digest(event)
    session.add(event)
    return event
