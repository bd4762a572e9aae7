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
    services.patients.add_policy(
        desk,
        existing,
        PolicyInput(
            payer_id=_payer(services),
            rank=PolicyRank.PRIMARY,
            member_id="DEMO77",
            effective_date=date(2026, 1, 1),
        ),
    )

    # Same name (typed differently) and date of birth: offered, not saved.
    with pytest.raises(PossibleDuplicate) as caught:
        services.patients.register(desk, _input(" marta ", "QUILL", date(1961, 4, 9)), TODAY)
    assert [m.id for m in caught.value.matches] == [existing]
    assert "may already be on file" in str(caught.value)
    # A different name but the member ID of a policy on file: also the same person, probably.
    with pytest.raises(PossibleDuplicate) as caught:
        services.patients.register(
            desk, _input("Martha", "Quil", date(1961, 4, 9)), TODAY, member_ids=("DEMO77",)
        )
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
            services.patients.add_policy(
                desk,
                patient,
                PolicyInput(
                    payer_id=_payer(services),
                    rank=PolicyRank.PRIMARY,
                    member_id=bad,
                    effective_date=date(2026, 1, 1),
                ),
            )
        assert [f.subject for f in caught.value.findings] == ["member_id"]
    assert services.patients.get(desk, patient).policies == ()


# --- editing demographics, policies, SBR05/SBR09, ranks and termination ----------------------


def _payer_of(services: Services, payer_type: str, name: str, payer_code: str = "TP900") -> int:
    from infusion_desk.models import Payer
    from infusion_desk.models.enums import PayerType

    with services.db.session() as session:
        payer = Payer(name=name, payer_id=payer_code, payer_type=PayerType(payer_type))
        session.add(payer)
        session.flush()
        return payer.id


def _policy(payer_id: int, rank: PolicyRank, member: str, **extra: object) -> PolicyInput:
    return PolicyInput(
        payer_id=payer_id,
        rank=rank,
        member_id=member,
        effective_date=date(2026, 1, 1),
        **extra,  # type: ignore[arg-type]
    )


def _audit_actions(services: Services, entity: str) -> list[str]:
    import sqlalchemy as sa

    from infusion_desk.models import AuditEvent

    with services.db.session() as session:
        return list(
            session.scalars(
                sa.select(AuditEvent.action).where(AuditEvent.entity == entity).order_by(AuditEvent.id)
            )
        )


