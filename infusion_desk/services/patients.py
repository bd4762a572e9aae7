"""Finding, opening, registering and editing patients, and the insurance policies they carry.

    findings = claim_data_findings(patient, policies, date(2026, 12, 3))
    [f.subject for f in findings]   # ["patient.zip_code", "policy:7.subscriber_birth_date"]

:func:`claim_data_findings` says what a claim for that day would need and is missing; the
subject names the record and field (``patient.<field>`` or ``policy:<id>.<field>``) so the
screen that fixes it can be opened. Policies carry the claim's SBR05 (Medicare secondary
payer type) and SBR09 (claim filing indicator) codes; two policies of the same rank may not
be in force on the same day.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from infusion_desk.billing import validation
from infusion_desk.billing.findings import Finding, error
from infusion_desk.models import InsurancePolicy, Patient, Payer
from infusion_desk.models.db import Database
from infusion_desk.models.enums import PayerType, PolicyRank, Sex, SubscriberRelationship
from infusion_desk.models.patients import search_key
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.concurrency import take_version
from infusion_desk.services.coverage import RANK_ORDER, in_force
from infusion_desk.services.errors import NotFound, PossibleDuplicate, ValidationFailed

SEARCH_LIMIT = 50
_DATE_PATTERNS = ("%m/%d/%Y", "%Y-%m-%d", "%m-%d-%Y", "%m%d%Y")


def _upper(prefix: str) -> str:
    """The smallest string above every string starting with ``prefix``."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _starts(column: sa.ColumnElement[str], name: str) -> sa.ColumnElement[bool]:
    """``column`` starts with the bound prefix ``name``, as a range so both engines use the index."""
    return sa.and_(column >= sa.bindparam(f"{name}_lo"), column < sa.bindparam(f"{name}_hi"))


_DATE_SHAPE = re.compile(r"^\d{1,4}[/-]\d{1,2}[/-]\d{1,4}$|^\d{8}$")


def _parse_date(text: str) -> date | None:
    if not _DATE_SHAPE.match(text):
        return None
    for pattern in _DATE_PATTERNS:
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a date, not a time
        except ValueError:
            continue
    return None


_ROW_COLUMNS = (
    Patient.id,
    Patient.mrn,
    Patient.last_name,
    Patient.first_name,
    Patient.birth_date,
    sa.type_coerce(Patient.sex, sa.String).label("sex"),  # the code as stored: "F", "M", "U"
    Patient.phone,
)


@cache
def _shape(kind: str) -> sa.Select[Any]:
    """One SELECT per kind of search, built once; each keystroke only binds new values."""
    stmt = sa.select(*_ROW_COLUMNS)
    if kind == "dob":
        stmt = stmt.where(Patient.birth_date == sa.bindparam("dob"))
    elif kind == "mrn":
        stmt = stmt.where(_starts(Patient.mrn, "mrn"))
    elif kind == "last":
        stmt = stmt.where(_starts(Patient.search_last, "last"))
    elif kind == "last_first":
        stmt = stmt.where(_starts(Patient.search_last, "last"), _starts(Patient.search_first, "first"))
    elif kind == "word":
        stmt = stmt.where(sa.or_(_starts(Patient.search_last, "a"), _starts(Patient.search_first, "a")))
    else:  # two words, either order
        stmt = stmt.where(
            sa.or_(
                sa.and_(_starts(Patient.search_first, "a"), _starts(Patient.search_last, "b")),
                sa.and_(_starts(Patient.search_last, "a"), _starts(Patient.search_first, "b")),
            )
        )
    return stmt.order_by(Patient.search_last, Patient.search_first, Patient.id).limit(
        sa.bindparam("limit", type_=sa.Integer)
    )


def _bounds(name: str, prefix: str) -> dict[str, str]:
    return {f"{name}_lo": prefix, f"{name}_hi": _upper(prefix)}


def patient_search(query: str, limit: int = SEARCH_LIMIT) -> tuple[sa.Select[Any], dict[str, Any]] | None:
    """The SELECT behind the finder and its parameters: by date of birth, MRN, or name prefixes.

    ``"smi"`` matches last or first names starting with "smi"; ``"smith, jo"`` and
    ``"jo smith"`` match first *and* last name; ``"03/14/1956"`` matches a date of birth;
    anything with a digit otherwise is an MRN prefix.
    """
    text = query.strip()
    if not text:
        return None
    params: dict[str, Any] = {"limit": limit}
    birth_date = _parse_date(text)
    if birth_date is not None:
        return _shape("dob"), {**params, "dob": birth_date}
    if any(ch.isdigit() for ch in text):
        return _shape("mrn"), {**params, **_bounds("mrn", text.upper())}
    if "," in text:
        last, _, first = text.partition(",")
        last_key, first_key = search_key(last), search_key(first)
        if not last_key:
            return None
        if not first_key:
            return _shape("last"), {**params, **_bounds("last", last_key)}
        return _shape("last_first"), {**params, **_bounds("last", last_key), **_bounds("first", first_key)}
    words = [key for key in (search_key(w) for w in text.split()) if key]
    if not words:
        return None
    if len(words) == 1:
        return _shape("word"), {**params, **_bounds("a", words[0])}
    return _shape("two_words"), {**params, **_bounds("a", words[0]), **_bounds("b", words[-1])}


