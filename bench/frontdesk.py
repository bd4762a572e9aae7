"""Front-desk figures: the four work queues and the check-in checks for a 60-visit day.

The benchmark clinic has 100,000 patients and over a million administrations of history,
but a real clinic of 4-20 chairs sees about 60 visits a day. A copy of the cached clinic
keeps the first 60 scheduled visits of each coming day (history is untouched), and the
figures are taken on that copy for the benchmark's "today".

Each figure is compared with hand-written SQL run through ``sqlite3`` that fetches the same
rows the service needs (the baseline a developer would write without the ORM and the rules):
the ratio says what the services' model, rules and explanations cost on top of the queries.
"""

from __future__ import annotations

import shutil
import sqlite3
import statistics
import time
from datetime import timedelta
from pathlib import Path

from bench.dataset import CACHE, TODAY

VISITS_PER_DAY = 60
ROUNDS = 7


def frontdesk_database(clinic: Path) -> Path:
    """A copy of the benchmark clinic with 60 scheduled visits on each coming day."""
    path = CACHE / f"{clinic.stem}-frontdesk-{VISITS_PER_DAY}.sqlite3"
    if path.exists() and path.stat().st_mtime >= clinic.stat().st_mtime:
        return path
    partial = path.with_suffix(".partial")
    shutil.copyfile(clinic, partial)
    connection = sqlite3.connect(partial)
    with connection:
        connection.execute(
            """DELETE FROM visit WHERE status = 'scheduled' AND id NOT IN (
                 SELECT id FROM (
                   SELECT id, row_number() OVER (PARTITION BY date_of_service ORDER BY scheduled_start, id) AS n
                   FROM visit WHERE status = 'scheduled')
                 WHERE n <= ?)""",
            (VISITS_PER_DAY,),
        )
    connection.execute("VACUUM")
    connection.close()
    partial.replace(path)
    return path


# --- the hand-written baseline ------------------------------------------------------------

_RAW_COVERAGE = """
SELECT v.id, v.date_of_service, pt.last_name, pt.first_name, pt.mrn, ip.id, ip.member_id, pay.name,
       pay.reverify_days,
       (SELECT e.checked_at || '|' || e.status FROM eligibility_check e
         WHERE e.policy_id = ip.id ORDER BY e.checked_at DESC, e.id DESC LIMIT 1)
FROM visit v
JOIN patient pt ON pt.id = v.patient_id
JOIN insurance_policy ip ON ip.patient_id = v.patient_id AND ip.effective_date <= v.date_of_service
     AND (ip.termination_date IS NULL OR ip.termination_date >= v.date_of_service)
JOIN payer pay ON pay.id = ip.payer_id
WHERE v.date_of_service BETWEEN :today AND :week AND v.status IN ('scheduled', 'checked_in')
ORDER BY v.date_of_service, v.scheduled_start
"""

_RAW_AUTHORIZATIONS = """
WITH cand AS (
  SELECT pa.* FROM prior_authorization pa
  WHERE pa.status IN ('approved', 'expired') AND pa.valid_to >= :recent
    AND pa.patient_id IN (SELECT patient_id FROM visit WHERE status IN ('scheduled', 'checked_in', 'in_chair')
                          AND date_of_service BETWEEN :today AND :fortnight))
SELECT cand.id, pt.last_name, pt.first_name, pt.mrn, cand.number, cand.approved_units, cand.approved_visits,
  cand.valid_from, cand.valid_to,
  (SELECT count(*) FROM visit v JOIN physician_order o ON o.id = v.order_id JOIN drug d ON d.id = o.drug_id
     JOIN authorization_code ac ON ac.authorization_id = cand.id AND ac.code = d.hcpcs
     WHERE v.patient_id = cand.patient_id AND v.status = 'completed'
       AND v.date_of_service BETWEEN cand.valid_from AND cand.valid_to),
  (SELECT group_concat(v.date_of_service || ':' || coalesce(v.weight_kg, '')) FROM visit v
     JOIN physician_order o ON o.id = v.order_id JOIN drug d ON d.id = o.drug_id
     JOIN authorization_code ac ON ac.authorization_id = cand.id AND ac.code = d.hcpcs
     WHERE v.patient_id = cand.patient_id AND v.status IN ('scheduled', 'checked_in', 'in_chair')
       AND v.date_of_service >= :today),
  (SELECT sum(cl.units) FROM coded_line cl JOIN visit v ON v.id = cl.visit_id
     JOIN authorization_code ac ON ac.authorization_id = cand.id AND ac.code = cl.code
     WHERE v.patient_id = cand.patient_id AND v.status = 'completed'
       AND v.date_of_service BETWEEN cand.valid_from AND cand.valid_to),
  (SELECT weight_kg FROM visit w WHERE w.patient_id = cand.patient_id AND w.weight_kg IS NOT NULL
     ORDER BY w.date_of_service DESC LIMIT 1)
FROM cand JOIN patient pt ON pt.id = cand.patient_id
"""

