"""The ``infusion-desk`` command: the GUI with no arguments, headless use cases otherwise.

    infusion-desk                                  # open the app (the setup wizard on first start)
    infusion-desk --version
    infusion-desk demo --patients 200 --months 6 --seed 1
    infusion-desk db upgrade
    infusion-desk --user biller patients find "smith"
    infusion-desk --user frontdesk eligibility export-270 --days 3 --out inquiries.270
    infusion-desk --user frontdesk eligibility import-271 answers/*.271
    infusion-desk --user frontdesk worklists --format json
    infusion-desk --user biller claims build
    infusion-desk --user biller batch export --clearinghouse NAME --out DIR
    infusion-desk --user biller ack import FILE...
    infusion-desk --user biller claims print CLAIM --out claim.pdf

Every command takes ``--database-url`` (or ``INFUSION_DESK_DATABASE_URL``). Commands that
touch clinic data sign in as ``--user`` (or ``INFUSION_DESK_USER``) with the password from
``INFUSION_DESK_PASSWORD`` or a prompt, and go through the same services and role checks
as the GUI.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from platformdirs import user_data_dir

from infusion_desk import (
    __version__,
    cli_appeals,
    cli_audit,
    cli_backup,
    cli_claims,
    cli_contracts,
    cli_reports,
    cli_statements,
)
from infusion_desk.config import DATABASE_URL_ENV
from infusion_desk.services.errors import AuthenticationFailed, ServiceError, ValidationFailed

if TYPE_CHECKING:
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

USER_ENV = "INFUSION_DESK_USER"
PASSWORD_ENV = "INFUSION_DESK_PASSWORD"
DEMO_PATIENTS = 200
DEMO_MONTHS = 6

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2


class CliError(Exception):
    """A failure to report as one line on standard error."""

    def __init__(self, message: str, code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = code


def default_database_path() -> Path:
    """Where a workstation keeps its clinic database when no URL is given."""
    return Path(user_data_dir("InfusionDesk", "InfusionDesk")) / "clinic.sqlite3"


def chosen_database_url(explicit: str | None) -> str | None:
    """The database this computer was told to use, or ``None`` when nothing was chosen yet.

    ``--database-url`` wins, then ``INFUSION_DESK_DATABASE_URL``, then the first-run wizard's choice.
    """
    from infusion_desk.services.local_config import load_local_config

    return explicit or os.environ.get(DATABASE_URL_ENV) or load_local_config().database_url


def resolve_database_url(explicit: str | None) -> str:
    return chosen_database_url(explicit) or f"sqlite:///{default_database_path()}"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="infusion-desk",
        description="Infusion Desk: the revenue cycle of an infusion clinic. "
        "With no command, opens the application window.",
    )
    parser.add_argument("--version", action="version", version=f"infusion-desk {__version__}")
    parser.add_argument(
        "--self-test", action="store_true",
        help="run the app end to end on a temporary encrypted clinic and print one line per step",
    )
    parser.add_argument(
        "--database-url",
        help=f"database to open (default: ${DATABASE_URL_ENV}, else a SQLite file in the user data folder)",
    )
    parser.add_argument("--user", help=f"sign in as this user (default: ${USER_ENV})")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    demo = commands.add_parser("demo", help="write a fictional demo clinic into an empty database")
    demo.add_argument("--patients", type=int, default=DEMO_PATIENTS)
    demo.add_argument("--months", type=int, default=DEMO_MONTHS)
    demo.add_argument("--seed", type=int, default=1)
    demo.add_argument("--today", type=date.fromisoformat, help="pretend today is this date (YYYY-MM-DD)")

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    db_commands.add_parser("upgrade", help="bring the database schema up to date (backs up SQLite first)")
    db_commands.add_parser("status", help="show the schema revision of the database and of this app")
    recovery = db_commands.add_parser(
        "recovery-code",
        help="print the database's recovery code, to keep somewhere safe (administrators; signs in)",
    )
    recovery.add_argument("--user", help=f"user name (or set {USER_ENV})")

    code = commands.add_parser(
        "code",
        help="code a visit given as JSON (no sign-in; the shipped catalog unless --database-url is given)",
    )
    code.add_argument("file", help="the visit as JSON, or - for standard input")

    patients = commands.add_parser("patients", help="find patients (signs in)")
    patient_commands = patients.add_subparsers(dest="patients_command", metavar="ACTION", required=True)
    find = patient_commands.add_parser("find", help="search by name, MRN or date of birth")
    find.add_argument("query")
    find.add_argument("--json", action="store_true", help="print JSON instead of a table")

    eligibility = commands.add_parser("eligibility", help="270 inquiries out, 271 answers in (signs in)")
    eligibility_commands = eligibility.add_subparsers(
        dest="eligibility_command", metavar="ACTION", required=True
    )
    export = eligibility_commands.add_parser(
        "export-270", help="write a 270 batch for the visits from today through --days ahead"
    )
    export.add_argument("--days", type=int, default=3, help="days ahead to ask about (default 3)")
    export.add_argument("--out", required=True, type=Path, help="the 270 file to write")
    export.add_argument("--today", type=date.fromisoformat, help="pretend today is this date (YYYY-MM-DD)")
    answers = eligibility_commands.add_parser("import-271", help="record the clearinghouse's 271 answers")
    answers.add_argument("files", nargs="+", type=Path, help="271 files")

    worklists = commands.add_parser("worklists", help="the front desk's four work queues (signs in)")
    worklists.add_argument("--format", choices=("text", "json"), default="text")
    worklists.add_argument("--days", type=int, default=7, help="days ahead to look (default 7)")
    worklists.add_argument("--today", type=date.fromisoformat, help="pretend today is this date (YYYY-MM-DD)")
    cli_claims.add_parsers(commands)
    cli_appeals.add_parsers(commands)
    cli_contracts.add_parsers(commands)
    cli_statements.add_parsers(commands)
    cli_reports.add_parsers(commands)
    cli_audit.add_parsers(commands)
    cli_backup.add_parsers(commands)
    return parser


def _unlock(url: str) -> Database:
    """The database at ``url`` opened with its key (keyring, INFUSION_DESK_PASSPHRASE or recovery code)."""
    from infusion_desk.services import vault

    try:
        opened = vault.open_database(url)
    except (vault.KeyNeeded, vault.WrongKey, vault.EncryptionFailed) as exc:
        raise CliError(str(exc)) from exc
    if opened.encrypted_now:
        print(
            f"Encrypted the database {opened.db.display_name}; an encrypted backup was kept at "
            f"{opened.backup}.",
            file=sys.stderr,
        )
    return opened.db


def _open(url: str, *, migrate: bool = True) -> Database:
    from infusion_desk.models.migrate import DatabaseTooNewError, upgrade

    db = _unlock(url)
    if migrate:
        try:
            result = upgrade(db)
        except DatabaseTooNewError as exc:
            db.dispose()
            raise CliError(str(exc)) from exc
        if result.backup is not None:
            print(f"Backed up the database to {result.backup} before upgrading it.", file=sys.stderr)
    return db


def _sign_in(db: Database, username: str | None) -> Actor:
    from infusion_desk.services.auth import AuthService

    name = username or os.environ.get(USER_ENV)
    if not name:
        raise CliError(f"This command needs a user: pass --user NAME or set {USER_ENV}.", EXIT_USAGE)
    password = os.environ.get(PASSWORD_ENV)
    if password is None:
        if not sys.stdin.isatty():
            raise CliError(f"No password: set {PASSWORD_ENV} or run the command in a terminal.", EXIT_USAGE)
        password = getpass.getpass(f"Password for {name}: ")
    try:
        return AuthService(db).sign_in(name, password)
    except AuthenticationFailed as exc:
        raise CliError(str(exc)) from exc


def cmd_demo(args: argparse.Namespace, url: str) -> int:
    from infusion_desk.services.demo import DemoExistsError, generate_demo

    db = _open(url)
    try:
        summary = generate_demo(
            db,
            patients=args.patients,
            months=args.months,
            seed=args.seed,
            today=args.today,
            progress=lambda message: print(f"demo: {message}", file=sys.stderr),
        )
    except DemoExistsError as exc:
        raise CliError(str(exc)) from exc
    except ValueError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    finally:
        db.dispose()
    print(
        f"Demo clinic written to {db.display_name}: {summary.patients} patients, "
        f"{summary.policies} policies, {summary.orders} orders, {summary.authorizations} "
        f"authorizations, {summary.visits} visits, {summary.administrations} administrations.\n"
        "Sign in as frontdesk, nurse, biller, manager or admin with the password 'demo'."
    )
    return EXIT_OK


def cmd_db(args: argparse.Namespace, url: str) -> int:
    from infusion_desk.models.migrate import DatabaseTooNewError, current_revision, head_revision, upgrade

    if args.db_command == "status":
        db = _open(url, migrate=False)
        try:
            current = current_revision(db.engine)
        finally:
            db.dispose()
        head = head_revision()
        state = "up to date" if current == head else ("empty" if current is None else "needs upgrade")
        print(f"database: {db.display_name}\nschema: {current or '-'}\napp schema: {head}\nstate: {state}")
        if db.is_sqlite:
            print(f"encryption: {'SQLCipher (AES-256)' if db.encrypted else 'none'}")
        return EXIT_OK
    if args.db_command == "recovery-code":
        from infusion_desk.services.vault import recovery_code

        db = _open(url)
        try:
            code = recovery_code(db, _sign_in(db, args.user))
        finally:
            db.dispose()
        print(code)
        print(
            "Keep this code on paper in a safe place. With it (INFUSION_DESK_RECOVERY_CODE) the database "
            "and its backups open on any computer; anyone holding it can read them.",
            file=sys.stderr,
        )
        return EXIT_OK
    db = _unlock(url)
    try:
        result = upgrade(db)
    except DatabaseTooNewError as exc:
        raise CliError(str(exc)) from exc
    finally:
        db.dispose()
    if not result.changed:
        print(f"{db.display_name} is already at schema {result.to_revision}.")
    else:
        print(f"Upgraded {db.display_name} from {result.from_revision or 'empty'} to {result.to_revision}.")
        if result.backup is not None:
            print(f"Backup of the previous database: {result.backup}")
    return EXIT_OK


def cmd_patients(args: argparse.Namespace, url: str) -> int:
    from infusion_desk.services.patients import PatientService

    db = _open(url)
    try:
        actor = _sign_in(db, args.user)
        rows = PatientService(db).search(actor, args.query)
    finally:
        db.dispose()
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "id": r.id,
                        "mrn": r.mrn,
                        "last_name": r.last_name,
                        "first_name": r.first_name,
                        "birth_date": r.birth_date.isoformat(),
                        "sex": r.sex,
                    }
                    for r in rows
                ],
                indent=2,
            )
        )
    else:
        for r in rows:
            print(f"{r.mrn:<12} {r.display_name:<36} {r.birth_date:%m/%d/%Y}  {r.sex}")
        print(f"{len(rows)} patient(s)", file=sys.stderr)
    return EXIT_OK


def cmd_eligibility(args: argparse.Namespace, url: str) -> int:
    """Export a 270 batch, or import 271 files one by one (a bad file is reported, the others go on)."""
    from infusion_desk.services.eligibility import EligibilityService

    db = _open(url)
    try:
        actor = _sign_in(db, args.user)
        service = EligibilityService(db)
        if args.eligibility_command == "export-270":
            result = service.export_270(actor, days=args.days, today=args.today)
            for skipped in result.skipped:
                print(f"skipped: {skipped.line}", file=sys.stderr)
            span = f"{result.first_day:%m/%d/%Y} through {result.last_day:%m/%d/%Y}"
            if not result.text:
                print(f"Nothing to send for {span}: no visit with insurance that can be asked about.")
                return EXIT_OK
            try:
                partial = args.out.with_name(args.out.name + ".part")
                partial.write_text(result.text, encoding="ascii")
                partial.replace(args.out)
            except OSError as exc:
                raise CliError(f"cannot write {args.out}: {exc.strerror}") from exc
            print(
                f"Wrote {result.inquiries} inquiries for {result.patients} patient(s) and {result.payers} "
                f"payer(s), visits {span}, to {args.out} "
                f"(interchange {result.interchange_control_number:09d})."
            )
            return EXIT_OK
        status = EXIT_OK
        for path in args.files:
            try:
                text = path.read_text(encoding="utf-8-sig", errors="replace")
            except OSError as exc:
                print(f"infusion-desk: cannot read {path}: {exc.strerror}", file=sys.stderr)
                status = EXIT_ERROR
                continue
            try:
                imported = service.import_271(actor, text, path.name)
            except ValidationFailed as exc:
                for finding in exc.findings:
                    print(f"infusion-desk: {finding.message}", file=sys.stderr)
                status = EXIT_ERROR
                continue
            print(imported.summary)
            for answer in imported.recorded:
                print(f"  recorded: {answer.line}")
            for message in (*imported.unmatched, *imported.rejected):
                print(f"  not recorded: {message}", file=sys.stderr)
        return status
    finally:
        db.dispose()


def cmd_worklists(args: argparse.Namespace, url: str) -> int:
    """Print the four front-desk queues, as a report or as JSON for automation."""
    from infusion_desk.services.worklists import QUEUE_TITLES, Queue, WorklistService

    db = _open(url)
    try:
        actor = _sign_in(db, args.user)
        queues = WorklistService(db).queues(actor, args.today, days=args.days)
    finally:
        db.dispose()
    if args.format == "json":
        print(json.dumps(queues.to_json(), indent=2))
        return EXIT_OK
    for queue in Queue:
        items = queues.queue(queue)
        print(f"{QUEUE_TITLES[queue]}: {len(items)}")
        for item in items:
            due = f"{item.due:%m/%d/%Y}" if item.due else "          "
            print(f"  {due}  {item.mrn:<10} {item.patient_name:<28} {item.about}")
            print(f"              {item.problem}")
    return EXIT_OK


def cmd_code(args: argparse.Namespace, url: str | None) -> int:
    """Print the coded lines of a visit as JSON; malformed input exits 2 naming the field."""
    from infusion_desk.billing.coding import CodingInputError, code_json

    source = "standard input" if args.file == "-" else args.file
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}", EXIT_USAGE) from exc
    except UnicodeDecodeError as exc:
        raise CliError(
            f"{source} is not UTF-8 text (byte {exc.start + 1} is 0x{exc.object[exc.start]:02x}): "
            "save the visit as UTF-8 JSON",
            EXIT_USAGE,
        ) from exc
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{args.file} is not JSON: {exc.msg} at line {exc.lineno}", EXIT_USAGE) from exc
    except ValueError as exc:  # an integer past the 4,300 digits int() reads
        raise CliError(
            f"{source} holds a number of more than 4,300 digits: no visit field takes one; check the file",
            EXIT_USAGE,
        ) from exc
    except RecursionError as exc:
        raise CliError(f"{source} nests arrays or objects too deeply to read", EXIT_USAGE) from exc
    catalog = None
    payer_settings = None
    if url is not None:
        from infusion_desk.services.coding import clinic_coding_context

        db = _open(url)
        try:
            clinic_catalog, payer_settings = clinic_coding_context(db)
        finally:
            db.dispose()
        from infusion_desk.billing.coding import default_catalog

        # The clinic's own catalog wins; codes it does not carry fall back to the shipped one.
        catalog = {**default_catalog(), **clinic_catalog}
    try:
        result = code_json(payload, catalog=catalog, payer_settings=payer_settings)
    except CodingInputError as exc:
        raise CliError(f"invalid visit: {exc}", EXIT_USAGE) from exc
    print(json.dumps(result, indent=2))
    return EXIT_OK


def open_for_gui(url: str, passphrase: str | None = None) -> Services:
    """Open the database; runs on the GUI's worker thread (an empty one gets the setup wizard)."""
    from infusion_desk.services.app import Services

    services, _ = Services.open(url, passphrase=passphrase)
    return services


