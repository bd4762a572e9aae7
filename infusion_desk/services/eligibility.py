"""Eligibility verification: the manual log, the 270 export, the 271 import, and the re-verification rule.

    finding = verification_finding(session, policy, date(2026, 12, 3))
    finding.code if finding else None   # "ELIGIBILITY_UNVERIFIED" when the check is missing or stale

A policy counts as verified for a day when its latest check on or before that day is
active, falls within the payer's re-verification window (``Payer.reverify_days``,
30 by default) and is in the same calendar year: deductibles reset on January 1st.

The front desk records what a portal or a phone call said (:meth:`EligibilityService.record`),
exports a 270 batch for the coming days' appointments and imports the clearinghouse's
271 answers into the same log. A 271 that cannot be read is refused as a whole with the
reader's message; an answer about someone not on file is reported, never recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.findings import Finding, error
from infusion_desk.billing.money import money, quantity
from infusion_desk.billing.x12 import eligibility as x12
from infusion_desk.billing.x12.syntax import X12Error
from infusion_desk.models import Clinic, EligibilityCheck, InsurancePolicy, Patient, Payer, User, Visit
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import (
    EligibilityStatus,
    SubscriberRelationship,
    VerificationMethod,
    VisitStatus,
)
from infusion_desk.models.patients import search_key
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.clearinghouse import MISSING_PROFILE, load_profile
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.control_numbers import GROUP, INTERCHANGE, next_control_number
from infusion_desk.services.coverage import active_policies, in_force
from infusion_desk.services.errors import NotFound, ValidationFailed

DEFAULT_REVERIFY_DAYS = 30


def _end_of_day_utc(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def latest_check(session: Session, policy_id: int) -> EligibilityCheck | None:
    """The policy's most recent verification, whatever its outcome."""
    return session.scalars(
        sa.select(EligibilityCheck)
        .where(EligibilityCheck.policy_id == policy_id)
        .order_by(EligibilityCheck.checked_at.desc(), EligibilityCheck.id.desc())
        .limit(1)
    ).first()


def verification_due(checked_on: date, reverify_days: int) -> date:
    """The last day a check made on ``checked_on`` still counts: the window, cut at December 31st.

    >>> verification_due(date(2026, 11, 20), 30)
    datetime.date(2026, 12, 20)
    >>> verification_due(date(2026, 12, 15), 30)
    datetime.date(2026, 12, 31)
    """
    return min(checked_on + timedelta(days=reverify_days), date(checked_on.year, 12, 31))


def _problem(
    policy: InsurancePolicy, check: EligibilityCheck | None, day: date, zone: ZoneInfo
) -> Finding | None:
    payer: Payer = policy.payer
    window = payer.reverify_days or DEFAULT_REVERIFY_DAYS
    label = f"{payer.name} ({policy.rank.value}, member {policy.member_id})"
    if check is None:
        return error(
            "ELIGIBILITY_UNVERIFIED",
            f"Eligibility with {label} has never been verified: verify it before {day:%m/%d/%Y}.",
            "eligibility",
        )
    checked_on = check.checked_at.astimezone(zone).date()
    if check.status is EligibilityStatus.INACTIVE:
        return error(
            "ELIGIBILITY_UNVERIFIED",
            f"{label} said the coverage was inactive when verified on {checked_on:%m/%d/%Y}: "
            "verify again or record the patient's current coverage.",
            "eligibility",
        )
    if check.status is EligibilityStatus.ERROR:
        reason = f" ({check.rejection})" if check.rejection else ""
        return error(
            "ELIGIBILITY_UNVERIFIED",
            f"The last verification with {label} on {checked_on:%m/%d/%Y} was rejected{reason}: "
            "verify again by portal or phone.",
            "eligibility",
        )
    if checked_on.year < day.year:
        return error(
            "ELIGIBILITY_UNVERIFIED",
            f"Eligibility with {label} was last verified on {checked_on:%m/%d/%Y}, before the new "
            f"calendar year: verify it again for {day:%m/%d/%Y}.",
            "eligibility",
        )
    if (day - checked_on).days > window:
        return error(
            "ELIGIBILITY_UNVERIFIED",
            f"Eligibility with {label} was last verified on {checked_on:%m/%d/%Y}, more than "
            f"{window} days before {day:%m/%d/%Y}: verify it again.",
            "eligibility",
        )
    return None


