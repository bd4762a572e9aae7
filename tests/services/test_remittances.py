"""835 posting: claims exported by the app, paid by a remittance, posted to the cent, once."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.billing.denials import appeal_deadline
from infusion_desk.billing.remittance import (
    CasAdjustment,
    ClaimPayment,
    ProviderAdjustment,
)
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.models import (
    Adjustment,
    Claim,
    ClaimLine,
    DenialWorkItem,
    InboundFile,
    InsurancePolicy,
    Payer,
    RemittanceClaim,
    RemittanceLine,
)
from infusion_desk.models import (
    ProviderAdjustment as ProviderAdjustmentRow,
)
from infusion_desk.models import (
    Remittance as RemittanceRow,
)
from infusion_desk.models.enums import (
    ClaimStatus,
    DenialCategory,
    EraPosting,
    LineResponsibility,
    PolicyRank,
    WorkItemStatus,
)
from infusion_desk.services.app import Services
from infusion_desk.services.batches import BatchService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.remittances import RemittanceService
from tests.billing.x12.remit_fixtures import write_835
from tests.services.billing_seed import TODAY
from tests.services.billing_seed import paid as _paid
from tests.services.billing_seed import remittance as _remittance


@pytest.fixture
def exported(services: Services, tmp_path: Path) -> tuple[Services, tuple[ClaimData, ...]]:
    """A small demo clinic whose claims were built and exported: the 837P the payer received."""
    generate_demo(services.db, patients=10, months=2, seed=5, today=TODAY)
    biller = services.auth.sign_in("biller", "demo")
    ClaimService(services.db).build(biller, today=TODAY)
    summary = BatchService(services.db).export(biller, out_dir=tmp_path, today=TODAY)
    claims = tuple(c for f in summary.files for c in read_837p(f.path.read_text(encoding="ascii")))
    assert len(claims) >= 4
    _posting(services, EraPosting.ALL)  # these tests post at once; the review setting has its own tests
    return services, claims


def _posting(services: Services, mode: EraPosting) -> None:
    with services.db.session() as session:
        session.execute(sa.update(Payer).values(era_posting=mode))


def _counts(services: Services) -> tuple[int, ...]:
    with services.db.session() as session:
        return tuple(
            session.scalar(sa.select(sa.func.count()).select_from(model)) or 0
            for model in (RemittanceRow, RemittanceClaim, RemittanceLine, Adjustment, ProviderAdjustmentRow)
        )


def _claim(services: Services, number: str) -> Claim:
    with services.db.session() as session:
        claim = session.scalars(sa.select(Claim).where(Claim.claim_number == number)).one()
        session.expunge(claim)
        return claim


def test_a_remittance_for_exported_claims_posts_every_line_to_the_cent(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    services, claims = exported
    first, second, third = claims[:3]
    payments = (
        _paid(first, icn="ICN-1"),
        _paid(second, icn="ICN-2", deny_line=1) if len(second.lines) > 1 else _paid(second, icn="ICN-2"),
        _paid(third, icn="ICN-3"),
    )
    text = write_835(_remittance(*payments, plb=(ProviderAdjustment("WO", "OLDCLAIM1", Decimal("12.50")),)))
    result = RemittanceService(services.db).import_text(services.auth.sign_in("biller", "demo"), text, "era.835")

    assert result.payments == 1 and result.review == []
    assert sorted(result.claims_posted) == sorted(c.claim_number for c in (first, second, third))
    assert result.paid == sum((p.paid for p in payments), Decimal("0.00"))
    assert result.provider_adjustments == Decimal("12.50")
    paid_claim = _claim(services, first.claim_number)
    assert paid_claim.status is ClaimStatus.PAID  # a batched claim the payer paid: received, then paid
    assert paid_claim.payer_claim_control_number == "ICN-1"
    with services.db.session() as session:
        rows = session.execute(
            sa.select(RemittanceLine.paid, RemittanceLine.claim_line_id, RemittanceLine.line_control_number)
            .join(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
            .where(RemittanceClaim.patient_control_number == first.claim_number)
            .order_by(RemittanceLine.id)
        ).all()
        # every line found its way home by its REF*6R, with the payer's amount to the cent
        assert [r.paid for r in rows] == [line.paid for line in payments[0].lines]
        assert all(r.claim_line_id is not None for r in rows)
        coinsurance = session.scalar(
            sa.select(sa.func.count()).select_from(Adjustment).where(Adjustment.reason_code == "2")
        )
        assert coinsurance == sum(len(p.lines) for p in payments) - (1 if len(second.lines) > 1 else 0)
        assert session.scalar(sa.select(ProviderAdjustmentRow.reference)) == "OLDCLAIM1"
    if len(second.lines) > 1:
        assert _claim(services, second.claim_number).status is ClaimStatus.PARTIALLY_PAID
        assert second.claim_number in result.partially_paid
    # the one denied line (CO-197, no authorization) is a work item; contractual CO-45 and the
    # patient's coinsurance never are
    with services.db.session() as session:
        items = session.scalars(sa.select(DenialWorkItem)).all()
    expected = 1 if len(second.lines) > 1 else 0
    assert len(items) == expected == result.denials_opened
    if expected:
        assert items[0].reason_code == "197" and items[0].category is DenialCategory.AUTHORIZATION
        assert items[0].remark_codes == ["N54"] and items[0].amount == second.lines[0].charge


def test_the_same_file_or_the_same_payment_never_posts_twice(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    services, claims = exported
    biller = services.auth.sign_in("biller", "demo")
    service = RemittanceService(services.db)
    text = write_835(_remittance(_paid(claims[0], icn="ICN-1")))
    service.import_text(biller, text, "era.835")
    posted = _counts(services)

    again = service.import_text(biller, text, "era-copy.835")
    assert again.already_imported and "already imported" in again.text()
    # the same payment (trace number) inside another file, e.g. re-sent with another control number
    resent = service.import_text(biller, write_835(_remittance(_paid(claims[0], icn="ICN-1")), control_number=9), "x.835")
    assert resent.already_posted and resent.claims_posted == []
    assert "posted before" in resent.text()
    assert _counts(services) == posted


def test_a_denied_claim_and_an_unknown_claim(exported: tuple[Services, tuple[ClaimData, ...]]) -> None:
    services, claims = exported
    target = claims[0]
    denied = _paid(target, icn="ICN-9", deny_line=1)
    denied = replace(
        denied,
        lines=tuple(
            replace(
                line,
                paid=Decimal("0.00"),
                allowed=None,
                adjustments=(CasAdjustment("CO", "50", line.charge),),
                remark_codes=(),
            )
            for line in denied.lines
        ),
    )
    denied = replace(denied, paid=Decimal("0.00"), patient_responsibility=Decimal("0.00"))
    stranger = replace(_paid(claims[1], icn="ICN-X"), patient_control_number="C9999999")
    result = RemittanceService(services.db).import_text(
        services.auth.sign_in("biller", "demo"), write_835(_remittance(denied, stranger)), "era.835"
    )
    assert _claim(services, target.claim_number).status is ClaimStatus.DENIED
    assert result.denied == [target.claim_number]
    # every denied line becomes a work item with its reason, money at stake and appeal deadline
    with services.db.session() as session:
        items = session.execute(
            sa.select(DenialWorkItem, Payer.payer_type)
            .join(Claim, Claim.id == DenialWorkItem.claim_id)
            .join(Payer, Payer.id == Claim.payer_id)
            .where(Claim.claim_number == target.claim_number)
        ).all()
    assert len(items) == len(target.lines) == result.denials_opened
    assert all(item.reason_code == "50" and item.category is DenialCategory.MEDICAL_NECESSITY for item, _ in items)
    assert sorted(item.amount for item, _ in items) == sorted(line.charge for line in target.lines)
    assert all(item.status is WorkItemStatus.OPEN and item.claim_line_id for item, _ in items)
    with services.db.session() as session:
        window = session.scalar(
            sa.select(Payer.appeal_days).join(Claim, Claim.payer_id == Payer.id).where(
                Claim.claim_number == target.claim_number
            )
        )
    # the payer's own appeal window, counted from the remittance date
    assert items[0][0].appeal_deadline == appeal_deadline(TODAY, items[0][1].value, window)
    assert "denial(s) to work" in result.text()
    # nothing is dropped: the unknown claim's payment is kept for review, with the reason
    assert any("No claim numbered C9999999" in item for item in result.review)
    with services.db.session() as session:
        kept = session.scalars(
            sa.select(RemittanceClaim).where(RemittanceClaim.patient_control_number == "C9999999")
        ).one()
        assert kept.claim_id is None and kept.unmatched_reason and kept.paid == stranger.paid


def test_lines_are_found_without_the_line_control_number_when_the_payer_changed_them(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    services, claims = exported
    claim = next(c for c in claims if any("JW" in line.modifiers or "JZ" in line.modifiers for line in c.lines))
    payment = _paid(claim, icn="ICN-7")
    # the payer drops REF*6R and the JW/JZ modifier, and reports what we billed in SVC06
    changed = tuple(
        replace(
            line,
            line_control_number=None,
            modifiers=tuple(m for m in line.modifiers if m not in ("JW", "JZ")),
            original_code=line.code,
            original_modifiers=line.modifiers,
        )
        for line in payment.lines
    )
    result = RemittanceService(services.db).import_text(
        services.auth.sign_in("biller", "demo"), write_835(_remittance(replace(payment, lines=changed))), "e.835"
    )
    assert result.review == []
    with services.db.session() as session:
        matched = session.scalars(
            sa.select(RemittanceLine.claim_line_id)
            .join(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
            .where(RemittanceClaim.patient_control_number == claim.claim_number)
        ).all()
    assert len(matched) == len(claim.lines) and None not in matched and len(set(matched)) == len(matched)


def test_a_reversal_and_its_correction_in_one_file(exported: tuple[Services, tuple[ClaimData, ...]]) -> None:
    services, claims = exported
    biller = services.auth.sign_in("biller", "demo")
    service = RemittanceService(services.db)
    claim = next(c for c in claims if len(c.lines) > 1)
    first = _paid(claim, icn="ICN-1")
    service.import_text(biller, write_835(_remittance(first, trace="CHK100")), "first.835")
    assert _claim(services, claim.claim_number).status is ClaimStatus.PAID

    def negated(payment: ClaimPayment) -> ClaimPayment:
        return replace(
            payment,
            status_code="22",
            total_charge=-payment.total_charge,
            paid=-payment.paid,
            patient_responsibility=-payment.patient_responsibility,
            lines=tuple(
                replace(
                    line,
                    charge=-line.charge,
                    paid=-line.paid,
                    allowed=None,
                    adjustments=tuple(replace(a, amount=-a.amount) for a in line.adjustments),
                )
                for line in payment.lines
            ),
        )

    corrected = _paid(claim, icn="ICN-1B", deny_line=1)
    result = service.import_text(
        biller, write_835(_remittance(negated(first), corrected, trace="CHK200")), "second.835"
    )
    assert result.reversals == [claim.claim_number]
    assert _claim(services, claim.claim_number).status is ClaimStatus.PARTIALLY_PAID
    assert _claim(services, claim.claim_number).payer_claim_control_number == "ICN-1B"
    with services.db.session() as session:
        net = session.scalar(
            sa.select(sa.func.sum(RemittanceClaim.paid)).where(
                RemittanceClaim.patient_control_number == claim.claim_number
            )
        )
    assert Decimal(net) == corrected.paid  # paid, taken back, paid again: what the clinic holds


def test_a_reversal_alone_puts_the_claim_back_with_the_payer_and_closes_the_denials_it_took_back(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    from infusion_desk.services.denials import DenialService

    services, claims = exported
    biller = services.auth.sign_in("biller", "demo")
    service = RemittanceService(services.db)
    claim = next(c for c in claims if len(c.lines) > 1)
    first = _paid(claim, icn="ICN-1", deny_line=1)
    service.import_text(biller, write_835(_remittance(first, trace="CHK100")), "first.835")
    assert _claim(services, claim.claim_number).status is ClaimStatus.PARTIALLY_PAID
    assert len(DenialService(services.db).work_queue(biller)) == 1

    assert _lines(services, claim.claim_number)[1].paid > 0
    reversal = replace(
        first, status_code="22", total_charge=-first.total_charge, paid=-first.paid,
        patient_responsibility=-first.patient_responsibility,
        lines=tuple(
            replace(line, charge=-line.charge, paid=-line.paid, allowed=None,
                    adjustments=tuple(replace(a, amount=-a.amount) for a in line.adjustments))
            for line in first.lines
        ),
    )
    result = service.import_text(biller, write_835(_remittance(reversal, trace="CHK200")), "reversal.835")
    assert result.reversals == [claim.claim_number]
    assert result.denials_opened == 0
    assert _claim(services, claim.claim_number).status is ClaimStatus.ACCEPTED
    for line in _lines(services, claim.claim_number):  # the payer took it all back: the payer's again
        assert (line.paid, line.adjusted, line.patient_responsibility) == (Decimal("0.00"),) * 3
        assert line.responsibility is LineResponsibility.INSURANCE_PENDING
    denials = DenialService(services.db)
    assert denials.work_queue(biller) == []
    (closed,) = denials.work_queue(biller, include_closed=True)
    assert closed.status == "closed"

    # the payer's corrected payment, in a later file, adjudicates the claim again
    service.import_text(biller, write_835(_remittance(_paid(claim, icn="ICN-2"), trace="CHK300")), "again.835")
    assert _claim(services, claim.claim_number).status is ClaimStatus.PAID


def _lines(services: Services, number: str) -> list[ClaimLine]:
    with services.db.session() as session:
        claim = session.scalars(sa.select(Claim).where(Claim.claim_number == number)).one()
        lines = sorted(claim.lines, key=lambda line: line.line_number)
        session.expunge_all()
        return lines


def test_posting_splits_each_line_among_payer_contract_and_patient_and_denial_decisions_move_it(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    from infusion_desk.services.denials import DenialService

    services, claims = exported
    biller = services.auth.sign_in("biller", "demo")
    claim = next(c for c in claims if len(c.lines) > 1)
    before = _lines(services, claim.claim_number)
    assert {line.responsibility for line in before} == {LineResponsibility.INSURANCE_PENDING}
    payment = _paid(claim, icn="ICN-1", deny_line=1)
    RemittanceService(services.db).import_text(biller, write_835(_remittance(payment)), "e.835")

    lines = _lines(services, claim.claim_number)
    with services.db.session() as session:
        claim_row = session.scalars(sa.select(Claim).where(Claim.claim_number == claim.claim_number)).one()
        later = [
            p for p in session.scalars(sa.select(InsurancePolicy).where(InsurancePolicy.patient_id == claim_row.patient_id))
            if p.id != claim_row.policy_id and p.rank is not PolicyRank.PRIMARY
        ]
    after_primary = LineResponsibility.SECONDARY_PENDING if later else LineResponsibility.PATIENT_DUE
    denied, *paid_lines = lines
    assert (denied.paid, denied.adjusted, denied.patient_responsibility) == (Decimal("0.00"),) * 3
    assert denied.responsibility is LineResponsibility.INSURANCE_PENDING  # never billed to the patient
    for line, answer in zip(paid_lines, payment.lines[1:], strict=True):
        allowed = answer.allowed
        assert allowed is not None
        assert line.paid == answer.paid
        assert line.adjusted == line.charge - allowed
        assert line.patient_responsibility == allowed - answer.paid
        assert line.paid + line.adjusted + line.patient_responsibility == line.charge
        assert line.responsibility is after_primary

    (item,) = DenialService(services.db).work_queue(biller)
    DenialService(services.db).transfer_to_patient(biller, item.id, "Waiver signed 11/02/2026")
    denied = _lines(services, claim.claim_number)[0]
    assert denied.patient_responsibility == denied.charge
    assert denied.responsibility is after_primary


def test_a_payment_made_out_to_another_npi_waits_for_review_even_when_the_payer_posts_at_once(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    from infusion_desk.models import Clinic

    services, claims = exported
    biller = services.auth.sign_in("biller", "demo")
    service = RemittanceService(services.db)
    stranger = replace(_remittance(_paid(claims[0], icn="I1"), trace="EFT-OTHER"), payee_npi="1999999976")
    result = service.import_text(biller, write_835(stranger), "other.835")
    assert result.held and "made out to NPI 1999999976, which is not the clinic's" in result.held[0]
    assert _claim(services, claims[0].claim_number).status is ClaimStatus.BATCHED

    with services.db.session() as session:
        clinic_npi = session.scalars(sa.select(Clinic.npi)).first()
    ours = replace(_remittance(_paid(claims[1], icn="I2"), trace="EFT-OURS"), payee_npi=clinic_npi)
    assert not service.import_text(biller, write_835(ours), "ours.835").held
    assert _claim(services, claims[1].claim_number).status is ClaimStatus.PAID


def test_a_file_that_does_not_balance_posts_nothing_and_says_where(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    services, claims = exported
    remittance = _remittance(_paid(claims[0], icn="ICN-1"))
    wrong = replace(remittance, total_paid=remittance.total_paid + Decimal("1.00"))
    with pytest.raises(ValidationFailed, match=r"does not balance.*BPR02") as raised:
        RemittanceService(services.db).import_text(services.auth.sign_in("biller", "demo"), write_835(wrong), "e.835")
    assert "nothing was posted" in raised.value.findings[0].message
    assert _counts(services) == (0, 0, 0, 0, 0)
    with services.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(InboundFile)) == 0


def test_a_damaged_file_is_refused_with_the_segment_to_fix(
    exported: tuple[Services, tuple[ClaimData, ...]], tmp_path: Path
) -> None:
    services, claims = exported
    text = write_835(_remittance(_paid(claims[0], icn="ICN-1")))
    damaged = tmp_path / "damaged.835"
    damaged.write_text(text.replace("CLP*", "CLP*X*", 1).replace("*1*", "*ONE*", 1), encoding="ascii")
    service = RemittanceService(services.db)
    with pytest.raises(ValidationFailed, match=r"not a readable 835 remittance: segment \d+"):
        service.import_file(services.auth.sign_in("biller", "demo"), damaged)
    with pytest.raises(ValidationFailed, match="Cannot read"):
        service.import_file(services.auth.sign_in("biller", "demo"), tmp_path / "missing.835")
    assert _counts(services) == (0, 0, 0, 0, 0)


def test_only_billers_post_remittances(exported: tuple[Services, tuple[ClaimData, ...]]) -> None:
    services, claims = exported
    with pytest.raises(PermissionDenied):
        RemittanceService(services.db).import_text(
            services.auth.sign_in("frontdesk", "demo"), write_835(_remittance(_paid(claims[0], icn="I"))), "e.835"
        )


SAMPLE_DIR = Path("/work/shared/x12-samples/835")  # the public samples, as tests/billing/x12 reads them
SAMPLES = sorted(
    p for p in (SAMPLE_DIR.iterdir() if SAMPLE_DIR.is_dir() else ()) if "fail" not in p.name and "error" not in p.name
)


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_public_835_samples_post_their_claims_to_the_review_list(sqlite_services: Services, sample: Path) -> None:
    """Other people's files pay claims this clinic never sent: each one is kept for review, never dropped."""
    from infusion_desk.billing.remittance import balance_problems
    from infusion_desk.billing.x12.remit835 import read_835
    from infusion_desk.billing.x12.syntax import X12Error
    from infusion_desk.models.enums import Role
    from tests.conftest import make_actor

    services = sqlite_services
    actor = make_actor(services, Role.BILLER)
    text = sample.read_text(encoding="utf-8", errors="replace")
    service = RemittanceService(services.db)
    try:
        remittances = read_835(text)
    except X12Error as exc:  # tests/billing/x12/test_remit835.py says which samples are damaged and how
        with pytest.raises(ValidationFailed, match="not a readable 835 remittance") as refused:
            service.import_text(actor, text, sample.name)
        assert str(exc.segment_number) in refused.value.findings[0].message
        assert _counts(services) == (0, 0, 0, 0, 0)
        return
    if any(balance_problems(r) for r in remittances):
        with pytest.raises(ValidationFailed, match="does not balance"):
            service.import_text(actor, text, sample.name)
        assert _counts(services) == (0, 0, 0, 0, 0)
        return
    result = service.import_text(actor, text, sample.name)
    claims = sum(len(r.claims) for r in remittances)
    assert result.claims_posted == [] and len([i for i in result.review if "No claim numbered" in i]) == claims
    assert _counts(services)[1] == claims  # every CLP kept, with the reason it waits
    assert len(service.review_items(actor)) == claims


