"""The contract commands of ``infusion-desk``: payers' fee schedules, ASP prices and underpayments.

    infusion-desk --user manager fees import 3 acme_2026.csv [--replace]   # all rows, or none
    infusion-desk --user biller fees list 3 [--format csv] > acme.csv       # the import format
    infusion-desk --user manager asp import "Oct 2026 ASP Pricing File.csv" --quarter 2026-Q4
    infusion-desk --user biller underpayments list [--since 2026-01-01] [--until DATE]
                  [--tolerance 1.00] [--tolerance-percent 2] [--format csv]

They go through the same services and role checks as the Billing workspace: anyone who sees
reports lists; managers and administrators import.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from infusion_desk.services.errors import ValidationFailed

if TYPE_CHECKING:
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor

EXIT_OK = 0
EXIT_ERROR = 1
LOOK_BACK_DAYS = 365

Handler = Callable[[argparse.Namespace, "Database", "Actor"], int]


def _quarter(text: str) -> date:
    from infusion_desk.billing.contracts import parse_quarter

    try:
        return parse_quarter(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    fees = commands.add_parser("fees", help="payers' fee schedules: contract rates per code (signs in)")
    fee_actions = fees.add_subparsers(dest="fees_command", metavar="ACTION", required=True)
    imports = fee_actions.add_parser(
        "import", help="read a fee schedule CSV into a payer's schedule; a file with any error saves nothing"
    )
    imports.add_argument("payer", type=int, metavar="PAYER_ID")
    imports.add_argument("file", type=Path)
    imports.add_argument(
        "--replace", action="store_true",
        help="remove the payer's whole schedule first (default: add rates or update the same code and start)",
    )
    listing = fee_actions.add_parser("list", help="a payer's rates by code, newest period first")
    listing.add_argument("payer", type=int, metavar="PAYER_ID")
    listing.add_argument("--format", choices=("text", "csv"), default="text")

    asp = commands.add_parser("asp", help="Medicare's quarterly ASP payment limits (signs in)")
    asp_actions = asp.add_subparsers(dest="asp_command", metavar="ACTION", required=True)
    asp_import = asp_actions.add_parser(
        "import", help="load the CMS ASP pricing file (CSV) for a quarter; replaces that quarter's prices"
    )
    asp_import.add_argument("file", type=Path)
    asp_import.add_argument(
        "--quarter", required=True, type=_quarter, help="the quarter it prices, e.g. 2026-Q4"
    )

    under = commands.add_parser("underpayments", help="paid lines allowed below the contract rate (signs in)")
    under_actions = under.add_subparsers(dest="underpayments_command", metavar="ACTION", required=True)
    report = under_actions.add_parser("list", help="biggest shortfall first, with the total per payer")
    report.add_argument(
        "--since", type=date.fromisoformat, help="first payment date, YYYY-MM-DD (default: a year ago)"
    )
    report.add_argument("--until", type=date.fromisoformat, help="last payment date, YYYY-MM-DD")
    report.add_argument("--tolerance", default="1.00", help="ignore lines short by this amount or less")
    report.add_argument(
        "--tolerance-percent", default="", help="and by this percent of the expected amount or less"
    )
    report.add_argument("--format", choices=("text", "csv"), default="text")


def cmd_fees(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.contracts import ContractService, fee_schedule_csv

    service = ContractService(db)
    if args.fees_command == "import":
        print(service.import_fee_schedule(actor, args.payer, args.file, replace=args.replace).text())
        return EXIT_OK
    rows = service.fee_schedule(actor, args.payer)
    if args.format == "csv":
        sys.stdout.write(fee_schedule_csv(rows))
        return EXIT_OK
    if not rows:
        print(f"Payer {args.payer} has no fee schedule on file.")
    for r in rows:
        until = f"to {r.effective_to:%m/%d/%Y}" if r.effective_to else "until replaced"
        print(f"{r.code:<6} {r.basis:<24} from {r.effective_from:%m/%d/%Y} {until}")
    return EXIT_OK


def cmd_asp(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.contracts import ContractService

    print(ContractService(db).import_asp(actor, args.file, args.quarter).text())
    return EXIT_OK


def cmd_underpayments(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.billing.contracts import parse_tolerance
    from infusion_desk.services.contracts import ContractService, underpayments_csv

    tolerance, findings = parse_tolerance(args.tolerance, args.tolerance_percent)
    if tolerance is None:
        raise ValidationFailed(findings)
    since = args.since or date.today() - timedelta(days=LOOK_BACK_DAYS)  # noqa: DTZ011 - a default, local days
    report = ContractService(db).underpayments(actor, since=since, until=args.until, tolerance=tolerance)
    if args.format == "csv":
        sys.stdout.write(underpayments_csv(report.rows))
        return EXIT_OK
    print(f"Payments since {since:%m/%d/%Y}: {report.text()}")
    for r in report.rows:
        code = " ".join((r.code, *r.modifiers))
        print(
            f"{r.claim_number}  {r.service_date:%m/%d/%Y}  {code:<9} short ${r.short_by:>10,.2f}  "
            f"expected ${r.expected:,.2f}, allowed ${r.allowed:,.2f}, paid ${r.paid:,.2f}"
        )
        print(f"    {r.patient}, {r.payer}: {r.basis}")
    if report.by_payer:
        print("\nby payer:")
    for p in report.by_payer:
        print(
            f"  {p.payer:<32} {p.lines:>4} line(s) short ${p.short_by:>10,.2f}  "
            f"({p.checked} checked, {p.no_contract} without a contract rate)"
        )
    return EXIT_OK


HANDLERS: dict[str, Handler] = {
    "fees": cmd_fees,
    "asp": cmd_asp,
    "underpayments": cmd_underpayments,
}
