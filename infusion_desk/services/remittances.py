"""Posting a payer's 835 remittance: every payment lands on the right claim and line, once.

One file posts as one transaction, in this order of checks, so a bad file changes nothing:

1. the file must read as X12 (a damaged file is refused with the segment that is wrong);
2. a file already imported (same content) posts nothing and says so;
3. every payment in it must balance (line, claim and payment totals, see
   :func:`infusion_desk.billing.remittance.balance_problems`), or the user is told where it
   does not and nothing is posted;
4. a payment whose trace number (TRN02) with that payer's identifier was posted before is
   skipped and reported, never posted twice.

Each CLP finds our claim by its number (CLP01 is our CLM01) and each SVC our line by its line
control number (REF*6R), falling back to the code the payer says we billed (SVC06), the
modifiers (a dropped JW or JZ does not matter) and the date. What finds no claim or no line
is kept with the reason, for review: nothing is dropped. The claim takes the payer's claim
number (CLP07, for replacements and secondary claims) and its status follows the answer:
paid, partially paid (some lines paid nothing) or denied.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from infusion_desk.billing import denials
from infusion_desk.billing import remittance as rm
from infusion_desk.billing.findings import error
from infusion_desk.billing.x12.remit835 import read_835
from infusion_desk.billing.x12.syntax import X12Error
from infusion_desk.models import (
    Adjustment,
    Claim,
    ClaimLine,
    Clinic,
    DenialWorkItem,
    InboundFile,
    Payer,
    Provider,
    ProviderAdjustment,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
    User,
)
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import (
    AdjustmentGroup,
    ClaimStatus,
    DenialCategory,
    EraPosting,
    WorkItemStatus,
)
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.balances import refresh_line_balances
from infusion_desk.services.bulk import collector_paused
from infusion_desk.services.claims import record_transitions
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.concurrency import take_version
from infusion_desk.services.denials import OPEN as OPEN_WORK
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.inbound import read_inbound_file

KIND = "835"
MAX_FILE_BYTES = 200 * 1_048_576
WASTE_MODIFIERS = frozenset({"JW", "JZ"})
PROCESSED = frozenset({"1", "2", "3", "19", "20", "21"})
"""CLP02 codes of a claim the payer processed (as primary, secondary or tertiary, maybe forwarded)."""
DENIED = "4"
CENTS = 2
"""Decimal places of an amount in the ledger (``Money()``): the 835 reader keeps what the file sent."""
THOUSANDTHS = 3
"""Decimal places of a unit count (``Quantity()``)."""


@dataclass
class PostingResult:
    """What one 835 file did: the user reads it after the import, the CLI prints it."""

    file_name: str
    already_imported: bool = False
    payments: int = 0
    claims_posted: list[str] = field(default_factory=list)
    paid: Decimal = Decimal("0.00")
    patient_responsibility: Decimal = Decimal("0.00")
    provider_adjustments: Decimal = Decimal("0.00")
    reversals: list[str] = field(default_factory=list)
    denied: list[str] = field(default_factory=list)
    partially_paid: list[str] = field(default_factory=list)
    denials_opened: int = 0
    """Denial work items opened (one per denial adjustment of a line or claim)."""
    denied_amount: Decimal = Decimal("0.00")
    review: list[str] = field(default_factory=list)
    """What could not be matched or applied, with the reason: the review queue's new items."""
    already_posted: list[str] = field(default_factory=list)
    """Payments (trace numbers) posted by an earlier file: skipped."""
    held: list[str] = field(default_factory=list)
    """Payments stored but waiting for a biller to post them (the payer's posting setting)."""

    def text(self) -> str:
        if self.already_imported:
            return f"{self.file_name}: already imported; nothing was posted again."
        lines = [
            f"{self.file_name}: {self.payments} payment(s) read, {len(self.claims_posted)} claim(s) posted, "
            f"paid ${self.paid:,.2f}, patient responsibility ${self.patient_responsibility:,.2f}"
        ]
        if self.provider_adjustments:
            lines.append(f"  provider-level adjustments (PLB): ${self.provider_adjustments:,.2f}")
        if self.partially_paid:
            lines.append(f"  partially paid: {', '.join(self.partially_paid)}")
        if self.denied:
            lines.append(f"  denied: {', '.join(self.denied)}")
        if self.denials_opened:
            lines.append(
                f"  {self.denials_opened} denial(s) to work, ${self.denied_amount:,.2f} at stake "
                "(see the denial work queue)"
            )
        if self.reversals:
            lines.append(f"  payments reversed by the payer: {', '.join(self.reversals)}")
        for held in self.held:
            lines.append(f"  waiting for review before posting: {held}")
        for trace in self.already_posted:
            lines.append(f"  payment {trace} was posted before; skipped")
        for item in self.review:
            lines.append(f"  TO REVIEW: {item}")
        return "\n".join(lines)


