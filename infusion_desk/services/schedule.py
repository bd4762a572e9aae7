"""The chair schedule: chairs and opening hours, booking visits for an order, moving, cancelling.

    schedule = ScheduleService(db)
    ids = schedule.book(desk, BookingInput(patient_id, order_id, chair_id,
                                           start=datetime(2026, 12, 3, 15, 0, tzinfo=UTC),
                                           policy_id=primary_id, repeat=4))
    schedule.bookings(desk, date(2026, 11, 30), date(2026, 12, 6))   # the week's blocks, one query

A booking is all-or-nothing: every occurrence of a recurring booking is checked (the chair
free, inside opening hours, within the order's dates and doses, the coverage in force) and
either all are booked under one ``series_id`` or none is, with one finding per problem
naming the date, the time and what to do. Another patient in the way is named by initials
only. Times are stored in UTC; a series keeps the clinic's wall-clock time across a
daylight-saving change (9:00 AM stays 9:00 AM). Check-in, seating and signing belong to
:mod:`infusion_desk.services.nursing`; this service books, moves, cancels and marks no-shows.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from infusion_desk.billing.findings import Finding, error
from infusion_desk.models import (
    Administration,
    Chair,
    Drug,
    InsurancePolicy,
    Patient,
    Payer,
    PhysicianOrder,
    Visit,
    VitalSign,
)
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import OrderStatus, PolicyRank, VisitStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.coverage import active_policies, check_policy_for_visit
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.settings_store import read_setting, write_setting

DEFAULT_OPENS = time(7, 0)
DEFAULT_CLOSES = time(18, 0)
DEFAULT_SLOT_MINUTES = 15
DEFAULT_VISIT_MINUTES = 60
SLOT_CHOICES = (5, 10, 15, 20, 30, 60)
MAX_REPEAT = 52
MAX_VISIT_MINUTES = 12 * 60
PAST_TOLERANCE = timedelta(minutes=15)
"""A booking may start this long ago: the walk-in booked at 10:07 for the 10:00 slot."""

FREED = (VisitStatus.CANCELLED, VisitStatus.NO_SHOW)
"""Statuses that no longer hold a chair (or a dose of the order)."""
MOVABLE = (VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN)
CANCELLABLE = (VisitStatus.SCHEDULED, VisitStatus.CHECKED_IN)

SETTING_OPENS = "schedule.opens"
SETTING_CLOSES = "schedule.closes"
SETTING_SLOT = "schedule.slot_minutes"

# --- recurring bookings: the interval an order's frequency text means -------------------------

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "other": 2,
}
_UNIT_DAYS = {"d": 1, "day": 1, "days": 1, "w": 7, "wk": 7, "wks": 7, "week": 7, "weeks": 7,
              "m": 28, "mo": 28, "month": 28, "months": 28}
_FIXED = {
    "daily": 1, "every day": 1, "once a day": 1, "once daily": 1,
    "weekly": 7, "every week": 7, "once a week": 7, "once weekly": 7, "qw": 7, "qwk": 7,
    "biweekly": 14, "fortnightly": 14,
    "monthly": 28, "every month": 28, "once a month": 28, "once monthly": 28,
}
_EVERY = re.compile(
    r"\b(?:every|q)\s*(\d{1,3}|" + "|".join(_NUMBER_WORDS) + r")\s*(" + "|".join(_UNIT_DAYS) + r")\b"
)


def repeat_interval_days(frequency: str | None) -> int | None:
    """Days between visits for an order's frequency text, or None when it cannot be read.

    A month is counted as four weeks, the way infusion protocols are written.

    >>> repeat_interval_days("every 8 weeks"), repeat_interval_days("every 14 days")
    (56, 14)
    >>> repeat_interval_days("Q4W"), repeat_interval_days("every other week"), repeat_interval_days("monthly")
    (28, 14, 28)
    >>> repeat_interval_days("as directed") is None
    True
    """
    if not frequency:
        return None
    text = " ".join(frequency.lower().replace("-", " ").replace(".", " ").split())
    if text in _FIXED:
        return _FIXED[text]
    match = _EVERY.search(text)
    if match is None:
        for phrase, days in _FIXED.items():
            if re.search(rf"\b{phrase}\b", text):
                return days
        return None
    count_text, unit = match.groups()
    count = int(count_text) if count_text.isdigit() else _NUMBER_WORDS[count_text]
    days = count * _UNIT_DAYS[unit]
    return days if days > 0 else None


def interval_label(days: int) -> str:
    """How an interval reads in a finding or next to the repeat count.

    >>> interval_label(56), interval_label(10), interval_label(7)
    ('every 8 weeks', 'every 10 days', 'every week')
    """
    if days % 7 == 0:
        weeks = days // 7
        return "every week" if weeks == 1 else f"every {weeks} weeks"
    return "every day" if days == 1 else f"every {days} days"


# --- what the screens receive ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChairInfo:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class ScheduleSetup:
    """The active chairs in display order and the hours the schedule shows and books."""

    chairs: tuple[ChairInfo, ...]
    opens: time
    closes: time
    slot_minutes: int
    timezone: str

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Booking:
    """One visit as the schedule shows it (times UTC-aware; ``day`` is the clinic-local date)."""

    visit_id: int
    patient_id: int
    patient_name: str
    mrn: str
    chair_id: int | None
    chair_name: str | None
    day: date
    start: datetime
    end: datetime
    expected_minutes: int
    drug: str | None
    order_id: int | None
    policy: str | None
    status: VisitStatus
    series_id: str | None
    notes: str | None = None

    @property
    def initials(self) -> str:
        return _initials(self.patient_name)

    @property
    def holds_chair(self) -> bool:
        return self.status not in FREED

    @property
    def movable(self) -> bool:
        return self.status in MOVABLE


@dataclass(frozen=True, slots=True)
class OrderOption:
    """An active order a visit can be booked for."""

    id: int
    drug: str
    frequency: str
    interval_days: int | None
    typical_minutes: int | None
    doses_ordered: int | None
    doses_left: int | None
    start_date: date
    end_date: date | None

    @property
    def default_minutes(self) -> int:
        return self.typical_minutes or DEFAULT_VISIT_MINUTES

    @property
    def label(self) -> str:
        parts = [self.drug, self.frequency]
        if self.doses_left is not None:
            parts.append(f"{self.doses_left} of {self.doses_ordered} doses left")
        if self.end_date is not None:
            parts.append(f"until {self.end_date:%m/%d/%Y}")
        return " — ".join(parts)


@dataclass(frozen=True, slots=True)
class PolicyOption:
    id: int
    rank: PolicyRank
    label: str


@dataclass(frozen=True, slots=True)
class BookingOptions:
    """What the booking form offers on a day: active orders, and policies in force (primary first)."""

    orders: tuple[OrderOption, ...]
    policies: tuple[PolicyOption, ...]


@dataclass
class BookingInput:
    patient_id: int
    order_id: int
    chair_id: int
    start: datetime
    """Aware; the clinic-local wall-clock time of this start is kept for every visit of a series."""
    policy_id: int | None
    expected_minutes: int | None = None
    """None: the drug's typical minutes, else one hour."""
    repeat: int = 1
    notes: str | None = None
    interval_days: int | None = None
    """Days between visits of a series; None: read from the order's frequency."""


