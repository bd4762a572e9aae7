"""Opening the clinic database: engine, session factory and the unit-of-work helper.

    >>> db = Database.open("sqlite:///:memory:")   # doctest: +SKIP
    >>> with db.session() as session:              # doctest: +SKIP
    ...     session.add(...)                       # committed on exit, rolled back on error

No engine exists until :meth:`Database.open` is called. SQLite files get WAL,
foreign keys and a busy timeout; ``postgresql://`` URLs use psycopg 3.

Given a :class:`~infusion_desk.models.encryption.DatabaseKey`, a SQLite file is opened through
SQLCipher and every connection is keyed before anything else runs. The application opens its
database through :func:`infusion_desk.services.vault.open_database`, which finds the key;
opening without one is for plain files (tests of the encryption itself, benchmarks' baselines).
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from infusion_desk.config import DATABASE_URL_ENV
from infusion_desk.models.encryption import DatabaseKey, apply_key, dbapi
from infusion_desk.models.errors import DatabaseUnavailable

__all__ = [
    "DATABASE_URL_ENV",
    "Database",
    "DatabaseUnavailable",
    "create_engine",
    "normalise_url",
    "sqlite_path",
]


SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_CACHE_KIB = 64 * 1024


def normalise_url(url: str | URL) -> URL:
    """Accept the URLs users type (``postgresql://...``, a bare file path) and pick our drivers."""
    if isinstance(url, str) and "://" not in url:
        url = f"sqlite:///{Path(url).expanduser().resolve()}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def sqlite_path(url: URL) -> Path | None:
    """The file behind a SQLite URL, or ``None`` for memory or other databases."""
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def _sqlite_configurer(busy_timeout_ms: int, key: DatabaseKey | None = None) -> Any:
    def configure(dbapi_connection: Any, record: Any) -> None:
        if key is not None:
            apply_key(dbapi_connection, key)
        _configure_sqlite(dbapi_connection, record, busy_timeout_ms)

    return configure


def _configure_sqlite(
    dbapi_connection: Any, _record: Any, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS
) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    # 64 MiB of pages kept per connection (allocated only as pages are read): an encrypted page
    # is decrypted and its HMAC checked each time it is read from the file, so keeping the
    # patient search's index pages in memory is what holds its cost near a plain file's
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cursor.close()


_SHORT_JSON = 64
_SCALARS = (str, int, float, bool, type(None))


@functools.lru_cache(maxsize=4096)
def _flat_list(text: str) -> tuple[Any, ...] | None:
    value = json.loads(text)
    if isinstance(value, list) and all(isinstance(item, _SCALARS) for item in value):
        return tuple(value)
    return None


def json_loads(text: str) -> Any:
    """``json.loads``, with short flat lists (modifiers, diagnosis pointers) decoded once per process.

    Bulk reads decode the same few values (``[]``, ``["JW"]``, ``[1, 2]``) hundreds of
    thousands of times; each caller still gets its own list, so changing one never changes
    another row's value.
    """
    if len(text) <= _SHORT_JSON:
        flat = _flat_list(text)
        if flat is not None:
            return list(flat)
    return json.loads(text)


def create_engine(
    url: str | URL, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, key: DatabaseKey | None = None
) -> Engine:
    """An engine for ``url``; with ``key``, a SQLite file is opened through SQLCipher with that key."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = sqlite_path(parsed)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        extra: dict[str, Any] = {"module": dbapi()} if key is not None else {}
        engine = sa.create_engine(
            parsed,
            connect_args={"timeout": busy_timeout_ms / 1000},
            json_deserializer=json_loads,
            hide_parameters=True,
            **extra,
        )
        event.listen(engine, "connect", _sqlite_configurer(busy_timeout_ms, key))
        return engine
    return sa.create_engine(parsed, pool_pre_ping=True, json_deserializer=json_loads, hide_parameters=True)


@dataclass
class Database:
    """An open clinic database: the engine and a session factory bound to it."""

    url: URL
    engine: Engine
    session_factory: sessionmaker[Session]
    key: DatabaseKey | None = None

    @classmethod
    def open(
        cls, url: str | URL, *, busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS, key: DatabaseKey | None = None
    ) -> Database:
        engine = create_engine(url, busy_timeout_ms=busy_timeout_ms, key=key)
        factory = sessionmaker(engine, expire_on_commit=False)
        return cls(url=engine.url, engine=engine, session_factory=factory, key=key)

    @property
    def encrypted(self) -> bool:
        return self.key is not None

    @property
    def is_sqlite(self) -> bool:
        return self.url.get_backend_name() == "sqlite"

    @property
    def display_name(self) -> str:
        """How the status bar names this database (never with a password)."""
        path = sqlite_path(self.url)
        if path is not None:
            return str(path)
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One unit of work: committed when the block ends, rolled back if it raises."""
        session = self.session_factory()
        try:
            yield session
            session.commit()
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            session.rollback()
            raise DatabaseUnavailable(_describe_fault(exc)) from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def read(self) -> Iterator[sa.Connection]:
        """A connection for a read-only query (no session, nothing to commit)."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
            raise DatabaseUnavailable(_describe_fault(exc)) from exc

    def dispose(self) -> None:
        self.engine.dispose()


def _describe_fault(exc: Exception) -> str:
    text = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else type(exc).__name__
    if "locked" in text or "busy" in text:
        return "The database is busy (another workstation is saving). Try again in a moment."
    if "disk" in text or "full" in text:
        return "The disk holding the database is full or failing; nothing was saved."
    return f"The database could not be reached: {text}"


def url_from_environment(default: str | None = None) -> str | None:
    return os.environ.get(DATABASE_URL_ENV) or default