class RemittanceService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def import_file(self, actor: Actor, path: Path) -> PostingResult:
        """Read and post one 835 file (see the module docstring for the order of checks)."""
        actor.require(Permission.REMITTANCE_POST)
        text = read_inbound_file(path, MAX_FILE_BYTES, "a remittance (835) file")
        return self.import_text(actor, text, path.name)

    def remittances(self, actor: Actor, limit: int = 500) -> list[RemittanceRow]:
        """Posted payments, newest first, with how many of their claims wait for review."""
        actor.require(Permission.REMITTANCE_POST)
        with self._db.session() as session:
            return remittance_rows(session, limit)

    def review_items(self, actor: Actor) -> list[ReviewItem]:
        """Every payment or paid line the import could not match, newest first."""
        actor.require(Permission.REMITTANCE_POST)
        with self._db.session() as session:
            return _review_reasons(session)

    def enter(self, actor: Actor, remittance: rm.Remittance) -> PostingResult:
        """Post a paper EOB typed in by a biller: the same records and checks as an 835, at once.

        Every claim must be one of ours and every line must find its claim line, and the sums
        must balance; otherwise nothing is saved and the message says what to correct.
        """
        actor.require(Permission.REMITTANCE_POST)
        problems = [error("UNBALANCED", p, "remittance") for p in rm.balance_problems(remittance)]
        if not remittance.trace_number.strip():
            problems.append(
                error("CHECK_NUMBER", "Enter the check or EFT number printed on the EOB.", "trace_number")
            )
        if not remittance.claims:
            problems.append(error("NO_CLAIMS", "Add the claims the EOB pays or denies.", "claims"))
        problems += [error("CENTS", p, "remittance") for p in finer_than_the_ledger(remittance)]
        if problems:
            raise ValidationFailed(problems)
        with collector_paused(), self._db.session() as session:
            result = PostingResult("paper EOB")
            payers = {p.payer_id: p.id for p in session.scalars(sa.select(Payer))}
            _post(session, actor, None, remittance, payers, result, manual=True)
            if result.already_posted:
                raise ValidationFailed(
                    [
                        error(
                            "ALREADY_POSTED",
                            f"Check or EFT {remittance.trace_number} from this payer is already posted.",
                            "trace_number",
                        )
                    ]
                )
            if result.review:
                # a typed EOB is fixed at the keyboard, not parked: nothing is saved
                raise ValidationFailed([error("NOT_MATCHED", item, "claims") for item in result.review])
            audit.record(
                session,
                actor,
                "enter_remittance",
                "remittance",
                None,
                detail={"trace": remittance.trace_number, "claims": len(result.claims_posted)},
            )
            return result

    def post(self, actor: Actor, remittance_id: int) -> PostingResult:
        """Post a payment that waited for review: it takes the effect an immediate posting has."""
        actor.require(Permission.REMITTANCE_POST)
        with collector_paused(), self._db.session() as session:
            # claim the payment first: a second biller posting it at the same moment waits here,
            # then finds it posted
            take_version(session, Remittance, remittance_id, None, entity="remittance", what="That payment")
            remittance = session.get(Remittance, remittance_id)
            if remittance is None:
                raise NotFound(f"Payment {remittance_id} no longer exists.")
            if remittance.posted_at is not None:
                by = session.get(User, remittance.posted_by_id) if remittance.posted_by_id else None
                local = remittance.posted_at.astimezone(clinic_timezone(session))
                raise ValidationFailed(
                    [
                        error(
                            "ALREADY_POSTED",
                            f"Payment {remittance.trace_number} was already posted"
                            f"{' by ' + by.display_name if by else ''} at "
                            f"{local.strftime('%I:%M %p').lstrip('0')} on {local:%m/%d/%Y}; nothing changed.",
                            "remittance",
                        )
                    ]
                )
            result = PostingResult(f"payment {remittance.trace_number}")
            _apply(session, actor, remittance, result)
            result.payments = 1
            audit.record(
                session,
                actor,
                "post_remittance",
                "remittance",
                remittance.id,
                detail={"trace": remittance.trace_number, "claims": len(result.claims_posted)},
            )
            return result

    def import_text(self, actor: Actor, text: str, file_name: str) -> PostingResult:
        actor.require(Permission.REMITTANCE_POST)
        with collector_paused():
            return self._import(actor, text, file_name)

    def _import(self, actor: Actor, text: str, file_name: str) -> PostingResult:
        result = PostingResult(file_name)
        try:
            remittances = read_835(text)
        except X12Error as exc:
            raise ValidationFailed(
                [
                    error(
                        "X12",
                        f"{file_name} is not a readable 835 remittance: {exc}. Nothing was posted; "
                        "download the file again from the clearinghouse or the payer's portal.",
                        "file",
                    )
                ]
            ) from exc
        problems = [problem for r in remittances for problem in rm.balance_problems(r)]
        if problems:
            shown = problems[:10] + ([f"... and {len(problems) - 10} more."] if len(problems) > 10 else [])
            raise ValidationFailed(
                [
                    error(
                        "UNBALANCED",
                        f"{file_name} does not balance, so nothing was posted. " + " ".join(shown)
                        + " Ask the payer or clearinghouse for a corrected file.",
                        "file",
                    )
                ]
            )
        finer = [problem for r in remittances for problem in finer_than_the_ledger(r)]
        if finer:
            shown = finer[:10] + ([f"... and {len(finer) - 10} more."] if len(finer) > 10 else [])
            raise ValidationFailed(
                [
                    error(
                        "CENTS",
                        f"{file_name} has amounts the ledger cannot hold, so nothing was posted. "
                        + " ".join(shown)
                        + " Ask the payer or clearinghouse for a corrected file in whole cents.",
                        "file",
                    )
                ]
            )
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self._db.session() as session:
            if session.scalar(
                sa.select(InboundFile.id).where(InboundFile.kind == KIND, InboundFile.sha256 == digest)
            ):
                result.already_imported = True
                return result
            inbound = InboundFile(
                kind=KIND, file_name=file_name[:200], sha256=digest, content=text, received_at=utcnow()
            )
            session.add(inbound)
            session.flush()
            payers = {p.payer_id: p.id for p in session.scalars(sa.select(Payer))}
            for remittance in remittances:
                _post(session, actor, inbound.id, remittance, payers, result)
            inbound.processed_at = utcnow()
            audit.record(
                session,
                actor,
                "post_remittance",
                "inbound_file",
                inbound.id,
                detail={
                    "file": file_name,
                    "payments": result.payments,
                    "claims": len(result.claims_posted),
                    "paid": str(result.paid),
                    "review": len(result.review),
                },
            )
        return result


