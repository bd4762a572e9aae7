"""The chair schedule through its service, on both database engines: every refusal says why, and saves nothing."""

from __future__ import annotations

import doctest
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from infusion_desk.models import (
    Administration,
    Drug,
    InsurancePolicy,
    Payer,
    PhysicianOrder,
    Provider,
    Setting,
    User,
    Visit,
)
from infusion_desk.models.enums import (
    AdminClass,
    AdminMethod,
    DoseBasis,
    OrderStatus,
    PayerType,
    PolicyRank,
    Role,
    SubscriberRelationship,
    VisitStatus,
)
from infusion_desk.services import schedule as schedule_module
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.auth import actor_for
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.schedule import BookingInput, ScheduleService, repeat_interval_days
from tests.conftest import fictional_patient

CHICAGO = ZoneInfo("America/Chicago")
NOW = datetime(2026, 10, 1, 15, 0, tzinfo=UTC)  # Thursday 10:00 AM in the clinic


def staff(services: Services, role: Role) -> Actor:
    """A user of ``role``, written directly: these tests need no sign-in (and no password hashing)."""
    with services.db.session() as session:
        user = User(username=f"t_{role.value}", display_name=f"Test {role.value}", role=role,
                    password_hash="unused")
        session.add(user)
        session.flush()
        return actor_for(user)


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """A clinic wall-clock time, as the front desk means it."""
    return datetime.combine(day, time(hour, minute), CHICAGO)


@dataclass
class Clinic:
    services: Services
    schedule: ScheduleService
    desk: Actor
    manager: Actor
    chairs: tuple[int, ...]
    patient: int
    other_patient: int
    order: int
    other_order: int
    primary: int
    terminated: int


@pytest.fixture
def clinic(services: Services) -> Iterator[Clinic]:
    """Three chairs open 7:00-18:00; Ms Example has a 2-hour infliximab order every 8 weeks (6 doses)."""
    schedule = ScheduleService(services.db, clock=lambda: NOW)
    manager = staff(services, Role.MANAGER)
    desk = staff(services, Role.FRONT_DESK)
    with services.db.session() as session:
        session.add(Setting(key="clinic.timezone", value="America/Chicago"))
    setup = schedule.configure(manager, ["Chair 1", "Chair 2", "Chair 3"], time(7, 0), time(18, 0))
    with services.db.session() as session:
        payer = Payer(name="Lakeshore Mutual (test)", payer_id="LM001", payer_type=PayerType.COMMERCIAL)
        old_payer = Payer(name="Old Harbor Health (test)", payer_id="OH001", payer_type=PayerType.COMMERCIAL)
        provider = Provider(first_name="Ann", last_name="Order", npi="1245319599")
        drug = Drug(
            name="infliximab", hcpcs="J1745", billing_unit_amount=Decimal(10), billing_unit="mg",
            admin_class=AdminClass.COMPLEX_BIOLOGIC, unit_price=Decimal("100"), typical_minutes=120,
        )
        patient = fictional_patient("DM0000001")
        other = fictional_patient("DM0000002", first_name="Marisol", last_name="Quenby",
                                  search_first="marisol", search_last="quenby")
        session.add_all([payer, old_payer, provider, drug, patient, other])
        session.flush()

        def order_for(patient_id: int, frequency: str = "every 8 weeks", **extra: object) -> PhysicianOrder:
            values: dict[str, object] = {
                "patient_id": patient_id, "drug_id": drug.id, "ordering_provider_id": provider.id,
                "dose_amount": Decimal(5), "dose_unit": "mg", "dose_basis": DoseBasis.PER_KG,
                "frequency": frequency, "doses_ordered": 6, "start_date": date(2026, 9, 1),
                "end_date": date(2027, 8, 31),
            }
            values.update(extra)
            order = PhysicianOrder(**values)
            session.add(order)
            return order

        order, other_order = order_for(patient.id), order_for(other.id)
        primary = InsurancePolicy(patient_id=patient.id, payer_id=payer.id, rank=PolicyRank.PRIMARY, subscriber_relationship=SubscriberRelationship.SELF,
                                  member_id="LMX100200", effective_date=date(2026, 1, 1))
        terminated = InsurancePolicy(patient_id=patient.id, payer_id=old_payer.id, rank=PolicyRank.SECONDARY, subscriber_relationship=SubscriberRelationship.SELF,
                                     member_id="OHX999", effective_date=date(2025, 1, 1),
                                     termination_date=date(2026, 9, 30))
        session.add_all([primary, terminated])
        session.flush()
        ids = (order.id, other_order.id, primary.id, terminated.id, patient.id, other.id)
    yield Clinic(
        services=services, schedule=schedule, desk=desk, manager=manager,
        chairs=tuple(chair.id for chair in setup.chairs), patient=ids[4], other_patient=ids[5],
        order=ids[0], other_order=ids[1], primary=ids[2], terminated=ids[3],
    )


