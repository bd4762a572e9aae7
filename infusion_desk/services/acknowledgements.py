"""Importing the clearinghouse's answers (TA1, 999, 277CA) onto our batches and claims.

Each file is kept whole (by its SHA-256), so importing it again changes nothing. A 999
acknowledges our transaction sets: accepted means the batch reached the clearinghouse (its
claims become submitted); rejected sends every claim of the set back to the work queue
with the reason. A 277CA accepts or rejects each claim by its CLM01; an accepted claim
keeps the payer's claim number (REF*1K) for a later correction. Unknown claims or batches
are reported, never guessed at; a malformed file changes nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.claim_lifecycle import can_move
from infusion_desk.billing.findings import error
from infusion_desk.billing.x12 import acknowledgements as acks
from infusion_desk.billing.x12.syntax import X12Error
from infusion_desk.models import Claim, ClaimAcknowledgement, ClaimBatch, InboundFile
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import BatchStatus, ClaimStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.batches import mark_submitted
from infusion_desk.services.claim_data import chunks
from infusion_desk.services.claims import record_transition
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.inbound import read_inbound_file

KIND = "ACK"
MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass
class ImportResult:
    file_name: str
    already_imported: bool = False
    batches_accepted: list[int] = field(default_factory=list)
    batches_rejected: list[int] = field(default_factory=list)
    claims_accepted: list[str] = field(default_factory=list)
    claims_rejected: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def text(self) -> str:
        if self.already_imported:
            return f"{self.file_name}: already imported; nothing changed."
        lines = [f"{self.file_name}:"]
        if self.batches_accepted:
            lines.append(f"  batches acknowledged: {', '.join(map(str, self.batches_accepted))}")
        if self.batches_rejected:
            lines.append(f"  batches REJECTED: {', '.join(map(str, self.batches_rejected))}")
        if self.claims_accepted:
            lines.append(f"  {len(self.claims_accepted)} claim(s) accepted")
        for number, reason in self.claims_rejected:
            lines.append(f"  claim {number} REJECTED: {reason}")
        lines.extend(f"  not ours or not found: {u}" for u in self.unknown)
        lines.extend(f"  note: {p}" for p in self.problems)
        if len(lines) == 1:
            lines.append("  nothing in it concerned our claims.")
        return "\n".join(lines)


def _reject(session: Session, claim: Claim, actor: Actor, reason: str, result: ImportResult) -> None:
    if claim.status is ClaimStatus.REJECTED:
        return
    if not can_move(claim.status, ClaimStatus.REJECTED):
        result.problems.append(
            f"claim {claim.claim_number} is {claim.status.value.replace('_', ' ')}; "
            "the rejection was recorded but its status was left alone."
        )
        return
    record_transition(session, claim, ClaimStatus.REJECTED, actor, reason)
    result.claims_rejected.append((claim.claim_number, reason))


def _reject_batch(
    session: Session,
    actor: Actor,
    inbound: InboundFile,
    batch: ClaimBatch,
    code: str,
    message: str,
    reason: str,
    result: ImportResult,
) -> None:
    """The whole batch was refused: record it, and send each of its claims back with ``reason``."""
    session.add(
        ClaimAcknowledgement(
            inbound_file_id=inbound.id, batch_id=batch.id, accepted=False, status_code=code, message=message
        )
    )
    batch.status = BatchStatus.REJECTED
    result.batches_rejected.append(batch.id)
    for claim in batch.claims:
        _reject(session, claim, actor, reason, result)


class AcknowledgementService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def import_file(self, actor: Actor, path: Path) -> ImportResult:
        actor.require(Permission.BATCH_EXPORT)
        text = read_inbound_file(path, MAX_FILE_BYTES, "an acknowledgement file")
        return self.import_text(actor, text, path.name)

    def import_text(self, actor: Actor, text: str, file_name: str) -> ImportResult:
        actor.require(Permission.BATCH_EXPORT)
        result = ImportResult(file_name)
        try:
            parsed = acks.read_acknowledgements(text)
        except X12Error as exc:
            raise ValidationFailed(
                [
                    error(
                        "X12",
                        f"{file_name} is not a readable acknowledgement file: {exc}. Nothing was "
                        "changed; download the file again from the clearinghouse.",
                        "file",
                    )
                ]
            ) from exc
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self._db.session() as session:
            if session.scalar(
                sa.select(InboundFile.id).where(InboundFile.kind == KIND, InboundFile.sha256 == digest)
            ):
                result.already_imported = True
                return result
            inbound = InboundFile(
                kind=KIND, file_name=file_name[:200], sha256=digest, content=text, received_at=utcnow()
            )
            session.add(inbound)
            session.flush()
            result.problems.extend(parsed.problems)
            for ta1 in parsed.interchange_acks:
                self._ta1(session, actor, inbound, ta1, result)
            for group in parsed.group_acks:
                self._999(session, actor, inbound, group, result)
            for level in parsed.batch_acks:
                self._277ca_level(session, actor, inbound, level, result)
            if parsed.claim_acks:
                self._277ca(session, actor, inbound, parsed.claim_acks, result)
            inbound.processed_at = utcnow()
            audit.record(
                session,
                actor,
                "import_acknowledgement",
                "inbound_file",
                inbound.id,
                detail={
                    "file": file_name,
                    "accepted": len(result.claims_accepted),
                    "rejected": len(result.claims_rejected),
                    "unknown": len(result.unknown),
                },
            )
        return result

    @staticmethod
    def _ta1(
        session: Session, actor: Actor, inbound: InboundFile, ta1: acks.InterchangeAck, result: ImportResult
    ) -> None:
        batch = session.scalar(
            sa.select(ClaimBatch).where(ClaimBatch.interchange_control_number == ta1.control_number)
        )
        if batch is None:
            result.unknown.append(f"interchange {ta1.control_number:09d} (TA1)")
            return
        code = f"TA1 {ta1.note_code}"
        if not ta1.accepted:
            _reject_batch(
                session,
                actor,
                inbound,
                batch,
                code,
                ta1.message,
                f"The clearinghouse rejected the whole file: {ta1.message}",
                result,
            )
            return
        session.add(
            ClaimAcknowledgement(
                inbound_file_id=inbound.id,
                batch_id=batch.id,
                accepted=True,
                status_code=code,
                message=ta1.message,
            )
        )
        mark_submitted(session, batch, actor, f"Interchange acknowledged (TA1): {ta1.message}")

    @staticmethod
    def _999(
        session: Session, actor: Actor, inbound: InboundFile, group: acks.GroupAck, result: ImportResult
    ) -> None:
        if group.functional_id.upper() != "HC":
            result.problems.append(f"a 999 for a {group.functional_id} group (not claims) was skipped.")
            return
        candidates = list(
            session.scalars(
                sa.select(ClaimBatch).where(ClaimBatch.group_control_number == group.group_control_number)
            )
        )
        if not candidates:
            result.unknown.append(f"functional group {group.group_control_number} (999)")
            return
        if not group.transactions and not group.accepted:
            for batch in candidates:
                _reject_batch(
                    session,
                    actor,
                    inbound,
                    batch,
                    f"999 {group.status}",
                    group.message,
                    f"The clearinghouse rejected the file this claim was in (999): {group.message}",
                    result,
                )
            return
        for set_ack in group.transactions:
            try:
                control = int(set_ack.control_number)
            except ValueError:
                control = -1
            batch = next((b for b in candidates if b.transaction_control_number == control), None)
            if batch is None and len(candidates) == 1 and len(group.transactions) == 1:
                batch = candidates[0]
            if batch is None:
                result.unknown.append(
                    f"transaction set {set_ack.control_number} of group {group.group_control_number} (999)"
                )
                continue
            session.add(
                ClaimAcknowledgement(
                    inbound_file_id=inbound.id,
                    batch_id=batch.id,
                    accepted=set_ack.accepted,
                    status_code=f"999 {set_ack.status}",
                    message=set_ack.message,
                )
            )
            if set_ack.accepted:
                mark_submitted(
                    session, batch, actor, f"Clearinghouse accepted the file (999 {set_ack.status})"
                )
                if batch.status in (BatchStatus.SUBMITTED, BatchStatus.EXPORTED):
                    batch.status = BatchStatus.ACKNOWLEDGED
                result.batches_accepted.append(batch.id)
                continue
            batch.status = BatchStatus.REJECTED
            result.batches_rejected.append(batch.id)
            by_claim = {e.claim_number: e.message for e in set_ack.errors if e.claim_number}
            for claim in batch.claims:
                reason = by_claim.get(claim.claim_number)
                text = (
                    f"The clearinghouse rejected the file (999): {reason}"
                    if reason
                    else f"The clearinghouse rejected the file this claim was in (999): {set_ack.message}"
                )
                _reject(session, claim, actor, text, result)

    @staticmethod
    def _277ca_level(
        session: Session, actor: Actor, inbound: InboundFile, level: acks.BatchAck, result: ImportResult
    ) -> None:
        """A 277CA verdict above the claims: the submitter level names our file by its BHT03."""
        if level.accepted is not False:
            return
        batch = _batch_for_trace(session, level.trace) if level.level == "submitter" else None
        if batch is None:
            result.problems.append(f"the 277CA rejected at the {level.level} level: {level.message}")
            return
        _reject_batch(
            session,
            actor,
            inbound,
            batch,
            "277CA",
            level.message,
            f"The payer's front end rejected the whole file (277CA): {level.message}",
            result,
        )

    @staticmethod
    def _277ca(
        session: Session,
        actor: Actor,
        inbound: InboundFile,
        claim_acks: Sequence[acks.ClaimAck],
        result: ImportResult,
    ) -> None:
        numbers = sorted({a.claim_number.upper() for a in claim_acks})
        claims: dict[str, Claim] = {}
        for chunk in chunks(numbers):
            claims.update(
                (c.claim_number, c)
                for c in session.scalars(sa.select(Claim).where(Claim.claim_number.in_(chunk)))
            )
        for ack in claim_acks:
            claim = claims.get(ack.claim_number.upper())
            message = "; ".join(s.message for s in ack.statuses) or (
                "accepted" if ack.accepted else "rejected"
            )
            if claim is None:
                result.unknown.append(f"claim {ack.claim_number} (277CA)")
                continue
            session.add(
                ClaimAcknowledgement(
                    inbound_file_id=inbound.id,
                    claim_id=claim.id,
                    batch_id=claim.batch_id,
                    accepted=ack.accepted,
                    status_code=(
                        f"{ack.statuses[0].category}:{ack.statuses[0].code}"[:20] if ack.statuses else None
                    ),
                    message=message,
                )
            )
            if ack.payer_claim_control_number:
                claim.payer_claim_control_number = ack.payer_claim_control_number
            if not ack.accepted:
                _reject(
                    session, claim, actor, f"Rejected by the payer's front end (277CA): {message}", result
                )
                continue
            if claim.status is ClaimStatus.ACCEPTED:
                continue
            if claim.status is ClaimStatus.BATCHED:
                batch = session.get(ClaimBatch, claim.batch_id) if claim.batch_id else None
                if batch is not None:
                    mark_submitted(session, batch, actor, "Acknowledged by the clearinghouse (277CA)")
            if can_move(claim.status, ClaimStatus.ACCEPTED):
                record_transition(session, claim, ClaimStatus.ACCEPTED, actor, f"Accepted (277CA): {message}")
                result.claims_accepted.append(claim.claim_number)
            else:
                result.problems.append(
                    f"claim {claim.claim_number} is {claim.status.value.replace('_', ' ')}; its 277CA "
                    "acceptance was recorded but its status was left alone."
                )


def _batch_for_trace(session: Session, trace: str | None) -> ClaimBatch | None:
    """Our batch whose 837 BHT03 (``B`` + the interchange number) a 277CA's 2200B TRN02 repeats."""
    text = (trace or "").strip().upper()
    if not text.startswith("B") or not text[1:].isdigit():
        return None
    return session.scalar(sa.select(ClaimBatch).where(ClaimBatch.interchange_control_number == int(text[1:])))


def batch_acknowledgement_text(session: Session, batch_ids: Sequence[int]) -> dict[int, str]:
    """For each batch, what the clearinghouse said so far in a few words."""
    out: dict[int, list[str]] = {}
    claim_counts: dict[int, list[int]] = {}
    for chunk in chunks(sorted(batch_ids)):
        for batch_id, code, accepted, claim_id in session.execute(
            sa.select(
                ClaimAcknowledgement.batch_id,
                ClaimAcknowledgement.status_code,
                ClaimAcknowledgement.accepted,
                ClaimAcknowledgement.claim_id,
            )
            .where(ClaimAcknowledgement.batch_id.in_(chunk))
            .order_by(ClaimAcknowledgement.id)
        ):
            if claim_id is None:
                out.setdefault(batch_id, []).append(
                    f"{(code or '').split(' ')[0]} {'accepted' if accepted else 'REJECTED'}"
                )
            else:
                counts = claim_counts.setdefault(batch_id, [0, 0])
                counts[0 if accepted else 1] += 1
    for batch_id, (ok, bad) in claim_counts.items():
        out.setdefault(batch_id, []).append(f"277CA {ok} accepted, {bad} rejected")
    return {batch_id: "; ".join(parts) for batch_id, parts in out.items()}
