"""A patient's account: what each line owes, payments taken and applied, credits, refunds, small balances.

    desk = PatientPaymentService(db)
    account = desk.account(actor, patient_id)       # lines, payments, totals
    paid = desk.post_payment(actor, patient_id, PaymentInput("50.00", PaymentMethod.CHECK, "1042"))
    pdf = desk.receipt(actor, paid.payment_id)
    desk.apply_credit(actor, patient_id)            # a copay or an overpayment meets newly due lines
    desk.refund(manager, patient_id, "10.00", PaymentMethod.CHECK, "2210", "Overpaid")
    desk.write_off_small_balances(manager)          # every account owing less than the threshold

Money is only ever allocated to lines in the ``patient_due`` state: a line whose share
still waits for a payer (insurance or secondary pending) is never billed to the patient, so
a payment made early is a credit on the account until lines become due, and "Apply credit"
then allocates it, oldest date of service first (rules: :mod:`infusion_desk.billing.allocation`).
After every change each touched line's ``patient_paid`` is set to the sum of its allocations
and the lines' split and state are recomputed (:func:`~infusion_desk.services.balances.refresh_line_balances`)
in the same unit of work, so a fully paid line is ``settled`` at once.

A chosen line that is not patient-due is refused with the reason; to take money in
advance, post it without choosing lines: it waits as a credit. The credit balance is what
payments left unallocated, less refunds. Refunds and reversals need
:attr:`Permission.PATIENT_REFUND` and small-balance write-offs :attr:`Permission.WRITE_OFF_APPROVE`
(both a manager's): they send money or a balance out of the clinic's books, so the person who
takes payments is not the one who gives them back.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.allocation import (
    DueLine,
    allocate,
    credit_sources,
    draw,
    is_cents,
)
from infusion_desk.billing.findings import Finding, error, us_date
from infusion_desk.billing.money import ZERO
from infusion_desk.billing.receipts import render_receipt
from infusion_desk.models import (
    Claim,
    ClaimLine,
    LineAdjustment,
    Patient,
    PatientPayment,
    PaymentAllocation,
)
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import LineResponsibility, PaymentMethod
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.balances import refresh_line_balances
from infusion_desk.services.check_in import receipt_for, receipt_number
from infusion_desk.services.claims import clinic_today
from infusion_desk.services.concurrency import take_version
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.settings_store import read_setting, write_setting

SMALL_BALANCE_SETTING = "patient_payments.small_balance_threshold"
DEFAULT_SMALL_BALANCE = Decimal("5.00")
MAX_SMALL_BALANCE = Decimal("100.00")
"""A guard against a mistyped threshold writing off real balances."""
SMALL_BALANCE_WRITE_OFF = "small_balance_write_off"

METHODS = (PaymentMethod.CASH, PaymentMethod.CHECK, PaymentMethod.CARD, PaymentMethod.OTHER)
"""How a patient pays at the desk (EFT is how payers pay)."""

STATE_LABELS = {
    LineResponsibility.INSURANCE_PENDING: "Insurance pending",
    LineResponsibility.SECONDARY_PENDING: "Secondary pending",
    LineResponsibility.PATIENT_DUE: "Patient due",
    LineResponsibility.PAYMENT_PLAN: "Payment plan",
    LineResponsibility.IN_COLLECTIONS: "In collections",
    LineResponsibility.WRITTEN_OFF: "Written off",
    LineResponsibility.SETTLED: "Settled",
}

_CARD_NUMBER = re.compile(r"\d[\d -]{11,}\d")


@dataclass(frozen=True, slots=True)
class AccountLine:
    line_id: int
    claim_id: int
    claim_number: str
    line_number: int
    service_date: date
    code: str
    charge: Decimal
    insurance_paid: Decimal
    adjusted: Decimal
    patient_responsibility: Decimal
    patient_paid: Decimal
    state: LineResponsibility
    current: bool
    """False for a claim replaced, voided or passed on to the next payer: shown, never counted."""

    @property
    def due(self) -> Decimal:
        """What the patient still owes on the line: patient due, on a plan or with collections."""
        if self.state not in OWED_BY_PATIENT or not self.current:
            return ZERO
        return max(self.patient_responsibility - self.patient_paid, ZERO)

    @property
    def awaiting_insurance(self) -> Decimal:
        """What a payer still has to answer for on the line."""
        if not self.current:
            return ZERO
        if self.state is LineResponsibility.INSURANCE_PENDING:
            return self.charge - self.insurance_paid - self.adjusted - self.patient_responsibility
        if self.state is LineResponsibility.SECONDARY_PENDING:
            return self.patient_responsibility - self.patient_paid
        return ZERO

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state] if self.current else f"{STATE_LABELS[self.state]} (superseded)"


@dataclass(frozen=True, slots=True)
class AccountPayment:
    payment_id: int
    receipt_number: str
    received_on: date
    amount: Decimal
    method: PaymentMethod
    reference: str | None
    is_refund: bool
    allocated: Decimal
    visit_id: int | None
    """Set for a copay collected at check-in."""

    @property
    def unallocated(self) -> Decimal:
        return ZERO if self.is_refund else self.amount - self.allocated


@dataclass(frozen=True, slots=True)
class PatientAccount:
    patient_id: int
    patient_name: str
    mrn: str
    lines: tuple[AccountLine, ...]
    """Oldest date of service first."""
    payments: tuple[AccountPayment, ...]
    """Newest first."""
    patient_due: Decimal
    awaiting_insurance: Decimal
    credit_balance: Decimal
    small_balance_threshold: Decimal

    @property
    def due_lines(self) -> tuple[AccountLine, ...]:
        return tuple(line for line in self.lines if line.due > 0)


@dataclass(frozen=True, slots=True)
class PaymentInput:
    amount: str
    method: PaymentMethod
    reference: str | None = None
    received_on: date | None = None
    """Defaults to today in the clinic's time zone."""
    chosen_line_ids: tuple[int, ...] | None = None
    """Lines to pay, in this order; ``None`` pays the oldest due lines first."""


