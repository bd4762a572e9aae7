"""The report rules: aging buckets, days in A/R, rates and margins, with the hand arithmetic beside each case."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infusion_desk.billing import reports as rules

D = Decimal
AS_OF = date(2026, 11, 30)


@pytest.mark.parametrize(
    ("age", "bucket"),
    [(0, "0-30"), (30, "0-30"), (31, "31-60"), (60, "31-60"), (61, "61-90"), (90, "61-90"),
     (91, "91-120"), (120, "91-120"), (121, "120+"), (400, "120+")],
)
def test_aging_bucket_edges(age: int, bucket: str) -> None:
    assert rules.aging_bucket(AS_OF - timedelta(days=age), AS_OF) == bucket


@given(st.integers(min_value=0, max_value=2000), st.dates(date(2000, 1, 1), date(2030, 12, 31)))
def test_bucket_bounds_agree_with_the_bucket_of_every_date(age: int, as_of: date) -> None:
    served = as_of - timedelta(days=age)
    (label,) = [
        name for name, lo, hi in rules.bucket_bounds(as_of)
        if (lo is None or served >= lo) and (hi is None or served <= hi)
    ]
    assert label == rules.aging_bucket(served, as_of)


@pytest.mark.parametrize(
    ("ar", "charges", "days"),
    [
        ("950.00", "3200.00", "26.7"),  # 950 × 90 ÷ 3200 = 26.71875
        ("1500.00", "4500.00", "30.0"),  # $50 a day, $1,500 owed
        ("0.00", "100.00", "0.0"),
    ],
)
def test_days_in_ar(ar: str, charges: str, days: str) -> None:
    assert rules.days_in_ar(D(ar), D(charges)) == D(days)


def test_days_in_ar_without_charges_is_unknown_not_infinite() -> None:
    assert rules.days_in_ar(D("100.00"), D("0.00")) is None
    assert rules.ar_window(AS_OF) == (date(2026, 9, 2), AS_OF)  # 90 days including both ends


def test_net_collection_rate_takes_contractual_adjustments_off_the_charges() -> None:
    # 1440 ÷ (3450 − 1060) = 60.25…%
    assert rules.net_collection_rate(D("1440.00"), D("3450.00"), D("1060.00")) == D("60.3")
    assert rules.net_collection_rate(D("10.00"), D("100.00"), D("100.00")) is None


def test_rates_round_half_up_to_one_place() -> None:
    assert rules.rate(1, 3) == D("33.3")
    assert rules.rate(2, 3) == D("66.7")
    assert rules.rate(D("107.40"), D("1200.00")) == D("9.0")  # 8.95 rounds up
    assert rules.first_pass_rate(0, 0) is None


def test_drug_cost_and_margin() -> None:
    cost = rules.drug_cost(D("40.000"), D("27.3150"))  # 1092.60
    assert cost == D("1092.60")
    assert rules.margin(D("1200.00"), cost) == D("107.40")
    assert rules.margin_rate(D("0.00"), cost) is None


@given(st.dates(date(2000, 1, 1), date(2030, 12, 31)), st.integers(min_value=1, max_value=30))
def test_months_cover_every_day_once(start: date, count: int) -> None:
    months = rules.last_months(start, count)
    assert len(months) == count and months[-1] == rules.month_key(start)
    assert rules.months_between(rules.month_start(months[0]), start) == months
    for earlier, later in zip(months, months[1:], strict=False):
        assert rules.month_end(earlier) + timedelta(days=1) == rules.month_start(later)