def _finer_than(value: Decimal, places: int) -> bool:
    """Whether ``value`` has a non-zero digit past ``places`` decimals (exactly, whatever its size)."""
    _sign, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int):
        return True  # NaN or infinity: never an amount
    below = -places - exponent
    return below > 0 and any(digits[-below:])


def finer_than_the_ledger(remittance: rm.Remittance) -> list[str]:
    """Every amount of ``remittance`` in fractions of a cent (and unit count past a thousandth), in words.

    The 835 reader keeps amounts as sent (``123.456``); the ledger stores whole cents and
    rounding a payer's money is not ours to do, so such a file is refused, naming where.

    >>> from datetime import date
    >>> line = rm.ServicePayment("96365", (), Decimal("250"), Decimal("123.456"))
    >>> claim = rm.ClaimPayment("C0000042", "1", Decimal("250"), Decimal("123.456"), lines=(line,))
    >>> for problem in finer_than_the_ledger(
    ...     rm.Remittance("EFT1", "1999999999", "", "ACH", date(2026, 11, 20), Decimal("123.46"), (claim,))
    ... ):
    ...     print(problem)
    Claim C0000042: the paid amount (CLP04) 123.456 has fractions of a cent.
    Claim C0000042, service line 1 (96365): the paid amount (SVC03) 123.456 has fractions of a cent.
    """
    problems: list[str] = []

    def amount(where: str, what: str, value: Decimal | None) -> None:
        if value is not None and _finer_than(value, CENTS):
            problems.append(f"{where}: {what} {value} has fractions of a cent.")

    def units(where: str, what: str, value: Decimal | None) -> None:
        if value is not None and _finer_than(value, THOUSANDTHS):
            problems.append(f"{where}: {what} {value} has more than {THOUSANDTHS} decimal places.")

    def adjustments(where: str, cas: Iterable[rm.CasAdjustment]) -> None:
        for adjustment in cas:
            amount(where, f"the adjustment {adjustment.group}-{adjustment.reason} (CAS)", adjustment.amount)
            units(where, f"the quantity of adjustment {adjustment.group}-{adjustment.reason} (CAS)",
                  adjustment.quantity)

    payment = f"Payment {remittance.trace_number}"
    amount(payment, "the payment total (BPR02)", remittance.total_paid)
    for plb in remittance.provider_adjustments:
        amount(payment, f"the provider-level adjustment {plb.reason} (PLB)", plb.amount)
    for claim in remittance.claims:
        where = f"Claim {claim.patient_control_number}"
        amount(where, "the charge (CLP03)", claim.total_charge)
        amount(where, "the paid amount (CLP04)", claim.paid)
        amount(where, "the patient responsibility (CLP05)", claim.patient_responsibility)
        adjustments(where, claim.adjustments)
        for number, line in enumerate(claim.lines, start=1):
            at = f"{where}, service line {number} ({line.code})"
            amount(at, "the charge (SVC02)", line.charge)
            amount(at, "the paid amount (SVC03)", line.paid)
            amount(at, "the allowed amount (AMT*B6)", line.allowed)
            units(at, "the units paid (SVC05)", line.units_paid)
            adjustments(at, line.adjustments)
    return problems


