"""Appeals: a claim the payer denied (by an 835 the app posts), the letter drafted from the record, sent, decided."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.models import (
    Administration,
    Appeal,
    AuditEvent,
    Claim,
    DenialWorkItem,
    Payer,
    Setting,
    Visit,
)
from infusion_desk.models.enums import AppealStatus, ClaimStatus, EraPosting, WorkItemStatus
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.appeals import AppealService
from infusion_desk.services.batches import BatchService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.denials import DenialService
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.remittances import RemittanceService
from tests.billing.x12.remit_fixtures import write_835

TODAY = date(2026, 11, 20)
ICN = "ICN-APPEAL-1"


@pytest.fixture
def denied(services: Services, tmp_path: Path) -> tuple[Services, ClaimData, int]:
    """A demo clinic's claim, exported, whose costliest drug line the payer denied: CO-197 (no authorization)."""
    generate_demo(services.db, patients=10, months=2, seed=5, today=TODAY)
    biller = _biller(services)
    ClaimService(services.db).build(biller, today=TODAY)
    summary = BatchService(services.db).export(biller, out_dir=tmp_path, today=TODAY)
    claims = [c for f in summary.files for c in read_837p(f.path.read_text(encoding="ascii"))]
    claim = next(c for c in claims if c.prior_authorization and len(c.lines) > 1)
    with services.db.session() as session:
        session.execute(sa.update(Payer).values(era_posting=EraPosting.ALL))
    drug = max((line for line in claim.lines if line.code[0] in "JQ"), key=lambda line: line.charge)
    lines = tuple(
        ServicePayment(
            code=line.code, modifiers=line.modifiers, charge=line.charge,
            paid=Decimal("0.00") if line is drug else line.charge,
            service_date=line.service_date, line_control_number=line.control_number,
            adjustments=(CasAdjustment("CO", "197", line.charge),) if line is drug else (),
            remark_codes=("N54",) if line is drug else (),
        )
        for line in claim.lines
    )
    total = sum((line.charge for line in claim.lines), Decimal("0.00"))
    payment = ClaimPayment(
        patient_control_number=claim.claim_number, status_code="1", total_charge=total,
        paid=total - drug.charge, patient_responsibility=Decimal("0.00"), filing_indicator="CI",
        payer_claim_control_number=ICN, patient_last_name=claim.patient.name.last,
        patient_first_name=claim.patient.name.first, member_id=claim.subscriber.member_id, lines=lines,
    )
    remittance = Remittance(
        trace_number="EFT-APPEAL", payer_identifier="1999999999", payer_name="FICTIONAL HEALTH PLAN",
        payment_method="ACH", payment_date=TODAY, total_paid=payment.paid, claims=(payment,),
    )
    RemittanceService(services.db).import_text(biller, write_835(remittance), "denial.835")
    with services.db.session() as session:
        item_id = session.scalars(sa.select(DenialWorkItem.id)).one()
    return services, claim, item_id


def _biller(services: Services) -> Actor:
    return services.auth.sign_in("biller", "demo")


