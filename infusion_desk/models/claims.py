"""Claims, batches, clearinghouse acknowledgements and the control numbers X12 needs."""

from __future__ import annotations

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
from infusion_desk.models.enums import BatchStatus, ClaimStatus, LineResponsibility

if TYPE_CHECKING:
    from infusion_desk.models.patients import Patient

ClaimId = NewType("ClaimId", int)


class ClearinghouseProfile(Base):
    """Envelope settings for one clearinghouse: who we are to it and how files are named."""

    __tablename__ = "clearinghouse_profile"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(80), unique=True)
    sender_qualifier: Mapped[str] = mapped_column(sa.String(2), default="ZZ")
    sender_id: Mapped[str] = mapped_column(sa.String(15))
    receiver_qualifier: Mapped[str] = mapped_column(sa.String(2), default="ZZ")
    receiver_id: Mapped[str] = mapped_column(sa.String(15))
    application_sender_code: Mapped[str] = mapped_column(sa.String(15))
    application_receiver_code: Mapped[str] = mapped_column(sa.String(15))
    production: Mapped[bool] = mapped_column(default=False)
    claims_per_file: Mapped[int] = mapped_column(default=500)
    file_name_pattern: Mapped[str] = mapped_column(sa.String(120), default="{profile}_{icn}.837")
    export_folder: Mapped[str | None] = mapped_column(sa.String(400))
    sftp_host: Mapped[str | None] = mapped_column(sa.String(200))
    sftp_port: Mapped[int | None] = mapped_column()
    sftp_username: Mapped[str | None] = mapped_column(sa.String(80))
    sftp_remote_dir: Mapped[str | None] = mapped_column(sa.String(200))


class ControlNumber(Base):
    """A persisted counter (interchange, group, transaction set, claim): never reused."""

    __tablename__ = "control_number"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    last_value: Mapped[int] = mapped_column(sa.BigInteger, default=0)


class ClaimBatch(TimestampMixin, Base):
    __tablename__ = "claim_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    profile_id: Mapped[int] = mapped_column(sa.ForeignKey("clearinghouse_profile.id"))
    status: Mapped[BatchStatus] = mapped_column(enum_column(BatchStatus), default=BatchStatus.OPEN)
    interchange_control_number: Mapped[int | None] = mapped_column(unique=True)
    group_control_number: Mapped[int | None] = mapped_column()
    transaction_control_number: Mapped[int | None] = mapped_column()
    file_name: Mapped[str | None] = mapped_column(sa.String(200))
    file_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    content: Mapped[str | None] = mapped_column(sa.Text, doc="Exactly what was exported")
    exported_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))

    claims: Mapped[list[Claim]] = relationship(back_populates="batch")


class Claim(TimestampMixin, Versioned, Base):
    """A bill to one payer for one visit; CLM01 is ``claim_number``."""

    __tablename__ = "claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_number: Mapped[str] = mapped_column(sa.String(38), unique=True)
    visit_id: Mapped[int | None] = mapped_column(sa.ForeignKey("visit.id"), index=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    policy_id: Mapped[int] = mapped_column(sa.ForeignKey("insurance_policy.id"))
    payer_id: Mapped[int] = mapped_column(sa.ForeignKey("payer.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim_batch.id"), index=True)
    responsibility_sequence: Mapped[str] = mapped_column(sa.String(1), default="P")
    frequency_code: Mapped[str] = mapped_column(sa.String(1), default="1")
    original_claim_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("claim.id"),
        index=True,
        doc="For a replacement (7) or void (8): the claim it replaces. For a secondary claim: the "
        "claim to the payer before it, whose posted remittance it carries.",
    )
    payer_claim_control_number: Mapped[str | None] = mapped_column(sa.String(50))
    status: Mapped[ClaimStatus] = mapped_column(
        enum_column(ClaimStatus), default=ClaimStatus.DRAFT, index=True
    )
    service_date_from: Mapped[date] = mapped_column()
    service_date_to: Mapped[date] = mapped_column()
    place_of_service: Mapped[str] = mapped_column(sa.String(2), default="11")
    billing_provider_npi: Mapped[str] = mapped_column(sa.String(10))
    rendering_provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider.id"))
    ordering_provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider.id"))
    prior_authorization_number: Mapped[str | None] = mapped_column(sa.String(50))
    total_charge: Mapped[Decimal] = mapped_column(Money())
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    adjudicated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scrubbed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    findings: Mapped[list[dict[str, str]]] = mapped_column(
        sa.JSON,
        default=list,
        server_default=sa.text("'[]'"),
        doc="The last scrub's findings: level, code, message, subject",
    )

    patient: Mapped[Patient] = relationship()
    batch: Mapped[ClaimBatch | None] = relationship(back_populates="claims")
    diagnoses: Mapped[list[ClaimDiagnosis]] = relationship(
        cascade="all, delete-orphan", order_by="ClaimDiagnosis.sequence"
    )
    lines: Mapped[list[ClaimLine]] = relationship(
        back_populates="claim", cascade="all, delete-orphan", order_by="ClaimLine.line_number"
    )
    history: Mapped[list[ClaimStatusEvent]] = relationship(
        cascade="all, delete-orphan", order_by="ClaimStatusEvent.at"
    )