@dataclass(frozen=True, slots=True)
class AppliedLine:
    line_id: int
    claim_number: str
    service_date: date
    code: str
    amount: Decimal


@dataclass(frozen=True, slots=True)
class PaymentRecord:
    payment_id: int
    receipt_number: str
    patient_id: int
    amount: Decimal
    method: PaymentMethod
    reference: str | None
    received_on: date
    applied: tuple[AppliedLine, ...]
    credit: Decimal
    """What this payment left unallocated."""
    credit_balance: Decimal
    """The account's credit balance after the payment."""
    patient_due: Decimal
    """What the patient still owes after the payment."""


@dataclass(frozen=True, slots=True)
class CreditApplied:
    patient_id: int
    applied: tuple[AppliedLine, ...]
    amount: Decimal
    credit_balance: Decimal
    patient_due: Decimal


@dataclass(frozen=True, slots=True)
class RefundRecord:
    payment_id: int
    receipt_number: str
    amount: Decimal
    credit_balance: Decimal


@dataclass(frozen=True, slots=True)
class WriteOffSummary:
    patients: int
    lines: int
    total: Decimal
    threshold: Decimal
    skipped_with_credit: int
    """Accounts with a small balance left alone because a credit could pay it: apply the credit."""


def parse_amount(text: str, field: str = "amount") -> tuple[Decimal | None, tuple[Finding, ...]]:
    """A positive amount of dollars and cents typed by a person (``$1,250.5`` is fine)."""
    cleaned = (text or "").strip().lstrip("$").replace(",", "")
    if not cleaned:
        return None, (error("AMOUNT", "Enter the amount.", field),)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None, (error("AMOUNT", f"Amount {text!r} is not a number of dollars.", field),)
    if not value.is_finite():
        return None, (error("AMOUNT", f"Amount {text!r} is not a number of dollars.", field),)
    if not is_cents(value):
        return None, (error("AMOUNT", "Enter the amount in dollars and cents: at most two decimals.", field),)
    if value <= 0:
        return None, (error("AMOUNT", "The amount must be more than zero.", field),)
    return value.quantize(Decimal("0.01")), ()


