"""The claim scrubber's rules over fictional claims (pure: no database, no Qt).

Each rule is tested firing and not firing from one clean claim changed in one place; the
comment on each case names the source of the rule (coding-rules.md § or x12.md §).
"""

from __future__ import annotations

import re
import time
import warnings
from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from infusion_desk.billing.catalog import drug_by_hcpcs
from infusion_desk.billing.claim_data import (
    Address,
    BillingProvider,
    ClaimData,
    ClaimLineData,
    Ndc,
    OtherPayer,
    PatientData,
    PayerData,
    PersonName,
    Provider,
    Subscriber,
)
from infusion_desk.billing.coding_input import CodingTables
from infusion_desk.billing.findings import Finding, Level
from infusion_desk.billing.scrubber import (
    RULES,
    SUBJECTS,
    AuthorizationFacts,
    BilledLine,
    ScrubContext,
    fix_target,
    load_covered_diagnoses,
    scrub,
)

D = Decimal
DOS = date(2026, 11, 2)
TODAY = date(2026, 11, 20)
INFLIXIMAB_VIAL = "57894003001"  # Remicade 100 mg vial, resources/drug_catalog.json
GAMMAGARD_VIAL = "00944270002"  # a J1569 package: an NDC of another drug
ONDANSETRON_VIAL = "00143989001"  # J2405, multi-dose vial
HOME = Address("12 Elm St", "Springfield", "IL", "62701")


def line(
    number: int,
    code: str,
    units: str = "1",
    charge: str = "100.00",
    pointers: tuple[int, ...] = (1,),
    modifiers: tuple[str, ...] = (),
    ndc: Ndc | None = None,
    day: date = DOS,
    authorization: str | None = None,
) -> ClaimLineData:
    return ClaimLineData(
        line_number=number,
        control_number=f"C0000001L{number:02d}",
        service_date=day,
        code=code,
        units=D(units),
        charge=D(charge),
        diagnosis_pointers=pointers,
        modifiers=modifiers,
        ndc=ndc,
        prior_authorization=authorization,
    )


def drug_line(number: int = 2, units: str = "40", modifiers: tuple[str, ...] = ("JZ",), **kw: Any) -> ClaimLineData:
    kw.setdefault("ndc", Ndc(INFLIXIMAB_VIAL, D(4), "UN"))
    return line(number, "J1745", units, "3420.00", modifiers=modifiers, **kw)


PATIENT = PatientData(PersonName("Testpatient", "Ann"), date(1970, 5, 1), "F", HOME, "M0000001")
CLEAN = ClaimData(
    claim_number="C0000001",
    responsibility="P",
    frequency_code="1",
    place_of_service="11",
    billing=BillingProvider(
        "Fictional Infusion Clinic",
        "1234567893",
        "12-3456789",
        "261QM1300X",
        Address("1 Main St", "Springfield", "IL", "627011234"),
    ),
    payer=PayerData("Fictional Health Plan", "FHP01"),
    subscriber=Subscriber(PATIENT.name, "MEMBER0001", PATIENT.birth_date, "F", HOME),
    relationship_code="18",
    patient=PATIENT,
    filing_indicator="CI",
    diagnoses=("K5090",),
    lines=(line(1, "96413", charge="350.00"), drug_line()),
    rendering=Provider(PersonName("Doctor", "Dana"), "1245319599"),
    prior_authorization="PA-123",
)
AUTH = AuthorizationFacts(
    "PA-123", "approved", date(2026, 11, 1), date(2027, 1, 31), frozenset({"J1745"}), D(120), None
)
CONTEXT = ScrubContext(
    today=TODAY,
    tables=CodingTables(),
    authorization_codes=frozenset({"J1745"}),
    authorizations=(AUTH,),
    last_verified=date(2026, 10, 30),
    reverify_days=30,
    timely_filing_days=90,
    drug_ndcs={
        "J1745": frozenset({INFLIXIMAB_VIAL, "57894016001"}),
        "J1569": frozenset({GAMMAGARD_VIAL}),
        "J2405": frozenset({ONDANSETRON_VIAL}),
        "J2930": frozenset(),
    },
    waste_modifiers="jw_jz",
    single_dose_codes=frozenset({"J1745", "J1569", "J2930"}),
    covered_diagnoses={"J1745": ("K50", "K51", "M05", "M06")},
    billed_elsewhere=(),
)


def claim_with(*lines: ClaimLineData, **changes: Any) -> ClaimData:
    return replace(CLEAN, lines=lines or CLEAN.lines, **changes)


def found(findings: Any) -> list[tuple[str, str, str]]:
    return [(f.level.value, f.code, f.subject) for f in findings]


def run(rule_name: str, claim: ClaimData = CLEAN, **context: Any) -> list[Finding]:
    rule = dict(RULES)[rule_name]
    return list(rule(claim, replace(CONTEXT, **context)))


E, W = "error", "warning"


# --- the whole scrub ------------------------------------------------------------------------------


def test_a_clean_claim_has_no_findings() -> None:
    assert scrub(CLEAN, CONTEXT) == ()


def test_the_registry_lists_every_rule_once_in_display_order() -> None:
    # The UI and the lead's claim service show findings in this order; a change is deliberate.
    assert [name for name, _ in RULES] == [
        "authorization",
        "eligibility",
        "patient_and_subscriber",
        "billing_provider",
        "diagnoses",
        "diagnosis_support",
        "mue",
        "ncci",
        "ndc",
        "waste_modifiers",
        "duplicates",
        "timely_filing",
        "charges",
        "providers",
        "frequency",
    ]
    assert len({rule for _, rule in RULES}) == len(RULES)


def test_errors_come_before_warnings_and_keep_registry_order() -> None:
    claim = claim_with(
        line(1, "96413", charge="0.00"), drug_line(modifiers=()), diagnoses=("E119",)
    )
    findings = scrub(claim, replace(CONTEXT, last_verified=date(2026, 1, 1)))
    assert [f.code for f in findings] == [
        "WASTE_MODIFIER_MISSING",
        "CHARGE_NOT_POSITIVE",
        "ELIGIBILITY_STALE",
        "DIAGNOSIS_NOT_COVERED",
    ]


