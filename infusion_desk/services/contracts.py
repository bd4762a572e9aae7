"""Payer contracts: each payer's fee schedule, Medicare's quarterly ASP prices, and the underpayment list.

    service = ContractService(db)
    service.import_fee_schedule(manager, payer_id, Path("acme_2026.csv"))     # all rows, or none
    service.import_asp(manager, Path("Oct 2026 ASP Pricing File.csv"), date(2026, 10, 1))
    report = service.underpayments(biller, since=date(2026, 1, 1), tolerance=Tolerance())

The rules (which entry applies, ASP arithmetic, rounding, tolerance) are in
:mod:`infusion_desk.billing.contracts`; this module reads and writes the rows.

Who may do what: anyone with ``REPORTS_VIEW`` (billers, managers) sees the fee schedules and
the underpayment list — billers work the list and need the contract rate beside it; the front
desk and nurses do not. Changing a fee schedule or loading ASP prices is a clinic setting
(``CLINIC_SETTINGS``: managers, administrators), audited entry by entry or file by file.

Importing a fee schedule *adds to* the payer's schedule: a row for a code and start date
already on file replaces that entry's rate, other rows are added, and entries not in the file
stay (a new year's file starts a new period without rewriting the old one, so older claims keep
their rate). ``replace=True`` removes the payer's whole schedule first. Importing an ASP file
replaces every price of that quarter. Either import is one transaction: a file with any error
saves nothing, and every row's problem is reported.

The underpayment list looks at posted remittances only, the answer that stands for each line
(a reversed payment no longer counts; the corrected one that follows it does), on primary
claims (what a secondary payer allows depends on what the primary paid), and leaves out denied
lines (allowed and paid nothing: the denial work queue has them). ``since`` / ``until`` are
payment dates.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

import sqlalchemy as sa

from infusion_desk.billing import contracts as rules
from infusion_desk.billing.contracts import FeeEntry, LineAnswer, PriceStatus, Tolerance
from infusion_desk.billing.findings import Finding, error, plain, us_date
from infusion_desk.billing.remittance import REVERSAL
from infusion_desk.models import (
    Adjustment,
    AspPrice,
    Claim,
    ClaimLine,
    FeeScheduleEntry,
    Patient,
    Payer,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from infusion_desk.models.db import Database
from infusion_desk.models.enums import AdjustmentGroup
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.inbound import read_inbound_file

MAX_FILE_BYTES = 20 * 1_048_576
DENIED = "4"
ZERO = Decimal("0.00")


# --- what the service hands out ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayerChoice:
    id: int
    name: str
    entries: int
    """Fee schedule entries on file."""


@dataclass(frozen=True, slots=True)
class FeeScheduleRow:
    """One entry of a payer's fee schedule, as the editor lists it."""

    id: int
    payer_id: int
    code: str
    allowed: Decimal | None
    percent_of_asp: Decimal | None
    effective_from: date
    effective_to: date | None

    @property
    def basis(self) -> str:
        return self.entry.basis

    @property
    def entry(self) -> FeeEntry:
        return FeeEntry(self.code, self.allowed, self.percent_of_asp, self.effective_from, self.effective_to)


@dataclass(frozen=True, slots=True)
class FeeEntryInput:
    """An entry as typed: amounts as text (checked by the billing rules), dates as dates."""

    code: str
    allowed: str = ""
    percent_of_asp: str = ""
    effective_from: date | None = None
    effective_to: date | None = None


@dataclass(frozen=True, slots=True)
class FeeImportResult:
    payer: str
    added: int
    replaced: int
    removed: int
    """Entries removed first (``replace=True``)."""

    def text(self) -> str:
        text = f"{self.payer}: {self.added} rate(s) added, {self.replaced} replaced"
        if self.removed:
            text += f", {self.removed} earlier entr{'y' if self.removed == 1 else 'ies'} removed"
        return text + "."


@dataclass(frozen=True, slots=True)
class AspImportResult:
    quarter_start: date
    imported: int
    replaced: int
    """Prices of the same quarter on file before, all replaced."""
    skipped: int
    """Codes the file lists without a payment limit."""

    def text(self) -> str:
        label = rules.quarter_label(self.quarter_start)
        parts = [f"ASP {label}: {self.imported} payment limit(s) imported"]
        if self.replaced:
            parts.append(f"{self.replaced} earlier price(s) of {label} replaced")
        if self.skipped:
            parts.append(f"{self.skipped} code(s) without a payment limit skipped")
        return ", ".join(parts) + "."


