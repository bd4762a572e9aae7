"""``infusion-desk eligibility export-270 / import-271``: files out and in, signed in, with clear messages."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from infusion_desk.cli import main
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.eligibility import EligibilityService
from tests.billing.x12 import fixtures_271
from tests.conftest import make_actor
from tests.services.test_eligibility import TODAY, profile, seed


@pytest.fixture
def clinic(sqlite_services: Services, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Services, str, dict[str, int]]:
    ids = seed(sqlite_services)
    make_actor(sqlite_services, Role.FRONT_DESK, "desk")
    monkeypatch.setenv("INFUSION_DESK_USER", "desk")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "pw-front_desk")
    return sqlite_services, sqlite_url, ids


def test_export_270_writes_the_file_and_says_what_it_did(
    clinic: tuple[Services, str, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services, url, _ = clinic
    profile(services)
    out = tmp_path / "inquiries.270"
    assert main(["--database-url", url, "eligibility", "export-270", "--days", "3", "--out", str(out),
                 "--today", TODAY.isoformat()]) == 0
    printed = capsys.readouterr()
    assert "Wrote 3 inquiries for 2 patient(s) and 2 payer(s)" in printed.out
    assert f"to {out} (interchange 000000001)" in printed.out
    text = out.read_text()
    assert text.startswith("ISA*00*") and text.count("TRN*1*") == 3 and text.endswith("IEA*1*000000001~")
    assert not (tmp_path / "inquiries.270.part").exists()


def test_export_270_without_a_clearinghouse_says_how_to_set_one(
    clinic: tuple[Services, str, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, url, _ = clinic
    out = tmp_path / "inquiries.270"
    assert main(["--database-url", url, "eligibility", "export-270", "--out", str(out)]) == 1
    assert "clearinghouse: No clearinghouse is set up" in capsys.readouterr().err
    assert not out.exists()


def test_export_270_with_nothing_to_ask_writes_nothing(
    clinic: tuple[Services, str, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services, url, _ = clinic
    profile(services)
    out = tmp_path / "inquiries.270"
    later = (TODAY + timedelta(days=200)).isoformat()
    assert main(["--database-url", url, "eligibility", "export-270", "--days", "1", "--out", str(out),
                 "--today", later]) == 0
    assert "Nothing to send" in capsys.readouterr().out and not out.exists()


def test_import_271_records_reports_strangers_and_goes_on_after_a_bad_file(
    clinic: tuple[Services, str, dict[str, int]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    services, url, ids = clinic
    good = tmp_path / "answers.271"
    good.write_text(fixtures_271.response(
        fixtures_271.subscriber("EXAMPLE", "TESTY", "XYZ123456", date(1960, 1, 2), trace=f"P{ids['own']}-{TODAY:%Y%m%d}"),
        fixtures_271.subscriber("NOBODY", "KNOWN", "ZZZ999", date(1950, 1, 1)),
        answered=TODAY))
    bad = tmp_path / "broken.271"
    bad.write_text("ISA*00*truncated")
    missing = tmp_path / "missing.271"
    assert main(["--database-url", url, "eligibility", "import-271", str(bad), str(missing), str(good)]) == 1
    printed = capsys.readouterr()
    assert "broken.271 cannot be read as a 271: segment 1 (ISA): the ISA segment is truncated" in printed.err
    assert "cannot read" in printed.err and "missing.271" in printed.err
    assert "answers.271: 1 recorded, 1 not matched." in printed.out
    assert "recorded: Example, Testy, Fictional Health Plan (primary, member XYZ123456): active" in printed.out
    assert "not recorded: NOBODY, KNOWN (member ZZZ999, born 01/01/1950)" in printed.err
    desk = make_actor(services, Role.BILLER, "t_biller_check")
    (row,) = EligibilityService(services.db).history(desk, ids["testy"])
    assert row.copay is not None and str(row.copay) == "40.00"

    assert main(["--database-url", url, "eligibility", "import-271", str(good)]) == 0
    assert "1 already imported" in capsys.readouterr().out
    assert len(EligibilityService(services.db).history(desk, ids["testy"])) == 1


def test_eligibility_needs_a_user(clinic: tuple[Services, str, dict[str, int]], monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    _, url, _ = clinic
    monkeypatch.delenv("INFUSION_DESK_USER")
    assert main(["--database-url", url, "eligibility", "import-271", str(tmp_path / "x.271")]) == 2
    assert "--user" in capsys.readouterr().err