def test_every_finding_names_a_fix_place_a_stable_code_and_a_plain_message() -> None:
    # A claim wrong in nearly every way: every subject maps to a screen, codes are UPPER_SNAKE.
    broken = ClaimData(
        claim_number="C0000099",
        responsibility="S",
        frequency_code="7",
        place_of_service="11",
        billing=BillingProvider("", "123", "1", "X", Address("PO Box 5", "", "ZZ", "1")),
        payer=PayerData("Fictional Medicare", ""),
        subscriber=Subscriber(PersonName("", ""), "", None, "U", None),
        relationship_code="01",
        patient=PatientData(PersonName("", ""), date(2030, 1, 1), "U", Address("", "", "", ""), "M1"),
        filing_indicator="MB",
        diagnoses=("K509", "XYZ"),
        lines=(
            line(1, "96413", units="0", charge="-1.00", pointers=(), ndc=Ndc("1", D(0), "MG"), modifiers=("JZ",)),
            drug_line(units="200", modifiers=("JW", "JZ"), pointers=(3, 1, 2, 4, 5), ndc=Ndc("123", D(-1), "XX")),
        ),
        rendering=Provider(PersonName("Doctor", "Dana"), "1245319590"),
        ordering=Provider(PersonName("Doctor", "Orin"), "12"),
        prior_authorization="PA-WRONG",
    )
    context = replace(
        CONTEXT,
        today=date(2027, 6, 1),
        last_verified=None,
        tables=CodingTables(mue={"J1745": 150}, ncci_pairs={("J1745", "96413"): 0}),
        authorizations=(replace(AUTH, remaining_units=D(10)),),
        billed_elsewhere=(BilledLine("C0000042", "", DOS, "96413", ("JZ",), D(1)),),
    )
    findings = scrub(broken, context)
    assert len(findings) > 25
    for finding in findings:
        target, _, where = finding.subject.partition(":")
        assert target in SUBJECTS, finding
        assert fix_target(finding) == target
        assert where == "" or where.isdigit(), finding
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", finding.code), finding
        assert finding.message.endswith("."), finding
        assert "None" not in finding.message, finding
    covered = {name for name, rule in RULES if any(f in findings for f in rule(broken, context))}
    assert covered >= {name for name, _ in RULES} - {"eligibility", "timely_filing", "diagnosis_support"}


def test_a_claim_without_lines_gets_one_finding_and_no_crash() -> None:
    # x12.md §2: a claim needs at least one 2400 service line.
    assert found(scrub(replace(CLEAN, lines=()), CONTEXT)) == [(E, "CLAIM_NO_LINES", "coding")]


@pytest.mark.parametrize(
    ("subject", "target"),
    [
        ("coding:3", "coding"),
        ("claim", "claim"),
        ("authorization:2", "authorization"),
        ("drug_catalog:1", "drug_catalog"),
        ("", "claim"),
        ("policy:4.member_id", "claim"),  # not the scrubber's vocabulary: the claim screen shows it
    ],
)
def test_fix_target_is_the_subject_before_the_colon(subject: str, target: str) -> None:
    assert fix_target(Finding(Level.ERROR, "X", "x.", subject)) == target


def test_scrub_is_fast_enough_for_a_batch_of_5000_claims() -> None:
    # 5,000 claims are built, scrubbed and exported in under 5 s: scrubbing gets well under 0.3 ms.
    context = replace(CONTEXT, covered_diagnoses=load_covered_diagnoses())
    scrub(CLEAN, context)  # loads the ICD-10-CM code set once
    claims = [replace(CLEAN, claim_number=f"C{n:07d}") for n in range(2000)]
    start = time.perf_counter()
    for claim in claims:
        scrub(claim, context)
    per_claim = (time.perf_counter() - start) / len(claims)
    assert per_claim < 0.001, f"{per_claim * 1000:.3f} ms per claim"  # generous: shared CI machines


# --- 1. authorization -----------------------------------------------------------------------------
# Codes and meanings agree with check-in (services/authorizations.py authorization_findings);
# REF*G1 carries the number (x12.md §2, 2300/2400 REF*G1).

later = replace(AUTH, number="PA-200", valid_from=date(2026, 12, 1), valid_to=date(2027, 3, 1))


@pytest.mark.parametrize(
    ("authorizations", "claim", "codes", "expected"),
    [
        pytest.param((AUTH,), CLEAN, {"J1745"}, [], id="approved-covers"),
        pytest.param((), CLEAN, frozenset(), [], id="payer-wants-no-authorization"),
        pytest.param((), CLEAN, {"J1745"}, [(E, "AUTH_MISSING", "authorization:2")], id="none-on-file"),
        pytest.param(
            (replace(AUTH, codes=frozenset({"J3380"})),),
            CLEAN,
            {"J1745"},
            [(E, "AUTH_MISSING", "authorization:2")],
            id="only-for-another-drug",
        ),
        pytest.param((later,), CLEAN, {"J1745"}, [(E, "AUTH_MISSING", "authorization:2")], id="starts-later"),
        pytest.param(
            (replace(AUTH, status="pending"),), CLEAN, {"J1745"}, [(E, "AUTH_PENDING", "authorization:2")],
            id="pending",
        ),
        pytest.param(
            (replace(AUTH, status="requested"),), CLEAN, {"J1745"}, [(E, "AUTH_PENDING", "authorization:2")],
            id="requested",
        ),
        pytest.param(
            (replace(AUTH, status="denied"),), CLEAN, {"J1745"}, [(E, "AUTH_DENIED", "authorization:2")],
            id="denied",
        ),
        pytest.param(
            (replace(AUTH, status="expired"),), CLEAN, {"J1745"}, [(E, "AUTH_EXPIRED", "authorization:2")],
            id="marked-expired",
        ),
        pytest.param(
            (replace(AUTH, valid_from=date(2026, 1, 1), valid_to=date(2026, 10, 31)),),
            CLEAN,
            {"J1745"},
            [(E, "AUTH_EXPIRED", "authorization:2")],
            id="ended-before-the-service",
        ),
        pytest.param((replace(AUTH, remaining_units=D(40)),), CLEAN, {"J1745"}, [], id="exactly-the-units-left"),
        pytest.param(
            (replace(AUTH, remaining_units=D(39)),), CLEAN, {"J1745"}, [(E, "AUTH_UNITS", "authorization:2")],
            id="one-unit-short",
        ),
        pytest.param(
            # authorizations.py: JW waste counts against the approved units
            (replace(AUTH, remaining_units=D(39)),),
            claim_with(line(1, "96413"), drug_line(units="37", modifiers=()), drug_line(3, "3", ("JW",))),
            {"J1745"},
            [(E, "AUTH_UNITS", "authorization:2")],
            id="waste-line-counts",
        ),
        pytest.param(
            (replace(AUTH, remaining_units=None, remaining_visits=1),), CLEAN, {"J1745"}, [], id="last-visit-left"
        ),
        pytest.param(
            (replace(AUTH, remaining_units=None, remaining_visits=0),),
            CLEAN,
            {"J1745"},
            [(E, "AUTH_VISITS", "authorization:2")],
            id="no-visits-left",
        ),
        pytest.param(
            (AUTH,), replace(CLEAN, prior_authorization=None), {"J1745"}, [(E, "AUTH_NUMBER", "authorization:2")],
            id="claim-carries-no-number",
        ),
        pytest.param(
            (AUTH,), replace(CLEAN, prior_authorization="PA-999"), {"J1745"},
            [(E, "AUTH_NUMBER", "authorization:2")], id="claim-carries-another-number",
        ),
        pytest.param(
            (AUTH,),
            claim_with(line(1, "96413"), drug_line(authorization="PA-123"), prior_authorization="PA-OTHER"),
            {"J1745"},
            [],
            id="line-level-number-wins",
        ),
        pytest.param(
            # two approved authorizations overlap: the one the claim names is the one drawn down
            (replace(AUTH, remaining_units=D(0)), replace(AUTH, number="PA-124", remaining_units=D(40))),
            replace(CLEAN, prior_authorization="PA-124"),
            {"J1745"},
            [],
            id="overlapping-uses-the-named-one",
        ),
    ],
)
def test_authorization(authorizations, claim, codes, expected) -> None:
    findings = run("authorization", claim, authorizations=authorizations, authorization_codes=frozenset(codes))
    assert found(findings) == expected


