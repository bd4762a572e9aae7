"""The chair schedule and what happens in the chair: visits, administrations, vitals, reactions."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NewType

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infusion_desk.models.base import Base, Quantity, TimestampMixin, UTCDateTime, enum_column
from infusion_desk.models.enums import AdminClass, AdminMethod, Severity, VisitStatus

if TYPE_CHECKING:
    from infusion_desk.models.clinic import Chair, Drug
    from infusion_desk.models.patients import Patient, PhysicianOrder

VisitId = NewType("VisitId", int)


class Visit(TimestampMixin, Base):
    """An appointment in a chair; once the patient arrives, the encounter that is billed."""

    __tablename__ = "visit"
    __table_args__ = (sa.Index("ix_visit_date_of_service_chair", "date_of_service", "chair_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    patient_id: Mapped[int] = mapped_column(sa.ForeignKey("patient.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("physician_order.id"), index=True)
    policy_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("insurance_policy.id"), index=True, doc="The coverage chosen when the visit was booked"
    )
    series_id: Mapped[str | None] = mapped_column(
        sa.String(36), index=True, doc="Shared by the visits of one recurring booking"
    )
    chair_id: Mapped[int | None] = mapped_column(sa.ForeignKey("chair.id"))
    rendering_provider_id: Mapped[int | None] = mapped_column(sa.ForeignKey("provider.id"))
    date_of_service: Mapped[date] = mapped_column()
    scheduled_start: Mapped[datetime] = mapped_column(UTCDateTime())
    expected_minutes: Mapped[int] = mapped_column(default=60)
    status: Mapped[VisitStatus] = mapped_column(
        enum_column(VisitStatus), default=VisitStatus.SCHEDULED
    )
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    weight_kg: Mapped[Decimal | None] = mapped_column(Quantity(2))
    height_cm: Mapped[Decimal | None] = mapped_column(Quantity(1))
    em_code: Mapped[str | None] = mapped_column(sa.String(5))
    em_separately_identifiable: Mapped[bool] = mapped_column(default=False)
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    coded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    coded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    notes: Mapped[str | None] = mapped_column(sa.Text)

    patient: Mapped[Patient] = relationship()
    order: Mapped[PhysicianOrder | None] = relationship()
    chair: Mapped[Chair | None] = relationship()
    administrations: Mapped[list[Administration]] = relationship(
        back_populates="visit", cascade="all, delete-orphan", order_by="Administration.id"
    )
    vitals: Mapped[list[VitalSign]] = relationship(
        cascade="all, delete-orphan", order_by="VitalSign.taken_at"
    )
    reactions: Mapped[list[Reaction]] = relationship(cascade="all, delete-orphan")
    coded_lines: Mapped[list[CodedLine]] = relationship(
        cascade="all, delete-orphan", order_by="CodedLine.sequence"
    )


class Administration(TimestampMixin, Base):
    """One infusion, push or injection as the nurse documented it."""

    __tablename__ = "administration"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    drug_id: Mapped[int | None] = mapped_column(sa.ForeignKey("drug.id"))
    hcpcs: Mapped[str | None] = mapped_column(sa.String(5))
    admin_class: Mapped[AdminClass] = mapped_column(enum_column(AdminClass))
    method: Mapped[AdminMethod] = mapped_column(enum_column(AdminMethod))
    route: Mapped[str] = mapped_column(sa.String(4), default="IV")
    iv_site: Mapped[str | None] = mapped_column(sa.String(40))
    encounter: Mapped[str] = mapped_column(sa.String(10), default="1")
    bag: Mapped[str | None] = mapped_column(sa.String(20))
    is_primary_reason: Mapped[bool] = mapped_column(default=False)
    start_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    stop_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    dose_amount: Mapped[Decimal | None] = mapped_column(Quantity())
    dose_unit: Mapped[str | None] = mapped_column(sa.String(8))
    waste_amount: Mapped[Decimal | None] = mapped_column(Quantity())
    lot: Mapped[str | None] = mapped_column(sa.String(40))
    lot_expiry: Mapped[date | None] = mapped_column()
    ndc: Mapped[str | None] = mapped_column(sa.String(11))
    flags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    bags_hung: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    nurse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    notes: Mapped[str | None] = mapped_column(sa.Text)

    visit: Mapped[Visit] = relationship(back_populates="administrations")
    drug: Mapped[Drug | None] = relationship()
    interruptions: Mapped[list[AdministrationInterruption]] = relationship(
        cascade="all, delete-orphan", order_by="AdministrationInterruption.paused_at"
    )


class AdministrationInterruption(Base):
    """A pause in an infusion: its time does not count towards the infusion's minutes."""

    __tablename__ = "administration_interruption"

    id: Mapped[int] = mapped_column(primary_key=True)
    administration_id: Mapped[int] = mapped_column(
        sa.ForeignKey("administration.id", ondelete="CASCADE"), index=True
    )
    paused_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resumed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VitalSign(Base):
    __tablename__ = "vital_sign"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime())
    systolic: Mapped[int | None] = mapped_column()
    diastolic: Mapped[int | None] = mapped_column()
    pulse: Mapped[int | None] = mapped_column()
    respiratory_rate: Mapped[int | None] = mapped_column()
    temperature_c: Mapped[Decimal | None] = mapped_column(Quantity(1))
    spo2: Mapped[int | None] = mapped_column()
    weight_kg: Mapped[Decimal | None] = mapped_column(Quantity(2))
    pain_score: Mapped[int | None] = mapped_column()
    taken_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))