def _post(
    session: Session,
    actor: Actor,
    inbound_id: int | None,
    remittance: rm.Remittance,
    payers: dict[str, int],
    result: PostingResult,
    *,
    manual: bool = False,
) -> None:
    """Store one payment in bulk and post it now or leave it for review.

    A handful of statements whatever the number of claims. The payer's setting says whether
    it posts now; a payment a biller typed from a paper EOB is posted at once (entering it
    was the review).
    """
    trace = f"{remittance.trace_number} ({remittance.payer_name or remittance.payer_identifier})"
    if session.scalar(
        sa.select(Remittance.id).where(
            Remittance.trace_number == remittance.trace_number,
            Remittance.payer_identifier == remittance.payer_identifier,
        )
    ):
        result.already_posted.append(trace)
        return
    numbers = sorted({c.patient_control_number.strip() for c in remittance.claims})
    claims: dict[str, Claim] = {}
    for chunk in chunks_of(numbers):
        found = session.scalars(sa.select(Claim).where(Claim.claim_number.in_(chunk)))
        claims.update((c.claim_number, c) for c in found)
    lines: dict[int, list[sa.Row[Any]]] = {}
    for chunk in chunks_of(sorted(c.id for c in claims.values())):
        for line in session.execute(
            sa.select(
                ClaimLine.id,
                ClaimLine.claim_id,
                ClaimLine.line_control_number,
                ClaimLine.code,
                ClaimLine.modifiers,
                ClaimLine.service_date,
            )
            .where(ClaimLine.claim_id.in_(chunk))
            .order_by(ClaimLine.claim_id, ClaimLine.line_number)
        ):
            lines.setdefault(line.claim_id, []).append(line)
    row = Remittance(
        payer_id=payers.get(remittance.payer_id or "") or _common_payer(claims.values()),
        inbound_file_id=inbound_id,
        payer_identifier=remittance.payer_identifier,
        trace_number=remittance.trace_number,
        payment_method=remittance.payment_method[:3],
        payment_date=remittance.payment_date,
        total_paid=remittance.total_paid,
        manual=manual,
    )
    session.add(row)
    session.flush()
    result.payments += 1
    for plb in remittance.provider_adjustments:
        session.add(
            ProviderAdjustment(
                remittance_id=row.id, reason_code=plb.reason[:2], reference=plb.reference, amount=plb.amount
            )
        )
        result.provider_adjustments += plb.amount

    # one row per CLP, in file order, each matched to our claim (or kept with the reason)
    matched: list[Claim | None] = []
    claim_rows: list[dict[str, Any]] = []
    for payment in remittance.claims:
        number = payment.patient_control_number.strip()
        claim = claims.get(number)
        matched.append(claim)
        reason = None
        if claim is None:
            reason = (
                f"No claim numbered {number} (patient {payment.patient_last_name}, "
                f"{payment.patient_first_name}): find the claim and post this payment to it by hand."
            )
            result.review.append(reason)
        claim_rows.append(
            {
                "remittance_id": row.id,
                "claim_id": claim.id if claim is not None else None,
                "patient_control_number": number[:38],
                "status_code": payment.status_code,
                "total_charge": payment.total_charge,
                "paid": payment.paid,
                "patient_responsibility": payment.patient_responsibility,
                "payer_claim_control_number": payment.payer_claim_control_number,
                "unmatched_reason": reason,
                "remark_codes": list(payment.remark_codes),
            }
        )
    claim_ids = _insert_returning_ids(session, RemittanceClaim.__table__, claim_rows)

    # one row per SVC, matched to our line by REF*6R, else by the billed code, modifiers and date
    line_rows: list[dict[str, Any]] = []
    line_targets: list[tuple[int, rm.ServicePayment, int | None]] = []  # (CLP index, SVC, our line)
    for index, (payment, claim) in enumerate(zip(remittance.claims, matched, strict=True)):
        candidates = list(lines.get(claim.id, [])) if claim is not None else []
        for service in payment.lines:
            target = _match_line(service, candidates) if claim is not None else None
            if target is not None:
                candidates.remove(target)
            elif claim is not None:
                result.review.append(
                    f"Claim {claim.claim_number}: the payer's line {service.code} "
                    f"({service.service_date.isoformat() if service.service_date else 'no date'}, paid "
                    f"${service.paid:,.2f}) matches none of the claim's lines; post it by hand."
                )
            line_targets.append((index, service, target.id if target is not None else None))
            line_rows.append(
                {
                    "remittance_claim_id": claim_ids[index],
                    "claim_line_id": target.id if target is not None else None,
                    "code": service.code,
                    "modifiers": list(service.modifiers),
                    "service_date": service.service_date,
                    "charge": service.charge,
                    "paid": service.paid,
                    "allowed": service.allowed,
                    "units_paid": service.units_paid,
                    "line_control_number": service.line_control_number,
                    "remark_codes": list(service.remark_codes),
                }
            )
    line_ids = _insert_returning_ids(session, RemittanceLine.__table__, line_rows)

    adjustments = [
        _adjustment(claim_ids[index], None, cas)
        for index, payment in enumerate(remittance.claims)
        for cas in payment.adjustments
    ] + [
        _adjustment(claim_ids[index], line_id, cas)
        for (index, service, _target), line_id in zip(line_targets, line_ids, strict=True)
        for cas in service.adjustments
    ]
    if adjustments:
        session.execute(sa.insert(Adjustment.__table__), adjustments)

    # the payer's setting says whether the payment takes effect now or waits for a biller
    complete = all(c is not None for c in matched) and all(t is not None for _, _, t in line_targets)
    ours = [c for c in matched if c is not None]
    mode = EraPosting.ALL if manual else _posting_mode(session, row.payer_id, ours)
    stranger = None if manual else _other_payee(session, remittance.payee_npi)
    if stranger is None and (mode is EraPosting.ALL or (mode is EraPosting.MATCHED and complete)):
        _apply(session, actor, row, result)
    else:
        why = stranger or (
            "not every claim and line found its match"
            if mode is EraPosting.MATCHED
            else "this payer's remittances are reviewed before posting"
        )
        result.held.append(f"payment {row.id}, {trace}, ${remittance.total_paid:,.2f}: {why}")


