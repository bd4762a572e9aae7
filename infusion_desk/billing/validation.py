"""Field checks for identifiers, codes and dates typed at the front desk or put on a claim.

    >>> check_npi("1234567893")
    ()
    >>> (finding,) = check_npi("1234567890", "rendering_npi")
    >>> finding.code, finding.subject
    ('NPI_CHECK_DIGIT', 'rendering_npi')
    >>> print(finding.message)  # doctest: +NORMALIZE_WHITESPACE
    rendering_npi: NPI 1234567890 fails its check digit, so at least one digit is wrong.
    Re-enter it from the provider's NPPES record.
    >>> print(check_icd10("k50.9")[0].message)  # doctest: +NORMALIZE_WHITESPACE
    diagnosis: K50.9 (Crohn's disease, unspecified) is a category, not a billable code.
    Pick a more specific code such as K50.90, K50.911 or K50.912.
    >>> normalize_icd10(" k50.90 "), format_icd10("K5090")
    ('K5090', 'K50.90')
    >>> normalize_ndc("0002-7510-01")
    '00002751001'

Every ``check_*`` function returns a tuple of findings, empty when the value is fine, and
each finding's ``subject`` is the field name the caller passed in. Surrounding whitespace and
letter case are forgiven; the ``normalize_*`` helpers give the form to store, and
:func:`normalize_ndc` raises ``ValueError`` on input it cannot read.

ICD-10-CM codes are looked up in the code set the application ships
(:func:`infusion_desk.billing.icd10.code_set`), one code set for every date of service. It is
read on the first ICD-10 check (a quarter of a second), not at import.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from infusion_desk.billing import icd10
from infusion_desk.billing.findings import Finding, error

__all__ = [
    "check_birth_date",
    "check_hcpcs",
    "check_icd10",
    "check_ndc",
    "check_npi",
    "check_policy_dates",
    "check_state",
    "check_subscriber",
    "check_taxonomy",
    "check_tin",
    "check_zip",
    "format_icd10",
    "is_drug_code",
    "is_valid_npi",
    "make_npi",
    "normalize_hcpcs",
    "normalize_icd10",
    "normalize_ndc",
    "npi_check_digit",
]

NO_FINDINGS: tuple[Finding, ...] = ()

MAX_AGE_YEARS = 130

# USPS abbreviations: the 50 states, DC, the inhabited territories, the freely associated
# states (which USPS delivers to) and the military "states" AA, AE and AP of APO/FPO addresses.
USPS_STATE_CODES = frozenset(
    "AL AK AZ AR CA CO CT DE FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ"
    " NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
    " DC AS GU MP PR VI FM MH PW AA AE AP".split()
)

_NINE_DIGITS = re.compile(r"\d{9}")
_TEN_DIGITS = re.compile(r"\d{10}")
# Letter, then two letters or digits, then up to four more: digits-only chapter numbers and
# "A00-A09" block ranges, which the tabular list also has, never match. The second
# character may be a letter since FY2026 added category QA0.
_ICD10_SHAPE = re.compile(r"[A-Z][0-9A-Z]{2,6}")
# CPT: 5 digits (Category I) or 4 digits and F, T or U (Category II, III, PLA);
# HCPCS Level II: a letter A-V and 4 digits.
_HCPCS_SHAPE = re.compile(r"\d{5}|\d{4}[FTU]|[A-V]\d{4}")
_DRUG_CODE_SHAPE = re.compile(r"[JQ]\d{4}")
_NDC_HYPHENATED = re.compile(r"(\d+)-(\d+)-(\d+)")
_ELEVEN_DIGITS = re.compile(r"\d{11}")
_TIN_SHAPE = re.compile(r"\d{9}|\d{2}-\d{7}|\d{3}-\d{2}-\d{4}")
_TAXONOMY_SHAPE = re.compile(r"[0-9A-Z]{9}X")
_ZIP_SHAPE = re.compile(r"\d{5}|\d{9}|\d{5}-\d{4}")


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _required(field: str, what: str) -> tuple[Finding, ...]:
    return (error("REQUIRED", f"{field}: enter the {what}.", field),)


def _us_date(value: date) -> str:
    return f"{value.month:02d}/{value.day:02d}/{value.year:04d}"


def _join_or(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} or {items[-1]}"


# --- NPI --------------------------------------------------------------------------------


def npi_check_digit(first9: str) -> int:
    """Return the check digit for the first nine digits of an NPI.

    Luhn over the digits prefixed with 80840 (the NPI's ISO card issuer prefix); per the CMS
    NPI check digit standard the prefix is accounted for by adding 24 to the sum.
    """
    if not _NINE_DIGITS.fullmatch(first9):
        raise ValueError(f"an NPI check digit needs exactly 9 digits, got {first9!r}")
    total = 24
    # The digit next to the check digit is doubled, then every second one going left.
    for position, char in enumerate(reversed(first9)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def make_npi(first9: str) -> str:
    """Return ``first9`` followed by its check digit: a well-formed (not necessarily issued) NPI."""
    return f"{first9}{npi_check_digit(first9)}"


def check_npi(npi: str, field: str = "npi") -> tuple[Finding, ...]:
    """Check that ``npi`` is 10 digits whose last digit is the NPI check digit."""
    if _blank(npi):
        return _required(field, "10-digit NPI (National Provider Identifier)")
    value = npi.strip()
    if not _TEN_DIGITS.fullmatch(value):
        return (
            error(
                "NPI_FORMAT",
                f"{field}: NPI {value!r} must be exactly 10 digits. Enter it without spaces or dashes, "
                "as shown in the provider's NPPES record.",
                field,
            ),
        )
    if npi_check_digit(value[:9]) != int(value[9]):
        return (
            error(
                "NPI_CHECK_DIGIT",
                f"{field}: NPI {value} fails its check digit, so at least one digit is wrong. "
                "Re-enter it from the provider's NPPES record.",
                field,
            ),
        )
    return NO_FINDINGS


def is_valid_npi(npi: str) -> bool:
    """Return whether ``npi`` passes :func:`check_npi`."""
    return not check_npi(npi)


# --- ICD-10-CM --------------------------------------------------------------------------


def normalize_icd10(code: str) -> str:
    """Return ``code`` stripped, upper-cased and without its dot: ``"k50.90"`` -> ``"K5090"``."""
    return code.strip().upper().replace(".", "")


def format_icd10(code: str) -> str:
    """Return ``code`` with the dot after its third character: ``"K5090"`` -> ``"K50.90"``."""
    bare = normalize_icd10(code)
    return bare if len(bare) <= 3 else f"{bare[:3]}.{bare[3:]}"


def check_icd10(code: str, field: str = "diagnosis") -> tuple[Finding, ...]:
    """Check that ``code`` is a billable ICD-10-CM code, written with or without its dot."""
    if _blank(code):
        return _required(field, "ICD-10-CM diagnosis code, for example K50.90")
    bare = normalize_icd10(code)
    icd = icd10.code_set()
    if not _ICD10_SHAPE.fullmatch(bare) or not icd.is_valid(bare):
        return (
            error(
                "ICD10_UNKNOWN",
                f"{field}: {code.strip()!r} is not an ICD-10-CM code. Check it against the order; "
                "a code is a letter followed by 2 to 6 letters or digits, for example K50.90.",
                field,
            ),
        )
    if not icd.is_billable(bare):
        shown = format_icd10(bare)
        billable = [format_icd10(c) for c in icd.billable_under(bare, 3)]
        return (
            error(
                "ICD10_NOT_BILLABLE",
                f"{field}: {shown} ({icd.description(bare)}) is a category, not a billable code. "
                f"Pick a more specific code such as {_join_or(billable)}.",
                field,
            ),
        )
    return NO_FINDINGS


# --- CPT / HCPCS ------------------------------------------------------------------------


def normalize_hcpcs(code: str) -> str:
    """Return ``code`` stripped and upper-cased, the form a claim carries: ``" j1745"`` -> ``"J1745"``."""
    return code.strip().upper()


def check_hcpcs(code: str, field: str = "code") -> tuple[Finding, ...]:
    """Check that ``code`` has the shape of a CPT or HCPCS Level II code (not that it exists)."""
    if _blank(code):
        return _required(field, "CPT or HCPCS code, for example 96365 or J1745")
    if not _HCPCS_SHAPE.fullmatch(normalize_hcpcs(code)):
        return (
            error(
                "HCPCS_FORMAT",
                f"{field}: {code.strip()!r} is not a CPT or HCPCS code. CPT codes are 5 digits (96365) "
                "or 4 digits and F, T or U (0001U); HCPCS Level II codes are a letter and 4 digits "
                "(J1745).",
                field,
            ),
        )
    return NO_FINDINGS


def is_drug_code(code: str) -> bool:
    """Return whether ``code`` is a J or Q HCPCS code, the ranges that bill drugs by unit.

    Q codes also cover some supplies (Q4001 casting): a rule that needs certainty about a
    drug looks the code up in the drug catalog instead.
    """
    return _DRUG_CODE_SHAPE.fullmatch(normalize_hcpcs(code)) is not None


# --- Dates ------------------------------------------------------------------------------


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def check_birth_date(birth_date: date, today: date, field: str = "birth_date") -> tuple[Finding, ...]:
    """Check that ``birth_date`` is not after ``today`` nor more than 130 years before it."""
    if birth_date > today:
        return (
            error(
                "BIRTH_DATE_FUTURE",
                f"{field}: the date of birth {_us_date(birth_date)} is in the future. "
                "Check the year and re-enter it.",
                field,
            ),
        )
    if birth_date < _years_before(today, MAX_AGE_YEARS):
        return (
            error(
                "BIRTH_DATE_TOO_OLD",
                f"{field}: the date of birth {_us_date(birth_date)} is more than {MAX_AGE_YEARS} years "
                "ago. Check the year and re-enter it.",
                field,
            ),
        )
    return NO_FINDINGS


def check_policy_dates(
    effective: date | None, termination: date | None, field: str = "termination_date"
) -> tuple[Finding, ...]:
    """Check that a policy does not end before it starts; a missing date is not checked."""
    if effective is not None and termination is not None and termination < effective:
        return (
            error(
                "POLICY_DATES",
                f"{field}: the termination date {_us_date(termination)} is before the effective date "
                f"{_us_date(effective)}. Correct one of them, or leave the termination date empty if "
                "the policy has not ended.",
                field,
            ),
        )
    return NO_FINDINGS


# --- Subscriber -------------------------------------------------------------------------


def check_subscriber(
    relationship: str,
    first_name: str | None,
    last_name: str | None,
    birth_date: date | None,
    sex: str | None,
    field_prefix: str = "subscriber",
) -> tuple[Finding, ...]:
    """Check that the subscriber is identified when the patient is not the subscriber.

    One finding per missing field, with subjects such as ``"subscriber_last_name"``.
    """
    if relationship.strip().casefold() == "self":
        return NO_FINDINGS
    given = (
        ("first_name", "first name", first_name),
        ("last_name", "last name", last_name),
        ("birth_date", "date of birth", birth_date),
        ("sex", "sex", sex),
    )
    findings: list[Finding] = []
    for suffix, label, value in given:
        if value is None or (isinstance(value, str) and not value.strip()):
            subject = f"{field_prefix}_{suffix}"
            findings.append(
                error(
                    "REQUIRED",
                    f"{subject}: the subscriber's {label} is required when the patient is not the "
                    f"subscriber (relationship: {relationship.strip() or 'not set'}). Enter it from the "
                    "insurance card or the policyholder, or set the relationship to self.",
                    subject,
                )
            )
    return tuple(findings)


# --- NDC --------------------------------------------------------------------------------

# Hyphenated NDC layouts and the segment (labeler 0, product 1, package 2) that takes the
# padding zero on the way to 5-4-2, per the CMS convention; 5-4-2 itself needs none.
_NDC_PAD: dict[tuple[int, int, int], int | None] = {
    (4, 4, 2): 0,
    (5, 3, 2): 1,
    (5, 4, 1): 2,
    (5, 4, 2): None,
}


def normalize_ndc(text: str) -> str:
    """Return the 11-digit 5-4-2 form of an NDC, e.g. ``"50242-040-62"`` -> ``"50242004062"``.

    Accepts 11 digits (with or without 5-4-2 hyphens) or a hyphenated 10-digit code in the
    4-4-2, 5-3-2 or 5-4-1 layout printed on the package. Raises ``ValueError`` otherwise.
    """
    value = text.strip()
    if _ELEVEN_DIGITS.fullmatch(value):
        return value
    if _TEN_DIGITS.fullmatch(value):
        raise ValueError(
            f"{value!r} is a 10-digit NDC without hyphens, which cannot be converted safely: "
            "enter it with the hyphens printed on the package (for example 0002-7510-01)"
        )
    match = _NDC_HYPHENATED.fullmatch(value)
    if match is not None:
        segments = list(match.groups())
        layout = (len(segments[0]), len(segments[1]), len(segments[2]))
        if layout in _NDC_PAD:
            pad = _NDC_PAD[layout]
            if pad is not None:
                segments[pad] = "0" + segments[pad]
            return "".join(segments)
    raise ValueError(
        f"{value!r} is not an NDC: enter the 11-digit code (00002751001) or the 10-digit code "
        "with its hyphens as printed on the package (4-4-2, 5-3-2 or 5-4-1)"
    )


def check_ndc(ndc: str, field: str = "ndc") -> tuple[Finding, ...]:
    """Check that :func:`normalize_ndc` can read ``ndc``."""
    if _blank(ndc):
        return _required(field, "NDC from the drug package, for example 0002-7510-01")
    try:
        normalize_ndc(ndc)
    except ValueError as exc:
        return (error("NDC_FORMAT", f"{field}: {exc}.", field),)
    return NO_FINDINGS


# --- Clinic and address fields ----------------------------------------------------------


def check_tin(tin: str, field: str = "tin") -> tuple[Finding, ...]:
    """Check that ``tin`` is a 9-digit EIN or SSN (12-3456789, 123-45-6789 or plain digits)."""
    if _blank(tin):
        return _required(field, "9-digit tax identification number (EIN), for example 12-3456789")
    value = tin.strip()
    if not _TIN_SHAPE.fullmatch(value) or set(value) <= {"0", "-"}:
        return (
            error(
                "TIN_FORMAT",
                f"{field}: {value!r} is not a tax identification number. Enter the 9-digit EIN "
                "(12-3456789) or SSN, with or without hyphens.",
                field,
            ),
        )
    return NO_FINDINGS


def check_taxonomy(code: str, field: str = "taxonomy") -> tuple[Finding, ...]:
    """Check that ``code`` has the shape of a NUCC taxonomy code (207RR0500X, 261QM1300X)."""
    if _blank(code):
        return _required(field, "provider taxonomy code, for example 261QM1300X")
    if not _TAXONOMY_SHAPE.fullmatch(code.strip().upper()):
        return (
            error(
                "TAXONOMY_FORMAT",
                f"{field}: {code.strip()!r} is not a taxonomy code. Taxonomy codes are 10 letters and "
                "digits ending in X (207RR0500X); copy it from the provider's NPPES record.",
                field,
            ),
        )
    return NO_FINDINGS


def check_zip(zip_code: str, field: str = "zip_code") -> tuple[Finding, ...]:
    """Check that ``zip_code`` is a 5-digit ZIP or a ZIP+4 (with or without its hyphen)."""
    if _blank(zip_code):
        return _required(field, "ZIP code, for example 12345 or 12345-6789")
    if not _ZIP_SHAPE.fullmatch(zip_code.strip()):
        return (
            error(
                "ZIP_FORMAT",
                f"{field}: {zip_code.strip()!r} is not a ZIP code. Enter 5 digits (12345) or ZIP+4 "
                "(12345-6789).",
                field,
            ),
        )
    return NO_FINDINGS


def check_state(state: str, field: str = "state") -> tuple[Finding, ...]:
    """Check that ``state`` is a USPS two-letter state or territory code."""
    if _blank(state):
        return _required(field, "two-letter state code, for example NY")
    if state.strip().upper() not in USPS_STATE_CODES:
        return (
            error(
                "STATE_UNKNOWN",
                f"{field}: {state.strip()!r} is not a USPS state or territory code. Enter the two-letter "
                "abbreviation, for example NY or PR.",
                field,
            ),
        )
    return NO_FINDINGS
