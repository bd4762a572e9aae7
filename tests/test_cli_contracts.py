"""``infusion-desk fees / asp / underpayments``: contract rates in and out, and the underpayment list.

The commands are parsed and run by ``cli_contracts`` itself (``add_parsers`` + ``HANDLERS``), as
``cli.py`` runs ``cli_claims``; the last test goes through ``infusion_desk.cli.main`` once the
commands are wired there.
"""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk import cli, cli_contracts
from infusion_desk.models import AspPrice, FeeScheduleEntry
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from tests.services.test_contracts import ASP_CSV, PRAIRIE_CSV, Clinic, arrange_clinic, post_underpaid_claims


@pytest.fixture
def clinic(sqlite_services: Services) -> Clinic:
    return arrange_clinic(sqlite_services)


def run(clinic: Clinic, actor: Actor, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="infusion-desk")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    cli_contracts.add_parsers(commands)
    args = parser.parse_args(list(argv))
    return cli_contracts.HANDLERS[args.command](args, clinic.services.db, actor)


def _count(clinic: Clinic, model: type[object]) -> int:
    with clinic.services.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_fees_import_then_list_round_trips_as_csv(
    clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "prairie.csv"
    source.write_text(PRAIRIE_CSV, encoding="utf-8")
    assert run(clinic, clinic.manager, "fees", "import", str(clinic.prairie), str(source)) == 0
    assert capsys.readouterr().out == "Prairie Mutual (test): 3 rate(s) added, 0 replaced.\n"

    assert run(clinic, clinic.biller, "fees", "list", str(clinic.prairie)) == 0
    text = capsys.readouterr().out.splitlines()
    assert text[0].split() == ["96413", "$180.00", "a", "unit", "from", "01/01/2026", "until", "replaced"]
    assert "J1745  106% of ASP" in text[2]

    assert run(clinic, clinic.biller, "fees", "list", str(clinic.prairie), "--format", "csv") == 0
    exported = tmp_path / "exported.csv"
    exported.write_text(capsys.readouterr().out, encoding="utf-8")
    assert exported.read_text(encoding="utf-8").splitlines()[0] == (
        "code,allowed,percent_of_asp,effective_from,effective_to"
    )
    # the export reads back as the same schedule for another payer
    assert run(clinic, clinic.manager, "fees", "import", str(clinic.lakeshore), str(exported)) == 0
    assert "3 rate(s) added" in capsys.readouterr().out
    assert run(clinic, clinic.biller, "fees", "list", str(clinic.lakeshore)) == 0
    assert capsys.readouterr().out.splitlines() == text


def test_a_bad_fee_file_saves_nothing_and_a_biller_may_not_import(
    clinic: Clinic, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("code,allowed,effective_from\n96413,180,2026-01-01\n9641,12,2026-01-01\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="bad.csv, row 3: code: '9641' is not a CPT or HCPCS code"):
        run(clinic, clinic.manager, "fees", "import", str(clinic.prairie), str(bad))
    good = tmp_path / "good.csv"
    good.write_text(PRAIRIE_CSV, encoding="utf-8")
    with pytest.raises(PermissionDenied):
        run(clinic, clinic.biller, "fees", "import", str(clinic.prairie), str(good))
    assert _count(clinic, FeeScheduleEntry) == 0


def test_asp_import_needs_a_quarter_written_as_a_quarter(
    clinic: Clinic, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "asp.csv"
    path.write_text(ASP_CSV, encoding="utf-8")
    with pytest.raises(SystemExit) as usage:
        run(clinic, clinic.manager, "asp", "import", str(path), "--quarter", "July 2026")
    assert usage.value.code == 2 and "e.g. 2026-Q3" in capsys.readouterr().err
    assert run(clinic, clinic.manager, "asp", "import", str(path), "--quarter", "2026-q3") == 0
    assert capsys.readouterr().out.startswith("ASP 2026-Q3: 1 payment limit(s) imported")
    with clinic.services.db.session() as session:
        assert session.scalar(sa.select(AspPrice.quarter_start)) == date(2026, 7, 1)


def test_underpayments_list_as_text_and_csv(clinic: Clinic, capsys: pytest.CaptureFixture[str]) -> None:
    post_underpaid_claims(clinic)
    assert run(clinic, clinic.biller, "underpayments", "list", "--since", "2026-01-01") == 0
    out = capsys.readouterr().out
    assert "2 underpaid line(s), $95.28 short (tolerance $1.00)" in out
    lines = out.splitlines()
    assert lines[1].startswith("C0000001  08/03/2026  J1745") and "short $     65.28" in lines[1]
    assert "Prairie Mutual (test)" in out and "1 without a contract rate" in out

    assert run(clinic, clinic.biller, "underpayments", "list", "--since", "2026-01-01", "--tolerance", "0",
               "--format", "csv") == 0
    rows = capsys.readouterr().out.splitlines()
    assert rows[0].startswith("claim,patient,payer,service_date,code,modifiers,units,expected,allowed,paid,short_by")
    assert [r.split(",")[0] for r in rows[1:]] == ["C0000001", "C0000001", "C0000002"]
    assert ",0.50," in rows[3]

    # nothing paid after the period asked for
    assert run(clinic, clinic.biller, "underpayments", "list", "--since", "2026-10-01") == 0
    assert "No underpayments over $1.00." in capsys.readouterr().out
    with pytest.raises(ValidationFailed, match="not an amount"):
        run(clinic, clinic.biller, "underpayments", "list", "--tolerance", "a dollar")


def test_main_runs_the_contract_commands_signed_in(
    clinic: Clinic, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    post_underpaid_claims(clinic)
    monkeypatch.setenv("INFUSION_DESK_USER", "t_biller")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "pw-biller")
    assert cli.main(["--database-url", sqlite_url, "underpayments", "list", "--since", "2026-01-01"]) == 0
    assert "$95.28 short" in capsys.readouterr().out
    path = tmp_path / "asp.csv"
    path.write_text(ASP_CSV, encoding="utf-8")
    assert cli.main(["--database-url", sqlite_url, "asp", "import", str(path), "--quarter", "2026-Q4"]) == 1
    assert "may not" in capsys.readouterr().err  # a biller does not load prices
