"""Physician orders: what was ordered, how much of it is left, and when it needs renewing.

    orders = OrderService(db)
    order_id = orders.create(actor, OrderInput(patient_id, drug_id, provider_id, "5", "mg",
                                               DoseBasis.PER_KG, "every 8 weeks", date(2026, 11, 1),
                                               ("K50.90",), end_date=date(2027, 10, 31), doses_ordered=8))
    orders.orders(actor, patient_id)[0].computed_dose   # "5 mg/kg → 365 mg at 73 kg (11/20/2026)"
    orders.search_diagnoses(actor, "crohn small")       # billable ICD-10-CM codes for the picker

Check-in calls :func:`order_findings` for the visit's order, and the work queues call
:func:`orders_to_renew`; both work inside the caller's session. Doses used are counted from
the visits given under the order (completed, or in the chair), never typed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from infusion_desk.billing import icd10, validation
from infusion_desk.billing.dosing import DoseError, body_surface_area, ordered_dose
from infusion_desk.billing.findings import Finding, error, warning
from infusion_desk.billing.findings import plain as _n
from infusion_desk.billing.findings import us_date as _us
from infusion_desk.models import Drug, OrderDiagnosis, Patient, PhysicianOrder, Provider, Visit
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import DoseBasis, OrderStatus, VisitStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.clinic import OrderInput, validate_order, validation_decimal
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.errors import NotFound, ValidationFailed

__all__ = [
    "Measurements",
    "OrderInput",
    "OrderService",
    "OrderSummary",
    "OrderToRenew",
    "describe_dose",
    "order_findings",
    "orders_to_renew",
]

EXPIRING_DAYS = 14
"""An order ending within this many days of the visit is flagged at check-in."""

MAX_DIAGNOSES = 12
"""A claim line can point at no more than 12 diagnoses (837P HI segment, CMS-1500 box 21)."""

GIVEN = (VisitStatus.COMPLETED, VisitStatus.IN_CHAIR)
UPCOMING = (VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN)

BASIS_SUFFIX = {DoseBasis.FIXED: "", DoseBasis.PER_KG: "/kg", DoseBasis.PER_M2: "/m²"}
STATUS_LABELS = {
    OrderStatus.ACTIVE: "Active",
    OrderStatus.COMPLETED: "Completed",
    OrderStatus.CANCELLED: "Discontinued",
}




@dataclass(frozen=True, slots=True)
class Measurements:
    """The patient's latest recorded weight and height, and the dates they were taken."""

    weight_kg: Decimal | None = None
    weight_on: date | None = None
    height_cm: Decimal | None = None
    height_on: date | None = None


@dataclass(frozen=True, slots=True)
class DiagnosisRow:
    code: str
    display: str
    description: str


@dataclass(frozen=True, slots=True)
class ProviderChoice:
    id: int
    name: str
    npi: str


@dataclass(frozen=True, slots=True)
class OrderSummary:
    id: int
    patient_id: int
    drug_id: int
    drug: str
    hcpcs: str
    dose_amount: Decimal
    dose_unit: str
    dose_basis: DoseBasis
    dose: str
    """As ordered: ``"5 mg/kg"``."""
    computed_dose: str
    """For per-kg/m² orders, today's dose from the latest weight, or what is missing."""
    frequency: str
    doses_ordered: int | None
    doses_used: int
    doses_booked: int
    diagnoses: tuple[DiagnosisRow, ...]
    provider_id: int
    provider: str
    start_date: date
    end_date: date | None
    status: OrderStatus
    notes: str | None
    findings: tuple[Finding, ...]

    @property
    def doses_left(self) -> int | None:
        return None if self.doses_ordered is None else self.doses_ordered - self.doses_used

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True, slots=True)
class OrderToRenew:
    """A row of the "orders to renew" work queue."""

    order_id: int
    patient_id: int
    patient_name: str
    mrn: str
    drug: str
    end_date: date | None
    doses_ordered: int | None
    doses_used: int
    next_visit: date | None
    problem: str
    due: date | None


