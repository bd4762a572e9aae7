"""Why a payer denied or cut a line, in words a biller acts on, and the appeal deadline.

    >>> reason = explain("CO", "197", remarks=["N54"])
    >>> reason.category, reason.is_denial
    ('authorization', True)
    >>> print(reason.description)
    The payer has no authorization, precertification or notification for this service.
    Remark N54: The claim does not match the services that were authorized.
    >>> print(reason.action)  # doctest: +ELLIPSIS
    Find the authorization number and dates; if it was obtained, appeal with the approval letter; ...
    >>> explain("CO", "45").is_denial, explain("PR", "2").is_denial
    (False, False)
    >>> explain("CO", "97", remarks=["N20"]).category
    'bundling'
    >>> explain("CO", "X99").description
    "Reason code X99 is not in Infusion Desk's table (resources/carc.csv)."
    >>> appeal_deadline(date(2026, 11, 20), "medicare")
    datetime.date(2027, 3, 20)

Each CAS adjustment of an 835 carries a group code (CO contractual, PR patient responsibility,
OA other, PI payer initiated) and a reason code (CARC, X12 code source 139), often with remark
codes (RARC) that say more. The meaning, denial category and next step of each reason code come
from ``resources/carc.csv``; remark texts from ``resources/rarc.csv``. Both are data the clinic
edits: the X12 lists change several times a year, so an unknown code never fails here. It is a
denial in category ``other`` whose action says to add it to the table.

What counts as a denial work item:

* a PR (patient responsibility) adjustment never does: the patient or the next payer owes it;
* reason codes marked ``is_denial`` 0 never do: contractual write-downs (45), deductible,
  coinsurance and copay (1-3), sequestration (253), multiple-procedure reductions (59)...;
* every other adjustment does, unknown reason codes included.

Remark codes add their text to the description but leave the category alone, except for the
few in ``REMARK_CATEGORIES`` whose meaning settles the category whatever the reason code.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from types import MappingProxyType

from infusion_desk.billing.catalog import read_resource_text

__all__ = [
    "APPEAL_DAYS",
    "CATEGORIES",
    "REMARK_CATEGORIES",
    "CarcEntry",
    "DenialReason",
    "appeal_deadline",
    "carc_table",
    "explain",
    "is_denial",
    "parse_carc_table",
    "parse_rarc_table",
    "rarc_table",
]

CATEGORIES = (
    "authorization",
    "medical_necessity",
    "coding",
    "missing_information",
    "non_covered",
    "benefit_limit",
    "timely_filing",
    "duplicate",
    "bundling",
    "eligibility",
    "other",
)
"""The values of ``models.enums.DenialCategory`` (billing does not import models; a test keeps them equal)."""

PATIENT_RESPONSIBILITY = "PR"

REMARK_CATEGORIES: Mapping[str, str] = MappingProxyType({
    # Each of these says outright that the line is part of another service paid that day.
    "M15": "bundling",
    "M80": "bundling",
    "N20": "bundling",
    "N390": "bundling",
    # The services billed are not the ones authorized: an authorization problem to fix.
    "N54": "authorization",
    # The same claim is already with the payer through the Medicare crossover.
    "N522": "duplicate",
    # A self-administered drug exclusion is a benefit exclusion, not a necessity question.
    "N426": "non_covered",
})
"""Remark codes whose meaning decides the category of a denial, whatever its reason code.

