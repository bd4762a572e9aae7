"""The manager's reports and morning dashboard, aggregated in SQL and shaped as :mod:`billing.report_model`.

    reports = ReportService(db)
    report = reports.report(actor, "aging", None, date(2026, 11, 30))
    ids = report.rows[0].claim_ids or reports.drill(actor, "aging", None, date(2026, 11, 30),
                                                    drill_key(report, report.rows[0]))
    reports.claims_behind(actor, ids)

Every figure is summed by the database (``GROUP BY``), never by a Python loop over claim
lines, so a report over a million lines takes well under a second. The claims behind each row
come with the row when the whole report stands on at most :data:`INLINE_CLAIMS` claim
references; past that a row's ``claim_ids`` is empty and :meth:`ReportService.drill` fetches
them for one row, named by :func:`drill_key` (the row's leading text values).

What counts, once for every report:

* **Billed lines** are the lines of primary claims (``P``) that were sent (not draft, ready or
  batched), neither a void nor a claim since replaced by a corrected one (their replacement
  counts instead). Secondary claims repeat the primary's charges and are not counted again.
* **A line's insurance balance** is its charge − paid − adjusted − the patient's share; its
  **patient balance** is the patient's share − what the patient paid (kept by
  :mod:`services.balances`). A share waiting for the secondary payer is insurance A/R.
* **Ages** run from the date of service (``billing/reports.py``). Balances are today's: the
  A/R "as of" a past day is today's open balance of the services up to that day.
* **A claim is adjudicated** on the payment date of its first posted answer (not a reversal),
  as in :func:`services.denials.denial_analytics`; it is **denied** when a denial work item
  was opened on it. The denial-rate report gives the same figures as the denial analytics.
* **A claim is clean on the first pass** when it was answered without a rejection on its
  history, a denial work item or a corrected (replacement or void) claim.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased

from infusion_desk.billing import denials as denial_rules
from infusion_desk.billing import reports as rules
from infusion_desk.billing.findings import error, us_date
from infusion_desk.billing.remittance import REVERSAL
from infusion_desk.billing.report_model import (
    COUNT,
    DATE,
    DAYS,
    MONEY,
    PERCENT,
    TEXT,
    Chart,
    Column,
    Figure,
    Report,
    Row,
)
from infusion_desk.models import (
    Adjustment,
    Appeal,
    Claim,
    ClaimLine,
    ClaimStatusEvent,
    DenialWorkItem,
    Drug,
    InsurancePolicy,
    LineAdjustment,
    Patient,
    PatientPayment,
    Payer,
    PaymentAllocation,
    PriorAuthorization,
    Remittance,
    RemittanceClaim,
)
from infusion_desk.models.base import Money
from infusion_desk.models.db import Database
from infusion_desk.models.enums import (
    AdjustmentGroup,
    AppealStatus,
    AuthorizationStatus,
    ClaimStatus,
    LineResponsibility,
    WorkItemStatus,
)
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.claims import clinic_today
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.errors import ValidationFailed

ZERO = rules.ZERO
INLINE_CLAIMS = 5000
"""Rows carry their claims when the report stands on at most this many (line, claim) references."""

REPORTS: dict[str, str] = {
    "denial-rate": "Denial rate by payer, reason and month",
    "clean-claims": "First-pass clean-claim rate",
    "days-in-ar": "Days in A/R",
    "aging": "A/R aging by payer",
    "collections-by-month": "Charges, payments and adjustments by month",
    "net-collection-rate": "Net collection rate",
    "drug-margin": "Revenue and margin by drug",
    "authorization-use": "Authorization use",
    "underpayments": "Underpayments by payer",
    "appeals": "Recovered by appeals",
}

AS_OF_REPORTS = frozenset({"aging"})
"""Reports of balances on one day (``end``); ``start`` is not used."""

NOT_BILLED = (ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.BATCHED)
PATIENT_STATES = {
    LineResponsibility.PATIENT_DUE: "Patients: due",
    LineResponsibility.PAYMENT_PLAN: "Patients: on a payment plan",
    LineResponsibility.IN_COLLECTIONS: "Patients: in collections",
    LineResponsibility.INSURANCE_PENDING: "Patients: share known, insurance still owes",
}
SECONDARY = "Secondary payers (patient's share waiting)"
INSURANCE = "Insurance"
PATIENT = "Patient"


@dataclass(frozen=True, slots=True)
class ClaimBehind:
    """One claim behind a figure, as the drill-down lists it."""

    claim_id: int
    claim_number: str
    patient: str
    payer: str
    service_date: date
    status: str
    charge: Decimal
    balance: Decimal
    """What is still owed on the claim's lines: the insurance's and the patient's."""


Pairs = Callable[[Session, int | None], Iterable[tuple[tuple[str, ...], int]]]
"""Reads (row key, claim id) references, at most ``limit`` raw rows (None: all)."""


@dataclass(frozen=True, slots=True)
class _Built:
    report: Report
    pairs: Pairs | None = None


def drill_key(report: Report, row: Row) -> tuple[str, ...]:
    """What names ``row`` to :meth:`ReportService.drill`: its values up to the first non-text column."""
    key: list[str] = []
    for column, value in zip(report.columns, row.values, strict=False):
        if column.kind != TEXT:
            break
        key.append(str(value))
    return tuple(key)