def test_the_denial_work_queue_puts_the_most_money_first_with_the_reason_in_words(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    from infusion_desk.services.denials import DenialService

    services, claims = exported
    first, second = claims[0], claims[1]
    RemittanceService(services.db).import_text(
        services.auth.sign_in("biller", "demo"),
        write_835(_remittance(_paid(first, icn="I1", deny_line=1), _paid(second, icn="I2", deny_line=1))),
        "e.835",
    )
    queue = DenialService(services.db).work_queue(services.auth.sign_in("biller", "demo"))
    assert [row.claim_number for row in queue] == [
        c.claim_number for c in sorted((first, second), key=lambda c: -c.lines[0].charge)
    ]
    top = queue[0]
    assert top.adjustment == "CO-197" and top.category == "authorization"
    assert "authorization" in top.reason.lower() and top.action  # plain words and the next step
    assert top.appeal_deadline is not None and top.appeal_deadline > TODAY
    assert top.status == "open" and top.code == next(c for c in (first, second) if c.claim_number == top.claim_number).lines[0].code
    with pytest.raises(PermissionDenied):
        DenialService(services.db).work_queue(services.auth.sign_in("frontdesk", "demo"))


def test_by_default_a_payment_waits_for_review_and_then_posts_exactly_as_at_once(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    services, claims = exported
    _posting(services, EraPosting.REVIEW)  # what a new payer starts with
    biller = services.auth.sign_in("biller", "demo")
    service = RemittanceService(services.db)
    claim = next(c for c in claims if len(c.lines) > 1)
    result = service.import_text(
        biller, write_835(_remittance(_paid(claim, icn="ICN-R", deny_line=1))), "review.835"
    )
    # stored whole, but nothing happened to the claim yet
    assert result.claims_posted == [] and len(result.held) == 1 and "waiting for review" in result.text()
    held = _claim(services, claim.claim_number)
    assert held.status is ClaimStatus.BATCHED and held.payer_claim_control_number is None
    (row,) = service.remittances(biller)
    assert row.posted_at is None and row.claims == 1
    with services.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(DenialWorkItem)) == 0

    posted = service.post(biller, row.id)
    assert posted.claims_posted == [claim.claim_number] and posted.denials_opened == 1
    after = _claim(services, claim.claim_number)
    assert after.status is ClaimStatus.PARTIALLY_PAID and after.payer_claim_control_number == "ICN-R"
    assert service.remittances(biller)[0].posted_at is not None
    with pytest.raises(ValidationFailed, match="already posted"):
        service.post(biller, row.id)


def test_matched_only_posts_a_complete_payment_and_holds_one_with_a_stranger(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    services, claims = exported
    _posting(services, EraPosting.MATCHED)
    biller = services.auth.sign_in("biller", "demo")
    service = RemittanceService(services.db)
    complete = service.import_text(biller, write_835(_remittance(_paid(claims[0], icn="A"), trace="T1")), "a.835")
    assert complete.claims_posted == [claims[0].claim_number] and complete.held == []
    stranger = replace(_paid(claims[2], icn="X"), patient_control_number="C9999998")
    partial = service.import_text(
        biller, write_835(_remittance(_paid(claims[1], icn="B"), stranger, trace="T2")), "b.835"
    )
    assert partial.claims_posted == [] and "not every claim and line found its match" in partial.held[0]
    assert _claim(services, claims[1].claim_number).status is ClaimStatus.BATCHED


def test_a_paper_eob_typed_in_posts_at_once_through_the_same_records(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    services, claims = exported
    _posting(services, EraPosting.REVIEW)  # typing the EOB is the review: it posts at once
    biller = services.auth.sign_in("biller", "demo")
    service = RemittanceService(services.db)
    eob = _remittance(_paid(claims[0], icn="PAPER-1"), trace="CHECK 10442")
    result = service.enter(biller, eob)
    assert result.claims_posted == [claims[0].claim_number] and result.held == []
    assert _claim(services, claims[0].claim_number).status is ClaimStatus.PAID
    (row,) = service.remittances(biller)
    assert row.file_name == "entered by hand" and row.posted_at is not None and row.trace_number == "CHECK 10442"
    with pytest.raises(ValidationFailed, match="already posted"):
        service.enter(biller, eob)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda eob: replace(eob, total_paid=eob.total_paid + Decimal("0.01")), "BPR02"),
        (lambda eob: replace(eob, trace_number="  "), "check or EFT number"),
        (lambda eob: replace(eob, claims=()), "Add the claims"),
        (
            lambda eob: replace(eob, claims=(replace(eob.claims[0], patient_control_number="C4040404"),)),
            "No claim numbered C4040404",
        ),
        (
            lambda eob: replace(
                eob,
                claims=(
                    replace(
                        eob.claims[0],
                        lines=tuple(
                            replace(line, line_control_number=None, code="99999") for line in eob.claims[0].lines
                        ),
                    ),
                ),
            ),
            "matches none of the claim's lines",
        ),
    ],
)
def test_a_paper_eob_with_a_mistake_saves_nothing_and_says_what_to_correct(
    exported: tuple[Services, tuple[ClaimData, ...]], change: Any, message: str
) -> None:
    services, claims = exported
    eob = change(_remittance(_paid(claims[0], icn="PAPER-1"), trace="CHECK 7"))
    with pytest.raises(ValidationFailed, match=message):
        RemittanceService(services.db).enter(services.auth.sign_in("biller", "demo"), eob)
    assert _counts(services) == (0, 0, 0, 0, 0)
    assert _claim(services, claims[0].claim_number).status is ClaimStatus.BATCHED