@dataclass(frozen=True, slots=True)
class PatientRow:
    """What the finder lists for each match."""

    id: int
    mrn: str
    last_name: str
    first_name: str
    birth_date: date
    sex: str
    phone: str | None

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


# X12 005010X222A1 SBR05 (insurance type code), sent only when Medicare is a secondary payer:
# the reason Medicare pays second (CMS Medicare Secondary Payer manual, ch. 2; 837P TR3 2000B SBR05).
MEDICARE_SECONDARY_TYPES: dict[str, str] = {
    "12": "Working aged: employer group health plan",
    "13": "End-stage renal disease: employer group health plan",
    "14": "No-fault insurance, including auto",
    "15": "Workers' compensation",
    "16": "Public Health Service or other federal agency",
    "41": "Black lung",
    "42": "Veterans Affairs",
    "43": "Disability: large employer group health plan",
    "47": "Other liability insurance",
}

# X12 005010X222A1 SBR09 (claim filing indicator code), the kind of plan the claim is sent to.
CLAIM_FILING_INDICATORS: dict[str, str] = {
    "11": "Other non-federal program",
    "12": "Preferred provider organization (PPO)",
    "13": "Point of service (POS)",
    "14": "Exclusive provider organization (EPO)",
    "15": "Indemnity insurance",
    "16": "HMO Medicare risk",
    "17": "Dental maintenance organization",
    "AM": "Automobile medical",
    "BL": "Blue Cross/Blue Shield",
    "CH": "CHAMPUS / TRICARE",
    "CI": "Commercial insurance",
    "DS": "Disability",
    "FI": "Federal employees program",
    "HM": "Health maintenance organization (HMO)",
    "LM": "Liability medical",
    "MA": "Medicare Part A",
    "MB": "Medicare Part B",
    "MC": "Medicaid",
    "OF": "Other federal program",
    "TV": "Title V",
    "VA": "Veterans Affairs plan",
    "WC": "Workers' compensation health claim",
    "ZZ": "Mutually defined",
}

DEFAULT_FILING_INDICATOR: dict[PayerType, str] = {
    PayerType.MEDICARE: "MB",
    PayerType.MEDICAID: "MC",
    PayerType.COMMERCIAL: "CI",
}
"""SBR09 when the front desk leaves it blank; an "other" payer has no safe default."""


def filing_indicator(stored: str | None, payer_type: PayerType | None) -> str | None:
    """The SBR09 a claim carries: the policy's own code, else the payer type's default.

    >>> filing_indicator(None, PayerType.MEDICARE), filing_indicator("HM", PayerType.COMMERCIAL)
    ('MB', 'HM')
    """
    if stored:
        return stored
    return DEFAULT_FILING_INDICATOR.get(payer_type) if payer_type is not None else None


@dataclass(frozen=True, slots=True)
class PolicySummary:
    id: int
    rank: PolicyRank
    payer_name: str
    member_id: str
    group_number: str | None
    effective_date: date
    termination_date: date | None
    subscriber_relationship: SubscriberRelationship
    payer_id: int = 0
    payer_type: PayerType | None = None
    plan_name: str | None = None
    subscriber_first_name: str | None = None
    subscriber_last_name: str | None = None
    subscriber_birth_date: date | None = None
    subscriber_sex: Sex | None = None
    subscriber_address1: str | None = None
    subscriber_city: str | None = None
    subscriber_state: str | None = None
    subscriber_zip_code: str | None = None
    medicare_secondary_type: str | None = None
    claim_filing_indicator: str | None = None
    """SBR09 as a claim will carry it (the payer type's default when none was entered)."""
    in_force: bool = True
    """In force on the day the record was opened."""
    version: int = 1
    """The policy's version when read: an edit passes it back (``update_policy(expected_version=)``)."""


def _summary(policy: InsurancePolicy, day: date) -> PolicySummary:
    return PolicySummary(
        id=policy.id,
        rank=policy.rank,
        payer_name=policy.payer.name,
        member_id=policy.member_id,
        group_number=policy.group_number,
        effective_date=policy.effective_date,
        termination_date=policy.termination_date,
        subscriber_relationship=policy.subscriber_relationship,
        payer_id=policy.payer_id,
        payer_type=policy.payer.payer_type,
        plan_name=policy.plan_name,
        subscriber_first_name=policy.subscriber_first_name,
        subscriber_last_name=policy.subscriber_last_name,
        subscriber_birth_date=policy.subscriber_birth_date,
        subscriber_sex=policy.subscriber_sex,
        subscriber_address1=policy.subscriber_address1,
        subscriber_city=policy.subscriber_city,
        subscriber_state=policy.subscriber_state,
        subscriber_zip_code=policy.subscriber_zip_code,
        medicare_secondary_type=policy.medicare_secondary_type,
        claim_filing_indicator=filing_indicator(policy.claim_filing_indicator, policy.payer.payer_type),
        in_force=in_force(policy.effective_date, policy.termination_date, day),
        version=policy.version,
    )