class ReportService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def report(self, actor: Actor, name: str, start: date | None, end: date) -> Report:
        """Report ``name`` (a key of :data:`REPORTS`) for ``start``..``end`` inclusive.

        ``start`` None is the first day of the month five months before ``end``'s (six months).
        """
        actor.require(Permission.REPORTS_VIEW)
        start = _checked(name, start, end)
        if name == "underpayments":
            return self._underpayments(actor, start, end)
        with self._db.session() as session:
            built = _BUILDERS[name](session, start, end)
            return _with_claims(session, built)

    def drill(
        self, actor: Actor, name: str, start: date | None, end: date, key: Sequence[str] = ()
    ) -> tuple[int, ...]:
        """The claims behind the row of report ``name`` whose :func:`drill_key` is ``key``.

        An empty key is the whole report (its total row). Use it when a row's ``claim_ids`` is
        empty although its figures are not (a big report leaves them out).
        """
        actor.require(Permission.REPORTS_VIEW)
        start = _checked(name, start, end)
        if name == "underpayments":
            report = self._underpayments(actor, start, end)
            wanted = tuple(key)
            rows = [r for r in report.rows if not wanted or drill_key(report, r)[: len(wanted)] == wanted]
            return tuple(sorted({i for r in rows for i in r.claim_ids}))
        with self._db.session() as session:
            built = _BUILDERS[name](session, start, end)
            if built.pairs is None:
                return ()
            wanted = tuple(key)
            return tuple(
                sorted({claim for k, claim in built.pairs(session, None) if k[: len(wanted)] == wanted})
            )

    def claims_behind(self, actor: Actor, claim_ids: Iterable[int]) -> list[ClaimBehind]:
        """The claims a figure stands on, oldest service first: number, patient, payer, status, balance.

        The list names patients, so each patient on it gets a ``view`` in the audit trail.
        """
        actor.require(Permission.REPORTS_VIEW)
        ids = sorted(set(claim_ids))
        found: list[ClaimBehind] = []
        patient_ids: set[int] = set()
        with self._db.session() as session:
            for chunk in (ids[i : i + 900] for i in range(0, len(ids), 900)):
                open_patient = sa.case(
                    (
                        ClaimLine.responsibility.in_(_OPEN_PATIENT),
                        ClaimLine.patient_responsibility - ClaimLine.patient_paid,
                    ),
                    else_=0,
                )
                owed = _money(
                    sa.func.coalesce(
                        sa.func.sum(
                            ClaimLine.charge - ClaimLine.paid - ClaimLine.adjusted
                            - ClaimLine.patient_responsibility + open_patient
                        ),
                        0,
                    )
                )
                stmt = (
                    sa.select(
                        Claim.id, Claim.claim_number, Patient.last_name, Patient.first_name, Patient.mrn,
                        Payer.name, Claim.service_date_from, Claim.status, Claim.total_charge, owed,
                        Claim.patient_id,
                    )
                    .join(Patient, Patient.id == Claim.patient_id)
                    .join(Payer, Payer.id == Claim.payer_id)
                    .outerjoin(ClaimLine, ClaimLine.claim_id == Claim.id)
                    .where(Claim.id.in_(chunk))
                    .group_by(
                        Claim.id, Claim.claim_number, Patient.last_name, Patient.first_name, Patient.mrn,
                        Payer.name, Claim.service_date_from, Claim.status, Claim.total_charge,
                    )
                )
                for r in session.execute(stmt):
                    patient_ids.add(r[10])
                    found.append(
                        ClaimBehind(
                            r[0], r[1], f"{r[2]}, {r[3]} ({r[4]})", r[5], r[6],
                            r[7].value.replace("_", " "), r[8], r[9],
                        )
                    )
            audit.record_patients(
                session, actor, "view", "report_claims", None, patient_ids, detail={"claims": len(found)}
            )
        found.sort(key=lambda c: (c.service_date, c.claim_number))
        return found

    def dashboard(self, actor: Actor, today: date | None = None) -> tuple[Figure, ...]:
        """The five numbers a manager checks each morning, each with its last six months."""
        actor.require(Permission.REPORTS_VIEW)
        with self._db.session() as session:
            today = today or clinic_today(session)
            return _dashboard(session, today)

    def _underpayments(self, actor: Actor, start: date, end: date) -> Report:
        from infusion_desk.services.contracts import ContractService

        found = ContractService(self._db).underpayments(actor, start, end)
        claims: dict[int, set[int]] = defaultdict(set)
        for line in found.rows:
            claims[line.payer_id].add(line.claim_id)
        columns = (
            Column("payer", "Payer", TEXT),
            Column("lines", "Underpaid lines", COUNT),
            Column("expected", "Expected", MONEY),
            Column("allowed", "Allowed", MONEY),
            Column("short_by", "Short by", MONEY),
            Column("checked", "Lines checked", COUNT),
            Column("no_contract", "Lines without a contract rate", COUNT),
        )
        rows = tuple(
            Row(
                (p.payer, p.lines, p.expected, p.allowed, p.short_by, p.checked, p.no_contract),
                tuple(sorted(claims[p.payer_id])),
            )
            for p in found.by_payer
        )
        total = Row(
            (
                "All payers", sum(p.lines for p in found.by_payer),
                sum((p.expected for p in found.by_payer), ZERO),
                sum((p.allowed for p in found.by_payer), ZERO),
                found.total_short, found.checked, found.no_contract + found.no_asp_price,
            ),
            tuple(sorted({i for ids in claims.values() for i in ids})),
        )
        return Report(
            "underpayments", REPORTS["underpayments"], start, end, columns, rows, total,
            Chart("bar", "payer", ("short_by",), "Short by, per payer"),
            (
                f"Paid lines with a payment dated {us_date(start)}–{us_date(end)}, priced under each payer's "
                "fee schedule (or percent of ASP for the quarter of service).",
                f"A line is underpaid when the payer allowed less than expected by more than "
                f"{found.tolerance.text}. Short by = expected − allowed.",
            ),
        )


# --- shared pieces ------------------------------------------------------------------------------

_OPEN_PATIENT = (
    LineResponsibility.PATIENT_DUE,
    LineResponsibility.PAYMENT_PLAN,
    LineResponsibility.IN_COLLECTIONS,
    LineResponsibility.SECONDARY_PENDING,
    LineResponsibility.INSURANCE_PENDING,
)


def _checked(name: str, start: date | None, end: date) -> date:
    if name not in REPORTS:
        raise ValidationFailed([error(
            "REPORT", f"There is no report named {name!r}. The reports are: {', '.join(REPORTS)}.", "name"
        )])
    if start is None:
        start = rules.month_start(rules.last_months(end, 6)[0])
    if start > end:
        raise ValidationFailed([error(
            "DATES", f"The period ends ({us_date(end)}) before it starts ({us_date(start)}).", "to"
        )])
    return start


def _money(expr: Any) -> Any:
    """Arithmetic on money columns, read back as dollars (it would come back as raw cents)."""
    return sa.type_coerce(expr, Money())


