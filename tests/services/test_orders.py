"""Physician orders through the service, check-in's order findings and the renewal queue, on both engines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import sqlalchemy as sa

from infusion_desk.models import PhysicianOrder, Visit
from infusion_desk.models.enums import DoseBasis, OrderStatus, Role, VisitStatus
from infusion_desk.services.app import Services
from infusion_desk.services.clinic import OrderInput
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.orders import OrderService, order_findings, orders_to_renew
from tests.conftest import make_actor
from tests.services.test_authorizations import TODAY, Arranged, arrange


def order_input(a: Arranged, **changes: object) -> OrderInput:
    values: dict[str, object] = dict(
        patient_id=a.patient, drug_id=a.drug, ordering_provider_id=a.provider, dose_amount="5",
        dose_unit="mg", dose_basis=DoseBasis.PER_KG, frequency="every 8 weeks", start_date=date(2026, 11, 1),
        diagnoses=("K50.90", "M05.79"), end_date=date(2027, 10, 31), doses_ordered=8,
    )
    values.update(changes)
    return OrderInput(**values)  # type: ignore[arg-type]


def _orders(services: Services) -> int:
    with services.db.session() as session:
        return int(session.scalar(sa.select(sa.func.count(PhysicianOrder.id))) or 0)


def test_create_and_list_with_computed_dose(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    orders = OrderService(services.db)
    new_id = orders.create(desk, order_input(a))
    listed = {o.id: o for o in orders.orders(desk, a.patient, today=TODAY)}
    new = listed[new_id]
    # 5 mg/kg x 73 kg (weighed at the 11/05 visit) = 365 mg
    assert new.computed_dose == "5 mg/kg → 365 mg at 73 kg (11/05/2026)"
    assert [(d.display, d.description) for d in new.diagnoses] == [
        ("K50.90", "Crohn's disease, unspecified, without complications"),
        ("M05.79", "Rheumatoid arthritis with rheumatoid factor of multiple sites without organ or "
                   "systems involvement"),
    ]
    assert new.doses_used == 0 and new.doses_left == 8 and new.provider == "Ann Order"
    # The arranged order: one completed visit used a dose, two are booked.
    old = listed[a.order]
    assert (old.doses_used, old.doses_booked, old.doses_left) == (1, 2, 7)


def test_per_m2_dose_and_missing_weight(services: Services) -> None:
    a = arrange(services, weight=False)
    desk = make_actor(services, Role.FRONT_DESK)
    orders = OrderService(services.db)
    order_id = orders.create(desk, order_input(a, dose_basis=DoseBasis.PER_M2, dose_amount="375"))
    (summary,) = [o for o in orders.orders(desk, a.patient, today=TODAY) if o.id == order_id]
    assert summary.computed_dose == "weight and height needed"
    assert summary.dose == "375 mg/m²"


BAD_ORDERS = [
    (dict(diagnoses=()), "diagnoses"),
    (dict(diagnoses=("K50.9",)), "diagnoses[0]"),  # a category, not billable
    (dict(diagnoses=("K50.90", "K5090")), "diagnoses"),
    (dict(diagnoses=tuple(f"K50.{n}" for n in ("00", "011", "012", "013", "014", "018", "019", "10",
                                               "111", "112", "113", "114", "118"))), "diagnoses"),
    (dict(dose_amount="five"), "dose_amount"),
    (dict(frequency=" "), "frequency"),
    (dict(doses_ordered=0), "doses_ordered"),
    (dict(end_date=date(2026, 10, 1)), "end_date"),
]


def test_bad_orders_are_refused_and_nothing_saved(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    for changes, subject in BAD_ORDERS:
        with pytest.raises(ValidationFailed) as caught:
            OrderService(services.db).create(desk, order_input(a, **changes))
        assert [f.subject for f in caught.value.findings] == [subject], changes
    assert _orders(services) == 1  # only the arranged one


def test_update_keeps_diagnosis_order_and_discontinue(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    orders = OrderService(services.db)
    orders.update(desk, a.order, order_input(a, diagnoses=("M05.79", "K50.90", "E11.9"), doses_ordered=4))
    (summary,) = [o for o in orders.orders(desk, a.patient, today=TODAY) if o.id == a.order]
    assert [d.display for d in summary.diagnoses] == ["M05.79", "K50.90", "E11.9"]
    orders.update(desk, a.order, order_input(a, diagnoses=("E11.9",)))
    (summary,) = [o for o in orders.orders(desk, a.patient, today=TODAY) if o.id == a.order]
    assert [d.display for d in summary.diagnoses] == ["E11.9"]
    with pytest.raises(ValidationFailed):
        orders.discontinue(desk, a.order, "  ")
    orders.discontinue(desk, a.order, "switched to another biologic", today=TODAY)
    (summary,) = [o for o in orders.orders(desk, a.patient, today=TODAY) if o.id == a.order]
    assert summary.status is OrderStatus.CANCELLED and "switched" in (summary.notes or "")
    assert "ORDER_INACTIVE" in [f.code for f in summary.findings]


def test_nurse_may_read_but_not_write(services: Services) -> None:
    a = arrange(services)
    nurse = make_actor(services, Role.NURSE)
    orders = OrderService(services.db)
    assert orders.orders(nurse, a.patient, today=TODAY)
    with pytest.raises(PermissionDenied):
        orders.create(nurse, order_input(a))


def _codes(services: Services, order_id: int, day: date) -> list[str]:
    with services.db.session() as session:
        order = session.get(PhysicianOrder, order_id)
        assert order is not None
        return [f.code for f in order_findings(session, order, day)]


FINDING_CASES = [
    (date(2027, 9, 30), 8, date(2026, 12, 3), []),
    # ends 12/10, 7 days after 12/03: within 14 days
    (date(2026, 12, 10), 8, date(2026, 12, 3), ["ORDER_EXPIRING"]),
    (date(2026, 12, 1), 8, date(2026, 12, 3), ["ORDER_EXPIRED"]),
    # one dose ordered, the 11/05 visit gave it
    (date(2027, 9, 30), 1, date(2026, 12, 3), ["ORDER_NO_DOSES"]),
    # on 11/05 itself the dose was not yet used
    (date(2027, 9, 30), 1, date(2026, 11, 5), []),
]


def test_order_findings(services: Services) -> None:
    a = arrange(services)
    for end_date, doses, day, expected in FINDING_CASES:
        with services.db.session() as session:
            order = session.get(PhysicianOrder, a.order)
            assert order is not None
            order.end_date, order.doses_ordered = end_date, doses
        assert _codes(services, a.order, day) == expected, (end_date, doses, day)


def test_orders_to_renew(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    orders = OrderService(services.db)
    # Ends within 30 days of 11/26:
    ending = orders.create(desk, order_input(a, end_date=date(2026, 12, 20), diagnoses=("K50.90",)))
    # Two doses ordered, one given (the arranged visit) -> 1 left:
    with services.db.session() as session:
        order = session.get(PhysicianOrder, a.order)
        assert order is not None
        order.doses_ordered = 2
    # Plenty left and far from its end: not listed.
    orders.create(desk, order_input(a, diagnoses=("K50.90",)))
    with services.db.session() as session:
        items = {item.order_id: item for item in orders_to_renew(session, TODAY)}
    assert set(items) == {ending, a.order}
    assert "ends on 12/20/2026" in items[ending].problem
    assert "1 dose left" in items[a.order].problem and items[a.order].due == date(2026, 12, 3)
    assert orders.expiring(desk, TODAY)[0].order_id in (ending, a.order)


def test_search_diagnoses_and_providers(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    orders = OrderService(services.db)
    assert orders.search_diagnoses(desk, "crohn unspecified without", limit=3)[0].display == "K50.90"
    assert [p.id for p in orders.providers(desk)] == [a.provider]


def test_completed_visits_count_as_used_doses(services: Services) -> None:
    a = arrange(services)
    with services.db.session() as session:
        visit = session.get(Visit, a.booked[0])
        assert visit is not None
        visit.status = VisitStatus.COMPLETED
    desk = make_actor(services, Role.FRONT_DESK)
    (summary,) = [o for o in OrderService(services.db).orders(desk, a.patient, today=TODAY) if o.id == a.order]
    assert summary.doses_used == 2 and summary.doses_left == Decimal(6)