def booking(c: Clinic, start: datetime, chair: int = 0, **changes: object) -> BookingInput:
    data = BookingInput(patient_id=c.patient, order_id=c.order, chair_id=c.chairs[chair], start=start,
                        policy_id=c.primary)
    return replace(data, **changes)


def visit_count(c: Clinic) -> int:
    with c.services.db.session() as session:
        return int(session.scalar(sa.select(sa.func.count(Visit.id))) or 0)


def refused(call: object, *args: object) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as caught:
        call(*args)  # type: ignore[operator]
    return [(f.code, f.message) for f in caught.value.findings]


def codes(findings: list[tuple[str, str]]) -> set[str]:
    return {code for code, _ in findings}


TUE = date(2026, 10, 6)


# --- frequencies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("every 8 weeks", 56), ("every 14 days", 14), ("Every 2 Weeks", 14), ("weekly", 7),
        ("every other week", 14), ("q2w", 14), ("q3w", 21), ("Q4W", 28), ("q8w", 56), ("q 6 weeks", 42),
        ("q21d", 21), ("monthly", 28), ("every four weeks", 28), ("every 8 weeks (maintenance)", 56),
        ("as directed", None), ("", None), ("once", None),
    ],
)
def test_order_frequency_texts_give_the_interval(text: str, days: int | None) -> None:
    assert repeat_interval_days(text) == days


def test_module_examples_hold() -> None:
    assert doctest.testmod(schedule_module).failed == 0


# --- set-up ----------------------------------------------------------------------------------


def test_chairs_and_hours_are_configured_renamed_and_deactivated(clinic: Clinic) -> None:
    c = clinic
    setup = c.schedule.setup(c.desk)
    assert [chair.name for chair in setup.chairs] == ["Chair 1", "Chair 2", "Chair 3"]
    assert (setup.opens, setup.closes, setup.slot_minutes) == (time(7), time(18), 15)

    setup = c.schedule.configure(c.manager, ["Chair 1", "Recliner A", "Chair 4", "Chair 5"],
                                 time(8, 0), time(17, 30), slot_minutes=30)
    # Chair 2 left the list and "Recliner A" took its place: a rename keeps the chair and its bookings.
    assert [(chair.id, chair.name) for chair in setup.chairs[:2]] == [(c.chairs[0], "Chair 1"),
                                                                    (c.chairs[1], "Recliner A")]
    assert [chair.name for chair in setup.chairs] == ["Chair 1", "Recliner A", "Chair 4", "Chair 5"]
    assert (setup.opens, setup.closes, setup.slot_minutes) == (time(8), time(17, 30), 30)

    setup = c.schedule.configure(c.manager, ["Chair 5", "Chair 1"], time(8, 0), time(17, 30))
    assert [chair.name for chair in setup.chairs] == ["Chair 5", "Chair 1"]


def test_bad_set_up_is_refused_and_changes_nothing(clinic: Clinic) -> None:
    c = clinic
    findings = refused(c.schedule.configure, c.manager, ["Chair 1", "chair 1", " "], time(18), time(7))
    assert codes(findings) == {"CHAIR_DUPLICATE", "CHAIR_NAME", "HOURS"}
    assert any("must be before closing" in message for _, message in findings)
    with pytest.raises(PermissionDenied):
        c.schedule.configure(c.desk, ["Chair 1"], time(7), time(18))
    assert [chair.name for chair in c.schedule.setup(c.desk).chairs] == ["Chair 1", "Chair 2", "Chair 3"]


