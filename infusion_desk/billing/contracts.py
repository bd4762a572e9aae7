"""Payer contracts: fee schedules, Medicare ASP pricing, the expected allowed amount and underpayments.

A payer's contract allows either a fixed amount per unit of a code, or a percentage of the
drug's Medicare average sales price (ASP) for the quarter the service falls in. CMS publishes
each quarter's *payment limit*, which is 106% of ASP, so "ASP + 6%" (106) is exactly the
payment limit:

    >>> fixed = FeeEntry("96413", money("180.00"), None, date(2026, 1, 1))
    >>> drug = FeeEntry("J1745", None, Decimal("106"), date(2026, 1, 1))
    >>> limits = {("J1745", date(2026, 7, 1)): Decimal("36.632")}
    >>> price_line((fixed, drug), "J1745", date(2026, 8, 3), Decimal("40"), limits).expected
    Decimal('1465.28')
    >>> price_line((fixed, drug), "96413", date(2026, 8, 3), Decimal("1"), limits).expected
    Decimal('180.00')
    >>> price_line((fixed, drug), "96365", date(2026, 8, 3), Decimal("1"), limits).status
    <PriceStatus.NO_CONTRACT: 'no contract'>

A line is underpaid when the payer allowed less than expected by more than the tolerance
(by default $1.00):

    >>> shortfall(money("1465.28"), money("1400.00"), Tolerance())
    Decimal('65.28')
    >>> shortfall(money("180.00"), money("179.50"), Tolerance()) is None
    True

Rules (each has a test in ``tests/billing/test_contracts.py``):

* **Which entry**: the entry for the code whose period holds the date of service
  (``effective_from`` ≤ date ≤ ``effective_to``, both inclusive, no end = open); when several
  do, the one that starts latest wins, so a new year's schedule supersedes the old one
  without anyone closing the old entries.
* **Which ASP**: the payment limit of the calendar quarter containing the date of service;
  no price on file for that quarter means the line cannot be priced (it is counted, never
  guessed from another quarter).
* **Arithmetic**: fixed = allowed per unit × units; ASP-based = payment limit × percent ×
  units / 106 (ASP = payment limit / 1.06, computed in that order so 106% gives the payment
  limit exactly). Every step is exact ``Decimal``; the result is rounded **once**, half up to
  the cent (as a claim amount is), at the end.
* **Units** are the units we billed on the claim line: a payer that paid fewer units
  underpaid the line.
* **Allowed** is what the payer's 835 said (AMT*B6); when it sent none, what it paid plus the
  patient's responsibility on that line (PR adjustments), which is what it allowed.
* **Tolerance**: an amount and a percentage of the expected amount; the larger of the two
  applies, and only a shortfall *more* than it counts.

Reading files: :func:`parse_fee_schedule` reads the clinic's fee schedule CSV
(``code,allowed,percent_of_asp,effective_from,effective_to``) and :func:`parse_asp_file` the
CMS quarterly ASP pricing file (CSV, with its preamble lines before the column row). Both
collect every problem with its row number (the line of the file, as a spreadsheet numbers
it: the header is row 1) and return no entries if there is any error.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from enum import StrEnum

from infusion_desk.billing.findings import Finding, error, plain, us_date, warning
from infusion_desk.billing.money import CENT, ZERO, money
from infusion_desk.billing.validation import check_hcpcs, normalize_hcpcs

__all__ = [
    "ASP_MARKUP_PERCENT",
    "FEE_COLUMNS",
    "AspFile",
    "AspPriceRow",
    "FeeEntry",
    "FeeScheduleFile",
    "LineAnswer",
    "PriceStatus",
    "Pricing",
    "Tolerance",
    "entry_in_effect",
    "expected_allowed",
    "line_allowed",
    "make_entry",
    "parse_asp_file",
    "parse_date",
    "parse_fee_schedule",
    "parse_quarter",
    "parse_tolerance",
    "price_line",
    "quarter_label",
    "quarter_start",
    "shortfall",
    "standing_answers",
]

ASP_MARKUP_PERCENT = Decimal("106")
"""CMS's payment limit is 106% of ASP: a contract at 106 percent of ASP pays the limit."""

FEE_COLUMNS = ("code", "allowed", "percent_of_asp", "effective_from", "effective_to")
"""The fee schedule CSV's columns, in the order the template and the export write them."""

