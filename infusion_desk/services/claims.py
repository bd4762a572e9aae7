"""Claims: build them from signed visits, scrub them, follow them through their life.

A signed visit becomes one claim to the payer responsible for it (the policy chosen at
booking, else the primary in force on the date of service). Its lines are the visit's coded
lines (the coder's, when reviewed; the engine's otherwise, saved as the visit's coded lines
so the rule trace stays with the claim). Every claim is scrubbed when built and whenever
the user asks; a clean scrub makes it ready to export. Every change of status is kept in
the claim's history with who, when and why.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from infusion_desk.billing import scrubber
from infusion_desk.billing.authorizations import requires_prior_authorization
from infusion_desk.billing.claim_building import (
    NdcPackage,
    claim_level_authorization,
    claim_number,
    is_drug_code,
    line_charge,
    line_control_number,
    ndc_quantity,
)
from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.billing.claim_lifecycle import EDITABLE, LIVE, SENT, transition_problem
from infusion_desk.billing.coding_input import PayerSettings
from infusion_desk.billing.edits import reference_tables
from infusion_desk.billing.findings import Finding, Level, error, us_date
from infusion_desk.billing.x12.claims837 import claim_problems
from infusion_desk.models import (
    Administration,
    AuthorizationCode,
    ChargeMasterEntry,
    Claim,
    ClaimDiagnosis,
    ClaimLine,
    ClaimStatusEvent,
    CodedLine,
    Drug,
    EligibilityCheck,
    InsurancePolicy,
    OrderDiagnosis,
    Patient,
    Payer,
    PhysicianOrder,
    PriorAuthorization,
    User,
    Visit,
)
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import (
    AuthorizationStatus,
    ClaimStatus,
    EligibilityStatus,
    VisitStatus,
)
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.bulk import collector_paused
from infusion_desk.services.claim_data import (
    RESPONSIBILITY,
    chunks,
    claim_data_for,
    load_clinic,
    posted_remittance,
)
from infusion_desk.services.coding import (
    LoadedVisit,
    clinic_timezone,
    code_loaded,
    coded_line_rows,
    load_catalog,
    load_visits_for_coding,
)
from infusion_desk.services.concurrency import take_version
from infusion_desk.services.control_numbers import reserve_control_numbers
from infusion_desk.services.coverage import RANK_ORDER, in_force
from infusion_desk.services.errors import NotFound, ValidationFailed

CLAIM_COUNTER = "claim"
MAX_DIAGNOSES = 12


# --- results ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SkippedVisit:
    visit_id: int
    patient: str
    date_of_service: date
    reason: str

    def line(self) -> str:
        return f"Visit of {us_date(self.date_of_service)} for {self.patient}: {self.reason}"


@dataclass(frozen=True, slots=True)
class BuildSummary:
    claim_ids: tuple[int, ...]
    ready: int
    with_errors: int
    skipped: tuple[SkippedVisit, ...]

    def text(self) -> str:
        parts = [
            f"{len(self.claim_ids)} claim(s) built: {self.ready} ready to export, "
            f"{self.with_errors} need fixing first."
        ]
        parts.extend(s.line() for s in self.skipped)
        return "\n".join(parts)


@dataclass(frozen=True, slots=True)
class ScrubSummary:
    scrubbed: int
    ready: int
    with_errors: int
    findings: Mapping[str, tuple[Finding, ...]]
    """Claim number -> its findings (errors and warnings)."""


@dataclass(frozen=True, slots=True)
class ClaimRow:
    id: int
    claim_number: str
    patient: str
    payer: str
    payer_id: int
    service_date: date
    status: ClaimStatus
    total_charge: Decimal
    frequency_code: str
    responsibility: str
    errors: int
    warnings: int
    first_problem: str
    """The first error (or warning) message, or why it was rejected."""
    age_days: int
    """Days since the date of service."""
    batch_id: int | None
    version: int = 1
    """The claim's version when listed; a change by hand passes it back to ``set_status``."""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    at: datetime
    from_status: ClaimStatus | None
    to_status: ClaimStatus
    who: str
    reason: str


@dataclass(frozen=True, slots=True)
class LineDetail:
    line_number: int
    code: str
    modifiers: tuple[str, ...]
    units: Decimal
    charge: Decimal
    diagnosis_pointers: tuple[int, ...]
    ndc: str | None
    ndc_quantity: Decimal | None
    ndc_unit: str | None
    control_number: str
    authorization: str | None
    explanation: str
    """The coding engine's rule trace for the coded line this came from."""


@dataclass(frozen=True, slots=True)
class ClaimDetail:
    row: ClaimRow
    diagnoses: tuple[str, ...]
    lines: tuple[LineDetail, ...]
    findings: tuple[Finding, ...]
    history: tuple[HistoryEntry, ...]
    visit_id: int | None
    patient_id: int
    original_claim_number: str | None
    payer_claim_control_number: str | None
    version: int = 1
    """The claim's version when read: a change by hand passes it back (``set_status(expected_version=)``)."""


# --- helpers ------------------------------------------------------------------------------


def clinic_today(session: Session) -> date:
    return datetime.now(clinic_timezone(session)).date()


def record_transition(
    session: Session,
    claim: Claim,
    target: ClaimStatus,
    actor: Actor | None,
    reason: str,
    at: datetime | None = None,
) -> None:
    """Move ``claim`` to ``target`` and keep the step in its history; refuse a move the lifecycle forbids."""
    if claim.status is target:
        return
    problem = transition_problem(claim.status, target)
    if problem is not None:
        raise ValidationFailed([error("CLAIM_STATUS", f"Claim {claim.claim_number}: {problem}", "claim")])
    session.add(
        ClaimStatusEvent(
            claim_id=claim.id,
            at=at or utcnow(),
            from_status=claim.status,
            to_status=target,
            user_id=actor.user_id if actor else None,
            reason=reason,
        )
    )
    claim.status = target
    claim.version = (claim.version or 1) + 1  # a screen showing the claim before this move must not act on it


def record_transitions(
    session: Session,
    moves: Sequence[tuple[Claim, ClaimStatus, str]],
    actor: Actor | None,
    at: datetime | None = None,
    **values: Any,
) -> None:
    """Many claims' moves at once (a batch export, a scrub): one UPDATE and one INSERT for all.

    Each move is checked as :func:`record_transition` checks it; ``values`` are further
    columns set on every moved claim (the batch it went out in). The loaded claims take the
    stored values without being marked changed, so nothing is written twice.
    """
    at = at or utcnow()
    events: list[dict[str, Any]] = []
    for claim, target, reason in moves:
        if claim.status is target:
            continue
        problem = transition_problem(claim.status, target)
        if problem is not None:
            raise ValidationFailed([error("CLAIM_STATUS", f"Claim {claim.claim_number}: {problem}", "claim")])
        events.append(
            {
                "claim_id": claim.id,
                "at": at,
                "from_status": claim.status,
                "to_status": target,
                "user_id": actor.user_id if actor else None,
                "reason": reason,
            }
        )
    if not moves:
        return
    session.flush()
    table = Claim.__table__
    session.execute(
        sa.update(table)
        .where(table.c.id == sa.bindparam("b_id"))
        .values(status=sa.bindparam("b_status"), version=table.c.version + 1, **values),
        [{"b_id": claim.id, "b_status": target} for claim, target, _ in moves],
    )
    if events:
        session.execute(sa.insert(ClaimStatusEvent.__table__), events)
    for claim, target, _ in moves:
        set_committed_value(claim, "status", target)
        set_committed_value(claim, "version", (claim.version or 1) + 1)
        for key, value in values.items():
            set_committed_value(claim, key, value)
        session.expire(claim, ["history"])