def method_findings(method: PaymentMethod | str, reference: str | None) -> tuple[Finding, ...]:
    """The method is one the desk takes, with the reference it needs and never a card number."""
    findings: list[Finding] = []
    try:
        method = PaymentMethod(method)
    except ValueError:
        return (error("METHOD", "Choose cash, check, card or other.", "method"),)
    if method not in METHODS:
        findings.append(error("METHOD", "Choose cash, check, card or other.", "method"))
    ref = (reference or "").strip()
    if method is PaymentMethod.CHECK and not ref:
        findings.append(error("REFERENCE", "Enter the check number.", "reference"))
    if method is PaymentMethod.CARD and not ref:
        findings.append(
            error(
                "REFERENCE",
                "Enter the card terminal's approval code or the card's last four digits.",
                "reference",
            )
        )
    if _CARD_NUMBER.search(ref) and sum(ch.isdigit() for ch in ref) >= 13:
        findings.append(
            error(
                "CARD_NUMBER",
                "Never record a full card number: enter only the last four digits or the "
                "terminal's approval code.",
                "reference",
            )
        )
    if len(ref) > 60:
        findings.append(error("REFERENCE", "Keep the reference to 60 characters.", "reference"))
    return tuple(findings)


def _money_text(value: Decimal) -> str:
    return f"${value:,.2f}"


