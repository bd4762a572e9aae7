"""Payment plans: a patient's due balance paid by instalments, and the list of missed payments.

    plans = PlanService(db)
    draft = plans.draft(actor, patient_id)                      # what could go on a plan, the rules
    check = check_plan(draft, PlanInput(instalments=4, first_due_date=day))   # the schedule, findings
    view = plans.create(actor, patient_id, PlanInput(instalments=4, first_due_date=day))
    plans.plan(actor, patient_id)                               # each instalment paid, due or missed
    plans.missed_payments(actor)                                # who is behind, across patients
    plans.cancel(actor, view.plan_id, "Patient will pay in full")

**What goes on a plan.** Only lines in the *patient due* state (the patient's share,
less what was already paid on it); by default every one of them. The plan's total is what
those lines owe the day it is made. Each chosen line gets ``payment_plan_id`` and its state
becomes *payment plan* (:func:`~infusion_desk.services.balances.refresh_line_balances`), so
statements stop billing it and it is never handed to collections. A patient has at most one
active plan. Rules: at least 2 instalments, each at least the clinic's minimum (default
$25.00), the first due date today or later, 7 to 92 days between instalments.

**Payments.** What counts toward the plan is what patient payments taken after the plan was
made allocated to its lines, on the date each payment was received. The instalments are paid
in order (:mod:`infusion_desk.billing.plans`); an instalment is missed once its due date plus
the grace days (default 10) has passed and it is not fully paid.

**Status.** :func:`refresh_plans` runs whenever a plan or the missed-payment list is read: an
active plan whose lines are all paid is *completed*; one with as many missed instalments as
the clinic's limit (default 2) is *defaulted*, and its lines are patient-due again (billed on
statements, and collections may take them). Cancelling a plan does the same on purpose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing import plans as rules
from infusion_desk.billing.findings import Finding, error, us_date
from infusion_desk.billing.money import ZERO, money
from infusion_desk.billing.plans import Instalment, InstalmentState, MissedInstalment, PlanError
from infusion_desk.models import (
    Claim,
    ClaimLine,
    Patient,
    PatientPayment,
    PaymentAllocation,
    PaymentPlan,
)
from infusion_desk.models.db import Database
from infusion_desk.models.enums import LineResponsibility, PlanStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.balances import refresh_line_balances
from infusion_desk.services.claims import clinic_today
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.patient_payments import AccountLine, parse_amount
from infusion_desk.services.patient_payments import _lines as account_lines
from infusion_desk.services.settings_store import read_setting, write_setting

SETTING_MINIMUM = "plans.minimum_instalment"
SETTING_GRACE = "plans.grace_days"
SETTING_DEFAULT_AFTER = "plans.default_after_missed"
DEFAULT_MINIMUM = Decimal("25.00")
DEFAULT_GRACE_DAYS = 10
DEFAULT_AFTER_MISSED = 2
MIN_INSTALMENTS = 2
MIN_INTERVAL, MAX_INTERVAL = 7, 92

STATUS_LABELS = {
    PlanStatus.ACTIVE: "Active",
    PlanStatus.COMPLETED: "Completed",
    PlanStatus.DEFAULTED: "Defaulted",
    PlanStatus.CANCELLED: "Cancelled",
}


@dataclass(frozen=True, slots=True)
class PlanSettings:
    minimum_instalment: Decimal = DEFAULT_MINIMUM
    """No regular instalment may be smaller (the last one takes the remainder)."""
    grace_days: int = DEFAULT_GRACE_DAYS
    """Days after a due date before an unpaid instalment counts as missed."""
    default_after_missed: int = DEFAULT_AFTER_MISSED
    """An active plan with this many missed instalments is defaulted."""


@dataclass(frozen=True, slots=True)
class PlanInput:
    instalments: int | None = None
    """How many instalments; or leave it out and give ``instalment_amount``."""
    instalment_amount: str | None = None
    """The amount of each instalment as typed (``"75.00"``)."""
    first_due_date: date | None = None
    interval_days: int = 30
    line_ids: tuple[int, ...] | None = None
    """The patient-due lines to put on the plan; ``None`` puts all of them."""


@dataclass(frozen=True, slots=True)
class DueLine:
    line_id: int
    claim_number: str
    service_date: date
    code: str
    due: Decimal


@dataclass(frozen=True, slots=True)
class PlanDraft:
    """Everything the plan dialog needs to check a plan as the user types, without the database."""

    patient_id: int
    patient_name: str
    today: date
    settings: PlanSettings
    lines: tuple[DueLine, ...]
    """The patient-due lines, oldest date of service first."""
    active_plan_id: int | None
    blocked: dict[int, str] = field(default_factory=dict)
    """Lines of the account that cannot go on a plan, with the reason (``line_id -> why``)."""

    @property
    def total_due(self) -> Decimal:
        return sum((line.due for line in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class PlanCheck:
    total: Decimal
    schedule: tuple[Instalment, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.blocks for f in self.findings)


@dataclass(frozen=True, slots=True)
class PlanLine:
    line_id: int
    claim_number: str
    service_date: date
    code: str
    left: Decimal
    """What the patient still owes on the line."""
    state: LineResponsibility


@dataclass(frozen=True, slots=True)
class PlanView:
    plan_id: int
    patient_id: int
    patient_name: str
    status: PlanStatus
    total: Decimal
    instalment_amount: Decimal
    instalments: int
    first_due_date: date
    interval_days: int
    created_on: date
    schedule: tuple[InstalmentState, ...]
    paid: Decimal
    """Payments taken since the plan was made that went to its lines."""
    balance_left: Decimal
    """What the plan's lines still owe."""
    missed: tuple[MissedInstalment, ...]
    lines: tuple[PlanLine, ...]

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def amount_overdue(self) -> Decimal:
        return sum((m.amount_overdue for m in self.missed), ZERO)


