"""Eligibility: the manual log, the re-verification rule, the 270 export and the 271 import, on both engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from infusion_desk.models import Clinic, EligibilityCheck, InsurancePolicy, Payer, Visit
from infusion_desk.models.base import utcnow
from infusion_desk.models.enums import (
    EligibilityStatus,
    PayerType,
    PolicyRank,
    Role,
    Sex,
    SubscriberRelationship,
    VerificationMethod,
    VisitStatus,
)
from infusion_desk.services.app import Services
from infusion_desk.services.clearinghouse import ClearinghouseService, ClearinghouseSettings
from infusion_desk.services.coding import DEFAULT_TIMEZONE
from infusion_desk.services.eligibility import (
    EligibilityInput,
    EligibilityService,
    latest_check,
    unverified_policy_ids,
    verification_finding,
    verification_findings,
)
from infusion_desk.services.errors import ValidationFailed
from tests.billing.x12 import fixtures_271
from tests.billing.x12.pyx12_270_map import build_map_directory, validate
from tests.conftest import fictional_patient, make_actor

TODAY = utcnow().astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()  # the clinic's day, as the service sees it


def seed(services: Services) -> dict[str, int]:
    """Two patients: Testy (her own policy) and Kiddo (a child on a parent's policy), visits in the next days."""
    with services.db.session() as session:
        session.add(Clinic(name="Demo Infusion Clinic", npi="1245319599", tin="123456789", taxonomy="261QI0500X",
                           address1="1 Demo St", city="Springfield", state="IL", zip_code="62701"))
        payer = Payer(name="Fictional Health Plan", payer_id="FHP01", payer_type=PayerType.COMMERCIAL)
        other = Payer(name="Imaginary Mutual", payer_id="IMU22", payer_type=PayerType.COMMERCIAL,
                      reverify_days=60)
        testy = fictional_patient("DM0000001")
        kiddo = fictional_patient("DM0000002", first_name="Kiddo", last_name="Sampleton", search_first="kiddo",
                                  search_last="sampleton", birth_date=date(2010, 5, 6), sex=Sex.MALE)
        session.add_all([payer, other, testy, kiddo])
        session.flush()
        own = InsurancePolicy(patient_id=testy.id, payer_id=payer.id, rank=PolicyRank.PRIMARY, member_id="XYZ123456",
                              effective_date=date(2020, 1, 1), subscriber_relationship=SubscriberRelationship.SELF)
        child = InsurancePolicy(patient_id=kiddo.id, payer_id=other.id, rank=PolicyRank.PRIMARY,
                                member_id="IMU-0042", effective_date=date(2020, 1, 1),
                                subscriber_relationship=SubscriberRelationship.CHILD,
                                subscriber_first_name="Parent", subscriber_last_name="Sampleton",
                                subscriber_birth_date=date(1970, 3, 4), subscriber_sex=Sex.FEMALE)
        session.add_all([own, child])
        session.flush()
        start = datetime.now(UTC)
        for patient, day in ((testy, 1), (testy, 1), (testy, 3), (kiddo, 2), (kiddo, 30)):
            session.add(Visit(patient_id=patient.id, date_of_service=TODAY + timedelta(days=day),
                              scheduled_start=start + timedelta(days=day)))
        session.add(Visit(patient_id=kiddo.id, date_of_service=TODAY + timedelta(days=1),
                          scheduled_start=start, status=VisitStatus.CANCELLED))
        session.flush()
        return {"testy": testy.id, "kiddo": kiddo.id, "own": own.id, "child": child.id, "payer": payer.id,
                "other": other.id}


def profile(services: Services) -> None:
    manager = make_actor(services, Role.MANAGER, "t_manager_ch")
    ClearinghouseService(services.db).save(manager, ClearinghouseSettings(
        "Fictional Clearinghouse", "ZZ", "democlinic", "ZZ", "CLEARHOUSE", "DEMOCLINIC", "CLEARHOUSE", False))


def form(**changes: object) -> EligibilityInput:
    values: dict[str, object] = {"method": "portal", "checked_on": TODAY, "active": True,
                                 "reference_number": "REF-1", "copay": "40", "deductible": "1,500",
                                 "deductible_met": "400.50", "coinsurance_percent": "20%",
                                 "out_of_pocket_max": "6000", "out_of_pocket_met": "1000", "notes": "Spoke to Ann"}
    values.update(changes)
    return EligibilityInput(**values)  # type: ignore[arg-type]


def add_check(services: Services, policy_id: int, at: datetime, status: EligibilityStatus = EligibilityStatus.ACTIVE,
              rejection: str | None = None) -> None:
    with services.db.session() as session:
        session.add(EligibilityCheck(policy_id=policy_id, checked_at=at, method=VerificationMethod.PHONE,
                                     status=status, rejection=rejection))


# -- the manual log -----------------------------------------------------------------------------------

def test_front_desk_records_a_verification_and_sees_it_in_the_history(services: Services) -> None:
    ids = seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    eligibility = EligibilityService(services.db)
    row = eligibility.record(desk, ids["own"], form())
    (seen,) = eligibility.history(desk, ids["testy"])
    assert seen == row
    assert seen.checked_by == "Test front_desk" and seen.method is VerificationMethod.PORTAL
    assert seen.status is EligibilityStatus.ACTIVE and seen.checked_on == TODAY
    assert (seen.copay, seen.deductible, seen.deductible_met) == (Decimal("40.00"), Decimal("1500.00"),
                                                                  Decimal("400.50"))
    assert seen.coinsurance_percent == Decimal(20) and seen.out_of_pocket_met == Decimal("1000.00")
    assert seen.policy_label == "Fictional Health Plan (primary, member XYZ123456)"
    (status,) = eligibility.policy_status(desk, ids["testy"])
    due = min(TODAY + timedelta(days=30), date(TODAY.year, 12, 31))
    assert status.line == (f"Fictional Health Plan (primary, member XYZ123456): Verified {TODAY:%m/%d/%Y} — "
                           f"due again by {due:%m/%d/%Y}")


def test_history_is_newest_first_and_an_unverified_policy_says_so(services: Services) -> None:
    ids = seed(services)
    nurse = make_actor(services, Role.NURSE)
    eligibility = EligibilityService(services.db)
    eligibility.record(nurse, ids["own"], form(checked_on=TODAY - timedelta(days=3), method="phone"))
    eligibility.record(nurse, ids["own"], form(active=False, method="fax"))
    assert [r.method for r in eligibility.history(nurse, ids["testy"])] == [VerificationMethod.FAX,
                                                                          VerificationMethod.PHONE]
    (kid,) = eligibility.policy_status(nurse, ids["kiddo"])
    assert kid.line.endswith(": Not verified")
    (testy,) = eligibility.policy_status(nurse, ids["testy"])
    assert "Inactive per the check of" in testy.line


@pytest.mark.parametrize(
    ("changes", "subject", "message"),
    [
        ({"copay": "-5"}, "copay", "Copay cannot be negative."),
        ({"deductible": "lots"}, "deductible", "Deductible 'lots' is not an amount"),
        ({"coinsurance_percent": "120"}, "coinsurance_percent", "between 0 and 100%"),
        ({"coinsurance_percent": "a fifth"}, "coinsurance_percent", "is not a percentage"),
        ({"deductible_met": "2000"}, "deductible_met", "Deductible met ($2000.00) is more than the deductible"),
        ({"out_of_pocket_met": "7000"}, "out_of_pocket_met", "more than the out-of-pocket maximum"),
        ({"checked_on": TODAY + timedelta(days=1)}, "checked_on", "is in the future"),
        ({"method": "carrier pigeon"}, "method", "choose portal, phone, fax or 271"),
        ({"reference_number": "R" * 61}, "reference_number", "60 characters"),
    ],
)
def test_bad_input_is_refused_with_the_field_named_and_nothing_saved(
    services: Services, changes: dict[str, object], subject: str, message: str
) -> None:
    ids = seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    eligibility = EligibilityService(services.db)
    with pytest.raises(ValidationFailed) as caught:
        eligibility.record(desk, ids["own"], form(**changes))
    assert [f.subject for f in caught.value.findings] == [subject]
    assert message in caught.value.findings[0].message
    assert eligibility.history(desk, ids["testy"]) == ()


# -- the re-verification rule -------------------------------------------------------------------------

def noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 18, tzinfo=UTC)  # noon in Chicago


