"""Claims figures: building, scrubbing and exporting 5,000 claims; 500 CMS-1500 forms.

A copy of the front-desk benchmark clinic is taken (so the cached clinic stays claim-free)
and its 5,000 most recently signed visits are coded the way a coder's review leaves them
(lines saved, visit marked coded) before the clock starts: claim building starts from coded
visits, as it does in the clinic. The timed step is ``ClaimService.build`` (claims, lines,
charges, NDC quantities, authorizations, history, and the scrub of every claim) followed by
``BatchService.export`` (the last-minute scrub, the 837P rendering and the atomic file write)
with the whole batch in one file.

The baseline is pyx12, the independent validator the tests use, validating that same file
in the same run: the goal is to produce the file faster than it can be checked.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.dataset import CACHE, TODAY, open_plain

CLAIMS = 5_000
FORMS = 500
ROUNDS = int(os.environ.get("BENCH_CLAIM_ROUNDS", "3"))


def _database(source: Path) -> Path:
    """A throw-away copy, brought up to today's demo data where the cached clinic predates it.

    The cached clinic was generated before the demo clinic had a ZIP+4 and before the catalog
    carried the volume of packages measured in mL; the copy gets both, as a clinic would
    after updating its settings and catalog.
    """
    import sqlalchemy as sa

    from infusion_desk.billing.catalog import drug_catalog
    from infusion_desk.models import Clinic, DrugNdc
    from infusion_desk.models.db import Database

    path = CACHE / f"{source.stem}-claims.sqlite3"
    shutil.copyfile(source, path)
    volumes = {n.ndc: n.package_volume_ml for d in drug_catalog() for n in d.ndcs if n.package_volume_ml}
    db = Database.open(f"sqlite:///{path}")
    try:
        with db.session() as session:
            for clinic in session.scalars(sa.select(Clinic)):
                if len(clinic.zip_code) == 5:
                    clinic.zip_code += "-0100"
            for package in session.scalars(sa.select(DrugNdc).where(DrugNdc.ndc.in_(list(volumes)))):
                package.package_volume_ml = package.package_volume_ml or volumes[package.ndc]
    finally:
        db.dispose()
    return path


def _code(db_path: Path, count: int) -> list[int]:
    import sqlalchemy as sa

    from infusion_desk.models import Visit
    from infusion_desk.models.base import utcnow
    from infusion_desk.models.db import Database
    from infusion_desk.models.enums import VisitStatus
    from infusion_desk.services.claims import coded_lines
    from infusion_desk.services.coding import load_visits_for_coding

    db = Database.open(f"sqlite:///{db_path}")
    try:
        with db.session() as session:
            ids = list(
                session.scalars(
                    sa.select(Visit.id)
                    .where(Visit.status == VisitStatus.COMPLETED, Visit.signed_at.is_not(None))
                    .order_by(Visit.date_of_service.desc(), Visit.id.desc())
                    .limit(count)
                )
            )
        # the coder's part: the engine's lines saved and the visits marked coded (not timed)
        with db.session() as session:
            coded_lines(session, load_visits_for_coding(session, Visit.id.in_(ids)))
            session.execute(sa.update(Visit).where(Visit.id.in_(ids)).values(coded_at=utcnow()))
        return ids
    finally:
        db.dispose()


def _pyx12_seconds(text: str) -> float:
    import pyx12.error_handler
    import pyx12.params
    import pyx12.x12n_document

    params = pyx12.params.params()
    start = time.perf_counter()
    pyx12.x12n_document.x12n_document(
        param=params, src_file=io.StringIO(text), fd_997=io.StringIO(), fd_html=None, fd_xmldoc=None
    )
    return time.perf_counter() - start


def _round(db_path: Path) -> dict[str, float]:
    """One cold build-and-export, as a biller's first of the day in a freshly opened app."""
    import sqlalchemy as sa

    from infusion_desk.models import ClearinghouseProfile
    from infusion_desk.services.access import Actor
    from infusion_desk.services.batches import BatchService
    from infusion_desk.services.claims import ClaimService

    visit_ids = [int(v) for v in (db_path.with_suffix(".visits").read_text().split())]
    services = open_plain(db_path)
    out = Path(tempfile.mkdtemp(prefix="bench-claims-"))
    try:
        actor: Actor = services.auth.sign_in("biller", "demo")
        with services.db.session() as session:
            session.execute(sa.update(ClearinghouseProfile).values(claims_per_file=CLAIMS))
        start = time.perf_counter()
        built = ClaimService(services.db).build(actor, visit_ids=visit_ids, today=TODAY)
        build_s = time.perf_counter() - start
        summary = BatchService(services.db).export(actor, out_dir=out, today=TODAY)
        total_s = time.perf_counter() - start
        text = summary.files[0].path.read_text(encoding="ascii")
    finally:
        services.close()
        shutil.rmtree(out, ignore_errors=True)
    return {
        "claims": float(len(built.claim_ids)),
        "exported": float(sum(f.claims for f in summary.files)),
        "build_s": build_s,
        "total_s": total_s,
        "pyx12_s": _pyx12_seconds(text),
    }


