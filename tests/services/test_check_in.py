"""Check-in at the front desk, on both database engines: the checks, the estimate, the copay."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from infusion_desk.models import (
    AuditEvent,
    EligibilityCheck,
    InsurancePolicy,
    PatientPayment,
    PhysicianOrder,
    PriorAuthorization,
    Visit,
)
from infusion_desk.models.enums import PaymentMethod, Role, SubscriberRelationship, VisitStatus
from infusion_desk.services.app import Services
from infusion_desk.services.check_in import CheckInService, CopayInput, Fix
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from tests.conftest import make_actor
from tests.services.frontdesk_seed import ZONE, Desk, seed_desk


@pytest.fixture
def desk(services: Services) -> Desk:
    return seed_desk(services)


def _codes(review: object) -> set[str]:
    return {p.code for p in review.problems}  # type: ignore[attr-defined]


def test_a_visit_with_everything_on_file_is_ready(services: Services, desk: Desk) -> None:
    clerk = make_actor(services, Role.FRONT_DESK)
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    assert review.problems == ()
    assert review.ready and review.patient_name == "Deskcase, Testy"
    assert review.payer == "Prairie Health Plan" and review.drug == "infliximab"


def test_estimate_prices_todays_dose_at_the_payers_allowed_amounts(services: Services, desk: Desk) -> None:
    clerk = make_actor(services, Role.FRONT_DESK)
    estimate = CheckInService(services.db).review(clerk, desk.visit, desk.today).estimate
    lines = {line.code: line for line in estimate.lines}
    # 5 mg/kg x 70 kg (the last weight on file) = 350 mg = 35 units of J1745 (10 mg each).
    assert lines["J1745"].units == 35 and lines["J1745"].allowed == Decimal("1400.00")
    assert all(line.source == "fee schedule" for line in estimate.lines)
    assert estimate.allowed_total == sum(line.allowed for line in estimate.lines)
    # Copay 25, then the 100 of deductible left, then 20% of the rest.
    rest = estimate.allowed_total - Decimal("125.00")
    assert estimate.copay == Decimal("25.00") and estimate.deductible == Decimal("100.00")
    assert estimate.total == Decimal("125.00") + (rest * Decimal("0.2")).quantize(Decimal("0.01"))


def test_estimate_prices_a_drug_contracted_as_a_percent_of_asp_at_that_quarters_limit(
    services: Services, desk: Desk
) -> None:
    from infusion_desk.billing.contracts import quarter_start
    from infusion_desk.models import AspPrice, FeeScheduleEntry

    with services.db.session() as session:
        entry = session.scalars(sa.select(FeeScheduleEntry).where(FeeScheduleEntry.code == "J1745")).one()
        entry.allowed, entry.percent_of_asp = None, Decimal("104")
        session.add(AspPrice(code="J1745", quarter_start=quarter_start(desk.today), payment_limit=Decimal("42.4000")))
    clerk = make_actor(services, Role.FRONT_DESK)
    lines = {line.code: line for line in CheckInService(services.db).review(clerk, desk.visit, desk.today).estimate.lines}
    # ASP = 42.40 / 1.06 = 40.00; 104% of it is 41.60 a unit; 35 units.
    assert lines["J1745"].allowed == Decimal("1456.00") and lines["J1745"].source == "fee schedule"

    with services.db.session() as session:  # no ASP price for the quarter: the clinic's charge
        session.execute(sa.delete(AspPrice))
    lines = {line.code: line for line in CheckInService(services.db).review(clerk, desk.visit, desk.today).estimate.lines}
    assert lines["J1745"].source == "charge"


def test_unverified_coverage_is_flagged_with_the_verify_fix(services: Services, desk: Desk) -> None:
    with services.db.session() as session:
        session.execute(sa.delete(EligibilityCheck))
    clerk = make_actor(services, Role.FRONT_DESK)
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    problem = next(p for p in review.problems if p.code == "ELIGIBILITY_UNVERIFIED")
    assert problem.blocks and problem.fix is Fix.VERIFY_ELIGIBILITY and problem.target_id == desk.policy
    assert "never been verified" in problem.message
    # Without a verification nothing honest can be said about what the patient owes.
    assert review.estimate.total is None


def test_missing_or_expired_authorization_and_order_are_flagged(services: Services, desk: Desk) -> None:
    clerk = make_actor(services, Role.FRONT_DESK)
    with services.db.session() as session:
        session.execute(sa.delete(PriorAuthorization))
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    auth = next(p for p in review.problems if p.code == "AUTH_MISSING")
    assert auth.fix is Fix.AUTHORIZATION and "infliximab" in auth.message

    with services.db.session() as session:
        order = session.get(PhysicianOrder, desk.order)
        assert order is not None
        order.end_date = desk.today - timedelta(days=1)
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    expired = next(p for p in review.problems if p.code == "ORDER_EXPIRED")
    assert expired.blocks and expired.fix is Fix.ORDER and expired.target_id == desk.order


def test_too_few_authorized_units_for_todays_dose(services: Services, desk: Desk) -> None:
    with services.db.session() as session:
        auth = session.get(PriorAuthorization, desk.authorization)
        assert auth is not None
        auth.approved_units = Decimal(20)  # today's dose needs 35
    clerk = make_actor(services, Role.FRONT_DESK)
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    units = next(p for p in review.problems if p.code == "AUTH_UNITS")
    assert units.blocks and "35" in units.message


def test_subscriber_data_a_claim_needs_opens_the_policy(services: Services, desk: Desk) -> None:
    with services.db.session() as session:
        policy = session.get(InsurancePolicy, desk.policy)
        assert policy is not None
        policy.subscriber_relationship = SubscriberRelationship.SPOUSE
        policy.subscriber_first_name = "Pat"
        policy.subscriber_last_name = "Deskcase"
    clerk = make_actor(services, Role.FRONT_DESK)
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    fixes = [p for p in review.problems if p.fix is Fix.EDIT_POLICY]
    assert fixes and all(p.target_id == desk.policy for p in fixes)
    assert any("birth" in p.message.lower() for p in fixes)


def test_terminated_policy_on_the_visit_is_refused_as_coverage(services: Services, desk: Desk) -> None:
    with services.db.session() as session:
        policy = session.get(InsurancePolicy, desk.policy)
        assert policy is not None
        policy.termination_date = desk.today - timedelta(days=3)
    clerk = make_actor(services, Role.FRONT_DESK)
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    codes = _codes(review)
    assert "POLICY_TERMINATED" in codes and "SELF_PAY" in codes
    terminated = next(p for p in review.problems if p.code == "POLICY_TERMINATED")
    assert terminated.fix is Fix.INSURANCE and "terminated" in terminated.message
    # Self-pay: the patient owes the whole expected amount.
    assert review.estimate.total == review.estimate.allowed_total


def test_check_in_with_errors_needs_the_desk_to_accept_them(services: Services, desk: Desk) -> None:
    with services.db.session() as session:
        session.execute(sa.delete(EligibilityCheck))
    clerk = make_actor(services, Role.FRONT_DESK)
    service = CheckInService(services.db)
    now = datetime.now(UTC)
    with pytest.raises(ValidationFailed) as refused:
        service.check_in(clerk, desk.visit, at=now)
    assert refused.value.findings[0].code == "ELIGIBILITY_UNVERIFIED"
    with services.db.session() as session:
        assert session.get(Visit, desk.visit).status is VisitStatus.SCHEDULED  # type: ignore[union-attr]

    review = service.check_in(clerk, desk.visit, acknowledge_problems=True, at=now)
    assert review.status is VisitStatus.CHECKED_IN
    with services.db.session() as session:
        visit = session.get(Visit, desk.visit)
        assert visit is not None and visit.checked_in_at == now
        event = session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "check_in")).one()
        assert event.detail["accepted_problems"] == ["ELIGIBILITY_UNVERIFIED"]
    with pytest.raises(ValidationFailed, match="already checked in"):
        service.check_in(clerk, desk.visit, acknowledge_problems=True, at=now)


def test_a_clean_visit_checks_in_without_questions(services: Services, desk: Desk) -> None:
    clerk = make_actor(services, Role.FRONT_DESK)
    review = CheckInService(services.db).check_in(clerk, desk.visit, at=datetime.now(UTC))
    assert review.status is VisitStatus.CHECKED_IN


def test_check_in_only_on_the_day_of_the_visit(services: Services) -> None:
    tomorrow = datetime.now(UTC).astimezone(ZONE).date() + timedelta(days=1)
    desk = seed_desk(services, day=tomorrow)
    clerk = make_actor(services, Role.FRONT_DESK)
    with pytest.raises(ValidationFailed, match="booked for"):
        CheckInService(services.db).check_in(clerk, desk.visit, acknowledge_problems=True)


@pytest.mark.parametrize(
    ("amount", "method", "reference", "message"),
    [
        ("0", PaymentMethod.CASH, "", "more than zero"),
        ("ten", PaymentMethod.CASH, "", "not a number"),
        ("20", PaymentMethod.CHECK, "", "check number"),
        ("20", PaymentMethod.CARD, "", "approval code"),
        ("20", PaymentMethod.CARD, "4111 1111 1111 1111", "full card number"),
    ],
)
def test_bad_copay_is_refused_and_nothing_is_saved(
    services: Services, desk: Desk, amount: str, method: PaymentMethod, reference: str, message: str
) -> None:
    clerk = make_actor(services, Role.FRONT_DESK)
    with pytest.raises(ValidationFailed, match=message):
        CheckInService(services.db).collect_copay(clerk, desk.visit, CopayInput(amount, method, reference))
    with services.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(PatientPayment)) == 0


def test_copay_is_recorded_on_the_visit_with_a_receipt(services: Services, desk: Desk) -> None:
    clerk = make_actor(services, Role.FRONT_DESK)
    service = CheckInService(services.db)
    record = service.collect_copay(clerk, desk.visit, CopayInput("$25", PaymentMethod.CARD, "approval 0042"))
    assert record.amount == Decimal("25.00") and record.receipt_number == f"R-{record.payment_id:06d}"
    review = service.review(clerk, desk.visit, desk.today)
    assert [c.payment_id for c in review.copays] == [record.payment_id]
    pdf = service.receipt(clerk, record.payment_id)
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "Deskcase, Testy" in text and "$25.00" in text and record.receipt_number in text
    assert "approval 0042" in text and "Test front_desk" in text


def test_copay_for_a_cancelled_visit_is_refused(services: Services, desk: Desk) -> None:
    with services.db.session() as session:
        session.get(Visit, desk.visit).status = VisitStatus.CANCELLED  # type: ignore[union-attr]
    clerk = make_actor(services, Role.FRONT_DESK)
    with pytest.raises(ValidationFailed, match="did not take place"):
        CheckInService(services.db).collect_copay(clerk, desk.visit, CopayInput("10", PaymentMethod.CASH))


def test_nurses_check_in_but_do_not_take_payments(services: Services, desk: Desk) -> None:
    nurse = make_actor(services, Role.NURSE)
    with pytest.raises(PermissionDenied):
        CheckInService(services.db).collect_copay(nurse, desk.visit, CopayInput("10", PaymentMethod.CASH))
    review = CheckInService(services.db).check_in(nurse, desk.visit, at=datetime.now(UTC))
    assert review.status is VisitStatus.CHECKED_IN


def test_no_order_on_the_visit_is_an_error(services: Services, desk: Desk) -> None:
    with services.db.session() as session:
        session.get(Visit, desk.visit).order_id = None  # type: ignore[union-attr]
    clerk = make_actor(services, Role.FRONT_DESK)
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    missing = next(p for p in review.problems if p.code == "ORDER_MISSING")
    assert missing.fix is Fix.ORDER
    assert any("order" in text for text in review.estimate.uncertain)


def test_dates_are_clinic_days(services: Services, desk: Desk) -> None:
    clerk = make_actor(services, Role.FRONT_DESK)
    review = CheckInService(services.db).review(clerk, desk.visit, desk.today)
    assert isinstance(review.date_of_service, date) and review.date_of_service == desk.today