@pytest.mark.parametrize(
    ("checked", "status", "day", "expected"),
    [
        (None, EligibilityStatus.ACTIVE, date(2026, 12, 3), "has never been verified"),
        (date(2026, 11, 3), EligibilityStatus.ACTIVE, date(2026, 12, 3), None),  # 30 days: still good
        (date(2026, 11, 2), EligibilityStatus.ACTIVE, date(2026, 12, 3), "more than 30 days before 12/03/2026"),
        (date(2026, 12, 20), EligibilityStatus.ACTIVE, date(2027, 1, 5), "before the new calendar year"),
        (date(2026, 12, 1), EligibilityStatus.INACTIVE, date(2026, 12, 3), "said the coverage was inactive"),
        (date(2026, 12, 1), EligibilityStatus.ERROR, date(2026, 12, 3), "was rejected (Subscriber/insured not found"),
        (date(2026, 12, 5), EligibilityStatus.ACTIVE, date(2026, 12, 3), "has never been verified"),  # after the day
    ],
)
def test_verification_finding(services: Services, checked: date | None, status: EligibilityStatus, day: date,
                              expected: str | None) -> None:
    ids = seed(services)
    if checked is not None:
        add_check(services, ids["own"], noon(checked), status, "Subscriber/insured not found (75).")
    with services.db.session() as session:
        policy = session.get(InsurancePolicy, ids["own"])
        assert policy is not None
        finding = verification_finding(session, policy, day)
        if expected is None:
            assert finding is None
        else:
            assert finding is not None and finding.code == "ELIGIBILITY_UNVERIFIED"
            assert finding.subject == "eligibility" and expected in finding.message
            assert "Fictional Health Plan" in finding.message
        flagged = unverified_policy_ids(session, [(ids["own"], day)])
        assert flagged == (set() if expected is None else {(ids["own"], day)})
        assert verification_findings(session, [(ids["own"], day)]) == (
            {} if finding is None else {(ids["own"], day): finding})