def describe_dose(amount: Decimal, unit: str, basis: DoseBasis, measured: Measurements) -> str:
    """Today's dose for a per-kg or per-m² order, or what is needed to compute it.

    >>> describe_dose(Decimal(5), "mg", DoseBasis.PER_KG, Measurements(Decimal(73), date(2026, 11, 20)))
    '5 mg/kg → 365 mg at 73 kg (11/20/2026)'
    >>> describe_dose(Decimal(5), "mg", DoseBasis.PER_KG, Measurements())
    'weight needed'
    >>> describe_dose(Decimal(400), "mg", DoseBasis.FIXED, Measurements())
    ''
    """
    if basis is DoseBasis.FIXED:
        return ""
    ordered = f"{_n(amount)} {unit}{BASIS_SUFFIX[basis]}"
    try:
        dose = ordered_dose(amount, basis.value, weight_kg=measured.weight_kg, height_cm=measured.height_cm)
    except DoseError:
        return "weight needed" if basis is DoseBasis.PER_KG else "weight and height needed"
    assert measured.weight_kg is not None and measured.weight_on is not None
    weighed = _us(measured.weight_on)
    if basis is DoseBasis.PER_KG:
        return f"{ordered} → {_n(dose)} {unit} at {_n(measured.weight_kg)} kg ({weighed})"
    assert measured.height_cm is not None
    bsa = body_surface_area(measured.height_cm, measured.weight_kg)
    return (
        f"{ordered} → {_n(dose)} {unit} at {_n(bsa)} m² "
        f"({_n(measured.weight_kg)} kg, {_n(measured.height_cm)} cm, {weighed})"
    )


def latest_measurements(session: Session, patient_id: int) -> Measurements:
    """The most recent visit weight and height on file for the patient."""
    weight = session.execute(
        sa.select(Visit.weight_kg, Visit.date_of_service)
        .where(Visit.patient_id == patient_id, Visit.weight_kg.is_not(None))
        .order_by(Visit.date_of_service.desc(), Visit.id.desc())
        .limit(1)
    ).first()
    height = session.execute(
        sa.select(Visit.height_cm, Visit.date_of_service)
        .where(Visit.patient_id == patient_id, Visit.height_cm.is_not(None))
        .order_by(Visit.date_of_service.desc(), Visit.id.desc())
        .limit(1)
    ).first()
    return Measurements(
        weight_kg=weight[0] if weight else None,
        weight_on=weight[1] if weight else None,
        height_cm=height[0] if height else None,
        height_on=height[1] if height else None,
    )


def _doses_given(session: Session, order_id: int, before: date | None = None) -> int:
    stmt = sa.select(sa.func.count(Visit.id)).where(Visit.order_id == order_id, Visit.status.in_(GIVEN))
    if before is not None:
        stmt = stmt.where(Visit.date_of_service < before)
    return int(session.scalar(stmt) or 0)


def _findings(order: PhysicianOrder, day: date, given: int) -> tuple[Finding, ...]:
    findings: list[Finding] = []
    subject = f"order:{order.id}"
    drug = order.drug.name
    if order.status is not OrderStatus.ACTIVE:
        findings.append(
            error(
                "ORDER_INACTIVE",
                f"The {drug} order is {STATUS_LABELS[order.status].lower()}: "
                "get a new order from the ordering provider.",
                subject,
            )
        )
    if order.end_date is not None and order.end_date < day:
        findings.append(
            error(
                "ORDER_EXPIRED",
                f"The {drug} order expired on {_us(order.end_date)}: get a renewed "
                "order from the ordering provider before treatment.",
                subject,
            )
        )
    if order.doses_ordered is not None and given >= order.doses_ordered:
        findings.append(
            error(
                "ORDER_NO_DOSES",
                f"All {order.doses_ordered} doses of the {drug} order have been "
                "given: get a renewed order from the ordering provider.",
                subject,
            )
        )
    if order.end_date is not None and day <= order.end_date <= day + timedelta(days=EXPIRING_DAYS):
        days = (order.end_date - day).days
        when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
        findings.append(
            warning(
                "ORDER_EXPIRING",
                f"The {drug} order ends on {_us(order.end_date)}, {when}: ask the "
                "ordering provider for a renewal.",
                subject,
            )
        )
    return tuple(findings)