def verification_finding(session: Session, policy: InsurancePolicy, day: date) -> Finding | None:
    """An error finding when ``policy`` is not verified for a visit on ``day``, else ``None``."""
    zone = clinic_timezone(session)
    check = session.scalars(
        sa.select(EligibilityCheck)
        .where(
            EligibilityCheck.policy_id == policy.id,
            EligibilityCheck.checked_at < _end_of_day_utc(day, zone),
        )
        .order_by(EligibilityCheck.checked_at.desc(), EligibilityCheck.id.desc())
        .limit(1)
    ).first()
    return _problem(policy, check, day, zone)


def unverified_policy_ids(session: Session, pairs: list[tuple[int, date]]) -> set[tuple[int, date]]:
    """The (policy id, day) pairs among ``pairs`` that :func:`verification_finding` would flag."""
    return set(verification_findings(session, pairs))


def verification_findings(
    session: Session, pairs: list[tuple[int, date]]
) -> dict[tuple[int, date], Finding]:
    """What :func:`verification_finding` says for each flagged (policy id, day) pair.

    One query for the policies and one for their checks, however many pairs: for work queues.
    """
    if not pairs:
        return {}
    zone = clinic_timezone(session)
    ids = sorted({policy_id for policy_id, _ in pairs})
    policies = {
        p.id: p for p in session.scalars(sa.select(InsurancePolicy).where(InsurancePolicy.id.in_(ids))).all()
    }
    session.scalars(sa.select(Payer).where(Payer.id.in_({p.payer_id for p in policies.values()}))).all()
    checks: dict[int, list[EligibilityCheck]] = {}
    for check in session.scalars(
        sa.select(EligibilityCheck)
        .where(EligibilityCheck.policy_id.in_(ids))
        .order_by(EligibilityCheck.checked_at.desc(), EligibilityCheck.id.desc())
    ):
        checks.setdefault(check.policy_id, []).append(check)
    flagged: dict[tuple[int, date], Finding] = {}
    for policy_id, day in pairs:
        policy = policies.get(policy_id)
        if policy is None:
            flagged[(policy_id, day)] = error(
                "ELIGIBILITY_UNVERIFIED", "That insurance policy is no longer on file.", "eligibility"
            )
            continue
        end = _end_of_day_utc(day, zone)
        latest = next((c for c in checks.get(policy_id, ()) if c.checked_at < end), None)
        problem = _problem(policy, latest, day, zone)
        if problem is not None:
            flagged[(policy_id, day)] = problem
    return flagged


# ----------------------------------------------------------------------------------------------
# What the service takes and returns


@dataclass
class EligibilityInput:
    """The verification form, as typed: amounts are strings until validated."""

    method: VerificationMethod | str
    checked_on: date
    active: bool
    reference_number: str = ""
    copay: str = ""
    deductible: str = ""
    deductible_met: str = ""
    coinsurance_percent: str = ""
    out_of_pocket_max: str = ""
    out_of_pocket_met: str = ""
    notes: str = ""


@dataclass(frozen=True, slots=True)
class EligibilityRow:
    id: int
    policy_id: int
    policy_label: str
    payer_name: str
    checked_at: datetime
    checked_on: date
    checked_by: str
    method: VerificationMethod
    status: EligibilityStatus
    reference_number: str | None
    copay: Decimal | None
    deductible: Decimal | None
    deductible_met: Decimal | None
    coinsurance_percent: Decimal | None
    out_of_pocket_max: Decimal | None
    out_of_pocket_met: Decimal | None
    rejection: str | None
    notes: str | None


@dataclass(frozen=True, slots=True)
class PolicyVerification:
    """Where one policy stands today: the status line above the log."""

    policy_id: int
    policy_label: str
    checked_on: date | None
    due_by: date | None
    status: EligibilityStatus | None
    verified: bool
    rejection: str | None = None

    @property
    def line(self) -> str:
        if self.checked_on is None:
            return f"{self.policy_label}: Not verified"
        when = f"{self.checked_on:%m/%d/%Y}"
        if self.status is EligibilityStatus.INACTIVE:
            return f"{self.policy_label}: Inactive per the check of {when} — verify the current coverage"
        if self.status is EligibilityStatus.ERROR:
            reason = f": {self.rejection}" if self.rejection else ""
            return f"{self.policy_label}: Rejected {when}{reason}"
        assert self.due_by is not None
        if not self.verified:
            return f"{self.policy_label}: Verified {when} — overdue since {self.due_by:%m/%d/%Y}"
        return f"{self.policy_label}: Verified {when} — due again by {self.due_by:%m/%d/%Y}"