def test_each_payer_has_its_own_window_and_the_latest_check_wins(services: Services) -> None:
    ids = seed(services)
    add_check(services, ids["child"], noon(date(2026, 10, 10)))  # 54 days before 12/03: Imaginary Mutual allows 60
    add_check(services, ids["own"], noon(date(2026, 11, 20)))
    add_check(services, ids["own"], noon(date(2026, 11, 25)), EligibilityStatus.INACTIVE)
    with services.db.session() as session:
        child = session.get(InsurancePolicy, ids["child"])
        own = session.get(InsurancePolicy, ids["own"])
        assert child is not None and own is not None
        assert verification_finding(session, child, date(2026, 12, 3)) is None
        assert verification_finding(session, own, date(2026, 12, 3)) is not None
        latest = latest_check(session, ids["own"])
        assert latest is not None and latest.status is EligibilityStatus.INACTIVE
        assert latest_check(session, 999_999) is None
        assert unverified_policy_ids(session, [(ids["child"], date(2026, 12, 3)), (ids["own"], date(2026, 12, 3)),
                                               (ids["child"], date(2026, 12, 10))]) == {
            (ids["own"], date(2026, 12, 3)), (ids["child"], date(2026, 12, 10))}


# -- 270 export ---------------------------------------------------------------------------------------

def test_export_needs_a_clearinghouse_profile(services: Services) -> None:
    seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    with pytest.raises(ValidationFailed, match="No clearinghouse is set up"):
        EligibilityService(services.db).export_270(desk, days=3, today=TODAY)


def test_export_asks_once_per_policy_and_day_and_validates(services: Services, tmp_path: Path) -> None:
    ids = seed(services)
    profile(services)
    desk = make_actor(services, Role.FRONT_DESK)
    eligibility = EligibilityService(services.db)
    result = eligibility.export_270(desk, days=3, today=TODAY)
    # Testy: day 1 (twice, one inquiry) and day 3; Kiddo: day 2 (day 30 is too far, the cancelled visit is left out).
    assert (result.inquiries, result.patients, result.payers, result.skipped) == (3, 2, 2, ())
    assert result.interchange_control_number == 1
    assert validate(result.text, build_map_directory(tmp_path / "map")) == []
    assert f"TRN*1*P{ids['own']}-{TODAY + timedelta(days=1):%Y%m%d}*1123456789~" in result.text
    assert "NM1*03*1*SAMPLETON*KIDDO~" in result.text and "NM1*IL*1*SAMPLETON*PARENT****MI*IMU-0042~" in result.text
    again = eligibility.export_270(desk, days=3, today=TODAY)
    assert again.interchange_control_number == 2


