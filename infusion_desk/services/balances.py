"""Each claim line's split of its charge (paid, adjusted, the patient's, still the payer's) and its state.

The split is recomputed from what is stored, never added to: every posted remittance line
for the claim line (reversals count negative), the decisions taken on its denials
(transferred to the patient, written off, still being worked), and explicit adjustments of
the patient's balance (small-balance write-offs, ``LineAdjustment``). Posting a payment,
and every action on a denial, calls :func:`refresh_line_balances` for the claims it touched,
inside its own unit of work, so the state a statement reads is always the one the postings
give. The rules are :func:`infusion_desk.billing.line_balance.line_balance`.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing import denials
from infusion_desk.billing.line_balance import (
    IN_COLLECTIONS,
    PAYMENT_PLAN,
    ZERO,
    Decisions,
    Postings,
    line_balance,
)
from infusion_desk.models import (
    Adjustment,
    Claim,
    ClaimLine,
    DenialWorkItem,
    InsurancePolicy,
    LineAdjustment,
    PaymentPlan,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from infusion_desk.models.enums import AdjustmentGroup, LineResponsibility, PlanStatus, WorkItemStatus
from infusion_desk.services.coverage import RANK_ORDER, in_force

CHUNK = 900

_STILL_WORKED = (
    WorkItemStatus.OPEN,
    WorkItemStatus.IN_PROGRESS,
    WorkItemStatus.RESUBMITTED,
    WorkItemStatus.APPEALED,
    WorkItemStatus.WRITE_OFF_REQUESTED,
)


@functools.lru_cache(maxsize=1024)
def _is_denial(group: str, reason: str) -> bool:
    return denials.is_denial(group, reason)


def _chunks(values: list[int]) -> Iterable[list[int]]:
    return (values[i : i + CHUNK] for i in range(0, len(values), CHUNK))


def refresh_line_balances(session: Session, claim_ids: Iterable[int]) -> int:
    """Recompute the split and the state of every line of ``claim_ids``; returns the lines changed."""
    ids = sorted(set(claim_ids))
    if not ids:
        return 0
    session.flush()
    claims: dict[int, sa.Row[Any]] = {}
    lines: list[sa.Row[Any]] = []
    answered: set[int] = set()
    for chunk in _chunks(ids):
        claims.update(
            (row.id, row)
            for row in session.execute(
                sa.select(
                    Claim.id, Claim.patient_id, Claim.policy_id, Claim.service_date_from
                ).where(Claim.id.in_(chunk))
            )
        )
        lines += session.execute(
            sa.select(
                ClaimLine.id,
                ClaimLine.claim_id,
                ClaimLine.charge,
                ClaimLine.patient_paid,
                ClaimLine.paid,
                ClaimLine.adjusted,
                ClaimLine.patient_responsibility,
                ClaimLine.responsibility,
                ClaimLine.collections_on,
                PaymentPlan.status.label("plan_status"),
            )
            .outerjoin(PaymentPlan, PaymentPlan.id == ClaimLine.payment_plan_id)
            .where(ClaimLine.claim_id.in_(chunk))
        ).all()
        answered.update(
            session.scalars(
                sa.select(RemittanceClaim.claim_id)
                .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
                .where(RemittanceClaim.claim_id.in_(chunk), Remittance.posted_at.is_not(None))
            )
        )
    line_ids = [line.id for line in lines]
    paid: dict[int, Decimal] = {}
    sums: dict[tuple[int, str], Decimal] = {}
    decided: dict[tuple[int, str], Decimal] = {}
    worked: dict[int, int] = {}
    for chunk in _chunks(line_ids):
        posted = (
            sa.select(RemittanceLine.id)
            .join(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
            .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
            .where(RemittanceLine.claim_line_id.in_(chunk), Remittance.posted_at.is_not(None))
        )
        for line_id, amount in session.execute(
            sa.select(RemittanceLine.claim_line_id, RemittanceLine.paid).where(RemittanceLine.id.in_(posted))
        ):
            paid[line_id] = paid.get(line_id, ZERO) + amount
        for line_id, group, reason, amount in session.execute(
            sa.select(
                RemittanceLine.claim_line_id, Adjustment.group_code, Adjustment.reason_code, Adjustment.amount
            )
            .join(RemittanceLine, RemittanceLine.id == Adjustment.remittance_line_id)
            .where(Adjustment.remittance_line_id.in_(posted))
        ):
            if group is AdjustmentGroup.PR:
                kind = "patient"
            elif _is_denial(group.value, reason):
                kind = "denied"
            else:
                kind = "contractual"
            sums[(line_id, kind)] = sums.get((line_id, kind), ZERO) + amount
        for line_id, status, amount in session.execute(
            sa.select(DenialWorkItem.claim_line_id, DenialWorkItem.status, DenialWorkItem.amount).where(
                DenialWorkItem.claim_line_id.in_(chunk)
            )
        ):
            if status is WorkItemStatus.TRANSFERRED:
                decided[(line_id, "transferred")] = decided.get((line_id, "transferred"), ZERO) + amount
            elif status is WorkItemStatus.WRITTEN_OFF:
                decided[(line_id, "written_off")] = decided.get((line_id, "written_off"), ZERO) + amount
            elif status in _STILL_WORKED:
                worked[line_id] = worked.get(line_id, 0) + 1
        for line_id, amount in session.execute(
            sa.select(LineAdjustment.claim_line_id, LineAdjustment.amount).where(
                LineAdjustment.claim_line_id.in_(chunk)
            )
        ):
            decided[(line_id, "patient_adjusted")] = decided.get((line_id, "patient_adjusted"), ZERO) + amount
    next_payer = _claims_with_a_next_payer(session, claims)

    changes: list[dict[str, Any]] = []
    for line in lines:
        balance = line_balance(
            line.charge,
            Postings(
                paid=paid.get(line.id, ZERO),
                patient=sums.get((line.id, "patient"), ZERO),
                contractual=sums.get((line.id, "contractual"), ZERO),
                denied=sums.get((line.id, "denied"), ZERO),
                answered=line.claim_id in answered,
            ),
            Decisions(
                transferred=decided.get((line.id, "transferred"), ZERO),
                written_off=decided.get((line.id, "written_off"), ZERO),
                patient_adjusted=decided.get((line.id, "patient_adjusted"), ZERO),
                open_denials=worked.get(line.id, 0),
                placement=_placement(line),
            ),
            next_payer=line.claim_id in next_payer,
            patient_paid=line.patient_paid,
        )
        state = LineResponsibility(balance.state)
        if (line.paid, line.adjusted, line.patient_responsibility, line.responsibility) != (
            balance.paid, balance.adjusted, balance.patient_responsibility, state
        ):
            changes.append(
                {
                    "b_id": line.id,
                    "b_paid": balance.paid,
                    "b_adjusted": balance.adjusted,
                    "b_patient": balance.patient_responsibility,
                    "b_state": state,
                }
            )
    if changes:
        table = ClaimLine.__table__
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(
                paid=sa.bindparam("b_paid"),
                adjusted=sa.bindparam("b_adjusted"),
                patient_responsibility=sa.bindparam("b_patient"),
                responsibility=sa.bindparam("b_state"),
            ),
            changes,
        )
        changed = {change["b_id"] for change in changes}
        for instance in list(session.identity_map.values()):
            if isinstance(instance, ClaimLine) and instance.id in changed:
                session.expire(instance)
    return len(changes)


def _placement(line: sa.Row[Any]) -> str | None:
    """Collections, else an active payment plan, holds the patient's share of a line."""
    if line.collections_on is not None:
        return IN_COLLECTIONS
    if line.plan_status is PlanStatus.ACTIVE:
        return PAYMENT_PLAN
    return None


def _claims_with_a_next_payer(session: Session, claims: dict[int, sa.Row[Any]]) -> set[int]:
    """Claims whose patient has a later-rank policy in force on the date of service."""
    if not claims:
        return set()
    policies: dict[int, list[sa.Row[Any]]] = {}
    patient_ids = sorted({row.patient_id for row in claims.values()})
    for chunk in _chunks(patient_ids):
        for policy in session.execute(
            sa.select(
                InsurancePolicy.id,
                InsurancePolicy.patient_id,
                InsurancePolicy.rank,
                InsurancePolicy.effective_date,
                InsurancePolicy.termination_date,
            ).where(InsurancePolicy.patient_id.in_(chunk))
        ):
            policies.setdefault(policy.patient_id, []).append(policy)
    found: set[int] = set()
    for claim in claims.values():
        own = policies.get(claim.patient_id, [])
        billed = next((p for p in own if p.id == claim.policy_id), None)
        if billed is None:
            continue
        if any(
            RANK_ORDER[p.rank] > RANK_ORDER[billed.rank]
            and in_force(p.effective_date, p.termination_date, claim.service_date_from)
            for p in own
        ):
            found.add(claim.id)
    return found
