"""Payment plans on both engines: putting patient-due lines on a plan, missed instalments, default, cancel.

Patient-due lines arise as in production: the demo clinic's claims are built and exported,
and a payer's 835 (20% coinsurance) is posted through RemittanceService.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.models import AuditEvent, Claim, ClaimLine, Patient, PaymentPlan
from infusion_desk.models.enums import LineResponsibility, PaymentMethod, PlanStatus, PolicyRank
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.patient_payments import PatientPaymentService, PaymentInput
from infusion_desk.services.plans import PlanInput, PlanService, PlanSettings
from infusion_desk.services.remittances import RemittanceService
from infusion_desk.services.statements import StatementService
from tests.billing.x12.remit_fixtures import write_835
from tests.services.billing_seed import TODAY, exported_by_patient
from tests.services.billing_seed import paid as _paid
from tests.services.billing_seed import remittance as _remittance

D = Decimal


@dataclass
class Billed:
    services: Services
    claims: dict[int, list[ClaimData]]
    """Each patient's exported claims, oldest date of service first."""
    own: int
    """A patient with only a primary policy and several claims: the share after it is the patient's."""
    frontdesk: Actor
    nurse: Actor
    biller: Actor
    manager: Actor

    def adjudicate(self, *claims: ClaimData, trace: str = "EFT0001") -> None:
        text = write_835(_remittance(*(_paid(c, icn=f"ICN-{c.claim_number}") for c in claims), trace=trace))
        RemittanceService(self.services.db).import_text(self.biller, text, f"{trace}.835")

    def lines(self, patient_id: int | None = None) -> list[ClaimLine]:
        with self.services.db.session() as session:
            lines = list(
                session.scalars(
                    sa.select(ClaimLine)
                    .join(Claim, Claim.id == ClaimLine.claim_id)
                    .where(Claim.patient_id == (patient_id or self.own))
                    .order_by(ClaimLine.service_date, ClaimLine.line_number)
                )
            )
            session.expunge_all()
            return lines

    def states(self, patient_id: int | None = None) -> dict[int, LineResponsibility]:
        return {line.id: line.responsibility for line in self.lines(patient_id)}

    def count(self, model: type) -> int:
        with self.services.db.session() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0

    def actions(self, action: str) -> list[AuditEvent]:
        with self.services.db.session() as session:
            events = list(session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))
            session.expunge_all()
            return events


def bill_demo(services: Services, tmp_path: Path) -> Billed:
    """The demo clinic's claims exported; no remittance posted yet."""
    by_patient, ranks = exported_by_patient(services, tmp_path)
    own = max(
        (p for p in by_patient if ranks[p] == {PolicyRank.PRIMARY}), key=lambda p: len(by_patient[p])
    )
    assert len(by_patient[own]) >= 3
    return Billed(
        services=services,
        claims=by_patient,
        own=own,
        frontdesk=services.auth.sign_in("frontdesk", "demo"),
        nurse=services.auth.sign_in("nurse", "demo"),
        biller=services.auth.sign_in("biller", "demo"),
        manager=services.auth.sign_in("manager", "demo"),
    )


@pytest.fixture
def billed(services: Services, tmp_path: Path) -> Billed:
    return bill_demo(services, tmp_path)


@pytest.fixture
def plans(billed: Billed) -> PlanService:
    return PlanService(billed.services.db)


def _due(billed: Billed) -> dict[int, Decimal]:
    return {
        line.id: line.patient_responsibility - line.patient_paid
        for line in billed.lines()
        if line.responsibility is LineResponsibility.PATIENT_DUE
    }


def test_a_plan_takes_every_patient_due_line_and_statements_stop_billing_them(
    billed: Billed, plans: PlanService
) -> None:
    first, second, third, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    due = _due(billed)
    total = sum(due.values(), D("0.00"))
    assert len(due) >= 2 and total >= D("75.00")  # three instalments of at least the $25.00 minimum

    view = plans.create(
        billed.frontdesk, billed.own, PlanInput(instalments=3, first_due_date=date(2026, 12, 1)), today=TODAY
    )

    assert view.status is PlanStatus.ACTIVE and view.total == total
    assert [s.instalment.due_date for s in view.schedule] == [
        date(2026, 12, 1), date(2026, 12, 31), date(2027, 1, 30)
    ]
    assert sum(s.instalment.amount for s in view.schedule) == total
    assert {line.line_id for line in view.lines} == set(due)
    states = billed.states()
    assert all(states[line_id] is LineResponsibility.PAYMENT_PLAN for line_id in due)
    # the third claim still waits for insurance: never on the plan
    third_lines = [line for line in billed.lines() if line.responsibility is LineResponsibility.INSURANCE_PENDING]
    assert third_lines and all(line.payment_plan_id is None for line in third_lines)
    [event] = billed.actions("create_payment_plan")
    assert event.patient_id == billed.own and event.detail["total"] == str(total)

    preview = StatementService(billed.services.db).preview_run(billed.biller, today=TODAY)
    row = next(r for r in preview.rows if r.patient_id == billed.own)
    assert not row.send and "payment plan" in row.reason