def _pdf_text(pdf: bytes) -> str:
    return " ".join(" ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split())


def _record(services: Services, claim_number: str) -> dict[str, str]:
    """What the nursing record says about the denied drug, in the words and local times the letter uses."""
    with services.db.session() as session:
        claim = session.scalars(sa.select(Claim).where(Claim.claim_number == claim_number)).one()
        visit = session.get(Visit, claim.visit_id)
        assert visit is not None
        zone = ZoneInfo(session.get(Setting, "clinic.timezone").value)  # type: ignore[union-attr]
        given = [a for a in session.scalars(sa.select(Administration).where(Administration.visit_id == visit.id))
                 if a.dose_amount is not None and a.start_at is not None and a.stop_at is not None]
        drug = max(given, key=lambda a: a.dose_amount or 0)
        assert drug.start_at is not None and drug.stop_at is not None and drug.drug is not None
        return {
            "patient": claim.patient.display_name,
            "dos": f"{claim.service_date_from:%m/%d/%Y}",
            "authorization": claim.prior_authorization_number or "",
            "drug": drug.drug.name,
            "dose": f"{drug.dose_amount.normalize():f} {drug.dose_unit}",  # type: ignore[union-attr]
            "start": f"{drug.start_at.astimezone(zone):%m/%d/%Y %H:%M}",
            "stop": f"{drug.stop_at.astimezone(zone):%m/%d/%Y %H:%M}",
            "waste": f"waste {drug.waste_amount.normalize():f} {drug.dose_unit}" if drug.waste_amount else "",
            "lot": drug.lot or "",
        }


def test_a_draft_is_filled_from_the_record_kept_as_edited_and_printed_with_its_enclosures(
    denied: tuple[Services, ClaimData, int],
) -> None:
    services, claim, item_id = denied
    biller = _biller(services)
    service = AppealService(services.db)
    draft = service.draft(biller, item_id, today=TODAY)
    facts = _record(services, claim.claim_number)

    letter = " ".join(draft.letter_text.split())
    for expected in (facts["patient"], claim.claim_number, ICN, facts["dos"], "CO-197",
                     "no authorization", facts["authorization"], facts["drug"], facts["dose"], facts["start"],
                     facts["stop"], facts["waste"]):
        assert expected in letter, expected
    assert draft.category == "authorization" and draft.status == "draft" and draft.level == 1
    with services.db.session() as session:
        item = session.get(DenialWorkItem, item_id)
        assert item is not None
        assert draft.amount == item.amount and draft.deadline == item.appeal_deadline
        assert item.status is WorkItemStatus.IN_PROGRESS and item.owner_id == biller.user_id

    edited = draft.letter_text.replace("Dear Appeals Reviewer:", "Dear Dr. Reviewer:")
    service.save_letter(biller, draft.appeal_id, edited)
    again = service.draft(biller, item_id, today=TODAY + timedelta(days=1))
    assert again.appeal_id == draft.appeal_id and again.letter_text == edited  # reopened, edits kept
    assert service.draft(biller, item_id, fresh=True, today=TODAY).letter_text == draft.letter_text
    service.save_letter(biller, draft.appeal_id, edited)

    text = _pdf_text(service.letter_pdf(biller, draft.appeal_id))
    for expected in ("Dear Dr. Reviewer:", facts["patient"], claim.claim_number, ICN, facts["authorization"],
                     facts["start"], facts["stop"], facts["drug"], facts["dose"]):
        assert expected in text, expected

    files = service.enclosures(biller, draft.appeal_id, today=TODAY)
    assert sorted(files) == [f"{claim.claim_number}-administration-record.pdf",
                             f"{claim.claim_number}-authorization-summary.pdf"]
    record = _pdf_text(files[f"{claim.claim_number}-administration-record.pdf"])
    for expected in ("Infusion administration record", facts["patient"], claim.claim_number, ICN,
                     f"Start: {facts['start']}", f"Stop: {facts['stop']}", facts["dose"], facts["lot"]):
        assert expected in record, expected
    summary = _pdf_text(files[f"{claim.claim_number}-authorization-summary.pdf"])
    assert f"Authorization {facts['authorization']}" in summary and "Covers this service: yes" in summary
    with services.db.session() as session:
        actions = set(session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity == "appeal")))
    assert {"draft_appeal", "reopen_appeal", "edit_appeal_letter", "print_appeal_letter",
            "print_appeal_enclosures"} <= actions


def test_sent_then_won_closes_the_denial_and_counts_as_recovered(
    denied: tuple[Services, ClaimData, int],
) -> None:
    services, claim, item_id = denied
    biller = _biller(services)
    service = AppealService(services.db)
    draft = service.draft(biller, item_id, today=TODAY)
    service.mark_sent(biller, draft.appeal_id, TODAY, today=TODAY)

    with services.db.session() as session:
        appeal = session.get(Appeal, draft.appeal_id)
        item = session.get(DenialWorkItem, item_id)
        claim_row = session.scalars(sa.select(Claim).where(Claim.claim_number == claim.claim_number)).one()
        assert appeal is not None and item is not None
        assert appeal.status is AppealStatus.SENT and appeal.sent_on == TODAY and appeal.letter_pdf
        assert item.status is WorkItemStatus.APPEALED and claim_row.status is ClaimStatus.APPEALED
        sent_pdf = appeal.letter_pdf
    assert service.letter_pdf(biller, draft.appeal_id) == sent_pdf  # exactly what went out
    assert DenialService(services.db).work_queue(biller) == []  # off the queue while the payer decides
    with pytest.raises(ValidationFailed, match="already sent"):
        service.save_letter(biller, draft.appeal_id, "Too late to change.")
    with pytest.raises(ValidationFailed, match="sent on"):
        service.draft(biller, item_id, today=TODAY)

    (row,) = service.appeals(biller, open_only=True, today=TODAY)
    assert (row.claim_number, row.status, row.sent_on, row.amount) == (claim.claim_number, "sent", TODAY, draft.amount)

    decided = TODAY + timedelta(days=20)
    half = (draft.amount / 2).quantize(Decimal("0.01"))
    service.record_outcome(biller, draft.appeal_id, won=True, recovered=half, on=decided,
                           note="Overturned on review", today=decided)
    assert service.appeals(biller, open_only=True, today=decided) == []
    (row,) = service.appeals(biller, today=decided)
    assert (row.status, row.recovered, row.outcome_on, row.note) == ("won", half, decided, "Overturned on review")
    with services.db.session() as session:
        item = session.get(DenialWorkItem, item_id)
        assert item is not None and item.status is WorkItemStatus.CLOSED
        assert item.resolution_note is not None and "Appeal won" in item.resolution_note
    figures = DenialService(services.db).analytics(biller, since=TODAY - timedelta(days=365), today=decided)
    assert figures.recovered == half
    with pytest.raises(ValidationFailed, match="already decided"):
        service.record_outcome(biller, draft.appeal_id, won=False, recovered=Decimal("0"), on=decided, today=decided)


