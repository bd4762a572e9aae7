"""The patient statement run: who gets a statement, the PDFs, what was sent, and reprints.

    service = StatementService(db)
    preview = service.preview_run(biller)                      # who would get one, and why not the others
    summary = service.run(biller, out_dir=Path("statements"), progress=lambda done, total: ...)
    pdf = service.reprint(biller, summary.sent[0].statement_id)  # the same PDF, byte for byte

**Who gets a statement.** A patient whose patient-due balance (the patient's share of lines
in the *patient due* state, less what the patient already paid on them) is at least the
clinic's minimum (default $5.00), who is not on statement hold, and whose last statement is
at least the cycle (default 30 days) old. Everyone else who owes or may owe something is
listed with the reason they are skipped: on hold, under the minimum, a statement sent within
the cycle, or nothing patient-due yet (the share still waits for insurance, a payment plan or
collections). Amounts still with insurance are never billed; the statement lists them as
"waiting for insurance, not due" (:mod:`infusion_desk.billing.statements`).

**Which lines a statement lists.** Every patient-due line; and, as not due, the lines of
primary (or replacement) claims insurance has not answered, and the lines whose patient share
waits for the secondary payer's claim. A secondary claim's own lines are not listed again
(the primary's line already says its share waits for that payer), nor void claims, closed
claims or claims a replacement claim superseded.

**The run** reads everything first, renders each statement and the run's PDF (every
statement in one file, for printing) to hidden temporary files, then records one
``Statement`` per patient, each with the snapshot of everything printed, in one
transaction, and only then gives the files their final names (the run's PDF last). A failure
before the end records nothing and leaves no file under a final name. A run killed after its
record but before the last rename is finished by the next run into the same folder, before it
does anything else: the statements on record get their files, from the temporary files.

The previous balance is the amount due on the patient's last statement; payments since are
the patient payments posted after it (refunds count negative).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.appeals import Letterhead
from infusion_desk.billing.findings import error
from infusion_desk.billing.money import ZERO, money
from infusion_desk.billing.statements import (
    DUE,
    PENDING,
    PENDING_SECONDARY,
    Statement,
    StatementLine,
    from_snapshot,
    make_statement,
    render_run,
    render_statement,
    statement_pages,
    to_snapshot,
)
from infusion_desk.models import (
    AuditEvent,
    ChargeMasterEntry,
    Claim,
    ClaimLine,
    Drug,
    Patient,
    PatientPayment,
    User,
)
from infusion_desk.models import Statement as StatementRow
from infusion_desk.models.base import Money, utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import ClaimStatus, LineResponsibility
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.claim_data import load_clinic
from infusion_desk.services.claims import clinic_today
from infusion_desk.services.errors import EnvironmentFault, NotFound, ValidationFailed
from infusion_desk.services.settings_store import read_setting, write_setting

SETTING_MINIMUM = "statements.minimum_balance"
SETTING_CYCLE = "statements.cycle_days"
SETTING_DUE = "statements.due_days"
DEFAULT_MINIMUM = Decimal("5.00")
DEFAULT_CYCLE_DAYS = 30
DEFAULT_DUE_DAYS = 21
HOLD_ACTION = "statement_hold"
CHUNK = 900

Progress = Callable[[int, int], None]
"""(statements rendered, statements to render)."""
_RUN_PARTIAL = re.compile(r"\.statements_(?P<day>\d{8})_(?P<suffix>[0-9a-f]{10})\.pdf\.partial")
"""A run's PDF still under its temporary name: the run was interrupted before its last rename."""

_WAITING = (
    LineResponsibility.SECONDARY_PENDING,
    LineResponsibility.INSURANCE_PENDING,
    LineResponsibility.PAYMENT_PLAN,
    LineResponsibility.IN_COLLECTIONS,
)
_LISTED = (
    LineResponsibility.PATIENT_DUE,
    LineResponsibility.INSURANCE_PENDING,
    LineResponsibility.SECONDARY_PENDING,
)


@dataclass(frozen=True, slots=True)
class StatementSettings:
    minimum_balance: Decimal = DEFAULT_MINIMUM
    """A patient owing less gets no statement this run."""
    cycle_days: int = DEFAULT_CYCLE_DAYS
    """Days between two statements to the same patient."""
    due_days: int = DEFAULT_DUE_DAYS
    """The payment is due this many days after the statement date."""


