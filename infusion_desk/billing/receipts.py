"""The receipt a patient takes home: a copay at the front desk, a payment on account, a refund.

    >>> from infusion_desk.billing.money import money
    >>> receipt = Receipt(
    ...     number="R-000042", received_on=date(2026, 11, 26), clinic_name="Lakeview Infusion Suite",
    ...     clinic_address=("400 Example Avenue", "Springfield, IL 62701"), clinic_phone="217-555-0142",
    ...     patient_name="Example, Testy", mrn="DM0000001", visit_date=date(2026, 11, 26),
    ...     amount=money("40.00"), method="card", reference="auth 1234", received_by="Front Desk")
    >>> pdf = render_receipt(receipt)
    >>> pdf[:5]
    b'%PDF-'

A payment on account also lists the lines it paid, what was kept as a credit, and the
balance and credit left (``applied``, ``patient_due``, ``credit_balance``); a copay receipt
leaves those out. The PDF is letter size, with text a reader can copy (not an image), so the
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

ZERO = Decimal("0.00")


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
    refund: bool = False
    applied: tuple[tuple[date, str, str, Decimal], ...] = ()
    """For a payment on account: (date of service, claim number, code, amount) of each line paid."""
    patient_due: Decimal | None = None
    """The balance the patient still owes after it; ``None`` for a copay receipt."""
    credit_balance: Decimal = ZERO


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def render_receipt(receipt: Receipt) -> bytes:
    """The receipt as PDF bytes (identical bytes for the same receipt)."""
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=True)
    title = "Refund" if receipt.refund else "Payment receipt"
    canvas.setTitle(f"{'Refund' if receipt.refund else 'Receipt'} {receipt.number}")
    canvas.setAuthor(receipt.clinic_name)
    width, height = LETTER
    left = 1 * inch
    right = width - left
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
    canvas.drawString(left, y, title)
    canvas.setFont("Helvetica", 10)
    canvas.drawRightString(right, y, f"Receipt no. {receipt.number}")

    if receipt.refund:
        purpose = "Refund of a credit on the account"
    elif receipt.visit_date is not None:
        purpose = f"Copay for the visit of {receipt.visit_date:%m/%d/%Y}"
    elif receipt.patient_due is not None:
        purpose = "Payment on account"
    else:
        purpose = "Payment"
    rows = [
        ("Date received" if not receipt.refund else "Date", f"{receipt.received_on:%m/%d/%Y}"),
        ("Patient", receipt.patient_name),
        ("MRN", receipt.mrn),
        ("For", purpose),
        (
            "Refunded by" if receipt.refund else "Paid by",
            METHOD_LABELS.get(receipt.method, receipt.method.title()),
        ),
    ]
    if receipt.reference:
        rows.append(("Reference", receipt.reference))
    rows.append(("Issued by" if receipt.refund else "Received by", receipt.received_by))
    y -= 28
    for label, value in rows:
        canvas.setFont("Helvetica-Bold", 10)
        canvas.drawString(left, y, f"{label}:")
        canvas.setFont("Helvetica", 10)
        canvas.drawString(left + 1.6 * inch, y, value)
        y -= 16

    y -= 12
    canvas.line(left, y + 8, right, y + 8)
    canvas.setFont("Helvetica-Bold", 13)
    canvas.drawString(left, y - 10, "Amount refunded" if receipt.refund else "Amount paid")
    canvas.drawRightString(right, y - 10, _money(receipt.amount))
    y -= 40

    if receipt.patient_due is None:
        footer = (
            "This payment is applied to your account. "
            "Your insurance may bill you for any balance after it pays."
        )
    else:
        footer = "Amounts your insurance has not yet answered for are not billed to you until it does."
        if not receipt.refund:
            y = _applied(canvas, receipt, y, left, right, height)
        canvas.setFont("Helvetica", 10)
        canvas.drawString(left, y, f"Balance due now: {_money(receipt.patient_due)}")
        if receipt.credit_balance > 0:
            canvas.drawString(left + 3.2 * inch, y, f"Credit on account: {_money(receipt.credit_balance)}")

    canvas.setFont("Helvetica-Oblique", 9)
    canvas.drawString(left, 1 * inch, footer)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _applied(canvas: Canvas, receipt: Receipt, y: float, left: float, right: float, height: float) -> float:
    """The lines a payment on account went to, and what it left as a credit; returns the next y."""
    canvas.setFont("Helvetica-Bold", 10)
    canvas.drawString(left, y, "Applied to")
    y -= 16
    if receipt.applied:
        canvas.drawString(left, y, "Date of service")
        canvas.drawString(left + 1.4 * inch, y, "Claim")
        canvas.drawString(left + 3.2 * inch, y, "Service")
        canvas.drawRightString(right, y, "Amount")
        canvas.setFont("Helvetica", 10)
        for service_date, claim_number, code, amount in receipt.applied:
            y -= 14
            if y < 1.6 * inch:
                canvas.showPage()
                canvas.setFont("Helvetica", 10)
                y = height - 1 * inch
            canvas.drawString(left, y, f"{service_date:%m/%d/%Y}")
            canvas.drawString(left + 1.4 * inch, y, claim_number)
            canvas.drawString(left + 3.2 * inch, y, code)
            canvas.drawRightString(right, y, _money(amount))
    unapplied = receipt.amount - sum((row[3] for row in receipt.applied), ZERO)
    if unapplied > 0:
        y -= 14
        canvas.setFont("Helvetica", 10)
        canvas.drawString(left, y, "Kept as a credit on the account")
        canvas.drawRightString(right, y, _money(unapplied))
    return y - 28