def _patient_label(patient: Patient) -> str:
    return f"{patient.last_name}, {patient.first_name} ({patient.mrn})"


def _finding_json(finding: Finding) -> dict[str, str]:
    return {
        "level": finding.level.value,
        "code": finding.code,
        "message": finding.message,
        "subject": finding.subject,
    }


def finding_from_json(data: Mapping[str, str]) -> Finding:
    return Finding(Level(data["level"]), data["code"], data["message"], data.get("subject", ""))


# --- scrubbing ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Auth:
    id: int
    number: str
    status: str
    valid_from: date
    valid_to: date
    codes: frozenset[str]
    approved_units: Decimal | None
    approved_visits: int | None


@dataclass(frozen=True, slots=True)
class _Billed:
    """One line of a live claim, with what the duplicate and authorization-use checks need."""

    claim_id: int
    patient_id: int
    payer_id: int
    claim_number: str
    original_claim_id: int | None
    frequency_code: str
    visit_id: int | None
    authorization_id: int | None
    service_date: date
    code: str
    modifiers: list[str] | None
    units: Decimal


class _ScrubData:
    """What the scrub rules need from the database, loaded once for many claims."""

    def __init__(self, session: Session, claims: Mapping[int, Claim], today: date) -> None:
        self.today = today
        self.tables = reference_tables()
        self.covered = scrubber.load_covered_diagnoses()
        self.drug_ndcs: dict[str, frozenset[str]] = {}
        self.single_dose: set[str] = set()
        for drug in session.scalars(sa.select(Drug).options(selectinload(Drug.ndcs))):
            self.drug_ndcs[drug.hcpcs] = frozenset(n.ndc for n in drug.ndcs)
            if drug.single_dose_container:
                self.single_dose.add(drug.hcpcs)
        self.payers = {p.id: p for p in session.scalars(sa.select(Payer))}
        self.settings = {
            p.id: PayerSettings.from_mapping(
                "commercial" if p.payer_type.value == "other" else p.payer_type.value, p.coding_settings or {}
            )
            for p in self.payers.values()
        }
        zone = clinic_timezone(session)
        visit_ids = sorted({c.visit_id for c in claims.values() if c.visit_id is not None})
        self.order_drug: dict[int, str] = {}
        for chunk in chunks(visit_ids):
            for visit_id, hcpcs in session.execute(
                sa.select(Visit.id, Drug.hcpcs)
                .join(PhysicianOrder, PhysicianOrder.id == Visit.order_id)
                .join(Drug, Drug.id == PhysicianOrder.drug_id)
                .where(Visit.id.in_(chunk))
            ):
                self.order_drug[visit_id] = hcpcs
        policy_ids = sorted({c.policy_id for c in claims.values()})
        self.last_verified: dict[int, date] = {}
        for chunk in chunks(policy_ids):
            for policy_id, checked in session.execute(
                sa.select(EligibilityCheck.policy_id, sa.func.max(EligibilityCheck.checked_at))
                .where(
                    EligibilityCheck.policy_id.in_(chunk),
                    EligibilityCheck.status == EligibilityStatus.ACTIVE,
                )
                .group_by(EligibilityCheck.policy_id)
            ):
                if checked is not None:
                    moment = checked if checked.tzinfo else checked.replace(tzinfo=ZoneInfo("UTC"))
                    self.last_verified[policy_id] = moment.astimezone(zone).date()
        patient_ids = sorted({c.patient_id for c in claims.values()})
        auth_rows: list[sa.Row[Any]] = []
        for chunk in chunks(patient_ids):
            auth_rows.extend(
                session.execute(
                    sa.select(
                        PriorAuthorization.id,
                        PriorAuthorization.patient_id,
                        PriorAuthorization.policy_id,
                        PriorAuthorization.number,
                        PriorAuthorization.status,
                        PriorAuthorization.valid_from,
                        PriorAuthorization.valid_to,
                        PriorAuthorization.approved_units,
                        PriorAuthorization.approved_visits,
                    ).where(PriorAuthorization.patient_id.in_(chunk))
                )
            )
        auth_codes: dict[int, set[str]] = {}
        for chunk in chunks([row.id for row in auth_rows]):
            for auth_id, code in session.execute(
                sa.select(AuthorizationCode.authorization_id, AuthorizationCode.code).where(
                    AuthorizationCode.authorization_id.in_(chunk)
                )
            ):
                auth_codes.setdefault(auth_id, set()).add(code)
        self.authorizations: dict[tuple[int, int], list[_Auth]] = {}
        for row in auth_rows:
            self.authorizations.setdefault((row.patient_id, row.policy_id), []).append(
                _Auth(
                    row.id,
                    row.number,
                    row.status.value,
                    row.valid_from,
                    row.valid_to,
                    frozenset(auth_codes.get(row.id, ())),
                    row.approved_units,
                    row.approved_visits,
                )
            )
        # lines of every live claim of these patients: for duplicates and authorization use
        self.billed: dict[int, list[_Billed]] = {}
        live = [ClaimStatus(s) for s in LIVE]
        for chunk in chunks(patient_ids):
            for row in session.execute(
                sa.select(
                    Claim.id,
                    Claim.patient_id,
                    Claim.payer_id,
                    Claim.claim_number,
                    Claim.original_claim_id,
                    Claim.frequency_code,
                    Claim.visit_id,
                    ClaimLine.authorization_id,
                    ClaimLine.service_date,
                    ClaimLine.code,
                    ClaimLine.modifiers,
                    ClaimLine.units,
                )
                .join(ClaimLine, ClaimLine.claim_id == Claim.id)
                .where(Claim.patient_id.in_(chunk), Claim.status.in_(live))
            ):
                self.billed.setdefault(row.patient_id, []).append(_Billed(*row))
        self._billed_lines: dict[int, scrubber.BilledLine] = {}  # by the id of a row kept in billed
        self.single_dose_codes = frozenset(self.single_dose)

    def _billed_line(self, other: _Billed) -> scrubber.BilledLine:
        # each live line is shown to every other claim of its patient: made once
        line = self._billed_lines.get(id(other))
        if line is None:
            line = self._billed_lines[id(other)] = scrubber.BilledLine(
                claim_number=other.claim_number,
                payer_id=self.payers[other.payer_id].payer_id,
                service_date=other.service_date,
                code=other.code,
                modifiers=tuple(other.modifiers or ()),
                units=other.units,
            )
        return line

    def context(self, claim: Claim, data: ClaimData) -> scrubber.ScrubContext:
        payer = self.payers[claim.payer_id]
        others = [
            other
            for other in self.billed.get(claim.patient_id, [])
            if other.claim_id != claim.id
            and other.claim_id != claim.original_claim_id
            and other.original_claim_id != claim.id
            and other.frequency_code != "8"
        ]
        facts = []
        for auth in self.authorizations.get((claim.patient_id, claim.policy_id), []):
            used = [other for other in others if other.authorization_id == auth.id]
            facts.append(
                scrubber.AuthorizationFacts(
                    number=auth.number,
                    status=auth.status,
                    valid_from=auth.valid_from,
                    valid_to=auth.valid_to,
                    codes=auth.codes,
                    remaining_units=(
                        auth.approved_units - sum((o.units for o in used), Decimal(0))
                        if auth.approved_units is not None
                        else None
                    ),
                    remaining_visits=(
                        auth.approved_visits - len({o.visit_id for o in used})
                        if auth.approved_visits is not None
                        else None
                    ),
                )
            )
        drug = self.order_drug.get(claim.visit_id or -1)
        needs_auth = requires_prior_authorization(payer.payer_type.value) and drug is not None
        return scrubber.ScrubContext(
            today=self.today,
            tables=self.tables,
            authorization_codes=frozenset({drug}) if needs_auth and drug else frozenset(),
            authorizations=tuple(facts),
            last_verified=self.last_verified.get(claim.policy_id),
            reverify_days=payer.reverify_days,
            timely_filing_days=payer.timely_filing_days,
            drug_ndcs=self.drug_ndcs,
            waste_modifiers=self.settings[payer.id].waste_modifiers,
            single_dose_codes=self.single_dose_codes,
            covered_diagnoses=self.covered,
            billed_elsewhere=tuple(
                self._billed_line(other) for other in others if other.payer_id == claim.payer_id
            ),
        )


