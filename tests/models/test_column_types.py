"""Money stays exact and timestamps stay in UTC on both database engines."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infusion_desk.models import ChargeMasterEntry, Drug, Patient, Visit
from infusion_desk.models.db import Database
from infusion_desk.models.enums import AdminClass
from infusion_desk.services.app import Services
from tests.conftest import fictional_patient


def _drug(price: Decimal) -> Drug:
    return Drug(
        name="testdrug",
        hcpcs="J9999",
        billing_unit_amount=Decimal("0.5"),
        billing_unit="mg",
        admin_class=AdminClass.THERAPEUTIC,
        unit_price=price,
    )


def test_money_round_trips_exactly(services: Services) -> None:
    db = services.db
    with db.session() as session:
        session.add(ChargeMasterEntry(code="96413", description="chemo", charge=Decimal("12345678.91")))
        session.add(_drug(Decimal("0.0037")))
    with db.session() as session:
        entry = session.execute(sa.select(ChargeMasterEntry)).scalar_one()
        drug = session.execute(sa.select(Drug)).scalar_one()
        assert entry.charge == Decimal("12345678.91")
        assert drug.unit_price == Decimal("0.0037")
        assert drug.billing_unit_amount == Decimal("0.5")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(cents=st.integers(min_value=-(10**12), max_value=10**12))
def test_any_amount_in_cents_survives_storage(sqlite_services: Services, cents: int) -> None:
    amount = Decimal(cents) / 100
    with sqlite_services.db.session() as session:
        session.execute(sa.delete(ChargeMasterEntry))
        session.add(ChargeMasterEntry(code="96365", description="x", charge=amount))
    with sqlite_services.db.session() as session:
        assert session.execute(sa.select(ChargeMasterEntry.charge)).scalar_one() == amount


def test_floats_and_hidden_rounding_are_refused(sqlite_services: Services) -> None:
    with pytest.raises(sa.exc.StatementError, match="not 0.1"), sqlite_services.db.session() as session:
        session.add(ChargeMasterEntry(code="96365", description="x", charge=0.1))  # type: ignore[arg-type]
        session.flush()
    with (
        pytest.raises(sa.exc.StatementError, match="more than 2 decimal places"),
        sqlite_services.db.session() as session,
    ):
        session.add(ChargeMasterEntry(code="96365", description="x", charge=Decimal("1.005")))
        session.flush()
    with sqlite_services.db.session() as session:
        assert session.execute(sa.select(sa.func.count(ChargeMasterEntry.id))).scalar_one() == 0


def test_timestamps_come_back_aware_in_utc(services: Services) -> None:
    db: Database = services.db
    chicago_morning = datetime(2026, 3, 2, 9, 2, tzinfo=timezone(timedelta(hours=-6)))
    with db.session() as session:
        patient = fictional_patient("DM1")
        session.add(patient)
        session.flush()
        session.add(
            Visit(patient_id=patient.id, date_of_service=date(2026, 3, 2), scheduled_start=chicago_morning)
        )
    with db.session() as session:
        stored = session.execute(sa.select(Visit.scheduled_start)).scalar_one()
    assert stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)
    assert stored == datetime(2026, 3, 2, 15, 2, tzinfo=UTC)


def test_naive_timestamps_are_refused(sqlite_services: Services) -> None:
    with (
        pytest.raises(sa.exc.StatementError, match="timezone-aware"),
        sqlite_services.db.session() as session,
    ):
        patient = fictional_patient("DM1")
        session.add(patient)
        session.flush()
        session.add(
            Visit(
                patient_id=patient.id,
                date_of_service=date(2026, 3, 2),
                scheduled_start=datetime(2026, 3, 2, 9, 0),  # noqa: DTZ001 - the point of the test
            )
        )
        session.flush()
    with sqlite_services.db.session() as session:
        assert session.execute(sa.select(sa.func.count(Patient.id))).scalar_one() == 0


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(sqlite_services: Services) -> None:
    with sqlite_services.db.engine.connect() as connection:
        assert connection.execute(sa.text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(sa.text("PRAGMA busy_timeout")).scalar() >= 5000
    with pytest.raises(sa.exc.IntegrityError), sqlite_services.db.session() as session:
        session.add(
            Visit(
                patient_id=999,
                date_of_service=date(2026, 3, 2),
                scheduled_start=datetime(2026, 3, 2, 15, tzinfo=UTC),
            )
        )


def test_sql_sums_and_differences_of_money_columns_read_back_as_dollars(db_url: str) -> None:
    """``sum(charge - paid)`` computed by the database must not come back as a count of cents."""
    from infusion_desk.models.base import Money

    metadata = sa.MetaData()
    table = sa.Table("amounts", metadata, sa.Column("a", Money()), sa.Column("b", Money()))
    db = Database.open(db_url)
    try:
        metadata.create_all(db.engine)
        with db.engine.begin() as connection:
            connection.execute(sa.insert(table), [{"a": Decimal("10.00"), "b": Decimal("5.01")}] * 2)
            total, each = connection.execute(
                sa.select(sa.func.sum(table.c.a - table.c.b), sa.func.max(table.c.a + table.c.b))
            ).one()
        assert (total, each) == (Decimal("9.98"), Decimal("15.01"))
    finally:
        db.dispose()