@dataclass(frozen=True, slots=True)
class MissedPaymentRow:
    plan_id: int
    patient_id: int
    patient: str
    """``Last, First``."""
    mrn: str
    phone: str | None
    status: PlanStatus
    instalments_missed: int
    amount_overdue: Decimal
    days_late: int
    """Days since the oldest missed instalment was due."""
    balance_left: Decimal
    next_due: date | None
    """The next instalment not yet due, if any."""


@dataclass(frozen=True, slots=True)
class PlanChange:
    plan_id: int
    patient_id: int
    before: PlanStatus
    after: PlanStatus


# --- rules on plain data -------------------------------------------------------------------------


def _money_text(value: Decimal) -> str:
    return f"${value:,.2f}"


def check_plan(draft: PlanDraft, data: PlanInput) -> PlanCheck:
    """The plan ``data`` would make for ``draft``'s patient: its schedule, or what to fix (pure)."""
    findings: list[Finding] = []
    if draft.active_plan_id is not None:
        findings.append(
            error(
                "ACTIVE_PLAN",
                "This patient already has an active payment plan; cancel it before making a new one.",
                "plan",
            )
        )
    chosen = _chosen(draft, data.line_ids, findings)
    total = sum((line.due for line in chosen), ZERO)
    if not draft.lines:
        findings.append(
            error(
                "NOTHING_DUE",
                "Nothing on this account is patient-due: there is no balance to put on a plan.",
                "lines",
            )
        )
    amount: Decimal | None = None
    typed_amount = (data.instalment_amount or "").strip()
    if data.instalments is not None and typed_amount:
        findings.append(
            error(
                "PLAN_TERMS",
                "Enter the number of instalments or the instalment amount, not both.",
                "instalments",
            )
        )
    elif data.instalments is None and not typed_amount:
        findings.append(
            error("PLAN_TERMS", "Enter the number of instalments or the instalment amount.", "instalments")
        )
    elif data.instalments is not None:
        if data.instalments < MIN_INSTALMENTS:
            findings.append(
                error(
                    "INSTALMENTS",
                    f"A plan has at least {MIN_INSTALMENTS} instalments; for one, take a payment instead.",
                    "instalments",
                )
            )
        elif data.instalments > rules.MAX_INSTALMENTS:
            findings.append(
                error(
                    "INSTALMENTS",
                    f"A plan has at most {rules.MAX_INSTALMENTS} instalments.",
                    "instalments",
                )
            )
    else:
        amount, amount_findings = parse_amount(typed_amount, "instalment_amount")
        findings += amount_findings
    if data.first_due_date is None:
        findings.append(error("FIRST_DUE", "Enter the first due date.", "first_due_date"))
    elif data.first_due_date < draft.today:
        findings.append(
            error(
                "FIRST_DUE",
                f"The first due date cannot be in the past (today is {us_date(draft.today)}).",
                "first_due_date",
            )
        )
    if not MIN_INTERVAL <= data.interval_days <= MAX_INTERVAL:
        findings.append(
            error(
                "INTERVAL",
                f"Days between instalments must be from {MIN_INTERVAL} to {MAX_INTERVAL} (30 is monthly).",
                "interval_days",
            )
        )
    plan: tuple[Instalment, ...] = ()
    terms = ("instalments", "instalment_amount")
    if total > 0 and not any(f.blocks and f.subject in terms for f in findings):
        try:
            plan = rules.schedule(
                total,
                instalments=data.instalments,
                instalment_amount=amount,
                first_due=data.first_due_date or draft.today,
                interval_days=max(data.interval_days, 1),
            )
        except PlanError:
            findings.append(
                error(
                    "INSTALMENTS",
                    f"{_money_text(total)} cannot be split that way: use fewer instalments or a "
                    "smaller amount.",
                    "instalment_amount" if amount is not None else "instalments",
                )
            )
        else:
            subject = "instalment_amount" if amount is not None else "instalments"
            if len(plan) < MIN_INSTALMENTS:
                findings.append(
                    error(
                        "INSTALMENTS",
                        f"An instalment of {_money_text(plan[0].amount)} pays the whole "
                        f"{_money_text(total)} at once: enter a smaller amount, or take a payment instead.",
                        subject,
                    )
                )
            elif plan[0].amount < draft.settings.minimum_instalment:
                findings.append(
                    error(
                        "MINIMUM",
                        f"Each instalment must be at least {_money_text(draft.settings.minimum_instalment)} "
                        f"(this plan's are {_money_text(plan[0].amount)}): use fewer instalments.",
                        subject,
                    )
                )
    return PlanCheck(total, plan, tuple(findings))