def test_authorization_messages_say_which_line_what_is_wrong_and_how_to_fix_it() -> None:
    claim = claim_with(line(1, "96413"), drug_line(units="60"))
    (finding,) = run("authorization", claim, authorizations=(replace(AUTH, remaining_units=D(40)),))
    assert finding.message == (
        "Line 2 J1745: 60 units exceed authorization PA-123's 40 remaining units. "
        "Ask the payer to extend the authorization or correct the units."
    )
    (missing,) = run("authorization", authorizations=(later,))
    assert "11/02/2026" in missing.message and "PA-200 starts on 12/01/2026" in missing.message
    (lapsed,) = run("authorization", authorizations=(replace(AUTH, valid_to=date(2026, 11, 1)),))
    assert "PA-123 expired on 11/01/2026" in lapsed.message


def test_a_drug_and_its_waste_line_give_one_authorization_finding() -> None:
    claim = claim_with(line(1, "96413"), drug_line(units="37", modifiers=()), drug_line(3, "3", ("JW",)))
    (finding,) = run("authorization", claim, authorizations=())
    assert finding.message.startswith("Lines 2 and 3 J1745: no approved prior authorization")


# --- 2. eligibility --------------------------------------------------------------------------------
# DOMAIN.md step 1 (verification before the visit); payer setting reverify_days.


@pytest.mark.parametrize(
    ("last_verified", "expected"),
    [
        (None, [(E, "ELIGIBILITY_NOT_VERIFIED", "eligibility")]),
        (DOS - timedelta(days=31), [(W, "ELIGIBILITY_STALE", "eligibility")]),
        (DOS - timedelta(days=30), []),  # the window's first day still counts
        (DOS, []),
        (DOS + timedelta(days=5), []),  # verified after the visit: coverage was active when asked
    ],
)
def test_eligibility(last_verified: date | None, expected) -> None:
    assert found(run("eligibility", last_verified=last_verified)) == expected


def test_stale_eligibility_message_gives_the_dates() -> None:
    (finding,) = run("eligibility", last_verified=date(2026, 9, 1))
    assert "09/01/2026" in finding.message and "11/02/2026" in finding.message


# --- 3. patient, subscriber and billing provider ---------------------------------------------------
# x12.md §2 (2010BA/2010CA demographics, SBR05, SBR09, 2010AA 9-digit ZIP, no PO box);
# codes agree with the front desk's services.patients.claim_data_findings.

spouse = Subscriber(PersonName("Testspouse", "Sam"), "MEMBER0001", date(1968, 2, 2), "M", HOME)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({"patient": replace(PATIENT, name=PersonName("", "Ann"))}, ["CLAIM_PATIENT_NAME"], id="name"),
        pytest.param({"patient": replace(PATIENT, birth_date=date(2027, 1, 1))}, ["CLAIM_PATIENT_BIRTH_DATE"],
                     id="born-in-the-future"),
        pytest.param({"patient": replace(PATIENT, sex="U")}, ["CLAIM_PATIENT_SEX"], id="sex-unknown"),
        pytest.param({"patient": replace(PATIENT, address=replace(HOME, zip_code="6270"))},
                     ["CLAIM_PATIENT_ADDRESS"], id="zip-4-digits"),
        pytest.param({"patient": replace(PATIENT, address=replace(HOME, zip_code="627011234"))}, [], id="zip-plus-4"),
        pytest.param({"patient": replace(PATIENT, address=replace(HOME, state="XX"))}, ["CLAIM_PATIENT_ADDRESS"],
                     id="state-unknown"),
        pytest.param({"patient": replace(PATIENT, address=replace(HOME, line1=" "))}, ["CLAIM_PATIENT_ADDRESS"],
                     id="street-missing"),
        pytest.param({"subscriber": replace(CLEAN.subscriber, member_id="")}, ["CLAIM_MEMBER_ID"], id="member-id"),
        pytest.param({"payer": PayerData("Fictional Health Plan", "")}, ["CLAIM_PAYER_ID"], id="payer-id"),
        pytest.param({"relationship_code": "01", "subscriber": spouse}, [], id="spouse-complete"),
        pytest.param({"relationship_code": "01", "subscriber": replace(spouse, birth_date=None, sex="U")},
                     ["CLAIM_SUBSCRIBER"], id="spouse-without-birth-date-and-sex"),
        pytest.param({"relationship_code": "19", "subscriber": replace(spouse, address=None)},
                     ["CLAIM_SUBSCRIBER"], id="parent-without-address"),
        # the patient is the subscriber: 2010BA demographics are the patient's own
        pytest.param({"subscriber": replace(CLEAN.subscriber, address=None)}, [], id="self-no-policy-address"),
        pytest.param({"filing_indicator": "MB", "responsibility": "S"}, ["CLAIM_SBR05"], id="medicare-secondary"),
        pytest.param({"filing_indicator": "MB", "responsibility": "T", "medicare_secondary_type": "99"},
                     ["CLAIM_SBR05"], id="medicare-tertiary-bad-sbr05"),
        pytest.param({"filing_indicator": "MB", "responsibility": "S", "medicare_secondary_type": "12"}, [],
                     id="medicare-secondary-working-aged"),
        pytest.param({"filing_indicator": "MB", "responsibility": "P"}, [], id="medicare-primary"),
        pytest.param({"filing_indicator": "CI", "responsibility": "S"}, [], id="commercial-secondary"),
        pytest.param({"filing_indicator": ""}, ["CLAIM_SBR09"], id="sbr09-missing"),
    ],
)
def test_patient_and_subscriber(changes: dict[str, Any], expected: list[str]) -> None:
    findings = run("patient_and_subscriber", replace(CLEAN, **changes))
    assert [f.code for f in findings] == expected
    assert all(f.level is Level.ERROR for f in findings)
    assert all(f.subject in ("patient", "subscriber") for f in findings)