MAX_ALLOWED = Decimal("1000000")
MAX_PERCENT = Decimal("1000")
_DRUG_CODE = re.compile(r"[A-V]\d{4}")
_QUARTER = re.compile(r"(\d{4})\s*-?\s*Q([1-4])", re.IGNORECASE)


# --- the records --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FeeEntry:
    """What a contract allows for one code over a period: a fixed amount per unit or a percent of ASP."""

    code: str
    allowed: Decimal | None
    """Per billing unit, to at most four decimal places."""
    percent_of_asp: Decimal | None
    """106 means ASP + 6% (the Medicare payment limit)."""
    effective_from: date
    effective_to: date | None = None
    """The last day it applies (inclusive); ``None``: until replaced."""

    def covers(self, day: date) -> bool:
        return self.effective_from <= day and (self.effective_to is None or day <= self.effective_to)

    @property
    def basis(self) -> str:
        """How the entry prices a unit, as a person reads it: ``$180.00 a unit``, ``106% of ASP``."""
        if self.percent_of_asp is not None:
            return f"{plain(self.percent_of_asp)}% of ASP"
        assert self.allowed is not None
        return f"${_unit_amount(self.allowed)} a unit"


@dataclass(frozen=True, slots=True)
class AspPriceRow:
    """One code of the CMS ASP pricing file: its payment limit per HCPCS billing unit."""

    code: str
    payment_limit: Decimal
    dosage: str | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class FeeScheduleFile:
    entries: tuple[FeeEntry, ...]
    """Empty whenever ``findings`` holds an error: a bad file imports nothing."""
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.blocks for f in self.findings)


@dataclass(frozen=True, slots=True)
class AspFile:
    prices: tuple[AspPriceRow, ...]
    """Empty whenever ``findings`` holds an error."""
    findings: tuple[Finding, ...]
    skipped: int = 0
    """Codes listed without a payment limit (left to the Medicare contractor): not imported."""

    @property
    def ok(self) -> bool:
        return not any(f.blocks for f in self.findings)


class PriceStatus(StrEnum):
    PRICED = "priced"
    NO_CONTRACT = "no contract"
    NO_ASP_PRICE = "no ASP price"


@dataclass(frozen=True, slots=True)
class Pricing:
    status: PriceStatus
    expected: Decimal | None
    """The expected allowed amount for the line, to the cent; ``None`` unless priced."""
    basis: str
    """How it was priced (or why not), for the person reading the list."""


@dataclass(frozen=True, slots=True)
class Tolerance:
    """How far below expected the payer may allow before the line is listed."""

    amount: Decimal = Decimal("1.00")
    percent: Decimal = Decimal("0")
    """Of the expected amount; 0: the amount alone decides."""

    def threshold(self, expected: Decimal) -> Decimal:
        return max(self.amount, expected * self.percent / 100)

    @property
    def text(self) -> str:
        amount = f"${self.amount:,.2f}"
        return f"{amount} or {plain(self.percent)}%, whichever is more" if self.percent else amount


@dataclass(frozen=True, slots=True)
class LineAnswer:
    """What one posted remittance said about one of our claim lines (or, for a reversal, a claim).

    A reversal (CLP02 22) takes back every earlier answer for the claim; ``claim_line_id`` is
    ``None`` for a reversal recorded at claim level.
    """

    claim_id: int
    claim_line_id: int | None
    reversal: bool
    paid: Decimal = ZERO
    allowed: Decimal | None = None
    patient_responsibility: Decimal = ZERO
    payment_date: date | None = None
    denied: bool = False
    """The payer denied the claim as a whole (CLP02 4)."""


# --- dates and quarters -----------------------------------------------------------------------


def quarter_start(day: date) -> date:
    """The first day of the calendar quarter holding ``day``.

    >>> quarter_start(date(2026, 8, 3))
    datetime.date(2026, 7, 1)
    """
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarter_label(start: date) -> str:
    """The quarter as people write it.

    >>> quarter_label(date(2026, 7, 1))
    '2026-Q3'
    """
    return f"{start.year}-Q{(start.month - 1) // 3 + 1}"


