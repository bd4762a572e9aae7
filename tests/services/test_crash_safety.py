"""Crash safety: a claim export, an 835 posting and a statement run killed (SIGKILL) part-way.

Each scenario copies a prepared clinic, starts the job in a child process through the real
services (or the real command line), kills it at one point (a step the child reports, see
``tests/services/crash_jobs.py``, or after a fixed delay), then reopens the database and checks:

* the file is sound (``PRAGMA integrity_check`` through SQLCipher, ``foreign_key_check``);
* the work is all or nothing where it must be: no batch half marked, and every batch file on
  disk under its final name complete; an 835 posted entirely or not at all; a statement
  recorded only with its PDF written in full, and no PDF under a final name without its record;
* no X12 control number used twice;
* the job run again finishes the work, and the clinic ends as an uninterrupted run leaves it
  (the same claims in the same batches, the payment posted once, one statement per patient).
"""

from __future__ import annotations

import hashlib
import shutil
import time
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from infusion_desk import cli
from infusion_desk.billing.statements import from_snapshot, render_statement
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.models import (
    AuditEvent,
    Base,
    Claim,
    ClaimBatch,
    ClaimLine,
    ControlNumber,
    Patient,
    Remittance,
)
from infusion_desk.models import Statement as StatementRow
from infusion_desk.models.encryption import DatabaseKey, connect
from infusion_desk.models.enums import BatchStatus, ClaimStatus
from infusion_desk.services.app import Services
from infusion_desk.services.batches import TRANSACTION_837, BatchService
from infusion_desk.services.control_numbers import GROUP, INTERCHANGE
from infusion_desk.services.remittances import RemittanceService
from infusion_desk.services.statements import StatementService
from tests.conftest import _new_pg_database
from tests.services.crash_jobs import (
    BILLER,
    PASSWORD,
    TODAY,
    Job,
    Point,
    build_claims,
    export_and_remit,
    kill_job,
    kill_job_after,
)

LAST = -1
"""``nth`` for the last step of its kind in an uninterrupted run (taken from the reference run)."""


# --- the prepared clinics and the uninterrupted runs --------------------------------------------


@dataclass(frozen=True)
class Clinics:
    """Prepared SQLite clinics (copied per scenario) and the recovery code that opens them all."""

    built: Path
    """Claims built and ready: the export's clinic."""
    exported: Path
    """Claims exported; the 835 paying them not yet posted: the posting's clinic."""
    posted: Path
    """The 835 posted, patients owe their coinsurance: the statement run's clinic."""
    era: Path
    code: str

    @property
    def key(self) -> DatabaseKey:
        return DatabaseKey.from_recovery_code(self.code)


@pytest.fixture(scope="module")
def clinics(tmp_path_factory: pytest.TempPathFactory) -> Clinics:
    folder = tmp_path_factory.mktemp("clinics")
    built, exported, posted = (folder / f"{name}.sqlite3" for name in ("built", "exported", "posted"))
    with _open(f"sqlite:///{built}") as services:
        build_claims(services)
        assert services.db.key is not None
        code = services.db.key.recovery_code()
    shutil.copyfile(built, exported)
    era = folder / "payment.835"
    with _open(f"sqlite:///{exported}") as services:
        era.write_text(export_and_remit(services, folder / "sent"), encoding="ascii")
    shutil.copyfile(exported, posted)
    with _open(f"sqlite:///{posted}") as services:
        RemittanceService(services.db).import_file(_biller(services), era)
    return Clinics(built, exported, posted, era, code)


@dataclass(frozen=True)
class Reference:
    """The clinic before the job and after an uninterrupted run of it."""

    before: Any
    after: Any
    steps: int = 0
    """How many files (batches) or renames (statements) the uninterrupted run made."""


@dataclass
class Copy:
    path: Path
    url: str
    out: Path


def _copy(template: Path, folder: Path) -> Copy:
    path = folder / "clinic.sqlite3"
    shutil.copyfile(template, path)
    return Copy(path, f"sqlite:///{path}", folder / "out")


class _open:  # noqa: N801 - used as a context manager, like open()
    def __init__(self, url: str) -> None:
        self.services, _ = Services.open(url)

    def __enter__(self) -> Services:
        return self.services

    def __exit__(self, *exc: object) -> None:
        self.services.close()