_RAW_ORDERS = """
SELECT * FROM (
  SELECT o.id, pt.last_name, pt.first_name, pt.mrn, d.name, o.end_date, o.doses_ordered,
    (SELECT count(*) FROM visit v WHERE v.order_id = o.id AND v.status IN ('completed', 'in_chair')) AS used,
    (SELECT min(v.date_of_service) FROM visit v WHERE v.order_id = o.id
       AND v.status IN ('scheduled', 'checked_in') AND v.date_of_service >= :today) AS next_visit
  FROM physician_order o JOIN patient pt ON pt.id = o.patient_id JOIN drug d ON d.id = o.drug_id
  WHERE o.status = 'active' AND (o.end_date <= :month OR o.doses_ordered IS NOT NULL))
WHERE (end_date <= :month AND (end_date >= :today OR next_visit IS NOT NULL))
   OR (doses_ordered IS NOT NULL AND doses_ordered - used <= 1)
"""

_RAW_CLAIM_DATA = """
SELECT DISTINCT pt.id, pt.last_name, pt.first_name, pt.mrn, ip.id
FROM visit v JOIN patient pt ON pt.id = v.patient_id
LEFT JOIN insurance_policy ip ON ip.patient_id = pt.id AND ip.effective_date <= v.date_of_service
     AND (ip.termination_date IS NULL OR ip.termination_date >= v.date_of_service)
LEFT JOIN payer pay ON pay.id = ip.payer_id
WHERE v.date_of_service BETWEEN :today AND :week AND v.status IN ('scheduled', 'checked_in')
  AND (pt.address1 = '' OR pt.city = '' OR pt.zip_code = '' OR pt.sex = 'U'
       OR (ip.id IS NOT NULL AND (ip.member_id = '' OR pay.payer_id = ''
           OR (ip.subscriber_relationship != 'self' AND (ip.subscriber_first_name IS NULL
               OR ip.subscriber_last_name IS NULL OR ip.subscriber_birth_date IS NULL
               OR ip.subscriber_sex IS NULL OR ip.subscriber_address1 IS NULL)))))
"""

_RAW_CHECK_IN = (
    """SELECT v.*, pt.*, o.*, d.* FROM visit v JOIN patient pt ON pt.id = v.patient_id
       LEFT JOIN physician_order o ON o.id = v.order_id LEFT JOIN drug d ON d.id = o.drug_id WHERE v.id = :visit""",
    "SELECT icd10_code FROM order_diagnosis WHERE order_id = :order ORDER BY sequence",
    """SELECT ip.*, pay.* FROM insurance_policy ip JOIN payer pay ON pay.id = ip.payer_id
       WHERE ip.patient_id = :patient AND ip.effective_date <= :day
         AND (ip.termination_date IS NULL OR ip.termination_date >= :day)""",
    """SELECT e.* FROM eligibility_check e JOIN insurance_policy ip ON ip.id = e.policy_id
       WHERE ip.patient_id = :patient ORDER BY e.checked_at DESC LIMIT 4""",
    """SELECT pa.*, ac.code FROM prior_authorization pa JOIN authorization_code ac ON ac.authorization_id = pa.id
       WHERE pa.patient_id = :patient AND pa.status = 'approved' AND pa.valid_from <= :day AND pa.valid_to >= :day""",
    """SELECT count(*), sum(v.status = 'completed') FROM visit v WHERE v.patient_id = :patient
       AND v.order_id = :order AND v.status NOT IN ('cancelled', 'no_show')""",
    """SELECT sum(cl.units) FROM coded_line cl JOIN visit v ON v.id = cl.visit_id
       WHERE v.patient_id = :patient AND cl.code = :hcpcs""",
    """SELECT weight_kg, height_cm FROM visit WHERE patient_id = :patient AND weight_kg IS NOT NULL
       ORDER BY date_of_service DESC LIMIT 1""",
    "SELECT code, allowed FROM fee_schedule_entry WHERE code IN (:hcpcs, '96413', '96415', '96365', '96366')",
    "SELECT * FROM patient_payment WHERE visit_id = :visit",
)


