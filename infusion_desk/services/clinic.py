"""Clinic details, providers, payers and the drug catalog: the set-up a valid claim needs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from infusion_desk.billing import validation
from infusion_desk.billing.coding_input import CodingInputError, PayerSettings
from infusion_desk.billing.findings import Finding, error
from infusion_desk.billing.money import money, quantity
from infusion_desk.models import (
    ChargeMasterEntry,
    Clinic,
    Drug,
    Payer,
    Provider,
)
from infusion_desk.models.db import Database
from infusion_desk.models.enums import DoseBasis, EraPosting, PayerType
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import NotFound, ValidationFailed


@dataclass
class ClinicDetails:
    name: str
    npi: str
    tin: str
    taxonomy: str
    address1: str
    city: str
    state: str
    zip_code: str
    address2: str | None = None
    phone: str | None = None
    place_of_service: str = "11"
    is_demo: bool = False


@dataclass(frozen=True, slots=True)
class DrugChoice:
    """A catalog drug as pickers list it."""

    id: int
    name: str
    brand_name: str | None
    hcpcs: str
    billing_unit: str
    default_method: str
    default_route: str
    single_dose_container: bool
    ndcs: tuple[str, ...]

    @property
    def label(self) -> str:
        brand = f" ({self.brand_name})" if self.brand_name else ""
        return f"{self.name}{brand} — {self.hcpcs}"


@dataclass
class ProviderInput:
    first_name: str
    last_name: str
    npi: str
    credentials: str | None = None
    taxonomy: str | None = None


@dataclass
class OrderInput:
    patient_id: int
    drug_id: int
    ordering_provider_id: int
    dose_amount: str
    dose_unit: str
    dose_basis: DoseBasis
    frequency: str
    start_date: date
    diagnoses: tuple[str, ...]
    end_date: date | None = None
    doses_ordered: int | None = None


def validate_clinic(data: ClinicDetails) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    if not data.name.strip():
        findings.append(error("REQUIRED", "Clinic name is required.", "name"))
    if not data.address1.strip() or not data.city.strip():
        findings.append(error("REQUIRED", "Street address and city are required.", "address1"))
    findings.extend(validation.check_npi(data.npi, "npi"))
    findings.extend(validation.check_tin(data.tin))
    findings.extend(validation.check_taxonomy(data.taxonomy))
    findings.extend(validation.check_state(data.state))
    findings.extend(validation.check_zip(data.zip_code))
    return tuple(findings)


def validate_order(data: OrderInput) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    if not data.diagnoses:
        findings.append(error("REQUIRED", "An order needs at least one diagnosis.", "diagnoses"))
    for index, code in enumerate(data.diagnoses):
        findings.extend(validation.check_icd10(code, f"diagnoses[{index}]"))
    try:
        dose = validation_decimal(data.dose_amount)
        if dose <= 0:
            findings.append(error("DOSE", "Dose must be more than zero.", "dose_amount"))
    except ValueError:
        findings.append(error("DOSE", f"Dose {data.dose_amount!r} is not a number.", "dose_amount"))
    if data.end_date is not None and data.end_date < data.start_date:
        findings.append(error("DATES", "The order's end date is before its start date.", "end_date"))
    return tuple(findings)


def validation_decimal(text: str) -> Decimal:
    return quantity(text.strip())


def _raise_if_blocking(findings: tuple[Finding, ...]) -> None:
    if any(f.blocks for f in findings):
        raise ValidationFailed(findings)


class ClinicService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def details(self) -> ClinicDetails | None:
        """The clinic's details (no sign-in needed: the sign-in dialog shows the clinic name)."""
        with self._db.session() as session:
            clinic = session.execute(sa.select(Clinic).limit(1)).scalar_one_or_none()
            if clinic is None:
                return None
            return ClinicDetails(
                name=clinic.name,
                npi=clinic.npi,
                tin=clinic.tin,
                taxonomy=clinic.taxonomy,
                address1=clinic.address1,
                address2=clinic.address2,
                city=clinic.city,
                state=clinic.state,
                zip_code=clinic.zip_code,
                phone=clinic.phone,
                place_of_service=clinic.place_of_service,
                is_demo=clinic.is_demo,
            )

    def update_details(self, actor: Actor, data: ClinicDetails) -> None:
        actor.require(Permission.CLINIC_SETTINGS)
        _raise_if_blocking(validate_clinic(data))
        with self._db.session() as session:
            clinic = session.execute(sa.select(Clinic).limit(1)).scalar_one_or_none()
            if clinic is None:
                clinic = Clinic(is_demo=data.is_demo)
                session.add(clinic)
            before = {"name": clinic.name, "npi": clinic.npi, "tin": clinic.tin}
            clinic.name = data.name.strip()
            clinic.npi = data.npi.strip()
            clinic.tin = data.tin.replace("-", "").strip()
            clinic.taxonomy = data.taxonomy.strip().upper()
            clinic.address1 = data.address1.strip()
            clinic.address2 = (data.address2 or "").strip() or None
            clinic.city = data.city.strip()
            clinic.state = data.state.strip().upper()
            clinic.zip_code = data.zip_code.strip()
            clinic.phone = data.phone
            clinic.place_of_service = data.place_of_service
            session.flush()
            audit.record(
                session,
                actor,
                "update",
                "clinic",
                clinic.id,
                detail={"before": before, "after": {"name": clinic.name, "npi": clinic.npi}},
            )

    def add_provider(self, actor: Actor, data: ProviderInput) -> int:
        actor.require(Permission.CLINIC_SETTINGS)
        findings = list(validation.check_npi(data.npi, "npi"))
        if not data.first_name.strip() or not data.last_name.strip():
            findings.append(error("REQUIRED", "Provider first and last name are required.", "last_name"))
        if data.taxonomy:
            findings.extend(validation.check_taxonomy(data.taxonomy))
        _raise_if_blocking(tuple(findings))
        with self._db.session() as session:
            if session.execute(sa.select(Provider.id).where(Provider.npi == data.npi)).first():
                raise ValidationFailed([error("NPI_TAKEN", f"NPI {data.npi} is already on file.", "npi")])
            provider = Provider(
                first_name=data.first_name.strip(),
                last_name=data.last_name.strip(),
                npi=data.npi.strip(),
                credentials=data.credentials,
                taxonomy=data.taxonomy.strip().upper() if data.taxonomy else None,
            )
            session.add(provider)
            session.flush()
            audit.record(session, actor, "create", "provider", provider.id)
            return provider.id

    def payers(self, actor: Actor) -> list[tuple[int, str, PayerType]]:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            rows = session.execute(
                sa.select(Payer.id, Payer.name, Payer.payer_type).where(Payer.active).order_by(Payer.name)
            )
            return [(r.id, r.name, r.payer_type) for r in rows]

    def set_charge(self, actor: Actor, code: str, description: str, charge: str) -> None:
        """Set the clinic's charge for a CPT/HCPCS code in the charge master."""
        actor.require(Permission.CLINIC_SETTINGS)
        findings = list(validation.check_hcpcs(code, "code"))
        try:
            amount = money(charge.strip())
            if amount <= 0:
                findings.append(error("CHARGE", "Charge must be more than $0.00.", "charge"))
        except ValueError:
            findings.append(error("CHARGE", f"Charge {charge!r} is not an amount.", "charge"))
        _raise_if_blocking(tuple(findings))
        normalized = validation.normalize_hcpcs(code)
        with self._db.session() as session:
            entry = session.execute(
                sa.select(ChargeMasterEntry).where(ChargeMasterEntry.code == normalized)
            ).scalar_one_or_none()
            before = None if entry is None else str(entry.charge)
            if entry is None:
                entry = ChargeMasterEntry(code=normalized, description=description, charge=amount)
                session.add(entry)
            else:
                entry.description = description
                entry.charge = amount
            session.flush()
            audit.record(
                session,
                actor,
                "update",
                "charge_master",
                normalized,
                detail={"before": before, "after": str(amount)},
            )

    def drugs(self, actor: Actor) -> list[DrugChoice]:
        """The active drug catalog, by name."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            rows = session.execute(
                sa.select(Drug).where(Drug.active).order_by(Drug.name).options(selectinload(Drug.ndcs))
            ).scalars()
            return [
                DrugChoice(
                    d.id,
                    d.name,
                    d.brand_name,
                    d.hcpcs,
                    d.billing_unit,
                    d.default_method,
                    d.default_route,
                    d.single_dose_container,
                    tuple(n.ndc for n in d.ndcs),
                )
                for d in rows
            ]

    def payer_coding_settings(self, actor: Actor, payer_id: int) -> dict[str, object]:
        """A payer's coding choices: the stored overrides merged over the defaults for its type."""
        actor.require(Permission.CODE_VISIT)
        with self._db.session() as session:
            payer = session.get(Payer, payer_id)
            if payer is None:
                raise NotFound(f"Payer {payer_id} no longer exists.")
            payer_type = payer.payer_type.value if payer.payer_type is not PayerType.OTHER else "commercial"
            settings = PayerSettings.from_mapping(payer_type, payer.coding_settings or {})
            return {name: getattr(settings, name) for name in PayerSettings.__dataclass_fields__}

    def payer_era_posting(self, actor: Actor, payer_id: int) -> EraPosting:
        """How the payer's 835 remittances are posted: after review (default), when matched, or all."""
        actor.require(Permission.CODE_VISIT)
        with self._db.session() as session:
            payer = session.get(Payer, payer_id)
            if payer is None:
                raise NotFound(f"Payer {payer_id} no longer exists.")
            return payer.era_posting

    def set_payer_era_posting(self, actor: Actor, payer_id: int, mode: EraPosting | str) -> None:
        actor.require(Permission.CLINIC_SETTINGS)
        try:
            chosen = EraPosting(mode)
        except ValueError as exc:
            message = f"{mode!r} is not a posting choice: review, matched or all."
            raise ValidationFailed([error("ERA_POSTING", message, "era_posting")]) from exc
        with self._db.session() as session:
            payer = session.get(Payer, payer_id)
            if payer is None:
                raise NotFound(f"Payer {payer_id} no longer exists.")
            before, payer.era_posting = payer.era_posting, chosen
            audit.record(
                session,
                actor,
                "update",
                "payer_era_posting",
                payer.id,
                detail={"before": before.value, "after": chosen.value},
            )

    def set_payer_coding_settings(self, actor: Actor, payer_id: int, changes: dict[str, object]) -> None:
        """Change a payer's coding choices (JW/JZ, modifiers, complex biologics...); checked first."""
        actor.require(Permission.CLINIC_SETTINGS)
        with self._db.session() as session:
            payer = session.get(Payer, payer_id)
            if payer is None:
                raise NotFound(f"Payer {payer_id} no longer exists.")
            payer_type = payer.payer_type.value if payer.payer_type is not PayerType.OTHER else "commercial"
            merged = {**(payer.coding_settings or {}), **changes}
            try:
                PayerSettings.from_mapping(payer_type, merged)
            except CodingInputError as exc:
                raise ValidationFailed([error("PAYER_SETTING", exc.message, exc.field)]) from exc
            before = dict(payer.coding_settings or {})
            payer.coding_settings = {
                key: list(value) if isinstance(value, tuple) else value for key, value in merged.items()
            }
            audit.record(
                session,
                actor,
                "update",
                "payer_coding_settings",
                payer.id,
                detail={"before": before, "after": payer.coding_settings},
            )
