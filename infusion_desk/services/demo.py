"""A fictional demo clinic, generated deterministically for first runs, tests and benchmarks.

    infusion-desk demo --patients 200 --months 6 --seed 7

Everything here is invented: names come from Faker, phone numbers are in the 555-01xx
range reserved for fiction, member IDs start with ``DEMO``, and the clinic says it is a
demo in its name and in the window title. The same seed and ``today`` give the same clinic.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from faker import Faker
from sqlalchemy.orm import Session

from infusion_desk.billing.catalog import CatalogDrug, drug_by_hcpcs, drug_catalog
from infusion_desk.billing.money import money
from infusion_desk.billing.validation import make_npi
from infusion_desk.models import (
    Administration,
    AuthorizationCode,
    Chair,
    ChargeMasterEntry,
    ClearinghouseProfile,
    Clinic,
    Drug,
    DrugNdc,
    EligibilityCheck,
    FeeScheduleEntry,
    InsurancePolicy,
    OrderDiagnosis,
    Patient,
    Payer,
    PhysicianOrder,
    PriorAuthorization,
    Provider,
    Setting,
    User,
    Visit,
    VitalSign,
)
from infusion_desk.models.base import Base
from infusion_desk.models.db import Database
from infusion_desk.models.enums import (
    AuthorizationStatus,
    DoseBasis,
    EligibilityStatus,
    PayerType,
    PolicyRank,
    Role,
    Sex,
    SubscriberRelationship,
    VerificationMethod,
    VisitStatus,
)
from infusion_desk.models.patients import search_key
from infusion_desk.services.auth import hash_password

DEMO_PASSWORD = "demo"
DEMO_USERS: tuple[tuple[str, str, Role], ...] = (
    ("frontdesk", "Fran Desk (demo)", Role.FRONT_DESK),
    ("nurse", "Nina Chairside (demo)", Role.NURSE),
    ("biller", "Bill Coder (demo)", Role.BILLER),
    ("manager", "Morgan Office (demo)", Role.MANAGER),
    ("admin", "Ada Admin (demo)", Role.ADMIN),
)
CLINIC_TIMEZONE = "America/Chicago"
CHUNK = 5000

# (payer name, clearinghouse payer ID, type, timely filing days, share of non-Medicare patients)
_PAYERS: tuple[tuple[str, str, PayerType, int], ...] = (
    ("Medicare Part B (Demo MAC)", "DEMO1", PayerType.MEDICARE, 365),
    ("Prairie State Medicaid (demo)", "DEMO2", PayerType.MEDICAID, 180),
    ("Bluebonnet Health Plan (demo)", "DEMO3", PayerType.COMMERCIAL, 90),
    ("Evergreen Mutual (demo)", "DEMO4", PayerType.COMMERCIAL, 180),
    ("Lakeside Care Alliance (demo)", "DEMO5", PayerType.COMMERCIAL, 120),
)


@dataclass(frozen=True)
class Regimen:
    """A therapy a demo patient is on: the drug, how it is dosed and how often it is given."""

    name: str
    hcpcs: str
    dose: Decimal
    dose_unit: str
    basis: DoseBasis
    interval_days: int
    diagnoses: tuple[str, ...]
    premeds: tuple[tuple[str, Decimal, str], ...] = ()  # (hcpcs, dose, method)
    hydration: bool = False
    weight: int = 1


REGIMENS: tuple[Regimen, ...] = (
    Regimen(
        "infliximab for Crohn's disease",
        "J1745",
        Decimal(5),
        "mg",
        DoseBasis.PER_KG,
        56,
        ("K50.90",),
        (("J1200", Decimal(25), "push"),),
        weight=6,
    ),
    Regimen(
        "infliximab-dyyb for ulcerative colitis",
        "Q5103",
        Decimal(5),
        "mg",
        DoseBasis.PER_KG,
        56,
        ("K51.90",),
        (("J1200", Decimal(25), "push"),),
        weight=3,
    ),
    Regimen(
        "vedolizumab for ulcerative colitis",
        "J3380",
        Decimal(300),
        "mg",
        DoseBasis.FIXED,
        56,
        ("K51.90",),
        weight=3,
    ),
    Regimen(
        "immune globulin for immunodeficiency",
        "J1569",
        Decimal("0.4"),
        "g",
        DoseBasis.PER_KG,
        28,
        ("D80.1",),
        (("J1200", Decimal(25), "push"),),
        hydration=True,
        weight=4,
    ),
    Regimen(
        "iron sucrose for iron deficiency anemia",
        "J1756",
        Decimal(200),
        "mg",
        DoseBasis.FIXED,
        7,
        ("D50.9",),
        weight=5,
    ),
    Regimen(
        "ferric carboxymaltose for iron deficiency",
        "J1439",
        Decimal(750),
        "mg",
        DoseBasis.FIXED,
        7,
        ("D50.0",),
        weight=3,
    ),
    Regimen(
        "abatacept for rheumatoid arthritis",
        "J0129",
        Decimal(750),
        "mg",
        DoseBasis.FIXED,
        28,
        ("M05.79",),
        weight=3,
    ),
    Regimen(
        "tocilizumab for rheumatoid arthritis",
        "J3262",
        Decimal(8),
        "mg",
        DoseBasis.PER_KG,
        28,
        ("M06.9",),
        weight=2,
    ),
    Regimen(
        "ocrelizumab for multiple sclerosis",
        "J2350",
        Decimal(600),
        "mg",
        DoseBasis.FIXED,
        182,
        ("G35.A",),
        (("J2930", Decimal(100), "push"), ("J1200", Decimal(50), "push")),
        weight=3,
    ),
    Regimen(
        "natalizumab for multiple sclerosis",
        "J2323",
        Decimal(300),
        "mg",
        DoseBasis.FIXED,
        28,
        ("G35.A",),
        weight=2,
    ),
    Regimen(
        "denosumab for osteoporosis", "J0897", Decimal(60), "mg", DoseBasis.FIXED, 182, ("M81.0",), weight=3
    ),
    Regimen(
        "rituximab for rheumatoid arthritis",
        "J9312",
        Decimal(1000),
        "mg",
        DoseBasis.FIXED,
        14,
        ("M05.79",),
        (("J1200", Decimal(50), "push"), ("J2930", Decimal(100), "push")),
        weight=2,
    ),
    Regimen(
        "pembrolizumab for lung cancer",
        "J9271",
        Decimal(200),
        "mg",
        DoseBasis.FIXED,
        21,
        ("C34.90",),
        (("J2405", Decimal(8), "push"),),
        hydration=True,
        weight=2,
    ),
    Regimen(
        "bevacizumab for colon cancer",
        "J9035",
        Decimal(5),
        "mg",
        DoseBasis.PER_KG,
        14,
        ("C18.9",),
        (("J2405", Decimal(8), "push"), ("J1100", Decimal(10), "push")),
        weight=1,
    ),
    Regimen(
        "pegfilgrastim after chemotherapy",
        "J2506",
        Decimal(6),
        "mg",
        DoseBasis.FIXED,
        21,
        ("D70.1", "C50.911"),
        weight=1,
    ),
    Regimen("eculizumab for PNH", "J1300", Decimal(900), "mg", DoseBasis.FIXED, 14, ("D59.5",), weight=1),
)

_ALLOWED_SHARE: dict[PayerType, Decimal] = {
    PayerType.MEDICARE: Decimal("0.45"),
    PayerType.MEDICAID: Decimal("0.40"),
    PayerType.COMMERCIAL: Decimal("0.65"),
    PayerType.OTHER: Decimal("0.60"),
}

_ADMIN_CHARGES: tuple[tuple[str, str, str], ...] = (
    ("96360", "IV infusion, hydration; initial, 31 min to 1 hour", "210.00"),
    ("96361", "IV infusion, hydration; each additional hour", "65.00"),
    ("96365", "IV infusion, therapeutic; initial, up to 1 hour", "260.00"),
    ("96366", "IV infusion, therapeutic; each additional hour", "70.00"),
    ("96367", "IV infusion, therapeutic; additional sequential infusion, up to 1 hour", "110.00"),
    ("96368", "IV infusion, therapeutic; concurrent infusion", "60.00"),
    ("96369", "Subcutaneous infusion; initial, up to 1 hour", "240.00"),
    ("96370", "Subcutaneous infusion; each additional hour", "60.00"),
    ("96372", "Therapeutic injection, SC or IM", "55.00"),
    ("96374", "IV push, single or initial drug", "140.00"),
    ("96375", "IV push, each additional sequential new drug", "60.00"),
    ("96401", "Chemotherapy administration, SC or IM; non-hormonal", "125.00"),
    ("96402", "Chemotherapy administration, SC or IM; hormonal", "95.00"),
    ("96409", "Chemotherapy administration, IV push, single or initial drug", "230.00"),
    ("96411", "Chemotherapy administration, IV push, each additional drug", "120.00"),
    ("96413", "Chemotherapy administration, IV infusion, up to 1 hour", "390.00"),
    ("96415", "Chemotherapy administration, IV infusion, each additional hour", "85.00"),
    ("96417", "Chemotherapy administration, each additional sequential infusion", "180.00"),
    ("99211", "Office visit, established patient, minimal", "45.00"),
    ("99213", "Office visit, established patient, low complexity", "150.00"),
    ("99214", "Office visit, established patient, moderate complexity", "220.00"),
)


class DemoExistsError(RuntimeError):
    """The database already holds a clinic; demo data is only written to an empty one."""


@dataclass(frozen=True)
class DemoSummary:
    patients: int
    policies: int
    orders: int
    authorizations: int
    visits: int
    administrations: int


def clinic_timezone(session: Session) -> ZoneInfo:
    value = session.get(Setting, "clinic.timezone")
    return ZoneInfo(value.value if value is not None else CLINIC_TIMEZONE)


def _mbi(rng: random.Random) -> str:
    """A Medicare Beneficiary Identifier in the right shape, marked fictional by the leading 9."""
    letters = "ACDEFGHJKMNPQRTUVWXY"
    alnum = letters + "0123456789"
    pattern = ["9", letters, alnum, "d", letters, alnum, "d", letters, letters, "d", "d"]
    return "".join(
        str(rng.randint(0, 9)) if p == "d" else (p if p == "9" else rng.choice(p)) for p in pattern
    )


def _fictional_phone(rng: random.Random) -> str:
    return f"{rng.randint(201, 989)}-555-01{rng.randint(0, 99):02d}"


def _bump_sequences(session: Session, tables: Iterable[type[Base]]) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for model in tables:
        table = model.__tablename__
        session.execute(
            sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
            )
        )


def _insert(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), CHUNK):
        session.execute(sa.insert(model), rows[start : start + CHUNK])


def _units_for_dose(drug: CatalogDrug, dose: Decimal, dose_unit: str) -> Decimal:
    if dose_unit == "g" and drug.billing_unit == "mg":
        return dose * 1000
    return dose


def _waste(drug: CatalogDrug, dose_mg: Decimal) -> Decimal:
    """What is left in the single-dose vials opened for ``dose_mg`` (smallest vial combination)."""
    if not drug.single_dose_container or not drug.ndcs:
        return Decimal(0)
    vial = (
        min(n.package_amount for n in drug.ndcs if n.package_unit == drug.billing_unit)
        if any(n.package_unit == drug.billing_unit for n in drug.ndcs)
        else None
    )
    if not vial or vial <= 0:
        return Decimal(0)
    vials = math.ceil(dose_mg / vial)
    return vials * vial - dose_mg


def generate_demo(
    db: Database,
    *,
    patients: int = 200,
    months: int = 6,
    seed: int = 1,
    today: date | None = None,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Write a fictional clinic into an empty database and return what was created."""
    if patients < 1 or months < 0:
        raise ValueError("a demo clinic needs at least one patient and zero or more months")
    today = today or datetime.now(ZoneInfo(CLINIC_TIMEZONE)).date()
    report = progress or (lambda _message: None)
    rng = random.Random(seed)
    fake = Faker("en_US")
    fake.seed_instance(seed)
    catalog = drug_by_hcpcs()
    with db.session() as session:
        if session.execute(sa.select(Clinic.id)).first() is not None:
            raise DemoExistsError(
                "This database already has a clinic; demo data is only written to an empty database."
            )
        report("clinic, users, payers and catalog")
        tz = ZoneInfo(CLINIC_TIMEZONE)
        session.add(Setting(key="clinic.timezone", value=CLINIC_TIMEZONE))
        session.add(Setting(key="demo.seed", value=seed))
        session.add(
            Clinic(
                name="Maple Grove Infusion Center (DEMO)",
                npi=make_npi(f"1{rng.randint(10**7, 10**8 - 1)}"),
                tin=f"99{rng.randint(1000000, 9999999)}",
                taxonomy="261QI0500X",
                address1="100 Example Parkway, Suite 5",
                city="Springfield",
                state="IL",
                zip_code="62701-0100",  # the 837P wants ZIP+4 for the billing provider
                phone="217-555-0100",
                place_of_service="11",
                is_demo=True,
            )
        )
        for username, display, role in DEMO_USERS:
            session.add(
                User(
                    username=username,
                    display_name=display,
                    role=role,
                    password_hash=hash_password(DEMO_PASSWORD),
                )
            )
        payer_rows = []
        for index, (name, payer_id, payer_type, filing) in enumerate(_PAYERS, start=1):
            payer_rows.append(
                Payer(
                    id=index,
                    name=name,
                    payer_id=payer_id,
                    payer_type=payer_type,
                    address1=f"PO Box {1000 + index}",
                    city="Springfield",
                    state="IL",
                    zip_code="62701",
                    timely_filing_days=filing,
                    appeal_days=120 if payer_type is PayerType.MEDICARE else 180,
                )
            )
        session.add_all(payer_rows)
        providers = []
        for index in range(4):
            first = fake.first_name()
            last = fake.last_name()
            providers.append(
                Provider(
                    id=index + 1,
                    first_name=first,
                    last_name=last,
                    credentials=("MD", "MD", "DO", "NP")[index],
                    npi=make_npi(f"1{rng.randint(10**7, 10**8 - 1)}"),
                    taxonomy=("207RG0100X", "207RR0500X", "207RH0003X", "363LF0000X")[index],
                )
            )
        session.add_all(providers)
        session.add_all(Chair(id=i, name=f"Chair {i}", sort_order=i) for i in range(1, 9))
        drug_ids: dict[str, int] = {}
        for index, item in enumerate(drug_catalog(), start=1):
            drug_ids[item.hcpcs] = index
            session.add(
                Drug(
                    id=index,
                    name=item.name,
                    brand_name=item.brand_name,
                    hcpcs=item.hcpcs,
                    billing_unit_amount=item.billing_unit_amount,
                    billing_unit=item.billing_unit,
                    billing_unit_up_to=item.billing_unit_up_to,
                    admin_class=item.admin_class,
                    default_method=item.default_method,
                    default_route=item.default_route,
                    single_dose_container=item.single_dose_container,
                    unit_price=item.unit_price,
                    acquisition_cost=item.acquisition_cost,
                    typical_minutes=item.typical_minutes,
                    ndcs=[
                        DrugNdc(
                            ndc=n.ndc,
                            description=n.description,
                            package_amount=n.package_amount,
                            package_unit=n.package_unit,
                            ndc_unit=n.ndc_unit,
                            package_volume_ml=n.package_volume_ml,
                        )
                        for n in item.ndcs
                    ],
                )
            )
        session.add_all(
            ChargeMasterEntry(code=code, description=text, charge=Decimal(charge))
            for code, text, charge in _ADMIN_CHARGES
        )
        # Fictional allowed amounts: a fixed share of the clinic's charge per payer, so the
        # check-in estimate has a fee schedule to price against.
        fee_start = date(today.year, 1, 1)
        session.flush()
        for payer_index, (_name, _payer_id, payer_type, _filing) in enumerate(_PAYERS, start=1):
            share = _ALLOWED_SHARE[payer_type]
            session.add_all(
                FeeScheduleEntry(payer_id=payer_index, code=code, allowed=money(Decimal(charge) * share),
                                 effective_from=fee_start)
                for code, _text, charge in _ADMIN_CHARGES
            )
            session.add_all(
                FeeScheduleEntry(payer_id=payer_index, code=item.hcpcs,
                                 allowed=(item.unit_price * share).quantize(Decimal("0.0001")),
                                 effective_from=fee_start)
                for item in catalog.values()
            )
        session.add(
            ClearinghouseProfile(
                name="Demo clearinghouse (test mode)",
                sender_id="DEMOSENDER",
                receiver_id="DEMORECEIVER",
                application_sender_code="DEMOSENDER",
                application_receiver_code="DEMORECEIVER",
                production=False,
            )
        )
        session.flush()
        _bump_sequences(session, (Payer, Provider, Chair, Drug))

        report(f"{patients} patients")
        patient_rows: list[dict[str, Any]] = []
        policy_rows: list[dict[str, Any]] = []
        eligibility_rows: list[dict[str, Any]] = []
        order_rows: list[dict[str, Any]] = []
        diagnosis_rows: list[dict[str, Any]] = []
        auth_rows: list[dict[str, Any]] = []
        auth_code_rows: list[dict[str, Any]] = []
        visit_rows: list[dict[str, Any]] = []
        admin_rows: list[dict[str, Any]] = []
        vital_rows: list[dict[str, Any]] = []
        now = datetime.now(UTC)
        weights = [r.weight for r in REGIMENS]
        start_of_history = today - timedelta(days=round(months * 30.4))
        policy_id = order_id = auth_id = visit_id = admin_id = 0
        nurse_id = 2  # the demo users are inserted in DEMO_USERS order
        day_load: dict[tuple[date, int], int] = {}

        for number in range(1, patients + 1):
            sex = rng.choice((Sex.FEMALE, Sex.MALE))
            first = fake.first_name_female() if sex is Sex.FEMALE else fake.first_name_male()
            last = fake.last_name()
            birth = today - timedelta(days=rng.randint(19 * 365, 88 * 365))
            age = (today - birth).days // 365
            patient_rows.append(
                {
                    "id": number,
                    "mrn": f"DM{number:07d}",
                    "first_name": first,
                    "last_name": last,
                    "middle_name": None,
                    "search_first": search_key(first),
                    "search_last": search_key(last),
                    "birth_date": birth,
                    "sex": sex,
                    "address1": fake.street_address(),
                    "address2": None,
                    "city": fake.city(),
                    "state": "IL",
                    "zip_code": f"62{rng.randint(700, 999)}",
                    "phone": _fictional_phone(rng),
                    "email": None,
                    "guarantor_name": None,
                    "guarantor_relationship": None,
                    "guarantor_phone": None,
                    "guarantor_address": None,
                    "statement_hold": False,
                    "active": True,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            # Insurance: Medicare at 65+, otherwise Medicaid or one of the commercial plans.
            if age >= 65:
                ranks = [(1, _mbi(rng), "MB")]
                if rng.random() < 0.25:
                    ranks.append((rng.choice((2, 3, 4, 5)), f"DEMO{rng.randint(10**8, 10**9 - 1)}", "CI"))
            else:
                payer = 2 if rng.random() < 0.2 else rng.choice((3, 4, 5))
                ranks = [(payer, f"DEMO{rng.randint(10**8, 10**9 - 1)}", "MC" if payer == 2 else "CI")]
                if payer != 2 and rng.random() < 0.1:
                    ranks.append(
                        (
                            rng.choice([p for p in (3, 4, 5) if p != payer]),
                            f"DEMO{rng.randint(10**8, 10**9 - 1)}",
                            "CI",
                        )
                    )
            primary_policy = None
            primary_payer = ranks[0][0]
            for position, (payer, member, indicator) in enumerate(ranks):
                policy_id += 1
                if position == 0:
                    primary_policy = policy_id
                spouse = rng.random() < 0.15 and payer not in (1, 2)
                same_home = rng.random() < 0.8
                policy_rows.append(
                    {
                        "id": policy_id,
                        "patient_id": number,
                        "payer_id": payer,
                        "rank": (PolicyRank.PRIMARY, PolicyRank.SECONDARY)[position],
                        "member_id": member,
                        "group_number": None if payer in (1, 2) else f"G{rng.randint(1000, 9999)}",
                        "plan_name": None,
                        "subscriber_relationship": SubscriberRelationship.SPOUSE
                        if spouse
                        else SubscriberRelationship.SELF,
                        "subscriber_first_name": fake.first_name() if spouse else None,
                        "subscriber_last_name": last if spouse else None,
                        "subscriber_birth_date": (birth - timedelta(days=rng.randint(-900, 900)))
                        if spouse
                        else None,
                        "subscriber_sex": (Sex.MALE if sex is Sex.FEMALE else Sex.FEMALE) if spouse else None,
                        # Most spouses share the patient's address; a few were never asked.
                        "subscriber_address1": patient_rows[-1]["address1"] if spouse and same_home else None,
                        "subscriber_city": patient_rows[-1]["city"] if spouse and same_home else None,
                        "subscriber_state": "IL" if spouse and same_home else None,
                        "subscriber_zip_code": patient_rows[-1]["zip_code"] if spouse and same_home else None,
                        "effective_date": date(today.year - rng.randint(1, 6), 1, 1),
                        "termination_date": None,
                        "medicare_secondary_type": None,
                        "claim_filing_indicator": indicator,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                if position == 0:
                    checked = datetime.combine(
                        today - timedelta(days=rng.randint(1, 40)), time(15), tzinfo=UTC
                    )
                    copay = Decimal(rng.choice((0, 20, 40, 50))) if payer > 2 else None
                    eligibility_rows.append(
                        {
                            "policy_id": policy_id,
                            "checked_at": checked,
                            "checked_by_id": 1,
                            "method": VerificationMethod.PORTAL,
                            "status": EligibilityStatus.ACTIVE,
                            "reference_number": f"REF{rng.randint(10**6, 10**7 - 1)}",
                            "copay": copay,
                            "deductible": Decimal(rng.choice((0, 500, 1500, 3000))),
                            "deductible_met": Decimal(rng.randint(0, 500)),
                            "coinsurance_percent": Decimal(20),
                            "out_of_pocket_max": Decimal(6000),
                            "out_of_pocket_met": Decimal(rng.randint(0, 3000)),
                            "notes": None,
                            "raw_response": None,
                        }
                    )
            regimen = rng.choices(REGIMENS, weights)[0]
            drug = catalog.get(regimen.hcpcs)
            if drug is None:
                continue
            weight_kg = Decimal(rng.randint(48, 118))
            order_id += 1
            order_start = start_of_history - timedelta(days=rng.randint(0, 60))
            order_rows.append(
                {
                    "id": order_id,
                    "patient_id": number,
                    "drug_id": drug_ids[drug.hcpcs],
                    "ordering_provider_id": rng.randint(1, 4),
                    "dose_amount": regimen.dose,
                    "dose_unit": regimen.dose_unit,
                    "dose_basis": regimen.basis,
                    "frequency": f"every {regimen.interval_days} days",
                    "doses_ordered": None,
                    "start_date": order_start,
                    "end_date": order_start + timedelta(days=365),
                    "status": "active",
                    "notes": regimen.name,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            for sequence, code in enumerate(regimen.diagnoses, start=1):
                diagnosis_rows.append(
                    {"order_id": order_id, "sequence": sequence, "icd10_code": code.replace(".", "")}
                )
            per_dose = regimen.dose * (weight_kg if regimen.basis is DoseBasis.PER_KG else 1)
            dose_in_unit = _units_for_dose(drug, per_dose, regimen.dose_unit)
            if primary_payer != 1:
                auth_id += 1
                expires_soon = rng.random() < 0.1
                valid_to = today + timedelta(
                    days=rng.randint(3, 13) if expires_soon else rng.randint(60, 300)
                )
                units_per_dose = math.ceil(dose_in_unit / drug.billing_unit_amount)
                # Enough doses for the window, as a payer approves a course; a few are one
                # dose short, so the renewal queue has something to show.
                doses_in_window = (valid_to - order_start).days // regimen.interval_days + 1
                visits_approved = doses_in_window + (-1 if rng.random() < 0.08 else rng.randint(0, 2))
                auth_rows.append(
                    {
                        "id": auth_id,
                        "patient_id": number,
                        "policy_id": primary_policy,
                        "order_id": order_id,
                        "number": f"PA{rng.randint(10**7, 10**8 - 1)}",
                        "status": AuthorizationStatus.APPROVED,
                        "approved_units": Decimal(units_per_dose * visits_approved),
                        "approved_visits": visits_approved,
                        "valid_from": order_start,
                        "valid_to": valid_to,
                        "notes": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                auth_code_rows.append({"authorization_id": auth_id, "code": drug.hcpcs})
            # Visits from the order's start (or the history window) to two weeks ahead.
            first_day = max(order_start, start_of_history) + timedelta(
                days=rng.randint(0, regimen.interval_days - 1)
            )
            day = first_day
            while day <= today + timedelta(days=14):
                if day.weekday() >= 5:
                    day += timedelta(days=7 - day.weekday())
                chair = 1 + (number + day.toordinal()) % 8
                slot = day_load.get((day, chair), 0)
                day_load[(day, chair)] = slot + 1
                minutes = drug.typical_minutes
                start_local = datetime.combine(day, time(8, 0), tzinfo=tz) + timedelta(
                    minutes=(slot % 8) * 60
                )
                visit_id += 1
                past = day < today
                status = VisitStatus.COMPLETED if past else VisitStatus.SCHEDULED
                if past and rng.random() < 0.03:
                    status = VisitStatus.NO_SHOW
                visit_rows.append(
                    {
                        "id": visit_id,
                        "patient_id": number,
                        "order_id": order_id,
                        "chair_id": chair,
                        "policy_id": primary_policy,
                        "series_id": None,
                        "rendering_provider_id": rng.randint(1, 4),
                        "date_of_service": day,
                        "scheduled_start": start_local.astimezone(UTC),
                        "expected_minutes": minutes + 30,
                        "status": status,
                        "checked_in_at": start_local.astimezone(UTC) - timedelta(minutes=10)
                        if status is VisitStatus.COMPLETED
                        else None,
                        "completed_at": (start_local + timedelta(minutes=minutes + 30)).astimezone(UTC)
                        if status is VisitStatus.COMPLETED
                        else None,
                        "weight_kg": weight_kg if status is VisitStatus.COMPLETED else None,
                        "height_cm": None,
                        "em_code": None,
                        "em_separately_identifiable": False,
                        "signed_at": (start_local + timedelta(minutes=minutes + 40)).astimezone(UTC)
                        if status is VisitStatus.COMPLETED
                        else None,
                        "signed_by_id": nurse_id if status is VisitStatus.COMPLETED else None,
                        "coded_at": None,
                        "coded_by_id": None,
                        "notes": None,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
                if status is VisitStatus.COMPLETED:
                    clock = start_local + timedelta(minutes=5)
                    site = "L forearm"
                    for premed_code, premed_dose, method in regimen.premeds:
                        premed = catalog.get(premed_code)
                        if premed is None:
                            continue
                        admin_id += 1
                        admin_rows.append(
                            _administration_row(
                                admin_id,
                                visit_id,
                                drug_ids[premed_code],
                                premed,
                                method,
                                site,
                                clock,
                                clock + timedelta(minutes=2),
                                premed_dose,
                                premed.billing_unit,
                                Decimal(0),
                                nurse_id,
                                rng,
                                now,
                            )
                        )
                        clock += timedelta(minutes=5)
                    run = max(16, minutes + rng.randint(-10, 15))
                    admin_id += 1
                    waste = _waste(drug, dose_in_unit)
                    admin_rows.append(
                        _administration_row(
                            admin_id,
                            visit_id,
                            drug_ids[drug.hcpcs],
                            drug,
                            drug.default_method,
                            site,
                            clock,
                            clock + timedelta(minutes=run) if drug.default_method == "infusion" else None,
                            dose_in_unit,
                            drug.billing_unit,
                            waste,
                            nurse_id,
                            rng,
                            now,
                            primary=True,
                        )
                    )
                    if regimen.hydration and "J7030" in catalog:
                        admin_id += 1
                        hyd_start = clock + timedelta(minutes=run + 2)
                        admin_rows.append(
                            _administration_row(
                                admin_id,
                                visit_id,
                                drug_ids["J7030"],
                                catalog["J7030"],
                                "infusion",
                                site,
                                hyd_start,
                                hyd_start + timedelta(minutes=rng.randint(25, 75)),
                                Decimal(1000),
                                "mL",
                                Decimal(0),
                                nurse_id,
                                rng,
                                now,
                            )
                        )
                    for offset in (0, minutes + 20):
                        vital_rows.append(
                            {
                                "visit_id": visit_id,
                                "taken_at": (start_local + timedelta(minutes=offset)).astimezone(UTC),
                                "systolic": rng.randint(104, 146),
                                "diastolic": rng.randint(62, 92),
                                "pulse": rng.randint(58, 98),
                                "respiratory_rate": rng.randint(12, 20),
                                "temperature_c": Decimal(rng.randint(362, 374)) / 10,
                                "spo2": rng.randint(94, 100),
                                "weight_kg": weight_kg if offset == 0 else None,
                                "pain_score": rng.randint(0, 3),
                                "taken_by_id": nurse_id,
                            }
                        )
                day += timedelta(days=regimen.interval_days)

        report(f"writing {len(patient_rows)} patients and {len(visit_rows)} visits")
        _insert(session, Patient, patient_rows)
        _insert(session, InsurancePolicy, policy_rows)
        _insert(session, EligibilityCheck, eligibility_rows)
        _insert(session, PhysicianOrder, order_rows)
        _insert(session, OrderDiagnosis, diagnosis_rows)
        _insert(session, PriorAuthorization, auth_rows)
        _insert(session, AuthorizationCode, auth_code_rows)
        _insert(session, Visit, visit_rows)
        _insert(session, Administration, admin_rows)
        _insert(session, VitalSign, vital_rows)
        _bump_sequences(
            session,
            (Patient, InsurancePolicy, PhysicianOrder, PriorAuthorization, Visit, Administration),
        )
        return DemoSummary(
            patients=len(patient_rows),
            policies=len(policy_rows),
            orders=len(order_rows),
            authorizations=len(auth_rows),
            visits=len(visit_rows),
            administrations=len(admin_rows),
        )


def _administration_row(
    admin_id: int,
    visit_id: int,
    drug_id: int,
    drug: CatalogDrug,
    method: str,
    site: str,
    start: datetime,
    stop: datetime | None,
    dose: Decimal,
    dose_unit: str,
    waste: Decimal,
    nurse_id: int,
    rng: random.Random,
    now: datetime,
    *,
    primary: bool = False,
) -> dict[str, Any]:
    ndc = drug.ndcs[0].ndc if drug.ndcs else None
    return {
        "id": admin_id,
        "visit_id": visit_id,
        "drug_id": drug_id,
        "hcpcs": drug.hcpcs,
        "admin_class": drug.admin_class,
        "method": method,
        "route": "IV" if method in ("infusion", "push") else drug.default_route,
        "iv_site": site if method in ("infusion", "push") else None,
        "encounter": "1",
        "bag": None,
        "is_primary_reason": primary,
        "start_at": start.astimezone(UTC),
        "stop_at": stop.astimezone(UTC) if stop is not None else None,
        "dose_amount": dose,
        "dose_unit": dose_unit,
        "waste_amount": waste if waste > 0 else None,
        "lot": f"DEMO{rng.randint(10000, 99999)}",
        "lot_expiry": (start + timedelta(days=rng.randint(60, 700))).date(),
        "ndc": ndc,
        "flags": [],
        "bags_hung": [],
        "nurse_id": nurse_id,
        "notes": None,
        "created_at": now,
        "updated_at": now,
    }