def scrub_claims(
    session: Session,
    claims: Sequence[Claim],
    actor: Actor | None,
    today: date,
    data_out: dict[int, ClaimData] | None = None,
    *,
    release_rejected: bool = False,
) -> dict[int, tuple[Finding, ...]]:
    """Scrub ``claims``, store the findings, and move editable ones between draft and ready.

    A rejected claim stays rejected (with the clearinghouse's reason in view) unless
    ``release_rejected``: the user scrubbed or rebuilt that very claim after fixing it.
    ``data_out`` receives the claims as the scrub saw them, for a caller that writes them next.
    """
    by_id = {c.id: c for c in claims}
    data = claim_data_for(session, by_id, by_id)
    if data_out is not None:
        data_out.update(data)
    helper = _ScrubData(session, by_id, today)
    now = utcnow()
    results: dict[int, tuple[Finding, ...]] = {}
    changes: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    for claim_id, claim in by_id.items():
        findings = scrubber.scrub(data[claim_id], helper.context(claim, data[claim_id]))
        if not any(f.blocks for f in findings):
            # what the 837P writer would refuse blocks the claim here, so an export never fails on it
            findings += tuple(error("X12_CLAIM", p, "claim") for p in claim_problems(data[claim_id]))
        results[claim_id] = findings
        status, reason = claim.status, ""
        if claim.status in EDITABLE and (release_rejected or claim.status is not ClaimStatus.REJECTED):
            blocking = [f for f in findings if f.blocks]
            if blocking and claim.status is ClaimStatus.READY:
                status, reason = ClaimStatus.DRAFT, f"Scrub: {blocking[0].message}"
            elif not blocking and claim.status is not ClaimStatus.READY:
                warnings = len(findings)
                status = ClaimStatus.READY
                reason = "Scrub passed" + (f" with {warnings} warning(s)" if warnings else "")
        if status is not claim.status:
            problem = transition_problem(claim.status, status)
            if problem is not None:
                raise ValidationFailed(
                    [error("CLAIM_STATUS", f"Claim {claim.claim_number}: {problem}", "claim")]
                )
            events.append(
                {
                    "claim_id": claim_id,
                    "at": now,
                    "from_status": claim.status,
                    "to_status": status,
                    "user_id": actor.user_id if actor else None,
                    "reason": reason,
                }
            )
        stored = [_finding_json(f) for f in findings]
        if stored != claim.findings or status is not claim.status:
            changes.append({"b_id": claim_id, "b_findings": stored, "b_status": status})
    # thousands of claims: one statement for the scrub time, one executemany for the claims
    # whose findings or status changed, one for the history; the loaded claims then take the
    # stored values without being marked changed
    session.flush()
    table = Claim.__table__
    for chunk in chunks(list(by_id)):
        session.execute(sa.update(table).where(table.c.id.in_(chunk)).values(scrubbed_at=now))
    if changes:
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(findings=sa.bindparam("b_findings"), status=sa.bindparam("b_status")),
            changes,
        )
    if events:
        session.execute(sa.insert(ClaimStatusEvent.__table__), events)
    for claim in by_id.values():
        set_committed_value(claim, "scrubbed_at", now)
    for change in changes:
        claim = by_id[change["b_id"]]
        set_committed_value(claim, "findings", change["b_findings"])
        set_committed_value(claim, "status", change["b_status"])
    for event in events:
        session.expire(by_id[event["claim_id"]], ["history"])
    return results


# --- building -----------------------------------------------------------------------------


@dataclass
class _Candidate:
    visit: Visit
    patient: Patient
    policy: InsurancePolicy
    lines: list[Any]  # coded lines: rows, or entities just coded


def _choose_policy(visit: Visit, policies: Sequence[InsurancePolicy]) -> InsurancePolicy | None:
    if visit.policy_id is not None:
        chosen = next((p for p in policies if p.id == visit.policy_id), None)
        if chosen is not None:
            return chosen
    in_force_policies = [
        p for p in policies if in_force(p.effective_date, p.termination_date, visit.date_of_service)
    ]
    in_force_policies.sort(key=lambda p: (RANK_ORDER[p.rank], p.id))
    return in_force_policies[0] if in_force_policies else None


def _administered(admins: Iterable[sa.Row[Any]], waste: bool) -> tuple[Decimal, str] | None:
    """Total dose (or waste) of the administrations behind a drug line, with its unit."""
    total = Decimal(0)
    unit: str | None = None
    for admin in admins:
        amount = admin.waste_amount if waste else admin.dose_amount
        if amount is None or not admin.dose_unit:
            continue
        if unit is not None and admin.dose_unit != unit:
            return None
        unit = admin.dose_unit
        total += amount
    return (total, unit) if unit is not None and total > 0 else None


_CODED_COLUMNS = (
    CodedLine.id,
    CodedLine.visit_id,
    CodedLine.sequence,
    CodedLine.code,
    CodedLine.units,
    CodedLine.modifiers,
    CodedLine.diagnosis_pointers,
    CodedLine.administration_ids,
    CodedLine.ndc,
    CodedLine.overridden,
)
"""What a claim reads of a coded line (plain rows: a batch of claims reads thousands)."""


def coded_lines(
    session: Session, loaded: Sequence[LoadedVisit], coded_by: int | None = None
) -> dict[int, list[Any]]:
    """Each visit's coded lines: the coder's when reviewed, else the engine's, saved as the visit's lines.

    A visit nobody reviewed is coded now, exactly as the coder's review screen would propose,
    and marked coded: its lines are what the claim bills, so the claim and the coding screen
    always show the same lines and rule traces, and a later change goes through an override.
    The lines come back as rows with :data:`_CODED_COLUMNS` (or the new entities, which
    have the same attributes).
    """
    visit_ids = [item.visit.id for item in loaded]
    coded: dict[int, list[Any]] = {}
    for chunk in chunks(visit_ids):
        for line in session.execute(
            sa.select(*_CODED_COLUMNS).where(CodedLine.visit_id.in_(chunk)).order_by(CodedLine.sequence)
        ):
            coded.setdefault(line.visit_id, []).append(line)
    to_code = [
        item
        for item in loaded
        if item.visit.coded_at is None and not any(line.overridden for line in coded.get(item.visit.id, []))
    ]
    if to_code:
        # the same visits, now with their administrations (the identity map keeps them one object)
        documented = {
            item.visit.id: item
            for item in load_visits_for_coding(session, Visit.id.in_([item.visit.id for item in to_code]))
        }
        to_code = [documented[item.visit.id] for item in to_code]
        results = code_loaded(to_code, load_catalog(session), clinic_timezone(session))
        recoded = [item.visit.id for item in to_code]
        for item in to_code:
            coded.pop(item.visit.id, None)
        for chunk in chunks(recoded):
            session.execute(sa.delete(CodedLine).where(CodedLine.visit_id.in_(chunk)))
        session.flush()
        now = utcnow()
        for item, result in zip(to_code, results, strict=True):
            item.visit.coded_at = now
            item.visit.coded_by_id = coded_by
            rows = coded_line_rows(item.visit.id, result)
            session.add_all(rows)
            coded[item.visit.id] = rows
        session.flush()
    return coded