def test_a_plan_by_instalment_amount_on_chosen_lines_leaves_the_others_due(
    billed: Billed, plans: PlanService
) -> None:
    first, second, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    due = _due(billed)
    chosen = tuple(sorted(due, key=lambda i: -due[i])[:1])
    plans.set_settings(billed.manager, PlanSettings(minimum_instalment=D("5.00")))
    amount = (due[chosen[0]] / 3).quantize(D("0.01"))

    view = plans.create(
        billed.frontdesk,
        billed.own,
        PlanInput(instalment_amount=str(amount), first_due_date=TODAY, interval_days=14, line_ids=chosen),
        today=TODAY,
    )

    assert view.total == due[chosen[0]] and view.instalment_amount == amount
    assert view.schedule[1].instalment.due_date == TODAY + timedelta(days=14)
    states = billed.states()
    assert states[chosen[0]] is LineResponsibility.PAYMENT_PLAN
    assert all(states[i] is LineResponsibility.PATIENT_DUE for i in due if i not in chosen)


@pytest.mark.parametrize(
    ("data", "subject", "message"),
    [
        (PlanInput(instalments=1, first_due_date=TODAY), "instalments", "at least 2 instalments"),
        (PlanInput(first_due_date=TODAY), "instalments", "number of instalments or the instalment amount"),
        (
            PlanInput(instalments=3, instalment_amount="50", first_due_date=TODAY),
            "instalments",
            "not both",
        ),
        (PlanInput(instalments=10, first_due_date=TODAY), "instalments", "Each instalment must be at least"),
        (PlanInput(instalments=500, first_due_date=TODAY), "instalments", "at most 120"),
        (PlanInput(instalment_amount="2.00", first_due_date=TODAY), "instalment_amount", "at least $25.00"),
        (PlanInput(instalment_amount="99999", first_due_date=TODAY), "instalment_amount", "at once"),
        (PlanInput(instalment_amount="ten", first_due_date=TODAY), "instalment_amount", "not a number"),
        (PlanInput(instalments=3), "first_due_date", "Enter the first due date"),
        (
            PlanInput(instalments=3, first_due_date=TODAY - timedelta(days=1)),
            "first_due_date",
            "cannot be in the past",
        ),
        (PlanInput(instalments=3, first_due_date=TODAY, interval_days=3), "interval_days", "from 7 to 92"),
        (PlanInput(instalments=3, first_due_date=TODAY, line_ids=()), "lines", "at least one"),
        (PlanInput(instalments=3, first_due_date=TODAY, line_ids=(999_999,)), "lines", "not on this patient"),
    ],
)
def test_bad_plans_are_refused_with_the_field_to_fix_and_nothing_saved(
    billed: Billed, plans: PlanService, data: PlanInput, subject: str, message: str
) -> None:
    first, second, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    before = billed.states()
    with pytest.raises(ValidationFailed) as refused:
        plans.create(billed.frontdesk, billed.own, data, today=TODAY)
    assert any(f.subject == subject and message in f.message for f in refused.value.findings), (
        refused.value.findings
    )
    assert billed.count(PaymentPlan) == 0
    assert billed.states() == before
    assert billed.actions("create_payment_plan") == []


def test_a_line_still_with_insurance_and_a_second_plan_are_refused(billed: Billed, plans: PlanService) -> None:
    first, second, third, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    pending = next(x for x in billed.lines() if x.responsibility is LineResponsibility.INSURANCE_PENDING)
    with pytest.raises(ValidationFailed) as waiting:
        plans.create(
            billed.frontdesk, billed.own,
            PlanInput(instalments=2, first_due_date=TODAY, line_ids=(pending.id,)), today=TODAY,
        )
    assert "still waits for insurance" in str(waiting.value)

    plans.create(billed.frontdesk, billed.own, PlanInput(instalments=2, first_due_date=TODAY), today=TODAY)
    billed.adjudicate(third, trace="EFT0002")
    with pytest.raises(ValidationFailed) as twice:
        plans.create(billed.frontdesk, billed.own, PlanInput(instalments=2, first_due_date=TODAY), today=TODAY)
    assert "already has an active payment plan" in str(twice.value)
    assert billed.count(PaymentPlan) == 1


def test_nothing_patient_due_means_no_plan(billed: Billed, plans: PlanService) -> None:
    with pytest.raises(ValidationFailed) as nothing:
        plans.create(billed.frontdesk, billed.own, PlanInput(instalments=2, first_due_date=TODAY), today=TODAY)
    assert "no balance to put on a plan" in str(nothing.value)


def test_only_desk_and_billing_roles_make_plans(billed: Billed, plans: PlanService) -> None:
    billed.adjudicate(billed.claims[billed.own][0])
    with pytest.raises(PermissionDenied):
        plans.create(billed.nurse, billed.own, PlanInput(instalments=2, first_due_date=TODAY), today=TODAY)
    assert billed.count(PaymentPlan) == 0


