"""Long jobs run in a child process that the crash-safety tests kill, and the clinics they run on.

    point = Point("rename", nth=3)                           # stop before the third file is renamed
    kill_job(Job("export", url, out, point=point), code)     # the child stops there: SIGKILL
    kill_job_after(Job("era", url, out, era=path), code, 0.3)  # or 0.3 s after it started working

The child (:func:`main`) opens the database with the recovery code (a child process has no
keyring), signs in as the demo biller and runs the job through the real services, or through
the real command line with ``cli=True``. It watches its own steps: each SQL statement, each
commit (just before the database commits), each finished commit, each file written, each
rename and each progress report. Given a point (the ``nth`` step of a kind whose detail matches
a pattern, optionally counted only after an earlier point), it prints ``AT`` when it gets there
and waits until the parent kills it with SIGKILL, so the kill lands on exactly that step.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2026, 11, 20)
BILLER = "biller"
PASSWORD = "demo"
CHILD_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Point:
    """The ``nth`` step of ``kind`` whose detail matches ``match``, counted from ``after`` (if given).

    Kinds: ``sql`` (before the statement runs), ``commit`` (before the database commits),
    ``committed`` (after), ``write`` (a file written under its temporary name), ``rename``
    (before a file gets its final name, the detail) and ``progress`` (after a report).
    """

    kind: str
    match: str = ""
    nth: int = 1
    after: Point | None = None

    def chain(self) -> list[Point]:
        return [*(self.after.chain() if self.after else []), self]


@dataclass(frozen=True)
class Job:
    name: str
    """export, era or statements."""
    url: str
    out: Path
    era: Path | None = None
    cli: bool = False
    point: Point | None = None


# --- the parent's side ---------------------------------------------------------------------------


def _command(job: Job) -> list[str]:
    spec = asdict(job)
    spec["out"] = str(job.out)
    spec["era"] = str(job.era) if job.era else None
    spec["point"] = [asdict(p) | {"after": None} for p in job.point.chain()] if job.point else []
    return [sys.executable, "-c", "from tests.services.crash_jobs import main; main()", json.dumps(spec)]


def _start(job: Job, recovery_code: str | None) -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop("INFUSION_DESK_RECOVERY_CODE", None)
    if recovery_code:
        env["INFUSION_DESK_RECOVERY_CODE"] = recovery_code
    env["INFUSION_DESK_PASSWORD"] = PASSWORD
    return subprocess.Popen(
        _command(job), cwd=ROOT, env=env, text=True,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def kill_job(job: Job, recovery_code: str | None) -> str:
    """Run ``job`` until it reaches its point, then SIGKILL it; returns the line it printed there."""
    assert job.point is not None
    child = _start(job, recovery_code)
    try:
        line = _wait_for_line(child, "AT ", CHILD_TIMEOUT_S)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        _reap(child)
    assert child.returncode == -signal.SIGKILL, f"the child ended with {child.returncode}, not SIGKILL"
    return line


def kill_job_after(job: Job, recovery_code: str | None, delay_s: float) -> bool:
    """SIGKILL ``job`` ``delay_s`` seconds after it starts working; whether it was still running then."""
    child = _start(job, recovery_code)
    try:
        _wait_for_line(child, "STARTED", CHILD_TIMEOUT_S)
        time.sleep(delay_s)
        still_running = child.poll() is None
        if still_running:
            os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=CHILD_TIMEOUT_S)
        err = child.stderr.read() if child.stderr else ""
    finally:
        _reap(child)
    if not still_running:
        assert child.returncode == 0, f"the {job.name} job failed on its own (exit {child.returncode}):\n{err}"
    return still_running


def _wait_for_line(child: subprocess.Popen[str], prefix: str, timeout_s: float) -> str:
    assert child.stdout is not None
    deadline = time.monotonic() + timeout_s
    with selectors.DefaultSelector() as selector:
        selector.register(child.stdout, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=max(0.0, deadline - time.monotonic())):
                continue
            line = child.stdout.readline()
            if not line:
                child.wait(timeout=30)
                err = child.stderr.read() if child.stderr else ""
                raise AssertionError(
                    f"the child ended (exit {child.returncode}) before printing {prefix!r}:\n{err}"
                )
            if line.startswith(prefix):
                return line.strip()
    raise AssertionError(f"the child printed no {prefix!r} within {timeout_s} s")


def _reap(child: subprocess.Popen[str]) -> None:
    if child.poll() is None:
        child.kill()
        child.wait()
    for stream in (child.stdin, child.stdout, child.stderr):
        if stream is not None:
            stream.close()


# --- the child's side ----------------------------------------------------------------------------


class _Tripwire:
    """Counts the child's steps and stops at the chosen one until the parent kills the process."""

    def __init__(self, chain: list[dict[str, Any]]) -> None:
        self.chain = chain
        self.stage = 0
        self.seen = 0
        self.steps = 0

    def hit(self, kind: str, detail: str = "") -> None:
        self.steps += 1
        if self.stage >= len(self.chain):
            return
        want = self.chain[self.stage]
        if kind != want["kind"] or not re.search(want["match"], detail):
            return
        self.seen += 1
        if self.seen < want["nth"]:
            return
        self.stage, self.seen = self.stage + 1, 0
        if self.stage == len(self.chain):
            print(f"AT step {self.steps}: {kind} {' '.join(detail.split())[:100]}", flush=True)
            sys.stdin.readline()  # the parent kills the process while it waits here
            os._exit(5)