@dataclass(frozen=True, slots=True)
class PatientDetail:
    id: int
    mrn: str
    first_name: str
    middle_name: str | None
    last_name: str
    birth_date: date
    sex: Sex
    address1: str
    address2: str | None
    city: str
    state: str
    zip_code: str
    phone: str | None
    email: str | None
    guarantor_name: str | None
    policies: tuple[PolicySummary, ...]
    guarantor_relationship: str | None = None
    guarantor_phone: str | None = None
    version: int = 1
    """The patient's version when read: an edit passes it back (``update_patient(expected_version=)``)."""

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


@dataclass
class PatientInput:
    first_name: str
    last_name: str
    birth_date: date
    sex: Sex
    address1: str
    city: str
    state: str
    zip_code: str
    middle_name: str | None = None
    address2: str | None = None
    phone: str | None = None
    email: str | None = None
    guarantor_name: str | None = None
    guarantor_relationship: str | None = None
    guarantor_phone: str | None = None
    mrn: str | None = None


@dataclass
class PolicyInput:
    payer_id: int
    rank: PolicyRank
    member_id: str
    effective_date: date
    subscriber_relationship: SubscriberRelationship = SubscriberRelationship.SELF
    group_number: str | None = None
    plan_name: str | None = None
    termination_date: date | None = None
    subscriber_first_name: str | None = None
    subscriber_last_name: str | None = None
    subscriber_birth_date: date | None = None
    subscriber_sex: Sex | None = None
    medicare_secondary_type: str | None = None
    """SBR05: only for Medicare when it is not the primary payer (see MEDICARE_SECONDARY_TYPES)."""
    claim_filing_indicator: str | None = None
    """SBR09; blank takes the payer type's default (see DEFAULT_FILING_INDICATOR)."""
    subscriber_address1: str | None = None
    subscriber_city: str | None = None
    subscriber_state: str | None = None
    subscriber_zip_code: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def validate_patient(data: PatientInput, today: date) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    for name, label in (
        ("first_name", "First name"),
        ("last_name", "Last name"),
        ("address1", "Address"),
        ("city", "City"),
    ):
        if not (getattr(data, name) or "").strip():
            findings.append(error("REQUIRED", f"{label} is required.", name))
    findings.extend(validation.check_birth_date(data.birth_date, today, "birth_date"))
    findings.extend(validation.check_state(data.state))
    findings.extend(validation.check_zip(data.zip_code))
    return tuple(findings)


_MEMBER_ID = re.compile(r"^[A-Za-z0-9-]{1,40}$")


def _code(value: str | None) -> str | None:
    return (value or "").strip().upper() or None


def validate_policy(data: PolicyInput, payer_type: PayerType | None = None) -> tuple[Finding, ...]:
    """Findings about one policy as typed; ``payer_type`` (when known) checks SBR05 against the payer."""
    findings: list[Finding] = []
    member = data.member_id.strip()
    if not member:
        findings.append(error("REQUIRED", "Member ID is required.", "member_id"))
    elif not _MEMBER_ID.match(member):
        findings.append(
            error(
                "MEMBER_ID",
                f"Member ID {member!r}: use letters, digits and hyphens only "
                "(as printed on the card, without spaces).",
                "member_id",
            )
        )
    findings.extend(
        validation.check_policy_dates(data.effective_date, data.termination_date, "termination_date")
    )
    findings.extend(
        validation.check_subscriber(
            data.subscriber_relationship.value,
            data.subscriber_first_name,
            data.subscriber_last_name,
            data.subscriber_birth_date,
            data.subscriber_sex.value if data.subscriber_sex else None,
        )
    )
    if data.subscriber_relationship is not SubscriberRelationship.SELF:
        if (data.subscriber_state or "").strip():
            findings.extend(validation.check_state(data.subscriber_state or "", "subscriber_state"))
        if (data.subscriber_zip_code or "").strip():
            findings.extend(validation.check_zip(data.subscriber_zip_code or "", "subscriber_zip_code"))
    msp = _code(data.medicare_secondary_type)
    if msp is not None:
        if msp not in MEDICARE_SECONDARY_TYPES:
            findings.append(
                error(
                    "SBR05_CODE",
                    f"Medicare secondary payer type {msp!r} is not an SBR05 code. Choose one from the "
                    "list (12 working aged, 13 ESRD, 14 no-fault, 15 workers' comp, 16 federal, 41 black "
                    "lung, 42 VA, 43 disability, 47 other liability).",
                    "medicare_secondary_type",
                )
            )
        elif payer_type is not None and payer_type is not PayerType.MEDICARE:
            findings.append(
                error(
                    "SBR05_NOT_MEDICARE",
                    "The Medicare secondary payer type is only for Medicare policies; clear it for "
                    "this payer.",
                    "medicare_secondary_type",
                )
            )
        elif data.rank is PolicyRank.PRIMARY:
            findings.append(
                error(
                    "SBR05_PRIMARY",
                    "The Medicare secondary payer type says why Medicare pays second: clear it while "
                    "Medicare is the primary policy, or set the rank to secondary.",
                    "medicare_secondary_type",
                )
            )
    sbr09 = _code(data.claim_filing_indicator)
    if sbr09 is not None and sbr09 not in CLAIM_FILING_INDICATORS:
        findings.append(
            error(
                "SBR09_CODE",
                f"Claim filing indicator {sbr09!r} is not an SBR09 code. Choose one from the list "
                "(for example CI commercial, MB Medicare Part B, MC Medicaid, HM HMO), or leave it "
                "blank to use the payer's default.",
                "claim_filing_indicator",
            )
        )
    return tuple(findings)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _missing(code: str, what: str, subject: str) -> Finding:
    return error(code, f"{what} A claim cannot be sent without it.", subject)


