"""``infusion-desk report / dashboard``: a demo clinic's reports written as CSV, XLSX and PDF, and the dashboard."""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from infusion_desk.cli import main
from infusion_desk.services.app import Services
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.reports import REPORTS

TODAY = date(2026, 11, 20)


@pytest.fixture
def demo(sqlite_services: Services, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    generate_demo(sqlite_services.db, patients=12, months=2, seed=3, today=TODAY)
    monkeypatch.setenv("INFUSION_DESK_USER", "manager")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "demo")
    return sqlite_url


def test_report_list_names_every_report(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", demo, "report", "list"]) == 0
    names = [line.split("\t")[0] for line in capsys.readouterr().out.splitlines()]
    assert names == list(REPORTS)


def test_csv_goes_to_standard_output_and_xlsx_and_pdf_to_files(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    period = ["--from", "2026-09-01", "--to", TODAY.isoformat()]
    assert main(["--database-url", demo, "report", "collections-by-month", *period]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0][:2] == ["Month", "Charges"]
    assert [r[0] for r in rows[1:]] == ["2026-09", "2026-10", "2026-11", "Total"]

    xlsx = tmp_path / "aging.xlsx"
    assert main(["--database-url", demo, "report", "aging", "--format", "xlsx", "--to", TODAY.isoformat(),
                 "--out", str(xlsx)]) == 0
    assert capsys.readouterr().out.strip() == str(xlsx)
    sheet = load_workbook(xlsx).active
    assert sheet["A1"].value == REPORTS["aging"] and sheet["A2"].value == "As of 11/20/2026"

    pdf = tmp_path / "days.pdf"
    assert main(["--database-url", demo, "report", "days-in-ar", "--format", "pdf", *period,
                 "--out", str(pdf)]) == 0
    text = PdfReader(pdf).pages[0].extract_text()
    assert "Days in A/R = total A/R ÷ average daily charges" in text


def test_bad_requests_are_explained_with_exit_1(
    demo: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--database-url", demo, "report", "aging", "--format", "pdf"]) == 1
    assert "needs --out" in capsys.readouterr().err
    assert main(["--database-url", demo, "report", "profit"]) == 1
    assert "no report named 'profit'" in capsys.readouterr().err
    assert main(["--database-url", demo, "report", "aging", "--from", "2026-11-02", "--to", "2026-11-01"]) == 1
    assert "before it starts" in capsys.readouterr().err


def test_dashboard_as_text_and_json(demo: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", demo, "dashboard", "--today", TODAY.isoformat(), "--format", "json"]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert [f["name"] for f in figures] == [
        "days_in_ar", "denial_rate", "net_collection_rate", "clean_claim_rate", "total_ar"]
    assert all(len(f["trend"]) == 6 and f["report"] in REPORTS for f in figures)
    assert main(["--database-url", demo, "dashboard", "--today", TODAY.isoformat()]) == 0
    assert "Days in A/R" in capsys.readouterr().out


def test_a_nurse_may_not_read_reports(demo: str, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("INFUSION_DESK_USER", "nurse")
    assert main(["--database-url", demo, "report", "aging"]) == 1
    assert "may not" in capsys.readouterr().err