def _other_payee(session: Session, payee_npi: str | None) -> str | None:
    """Why a payment made out to an NPI that is not the clinic's or one of its providers' waits.

    Clearinghouses sometimes deliver another practice's remittance; posting it would put
    someone else's money on our claims.
    """
    if not payee_npi:
        return None
    ours = {npi for npi in session.scalars(sa.select(Clinic.npi)) if npi}
    ours |= {npi for npi in session.scalars(sa.select(Provider.npi)) if npi}
    if not ours or payee_npi in ours:
        return None
    return (
        f"the payment is made out to NPI {payee_npi}, which is not the clinic's; check it is "
        "yours before posting"
    )


STRICTNESS = (EraPosting.REVIEW, EraPosting.MATCHED, EraPosting.ALL)


def _posting_mode(session: Session, payer_id: int | None, claims: Sequence[Claim]) -> EraPosting:
    """The payer's posting setting (review, matched or all).

    When the file does not say which payer it is, the strictest setting among the payers of
    the claims it pays; review when it pays none of ours.
    """
    ids = {payer_id} if payer_id is not None else {c.payer_id for c in claims}
    if not ids:
        return EraPosting.REVIEW
    modes = set(session.scalars(sa.select(Payer.era_posting).where(Payer.id.in_(ids))))
    return next((mode for mode in STRICTNESS if mode in modes), EraPosting.REVIEW)


ADJUDICATED = (
    ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID, ClaimStatus.DENIED, ClaimStatus.APPEALED,
)
"""States a payer's answer put a claim in; a reversal takes it back to accepted."""


