"""Check-in at the front desk: every check a claim depends on, today's estimate, and the copay.

    desk = CheckInService(db)
    review = desk.review(actor, visit_id)        # problems, each with the screen that fixes it
    desk.check_in(actor, visit_id)               # refused while errors remain ...
    desk.check_in(actor, visit_id, acknowledge_problems=True)   # ... unless the desk accepts them
    payment = desk.collect_copay(actor, visit_id, CopayInput("40", PaymentMethod.CARD, "auth 0042"))
    pdf = desk.receipt(actor, payment.payment_id)

The checks are the ones payers deny for: eligibility not verified within the payer's window,
no prior authorization (or expired, or too few units for today's dose), an order that has
expired or run out of doses, and demographics or subscriber data a claim will need. Each
problem says which screen fixes it, so the desk can fix it while the patient is standing there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from infusion_desk.billing import contracts
from infusion_desk.billing.coding import code_visit
from infusion_desk.billing.coding_input import (
    AdministrationInput,
    Amount,
    DrugInfo,
    PayerInput,
    PayerSettings,
    VisitInput,
)
from infusion_desk.billing.dosing import DoseError, ordered_dose
from infusion_desk.billing.edits import reference_tables
from infusion_desk.billing.estimate import Benefits, Estimate, PricedLine, estimate_responsibility
from infusion_desk.billing.findings import Finding, Level, error
from infusion_desk.billing.money import ZERO, money
from infusion_desk.billing.receipts import Receipt, render_receipt
from infusion_desk.models import (
    AspPrice,
    ChargeMasterEntry,
    Clinic,
    Drug,
    EligibilityCheck,
    FeeScheduleEntry,
    InsurancePolicy,
    Patient,
    PatientPayment,
    Payer,
    PhysicianOrder,
    User,
    Visit,
)
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import EligibilityStatus, PayerType, PaymentMethod, VisitStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.authorizations import authorization_findings
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.coverage import active_policies, check_policy_for_visit
from infusion_desk.services.eligibility import latest_check, verification_finding
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.orders import order_findings
from infusion_desk.services.patients import claim_data_findings


class Fix(StrEnum):
    """The screen that fixes a problem."""

    VERIFY_ELIGIBILITY = "verify_eligibility"
    AUTHORIZATION = "authorization"
    ORDER = "order"
    INSURANCE = "insurance"
    EDIT_POLICY = "edit_policy"
    EDIT_PATIENT = "edit_patient"
    NONE = "none"


FIX_LABELS: dict[Fix, str] = {
    Fix.VERIFY_ELIGIBILITY: "Verify eligibility…",
    Fix.AUTHORIZATION: "Open authorizations…",
    Fix.ORDER: "Open orders…",
    Fix.INSURANCE: "Open insurance…",
    Fix.EDIT_POLICY: "Edit policy…",
    Fix.EDIT_PATIENT: "Edit patient…",
    Fix.NONE: "",
}


@dataclass(frozen=True, slots=True)
class CheckInProblem:
    level: Level
    code: str
    message: str
    fix: Fix
    target_id: int | None
    """The policy, authorization or order the fix opens, when there is one."""

    @property
    def blocks(self) -> bool:
        return self.level is Level.ERROR


@dataclass(frozen=True, slots=True)
class CopayRecord:
    payment_id: int
    receipt_number: str
    amount: Decimal
    method: PaymentMethod
    reference: str | None
    received_on: date


@dataclass(frozen=True, slots=True)
class CheckInReview:
    visit_id: int
    patient_id: int
    patient_name: str
    mrn: str
    date_of_service: date
    scheduled_start: datetime
    status: VisitStatus
    drug: str | None
    payer: str | None
    problems: tuple[CheckInProblem, ...]
    estimate: Estimate
    copays: tuple[CopayRecord, ...]

    @property
    def ready(self) -> bool:
        return not any(problem.blocks for problem in self.problems)


@dataclass(frozen=True, slots=True)
class CopayInput:
    amount: str
    method: PaymentMethod
    reference: str | None = None


def receipt_for(session: Session, payment: PatientPayment) -> Receipt:
    """The receipt of a patient payment: the clinic's letterhead, the patient, what was paid and how."""
    patient = session.get(Patient, payment.patient_id)
    assert patient is not None
    clinic = session.scalar(sa.select(Clinic).limit(1))
    visit = session.get(Visit, payment.visit_id) if payment.visit_id is not None else None
    user = session.get(User, payment.posted_by_id) if payment.posted_by_id is not None else None
    address: tuple[str, ...] = ()
    if clinic is not None:
        address = tuple(
            part
            for part in (clinic.address1, clinic.address2, f"{clinic.city}, {clinic.state} {clinic.zip_code}")
            if part
        )
    return Receipt(
        number=receipt_number(payment.id),
        received_on=payment.received_on,
        clinic_name=clinic.name if clinic is not None else "",
        clinic_address=address,
        clinic_phone=clinic.phone if clinic is not None else None,
        patient_name=f"{patient.last_name}, {patient.first_name}",
        mrn=patient.mrn,
        visit_date=visit.date_of_service if visit is not None else None,
        amount=payment.amount,
        method=payment.method.value,
        reference=payment.reference,
        received_by=user.display_name if user is not None else "",
        refund=payment.is_refund,
    )