def _chosen(draft: PlanDraft, line_ids: Sequence[int] | None, findings: list[Finding]) -> list[DueLine]:
    if line_ids is None:
        return list(draft.lines)
    by_id = {line.line_id: line for line in draft.lines}
    if not line_ids:
        findings.append(error("NO_LINES", "Choose at least one patient-due line for the plan.", "lines"))
    if len(set(line_ids)) != len(line_ids):
        findings.append(error("LINE_TWICE", "A line was chosen twice.", "lines"))
    chosen = []
    for line_id in dict.fromkeys(line_ids):
        if line_id in by_id:
            chosen.append(by_id[line_id])
        elif line_id in draft.blocked:
            findings.append(error("NOT_DUE", draft.blocked[line_id], "lines"))
        else:
            findings.append(
                error("NOT_PATIENTS_LINE", f"Line {line_id} is not on this patient's account.", "lines")
            )
    return sorted(chosen, key=lambda line: (line.service_date, line.line_id))


def _why_not(line: AccountLine) -> str:
    what = f"{line.code} of {us_date(line.service_date)} (claim {line.claim_number})"
    if not line.current:
        why = "its claim was replaced or passed to the next payer"
    elif line.state in (LineResponsibility.INSURANCE_PENDING, LineResponsibility.SECONDARY_PENDING):
        why = "it still waits for insurance"
    elif line.state is LineResponsibility.PAYMENT_PLAN:
        why = "it is already on a payment plan"
    elif line.state is LineResponsibility.IN_COLLECTIONS:
        why = "it is with collections; recall it first"
    else:
        why = "nothing is owed on it"
    return f"{what} cannot go on a plan: {why}."


# --- settings ------------------------------------------------------------------------------------


def _int_setting(session: Session, key: str, default: int) -> int:
    value = read_setting(session, key)
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else default


def load_settings(session: Session) -> PlanSettings:
    """The clinic's plan rules (the defaults where none is stored)."""
    raw = read_setting(session, SETTING_MINIMUM)
    try:
        minimum = money(str(raw)) if raw is not None else DEFAULT_MINIMUM
    except (ValueError, TypeError, InvalidOperation):
        minimum = DEFAULT_MINIMUM
    return PlanSettings(
        minimum_instalment=minimum if minimum >= 0 else DEFAULT_MINIMUM,
        grace_days=_int_setting(session, SETTING_GRACE, DEFAULT_GRACE_DAYS),
        default_after_missed=max(_int_setting(session, SETTING_DEFAULT_AFTER, DEFAULT_AFTER_MISSED), 1),
    )


