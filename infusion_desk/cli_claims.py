"""The billing commands of ``infusion-desk``: claims, batches, acknowledgements and remittances.

    infusion-desk --user biller claims build                 # a claim for every signed visit without one
    infusion-desk --user biller claims scrub                 # scrub every draft, ready or rejected claim
    infusion-desk --user biller claims list --status ready
    infusion-desk --user biller claims print C0000012 --out claim.pdf [--data-only --offset-x 1.5]
    infusion-desk --user biller batch export --clearinghouse "Demo Clearinghouse" --out outbox/
    infusion-desk --user biller batch confirm 7              # the file was uploaded to the portal
    infusion-desk --user biller batch upload 7 8             # or send them by SFTP
    infusion-desk --user biller ack import inbox/*.999 inbox/*.277
    infusion-desk --user biller era import inbox/*.835       # read payers' remittances (and post them)
    infusion-desk --user biller era post 12                  # post a payment that waited for review
    infusion-desk --user biller denials list --format csv > denials.csv
    infusion-desk --user manager denials report --since 2026-01-01 [--format json]

They go through the same services and role checks as the Billing workspace.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from infusion_desk.billing.findings import error
from infusion_desk.services.errors import ValidationFailed

if TYPE_CHECKING:
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor

EXIT_OK = 0
EXIT_ERROR = 1

SFTP_PASSWORD_ENV = "INFUSION_DESK_SFTP_PASSWORD"

Handler = Callable[[argparse.Namespace, "Database", "Actor"], int]


def _failed(code: str, message: str, subject: str) -> ValidationFailed:
    return ValidationFailed([error(code, message, subject)])


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    claims = commands.add_parser("claims", help="build, scrub, list and print claims (signs in)")
    actions = claims.add_subparsers(dest="claims_command", metavar="ACTION", required=True)
    build = actions.add_parser("build", help="a claim for every signed visit that has none yet")
    build.add_argument(
        "--visit", type=int, action="append", dest="visits", help="only this visit id (repeatable)"
    )
    build.add_argument("--today", type=date.fromisoformat, help="pretend today is this date (YYYY-MM-DD)")
    scrub = actions.add_parser("scrub", help="scrub claims again; exits 1 when any has an error")
    scrub.add_argument(
        "claims", nargs="*", help="claim numbers (default: every draft, ready or rejected claim)"
    )
    scrub.add_argument("--today", type=date.fromisoformat, help="pretend today is this date (YYYY-MM-DD)")
    listing = actions.add_parser("list", help="the claim work queue")
    listing.add_argument("--status", action="append", help="only this status (repeatable)")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    printing = actions.add_parser("print", help="write a claim's CMS-1500 as PDF")
    printing.add_argument("claims", nargs="+", help="claim numbers (or ids)")
    printing.add_argument("--out", required=True, type=Path, help="the PDF to write")
    printing.add_argument("--data-only", action="store_true", help="data only, for pre-printed red forms")
    printing.add_argument("--offset-x", default="0", help="printer offset to the right, in mm")
    printing.add_argument("--offset-y", default="0", help="printer offset downwards, in mm")

    batch = commands.add_parser("batch", help="837P claim files for the clearinghouse (signs in)")
    batch_actions = batch.add_subparsers(dest="batch_command", metavar="ACTION", required=True)
    export = batch_actions.add_parser("export", help="write every ready claim into 837P files")
    export.add_argument("--clearinghouse", help="profile name (default: the first one set up)")
    export.add_argument("--out", type=Path, help="folder to write to (default: the profile's export folder)")
    export.add_argument("--today", type=date.fromisoformat, help="pretend today is this date (YYYY-MM-DD)")
    confirm = batch_actions.add_parser("confirm", help="the batch's file was uploaded: mark it submitted")
    confirm.add_argument("batch", type=int)
    again = batch_actions.add_parser("reexport", help="write a batch's file again, byte for byte")
    again.add_argument("batch", type=int)
    again.add_argument("--out", required=True, type=Path, help="folder to write to")
    batch_actions.add_parser("list", help="batches with their acknowledgements")
    upload = batch_actions.add_parser(
        "upload", help=f"send exported batches by SFTP (password from the keyring or ${SFTP_PASSWORD_ENV})"
    )
    upload.add_argument("batches", nargs="+", type=int)
    upload.add_argument(
        "--trust-new-host",
        action="store_true",
        help="accept a server not seen before (check its fingerprint)",
    )

    ack = commands.add_parser("ack", help="clearinghouse answers: TA1, 999, 277CA (signs in)")
    ack_actions = ack.add_subparsers(dest="ack_command", metavar="ACTION", required=True)
    imports = ack_actions.add_parser("import", help="apply acknowledgement files to batches and claims")
    imports.add_argument("files", nargs="+", type=Path)

    era = commands.add_parser("era", help="payers' 835 remittances (signs in)")
    era_actions = era.add_subparsers(dest="era_command", metavar="ACTION", required=True)
    posts = era_actions.add_parser(
        "import", help="post 835 files to claims and lines; exits 1 when a file is refused or needs review"
    )
    posts.add_argument("files", nargs="+", type=Path)
    approve = era_actions.add_parser("post", help="post payments that waited for review (their numbers)")
    approve.add_argument("payments", nargs="+", type=int)

    denied = commands.add_parser("denials", help="the denial work queue (signs in)")
    denied_actions = denied.add_subparsers(dest="denials_command", metavar="ACTION", required=True)
    queue = denied_actions.add_parser(
        "list", help="denied lines to work, most money and nearest deadline first"
    )
    queue.add_argument("--format", choices=("text", "csv"), default="text")
    queue.add_argument("--all", action="store_true", help="include worked and closed items")
    figures = denied_actions.add_parser(
        "report", help="denial rate by payer and month, dollars by category and code, open denials by age"
    )
    figures.add_argument(
        "--since", type=date.fromisoformat, help="first remittance date (default: a year ago)"
    )
    figures.add_argument("--format", choices=("text", "json"), default="text")


def _claim_ids(service: object, actor: Actor, refs: list[str]) -> list[int]:
    from infusion_desk.services.claims import ClaimService

    assert isinstance(service, ClaimService)
    return [int(ref) if ref.isdigit() else service.claim_id(actor, ref) for ref in refs]


def cmd_claims(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.claims import ClaimService

    service = ClaimService(db)
    if args.claims_command == "build":
        summary = service.build(actor, visit_ids=args.visits, today=args.today)
        print(summary.text())
        return EXIT_OK
    if args.claims_command == "scrub":
        ids = _claim_ids(service, actor, args.claims) if args.claims else None
        result = service.scrub(actor, ids, today=args.today)
        for number, findings in result.findings.items():
            for finding in findings:
                print(f"{number}  {finding.level.value:<7}  {finding.code:<18} {finding.message}")
        print(f"{result.scrubbed} claim(s) scrubbed: {result.ready} ready, {result.with_errors} with errors.")
        return EXIT_ERROR if result.with_errors else EXIT_OK
    if args.claims_command == "list":
        from infusion_desk.models.enums import ClaimStatus

        try:
            statuses = [ClaimStatus(s) for s in args.status] if args.status else None
        except ValueError as exc:
            raise _failed(
                "STATUS", f"{exc}; use one of {', '.join(s.value for s in ClaimStatus)}.", "status"
            ) from exc
        rows = service.claims(actor, statuses=statuses)
        if args.format == "json":
            print(json.dumps([_row_json(r) for r in rows], indent=2))
            return EXIT_OK
        for r in rows:
            print(
                f"{r.claim_number}  {r.service_date:%m/%d/%Y}  {r.status.value:<14} {r.total_charge:>10}  "
                f"{r.payer[:24]:<24} {r.patient}"
            )
            if r.first_problem:
                print(f"            {r.first_problem}")
        return EXIT_OK
    # print
    from infusion_desk.billing.cms1500 import PrintOptions, render_cms1500
    from infusion_desk.services.claims import clinic_today

    try:
        options = PrintOptions(
            data_only=args.data_only,
            offset_x_mm=Decimal(args.offset_x),
            offset_y_mm=Decimal(args.offset_y),
            signed_on=_today(db, clinic_today),
        )
    except (InvalidOperation, ValueError) as exc:
        message = str(exc) if isinstance(exc, ValueError) and str(exc) else "Printer offsets are millimetres."
        raise _failed("OFFSET", f"{message} Use e.g. 1.5 or -2.", "offset") from exc
    data = service.claim_data(actor, _claim_ids(service, actor, args.claims))
    pdf = render_cms1500(data, options)
    try:
        partial = args.out.with_name(args.out.name + ".part")
        partial.write_bytes(pdf)
        partial.replace(args.out)
    except OSError as exc:
        raise _failed("WRITE", f"cannot write {args.out}: {exc.strerror}", "out") from exc
    print(f"Wrote {len(data)} claim(s) to {args.out}.")
    return EXIT_OK


def _today(db: Database, clinic_today: Callable[..., date]) -> date:
    with db.session() as session:
        return clinic_today(session)


def _row_json(row: object) -> dict[str, object]:
    from dataclasses import asdict

    data = asdict(row)  # type: ignore[call-overload]
    return {
        k: (str(v) if isinstance(v, (date, Decimal)) else getattr(v, "value", v)) for k, v in data.items()
    }


def cmd_batch(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.batches import BatchService

    service = BatchService(db)
    if args.batch_command == "export":
        summary = service.export(actor, clearinghouse=args.clearinghouse, out_dir=args.out, today=args.today)
        for held in summary.held_back:
            print(f"held back: {held}", file=sys.stderr)
        if not summary.files:
            print("No claims are ready to export." if not summary.held_back else "No file written.")
            return EXIT_OK
        for exported in summary.files:
            print(exported.path)
        return EXIT_OK
    if args.batch_command == "confirm":
        count = service.confirm_upload(actor, args.batch)
        print(f"Batch {args.batch}: {count} claim(s) marked submitted.")
        return EXIT_OK
    if args.batch_command == "upload":
        import os

        from infusion_desk.services.clearinghouse import ClearinghouseService
        from infusion_desk.services.secrets import load_sftp_secret

        profile = ClearinghouseService(db).profile(actor)
        secret = os.environ.get(SFTP_PASSWORD_ENV) or (load_sftp_secret(profile.name) if profile else None)
        result = service.upload(actor, args.batches, secret=secret, trust_new_host=args.trust_new_host)
        print(result.text())
        return EXIT_OK
    if args.batch_command == "reexport":
        print(service.reexport(actor, args.batch, args.out))
        return EXIT_OK
    for row in service.batches(actor):
        when = f"{row.exported_at:%m/%d/%Y %H:%M}" if row.exported_at else ""
        print(
            f"{row.id:>5}  {row.status.value:<12} {row.claims:>4} claim(s)  {when}  {row.file_name or ''}  "
            f"{row.acknowledgements}"
        )
    return EXIT_OK


def cmd_ack(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.acknowledgements import AcknowledgementService

    service = AcknowledgementService(db)
    status = EXIT_OK
    for path in args.files:
        try:
            result = service.import_file(actor, path)
        except ValidationFailed as exc:
            for finding in exc.findings:
                print(f"infusion-desk: {finding.message}", file=sys.stderr)
            status = EXIT_ERROR
            continue
        print(result.text())
    return status


def cmd_era(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.remittances import RemittanceService

    service = RemittanceService(db)
    status = EXIT_OK
    if args.era_command == "post":
        for payment in args.payments:
            try:
                print(service.post(actor, payment).text())
            except ValidationFailed as exc:
                for finding in exc.findings:
                    print(f"infusion-desk: {finding.message}", file=sys.stderr)
                status = EXIT_ERROR
        return status
    for path in args.files:
        try:
            result = service.import_file(actor, path)
        except ValidationFailed as exc:
            for finding in exc.findings:
                print(f"infusion-desk: {finding.message}", file=sys.stderr)
            status = EXIT_ERROR
            continue
        print(result.text())
        if result.review:
            status = EXIT_ERROR
    return status


DENIAL_COLUMNS = (
    "claim", "patient", "payer", "service_date", "code", "adjustment", "category", "amount",
    "appeal_deadline", "owner", "status", "reason", "action",
)


def cmd_denials(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    import csv

    from infusion_desk.services.denials import DenialService

    if args.denials_command == "report":
        return _denial_report(DenialService(db), actor, args)
    rows = DenialService(db).work_queue(actor, include_closed=args.all)
    values = [
        (
            r.claim_number, r.patient, r.payer, r.service_date.isoformat() if r.service_date else "", r.code,
            r.adjustment, r.category, f"{r.amount:.2f}",
            r.appeal_deadline.isoformat() if r.appeal_deadline else "", r.owner, r.status, r.reason, r.action,
        )
        for r in rows
    ]
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(DENIAL_COLUMNS)
        writer.writerows(values)
        return EXIT_OK
    if not rows:
        print("No denials to work.")
    for r in rows:
        due = r.appeal_deadline.strftime("%m/%d/%Y") if r.appeal_deadline else "no deadline"
        amount = f"${r.amount:,.2f}"
        print(f"{r.claim_number}  {r.code:<6} {r.adjustment:<8} {amount:>11}  appeal by {due}  {r.category}")
        print(f"    {r.patient}, {r.payer}: {r.reason.splitlines()[0]}")
    return EXIT_OK


def _denial_report(service: object, actor: Actor, args: argparse.Namespace) -> int:
    from datetime import timedelta

    from infusion_desk.services.denials import DenialService

    assert isinstance(service, DenialService)
    since = args.since or date.today() - timedelta(days=365)  # noqa: DTZ011 - a default, in local days
    figures = service.analytics(actor, since)
    rates = {
        "overall": [figures.overall],
        "by_payer": list(figures.by_payer),
        "by_month": list(figures.by_month),
    }
    amounts = {
        "by_category": list(figures.by_category),
        "by_code": list(figures.by_code),
        "open_by_age": list(figures.open_by_age),
    }
    if args.format == "json":
        out: dict[str, object] = {"since": since.isoformat(), "recovered_by_appeals": str(figures.recovered)}
        for name, rows in rates.items():
            out[name] = [
                {
                    "key": r.key, "claims": r.claims, "denied_claims": r.denied_claims,
                    "denial_rate_percent": str(r.rate), "denied_amount": str(r.denied_amount),
                }
                for r in rows
            ]
        for name, amount_rows in amounts.items():
            rated = name != "open_by_age"
            out[name] = [
                {"key": r.key, "items": r.items, "amount": str(r.amount)}
                | ({"denied_claims": r.claims, "denial_rate_percent": str(r.rate)} if rated else {})
                for r in amount_rows
            ]
        print(json.dumps(out, indent=2))
        return EXIT_OK
    print(f"Denials since {since:%m/%d/%Y}")
    for name, rows in rates.items():
        print(f"\n{name.replace('_', ' ')}:")
        for r in rows:
            counts = f"{r.denied_claims:>5} of {r.claims:<6} claims"
            print(f"  {r.key:<32} {counts}  {r.rate:>5}%  ${r.denied_amount:,.2f}")
    for name, amount_rows in amounts.items():
        print(f"\n{name.replace('_', ' ')}:")
        for a in amount_rows:
            rate = f"  {a.claims:>5} claim(s) {a.rate:>5}%" if name != "open_by_age" else ""
            print(f"  {a.key:<32} {a.items:>5} item(s){rate}  ${a.amount:,.2f}")
    print(f"\nrecovered by appeals: ${figures.recovered:,.2f}")
    return EXIT_OK


HANDLERS: dict[str, Handler] = {
    "claims": cmd_claims,
    "batch": cmd_batch,
    "ack": cmd_ack,
    "era": cmd_era,
    "denials": cmd_denials,
}
