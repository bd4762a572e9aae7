"""Reports figure: every manager's report over 1,000,000 claim lines, against raw SQL of the same figure.

A copy of the benchmark clinic gets 250,000 claims of four lines each (an administration, a
drug from the catalog, hydration and a push), served over the twelve months to the benchmark's
today, with the split of each line a posted 835 leaves, written by bulk SQL (not timed): 80% of
claims answered (80% of the charge allowed, 80% of that paid, the rest CO-45 and PR-2, every
25th answered claim denied with a work item), the newest 20% still waiting for insurance.

Each report is timed through ``ReportService.report`` for the last six months (aging as of
today), the claims behind each row left to ``drill`` as a big report does. The baseline is a
hand-written SQL query of the report's main figure run by ``sqlite3`` on the same file; the
goal is under 1 s per report.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from datetime import date, timedelta
from pathlib import Path

from bench.dataset import TODAY, open_plain

CLAIMS = 250_000
LINES_PER_CLAIM = 4
START = date(TODAY.year, TODAY.month, 1) - timedelta(days=150)
START = date(START.year, START.month, 1)


def _prepare(clinic: Path) -> Path:
    path = clinic.with_name(clinic.stem + "-reports.sqlite3")
    if path.exists():
        return path
    partial = path.with_suffix(".partial")
    shutil.copyfile(clinic, partial)
    con = sqlite3.connect(partial)
    first = (TODAY - timedelta(days=364)).isoformat()
    con.executescript(f"""
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TEMP TABLE pol AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, id, patient_id, payer_id
            FROM insurance_policy WHERE rank = 'primary';
        CREATE TEMP TABLE drugs AS SELECT row_number() OVER (ORDER BY id) - 1 AS n, hcpcs FROM drug;
        CREATE TEMP TABLE seq AS WITH RECURSIVE s(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM s WHERE n < {CLAIMS - 1})
            SELECT n FROM s;
        INSERT INTO claim (id, claim_number, patient_id, policy_id, payer_id, responsibility_sequence, frequency_code,
            status, service_date_from, service_date_to, place_of_service, billing_provider_npi, total_charge,
            submitted_at, findings, created_at, updated_at)
        SELECT s.n + 1, printf('R%09d', s.n), p.patient_id, p.id, p.payer_id, 'P', '1',
            CASE WHEN s.n * 5 >= {CLAIMS} * 4 THEN 'submitted' WHEN s.n % 25 = 0 THEN 'denied' ELSE 'paid' END,
            date('{first}', '+' || (s.n * 364 / {CLAIMS}) || ' days'),
            date('{first}', '+' || (s.n * 364 / {CLAIMS}) || ' days'), '11', '1234567893', 0,
            datetime('{first}', '+' || (s.n * 364 / {CLAIMS} + 2) || ' days'), '[]', '2026-01-01', '2026-01-01'
        FROM seq s JOIN pol p ON p.n = s.n % (SELECT count(*) FROM pol);
        INSERT INTO claim_line (claim_id, line_number, line_control_number, service_date, code, modifiers, units,
            charge, diagnosis_pointers, responsibility, paid, adjusted, patient_responsibility, patient_paid)
        SELECT c.id, k.k, c.claim_number || '-' || k.k, c.service_date_from,
            CASE k.k WHEN 1 THEN '96413' WHEN 2 THEN (SELECT hcpcs FROM drugs WHERE n = c.id % (SELECT count(*)
                FROM drugs)) WHEN 3 THEN '96361' ELSE '96375' END,
            '[]', CASE k.k WHEN 2 THEN 40000 ELSE 1000 END,
            CASE k.k WHEN 1 THEN 40000 WHEN 2 THEN 240000 + (c.id % 97) * 100 WHEN 3 THEN 9000 ELSE 12000 END, '[1]',
            'insurance_pending', 0, 0, 0, 0
        FROM claim c JOIN (SELECT 1 AS k UNION ALL SELECT 2 UNION ALL SELECT 3 UNION ALL SELECT 4) k;
        UPDATE claim SET total_charge = (SELECT sum(charge) FROM claim_line WHERE claim_id = claim.id);
        -- answered lines: 80% allowed, 80% of that paid, CO-45 and PR-2; denied claims keep it all with insurance
        UPDATE claim_line SET paid = charge * 64 / 100, adjusted = charge - charge * 80 / 100,
            patient_responsibility = charge * 80 / 100 - charge * 64 / 100,
            patient_paid = CASE WHEN claim_id % 3 = 0 THEN charge * 80 / 100 - charge * 64 / 100 ELSE 0 END,
            responsibility = CASE WHEN claim_id % 3 = 0 THEN 'settled' ELSE 'patient_due' END
        WHERE claim_id IN (SELECT id FROM claim WHERE status = 'paid');
        INSERT INTO remittance (id, payer_id, payer_identifier, trace_number, payment_method, payment_date, total_paid,
            posted_at, manual)
        SELECT n + 1, NULL, 'BENCH', printf('EFT%05d', n), 'ACH', date('{first}', '+' || (n + 14) || ' days'), 0,
            '2026-11-26 12:00:00', 0 FROM seq WHERE n < 400;
        INSERT INTO remittance_claim (id, remittance_id, claim_id, patient_control_number, status_code, total_charge,
            paid, patient_responsibility, remark_codes)
        SELECT c.id, (julianday(c.service_date_from) - julianday('{first}')) + 1, c.id, c.claim_number,
            CASE c.status WHEN 'denied' THEN '4' ELSE '1' END, c.total_charge,
            (SELECT sum(paid) FROM claim_line WHERE claim_id = c.id),
            (SELECT sum(patient_responsibility) FROM claim_line WHERE claim_id = c.id), '[]'
        FROM claim c WHERE c.status IN ('paid', 'denied') AND c.id <= {CLAIMS};
        INSERT INTO adjustment (remittance_claim_id, remittance_line_id, group_code, reason_code, amount)
        SELECT rc.id, NULL, 'CO', '45', (SELECT sum(adjusted) FROM claim_line WHERE claim_id = rc.claim_id)
        FROM remittance_claim rc JOIN claim c ON c.id = rc.claim_id WHERE c.status = 'paid';
        INSERT INTO adjustment (remittance_claim_id, remittance_line_id, group_code, reason_code, amount)
        SELECT rc.id, NULL, 'CO', '197', rc.total_charge
        FROM remittance_claim rc JOIN claim c ON c.id = rc.claim_id WHERE c.status = 'denied';
        INSERT INTO denial_work_item (claim_id, group_code, reason_code, remark_codes, category, amount, status,
            created_at, updated_at)
        SELECT c.id, 'CO', '197', '[]', 'authorization', c.total_charge, 'open', '2026-01-01', '2026-01-01'
        FROM claim c WHERE c.status = 'denied';
        ANALYZE;
    """)
    con.commit()
    con.close()
    partial.replace(path)
    return path


RAW = {
    "aging": """SELECT p.name, CASE WHEN l.service_date >= :b30 THEN 1 WHEN l.service_date >= :b60 THEN 2
        WHEN l.service_date >= :b90 THEN 3 WHEN l.service_date >= :b120 THEN 4 ELSE 5 END,
        sum(l.charge - l.paid - l.adjusted - l.patient_responsibility), sum(l.patient_responsibility - l.patient_paid)
        FROM claim_line l JOIN claim c ON c.id = l.claim_id JOIN payer p ON p.id = c.payer_id
        WHERE c.responsibility_sequence = 'P' AND c.status NOT IN ('draft', 'ready', 'batched')
        AND l.service_date <= :end GROUP BY 1, 2, l.responsibility""",
    "days-in-ar": """SELECT (SELECT sum(l.charge - l.paid - l.adjusted - l.patient_paid) FROM claim_line l
        WHERE l.service_date <= :end), (SELECT sum(charge) FROM claim_line WHERE service_date BETWEEN :w AND :end)""",
    "collections-by-month": """SELECT strftime('%Y-%m', l.service_date), sum(l.charge) FROM claim_line l
        JOIN claim c ON c.id = l.claim_id WHERE c.status NOT IN ('draft', 'ready', 'batched')
        AND l.service_date BETWEEN :start AND :end GROUP BY 1""",
    "net-collection-rate": """SELECT strftime('%Y-%m', r.payment_date), sum(rc.paid) FROM remittance_claim rc
        JOIN remittance r ON r.id = rc.remittance_id WHERE r.payment_date BETWEEN :start AND :end GROUP BY 1""",
    "denial-rate": """SELECT c.payer_id, count(*), count(d.claim_id) FROM (SELECT rc.claim_id, min(r.payment_date) f
        FROM remittance_claim rc JOIN remittance r ON r.id = rc.remittance_id GROUP BY rc.claim_id
        HAVING f BETWEEN :start AND :end) a JOIN claim c ON c.id = a.claim_id
        LEFT JOIN (SELECT DISTINCT claim_id FROM denial_work_item) d ON d.claim_id = a.claim_id GROUP BY 1""",
    "clean-claims": """SELECT strftime('%Y-%m', c.service_date_from), count(*),
        sum(c.id IN (SELECT claim_id FROM remittance_claim) AND c.id NOT IN (SELECT claim_id FROM denial_work_item))
        FROM claim c WHERE c.service_date_from BETWEEN :start AND :end GROUP BY 1""",
    "drug-margin": """SELECT l.code, sum(l.units), sum(l.paid + l.patient_paid) FROM claim_line l
        WHERE l.code IN (SELECT hcpcs FROM drug) AND l.service_date BETWEEN :start AND :end GROUP BY 1""",
    "authorization-use": """SELECT authorization_id, sum(units) FROM claim_line WHERE authorization_id IS NOT NULL
        GROUP BY 1""",
    "underpayments": """SELECT count(*) FROM remittance_line rl JOIN remittance_claim rc ON rc.id = rl.remittance_claim_id
        JOIN remittance r ON r.id = rc.remittance_id WHERE r.payment_date BETWEEN :start AND :end""",
    "appeals": """SELECT c.payer_id, count(*), sum(a.recovered) FROM appeal a JOIN claim c ON c.id = a.claim_id
        WHERE a.outcome_on BETWEEN :start AND :end GROUP BY 1""",
}


def _raw(path: Path, name: str) -> float:
    params = {
        "start": START.isoformat(), "end": TODAY.isoformat(), "w": (TODAY - timedelta(days=89)).isoformat(),
        **{f"b{d}": (TODAY - timedelta(days=d)).isoformat() for d in (30, 60, 90, 120)},
    }
    con = sqlite3.connect(path)
    try:
        started = time.perf_counter()
        con.execute(RAW[name], {k: v for k, v in params.items() if f":{k}" in RAW[name]}).fetchall()
        return time.perf_counter() - started
    finally:
        con.close()


def bench_reports(clinic_path: Path) -> dict[str, float]:
    from infusion_desk.services.reports import REPORTS, ReportService

    path = _prepare(clinic_path)
    figures: dict[str, float] = {}
    services = open_plain(path)
    try:
        manager = services.auth.sign_in("manager", "demo")
        with services.db.session() as session:
            from sqlalchemy import func, select

            from infusion_desk.models import ClaimLine

            figures["lines"] = float(session.scalar(select(func.count()).select_from(ClaimLine)) or 0)
        reports = ReportService(services.db)
        for name in REPORTS:
            _raw(path, name)  # the same warm cache for both
            started = time.perf_counter()
            reports.report(manager, name, START, TODAY)
            figures[f"{name}_s"] = time.perf_counter() - started
            figures[f"{name}_sql_s"] = _raw(path, name)
        started = time.perf_counter()
        reports.dashboard(manager, TODAY)
        figures["dashboard_s"] = time.perf_counter() - started
    finally:
        services.close()
    return figures


def report(figures: dict[str, float]) -> str:
    from infusion_desk.services.reports import REPORTS

    rows = "\n".join(
        f"| {title} (`{name}`) | **{figures[name + '_s']:.2f} s** | {figures[name + '_sql_s']:.2f} s | "
        f"{figures[name + '_s'] / max(figures[name + '_sql_s'], 1e-6):.1f} | < 1 s |"
        for name, title in REPORTS.items()
    )
    return f"""## Reports

| Report over {figures['lines']:,.0f} claim lines | Measured | Raw SQL of the main figure (sqlite3) | Ratio | Goal |
|---|---|---|---|---|
{rows}
| Dashboard (five figures, six months each) | **{figures['dashboard_s']:.2f} s** | | | |

{CLAIMS:,} claims of {LINES_PER_CLAIM} lines served over a year are added to the benchmark clinic by bulk
SQL (80% answered by a posted remittance, 1 in 25 of those denied, the newest 20% waiting). Each
report covers {START:%m/%d/%Y} to {TODAY:%m/%d/%Y} (aging as of the last day), through
`ReportService.report`, the claims behind each row left to `drill`."""


if __name__ == "__main__":
    from bench.dataset import clinic_database

    result = bench_reports(clinic_database())
    print(report(result))
