"""Statements figure: a statement run for 1,000 patients, against reportlab drawing the same pages.

A copy of the benchmark clinic gets patient balances the way posting would leave them (none of
this is timed): 1,000 patients' visits signed since October are coded and billed, and every
claim line is then given, by bulk SQL, the split an 835 with 20% coinsurance leaves (60% paid,
20% the patient's, the rest contractual) and the *patient due* state, except every seventh line,
left *insurance pending* so statements also list amounts waiting for insurance. Posting real
835s is measured by the payments figure; here it would only make the setup slower.

The timed step is ``StatementService.run`` for those patients in a new process (a biller's
first run of the day): selecting who gets a statement among the clinic's 100,000 patients,
reading their lines, payments and last statements, drawing one PDF per patient and one PDF of
the whole run, writing them, and recording every statement with its snapshot in one
transaction. The baseline is reportlab drawing the very same pages from the same prepared
statement objects (read back from the recorded snapshots), with no database or file work:
each statement's PDF and the run's PDF, exactly what the run draws. The goal is under 20 s;
the ratio says what the data work, the files and the records add to the drawing.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from bench.dataset import TODAY, open_plain

PATIENTS = int(os.environ.get("BENCH_STATEMENT_PATIENTS", "1000"))
SINCE = date(2026, 10, 1)


def _prepare(clinic: Path) -> Path:
    """A copy of the clinic where ``PATIENTS`` patients owe their coinsurance."""
    import sqlalchemy as sa

    from bench.claims import _database
    from infusion_desk.models import Claim, Visit
    from infusion_desk.models.base import utcnow
    from infusion_desk.models.enums import ClaimStatus, LineResponsibility, VisitStatus
    from infusion_desk.services.claims import ClaimService, coded_lines
    from infusion_desk.services.coding import load_visits_for_coding

    copy = _database(clinic)
    path = copy.with_name(copy.stem.replace("-claims", "-statements") + ".sqlite3")
    copy.replace(path)
    services = open_plain(path)
    try:
        signed = (
            (Visit.status == VisitStatus.COMPLETED)
            & Visit.signed_at.is_not(None)
            & (Visit.date_of_service >= SINCE)
        )
        with services.db.session() as session:
            patients = list(
                session.scalars(
                    sa.select(Visit.patient_id).where(signed).group_by(Visit.patient_id)
                    .order_by(Visit.patient_id).limit(PATIENTS)
                )
            )
            visit_ids = list(
                session.scalars(sa.select(Visit.id).where(signed, Visit.patient_id.in_(patients)))
            )
        with services.db.session() as session:  # the coder's part
            coded_lines(session, load_visits_for_coding(session, Visit.id.in_(visit_ids)))
            session.execute(sa.update(Visit).where(Visit.id.in_(visit_ids)).values(coded_at=utcnow()))
        biller = services.auth.sign_in("biller", "demo")
        ClaimService(services.db).build(biller, visit_ids=visit_ids, today=TODAY)
        with services.db.session() as session:  # what posting a 20% coinsurance 835 leaves (in cents)
            session.execute(sa.update(Claim).values(status=ClaimStatus.PAID))
            session.execute(sa.text(
                "UPDATE claim_line SET paid = charge * 60 / 100, patient_responsibility = charge * 20 / 100, "
                "adjusted = charge - charge * 60 / 100 - charge * 20 / 100, responsibility = :due"
            ), {"due": LineResponsibility.PATIENT_DUE.value})
            session.execute(sa.text(
                "UPDATE claim_line SET paid = 0, patient_responsibility = 0, adjusted = 0, "
                "responsibility = :pending WHERE id % 7 = 0"
            ), {"pending": LineResponsibility.INSURANCE_PENDING.value})
    finally:
        services.close()
    return path


def _run(db_path: Path) -> dict[str, float]:
    from infusion_desk.services.statements import StatementService

    out = Path(tempfile.mkdtemp(prefix="bench-statements-"))
    services = open_plain(db_path)
    try:
        biller = services.auth.sign_in("biller", "demo")
        start = time.perf_counter()
        summary = StatementService(services.db).run(biller, out_dir=out, today=TODAY)
        seconds = time.perf_counter() - start
        assert summary.run_file is not None
        megabytes = sum(p.stat().st_size for p in out.iterdir()) / 1_048_576
    finally:
        services.close()
        shutil.rmtree(out, ignore_errors=True)
    return {
        "run_s": seconds,
        "statements": float(len(summary.sent)),
        "pages": float(summary.pages),
        "skipped": float(len(summary.skipped)),
        "megabytes": megabytes,
    }


def _draw(db_path: Path) -> dict[str, float]:
    """Reportlab drawing the same statements, prepared beforehand: no database, no files."""
    import sqlalchemy as sa

    from infusion_desk.billing.statements import from_snapshot, render_run, render_statement
    from infusion_desk.models import Statement
    from infusion_desk.models.db import Database

    db = Database.open(f"sqlite:///{db_path}")
    try:
        with db.session() as session:
            snapshots = list(session.scalars(sa.select(Statement.snapshot).order_by(Statement.id)))
    finally:
        db.dispose()
    prepared = [from_snapshot(s) for s in snapshots]
    start = time.perf_counter()
    for statement in prepared:
        render_statement(statement)
    render_run(prepared)
    return {"draw_s": time.perf_counter() - start}


def bench_statements(clinic: Path) -> dict[str, float]:
    db_path = _prepare(clinic)
    try:
        os.sync()
        figures = {**_subprocess("run", db_path), **_subprocess("draw", db_path)}
    finally:
        db_path.unlink(missing_ok=True)
        for extra in ("-wal", "-shm"):
            Path(f"{db_path}{extra}").unlink(missing_ok=True)
    figures["ratio"] = figures["run_s"] / figures["draw_s"]
    figures["pages_per_s"] = figures["pages"] / figures["run_s"]
    figures["draw_pages_per_s"] = figures["pages"] / figures["draw_s"]
    return figures


def _subprocess(kind: str, db_path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.statements", kind, str(db_path)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def report(figures: dict[str, float]) -> str:
    return f"""## Statements

| Figure | Measured | Baseline (same run) | Ratio | Goal |
|---|---|---|---|---|
| Statement run for {figures['statements']:,.0f} patients ({figures['pages']:,.0f} pages, one PDF each and one for the run, {figures['megabytes']:.1f} MB) | **{figures['run_s']:.2f} s**, {figures['pages_per_s']:,.0f} pages/s | reportlab drawing the same pages from prepared statements: {figures['draw_s']:.2f} s, {figures['draw_pages_per_s']:,.0f} pages/s | **{figures['ratio']:.2f}** | under 20 s |

{figures['statements']:,.0f} patients' visits signed since {SINCE:%m/%d/%Y} are billed beforehand and every
claim line given the split a 20% coinsurance remittance leaves (every seventh line left waiting
for insurance, so statements list pending amounts too). The run is timed in a new process:
choosing who gets a statement among all the clinic's patients ({figures['skipped']:,.0f} skipped), reading
their lines, payments and last statements, drawing and writing each patient's PDF and the run's
PDF, and recording every statement with its snapshot in one transaction. The baseline draws the
same statements (each PDF and the run's) from objects prepared beforehand, with no database or
file work; pages are counted once per statement (the run's PDF repeats them for printing)."""


def main() -> int:
    kind, db_path = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(_run(db_path) if kind == "run" else _draw(db_path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
