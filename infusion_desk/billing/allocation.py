"""How a patient's payment (or credit) is spread over the lines the patient owes, to the cent.

A payment goes to the oldest date of service first (then the lowest line number), never
more than a line's due; whatever is left is a credit on the account. When the payer of the
bill chooses the lines, they are paid in the order chosen and the rest is a credit; other
lines are not touched.

    >>> from decimal import Decimal as D
    >>> lines = (
    ...     DueLine(line_id=7, service_date=date(2026, 10, 2), line_number=1, due=D("30.00")),
    ...     DueLine(line_id=3, service_date=date(2026, 9, 4), line_number=2, due=D("12.40")),
    ... )
    >>> result = allocate(D("50.00"), lines)
    >>> result.lines, result.credit
    (((3, Decimal('12.40')), (7, Decimal('30.00'))), Decimal('7.60'))
    >>> allocate(D("20.00"), lines, chosen=(7,)).lines
    ((7, Decimal('20.00')),)

An existing credit is made of what is left of earlier payments, less what was refunded
(refunds use up the oldest payments first); :func:`credit_sources` says how much of each
payment is still free and :func:`draw` splits the lines' amounts among those payments:

    >>> sources = credit_sources(((1, D("10.00")), (2, D("25.00"))), refunded=D("4.00"))
    >>> [(s.payment_id, s.available) for s in sources]
    [(1, Decimal('6.00')), (2, Decimal('25.00'))]
    >>> draw(((3, D("12.40")),), sources)
    ((1, 3, Decimal('6.00')), (2, 3, Decimal('6.40')))
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


class AllocationError(ValueError):
    """The request cannot be allocated as asked (a bug in the caller: it checks first)."""


@dataclass(frozen=True, slots=True)
class DueLine:
    """A line the patient owes something on."""

    line_id: int
    service_date: date
    line_number: int
    due: Decimal


@dataclass(frozen=True, slots=True)
class Allocation:
    amount: Decimal
    lines: tuple[tuple[int, Decimal], ...]
    """``(line_id, amount)`` in the order paid; only lines that got something."""
    credit: Decimal
    """What is left over: a credit on the account."""

    @property
    def allocated(self) -> Decimal:
        return sum((amount for _, amount in self.lines), ZERO)


@dataclass(frozen=True, slots=True)
class CreditSource:
    """What is still free of one earlier payment."""

    payment_id: int
    available: Decimal


def is_cents(value: Decimal) -> bool:
    """Whether ``value`` is a finite amount with no fraction of a cent.

    >>> is_cents(Decimal("1.25")), is_cents(Decimal("1.255")), is_cents(Decimal("3"))
    (True, False, True)
    """
    return value.is_finite() and value == value.quantize(CENT)


def _check_amount(value: Decimal, what: str) -> None:
    if not isinstance(value, Decimal) or not is_cents(value) or value < 0:
        raise AllocationError(f"{what} must be a Decimal of whole cents, zero or more: got {value!r}")


def oldest_first(lines: Iterable[DueLine]) -> list[DueLine]:
    """Lines in the order a payment reaches them: date of service, line number, then id."""
    return sorted(lines, key=lambda line: (line.service_date, line.line_number, line.line_id))


def allocate(
    amount: Decimal, due_lines: Sequence[DueLine], chosen: Sequence[int] | None = None
) -> Allocation:
    """Spread ``amount`` over ``due_lines`` (oldest first, or the ``chosen`` line ids in order).

    Raises :class:`AllocationError` for amounts that are negative or not whole cents, a
    chosen id that is not among ``due_lines``, or a line chosen twice.
    """
    _check_amount(amount, "The amount")
    by_id: dict[int, DueLine] = {}
    for line in due_lines:
        _check_amount(line.due, f"Line {line.line_id}'s due")
        if line.line_id in by_id:
            raise AllocationError(f"Line {line.line_id} is listed twice.")
        by_id[line.line_id] = line
    if chosen is None:
        order = oldest_first(due_lines)
    else:
        if len(set(chosen)) != len(chosen):
            raise AllocationError("A line was chosen twice.")
        missing = [line_id for line_id in chosen if line_id not in by_id]
        if missing:
            raise AllocationError(f"Lines {missing} are not among the lines due.")
        order = [by_id[line_id] for line_id in chosen]
    left = amount
    paid: list[tuple[int, Decimal]] = []
    for line in order:
        if left <= 0:
            break
        share = min(left, line.due)
        if share > 0:
            paid.append((line.line_id, share))
            left -= share
    return Allocation(amount=amount, lines=tuple(paid), credit=left)


def credit_sources(remaining: Sequence[tuple[int, Decimal]], refunded: Decimal) -> tuple[CreditSource, ...]:
    """What is free of each payment: ``remaining`` (payment id, unallocated) oldest first, less refunds.

    Refunds use up the oldest payments first. Raises :class:`AllocationError` when more was
    refunded than is left.
    """
    _check_amount(refunded, "The refunded amount")
    to_consume = refunded
    sources: list[CreditSource] = []
    for payment_id, left in remaining:
        _check_amount(left, f"Payment {payment_id}'s remainder")
        used = min(left, to_consume)
        to_consume -= used
        if left - used > 0:
            sources.append(CreditSource(payment_id, left - used))
    if to_consume > 0:
        raise AllocationError(f"{refunded} was refunded but only {refunded - to_consume} was left.")
    return tuple(sources)


def draw(
    lines: Sequence[tuple[int, Decimal]], sources: Sequence[CreditSource]
) -> tuple[tuple[int, int, Decimal], ...]:
    """Split each line's amount among ``sources`` in order: ``(payment_id, line_id, amount)`` rows.

    Raises :class:`AllocationError` when the lines ask for more than the sources hold.
    """
    rows: list[tuple[int, int, Decimal]] = []
    free = [source.available for source in sources]
    index = 0
    for line_id, wanted in lines:
        _check_amount(wanted, f"Line {line_id}'s amount")
        while wanted > 0:
            if index >= len(free):
                raise AllocationError("The lines ask for more credit than there is.")
            share = min(wanted, free[index])
            if share > 0:
                rows.append((sources[index].payment_id, line_id, share))
            wanted -= share
            free[index] -= share
            if free[index] <= 0:
                index += 1
    return tuple(rows)