def parse_quarter(text: str) -> date:
    """``"2026-Q3"`` (or ``2026Q3``) to the quarter's first day; ``ValueError`` with the fix otherwise.

    >>> parse_quarter("2026-q3")
    datetime.date(2026, 7, 1)
    """
    found = _QUARTER.fullmatch(text.strip())
    if found is None:
        raise ValueError(f"{text.strip()!r} is not a quarter: write the year and quarter, e.g. 2026-Q3.")
    return date(int(found.group(1)), 3 * (int(found.group(2)) - 1) + 1, 1)


def parse_date(text: str) -> date:
    """A date as a clinic writes it in a spreadsheet: ``2026-01-01`` or ``01/01/2026``.

    >>> parse_date("1/2/2026"), parse_date("2026-01-02")
    (datetime.date(2026, 1, 2), datetime.date(2026, 1, 2))
    """
    value = text.strip()
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    raise ValueError(f"{value!r} is not a date: write it as YYYY-MM-DD or MM/DD/YYYY.")


# --- one entry -----------------------------------------------------------------------------------


_LARGEST_EXPONENT = 10
"""A number read from a file or typed is below 10**11: far above any rate or price (a gene
therapy's payment limit is a few million dollars), and small enough to store at four decimal
places in a 64-bit column. ``1E+999999999`` is refused here, not by an overflow later."""
_SMALLEST_EXPONENT = -12
"""A non-zero number is at least 10**-12 (more places than any amount keeps)."""


def _number(text: str) -> Decimal:
    cleaned = text.strip().replace("$", "").replace(",", "").removesuffix("%").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not value.is_finite():
        raise ValueError(text)
    if value and not _SMALLEST_EXPONENT <= value.adjusted() <= _LARGEST_EXPONENT:
        raise ValueError(text)
    return value


def _places(value: Decimal) -> int:
    exponent = value.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _unit_amount(value: Decimal) -> str:
    """An amount per unit: cents always, more places only when it has them (``36.632``)."""
    return f"{value:,.2f}" if _places(value) <= 2 else f"{value.normalize():,f}"


def make_entry(
    code: str,
    allowed: str,
    percent_of_asp: str,
    effective_from: date | None,
    effective_to: date | None,
    where: str = "",
) -> tuple[FeeEntry | None, tuple[Finding, ...]]:
    """Check one fee schedule entry as typed; the entry, or ``None`` and every problem found.

    ``where`` starts each message (``"Row 4: "``) and is the findings' subject prefix.

    >>> entry, findings = make_entry("j1745", "", "106%", date(2026, 1, 1), None)
    >>> entry.code, entry.percent_of_asp, findings
    ('J1745', Decimal('106'), ())
    >>> _, findings = make_entry("96413", "150", "106", date(2026, 1, 1), None, "Row 4: ")
    >>> print(findings[0].message)
    Row 4: give either an allowed amount or a percent of ASP for 96413, not both.
    """
    findings: list[Finding] = []
    prefix = where
    subject = where.strip().rstrip(":").lower().replace(" ", "")
    field = (lambda name: f"{subject}.{name}") if subject else (lambda name: name)
    code_value = normalize_hcpcs(code)
    for finding in check_hcpcs(code_value, "code"):
        findings.append(error(finding.code, f"{prefix}{finding.message}", field("code")))
    allowed_value: Decimal | None = None
    percent_value: Decimal | None = None
    shown = code_value or "this code"
    if allowed.strip() and percent_of_asp.strip():
        findings.append(
            error(
                "FEE_BASIS",
                f"{prefix}give either an allowed amount or a percent of ASP for {shown}, not both.",
                field("allowed"),
            )
        )
    elif not allowed.strip() and not percent_of_asp.strip():
        findings.append(
            error(
                "FEE_BASIS",
                f"{prefix}give the allowed amount per unit (e.g. 180.00) or a percent of ASP "
                f"(e.g. 106) for {shown}.",
                field("allowed"),
            )
        )
    elif allowed.strip():
        try:
            allowed_value = _number(allowed)
        except ValueError:
            findings.append(
                error("FEE_AMOUNT", f"{prefix}allowed {allowed.strip()!r} is not an amount (e.g. 180.00).",
                      field("allowed"))
            )
        else:
            if allowed_value < 0 or allowed_value >= MAX_ALLOWED:
                findings.append(
                    error("FEE_AMOUNT", f"{prefix}allowed ${allowed_value:,} must be from $0.00 to "
                          f"${MAX_ALLOWED - CENT:,} a unit.", field("allowed"))
                )
            elif _places(allowed_value) > 4:
                findings.append(
                    error("FEE_AMOUNT", f"{prefix}allowed {allowed.strip()} has more than four decimal "
                          "places; round it to at most four (e.g. 36.6325).", field("allowed"))
                )
    else:
        try:
            percent_value = _number(percent_of_asp)
        except ValueError:
            findings.append(
                error("FEE_PERCENT", f"{prefix}percent of ASP {percent_of_asp.strip()!r} is not a number "
                      "(write 106 for ASP + 6%).", field("percent_of_asp"))
            )
        else:
            if percent_value <= 0 or percent_value > MAX_PERCENT:
                findings.append(
                    error("FEE_PERCENT", f"{prefix}percent of ASP {plain(percent_value)} must be more than 0 "
                          f"and at most {MAX_PERCENT} (106 is ASP + 6%).", field("percent_of_asp"))
                )
            elif _places(percent_value) > 3:
                findings.append(
                    error("FEE_PERCENT", f"{prefix}percent of ASP {percent_of_asp.strip()} has more than "
                          "three decimal places.", field("percent_of_asp"))
                )
            elif code_value and not _DRUG_CODE.fullmatch(code_value):
                findings.append(
                    error("FEE_ASP_CODE", f"{prefix}{code_value} is a CPT code; only drugs (HCPCS codes such "
                          "as J1745) have an ASP. Give its allowed amount instead.", field("percent_of_asp"))
                )
    if effective_from is None:
        findings.append(
            error("FEE_DATES", f"{prefix}the date the rate starts (effective_from) is required.",
                  field("effective_from"))
        )
    elif effective_to is not None and effective_to < effective_from:
        findings.append(
            error("FEE_DATES", f"{prefix}the rate for {shown} ends ({us_date(effective_to)}) before it "
                  f"starts ({us_date(effective_from)}).", field("effective_to"))
        )
    if any(f.blocks for f in findings) or effective_from is None:
        return None, tuple(findings)
    return FeeEntry(code_value, allowed_value, percent_value, effective_from, effective_to), tuple(findings)