def receipt_number(payment_id: int) -> str:
    return f"R-{payment_id:06d}"


_CARD_NUMBER = re.compile(r"\d[\d -]{11,}\d")


def validate_copay(data: CopayInput) -> tuple[Decimal | None, tuple[Finding, ...]]:
    findings: list[Finding] = []
    amount: Decimal | None = None
    try:
        amount = money(data.amount.strip().lstrip("$").replace(",", ""))
    except (ValueError, TypeError):
        findings.append(error("AMOUNT", f"Amount {data.amount!r} is not a number of dollars.", "amount"))
    else:
        if amount <= 0:
            findings.append(error("AMOUNT", "The amount collected must be more than zero.", "amount"))
    if data.method not in (PaymentMethod.CASH, PaymentMethod.CHECK, PaymentMethod.CARD, PaymentMethod.OTHER):
        findings.append(error("METHOD", "Choose cash, check, card or other.", "method"))
    reference = (data.reference or "").strip()
    if data.method is PaymentMethod.CHECK and not reference:
        findings.append(error("REFERENCE", "Enter the check number.", "reference"))
    if data.method is PaymentMethod.CARD and not reference:
        findings.append(
            error(
                "REFERENCE",
                "Enter the card terminal's approval code or the card's last four digits.",
                "reference",
            )
        )
    if _CARD_NUMBER.search(reference) and sum(ch.isdigit() for ch in reference) >= 13:
        findings.append(
            error(
                "CARD_NUMBER",
                "Never record a full card number: enter only the last four digits or the "
                "terminal's approval code.",
                "reference",
            )
        )
    return amount, tuple(findings)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _coverage(
    session: Session, visit: Visit
) -> tuple[InsurancePolicy | None, list[InsurancePolicy], list[CheckInProblem]]:
    """The policy billed first for the visit, every policy in force, and coverage problems."""
    problems: list[CheckInProblem] = []
    in_force = active_policies(session, visit.patient_id, visit.date_of_service)
    chosen: InsurancePolicy | None = None
    if visit.policy_id is not None:
        chosen = session.get(InsurancePolicy, visit.policy_id)
        for finding in check_policy_for_visit(chosen, visit.patient_id, visit.date_of_service):
            problems.append(CheckInProblem(finding.level, finding.code, finding.message, Fix.INSURANCE, None))
        if problems:
            chosen = in_force[0] if in_force else None
    elif in_force:
        chosen = in_force[0]
    if not in_force:
        problems.append(
            CheckInProblem(
                Level.WARNING,
                "SELF_PAY",
                "No insurance is in force on this date: the visit will be self-pay unless coverage is added.",
                Fix.INSURANCE,
                None,
            )
        )
    return chosen, in_force, problems


def _fix_for(finding: Finding) -> tuple[Fix, int | None]:
    code, subject = finding.code, finding.subject
    if code.startswith("ELIGIBILITY"):
        return Fix.VERIFY_ELIGIBILITY, None
    if code.startswith("AUTH"):
        return Fix.AUTHORIZATION, None
    if code.startswith("ORDER"):
        return Fix.ORDER, None
    match = re.match(r"policy:(\d+)", subject)
    if match:
        return Fix.EDIT_POLICY, int(match.group(1))
    if subject.startswith("patient"):
        return Fix.EDIT_PATIENT, None
    return Fix.NONE, None


