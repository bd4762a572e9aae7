"""``infusion-desk --self-test``: one small clinic day end to end, to show an installation works.

    $ infusion-desk --self-test
    Infusion Desk 0.1.0 self-test (Python 3.11.7, Linux x86_64, from source)
    PASS  open encrypted database (0.4 s)
    PASS  build demo clinic (1.9 s)
    ...
    Self-test passed: 12 of 12 steps in 8.1 s.

Everything happens in a temporary folder that is removed afterwards: a new SQLCipher database
(keyed by a passphrase given here, so no password store is needed), a small demo clinic, a
visit coded, claims built and written as an 837P that is read back, a CMS-1500, a payer's
payment posted, a patient statement, an appeal letter and a report with its chart. It
touches neither the clinic's database nor the keyring, needs no display and imports no Qt,
so it runs the same from a checkout, from the installed bundle and on a headless server.

A failing step prints ``FAIL`` with the reason and the steps that need its result print
``SKIP``; the others still run. The exit code is 0 only when every step passed.
"""

from __future__ import annotations

import platform
import re
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infusion_desk.billing.claim_data import ClaimData
    from infusion_desk.billing.remittance import ClaimPayment
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor

PASSPHRASE = "self-test passphrase, not a secret"
DEMO_PATIENTS = 6
DEMO_MONTHS = 1
DEMO_SEED = 4
TODAY = date(2026, 11, 20)
"""The demo clinic's "today": a fixed day makes every run build the same clinic and claims."""
CENT = Decimal("0.01")

_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")


class StepFailed(Exception):
    """A step's check did not hold; the message says what was found instead."""


def pdf_pages(data: bytes, what: str) -> int:
    """The page count of a PDF, checked as far as a reader needs without a PDF library.

    >>> pdf_pages(b"%PDF-1.4 1 0 obj << /Type /Page >> endobj %%EOF", "a form")
    1
    >>> pdf_pages(b"<html>", "a form")
    Traceback (most recent call last):
    ...
    infusion_desk.selftest.StepFailed: a form is not a PDF (it starts with b'<html>')
    """
    if not data:
        raise StepFailed(f"{what} is empty")
    if not data.startswith(b"%PDF-"):
        raise StepFailed(f"{what} is not a PDF (it starts with {data[:8]!r})")
    if b"%%EOF" not in data[-1024:]:
        raise StepFailed(f"{what} is cut short (no end-of-file marker)")
    pages = len(_PAGE.findall(data))
    if pages < 1:
        raise StepFailed(f"{what} has no page")
    return pages


@dataclass
class _Run:
    """What the steps hand on to each other, and the report so far."""

    folder: Path
    out: Callable[[str], None]
    db: Database | None = None
    database_path: Path | None = None
    biller: Actor | None = None
    visit_ids: list[int] = field(default_factory=list)
    claim_ids: list[int] = field(default_factory=list)
    exported: tuple[ClaimData, ...] = ()
    paid_claim: str | None = None
    denied_claim: str | None = None
    done: set[str] = field(default_factory=set)
    passed: int = 0
    failed: int = 0
    skipped: int = 0

    def step(self, name: str, needs: tuple[str, ...], action: Callable[[_Run], str | None]) -> None:
        missing = [n for n in needs if n not in self.done]
        if missing:
            self.skipped += 1
            self.out(f"SKIP  {name}: needs '{missing[0]}'")
            return
        start = time.perf_counter()
        try:
            detail = action(self)
        except Exception as exc:  # every failure is reported; the next independent step still runs
            self.failed += 1
            self.out(f"FAIL  {name} ({time.perf_counter() - start:.1f} s): {_reason(exc)}")
            return
        self.passed += 1
        self.done.add(name)
        note = f": {detail}" if detail else ""
        self.out(f"PASS  {name} ({time.perf_counter() - start:.1f} s){note}")


def _reason(exc: Exception) -> str:
    from infusion_desk.services.errors import ValidationFailed

    if isinstance(exc, StepFailed):
        return str(exc)
    if isinstance(exc, ValidationFailed):
        return "; ".join(f.message for f in exc.findings) or "refused"
    where = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    place = f" at {Path(where.filename).name}:{where.lineno}" if where else ""
    return f"{type(exc).__name__}: {exc}{place}"


def _db(run: _Run) -> Database:
    assert run.db is not None
    return run.db


def _biller(run: _Run) -> Actor:
    assert run.biller is not None
    return run.biller


# --- the steps -------------------------------------------------------------------------------------