@dataclass(frozen=True, slots=True)
class PreviewRow:
    patient_id: int
    patient: str
    """``Last, First``."""
    mrn: str
    amount_due: Decimal
    oldest_days: int
    """Days since the oldest date of service still owed (0 when nothing is due)."""
    last_statement: date | None
    hold: bool
    send: bool
    reason: str
    """Why this patient gets a statement, or why not."""


@dataclass(frozen=True, slots=True)
class RunPreview:
    statement_date: date
    settings: StatementSettings
    rows: tuple[PreviewRow, ...]

    @property
    def to_send(self) -> tuple[PreviewRow, ...]:
        return tuple(row for row in self.rows if row.send)

    @property
    def skipped(self) -> tuple[PreviewRow, ...]:
        return tuple(row for row in self.rows if not row.send)

    @property
    def total_due(self) -> Decimal:
        return sum((row.amount_due for row in self.to_send), ZERO)

    def text(self) -> str:
        lines = [
            f"Statement date {self.statement_date:%m/%d/%Y}: {len(self.to_send)} statement(s) to send, "
            f"${self.total_due:,.2f} due; {len(self.skipped)} patient(s) skipped."
        ]
        lines += [f"send  {r.mrn}  {r.patient}  ${r.amount_due:,.2f}" for r in self.to_send]
        lines += [f"skip  {r.mrn}  {r.patient}  ${r.amount_due:,.2f}: {r.reason}" for r in self.skipped]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class SentStatement:
    statement_id: int
    patient_id: int
    patient: str
    mrn: str
    amount_due: Decimal
    pages: int
    path: Path


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: str | None
    statement_date: date
    due_date: date
    sent: tuple[SentStatement, ...]
    run_file: Path | None
    """Every statement of the run in one PDF, for printing (None when nothing was sent)."""
    skipped: tuple[PreviewRow, ...] = field(default=())

    @property
    def total_due(self) -> Decimal:
        return sum((s.amount_due for s in self.sent), ZERO)

    @property
    def pages(self) -> int:
        return sum(s.pages for s in self.sent)

    def text(self) -> str:
        if not self.sent:
            return (
                f"No statements to send on {self.statement_date:%m/%d/%Y}; "
                f"{len(self.skipped)} patient(s) skipped."
            )
        return (
            f"Sent {len(self.sent)} statement(s), {self.pages} page(s), ${self.total_due:,.2f} due by "
            f"{self.due_date:%m/%d/%Y}; {len(self.skipped)} patient(s) skipped.\n"
            f"Print: {self.run_file}"
        )


@dataclass(frozen=True, slots=True)
class StatementRecord:
    id: int
    patient_id: int
    statement_date: date
    due_date: date
    previous_balance: Decimal
    amount_due: Decimal
    run_id: str | None
    created_at: datetime
    created_by: str | None


@dataclass(frozen=True, slots=True)
class _Candidate:
    row: PreviewRow
    last_statement_at: datetime | None
    previous_balance: Decimal


def _failed(code: str, message: str, subject: str) -> ValidationFailed:
    return ValidationFailed([error(code, message, subject)])


def _chunks(values: Sequence[int]) -> Iterable[Sequence[int]]:
    return (values[i : i + CHUNK] for i in range(0, len(values), CHUNK))


def _require_run(actor: Actor) -> None:
    """Statement runs are billers' and managers' work: patient billing and reports both."""
    actor.require(Permission.PATIENT_PAYMENT)
    actor.require(Permission.REPORTS_VIEW)


# --- settings --------------------------------------------------------------------------------------



def load_settings(session: Session) -> StatementSettings:
    """The clinic's statement settings (the defaults where none is stored)."""
    minimum, cycle, due = (read_setting(session, k) for k in (SETTING_MINIMUM, SETTING_CYCLE, SETTING_DUE))
    try:
        minimum_value = money(str(minimum)) if minimum is not None else DEFAULT_MINIMUM
    except (ValueError, TypeError):
        minimum_value = DEFAULT_MINIMUM
    return StatementSettings(
        minimum_balance=minimum_value,
        cycle_days=cycle if isinstance(cycle, int) and not isinstance(cycle, bool) else DEFAULT_CYCLE_DAYS,
        due_days=due if isinstance(due, int) and not isinstance(due, bool) else DEFAULT_DUE_DAYS,
    )