def test_missed_instalments_are_listed_then_the_plan_defaults_and_its_lines_are_due_again(
    billed: Billed, plans: PlanService
) -> None:
    first, second, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    with billed.services.db.session() as session:
        session.execute(sa.update(Patient).where(Patient.id == billed.own).values(phone="217-555-0100"))
    view = plans.create(
        billed.frontdesk, billed.own, PlanInput(instalments=3, first_due_date=date(2026, 12, 1)), today=TODAY
    )

    # within the grace days nothing is missed
    assert plans.missed_payments(billed.biller, today=date(2026, 12, 11)) == ()
    [row] = plans.missed_payments(billed.biller, today=date(2026, 12, 20))
    assert (row.plan_id, row.patient_id, row.instalments_missed, row.days_late) == (view.plan_id, billed.own, 1, 19)
    assert row.amount_overdue == view.schedule[0].instalment.amount
    assert row.phone == "217-555-0100" and row.next_due == date(2026, 12, 31)
    shown = plans.plan(billed.frontdesk, billed.own, today=date(2026, 12, 20))
    assert shown is not None and [s.state for s in shown.schedule] == ["missed", "upcoming", "upcoming"]
    assert shown.status is PlanStatus.ACTIVE and shown.balance_left == view.total

    # the second missed instalment (the clinic's default limit) defaults the plan
    later = date(2027, 1, 15)
    [row] = plans.missed_payments(billed.biller, today=later)
    assert row.status is PlanStatus.DEFAULTED and row.instalments_missed == 2
    assert all(state is LineResponsibility.PATIENT_DUE for state in billed.states().values()
               if state is not LineResponsibility.INSURANCE_PENDING)
    [event] = billed.actions("plan_defaulted")
    assert event.entity_id == str(view.plan_id) and event.detail["automatic"] is True
    # a defaulted plan can be replaced by a new one
    plans.create(billed.frontdesk, billed.own, PlanInput(instalments=2, first_due_date=later), today=later)


def test_the_default_limit_is_a_clinic_setting(billed: Billed, plans: PlanService) -> None:
    billed.adjudicate(billed.claims[billed.own][0])
    with pytest.raises(PermissionDenied):
        plans.set_settings(billed.biller, PlanSettings(default_after_missed=3))
    with pytest.raises(ValidationFailed) as bad:
        plans.set_settings(billed.manager, PlanSettings(default_after_missed=0))
    assert "1 to 12 missed" in str(bad.value)
    plans.set_settings(billed.manager, PlanSettings(minimum_instalment=D("10.00"), default_after_missed=3))
    plans.create(billed.frontdesk, billed.own, PlanInput(instalments=2, first_due_date=TODAY), today=TODAY)
    shown = plans.plan(billed.frontdesk, billed.own, today=date(2027, 1, 30))
    assert shown is not None and len(shown.missed) == 2 and shown.status is PlanStatus.ACTIVE


def test_cancelling_a_plan_puts_its_lines_back_to_patient_due(billed: Billed, plans: PlanService) -> None:
    first, second, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    due = _due(billed)
    view = plans.create(billed.frontdesk, billed.own, PlanInput(instalments=2, first_due_date=TODAY), today=TODAY)
    with pytest.raises(ValidationFailed) as no_reason:
        plans.cancel(billed.frontdesk, view.plan_id, "  ")
    assert "Say why" in str(no_reason.value)
    assert billed.states()[next(iter(due))] is LineResponsibility.PAYMENT_PLAN

    cancelled = plans.cancel(billed.frontdesk, view.plan_id, "Patient will pay in full next week")
    assert cancelled.status is PlanStatus.CANCELLED
    assert all(billed.states()[line_id] is LineResponsibility.PATIENT_DUE for line_id in due)
    [event] = billed.actions("cancel_payment_plan")
    assert event.detail["reason"] == "Patient will pay in full next week"
    with pytest.raises(ValidationFailed) as again:
        plans.cancel(billed.frontdesk, view.plan_id, "again")
    assert "already cancelled" in str(again.value)


def test_payments_taken_on_the_account_pay_the_instalments_and_complete_the_plan(
    billed: Billed, plans: PlanService
) -> None:
    first, second, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    view = plans.create(billed.frontdesk, billed.own, PlanInput(instalments=2, first_due_date=TODAY), today=TODAY)
    desk = PatientPaymentService(billed.services.db)
    first_amount = view.schedule[0].instalment.amount
    desk.post_payment(
        billed.frontdesk, billed.own, PaymentInput(str(first_amount), PaymentMethod.CASH, received_on=TODAY)
    )
    shown = plans.plan(billed.frontdesk, billed.own, today=TODAY + timedelta(days=45))
    assert shown is not None and shown.paid == first_amount
    assert [s.state for s in shown.schedule] == ["paid", "missed"]

    desk.post_payment(
        billed.frontdesk, billed.own, PaymentInput(str(view.total - first_amount), PaymentMethod.CASH)
    )
    done = plans.plan(billed.frontdesk, billed.own)
    assert done is not None and done.status is PlanStatus.COMPLETED and done.balance_left == 0
    assert all(state is LineResponsibility.SETTLED for state in billed.states().values()
               if state is not LineResponsibility.INSURANCE_PENDING)