class ClaimDiagnosis(Base):
    __tablename__ = "claim_diagnosis"
    __table_args__ = (sa.UniqueConstraint("claim_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column(doc="1..12, the letter A..L on the CMS-1500")
    icd10_code: Mapped[str] = mapped_column(sa.String(8))


class ClaimLine(Base):
    __tablename__ = "claim_line"
    __table_args__ = (
        sa.UniqueConstraint("claim_id", "line_number"),
        # the balance reports read only this index, by date of service and state (migration 0009)
        sa.Index(
            "ix_claim_line_report_balances",
            "service_date", "responsibility", "claim_id", "charge", "paid", "adjusted",
            "patient_responsibility", "patient_paid",
        ),
        sa.Index("ix_claim_line_authorization_service_date", "authorization_id", "service_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    line_number: Mapped[int] = mapped_column()
    line_control_number: Mapped[str] = mapped_column(sa.String(30), unique=True)
    service_date: Mapped[date] = mapped_column()
    code: Mapped[str] = mapped_column(sa.String(5))
    modifiers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    units: Mapped[Decimal] = mapped_column(Quantity())
    charge: Mapped[Decimal] = mapped_column(Money())
    diagnosis_pointers: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    ndc: Mapped[str | None] = mapped_column(sa.String(11))
    ndc_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
    ndc_unit: Mapped[str | None] = mapped_column(sa.String(2))
    description: Mapped[str | None] = mapped_column(sa.String(80), doc="SV101-7, for unlisted codes")
    authorization_id: Mapped[int | None] = mapped_column(sa.ForeignKey("prior_authorization.id"))
    coded_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("coded_line.id"))
    responsibility: Mapped[LineResponsibility] = mapped_column(
        enum_column(LineResponsibility), default=LineResponsibility.INSURANCE_PENDING
    )
    paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    adjusted: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    patient_responsibility: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    patient_paid: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    payment_plan_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("payment_plan.id"), index=True, doc="The payment plan the patient's share is on"
    )
    collections_on: Mapped[date | None] = mapped_column(
        doc="The day the patient's share was handed to collections"
    )

    claim: Mapped[Claim] = relationship(back_populates="lines")


class ClaimStatusEvent(Base):
    """One transition in a claim's life: who moved it, when, and why."""

    __tablename__ = "claim_status_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    from_status: Mapped[ClaimStatus | None] = mapped_column(enum_column(ClaimStatus))
    to_status: Mapped[ClaimStatus] = mapped_column(enum_column(ClaimStatus))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    reason: Mapped[str | None] = mapped_column(sa.Text)


class InboundFile(Base):
    """An X12 file received (999, 277CA, 271, 835): kept whole so nothing is lost or posted twice."""

    __tablename__ = "inbound_file"
    __table_args__ = (sa.UniqueConstraint("kind", "sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    file_name: Mapped[str] = mapped_column(sa.String(200))
    sha256: Mapped[str] = mapped_column(sa.String(64))
    content: Mapped[str] = mapped_column(sa.Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(sa.Text)


class ClaimAcknowledgement(Base):
    """What the clearinghouse said about one claim (277CA) or one batch (999)."""

    __tablename__ = "claim_acknowledgement"

    id: Mapped[int] = mapped_column(primary_key=True)
    inbound_file_id: Mapped[int] = mapped_column(sa.ForeignKey("inbound_file.id"))
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim_batch.id"))
    accepted: Mapped[bool] = mapped_column()
    status_code: Mapped[str | None] = mapped_column(sa.String(20))
    message: Mapped[str | None] = mapped_column(sa.Text)
    units_quantity: Mapped[Decimal | None] = mapped_column(Quantity())
