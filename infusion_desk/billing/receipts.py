"""The receipt a patient takes home after paying a copay at the front desk.

    >>> from infusion_desk.billing.money import money
    >>> receipt = Receipt(
    ...     number="R-000042", received_on=date(2026, 11, 26), clinic_name="Lakeview Infusion Suite",
    ...     clinic_address=("400 Example Avenue", "Springfield, IL 62701"), clinic_phone="217-555-0142",
    ...     patient_name="Example, Testy", mrn="DM0000001", visit_date=date(2026, 11, 26),
    ...     amount=money("40.00"), method="card", reference="auth 1234", received_by="Front Desk")
    >>> pdf = render_receipt(receipt)
    >>> pdf[:5]
    b'%PDF-'

The PDF is one page, letter size, with text a reader can copy (not an image), so the
tests read it back. Nothing here touches the database or the disk: the caller saves or
prints the bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.pdfgen.canvas import Canvas

METHOD_LABELS = {"cash": "Cash", "check": "Check", "card": "Card", "other": "Other"}


@dataclass(frozen=True, slots=True)
class Receipt:
    number: str
    received_on: date
    clinic_name: str
    clinic_address: tuple[str, ...]
    clinic_phone: str | None
    patient_name: str
    mrn: str
    visit_date: date | None
    amount: Decimal
    method: str
    reference: str | None
    received_by: str


def render_receipt(receipt: Receipt) -> bytes:
    """The receipt as PDF bytes."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=True)
    canvas.setTitle(f"Receipt {receipt.number}")
    canvas.setAuthor(receipt.clinic_name)
    width, height = LETTER
    left = 1 * inch
    y = height - 1 * inch

    canvas.setFont("Helvetica-Bold", 16)
    canvas.drawString(left, y, receipt.clinic_name)
    canvas.setFont("Helvetica", 10)
    for line in (*receipt.clinic_address, receipt.clinic_phone or ""):
        if line:
            y -= 14
            canvas.drawString(left, y, line)

    y -= 36
    canvas.setFont("Helvetica-Bold", 14)
    canvas.drawString(left, y, "Payment receipt")
    canvas.setFont("Helvetica", 10)
    canvas.drawRightString(width - left, y, f"Receipt no. {receipt.number}")

    rows = [
        ("Date received", f"{receipt.received_on:%m/%d/%Y}"),
        ("Patient", receipt.patient_name),
        ("MRN", receipt.mrn),
        ("For", f"Copay for the visit of {receipt.visit_date:%m/%d/%Y}" if receipt.visit_date else "Payment"),
        ("Paid by", METHOD_LABELS.get(receipt.method, receipt.method.title())),
    ]
    if receipt.reference:
        rows.append(("Reference", receipt.reference))
    rows.append(("Received by", receipt.received_by))
    y -= 28
    for label, value in rows:
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(left, y, f"{label}:")
        canvas.setFont("Helvetica", 10)
        canvas.drawString(left + 1.6 * inch, y, value)
        y -= 16

    y -= 12
    canvas.line(left, y + 8, width - left, y + 8)
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(left, y - 10, "Amount paid")
    canvas.drawRightString(width - left, y - 10, f"${receipt.amount:,.2f}")

    canvas.setFont("Helvetica-Oblique", 9)
    canvas.drawString(
        left, 1 * inch,
        "This payment is applied to your account. Your insurance may bill you for any balance after it pays.",
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