def order_findings(session: Session, order: PhysicianOrder, day: date) -> tuple[Finding, ...]:
    """What stops (errors) or threatens (warnings) treating under ``order`` on ``day``.

    ORDER_INACTIVE (discontinued or completed), ORDER_EXPIRED (ended before ``day``),
    ORDER_NO_DOSES (visits before ``day`` already used every dose ordered), and the warning
    ORDER_EXPIRING (ends within 14 days).
    """
    return _findings(order, day, _doses_given(session, order.id, before=day))


def orders_to_renew(session: Session, today: date, horizon_days: int = 30) -> list[OrderToRenew]:
    """Active orders ending within ``horizon_days``, or with at most one dose left, in one query.

    An order that already ended is listed only while visits are still booked under it.
    """
    horizon = today + timedelta(days=horizon_days)
    # Only orders that could qualify have their visits counted: ending soon, or counting doses.
    candidates = list(
        session.scalars(
            sa.select(PhysicianOrder.id).where(
                PhysicianOrder.status == OrderStatus.ACTIVE,
                sa.or_(PhysicianOrder.end_date <= horizon, PhysicianOrder.doses_ordered.is_not(None)),
            )
        )
    )
    if not candidates:
        return []
    used = (
        sa.select(Visit.order_id, sa.func.count(Visit.id).label("used"))
        .where(Visit.order_id.in_(candidates), Visit.status.in_(GIVEN))
        .group_by(Visit.order_id)
        .subquery()
    )
    upcoming = (
        sa.select(Visit.order_id, sa.func.min(Visit.date_of_service).label("next_visit"))
        .where(Visit.order_id.in_(candidates), Visit.status.in_(UPCOMING), Visit.date_of_service >= today)
        .group_by(Visit.order_id)
        .subquery()
    )
    used_count = sa.func.coalesce(used.c.used, 0)
    ending = sa.and_(
        PhysicianOrder.end_date.is_not(None),
        PhysicianOrder.end_date <= horizon,
        sa.or_(PhysicianOrder.end_date >= today, upcoming.c.next_visit.is_not(None)),
    )
    few_left = sa.and_(
        PhysicianOrder.doses_ordered.is_not(None), PhysicianOrder.doses_ordered - used_count <= 1
    )
    rows = session.execute(
        sa.select(
            PhysicianOrder.id,
            PhysicianOrder.patient_id,
            Patient.last_name,
            Patient.first_name,
            Patient.mrn,
            Drug.name,
            PhysicianOrder.end_date,
            PhysicianOrder.doses_ordered,
            used_count.label("used"),
            upcoming.c.next_visit,
        )
        .join(Patient, Patient.id == PhysicianOrder.patient_id)
        .join(Drug, Drug.id == PhysicianOrder.drug_id)
        .outerjoin(used, used.c.order_id == PhysicianOrder.id)
        .outerjoin(upcoming, upcoming.c.order_id == PhysicianOrder.id)
        .where(PhysicianOrder.id.in_(candidates), sa.or_(ending, few_left))
        .order_by(PhysicianOrder.end_date, PhysicianOrder.id)
    ).all()
    items: list[OrderToRenew] = []
    for order_id, patient_id, last, first, mrn, drug, end, ordered, given, next_visit in rows:
        problems: list[str] = []
        due: date | None = None
        if end is not None and end < today:
            problems.append(f"expired on {_us(end)}")
            due = next_visit
        elif end is not None and end <= horizon:
            problems.append(f"ends on {_us(end)}")
            due = end
        if ordered is not None and ordered - given <= 1:
            left = ordered - given
            problems.append("no doses left" if left <= 0 else "1 dose left")
            due = min(d for d in (due, next_visit) if d is not None) if (due or next_visit) else None
        items.append(
            OrderToRenew(
                order_id=order_id,
                patient_id=patient_id,
                patient_name=f"{last}, {first}",
                mrn=mrn,
                drug=drug,
                end_date=end,
                doses_ordered=ordered,
                doses_used=int(given),
                next_visit=next_visit,
                problem=f"{drug} order "
                + " and ".join(problems)
                + ": ask the ordering provider to renew it.",
                due=due,
            )
        )
    return items