@dataclass(frozen=True, slots=True)
class AspQuarter:
    quarter_start: date
    prices: int

    @property
    def label(self) -> str:
        return rules.quarter_label(self.quarter_start)


@dataclass(frozen=True, slots=True)
class UnderpaymentRow:
    """A paid line the payer allowed less for than its contract says, by more than the tolerance."""

    claim_id: int
    claim_number: str
    patient: str
    payer_id: int
    payer: str
    service_date: date
    code: str
    modifiers: tuple[str, ...]
    units: Decimal
    expected: Decimal
    allowed: Decimal
    paid: Decimal
    short_by: Decimal
    payment_date: date | None
    basis: str
    """How the expected amount was worked out (``106% of ASP (limit $36.632, 2026-Q3) × 40``)."""


@dataclass(frozen=True, slots=True)
class PayerShortfall:
    """One payer's part of the list: its underpaid lines and what they add up to."""

    payer_id: int
    payer: str
    lines: int
    expected: Decimal
    allowed: Decimal
    short_by: Decimal
    checked: int
    """Paid lines priced under the payer's contract."""
    no_contract: int
    """Paid lines whose code has no fee schedule entry (or no ASP price) on the date of service."""


@dataclass(frozen=True, slots=True)
class UnderpaymentReport:
    rows: tuple[UnderpaymentRow, ...]
    """Biggest shortfall first."""
    by_payer: tuple[PayerShortfall, ...]
    """Biggest total shortfall first; every payer with a paid line in the period."""
    tolerance: Tolerance
    checked: int
    no_contract: int
    no_asp_price: int
    since: date | None = None
    until: date | None = None
    total_short: Decimal = field(default=ZERO)

    def text(self) -> str:
        counts = f"{self.checked} paid line(s) checked against contracts"
        skipped = []
        if self.no_contract:
            skipped.append(f"{self.no_contract} with no contract rate")
        if self.no_asp_price:
            skipped.append(f"{self.no_asp_price} with no ASP price for the quarter")
        if skipped:
            counts += f" ({', '.join(skipped)} not checked)"
        if not self.rows:
            return f"No underpayments over {self.tolerance.text}. {counts}."
        return (
            f"{len(self.rows)} underpaid line(s), ${self.total_short:,.2f} short "
            f"(tolerance {self.tolerance.text}). {counts}."
        )


def _raise_if_blocking(findings: tuple[Finding, ...]) -> None:
    if any(f.blocks for f in findings):
        raise ValidationFailed(findings)


def _row(entry: FeeScheduleEntry) -> FeeScheduleRow:
    return FeeScheduleRow(
        entry.id, entry.payer_id, entry.code, entry.allowed, entry.percent_of_asp,
        entry.effective_from, entry.effective_to,
    )


def _detail(entry: FeeEntry | FeeScheduleEntry) -> dict[str, str | None]:
    return {
        "code": entry.code,
        "allowed": None if entry.allowed is None else str(entry.allowed),
        "percent_of_asp": None if entry.percent_of_asp is None else str(entry.percent_of_asp),
        "effective_from": entry.effective_from.isoformat(),
        "effective_to": entry.effective_to.isoformat() if entry.effective_to else None,
    }


