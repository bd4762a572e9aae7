"""The backup and restore commands of ``infusion-desk``.

    infusion-desk --user manager backup                        # into the clinic's backup folder
    infusion-desk --user manager backup --out /media/usb       # or another folder
    infusion-desk --user manager restore backups/clinic.manual-20261126T171500Z.sqlite3
    INFUSION_DESK_RECOVERY_CODE=… infusion-desk restore --yes FILE   # the database cannot be opened

``backup`` signs in (managers and administrators) and backs up while the app may be in use.
``restore`` checks the file first (its key, its integrity, a schema no newer than this app's),
signs in against the *current* database as a manager or administrator, asks for confirmation
(``--yes`` skips it), keeps a copy of the current database in the backup folder and puts the
backup in place. Close the app on every workstation first. When the current database cannot be
opened at all (missing, damaged, its key lost), the backup's recovery code stands in for the
sign-in: whoever holds it can read the backup anyway.

Wiring, in ``infusion_desk/cli.py``: ``cli_backup.add_parsers(commands)`` in ``build_parser``,
and ``**{name: _signed_in(handler) for name, handler in cli_backup.HANDLERS.items()}`` and
``**cli_backup.COMMANDS`` in ``COMMANDS`` (``restore`` opens the database itself).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor

EXIT_OK = 0

Handler = Callable[[argparse.Namespace, "Database", "Actor"], int]
Command = Callable[[argparse.Namespace, str], int]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = commands.add_parser("backup", help="back up the database now, while in use (managers; signs in)")
    backup.add_argument("--out", type=Path, metavar="DIR",
                        help="the folder to write to (default: the clinic's backup folder)")
    restore = commands.add_parser(
        "restore", help="replace the database with a backup, keeping a copy of it first (managers; signs in)"
    )
    restore.add_argument("file", type=Path, help="the backup file")
    restore.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    restore.add_argument(
        "--recovery-code", action="store_true",
        help="ask for the backup's recovery code (or set INFUSION_DESK_RECOVERY_CODE): for a backup made "
             "on another computer, or when the current database cannot be opened",
    )


def cmd_backup(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.backups import BackupService

    record = BackupService(db).backup_now(actor, args.out,
                                          progress=lambda message: print(message, file=sys.stderr))
    print(f"Backed up {db.display_name} to {record.path} ({record.size / 1_048_576:.1f} MB).")
    return EXIT_OK


def _recovery_code(args: argparse.Namespace) -> str | None:
    from infusion_desk.services.vault import RECOVERY_ENV

    code = os.environ.get(RECOVERY_ENV) or None
    if code is None and args.recovery_code:
        from infusion_desk.cli import EXIT_USAGE, CliError

        if not sys.stdin.isatty():
            raise CliError(f"No recovery code: set {RECOVERY_ENV} or run the command in a terminal.",
                           EXIT_USAGE)
        code = getpass.getpass("Recovery code of the backup: ").strip() or None
    return code


def _confirm(args: argparse.Namespace, question: str) -> None:
    from infusion_desk.cli import EXIT_USAGE, CliError

    if args.yes:
        return
    if not sys.stdin.isatty():
        raise CliError("A restore replaces the database: confirm it in a terminal, or pass --yes. "
                       "Nothing was restored.", EXIT_USAGE)
    if input(f"{question}\nType yes to go on: ").strip().lower() != "yes":
        raise CliError("Nothing was restored.")


def _open_current(url: str, code: str | None) -> tuple[Database | None, str]:
    """The current SQLite database, migrated, or ``None`` and why it cannot be opened."""
    import sqlalchemy as sa

    from infusion_desk.models import encryption
    from infusion_desk.models.db import normalise_url, sqlite_path
    from infusion_desk.models.migrate import DatabaseTooNewError, upgrade
    from infusion_desk.services import vault

    path = sqlite_path(normalise_url(url))
    assert path is not None
    if encryption.file_state(path) is encryption.FileState.MISSING:
        return None, f"there is no database at {path}"
    # "" : not the recovery code from the environment first, which may be the backup's, not this file's
    attempts = ["", code] if code else [""]
    reason = ""
    for attempt in attempts:
        try:
            db = vault.open_database(url, recovery_code=attempt).db
        except (vault.KeyNeeded, vault.WrongKey, vault.EncryptionFailed) as exc:
            reason = str(exc)
            continue
        except sa.exc.DatabaseError as exc:
            return None, f"{path.name} is damaged ({str(getattr(exc, 'orig', exc)).strip()})"
        try:
            upgrade(db)
        except (DatabaseTooNewError, sa.exc.DatabaseError) as exc:
            db.dispose()
            return None, str(exc).splitlines()[0]
        return db, ""
    return None, reason


def cmd_restore(args: argparse.Namespace, url: str) -> int:
    from infusion_desk.cli import EXIT_USAGE, CliError, _open, _sign_in
    from infusion_desk.models.db import normalise_url, sqlite_path
    from infusion_desk.services.access import Permission
    from infusion_desk.services.backups import BackupService, check_sqlite_backup, restore_sqlite
    from infusion_desk.services.vault import RECOVERY_ENV

    file: Path = args.file
    if not file.is_file():
        raise CliError(f"There is no file {file}; nothing was restored.", EXIT_USAGE)
    code = _recovery_code(args)
    parsed = normalise_url(url)
    path = sqlite_path(parsed)
    if path is None:  # PostgreSQL (or a memory database, which the service refuses)
        db = _open(url)
        try:
            actor = _sign_in(db, args.user)
            service = BackupService(db)
            revision = service.check(actor, file, recovery_code=code)
            _confirm(args, f"Replace every table of {db.display_name} with the backup {file.name} "
                           f"(schema {revision})? A backup of the database as it is now is made first.")
            result = service.restore(actor, file, recovery_code=code)
        finally:
            db.dispose()
    else:
        current, reason = _open_current(url, code)
        if current is not None:
            try:
                actor = _sign_in(current, args.user)
                actor.require(Permission.CLINIC_SETTINGS)
                service = BackupService(current)
                revision = service.check(actor, file, recovery_code=code)
                _confirm(args, f"Replace the database {path} with the backup {file.name} (schema "
                               f"{revision})? Close Infusion Desk on every workstation first; a copy of the "
                               "database as it is now is kept in the backup folder.")
                result = service.restore(actor, file, recovery_code=code)
            finally:
                current.dispose()
        else:
            if not code:
                raise CliError(
                    f"The current database cannot be opened ({reason}), so nobody can sign in to it. To "
                    f"restore anyway, give the backup's recovery code: set {RECOVERY_ENV} or pass "
                    "--recovery-code. Nothing was restored."
                )
            checked = check_sqlite_backup(file, recovery_code=code)
            _confirm(args, f"The current database cannot be opened ({reason}). Put the backup "
                           f"{file.name} (schema {checked.revision}) in its place? Its file is kept in the "
                           "backup folder.")
            result = restore_sqlite(path, file, recovery_code=code)
    print(f"Restored {file.name} (schema {result.from_revision}, now {result.to_revision}).")
    if result.kept_current is not None:
        print(f"The database as it was before is kept at {result.kept_current}.")
    if result.note:
        print(result.note, file=sys.stderr)
    return EXIT_OK


HANDLERS: dict[str, Handler] = {"backup": cmd_backup}
"""Commands run signed in (through cli.py's ``_signed_in``)."""

COMMANDS: dict[str, Command] = {"restore": cmd_restore}
"""Commands given the database URL: a restore opens (or cannot open) the current database itself."""