def _apply(session: Session, actor: Actor, remittance: Remittance, result: PostingResult) -> None:
    """Give a stored payment its effect: statuses, payer claim numbers, denial work items.

    It reads what the import stored, so a payment posted after review takes exactly the
    same effect as one posted at once.
    """
    claim_rows = session.execute(
        sa.select(
            RemittanceClaim.id,
            RemittanceClaim.claim_id,
            RemittanceClaim.status_code,
            RemittanceClaim.paid,
            RemittanceClaim.patient_responsibility,
            RemittanceClaim.payer_claim_control_number,
            RemittanceClaim.remark_codes,
        )
        .where(RemittanceClaim.remittance_id == remittance.id)
        .order_by(RemittanceClaim.id)
    ).all()
    ids = [r.id for r in claim_rows]
    lines: dict[int, list[sa.Row[Any]]] = {}
    adjustments: dict[tuple[int, int | None], list[sa.Row[Any]]] = {}
    for chunk in chunks_of(ids):
        for line in session.execute(
            sa.select(
                RemittanceLine.id,
                RemittanceLine.remittance_claim_id,
                RemittanceLine.claim_line_id,
                RemittanceLine.paid,
                RemittanceLine.remark_codes,
            )
            .where(RemittanceLine.remittance_claim_id.in_(chunk))
            .order_by(RemittanceLine.id)
        ):
            lines.setdefault(line.remittance_claim_id, []).append(line)
        for adjustment in session.execute(
            sa.select(
                Adjustment.remittance_claim_id,
                Adjustment.remittance_line_id,
                Adjustment.group_code,
                Adjustment.reason_code,
                Adjustment.amount,
            )
            .where(Adjustment.remittance_claim_id.in_(chunk))
            .order_by(Adjustment.id)
        ):
            key = (adjustment.remittance_claim_id, adjustment.remittance_line_id)
            adjustments.setdefault(key, []).append(adjustment)
    claims: dict[int, Claim] = {}
    for chunk in chunks_of(sorted({r.claim_id for r in claim_rows if r.claim_id is not None})):
        claims.update((c.id, c) for c in session.scalars(sa.select(Claim).where(Claim.id.in_(chunk))))
    payers = {p.id: p for p in session.scalars(sa.select(Payer))}

    items: list[dict[str, Any]] = []
    icns: dict[int, str] = {}
    answers: list[tuple[Claim, _Answer]] = []
    for row in claim_rows:
        claim = claims.get(row.claim_id) if row.claim_id is not None else None
        if claim is None:
            continue
        claim_lines = lines.get(row.id, [])
        answer = _Answer(
            row.status_code,
            row.paid,
            row.patient_responsibility,
            tuple((line.paid, _patient_owes(adjustments.get((row.id, line.id), []))) for line in claim_lines),
        )
        answers.append((claim, answer))
        if row.status_code == rm.REVERSAL:
            continue
        if row.payer_claim_control_number:
            icns[claim.id] = row.payer_claim_control_number
        payer = payers.get(claim.payer_id)
        found = [(None, None, a, tuple(row.remark_codes or ())) for a in adjustments.get((row.id, None), ())]
        for line in claim_lines:
            found += [
                (line.claim_line_id, line.id, a, tuple(line.remark_codes or ()))
                for a in adjustments.get((row.id, line.id), ())
            ]
        items.extend(_denial_items(claim, payer, remittance.payment_date, found))
    if items:
        session.execute(sa.insert(DenialWorkItem.__table__), items)
        result.denials_opened += len(items)
        result.denied_amount += sum((item["amount"] for item in items), Decimal("0.00"))
    if icns:
        session.flush()
        table = Claim.__table__
        session.execute(
            sa.update(table)
            .where(table.c.id == sa.bindparam("b_id"))
            .values(payer_claim_control_number=sa.bindparam("b_icn")),
            [{"b_id": claim_id, "b_icn": icn} for claim_id, icn in icns.items()],
        )
        for claim_id, icn in icns.items():
            set_committed_value(claims[claim_id], "payer_claim_control_number", icn)
    reversed_ids = {claim.id for claim, answer in answers if answer.status_code == rm.REVERSAL}
    if reversed_ids:
        _close_reversed_denials(session, actor, remittance, reversed_ids)
    _move_claims(session, actor, answers, result)
    remittance.posted_at = utcnow()
    remittance.posted_by_id = actor.user_id
    refresh_line_balances(session, (claim.id for claim, _answer in answers))


def _close_reversed_denials(
    session: Session, actor: Actor, remittance: Remittance, claim_ids: set[int]
) -> None:
    """Denials opened by an earlier payment the payer has now reversed no longer stand.

    Any still open are closed with a note; the corrected payment that follows the reversal
    (in this file or a later one) opens its own, so a biller never works a denial the payer
    took back.
    """
    stale = session.scalars(
        sa.select(DenialWorkItem)
        .join(RemittanceLine, RemittanceLine.id == DenialWorkItem.remittance_line_id)
        .join(RemittanceClaim, RemittanceClaim.id == RemittanceLine.remittance_claim_id)
        .where(
            DenialWorkItem.claim_id.in_(claim_ids),
            DenialWorkItem.status.in_(OPEN_WORK),
            RemittanceClaim.remittance_id != remittance.id,
        )
    ).all()
    note = (
        f"The payer reversed the payment that denied this on {remittance.payment_date:%m/%d/%Y} "
        f"(trace {remittance.trace_number})."
    )
    for item in stale:
        before = item.status
        item.status = WorkItemStatus.CLOSED
        item.resolution_note = note
        audit.record(
            session, actor, "close_reversed_denial", "denial_work_item", item.id,
            detail={"before": before.value, "after": item.status.value, "note": note},
        )


def _patient_owes(adjustments: Sequence[sa.Row[Any]]) -> bool:
    return any(a.group_code is AdjustmentGroup.PR for a in adjustments)


