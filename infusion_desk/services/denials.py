"""The denial work queue: every denied line the payers sent back, most money and nearest deadline first.

A biller takes an item (it becomes theirs, in progress), and ends it by resubmitting a
corrected claim, by appealing (:mod:`infusion_desk.services.appeals`), by transferring the
amount to the patient's responsibility, or by asking for a write-off with a reason, which
another person, a manager, approves; nothing is written off by the program or by one person alone.

Work items are opened by 835 posting (:mod:`infusion_desk.services.remittances`), one per
denial adjustment; nothing is written off on its own. Each row carries the reason in plain
words and the next step from the clinic's CARC/RARC tables (:mod:`infusion_desk.billing.denials`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing import denials, reports
from infusion_desk.billing.findings import error
from infusion_desk.billing.remittance import REVERSAL
from infusion_desk.models import (
    Appeal,
    Claim,
    ClaimLine,
    DenialWorkItem,
    Patient,
    Payer,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
    User,
)
from infusion_desk.models.db import Database
from infusion_desk.models.enums import WorkItemStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.balances import refresh_line_balances
from infusion_desk.services.claims import ClaimService, clinic_today
from infusion_desk.services.errors import NotFound, ValidationFailed

OPEN = (WorkItemStatus.OPEN, WorkItemStatus.IN_PROGRESS, WorkItemStatus.WRITE_OFF_REQUESTED)
"""Work items that still need someone."""


@dataclass(frozen=True, slots=True)
class DenialRow:
    id: int
    claim_number: str
    patient: str
    payer: str
    service_date: date | None
    code: str
    adjustment: str
    """Group and reason code as the payer sent them, e.g. ``CO-197``."""
    category: str
    reason: str
    action: str
    amount: Decimal
    appeal_deadline: date | None
    owner: str
    status: str


class DenialService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def work_queue(self, actor: Actor, *, include_closed: bool = False) -> list[DenialRow]:
        """Denied lines to work, the most money first, then the nearest appeal deadline."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            stmt = (
                sa.select(
                    DenialWorkItem,
                    Claim.claim_number,
                    Claim.service_date_from,
                    Patient.last_name,
                    Patient.first_name,
                    Patient.mrn,
                    Payer.name,
                    ClaimLine.code,
                    ClaimLine.service_date,
                    User.username,
                )
                .join(Claim, Claim.id == DenialWorkItem.claim_id)
                .join(Patient, Patient.id == Claim.patient_id)
                .join(Payer, Payer.id == Claim.payer_id)
                .outerjoin(ClaimLine, ClaimLine.id == DenialWorkItem.claim_line_id)
                .outerjoin(User, User.id == DenialWorkItem.owner_id)
                .order_by(
                    DenialWorkItem.amount.desc(),
                    DenialWorkItem.appeal_deadline.asc(),
                    DenialWorkItem.id,
                )
            )
            if not include_closed:
                stmt = stmt.where(DenialWorkItem.status.in_(OPEN))
            rows: list[DenialRow] = []
            for row in session.execute(stmt):
                item, number, claim_date, last, first, mrn, payer, code, line_date, owner = row
                reason = denials.explain(item.group_code.value, item.reason_code, item.remark_codes or ())
                rows.append(
                    DenialRow(
                        id=item.id,
                        claim_number=number,
                        patient=f"{last}, {first} ({mrn})",
                        payer=payer,
                        service_date=line_date or claim_date,
                        code=code or "(whole claim)",
                        adjustment=f"{item.group_code.value}-{item.reason_code}",
                        category=reason.category.replace("_", " "),
                        reason=reason.description,
                        action=reason.action,
                        amount=item.amount,
                        appeal_deadline=item.appeal_deadline,
                        owner=owner or "",
                        status=item.status.value.replace("_", " "),
                    )
                )
            return rows

    def analytics(self, actor: Actor, since: date, today: date | None = None) -> DenialAnalytics:
        """The denial figures a manager reviews (see :func:`denial_analytics`)."""
        actor.require(Permission.REPORTS_VIEW)
        with self._db.session() as session:
            return denial_analytics(session, since, today or clinic_today(session))

    # -- working an item ----------------------------------------------------------------------

    def take(self, actor: Actor, item_id: int) -> None:
        """The item becomes the signed-in biller's, in progress."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            item = _open_item(session, item_id)
            before = item.status
            item.owner_id = actor.user_id
            if item.status is WorkItemStatus.OPEN:
                item.status = WorkItemStatus.IN_PROGRESS
            _record(session, actor, item, "take_denial", before)

    def transfer_to_patient(self, actor: Actor, item_id: int, note: str) -> None:
        """The patient owes the denied amount (e.g. a non-covered service with a signed waiver)."""
        actor.require(Permission.DENIAL_WORK)
        note = _reason(note, "Say why the patient owes it (for example: waiver signed on 11/02/2026).")
        with self._db.session() as session:
            item = _open_item(session, item_id)
            before = item.status
            item.status = WorkItemStatus.TRANSFERRED
            item.resolution_note = note
            item.owner_id = item.owner_id or actor.user_id
            _record(session, actor, item, "transfer_denial_to_patient", before)
            refresh_line_balances(session, [item.claim_id])

    def correct_and_resubmit(
        self, actor: Actor, item_id: int, reason: str, today: date | None = None
    ) -> int:
        """Answer a denial with a replacement claim (frequency 7) built from the visit's current coding.

        Fix the coding or the record first; the replacement goes out in the next batch. Every
        open denial on the same claim is marked resubmitted with it, in one transaction. Returns
        the replacement claim's id.
        """
        actor.require(Permission.DENIAL_WORK)
        actor.require(Permission.CLAIM_EDIT)
        reason = _reason(reason, "Say what the corrected claim fixes; the payer and the next biller read it.")
        with self._db.session() as session:
            item = _open_item(session, item_id)
            replacement = ClaimService(self._db).correct_in(session, actor, item.claim_id, reason, today)
            siblings = session.scalars(
                sa.select(DenialWorkItem).where(
                    DenialWorkItem.claim_id == item.claim_id, DenialWorkItem.status.in_(OPEN)
                )
            ).all()
            for sibling in siblings:
                before = sibling.status
                sibling.status = WorkItemStatus.RESUBMITTED
                sibling.replacement_claim_id = replacement.id
                sibling.resolution_note = f"Corrected claim {replacement.claim_number}: {reason}"
                sibling.owner_id = sibling.owner_id or actor.user_id
                _record(session, actor, sibling, "resubmit_denial", before)
            return replacement.id

    def request_write_off(self, actor: Actor, item_id: int, reason: str) -> None:
        """Ask a manager to write the amount off; the item waits for the approval."""
        actor.require(Permission.WRITE_OFF_REQUEST)
        reason = _reason(reason, "Say why the amount should be written off; a manager reads it.")
        with self._db.session() as session:
            item = _open_item(session, item_id)
            before = item.status
            item.status = WorkItemStatus.WRITE_OFF_REQUESTED
            item.resolution_note = reason
            item.requested_by_id = actor.user_id
            item.owner_id = item.owner_id or actor.user_id
            _record(session, actor, item, "request_write_off", before)

    def approve_write_off(self, actor: Actor, item_id: int) -> None:
        """A manager approves a requested write-off: the item is closed as written off."""
        actor.require(Permission.WRITE_OFF_APPROVE)
        with self._db.session() as session:
            item = _open_item(session, item_id)
            if item.status is not WorkItemStatus.WRITE_OFF_REQUESTED:
                raise ValidationFailed(
                    [
                        error(
                            "NOT_REQUESTED",
                            "Only a write-off a biller asked for, with a reason, can be approved.",
                            "status",
                        )
                    ]
                )
            if item.requested_by_id is not None and item.requested_by_id == actor.user_id:
                raise ValidationFailed(
                    [
                        error(
                            "SAME_PERSON",
                            "You asked for this write-off yourself; another manager must approve it.",
                            "approver",
                        )
                    ]
                )
            before = item.status
            item.status = WorkItemStatus.WRITTEN_OFF
            item.approved_by_id = actor.user_id
            _record(session, actor, item, "approve_write_off", before)
            refresh_line_balances(session, [item.claim_id])


def _open_item(session: Session, item_id: int) -> DenialWorkItem:
    item = session.get(DenialWorkItem, item_id)
    if item is None:
        raise NotFound(f"Denial {item_id} no longer exists.")
    if item.status not in OPEN:
        raise ValidationFailed(
            [
                error(
                    "DENIAL_CLOSED",
                    f"This denial is already {item.status.value.replace('_', ' ')}; nothing changed.",
                    "status",
                )
            ]
        )
    return item


def _reason(text: str, ask: str) -> str:
    text = text.strip()
    if not text:
        raise ValidationFailed([error("REASON", ask, "reason")])
    return text


def _record(
    session: Session, actor: Actor, item: DenialWorkItem, action: str, before: WorkItemStatus
) -> None:
    audit.record(
        session,
        actor,
        action,
        "denial_work_item",
        item.id,
        detail={"before": before.value, "after": item.status.value, "note": item.resolution_note},
    )


# --- analytics for managers ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateRow:
    """Denials in one group (payer, month): adjudicated claims, claims with a denial, dollars."""

    key: str
    claims: int
    denied_claims: int
    denied_amount: Decimal

    @property
    def rate(self) -> Decimal:
        """Share of adjudicated claims with at least one denial, as a percentage to one place."""
        return reports.rate(self.denied_claims, self.claims) or Decimal("0.0")


@dataclass(frozen=True, slots=True)
class AmountRow:
    key: str
    items: int
    amount: Decimal
    claims: int = 0
    """Adjudicated claims with a denial in this group."""
    answered: int = 0
    """All adjudicated claims in the period: the denominator of :attr:`rate`."""

    @property
    def rate(self) -> Decimal:
        """Share of adjudicated claims with a denial in this group, as a percentage to one place."""
        return reports.rate(self.claims, self.answered) or Decimal("0.0")


@dataclass(frozen=True, slots=True)
class DenialAnalytics:
    since: date
    overall: RateRow
    by_payer: tuple[RateRow, ...]
    by_month: tuple[RateRow, ...]
    by_category: tuple[AmountRow, ...]
    """Denied dollars and the denial rate by reason category."""
    by_code: tuple[AmountRow, ...]
    """Denied dollars and the denial rate by code: the drug (J-code) or administration code."""
    open_by_age: tuple[AmountRow, ...]
    """Open denial dollars by days since the payer's decision: 0-30, 31-60, 61-90, over 90."""
    recovered: Decimal
    """What appeals won back, by the date of their outcome (since ``since``)."""


