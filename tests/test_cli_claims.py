"""``infusion-desk claims / batch / ack``: a fresh demo clinic's claims built, exported, acknowledged, printed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pypdf import PdfReader

from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.cli import main
from infusion_desk.services.app import Services
from infusion_desk.services.demo import generate_demo
from tests.billing.x12.pyx12_check import pyx12_errors

TODAY = date(2026, 11, 20)


@pytest.fixture
def demo(sqlite_services: Services, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    generate_demo(sqlite_services.db, patients=12, months=2, seed=3, today=TODAY)
    monkeypatch.setenv("INFUSION_DESK_USER", "biller")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "demo")
    return sqlite_url


def test_build_then_export_gives_claims_and_valid_files_with_no_other_step(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", demo, "claims", "build", "--today", TODAY.isoformat()]) == 0
    built = capsys.readouterr().out
    assert "claim(s) built" in built and "ready to export" in built
    out = tmp_path / "outbox"
    assert main(["--database-url", demo, "batch", "export", "--out", str(out), "--today", TODAY.isoformat()]) == 0
    printed = capsys.readouterr()
    files = [Path(line) for line in printed.out.splitlines()]
    assert files and all(path.parent == out and path.exists() for path in files)
    for path in files:
        text = path.read_text(encoding="ascii")
        assert pyx12_errors(text) == []
        assert read_837p(text)
    # claims the last-minute scrub holds back are named on standard error, with the reason
    assert all(line.startswith("held back: C") for line in printed.err.splitlines())

    assert main(["--database-url", demo, "batch", "list"]) == 0
    assert "exported" in capsys.readouterr().out
    assert main(["--database-url", demo, "batch", "confirm", "1"]) == 0
    assert "marked submitted" in capsys.readouterr().out
    assert main(["--database-url", demo, "claims", "list", "--status", "submitted", "--format", "json"]) == 0
    assert '"status": "submitted"' in capsys.readouterr().out


def test_print_writes_a_cms1500_and_scrub_reports_errors_with_exit_1(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", demo, "claims", "build", "--today", TODAY.isoformat()]) == 0
    capsys.readouterr()
    pdf = tmp_path / "claim.pdf"
    assert main(["--database-url", demo, "claims", "print", "C0000001", "--out", str(pdf)]) == 0
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "C0000001" in text
    assert main(["--database-url", demo, "claims", "print", "C0000001", "--out", str(pdf),
                 "--offset-x", "lots"]) == 1
    assert "offset" in capsys.readouterr().err.lower()
    status = main(["--database-url", demo, "claims", "scrub", "--today", TODAY.isoformat()])
    printed = capsys.readouterr().out
    assert "claim(s) scrubbed" in printed
    assert status == (1 if " error " in printed else 0)


def test_ack_import_reports_a_malformed_file_and_goes_on(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "broken.999"
    bad.write_text("ISA*00*garbage", encoding="ascii")
    assert main(["--database-url", demo, "ack", "import", str(bad)]) == 1
    assert "not a readable acknowledgement file" in capsys.readouterr().err


def test_claims_need_a_biller(demo: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INFUSION_DESK_USER", "nurse")
    assert main(["--database-url", demo, "claims", "build"]) == 1
    assert "may not" in capsys.readouterr().err


def test_batch_upload_sends_the_file_by_sftp_once_the_server_is_trusted(
    demo: str, sqlite_services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import paramiko
    import sqlalchemy as sa

    from infusion_desk.models import ClearinghouseProfile
    from infusion_desk.services import uploads
    from tests.services.sftp_server import PASSWORD, USERNAME, SftpTestServer

    monkeypatch.setattr(uploads, "default_known_hosts", lambda: tmp_path / "known_hosts")
    monkeypatch.setenv("INFUSION_DESK_SFTP_PASSWORD", PASSWORD)
    assert main(["--database-url", demo, "claims", "build", "--today", TODAY.isoformat()]) == 0
    assert main(["--database-url", demo, "batch", "export", "--out", str(tmp_path / "out"),
                 "--today", TODAY.isoformat()]) == 0
    exported = Path(capsys.readouterr().out.splitlines()[-1])
    root = tmp_path / "server"
    (root / "inbound").mkdir(parents=True)
    with SftpTestServer(root, paramiko.ECDSAKey.generate()) as server:
        with sqlite_services.db.session() as session:
            session.execute(sa.update(ClearinghouseProfile).values(
                sftp_host="127.0.0.1", sftp_port=server.port, sftp_username=USERNAME, sftp_remote_dir="/inbound"))
        assert main(["--database-url", demo, "batch", "upload", "1"]) == 1
        assert "SHA256:" in capsys.readouterr().err  # an unknown server is refused with its fingerprint
        assert not (root / "inbound" / exported.name).exists()
        assert main(["--database-url", demo, "batch", "upload", "1", "--trust-new-host"]) == 0
    assert (root / "inbound" / exported.name).read_bytes() == exported.read_bytes()
    assert main(["--database-url", demo, "batch", "list"]) == 0
    assert "submitted" in capsys.readouterr().out


def test_era_import_posts_a_remittance_once_and_refuses_a_damaged_one(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from decimal import Decimal

    from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
    from tests.billing.x12.remit_fixtures import write_835

    assert main(["--database-url", demo, "claims", "build", "--today", TODAY.isoformat()]) == 0
    assert main(["--database-url", demo, "batch", "export", "--out", str(tmp_path), "--today", TODAY.isoformat()]) == 0
    exported = [Path(line) for line in capsys.readouterr().out.splitlines() if line.endswith(".837")]
    claim = read_837p(exported[0].read_text(encoding="ascii"))[0]
    lines = tuple(
        ServicePayment(
            code=line.code, modifiers=line.modifiers, charge=line.charge, paid=line.charge - Decimal("1.00"),
            line_control_number=line.control_number, adjustments=(CasAdjustment("CO", "45", Decimal("1.00")),),
        )
        for line in claim.lines
    )
    payment = ClaimPayment(
        patient_control_number=claim.claim_number, status_code="1",
        total_charge=sum((line.charge for line in claim.lines), Decimal(0)),
        paid=sum((line.paid for line in lines), Decimal(0)), payer_claim_control_number="ICN-CLI", lines=lines,
    )
    era = tmp_path / "payment.835"
    era.write_text(
        write_835(
            Remittance(
                trace_number="CHK42", payer_identifier="1999999999", payer_name="FICTIONAL HEALTH PLAN",
                payment_method="CHK", payment_date=TODAY, total_paid=payment.paid, claims=(payment,),
            )
        ),
        encoding="ascii",
    )
    assert main(["--database-url", demo, "era", "import", str(era)]) == 0
    # a new payer's remittances wait for review: read, stored, not posted
    assert "waiting for review before posting: payment 1, CHK42" in capsys.readouterr().out
    assert main(["--database-url", demo, "era", "import", str(era)]) == 0
    assert "already imported" in capsys.readouterr().out
    assert main(["--database-url", demo, "era", "post", "1"]) == 0
    assert f"1 claim(s) posted, paid ${payment.paid:,.2f}" in capsys.readouterr().out
    assert main(["--database-url", demo, "era", "post", "1"]) == 1
    assert "already posted" in capsys.readouterr().err
    damaged = tmp_path / "damaged.835"
    damaged.write_text(era.read_text(encoding="ascii")[:-40], encoding="ascii")
    assert main(["--database-url", demo, "era", "import", str(damaged)]) == 1
    assert "not a readable 835 remittance" in capsys.readouterr().err
    assert main(["--database-url", demo, "claims", "list", "--status", "paid", "--format", "json"]) == 0
    assert claim.claim_number in capsys.readouterr().out


def test_denials_list_writes_the_work_queue_as_csv(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import csv
    import io
    from decimal import Decimal

    from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
    from tests.billing.x12.remit_fixtures import write_835

    assert main(["--database-url", demo, "denials", "list"]) == 0
    assert "No denials to work." in capsys.readouterr().out
    assert main(["--database-url", demo, "claims", "build", "--today", TODAY.isoformat()]) == 0
    assert main(["--database-url", demo, "batch", "export", "--out", str(tmp_path), "--today", TODAY.isoformat()]) == 0
    exported = [Path(line) for line in capsys.readouterr().out.splitlines() if line.endswith(".837")]
    claim = read_837p(exported[0].read_text(encoding="ascii"))[0]
    lines = tuple(
        ServicePayment(
            code=line.code, modifiers=line.modifiers, charge=line.charge, paid=Decimal("0.00"),
            line_control_number=line.control_number, adjustments=(CasAdjustment("CO", "29", line.charge),),
        )
        for line in claim.lines
    )
    payment = ClaimPayment(
        claim.claim_number, "1", sum((line.charge for line in claim.lines), Decimal(0)), Decimal("0.00"), lines=lines
    )
    era = tmp_path / "denied.835"
    era.write_text(
        write_835(
            Remittance("CHK7", "1999999999", "FICTIONAL HEALTH PLAN", "CHK", TODAY, Decimal("0.00"), claims=(payment,))
        ),
        encoding="ascii",
    )
    assert main(["--database-url", demo, "era", "import", str(era)]) == 0
    assert main(["--database-url", demo, "era", "post", "1"]) == 0
    capsys.readouterr()
    assert main(["--database-url", demo, "denials", "list", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(claim.lines)
    assert {row["claim"] for row in rows} == {claim.claim_number}
    assert {row["adjustment"] for row in rows} == {"CO-29"} and {row["category"] for row in rows} == {"timely filing"}
    assert sorted(Decimal(row["amount"]) for row in rows) == sorted(line.charge for line in claim.lines)


def test_denials_report_gives_a_manager_the_denial_rate(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    monkeypatch.setenv("INFUSION_DESK_USER", "manager")
    assert main(["--database-url", demo, "denials", "report", "--since", "2026-01-01", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    # nothing adjudicated yet: no claims, a zero rate, no open denials, nothing recovered
    assert report["overall"] == [
        {"key": "all payers", "claims": 0, "denied_claims": 0, "denial_rate_percent": "0.0", "denied_amount": "0.00"}
    ]
    assert [a["amount"] for a in report["open_by_age"]] == ["0.00"] * 4
    assert report["recovered_by_appeals"] == "0.00"
    assert main(["--database-url", demo, "denials", "report", "--since", "2026-01-01"]) == 0
    assert "Denials since 01/01/2026" in capsys.readouterr().out
    monkeypatch.setenv("INFUSION_DESK_USER", "nurse")
    assert main(["--database-url", demo, "denials", "report"]) == 1