def _month(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return sa.func.strftime(sa.literal_column("'%Y-%m'"), column)
    # a literal, not a parameter: PostgreSQL must see the GROUP BY expression equal the selected one
    return sa.func.to_char(column, sa.literal_column("'YYYY-MM'"))


def _replaced() -> Any:
    """Claims a corrected claim (replacement or void) took the place of."""
    later = aliased(Claim)
    return sa.select(later.original_claim_id).where(
        later.original_claim_id.is_not(None), later.frequency_code.in_(("7", "8"))
    )


def _billed() -> sa.ColumnElement[bool]:
    return sa.and_(
        Claim.responsibility_sequence == "P",
        Claim.status.not_in(NOT_BILLED),
        Claim.frequency_code != "8",
        Claim.id.not_in(_replaced()),
    )


def _insurance_balance() -> Any:
    return ClaimLine.charge - ClaimLine.paid - ClaimLine.adjusted - ClaimLine.patient_responsibility


def _patient_balance() -> Any:
    return ClaimLine.patient_responsibility - ClaimLine.patient_paid


def _posted_answer() -> sa.ColumnElement[bool]:
    return sa.and_(
        Remittance.posted_at.is_not(None),
        RemittanceClaim.claim_id.is_not(None),
        RemittanceClaim.status_code != REVERSAL,
    )


def _sql_pairs(
    stmt: sa.Select[Any], keys: int, label: Callable[[tuple[Any, ...]], tuple[str, ...]] | None = None
) -> Pairs:
    """References from a select whose columns are ``keys`` key values then a claim id."""

    def read(session: Session, limit: int | None) -> Iterable[tuple[tuple[str, ...], int]]:
        query = stmt if limit is None else stmt.limit(limit)
        for r in session.execute(query):
            raw = tuple(r[:keys])
            yield (label(raw) if label else tuple(str(v) for v in raw)), r[keys]

    return read


def _union(*sources: Pairs) -> Pairs:
    def read(session: Session, limit: int | None) -> Iterable[tuple[tuple[str, ...], int]]:
        left = limit
        for source in sources:
            for pair in source(session, left):
                yield pair
                if left is not None:
                    left -= 1
                    if left <= 0:
                        return

    return read


def _with_claims(session: Session, built: _Built) -> Report:
    """The report with each row's claims, when the whole report stands on few enough claims."""
    if built.pairs is None:
        return built.report
    pairs = list(built.pairs(session, INLINE_CLAIMS + 1))
    if not pairs or len(pairs) > INLINE_CLAIMS:
        return built.report
    # every prefix of a pair's key names it: a row's claims are one look-up
    by_prefix: dict[tuple[str, ...], set[int]] = defaultdict(set)
    for key, claim in pairs:
        for n in range(len(key) + 1):
            by_prefix[key[:n]].add(claim)
    report = built.report

    def claims_for(row: Row) -> tuple[int, ...]:
        found = by_prefix.get(drill_key(report, row))
        return tuple(sorted(found)) if found else ()

    rows = tuple(Row(row.values, claims_for(row)) for row in report.rows)
    total = report.total
    if total is not None:
        total = Row(total.values, tuple(sorted(by_prefix.get((), ()))))
    return Report(
        report.name, report.title, report.start, report.end, report.columns, rows, total, report.chart,
        report.notes,
    )


def _period_note(start: date, end: date) -> str:
    return f"Period: {us_date(start)} to {us_date(end)}."


# --- balances: aging and days in A/R -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _DayBalance:
    day: date
    state: LineResponsibility
    payer_id: int | None
    insurance: Decimal
    patient: Decimal
    charges: Decimal


def _day_balances(session: Session, as_of: date, *, by_payer: bool = False) -> list[_DayBalance]:
    """Insurance and patient balances and charges of the billed lines served by ``as_of``, by day and state.

    One pass over the lines: the inner query sums each claim's lines of a day and state in the
    order of ``ix_claim_line_report_balances`` (no sort), so the billed-claim test and the payer
    are looked up once a claim rather than once a line.
    """
    per_claim = (
        sa.select(
            ClaimLine.service_date.label("day"),
            ClaimLine.responsibility.label("state"),
            ClaimLine.claim_id.label("claim_id"),
            sa.func.sum(_insurance_balance()).label("insurance"),
            sa.func.sum(_patient_balance()).label("patient"),
            sa.func.sum(ClaimLine.charge).label("charges"),
        )
        .where(ClaimLine.service_date <= as_of)
        .group_by(ClaimLine.service_date, ClaimLine.responsibility, ClaimLine.claim_id)
        .subquery("per_claim")
    )
    keys: list[Any] = [per_claim.c.day, per_claim.c.state]
    if by_payer:
        keys.append(Claim.payer_id)
    stmt = (
        sa.select(
            *keys,
            _money(sa.func.sum(per_claim.c.insurance)),
            _money(sa.func.sum(per_claim.c.patient)),
            _money(sa.func.sum(per_claim.c.charges)),
        )
        .select_from(per_claim)
        .join(Claim, Claim.id == per_claim.c.claim_id)
        .where(_billed())
        .group_by(*keys)
    )
    found = []
    for r in session.execute(stmt):
        day, state, *payer = r[: len(keys)]
        insurance, patient, charges = r[len(keys):]
        found.append(_DayBalance(
            day, state, payer[0] if payer else None, insurance or ZERO, patient or ZERO, charges or ZERO
        ))
    return found


def _split(
    state: LineResponsibility, insurance: Decimal, patient: Decimal
) -> list[tuple[str, str | None, Decimal]]:
    """(section, row label or None for the claim's payer, amount) parts of a line group's balance."""
    parts: list[tuple[str, str | None, Decimal]] = [(INSURANCE, None, insurance)]
    if state is LineResponsibility.SECONDARY_PENDING:
        parts.append((INSURANCE, SECONDARY, patient))
    elif state in PATIENT_STATES:
        parts.append((PATIENT, PATIENT_STATES[state], patient))
    return [p for p in parts if p[2]]


def _aging(session: Session, start: date, end: date) -> _Built:
    as_of = end
    cells: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(rules.BUCKETS, ZERO))
    payers = {i: n for i, n in session.execute(sa.select(Payer.id, Payer.name))}
    buckets: dict[date, str] = {}
    for b in _day_balances(session, as_of, by_payer=True):
        label = buckets.get(b.day)
        if label is None:
            label = buckets[b.day] = rules.aging_bucket(b.day, as_of)
        for section, row_label, amount in _split(b.state, b.insurance, b.patient):
            cells[(section, row_label or payers[b.payer_id or 0])][label] += amount
    columns = (
        Column("section", "Owed by", TEXT),
        Column("payer", "Payer", TEXT),
        *(Column(f"b{label}", f"{label} days", MONEY) for label in rules.BUCKETS),
        Column("total", "Total", MONEY),
    )
    order = sorted(cells, key=lambda k: (k[0] != INSURANCE, k[1] == SECONDARY, k[1]))
    rows = tuple(
        Row((section, name, *(cells[(section, name)][b] for b in rules.BUCKETS),
             sum(cells[(section, name)].values(), ZERO)))
        for section, name in order
        if any(cells[(section, name)].values())
    )
    totals = [sum((r.values[2 + i] for r in rows), ZERO) for i in range(len(rules.BUCKETS))]
    total = Row(("All", "All payers and patients", *totals, sum(totals, ZERO)))
    bounds = ", ".join(
        f"{label}: served {us_date(lo) if lo else 'before'}{'–' if lo else ' '}{us_date(hi) if hi else ''}"
        for label, lo, hi in rules.bucket_bounds(as_of)
    )

    # claims behind: the payer's rows and the patient rows by the line's state
    state_col = ClaimLine.responsibility
    stmt = (
        sa.select(Payer.name, state_col, _insurance_balance() != 0, _patient_balance() != 0, Claim.id)
        .select_from(ClaimLine)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(
            _billed(), ClaimLine.service_date <= as_of,
            # only lines that owe: each row read names a claim, so ``limit`` rows are ``limit`` pairs at least
            sa.or_(_insurance_balance() != 0, sa.and_(
                ClaimLine.responsibility.in_((LineResponsibility.SECONDARY_PENDING, *PATIENT_STATES)),
                _patient_balance() != 0,
            )),
        )
    )

    def pairs(session: Session, limit: int | None) -> Iterable[tuple[tuple[str, ...], int]]:
        for payer, state, owes_insurance, owes_patient, claim in session.execute(
            stmt if limit is None else stmt.limit(limit)
        ):
            if owes_insurance:
                yield (INSURANCE, payer), claim
            if owes_patient and state is LineResponsibility.SECONDARY_PENDING:
                yield (INSURANCE, SECONDARY), claim
            elif owes_patient and state in PATIENT_STATES:
                yield (PATIENT, PATIENT_STATES[state]), claim

    return _Built(
        Report(
            "aging", REPORTS["aging"], None, as_of, columns, rows, total,
            Chart("stacked_bar", "payer", tuple(f"b{label}" for label in rules.BUCKETS), "A/R by age"),
            (
                f"Open balances on {us_date(as_of)} of the services up to that day, aged from the date of "
                "service.",
                "Insurance balance of a line = charge − paid − adjusted − the patient's share. "
                "Patient balance = the patient's share − what the patient paid. A share waiting for the "
                "secondary payer is insurance A/R.",
                f"Buckets ({bounds}).",
            ),
        ),
        pairs,
    )


