"""The audit trail: who viewed, printed, exported or changed what, as a hash-chained log.

    audit.record(session, actor, "view", "patient", patient.id, patient_id=patient.id)
    report = AuditService(db).verify(manager)       # report.text: "Audit trail intact: 1523 records"
    rows = AuditService(db).search(manager, user="frontdesk", patient_id=12, start=date(2026, 11, 1))
    AuditService(db).export_csv(manager, Path("audit.csv"), patient_id=12)

Each record carries the hash of the one before it (:mod:`infusion_desk.billing.audit_chain`),
so editing or removing a record breaks the chain at that point and :meth:`AuditService.verify`
names it.

Appends are serialised so that two workstations never chain onto the same record: on
PostgreSQL a transaction-scoped advisory lock is taken before the last hash is read; on
SQLite (whose driver does not open a transaction for a ``SELECT``) a write that changes
nothing takes the database's single writer lock first. Either lock is held until the
caller's unit of work ends, so other workstations' audited writes wait for it (briefly:
a unit of work is one user action).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.audit_chain import AuditContent, ChainRecord, ChainReport, digest, verify_chain
from infusion_desk.billing.findings import error
from infusion_desk.models import AuditEvent, Patient, User
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import ValidationFailed

SEARCH_LIMIT = 500
"""Rows :meth:`AuditService.search` returns unless told otherwise (newest first)."""
PATIENT_MATCHES = 500
"""At most this many patients match a name typed as the patient filter."""
BATCH = 2000
"""Records read per query when verifying or exporting, so a long trail is never all in memory."""

_APPEND_LOCK = 0x4944_4155_4449_5431  # "IDAUDIT1": the advisory lock key of the chain's tail
_LOCKED = "infusion_desk.audit.locked"
SYSTEM_USER = "Infusion Desk"
"""How a record without a user (a failed sign-in, an automatic step) names its author."""

CSV_HEADER = (
    "Record", "When (UTC)", "User", "Action", "Entity", "Entity id", "Patient id", "Patient",
    "Detail", "Previous hash", "Hash",
)


# --- appending ---------------------------------------------------------------------------


def _serialise_appends(session: Session) -> None:
    """Hold the chain's tail for the rest of the caller's transaction (once per transaction)."""
    current = session.get_transaction()
    if current is not None and session.info.get(_LOCKED) is current and not session.in_nested_transaction():
        return
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(sa.select(sa.func.pg_advisory_xact_lock(_APPEND_LOCK)))
    elif dialect == "sqlite":
        # pysqlite begins a transaction only before a write: this one changes nothing but
        # takes the writer lock, so the SELECT below sees the true tail until we commit.
        session.execute(sa.text("UPDATE audit_event SET id = id WHERE id = -1"))
    session.info[_LOCKED] = session.get_transaction()


def _tail(session: Session) -> str | None:
    return session.execute(
        sa.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).scalar_one_or_none()


def _event(content: AuditContent, previous: str | None) -> AuditEvent:
    return AuditEvent(
        at=content.at,
        user_id=content.user_id,
        username=content.username,
        action=content.action,
        entity=content.entity,
        entity_id=content.entity_id,
        patient_id=content.patient_id,
        detail=dict(content.detail),
        previous_hash=previous,
        hash=digest(content, previous),
    )


def _content(
    actor: Actor | None, action: str, entity: str, entity_id: object, patient_id: int | None,
    detail: dict[str, Any] | None, at: datetime,
) -> AuditContent:
    return AuditContent(
        at=at,
        user_id=actor.user_id if actor else None,
        username=actor.username if actor else None,
        action=action,
        entity=entity,
        entity_id=None if entity_id is None else str(entity_id),
        patient_id=patient_id,
        # stored as JSON: hash exactly what will be read back
        detail=json.loads(json.dumps(detail or {}, default=str)),
    )


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
    _serialise_appends(session)
    previous = _tail(session)
    event = _event(_content(actor, action, entity, entity_id, patient_id, detail, utcnow()), previous)
    session.add(event)
    return event


def record_patients(
    session: Session,
    actor: Actor | None,
    action: str,
    entity: str,
    entity_id: object,
    patient_ids: Iterable[int],
    *,
    detail: dict[str, Any] | None = None,
) -> int:
    """Append one event per patient (each once, in id order) for an action touching many: a batch export.

    One lock and one read of the tail for all of them. Returns how many were appended.
    """
    patients = sorted(set(patient_ids))
    if not patients:
        return 0
    _serialise_appends(session)
    previous = _tail(session)
    at = utcnow()
    events = []
    for patient_id in patients:
        event = _event(_content(actor, action, entity, entity_id, patient_id, detail, at), previous)
        events.append(event)
        previous = event.hash
    session.add_all(events)
    session.flush()  # ids now, in the order chained
    return len(events)


# --- reading -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuditRow:
    """One audit record as the viewer and the export show it."""

    id: int
    at: datetime
    username: str
    action: str
    entity: str
    entity_id: str | None
    patient_id: int | None
    patient: str
    """``Last, First (MRN)``, or empty when the record is about no patient."""
    detail: str
    """The detail as compact JSON (``{"file": "batch-12.837"}``), empty when there is none."""


@dataclass(frozen=True, slots=True)
class AuditFilters:
    """What :meth:`AuditService.search` and :meth:`AuditService.export_csv` narrow the trail to."""

    user: str | None = None
    patient_id: int | None = None
    patient: str | None = None
    start: date | None = None
    end: date | None = None
    action: str | None = None

    def single_patient(self) -> int | None:
        """The one patient these filters name by id (``patient_id``, or ``#12`` typed), if any."""
        if self.patient_id is not None:
            return self.patient_id
        text = (self.patient or "").strip()
        return int(text[1:]) if text.startswith("#") and text[1:].isdigit() else None

    def described(self) -> dict[str, str]:
        return {
            name: str(value)
            for name, value in (
                ("user", self.user), ("patient_id", self.patient_id), ("patient", self.patient),
                ("from", self.start), ("to", self.end), ("action", self.action),
            )
            if value not in (None, "")
        }


_COLUMNS = (
    AuditEvent.id, AuditEvent.at, AuditEvent.user_id, AuditEvent.username, AuditEvent.action,
    AuditEvent.entity, AuditEvent.entity_id, AuditEvent.patient_id, AuditEvent.detail,
    AuditEvent.previous_hash, AuditEvent.hash,
)


def _chain_record(row: sa.Row[Any]) -> ChainRecord:
    content = AuditContent(row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8] or {})
    return ChainRecord(row[0], content, row[9], row[10])