@dataclass(frozen=True, slots=True)
class Skipped:
    patient_name: str
    mrn: str
    date_of_service: date
    reason: str

    @property
    def line(self) -> str:
        return f"{self.patient_name} ({self.mrn}) on {self.date_of_service:%m/%d/%Y}: {self.reason}"


@dataclass(frozen=True, slots=True)
class Export270Result:
    text: str
    """The file to upload; empty when there was nothing to ask."""
    inquiries: int
    patients: int
    payers: int
    skipped: tuple[Skipped, ...]
    interchange_control_number: int | None
    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class ImportedAnswer:
    check_id: int
    patient_id: int
    patient_name: str
    policy_label: str
    status: EligibilityStatus
    rejection: str | None

    @property
    def line(self) -> str:
        if self.status is EligibilityStatus.ERROR:
            return f"{self.patient_name}, {self.policy_label}: rejected — {self.rejection}"
        return f"{self.patient_name}, {self.policy_label}: {self.status.value}"


@dataclass(frozen=True, slots=True)
class Import271Result:
    source_name: str
    recorded: tuple[ImportedAnswer, ...]
    unmatched: tuple[str, ...]
    """One message per answer about someone not on file (not recorded)."""
    rejected: tuple[str, ...]
    """Payer- or provider-level rejections that name no patient (not recorded)."""
    already_imported: int

    @property
    def summary(self) -> str:
        recorded_rejections = sum(1 for r in self.recorded if r.status is EligibilityStatus.ERROR)
        parts = [f"{len(self.recorded)} recorded"]
        if recorded_rejections:
            parts.append(f"{recorded_rejections} of them rejected by the payer")
        parts.append(f"{len(self.unmatched)} not matched")
        if self.rejected:
            parts.append(f"{len(self.rejected)} inquiry rejections")
        if self.already_imported:
            parts.append(f"{self.already_imported} already imported")
        return f"{self.source_name}: " + ", ".join(parts) + "."


# ----------------------------------------------------------------------------------------------
# Rules over plain values

_AMOUNTS = (
    ("copay", "Copay"),
    ("deductible", "Deductible"),
    ("deductible_met", "Deductible met"),
    ("out_of_pocket_max", "Out-of-pocket maximum"),
    ("out_of_pocket_met", "Out-of-pocket met"),
)


def _amount(text: str, field: str, label: str, findings: list[Finding]) -> Decimal | None:
    cleaned = text.strip().replace("$", "").replace(",", "")
    if not cleaned:
        return None
    try:
        value = money(cleaned)
    except (ValueError, InvalidOperation):
        findings.append(
            error("AMOUNT", f"{label} {text.strip()!r} is not an amount: type it like 1500 or 40.00.", field)
        )
        return None
    if value < 0:
        findings.append(error("AMOUNT_NEGATIVE", f"{label} cannot be negative.", field))
        return None
    return value


@dataclass(frozen=True, slots=True)
class _Checked:
    method: VerificationMethod
    amounts: dict[str, Decimal | None]
    coinsurance: Decimal | None


def validate_input(data: EligibilityInput, today: date) -> tuple[tuple[Finding, ...], _Checked | None]:
    """Findings for the form, and its values as decimals when nothing blocks."""
    findings: list[Finding] = []
    method: VerificationMethod | None = None
    try:
        method = VerificationMethod(data.method)
    except ValueError:
        findings.append(
            error("METHOD", f"Method {data.method!r}: choose portal, phone, fax or 271.", "method")
        )
    if data.checked_on > today:
        findings.append(
            error(
                "CHECKED_FUTURE", f"Checked date {data.checked_on:%m/%d/%Y} is in the future.", "checked_on"
            )
        )
    amounts = {field: _amount(getattr(data, field), field, label, findings) for field, label in _AMOUNTS}
    coinsurance: Decimal | None = None
    text = data.coinsurance_percent.strip().rstrip("%").strip()
    if text:
        try:
            coinsurance = quantity(text)
        except (ValueError, InvalidOperation):
            findings.append(
                error(
                    "COINSURANCE",
                    f"Coinsurance {data.coinsurance_percent.strip()!r} is not a percentage: type 20 for 20%.",
                    "coinsurance_percent",
                )
            )
        else:
            if not Decimal(0) <= coinsurance <= Decimal(100):
                findings.append(
                    error("COINSURANCE", "Coinsurance must be between 0 and 100%.", "coinsurance_percent")
                )
    for met, total, label, total_label in (
        ("deductible_met", "deductible", "Deductible met", "the deductible"),
        ("out_of_pocket_met", "out_of_pocket_max", "Out-of-pocket met", "the out-of-pocket maximum"),
    ):
        met_value, total_value = amounts[met], amounts[total]
        if met_value is not None and total_value is not None and met_value > total_value:
            findings.append(
                error(
                    "MET_OVER_TOTAL",
                    f"{label} (${met_value}) is more than {total_label} (${total_value}).",
                    met,
                )
            )
    if len(data.reference_number.strip()) > 60:
        findings.append(error("REFERENCE", "Reference number: 60 characters at most.", "reference_number"))
    if findings or method is None:
        return tuple(findings), None
    return (), _Checked(method, amounts, coinsurance)


