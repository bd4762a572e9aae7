"""Encryption at rest for the SQLite file: SQLCipher keys, the file's salt, and encrypting a plain file.

The clinic's SQLite database is a SQLCipher file: every page is encrypted with AES-256 and
authenticated with an HMAC. Its first 16 bytes are the file's random *salt*, stored in clear,
so the salt of a file can be read without its key.

A :class:`DatabaseKey` is 32 random bytes plus that salt. It reaches SQLCipher as a *raw key*
(``PRAGMA key = "x'…'"``), so SQLCipher runs no key derivation of its own on each connection.
Where the key comes from (the operating system's keyring, or a passphrase run through Argon2id
with the file's salt) is decided in :mod:`infusion_desk.services.vault`; this module only knows
bytes and files.

    >>> key = DatabaseKey(bytes(range(32)), bytes(range(16)))
    >>> key.pragma()[3:13], len(key.pragma())
    ('0001020304', 101)
    >>> DatabaseKey.from_recovery_code(key.recovery_code()) == key
    True
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from argon2.low_level import Type, hash_secret_raw

KEY_BYTES = 32
SALT_BYTES = 16
PLAIN_HEADER = b"SQLite format 3\x00"


@dataclass(frozen=True)
class KdfParameters:
    """Argon2id costs for turning a passphrase into a key (RFC 9106's second recommended option)."""

    time_cost: int = 3
    memory_cost_kib: int = 64 * 1024
    parallelism: int = 4


KDF = KdfParameters()
"""The costs used; a test may lower them, as the password hasher's are lowered."""


class FileState(StrEnum):
    MISSING = "missing"
    PLAIN = "plain"
    ENCRYPTED = "encrypted"


class KeyFormatError(ValueError):
    """A recovery code that is not one (wrong length or not hexadecimal)."""


@dataclass(frozen=True)
class DatabaseKey:
    """The raw key of one database file and that file's salt."""

    key: bytes
    salt: bytes

    def __post_init__(self) -> None:
        if len(self.key) != KEY_BYTES or len(self.salt) != SALT_BYTES:
            raise KeyFormatError(f"a database key is {KEY_BYTES} bytes and a salt {SALT_BYTES} bytes")

    def __repr__(self) -> str:  # never print the key itself
        return f"DatabaseKey(salt={self.salt.hex()})"

    def pragma(self) -> str:
        """The value of ``PRAGMA key``: the raw key and the salt, so a new file takes this salt."""
        return f"\"x'{self.key.hex()}{self.salt.hex()}'\""

    def recovery_code(self) -> str:
        """The key and salt as hexadecimal in groups of eight, to print and keep somewhere safe."""
        text = (self.key + self.salt).hex().upper()
        return "-".join(text[i:i + 8] for i in range(0, len(text), 8))

    @classmethod
    def from_recovery_code(cls, code: str) -> DatabaseKey:
        text = "".join(code.split()).replace("-", "")
        try:
            raw = bytes.fromhex(text)
        except ValueError:
            raise KeyFormatError("a recovery code has only the digits 0-9 and the letters A-F") from None
        if len(raw) != KEY_BYTES + SALT_BYTES:
            raise KeyFormatError(
                f"a recovery code has {2 * (KEY_BYTES + SALT_BYTES)} digits and letters; "
                f"this one has {len(text)}"
            )
        return cls(raw[:KEY_BYTES], raw[KEY_BYTES:])


def new_salt() -> bytes:
    return secrets.token_bytes(SALT_BYTES)


def random_key(salt: bytes | None = None) -> DatabaseKey:
    """A new random key (for a new file, or a file being encrypted)."""
    return DatabaseKey(secrets.token_bytes(KEY_BYTES), salt or new_salt())


def derive_key(passphrase: str, salt: bytes, kdf: KdfParameters | None = None) -> DatabaseKey:
    """The key a passphrase gives for the file with ``salt`` (Argon2id)."""
    costs = kdf or KDF
    raw = hash_secret_raw(
        passphrase.encode("utf-8"), salt, time_cost=costs.time_cost, memory_cost=costs.memory_cost_kib,
        parallelism=costs.parallelism, hash_len=KEY_BYTES, type=Type.ID,
    )
    return DatabaseKey(raw, salt)


def file_state(path: Path) -> FileState:
    """Whether ``path`` is missing (or empty), a plain SQLite file, or something else (encrypted)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(PLAIN_HEADER))
    except FileNotFoundError:
        return FileState.MISSING
    if not header:
        return FileState.MISSING
    return FileState.PLAIN if header == PLAIN_HEADER else FileState.ENCRYPTED


def file_salt(path: Path) -> bytes:
    """The salt at the start of an encrypted file."""
    with path.open("rb") as handle:
        salt = handle.read(SALT_BYTES)
    if len(salt) != SALT_BYTES:
        raise OSError(f"{path} is too short to be a database")
    return salt


def dbapi() -> Any:
    """The SQLCipher build of the sqlite3 module (the ``sqlcipher3-binary`` wheel)."""
    import sqlcipher3

    return sqlcipher3.dbapi2


def apply_key(dbapi_connection: Any, key: DatabaseKey) -> None:
    """Key a fresh SQLCipher connection: the first statement it runs."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA cipher_log_level = NONE")
    cursor.execute(f"PRAGMA key = {key.pragma()}")
    cursor.close()


def connect(path: Path, key: DatabaseKey) -> Any:
    """A bare SQLCipher connection to ``path`` (for backups and checks, outside SQLAlchemy)."""
    connection = dbapi().connect(str(path))
    apply_key(connection, key)
    return connection


def encrypt_copy(plain: Path, target: Path, key: DatabaseKey) -> None:
    """Write an encrypted copy of the plain SQLite file ``plain`` to ``target`` (which must not exist).

    ``sqlcipher_export`` copies the schema and every row; the schema version
    (``user_version``) is copied after it.
    """
    if target.exists():
        raise FileExistsError(target)
    connection = dbapi().connect(str(plain))
    try:
        connection.execute("PRAGMA cipher_log_level = NONE")
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        connection.execute(f"ATTACH DATABASE ? AS encrypted KEY {key.pragma()}", (str(target),))
        connection.execute("SELECT sqlcipher_export('encrypted')")
        connection.execute(f"PRAGMA encrypted.user_version = {int(version)}")
        connection.commit()
        connection.execute("DETACH DATABASE encrypted")
    finally:
        connection.close()


def table_counts(connection: Any) -> dict[str, int]:
    """Rows per table of an open DB-API connection (to compare a copy with its original)."""
    names = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
    )]
    return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}


def remove_sqlite_file(path: Path) -> None:
    """Remove a SQLite file and its WAL and shared-memory files."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        try:
            os.remove(f"{path}{suffix}")
        except FileNotFoundError:
            pass