class ContractService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- fee schedules --------------------------------------------------------------------------

    def payers(self, actor: Actor) -> list[PayerChoice]:
        """Active payers (and any inactive one with a schedule), by name, with their entry counts."""
        actor.require(Permission.REPORTS_VIEW)
        with self._db.session() as session:
            counts = (
                sa.select(sa.func.count(FeeScheduleEntry.id))
                .where(FeeScheduleEntry.payer_id == Payer.id)
                .scalar_subquery()
            )
            rows = session.execute(sa.select(Payer.id, Payer.name, Payer.active, counts).order_by(Payer.name))
            return [PayerChoice(r.id, r.name, int(r[3] or 0)) for r in rows if r.active or r[3]]

    def fee_schedule(self, actor: Actor, payer_id: int) -> list[FeeScheduleRow]:
        """The payer's entries by code, newest period first."""
        actor.require(Permission.REPORTS_VIEW)
        with self._db.session() as session:
            _payer(session, payer_id)
            entries = session.scalars(
                sa.select(FeeScheduleEntry)
                .where(FeeScheduleEntry.payer_id == payer_id)
                .order_by(FeeScheduleEntry.code, FeeScheduleEntry.effective_from.desc())
            )
            return [_row(e) for e in entries]

    def add_entry(self, actor: Actor, payer_id: int, data: FeeEntryInput) -> int:
        actor.require(Permission.CLINIC_SETTINGS)
        entry = _checked(data)
        with self._db.session() as session:
            payer = _payer(session, payer_id)
            _refuse_taken(session, payer, entry, except_id=None)
            row = FeeScheduleEntry(payer_id=payer_id, **_values(entry))
            session.add(row)
            session.flush()
            audit.record(session, actor, "create", "fee_schedule_entry", row.id,
                         detail={"payer_id": payer_id, **_detail(entry)})
            return row.id

    def update_entry(self, actor: Actor, entry_id: int, data: FeeEntryInput) -> None:
        actor.require(Permission.CLINIC_SETTINGS)
        entry = _checked(data)
        with self._db.session() as session:
            row = session.get(FeeScheduleEntry, entry_id)
            if row is None:
                raise NotFound(f"Fee schedule entry {entry_id} no longer exists; it may have been deleted.")
            payer = _payer(session, row.payer_id)
            _refuse_taken(session, payer, entry, except_id=row.id)
            before = _detail(row)
            for name, value in _values(entry).items():
                setattr(row, name, value)
            audit.record(session, actor, "update", "fee_schedule_entry", row.id,
                         detail={"payer_id": row.payer_id, "before": before, "after": _detail(entry)})

    def delete_entry(self, actor: Actor, entry_id: int) -> None:
        actor.require(Permission.CLINIC_SETTINGS)
        with self._db.session() as session:
            row = session.get(FeeScheduleEntry, entry_id)
            if row is None:
                raise NotFound(f"Fee schedule entry {entry_id} no longer exists; it may have been deleted.")
            audit.record(session, actor, "delete", "fee_schedule_entry", row.id,
                         detail={"payer_id": row.payer_id, **_detail(row)})
            session.delete(row)

    def import_fee_schedule(
        self, actor: Actor, payer_id: int, path: Path, *, replace: bool = False
    ) -> FeeImportResult:
        """Read a fee schedule CSV into the payer's schedule (see the module's notes); all rows or none."""
        actor.require(Permission.CLINIC_SETTINGS)
        text = read_inbound_file(path, MAX_FILE_BYTES, "a fee schedule")
        return self.import_fee_schedule_text(actor, payer_id, text, path.name, replace=replace)

    def import_fee_schedule_text(
        self, actor: Actor, payer_id: int, text: str, file_name: str, *, replace: bool = False
    ) -> FeeImportResult:
        actor.require(Permission.CLINIC_SETTINGS)
        parsed = rules.parse_fee_schedule(text)
        if not parsed.ok:
            raise ValidationFailed(
                tuple(f if f.subject == "file" else _named(f, file_name) for f in parsed.findings)
            )
        with self._db.session() as session:
            payer = _payer(session, payer_id)
            removed = 0
            if replace:
                removed = _count(session, FeeScheduleEntry, FeeScheduleEntry.payer_id == payer_id)
                session.execute(sa.delete(FeeScheduleEntry).where(FeeScheduleEntry.payer_id == payer_id))
            schedule = sa.select(FeeScheduleEntry).where(FeeScheduleEntry.payer_id == payer_id)
            existing = {(e.code, e.effective_from): e for e in session.scalars(schedule)}
            added = replaced = 0
            for entry in parsed.entries:
                row = existing.get((entry.code, entry.effective_from))
                if row is None:
                    session.add(FeeScheduleEntry(payer_id=payer_id, **_values(entry)))
                    added += 1
                else:
                    for name, value in _values(entry).items():
                        setattr(row, name, value)
                    replaced += 1
            audit.record(
                session, actor, "import", "fee_schedule", payer_id,
                detail={"file": file_name, "added": added, "replaced": replaced, "removed": removed,
                        "replace": replace},
            )
            return FeeImportResult(payer.name, added, replaced, removed)

    # -- ASP prices -------------------------------------------------------------------------------

    def asp_quarters(self, actor: Actor) -> list[AspQuarter]:
        """The quarters with ASP prices on file, newest first."""
        actor.require(Permission.REPORTS_VIEW)
        with self._db.session() as session:
            rows = session.execute(
                sa.select(AspPrice.quarter_start, sa.func.count(AspPrice.id))
                .group_by(AspPrice.quarter_start)
                .order_by(AspPrice.quarter_start.desc())
            )
            return [AspQuarter(start, int(count)) for start, count in rows]

    def import_asp(self, actor: Actor, path: Path, quarter: date) -> AspImportResult:
        """Load the CMS ASP pricing file for the quarter starting ``quarter`` (its prices are replaced)."""
        actor.require(Permission.CLINIC_SETTINGS)
        text = read_inbound_file(path, MAX_FILE_BYTES, "an ASP pricing file")
        return self.import_asp_text(actor, text, path.name, quarter)

    def import_asp_text(self, actor: Actor, text: str, file_name: str, quarter: date) -> AspImportResult:
        actor.require(Permission.CLINIC_SETTINGS)
        if rules.quarter_start(quarter) != quarter:
            raise ValidationFailed([error(
                "ASP_QUARTER", f"{us_date(quarter)} is not the first day of a quarter (e.g. 2026-Q3 starts "
                "07/01/2026).", "quarter",
            )])
        parsed = rules.parse_asp_file(text)
        if not parsed.ok:
            raise ValidationFailed(
                tuple(f if f.subject == "file" else _named(f, file_name) for f in parsed.findings if f.blocks)
            )
        with self._db.session() as session:
            replaced = _count(session, AspPrice, AspPrice.quarter_start == quarter)
            session.execute(sa.delete(AspPrice).where(AspPrice.quarter_start == quarter))
            if parsed.prices:
                session.execute(
                    sa.insert(AspPrice),
                    [
                        {
                            "code": p.code, "quarter_start": quarter, "payment_limit": p.payment_limit,
                            "dosage": p.dosage, "description": p.description,
                        }
                        for p in parsed.prices
                    ],
                )
            audit.record(
                session, actor, "import", "asp_price", rules.quarter_label(quarter),
                detail={"file": file_name, "imported": len(parsed.prices), "replaced": replaced,
                        "skipped": parsed.skipped},
            )
            return AspImportResult(quarter, len(parsed.prices), replaced, parsed.skipped)

    # -- underpayments ----------------------------------------------------------------------------

    def underpayments(
        self,
        actor: Actor,
        since: date | None = None,
        until: date | None = None,
        tolerance: Tolerance | None = None,
    ) -> UnderpaymentReport:
        """Paid lines allowed below their contract rate by more than ``tolerance``.

        ``since`` and ``until`` (inclusive) are the payments' dates; ``None`` is no limit.
        """
        actor.require(Permission.REPORTS_VIEW)
        tolerance = tolerance or Tolerance()
        if since is not None and until is not None and until < since:
            raise ValidationFailed([error(
                "DATES", f"The period ends ({us_date(until)}) before it starts ({us_date(since)}).", "until"
            )])
        with self._db.session() as session:
            return _underpayments(session, since, until, tolerance)