AGE_BUCKETS = ((30, "0-30 days"), (60, "31-60 days"), (90, "61-90 days"), (None, "over 90 days"))


def _bucket(days: int) -> str:
    return next(label for limit, label in AGE_BUCKETS if limit is None or days <= limit)


def denial_analytics(session: Session, since: date, today: date) -> DenialAnalytics:
    """The denial figures since ``since``, from the claims the payers adjudicated.

    Denial rate by payer and month (a claim counts once, in the month of its first answer),
    denied dollars by category and code, open denial dollars by age, what appeals recovered.
    """
    adjudicated = session.execute(
        sa.select(RemittanceClaim.claim_id, Remittance.payment_date, Payer.name)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .join(Claim, Claim.id == RemittanceClaim.claim_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(
            RemittanceClaim.claim_id.is_not(None),
            RemittanceClaim.status_code != REVERSAL,
            Remittance.posted_at.is_not(None),
            Remittance.payment_date >= since,
        )
    ).all()
    first_answer: dict[int, tuple[date, str]] = {}
    for claim_id, paid_on, payer in adjudicated:
        if claim_id not in first_answer or paid_on < first_answer[claim_id][0]:
            first_answer[claim_id] = (paid_on, payer)
    items = session.execute(
        sa.select(
            DenialWorkItem.claim_id,
            DenialWorkItem.category,
            DenialWorkItem.amount,
            DenialWorkItem.status,
            ClaimLine.code,
            Remittance.payment_date,
        )
        .outerjoin(ClaimLine, ClaimLine.id == DenialWorkItem.claim_line_id)
        .outerjoin(RemittanceLine, RemittanceLine.id == DenialWorkItem.remittance_line_id)
        .outerjoin(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
        .outerjoin(Remittance, Remittance.id == RemittanceClaim.remittance_id)
    ).all()
    denied: dict[int, Decimal] = {}
    categories: dict[str, list[Decimal]] = {}
    codes: dict[str, list[Decimal]] = {}
    claims_in: dict[str, set[int]] = {}
    ages: dict[str, list[Decimal]] = {label: [] for _limit, label in AGE_BUCKETS}
    for claim_id, category, amount, status, code, decided in items:
        if status in OPEN:
            ages[_bucket((today - (decided or today)).days)].append(amount)
        if claim_id not in first_answer:
            continue
        denied[claim_id] = denied.get(claim_id, Decimal("0.00")) + amount
        category_key = category.value.replace("_", " ")
        code_key = code or "(whole claim)"
        categories.setdefault(category_key, []).append(amount)
        codes.setdefault(code_key, []).append(amount)
        claims_in.setdefault(f"category:{category_key}", set()).add(claim_id)
        claims_in.setdefault(f"code:{code_key}", set()).add(claim_id)

    def rates(key_of: Callable[[int], str]) -> tuple[RateRow, ...]:
        groups: dict[str, list[int]] = {}
        for claim_id in first_answer:
            groups.setdefault(key_of(claim_id), []).append(claim_id)
        return tuple(
            RateRow(
                key,
                len(ids),
                sum(1 for i in ids if i in denied),
                sum((denied.get(i, Decimal("0.00")) for i in ids), Decimal("0.00")),
            )
            for key, ids in sorted(groups.items())
        )

    def amounts(groups: dict[str, list[Decimal]], kind: str) -> tuple[AmountRow, ...]:
        rows = [
            AmountRow(
                k, len(v), sum(v, Decimal("0.00")), len(claims_in.get(f"{kind}:{k}", ())), len(first_answer)
            )
            for k, v in groups.items()
        ]
        return tuple(sorted(rows, key=lambda r: (-r.amount, r.key)))

    overall = rates(lambda _claim_id: "all payers")
    recovered = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Appeal.recovered), 0)).where(Appeal.outcome_on >= since)
    )
    return DenialAnalytics(
        since=since,
        overall=overall[0] if overall else RateRow("all payers", 0, 0, Decimal("0.00")),
        by_payer=rates(lambda claim_id: first_answer[claim_id][1]),
        by_month=rates(lambda claim_id: first_answer[claim_id][0].strftime("%Y-%m")),
        by_category=amounts(categories, "category"),
        by_code=amounts(codes, "code"),
        open_by_age=tuple(
            AmountRow(label, len(ages[label]), sum(ages[label], Decimal("0.00")))
            for _limit, label in AGE_BUCKETS
        ),
        recovered=Decimal(recovered or 0).quantize(Decimal("0.01")),
    )