def _ar_and_charges(session: Session, as_of: date) -> tuple[dict[str, Decimal], dict[date, Decimal]]:
    """Open A/R (insurance + patient) by month of service and charges by day, one pass over the lines.

    Both are of the billed lines served by ``as_of``.
    """
    by_month: dict[str, Decimal] = defaultdict(lambda: ZERO)
    charges: dict[date, Decimal] = defaultdict(lambda: ZERO)
    for b in _day_balances(session, as_of):
        parts = _split(b.state, b.insurance, b.patient)
        by_month[rules.month_key(b.day)] += sum((a for _s, _l, a in parts), ZERO)
        charges[b.day] += b.charges
    return by_month, charges


@dataclass(frozen=True, slots=True)
class _ArPoint:
    month: str
    as_of: date
    ar: Decimal
    charges: Decimal
    window: tuple[date, date]

    @property
    def daily(self) -> Decimal:
        return rules.average_daily_charges(self.charges)

    @property
    def days(self) -> Decimal | None:
        return rules.days_in_ar(self.ar, self.charges)


def _ar_points(
    months: Sequence[str], end: date, ar_months: dict[str, Decimal], charges: dict[date, Decimal]
) -> list[_ArPoint]:
    """Days in A/R at each month's end (the last one at ``end``), from :func:`_ar_and_charges` on ``end``."""
    ends = [min(rules.month_end(m), end) for m in months]
    points = []
    for month, as_of in zip(months, ends, strict=True):
        first, last = rules.ar_window(as_of)
        ar = sum((a for m, a in ar_months.items() if m <= month), ZERO)
        window_charges = sum((a for d, a in charges.items() if first <= d <= last), ZERO)
        points.append(_ArPoint(month, as_of, ar, window_charges, (first, last)))
    return points


def _days_in_ar(session: Session, start: date, end: date) -> _Built:
    months = rules.months_between(start, end)
    points = _ar_points(months, end, *_ar_and_charges(session, end))
    columns = (
        Column("month", "Month", TEXT),
        Column("as_of", "As of", DATE),
        Column("ar", "Total A/R", MONEY),
        Column("charges", f"Charges, last {rules.AR_WINDOW_DAYS} days", MONEY),
        Column("daily", "Average daily charges", MONEY),
        Column("days", "Days in A/R", DAYS),
    )
    rows = tuple(Row((p.month, p.as_of, p.ar, p.charges, p.daily, p.days)) for p in points)
    last = points[-1]
    total = Row(("On " + us_date(end), end, last.ar, last.charges, last.daily, last.days))
    stmt = (
        sa.select(_month(session, ClaimLine.service_date), Claim.id)
        .select_from(ClaimLine)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(
            _billed(), ClaimLine.service_date <= end,
            sa.or_(_insurance_balance() != 0, sa.and_(
                ClaimLine.responsibility.in_(_OPEN_PATIENT), _patient_balance() != 0
            )),
        )
    )

    def pairs(session: Session, limit: int | None) -> Iterable[tuple[tuple[str, ...], int]]:
        # a month's row stands on the open balances served up to its end: the earlier months' too
        for (month,), claim in _sql_pairs(stmt, 1)(session, limit):
            for later in months:
                if later >= month:
                    yield (later,), claim

    return _Built(
        Report(
            "days-in-ar", REPORTS["days-in-ar"], start, end, columns, rows, total,
            Chart("line", "month", ("days",), "Days in A/R at each month's end"),
            (
                rules.DAYS_IN_AR_FORMULA + ".",
                f"On {us_date(end)}: {last.ar:,.2f} ÷ ({last.charges:,.2f} ÷ {rules.AR_WINDOW_DAYS}) = "
                f"{last.ar:,.2f} ÷ {last.daily:,.2f} = {last.days if last.days is not None else '—'} days "
                f"(charges for services {us_date(last.window[0])}–{us_date(last.window[1])}).",
                "Total A/R is the open insurance and patient balance of the services up to each day, as the "
                "balances stand today.",
            ),
        ),
        pairs,
    )


# --- money in and out by month ----------------------------------------------------------------------


@dataclass(slots=True)
class _Month:
    charges: Decimal = ZERO
    insurance_paid: Decimal = ZERO
    patient_paid: Decimal = ZERO
    contractual: Decimal = ZERO
    written_off: Decimal = ZERO

    @property
    def payments(self) -> Decimal:
        return self.insurance_paid + self.patient_paid

    @property
    def adjustments(self) -> Decimal:
        return self.contractual + self.written_off


def _flows(
    session: Session, start: date, end: date, charges: dict[date, Decimal] | None = None
) -> dict[str, _Month]:
    """Charges (by month of service), payments and adjustments (by the day they were made).

    ``charges`` are the billed charges by day of service when the caller has them already.
    """
    months = {m: _Month() for m in rules.months_between(start, end)}
    if charges is None:
        # by day, in the order of ix_claim_line_report_balances: no sort of the lines
        charges = {day: amount for day, amount in session.execute(
            sa.select(ClaimLine.service_date, sa.func.sum(ClaimLine.charge))
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(_billed(), ClaimLine.service_date.between(start, end))
            .group_by(ClaimLine.service_date)
        )}
    for day, amount in charges.items():
        if start <= day <= end:
            months[rules.month_key(day)].charges += amount or ZERO
    posted = sa.and_(
        Remittance.posted_at.is_not(None), RemittanceClaim.claim_id.is_not(None),
        Remittance.payment_date.between(start, end),
    )
    paid_month = _month(session, Remittance.payment_date)
    for month, amount in session.execute(
        sa.select(paid_month, sa.func.sum(RemittanceClaim.paid))
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(posted)
        .group_by(paid_month)
    ):
        months[month].insurance_paid += amount or ZERO
    for month, group, reason, amount in session.execute(
        sa.select(paid_month, Adjustment.group_code, Adjustment.reason_code, sa.func.sum(Adjustment.amount))
        .join(RemittanceClaim, RemittanceClaim.id == Adjustment.remittance_claim_id)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(posted, Adjustment.group_code != AdjustmentGroup.PR)
        .group_by(paid_month, Adjustment.group_code, Adjustment.reason_code)
    ):
        if not denial_rules.is_denial(group.value, reason):
            months[month].contractual += amount or ZERO
    received = _month(session, PatientPayment.received_on)
    for month, refund, amount in session.execute(
        sa.select(received, PatientPayment.is_refund, sa.func.sum(PatientPayment.amount))
        .where(PatientPayment.received_on.between(start, end))
        .group_by(received, PatientPayment.is_refund)
    ):
        months[month].patient_paid += -(amount or ZERO) if refund else amount or ZERO
    zone = clinic_timezone(session)
    since = datetime.combine(start, time(), zone)
    until = datetime.combine(end + timedelta(days=1), time(), zone)
    for at, amount in session.execute(
        sa.select(LineAdjustment.at, LineAdjustment.amount).where(
            LineAdjustment.at >= since, LineAdjustment.at < until
        )
    ):
        months[rules.month_key(at.astimezone(zone).date())].written_off += amount
    for at, amount in session.execute(
        sa.select(DenialWorkItem.updated_at, DenialWorkItem.amount).where(
            DenialWorkItem.status == WorkItemStatus.WRITTEN_OFF,
            DenialWorkItem.updated_at >= since, DenialWorkItem.updated_at < until,
        )
    ):
        months[rules.month_key(at.astimezone(zone).date())].written_off += amount
    return months


