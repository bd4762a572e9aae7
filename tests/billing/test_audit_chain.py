"""The audit chain check on plain records: each way of tampering is named at the right record."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest

from infusion_desk.billing.audit_chain import (
    AuditContent,
    BreakKind,
    ChainRecord,
    canonical_time,
    digest,
    seal,
    verify_chain,
)

START = datetime(2026, 11, 2, 14, 5, 7, 250000, tzinfo=UTC)


def _chain(count: int, first_id: int = 1) -> list[ChainRecord]:
    records: list[ChainRecord] = []
    previous = None
    for n in range(count):
        content = AuditContent(
            START + timedelta(seconds=n), 3, "manager", "view", "patient", str(n), 100 + n, {"n": n}
        )
        record = seal(first_id + n, content, previous)
        records.append(record)
        previous = record.hash
    return records


def test_an_untouched_chain_is_intact_and_reports_its_last_hash() -> None:
    records = _chain(5)
    report = verify_chain(iter(records))
    assert report.intact and report.broken is None
    assert report.text == "Audit trail intact: 5 records"
    assert (report.first_id, report.last_id, report.last_hash) == (1, 5, records[-1].hash)


def test_an_empty_trail_is_intact() -> None:
    report = verify_chain([])
    assert report.intact and report.text == "Audit trail intact: 0 records"
    assert report.last_id is None and report.last_hash is None


def test_an_edited_record_is_named_by_its_own_hash() -> None:
    records = _chain(5)
    records[2] = replace(records[2], content=replace(records[2].content, detail={"n": 99}))
    report = verify_chain(records)
    assert not report.intact
    assert report.broken is not None
    assert (report.broken.record_id, report.broken.kind) == (3, BreakKind.ALTERED)
    assert report.records == 2  # the two before it are fine
    assert "does not match its content" in report.text


@pytest.mark.parametrize("field", ["at", "user_id", "username", "action", "entity", "entity_id", "patient_id"])
def test_every_field_is_covered_by_the_hash(field: str) -> None:
    records = _chain(3)
    changed = {
        "at": START + timedelta(hours=1), "user_id": 4, "username": "nurse", "action": "print",
        "entity": "statement", "entity_id": "77", "patient_id": 5,
    }[field]
    records[1] = replace(records[1], content=replace(records[1].content, **{field: changed}))
    report = verify_chain(records)
    assert report.broken is not None and report.broken.record_id == 2


def test_a_record_whose_hash_was_recomputed_is_caught_at_the_next_record() -> None:
    records = _chain(4)
    forged = replace(records[1].content, action="nothing to see")
    records[1] = seal(2, forged, records[1].previous_hash)
    report = verify_chain(records)
    assert report.broken is not None
    assert (report.broken.record_id, report.broken.kind) == (3, BreakKind.RELINKED)
    assert "record 2 was changed" in report.broken.reason


def test_a_removed_record_names_the_missing_id() -> None:
    records = _chain(5)
    del records[2]  # id 3
    report = verify_chain(records)
    assert report.broken is not None
    assert (report.broken.record_id, report.broken.kind) == (4, BreakKind.REMOVED)
    assert report.text.startswith("Audit trail broken at record 4: record 3 before it is missing")


def test_several_removed_records_are_named_as_a_range() -> None:
    records = _chain(6)
    del records[1:4]  # ids 2, 3, 4
    report = verify_chain(records)
    assert report.broken is not None and report.broken.record_id == 5
    assert "records 2\N{EN DASH}4 before it are missing" in report.broken.reason


def test_removing_the_first_records_is_caught() -> None:
    records = _chain(4)[2:]
    report = verify_chain(records)
    assert report.broken is not None
    assert (report.broken.record_id, report.broken.kind) == (3, BreakKind.START_REMOVED)


def test_ids_that_skip_while_the_hashes_link_are_not_a_break() -> None:
    # PostgreSQL does not give back an id taken by a rolled-back transaction.
    first, second = _chain(2)
    later = seal(7, second.content, first.hash)
    assert verify_chain([first, later]).intact


def test_a_record_without_a_hash_is_a_break() -> None:
    records = _chain(3)
    records[1] = replace(records[1], hash=None)
    report = verify_chain(records)
    assert report.broken is not None and report.broken.record_id == 2
    assert "no hash" in report.broken.reason


def test_records_out_of_order_are_a_programming_error() -> None:
    records = _chain(3)
    with pytest.raises(ValueError, match="increasing id order"):
        verify_chain([records[0], records[0]])


def test_the_timestamp_is_hashed_as_the_same_utc_text_however_it_is_read_back() -> None:
    eastern = timezone(timedelta(hours=-5))
    naive_utc = START.replace(tzinfo=None)  # as SQLite hands it back before the column type marks it UTC
    assert canonical_time(START) == canonical_time(START.astimezone(eastern)) == canonical_time(naive_utc)
    assert canonical_time(START) == "2026-11-02T14:05:07.250000+00:00"
    content = _chain(1)[0].content
    assert digest(content, None) == digest(replace(content, at=START.astimezone(eastern)), None)


def test_records_written_before_verification_existed_still_verify() -> None:
    # The first version of services/audit.py hashed this JSON; its records must keep verifying.
    content = _chain(1)[0].content
    legacy = json.dumps(
        {
            "at": content.at.isoformat(), "user_id": content.user_id, "username": content.username,
            "action": content.action, "entity": content.entity, "entity_id": content.entity_id,
            "patient_id": content.patient_id, "detail": content.detail, "previous_hash": "ab" * 32,
        },
        sort_keys=True,
        default=str,
    )
    assert digest(content, "ab" * 32) == hashlib.sha256(legacy.encode()).hexdigest()
