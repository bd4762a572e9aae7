"""Declarative base, naming convention and the column types every table shares.

Money is stored as a scaled integer (cents, or ten-thousandths for unit prices) so
that it never passes through a float on SQLite; timestamps are timezone-aware and
stored in UTC; dates of service are plain dates.
"""

from __future__ import annotations

import enum
import operator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


class ScaledDecimal(TypeDecorator[Decimal]):
    """An exact decimal stored as an integer count of ``10**-scale``.

    A value with more decimal places than ``scale`` is refused rather than rounded:
    rounding is a billing rule, not a storage accident.
    """

    impl = sa.BigInteger
    cache_ok = True

    class Comparator(TypeDecorator.Comparator[Decimal]):
        """``a + b`` and ``a - b`` of two columns of the same scale keep this type.

        Without it the sum or difference of two money columns (``sum(charge - paid)``)
        would come back as the stored integer count of cents.
        """

        def _adapt_expression(self, op: Any, other_comparator: Any) -> tuple[Any, Any]:
            other = other_comparator.type
            if (
                op in (operator.add, operator.sub)
                and isinstance(other, ScaledDecimal)
                and isinstance(self.type, ScaledDecimal)
                and other.scale == self.type.scale
            ):
                return op, self.type
            return super()._adapt_expression(op, other_comparator)

    comparator_factory = Comparator

    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale
        self._factor = Decimal(10) ** scale

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float | bool):
            raise TypeError(f"decimal columns take Decimal, int or str, not {value!r}")
        scaled = Decimal(value) * self._factor
        if scaled != scaled.to_integral_value():
            raise ValueError(f"{value} has more than {self.scale} decimal places")
        return int(scaled)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        # an integer scaled down is exact and already carries exactly ``scale`` places
        return Decimal(int(value)).scaleb(-self.scale)


def Money(scale: int = 2) -> ScaledDecimal:  # noqa: N802 - reads like a type in column specs
    """Dollars, to the cent unless a finer ``scale`` is asked for (unit prices)."""
    return ScaledDecimal(scale)


def Quantity(scale: int = 3) -> ScaledDecimal:  # noqa: N802
    """A dose, a volume or a unit count, to the thousandth by default."""
    return ScaledDecimal(scale)


class UTCDateTime(TypeDecorator[datetime]):
    """A timezone-aware timestamp stored in UTC; naive datetimes are refused."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"timestamps must be timezone-aware: {value!r}")
        utc = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return utc.replace(tzinfo=None)
        return utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    """The current time, timezone-aware, in UTC."""
    return datetime.now(UTC)


def enum_column(enum_cls: type[enum.Enum], **kwargs: Any) -> sa.Enum:
    """A string column holding an enum's *values* (portable, readable in SQL)."""
    return sa.Enum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        validate_strings=True,
        length=32,
        values_callable=lambda cls: [m.value for m in cls],
        **kwargs,
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Versioned:
    """A row that users on several workstations may change: every save takes the next ``version``.

    A save says which version it started from; if the row has moved on since, the save is
    refused and the user is told who changed it (:mod:`infusion_desk.services.concurrency`).
    """

    version: Mapped[int] = mapped_column(default=1, server_default="1")
