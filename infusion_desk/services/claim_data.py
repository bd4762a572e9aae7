"""Stored claims as :class:`~infusion_desk.billing.claim_data.ClaimData`, loaded in bulk.

The patient, subscriber, payer and clinic parts are read live from their records when the
claim is scrubbed, exported or printed, so fixing a patient's address (the place a finding
points to) fixes every claim still to be sent. Lines, diagnoses, charges, authorization
numbers and control numbers are the claim's own, fixed when it was built.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.claim_data import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimData,
    ClaimLineData,
    LineAdjudication,
    Ndc,
    OtherPayer,
    PatientData,
    PayerData,
    PersonName,
    Provider,
    Subscriber,
)
from infusion_desk.billing.findings import error
from infusion_desk.models import (
    Adjustment as AdjustmentRow,
)
from infusion_desk.models import (
    Claim,
    ClaimDiagnosis,
    ClaimLine,
    Clinic,
    InsurancePolicy,
    Patient,
    PatientPayment,
    Payer,
    PriorAuthorization,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from infusion_desk.models import Provider as ProviderRow
from infusion_desk.models.enums import PayerType, PolicyRank, SubscriberRelationship
from infusion_desk.services.errors import NotFound, ValidationFailed
from infusion_desk.services.patients import filing_indicator

T = TypeVar("T")

RELATIONSHIP_CODE = {
    SubscriberRelationship.SELF: "18",
    SubscriberRelationship.SPOUSE: "01",
    SubscriberRelationship.CHILD: "19",
    SubscriberRelationship.OTHER: "G8",
}
"""The patient's relationship to the subscriber as SBR02/PAT01 codes."""

RESPONSIBILITY = {PolicyRank.PRIMARY: "P", PolicyRank.SECONDARY: "S", PolicyRank.TERTIARY: "T"}