class Reaction(Base):
    __tablename__ = "reaction"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    administration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administration.id"))
    onset_at: Mapped[datetime] = mapped_column(UTCDateTime())
    severity: Mapped[Severity] = mapped_column(enum_column(Severity))
    description: Mapped[str] = mapped_column(sa.Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    interventions: Mapped[list[Intervention]] = relationship(cascade="all, delete-orphan")


class Intervention(Base):
    """What the nurse did about a reaction; a drug given for it is also an administration."""

    __tablename__ = "intervention"

    id: Mapped[int] = mapped_column(primary_key=True)
    reaction_id: Mapped[int] = mapped_column(sa.ForeignKey("reaction.id", ondelete="CASCADE"))
    performed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    description: Mapped[str] = mapped_column(sa.Text)
    administration_id: Mapped[int | None] = mapped_column(sa.ForeignKey("administration.id"))


class CodedLine(Base):
    """A service line the coding engine produced for a visit, possibly overridden by a coder."""

    __tablename__ = "coded_line"
    __table_args__ = (sa.UniqueConstraint("visit_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"))
    sequence: Mapped[int] = mapped_column()
    code: Mapped[str] = mapped_column(sa.String(5))
    units: Mapped[Decimal] = mapped_column(Quantity())
    modifiers: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    diagnosis_pointers: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    administration_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list)
    ndc: Mapped[str | None] = mapped_column(sa.String(11))
    explanation: Mapped[str] = mapped_column(sa.Text)
    overridden: Mapped[bool] = mapped_column(default=False)
    override_reason: Mapped[str | None] = mapped_column(sa.Text)
    overridden_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    overridden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class VisitAddendum(Base):
    """A change to a signed visit's documentation: who, when, why, and what it was before."""

    __tablename__ = "visit_addendum"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    changes: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class CodedLineHistory(Base):
    """A coder's override of a proposed line, kept so the change can be reviewed."""

    __tablename__ = "coded_line_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    visit_id: Mapped[int] = mapped_column(sa.ForeignKey("visit.id", ondelete="CASCADE"), index=True)
    sequence: Mapped[int] = mapped_column()
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("app_user.id"))
    reason: Mapped[str] = mapped_column(sa.Text)
    before: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    after: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