class PatientPaymentService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- reading ---------------------------------------------------------------------------

    def account(self, actor: Actor, patient_id: int) -> PatientAccount:
        """The patient's ledger: every billed line with its split and state, payments and totals."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            account = _account(session, patient_id)
            audit.record(session, actor, "view", "patient_account", patient_id, patient_id=patient_id)
            return account

    def small_balance_threshold(self, actor: Actor) -> Decimal:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return _threshold(session)

    def set_small_balance_threshold(self, actor: Actor, amount: str) -> Decimal:
        """Change the balance under which a manager may write a patient's balance off."""
        actor.require(Permission.CLINIC_SETTINGS)
        value, findings = parse_amount(amount, "threshold")
        if value is not None and value > MAX_SMALL_BALANCE:
            findings = (
                error(
                    "THRESHOLD",
                    f"The small-balance threshold may be at most {_money_text(MAX_SMALL_BALANCE)}.",
                    "threshold",
                ),
            )
        if findings or value is None:
            raise ValidationFailed(findings)
        with self._db.session() as session:
            before = _threshold(session)
            write_setting(session, SMALL_BALANCE_SETTING, str(value))
            audit.record(
                session, actor, "set_setting", "setting", SMALL_BALANCE_SETTING,
                detail={"before": str(before), "after": str(value)},
            )
        return value

    # -- taking money ----------------------------------------------------------------------

    def post_payment(self, actor: Actor, patient_id: int, data: PaymentInput) -> PaymentRecord:
        """Record a payment and allocate it (oldest due first, or the chosen lines); the rest is a credit."""
        actor.require(Permission.PATIENT_PAYMENT)
        amount, amount_findings = parse_amount(data.amount)
        findings = [*amount_findings, *method_findings(data.method, data.reference)]
        with self._db.session() as session:
            today = clinic_today(session)
            received_on = data.received_on or today
            if received_on > today:
                findings.append(
                    error("RECEIVED_ON", "The date received cannot be in the future.", "received_on")
                )
            patient = _lock_patient(session, patient_id)
            lines = _lines(session, patient_id)
            if data.chosen_line_ids is not None:
                findings += _chosen_findings(lines, data.chosen_line_ids)
            if any(f.blocks for f in findings) or amount is None:
                raise ValidationFailed(findings)
            result = allocate(amount, _due(lines), chosen=data.chosen_line_ids)
            payment = PatientPayment(
                patient_id=patient.id,
                received_on=received_on,
                amount=amount,
                method=PaymentMethod(data.method),
                reference=(data.reference or "").strip() or None,
                posted_by_id=actor.user_id,
            )
            payment.allocations = [
                PaymentAllocation(claim_line_id=line_id, amount=share) for line_id, share in result.lines
            ]
            session.add(payment)
            session.flush()
            _settle(session, [line_id for line_id, _ in result.lines])
            audit.record(
                session,
                actor,
                "post_patient_payment",
                "patient_payment",
                payment.id,
                patient_id=patient.id,
                detail={
                    "amount": str(amount),
                    "method": payment.method.value,
                    "allocations": {str(line_id): str(share) for line_id, share in result.lines},
                    "credit": str(result.credit),
                },
            )
            after = _account(session, patient_id)
            return PaymentRecord(
                payment_id=payment.id,
                receipt_number=receipt_number(payment.id),
                patient_id=patient.id,
                amount=amount,
                method=payment.method,
                reference=payment.reference,
                received_on=received_on,
                applied=_applied(lines, result.lines),
                credit=result.credit,
                credit_balance=after.credit_balance,
                patient_due=after.patient_due,
            )

    def apply_credit(self, actor: Actor, patient_id: int) -> CreditApplied:
        """Allocate the account's credit (unallocated payments, copays included) to its due lines."""
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            patient = _lock_patient(session, patient_id)
            lines = _lines(session, patient_id)
            sources = credit_sources(*_credit_parts(session, patient_id))
            credit = sum((s.available for s in sources), ZERO)
            due = _due(lines)
            if credit <= 0:
                raise ValidationFailed([error("NO_CREDIT", "The account has no credit to apply.", "credit")])
            if not due:
                raise ValidationFailed(
                    [
                        error(
                            "NOTHING_DUE",
                            "Nothing is due from the patient yet; the credit stays on the account "
                            "until insurance answers and lines become patient-due.",
                            "credit",
                        )
                    ]
                )
            result = allocate(credit, due)
            rows = draw(result.lines, sources)
            for payment_id, line_id, share in rows:
                session.add(PaymentAllocation(payment_id=payment_id, claim_line_id=line_id, amount=share))
            session.flush()
            _settle(session, [line_id for line_id, _ in result.lines])
            audit.record(
                session,
                actor,
                "apply_patient_credit",
                "patient",
                patient.id,
                patient_id=patient.id,
                detail={
                    "amount": str(result.allocated),
                    "allocations": [[p, line, str(a)] for p, line, a in rows],
                },
            )
            after = _account(session, patient_id)
            return CreditApplied(
                patient_id=patient.id,
                applied=_applied(lines, result.lines),
                amount=result.allocated,
                credit_balance=after.credit_balance,
                patient_due=after.patient_due,
            )

    def refund(
        self,
        actor: Actor,
        patient_id: int,
        amount: str,
        method: PaymentMethod,
        reference: str | None,
        reason: str,
        received_on: date | None = None,
    ) -> RefundRecord:
        """Give back part or all of the account's credit (a manager's decision); never more."""
        actor.require(Permission.PATIENT_REFUND)
        value, amount_findings = parse_amount(amount)
        findings = [*amount_findings, *method_findings(method, reference)]
        if not (reason or "").strip():
            findings.append(error("REASON", "Say why the money is refunded.", "reason"))
        with self._db.session() as session:
            patient = _lock_patient(session, patient_id)
            credit = _credit_balance(session, patient_id)
            if value is not None and value > credit:
                findings.append(
                    error(
                        "MORE_THAN_CREDIT",
                        f"Only the credit balance can be refunded: {_money_text(credit)} is on the account.",
                        "amount",
                    )
                )
            if any(f.blocks for f in findings) or value is None:
                raise ValidationFailed(findings)
            refund = PatientPayment(
                patient_id=patient.id,
                received_on=received_on or clinic_today(session),
                amount=value,
                method=PaymentMethod(method),
                reference=(reference or "").strip() or None,
                is_refund=True,
                posted_by_id=actor.user_id,
            )
            session.add(refund)
            session.flush()
            audit.record(
                session,
                actor,
                "refund_patient_credit",
                "patient_payment",
                refund.id,
                patient_id=patient.id,
                detail={"amount": str(value), "method": refund.method.value, "reason": reason.strip()},
            )
            return RefundRecord(refund.id, receipt_number(refund.id), value, credit - value)

    # -- adjustments -----------------------------------------------------------------------

    def write_off_small_balances(
        self, actor: Actor, patient_id: int | None = None, today: date | None = None
    ) -> WriteOffSummary:
        """Write off every account (or one) whose whole patient-due balance is under the threshold.

        The balance is the patient's total, not each line's: someone owing $300 in small lines
        is not written off. Accounts holding a credit are left for "Apply credit".
        """
        actor.require(Permission.WRITE_OFF_APPROVE)
        with self._db.session() as session:
            today = today or clinic_today(session)
            threshold = _threshold(session)
            if patient_id is not None:
                _lock_patient(session, patient_id)
                candidates = [patient_id]
            else:
                candidates = list(
                    session.scalars(
                        sa.select(Claim.patient_id)
                        .join(ClaimLine, ClaimLine.claim_id == Claim.id)
                        .where(ClaimLine.responsibility == LineResponsibility.PATIENT_DUE)
                        .distinct()
                        .order_by(Claim.patient_id)
                    )
                )
            at = utcnow()
            reason = (
                f"Small balance under {_money_text(threshold)} written off on {us_date(today)} "
                f"by {actor.display_name}"
            )
            patients = written = skipped = 0
            total = ZERO
            for pid in candidates:
                due = [line for line in _lines(session, pid) if line.due > 0]
                balance = sum((line.due for line in due), ZERO)
                if not due or balance >= threshold:
                    continue
                if _credit_balance(session, pid) > 0:
                    skipped += 1
                    continue
                for line in due:
                    session.add(
                        LineAdjustment(
                            claim_line_id=line.line_id,
                            kind=SMALL_BALANCE_WRITE_OFF,
                            amount=line.due,
                            reason=reason,
                            at=at,
                            user_id=actor.user_id,
                        )
                    )
                refresh_line_balances(session, {line.claim_id for line in due})
                audit.record(
                    session,
                    actor,
                    "small_balance_write_off",
                    "patient",
                    pid,
                    patient_id=pid,
                    detail={
                        "amount": str(balance),
                        "threshold": str(threshold),
                        "lines": {str(line.line_id): str(line.due) for line in due},
                    },
                )
                patients += 1
                written += len(due)
                total += balance
            if patient_id is not None and patients == 0:
                raise ValidationFailed(
                    [
                        error(
                            "NOT_SMALL",
                            "Nothing to write off: the patient owes nothing, owes "
                            f"{_money_text(threshold)} or more, or has a credit to apply first.",
                            "balance",
                        )
                    ]
                )
            return WriteOffSummary(patients, written, total, threshold, skipped)

    def reverse_payment(self, actor: Actor, payment_id: int, reason: str) -> PatientAccount:
        """Take back a payment that did not arrive (a bounced check): its lines are due again.

        Recorded as a refund of the payment's amount with the reason, and the payment's
        allocations are removed, so the credit balance and every line's split stay exact.
        """
        actor.require(Permission.PATIENT_REFUND)
        if not (reason or "").strip():
            raise ValidationFailed([error("REASON", "Say why the payment is reversed.", "reason")])
        with self._db.session() as session:
            # claimed first: a second reversal of the same payment waits, then finds it reversed
            take_version(
                session, PatientPayment, payment_id, None, entity="patient_payment", what="That payment"
            )
            payment = session.get(PatientPayment, payment_id)
            if payment is None:
                raise NotFound(f"Payment {payment_id} no longer exists.")
            _lock_patient(session, payment.patient_id)
            marker = f"Reversal of {receipt_number(payment.id)}"
            if payment.is_refund:
                raise ValidationFailed([error("REFUND", "A refund cannot be reversed here.", "payment")])
            already = session.scalar(
                sa.select(PatientPayment.id).where(
                    PatientPayment.patient_id == payment.patient_id,
                    PatientPayment.is_refund.is_(True),
                    PatientPayment.reference == marker,
                )
            )
            if already is not None:
                raise ValidationFailed(
                    [
                        error(
                            "REVERSED",
                            f"Receipt {receipt_number(payment.id)} was already reversed.",
                            "payment",
                        )
                    ]
                )
            line_ids = [allocation.claim_line_id for allocation in payment.allocations]
            released = sum((allocation.amount for allocation in payment.allocations), ZERO)
            payment.allocations.clear()
            session.flush()
            # the payment's whole amount is now unallocated; the reversal takes it back out
            session.add(
                PatientPayment(
                    patient_id=payment.patient_id,
                    received_on=clinic_today(session),
                    amount=payment.amount,
                    method=payment.method,
                    reference=marker,
                    is_refund=True,
                    posted_by_id=actor.user_id,
                )
            )
            session.flush()
            _settle(session, line_ids)
            if _credit_balance(session, payment.patient_id) < 0:
                raise ValidationFailed(
                    [
                        error(
                            "REFUNDED",
                            "Part of this payment's credit was already refunded; reverse it by hand "
                            "with the manager.",
                            "payment",
                        )
                    ]
                )
            audit.record(
                session,
                actor,
                "reverse_patient_payment",
                "patient_payment",
                payment.id,
                patient_id=payment.patient_id,
                detail={"amount": str(payment.amount), "released": str(released), "reason": reason.strip()},
            )
            return _account(session, payment.patient_id)

    # -- paper -----------------------------------------------------------------------------

    def receipt(self, actor: Actor, payment_id: int) -> bytes:
        """The receipt of a payment (or refund) as PDF bytes, with the lines it paid."""
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            payment = session.get(PatientPayment, payment_id)
            if payment is None:
                raise NotFound(f"Payment {payment_id} no longer exists.")
            rows = session.execute(
                sa.select(
                    ClaimLine.service_date, Claim.claim_number, ClaimLine.code, PaymentAllocation.amount
                )
                .join(ClaimLine, ClaimLine.id == PaymentAllocation.claim_line_id)
                .join(Claim, Claim.id == ClaimLine.claim_id)
                .where(PaymentAllocation.payment_id == payment.id)
                .order_by(ClaimLine.service_date, ClaimLine.line_number, PaymentAllocation.id)
            ).all()
            account = _account(session, payment.patient_id)
            audit.record(
                session, actor, "print_receipt", "patient_payment", payment.id, patient_id=payment.patient_id
            )
            return render_receipt(
                replace(
                    receipt_for(session, payment),
                    applied=tuple((r.service_date, r.claim_number, r.code, r.amount) for r in rows),
                    patient_due=account.patient_due,
                    credit_balance=account.credit_balance,
                )
            )


