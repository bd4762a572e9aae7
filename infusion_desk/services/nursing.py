"""Documentation at the chair: check-in, administrations with start/stop/pause, vitals, reactions, sign-off.

Every call is one transaction and checks that the user may document. Times are
validated where a user can get them wrong (a stop before its start, a pause outside
the infusion, a time in the future) and refused with a message that says what to fix.
Once a visit is signed, a change needs a reason and is kept as an addendum with the
values before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from sqlalchemy.orm import Session, selectinload

from infusion_desk.billing import validation
from infusion_desk.billing.coding import CodingResult
from infusion_desk.billing.coding_input import KNOWN_FLAGS
from infusion_desk.billing.dosing import DoseError, ordered_dose
from infusion_desk.billing.findings import Finding, error
from infusion_desk.billing.money import quantity
from infusion_desk.models import (
    Administration,
    AdministrationInterruption,
    Drug,
    Intervention,
    Patient,
    PhysicianOrder,
    Reaction,
    Visit,
    VisitAddendum,
    VitalSign,
)
from infusion_desk.models.base import ScaledDecimal, utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import AdminClass, AdminMethod, Severity, VisitStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.coding import clinic_timezone, code_loaded, load_catalog, load_visits_for_coding
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.visits import load_visit

FUTURE_TOLERANCE = timedelta(minutes=5)
DOSE_UNITS = ("mg", "g", "mcg", "mL", "units")
LARGEST_AMOUNT = Decimal("1e12")
"""A dose or waste from here up is a slip of the keyboard, and more than the record can count."""


@dataclass
class AdministrationDraft:
    """What the nurse enters for a new administration (the drug's defaults fill the rest)."""

    method: AdminMethod
    drug_id: int | None = None
    admin_class: AdminClass | None = None
    route: str | None = None
    iv_site: str | None = None
    bag: str | None = None
    encounter: str = "1"
    dose_amount: str | Decimal | None = None
    dose_unit: str | None = None
    waste_amount: str | Decimal | None = None
    lot: str | None = None
    lot_expiry: date | None = None
    ndc: str | None = None
    flags: tuple[str, ...] = ()
    is_primary_reason: bool = False
    start_at: datetime | None = None
    stop_at: datetime | None = None
    notes: str | None = None


@dataclass
class VitalsInput:
    taken_at: datetime
    systolic: int | None = None
    diastolic: int | None = None
    pulse: int | None = None
    respiratory_rate: int | None = None
    temperature_c: str | None = None
    spo2: int | None = None
    weight_kg: str | None = None
    pain_score: int | None = None


@dataclass
class InterventionInput:
    performed_at: datetime
    description: str
    drug: AdministrationDraft | None = None


@dataclass
class ReactionInput:
    onset_at: datetime
    severity: Severity
    description: str
    administration_id: int | None = None
    resolved_at: datetime | None = None
    interventions: list[InterventionInput] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class AdministrationView:
    id: int
    drug: str
    hcpcs: str | None
    method: AdminMethod
    route: str
    iv_site: str | None
    bag: str | None
    admin_class: AdminClass
    start_at: datetime | None
    stop_at: datetime | None
    paused: bool
    pauses: tuple[tuple[datetime, datetime | None], ...]
    dose_amount: Decimal | None
    dose_unit: str | None
    waste_amount: Decimal | None
    lot: str | None
    ndc: str | None
    flags: tuple[str, ...]

    @property
    def running(self) -> bool:
        return self.start_at is not None and self.stop_at is None and not self.paused


@dataclass(frozen=True, slots=True)
class VisitSheet:
    visit_id: int
    patient_id: int
    patient_name: str
    mrn: str
    date_of_service: date
    status: VisitStatus
    chair: str | None
    ordered_drug: str | None
    ordered_drug_id: int | None
    ordered_dose: str | None
    dose_to_give: Decimal | None
    dose_note: str | None
    weight_kg: Decimal | None
    signed_at: datetime | None
    administrations: tuple[AdministrationView, ...]
    vitals: tuple[VitalSign, ...]
    reactions: tuple[Reaction, ...]


def _fail(code: str, message: str, subject: str) -> ValidationFailed:
    return ValidationFailed([error(code, message, subject)])


def _unstorable(amount: Decimal, typed: str, column: str, label: str) -> str | None:
    """Why ``amount`` cannot be kept in the administration's ``column`` as typed; None when it can.

    The record keeps a fixed number of decimal places and refuses to round a dose.
    """
    places = cast(ScaledDecimal, Administration.__table__.c[column].type).scale
    if amount.copy_abs() >= LARGEST_AMOUNT:  # abs() would round to the context and overflow
        return f"{label} {typed} is too large: check the amount entered (it must be under a trillion)."
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        return f"{label} {typed} has more than {places} decimal places: enter it to at most {places}."
    return None


def _clock(moment: datetime, session: Session) -> str:
    return moment.astimezone(clinic_timezone(session)).strftime("%H:%M")


class NursingService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # --- reading ----------------------------------------------------------------------

    def visit_sheet(self, actor: Actor, visit_id: int) -> VisitSheet:
        """Everything the chair view shows for one visit."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            patient = session.get(Patient, visit.patient_id)
            assert patient is not None
            order = session.get(PhysicianOrder, visit.order_id) if visit.order_id else None
            drug = session.get(Drug, order.drug_id) if order else None
            dose_to_give: Decimal | None = None
            dose_note: str | None = None
            ordered_text: str | None = None
            if order is not None:
                ordered_text = (
                    f"{order.dose_amount.normalize():f} {order.dose_unit}"
                    + {"fixed": "", "per_kg": "/kg", "per_m2": "/m²"}[order.dose_basis.value]
                )
                try:
                    dose_to_give = ordered_dose(
                        order.dose_amount,
                        order.dose_basis.value,
                        weight_kg=visit.weight_kg,
                        height_cm=visit.height_cm,
                    )
                    if order.dose_basis.value == "per_kg":
                        dose_note = f"{ordered_text} x {visit.weight_kg:f} kg today"
                except DoseError as exc:
                    dose_note = str(exc)
            audit.record(session, actor, "view", "visit", visit.id, patient_id=visit.patient_id)
            return VisitSheet(
                visit_id=visit.id,
                patient_id=patient.id,
                patient_name=patient.display_name,
                mrn=patient.mrn,
                date_of_service=visit.date_of_service,
                status=visit.status,
                chair=visit.chair.name if visit.chair else None,
                ordered_drug=drug.name if drug else None,
                ordered_drug_id=drug.id if drug else None,
                ordered_dose=ordered_text,
                dose_to_give=dose_to_give,
                dose_note=dose_note,
                weight_kg=visit.weight_kg,
                signed_at=visit.signed_at,
                administrations=tuple(self._view(a) for a in visit.administrations),
                vitals=tuple(visit.vitals),
                reactions=tuple(visit.reactions),
            )

    def live_coding(self, actor: Actor, visit_id: int, now: datetime | None = None) -> CodingResult:
        """The lines the coding engine proposes for the visit as documented so far.

        An infusion still running is counted up to ``now``, so the nurse sees the add-on
        hour appear as the clock passes the 91st minute.
        """
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            loaded = load_visits_for_coding(session, Visit.id == visit_id)
            if not loaded:
                raise NotFound(f"Visit {visit_id} no longer exists.")
            return code_loaded(loaded, load_catalog(session), clinic_timezone(session), now or utcnow())[0]

    # --- the visit ----------------------------------------------------------------------

    def check_in(self, actor: Actor, visit_id: int, at: datetime | None = None) -> None:
        actor.require(Permission.CHECK_IN)
        at = at or utcnow()
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            if visit.status not in (VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN):
                raise _fail(
                    "STATUS",
                    f"This visit is {visit.status.value.replace('_', ' ')}; "
                    "only a scheduled visit can be checked in.",
                    "status",
                )
            visit.status = VisitStatus.CHECKED_IN
            visit.checked_in_at = at
            audit.record(session, actor, "check_in", "visit", visit.id, patient_id=visit.patient_id)

    def seat(
        self, actor: Actor, visit_id: int, weight_kg: str | None = None, height_cm: str | None = None
    ) -> None:
        """The patient is in the chair; today's weight (and height) drive weight-based doses."""
        actor.require(Permission.DOCUMENT_ADMINISTRATION)
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            self._refuse_if_signed(visit)
            if visit.status in (VisitStatus.CANCELLED, VisitStatus.NO_SHOW, VisitStatus.COMPLETED):
                raise _fail("STATUS", f"This visit is {visit.status.value.replace('_', ' ')}.", "status")
            visit.status = VisitStatus.IN_CHAIR
            if weight_kg:
                visit.weight_kg = self._positive(
                    weight_kg, "weight_kg", "Weight", places=2, below=1000, unit="kg"
                )
            if height_cm:
                visit.height_cm = self._positive(
                    height_cm, "height_cm", "Height", places=1, below=300, unit="cm"
                )
            audit.record(session, actor, "seat", "visit", visit.id, patient_id=visit.patient_id)

    def sign(self, actor: Actor, visit_id: int, at: datetime | None = None) -> None:
        """The nurse signs the visit's documentation; it is then ready for coding."""
        actor.require(Permission.SIGN_VISIT)
        at = at or utcnow()
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            if visit.signed_at is not None:
                raise _fail("SIGNED", "This visit is already signed.", "visit")
            findings: list[Finding] = []
            if not visit.administrations:
                findings.append(
                    error(
                        "EMPTY", "Nothing was documented: add the administrations first.", "administrations"
                    )
                )
            for admin in visit.administrations:
                name = self._name(admin)
                if admin.start_at is None:
                    findings.append(
                        error("NOT_STARTED", f"{name} has no start time.", f"administration:{admin.id}")
                    )
                elif admin.method is AdminMethod.INFUSION and admin.stop_at is None:
                    findings.append(
                        error(
                            "RUNNING",
                            f"{name} is still running: stop it before signing.",
                            f"administration:{admin.id}",
                        )
                    )
                if any(p.resumed_at is None for p in admin.interruptions) and admin.stop_at is None:
                    findings.append(
                        error(
                            "PAUSED",
                            f"{name} is paused: resume or stop it before signing.",
                            f"administration:{admin.id}",
                        )
                    )
            if findings:
                raise ValidationFailed(findings)
            visit.signed_at = at
            visit.signed_by_id = actor.user_id
            visit.status = VisitStatus.COMPLETED
            visit.completed_at = visit.completed_at or at
            audit.record(session, actor, "sign", "visit", visit.id, patient_id=visit.patient_id)

    # --- administrations ---------------------------------------------------------------

    def add_administration(
        self, actor: Actor, visit_id: int, draft: AdministrationDraft, reason: str | None = None
    ) -> int:
        actor.require(Permission.DOCUMENT_ADMINISTRATION)
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            self._require_reason_if_signed(visit, reason)
            drug = (
                session.get(Drug, draft.drug_id, options=[selectinload(Drug.ndcs)]) if draft.drug_id else None
            )
            if draft.drug_id is not None and drug is None:
                raise _fail("DRUG", "Choose a drug from the catalog.", "drug_id")
            admin_class = draft.admin_class or (drug.admin_class if drug else None)
            if admin_class is None:
                raise _fail(
                    "CLASS", "Say what was given (hydration, flush...) when no drug is chosen.", "admin_class"
                )
            admin = Administration(
                visit_id=visit.id,
                drug_id=drug.id if drug else None,
                hcpcs=drug.hcpcs if drug else None,
                admin_class=admin_class,
                method=draft.method,
                route=draft.route or (drug.default_route if drug else "IV"),
                iv_site=draft.iv_site,
                bag=draft.bag,
                encounter=draft.encounter or "1",
                is_primary_reason=draft.is_primary_reason,
                nurse_id=actor.user_id,
                notes=draft.notes,
            )
            self._apply(
                session,
                visit,
                admin,
                drug,
                {
                    "dose_amount": draft.dose_amount,
                    "dose_unit": draft.dose_unit,
                    "waste_amount": draft.waste_amount,
                    "lot": draft.lot,
                    "lot_expiry": draft.lot_expiry,
                    "ndc": draft.ndc,
                    "flags": draft.flags,
                    "start_at": draft.start_at,
                    "stop_at": draft.stop_at,
                },
            )
            if draft.is_primary_reason:
                for other in visit.administrations:
                    other.is_primary_reason = False
            visit.administrations.append(admin)
            session.flush()
            if visit.signed_at is not None:
                self._addendum(session, actor, visit, reason or "", {"added_administration": admin.id})
            audit.record(session, actor, "create", "administration", admin.id, patient_id=visit.patient_id)
            return admin.id

    def start(self, actor: Actor, administration_id: int, at: datetime | None = None) -> None:
        self._timestamp(actor, administration_id, "start_at", at or utcnow())

    def stop(self, actor: Actor, administration_id: int, at: datetime | None = None) -> None:
        self._timestamp(actor, administration_id, "stop_at", at or utcnow())

    def pause(self, actor: Actor, administration_id: int, at: datetime | None = None) -> None:
        actor.require(Permission.DOCUMENT_ADMINISTRATION)
        at = at or utcnow()
        with self._db.session() as session:
            admin, visit = self._administration(session, administration_id)
            self._refuse_if_signed(visit)
            self._not_future(at, "paused_at")
            if admin.start_at is None or admin.stop_at is not None:
                raise _fail(
                    "NOT_RUNNING", f"{self._name(admin)} is not running, so it cannot be paused.", "pause"
                )
            if any(p.resumed_at is None for p in admin.interruptions):
                raise _fail("PAUSED", f"{self._name(admin)} is already paused.", "pause")
            if at < admin.start_at:
                raise _fail(
                    "TIME",
                    f"The pause ({_clock(at, session)}) is before {self._name(admin)} started "
                    f"({_clock(admin.start_at, session)}).",
                    "paused_at",
                )
            admin.interruptions.append(AdministrationInterruption(paused_at=at))
            audit.record(session, actor, "pause", "administration", admin.id, patient_id=visit.patient_id)

    def resume(self, actor: Actor, administration_id: int, at: datetime | None = None) -> None:
        actor.require(Permission.DOCUMENT_ADMINISTRATION)
        at = at or utcnow()
        with self._db.session() as session:
            admin, visit = self._administration(session, administration_id)
            self._refuse_if_signed(visit)
            self._not_future(at, "resumed_at")
            open_pause = next((p for p in admin.interruptions if p.resumed_at is None), None)
            if open_pause is None:
                raise _fail("NOT_PAUSED", f"{self._name(admin)} is not paused.", "resume")
            if at < open_pause.paused_at:
                raise _fail(
                    "TIME",
                    f"Resume ({_clock(at, session)}) is before the pause "
                    f"({_clock(open_pause.paused_at, session)}).",
                    "resumed_at",
                )
            open_pause.resumed_at = at
            audit.record(session, actor, "resume", "administration", admin.id, patient_id=visit.patient_id)

    def update_administration(
        self, actor: Actor, administration_id: int, changes: dict[str, Any], reason: str | None = None
    ) -> None:
        """Correct what was documented; after sign-off a reason is required and kept as an addendum."""
        actor.require(Permission.DOCUMENT_ADMINISTRATION)
        allowed = {
            "dose_amount",
            "dose_unit",
            "waste_amount",
            "lot",
            "lot_expiry",
            "ndc",
            "flags",
            "start_at",
            "stop_at",
            "iv_site",
            "bag",
            "method",
            "route",
            "is_primary_reason",
            "notes",
            "encounter",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise _fail("FIELDS", f"These cannot be changed here: {', '.join(sorted(unknown))}.", "changes")
        with self._db.session() as session:
            admin, visit = self._administration(session, administration_id)
            self._require_reason_if_signed(visit, reason)
            drug = (
                session.get(Drug, admin.drug_id, options=[selectinload(Drug.ndcs)]) if admin.drug_id else None
            )
            before = {key: _jsonable(getattr(admin, key)) for key in changes}
            simple = {
                k: v
                for k, v in changes.items()
                if k in ("iv_site", "bag", "method", "route", "notes", "encounter", "is_primary_reason")
            }
            for key, value in simple.items():
                setattr(admin, key, value)
            checked = {k: v for k, v in changes.items() if k not in simple}
            self._apply(session, visit, admin, drug, checked)
            after = {key: _jsonable(getattr(admin, key)) for key in changes}
            if visit.signed_at is not None:
                self._addendum(
                    session,
                    actor,
                    visit,
                    reason or "",
                    {"administration": admin.id, "before": before, "after": after},
                )
            audit.record(
                session,
                actor,
                "update",
                "administration",
                admin.id,
                patient_id=visit.patient_id,
                detail={"before": before, "after": after, "reason": reason},
            )

    # --- vitals and reactions -----------------------------------------------------------

    def record_vitals(self, actor: Actor, visit_id: int, vitals: VitalsInput) -> int:
        actor.require(Permission.DOCUMENT_ADMINISTRATION)
        findings: list[Finding] = []
        ranges = {
            "systolic": (50, 260),
            "diastolic": (20, 160),
            "pulse": (20, 250),
            "respiratory_rate": (4, 60),
            "spo2": (50, 100),
            "pain_score": (0, 10),
        }
        for name, (low, high) in ranges.items():
            value = getattr(vitals, name)
            if value is not None and not low <= value <= high:
                findings.append(
                    error(
                        "RANGE",
                        f"{name.replace('_', ' ').capitalize()} {value} is outside "
                        f"{low}-{high}: check the reading.",
                        name,
                    )
                )
        temperature = quantity(vitals.temperature_c) if vitals.temperature_c else None
        if temperature is not None and not Decimal(30) <= temperature <= Decimal(45):
            findings.append(
                error("RANGE", f"Temperature {temperature} °C is outside 30-45.", "temperature_c")
            )
        weight = quantity(vitals.weight_kg) if vitals.weight_kg else None
        if weight is not None and not Decimal("0.5") <= weight <= Decimal(400):
            findings.append(error("RANGE", f"Weight {weight} kg is outside 0.5-400.", "weight_kg"))
        if findings:
            raise ValidationFailed(findings)
        self._not_future(vitals.taken_at, "taken_at")
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            self._refuse_if_signed(visit)
            row = VitalSign(
                visit_id=visit.id,
                taken_at=vitals.taken_at,
                systolic=vitals.systolic,
                diastolic=vitals.diastolic,
                pulse=vitals.pulse,
                respiratory_rate=vitals.respiratory_rate,
                temperature_c=temperature,
                spo2=vitals.spo2,
                weight_kg=weight,
                pain_score=vitals.pain_score,
                taken_by_id=actor.user_id,
            )
            session.add(row)
            if weight is not None:
                visit.weight_kg = weight
            session.flush()
            audit.record(session, actor, "create", "vital_sign", row.id, patient_id=visit.patient_id)
            return row.id

    def record_reaction(self, actor: Actor, visit_id: int, reaction: ReactionInput) -> int:
        """A reaction, what was done about it, and any drug given for it (which is coded too)."""
        actor.require(Permission.DOCUMENT_ADMINISTRATION)
        if not reaction.description.strip():
            raise _fail("REQUIRED", "Describe the reaction.", "description")
        self._not_future(reaction.onset_at, "onset_at")
        drug_ids: list[int | None] = []
        for intervention in reaction.interventions:
            drug_ids.append(
                self.add_administration(actor, visit_id, intervention.drug) if intervention.drug else None
            )
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            self._refuse_if_signed(visit)
            row = Reaction(
                visit_id=visit.id,
                administration_id=reaction.administration_id,
                onset_at=reaction.onset_at,
                severity=reaction.severity,
                description=reaction.description.strip(),
                resolved_at=reaction.resolved_at,
                interventions=[
                    Intervention(performed_at=i.performed_at, description=i.description, administration_id=d)
                    for i, d in zip(reaction.interventions, drug_ids, strict=True)
                ],
            )
            session.add(row)
            session.flush()
            audit.record(session, actor, "create", "reaction", row.id, patient_id=visit.patient_id)
            return row.id

    # --- helpers ------------------------------------------------------------------------

    def _visit(self, session: Session, visit_id: int) -> Visit:
        return load_visit(session, visit_id, documentation=True)

    def _administration(self, session: Session, administration_id: int) -> tuple[Administration, Visit]:
        admin = session.get(Administration, administration_id)
        if admin is None:
            raise NotFound(f"Administration {administration_id} no longer exists.")
        return admin, self._visit(session, admin.visit_id)

    @staticmethod
    def _name(admin: Administration) -> str:
        return admin.drug.name if admin.drug else admin.admin_class.value

    @staticmethod
    def _view(admin: Administration) -> AdministrationView:
        return AdministrationView(
            id=admin.id,
            drug=NursingService._name(admin),
            hcpcs=admin.hcpcs,
            method=admin.method,
            route=admin.route,
            iv_site=admin.iv_site,
            bag=admin.bag,
            admin_class=admin.admin_class,
            start_at=admin.start_at,
            stop_at=admin.stop_at,
            paused=any(p.resumed_at is None for p in admin.interruptions),
            pauses=tuple((p.paused_at, p.resumed_at) for p in admin.interruptions),
            dose_amount=admin.dose_amount,
            dose_unit=admin.dose_unit,
            waste_amount=admin.waste_amount,
            lot=admin.lot,
            ndc=admin.ndc,
            flags=tuple(admin.flags or ()),
        )

    @staticmethod
    def _refuse_if_signed(visit: Visit) -> None:
        if visit.signed_at is not None:
            raise _fail("SIGNED", "This visit is signed: correct it with a reason (an addendum).", "visit")

    @staticmethod
    def _require_reason_if_signed(visit: Visit, reason: str | None) -> None:
        if visit.signed_at is not None and not (reason or "").strip():
            raise _fail(
                "REASON",
                "This visit is signed: give a reason for the change; it is kept as an addendum.",
                "reason",
            )

    @staticmethod
    def _addendum(session: Session, actor: Actor, visit: Visit, reason: str, changes: dict[str, Any]) -> None:
        session.add(
            VisitAddendum(
                visit_id=visit.id, at=utcnow(), user_id=actor.user_id, reason=reason.strip(), changes=changes
            )
        )

    @staticmethod
    def _not_future(at: datetime, subject: str) -> None:
        if at.tzinfo is None:
            raise _fail("TIME", "Times must carry a time zone.", subject)
        if at > utcnow() + FUTURE_TOLERANCE:
            raise _fail("FUTURE", "That time is in the future: check the clock time entered.", subject)

    @staticmethod
    def _positive(text: str, subject: str, label: str, *, places: int, below: int, unit: str) -> Decimal:
        """A measurement the visit keeps with ``places`` decimals, above zero and below ``below``."""
        try:
            value = quantity(text.strip())
        except ValueError:
            raise _fail("NUMBER", f"{label} {text!r} is not a number.", subject) from None
        if not value.is_finite():
            raise _fail("NUMBER", f"{label} {text!r} is not a number.", subject)
        if value <= 0:
            raise _fail("NUMBER", f"{label} must be more than zero.", subject)
        if value >= below:
            raise _fail("NUMBER", f"{label} {text.strip()} {unit} cannot be right: check the scale.", subject)
        if value != value.quantize(Decimal(1).scaleb(-places)):
            raise _fail(
                "NUMBER",
                f"{label} {text.strip()} has more than {places} decimal place{'s' if places != 1 else ''}: "
                f"enter at most {places}.",
                subject,
            )
        return value

    def _timestamp(self, actor: Actor, administration_id: int, column: str, at: datetime) -> None:
        actor.require(Permission.DOCUMENT_ADMINISTRATION)
        with self._db.session() as session:
            admin, visit = self._administration(session, administration_id)
            self._refuse_if_signed(visit)
            if column == "start_at" and admin.start_at is not None:
                raise _fail(
                    "STARTED",
                    f"{self._name(admin)} already started at "
                    f"{_clock(admin.start_at, session)}; edit the time instead.",
                    "start_at",
                )
            if column == "stop_at":
                if admin.start_at is None:
                    raise _fail("NOT_STARTED", f"{self._name(admin)} has not started.", "stop_at")
                if admin.stop_at is not None:
                    raise _fail(
                        "STOPPED",
                        f"{self._name(admin)} already stopped at "
                        f"{_clock(admin.stop_at, session)}; edit the time instead.",
                        "stop_at",
                    )
                open_pause = next((p for p in admin.interruptions if p.resumed_at is None), None)
                if open_pause is not None:
                    open_pause.resumed_at = max(at, open_pause.paused_at)
            self._apply(session, visit, admin, admin.drug, {column: at})
            if visit.status in (VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN):
                visit.status = VisitStatus.IN_CHAIR
            audit.record(
                session,
                actor,
                column.removesuffix("_at"),
                "administration",
                admin.id,
                patient_id=visit.patient_id,
            )

    def _apply(
        self, session: Session, visit: Visit, admin: Administration, drug: Drug | None, values: dict[str, Any]
    ) -> None:
        """Validate and set the documented values; a refused change leaves the record as it was."""
        current = {
            "dose_amount": admin.dose_amount,
            "dose_unit": admin.dose_unit,
            "waste_amount": admin.waste_amount,
            "lot": admin.lot,
            "lot_expiry": admin.lot_expiry,
            "ndc": admin.ndc,
            "flags": tuple(admin.flags or ()),
            "start_at": admin.start_at,
            "stop_at": admin.stop_at,
        }
        values = {**current, **values}
        findings: list[Finding] = []
        name = drug.name if drug else admin.admin_class.value
        start = values.get("start_at", admin.start_at)
        stop = values.get("stop_at", admin.stop_at)
        for key in ("start_at", "stop_at"):
            moment = values.get(key)
            if moment is not None:
                try:
                    self._not_future(moment, key)
                except ValidationFailed as exc:
                    findings.extend(exc.findings)
        # a time without a zone (already refused above) cannot be set against one with a zone
        comparable = not any(f.code == "TIME" for f in findings)
        if comparable and start is not None and stop is not None and stop < start:
            findings.append(
                error(
                    "TIME",
                    f"{name}: stop ({_clock(stop, session)}) is before start ({_clock(start, session)}).",
                    "stop_at",
                )
            )
        if comparable and start is not None and stop is not None:
            for pause in admin.interruptions:
                if pause.paused_at < start or (pause.resumed_at or pause.paused_at) > stop:
                    findings.append(
                        error(
                            "TIME",
                            f"{name}: a pause falls outside {_clock(start, session)}-"
                            f"{_clock(stop, session)}.",
                            "interruptions",
                        )
                    )
        dose_amount = values.get("dose_amount")
        dose = None
        if dose_amount not in (None, ""):
            try:
                dose = quantity(str(dose_amount).strip())
                if dose <= 0:
                    findings.append(error("DOSE", "Dose must be more than zero.", "dose_amount"))
                elif problem := _unstorable(dose, str(dose_amount).strip(), "dose_amount", "Dose"):
                    findings.append(error("DOSE", problem, "dose_amount"))
            except ValueError:
                findings.append(error("DOSE", f"Dose {dose_amount!r} is not a number.", "dose_amount"))
        unit = values.get("dose_unit") or (drug.billing_unit if drug and dose is not None else None)
        if dose is not None and unit not in DOSE_UNITS:
            findings.append(error("UNIT", f"Dose unit must be one of {', '.join(DOSE_UNITS)}.", "dose_unit"))
        waste_amount = values.get("waste_amount")
        waste = None
        if waste_amount not in (None, ""):
            try:
                waste = quantity(str(waste_amount).strip())
                if waste < 0:
                    findings.append(error("WASTE", "Waste cannot be negative.", "waste_amount"))
                elif problem := _unstorable(waste, str(waste_amount).strip(), "waste_amount", "Waste"):
                    findings.append(error("WASTE", problem, "waste_amount"))
            except ValueError:
                findings.append(error("WASTE", f"Waste {waste_amount!r} is not a number.", "waste_amount"))
            if drug is not None and not drug.single_dose_container and waste:
                findings.append(
                    error(
                        "WASTE",
                        f"{drug.name} is stocked in multi-dose containers: waste is not recorded or billed.",
                        "waste_amount",
                    )
                )
        ndc = values.get("ndc")
        if ndc:
            try:
                ndc = validation.normalize_ndc(str(ndc))
            except ValueError as exc:
                findings.append(error("NDC", str(exc), "ndc"))
                ndc = None
            if ndc and drug is not None and drug.ndcs and ndc not in {n.ndc for n in drug.ndcs}:
                findings.append(
                    error(
                        "NDC",
                        f"NDC {ndc} is not a package of {drug.name} in the catalog: "
                        "check the vial or add the NDC to the catalog.",
                        "ndc",
                    )
                )
        lot_expiry = values.get("lot_expiry")
        if lot_expiry is not None and lot_expiry < visit.date_of_service:
            findings.append(
                error("EXPIRED", f"Lot expired on {lot_expiry:%m/%d/%Y}: do not use it.", "lot_expiry")
            )
        flags = tuple(values.get("flags") or ())
        for flag in flags:
            if flag not in KNOWN_FLAGS:
                findings.append(error("FLAG", f"Unknown flag {flag!r}.", "flags"))
        if findings:
            raise ValidationFailed(findings)
        admin.start_at = start
        admin.stop_at = stop
        admin.dose_amount = dose
        admin.dose_unit = unit if dose is not None else None
        admin.waste_amount = waste
        admin.lot = values.get("lot") or None
        admin.lot_expiry = lot_expiry
        admin.ndc = ndc or None
        admin.flags = list(flags)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, tuple):
        return list(value)
    return value