def test_filing_indicator_zz_is_a_warning() -> None:
    assert found(run("patient_and_subscriber", replace(CLEAN, filing_indicator="ZZ"))) == [
        (W, "CLAIM_SBR09", "subscriber")
    ]


def test_subscriber_gaps_are_named_in_one_message() -> None:
    claim = replace(CLEAN, relationship_code="01", subscriber=replace(spouse, birth_date=None, sex="U"))
    (finding,) = run("patient_and_subscriber", claim)
    assert "date of birth and sex" in finding.message


@pytest.mark.parametrize(
    ("billing", "expected"),
    [
        pytest.param({"npi": "1234567890"}, ["CLAIM_BILLING_NPI"], id="npi-check-digit"),
        pytest.param({"npi": ""}, ["CLAIM_BILLING_NPI"], id="npi-missing"),
        pytest.param({"tin": "12-34"}, ["CLAIM_BILLING_TIN"], id="tin"),
        pytest.param({"taxonomy": "261QM1300"}, ["CLAIM_BILLING_TAXONOMY"], id="taxonomy"),
        pytest.param({"name": " "}, ["CLAIM_BILLING_NAME"], id="name"),
        pytest.param({"address": Address("1 Main St", "Springfield", "IL", "62701")}, ["CLAIM_BILLING_ZIP"],
                     id="zip-5-digits"),
        pytest.param({"address": Address("1 Main St", "", "IL", "62701")},
                     ["CLAIM_BILLING_ADDRESS", "CLAIM_BILLING_ZIP"], id="city-and-zip"),
        pytest.param({"address": Address("P.O. Box 12", "Springfield", "IL", "627011234")},
                     ["CLAIM_BILLING_ADDRESS"], id="po-box"),
        pytest.param({"address": Address("1 Boxwood Rd", "Springfield", "IL", "627011234")}, [], id="not-a-po-box"),
    ],
)
def test_billing_provider(billing: dict[str, Any], expected: list[str]) -> None:
    findings = run("billing_provider", replace(CLEAN, billing=replace(CLEAN.billing, **billing)))
    assert [f.code for f in findings] == expected
    assert all(f.subject == "clinic" and f.blocks for f in findings)


# --- 4. diagnoses ------------------------------------------------------------------------------------
# x12.md §2: HI carries up to 12 ICD-10-CM codes; SV107 up to 4 pointers, each 1-12.


@pytest.mark.parametrize(
    ("diagnoses", "lines", "expected"),
    [
        pytest.param(("K5090", "M0579"), CLEAN.lines, [], id="billable"),
        pytest.param((), (line(1, "96413", pointers=()),), [(E, "DIAGNOSIS_MISSING", "order")], id="none"),
        pytest.param(("K5X",), CLEAN.lines, [(E, "ICD10_UNKNOWN", "order")], id="not-a-code"),
        pytest.param(("K509",), CLEAN.lines, [(E, "ICD10_NOT_BILLABLE", "order")], id="category-header"),
        pytest.param(
            ("K5090",), (line(1, "96413", pointers=(1, 2)),), [(E, "DIAGNOSIS_POINTER", "coding:1")],
            id="points-past-the-list",
        ),
        pytest.param(
            ("K5090",), (line(1, "96413", pointers=(0,)),), [(E, "DIAGNOSIS_POINTER", "coding:1")], id="zero"
        ),
        pytest.param(
            ("K5090",), (line(1, "96413", pointers=()),), [(E, "DIAGNOSIS_POINTER_MISSING", "coding:1")],
            id="no-pointer",
        ),
        pytest.param(
            ("K5090", "K5010", "K5000", "K5080", "K50111"),
            (line(1, "96413", pointers=(1, 2, 3, 4, 5)),),
            [(E, "DIAGNOSIS_POINTER", "coding:1")],
            id="five-pointers",
        ),
    ],
)
def test_diagnoses(diagnoses, lines, expected) -> None:
    assert found(run("diagnoses", replace(CLEAN, diagnoses=diagnoses, lines=lines))) == expected


def test_diagnosis_messages_name_the_code() -> None:
    (unknown,) = run("diagnoses", replace(CLEAN, diagnoses=("K5X",)))
    assert "'K5X'" in unknown.message and unknown.message.startswith("Diagnosis 1")
    (header,) = run("diagnoses", replace(CLEAN, diagnoses=("K509",)))
    assert "K50.9" in header.message and "K50.90" in header.message