def _problem(finding: Finding, target: int | None = None) -> CheckInProblem:
    fix, fix_target = _fix_for(finding)
    return CheckInProblem(finding.level, finding.code, finding.message, fix, fix_target or target)


def latest_weight(session: Session, visit: Visit) -> tuple[Decimal | None, Decimal | None]:
    """Today's weight and height if recorded, else the patient's most recent ones."""
    weight, height = visit.weight_kg, visit.height_cm
    if weight is None:
        weight = session.scalar(
            sa.select(Visit.weight_kg)
            .where(Visit.patient_id == visit.patient_id, Visit.weight_kg.is_not(None))
            .order_by(Visit.date_of_service.desc(), Visit.id.desc())
            .limit(1)
        )
    if height is None:
        height = session.scalar(
            sa.select(Visit.height_cm)
            .where(Visit.patient_id == visit.patient_id, Visit.height_cm.is_not(None))
            .order_by(Visit.date_of_service.desc(), Visit.id.desc())
            .limit(1)
        )
    return weight, height


def _payer_type(payer: Payer | None) -> str:
    if payer is None or payer.payer_type is PayerType.OTHER:
        return "commercial"
    return payer.payer_type.value


def expected_lines(
    session: Session, visit: Visit, payer: Payer | None, zone: ZoneInfo
) -> tuple[list[tuple[str, int]], list[str]]:
    """The codes and units today's ordered drug and its administration are expected to bill."""
    order = visit.order
    if order is None:
        return [], ["No physician order on the visit: nothing to estimate."]
    drug: Drug = order.drug
    weight, height = latest_weight(session, visit)
    try:
        dose = ordered_dose(order.dose_amount, order.dose_basis.value, weight_kg=weight, height_cm=height)
    except DoseError as exc:
        return [], [f"Today's dose cannot be computed yet: {exc}."]
    start = visit.scheduled_start.astimezone(zone).replace(tzinfo=None)
    minutes = drug.typical_minutes or visit.expected_minutes
    method = drug.default_method
    planned = AdministrationInput(
        id="planned",
        method=method,
        start=start,
        hcpcs=drug.hcpcs,
        drug=drug.name,
        admin_class=drug.admin_class.value,
        route=drug.default_route,
        stop=start + timedelta(minutes=minutes) if method == "infusion" else None,
        dose=Amount(dose, order.dose_unit),
    )
    payer_type = _payer_type(payer)
    coded = code_visit(
        VisitInput(
            PayerInput(payer_type, payer.name if payer else None),
            visit.date_of_service,
            (planned,),
            tuple(d.icd10_code for d in order.diagnoses),
            primary_reason="planned",
        ),
        {
            drug.hcpcs: DrugInfo(
                hcpcs=drug.hcpcs,
                name=drug.name,
                unit_amount=drug.billing_unit_amount,
                unit=drug.billing_unit,
                up_to=drug.billing_unit_up_to,
                admin_class=drug.admin_class.value,
                single_dose_container=drug.single_dose_container,
            )
        },
        PayerSettings.from_mapping(payer_type, payer.coding_settings if payer else {}),
        reference_tables(),
    )
    return [(line.code, line.units) for line in coded.lines if line.units > 0], []


