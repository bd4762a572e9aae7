"""The claim scrubber: small pure rules over one outgoing claim, run before it may be exported.

A primary claim for one infliximab visit, the drug line without JW or JZ and 60 units
where the authorization has 40 left:

    >>> from infusion_desk.billing.claim_data import (
    ...     Address, BillingProvider, ClaimData, ClaimLineData, Ndc, PatientData, PayerData,
    ...     PersonName, Provider, Subscriber)
    >>> home = Address("12 Elm St", "Springfield", "IL", "62701")
    >>> patient = PatientData(PersonName("Testpatient", "Ann"), date(1970, 5, 1), "F", home, "M0000001")
    >>> claim = ClaimData(
    ...     claim_number="C0000001", responsibility="P", frequency_code="1", place_of_service="11",
    ...     billing=BillingProvider("Fictional Infusion Clinic", "1234567893", "123456789", "261QM1300X",
    ...                             Address("1 Main St", "Springfield", "IL", "627011234")),
    ...     payer=PayerData("Fictional Health Plan", "FHP01"),
    ...     subscriber=Subscriber(patient.name, "MEMBER1", patient.birth_date, "F", home),
    ...     relationship_code="18", patient=patient, filing_indicator="CI", diagnoses=("K5090",),
    ...     lines=(
    ...         ClaimLineData(1, "C0000001L01", date(2026, 11, 2), "96413", Decimal(1),
    ...                       Decimal("350.00"), (1,)),
    ...         ClaimLineData(2, "C0000001L02", date(2026, 11, 2), "J1745", Decimal(60),
    ...                       Decimal("5130.00"), (1,), ndc=Ndc("57894003001", Decimal(6), "UN")),
    ...     ),
    ...     rendering=Provider(PersonName("Doctor", "Dana"), "1245319599"),
    ...     prior_authorization="PA-123")
    >>> context = ScrubContext(
    ...     today=date(2026, 11, 20), tables=CodingTables(),
    ...     authorization_codes=frozenset({"J1745"}),
    ...     authorizations=(AuthorizationFacts(
    ...         "PA-123", "approved", date(2026, 11, 1), date(2027, 1, 31), frozenset({"J1745"}),
    ...         remaining_units=Decimal(40), remaining_visits=None),),
    ...     last_verified=date(2026, 10, 30), reverify_days=30, timely_filing_days=90,
    ...     drug_ndcs={"J1745": frozenset({"57894003001"})}, waste_modifiers="jw_jz",
    ...     single_dose_codes=frozenset({"J1745"}), covered_diagnoses={"J1745": ("K50", "K51")},
    ...     billed_elsewhere=())
    >>> findings = scrub(claim, context)
    >>> [(f.level.value, f.code, fix_target(f)) for f in findings]
    [('error', 'AUTH_UNITS', 'authorization'), ('error', 'WASTE_MODIFIER_MISSING', 'coding')]
    >>> print(findings[0].message)  # doctest: +NORMALIZE_WHITESPACE
    Line 2 J1745: 60 units exceed authorization PA-123's 40 remaining units. Ask the payer to
    extend the authorization or correct the units.
    >>> findings[1].subject
    'coding:2'

Every rule is a function ``(claim, context) -> findings`` listed in :data:`RULES`; a rule
never raises for bad data and never reads anything but its two arguments, so the services
layer loads what the rules need (:class:`ScrubContext`) once for a whole batch of claims.
An error blocks export, a warning is shown and lets the claim go. Each finding's ``subject``
says where the fix is made (see :data:`SUBJECTS` and :func:`fix_target`), with the line
number after a colon when one line is at fault (``"coding:2"``).

Choices a biller may ask about:

* An authorization that *ends soon* is not a scrub finding: the service on this claim was
  already given inside the window, and the renewal is the front desk's work (check-in and
  the renewals list warn about it).
* The MUE rule sums a code's units per date of service across the claim's lines and the
  payer's other live claims, as MUE adjudication indicators 2 and 3 count them (the one
  shipped value, 96361, is MAI 3). :class:`CodingTables` carries no MAI yet, so a code
  with MAI 1 (a per-line limit) is also summed per date.
* Replacement and void claims (frequency 7 and 8) are not held to timely filing from the
  date of service: payers give corrections their own window, which is not on file.
* A corrected claim never duplicates its own original: the services layer leaves the
  original out of ``billed_elsewhere``.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from infusion_desk.billing import validation
from infusion_desk.billing.authorizations import EXPIRING_DAYS
from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.claim_data import Address, BillingProvider, ClaimData, ClaimLineData, Provider
from infusion_desk.billing.coding_input import CodingTables
from infusion_desk.billing.findings import Finding, Level, error, plain, us_date, warning

__all__ = [
    "RULES",
    "SUBJECTS",
    "AuthorizationFacts",
    "BilledLine",
    "Rule",
    "ScrubContext",
    "fix_target",
    "load_covered_diagnoses",
    "scrub",
]

SUBJECTS = frozenset(
    {
        "authorization",
        "eligibility",
        "patient",
        "subscriber",
        "order",
        "coding",
        "charge_master",
        "drug_catalog",
        "provider",
        "clinic",
        "claim",
    }
)
"""Where a finding is fixed; the UI maps each to a screen."""

TIMELY_FILING_WARNING_DAYS = EXPIRING_DAYS
"""A claim this close to its filing deadline is flagged so it goes out first."""

NDC_UNITS = ("UN", "ML", "GR", "F2", "ME")
WASTE_MODIFIERS = frozenset({"JW", "JZ"})
NCCI_MODIFIERS = frozenset({"59", "XE", "XS", "XP", "XU"})
EVALUATION_AND_MANAGEMENT_MODIFIERS = frozenset({"25"})
"""An E/M in an NCCI pair is unbundled with 25, never 59 or X{EPSU} (NCCI manual ch. I, E/M)."""
MEDICARE_FILING_INDICATORS = frozenset({"MA", "MB"})
MEDICARE_SECONDARY_TYPES = frozenset({"12", "13", "14", "15", "16", "41", "42", "43", "47"})
FILING_INDICATORS = frozenset("11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV VA WC ZZ".split())
"""SBR09 code values of the 837P (005010X222A1)."""
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_LINES = 50

_ZIP = re.compile(r"\d{5}(?:\d{4})?")
_ZIP9 = re.compile(r"\d{9}")
_NDC11 = re.compile(r"\d{11}")
_PO_BOX = re.compile(r"\bP\.?\s*O\.?\s*BOX\b|\bPOST\s+OFFICE\s+BOX\b", re.IGNORECASE)
_EVALUATION_AND_MANAGEMENT = re.compile(r"99[2-4]\d\d")
_PREFIX = re.compile(r"[A-Z][0-9A-Z]{0,6}")
_LEVEL_II = re.compile(r"[A-Z]\d{4}")


# --- the context ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthorizationFacts:
    """One prior authorization of the patient on the claim's policy, as the payer approved it."""

    number: str
    status: str
    """An ``AuthorizationStatus`` value: ``approved``, ``requested``, ``pending``, ``denied``, ``expired``."""
    valid_from: date
    valid_to: date
    codes: frozenset[str]
    remaining_units: Decimal | None
    """Units left before this claim (None: not limited by units)."""
    remaining_visits: int | None
    """Visits left before this claim (None: not limited by visits)."""


