"""Patient payments on both engines: allocation to due lines, credits, refunds, small balances, receipts.

Patient-due lines arise as in production: the demo clinic's claims are built and exported,
and a payer's 835 (20% coinsurance) is posted through RemittanceService.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.models import (
    AuditEvent,
    Claim,
    ClaimLine,
    LineAdjustment,
    Patient,
    PatientPayment,
    PaymentAllocation,
)
from infusion_desk.models.enums import LineResponsibility, PaymentMethod, PolicyRank, Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.check_in import CheckInService, CopayInput
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.patient_payments import PatientPaymentService, PaymentInput
from infusion_desk.services.remittances import RemittanceService
from tests.billing.x12.remit_fixtures import write_835
from tests.conftest import fictional_patient, make_actor
from tests.services.billing_seed import TODAY, exported_by_patient
from tests.services.billing_seed import paid as _paid
from tests.services.billing_seed import remittance as _remittance

D = Decimal


@dataclass
class Billed:
    services: Services
    desk: PatientPaymentService
    claims: dict[int, list[ClaimData]]
    """Each patient's exported claims, oldest date of service first."""
    own: int
    """A patient with only a primary policy and several claims: the share after it is the patient's."""
    with_secondary: int
    frontdesk: Actor
    biller: Actor
    manager: Actor

    def adjudicate(self, *claims: ClaimData, trace: str = "EFT0001") -> None:
        text = write_835(_remittance(*(_paid(c, icn=f"ICN-{c.claim_number}") for c in claims), trace=trace))
        RemittanceService(self.services.db).import_text(self.biller, text, f"{trace}.835")


@pytest.fixture
def billed(services: Services, tmp_path: Path) -> Billed:
    by_patient, ranks = exported_by_patient(services, tmp_path)
    own = max(
        (p for p in by_patient if ranks[p] == {PolicyRank.PRIMARY}), key=lambda p: len(by_patient[p])
    )
    assert len(by_patient[own]) >= 3
    with_secondary = next(p for p in by_patient if PolicyRank.SECONDARY in ranks[p])
    return Billed(
        services=services,
        desk=PatientPaymentService(services.db),
        claims=by_patient,
        own=own,
        with_secondary=with_secondary,
        frontdesk=services.auth.sign_in("frontdesk", "demo"),
        biller=services.auth.sign_in("biller", "demo"),
        manager=services.auth.sign_in("manager", "demo"),
    )


@pytest.fixture
def lone_patient(services: Services) -> tuple[Services, int]:
    """A fictional patient with no claims: every payment is a credit."""
    make_actor(services, Role.FRONT_DESK)
    with services.db.session() as session:
        patient = fictional_patient()
        session.add(patient)
        session.flush()
        return services, patient.id


def _count(services: Services, model: type) -> int:
    with services.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def _line_rows(services: Services, patient_id: int) -> list[ClaimLine]:
    with services.db.session() as session:
        lines = list(
            session.scalars(
                sa.select(ClaimLine)
                .join(Claim, Claim.id == ClaimLine.claim_id)
                .where(Claim.patient_id == patient_id)
                .order_by(ClaimLine.service_date, ClaimLine.line_number)
            )
        )
        session.expunge_all()
        return lines


def _pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_payment_pays_the_oldest_due_lines_first_and_settles_them(billed: Billed) -> None:
    first, second, *later = billed.claims[billed.own]
    billed.adjudicate(first, second)
    before = billed.desk.account(billed.frontdesk, billed.own)
    due = before.due_lines
    # only the answered claims' lines are the patient's; the rest still waits for insurance
    assert [line.claim_number for line in due] == [first.claim_number] * len(first.lines) + [
        second.claim_number
    ] * len(second.lines)
    assert before.patient_due == sum((line.due for line in due), D("0.00")) > 0
    assert before.awaiting_insurance == sum((line.charge for c in later for line in c.lines), D("0.00"))
    assert before.credit_balance == D("0.00")

    first_claim = sum((line.due for line in due[: len(first.lines)]), D("0.00"))
    paid = billed.desk.post_payment(
        billed.frontdesk, billed.own, PaymentInput(str(first_claim + D("10.00")), PaymentMethod.CHECK, "1042")
    )

    assert [a.line_id for a in paid.applied] == [line.line_id for line in due[: len(first.lines) + 1]]
    assert paid.applied[-1].amount == D("10.00")
    assert paid.credit == D("0.00")
    assert paid.patient_due == before.patient_due - first_claim - D("10.00")
    after = {line.id: line for line in _line_rows(billed.services, billed.own)}
    for line in due[: len(first.lines)]:
        assert after[line.line_id].responsibility is LineResponsibility.SETTLED
        assert after[line.line_id].patient_paid == line.due
    partly = after[due[len(first.lines)].line_id]
    assert partly.responsibility is LineResponsibility.PATIENT_DUE and partly.patient_paid == D("10.00")
    assert all(after[line.line_id].patient_paid == 0 for line in due[len(first.lines) + 1 :])
    with billed.services.db.session() as session:
        event = session.scalars(
            sa.select(AuditEvent).where(AuditEvent.action == "post_patient_payment")
        ).one()
        assert event.patient_id == billed.own and event.username == "frontdesk"