def policy_label(policy: InsurancePolicy) -> str:
    return f"{policy.payer.name} ({policy.rank.value}, member {policy.member_id})"


def _local_today(zone: ZoneInfo) -> date:
    return utcnow().astimezone(zone).date()


def _checked_at(day: date, today: date, zone: ZoneInfo) -> datetime:
    """Now for a check made today; noon clinic time for one entered afterwards."""
    if day == today:
        return utcnow()
    return datetime.combine(day, time(12), tzinfo=zone).astimezone(UTC)


def _verification(session: Session, policy: InsurancePolicy, day: date, zone: ZoneInfo) -> PolicyVerification:
    check = session.scalars(
        sa.select(EligibilityCheck)
        .where(
            EligibilityCheck.policy_id == policy.id, EligibilityCheck.checked_at < _end_of_day_utc(day, zone)
        )
        .order_by(EligibilityCheck.checked_at.desc(), EligibilityCheck.id.desc())
        .limit(1)
    ).first()
    label = policy_label(policy)
    if check is None:
        return PolicyVerification(policy.id, label, None, None, None, False)
    checked_on = check.checked_at.astimezone(zone).date()
    window = policy.payer.reverify_days or DEFAULT_REVERIFY_DAYS
    return PolicyVerification(
        policy.id,
        label,
        checked_on,
        verification_due(checked_on, window),
        check.status,
        _problem(policy, check, day, zone) is None,
        check.rejection,
    )


# ----------------------------------------------------------------------------------------------
# 271 matching


def _same(a: str | None, b: str | None) -> bool:
    return bool(a) and bool(b) and search_key(a or "") == search_key(b or "")


def _person_matches(answer: x12.Answer, policy: InsurancePolicy) -> bool:
    """The answer is about this policy's patient (or its subscriber, who may be the one the payer named)."""
    patient: Patient = policy.patient
    candidates: list[tuple[str | None, date | None]] = [(patient.last_name, patient.birth_date)]
    if policy.subscriber_relationship is not SubscriberRelationship.SELF and not answer.is_dependent:
        candidates.append((policy.subscriber_last_name, policy.subscriber_birth_date))
    return any(
        _same(answer.last_name, last)
        and (answer.birth_date is None or born is None or answer.birth_date == born)
        for last, born in candidates
    )


def _match(session: Session, answer: x12.Answer) -> list[InsurancePolicy]:
    for trace in answer.trace_numbers:
        parsed = x12.parse_trace_number(trace)
        if parsed is None:
            continue
        policy = session.get(InsurancePolicy, parsed[0])
        if policy is not None and (
            _person_matches(answer, policy) or _same(policy.member_id, answer.member_id)
        ):
            return [policy]
    if not answer.member_id:
        return []
    candidates = session.scalars(
        sa.select(InsurancePolicy).where(sa.func.upper(InsurancePolicy.member_id) == answer.member_id.upper())
    ).all()
    return [p for p in candidates if _person_matches(answer, p)]


def _who(answer: x12.Answer) -> str:
    born = f", born {answer.birth_date:%m/%d/%Y}" if answer.birth_date else ""
    member = f"member {answer.member_id}" if answer.member_id else "no member ID"
    payer = f" from {answer.payer_name}" if answer.payer_name else ""
    return f"{answer.display_name} ({member}{born}){payer}"


