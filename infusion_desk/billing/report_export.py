"""Any report (:mod:`billing.report_model`) written as CSV, XLSX or PDF, with its notes (the formulas).

CSV is the table as plain values (money to the cent, percentages as numbers), the total row
last; XLSX keeps numbers as numbers with money and percent formats, the header bold, the
title above and the notes below; PDF prints the title, the chart (drawn by matplotlib's
Agg backend, no window), the table and the notes.

    >>> from decimal import Decimal
    >>> from infusion_desk.billing.report_model import MONEY, TEXT, Column, Report, Row
    >>> report = Report("aging", "A/R aging", None, date(2026, 11, 30),
    ...     (Column("payer", "Payer", TEXT), Column("total", "Total", MONEY)),
    ...     (Row(("Fictional Health Plan", Decimal("1200.00"))),), notes=("Aged from the date of service.",))
    >>> print(to_csv(report), end="")
    Payer,Total
    Fictional Health Plan,1200.00
    >>> to_xlsx(report)[:2], to_pdf(report)[:5]
    (b'PK', b'%PDF-')
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from typing import Any

from infusion_desk.billing.report_model import COUNT, DATE, DAYS, MONEY, PERCENT, Report, Row

_XLSX_FORMATS = {MONEY: "#,##0.00", PERCENT: "0.0\\%", DAYS: "0.0", COUNT: "#,##0.###", DATE: "mm/dd/yyyy"}


def cell_text(kind: str, value: Any) -> str:
    """A value as the CSV and the PDF print it.

    >>> cell_text("money", Decimal("1234.5")), cell_text("percent", Decimal("12.5")), cell_text("date", None)
    ('1234.50', '12.5', '')
    """
    if value is None:
        return ""
    if kind == MONEY and isinstance(value, Decimal):
        return f"{value:.2f}"
    if kind == DATE and isinstance(value, date):
        return value.isoformat()
    return str(value)


def _rows(report: Report) -> list[Row]:
    return [*report.rows, *([report.total] if report.total is not None else [])]


def to_csv(report: Report) -> str:
    """The header and every row (the total last), values plain for a spreadsheet to read."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.header for c in report.columns])
    for row in _rows(report):
        writer.writerow([cell_text(c.kind, v) for c, v in zip(report.columns, row.values, strict=True)])
    return out.getvalue()


def _period(report: Report) -> str:
    end = report.end.strftime("%m/%d/%Y")
    if report.start is None:
        return f"As of {end}"
    return f"{report.start.strftime('%m/%d/%Y')} to {end}"


def to_xlsx(report: Report) -> bytes:
    """A workbook: title and period, the bold header, typed cells with money/percent formats, the notes."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = report.name[:31]
    sheet.append([report.title])
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append([_period(report)])
    sheet.append([])
    sheet.append([c.header for c in report.columns])
    header_row = sheet.max_row
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    for row in _rows(report):
        sheet.append([_xlsx_value(c.kind, v) for c, v in zip(report.columns, row.values, strict=True)])
        for column, cell in zip(report.columns, sheet[sheet.max_row], strict=False):
            if column.kind in _XLSX_FORMATS:
                cell.number_format = _XLSX_FORMATS[column.kind]
        if row is report.total:
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
    sheet.append([])
    for note in report.notes:
        sheet.append([note])
    for index, column in enumerate(report.columns, start=1):
        letter = sheet.cell(header_row, index).column_letter
        sheet.column_dimensions[letter].width = max(12, len(column.header) + 2)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _xlsx_value(kind: str, value: Any) -> Any:
    # openpyxl writes Decimal as a number; money stays exact to the cent in the file
    if isinstance(value, Decimal) and kind == MONEY:
        return value.quantize(Decimal("0.01"))
    return value


def chart_png(report: Report) -> bytes | None:
    """The report's chart as a PNG (matplotlib, Agg backend), or None when it has no chart or no rows."""
    chart = report.chart
    if chart is None or not report.rows:
        return None
    from matplotlib.figure import Figure

    x = report.column_index(chart.x)
    labels = [cell_text("text", row.values[x]) for row in report.rows]
    figure = Figure(figsize=(7.5, 3.2), dpi=120)
    axes = figure.add_subplot()
    positions = list(range(len(labels)))
    bottoms = [0.0] * len(labels)
    width = 0.8 / (1 if chart.kind == "stacked_bar" else max(1, len(chart.series)))
    for number, key in enumerate(chart.series):
        column = report.columns[report.column_index(key)]
        values = [float(row.values[report.column_index(key)] or 0) for row in report.rows]
        if chart.kind == "line":
            axes.plot(positions, values, marker="o", label=column.header)
        elif chart.kind == "stacked_bar":
            axes.bar(positions, values, width, bottom=bottoms, label=column.header)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
        else:
            offset = (number - (len(chart.series) - 1) / 2) * width
            axes.bar([p + offset for p in positions], values, width, label=column.header)
    crowded = len(labels) > 4
    axes.set_xticks(positions, labels, rotation=30 if crowded else 0, ha="right" if crowded else "center",
                    fontsize=7)
    axes.set_title(chart.title or report.title, fontsize=9)
    axes.tick_params(axis="y", labelsize=7)
    if len(chart.series) > 1 or chart.kind == "stacked_bar":
        axes.legend(fontsize=7)
    figure.tight_layout()
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def to_pdf(report: Report) -> bytes:
    """Title and period, the chart, the table (total row bold) and the notes, on landscape letter pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import LETTER, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import inch
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=7, leading=8.5)
    story: list[Any] = [Paragraph(_escape(report.title), styles["Title"]),
                        Paragraph(_escape(_period(report)), styles["Normal"]), Spacer(1, 8)]
    png = chart_png(report)
    if png is not None:
        story += [Image(io.BytesIO(png), width=7.5 * inch, height=3.2 * inch), Spacer(1, 8)]
    data = [[Paragraph(_escape(c.header), small) for c in report.columns]]
    for row in _rows(report):
        data.append([_pdf_text(c.kind, v) for c, v in zip(report.columns, row.values, strict=True)])
    table = Table(data, repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), "Helvetica", 7),
        ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.whitesmoke),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]
    for index, column in enumerate(report.columns):
        if column.kind != "text":
            style.append(("ALIGN", (index, 1), (index, -1), "RIGHT"))
    if report.total is not None:
        style.append(("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 7))
    table.setStyle(TableStyle(style))
    story += [table, Spacer(1, 8)]
    story += [Paragraph(_escape(note), styles["Normal"]) for note in report.notes]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=landscape(LETTER), title=report.title, leftMargin=36, rightMargin=36, topMargin=36,
        bottomMargin=36, invariant=True,
    )
    document.build(story)
    return out.getvalue()


def _pdf_text(kind: str, value: Any) -> str:
    if value is None:
        return "—"
    if kind == MONEY and isinstance(value, Decimal):
        return f"{value:,.2f}"
    if kind == PERCENT:
        return f"{value}%"
    if kind == DATE and isinstance(value, date):
        return value.strftime("%m/%d/%Y")
    return str(value)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
