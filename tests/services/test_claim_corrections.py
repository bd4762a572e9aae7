"""Replacement, void and secondary claims: one action each, from what is on file, never retyped."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from infusion_desk.models import (
    Adjustment,
    Claim,
    InsurancePolicy,
    Payer,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from infusion_desk.models.enums import (
    AdjustmentGroup,
    ClaimStatus,
    PayerType,
    PolicyRank,
    SubscriberRelationship,
)
from infusion_desk.services.app import Services
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.errors import ValidationFailed

TODAY = date(2026, 11, 20)


@pytest.fixture
def claims(services: Services) -> tuple[Services, ClaimService]:
    generate_demo(services.db, patients=12, months=2, seed=3, today=TODAY)
    service = ClaimService(services.db)
    service.build(services.auth.sign_in("biller", "demo"), today=TODAY)
    return services, service


def _sent_claim(services: Services, icn: str | None = "PAYER-ICN-1") -> int:
    """A ready claim moved to accepted (as a 277CA would), with the payer's claim number."""
    with services.db.session() as session:
        claim = session.scalars(
            sa.select(Claim).where(Claim.status == ClaimStatus.READY).order_by(Claim.id).limit(1)
        ).one()
        claim.status = ClaimStatus.ACCEPTED
        claim.payer_claim_control_number = icn
        return claim.id


def test_a_replacement_carries_the_payers_claim_number_and_the_current_coding(
    claims: tuple[Services, ClaimService],
) -> None:
    services, service = claims
    actor = services.auth.sign_in("biller", "demo")
    original_id = _sent_claim(services)
    replacement_id = service.correct(actor, original_id, "Units corrected on the drug line", today=TODAY)
    detail = service.detail(actor, replacement_id, today=TODAY)
    original = service.detail(actor, original_id, today=TODAY)
    assert detail.row.frequency_code == "7" and detail.original_claim_number == original.row.claim_number
    assert detail.row.claim_number != original.row.claim_number
    (data,) = service.claim_data(actor, [replacement_id])
    assert data.frequency_code == "7" and data.payer_claim_control_number == "PAYER-ICN-1"
    assert [line.code for line in data.lines] == [line.code for line in original.lines]
    assert "Replacement of claim" in detail.history[0].reason
    # the replacement's own payer number (from its 277CA) never becomes its REF*F8
    with services.db.session() as session:
        replacement = session.get(Claim, replacement_id)
        assert replacement is not None
        replacement.payer_claim_control_number = "ICN-OF-THE-REPLACEMENT"
    (data,) = service.claim_data(actor, [replacement_id])
    assert data.payer_claim_control_number == "PAYER-ICN-1"
    with pytest.raises(ValidationFailed, match="already has correction"):
        service.correct(actor, original_id, "again", today=TODAY)


def test_a_void_repeats_the_original_with_frequency_8(claims: tuple[Services, ClaimService]) -> None:
    services, service = claims
    actor = services.auth.sign_in("biller", "demo")
    original_id = _sent_claim(services)
    void_id = service.void(actor, original_id, "Billed to the wrong payer", today=TODAY)
    (void, original) = service.claim_data(actor, [void_id, original_id])
    assert void.frequency_code == "8" and void.payer_claim_control_number == "PAYER-ICN-1"
    assert [(line.code, line.units, line.charge) for line in void.lines] == [
        (line.code, line.units, line.charge) for line in original.lines
    ]
    assert void.claim_number != original.claim_number


def test_corrections_need_a_sent_claim_with_the_payers_number(claims: tuple[Services, ClaimService]) -> None:
    services, service = claims
    actor = services.auth.sign_in("biller", "demo")
    with services.db.session() as session:
        ready = session.scalar(sa.select(Claim.id).where(Claim.status == ClaimStatus.READY).limit(1))
    assert ready is not None
    with pytest.raises(ValidationFailed, match="only a claim the payer has can be replaced"):
        service.correct(actor, ready, "fix", today=TODAY)
    no_number = _sent_claim(services, icn=None)
    with pytest.raises(ValidationFailed, match="payer's claim number .* is not on file yet"):
        service.void(actor, no_number, "wrong patient", today=TODAY)
    with pytest.raises(ValidationFailed, match="Say why"):
        service.void(actor, no_number, "  ", today=TODAY)