def claim_data_findings(
    patient: Patient, policies: Sequence[InsurancePolicy], day: date
) -> tuple[Finding, ...]:
    """What a claim for ``day`` needs from the patient and their policies and is missing.

    Pure over rows already loaded (the policies' payers too), so a work queue can run it over
    many patients. Only policies in force on ``day`` are checked. Each finding's subject is
    ``patient.<field>`` or ``policy:<id>.<field>``: the field to fix and the record it is on.
    """
    findings: list[Finding] = []
    for name, label in (
        ("address1", "street address"),
        ("city", "city"),
        ("state", "state"),
        ("zip_code", "ZIP code"),
    ):
        if _blank(getattr(patient, name)):
            findings.append(
                _missing("CLAIM_PATIENT_ADDRESS", f"The patient's {label} is missing.", f"patient.{name}")
            )
    if not _blank(patient.state):
        findings.extend(
            error("CLAIM_PATIENT_ADDRESS", f.message, "patient.state")
            for f in validation.check_state(patient.state, "state")
        )
    if not _blank(patient.zip_code):
        findings.extend(
            error("CLAIM_PATIENT_ADDRESS", f.message, "patient.zip_code")
            for f in validation.check_zip(patient.zip_code, "zip_code")
        )
    if patient.birth_date is None:
        findings.append(
            _missing(
                "CLAIM_PATIENT_BIRTH_DATE", "The patient's date of birth is missing.", "patient.birth_date"
            )
        )
    if patient.sex is None or patient.sex is Sex.UNKNOWN:
        findings.append(
            error(
                "CLAIM_PATIENT_SEX",
                "The patient's sex is unknown; an 837P claim accepts only female or male. "
                "Ask the patient and edit the record.",
                "patient.sex",
            )
        )
    in_force_now = sorted(
        (p for p in policies if in_force(p.effective_date, p.termination_date, day)),
        key=lambda p: (RANK_ORDER[p.rank], p.id),
    )
    for policy in in_force_now:
        findings.extend(_policy_claim_findings(policy))
    return tuple(findings)


def _policy_claim_findings(policy: InsurancePolicy) -> list[Finding]:
    findings: list[Finding] = []
    payer: Payer | None = policy.payer
    prefix = f"policy:{policy.id}"
    name = f"the {policy.rank.value} policy" + (f" ({payer.name})" if payer is not None else "")
    if _blank(policy.member_id):
        findings.append(
            _missing("CLAIM_MEMBER_ID", f"The member ID of {name} is missing.", f"{prefix}.member_id")
        )
    if payer is None:
        findings.append(_missing("CLAIM_PAYER", f"The payer of {name} is missing.", f"{prefix}.payer_id"))
    elif _blank(payer.payer_id):
        findings.append(
            error(
                "CLAIM_PAYER_ID",
                f"The payer {payer.name} has no clearinghouse payer ID, so {name} cannot be billed "
                "electronically. A manager enters it in the payer settings.",
                f"{prefix}.payer_id",
            )
        )
    if policy.subscriber_relationship is not SubscriberRelationship.SELF:
        for field_name, label in (
            ("subscriber_first_name", "first name"),
            ("subscriber_last_name", "last name"),
            ("subscriber_birth_date", "date of birth"),
            ("subscriber_sex", "sex"),
            ("subscriber_address1", "street address"),
            ("subscriber_city", "city"),
            ("subscriber_state", "state"),
            ("subscriber_zip_code", "ZIP code"),
        ):
            value = getattr(policy, field_name)
            if _blank(value) or value is Sex.UNKNOWN:
                findings.append(
                    _missing(
                        "CLAIM_SUBSCRIBER",
                        f"The subscriber's {label} on {name} is missing (the patient is the "
                        f"subscriber's {policy.subscriber_relationship.value}).",
                        f"{prefix}.{field_name}",
                    )
                )
    if payer is not None and payer.payer_type is PayerType.MEDICARE:
        if policy.rank is not PolicyRank.PRIMARY and _blank(policy.medicare_secondary_type):
            findings.append(
                error(
                    "CLAIM_SBR05",
                    f"Medicare is the {policy.rank.value} payer but the Medicare secondary payer type "
                    "(SBR05: working aged, ESRD, no-fault, workers' comp...) is not recorded. Ask the "
                    "patient why the other plan pays first and edit the policy.",
                    f"{prefix}.medicare_secondary_type",
                )
            )
    if filing_indicator(policy.claim_filing_indicator, payer.payer_type if payer else None) is None:
        findings.append(
            _missing(
                "CLAIM_SBR09",
                f"The claim filing indicator (SBR09) of {name} is not set and the payer type has no default.",
                f"{prefix}.claim_filing_indicator",
            )
        )
    return findings


def _overlaps(a: tuple[date, date | None], b: tuple[date, date | None]) -> bool:
    return a[0] <= (b[1] or date.max) and b[0] <= (a[1] or date.max)