def _flow_pairs(session: Session, start: date, end: date) -> Pairs:
    charged = (
        sa.select(_month(session, ClaimLine.service_date), Claim.id)
        .select_from(ClaimLine)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(_billed(), ClaimLine.service_date.between(start, end))
    )
    paid = (
        sa.select(_month(session, Remittance.payment_date), RemittanceClaim.claim_id)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(
            Remittance.posted_at.is_not(None), RemittanceClaim.claim_id.is_not(None),
            Remittance.payment_date.between(start, end),
        )
    )
    patients = (
        sa.select(_month(session, PatientPayment.received_on), ClaimLine.claim_id)
        .select_from(PaymentAllocation)
        .join(PatientPayment, PatientPayment.id == PaymentAllocation.payment_id)
        .join(ClaimLine, ClaimLine.id == PaymentAllocation.claim_line_id)
        .where(PatientPayment.received_on.between(start, end))
    )
    return _union(_sql_pairs(charged, 1), _sql_pairs(paid, 1), _sql_pairs(patients, 1))


def _collections(session: Session, start: date, end: date) -> _Built:
    months = _flows(session, start, end)
    columns = (
        Column("month", "Month", TEXT),
        Column("charges", "Charges", MONEY),
        Column("insurance_paid", "Insurance payments", MONEY),
        Column("patient_paid", "Patient payments", MONEY),
        Column("payments", "Total payments", MONEY),
        Column("contractual", "Contractual adjustments", MONEY),
        Column("written_off", "Write-offs", MONEY),
        Column("adjustments", "Total adjustments", MONEY),
    )

    def values(label: str, m: _Month) -> tuple[Any, ...]:
        return (label, m.charges, m.insurance_paid, m.patient_paid, m.payments, m.contractual, m.written_off,
                m.adjustments)

    rows = tuple(Row(values(k, m)) for k, m in months.items())
    total = _Month(
        *(sum((getattr(m, f) for m in months.values()), ZERO)
          for f in ("charges", "insurance_paid", "patient_paid", "contractual", "written_off"))
    )
    return _Built(
        Report(
            "collections-by-month", REPORTS["collections-by-month"], start, end, columns,
            rows, Row(values("Total", total)),
            Chart("bar", "month", ("charges", "payments", "adjustments"),
                  "Charges, payments and adjustments"),
            (
                _period_note(start, end),
                "Charges are billed by month of service; insurance payments by the payment date of posted "
                "remittances (reversals negative); patient payments by the day received, less refunds.",
                "Contractual adjustments are the payers' non-denial CO/OA/PI/OI adjustments; write-offs are "
                "small balances and denials a manager approved writing off. Denials still being worked are "
                "not adjustments.",
            ),
        ),
        _flow_pairs(session, start, end),
    )


def _net_collection(session: Session, start: date, end: date) -> _Built:
    months = _flows(session, start, end)
    columns = (
        Column("month", "Month", TEXT),
        Column("payments", "Payments", MONEY),
        Column("charges", "Charges", MONEY),
        Column("contractual", "Contractual adjustments", MONEY),
        Column("collectable", "Charges − contractual", MONEY),
        Column("rate", "Net collection rate", PERCENT),
    )

    def values(label: str, payments: Decimal, charges: Decimal, contractual: Decimal) -> tuple[Any, ...]:
        return (label, payments, charges, contractual, charges - contractual,
                rules.net_collection_rate(payments, charges, contractual))

    rows = tuple(Row(values(k, m.payments, m.charges, m.contractual)) for k, m in months.items())
    sums = [
        sum((getattr(m, f) for m in months.values()), ZERO) for f in ("payments", "charges", "contractual")
    ]
    total = Row(values("Total", *sums))
    rate = total.values[-1]
    return _Built(
        Report(
            "net-collection-rate", REPORTS["net-collection-rate"], start, end, columns, rows, total,
            Chart("line", "month", ("rate",), "Net collection rate"),
            (
                rules.NET_COLLECTION_FORMULA + ".",
                f"For the period: {sums[0]:,.2f} ÷ ({sums[1]:,.2f} − {sums[2]:,.2f}) × 100 = "
                f"{rate if rate is not None else '—'}%.",
                _period_note(start, end) + " Payments are insurance and patient payments (less refunds) "
                "received in the month; charges by month of service.",
            ),
        ),
        _flow_pairs(session, start, end),
    )


# --- denials and clean claims ---------------------------------------------------------------------


def _first_answers(start: date, end: date) -> Any:
    first = sa.func.min(Remittance.payment_date)
    return (
        sa.select(RemittanceClaim.claim_id.label("claim_id"), first.label("first"))
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(_posted_answer())
        .group_by(RemittanceClaim.claim_id)
        .having(first.between(start, end))
        .subquery("first_answer")
    )