def _open_database(run: _Run) -> str:
    from infusion_desk.models import encryption
    from infusion_desk.models.migrate import upgrade
    from infusion_desk.services.vault import open_database

    path = run.folder / "self-test.sqlite3"
    # recovery_code="" keeps a recovery code in the environment (meant for the clinic's own
    # database) from being tried on this one
    opened = open_database(f"sqlite:///{path}", passphrase=PASSPHRASE, recovery_code="")
    run.db, run.database_path = opened.db, path
    result = upgrade(opened.db)
    if not opened.db.encrypted:
        raise StepFailed("the database was opened without encryption")
    if encryption.file_state(path) is not encryption.FileState.ENCRYPTED:
        raise StepFailed("the file on disk is readable without the key")
    with opened.db.read() as connection:
        cipher = connection.exec_driver_sql("PRAGMA cipher_version").scalar()
    return f"SQLCipher {cipher}, schema {result.to_revision}"


def _demo(run: _Run) -> str:
    from infusion_desk.services.demo import generate_demo

    summary = generate_demo(_db(run), patients=DEMO_PATIENTS, months=DEMO_MONTHS, seed=DEMO_SEED, today=TODAY)
    if summary.visits < 1:
        raise StepFailed("the demo clinic has no visits")
    return f"{summary.patients} patients, {summary.visits} visits"


def _sign_in(run: _Run) -> None:
    from infusion_desk.services.auth import AuthService
    from infusion_desk.services.errors import AuthenticationFailed

    auth = AuthService(_db(run))
    run.biller = auth.sign_in("biller", "demo")
    try:
        auth.sign_in("biller", "not the password")
    except AuthenticationFailed:
        return None
    raise StepFailed("a wrong password was accepted")


def _code_visit(run: _Run) -> str:
    import sqlalchemy as sa

    from infusion_desk.models import Visit
    from infusion_desk.models.enums import VisitStatus
    from infusion_desk.services.coding import CodingService

    with _db(run).session() as session:
        run.visit_ids = list(
            session.scalars(
                sa.select(Visit.id)
                .where(Visit.status == VisitStatus.COMPLETED, Visit.signed_at.is_not(None))
                .order_by(Visit.id)
            )
        )
    if not run.visit_ids:
        raise StepFailed("the demo clinic has no signed visit to code")
    result = CodingService(_db(run)).code(_biller(run), run.visit_ids[0])
    codes = [line.code for line in result.lines]
    if not any(_drug(code) for code in codes):
        raise StepFailed(f"the visit was coded without its drug: {', '.join(codes) or 'no lines'}")
    if not any(code.startswith("96") for code in codes):
        raise StepFailed(f"the visit was coded without an administration code: {', '.join(codes)}")
    return " ".join(codes)


def _build_claims(run: _Run) -> str:
    from infusion_desk.services.claims import ClaimService

    summary = ClaimService(_db(run)).build(_biller(run), today=TODAY)
    run.claim_ids = list(summary.claim_ids)
    if summary.ready < 1:
        reasons = "; ".join(s.line() for s in summary.skipped[:2])
        why = f"; {reasons}" if reasons else ""
        raise StepFailed(f"no claim is ready to export ({len(summary.claim_ids)} built{why})")
    return f"{len(summary.claim_ids)} built, {summary.ready} ready"


def _export_837(run: _Run) -> str:
    from infusion_desk.billing.x12.read837 import read_837p
    from infusion_desk.services.batches import BatchService

    out = run.folder / "837"
    summary = BatchService(_db(run)).export(_biller(run), out_dir=out, today=TODAY)
    if not summary.files:
        raise StepFailed(f"no 837P file was written: {summary.text()}")
    claims: list[ClaimData] = []
    for exported in summary.files:
        text = exported.path.read_text(encoding="ascii")
        read = read_837p(text)
        if len(read) != exported.claims:
            raise StepFailed(
                f"{exported.path.name} holds {len(read)} claims, not the {exported.claims} written"
            )
        claims.extend(read)
    run.exported = tuple(claims)
    size = sum(f.path.stat().st_size for f in summary.files)
    return f"{len(claims)} claims in {len(summary.files)} file(s), {size:,} bytes, read back"


def _cms1500(run: _Run) -> str:
    from infusion_desk.billing.cms1500 import render_cms1500
    from infusion_desk.services.claims import ClaimService

    forms = ClaimService(_db(run)).claim_data(_biller(run), run.claim_ids[:3])
    pdf = render_cms1500(forms)
    pages = pdf_pages(pdf, "the CMS-1500")
    if pages < len(forms):
        raise StepFailed(f"the CMS-1500 for {len(forms)} claims has {pages} page(s)")
    (run.folder / "cms1500.pdf").write_bytes(pdf)
    return f"{len(forms)} claims, {pages} page(s), {len(pdf):,} bytes"