def _rank_conflicts(
    others: Sequence[InsurancePolicy], rank: PolicyRank, effective: date, termination: date | None
) -> tuple[Finding, ...]:
    """Two policies of one patient may not hold the same rank on any common day."""
    for other in others:
        if other.rank is rank and _overlaps(
            (effective, termination), (other.effective_date, other.termination_date)
        ):
            until = f"to {other.termination_date:%m/%d/%Y}" if other.termination_date else "with no end date"
            return (
                error(
                    "RANK_TAKEN",
                    f"The patient already has a {rank.value} policy in force over the same dates "
                    f"({other.payer.name}, member {other.member_id}, from {other.effective_date:%m/%d/%Y} "
                    f"{until}). Two policies in force may not share a rank: terminate that policy, "
                    "choose another rank, or reorder the policies.",
                    "rank",
                ),
            )
    return ()


def _next_mrn(session: Session) -> str:
    highest = session.execute(sa.select(sa.func.max(Patient.id))).scalar_one() or 0
    candidate = highest + 1
    while session.execute(sa.select(Patient.id).where(Patient.mrn == f"M{candidate:07d}")).first():
        candidate += 1
    return f"M{candidate:07d}"


class PatientService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def search(self, actor: Actor, query: str, limit: int = SEARCH_LIMIT) -> list[PatientRow]:
        """Patients matching what the user typed, for the finder (no audit: no record opened)."""
        actor.require(Permission.PATIENT_VIEW)
        search = patient_search(query, limit)
        if search is None:
            return []
        stmt, params = search
        # A read with nothing to write: a plain connection, no unit of work to commit.
        with self._db.read() as connection:
            rows = connection.execute(stmt, params).all()
        return [PatientRow(*row) for row in rows]

    def get(self, actor: Actor, patient_id: int, day: date | None = None) -> PatientDetail:
        """Open a patient's record; the view is written to the audit trail.

        Each policy says whether it is in force on ``day`` (the clinic's today when omitted).
        """
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            patient = session.get(
                Patient,
                patient_id,
                options=[selectinload(Patient.policies).selectinload(InsurancePolicy.payer)],
            )
            if patient is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            on = day or _clinic_today(session)
            audit.record(session, actor, "view", "patient", patient.id, patient_id=patient.id)
            return PatientDetail(
                id=patient.id,
                mrn=patient.mrn,
                first_name=patient.first_name,
                middle_name=patient.middle_name,
                last_name=patient.last_name,
                birth_date=patient.birth_date,
                sex=patient.sex,
                address1=patient.address1,
                address2=patient.address2,
                city=patient.city,
                state=patient.state,
                zip_code=patient.zip_code,
                phone=patient.phone,
                email=patient.email,
                guarantor_name=patient.guarantor_name,
                guarantor_relationship=patient.guarantor_relationship,
                guarantor_phone=patient.guarantor_phone,
                version=patient.version,
                policies=tuple(
                    _summary(p, on)
                    for p in sorted(patient.policies, key=lambda p: (RANK_ORDER[p.rank], p.id))
                ),
            )

    def claim_data(self, actor: Actor, patient_id: int, day: date) -> tuple[Finding, ...]:
        """What a claim for ``day`` would need from this patient's record and is missing."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            patient = session.get(
                Patient,
                patient_id,
                options=[selectinload(Patient.policies).selectinload(InsurancePolicy.payer)],
            )
            if patient is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            return claim_data_findings(patient, patient.policies, day)

    def find_duplicates(
        self, actor: Actor, data: PatientInput, member_ids: tuple[str, ...] = ()
    ) -> list[PatientRow]:
        """Patients already on file with the same name and date of birth, or the same member ID."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return self._duplicates(session, data, member_ids)

    @staticmethod
    def _duplicates(
        session: Session, data: PatientInput, member_ids: tuple[str, ...], exclude: int | None = None
    ) -> list[PatientRow]:
        same_person = sa.and_(
            Patient.search_last == search_key(data.last_name),
            Patient.search_first == search_key(data.first_name),
            Patient.birth_date == data.birth_date,
        )
        members = [m.strip() for m in member_ids if m.strip()]
        condition = same_person
        if members:
            condition = sa.or_(
                same_person,
                Patient.id.in_(
                    sa.select(InsurancePolicy.patient_id).where(InsurancePolicy.member_id.in_(members))
                ),
            )
        if exclude is not None:
            condition = sa.and_(condition, Patient.id != exclude)
        rows = session.execute(sa.select(*_ROW_COLUMNS).where(condition).order_by(Patient.id)).all()
        return [PatientRow(*row) for row in rows]

    @staticmethod
    def _refuse_duplicates(matches: list[PatientRow]) -> None:
        if matches:
            names = "; ".join(f"{m.display_name} ({m.mrn}, born {m.birth_date:%m/%d/%Y})" for m in matches)
            raise PossibleDuplicate(
                f"This patient may already be on file: {names}. Open the existing record, "
                "or save a new one if this is a different person.",
                tuple(matches),
            )

    def register(
        self,
        actor: Actor,
        data: PatientInput,
        today: date,
        *,
        member_ids: tuple[str, ...] = (),
        allow_duplicate: bool = False,
    ) -> int:
        """Create a patient; a rejected save changes nothing.

        A patient with the same name and date of birth (or a policy with one of
        ``member_ids``) raises :class:`PossibleDuplicate` listing them, so the front desk can
        open the existing record instead; ``allow_duplicate`` saves anyway.
        """
        actor.require(Permission.PATIENT_EDIT)
        findings = validate_patient(data, today)
        if any(f.blocks for f in findings):
            raise ValidationFailed(findings)
        with self._db.session() as session:
            if not allow_duplicate:
                self._refuse_duplicates(self._duplicates(session, data, member_ids))
            mrn = (data.mrn or "").strip().upper() or _next_mrn(session)
            if session.execute(sa.select(Patient.id).where(Patient.mrn == mrn)).first():
                raise ValidationFailed([error("MRN_TAKEN", f"MRN {mrn} is already in use.", "mrn")])
            patient = Patient(mrn=mrn)
            _apply_patient(patient, data)
            session.add(patient)
            session.flush()
            audit.record(session, actor, "create", "patient", patient.id, patient_id=patient.id)
            return patient.id

    def update_patient(
        self,
        actor: Actor,
        patient_id: int,
        data: PatientInput,
        today: date,
        *,
        allow_duplicate: bool = False,
        expected_version: int | None = None,
    ) -> int:
        """Correct a patient's demographics and guarantor with the rules of registration.

        A changed name or date of birth that matches another patient on file raises
        :class:`PossibleDuplicate` unless ``allow_duplicate``; the audit trail keeps which
        fields changed. ``data.mrn``, when given, renames the MRN (refused if taken).
        ``expected_version`` is :attr:`PatientDetail.version` as shown: if someone saved the
        patient since, :class:`~infusion_desk.services.concurrency.ChangedElsewhere` says who.
        """
        actor.require(Permission.PATIENT_EDIT)
        findings = validate_patient(data, today)
        if any(f.blocks for f in findings):
            raise ValidationFailed(findings)
        with self._db.session() as session:
            take_version(
                session, Patient, patient_id, expected_version, entity="patient", what="This patient"
            )
            patient = session.get(Patient, patient_id)
            if patient is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            identity_changed = (
                patient.search_last != search_key(data.last_name)
                or patient.search_first != search_key(data.first_name)
                or patient.birth_date != data.birth_date
            )
            if identity_changed and not allow_duplicate:
                self._refuse_duplicates(self._duplicates(session, data, (), exclude=patient.id))
            mrn = (data.mrn or "").strip().upper()
            if mrn and mrn != patient.mrn:
                taken = session.execute(
                    sa.select(Patient.id).where(Patient.mrn == mrn, Patient.id != patient.id)
                ).first()
                if taken:
                    raise ValidationFailed([error("MRN_TAKEN", f"MRN {mrn} is already in use.", "mrn")])
                patient.mrn = mrn
            before = _patient_values(patient)
            _apply_patient(patient, data)
            audit.record(
                session,
                actor,
                "update",
                "patient",
                patient.id,
                patient_id=patient.id,
                detail=_changes(before, _patient_values(patient)),
            )
            return patient.id

    def add_policy(self, actor: Actor, patient_id: int, data: PolicyInput) -> int:
        """Record a policy; a rank already held by a policy in force over the same dates is refused."""
        actor.require(Permission.PATIENT_EDIT)
        findings = validate_policy(data)
        if any(f.blocks for f in findings):
            raise ValidationFailed(findings)
        with self._db.session() as session:
            patient = session.get(Patient, patient_id)
            if patient is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            payer = self._payer(session, data)
            _raise_if_blocking(
                _rank_conflicts(patient.policies, data.rank, data.effective_date, data.termination_date)
            )
            policy = InsurancePolicy(patient_id=patient_id)
            _apply_policy(policy, data, payer)
            session.add(policy)
            session.flush()
            audit.record(session, actor, "create", "insurance_policy", policy.id, patient_id=patient_id)
            return policy.id

    def update_policy(
        self, actor: Actor, policy_id: int, data: PolicyInput, *, expected_version: int | None = None
    ) -> int:
        """Correct a policy (payer, rank, IDs, dates, subscriber, SBR05/SBR09) as add_policy checks it.

        ``expected_version`` is :attr:`PolicySummary.version` as shown (see ``update_patient``).
        """
        actor.require(Permission.PATIENT_EDIT)
        findings = validate_policy(data)
        if any(f.blocks for f in findings):
            raise ValidationFailed(findings)
        with self._db.session() as session:
            take_version(
                session, InsurancePolicy, policy_id, expected_version,
                entity="insurance_policy", what="This insurance policy",
            )
            policy = self._policy(session, policy_id)
            payer = self._payer(session, data)
            others = [p for p in policy.patient.policies if p.id != policy.id]
            _raise_if_blocking(_rank_conflicts(others, data.rank, data.effective_date, data.termination_date))
            before = _policy_values(policy)
            _apply_policy(policy, data, payer)
            audit.record(
                session,
                actor,
                "update",
                "insurance_policy",
                policy.id,
                patient_id=policy.patient_id,
                detail=_changes(before, _policy_values(policy)),
            )
            return policy.patient_id

    def reorder_policies(
        self, actor: Actor, patient_id: int, ordered_policy_ids: Sequence[int], day: date
    ) -> tuple[int, ...]:
        """Rank the policies in force on ``day`` in the given order: primary, secondary, tertiary.

        ``ordered_policy_ids`` must list exactly the policies in force that day. Policies not in
        force keep their rank, and may not end up sharing one with a policy in force over
        common dates. A Medicare policy moved to primary loses its SBR05 code (it only
        applies while Medicare pays second). Returns the policy ids in their new rank order.
        """
        actor.require(Permission.PATIENT_EDIT)
        with self._db.session() as session:
            patient = session.get(
                Patient,
                patient_id,
                options=[selectinload(Patient.policies).selectinload(InsurancePolicy.payer)],
            )
            if patient is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            return self._reorder(session, actor, patient, list(ordered_policy_ids), day)

    def move_policy(self, actor: Actor, policy_id: int, direction: int, day: date) -> tuple[int, ...]:
        """Move a policy in force one rank up (``direction`` -1) or down (+1) among those in force.

        Moving the first up or the last down changes nothing. Returns the new rank order.
        """
        actor.require(Permission.PATIENT_EDIT)
        if direction not in (-1, 1):
            raise ValueError(f"direction must be -1 (up) or 1 (down), not {direction!r}")
        with self._db.session() as session:
            policy = self._policy(session, policy_id)
            if not policy.covers(day):
                ended = (
                    f"terminated on {policy.termination_date:%m/%d/%Y}"
                    if policy.termination_date is not None and policy.termination_date < day
                    else f"starts on {policy.effective_date:%m/%d/%Y}"
                )
                raise ValidationFailed(
                    [
                        error(
                            "POLICY_NOT_IN_FORCE",
                            f"Only policies in force can be reordered; this {policy.rank.value} policy "
                            f"(member {policy.member_id}) {ended}.",
                            "rank",
                        )
                    ]
                )
            current = [p.id for p in _in_force_sorted(policy.patient.policies, day)]
            position = current.index(policy.id)
            target = position + direction
            if 0 <= target < len(current):
                current[position], current[target] = current[target], current[position]
            return self._reorder(session, actor, policy.patient, current, day)

    def terminate_policy(self, actor: Actor, policy_id: int, termination_date: date) -> int:
        """End a policy on ``termination_date`` (its last covered day); it is kept for earlier claims.

        Returns the patient's id. A date before the policy's effective date is refused.
        """
        actor.require(Permission.PATIENT_EDIT)
        with self._db.session() as session:
            policy = self._policy(session, policy_id)
            _raise_if_blocking(
                validation.check_policy_dates(policy.effective_date, termination_date, "termination_date")
            )
            previous = policy.termination_date
            policy.termination_date = termination_date
            audit.record(
                session,
                actor,
                "terminate",
                "insurance_policy",
                policy.id,
                patient_id=policy.patient_id,
                detail={"termination_date": termination_date, "previous": previous},
            )
            return policy.patient_id

    def count(self, actor: Actor) -> int:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return int(session.execute(sa.select(sa.func.count(Patient.id))).scalar_one())

    # --- helpers sharing the caller's unit of work ---------------------------------------

    @staticmethod
    def _policy(session: Session, policy_id: int) -> InsurancePolicy:
        policy = session.get(InsurancePolicy, policy_id)
        if policy is None:
            raise NotFound(f"Insurance policy {policy_id} no longer exists.")
        return policy

    @staticmethod
    def _payer(session: Session, data: PolicyInput) -> Payer:
        payer = session.get(Payer, data.payer_id)
        if payer is None:
            raise ValidationFailed([error("PAYER", "Choose a payer from the list.", "payer_id")])
        _raise_if_blocking(validate_policy(data, payer.payer_type))
        return payer

    @staticmethod
    def _reorder(
        session: Session, actor: Actor, patient: Patient, ordered: list[int], day: date
    ) -> tuple[int, ...]:
        policies = {p.id: p for p in patient.policies}
        in_force_ids = {p.id for p in _in_force_sorted(patient.policies, day)}
        if len(ordered) != len(set(ordered)) or set(ordered) != in_force_ids:
            raise ValidationFailed(
                [
                    error(
                        "POLICY_ORDER",
                        "The policies in force changed while you were reordering them. Reopen the "
                        "patient and try again.",
                        "rank",
                    )
                ]
            )
        ranks = list(PolicyRank)
        if len(ordered) > len(ranks):
            raise ValidationFailed(
                [
                    error(
                        "POLICY_TOO_MANY",
                        f"{len(ordered)} policies are in force, but a claim carries at most three "
                        "(primary, secondary, tertiary). Terminate the policy that no longer applies first.",
                        "rank",
                    )
                ]
            )
        before = {pid: policies[pid].rank for pid in ordered}
        for pid, rank in zip(ordered, ranks, strict=False):
            policies[pid].rank = rank
        moved = [policies[pid] for pid in ordered]
        for policy in moved:
            others = [p for p in patient.policies if p.id not in in_force_ids]
            _raise_if_blocking(
                _rank_conflicts(others, policy.rank, policy.effective_date, policy.termination_date)
            )
        for policy in moved:
            if policy.rank is PolicyRank.PRIMARY and policy.medicare_secondary_type:
                policy.medicare_secondary_type = None
            if before[policy.id] is not policy.rank:
                policy.version += 1  # an edit screen still showing the old rank must not save over it
                audit.record(
                    session,
                    actor,
                    "rerank",
                    "insurance_policy",
                    policy.id,
                    patient_id=patient.id,
                    detail={"from": before[policy.id], "to": policy.rank},
                )
        return tuple(ordered)