def test_more_than_twelve_diagnoses() -> None:
    codes = ("K5090", "K5010", "K5000", "K5080", "K50111", "K50112", "K50113", "K50114", "K50118",
             "K50119", "K50811", "K50812", "K50813")
    assert [f.code for f in run("diagnoses", replace(CLEAN, diagnoses=codes))] == ["DIAGNOSIS_TOO_MANY"]


# --- 5. drug and diagnosis ----------------------------------------------------------------------------
# resources/covered_diagnoses.json: FDA-labelled indications as ICD-10-CM prefixes; a warning only.


@pytest.mark.parametrize(
    ("diagnoses", "lines", "expected"),
    [
        pytest.param(("K5090",), CLEAN.lines, [], id="crohns-exact-prefix"),
        pytest.param(("M0579",), CLEAN.lines, [], id="ra-by-prefix"),
        pytest.param(("E119",), CLEAN.lines, [(W, "DIAGNOSIS_NOT_COVERED", "order:2")], id="diabetes"),
        pytest.param(
            ("E119", "K5090"), (line(1, "96413"), drug_line(pointers=(1, 2))), [], id="second-pointer-covers"
        ),
        pytest.param(
            ("E119", "K5090"),
            (line(1, "96413"), drug_line(pointers=(1,))),
            [(W, "DIAGNOSIS_NOT_COVERED", "order:2")],
            id="covered-code-not-pointed-to",
        ),
        pytest.param(("E119",), (line(1, "J1100", pointers=(1,)),), [], id="drug-without-a-list"),
        pytest.param(
            ("E119",),
            (drug_line(1, units="37", modifiers=()), drug_line(2, units="3", modifiers=("JW",))),
            [(W, "DIAGNOSIS_NOT_COVERED", "order:1")],
            id="drug-and-waste-line-warn-once",
        ),
    ],
)
def test_diagnosis_support(diagnoses, lines, expected) -> None:
    assert found(run("diagnosis_support", replace(CLEAN, diagnoses=diagnoses, lines=lines))) == expected


def test_diagnosis_support_message_names_the_diagnosis_and_the_list() -> None:
    (finding,) = run("diagnosis_support", replace(CLEAN, diagnoses=("E119",)))
    assert finding.message.startswith("Line 2 J1745: its diagnosis E11.9 is not among")
    assert "K50, K51, M05, M06" in finding.message


# --- covered_diagnoses.json ----------------------------------------------------------------------------


def test_the_shipped_covered_list_covers_the_catalog_biologics() -> None:
    covered = load_covered_diagnoses()
    assert {"K50", "K51", "M05", "M06", "M45", "L405", "L400"} <= set(covered["J1745"])
    assert covered["J2350"] == ("G35",)
    assert set(covered) <= set(drug_by_hcpcs()), "an entry for a drug the catalog does not have"
    assert "J7030" not in covered  # saline: no list, so never a warning
    assert all(re.fullmatch(r"[A-Z][0-9A-Z]{0,6}", p) for prefixes in covered.values() for p in prefixes)


def test_every_shipped_prefix_starts_a_billable_icd10_code() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import simple_icd_10_cm as icd
    billable = [c for c in icd.get_all_codes(False) if icd.is_leaf(c)]
    for hcpcs, prefixes in load_covered_diagnoses().items():
        for prefix in prefixes:
            assert any(code.startswith(prefix) for code in billable), f"{hcpcs}: {prefix}"


def test_the_shipped_list_is_read_once_and_callers_get_their_own_copy() -> None:
    first = load_covered_diagnoses()
    first["J1745"] = ()
    assert load_covered_diagnoses()["J1745"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"covered_diagnoses\.json: not valid JSON"),
        ("[]", r'top level must be an object with a "drugs" list'),
        ('{"version": "1"}', r'"drugs" list'),
        ('{"drugs": ["J1745"]}', r"drugs\[0\]: must be an object"),
        ('{"drugs": [{"codes": {"K50": ""}}]}', r"drugs\[0\]: hcpcs None is not a HCPCS"),
        ('{"drugs": [{"hcpcs": "1745", "codes": {"K50": ""}}]}', r"drugs\[0\]: hcpcs '1745'"),
        (
            '{"drugs": [{"hcpcs": "J1745", "codes": {"K50": ""}}, {"hcpcs": "j1745", "codes": {"K51": ""}}]}',
            r"drugs\[1\] \(J1745\): J1745 is listed twice",
        ),
        ('{"drugs": [{"hcpcs": "J3380", "codes": {}}]}', r'drugs\[0\] \(J3380\): "codes" must be a non-empty'),
        ('{"drugs": [{"hcpcs": "J3380", "codes": ["K50"]}]}', r'drugs\[0\] \(J3380\): "codes" must be'),
        ('{"drugs": [{"hcpcs": "J3380", "codes": {"K-50": ""}}]}', r"\(J3380\): 'K-50' is not an ICD-10-CM"),
        ('{"drugs": [{"hcpcs": "J3380", "codes": {"K50": 5}}]}', r"\(J3380\): the indication of 'K50' must be text"),
    ],
)
def test_a_malformed_covered_list_is_refused_naming_the_entry(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        load_covered_diagnoses(text)


def test_covered_list_codes_may_be_written_with_the_dot() -> None:
    text = '{"drugs": [{"hcpcs": "j0129", "codes": {"L40.5": "psoriatic arthritis", "m05": "RA"}}]}'
    assert load_covered_diagnoses(text) == {"J0129": ("L405", "M05")}


# --- 6. MUE -------------------------------------------------------------------------------------------
# coding-rules §17: all units of a code on one date of service (MAI 2/3) against the MUE value.

MUE = CodingTables(mue={"96361": 8})
other_claim = BilledLine("C0000042", "FHP01", DOS, "96361", (), D(4))


@pytest.mark.parametrize(
    ("lines", "elsewhere", "expected"),
    [
        pytest.param((line(1, "96360"), line(2, "96361", "8")), (), [], id="at-the-limit"),
        pytest.param((line(1, "96360"), line(2, "96361", "9")), (), [(E, "MUE_EXCEEDED", "coding:2")], id="over"),
        pytest.param(
            (line(1, "96360"), line(2, "96361", "5"), line(3, "96361", "4", modifiers=("59",))),
            (),
            [(E, "MUE_EXCEEDED", "coding:2")],
            id="summed-over-lines",
        ),
        pytest.param(
            (line(1, "96361", "5"), line(2, "96361", "4", day=DOS + timedelta(days=1))), (), [],
            id="different-dates",
        ),
        pytest.param((line(1, "96361", "5"),), (other_claim,), [(E, "MUE_EXCEEDED", "coding:1")],
                     id="with-another-claim-of-the-day"),
        pytest.param((line(1, "96361", "5"),), (replace(other_claim, payer_id="OTHER"),), [],
                     id="another-payer's-claim"),
        pytest.param((line(1, "96413", "9"),), (), [], id="code-without-an-mue"),
    ],
)
def test_mue(lines, elsewhere, expected) -> None:
    findings = run("mue", replace(CLEAN, lines=lines), tables=MUE, billed_elsewhere=elsewhere)
    assert found(findings) == expected


def test_mue_message_gives_units_limit_and_other_claim() -> None:
    (finding,) = run("mue", replace(CLEAN, lines=(line(1, "96361", "5"),)), tables=MUE, billed_elsewhere=(other_claim,))
    assert "5 units on 11/02/2026 plus 4 on claim C0000042 exceed" in finding.message
    assert "edit of 8 per day" in finding.message


# MAI 1 (coding-rules §17): the limit applies to each claim line on its own, never summed.
MUE_PER_LINE = CodingTables(mue={"J1745": 100}, mue_mai={"J1745": 1})


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param((line(1, "J1745", "60"), line(2, "J1745", "50", modifiers=("JW",))), [], id="each-line-under"),
        pytest.param((line(1, "J1745", "101"),), [(E, "MUE_EXCEEDED", "coding:1")], id="one-line-over"),
    ],
)
def test_mue_with_a_per_line_indicator(lines, expected) -> None:
    findings = run("mue", replace(CLEAN, lines=lines), tables=MUE_PER_LINE)
    assert found(findings) == expected
    if findings:
        assert "edit of 100 on one line" in findings[0].message


