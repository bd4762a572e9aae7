"""Payments figure: importing and posting an 835 that pays 10,000 claims.

A copy of the benchmark clinic gets 10,000 claims the way the clinic would have them: its most
recently signed visits are coded and billed, and the claims marked submitted (none of this is
timed). An 835 paying all of them is then written the way a payer writes one: each line
matched by its REF*6R, 80% of the charge allowed and 80% of that paid, the rest contractual
(CO-45) and coinsurance (PR-2), with a denial (CO-197) on every 25th claim's first line. The
payers are set to post their remittances at once (not after review). The timed step is ``RemittanceService.import_file``: reading the file, checking every sum,
matching every claim and line, and posting payments, adjustments, statuses, denial work items
and history in one transaction, in a new process (a biller's first import of the day).

The baseline is pyx12 parsing the same file against its 835 map, in the same run: the
goal is to post the file faster than pyx12 can read it. For reference the report also gives
pyx12's bare segment reader (``X12Reader``), which splits segments without knowing the 835.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from bench.claims import _code, _database
from bench.dataset import TODAY, open_plain

CLAIMS = 10_000
CENT = Decimal("0.01")


def _prepare(clinic: Path) -> tuple[Path, Path]:
    """The clinic with 10,000 submitted claims, and the 835 that pays them."""
    import sqlalchemy as sa

    from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
    from infusion_desk.models import Claim, Payer
    from infusion_desk.models.enums import ClaimStatus, EraPosting
    from infusion_desk.services.claim_data import claim_data_for
    from infusion_desk.services.claims import ClaimService
    from tests.billing.x12.remit_fixtures import write_835

    coded = _database(clinic)
    path = coded.with_name(coded.stem.replace("-claims", "-remittances") + ".sqlite3")
    coded.replace(path)
    visit_ids = _code(path, CLAIMS)
    services = open_plain(path)
    try:
        biller = services.auth.sign_in("biller", "demo")
        ClaimService(services.db).build(biller, visit_ids=visit_ids, today=TODAY)
        with services.db.session() as session:
            session.execute(sa.update(Claim).values(status=ClaimStatus.SUBMITTED))
            # the payer's remittances post at once (the default makes a biller review them first)
            session.execute(sa.update(Payer).values(era_posting=EraPosting.ALL))
            ids = list(session.scalars(sa.select(Claim.id).order_by(Claim.id)))
            data = claim_data_for(session, ids)
    finally:
        services.close()
    payments = []
    for number, claim in enumerate(data.values()):
        lines = []
        for index, line in enumerate(claim.lines):
            if index == 0 and number % 25 == 0:
                lines.append(
                    ServicePayment(
                        line.code, line.modifiers, line.charge, Decimal("0.00"),
                        line_control_number=line.control_number, service_date=line.service_date,
                        adjustments=(CasAdjustment("CO", "197", line.charge),),
                    )
                )
                continue
            allowed = (line.charge * Decimal("0.8")).quantize(CENT)
            paid = (allowed * Decimal("0.8")).quantize(CENT)
            lines.append(
                ServicePayment(
                    line.code, line.modifiers, line.charge, paid, allowed=allowed,
                    line_control_number=line.control_number, service_date=line.service_date,
                    adjustments=(
                        CasAdjustment("CO", "45", line.charge - allowed),
                        CasAdjustment("PR", "2", allowed - paid),
                    ),
                )
            )
        payments.append(
            ClaimPayment(
                claim.claim_number, "1", sum((x.charge for x in claim.lines), Decimal("0.00")),
                sum((x.paid for x in lines), Decimal("0.00")),
                sum((a.amount for x in lines for a in x.adjustments if a.group == "PR"), Decimal("0.00")),
                filing_indicator="12", payer_claim_control_number=f"ICN{number:08d}", lines=tuple(lines),
            )
        )
    remittance = Remittance(
        "EFT20261126", "1999999999", "FICTIONAL HEALTH PLAN", "ACH", TODAY,
        sum((p.paid for p in payments), Decimal("0.00")), claims=tuple(payments),
    )
    era = path.with_suffix(".835")
    era.write_text(write_835(remittance), encoding="ascii")
    return path, era


def _post(db_path: Path, era: Path) -> dict[str, float]:
    from infusion_desk.services.remittances import RemittanceService

    services = open_plain(db_path)
    try:
        biller = services.auth.sign_in("biller", "demo")
        start = time.perf_counter()
        result = RemittanceService(services.db).import_file(biller, era)
        seconds = time.perf_counter() - start
    finally:
        services.close()
    return {
        "post_s": seconds,
        "claims": float(len(result.claims_posted)),
        "review": float(len(result.review)),
        "denials": float(result.denials_opened),
    }


def _pyx12(era: Path) -> dict[str, float]:
    import pyx12.params
    import pyx12.x12file
    import pyx12.x12n_document

    text = era.read_text(encoding="ascii")
    start = time.perf_counter()
    pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=io.StringIO(text), fd_997=None, fd_html=None, fd_xmldoc=None
    )
    parse_s = time.perf_counter() - start
    start = time.perf_counter()
    segments = sum(1 for _ in pyx12.x12file.X12Reader(io.StringIO(text)))
    return {"pyx12_s": parse_s, "reader_s": time.perf_counter() - start, "segments": float(segments)}


def bench_remittances(clinic: Path) -> dict[str, float]:
    db_path, era = _prepare(clinic)
    try:
        os.sync()
        figures = {**_subprocess("post", db_path, era), **_subprocess("pyx12", db_path, era)}
    finally:
        for path in (db_path, era):
            path.unlink(missing_ok=True)
    figures["ratio"] = figures["post_s"] / figures["pyx12_s"]
    figures["megabytes"] = figures.get("megabytes", 0.0)
    return figures


def _subprocess(kind: str, db_path: Path, era: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "bench.remittances", kind, str(db_path), str(era)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parent.parent,
    ).stdout
    figures: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    if kind == "pyx12":
        figures["megabytes"] = era.stat().st_size / 1_048_576
    return figures


def report(figures: dict[str, float]) -> str:
    return f"""## Payments

| Figure | Measured | Baseline (same run) | Ratio | Goal |
|---|---|---|---|---|
| Import and post an 835 paying {figures['claims']:,.0f} claims ({figures['segments']:,.0f} segments, {figures['megabytes']:.1f} MB; {figures['denials']:,.0f} denial work items opened) | **{figures['post_s']:.2f} s** | pyx12 parsing the file against its 835 map: {figures['pyx12_s']:.2f} s | **{figures['ratio']:.2f}** | ratio < 1 |

The clinic's {CLAIMS:,} most recently signed visits are billed and the claims marked submitted
beforehand; the 835 pays each line found by its REF*6R (80% allowed, 80% of that paid, the rest
contractual and coinsurance) and denies the first line of every 25th claim. The import is
timed in a new process: reading the file, checking every sum, matching every claim and line,
and posting payments, adjustments, statuses, denial work items and history in one
transaction. For reference, pyx12's bare segment reader (`X12Reader`, splitting segments
without the 835 map) took {figures['reader_s']:.2f} s on the same file."""


def main() -> int:
    kind, db_path, era = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    print(json.dumps(_post(db_path, era) if kind == "post" else _pyx12(era)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
