"""The audit trail's hash chain: sealing a record, and finding the first record altered or removed.

    >>> from dataclasses import replace
    >>> from datetime import UTC, datetime
    >>> at = datetime(2026, 11, 2, 14, 5, 7, 250000, tzinfo=UTC)
    >>> first = seal(1, AuditContent(at, 3, "manager", "view", "patient", "12", 12, {}), None)
    >>> second = seal(2, AuditContent(at, 3, "manager", "print", "statement", "40", 12, {}), first.hash)
    >>> verify_chain([first, second]).text
    'Audit trail intact: 2 records'
    >>> edited = replace(second, content=replace(second.content, action="view"))
    >>> print(verify_chain([first, edited]).text)
    Audit trail broken at record 2: its hash does not match its content (it was changed after it was written).
    >>> third = seal(3, AuditContent(at, 3, "manager", "export", "claim_batch", "9", 12, {}), second.hash)
    >>> print(verify_chain([first, third]).broken)
    ChainBreak(record_id=3, kind=<BreakKind.REMOVED: 'removed'>, reason="record 2 before it is missing (...)")

Each record's hash covers its content and the hash of the record before it, so:

* **an edited record** no longer matches its own hash; it is named;
* **an edited record whose hash was recomputed** no longer matches the next record's
  ``previous_hash``; the next record is named, with the one before it as the suspect;
* **removed records** leave the next record pointing at a hash that is not its
  predecessor's; when the ids skip, the missing ids are named;
* **removed first records** leave the first remaining record pointing at something
  (the very first record points at nothing).

Ids may skip without anything removed: PostgreSQL does not give back an id taken by a
transaction that rolled back. A skip whose hashes still link is therefore not a break.
What the chain alone cannot show is the *last* records removed, or the whole trail
rewritten from some point on with fresh hashes; :attr:`ChainReport.last_hash` is the value
to note down (or print) and compare at the next check.

Timestamps are hashed as UTC ISO 8601 (``2026-11-02T14:05:07.250000+00:00``), the same text
whichever database stored them, and the detail as JSON with sorted keys.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

__all__ = [
    "AuditContent",
    "BreakKind",
    "ChainBreak",
    "ChainRecord",
    "ChainReport",
    "canonical_time",
    "digest",
    "seal",
    "verify_chain",
]


@dataclass(frozen=True, slots=True)
class AuditContent:
    """What one audit record says: when, who, what was done to which record of which patient."""

    at: datetime
    user_id: int | None
    username: str | None
    action: str
    entity: str
    entity_id: str | None
    patient_id: int | None
    detail: Mapping[str, object]


@dataclass(frozen=True, slots=True)
class ChainRecord:
    """A stored audit record as read back: its id, content and the two hashes."""

    id: int
    content: AuditContent
    previous_hash: str | None
    hash: str | None


class BreakKind(StrEnum):
    ALTERED = "altered"
    """The record's hash does not match its content."""
    RELINKED = "relinked"
    """The record's previous hash is not the hash of the record before it (ids contiguous)."""
    REMOVED = "removed"
    """Records before this one are missing: ids skip and the hashes do not link."""
    START_REMOVED = "start_removed"
    """The first record there is points at a previous record: the first ones were removed."""


@dataclass(frozen=True, slots=True)
class ChainBreak:
    record_id: int
    kind: BreakKind
    reason: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of a check: how many records were checked, and the first break if any."""

    records: int
    first_id: int | None
    last_id: int | None
    last_hash: str | None
    broken: ChainBreak | None = None

    @property
    def intact(self) -> bool:
        return self.broken is None

    @property
    def text(self) -> str:
        if self.broken is None:
            return f"Audit trail intact: {self.records} records"
        return f"Audit trail broken at record {self.broken.record_id}: {self.broken.reason}."


def canonical_time(at: datetime) -> str:
    """The timestamp as hashed: UTC ISO 8601 (a naive value is taken as UTC, as SQLite stores it)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return at.astimezone(UTC).isoformat()


def digest(content: AuditContent, previous_hash: str | None) -> str:
    """The SHA-256 (hex) of the record's content and the previous record's hash."""
    payload = json.dumps(
        {
            "at": canonical_time(content.at),
            "user_id": content.user_id,
            "username": content.username,
            "action": content.action,
            "entity": content.entity,
            "entity_id": content.entity_id,
            "patient_id": content.patient_id,
            "detail": content.detail,
            "previous_hash": previous_hash,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def seal(record_id: int, content: AuditContent, previous_hash: str | None) -> ChainRecord:
    """The record as written after ``previous_hash``, with its hash."""
    return ChainRecord(record_id, content, previous_hash, digest(content, previous_hash))


def _ids(first: int, last: int) -> str:
    if first == last:
        return f"record {first} before it is missing"
    return f"records {first}\N{EN DASH}{last} before it are missing"


def _link_break(record: ChainRecord, before: ChainRecord | None) -> ChainBreak | None:
    if before is None:
        if record.previous_hash is None:
            return None
        return ChainBreak(
            record.id, BreakKind.START_REMOVED,
            "the records before it were removed (it points at a previous record that is not there)",
        )
    if record.previous_hash == before.hash:
        return None
    if record.id > before.id + 1:
        missing = _ids(before.id + 1, record.id - 1)
        return ChainBreak(
            record.id, BreakKind.REMOVED, f"{missing} (its previous hash is not record {before.id}'s hash)"
        )
    return ChainBreak(
        record.id, BreakKind.RELINKED,
        f"its previous hash does not match record {before.id} before it "
        f"(record {before.id} was changed and given a new hash, or records between them were removed)",
    )


def verify_chain(records: Iterable[ChainRecord]) -> ChainReport:
    """Walk ``records`` in id order and report the first one altered or preceded by a removal.

    ``records`` may be a generator reading the table in batches: only two records are held
    at a time. The walk stops at the first break.
    """
    before: ChainRecord | None = None
    first_id: int | None = None
    count = 0
    for record in records:
        if before is not None and record.id <= before.id:
            raise ValueError(f"records must come in increasing id order ({record.id} after {before.id})")
        if first_id is None:
            first_id = record.id
        if record.hash is None or digest(record.content, record.previous_hash) != record.hash:
            reason = (
                "it has no hash (it was not written by Infusion Desk, or its hash was erased)"
                if record.hash is None
                else "its hash does not match its content (it was changed after it was written)"
            )
            return ChainReport(
                count, first_id, before.id if before else None, before.hash if before else None,
                ChainBreak(record.id, BreakKind.ALTERED, reason),
            )
        broken = _link_break(record, before)
        if broken is not None:
            return ChainReport(
                count, first_id, before.id if before else None, before.hash if before else None, broken
            )
        count += 1
        before = record
    return ChainReport(count, first_id, before.id if before else None, before.hash if before else None)