# --- the fee schedule CSV ----------------------------------------------------------------------


def _header(row: Sequence[str]) -> list[str]:
    return [" ".join(cell.replace("\ufeff", "").strip().lower().replace("_", " ").split()) for cell in row]


def parse_fee_schedule(text: str) -> FeeScheduleFile:
    r"""Read a fee schedule CSV: every row checked, every problem named by its row.

    >>> good = parse_fee_schedule(
    ...     "code,allowed,percent_of_asp,effective_from,effective_to\n"
    ...     "96413,180.00,,2026-01-01,\n"
    ...     "J1745,,106,2026-01-01,12/31/2026\n"
    ... )
    >>> [(e.code, e.basis) for e in good.entries]
    [('96413', '$180.00 a unit'), ('J1745', '106% of ASP')]
    >>> bad = parse_fee_schedule("code,allowed,percent_of_asp,effective_from\nJ17,12,,2026-01-01\n")
    >>> bad.entries, bad.findings[0].message[:27]
    ((), "Row 2: code: 'J17' is not a")
    """
    reader = csv.reader(io.StringIO(text, newline=None))  # a lone \r ends a row too
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        return FeeScheduleFile((), (_not_csv(reader.line_num, exc),))
    rows = [(number, row) for number, row in rows if any(cell.strip() for cell in row)]
    if not rows:
        return FeeScheduleFile((), (error("FEE_FILE", "The file is empty: the first row must name the "
                                          f"columns ({','.join(FEE_COLUMNS)}).", "file"),))
    (header_line, header), body = rows[0], rows[1:]
    names = _header(header)
    wanted = {name: name.replace("_", " ") for name in FEE_COLUMNS}
    index = {name: names.index(label) for name, label in wanted.items() if label in names}
    missing = [n for n in ("code", "effective_from") if n not in index]
    if "allowed" not in index and "percent_of_asp" not in index:
        missing.append("allowed or percent_of_asp")
    if missing:
        return FeeScheduleFile((), (error(
            "FEE_COLUMNS",
            f"Row {header_line}: the first row must name the columns; missing {', '.join(missing)}. "
            f"Use the columns {','.join(FEE_COLUMNS)} (see fee_schedule_template.csv).",
            "file",
        ),))
    if not body:
        return FeeScheduleFile((), (error("FEE_FILE", "The file has column names but no rates.", "file"),))

    def cell(row: Sequence[str], name: str) -> str:
        at = index.get(name)
        return row[at].strip() if at is not None and at < len(row) else ""

    findings: list[Finding] = []
    entries: list[FeeEntry] = []
    seen: dict[tuple[str, date], int] = {}
    for number, row in body:
        where = f"Row {number}: "
        dates: dict[str, date | None] = {}
        for name in ("effective_from", "effective_to"):
            value = cell(row, name)
            try:
                dates[name] = parse_date(value) if value else None
            except ValueError as exc:
                dates[name] = None
                findings.append(error("FEE_DATES", f"{where}{name} {exc}", f"row{number}.{name}"))
        bad_date = any(f.subject.startswith(f"row{number}.") for f in findings)
        entry, problems = make_entry(
            cell(row, "code"),
            cell(row, "allowed"),
            cell(row, "percent_of_asp"),
            dates["effective_from"],
            dates["effective_to"],
            where,
        )
        if bad_date:  # the date's own message says it; "is required" would repeat it
            problems = tuple(p for p in problems if p.code != "FEE_DATES")
        findings.extend(problems)
        if entry is None or bad_date:
            continue
        key = (entry.code, entry.effective_from)
        if key in seen:
            findings.append(
                error(
                    "FEE_DUPLICATE",
                    f"{where}{entry.code} from {us_date(entry.effective_from)} is already on row "
                    f"{seen[key]}; keep one of the two rows.",
                    f"row{number}.code",
                )
            )
            continue
        seen[key] = number
        entries.append(entry)
    ok = not any(f.blocks for f in findings)
    return FeeScheduleFile(tuple(entries) if ok else (), tuple(findings))