def test_a_chair_with_bookings_to_come_cannot_be_removed(clinic: Clinic) -> None:
    c = clinic
    c.schedule.book(c.desk, booking(c, local(TUE, 9), chair=2))
    findings = refused(c.schedule.configure, c.manager, ["Chair 1", "Chair 2"], time(7), time(18))
    assert codes(findings) == {"CHAIR_BOOKED"}
    assert "Chair 3" in findings[0][1] and "10/06/2026" in findings[0][1] and "T.E." in findings[0][1]
    # Shortening the day past the booking is refused too, naming it.
    findings = refused(c.schedule.configure, c.manager, ["Chair 1", "Chair 2", "Chair 3"], time(10), time(18))
    assert codes(findings) == {"HOURS_BOOKED"}
    assert len(c.schedule.setup(c.desk).chairs) == 3


# --- booking one visit -----------------------------------------------------------------------


def test_a_visit_is_booked_with_the_drugs_duration_and_listed(clinic: Clinic) -> None:
    c = clinic
    (visit_id,) = c.schedule.book(c.desk, booking(c, local(TUE, 9), notes="  first dose  "))
    (shown,) = c.schedule.bookings(c.desk, TUE, TUE)
    assert shown.visit_id == visit_id
    assert (shown.patient_name, shown.mrn, shown.chair_name, shown.drug) == (
        "Example, Testy", "DM0000001", "Chair 1", "infliximab")
    assert shown.policy == "Lakeshore Mutual (test) LMX100200"
    assert shown.status is VisitStatus.SCHEDULED and shown.series_id is None
    assert shown.start == datetime(2026, 10, 6, 14, 0, tzinfo=UTC)  # 9:00 AM CDT, stored in UTC
    assert shown.expected_minutes == 120 and shown.end - shown.start == timedelta(hours=2)
    assert shown.day == TUE and shown.notes == "first dose"
    assert c.schedule.bookings(c.desk, TUE + timedelta(days=1), TUE + timedelta(days=7)) == ()


def test_options_offer_active_orders_and_only_policies_in_force(clinic: Clinic) -> None:
    c = clinic
    c.schedule.book(c.desk, booking(c, local(TUE, 9)))
    options = c.schedule.options(c.desk, c.patient, TUE)
    (order,) = options.orders
    assert (order.drug, order.interval_days, order.doses_left, order.default_minutes) == ("infliximab", 56, 5, 120)
    assert "5 of 6 doses left" in order.label and "08/31/2027" in order.label
    assert [p.id for p in options.policies] == [c.primary]  # the terminated secondary is not offered
    before_termination = c.schedule.options(c.desk, c.patient, date(2026, 9, 15))
    assert [p.id for p in before_termination.policies] == [c.primary, c.terminated]


def test_a_terminated_policy_is_refused_and_nothing_is_saved(clinic: Clinic) -> None:
    c = clinic
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), policy_id=c.terminated))
    assert codes(findings) == {"POLICY_TERMINATED"}
    assert "terminated on 09/30/2026" in findings[0][1] and "Choose a policy in force" in findings[0][1]
    assert visit_count(c) == 0


def test_an_overlapping_booking_names_the_other_patient_by_initials_only(clinic: Clinic) -> None:
    c = clinic
    c.schedule.book(c.desk, booking(c, local(TUE, 9), patient_id=c.other_patient, order_id=c.other_order,
                                    policy_id=None))
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 10, 30)))
    assert codes(findings) == {"OVERLAP"}
    (message,) = [m for _, m in findings]
    assert "Chair 1 Tue 10/06/2026 10:30 AM–12:30 PM overlaps M.Q., booked 9:00 AM–11:00 AM" in message
    assert "Quenby" not in message and "Choose another chair or time" in message
    assert visit_count(c) == 1
    # Back to back is fine, and so is another chair at the same time.
    c.schedule.book(c.desk, booking(c, local(TUE, 11)))
    c.schedule.book(c.desk, booking(c, local(TUE, 13), chair=1))
    assert visit_count(c) == 3


def test_the_same_patient_cannot_sit_in_two_chairs_at_once(clinic: Clinic) -> None:
    c = clinic
    c.schedule.book(c.desk, booking(c, local(TUE, 9)))
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 10), chair=1))
    assert codes(findings) == {"PATIENT_BUSY"}
    assert "already booked in Chair 1 9:00 AM–11:00 AM" in findings[0][1]


