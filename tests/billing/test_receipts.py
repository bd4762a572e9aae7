"""Copay receipts: a PDF the patient can read, read back with pypdf."""

from __future__ import annotations

import doctest
import io
from datetime import date

from pypdf import PdfReader

from infusion_desk.billing import receipts
from infusion_desk.billing.money import money
from infusion_desk.billing.receipts import Receipt, render_receipt


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return reader.pages[0].extract_text()


def test_worked_example() -> None:
    assert doctest.testmod(receipts).failed == 0


def test_receipt_shows_who_paid_what_for_which_visit() -> None:
    pdf = render_receipt(Receipt(
        number="R-000007", received_on=date(2026, 11, 26), clinic_name="Lakeview Infusion Suite",
        clinic_address=("400 Example Avenue", "Springfield, IL 62701"), clinic_phone="217-555-0142",
        patient_name="Example, Testy", mrn="DM0000001", visit_date=date(2026, 11, 26),
        amount=money("1234.5"), method="check", reference="Check 2041", received_by="Fran Desk",
    ))
    text = _text(pdf)
    for expected in ("Lakeview Infusion Suite", "Receipt no. R-000007", "11/26/2026", "Example, Testy",
                     "DM0000001", "Copay for the visit of 11/26/2026", "Check", "Check 2041", "Fran Desk",
                     "$1,234.50"):
        assert expected in text


def test_same_receipt_renders_the_same_bytes() -> None:
    receipt = Receipt("R-1", date(2026, 1, 2), "Clinic", (), None, "A, B", "M1", None, money(5), "cash",
                      None, "X")
    assert render_receipt(receipt) == render_receipt(receipt)
    assert "Payment" in _text(render_receipt(receipt))