def test_patients_that_cannot_be_sent_are_listed_with_the_reason(services: Services) -> None:
    ids = seed(services)
    profile(services)
    with services.db.session() as session:
        other = session.get(Payer, ids["other"])
        assert other is not None
        other.payer_id = ""
        session.add(Visit(patient_id=session.get(InsurancePolicy, ids["own"]).patient_id,  # type: ignore[union-attr]
                          date_of_service=TODAY, scheduled_start=datetime.now(UTC),
                          policy_id=ids["own"]))
        own = session.get(InsurancePolicy, ids["own"])
        assert own is not None
        own.termination_date = TODAY
    desk = make_actor(services, Role.FRONT_DESK)
    result = EligibilityService(services.db).export_270(desk, days=3, today=TODAY)
    assert result.inquiries == 1 and result.text.count("TRN*1*") == 1
    reasons = sorted(s.line for s in result.skipped)
    assert reasons == sorted([
        f"Example, Testy (DM0000001) on {TODAY + timedelta(days=1):%m/%d/%Y}: no insurance in force that day (self-pay)",
        f"Example, Testy (DM0000001) on {TODAY + timedelta(days=3):%m/%d/%Y}: no insurance in force that day (self-pay)",
        f"Sampleton, Kiddo (DM0000002) on {TODAY + timedelta(days=2):%m/%d/%Y}: Imaginary Mutual has no clearinghouse "
        "payer ID (payer settings)",
    ])


def test_nothing_to_send_writes_no_file_and_spends_no_number(services: Services) -> None:
    seed(services)
    profile(services)
    desk = make_actor(services, Role.FRONT_DESK)
    result = EligibilityService(services.db).export_270(desk, days=0, today=TODAY + timedelta(days=100))
    assert (result.text, result.inquiries, result.interchange_control_number) == ("", 0, None)
    with pytest.raises(ValidationFailed, match="between 0 and 60"):
        EligibilityService(services.db).export_270(desk, days=61, today=TODAY)


# -- 271 import ---------------------------------------------------------------------------------------

def answer_for_testy(ids: dict[str, int], **kwargs: object) -> str:
    return fixtures_271.subscriber("EXAMPLE", "TESTY", "XYZ123456", date(1960, 1, 2),
                                   trace=f"P{ids['own']}-{TODAY:%Y%m%d}", **kwargs)  # type: ignore[arg-type]


def test_an_answer_is_recorded_with_its_benefits_once(services: Services) -> None:
    ids = seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    eligibility = EligibilityService(services.db)
    text = fixtures_271.response(answer_for_testy(ids), answered=TODAY)
    result = eligibility.import_271(desk, text, "answers.271")
    assert [r.line for r in result.recorded] == ["Example, Testy, Fictional Health Plan (primary, member XYZ123456): active"]
    assert result.summary == "answers.271: 1 recorded, 0 not matched."
    (row,) = eligibility.history(desk, ids["testy"])
    assert row.method is VerificationMethod.X12_271 and row.status is EligibilityStatus.ACTIVE
    assert (row.copay, row.deductible, row.deductible_met) == (Decimal("40.00"), Decimal("1500.00"), Decimal("400.00"))
    assert (row.coinsurance_percent, row.out_of_pocket_max, row.out_of_pocket_met) == (
        Decimal(20), Decimal("6000.00"), Decimal("1000.00"))
    assert row.notes == "271 from FICTIONAL HEALTH PLAN, file answers.271; plan SILVER PPO."
    twice = eligibility.import_271(desk, text, "answers.271")
    assert twice.recorded == () and twice.already_imported == 1
    assert len(eligibility.history(desk, ids["testy"])) == 1
    with services.db.session() as session:
        policy = session.get(InsurancePolicy, ids["own"])
        assert policy is not None and verification_finding(session, policy, TODAY) is None


