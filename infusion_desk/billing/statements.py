"""Patient statements: what the patient owes, what waits for insurance, and the stub to send back.

    >>> from infusion_desk.billing.appeals import Letterhead
    >>> from infusion_desk.billing.money import money
    >>> owed = StatementLine(
    ...     service_date=date(2026, 8, 3), code="J1745", description="infliximab 10 mg",
    ...     charge=money("900.00"), insurance_paid=money("576.00"), adjustments=money("180.00"),
    ...     patient_responsibility=money("144.00"), patient_paid=money("40.00"), status=DUE)
    >>> waiting = StatementLine(
    ...     service_date=date(2026, 11, 2), code="96413", description="chemo admin, first hour",
    ...     charge=money("260.00"), insurance_paid=money(0), adjustments=money(0),
    ...     patient_responsibility=money(0), patient_paid=money(0), status=PENDING)
    >>> statement = make_statement(
    ...     letterhead=Letterhead("Lakeview Infusion Suite", ("400 Example Avenue", "Springfield, IL 62701"),
    ...                           "217-555-0142"),
    ...     remit_to=("400 Example Avenue", "Springfield, IL 62701"), patient_name="Example, Testy",
    ...     account_number="DM0000001", mail_to=("Testy Example", "1 Demo St", "Springfield, IL 62701"),
    ...     statement_date=date(2026, 11, 26), due_date=date(2026, 12, 17), lines=(owed, waiting),
    ...     previous_balance=money("0.00"), payments_since_last=money("0.00"))
    >>> statement.amount_due, statement.pending_insurance   # pending insurance is listed, never due
    (Decimal('104.00'), Decimal('260.00'))
    >>> statement.oldest_due_days, statement.aging.days_91_plus
    (115, Decimal('104.00'))
    >>> render_statement(statement)[:5]
    b'%PDF-'
    >>> from_snapshot(to_snapshot(statement)) == statement   # what a reprint reads back
    True

Only lines whose state is *patient due* are billed: their balance (the patient's share less
what the patient already paid on them) makes the amount due. Lines still with insurance
(insurance pending, or the patient's share waiting for the secondary payer's claim) are listed
under "Waiting for insurance (not due)" and never counted.

**Aging is by date of service**: each due line's balance falls in current (0-30 days),
31-60, 61-90 or over 90 days counted from its date of service to the statement date. The date
a line became the patient's (the remittance date) is not kept per line, and patients read
their statement by date of service; the dunning message is chosen by the oldest due line's
age the same way.

The words (dunning messages by age and the payment options) live in
``resources/statement_messages.json``; :func:`make_statement` copies the filled-in text into the
statement, so :func:`to_snapshot` keeps everything printed and a reprint reproduces the PDF
byte for byte even after the clinic edits the file. :func:`render_statement` draws one
statement (letter size, paginated, the tear-off remittance stub at the bottom of page 1);
:func:`render_run` draws many into one PDF. Nothing here touches the database or the disk.
"""

from __future__ import annotations

import io
import json
import string
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from infusion_desk.billing.appeals import Letterhead
from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.money import ZERO, money

__all__ = [
    "DUE",
    "MESSAGES_FILE",
    "PENDING",
    "PENDING_SECONDARY",
    "PLACEHOLDERS",
    "Aging",
    "Statement",
    "StatementLine",
    "StatementTexts",
    "aging",
    "dollars",
    "from_snapshot",
    "make_statement",
    "parse_statement_texts",
    "render_run",
    "render_statement",
    "statement_pages",
    "statement_texts",
    "to_snapshot",
]

MESSAGES_FILE = "statement_messages.json"
DUE = "due"
PENDING = "pending_insurance"
PENDING_SECONDARY = "pending_secondary"
STATUSES = (DUE, PENDING, PENDING_SECONDARY)
PLACEHOLDERS = frozenset({"clinic_name", "phone", "due_date", "amount_due", "account_number"})
SNAPSHOT_VERSION = 1