def _biller(services: Services) -> Any:
    return services.auth.sign_in(BILLER, PASSWORD)


@pytest.fixture(scope="module")
def export_reference(clinics: Clinics, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    copy = _copy(clinics.built, tmp_path_factory.mktemp("export-reference"))
    with _open(copy.url) as services:
        before = _statuses(services)
        BatchService(services.db).export(_biller(services), out_dir=copy.out, today=TODAY)
        after = check_export(services, copy.out, before, finished=True)
    return Reference(before, after, len(after.batches))


@pytest.fixture(scope="module")
def era_reference(clinics: Clinics, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    copy = _copy(clinics.exported, tmp_path_factory.mktemp("era-reference"))
    with _open(copy.url) as services:
        before = era_state(services)
        RemittanceService(services.db).import_file(_biller(services), clinics.era)
        after = era_state(services)
    assert after != before
    return Reference(before, after)


@pytest.fixture(scope="module")
def statements_reference(clinics: Clinics, tmp_path_factory: pytest.TempPathFactory) -> Reference:
    copy = _copy(clinics.posted, tmp_path_factory.mktemp("statements-reference"))
    with _open(copy.url) as services:
        run = StatementService(services.db).run(_biller(services), out_dir=copy.out, today=TODAY)
        after = check_statements(services, copy.out, finished=True)
    assert len(after) == len(run.sent) >= 10
    return Reference({}, after, len(run.sent) + 1)


# --- what must hold after a crash ----------------------------------------------------------------


def check_sound(path: Path, key: DatabaseKey) -> None:
    """SQLite's own checks of the encrypted file, before anything else opens it."""
    connection = connect(path, key)
    try:
        assert connection.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
    finally:
        connection.close()


def _statuses(services: Services) -> dict[str, ClaimStatus]:
    with services.db.session() as session:
        return dict(session.execute(sa.select(Claim.claim_number, Claim.status)).all())


@dataclass(frozen=True)
class ExportState:
    statuses: dict[str, ClaimStatus]
    batches: tuple[frozenset[str], ...]
    """The claim numbers in each batch, in the order they were exported."""


def _envelope_numbers(text: str) -> tuple[int, int, int]:
    """ISA13, GS06 and ST02 of an 837 file as written."""
    segments = text.split("~")
    isa = segments[0].split("*")
    gs = next(s for s in segments if s.startswith("GS*")).split("*")
    st = next(s for s in segments if s.startswith("ST*")).split("*")
    return int(isa[13]), int(gs[6]), int(st[2])


def check_export(
    services: Services, out: Path, before: dict[str, ClaimStatus], *, finished: bool
) -> ExportState:
    """No batch half marked, every file complete or absent, no control number used twice.

    ``finished``: the export ran to its end, so every recorded batch must have its file.
    """
    with services.db.session() as session:
        batches = list(session.scalars(sa.select(ClaimBatch).order_by(ClaimBatch.id)))
        claims = session.execute(sa.select(Claim.claim_number, Claim.status, Claim.batch_id)).all()
        counters = dict(session.execute(sa.select(ControlNumber.name, ControlNumber.last_value)).all())
    members: dict[int, set[str]] = {}
    for number, status, batch_id in claims:
        if batch_id is None:
            assert status is before[number], f"claim {number} is {status.value} but in no batch"
        else:
            assert status is ClaimStatus.BATCHED, f"claim {number} is in batch {batch_id} but {status.value}"
            members.setdefault(batch_id, set()).add(number)
    numbers_in_files: list[tuple[int, int, int]] = []
    for batch in batches:
        assert batch.status is BatchStatus.EXPORTED and batch.content is not None and batch.file_name
        content = batch.content.encode("ascii")
        assert hashlib.sha256(content).hexdigest() == batch.file_sha256
        listed = {c.claim_number for c in read_837p(batch.content)}
        assert listed == members.get(batch.id, set()), f"batch {batch.id}'s file and its claims differ"
        path = out / batch.file_name
        if finished or path.exists():
            assert path.is_file(), f"batch {batch.id} is recorded but {path.name} was never written"
            assert path.read_bytes() == content, f"{path.name} is not batch {batch.id}'s complete file"
            numbers_in_files.append(_envelope_numbers(path.read_text(encoding="ascii")))
    names = {b.file_name for b in batches}
    for path in sorted(out.iterdir()) if out.exists() else ():
        if path.name.startswith("."):
            assert path.name.endswith(".part"), f"{path.name} is hidden but not a temporary file"
        else:
            assert path.name in names, f"{path.name} is in the folder, but no batch records it"
    for position, (attribute, counter) in enumerate(
        (("interchange_control_number", INTERCHANGE), ("group_control_number", GROUP),
         ("transaction_control_number", TRANSACTION_837))
    ):
        recorded = [getattr(b, attribute) for b in batches]
        assert recorded == sorted(set(recorded)), f"{counter} numbers reused or out of order: {recorded}"
        assert not recorded or counters[counter] >= recorded[-1]
        written = [numbers[position] for numbers in numbers_in_files]
        assert written == sorted(set(written)), f"{counter} numbers in the files: {written}"
    return ExportState(
        {number: status for number, status, _ in claims},
        tuple(frozenset(members.get(b.id, ())) for b in batches),
    )


def era_state(services: Services) -> dict[str, Any]:
    """Everything posting an 835 changes (row counts of every table but the audit trail)."""
    with services.db.session() as session:
        counts = {
            table.name: session.scalar(sa.select(sa.func.count()).select_from(table))
            for table in Base.metadata.sorted_tables
            if table.name != AuditEvent.__tablename__
        }
        lines = session.execute(
            sa.select(
                Claim.claim_number, ClaimLine.line_number, ClaimLine.paid, ClaimLine.adjusted,
                ClaimLine.patient_responsibility, ClaimLine.responsibility,
            ).join(Claim, Claim.id == ClaimLine.claim_id)
        )
        return {
            "counts": counts,
            "claims": {
                number: (status, icn)
                for number, status, icn in session.execute(
                    sa.select(Claim.claim_number, Claim.status, Claim.payer_claim_control_number)
                )
            },
            "lines": {(number, line): tuple(rest) for number, line, *rest in lines},
            "postings": session.scalar(
                sa.select(sa.func.count()).select_from(AuditEvent).where(AuditEvent.action == "post_remittance")
            ),
            "payments": session.scalar(
                sa.select(sa.func.count()).select_from(Remittance).where(Remittance.trace_number == "EFT-CRASH-0001")
            ),
        }


def check_statements(services: Services, out: Path, *, finished: bool) -> dict[str, Any]:
    """Each recorded statement has its whole PDF, no PDF is out without its record, one per patient.

    Right after a crash a recorded statement's PDF may still wait under its hidden temporary
    name (complete, since it was written before the record); ``finished``: the run (or the
    next one) has ended, so it must carry its final name. Returns each patient's amount due.
    """
    with services.db.session() as session:
        rows = session.execute(
            sa.select(StatementRow, Patient.mrn).join(Patient, Patient.id == StatementRow.patient_id)
        ).all()
    twice = [mrn for mrn, count in Counter(mrn for _row, mrn in rows).items() if count > 1]
    assert not twice, f"patients with two statements: {twice}"
    expected: set[str] = set()
    for row, mrn in rows:
        name = f"statement_{row.statement_date:%Y%m%d}_{mrn}.pdf"
        expected.add(name)
        final, temporary = out / name, out / f".{name}.partial"
        path = final if finished or final.exists() else temporary
        assert path.is_file(), f"statement {row.id} for {mrn} is recorded, but {name} is nowhere in {out}"
        assert path.read_bytes() == render_statement(from_snapshot(row.snapshot)), f"{path.name} is not whole"
    for run_id in {row.run_id for row, _mrn in rows}:
        assert run_id is not None
        name = f"statements_{run_id[:8]}_{run_id[9:]}.pdf"
        expected.add(name)
        path = out / name if finished or (out / name).exists() else out / f".{name}.partial"
        assert path.is_file(), f"run {run_id} is recorded, but {name} is nowhere in {out}"
        data = path.read_bytes()
        assert data.startswith(b"%PDF") and data.rstrip().endswith(b"%%EOF"), f"{path.name} is not whole"
    for path in sorted(out.iterdir()) if out.exists() else ():
        if path.name.startswith("."):
            assert path.name.endswith(".partial"), f"{path.name} is hidden but not a temporary file"
        else:
            assert path.name in expected, f"{path.name} is in the folder, but no statement records it"
    return {mrn: (row.amount_due, row.previous_balance, row.statement_date) for row, mrn in rows}


# --- (a) a claim batch export --------------------------------------------------------------------

EXPORT_POINTS = {
    "second file's control numbers being taken": Point("sql", "^UPDATE control_number", nth=5),
    "second file's control numbers committed": Point("committed", after=Point("sql", "^UPDATE control_number", nth=6)),
    "control numbers taken, batch not yet inserted": Point("sql", "^INSERT INTO claim_batch"),
    "batch inserted, its claims not yet marked": Point("sql", "^UPDATE claim SET batch_id"),
    "claims marked, audit trail being written": Point("sql", "^INSERT INTO audit_event"),
    "first file written under its temporary name": Point("write"),
    "third batch committing": Point("commit", after=Point("write", nth=3)),
    "third batch committed, file not yet renamed": Point("rename", nth=3),
    "between the fifth and the sixth file": Point("progress", nth=5),
    "last batch committed, file not yet renamed": Point("rename", nth=LAST),
}


def _resolved(point: Point, last: int) -> Point:
    return replace(point, nth=last) if point.nth == LAST else point


@pytest.mark.parametrize("where", list(EXPORT_POINTS))
def test_export_killed_at_a_step_recovers(
    where: str, clinics: Clinics, export_reference: Reference, tmp_path: Path
) -> None:
    copy = _copy(clinics.built, tmp_path)
    point = _resolved(EXPORT_POINTS[where], export_reference.steps)
    kill_job(Job("export", copy.url, copy.out, point=point), clinics.code)
    _export_recovers(copy, clinics, export_reference)


@pytest.mark.parametrize("delay_s", [0.05, 0.4, 1.0])
def test_export_killed_after_a_delay_recovers(
    delay_s: float, clinics: Clinics, export_reference: Reference, tmp_path: Path
) -> None:
    copy = _copy(clinics.built, tmp_path)
    kill_job_after(Job("export", copy.url, copy.out), clinics.code, delay_s)
    _export_recovers(copy, clinics, export_reference)


def test_export_through_the_command_line_killed_before_a_rename_recovers(
    clinics: Clinics, export_reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _copy(clinics.built, tmp_path)
    kill_job(Job("export", copy.url, copy.out, cli=True, point=Point("rename", nth=2)), clinics.code)
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", PASSWORD)
    _export_recovers(copy, clinics, export_reference, rerun=lambda: cli.main([
        "--database-url", copy.url, "--user", BILLER, "batch", "export", "--out", str(copy.out),
        "--today", TODAY.isoformat(),
    ]))


def _export_recovers(copy: Copy, clinics: Clinics, reference: Reference, rerun: Any = None) -> None:
    check_sound(copy.path, clinics.key)
    with _open(copy.url) as services:
        check_export(services, copy.out, reference.before, finished=False)
        if rerun is None:
            BatchService(services.db).export(_biller(services), out_dir=copy.out, today=TODAY)
        else:
            assert rerun() == 0
        after = check_export(services, copy.out, reference.before, finished=True)
    check_sound(copy.path, clinics.key)
    assert after == reference.after


# --- (b) an 835 posting --------------------------------------------------------------------------

ERA_POINTS = {
    "file recorded, nothing posted yet": Point("sql", "^INSERT INTO inbound_file"),
    "payment stored, its lines not yet": Point("sql", "^INSERT INTO remittance_line"),
    "adjustments being stored": Point("sql", "^INSERT INTO adjustment"),
    "denials being opened": Point("sql", "^INSERT INTO denial_work_item"),
    "claims changing status": Point("sql", "^INSERT INTO claim_status_event"),
    "audit trail being written": Point("sql", "^INSERT INTO audit_event", after=Point("sql", "^INSERT INTO inbound_file")),
    "committing": Point("commit", after=Point("sql", "^INSERT INTO inbound_file")),
    "committed, result not yet returned": Point("committed", after=Point("sql", "^INSERT INTO inbound_file")),
}


@pytest.mark.parametrize("where", list(ERA_POINTS))
def test_posting_killed_at_a_step_posts_once(
    where: str, clinics: Clinics, era_reference: Reference, tmp_path: Path
) -> None:
    copy = _copy(clinics.exported, tmp_path)
    kill_job(Job("era", copy.url, copy.out, era=clinics.era, point=ERA_POINTS[where]), clinics.code)
    _posting_recovers(copy.url, clinics.era, era_reference, path=copy.path, key=clinics.key)


@pytest.mark.parametrize("delay_s", [0.05, 0.4, 1.0])
def test_posting_killed_after_a_delay_posts_once(
    delay_s: float, clinics: Clinics, era_reference: Reference, tmp_path: Path
) -> None:
    copy = _copy(clinics.exported, tmp_path)
    kill_job_after(Job("era", copy.url, copy.out, era=clinics.era), clinics.code, delay_s)
    _posting_recovers(copy.url, clinics.era, era_reference, path=copy.path, key=clinics.key)


@pytest.mark.parametrize("where", ["payment stored, its lines not yet", "committed, result not yet returned"])
def test_posting_through_the_command_line_killed_posts_once(
    where: str, clinics: Clinics, era_reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _copy(clinics.exported, tmp_path)
    kill_job(Job("era", copy.url, copy.out, era=clinics.era, cli=True, point=ERA_POINTS[where]), clinics.code)
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", PASSWORD)
    _posting_recovers(copy.url, clinics.era, era_reference, path=copy.path, key=clinics.key, rerun=lambda: cli.main([
        "--database-url", copy.url, "--user", BILLER, "era", "import", str(clinics.era),
    ]))


def _posting_recovers(
    url: str, era: Path, reference: Reference, *, path: Path | None = None, key: DatabaseKey | None = None,
    rerun: Any = None,
) -> None:
    """Posted entirely or not at all; posting the file again leaves it posted exactly once."""
    if path is not None and key is not None:
        check_sound(path, key)
    with _open(url) as services:
        crashed = era_state(services)
        assert crashed in (reference.before, reference.after), "the 835 is half posted"
        service = RemittanceService(services.db)
        if rerun is None:
            again = service.import_file(_biller(services), era)
            assert again.already_imported is (crashed == reference.after)
        else:
            assert rerun() == 0
        assert era_state(services) == reference.after
        assert service.import_file(_biller(services), era).already_imported
        assert era_state(services) == reference.after
    if path is not None and key is not None:
        check_sound(path, key)


def test_posting_killed_after_its_commit_posts_nothing_from_a_new_download_of_the_payment(
    clinics: Clinics, era_reference: Reference, tmp_path: Path
) -> None:
    """The payer's file fetched again is other bytes (not 'already imported'): its payment is still skipped."""
    copy = _copy(clinics.exported, tmp_path)
    kill_job(Job("era", copy.url, copy.out, era=clinics.era, point=ERA_POINTS["committed, result not yet returned"]),
             clinics.code)
    download = tmp_path / "payment-downloaded-again.835"
    download.write_text(clinics.era.read_text(encoding="ascii").replace("~", "~\n"), encoding="ascii")
    with _open(copy.url) as services:
        assert era_state(services) == era_reference.after
        result = RemittanceService(services.db).import_file(_biller(services), download)
        state = era_state(services)
    assert not result.already_imported and result.already_posted and not result.claims_posted
    assert state["payments"] == 1 and state["lines"] == era_reference.after["lines"]
    assert state["claims"] == era_reference.after["claims"]


# --- (c) a statement run -------------------------------------------------------------------------

AFTER_RUN_FILE = Point("write", r"^\.statements_")
STATEMENT_POINTS = {
    "third PDF written": Point("progress", nth=3),
    "every PDF written, not yet recorded": AFTER_RUN_FILE,
    "statements being inserted": Point("sql", "^INSERT INTO statement", nth=5),
    "committing": Point("commit", after=AFTER_RUN_FILE),
    "recorded, no file renamed yet": Point("committed", after=AFTER_RUN_FILE),
    "recorded, half the files renamed": Point("rename", nth=10),
    "recorded, the run's file not yet renamed": Point("rename", r"^statements_"),
}


@pytest.mark.parametrize("where", list(STATEMENT_POINTS))
def test_statement_run_killed_at_a_step_recovers(
    where: str, clinics: Clinics, statements_reference: Reference, tmp_path: Path
) -> None:
    copy = _copy(clinics.posted, tmp_path)
    kill_job(Job("statements", copy.url, copy.out, point=STATEMENT_POINTS[where]), clinics.code)
    _statements_recover(copy, clinics, statements_reference)


@pytest.mark.parametrize("delay_s", [0.1, 0.5, 1.0])
def test_statement_run_killed_after_a_delay_recovers(
    delay_s: float, clinics: Clinics, statements_reference: Reference, tmp_path: Path
) -> None:
    copy = _copy(clinics.posted, tmp_path)
    kill_job_after(Job("statements", copy.url, copy.out), clinics.code, delay_s)
    _statements_recover(copy, clinics, statements_reference)


def test_statement_run_through_the_command_line_killed_while_renaming_recovers(
    clinics: Clinics, statements_reference: Reference, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = _copy(clinics.posted, tmp_path)
    kill_job(Job("statements", copy.url, copy.out, cli=True, point=Point("rename", nth=5)), clinics.code)
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", PASSWORD)
    _statements_recover(copy, clinics, statements_reference, rerun=lambda: cli.main([
        "--database-url", copy.url, "--user", BILLER, "statements", "run", "--out", str(copy.out),
        "--date", TODAY.isoformat(),
    ]))


def _statements_recover(copy: Copy, clinics: Clinics, reference: Reference, rerun: Any = None) -> None:
    check_sound(copy.path, clinics.key)
    with _open(copy.url) as services:
        crashed = check_statements(services, copy.out, finished=False)
        assert crashed in ({}, reference.after), "some statements were recorded, not all"
        if rerun is None:
            StatementService(services.db).run(_biller(services), out_dir=copy.out, today=TODAY)
        else:
            assert rerun() == 0
        after = check_statements(services, copy.out, finished=True)
    check_sound(copy.path, clinics.key)
    assert after == reference.after


# --- PostgreSQL: the 835 posting -----------------------------------------------------------------


@dataclass(frozen=True)
class PgClinic:
    template: str
    """The name of a database holding the exported clinic, copied per scenario (CREATE DATABASE ... TEMPLATE)."""
    era: Path
    reference: Reference


@pytest.fixture(scope="module")
def pg_clinic(pg_server: str, tmp_path_factory: pytest.TempPathFactory) -> PgClinic:
    folder = tmp_path_factory.mktemp("pg-clinic")
    url = _new_pg_database(pg_server)
    era = folder / "payment.835"
    with _open(url) as services:
        build_claims(services)
        era.write_text(export_and_remit(services, folder / "sent"), encoding="ascii")
    template = sa.engine.make_url(url).database
    assert template is not None
    reference_url = _pg_copy(pg_server, template)
    with _open(reference_url) as services:
        before = era_state(services)
        RemittanceService(services.db).import_file(_biller(services), era)
        after = era_state(services)
    return PgClinic(template, era, Reference(before, after))


def _pg_admin(base_uri: str) -> sa.Engine:
    return sa.create_engine(base_uri.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT")


def _pg_copy(base_uri: str, template: str) -> str:
    name = f"crash_{time.monotonic_ns()}"
    admin = _pg_admin(base_uri)
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    url = sa.engine.make_url(base_uri.replace("postgresql://", "postgresql+psycopg://"))
    return url.set(database=name).render_as_string(hide_password=False)


def _pg_sessions_left(base_uri: str, url: str, timeout_s: float = 20.0) -> list[str]:
    """The killed client's server sessions on that database, once the server has ended them."""
    name = sa.engine.make_url(url).database
    admin = _pg_admin(base_uri)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            with admin.connect() as connection:
                left = list(connection.execute(
                    sa.text("SELECT state FROM pg_stat_activity WHERE datname = :name"), {"name": name}
                ).scalars())
            if not left or time.monotonic() > deadline:
                return left
            time.sleep(0.1)
    finally:
        admin.dispose()


@pytest.mark.parametrize(
    "where", ["payment stored, its lines not yet", "claims changing status", "committing",
              "committed, result not yet returned"],
)
def test_posting_on_postgresql_killed_at_a_step_posts_once(
    where: str, pg_server: str, pg_clinic: PgClinic, tmp_path: Path
) -> None:
    url = _pg_copy(pg_server, pg_clinic.template)
    kill_job(Job("era", url, tmp_path, era=pg_clinic.era, point=ERA_POINTS[where]), None)
    assert _pg_sessions_left(pg_server, url) == [], "the killed client's transaction is still open"
    _posting_recovers(url, pg_clinic.era, pg_clinic.reference)
