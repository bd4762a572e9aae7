"""Money coming back: remittances (835 or paper EOB), patient payments, statements, denials, appeals."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

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
    AdjustmentGroup,
    AppealStatus,
    DenialCategory,
    PaymentMethod,
    PlanStatus,
    WorkItemStatus,
)


class Remittance(Versioned, Base):
    """One payment from a payer (an 835 transaction or a keyed paper EOB)."""

    __tablename__ = "remittance"
    __table_args__ = (sa.UniqueConstraint("payer_identifier", "trace_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payer.id"))
    inbound_file_id: Mapped[int | None] = mapped_column(sa.ForeignKey("inbound_file.id"))
    payer_identifier: Mapped[str] = mapped_column(sa.String(30), doc="TRN03")
    trace_number: Mapped[str] = mapped_column(sa.String(50), doc="TRN02: check or EFT number")
    payment_method: Mapped[str] = mapped_column(sa.String(3), doc="BPR04: CHK, ACH, NON...")
    payment_date: Mapped[date] = mapped_column(index=True)
    total_paid: Mapped[Decimal] = mapped_column(Money())
    posted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    manual: Mapped[bool] = mapped_column(default=False)

    claims: Mapped[list[RemittanceClaim]] = relationship(cascade="all, delete-orphan")
    provider_adjustments: Mapped[list[ProviderAdjustment]] = relationship(
        cascade="all, delete-orphan"
    )


class RemittanceClaim(Base):
    """A CLP loop: the payer's answer for one of our claims (matched or awaiting review)."""

    __tablename__ = "remittance_claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("remittance.id", ondelete="CASCADE"), index=True
    )
    claim_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim.id"), index=True)
    patient_control_number: Mapped[str] = mapped_column(sa.String(38))
    status_code: Mapped[str] = mapped_column(sa.String(2), doc="CLP02")
    total_charge: Mapped[Decimal] = mapped_column(Money())
    paid: Mapped[Decimal] = mapped_column(Money())
    patient_responsibility: Mapped[Decimal] = mapped_column(Money())
    payer_claim_control_number: Mapped[str | None] = mapped_column(sa.String(50), doc="CLP07")
    unmatched_reason: Mapped[str | None] = mapped_column(sa.Text)
    remark_codes: Mapped[list[str]] = mapped_column(
        sa.JSON, default=list, server_default=sa.text("'[]'"), doc="MOA/MIA remark codes"
    )

    lines: Mapped[list[RemittanceLine]] = relationship(cascade="all, delete-orphan")
    adjustments: Mapped[list[Adjustment]] = relationship(
        cascade="all, delete-orphan",
        primaryjoin="and_(Adjustment.remittance_claim_id == RemittanceClaim.id, "
        "Adjustment.remittance_line_id.is_(None))",
        viewonly=True,
    )


class RemittanceLine(Base):
    """An SVC loop: what the payer did with one service line."""

    __tablename__ = "remittance_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_claim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("remittance_claim.id", ondelete="CASCADE"), index=True
    )
    claim_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim_line.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(5))
    modifiers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    service_date: Mapped[date | None] = mapped_column()
    charge: Mapped[Decimal] = mapped_column(Money())
    paid: Mapped[Decimal] = mapped_column(Money())
    allowed: Mapped[Decimal | None] = mapped_column(Money())
    units_paid: Mapped[Decimal | None] = mapped_column(Quantity())
    line_control_number: Mapped[str | None] = mapped_column(sa.String(30))
    remark_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)

    adjustments: Mapped[list[Adjustment]] = relationship(cascade="all, delete-orphan")


class Adjustment(Base):
    """A CAS adjustment: group code + CARC reason + amount, at claim or line level."""

    __tablename__ = "adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_claim_id: Mapped[int] = mapped_column(
        sa.ForeignKey("remittance_claim.id", ondelete="CASCADE"), index=True
    )
    remittance_line_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("remittance_line.id", ondelete="CASCADE")
    )
    group_code: Mapped[AdjustmentGroup] = mapped_column(enum_column(AdjustmentGroup))
    reason_code: Mapped[str] = mapped_column(sa.String(5))
    amount: Mapped[Decimal] = mapped_column(Money())
    quantity: Mapped[Decimal | None] = mapped_column(Quantity())


class ProviderAdjustment(Base):
    """A PLB provider-level adjustment (interest, recoupment, forward balance...)."""

    __tablename__ = "provider_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    remittance_id: Mapped[int] = mapped_column(sa.ForeignKey("remittance.id", ondelete="CASCADE"))
    reason_code: Mapped[str] = mapped_column(sa.String(2))
    reference: Mapped[str | None] = mapped_column(sa.String(50))
    amount: Mapped[Decimal] = mapped_column(Money())


class PatientPayment(TimestampMixin, Versioned, Base):
    __tablename__ = "patient_payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    visit_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("visit.id"), index=True, doc="The visit a copay was collected for"
    )
    received_on: Mapped[date] = mapped_column()
    amount: Mapped[Decimal] = mapped_column(Money())
    method: Mapped[PaymentMethod] = mapped_column(enum_column(PaymentMethod))
    reference: Mapped[str | None] = mapped_column(sa.String(60))
    is_refund: Mapped[bool] = mapped_column(default=False)
    posted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))

    allocations: Mapped[list[PaymentAllocation]] = relationship(cascade="all, delete-orphan")