# --- the statement ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementLine:
    """One claim line as the patient sees it."""

    service_date: date
    code: str
    """The billed code with its modifiers, e.g. ``J1745-JW``."""
    description: str
    charge: Decimal
    insurance_paid: Decimal
    adjustments: Decimal
    """Contractual reductions and write-offs."""
    patient_responsibility: Decimal
    patient_paid: Decimal
    """Patient payments already applied to this line."""
    status: str
    """:data:`DUE`, :data:`PENDING` or :data:`PENDING_SECONDARY`."""

    @property
    def due(self) -> Decimal:
        """What the patient owes on this line now: nothing unless the line is patient due."""
        if self.status != DUE:
            return ZERO
        return max(ZERO, self.patient_responsibility - self.patient_paid)

    @property
    def pending(self) -> Decimal:
        """What still waits for a payer (not due): the charge less payments and adjustments."""
        if self.status == DUE:
            return ZERO
        return max(ZERO, self.charge - self.insurance_paid - self.adjustments - self.patient_paid)


@dataclass(frozen=True, slots=True)
class Aging:
    current: Decimal
    """0-30 days after the date of service."""
    days_31_60: Decimal
    days_61_90: Decimal
    days_91_plus: Decimal


@dataclass(frozen=True, slots=True)
class Statement:
    """Everything one statement prints; made by :func:`make_statement`."""

    letterhead: Letterhead
    remit_to: tuple[str, ...]
    """Where payments are mailed (the clinic's pay-to address, else its address)."""
    patient_name: str
    account_number: str
    mail_to: tuple[str, ...]
    """The address block: the guarantor's name and address, or the patient's."""
    statement_date: date
    due_date: date
    lines: tuple[StatementLine, ...]
    previous_balance: Decimal
    """The amount due on the last statement (zero for the first)."""
    payments_since_last: Decimal
    """Patient payments posted since the last statement (refunds count negative)."""
    message: str
    """The dunning message chosen by the oldest due line's age, filled in."""
    payment_options: tuple[str, ...]

    @property
    def due_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.status == DUE)

    @property
    def pending_lines(self) -> tuple[StatementLine, ...]:
        return tuple(line for line in self.lines if line.status != DUE)

    @property
    def amount_due(self) -> Decimal:
        return sum((line.due for line in self.lines), ZERO)

    @property
    def pending_insurance(self) -> Decimal:
        return sum((line.pending for line in self.lines), ZERO)

    @property
    def new_activity(self) -> Decimal:
        """New charges and adjustments since the last statement: what makes the summary add up."""
        return self.amount_due - self.previous_balance + self.payments_since_last

    @property
    def oldest_due_days(self) -> int:
        """Days from the oldest date of service still owed to the statement date (0 when none)."""
        owed = [line.service_date for line in self.lines if line.due > 0]
        return max(0, (self.statement_date - min(owed)).days) if owed else 0

    @property
    def aging(self) -> Aging:
        return aging(self.lines, self.statement_date)


def aging(lines: Iterable[StatementLine], on: date) -> Aging:
    """The due balance by age of the date of service: 0-30, 31-60, 61-90, over 90 days."""
    buckets = [ZERO, ZERO, ZERO, ZERO]
    for line in lines:
        if line.due <= 0:
            continue
        days = (on - line.service_date).days
        index = 0 if days <= 30 else 1 if days <= 60 else 2 if days <= 90 else 3
        buckets[index] += line.due
    return Aging(*buckets)


# --- the words ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatementTexts:
    dunning: tuple[tuple[int, str], ...]
    """(from this many days, message), ascending; the first starts at 0."""
    payment_options: tuple[str, ...]

    def message_for(self, oldest_days: int) -> str:
        chosen = self.dunning[0][1]
        for from_days, text in self.dunning:
            if oldest_days >= from_days:
                chosen = text
        return chosen