def check_settings(settings: StatementSettings) -> list[Any]:
    findings = []
    try:
        minimum = money(settings.minimum_balance)
    except (ValueError, TypeError, InvalidOperation):
        minimum = Decimal(-1)
    if minimum < 0:
        findings.append(error(
            "STATEMENT_MINIMUM", "The minimum balance must be an amount of $0.00 or more (e.g. 5.00).",
            "minimum_balance",
        ))
    if not 1 <= settings.cycle_days <= 365:
        findings.append(error(
            "STATEMENT_CYCLE", "Days between statements must be from 1 to 365 (30 is usual).", "cycle_days"
        ))
    if not 1 <= settings.due_days <= 90:
        findings.append(error(
            "STATEMENT_DUE_DAYS", "Days until payment is due must be from 1 to 90 (21 is usual).", "due_days"
        ))
    return findings


# --- reading the record ----------------------------------------------------------------------------


def _name(last: str, first: str) -> str:
    return f"{last}, {first}"


def _waiting_reason(states: set[LineResponsibility]) -> str:
    if LineResponsibility.IN_COLLECTIONS in states:
        return "nothing patient-due: the balance is with collections"
    if LineResponsibility.PAYMENT_PLAN in states:
        return "nothing patient-due: the balance is on a payment plan"
    return "nothing patient-due yet: the patient's share waits for insurance"


def _candidates(session: Session, today: date, settings: StatementSettings) -> list[_Candidate]:
    """Everyone who owes or may owe something, with whether they get a statement and why."""
    due: dict[int, tuple[Decimal, date]] = {}
    for patient_id, amount, oldest in session.execute(
        sa.select(
            Claim.patient_id,
            # both columns are stored in cents: the sum is read back through the same type
            sa.type_coerce(sa.func.sum(ClaimLine.patient_responsibility - ClaimLine.patient_paid), Money()),
            sa.func.min(ClaimLine.service_date),
        )
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(ClaimLine.responsibility == LineResponsibility.PATIENT_DUE)
        .group_by(Claim.patient_id)
    ):
        due[patient_id] = (money(amount or 0), oldest)
    waiting: dict[int, set[LineResponsibility]] = {}
    for patient_id, state in session.execute(
        sa.select(Claim.patient_id, ClaimLine.responsibility)
        .join(Claim, Claim.id == ClaimLine.claim_id)
        .where(
            ClaimLine.responsibility.in_(_WAITING),
            ClaimLine.patient_responsibility - ClaimLine.patient_paid > 0,
        )
        .distinct()
    ):
        waiting.setdefault(patient_id, set()).add(state)
    ids = sorted(set(due) | set(waiting))
    people: dict[int, Any] = {}
    last: dict[int, Any] = {}
    for chunk in _chunks(ids):
        people.update(
            (row.id, row)
            for row in session.execute(
                sa.select(
                    Patient.id, Patient.last_name, Patient.first_name, Patient.mrn, Patient.statement_hold
                ).where(Patient.id.in_(chunk))
            )
        )
        newest = (
            sa.select(sa.func.max(StatementRow.id))
            .where(StatementRow.patient_id.in_(chunk))
            .group_by(StatementRow.patient_id)
        )
        last.update(
            (row.patient_id, row)
            for row in session.execute(
                sa.select(
                    StatementRow.patient_id,
                    StatementRow.statement_date,
                    StatementRow.amount_due,
                    StatementRow.created_at,
                ).where(StatementRow.id.in_(newest))
            )
        )
    holds = _hold_reasons(session, [i for i in ids if people[i].statement_hold])
    out: list[_Candidate] = []
    for patient_id in ids:
        person = people[patient_id]
        amount, oldest = due.get(patient_id, (ZERO, today))
        previous = last.get(patient_id)
        last_date = previous.statement_date if previous is not None else None
        send = False
        if amount <= 0:
            reason = _waiting_reason(waiting.get(patient_id, set()))
        elif person.statement_hold:
            why = holds.get(patient_id)
            reason = "on statement hold" + (f": {why}" if why else "")
        elif amount < settings.minimum_balance:
            reason = f"under the minimum of ${settings.minimum_balance:,.2f}"
        elif last_date is not None and (today - last_date).days < settings.cycle_days:
            next_on = last_date + timedelta(days=settings.cycle_days)
            reason = f"statement sent {last_date:%m/%d/%Y}; next one from {next_on:%m/%d/%Y}"
        else:
            send = True
            reason = "first statement" if last_date is None else f"last statement {last_date:%m/%d/%Y}"
        out.append(_Candidate(
            row=PreviewRow(
                patient_id=patient_id,
                patient=_name(person.last_name, person.first_name),
                mrn=person.mrn,
                amount_due=amount,
                oldest_days=max(0, (today - oldest).days) if amount > 0 else 0,
                last_statement=last_date,
                hold=bool(person.statement_hold),
                send=send,
                reason=reason,
            ),
            last_statement_at=previous.created_at if previous is not None else None,
            previous_balance=money(previous.amount_due) if previous is not None else ZERO,
        ))
    out.sort(key=lambda c: (not c.row.send, c.row.patient.casefold(), c.row.mrn))
    return out