# --- helpers -------------------------------------------------------------------------------------


def _initials(name: str) -> str:
    """Initials of a "Last, First" name: other patients are named by these only.

    >>> _initials("Quenby, Marisol")
    'M.Q.'
    """
    last, _, first = name.partition(",")
    letters = [part.strip()[:1].upper() for part in (first, last) if part.strip()]
    return "".join(f"{letter}." for letter in letters) or "another patient"


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%I:%M %p").lstrip("0")


def _when(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    return f"{start.astimezone(zone):%a %m/%d/%Y} {_clock(start, zone)}–{_clock(end, zone)}"


def _parse_time(value: object, default: time) -> time:
    if isinstance(value, str):
        try:
            return time.fromisoformat(value)
        except ValueError:
            return default
    return default



def load_setup(session: Session) -> ScheduleSetup:
    """The schedule's chairs and hours inside the caller's unit of work."""
    chairs = session.execute(
        sa.select(Chair.id, Chair.name).where(Chair.active.is_(True)).order_by(Chair.sort_order, Chair.id)
    ).all()
    slot = read_setting(session, SETTING_SLOT)
    return ScheduleSetup(
        chairs=tuple(ChairInfo(chair_id, name) for chair_id, name in chairs),
        opens=_parse_time(read_setting(session, SETTING_OPENS), DEFAULT_OPENS),
        closes=_parse_time(read_setting(session, SETTING_CLOSES), DEFAULT_CLOSES),
        slot_minutes=slot if isinstance(slot, int) and slot in SLOT_CHOICES else DEFAULT_SLOT_MINUTES,
        timezone=clinic_timezone(session).key,
    )


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def _policy_label(payer_name: str | None, member_id: str | None) -> str | None:
    if payer_name is None:
        return None
    return f"{payer_name} {member_id}".strip()


def visits_between(
    session: Session, first: date, last: date, *, chair_ids: Iterable[int] | None = None
) -> list[Booking]:
    """Every visit whose date of service is ``first`` through ``last``, by day, chair and time.

    One query; cancelled and no-show visits are included (``holds_chair`` says which are not).
    """
    policy = aliased(InsurancePolicy)
    stmt = (
        sa.select(
            Visit.id, Visit.patient_id, Patient.last_name, Patient.first_name, Patient.mrn,
            Visit.chair_id, Chair.name, Visit.date_of_service, Visit.scheduled_start,
            Visit.expected_minutes, Drug.name, Visit.order_id, Payer.name, policy.member_id,
            Visit.status, Visit.series_id, Visit.notes,
        )
        .join(Patient, Patient.id == Visit.patient_id)
        .outerjoin(Chair, Chair.id == Visit.chair_id)
        .outerjoin(PhysicianOrder, PhysicianOrder.id == Visit.order_id)
        .outerjoin(Drug, Drug.id == PhysicianOrder.drug_id)
        .outerjoin(policy, policy.id == Visit.policy_id)
        .outerjoin(Payer, Payer.id == policy.payer_id)
        .where(Visit.date_of_service >= first, Visit.date_of_service <= last)
        .order_by(Visit.date_of_service, Chair.sort_order, Visit.scheduled_start, Visit.id)
    )
    if chair_ids is not None:
        stmt = stmt.where(Visit.chair_id.in_(list(chair_ids)))
    return [
        Booking(
            visit_id=visit_id, patient_id=patient_id, patient_name=f"{last_name}, {first_name}", mrn=mrn,
            chair_id=chair_id, chair_name=chair_name, day=day, start=start,
            end=start + timedelta(minutes=minutes), expected_minutes=minutes, drug=drug,
            order_id=order_id, policy=_policy_label(payer, member), status=status, series_id=series_id,
            notes=notes,
        )
        for (
            visit_id, patient_id, last_name, first_name, mrn, chair_id, chair_name, day, start, minutes,
            drug, order_id, payer, member, status, series_id, notes,
        ) in session.execute(stmt)
    ]


def _doses_taken(session: Session, order_ids: Sequence[int]) -> dict[int, int]:
    """Visits under each order that used or hold a dose (given, in the chair, or booked)."""
    if not order_ids:
        return {}
    rows = session.execute(
        sa.select(Visit.order_id, sa.func.count(Visit.id))
        .where(Visit.order_id.in_(list(order_ids)), Visit.status.not_in(FREED))
        .group_by(Visit.order_id)
    ).all()
    return {int(order_id): int(count) for order_id, count in rows if order_id is not None}


@dataclass(frozen=True, slots=True)
class _Slot:
    """One occurrence being booked or a visit being moved."""

    start: datetime
    minutes: int

    @property
    def end(self) -> datetime:
        return self.start + timedelta(minutes=self.minutes)


class ScheduleService:
    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    # --- reading --------------------------------------------------------------------------

    def setup(self, actor: Actor) -> ScheduleSetup:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return load_setup(session)

    def bookings(self, actor: Actor, first_day: date, last_day: date) -> tuple[Booking, ...]:
        """The visits booked from ``first_day`` through ``last_day`` (clinic-local dates), every status."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return tuple(visits_between(session, first_day, last_day))

    def booking(self, actor: Actor, visit_id: int) -> Booking:
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            return self._booking(session, visit_id)

    def options(self, actor: Actor, patient_id: int, day: date) -> BookingOptions:
        """The patient's active orders on ``day`` (with doses left) and the policies in force that day."""
        actor.require(Permission.PATIENT_VIEW)
        with self._db.session() as session:
            if session.get(Patient, patient_id) is None:
                raise NotFound(f"Patient {patient_id} no longer exists.")
            orders = session.execute(
                sa.select(PhysicianOrder, Drug)
                .join(Drug, Drug.id == PhysicianOrder.drug_id)
                .where(
                    PhysicianOrder.patient_id == patient_id,
                    PhysicianOrder.status == OrderStatus.ACTIVE,
                    sa.or_(PhysicianOrder.end_date.is_(None), PhysicianOrder.end_date >= day),
                )
                .order_by(PhysicianOrder.start_date.desc(), PhysicianOrder.id.desc())
            ).all()
            taken = _doses_taken(session, [order.id for order, _drug in orders])
            return BookingOptions(
                orders=tuple(
                    OrderOption(
                        id=order.id, drug=drug.name, frequency=order.frequency,
                        interval_days=repeat_interval_days(order.frequency),
                        typical_minutes=drug.typical_minutes, doses_ordered=order.doses_ordered,
                        doses_left=None if order.doses_ordered is None
                        else max(order.doses_ordered - taken.get(order.id, 0), 0),
                        start_date=order.start_date, end_date=order.end_date,
                    )
                    for order, drug in orders
                ),
                policies=tuple(
                    PolicyOption(
                        id=policy.id, rank=policy.rank,
                        label=f"{policy.rank.value.capitalize()}: {policy.payer.name} {policy.member_id}",
                    )
                    for policy in active_policies(session, patient_id, day)
                ),
            )

    # --- set-up ---------------------------------------------------------------------------

    def configure(
        self,
        actor: Actor,
        chair_names: Sequence[str],
        opens: time,
        closes: time,
        slot_minutes: int | None = None,
    ) -> ScheduleSetup:
        """Set the chairs (in display order) and the opening hours.

        A name already on file keeps its chair (and its bookings); a chair whose name left
        the list takes a new name from the list in order (a rename); chairs left over are
        deactivated, which is refused while they have bookings to come.
        """
        actor.require(Permission.CLINIC_SETTINGS)
        names = [" ".join(name.split()) for name in chair_names]
        findings: list[Finding] = []
        if not names:
            findings.append(error("CHAIRS_EMPTY", "Keep at least one chair.", "chairs"))
        if any(not name for name in names):
            findings.append(
                error("CHAIR_NAME", "A chair needs a name: fill in or remove the empty row.", "chairs")
            )
        if any(len(name) > 40 for name in names):
            findings.append(error("CHAIR_NAME", "Chair names are 40 characters at most.", "chairs"))
        folded = [name.casefold() for name in names if name]
        duplicates = sorted({name for name in names if name and folded.count(name.casefold()) > 1})
        if duplicates:
            findings.append(
                error("CHAIR_DUPLICATE",
                      f"Two chairs are named {', '.join(duplicates)}: give each its own name.", "chairs")
            )
        if opens >= closes:
            findings.append(
                error("HOURS", f"Opening ({opens:%H:%M}) must be before closing ({closes:%H:%M}).", "opens")
            )
        if slot_minutes is not None and slot_minutes not in SLOT_CHOICES:
            findings.append(
                error("SLOT", f"Slots are {', '.join(map(str, SLOT_CHOICES))} minutes long.", "slot_minutes")
            )
        if findings:
            raise ValidationFailed(findings)
        with self._db.session() as session:
            chairs = list(session.scalars(sa.select(Chair).order_by(Chair.sort_order, Chair.id)))
            by_name = {chair.name.casefold(): chair for chair in chairs}
            kept: dict[str, Chair] = {}
            for name in names:
                existing = by_name.get(name.casefold())
                if existing is not None:
                    kept[name] = existing
            spare = [chair for chair in chairs if chair.active and chair not in kept.values()]
            for name in names:
                if name not in kept and spare:
                    kept[name] = spare.pop(0)
            leaving = spare
            zone = clinic_timezone(session)
            now = self._clock()
            upcoming = [
                booking
                for booking in visits_between(session, _local_day(now, zone), date.max)
                if booking.holds_chair and booking.status is not VisitStatus.COMPLETED and booking.end > now
            ]
            for chair in leaving:
                held = [b for b in upcoming if b.chair_id == chair.id]
                if held:
                    listed = ", ".join(f"{_when(b.start, b.end, zone)} {b.initials}" for b in held[:5])
                    more = f" and {len(held) - 5} more" if len(held) > 5 else ""
                    findings.append(
                        error(
                            "CHAIR_BOOKED",
                            f"{chair.name} cannot be removed: it has {len(held)} booking(s) to come "
                            f"({listed}{more}). Move or cancel them first.",
                            "chairs",
                        )
                    )
            for booking in upcoming:
                local_start = booking.start.astimezone(zone)
                local_end = booking.end.astimezone(zone)
                if (local_start.time() < opens or local_end.date() != local_start.date()
                        or local_end.time() > closes):
                    findings.append(
                        error(
                            "HOURS_BOOKED",
                            f"{booking.chair_name} {_when(booking.start, booking.end, zone)} "
                            f"({booking.initials}) falls outside {opens:%H:%M}–{closes:%H:%M}: "
                            "move it first or keep the hours.",
                            "opens",
                        )
                    )
            if findings:
                raise ValidationFailed(findings)
            for order, name in enumerate(names, start=1):
                target = kept.get(name)
                if target is None:
                    target = Chair(name=name)
                    session.add(target)
                target.name, target.sort_order, target.active = name, order, True
            for chair in leaving:
                chair.active = False
            write_setting(session, SETTING_OPENS, f"{opens:%H:%M}")
            write_setting(session, SETTING_CLOSES, f"{closes:%H:%M}")
            if slot_minutes is not None:
                write_setting(session, SETTING_SLOT, slot_minutes)
            session.flush()
            audit.record(
                session, actor, "configure", "schedule", None,
                detail={"chairs": names, "opens": f"{opens:%H:%M}", "closes": f"{closes:%H:%M}",
                        "slot_minutes": slot_minutes, "deactivated": [c.name for c in leaving]},
            )
            return load_setup(session)

    # --- booking --------------------------------------------------------------------------

    def book(self, actor: Actor, data: BookingInput) -> tuple[int, ...]:
        """Book one visit, or ``repeat`` visits at the order's interval; all of them or none."""
        actor.require(Permission.SCHEDULE_EDIT)
        with self._db.session() as session:
            patient = session.get(Patient, data.patient_id)
            if patient is None:
                raise NotFound(f"Patient {data.patient_id} no longer exists.")
            zone = clinic_timezone(session)
            setup = load_setup(session)
            findings: list[Finding] = []
            order = session.get(PhysicianOrder, data.order_id)
            drug = session.get(Drug, order.drug_id) if order is not None else None
            chair = self._chair(session, data.chair_id, findings)
            if data.start.tzinfo is None:
                raise ValidationFailed([error("START", "The start time needs its time zone.", "start")])
            if not 1 <= data.repeat <= MAX_REPEAT:
                findings.append(
                    error("REPEAT", f"Book between 1 and {MAX_REPEAT} visits at a time.", "repeat")
                )
            typical = drug.typical_minutes if drug is not None else None
            minutes = data.expected_minutes or typical or DEFAULT_VISIT_MINUTES
            self._check_minutes(minutes, findings)

            if order is None or order.patient_id != data.patient_id:
                findings.append(
                    error("ORDER", "Choose one of this patient's orders for the visit.", "order_id")
                )
                order = None
            elif order.status is not OrderStatus.ACTIVE:
                findings.append(
                    error(
                        "ORDER_INACTIVE",
                        f"The {drug.name if drug else ''} order is {order.status.value}: "
                        "get a new order from the ordering provider before booking.",
                        "order_id",
                    )
                )

            interval = data.interval_days
            if data.repeat > 1 and interval is None and order is not None:
                interval = repeat_interval_days(order.frequency)
                if interval is None:
                    findings.append(
                        error(
                            "FREQUENCY",
                            f"The order's frequency \"{order.frequency}\" does not say how many days or "
                            "weeks apart the visits are: enter the interval in days to book a series.",
                            "interval_days",
                        )
                    )
            if interval is not None and interval < 1:
                findings.append(
                    error("INTERVAL", "Visits of a series are at least a day apart.", "interval_days")
                )
            if findings:
                raise ValidationFailed(findings)

            local = data.start.astimezone(zone)
            slots = [
                _Slot(
                    datetime.combine(local.date() + timedelta(days=k * (interval or 0)), local.time(), zone)
                    .astimezone(UTC),
                    minutes,
                )
                for k in range(data.repeat)
            ]
            assert order is not None and drug is not None
            self._check_start_not_past(slots[0], zone, findings)
            for slot in slots:
                self._check_hours(slot, setup, zone, findings)
            self._check_order_dates(order, drug, slots, zone, findings)
            taken = _doses_taken(session, [order.id]).get(order.id, 0)
            if order.doses_ordered is not None and taken + len(slots) > order.doses_ordered:
                left = max(order.doses_ordered - taken, 0)
                findings.append(
                    error(
                        "ORDER_DOSES",
                        f"The {drug.name} order has {left} of {order.doses_ordered} doses left "
                        f"({taken} given or booked); {len(slots)} visit(s) were asked for. "
                        + (f"Book {left} or fewer, or get a renewed order." if left
                           else "Get a renewed order from the ordering provider."),
                        "repeat",
                    )
                )
            self._check_policy(session, data.policy_id, data.patient_id, slots, zone, findings)
            if chair is not None:
                self._check_free(session, chair, data.patient_id, slots, zone, findings, moving=None)
            if findings:
                raise ValidationFailed(findings)
            assert chair is not None
            series_id = str(uuid.uuid4()) if len(slots) > 1 else None
            notes = (data.notes or "").strip() or None
            visits = [
                Visit(
                    patient_id=data.patient_id, order_id=order.id, policy_id=data.policy_id,
                    series_id=series_id, chair_id=chair.id, date_of_service=_local_day(slot.start, zone),
                    scheduled_start=slot.start, expected_minutes=minutes, status=VisitStatus.SCHEDULED,
                    notes=notes,
                )
                for slot in slots
            ]
            session.add_all(visits)
            session.flush()
            for visit in visits:
                audit.record(
                    session, actor, "book", "visit", visit.id, patient_id=visit.patient_id,
                    detail={"chair": chair.name, "start": visit.scheduled_start, "minutes": minutes,
                            "order_id": order.id, "policy_id": data.policy_id, "series_id": series_id},
                )
            return tuple(visit.id for visit in visits)

    def move(self, actor: Actor, visit_id: int, chair_id: int, start: datetime) -> Booking:
        """Move a scheduled or checked-in visit to another chair and/or time (same checks as booking)."""
        actor.require(Permission.SCHEDULE_EDIT)
        if start.tzinfo is None:
            raise ValidationFailed([error("START", "The start time needs its time zone.", "start")])
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            zone = clinic_timezone(session)
            findings: list[Finding] = []
            if visit.status not in MOVABLE:
                raise ValidationFailed(
                    [error("STATUS", f"This visit is {_status(visit.status)}; only a scheduled or checked-in "
                           "visit can be moved.", "status")]
                )
            if self._documented(session, visit.id):
                raise ValidationFailed(
                    [error("DOCUMENTED", "The nurse has started documenting this visit, so it cannot be "
                           "moved. Ask the nurse to change the chair instead.", "status")]
                )
            new_day = _local_day(start, zone)
            if visit.status is VisitStatus.CHECKED_IN and new_day != visit.date_of_service:
                raise ValidationFailed(
                    [error("CHECKED_IN_DAY", "The patient is checked in today: move the visit within today, "
                           "or cancel it and book another day.", "start")]
                )
            chair = self._chair(session, chair_id, findings)
            slot = _Slot(start.astimezone(UTC), visit.expected_minutes)
            if slot.start != visit.scheduled_start:
                self._check_start_not_past(slot, zone, findings)
            self._check_hours(slot, load_setup(session), zone, findings)
            if visit.order_id is not None and new_day != visit.date_of_service:
                order = session.get(PhysicianOrder, visit.order_id)
                if order is not None:
                    self._check_order_dates(order, order.drug, [slot], zone, findings)
            if visit.policy_id is not None and new_day != visit.date_of_service:
                self._check_policy(session, visit.policy_id, visit.patient_id, [slot], zone, findings)
            if chair is not None:
                self._check_free(session, chair, visit.patient_id, [slot], zone, findings, moving=visit.id)
            if findings:
                raise ValidationFailed(findings)
            assert chair is not None
            before = {"chair_id": visit.chair_id, "start": visit.scheduled_start}
            visit.chair_id, visit.scheduled_start, visit.date_of_service = chair.id, slot.start, new_day
            session.flush()
            audit.record(
                session, actor, "move", "visit", visit.id, patient_id=visit.patient_id,
                detail={"before": before, "after": {"chair_id": chair.id, "start": slot.start}},
            )
            return self._booking(session, visit.id)

    def cancel(self, actor: Actor, visit_id: int, reason: str) -> Booking:
        """Cancel a visit that has not started; the chair and the order's dose are free again."""
        actor.require(Permission.SCHEDULE_EDIT)
        reason = " ".join(reason.split())
        if not reason:
            raise ValidationFailed(
                [error("REASON", "Say why the visit is cancelled (for example: patient called, "
                       "feeling unwell).", "reason")]
            )
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            if visit.status not in CANCELLABLE or self._documented(session, visit.id):
                raise ValidationFailed(
                    [error("STATUS", f"This visit is {_status(visit.status)}"
                           + (" and documentation has started" if visit.status in CANCELLABLE else "")
                           + "; only a visit that has not started can be cancelled.", "status")]
                )
            self._cancel(session, actor, visit, reason)
            return self._booking(session, visit.id)

    def cancel_series(self, actor: Actor, series_id: str, from_day: date, reason: str) -> tuple[int, ...]:
        """Cancel the series' visits on or after ``from_day`` that have not started; returns their ids."""
        actor.require(Permission.SCHEDULE_EDIT)
        reason = " ".join(reason.split())
        if not reason:
            raise ValidationFailed([error("REASON", "Say why the visits are cancelled.", "reason")])
        with self._db.session() as session:
            visits = session.scalars(
                sa.select(Visit)
                .where(Visit.series_id == series_id, Visit.date_of_service >= from_day,
                       Visit.status.in_(CANCELLABLE))
                .order_by(Visit.scheduled_start)
            ).all()
            cancelled = [v for v in visits if not self._documented(session, v.id)]
            if not cancelled:
                raise NotFound("No visit of this series is left to cancel from that day.")
            for visit in cancelled:
                self._cancel(session, actor, visit, reason)
            return tuple(visit.id for visit in cancelled)

    def no_show(self, actor: Actor, visit_id: int) -> Booking:
        """The patient did not come: the visit is kept as a no-show and the chair is free."""
        actor.require(Permission.SCHEDULE_EDIT)
        with self._db.session() as session:
            visit = self._visit(session, visit_id)
            zone = clinic_timezone(session)
            if visit.status is not VisitStatus.SCHEDULED:
                raise ValidationFailed(
                    [error("STATUS", f"This visit is {_status(visit.status)}; only a scheduled visit can be "
                           "marked no-show.", "status")]
                )
            if visit.scheduled_start > self._clock():
                raise ValidationFailed(
                    [error("NO_SHOW_EARLY", f"This visit starts at {_clock(visit.scheduled_start, zone)} on "
                           f"{visit.date_of_service:%m/%d/%Y}: mark a no-show once its time has passed, "
                           "or cancel it if the patient called.", "status")]
                )
            visit.status = VisitStatus.NO_SHOW
            audit.record(session, actor, "no_show", "visit", visit.id, patient_id=visit.patient_id)
            return self._booking(session, visit.id)

    # --- rules ----------------------------------------------------------------------------

    @staticmethod
    def _visit(session: Session, visit_id: int) -> Visit:
        visit = session.get(Visit, visit_id)
        if visit is None:
            raise NotFound(f"Visit {visit_id} no longer exists.")
        return visit

    @staticmethod
    def _booking(session: Session, visit_id: int) -> Booking:
        visit = ScheduleService._visit(session, visit_id)
        return next(b for b in visits_between(session, visit.date_of_service, visit.date_of_service)
                    if b.visit_id == visit_id)

    @staticmethod
    def _documented(session: Session, visit_id: int) -> bool:
        administration = sa.select(Administration.id).where(Administration.visit_id == visit_id).exists()
        vitals = sa.select(VitalSign.id).where(VitalSign.visit_id == visit_id).exists()
        return bool(session.scalar(sa.select(sa.or_(administration, vitals))))

    @staticmethod
    def _cancel(session: Session, actor: Actor, visit: Visit, reason: str) -> None:
        visit.status = VisitStatus.CANCELLED
        visit.notes = f"{visit.notes}\nCancelled: {reason}" if visit.notes else f"Cancelled: {reason}"
        audit.record(session, actor, "cancel", "visit", visit.id, patient_id=visit.patient_id,
                     detail={"reason": reason, "series_id": visit.series_id})

    @staticmethod
    def _chair(session: Session, chair_id: int, findings: list[Finding]) -> Chair | None:
        # Locked until the unit of work ends, so two desks cannot book one slot at once (PostgreSQL).
        chair = session.scalars(sa.select(Chair).where(Chair.id == chair_id).with_for_update()).first()
        if chair is None or not chair.active:
            findings.append(
                error("CHAIR", "That chair is no longer in use: choose another chair.", "chair_id")
            )
            return None
        return chair

    @staticmethod
    def _check_minutes(minutes: int, findings: list[Finding]) -> None:
        if not 1 <= minutes <= MAX_VISIT_MINUTES:
            findings.append(
                error("DURATION", f"The expected duration must be between 1 and {MAX_VISIT_MINUTES} minutes.",
                      "expected_minutes")
            )

    def _check_start_not_past(self, slot: _Slot, zone: ZoneInfo, findings: list[Finding]) -> None:
        if slot.start < self._clock() - PAST_TOLERANCE:
            findings.append(
                error("PAST", f"{_when(slot.start, slot.end, zone)} is in the past: choose a later time.",
                      "start")
            )

    @staticmethod
    def _check_hours(slot: _Slot, setup: ScheduleSetup, zone: ZoneInfo, findings: list[Finding]) -> None:
        start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
        if start.time() < setup.opens or end.date() != start.date() or end.time() > setup.closes:
            findings.append(
                error(
                    "HOURS",
                    f"{_when(slot.start, slot.end, zone)} is outside the chairs' hours "
                    f"({_clock_of(setup.opens)}–{_clock_of(setup.closes)}): choose an earlier start or a "
                    "shorter duration.",
                    "start",
                )
            )

    @staticmethod
    def _check_order_dates(
        order: PhysicianOrder, drug: Drug, slots: Sequence[_Slot], zone: ZoneInfo, findings: list[Finding]
    ) -> None:
        days = [_local_day(slot.start, zone) for slot in slots]
        early = [day for day in days if day < order.start_date]
        if early:
            findings.append(
                error("ORDER_NOT_STARTED",
                      f"The {drug.name} order starts on {order.start_date:%m/%d/%Y}; "
                      f"{_days(early)} is before it. Choose a later date.", "start")
            )
        if order.end_date is not None:
            late = [day for day in days if day > order.end_date]
            if late:
                allowed = len(days) - len(late)
                findings.append(
                    error(
                        "ORDER_ENDS",
                        f"The {drug.name} order ends on {order.end_date:%m/%d/%Y}; {_days(late)} "
                        + ("is" if len(late) == 1 else "are") + " after it. "
                        + (f"Book {allowed} visit(s) or fewer, or get a renewed order." if allowed
                           else "Get a renewed order from the ordering provider."),
                        "repeat" if len(slots) > 1 else "start",
                    )
                )

    @staticmethod
    def _check_policy(
        session: Session, policy_id: int | None, patient_id: int, slots: Sequence[_Slot], zone: ZoneInfo,
        findings: list[Finding],
    ) -> None:
        if policy_id is None:
            return
        policy = session.get(InsurancePolicy, policy_id)
        refused: list[tuple[date, tuple[Finding, ...]]] = []
        for slot in slots:
            day = _local_day(slot.start, zone)
            problems = check_policy_for_visit(policy, patient_id, day)
            if problems:
                refused.append((day, problems))
        if not refused:
            return
        first = refused[0][1]
        if len(slots) == 1:
            findings.extend(first)
            return
        for finding in first:
            findings.append(
                error(finding.code, f"{finding.message} Visits affected: {_days([d for d, _ in refused])}.",
                      finding.subject)
            )

    @staticmethod
    def _check_free(
        session: Session, chair: Chair, patient_id: int, slots: Sequence[_Slot], zone: ZoneInfo,
        findings: list[Finding], *, moving: int | None,
    ) -> None:
        days = sorted({_local_day(slot.start, zone) for slot in slots})
        stmt = (
            sa.select(Visit.chair_id, Visit.patient_id, Visit.scheduled_start, Visit.expected_minutes,
                      Patient.first_name, Patient.last_name, Chair.name)
            .join(Patient, Patient.id == Visit.patient_id)
            .outerjoin(Chair, Chair.id == Visit.chair_id)
            .where(
                Visit.date_of_service.in_(days),
                Visit.status.not_in(FREED),
                sa.or_(Visit.chair_id == chair.id, Visit.patient_id == patient_id),
            )
            .order_by(Visit.scheduled_start)
        )
        if moving is not None:
            stmt = stmt.where(Visit.id != moving)
        others = session.execute(stmt).all()
        for slot in slots:
            for other_chair, other_patient, other_start, other_minutes, first, last, chair_name in others:
                other_end = other_start + timedelta(minutes=other_minutes)
                if not (other_start < slot.end and slot.start < other_end):
                    continue
                if other_chair == chair.id:
                    who = "this patient" if other_patient == patient_id else _initials(f"{last}, {first}")
                    findings.append(
                        error(
                            "OVERLAP",
                            f"{chair.name} {_when(slot.start, slot.end, zone)} overlaps {who}, booked "
                            f"{_clock(other_start, zone)}–{_clock(other_end, zone)}. Choose another chair "
                            "or time.",
                            "start",
                        )
                    )
                else:
                    findings.append(
                        error(
                            "PATIENT_BUSY",
                            f"{_when(slot.start, slot.end, zone)}: this patient is already booked in "
                            f"{chair_name or 'another chair'} {_clock(other_start, zone)}–"
                            f"{_clock(other_end, zone)}. Choose another time.",
                            "start",
                        )
                    )


def _status(status: VisitStatus) -> str:
    return status.value.replace("_", " ").replace("no show", "a no-show")


def _days(days: Sequence[date]) -> str:
    return ", ".join(f"{day:%m/%d/%Y}" for day in days)


def _clock_of(value: time) -> str:
    return datetime.combine(date(2000, 1, 1), value).strftime("%I:%M %p").lstrip("0")
