"""Documentation at the chair through the nursing service, on both database engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from infusion_desk.billing.catalog import drug_by_hcpcs
from infusion_desk.models import (
    Drug,
    DrugNdc,
    InsurancePolicy,
    OrderDiagnosis,
    Payer,
    PhysicianOrder,
    Provider,
    Visit,
    VisitAddendum,
)
from infusion_desk.models.enums import (
    AdminClass,
    AdminMethod,
    DoseBasis,
    PayerType,
    PolicyRank,
    Role,
    Severity,
    SubscriberRelationship,
    VisitStatus,
)
from infusion_desk.services.app import Services
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.nursing import (
    AdministrationDraft,
    InterventionInput,
    NursingService,
    ReactionInput,
    VitalsInput,
)
from tests.conftest import fictional_patient, make_actor

NOW = datetime.now(UTC).replace(second=0, microsecond=0)


def _drug(session: sa.orm.Session, hcpcs: str) -> Drug:
    item = drug_by_hcpcs()[hcpcs]
    drug = Drug(
        name=item.name, hcpcs=hcpcs, billing_unit_amount=item.billing_unit_amount,
        billing_unit=item.billing_unit, billing_unit_up_to=item.billing_unit_up_to,
        admin_class=AdminClass(item.admin_class), default_method=item.default_method,
        default_route=item.default_route, single_dose_container=item.single_dose_container,
        unit_price=item.unit_price,
        ndcs=[DrugNdc(ndc=n.ndc, package_amount=n.package_amount, package_unit=n.package_unit,
                      ndc_unit=n.ndc_unit) for n in item.ndcs],
    )
    session.add(drug)
    return drug


@pytest.fixture
def chair(services: Services) -> dict[str, int]:
    return seed_chair(services)


def seed_chair(services: Services) -> dict[str, int]:
    """A Medicare patient booked today for infliximab 5 mg/kg, and the drugs a nurse may give."""
    with services.db.session() as session:
        payer = Payer(name="Medicare Part B", payer_id="MCR01", payer_type=PayerType.MEDICARE)
        patient = fictional_patient(first_name="Testa", last_name="Chairside", search_first="testa",
                                    search_last="chairside", birth_date=date(1950, 5, 5))
        provider = Provider(first_name="Ann", last_name="Order", npi="1245319599")
        infliximab = _drug(session, "J1745")
        diphenhydramine = _drug(session, "J1200")
        ondansetron = _drug(session, "J2405")
        session.add_all([payer, patient, provider])
        session.flush()
        session.add(InsurancePolicy(patient_id=patient.id, payer_id=payer.id, rank=PolicyRank.PRIMARY,
                                    member_id="9AA0AA0AA00", effective_date=date(2020, 1, 1),
                                    subscriber_relationship=SubscriberRelationship.SELF))
        order = PhysicianOrder(patient_id=patient.id, drug_id=infliximab.id, ordering_provider_id=provider.id,
                               dose_amount=Decimal(5), dose_unit="mg", dose_basis=DoseBasis.PER_KG,
                               frequency="every 8 weeks", start_date=date(2026, 1, 1),
                               diagnoses=[OrderDiagnosis(sequence=1, icd10_code="K5090")])
        session.add(order)
        session.flush()
        visit = Visit(patient_id=patient.id, order_id=order.id,
                      date_of_service=(NOW - timedelta(hours=4)).astimezone().date(),
                      scheduled_start=NOW - timedelta(hours=4))
        session.add(visit)
        session.flush()
        return {"visit": visit.id, "infliximab": infliximab.id, "diphenhydramine": diphenhydramine.id,
                "ondansetron": ondansetron.id}


def test_a_nurse_documents_a_visit_and_the_lines_follow(services: Services, chair: dict[str, int]) -> None:
    nurse = make_actor(services, Role.NURSE)
    nursing = NursingService(services.db)
    visit = chair["visit"]
    nursing.check_in(nurse, visit, NOW - timedelta(hours=3))
    nursing.seat(nurse, visit, weight_kg="73")
    sheet = nursing.visit_sheet(nurse, visit)
    # 5 mg/kg x 73 kg = 365 mg, computed from today's weight.
    assert sheet.dose_to_give == Decimal(365) and sheet.ordered_dose == "5 mg/kg"
    assert sheet.status is VisitStatus.IN_CHAIR

    premed = nursing.add_administration(nurse, visit, AdministrationDraft(
        method=AdminMethod.PUSH, drug_id=chair["diphenhydramine"], iv_site="L forearm",
        dose_amount="25", start_at=NOW - timedelta(minutes=170)))
    infusion = nursing.add_administration(nurse, visit, AdministrationDraft(
        method=AdminMethod.INFUSION, drug_id=chair["infliximab"], iv_site="L forearm",
        dose_amount="365", waste_amount="35", ndc="57894-030-01", lot="AB12",
        lot_expiry=NOW.date() + timedelta(days=200), is_primary_reason=True))
    nursing.start(nurse, infusion, NOW - timedelta(minutes=160))
    nursing.pause(nurse, infusion, NOW - timedelta(minutes=120))
    assert nursing.visit_sheet(nurse, visit).administrations[1].paused
    nursing.resume(nurse, infusion, NOW - timedelta(minutes=110))
    nursing.stop(nurse, infusion, NOW - timedelta(minutes=30))
    nursing.record_vitals(nurse, visit, VitalsInput(taken_at=NOW - timedelta(minutes=25), systolic=118,
                                                    diastolic=76, pulse=70, spo2=98))

    # 130 min less a 10 min pause = 120 min: 96413 + 96415 x1; the push after it is sequential.
    lines = nursing.live_coding(nurse, visit).lines
    summary = [(line.code, line.units, line.modifiers) for line in lines]
    assert summary == [
        ("96413", 1, ()), ("96415", 1, ()), ("96375", 1, ()),
        ("J1200", 1, ("JZ",)), ("J1745", 37, ()), ("J1745", 3, ("JW",)),
    ]
    assert "120 min" in lines[1].explanation

    nursing.sign(nurse, visit, NOW - timedelta(minutes=5))
    signed = nursing.visit_sheet(nurse, visit)
    assert signed.status is VisitStatus.COMPLETED and signed.signed_at is not None
    assert premed in [a.id for a in signed.administrations]


def test_impossible_times_are_refused_and_change_nothing(services: Services, chair: dict[str, int]) -> None:
    nurse = make_actor(services, Role.NURSE)
    nursing = NursingService(services.db)
    visit = chair["visit"]
    admin = nursing.add_administration(nurse, visit, AdministrationDraft(
        method=AdminMethod.INFUSION, drug_id=chair["infliximab"], dose_amount="300"))
    with pytest.raises(ValidationFailed, match="not running"):
        nursing.pause(nurse, admin, NOW - timedelta(minutes=50))
    with pytest.raises(ValidationFailed, match="has not started"):
        nursing.stop(nurse, admin, NOW - timedelta(minutes=50))
    nursing.start(nurse, admin, NOW - timedelta(minutes=60))
    with pytest.raises(ValidationFailed, match="already started"):
        nursing.start(nurse, admin, NOW - timedelta(minutes=55))
    with pytest.raises(ValidationFailed, match="before start"):
        nursing.stop(nurse, admin, NOW - timedelta(minutes=90))
    with pytest.raises(ValidationFailed, match="future"):
        nursing.stop(nurse, admin, NOW + timedelta(hours=1))
    with pytest.raises(ValidationFailed, match="before .* started"):
        nursing.pause(nurse, admin, NOW - timedelta(minutes=70))
    view = nursing.visit_sheet(nurse, visit).administrations[0]
    assert view.stop_at is None and view.pauses == () and view.start_at == NOW - timedelta(minutes=60)
    # Stopping while paused closes the pause at the stop time.
    nursing.pause(nurse, admin, NOW - timedelta(minutes=20))
    nursing.stop(nurse, admin, NOW - timedelta(minutes=10))
    view = nursing.visit_sheet(nurse, visit).administrations[0]
    assert view.pauses == ((NOW - timedelta(minutes=20), NOW - timedelta(minutes=10)),)


def test_drug_details_are_checked(services: Services, chair: dict[str, int]) -> None:
    nurse = make_actor(services, Role.NURSE)
    nursing = NursingService(services.db)
    visit = chair["visit"]

    def add(**values: object) -> int:
        return nursing.add_administration(nurse, visit, AdministrationDraft(
            method=AdminMethod.INFUSION, drug_id=chair["infliximab"], **values))  # type: ignore[arg-type]

    with pytest.raises(ValidationFailed) as caught:
        add(dose_amount="0", ndc="00002-7510-01", lot_expiry=date(2020, 1, 1))
    subjects = {f.subject for f in caught.value.findings}
    assert subjects == {"dose_amount", "ndc", "lot_expiry"}
    assert any("not a package of infliximab" in f.message for f in caught.value.findings)
    with pytest.raises(ValidationFailed, match="multi-dose"):
        nursing.add_administration(nurse, visit, AdministrationDraft(
            method=AdminMethod.PUSH, drug_id=chair["ondansetron"], dose_amount="8", waste_amount="2"))
    with pytest.raises(ValidationFailed, match="Unknown flag"):
        add(dose_amount="300", flags=("made_up",))
    assert nursing.visit_sheet(nurse, visit).administrations == ()


def test_signed_visits_change_only_with_a_reason_kept_as_addendum(
        services: Services, chair: dict[str, int]) -> None:
    nurse = make_actor(services, Role.NURSE)
    nursing = NursingService(services.db)
    visit = chair["visit"]
    with pytest.raises(ValidationFailed, match="Nothing was documented"):
        nursing.sign(nurse, visit)
    admin = nursing.add_administration(nurse, visit, AdministrationDraft(
        method=AdminMethod.INFUSION, drug_id=chair["infliximab"], dose_amount="350",
        start_at=NOW - timedelta(minutes=100)))
    with pytest.raises(ValidationFailed, match="still running"):
        nursing.sign(nurse, visit)
    nursing.stop(nurse, admin, NOW - timedelta(minutes=20))
    nursing.sign(nurse, visit)

    with pytest.raises(ValidationFailed, match="signed"):
        nursing.record_vitals(nurse, visit, VitalsInput(taken_at=NOW - timedelta(minutes=1), pulse=80))
    with pytest.raises(ValidationFailed, match="give a reason"):
        nursing.update_administration(nurse, admin, {"dose_amount": "365"})
    nursing.update_administration(nurse, admin, {"dose_amount": "365"}, reason="Dose transcribed wrongly")
    with services.db.session() as session:
        addendum = session.execute(sa.select(VisitAddendum)).scalar_one()
    assert addendum.reason == "Dose transcribed wrongly"
    assert addendum.changes["before"] == {"dose_amount": "350"}
    assert addendum.changes["after"] == {"dose_amount": "365"}
    assert nursing.visit_sheet(nurse, visit).administrations[0].dose_amount == Decimal(365)


def test_a_reaction_with_a_drug_given_for_it_is_coded(services: Services, chair: dict[str, int]) -> None:
    nurse = make_actor(services, Role.NURSE)
    nursing = NursingService(services.db)
    visit = chair["visit"]
    admin = nursing.add_administration(nurse, visit, AdministrationDraft(
        method=AdminMethod.INFUSION, drug_id=chair["infliximab"], dose_amount="350",
        start_at=NOW - timedelta(minutes=100), stop_at=NOW - timedelta(minutes=20)))
    nursing.record_reaction(nurse, visit, ReactionInput(
        onset_at=NOW - timedelta(minutes=60), severity=Severity.MILD, description="Urticaria on forearms",
        administration_id=admin,
        interventions=[InterventionInput(
            performed_at=NOW - timedelta(minutes=58), description="Diphenhydramine 50 mg IV push",
            drug=AdministrationDraft(method=AdminMethod.PUSH, drug_id=chair["diphenhydramine"],
                                     dose_amount="50", start_at=NOW - timedelta(minutes=58)))]))
    sheet = nursing.visit_sheet(nurse, visit)
    assert len(sheet.reactions) == 1 and len(sheet.administrations) == 2
    codes = [line.code for line in nursing.live_coding(nurse, visit).lines]
    assert "96375" in codes and "J1200" in codes


def test_front_desk_cannot_document(services: Services, chair: dict[str, int]) -> None:
    desk = make_actor(services, Role.FRONT_DESK)
    with pytest.raises(PermissionDenied):
        NursingService(services.db).add_administration(desk, chair["visit"], AdministrationDraft(
            method=AdminMethod.PUSH, drug_id=chair["diphenhydramine"]))


def test_live_lines_count_a_running_infusion_up_to_now(services: Services, chair: dict[str, int]) -> None:
    nurse = make_actor(services, Role.NURSE)
    nursing = NursingService(services.db)
    visit = chair["visit"]
    admin = nursing.add_administration(nurse, visit, AdministrationDraft(
        method=AdminMethod.INFUSION, drug_id=chair["infliximab"], dose_amount="350",
        start_at=NOW - timedelta(minutes=100)))
    # At 90 minutes the infusion is one hour; past the 91st minute an add-on hour appears.
    at_90 = [line.code for line in nursing.live_coding(nurse, visit, NOW - timedelta(minutes=10)).lines]
    at_100 = [line.code for line in nursing.live_coding(nurse, visit, NOW).lines]
    assert at_90[:2] == ["96413", "J1745"] and at_100[:2] == ["96413", "96415"]
    # A pause still open counts as stopped at "now".
    nursing.pause(nurse, admin, NOW - timedelta(minutes=30))
    paused = [line.code for line in nursing.live_coding(nurse, visit, NOW).lines]
    assert paused[:2] == ["96413", "J1745"]  # 70 minutes actually ran


def test_a_weight_or_height_the_visit_cannot_keep_is_refused_in_words(services: Services, chair: dict[str, int]) -> None:
    nurse = make_actor(services, Role.NURSE)
    nursing = NursingService(services.db)
    visit = chair["visit"]
    nursing.check_in(nurse, visit, NOW - timedelta(hours=3))
    for weight, words in (("72.123", "more than 2 decimal places"), ("1e30", "cannot be right"),
                          ("7300", "cannot be right"), ("-4", "more than zero"), ("NaN", "not a number")):
        with pytest.raises(ValidationFailed) as refused:
            nursing.seat(nurse, visit, weight_kg=weight)
        assert words in str(refused.value) and refused.value.findings[0].subject == "weight_kg"
    with pytest.raises(ValidationFailed, match="more than 1 decimal place:"):
        nursing.seat(nurse, visit, weight_kg="73", height_cm="170.25")
    assert nursing.visit_sheet(nurse, visit).status is not VisitStatus.IN_CHAIR  # nothing was saved
    nursing.seat(nurse, visit, weight_kg="72.12", height_cm="170.2")
    assert nursing.visit_sheet(nurse, visit).status is VisitStatus.IN_CHAIR
