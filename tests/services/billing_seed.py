"""Remittances the tests post: a payer paying exported demo claims, and those claims by patient.

``paid`` answers a claim the way most test payers do (80% allowed, 80% of that paid, 20%
coinsurance), optionally denying one line; ``remittance`` wraps answers into one balanced
payment; ``exported_by_patient`` builds and exports the demo clinic's claims and groups what
the payer received by patient, with the ranks of each patient's policies.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.billing.remittance import (
    CasAdjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.models import Claim, InsurancePolicy, Payer
from infusion_desk.models.enums import EraPosting, PolicyRank
from infusion_desk.services.app import Services
from infusion_desk.services.batches import BatchService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import generate_demo

TODAY = date(2026, 11, 20)
CENT = Decimal("0.01")


def paid(claim: ClaimData, *, icn: str, deny_line: int | None = None) -> ClaimPayment:
    """The payer allows 80% of each line, pays 80% of that, the patient owes 20% coinsurance."""
    lines = []
    for index, line in enumerate(claim.lines, start=1):
        if index == deny_line:
            lines.append(
                ServicePayment(
                    code=line.code, modifiers=line.modifiers, charge=line.charge, paid=Decimal("0.00"),
                    service_date=line.service_date, line_control_number=line.control_number,
                    adjustments=(CasAdjustment("CO", "197", line.charge),), remark_codes=("N54",),
                )
            )
            continue
        allowed = (line.charge * Decimal("0.8")).quantize(CENT)
        payer_paid = (allowed * Decimal("0.8")).quantize(CENT)
        lines.append(
            ServicePayment(
                code=line.code, modifiers=line.modifiers, charge=line.charge, paid=payer_paid,
                service_date=line.service_date, line_control_number=line.control_number, allowed=allowed,
                adjustments=(
                    CasAdjustment("CO", "45", line.charge - allowed),
                    CasAdjustment("PR", "2", allowed - payer_paid),
                ),
            )
        )
    return ClaimPayment(
        patient_control_number=claim.claim_number, status_code="1",
        total_charge=sum((line.charge for line in claim.lines), Decimal("0.00")),
        paid=sum((line.paid for line in lines), Decimal("0.00")),
        patient_responsibility=sum(
            (a.amount for line in lines for a in line.adjustments if a.group == "PR"), Decimal("0.00")
        ),
        filing_indicator="CI", payer_claim_control_number=icn,
        patient_last_name=claim.patient.name.last, patient_first_name=claim.patient.name.first,
        member_id=claim.subscriber.member_id, lines=tuple(lines),
    )


def remittance(*claims: ClaimPayment, trace: str = "EFT0001", plb: tuple[ProviderAdjustment, ...] = ()) -> Remittance:
    return Remittance(
        trace_number=trace, payer_identifier="1999999999", payer_name="FICTIONAL HEALTH PLAN",
        payment_method="ACH", payment_date=TODAY,
        total_paid=sum((c.paid for c in claims), Decimal("0.00")) - sum((p.amount for p in plb), Decimal(0)),
        claims=claims, provider_adjustments=plb,
    )


def exported_by_patient(
    services: Services, out_dir: Path, *, patients: int = 6
) -> tuple[dict[int, list[ClaimData]], dict[int, set[PolicyRank]]]:
    """The demo clinic's claims built and exported (every payer posting at once), by patient, oldest first."""
    generate_demo(services.db, patients=patients, months=2, seed=5, today=TODAY)
    biller = services.auth.sign_in("biller", "demo")
    ClaimService(services.db).build(biller, today=TODAY)
    summary = BatchService(services.db).export(biller, out_dir=out_dir, today=TODAY)
    exported = [c for f in summary.files for c in read_837p(f.path.read_text(encoding="ascii"))]
    by_patient: dict[int, list[ClaimData]] = {}
    ranks: dict[int, set[PolicyRank]] = {}
    with services.db.session() as session:
        session.execute(sa.update(Payer).values(era_posting=EraPosting.ALL))
        for claim in exported:
            patient_id = session.scalars(
                sa.select(Claim.patient_id).where(Claim.claim_number == claim.claim_number)
            ).one()
            by_patient.setdefault(patient_id, []).append(claim)
            ranks[patient_id] = set(
                session.scalars(sa.select(InsurancePolicy.rank).where(InsurancePolicy.patient_id == patient_id))
            )
    for claims in by_patient.values():
        claims.sort(key=lambda c: (c.lines[0].service_date, c.claim_number))
    return by_patient, ranks
