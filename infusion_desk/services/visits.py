"""The day's chair list and the visits waiting for the next step (signing, coding)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from infusion_desk.models import Administration, Chair, Drug, Patient, PhysicianOrder, Visit
from infusion_desk.models.db import Database
from infusion_desk.models.enums import VisitStatus
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import NotFound

DOCUMENTATION = (
    selectinload(Visit.administrations).selectinload(Administration.interruptions),
    selectinload(Visit.administrations).selectinload(Administration.drug),
)
"""Loader options that bring a visit's administrations, their pauses and drugs in two queries."""


def load_visit(session: Session, visit_id: int, *, documentation: bool = False) -> Visit:
    """The visit, or :class:`NotFound` with a message the user can act on."""
    visit = session.get(Visit, visit_id, options=list(DOCUMENTATION) if documentation else None)
    if visit is None:
        raise NotFound(f"Visit {visit_id} no longer exists.")
    return visit


@dataclass(frozen=True, slots=True)
class VisitRow:
    id: int
    patient_id: int
    patient_name: str
    mrn: str
    chair: str | None
    date_of_service: date
    scheduled_start: datetime
    expected_minutes: int
    drug: str | None
    status: VisitStatus
    signed: bool
    coded: bool


class VisitService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def _rows(self, stmt: sa.Select[tuple[Visit, Patient, str | None, str | None]]) -> list[VisitRow]:
        with self._db.session() as session:
            return [
                VisitRow(
                    id=visit.id,
                    patient_id=patient.id,
                    patient_name=patient.display_name,
                    mrn=patient.mrn,
                    chair=chair,
                    date_of_service=visit.date_of_service,
                    scheduled_start=visit.scheduled_start,
                    expected_minutes=visit.expected_minutes,
                    drug=drug,
                    status=visit.status,
                    signed=visit.signed_at is not None,
                    coded=visit.coded_at is not None,
                )
                for visit, patient, chair, drug in session.execute(stmt)
            ]

    @staticmethod
    def _base() -> sa.Select[tuple[Visit, Patient, str | None, str | None]]:
        return (
            sa.select(Visit, Patient, Chair.name, Drug.name)
            .join(Patient, Patient.id == Visit.patient_id)
            .outerjoin(Chair, Chair.id == Visit.chair_id)
            .outerjoin(PhysicianOrder, PhysicianOrder.id == Visit.order_id)
            .outerjoin(Drug, Drug.id == PhysicianOrder.drug_id)
        )

    def day_list(self, actor: Actor, day: date) -> list[VisitRow]:
        """Every visit booked on ``day``, by chair then time (cancelled ones included, marked)."""
        actor.require(Permission.PATIENT_VIEW)
        stmt = (
            self._base()
            .where(Visit.date_of_service == day)
            .order_by(Chair.sort_order, Visit.scheduled_start, Visit.id)
        )
        return self._rows(stmt)

    def awaiting_coding(self, actor: Actor, limit: int = 200) -> list[VisitRow]:
        """Signed visits no coder has marked coded yet, oldest first."""
        actor.require(Permission.CODE_VISIT)
        stmt = (
            self._base()
            .where(
                Visit.status == VisitStatus.COMPLETED, Visit.signed_at.is_not(None), Visit.coded_at.is_(None)
            )
            .order_by(Visit.date_of_service, Visit.id)
            .limit(limit)
        )
        return self._rows(stmt)

    def count_awaiting_coding(self, actor: Actor) -> int:
        actor.require(Permission.CODE_VISIT)
        with self._db.session() as session:
            return int(
                session.execute(
                    sa.select(sa.func.count(Visit.id)).where(
                        Visit.status == VisitStatus.COMPLETED,
                        Visit.signed_at.is_not(None),
                        Visit.coded_at.is_(None),
                    )
                ).scalar_one()
            )