def test_the_reference_mue_table_carries_its_adjudication_indicators() -> None:
    from infusion_desk.billing.edits import reference_tables

    tables = reference_tables()
    assert tables.mue_mai.get("96361") == 3  # resources/mue_practitioner.csv


# --- 7. NCCI --------------------------------------------------------------------------------------------
# coding-rules §16 (pairs and indicators) and §15 (59/X{EPSU} on the column-2 code; 25 on an E/M).

NCCI = CodingTables(
    ncci_pairs={
        ("96365", "36000"): 1,
        ("96365", "99213"): 1,
        ("96413", "96409"): 0,  # fictional indicator-0 pair for the test
        ("96365", "96374"): 9,  # deleted pair
    }
)


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param((line(1, "96365"), line(2, "36000")), [(E, "NCCI_MODIFIER_NEEDED", "coding:2")], id="bare"),
        pytest.param((line(1, "36000"), line(2, "96365")), [(E, "NCCI_MODIFIER_NEEDED", "coding:1")],
                     id="column-2-listed-first"),
        pytest.param((line(1, "96365"), line(2, "36000", modifiers=("XU",))), [], id="XU"),
        pytest.param((line(1, "96365"), line(2, "36000", modifiers=("59",))), [], id="59"),
        pytest.param((line(1, "96365", modifiers=("XU",)), line(2, "36000")),
                     [(E, "NCCI_MODIFIER_NEEDED", "coding:2")], id="modifier-on-column-1-only"),
        pytest.param((line(1, "96365"), line(2, "36000", day=DOS + timedelta(days=1))), [], id="other-date"),
        pytest.param((line(1, "96365"), line(2, "99213", modifiers=("25",))), [], id="e/m-with-25"),
        pytest.param((line(1, "96365"), line(2, "99213", modifiers=("59",))),
                     [(E, "NCCI_MODIFIER_NEEDED", "coding:2")], id="e/m-with-59"),
        pytest.param((line(1, "96413"), line(2, "96409", modifiers=("XU",))),
                     [(E, "NCCI_NOT_ALLOWED", "coding:2")], id="indicator-0"),
        pytest.param((line(1, "96365"), line(2, "96374")), [], id="indicator-9-deleted"),
    ],
)
def test_ncci(lines, expected) -> None:
    assert found(run("ncci", replace(CLEAN, lines=lines), tables=NCCI)) == expected


def test_ncci_message_names_both_lines_and_the_fix() -> None:
    (finding,) = run("ncci", replace(CLEAN, lines=(line(1, "96365"), line(2, "99213"))), tables=NCCI)
    assert finding.message == (
        "Line 2 99213 is bundled into line 1 96365 on 11/02/2026 (NCCI pair). Remove it, or add "
        "modifier 25 if it was a distinct, documented service."
    )


# --- 8. NDC -----------------------------------------------------------------------------------------------
# coding-rules §14: 11 digits 5-4-2, unit UN/ML/GR/F2/ME, quantity > 0 (up to 8 digits and 3 decimals),
# on drug lines only; the NDC must be a package of the billed HCPCS.