@dataclass(frozen=True, slots=True)
class BilledLine:
    """A line on another live claim (not voided or rejected) of the same patient."""

    claim_number: str
    payer_id: str
    service_date: date
    code: str
    modifiers: tuple[str, ...]
    units: Decimal


@dataclass(frozen=True, slots=True)
class ScrubContext:
    """Everything the rules read besides the claim, loaded by the services layer."""

    today: date
    tables: CodingTables
    """MUE values and NCCI pairs."""
    authorization_codes: frozenset[str]
    """Codes this payer wants a prior authorization for (empty: none)."""
    authorizations: tuple[AuthorizationFacts, ...]
    """The patient's authorizations on this claim's policy."""
    last_verified: date | None
    """Last eligibility check of the claim's policy that found active coverage."""
    reverify_days: int
    timely_filing_days: int
    drug_ndcs: Mapping[str, frozenset[str]]
    """HCPCS -> the NDCs of its packages in the clinic's drug catalog."""
    waste_modifiers: str
    """The payer's setting: ``jw_jz``, ``jw`` or ``none`` (see ``PayerSettings``)."""
    single_dose_codes: frozenset[str]
    """HCPCS whose stocked packages are single-dose containers."""
    covered_diagnoses: Mapping[str, tuple[str, ...]]
    """HCPCS -> covered ICD-10-CM codes or prefixes, from :func:`load_covered_diagnoses`."""
    billed_elsewhere: tuple[BilledLine, ...]
    ndc_required: bool = True
    """Whether the payer wants the NDC on drug lines."""


Rule = Callable[[ClaimData, ScrubContext], Iterable[Finding]]


# --- small helpers ----------------------------------------------------------------------------


def _blank(value: str | None) -> bool:
    return value is None or not value.strip()


def _mods(line: ClaimLineData) -> frozenset[str]:
    return frozenset(m.strip().upper() for m in line.modifiers)


def _at(subject: str, line: ClaimLineData) -> str:
    return f"{subject}:{line.line_number}"


