"""Opening databases: URLs users type, and faults that are the machine's rather than the user's."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk.models import ChargeMasterEntry
from infusion_desk.models.db import Database, DatabaseUnavailable, normalise_url
from infusion_desk.models.migrate import upgrade


def test_urls_people_type_get_our_drivers(tmp_path: Path) -> None:
    assert normalise_url("postgresql://clinic@server/db").drivername == "postgresql+psycopg"
    plain = normalise_url(str(tmp_path / "clinic.sqlite3"))
    assert plain.drivername == "sqlite" and plain.database == str(tmp_path / "clinic.sqlite3")


def test_a_locked_database_is_an_environment_fault_and_saves_nothing(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = Database.open(f"sqlite:///{path}", busy_timeout_ms=100)
    upgrade(db)
    other = sqlite3.connect(path, timeout=0.1)
    try:
        other.execute("BEGIN EXCLUSIVE")  # another workstation is in the middle of a save
        with pytest.raises(DatabaseUnavailable, match="busy"), db.session() as session:
            session.add(ChargeMasterEntry(code="96365", description="x", charge=1))
        other.rollback()
    finally:
        other.close()
    with db.session() as session:
        assert session.execute(sa.select(sa.func.count(ChargeMasterEntry.id))).scalar_one() == 0
    db.dispose()


def test_an_unreachable_server_is_an_environment_fault() -> None:
    db = Database.open("postgresql://nobody@/clinic?host=/nonexistent-socket-dir")
    with pytest.raises(DatabaseUnavailable, match="could not be reached"), db.session() as session:
        session.execute(sa.text("SELECT 1"))
    db.dispose()


def test_json_values_read_back_are_each_rows_own_even_when_decoded_once(db_url: str) -> None:
    from infusion_desk.models.db import json_loads

    first, second = json_loads('["JW"]'), json_loads('["JW"]')
    first.append("59")
    assert second == ["JW"] and json_loads('["JW"]') == ["JW"]  # no row sees another's change
    assert json_loads('[{"code": "E"}]') == [{"code": "E"}]  # nested values decode normally
    assert json_loads('{"a": [1, 2]}') == {"a": [1, 2]}

    db = Database.open(db_url)
    try:
        upgrade(db)
        table = sa.table("t", sa.column("v", sa.JSON))
        with db.engine.begin() as connection:
            connection.execute(sa.text("CREATE TABLE t (v JSON)"))
            connection.execute(sa.insert(table), [{"v": ["JW"]}, {"v": ["JW"]}, {"v": [1, 2]}])
            rows = [r.v for r in connection.execute(sa.select(table.c.v))]
        rows[0].append("59")
        assert rows == [["JW", "59"], ["JW"], [1, 2]]
    finally:
        db.dispose()
