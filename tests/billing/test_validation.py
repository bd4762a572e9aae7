"""Field checks in infusion_desk.billing.validation, driven by tables of real values."""

from __future__ import annotations

import doctest
import subprocess
import sys
from collections.abc import Callable
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infusion_desk.billing import validation
from infusion_desk.billing.findings import Finding, Level
from infusion_desk.billing.validation import (
    check_birth_date,
    check_hcpcs,
    check_icd10,
    check_ndc,
    check_npi,
    check_policy_dates,
    check_state,
    check_subscriber,
    check_taxonomy,
    check_tin,
    check_zip,
    format_icd10,
    is_drug_code,
    is_valid_npi,
    make_npi,
    normalize_hcpcs,
    normalize_icd10,
    normalize_ndc,
    npi_check_digit,
)


def codes(findings: tuple[Finding, ...]) -> list[str]:
    return [f.code for f in findings]


def test_module_docstring_example_holds() -> None:
    result = doctest.testmod(validation)
    assert result.attempted > 0
    assert result.failed == 0


def test_import_loads_neither_the_icd10_tables_nor_sqlalchemy_nor_qt() -> None:
    # A fresh interpreter: this test process has SQLAlchemy loaded by conftest already.
    probe = (
        "import sys, infusion_desk.billing.validation, infusion_desk.billing.icd10 as icd; "
        "print(sorted(m for m in ('simple_icd_10_cm', 'sqlalchemy', 'PySide6') if m in sys.modules), "
        "icd._code_set is None)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] True"


def test_checking_a_code_never_loads_the_simple_icd_10_cm_package() -> None:
    # the package costs seconds and ~180 MB; the application reads its own shipped table
    probe = (
        "import sys; from infusion_desk.billing.validation import check_icd10; "
        "print(check_icd10('K50.90') == (), 'simple_icd_10_cm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True False"


# --- NPI --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first9", "digit"),
    [
        # CMS, "Requirements for the NPI check digit": 123456789 -> 3.
        ("123456789", 3),
        # By hand: doubled 9,9,3,4,1 -> 9+9+6+8+2 = 34; others 5+1+5+2 = 13; 34+13+24 = 71 -> 9.
        ("124531959", 9),
        # By hand: nothing to double or add but the prefix constant: 24 -> 6.
        ("000000000", 6),
    ],
)
def test_npi_check_digit(first9: str, digit: int) -> None:
    assert npi_check_digit(first9) == digit
    assert make_npi(first9) == first9 + str(digit)


@pytest.mark.parametrize("bad", ["12345678", "1234567890", "12345678A", ""])
def test_npi_check_digit_needs_nine_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="9 digits"):
        npi_check_digit(bad)


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", " 1245319599 "])
def test_valid_npi(npi: str) -> None:
    assert check_npi(npi) == ()
    assert is_valid_npi(npi)


@pytest.mark.parametrize(
    ("npi", "code"),
    [
        ("1234567890", "NPI_CHECK_DIGIT"),  # CMS example with the wrong last digit
        ("1245319598", "NPI_CHECK_DIGIT"),
        ("1254319599", "NPI_CHECK_DIGIT"),  # 4 and 5 transposed
        ("123456789", "NPI_FORMAT"),
        ("12345678930", "NPI_FORMAT"),
        ("123-456-7893", "NPI_FORMAT"),
        ("123456789O", "NPI_FORMAT"),  # letter O for zero
        ("", "REQUIRED"),
        ("   ", "REQUIRED"),
    ],
)
def test_invalid_npi(npi: str, code: str) -> None:
    findings = check_npi(npi, "rendering_npi")
    assert codes(findings) == [code]
    assert findings[0].subject == "rendering_npi"
    assert findings[0].level is Level.ERROR
    assert not is_valid_npi(npi)


@given(
    first9=st.text(alphabet="0123456789", min_size=9, max_size=9),
    position=st.integers(min_value=0, max_value=9),
    shift=st.integers(min_value=1, max_value=9),
)
def test_make_npi_is_valid_and_any_single_digit_change_breaks_it(
    first9: str, position: int, shift: int
) -> None:
    npi = make_npi(first9)
    assert is_valid_npi(npi)
    changed_digit = str((int(npi[position]) + shift) % 10)
    mistyped = npi[:position] + changed_digit + npi[position + 1 :]
    assert mistyped != npi
    assert codes(check_npi(mistyped)) == ["NPI_CHECK_DIGIT"]