@cache
def statement_texts() -> StatementTexts:
    """The shipped messages, loaded once."""
    return parse_statement_texts(read_resource_text(MESSAGES_FILE))


def _check_placeholders(text: Any, where: str, name: str) -> str:
    if not isinstance(text, str) or not text.strip():
        raise ValueError(f"{name}: {where} must be a non-empty text")
    try:
        fields = {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as exc:
        raise ValueError(f"{name}: {where}: {exc} (write a brace as {{{{ or }}}})") from None
    unknown = sorted(fields - PLACEHOLDERS)
    if unknown:
        raise ValueError(
            f"{name}: {where} uses {{{unknown[0]}}}, which is not a placeholder; "
            f"use one of {', '.join('{' + p + '}' for p in sorted(PLACEHOLDERS))}"
        )
    return text


def parse_statement_texts(text: str, name: str = MESSAGES_FILE) -> StatementTexts:
    """Read the messages file; a mistake is refused naming the entry and the fix."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f'{name}: the top level must be an object with "dunning" and "payment_options"')
    dunning = data.get("dunning")
    options = data.get("payment_options")
    if not isinstance(dunning, list) or not dunning:
        raise ValueError(f'{name}: "dunning" must be a non-empty list of {{"from_days", "text"}}')
    if not isinstance(options, list) or not options:
        raise ValueError(f'{name}: "payment_options" must be a non-empty list of texts')
    messages: list[tuple[int, str]] = []
    for index, item in enumerate(dunning):
        where = f"dunning[{index}]"
        if not isinstance(item, dict):
            raise ValueError(f'{name}: {where} must be an object with "from_days" and "text"')
        days = item.get("from_days")
        if not isinstance(days, int) or isinstance(days, bool) or days < 0:
            raise ValueError(f"{name}: {where}.from_days must be a whole number of days, 0 or more")
        if messages and days <= messages[-1][0]:
            before = messages[-1][0]
            raise ValueError(f"{name}: {where}.from_days must be larger than the one before ({before})")
        messages.append((days, _check_placeholders(item.get("text"), f"{where}.text", name)))
    if messages[0][0] != 0:
        raise ValueError(f"{name}: dunning[0].from_days must be 0, so every age has a message")
    return StatementTexts(
        dunning=tuple(messages),
        payment_options=tuple(
            _check_placeholders(option, f"payment_options[{index}]", name)
            for index, option in enumerate(options)
        ),
    )


def dollars(amount: Decimal) -> str:
    """``$1,234.56``; a credit is ``-$12.50``."""
    value = money(amount)
    return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"


def make_statement(
    *,
    letterhead: Letterhead,
    remit_to: tuple[str, ...],
    patient_name: str,
    account_number: str,
    mail_to: tuple[str, ...],
    statement_date: date,
    due_date: date,
    lines: Sequence[StatementLine],
    previous_balance: Decimal,
    payments_since_last: Decimal,
    texts: StatementTexts | None = None,
) -> Statement:
    """A statement with its lines in date-of-service order and its words chosen and filled in."""
    for line in lines:
        if line.status not in STATUSES:
            raise ValueError(f"unknown statement line status {line.status!r}")
    ordered = tuple(sorted(lines, key=lambda line: (line.status != DUE, line.service_date, line.code)))
    draft = Statement(
        letterhead=letterhead, remit_to=remit_to, patient_name=patient_name,
        account_number=account_number, mail_to=mail_to, statement_date=statement_date,
        due_date=due_date, lines=ordered, previous_balance=money(previous_balance),
        payments_since_last=money(payments_since_last), message="", payment_options=(),
    )
    words = texts or statement_texts()
    values = {
        "clinic_name": letterhead.name,
        "phone": letterhead.phone or "the number above",
        "due_date": f"{due_date:%m/%d/%Y}",
        "amount_due": dollars(draft.amount_due),
        "account_number": account_number,
    }
    return Statement(
        letterhead=letterhead, remit_to=remit_to, patient_name=patient_name,
        account_number=account_number, mail_to=mail_to, statement_date=statement_date,
        due_date=due_date, lines=ordered, previous_balance=draft.previous_balance,
        payments_since_last=draft.payments_since_last,
        message=words.message_for(draft.oldest_due_days).format_map(values),
        payment_options=tuple(option.format_map(values) for option in words.payment_options),
    )


# --- snapshot (what a reprint reads) -----------------------------------------------------------


def to_snapshot(statement: Statement) -> dict[str, Any]:
    """Everything printed, as JSON-ready values (amounts and dates as text)."""
    head = statement.letterhead
    return {
        "version": SNAPSHOT_VERSION,
        "letterhead": {
            "name": head.name, "address": list(head.address), "phone": head.phone, "npi": head.npi,
            "tin": head.tin,
        },
        "remit_to": list(statement.remit_to),
        "patient_name": statement.patient_name,
        "account_number": statement.account_number,
        "mail_to": list(statement.mail_to),
        "statement_date": statement.statement_date.isoformat(),
        "due_date": statement.due_date.isoformat(),
        "previous_balance": str(statement.previous_balance),
        "payments_since_last": str(statement.payments_since_last),
        "message": statement.message,
        "payment_options": list(statement.payment_options),
        "lines": [
            {
                "service_date": line.service_date.isoformat(),
                "code": line.code,
                "description": line.description,
                "charge": str(line.charge),
                "insurance_paid": str(line.insurance_paid),
                "adjustments": str(line.adjustments),
                "patient_responsibility": str(line.patient_responsibility),
                "patient_paid": str(line.patient_paid),
                "status": line.status,
            }
            for line in statement.lines
        ],
        "amount_due": str(statement.amount_due),
    }


def from_snapshot(data: Mapping[str, Any]) -> Statement:
    """The statement :func:`to_snapshot` kept, exactly as it was printed."""
    if data.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"statement snapshot version {data.get('version')!r} is not one this version reads")
    head = data["letterhead"]
    return Statement(
        letterhead=Letterhead(head["name"], tuple(head["address"]), head["phone"], head["npi"], head["tin"]),
        remit_to=tuple(data["remit_to"]),
        patient_name=data["patient_name"],
        account_number=data["account_number"],
        mail_to=tuple(data["mail_to"]),
        statement_date=date.fromisoformat(data["statement_date"]),
        due_date=date.fromisoformat(data["due_date"]),
        lines=tuple(
            StatementLine(
                service_date=date.fromisoformat(line["service_date"]),
                code=line["code"],
                description=line["description"],
                charge=Decimal(line["charge"]),
                insurance_paid=Decimal(line["insurance_paid"]),
                adjustments=Decimal(line["adjustments"]),
                patient_responsibility=Decimal(line["patient_responsibility"]),
                patient_paid=Decimal(line["patient_paid"]),
                status=line["status"],
            )
            for line in data["lines"]
        ),
        previous_balance=Decimal(data["previous_balance"]),
        payments_since_last=Decimal(data["payments_since_last"]),
        message=data["message"],
        payment_options=tuple(data["payment_options"]),
    )


# --- layout -------------------------------------------------------------------------------------

WIDTH, HEIGHT = LETTER
LEFT = 43.0
RIGHT = WIDTH - 43.0
FONT = "Helvetica"
BOLD = "Helvetica-Bold"
ITALIC = "Helvetica-Oblique"
ROW = 12.0
TABLE_SIZE = 8.0
TEAR_Y = 252.0
"""The tear line: the remittance stub is the bottom 3.5 inches of page 1."""
FIRST_PAGE_BOTTOM_GAP = 10.0
LATER_TOP = HEIGHT - 80.0
LATER_BOTTOM = 56.0
MESSAGE_WIDTH = RIGHT - LEFT
OPTIONS_SIZE = 8.0
OPTIONS_LEADING = 10.0

# right edges of the number columns
CHARGE_X, PAID_X, ADJUSTED_X, SHARE_X, YOU_PAID_X, OWE_X = 300.0, 356.0, 412.0, 462.0, 514.0, RIGHT
SERVICE_X = LEFT + 50.0
SERVICE_WIDTH = CHARGE_X - 45.0 - SERVICE_X

Row = tuple[str, Any]
"""("section", title), ("header", DUE | PENDING), ("line", StatementLine), ("total", (label, amount))."""


def _message_lines(statement: Statement) -> list[str]:
    return list(simpleSplit(statement.message, BOLD, 9.5, MESSAGE_WIDTH))


def _option_lines(statement: Statement) -> list[str]:
    lines: list[str] = []
    for option in statement.payment_options:
        wrapped = simpleSplit(option, FONT, OPTIONS_SIZE, MESSAGE_WIDTH - 10)
        lines.extend([f"\u2022 {wrapped[0]}", *(f"   {rest}" for rest in wrapped[1:])] if wrapped else [])
    return lines


def _first_page_table(statement: Statement) -> tuple[float, float]:
    """(top, bottom) of the item rows on page 1."""
    top = 508.0 - len(_message_lines(statement)) * 12.0 - 8.0
    options_top = TEAR_Y + 14.0 + len(_option_lines(statement)) * OPTIONS_LEADING + 14.0
    return top, options_top + FIRST_PAGE_BOTTOM_GAP


def _rows(statement: Statement) -> list[Row]:
    rows: list[Row] = []
    if statement.due_lines:
        rows += [("section", "What you owe"), ("header", DUE)]
        rows += [("line", line) for line in statement.due_lines]
        rows.append(("total", ("Total you owe", statement.amount_due)))
    else:
        rows.append(("section", "Nothing is due from you on this statement."))
    if statement.pending_lines:
        title = "Waiting for insurance (not due; we will bill you only for what insurance leaves)"
        rows += [("section", title), ("header", PENDING)]
        rows += [("line", line) for line in statement.pending_lines]
        rows.append(("total", ("Total waiting for insurance (not due)", statement.pending_insurance)))
    return rows


def statement_pages(statement: Statement) -> list[list[Row]]:
    """The item rows split into pages; column headings repeat at the top of a continued table."""
    first_top, first_bottom = _first_page_table(statement)
    capacities = [int((first_top - first_bottom) // ROW), int((LATER_TOP - LATER_BOTTOM) // ROW)]
    pages: list[list[Row]] = [[]]
    header: Row | None = None
    rows = _rows(statement)
    for index, row in enumerate(rows):
        capacity = capacities[0 if len(pages) == 1 else 1]
        page = pages[-1]
        # a section title or column heading never ends a page alone
        keep_with_next = 2 if row[0] == "section" else 1 if row[0] == "header" else 0
        if len(page) + 1 + keep_with_next > capacity and (page or keep_with_next) and index:
            pages.append([])
            page = pages[-1]
            if row[0] in ("line", "total") and header is not None:
                page.append(header)
        if row[0] == "header":
            header = row
        elif row[0] == "section":
            header = None
        page.append(row)
    return pages


class _Drawing:
    def __init__(self, canvas: Canvas) -> None:
        self.c = canvas

    def text(self, x: float, y: float, value: str, font: str = FONT, size: float = 10.0) -> None:
        self.c.setFont(font, size)
        self.c.drawString(x, y, value)

    def right(self, x: float, y: float, value: str, font: str = FONT, size: float = 10.0) -> None:
        self.c.setFont(font, size)
        self.c.drawRightString(x, y, value)

    def fit(self, value: str, width: float, font: str = FONT, size: float = TABLE_SIZE) -> str:
        if stringWidth(value, font, size) <= width:
            return value
        while value and stringWidth(value + "...", font, size) > width:
            value = value[:-1]
        return value.rstrip() + "..."


def _letterhead(d: _Drawing, statement: Statement, page: int, pages: int) -> None:
    head = statement.letterhead
    d.text(LEFT, HEIGHT - 50, head.name, BOLD, 14)
    y = HEIGHT - 64
    for line in (*head.address, f"Phone {head.phone}" if head.phone else ""):
        if line:
            d.text(LEFT, y, line, FONT, 9.5)
            y -= 12
    d.right(RIGHT, HEIGHT - 50, "STATEMENT", BOLD, 16)
    fields = (
        ("Statement date", f"{statement.statement_date:%m/%d/%Y}"),
        ("Account number", statement.account_number),
        ("Payment due by", f"{statement.due_date:%m/%d/%Y}"),
        ("Page", f"{page} of {pages}"),
    )
    y = HEIGHT - 66
    for label, value in fields:
        d.right(RIGHT - 90, y, f"{label}:", FONT, 9)
        d.right(RIGHT, y, value, BOLD, 9)
        y -= 12


def _summary(d: _Drawing, statement: Statement) -> None:
    y = HEIGHT - 140
    for line in statement.mail_to:
        d.text(LEFT + 22, y, line, FONT, 10.5)
        y -= 13
    if statement.mail_to and statement.mail_to[0] != statement.patient_name:
        d.text(LEFT + 22, y - 6, f"Patient: {statement.patient_name}", FONT, 9)

    box_left, box_top = 330.0, HEIGHT - 128
    rows = (
        ("Previous balance", dollars(statement.previous_balance)),
        ("Payments since your last statement", dollars(-statement.payments_since_last)),
        ("New charges and adjustments", dollars(statement.new_activity)),
    )
    d.c.setLineWidth(0.8)
    d.c.rect(box_left, box_top - 78, RIGHT - box_left, 88, stroke=1, fill=0)
    y = box_top - 6
    for label, value in rows:
        d.text(box_left + 8, y, label, FONT, 9)
        d.right(RIGHT - 8, y, value, FONT, 9)
        y -= 14
    d.c.line(box_left + 8, y + 8, RIGHT - 8, y + 8)
    y -= 6
    d.text(box_left + 8, y, "Amount due", BOLD, 12)
    d.right(RIGHT - 8, y, dollars(statement.amount_due), BOLD, 12)
    y -= 15
    d.text(box_left + 8, y, f"Please pay by {statement.due_date:%m/%d/%Y}", FONT, 9)
    if statement.pending_insurance > 0:
        d.text(box_left, box_top - 92, "Waiting for insurance (not due):", ITALIC, 9)
        d.right(RIGHT, box_top - 92, dollars(statement.pending_insurance), ITALIC, 9)

    buckets = statement.aging
    y = 546.0
    labels = (
        ("Current (0-30 days)", buckets.current),
        ("31-60 days", buckets.days_31_60),
        ("61-90 days", buckets.days_61_90),
        ("Over 90 days", buckets.days_91_plus),
        ("Amount due", statement.amount_due),
    )
    cell = (RIGHT - LEFT) / len(labels)
    d.c.setLineWidth(0.5)
    d.c.rect(LEFT, y - 18, RIGHT - LEFT, 30, stroke=1, fill=0)
    for index, (label, amount) in enumerate(labels):
        x = LEFT + index * cell
        if index:
            d.c.line(x, y - 18, x, y + 12)
        d.text(x + 4, y + 2, label, FONT, 7.5)
        d.right(x + cell - 4, y - 12, dollars(amount), BOLD if index == len(labels) - 1 else FONT, 9)
    y = 508.0
    for line in _message_lines(statement):
        d.text(LEFT, y, line, BOLD, 9.5)
        y -= 12


def _table(d: _Drawing, rows: list[Row], top: float) -> None:
    y = top
    for kind, value in rows:
        if kind == "section":
            d.text(LEFT, y - 2, value, BOLD, 9.5)
        elif kind == "header":
            d.c.setLineWidth(0.5)
            d.c.line(LEFT, y - 4, RIGHT, y - 4)
            d.text(LEFT, y, "Date", BOLD, 7.5)
            d.text(SERVICE_X, y, "Service", BOLD, 7.5)
            d.right(CHARGE_X, y, "Charge", BOLD, 7.5)
            d.right(PAID_X, y, "Insurance paid", BOLD, 7.5)
            d.right(ADJUSTED_X, y, "Adjustments", BOLD, 7.5)
            if value == DUE:
                d.right(SHARE_X, y, "Your share", BOLD, 7.5)
                d.right(YOU_PAID_X, y, "You paid", BOLD, 7.5)
                d.right(OWE_X, y, "You owe", BOLD, 7.5)
            else:
                d.right(OWE_X, y, "Waiting for insurance", BOLD, 7.5)
        elif kind == "line":
            line: StatementLine = value
            d.text(LEFT, y, f"{line.service_date:%m/%d/%Y}", FONT, TABLE_SIZE)
            service = f"{line.code} {line.description}".strip()
            if line.status == PENDING_SECONDARY:
                service += " (secondary insurance)"
            d.text(SERVICE_X, y, d.fit(service, SERVICE_WIDTH), FONT, TABLE_SIZE)
            d.right(CHARGE_X, y, dollars(line.charge), FONT, TABLE_SIZE)
            d.right(PAID_X, y, dollars(line.insurance_paid), FONT, TABLE_SIZE)
            d.right(ADJUSTED_X, y, dollars(line.adjustments), FONT, TABLE_SIZE)
            if line.status == DUE:
                d.right(SHARE_X, y, dollars(line.patient_responsibility), FONT, TABLE_SIZE)
                d.right(YOU_PAID_X, y, dollars(line.patient_paid), FONT, TABLE_SIZE)
                d.right(OWE_X, y, dollars(line.due), BOLD, TABLE_SIZE)
            else:
                d.right(OWE_X, y, dollars(line.pending), ITALIC, TABLE_SIZE)
        else:
            label, amount = value
            d.c.setLineWidth(0.5)
            d.c.line(ADJUSTED_X, y + 9, RIGHT, y + 9)
            d.right(YOU_PAID_X, y, label, BOLD, TABLE_SIZE)
            d.right(OWE_X, y, dollars(amount), BOLD, TABLE_SIZE)
        y -= ROW


def _payment_options(d: _Drawing, statement: Statement) -> None:
    lines = _option_lines(statement)
    y = TEAR_Y + 14.0 + len(lines) * OPTIONS_LEADING
    d.text(LEFT, y, "Ways to pay", BOLD, 9)
    for line in lines:
        y -= OPTIONS_LEADING
        d.text(LEFT + 4, y, line, FONT, OPTIONS_SIZE)


def _stub(d: _Drawing, statement: Statement) -> None:
    d.c.setLineWidth(0.7)
    d.c.setDash(4, 3)
    d.c.line(LEFT - 20, TEAR_Y, RIGHT + 20, TEAR_Y)
    d.c.setDash()
    d.text(LEFT, TEAR_Y - 12, "Please detach and return this part with your payment.", ITALIC, 8)
    d.right(RIGHT, TEAR_Y - 12, "REMITTANCE STUB", BOLD, 8)

    y = TEAR_Y - 34
    d.text(LEFT, y, "Make checks payable to and mail to:", FONT, 8.5)
    y -= 14
    d.text(LEFT + 10, y, statement.letterhead.name, BOLD, 10.5)
    for line in statement.remit_to:
        y -= 13
        d.text(LEFT + 10, y, line, FONT, 10)
    y -= 26
    d.text(LEFT, y, f"Patient: {statement.patient_name}", FONT, 9)
    y -= 12
    for line in statement.mail_to[:1]:
        if line != statement.patient_name:
            d.text(LEFT, y, f"Account holder: {line}", FONT, 9)
            y -= 12
    d.text(LEFT, y, "Change of address or insurance? Write it on the back.", ITALIC, 8)

    box_left = 330.0
    rows = (
        ("Account number", statement.account_number),
        ("Statement date", f"{statement.statement_date:%m/%d/%Y}"),
        ("Payment due by", f"{statement.due_date:%m/%d/%Y}"),
    )
    y = TEAR_Y - 34
    for label, value in rows:
        d.text(box_left, y, label, FONT, 9)
        d.right(RIGHT, y, value, BOLD, 9)
        y -= 15
    d.c.setLineWidth(1)
    d.c.rect(box_left - 4, y - 8, RIGHT - box_left + 4, 22, stroke=1, fill=0)
    d.text(box_left, y, "Amount due", BOLD, 11)
    d.right(RIGHT - 6, y, dollars(statement.amount_due), BOLD, 11)
    y -= 34
    d.text(box_left, y, "Amount enclosed", BOLD, 11)
    d.c.rect(RIGHT - 110, y - 8, 110, 22, stroke=1, fill=0)
    d.text(RIGHT - 106, y, "$", FONT, 11)


def _footer(d: _Drawing, statement: Statement) -> None:
    phone = statement.letterhead.phone
    question = (
        f"Questions about this statement? Call {phone}." if phone else "Questions? Ask our billing office."
    )
    d.text(LEFT, 30, question, ITALIC, 8)


def _continued_header(d: _Drawing, statement: Statement, page: int, pages: int) -> None:
    d.text(LEFT, HEIGHT - 50, statement.letterhead.name, BOLD, 11)
    who = f"Statement for {statement.patient_name}, account {statement.account_number}"
    when = f"Statement date {statement.statement_date:%m/%d/%Y} \u2014 page {page} of {pages} (continued)"
    d.right(RIGHT, HEIGHT - 50, who, FONT, 9)
    d.right(RIGHT, HEIGHT - 62, when, FONT, 9)


def _draw(canvas: Canvas, statement: Statement) -> int:
    """Draw one statement's pages on ``canvas``; returns the number of pages."""
    d = _Drawing(canvas)
    pages = statement_pages(statement)
    first_top, _bottom = _first_page_table(statement)
    for number, rows in enumerate(pages, start=1):
        if number == 1:
            _letterhead(d, statement, number, len(pages))
            _summary(d, statement)
            _table(d, rows, first_top)
            _payment_options(d, statement)
            _stub(d, statement)
        else:
            _continued_header(d, statement, number, len(pages))
            _table(d, rows, LATER_TOP)
            _footer(d, statement)
        if number < len(pages):
            d.text(LEFT, (first_top - (len(rows) + 0.5) * ROW) if number == 1 else LATER_BOTTOM - 12,
                   "Continued on the next page.", ITALIC, 8)
        canvas.showPage()
    return len(pages)


def _canvas(buffer: io.BytesIO, title: str, author: str) -> Canvas:
    canvas = Canvas(buffer, pagesize=LETTER, invariant=True)
    canvas.setTitle(title)
    canvas.setAuthor(author)
    return canvas


def render_statement(statement: Statement) -> bytes:
    """One statement as PDF bytes: the same statement always gives the same bytes."""
    buffer = io.BytesIO()
    canvas = _canvas(buffer, f"Statement {statement.account_number} {statement.statement_date:%m/%d/%Y}",
                     statement.letterhead.name)
    _draw(canvas, statement)
    canvas.save()
    return buffer.getvalue()


def render_run(statements: Sequence[Statement], *, title: str = "Patient statements") -> bytes:
    """Every statement of a run in one printable PDF, each starting on a new page."""
    buffer = io.BytesIO()
    author = statements[0].letterhead.name if statements else ""
    canvas = _canvas(buffer, title, author)
    for statement in statements:
        _draw(canvas, statement)
    if not statements:
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()