def _install(wire: _Tripwire) -> None:
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.orm import Session

    from infusion_desk.services import batches, statements

    def before_sql(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        wire.hit("sql", statement)

    def before_commit(conn: Any) -> None:
        wire.hit("commit")

    def after_commit(session: Any) -> None:
        wire.hit("committed")

    event.listen(sa.engine.Engine, "before_cursor_execute", before_sql)
    event.listen(sa.engine.Engine, "commit", before_commit)
    event.listen(Session, "after_commit", after_commit)

    write_temporary = batches.write_temporary

    def written_temporary(path: Path, data: bytes) -> Path:
        temp = write_temporary(path, data)
        wire.hit("write", path.name)
        return temp

    batches.write_temporary = written_temporary  # type: ignore[assignment]

    write_statement = statements.StatementService._write

    def written_statement(path: Path, data: bytes, written: list[Path]) -> None:
        write_statement(path, data, written)
        wire.hit("write", path.name)

    statements.StatementService._write = staticmethod(written_statement)  # type: ignore[method-assign]

    replace = os.replace

    def renamed(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
        wire.hit("rename", Path(dst).name)
        replace(src, dst, *args, **kwargs)

    os.replace = renamed


def _cli_argv(spec: dict[str, Any]) -> list[str]:
    head = ["--database-url", spec["url"], "--user", BILLER]
    if spec["name"] == "export":
        return [*head, "batch", "export", "--out", spec["out"], "--today", TODAY.isoformat()]
    if spec["name"] == "era":
        return [*head, "era", "import", spec["era"]]
    return [*head, "statements", "run", "--out", spec["out"], "--date", TODAY.isoformat()]


def _run_service(spec: dict[str, Any], wire: _Tripwire) -> dict[str, Any]:
    from infusion_desk.services.app import Services
    from infusion_desk.services.batches import BatchService
    from infusion_desk.services.remittances import RemittanceService
    from infusion_desk.services.statements import StatementService

    services, _ = Services.open(spec["url"])
    try:
        biller = services.auth.sign_in(BILLER, PASSWORD)
        _install(wire)
        print("STARTED", flush=True)

        def progress(done: int, total: int) -> None:
            wire.hit("progress", f"{done}/{total}")

        out = Path(spec["out"])
        if spec["name"] == "export":
            exported = BatchService(services.db).export(biller, out_dir=out, today=TODAY, progress=progress)
            return {"files": [f.path.name for f in exported.files], "held": list(exported.held_back)}
        if spec["name"] == "era":
            posted = RemittanceService(services.db).import_file(biller, Path(spec["era"]))
            return {"already": posted.already_imported, "claims": len(posted.claims_posted),
                    "paid": str(posted.paid), "review": posted.review}
        run = StatementService(services.db).run(biller, out_dir=out, today=TODAY, progress=progress)
        return {"sent": len(run.sent), "run_file": run.run_file.name if run.run_file else None}
    finally:
        services.close()


def main() -> None:
    """The child process: run the job described by the JSON in ``sys.argv[1]``."""
    spec = json.loads(sys.argv[1])
    wire = _Tripwire(spec["point"])
    if spec["cli"]:
        from infusion_desk import cli

        _install(wire)
        print("STARTED", flush=True)
        status = cli.main(_cli_argv(spec))
        if status != 0:
            raise SystemExit(status)
        summary: dict[str, Any] = {}
    else:
        summary = _run_service(spec, wire)
    print("DONE " + json.dumps({"steps": wire.steps, "summary": summary}, default=str), flush=True)


# --- the clinics the jobs run on -----------------------------------------------------------------


def build_claims(services: Any, *, patients: int = 30, per_file: int = 8) -> None:
    """The demo clinic (``patients`` patients, two months) with its claims built, ``per_file`` to a file."""
    import sqlalchemy as sa

    from infusion_desk.models import ClearinghouseProfile
    from infusion_desk.services.claims import ClaimService
    from infusion_desk.services.demo import generate_demo

    generate_demo(services.db, patients=patients, months=2, seed=3, today=TODAY)
    ClaimService(services.db).build(services.auth.sign_in(BILLER, PASSWORD), today=TODAY)
    with services.db.session() as session:
        session.execute(sa.update(ClearinghouseProfile).values(claims_per_file=per_file))


def export_and_remit(services: Any, folder: Path) -> str:
    """Every ready claim exported, payers posting 835s at once; the 835 that pays them all.

    The payer allows 80% of each line and pays 80% of that (the rest contractual and the
    patient's coinsurance), and denies the first line of every fifth claim.
    """
    import sqlalchemy as sa

    from infusion_desk.billing.x12.read837 import read_837p
    from infusion_desk.models import Payer
    from infusion_desk.models.enums import EraPosting
    from infusion_desk.services.batches import BatchService
    from tests.billing.x12.remit_fixtures import write_835
    from tests.services.billing_seed import paid, remittance

    biller = services.auth.sign_in(BILLER, PASSWORD)
    summary = BatchService(services.db).export(biller, out_dir=folder, today=TODAY)
    claims = [c for f in summary.files for c in read_837p(f.path.read_text(encoding="ascii"))]
    with services.db.session() as session:
        session.execute(sa.update(Payer).values(era_posting=EraPosting.ALL))
    payments = [
        paid(claim, icn=f"PAYER{number:06d}", deny_line=1 if number % 5 == 0 else None)
        for number, claim in enumerate(claims)
    ]
    return str(write_835(remittance(*payments, trace="EFT-CRASH-0001")))