# --- CSV out --------------------------------------------------------------------------------------

UNDERPAYMENT_COLUMNS = (
    "claim", "patient", "payer", "service_date", "code", "modifiers", "units", "expected", "allowed", "paid",
    "short_by", "payment_date", "basis",
)


def underpayments_csv(rows: Iterable[UnderpaymentRow]) -> str:
    """The list as CSV (dates ISO, amounts plain), for a spreadsheet or the payer's rep."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(UNDERPAYMENT_COLUMNS)
    for r in rows:
        writer.writerow((
            r.claim_number, r.patient, r.payer, r.service_date.isoformat(), r.code, " ".join(r.modifiers),
            plain(r.units), f"{r.expected:.2f}", f"{r.allowed:.2f}", f"{r.paid:.2f}", f"{r.short_by:.2f}",
            r.payment_date.isoformat() if r.payment_date else "", r.basis,
        ))
    return out.getvalue()


def fee_schedule_csv(rows: Iterable[FeeScheduleRow]) -> str:
    """A payer's schedule in the import format (``fees import`` reads it back unchanged)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(rules.FEE_COLUMNS)
    for r in rows:
        writer.writerow((
            r.code, "" if r.allowed is None else f"{r.allowed}",
            "" if r.percent_of_asp is None else plain(r.percent_of_asp),
            r.effective_from.isoformat(), r.effective_to.isoformat() if r.effective_to else "",
        ))
    return out.getvalue()


# --- helpers -------------------------------------------------------------------------------------