def cmd_gui(url: str, chosen: bool) -> int:
    """The window appears at once; the database opens behind it (see ui.app_window).

    On a computer where no database was chosen and none exists at the default place, the
    first-run wizard asks where it lives first.
    """
    from infusion_desk.ui.app import run_gui

    first_start = not chosen and not default_database_path().exists()
    return run_gui(functools.partial(open_for_gui, url), choose_database=url if first_start else None)


def cmd_self_test() -> int:
    """Build a temporary encrypted clinic and run it end to end, one line per step."""
    from infusion_desk.selftest import run_self_test

    return run_self_test(lambda line: print(line, flush=True))


def _signed_in(handler: cli_claims.Handler) -> Callable[[argparse.Namespace, str], int]:
    def run(args: argparse.Namespace, url: str) -> int:
        db = _open(url)
        try:
            return handler(args, db, _sign_in(db, args.user))
        finally:
            db.dispose()

    return run


COMMANDS: dict[str, Callable[[argparse.Namespace, str], int]] = {
    "demo": cmd_demo,
    "db": cmd_db,
    "patients": cmd_patients,
    "eligibility": cmd_eligibility,
    "worklists": cmd_worklists,
    **{name: _signed_in(handler) for name, handler in cli_claims.HANDLERS.items()},
    **{name: _signed_in(handler) for name, handler in cli_appeals.HANDLERS.items()},
    **{name: _signed_in(handler) for name, handler in cli_contracts.HANDLERS.items()},
    **{name: _signed_in(handler) for name, handler in cli_statements.HANDLERS.items()},
    **{name: _signed_in(handler) for name, handler in cli_reports.HANDLERS.items()},
    **{name: _signed_in(handler) for name, handler in cli_audit.HANDLERS.items()},
    **{name: _signed_in(handler) for name, handler in cli_backup.HANDLERS.items()},
    **cli_backup.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.self_test:
            return cmd_self_test()
        if args.command == "code":
            explicit = args.database_url or os.environ.get(DATABASE_URL_ENV)
            return cmd_code(args, explicit)
        url = resolve_database_url(args.database_url)
        if args.command is None:
            return cmd_gui(url, chosen_database_url(args.database_url) is not None)
        return COMMANDS[args.command](args, url)
    except CliError as exc:
        print(f"infusion-desk: {exc}", file=sys.stderr)
        return exc.code
    except ValidationFailed as exc:
        for finding in exc.findings:
            print(f"infusion-desk: {finding.subject or 'input'}: {finding.message}", file=sys.stderr)
        return EXIT_ERROR
    except ServiceError as exc:
        print(f"infusion-desk: {exc}", file=sys.stderr)
        return EXIT_ERROR


def gui_main() -> int:
    """Entry point of the windowed launcher (no console on Windows)."""
    return main()


if __name__ == "__main__":
    raise SystemExit(main())
