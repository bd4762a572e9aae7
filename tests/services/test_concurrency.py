"""Two workstations saving the same record: the second save is refused, says who was first, and loses nothing.

The single-connection tests run on both engines; the races run two real connections (two
``Database`` objects, as two workstations would have) against the real PostgreSQL server, and
control numbers are taken by several processes at once.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from infusion_desk.models import Claim, ControlNumber, Patient, Payer, Remittance
from infusion_desk.models.db import Database
from infusion_desk.models.enums import (
    AuthorizationStatus,
    ClaimStatus,
    EraPosting,
    PayerType,
    PolicyRank,
    Role,
    Sex,
)
from infusion_desk.services.app import Services
from infusion_desk.services.authorizations import AuthorizationInput, AuthorizationService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.concurrency import ChangedElsewhere
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.patients import PatientInput, PatientService, PolicyInput
from infusion_desk.services.remittances import RemittanceService
from tests.billing.x12.remit_fixtures import write_835
from tests.conftest import make_actor
from tests.services.billing_seed import TODAY, exported_by_patient, paid, remittance


def _patient_input(detail: Any, **changes: Any) -> PatientInput:
    values = {
        name: getattr(detail, name)
        for name in PatientInput.__dataclass_fields__
        if hasattr(detail, name) and name != "mrn"
    }
    values.update(changes)
    return PatientInput(**values)


@pytest.fixture
def desks(services: Services) -> tuple[Services, Any, Any, int]:
    """A registered patient and two front-desk users (two workstations)."""
    anna = make_actor(services, Role.FRONT_DESK, "anna")
    ben = make_actor(services, Role.FRONT_DESK, "ben")
    patient_id = PatientService(services.db).register(
        anna,
        PatientInput(
            first_name="Testy", last_name="Example", birth_date=TODAY.replace(year=1960), sex=Sex.FEMALE,
            address1="1 Demo St", city="Springfield", state="IL", zip_code="62701", phone="2175550100",
        ),
        TODAY,
    )
    return services, anna, ben, patient_id


def test_the_second_of_two_saves_of_a_patient_is_refused_naming_the_first(
    desks: tuple[Services, Any, Any, int],
) -> None:
    services, anna, ben, patient_id = desks
    patients = PatientService(services.db)
    seen_by_anna = patients.get(anna, patient_id)
    seen_by_ben = patients.get(ben, patient_id)
    assert seen_by_anna.version == seen_by_ben.version

    patients.update_patient(
        anna, patient_id, _patient_input(seen_by_anna, phone="2175550111"), TODAY,
        expected_version=seen_by_anna.version,
    )
    with pytest.raises(ChangedElsewhere) as refused:
        patients.update_patient(
            ben, patient_id, _patient_input(seen_by_ben, city="Shelbyville"), TODAY,
            expected_version=seen_by_ben.version,
        )
    assert "changed by anna at" in str(refused.value) and "Reload" in str(refused.value)
    assert refused.value.by == "anna"

    now = patients.get(ben, patient_id)  # nothing of anna's was lost, nothing of ben's was saved
    assert (now.phone, now.city) == ("2175550111", "Springfield")
    patients.update_patient(  # after reloading, ben's change goes in
        ben, patient_id, _patient_input(now, city="Shelbyville"), TODAY, expected_version=now.version
    )
    final = patients.get(anna, patient_id)
    assert (final.phone, final.city) == ("2175550111", "Shelbyville")


def test_a_policy_and_an_authorization_refuse_a_save_from_an_old_screen(
    desks: tuple[Services, Any, Any, int],
) -> None:
    services, anna, ben, patient_id = desks
    patients = PatientService(services.db)
    with services.db.session() as session:
        payer = Payer(name="Test Health Plan", payer_id="TST01", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        payer_id = payer.id
    policy_input = PolicyInput(
        payer_id=payer_id, rank=PolicyRank.PRIMARY, member_id="TST123456", effective_date=TODAY.replace(day=1)
    )
    policy_id = patients.add_policy(anna, patient_id, policy_input)
    shown = patients.get(ben, patient_id).policies[0]
    patients.update_policy(anna, policy_id, replace(policy_input, member_id="TST999999"),
                           expected_version=shown.version)
    with pytest.raises(ChangedElsewhere, match="This insurance policy was changed by anna"):
        patients.update_policy(ben, policy_id, replace(policy_input, group_number="G1"),
                               expected_version=shown.version)
    assert patients.get(ben, patient_id).policies[0].member_id == "TST999999"

    authorizations = AuthorizationService(services.db)
    data = AuthorizationInput(
        patient_id=patient_id, policy_id=policy_id, number="PA-1", status=AuthorizationStatus.PENDING,
        valid_from=TODAY, valid_to=TODAY.replace(year=TODAY.year + 1), codes=("J1745",),
        approved_units="100", approved_visits="",
    )
    authorization_id = authorizations.create(anna, data)
    (summary,) = authorizations.authorizations(ben, patient_id)
    authorizations.set_status(anna, authorization_id, AuthorizationStatus.APPROVED, "letter 11/27",
                              expected_version=summary.version)
    with pytest.raises(ChangedElsewhere, match="This authorization was changed by anna"):
        authorizations.update(ben, authorization_id, replace(data, number="PA-2"), expected_version=summary.version)
    (after,) = authorizations.authorizations(ben, patient_id)
    assert after.number == "PA-1" and after.status is AuthorizationStatus.APPROVED


def _race(first: Callable[[], object], second: Callable[[], object]) -> list[object]:
    """Run both at the same moment on two threads; return what each returned or raised."""
    barrier = threading.Barrier(2)
    results: list[object] = [None, None]

    def run(index: int, job: Callable[[], object]) -> None:
        barrier.wait()
        try:
            results[index] = job()
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test looks at
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return results


@pytest.mark.parametrize("engine", ["postgresql"])
def test_two_workstations_saving_the_same_patient_at_once_on_postgresql(
    engine: str, pg_server: str,
) -> None:
    from tests.conftest import _new_pg_database

    url = _new_pg_database(pg_server)
    first, _ = Services.open(url)
    second = Services.for_database(Database.open(url))  # another workstation: its own connections
    try:
        anna = make_actor(first, Role.FRONT_DESK, "anna")
        ben = make_actor(first, Role.FRONT_DESK, "ben")
        patient_id = PatientService(first.db).register(
            anna,
            PatientInput(
                first_name="Testy", last_name="Example", birth_date=TODAY.replace(year=1960), sex=Sex.FEMALE,
                address1="1 Demo St", city="Springfield", state="IL", zip_code="62701",
            ),
            TODAY,
        )
        for round_number in range(5):
            shown = PatientService(first.db).get(anna, patient_id)
            first_save = PatientInput(**{**_patient_input(shown).__dict__, "city": f"Anna {round_number}"})
            second_save = PatientInput(**{**_patient_input(shown).__dict__, "city": f"Ben {round_number}"})
            version = shown.version
            outcomes = _race(
                lambda a=first_save, v=version: PatientService(first.db).update_patient(  # type: ignore[misc]
                    anna, patient_id, a, TODAY, expected_version=v
                ),
                lambda b=second_save, v=version: PatientService(second.db).update_patient(  # type: ignore[misc]
                    ben, patient_id, b, TODAY, expected_version=v
                ),
            )
            refused = [o for o in outcomes if isinstance(o, ChangedElsewhere)]
            saved = [o for o in outcomes if o == patient_id]
            assert len(refused) == 1 and len(saved) == 1, outcomes
            winner = "anna" if outcomes[0] == patient_id else "ben"
            assert refused[0].by == winner
            city = PatientService(second.db).get(ben, patient_id).city
            assert city == f"{winner.title()} {round_number}"
    finally:
        second.close()
        first.close()


@pytest.mark.parametrize("engine", ["postgresql"])
def test_two_billers_posting_the_same_waiting_payment_post_it_once(
    engine: str, pg_server: str, tmp_path: Path,
) -> None:
    from tests.conftest import _new_pg_database

    url = _new_pg_database(pg_server)
    first, _ = Services.open(url)
    second = Services.for_database(Database.open(url))
    try:
        by_patient, _ranks = exported_by_patient(first, tmp_path)
        claim = next(iter(by_patient.values()))[0]
        with first.db.session() as session:
            session.execute(sa.update(Payer).values(era_posting=EraPosting.REVIEW))
        biller = first.auth.sign_in("biller", "demo")
        other = make_actor(first, Role.BILLER, "bea")
        RemittanceService(first.db).import_text(biller, write_835(remittance(paid(claim, icn="ICN-RACE"))), "r.835")
        (row,) = RemittanceService(first.db).remittances(biller)

        outcomes = _race(
            lambda: RemittanceService(first.db).post(biller, row.id),
            lambda: RemittanceService(second.db).post(other, row.id),
        )
        refused = [o for o in outcomes if isinstance(o, ValidationFailed)]
        assert len(refused) == 1, outcomes
        assert "already posted by" in str(refused[0])
        with first.db.session() as session:
            status = session.scalar(sa.select(Claim.status).where(Claim.claim_number == claim.claim_number))
            posted = session.scalar(sa.select(Remittance.posted_at).where(Remittance.id == row.id))
        assert status in (ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID) and posted is not None
    finally:
        second.close()
        first.close()


def test_a_claim_moved_by_a_posting_refuses_a_status_change_from_an_old_screen(
    services: Services, tmp_path: Path,
) -> None:
    by_patient, _ranks = exported_by_patient(services, tmp_path)
    claim_data = next(iter(by_patient.values()))[0]
    biller = services.auth.sign_in("biller", "demo")
    claims = ClaimService(services.db)
    claim_id = claims.claim_id(biller, claim_data.claim_number)
    shown = claims.detail(biller, claim_id)
    RemittanceService(services.db).import_text(
        biller, write_835(remittance(paid(claim_data, icn="ICN-1"))), "paid.835"
    )  # the payer's answer moves the claim while the biller looks at it
    with pytest.raises(ChangedElsewhere, match="This claim was changed"):
        claims.set_status(biller, claim_id, ClaimStatus.CLOSED, "no longer needed",
                          expected_version=shown.version)
    assert claims.detail(biller, claim_id).row.status is not ClaimStatus.CLOSED


_TAKE_NUMBERS = """
import sys
from infusion_desk.models.db import Database
from infusion_desk.services.control_numbers import next_control_number
db = Database.open(sys.argv[1])
taken = []
for _ in range(int(sys.argv[2])):
    with db.session() as session:
        taken.append(next_control_number(session, "interchange"))
db.dispose()
print(" ".join(map(str, taken)))
"""


@pytest.mark.parametrize("engine", ["postgresql"])
def test_control_numbers_taken_by_several_processes_at_once_are_all_different(engine: str, pg_server: str) -> None:
    from tests.conftest import _new_pg_database

    url = _new_pg_database(pg_server)
    services, _ = Services.open(url)
    services.close()
    per_process, processes = 40, 4
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _TAKE_NUMBERS, url, str(per_process)], stdout=subprocess.PIPE, text=True,
        )
        for _ in range(processes)
    ]
    taken: list[int] = []
    for child in children:
        out, _ = child.communicate(timeout=120)
        assert child.returncode == 0
        numbers = [int(n) for n in out.split()]
        assert numbers == sorted(numbers)  # each process sees its numbers go up
        taken += numbers
    assert sorted(taken) == list(range(1, per_process * processes + 1))  # none twice, none skipped
    db = Database.open(url)
    with db.session() as session:
        assert session.scalar(sa.select(ControlNumber.last_value)) == per_process * processes
        assert session.scalar(sa.select(sa.func.count()).select_from(Patient)) == 0
    db.dispose()