def _raise_if_blocking(findings: Sequence[Finding]) -> None:
    if any(f.blocks for f in findings):
        raise ValidationFailed(findings)


def _in_force_sorted(policies: Sequence[InsurancePolicy], day: date) -> list[InsurancePolicy]:
    return sorted(
        (p for p in policies if p.covers(day)),
        key=lambda p: (RANK_ORDER[p.rank], p.id),
    )


def _clinic_today(session: Session) -> date:
    from infusion_desk.models.base import utcnow  # noqa: PLC0415 - keeps the finder's import light
    from infusion_desk.services.coding import clinic_timezone  # noqa: PLC0415

    return utcnow().astimezone(clinic_timezone(session)).date()


def _clean(value: str | None) -> str | None:
    return (value or "").strip() or None


def _apply_patient(patient: Patient, data: PatientInput) -> None:
    patient.first_name = data.first_name.strip()
    patient.middle_name = _clean(data.middle_name)
    patient.last_name = data.last_name.strip()
    patient.search_first = search_key(data.first_name)
    patient.search_last = search_key(data.last_name)
    patient.birth_date = data.birth_date
    patient.sex = data.sex
    patient.address1 = data.address1.strip()
    patient.address2 = _clean(data.address2)
    patient.city = data.city.strip()
    patient.state = data.state.strip().upper()
    patient.zip_code = data.zip_code.strip()
    patient.phone = _clean(data.phone)
    patient.email = _clean(data.email)
    patient.guarantor_name = _clean(data.guarantor_name)
    patient.guarantor_relationship = _clean(data.guarantor_relationship)
    patient.guarantor_phone = _clean(data.guarantor_phone)