class ClaimService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- build

    def build(
        self, actor: Actor, *, visit_ids: Sequence[int] | None = None, today: date | None = None
    ) -> BuildSummary:
        """A claim for every signed visit that has none yet (or for ``visit_ids``), scrubbed."""
        actor.require(Permission.CLAIM_EDIT)
        with collector_paused(), self._db.session() as session:
            today = today or clinic_today(session)
            clinic = load_clinic(session)
            where = sa.and_(
                Visit.signed_at.is_not(None),
                Visit.status == VisitStatus.COMPLETED,
                ~sa.exists().where(Claim.visit_id == Visit.id),
            )
            if visit_ids is not None:
                where = sa.and_(where, Visit.id.in_(list(visit_ids)))
            ids = list(session.scalars(sa.select(Visit.id).where(where).order_by(Visit.id)))
            skipped: list[SkippedVisit] = []
            if visit_ids is not None:
                for missing in sorted(set(visit_ids) - set(ids)):
                    skipped.extend(self._why_not(session, missing))
            created: list[Claim] = []
            for chunk in chunks(ids, 500):
                created.extend(
                    self._build_chunk(
                        session, actor, list(chunk), clinic.place_of_service, clinic.npi, skipped
                    )
                )
            session.flush()
            scrub_claims(session, created, actor, today)
            ready = sum(1 for c in created if c.status is ClaimStatus.READY)
            audit.record(
                session,
                actor,
                "build_claims",
                "claim",
                None,
                detail={"claims": [c.claim_number for c in created], "skipped": len(skipped)},
            )
            return BuildSummary(tuple(c.id for c in created), ready, len(created) - ready, tuple(skipped))

    def _why_not(self, session: Session, visit_id: int) -> list[SkippedVisit]:
        visit = session.get(Visit, visit_id)
        if visit is None:
            raise NotFound(f"Visit {visit_id} no longer exists.")
        patient = session.get(Patient, visit.patient_id)
        assert patient is not None
        if visit.signed_at is None or visit.status is not VisitStatus.COMPLETED:
            reason = "the nurse has not signed the visit yet."
        else:
            existing = session.scalars(
                sa.select(Claim.claim_number).where(Claim.visit_id == visit_id)
            ).first()
            reason = f"it already has claim {existing}."
        return [SkippedVisit(visit_id, _patient_label(patient), visit.date_of_service, reason)]

    def _build_chunk(
        self,
        session: Session,
        actor: Actor,
        visit_ids: list[int],
        place_of_service: str,
        billing_npi: str,
        skipped: list[SkippedVisit],
        *,
        original: Claim | None = None,
        existing: Mapping[int, Claim] | None = None,
    ) -> list[Claim]:
        """Claims for ``visit_ids``; with ``original``, one replacement (frequency 7) for that claim.

        ``existing`` maps a visit to its editable claim, rebuilt in place (same number) instead.
        """
        existing = existing or {}
        # the visits alone: their payers and diagnoses only matter to coding, and coded_lines
        # loads those itself for any visit it still has to code
        loaded = [
            LoadedVisit(visit, None, ())
            for visit in session.scalars(sa.select(Visit).where(Visit.id.in_(visit_ids)).order_by(Visit.id))
        ]
        visits = {item.visit.id: item for item in loaded}
        patients = {
            p.id: p
            for p in session.scalars(
                sa.select(Patient).where(Patient.id.in_({v.visit.patient_id for v in loaded}))
            )
        }
        policies: dict[int, list[InsurancePolicy]] = {}
        for policy in session.scalars(
            sa.select(InsurancePolicy).where(InsurancePolicy.patient_id.in_(list(patients)))
        ):
            policies.setdefault(policy.patient_id, []).append(policy)
        coded = coded_lines(session, loaded, actor.user_id)
        candidates: list[_Candidate] = []
        for visit_id in visit_ids:
            item = visits[visit_id]
            patient = patients[item.visit.patient_id]
            keep = original or existing.get(visit_id)
            policy = (
                next((p for p in policies.get(patient.id, []) if p.id == keep.policy_id), None)
                if keep is not None
                else _choose_policy(item.visit, policies.get(patient.id, []))
            )
            lines = [line for line in coded.get(visit_id, []) if line.units > 0]
            reason = None
            if policy is None:
                reason = "no insurance policy was in force on the date of service; bill the patient instead."
            elif not lines:
                reason = "no billable lines were coded; review the visit's coding."
            if reason is not None:
                skipped.append(
                    SkippedVisit(visit_id, _patient_label(patient), item.visit.date_of_service, reason)
                )
                continue
            assert policy is not None
            candidates.append(_Candidate(item.visit, patient, policy, lines))
        if not candidates:
            return []
        pricing = _Pricing(session, {c.code for cand in candidates for c in cand.lines})
        diagnoses: dict[int, list[str]] = {}
        order_ids = [c.visit.order_id for c in candidates if c.visit.order_id is not None]
        for order_id, code in session.execute(
            sa.select(OrderDiagnosis.order_id, OrderDiagnosis.icd10_code)
            .where(OrderDiagnosis.order_id.in_(order_ids))
            .order_by(OrderDiagnosis.order_id, OrderDiagnosis.sequence)
        ):
            diagnoses.setdefault(order_id, []).append(code)
        orderer: dict[int, int | None] = {
            order_id: provider_id
            for order_id, provider_id in session.execute(
                sa.select(PhysicianOrder.id, PhysicianOrder.ordering_provider_id).where(
                    PhysicianOrder.id.in_(order_ids)
                )
            )
        }
        auths = _Authorizations(session, {c.patient.id for c in candidates})
        admin_ids = {  # doses and waste for NDC quantities: only drug lines need them
            i
            for c in candidates
            for line in c.lines
            if is_drug_code(line.code)
            for i in line.administration_ids or ()
        }
        admins: dict[int, sa.Row[Any]] = {}
        for chunk in chunks(sorted(admin_ids)):
            for admin in session.execute(
                sa.select(
                    Administration.id,
                    Administration.dose_amount,
                    Administration.waste_amount,
                    Administration.dose_unit,
                ).where(Administration.id.in_(chunk))
            ):
                admins[admin.id] = admin
        new = sum(1 for cand in candidates if cand.visit.id not in existing)
        numbers = iter(reserve_control_numbers(session, CLAIM_COUNTER, new) if new else ())
        now = utcnow()
        created: list[Claim] = []
        rebuilt: list[Claim] = []
        # lines, diagnoses and history go in with one bulk insert each once the claims have ids
        content: list[tuple[int | None, list[dict[str, Any]], list[str]]] = []
        fresh: list[dict[str, Any]] = []
        for cand in candidates:
            visit = cand.visit
            ordering_provider_id = orderer.get(visit.order_id or -1)
            kept = existing.get(visit.id)
            if kept is not None:
                session.execute(sa.delete(ClaimLine).where(ClaimLine.claim_id == kept.id))
                session.execute(sa.delete(ClaimDiagnosis).where(ClaimDiagnosis.claim_id == kept.id))
                session.expire(kept, ["lines", "diagnoses"])
                kept.rendering_provider_id = visit.rendering_provider_id or ordering_provider_id
                kept.ordering_provider_id = ordering_provider_id
                rebuilt.append(kept)
            number = kept.claim_number if kept is not None else claim_number(next(numbers))
            claim: dict[str, Any] = dict(
                claim_number=number,
                visit_id=visit.id,
                patient_id=cand.patient.id,
                policy_id=cand.policy.id,
                payer_id=cand.policy.payer_id,
                responsibility_sequence=(
                    original.responsibility_sequence if original else RESPONSIBILITY[cand.policy.rank]
                ),
                frequency_code="7" if original else "1",
                original_claim_id=original.id if original else None,
                status=ClaimStatus.DRAFT,
                service_date_from=visit.date_of_service,
                service_date_to=visit.date_of_service,
                place_of_service=place_of_service,
                billing_provider_npi=billing_npi,
                rendering_provider_id=visit.rendering_provider_id or ordering_provider_id,
                ordering_provider_id=ordering_provider_id,
                findings=[],
            )
            dx = diagnoses.get(visit.order_id or -1, [])[:MAX_DIAGNOSES]
            rows: list[dict[str, Any]] = []
            for index, coded_line in enumerate(cand.lines, start=1):
                pointers = [p for p in coded_line.diagnosis_pointers or () if 1 <= p <= len(dx)]
                auth = auths.covering(
                    cand.patient.id, cand.policy.id, coded_line.code, visit.date_of_service, visit.order_id
                )
                row: dict[str, Any] = {
                    "line_number": index,
                    "line_control_number": line_control_number(number, index),
                    "service_date": visit.date_of_service,
                    "code": coded_line.code,
                    "modifiers": list(coded_line.modifiers or ()),
                    "units": coded_line.units,
                    "charge": pricing.charge(coded_line.code, coded_line.units),
                    "diagnosis_pointers": pointers or ([1] if dx else []),
                    "authorization_id": auth.id if auth else None,
                    "coded_line_id": coded_line.id,
                    "ndc": None,
                    "ndc_quantity": None,
                    "ndc_unit": None,
                }
                ndc = pricing.ndc_for(coded_line) if is_drug_code(coded_line.code) else None
                if ndc is not None:
                    given = [admins[i] for i in coded_line.administration_ids or () if i in admins]
                    row["ndc"] = ndc
                    row["ndc_quantity"], row["ndc_unit"] = pricing.ndc(coded_line, ndc, given)
                rows.append(row)
            total = sum((row["charge"] for row in rows), Decimal("0.00"))
            authorization = claim_level_authorization([auths.number(row["authorization_id"]) for row in rows])
            if kept is not None:
                kept.total_charge = total
                kept.prior_authorization_number = authorization
                content.append((kept.id, rows, dx))
            else:
                fresh.append({**claim, "total_charge": total, "prior_authorization_number": authorization})
                content.append((None, rows, dx))
        if fresh:
            # multi-row INSERT ... RETURNING for thousands of claims; each id is matched back by
            # the claim's unique number (asking for the rows' order would cost one INSERT per claim)
            table = Claim.__table__
            id_of = {
                number: claim_id
                for claim_id, number in session.execute(
                    sa.insert(table).returning(table.c.id, table.c.claim_number), fresh
                )
            }
            new_ids = [id_of[row["claim_number"]] for row in fresh]
            ids = iter(new_ids)
            content = [(cid if cid is not None else next(ids), rows, dx) for cid, rows, dx in content]
            created = list(session.scalars(sa.select(Claim).where(Claim.id.in_(new_ids)).order_by(Claim.id)))
        session.flush()
        line_rows = [{"claim_id": claim_id, **row} for claim_id, rows, _ in content for row in rows]
        if line_rows:
            session.execute(sa.insert(ClaimLine.__table__), line_rows)
        dx_rows = [
            {"claim_id": claim_id, "sequence": i, "icd10_code": code}
            for claim_id, _, dx in content
            for i, code in enumerate(dx, start=1)
        ]
        if dx_rows:
            session.execute(sa.insert(ClaimDiagnosis.__table__), dx_rows)
        events = [
            {
                "claim_id": claim.id,
                "at": now,
                "from_status": claim.status,
                "to_status": claim.status,
                "user_id": actor.user_id,
                "reason": "Rebuilt from the visit's current coding, charges, NDCs and authorizations",
            }
            for claim in rebuilt
        ] + [
            {
                "claim_id": claim.id,
                "at": now,
                "from_status": None,
                "to_status": ClaimStatus.DRAFT,
                "user_id": actor.user_id,
                "reason": (
                    f"Replacement of claim {original.claim_number}, built from the visit's current coding"
                    if original
                    else f"Built from the visit of {us_date(claim.service_date_from)}"
                ),
            }
            for claim in created
        ]
        if events:
            session.execute(sa.insert(ClaimStatusEvent.__table__), events)
        return created + rebuilt

    def rebuild(self, actor: Actor, claim_ids: Sequence[int], today: date | None = None) -> ScrubSummary:
        """Retake editable claims' lines from their visits (after a coding, charge or NDC fix); scrub them.

        The claim keeps its number and history; its lines, charges, NDC data, diagnoses and
        authorization numbers are built again as a new claim's would be. Only draft, ready
        and rejected claims billed from a visit can be rebuilt.
        """
        actor.require(Permission.CLAIM_EDIT)
        with self._db.session() as session:
            today = today or clinic_today(session)
            claims = list(session.scalars(sa.select(Claim).where(Claim.id.in_(list(claim_ids)))))
            if len(claims) != len(set(claim_ids)):
                raise NotFound("One of the claims no longer exists.")
            refused = [
                c.claim_number
                for c in claims
                if c.status not in [ClaimStatus(s) for s in EDITABLE]
                or c.visit_id is None
                or c.frequency_code == "8"
                or (c.frequency_code == "1" and c.original_claim_id is not None)
            ]
            if refused:
                raise ValidationFailed(
                    [
                        error(
                            "NOT_REBUILDABLE",
                            f"Claim {', '.join(refused)} cannot be rebuilt: only draft, ready or "
                            "rejected claims billed from a visit can (not voids or secondary claims). "
                            "Correct a sent claim with a replacement instead.",
                            "claim",
                        )
                    ]
                )
            clinic = load_clinic(session)
            skipped: list[SkippedVisit] = []
            for claim in claims:
                assert claim.visit_id is not None
                self._build_chunk(
                    session,
                    actor,
                    [claim.visit_id],
                    claim.place_of_service,
                    clinic.npi,
                    skipped,
                    original=session.get(Claim, claim.original_claim_id) if claim.original_claim_id else None,
                    existing={claim.visit_id: claim},
                )
            if skipped:
                raise ValidationFailed([error("NOT_BUILT", skipped[0].line(), "claim")])
            results = scrub_claims(session, claims, actor, today, release_rejected=True)
            audit.record(
                session,
                actor,
                "rebuild_claims",
                "claim",
                None,
                detail={"claims": [c.claim_number for c in claims]},
            )
            return ScrubSummary(
                len(claims),
                sum(1 for c in claims if c.status is ClaimStatus.READY),
                sum(1 for f in results.values() if any(x.blocks for x in f)),
                {c.claim_number: results[c.id] for c in claims},
            )

    # -- corrections, voids and secondary claims

    def _sent_original(self, session: Session, claim_id: int, action: str) -> Claim:
        claim = session.get(Claim, claim_id)
        if claim is None:
            raise NotFound(f"Claim {claim_id} no longer exists.")
        if claim.status not in [ClaimStatus(s) for s in SENT]:
            raise ValidationFailed(
                [
                    error(
                        "NOT_SENT",
                        f"Claim {claim.claim_number} is {claim.status.value.replace('_', ' ')}: only a "
                        f"claim the payer has can be {action}. Fix a claim that was not sent, or that was "
                        "rejected, and send it again instead.",
                        "claim",
                    )
                ]
            )
        if not claim.payer_claim_control_number:
            posted = posted_remittance(session, claim.id)
            if posted is not None and posted[0].payer_claim_control_number:
                claim.payer_claim_control_number = posted[0].payer_claim_control_number
        if not claim.payer_claim_control_number:
            raise ValidationFailed(
                [
                    error(
                        "NO_ICN",
                        f"The payer's claim number for {claim.claim_number} is not on file yet. It comes "
                        "with the 277CA acknowledgement or the remittance; import those first.",
                        "claim",
                    )
                ]
            )
        pending = session.scalar(
            sa.select(Claim.claim_number).where(
                Claim.original_claim_id == claim.id,
                Claim.frequency_code.in_(["7", "8"]),
                Claim.status.in_([ClaimStatus(s) for s in LIVE]),
            )
        )
        if pending:
            raise ValidationFailed(
                [
                    error(
                        "ALREADY_CORRECTED",
                        f"Claim {claim.claim_number} already has correction {pending} under "
                        "way; work that one instead.",
                        "claim",
                    )
                ]
            )
        return claim

    def correct(self, actor: Actor, claim_id: int, reason: str, today: date | None = None) -> int:
        """A replacement claim (frequency 7, REF*F8 the payer's number) from the visit's current coding."""
        actor.require(Permission.CLAIM_EDIT)
        with self._db.session() as session:
            return self.correct_in(session, actor, claim_id, reason, today).id

    def correct_in(
        self, session: Session, actor: Actor, claim_id: int, reason: str, today: date | None = None
    ) -> Claim:
        """:meth:`correct` inside the caller's unit of work (a denial resubmitted in one transaction)."""
        actor.require(Permission.CLAIM_EDIT)
        if not reason.strip():
            raise ValidationFailed([error("REASON", "Say what the replacement claim corrects.", "reason")])
        today = today or clinic_today(session)
        original = self._sent_original(session, claim_id, "replaced")
        if original.visit_id is None:
            raise ValidationFailed(
                [error("NO_VISIT", "This claim has no visit to rebuild from.", "claim")]
            )
        clinic = load_clinic(session)
        skipped: list[SkippedVisit] = []
        created = self._build_chunk(
            session,
            actor,
            [original.visit_id],
            original.place_of_service,
            clinic.npi,
            skipped,
            original=original,
        )
        if not created:
            raise ValidationFailed(
                [error("NOT_BUILT", skipped[0].line() if skipped else "Nothing to bill.", "claim")]
            )
        replacement = created[0]
        scrub_claims(session, [replacement], actor, today)
        audit.record(
            session,
            actor,
            "correct_claim",
            "claim",
            replacement.id,
            patient_id=replacement.patient_id,
            detail={"original": original.claim_number, "reason": reason.strip()},
        )
        return replacement

    def void(self, actor: Actor, claim_id: int, reason: str, today: date | None = None) -> int:
        """A void (frequency 8, REF*F8 the payer's number) repeating the original claim's content."""
        actor.require(Permission.CLAIM_EDIT)
        if not reason.strip():
            raise ValidationFailed([error("REASON", "Say why the claim is voided.", "reason")])
        with self._db.session() as session:
            today = today or clinic_today(session)
            original = self._sent_original(session, claim_id, "voided")
            void = _copy_claim(
                session,
                actor,
                original,
                frequency="8",
                policy=None,
                reason=f"Void of claim {original.claim_number}: {reason.strip()}",
            )
            scrub_claims(session, [void], actor, today)
            audit.record(
                session,
                actor,
                "void_claim",
                "claim",
                void.id,
                patient_id=void.patient_id,
                detail={"original": original.claim_number, "reason": reason.strip()},
            )
            return void.id

    def build_secondary(self, actor: Actor, claim_id: int, today: date | None = None) -> int:
        """The claim to the next payer, carrying the posted remittance of ``claim_id`` (COB loops)."""
        actor.require(Permission.CLAIM_EDIT)
        with self._db.session() as session:
            today = today or clinic_today(session)
            primary = session.get(Claim, claim_id)
            if primary is None:
                raise NotFound(f"Claim {claim_id} no longer exists.")
            if posted_remittance(session, primary.id) is None:
                raise ValidationFailed(
                    [
                        error(
                            "NOT_ADJUDICATED",
                            f"Claim {primary.claim_number} has no posted remittance yet; the next "
                            "payer's claim is built from it once the payment is posted.",
                            "claim",
                        )
                    ]
                )
            existing = session.scalar(
                sa.select(Claim.claim_number).where(
                    Claim.original_claim_id == primary.id,
                    Claim.frequency_code == "1",
                    Claim.status.in_([ClaimStatus(s) for s in LIVE]),
                )
            )
            if existing:
                raise ValidationFailed(
                    [
                        error(
                            "EXISTS",
                            f"Claim {existing} already bills the next payer for this visit.",
                            "claim",
                        )
                    ]
                )
            current = session.get(InsurancePolicy, primary.policy_id)
            assert current is not None
            later = [
                p
                for p in session.scalars(
                    sa.select(InsurancePolicy).where(InsurancePolicy.patient_id == primary.patient_id)
                )
                if RANK_ORDER[p.rank] > RANK_ORDER[current.rank]
                and in_force(p.effective_date, p.termination_date, primary.service_date_from)
            ]
            if not later:
                raise ValidationFailed(
                    [
                        error(
                            "NO_SECONDARY",
                            "The patient has no secondary insurance in force on "
                            f"{us_date(primary.service_date_from)}; the balance is the patient's.",
                            "subscriber",
                        )
                    ]
                )
            policy = min(later, key=lambda p: (RANK_ORDER[p.rank], p.id))
            secondary = _copy_claim(
                session,
                actor,
                primary,
                frequency="1",
                policy=policy,
                reason=f"Secondary claim after {primary.claim_number}'s remittance",
            )
            scrub_claims(session, [secondary], actor, today)
            audit.record(
                session,
                actor,
                "build_secondary",
                "claim",
                secondary.id,
                patient_id=secondary.patient_id,
                detail={"primary": primary.claim_number},
            )
            return secondary.id

    # -- scrub

    def scrub(
        self, actor: Actor, claim_ids: Sequence[int] | None = None, today: date | None = None
    ) -> ScrubSummary:
        """Scrub ``claim_ids`` (default: every draft, ready or rejected claim) and store the findings."""
        actor.require(Permission.CLAIM_EDIT)
        with collector_paused(), self._db.session() as session:
            today = today or clinic_today(session)
            stmt = sa.select(Claim).order_by(Claim.id)
            if claim_ids is None:
                stmt = stmt.where(Claim.status.in_([ClaimStatus(s) for s in EDITABLE]))
            else:
                stmt = stmt.where(Claim.id.in_(list(claim_ids)))
            claims = list(session.scalars(stmt))
            if claim_ids is not None and len(claims) != len(set(claim_ids)):
                raise NotFound("One of the claims no longer exists.")
            results = (
                scrub_claims(session, claims, actor, today, release_rejected=claim_ids is not None)
                if claims
                else {}
            )
            ready = sum(1 for c in claims if c.status is ClaimStatus.READY)
            return ScrubSummary(
                len(claims),
                ready,
                sum(1 for f in results.values() if any(x.blocks for x in f)),
                {c.claim_number: results[c.id] for c in claims},
            )

    # -- reading

    def claims(
        self,
        actor: Actor,
        *,
        statuses: Sequence[ClaimStatus] | None = None,
        payer_id: int | None = None,
        min_age_days: int | None = None,
        finding_code: str | None = None,
        search: str | None = None,
        limit: int = 1000,
        today: date | None = None,
    ) -> list[ClaimRow]:
        """The claim work queue: newest service first, filtered by status, payer, age and finding."""
        actor.require(Permission.CLAIM_EDIT)
        with self._db.session() as session:
            today = today or clinic_today(session)
            stmt = (
                sa.select(Claim, Patient, Payer.name)
                .join(Patient, Patient.id == Claim.patient_id)
                .join(Payer, Payer.id == Claim.payer_id)
                .order_by(Claim.service_date_from.desc(), Claim.id.desc())
            )
            if statuses:
                stmt = stmt.where(Claim.status.in_(list(statuses)))
            if payer_id is not None:
                stmt = stmt.where(Claim.payer_id == payer_id)
            if min_age_days is not None:
                stmt = stmt.where(
                    Claim.service_date_from <= date.fromordinal(today.toordinal() - min_age_days)
                )
            if search:
                text = search.strip().upper()
                stmt = stmt.where(
                    sa.or_(
                        Claim.claim_number == text,
                        Patient.search_last.startswith(text),
                        Patient.mrn == text,
                    )
                )
            rows = session.execute(stmt.limit(limit if not finding_code else limit * 5)).all()
            reasons = _latest_reasons(session, [c.id for c, _, _ in rows if c.status is ClaimStatus.REJECTED])
            out = []
            for claim, patient, payer_name in rows:
                row = _row(claim, patient, payer_name, today, reasons.get(claim.id))
                if finding_code and not any(f.get("code") == finding_code for f in claim.findings or ()):
                    continue
                out.append(row)
                if len(out) >= limit:
                    break
            return out

    def detail(self, actor: Actor, claim_id: int, today: date | None = None) -> ClaimDetail:
        actor.require(Permission.CLAIM_EDIT)
        with self._db.session() as session:
            today = today or clinic_today(session)
            claim = session.get(Claim, claim_id)
            if claim is None:
                raise NotFound(f"Claim {claim_id} no longer exists.")
            patient = session.get(Patient, claim.patient_id)
            payer = session.get(Payer, claim.payer_id)
            assert patient is not None and payer is not None
            reasons = _latest_reasons(session, [claim.id]) if claim.status is ClaimStatus.REJECTED else {}
            explanations = dict(
                session.execute(
                    sa.select(CodedLine.id, CodedLine.explanation).where(
                        CodedLine.id.in_([line.coded_line_id for line in claim.lines if line.coded_line_id])
                    )
                ).all()
            )
            auth_numbers = dict(
                session.execute(
                    sa.select(PriorAuthorization.id, PriorAuthorization.number).where(
                        PriorAuthorization.id.in_(
                            [line.authorization_id for line in claim.lines if line.authorization_id]
                        )
                    )
                ).all()
            )
            users = dict(session.execute(sa.select(User.id, User.display_name)).all())
            original = session.get(Claim, claim.original_claim_id) if claim.original_claim_id else None
            audit.record(session, actor, "view", "claim", claim.id, patient_id=claim.patient_id)
            return ClaimDetail(
                row=_row(claim, patient, payer.name, today, reasons.get(claim.id)),
                diagnoses=tuple(d.icd10_code for d in claim.diagnoses),
                lines=tuple(
                    LineDetail(
                        line.line_number,
                        line.code,
                        tuple(line.modifiers or ()),
                        line.units,
                        line.charge,
                        tuple(line.diagnosis_pointers or ()),
                        line.ndc,
                        line.ndc_quantity,
                        line.ndc_unit,
                        line.line_control_number,
                        auth_numbers.get(line.authorization_id) if line.authorization_id else None,
                        explanations.get(line.coded_line_id, "") if line.coded_line_id else "Entered by hand",
                    )
                    for line in claim.lines
                ),
                findings=tuple(finding_from_json(f) for f in claim.findings or ()),
                history=tuple(
                    HistoryEntry(
                        e.at,
                        e.from_status,
                        e.to_status,
                        users.get(e.user_id, "Infusion Desk") if e.user_id else "Infusion Desk",
                        e.reason or "",
                    )
                    for e in claim.history
                ),
                visit_id=claim.visit_id,
                patient_id=claim.patient_id,
                original_claim_number=original.claim_number if original else None,
                payer_claim_control_number=claim.payer_claim_control_number,
                version=claim.version,
            )

    def claim_data(self, actor: Actor, claim_ids: Sequence[int]) -> list[ClaimData]:
        """The claims as the 837P and the CMS-1500 see them, in the order asked."""
        actor.require(Permission.CLAIM_EDIT)
        with self._db.session() as session:
            data = claim_data_for(session, claim_ids)
            patients = session.scalars(sa.select(Claim.patient_id).where(Claim.id.in_(list(claim_ids))))
            audit.record_patients(session, actor, "view", "claim_data", None, patients,
                                  detail={"claims": list(claim_ids)})
            return [data[i] for i in claim_ids]

    def claim_id(self, actor: Actor, number: str) -> int:
        """The id of the claim whose CLM01 is ``number`` (what the user types or the CLI is given)."""
        actor.require(Permission.CLAIM_EDIT)
        with self._db.session() as session:
            found = session.scalar(sa.select(Claim.id).where(Claim.claim_number == number.strip().upper()))
            if found is None:
                raise NotFound(f"There is no claim {number.strip()}.")
            return found

    # -- moving

    def set_status(
        self,
        actor: Actor,
        claim_id: int,
        target: ClaimStatus,
        reason: str,
        *,
        expected_version: int | None = None,
    ) -> None:
        """A move the user makes by hand (close a claim, mark one appealed), with the reason kept.

        ``expected_version`` is :attr:`ClaimDetail.version` as shown: if the claim moved since
        (another biller, a posted payment), :class:`~infusion_desk.services.concurrency.ChangedElsewhere`
        says so and nothing changes.
        """
        actor.require(Permission.CLAIM_EDIT)
        if not reason.strip():
            raise ValidationFailed([error("REASON", "Say why the claim's status is changing.", "reason")])
        with self._db.session() as session:
            take_version(session, Claim, claim_id, expected_version, entity="claim", what="This claim")
            claim = session.get(Claim, claim_id)
            if claim is None:
                raise NotFound(f"Claim {claim_id} no longer exists.")
            before = claim.status
            record_transition(session, claim, target, actor, reason.strip())
            audit.record(
                session,
                actor,
                "claim_status",
                "claim",
                claim.id,
                patient_id=claim.patient_id,
                detail={"from": before.value, "to": target.value, "reason": reason.strip()},
            )