def _post_payment(run: _Run) -> str:
    """A paper EOB: the first claim paid leaving 20% coinsurance, a later one's drug line denied."""
    from infusion_desk.billing.remittance import Remittance
    from infusion_desk.services.remittances import RemittanceService

    paid = run.exported[0]
    deniable = [c for c in run.exported[1:] if len(c.lines) > 1 and any(_drug(line.code) for line in c.lines)]
    # one check pays one payer's claims: the denied claim is the same payer's where there is one
    denied = next((c for c in deniable if c.payer.payer_id == paid.payer.payer_id), None)
    payments = [_coinsurance(paid)]
    if denied is not None:
        payments.append(_denial(denied))
    remittance = Remittance(
        trace_number="SELFTEST-EOB-1", payer_identifier=paid.payer.payer_id, payer_name=paid.payer.name,
        payer_id=paid.payer.payer_id,
        payment_method="CHK", payment_date=TODAY, total_paid=sum((p.paid for p in payments), Decimal("0.00")),
        claims=tuple(payments),
    )
    result = RemittanceService(_db(run)).enter(_biller(run), remittance)
    if len(result.claims_posted) != len(payments):
        raise StepFailed(f"{len(result.claims_posted)} of {len(payments)} claims were posted")
    if denied is not None and result.denials_opened < 1:
        raise StepFailed("the denied drug line opened no denial to work")
    run.paid_claim = paid.claim_number
    run.denied_claim = denied.claim_number if denied is not None else None
    return f"${remittance.total_paid:,.2f} on {len(payments)} claims"


def _drug(code: str) -> bool:
    return code[:1] in ("J", "Q")


def _coinsurance(claim: ClaimData) -> ClaimPayment:
    """The payer allows 80% of each line and pays 80% of that; 20% is the patient's (PR-2)."""
    from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, ServicePayment

    lines = []
    for line in claim.lines:
        allowed = (line.charge * Decimal("0.8")).quantize(CENT)
        payer_paid = (allowed * Decimal("0.8")).quantize(CENT)
        lines.append(ServicePayment(
            code=line.code, modifiers=line.modifiers, charge=line.charge, paid=payer_paid, allowed=allowed,
            service_date=line.service_date, line_control_number=line.control_number,
            adjustments=(CasAdjustment("CO", "45", line.charge - allowed),
                         CasAdjustment("PR", "2", allowed - payer_paid)),
        ))
    return ClaimPayment(
        patient_control_number=claim.claim_number, status_code="1",
        total_charge=sum((line.charge for line in claim.lines), Decimal("0.00")),
        paid=sum((line.paid for line in lines), Decimal("0.00")),
        patient_responsibility=sum(
            (a.amount for line in lines for a in line.adjustments if a.group == "PR"), Decimal("0.00")
        ),
        filing_indicator="CI", payer_claim_control_number="SELFTEST-ICN-1",
        patient_last_name=claim.patient.name.last, patient_first_name=claim.patient.name.first,
        member_id=claim.subscriber.member_id, lines=tuple(lines),
    )


def _denial(claim: ClaimData) -> ClaimPayment:
    """The payer pays every line but the costliest drug, denied for want of authorization (CO-197)."""
    from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, ServicePayment

    drug = max((line for line in claim.lines if _drug(line.code)), key=lambda line: line.charge)
    lines = tuple(
        ServicePayment(
            code=line.code, modifiers=line.modifiers, charge=line.charge,
            paid=Decimal("0.00") if line is drug else line.charge,
            service_date=line.service_date, line_control_number=line.control_number,
            adjustments=(CasAdjustment("CO", "197", line.charge),) if line is drug else (),
            remark_codes=("N54",) if line is drug else (),
        )
        for line in claim.lines
    )
    total = sum((line.charge for line in claim.lines), Decimal("0.00"))
    return ClaimPayment(
        patient_control_number=claim.claim_number, status_code="1", total_charge=total,
        paid=total - drug.charge, filing_indicator="CI", payer_claim_control_number="SELFTEST-ICN-2",
        patient_last_name=claim.patient.name.last, patient_first_name=claim.patient.name.first,
        member_id=claim.subscriber.member_id, lines=lines,
    )


def _statement(run: _Run) -> str:
    from infusion_desk.services.statements import StatementService

    summary = StatementService(_db(run)).run(_biller(run), out_dir=run.folder / "statements", today=TODAY)
    if not summary.sent:
        raise StepFailed(f"no statement was sent: {summary.text()}")
    first = summary.sent[0]
    pages = pdf_pages(first.path.read_bytes(), "the statement")
    if pages != first.pages:
        raise StepFailed(f"the statement has {pages} page(s), the run recorded {first.pages}")
    if summary.run_file is not None:
        pdf_pages(summary.run_file.read_bytes(), "the run's printable file")
    return f"{len(summary.sent)} sent, ${summary.total_due:,.2f} due, {summary.pages} page(s)"


