"""Opening the clinic database with its key: the keyring, a passphrase or a recovery code.

Every way into the database (the GUI, the CLI, the schema upgrade, backups) goes through
:func:`open_database`. For a SQLite file it finds the key, opens the file through SQLCipher
and checks the key before anything is written:

* **A new file** gets a random 256-bit key kept in the operating system's keyring (Windows
  Credential Manager, macOS Keychain, GNOME Keyring/KWallet) under the service ``Infusion Desk``
  and an entry named after the file's salt (``database:<salt>``), so the file can be moved or
  restored from a backup and still be opened on this computer. Where there is no keyring, the user
  chooses a passphrase (at least 12 characters) and the key is derived from it and the file's
  salt with Argon2id; headless commands read it from ``INFUSION_DESK_PASSPHRASE``.
* **An encrypted file** is opened with the recovery code if one is given
  (``INFUSION_DESK_RECOVERY_CODE``), else the key in the keyring, else the passphrase. A wrong
  key or passphrase raises :class:`WrongKey` and nothing is written; no key at all raises
  :class:`KeyNeeded`, whose message says what to do.
* **A plain file** from an earlier version is encrypted once: an encrypted copy is written and
  checked table by table against the original, an encrypted backup of it is kept in the
  ``backups`` folder beside the database, and only then does it replace the plain file.

PostgreSQL URLs keep their TLS settings (``sslmode``, ``sslrootcert``… in the URL's query are
passed to the driver as they are); a URL without a password takes it from the keyring entry
``postgresql:<user>@<host>:<port>/<database>`` (see :func:`store_server_password`).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import keyring
import keyring.errors
import sqlalchemy as sa
from keyring.backends import fail
from sqlalchemy.engine import URL

from infusion_desk.models import encryption
from infusion_desk.models.db import SQLITE_BUSY_TIMEOUT_MS, Database, normalise_url, sqlite_path
from infusion_desk.models.encryption import DatabaseKey, FileState, KeyFormatError
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import ServiceError
from infusion_desk.services.secrets import SERVICE_NAME

PASSPHRASE_ENV = "INFUSION_DESK_PASSPHRASE"
RECOVERY_ENV = "INFUSION_DESK_RECOVERY_CODE"
MIN_PASSPHRASE = 12
BACKUP_FOLDER = "backups"

KeySource = Literal["keyring", "passphrase", "recovery code", "none"]


class KeyNeeded(ServiceError):
    """The database needs a passphrase (``first_run``: one to choose) and none was given."""

    def __init__(self, message: str, *, first_run: bool) -> None:
        super().__init__(message)
        self.first_run = first_run


class WrongKey(ServiceError):
    """The key, passphrase or recovery code does not open the file; nothing was written."""


class EncryptionFailed(ServiceError):
    """A plain file could not be encrypted; it was left as it was."""


@dataclass(frozen=True)
class Opened:
    """The open database and what opening it did."""

    db: Database
    key_source: KeySource
    encrypted_now: bool = False
    backup: Path | None = None


def keyring_entry(salt: bytes) -> str:
    """The keyring entry (its "username") holding the key of the file with ``salt``.

    >>> keyring_entry(bytes(16))
    'database:00000000000000000000000000000000'
    """
    return f"database:{salt.hex()}"


def keyring_usable() -> bool:
    """Whether this computer has a keyring backend that can keep a key (not the "fail" backend)."""
    return not isinstance(keyring.get_keyring(), fail.Keyring)


def _keyring_key(salt: bytes) -> DatabaseKey | None:
    if not keyring_usable():
        return None
    try:
        stored = keyring.get_password(SERVICE_NAME, keyring_entry(salt))
    except keyring.errors.KeyringError:
        return None
    if not stored:
        return None
    try:
        return DatabaseKey(bytes.fromhex(stored), salt)
    except (ValueError, KeyFormatError):
        return None


def _keep_in_keyring(key: DatabaseKey) -> bool:
    if not keyring_usable():
        return False
    try:
        keyring.set_password(SERVICE_NAME, keyring_entry(key.salt), key.key.hex())
    except keyring.errors.KeyringError:
        return False
    return True


def check_passphrase(passphrase: str) -> str | None:
    """What is wrong with a new passphrase, or ``None``.

    >>> check_passphrase("short")
    'Use a passphrase of at least 12 characters (this one has 5).'
    >>> check_passphrase("four rivers at dawn") is None
    True
    """
    if len(passphrase) < MIN_PASSPHRASE:
        return f"Use a passphrase of at least {MIN_PASSPHRASE} characters (this one has {len(passphrase)})."
    if not passphrase.strip():
        return "A passphrase of spaces only is no passphrase."
    return None


def _new_key(path: Path, passphrase: str | None, *, plain: bool) -> tuple[DatabaseKey, KeySource]:
    """The key for a file about to be created (or a plain file about to be encrypted)."""
    salt = encryption.new_salt()
    if passphrase is None:
        key = encryption.random_key(salt)
        if _keep_in_keyring(key):
            return key, "keyring"
        what = "encrypt the existing database" if plain else "protect the new database"
        raise KeyNeeded(
            f"This computer has no password store to keep the database key in. Choose a passphrase "
            f"(at least {MIN_PASSPHRASE} characters) to {what} {path.name}; headless commands read it "
            f"from {PASSPHRASE_ENV}. Keep it safe: without it the data cannot be opened.",
            first_run=True,
        )
    problem = check_passphrase(passphrase)
    if problem:
        raise KeyNeeded(problem, first_run=True)
    return encryption.derive_key(passphrase, salt), "passphrase"


def _existing_key(
    path: Path, passphrase: str | None, recovery_code: str | None
) -> tuple[DatabaseKey, KeySource]:
    salt = encryption.file_salt(path)
    if recovery_code:
        try:
            key = DatabaseKey.from_recovery_code(recovery_code)
        except KeyFormatError as exc:
            raise WrongKey(f"That recovery code cannot be right: {exc}.") from None
        if key.salt != salt:
            raise WrongKey(f"That recovery code belongs to another database, not {path.name}.")
        return key, "recovery code"
    stored = _keyring_key(salt)
    if stored is not None:
        return stored, "keyring"
    if passphrase:
        return encryption.derive_key(passphrase, salt), "passphrase"
    raise KeyNeeded(
        f"{path.name} is encrypted and its key is not in this computer's password store. Enter the "
        f"database passphrase (headless commands: set {PASSPHRASE_ENV}) or the recovery code "
        f"({RECOVERY_ENV}).",
        first_run=False,
    )


def _open_checked(url: URL, key: DatabaseKey, source: KeySource, busy_timeout_ms: int) -> Database:
    """Open with ``key`` and read the schema once: a wrong key fails here, before any write."""
    db = Database.open(url, key=key, busy_timeout_ms=busy_timeout_ms)
    try:
        with db.engine.connect() as connection:
            connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar_one()
    except sa.exc.DatabaseError as exc:
        db.dispose()
        text = str(getattr(exc, "orig", exc))
        if "not a database" not in text and "encrypted" not in text:
            raise
        path = sqlite_path(url)
        name = path.name if path else "the database"
        if source == "keyring":
            message = (f"The key kept on this computer does not open {name}. Enter the passphrase or the "
                       f"recovery code of this database.")
        else:
            message = f"That {source} does not open {name}. Check it and try again; nothing was changed."
        raise WrongKey(message) from None
    return db


def backup_folder(path: Path) -> Path:
    return path.parent / BACKUP_FOLDER


def _encrypt_plain(path: Path, key: DatabaseKey) -> Path:
    """Encrypt the plain file at ``path`` in place (via a checked copy); return the encrypted backup."""
    plain = sqlite3.connect(path)
    try:
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        if plain.execute("PRAGMA integrity_check").fetchone()[0] != "ok":
            raise EncryptionFailed(
                f"{path.name} is damaged (its integrity check failed), so it was not encrypted; it was left "
                "as it is. Restore a backup or ask for support."
            )
        expected = encryption.table_counts(plain)
    finally:
        plain.close()
    temporary = path.with_name(path.name + ".encrypting")
    encryption.remove_sqlite_file(temporary)
    encryption.encrypt_copy(path, temporary, key)
    try:
        copy = encryption.connect(temporary, key)
        try:
            ok = copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            found = encryption.table_counts(copy)
        finally:
            copy.close()
        if not ok or found != expected:
            raise EncryptionFailed(
                f"The encrypted copy of {path.name} did not match it table for table, so the plain file was "
                "kept as it is. Ask for support."
            )
        folder = backup_folder(path)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        backup = folder / f"{path.stem}.before-encryption-{stamp}{path.suffix or '.sqlite3'}"
        shutil.copyfile(temporary, backup)
        encryption.remove_sqlite_file(Path(f"{path}-wal"))
        encryption.remove_sqlite_file(Path(f"{path}-shm"))
        os.replace(temporary, path)
    except BaseException:
        encryption.remove_sqlite_file(temporary)
        raise
    return backup


def _server_entry(url: URL) -> str:
    return f"postgresql:{url.username or ''}@{url.host or ''}:{url.port or 5432}/{url.database or ''}"


def store_server_password(url: str | URL, password: str) -> None:
    """Keep the PostgreSQL password for ``url`` in the keyring (the URL then goes without it)."""
    parsed = normalise_url(url)
    keyring.set_password(SERVICE_NAME, _server_entry(parsed), password)


def _with_server_password(url: URL) -> URL:
    if url.password or not keyring_usable():
        return url
    try:
        password = keyring.get_password(SERVICE_NAME, _server_entry(url))
    except keyring.errors.KeyringError:
        return url
    return url.set(password=password) if password else url


def recovery_code(db: Database, actor: Actor) -> str:
    """The open database's key as a recovery code (administrators); showing it is audited."""
    actor.require(Permission.DATABASE_KEY)
    if db.key is None:
        raise ServiceError("This database is not an encrypted file, so it has no recovery code.")
    with db.session() as session:
        audit.record(session, actor, "recovery_code_shown", "database")
    return db.key.recovery_code()


