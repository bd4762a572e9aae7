"""Encryption at rest: the key in the keyring, a passphrase where there is none, recovery, and old plain files.

Every test runs with an in-memory keyring (tests/conftest.py) or none at all; the files are real
SQLCipher files and are read back byte for byte to show that nothing is in clear.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import sqlalchemy as sa
from keyring.backend import KeyringBackend
from keyring.backends import fail

from infusion_desk.models import Patient, encryption
from infusion_desk.models.db import Database
from infusion_desk.models.encryption import DatabaseKey, FileState, KdfParameters, file_salt, file_state
from infusion_desk.models.migrate import backup_sqlite, upgrade
from infusion_desk.services import vault
from infusion_desk.services.app import Services
from infusion_desk.services.secrets import SERVICE_NAME
from infusion_desk.services.vault import KeyNeeded, WrongKey, keyring_entry, open_database
from tests.conftest import fictional_patient
from tests.memory_keyring import MemoryKeyring, installed

SURNAME = "Zzyxqorandel"  # a fictional name no SQLite page would hold by chance
PASSPHRASE = "purple kettle on the moon"


@pytest.fixture
def memory_keyring() -> Iterator[KeyringBackend]:
    yield from installed(MemoryKeyring())


@pytest.fixture
def no_keyring() -> Iterator[KeyringBackend]:
    yield from installed(fail.Keyring())


def _register(services: Services) -> None:
    with services.db.session() as session:
        session.add(fictional_patient(last_name=SURNAME))


def _surnames(db: Database) -> list[str]:
    with db.session() as session:
        return list(session.execute(sa.select(Patient.last_name)).scalars())


def _disk_bytes(path: Path) -> bytes:
    return b"".join(Path(f"{path}{s}").read_bytes() for s in ("", "-wal") if Path(f"{path}{s}").exists())


def test_a_new_database_is_encrypted_with_a_random_key_kept_in_the_keyring(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "clinic.sqlite3"
    services, _ = Services.open(f"sqlite:///{path}")
    try:
        _register(services)
        assert services.opened is not None and services.opened.key_source == "keyring"
    finally:
        services.close()

    assert file_state(path) is FileState.ENCRYPTED
    assert SURNAME.encode() not in _disk_bytes(path)
    with pytest.raises(sqlite3.DatabaseError):  # the stock sqlite3 module cannot read it
        sqlite3.connect(path).execute("SELECT count(*) FROM sqlite_master").fetchone()
    stored = memory_keyring.entries[(SERVICE_NAME, keyring_entry(file_salt(path)))]
    assert len(bytes.fromhex(stored)) == 32

    # moved to another folder (or restored from a backup), it still opens: the entry follows the salt
    moved = tmp_path / "elsewhere" / "moved.sqlite3"
    moved.parent.mkdir()
    path.rename(moved)
    opened = open_database(f"sqlite:///{moved}")
    try:
        assert _surnames(opened.db) == [SURNAME]
    finally:
        opened.db.dispose()


def test_without_a_keyring_a_passphrase_is_chosen_and_then_needed(tmp_path: Path, no_keyring: KeyringBackend) -> None:
    path = tmp_path / "clinic.sqlite3"
    url = f"sqlite:///{path}"

    with pytest.raises(KeyNeeded) as first:
        Services.open(url)
    assert first.value.first_run and "Choose a passphrase" in str(first.value)
    assert not path.exists()
    with pytest.raises(KeyNeeded) as short:
        Services.open(url, passphrase="too short")
    assert "at least 12 characters" in str(short.value)
    assert not path.exists()

    services, _ = Services.open(url, passphrase=PASSPHRASE)
    _register(services)
    services.close()
    assert SURNAME.encode() not in _disk_bytes(path)

    with pytest.raises(KeyNeeded) as again:
        Services.open(url)
    assert not again.value.first_run and "passphrase" in str(again.value)
    before = path.read_bytes()
    with pytest.raises(WrongKey) as wrong:
        Services.open(url, passphrase="purple kettle on the sun")
    assert "That passphrase does not open clinic.sqlite3" in str(wrong.value)
    assert path.read_bytes() == before  # a wrong passphrase writes nothing

    reopened, _ = Services.open(url, passphrase=PASSPHRASE)
    try:
        assert _surnames(reopened.db) == [SURNAME]
    finally:
        reopened.close()


def test_the_passphrase_comes_from_the_environment_for_headless_commands(
    tmp_path: Path, no_keyring: KeyringBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(vault.PASSPHRASE_ENV, PASSPHRASE)
    path = tmp_path / "clinic.sqlite3"
    opened = open_database(f"sqlite:///{path}")
    opened.db.dispose()
    assert opened.key_source == "passphrase"
    monkeypatch.setenv(vault.PASSPHRASE_ENV, "not the passphrase at all")
    with pytest.raises(WrongKey):
        open_database(f"sqlite:///{path}")


def test_the_recovery_code_opens_the_database_when_the_keyring_is_lost(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "clinic.sqlite3"
    services, _ = Services.open(f"sqlite:///{path}")
    _register(services)
    assert services.db.key is not None
    code = services.db.key.recovery_code()
    services.close()
    other = tmp_path / "other.sqlite3"
    open_database(f"sqlite:///{other}").db.dispose()
    other_code = DatabaseKey(
        bytes.fromhex(memory_keyring.entries[(SERVICE_NAME, keyring_entry(file_salt(other)))]), file_salt(other)
    ).recovery_code()

    memory_keyring.entries.clear()  # a new computer, or a reinstalled one
    with pytest.raises(KeyNeeded):
        open_database(f"sqlite:///{path}")
    with pytest.raises(WrongKey) as foreign:
        open_database(f"sqlite:///{path}", recovery_code=other_code)
    assert "belongs to another database" in str(foreign.value)
    with pytest.raises(WrongKey) as typo:
        open_database(f"sqlite:///{path}", recovery_code=code[:-3])
    assert "cannot be right" in str(typo.value)

    opened = open_database(f"sqlite:///{path}", recovery_code=code.lower())
    try:
        assert opened.key_source == "recovery code"
        assert _surnames(opened.db) == [SURNAME]
    finally:
        opened.db.dispose()


def test_a_plain_database_from_an_earlier_version_is_encrypted_once_with_an_encrypted_backup(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "clinic.sqlite3"
    plain = Services.for_database(Database.open(f"sqlite:///{path}"))
    upgrade(plain.db)
    _register(plain)
    plain.close()
    assert file_state(path) is FileState.PLAIN and SURNAME.encode() in _disk_bytes(path)

    services, _ = Services.open(f"sqlite:///{path}")
    try:
        assert services.opened is not None and services.opened.encrypted_now
        backup = services.opened.backup
        assert _surnames(services.db) == [SURNAME]
        assert services.db.key is not None
        key = services.db.key
    finally:
        services.close()
    assert file_state(path) is FileState.ENCRYPTED
    assert SURNAME.encode() not in _disk_bytes(path)
    assert backup is not None and backup.parent == tmp_path / "backups"
    assert file_state(backup) is FileState.ENCRYPTED and SURNAME.encode() not in backup.read_bytes()
    copy = encryption.connect(backup, key)
    try:
        assert copy.execute("SELECT last_name FROM patient").fetchall() == [(SURNAME,)]
    finally:
        copy.close()
    assert not (tmp_path / "clinic.sqlite3.encrypting").exists()

    again = open_database(f"sqlite:///{path}")  # the second start finds it encrypted: nothing more to do
    again.db.dispose()
    assert not again.encrypted_now and again.backup is None


def test_a_plain_database_stays_plain_when_no_key_can_be_kept(tmp_path: Path, no_keyring: KeyringBackend) -> None:
    path = tmp_path / "clinic.sqlite3"
    plain = Database.open(f"sqlite:///{path}")
    upgrade(plain)
    plain.dispose()
    before = path.read_bytes()
    with pytest.raises(KeyNeeded) as needed:
        open_database(f"sqlite:///{path}")
    assert "encrypt the existing database" in str(needed.value)
    assert path.read_bytes() == before and not (tmp_path / "backups").exists()


def test_the_backup_taken_before_a_schema_upgrade_is_encrypted_too(tmp_path: Path) -> None:
    path = tmp_path / "clinic.sqlite3"
    services, _ = Services.open(f"sqlite:///{path}")
    _register(services)
    key = services.db.key
    services.close()
    assert key is not None

    copy = backup_sqlite(path, "before-test", key)
    assert file_state(copy) is FileState.ENCRYPTED and SURNAME.encode() not in copy.read_bytes()
    opened = open_database(f"sqlite:///{copy}")  # same salt, so the same keyring entry opens it
    try:
        assert _surnames(opened.db) == [SURNAME]
    finally:
        opened.db.dispose()


def test_the_shipped_passphrase_derivation_is_argon2id_at_rfc_9106_costs() -> None:
    shipped = KdfParameters()
    assert (shipped.time_cost, shipped.memory_cost_kib, shipped.parallelism) == (3, 65536, 4)
    salt, other_salt = bytes(range(16)), bytes(range(1, 17))
    cheap = KdfParameters(1, 1024, 1)
    key = encryption.derive_key(PASSPHRASE, salt, cheap)
    assert key == encryption.derive_key(PASSPHRASE, salt, cheap)
    assert key.key != encryption.derive_key(PASSPHRASE, other_salt, cheap).key
    assert key.key != encryption.derive_key(PASSPHRASE + ".", salt, cheap).key
    assert PASSPHRASE not in repr(key) and key.key.hex() not in repr(key)


def test_a_postgresql_url_without_a_password_takes_it_from_the_keyring(memory_keyring: MemoryKeyring) -> None:
    url = "postgresql://clinic@db.example.invalid:5432/infusion?sslmode=verify-full&sslrootcert=/etc/ca.pem"
    vault.store_server_password(url, "fictional-server-pw")
    opened = open_database(url)  # no connection is made until the first query
    try:
        assert opened.db.url.password == "fictional-server-pw"
        assert opened.db.url.query == {"sslmode": "verify-full", "sslrootcert": "/etc/ca.pem"}
        assert "fictional-server-pw" not in opened.db.display_name
    finally:
        opened.db.dispose()
    assert keyring.get_password(SERVICE_NAME, "postgresql:clinic@db.example.invalid:5432/infusion")
