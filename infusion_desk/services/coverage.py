"""Which insurance covers a patient on a given day: the one rule booking, check-in and claims share.

    policies = active_policies(session, patient_id, date(2026, 12, 3))
    policies[0].rank            # PolicyRank.PRIMARY when a primary is in force that day

A policy is in force from its effective date through its termination date, both inclusive.
A terminated policy stays on file (claims for earlier visits still need it) but is never
offered for a new visit.
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.findings import Finding, error
from infusion_desk.models import InsurancePolicy
from infusion_desk.models.enums import PolicyRank

RANK_ORDER: dict[PolicyRank, int] = {PolicyRank.PRIMARY: 0, PolicyRank.SECONDARY: 1, PolicyRank.TERTIARY: 2}


def in_force(effective: date, termination: date | None, day: date) -> bool:
    """True when a policy with these dates covers ``day``.

    >>> in_force(date(2026, 1, 1), date(2026, 6, 30), date(2026, 6, 30))
    True
    >>> in_force(date(2026, 1, 1), date(2026, 6, 30), date(2026, 7, 1))
    False
    """
    return effective <= day and (termination is None or day <= termination)


def active_policies(session: Session, patient_id: int, day: date) -> list[InsurancePolicy]:
    """The patient's policies in force on ``day``, primary first."""
    rows = session.scalars(
        sa.select(InsurancePolicy).where(
            InsurancePolicy.patient_id == patient_id,
            InsurancePolicy.effective_date <= day,
            sa.or_(InsurancePolicy.termination_date.is_(None), InsurancePolicy.termination_date >= day),
        )
    ).all()
    return sorted(rows, key=lambda policy: (RANK_ORDER[policy.rank], policy.id))


def check_policy_for_visit(
    policy: InsurancePolicy | None, patient_id: int, day: date, subject: str = "policy_id"
) -> tuple[Finding, ...]:
    """Findings that stop ``policy`` being chosen for a visit of ``patient_id`` on ``day``."""
    if policy is None:
        return (error("POLICY_MISSING", "That insurance policy is no longer on file.", subject),)
    if policy.patient_id != patient_id:
        return (error("POLICY_PATIENT", "That insurance policy belongs to another patient.", subject),)
    if policy.termination_date is not None and policy.termination_date < day:
        return (
            error(
                "POLICY_TERMINATED",
                f"The {policy.rank.value} policy (member {policy.member_id}) terminated on "
                f"{policy.termination_date:%m/%d/%Y}, before this visit. Choose a policy in force "
                "or record the patient's new coverage.",
                subject,
            ),
        )
    if policy.effective_date > day:
        return (
            error(
                "POLICY_NOT_STARTED",
                f"The {policy.rank.value} policy (member {policy.member_id}) starts on "
                f"{policy.effective_date:%m/%d/%Y}, after this visit.",
                subject,
            ),
        )
    return ()