def _payer(session: sa.orm.Session, payer_id: int) -> Payer:
    payer = session.get(Payer, payer_id)
    if payer is None:
        raise NotFound(f"Payer {payer_id} is not on file.")
    return payer


def _checked(data: FeeEntryInput) -> FeeEntry:
    entry, findings = rules.make_entry(
        data.code, data.allowed, data.percent_of_asp, data.effective_from, data.effective_to
    )
    _raise_if_blocking(findings)
    assert entry is not None
    return entry


def _values(entry: FeeEntry) -> dict[str, object]:
    return {
        "code": entry.code,
        "allowed": entry.allowed,
        "percent_of_asp": entry.percent_of_asp,
        "effective_from": entry.effective_from,
        "effective_to": entry.effective_to,
    }


def _refuse_taken(session: sa.orm.Session, payer: Payer, entry: FeeEntry, *, except_id: int | None) -> None:
    stmt = sa.select(FeeScheduleEntry.id).where(
        FeeScheduleEntry.payer_id == payer.id,
        FeeScheduleEntry.code == entry.code,
        FeeScheduleEntry.effective_from == entry.effective_from,
    )
    if except_id is not None:
        stmt = stmt.where(FeeScheduleEntry.id != except_id)
    if session.scalar(stmt) is not None:
        raise ValidationFailed([error(
            "FEE_TAKEN",
            f"{payer.name} already has a rate for {entry.code} from {us_date(entry.effective_from)}: "
            "edit that entry, or start this one on another date.",
            "effective_from",
        )])


def _named(finding: Finding, file_name: str) -> Finding:
    message = f"{file_name}, {finding.message[0].lower()}{finding.message[1:]}"
    return Finding(finding.level, finding.code, message, finding.subject)


def _count(session: sa.orm.Session, model: type[object], condition: sa.ColumnElement[bool]) -> int:
    return int(session.scalar(sa.select(sa.func.count()).select_from(model).where(condition)) or 0)