def _post_primary(services: Services, claim_id: int) -> None:
    """A remittance as the 835 posting will store it: paid 80%, the rest contractual and coinsurance."""
    with services.db.session() as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        remittance = Remittance(
            payer_identifier="DEMO", trace_number=f"EFT{claim_id}", payment_method="ACH",
            payment_date=date(2026, 11, 15), total_paid=Decimal("0"),
        )
        session.add(remittance)
        session.flush()
        remit_claim = RemittanceClaim(
            remittance_id=remittance.id, claim_id=claim.id, patient_control_number=claim.claim_number,
            status_code="1", total_charge=claim.total_charge, paid=Decimal("0"),
            patient_responsibility=Decimal("0"), payer_claim_control_number="PRIMARY-ICN-9",
        )
        session.add(remit_claim)
        session.flush()
        paid_total = Decimal("0")
        coinsurance_total = Decimal("0")
        for line in claim.lines:
            paid = (line.charge * Decimal("0.6")).quantize(Decimal("0.01"))
            coinsurance = (line.charge * Decimal("0.1")).quantize(Decimal("0.01"))
            contractual = line.charge - paid - coinsurance
            remit_line = RemittanceLine(
                remittance_claim_id=remit_claim.id, claim_line_id=line.id, code=line.code,
                modifiers=list(line.modifiers), service_date=line.service_date, charge=line.charge, paid=paid,
                units_paid=line.units, line_control_number=line.line_control_number,
            )
            session.add(remit_line)
            session.flush()
            session.add_all([
                Adjustment(remittance_claim_id=remit_claim.id, remittance_line_id=remit_line.id,
                           group_code=AdjustmentGroup.CO, reason_code="45", amount=contractual),
                Adjustment(remittance_claim_id=remit_claim.id, remittance_line_id=remit_line.id,
                           group_code=AdjustmentGroup.PR, reason_code="2", amount=coinsurance),
            ])
            paid_total += paid
            coinsurance_total += coinsurance
        remit_claim.paid = paid_total
        remit_claim.patient_responsibility = coinsurance_total
        remittance.total_paid = paid_total
        claim.status = ClaimStatus.PARTIALLY_PAID


def _add_secondary_policy(services: Services, claim_id: int) -> None:
    with services.db.session() as session:
        claim = session.get(Claim, claim_id)
        assert claim is not None
        payer = session.scalars(
            sa.select(Payer).where(Payer.id != claim.payer_id, Payer.payer_type == PayerType.COMMERCIAL).limit(1)
        ).one()
        for policy in session.scalars(
            sa.select(InsurancePolicy).where(
                InsurancePolicy.patient_id == claim.patient_id, InsurancePolicy.id != claim.policy_id
            )
        ):
            policy.effective_date, policy.termination_date = date(2019, 1, 1), date(2019, 12, 31)
        session.add(
            InsurancePolicy(
                patient_id=claim.patient_id, payer_id=payer.id, rank=PolicyRank.SECONDARY,
                member_id="SEC0001TEST", effective_date=date(2020, 1, 1),
                subscriber_relationship=SubscriberRelationship.SELF,
            )
        )


def test_a_secondary_claim_carries_the_primarys_remittance(claims: tuple[Services, ClaimService]) -> None:
    services, service = claims
    actor = services.auth.sign_in("biller", "demo")
    primary_id = _sent_claim(services)
    with pytest.raises(ValidationFailed, match="no posted remittance yet"):
        service.build_secondary(actor, primary_id, today=TODAY)
    _post_primary(services, primary_id)
    _add_secondary_policy(services, primary_id)
    secondary_id = service.build_secondary(actor, primary_id, today=TODAY)
    secondary, primary = service.claim_data(actor, [secondary_id, primary_id])
    assert secondary.responsibility == "S" and secondary.payer != primary.payer
    assert secondary.subscriber.member_id == "SEC0001TEST"
    (other,) = secondary.other_payers
    assert other.payer == primary.payer and other.responsibility == "P"
    assert other.payer_claim_control_number == "PRIMARY-ICN-9"
    assert other.adjudication_date == date(2026, 11, 15)
    assert [a.line_number for a in other.lines] == [line.line_number for line in secondary.lines]
    for line, adjudication in zip(secondary.lines, other.lines, strict=True):
        # each line balances: charge - adjustments = paid (x12.md §2 COB balancing)
        assert line.charge - sum(a.amount for a in adjudication.adjustments) == adjudication.paid
        assert {a.group for a in adjudication.adjustments} == {"CO", "PR"}
    assert other.paid == sum(a.paid for a in other.lines)
    with pytest.raises(ValidationFailed, match="already bills the next payer"):
        service.build_secondary(actor, primary_id, today=TODAY)


def test_no_secondary_policy_means_the_balance_is_the_patients(claims: tuple[Services, ClaimService]) -> None:
    services, service = claims
    actor = services.auth.sign_in("biller", "demo")
    primary_id = _sent_claim(services)
    _post_primary(services, primary_id)
    with services.db.session() as session:
        claim = session.get(Claim, primary_id)
        assert claim is not None
        for policy in session.scalars(
            sa.select(InsurancePolicy).where(
                InsurancePolicy.patient_id == claim.patient_id, InsurancePolicy.id != claim.policy_id
            )
        ):
            policy.effective_date, policy.termination_date = date(2019, 1, 1), date(2019, 12, 31)
    with pytest.raises(ValidationFailed, match="no secondary insurance"):
        service.build_secondary(actor, primary_id, today=TODAY)