def test_editing_a_patient_keeps_the_rules_and_the_audit_trail(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    patient = services.patients.register(desk, _input("Wren", "Talbot", date(1966, 8, 1)), TODAY)
    moved = _input(
        "Wren", "Talbot", date(1966, 8, 1), guarantor_name="Ash Talbot", guarantor_relationship="spouse"
    )
    moved.address1, moved.city, moved.zip_code = "77 Imaginary Rd", "Shelbyville", "62565"
    services.patients.update_patient(desk, patient, moved, TODAY)
    shown = services.patients.get(desk, patient)
    assert (shown.address1, shown.city, shown.zip_code) == ("77 Imaginary Rd", "Shelbyville", "62565")
    assert (shown.guarantor_name, shown.guarantor_relationship) == ("Ash Talbot", "spouse")
    assert "update" in _audit_actions(services, "patient")

    # Bad input: refused with the field named, and the record is unchanged.
    bad = _input("Wren", "Talbot", date(1966, 8, 1), guarantor_name="Ash Talbot")
    bad.zip_code, bad.city = "6256", " "
    with pytest.raises(ValidationFailed) as caught:
        services.patients.update_patient(desk, patient, bad, TODAY)
    assert {f.subject for f in caught.value.findings} == {"zip_code", "city"}
    assert services.patients.get(desk, patient).city == "Shelbyville"


def test_editing_checks_duplicates_only_when_name_or_birth_date_change(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    from infusion_desk.services.errors import PossibleDuplicate

    first = services.patients.register(desk, _input("Juno", "Marsh", date(1975, 3, 3)), TODAY)
    twin = services.patients.register(
        desk, _input("Juno", "Marsh", date(1975, 3, 3)), TODAY, allow_duplicate=True
    )
    other = services.patients.register(desk, _input("Juna", "Marsh", date(1975, 3, 3)), TODAY)

    # The same name and birth date as before: no duplicate question, even with a namesake on file.
    same = _input("Juno", "Marsh", date(1975, 3, 3), phone="217-555-0199")
    services.patients.update_patient(desk, first, same, TODAY)
    assert services.patients.get(desk, first).phone == "217-555-0199"

    # A corrected first name that matches other patients: offered, never the patient itself.
    with pytest.raises(PossibleDuplicate) as caught:
        services.patients.update_patient(desk, other, _input("Juno", "Marsh", date(1975, 3, 3)), TODAY)
    assert [m.id for m in caught.value.matches] == [first, twin]
    assert services.patients.get(desk, other).first_name == "Juna"
    services.patients.update_patient(
        desk, other, _input("Juno", "Marsh", date(1975, 3, 3)), TODAY, allow_duplicate=True
    )
    assert services.patients.get(desk, other).first_name == "Juno"


def test_sbr05_only_for_medicare_when_not_primary_and_sbr09_defaults_from_the_payer(
    services: Services, desk
) -> None:  # type: ignore[no-untyped-def]
    patient = services.patients.register(desk, _input("Ines", "Okafor", date(1950, 5, 5)), TODAY)
    medicare = _payer_of(services, "medicare", "Medicare Part B (test)", "MCR01")
    medicaid = _payer_of(services, "medicaid", "State Medicaid (test)", "MCD01")
    commercial = _payer_of(services, "commercial", "Lakeshore Mutual (test)", "LKM01")

    refusals = [
        (_policy(commercial, PolicyRank.SECONDARY, "C-1", medicare_secondary_type="12"), "only for Medicare"),
        (_policy(medicare, PolicyRank.PRIMARY, "M-1", medicare_secondary_type="12"), "primary"),
        (_policy(medicare, PolicyRank.SECONDARY, "M-1", medicare_secondary_type="99"), "not an SBR05 code"),
        (_policy(commercial, PolicyRank.PRIMARY, "C-1", claim_filing_indicator="XX"), "not an SBR09 code"),
    ]
    for data, phrase in refusals:
        with pytest.raises(ValidationFailed) as caught:
            services.patients.add_policy(desk, patient, data)
        assert phrase in caught.value.findings[0].message
    assert services.patients.get(desk, patient).policies == ()

    services.patients.add_policy(desk, patient, _policy(commercial, PolicyRank.PRIMARY, "C-1"))
    services.patients.add_policy(
        desk, patient, _policy(medicare, PolicyRank.SECONDARY, "M-1", medicare_secondary_type=" 12 ")
    )
    services.patients.add_policy(desk, patient, _policy(medicaid, PolicyRank.TERTIARY, "D-1"))
    primary, secondary, tertiary = services.patients.get(desk, patient, TODAY).policies
    assert [p.claim_filing_indicator for p in (primary, secondary, tertiary)] == ["CI", "MB", "MC"]
    assert secondary.medicare_secondary_type == "12"
    assert all(p.in_force for p in (primary, secondary, tertiary))


def test_two_policies_in_force_may_not_share_a_rank(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    patient = services.patients.register(desk, _input("Pax", "Ferrow", date(1980, 9, 9)), TODAY)
    payer = _payer(services)
    old = services.patients.add_policy(desk, patient, _policy(payer, PolicyRank.PRIMARY, "OLD-1"))
    with pytest.raises(ValidationFailed) as caught:
        services.patients.add_policy(desk, patient, _policy(payer, PolicyRank.PRIMARY, "NEW-1"))
    (finding,) = caught.value.findings
    assert (
        finding.subject == "rank" and "may not share a rank" in finding.message and "OLD-1" in finding.message
    )
    assert len(services.patients.get(desk, patient).policies) == 1

    # Once the old card ends, the new primary starting the next day is accepted.
    services.patients.terminate_policy(desk, old, date(2026, 6, 30))
    new = PolicyInput(
        payer_id=payer, rank=PolicyRank.PRIMARY, member_id="NEW-1", effective_date=date(2026, 7, 1)
    )
    services.patients.add_policy(desk, patient, new)
    shown = services.patients.get(desk, patient, TODAY).policies
    assert [(p.member_id, p.in_force) for p in shown] == [("OLD-1", False), ("NEW-1", True)]


def test_moving_policies_renumbers_the_ranks_in_force(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    patient = services.patients.register(desk, _input("Lio", "Brandt", date(1948, 2, 2)), TODAY)
    medicare = _payer_of(services, "medicare", "Medicare Part B (test)", "MCR01")
    commercial = _payer(services)
    employer = services.patients.add_policy(desk, patient, _policy(commercial, PolicyRank.PRIMARY, "EMP-1"))
    mcr = services.patients.add_policy(
        desk, patient, _policy(medicare, PolicyRank.SECONDARY, "MCR-1", medicare_secondary_type="12")
    )
    ended = services.patients.add_policy(
        desk, patient, _policy(commercial, PolicyRank.TERTIARY, "END-1", termination_date=date(2026, 3, 31))
    )

    assert services.patients.move_policy(desk, mcr, -1, TODAY) == (mcr, employer)
    ranks = {
        p.id: (p.rank, p.medicare_secondary_type)
        for p in services.patients.get(desk, patient, TODAY).policies
    }
    # Medicare now pays first, so its reason for paying second is cleared; the ended policy keeps its rank.
    assert ranks == {
        mcr: (PolicyRank.PRIMARY, None),
        employer: (PolicyRank.SECONDARY, None),
        ended: (PolicyRank.TERTIARY, None),
    }
    assert "rerank" in _audit_actions(services, "insurance_policy")
    # Moving the first up changes nothing; a terminated policy cannot be moved.
    assert services.patients.move_policy(desk, mcr, -1, TODAY) == (mcr, employer)
    with pytest.raises(ValidationFailed, match="terminated on 03/31/2026"):
        services.patients.move_policy(desk, ended, -1, TODAY)
    assert services.patients.reorder_policies(desk, patient, [employer, mcr], TODAY) == (employer, mcr)
    with pytest.raises(ValidationFailed, match="changed while you were reordering"):
        services.patients.reorder_policies(desk, patient, [employer, mcr, ended], TODAY)
    assert [p.id for p in services.patients.get(desk, patient, TODAY).policies] == [employer, mcr, ended]


def test_reordering_refuses_a_rank_a_future_policy_already_holds(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    patient = services.patients.register(desk, _input("Ola", "Strand", date(1958, 2, 2)), TODAY)
    payer = _payer(services)
    first = services.patients.add_policy(desk, patient, _policy(payer, PolicyRank.PRIMARY, "A-1"))
    second = services.patients.add_policy(desk, patient, _policy(payer, PolicyRank.SECONDARY, "B-1"))
    # A-1 ends this year and C-1 takes over as primary next year: B-1, open-ended, cannot be primary.
    services.patients.terminate_policy(desk, first, date(2026, 12, 31))
    services.patients.add_policy(
        desk,
        patient,
        PolicyInput(
            payer_id=payer, rank=PolicyRank.PRIMARY, member_id="C-1", effective_date=date(2027, 1, 1)
        ),
    )
    with pytest.raises(ValidationFailed, match="may not share a rank"):
        services.patients.move_policy(desk, second, -1, TODAY)
    ranks = [(p.member_id, p.rank) for p in services.patients.get(desk, patient, TODAY).policies]
    assert ranks == [("A-1", PolicyRank.PRIMARY), ("C-1", PolicyRank.PRIMARY), ("B-1", PolicyRank.SECONDARY)]


def test_terminating_and_editing_a_policy(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    from infusion_desk.models import InsurancePolicy
    from infusion_desk.services.coverage import active_policies, check_policy_for_visit

    patient = services.patients.register(desk, _input("Rue", "Calloway", date(1972, 4, 4)), TODAY)
    payer = _payer(services)
    policy_id = services.patients.add_policy(desk, patient, _policy(payer, PolicyRank.PRIMARY, "RC-1"))
    with pytest.raises(ValidationFailed, match="before the effective date"):
        services.patients.terminate_policy(desk, policy_id, date(2025, 12, 31))
    assert services.patients.get(desk, patient, TODAY).policies[0].termination_date is None

    services.patients.terminate_policy(desk, policy_id, date(2026, 10, 31))
    (shown,) = services.patients.get(desk, patient, TODAY).policies
    assert not shown.in_force and shown.termination_date == date(2026, 10, 31)
    with services.db.session() as session:
        assert active_policies(session, patient, TODAY) == []
        policy = session.get(InsurancePolicy, policy_id)
        assert check_policy_for_visit(policy, patient, TODAY)[0].code == "POLICY_TERMINATED"
        assert active_policies(session, patient, date(2026, 10, 31))[0].id == policy_id

    # Editing: a spouse subscriber with an address, and a new group; bad input leaves it as it was.
    spouse = _policy(
        payer,
        PolicyRank.PRIMARY,
        "RC-1",
        subscriber_relationship=SubscriberRelationship.SPOUSE,
        subscriber_first_name="Dell",
        subscriber_last_name="Calloway",
        subscriber_birth_date=date(1970, 1, 1),
        subscriber_sex=Sex.MALE,
        subscriber_address1="5 Sample Way",
        subscriber_city="Springfield",
        subscriber_state="il",
        subscriber_zip_code="62701",
        group_number="GRP-9",
    )
    bad = _policy(payer, PolicyRank.PRIMARY, "RC 1", group_number="GRP-9")
    with pytest.raises(ValidationFailed) as caught:
        services.patients.update_policy(desk, policy_id, bad)
    assert [f.subject for f in caught.value.findings] == ["member_id"]
    assert services.patients.get(desk, patient).policies[0].group_number is None
    services.patients.update_policy(desk, policy_id, spouse)
    (edited,) = services.patients.get(desk, patient, TODAY).policies
    assert (edited.subscriber_first_name, edited.subscriber_state, edited.group_number) == (
        "Dell",
        "IL",
        "GRP-9",
    )
    assert edited.termination_date is None and edited.in_force  # the edit reopened it
    assert _audit_actions(services, "insurance_policy").count("update") == 1

    nurse = make_actor(services, Role.NURSE)
    with pytest.raises(PermissionDenied):
        services.patients.terminate_policy(nurse, policy_id, TODAY)


def test_claim_data_findings_name_what_is_missing_and_where(services: Services, desk) -> None:  # type: ignore[no-untyped-def]
    patient = services.patients.register(desk, _input("Tamsin", "Vale", date(1949, 6, 6)), TODAY)
    medicare = _payer_of(services, "medicare", "Medicare Part B (test)", "MCR01")
    commercial = _payer(services)
    employer = services.patients.add_policy(
        desk,
        patient,
        _policy(
            commercial,
            PolicyRank.PRIMARY,
            "EMP-7",
            subscriber_relationship=SubscriberRelationship.SPOUSE,
            subscriber_first_name="Orrin",
            subscriber_last_name="Vale",
            subscriber_birth_date=date(1947, 1, 1),
            subscriber_sex=Sex.MALE,
        ),
    )
    mcr = services.patients.add_policy(desk, patient, _policy(medicare, PolicyRank.SECONDARY, "MCR-7"))
    services.patients.add_policy(
        desk,
        patient,
        _policy(
            commercial,
            PolicyRank.TERTIARY,
            "OLD-7",
            termination_date=date(2026, 2, 1),
            subscriber_relationship=SubscriberRelationship.CHILD,
            subscriber_first_name="A",
            subscriber_last_name="Vale",
            subscriber_birth_date=date(1920, 1, 1),
            subscriber_sex=Sex.FEMALE,
        ),
    )
    unknown_sex = _input("Tamsin", "Vale", date(1949, 6, 6))
    unknown_sex.sex = Sex.UNKNOWN
    services.patients.update_patient(desk, patient, unknown_sex, TODAY)

    findings = services.patients.claim_data(desk, patient, TODAY)
    # The terminated child policy is not checked: it will not be on a claim for today.
    assert [f.subject for f in findings] == [
        "patient.sex",
        f"policy:{employer}.subscriber_address1",
        f"policy:{employer}.subscriber_city",
        f"policy:{employer}.subscriber_state",
        f"policy:{employer}.subscriber_zip_code",
        f"policy:{mcr}.medicare_secondary_type",
    ]
    assert all(f.blocks for f in findings)
    assert "837P" in findings[0].message
    assert "street address" in findings[1].message and "spouse" in findings[1].message
    assert "SBR05" in findings[-1].message

    services.patients.update_patient(desk, patient, _input("Tamsin", "Vale", date(1949, 6, 6)), TODAY)
    services.patients.update_policy(
        desk,
        employer,
        _policy(
            commercial,
            PolicyRank.PRIMARY,
            "EMP-7",
            subscriber_relationship=SubscriberRelationship.SPOUSE,
            subscriber_first_name="Orrin",
            subscriber_last_name="Vale",
            subscriber_birth_date=date(1947, 1, 1),
            subscriber_sex=Sex.MALE,
            subscriber_address1="1 Demo Street",
            subscriber_city="Springfield",
            subscriber_state="IL",
            subscriber_zip_code="62701",
        ),
    )
    services.patients.update_policy(
        desk, mcr, _policy(medicare, PolicyRank.SECONDARY, "MCR-7", medicare_secondary_type="12")
    )
    assert services.patients.claim_data(desk, patient, TODAY) == ()


def test_claim_data_findings_is_pure_over_loaded_rows() -> None:
    from infusion_desk.models import InsurancePolicy, Payer
    from infusion_desk.models.enums import PayerType
    from infusion_desk.services.patients import claim_data_findings
    from tests.conftest import fictional_patient

    patient = fictional_patient(address1="", city="", state="ZZ", zip_code="")
    no_id = Payer(name="Paper-only Plan (test)", payer_id="", payer_type=PayerType.OTHER)
    policy = InsurancePolicy(
        id=41,
        payer=no_id,
        rank=PolicyRank.PRIMARY,
        member_id="",
        effective_date=date(2026, 1, 1),
        subscriber_relationship=SubscriberRelationship.SELF,
    )
    subjects = [f.subject for f in claim_data_findings(patient, [policy], TODAY)]
    assert subjects == [
        "patient.address1",
        "patient.city",
        "patient.zip_code",
        "patient.state",
        "policy:41.member_id",
        "policy:41.payer_id",
        "policy:41.claim_filing_indicator",
    ]
    # Before the policy starts, only the patient's own gaps count.
    assert len(claim_data_findings(patient, [policy], date(2025, 12, 31))) == 4