def settings_findings(settings: PlanSettings) -> list[Finding]:
    findings = []
    if settings.minimum_instalment < 0 or settings.minimum_instalment != settings.minimum_instalment.quantize(
        Decimal("0.01")
    ):
        findings.append(
            error(
                "PLAN_MINIMUM",
                "The minimum instalment must be $0.00 or more, in cents.",
                "minimum_instalment",
            )
        )
    if not 0 <= settings.grace_days <= 60:
        findings.append(error("PLAN_GRACE", "Grace days must be from 0 to 60 (10 is usual).", "grace_days"))
    if not 1 <= settings.default_after_missed <= 12:
        findings.append(
            error(
                "PLAN_DEFAULT",
                "A plan defaults after 1 to 12 missed instalments (2 is usual).",
                "default_after_missed",
            )
        )
    return findings


# --- reading the record --------------------------------------------------------------------------


def _patient(session: Session, patient_id: int, *, lock: bool = False) -> Patient:
    query = sa.select(Patient).where(Patient.id == patient_id)
    patient = session.scalar(query.with_for_update() if lock else query)
    if patient is None:
        raise NotFound(f"Patient {patient_id} no longer exists.")
    return patient


def _draft(session: Session, patient: Patient, today: date) -> PlanDraft:
    lines = account_lines(session, patient.id)
    active = session.scalar(
        sa.select(PaymentPlan.id).where(
            PaymentPlan.patient_id == patient.id, PaymentPlan.status == PlanStatus.ACTIVE
        )
    )
    return PlanDraft(
        patient_id=patient.id,
        patient_name=f"{patient.last_name}, {patient.first_name}",
        today=today,
        settings=load_settings(session),
        lines=tuple(
            DueLine(line.line_id, line.claim_number, line.service_date, line.code, line.due)
            for line in lines
            if line.due > 0
        ),
        active_plan_id=active,
        blocked={line.line_id: _why_not(line) for line in lines if line.due <= 0},
    )


def _local_day(session: Session, at: datetime) -> date:
    return at.astimezone(clinic_timezone(session)).date()


def _received(session: Session, plan: PaymentPlan) -> list[tuple[date, Decimal]]:
    """(date received, amount) of what each payment taken since the plan began put on its lines."""
    rows = session.execute(
        sa.select(PatientPayment.received_on, PaymentAllocation.amount)
        .join(PatientPayment, PatientPayment.id == PaymentAllocation.payment_id)
        .join(ClaimLine, ClaimLine.id == PaymentAllocation.claim_line_id)
        .where(
            ClaimLine.payment_plan_id == plan.id,
            PatientPayment.is_refund.is_(False),
            PatientPayment.created_at >= plan.created_at,
        )
        .order_by(PatientPayment.received_on, PatientPayment.id)
    ).all()
    return [(day, money(amount)) for day, amount in rows]


def _plan_lines(session: Session, plan_id: int) -> list[sa.Row[Any]]:
    return list(
        session.execute(
            sa.select(
                ClaimLine.id, ClaimLine.claim_id, Claim.claim_number, ClaimLine.service_date, ClaimLine.code,
                ClaimLine.patient_responsibility, ClaimLine.patient_paid, ClaimLine.responsibility,
                ClaimLine.collections_on,
            )
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(ClaimLine.payment_plan_id == plan_id)
            .order_by(ClaimLine.service_date, ClaimLine.line_number, ClaimLine.id)
        )
    )


def _view(session: Session, plan: PaymentPlan, today: date, settings: PlanSettings) -> PlanView:
    patient = session.get(Patient, plan.patient_id)
    assert patient is not None
    lines = _plan_lines(session, plan.id)
    received = _received(session, plan)
    schedule = rules.schedule(
        plan.total_amount,
        instalments=plan.instalments,
        instalment_amount=plan.instalment_amount,
        first_due=plan.first_due_date,
        interval_days=plan.interval_days,
    )
    states = rules.instalment_states(schedule, received, today, settings.grace_days)
    return PlanView(
        plan_id=plan.id,
        patient_id=plan.patient_id,
        patient_name=f"{patient.last_name}, {patient.first_name}",
        status=plan.status,
        total=plan.total_amount,
        instalment_amount=plan.instalment_amount,
        instalments=plan.instalments,
        first_due_date=plan.first_due_date,
        interval_days=plan.interval_days,
        created_on=_local_day(session, plan.created_at),
        schedule=states,
        paid=sum((amount for day, amount in received if day <= today), ZERO),
        balance_left=sum((max(r.patient_responsibility - r.patient_paid, ZERO) for r in lines), ZERO),
        missed=rules.missed(schedule, received, today, settings.grace_days),
        lines=tuple(
            PlanLine(
                r.id, r.claim_number, r.service_date, r.code,
                max(r.patient_responsibility - r.patient_paid, ZERO), r.responsibility,
            )
            for r in lines
        ),
    )