@pytest.mark.parametrize(
    ("lines", "required", "expected"),
    [
        pytest.param((drug_line(ndc=None),), True, [(E, "NDC_MISSING", "coding:2")], id="missing"),
        pytest.param((drug_line(ndc=None),), False, [], id="missing-payer-does-not-ask"),
        pytest.param((line(1, "J2930", ndc=None),), True, [(E, "NDC_MISSING", "drug_catalog:1")],
                     id="missing-and-not-in-catalog"),
        pytest.param((line(1, "G0498"),), True, [], id="pump-code-is-not-a-drug"),
        pytest.param((line(1, "96413", ndc=Ndc(INFLIXIMAB_VIAL, D(1), "UN")),), True,
                     [(E, "NDC_NOT_DRUG", "coding:1")], id="on-an-administration-line"),
        pytest.param((drug_line(ndc=Ndc("5789400301", D(4), "UN")),), True,
                     [(E, "NDC_FORMAT", "drug_catalog:2")], id="10-digits"),
        pytest.param((drug_line(ndc=Ndc("57894-0030-01", D(4), "UN")),), True,
                     [(E, "NDC_FORMAT", "drug_catalog:2")], id="hyphens"),
        pytest.param((drug_line(ndc=Ndc(GAMMAGARD_VIAL, D(4), "UN")),), True,
                     [(E, "NDC_WRONG_DRUG", "coding:2")], id="another-drug's-package"),
        pytest.param((drug_line(ndc=Ndc("99999000001", D(4), "UN")),), True,
                     [(E, "NDC_WRONG_DRUG", "drug_catalog:2")], id="unknown-package"),
        pytest.param((line(1, "J3490", ndc=Ndc("99999000001", D(1), "UN")),), True, [],
                     id="unlisted-drug-code-cannot-be-checked"),
        pytest.param((drug_line(ndc=Ndc(INFLIXIMAB_VIAL, D(0), "UN")),), True,
                     [(E, "NDC_QUANTITY", "coding:2")], id="quantity-zero"),
        pytest.param((drug_line(ndc=Ndc(INFLIXIMAB_VIAL, D("0.0005"), "UN")),), True,
                     [(E, "NDC_QUANTITY", "coding:2")], id="four-decimals"),
        pytest.param((drug_line(ndc=Ndc(INFLIXIMAB_VIAL, D("3.65"), "UN")),), True, [], id="part-vial"),
        pytest.param((drug_line(ndc=Ndc(INFLIXIMAB_VIAL, D(4), "MG")),), True,
                     [(E, "NDC_UNIT", "drug_catalog:2")], id="unit-MG"),
        pytest.param((drug_line(ndc=Ndc(INFLIXIMAB_VIAL, D(4), "ME")),), True, [], id="unit-ME"),
    ],
)
def test_ndc(lines, required, expected) -> None:
    assert found(run("ndc", replace(CLEAN, lines=lines), ndc_required=required)) == expected


def test_wrong_drug_ndc_names_the_drug_it_belongs_to() -> None:
    (finding,) = run("ndc", replace(CLEAN, lines=(drug_line(ndc=Ndc(GAMMAGARD_VIAL, D(4), "UN")),)))
    assert finding.message == (
        f"Line 2 J1745: NDC {GAMMAGARD_VIAL} is a package of J1569, not J1745. "
        "Correct the NDC or the code on the visit."
    )


# --- 9. JW / JZ ---------------------------------------------------------------------------------------------
# coding-rules §13: single-dose containers; JZ when nothing is discarded, JW on its own line for waste,
# never both on one line; JW/JZ payer-configurable (PayerSettings.waste_modifiers).

given, waste = drug_line(units="37", modifiers=()), drug_line(3, units="3", modifiers=("JW",))
ondansetron = line(1, "J2405", "8", ndc=Ndc(ONDANSETRON_VIAL, D(4), "ML"))


@pytest.mark.parametrize(
    ("lines", "payer", "expected"),
    [
        pytest.param((drug_line(),), "jw_jz", [], id="JZ"),
        pytest.param((drug_line(modifiers=()),), "jw_jz", [(E, "WASTE_MODIFIER_MISSING", "coding:2")], id="bare"),
        pytest.param((given, waste), "jw_jz", [], id="given-plus-JW-line"),
        pytest.param((given, replace(waste, service_date=DOS + timedelta(days=1))), "jw_jz",
                     [(E, "WASTE_MODIFIER_MISSING", "coding:2")], id="JW-line-of-another-date"),
        pytest.param((drug_line(modifiers=("JW", "JZ")),), "jw_jz", [(E, "WASTE_MODIFIER_CONFLICT", "coding:2")],
                     id="JW-and-JZ-on-one-line"),
        pytest.param((drug_line(modifiers=("JZ",)), waste), "jw_jz", [(E, "WASTE_MODIFIER_CONFLICT", "coding:2")],
                     id="JZ-and-a-JW-line"),
        pytest.param((drug_line(modifiers=()),), "jw", [], id="jw-payer-bare"),
        pytest.param((drug_line(modifiers=("JZ",)),), "jw", [(W, "WASTE_MODIFIER_JZ", "coding:2")], id="jw-payer-JZ"),
        pytest.param((drug_line(modifiers=("JZ",)),), "none", [(W, "WASTE_MODIFIER_JZ", "coding:2")],
                     id="none-payer-JZ"),
        pytest.param((drug_line(modifiers=()),), "none", [], id="none-payer-bare"),
        pytest.param((ondansetron,), "jw_jz", [], id="multi-dose-bare"),
        pytest.param((replace(ondansetron, modifiers=("JZ",)),), "jw_jz",
                     [(W, "WASTE_MODIFIER_MULTI_DOSE", "coding:1")], id="multi-dose-JZ"),
        pytest.param((line(1, "96413", modifiers=("JZ",)),), "jw_jz", [(E, "WASTE_MODIFIER_NOT_DRUG", "coding:1")],
                     id="JZ-on-administration"),
        pytest.param((drug_line(modifiers=("jz",)),), "jw_jz", [], id="lower-case-modifier"),
    ],
)
def test_waste_modifiers(lines, payer, expected) -> None:
    assert found(run("waste_modifiers", replace(CLEAN, lines=lines), waste_modifiers=payer)) == expected


# --- 10. duplicates -----------------------------------------------------------------------------------------
# coding-rules §20 (CARC 18 exact duplicate): same date, code and modifiers on another live claim.

billed = BilledLine("C0000042", "FHP01", DOS, "J1745", ("JZ",), D(40))


@pytest.mark.parametrize(
    ("elsewhere", "expected"),
    [
        pytest.param((billed,), [(E, "DUPLICATE_LINE", "claim:2")], id="same-line-on-another-claim"),
        pytest.param((replace(billed, modifiers=()),), [], id="other-modifiers"),
        pytest.param((replace(billed, payer_id="OTHER"),), [], id="another-payer"),
        pytest.param((replace(billed, service_date=DOS - timedelta(days=28)),), [], id="earlier-visit"),
        pytest.param((replace(billed, code="J1569"),), [], id="another-drug"),
        pytest.param((), [], id="nothing-billed"),
    ],
)
def test_duplicates(elsewhere, expected) -> None:
    assert found(run("duplicates", billed_elsewhere=elsewhere)) == expected


