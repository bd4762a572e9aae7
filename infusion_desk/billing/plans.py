"""Payment plans: the instalment schedule, which instalments are missed, and the plan's status.

A balance is split into instalments to the cent; the regular instalments are equal and the
last one takes whatever remains, so no cent is created or lost:

    >>> from decimal import Decimal as D
    >>> plan = schedule(D("250.00"), instalments=3, first_due=date(2026, 12, 1), interval_days=30)
    >>> [(f"{i.due_date:%m/%d}", i.amount) for i in plan]
    [('12/01', Decimal('83.33')), ('12/31', Decimal('83.33')), ('01/30', Decimal('83.34'))]
    >>> [i.amount for i in schedule(D("250.00"), instalment_amount=D("100.00"),
    ...                              first_due=date(2026, 12, 1), interval_days=30)]
    [Decimal('100.00'), Decimal('100.00'), Decimal('50.00')]

Payments received are applied to the instalments in order (oldest first); an instalment is
*missed* once its due date plus the grace days has passed and it is not fully paid:

    >>> late = missed(plan, [(date(2026, 12, 3), D("100.00"))], today=date(2027, 1, 15), grace_days=10)
    >>> [(m.number, m.amount_overdue, m.days_late) for m in late]
    [(2, Decimal('66.66'), 15)]

A plan is *completed* when its balance is paid and *defaulted* once the number of missed
instalments reaches the clinic's limit (:func:`plan_status`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_UP, Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")

ACTIVE = "active"
COMPLETED = "completed"
DEFAULTED = "defaulted"
CANCELLED = "cancelled"

MAX_INSTALMENTS = 120
"""Ten years of monthly instalments: more is a typing mistake, not a plan."""

PAID = "paid"
PARTLY_PAID = "partly paid"
DUE = "due"
"""Due date reached (or within the grace days) and not fully paid: not missed yet."""
MISSED = "missed"
UPCOMING = "upcoming"


class PlanError(ValueError):
    """The plan cannot be scheduled as asked (the caller validates input first)."""


@dataclass(frozen=True, slots=True)
class Instalment:
    number: int
    """1 for the first instalment."""
    due_date: date
    amount: Decimal


@dataclass(frozen=True, slots=True)
class InstalmentState:
    instalment: Instalment
    paid: Decimal
    """What the payments received so far cover of this instalment."""
    state: str
    """``paid``, ``partly paid``, ``due``, ``missed`` or ``upcoming``."""

    @property
    def left(self) -> Decimal:
        return self.instalment.amount - self.paid


@dataclass(frozen=True, slots=True)
class MissedInstalment:
    number: int
    due_date: date
    amount: Decimal
    amount_overdue: Decimal
    """What is still unpaid of it."""
    days_late: int
    """Days since the due date (the grace days included)."""


def _cents(value: Decimal) -> bool:
    return value.is_finite() and value == value.quantize(CENT)


def schedule(
    total: Decimal,
    *,
    instalments: int | None = None,
    instalment_amount: Decimal | None = None,
    first_due: date,
    interval_days: int,
) -> tuple[Instalment, ...]:
    """The instalments of a plan for ``total``, every ``interval_days`` from ``first_due``.

    Give the number of ``instalments`` (equal amounts rounded down to the cent, the last takes
    the remainder), or the ``instalment_amount`` (as many as needed, the last is what is left),
    or both, as a plan stores them (then ``amount * (n - 1) < total`` must hold).
    """
    if not _cents(total) or total <= 0:
        raise PlanError(f"the total must be a positive amount in cents, not {total}")
    if interval_days < 1:
        raise PlanError("instalments must be at least a day apart")
    if instalments is None and instalment_amount is None:
        raise PlanError("give the number of instalments or the instalment amount")
    if instalment_amount is not None and (not _cents(instalment_amount) or instalment_amount <= 0):
        raise PlanError(f"the instalment amount must be a positive amount in cents, not {instalment_amount}")
    if instalments is None:
        assert instalment_amount is not None
        count = int((total / instalment_amount).to_integral_value(rounding=ROUND_UP))
        amount = instalment_amount
    else:
        count = instalments
        if count < 1:
            raise PlanError("a plan has at least one instalment")
        amount = (
            instalment_amount
            if instalment_amount is not None
            else (total / count).quantize(CENT, rounding=ROUND_DOWN)
        )
    if amount <= 0:
        raise PlanError(f"{total} cannot be split into {count} instalments of at least a cent")
    if count > MAX_INSTALMENTS:
        raise PlanError(f"{count} instalments are more than {MAX_INSTALMENTS}")
    last = total - amount * (count - 1)
    if last <= 0:
        raise PlanError(f"{count} instalments of {amount} are more than {total}")
    return tuple(
        Instalment(
            number=index + 1,
            due_date=first_due + timedelta(days=interval_days * index),
            amount=amount if index < count - 1 else last,
        )
        for index in range(count)
    )


def instalment_states(
    plan: Sequence[Instalment],
    payments_received: Sequence[tuple[date, Decimal]],
    today: date,
    grace_days: int,
) -> tuple[InstalmentState, ...]:
    """Each instalment with what the payments received by ``today`` pay of it, oldest first."""
    pool = sum((amount for day, amount in payments_received if day <= today), ZERO)
    states: list[InstalmentState] = []
    for instalment in plan:
        paid = min(max(pool, ZERO), instalment.amount)
        pool -= paid
        if paid >= instalment.amount:
            state = PAID
        elif instalment.due_date + timedelta(days=grace_days) < today:
            state = MISSED
        elif instalment.due_date <= today:
            state = DUE
        elif paid > 0:
            state = PARTLY_PAID
        else:
            state = UPCOMING
        states.append(InstalmentState(instalment, paid, state))
    return tuple(states)


def missed(
    plan: Sequence[Instalment],
    payments_received: Sequence[tuple[date, Decimal]],
    today: date,
    grace_days: int,
) -> tuple[MissedInstalment, ...]:
    """The instalments past their due date plus ``grace_days`` that the payments do not fully pay."""
    return tuple(
        MissedInstalment(
            number=s.instalment.number,
            due_date=s.instalment.due_date,
            amount=s.instalment.amount,
            amount_overdue=s.left,
            days_late=(today - s.instalment.due_date).days,
        )
        for s in instalment_states(plan, payments_received, today, grace_days)
        if s.state == MISSED
    )


def plan_status(current: str, balance_left: Decimal, missed_count: int, default_after: int) -> str:
    """The plan's status after the latest postings: only an active plan moves on its own.

    >>> plan_status(ACTIVE, Decimal("0.00"), 0, 3), plan_status(ACTIVE, Decimal("40.00"), 3, 3)
    ('completed', 'defaulted')
    >>> plan_status(CANCELLED, Decimal("0.00"), 0, 3)
    'cancelled'
    """
    if current != ACTIVE:
        return current
    if balance_left <= 0:
        return COMPLETED
    if missed_count >= default_after:
        return DEFAULTED
    return ACTIVE