def refresh_plans(
    session: Session,
    actor: Actor | None,
    today: date,
    patient_ids: Iterable[int] | None = None,
) -> list[PlanChange]:
    """Complete the active plans whose lines are paid and default those missed too often.

    Runs inside the caller's unit of work; a plan that leaves *active* releases its lines
    (their state is recomputed) and the change is audited.
    """
    settings = load_settings(session)
    query = sa.select(PaymentPlan).where(PaymentPlan.status == PlanStatus.ACTIVE)
    if patient_ids is not None:
        ids = sorted(set(patient_ids))
        if not ids:
            return []
        query = query.where(PaymentPlan.patient_id.in_(ids))
    changes: list[PlanChange] = []
    for plan in session.scalars(query.order_by(PaymentPlan.id)).all():
        view = _view(session, plan, today, settings)
        after = PlanStatus(
            rules.plan_status(
                plan.status.value, view.balance_left, len(view.missed), settings.default_after_missed
            )
        )
        if after is plan.status:
            continue
        changes.append(PlanChange(plan.id, plan.patient_id, plan.status, after))
        plan.status = after
        session.flush()
        refresh_line_balances(session, {line.claim_id for line in _plan_lines(session, plan.id)})
        audit.record(
            session, actor, f"plan_{after.value}", "payment_plan", plan.id, patient_id=plan.patient_id,
            detail={
                "automatic": True,
                "balance_left": str(view.balance_left),
                "missed": len(view.missed),
                "paid": str(view.paid),
            },
        )
    return changes