# --- the CMS ASP pricing file -------------------------------------------------------------------


def _not_csv(line: int, exc: csv.Error) -> Finding:
    """One finding for a file that breaks the CSV format.

    Most often a quote that is never closed makes one cell longer than the csv module reads.
    """
    reason = str(exc)
    if "field larger" in reason:
        reason = f"a cell is longer than {csv.field_size_limit():,} characters"
    return error(
        "CSV",
        f"Row {line or 1}: the file cannot be read as CSV ({reason}); check for a quote (\") that is never "
        "closed, and save the spreadsheet again as CSV.",
        "file",
    )


def _cell(row: Sequence[str], columns: Mapping[str, int], name: str) -> str:
    at = columns.get(name)
    return row[at].strip() if at is not None and at < len(row) else ""


def parse_asp_file(text: str) -> AspFile:
    r"""Read the CMS quarterly ASP pricing file (the CSV in the quarter's ZIP).

    CMS puts a few lines of title and notes above the column row ("HCPCS Code", "Short
    Description", "HCPCS Code Dosage", "Payment Limit", ...); they are skipped, as are notes
    after the table. A code listed without a payment limit is left out (counted in
    ``skipped``).

    >>> asp = parse_asp_file(
    ...     "ASP Pricing File,,,\n"
    ...     "Note: payment limits are 106% of ASP,,,\n"
    ...     "HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit\n"
    ...     "J1745,Infliximab not biosimil 10mg,10 MG,36.632\n"
    ...     "J9999,Not otherwise classified,,\n"
    ... )
    >>> asp.prices[0].payment_limit, asp.skipped
    (Decimal('36.632'), 1)
    """
    reader = csv.reader(io.StringIO(text, newline=None))  # a lone \r ends a row too
    columns: dict[str, int] | None = None
    header_line = 0
    findings: list[Finding] = []
    prices: list[AspPriceRow] = []
    seen: dict[str, int] = {}
    skipped = 0
    try:
        rows = [(reader.line_num, row) for row in reader]
    except csv.Error as exc:
        return AspFile((), (_not_csv(reader.line_num, exc),))
    for number, row in rows:
        if columns is None:
            names = _header(row)
            if "hcpcs code" in names and "payment limit" in names:
                columns = {name: names.index(name) for name in
                           ("hcpcs code", "short description", "hcpcs code dosage", "payment limit")
                           if name in names}
                header_line = number
            continue

        raw_code, raw_limit = _cell(row, columns, "hcpcs code"), _cell(row, columns, "payment limit")
        if not raw_code and not raw_limit:
            continue
        code = normalize_hcpcs(raw_code)
        valid_code = not check_hcpcs(code)
        if not raw_limit:
            if valid_code:
                skipped += 1
            continue  # a code the contractor prices, or a footnote under the table
        where = f"Row {number}: "
        if not valid_code:
            findings.append(
                error("ASP_CODE", f"{where}{raw_code!r} is not a HCPCS code.", f"row{number}.code")
            )
            continue
        try:
            limit = _number(raw_limit)
        except ValueError:
            findings.append(error("ASP_LIMIT", f"{where}the payment limit of {code}, {raw_limit!r}, is not "
                                  "an amount.", f"row{number}.payment_limit"))
            continue
        if limit < 0 or _places(limit) > 4:
            findings.append(error("ASP_LIMIT", f"{where}the payment limit of {code}, {raw_limit}, must be an "
                                  "amount of at least 0 with at most four decimal places.",
                                  f"row{number}.payment_limit"))
            continue
        if code in seen:
            findings.append(error("ASP_DUPLICATE", f"{where}{code} is listed again (first on row "
                                  f"{seen[code]}).", f"row{number}.code"))
            continue
        seen[code] = number
        prices.append(AspPriceRow(code, limit, _cell(row, columns, "hcpcs code dosage")[:60] or None,
                                  _cell(row, columns, "short description")[:200] or None))
    if columns is None:
        return AspFile((), (error(
            "ASP_FILE",
            "No row names the columns 'HCPCS Code' and 'Payment Limit': use the CSV pricing file from "
            "the quarter's ZIP on the CMS ASP pricing files page.",
            "file",
        ),))
    if not prices and not findings:
        findings.append(error("ASP_FILE", f"The file has its column row (row {header_line}) but no prices.",
                              "file"))
    if skipped:
        findings.append(warning("ASP_SKIPPED", f"{skipped} code(s) have no payment limit in the file "
                                "(priced by the Medicare contractor): not imported.", "file"))
    ok = not any(f.blocks for f in findings)
    return AspFile(tuple(prices) if ok else (), tuple(findings), skipped)