def _copy_claim(
    session: Session,
    actor: Actor,
    original: Claim,
    *,
    frequency: str,
    policy: InsurancePolicy | None,
    reason: str,
) -> Claim:
    """A new claim with ``original``'s lines and diagnoses: a void (same payer) or the next payer's claim."""
    number = claim_number(next(iter(reserve_control_numbers(session, CLAIM_COUNTER, 1))))
    claim = Claim(
        claim_number=number,
        visit_id=original.visit_id,
        patient_id=original.patient_id,
        policy_id=policy.id if policy else original.policy_id,
        payer_id=policy.payer_id if policy else original.payer_id,
        responsibility_sequence=RESPONSIBILITY[policy.rank] if policy else original.responsibility_sequence,
        frequency_code=frequency,
        original_claim_id=original.id,
        status=ClaimStatus.DRAFT,
        service_date_from=original.service_date_from,
        service_date_to=original.service_date_to,
        place_of_service=original.place_of_service,
        billing_provider_npi=original.billing_provider_npi,
        rendering_provider_id=original.rendering_provider_id,
        ordering_provider_id=original.ordering_provider_id,
        prior_authorization_number=original.prior_authorization_number if policy is None else None,
        total_charge=original.total_charge,
        findings=[],
    )
    claim.diagnoses = [
        ClaimDiagnosis(sequence=d.sequence, icd10_code=d.icd10_code) for d in original.diagnoses
    ]
    claim.lines = [
        ClaimLine(
            line_number=line.line_number,
            line_control_number=line_control_number(number, line.line_number),
            service_date=line.service_date,
            code=line.code,
            modifiers=list(line.modifiers or ()),
            units=line.units,
            charge=line.charge,
            diagnosis_pointers=list(line.diagnosis_pointers or ()),
            ndc=line.ndc,
            ndc_quantity=line.ndc_quantity,
            ndc_unit=line.ndc_unit,
            description=line.description,
            authorization_id=line.authorization_id if policy is None else None,
            coded_line_id=line.coded_line_id,
        )
        for line in original.lines
    ]
    session.add(claim)
    session.flush()
    session.add(
        ClaimStatusEvent(
            claim_id=claim.id,
            at=utcnow(),
            from_status=None,
            to_status=ClaimStatus.DRAFT,
            user_id=actor.user_id,
            reason=reason,
        )
    )
    return claim


