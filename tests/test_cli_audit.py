"""``infusion-desk audit verify / export``: the handlers behind a parser built as cli.py builds it."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk import cli_audit
from infusion_desk.models import AuditEvent
from infusion_desk.models.enums import Role
from infusion_desk.services import audit
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.errors import PermissionDenied
from tests.conftest import fictional_patient, make_actor


def run(services: Services, actor: Actor, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="infusion-desk")
    parser.add_argument("--user")  # the sign-in user, as in cli.py: never clobbered by the filter
    cli_audit.add_parsers(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["--user", "t_manager", *argv])
    assert args.user == "t_manager"
    return cli_audit.HANDLERS[args.command](args, services.db, actor)


@pytest.fixture
def manager(services: Services) -> Actor:
    return make_actor(services, Role.MANAGER, "t_manager")


@pytest.fixture
def patient_id(services: Services, manager: Actor) -> int:
    desk = make_actor(services, Role.FRONT_DESK, "t_desk")
    with services.db.session() as session:
        row = fictional_patient("DM0000051", last_name="Talbot", search_last="talbot")
        session.add(row)
        session.flush()
        audit.record(session, desk, "view", "patient", row.id, patient_id=row.id)
        audit.record(session, manager, "print", "statement", 3, patient_id=row.id)
        audit.record(session, desk, "view", "schedule", None)
        return row.id


def test_verify_says_intact_with_exit_0(services: Services, manager: Actor, patient_id: int,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert run(services, manager, "audit", "verify") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Audit trail intact: ") and lines[0].endswith(" records")
    assert lines[1].startswith("Last record ")


def test_verify_names_the_altered_record_with_exit_1(services: Services, manager: Actor, patient_id: int,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    with services.db.engine.begin() as connection:
        target = connection.execute(
            sa.select(AuditEvent.id).where(AuditEvent.action == "print")
        ).scalar_one()
        connection.execute(sa.update(AuditEvent).where(AuditEvent.id == target).values(username="someone"))
    assert run(services, manager, "audit", "verify") == 1
    assert capsys.readouterr().out.strip() == (
        f"Audit trail broken at record {target}: its hash does not match its content "
        "(it was changed after it was written)."
    )


def test_export_filters_by_patient_user_and_days(services: Services, manager: Actor, patient_id: int,
                                                 tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "audit.csv"
    assert run(services, manager, "audit", "export", "--out", str(out), "--patient", str(patient_id)) == 0
    assert capsys.readouterr().out.strip() == f"Wrote 2 audit records to {out}."
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert [(r[2], r[3]) for r in rows[1:]] == [("t_desk", "view"), ("t_manager", "print")]

    assert run(services, manager, "audit", "export", "--out", str(out), "--patient", "talbot",
               "--user", "t_desk") == 0
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert [(r[2], r[3], r[6]) for r in rows[1:]] == [("t_desk", "view", str(patient_id))]

    assert run(services, manager, "audit", "export", "--out", str(out), "--from", "2001-01-01",
               "--to", "2001-01-31") == 0
    assert len(list(csv.reader(out.open(encoding="utf-8")))) == 1  # the header only


def test_a_biller_may_not_read_the_trail(services: Services, patient_id: int) -> None:
    biller = make_actor(services, Role.BILLER, "t_biller")
    with pytest.raises(PermissionDenied):
        run(services, biller, "audit", "verify")
