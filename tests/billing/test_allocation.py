"""Allocating a patient's payment: oldest first, never more than a line's due, no cent made or lost."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infusion_desk.billing.allocation import (
    AllocationError,
    CreditSource,
    DueLine,
    allocate,
    credit_sources,
    draw,
)

D = Decimal


def _line(line_id: int, day: int, number: int, due: str) -> DueLine:
    return DueLine(line_id=line_id, service_date=date(2026, 9, day), line_number=number, due=D(due))


LINES = (
    _line(10, 20, 1, "40.00"),
    _line(11, 3, 2, "15.25"),
    _line(12, 3, 1, "9.99"),
)


def test_a_payment_goes_to_the_oldest_date_of_service_then_the_lowest_line_number() -> None:
    result = allocate(D("30.00"), LINES)
    assert result.lines == ((12, D("9.99")), (11, D("15.25")), (10, D("4.76")))
    assert result.credit == D("0.00")


def test_an_overpayment_pays_every_line_in_full_and_the_rest_is_a_credit() -> None:
    result = allocate(D("100.00"), LINES)
    assert dict(result.lines) == {10: D("40.00"), 11: D("15.25"), 12: D("9.99")}
    assert result.credit == D("34.76")
    assert result.allocated == D("65.24")


def test_chosen_lines_are_paid_in_the_order_chosen_and_others_are_left_alone() -> None:
    result = allocate(D("45.00"), LINES, chosen=(10, 12))
    assert result.lines == ((10, D("40.00")), (12, D("5.00")))
    assert result.credit == D("0.00")
    spare = allocate(D("45.00"), LINES, chosen=(12,))
    assert spare.lines == ((12, D("9.99")),) and spare.credit == D("35.01")


def test_nothing_due_makes_the_whole_payment_a_credit() -> None:
    result = allocate(D("12.00"), ())
    assert result.lines == () and result.credit == D("12.00")


@pytest.mark.parametrize(
    ("amount", "chosen"),
    [
        (D("-1.00"), None),  # a negative payment
        (D("1.005"), None),  # a fraction of a cent
        (D("5.00"), (99,)),  # a line that is not due
        (D("5.00"), (10, 10)),  # a line chosen twice
    ],
)
def test_requests_that_cannot_be_allocated_are_refused(amount: Decimal, chosen: tuple[int, ...] | None) -> None:
    with pytest.raises(AllocationError):
        allocate(amount, LINES, chosen=chosen)


def test_refunds_use_up_the_oldest_payments_and_a_refund_beyond_the_credit_is_refused() -> None:
    sources = credit_sources(((1, D("5.00")), (2, D("0.00")), (3, D("8.00"))), refunded=D("6.00"))
    assert sources == (CreditSource(3, D("7.00")),)
    with pytest.raises(AllocationError):
        credit_sources(((1, D("5.00")),), refunded=D("5.01"))


def test_drawing_more_credit_than_there_is_is_refused() -> None:
    with pytest.raises(AllocationError):
        draw(((1, D("10.00")),), (CreditSource(1, D("9.99")),))


cents = st.integers(min_value=0, max_value=500_000).map(lambda n: D(n).scaleb(-2))
due_lines = st.lists(
    st.tuples(st.integers(0, 400), st.integers(1, 6), cents), max_size=12
).map(
    lambda rows: tuple(
        DueLine(line_id=i, service_date=date(2026, 1, 1) + timedelta(days=day), line_number=n, due=due)
        for i, (day, n, due) in enumerate(rows)
    )
)


@given(amount=cents, lines=due_lines)
def test_no_cent_is_created_or_lost_and_no_line_gets_more_than_its_due(
    amount: Decimal, lines: tuple[DueLine, ...]
) -> None:
    result = allocate(amount, lines)
    assert result.allocated + result.credit == amount
    assert result.credit >= 0
    due = {line.line_id: line.due for line in lines}
    assert all(0 < paid <= due[line_id] for line_id, paid in result.lines)
    # the credit is only left over when every line was paid in full
    if result.credit > 0:
        assert result.allocated == sum((line.due for line in lines), D("0.00"))


@given(amount=cents, lines=due_lines)
def test_a_line_is_paid_only_when_every_older_line_is_paid_in_full(
    amount: Decimal, lines: tuple[DueLine, ...]
) -> None:
    paid = dict(allocate(amount, lines).lines)
    key = {line.line_id: (line.service_date, line.line_number, line.line_id) for line in lines}
    for line in lines:
        if paid.get(line.line_id):
            older = [other for other in lines if key[other.line_id] < key[line.line_id]]
            assert all(paid.get(other.line_id, D(0)) == other.due for other in older)


@given(amount=cents, lines=due_lines, data=st.data())
def test_chosen_lines_never_get_more_than_their_due_and_the_rest_is_credit(
    amount: Decimal, lines: tuple[DueLine, ...], data: st.DataObject
) -> None:
    ids = [line.line_id for line in lines]
    order_chosen = data.draw(st.permutations(ids))
    chosen = order_chosen[: data.draw(st.integers(0, len(order_chosen)))]
    result = allocate(amount, lines, chosen=chosen)
    assert result.allocated + result.credit == amount
    assert {line_id for line_id, _ in result.lines} <= set(chosen)
    order = [line_id for line_id, _ in result.lines]
    assert order == [line_id for line_id in chosen if line_id in set(order)]


@given(
    payments=st.lists(cents, max_size=8),
    refund_share=st.fractions(min_value=0, max_value=1),
    lines=due_lines,
)
def test_credit_drawn_from_earlier_payments_adds_up_to_the_cent(
    payments: list[Decimal], refund_share: Fraction, lines: tuple[DueLine, ...]
) -> None:
    total = sum(payments, D("0.00"))
    refunded = (total * D(refund_share.numerator) / D(refund_share.denominator)).quantize(D("0.01"), ROUND_DOWN)
    sources = credit_sources(tuple(enumerate(payments)), refunded)
    credit = sum((s.available for s in sources), D("0.00"))
    assert credit == total - refunded
    result = allocate(credit, lines)
    rows = draw(result.lines, sources)
    assert sum((amount for _, _, amount in rows), D("0.00")) == result.allocated
    for source in sources:
        assert sum((a for p, _, a in rows if p == source.payment_id), D("0.00")) <= source.available
    for line_id, amount in result.lines:
        assert sum((a for _, line, a in rows if line == line_id), D("0.00")) == amount
