"""Bringing a clinic database to the schema this version of the app expects.

At start-up the app calls :func:`upgrade`: an empty database gets the whole schema, an
older one is backed up (SQLite) and migrated, and a database written by a newer version
of the app is refused with :class:`DatabaseTooNewError` rather than damaged.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from infusion_desk.migrations import HEAD
from infusion_desk.models import encryption
from infusion_desk.models.db import Database, sqlite_path
from infusion_desk.models.encryption import DatabaseKey

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


class DatabaseTooNewError(RuntimeError):
    """The database was migrated by a newer Infusion Desk than this one."""


@dataclass(frozen=True)
class UpgradeResult:
    from_revision: str | None
    to_revision: str
    backup: Path | None

    @property
    def changed(self) -> bool:
        return self.from_revision != self.to_revision


def alembic_config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the migration chain is empty")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision stamped in the database, read without importing Alembic (start-up is faster)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(sa.text("SELECT version_num FROM alembic_version")).scalars().all()
    if len(versions) > 1:
        raise RuntimeError(f"the database has several schema heads: {versions}")
    return versions[0] if versions else None


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return {rev.revision for rev in script.walk_revisions()}


def backup_sqlite(path: Path, label: str, key: DatabaseKey | None = None) -> Path:
    """Copy a live SQLite database with the backup API (consistent even in WAL mode).

    The copy of an encrypted file is encrypted with the same key (and salt).
    """
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.stem}.{label}-{stamp}{path.suffix or '.sqlite3'}")
    source = sqlite3.connect(path) if key is None else encryption.connect(path, key)
    try:
        destination = sqlite3.connect(target) if key is None else encryption.connect(target, key)
        try:
            source.backup(destination)
        finally:
            destination.close()
    finally:
        source.close()
    return target


def upgrade(db: Database) -> UpgradeResult:
    """Migrate ``db`` to the newest schema, backing up an existing SQLite file first."""
    current = current_revision(db.engine)
    if current == HEAD:
        return UpgradeResult(current, HEAD, None)
    from alembic import command

    head = head_revision()
    if current is not None and current not in _known_revisions():
        raise DatabaseTooNewError(
            f"This database was last opened by a newer version of Infusion Desk "
            f"(schema {current}). Install that version or newer to open it; "
            f"nothing was changed."
        )
    backup = None
    path = sqlite_path(db.url)
    if current is not None and path is not None and path.exists():
        backup = backup_sqlite(path, f"before-{head[:8]}", db.key)
    config = alembic_config()
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as connection:
        if sqlite:
            # Batch mode rebuilds a SQLite table (copy, drop, rename); with foreign keys enforced
            # the drop fails as soon as another table refers to it. SQLite only honours this
            # pragma outside a transaction; the keys are checked before the migration commits.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                    if broken:
                        raise RuntimeError(
                            f"The schema upgrade would leave {len(broken)} broken reference(s), first in "
                            f"table {broken[0][0]}; nothing was changed."
                        )
        finally:
            if sqlite:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()
    return UpgradeResult(current, head, backup)