@pytest.mark.parametrize(
    ("hour", "minute", "minutes"),
    [(6, 45, None), (16, 30, None), (17, 0, 90)],
    ids=["before opening", "runs past closing", "long visit past closing"],
)
def test_a_visit_outside_opening_hours_is_refused(clinic: Clinic, hour: int, minute: int, minutes: int | None) -> None:
    c = clinic
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, hour, minute), expected_minutes=minutes))
    assert codes(findings) == {"HOURS"}
    assert "outside the chairs' hours (7:00 AM–6:00 PM)" in findings[0][1]
    assert visit_count(c) == 0


def test_a_start_in_the_past_is_refused(clinic: Clinic) -> None:
    c = clinic
    findings = refused(c.schedule.book, c.desk, booking(c, local(date(2026, 9, 30), 9)))
    assert codes(findings) == {"PAST"} and "in the past" in findings[0][1]
    # Booking the slot that began a few minutes ago (a walk-in) is allowed.
    c.schedule.book(c.desk, booking(c, local(date(2026, 10, 1), 9, 50)))
    assert visit_count(c) == 1


def test_wrong_order_inactive_order_inactive_chair_and_bad_duration_are_refused(clinic: Clinic) -> None:
    c = clinic
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), order_id=c.other_order))
    assert codes(findings) == {"ORDER"}
    with c.services.db.session() as session:
        order = session.get(PhysicianOrder, c.order)
        assert order is not None
        order.status = OrderStatus.CANCELLED
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), expected_minutes=2000))
    assert codes(findings) == {"ORDER_INACTIVE", "DURATION"}
    assert "order is cancelled" in dict(findings)["ORDER_INACTIVE"]
    c.schedule.configure(c.manager, ["Chair 1", "Chair 2"], time(7), time(18))
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), chair=2, order_id=c.other_order))
    assert codes(findings) == {"CHAIR", "ORDER"}
    assert visit_count(c) == 0


def test_only_the_front_desk_books_and_a_nurse_may_look(clinic: Clinic) -> None:
    c = clinic
    nurse = staff(c.services, Role.NURSE)
    with pytest.raises(PermissionDenied):
        c.schedule.book(nurse, booking(c, local(TUE, 9)))
    assert c.schedule.bookings(nurse, TUE, TUE) == ()


# --- recurring bookings ----------------------------------------------------------------------


def test_a_series_is_booked_at_the_orders_interval_with_one_series_id(clinic: Clinic) -> None:
    c = clinic
    ids = c.schedule.book(c.desk, booking(c, local(TUE, 9), repeat=3))
    shown = c.schedule.bookings(c.desk, TUE, TUE + timedelta(weeks=20))
    assert [b.visit_id for b in shown] == list(ids)
    assert [b.day for b in shown] == [TUE, TUE + timedelta(weeks=8), TUE + timedelta(weeks=16)]
    assert len({b.series_id for b in shown}) == 1 and shown[0].series_id is not None


def test_a_series_across_the_november_clock_change_keeps_its_wall_clock_time(clinic: Clinic) -> None:
    c = clinic
    with c.services.db.session() as session:
        order = session.get(PhysicianOrder, c.order)
        assert order is not None
        order.frequency = "every 14 days"
    c.schedule.book(c.desk, booking(c, local(date(2026, 10, 15), 9), repeat=3))
    shown = c.schedule.bookings(c.desk, date(2026, 10, 1), date(2026, 12, 31))
    # US daylight saving time ends on Sunday 11/01/2026: 9:00 AM is 14:00 UTC before, 15:00 UTC after.
    assert [b.start.astimezone(CHICAGO).strftime("%m/%d %H:%M") for b in shown] == [
        "10/15 09:00", "10/29 09:00", "11/12 09:00"]
    assert [b.start.hour for b in shown] == [14, 14, 15]


def test_one_conflicting_occurrence_books_none_of_the_series(clinic: Clinic) -> None:
    c = clinic
    later = TUE + timedelta(weeks=8)
    c.schedule.book(c.desk, booking(c, local(later, 10), patient_id=c.other_patient, order_id=c.other_order,
                                    policy_id=None))
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), repeat=3))
    assert codes(findings) == {"OVERLAP"}
    assert "12/01/2026 9:00 AM–11:00 AM overlaps M.Q." in findings[0][1]
    assert visit_count(c) == 1


