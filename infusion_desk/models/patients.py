"""Patients and what the front desk keeps about them: policies, eligibility, orders, authorizations."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, NewType

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infusion_desk.models.base import (
    Base,
    Money,
    Quantity,
    TimestampMixin,
    UTCDateTime,
    Versioned,
    enum_column,
)
from infusion_desk.models.enums import (
    AuthorizationStatus,
    DoseBasis,
    EligibilityStatus,
    OrderStatus,
    PolicyRank,
    Sex,
    SubscriberRelationship,
    VerificationMethod,
)

if TYPE_CHECKING:
    from infusion_desk.models.clinic import Drug, Payer, Provider

PatientId = NewType("PatientId", int)
PolicyId = NewType("PolicyId", int)


def search_key(text: str) -> str:
    """Fold a name to what the patient finder compares: ASCII letters and digits, lower case."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed.casefold() if ch.isascii() and ch.isalnum())


class Patient(TimestampMixin, Versioned, Base):
    __tablename__ = "patient"
    __table_args__ = (
        sa.Index("ix_patient_search_last_first", "search_last", "search_first"),
        sa.Index("ix_patient_search_first", "search_first"),
        sa.Index("ix_patient_birth_date", "birth_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mrn: Mapped[str] = mapped_column(sa.String(20), unique=True)
    first_name: Mapped[str] = mapped_column(sa.String(60))
    middle_name: Mapped[str | None] = mapped_column(sa.String(60))
    last_name: Mapped[str] = mapped_column(sa.String(60))
    search_first: Mapped[str] = mapped_column(sa.String(60))
    search_last: Mapped[str] = mapped_column(sa.String(60))
    birth_date: Mapped[date] = mapped_column()
    sex: Mapped[Sex] = mapped_column(enum_column(Sex))
    address1: Mapped[str] = mapped_column(sa.String(80))
    address2: Mapped[str | None] = mapped_column(sa.String(80))
    city: Mapped[str] = mapped_column(sa.String(60))
    state: Mapped[str] = mapped_column(sa.String(2))
    zip_code: Mapped[str] = mapped_column(sa.String(10))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    email: Mapped[str | None] = mapped_column(sa.String(120))
    guarantor_name: Mapped[str | None] = mapped_column(
        sa.String(120), doc="Empty when the patient is their own guarantor"
    )
    guarantor_relationship: Mapped[str | None] = mapped_column(sa.String(20))
    guarantor_phone: Mapped[str | None] = mapped_column(sa.String(20))
    guarantor_address: Mapped[str | None] = mapped_column(sa.String(200))
    statement_hold: Mapped[bool] = mapped_column(default=False)
    active: Mapped[bool] = mapped_column(default=True)

    policies: Mapped[list[InsurancePolicy]] = relationship(
        back_populates="patient", order_by="InsurancePolicy.rank"
    )
    orders: Mapped[list[PhysicianOrder]] = relationship(back_populates="patient")

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class InsurancePolicy(TimestampMixin, Versioned, Base):
    __tablename__ = "insurance_policy"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    payer_id: Mapped[int] = mapped_column(sa.ForeignKey("payer.id"), index=True)
    rank: Mapped[PolicyRank] = mapped_column(enum_column(PolicyRank))
    member_id: Mapped[str] = mapped_column(sa.String(40), index=True)
    group_number: Mapped[str | None] = mapped_column(sa.String(40))
    plan_name: Mapped[str | None] = mapped_column(sa.String(80))
    subscriber_relationship: Mapped[SubscriberRelationship] = mapped_column(
        enum_column(SubscriberRelationship)
    )
    subscriber_first_name: Mapped[str | None] = mapped_column(sa.String(60))
    subscriber_last_name: Mapped[str | None] = mapped_column(sa.String(60))
    subscriber_birth_date: Mapped[date | None] = mapped_column()
    subscriber_sex: Mapped[Sex | None] = mapped_column(enum_column(Sex))
    subscriber_address1: Mapped[str | None] = mapped_column(sa.String(80))
    subscriber_city: Mapped[str | None] = mapped_column(sa.String(60))
    subscriber_state: Mapped[str | None] = mapped_column(sa.String(2))
    subscriber_zip_code: Mapped[str | None] = mapped_column(sa.String(10))
    effective_date: Mapped[date] = mapped_column()
    termination_date: Mapped[date | None] = mapped_column()
    medicare_secondary_type: Mapped[str | None] = mapped_column(
        sa.String(2), doc="SBR05 insurance type code when Medicare is secondary"
    )
    claim_filing_indicator: Mapped[str | None] = mapped_column(
        sa.String(2), doc="SBR09 (MB Medicare B, MC Medicaid, CI commercial...)"
    )

    patient: Mapped[Patient] = relationship(back_populates="policies")
    payer: Mapped[Payer] = relationship()

    def covers(self, on: date) -> bool:
        return self.effective_date <= on and (
            self.termination_date is None or on <= self.termination_date
        )


class EligibilityCheck(Base):
    """One verification of a policy's coverage and benefits (portal, phone or 271)."""

    __tablename__ = "eligibility_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("insurance_policy.id"), index=True)
    checked_at: Mapped[datetime] = mapped_column(UTCDateTime())
    checked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    method: Mapped[VerificationMethod] = mapped_column(enum_column(VerificationMethod))
    status: Mapped[EligibilityStatus] = mapped_column(enum_column(EligibilityStatus))
    reference_number: Mapped[str | None] = mapped_column(sa.String(60))
    copay: Mapped[Decimal | None] = mapped_column(Money())
    deductible: Mapped[Decimal | None] = mapped_column(Money())
    deductible_met: Mapped[Decimal | None] = mapped_column(Money())
    coinsurance_percent: Mapped[Decimal | None] = mapped_column(Quantity(2))
    out_of_pocket_max: Mapped[Decimal | None] = mapped_column(Money())
    out_of_pocket_met: Mapped[Decimal | None] = mapped_column(Money())
    rejection: Mapped[str | None] = mapped_column(
        sa.String(300), doc="Why the payer could not answer (271 AAA), as the front desk reads it"
    )
    notes: Mapped[str | None] = mapped_column(sa.Text)
    raw_response: Mapped[str | None] = mapped_column(sa.Text)


class PhysicianOrder(TimestampMixin, Base):
    __tablename__ = "physician_order"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drug.id"))
    ordering_provider_id: Mapped[int] = mapped_column(sa.ForeignKey("provider.id"))
    dose_amount: Mapped[Decimal] = mapped_column(Quantity())
    dose_unit: Mapped[str] = mapped_column(sa.String(8))
    dose_basis: Mapped[DoseBasis] = mapped_column(enum_column(DoseBasis))
    frequency: Mapped[str] = mapped_column(sa.String(60))
    doses_ordered: Mapped[int | None] = mapped_column()
    start_date: Mapped[date] = mapped_column()
    end_date: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[OrderStatus] = mapped_column(enum_column(OrderStatus), default=OrderStatus.ACTIVE)
    notes: Mapped[str | None] = mapped_column(sa.Text)

    patient: Mapped[Patient] = relationship(back_populates="orders")
    drug: Mapped[Drug] = relationship()
    ordering_provider: Mapped[Provider] = relationship()
    diagnoses: Mapped[list[OrderDiagnosis]] = relationship(
        cascade="all, delete-orphan", order_by="OrderDiagnosis.sequence"
    )


class OrderDiagnosis(Base):
    __tablename__ = "order_diagnosis"
    __table_args__ = (sa.UniqueConstraint("order_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("physician_order.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column()
    icd10_code: Mapped[str] = mapped_column(sa.String(8), doc="Without the dot, as on a claim")


class PriorAuthorization(TimestampMixin, Versioned, Base):
    __tablename__ = "prior_authorization"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("insurance_policy.id"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("physician_order.id"))
    number: Mapped[str] = mapped_column(sa.String(50))
    status: Mapped[AuthorizationStatus] = mapped_column(enum_column(AuthorizationStatus))
    approved_units: Mapped[Decimal | None] = mapped_column(Quantity())
    approved_visits: Mapped[int | None] = mapped_column()
    valid_from: Mapped[date] = mapped_column()
    valid_to: Mapped[date] = mapped_column()
    notes: Mapped[str | None] = mapped_column(sa.Text)

    codes: Mapped[list[AuthorizationCode]] = relationship(cascade="all, delete-orphan")
    policy: Mapped[InsurancePolicy] = relationship()


class AuthorizationCode(Base):
    """A HCPCS drug code or CPT administration code that an authorization covers."""

    __tablename__ = "authorization_code"
    __table_args__ = (sa.UniqueConstraint("authorization_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    authorization_id: Mapped[int] = mapped_column(
        sa.ForeignKey("prior_authorization.id", ondelete="CASCADE")
    )
    code: Mapped[str] = mapped_column(sa.String(5))


class Attachment(Base):
    """A scanned insurance card, order or authorization letter kept with the patient."""

    __tablename__ = "attachment"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30))
    description: Mapped[str | None] = mapped_column(sa.String(200))
    filename: Mapped[str] = mapped_column(sa.String(200))
    mime_type: Mapped[str] = mapped_column(sa.String(80))
    content: Mapped[bytes] = mapped_column(sa.LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())
    uploaded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
