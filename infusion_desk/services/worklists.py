"""The front desk's work queues: what to fix before patients arrive, not after the payer denies.

    queues = WorklistService(db).queues(actor, today=date(2026, 11, 26))
    queues.unverified_coverage    # appointments in the next 7 days whose coverage is not verified
    queues.authorizations_to_renew
    queues.orders_to_renew
    queues.missing_claim_data     # upcoming patients a claim could not be sent for

Each item names the patient, what it is about, the problem in plain words and the screen
that fixes it. The queues are computed in a fixed number of queries whatever the size of
the clinic, so they can be refreshed every time the desk looks at them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from infusion_desk.models import InsurancePolicy, Patient, Payer, Visit
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import VisitStatus
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.authorizations import authorizations_to_renew
from infusion_desk.services.check_in import Fix
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.coverage import RANK_ORDER, in_force
from infusion_desk.services.eligibility import verification_findings
from infusion_desk.services.orders import orders_to_renew
from infusion_desk.services.patients import claim_data_findings

UPCOMING = (VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN)


class Queue(StrEnum):
    UNVERIFIED_COVERAGE = "unverified_coverage"
    AUTHORIZATIONS_TO_RENEW = "authorizations_to_renew"
    ORDERS_TO_RENEW = "orders_to_renew"
    MISSING_CLAIM_DATA = "missing_claim_data"


QUEUE_TITLES: dict[Queue, str] = {
    Queue.UNVERIFIED_COVERAGE: "Coverage to verify (next 7 days)",
    Queue.AUTHORIZATIONS_TO_RENEW: "Authorizations to renew",
    Queue.ORDERS_TO_RENEW: "Orders to renew",
    Queue.MISSING_CLAIM_DATA: "Missing claim data",
}


@dataclass(frozen=True, slots=True)
class WorkItem:
    queue: Queue
    patient_id: int
    patient_name: str
    mrn: str
    due: date | None
    """The date that makes it urgent: the appointment, or the expiry."""
    about: str
    problem: str
    fix: Fix
    target_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["queue"] = self.queue.value
        data["fix"] = self.fix.value
        data["due"] = self.due.isoformat() if self.due else None
        return data


@dataclass(frozen=True, slots=True)
class WorkQueues:
    today: date
    unverified_coverage: tuple[WorkItem, ...]
    authorizations_to_renew: tuple[WorkItem, ...]
    orders_to_renew: tuple[WorkItem, ...]
    missing_claim_data: tuple[WorkItem, ...]

    def queue(self, queue: Queue) -> tuple[WorkItem, ...]:
        items: tuple[WorkItem, ...] = getattr(self, queue.value)
        return items

    def to_json(self) -> dict[str, Any]:
        return {
            "today": self.today.isoformat(),
            "queues": {
                queue.value: {"title": QUEUE_TITLES[queue], "items": [i.to_json() for i in self.queue(queue)]}
                for queue in Queue
            },
        }


def _name(patient: Patient) -> str:
    return f"{patient.last_name}, {patient.first_name}"


def upcoming_visits(session: Session, first: date, last: date) -> list[Visit]:
    """Appointments still to come between two dates, with their patients."""
    return list(
        session.scalars(
            sa.select(Visit)
            .where(Visit.date_of_service.between(first, last), Visit.status.in_(UPCOMING))
            .order_by(Visit.date_of_service, Visit.scheduled_start)
            .options(selectinload(Visit.patient))
        )
    )


def _policies_by_patient(session: Session, patient_ids: set[int]) -> dict[int, list[InsurancePolicy]]:
    found: dict[int, list[InsurancePolicy]] = defaultdict(list)
    ids = sorted(patient_ids)
    for start in range(0, len(ids), 500):
        for policy in session.scalars(
            sa.select(InsurancePolicy)
            .where(InsurancePolicy.patient_id.in_(ids[start : start + 500]))
            .options(selectinload(InsurancePolicy.payer))
        ):
            found[policy.patient_id].append(policy)
    for policies in found.values():
        policies.sort(key=lambda p: (RANK_ORDER[p.rank], p.id))
    return found


def unverified_coverage(
    session: Session, visits: list[Visit], policies: dict[int, list[InsurancePolicy]]
) -> list[WorkItem]:
    """Each policy in force for an upcoming visit that is not verified for that day."""
    pairs: list[tuple[Visit, InsurancePolicy]] = []
    seen: set[tuple[int, date]] = set()
    for visit in visits:
        in_force_then = [
            p
            for p in policies.get(visit.patient_id, ())
            if in_force(p.effective_date, p.termination_date, visit.date_of_service)
        ]
        if visit.policy_id is not None:
            chosen = [p for p in in_force_then if p.id == visit.policy_id]
            in_force_then = chosen + [p for p in in_force_then if p.id != visit.policy_id]
        for policy in in_force_then:
            key = (policy.id, visit.date_of_service)
            if key not in seen:
                seen.add(key)
                pairs.append((visit, policy))
    problems = verification_findings(session, [(policy.id, visit.date_of_service) for visit, policy in pairs])
    items: list[WorkItem] = []
    for visit, policy in pairs:
        finding = problems.get((policy.id, visit.date_of_service))
        if finding is None:
            continue
        payer: Payer = policy.payer
        items.append(
            WorkItem(
                Queue.UNVERIFIED_COVERAGE,
                visit.patient_id,
                _name(visit.patient),
                visit.patient.mrn,
                visit.date_of_service,
                f"{payer.name} ({policy.rank.value}), member {policy.member_id}",
                finding.message,
                Fix.VERIFY_ELIGIBILITY,
                policy.id,
            )
        )
    return items


def missing_claim_data(visits: list[Visit], policies: dict[int, list[InsurancePolicy]]) -> list[WorkItem]:
    items: list[WorkItem] = []
    seen: set[int] = set()
    for visit in visits:
        if visit.patient_id in seen:
            continue
        seen.add(visit.patient_id)
        in_force_then = [
            p
            for p in policies.get(visit.patient_id, ())
            if in_force(p.effective_date, p.termination_date, visit.date_of_service)
        ]
        findings = claim_data_findings(visit.patient, in_force_then, visit.date_of_service)
        for finding in findings:
            policy_target = None
            fix = Fix.EDIT_PATIENT
            if finding.subject.startswith("policy:"):
                fix = Fix.EDIT_POLICY
                policy_target = int(finding.subject.split(":", 1)[1].split(".", 1)[0])
            items.append(
                WorkItem(
                    Queue.MISSING_CLAIM_DATA,
                    visit.patient_id,
                    _name(visit.patient),
                    visit.patient.mrn,
                    visit.date_of_service,
                    "Next visit",
                    finding.message,
                    fix,
                    policy_target,
                )
            )
    return items


class WorklistService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def queues(self, actor: Actor, today: date | None = None, days: int = 7) -> WorkQueues:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            today = today or utcnow().astimezone(clinic_timezone(session)).date()
            return compute_queues(session, today, days)


def compute_queues(session: Session, today: date, days: int = 7) -> WorkQueues:
    """All four queues for ``today`` (appointments up to ``days`` ahead)."""
    visits = upcoming_visits(session, today, today + timedelta(days=days))
    policies = _policies_by_patient(session, {v.patient_id for v in visits})
    return WorkQueues(
        today=today,
        unverified_coverage=tuple(unverified_coverage(session, visits, policies)),
        authorizations_to_renew=tuple(_authorization_items(session, today)),
        orders_to_renew=tuple(_order_items(session, today)),
        missing_claim_data=tuple(missing_claim_data(visits, policies)),
    )


def _authorization_items(session: Session, today: date) -> list[WorkItem]:
    return [
        WorkItem(
            Queue.AUTHORIZATIONS_TO_RENEW,
            row.patient_id,
            row.patient_name,
            row.mrn,
            row.due,
            f"{row.payer} authorization {row.number} ({', '.join(row.codes)}), "
            f"valid to {row.valid_to:%m/%d/%Y}",
            row.problem,
            Fix.AUTHORIZATION,
            row.authorization_id,
        )
        for row in authorizations_to_renew(session, today)
    ]


def _order_items(session: Session, today: date) -> list[WorkItem]:
    return [
        WorkItem(
            Queue.ORDERS_TO_RENEW,
            row.patient_id,
            row.patient_name,
            row.mrn,
            row.due,
            f"{row.drug} order" + (f", expires {row.end_date:%m/%d/%Y}" if row.end_date else ""),
            row.problem,
            Fix.ORDER,
            row.order_id,
        )
        for row in orders_to_renew(session, today)
    ]
