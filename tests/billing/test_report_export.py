"""Reports written as CSV, XLSX and PDF, read back the way a manager's tools would read them."""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook
from pypdf import PdfReader

from infusion_desk.billing.report_export import chart_png, to_csv, to_pdf, to_xlsx
from infusion_desk.billing.report_model import (
    COUNT,
    DATE,
    MONEY,
    PERCENT,
    TEXT,
    Chart,
    Column,
    Report,
    Row,
)

D = Decimal

REPORT = Report(
    name="net-collection-rate",
    title="Net collection rate",
    start=date(2026, 9, 1),
    end=date(2026, 10, 31),
    columns=(
        Column("month", "Month", TEXT),
        Column("payments", "Payments", MONEY),
        Column("claims", "Claims", COUNT),
        Column("rate", "Net collection rate", PERCENT),
        Column("as_of", "As of", DATE),
    ),
    rows=(
        Row(("2026-09", D("1234.50"), 3, D("95.5"), date(2026, 9, 30)), claim_ids=(1, 2, 3)),
        Row(("2026-10", D("0.00"), 0, None, date(2026, 10, 31))),
    ),
    total=Row(("Total", D("1234.50"), 3, D("95.5"), None)),
    chart=Chart("line", "month", ("rate",), "Net collection rate by month"),
    notes=("Net collection rate = payments ÷ (charges − contractual adjustments) × 100.",),
)


def test_csv_has_the_header_every_row_and_the_total_last_with_plain_values() -> None:
    rows = list(csv.reader(io.StringIO(to_csv(REPORT))))
    assert rows == [
        ["Month", "Payments", "Claims", "Net collection rate", "As of"],
        ["2026-09", "1234.50", "3", "95.5", "2026-09-30"],
        ["2026-10", "0.00", "0", "", "2026-10-31"],
        ["Total", "1234.50", "3", "95.5", ""],
    ]


def test_xlsx_keeps_numbers_as_numbers_with_money_and_percent_formats_and_notes() -> None:
    sheet = load_workbook(io.BytesIO(to_xlsx(REPORT))).active
    assert sheet["A1"].value == "Net collection rate" and sheet["A1"].font.bold
    assert sheet["A2"].value == "09/01/2026 to 10/31/2026"
    header = [c.value for c in sheet[4]]
    assert header == ["Month", "Payments", "Claims", "Net collection rate", "As of"]
    assert all(c.font.bold for c in sheet[4])
    september = sheet[5]
    assert september[1].value == 1234.5 and september[1].number_format == "#,##0.00"
    assert september[3].value == 95.5 and "%" in september[3].number_format
    assert september[4].value.date() == date(2026, 9, 30)
    total = sheet[7]
    assert total[0].value == "Total" and total[0].font.bold
    assert sheet[9][0].value.startswith("Net collection rate = payments")


def test_pdf_prints_title_table_notes_and_draws_the_chart() -> None:
    pdf = to_pdf(REPORT)
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Net collection rate" in text and "09/01/2026 to 10/31/2026" in text
    assert "1,234.50" in text and "95.5%" in text and "Total" in text
    assert "payments ÷ (charges − contractual adjustments)" in text
    assert any(page.images for page in reader.pages)  # the chart
    png = chart_png(REPORT)
    assert png is not None and png.startswith(b"\x89PNG")


def test_every_chart_kind_draws_and_a_report_without_rows_still_exports() -> None:
    for kind in ("bar", "stacked_bar", "line"):
        report = Report(
            "aging", "A/R aging", None, date(2026, 11, 30),
            (Column("payer", "Payer", TEXT), Column("a", "0-30", MONEY), Column("b", "31-60", MONEY)),
            (Row(("Plan A", D("1.00"), D("2.00"))), Row(("Plan B", D("3.00"), None))),
            chart=Chart(kind, "payer", ("a", "b")),  # type: ignore[arg-type]
        )
        assert chart_png(report) is not None
        assert b"%PDF" in to_pdf(report)[:8]
    empty = Report("aging", "A/R aging", None, date(2026, 11, 30), REPORT.columns, (), chart=REPORT.chart)
    assert chart_png(empty) is None
    assert "As of 11/30/2026" in PdfReader(io.BytesIO(to_pdf(empty))).pages[0].extract_text()
    assert to_csv(empty).splitlines() == ["Month,Payments,Claims,Net collection rate,As of"]