def _forms(db_path: Path) -> dict[str, float]:
    import sqlalchemy as sa

    from infusion_desk.billing.cms1500 import render_cms1500
    from infusion_desk.models import Claim
    from infusion_desk.services.claims import ClaimService

    services = open_plain(db_path)
    try:
        actor = services.auth.sign_in("biller", "demo")
        with services.db.session() as session:
            ids = list(session.scalars(sa.select(Claim.id).order_by(Claim.id).limit(FORMS)))
        forms = ClaimService(services.db).claim_data(actor, ids)
        start = time.perf_counter()
        pdf = render_cms1500(forms)
        pdf_s = time.perf_counter() - start
    finally:
        services.close()
    return {"forms": float(len(forms)), "pdf_s": pdf_s, "pdf_mb": len(pdf) / 1_048_576}


def bench_claims(clinic: Path) -> dict[str, float]:
    """Three cold rounds, each in a new process on a fresh copy of the coded clinic."""
    coded = _database(clinic)
    visit_ids = _code(coded, CLAIMS)
    work = coded.with_name(coded.stem + "-round.sqlite3")
    rounds: list[dict[str, float]] = []
    try:
        for _ in range(ROUNDS):
            shutil.copyfile(coded, work)
            work.with_suffix(".visits").write_text(" ".join(map(str, visit_ids)))
            os.sync()  # the copy's writes must not land on the clock of the round
            rounds.append(_subprocess("round", work))
        forms = _subprocess("forms", work)
    finally:
        for path in (coded, work, work.with_suffix(".visits")):
            path.unlink(missing_ok=True)
    total = statistics.median(r["total_s"] for r in rounds)
    pyx12 = statistics.median(r["pyx12_s"] for r in rounds)
    return {
        **rounds[0],
        "build_s": statistics.median(r["build_s"] for r in rounds),
        "total_s": total,
        "best_s": min(r["total_s"] for r in rounds),
        "worst_s": max(r["total_s"] for r in rounds),
        "pyx12_s": pyx12,
        "ratio": total / pyx12,
        **forms,
    }


def _subprocess(kind: str, db_path: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.claims", kind, str(db_path)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return figures


def report(figures: dict[str, float]) -> str:
    return f"""## Claims

| Figure | Measured | Baseline (same run) | Ratio | Goal |
|---|---|---|---|---|
| Build, scrub and export {figures['claims']:,.0f} claims into one 837P ({figures['exported']:,.0f} exported), median of {ROUNDS} cold runs | **{figures['total_s']:.2f} s** (runs {figures['best_s']:.2f}–{figures['worst_s']:.2f} s; building and scrubbing {figures['build_s']:.2f} s) | pyx12 validating that file: {figures['pyx12_s']:.2f} s | **{figures['ratio']:.2f}** | < 5 s, ratio < 1 |
| CMS-1500 PDF for {figures['forms']:,.0f} claims | **{figures['pdf_s']:.2f} s** ({figures['pdf_mb']:.1f} MB) | | | < 15 s |

The claims are built from the {CLAIMS:,} most recently signed visits of the benchmark clinic,
coded beforehand the way a coder's review leaves them; building includes the lines, charges,
NDC quantities, authorization numbers, history and the scrub of every claim, and the export
scrubs them again, renders the 837P and writes it atomically. Claims the scrubber holds back
(missing data the demo leaves out on purpose) are built but not exported. Each run is a new
process on a fresh copy of the clinic, as a biller's first build of the day after opening
the application: the ICD-10-CM code set, the edit tables and SQLAlchemy's statement cache
are loaded on the clock. pyx12 is the independent validator the tests run on every 837P;
it validates each run's file in the same process, and the ratio compares the medians."""


def main() -> int:
    kind, path = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(_round(path) if kind == "round" else _forms(path)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
