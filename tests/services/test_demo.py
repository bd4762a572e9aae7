"""The demo clinic: deterministic, fictional, valid, and only ever written to an empty database."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from infusion_desk.billing.validation import check_icd10, is_valid_npi
from infusion_desk.models import (
    Administration,
    Clinic,
    InsurancePolicy,
    OrderDiagnosis,
    Patient,
    Payer,
    PriorAuthorization,
    Provider,
    Visit,
)
from infusion_desk.models.enums import PayerType, Role, VisitStatus
from infusion_desk.services.app import Services
from infusion_desk.services.demo import DEMO_PASSWORD, DEMO_USERS, DemoExistsError, generate_demo

TODAY = date(2026, 11, 26)


def _names(services: Services) -> list[tuple[str, str, date]]:
    with services.db.session() as session:
        return [
            tuple(r)
            for r in session.execute(  # type: ignore[misc]
                sa.select(Patient.last_name, Patient.first_name, Patient.birth_date).order_by(Patient.id)
            )
        ]


def test_demo_clinic_is_complete_and_valid(services: Services) -> None:
    summary = generate_demo(services.db, patients=40, months=3, seed=7, today=TODAY)
    assert summary.patients == 40 and summary.visits > 40 and summary.administrations > 0
    with services.db.session() as session:
        clinic = session.execute(sa.select(Clinic)).scalar_one()
        assert clinic.is_demo and "DEMO" in clinic.name and is_valid_npi(clinic.npi)
        payer_types = sorted(p.value for p in session.execute(sa.select(Payer.payer_type)).scalars())
        assert payer_types == ["commercial", "commercial", "commercial", "medicaid", "medicare"]
        providers = session.execute(sa.select(Provider.npi)).scalars().all()
        assert len(providers) == 4 and all(is_valid_npi(npi) for npi in providers)
        codes = set(session.execute(sa.select(OrderDiagnosis.icd10_code)).scalars())
        assert codes and all(check_icd10(code) == () for code in codes)
        # Medicare patients are 65 or older; everyone has a primary policy.
        assert (
            session.execute(sa.select(sa.func.count(sa.distinct(InsurancePolicy.patient_id)))).scalar_one()
            == 40
        )
        assert session.execute(sa.select(sa.func.count(PriorAuthorization.id))).scalar_one() > 0
        # Past visits are documented and signed; future ones are only booked.
        past = session.execute(sa.select(Visit).where(Visit.date_of_service < TODAY)).scalars().all()
        future = session.execute(sa.select(Visit).where(Visit.date_of_service > TODAY)).scalars().all()
        assert future and all(v.status is VisitStatus.SCHEDULED for v in future)
        completed = [v for v in past if v.status is VisitStatus.COMPLETED]
        assert completed and all(v.signed_at is not None for v in completed)
        admins = session.execute(sa.select(Administration)).scalars().all()
        assert all(a.start_at is not None for a in admins)
        assert all(a.stop_at is None or a.stop_at > a.start_at for a in admins)
    # Every demo user can sign in with the documented password.
    for username, _display, role in DEMO_USERS:
        actor = services.auth.sign_in(username, DEMO_PASSWORD)
        assert actor.role is role
    assert {r for _u, _d, r in DEMO_USERS} == set(Role)


def test_demo_is_deterministic_and_medicare_follows_age(sqlite_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    first, _ = Services.open(sqlite_url)
    second, _ = Services.open(f"sqlite:///{tmp_path / 'second.sqlite3'}")
    third, _ = Services.open(f"sqlite:///{tmp_path / 'third.sqlite3'}")
    try:
        for svc, seed in ((first, 3), (second, 3), (third, 4)):
            generate_demo(svc.db, patients=25, months=2, seed=seed, today=TODAY)
        assert _names(first) == _names(second)
        assert _names(first) != _names(third)
        with first.db.session() as session:
            rows = session.execute(
                sa.select(Patient.birth_date, Payer.payer_type)
                .join(InsurancePolicy, InsurancePolicy.patient_id == Patient.id)
                .join(Payer, Payer.id == InsurancePolicy.payer_id)
                .where(InsurancePolicy.rank == "primary")
            ).all()
        for birth, payer_type in rows:
            age = (TODAY - birth).days // 365
            assert (payer_type is PayerType.MEDICARE) == (age >= 65)
    finally:
        for svc in (first, second, third):
            svc.close()


def test_demo_refuses_a_database_that_has_a_clinic(sqlite_services: Services) -> None:
    generate_demo(sqlite_services.db, patients=2, months=1, seed=1, today=TODAY)
    with pytest.raises(DemoExistsError):
        generate_demo(sqlite_services.db, patients=2, months=1, seed=2, today=TODAY)
    with sqlite_services.db.session() as session:
        assert session.execute(sa.select(sa.func.count(Patient.id))).scalar_one() == 2