def test_duplicate_ignores_modifier_order_and_names_the_other_claim() -> None:
    claim = claim_with(line(1, "96413"), drug_line(modifiers=("JZ", "KX")))
    (finding,) = run("duplicates", claim, billed_elsewhere=(replace(billed, modifiers=("KX", "JZ")),))
    assert "claim C0000042" in finding.message and "11/02/2026" in finding.message


def test_a_line_repeated_within_the_claim_is_a_warning() -> None:
    claim = claim_with(line(1, "96413"), line(2, "96413"))
    assert found(run("duplicates", claim)) == [(W, "DUPLICATE_LINE_IN_CLAIM", "coding:2")]


# --- 11. timely filing -----------------------------------------------------------------------------------------
# coding-rules §19: the limit runs from the first date of service (line From date).

DEADLINE = DOS + timedelta(days=90)  # 01/31/2027


@pytest.mark.parametrize(
    ("today", "changes", "expected"),
    [
        pytest.param(DEADLINE - timedelta(days=15), {}, [], id="15-days-left"),
        pytest.param(DEADLINE - timedelta(days=14), {}, [(W, "TIMELY_FILING_SOON", "claim")], id="14-days-left"),
        pytest.param(DEADLINE, {}, [(W, "TIMELY_FILING_SOON", "claim")], id="last-day"),
        pytest.param(DEADLINE + timedelta(days=1), {}, [(E, "TIMELY_FILING_PASSED", "claim")], id="passed"),
        pytest.param(DEADLINE + timedelta(days=30), {"frequency_code": "7", "payer_claim_control_number": "ICN1"},
                     [], id="replacement-has-its-own-window"),
    ],
)
def test_timely_filing(today: date, changes: dict[str, Any], expected) -> None:
    assert found(run("timely_filing", replace(CLEAN, **changes), today=today)) == expected


def test_timely_filing_warning_gives_the_deadline() -> None:
    (finding,) = run("timely_filing", today=date(2027, 1, 25))
    assert "ends on 01/31/2027" in finding.message


def primary_paid(on: date) -> OtherPayer:
    return OtherPayer("P", PayerData("Fictional Primary", "PRI01"), CLEAN.subscriber, "18", "CI", D("100.00"), (), on)


@pytest.mark.parametrize(
    ("adjudicated", "expected"),
    [
        (date(2027, 1, 15), [(W, "TIMELY_FILING_SECONDARY", "claim")]),  # the primary paid late: count from it
        (date(2026, 11, 10), [(E, "TIMELY_FILING_PASSED", "claim")]),
    ],
)
def test_timely_filing_of_a_secondary_claim(adjudicated: date, expected) -> None:
    claim = replace(CLEAN, responsibility="S", other_payers=(primary_paid(adjudicated),))
    assert found(run("timely_filing", claim, today=date(2027, 3, 1))) == expected


# --- 12. lines and charges ------------------------------------------------------------------------------------------
# x12.md §2: CLM02 is the sum of SV102; at most 50 lines; charges come from the charge master.


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        pytest.param((line(1, "96413", charge="0.00"), drug_line()), [(E, "CHARGE_NOT_POSITIVE", "charge_master:1")],
                     id="zero-line"),
        pytest.param((line(1, "96413", charge="-5.00"), drug_line()), [(E, "CHARGE_NOT_POSITIVE", "charge_master:1")],
                     id="negative-line-positive-total"),
        pytest.param((line(1, "96413", charge="0.00"),),
                     [(E, "CHARGE_NOT_POSITIVE", "charge_master:1"), (E, "CHARGE_TOTAL", "charge_master")],
                     id="nothing-charged"),
        pytest.param((line(1, "96413", units="0"), drug_line()), [(E, "LINE_UNITS", "coding:1")], id="zero-units"),
        pytest.param(tuple(line(n, "96413") for n in range(1, 52)), [(E, "CLAIM_TOO_MANY_LINES", "claim")],
                     id="51-lines"),
    ],
)
def test_charges(lines, expected) -> None:
    assert found(run("charges", replace(CLEAN, lines=lines))) == expected


# --- 13. providers -----------------------------------------------------------------------------------------------------
# x12.md §2: 2310B rendering provider NPI (NM109), 2420E ordering provider; NPI check digit (validation.py).

dana = CLEAN.rendering
assert dana is not None


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        pytest.param({}, [], id="valid"),
        pytest.param({"rendering": None}, [(E, "RENDERING_MISSING", "provider")], id="no-rendering"),
        pytest.param({"rendering": replace(dana, npi="")}, [(E, "RENDERING_NPI_MISSING", "provider")], id="empty-npi"),
        pytest.param({"rendering": replace(dana, npi="1245319590")}, [(E, "RENDERING_NPI", "provider")],
                     id="check-digit"),
        pytest.param({"rendering": replace(dana, npi="124531959")}, [(E, "RENDERING_NPI", "provider")],
                     id="nine-digits"),
        pytest.param({"ordering": replace(dana, npi="1234567890")}, [(E, "ORDERING_NPI", "provider")],
                     id="ordering-check-digit"),
        pytest.param({"ordering": dana}, [], id="ordering-valid"),
    ],
)
def test_providers(changes: dict[str, Any], expected) -> None:
    assert found(run("providers", replace(CLEAN, **changes))) == expected


def test_rendering_npi_message_names_the_provider() -> None:
    (finding,) = run("providers", replace(CLEAN, rendering=replace(dana, npi="1245319590")))
    assert finding.message.startswith("Rendering provider Dana Doctor: NPI 1245319590 fails its check digit")


# --- 14. frequency --------------------------------------------------------------------------------------------------------
# x12.md §2: CLM05-3 1/7/8; REF*F8 required when 7 or 8 (X12 RFI 1538/2173).


@pytest.mark.parametrize(
    ("frequency", "icn", "expected"),
    [
        ("1", None, []),
        ("7", None, [(E, "FREQUENCY_NO_ICN", "claim")]),
        ("8", " ", [(E, "FREQUENCY_NO_ICN", "claim")]),
        ("7", "2026110200012", []),
        ("8", "2026110200012", []),
        ("2", None, [(E, "FREQUENCY_CODE", "claim")]),
    ],
)
def test_frequency(frequency: str, icn: str | None, expected) -> None:
    claim = replace(CLEAN, frequency_code=frequency, payer_claim_control_number=icn)
    assert found(run("frequency", claim)) == expected
