"""Finding, opening and registering patients, and the insurance policies they carry."""

from __future__ import annotations

import re
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
from infusion_desk.models.enums import PolicyRank, Sex, SubscriberRelationship
from infusion_desk.models.patients import search_key
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
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
    claim_filing_indicator: str | None = None
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


def validate_policy(data: PolicyInput) -> tuple[Finding, ...]:
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
    return tuple(findings)


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

    def get(self, actor: Actor, patient_id: int) -> PatientDetail:
        """Open a patient's record; the view is written to the audit trail."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            patient = session.get(
                Patient,
                patient_id,
                options=[selectinload(Patient.policies).selectinload(InsurancePolicy.payer)],
            )
            if patient is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
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
                policies=tuple(
                    PolicySummary(
                        p.id,
                        p.rank,
                        p.payer.name,
                        p.member_id,
                        p.group_number,
                        p.effective_date,
                        p.termination_date,
                        p.subscriber_relationship,
                    )
                    for p in patient.policies
                ),
            )

    def find_duplicates(
        self, actor: Actor, data: PatientInput, member_ids: tuple[str, ...] = ()
    ) -> list[PatientRow]:
        """Patients already on file with the same name and date of birth, or the same member ID."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return self._duplicates(session, data, member_ids)

    @staticmethod
    def _duplicates(session: Session, data: PatientInput, member_ids: tuple[str, ...]) -> list[PatientRow]:
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
        rows = session.execute(sa.select(*_ROW_COLUMNS).where(condition).order_by(Patient.id)).all()
        return [PatientRow(*row) for row in rows]

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
                matches = self._duplicates(session, data, member_ids)
                if matches:
                    names = "; ".join(
                        f"{m.display_name} ({m.mrn}, born {m.birth_date:%m/%d/%Y})" for m in matches
                    )
                    raise PossibleDuplicate(
                        f"This patient may already be on file: {names}. Open the existing record, "
                        "or save a new one if this is a different person.",
                        tuple(matches),
                    )
            mrn = (data.mrn or "").strip().upper() or _next_mrn(session)
            if session.execute(sa.select(Patient.id).where(Patient.mrn == mrn)).first():
                raise ValidationFailed([error("MRN_TAKEN", f"MRN {mrn} is already in use.", "mrn")])
            patient = Patient(
                mrn=mrn,
                first_name=data.first_name.strip(),
                middle_name=(data.middle_name or "").strip() or None,
                last_name=data.last_name.strip(),
                search_first=search_key(data.first_name),
                search_last=search_key(data.last_name),
                birth_date=data.birth_date,
                sex=data.sex,
                address1=data.address1.strip(),
                address2=(data.address2 or "").strip() or None,
                city=data.city.strip(),
                state=data.state.strip().upper(),
                zip_code=data.zip_code.strip(),
                phone=data.phone,
                email=data.email,
                guarantor_name=data.guarantor_name,
                guarantor_relationship=data.guarantor_relationship,
                guarantor_phone=data.guarantor_phone,
            )
            session.add(patient)
            session.flush()
            audit.record(session, actor, "create", "patient", patient.id, patient_id=patient.id)
            return patient.id

    def add_policy(self, actor: Actor, patient_id: int, data: PolicyInput) -> int:
        actor.require(Permission.PATIENT_EDIT)
        findings = validate_policy(data)
        if any(f.blocks for f in findings):
            raise ValidationFailed(findings)
        with self._db.session() as session:
            if session.get(Patient, patient_id) is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            if session.get(Payer, data.payer_id) is None:
                raise ValidationFailed([error("PAYER", "Choose a payer from the list.", "payer_id")])
            policy = InsurancePolicy(
                patient_id=patient_id,
                payer_id=data.payer_id,
                rank=data.rank,
                member_id=data.member_id.strip(),
                group_number=data.group_number,
                plan_name=data.plan_name,
                subscriber_relationship=data.subscriber_relationship,
                subscriber_first_name=data.subscriber_first_name,
                subscriber_last_name=data.subscriber_last_name,
                subscriber_birth_date=data.subscriber_birth_date,
                subscriber_sex=data.subscriber_sex,
                effective_date=data.effective_date,
                termination_date=data.termination_date,
                medicare_secondary_type=data.medicare_secondary_type,
                claim_filing_indicator=data.claim_filing_indicator,
            )
            session.add(policy)
            session.flush()
            audit.record(session, actor, "create", "insurance_policy", policy.id, patient_id=patient_id)
            return policy.id

    def count(self, actor: Actor) -> int:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return int(session.execute(sa.select(sa.func.count(Patient.id))).scalar_one())
