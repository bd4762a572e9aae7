"""Who owes what on one claim line, from what the payers answered and what the billers decided.

A line's charge is split, to the cent, into what insurance paid, what was adjusted away
(contractual reductions and approved write-offs), what the patient is responsible for, and
what is still the insurance's to answer (never answered, or denied and being worked). The
line is in exactly one state at a time:

- ``insurance_pending``: the payer has not answered, or a denial on it is still being worked;
- ``secondary_pending``: the patient's share waits for the next payer's claim;
- ``patient_due``: the patient owes the rest;
- ``payment_plan``: the patient owes it and pays it by instalments on a plan;
- ``in_collections``: the patient owes it and the account was handed to collections;
- ``written_off``: nothing is owed, because what was left was written off (a denial a manager
  approved writing off, or a small patient balance);
- ``settled``: nothing is owed by anyone, every cent paid or contractually adjusted.

Denial adjustments are never adjusted away here: they stay with insurance until a biller
resubmits, appeals, transfers the amount to the patient or a manager approves a write-off.

    >>> from decimal import Decimal as D
    >>> answered = Postings(paid=D("80.00"), patient=D("20.00"), contractual=D("100.00"), denied=D(0))
    >>> balance = line_balance(D("200.00"), answered, Decisions(), next_payer=False)
    >>> balance.state, balance.patient_responsibility, balance.insurance_balance
    ('patient_due', Decimal('20.00'), Decimal('0.00'))
    >>> line_balance(D("200.00"), answered, Decisions(), next_payer=True).state
    'secondary_pending'
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

ZERO = Decimal("0.00")

INSURANCE_PENDING = "insurance_pending"
SECONDARY_PENDING = "secondary_pending"
PATIENT_DUE = "patient_due"
PAYMENT_PLAN = "payment_plan"
IN_COLLECTIONS = "in_collections"
WRITTEN_OFF = "written_off"
SETTLED = "settled"


@dataclass(frozen=True, slots=True)
class Postings:
    """The sums of every posted remittance line for one claim line (reversals included, negative)."""

    paid: Decimal = ZERO
    patient: Decimal = ZERO
    """PR adjustments: deductible, coinsurance, copay, non-covered charged to the patient."""
    contractual: Decimal = ZERO
    """CO/OA/PI/OI adjustments that are not denials: the contract's reduction."""
    denied: Decimal = ZERO
    """CO/OA/PI adjustments that are denials: they become work items, not reductions."""
    answered: bool = True
    """Whether any payer answer is posted for the line."""


@dataclass(frozen=True, slots=True)
class Decisions:
    """What billers and managers decided on the line's denials."""

    transferred: Decimal = ZERO
    """Denied amounts moved to the patient's responsibility."""
    written_off: Decimal = ZERO
    """Denied amounts a manager approved writing off."""
    patient_adjusted: Decimal = ZERO
    """Parts of the patient's share adjusted away (a small balance written off)."""
    open_denials: int = 0
    """Denial work items still being worked (open, in progress, resubmitted, appealed, write-off asked)."""
    placement: str | None = None
    """Where the patient's share was placed: ``payment_plan`` or ``in_collections`` (collections wins)."""


@dataclass(frozen=True, slots=True)
class LineBalance:
    paid: Decimal
    adjusted: Decimal
    patient_responsibility: Decimal
    insurance_balance: Decimal
    """What is still the payer's: the charge less payments, adjustments and the patient's share."""
    state: str


def line_balance(
    charge: Decimal,
    postings: Postings,
    decisions: Decisions,
    *,
    next_payer: bool,
    patient_paid: Decimal = ZERO,
) -> LineBalance:
    """Split ``charge`` among insurance, adjustments and the patient, and name the line's state.

    ``next_payer`` says a later-rank policy covers the date of service, so the patient's share
    goes to that payer's claim first. Nothing is rounded: every input is already in cents.
    """
    adjusted = postings.contractual + decisions.written_off + decisions.patient_adjusted
    patient = postings.patient + decisions.transferred - decisions.patient_adjusted
    insurance = charge - postings.paid - adjusted - patient
    if not postings.answered or decisions.open_denials or insurance > 0:
        state = INSURANCE_PENDING
    elif patient - patient_paid > 0:
        state = SECONDARY_PENDING if next_payer else decisions.placement or PATIENT_DUE
    elif decisions.written_off > 0 or decisions.patient_adjusted > 0:
        state = WRITTEN_OFF
    else:
        state = SETTLED
    return LineBalance(
        paid=postings.paid,
        adjusted=adjusted,
        patient_responsibility=patient,
        insurance_balance=insurance,
        state=state,
    )