def price_lines(
    session: Session, payer: Payer | None, day: date, lines: list[tuple[str, int]]
) -> tuple[PricedLine, ...]:
    """Each line at the payer's contract rate when on file, else at the clinic's charge.

    A contract rate is a fixed amount per unit or a percent of the quarter's ASP: the same
    pricing the underpayment list expects (:mod:`infusion_desk.billing.contracts`).
    """
    codes = sorted({code for code, _ in lines})
    entries: list[contracts.FeeEntry] = []
    limits: dict[tuple[str, date], Decimal] = {}
    if payer is not None and codes:
        entries = [
            contracts.FeeEntry(
                row.code, row.allowed, row.percent_of_asp, row.effective_from, row.effective_to
            )
            for row in session.execute(
                sa.select(
                    FeeScheduleEntry.code,
                    FeeScheduleEntry.allowed,
                    FeeScheduleEntry.percent_of_asp,
                    FeeScheduleEntry.effective_from,
                    FeeScheduleEntry.effective_to,
                ).where(FeeScheduleEntry.payer_id == payer.id, FeeScheduleEntry.code.in_(codes))
            )
        ]
        quarter = contracts.quarter_start(day)
        limits = {
            (code, quarter): limit
            for code, limit in session.execute(
                sa.select(AspPrice.code, AspPrice.payment_limit).where(
                    AspPrice.code.in_(codes), AspPrice.quarter_start == quarter
                )
            )
        }
    charges: dict[str, Decimal] = {
        code: charge
        for code, charge in session.execute(
            sa.select(ChargeMasterEntry.code, ChargeMasterEntry.charge).where(
                ChargeMasterEntry.code.in_(codes)
            )
        )
    }
    drug_prices: dict[str, Decimal] = {
        code: price
        for code, price in session.execute(
            sa.select(Drug.hcpcs, Drug.unit_price).where(Drug.hcpcs.in_(codes))
        )
    }
    priced = []
    for code, units in lines:
        pricing = contracts.price_line(entries, code, day, Decimal(units), limits)
        if pricing.expected is not None:
            priced.append(PricedLine(code, units, pricing.expected, "fee schedule"))
        else:
            per_unit = charges.get(code, drug_prices.get(code, ZERO))
            priced.append(PricedLine(code, units, money(per_unit * units), "charge"))
    return tuple(priced)


def _benefits(check: EligibilityCheck | None) -> Benefits | None:
    if check is None or check.status is not EligibilityStatus.ACTIVE:
        return None
    return Benefits(
        copay=check.copay,
        deductible=check.deductible,
        deductible_met=check.deductible_met,
        coinsurance_percent=check.coinsurance_percent,
        out_of_pocket_max=check.out_of_pocket_max,
        out_of_pocket_met=check.out_of_pocket_met,
    )


SELF_PAY = Benefits(copay=ZERO, deductible=ZERO, deductible_met=ZERO, coinsurance_percent=Decimal(100))


def review_visit(session: Session, visit: Visit, today: date) -> CheckInReview:
    """Every check-in check for a loaded visit, and today's estimate (used by the service and the queues)."""
    zone = clinic_timezone(session)
    patient: Patient = visit.patient
    policy, in_force, problems = _coverage(session, visit)
    for each in in_force:
        finding = verification_finding(session, each, visit.date_of_service)
        if finding is not None:
            problems.append(_problem(finding, each.id))
    order: PhysicianOrder | None = visit.order
    if order is None:
        problems.append(
            CheckInProblem(
                Level.ERROR,
                "ORDER_MISSING",
                "The visit has no physician order: attach the order before treatment.",
                Fix.ORDER,
                None,
            )
        )
    else:
        problems.extend(_problem(f, order.id) for f in order_findings(session, order, visit.date_of_service))
        problems.extend(_problem(f) for f in authorization_findings(session, visit, today))
    problems.extend(_problem(f) for f in claim_data_findings(patient, in_force, visit.date_of_service))

    payer = policy.payer if policy is not None else None
    codes, notes = expected_lines(session, visit, payer, zone)
    priced = price_lines(session, payer, visit.date_of_service, codes)
    benefits = SELF_PAY if policy is None else _benefits(latest_check(session, policy.id))
    estimate = estimate_responsibility(priced, benefits)
    if notes:
        estimate = Estimate(
            estimate.lines,
            estimate.allowed_total,
            estimate.copay,
            estimate.deductible,
            estimate.coinsurance,
            estimate.total,
            estimate.steps,
            (*notes, *estimate.uncertain),
        )
    copays = tuple(
        CopayRecord(p.id, receipt_number(p.id), p.amount, p.method, p.reference, p.received_on)
        for p in session.scalars(
            sa.select(PatientPayment).where(PatientPayment.visit_id == visit.id).order_by(PatientPayment.id)
        )
    )
    order_sorted = sorted(problems, key=lambda p: (p.level is not Level.ERROR, p.code))
    return CheckInReview(
        visit_id=visit.id,
        patient_id=patient.id,
        patient_name=f"{patient.last_name}, {patient.first_name}",
        mrn=patient.mrn,
        date_of_service=visit.date_of_service,
        scheduled_start=visit.scheduled_start,
        status=visit.status,
        drug=order.drug.name if order is not None else None,
        payer=payer.name if payer is not None else None,
        problems=tuple(order_sorted),
        estimate=estimate,
        copays=copays,
    )


