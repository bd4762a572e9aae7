"""Hostile files through the service imports: refused with ``ValidationFailed`` and nothing half-written.

Each import (posting an 835, a 999/277CA, a 271, a fee schedule CSV, a CMS ASP file) reads the
file from disk as a user's choice would, and either records it or raises ``ValidationFailed``
with findings the user can read. These tests write mutated files (see the reader fuzz tests
for the mutations) and check, for every refusal, that no table gained or lost a row. They run
on SQLite only and with few examples: the readers themselves are fuzzed far harder in
``tests/billing``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infusion_desk.billing import remittance as rm
from infusion_desk.billing.x12 import remit835
from infusion_desk.models import Payer, RemittanceLine
from infusion_desk.models.base import Base
from infusion_desk.models.enums import EraPosting, PayerType, Role
from infusion_desk.services.access import Actor
from infusion_desk.services.acknowledgements import AcknowledgementService
from infusion_desk.services.app import Services
from infusion_desk.services.contracts import ContractService
from infusion_desk.services.eligibility import EligibilityService
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.remittances import RemittanceService
from tests.billing.test_fuzz_contracts import ASP_SEED, TEMPLATE, mutated_csv
from tests.billing.x12.test_fuzz_x12 import (
    SEEDS_271,
    SEEDS_835,
    SEEDS_ACK,
    body_mutated,
    docstring_file,
    mutated,
    well_formed,
)
from tests.conftest import make_actor

EXAMPLES = 40
"""Files per import per CI run (each one a database round trip on SQLite)."""
SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
SOUND_835 = well_formed(SEEDS_835[:8])
SOUND_ACK = well_formed(SEEDS_ACK)
SOUND_271 = well_formed(SEEDS_271)


@dataclass
class Desk:
    services: Services
    actor: Actor
    payer_id: int
    file: Path

    def counts(self) -> dict[str, int]:
        with self.services.db.session() as session:
            return {
                table.name: session.scalar(sa.select(sa.func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables
            }


@pytest.fixture
def desk(sqlite_services: Services, tmp_path: Path) -> Iterator[Desk]:
    actor = make_actor(sqlite_services, Role.ADMIN)
    with sqlite_services.db.session() as session:
        payer = Payer(name="Fictional Health Plan", payer_id="FHP01", payer_type=PayerType.COMMERCIAL,
                      era_posting=EraPosting.ALL)
        session.add(payer)
        session.flush()
        payer_id = payer.id
    yield Desk(sqlite_services, actor, payer_id, tmp_path / "inbound.txt")


def imported_or_refused(desk: Desk, content: str | bytes, run: Callable[[Path], object]) -> None:
    """``run`` the import on ``content``; a refusal says why and leaves every table as it was."""
    desk.file.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    before = desk.counts()
    try:
        run(desk.file)
    except ValidationFailed as exc:
        assert exc.findings and all(f.message.strip() for f in exc.findings)
        assert desk.counts() == before, "a refused file changed the database"


def x12_files(seeds: tuple[str, ...], sound: tuple[object, ...]) -> st.SearchStrategy[str | bytes]:
    return st.one_of(mutated(seeds), body_mutated(sound), st.binary(max_size=200))  # type: ignore[arg-type]


@SETTINGS
@given(content=x12_files(SEEDS_835[:8], SOUND_835))
def test_a_hostile_835_posts_or_is_refused_without_a_trace(desk: Desk, content: str | bytes) -> None:
    service = RemittanceService(desk.services.db)
    imported_or_refused(desk, content, lambda path: service.import_file(desk.actor, path))


@SETTINGS
@given(content=x12_files(SEEDS_ACK, SOUND_ACK))
def test_a_hostile_acknowledgement_is_recorded_or_refused_without_a_trace(desk: Desk, content: str | bytes) -> None:
    service = AcknowledgementService(desk.services.db)
    imported_or_refused(desk, content, lambda path: service.import_file(desk.actor, path))


@SETTINGS
@given(content=x12_files(SEEDS_271, SOUND_271))
def test_a_hostile_271_is_recorded_or_refused_without_a_trace(desk: Desk, content: str | bytes) -> None:
    service = EligibilityService(desk.services.db)
    imported_or_refused(
        desk, content,
        lambda path: service.import_271(desk.actor, path.read_bytes().decode("utf-8", "replace"), path.name),
    )


@SETTINGS
@given(content=mutated_csv(TEMPLATE), replace=st.booleans())
def test_a_hostile_fee_schedule_imports_whole_or_not_at_all(desk: Desk, content: str, replace: bool) -> None:
    service = ContractService(desk.services.db)
    imported_or_refused(
        desk, content, lambda path: service.import_fee_schedule(desk.actor, desk.payer_id, path, replace=replace)
    )


@SETTINGS
@given(content=mutated_csv(ASP_SEED))
def test_a_hostile_asp_file_imports_whole_or_not_at_all(desk: Desk, content: str) -> None:
    service = ContractService(desk.services.db)
    imported_or_refused(desk, content, lambda path: service.import_asp(desk.actor, path, date(2026, 1, 1)))


# --- crashes the fuzzing found, kept as plain examples ------------------------------------------

REMIT = docstring_file(remit835)
BIG = "9" * 17


def _balanced(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert old in text
        text = text.replace(old, new)
    return text


def test_a_balanced_835_with_amounts_past_what_the_ledger_holds_is_refused_naming_the_element(desk: Desk) -> None:
    # X12 allows 18 digits; 17 nines balanced everywhere reached the database: OverflowError on posting
    text = _balanced(
        REMIT,
        ("BPR*I*155*", f"BPR*I*{BIG}*"),
        ("CLP*C0000042*1*250*160*40*", f"CLP*C0000042*1*{BIG}*{BIG}*0*"),
        ("SVC*HC:96365*250*160**1", f"SVC*HC:96365*{BIG}*{BIG}**1"),
        ("CAS*CO*45*50~CAS*PR*2*40~", ""),
        ("AMT*B6*200", f"AMT*B6*{BIG}"),
        ("PLB*1245319599*20261231*WO:C0000007*5~", ""),
        ("SE*23*0001", "SE*20*0001"),
    )
    desk.file.write_text(text)
    before = desk.counts()
    with pytest.raises(ValidationFailed) as refused:
        RemittanceService(desk.services.db).import_file(desk.actor, desk.file)
    assert f"segment 14 (CLP): CLP03 (the charge of claim C0000042) '{BIG}' is too large" in (
        refused.value.findings[0].message
    )
    assert desk.counts() == before


def test_a_balanced_835_with_fractions_of_a_cent_is_refused_in_words(desk: Desk) -> None:
    # the reader keeps them as sent (test_amounts_keep_more_than_two_decimals_as_sent); the ledger keeps cents
    text = _balanced(
        REMIT,
        ("BPR*I*155*", "BPR*I*155.005*"),
        ("*250*160*40*", "*250*160.005*40*"),
        ("SVC*HC:96365*250*160**1", "SVC*HC:96365*250*160.005**1"),
        ("CAS*CO*45*50~", "CAS*CO*45*49.995~"),
    )
    desk.file.write_text(text)
    before = desk.counts()
    with pytest.raises(ValidationFailed) as refused:
        RemittanceService(desk.services.db).import_file(desk.actor, desk.file)
    assert [(f.subject, f.message) for f in refused.value.findings] == [
        (
            "file",
            "inbound.txt has amounts the ledger cannot hold, so nothing was posted. "
            "Payment CHK7788: the payment total (BPR02) 155.005 has fractions of a cent. "
            "Claim C0000042: the paid amount (CLP04) 160.005 has fractions of a cent. "
            "Claim C0000042, service line 1 (96365): the paid amount (SVC03) 160.005 has fractions of a cent. "
            "Claim C0000042, service line 1 (96365): the adjustment CO-45 (CAS) 49.995 has fractions of a cent. "
            "Ask the payer or clearinghouse for a corrected file in whole cents.",
        )
    ]
    assert desk.counts() == before


def test_a_balanced_835_with_units_paid_past_a_thousandth_is_refused_in_words(desk: Desk) -> None:
    desk.file.write_text(_balanced(REMIT, ("SVC*HC:96365*250*160**1", "SVC*HC:96365*250*160**1.2345")))
    before = desk.counts()
    with pytest.raises(ValidationFailed) as refused:
        RemittanceService(desk.services.db).import_file(desk.actor, desk.file)
    assert (
        "Claim C0000042, service line 1 (96365): the units paid (SVC05) 1.2345 has more than 3 decimal places."
        in refused.value.findings[0].message
    )
    assert desk.counts() == before


def test_trailing_zeros_past_the_cent_are_whole_cents_and_post(desk: Desk) -> None:
    desk.file.write_text(_balanced(REMIT, ("SVC*HC:96365*250*160**1", "SVC*HC:96365*250.000*160.000**1.0000")))
    assert RemittanceService(desk.services.db).import_file(desk.actor, desk.file).payments == 1
    with desk.services.db.session() as session:
        stored = session.execute(sa.select(RemittanceLine.charge, RemittanceLine.paid, RemittanceLine.units_paid))
        assert stored.all() == [(Decimal("250.00"), Decimal("160.00"), Decimal("1.000"))]


def test_a_paper_eob_in_fractions_of_a_cent_is_refused_in_words(desk: Desk) -> None:
    # the EOB screen rounds what is typed to the cent; the service holds for any other caller
    line = rm.ServicePayment("96365", (), Decimal("250"), Decimal("160.005"),
                             adjustments=(rm.CasAdjustment("CO", "45", Decimal("89.995")),))
    claim = rm.ClaimPayment("C0000042", "1", Decimal("250"), Decimal("160.005"), lines=(line,))
    eob = rm.Remittance("CHK7788", "", "", "CHK", date(2026, 11, 20), Decimal("160.005"), (claim,))
    before = desk.counts()
    with pytest.raises(ValidationFailed) as refused:
        RemittanceService(desk.services.db).enter(desk.actor, eob)
    assert [(f.code, f.message) for f in refused.value.findings] == [
        ("CENTS", "Payment CHK7788: the payment total (BPR02) 160.005 has fractions of a cent."),
        ("CENTS", "Claim C0000042: the paid amount (CLP04) 160.005 has fractions of a cent."),
        ("CENTS", "Claim C0000042, service line 1 (96365): the paid amount (SVC03) 160.005 has fractions of a cent."),
        ("CENTS", "Claim C0000042, service line 1 (96365): the adjustment CO-45 (CAS) 89.995 has fractions of a cent."),
    ]
    assert desk.counts() == before
