"""Coding a documented visit from the database with the clinic's catalog and payer settings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

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
from infusion_desk.models import (
    Administration,
    Drug,
    InsurancePolicy,
    Payer,
    PhysicianOrder,
    Setting,
    Visit,
)
from infusion_desk.models.db import Database
from infusion_desk.models.enums import PayerType, PolicyRank
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import NotFound

DEFAULT_TIMEZONE = "America/Chicago"


def load_catalog(session: Session) -> dict[str, DrugInfo]:
    drugs = session.execute(sa.select(Drug).options(selectinload(Drug.ndcs))).scalars()
    return {
        drug.hcpcs: DrugInfo(
            hcpcs=drug.hcpcs, name=drug.name, unit_amount=drug.billing_unit_amount,
            unit=drug.billing_unit, up_to=drug.billing_unit_up_to, admin_class=drug.admin_class.value,
            single_dose_container=drug.single_dose_container, ndcs=tuple(n.ndc for n in drug.ndcs),
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


def visit_input(session: Session, visit: Visit, zone: ZoneInfo) -> tuple[VisitInput, Payer | None]:
    """Build the coding engine's input from a stored visit (times in the clinic's local time)."""
    policy = session.execute(
        sa.select(InsurancePolicy)
        .where(InsurancePolicy.patient_id == visit.patient_id, InsurancePolicy.rank == PolicyRank.PRIMARY)
        .order_by(InsurancePolicy.effective_date.desc())
        .limit(1)
    ).scalar_one_or_none()
    payer = session.get(Payer, policy.payer_id) if policy is not None else None
    diagnoses: tuple[str, ...] = ()
    if visit.order_id is not None:
        order = session.get(PhysicianOrder, visit.order_id)
        if order is not None:
            diagnoses = tuple(d.icd10_code for d in order.diagnoses)
    administrations = []
    for admin in visit.administrations:
        start = _local(admin.start_at, zone)
        if start is None:
            continue
        administrations.append(
            AdministrationInput(
                id=str(admin.id), method=admin.method.value, start=start,
                hcpcs=admin.hcpcs, drug=admin.drug.name if admin.drug else None,
                admin_class=admin.admin_class.value, route=admin.route, site=admin.iv_site or "",
                encounter=admin.encounter, bag=admin.bag, stop=_local(admin.stop_at, zone),
                interruptions=tuple(
                    Interval(_local(p.paused_at, zone), _local(p.resumed_at, zone))  # type: ignore[arg-type]
                    for p in admin.interruptions
                    if p.resumed_at is not None
                ),
                dose=Amount(admin.dose_amount, admin.dose_unit) if admin.dose_amount is not None
                and admin.dose_unit else None,
                waste=Amount(admin.waste_amount, admin.dose_unit) if admin.waste_amount is not None
                and admin.dose_unit else None,
                bags=tuple(BagHung(b["hcpcs"], b["volume_ml"]) for b in admin.bags_hung or ()),
                ndc=admin.ndc, flags=tuple(admin.flags or ()),
            )
        )
    primary = next((str(a.id) for a in visit.administrations if a.is_primary_reason), None)
    em = (
        EvaluationAndManagement(visit.em_code, visit.em_separately_identifiable)
        if visit.em_code else None
    )
    payer_input = PayerInput(_payer_type(payer.payer_type) if payer else "commercial",
                             payer.name if payer else None)
    return (
        VisitInput(
            payer=payer_input, date_of_service=visit.date_of_service,
            administrations=tuple(administrations), diagnoses=diagnoses,
            primary_reason=primary if any(a.id == primary for a in administrations) else None,
            evaluation_and_management=em,
        ),
        payer,
    )


class CodingService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def code(self, actor: Actor, visit_id: int) -> CodingResult:
        """The lines the engine proposes for a visit, as documented right now."""
        if not (actor.can(Permission.CODE_VISIT) or actor.can(Permission.DOCUMENT_ADMINISTRATION)):
            actor.require(Permission.CODE_VISIT)
        with self._db.session() as session:
            visit = session.get(
                Visit, visit_id,
                options=[selectinload(Visit.administrations).selectinload(Administration.interruptions),
                         selectinload(Visit.administrations).selectinload(Administration.drug)],
            )
            if visit is None:
                raise NotFound(f"Visit {visit_id} no longer exists.")
            zone = clinic_timezone(session)
            data, payer = visit_input(session, visit, zone)
            settings = PayerSettings.from_mapping(data.payer.type, payer.coding_settings if payer else {})
            return code_visit(data, load_catalog(session), settings, reference_tables())