# --- ICD-10-CM --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "bare", "dotted"),
    [
        ("k50.90", "K5090", "K50.90"),
        (" K5090 ", "K5090", "K50.90"),
        ("M05.79", "M0579", "M05.79"),
        ("C50911", "C50911", "C50.911"),
        ("G35", "G35", "G35"),
        ("t45.1x5a", "T451X5A", "T45.1X5A"),
    ],
)
def test_normalize_and_format_icd10(code: str, bare: str, dotted: str) -> None:
    assert normalize_icd10(code) == bare
    assert format_icd10(code) == dotted


# Billable (leaf) codes in the ICD-10-CM tabular list shipped with simple_icd_10_cm 1.5.0
# (the April 1, 2026 update of FY2026).
@pytest.mark.parametrize(
    "code",
    [
        "K50.90",  # Crohn's disease, unspecified, without complications
        "K5090",
        "k50.90",
        " M05.79 ",  # rheumatoid arthritis with rheumatoid factor of multiple sites
        "D50.9",  # iron deficiency anemia, unspecified
        "C50.911",  # malignant neoplasm of unspecified site of right female breast
        "Z51.11",  # encounter for antineoplastic chemotherapy
        "T45.1X5A",  # adverse effect of antineoplastic drugs, initial encounter (7th character)
        "G35.A",  # relapsing-remitting multiple sclerosis, new in FY2026
    ],
)
def test_billable_icd10(code: str) -> None:
    assert check_icd10(code) == ()


@pytest.mark.parametrize(
    ("code", "shown", "suggestion"),
    [
        ("K50.9", "K50.9", "K50.90"),
        ("K509", "K50.9", "K50.90"),
        ("K50", "K50", "K50.00"),
        ("C50.91", "C50.91", "C50.911"),
        # Billable until FY2025; FY2026 split it into G35.A-G35.D. Needs simple_icd_10_cm >= 1.5.
        ("G35", "G35", "G35.A"),
        ("T45.1X5", "T45.1X5", "T45.1X5A"),  # needs its 7th character
    ],
)
def test_icd10_category_is_not_billable(code: str, shown: str, suggestion: str) -> None:
    findings = check_icd10(code, "diagnoses[0]")
    assert codes(findings) == ["ICD10_NOT_BILLABLE"]
    message = findings[0].message
    assert message.startswith(f"diagnoses[0]: {shown} (")
    assert "not a billable code" in message
    assert f"such as {suggestion}" in message
    assert findings[0].subject == "diagnoses[0]"


def test_icd10_suggestions_are_billable_codes() -> None:
    # K50.91 is a subcategory itself, so the suggestions go down to its billable codes.
    (finding,) = check_icd10("K50.9")
    assert finding.message.endswith("such as K50.90, K50.911 or K50.912.")


@pytest.mark.parametrize(
    "code",
    [
        "ZZZ",
        "K50.99",  # K50.9 has only K50.90 and K50.91
        "K50.900",
        "K5",
        "1",  # a chapter number, which simple_icd_10_cm also knows
        "A00-A09",  # a block, likewise
        "E11-9",
    ],
)
def test_icd10_not_a_code(code: str) -> None:
    findings = check_icd10(code)
    assert codes(findings) == ["ICD10_UNKNOWN"]
    assert "is not an ICD-10-CM code" in findings[0].message
    assert findings[0].subject == "diagnosis"


def test_icd10_blank_is_required() -> None:
    assert codes(check_icd10(" ")) == ["REQUIRED"]


# --- CPT / HCPCS ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "J1745",  # infliximab, 10 mg
        "Q5103",  # infliximab-dyyb (Inflectra)
        "96365",  # IV infusion, initial hour
        "0001U",  # PLA code
        "3074F",  # Category II
        "0075T",  # Category III
        "A9270",
        " j1745 ",
    ],
)
def test_valid_hcpcs(code: str) -> None:
    assert check_hcpcs(code) == ()


@pytest.mark.parametrize(
    ("code", "finding_code"),
    [
        ("J174", "HCPCS_FORMAT"),
        ("ABCDE", "HCPCS_FORMAT"),
        ("J17455", "HCPCS_FORMAT"),
        ("9636", "HCPCS_FORMAT"),
        ("0001X", "HCPCS_FORMAT"),
        ("W1234", "HCPCS_FORMAT"),  # no Level II section beyond V
        ("J-1745", "HCPCS_FORMAT"),
        ("", "REQUIRED"),
    ],
)
def test_invalid_hcpcs(code: str, finding_code: str) -> None:
    findings = check_hcpcs(code, "lines[2].code")
    assert codes(findings) == [finding_code]
    assert findings[0].subject == "lines[2].code"


def test_normalize_hcpcs() -> None:
    assert normalize_hcpcs(" j1745\n") == "J1745"


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("J1745", True),
        ("Q5103", True),
        ("j9035", True),
        ("96365", False),
        ("A9270", False),
        ("J174", False),
        ("J", False),
    ],
)
def test_is_drug_code(code: str, expected: bool) -> None:
    assert is_drug_code(code) is expected


