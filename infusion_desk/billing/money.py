"""Money and quantities as :class:`~decimal.Decimal`, made through one helper.

    >>> money("12.5")
    Decimal('12.50')
    >>> money(3)
    Decimal('3.00')
    >>> quantity("0.5")
    Decimal('0.5')

Floats are refused: a float has already lost the cents it was meant to carry.
Rounding happens only where a rule says so; :func:`money` rounds half up to the
cent because that is how a charge is printed on a claim.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def _to_decimal(value: Decimal | int | str) -> Decimal:
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"money and quantities are never floats: got {value!r}")
    try:
        result = Decimal(value) if not isinstance(value, Decimal) else value
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc
    if not result.is_finite():
        raise ValueError(f"not a finite number: {value!r}")
    return result


def money(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as an amount of dollars rounded half up to the cent.

    A number too large to hold in cents is refused with :class:`ValueError`, as text is:

    >>> money("1E+999999999")
    Traceback (most recent call last):
    ValueError: too large to be an amount: '1E+999999999'
    """
    try:
        return _to_decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise ValueError(f"too large to be an amount: {value!r}") from exc


def quantity(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as an exact decimal quantity (a dose, a unit count)."""
    return _to_decimal(value)
