"""Appeals of denied claims: the letter drafted from the record, edited, sent, and its outcome.

    service = AppealService(db)
    draft = service.draft(biller, work_item_id)          # a DRAFT appeal with the letter filled in
    service.save_letter(biller, draft.appeal_id, edited_text)
    pdf = service.letter_pdf(biller, draft.appeal_id)     # the edited text on the clinic's letterhead
    files = service.enclosures(biller, draft.appeal_id)  # administration record, authorization summary
    service.mark_sent(biller, draft.appeal_id, sent_on)  # the PDF is kept as sent; the denial is appealed
    service.record_outcome(biller, draft.appeal_id, won=True, recovered=Decimal("450.00"), on=..., note="")

The facts (patient, policy, claim and payer claim numbers, the denial in words, order and
diagnoses, authorizations on file, each administration with its local start and stop times,
dose and waste, vitals, reactions, the claim's submission history) are read from the record
each time a letter or enclosure is made; the letter text the biller edited is kept on the
appeal. A won appeal closes the denial; a lost one puts it back in the work queue, where the
next level of appeal, a transfer or a write-off request can follow.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from infusion_desk.billing import denials, icd10
from infusion_desk.billing.appeals import (
    ADMINISTRATION_RECORD,
    AUTHORIZATION_SUMMARY,
    AdministrationFacts,
    AppealFacts,
    AuthorizationFacts,
    DiagnosisFacts,
    Enclosure,
    Letterhead,
    OrderFacts,
    ReactionFacts,
    VitalFacts,
    covered_indication,
    draft_letter,
    render_administration_record,
    render_authorization_summary,
    render_letter_pdf,
    template_for,
)
from infusion_desk.billing.claim_lifecycle import can_move
from infusion_desk.billing.findings import Finding, error
from infusion_desk.billing.money import money
from infusion_desk.models import (
    Administration,
    Appeal,
    Claim,
    ClaimAcknowledgement,
    ClaimBatch,
    ClaimDiagnosis,
    ClaimLine,
    DenialWorkItem,
    Drug,
    EligibilityCheck,
    InboundFile,
    InsurancePolicy,
    Patient,
    Payer,
    PhysicianOrder,
    PriorAuthorization,
    Provider,
    Reaction,
    RemittanceClaim,
    RemittanceLine,
    User,
    Visit,
)
from infusion_desk.models.db import Database
from infusion_desk.models.enums import AppealStatus, AuthorizationStatus, ClaimStatus, WorkItemStatus
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.claim_data import load_clinic
from infusion_desk.services.claims import clinic_today, record_transition
from infusion_desk.services.coding import clinic_timezone
from infusion_desk.services.errors import NotFound, ValidationFailed

WORKABLE = (WorkItemStatus.OPEN, WorkItemStatus.IN_PROGRESS)
"""Denials an appeal can be drafted for."""
OPEN_APPEALS = (AppealStatus.DRAFT, AppealStatus.SENT)
ENCLOSURE_FILES = {
    ADMINISTRATION_RECORD: "administration-record",
    AUTHORIZATION_SUMMARY: "authorization-summary",
}


@dataclass(frozen=True, slots=True)
class AppealDraft:
    """One appeal with its letter, as the appeal dialog shows it."""

    appeal_id: int
    work_item_id: int
    claim_id: int
    claim_number: str
    patient: str
    payer: str
    category: str
    level: int
    status: str
    letter_text: str
    amount: Decimal
    deadline: date | None
    letter_date: date | None
    sent_on: date | None
    letterhead: Letterhead
    enclosures: tuple[Enclosure, ...]
    """The checklist; those with ``printed_by_app`` come from :meth:`AppealService.enclosures`."""
    facts: AppealFacts


@dataclass(frozen=True, slots=True)
class AppealRow:
    """One appeal in the tracking list."""

    id: int
    work_item_id: int
    claim_id: int
    claim_number: str
    patient: str
    payer: str
    category: str
    level: int
    status: str
    letter_date: date | None
    sent_on: date | None
    deadline: date | None
    days_left: int | None
    """Days until the deadline while the appeal is a draft; None once it is sent or decided."""
    amount: Decimal
    recovered: Decimal | None
    outcome_on: date | None
    note: str


def _fail(code: str, message: str, subject: str) -> ValidationFailed:
    return ValidationFailed([error(code, message, subject)])


class AppealService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- drafting ---------------------------------------------------------------------------------

    def draft(
        self, actor: Actor, work_item_id: int, *, fresh: bool = False, today: date | None = None
    ) -> AppealDraft:
        """The draft appeal of a denial: created with the letter filled from the record, or reopened.

        A reopened draft keeps the text the biller edited; ``fresh`` fills it again from the template.
        """
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            item = session.get(DenialWorkItem, work_item_id)
            if item is None:
                raise NotFound(f"Denial {work_item_id} no longer exists.")
            return self._draft(session, actor, item, fresh=fresh, today=today)

    def draft_for_claim(self, actor: Actor, claim_id: int, today: date | None = None) -> AppealDraft:
        """The appeal of a claim's newest denial: its open appeal if there is one, else a new draft."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            claim = session.get(Claim, claim_id)
            if claim is None:
                raise NotFound(f"There is no claim {claim_id}.")
            items = session.scalars(
                sa.select(DenialWorkItem)
                .where(DenialWorkItem.claim_id == claim_id)
                .order_by(DenialWorkItem.id.desc())
            ).all()
            if not items:
                raise _fail(
                    "NO_DENIAL",
                    f"Claim {claim.claim_number} has no denial to appeal: no payer has denied any of it.",
                    "claim",
                )
            appeal = session.scalars(
                sa.select(Appeal)
                .where(Appeal.work_item_id.in_([i.id for i in items]), Appeal.status.in_(OPEN_APPEALS))
                .order_by(Appeal.id.desc())
                .limit(1)
            ).first()
            if appeal is not None:
                item = next(i for i in items if i.id == appeal.work_item_id)
                return self._view(session, actor, appeal, item, today or clinic_today(session))
            workable = next((i for i in items if i.status in WORKABLE), None)
            if workable is None:
                raise _fail(
                    "NO_OPEN_DENIAL",
                    f"Claim {claim.claim_number}'s denials are all worked "
                    f"({', '.join(sorted({i.status.value.replace('_', ' ') for i in items}))}); "
                    "there is nothing left to appeal.",
                    "claim",
                )
            return self._draft(session, actor, workable, fresh=False, today=today)

    def open(self, actor: Actor, appeal_id: int, today: date | None = None) -> AppealDraft:
        """An appeal as it stands (any status), with the facts read again from the record."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            appeal = _appeal(session, appeal_id)
            item = session.get(DenialWorkItem, appeal.work_item_id)
            assert item is not None
            return self._view(session, actor, appeal, item, today or clinic_today(session))

    def save_letter(self, actor: Actor, appeal_id: int, text: str) -> None:
        """Keep the biller's edited letter; only a draft can change."""
        actor.require(Permission.DENIAL_WORK)
        if not text.strip():
            raise _fail("LETTER_EMPTY", "The letter is empty; write the appeal before saving it.", "letter")
        with self._db.session() as session:
            appeal = _appeal(session, appeal_id)
            _require_draft(appeal, "edited")
            appeal.letter_text = text
            audit.record(
                session, actor, "edit_appeal_letter", "appeal", appeal.id,
                patient_id=_patient_id(session, appeal), detail={"characters": len(text)},
            )

    # -- printing ---------------------------------------------------------------------------------

    def letter_pdf(self, actor: Actor, appeal_id: int) -> bytes:
        """The letter as PDF: the stored edited text on the letterhead, or exactly the PDF that was sent."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            appeal = _appeal(session, appeal_id)
            pdf = self._letter_pdf(session, appeal)
            audit.record(
                session, actor, "print_appeal_letter", "appeal", appeal.id,
                patient_id=_patient_id(session, appeal),
            )
            return pdf

    def letter_for_claim(self, actor: Actor, claim_id: int, today: date | None = None) -> bytes:
        """The appeal letter of a claim's newest denial (drafted if there is none yet), as PDF."""
        draft = self.draft_for_claim(actor, claim_id, today)
        return self.letter_pdf(actor, draft.appeal_id)

    def enclosures(self, actor: Actor, appeal_id: int, today: date | None = None) -> dict[str, bytes]:
        """The enclosures the clinic prints for this appeal's checklist: file name -> PDF."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            appeal = _appeal(session, appeal_id)
            item = session.get(DenialWorkItem, appeal.work_item_id)
            assert item is not None
            facts = _facts(session, actor, item, appeal.letter_date or today or clinic_today(session),
                           printed_on=today or clinic_today(session))
            claim_number = facts.claim_number
            files: dict[str, bytes] = {}
            for enclosure in template_for(facts.category).enclosures:
                kind = enclosure.printed_by_app
                if kind is None:
                    continue
                name = f"{claim_number}-{ENCLOSURE_FILES[kind]}.pdf"
                if name not in files:
                    files[name] = (
                        render_administration_record(facts)
                        if kind == ADMINISTRATION_RECORD
                        else render_authorization_summary(facts)
                    )
            audit.record(
                session, actor, "print_appeal_enclosures", "appeal", appeal.id,
                patient_id=_patient_id(session, appeal), detail={"files": sorted(files)},
            )
            return files

    # -- tracking ---------------------------------------------------------------------------------

    def mark_sent(self, actor: Actor, appeal_id: int, sent_on: date, today: date | None = None) -> None:
        """The letter went to the payer: its PDF is kept as sent and the denial is appealed."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            appeal = _appeal(session, appeal_id)
            _require_draft(appeal, "sent again")
            today = today or clinic_today(session)
            problems: list[Finding] = []
            if not (appeal.letter_text or "").strip():
                problems.append(
                    error("LETTER_EMPTY", "The letter is empty; write it before sending.", "letter")
                )
            if sent_on > today:
                problems.append(error(
                    "SENT_FUTURE", f"The date sent ({sent_on:%m/%d/%Y}) is in the future; "
                    "mark the letter sent on the day it goes out.", "sent_on",
                ))
            if appeal.letter_date is not None and sent_on < appeal.letter_date:
                problems.append(error(
                    "SENT_BEFORE_LETTER", f"The date sent ({sent_on:%m/%d/%Y}) is before the letter was "
                    f"drafted ({appeal.letter_date:%m/%d/%Y}).", "sent_on",
                ))
            if problems:
                raise ValidationFailed(problems)
            appeal.letter_pdf = self._letter_pdf(session, appeal)
            appeal.status = AppealStatus.SENT
            appeal.sent_on = sent_on
            item = session.get(DenialWorkItem, appeal.work_item_id)
            assert item is not None
            before = item.status
            item.status = WorkItemStatus.APPEALED
            item.owner_id = item.owner_id or actor.user_id
            claim = session.get(Claim, appeal.claim_id)
            assert claim is not None
            if can_move(claim.status.value, ClaimStatus.APPEALED.value):
                record_transition(
                    session, claim, ClaimStatus.APPEALED, actor, f"Appeal sent on {sent_on:%m/%d/%Y}"
                )
            audit.record(
                session, actor, "send_appeal", "appeal", appeal.id, patient_id=claim.patient_id,
                detail={
                    "sent_on": sent_on.isoformat(), "amount": str(appeal.amount), "level": appeal.level,
                    "work_item": {"before": before.value, "after": item.status.value},
                },
            )

    def record_outcome(
        self,
        actor: Actor,
        appeal_id: int,
        *,
        won: bool,
        recovered: Decimal,
        on: date,
        note: str = "",
        today: date | None = None,
    ) -> None:
        """The payer decided: a win closes the denial; a loss puts it back in the work queue."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            appeal = _appeal(session, appeal_id)
            if appeal.status is not AppealStatus.SENT:
                raise _fail(
                    "NOT_SENT",
                    "Only an appeal that was sent can have an outcome; mark the letter sent first."
                    if appeal.status is AppealStatus.DRAFT
                    else f"This appeal was already decided ({appeal.status.value}); nothing changed.",
                    "status",
                )
            today = today or clinic_today(session)
            amount = appeal.amount or Decimal("0.00")
            problems: list[Finding] = []
            if recovered < 0:
                problems.append(
                    error("RECOVERED_NEGATIVE", "The amount recovered cannot be negative.", "recovered")
                )
            elif recovered > amount:
                problems.append(error(
                    "RECOVERED_TOO_MUCH", f"The amount recovered (${recovered:,.2f}) is more than the appeal "
                    f"asked for (${amount:,.2f}).", "recovered",
                ))
            elif not won and recovered > 0:
                problems.append(error(
                    "LOST_WITH_RECOVERY", "A lost appeal recovers nothing; record a partial recovery as won.",
                    "recovered",
                ))
            if appeal.sent_on is not None and on < appeal.sent_on:
                problems.append(error(
                    "OUTCOME_BEFORE_SENT", f"The decision date ({on:%m/%d/%Y}) is before the appeal was sent "
                    f"({appeal.sent_on:%m/%d/%Y}).", "outcome_on",
                ))
            if on > today:
                problems.append(error(
                    "OUTCOME_FUTURE", f"The decision date ({on:%m/%d/%Y}) is in the future.", "outcome_on"
                ))
            if problems:
                raise ValidationFailed(problems)
            appeal.status = AppealStatus.WON if won else AppealStatus.LOST
            appeal.recovered = money(recovered)
            appeal.outcome_on = on
            appeal.note = note.strip() or None
            item = session.get(DenialWorkItem, appeal.work_item_id)
            assert item is not None
            before = item.status
            if won:
                item.status = WorkItemStatus.CLOSED
                item.resolution_note = f"Appeal won on {on:%m/%d/%Y}: ${appeal.recovered:,.2f} recovered." + (
                    f" {appeal.note}" if appeal.note else ""
                )
            else:
                item.status = WorkItemStatus.IN_PROGRESS
                item.resolution_note = f"Appeal (level {appeal.level}) lost on {on:%m/%d/%Y}." + (
                    f" {appeal.note}" if appeal.note else ""
                )
            audit.record(
                session, actor, "record_appeal_outcome", "appeal", appeal.id,
                patient_id=_patient_id(session, appeal),
                detail={
                    "outcome": appeal.status.value, "recovered": str(appeal.recovered), "on": on.isoformat(),
                    "work_item": {"before": before.value, "after": item.status.value},
                },
            )

    def appeals(self, actor: Actor, *, open_only: bool = False, today: date | None = None) -> list[AppealRow]:
        """The appeals to track: drafts and sent ones by nearest deadline, then the decided, newest first."""
        actor.require(Permission.DENIAL_WORK)
        with self._db.session() as session:
            today = today or clinic_today(session)
            stmt = (
                sa.select(
                    Appeal, DenialWorkItem.category, Claim.claim_number, Patient.last_name,
                    Patient.first_name, Patient.mrn, Payer.name,
                )
                .join(DenialWorkItem, DenialWorkItem.id == Appeal.work_item_id)
                .join(Claim, Claim.id == Appeal.claim_id)
                .join(Patient, Patient.id == Claim.patient_id)
                .join(Payer, Payer.id == Claim.payer_id)
            )
            if open_only:
                stmt = stmt.where(Appeal.status.in_(OPEN_APPEALS))
            rows = [
                AppealRow(
                    id=appeal.id,
                    work_item_id=appeal.work_item_id,
                    claim_id=appeal.claim_id,
                    claim_number=number,
                    patient=f"{last}, {first} ({mrn})",
                    payer=payer,
                    category=category.value.replace("_", " "),
                    level=appeal.level,
                    status=appeal.status.value,
                    letter_date=appeal.letter_date,
                    sent_on=appeal.sent_on,
                    deadline=appeal.deadline,
                    days_left=(
                        (appeal.deadline - today).days
                        if appeal.deadline is not None and appeal.status is AppealStatus.DRAFT
                        else None
                    ),
                    amount=appeal.amount or Decimal("0.00"),
                    recovered=appeal.recovered,
                    outcome_on=appeal.outcome_on,
                    note=appeal.note or "",
                )
                for appeal, category, number, last, first, mrn, payer in session.execute(stmt)
            ]
            still_open = [r for r in rows if r.status in (AppealStatus.DRAFT.value, AppealStatus.SENT.value)]
            decided = [r for r in rows if r not in still_open]
            still_open.sort(key=lambda r: (r.deadline is None, r.deadline or date.max, r.id))
            decided.sort(key=lambda r: (r.outcome_on or date.min, r.id), reverse=True)
            return still_open + decided

    # -- internals --------------------------------------------------------------------------------

    def _draft(
        self, session: Session, actor: Actor, item: DenialWorkItem, *, fresh: bool, today: date | None
    ) -> AppealDraft:
        today = today or clinic_today(session)
        appeals = session.scalars(
            sa.select(Appeal).where(Appeal.work_item_id == item.id).order_by(Appeal.id)
        ).all()
        current = next((a for a in appeals if a.status is AppealStatus.DRAFT), None)
        sent = next((a for a in appeals if a.status is AppealStatus.SENT), None)
        if sent is not None:
            raise _fail(
                "APPEAL_SENT",
                f"The appeal of this denial was sent on {sent.sent_on:%m/%d/%Y}; record the payer's "
                "decision before drafting another.",
                "status",
            )
        if current is None and item.status not in WORKABLE:
            raise _fail(
                "DENIAL_CLOSED",
                f"This denial is {item.status.value.replace('_', ' ')}; only an open denial can be appealed.",
                "status",
            )
        dated = current.letter_date if current is not None and current.letter_date else today
        facts = _facts(session, actor, item, dated)
        if current is None:
            current = Appeal(
                work_item_id=item.id,
                claim_id=item.claim_id,
                level=1 + sum(1 for a in appeals if a.status is AppealStatus.LOST),
                status=AppealStatus.DRAFT,
                letter_date=today,
                deadline=item.appeal_deadline,
                amount=item.amount,
                created_by_id=actor.user_id,
            )
            session.add(current)
            action = "draft_appeal"
        else:
            action = "reopen_appeal"
        if fresh or not current.letter_text:
            if fresh:
                current.letter_date = today
                facts = _facts(session, actor, item, today)
            current.letter_text = draft_letter(facts, template_for(facts.category))
        before = item.status
        if item.status is WorkItemStatus.OPEN:
            item.status = WorkItemStatus.IN_PROGRESS
        item.owner_id = item.owner_id or actor.user_id
        session.flush()
        claim = session.get(Claim, item.claim_id)
        assert claim is not None
        audit.record(
            session, actor, action, "appeal", current.id, patient_id=claim.patient_id,
            detail={"work_item": item.id, "before": before.value, "after": item.status.value, "fresh": fresh},
        )
        return _draft_of(current, item, facts)

    def _view(
        self, session: Session, actor: Actor, appeal: Appeal, item: DenialWorkItem, today: date
    ) -> AppealDraft:
        facts = _facts(session, actor, item, appeal.letter_date or today)
        audit.record(session, actor, "view", "appeal", appeal.id, patient_id=_patient_id(session, appeal))
        return _draft_of(appeal, item, facts)

    def _letter_pdf(self, session: Session, appeal: Appeal) -> bytes:
        if appeal.status is not AppealStatus.DRAFT and appeal.letter_pdf:
            return appeal.letter_pdf
        if not (appeal.letter_text or "").strip():
            raise _fail("LETTER_EMPTY", "The letter is empty; write the appeal before printing it.", "letter")
        claim = session.get(Claim, appeal.claim_id)
        assert claim is not None
        return render_letter_pdf(
            appeal.letter_text or "", _letterhead(session), title=f"Appeal of claim {claim.claim_number}"
        )


def _draft_of(appeal: Appeal, item: DenialWorkItem, facts: AppealFacts) -> AppealDraft:
    return AppealDraft(
        appeal_id=appeal.id,
        work_item_id=item.id,
        claim_id=appeal.claim_id,
        claim_number=facts.claim_number,
        patient=facts.patient_name,
        payer=facts.payer_name,
        category=facts.category,
        level=appeal.level,
        status=appeal.status.value,
        letter_text=appeal.letter_text or "",
        amount=appeal.amount or Decimal("0.00"),
        deadline=appeal.deadline,
        letter_date=appeal.letter_date,
        sent_on=appeal.sent_on,
        letterhead=facts.letterhead,
        enclosures=template_for(facts.category).enclosures,
        facts=facts,
    )


def _appeal(session: Session, appeal_id: int) -> Appeal:
    appeal = session.get(Appeal, appeal_id)
    if appeal is None:
        raise NotFound(f"Appeal {appeal_id} no longer exists.")
    return appeal


def _require_draft(appeal: Appeal, verb: str) -> None:
    if appeal.status is not AppealStatus.DRAFT:
        when = f" on {appeal.sent_on:%m/%d/%Y}" if appeal.sent_on else ""
        raise _fail(
            "APPEAL_NOT_DRAFT",
            f"This appeal was already {appeal.status.value}{when} and cannot be {verb}; nothing changed.",
            "status",
        )


def _patient_id(session: Session, appeal: Appeal) -> int | None:
    return session.scalar(sa.select(Claim.patient_id).where(Claim.id == appeal.claim_id))


# --- reading the facts from the record -----------------------------------------------------------


def _letterhead(session: Session) -> Letterhead:
    clinic = load_clinic(session)
    address = tuple(
        line
        for line in (clinic.address1, clinic.address2, f"{clinic.city}, {clinic.state} {clinic.zip_code}")
        if line
    )
    return Letterhead(clinic.name, address, clinic.phone, clinic.npi, clinic.tin)


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone)


def _line_text(line: ClaimLine) -> str:
    code = "-".join([line.code, *(line.modifiers or [])])
    return f"{code} x {line.units.normalize():f} units on {line.service_date:%m/%d/%Y} (${line.charge:,.2f})"


def _names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(sa.select(User.id, User.display_name).where(User.id.in_(wanted)))
    return {user_id: name for user_id, name in rows}


def _facts(
    session: Session, actor: Actor, item: DenialWorkItem, letter_date: date, printed_on: date | None = None
) -> AppealFacts:
    zone = clinic_timezone(session)
    claim = session.get(Claim, item.claim_id)
    assert claim is not None
    patient = session.get(Patient, claim.patient_id)
    policy = session.get(InsurancePolicy, claim.policy_id)
    payer = session.get(Payer, claim.payer_id)
    assert patient is not None and policy is not None and payer is not None
    lines = sorted(claim.lines, key=lambda line: line.line_number)
    denied_line = next((line for line in lines if line.id == item.claim_line_id), None)
    reason = denials.explain(item.group_code.value, item.reason_code, item.remark_codes or ())

    visit = (
        session.scalars(
            sa.select(Visit)
            .where(Visit.id == claim.visit_id)
            .options(
                selectinload(Visit.administrations).selectinload(Administration.interruptions),
                selectinload(Visit.administrations).selectinload(Administration.drug),
                selectinload(Visit.vitals),
                selectinload(Visit.reactions).selectinload(Reaction.interventions),
            )
        ).first()
        if claim.visit_id is not None
        else None
    )
    order = session.get(PhysicianOrder, visit.order_id) if visit is not None and visit.order_id else None
    drug_code = order.drug.hcpcs if order is not None else (denied_line.code if denied_line else "")

    def diagnosis(code: str) -> DiagnosisFacts:
        covered = covered_indication(drug_code, code) if drug_code else None
        return DiagnosisFacts(code, icd10.describe(code), covered)

    claim_diagnoses = session.scalars(
        sa.select(ClaimDiagnosis.icd10_code)
        .where(ClaimDiagnosis.claim_id == claim.id)
        .order_by(ClaimDiagnosis.sequence)
    ).all()
    order_facts = None
    if order is not None:
        provider = session.get(Provider, order.ordering_provider_id)
        suffix = {"fixed": "", "per_kg": "/kg", "per_m2": "/m²"}[order.dose_basis.value]
        order_facts = OrderFacts(
            drug=order.drug.name,
            hcpcs=order.drug.hcpcs,
            dose=f"{order.dose_amount.normalize():f} {order.dose_unit}{suffix}",
            frequency=order.frequency,
            start_date=order.start_date,
            end_date=order.end_date,
            ordering_provider=f"{provider.display_name} (NPI {provider.npi})" if provider else "not on file",
            diagnoses=tuple(diagnosis(d.icd10_code) for d in order.diagnoses),
        )
    rendering = session.get(Provider, claim.rendering_provider_id) if claim.rendering_provider_id else None

    administrations = list(visit.administrations) if visit is not None else []
    vitals = list(visit.vitals) if visit is not None else []
    reactions = list(visit.reactions) if visit is not None else []
    names = _names(session, [a.nurse_id for a in administrations] + [v.taken_by_id for v in vitals])

    auth_rows = session.scalars(
        sa.select(PriorAuthorization)
        .where(
            PriorAuthorization.patient_id == claim.patient_id, PriorAuthorization.policy_id == claim.policy_id
        )
        .options(selectinload(PriorAuthorization.codes))
        .order_by(PriorAuthorization.valid_from.desc(), PriorAuthorization.id.desc())
    ).all()
    service_codes = {denied_line.code} if denied_line is not None else {line.code for line in lines}
    authorizations = []
    for auth in auth_rows:
        codes = tuple(sorted(c.code for c in auth.codes))
        covers = (
            auth.status is AuthorizationStatus.APPROVED
            and auth.valid_from <= claim.service_date_from
            and claim.service_date_to <= auth.valid_to
            and (not codes or bool(service_codes & set(codes)))
        )
        authorizations.append(
            AuthorizationFacts(
                number=auth.number, status=auth.status.value,
                valid_from=auth.valid_from, valid_to=auth.valid_to,
                codes=codes, approved_units=auth.approved_units, approved_visits=auth.approved_visits,
                covers_service=covers, notes=auth.notes,
            )
        )
    authorizations.sort(key=lambda a: not a.covers_service)

    payer_claim_number = session.scalar(
        sa.select(RemittanceClaim.payer_claim_control_number)
        .join(RemittanceLine, RemittanceLine.remittance_claim_id == RemittanceClaim.id)
        .where(RemittanceLine.id == item.remittance_line_id)
    ) if item.remittance_line_id else None
    original = session.get(Claim, claim.original_claim_id) if claim.original_claim_id else None
    if claim.frequency_code == "7" and original is not None:
        frequency = (
            f"It is a corrected claim (frequency 7) replacing claim {original.claim_number}"
            + (f" (your claim number {original.payer_claim_control_number})"
               if original.payer_claim_control_number else "")
            + ", not a second bill for the same services."
        )
    else:
        frequency = "It is the original and only claim for these services (frequency 1)."

    return AppealFacts(
        letter_date=letter_date,
        category=reason.category if reason.is_denial else item.category.value,
        letterhead=_letterhead(session),
        payer_name=payer.name,
        payer_address=_payer_address(payer),
        patient_name=patient.display_name,
        patient_birth_date=patient.birth_date,
        mrn=patient.mrn,
        member_id=policy.member_id,
        group_number=policy.group_number,
        claim_number=claim.claim_number,
        payer_claim_number=payer_claim_number or claim.payer_claim_control_number,
        service_from=claim.service_date_from,
        service_to=claim.service_date_to,
        denied_service=(
            _line_text(denied_line) if denied_line else f"the whole claim (${claim.total_charge:,.2f})"
        ),
        adjustment_code=f"{item.group_code.value}-{item.reason_code}",
        denial_reason=reason.description,
        amount_appealed=item.amount,
        billed_amount=claim.total_charge,
        signer_name=actor.display_name,
        billed_lines=tuple(_line_text(line) for line in lines),
        claim_authorization_number=claim.prior_authorization_number,
        frequency_note=frequency,
        rendering_provider=rendering.display_name if rendering else None,
        order=order_facts,
        diagnoses=tuple(diagnosis(code) for code in claim_diagnoses),
        authorizations=tuple(authorizations),
        administrations=tuple(_administration(a, zone, names) for a in administrations),
        vitals=tuple(
            VitalFacts(
                taken_at=v.taken_at.astimezone(zone), systolic=v.systolic, diastolic=v.diastolic,
                pulse=v.pulse,
                respiratory_rate=v.respiratory_rate, temperature_c=v.temperature_c, spo2=v.spo2,
                pain_score=v.pain_score, taken_by=names.get(v.taken_by_id) if v.taken_by_id else None,
            )
            for v in vitals
        ),
        reactions=tuple(
            ReactionFacts(
                onset=r.onset_at.astimezone(zone), severity=r.severity.value, description=r.description,
                resolved=_local(r.resolved_at, zone),
                interventions=tuple(
                    f"{i.performed_at.astimezone(zone):%H:%M} {i.description}" for i in r.interventions
                ),
            )
            for r in sorted(reactions, key=lambda r: r.onset_at)
        ),
        submissions=_submissions(session, claim, original, zone),
        coverage=_coverage(session, policy, payer, claim.service_date_from, zone),
        printed_on=printed_on,
    )


def _administration(a: Administration, zone: ZoneInfo, names: dict[int, str]) -> AdministrationFacts:
    drug: Drug | None = a.drug
    return AdministrationFacts(
        drug=drug.name if drug else a.admin_class.value.replace("_", " "),
        hcpcs=a.hcpcs or (drug.hcpcs if drug else None),
        method=a.method.value,
        route=a.route,
        start=_local(a.start_at, zone),
        stop=_local(a.stop_at, zone),
        pauses=tuple((p.paused_at.astimezone(zone), _local(p.resumed_at, zone)) for p in a.interruptions),
        iv_site=a.iv_site,
        dose_amount=a.dose_amount,
        dose_unit=a.dose_unit,
        waste_amount=a.waste_amount,
        lot=a.lot,
        lot_expiry=a.lot_expiry,
        ndc=a.ndc,
        nurse=names.get(a.nurse_id) if a.nurse_id else None,
        notes=a.notes,
    )


def _submissions(
    session: Session, claim: Claim, original: Claim | None, zone: ZoneInfo
) -> tuple[tuple[date, str], ...]:
    events: list[tuple[datetime, str]] = []
    for subject in (original, claim):
        if subject is None:
            continue
        label = "" if subject is claim else f"original claim {subject.claim_number} "
        batch = session.get(ClaimBatch, subject.batch_id) if subject.batch_id else None
        if batch is not None and batch.exported_at is not None:
            name = f" {batch.file_name}" if batch.file_name else ""
            icn = batch.interchange_control_number
            icn_text = f" (interchange {icn})" if icn else ""
            sent = f"{label}sent to the clearinghouse in batch file{name}{icn_text}"
            events.append((batch.exported_at, sent))
        if subject.submitted_at is not None:
            events.append((subject.submitted_at, f"{label}submitted to the payer"))
        acks = session.execute(
            sa.select(ClaimAcknowledgement, InboundFile.received_at)
            .join(InboundFile, InboundFile.id == ClaimAcknowledgement.inbound_file_id)
            .where(
                sa.or_(
                    ClaimAcknowledgement.claim_id == subject.id,
                    ClaimAcknowledgement.batch_id == subject.batch_id if subject.batch_id else sa.false(),
                )
            )
        ).all()
        for ack, received in acks:
            verdict = "accepted" if ack.accepted else "rejected"
            code = f" ({ack.status_code})" if ack.status_code else ""
            events.append((received, f"{label}{verdict} by the clearinghouse{code}"))
    events.sort(key=lambda e: e[0])
    return tuple((moment.astimezone(zone).date(), text) for moment, text in events)


def _payer_address(payer: Payer) -> tuple[str, ...]:
    city = ", ".join(p for p in (payer.city, " ".join(q for q in (payer.state, payer.zip_code) if q)) if p)
    return tuple(part for part in (payer.address1, city) if part)


def _coverage(
    session: Session, policy: InsurancePolicy, payer: Payer, service_date: date, zone: ZoneInfo
) -> str:
    plan = policy.plan_name or payer.name
    ends = f" to {policy.termination_date:%m/%d/%Y}" if policy.termination_date else " with no end date"
    group = f", group {policy.group_number}" if policy.group_number else ""
    text = (
        f"The {policy.rank.value} policy {plan} (member ID {policy.member_id}{group}) is in force from "
        f"{policy.effective_date:%m/%d/%Y}{ends}."
    )
    checks = session.scalars(
        sa.select(EligibilityCheck)
        .where(EligibilityCheck.policy_id == policy.id)
        .order_by(EligibilityCheck.checked_at.desc())
    ).all()
    before = [c for c in checks if c.checked_at.astimezone(zone).date() <= service_date]
    check = before[0] if before else (checks[-1] if checks else None)
    if check is None:
        return text + " No eligibility verification is on file."
    reference = f", reference {check.reference_number}" if check.reference_number else ""
    return (
        text + f" Eligibility was verified {check.status.value} on "
        f"{check.checked_at.astimezone(zone):%m/%d/%Y} by {check.method.value}{reference}."
    )