# --- Dates ------------------------------------------------------------------------------

TODAY = date(2026, 3, 15)


@pytest.mark.parametrize(
    ("birth_date", "today", "expected"),
    [
        (date(1980, 5, 1), TODAY, []),
        (TODAY, TODAY, []),  # a newborn
        (date(1896, 3, 15), TODAY, []),  # exactly 130 years
        (date(1896, 3, 14), TODAY, ["BIRTH_DATE_TOO_OLD"]),
        (date(2026, 3, 16), TODAY, ["BIRTH_DATE_FUTURE"]),
        (date(2062, 3, 15), TODAY, ["BIRTH_DATE_FUTURE"]),  # century typo
        # 1898 has no 29 February; the limit falls back to the 28th.
        (date(1898, 2, 28), date(2028, 2, 29), []),
        (date(1898, 2, 27), date(2028, 2, 29), ["BIRTH_DATE_TOO_OLD"]),
    ],
)
def test_check_birth_date(birth_date: date, today: date, expected: list[str]) -> None:
    findings = check_birth_date(birth_date, today, "patient_birth_date")
    assert codes(findings) == expected
    assert all(f.subject == "patient_birth_date" for f in findings)


def test_birth_date_message_names_the_date() -> None:
    (finding,) = check_birth_date(date(2062, 3, 15), TODAY)
    assert finding.subject == "birth_date"
    assert finding.message.startswith("birth_date: the date of birth 03/15/2062 is in the future.")


@pytest.mark.parametrize(
    ("effective", "termination", "expected"),
    [
        (date(2024, 1, 1), date(2024, 12, 31), []),
        (date(2024, 1, 1), date(2024, 1, 1), []),  # one day of coverage
        (date(2024, 1, 1), None, []),  # still active
        (None, None, []),
        (date(2024, 2, 1), date(2024, 1, 31), ["POLICY_DATES"]),
    ],
)
def test_check_policy_dates(effective: date | None, termination: date | None, expected: list[str]) -> None:
    findings = check_policy_dates(effective, termination)
    assert codes(findings) == expected
    assert all(f.subject == "termination_date" for f in findings)


def test_policy_dates_subject_is_the_field_given() -> None:
    (finding,) = check_policy_dates(date(2024, 2, 1), date(2024, 1, 31), "policy.termination_date")
    assert finding.subject == "policy.termination_date"
    assert "01/31/2024 is before the effective date 02/01/2024" in finding.message


# --- Subscriber -------------------------------------------------------------------------

ALL_SUBSCRIBER_FIELDS = [
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_birth_date",
    "subscriber_sex",
]


@pytest.mark.parametrize(
    ("relationship", "first", "last", "birth", "sex", "missing"),
    [
        ("self", None, None, None, None, []),
        ("SELF", None, None, None, None, []),
        ("spouse", "Ana", "Lopez", date(1970, 1, 2), "F", []),
        ("child", None, None, None, None, ALL_SUBSCRIBER_FIELDS),
        ("other", " ", "", None, " ", ALL_SUBSCRIBER_FIELDS),
        ("spouse", "Ana", None, date(1970, 1, 2), "F", ["subscriber_last_name"]),
        ("child", "Ana", "Lopez", None, "F", ["subscriber_birth_date"]),
        ("child", "Ana", "Lopez", date(1970, 1, 2), None, ["subscriber_sex"]),
    ],
)
def test_check_subscriber(
    relationship: str,
    first: str | None,
    last: str | None,
    birth: date | None,
    sex: str | None,
    missing: list[str],
) -> None:
    findings = check_subscriber(relationship, first, last, birth, sex)
    assert [f.subject for f in findings] == missing
    assert all(f.code == "REQUIRED" and f.message.startswith(f"{f.subject}:") for f in findings)


def test_subscriber_field_prefix() -> None:
    findings = check_subscriber("spouse", "Ana", None, date(1970, 1, 2), "F", field_prefix="secondary")
    assert [f.subject for f in findings] == ["secondary_last_name"]


# --- NDC --------------------------------------------------------------------------------