class PlanService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- settings ----------------------------------------------------------------------------------

    def settings(self, actor: Actor) -> PlanSettings:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return load_settings(session)

    def set_settings(self, actor: Actor, settings: PlanSettings) -> PlanSettings:
        """Change the minimum instalment, the grace days and when a plan defaults (audited)."""
        actor.require(Permission.CLINIC_SETTINGS)
        findings = settings_findings(settings)
        if findings:
            raise ValidationFailed(findings)
        with self._db.session() as session:
            before = load_settings(session)
            for key, value in (
                (SETTING_MINIMUM, str(settings.minimum_instalment)),
                (SETTING_GRACE, settings.grace_days),
                (SETTING_DEFAULT_AFTER, settings.default_after_missed),
            ):
                write_setting(session, key, value)
            audit.record(
                session, actor, "set_setting", "setting", "plans",
                detail={"before": str(before), "after": str(settings)},
            )
        return settings

    # -- one patient -------------------------------------------------------------------------------

    def draft(self, actor: Actor, patient_id: int, today: date | None = None) -> PlanDraft:
        """What could go on a plan for the patient, and the clinic's rules, for the dialog to check."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return _draft(session, _patient(session, patient_id), today or clinic_today(session))

    def create(self, actor: Actor, patient_id: int, data: PlanInput, today: date | None = None) -> PlanView:
        """Put the patient-due lines on a new plan; a broken rule is refused with findings, nothing saved."""
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            today = today or clinic_today(session)
            patient = _patient(session, patient_id, lock=True)
            draft = _draft(session, patient, today)
            check = check_plan(draft, data)
            if not check.ok:
                raise ValidationFailed(check.findings)
            chosen = (
                [line.line_id for line in draft.lines]
                if data.line_ids is None
                else list(dict.fromkeys(data.line_ids))
            )
            plan = PaymentPlan(
                patient_id=patient.id,
                total_amount=check.total,
                instalment_amount=check.schedule[0].amount,
                instalments=len(check.schedule),
                first_due_date=check.schedule[0].due_date,
                interval_days=data.interval_days,
                status=PlanStatus.ACTIVE,
            )
            session.add(plan)
            session.flush()
            lines = session.scalars(sa.select(ClaimLine).where(ClaimLine.id.in_(chosen))).all()
            for line in lines:
                line.payment_plan_id = plan.id
            refresh_line_balances(session, {line.claim_id for line in lines})
            audit.record(
                session, actor, "create_payment_plan", "payment_plan", plan.id, patient_id=patient.id,
                detail={
                    "total": str(plan.total_amount),
                    "instalments": plan.instalments,
                    "instalment_amount": str(plan.instalment_amount),
                    "first_due_date": plan.first_due_date.isoformat(),
                    "interval_days": plan.interval_days,
                    "lines": sorted(chosen),
                },
            )
            return _view(session, plan, today, draft.settings)

    def plan(self, actor: Actor, patient_id: int, today: date | None = None) -> PlanView | None:
        """The patient's active plan (else the latest one) with each instalment paid, due or missed."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            today = today or clinic_today(session)
            _patient(session, patient_id)
            refresh_plans(session, actor, today, [patient_id])
            plan = session.scalar(
                sa.select(PaymentPlan)
                .where(PaymentPlan.patient_id == patient_id)
                .order_by((PaymentPlan.status == PlanStatus.ACTIVE).desc(), PaymentPlan.id.desc())
                .limit(1)
            )
            return None if plan is None else _view(session, plan, today, load_settings(session))

    def cancel(self, actor: Actor, plan_id: int, reason: str, today: date | None = None) -> PlanView:
        """End an active plan on purpose: its lines are patient-due again (billed on statements)."""
        actor.require(Permission.PATIENT_PAYMENT)
        if not (reason or "").strip():
            raise ValidationFailed([error("REASON", "Say why the plan is cancelled.", "reason")])
        with self._db.session() as session:
            today = today or clinic_today(session)
            plan = session.get(PaymentPlan, plan_id)
            if plan is None:
                raise NotFound(f"Payment plan {plan_id} no longer exists.")
            _patient(session, plan.patient_id, lock=True)
            if plan.status is not PlanStatus.ACTIVE:
                raise ValidationFailed(
                    [
                        error(
                            "NOT_ACTIVE",
                            f"The plan is already {STATUS_LABELS[plan.status].lower()}; only an active "
                            "plan can be cancelled.",
                            "plan",
                        )
                    ]
                )
            plan.status = PlanStatus.CANCELLED
            session.flush()
            refresh_line_balances(session, {line.claim_id for line in _plan_lines(session, plan.id)})
            audit.record(
                session, actor, "cancel_payment_plan", "payment_plan", plan.id, patient_id=plan.patient_id,
                detail={"reason": reason.strip()},
            )
            return _view(session, plan, today, load_settings(session))

    # -- across patients ---------------------------------------------------------------------------

    def missed_payments(self, actor: Actor, today: date | None = None) -> tuple[MissedPaymentRow, ...]:
        """Plans with missed instalments and a balance left, most overdue first.

        Active plans, and plans just defaulted whose lines are not yet with collections.
        """
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            today = today or clinic_today(session)
            refresh_plans(session, actor, today)
            settings = load_settings(session)
            plans = session.scalars(
                sa.select(PaymentPlan).where(
                    PaymentPlan.status.in_((PlanStatus.ACTIVE, PlanStatus.DEFAULTED)),
                    PaymentPlan.first_due_date < today,
                )
            ).all()
            rows: list[MissedPaymentRow] = []
            for plan in plans:
                view = _view(session, plan, today, settings)
                if not view.missed or view.balance_left <= 0:
                    continue
                if plan.status is PlanStatus.DEFAULTED and not any(
                    line.state is LineResponsibility.PATIENT_DUE for line in view.lines
                ):
                    continue
                patient = session.get(Patient, plan.patient_id)
                assert patient is not None
                upcoming = [s.instalment.due_date for s in view.schedule if s.instalment.due_date > today]
                rows.append(
                    MissedPaymentRow(
                        plan_id=plan.id,
                        patient_id=patient.id,
                        patient=view.patient_name,
                        mrn=patient.mrn,
                        phone=patient.phone or patient.guarantor_phone,
                        status=plan.status,
                        instalments_missed=len(view.missed),
                        amount_overdue=view.amount_overdue,
                        days_late=max(m.days_late for m in view.missed),
                        balance_left=view.balance_left,
                        next_due=upcoming[0] if upcoming else None,
                    )
                )
            rows.sort(key=lambda r: (-r.days_late, -r.amount_overdue, r.patient))
            return tuple(rows)