def _underpayments(
    session: sa.orm.Session, since: date | None, until: date | None, tolerance: Tolerance
) -> UnderpaymentReport:
    posted = sa.and_(Remittance.posted_at.is_not(None), RemittanceClaim.claim_id.is_not(None))
    window = (
        sa.select(RemittanceClaim.claim_id)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(posted)
    )
    if since is not None:
        window = window.where(Remittance.payment_date >= since)
    if until is not None:
        window = window.where(Remittance.payment_date <= until)
    claims_in_window = window.scalar_subquery()

    # every posted answer for those claims, in posting order (earlier payments included: a
    # reversal in the period takes back a payment from before it)
    answers_stmt = (
        sa.select(
            RemittanceClaim.claim_id,
            RemittanceClaim.status_code,
            RemittanceLine.id.label("line_id"),
            RemittanceLine.claim_line_id,
            RemittanceLine.paid,
            RemittanceLine.allowed,
            Remittance.payment_date,
        )
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .outerjoin(RemittanceLine, RemittanceLine.remittance_claim_id == RemittanceClaim.id)
        .where(
            posted, RemittanceClaim.claim_id.in_(claims_in_window),
            # only what the loop below reads: a reversal, or an answer for a line
            sa.or_(RemittanceClaim.status_code == REVERSAL, RemittanceLine.id.is_not(None)),
        )
        .order_by(Remittance.payment_date, Remittance.id, RemittanceClaim.id, RemittanceLine.id)
    )
    patient_share: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for line_id, amount in session.execute(
        sa.select(Adjustment.remittance_line_id, Adjustment.amount)
        .join(RemittanceClaim, RemittanceClaim.id == Adjustment.remittance_claim_id)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(
            posted,
            RemittanceClaim.claim_id.in_(claims_in_window),
            Adjustment.remittance_line_id.is_not(None),
            Adjustment.group_code == AdjustmentGroup.PR,
        )
    ):
        patient_share[line_id] += amount
    answers: list[LineAnswer] = []
    for r in session.execute(answers_stmt):
        if r.status_code == REVERSAL:
            answers.append(LineAnswer(r.claim_id, None, True))
        elif r.line_id is not None:
            answers.append(
                LineAnswer(
                    r.claim_id, r.claim_line_id, False, paid=r.paid, allowed=r.allowed,
                    patient_responsibility=patient_share.get(r.line_id, ZERO),
                    payment_date=r.payment_date, denied=r.status_code == DENIED,
                )
            )
    standing = {
        line_id: answer
        for line_id, answer in rules.standing_answers(answers).items()
        if not answer.denied
        and (since is None or (answer.payment_date is not None and answer.payment_date >= since))
        and (until is None or (answer.payment_date is not None and answer.payment_date <= until))
        and (answer.paid != 0 or rules.line_allowed(answer) != 0)
    }

    # only the lines a posted answer names (a claim answered as a whole has none to price)
    answered_lines = (
        sa.select(RemittanceLine.claim_line_id)
        .join(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(
            posted, RemittanceClaim.claim_id.in_(claims_in_window), RemittanceLine.claim_line_id.is_not(None)
        )
    )
    lines = session.execute(
        sa.select(
            ClaimLine.id, ClaimLine.code, ClaimLine.modifiers, ClaimLine.units, ClaimLine.service_date,
            Claim.id.label("claim_id"), Claim.claim_number, Claim.payer_id,
            Patient.last_name, Patient.first_name, Patient.mrn, Payer.name.label("payer"),
        )
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .join(Patient, Patient.id == Claim.patient_id)
        .join(Payer, Payer.id == Claim.payer_id)
        .where(
            Claim.id.in_(claims_in_window), Claim.responsibility_sequence == "P",
            ClaimLine.id.in_(answered_lines),
        )
        .order_by(Claim.claim_number, ClaimLine.line_number)
    ).all() if standing else []
    lines = [line for line in lines if line.id in standing]
    payer_ids = sorted({line.payer_id for line in lines})
    schedules: dict[int, list[FeeEntry]] = defaultdict(list)
    if payer_ids:
        for e in session.scalars(sa.select(FeeScheduleEntry).where(FeeScheduleEntry.payer_id.in_(payer_ids))):
            schedules[e.payer_id].append(_row(e).entry)
    asp_codes = sorted(
        {e.code for entries in schedules.values() for e in entries if e.percent_of_asp is not None}
    )
    limits: dict[tuple[str, date], Decimal] = {}
    if asp_codes:
        for code, start, limit in session.execute(
            sa.select(AspPrice.code, AspPrice.quarter_start, AspPrice.payment_limit)
            .where(AspPrice.code.in_(asp_codes))
        ):
            limits[(code, start)] = limit

    rows: list[UnderpaymentRow] = []
    totals: dict[int, _Tally] = {}
    checked = no_contract = no_asp = 0
    for line in lines:
        answer = standing[line.id]
        total = totals.setdefault(line.payer_id, _Tally(line.payer))
        pricing = rules.price_line(
            schedules.get(line.payer_id, ()), line.code, line.service_date, line.units, limits
        )
        if pricing.expected is None:
            if pricing.status is PriceStatus.NO_ASP_PRICE:
                no_asp += 1
            else:
                no_contract += 1
            total.no_contract += 1
            continue
        checked += 1
        total.checked += 1
        allowed = rules.line_allowed(answer)
        short = rules.shortfall(pricing.expected, allowed, tolerance)
        if short is None:
            continue
        rows.append(
            UnderpaymentRow(
                claim_id=line.claim_id, claim_number=line.claim_number,
                patient=f"{line.last_name}, {line.first_name} ({line.mrn})",
                payer_id=line.payer_id, payer=line.payer, service_date=line.service_date, code=line.code,
                modifiers=tuple(line.modifiers or ()), units=line.units, expected=pricing.expected,
                allowed=allowed, paid=answer.paid, short_by=short, payment_date=answer.payment_date,
                basis=pricing.basis,
            )
        )
        total.lines += 1
        total.expected += pricing.expected
        total.allowed += allowed
        total.short_by += short
    rows.sort(key=lambda r: (-r.short_by, r.service_date, r.claim_number, r.code))
    by_payer = sorted(
        (
            PayerShortfall(
                payer_id, t.payer, t.lines, t.expected, t.allowed, t.short_by, t.checked, t.no_contract
            )
            for payer_id, t in totals.items()
        ),
        key=lambda p: (-p.short_by, p.payer),
    )
    return UnderpaymentReport(
        tuple(rows), tuple(by_payer), tolerance, checked, no_contract, no_asp, since, until,
        sum((r.short_by for r in rows), ZERO),
    )


@dataclass(slots=True)
class _Tally:
    payer: str
    lines: int = 0
    expected: Decimal = ZERO
    allowed: Decimal = ZERO
    short_by: Decimal = ZERO
    checked: int = 0
    no_contract: int = 0
