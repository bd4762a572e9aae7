"""From coded lines to claim lines: charges, NDC quantities, authorization numbers, control numbers.

    >>> vial = NdcPackage("57894003001", Decimal(100), "mg", "UN")
    >>> ndc_quantity(Decimal(400), "mg", vial)          # 400 mg of infliximab from 100 mg vials
    Decimal('4')
    >>> ndc_quantity(Decimal(1000), "mL", NdcPackage("00338954305", Decimal(1000), "mL", "ML"))
    Decimal('1000')
    >>> bag_vial = NdcPackage("00143989001", Decimal(40), "mg", "ML", volume_ml=Decimal(20))
    >>> ndc_quantity(Decimal(8), "mg", bag_vial)        # 8 mg ondansetron at 2 mg/mL
    Decimal('4')
    >>> line_charge("J1745", Decimal(40), {}, {"J1745": Decimal("85.5")})
    Decimal('3420.00')
    >>> line_charge("96365", Decimal(1), {"96365": Decimal("260.00")}, {})
    Decimal('260.00')
    >>> claim_number(42), line_control_number("C0000042", 3)
    ('C0000042', 'C0000042L03')

Charges come from the clinic's charge master (per code) and drug lines are units times the
drug's unit price; a code with neither is charged 0 and the scrubber says where to fix it.
The NDC quantity is in the NDC's own unit (coding-rules §14): whole or part packages for
``UN``, millilitres for ``ML``, never HCPCS units.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from infusion_desk.billing.money import money

_MASS_IN_MG = {"mg": Decimal(1), "g": Decimal(1000), "mcg": Decimal("0.001")}
_VOLUME_IN_ML = {"ml": Decimal(1), "l": Decimal(1000)}
_THOUSANDTH = Decimal("0.001")


@dataclass(frozen=True, slots=True)
class NdcPackage:
    ndc: str
    amount: Decimal
    """Drug content of one package, in ``unit``."""
    unit: str
    ndc_unit: str
    """``UN`` (packages), ``ML``, ``GR``, ``F2``, ``ME``."""
    volume_ml: Decimal | None = None
    """For an ``ML`` package whose content is a mass: its volume."""


def _convert(amount: Decimal, unit: str, target: str) -> Decimal | None:
    """``amount`` of ``unit`` in ``target`` units, or None when they measure different things."""
    source, goal = unit.lower(), target.lower()
    if source == goal:
        return amount
    for table in (_MASS_IN_MG, _VOLUME_IN_ML):
        if source in table and goal in table:
            return amount * table[source] / table[goal]
    return None


def ndc_quantity(amount: Decimal, unit: str, package: NdcPackage) -> Decimal | None:
    """How much of the NDC ``amount`` of drug is, in the NDC unit; None when it cannot be said.

    ``UN``: packages (a part package for a partial dose or a waste line, to three decimals);
    ``ML``: millilitres, through the package's volume when its content is a mass;
    ``GR``/``ME``: grams or milligrams of drug; ``F2``: international units.
    """
    ndc_unit = package.ndc_unit.upper()
    result: Decimal | None
    if ndc_unit == "UN":
        in_package = _convert(amount, unit, package.unit)
        result = None if in_package is None or package.amount <= 0 else in_package / package.amount
    elif ndc_unit == "ML":
        result = _convert(amount, unit, "ml")
        if result is None and package.volume_ml and package.amount > 0:
            in_package = _convert(amount, unit, package.unit)
            result = None if in_package is None else in_package / package.amount * package.volume_ml
    elif ndc_unit == "GR":
        result = _convert(amount, unit, "g")
    elif ndc_unit == "ME":
        result = _convert(amount, unit, "mg")
    elif ndc_unit == "F2":
        result = amount if unit.lower() in ("units", "unit", "iu") else None
    else:
        result = None
    if result is None:
        return None
    rounded = result.quantize(_THOUSANDTH, ROUND_HALF_UP)
    return rounded.quantize(Decimal(1)) if rounded == rounded.to_integral_value() else rounded.normalize()


def line_charge(
    code: str,
    units: Decimal,
    charge_master: Mapping[str, Decimal],
    drug_prices: Mapping[str, Decimal],
) -> Decimal:
    """The line's charge: the charge master's per-unit charge, else the drug's unit price, else 0."""
    per_unit = charge_master.get(code)
    if per_unit is None:
        per_unit = drug_prices.get(code, Decimal(0))
    return money(per_unit * units)


def claim_number(sequence: int) -> str:
    """CLM01 from the persistent claim counter: short, unique, no delimiter (at most 20 characters)."""
    return f"C{sequence:07d}"


def line_control_number(claim: str, line_number: int) -> str:
    """REF*6R: unique per line, so a remittance line finds its way back."""
    return f"{claim}L{line_number:02d}"


def claim_level_authorization(numbers: Sequence[str | None]) -> str | None:
    """The prior authorization for REF*G1 at claim level: the first line's that has one."""
    return next((number for number in numbers if number), None)


def is_drug_code(code: str) -> bool:
    """HCPCS Level II codes (a letter first) carry NDC data; CPT codes never do."""
    return code[:1].isalpha()