class _Pricing:
    def __init__(self, session: Session, codes: set[str]) -> None:
        wanted = sorted(codes)
        self.charge_master = dict(
            session.execute(
                sa.select(ChargeMasterEntry.code, ChargeMasterEntry.charge).where(
                    ChargeMasterEntry.code.in_(wanted)
                )
            ).all()
        )
        self.drugs = {
            d.hcpcs: d
            for d in session.scalars(
                sa.select(Drug).where(Drug.hcpcs.in_(wanted)).options(selectinload(Drug.ndcs))
            )
        }
        self.prices = {code: drug.unit_price for code, drug in self.drugs.items()}

    def charge(self, code: str, units: Decimal) -> Decimal:
        return line_charge(code, units, self.charge_master, self.prices)

    def ndc_for(self, line: CodedLine | sa.Row[Any]) -> str | None:
        """The NDC recorded at the chair, else the catalog's only package of the drug."""
        if line.ndc:
            return line.ndc
        drug = self.drugs.get(line.code)
        return drug.ndcs[0].ndc if drug is not None and len(drug.ndcs) == 1 else None

    def ndc(self, line: CodedLine | sa.Row[Any], ndc: str, admins: list[sa.Row[Any]]) -> tuple[Decimal, str]:
        """The NDC quantity and unit of a drug line; 0 when it cannot be worked out (the scrubber says so)."""
        drug = self.drugs.get(line.code)
        package = next((n for n in drug.ndcs if n.ndc == ndc), None) if drug else None
        if drug is None or package is None:
            return Decimal(0), "UN"
        ndc_package = NdcPackage(
            package.ndc,
            package.package_amount,
            package.package_unit,
            package.ndc_unit,
            package.package_volume_ml,
        )
        waste = "JW" in (line.modifiers or ())
        amount = _administered(admins, waste)
        if amount is None or drug.billing_unit_up_to is False and not admins:
            amount = (line.units * drug.billing_unit_amount, drug.billing_unit)
        quantity = ndc_quantity(amount[0], amount[1], ndc_package)
        return (quantity if quantity is not None else Decimal(0)), package.ndc_unit


