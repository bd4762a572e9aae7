"""The clinic itself, its providers, payers, chairs, users and reference catalogs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, NewType

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infusion_desk.models.base import (
    Base,
    Money,
    Quantity,
    TimestampMixin,
    UTCDateTime,
    enum_column,
)
from infusion_desk.models.enums import AdminClass, EraPosting, PayerType, Role

UserId = NewType("UserId", int)
PayerId = NewType("PayerId", int)
ProviderId = NewType("ProviderId", int)
DrugId = NewType("DrugId", int)


class Clinic(TimestampMixin, Base):
    """The billing provider (loop 2010AA): one row per database."""

    __tablename__ = "clinic"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    npi: Mapped[str] = mapped_column(sa.String(10))
    tin: Mapped[str] = mapped_column(sa.String(9))
    taxonomy: Mapped[str] = mapped_column(sa.String(10))
    address1: Mapped[str] = mapped_column(sa.String(80))
    address2: Mapped[str | None] = mapped_column(sa.String(80))
    city: Mapped[str] = mapped_column(sa.String(60))
    state: Mapped[str] = mapped_column(sa.String(2))
    zip_code: Mapped[str] = mapped_column(sa.String(10))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    pay_to_address1: Mapped[str | None] = mapped_column(sa.String(80))
    pay_to_city: Mapped[str | None] = mapped_column(sa.String(60))
    pay_to_state: Mapped[str | None] = mapped_column(sa.String(2))
    pay_to_zip_code: Mapped[str | None] = mapped_column(sa.String(10))
    place_of_service: Mapped[str] = mapped_column(sa.String(2), default="11")
    is_demo: Mapped[bool] = mapped_column(default=False)


class Setting(Base):
    """A clinic-wide setting (statement cycle, thresholds...), stored as JSON."""

    __tablename__ = "setting"

    key: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    value: Mapped[Any] = mapped_column(sa.JSON)


class User(TimestampMixin, Base):
    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(60), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(120))
    role: Mapped[Role] = mapped_column(enum_column(Role))
    password_hash: Mapped[str] = mapped_column(sa.String(200))
    active: Mapped[bool] = mapped_column(default=True)
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    must_change_password: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Provider(TimestampMixin, Base):
    """A rendering or ordering clinician with an individual (type 1) NPI."""

    __tablename__ = "provider"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(sa.String(60))
    last_name: Mapped[str] = mapped_column(sa.String(60))
    credentials: Mapped[str | None] = mapped_column(sa.String(20))
    npi: Mapped[str] = mapped_column(sa.String(10), unique=True)
    taxonomy: Mapped[str | None] = mapped_column(sa.String(10))
    is_rendering: Mapped[bool] = mapped_column(default=True)
    is_ordering: Mapped[bool] = mapped_column(default=True)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def display_name(self) -> str:
        suffix = f", {self.credentials}" if self.credentials else ""
        return f"{self.first_name} {self.last_name}{suffix}"


class Payer(TimestampMixin, Base):
    __tablename__ = "payer"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    payer_id: Mapped[str] = mapped_column(sa.String(20), doc="Clearinghouse payer ID (NM109 of 2010BB)")
    payer_type: Mapped[PayerType] = mapped_column(enum_column(PayerType))
    address1: Mapped[str | None] = mapped_column(sa.String(80))
    city: Mapped[str | None] = mapped_column(sa.String(60))
    state: Mapped[str | None] = mapped_column(sa.String(2))
    zip_code: Mapped[str | None] = mapped_column(sa.String(10))
    phone: Mapped[str | None] = mapped_column(sa.String(20))
    timely_filing_days: Mapped[int] = mapped_column(default=365)
    appeal_days: Mapped[int] = mapped_column(default=120)
    reverify_days: Mapped[int] = mapped_column(default=30)
    coding_settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    era_posting: Mapped[EraPosting] = mapped_column(
        enum_column(EraPosting), default=EraPosting.REVIEW, server_default=EraPosting.REVIEW.value
    )
    active: Mapped[bool] = mapped_column(default=True)
    clearinghouse_profile_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("clearinghouse_profile.id"),
        doc="Where this payer's claims are sent; none means the clinic's default clearinghouse",
    )


class Chair(Base):
    __tablename__ = "chair"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(40), unique=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)


class Drug(TimestampMixin, Base):
    """A catalog drug: HCPCS code, its billing unit and how it is administered."""

    __tablename__ = "drug"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(120))
    brand_name: Mapped[str | None] = mapped_column(sa.String(120))
    hcpcs: Mapped[str] = mapped_column(sa.String(5), index=True)
    billing_unit_amount: Mapped[Decimal] = mapped_column(Quantity())
    billing_unit: Mapped[str] = mapped_column(sa.String(8))
    billing_unit_up_to: Mapped[bool] = mapped_column(
        default=False, doc="'Up to X mg' descriptors: one unit covers any dose up to X"
    )
    admin_class: Mapped[AdminClass] = mapped_column(enum_column(AdminClass))
    default_method: Mapped[str] = mapped_column(sa.String(12), default="infusion")
    default_route: Mapped[str] = mapped_column(sa.String(4), default="IV")
    single_dose_container: Mapped[bool] = mapped_column(default=True)
    unit_price: Mapped[Decimal] = mapped_column(Money(4), doc="Charge per billing unit")
    acquisition_cost: Mapped[Decimal | None] = mapped_column(Money(4), doc="Cost per billing unit")
    typical_minutes: Mapped[int | None] = mapped_column()
    active: Mapped[bool] = mapped_column(default=True)

    ndcs: Mapped[list[DrugNdc]] = relationship(
        back_populates="drug", cascade="all, delete-orphan", order_by="DrugNdc.ndc"
    )


class DrugNdc(Base):
    """A package of a catalog drug, by its 11-digit (5-4-2) NDC."""

    __tablename__ = "drug_ndc"
    __table_args__ = (sa.UniqueConstraint("drug_id", "ndc"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    drug_id: Mapped[int] = mapped_column(sa.ForeignKey("drug.id", ondelete="CASCADE"))
    ndc: Mapped[str] = mapped_column(sa.String(11), index=True)
    description: Mapped[str | None] = mapped_column(sa.String(250))
    package_amount: Mapped[Decimal] = mapped_column(Quantity())
    package_unit: Mapped[str] = mapped_column(sa.String(8))
    ndc_unit: Mapped[str] = mapped_column(sa.String(2), doc="UN, ML, GR, F2 or ME")
    package_volume_ml: Mapped[Decimal | None] = mapped_column(
        Quantity(), doc="Volume of a package measured in mL whose content is a mass (2 mg/mL x 20 mL: 20)"
    )

    drug: Mapped[Drug] = relationship(back_populates="ndcs")


class ChargeMasterEntry(Base):
    """The clinic's own charge for a code (administration codes; drugs use unit_price)."""

    __tablename__ = "charge_master"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(5), unique=True)
    description: Mapped[str] = mapped_column(sa.String(200))
    charge: Mapped[Decimal] = mapped_column(Money(2))