def _notes(answer: x12.Answer, source_name: str) -> str:
    parts = [f"271 from {answer.payer_name or 'the payer'}, file {source_name}"]
    if answer.plan_name:
        parts.append(f"plan {answer.plan_name}")
    if answer.group_number:
        parts.append(f"group {answer.group_number}")
    return "; ".join(parts) + "."


# ----------------------------------------------------------------------------------------------
# The service


def _require_verify(actor: Actor) -> None:
    """Front desk, nurses at check-in, billers and managers verify coverage."""
    if not (actor.can(Permission.PATIENT_EDIT) or actor.can(Permission.CHECK_IN)):
        actor.require(Permission.PATIENT_EDIT)


class EligibilityService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, actor: Actor, policy_id: int, data: EligibilityInput) -> EligibilityRow:
        """Log one verification made by portal, phone or fax (or a 271 read on screen)."""
        _require_verify(actor)
        with self._db.session() as session:
            zone = clinic_timezone(session)
            today = _local_today(zone)
            policy = session.get(InsurancePolicy, policy_id)
            if policy is None:
                raise NotFound("That insurance policy is no longer on file.")
            findings, checked = validate_input(data, today)
            if checked is None:
                raise ValidationFailed(findings)
            check = EligibilityCheck(
                policy_id=policy.id,
                checked_at=_checked_at(data.checked_on, today, zone),
                checked_by_id=actor.user_id,
                method=checked.method,
                status=EligibilityStatus.ACTIVE if data.active else EligibilityStatus.INACTIVE,
                reference_number=data.reference_number.strip() or None,
                coinsurance_percent=checked.coinsurance,
                notes=data.notes.strip() or None,
                **checked.amounts,
            )
            session.add(check)
            session.flush()
            audit.record(
                session,
                actor,
                "eligibility.record",
                "eligibility_check",
                check.id,
                patient_id=policy.patient_id,
                detail={"policy_id": policy.id, "method": check.method.value, "status": check.status.value},
            )
            return self._row(session, check, zone)

    def _row(self, session: Session, check: EligibilityCheck, zone: ZoneInfo) -> EligibilityRow:
        policy = session.get(InsurancePolicy, check.policy_id)
        assert policy is not None
        user = session.get(User, check.checked_by_id) if check.checked_by_id is not None else None
        return _row(check, policy, user.display_name if user else "", zone)

    def history(self, actor: Actor, patient_id: int) -> tuple[EligibilityRow, ...]:
        """Every verification of the patient's policies, newest first."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            if session.get(Patient, patient_id) is None:
                raise NotFound("That patient is no longer on file.")
            zone = clinic_timezone(session)
            rows = session.execute(
                sa.select(EligibilityCheck, InsurancePolicy, User.display_name)
                .join(InsurancePolicy, InsurancePolicy.id == EligibilityCheck.policy_id)
                .outerjoin(User, User.id == EligibilityCheck.checked_by_id)
                .where(InsurancePolicy.patient_id == patient_id)
                .order_by(EligibilityCheck.checked_at.desc(), EligibilityCheck.id.desc())
            ).all()
            return tuple(_row(check, policy, by or "", zone) for check, policy, by in rows)

    def clinic_today(self) -> date:
        """Today in the clinic's time zone (the default "checked on" date of the form)."""
        with self._db.session() as session:
            return _local_today(clinic_timezone(session))

    def policy_status(
        self, actor: Actor, patient_id: int, *, today: date | None = None
    ) -> tuple[PolicyVerification, ...]:
        """Each policy in force today and whether it is verified, primary first."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            zone = clinic_timezone(session)
            day = today or _local_today(zone)
            return tuple(
                _verification(session, p, day, zone) for p in active_policies(session, patient_id, day)
            )

    def export_270(self, actor: Actor, *, days: int, today: date | None = None) -> Export270Result:
        """One 270 inquiry per policy and day of service for the visits from today through ``days`` ahead."""
        _require_verify(actor)
        if not 0 <= days <= 60:
            raise ValidationFailed([error("DAYS", "Days ahead must be between 0 and 60.", "days")])
        with self._db.session() as session:
            zone = clinic_timezone(session)
            first = today or _local_today(zone)
            last = first + timedelta(days=days)
            profile = load_profile(session)
            if profile is None:
                raise ValidationFailed([error("CLEARINGHOUSE_MISSING", MISSING_PROFILE, "clearinghouse")])
            clinic = session.scalars(sa.select(Clinic).limit(1)).first()
            if clinic is None:
                raise ValidationFailed(
                    [
                        error(
                            "CLINIC_MISSING",
                            "Enter the clinic's name, NPI and tax ID in the clinic settings first.",
                            "clinic",
                        )
                    ]
                )
            inquiries, skipped, patients = self._inquiries(session, first, last)
            if not inquiries:
                return Export270Result("", 0, 0, 0, tuple(skipped), None, first, last)
            isa13 = next_control_number(session, INTERCHANGE)
            gs06 = next_control_number(session, GROUP)
            created = utcnow().astimezone(zone)
            text = x12.write_270(
                profile.parties,
                x12.InformationReceiver(clinic.name, clinic.npi, "1" + clinic.tin),
                inquiries,
                reference=f"E{isa13}",
                created=created,
                interchange_control_number=isa13,
                group_control_number=gs06,
                production=profile.production,
            )
            payers = len({(i.payer_id, i.payer_name) for i in inquiries})
            audit.record(
                session,
                actor,
                "eligibility.export_270",
                "interchange",
                isa13,
                detail={
                    "inquiries": len(inquiries),
                    "skipped": len(skipped),
                    "from": first.isoformat(),
                    "through": last.isoformat(),
                },
            )
            return Export270Result(
                text, len(inquiries), len(patients), payers, tuple(skipped), isa13, first, last
            )

    def _inquiries(
        self, session: Session, first: date, last: date
    ) -> tuple[list[x12.Inquiry], list[Skipped], set[int]]:
        visits = session.scalars(
            sa.select(Visit)
            .join(Patient, Patient.id == Visit.patient_id)
            .where(
                Visit.date_of_service >= first,
                Visit.date_of_service <= last,
                Visit.status.in_((VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN)),
            )
            .order_by(Visit.date_of_service, Patient.search_last, Patient.search_first, Visit.id)
        ).all()
        inquiries: list[x12.Inquiry] = []
        skipped: list[Skipped] = []
        seen: set[tuple[int | str, date]] = set()
        patients: set[int] = set()
        for visit in visits:
            patient: Patient = visit.patient
            policy: InsurancePolicy | None = None
            reason = ""
            if visit.policy_id is not None:
                policy = session.get(InsurancePolicy, visit.policy_id)
                if policy is None or not in_force(
                    policy.effective_date, policy.termination_date, visit.date_of_service
                ):
                    reason = "the policy chosen for the visit is not in force that day"
                    policy = None
            else:
                in_force_then = active_policies(session, patient.id, visit.date_of_service)
                policy = in_force_then[0] if in_force_then else None
                if policy is None:
                    reason = "no insurance in force that day (self-pay)"
            key = (policy.id if policy else f"patient {patient.id}", visit.date_of_service)
            if key in seen:
                continue
            seen.add(key)
            if policy is not None:
                reason = _cannot_send(policy)
            if policy is None or reason:
                skipped.append(Skipped(patient.display_name, patient.mrn, visit.date_of_service, reason))
                continue
            inquiries.append(_inquiry(policy, visit.date_of_service))
            patients.add(patient.id)
        return inquiries, skipped, patients

    def import_271(self, actor: Actor, text: str, source_name: str) -> Import271Result:
        """Record every answer in a 271 file against the policy it is about; report the rest."""
        _require_verify(actor)
        try:
            response = x12.parse_271(text)
        except X12Error as exc:
            raise ValidationFailed(
                [error("X12_271", f"{source_name} cannot be read as a 271: {exc}", "file")]
            ) from exc
        with self._db.session() as session:
            zone = clinic_timezone(session)
            today = _local_today(zone)
            recorded: list[ImportedAnswer] = []
            unmatched: list[str] = []
            duplicates = 0
            for answer in response.answers:
                matches = _match(session, answer)
                if len(matches) != 1:
                    why = "no patient on file matches" if not matches else "several patients on file match"
                    unmatched.append(
                        f"{_who(answer)}: {why}; not recorded. Check the member ID, name and date of birth "
                        "on the patient's insurance."
                    )
                    continue
                policy = matches[0]
                already = session.scalar(
                    sa.select(sa.func.count())
                    .select_from(EligibilityCheck)
                    .where(
                        EligibilityCheck.policy_id == policy.id,
                        EligibilityCheck.method == VerificationMethod.X12_271,
                        EligibilityCheck.raw_response == answer.raw,
                    )
                )
                if already:
                    duplicates += 1
                    continue
                status = (
                    EligibilityStatus.ERROR
                    if answer.active is None
                    else EligibilityStatus.ACTIVE
                    if answer.active
                    else EligibilityStatus.INACTIVE
                )
                answered = answer.answered_on if answer.answered_on and answer.answered_on <= today else today
                rejection = answer.rejection_text
                check = EligibilityCheck(
                    policy_id=policy.id,
                    checked_at=_checked_at(answered, today, zone),
                    checked_by_id=actor.user_id,
                    method=VerificationMethod.X12_271,
                    status=status,
                    reference_number=", ".join(answer.trace_numbers)[:60] or None,
                    copay=answer.copay,
                    deductible=answer.deductible,
                    deductible_met=answer.deductible_met,
                    coinsurance_percent=answer.coinsurance_percent,
                    out_of_pocket_max=answer.out_of_pocket_max,
                    out_of_pocket_met=answer.out_of_pocket_met,
                    rejection=rejection[:300] if rejection else None,
                    notes=_notes(answer, source_name),
                    raw_response=answer.raw,
                )
                session.add(check)
                session.flush()
                patient: Patient = policy.patient
                recorded.append(
                    ImportedAnswer(
                        check.id,
                        patient.id,
                        patient.display_name,
                        policy_label(policy),
                        status,
                        check.rejection,
                    )
                )
            rejected = tuple(
                f"{response.payer_names[0] if response.payer_names else 'The payer'} rejected the inquiry "
                f"({r.level} level): {r.text}"
                for r in response.rejections
            )
            audit.record(
                session,
                actor,
                "eligibility.import_271",
                "file",
                source_name,
                detail={
                    "recorded": len(recorded),
                    "unmatched": len(unmatched),
                    "rejected": len(rejected),
                    "already_imported": duplicates,
                },
            )
            return Import271Result(source_name, tuple(recorded), tuple(unmatched), rejected, duplicates)


def _row(check: EligibilityCheck, policy: InsurancePolicy, by: str, zone: ZoneInfo) -> EligibilityRow:
    return EligibilityRow(
        id=check.id,
        policy_id=policy.id,
        policy_label=policy_label(policy),
        payer_name=policy.payer.name,
        checked_at=check.checked_at,
        checked_on=check.checked_at.astimezone(zone).date(),
        checked_by=by,
        method=check.method,
        status=check.status,
        reference_number=check.reference_number,
        copay=check.copay,
        deductible=check.deductible,
        deductible_met=check.deductible_met,
        coinsurance_percent=check.coinsurance_percent,
        out_of_pocket_max=check.out_of_pocket_max,
        out_of_pocket_met=check.out_of_pocket_met,
        rejection=check.rejection,
        notes=check.notes,
    )


def _cannot_send(policy: InsurancePolicy) -> str:
    """Why this policy cannot go in a 270, or "" when it can."""
    payer: Payer = policy.payer
    if not (policy.member_id or "").strip():
        return f"{payer.name}: the policy has no member ID"
    if not (payer.payer_id or "").strip():
        return f"{payer.name} has no clearinghouse payer ID (payer settings)"
    if policy.subscriber_relationship is not SubscriberRelationship.SELF and not (
        (policy.subscriber_last_name or "").strip() and (policy.subscriber_first_name or "").strip()
    ):
        return f"{payer.name}: the subscriber's name is missing on the policy"
    return ""


def _inquiry(policy: InsurancePolicy, day: date) -> x12.Inquiry:
    patient: Patient = policy.patient
    payer: Payer = policy.payer
    me = x12.Person(patient.last_name, patient.first_name, patient.birth_date, patient.sex.value)
    if policy.subscriber_relationship is SubscriberRelationship.SELF:
        subscriber, dependent = me, None
    else:
        subscriber = x12.Person(
            policy.subscriber_last_name or "",
            policy.subscriber_first_name or "",
            policy.subscriber_birth_date,
            policy.subscriber_sex.value if policy.subscriber_sex else None,
        )
        dependent = me
    return x12.Inquiry(
        payer_name=payer.name,
        payer_id=payer.payer_id,
        member_id=policy.member_id.strip(),
        subscriber=subscriber,
        trace_number=x12.trace_number(policy.id, day),
        date_of_service=day,
        patient=dependent,
    )
