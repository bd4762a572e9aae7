"""The denial work queue: every denied line the payers sent back, most money and nearest deadline first.

A biller takes an item (it becomes theirs, in progress), and ends it by transferring the
amount to the patient's responsibility or by asking for a write-off with a reason, which a
manager approves; nothing is written off by the program or by the biller alone.

Work items are opened by 835 posting (:mod:`infusion_desk.services.remittances`), one per
denial adjustment; nothing is written off on its own. Each row carries the reason in plain
words and the next step from the clinic's CARC/RARC tables (:mod:`infusion_desk.billing.denials`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing import denials
from infusion_desk.billing.findings import error
from infusion_desk.models import Claim, ClaimLine, DenialWorkItem, Patient, Payer, User
from infusion_desk.models.db import Database
from infusion_desk.models.enums import WorkItemStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
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

    def request_write_off(self, actor: Actor, item_id: int, reason: str) -> None:
        """Ask a manager to write the amount off; the item waits for the approval."""
        actor.require(Permission.WRITE_OFF_REQUEST)
        reason = _reason(reason, "Say why the amount should be written off; a manager reads it.")
        with self._db.session() as session:
            item = _open_item(session, item_id)
            before = item.status
            item.status = WorkItemStatus.WRITE_OFF_REQUESTED
            item.resolution_note = reason
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
            before = item.status
            item.status = WorkItemStatus.WRITTEN_OFF
            item.approved_by_id = actor.user_id
            _record(session, actor, item, "approve_write_off", before)


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
