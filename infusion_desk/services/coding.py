"""Coding a documented visit from the database with the clinic's catalog and payer settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from infusion_desk.billing import validation
from infusion_desk.billing.coding import CodingResult, code_visit
from infusion_desk.billing.coding_input import (
    AdministrationInput,
    Amount,
    BagHung,
    DrugInfo,
    EvaluationAndManagement,
    Interval,
    PayerInput,
    PayerSettings,
    VisitInput,
)
from infusion_desk.billing.edits import reference_tables
from infusion_desk.billing.findings import error
from infusion_desk.billing.money import quantity
from infusion_desk.models import (
    CodedLine,
    CodedLineHistory,
    Drug,
    InsurancePolicy,
    OrderDiagnosis,
    Payer,
    Setting,
    Visit,
)
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import PayerType, PolicyRank
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.visits import DOCUMENTATION, load_visit

DEFAULT_TIMEZONE = "America/Chicago"


def load_catalog(session: Session) -> dict[str, DrugInfo]:
    drugs = session.execute(sa.select(Drug).options(selectinload(Drug.ndcs))).scalars()
    return {
        drug.hcpcs: DrugInfo(
            hcpcs=drug.hcpcs,
            name=drug.name,
            unit_amount=drug.billing_unit_amount,
            unit=drug.billing_unit,
            up_to=drug.billing_unit_up_to,
            admin_class=drug.admin_class.value,
            single_dose_container=drug.single_dose_container,
            ndcs=tuple(n.ndc for n in drug.ndcs),
        )
        for drug in drugs
    }


def load_payer_settings(session: Session) -> dict[str, Mapping[str, Any]]:
    return {
        name: settings or {}
        for name, settings in session.execute(sa.select(Payer.name, Payer.coding_settings))
    }


def clinic_coding_context(db: Database) -> tuple[dict[str, DrugInfo], dict[str, Mapping[str, Any]]]:
    """The clinic's catalog and per-payer coding settings, for headless coding."""
    with db.session() as session:
        return load_catalog(session), load_payer_settings(session)


def clinic_timezone(session: Session) -> ZoneInfo:
    setting = session.get(Setting, "clinic.timezone")
    return ZoneInfo(setting.value if setting is not None else DEFAULT_TIMEZONE)


def _payer_type(payer_type: PayerType) -> str:
    return payer_type.value if payer_type is not PayerType.OTHER else "commercial"


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def build_visit_input(
    visit: Visit,
    payer: Payer | None,
    diagnoses: tuple[str, ...],
    zone: ZoneInfo,
    running_until: datetime | None = None,
) -> VisitInput:
    """The coding engine's input for a loaded visit (times in the clinic's local time).

    With ``running_until``, an infusion still running (or paused) is coded as if it stopped
    then: the chair view's live lines while the nurse works. Without it, a running infusion
    has no stop and the engine says so.
    """
    administrations = []
    for admin in visit.administrations:
        start = _local(admin.start_at, zone)
        if start is None:
            continue
        stop_at = admin.stop_at
        if stop_at is None and running_until is not None and admin.method.value == "infusion":
            stop_at = max(running_until, admin.start_at) if admin.start_at else running_until
        unit = admin.dose_unit
        administrations.append(
            AdministrationInput(
                id=str(admin.id),
                method=admin.method.value,
                start=start,
                hcpcs=admin.hcpcs,
                drug=admin.drug.name if admin.drug else None,
                admin_class=admin.admin_class.value,
                route=admin.route,
                site=admin.iv_site or "",
                encounter=admin.encounter,
                bag=admin.bag,
                stop=_local(stop_at, zone),
                interruptions=tuple(
                    Interval(_local(p.paused_at, zone), _local(p.resumed_at or stop_at, zone))  # type: ignore[arg-type]
                    for p in admin.interruptions
                    if (p.resumed_at or stop_at) is not None
                ),
                dose=Amount(admin.dose_amount, unit) if admin.dose_amount is not None and unit else None,
                waste=Amount(admin.waste_amount, unit) if admin.waste_amount is not None and unit else None,
                bags=tuple(BagHung(b["hcpcs"], b["volume_ml"]) for b in admin.bags_hung or ()),
                ndc=admin.ndc,
                flags=tuple(admin.flags or ()),
            )
        )
    ids = {a.id for a in administrations}
    primary = next((str(a.id) for a in visit.administrations if a.is_primary_reason), None)
    em = EvaluationAndManagement(visit.em_code, visit.em_separately_identifiable) if visit.em_code else None
    payer_input = PayerInput(
        _payer_type(payer.payer_type) if payer else "commercial", payer.name if payer else None
    )
    return VisitInput(
        payer=payer_input,
        date_of_service=visit.date_of_service,
        administrations=tuple(administrations),
        diagnoses=diagnoses,
        primary_reason=primary if primary in ids else None,
        evaluation_and_management=em,
    )


@dataclass(frozen=True)
class LoadedVisit:
    visit: Visit
    payer: Payer | None
    diagnoses: tuple[str, ...]


