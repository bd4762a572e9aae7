"""Fixtures for the GUI tests: a SQLite clinic with fictional patients, built through the services."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings

from infusion_desk.models.enums import PayerType, PolicyRank, Role, Sex
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.clinic import ClinicDetails
from infusion_desk.services.patients import PatientInput, PolicyInput
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor

TODAY = date(2026, 11, 26)  # a Thursday


@pytest.fixture(autouse=True)
def workstation_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each test's own empty workstation settings: the developer's real settings are never read or written.

    ``ui/workstation.py`` opens its store in the default format, so the ini format pointed at a
    temporary folder catches every window geometry, column layout and export folder a test saves.
    """
    folder = tmp_path_factory.mktemp("workstation")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    for settings_format in (QSettings.Format.IniFormat, QSettings.Format.NativeFormat):
        QSettings.setPath(settings_format, QSettings.Scope.UserScope, str(folder))
        QSettings.setPath(settings_format, QSettings.Scope.SystemScope, str(folder / "system"))
    return folder


def clinic_details(name: str = "Lakeview Infusion Suite", *, is_demo: bool = False) -> ClinicDetails:
    return ClinicDetails(
        name=name,
        npi="1234567893",
        tin="123456789",
        taxonomy="261QM1300X",
        address1="400 Example Avenue",
        city="Springfield",
        state="IL",
        zip_code="62701",
        phone="217-555-0142",
        is_demo=is_demo,
    )


@pytest.fixture
def ui_services(sqlite_services: Services) -> Iterator[Services]:
    """The SQLite services; queued background queries finish before the database closes."""
    yield sqlite_services
    assert wait_for_idle(10_000)


@pytest.fixture
def admin_actor(ui_services: Services) -> Actor:
    return make_actor(ui_services, Role.ADMIN)


@pytest.fixture
def clinic(ui_services: Services, admin_actor: Actor) -> ClinicDetails:
    details = clinic_details()
    ui_services.clinic.update_details(admin_actor, details)
    return details


def _payer(services: Services) -> int:
    # No service adds payers yet (see the UI hand-over notes), so the test writes one row.
    from infusion_desk.models import Payer

    with services.db.session() as session:
        payer = Payer(name="Lakeshore Mutual (test)", payer_id="LM001", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        return payer.id


@dataclass(frozen=True)
class Patients:
    quenby: int
    vantreese: int
    arkwright: int


def _person(first: str, last: str, born: date, mrn: str) -> PatientInput:
    return PatientInput(
        first_name=first, last_name=last, birth_date=born, sex=Sex.FEMALE,
        address1="12 Fictional Lane", city="Springfield", state="IL", zip_code="62704",
        phone="217-555-0123", mrn=mrn,
    )


@pytest.fixture
def patients(ui_services: Services, clinic: ClinicDetails) -> Patients:
    desk = make_actor(ui_services, Role.FRONT_DESK, "t_registrar")
    register = ui_services.patients.register
    made = Patients(
        quenby=register(desk, _person("Marisol", "Quenby", date(1958, 4, 11), "MR10501"), TODAY),
        vantreese=register(desk, _person("Otto", "Vantreese", date(1962, 7, 24), "MR20777"), TODAY),
        arkwright=register(desk, _person("Delphine", "Arkwright", date(1970, 1, 26), "MR20778"), TODAY),
    )
    ui_services.patients.add_policy(
        desk,
        made.quenby,
        PolicyInput(
            payer_id=_payer(ui_services), rank=PolicyRank.PRIMARY, member_id="QX123456789",
            effective_date=date(2025, 1, 1), group_number="G-77",
        ),
    )
    return made
