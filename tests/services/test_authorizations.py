"""Prior authorizations through the service and the check-in/queue functions, on both engines."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal

import pytest
import sqlalchemy as sa

from infusion_desk.billing.catalog import drug_by_hcpcs
from infusion_desk.models import (
    CodedLine,
    Drug,
    InsurancePolicy,
    OrderDiagnosis,
    Payer,
    PhysicianOrder,
    PriorAuthorization,
    Provider,
    Visit,
)
from infusion_desk.models.enums import (
    AdminClass,
    AuthorizationStatus,
    DoseBasis,
    PayerType,
    PolicyRank,
    Role,
    SubscriberRelationship,
    VisitStatus,
)
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.authorizations import (
    AuthorizationInput,
    AuthorizationService,
    authorization_findings,
    authorizations_to_renew,
    burn_down,
    covering_authorization,
)
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from tests.conftest import fictional_patient, make_actor

TODAY = date(2026, 11, 26)


@dataclass(frozen=True)
class Arranged:
    patient: int
    policy: int
    other_policy: int
    order: int
    provider: int
    drug: int
    completed: int
    booked: tuple[int, ...]


def add_drug(session: sa.orm.Session, hcpcs: str) -> Drug:
    item = drug_by_hcpcs()[hcpcs]
    drug = Drug(
        name=item.name, brand_name=item.brand_name, hcpcs=hcpcs, billing_unit_amount=item.billing_unit_amount,
        billing_unit=item.billing_unit, billing_unit_up_to=item.billing_unit_up_to,
        admin_class=AdminClass(item.admin_class), default_method=item.default_method,
        default_route=item.default_route, single_dose_container=item.single_dose_container,
        unit_price=item.unit_price,
    )
    session.add(drug)
    return drug


def _visit(patient_id: int, order_id: int, day: date, status: VisitStatus, **extra: object) -> Visit:
    return Visit(patient_id=patient_id, order_id=order_id, date_of_service=day, status=status,
                 scheduled_start=datetime.combine(day, time(15, 0), tzinfo=UTC), **extra)


def arrange(services: Services, *, payer_type: PayerType = PayerType.COMMERCIAL, weight: bool = True,
            booked: tuple[date, ...] = (date(2026, 12, 3), date(2027, 1, 28))) -> Arranged:
    """A patient on infliximab 5 mg/kg: one completed visit coded 37 + 3 JW units at 73 kg, more booked."""
    with services.db.session() as session:
        payer = Payer(name="Lakeshore Mutual (test)", payer_id="LM001", payer_type=payer_type)
        other = Payer(name="Second Fictional Plan", payer_id="SF002", payer_type=PayerType.COMMERCIAL)
        patient = fictional_patient(first_name="Auth", last_name="Burndown", search_first="auth",
                                    search_last="burndown")
        provider = Provider(first_name="Ann", last_name="Order", npi="1245319599")
        drug = add_drug(session, "J1745")
        session.add_all([payer, other, patient, provider])
        session.flush()
        policy = InsurancePolicy(patient_id=patient.id, payer_id=payer.id, rank=PolicyRank.PRIMARY,
                                 member_id="LM0000001", effective_date=date(2025, 1, 1),
                                 subscriber_relationship=SubscriberRelationship.SELF)
        second = InsurancePolicy(patient_id=patient.id, payer_id=other.id, rank=PolicyRank.SECONDARY,
                                 member_id="SF0000001", effective_date=date(2025, 1, 1),
                                 subscriber_relationship=SubscriberRelationship.SELF)
        session.add_all([policy, second])
        order = PhysicianOrder(patient_id=patient.id, drug_id=drug.id, ordering_provider_id=provider.id,
                               dose_amount=Decimal(5), dose_unit="mg", dose_basis=DoseBasis.PER_KG,
                               frequency="every 8 weeks", start_date=date(2026, 10, 1), doses_ordered=8,
                               end_date=date(2027, 9, 30),
                               diagnoses=[OrderDiagnosis(sequence=1, icd10_code="K5090")])
        session.add(order)
        session.flush()
        done = _visit(patient.id, order.id, date(2026, 11, 5), VisitStatus.COMPLETED, policy_id=policy.id,
                      weight_kg=Decimal(73) if weight else None, height_cm=Decimal(170) if weight else None)
        done.coded_lines = [
            CodedLine(sequence=1, code="96413", units=Decimal(1), explanation="test"),
            CodedLine(sequence=2, code="J1745", units=Decimal(37), explanation="test"),
            CodedLine(sequence=3, code="J1745", units=Decimal(3), modifiers=["JW"], explanation="test"),
        ]
        upcoming = [_visit(patient.id, order.id, day, VisitStatus.SCHEDULED, policy_id=policy.id)
                    for day in booked]
        # A cancelled visit in the window never counts.
        cancelled = _visit(patient.id, order.id, date(2026, 11, 19), VisitStatus.CANCELLED)
        session.add_all([done, *upcoming, cancelled])
        session.flush()
        return Arranged(patient.id, policy.id, second.id, order.id, provider.id, drug.id, done.id,
                        tuple(v.id for v in upcoming))


def auth_input(a: Arranged, **changes: object) -> AuthorizationInput:
    values: dict[str, object] = dict(
        patient_id=a.patient, policy_id=a.policy, number="PA-TEST-001", status=AuthorizationStatus.APPROVED,
        valid_from=date(2026, 11, 1), valid_to=date(2027, 1, 31), codes=("J1745", "96413"),
        approved_units="120", order_id=a.order,
    )
    values.update(changes)
    return AuthorizationInput(**values)  # type: ignore[arg-type]


def _count(services: Services) -> int:
    with services.db.session() as session:
        return int(session.scalar(sa.select(sa.func.count(PriorAuthorization.id))) or 0)


def test_burn_down_is_derived_from_visits(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    auths = AuthorizationService(services.db)
    auth_id = auths.create(desk, auth_input(a))
    (row,) = auths.authorizations(desk, a.patient, today=TODAY)
    bd = row.burn_down
    # 96413 x1 + J1745 x37 + J1745-JW x3 billed on covered codes = 41 units on one visit;
    # two booked doses at 5 mg/kg x 73 kg = 365 mg -> 37 units each = 74; 120 - 41 - 74 = 5.
    assert (bd.approved_units, bd.used_units, bd.scheduled_units, bd.remaining_units) == (
        Decimal(120), Decimal(41), Decimal(74), Decimal(5))
    assert (bd.used_visits, bd.scheduled_visits) == (1, 2)
    assert row.codes == ("96413", "J1745") and row.id == auth_id
    assert row.policy.startswith("Lakeshore Mutual (test) (primary")
    assert [f.code for f in row.alerts] == []  # 120 - 41 = 79 covers the next two doses (74)


def test_units_unknown_without_a_weight(services: Services) -> None:
    a = arrange(services, weight=False)
    desk = make_actor(services, Role.FRONT_DESK)
    auths = AuthorizationService(services.db)
    auths.create(desk, auth_input(a))
    (row,) = auths.authorizations(desk, a.patient, today=TODAY)
    assert row.burn_down.scheduled_units is None and row.burn_down.remaining_units is None
    assert "AUTH_UNITS_UNKNOWN" in [f.code for f in row.alerts]


def test_reversed_dates_are_refused_and_nothing_is_saved(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    auths = AuthorizationService(services.db)
    with pytest.raises(ValidationFailed) as caught:
        auths.create(desk, auth_input(a, valid_from=date(2027, 1, 31), valid_to=date(2026, 11, 1)))
    (finding,) = caught.value.findings
    assert finding.subject == "valid_to"
    assert "The authorization ends before it starts (01/31/2027 to 11/01/2026)" in finding.message
    assert _count(services) == 0


BAD_INPUT = [
    (dict(number=" "), "number"),
    (dict(codes=()), "codes"),
    (dict(codes=("J1745", "XYZ")), "codes[1]"),
    (dict(approved_units="", approved_visits=""), "approved_units"),
    (dict(approved_units="0"), "approved_units"),
    (dict(policy_id=None), "policy_id"),
]


def test_bad_input_names_the_field(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    for changes, subject in BAD_INPUT:
        with pytest.raises(ValidationFailed) as caught:
            AuthorizationService(services.db).create(desk, auth_input(a, **changes))
        assert [f.subject for f in caught.value.findings] == [subject], changes
    assert _count(services) == 0


def test_policy_and_order_must_be_the_patients(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    with services.db.session() as session:
        stranger = fictional_patient("DM0000999", first_name="Other", search_first="other")
        session.add(stranger)
        session.flush()
        stranger_id = stranger.id
    auths = AuthorizationService(services.db)
    with pytest.raises(ValidationFailed) as caught:
        auths.create(desk, auth_input(a, patient_id=stranger_id))
    assert {f.code for f in caught.value.findings} == {"POLICY_PATIENT", "ORDER_PATIENT"}
    assert _count(services) == 0


def test_update_changes_codes_and_status(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    auths = AuthorizationService(services.db)
    auth_id = auths.create(desk, auth_input(a))
    auths.update(desk, auth_id, auth_input(a, codes=("J1745",), approved_units="200"))
    row = auths.get(desk, auth_id, today=TODAY)
    assert row.codes == ("J1745",) and row.approved_units == Decimal(200)
    # Only the drug lines count now: 37 + 3 JW = 40.
    assert row.burn_down.used_units == Decimal(40)
    auths.set_status(desk, auth_id, AuthorizationStatus.EXPIRED, "replaced by a new letter")
    row = auths.get(desk, auth_id, today=TODAY)
    assert row.status is AuthorizationStatus.EXPIRED and "replaced" in (row.notes or "")
    # A duplicate number on the same policy is refused.
    with pytest.raises(ValidationFailed):
        auths.create(desk, auth_input(a))


def test_permissions(services: Services) -> None:
    a = arrange(services)
    nurse = make_actor(services, Role.NURSE)
    auths = AuthorizationService(services.db)
    assert auths.authorizations(nurse, a.patient, today=TODAY) == ()
    with pytest.raises(PermissionDenied):
        auths.create(nurse, auth_input(a))


def _findings(services: Services, visit_id: int, today: date = TODAY) -> list[tuple[str, str]]:
    with services.db.session() as session:
        visit = session.get(Visit, visit_id)
        assert visit is not None
        return [(f.code, f.level.value) for f in authorization_findings(session, visit, today)]


def test_check_in_without_authorization(services: Services) -> None:
    a = arrange(services)
    # A commercial payer requires one: an error that names the drug and the date.
    with services.db.session() as session:
        visit = session.get(Visit, a.booked[0])
        assert visit is not None
        (finding,) = authorization_findings(session, visit, TODAY)
    assert finding.code == "AUTH_MISSING" and finding.blocks
    assert "infliximab" in finding.message.lower() and "J1745" in finding.message and "12/03/2026" in finding.message


def test_medicare_needs_no_authorization(services: Services) -> None:
    a = arrange(services, payer_type=PayerType.MEDICARE)
    assert _findings(services, a.booked[0]) == []


def test_check_in_with_a_covering_authorization(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    auth_id = AuthorizationService(services.db).create(desk, auth_input(a))
    with services.db.session() as session:
        visit = session.get(Visit, a.booked[0])
        assert visit is not None
        covering = covering_authorization(session, visit)
        assert covering is not None and covering.id == auth_id
        assert burn_down(session, covering, TODAY).remaining_units == Decimal(5)
    assert _findings(services, a.booked[0]) == []


def test_not_enough_units_for_todays_dose(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    # 100 - 41 used = 59: enough for 12/03 (37); for 01/28 only 59 - 37 = 22 < 37.
    AuthorizationService(services.db).create(desk, auth_input(a, approved_units="100"))
    assert ("AUTH_UNITS", "error") not in _findings(services, a.booked[0])
    with services.db.session() as session:
        visit = session.get(Visit, a.booked[1])
        assert visit is not None
        units = [f for f in authorization_findings(session, visit, TODAY) if f.code == "AUTH_UNITS"]
    assert units and "only 22 units left, today's dose needs 37" in units[0].message


def test_expired_authorization_at_check_in(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    AuthorizationService(services.db).create(desk, auth_input(a, valid_to=date(2026, 11, 30)))
    # The 12/03 visit falls after the 11/30 end.
    findings = _findings(services, a.booked[0])
    assert findings == [("AUTH_EXPIRED", "error")]


def test_renewal_queue(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    # Ends 12/10: expiring within 14 days of 11/26, and the 01/28 visit is booked past it.
    AuthorizationService(services.db).create(desk, auth_input(a, valid_to=date(2026, 12, 10)))
    with services.db.session() as session:
        (item,) = authorizations_to_renew(session, TODAY)
        codes = [f.code for f in item.findings]
        assert "AUTH_EXPIRING" in codes and "AUTH_OUTSIDE_WINDOW" in codes
        assert "01/28/2027" in item.problem
        assert item.patient_name == "Burndown, Auth" and item.due == date(2026, 12, 3)
        # A renewal covering the later visit clears the outside-window alert and, 60 days
        # out, leaves nothing to renew on the new one.
    AuthorizationService(services.db).create(desk, auth_input(
        a, number="PA-TEST-002", valid_from=date(2026, 12, 11), valid_to=date(2027, 6, 30)))
    with services.db.session() as session:
        items = authorizations_to_renew(session, TODAY)
        assert [i.number for i in items] == ["PA-TEST-001"]
        assert [f.code for f in items[0].findings] == ["AUTH_EXPIRING"]


def test_renewal_queue_uses_a_fixed_number_of_queries(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    AuthorizationService(services.db).create(desk, auth_input(a, valid_to=date(2026, 12, 10)))
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    engine = services.db.engine
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        with services.db.session() as session:
            authorizations_to_renew(session, TODAY)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
    # Authorizations, their codes, the visits in one pass, the latest weight and height.
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) <= 4


def test_visit_for_another_policy_does_not_burn_units(services: Services) -> None:
    a = arrange(services)
    desk = make_actor(services, Role.FRONT_DESK)
    with services.db.session() as session:
        visit = session.get(Visit, a.booked[0])
        assert visit is not None
        visit.policy_id = a.other_policy
    auths = AuthorizationService(services.db)
    auths.create(desk, auth_input(a))
    (row,) = auths.authorizations(desk, a.patient, today=TODAY)
    assert row.burn_down.scheduled_visits == 1


def _row_and_queue_item(services: Services, desk: Actor, auth_id: int):  # noqa: ANN202
    row = AuthorizationService(services.db).get(desk, auth_id, today=TODAY)
    with services.db.session() as session:
        queue = {i.authorization_id: i for i in authorizations_to_renew(session, TODAY)}
    return row, queue.get(auth_id)


def test_uncoded_completed_visits_bill_their_own_weight(services: Services) -> None:
    a = arrange(services)
    # Given but not coded yet: each counts the order's 5 mg/kg dose at the weight taken that day,
    # or the patient's latest weight when none was taken.
    with services.db.session() as session:
        session.add_all([
            _visit(a.patient, a.order, date(2026, 11, 12), VisitStatus.COMPLETED, policy_id=a.policy,
                   weight_kg=Decimal(73)),  # 365 mg -> 37 units
            _visit(a.patient, a.order, date(2026, 11, 17), VisitStatus.COMPLETED, policy_id=a.policy,
                   weight_kg=Decimal("80.5")),  # 402.5 mg -> 41 units
            _visit(a.patient, a.order, date(2026, 11, 18), VisitStatus.COMPLETED, policy_id=a.policy,
                   weight_kg=Decimal("80.5")),  # 41 units
            # no weight that day: the latest on file, 90 kg on 11/21 -> 450 mg -> 45 units
            _visit(a.patient, a.order, date(2026, 11, 20), VisitStatus.COMPLETED),
            # billed to the other policy: not this authorization's (but its weight is the latest)
            _visit(a.patient, a.order, date(2026, 11, 21), VisitStatus.COMPLETED, policy_id=a.other_policy,
                   weight_kg=Decimal(90)),
        ])
    desk = make_actor(services, Role.FRONT_DESK)
    auth_id = AuthorizationService(services.db).create(desk, auth_input(a, approved_units="290"))
    row, item = _row_and_queue_item(services, desk, auth_id)
    bd = row.burn_down
    # 41 coded (11/05) + 37 + 41 + 41 + 45 = 205 used on 5 visits (not the other policy's 11/21);
    # two booked doses at the latest 90 kg: 45 units each = 90; 290 - 205 - 90 = -5.
    assert (bd.used_units, bd.used_visits) == (Decimal(205), 5)
    assert (bd.scheduled_units, bd.remaining_units) == (Decimal(90), Decimal(-5))
    assert item is not None and item.burn_down == bd
    assert [f.code for f in item.findings] == ["AUTH_LOW"]  # 290 - 205 = 85 left < 90 for two doses


def test_queue_counts_a_visit_only_for_the_authorization_whose_code_it_bills(services: Services) -> None:
    a = arrange(services)
    with services.db.session() as session:
        other_drug = add_drug(session, "J3380")
        session.flush()
        other_order = PhysicianOrder(patient_id=a.patient, drug_id=other_drug.id, ordering_provider_id=a.provider,
                                     dose_amount=Decimal(300), dose_unit="mg", dose_basis=DoseBasis.FIXED,
                                     frequency="every 8 weeks", start_date=date(2026, 10, 1), doses_ordered=8,
                                     end_date=date(2027, 9, 30),
                                     diagnoses=[OrderDiagnosis(sequence=1, icd10_code="K5090")])
        session.add(other_order)
        session.flush()
        given = _visit(a.patient, other_order.id, date(2026, 11, 12), VisitStatus.COMPLETED, policy_id=a.policy)
        given.coded_lines = [CodedLine(sequence=1, code="J3380", units=Decimal(300), explanation="test")]
        session.add(given)
    desk = make_actor(services, Role.FRONT_DESK)
    auths = AuthorizationService(services.db)
    # Both end within 14 days, so both are in the queue.
    infliximab = auths.create(desk, auth_input(a, valid_to=date(2026, 12, 10)))
    auths.create(desk, auth_input(a, number="PA-TEST-002", codes=("J3380",), order_id=None,
                                  valid_to=date(2026, 12, 10)))
    row, item = _row_and_queue_item(services, desk, infliximab)
    # The vedolizumab visit billed nothing the infliximab authorization lists.
    assert (row.burn_down.used_visits, row.burn_down.used_units) == (1, Decimal(41))
    assert item is not None and item.burn_down == row.burn_down