# -- queries ------------------------------------------------------------------------------


def _lock_patient(session: Session, patient_id: int) -> Patient:
    """The patient, locked for this unit of work so two desks never allocate the same dollars."""
    patient = session.scalar(sa.select(Patient).where(Patient.id == patient_id).with_for_update())
    if patient is None:
        raise NotFound(f"Patient {patient_id} no longer exists.")
    return patient


def _threshold(session: Session) -> Decimal:
    stored = read_setting(session, SMALL_BALANCE_SETTING)
    if stored is None:
        return DEFAULT_SMALL_BALANCE
    try:
        value = Decimal(str(stored))
    except InvalidOperation:
        return DEFAULT_SMALL_BALANCE
    return value if value.is_finite() and value >= 0 else DEFAULT_SMALL_BALANCE


def _lines(session: Session, patient_id: int) -> list[AccountLine]:
    claims = session.execute(
        sa.select(Claim.id, Claim.claim_number, Claim.frequency_code, Claim.original_claim_id).where(
            Claim.patient_id == patient_id
        )
    ).all()
    superseded = {c.original_claim_id for c in claims if c.original_claim_id is not None}
    current = {c.id for c in claims if c.frequency_code != "8" and c.id not in superseded}
    numbers = {c.id: c.claim_number for c in claims}
    rows = session.execute(
        sa.select(
            ClaimLine.id, ClaimLine.claim_id, ClaimLine.line_number, ClaimLine.service_date, ClaimLine.code,
            ClaimLine.charge, ClaimLine.paid, ClaimLine.adjusted, ClaimLine.patient_responsibility,
            ClaimLine.patient_paid, ClaimLine.responsibility,
        )
        .where(ClaimLine.claim_id.in_(list(numbers)))
        .order_by(ClaimLine.service_date, ClaimLine.line_number, ClaimLine.id)
    ).all() if numbers else []
    return [
        AccountLine(
            line_id=r.id, claim_id=r.claim_id, claim_number=numbers[r.claim_id], line_number=r.line_number,
            service_date=r.service_date, code=r.code, charge=r.charge, insurance_paid=r.paid,
            adjusted=r.adjusted, patient_responsibility=r.patient_responsibility,
            patient_paid=r.patient_paid, state=r.responsibility, current=r.claim_id in current,
        )
        for r in rows
    ]