def test_an_overpayment_is_a_credit_that_is_applied_when_lines_become_due(billed: Billed) -> None:
    first, second, *_ = billed.claims[billed.own]
    billed.adjudicate(first)
    due = billed.desk.account(billed.frontdesk, billed.own).patient_due
    paid = billed.desk.post_payment(
        billed.frontdesk, billed.own, PaymentInput(str(due + D("500.00")), PaymentMethod.CASH)
    )
    assert paid.credit == D("500.00") and paid.patient_due == D("0.00")
    assert paid.credit_balance == D("500.00")

    with pytest.raises(ValidationFailed) as nothing_due:
        billed.desk.apply_credit(billed.frontdesk, billed.own)
    assert "Nothing is due" in str(nothing_due.value)

    billed.adjudicate(second, trace="EFT0002")
    now_due = billed.desk.account(billed.frontdesk, billed.own).patient_due
    assert now_due > 0
    applied = billed.desk.apply_credit(billed.frontdesk, billed.own)
    assert applied.amount == min(now_due, D("500.00"))
    assert applied.credit_balance == D("500.00") - applied.amount
    assert applied.patient_due == now_due - applied.amount
    # the credit came from the cash payment: its allocations now add up to all of it, or what was due
    with billed.services.db.session() as session:
        total = session.scalar(
            sa.select(sa.func.sum(PaymentAllocation.amount)).where(PaymentAllocation.payment_id == paid.payment_id)
        )
    assert total == due + applied.amount


def test_a_copay_collected_at_check_in_is_a_credit_until_the_lines_are_due_then_applied(
    billed: Billed,
) -> None:
    first, *_ = billed.claims[billed.own]
    with billed.services.db.session() as session:
        visit_id = session.scalars(
            sa.select(Claim.visit_id).where(Claim.claim_number == first.claim_number)
        ).one()
    copay = CheckInService(billed.services.db).collect_copay(
        billed.frontdesk, visit_id, CopayInput("20.00", PaymentMethod.CARD, "auth 0042")
    )
    account = billed.desk.account(billed.frontdesk, billed.own)
    assert account.credit_balance == D("20.00") and account.patient_due == D("0.00")
    (shown,) = [p for p in account.payments if p.payment_id == copay.payment_id]
    assert shown.visit_id == visit_id and shown.unallocated == D("20.00")

    billed.adjudicate(first)
    due = billed.desk.account(billed.frontdesk, billed.own).patient_due
    applied = billed.desk.apply_credit(billed.frontdesk, billed.own)
    assert applied.amount == min(due, D("20.00"))
    assert applied.patient_due == due - applied.amount
    text = _pdf_text(billed.desk.receipt(billed.frontdesk, copay.payment_id))
    assert "Copay for the visit of" in text and first.claim_number in text


def test_chosen_lines_are_paid_in_order_and_a_line_not_due_is_refused_with_nothing_saved(
    billed: Billed,
) -> None:
    first, second, third, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    due = billed.desk.account(billed.frontdesk, billed.own).due_lines
    newest = due[-1]
    paid = billed.desk.post_payment(
        billed.frontdesk,
        billed.own,
        PaymentInput(str(newest.due + D("1.00")), PaymentMethod.CASH, chosen_line_ids=(newest.line_id,)),
    )
    assert [(a.line_id, a.amount) for a in paid.applied] == [(newest.line_id, newest.due)]
    assert paid.credit == D("1.00")

    waiting = next(
        line
        for line in _line_rows(billed.services, billed.own)
        if line.responsibility is LineResponsibility.INSURANCE_PENDING
    )
    payments = _count(billed.services, PatientPayment)
    with pytest.raises(ValidationFailed) as refused:
        billed.desk.post_payment(
            billed.frontdesk,
            billed.own,
            PaymentInput("10.00", PaymentMethod.CASH, chosen_line_ids=(due[0].line_id, waiting.id)),
        )
    (finding,) = refused.value.findings
    assert finding.code == "NOT_DUE" and "still waits for insurance" in finding.message
    assert third.claim_number in finding.message
    assert _count(billed.services, PatientPayment) == payments