def _hold_reasons(session: Session, patient_ids: Sequence[int]) -> dict[int, str]:
    reasons: dict[int, str] = {}
    for chunk in _chunks(patient_ids):
        for patient_id, detail in session.execute(
            sa.select(AuditEvent.patient_id, AuditEvent.detail)
            .where(AuditEvent.action == HOLD_ACTION, AuditEvent.patient_id.in_(chunk))
            .order_by(AuditEvent.id)
        ):
            if isinstance(detail, dict) and detail.get("hold"):
                reasons[patient_id] = str(detail.get("reason") or "")
    return reasons


def _letterhead(session: Session) -> tuple[Letterhead, tuple[str, ...]]:
    clinic = load_clinic(session)
    address = tuple(
        line
        for line in (clinic.address1, clinic.address2, f"{clinic.city}, {clinic.state} {clinic.zip_code}")
        if line
    )
    remit: tuple[str, ...]
    if clinic.pay_to_address1:
        remit = (
            clinic.pay_to_address1,
            f"{clinic.pay_to_city or clinic.city}, {clinic.pay_to_state or clinic.state} "
            f"{clinic.pay_to_zip_code or clinic.zip_code}",
        )
    else:
        remit = address
    return Letterhead(clinic.name, address, clinic.phone, clinic.npi, clinic.tin), remit


def _mail_to(person: Patient) -> tuple[str, ...]:
    if person.guarantor_name and person.guarantor_address:
        parts = [p.strip() for p in person.guarantor_address.replace("\r", "").split("\n") if p.strip()]
        if len(parts) == 1 and "," in parts[0]:
            street, rest = parts[0].split(",", 1)
            parts = [street.strip(), rest.strip()]
        return (person.guarantor_name, *parts)
    middle = f" {person.middle_name}" if person.middle_name else ""
    return tuple(
        line
        for line in (
            f"{person.first_name}{middle} {person.last_name}",
            person.address1,
            person.address2,
            f"{person.city}, {person.state} {person.zip_code}",
        )
        if line
    )


def _descriptions(session: Session) -> dict[str, str]:
    names: dict[str, str] = {}
    for code, name in session.execute(sa.select(Drug.hcpcs, Drug.name).order_by(Drug.id)):
        names.setdefault(code, name)
    for code, text in session.execute(sa.select(ChargeMasterEntry.code, ChargeMasterEntry.description)):
        names[code] = text
    return names


def _statement_lines(session: Session, patient_ids: Sequence[int]) -> dict[int, list[StatementLine]]:
    descriptions = _descriptions(session)
    rows: list[Any] = []
    for chunk in _chunks(patient_ids):
        rows += session.execute(
            sa.select(
                Claim.id.label("claim_id"),
                Claim.patient_id,
                Claim.frequency_code,
                Claim.status,
                Claim.responsibility_sequence,
                ClaimLine.service_date,
                ClaimLine.code,
                ClaimLine.modifiers,
                ClaimLine.description,
                ClaimLine.charge,
                ClaimLine.paid,
                ClaimLine.adjusted,
                ClaimLine.patient_responsibility,
                ClaimLine.patient_paid,
                ClaimLine.responsibility,
            )
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(Claim.patient_id.in_(chunk), ClaimLine.responsibility.in_(_LISTED))
            .order_by(ClaimLine.service_date, Claim.id, ClaimLine.line_number)
        ).all()
    claim_ids = sorted({row.claim_id for row in rows})
    superseded: set[int] = set()
    for chunk in _chunks(claim_ids):
        superseded.update(
            session.scalars(
                sa.select(Claim.original_claim_id).where(
                    Claim.original_claim_id.in_(chunk), Claim.frequency_code == "7"
                )
            )
        )
    out: dict[int, list[StatementLine]] = {}
    for row in rows:
        state = row.responsibility
        if state is LineResponsibility.PATIENT_DUE:
            status = DUE
        elif state is LineResponsibility.SECONDARY_PENDING:
            status = PENDING_SECONDARY
        elif row.responsibility_sequence == "P":
            status = PENDING
        else:
            continue  # a secondary claim's own line: the primary's line already says it waits
        if status != DUE and (
            row.frequency_code == "8" or row.status is ClaimStatus.CLOSED or row.claim_id in superseded
        ):
            continue
        code = "-".join([row.code, *(row.modifiers or [])])
        out.setdefault(row.patient_id, []).append(
            StatementLine(
                service_date=row.service_date,
                code=code,
                description=row.description or descriptions.get(row.code, ""),
                charge=money(row.charge),
                insurance_paid=money(row.paid),
                adjustments=money(row.adjusted),
                patient_responsibility=money(row.patient_responsibility),
                patient_paid=money(row.patient_paid),
                status=status,
            )
        )
    return out