def test_bad_input_is_refused_with_the_reason_and_nothing_is_saved(
    denied: tuple[Services, ClaimData, int],
) -> None:
    services, claim, item_id = denied
    biller = _biller(services)
    service = AppealService(services.db)
    draft = service.draft(biller, item_id, today=TODAY)

    def stored() -> tuple[object, ...]:
        with services.db.session() as session:
            appeal = session.get(Appeal, draft.appeal_id)
            assert appeal is not None
            return appeal.status, appeal.letter_text, appeal.sent_on, appeal.recovered, appeal.outcome_on

    before = stored()
    with pytest.raises(ValidationFailed, match="The letter is empty"):
        service.save_letter(biller, draft.appeal_id, "  \n ")
    with pytest.raises(ValidationFailed, match="mark the letter sent first"):
        service.record_outcome(biller, draft.appeal_id, won=True, recovered=Decimal("1.00"), on=TODAY, today=TODAY)
    with pytest.raises(ValidationFailed, match="in the future"):
        service.mark_sent(biller, draft.appeal_id, TODAY + timedelta(days=1), today=TODAY)
    with pytest.raises(ValidationFailed, match="before the letter was drafted"):
        service.mark_sent(biller, draft.appeal_id, TODAY - timedelta(days=1), today=TODAY)
    with pytest.raises(PermissionDenied):
        service.draft(services.auth.sign_in("frontdesk", "demo"), item_id, today=TODAY)
    assert stored() == before

    service.mark_sent(biller, draft.appeal_id, TODAY, today=TODAY)
    sent = stored()
    later = TODAY + timedelta(days=5)
    for recovered, on, message in (
        (draft.amount + Decimal("0.01"), later, "more than the appeal asked for"),
        (Decimal("-1.00"), later, "cannot be negative"),
        (Decimal("0.00"), TODAY - timedelta(days=1), "before the appeal was sent"),
        (Decimal("0.00"), later + timedelta(days=1), "in the future"),
    ):
        with pytest.raises(ValidationFailed, match=message):
            service.record_outcome(biller, draft.appeal_id, won=True, recovered=recovered, on=on, today=later)
    with pytest.raises(ValidationFailed, match="A lost appeal recovers nothing"):
        service.record_outcome(biller, draft.appeal_id, won=False, recovered=Decimal("5.00"), on=later, today=later)
    assert stored() == sent

    # lost: the denial is back in the queue, and the next appeal is the second level
    service.record_outcome(biller, draft.appeal_id, won=False, recovered=Decimal("0"), on=later,
                           note="Upheld", today=later)
    assert [row.id for row in DenialService(services.db).work_queue(biller)] == [item_id]
    second = service.draft(biller, item_id, today=later)
    assert second.appeal_id != draft.appeal_id and second.level == 2


def test_the_letter_of_a_claim_is_found_by_its_newest_denial(
    denied: tuple[Services, ClaimData, int],
) -> None:
    services, claim, _item_id = denied
    biller = _biller(services)
    service = AppealService(services.db)
    with services.db.session() as session:
        claim_id = session.scalars(sa.select(Claim.id).where(Claim.claim_number == claim.claim_number)).one()
        other = session.scalars(
            sa.select(Claim.id).where(Claim.id != claim_id, Claim.status != ClaimStatus.DENIED).limit(1)
        ).one()
    pdf = service.letter_for_claim(biller, claim_id, today=TODAY)
    assert pdf.startswith(b"%PDF-") and claim.claim_number in _pdf_text(pdf)
    assert service.draft_for_claim(biller, claim_id, today=TODAY).appeal_id == service.appeals(biller)[0].id
    with pytest.raises(ValidationFailed, match="has no denial to appeal"):
        service.letter_for_claim(biller, other, today=TODAY)