_PATIENT_FIELDS = (
    "first_name",
    "middle_name",
    "last_name",
    "birth_date",
    "sex",
    "address1",
    "address2",
    "city",
    "state",
    "zip_code",
    "phone",
    "email",
    "guarantor_name",
    "guarantor_relationship",
    "guarantor_phone",
)


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """The audit trail's account of an edit: which fields changed, what they were and what they are.

    >>> _changes({"city": "Springfield", "phone": None}, {"city": "Shelbyville", "phone": None})
    {'fields': ['city'], 'before': {'city': 'Springfield'}, 'after': {'city': 'Shelbyville'}}
    """
    changed = sorted(k for k, v in after.items() if before[k] != v)

    def text(value: Any) -> Any:
        return value if value is None or isinstance(value, str | int | bool) else str(value)

    return {
        "fields": changed,
        "before": {k: text(before[k]) for k in changed},
        "after": {k: text(after[k]) for k in changed},
    }


def _patient_values(patient: Patient) -> dict[str, Any]:
    return {name: getattr(patient, name) for name in _PATIENT_FIELDS}


def _apply_policy(policy: InsurancePolicy, data: PolicyInput, payer: Payer) -> None:
    other = data.subscriber_relationship is not SubscriberRelationship.SELF
    policy.payer_id = payer.id
    policy.payer = payer
    policy.rank = data.rank
    policy.member_id = data.member_id.strip()
    policy.group_number = _clean(data.group_number)
    policy.plan_name = _clean(data.plan_name)
    policy.subscriber_relationship = data.subscriber_relationship
    policy.subscriber_first_name = _clean(data.subscriber_first_name) if other else None
    policy.subscriber_last_name = _clean(data.subscriber_last_name) if other else None
    policy.subscriber_birth_date = data.subscriber_birth_date if other else None
    policy.subscriber_sex = data.subscriber_sex if other else None
    policy.subscriber_address1 = _clean(data.subscriber_address1) if other else None
    policy.subscriber_city = _clean(data.subscriber_city) if other else None
    policy.subscriber_state = _code(data.subscriber_state) if other else None
    policy.subscriber_zip_code = _clean(data.subscriber_zip_code) if other else None
    policy.effective_date = data.effective_date
    policy.termination_date = data.termination_date
    policy.medicare_secondary_type = _code(data.medicare_secondary_type)
    policy.claim_filing_indicator = _code(data.claim_filing_indicator) or DEFAULT_FILING_INDICATOR.get(
        payer.payer_type
    )


_POLICY_FIELDS = (
    "payer_id",
    "rank",
    "member_id",
    "group_number",
    "plan_name",
    "subscriber_relationship",
    "subscriber_first_name",
    "subscriber_last_name",
    "subscriber_birth_date",
    "subscriber_sex",
    "subscriber_address1",
    "subscriber_city",
    "subscriber_state",
    "subscriber_zip_code",
    "effective_date",
    "termination_date",
    "medicare_secondary_type",
    "claim_filing_indicator",
)


def _policy_values(policy: InsurancePolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in _POLICY_FIELDS}
