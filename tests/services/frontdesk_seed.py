"""A small fictional clinic for front-desk tests: one commercial patient booked today, ready to check in.

Everything a clean check-in needs is on file (verified coverage, an approved authorization
with units to spare, a current order, complete demographics); each test then breaks one
thing and looks for the problem the desk would see.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from infusion_desk.billing.catalog import drug_by_hcpcs
from infusion_desk.models import (
    AuthorizationCode,
    ChargeMasterEntry,
    Drug,
    EligibilityCheck,
    FeeScheduleEntry,
    InsurancePolicy,
    OrderDiagnosis,
    Payer,
    PhysicianOrder,
    PriorAuthorization,
    Provider,
    Setting,
    Visit,
)
from infusion_desk.models.enums import (
    AdminClass,
    AuthorizationStatus,
    DoseBasis,
    EligibilityStatus,
    PayerType,
    PolicyRank,
    SubscriberRelationship,
    VerificationMethod,
    VisitStatus,
)
from infusion_desk.services.app import Services
from tests.conftest import fictional_patient

ZONE = ZoneInfo("America/Chicago")


def clinic_today() -> date:
    return datetime.now(UTC).astimezone(ZONE).date()


@dataclass(frozen=True)
class Desk:
    visit: int
    patient: int
    policy: int
    payer: int
    order: int
    authorization: int
    drug: int
    today: date


def make_drug(session: object, hcpcs: str) -> Drug:
    item = drug_by_hcpcs()[hcpcs]
    drug = Drug(
        name=item.name, hcpcs=hcpcs, billing_unit_amount=item.billing_unit_amount,
        billing_unit=item.billing_unit, billing_unit_up_to=item.billing_unit_up_to,
        admin_class=AdminClass(item.admin_class), default_method=item.default_method,
        default_route=item.default_route, single_dose_container=item.single_dose_container,
        unit_price=item.unit_price, typical_minutes=item.typical_minutes,
    )
    session.add(drug)  # type: ignore[attr-defined]
    return drug


def seed_desk(services: Services, *, mrn: str = "DM0000101", last_name: str = "Deskcase",
              day: date | None = None, start: time = time(9, 0)) -> Desk:
    """A patient on a commercial plan booked ``day`` (clinic today) for infliximab 5 mg/kg at 70 kg."""
    today = clinic_today()
    day = day or today
    with services.db.session() as session:
        if session.get(Setting, "clinic.timezone") is None:
            session.add(Setting(key="clinic.timezone", value="America/Chicago"))
        payer = session.query(Payer).filter_by(payer_id="DEMO1").one_or_none()
        if payer is None:
            payer = Payer(name="Prairie Health Plan", payer_id="DEMO1", payer_type=PayerType.COMMERCIAL)
            session.add(payer)
        drug = session.query(Drug).filter_by(hcpcs="J1745").one_or_none() or make_drug(session, "J1745")
        provider = session.query(Provider).filter_by(npi="1245319599").one_or_none()
        if provider is None:
            provider = Provider(first_name="Ann", last_name="Order", npi="1245319599")
            session.add(provider)
        patient = fictional_patient(mrn, last_name=last_name, search_last=last_name.lower())
        session.add(patient)
        session.flush()
        if session.query(FeeScheduleEntry).filter_by(payer_id=payer.id).count() == 0:
            # Fictional contract amounts for the estimate.
            session.add_all([
                FeeScheduleEntry(payer_id=payer.id, code="J1745", allowed=Decimal("40.00"),
                                 effective_from=date(2020, 1, 1)),
                FeeScheduleEntry(payer_id=payer.id, code="96413", allowed=Decimal("200.00"),
                                 effective_from=date(2020, 1, 1)),
                FeeScheduleEntry(payer_id=payer.id, code="96415", allowed=Decimal("50.00"),
                                 effective_from=date(2020, 1, 1)),
                FeeScheduleEntry(payer_id=payer.id, code="96365", allowed=Decimal("150.00"),
                                 effective_from=date(2020, 1, 1)),
                FeeScheduleEntry(payer_id=payer.id, code="96366", allowed=Decimal("40.00"),
                                 effective_from=date(2020, 1, 1)),
            ])
            session.add(ChargeMasterEntry(code="96413", description="Chemo admin IV infusion, first hour",
                                          charge=Decimal("390.00")))
        policy = InsurancePolicy(
            patient_id=patient.id, payer_id=payer.id, rank=PolicyRank.PRIMARY, member_id="PHP1234567",
            effective_date=date(2020, 1, 1), subscriber_relationship=SubscriberRelationship.SELF,
            claim_filing_indicator="CI",
        )
        session.add(policy)
        session.flush()
        order = PhysicianOrder(
            patient_id=patient.id, drug_id=drug.id, ordering_provider_id=provider.id, dose_amount=Decimal(5),
            dose_unit="mg", dose_basis=DoseBasis.PER_KG, frequency="every 8 weeks",
            start_date=day - timedelta(days=60), end_date=day + timedelta(days=300), doses_ordered=8,
            diagnoses=[OrderDiagnosis(sequence=1, icd10_code="K5090")],
        )
        session.add(order)
        session.flush()
        authorization = PriorAuthorization(
            patient_id=patient.id, policy_id=policy.id, order_id=order.id, number="PA-TEST-1",
            status=AuthorizationStatus.APPROVED, approved_units=Decimal(280), approved_visits=8,
            valid_from=day - timedelta(days=60), valid_to=day + timedelta(days=200),
            codes=[AuthorizationCode(code="J1745")],
        )
        session.add(authorization)
        session.add(EligibilityCheck(
            policy_id=policy.id, checked_at=datetime.now(UTC) - timedelta(days=2), checked_by_id=None,
            method=VerificationMethod.PORTAL, status=EligibilityStatus.ACTIVE, reference_number="REF-1",
            copay=Decimal("25.00"), deductible=Decimal("1000.00"), deductible_met=Decimal("900.00"),
            coinsurance_percent=Decimal(20), out_of_pocket_max=Decimal("5000.00"),
            out_of_pocket_met=Decimal("1000.00"),
        ))
        # An earlier visit recorded the weight the per-kg dose is computed from.
        earlier = Visit(
            patient_id=patient.id, order_id=order.id, policy_id=policy.id,
            date_of_service=day - timedelta(days=56),
            scheduled_start=datetime.combine(day - timedelta(days=56), start, tzinfo=ZONE).astimezone(UTC),
            status=VisitStatus.CANCELLED, weight_kg=Decimal(70),
        )
        visit = Visit(
            patient_id=patient.id, order_id=order.id, policy_id=policy.id, date_of_service=day,
            scheduled_start=datetime.combine(day, start, tzinfo=ZONE).astimezone(UTC), expected_minutes=150,
        )
        session.add_all([earlier, visit])
        session.flush()
        return Desk(visit.id, patient.id, policy.id, payer.id, order.id, authorization.id, drug.id, today)
