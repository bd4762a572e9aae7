"""``infusion-desk statements``: a run from the command line, its dry run, and a reprint.

Assumes ``infusion_desk/cli.py`` wires ``cli_statements.add_parsers`` and ``cli_statements.HANDLERS``
as it does the claims commands.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from infusion_desk.cli import main
from infusion_desk.models import Payer
from infusion_desk.models.enums import PayerType, Role
from infusion_desk.services.app import Services
from infusion_desk.services.clinic import ClinicDetails
from tests.conftest import make_actor
from tests.services.test_statements import TODAY, Clinic, owe, patient


@pytest.fixture
def clinic_url(sqlite_services: Services, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    admin = make_actor(sqlite_services, Role.ADMIN)
    sqlite_services.clinic.update_details(admin, ClinicDetails(
        name="Lakeview Infusion Suite", npi="1234567893", tin="123456789", taxonomy="261QM1300X",
        address1="400 Example Avenue", city="Springfield", state="IL", zip_code="62701", phone="217-555-0142",
    ))
    with sqlite_services.db.session() as session:
        payer = Payer(name="Fictional Health Plan", payer_id="FHP01", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        payer_id = payer.id
    seeded = Clinic(sqlite_services, make_actor(sqlite_services, Role.BILLER), payer_id)
    owe(seeded, patient(seeded, "MR111", "Quenby"), 45, "120.00")
    owe(seeded, patient(seeded, "MR112", "Vantreese"), 10, "2.00")
    make_actor(sqlite_services, Role.NURSE)
    monkeypatch.setenv("INFUSION_DESK_USER", "t_biller")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "pw-biller")
    return sqlite_url


def test_a_dry_run_then_a_run_then_a_reprint(
    clinic_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "statements"
    date_args = ["--date", TODAY.isoformat()]
    assert main(["--database-url", clinic_url, "statements", "run", "--out", str(out), "--dry-run", *date_args]) == 0
    listed = capsys.readouterr().out
    assert "1 statement(s) to send" in listed and "send  MR111" in listed
    assert "skip  MR112" in listed and "under the minimum of $5.00" in listed
    assert not out.exists()  # a dry run writes nothing

    assert main(["--database-url", clinic_url, "statements", "run", "--out", str(out), *date_args]) == 0
    printed = capsys.readouterr().out
    assert "Sent 1 statement(s)" in printed and "$120.00" in printed
    sent = out / "statement_20261126_MR111.pdf"
    assert sent.exists() and f"{sent}\tMR111\t$120.00" in printed

    assert main(["--database-url", clinic_url, "statements", "run", "--out", str(out), *date_args]) == 0
    assert "No statements to send on 11/26/2026" in capsys.readouterr().out

    again = tmp_path / "again.pdf"
    assert main(["--database-url", clinic_url, "statements", "reprint", "1", "--out", str(again)]) == 0
    assert again.read_bytes() == sent.read_bytes()
    assert main(["--database-url", clinic_url, "statements", "reprint", "99", "--out", str(again)]) == 1
    assert "Statement 99 is not on file" in capsys.readouterr().err


def test_statements_need_a_biller_and_a_real_date(
    clinic_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(SystemExit) as usage:
        main(["--database-url", clinic_url, "statements", "run", "--out", str(tmp_path), "--date", "11/26/2026"])
    assert usage.value.code == 2
    capsys.readouterr()
    monkeypatch.setenv("INFUSION_DESK_USER", "t_nurse")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "pw-nurse")
    assert main(["--database-url", clinic_url, "statements", "run", "--out", str(tmp_path / "x")]) == 1
    assert "may not" in capsys.readouterr().err