@dataclass(frozen=True, slots=True)
class _Approved:
    """An approved authorization as claim building reads it."""

    id: int
    policy_id: int
    order_id: int | None
    number: str
    valid_from: date
    valid_to: date
    codes: frozenset[str]


class _Authorizations:
    def __init__(self, session: Session, patient_ids: set[int]) -> None:
        rows = session.execute(
            sa.select(
                PriorAuthorization.id,
                PriorAuthorization.patient_id,
                PriorAuthorization.policy_id,
                PriorAuthorization.order_id,
                PriorAuthorization.number,
                PriorAuthorization.valid_from,
                PriorAuthorization.valid_to,
            ).where(
                PriorAuthorization.patient_id.in_(sorted(patient_ids)),
                PriorAuthorization.status == AuthorizationStatus.APPROVED,
            )
        ).all()
        codes: dict[int, set[str]] = {}
        for chunk in chunks([r.id for r in rows]):
            for auth_id, code in session.execute(
                sa.select(AuthorizationCode.authorization_id, AuthorizationCode.code).where(
                    AuthorizationCode.authorization_id.in_(chunk)
                )
            ):
                codes.setdefault(auth_id, set()).add(code)
        self.rows: dict[int, list[_Approved]] = {}
        for r in rows:
            self.rows.setdefault(r.patient_id, []).append(
                _Approved(
                    r.id,
                    r.policy_id,
                    r.order_id,
                    r.number,
                    r.valid_from,
                    r.valid_to,
                    frozenset(codes.get(r.id, ())),
                )
            )
        self.numbers = {a.id: a.number for approved in self.rows.values() for a in approved}

    def covering(
        self, patient_id: int, policy_id: int, code: str, day: date, order_id: int | None
    ) -> _Approved | None:
        matches = [
            a
            for a in self.rows.get(patient_id, [])
            if a.policy_id == policy_id and a.valid_from <= day <= a.valid_to and code in a.codes
        ]
        matches.sort(key=lambda a: (a.order_id != order_id, -a.valid_from.toordinal(), -a.id))
        return matches[0] if matches else None

    def number(self, authorization_id: int | None) -> str | None:
        return self.numbers.get(authorization_id) if authorization_id else None