def _check_input(session: Session, data: OrderInput) -> list[Finding]:
    findings = list(validate_order(data))
    codes = [validation.normalize_icd10(c) for c in data.diagnoses]
    if len(codes) > MAX_DIAGNOSES:
        findings.append(
            error(
                "DIAGNOSES",
                f"An order takes at most {MAX_DIAGNOSES} diagnoses (a claim points at no "
                f"more); {len(codes)} were entered.",
                "diagnoses",
            )
        )
    if len(set(codes)) != len(codes):
        findings.append(error("DIAGNOSES", "A diagnosis is listed twice: remove the repeat.", "diagnoses"))
    if not data.dose_unit.strip():
        findings.append(error("REQUIRED", "Enter the dose unit (mg, g, mcg, units…).", "dose_unit"))
    if not data.frequency.strip():
        findings.append(
            error("REQUIRED", "Enter how often the dose is given (for example every 8 weeks).", "frequency")
        )
    if data.doses_ordered is not None and data.doses_ordered <= 0:
        findings.append(error("DOSES", "The number of doses must be more than zero.", "doses_ordered"))
    drug = session.get(Drug, data.drug_id)
    if drug is None or not drug.active:
        findings.append(error("DRUG", "Choose a drug from the catalog.", "drug_id"))
    provider = session.get(Provider, data.ordering_provider_id)
    if provider is None or not provider.is_ordering or not provider.active:
        findings.append(error("PROVIDER", "Choose the ordering provider.", "ordering_provider_id"))
    return findings