def _payments_since(session: Session, candidates: Sequence[_Candidate]) -> dict[int, Decimal]:
    since = {c.row.patient_id: c.last_statement_at for c in candidates if c.last_statement_at is not None}
    totals: dict[int, Decimal] = {}
    for chunk in _chunks(sorted(since)):
        for patient_id, amount, refund, created in session.execute(
            sa.select(
                PatientPayment.patient_id, PatientPayment.amount, PatientPayment.is_refund,
                PatientPayment.created_at,
            ).where(PatientPayment.patient_id.in_(chunk))
        ):
            last = since[patient_id]
            if created is not None and last is not None and created > last:
                totals[patient_id] = totals.get(patient_id, ZERO) + (-amount if refund else amount)
    return totals


def _build(
    session: Session, candidates: Sequence[_Candidate], today: date, settings: StatementSettings
) -> list[tuple[PreviewRow, Statement]]:
    if not candidates:
        return []
    letterhead, remit_to = _letterhead(session)
    ids = [c.row.patient_id for c in candidates]
    lines = _statement_lines(session, ids)
    payments = _payments_since(session, candidates)
    people: dict[int, Patient] = {}
    for chunk in _chunks(ids):
        people.update((p.id, p) for p in session.scalars(sa.select(Patient).where(Patient.id.in_(chunk))))
    due_date = today + timedelta(days=settings.due_days)
    built = []
    for candidate in candidates:
        person = people[candidate.row.patient_id]
        built.append((
            candidate.row,
            make_statement(
                letterhead=letterhead,
                remit_to=remit_to,
                patient_name=f"{person.first_name} {person.last_name}",
                account_number=person.mrn,
                mail_to=_mail_to(person),
                statement_date=today,
                due_date=due_date,
                lines=lines.get(person.id, []),
                previous_balance=candidate.previous_balance,
                payments_since_last=payments.get(person.id, ZERO),
            ),
        ))
    return built


def _file_name(statement: Statement) -> str:
    account = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in statement.account_number)
    return f"statement_{statement.statement_date:%Y%m%d}_{account}.pdf"


