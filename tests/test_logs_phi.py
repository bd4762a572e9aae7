"""A patient's names and date of birth never reach a log file.

Infusion Desk itself configures no logging and writes no log file (no ``logging`` call in
the package); what could log is the libraries under it: SQLAlchemy (SQL and its parameters),
Alembic (migrations), Argon2, paramiko. A support engineer chasing a fault would turn logging
on for everything; this test does exactly that, to a file at DEBUG level, runs front-desk and
billing flows with a fictional patient whose names are found nowhere else, including flows
that fail with messages about her, and reads the file back.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from infusion_desk.billing.coding import code_json
from infusion_desk.billing.x12 import remit835
from infusion_desk.models.enums import Role, Sex
from infusion_desk.services.app import Services
from infusion_desk.services.errors import PossibleDuplicate, ValidationFailed
from infusion_desk.services.patients import PatientInput
from infusion_desk.services.remittances import RemittanceService
from tests.billing.coding_cases import infusion, visit
from tests.billing.x12.test_fuzz_x12 import docstring_file
from tests.conftest import make_actor

FIRST, LAST, BORN = "Quintessa", "Zyxwvutsrq", date(1937, 4, 11)
SECRETS = (FIRST, LAST, FIRST.upper(), LAST.upper(), "1937-04-11", "19370411", "04/11/1937")


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """Everything any logger says, at DEBUG, into a file, as a support engineer would set it up."""
    path = tmp_path / "infusion-desk.log"
    handler = logging.FileHandler(path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        handler.close()


def _register_find_code_and_post(tmp_path: Path) -> None:
    """Front-desk and billing flows with the fictional patient, including refusals that name her."""
    services, _ = Services.open(f"sqlite:///{tmp_path / 'clinic.sqlite3'}")
    try:
        desk = make_actor(services, Role.FRONT_DESK)
        biller = make_actor(services, Role.BILLER)
        patient = PatientInput(FIRST, LAST, BORN, Sex.FEMALE, "1 Demo St", "Springfield", "IL", "62701")
        patient_id = services.patients.register(desk, patient, date(2026, 11, 20))
        assert services.patients.search(desk, LAST)[0].id == patient_id
        services.patients.get(desk, patient_id)
        with pytest.raises(PossibleDuplicate):  # the same person again: refused, naming her
            services.patients.register(desk, patient, date(2026, 11, 20))
        code_json(visit(infusion("a1", "J1745", "09:00", 120, dose=(350, "mg"))))
        remittance = docstring_file(remit835)
        unbalanced = remittance.replace("NM1*QC*1*TESTPATIENT*ZEBULON", f"NM1*QC*1*{LAST.upper()}*{FIRST.upper()}")
        unbalanced = unbalanced.replace("CAS*PR*2*40~", "CAS*PR*2*41~")
        with pytest.raises(ValidationFailed):
            RemittanceService(services.db).import_text(biller, unbalanced, "unbalanced.835")
        with pytest.raises(ValidationFailed):  # unreadable, the patient's names in the text
            RemittanceService(services.db).import_text(biller, unbalanced.replace("SE*23", "SE*99"), "bad.835")
    finally:
        services.close()


def _leaked(text: str) -> list[str]:
    return [secret for secret in SECRETS if secret.lower() in text.lower()]


def test_names_and_birth_date_of_a_patient_are_in_no_log_line(log_file: Path, tmp_path: Path) -> None:
    _register_find_code_and_post(tmp_path)
    text = log_file.read_text(encoding="utf-8")
    assert "alembic" in text, "nothing reached the log: the test would not see a leak"
    leaked = _leaked(text)
    assert not leaked, f"the log holds {leaked}"


@pytest.fixture
def sql_logged() -> Iterator[None]:
    """SQLAlchemy's engine logging on (every statement at INFO), as ``echo=True`` would do."""
    engine_logger = logging.getLogger("sqlalchemy.engine")
    level = engine_logger.level
    engine_logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        engine_logger.setLevel(level)


def test_with_sql_logging_on_the_statements_are_logged_but_not_her_names(
    log_file: Path, sql_logged: None, tmp_path: Path
) -> None:
    _register_find_code_and_post(tmp_path)
    text = log_file.read_text(encoding="utf-8")
    assert "INSERT INTO patient " in text and "FROM patient" in text, "no SQL reached the log"
    assert "[SQL parameters hidden due to hide_parameters=True]" in text
    leaked = _leaked(text)
    assert not leaked, f"the log holds {leaked}"