def open_database(
    url: str | URL,
    *,
    passphrase: str | None = None,
    recovery_code: str | None = None,
    busy_timeout_ms: int = SQLITE_BUSY_TIMEOUT_MS,
) -> Opened:
    """Open the clinic database at ``url`` with its key (see the module's description).

    ``passphrase`` and ``recovery_code`` default to ``INFUSION_DESK_PASSPHRASE`` and
    ``INFUSION_DESK_RECOVERY_CODE``.
    """
    parsed = normalise_url(url)
    if passphrase is None:
        passphrase = os.environ.get(PASSPHRASE_ENV) or None
    if recovery_code is None:
        recovery_code = os.environ.get(RECOVERY_ENV) or None
    if parsed.get_backend_name() != "sqlite":
        return Opened(Database.open(_with_server_password(parsed), busy_timeout_ms=busy_timeout_ms), "none")
    path = sqlite_path(parsed)
    if path is None:  # a memory database lives and dies with the process: nothing to protect on disk
        return Opened(Database.open(parsed, busy_timeout_ms=busy_timeout_ms), "none")
    state = encryption.file_state(path)
    if state is FileState.ENCRYPTED:
        key, source = _existing_key(path, passphrase, recovery_code)
        return Opened(_open_checked(parsed, key, source, busy_timeout_ms), source)
    key, source = _new_key(path, passphrase, plain=state is FileState.PLAIN)
    if state is FileState.MISSING:
        encryption.remove_sqlite_file(path)  # an empty file left by an earlier failed start
        return Opened(_open_checked(parsed, key, source, busy_timeout_ms), source)
    backup = _encrypt_plain(path, key)
    return Opened(_open_checked(parsed, key, source, busy_timeout_ms), source, True, backup)