def _latest_reasons(session: Session, claim_ids: list[int]) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for chunk in chunks(claim_ids):
        for claim_id, reason in session.execute(
            sa.select(ClaimStatusEvent.claim_id, ClaimStatusEvent.reason)
            .where(ClaimStatusEvent.claim_id.in_(chunk), ClaimStatusEvent.to_status == ClaimStatus.REJECTED)
            .order_by(ClaimStatusEvent.at, ClaimStatusEvent.id)
        ):
            reasons[claim_id] = reason or ""
    return reasons


def _row(claim: Claim, patient: Patient, payer_name: str, today: date, rejection: str | None) -> ClaimRow:
    findings = [finding_from_json(f) for f in claim.findings or ()]
    errors = sum(1 for f in findings if f.blocks)
    first = (
        rejection
        or next((f.message for f in findings if f.blocks), None)
        or (findings[0].message if findings else "")
    )
    return ClaimRow(
        id=claim.id,
        claim_number=claim.claim_number,
        patient=_patient_label(patient),
        payer=payer_name,
        payer_id=claim.payer_id,
        service_date=claim.service_date_from,
        status=claim.status,
        total_charge=claim.total_charge,
        frequency_code=claim.frequency_code,
        responsibility=claim.responsibility_sequence,
        errors=errors,
        warnings=len(findings) - errors,
        first_problem=first,
        age_days=(today - claim.service_date_from).days,
        batch_id=claim.batch_id,
        version=claim.version,
    )
