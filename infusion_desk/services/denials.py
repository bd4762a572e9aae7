"""The denial work queue: every denied line the payers sent back, most money and nearest deadline first.

Work items are opened by 835 posting (:mod:`infusion_desk.services.remittances`), one per
denial adjustment; nothing is written off on its own. Each row carries the reason in plain
words and the next step from the clinic's CARC/RARC tables (:mod:`infusion_desk.billing.denials`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa

from infusion_desk.billing import denials
from infusion_desk.models import Claim, ClaimLine, DenialWorkItem, Patient, Payer, User
from infusion_desk.models.db import Database
from infusion_desk.models.enums import WorkItemStatus
from infusion_desk.services.access import Actor, Permission

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
