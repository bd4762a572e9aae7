"""The dose an order asks for today: fixed, per kilogram, or per square metre of body surface.

    >>> ordered_dose(Decimal(5), "per_kg", weight_kg=Decimal(73))
    Decimal('365')
    >>> body_surface_area(Decimal(170), Decimal(70))
    Decimal('1.82')

Body surface area uses the Mosteller formula, sqrt(height cm x weight kg / 3600), rounded
to the hundredth as oncology orders print it.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


class DoseError(ValueError):
    """The dose cannot be computed from what is on file (no weight, no height)."""


def body_surface_area(height_cm: Decimal, weight_kg: Decimal) -> Decimal:
    if height_cm <= 0 or weight_kg <= 0:
        raise DoseError("height and weight must be more than zero")
    return ((height_cm * weight_kg / 3600).sqrt()).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def ordered_dose(
    amount: Decimal, basis: str, *, weight_kg: Decimal | None = None, height_cm: Decimal | None = None
) -> Decimal:
    """The dose to give for an order of ``amount`` on ``basis`` (fixed, per_kg, per_m2)."""
    if basis == "fixed":
        return amount
    if basis == "per_kg":
        if weight_kg is None:
            raise DoseError("the order is per kg: record today's weight first")
        return (amount * weight_kg).normalize()
    if basis == "per_m2":
        if weight_kg is None or height_cm is None:
            raise DoseError("the order is per m²: record today's weight and height first")
        return (amount * body_surface_area(height_cm, weight_kg)).normalize()
    raise DoseError(f"unknown dose basis {basis!r}")