OWED_BY_PATIENT = (
    LineResponsibility.PATIENT_DUE, LineResponsibility.PAYMENT_PLAN, LineResponsibility.IN_COLLECTIONS,
)
"""States in which the patient owes the share (payments go to these lines)."""


def _due(lines: Iterable[AccountLine]) -> list[DueLine]:
    return [
        DueLine(line.line_id, line.service_date, line.line_number, line.due) for line in lines if line.due > 0
    ]


def _chosen_findings(lines: Sequence[AccountLine], chosen: Sequence[int]) -> list[Finding]:
    by_id = {line.line_id: line for line in lines}
    findings: list[Finding] = []
    if not chosen:
        findings.append(
            error(
                "NO_LINES",
                "Choose at least one line, or let the payment go to the oldest lines due.",
                "lines",
            )
        )
    if len(set(chosen)) != len(chosen):
        findings.append(error("LINE_TWICE", "A line was chosen twice.", "lines"))
    for line_id in dict.fromkeys(chosen):
        line = by_id.get(line_id)
        if line is None:
            findings.append(
                error("NOT_PATIENTS_LINE", f"Line {line_id} is not on this patient's account.", "lines")
            )
        elif line.due <= 0:
            what = f"{line.code} of {us_date(line.service_date)} (claim {line.claim_number})"
            if line.state in (LineResponsibility.INSURANCE_PENDING, LineResponsibility.SECONDARY_PENDING):
                why = "it still waits for insurance"
            elif not line.current:
                why = "its claim was replaced or passed to the next payer"
            else:
                why = "nothing is owed on it"
            findings.append(
                error(
                    "NOT_DUE",
                    f"{what} is not due from the patient: {why}. Post without choosing lines to keep "
                    "the money as a credit on the account.",
                    "lines",
                )
            )
    return findings


