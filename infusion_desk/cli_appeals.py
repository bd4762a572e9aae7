"""The appeal commands of ``infusion-desk``: a denied claim's appeal letter, and the appeals to track.

    infusion-desk --user biller appeals letter C0000012 --out appeal.pdf [--enclosures folder/]
    infusion-desk --user biller appeals list [--open] [--format csv] > appeals.csv

``letter`` writes the appeal of the claim's newest denial: the letter as the biller last
edited it in the app, or, when nobody has started one, a draft filled from the record (the
same draft the Denials page opens). ``--enclosures`` also writes the infusion administration
record and the authorization summary the letter's checklist asks for. They go through the
same services and role checks as the Billing workspace.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from infusion_desk.cli_claims import EXIT_OK, Handler

if TYPE_CHECKING:
    from infusion_desk.models.db import Database
    from infusion_desk.services.access import Actor

APPEAL_COLUMNS = (
    "claim", "patient", "payer", "category", "level", "status", "letter_date", "sent_on", "deadline",
    "days_left", "amount", "recovered", "outcome_on", "note",
)


def add_parsers(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    appeals = commands.add_parser(
        "appeals", help="appeal letters of denied claims, and appeal tracking (signs in)"
    )
    actions = appeals.add_subparsers(dest="appeals_command", metavar="ACTION", required=True)
    letter = actions.add_parser("letter", help="write the appeal letter of a claim's newest denial as PDF")
    letter.add_argument("claim", metavar="CLAIM_ID", help="claim number (e.g. C0000012) or id")
    letter.add_argument("--out", required=True, type=Path, help="the PDF to write")
    letter.add_argument(
        "--enclosures", type=Path, metavar="DIR",
        help="also write the administration record and authorization summary PDFs into this folder",
    )
    listing = actions.add_parser("list", help="appeals: drafts and sent by nearest deadline, then decided")
    listing.add_argument("--open", action="store_true", help="only drafts and appeals waiting for the payer")
    listing.add_argument("--format", choices=("text", "csv"), default="text")


def _claim_id(db: Database, actor: Actor, ref: str) -> int:
    from infusion_desk.services.claims import ClaimService

    return int(ref) if ref.isdigit() else ClaimService(db).claim_id(actor, ref)


def cmd_appeals(args: argparse.Namespace, db: Database, actor: Actor) -> int:
    from infusion_desk.services.appeals import AppealService

    service = AppealService(db)
    if args.appeals_command == "letter":
        draft = service.draft_for_claim(actor, _claim_id(db, actor, args.claim))
        args.out.write_bytes(service.letter_pdf(actor, draft.appeal_id))
        print(args.out)
        if args.enclosures is not None:
            args.enclosures.mkdir(parents=True, exist_ok=True)
            for name, pdf in service.enclosures(actor, draft.appeal_id).items():
                path = args.enclosures / name
                path.write_bytes(pdf)
                print(path)
        status = f"sent {draft.sent_on:%m/%d/%Y}" if draft.sent_on else draft.status
        due = f", appeal by {draft.deadline:%m/%d/%Y}" if draft.deadline else ""
        print(
            f"{draft.claim_number}: {draft.category.replace('_', ' ')} appeal, ${draft.amount:,.2f} "
            f"(level {draft.level}, {status}{due})",
            file=sys.stderr,
        )
        return EXIT_OK
    rows = service.appeals(actor, open_only=args.open)
    if args.format == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(APPEAL_COLUMNS)
        for r in rows:
            writer.writerow((
                r.claim_number, r.patient, r.payer, r.category, r.level, r.status,
                _iso(r.letter_date), _iso(r.sent_on), _iso(r.deadline),
                "" if r.days_left is None else r.days_left, f"{r.amount:.2f}",
                "" if r.recovered is None else f"{r.recovered:.2f}", _iso(r.outcome_on), r.note,
            ))
        return EXIT_OK
    if not rows:
        print("No appeals.")
    for r in rows:
        sent = f"sent {r.sent_on:%m/%d/%Y}" if r.sent_on else "not sent"
        due = f"deadline {r.deadline:%m/%d/%Y}" if r.deadline else "no deadline"
        left = f" ({r.days_left} days left)" if r.days_left is not None else ""
        recovered = f", recovered ${r.recovered:,.2f}" if r.recovered is not None else ""
        print(f"{r.claim_number}  {r.status:<6} ${r.amount:>11,.2f}  {sent}, {due}{left}{recovered}")
        print(f"    {r.patient}, {r.payer}: {r.category}, level {r.level}")
    return EXIT_OK


def _iso(value: object) -> str:
    return "" if value is None else str(value)


HANDLERS: dict[str, Handler] = {"appeals": cmd_appeals}