Kept short on purpose: most remarks only add detail. The first such remark on a line wins.
"""

APPEAL_DAYS: Mapping[str, int] = MappingProxyType({
    # Medicare redetermination: 120 days from receipt of the notice (42 CFR 405.942). Receipt is
    # presumed 5 days after the notice date; counting from the notice date keeps the deadline safe.
    "medicare": 120,
    # Medicaid: each state sets it, commonly 60 to 90 days. The shorter one is never too late;
    # set the payer's appeal days for your state.
    "medicaid": 60,
    # Commercial plans: 180 days, the floor the ACA sets for internal appeals; contracts vary.
    "commercial": 180,
    # Anything else (TRICARE, workers' compensation, auto): no common rule, so the shortest default.
    "other": 60,
})
"""First-level appeal window in calendar days by payer type, when the payer record gives none."""

UNKNOWN_ACTION = "Look the code up on the X12 CARC list and add it to resources/carc.csv."

PR_ACTION = (
    "The payer assigned this amount to the patient: bill the secondary payer if there is one, "
    "otherwise the patient (for a service the payer calls non-covered or not necessary, only with "
    "a waiver or ABN the patient signed before the visit)."
)

CARC_COLUMNS = ("code", "category", "is_denial", "description", "action")
RARC_COLUMNS = ("code", "description")


@dataclass(frozen=True, slots=True)
class CarcEntry:
    """One row of ``resources/carc.csv``."""

    code: str
    category: str
    is_denial: bool
    description: str
    action: str


@dataclass(frozen=True, slots=True)
class DenialReason:
    """One CAS adjustment explained: what it means, its category and what to do next."""

    group: str
    reason: str
    category: str
    """A ``DenialCategory`` value."""
    description: str
    action: str
    remarks: tuple[tuple[str, str], ...]
    """(remark code, its text), in the order the payer sent them."""
    is_denial: bool


def explain(group: str, reason: str, remarks: Sequence[str] = ()) -> DenialReason:
    group = _code(group)
    reason = _code(reason)
    entry = carc_table().get(reason)
    if entry is None:
        category, denial = "other", True
        shown = reason or "(blank)"
        description = f"Reason code {shown} is not in Infusion Desk's table (resources/carc.csv)."
        action = UNKNOWN_ACTION
    else:
        category, denial = entry.category, entry.is_denial
        description, action = entry.description, entry.action
    if group == PATIENT_RESPONSIBILITY:
        if denial and entry is not None:
            action = PR_ACTION
        denial = False
    explained = _remarks(remarks)
    if denial:
        category = next(
            (REMARK_CATEGORIES[code] for code, _ in explained if code in REMARK_CATEGORIES), category
        )
    description = "\n".join([description, *(f"Remark {code}: {text}" for code, text in explained)])
    return DenialReason(
        group=group,
        reason=reason,
        category=category,
        description=description,
        action=action,
        remarks=explained,
        is_denial=denial,
    )


def is_denial(group: str, reason: str) -> bool:
    return explain(group, reason).is_denial


def appeal_deadline(decision_date: date, payer_type: str, appeal_days: int | None = None) -> date:
    """The last day to file a first-level appeal of a decision dated ``decision_date``.

    ``appeal_days`` (the payer record's window) wins over the default for ``payer_type``.
    Calendar days; a deadline on a weekend is not moved, so it is never later than the real one.
    """
    if appeal_days is None:
        kind = payer_type.strip().lower()
        if kind not in APPEAL_DAYS:
            raise ValueError(
                f"Unknown payer type {payer_type!r}: expected one of {', '.join(APPEAL_DAYS)}."
            )
        appeal_days = APPEAL_DAYS[kind]
    if appeal_days < 1:
        raise ValueError(f"The appeal window must be at least one day, not {appeal_days}.")
    return decision_date + timedelta(days=appeal_days)


@cache
def carc_table() -> Mapping[str, CarcEntry]:
    return parse_carc_table(read_resource_text("carc.csv"))


@cache
def rarc_table() -> Mapping[str, str]:
    return parse_rarc_table(read_resource_text("rarc.csv"))


def parse_carc_table(text: str, name: str = "carc.csv") -> Mapping[str, CarcEntry]:
    """Read the CARC table; a malformed row is refused with its line number and the fix."""
    entries: dict[str, CarcEntry] = {}
    for line, row in _rows(text, name, CARC_COLUMNS):
        code = row["code"]
        if row["category"] not in CATEGORIES:
            raise ValueError(
                f"{name} line {line} ({code}): category {row['category']!r} is not one of "
                f"{', '.join(CATEGORIES)}."
            )
        if row["is_denial"] not in ("0", "1"):
            raise ValueError(
                f"{name} line {line} ({code}): is_denial must be 0 or 1, not {row['is_denial']!r}."
            )
        entries[code] = CarcEntry(
            code=code,
            category=row["category"],
            is_denial=row["is_denial"] == "1",
            description=row["description"],
            action=row["action"],
        )
    return MappingProxyType(entries)


def parse_rarc_table(text: str, name: str = "rarc.csv") -> Mapping[str, str]:
    """Read the RARC table; a malformed row is refused with its line number and the fix."""
    return MappingProxyType({row["code"]: row["description"] for _, row in _rows(text, name, RARC_COLUMNS)})


def _rows(text: str, name: str, columns: tuple[str, ...]) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None or tuple(cell.strip() for cell in header) != columns:
        raise ValueError(f"{name}: the first line must be the column names {','.join(columns)}.")
    rows: list[tuple[int, dict[str, str]]] = []
    seen: set[str] = set()
    for cells in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(columns):
            raise ValueError(
                f"{name} line {line}: {len(cells)} fields instead of {len(columns)} "
                f"({','.join(columns)}); put text with commas in double quotes."
            )
        row = {column: cell.strip() for column, cell in zip(columns, cells, strict=True)}
        empty = [column for column in columns if not row[column]]
        if empty:
            raise ValueError(f"{name} line {line}: {', '.join(empty)} is empty.")
        code = row["code"] = _code(row["code"])
        if code in seen:
            raise ValueError(f"{name} line {line}: code {code} appears twice; keep one row per code.")
        seen.add(code)
        rows.append((line, row))
    return rows


def _remarks(codes: Sequence[str]) -> tuple[tuple[str, str], ...]:
    table = rarc_table()
    explained: dict[str, str] = {}
    for raw in codes:
        code = _code(raw)
        if code and code not in explained:
            explained[code] = table.get(code) or (
                "Not in Infusion Desk's remark table; look it up on the X12 RARC list "
                "and add it to resources/rarc.csv."
            )
    return tuple(explained.items())


def _code(value: str) -> str:
    return value.strip().upper()