def _applied(lines: Sequence[AccountLine], paid: Iterable[tuple[int, Decimal]]) -> tuple[AppliedLine, ...]:
    by_id = {line.line_id: line for line in lines}
    return tuple(
        AppliedLine(line_id, line.claim_number, line.service_date, line.code, amount)
        for line_id, amount in paid
        for line in (by_id[line_id],)
    )


def _settle(session: Session, line_ids: Iterable[int]) -> None:
    """Set each line's ``patient_paid`` to the sum of its allocations and recompute its claim's lines."""
    ids = sorted(set(line_ids))
    if not ids:
        return
    session.flush()
    sums = dict(
        session.execute(
            sa.select(PaymentAllocation.claim_line_id, sa.func.sum(PaymentAllocation.amount))
            .where(PaymentAllocation.claim_line_id.in_(ids))
            .group_by(PaymentAllocation.claim_line_id)
        ).all()
    )
    lines = session.scalars(sa.select(ClaimLine).where(ClaimLine.id.in_(ids))).all()
    for line in lines:
        line.patient_paid = Decimal(sums.get(line.id) or 0).quantize(Decimal("0.01"))
    refresh_line_balances(session, {line.claim_id for line in lines})


def _credit_parts(session: Session, patient_id: int) -> tuple[tuple[tuple[int, Decimal], ...], Decimal]:
    """Each payment's unallocated remainder (oldest first) and the total refunded."""
    allocated = (
        sa.select(sa.func.coalesce(sa.func.sum(PaymentAllocation.amount), 0))
        .where(PaymentAllocation.payment_id == PatientPayment.id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(PatientPayment.id, PatientPayment.amount, PatientPayment.is_refund, allocated)
        .where(PatientPayment.patient_id == patient_id)
        .order_by(PatientPayment.received_on, PatientPayment.id)
    ).all()
    remaining: list[tuple[int, Decimal]] = []
    refunded = ZERO
    for payment_id, amount, is_refund, used in rows:
        if is_refund:
            refunded += amount
        else:
            remaining.append((payment_id, amount - Decimal(used).quantize(Decimal("0.01"))))
    return tuple(remaining), refunded


def _credit_balance(session: Session, patient_id: int) -> Decimal:
    remaining, refunded = _credit_parts(session, patient_id)
    return sum((left for _, left in remaining), ZERO) - refunded


def _account(session: Session, patient_id: int) -> PatientAccount:
    patient = session.get(Patient, patient_id)
    if patient is None:
        raise NotFound(f"Patient {patient_id} no longer exists.")
    lines = _lines(session, patient_id)
    allocated = dict(
        session.execute(
            sa.select(PaymentAllocation.payment_id, sa.func.sum(PaymentAllocation.amount))
            .join(PatientPayment, PatientPayment.id == PaymentAllocation.payment_id)
            .where(PatientPayment.patient_id == patient_id)
            .group_by(PaymentAllocation.payment_id)
        ).all()
    )
    payments = tuple(
        AccountPayment(
            payment_id=p.id,
            receipt_number=receipt_number(p.id),
            received_on=p.received_on,
            amount=p.amount,
            method=p.method,
            reference=p.reference,
            is_refund=p.is_refund,
            allocated=Decimal(allocated.get(p.id) or 0).quantize(Decimal("0.01")),
            visit_id=p.visit_id,
        )
        for p in session.scalars(
            sa.select(PatientPayment)
            .where(PatientPayment.patient_id == patient_id)
            .order_by(PatientPayment.received_on.desc(), PatientPayment.id.desc())
        )
    )
    credit = sum((p.unallocated for p in payments), ZERO) - sum(
        (p.amount for p in payments if p.is_refund), ZERO
    )
    return PatientAccount(
        patient_id=patient.id,
        patient_name=f"{patient.last_name}, {patient.first_name}",
        mrn=patient.mrn,
        lines=tuple(lines),
        payments=payments,
        patient_due=sum((line.due for line in lines), ZERO),
        awaiting_insurance=sum((line.awaiting_insurance for line in lines), ZERO),
        credit_balance=credit,
        small_balance_threshold=_threshold(session),
    )
