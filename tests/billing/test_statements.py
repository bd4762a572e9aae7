"""Patient statements: the PDF read back with pypdf for its amounts, dates, aging and stub."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from pypdf import PdfReader

from infusion_desk.billing.appeals import Letterhead
from infusion_desk.billing.money import money
from infusion_desk.billing.statements import (
    DUE,
    PENDING,
    PENDING_SECONDARY,
    Statement,
    StatementLine,
    from_snapshot,
    make_statement,
    parse_statement_texts,
    render_run,
    render_statement,
    statement_pages,
    statement_texts,
    to_snapshot,
)

TODAY = date(2026, 11, 26)
LETTERHEAD = Letterhead("Lakeview Infusion Suite", ("400 Example Avenue", "Springfield, IL 62701"), "217-555-0142")


def line(
    days_ago: int, code: str, share: str, *, paid_by_patient: str = "0", status: str = DUE,
    charge: str = "500.00", insurance: str = "300.00", adjusted: str = "100.00",
) -> StatementLine:
    return StatementLine(
        service_date=TODAY - timedelta(days=days_ago), code=code, description=f"service {code}",
        charge=money(charge), insurance_paid=money(insurance), adjustments=money(adjusted),
        patient_responsibility=money(share), patient_paid=money(paid_by_patient), status=status,
    )


def statement(*lines: StatementLine, previous: str = "0", payments: str = "0", **overrides: object) -> Statement:
    values: dict[str, object] = {
        "letterhead": LETTERHEAD,
        "remit_to": ("PO Box 400", "Springfield, IL 62705"),
        "patient_name": "Example, Testy",
        "account_number": "DM0000001",
        "mail_to": ("Testy Example", "1 Demo St", "Springfield, IL 62701"),
        "statement_date": TODAY,
        "due_date": TODAY + timedelta(days=21),
        "lines": lines,
        "previous_balance": money(previous),
        "payments_since_last": money(payments),
    }
    values.update(overrides)
    return make_statement(**values)  # type: ignore[arg-type]


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def test_the_pdf_shows_the_amount_due_the_due_date_the_aging_and_the_stub() -> None:
    made = statement(
        line(10, "96413", "80.00"),                            # current
        line(45, "J1745", "150.00", paid_by_patient="50.00"),  # 31-60, $100.00 left
        line(75, "96415", "20.00"),                            # 61-90
        line(120, "J1569", "1234.56"),                         # over 90
        previous="900.00", payments="100.00",
    )
    assert made.amount_due == Decimal("1434.56")
    [text] = pages_text(render_statement(made))
    for expected in (
        "Lakeview Infusion Suite", "400 Example Avenue", "STATEMENT", "DM0000001",
        "Statement date:", "11/26/2026", "Payment due by:", "12/17/2026",
        "Testy Example", "1 Demo St", "Patient: Example, Testy",       # a guarantor's statement names the patient
        "Previous balance", "$900.00", "-$100.00",                     # payments since the last statement
        "New charges and adjustments", "$634.56",                      # 1,434.56 - 900 + 100
        "Amount due", "$1,434.56",
        "Current (0-30 days)", "$80.00", "31-60 days", "$100.00", "61-90 days", "$20.00",
        "Over 90 days", "$1,234.56",
        "REMITTANCE STUB", "Amount enclosed", "PO Box 400", "Springfield, IL 62705",
        "Ways to pay", "217-555-0142",
    ):
        assert expected in text, expected
    # each due line: charge, insurance paid, adjustments, the patient's share, paid, owed
    row = ["10/12/2026", "J1745 service J1745", "$500.00", "$300.00", "$100.00", "$150.00", "$50.00", "$100.00"]
    assert "\n".join(row) in text


def test_amounts_waiting_for_insurance_are_listed_but_never_due() -> None:
    made = statement(
        line(20, "96413", "40.00"),
        line(5, "J9312", "0", status=PENDING, charge="7000.00", insurance="0", adjusted="0"),
        line(8, "96415", "60.00", status=PENDING_SECONDARY, charge="200.00", insurance="100.00", adjusted="40.00"),
    )
    assert made.amount_due == Decimal("40.00")
    assert made.pending_insurance == Decimal("7060.00")
    assert made.aging.current == Decimal("40.00")
    [text] = pages_text(render_statement(made))
    assert "Waiting for insurance (not due" in text
    assert "$7,000.00" in text and "(secondary insurance)" in text and "$7,060.00" in text
    # the stub and the summary ask for what the patient owes, nothing more
    assert text.count("$40.00") >= 3 and "$7,100.00" not in text


def test_a_statement_with_only_pending_insurance_owes_nothing() -> None:
    made = statement(line(5, "J9312", "0", status=PENDING, insurance="0", adjusted="0"))
    assert made.amount_due == 0 and made.oldest_due_days == 0
    assert "Nothing is due from you" in pages_text(render_statement(made))[0]


def test_a_line_the_patient_overpaid_owes_nothing_rather_than_a_credit() -> None:
    made = statement(line(5, "96413", "40.00", paid_by_patient="55.00"), line(6, "96415", "10.00"))
    assert made.amount_due == Decimal("10.00")


@pytest.mark.parametrize(
    ("oldest_days", "opening", "bucket"),
    [
        # the ages in resources/statement_messages.json: 0, 31, 61 and 91 days
        (0, "Thank you", "current"),
        (30, "Thank you", "current"),
        (31, "Reminder", "days_31_60"),
        (60, "Reminder", "days_31_60"),
        (61, "Second notice", "days_61_90"),
        (90, "Second notice", "days_61_90"),
        (91, "Final notice", "days_91_plus"),
        (400, "Final notice", "days_91_plus"),
    ],
)
def test_the_dunning_message_and_the_aging_bucket_follow_the_oldest_due_line(
    oldest_days: int, opening: str, bucket: str
) -> None:
    made = statement(line(oldest_days, "96413", "25.00"), line(0, "96415", "5.00"))
    assert made.oldest_due_days == oldest_days
    assert made.message.startswith(opening)
    assert "$30.00" in made.message and "12/17/2026" in made.message  # placeholders filled
    assert getattr(made.aging, bucket) == Decimal("25.00") + (Decimal("5.00") if bucket == "current" else 0)
    assert opening in pages_text(render_statement(made))[0]


def test_an_old_pending_line_does_not_make_the_message_harsher() -> None:
    made = statement(line(3, "96413", "25.00"), line(200, "J1745", "0", status=PENDING, insurance="0"))
    assert made.oldest_due_days == 3 and made.message.startswith("Thank you")


def test_a_long_account_is_paginated_with_headings_repeated_and_the_stub_on_page_one_only() -> None:
    lines = [line(days, "J1745", "10.00") for days in range(1, 81)]
    made = statement(*lines, line(0, "96413", "0", status=PENDING))
    texts = pages_text(render_statement(made))
    assert len(texts) == len(statement_pages(made)) >= 3
    for number, text in enumerate(texts, start=1):
        assert f"{number} of {len(texts)}" in text
        assert "You owe" in text or "Waiting for insurance" in text  # column headings on every page
    assert "Amount enclosed" in texts[0] and not any("Amount enclosed" in t for t in texts[1:])
    assert "(continued)" in texts[1] and "Continued on the next page." in texts[0]
    joined = "\n".join(texts)
    for item in lines:  # every date of service is printed once, none lost at a page break
        assert joined.count(f"{item.service_date:%m/%d/%Y}") == 1
    assert "$800.00" in texts[-1]  # the total, on the last page
    assert "Total waiting for insurance" in texts[-1]


def test_a_reprint_from_the_snapshot_is_byte_identical() -> None:
    made = statement(line(45, "J1745", "150.00"), line(5, "J9312", "0", status=PENDING), previous="12.00")
    snapshot = json.loads(json.dumps(to_snapshot(made)))  # as the database keeps it
    assert from_snapshot(snapshot) == made
    assert render_statement(from_snapshot(snapshot)) == render_statement(made)
    assert snapshot["amount_due"] == "150.00"


def test_the_snapshot_keeps_the_words_so_an_edited_messages_file_does_not_change_a_reprint() -> None:
    made = statement(line(45, "J1745", "150.00"))
    edited = parse_statement_texts(json.dumps({
        "dunning": [{"from_days": 0, "text": "New words for {clinic_name}."}],
        "payment_options": ["Pay online."],
    }))
    remade = statement(line(45, "J1745", "150.00"), texts=edited)
    assert remade.message == "New words for Lakeview Infusion Suite." and remade.payment_options == ("Pay online.",)
    assert from_snapshot(to_snapshot(made)).message.startswith("Reminder")


def test_a_run_prints_every_statement_in_one_pdf() -> None:
    first = statement(line(10, "96413", "80.00"))
    second = statement(*(line(d, "J1745", "1.00") for d in range(1, 70)), account_number="DM0000002")
    pdf = render_run([first, second])
    texts = pages_text(pdf)
    assert len(texts) == len(statement_pages(first)) + len(statement_pages(second))
    assert "DM0000001" in texts[0] and "DM0000002" in texts[1]
    assert sum("REMITTANCE STUB" in t for t in texts) == 2  # one stub per statement


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"dunning": [{"from_days": 0, "text": "Pay {amount_owing}"}], "payment_options": ["x"]},
         "dunning[0].text uses {amount_owing}, which is not a placeholder"),
        ({"dunning": [{"from_days": 5, "text": "Pay"}], "payment_options": ["x"]},
         "dunning[0].from_days must be 0"),
        ({"dunning": [{"from_days": 0, "text": "a"}, {"from_days": 0, "text": "b"}], "payment_options": ["x"]},
         "dunning[1].from_days must be larger than the one before (0)"),
        ({"dunning": [{"from_days": 0, "text": "a"}], "payment_options": []},
         '"payment_options" must be a non-empty list'),
        ({"dunning": [{"from_days": 0, "text": "a"}], "payment_options": ["Call {phone"]},
         "payment_options[0]"),
    ],
)
def test_a_mistake_in_the_messages_file_is_refused_naming_the_entry(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)").replace("{", r"\{")
                       .replace("}", r"\}").replace("[", r"\[").replace("]", r"\]")):
        parse_statement_texts(json.dumps(data))


def test_the_shipped_messages_file_loads_with_a_message_for_every_age() -> None:
    texts = statement_texts()
    assert texts.dunning[0][0] == 0 and len(texts.dunning) >= 4 and texts.payment_options
