"""Payment plan rules: the schedule to the cent, missed instalments, and when a plan completes or defaults."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infusion_desk.billing.plans import (
    ACTIVE,
    CANCELLED,
    COMPLETED,
    DEFAULTED,
    DUE,
    MAX_INSTALMENTS,
    MISSED,
    PAID,
    PARTLY_PAID,
    UPCOMING,
    PlanError,
    instalment_states,
    missed,
    plan_status,
    schedule,
)

D = Decimal
FIRST = date(2026, 12, 1)


def test_equal_instalments_with_the_remainder_on_the_last() -> None:
    plan = schedule(D("100.00"), instalments=3, first_due=FIRST, interval_days=14)
    assert [i.amount for i in plan] == [D("33.33"), D("33.33"), D("33.34")]
    assert [i.due_date for i in plan] == [FIRST, date(2026, 12, 15), date(2026, 12, 29)]
    assert [i.number for i in plan] == [1, 2, 3]


def test_an_instalment_amount_makes_as_many_instalments_as_needed() -> None:
    plan = schedule(D("310.00"), instalment_amount=D("75.00"), first_due=FIRST, interval_days=30)
    assert [i.amount for i in plan] == [D("75.00")] * 4 + [D("10.00")]
    exact = schedule(D("300.00"), instalment_amount=D("75.00"), first_due=FIRST, interval_days=30)
    assert [i.amount for i in exact] == [D("75.00")] * 4


def test_a_stored_plan_rebuilds_the_same_schedule() -> None:
    made = schedule(D("310.00"), instalment_amount=D("75.00"), first_due=FIRST, interval_days=30)
    again = schedule(
        D("310.00"), instalments=len(made), instalment_amount=made[0].amount, first_due=FIRST, interval_days=30
    )
    assert again == made


@pytest.mark.parametrize(
    ("total", "kwargs"),
    [
        (D("0.00"), {"instalments": 2}),
        (D("10.005"), {"instalments": 2}),
        (D("0.01"), {"instalments": 2}),  # less than a cent each
        (D("100.00"), {"instalments": 0}),
        (D("100.00"), {}),
        (D("100.00"), {"instalment_amount": D("0")}),
        (D("100.00"), {"instalments": 3, "instalment_amount": D("50.00")}),  # 3 x 50 is more than 100
    ],
)
def test_impossible_plans_are_refused(total: Decimal, kwargs: dict[str, object]) -> None:
    with pytest.raises(PlanError):
        schedule(total, first_due=FIRST, interval_days=30, **kwargs)  # type: ignore[arg-type]


@given(
    cents=st.integers(min_value=2, max_value=10_000_000),
    count=st.integers(min_value=1, max_value=MAX_INSTALMENTS),
    interval=st.integers(min_value=1, max_value=92),
)
def test_no_cent_is_created_or_lost_by_count(cents: int, count: int, interval: int) -> None:
    total = D(cents) / 100
    if cents < count:
        with pytest.raises(PlanError):
            schedule(total, instalments=count, first_due=FIRST, interval_days=interval)
        return
    plan = schedule(total, instalments=count, first_due=FIRST, interval_days=interval)
    assert len(plan) == count
    assert sum(i.amount for i in plan) == total
    assert all(i.amount == i.amount.quantize(D("0.01")) and i.amount > 0 for i in plan)
    # the regular instalments are equal; the last differs by less than a cent per instalment
    assert len({i.amount for i in plan[:-1]}) <= 1
    assert 0 <= plan[-1].amount - plan[0].amount < D("0.01") * count
    assert all(b.due_date - a.due_date == timedelta(days=interval) for a, b in zip(plan, plan[1:], strict=False))


@given(cents=st.integers(min_value=1, max_value=10_000_000), amount=st.integers(min_value=1, max_value=500_000))
def test_no_cent_is_created_or_lost_by_amount(cents: int, amount: int) -> None:
    total, regular = D(cents) / 100, D(amount) / 100
    if cents > amount * MAX_INSTALMENTS:
        with pytest.raises(PlanError):
            schedule(total, instalment_amount=regular, first_due=FIRST, interval_days=30)
        return
    plan = schedule(total, instalment_amount=regular, first_due=FIRST, interval_days=30)
    assert sum(i.amount for i in plan) == total
    assert all(i.amount == regular for i in plan[:-1])
    assert 0 < plan[-1].amount <= regular


PLAN = schedule(D("300.00"), instalments=3, first_due=FIRST, interval_days=30)  # 12/01, 12/31, 01/30


def test_nothing_is_missed_within_the_grace_days() -> None:
    assert missed(PLAN, [], today=FIRST + timedelta(days=10), grace_days=10) == ()
    late = missed(PLAN, [], today=FIRST + timedelta(days=11), grace_days=10)
    assert [(m.number, m.amount_overdue, m.days_late) for m in late] == [(1, D("100.00"), 11)]


def test_payments_go_to_the_oldest_instalment_first() -> None:
    today = date(2027, 1, 20)
    received = [(date(2026, 12, 2), D("100.00")), (date(2027, 1, 5), D("30.00"))]
    states = instalment_states(PLAN, received, today, grace_days=10)
    assert [(s.paid, s.state) for s in states] == [
        (D("100.00"), PAID),
        (D("30.00"), MISSED),
        (D("0.00"), UPCOMING),
    ]
    [late] = missed(PLAN, received, today, grace_days=10)
    assert (late.number, late.amount_overdue, late.days_late) == (2, D("70.00"), 20)


def test_a_late_payment_clears_the_missed_instalment_and_a_payment_ahead_counts_forward() -> None:
    received = [(date(2027, 1, 19), D("250.00"))]
    states = instalment_states(PLAN, received, date(2027, 1, 20), grace_days=10)
    assert [(s.paid, s.state) for s in states] == [
        (D("100.00"), PAID),
        (D("100.00"), PAID),
        (D("50.00"), PARTLY_PAID),
    ]


def test_an_instalment_due_but_in_grace_is_due_and_payments_after_today_do_not_count() -> None:
    today = date(2026, 12, 5)
    states = instalment_states(PLAN, [(date(2026, 12, 6), D("100.00"))], today, grace_days=10)
    assert [s.state for s in states] == [DUE, UPCOMING, UPCOMING]


def test_plan_status_rules() -> None:
    assert plan_status(ACTIVE, D("0.00"), 2, 2) == COMPLETED  # paid off, even if late
    assert plan_status(ACTIVE, D("10.00"), 2, 2) == DEFAULTED
    assert plan_status(ACTIVE, D("10.00"), 1, 2) == ACTIVE
    assert plan_status(CANCELLED, D("0.00"), 5, 2) == CANCELLED
    assert plan_status(DEFAULTED, D("0.00"), 0, 2) == DEFAULTED
