"""The manager's report commands of ``infusion-desk``.

    infusion-desk --user manager report list                                  # the reports by name
    infusion-desk --user manager report aging --to 2026-11-30 > aging.csv     # CSV on standard output
    infusion-desk --user manager report denial-rate --format xlsx --from 2026-06-01 --out denials.xlsx
    infusion-desk --user manager report days-in-ar --format pdf --out days.pdf
    infusion-desk --user manager dashboard [--format json] [--today 2026-11-30]

They go through the same service and role checks as the Manager workspace. Wiring, in
``infusion_desk/cli.py``: ``cli_reports.add_parsers(commands)`` in ``build_parser`` and
``**{name: _signed_in(handler) for name, handler in cli_reports.HANDLERS.items()}`` in
``COMMANDS``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from infusion_desk.billing.findings import error
from infusion_desk.services.errors import ValidationFailed

if TYPE_CHECKING:
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor

EXIT_OK = 0
EXIT_ERROR = 1

Handler = Callable[[argparse.Namespace, "Database", "Actor"], int]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser("report", help="a manager's report as CSV, XLSX or PDF (signs in)")
    report.add_argument("name", help="the report (aging, days-in-ar, denial-rate...), or 'list' to list them")
    report.add_argument("--format", choices=("csv", "xlsx", "pdf"), default="csv")
    report.add_argument("--from", dest="start", type=date.fromisoformat,
                        help="first day (YYYY-MM-DD; default: six months to --to)")
    report.add_argument("--to", dest="end", type=date.fromisoformat,
                        help="last day, or the aging's as-of day (default: today in the clinic's time zone)")
    report.add_argument("--out", type=Path, help="the file to write (CSV goes to standard output without it)")
    dashboard = commands.add_parser("dashboard", help="the five morning figures with their trends (signs in)")
    dashboard.add_argument("--format", choices=("text", "json"), default="text")
    dashboard.add_argument("--today", type=date.fromisoformat, help="pretend today is this date (YYYY-MM-DD)")


def cmd_report(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.billing import report_export
    from infusion_desk.services.claims import clinic_today
    from infusion_desk.services.reports import REPORTS, ReportService

    if args.name == "list":
        for name, title in REPORTS.items():
            print(f"{name}\t{title}")
        return EXIT_OK
    if args.format != "csv" and args.out is None:
        raise ValidationFailed([error("OUT", f"A {args.format.upper()} report needs --out FILE.", "--out")])
    end = args.end
    if end is None:
        with db.session() as session:
            end = clinic_today(session)
    report = ReportService(db).report(actor, args.name, args.start, end)
    if args.format == "csv":
        text = report_export.to_csv(report)
        if args.out is None:
            sys.stdout.write(text)
            return EXIT_OK
        args.out.write_text(text, encoding="utf-8")
    elif args.format == "xlsx":
        args.out.write_bytes(report_export.to_xlsx(report))
    else:
        args.out.write_bytes(report_export.to_pdf(report))
    print(args.out)
    return EXIT_OK


def cmd_dashboard(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.reports import ReportService

    figures = ReportService(db).dashboard(actor, args.today)
    if args.format == "json":
        print(json.dumps([
            {
                "name": f.name, "label": f.label, "value": str(f.value), "kind": f.kind, "better": f.better,
                "report": f.report, "trend": [{"period": p, "value": str(v)} for p, v in f.trend],
            }
            for f in figures
        ], indent=2))
        return EXIT_OK
    for f in figures:
        trend = "  ".join(f"{p} {_shown(f.kind, v)}" for p, v in f.trend)
        print(f"{f.label:<22}{_shown(f.kind, f.value):>14}   {trend}")
    return EXIT_OK


def _shown(kind: str, value: object) -> str:
    if kind == "money":
        return f"${value:,.2f}"
    if kind == "percent":
        return f"{value}%"
    if kind == "days":
        return f"{value} days"
    return str(value)


HANDLERS: dict[str, Handler] = {"report": cmd_report, "dashboard": cmd_dashboard}
