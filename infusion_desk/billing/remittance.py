"""A payer's remittance (an 835 or a paper EOB) as plain data, and the sums that must balance.

    >>> from decimal import Decimal as D
    >>> line = ServicePayment(
    ...     code="96365", modifiers=(), charge=D("250.00"), paid=D("160.00"),
    ...     adjustments=(CasAdjustment("CO", "45", D("50.00")), CasAdjustment("PR", "2", D("40.00"))),
    ... )
    >>> claim = ClaimPayment(
    ...     patient_control_number="C0000042", status_code="1", total_charge=D("250.00"),
    ...     paid=D("160.00"), patient_responsibility=D("40.00"), lines=(line,),
    ... )
    >>> remittance = Remittance(
    ...     trace_number="EFT7788", payer_identifier="1999999999", payer_name="FICTIONAL HEALTH PLAN",
    ...     payment_method="ACH", payment_date=date(2026, 11, 20), total_paid=D("155.00"),
    ...     claims=(claim,), provider_adjustments=(ProviderAdjustment("WO", "C0000007", D("5.00")),),
    ... )
    >>> balance_problems(remittance)
    ()
    >>> for problem in balance_problems(replace(remittance, total_paid=D("160.00"))):
    ...     print(problem)  # doctest: +NORMALIZE_WHITESPACE
    The payment total (BPR02) is $160.00, but the claims pay $160.00 less $5.00
    of provider-level adjustments (PLB): $155.00.

The three sums are the ones the 835 guide (005010X221A1) requires and validators do not check:

* each service line: charge - paid = its adjustments (SVC02 - SVC03 = its CAS);
* each claim: charge - paid = its claim-level and line-level adjustments (CLP03 - CLP04);
* the remittance: payment = what the claims pay less provider-level adjustments (BPR02 =
  sum of CLP04 - sum of PLB amounts; a positive PLB amount takes money back).

A claim whose status says it was not processed here (CLP02 22 reversal, 23 forwarded,
25 predetermination) is checked the same way: a reversal carries negative amounts that
balance as any other.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

__all__ = [
    "REVERSAL",
    "CasAdjustment",
    "ClaimPayment",
    "ProviderAdjustment",
    "Remittance",
    "ServicePayment",
    "balance_problems",
    "replace",
]

REVERSAL = "22"
"""CLP02 of a reversal of an earlier payment (amounts negative); the correction follows."""

GROUPS = frozenset({"CO", "PR", "OA", "PI", "OI"})
"""CAS01 claim adjustment group codes of 5010 (OI is kept for COB files that still send it)."""


@dataclass(frozen=True, slots=True)
class CasAdjustment:
    """One CAS reason: group (CO, PR, OA, PI), CARC reason code, amount and optional quantity."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class ServicePayment:
    """Loop 2110: how the payer adjudicated one service line (SVC and what follows it)."""

    code: str
    """SVC01-2 as adjudicated (the payer may have changed it: see ``original_code``)."""
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units_paid: Decimal | None = None
    """SVC05; when absent the guide says one unit."""
    original_code: str | None = None
    """SVC06-2: the code we billed, when the payer adjudicated another."""
    original_modifiers: tuple[str, ...] = ()
    original_units: Decimal | None = None
    """SVC07: the units we billed, when the payer paid a different number."""
    service_date: date | None = None
    """DTM*472 (or DTM*150, the start of a period)."""
    line_control_number: str | None = None
    """REF*6R: our 837's line item control number, the key that finds the line."""
    allowed: Decimal | None = None
    """AMT*B6."""
    adjustments: tuple[CasAdjustment, ...] = ()
    remark_codes: tuple[str, ...] = ()
    """LQ*HE remittance advice remark codes (RARC)."""


@dataclass(frozen=True, slots=True)
class ClaimPayment:
    """Loop 2100: one CLP, the payer's answer for one of our claims."""

    patient_control_number: str
    """CLP01: our CLM01 (the claim number)."""
    status_code: str
    total_charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal = Decimal("0.00")
    filing_indicator: str = ""
    payer_claim_control_number: str | None = None
    """CLP07: the payer's number for the claim (REF*F8 of a later replacement or void)."""
    frequency_code: str | None = None
    """CLP09."""
    patient_last_name: str = ""
    patient_first_name: str = ""
    member_id: str | None = None
    """NM1*QC09 (or NM1*IL09): the patient's or subscriber's member number."""
    service_date_from: date | None = None
    service_date_to: date | None = None
    adjustments: tuple[CasAdjustment, ...] = ()
    """Claim-level CAS."""
    remark_codes: tuple[str, ...] = ()
    """MOA/MIA remark codes."""
    lines: tuple[ServicePayment, ...] = ()


@dataclass(frozen=True, slots=True)
class ProviderAdjustment:
    """One PLB reason: code (WO, FB, L6, 72...), its reference (often a claim number) and amount.

    A positive amount takes money back from this payment; a negative one adds to it.
    """

    reason: str
    reference: str | None
    amount: Decimal


@dataclass(frozen=True, slots=True)
class Remittance:
    """One 835 transaction set (or one paper EOB entered by hand): a payment and what it pays."""

    trace_number: str
    """TRN02: the check or EFT number; with ``payer_identifier`` it identifies the payment."""
    payer_identifier: str
    """TRN03 (a 1 and the payer's TIN, or its own number)."""
    payer_name: str
    payment_method: str
    """BPR04: ACH, CHK, BOP, FWT or NON (no payment)."""
    payment_date: date
    """BPR16."""
    total_paid: Decimal
    """BPR02."""
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()
    payer_id: str | None = None
    """The payer's identifier as our payer list keeps it (N1*PR04 or REF*2U)."""
    payee_npi: str | None = None
    """N1*PE*...*XX: the NPI the payment is made to."""
    production_date: date | None = field(default=None, compare=False)


def _money(amount: Decimal) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def balance_problems(remittance: Remittance) -> tuple[str, ...]:
    """Every sum of ``remittance`` that does not balance, in words that say where; empty if none."""
    problems: list[str] = []
    for claim in remittance.claims:
        where = f"Claim {claim.patient_control_number}"
        for number, line in enumerate(claim.lines, start=1):
            adjusted = sum((a.amount for a in line.adjustments), Decimal(0))
            if line.charge - line.paid != adjusted:
                problems.append(
                    f"{where}, service line {number} ({line.code}): charge {_money(line.charge)} less paid "
                    f"{_money(line.paid)} is {_money(line.charge - line.paid)}, but its adjustments (CAS) "
                    f"add up to {_money(adjusted)}."
                )
        adjusted = sum((a.amount for a in claim.adjustments), Decimal(0)) + sum(
            (a.amount for line in claim.lines for a in line.adjustments), Decimal(0)
        )
        if claim.total_charge - claim.paid != adjusted:
            problems.append(
                f"{where}: charge {_money(claim.total_charge)} less paid {_money(claim.paid)} is "
                f"{_money(claim.total_charge - claim.paid)}, but its adjustments (CAS) add up to "
                f"{_money(adjusted)}."
            )
    paid = sum((c.paid for c in remittance.claims), Decimal(0))
    taken = sum((p.amount for p in remittance.provider_adjustments), Decimal(0))
    if paid - taken != remittance.total_paid:
        problems.append(
            f"The payment total (BPR02) is {_money(remittance.total_paid)}, but the claims pay "
            f"{_money(paid)} less {_money(taken)} of provider-level adjustments (PLB): "
            f"{_money(paid - taken)}."
        )
    return tuple(problems)