# CMS 10-to-11-digit convention: the zero goes in front of the short segment.
@pytest.mark.parametrize(
    ("text", "eleven"),
    [
        ("50242-040-62", "50242004062"),  # 5-3-2: zero before the product
        ("0002-7510-01", "00002751001"),  # 4-4-2: zero before the labeler
        ("12345-6789-1", "12345678901"),  # 5-4-1: zero before the package
        ("50242-0040-62", "50242004062"),  # already 5-4-2
        ("00002751001", "00002751001"),
        (" 0002-7510-01 ", "00002751001"),
    ],
)
def test_normalize_ndc(text: str, eleven: str) -> None:
    assert normalize_ndc(text) == eleven
    assert check_ndc(text) == ()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("0002751001", "without hyphens"),  # 10 digits: which segment is short is unknowable
        ("1234-567-89", "is not an NDC"),  # 4-3-2
        ("12345-678-9", "is not an NDC"),  # 5-3-1
        ("123456-7890-1", "is not an NDC"),
        ("0002-7510-01-", "is not an NDC"),
        ("ABCDE-FGH-IJ", "is not an NDC"),
        ("5024200406", "without hyphens"),
        ("", "is not an NDC"),
    ],
)
def test_unreadable_ndc(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        normalize_ndc(text)
    findings = check_ndc(text, "lines[0].ndc")
    assert codes(findings) == (["REQUIRED"] if not text.strip() else ["NDC_FORMAT"])
    assert findings[0].subject == "lines[0].ndc"


# --- Clinic and address fields ----------------------------------------------------------


@pytest.mark.parametrize(
    ("tin", "expected"),
    [
        ("12-3456789", []),
        ("123456789", []),
        ("123-45-6789", []),  # an SSN, for a sole practitioner
        (" 12-3456789 ", []),
        ("12345678", ["TIN_FORMAT"]),
        ("1234567890", ["TIN_FORMAT"]),
        ("000000000", ["TIN_FORMAT"]),
        ("00-0000000", ["TIN_FORMAT"]),
        ("12-345-6789", ["TIN_FORMAT"]),
        ("AB-CDEFGHI", ["TIN_FORMAT"]),
        ("", ["REQUIRED"]),
    ],
)
def test_check_tin(tin: str, expected: list[str]) -> None:
    assert codes(check_tin(tin)) == expected


# NUCC Health Care Provider Taxonomy code set.
@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("207RR0500X", []),  # rheumatology
        ("261QM1300X", []),  # multi-specialty clinic
        ("163W00000X", []),  # registered nurse
        (" 207rr0500x ", []),
        ("207RR0500", ["TAXONOMY_FORMAT"]),
        ("207RR05000", ["TAXONOMY_FORMAT"]),
        ("207RR0500XX", ["TAXONOMY_FORMAT"]),
        ("207-R0500X", ["TAXONOMY_FORMAT"]),
        ("", ["REQUIRED"]),
    ],
)
def test_check_taxonomy(code: str, expected: list[str]) -> None:
    assert codes(check_taxonomy(code)) == expected


@pytest.mark.parametrize(
    ("zip_code", "expected"),
    [
        ("12345", []),
        ("123456789", []),
        ("12345-6789", []),
        ("1234", ["ZIP_FORMAT"]),
        ("123456", ["ZIP_FORMAT"]),
        ("12345-678", ["ZIP_FORMAT"]),
        ("12345 6789", ["ZIP_FORMAT"]),
        ("ABCDE", ["ZIP_FORMAT"]),
        ("", ["REQUIRED"]),
    ],
)
def test_check_zip(zip_code: str, expected: list[str]) -> None:
    assert codes(check_zip(zip_code)) == expected


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        ("NY", []),
        ("pr", []),  # Puerto Rico
        ("DC", []),
        ("GU", []),  # Guam
        ("AE", []),  # armed forces Europe (APO/FPO)
        ("XX", ["STATE_UNKNOWN"]),
        ("N", ["STATE_UNKNOWN"]),
        ("New York", ["STATE_UNKNOWN"]),
        ("", ["REQUIRED"]),
    ],
)
def test_check_state(state: str, expected: list[str]) -> None:
    assert codes(check_state(state)) == expected


# --- What every finding carries ---------------------------------------------------------

CHECKS_WITH_BAD_INPUT: list[tuple[Callable[[str, str], tuple[Finding, ...]], str]] = [
    (check_npi, "1234567890"),
    (check_icd10, "ZZZ"),
    (check_hcpcs, "ABCDE"),
    (check_ndc, "0002751001"),
    (check_tin, "12345678"),
    (check_taxonomy, "207RR0500"),
    (check_zip, "1234"),
    (check_state, "XX"),
]


@pytest.mark.parametrize(("check", "bad"), CHECKS_WITH_BAD_INPUT)
def test_finding_names_the_field_and_the_value(
    check: Callable[[str, str], tuple[Finding, ...]], bad: str
) -> None:
    (finding,) = check(bad, "my_field")
    assert finding.subject == "my_field"
    assert finding.level is Level.ERROR
    assert finding.message.startswith("my_field: ")
    assert bad in finding.message