class OrderService:
    def __init__(self, db: Database) -> None:
        self._db = db

    @staticmethod
    def _today(session: Session, today: date | None) -> date:
        return today or utcnow().astimezone(clinic_timezone(session)).date()

    def orders(self, actor: Actor, patient_id: int, today: date | None = None) -> tuple[OrderSummary, ...]:
        """The patient's orders, active first and newest first, with doses used and findings."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            if session.get(Patient, patient_id) is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            day = self._today(session, today)
            orders = session.scalars(
                sa.select(PhysicianOrder)
                .where(PhysicianOrder.patient_id == patient_id)
                .options(
                    selectinload(PhysicianOrder.drug),
                    selectinload(PhysicianOrder.ordering_provider),
                    selectinload(PhysicianOrder.diagnoses),
                )
            ).all()
            counts: dict[tuple[int | None, str], int] = {}
            for order_id, status, count in session.execute(
                sa.select(Visit.order_id, Visit.status, sa.func.count(Visit.id))
                .where(Visit.patient_id == patient_id, Visit.order_id.is_not(None))
                .group_by(Visit.order_id, Visit.status)
            ):
                counts[(order_id, status)] = int(count)
            given_before = dict(
                session.execute(
                    sa.select(Visit.order_id, sa.func.count(Visit.id))
                    .where(
                        Visit.patient_id == patient_id, Visit.status.in_(GIVEN), Visit.date_of_service < day
                    )
                    .group_by(Visit.order_id)
                ).all()
            )
            measured = latest_measurements(session, patient_id)
            summaries = [
                self._summary(
                    order,
                    measured,
                    used=sum(counts.get((order.id, s), 0) for s in GIVEN),
                    booked=sum(counts.get((order.id, s), 0) for s in UPCOMING),
                    findings=_findings(order, day, int(given_before.get(order.id, 0))),
                )
                for order in orders
            ]
            summaries.sort(
                key=lambda s: (s.status is not OrderStatus.ACTIVE, -s.start_date.toordinal(), -s.id)
            )
            return tuple(summaries)

    @staticmethod
    def _summary(
        order: PhysicianOrder, measured: Measurements, used: int, booked: int, findings: tuple[Finding, ...]
    ) -> OrderSummary:
        drug: Drug = order.drug
        brand = f" ({drug.brand_name})" if drug.brand_name else ""
        return OrderSummary(
            id=order.id,
            patient_id=order.patient_id,
            drug_id=drug.id,
            drug=f"{drug.name}{brand} — {drug.hcpcs}",
            hcpcs=drug.hcpcs,
            dose_amount=order.dose_amount,
            dose_unit=order.dose_unit,
            dose_basis=order.dose_basis,
            dose=f"{_n(order.dose_amount)} {order.dose_unit}{BASIS_SUFFIX[order.dose_basis]}",
            computed_dose=describe_dose(order.dose_amount, order.dose_unit, order.dose_basis, measured),
            frequency=order.frequency,
            doses_ordered=order.doses_ordered,
            doses_used=used,
            doses_booked=booked,
            diagnoses=tuple(
                DiagnosisRow(
                    d.icd10_code, validation.format_icd10(d.icd10_code), icd10.describe(d.icd10_code) or ""
                )
                for d in order.diagnoses
            ),
            provider_id=order.ordering_provider_id,
            provider=order.ordering_provider.display_name,
            start_date=order.start_date,
            end_date=order.end_date,
            status=order.status,
            notes=order.notes,
            findings=findings,
        )

    def measurements(self, actor: Actor, patient_id: int) -> Measurements:
        """The latest weight and height on file, for the order form's dose preview."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return latest_measurements(session, patient_id)

    def create(self, actor: Actor, data: OrderInput) -> int:
        """Record a physician order; every check runs before anything is written."""
        actor.require(Permission.PATIENT_EDIT)
        with self._db.session() as session:
            if session.get(Patient, data.patient_id) is None:
                raise NotFound(f"Patient {data.patient_id} no longer exists.")
            findings = _check_input(session, data)
            if any(f.blocks for f in findings):
                raise ValidationFailed(findings)
            order = PhysicianOrder(
                patient_id=data.patient_id,
                drug_id=data.drug_id,
                ordering_provider_id=data.ordering_provider_id,
                dose_amount=validation_decimal(data.dose_amount),
                dose_unit=data.dose_unit.strip(),
                dose_basis=data.dose_basis,
                frequency=data.frequency.strip(),
                doses_ordered=data.doses_ordered,
                start_date=data.start_date,
                end_date=data.end_date,
                diagnoses=[
                    OrderDiagnosis(sequence=i + 1, icd10_code=validation.normalize_icd10(code))
                    for i, code in enumerate(data.diagnoses)
                ],
            )
            session.add(order)
            session.flush()
            audit.record(session, actor, "create", "physician_order", order.id, patient_id=data.patient_id)
            return order.id

    def update(self, actor: Actor, order_id: int, data: OrderInput) -> None:
        """Correct an order; the diagnoses keep the order they are given in."""
        actor.require(Permission.PATIENT_EDIT)
        with self._db.session() as session:
            order = session.get(PhysicianOrder, order_id)
            if order is None:
                raise NotFound(f"Order {order_id} no longer exists.")
            if order.patient_id != data.patient_id:
                raise ValidationFailed(
                    [error("PATIENT", "That order belongs to another patient.", "patient_id")]
                )
            findings = _check_input(session, data)
            if any(f.blocks for f in findings):
                raise ValidationFailed(findings)
            before = _snapshot(order)
            order.drug_id = data.drug_id
            order.ordering_provider_id = data.ordering_provider_id
            order.dose_amount = validation_decimal(data.dose_amount)
            order.dose_unit = data.dose_unit.strip()
            order.dose_basis = data.dose_basis
            order.frequency = data.frequency.strip()
            order.doses_ordered = data.doses_ordered
            order.start_date = data.start_date
            order.end_date = data.end_date
            codes = [validation.normalize_icd10(c) for c in data.diagnoses]
            # Rewrite codes in place: sequence numbers are unique per order, so rows are reused.
            for row, code in zip(order.diagnoses, codes, strict=False):
                row.icd10_code = code
            for extra in order.diagnoses[len(codes) :]:
                order.diagnoses.remove(extra)
            for i in range(len(order.diagnoses), len(codes)):
                order.diagnoses.append(OrderDiagnosis(sequence=i + 1, icd10_code=codes[i]))
            session.flush()
            audit.record(
                session,
                actor,
                "update",
                "physician_order",
                order.id,
                patient_id=order.patient_id,
                detail={"before": before, "after": _snapshot(order)},
            )

    def discontinue(self, actor: Actor, order_id: int, reason: str, today: date | None = None) -> None:
        """Stop an order early; the reason is kept with the order and in the audit trail."""
        actor.require(Permission.PATIENT_EDIT)
        if not reason.strip():
            raise ValidationFailed([error("REQUIRED", "Say why the order is discontinued.", "reason")])
        with self._db.session() as session:
            order = session.get(PhysicianOrder, order_id)
            if order is None:
                raise NotFound(f"Order {order_id} no longer exists.")
            if order.status is not OrderStatus.ACTIVE:
                raise ValidationFailed(
                    [
                        error(
                            "ORDER_INACTIVE",
                            f"The order is already {STATUS_LABELS[order.status].lower()}.",
                            "status",
                        )
                    ]
                )
            day = self._today(session, today)
            order.status = OrderStatus.CANCELLED
            note = f"Discontinued {_us(day)} by {actor.display_name}: {reason.strip()}"
            order.notes = f"{order.notes}\n{note}" if order.notes else note
            audit.record(
                session,
                actor,
                "discontinue",
                "physician_order",
                order.id,
                patient_id=order.patient_id,
                detail={"reason": reason.strip()},
            )

    def expiring(self, actor: Actor, today: date | None = None, days: int = 30) -> list[OrderToRenew]:
        """Active orders ending within ``days`` or with at most one dose left."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return orders_to_renew(session, self._today(session, today), days)

    def search_diagnoses(self, actor: Actor, query: str, limit: int = 50) -> tuple[icd10.Diagnosis, ...]:
        """Billable ICD-10-CM codes for the picker (the first call builds the index, ~3 s)."""
        actor.require(Permission.PATIENT_VIEW)
        return icd10.search(query, limit)

    def providers(self, actor: Actor) -> list[ProviderChoice]:
        """Active ordering providers, by last name."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            rows = session.scalars(
                sa.select(Provider)
                .where(Provider.active, Provider.is_ordering)
                .order_by(Provider.last_name, Provider.first_name)
            )
            return [ProviderChoice(p.id, p.display_name, p.npi) for p in rows]


def _snapshot(order: PhysicianOrder) -> dict[str, object]:
    return {
        "drug_id": order.drug_id,
        "ordering_provider_id": order.ordering_provider_id,
        "dose": f"{order.dose_amount} {order.dose_unit} {order.dose_basis.value}",
        "frequency": order.frequency,
        "doses_ordered": order.doses_ordered,
        "start_date": order.start_date.isoformat(),
        "end_date": order.end_date.isoformat() if order.end_date else None,
        "diagnoses": [d.icd10_code for d in order.diagnoses],
    }