def load_visits_for_coding(
    session: Session, where: sa.ColumnElement[bool], *, documentation: bool = True
) -> list[LoadedVisit]:
    """Visits matching ``where`` with everything coding needs, in a fixed number of queries.

    The payer is the one of the policy chosen for the visit at booking, else the patient's
    primary: the claim goes to that payer, so its coding settings (JW/JZ, modifiers) apply.
    Without ``documentation`` the administrations are not brought along (for visits already
    coded, whose stored lines are used).
    """
    visits = (
        session.execute(
            sa.select(Visit)
            .where(where)
            .order_by(Visit.id)
            .options(*(DOCUMENTATION if documentation else ()))
        )
        .scalars()
        .all()
    )
    patient_ids = {v.patient_id for v in visits}
    order_ids = {v.order_id for v in visits if v.order_id is not None}
    payers = {p.id: p for p in session.execute(sa.select(Payer)).scalars()}
    primary_payer: dict[int, int] = {}
    for chunk in _chunks(sorted(patient_ids)):
        for patient_id, payer_id in session.execute(
            sa.select(InsurancePolicy.patient_id, InsurancePolicy.payer_id)
            .where(InsurancePolicy.patient_id.in_(chunk), InsurancePolicy.rank == PolicyRank.PRIMARY)
            .order_by(InsurancePolicy.effective_date)
        ):
            primary_payer[patient_id] = payer_id
    diagnoses: dict[int, list[str]] = {}
    for chunk in _chunks(sorted(order_ids)):
        for order_id, code in session.execute(
            sa.select(OrderDiagnosis.order_id, OrderDiagnosis.icd10_code)
            .where(OrderDiagnosis.order_id.in_(chunk))
            .order_by(OrderDiagnosis.order_id, OrderDiagnosis.sequence)
        ):
            diagnoses.setdefault(order_id, []).append(code)
    policy_ids = sorted({v.policy_id for v in visits if v.policy_id is not None})
    policy_payer: dict[int, int] = {}
    for chunk in _chunks(policy_ids):
        for policy_id, payer_id in session.execute(
            sa.select(InsurancePolicy.id, InsurancePolicy.payer_id).where(InsurancePolicy.id.in_(chunk))
        ):
            policy_payer[policy_id] = payer_id
    return [
        LoadedVisit(
            visit,
            payers.get(
                policy_payer[visit.policy_id]
                if visit.policy_id in policy_payer
                else primary_payer.get(visit.patient_id, -1)
            ),
            tuple(diagnoses.get(visit.order_id or -1, ())),
        )
        for visit in visits
    ]


def _chunks(values: list[int], size: int = 900) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def code_loaded(
    loaded: list[LoadedVisit],
    catalog: Mapping[str, DrugInfo],
    zone: ZoneInfo,
    running_until: datetime | None = None,
) -> list[CodingResult]:
    """Code visits already loaded (pure apart from reading the loaded objects)."""
    tables = reference_tables()
    settings: dict[int | None, PayerSettings] = {}
    results = []
    for item in loaded:
        payer = item.payer
        key = payer.id if payer else None
        data = build_visit_input(item.visit, payer, item.diagnoses, zone, running_until)
        if key not in settings:
            stored = payer.coding_settings if payer else {}
            settings[key] = PayerSettings.from_mapping(data.payer.type, stored)
        results.append(code_visit(data, catalog, settings[key], tables))
    return results


def coded_line_rows(visit_id: int, result: CodingResult) -> list[CodedLine]:
    """The engine's lines for a visit as the rows it stores (the coder's review and claims share them)."""
    return [
        CodedLine(
            visit_id=visit_id,
            sequence=index,
            code=line.code,
            units=Decimal(line.units),
            modifiers=list(line.modifiers),
            diagnosis_pointers=list(line.diagnosis_pointers),
            administration_ids=[int(i) for i in line.administrations],
            ndc=line.ndc,
            explanation=line.explanation,
        )
        for index, line in enumerate(result.lines, start=1)
    ]


class CodingService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def code(self, actor: Actor, visit_id: int) -> CodingResult:
        """The lines the engine proposes for a visit, as documented right now."""
        if not (actor.can(Permission.CODE_VISIT) or actor.can(Permission.DOCUMENT_ADMINISTRATION)):
            actor.require(Permission.CODE_VISIT)
        with self._db.session() as session:
            visit = load_visit(session, visit_id)
            (loaded,) = load_visits_for_coding(session, Visit.id == visit.id)
            return code_loaded([loaded], load_catalog(session), clinic_timezone(session))[0]


@dataclass(frozen=True, slots=True)
class ReviewLine:
    """A line as the coder sees it: what the engine proposed, and any override on top."""

    sequence: int
    code: str
    units: Decimal
    modifiers: tuple[str, ...]
    explanation: str
    administrations: tuple[int, ...]
    overridden: bool
    override_reason: str | None


@dataclass(frozen=True, slots=True)
class VisitReview:
    visit_id: int
    lines: tuple[ReviewLine, ...]
    warnings: tuple[str, ...]
    coded: bool


