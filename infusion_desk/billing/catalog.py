"""The drug catalog shipped in ``resources/drug_catalog.json``, read once into frozen records.

    >>> infliximab = drug_by_hcpcs()["J1745"]
    >>> infliximab.billing_unit_amount, infliximab.billing_unit
    (Decimal('10'), 'mg')

The clinic's own catalog lives in the database (seeded from this file and editable);
this module only reads the shipped reference copy.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources

from infusion_desk.billing.money import quantity


@dataclass(frozen=True, slots=True)
class CatalogNdc:
    ndc: str
    description: str
    package_amount: Decimal
    package_unit: str
    ndc_unit: str
    package_volume_ml: Decimal | None = None
    """For a package measured in mL whose content is a mass: its volume, to turn a dose into mL."""


@dataclass(frozen=True, slots=True)
class CatalogDrug:
    hcpcs: str
    name: str
    brand_name: str | None
    billing_unit_amount: Decimal
    billing_unit: str
    billing_unit_up_to: bool
    admin_class: str
    default_method: str
    default_route: str
    single_dose_container: bool
    typical_minutes: int
    unit_price: Decimal
    acquisition_cost: Decimal | None
    ndcs: tuple[CatalogNdc, ...]


def read_resource_text(name: str) -> str:
    return resources.files("infusion_desk.resources").joinpath(name).read_text(encoding="utf-8")


@cache
def drug_catalog() -> tuple[CatalogDrug, ...]:
    data = json.loads(read_resource_text("drug_catalog.json"))
    drugs = []
    for item in data["drugs"]:
        unit = item["billing_unit"]
        drugs.append(
            CatalogDrug(
                hcpcs=item["hcpcs"],
                name=item["name"],
                brand_name=item.get("brand_name"),
                billing_unit_amount=quantity(str(unit["amount"])),
                billing_unit=unit["unit"],
                billing_unit_up_to=bool(unit.get("up_to", False)),
                admin_class=item["admin_class"],
                default_method=item.get("default_method", "infusion"),
                default_route=item.get("default_route", "IV"),
                single_dose_container=bool(item.get("single_dose_container", True)),
                typical_minutes=int(item.get("typical_minutes") or 60),
                unit_price=quantity(str(item["unit_price"])),
                acquisition_cost=(
                    quantity(str(item["acquisition_cost"])) if item.get("acquisition_cost") else None
                ),
                ndcs=tuple(
                    CatalogNdc(
                        ndc=n["ndc"],
                        description=n.get("description", ""),
                        package_amount=quantity(str(n["package_amount"])),
                        package_unit=n["package_unit"],
                        ndc_unit=n["ndc_unit"],
                        package_volume_ml=(
                            quantity(str(n["package_volume_ml"])) if n.get("package_volume_ml") else None
                        ),
                    )
                    for n in item.get("ndcs", [])
                ),
            )
        )
    return tuple(drugs)


def drug_by_hcpcs() -> dict[str, CatalogDrug]:
    return {drug.hcpcs: drug for drug in drug_catalog()}