def _load(session: Session, visit_id: int) -> Visit:
    visit = session.get(
        Visit,
        visit_id,
        options=[
            joinedload(Visit.patient),
            joinedload(Visit.order).joinedload(PhysicianOrder.drug),
            joinedload(Visit.order).selectinload(PhysicianOrder.diagnoses),
        ],
    )
    if visit is None:
        raise NotFound(f"Visit {visit_id} no longer exists.")
    return visit


class CheckInService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def review(self, actor: Actor, visit_id: int, today: date | None = None) -> CheckInReview:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            visit = _load(session, visit_id)
            return review_visit(session, visit, today or _local_day(utcnow(), clinic_timezone(session)))

    def check_in(
        self, actor: Actor, visit_id: int, *, acknowledge_problems: bool = False, at: datetime | None = None
    ) -> CheckInReview:
        """Mark the patient arrived. Open errors must be fixed first, or accepted by the desk."""
        actor.require(Permission.CHECK_IN)
        at = at or utcnow()
        with self._db.session() as session:
            zone = clinic_timezone(session)
            visit = _load(session, visit_id)
            if visit.status is not VisitStatus.SCHEDULED:
                raise ValidationFailed(
                    [
                        error(
                            "STATUS",
                            f"This visit is already {visit.status.value.replace('_', ' ')}; only a scheduled "
                            "visit can be checked in.",
                            "status",
                        )
                    ]
                )
            today = _local_day(at, zone)
            if visit.date_of_service != today:
                raise ValidationFailed(
                    [
                        error(
                            "NOT_TODAY",
                            f"This visit is booked for {visit.date_of_service:%m/%d/%Y}; check patients in "
                            "on the day of their visit (move the booking first if they came on another day).",
                            "date",
                        )
                    ]
                )
            review = review_visit(session, visit, today)
            blocking = [p for p in review.problems if p.blocks]
            if blocking and not acknowledge_problems:
                raise ValidationFailed([error(p.code, p.message, p.fix.value) for p in blocking])
            visit.status = VisitStatus.CHECKED_IN
            visit.checked_in_at = at
            audit.record(
                session,
                actor,
                "check_in",
                "visit",
                visit.id,
                patient_id=visit.patient_id,
                detail={"accepted_problems": [p.code for p in blocking]},
            )
            return review_visit(session, visit, today)

    def collect_copay(self, actor: Actor, visit_id: int, data: CopayInput) -> CopayRecord:
        actor.require(Permission.PATIENT_PAYMENT)
        amount, findings = validate_copay(data)
        if any(f.blocks for f in findings) or amount is None:
            raise ValidationFailed(findings)
        with self._db.session() as session:
            visit = session.get(Visit, visit_id)
            if visit is None:
                raise NotFound(f"Visit {visit_id} no longer exists.")
            if visit.status in (VisitStatus.CANCELLED, VisitStatus.NO_SHOW):
                raise ValidationFailed(
                    [
                        error(
                            "STATUS",
                            "This visit did not take place; record the payment on "
                            "the patient's account instead.",
                            "status",
                        )
                    ]
                )
            received_on = _local_day(utcnow(), clinic_timezone(session))
            payment = PatientPayment(
                patient_id=visit.patient_id,
                visit_id=visit.id,
                received_on=received_on,
                amount=amount,
                method=data.method,
                reference=(data.reference or "").strip() or None,
                posted_by_id=actor.user_id,
            )
            session.add(payment)
            session.flush()
            audit.record(
                session,
                actor,
                "collect_copay",
                "patient_payment",
                payment.id,
                patient_id=visit.patient_id,
                detail={"visit_id": visit.id, "amount": str(amount)},
            )
            return CopayRecord(
                payment.id, receipt_number(payment.id), amount, payment.method, payment.reference, received_on
            )

    def receipt(self, actor: Actor, payment_id: int) -> bytes:
        """The copay receipt as PDF bytes."""
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            payment = session.get(PatientPayment, payment_id)
            if payment is None:
                raise NotFound(f"Payment {payment_id} no longer exists.")
            audit.record(session, actor, "print_receipt", "patient_payment", payment.id,
                         patient_id=payment.patient_id)
            return render_receipt(receipt_for(session, payment))
