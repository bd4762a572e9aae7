"""Prior authorizations: what the payer approved, how much of it visits have used, and what needs renewing.

    auths = AuthorizationService(db)
    auth_id = auths.create(actor, AuthorizationInput(patient_id, policy_id, "PA-0001",
                           AuthorizationStatus.APPROVED, date(2026, 11, 1), date(2027, 1, 31),
                           ("J1745",), approved_units="120"))
    row = auths.authorizations(actor, patient_id)[0]
    row.burn_down.used_units, row.burn_down.remaining_units, [f.code for f in row.alerts]

Units and visits used are derived, never typed in: the units billed on completed visits'
coded lines for the authorized codes (JW waste included), or the order's dose for a
completed visit not yet coded; booked visits reserve the units their order's dose will
bill at the patient's latest weight (see ``billing/authorizations.py`` for the arithmetic).

Check-in calls :func:`authorization_findings` for the visit being checked in and the work
queues call :func:`authorizations_to_renew`; both run in the caller's session. Every
burn-down, for one authorization, one patient or the whole clinic, is computed by the same
fixed handful of queries (:func:`_evaluate`), never one query per row.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing import authorizations as rules
from infusion_desk.billing import validation
from infusion_desk.billing.authorizations import (
    EXPIRING_DAYS,
    AuthorizationTerms,
    BurnDown,
    VisitState,
    VisitUse,
    alerts,
    check_authorization,
    expected_units,
    requires_prior_authorization,
    units_left_for,
)
from infusion_desk.billing.dosing import DoseError, ordered_dose
from infusion_desk.billing.findings import Finding, error, warning
from infusion_desk.billing.findings import plain as _n
from infusion_desk.billing.findings import us_date as _us
from infusion_desk.models import (
    AuthorizationCode,
    CodedLine,
    Drug,
    InsurancePolicy,
    Patient,
    Payer,
    PhysicianOrder,
    PriorAuthorization,
    Visit,
)
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import AuthorizationStatus, DoseBasis, OrderStatus, PolicyRank, VisitStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.concurrency import take_version
from infusion_desk.services.coverage import active_policies
from infusion_desk.services.errors import NotFound, ValidationFailed

__all__ = [
    "AuthorizationInput",
    "AuthorizationService",
    "AuthorizationSummary",
    "AuthorizationToRenew",
    "authorization_findings",
    "authorizations_to_renew",
    "burn_down",
    "covering_authorization",
]

BOOKED = (VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN, VisitStatus.IN_CHAIR)
"""Visits that reserve units: booked and not yet completed."""
NOT_COUNTED = (VisitStatus.CANCELLED, VisitStatus.NO_SHOW)
STILL_OPEN = (AuthorizationStatus.REQUESTED, AuthorizationStatus.PENDING, AuthorizationStatus.APPROVED)
RECENT_EXPIRY_DAYS = 90
BOOKED_AHEAD_DAYS = 14
"""The renewal queue weighs the authorizations of patients booked within this many days."""
"""How long after it ended an authorization still shows in the renewal queue (visits booked past it)."""
RENEWAL_CODES = ("AUTH_EXPIRING", "AUTH_LOW", "AUTH_OUTSIDE_WINDOW", "AUTH_UNITS_UNKNOWN")

STATUS_LABELS = {
    AuthorizationStatus.REQUESTED: "Requested",
    AuthorizationStatus.PENDING: "Pending",
    AuthorizationStatus.APPROVED: "Approved",
    AuthorizationStatus.DENIED: "Denied",
    AuthorizationStatus.EXPIRED: "Expired",
}
RANK_LABELS = {
    PolicyRank.PRIMARY: "primary",
    PolicyRank.SECONDARY: "secondary",
    PolicyRank.TERTIARY: "tertiary",
}




# --- what the UI and the queues receive -----------------------------------------------------


@dataclass(frozen=True, slots=True)
class AuthorizationSummary:
    id: int
    patient_id: int
    policy_id: int
    policy: str
    """``"Acme Health (primary, member X123)"``."""
    payer_type: str
    order_id: int | None
    order: str | None
    number: str
    status: AuthorizationStatus
    approved_units: Decimal | None
    approved_visits: int | None
    valid_from: date
    valid_to: date
    codes: tuple[str, ...]
    notes: str | None
    burn_down: BurnDown
    alerts: tuple[Finding, ...]
    version: int = 1
    """The authorization's version when read: an edit passes it back (``update(expected_version=)``)."""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class AuthorizationToRenew:
    """A row of the "authorizations to renew" work queue."""

    authorization_id: int
    patient_id: int
    patient_name: str
    mrn: str
    number: str
    payer: str
    codes: tuple[str, ...]
    valid_to: date
    burn_down: BurnDown
    findings: tuple[Finding, ...]
    due: date

    @property
    def problem(self) -> str:
        return " ".join(f.message for f in self.findings)


