"""Collections on both engines: the aged worklist, follow-up notes, hand-off to an agency and recall.

Patient-due lines come from a real 835 posted on the demo clinic's exported claims; "today"
is moved past the dates of service so the balances are old.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from infusion_desk.models import ClaimLine, CollectionNote, Statement
from infusion_desk.models.base import utcnow
from infusion_desk.models.enums import LineResponsibility
from infusion_desk.services.app import Services
from infusion_desk.services.collections import CollectionsService
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.plans import PlanInput, PlanService, PlanSettings
from infusion_desk.services.statements import StatementService
from tests.services.test_plans import TODAY, Billed, bill_demo

D = Decimal


@pytest.fixture
def billed(services: Services, tmp_path: Path) -> Billed:
    billed = bill_demo(services, tmp_path)
    first, second, *_ = billed.claims[billed.own]
    billed.adjudicate(first, second)
    return billed


@pytest.fixture
def desk(billed: Billed) -> CollectionsService:
    return CollectionsService(billed.services.db)


def _due_lines(billed: Billed) -> list[ClaimLine]:
    return [line for line in billed.lines() if line.responsibility is LineResponsibility.PATIENT_DUE]


def _oldest(billed: Billed) -> date:
    return min(line.service_date for line in _due_lines(billed))


def test_balances_appear_after_90_days_by_the_oldest_date_of_service_in_two_buckets(
    billed: Billed, desk: CollectionsService
) -> None:
    oldest = _oldest(billed)
    owed = sum((line.patient_responsibility for line in _due_lines(billed)), D("0.00"))
    assert desk.worklist(billed.biller, today=oldest + timedelta(days=90)) == ()

    [row] = desk.worklist(billed.biller, today=oldest + timedelta(days=91))
    assert (row.patient_id, row.age_days, row.bucket) == (billed.own, 91, "91-120")
    assert row.oldest_service_date == oldest
    old = [line for line in _due_lines(billed) if line.service_date < oldest + timedelta(days=1)]
    assert row.amount == sum((line.patient_responsibility for line in old), D("0.00"))
    assert row.total_due == owed and row.last_statement is None and row.last_note is None

    [row] = desk.worklist(billed.biller, today=TODAY + timedelta(days=200))
    assert row.bucket == "over 120" and row.amount == owed


def test_lines_on_an_active_plan_are_never_on_the_worklist_nor_handed_off(
    billed: Billed, desk: CollectionsService
) -> None:
    plans = PlanService(billed.services.db)
    plans.set_settings(billed.manager, PlanSettings(minimum_instalment=D("5.00")))
    due = _due_lines(billed)
    on_plan = tuple(line.id for line in due[:2])
    plans.create(
        billed.frontdesk, billed.own,
        PlanInput(instalments=2, first_due_date=TODAY, interval_days=92, line_ids=on_plan), today=TODAY,
    )
    # one instalment missed by then, under the default limit of two: the plan is still active
    later = TODAY + timedelta(days=95)
    rows = desk.worklist(billed.biller, today=TODAY + timedelta(days=5), min_age_days=30)
    off_plan = [line for line in due if line.id not in on_plan]
    assert [r.patient_id for r in rows] == [billed.own]
    assert rows[0].total_due == sum((line.patient_responsibility for line in off_plan), D("0.00"))

    handed = desk.hand_off(billed.manager, billed.own, "Fictional Recovery Co", today=later)
    states = billed.states()
    assert all(states[line_id] is LineResponsibility.PAYMENT_PLAN for line_id in on_plan)
    assert handed.lines == len(off_plan)
    assert all(states[line.id] is LineResponsibility.IN_COLLECTIONS for line in off_plan)


def test_notes_record_the_follow_up_and_bad_notes_are_refused(billed: Billed, desk: CollectionsService) -> None:
    today = TODAY + timedelta(days=100)
    for note, next_action, field, message in [
        ("  ", None, "note", "Write what was done"),
        ("Called", today - timedelta(days=1), "next_action_date", "cannot be in the past"),
        ("Called", None, "handoff_status", "30 characters"),
    ]:
        with pytest.raises(ValidationFailed) as refused:
            desk.add_note(
                billed.biller, billed.own, note, next_action, today=today,
                handoff_status="x" * 31 if field == "handoff_status" else None,
            )
        assert any(f.subject == field and message in f.message for f in refused.value.findings)
    assert billed.count(CollectionNote) == 0

    with billed.services.db.session() as session:
        session.add(
            Statement(
                patient_id=billed.own, statement_date=TODAY + timedelta(days=30), due_date=TODAY + timedelta(days=51),
                previous_balance=D("0.00"), amount_due=D("10.00"), snapshot={}, created_at=utcnow(),
            )
        )
    desk.add_note(billed.biller, billed.own, "Left a voicemail", today + timedelta(days=7), today=today)
    desk.add_note(
        billed.biller, billed.own, "Patient promised to call back", today + timedelta(days=14), today=today
    )
    [row] = desk.worklist(billed.biller, today=today)
    assert row.last_note == "Patient promised to call back"
    assert row.next_action_date == today + timedelta(days=14)
    assert row.last_statement == TODAY + timedelta(days=30)
    assert [n.note for n in desk.notes(billed.biller, billed.own)] == [
        "Patient promised to call back", "Left a voicemail"
    ]
    assert len(billed.actions("collection_note")) == 2
    with pytest.raises(PermissionDenied):
        desk.add_note(billed.nurse, billed.own, "Called", today=today)


def test_a_manager_hands_the_old_lines_to_an_agency_and_recalls_them(
    billed: Billed, desk: CollectionsService
) -> None:
    oldest = _oldest(billed)
    today = oldest + timedelta(days=91)
    old = [line for line in _due_lines(billed) if line.service_date == oldest]
    newer = [line for line in _due_lines(billed) if line.service_date != oldest]
    with pytest.raises(PermissionDenied):
        desk.hand_off(billed.biller, billed.own, "Fictional Recovery Co", today=today)
    with pytest.raises(ValidationFailed) as no_agency:
        desk.hand_off(billed.manager, billed.own, "  ", today=today)
    assert "agency's name" in str(no_agency.value)
    with pytest.raises(ValidationFailed) as too_new:
        desk.hand_off(billed.manager, billed.own, "Fictional Recovery Co", today=oldest + timedelta(days=30))
    assert "older than 90 days" in str(too_new.value)
    assert all(line.collections_on is None for line in billed.lines())

    handed = desk.hand_off(billed.manager, billed.own, "Fictional Recovery Co", today=today)

    assert handed.lines == len(old) and handed.amount == sum((x.patient_responsibility for x in old), D("0"))
    after = {line.id: line for line in billed.lines()}
    assert all(after[x.id].responsibility is LineResponsibility.IN_COLLECTIONS for x in old)
    assert all(after[x.id].collections_on == today for x in old)
    assert all(after[x.id].responsibility is LineResponsibility.PATIENT_DUE for x in newer)
    [row] = desk.worklist(billed.biller, today=today)
    assert row.handoff_status == "Sent to Fictional Recovery Co" and row.in_collections == handed.amount
    [event] = billed.actions("collections_hand_off")
    assert event.username == "manager" and event.detail["agency"] == "Fictional Recovery Co"
    if not newer:
        preview = StatementService(billed.services.db).preview_run(billed.biller, today=today)
        assert "with collections" in next(r for r in preview.rows if r.patient_id == billed.own).reason

    with pytest.raises(ValidationFailed) as no_reason:
        desk.recall(billed.manager, billed.own, "")
    assert "Say why" in str(no_reason.value)
    recalled = desk.recall(billed.manager, billed.own, "Patient called to pay in full")
    assert recalled.lines == len(old)
    assert all(line.collections_on is None for line in billed.lines())
    assert all(billed.states()[x.id] is LineResponsibility.PATIENT_DUE for x in old)
    assert desk.worklist(billed.biller, today=today)[0].handoff_status == "Recalled"
    with pytest.raises(ValidationFailed) as again:
        desk.recall(billed.manager, billed.own, "again")
    assert "Nothing on this account is with collections" in str(again.value)


def test_a_defaulted_plan_goes_back_to_the_worklist(billed: Billed, desk: CollectionsService) -> None:
    plans = PlanService(billed.services.db)
    plans.create(billed.frontdesk, billed.own, PlanInput(instalments=2, first_due_date=TODAY), today=TODAY)
    assert desk.worklist(billed.biller, today=TODAY + timedelta(days=20)) == ()
    # both instalments missed by then: the plan defaults and its lines are due (and old) again
    rows = desk.worklist(billed.biller, today=TODAY + timedelta(days=60), min_age_days=30)
    assert [r.patient_id for r in rows] == [billed.own]
    assert len(billed.actions("plan_defaulted")) == 1