class PaymentAllocation(Base):
    __tablename__ = "payment_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(
        sa.ForeignKey("patient_payment.id", ondelete="CASCADE"), index=True
    )
    claim_line_id: Mapped[int] = mapped_column(sa.ForeignKey("claim_line.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Money())


class LineAdjustment(Base):
    """An explicit adjustment of a line's patient balance (a small-balance write-off), with who and why."""

    __tablename__ = "line_adjustment"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_line_id: Mapped[int] = mapped_column(sa.ForeignKey("claim_line.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(30), doc="small_balance_write_off, ...")
    amount: Mapped[Decimal] = mapped_column(Money())
    reason: Mapped[str] = mapped_column(sa.Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))


class Statement(Base):
    __tablename__ = "statement"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    run_id: Mapped[str | None] = mapped_column(sa.String(40))
    statement_date: Mapped[date] = mapped_column()
    due_date: Mapped[date] = mapped_column()
    previous_balance: Mapped[Decimal] = mapped_column(Money())
    amount_due: Mapped[Decimal] = mapped_column(Money())
    snapshot: Mapped[dict[str, Any]] = mapped_column(
        sa.JSON, default=dict, doc="Everything printed, so a reprint reproduces it"
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))


class PaymentPlan(TimestampMixin, Base):
    __tablename__ = "payment_plan"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    total_amount: Mapped[Decimal] = mapped_column(Money())
    instalment_amount: Mapped[Decimal] = mapped_column(Money())
    instalments: Mapped[int] = mapped_column()
    first_due_date: Mapped[date] = mapped_column()
    interval_days: Mapped[int] = mapped_column(default=30)
    status: Mapped[PlanStatus] = mapped_column(enum_column(PlanStatus), default=PlanStatus.ACTIVE)


class CollectionNote(Base):
    __tablename__ = "collection_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    note: Mapped[str] = mapped_column(sa.Text)
    next_action_date: Mapped[date | None] = mapped_column()
    handoff_status: Mapped[str | None] = mapped_column(sa.String(30))


class DenialWorkItem(TimestampMixin, Base):
    """A denied or zero-paid line waiting for someone to fix, appeal, transfer or write it off."""

    __tablename__ = "denial_work_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id"), index=True)
    claim_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("claim_line.id"))
    remittance_line_id: Mapped[int | None] = mapped_column(sa.ForeignKey("remittance_line.id"))
    group_code: Mapped[AdjustmentGroup] = mapped_column(enum_column(AdjustmentGroup))
    reason_code: Mapped[str] = mapped_column(sa.String(5))
    remark_codes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    category: Mapped[DenialCategory] = mapped_column(enum_column(DenialCategory))
    amount: Mapped[Decimal] = mapped_column(Money())
    appeal_deadline: Mapped[date | None] = mapped_column()
    owner_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    status: Mapped[WorkItemStatus] = mapped_column(
        enum_column(WorkItemStatus), default=WorkItemStatus.OPEN
    )
    resolution_note: Mapped[str | None] = mapped_column(sa.Text)
    approved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    requested_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("app_user.id"), doc="Who asked for the write-off (a manager approves it)"
    )
    replacement_claim_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("claim.id"), doc="The corrected claim (frequency 7) that answers it"
    )


class Appeal(TimestampMixin, Base):
    __tablename__ = "appeal"

    id: Mapped[int] = mapped_column(primary_key=True)
    work_item_id: Mapped[int] = mapped_column(sa.ForeignKey("denial_work_item.id"), index=True)
    claim_id: Mapped[int] = mapped_column(sa.ForeignKey("claim.id"))
    level: Mapped[int] = mapped_column(default=1)
    status: Mapped[AppealStatus] = mapped_column(enum_column(AppealStatus), default=AppealStatus.DRAFT)
    letter_date: Mapped[date | None] = mapped_column()
    deadline: Mapped[date | None] = mapped_column()
    letter_pdf: Mapped[bytes | None] = mapped_column(sa.LargeBinary)
    recovered: Mapped[Decimal | None] = mapped_column(Money())
    letter_text: Mapped[str | None] = mapped_column(sa.Text, doc="The letter as edited before printing")
    amount: Mapped[Decimal | None] = mapped_column(Money(), doc="What the appeal asks for")
    sent_on: Mapped[date | None] = mapped_column()
    outcome_on: Mapped[date | None] = mapped_column()
    note: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))


class AuditEvent(Base):
    """Append-only record of who saw or changed what; each row carries the previous row's hash."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    username: Mapped[str | None] = mapped_column(sa.String(60))
    action: Mapped[str] = mapped_column(sa.String(40))
    entity: Mapped[str] = mapped_column(sa.String(40))
    entity_id: Mapped[str | None] = mapped_column(sa.String(40))
    patient_id: Mapped[int | None] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    previous_hash: Mapped[str | None] = mapped_column(sa.String(64))
    hash: Mapped[str | None] = mapped_column(sa.String(64))