def test_an_unknown_patient_is_reported_by_name_and_not_recorded(services: Services) -> None:
    ids = seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    stranger = fixtures_271.subscriber("NOBODY", "KNOWN", "ZZZ999", date(1950, 1, 1), trace="93175-012547")
    result = EligibilityService(services.db).import_271(
        desk, fixtures_271.response(answer_for_testy(ids), stranger, answered=TODAY), "two.271")
    assert len(result.recorded) == 1
    (message,) = result.unmatched
    assert message.startswith("NOBODY, KNOWN (member ZZZ999, born 01/01/1950) from FICTIONAL HEALTH PLAN: "
                              "no patient on file matches; not recorded.")
    with services.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(EligibilityCheck)) == 1


def test_only_unknown_patients_records_nothing(services: Services) -> None:
    seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    stranger = fixtures_271.subscriber("NOBODY", "KNOWN", "ZZZ999", date(1950, 1, 1))
    result = EligibilityService(services.db).import_271(desk, fixtures_271.response(stranger, answered=TODAY), "x")
    assert result.recorded == () and len(result.unmatched) == 1
    with services.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(EligibilityCheck)) == 0


def test_without_our_trace_the_member_id_name_and_birth_date_match(services: Services) -> None:
    ids = seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    no_trace = fixtures_271.subscriber("Example", "Testy", "xyz123456", date(1960, 1, 2))
    wrong_birth = fixtures_271.subscriber("Example", "Testy", "XYZ123456", date(1961, 1, 2))
    result = EligibilityService(services.db).import_271(
        desk, fixtures_271.response(no_trace, wrong_birth, answered=TODAY), "portal.271")
    assert [r.patient_id for r in result.recorded] == [ids["testy"]]
    assert len(result.unmatched) == 1 and "born 01/02/1961" in result.unmatched[0]


def test_a_rejection_is_recorded_as_an_error_and_flags_the_policy(services: Services) -> None:
    ids = seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    eligibility = EligibilityService(services.db)
    rejected = answer_for_testy(ids, benefits="AAA*N**72*C~")
    result = eligibility.import_271(desk, fixtures_271.response(rejected, answered=TODAY), "r.271")
    (answer,) = result.recorded
    assert answer.status is EligibilityStatus.ERROR
    assert answer.line.endswith("rejected — Invalid/missing subscriber/insured ID (72). Please correct and resubmit.")
    assert "1 of them rejected by the payer" in result.summary
    (row,) = eligibility.history(desk, ids["testy"])
    assert row.rejection == "Invalid/missing subscriber/insured ID (72). Please correct and resubmit."
    with services.db.session() as session:
        policy = session.get(InsurancePolicy, ids["own"])
        assert policy is not None
        finding = verification_finding(session, policy, TODAY)
        assert finding is not None and "was rejected" in finding.message


def test_provider_level_rejections_are_reported(services: Services) -> None:
    seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    text = Path("/work/shared/x12-samples/271/stupidedi__X279A1-error-response-from-payer-to-clinic-not-eligible-"
                "for-inquiries-with-payer.edi").read_text()
    result = EligibilityService(services.db).import_271(desk, text, "error.edi")
    assert result.rejected == ("ABC COMPANY rejected the inquiry (provider level): Provider ineligible for "
                               "inquiries (50). Resubmission not allowed.",)
    assert result.recorded == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("hello", "does not start with an ISA"),
        (fixtures_271.response(fixtures_271.subscriber("A", "B", "C", date(1960, 1, 2)), answered=TODAY)[:-40],
         "truncated"),
        (Path("/work/shared/x12-samples/270/lfh__subscriber-health-benefit-check.270").read_text(),
         "eligibility inquiry (270)"),
    ],
)
def test_a_malformed_file_records_nothing_and_the_manual_log_still_works(
    services: Services, text: str, message: str
) -> None:
    ids = seed(services)
    desk = make_actor(services, Role.FRONT_DESK)
    eligibility = EligibilityService(services.db)
    good = fixtures_271.response(answer_for_testy(ids), answered=TODAY)
    with pytest.raises(ValidationFailed) as caught:
        eligibility.import_271(desk, text + good if message == "truncated" else text, "bad.271")
    (finding,) = caught.value.findings
    assert finding.message.startswith("bad.271 cannot be read as a 271: ") and message in finding.message
    assert eligibility.history(desk, ids["testy"]) == ()
    eligibility.record(desk, ids["own"], form())
    assert len(eligibility.history(desk, ids["testy"])) == 1