def test_a_patient_with_a_secondary_policy_is_never_billed_before_the_secondary_answers(
    billed: Billed,
) -> None:
    first, *_ = billed.claims[billed.with_secondary]
    billed.adjudicate(first)
    account = billed.desk.account(billed.frontdesk, billed.with_secondary)
    answered = [line for line in account.lines if line.claim_number == first.claim_number]
    assert {line.state for line in answered} == {LineResponsibility.SECONDARY_PENDING}
    assert account.patient_due == D("0.00") and account.due_lines == ()
    paid = billed.desk.post_payment(
        billed.frontdesk, billed.with_secondary, PaymentInput("25.00", PaymentMethod.CASH)
    )
    assert paid.applied == () and paid.credit == D("25.00")
    with pytest.raises(ValidationFailed) as refused:
        billed.desk.post_payment(
            billed.frontdesk,
            billed.with_secondary,
            PaymentInput("25.00", PaymentMethod.CASH, chosen_line_ids=(answered[0].line_id,)),
        )
    assert "not due from the patient" in str(refused.value)


def test_small_balances_under_the_threshold_are_written_off_by_a_manager_only(billed: Billed) -> None:
    first, second, *_ = billed.claims[billed.own]
    other = next(p for p in billed.claims if p not in (billed.own, billed.with_secondary))
    billed.adjudicate(first, second, billed.claims[other][0])
    due = billed.desk.account(billed.frontdesk, billed.own).patient_due
    billed.desk.post_payment(billed.frontdesk, billed.own, PaymentInput(str(due - D("7.40")), PaymentMethod.CASH))

    for clerk in (billed.frontdesk, billed.biller):
        with pytest.raises(PermissionDenied):
            billed.desk.write_off_small_balances(clerk, billed.own)
    with pytest.raises(ValidationFailed) as not_small:  # $7.40 is not under the default $5.00
        billed.desk.write_off_small_balances(billed.manager, billed.own, today=TODAY)
    assert "$5.00 or more" in str(not_small.value)
    assert _count(billed.services, LineAdjustment) == 0

    with pytest.raises(PermissionDenied):
        billed.desk.set_small_balance_threshold(billed.biller, "10")
    with pytest.raises(ValidationFailed):
        billed.desk.set_small_balance_threshold(billed.manager, "250")
    assert billed.desk.set_small_balance_threshold(billed.manager, "10") == D("10.00")
    other_due = billed.desk.account(billed.frontdesk, other).patient_due
    assert other_due >= D("10.00")

    summary = billed.desk.write_off_small_balances(billed.manager, today=TODAY)
    assert (summary.patients, summary.total, summary.threshold) == (1, D("7.40"), D("10.00"))
    account = billed.desk.account(billed.frontdesk, billed.own)
    assert account.patient_due == D("0.00")
    assert billed.desk.account(billed.frontdesk, other).patient_due == other_due  # a real balance stays
    with billed.services.db.session() as session:
        adjustments = session.scalars(sa.select(LineAdjustment)).all()
        assert sum((a.amount for a in adjustments), D("0.00")) == D("7.40")
        assert all(a.kind == "small_balance_write_off" and "under $10.00" in a.reason for a in adjustments)
    adjusted = {a.claim_line_id for a in adjustments}
    touched = [line for line in account.lines if line.claim_number in (first.claim_number, second.claim_number)]
    assert {line.state for line in touched if line.line_id in adjusted} == {LineResponsibility.WRITTEN_OFF}
    assert all(line.state is LineResponsibility.SETTLED for line in touched if line.line_id not in adjusted)


def test_a_bounced_check_is_reversed_and_its_lines_are_due_again(billed: Billed) -> None:
    first, *_ = billed.claims[billed.own]
    billed.adjudicate(first)
    due = billed.desk.account(billed.frontdesk, billed.own).patient_due
    paid = billed.desk.post_payment(
        billed.frontdesk, billed.own, PaymentInput(str(due + D("5.00")), PaymentMethod.CHECK, "3301")
    )
    with pytest.raises(PermissionDenied):
        billed.desk.reverse_payment(billed.frontdesk, paid.payment_id, "Returned unpaid")
    account = billed.desk.reverse_payment(billed.manager, paid.payment_id, "Returned unpaid by the bank")
    assert account.patient_due == due and account.credit_balance == D("0.00")
    assert {line.state for line in account.due_lines} == {LineResponsibility.PATIENT_DUE}
    with pytest.raises(ValidationFailed) as again:
        billed.desk.reverse_payment(billed.manager, paid.payment_id, "Twice")
    assert "already reversed" in str(again.value)


