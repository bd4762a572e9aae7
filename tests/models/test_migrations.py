"""The migration chain builds exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from infusion_desk.models import Base
from infusion_desk.models.db import Database
from infusion_desk.models.migrate import (
    DatabaseTooNewError,
    alembic_config,
    backup_sqlite,
    current_revision,
    head_revision,
    upgrade,
)
from tests.conftest import fictional_patient


def test_migrating_an_empty_database_gives_the_models_schema(db_url: str) -> None:
    db = Database.open(db_url)
    try:
        result = upgrade(db)
        assert result.from_revision is None
        assert result.to_revision == head_revision()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, Base.metadata)
        assert differences == []
        # The app's tables are all there, nothing more than alembic's bookkeeping.
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set(Base.metadata.tables)
    finally:
        db.dispose()


def test_upgrading_twice_changes_nothing(db_url: str) -> None:
    db = Database.open(db_url)
    try:
        upgrade(db)
        again = upgrade(db)
        assert not again.changed
        assert again.backup is None
    finally:
        db.dispose()


def test_migration_chain_is_linear() -> None:
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1, "two migration heads: merge them"
    for revision in script.walk_revisions():
        down = revision.down_revision
        assert down is None or isinstance(down, str), f"{revision.revision} is a merge point"


def test_a_database_from_a_newer_version_is_refused_untouched(db_url: str) -> None:
    db = Database.open(db_url)
    try:
        upgrade(db)
        with db.engine.begin() as connection:
            connection.execute(sa.text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
        with pytest.raises(DatabaseTooNewError, match="newer version of Infusion Desk"):
            upgrade(db)
        assert current_revision(db.engine) == "ffffffffffff"
    finally:
        db.dispose()


def test_sqlite_backup_is_a_consistent_copy_with_the_data(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    db = Database.open(f"sqlite:///{path}")
    try:
        upgrade(db)
        with db.session() as session:  # committed, still in the write-ahead log
            session.add(fictional_patient())
        copy = backup_sqlite(path, "test")
        assert copy.exists() and copy != path
        with sqlite3.connect(copy) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            assert connection.execute("SELECT last_name FROM patient").fetchall() == [("Example",)]
    finally:
        db.dispose()


def test_head_constant_matches_the_migration_chain() -> None:
    from infusion_desk.migrations import HEAD

    assert HEAD == head_revision(), "set infusion_desk.migrations.HEAD to the newest revision"


def test_a_clinic_with_data_upgrades_through_table_rebuilds_on_sqlite(tmp_path: Path) -> None:
    """Regression: revision 0004 rebuilds ``payer`` (batch mode), which other tables refer to.

    With foreign keys enforced the rebuild's DROP TABLE failed on any clinic that had data,
    so a workstation could not open its database after updating the app.
    """
    from datetime import date

    from alembic import command

    from infusion_desk.services.demo import generate_demo

    path = tmp_path / "clinic.sqlite3"
    db = Database.open(f"sqlite:///{path}")
    try:
        upgrade(db)
        generate_demo(db, patients=5, months=1, seed=2, today=date(2026, 11, 20))
        config = alembic_config()
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
            with connection.begin():
                config.attributes["connection"] = connection
                command.downgrade(config, "0003")
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
            connection.commit()
        assert current_revision(db.engine) == "0003"
        result = upgrade(db)
        assert (result.from_revision, current_revision(db.engine)) == ("0003", head_revision())
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
            assert connection.exec_driver_sql("SELECT count(*) FROM insurance_policy").scalar() > 0
    finally:
        db.dispose()
