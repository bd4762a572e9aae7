"""The front desk's four work queues, on both database engines."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import sqlalchemy as sa

from infusion_desk.models import EligibilityCheck, InsurancePolicy, PhysicianOrder, PriorAuthorization
from infusion_desk.models.enums import Role, SubscriberRelationship
from infusion_desk.services.app import Services
from infusion_desk.services.check_in import Fix
from infusion_desk.services.worklists import Queue, WorklistService
from tests.conftest import make_actor
from tests.services.frontdesk_seed import clinic_today, seed_desk


def test_each_queue_lists_what_needs_fixing_and_nothing_else(services: Services) -> None:
    today = clinic_today()
    clean = seed_desk(services, mrn="DM0000201", last_name="Cleanrecord", day=today + timedelta(days=2))
    unverified = seed_desk(services, mrn="DM0000202", last_name="Noverify", day=today + timedelta(days=3))
    expiring = seed_desk(services, mrn="DM0000203", last_name="Authending", day=today + timedelta(days=4))
    subscriber = seed_desk(services, mrn="DM0000204", last_name="Spousecover", day=today + timedelta(days=5))
    far = seed_desk(services, mrn="DM0000205", last_name="Farfuture", day=today + timedelta(days=20))
    with services.db.session() as session:
        session.execute(sa.delete(EligibilityCheck).where(EligibilityCheck.policy_id.in_(
            [unverified.policy, far.policy])))
        auth = session.get(PriorAuthorization, expiring.authorization)
        assert auth is not None
        auth.valid_to = today + timedelta(days=6)
        order = session.get(PhysicianOrder, expiring.order)
        assert order is not None
        order.end_date = today + timedelta(days=10)
        policy = session.get(InsurancePolicy, subscriber.policy)
        assert policy is not None
        policy.subscriber_relationship = SubscriberRelationship.SPOUSE

    clerk = make_actor(services, Role.FRONT_DESK)
    queues = WorklistService(services.db).queues(clerk, today)

    coverage = queues.queue(Queue.UNVERIFIED_COVERAGE)
    assert [item.mrn for item in coverage] == ["DM0000202"]  # the 20-days-away visit is not due yet
    assert coverage[0].fix is Fix.VERIFY_ELIGIBILITY and coverage[0].target_id == unverified.policy
    assert coverage[0].due == today + timedelta(days=3)
    assert "never been verified" in coverage[0].problem

    authorizations = queues.queue(Queue.AUTHORIZATIONS_TO_RENEW)
    assert "DM0000203" in {item.mrn for item in authorizations}
    item = next(i for i in authorizations if i.mrn == "DM0000203")
    assert item.fix is Fix.AUTHORIZATION and item.target_id == expiring.authorization
    assert "PA-TEST-1" in item.about

    orders = queues.queue(Queue.ORDERS_TO_RENEW)
    assert [i.mrn for i in orders] == ["DM0000203"]
    assert orders[0].fix is Fix.ORDER and orders[0].target_id == expiring.order

    missing = queues.queue(Queue.MISSING_CLAIM_DATA)
    assert {i.mrn for i in missing} == {"DM0000204"}
    assert all(i.fix is Fix.EDIT_POLICY and i.target_id == subscriber.policy for i in missing)
    assert clean.patient not in {i.patient_id for q in Queue for i in queues.queue(q)}


def test_queues_as_json_for_the_command_line(services: Services) -> None:
    today = clinic_today()
    desk = seed_desk(services, day=today + timedelta(days=1))
    with services.db.session() as session:
        session.execute(sa.delete(EligibilityCheck))
        auth = session.get(PriorAuthorization, desk.authorization)
        assert auth is not None
        auth.approved_units = Decimal(40)  # one dose of 35 left: fewer than the next two doses
    clerk = make_actor(services, Role.FRONT_DESK)
    data = json.loads(json.dumps(WorklistService(services.db).queues(clerk, today).to_json()))
    assert data["today"] == today.isoformat()
    assert set(data["queues"]) == {q.value for q in Queue}
    coverage = data["queues"]["unverified_coverage"]["items"]
    assert coverage[0]["mrn"] == "DM0000101" and coverage[0]["fix"] == "verify_eligibility"
    assert coverage[0]["due"] == (today + timedelta(days=1)).isoformat()
    assert data["queues"]["authorizations_to_renew"]["items"][0]["fix"] == "authorization"