@dataclass(frozen=True, slots=True)
class PolicyChoice:
    id: int
    label: str


@dataclass(frozen=True, slots=True)
class OrderChoice:
    id: int
    label: str
    hcpcs: str


@dataclass(frozen=True, slots=True)
class AuthorizationChoices:
    """What the authorization form offers for one patient."""

    policies: tuple[PolicyChoice, ...]
    orders: tuple[OrderChoice, ...]


@dataclass
class AuthorizationInput:
    patient_id: int
    policy_id: int | None
    number: str
    status: AuthorizationStatus
    valid_from: date | None
    valid_to: date | None
    codes: tuple[str, ...]
    approved_units: str | None = None
    approved_visits: str | None = None
    order_id: int | None = None
    notes: str | None = None


# --- the one computation behind every burn-down --------------------------------------------


@dataclass(frozen=True, slots=True)
class _Evaluated:
    id: int
    patient_id: int
    patient_name: str
    mrn: str
    policy_id: int
    policy: str
    payer: str
    payer_type: str
    order_id: int | None
    order: str | None
    status: AuthorizationStatus
    terms: AuthorizationTerms
    notes: str | None
    burn_down: BurnDown
    alerts: tuple[Finding, ...]
    weight: Decimal | None
    """The patient's latest weight on file, and below the latest height."""
    height: Decimal | None
    version: int = 1


@dataclass(frozen=True, slots=True)
class _Dose:
    amount: Decimal | None
    unit: str | None
    basis: DoseBasis | None
    hcpcs: str | None
    unit_amount: Decimal | None
    billing_unit: str | None

    def units(self, weight: Decimal | None, height: Decimal | None) -> Decimal | None:
        """Billing units this dose will bill, or None when it cannot be computed."""
        if self.amount is None or self.basis is None or self.unit is None:
            return None
        if self.unit_amount is None or self.billing_unit is None:
            return None
        try:
            dose = ordered_dose(self.amount, self.basis.value, weight_kg=weight, height_cm=height)
        except DoseError:
            return None
        return expected_units(dose, self.unit, self.unit_amount, self.billing_unit)


