"""Claim batches: ready claims become 837P files for the clearinghouse, safely.

One export writes one file per batch of at most the profile's claims-per-file, each one
interchange. The order of steps is what keeps the books straight when something fails:

1. the interchange, group and transaction control numbers are taken in their own committed
   transaction, so they are never handed out twice, even if the export then fails;
2. the claims are scrubbed again (a record may have changed since), the file is rendered and
   written to a temporary file next to its destination, and the batch with its exact content
   is recorded and the claims marked batched, in one transaction;
3. only then is the temporary file renamed to its final name, so a half-written file never
   carries a name the clearinghouse portal would pick up.

If the process dies between steps 2 and 3 (killed, power cut), the batch is recorded and its
file waits under its hidden temporary name: the next export to that folder writes the batch's
file from its stored content and removes the temporary file, before exporting anything else.

A batch is *submitted* when the user confirms the upload (or the clearinghouse's 999
acknowledges it), never because a file was written. Re-exporting a batch writes the stored
content again, byte for byte.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.billing.findings import error, warning
from infusion_desk.billing.x12.claims837 import Receiver, Submitter, write_837p
from infusion_desk.billing.x12.envelope import Parties
from infusion_desk.models import Claim, ClaimBatch, ClearinghouseProfile, Payer, User
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import BatchStatus, ClaimStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.bulk import collector_paused
from infusion_desk.services.claim_data import load_clinic
from infusion_desk.services.claims import clinic_today, record_transitions, scrub_claims
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.control_numbers import GROUP, INTERCHANGE, next_control_number
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.uploads import UploadResult

TRANSACTION_837 = "transaction.837"
"""ST02 counter for claim files (its own series: 270s count separately)."""

Progress = Callable[[int, int], None]
_TEMPORARY = re.compile(r"\.(?P<name>.+)\.[A-Za-z0-9_]+\.part")
"""A temporary file of :func:`write_temporary`: ``.{final name}.{random}.part``."""


@dataclass(frozen=True, slots=True)
class ExportedFile:
    batch_id: int
    path: Path
    claims: int
    interchange_control_number: int


@dataclass(frozen=True, slots=True)
class ExportSummary:
    files: tuple[ExportedFile, ...]
    held_back: tuple[str, ...]
    """Claims that failed the last-minute scrub: number and first error."""
    cancelled: bool

    def text(self) -> str:
        if not self.files and not self.held_back:
            return "No claims are ready to export."
        lines = [f"{len(self.files)} file(s) written, {sum(f.claims for f in self.files)} claim(s):"]
        lines.extend(f"  {f.path}" for f in self.files)
        if self.held_back:
            lines.append(f"{len(self.held_back)} claim(s) held back because they no longer pass the scrub:")
            lines.extend(f"  {h}" for h in self.held_back)
        if self.cancelled:
            lines.append("Export cancelled; the remaining claims stay ready.")
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class BatchRow:
    id: int
    status: BatchStatus
    profile: str
    file_name: str | None
    claims: int
    interchange_control_number: int | None
    exported_at: datetime | None
    submitted_at: datetime | None
    exported_by: str
    acknowledgements: str
    """What the clearinghouse said so far, in a few words."""


class ExportCancelled(Exception):
    pass


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "", text)[:20] or "CLEARINGHOUSE"


def file_name(pattern: str, profile: str, icn: int, day: date) -> str:
    """The file's name from the profile's pattern; the interchange number keeps it unique.

    >>> file_name("{profile}_{icn}.837", "Demo Clearinghouse", 12, date(2026, 11, 27))
    'DemoClearinghouse_000000012.837'
    """
    try:
        name = pattern.format(profile=_safe(profile), icn=f"{icn:09d}", date=f"{day:%Y%m%d}")
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationFailed(
            [
                error(
                    "FILE_NAME",
                    f"The file name pattern {pattern!r} is not valid ({exc}). Use {{profile}}, "
                    "{icn} and {date}, for example {profile}_{icn}.837.",
                    "file_name_pattern",
                )
            ]
        ) from exc
    if "{icn}" not in pattern or "/" in name or "\\" in name or name.startswith("."):
        raise ValidationFailed(
            [
                error(
                    "FILE_NAME",
                    f"The file name pattern {pattern!r} must contain {{icn}} (so every file has "
                    "its own name) and no folder separators.",
                    "file_name_pattern",
                )
            ]
        )
    return name


def write_temporary(path: Path, data: bytes) -> Path:
    """``data`` written and flushed to disk in a hidden temporary file beside ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    return Path(temp)


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename."""
    temp = write_temporary(path, data)
    try:
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _profile(session: Session, name: str | None) -> ClearinghouseProfile:
    stmt = sa.select(ClearinghouseProfile).order_by(ClearinghouseProfile.id)
    if name:
        stmt = stmt.where(ClearinghouseProfile.name == name)
    profile = session.scalars(stmt.limit(1)).first()
    if profile is None:
        known = ", ".join(session.scalars(sa.select(ClearinghouseProfile.name))) or "none yet"
        what = (
            f"There is no clearinghouse named {name!r} (known: {known})."
            if name
            else ("No clearinghouse is set up.")
        )
        raise ValidationFailed(
            [error("CLEARINGHOUSE", f"{what} Set one up in File → Clearinghouse….", "clearinghouse")]
        )
    return profile


def _routed_to(session: Session, profile: ClearinghouseProfile) -> sa.ColumnElement[bool]:
    default_id = session.scalar(sa.select(sa.func.min(ClearinghouseProfile.id)))
    route = Payer.clearinghouse_profile_id == profile.id
    if default_id == profile.id:
        route = sa.or_(route, Payer.clearinghouse_profile_id.is_(None))
    return route


class BatchService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def ready_count(self, actor: Actor, clearinghouse: str | None = None) -> int:
        actor.require(Permission.BATCH_EXPORT)
        with self._db.session() as session:
            profile = _profile(session, clearinghouse)
            return int(
                session.scalar(
                    sa.select(sa.func.count(Claim.id))
                    .join(Payer, Payer.id == Claim.payer_id)
                    .where(Claim.status == ClaimStatus.READY, _routed_to(session, profile))
                )
                or 0
            )

    def export(
        self,
        actor: Actor,
        *,
        clearinghouse: str | None = None,
        out_dir: Path | None = None,
        claim_ids: Sequence[int] | None = None,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
        today: date | None = None,
    ) -> ExportSummary:
        """Every ready claim routed to the clearinghouse (or just ``claim_ids``) into 837P files."""
        actor.require(Permission.BATCH_EXPORT)
        with self._db.session() as session:
            profile = _profile(session, clearinghouse)
            folder = out_dir or (Path(profile.export_folder) if profile.export_folder else None)
            if folder is None:
                raise ValidationFailed(
                    [
                        error(
                            "EXPORT_FOLDER",
                            "Choose the folder to write the claim files to (the one you upload "
                            "from on the clearinghouse's portal).",
                            "export_folder",
                        )
                    ]
                )
            stmt = (
                sa.select(Claim.id)
                .join(Payer, Payer.id == Claim.payer_id)
                .where(Claim.status == ClaimStatus.READY, _routed_to(session, profile))
                .order_by(Claim.id)
            )
            if claim_ids is not None:
                stmt = stmt.where(Claim.id.in_(list(claim_ids)))
            ids = list(session.scalars(stmt))
            if claim_ids is not None and len(ids) < len(set(claim_ids)):
                not_ready = sorted(set(claim_ids) - set(ids))
                numbers = list(session.scalars(sa.select(Claim.claim_number).where(Claim.id.in_(not_ready))))
                raise ValidationFailed(
                    [
                        error(
                            "NOT_READY",
                            f"Only ready claims for {profile.name} can be exported; "
                            f"{', '.join(numbers) or 'some claims'} are not.",
                            "claims",
                        )
                    ]
                )
            per_file = max(1, profile.claims_per_file)
            profile_id, pattern, name = profile.id, profile.file_name_pattern, profile.name
            file_name(pattern, name, 1, date(2000, 1, 1))  # refuse a bad pattern before anything is taken
        folder = Path(folder)
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ValidationFailed(
                [error("EXPORT_FOLDER", f"Cannot use the folder {folder}: {exc.strerror}.", "export_folder")]
            ) from exc
        self._finish_interrupted(folder)
        chunks = [ids[i : i + per_file] for i in range(0, len(ids), per_file)]
        files: list[ExportedFile] = []
        held: list[str] = []
        done = 0
        was_cancelled = False
        for chunk in chunks:
            if cancelled is not None and cancelled():
                was_cancelled = True
                break
            with collector_paused():
                exported = self._export_chunk(actor, profile_id, folder, chunk, held, today)
            if exported is not None:
                files.append(exported)
            done += len(chunk)
            if progress is not None:
                progress(done, len(ids))
        return ExportSummary(tuple(files), tuple(held), was_cancelled)

    def _finish_interrupted(self, folder: Path) -> None:
        """Write the files of recorded batches whose export stopped before the rename (see above).

        Temporary files of batches never recorded (the export died before its commit) are left:
        their names are hidden and end in ``.part``, so nothing takes them for a batch.
        """
        waiting: dict[str, list[Path]] = {}
        for temp in folder.glob(".*.part"):
            found = _TEMPORARY.fullmatch(temp.name)
            if found:
                waiting.setdefault(found["name"], []).append(temp)
        if not waiting:
            return
        with self._db.session() as session:
            recorded = session.execute(
                sa.select(ClaimBatch.file_name, ClaimBatch.content, ClaimBatch.file_sha256).where(
                    ClaimBatch.file_name.in_(list(waiting)), ClaimBatch.content.is_not(None)
                )
            ).all()
        for name, content, digest in recorded:
            data = content.encode("ascii")
            path = folder / name
            if not path.exists() and hashlib.sha256(data).hexdigest() == digest:
                write_atomically(path, data)
            for temp in waiting[name]:
                temp.unlink(missing_ok=True)

    def _export_chunk(
        self,
        actor: Actor,
        profile_id: int,
        folder: Path,
        claim_ids: list[int],
        held: list[str],
        today: date | None,
    ) -> ExportedFile | None:
        with self._db.session() as session:
            icn = next_control_number(session, INTERCHANGE)
            gcn = next_control_number(session, GROUP)
            tcn = next_control_number(session, TRANSACTION_837)
        with self._db.session() as session:
            profile = session.get(ClearinghouseProfile, profile_id)
            assert profile is not None
            day = today or clinic_today(session)
            claims = list(
                session.scalars(
                    sa.select(Claim)
                    .where(Claim.id.in_(claim_ids), Claim.status == ClaimStatus.READY)
                    .order_by(Claim.id)
                    .with_for_update()
                )
            )
            data: dict[int, ClaimData] = {}
            findings = scrub_claims(session, claims, actor, day, data)
            for claim in claims:
                blocking = [f for f in findings[claim.id] if f.blocks]
                if blocking:
                    held.append(f"{claim.claim_number}: {blocking[0].message}")
            claims = [c for c in claims if c.status is ClaimStatus.READY]
            if not claims:
                return None
            clinic = load_clinic(session)
            created = datetime.now(clinic_timezone(session)).replace(tzinfo=None, second=0, microsecond=0)
            text = render_batch(
                profile,
                [data[c.id] for c in claims],
                clinic.name,
                clinic.phone or "",
                icn,
                gcn,
                tcn,
                created,
            )
            content = text.encode("ascii")
            name = file_name(profile.file_name_pattern, profile.name, icn, created.date())
            batch = ClaimBatch(
                profile_id=profile.id,
                status=BatchStatus.EXPORTED,
                interchange_control_number=icn,
                group_control_number=gcn,
                transaction_control_number=tcn,
                file_name=name,
                file_sha256=hashlib.sha256(content).hexdigest(),
                content=text,
                exported_at=utcnow(),
                created_by_id=actor.user_id,
            )
            session.add(batch)
            session.flush()
            record_transitions(
                session,
                [(claim, ClaimStatus.BATCHED, f"Exported in file {name}") for claim in claims],
                actor,
                batch_id=batch.id,
            )
            audit.record(
                session,
                actor,
                "export_batch",
                "claim_batch",
                batch.id,
                detail={"file": name, "claims": len(claims), "interchange": icn},
            )
            audit.record_patients(
                session, actor, "export", "claim_batch", batch.id, [c.patient_id for c in claims]
            )
            path = folder / name
            if path.exists():
                raise ValidationFailed(
                    [
                        error(
                            "FILE_EXISTS",
                            f"{path} already exists; move it away or choose another folder.",
                            "export_folder",
                        )
                    ]
                )
            temp = write_temporary(path, content)
            count = len(claims)
            batch_id = batch.id
            try:
                session.commit()
            except BaseException:
                temp.unlink(missing_ok=True)
                raise
        try:
            os.replace(temp, path)
        except OSError as exc:
            temp.unlink(missing_ok=True)
            raise ValidationFailed(
                [
                    error(
                        "WRITE_FAILED",
                        f"Batch {batch_id} was recorded but its file could not be written to "
                        f"{path} ({exc.strerror}). Fix the folder, then use Re-export on the batch.",
                        "export_folder",
                    )
                ]
            ) from exc
        return ExportedFile(batch_id, path, count, icn)

    def reexport(self, actor: Actor, batch_id: int, out_dir: Path) -> Path:
        """Write a batch's file again, byte for byte as it was first exported."""
        actor.require(Permission.BATCH_EXPORT)
        with self._db.session() as session:
            batch = session.get(ClaimBatch, batch_id)
            if batch is None or batch.content is None or batch.file_name is None:
                raise NotFound(f"Batch {batch_id} has no exported file.")
            content = batch.content.encode("ascii")
            if hashlib.sha256(content).hexdigest() != batch.file_sha256:
                raise ValidationFailed(
                    [
                        error(
                            "BATCH_CHANGED",
                            f"Batch {batch_id}'s stored file no longer matches its checksum; "
                            "it will not be written. Report this to your administrator.",
                            "batch",
                        )
                    ]
                )
            path = Path(out_dir) / batch.file_name
            write_atomically(path, content)
            audit.record(
                session, actor, "reexport_batch", "claim_batch", batch.id, detail={"path": str(path)}
            )
            patients = session.scalars(sa.select(Claim.patient_id).where(Claim.batch_id == batch.id))
            audit.record_patients(session, actor, "export", "claim_batch", batch.id, patients)
            return path

    def upload(
        self,
        actor: Actor,
        batch_ids: Sequence[int],
        *,
        secret: str | None,
        key_file: Path | None = None,
        known_hosts: Path | None = None,
        trust_new_host: bool = False,
        progress: Progress | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> UploadResult:
        """Send exported batches' files to the clearinghouse by SFTP; each one that arrives is submitted.

        The stored content is what is sent (checked against its checksum), so the upload is
        exactly the file that was exported. Batches that arrived before a failure are still
        marked submitted; the failure is then raised with its own message.
        """
        from infusion_desk.services.clearinghouse import load_profile
        from infusion_desk.services.uploads import UploadFailed, target_for, upload_files

        actor.require(Permission.BATCH_EXPORT)
        with self._db.session() as session:
            profile = load_profile(session)
            if profile is None:
                raise ValidationFailed(
                    [error("CLEARINGHOUSE", "No clearinghouse is set up.", "clearinghouse")]
                )
            target = target_for(profile, key_file)
            batches = list(
                session.scalars(
                    sa.select(ClaimBatch).where(ClaimBatch.id.in_(list(batch_ids))).order_by(ClaimBatch.id)
                )
            )
            not_exported = [
                b.id for b in batches if b.status is not BatchStatus.EXPORTED or b.content is None
            ]
            if len(batches) != len(set(batch_ids)) or not_exported:
                raise ValidationFailed(
                    [
                        error(
                            "NOT_EXPORTED",
                            "Only exported batches not yet submitted can be uploaded"
                            + (
                                f" (batch {', '.join(map(str, not_exported))} is not)."
                                if not_exported
                                else "."
                            ),
                            "batch",
                        )
                    ]
                )
            contents = {}
            for batch in batches:
                assert batch.content is not None and batch.file_name is not None
                data = batch.content.encode("ascii")
                if hashlib.sha256(data).hexdigest() != batch.file_sha256:
                    raise ValidationFailed(
                        [
                            error(
                                "BATCH_CHANGED",
                                f"Batch {batch.id}'s stored file no longer matches its checksum; "
                                "it will not be sent. Report this to your administrator.",
                                "batch",
                            )
                        ]
                    )
                contents[batch.id] = (batch.file_name, data)
        with tempfile.TemporaryDirectory(prefix="infusion-desk-upload-") as folder:
            paths = []
            by_name: dict[str, int] = {}
            for batch_id, (name, data) in contents.items():
                path = Path(folder) / name
                path.write_bytes(data)
                paths.append(path)
                by_name[name] = batch_id
            failure: UploadFailed | None = None
            try:
                result = upload_files(
                    target,
                    secret,
                    paths,
                    known_hosts=known_hosts,
                    trust_new_host=trust_new_host,
                    progress=progress,
                    cancelled=cancelled,
                )
                arrived = result.remote_paths
            except UploadFailed as exc:
                failure = exc
                arrived = tuple(exc.uploaded)
                result = UploadResult(arrived)
        if arrived:
            with self._db.session() as session:
                for remote in arrived:
                    batch_id = by_name.get(remote.rsplit("/", 1)[-1])
                    batch = session.get(ClaimBatch, batch_id) if batch_id is not None else None
                    if batch is None or batch.status is not BatchStatus.EXPORTED:
                        continue
                    mark_submitted(session, batch, actor, f"Uploaded by SFTP to {target.host}:{remote}")
                    audit.record(
                        session,
                        actor,
                        "upload_batch",
                        "claim_batch",
                        batch.id,
                        detail={"host": target.host, "path": remote},
                    )
        if failure is not None:
            raise failure
        return result

    def confirm_upload(self, actor: Actor, batch_id: int) -> int:
        """The user uploaded the file to the portal: the batch and its claims are now submitted."""
        actor.require(Permission.BATCH_EXPORT)
        with self._db.session() as session:
            batch = session.get(ClaimBatch, batch_id)
            if batch is None:
                raise NotFound(f"Batch {batch_id} no longer exists.")
            if batch.status is not BatchStatus.EXPORTED:
                raise ValidationFailed(
                    [warning("ALREADY", f"Batch {batch_id} is already {batch.status.value}.", "batch")]
                )
            mark_submitted(session, batch, actor, "Upload confirmed by the user")
            audit.record(session, actor, "confirm_upload", "claim_batch", batch.id)
            return len(batch.claims)

    def batches(self, actor: Actor, limit: int = 200) -> list[BatchRow]:
        actor.require(Permission.BATCH_EXPORT)
        with self._db.session() as session:
            counts = dict(
                session.execute(
                    sa.select(Claim.batch_id, sa.func.count(Claim.id))
                    .where(Claim.batch_id.is_not(None))
                    .group_by(Claim.batch_id)
                ).all()
            )
            users = dict(session.execute(sa.select(User.id, User.display_name)).all())
            rows = session.execute(
                sa.select(ClaimBatch, ClearinghouseProfile.name)
                .join(ClearinghouseProfile, ClearinghouseProfile.id == ClaimBatch.profile_id)
                .order_by(ClaimBatch.id.desc())
                .limit(limit)
            ).all()
            from infusion_desk.services.acknowledgements import batch_acknowledgement_text

            acks = batch_acknowledgement_text(session, [b.id for b, _ in rows])
            return [
                BatchRow(
                    id=b.id,
                    status=b.status,
                    profile=profile_name,
                    file_name=b.file_name,
                    claims=int(counts.get(b.id, 0)),
                    interchange_control_number=b.interchange_control_number,
                    exported_at=b.exported_at,
                    submitted_at=b.submitted_at,
                    exported_by=users.get(b.created_by_id, "") if b.created_by_id else "",
                    acknowledgements=acks.get(b.id, "none yet"),
                )
                for b, profile_name in rows
            ]


def mark_submitted(session: Session, batch: ClaimBatch, actor: Actor | None, reason: str) -> None:
    """The batch reached the clearinghouse: its batched claims become submitted."""
    now = utcnow()
    if batch.status is BatchStatus.EXPORTED:
        batch.status = BatchStatus.SUBMITTED
        batch.submitted_at = now
    record_transitions(
        session,
        [(c, ClaimStatus.SUBMITTED, reason) for c in batch.claims if c.status is ClaimStatus.BATCHED],
        actor,
        now,
        submitted_at=now,
    )


def render_batch(
    profile: ClearinghouseProfile,
    claims: Sequence[ClaimData],
    clinic_name: str,
    clinic_phone: str,
    icn: int,
    gcn: int,
    tcn: int,
    created: datetime,
) -> str:
    parties = Parties(
        profile.sender_qualifier,
        profile.sender_id,
        profile.receiver_qualifier,
        profile.receiver_id,
        profile.application_sender_code,
        profile.application_receiver_code,
    )
    return write_837p(
        claims,
        parties=parties,
        submitter=Submitter(
            clinic_name,
            profile.sender_id,
            "BILLING OFFICE",
            "".join(ch for ch in clinic_phone if ch.isdigit()) or "0000000000",
        ),
        receiver=Receiver(profile.name, profile.receiver_id),
        interchange_control_number=icn,
        group_control_number=gcn,
        transaction_control_number=tcn,
        reference=f"B{icn:09d}",
        created=created,
        production=profile.production,
    )
