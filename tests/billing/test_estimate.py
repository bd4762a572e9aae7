"""The patient-responsibility estimate shown at check-in."""

from __future__ import annotations

import doctest
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infusion_desk.billing import estimate as estimate_module
from infusion_desk.billing.estimate import Benefits, PricedLine, estimate_responsibility
from infusion_desk.billing.money import money

D = Decimal


def _lines(*amounts: str, source: str = "fee schedule") -> tuple[PricedLine, ...]:
    return tuple(PricedLine(f"C{i}", 1, money(a), source) for i, a in enumerate(amounts))


def test_worked_example() -> None:
    assert doctest.testmod(estimate_module).failed == 0


# Each expected total is the arithmetic of the payer's order: copay, then the deductible left,
# then coinsurance on the rest, capped by the out-of-pocket maximum left (DOMAIN.md, benefits).
CASES = [
    # allowed, benefits, expected (copay, deductible, coinsurance, total)
    ("1000.00", Benefits(copay=money(25)), ("25.00", "0.00", "0.00", "25.00")),
    ("1000.00", Benefits(copay=money(0), deductible=money(500), deductible_met=money(0),
                         coinsurance_percent=D(20)), ("0.00", "500.00", "100.00", "600.00")),
    # Deductible already met: only coinsurance.
    ("1000.00", Benefits(deductible=money(500), deductible_met=money(500), coinsurance_percent=D(20)),
     ("0.00", "0.00", "200.00", "200.00")),
    # Deductible larger than the visit: the whole allowed amount goes to the deductible.
    ("300.00", Benefits(deductible=money(2000), deductible_met=money(100), coinsurance_percent=D(20)),
     ("0.00", "300.00", "0.00", "300.00")),
    # Copay larger than the allowed amount is limited to the allowed amount.
    ("15.00", Benefits(copay=money(40)), ("15.00", "0.00", "0.00", "15.00")),
    # Out-of-pocket cap: 3000 - 2900 = 100 left.
    ("5000.00", Benefits(deductible=money(0), coinsurance_percent=D(20), out_of_pocket_max=money(3000),
                         out_of_pocket_met=money(2900)), ("0.00", "0.00", "1000.00", "100.00")),
    # Coinsurance rounding: 20% of 333.33 = 66.666 -> 66.67 (half up to the cent).
    ("333.33", Benefits(coinsurance_percent=D(20)), ("0.00", "0.00", "66.67", "66.67")),
]


@pytest.mark.parametrize(("allowed", "benefits", "expected"), CASES)
def test_cost_sharing_order(allowed: str, benefits: Benefits, expected: tuple[str, ...]) -> None:
    result = estimate_responsibility(_lines(allowed), benefits)
    assert (result.copay, result.deductible, result.coinsurance, result.total) == tuple(money(x) for x in expected)
    assert result.insurance_pays == money(allowed) - money(expected[3])


def test_no_verification_gives_no_total_and_says_why() -> None:
    result = estimate_responsibility(_lines("800.00"), None)
    assert result.total is None and result.allowed_total == money(800)
    assert any("verify benefits" in text for text in result.uncertain)


def test_lines_priced_from_charges_and_missing_benefits_are_flagged() -> None:
    result = estimate_responsibility(_lines("100.00", source="charge"), Benefits(copay=money(10)))
    assert result.total == money(10)
    assert any("clinic's charge" in text for text in result.uncertain)
    assert any("deductible" in text for text in result.uncertain)
    assert any("coinsurance" in text for text in result.uncertain)


amounts = st.decimals(min_value=0, max_value=100_000, places=2, allow_nan=False, allow_infinity=False)
optional = st.none() | amounts


@given(
    allowed=st.lists(amounts, min_size=0, max_size=5),
    copay=optional, deductible=optional, met=optional, out_max=optional, out_met=optional,
    percent=st.none() | st.decimals(min_value=0, max_value=100, places=0),
)
def test_estimate_never_exceeds_what_can_be_owed(
    allowed: list[Decimal], copay: Decimal | None, deductible: Decimal | None, met: Decimal | None,
    out_max: Decimal | None, out_met: Decimal | None, percent: Decimal | None,
) -> None:
    lines = tuple(PricedLine("X", 1, money(a), "fee schedule") for a in allowed)
    benefits = Benefits(copay, deductible, met, percent, out_max, out_met)
    result = estimate_responsibility(lines, benefits)
    assert result.total is not None
    assert money(0) <= result.total <= result.allowed_total
    if out_max is not None:
        assert result.total <= max(out_max - (out_met or 0), money(0))
    assert result.total == result.total.quantize(D("0.01"))