# --- pricing a line -------------------------------------------------------------------------------


def entry_in_effect(entries: Iterable[FeeEntry], code: str, day: date) -> FeeEntry | None:
    """The entry for ``code`` covering ``day``; the latest-starting one when several do.

    >>> old = FeeEntry("96413", money("170"), None, date(2025, 1, 1))
    >>> new = FeeEntry("96413", money("180"), None, date(2026, 1, 1))
    >>> entry_in_effect((old, new), "96413", date(2025, 12, 31)).allowed
    Decimal('170.00')
    """
    candidates = [e for e in entries if e.code == code and e.covers(day)]
    return max(candidates, key=lambda e: e.effective_from, default=None)


def expected_allowed(entry: FeeEntry, units: Decimal, payment_limit: Decimal | None = None) -> Decimal:
    """The expected allowed amount for ``units`` of the entry's code, rounded once to the cent.

    ``payment_limit`` (per billing unit, as CMS publishes it) is needed for an ASP-based entry.

    >>> expected_allowed(FeeEntry("J1745", None, Decimal("104.5"), date(2026, 1, 1)), Decimal("3"),
    ...                  Decimal("10.600"))
    Decimal('31.35')
    """
    if units < 0:
        raise ValueError(f"units must not be negative: {units}")
    if entry.percent_of_asp is not None:
        if payment_limit is None:
            raise ValueError(f"{entry.code} is priced on ASP but no payment limit was given")
        exact = payment_limit * entry.percent_of_asp * units / ASP_MARKUP_PERCENT
    else:
        assert entry.allowed is not None
        exact = entry.allowed * units
    return exact.quantize(CENT, rounding=ROUND_HALF_UP)


