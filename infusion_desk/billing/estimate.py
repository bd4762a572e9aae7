"""What the patient will likely owe for today's visit, from the benefits on file.

    >>> lines = (PricedLine("J1745", 37, money("1332.00"), "fee schedule"),
    ...          PricedLine("96413", 1, money("150.00"), "fee schedule"))
    >>> benefits = Benefits(copay=money(20), deductible=money(1000), deductible_met=money(800),
    ...                     coinsurance_percent=Decimal(20))
    >>> e = estimate_responsibility(lines, benefits)
    >>> e.allowed_total, e.copay, e.deductible, e.coinsurance, e.total
    (Decimal('1482.00'), Decimal('20.00'), Decimal('200.00'), Decimal('252.40'), Decimal('472.40'))

The order of the steps is the one payers apply on the remittance: the copay comes off the
allowed amount first, then whatever deductible is left, then the coinsurance percentage on
the rest. The total never exceeds the allowed amount, nor what is left of the out-of-pocket
maximum. Coinsurance is the only amount computed by multiplication and is rounded half up to
the cent there; every other step is exact.

An estimate is only as good as its inputs, so it says which parts are uncertain: a line
priced from the clinic's own charge because the payer's allowed amount is not on file, a
benefit the verification did not record, or no verification at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from infusion_desk.billing.money import ZERO, money


@dataclass(frozen=True, slots=True)
class PricedLine:
    """One expected service line with what the payer is expected to allow for it."""

    code: str
    units: int
    allowed: Decimal
    source: str
    """``"fee schedule"`` when the payer's allowed amount is on file, ``"charge"`` otherwise."""


@dataclass(frozen=True, slots=True)
class Benefits:
    """The patient's cost sharing as the latest verification recorded it (None = not recorded)."""

    copay: Decimal | None = None
    deductible: Decimal | None = None
    deductible_met: Decimal | None = None
    coinsurance_percent: Decimal | None = None
    out_of_pocket_max: Decimal | None = None
    out_of_pocket_met: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Estimate:
    lines: tuple[PricedLine, ...]
    allowed_total: Decimal
    copay: Decimal
    deductible: Decimal
    coinsurance: Decimal
    total: Decimal | None
    """None when no benefits are on file: nothing honest can be said."""
    steps: tuple[str, ...]
    uncertain: tuple[str, ...]

    @property
    def insurance_pays(self) -> Decimal | None:
        return None if self.total is None else self.allowed_total - self.total


def _remaining(limit: Decimal | None, used: Decimal | None) -> Decimal | None:
    if limit is None:
        return None
    return max(limit - (used or ZERO), ZERO)


def estimate_responsibility(lines: Sequence[PricedLine], benefits: Benefits | None) -> Estimate:
    """Apply copay, remaining deductible and coinsurance to the expected allowed amount."""
    allowed = sum((line.allowed for line in lines), ZERO)
    uncertain = [
        f"{line.code} is priced at the clinic's charge: the payer's allowed amount is not on file."
        for line in lines
        if line.source != "fee schedule"
    ]
    if benefits is None:
        uncertain.append(
            "No eligibility verification on file: verify benefits to estimate what the patient owes."
        )
        return Estimate(tuple(lines), allowed, ZERO, ZERO, ZERO, None, (), tuple(uncertain))

    steps: list[str] = [f"Expected allowed amount ${allowed:,.2f}."]
    copay = min(benefits.copay or ZERO, allowed)
    if benefits.copay is None:
        uncertain.append("The verification did not record a copay.")
    elif copay:
        steps.append(f"Copay ${copay:,.2f}.")
    rest = allowed - copay

    deductible_left = _remaining(benefits.deductible, benefits.deductible_met)
    if deductible_left is None:
        uncertain.append("The verification did not record the deductible.")
        deductible_left = ZERO
    deductible = min(deductible_left, rest)
    if deductible:
        steps.append(f"Deductible still to meet ${deductible_left:,.2f}: ${deductible:,.2f} applies today.")
    rest -= deductible

    percent = benefits.coinsurance_percent
    if percent is None:
        uncertain.append("The verification did not record the coinsurance.")
        percent = Decimal(0)
    coinsurance = money(rest * percent / 100)
    if coinsurance:
        steps.append(f"Coinsurance {percent.normalize():f}% of ${rest:,.2f} = ${coinsurance:,.2f}.")

    total = copay + deductible + coinsurance
    out_of_pocket_left = _remaining(benefits.out_of_pocket_max, benefits.out_of_pocket_met)
    if out_of_pocket_left is not None and total > out_of_pocket_left:
        steps.append(
            f"Capped at the ${out_of_pocket_left:,.2f} left of the out-of-pocket maximum "
            f"(${total:,.2f} before the cap)."
        )
        total = out_of_pocket_left
    steps.append(f"Estimated patient responsibility ${total:,.2f}.")
    return Estimate(
        tuple(lines), allowed, copay, deductible, coinsurance, total, tuple(steps), tuple(uncertain)
    )