def test_a_series_beyond_the_doses_left_or_the_order_end_is_refused(clinic: Clinic) -> None:
    c = clinic
    findings = dict(refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), repeat=7)))
    # Seven visits 8 weeks apart: one more than the six doses, and the seventh (09/07/2027) after the end.
    assert set(findings) == {"ORDER_DOSES", "ORDER_ENDS"}
    assert "6 of 6 doses left (0 given or booked); 7 visit(s) were asked for. Book 6 or fewer" in findings[
        "ORDER_DOSES"]
    assert "ends on 08/31/2027; 09/07/2027 is after it. Book 6 visit(s) or fewer" in findings["ORDER_ENDS"]
    with c.services.db.session() as session:
        order = session.get(PhysicianOrder, c.order)
        assert order is not None
        order.end_date = date(2027, 1, 31)
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), repeat=4))
    assert codes(findings) == {"ORDER_ENDS"}
    assert "03/23/2027 is after it. Book 3 visit(s) or fewer, or get a renewed order." in findings[0][1]
    assert visit_count(c) == 0
    c.schedule.book(c.desk, booking(c, local(TUE, 9), repeat=3))
    assert c.schedule.options(c.desk, c.patient, TUE).orders[0].doses_left == 3


def test_an_unreadable_frequency_asks_for_the_interval(clinic: Clinic) -> None:
    c = clinic
    with c.services.db.session() as session:
        order = session.get(PhysicianOrder, c.order)
        assert order is not None
        order.frequency = "per oncologist"
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), repeat=2))
    assert codes(findings) == {"FREQUENCY"}
    assert '"per oncologist"' in findings[0][1] and "enter the interval in days" in findings[0][1]
    assert visit_count(c) == 0
    c.schedule.book(c.desk, booking(c, local(TUE, 9), repeat=2, interval_days=21))
    assert [b.day for b in c.schedule.bookings(c.desk, TUE, TUE + timedelta(days=30))] == [
        TUE, TUE + timedelta(days=21)]


def test_a_policy_that_ends_during_a_series_names_the_visits_affected(clinic: Clinic) -> None:
    c = clinic
    with c.services.db.session() as session:
        policy = session.get(InsurancePolicy, c.primary)
        assert policy is not None
        policy.termination_date = date(2026, 11, 30)
    findings = refused(c.schedule.book, c.desk, booking(c, local(TUE, 9), repeat=3))
    assert codes(findings) == {"POLICY_TERMINATED"}
    assert "Visits affected: 12/01/2026, 01/26/2027." in findings[0][1]
    assert visit_count(c) == 0


# --- moving, cancelling, no-shows ------------------------------------------------------------


def test_a_visit_moves_to_another_chair_and_time(clinic: Clinic) -> None:
    c = clinic
    (visit_id,) = c.schedule.book(c.desk, booking(c, local(TUE, 9)))
    moved = c.schedule.move(c.desk, visit_id, c.chairs[2], local(TUE + timedelta(days=1), 13, 15))
    assert (moved.chair_name, moved.day) == ("Chair 3", TUE + timedelta(days=1))
    assert moved.start.astimezone(CHICAGO).time() == time(13, 15)
    assert c.schedule.bookings(c.desk, TUE, TUE) == ()


def test_a_refused_move_leaves_the_visit_where_it_was(clinic: Clinic) -> None:
    c = clinic
    (visit_id,) = c.schedule.book(c.desk, booking(c, local(TUE, 9)))
    c.schedule.book(c.desk, booking(c, local(TUE, 12), chair=1, patient_id=c.other_patient,
                                    order_id=c.other_order, policy_id=None))
    findings = refused(c.schedule.move, c.desk, visit_id, c.chairs[1], local(TUE, 11))
    assert codes(findings) == {"OVERLAP"} and "overlaps M.Q." in findings[0][1]
    findings = refused(c.schedule.move, c.desk, visit_id, c.chairs[0], local(TUE, 17))
    assert codes(findings) == {"HOURS"}
    findings = refused(c.schedule.move, c.desk, visit_id, c.chairs[0], local(date(2026, 9, 30), 9))
    assert "PAST" in codes(findings)
    (unchanged,) = [b for b in c.schedule.bookings(c.desk, TUE, TUE) if b.visit_id == visit_id]
    assert (unchanged.chair_id, unchanged.start) == (c.chairs[0], local(TUE, 9).astimezone(UTC))
    # Moving within its own time (a little later, overlapping itself) is fine.
    assert c.schedule.move(c.desk, visit_id, c.chairs[0], local(TUE, 9, 30)).start == local(TUE, 9, 30)