def price_line(
    entries: Iterable[FeeEntry],
    code: str,
    day: date,
    units: Decimal,
    payment_limits: Mapping[tuple[str, date], Decimal],
) -> Pricing:
    """Price one billed line under a payer's fee schedule (``payment_limits`` by (code, quarter start))."""
    entry = entry_in_effect(entries, code, day)
    if entry is None:
        return Pricing(PriceStatus.NO_CONTRACT, None, f"no fee schedule entry for {code} on {us_date(day)}")
    units_text = plain(units)
    if entry.percent_of_asp is None:
        return Pricing(PriceStatus.PRICED, expected_allowed(entry, units), f"{entry.basis} × {units_text}")
    quarter = quarter_start(day)
    limit = payment_limits.get((code, quarter))
    if limit is None:
        return Pricing(
            PriceStatus.NO_ASP_PRICE, None, f"no ASP payment limit for {code} in {quarter_label(quarter)}"
        )
    return Pricing(
        PriceStatus.PRICED,
        expected_allowed(entry, units, limit),
        f"{entry.basis} (limit ${_unit_amount(limit)}, {quarter_label(quarter)}) × {units_text}",
    )


# --- what the payer allowed ---------------------------------------------------------------------


def line_allowed(answer: LineAnswer) -> Decimal:
    """AMT*B6 when the payer sent it; else what it paid plus the patient's share of the line.

    >>> line_allowed(LineAnswer(1, 7, False, paid=money("80"), patient_responsibility=money("20")))
    Decimal('100.00')
    """
    if answer.allowed is not None:
        return answer.allowed
    return answer.paid + answer.patient_responsibility


def standing_answers(answers: Iterable[LineAnswer]) -> dict[int, LineAnswer]:
    """The payer's answer that still stands for each claim line, from answers in posting order.

    A later answer replaces an earlier one; a reversal of a claim withdraws every earlier
    answer for its lines (the corrected payment that follows, if any, stands instead).

    >>> paid = LineAnswer(1, 7, False, paid=money("80"))
    >>> standing_answers([paid, LineAnswer(1, None, True)])
    {}
    """
    standing: dict[int, LineAnswer] = {}
    lines_of_claim: dict[int, set[int]] = {}
    for answer in answers:
        if answer.reversal:
            for line_id in lines_of_claim.pop(answer.claim_id, set()):
                standing.pop(line_id, None)
            continue
        if answer.claim_line_id is None:
            continue
        standing[answer.claim_line_id] = answer
        lines_of_claim.setdefault(answer.claim_id, set()).add(answer.claim_line_id)
    return standing


# --- the tolerance and the shortfall ------------------------------------------------------------


def parse_tolerance(amount: str, percent: str = "") -> tuple[Tolerance | None, tuple[Finding, ...]]:
    """The tolerance as typed (``"1.00"``, ``"$5"``; percent ``"2"`` or blank).

    >>> parse_tolerance("$5", "2")[0]
    Tolerance(amount=Decimal('5.00'), percent=Decimal('2'))
    >>> print(parse_tolerance("five")[1][0].message)
    Tolerance 'five' is not an amount: write dollars and cents, e.g. 1.00.
    """
    findings: list[Finding] = []
    amount_value = Decimal("1.00")
    percent_value = Decimal("0")
    if amount.strip():
        try:
            amount_value = money(_number(amount))
        except ValueError:
            findings.append(error("TOLERANCE", f"Tolerance {amount.strip()!r} is not an amount: write "
                                  "dollars and cents, e.g. 1.00.", "tolerance"))
        else:
            if amount_value < 0:
                findings.append(error("TOLERANCE", "The tolerance cannot be negative.", "tolerance"))
    if percent.strip():
        try:
            percent_value = _number(percent)
        except ValueError:
            findings.append(error("TOLERANCE", f"Tolerance percent {percent.strip()!r} is not a number "
                                  "(e.g. 2 for 2%).", "tolerance_percent"))
        else:
            if not 0 <= percent_value <= 100:
                findings.append(error("TOLERANCE", "The tolerance percent must be from 0 to 100.",
                                      "tolerance_percent"))
    if findings:
        return None, tuple(findings)
    return Tolerance(amount_value, percent_value), ()


def shortfall(expected: Decimal, allowed: Decimal, tolerance: Tolerance) -> Decimal | None:
    """How much less than expected the payer allowed, when that is more than the tolerance; else ``None``."""
    short = expected - allowed
    return short if short > tolerance.threshold(expected) else None