class FeeScheduleEntry(Base):
    """What a payer's contract allows for a code, from a date."""

    __tablename__ = "fee_schedule_entry"
    __table_args__ = (sa.UniqueConstraint("payer_id", "code", "effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    payer_id: Mapped[int] = mapped_column(sa.ForeignKey("payer.id"))
    code: Mapped[str] = mapped_column(sa.String(5))
    allowed: Mapped[Decimal | None] = mapped_column(Money(4))
    percent_of_asp: Mapped[Decimal | None] = mapped_column(Quantity(3))
    effective_from: Mapped[date] = mapped_column()
    effective_to: Mapped[date | None] = mapped_column()


class AspPrice(Base):
    """Medicare's quarterly ASP payment limit for a drug code (106% of the average sales price)."""

    __tablename__ = "asp_price"
    __table_args__ = (sa.UniqueConstraint("code", "quarter_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(5), index=True)
    quarter_start: Mapped[date] = mapped_column(doc="First day of the calendar quarter it prices")
    payment_limit: Mapped[Decimal] = mapped_column(Money(4), doc="Per HCPCS billing unit")
    dosage: Mapped[str | None] = mapped_column(sa.String(60), doc="The HCPCS code dosage, as published")
    description: Mapped[str | None] = mapped_column(sa.String(200))