def stored_chain(db: Database, batch: int = BATCH) -> Iterator[ChainRecord]:
    """Every stored record in id order, read ``batch`` at a time."""
    last = 0
    while True:
        with db.read() as connection:
            rows = connection.execute(
                sa.select(*_COLUMNS).where(AuditEvent.id > last).order_by(AuditEvent.id).limit(batch)
            ).all()
        for row in rows:
            yield _chain_record(row)
        if len(rows) < batch:
            return
        last = rows[-1][0]


def _clinic_zone(session: Session) -> Any:
    from infusion_desk.services.coding import clinic_timezone

    return clinic_timezone(session)


def _checked(filters: AuditFilters) -> AuditFilters:
    if filters.start is not None and filters.end is not None and filters.start > filters.end:
        raise ValidationFailed([error(
            "AUDIT_DATES",
            f"The first day ({filters.start:%m/%d/%Y}) is after the last day ({filters.end:%m/%d/%Y}).",
            "start",
        )])
    return filters


def _where(session: Session, filters: AuditFilters) -> list[sa.ColumnElement[bool]] | None:
    """The conditions for ``filters``; ``None`` when nothing can match (a patient name matching no one)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if filters.user and filters.user.strip():
        conditions.append(sa.func.lower(AuditEvent.username) == filters.user.strip().lower())
    if filters.action and filters.action.strip():
        conditions.append(AuditEvent.action == filters.action.strip())
    if filters.patient_id is not None:
        conditions.append(AuditEvent.patient_id == filters.patient_id)
    text = (filters.patient or "").strip()
    if text.startswith("#") and text[1:].isdigit():
        conditions.append(AuditEvent.patient_id == int(text[1:]))
    elif text:
        from infusion_desk.services.patients import patient_search

        search = patient_search(text, PATIENT_MATCHES)
        ids = [row[0] for row in session.execute(search[0], search[1])] if search else []
        if not ids:
            return None
        conditions.append(AuditEvent.patient_id.in_(ids))
    if filters.start is not None or filters.end is not None:
        zone = _clinic_zone(session)
        if filters.start is not None:
            conditions.append(AuditEvent.at >= datetime.combine(filters.start, time(), zone))
        if filters.end is not None:
            conditions.append(AuditEvent.at < datetime.combine(filters.end + timedelta(days=1), time(), zone))
    return conditions


def _row_query(conditions: list[sa.ColumnElement[bool]]) -> sa.Select[Any]:
    return (
        sa.select(*_COLUMNS, Patient.last_name, Patient.first_name, Patient.mrn)
        .outerjoin(Patient, Patient.id == AuditEvent.patient_id)
        .where(*conditions)
    )


def _audit_row(row: sa.Row[Any]) -> AuditRow:
    detail = row[8] or {}
    return AuditRow(
        id=row[0],
        at=row[1],
        username=row[3] or SYSTEM_USER,
        action=row[4],
        entity=row[5],
        entity_id=row[6],
        patient_id=row[7],
        patient=f"{row[11]}, {row[12]} ({row[13]})" if row[11] is not None else "",
        detail=json.dumps(detail, sort_keys=True, default=str) if detail else "",
    )


def _csv_line(row: sa.Row[Any]) -> list[object]:
    shown = _audit_row(row)
    return [
        shown.id, shown.at.isoformat(), shown.username, shown.action, shown.entity, shown.entity_id or "",
        shown.patient_id if shown.patient_id is not None else "", shown.patient, shown.detail,
        row[9] or "", row[10] or "",
    ]


class AuditService:
    """The manager's view of the trail: check the chain, search it, export it."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def verify(self, actor: Actor) -> ChainReport:
        """Walk the whole trail in id order; the report names the first record altered or removed.

        The check itself is recorded (``verify``), after the records it checked.
        """
        actor.require(Permission.AUDIT_VIEW)
        report = verify_chain(stored_chain(self._db))
        with self._db.session() as session:
            record(session, actor, "verify", "audit_event", None, detail={
                "records": report.records,
                "intact": report.intact,
                "broken_at": report.broken.record_id if report.broken else None,
                "last_hash": report.last_hash,
            })
        return report

    def search(
        self,
        actor: Actor,
        *,
        user: str | None = None,
        patient_id: int | None = None,
        patient: str | None = None,
        start: date | None = None,
        end: date | None = None,
        action: str | None = None,
        limit: int = SEARCH_LIMIT,
    ) -> tuple[AuditRow, ...]:
        """The newest ``limit`` records matching every filter given.

        ``user`` is a user name (any case); ``patient`` is what the finder takes (a name,
        ``smith, jo``, an MRN, a date of birth) or ``#`` and a patient id; ``start`` and
        ``end`` are days in the clinic's time zone, both included.
        """
        actor.require(Permission.AUDIT_VIEW)
        filters = _checked(AuditFilters(user, patient_id, patient, start, end, action))
        with self._db.session() as session:
            conditions = _where(session, filters)
            if conditions is None:
                return ()
            rows = session.execute(_row_query(conditions).order_by(AuditEvent.id.desc()).limit(max(1, limit)))
            return tuple(_audit_row(r) for r in rows)

    def export_csv(
        self,
        actor: Actor,
        path: Path,
        *,
        user: str | None = None,
        patient_id: int | None = None,
        patient: str | None = None,
        start: date | None = None,
        end: date | None = None,
        action: str | None = None,
    ) -> int:
        """Write every matching record, oldest first, to ``path`` as CSV; returns how many.

        The file is written beside ``path`` and moved into place only once complete, and the
        export is itself recorded (``export``, naming the file, the filters and the count).
        """
        actor.require(Permission.AUDIT_VIEW)
        filters = _checked(AuditFilters(user, patient_id, patient, start, end, action))
        path = Path(path)
        partial = path.with_name(path.name + ".part")
        count = 0
        try:
            with self._db.session() as session:
                conditions = _where(session, filters)
                with partial.open("w", newline="", encoding="utf-8") as handle:
                    out = csv.writer(handle)
                    out.writerow(CSV_HEADER)
                    last = 0
                    while conditions is not None:
                        query = _row_query([*conditions, AuditEvent.id > last])
                        rows = session.execute(query.order_by(AuditEvent.id).limit(BATCH)).all()
                        out.writerows(_csv_line(r) for r in rows)
                        count += len(rows)
                        if len(rows) < BATCH:
                            break
                        last = rows[-1][0]
                record(
                    session, actor, "export", "audit_event", None,
                    patient_id=filters.single_patient(),
                    detail={"file": path.name, "rows": count, "filters": filters.described()},
                )
            os.replace(partial, path)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            message = f"Cannot write {path}: {exc.strerror or exc}. Choose another file."
            raise ValidationFailed([error("AUDIT_FILE", message, "path")]) from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        return count

    def users(self, actor: Actor) -> tuple[str, ...]:
        """Every user name, for the viewer's user filter."""
        actor.require(Permission.AUDIT_VIEW)
        with self._db.read() as connection:
            return tuple(connection.execute(sa.select(User.username).order_by(User.username)).scalars())

    def actions(self, actor: Actor) -> tuple[str, ...]:
        """Every action the trail holds (``view``, ``print``, ``export``, ``update``...), sorted."""
        actor.require(Permission.AUDIT_VIEW)
        with self._db.read() as connection:
            return tuple(
                connection.execute(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action)).scalars()
            )
