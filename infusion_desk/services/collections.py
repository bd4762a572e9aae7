"""Collections: old patient balances to follow up, notes with a next action, hand-off to an agency.

    desk = CollectionsService(db)
    rows = desk.worklist(biller)                       # balances older than 90 days, oldest first
    desk.add_note(biller, patient_id, "Left a voicemail", next_action_date=day)
    desk.hand_off(manager, patient_id, "Fictional Recovery Co")   # the old lines go to the agency
    desk.recall(manager, patient_id, "Patient called to pay")      # ... and come back

**Age** is counted from the oldest date of service among the patient's patient-due lines
(the line's date of service, not the statement date: that is when the debt arose and what
the agency asks for). The worklist shows every patient with a patient-due line older than
the threshold (default 90 days, the clinic's setting) in two buckets, 91-120 days and over
120 days, and every patient whose lines are already with collections. The amount is what
those old lines (and the lines in collections) still owe; ``total_due`` adds the newer lines.

**Plans are never sent to collections**: a line on an active payment plan is in the
*payment plan* state, not *patient due*, so neither the worklist nor the hand-off ever
takes it. A defaulted or cancelled plan's lines are patient-due again and may be.

**Hand-off** sets ``collections_on`` on the patient's patient-due lines older than the
threshold; their state becomes *in collections*, so statements stop billing them. Recall
clears it. Both take a balance out of (or back into) the clinic's own billing and so need a
manager (:attr:`Permission.COLLECTIONS_HANDOFF`: the agency usually keeps part of what it
collects, which the clinic writes off). Every
action writes a :class:`CollectionNote`, so the note history is the account's story.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.findings import Finding, error, us_date
from infusion_desk.billing.money import ZERO, money
from infusion_desk.models import Claim, ClaimLine, CollectionNote, Patient, Statement, User
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import LineResponsibility
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.balances import refresh_line_balances
from infusion_desk.services.claims import clinic_today
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.plans import refresh_plans
from infusion_desk.services.settings_store import read_setting, write_setting

SETTING_MIN_AGE = "collections.min_age_days"
DEFAULT_MIN_AGE = 90
OVER = 120
"""The second bucket starts after this many days."""
MAX_NOTE = 2000
MAX_STATUS = 30
"""``CollectionNote.handoff_status`` holds 30 characters; the note keeps the full text."""
MAX_AGENCY = 80

_OWED = (LineResponsibility.PATIENT_DUE, LineResponsibility.IN_COLLECTIONS)


@dataclass(frozen=True, slots=True)
class NoteRow:
    note_id: int
    at_day: date
    by: str | None
    note: str
    next_action_date: date | None
    handoff_status: str | None


@dataclass(frozen=True, slots=True)
class WorklistRow:
    patient_id: int
    patient: str
    """``Last, First``."""
    mrn: str
    phone: str | None
    oldest_service_date: date
    age_days: int
    bucket: str
    """``91-120`` or ``over 120`` (the first bound follows the threshold)."""
    amount: Decimal
    """Owed on lines older than the threshold and on lines already in collections."""
    total_due: Decimal
    """Everything patient-due or in collections, old or new."""
    in_collections: Decimal
    last_statement: date | None
    last_note: str | None
    last_note_on: date | None
    next_action_date: date | None
    handoff_status: str | None
    """The latest hand-off status written in a note (``Sent to …``, ``Recalled``), if any."""


@dataclass(frozen=True, slots=True)
class HandOffResult:
    patient_id: int
    agency: str
    lines: int
    amount: Decimal
    on: date


@dataclass(frozen=True, slots=True)
class RecallResult:
    patient_id: int
    lines: int
    amount: Decimal


def bucket(age_days: int, min_age_days: int = DEFAULT_MIN_AGE) -> str:
    return "over 120" if age_days > OVER else f"{min_age_days + 1}-{OVER}"


def _money_text(value: Decimal) -> str:
    return f"${value:,.2f}"


def _patient(session: Session, patient_id: int, *, lock: bool = False) -> Patient:
    query = sa.select(Patient).where(Patient.id == patient_id)
    patient = session.scalar(query.with_for_update() if lock else query)
    if patient is None:
        raise NotFound(f"Patient {patient_id} no longer exists.")
    return patient


def load_min_age(session: Session) -> int:
    value = read_setting(session, SETTING_MIN_AGE)
    if isinstance(value, int) and not isinstance(value, bool) and 30 <= value <= 365:
        return value
    return DEFAULT_MIN_AGE


def _owed_lines(session: Session, patient_ids: list[int] | None = None) -> list[sa.Row[Any]]:
    query = (
        sa.select(
            ClaimLine.id, ClaimLine.claim_id, Claim.patient_id, ClaimLine.service_date,
            ClaimLine.patient_responsibility, ClaimLine.patient_paid, ClaimLine.responsibility,
            ClaimLine.collections_on,
        )
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(
            ClaimLine.responsibility.in_(_OWED),
            ClaimLine.patient_responsibility - ClaimLine.patient_paid > 0,
        )
        .order_by(ClaimLine.service_date, ClaimLine.id)
    )
    if patient_ids is not None:
        query = query.where(Claim.patient_id.in_(patient_ids))
    return list(session.execute(query))


def _left(row: sa.Row[Any]) -> Decimal:
    return money(row.patient_responsibility - row.patient_paid)


def _note_text(note: str | None, field: str = "note") -> tuple[str, list[Finding]]:
    text = (note or "").strip()
    if not text:
        return text, [error("NOTE", "Write what was done or agreed.", field)]
    if len(text) > MAX_NOTE:
        return text, [error("NOTE", f"Keep the note to {MAX_NOTE} characters.", field)]
    return text, []


def _short_status(text: str) -> str:
    return text if len(text) <= MAX_STATUS else text[: MAX_STATUS - 1] + "…"


class CollectionsService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- settings ----------------------------------------------------------------------------------

    def min_age_days(self, actor: Actor) -> int:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return load_min_age(session)

    def set_min_age_days(self, actor: Actor, days: int) -> int:
        """Change the age (days since the date of service) at which a balance goes on the worklist."""
        actor.require(Permission.CLINIC_SETTINGS)
        if not 30 <= days <= 365:
            raise ValidationFailed(
                [
                    error(
                        "MIN_AGE",
                        "The collections age must be from 30 to 365 days (90 is usual).",
                        "min_age_days",
                    )
                ]
            )
        with self._db.session() as session:
            before = load_min_age(session)
            write_setting(session, SETTING_MIN_AGE, days)
            audit.record(
                session, actor, "set_setting", "setting", SETTING_MIN_AGE,
                detail={"before": before, "after": days},
            )
        return days

    # -- reading -----------------------------------------------------------------------------------

    def worklist(
        self, actor: Actor, today: date | None = None, min_age_days: int | None = None
    ) -> tuple[WorklistRow, ...]:
        """Patients with a patient-due balance older than the threshold or with collections; oldest first."""
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            today = today or clinic_today(session)
            threshold = load_min_age(session) if min_age_days is None else min_age_days
            refresh_plans(session, actor, today)
            cutoff = today - timedelta(days=threshold)
            by_patient: dict[int, list[sa.Row[Any]]] = {}
            for row in _owed_lines(session):
                by_patient.setdefault(row.patient_id, []).append(row)
            wanted = {
                patient_id: lines
                for patient_id, lines in by_patient.items()
                if any(
                    line.collections_on is not None or line.service_date < cutoff for line in lines
                )
            }
            if not wanted:
                return ()
            ids = sorted(wanted)
            patients = {
                p.id: p for p in session.execute(
                    sa.select(
                        Patient.id, Patient.last_name, Patient.first_name, Patient.mrn, Patient.phone,
                        Patient.guarantor_phone,
                    ).where(Patient.id.in_(ids))
                )
            }
            statements = dict(
                session.execute(
                    sa.select(Statement.patient_id, sa.func.max(Statement.statement_date))
                    .where(Statement.patient_id.in_(ids))
                    .group_by(Statement.patient_id)
                ).all()
            )
            notes: dict[int, list[CollectionNote]] = {}
            for note in session.scalars(
                sa.select(CollectionNote)
                .where(CollectionNote.patient_id.in_(ids))
                .order_by(CollectionNote.at.desc(), CollectionNote.id.desc())
            ):
                notes.setdefault(note.patient_id, []).append(note)
            rows = []
            for patient_id, lines in wanted.items():
                patient = patients[patient_id]
                old = [
                    line for line in lines if line.collections_on is not None or line.service_date < cutoff
                ]
                oldest = min(line.service_date for line in lines)
                age = (today - oldest).days
                history = notes.get(patient_id, [])
                latest = history[0] if history else None
                status = next((n.handoff_status for n in history if n.handoff_status), None)
                rows.append(
                    WorklistRow(
                        patient_id=patient_id,
                        patient=f"{patient.last_name}, {patient.first_name}",
                        mrn=patient.mrn,
                        phone=patient.phone or patient.guarantor_phone,
                        oldest_service_date=oldest,
                        age_days=age,
                        bucket=bucket(age, threshold),
                        amount=sum((_left(line) for line in old), ZERO),
                        total_due=sum((_left(line) for line in lines), ZERO),
                        in_collections=sum(
                            (_left(line) for line in lines if line.collections_on is not None), ZERO
                        ),
                        last_statement=statements.get(patient_id),
                        last_note=latest.note if latest else None,
                        last_note_on=_day(session, latest) if latest else None,
                        next_action_date=latest.next_action_date if latest else None,
                        handoff_status=status,
                    )
                )
            rows.sort(key=lambda r: (-r.age_days, -r.amount, r.patient))
            return tuple(rows)

    def notes(self, actor: Actor, patient_id: int) -> tuple[NoteRow, ...]:
        """The patient's collection notes, newest first."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            _patient(session, patient_id)
            return tuple(
                NoteRow(
                    note.id, _day(session, note), name, note.note, note.next_action_date, note.handoff_status
                )
                for note, name in session.execute(
                    sa.select(CollectionNote, User.display_name)
                    .outerjoin(User, User.id == CollectionNote.user_id)
                    .where(CollectionNote.patient_id == patient_id)
                    .order_by(CollectionNote.at.desc(), CollectionNote.id.desc())
                )
            )

    # -- writing -----------------------------------------------------------------------------------

    def add_note(
        self,
        actor: Actor,
        patient_id: int,
        note: str,
        next_action_date: date | None = None,
        handoff_status: str | None = None,
        today: date | None = None,
    ) -> NoteRow:
        """Record a follow-up (a call, a letter, a promise to pay) and when to act next."""
        actor.require(Permission.PATIENT_PAYMENT)
        text, findings = _note_text(note)
        status = (handoff_status or "").strip() or None
        if status is not None and len(status) > MAX_STATUS:
            findings.append(
                error(
                    "HANDOFF_STATUS",
                    f"Keep the hand-off status to {MAX_STATUS} characters.",
                    "handoff_status",
                )
            )
        with self._db.session() as session:
            today = today or clinic_today(session)
            if next_action_date is not None and next_action_date < today:
                findings.append(
                    error(
                        "NEXT_ACTION",
                        f"The next action date cannot be in the past (today is {us_date(today)}).",
                        "next_action_date",
                    )
                )
            if findings:
                raise ValidationFailed(findings)
            _patient(session, patient_id)
            row = CollectionNote(
                patient_id=patient_id, at=utcnow(), user_id=actor.user_id, note=text,
                next_action_date=next_action_date, handoff_status=status,
            )
            session.add(row)
            session.flush()
            audit.record(
                session, actor, "collection_note", "collection_note", row.id, patient_id=patient_id,
                detail={"next_action_date": next_action_date, "handoff_status": status},
            )
            return NoteRow(row.id, _day(session, row), actor.display_name, text, next_action_date, status)

    def hand_off(
        self,
        actor: Actor,
        patient_id: int,
        agency: str,
        today: date | None = None,
        min_age_days: int | None = None,
    ) -> HandOffResult:
        """Send the patient's patient-due lines older than the threshold to ``agency`` (never plan lines)."""
        actor.require(Permission.COLLECTIONS_HANDOFF)
        name = " ".join((agency or "").split())
        if not name:
            raise ValidationFailed([error("AGENCY", "Enter the collection agency's name.", "agency")])
        if len(name) > MAX_AGENCY:
            raise ValidationFailed(
                [error("AGENCY", f"Keep the agency's name to {MAX_AGENCY} characters.", "agency")]
            )
        with self._db.session() as session:
            today = today or clinic_today(session)
            threshold = load_min_age(session) if min_age_days is None else min_age_days
            _patient(session, patient_id, lock=True)
            refresh_plans(session, actor, today, [patient_id])
            cutoff = today - timedelta(days=threshold)
            old = [
                row for row in _owed_lines(session, [patient_id])
                if row.responsibility is LineResponsibility.PATIENT_DUE and row.service_date < cutoff
            ]
            if not old:
                raise ValidationFailed(
                    [
                        error(
                            "NOTHING_OLD",
                            f"Nothing patient-due on this account is older than {threshold} days, so "
                            "there is nothing to hand off (lines on an active payment plan are never sent).",
                            "lines",
                        )
                    ]
                )
            ids = [row.id for row in old]
            session.execute(sa.update(ClaimLine).where(ClaimLine.id.in_(ids)).values(collections_on=today))
            refresh_line_balances(session, {row.claim_id for row in old})
            amount = sum((_left(row) for row in old), ZERO)
            session.add(
                CollectionNote(
                    patient_id=patient_id, at=utcnow(), user_id=actor.user_id,
                    note=f"Handed off to {name}: {len(ids)} line(s), {_money_text(amount)}.",
                    handoff_status=_short_status(f"Sent to {name}"),
                )
            )
            audit.record(
                session, actor, "collections_hand_off", "patient", patient_id, patient_id=patient_id,
                detail={"agency": name, "lines": ids, "amount": str(amount), "on": today.isoformat()},
            )
            return HandOffResult(patient_id, name, len(ids), amount, today)

    def recall(self, actor: Actor, patient_id: int, reason: str) -> RecallResult:
        """Take the patient's lines back from collections: they are patient-due again."""
        actor.require(Permission.COLLECTIONS_HANDOFF)
        text = (reason or "").strip()
        if not text:
            raise ValidationFailed(
                [error("REASON", "Say why the account is recalled from collections.", "reason")]
            )
        with self._db.session() as session:
            _patient(session, patient_id, lock=True)
            lines = list(
                session.execute(
                    sa.select(
                        ClaimLine.id, ClaimLine.claim_id,
                        ClaimLine.patient_responsibility, ClaimLine.patient_paid,
                    )
                    .join(Claim, Claim.id == ClaimLine.claim_id)
                    .where(Claim.patient_id == patient_id, ClaimLine.collections_on.is_not(None))
                )
            )
            if not lines:
                raise ValidationFailed(
                    [error("NOT_IN_COLLECTIONS", "Nothing on this account is with collections.", "lines")]
                )
            ids = [row.id for row in lines]
            session.execute(sa.update(ClaimLine).where(ClaimLine.id.in_(ids)).values(collections_on=None))
            refresh_line_balances(session, {row.claim_id for row in lines})
            amount = sum((max(_left(row), ZERO) for row in lines), ZERO)
            session.add(
                CollectionNote(
                    patient_id=patient_id, at=utcnow(), user_id=actor.user_id,
                    note=f"Recalled from collections: {text}", handoff_status="Recalled",
                )
            )
            audit.record(
                session, actor, "collections_recall", "patient", patient_id, patient_id=patient_id,
                detail={"lines": ids, "amount": str(amount), "reason": text},
            )
            return RecallResult(patient_id, len(ids), amount)


def _day(session: Session, note: CollectionNote) -> date:
    return note.at.astimezone(clinic_timezone(session)).date()