@dataclass(frozen=True, slots=True)
class _Answer:
    """What the payer said about one claim, as stored: enough to set the claim's status."""

    status_code: str
    paid: Decimal
    patient_responsibility: Decimal
    lines: tuple[tuple[Decimal, bool], ...]
    """Each line's paid amount and whether part of it is the patient's (a PR adjustment)."""


def chunks_of(values: Sequence[Any], size: int = 900) -> list[Sequence[Any]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _insert_returning_ids(session: Session, table: sa.Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` and give their new ids in the rows' order (one statement per batch)."""
    if not rows:
        return []
    return list(
        session.execute(sa.insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars()
    )


def _common_payer(claims: Iterable[Claim]) -> int | None:
    ids = {c.payer_id for c in claims}
    return ids.pop() if len(ids) == 1 else None


def _denial_items(
    claim: Claim,
    payer: Payer | None,
    decided_on: date,
    found: Sequence[tuple[int | None, int | None, Any, tuple[str, ...]]],
) -> list[dict[str, Any]]:
    """A work item for every denial adjustment (never for contractual or patient amounts).

    Each item keeps the reason category (from the CARC/RARC tables), the amount at stake and
    the appeal deadline: the payer's appeal window from the remittance date. Nothing is
    written off.
    """
    payer_type = payer.payer_type.value if payer is not None else "commercial"
    window = payer.appeal_days if payer is not None else None
    deadline = denials.appeal_deadline(decided_on, payer_type, window)
    items: list[dict[str, Any]] = []
    for line_id, remit_line_id, adjustment, remarks in found:
        group = adjustment.group_code.value
        if adjustment.amount <= 0 or not _is_denial(group, adjustment.reason_code):
            continue
        reason = denials.explain(group, adjustment.reason_code, remarks)
        items.append(
            {
                "claim_id": claim.id,
                "claim_line_id": line_id,
                "remittance_line_id": remit_line_id,
                "group_code": adjustment.group_code,
                "reason_code": adjustment.reason_code,
                "remark_codes": list(remarks),
                "category": DenialCategory(reason.category),
                "amount": adjustment.amount,
                "appeal_deadline": deadline,
                "status": WorkItemStatus.OPEN,
            }
        )
    return items


@functools.lru_cache(maxsize=1024)
def _is_denial(group: str, reason: str) -> bool:
    # tens of thousands of adjustments, a few dozen distinct reasons
    return denials.is_denial(group, reason)


def _match_line(service: rm.ServicePayment, candidates: list[sa.Row[Any]]) -> sa.Row[Any] | None:
    if service.line_control_number:
        for line in candidates:
            if line.line_control_number == service.line_control_number.strip():
                return line
    code = service.original_code or service.code
    modifiers = set(service.original_modifiers if service.original_code else service.modifiers)
    for line in candidates:
        if (
            line.code == code
            and set(line.modifiers or ()) - WASTE_MODIFIERS == modifiers - WASTE_MODIFIERS
            and (service.service_date is None or line.service_date == service.service_date)
        ):
            return line
    return None


def _group(code: str) -> AdjustmentGroup:
    return AdjustmentGroup(code if code in AdjustmentGroup.__members__ else "OA")


def _adjustment(remit_claim_id: int, remit_line_id: int | None, cas: rm.CasAdjustment) -> dict[str, Any]:
    return {
        "remittance_claim_id": remit_claim_id,
        "remittance_line_id": remit_line_id,
        "group_code": _group(cas.group),
        "reason_code": cas.reason[:5],
        "amount": cas.amount,
        "quantity": cas.quantity,
    }


def _status_after(answer: _Answer) -> ClaimStatus | None:
    if answer.status_code == DENIED:
        return ClaimStatus.DENIED
    if answer.status_code not in PROCESSED:
        return None
    if answer.paid <= 0 and answer.patient_responsibility <= 0:
        return ClaimStatus.DENIED
    unpaid = [paid for paid, patient_owes in answer.lines if paid <= 0 and not patient_owes]
    return ClaimStatus.PARTIALLY_PAID if unpaid else ClaimStatus.PAID


def _move_claims(
    session: Session, actor: Actor, answers: Sequence[tuple[Claim, _Answer]], result: PostingResult
) -> None:
    """Each matched claim's status follows the payer's answer (the last one for a claim wins).

    A reversal leaves the status to the corrected payment that follows it; a claim exported
    but never confirmed as uploaded is marked submitted first, since a payment proves it arrived.
    """
    targets: dict[int, tuple[Claim, ClaimStatus, str]] = {}
    for claim, payment in answers:
        number = claim.claim_number
        result.claims_posted.append(number)
        result.paid += payment.paid
        result.patient_responsibility += payment.patient_responsibility
        if payment.status_code == rm.REVERSAL:
            result.reversals.append(number)
            if claim.id not in targets and claim.status in ADJUDICATED:
                # Unless a corrected payment follows in this file, the payer has the claim again.
                targets[claim.id] = (
                    claim,
                    ClaimStatus.ACCEPTED,
                    "The payer reversed its payment; waiting for its corrected payment",
                )
            continue
        target = _status_after(payment)
        if target is None:
            result.review.append(
                f"Claim {number}: the payer answered with claim status {payment.status_code} "
                "(not processed for payment here); nothing changes on the claim."
            )
            continue
        reason = (
            f"Remittance: paid ${payment.paid:,.2f}, patient responsibility "
            f"${payment.patient_responsibility:,.2f}"
        )
        targets[claim.id] = (claim, target, reason)
    unsent = (ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.REJECTED, ClaimStatus.CLOSED)
    for claim, _target, _reason in targets.values():
        if claim.status in unsent:
            result.review.append(
                f"Claim {claim.claim_number} is {claim.status.value.replace('_', ' ')}, yet the payer paid "
                "on it: the payment is recorded; check the claim and set its status."
            )
    moves = [(c, t, r) for c, t, r in targets.values() if c.status not in unsent]
    record_transitions(
        session,
        [
            (c, ClaimStatus.SUBMITTED, "The payer's remittance shows it received the claim")
            for c, _t, _r in moves
            if c.status is ClaimStatus.BATCHED
        ],
        actor,
    )
    record_transitions(session, moves, actor)
    for claim, target, _reason in moves:
        if target is ClaimStatus.DENIED:
            result.denied.append(claim.claim_number)
        elif target is ClaimStatus.PARTIALLY_PAID:
            result.partially_paid.append(claim.claim_number)


# --- what the Payments page shows ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemittanceRow:
    """One posted payment (an 835 transaction set): the Payments page's history."""

    id: int
    payment_date: date
    payer: str
    trace_number: str
    payment_method: str
    total_paid: Decimal
    claims: int
    to_review: int
    file_name: str
    posted_at: datetime | None


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """A payment the import could not put on a claim or a line: it waits for a person."""

    remittance_claim_id: int
    remittance_id: int
    payment_date: date
    trace_number: str
    claim_number: str
    paid: Decimal
    reason: str


def _review_reasons(session: Session, remittance_ids: Sequence[int] | None = None) -> list[ReviewItem]:
    items: list[ReviewItem] = []
    unmatched_line = (
        sa.select(RemittanceLine.id)
        .where(
            RemittanceLine.remittance_claim_id == RemittanceClaim.id,
            RemittanceLine.claim_line_id.is_(None),
        )
        .exists()
    )
    stmt = (
        sa.select(RemittanceClaim, Remittance.payment_date, Remittance.trace_number)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(sa.or_(RemittanceClaim.claim_id.is_(None), unmatched_line))
        .order_by(Remittance.payment_date.desc(), RemittanceClaim.id)
    )
    if remittance_ids is not None:
        stmt = stmt.where(RemittanceClaim.remittance_id.in_(list(remittance_ids)))
    for remit_claim, payment_date, trace in session.execute(stmt):
        reason = remit_claim.unmatched_reason or (
            "A service line the payer paid matches none of the claim's lines; post it by hand."
        )
        items.append(
            ReviewItem(
                remit_claim.id,
                remit_claim.remittance_id,
                payment_date,
                trace,
                remit_claim.patient_control_number,
                remit_claim.paid,
                reason,
            )
        )
    return items


def remittance_rows(session: Session, limit: int = 500) -> list[RemittanceRow]:
    claims = (
        sa.select(sa.func.count(RemittanceClaim.id))
        .where(RemittanceClaim.remittance_id == Remittance.id)
        .scalar_subquery()
    )
    rows = session.execute(
        sa.select(Remittance, Payer.name, InboundFile.file_name, claims)
        .outerjoin(Payer, Payer.id == Remittance.payer_id)
        .outerjoin(InboundFile, InboundFile.id == Remittance.inbound_file_id)
        .order_by(Remittance.payment_date.desc(), Remittance.id.desc())
        .limit(limit)
    ).all()
    review: dict[int, int] = {}
    for item in _review_reasons(session, [r[0].id for r in rows]):
        review[item.remittance_id] = review.get(item.remittance_id, 0) + 1
    return [
        RemittanceRow(
            remittance.id,
            remittance.payment_date,
            payer or remittance.payer_identifier,
            remittance.trace_number,
            remittance.payment_method,
            remittance.total_paid,
            int(count or 0),
            review.get(remittance.id, 0),
            file_name or ("entered by hand" if remittance.manual else ""),
            remittance.posted_at,
        )
        for remittance, payer, file_name, count in rows
    ]