def _denial_tallies(
    session: Session, answered: Any, month: Any
) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """[claims adjudicated, claims with a denial, denied amount] by payer name and by month.

    One query by payer and month (the first answers are worked out once), summed each way here.
    """
    denied = (
        sa.select(
            DenialWorkItem.claim_id.label("claim_id"), sa.func.sum(DenialWorkItem.amount).label("amount")
        )
        .group_by(DenialWorkItem.claim_id)
        .subquery("denied")
    )
    payer_tallies: dict[str, list[Any]] = defaultdict(lambda: [0, 0, ZERO])
    month_tallies: dict[str, list[Any]] = defaultdict(lambda: [0, 0, ZERO])
    for payer, key, claims, with_denial, amount in session.execute(
        sa.select(
            Payer.name, month, sa.func.count(answered.c.claim_id), sa.func.count(denied.c.claim_id),
            _money(sa.func.coalesce(sa.func.sum(denied.c.amount), 0)),
        )
        .select_from(answered)
        .join(Claim, Claim.id == answered.c.claim_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .outerjoin(denied, denied.c.claim_id == answered.c.claim_id)
        .group_by(Payer.name, month)
    ):
        for tally in (payer_tallies[payer], month_tallies[key]):
            tally[0] += claims
            tally[1] += with_denial
            tally[2] += amount or ZERO
    return payer_tallies, month_tallies


def _denial_rate(session: Session, start: date, end: date) -> _Built:
    answered = _first_answers(start, end)
    month = _month(session, answered.c.first)
    payer_tallies, month_tallies = _denial_tallies(session, answered, month)

    def grouped(tallies: dict[str, list[Any]]) -> list[tuple[Any, ...]]:
        return [(key, *tallies[key]) for key in sorted(tallies)]

    columns = (
        Column("section", "By", TEXT),
        Column("group", "Group", TEXT),
        Column("claims", "Claims adjudicated", COUNT),
        Column("denied", "Claims with a denial", COUNT),
        Column("rate", "Denial rate", PERCENT),
        Column("amount", "Denied amount", MONEY),
    )
    rows: list[Row] = []
    all_claims = 0
    for key, claims, with_denial, amount in grouped(payer_tallies):
        all_claims += claims
        rows.append(Row(("Payer", key, claims, with_denial, rules.rate(with_denial, claims), amount)))
    by_category = session.execute(
        sa.select(
            DenialWorkItem.category, sa.func.count(sa.distinct(DenialWorkItem.claim_id)),
            sa.func.sum(DenialWorkItem.amount),
        )
        .join(answered, answered.c.claim_id == DenialWorkItem.claim_id)
        .group_by(DenialWorkItem.category)
    ).all()
    for category, with_denial, amount in sorted(by_category, key=lambda r: (-(r[2] or ZERO), r[0].value)):
        rows.append(Row(("Reason", _category(category), all_claims, with_denial,
                         rules.rate(with_denial, all_claims), amount or ZERO)))
    for key, claims, with_denial, amount in grouped(month_tallies):
        rows.append(Row(("Month", key, claims, with_denial, rules.rate(with_denial, claims), amount)))
    payer_rows = [r for r in rows if r.values[0] == "Payer"]
    denied_claims = sum(r.values[3] for r in payer_rows)
    total = Row(("All", "All payers", all_claims, denied_claims, rules.rate(denied_claims, all_claims),
                 sum((r.values[5] for r in payer_rows), ZERO)))

    by_payer = (
        sa.select(Payer.name, answered.c.claim_id)
        .select_from(answered)
        .join(Claim, Claim.id == answered.c.claim_id)
        .join(Payer, Payer.id == Claim.payer_id)
    )
    by_reason = (
        sa.select(DenialWorkItem.category, DenialWorkItem.claim_id)
        .join(answered, answered.c.claim_id == DenialWorkItem.claim_id)
    )
    by_month = sa.select(month, answered.c.claim_id).select_from(answered)
    pairs = _union(
        _sql_pairs(by_payer, 1, lambda k: ("Payer", str(k[0]))),
        _sql_pairs(by_reason, 1, lambda k: ("Reason", _category(k[0]))),
        _sql_pairs(by_month, 1, lambda k: ("Month", str(k[0]))),
    )
    return _Built(
        Report(
            "denial-rate", REPORTS["denial-rate"], start, end, columns, tuple(rows), total,
            Chart("bar", "group", ("rate",), "Denial rate"),
            (
                "Denial rate = claims with a denial ÷ claims adjudicated × 100.",
                f"A claim is adjudicated on the payment date of its first posted answer ({us_date(start)}–"
                f"{us_date(end)}); it has a denial when a denial work item was opened on it. By reason, the "
                "rate is that reason's denied claims ÷ every claim adjudicated in the period.",
            ),
        ),
        pairs,
    )


def _category(value: Any) -> str:
    text = value.value if hasattr(value, "value") else str(value)
    return text.replace("_", " ")


def _clean_counts(session: Session, start: date, end: date, key: Any) -> list[sa.Row[Any]]:
    answered = sa.select(RemittanceClaim.claim_id).join(
        Remittance, Remittance.id == RemittanceClaim.remittance_id
    ).where(_posted_answer())
    rejected = sa.select(ClaimStatusEvent.claim_id).where(ClaimStatusEvent.to_status == ClaimStatus.REJECTED)
    denied = sa.select(DenialWorkItem.claim_id)
    is_answered = Claim.id.in_(answered)
    is_rejected = Claim.id.in_(rejected)
    is_corrected = Claim.id.in_(_replaced())
    is_denied = Claim.id.in_(denied)
    decided = sa.or_(is_answered, is_rejected, is_corrected)
    clean = sa.and_(is_answered, sa.not_(is_rejected), sa.not_(is_corrected), sa.not_(is_denied))

    def count(condition: Any) -> Any:
        return sa.func.sum(sa.case((condition, 1), else_=0))

    stmt = (
        sa.select(key, sa.func.count(Claim.id), count(decided), count(clean))
        .where(
            Claim.responsibility_sequence == "P", Claim.frequency_code == "1",
            Claim.status.not_in(NOT_BILLED), Claim.service_date_from.between(start, end),
        )
        .group_by(key)
        .order_by(key)
    )
    return list(session.execute(stmt))


def _clean_claims(session: Session, start: date, end: date) -> _Built:
    month = _month(session, Claim.service_date_from)
    columns = (
        Column("month", "Month of service", TEXT),
        Column("billed", "Claims billed", COUNT),
        Column("waiting", "Waiting for an answer", COUNT),
        Column("decided", "Decided", COUNT),
        Column("clean", "Clean on the first pass", COUNT),
        Column("rate", "First-pass clean-claim rate", PERCENT),
    )
    counts = {
        k: (int(b), int(d or 0), int(c or 0)) for k, b, d, c in _clean_counts(session, start, end, month)
    }
    rows = []
    for key in rules.months_between(start, end):
        billed, decided, clean = counts.get(key, (0, 0, 0))
        rate = rules.first_pass_rate(clean, decided)
        rows.append(Row((key, billed, billed - decided, decided, clean, rate)))
    sums = [sum(r.values[i] for r in rows) for i in range(1, 5)]
    total = Row(("Total", *sums, rules.first_pass_rate(sums[3], sums[2])))
    pairs = (
        sa.select(month, Claim.id).where(
            Claim.responsibility_sequence == "P", Claim.frequency_code == "1",
            Claim.status.not_in(NOT_BILLED), Claim.service_date_from.between(start, end),
        )
    )
    return _Built(
        Report(
            "clean-claims", REPORTS["clean-claims"], start, end, columns, tuple(rows), total,
            Chart("line", "month", ("rate",), "First-pass clean-claim rate"),
            (
                "First-pass clean-claim rate = claims clean on the first pass ÷ claims decided × 100.",
                "Original primary claims by month of service. A claim is decided once the payer answered it, "
                "it was rejected, or a corrected claim replaced it; it is clean when it was answered with no "
                "rejection, no denial and no corrected claim. Claims still waiting are left out of the rate.",
            ),
        ),
        _sql_pairs(pairs, 1),
    )


# --- drugs, authorizations, appeals -----------------------------------------------------------------


def _drug_margin(session: Session, start: date, end: date) -> _Built:
    drugs: dict[str, tuple[str, Decimal | None]] = {}
    for hcpcs, name, cost in session.execute(
        sa.select(Drug.hcpcs, Drug.name, Drug.acquisition_cost).order_by(Drug.active.desc(), Drug.id)
    ):
        known_name, known_cost = drugs.get(hcpcs, (name, cost))
        drugs[hcpcs] = (known_name, known_cost if known_cost is not None else cost)
    where = (_billed(), ClaimLine.service_date.between(start, end), ClaimLine.code.in_(sa.select(Drug.hcpcs)))
    stmt = (
        sa.select(
            ClaimLine.code, sa.func.sum(ClaimLine.units), sa.func.sum(ClaimLine.charge),
            sa.func.sum(ClaimLine.paid), sa.func.sum(ClaimLine.patient_paid),
        )
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(*where)
        .group_by(ClaimLine.code)
    )
    columns = (
        Column("drug", "Drug", TEXT),
        Column("code", "HCPCS", TEXT),
        Column("units", "Units billed", COUNT),
        Column("charges", "Charges", MONEY),
        Column("revenue", "Paid (insurance + patient)", MONEY),
        Column("cost", "Acquisition cost", MONEY),
        Column("margin", "Margin", MONEY),
        Column("margin_rate", "Margin %", PERCENT),
    )
    rows = []
    for code, units, charges, paid, patient_paid in session.execute(stmt):
        name, unit_cost = drugs[code]
        revenue = (paid or ZERO) + (patient_paid or ZERO)
        cost = rules.drug_cost(units, unit_cost) if unit_cost is not None else None
        rows.append(Row((
            name, code, units, charges, revenue, cost,
            rules.margin(revenue, cost) if cost is not None else None,
            rules.margin_rate(revenue, cost) if cost is not None else None,
        )))
    rows.sort(key=lambda r: (-(r.values[6] if r.values[6] is not None else Decimal("-1e12")), r.values[1]))
    costed = [r for r in rows if r.values[5] is not None]
    revenue = sum((r.values[4] for r in rows), ZERO)
    cost_total = sum((r.values[5] for r in costed), ZERO)
    costed_revenue = sum((r.values[4] for r in costed), ZERO)
    total = Row((
        "All drugs", "", sum((r.values[2] for r in rows), Decimal(0)), sum((r.values[3] for r in rows), ZERO),
        revenue, cost_total, rules.margin(costed_revenue, cost_total),
        rules.margin_rate(costed_revenue, cost_total),
    ))
    pairs = (
        sa.select(ClaimLine.code, Claim.id)
        .select_from(ClaimLine)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(*where)
    )
    return _Built(
        Report(
            "drug-margin", REPORTS["drug-margin"], start, end, columns, tuple(rows), total,
            Chart("bar", "code", ("revenue", "cost", "margin"), "Revenue and cost by drug"),
            (
                "Margin = paid − acquisition cost, where paid = insurance paid + patient paid on the drug's "
                "lines and acquisition cost = units billed × the drug's cost per billing unit.",
                _period_note(start, end) + " Lines by date of service; wasted units (JW) are billed "
                "units and count as bought. A drug without an acquisition cost on file shows no margin and "
                "is left out of the total margin.",
            ),
        ),
        _sql_pairs(pairs, 1, lambda k: (drugs[str(k[0])][0], str(k[0]))),
    )


def _authorization_use(session: Session, start: date, end: date) -> _Built:
    in_period = (
        PriorAuthorization.status == AuthorizationStatus.APPROVED,
        PriorAuthorization.valid_from <= end, PriorAuthorization.valid_to >= start,
    )
    # a clinic's authorizations run to tens of thousands: read as plain rows, not through the ORM
    auths = session.connection().execute(
        sa.select(
            PriorAuthorization.id, PriorAuthorization.number,
            Patient.last_name, Patient.first_name, Patient.mrn,
            Payer.name, PriorAuthorization.valid_from, PriorAuthorization.valid_to,
            PriorAuthorization.approved_units, PriorAuthorization.approved_visits,
        )
        .join(Patient, Patient.id == PriorAuthorization.patient_id)
        .join(InsurancePolicy, InsurancePolicy.id == PriorAuthorization.policy_id)
        .join(Payer, Payer.id == InsurancePolicy.payer_id)
        .where(*in_period)
        .order_by(PriorAuthorization.valid_to, PriorAuthorization.number)
    ).all()
    ids = [a[0] for a in auths]
    window = sa.and_(
        ClaimLine.service_date >= PriorAuthorization.valid_from,
        ClaimLine.service_date <= PriorAuthorization.valid_to,
    )
    used = {
        auth_id: (units or Decimal(0), visits)
        for auth_id, units, visits in session.execute(
            sa.select(
                ClaimLine.authorization_id, sa.func.sum(ClaimLine.units),
                sa.func.count(sa.distinct(ClaimLine.service_date)),
            )
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .join(PriorAuthorization, PriorAuthorization.id == ClaimLine.authorization_id)
            .where(_billed(), *in_period, window)
            .group_by(ClaimLine.authorization_id)
        )
    } if ids else {}
    columns = (
        Column("number", "Authorization", TEXT),
        Column("patient", "Patient", TEXT),
        Column("payer", "Payer", TEXT),
        Column("valid_from", "From", DATE),
        Column("valid_to", "To", DATE),
        Column("approved_units", "Units approved", COUNT),
        Column("used_units", "Units billed", COUNT),
        Column("units_rate", "Units used", PERCENT),
        Column("approved_visits", "Visits approved", COUNT),
        Column("used_visits", "Visits billed", COUNT),
        Column("visits_rate", "Visits used", PERCENT),
    )
    keys: dict[int, tuple[str, ...]] = {}
    rows = []
    unused = (Decimal(0), 0)
    rates: dict[tuple[Any, Any], Decimal | None] = {}  # most authorizations share (used, approved)

    def rate(part: Any, whole: Any) -> Decimal | None:
        if not whole:
            return None
        key = (part, whole)
        if key not in rates:
            rates[key] = rules.rate(part, whole)
        return rates[key]

    for auth_id, number, last, first, mrn, payer, valid_from, valid_to, approved_units, approved_visits in (
        auths
    ):
        units, visits = used.get(auth_id, unused)
        patient = f"{last}, {first} ({mrn})"
        keys[auth_id] = (number, patient, payer)
        rows.append(Row((
            number, patient, payer, valid_from, valid_to, approved_units, units, rate(units, approved_units),
            approved_visits, visits, rate(visits, approved_visits),
        )))
    approved = sum((r.values[5] for r in rows if r.values[5] is not None), Decimal(0))
    units_with_limit = sum((r.values[6] for r in rows if r.values[5] is not None), Decimal(0))
    total = Row((
        "All", "", "", None, None, approved, sum((r.values[6] for r in rows), Decimal(0)),
        rules.rate(units_with_limit, approved), sum(r.values[8] or 0 for r in rows),
        sum(r.values[9] for r in rows),
        rules.rate(sum(r.values[9] for r in rows if r.values[8]), sum(r.values[8] or 0 for r in rows)),
    ))
    pairs = (
        sa.select(ClaimLine.authorization_id, Claim.id)
        .select_from(ClaimLine)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .join(PriorAuthorization, PriorAuthorization.id == ClaimLine.authorization_id)
        .where(_billed(), *in_period, window)
    )
    return _Built(
        Report(
            "authorization-use", REPORTS["authorization-use"], start, end, columns, tuple(rows), total,
            Chart("bar", "number", ("units_rate", "visits_rate"), "Share of each authorization used"),
            (
                "Units used = units billed on the authorization's claim lines within its dates ÷ units "
                "approved × 100; visits used = days of service billed ÷ visits approved × 100.",
                "Approved authorizations whose dates overlap the period. Booked visits not yet billed are in "
                "the patient's authorization burn-down, not here.",
            ),
        ),
        _sql_pairs(pairs, 1, lambda k: keys[int(k[0])]) if ids else None,
    )


def _appeals(session: Session, start: date, end: date) -> _Built:
    found = session.execute(
        sa.select(
            Payer.name, Appeal.claim_id, Appeal.status, Appeal.sent_on, Appeal.outcome_on, Appeal.amount,
            Appeal.recovered,
        )
        .join(Claim, Claim.id == Appeal.claim_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(sa.or_(Appeal.sent_on.between(start, end), Appeal.outcome_on.between(start, end)))
    ).all()

    @dataclass(slots=True)
    class Tally:
        sent: int = 0
        won: int = 0
        lost: int = 0
        asked: Decimal = ZERO
        recovered: Decimal = ZERO

    tallies: dict[str, Tally] = defaultdict(Tally)
    claims: dict[str, set[int]] = defaultdict(set)
    for payer, claim_id, status, sent_on, outcome_on, amount, recovered in found:
        tally = tallies[payer]
        claims[payer].add(claim_id)
        if sent_on is not None and start <= sent_on <= end:
            tally.sent += 1
        if outcome_on is not None and start <= outcome_on <= end:
            if status is AppealStatus.WON:
                tally.won += 1
            elif status is AppealStatus.LOST:
                tally.lost += 1
            tally.asked += amount or ZERO
            tally.recovered += recovered or ZERO
    columns = (
        Column("payer", "Payer", TEXT),
        Column("sent", "Appeals sent", COUNT),
        Column("won", "Won", COUNT),
        Column("lost", "Lost", COUNT),
        Column("win_rate", "Won of decided", PERCENT),
        Column("asked", "Asked for (decided)", MONEY),
        Column("recovered", "Recovered", MONEY),
    )

    def values(label: str, t: Tally) -> tuple[Any, ...]:
        return (label, t.sent, t.won, t.lost, rules.rate(t.won, t.won + t.lost), t.asked, t.recovered)

    rows = tuple(
        Row(values(payer, t), tuple(sorted(claims[payer])))
        for payer, t in sorted(tallies.items(), key=lambda kv: (-kv[1].recovered, kv[0]))
    )
    all_ = Tally(
        sum(t.sent for t in tallies.values()), sum(t.won for t in tallies.values()),
        sum(t.lost for t in tallies.values()), sum((t.asked for t in tallies.values()), ZERO),
        sum((t.recovered for t in tallies.values()), ZERO),
    )
    return _Built(
        Report(
            "appeals", REPORTS["appeals"], start, end, columns, rows,
            Row(values("All payers", all_), tuple(sorted({c for ids in claims.values() for c in ids}))),
            Chart("bar", "payer", ("asked", "recovered"), "Recovered by appeals"),
            (
                "Appeals sent in the period, and appeals decided in it (by the date of the outcome): what "
                "they asked for and what the payer paid back.",
                "Won of decided = appeals won ÷ (won + lost) × 100.",
            ),
        ),
        None,
    )


_BUILDERS: dict[str, Callable[[Session, date, date], _Built]] = {
    "denial-rate": _denial_rate,
    "clean-claims": _clean_claims,
    "days-in-ar": _days_in_ar,
    "aging": _aging,
    "collections-by-month": _collections,
    "net-collection-rate": _net_collection,
    "drug-margin": _drug_margin,
    "authorization-use": _authorization_use,
    "appeals": _appeals,
}


# --- dashboard ----------------------------------------------------------------------------------


def _dashboard(session: Session, today: date) -> tuple[Figure, ...]:
    months = rules.last_months(today, 6)
    start = rules.month_start(months[0])
    ar_months, charges = _ar_and_charges(session, today)
    points = _ar_points(months, today, ar_months, charges)
    answered = _first_answers(start, today)
    _payers, denial_months = _denial_tallies(session, answered, _month(session, answered.c.first))
    denial = {m: rules.rate(with_denial, claims) for m, (claims, with_denial, _a) in denial_months.items()}
    flows = _flows(session, start, today, charges)
    clean = {k: (int(d or 0), int(c or 0)) for k, _b, d, c in _clean_counts(
        session, start, today, _month(session, Claim.service_date_from)
    )}

    def trend(values: Iterable[Decimal | None]) -> tuple[tuple[str, Decimal], ...]:
        return tuple((m, v if v is not None else Decimal(0)) for m, v in zip(months, values, strict=True))

    def figure(name: str, label: str, kind: Any, series: tuple[tuple[str, Decimal], ...], better: Any,
               report: str) -> Figure:
        return Figure(name, label, series[-1][1], kind, series, better, report)

    return (
        figure("days_in_ar", "Days in A/R", DAYS, trend(p.days for p in points), "down", "days-in-ar"),
        figure(
            "denial_rate", "Denial rate", PERCENT,
            trend(denial.get(m) for m in months), "down", "denial-rate",
        ),
        figure(
            "net_collection_rate", "Net collection rate", PERCENT,
            trend(rules.net_collection_rate(flows[m].payments, flows[m].charges, flows[m].contractual)
                  for m in months),
            "up", "net-collection-rate",
        ),
        figure(
            "clean_claim_rate", "Clean-claim rate", PERCENT,
            trend(rules.first_pass_rate(clean.get(m, (0, 0))[1], clean.get(m, (0, 0))[0]) for m in months),
            "up", "clean-claims",
        ),
        figure("total_ar", "Total A/R", MONEY, trend(p.ar for p in points), "down", "aging"),
    )
