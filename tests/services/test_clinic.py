"""Clinic set-up through the services: each rule gives a clear message and a refused save changes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from infusion_desk.models import ChargeMasterEntry, Drug, PhysicianOrder, Provider
from infusion_desk.models.enums import AdminClass, DoseBasis, Role, Sex
from infusion_desk.services.app import Services
from infusion_desk.services.clinic import ClinicDetails, OrderInput, ProviderInput
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.orders import OrderService
from infusion_desk.services.patients import PatientInput
from tests.conftest import make_actor

GOOD = ClinicDetails(
    name="Test Infusion Center",
    npi="1234567893",
    tin="12-3456789",
    taxonomy="261qi0500x",
    address1="1 Test Way",
    city="Springfield",
    state="IL",
    zip_code="62701",
)


def _subjects(caught: pytest.ExceptionInfo[ValidationFailed]) -> set[str]:
    return {f.subject for f in caught.value.findings}


def test_clinic_details_are_validated_and_saved(services: Services) -> None:
    manager = make_actor(services, Role.MANAGER)
    bad = ClinicDetails(**{**GOOD.__dict__, "npi": "1234567890", "tin": "12345", "state": "XX"})
    with pytest.raises(ValidationFailed) as caught:
        services.clinic.update_details(manager, bad)
    assert _subjects(caught) == {"npi", "tin", "state"}
    assert any("check digit" in f.message for f in caught.value.findings)
    assert services.clinic.details() is None

    services.clinic.update_details(manager, GOOD)
    saved = services.clinic.details()
    assert saved is not None
    assert (saved.name, saved.npi, saved.tin, saved.taxonomy) == (
        "Test Infusion Center",
        "1234567893",
        "123456789",
        "261QI0500X",
    )


def test_only_managers_change_clinic_settings(services: Services) -> None:
    biller = make_actor(services, Role.BILLER)
    with pytest.raises(PermissionDenied):
        services.clinic.update_details(biller, GOOD)


def test_provider_npi_must_be_valid_and_unique(services: Services) -> None:
    manager = make_actor(services, Role.MANAGER)
    with pytest.raises(ValidationFailed) as caught:
        services.clinic.add_provider(manager, ProviderInput("Ann", "Ordering", "1245319598"))
    assert _subjects(caught) == {"npi"}
    services.clinic.add_provider(manager, ProviderInput("Ann", "Ordering", "1245319599", "MD", "207rr0500x"))
    with pytest.raises(ValidationFailed, match="already on file"):
        services.clinic.add_provider(manager, ProviderInput("Bob", "Other", "1245319599"))
    with services.db.session() as session:
        assert session.execute(sa.select(Provider.taxonomy)).scalars().all() == ["207RR0500X"]


def test_orders_need_billable_icd10_codes(services: Services) -> None:
    manager = make_actor(services, Role.MANAGER)
    patient = services.patients.register(
        manager,
        PatientInput(
            first_name="Ada",
            last_name="Order",
            birth_date=date(1960, 1, 1),
            sex=Sex.FEMALE,
            address1="1 Demo St",
            city="Springfield",
            state="IL",
            zip_code="62701",
        ),
        date(2026, 11, 26),
    )
    provider = services.clinic.add_provider(manager, ProviderInput("Ann", "Ordering", "1245319599"))
    with services.db.session() as session:
        drug = Drug(
            name="infliximab",
            hcpcs="J1745",
            billing_unit_amount=Decimal(10),
            billing_unit="mg",
            admin_class=AdminClass.COMPLEX_BIOLOGIC,
            unit_price=Decimal("60"),
        )
        session.add(drug)
        session.flush()
        drug_id = drug.id
    order = OrderInput(
        patient_id=patient,
        drug_id=drug_id,
        ordering_provider_id=provider,
        dose_amount="5",
        dose_unit="mg",
        dose_basis=DoseBasis.PER_KG,
        frequency="every 8 weeks",
        start_date=date(2026, 11, 1),
        diagnoses=("K50.9", "XYZ.1"),
    )
    with pytest.raises(ValidationFailed) as caught:
        OrderService(services.db).create(manager, order)
    messages = [f.message for f in caught.value.findings]
    assert _subjects(caught) == {"diagnoses[0]", "diagnoses[1]"}
    assert any("K50.90" in m for m in messages)  # the fix is suggested
    with services.db.session() as session:
        assert session.execute(sa.select(sa.func.count(PhysicianOrder.id))).scalar_one() == 0

    order.diagnoses = ("k50.90",)
    order_id = OrderService(services.db).create(manager, order)
    with services.db.session() as session:
        saved = session.get(PhysicianOrder, order_id)
        assert saved is not None
        assert [d.icd10_code for d in saved.diagnoses] == ["K5090"]
        assert saved.dose_amount == Decimal(5)


def test_charge_master_codes_have_the_cpt_or_hcpcs_shape(services: Services) -> None:
    manager = make_actor(services, Role.MANAGER)
    with pytest.raises(ValidationFailed) as caught:
        services.clinic.set_charge(manager, "9641", "chemo", "390.00")
    assert _subjects(caught) == {"code"}
    with pytest.raises(ValidationFailed) as caught:
        services.clinic.set_charge(manager, "96413", "chemo", "-1")
    assert _subjects(caught) == {"charge"}
    services.clinic.set_charge(manager, "96413", "chemo infusion", "390.00")
    services.clinic.set_charge(manager, "96413", "chemo infusion, first hour", "395.50")
    with services.db.session() as session:
        rows = session.execute(sa.select(ChargeMasterEntry.code, ChargeMasterEntry.charge)).all()
    assert rows == [("96413", Decimal("395.50"))]


def test_payer_coding_settings_are_validated_data(services: Services) -> None:
    from infusion_desk.models import Payer
    from infusion_desk.models.enums import PayerType

    manager = make_actor(services, Role.MANAGER)
    with services.db.session() as session:
        payer = Payer(name="Acme Health", payer_id="ACME1", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        payer_id = payer.id
    defaults = services.clinic.payer_coding_settings(manager, payer_id)
    assert defaults["waste_modifiers"] == "jw" and defaults["separate_site_modifier"] == "59"
    with pytest.raises(ValidationFailed) as caught:
        services.clinic.set_payer_coding_settings(manager, payer_id, {"waste_modifiers": "always"})
    assert {f.subject for f in caught.value.findings} == {"payer_settings.waste_modifiers"}
    with pytest.raises(ValidationFailed, match="unknown settings"):
        services.clinic.set_payer_coding_settings(manager, payer_id, {"jz_please": True})
    services.clinic.set_payer_coding_settings(
        manager, payer_id, {"waste_modifiers": "jw_jz", "complex_biologic_admin": "therapeutic"})
    after = services.clinic.payer_coding_settings(manager, payer_id)
    assert after["waste_modifiers"] == "jw_jz" and after["complex_biologic_admin"] == "therapeutic"
    assert after["separate_site_modifier"] == "59"
    biller = make_actor(services, Role.BILLER)
    with pytest.raises(PermissionDenied):
        services.clinic.set_payer_coding_settings(biller, payer_id, {"waste_modifiers": "none"})