def test_a_denial_is_taken_then_transferred_or_written_off_only_with_a_managers_approval(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    from infusion_desk.services.denials import DenialService

    services, claims = exported
    biller = services.auth.sign_in("biller", "demo")
    manager = services.auth.sign_in("manager", "demo")
    RemittanceService(services.db).import_text(
        biller,
        write_835(_remittance(_paid(claims[0], icn="I1", deny_line=1), _paid(claims[1], icn="I2", deny_line=1))),
        "e.835",
    )
    service = DenialService(services.db)
    first, second = service.work_queue(biller)
    service.take(biller, first.id)
    taken = next(r for r in service.work_queue(biller) if r.id == first.id)
    assert taken.owner == "biller" and taken.status == "in progress"

    with pytest.raises(ValidationFailed, match="Say why"):
        service.transfer_to_patient(biller, first.id, "  ")
    service.transfer_to_patient(biller, first.id, "Waiver signed 11/02/2026")
    assert [r.id for r in service.work_queue(biller)] == [second.id]  # worked items leave the queue
    with pytest.raises(ValidationFailed, match="already transferred to patient"):
        service.request_write_off(biller, first.id, "too late")

    with pytest.raises(ValidationFailed, match="Only a write-off a biller asked for"):
        service.approve_write_off(manager, second.id)
    service.request_write_off(biller, second.id, "Authorization never obtained; clinic error")
    with pytest.raises(PermissionDenied):
        service.approve_write_off(biller, second.id)  # a biller cannot write money off alone
    assert next(r for r in service.work_queue(biller) if r.id == second.id).status == "write off requested"
    service.approve_write_off(manager, second.id)
    assert service.work_queue(biller) == []
    closed = {r.id: r.status for r in service.work_queue(biller, include_closed=True)}
    assert closed == {first.id: "transferred to patient", second.id: "written off"}


def test_a_write_off_needs_a_second_person_to_approve_it(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    from infusion_desk.services.denials import DenialService

    services, claims = exported
    manager = services.auth.sign_in("manager", "demo")
    RemittanceService(services.db).import_text(
        manager, write_835(_remittance(_paid(claims[0], icn="I1", deny_line=1))), "e.835"
    )
    service = DenialService(services.db)
    (item,) = service.work_queue(manager)
    service.request_write_off(manager, item.id, "Authorization never obtained; clinic error")
    with pytest.raises(ValidationFailed, match="another manager must approve it"):
        service.approve_write_off(manager, item.id)
    assert service.work_queue(manager)[0].status == "write off requested"
    service.approve_write_off(services.auth.sign_in("admin", "demo"), item.id)
    assert service.work_queue(manager) == []


def test_correct_and_resubmit_builds_a_replacement_claim_and_closes_the_claims_denials_with_it(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    from infusion_desk.services.denials import DenialService

    services, claims = exported
    biller = services.auth.sign_in("biller", "demo")
    denied = next(c for c in claims if len(c.lines) >= 2)
    remittance = _paid(denied, icn="ICN-DENIED", deny_line=1)
    both_denied = replace(
        remittance,
        lines=(remittance.lines[0], replace(remittance.lines[0], code=denied.lines[1].code,
                                             modifiers=denied.lines[1].modifiers,
                                             charge=denied.lines[1].charge,
                                             line_control_number=denied.lines[1].control_number,
                                             adjustments=(CasAdjustment("CO", "4", denied.lines[1].charge),)),
               *remittance.lines[2:]),
    )
    both_denied = replace(both_denied, paid=sum((line.paid for line in both_denied.lines), Decimal("0.00")))
    RemittanceService(services.db).import_text(biller, write_835(_remittance(both_denied)), "e.835")
    service = DenialService(services.db)
    items = service.work_queue(biller)
    assert len(items) == 2

    with pytest.raises(ValidationFailed, match="Say what the corrected claim fixes"):
        service.correct_and_resubmit(biller, items[0].id, " ")
    with pytest.raises(PermissionDenied):
        service.correct_and_resubmit(services.auth.sign_in("frontdesk", "demo"), items[0].id, "JW added")
    assert len(service.work_queue(biller)) == 2

    replacement_id = service.correct_and_resubmit(biller, items[0].id, "Modifier corrected; JW added")
    (data,) = ClaimService(services.db).claim_data(biller, [replacement_id])
    assert data.frequency_code == "7" and data.payer_claim_control_number == "ICN-DENIED"
    with services.db.session() as session:
        replacement = session.get_one(Claim, replacement_id)
        rows = session.scalars(sa.select(DenialWorkItem).where(DenialWorkItem.claim_id == replacement.original_claim_id)).all()
        assert {(r.status, r.replacement_claim_id) for r in rows} == {(WorkItemStatus.RESUBMITTED, replacement_id)}
        assert all(replacement.claim_number in (r.resolution_note or "") for r in rows)
    assert service.work_queue(biller) == []
    with pytest.raises(ValidationFailed, match="already resubmitted"):
        service.correct_and_resubmit(biller, items[1].id, "again")


def test_denial_analytics_give_the_rate_by_payer_the_dollars_by_category_and_the_age_of_open_denials(
    exported: tuple[Services, tuple[ClaimData, ...]],
) -> None:
    from datetime import timedelta

    from infusion_desk.models import Appeal
    from infusion_desk.services.denials import DenialService

    services, claims = exported
    biller = services.auth.sign_in("biller", "demo")
    denied, paid = claims[0], claims[1:4]
    RemittanceService(services.db).import_text(
        biller,
        write_835(_remittance(_paid(denied, icn="D", deny_line=1), *(_paid(c, icn=c.claim_number) for c in paid))),
        "e.835",
    )
    service = DenialService(services.db)
    with services.db.session() as session:  # an appeal that won money back
        item = session.scalars(sa.select(DenialWorkItem)).first()
        assert item is not None
        session.add(
            Appeal(work_item_id=item.id, claim_id=item.claim_id, recovered=Decimal("123.45"), outcome_on=TODAY)
        )
    manager = services.auth.sign_in("manager", "demo")
    figures = service.analytics(manager, since=TODAY - timedelta(days=30), today=TODAY + timedelta(days=40))

    assert figures.overall.claims == 4 and figures.overall.denied_claims == 1
    assert figures.overall.rate == Decimal("25.0")
    assert figures.overall.denied_amount == denied.lines[0].charge
    assert sum(r.claims for r in figures.by_payer) == 4
    assert [r.key for r in figures.by_month] == [TODAY.strftime("%Y-%m")]
    assert [(r.key, r.amount) for r in figures.by_category] == [("authorization", denied.lines[0].charge)]
    assert [(r.key, r.amount) for r in figures.by_code] == [(denied.lines[0].code, denied.lines[0].charge)]
    # one of the four claims answered had an authorization denial (on that drug): 25.0%
    assert [(r.claims, r.rate) for r in figures.by_category] == [(1, Decimal("25.0"))]
    assert [(r.claims, r.rate) for r in figures.by_code] == [(1, Decimal("25.0"))]
    ages = {r.key: r.amount for r in figures.open_by_age}
    assert ages["31-60 days"] == denied.lines[0].charge and ages["0-30 days"] == Decimal("0.00")
    assert figures.recovered == Decimal("123.45")
    # a period that starts after the payment has nothing adjudicated in it
    later = service.analytics(manager, since=TODAY + timedelta(days=1), today=TODAY + timedelta(days=40))
    assert later.overall.claims == 0 and later.overall.rate == Decimal("0.0")
    assert later.recovered == Decimal("0.00")  # won before the period began
    with pytest.raises(PermissionDenied):
        service.analytics(services.auth.sign_in("nurse", "demo"), since=TODAY)


def test_denial_rates_round_half_up_like_the_denial_rate_report() -> None:
    from infusion_desk.services.denials import AmountRow, RateRow

    # 1 of 16 claims is 6.25%: the figures page and the reports both show 6.3%
    assert RateRow("all payers", 16, 1, Decimal("10.00")).rate == Decimal("6.3")
    assert AmountRow("authorization", 1, Decimal("10.00"), claims=1, answered=16).rate == Decimal("6.3")
    assert RateRow("none", 0, 0, Decimal("0.00")).rate == Decimal("0.0")