def _appeal(run: _Run) -> str:
    from infusion_desk.services.appeals import AppealService
    from infusion_desk.services.claims import ClaimService

    if run.denied_claim is None:
        raise StepFailed("no exported claim had a drug line for the payer to deny")
    claim_id = ClaimService(_db(run)).claim_id(_biller(run), run.denied_claim)
    pdf = AppealService(_db(run)).letter_for_claim(_biller(run), claim_id, today=TODAY)
    pages = pdf_pages(pdf, "the appeal letter")
    (run.folder / "appeal.pdf").write_bytes(pdf)
    return f"claim {run.denied_claim}, {pages} page(s)"


def _report(run: _Run) -> str:
    """The A/R aging report as the manager exports it: PDF with its chart (matplotlib) and XLSX."""
    from infusion_desk.billing.report_export import chart_png, to_pdf, to_xlsx
    from infusion_desk.services.auth import AuthService
    from infusion_desk.services.reports import ReportService

    manager = AuthService(_db(run)).sign_in("manager", "demo")
    report = ReportService(_db(run)).report(manager, "aging", None, TODAY)
    png = chart_png(report)
    if png is None or not png.startswith(b"\x89PNG"):
        raise StepFailed(f"the aging report of {len(report.rows)} rows drew no chart")
    pages = pdf_pages(to_pdf(report), "the report PDF")
    workbook = to_xlsx(report)
    if not workbook.startswith(b"PK"):
        raise StepFailed("the report's workbook is not an XLSX file")
    return (f"{len(report.rows)} rows, chart {len(png):,} bytes, PDF {pages} page(s), "
            f"XLSX {len(workbook):,} bytes")


def _reopen(run: _Run) -> str:
    """The file opens again with the passphrase alone (a bare SQLCipher connection) and not without it."""
    from infusion_desk.models import encryption

    path = run.database_path
    assert path is not None
    _db(run).dispose()
    key = encryption.derive_key(PASSPHRASE, encryption.file_salt(path))
    connection = encryption.connect(path, key)
    try:
        check = connection.execute("PRAGMA integrity_check").fetchone()[0]
        patients = connection.execute("SELECT count(*) FROM patient").fetchone()[0]
    finally:
        connection.close()
    if check != "ok":
        raise StepFailed(f"the integrity check says {check}")
    wrong = encryption.connect(path, encryption.derive_key("another passphrase", encryption.file_salt(path)))
    try:
        wrong.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except Exception:  # SQLCipher's "file is not a database": the wrong key is refused
        return f"{patients} patients, integrity ok, a wrong passphrase refused"
    finally:
        wrong.close()
    raise StepFailed("a wrong passphrase opened the database")


STEPS: tuple[tuple[str, tuple[str, ...], Callable[[_Run], str | None]], ...] = (
    ("open encrypted database", (), _open_database),
    ("build demo clinic", ("open encrypted database",), _demo),
    ("sign in", ("build demo clinic",), _sign_in),
    ("code a visit", ("sign in",), _code_visit),
    ("build claims", ("sign in",), _build_claims),
    ("write 837P and read it back", ("build claims",), _export_837),
    ("print CMS-1500", ("build claims",), _cms1500),
    ("post a payer's payment", ("write 837P and read it back",), _post_payment),
    ("patient statement PDF", ("post a payer's payment",), _statement),
    ("appeal letter PDF", ("post a payer's payment",), _appeal),
    ("report with chart (PDF, XLSX)", ("post a payer's payment",), _report),
    ("reopen with the passphrase", ("open encrypted database",), _reopen),
)
"""Name, the steps whose result it needs, and the step; each returns a short note or None."""


def _where() -> str:
    how = "bundled" if getattr(sys, "frozen", False) else "from source"
    return f"Python {platform.python_version()}, {platform.system()} {platform.machine()}, {how}"


def run_self_test(out: Callable[[str], None]) -> int:
    """Run every step in a temporary folder, reporting one line each to ``out``; 0 when all passed."""
    from infusion_desk import __version__

    out(f"Infusion Desk {__version__} self-test ({_where()})")
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="infusion-desk-self-test-", ignore_cleanup_errors=True) as folder:
        run = _Run(Path(folder), out)
        try:
            for name, needs, action in STEPS:
                run.step(name, needs, action)
        finally:
            if run.db is not None:
                run.db.dispose()
    seconds = time.perf_counter() - start
    total = len(STEPS)
    if run.passed == total:
        out(f"Self-test passed: {total} of {total} steps in {seconds:.1f} s.")
        return 0
    out(
        f"Self-test FAILED: {run.passed} of {total} steps passed, {run.failed} failed, "
        f"{run.skipped} skipped, in {seconds:.1f} s."
    )
    return 1


def main() -> int:
    """``python -m infusion_desk.selftest``: the same as ``infusion-desk --self-test``."""
    return run_self_test(lambda line: print(line, flush=True))


if __name__ == "__main__":
    raise SystemExit(main())
