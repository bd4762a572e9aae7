"""The patient statement commands of ``infusion-desk``.

    infusion-desk --user biller statements run --out statements/            # send this cycle's statements
    infusion-desk --user biller statements run --out statements/ --dry-run  # who would get one, and why not
    infusion-desk --user biller statements run --out statements/ --date 2026-11-26
    infusion-desk --user biller statements reprint 42 --out statement.pdf   # exactly as it was sent

They go through the same service and role checks as Billing → Statements. Wiring, in
``infusion_desk/cli.py``: ``cli_statements.add_parsers(commands)`` in ``build_parser`` and
``**{name: _signed_in(handler) for name, handler in cli_statements.HANDLERS.items()}`` in
``COMMANDS``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor

EXIT_OK = 0
EXIT_ERROR = 1

Handler = Callable[[argparse.Namespace, "Database", "Actor"], int]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    statements = commands.add_parser("statements", help="patient statements: the run and reprints (signs in)")
    actions = statements.add_subparsers(dest="statements_command", metavar="ACTION", required=True)
    run = actions.add_parser(
        "run", help="write and record a statement for each patient due one (a PDF each, one for the run)"
    )
    run.add_argument("--out", required=True, type=Path, help="folder to write the PDFs to")
    run.add_argument(
        "--date", type=date.fromisoformat, dest="statement_date",
        help="statement date (YYYY-MM-DD; default: today in the clinic's time zone)",
    )
    run.add_argument(
        "--dry-run", action="store_true", help="only list who would get a statement and why others would not"
    )
    reprint = actions.add_parser("reprint", help="write a statement again, exactly as it was sent")
    reprint.add_argument("statement", type=int, help="the statement's number")
    reprint.add_argument("--out", required=True, type=Path, help="the PDF to write")


def cmd_statements(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.statements import StatementService

    service = StatementService(db)
    if args.statements_command == "reprint":
        pdf = service.reprint(actor, args.statement)
        args.out.write_bytes(pdf)
        print(args.out)
        return EXIT_OK
    if args.dry_run:
        print(service.preview_run(actor, args.statement_date).text())
        return EXIT_OK

    def progress(done: int, total: int) -> None:
        if sys.stderr.isatty():
            print(f"\r{done} of {total} statements", end="" if done < total else "\n", file=sys.stderr)

    summary = service.run(actor, out_dir=args.out, today=args.statement_date, progress=progress)
    print(summary.text())
    for sent in summary.sent:
        print(f"{sent.path}\t{sent.mrn}\t${sent.amount_due:,.2f}")
    return EXIT_OK


HANDLERS: dict[str, Handler] = {"statements": cmd_statements}