def _join(items: Sequence[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _lines_label(lines: Sequence[ClaimLineData]) -> str:
    numbers = [str(line.line_number) for line in lines]
    return f"Line {numbers[0]}" if len(numbers) == 1 else f"Lines {_join(numbers)}"


def _is_drug(line: ClaimLineData, context: ScrubContext) -> bool:
    """A drug line: a code of the drug catalog, or a J or Q code (HCPCS Level II drug ranges).

    ``ClaimLineData.is_drug`` also counts G and A codes (G0498 is a pump, not a drug).
    """
    return line.code in context.drug_ndcs or validation.is_drug_code(line.code)


# --- 1. prior authorization -------------------------------------------------------------------

_NOT_APPROVED = (
    ("denied", "AUTH_DENIED", "was denied by the payer"),
    ("pending", "AUTH_PENDING", "is still pending with the payer"),
    ("requested", "AUTH_PENDING", "has been requested but not yet approved"),
    ("expired", "AUTH_EXPIRED", "is marked expired"),
)


def validate_authorization(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """Lines of a code the payer authorizes need an approved authorization for their date.

    Codes match check-in's (``services/authorizations.py``): AUTH_MISSING, AUTH_DENIED,
    AUTH_PENDING, AUTH_EXPIRED, AUTH_UNITS, AUTH_VISITS; and AUTH_NUMBER when the claim does
    not carry the covering authorization's number (837P 2300/2400 REF*G1, x12.md §2).
    """
    if not context.authorization_codes:
        return
    groups: dict[tuple[str, date], list[ClaimLineData]] = {}
    for line in claim.lines:
        if line.code in context.authorization_codes:
            groups.setdefault((line.code, line.service_date), []).append(line)
    used: dict[str, tuple[AuthorizationFacts, list[ClaimLineData]]] = {}
    for (code, day), lines in groups.items():
        label = f"{_lines_label(lines)} {code}"
        subject = _at("authorization", lines[0])
        mine = [a for a in context.authorizations if code in a.codes]
        covering = [a for a in mine if a.valid_from <= day <= a.valid_to]
        approved = [a for a in covering if a.status == "approved"]
        if not approved:
            yield _no_approved(label, code, day, mine, covering, subject)
            continue
        by_number = {a.number: a for a in approved}
        wrong: list[ClaimLineData] = []
        carried: set[str] = set()
        for line in lines:
            number = line.prior_authorization or claim.prior_authorization
            auth = by_number.get(number or "")
            if auth is None:
                wrong.append(line)
                carried.update([number] if number else [])
                auth = approved[0]
            used.setdefault(auth.number, (auth, []))[1].append(line)
        if wrong:
            expected = approved[0].number
            text = (
                f"carries authorization {_join(sorted(carried))}, but {expected} is the one that covers "
                f"{us_date(day)}"
                if carried
                else f"carries no authorization number; {expected} covers {us_date(day)}"
            )
            yield error(
                "AUTH_NUMBER",
                f"{_lines_label(wrong)} {code} {text}. Link the visit to authorization {expected} and "
                "rebuild the claim, so the payer can match it.",
                _at("authorization", wrong[0]),
            )
    for auth, lines in used.values():
        units = sum((line.units for line in lines), Decimal(0))
        if auth.remaining_units is not None and units > auth.remaining_units:
            codes = _join(sorted({line.code for line in lines}))
            left = max(auth.remaining_units, Decimal(0))
            yield error(
                "AUTH_UNITS",
                f"{_lines_label(lines)} {codes}: {plain(units)} units exceed authorization "
                f"{auth.number}'s {plain(left)} remaining units. Ask the payer to extend the "
                "authorization or correct the units.",
                _at("authorization", lines[0]),
            )
        visits = len({line.service_date for line in lines})
        if auth.remaining_visits is not None and visits > auth.remaining_visits:
            yield error(
                "AUTH_VISITS",
                f"Authorization {auth.number} has {max(auth.remaining_visits, 0)} approved visits "
                f"left and this claim bills {visits}. Ask the payer for more visits.",
                _at("authorization", lines[0]),
            )


def _no_approved(
    label: str,
    code: str,
    day: date,
    mine: Sequence[AuthorizationFacts],
    covering: Sequence[AuthorizationFacts],
    subject: str,
) -> Finding:
    for status, finding_code, text in _NOT_APPROVED:
        match = next((a for a in covering if a.status == status), None)
        if match is not None:
            return error(
                finding_code,
                f"{label}: authorization {match.number} {text}, so no approved authorization "
                f"covers {us_date(day)}. Get the payer's approval and record it before sending.",
                subject,
            )
    lapsed = max(
        (a for a in mine if a.status in ("approved", "expired") and a.valid_to < day),
        key=lambda a: a.valid_to,
        default=None,
    )
    if lapsed is not None:
        return error(
            "AUTH_EXPIRED",
            f"{label}: authorization {lapsed.number} expired on {us_date(lapsed.valid_to)}, "
            f"before the service on {us_date(day)}. Ask the payer for a retroactive authorization.",
            subject,
        )
    later = min((a for a in mine if a.valid_from > day), key=lambda a: a.valid_from, default=None)
    hint = (
        f" (authorization {later.number} starts on {us_date(later.valid_from)})" if later is not None else ""
    )
    return error(
        "AUTH_MISSING",
        f"{label}: no approved prior authorization for {code} covers {us_date(day)}{hint}. "
        "Record the payer's authorization, or ask the payer for a retroactive one.",
        subject,
    )


# --- 2. eligibility -----------------------------------------------------------------------------


def validate_eligibility(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """Coverage verified active within the payer's re-verification window before the first service.

    Never verified is an error: there is no evidence of coverage at all, and "not eligible"
    (CARC 27/31) is the most preventable denial. A check older than the window is a
    warning: coverage was active when last asked and usually still is, and one more
    eligibility request settles it, so the claim need not wait.
    """
    if not claim.lines:
        return
    first = claim.service_date_from
    if context.last_verified is None:
        yield error(
            "ELIGIBILITY_NOT_VERIFIED",
            f"Coverage with {claim.payer.name} (member {claim.subscriber.member_id or 'not set'}) "
            "was never verified as active. Run an eligibility check for the policy before sending.",
            "eligibility",
        )
        return
    if context.last_verified < first - timedelta(days=context.reverify_days):
        yield warning(
            "ELIGIBILITY_STALE",
            f"Coverage with {claim.payer.name} was last verified on {us_date(context.last_verified)}, "
            f"more than {context.reverify_days} days before the service on {us_date(first)}. "
            "Run an eligibility check to confirm it was active on that date.",
            "eligibility",
        )


# --- 3. patient, subscriber and billing provider data --------------------------------------------


def _address_gaps(address: Address | None) -> list[str]:
    if address is None:
        return ["address"]
    gaps = []
    if _blank(address.line1):
        gaps.append("street address")
    if _blank(address.city):
        gaps.append("city")
    if _blank(address.state):
        gaps.append("state")
    elif address.state.strip().upper() not in validation.USPS_STATE_CODES:
        gaps.append(f"state ({address.state.strip()!r} is not a USPS state code)")
    if _blank(address.zip_code):
        gaps.append("ZIP code")
    elif not _ZIP.fullmatch(address.zip_code.strip()):
        gaps.append(f"ZIP code ({address.zip_code.strip()!r} is not 5 or 9 digits)")
    return gaps


def validate_patient_and_subscriber(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """What the 837P needs about the patient and the policy (2000B, 2010BA/BB, 2010CA; x12.md §2).

    Codes agree with the front desk's ``services.patients.claim_data_findings``.
    """
    patient = claim.patient
    missing_name = [
        label
        for label, value in (("last name", patient.name.last), ("first name", patient.name.first))
        if _blank(value)
    ]
    if missing_name:
        yield error(
            "CLAIM_PATIENT_NAME",
            f"The patient's {_join(missing_name)} is missing. Edit the patient's record.",
            "patient",
        )
    for finding in validation.check_birth_date(patient.birth_date, context.today):
        when = "in the future" if finding.code == "BIRTH_DATE_FUTURE" else "more than 130 years ago"
        yield error(
            "CLAIM_PATIENT_BIRTH_DATE",
            f"The patient's date of birth {us_date(patient.birth_date)} is {when}. Correct it on the "
            "patient's record.",
            "patient",
        )
    if patient.sex.strip().upper() not in ("F", "M"):
        yield error(
            "CLAIM_PATIENT_SEX",
            "The patient's sex is unknown; an 837P claim accepts only female or male. "
            "Ask the patient and edit the record.",
            "patient",
        )
    gaps = _address_gaps(patient.address)
    if gaps:
        yield error(
            "CLAIM_PATIENT_ADDRESS",
            f"The patient's address needs its {_join(gaps)}. Correct it on the patient's record.",
            "patient",
        )
    subscriber = claim.subscriber
    if _blank(subscriber.member_id):
        yield error(
            "CLAIM_MEMBER_ID",
            f"The member ID of the {claim.payer.name} policy is missing. Copy it from the "
            "insurance card onto the policy.",
            "subscriber",
        )
    if _blank(claim.payer.payer_id):
        yield error(
            "CLAIM_PAYER_ID",
            f"The payer {claim.payer.name} has no clearinghouse payer ID, so the claim cannot be "
            "sent electronically. A manager enters it in the payer settings.",
            "subscriber",
        )
    if not claim.patient_is_subscriber:
        gaps = [
            label
            for label, empty in (
                ("last name", _blank(subscriber.name.last)),
                ("first name", _blank(subscriber.name.first)),
                ("date of birth", subscriber.birth_date is None),
                ("sex", subscriber.sex.strip().upper() not in ("F", "M")),
            )
            if empty
        ]
        gaps += _address_gaps(subscriber.address)
        if gaps:
            yield error(
                "CLAIM_SUBSCRIBER",
                f"The patient is not the subscriber of the {claim.payer.name} policy, and the "
                f"subscriber's {_join(gaps)} is missing or wrong. Enter it on the policy from the "
                "insurance card or the policyholder.",
                "subscriber",
            )
    medicare = claim.filing_indicator.strip().upper() in MEDICARE_FILING_INDICATORS
    if medicare and claim.responsibility in ("S", "T"):
        kind = (claim.medicare_secondary_type or "").strip()
        if kind not in MEDICARE_SECONDARY_TYPES:
            shown = f" ({kind!r} is not a valid code)" if kind else " is not recorded"
            yield error(
                "CLAIM_SBR05",
                f"Medicare is not the primary payer, and the Medicare secondary payer type "
                f"(SBR05: working aged, ESRD, no-fault, workers' comp...){shown}. Ask the patient "
                "why the other plan pays first and edit the policy.",
                "subscriber",
            )
    indicator = claim.filing_indicator.strip().upper()
    if indicator not in FILING_INDICATORS:
        yield error(
            "CLAIM_SBR09",
            f"The claim filing indicator (SBR09) {indicator!r} of the {claim.payer.name} policy is "
            "not an 837P code. Set it on the policy (CI commercial, MB Medicare Part B, MC Medicaid...).",
            "subscriber",
        )
    elif indicator == "ZZ":
        yield warning(
            "CLAIM_SBR09",
            f"The claim filing indicator (SBR09) of the {claim.payer.name} policy is ZZ (mutually "
            "defined), which most payers do not expect. Set the plan's own code on the policy.",
            "subscriber",
        )


def validate_billing_provider(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """The clinic as 2010AA: name, NPI, TIN, taxonomy, street address with a 9-digit ZIP (x12.md §2)."""
    return iter(_billing_provider_findings(claim.billing))


@functools.lru_cache(maxsize=16)
def _billing_provider_findings(billing: BillingProvider) -> tuple[Finding, ...]:
    # every claim of a batch carries the same clinic: its checks run once, not 5,000 times
    return tuple(_check_billing_provider(billing))


def _check_billing_provider(billing: BillingProvider) -> Iterator[Finding]:
    if _blank(billing.name):
        yield error(
            "CLAIM_BILLING_NAME", "The clinic's name is missing. Enter it in Clinic settings.", "clinic"
        )
    for code, findings in (
        ("CLAIM_BILLING_NPI", validation.check_npi(billing.npi, "The clinic's NPI")),
        ("CLAIM_BILLING_TIN", validation.check_tin(billing.tin, "The clinic's tax ID")),
        ("CLAIM_BILLING_TAXONOMY", validation.check_taxonomy(billing.taxonomy, "The clinic's taxonomy")),
    ):
        for finding in findings:
            yield error(code, f"{finding.message} Correct it in Clinic settings.", "clinic")
    gaps = _address_gaps(billing.address)
    if gaps:
        yield error(
            "CLAIM_BILLING_ADDRESS",
            f"The clinic's address needs its {_join(gaps)}. Correct it in Clinic settings.",
            "clinic",
        )
    zip_code = billing.address.zip_code.strip()
    if _ZIP.fullmatch(zip_code) and not _ZIP9.fullmatch(zip_code):
        yield error(
            "CLAIM_BILLING_ZIP",
            f"The clinic's ZIP code {zip_code} has 5 digits; the 837P needs the billing provider's "
            "ZIP+4 (9 digits). Look it up at USPS and enter it in Clinic settings.",
            "clinic",
        )
    if not _blank(billing.address.line1) and _PO_BOX.search(billing.address.line1):
        yield error(
            "CLAIM_BILLING_ADDRESS",
            "The clinic's address is a PO box, which the 837P refuses for the billing provider. "
            "Enter the street address, and the PO box as the pay-to address, in Clinic settings.",
            "clinic",
        )


# --- 4. diagnoses -----------------------------------------------------------------------------


@functools.lru_cache(maxsize=8192)
def _icd10_findings(code: str, position: int) -> tuple[Finding, ...]:
    return tuple(
        error(f.code, f"{f.message} Correct it on the physician's order.", "order")
        for f in validation.check_icd10(code, f"Diagnosis {position}")
    )


def validate_diagnoses(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """Billable ICD-10-CM codes, at most twelve, and line pointers that point at one (HI, SV107)."""
    if not claim.diagnoses:
        yield error(
            "DIAGNOSIS_MISSING",
            "The claim has no diagnosis. Enter the diagnoses on the physician's order and rebuild the claim.",
            "order",
        )
    if len(claim.diagnoses) > MAX_DIAGNOSES:
        yield error(
            "DIAGNOSIS_TOO_MANY",
            f"The claim has {len(claim.diagnoses)} diagnoses; an 837P carries at most {MAX_DIAGNOSES}. "
            "Keep the ones the lines point to on the order.",
            "order",
        )
    for position, code in enumerate(claim.diagnoses, start=1):
        yield from _icd10_findings(code, position)
    count = len(claim.diagnoses)
    for line in claim.lines:
        label = f"Line {line.line_number} {line.code}"
        if not line.diagnosis_pointers:
            if count:
                yield error(
                    "DIAGNOSIS_POINTER_MISSING",
                    f"{label} points to no diagnosis. Point it to the diagnosis it treats.",
                    _at("coding", line),
                )
            continue
        bad = [p for p in line.diagnosis_pointers if not 1 <= p <= count]
        if bad:
            yield error(
                "DIAGNOSIS_POINTER",
                f"{label} points to diagnosis {_join([str(p) for p in bad])}, but the claim has "
                f"{count} diagnos{'i' if count == 1 else 'e'}s. Correct the line's diagnosis pointers.",
                _at("coding", line),
            )
        if len(line.diagnosis_pointers) > MAX_POINTERS:
            yield error(
                "DIAGNOSIS_POINTER",
                f"{label} points to {len(line.diagnosis_pointers)} diagnoses; a line carries at most "
                f"{MAX_POINTERS}. Keep the most relevant ones.",
                _at("coding", line),
            )


# --- 5. drug and diagnosis -----------------------------------------------------------------------


def validate_diagnosis_support(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """A drug billed for none of the diagnoses its covered list names: a medical-necessity risk.

    A warning, not an error: payers also cover compendium-supported uses, and their lists
    differ (``resources/covered_diagnoses.json`` is a starting list the clinic edits).
    """
    count = len(claim.diagnoses)
    unsupported: dict[str, tuple[list[ClaimLineData], set[str]]] = {}
    for line in claim.lines:
        covered = context.covered_diagnoses.get(line.code)
        if not covered:
            continue
        pointed = [claim.diagnoses[p - 1] for p in line.diagnosis_pointers if 1 <= p <= count]
        if not pointed or any(code.upper().startswith(covered) for code in pointed):
            continue
        lines, codes = unsupported.setdefault(line.code, ([], set()))
        lines.append(line)
        codes.update(pointed)
    for hcpcs, (lines, codes) in unsupported.items():
        covered = context.covered_diagnoses[hcpcs]
        listed = ", ".join(validation.format_icd10(c) for c in covered[:8])
        listed += ", ..." if len(covered) > 8 else ""
        shown = _join([validation.format_icd10(c) for c in sorted(codes)])
        yield warning(
            "DIAGNOSIS_NOT_COVERED",
            f"{_lines_label(lines)} {hcpcs}: its diagnosis {shown} is not among the drug's covered "
            f"diagnoses ({listed}), so the payer may deny it as not medically necessary. Check the "
            "order's diagnosis, or the payer's policy for this drug.",
            _at("order", lines[0]),
        )


# --- 6. MUE -----------------------------------------------------------------------------------


def validate_mue(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """Units of a code above its medically unlikely edit (coding-rules §17).

    The MUE adjudication indicator says what the limit counts: MAI 1, each claim line on its
    own; MAI 2 and 3 (and codes without one), every unit of the code on the date of service,
    on this claim and on the payer's other live claims.
    """
    mue = context.tables.mue
    if not mue:
        return
    groups: dict[tuple[str, date, int], list[ClaimLineData]] = {}
    for line in claim.lines:
        if line.code in mue:
            per_line = context.tables.mue_mai.get(line.code) == 1
            groups.setdefault((line.code, line.service_date, line.line_number if per_line else 0), []).append(
                line
            )
    payer_id = claim.payer.payer_id
    for (code, day, line_number), lines in groups.items():
        limit = mue[code]
        units = sum((line.units for line in lines), Decimal(0))
        elsewhere = (
            []
            if line_number
            else [
                b
                for b in context.billed_elsewhere
                if b.code == code and b.service_date == day and b.payer_id == payer_id
            ]
        )
        other_units = sum((b.units for b in elsewhere), Decimal(0))
        if units + other_units <= limit:
            continue
        also = (
            f" plus {plain(other_units)} on claim {_join(sorted({b.claim_number for b in elsewhere}))}"
            if elsewhere
            else ""
        )
        yield error(
            "MUE_EXCEEDED",
            f"{_lines_label(lines)} {code}: {plain(units)} units on {us_date(day)}{also} exceed the "
            f"medically unlikely edit of {limit} {'on one line' if line_number else 'per day'}. Check the "
            "units against the dose and correct the coding; if they are right, the payer will need the "
            "records (appeal).",
            _at("coding", lines[0]),
        )


# --- 7. NCCI ------------------------------------------------------------------------------------


def validate_ncci(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """NCCI procedure-to-procedure pairs on one date (coding-rules §16).

    Indicator 0: never together. Indicator 1: the column-2 line needs 59/XE/XS/XP/XU, or 25
    when the column-2 code is an E/M (coding-rules §15). Indicator 9 (deleted) is ignored.
    Only the pairs of codes present are looked up, so the full CMS table costs nothing per claim.
    """
    pairs = context.tables.ncci_pairs
    if not pairs or len(claim.lines) < 2:
        return
    by_date: dict[date, dict[str, list[ClaimLineData]]] = {}
    for line in claim.lines:
        by_date.setdefault(line.service_date, {}).setdefault(line.code, []).append(line)
    for day, codes in by_date.items():
        if len(codes) < 2:
            continue
        for first, first_lines in codes.items():
            for second, second_lines in codes.items():
                if first == second:
                    continue
                indicator = pairs.get((first, second))
                if indicator is None or indicator == 9:
                    continue
                pair = f"line {first_lines[0].line_number} {first}"
                if indicator == 0:
                    yield error(
                        "NCCI_NOT_ALLOWED",
                        f"{_lines_label(second_lines)} {second} cannot be billed with {pair} on "
                        f"{us_date(day)} (NCCI pair, no modifier allowed). Remove {second} from the "
                        "coding.",
                        _at("coding", second_lines[0]),
                    )
                    continue
                evaluation = _EVALUATION_AND_MANAGEMENT.fullmatch(second) is not None
                allowed = EVALUATION_AND_MANAGEMENT_MODIFIERS if evaluation else NCCI_MODIFIERS
                bare = [line for line in second_lines if not _mods(line) & allowed]
                if bare:
                    wanted = "modifier 25" if evaluation else "59, XE, XS, XP or XU"
                    yield error(
                        "NCCI_MODIFIER_NEEDED",
                        f"{_lines_label(bare)} {second} is bundled into {pair} on {us_date(day)} "
                        f"(NCCI pair). Remove it, or add {wanted} if it was a distinct, documented service.",
                        _at("coding", bare[0]),
                    )


# --- 8. NDC -------------------------------------------------------------------------------------


def _ndc_owner(ndc: str, context: ScrubContext) -> str | None:
    return next((hcpcs for hcpcs, ndcs in context.drug_ndcs.items() if ndc in ndcs), None)


def validate_ndc(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """NDC on drug lines only: 11 digits, of the line's drug, with a quantity and unit (coding-rules §14)."""
    for line in claim.lines:
        label = f"Line {line.line_number} {line.code}"
        drug = _is_drug(line, context)
        ndc = line.ndc
        if ndc is None:
            if drug and context.ndc_required:
                if context.drug_ndcs.get(line.code):
                    yield error(
                        "NDC_MISSING",
                        f"{label} has no NDC and this payer requires one on drug lines. Record the "
                        "NDC of the package given on the visit's administration.",
                        _at("coding", line),
                    )
                else:
                    yield error(
                        "NDC_MISSING",
                        f"{label} has no NDC and this payer requires one on drug lines; the drug "
                        f"catalog lists no package for {line.code}. Add the package's NDC to the catalog.",
                        _at("drug_catalog", line),
                    )
            continue
        if not drug:
            yield error(
                "NDC_NOT_DRUG",
                f"{label} is not a drug code but carries NDC {ndc.code}. Remove the NDC from the line.",
                _at("coding", line),
            )
            continue
        code = ndc.code.strip()
        if not _NDC11.fullmatch(code):
            yield error(
                "NDC_FORMAT",
                f"{label}: NDC {code!r} is not 11 digits (5-4-2, no hyphens). Correct it in the drug "
                "catalog or on the administration.",
                _at("drug_catalog", line),
            )
        else:
            known = context.drug_ndcs.get(line.code)
            if known is not None and code not in known:
                owner = _ndc_owner(code, context)
                if owner is not None:
                    yield error(
                        "NDC_WRONG_DRUG",
                        f"{label}: NDC {code} is a package of {owner}, not {line.code}. Correct the "
                        "NDC or the code on the visit.",
                        _at("coding", line),
                    )
                else:
                    yield error(
                        "NDC_WRONG_DRUG",
                        f"{label}: NDC {code} is not one of the drug catalog's packages of {line.code}. "
                        "Add the package to the catalog if it is right, or correct the NDC on the visit.",
                        _at("drug_catalog", line),
                    )
        if ndc.quantity <= 0:
            yield error(
                "NDC_QUANTITY",
                f"{label}: the NDC quantity is {plain(ndc.quantity)}; it must be more than zero. Check "
                "the dose on the visit and the package size in the drug catalog.",
                _at("coding", line),
            )
        elif ndc.quantity != ndc.quantity.quantize(Decimal("0.001")) or ndc.quantity >= Decimal(10) ** 8:
            yield error(
                "NDC_QUANTITY",
                f"{label}: the NDC quantity {plain(ndc.quantity)} does not fit the claim (at most 8 "
                "digits and 3 decimals). Check the dose and the package size in the drug catalog.",
                _at("coding", line),
            )
        if ndc.unit.strip().upper() not in NDC_UNITS:
            yield error(
                "NDC_UNIT",
                f"{label}: NDC unit {ndc.unit!r} is not one of {', '.join(NDC_UNITS)}. Correct the "
                "package's NDC unit in the drug catalog.",
                _at("drug_catalog", line),
            )


# --- 9. JW / JZ ---------------------------------------------------------------------------------


def validate_waste_modifiers(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """JW and JZ as the payer wants them (coding-rules §13).

    With ``jw_jz`` a single-dose drug is billed either with JZ (nothing discarded) or on a
    line without a waste modifier plus a JW line for the discarded units on the same date.
    JW and JZ never share a line, nor a drug and date. A payer set to ``jw`` or ``none`` does
    not use JZ.
    """
    groups: dict[tuple[str, date], list[tuple[ClaimLineData, frozenset[str]]]] = {}
    for line in claim.lines:
        mods = _mods(line) & WASTE_MODIFIERS
        label = f"Line {line.line_number} {line.code}"
        if mods and not _is_drug(line, context):
            yield error(
                "WASTE_MODIFIER_NOT_DRUG",
                f"{label} is not a drug line but carries {_join(sorted(mods))}. JW and JZ go on drug "
                "lines only: remove the modifier.",
                _at("coding", line),
            )
            continue
        if mods == WASTE_MODIFIERS:
            yield error(
                "WASTE_MODIFIER_CONFLICT",
                f"{label} carries both JW and JZ. Use JZ when nothing was discarded, or bill the "
                "discarded units on their own JW line.",
                _at("coding", line),
            )
            continue
        if "JZ" in mods and context.waste_modifiers != "jw_jz":
            yield warning(
                "WASTE_MODIFIER_JZ",
                f"{label} carries JZ, which this payer does not use. Remove JZ from the line.",
                _at("coding", line),
            )
        if mods and line.code in context.drug_ndcs and line.code not in context.single_dose_codes:
            yield warning(
                "WASTE_MODIFIER_MULTI_DOSE",
                f"{label} carries {_join(sorted(mods))}, but the catalog's packages of {line.code} "
                "are multi-dose: JW and JZ apply to single-dose containers only. Remove it, or "
                "correct the catalog.",
                _at("coding", line),
            )
        if line.code in context.single_dose_codes:
            groups.setdefault((line.code, line.service_date), []).append((line, mods))
    for (code, _day), lines in groups.items():
        has_jw = any("JW" in mods for _, mods in lines)
        has_jz = [line for line, mods in lines if "JZ" in mods]
        if has_jw and has_jz and context.waste_modifiers == "jw_jz":
            yield error(
                "WASTE_MODIFIER_CONFLICT",
                f"{_lines_label(has_jz)} {code} carries JZ (nothing discarded) while a JW line bills "
                "discarded units on the same date. Remove one of them.",
                _at("coding", has_jz[0]),
            )
        if context.waste_modifiers != "jw_jz" or has_jw:
            continue
        bare = [line for line, mods in lines if not mods]
        if bare:
            yield error(
                "WASTE_MODIFIER_MISSING",
                f"{_lines_label(bare)} {code} is a single-dose drug and this payer wants JW or JZ: add JZ "
                "if nothing was discarded, or a JW line with the discarded units.",
                _at("coding", bare[0]),
            )


# --- 10. duplicates ------------------------------------------------------------------------------


def validate_duplicates(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """A line already billed to this payer on another live claim (CARC 18 duplicate).

    The services layer leaves out a corrected claim's own original (frequency 7/8) and
    voided or rejected claims, so what remains is a real second bill.
    """
    seen: dict[tuple[date, str, frozenset[str]], ClaimLineData] = {}
    for line in claim.lines:
        key = (line.service_date, line.code, _mods(line))
        if key in seen:
            yield warning(
                "DUPLICATE_LINE_IN_CLAIM",
                f"Line {line.line_number} {line.code} repeats line {seen[key].line_number} (same date, "
                "code and modifiers). Put the units on one line, or add the modifier that tells them apart.",
                _at("coding", line),
            )
        else:
            seen[key] = line
    if not context.billed_elsewhere:
        return
    payer_id = claim.payer.payer_id
    billed: dict[tuple[date, str, frozenset[str]], list[str]] = {}
    for other in context.billed_elsewhere:
        if other.payer_id == payer_id:
            key = (other.service_date, other.code, frozenset(m.strip().upper() for m in other.modifiers))
            billed.setdefault(key, []).append(other.claim_number)
    for key, line in seen.items():
        numbers = billed.get(key)
        if numbers:
            mods = f" {'-'.join(sorted(key[2]))}" if key[2] else ""
            yield error(
                "DUPLICATE_LINE",
                f"Line {line.line_number} {line.code}{mods} on {us_date(line.service_date)} is already "
                f"billed to {claim.payer.name} on claim {_join(sorted(set(numbers)))}. Void one of the "
                "claims, or send this one as a replacement of the other.",
                _at("claim", line),
            )


# --- 11. timely filing ---------------------------------------------------------------------------


def validate_timely_filing(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """The payer's filing limit counted from the first date of service (coding-rules §19).

    For a secondary claim many payers count from the prior payer's remittance instead; past
    the date-of-service limit but inside that one is a warning, not an error.
    """
    if not claim.lines or claim.frequency_code in ("7", "8"):
        return
    first = claim.service_date_from
    deadline = first + timedelta(days=context.timely_filing_days)
    if context.today > deadline:
        adjudicated = max((p.adjudication_date for p in claim.other_payers), default=None)
        window = timedelta(days=context.timely_filing_days)
        if adjudicated is not None and context.today <= adjudicated + window:
            yield warning(
                "TIMELY_FILING_SECONDARY",
                f"The filing limit of {context.timely_filing_days} days from the service on "
                f"{us_date(first)} passed on {us_date(deadline)}; the prior payer's remittance is of "
                f"{us_date(adjudicated)}. Send it today if this payer counts from the remittance.",
                "claim",
            )
            return
        yield error(
            "TIMELY_FILING_PASSED",
            f"The payer's filing limit of {context.timely_filing_days} days from the service on "
            f"{us_date(first)} passed on {us_date(deadline)}. Send it only with proof of timely filing "
            "or an exception; otherwise write it off.",
            "claim",
        )
    elif (deadline - context.today).days <= TIMELY_FILING_WARNING_DAYS:
        yield warning(
            "TIMELY_FILING_SOON",
            f"The payer's filing limit for the service on {us_date(first)} ends on {us_date(deadline)}. "
            "Send this claim first.",
            "claim",
        )


# --- 12. lines and charges -----------------------------------------------------------------------


def validate_charges(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """Every line has units and a charge above zero, and the claim has 1 to 50 lines (837P 2400)."""
    if not claim.lines:
        yield error(
            "CLAIM_NO_LINES",
            "The claim has no lines. Code the visit and rebuild the claim.",
            "coding",
        )
        return
    if len(claim.lines) > MAX_LINES:
        yield error(
            "CLAIM_TOO_MANY_LINES",
            f"The claim has {len(claim.lines)} lines; an 837P claim carries at most {MAX_LINES}. "
            "Split the visit's services over two claims.",
            "claim",
        )
    for line in claim.lines:
        if line.units <= 0:
            yield error(
                "LINE_UNITS",
                f"Line {line.line_number} {line.code} bills {plain(line.units)} units. Correct the "
                "units on the visit's coding.",
                _at("coding", line),
            )
        if line.charge <= 0:
            yield error(
                "CHARGE_NOT_POSITIVE",
                f"Line {line.line_number} {line.code} is charged ${line.charge}. Enter a price for "
                f"{line.code} in the charge master (or the drug's unit price) and rebuild the claim.",
                _at("charge_master", line),
            )
    if claim.total_charge <= 0:
        yield error(
            "CHARGE_TOTAL",
            f"The claim's total charge is ${claim.total_charge}; it must be more than zero. Enter "
            "the prices in the charge master and rebuild the claim.",
            "charge_master",
        )


# --- 13. providers -------------------------------------------------------------------------------


def validate_providers(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """The rendering provider (2310B, box 24J) with a valid NPI; an ordering provider's NPI if given."""
    return iter(_provider_findings(claim.rendering, claim.ordering))


@functools.lru_cache(maxsize=512)
def _provider_findings(rendering: Provider | None, ordering: Provider | None) -> tuple[Finding, ...]:
    # a clinic has a handful of providers: each pair is checked once per process
    return tuple(_check_providers(rendering, ordering))


def _check_providers(rendering: Provider | None, ordering: Provider | None) -> Iterator[Finding]:
    if rendering is None:
        yield error(
            "RENDERING_MISSING",
            "The claim has no rendering provider. Choose the provider who supervised the visit and "
            "rebuild the claim.",
            "provider",
        )
    else:
        name = f"{rendering.name.first} {rendering.name.last}".strip() or "the rendering provider"
        for finding in validation.check_npi(rendering.npi, f"Rendering provider {name}"):
            code = "RENDERING_NPI_MISSING" if finding.code == "REQUIRED" else "RENDERING_NPI"
            yield error(code, f"{finding.message} Correct it in the provider list.", "provider")
    if ordering is not None:
        name = f"{ordering.name.first} {ordering.name.last}".strip() or "the ordering provider"
        for finding in validation.check_npi(ordering.npi, f"Ordering provider {name}"):
            yield error("ORDERING_NPI", f"{finding.message} Correct it in the provider list.", "provider")


# --- 14. frequency -------------------------------------------------------------------------------


def validate_frequency(claim: ClaimData, context: ScrubContext) -> Iterator[Finding]:
    """CLM05-3 is 1, 7 or 8, and 7/8 carry the payer's claim number (REF*F8, x12.md §2)."""
    frequency = claim.frequency_code.strip()
    if frequency not in ("1", "7", "8"):
        yield error(
            "FREQUENCY_CODE",
            f"The claim frequency code {frequency!r} is not 1 (original), 7 (replacement) or 8 (void).",
            "claim",
        )
    elif frequency in ("7", "8") and _blank(claim.payer_claim_control_number):
        kind = "replacement" if frequency == "7" else "void"
        yield error(
            "FREQUENCY_NO_ICN",
            f"This {kind} claim (frequency {frequency}) does not carry the payer's claim number of the "
            "original (REF*F8), and the payer will reject it. Record the payer's claim number from "
            "the original's remittance or acknowledgement.",
            "claim",
        )


# --- the registry ----------------------------------------------------------------------------------

RULES: tuple[tuple[str, Rule], ...] = (
    ("authorization", validate_authorization),
    ("eligibility", validate_eligibility),
    ("patient_and_subscriber", validate_patient_and_subscriber),
    ("billing_provider", validate_billing_provider),
    ("diagnoses", validate_diagnoses),
    ("diagnosis_support", validate_diagnosis_support),
    ("mue", validate_mue),
    ("ncci", validate_ncci),
    ("ndc", validate_ndc),
    ("waste_modifiers", validate_waste_modifiers),
    ("duplicates", validate_duplicates),
    ("timely_filing", validate_timely_filing),
    ("charges", validate_charges),
    ("providers", validate_providers),
    ("frequency", validate_frequency),
)
"""Every scrub rule by name, in the order their findings are shown."""


def scrub(claim: ClaimData, context: ScrubContext) -> tuple[Finding, ...]:
    """All findings for ``claim``: errors first, then warnings, each in :data:`RULES` order."""
    findings = [finding for _name, rule in RULES for finding in rule(claim, context)]
    return tuple(sorted(findings, key=lambda f: f.level is not Level.ERROR))


def fix_target(finding: Finding) -> str:
    """Where the user fixes ``finding``: its subject before the colon (``"coding:3"`` -> ``"coding"``).

    A subject outside :data:`SUBJECTS` (or none) sends the user to the claim itself.

    >>> fix_target(error("NDC_MISSING", "...", "drug_catalog:2")), fix_target(error("X", "..."))
    ('drug_catalog', 'claim')
    """
    target = finding.subject.partition(":")[0]
    return target if target in SUBJECTS else "claim"


# --- covered diagnoses ------------------------------------------------------------------------------

COVERED_DIAGNOSES_FILE = "covered_diagnoses.json"


def load_covered_diagnoses(text: str | None = None) -> dict[str, tuple[str, ...]]:
    """HCPCS -> covered ICD-10-CM codes or prefixes (no dots), from ``covered_diagnoses.json``.

    ``text`` is a file's content; without it the shipped ``resources/covered_diagnoses.json``
    is read (once per process). A malformed file raises ``ValueError`` naming the entry:

    >>> load_covered_diagnoses('{"drugs": [{"hcpcs": "J1745", "codes": {"K50": "Crohn"}}]}')
    {'J1745': ('K50',)}
    >>> load_covered_diagnoses('{"drugs": [{"hcpcs": "J1745", "codes": {"50K": "?"}}]}')
    Traceback (most recent call last):
    ...
    ValueError: covered_diagnoses.json: drugs[0] (J1745): '50K' is not an ICD-10-CM code or prefix ...
    """
    if text is None:
        return dict(_shipped_covered_diagnoses())
    return dict(_parse_covered_diagnoses(text))


@functools.cache
def _shipped_covered_diagnoses() -> tuple[tuple[str, tuple[str, ...]], ...]:
    return _parse_covered_diagnoses(read_resource_text(COVERED_DIAGNOSES_FILE))


def _parse_covered_diagnoses(text: str) -> tuple[tuple[str, tuple[str, ...]], ...]:
    where = COVERED_DIAGNOSES_FILE
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("drugs"), list):
        raise ValueError(f'{where}: the top level must be an object with a "drugs" list')
    entries: dict[str, tuple[str, ...]] = {}
    for index, item in enumerate(data["drugs"]):
        entry = f"{where}: drugs[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f"{entry}: must be an object with hcpcs and codes")
        hcpcs = item.get("hcpcs")
        if not isinstance(hcpcs, str) or not _LEVEL_II.fullmatch(hcpcs.strip().upper()):
            raise ValueError(f"{entry}: hcpcs {hcpcs!r} is not a HCPCS Level II code like J1745")
        hcpcs = hcpcs.strip().upper()
        entry = f"{entry} ({hcpcs})"
        if hcpcs in entries:
            raise ValueError(f"{entry}: {hcpcs} is listed twice; keep one entry per drug")
        codes = item.get("codes")
        if not isinstance(codes, dict) or not codes:
            raise ValueError(
                f'{entry}: "codes" must be a non-empty object of ICD-10-CM code or prefix -> indication'
            )
        prefixes: list[str] = []
        for raw, label in codes.items():
            prefix = validation.normalize_icd10(raw)
            if not _PREFIX.fullmatch(prefix):
                raise ValueError(
                    f"{entry}: {raw!r} is not an ICD-10-CM code or prefix (a letter, then up to 6 "
                    "letters or digits, e.g. K50 or K50.90)"
                )
            if not isinstance(label, str):
                raise ValueError(f"{entry}: the indication of {raw!r} must be text")
            if prefix not in prefixes:
                prefixes.append(prefix)
        entries[hcpcs] = tuple(prefixes)
    return tuple(entries.items())