def _latest_measurements(
    session: Session, patient_ids: list[int]
) -> tuple[dict[int, Decimal], dict[int, Decimal]]:
    """Each listed patient's most recent weight and most recent height, where one is on file."""

    def latest(column: sa.orm.InstrumentedAttribute[Decimal | None]) -> sa.ScalarSelect[Decimal | None]:
        return (
            sa.select(column)
            .where(Visit.patient_id == Patient.id, column.is_not(None))
            .order_by(Visit.date_of_service.desc(), Visit.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    weights: dict[int, Decimal] = {}
    heights: dict[int, Decimal] = {}
    for patient_id, weight, height in session.execute(
        sa.select(Patient.id, latest(Visit.weight_kg), latest(Visit.height_cm)).where(
            Patient.id.in_(patient_ids)
        )
    ):
        if weight is not None:
            weights[patient_id] = weight
        if height is not None:
            heights[patient_id] = height
    return weights, heights


def _visit_uses(session: Session, cand: sa.Subquery, today: date) -> Sequence[Any]:
    """The candidates' visits in one pass: booked ones listed, completed ones in the window summed.

    One row per booked visit (its date, policy and order's dose); for completed visits one
    row per group that bills alike: coded ones summed (their units on the authorization's
    codes), uncoded ones grouped by the weight and height taken that day and the order's dose.
    """
    booked = Visit.status.in_(BOOKED)
    completed = Visit.status == VisitStatus.COMPLETED
    has_lines = sa.exists().where(CodedLine.visit_id == Visit.id)
    uncoded = sa.and_(completed, ~has_lines)
    listed_code = sa.exists().where(
        AuthorizationCode.authorization_id == cand.c.id, AuthorizationCode.code == Drug.hcpcs
    )
    billed_code = sa.exists().where(
        CodedLine.visit_id == Visit.id,
        AuthorizationCode.authorization_id == cand.c.id,
        AuthorizationCode.code == CodedLine.code,
    )
    billed = (
        sa.select(sa.func.sum(CodedLine.units))
        .join(
            AuthorizationCode,
            sa.and_(
                AuthorizationCode.authorization_id == cand.c.id, AuthorizationCode.code == CodedLine.code
            ),
        )
        .where(CodedLine.visit_id == Visit.id)
        .scalar_subquery()
    )
    pairs = (
        sa.select(
            cand.c.id.label("auth_id"),
            sa.case((booked, 0), (has_lines, 1), else_=2).label("kind"),
            sa.case((booked, Visit.id)).label("visit_id"),
            sa.case((booked, Visit.date_of_service)).label("day"),
            sa.case((booked, Visit.policy_id)).label("visit_policy"),
            sa.case((uncoded, Visit.weight_kg)).label("weight"),
            sa.case((uncoded, Visit.height_cm)).label("height"),
            PhysicianOrder.dose_amount.label("amount"),
            PhysicianOrder.dose_unit.label("unit"),
            PhysicianOrder.dose_basis.label("basis"),
            Drug.hcpcs.label("hcpcs"),
            Drug.billing_unit_amount.label("unit_amount"),
            Drug.billing_unit.label("billing_unit"),
            sa.case((completed, billed)).label("billed"),
        )
        .join(cand, cand.c.patient_id == Visit.patient_id)
        .outerjoin(PhysicianOrder, PhysicianOrder.id == Visit.order_id)
        .outerjoin(Drug, Drug.id == PhysicianOrder.drug_id)
        .where(
            sa.or_(Visit.policy_id.is_(None), Visit.policy_id == cand.c.policy_id),
            sa.or_(
                sa.and_(completed, Visit.date_of_service.between(cand.c.valid_from, cand.c.valid_to)),
                sa.and_(
                    booked,
                    sa.or_(
                        Visit.date_of_service >= today,
                        Visit.date_of_service.between(cand.c.valid_from, cand.c.valid_to),
                    ),
                ),
            ),
            # For the authorization: its order, a drug it lists, or a coded line it lists.
            sa.or_(
                sa.and_(cand.c.order_id.is_not(None), Visit.order_id == cand.c.order_id),
                listed_code,
                billed_code,
            ),
        )
        .subquery("uses")
    )
    keys = [column for column in pairs.c if column.key != "billed"]
    return session.execute(
        sa.select(*keys, sa.func.count().label("visits"), sa.func.sum(pairs.c.billed))
        .group_by(*keys)
        .order_by(pairs.c.day, pairs.c.visit_id)
    ).all()


def _evaluate(session: Session, where: sa.ColumnElement[bool], today: date) -> dict[int, _Evaluated]:
    """Burn-down and alerts of every authorization matching ``where``, in four queries."""
    auth_order = sa.orm.aliased(PhysicianOrder)
    auth_drug = sa.orm.aliased(Drug)
    rows = session.execute(
        sa.select(
            PriorAuthorization.id,
            PriorAuthorization.patient_id,
            Patient.last_name,
            Patient.first_name,
            Patient.mrn,
            PriorAuthorization.policy_id,
            Payer.name,
            Payer.payer_type,
            InsurancePolicy.rank,
            InsurancePolicy.member_id,
            PriorAuthorization.order_id,
            auth_drug.name,
            auth_order.dose_amount,
            auth_order.dose_unit,
            auth_order.dose_basis,
            auth_drug.hcpcs,
            auth_drug.billing_unit_amount,
            auth_drug.billing_unit,
            PriorAuthorization.number,
            PriorAuthorization.status,
            PriorAuthorization.approved_units,
            PriorAuthorization.approved_visits,
            PriorAuthorization.valid_from,
            PriorAuthorization.valid_to,
            PriorAuthorization.notes,
            PriorAuthorization.version,
        )
        .join(Patient, Patient.id == PriorAuthorization.patient_id)
        .join(InsurancePolicy, InsurancePolicy.id == PriorAuthorization.policy_id)
        .join(Payer, Payer.id == InsurancePolicy.payer_id)
        .outerjoin(auth_order, auth_order.id == PriorAuthorization.order_id)
        .outerjoin(auth_drug, auth_drug.id == auth_order.drug_id)
        .where(where)
        .order_by(PriorAuthorization.valid_from.desc(), PriorAuthorization.id.desc())
    ).all()
    if not rows:
        return {}
    by_id = {row[0]: row for row in rows}
    # The later queries name the authorizations and patients found rather than repeat ``where``.
    patient_ids = sorted({row[1] for row in rows})
    cand = (
        sa.select(
            PriorAuthorization.id,
            PriorAuthorization.patient_id,
            PriorAuthorization.policy_id,
            PriorAuthorization.order_id,
            PriorAuthorization.valid_from,
            PriorAuthorization.valid_to,
        )
        .where(PriorAuthorization.id.in_(sorted(by_id)))
        .subquery("cand")
    )

    # The codes of every authorization of these patients: the candidates' own, and the open
    # ones that cover a booked visit outside a candidate's window.
    codes: dict[int, set[str]] = defaultdict(set)
    others: dict[int, list[tuple[int, int, date, date, str]]] = defaultdict(list)
    for other_id, patient_id, policy_id, status, start, end, code in session.execute(
        sa.select(
            PriorAuthorization.id,
            PriorAuthorization.patient_id,
            PriorAuthorization.policy_id,
            PriorAuthorization.status,
            PriorAuthorization.valid_from,
            PriorAuthorization.valid_to,
            AuthorizationCode.code,
        )
        .join(AuthorizationCode, AuthorizationCode.authorization_id == PriorAuthorization.id)
        .where(PriorAuthorization.patient_id.in_(patient_ids))
    ):
        if other_id in by_id:
            codes[other_id].add(code)
        if status in STILL_OPEN:
            others[patient_id].append((other_id, policy_id, start, end, code))

    uses = _visit_uses(session, cand, today)
    weights, heights = _latest_measurements(session, patient_ids)

    listed: dict[int, list[VisitUse]] = defaultdict(list)
    outside: dict[int, list[date]] = defaultdict(list)
    completed_units: dict[int, Decimal] = defaultdict(Decimal)
    completed_visits: dict[int, int] = defaultdict(int)
    units: Decimal | None
    for (
        auth_id,
        kind,
        _visit_id,
        day,
        visit_policy,
        weight,
        height,
        amount,
        unit,
        basis,
        hcpcs,
        unit_amount,
        billing_unit,
        count,
        billed,
    ) in uses:
        row = by_id[auth_id]
        patient_id, start, end = row[1], row[22], row[23]
        drug_covered = hcpcs is not None and hcpcs in codes[auth_id]
        dose = _Dose(amount, unit, basis, hcpcs, unit_amount, billing_unit)
        if kind == 1:  # completed and coded: the units billed on the authorization's codes
            completed_visits[auth_id] += count
            completed_units[auth_id] += billed if billed is not None else Decimal(0)
        elif kind == 2:  # completed, not coded yet: what the order's dose will bill
            units = (
                dose.units(
                    weight if weight is not None else weights.get(patient_id),
                    height if height is not None else heights.get(patient_id),
                )
                if drug_covered
                else Decimal(0)
            )
            completed_visits[auth_id] += count
            completed_units[auth_id] += count * (units or Decimal(0))
        elif start <= day <= end:
            units = (
                dose.units(weights.get(patient_id), heights.get(patient_id)) if drug_covered else Decimal(0)
            )
            listed[auth_id].append(VisitUse(day, VisitState.SCHEDULED, units))
        elif drug_covered and not any(
            other_id != auth_id
            and code == hcpcs
            and o_start <= day <= o_end
            and (visit_policy is None or visit_policy == o_policy)
            for other_id, o_policy, o_start, o_end, code in others[patient_id]
        ):
            outside[auth_id].append(day)

    result: dict[int, _Evaluated] = {}
    for row in rows:
        (
            auth_id,
            patient_id,
            last,
            first,
            mrn,
            policy_id,
            payer,
            payer_type,
            rank,
            member_id,
            order_id,
            order_drug,
            amount,
            unit,
            basis,
            hcpcs,
            unit_amount,
            billing_unit,
            number,
            status,
            approved_units,
            approved_visits,
            start,
            end,
            notes,
            version,
        ) = row
        terms = AuthorizationTerms(
            number, status.value, approved_units, approved_visits, start, end, tuple(sorted(codes[auth_id]))
        )
        bd = rules.burn_down(
            terms,
            listed[auth_id],
            outside[auth_id],
            completed_units=completed_units.get(auth_id, Decimal(0)),
            completed_visits=completed_visits.get(auth_id, 0),
        )
        typical = _Dose(amount, unit, basis, hcpcs, unit_amount, billing_unit).units(
            weights.get(patient_id), heights.get(patient_id)
        )
        result[auth_id] = _Evaluated(
            id=auth_id,
            patient_id=patient_id,
            patient_name=f"{last}, {first}",
            mrn=mrn,
            policy_id=policy_id,
            policy=f"{payer} ({RANK_LABELS[rank]}, member {member_id})",
            payer=payer,
            payer_type=payer_type.value,
            order_id=order_id,
            order=order_drug,
            status=status,
            terms=terms,
            notes=notes,
            burn_down=bd,
            alerts=alerts(terms, bd, today, typical),
            version=version,
            weight=weights.get(patient_id),
            height=heights.get(patient_id),
        )
    return result


# --- what check-in and the work queues call -----------------------------------------------


def burn_down(session: Session, authorization: PriorAuthorization, today: date) -> BurnDown:
    """Approved / used / scheduled / remaining for one authorization on ``today``."""
    return _evaluate(session, PriorAuthorization.id == authorization.id, today)[authorization.id].burn_down


def covering_authorization(session: Session, visit: Visit) -> PriorAuthorization | None:
    """The approved authorization that covers ``visit``'s ordered drug on its date of service.

    It must belong to the visit's patient, be for the visit's policy when the visit has one,
    and list the drug's HCPCS code; one made for the visit's own order is preferred, then
    the most recent.
    """
    order = visit.order
    if order is None:
        return None
    conditions = [
        PriorAuthorization.patient_id == visit.patient_id,
        PriorAuthorization.status == AuthorizationStatus.APPROVED,
        PriorAuthorization.valid_from <= visit.date_of_service,
        PriorAuthorization.valid_to >= visit.date_of_service,
        AuthorizationCode.code == order.drug.hcpcs,
    ]
    if visit.policy_id is not None:
        conditions.append(PriorAuthorization.policy_id == visit.policy_id)
    return session.scalars(
        sa.select(PriorAuthorization)
        .join(AuthorizationCode, AuthorizationCode.authorization_id == PriorAuthorization.id)
        .where(*conditions)
        .order_by(
            sa.case((PriorAuthorization.order_id == order.id, 0), else_=1),
            PriorAuthorization.valid_from.desc(),
            PriorAuthorization.id.desc(),
        )
        .limit(1)
    ).first()


def _billed_policy(session: Session, visit: Visit) -> InsurancePolicy | None:
    if visit.policy_id is not None:
        return session.get(InsurancePolicy, visit.policy_id)
    in_force = active_policies(session, visit.patient_id, visit.date_of_service)
    return in_force[0] if in_force else None


def authorization_findings(session: Session, visit: Visit, today: date) -> tuple[Finding, ...]:
    """Errors that stop treating ``visit`` under its authorization, and warnings to act on soon.

    Errors: AUTH_MISSING (no approved authorization covers the drug on the date, when the
    payer requires one: :func:`~infusion_desk.billing.authorizations.requires_prior_authorization`),
    AUTH_EXPIRED, AUTH_DENIED, AUTH_PENDING, AUTH_UNITS (too few units left for today's dose),
    AUTH_VISITS (no approved visits left). Warnings: the authorization's alerts (low, expiring,
    visits outside the window, units unknown).
    """
    order = visit.order
    if order is None:
        return ()
    drug: Drug = order.drug
    day = visit.date_of_service
    label = f"{drug.name} ({drug.hcpcs})"
    authorization = covering_authorization(session, visit)
    if authorization is None:
        return _missing(session, visit, label, drug.hcpcs)
    evaluated = _evaluate(session, PriorAuthorization.id == authorization.id, today)[authorization.id]
    bd = evaluated.burn_down
    findings: list[Finding] = []
    subject = f"authorization:{authorization.number}"
    if visit.status is not VisitStatus.COMPLETED:
        # Today's measurements, else the patient's latest (the evaluation looked them up).
        weight = visit.weight_kg if visit.weight_kg is not None else evaluated.weight
        height = visit.height_cm if visit.height_cm is not None else evaluated.height
        dose = _Dose(
            order.dose_amount,
            order.dose_unit,
            order.dose_basis,
            drug.hcpcs,
            drug.billing_unit_amount,
            drug.billing_unit,
        )
        needed = dose.units(weight, height)
        left = units_left_for(bd, day)
        if bd.approved_units is not None and needed is None:
            findings.append(
                warning(
                    "AUTH_UNITS_UNKNOWN",
                    f"Today's {drug.name} dose cannot be computed yet, so the units "
                    f"it needs from authorization {authorization.number} are unknown: record the "
                    "patient's weight (and height for per-m² orders).",
                    subject,
                )
            )
        elif needed is not None and left is not None and left < needed:
            findings.append(
                error(
                    "AUTH_UNITS",
                    f"Authorization {authorization.number} has only {_n(max(left, Decimal(0)))} "
                    f"units left, today's dose needs {_n(needed)}: ask the payer for more units before "
                    "treatment.",
                    subject,
                )
            )
        if bd.approved_visits is not None:
            ahead = sum(1 for v in bd.upcoming if v.date_of_service < day)
            visits_left = bd.approved_visits - bd.used_visits - ahead
            if visits_left < 1:
                findings.append(
                    error(
                        "AUTH_VISITS",
                        f"Authorization {authorization.number} has no approved visits left "
                        f"({bd.approved_visits} approved, {bd.used_visits} used): ask the payer for more "
                        "visits before treatment.",
                        subject,
                    )
                )
    seen = {f.code for f in findings}
    findings.extend(f for f in evaluated.alerts if f.code not in seen)
    return tuple(findings)


def _missing(session: Session, visit: Visit, label: str, hcpcs: str) -> tuple[Finding, ...]:
    policy = _billed_policy(session, visit)
    if policy is None:
        return ()  # self-pay: nobody to ask for an authorization
    payer: Payer = policy.payer
    if not requires_prior_authorization(payer.payer_type.value):
        return ()
    day = visit.date_of_service
    candidates = session.scalars(
        sa.select(PriorAuthorization)
        .join(AuthorizationCode, AuthorizationCode.authorization_id == PriorAuthorization.id)
        .where(
            PriorAuthorization.patient_id == visit.patient_id,
            PriorAuthorization.policy_id == policy.id,
            AuthorizationCode.code == hcpcs,
        )
        .order_by(PriorAuthorization.valid_to.desc(), PriorAuthorization.id.desc())
    ).all()
    on_day = [a for a in candidates if a.valid_from <= day <= a.valid_to]
    for status, code, text in (
        (AuthorizationStatus.DENIED, "AUTH_DENIED", "was denied by the payer"),
        (AuthorizationStatus.PENDING, "AUTH_PENDING", "is still pending with the payer"),
        (AuthorizationStatus.REQUESTED, "AUTH_PENDING", "has been requested but not yet approved"),
        (AuthorizationStatus.EXPIRED, "AUTH_EXPIRED", "is marked expired"),
    ):
        match = next((a for a in on_day if a.status is status), None)
        if match is not None:
            return (
                error(
                    code,
                    f"Authorization {match.number} for {label} {text}: no approved prior "
                    f"authorization covers {_us(day)}.",
                    f"authorization:{match.number}",
                ),
            )
    lapsed = next(
        (a for a in candidates if a.status is AuthorizationStatus.APPROVED and a.valid_to < day), None
    )
    if lapsed is not None:
        return (
            error(
                "AUTH_EXPIRED",
                f"Authorization {lapsed.number} for {label} expired on "
                f"{_us(lapsed.valid_to)}: request a renewal from {payer.name} before treatment.",
                f"authorization:{lapsed.number}",
            ),
        )
    return (
        error(
            "AUTH_MISSING",
            f"No approved prior authorization covers {label} on {_us(day)}: request one "
            f"from {payer.name} before treatment.",
            "authorization",
        ),
    )


def authorizations_to_renew(
    session: Session, today: date, horizon_days: int = EXPIRING_DAYS
) -> list[AuthorizationToRenew]:
    """Approved authorizations ending within ``horizon_days``, running low, or with visits booked past them.

    Only the authorizations of patients with a visit booked in the next
    :data:`BOOKED_AHEAD_DAYS` days are weighed: those are the renewals that stop a visit.
    A patient with nothing booked is asked about when the next visit is booked, and
    check-in still refuses a visit no authorization covers. Computed in the fixed set of
    queries of :func:`_evaluate`.
    """
    horizon = today + timedelta(days=horizon_days)
    booked_soon = sa.select(Visit.patient_id).where(
        Visit.status.in_(BOOKED),
        Visit.date_of_service.between(today, today + timedelta(days=BOOKED_AHEAD_DAYS)),
    )
    where = sa.and_(
        PriorAuthorization.status.in_((AuthorizationStatus.APPROVED, AuthorizationStatus.EXPIRED)),
        PriorAuthorization.valid_to >= today - timedelta(days=RECENT_EXPIRY_DAYS),
        PriorAuthorization.patient_id.in_(booked_soon),
    )
    items: list[AuthorizationToRenew] = []
    for ev in _evaluate(session, where, today).values():
        findings = [f for f in ev.alerts if f.code in RENEWAL_CODES]
        ending = ev.status is AuthorizationStatus.APPROVED and today <= ev.terms.valid_to <= horizon
        if ending and not any(f.code == "AUTH_EXPIRING" for f in findings):
            findings.insert(
                0,
                warning(
                    "AUTH_EXPIRING",
                    f"Authorization {ev.terms.number} ends on {_us(ev.terms.valid_to)}: "
                    "ask the payer to renew it.",
                    f"authorization:{ev.terms.number}",
                ),
            )
        if not findings:
            continue
        if ev.burn_down.outside_window:
            findings = [f for f in ev.alerts if f.code == "AUTH_EXPIRED"] + findings
        dates = [
            ev.terms.valid_to,
            *ev.burn_down.outside_window,
            *(v.date_of_service for v in ev.burn_down.upcoming),
        ]
        due = min(d for d in dates if d >= today) if any(d >= today for d in dates) else ev.terms.valid_to
        items.append(
            AuthorizationToRenew(
                authorization_id=ev.id,
                patient_id=ev.patient_id,
                patient_name=ev.patient_name,
                mrn=ev.mrn,
                number=ev.terms.number,
                payer=ev.payer,
                codes=ev.terms.codes,
                valid_to=ev.terms.valid_to,
                burn_down=ev.burn_down,
                findings=tuple(findings),
                due=due,
            )
        )
    items.sort(key=lambda item: (item.due, item.patient_name, item.authorization_id))
    return items


# --- the service the screens use -------------------------------------------------------------


def _summary(ev: _Evaluated) -> AuthorizationSummary:
    return AuthorizationSummary(
        id=ev.id,
        patient_id=ev.patient_id,
        policy_id=ev.policy_id,
        policy=ev.policy,
        payer_type=ev.payer_type,
        order_id=ev.order_id,
        order=ev.order,
        number=ev.terms.number,
        status=ev.status,
        approved_units=ev.terms.approved_units,
        approved_visits=ev.terms.approved_visits,
        valid_from=ev.terms.valid_from,
        valid_to=ev.terms.valid_to,
        codes=ev.terms.codes,
        notes=ev.notes,
        burn_down=ev.burn_down,
        alerts=ev.alerts,
        version=ev.version,
    )


class AuthorizationService:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _today(session: Session, today: date | None) -> date:
        return today or utcnow().astimezone(clinic_timezone(session)).date()

    def authorizations(
        self, actor: Actor, patient_id: int, today: date | None = None
    ) -> tuple[AuthorizationSummary, ...]:
        """The patient's authorizations, newest window first, each with its burn-down and alerts."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            if session.get(Patient, patient_id) is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            day = self._today(session, today)
            evaluated = _evaluate(session, PriorAuthorization.patient_id == patient_id, day)
            return tuple(_summary(ev) for ev in evaluated.values())

    def get(self, actor: Actor, authorization_id: int, today: date | None = None) -> AuthorizationSummary:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            evaluated = _evaluate(
                session, PriorAuthorization.id == authorization_id, self._today(session, today)
            )
            if authorization_id not in evaluated:
                raise NotFound(f"Authorization {authorization_id} no longer exists.")
            return _summary(evaluated[authorization_id])

    def choices(self, actor: Actor, patient_id: int) -> AuthorizationChoices:
        """The patient's policies and active orders, for the authorization form."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            policies = session.execute(
                sa.select(
                    InsurancePolicy.id,
                    Payer.name,
                    InsurancePolicy.rank,
                    InsurancePolicy.member_id,
                    InsurancePolicy.termination_date,
                )
                .join(Payer, Payer.id == InsurancePolicy.payer_id)
                .where(InsurancePolicy.patient_id == patient_id)
                .order_by(InsurancePolicy.rank, InsurancePolicy.id)
            ).all()
            orders = session.execute(
                sa.select(PhysicianOrder.id, Drug.name, Drug.hcpcs, PhysicianOrder.start_date)
                .join(Drug, Drug.id == PhysicianOrder.drug_id)
                .where(PhysicianOrder.patient_id == patient_id, PhysicianOrder.status == OrderStatus.ACTIVE)
                .order_by(PhysicianOrder.start_date.desc(), PhysicianOrder.id.desc())
            ).all()
            return AuthorizationChoices(
                policies=tuple(
                    PolicyChoice(
                        pid,
                        f"{name} ({RANK_LABELS[rank]}, member {member})"
                        + (f", ended {_us(ended)}" if ended is not None else ""),
                    )
                    for pid, name, rank, member, ended in policies
                ),
                orders=tuple(
                    OrderChoice(oid, f"{name} — {hcpcs}, from {_us(start)}", hcpcs)
                    for oid, name, hcpcs, start in orders
                ),
            )

    def _check(
        self, session: Session, data: AuthorizationInput, authorization_id: int | None
    ) -> tuple[Decimal | None, int | None, tuple[str, ...]]:
        findings, units, visits = check_authorization(
            data.number,
            data.status.value,
            data.valid_from,
            data.valid_to,
            data.codes,
            data.approved_units,
            data.approved_visits,
        )
        problems = list(findings)
        if data.policy_id is None:
            problems.append(
                error(
                    "REQUIRED",
                    "policy_id: choose the insurance policy the payer approved this for.",
                    "policy_id",
                )
            )
        else:
            policy = session.get(InsurancePolicy, data.policy_id)
            if policy is None or policy.patient_id != data.patient_id:
                problems.append(
                    error(
                        "POLICY_PATIENT",
                        "policy_id: that insurance policy belongs to another "
                        "patient; choose one of this patient's policies.",
                        "policy_id",
                    )
                )
            elif data.number.strip():
                clash = session.scalar(
                    sa.select(PriorAuthorization.id).where(
                        PriorAuthorization.policy_id == data.policy_id,
                        PriorAuthorization.number == data.number.strip(),
                        PriorAuthorization.id != (authorization_id or -1),
                    )
                )
                if clash is not None:
                    problems.append(
                        error(
                            "DUPLICATE",
                            f"number: authorization {data.number.strip()} is "
                            "already on file for this policy; edit that one instead.",
                            "number",
                        )
                    )
        if data.order_id is not None:
            order = session.get(PhysicianOrder, data.order_id)
            if order is None or order.patient_id != data.patient_id:
                problems.append(
                    error(
                        "ORDER_PATIENT",
                        "order_id: that order belongs to another patient; "
                        "choose one of this patient's orders.",
                        "order_id",
                    )
                )
        if any(f.blocks for f in problems):
            raise ValidationFailed(problems)
        codes = tuple(dict.fromkeys(validation.normalize_hcpcs(c) for c in data.codes if c.strip()))
        return units, visits, codes

    def create(self, actor: Actor, data: AuthorizationInput) -> int:
        """Record an authorization; nothing is written unless every field passes."""
        actor.require(Permission.PATIENT_EDIT)
        with self._db.session() as session:
            if session.get(Patient, data.patient_id) is None:
                raise NotFound(f"Patient {data.patient_id} no longer exists.")
            units, visits, codes = self._check(session, data, None)
            assert data.policy_id is not None and data.valid_from is not None and data.valid_to is not None
            authorization = PriorAuthorization(
                patient_id=data.patient_id,
                policy_id=data.policy_id,
                order_id=data.order_id,
                number=data.number.strip(),
                status=data.status,
                approved_units=units,
                approved_visits=visits,
                valid_from=data.valid_from,
                valid_to=data.valid_to,
                notes=(data.notes or "").strip() or None,
                codes=[AuthorizationCode(code=code) for code in codes],
            )
            session.add(authorization)
            session.flush()
            audit.record(
                session,
                actor,
                "create",
                "prior_authorization",
                authorization.id,
                patient_id=data.patient_id,
                detail=_snapshot(authorization),
            )
            return authorization.id

    def update(
        self,
        actor: Actor,
        authorization_id: int,
        data: AuthorizationInput,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Correct an authorization (dates, codes, approved numbers, status, notes).

        ``expected_version`` is :attr:`AuthorizationSummary.version` as shown: if someone saved
        it since, :class:`~infusion_desk.services.concurrency.ChangedElsewhere` says who.
        """
        actor.require(Permission.PATIENT_EDIT)
        with self._db.session() as session:
            take_version(
                session, PriorAuthorization, authorization_id, expected_version,
                entity="prior_authorization", what="This authorization",
            )
            authorization = session.get(PriorAuthorization, authorization_id)
            if authorization is None:
                raise NotFound(f"Authorization {authorization_id} no longer exists.")
            if authorization.patient_id != data.patient_id:
                raise ValidationFailed(
                    [error("PATIENT", "That authorization belongs to another patient.", "patient_id")]
                )
            units, visits, codes = self._check(session, data, authorization_id)
            assert data.policy_id is not None and data.valid_from is not None and data.valid_to is not None
            before = _snapshot(authorization)
            authorization.policy_id = data.policy_id
            authorization.order_id = data.order_id
            authorization.number = data.number.strip()
            authorization.status = data.status
            authorization.approved_units = units
            authorization.approved_visits = visits
            authorization.valid_from = data.valid_from
            authorization.valid_to = data.valid_to
            authorization.notes = (data.notes or "").strip() or None
            keep = [c for c in authorization.codes if c.code in codes]
            for gone in [c for c in authorization.codes if c.code not in codes]:
                authorization.codes.remove(gone)
            have = {c.code for c in keep}
            authorization.codes.extend(AuthorizationCode(code=code) for code in codes if code not in have)
            session.flush()
            audit.record(
                session,
                actor,
                "update",
                "prior_authorization",
                authorization.id,
                patient_id=authorization.patient_id,
                detail={"before": before, "after": _snapshot(authorization)},
            )

    def set_status(
        self,
        actor: Actor,
        authorization_id: int,
        status: AuthorizationStatus,
        note: str | None = None,
        *,
        expected_version: int | None = None,
    ) -> None:
        """Record the payer's answer (approved, denied...) or mark an authorization expired."""
        actor.require(Permission.PATIENT_EDIT)
        with self._db.session() as session:
            take_version(
                session, PriorAuthorization, authorization_id, expected_version,
                entity="prior_authorization", what="This authorization",
            )
            authorization = session.get(PriorAuthorization, authorization_id)
            if authorization is None:
                raise NotFound(f"Authorization {authorization_id} no longer exists.")
            if status is AuthorizationStatus.APPROVED and (
                authorization.approved_units is None and authorization.approved_visits is None
            ):
                raise ValidationFailed(
                    [
                        error(
                            "REQUIRED",
                            "approved_units: enter the approved units or visits "
                            "from the payer's letter before marking it approved.",
                            "approved_units",
                        )
                    ]
                )
            before = authorization.status.value
            authorization.status = status
            if note and note.strip():
                line = f"{STATUS_LABELS[status]}: {note.strip()}"
                authorization.notes = f"{authorization.notes}\n{line}" if authorization.notes else line
            audit.record(
                session,
                actor,
                "set_status",
                "prior_authorization",
                authorization.id,
                patient_id=authorization.patient_id,
                detail={"before": before, "after": status.value, "note": note},
            )


def _snapshot(authorization: PriorAuthorization) -> dict[str, object]:
    return {
        "number": authorization.number,
        "status": authorization.status.value,
        "policy_id": authorization.policy_id,
        "order_id": authorization.order_id,
        "approved_units": None if authorization.approved_units is None else str(authorization.approved_units),
        "approved_visits": authorization.approved_visits,
        "valid_from": authorization.valid_from.isoformat(),
        "valid_to": authorization.valid_to.isoformat(),
        "codes": sorted(c.code for c in authorization.codes),
    }