def test_a_started_cancelled_or_documented_visit_cannot_move(clinic: Clinic) -> None:
    c = clinic
    first, second = c.schedule.book(c.desk, booking(c, local(TUE, 9), repeat=2))
    c.schedule.cancel(c.desk, first, "Patient called: has a cold")
    findings = refused(c.schedule.move, c.desk, first, c.chairs[1], local(TUE, 9))
    assert codes(findings) == {"STATUS"} and "cancelled" in findings[0][1]
    with c.services.db.session() as session:
        session.add(Administration(visit_id=second, admin_class=AdminClass.COMPLEX_BIOLOGIC,
                                   method=AdminMethod.INFUSION))
    findings = refused(c.schedule.move, c.desk, second, c.chairs[1], local(TUE + timedelta(weeks=8), 10))
    assert codes(findings) == {"DOCUMENTED"}


def test_cancelling_frees_the_slot_and_the_dose_and_needs_a_reason(clinic: Clinic) -> None:
    c = clinic
    (visit_id,) = c.schedule.book(c.desk, booking(c, local(TUE, 9)))
    findings = refused(c.schedule.cancel, c.desk, visit_id, "   ")
    assert codes(findings) == {"REASON"}
    assert c.schedule.bookings(c.desk, TUE, TUE)[0].status is VisitStatus.SCHEDULED
    cancelled = c.schedule.cancel(c.desk, visit_id, "Patient called: has a cold")
    assert cancelled.status is VisitStatus.CANCELLED and "has a cold" in (cancelled.notes or "")
    assert c.schedule.options(c.desk, c.patient, TUE).orders[0].doses_left == 6
    c.schedule.book(c.desk, booking(c, local(TUE, 9), patient_id=c.other_patient, order_id=c.other_order,
                                    policy_id=None))
    assert [b.status for b in c.schedule.bookings(c.desk, TUE, TUE)] == [VisitStatus.CANCELLED,
                                                                         VisitStatus.SCHEDULED]
    findings = refused(c.schedule.cancel, c.desk, visit_id, "again")
    assert codes(findings) == {"STATUS"}


def test_cancelling_the_rest_of_a_series(clinic: Clinic) -> None:
    c = clinic
    ids = c.schedule.book(c.desk, booking(c, local(TUE, 9), repeat=3))
    cancelled = c.schedule.cancel_series(c.desk, c.schedule.booking(c.desk, ids[0]).series_id or "",
                                         TUE + timedelta(days=1), "Order changed to every 6 weeks")
    assert cancelled == ids[1:]
    assert [b.status for b in c.schedule.bookings(c.desk, TUE, TUE + timedelta(weeks=20))] == [
        VisitStatus.SCHEDULED, VisitStatus.CANCELLED, VisitStatus.CANCELLED]


def test_a_no_show_is_marked_once_the_visit_time_has_passed(clinic: Clinic) -> None:
    c = clinic
    (visit_id,) = c.schedule.book(c.desk, booking(c, local(TUE, 9)))
    findings = refused(c.schedule.no_show, c.desk, visit_id)
    assert codes(findings) == {"NO_SHOW_EARLY"}
    later = ScheduleService(c.services.db, clock=lambda: local(TUE, 10).astimezone(UTC))
    assert later.no_show(c.desk, visit_id).status is VisitStatus.NO_SHOW
    # The chair is free again for a walk-in at 10:00.
    later.book(c.desk, booking(c, local(TUE, 10), patient_id=c.other_patient, order_id=c.other_order,
                               policy_id=None))
    findings = refused(later.no_show, c.desk, visit_id)
    assert codes(findings) == {"STATUS"}


def test_the_week_is_read_in_a_fixed_number_of_queries(clinic: Clinic) -> None:
    c = clinic
    c.schedule.book(c.desk, booking(c, local(TUE, 7), repeat=5))
    for day in range(5):
        c.schedule.book(c.desk, booking(c, local(TUE + timedelta(days=day), 14), chair=1,
                                        patient_id=c.other_patient, order_id=c.other_order, policy_id=None))
    statements: list[str] = []
    engine = c.services.db.engine

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        shown = c.schedule.bookings(c.desk, TUE, TUE + timedelta(weeks=40))
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    assert len(shown) == 10
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 2