def chunks(values: Sequence[int], size: int = 900) -> list[Sequence[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


def _zip(text: str | None) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def _address(
    line1: str | None, city: str | None, state: str | None, zip_code: str | None, line2: str | None = None
) -> Address | None:
    if not (line1 or city or state or zip_code):
        return None
    return Address(line1 or "", city or "", state or "", _zip(zip_code), line2 or None)


def billing_provider(clinic: Clinic) -> BillingProvider:
    pay_to = _address(clinic.pay_to_address1, clinic.pay_to_city, clinic.pay_to_state, clinic.pay_to_zip_code)
    return BillingProvider(
        name=clinic.name,
        npi=clinic.npi,
        tin=clinic.tin,
        taxonomy=clinic.taxonomy,
        address=Address(clinic.address1, clinic.city, clinic.state, _zip(clinic.zip_code), clinic.address2),
        phone=_zip(clinic.phone) or None,
        pay_to=pay_to,
    )


def load_clinic(session: Session) -> Clinic:
    clinic = session.scalars(sa.select(Clinic).order_by(Clinic.id).limit(1)).first()
    if clinic is None:
        raise ValidationFailed(
            [
                error(
                    "NO_CLINIC",
                    "Enter the clinic's name, NPI, tax ID and address in Clinic settings first.",
                    "clinic",
                )
            ]
        )
    return clinic


def provider_data(row: ProviderRow | None) -> Provider | None:
    if row is None:
        return None
    return Provider(PersonName(row.last_name, row.first_name), row.npi, row.taxonomy, row.credentials)


def payer_data(payer: Payer) -> PayerData:
    return PayerData(
        payer.name, payer.payer_id, _address(payer.address1, payer.city, payer.state, payer.zip_code)
    )


def subscriber_data(policy: InsurancePolicy | sa.Row[Any], patient: Patient | sa.Row[Any]) -> Subscriber:
    if policy.subscriber_relationship is SubscriberRelationship.SELF:
        return Subscriber(
            name=PersonName(patient.last_name, patient.first_name, patient.middle_name),
            member_id=policy.member_id,
            birth_date=patient.birth_date,
            sex=patient.sex.value,
            address=_address(
                patient.address1, patient.city, patient.state, patient.zip_code, patient.address2
            ),
            group_number=policy.group_number,
            group_name=policy.plan_name,
        )
    return Subscriber(
        name=PersonName(policy.subscriber_last_name or "", policy.subscriber_first_name or ""),
        member_id=policy.member_id,
        birth_date=policy.subscriber_birth_date,
        sex=policy.subscriber_sex.value if policy.subscriber_sex else "U",
        address=_address(
            policy.subscriber_address1,
            policy.subscriber_city,
            policy.subscriber_state,
            policy.subscriber_zip_code,
        ),
        group_number=policy.group_number,
        group_name=policy.plan_name,
    )


def patient_data(patient: Patient | sa.Row[Any]) -> PatientData:
    return PatientData(
        name=PersonName(patient.last_name, patient.first_name, patient.middle_name),
        birth_date=patient.birth_date,
        sex=patient.sex.value,
        address=Address(
            patient.address1, patient.city, patient.state, _zip(patient.zip_code), patient.address2
        ),
        account_number=patient.mrn,
        phone=_zip(patient.phone) or None,
    )


_LINE_COLUMNS = (
    ClaimLine.claim_id,
    ClaimLine.line_number,
    ClaimLine.line_control_number,
    ClaimLine.service_date,
    ClaimLine.code,
    ClaimLine.units,
    ClaimLine.charge,
    ClaimLine.diagnosis_pointers,
    ClaimLine.modifiers,
    ClaimLine.ndc,
    ClaimLine.ndc_quantity,
    ClaimLine.ndc_unit,
    ClaimLine.description,
    ClaimLine.authorization_id,
)
"""What :func:`line_data` and :func:`other_payers` read of a stored line."""


def line_data(line: ClaimLine | sa.Row[Any], authorization: str | None) -> ClaimLineData:
    ndc = Ndc(line.ndc, line.ndc_quantity or Decimal(0), line.ndc_unit or "UN") if line.ndc else None
    return ClaimLineData(
        line_number=line.line_number,
        control_number=line.line_control_number,
        service_date=line.service_date,
        code=line.code,
        units=line.units,
        charge=line.charge,
        diagnosis_pointers=tuple(line.diagnosis_pointers or ()),
        modifiers=tuple(line.modifiers or ()),
        ndc=ndc,
        prior_authorization=authorization,
        description=line.description,
    )


def claim_data_for(
    session: Session, claim_ids: Iterable[int], loaded: Mapping[int, Claim] | None = None
) -> dict[int, ClaimData]:
    """Every claim in ``claim_ids`` as the writers see it, in a fixed number of queries.

    ``loaded`` holds claims the caller already has in this session (they are not read again).
    """
    ids = sorted(set(claim_ids))
    if not ids:
        return {}
    clinic = billing_provider(load_clinic(session))
    claims: dict[int, Claim] = {i: loaded[i] for i in ids if i in loaded} if loaded else {}
    lines: dict[int, list[sa.Row[Any]]] = {}
    diagnoses: dict[int, list[str]] = {}
    for chunk in chunks(ids):
        unread = [i for i in chunk if i not in claims]
        if unread:
            claims.update((c.id, c) for c in session.scalars(sa.select(Claim).where(Claim.id.in_(unread))))
        # plain rows, not entities: a 5,000-claim batch has some 17,000 lines to read twice
        for line in session.execute(
            sa.select(*_LINE_COLUMNS).where(ClaimLine.claim_id.in_(chunk)).order_by(ClaimLine.line_number)
        ):
            lines.setdefault(line.claim_id, []).append(line)
        for claim_id, code in session.execute(
            sa.select(ClaimDiagnosis.claim_id, ClaimDiagnosis.icd10_code)
            .where(ClaimDiagnosis.claim_id.in_(chunk))
            .order_by(ClaimDiagnosis.claim_id, ClaimDiagnosis.sequence)
        ):
            diagnoses.setdefault(claim_id, []).append(code)
    missing = set(ids) - set(claims)
    if missing:
        raise NotFound(f"Claim {min(missing)} no longer exists.")
    patients = _rows_by_id(session, _PATIENT_COLUMNS, {c.patient_id for c in claims.values()})
    policies = _rows_by_id(session, _POLICY_COLUMNS, {c.policy_id for c in claims.values()})
    payers = _by_id(session, Payer, {c.payer_id for c in claims.values()})
    provider_ids = {c.rendering_provider_id for c in claims.values()} | {
        c.ordering_provider_id for c in claims.values()
    }
    providers = _by_id(session, ProviderRow, {p for p in provider_ids if p is not None})
    auth_ids = {line.authorization_id for rows in lines.values() for line in rows if line.authorization_id}
    auth_numbers = {
        a.id: a.number
        for a in _rows_by_id(session, (PriorAuthorization.id, PriorAuthorization.number), auth_ids).values()
    }
    paid = _paid_at_visit(session, [c.visit_id for c in claims.values() if c.visit_id is not None])
    # a handful of payers and providers serve thousands of claims: one record each, shared
    payer_records = {payer_id: payer_data(payer) for payer_id, payer in payers.items()}
    provider_records = {provider_id: provider_data(row) for provider_id, row in providers.items()}
    out: dict[int, ClaimData] = {}
    for claim_id, claim in claims.items():
        patient = patients[claim.patient_id]
        policy = policies[claim.policy_id]
        payer = payers[claim.payer_id]
        claim_lines = []
        for line in lines.get(claim_id, []):
            number = auth_numbers.get(line.authorization_id) if line.authorization_id else None
            claim_lines.append(
                line_data(line, number if number != claim.prior_authorization_number else None)
            )
        responsibility = claim.responsibility_sequence
        medicare_secondary = (
            policy.medicare_secondary_type
            if payer.payer_type is PayerType.MEDICARE and responsibility != "P"
            else None
        )
        out[claim_id] = ClaimData(
            claim_number=claim.claim_number,
            responsibility=responsibility,
            frequency_code=claim.frequency_code,
            place_of_service=claim.place_of_service,
            billing=clinic,
            payer=payer_records[claim.payer_id],
            subscriber=subscriber_data(policy, patient),
            relationship_code=RELATIONSHIP_CODE[policy.subscriber_relationship],
            patient=patient_data(patient),
            filing_indicator=filing_indicator(policy.claim_filing_indicator, payer.payer_type) or "",
            diagnoses=tuple(diagnoses.get(claim_id, ())),
            lines=tuple(claim_lines),
            rendering=provider_records.get(claim.rendering_provider_id or -1),
            ordering=provider_records.get(claim.ordering_provider_id or -1),
            prior_authorization=claim.prior_authorization_number,
            payer_claim_control_number=(
                _original_icn(session, claim) if claim.frequency_code in ("7", "8") else None
            ),
            medicare_secondary_type=medicare_secondary,
            patient_amount_paid=(
                paid.get(claim.visit_id) if claim.visit_id is not None and responsibility == "P" else None
            ),
            other_payers=(
                other_payers(session, claim, lines.get(claim_id, []))
                if responsibility != "P" and claim.original_claim_id is not None
                else ()
            ),
        )
    return out


def _original_icn(session: Session, claim: Claim) -> str | None:
    """REF*F8 of a replacement or void: the payer's number for the claim it replaces.

    It is read from the original claim (kept there from the 277CA or the remittance), never
    from the correction itself, whose own payer number arrives later and means another claim.
    """
    original = session.get(Claim, claim.original_claim_id) if claim.original_claim_id else None
    return original.payer_claim_control_number if original is not None else None


def _paid_at_visit(session: Session, visit_ids: Sequence[int]) -> dict[int, Decimal]:
    """What the patient paid toward each visit (copay at check-in), net of refunds."""
    paid: dict[int, Decimal] = {}
    for chunk in chunks(sorted(set(visit_ids))):
        for visit_id, amount, refund in session.execute(
            sa.select(PatientPayment.visit_id, PatientPayment.amount, PatientPayment.is_refund).where(
                PatientPayment.visit_id.in_(chunk)
            )
        ):
            paid[visit_id] = paid.get(visit_id, Decimal("0.00")) + (-amount if refund else amount)
    return {visit: amount for visit, amount in paid.items() if amount > 0}


_PATIENT_COLUMNS = (
    Patient.id,
    Patient.mrn,
    Patient.last_name,
    Patient.first_name,
    Patient.middle_name,
    Patient.birth_date,
    Patient.sex,
    Patient.address1,
    Patient.address2,
    Patient.city,
    Patient.state,
    Patient.zip_code,
    Patient.phone,
)
_POLICY_COLUMNS = (
    InsurancePolicy.id,
    InsurancePolicy.member_id,
    InsurancePolicy.group_number,
    InsurancePolicy.plan_name,
    InsurancePolicy.subscriber_relationship,
    InsurancePolicy.subscriber_last_name,
    InsurancePolicy.subscriber_first_name,
    InsurancePolicy.subscriber_birth_date,
    InsurancePolicy.subscriber_sex,
    InsurancePolicy.subscriber_address1,
    InsurancePolicy.subscriber_city,
    InsurancePolicy.subscriber_state,
    InsurancePolicy.subscriber_zip_code,
    InsurancePolicy.claim_filing_indicator,
    InsurancePolicy.medicare_secondary_type,
)
"""What a claim reads of its patient and policy (plain rows: a batch reads thousands of each)."""


def _rows_by_id(session: Session, columns: Sequence[Any], ids: Iterable[int]) -> dict[int, sa.Row[Any]]:
    found: dict[int, sa.Row[Any]] = {}
    key = columns[0]
    for chunk in chunks(sorted(set(ids))):
        for row in session.execute(sa.select(*columns).where(key.in_(chunk))):
            found[row.id] = row
    return found


def _by_id(session: Session, model: type[T], ids: Iterable[int]) -> dict[int, T]:
    wanted = sorted(set(ids))
    found: dict[int, T] = {}
    column = model.id  # type: ignore[attr-defined]
    for chunk in chunks(wanted):
        for row in session.scalars(sa.select(model).where(column.in_(chunk))):
            found[row.id] = row  # type: ignore[attr-defined]
    return found


def posted_remittance(session: Session, claim_id: int) -> tuple[RemittanceClaim, Remittance] | None:
    """The latest posted remittance for a claim that is not a reversal (CLP02 22)."""
    row = session.execute(
        sa.select(RemittanceClaim, Remittance)
        .join(Remittance, Remittance.id == RemittanceClaim.remittance_id)
        .where(RemittanceClaim.claim_id == claim_id, RemittanceClaim.status_code != "22")
        .order_by(Remittance.payment_date.desc(), RemittanceClaim.id.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def _adjustments(rows: Iterable[AdjustmentRow]) -> tuple[Adjustment, ...]:
    return tuple(Adjustment(a.group_code.value, a.reason_code, a.amount, a.quantity) for a in rows)


def other_payers(
    session: Session, claim: Claim, lines: Sequence[ClaimLine | sa.Row[Any]]
) -> tuple[OtherPayer, ...]:
    """The payers before this one, from their posted remittances (2320/2330/2430), never retyped.

    ``claim.original_claim_id`` is the claim to the payer before; it may itself be a secondary,
    so the chain is followed back to the primary.
    """
    out: list[OtherPayer] = []
    previous_id = claim.original_claim_id
    seen: set[int] = set()
    while previous_id is not None and previous_id not in seen:
        seen.add(previous_id)
        previous = session.get(Claim, previous_id)
        if previous is None:
            break
        posted = posted_remittance(session, previous.id)
        if posted is None:
            break
        remit_claim, remittance = posted
        policy = session.get(InsurancePolicy, previous.policy_id)
        payer = session.get(Payer, previous.payer_id)
        patient = session.get(Patient, previous.patient_id)
        assert policy is not None and payer is not None and patient is not None
        previous_lines = {line.id: line for line in previous.lines}
        ours_by_number = {line.line_number: line for line in lines}
        adjudications: list[LineAdjudication] = []
        claim_level = [a for a in remit_claim.adjustments]
        for remit_line in session.scalars(
            sa.select(RemittanceLine).where(RemittanceLine.remittance_claim_id == remit_claim.id)
        ):
            source = previous_lines.get(remit_line.claim_line_id or -1)
            ours = ours_by_number.get(source.line_number) if source is not None else None
            if ours is None:
                continue
            adjudications.append(
                LineAdjudication(
                    line_number=ours.line_number,
                    code=remit_line.code,
                    modifiers=tuple(remit_line.modifiers or ()),
                    paid=remit_line.paid,
                    units_paid=remit_line.units_paid if remit_line.units_paid is not None else ours.units,
                    adjustments=_adjustments(remit_line.adjustments),
                    adjudication_date=remittance.payment_date,
                )
            )
        out.append(
            OtherPayer(
                responsibility=previous.responsibility_sequence,
                payer=payer_data(payer),
                subscriber=subscriber_data(policy, patient),
                relationship_code=RELATIONSHIP_CODE[policy.subscriber_relationship],
                filing_indicator=filing_indicator(policy.claim_filing_indicator, payer.payer_type) or "",
                paid=remit_claim.paid,
                claim_adjustments=_adjustments(claim_level),
                adjudication_date=remittance.payment_date,
                payer_claim_control_number=remit_claim.payer_claim_control_number,
                patient_responsibility=remit_claim.patient_responsibility,
                lines=tuple(sorted(adjudications, key=lambda a: a.line_number)),
            )
        )
        previous_id = previous.original_claim_id if previous.responsibility_sequence != "P" else None
    return tuple(out)