def test_the_receipt_lists_the_lines_paid_and_the_credit_kept(billed: Billed) -> None:
    first, *_ = billed.claims[billed.own]
    billed.adjudicate(first)
    due = billed.desk.account(billed.frontdesk, billed.own).patient_due
    paid = billed.desk.post_payment(
        billed.frontdesk, billed.own, PaymentInput(str(due + D("12.34")), PaymentMethod.CARD, "auth 7731")
    )
    text = _pdf_text(billed.desk.receipt(billed.frontdesk, paid.payment_id))
    assert "Payment receipt" in text and paid.receipt_number in text
    assert f"${paid.amount:,.2f}" in text and "auth 7731" in text
    assert first.claim_number in text and first.lines[0].code in text
    assert "Kept as a credit on the account" in text and "$12.34" in text
    assert f"{first.lines[0].service_date:%m/%d/%Y}" in text


# -- input rules and refunds: a patient with no claims is enough -----------------------------


@pytest.mark.parametrize(
    ("amount", "method", "reference", "received_on", "code"),
    [
        ("0", PaymentMethod.CASH, None, None, "AMOUNT"),
        ("-5.00", PaymentMethod.CASH, None, None, "AMOUNT"),
        ("12.345", PaymentMethod.CASH, None, None, "AMOUNT"),
        ("twelve", PaymentMethod.CASH, None, None, "AMOUNT"),
        ("", PaymentMethod.CASH, None, None, "AMOUNT"),
        ("50.00", PaymentMethod.CHECK, " ", None, "REFERENCE"),
        ("50.00", PaymentMethod.CARD, None, None, "REFERENCE"),
        ("50.00", PaymentMethod.CARD, "4111 1111 1111 1111", None, "CARD_NUMBER"),
        ("50.00", PaymentMethod.EFT, "x", None, "METHOD"),
        ("50.00", PaymentMethod.CASH, None, datetime.now(UTC).date() + timedelta(days=3), "RECEIVED_ON"),
    ],
)
def test_bad_input_names_the_field_and_saves_nothing(
    lone_patient: tuple[Services, int],
    amount: str,
    method: PaymentMethod,
    reference: str | None,
    received_on: date | None,
    code: str,
) -> None:
    services, patient_id = lone_patient
    clerk = services.auth.sign_in("t_front_desk", "pw-front_desk")
    with pytest.raises(ValidationFailed) as refused:
        PatientPaymentService(services.db).post_payment(
            clerk, patient_id, PaymentInput(amount, method, reference, received_on)
        )
    assert code in {f.code for f in refused.value.findings}
    assert all(f.message for f in refused.value.findings)
    assert _count(services, PatientPayment) == 0


def test_a_refund_needs_a_manager_and_never_exceeds_the_credit(lone_patient: tuple[Services, int]) -> None:
    services, patient_id = lone_patient
    clerk = services.auth.sign_in("t_front_desk", "pw-front_desk")
    manager = make_actor(services, Role.MANAGER)
    desk = PatientPaymentService(services.db)
    desk.post_payment(clerk, patient_id, PaymentInput("$1,040.50", PaymentMethod.CHECK, "881"))
    assert desk.account(clerk, patient_id).credit_balance == D("1040.50")

    with pytest.raises(PermissionDenied):
        desk.refund(clerk, patient_id, "40.50", PaymentMethod.CHECK, "2210", "Overpaid")
    with pytest.raises(ValidationFailed) as too_much:
        desk.refund(manager, patient_id, "1040.51", PaymentMethod.CHECK, "2210", "Overpaid")
    assert "$1,040.50 is on the account" in str(too_much.value)
    with pytest.raises(ValidationFailed) as no_reason:
        desk.refund(manager, patient_id, "40.50", PaymentMethod.CHECK, "2210", " ")
    assert {f.code for f in no_reason.value.findings} == {"REASON"}
    assert _count(services, PatientPayment) == 1

    refund = desk.refund(manager, patient_id, "40.50", PaymentMethod.CHECK, "2210", "Overpaid")
    assert refund.credit_balance == D("1000.00")
    account = desk.account(clerk, patient_id)
    assert account.credit_balance == D("1000.00")
    assert account.payments[0].is_refund and account.payments[0].amount == D("40.50")
    with pytest.raises(ValidationFailed):
        desk.refund(manager, patient_id, "1000.01", PaymentMethod.CASH, None, "Closing the account")
    text = _pdf_text(desk.receipt(clerk, refund.payment_id))
    assert "Refund" in text and "$40.50" in text and "2210" in text
    with services.db.session() as session:
        assert session.scalar(
            sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "refund_patient_credit")
        ) == 1
        assert session.get(Patient, patient_id) is not None