def _partial(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


# --- the service -----------------------------------------------------------------------------------


class StatementService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def settings(self, actor: Actor) -> StatementSettings:
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            return load_settings(session)

    def set_settings(self, actor: Actor, settings: StatementSettings) -> StatementSettings:
        """Save the minimum balance, the cycle and the days until due; refused whole if any is wrong."""
        actor.require(Permission.CLINIC_SETTINGS)
        findings = check_settings(settings)
        if findings:
            raise ValidationFailed(findings)
        saved = StatementSettings(money(settings.minimum_balance), settings.cycle_days, settings.due_days)
        with self._db.session() as session:
            before = load_settings(session)
            write_setting(session, SETTING_MINIMUM, str(saved.minimum_balance))
            write_setting(session, SETTING_CYCLE, saved.cycle_days)
            write_setting(session, SETTING_DUE, saved.due_days)
            audit.record(session, actor, "update", "statement_settings", detail={
                "before": [str(before.minimum_balance), before.cycle_days, before.due_days],
                "after": [str(saved.minimum_balance), saved.cycle_days, saved.due_days],
            })
        return saved

    def preview_run(self, actor: Actor, today: date | None = None) -> RunPreview:
        """Who a run today would send a statement to, and why each other patient is skipped."""
        _require_run(actor)
        with self._db.session() as session:
            on = today or clinic_today(session)
            settings = load_settings(session)
            rows = tuple(c.row for c in _candidates(session, on, settings))
        return RunPreview(on, settings, rows)

    def run(
        self,
        actor: Actor,
        *,
        out_dir: Path,
        today: date | None = None,
        progress: Progress | None = None,
    ) -> RunSummary:
        """Send the statements a preview lists: the PDFs in ``out_dir`` and a record of each."""
        _require_run(actor)
        self._finish_interrupted(Path(out_dir))
        read_at = utcnow()
        with self._db.session() as session:
            on = today or clinic_today(session)
            settings = load_settings(session)
            candidates = _candidates(session, on, settings)
            built = _build(session, [c for c in candidates if c.row.send], on, settings)
        skipped = tuple(c.row for c in candidates if not c.row.send)
        due_date = on + timedelta(days=settings.due_days)
        if not built:
            return RunSummary(None, on, due_date, (), None, skipped)

        run_id = f"{on:%Y%m%d}-{uuid.uuid4().hex[:10]}"
        folder = Path(out_dir)
        run_path = folder / f"statements_{on:%Y%m%d}_{run_id[9:]}.pdf"
        paths = [folder / _file_name(statement) for _row, statement in built]
        for path in (*paths, run_path):
            if path.exists():
                raise _failed(
                    "STATEMENT_FILE_EXISTS",
                    f"{path} already exists; choose another folder or move the file. Nothing was sent.",
                    "out_dir",
                )
        written: list[Path] = []
        try:
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise EnvironmentFault(
                    f"Could not make the folder {folder}: {exc.strerror or exc}. Nothing was sent."
                ) from exc
            pages: list[int] = []
            for done, ((_row, statement), path) in enumerate(zip(built, paths, strict=True), start=1):
                pdf = render_statement(statement)
                pages.append(len(statement_pages(statement)))
                self._write(_partial(path), pdf, written)
                if progress is not None:
                    progress(done, len(built))
            self._write(_partial(run_path), render_run([s for _r, s in built], title=f"Statements {run_id}"),
                        written)
            ids = self._record(actor, built, run_id, read_at)
        except BaseException:
            for temporary in written:
                temporary.unlink(missing_ok=True)
            raise
        try:
            for path in (*paths, run_path):
                _partial(path).replace(path)
        except OSError as exc:
            raise EnvironmentFault(
                f"The statements were recorded, but a file in {folder} could not be given its final "
                f"name ({exc.strerror or exc}); reprint them from each patient's statement history."
            ) from exc
        sent = tuple(
            SentStatement(
                statement_id=statement_id, patient_id=row.patient_id, patient=row.patient, mrn=row.mrn,
                amount_due=statement.amount_due, pages=count, path=path,
            )
            for statement_id, (row, statement), count, path in zip(ids, built, pages, paths, strict=True)
        )
        return RunSummary(run_id, on, due_date, sent, run_path, skipped)

    def _finish_interrupted(self, folder: Path) -> None:
        """Give their final names to the files of a run killed between its record and its last rename.

        A run's PDF under its temporary name whose run is on record marks such a run; its
        statements' files are renamed (or drawn again from the snapshot if one is missing). The
        temporary files of a run never recorded are left for the next run to overwrite.
        """
        runs = {}
        for temporary in folder.glob(".statements_*.pdf.partial") if folder.is_dir() else ():
            found = _RUN_PARTIAL.fullmatch(temporary.name)
            if found:
                runs[f"{found['day']}-{found['suffix']}"] = temporary
        if not runs:
            return
        with self._db.session() as session:
            recorded = session.execute(
                sa.select(StatementRow.run_id, StatementRow.snapshot)
                .where(StatementRow.run_id.in_(list(runs)))
                .order_by(StatementRow.id)
            ).all()
        finished = set()
        try:
            for run_id, snapshot in recorded:
                statement = from_snapshot(snapshot)
                path = folder / _file_name(statement)
                if not path.exists():
                    if not _partial(path).exists():
                        _partial(path).write_bytes(render_statement(statement))
                    _partial(path).replace(path)
                finished.add(run_id)
            for run_id in finished:
                runs[run_id].replace(runs[run_id].with_name(runs[run_id].name[1 : -len(".partial")]))
        except OSError as exc:
            raise EnvironmentFault(
                f"An earlier statement run into {folder} was interrupted, and its files could not be "
                f"given their final names ({exc.strerror or exc}). Nothing new was sent."
            ) from exc

    @staticmethod
    def _write(path: Path, data: bytes, written: list[Path]) -> None:
        try:
            written.append(path)
            path.write_bytes(data)
        except OSError as exc:
            raise EnvironmentFault(
                f"Could not write {path.parent}: {exc.strerror or exc}. Nothing was sent."
            ) from exc

    def _record(
        self, actor: Actor, built: Sequence[tuple[PreviewRow, Statement]], run_id: str, read_at: datetime
    ) -> list[int]:
        """One transaction: a statement row per patient, with its snapshot, and the audit trail."""
        ids = [row.patient_id for row, _statement in built]
        with self._db.session() as session:
            for chunk in _chunks(ids):
                raced = session.scalar(
                    sa.select(sa.func.count())
                    .select_from(StatementRow)
                    .where(StatementRow.patient_id.in_(chunk), StatementRow.created_at >= read_at)
                )
                if raced:
                    raise _failed(
                        "STATEMENT_RUN_RACED",
                        "Another statement run sent statements to some of these patients while this one "
                        "was printing. Nothing was sent by this run; preview again.",
                        "run",
                    )
            now = utcnow()
            rows = [
                StatementRow(
                    patient_id=row.patient_id, run_id=run_id, statement_date=statement.statement_date,
                    due_date=statement.due_date, previous_balance=statement.previous_balance,
                    amount_due=statement.amount_due, snapshot=to_snapshot(statement), created_at=now,
                    created_by_id=actor.user_id,
                )
                for row, statement in built
            ]
            session.add_all(rows)
            session.flush()
            for record, (row, statement) in zip(rows, built, strict=True):
                audit.record(
                    session, actor, "statement_sent", "statement", record.id, patient_id=row.patient_id,
                    detail={"run_id": run_id, "amount_due": str(statement.amount_due)},
                )
            audit.record(session, actor, "statement_run", "statement_run", run_id, detail={
                "statements": len(rows),
                "amount_due": str(sum((s.amount_due for _r, s in built), ZERO)),
            })
            return [record.id for record in rows]

    def reprint(self, actor: Actor, statement_id: int) -> bytes:
        """The statement exactly as it was sent: the same PDF, byte for byte."""
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            record = session.get(StatementRow, statement_id)
            if record is None:
                raise NotFound(f"Statement {statement_id} is not on file.")
            statement = from_snapshot(record.snapshot)
            audit.record(
                session, actor, "statement_reprint", "statement", record.id, patient_id=record.patient_id
            )
        return render_statement(statement)

    def statements_for(self, actor: Actor, patient_id: int) -> list[StatementRecord]:
        """The patient's statements, newest first."""
        actor.require(Permission.PATIENT_PAYMENT)
        with self._db.session() as session:
            if session.get(Patient, patient_id) is None:
                raise NotFound(f"Patient {patient_id} is not on file.")
            rows = session.execute(
                sa.select(StatementRow, User.username)
                .outerjoin(User, User.id == StatementRow.created_by_id)
                .where(StatementRow.patient_id == patient_id)
                .order_by(StatementRow.statement_date.desc(), StatementRow.id.desc())
            ).all()
            return [
                StatementRecord(
                    id=row.id, patient_id=row.patient_id, statement_date=row.statement_date,
                    due_date=row.due_date, previous_balance=row.previous_balance, amount_due=row.amount_due,
                    run_id=row.run_id, created_at=row.created_at, created_by=username,
                )
                for row, username in rows
            ]

    def set_hold(self, actor: Actor, patient_id: int, hold: bool, reason: str) -> None:
        """Stop (or resume) statements to a patient; putting one on hold needs a reason."""
        actor.require(Permission.PATIENT_PAYMENT)
        why = reason.strip()
        if hold and not why:
            raise _failed(
                "HOLD_REASON",
                "Say why statements are held (e.g. billing dispute, waiting for an insurance appeal).",
                "reason",
            )
        with self._db.session() as session:
            patient = session.get(Patient, patient_id)
            if patient is None:
                raise NotFound(f"Patient {patient_id} is not on file.")
            was = patient.statement_hold
            patient.statement_hold = hold
            audit.record(
                session, actor, HOLD_ACTION, "patient", patient_id, patient_id=patient_id,
                detail={"hold": hold, "was": was, "reason": why},
            )
