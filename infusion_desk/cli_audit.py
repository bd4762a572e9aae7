"""The manager's audit trail commands of ``infusion-desk``.

    infusion-desk --user manager audit verify                     # exit 0: "Audit trail intact: 1523 records"
    infusion-desk --user manager audit export --out audit.csv --patient 12 --from 2026-11-01 --to 2026-11-30
    infusion-desk --user manager audit export --out desk.csv --user frontdesk --action view

``audit verify`` exits 1 and names the first record altered, or the records missing before
it, when the chain is broken. ``--patient`` takes a patient id, or what the patient finder
takes (a name, an MRN). They go through the same service and role checks as the Manager
workspace (managers and administrators). Wiring, in ``infusion_desk/cli.py``:
``cli_audit.add_parsers(commands)`` in ``build_parser`` and
``**{name: _signed_in(handler) for name, handler in cli_audit.HANDLERS.items()}`` in
``COMMANDS``.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor

EXIT_OK = 0
EXIT_BROKEN = 1

Handler = Callable[[argparse.Namespace, "Database", "Actor"], int]


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = commands.add_parser("audit", help="check or export the audit trail (managers; signs in)")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    actions.add_parser(
        "verify", help="check every record's hash chain; exit 1 naming the first record altered or removed"
    )
    export = actions.add_parser("export", help="write the audit records as CSV, oldest first")
    export.add_argument("--out", required=True, type=Path, help="the CSV file to write")
    export.add_argument("--user", dest="audit_user", metavar="USER", help="only this user's records")
    export.add_argument("--patient", help="only this patient's records: a patient id, a name or an MRN")
    export.add_argument("--from", dest="start", type=date.fromisoformat, help="first day (YYYY-MM-DD)")
    export.add_argument("--to", dest="end", type=date.fromisoformat, help="last day (YYYY-MM-DD)")
    export.add_argument("--action", help="only this action (view, print, export, update...)")


def cmd_audit(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.audit import AuditService

    service = AuditService(db)
    if args.audit_command == "verify":
        report = service.verify(actor)
        print(report.text)
        if report.last_id is not None and report.intact:
            print(f"Last record {report.last_id}, hash {report.last_hash}")
        return EXIT_OK if report.intact else EXIT_BROKEN
    patient = (args.patient or "").strip()
    count = service.export_csv(
        actor,
        args.out,
        user=args.audit_user,
        patient_id=int(patient) if patient.isdigit() else None,
        patient=patient if patient and not patient.isdigit() else None,
        start=args.start,
        end=args.end,
        action=args.action,
    )
    print(f"Wrote {count} audit records to {args.out}.")
    return EXIT_OK


HANDLERS: dict[str, Handler] = {"audit": cmd_audit}