def _review_lines(rows: list[CodedLine]) -> tuple[ReviewLine, ...]:
    return tuple(
        ReviewLine(
            row.sequence,
            row.code,
            row.units,
            tuple(row.modifiers),
            row.explanation,
            tuple(row.administration_ids),
            row.overridden,
            row.override_reason,
        )
        for row in sorted(rows, key=lambda r: r.sequence)
    )


class CoderReviewService:
    """A biller reviews a visit's lines, overrides one with a reason, and marks the visit coded."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def review(self, actor: Actor, visit_id: int) -> VisitReview:
        """The visit's lines: the engine's proposal, refreshed unless a coder already overrode lines."""
        actor.require(Permission.CODE_VISIT)
        with self._db.session() as session:
            visit = load_visit(session, visit_id)
            (loaded,) = load_visits_for_coding(session, Visit.id == visit_id)
            result = code_loaded([loaded], load_catalog(session), clinic_timezone(session))[0]
            rows = list(visit.coded_lines)
            if visit.coded_at is None and not any(row.overridden for row in rows):
                for row in rows:
                    session.delete(row)
                session.flush()
                rows = coded_line_rows(visit.id, result)
                session.add_all(rows)
                session.flush()
            audit.record(session, actor, "view", "coding", visit.id, patient_id=visit.patient_id)
            return VisitReview(
                visit.id,
                _review_lines(rows),
                tuple(w.message for w in result.warnings),
                visit.coded_at is not None,
            )

    def override(
        self,
        actor: Actor,
        visit_id: int,
        sequence: int,
        *,
        code: str | None = None,
        units: str | None = None,
        modifiers: tuple[str, ...] | None = None,
        reason: str,
    ) -> None:
        """Change one line; the reason and the line before and after are kept in its history."""
        actor.require(Permission.CODE_VISIT)
        if not reason.strip():
            raise ValidationFailed([error("REASON", "Give the reason for overriding the line.", "reason")])
        findings = list(validation.check_hcpcs(code, "code")) if code is not None else []
        new_units: Decimal | None = None
        if units is not None:
            try:
                new_units = quantity(units.strip())
                if new_units <= 0 or new_units != new_units.to_integral_value():
                    findings.append(error("UNITS", "Units must be a whole number above zero.", "units"))
            except ValueError:
                findings.append(error("UNITS", f"Units {units!r} is not a number.", "units"))
        for modifier in modifiers or ():
            if len(modifier) != 2 or not modifier.isalnum():
                findings.append(
                    error("MODIFIER", f"Modifier {modifier!r} must be two letters or digits.", "modifiers")
                )
        if findings:
            raise ValidationFailed(findings)
        with self._db.session() as session:
            visit = load_visit(session, visit_id)
            if visit.coded_at is not None:
                raise ValidationFailed(
                    [error("CODED", "This visit is marked coded; reopen it first.", "visit")]
                )
            row = next((r for r in visit.coded_lines if r.sequence == sequence), None)
            if row is None:
                raise NotFound(f"Line {sequence} is not on this visit; refresh the review.")
            before = {"code": row.code, "units": str(row.units), "modifiers": list(row.modifiers)}
            if code is not None:
                row.code = validation.normalize_hcpcs(code)
            if new_units is not None:
                row.units = new_units
            if modifiers is not None:
                row.modifiers = [m.upper() for m in modifiers]
            after = {"code": row.code, "units": str(row.units), "modifiers": list(row.modifiers)}
            row.overridden = True
            row.override_reason = reason.strip()
            row.overridden_by_id = actor.user_id
            row.overridden_at = utcnow()
            session.add(
                CodedLineHistory(
                    visit_id=visit.id,
                    sequence=sequence,
                    at=row.overridden_at,
                    user_id=actor.user_id,
                    reason=reason.strip(),
                    before=before,
                    after=after,
                )
            )
            audit.record(
                session,
                actor,
                "override",
                "coded_line",
                f"{visit.id}:{sequence}",
                patient_id=visit.patient_id,
                detail={"before": before, "after": after},
            )

    def history(self, actor: Actor, visit_id: int) -> list[CodedLineHistory]:
        actor.require(Permission.CODE_VISIT)
        with self._db.session() as session:
            return list(
                session.execute(
                    sa.select(CodedLineHistory)
                    .where(CodedLineHistory.visit_id == visit_id)
                    .order_by(CodedLineHistory.at, CodedLineHistory.id)
                ).scalars()
            )

    def mark_coded(self, actor: Actor, visit_id: int) -> None:
        actor.require(Permission.CODE_VISIT)
        with self._db.session() as session:
            visit = load_visit(session, visit_id)
            if visit.signed_at is None:
                raise ValidationFailed(
                    [error("UNSIGNED", "The nurse has not signed this visit yet.", "visit")]
                )
            if not visit.coded_lines:
                raise ValidationFailed(
                    [error("NO_LINES", "Review the lines before marking the visit coded.", "lines")]
                )
            visit.coded_at = utcnow()
            visit.coded_by_id = actor.user_id
            audit.record(session, actor, "mark_coded", "visit", visit.id, patient_id=visit.patient_id)
