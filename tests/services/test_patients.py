"""Registering and finding patients through the service layer, on both engines."""

from __future__ import annotations

from datetime import date

import pytest

from infusion_desk.models.enums import PolicyRank, Role, Sex, SubscriberRelationship
from infusion_desk.services.app import Services
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.patients import PatientInput, PolicyInput
from tests.conftest import make_actor

TODAY = date(2026, 11, 26)


def _input(first: str, last: str, born: date, **extra: object) -> PatientInput:
    return PatientInput(
        first_name=first,
        last_name=last,
        birth_date=born,
        sex=Sex.FEMALE,
        address1="1 Demo Street",
        city="Springfield",
        state="IL",
        zip_code="62701",
        **extra,  # type: ignore[arg-type]
    )


@pytest.fixture
def desk(services: Services):  # type: ignore[no-untyped-def]
    return make_actor(services, Role.FRONT_DESK)


def test_finder_matches_names_mrn_and_birth_date(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    ids = {
        "smith": services.patients.register(desk, _input("Joan", "Smith", date(1956, 3, 14)), TODAY),
        "smithers": services.patients.register(desk, _input("Waylon", "Smithers", date(1970, 1, 1)), TODAY),
        "jones": services.patients.register(desk, _input("Smitty", "Jones", date(1980, 5, 6)), TODAY),
        "oneill": services.patients.register(desk, _input("Siobhán", "O'Neill", date(1990, 7, 8)), TODAY),
    }

    def found(query: str) -> list[int]:
        return [row.id for row in services.patients.search(desk, query)]

    # A single word matches last or first names by prefix, in last-name order.
    assert found("smit") == [ids["jones"], ids["smith"], ids["smithers"]]
    assert found("SMITHE") == [ids["smithers"]]
    # "last, first" and "first last" narrow to both names.
    assert found("smith, jo") == [ids["smith"]]
    assert found("joan smith") == [ids["smith"]]
    # Punctuation and accents do not get in the way.
    assert found("oneill") == [ids["oneill"]]
    assert found("o'neill, siobhan") == [ids["oneill"]]
    # Dates of birth in the forms people type.
    assert found("03/14/1956") == [ids["smith"]]
    assert found("1956-03-14") == [ids["smith"]]
    # MRN prefix.
    mrn = services.patients.get(desk, ids["jones"]).mrn
    assert found(mrn.lower()) == [ids["jones"]]
    assert found("") == []
    assert found("zzz") == []


def test_a_rejected_registration_saves_nothing(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationFailed) as caught:
        services.patients.register(desk, _input("Future", "Baby", date(2027, 1, 1)), TODAY)
    assert [f.subject for f in caught.value.findings] == ["birth_date"]
    assert "future" in caught.value.findings[0].message.lower()
    assert services.patients.count(desk) == 0


def test_policy_rules_termination_and_subscriber(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    patient = services.patients.register(desk, _input("Ada", "Lovelace", date(1950, 12, 10)), TODAY)
    payer_id = _payer(services)
    bad_dates = PolicyInput(
        payer_id=payer_id,
        rank=PolicyRank.PRIMARY,
        member_id="DEMO1",
        effective_date=date(2026, 1, 1),
        termination_date=date(2025, 12, 31),
    )
    with pytest.raises(ValidationFailed) as caught:
        services.patients.add_policy(desk, patient, bad_dates)
    assert {f.subject for f in caught.value.findings} == {"termination_date"}

    spouse_without_details = PolicyInput(
        payer_id=payer_id,
        rank=PolicyRank.PRIMARY,
        member_id="DEMO2",
        effective_date=date(2026, 1, 1),
        subscriber_relationship=SubscriberRelationship.SPOUSE,
        subscriber_first_name="Charles",
    )
    with pytest.raises(ValidationFailed) as caught:
        services.patients.add_policy(desk, patient, spouse_without_details)
    missing = {f.subject for f in caught.value.findings}
    assert {"subscriber_last_name", "subscriber_birth_date", "subscriber_sex"} <= missing
    assert "subscriber_first_name" not in missing
    assert services.patients.get(desk, patient).policies == ()

    good = PolicyInput(
        payer_id=payer_id,
        rank=PolicyRank.PRIMARY,
        member_id="DEMO3",
        effective_date=date(2026, 1, 1),
        subscriber_relationship=SubscriberRelationship.SPOUSE,
        subscriber_first_name="Charles",
        subscriber_last_name="Lovelace",
        subscriber_birth_date=date(1948, 1, 1),
        subscriber_sex=Sex.MALE,
    )
    services.patients.add_policy(desk, patient, good)
    (policy,) = services.patients.get(desk, patient).policies
    assert policy.member_id == "DEMO3" and policy.payer_name == "Test Payer"


def test_roles_are_enforced_by_the_service(services: Services) -> None:
    nurse = make_actor(services, Role.NURSE)
    with pytest.raises(PermissionDenied, match="Nurse"):
        services.patients.register(nurse, _input("No", "Access", date(1970, 1, 1)), TODAY)
    # A nurse may still look patients up.
    assert services.patients.search(nurse, "access") == []


def _payer(services: Services) -> int:
    from infusion_desk.models import Payer
    from infusion_desk.models.enums import PayerType

    with services.db.session() as session:
        payer = Payer(name="Test Payer", payer_id="TP001", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        return payer.id


def test_registration_offers_the_existing_patient_instead_of_a_duplicate(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    from infusion_desk.services.errors import PossibleDuplicate

    existing = services.patients.register(desk, _input("Marta", "Quill", date(1961, 4, 9)), TODAY)
    services.patients.add_policy(desk, existing, PolicyInput(
        payer_id=_payer(services), rank=PolicyRank.PRIMARY, member_id="DEMO77", effective_date=date(2026, 1, 1)))

    # Same name (typed differently) and date of birth: offered, not saved.
    with pytest.raises(PossibleDuplicate) as caught:
        services.patients.register(desk, _input(" marta ", "QUILL", date(1961, 4, 9)), TODAY)
    assert [m.id for m in caught.value.matches] == [existing]
    assert "may already be on file" in str(caught.value)
    # A different name but the member ID of a policy on file: also the same person, probably.
    with pytest.raises(PossibleDuplicate) as caught:
        services.patients.register(desk, _input("Martha", "Quil", date(1961, 4, 9)), TODAY, member_ids=("DEMO77",))
    assert [m.id for m in caught.value.matches] == [existing]
    assert services.patients.count(desk) == 1

    # A namesake born another day is not a duplicate; a confirmed duplicate can be saved.
    services.patients.register(desk, _input("Marta", "Quill", date(1990, 4, 9)), TODAY)
    services.patients.register(desk, _input("Marta", "Quill", date(1961, 4, 9)), TODAY, allow_duplicate=True)
    assert services.patients.count(desk) == 3
    assert len(services.patients.find_duplicates(desk, _input("Marta", "Quill", date(1961, 4, 9)))) == 2


def test_member_ids_with_illegal_characters_are_refused(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    patient = services.patients.register(desk, _input("Ola", "Nordmann", date(1970, 2, 2)), TODAY)
    for bad in ("ABC 123", "W*1234", "12~4"):
        with pytest.raises(ValidationFailed) as caught:
            services.patients.add_policy(desk, patient, PolicyInput(
                payer_id=_payer(services), rank=PolicyRank.PRIMARY, member_id=bad, effective_date=date(2026, 1, 1)))
        assert [f.subject for f in caught.value.findings] == ["member_id"]
    assert services.patients.get(desk, patient).policies == ()