def _median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def _raw_queues(connection: sqlite3.Connection) -> int:
    today = TODAY.isoformat()
    params = {
        "today": today,
        "week": (TODAY + timedelta(days=7)).isoformat(),
        "fortnight": (TODAY + timedelta(days=14)).isoformat(),
        "month": (TODAY + timedelta(days=30)).isoformat(),
        "recent": (TODAY - timedelta(days=90)).isoformat(),
    }
    rows = 0
    for sql in (_RAW_COVERAGE, _RAW_AUTHORIZATIONS, _RAW_ORDERS, _RAW_CLAIM_DATA):
        rows += len(connection.execute(sql, params).fetchall())
    return rows


def _raw_check_in(connection: sqlite3.Connection, visit: tuple[int, int, int | None, str, str]) -> None:
    visit_id, patient_id, order_id, day, hcpcs = visit
    params = {"visit": visit_id, "patient": patient_id, "order": order_id, "day": day, "hcpcs": hcpcs}
    for sql in _RAW_CHECK_IN:
        connection.execute(sql, params).fetchall()


SEARCHES = ("c", "s", "fracture left", "left right", "diabetes mellitus type 2", "K5", "pain", "crohn")
"""What a front desk types into the diagnosis picker: single letters, words, a code prefix."""


def _scan(rows: list[tuple[str, str]], query: str, limit: int) -> list[str]:
    """The baseline: every billable description scanned for the query's words, no index."""
    words = query.casefold().split()
    found = []
    for code, description in rows:
        if code.startswith(query.upper()) or all(w in description for w in words):
            found.append(code)
            if len(found) >= limit:
                break
    return found


def bench_diagnosis_search() -> dict[str, float]:
    """The diagnosis picker's search over the whole ICD-10-CM code set, against a plain scan."""
    from infusion_desk.billing import icd10

    icd10.warm_up()
    codes = icd10.code_set()
    rows = [(c, (codes.description(c) or "").casefold()) for c in codes.codes if codes.is_billable(c)]
    search_s, scan_s = [], []
    for _ in range(ROUNDS):
        for query in SEARCHES:
            start = time.perf_counter()
            icd10.search(query)
            search_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            _scan(rows, query, icd10.DEFAULT_LIMIT)
            scan_s.append(time.perf_counter() - start)
    ordered = sorted(search_s)
    return {
        "search_codes": float(len(rows)),
        "search_ms": _median_ms(search_s),
        "search_p95_ms": ordered[int(0.95 * (len(ordered) - 1))] * 1000,
        "scan_ms": _median_ms(scan_s),
        "search_ratio": statistics.median(search_s) / statistics.median(scan_s),
    }


def bench_frontdesk(clinic: Path) -> dict[str, float]:
    """Median times of the four queues and of one check-in review, with their raw-SQL baselines."""
    from infusion_desk.models.db import Database
    from infusion_desk.services.check_in import _load, review_visit
    from infusion_desk.services.worklists import Queue, compute_queues

    path = frontdesk_database(clinic)
    db = Database.open(f"sqlite:///{path}")
    raw = sqlite3.connect(path)
    try:
        day_visits = raw.execute(
            """SELECT v.id, v.patient_id, v.order_id, v.date_of_service, coalesce(d.hcpcs, '')
               FROM visit v LEFT JOIN physician_order o ON o.id = v.order_id LEFT JOIN drug d ON d.id = o.drug_id
               WHERE v.date_of_service = ? AND v.status = 'scheduled' ORDER BY v.scheduled_start""",
            (TODAY.isoformat(),),
        ).fetchall()
        # Warm both paths once (statement caches, file pages) before timing.
        with db.session() as session:
            queues = compute_queues(session, TODAY)
        _raw_queues(raw)

        queue_s, raw_queue_s = [], []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            with db.session() as session:
                queues = compute_queues(session, TODAY)
            queue_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            _raw_queues(raw)
            raw_queue_s.append(time.perf_counter() - start)

        for visit in day_visits:
            with db.session() as session:
                review_visit(session, _load(session, visit[0]), TODAY)
            _raw_check_in(raw, visit)
        check_s, raw_check_s = [], []
        for visit in day_visits:
            start = time.perf_counter()
            with db.session() as session:
                review = review_visit(session, _load(session, visit[0]), TODAY)
            check_s.append(time.perf_counter() - start)
            start = time.perf_counter()
            _raw_check_in(raw, visit)
            raw_check_s.append(time.perf_counter() - start)
        counts = {queue.value: len(queues.queue(queue)) for queue in Queue}
        patients = raw.execute("SELECT count(*) FROM patient").fetchone()[0]
        administrations = raw.execute("SELECT count(*) FROM administration").fetchone()[0]
        del review
    finally:
        raw.close()
        db.dispose()
    check_sorted = sorted(check_s)
    return {
        "day_visits": len(day_visits),
        "patients": patients,
        "administrations": administrations,
        "queues_ms": _median_ms(queue_s),
        "raw_queues_ms": _median_ms(raw_queue_s),
        "queues_ratio": statistics.median(queue_s) / statistics.median(raw_queue_s),
        "check_in_ms": _median_ms(check_s),
        "check_in_p95_ms": check_sorted[int(0.95 * (len(check_sorted) - 1))] * 1000,
        "raw_check_in_ms": _median_ms(raw_check_s),
        "check_in_ratio": statistics.median(check_s) / statistics.median(raw_check_s),
        **{f"items_{name}": float(count) for name, count in counts.items()},
        **bench_diagnosis_search(),
    }


def report(figures: dict[str, float]) -> str:
    return f"""## Front desk

| Figure | Measured | Baseline (same run) | Ratio | Goal |
|---|---|---|---|---|
| All four work queues for the next 7 days (median of {ROUNDS}) | **{figures['queues_ms']:.0f} ms** | hand-written SQL fetching the same rows: {figures['raw_queues_ms']:.0f} ms | **{figures['queues_ratio']:.2f}** | < 200 ms |
| Check-in checks and estimate, one visit (median of a {figures['day_visits']:.0f}-visit day) | **{figures['check_in_ms']:.1f} ms** (p95 {figures['check_in_p95_ms']:.1f} ms) | hand-written SQL for the same data: {figures['raw_check_in_ms']:.1f} ms | **{figures['check_in_ratio']:.2f}** | < 20 ms |
| Diagnosis picker search over {figures['search_codes']:,.0f} billable ICD-10-CM codes (median of {len(SEARCHES)} queries x {ROUNDS}) | **{figures['search_ms']:.2f} ms** (p95 {figures['search_p95_ms']:.2f} ms) | scanning every description for the words: {figures['scan_ms']:.2f} ms | **{figures['search_ratio']:.2f}** | < 50 ms |

On a copy of the benchmark clinic ({figures['patients']:,.0f} patients, {figures['administrations']:,.0f}
administrations) keeping {VISITS_PER_DAY} scheduled visits on each coming day. The queues held
{figures['items_unverified_coverage']:.0f} appointments with coverage to verify, {figures['items_authorizations_to_renew']:.0f}
authorizations to renew, {figures['items_orders_to_renew']:.0f} orders to renew and
{figures['items_missing_claim_data']:.0f} items of missing claim data. The queues are
`WorklistService`'s computation in one session; the check-in figure is `review_visit` for
each of the day's visits in its own session: coverage, eligibility window, order, prior
authorization burn-down, claim data, and today's dose coded and priced for the estimate.
The baselines run the hand-written queries a developer would write for the same data
(`bench/frontdesk.py`) through `sqlite3`, with no rules applied. The diagnosis search is
the picker's indexed search (code prefixes and description word prefixes) for single
letters, words and a code prefix; its baseline scans every billable description.
"""


def main() -> int:
    from bench.dataset import clinic_database

    print(report(bench_frontdesk(clinic_database())))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())



