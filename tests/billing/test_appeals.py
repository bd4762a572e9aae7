"""Appeal letters: every template loads and fills, and the PDFs read back with the filled facts."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from infusion_desk.billing.appeals import (
    ADMINISTRATION_RECORD,
    AUTHORIZATION_SUMMARY,
    AdministrationFacts,
    AppealFacts,
    AuthorizationFacts,
    DiagnosisFacts,
    Letterhead,
    OrderFacts,
    ReactionFacts,
    VitalFacts,
    covered_indication,
    draft_letter,
    letter_pages,
    letter_templates,
    parse_letter_templates,
    render_administration_record,
    render_authorization_summary,
    render_letter_pdf,
    template_for,
)
from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.denials import CATEGORIES
from infusion_desk.billing.money import money

LETTERHEAD = Letterhead(
    "Lakeview Infusion Suite", ("400 Example Avenue", "Springfield, IL 62701"), "217-555-0142",
    "1234567893", "123456789",
)
DOS = date(2026, 11, 2)
CLINIC = ZoneInfo("America/Chicago")


def _at(hour: int, minute: int) -> datetime:
    """A moment of the date of service in the clinic's local time (as the service hands them over)."""
    return datetime(2026, 11, 2, hour, minute, tzinfo=CLINIC)


INFLIXIMAB = AdministrationFacts(
    drug="infliximab", hcpcs="J1745", method="infusion", route="IV",
    start=_at(9, 5), stop=_at(11, 20),
    pauses=((_at(10, 0), _at(10, 10)),),
    iv_site="left forearm", dose_amount=Decimal("480"), dose_unit="mg", waste_amount=Decimal("20"),
    lot="DEMO12345", lot_expiry=date(2027, 6, 30), ndc="57894003001", nurse="Nora Nurse",
)
SALINE = AdministrationFacts(
    drug="normal saline", hcpcs="J7050", method="infusion", route="IV",
    start=_at(8, 50), stop=_at(9, 5), nurse="Nora Nurse",
)
CROHN = DiagnosisFacts("K5090", "Crohn's disease, unspecified, without complications", "Crohn's disease")
FACTS = AppealFacts(
    letter_date=date(2026, 11, 30), category="authorization", letterhead=LETTERHEAD,
    payer_name="Fictional Health Plan", payer_address=("PO Box 1000", "Springfield, IL 62701"),
    patient_name="Example, Testy", patient_birth_date=date(1960, 1, 2), mrn="DM0000001",
    member_id="XYZ123456", group_number="GRP-9", claim_number="C0000042", payer_claim_number="ICN-2026-77",
    service_from=DOS, service_to=DOS, denied_service="J1745 x 50 units on 11/02/2026", adjustment_code="CO-197",
    denial_reason="The payer has no authorization for this service.\nRemark N54: Not what was authorized.",
    amount_appealed=money("4500.00"), billed_amount=money("4812.00"), signer_name="Bill Er",
    billed_lines=("96413 x 1 ($312.00)", "J1745 x 50 units ($4,500.00)"),
    claim_authorization_number="PA-55501", rendering_provider="Avery Example, MD",
    order=OrderFacts("infliximab", "J1745", "5 mg/kg", "every 8 weeks", date(2026, 1, 5), date(2027, 1, 4),
                     "Avery Example, MD", (CROHN,)),
    diagnoses=(CROHN,),
    authorizations=(
        AuthorizationFacts("PA-55501", "approved", date(2026, 6, 1), date(2026, 12, 31), ("J1745", "96413"),
                           Decimal("300"), 6, covers_service=True),
        AuthorizationFacts("PA-11100", "expired", date(2025, 6, 1), date(2025, 12, 31), ("J1745",)),
    ),
    administrations=(SALINE, INFLIXIMAB),
    vitals=(VitalFacts(_at(8, 45), 128, 82, 72, 16, Decimal("36.8"), 98, 0, "Nora Nurse"),),
    reactions=(ReactionFacts(_at(10, 0), "mild", "flushing", _at(10, 10),
                             ("infusion paused, slowed on restart",)),),
    submissions=((date(2026, 11, 3), "sent in batch file DEMO_000000001.837"),
                 (date(2026, 11, 4), "accepted by the clearinghouse (999)")),
    coverage="Policy PPO Gold, member ID XYZ123456, in force from 01/01/2026; verified active on 10/30/2026.",
)


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    return "\n".join(page.extract_text() for page in reader.pages)


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_the_shipped_file_has_a_template_for_every_category_and_each_fills_every_placeholder() -> None:
    templates = letter_templates()
    assert "default" in templates
    for category in CATEGORIES:
        template = template_for(category)
        letter = draft_letter(replace(FACTS, category=category), template)
        assert "{" not in letter and "}" not in letter, category  # nothing left unfilled
        for expected in ("Example, Testy", "C0000042", "ICN-2026-77", "11/02/2026", "$4,500.00", "CO-197",
                         "Enclosures:", "Bill Er", "Dear Appeals Reviewer"):
            assert expected in letter, (category, expected)
        assert "The payer has no authorization for this service. Remark N54" in letter
    assert template_for("other") is templates["default"]  # no template of its own: the default


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        # each category argues from the facts that answer that kind of denial
        ("authorization", ["Authorization PA-55501 was approved for J1745, 96413, valid 06/01/2026 to 12/31/2026"]),
        ("medical_necessity", ["K50.90 (Crohn's disease)", "infliximab (J1745) 5 mg/kg, every 8 weeks"]),
        ("coding", ["start 11/02/2026 09:05, stop 11/02/2026 11:20, 125 minutes", "waste 20 mg"]),
        ("timely_filing", ["11/03/2026: sent in batch file DEMO_000000001.837", "accepted by the clearinghouse"]),
        ("eligibility", ["verified active on 10/30/2026"]),
        ("duplicate", ["It is the only claim for these services."]),
    ],
)
def test_each_category_argues_with_its_own_facts(category: str, expected: list[str]) -> None:
    letter = _flat(draft_letter(replace(FACTS, category=category), template_for(category)))
    for text in expected:
        assert text in letter


def test_missing_facts_are_said_plainly_never_left_blank() -> None:
    bare = replace(FACTS, payer_claim_number=None, authorizations=(), order=None, diagnoses=(),
                   administrations=(), claim_authorization_number=None, submissions=(), group_number=None)
    for category in ("authorization", "medical_necessity", "coding", "timely_filing"):
        letter = _flat(draft_letter(replace(bare, category=category), template_for(category)))
        assert "not given on the remittance" in letter  # the payer claim number
        assert "No authorization is on file that covers 11/02/2026" in letter or category in ("coding", "timely_filing")
    authorization = _flat(draft_letter(bare, template_for("authorization")))
    assert "no administration is documented in the nursing record" in authorization
    assert "none (the claim carried no authorization number)" in authorization
    assert "no physician order is on file" in _flat(draft_letter(bare, template_for("medical_necessity")))
    assert "no submission of this claim is recorded" in _flat(draft_letter(bare, template_for("timely_filing")))


def _templates(argument: str) -> str:
    data = json.loads(read_resource_text("appeal_letters.json"))
    data["templates"]["coding"]["argument"] = [argument]
    return json.dumps(data)


def test_an_unknown_placeholder_is_refused_at_load_naming_the_template_and_the_placeholder() -> None:
    with pytest.raises(ValueError, match=r"template 'coding' argument\[0\]: unknown placeholder \{auth_nmber\}"):
        parse_letter_templates(_templates("Authorization {auth_nmber} covers it."))
    with pytest.raises(ValueError, match=r"placeholder \{drug\} takes no format"):
        parse_letter_templates(_templates("{drug!r}"))
    with pytest.raises(ValueError, match="literal brace"):
        parse_letter_templates(_templates("a lone { brace"))
    data = json.loads(read_resource_text("appeal_letters.json"))
    data["templates"]["denyal"] = data["templates"]["coding"]
    with pytest.raises(ValueError, match="template 'denyal' is not a denial category"):
        parse_letter_templates(json.dumps(data))
    data = json.loads(read_resource_text("appeal_letters.json"))
    data["templates"]["coding"]["enclosures"] = [{"item": "Record", "printed_by_app": "fax"}]
    with pytest.raises(ValueError, match=r"enclosures\[0\]: printed_by_app 'fax'"):
        parse_letter_templates(json.dumps(data))
    # a literal brace written twice is allowed
    assert parse_letter_templates(_templates("Codes {{as billed}}: {billed_lines}"))["coding"]


def test_the_letter_pdf_carries_the_filled_facts_and_the_letterhead() -> None:
    letter = draft_letter(FACTS, template_for("authorization"))
    text = _flat(_text(render_letter_pdf(letter, LETTERHEAD, title="Appeal C0000042")))
    for expected in ("Lakeview Infusion Suite", "Phone 217-555-0142", "Example, Testy", "C0000042", "ICN-2026-77",
                     "11/02/2026", "The payer has no authorization for this service", "PA-55501",
                     "started 11/02/2026 09:05 and stopped 11/02/2026 11:20", "infliximab (J1745) 480 mg",
                     "waste 20 mg", "Authorization summary", "Page 1 of"):
        assert expected in text, expected


def test_a_long_letter_wraps_and_runs_onto_more_pages_without_losing_words() -> None:
    paragraph = " ".join(f"word{n}" for n in range(400))
    letter = "Re: a long appeal\n\n" + "\n\n".join([paragraph] * 4)
    pages = letter_pages(letter, LETTERHEAD)
    assert len(pages) >= 2
    pdf = render_letter_pdf(letter, LETTERHEAD)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == len(pages)
    assert all(page.mediabox.width == 612 and page.mediabox.height == 792 for page in reader.pages)
    words = _text(pdf).split()
    assert words.count("word399") == 4 and f"Page {len(pages)} of {len(pages)}" in _text(pdf)
    assert all(len(line) < 110 for page in pages for line in page)  # wrapped to the page


def test_the_administration_record_prints_each_administration_with_local_times() -> None:
    text = _flat(_text(render_administration_record(FACTS)))
    for expected in ("Infusion administration record", "Example, Testy", "C0000042", "ICN-2026-77",
                     "1. normal saline (J7050)", "2. infliximab (J1745)", "480 mg", "Waste: 20 mg",
                     "Start: 11/02/2026 09:05", "Stop: 11/02/2026 11:20", "Minutes running: 125",
                     "11/02/2026 10:00 to 11/02/2026 10:10", "DEMO12345, expires 06/30/2027", "57894003001",
                     "left forearm", "Nora Nurse", "128/82", "flushing", "infusion paused",
                     "K50.90 Crohn's disease"):
        assert expected in text, expected


def test_the_authorization_summary_lists_what_is_on_file() -> None:
    text = _flat(_text(render_authorization_summary(FACTS)))
    for expected in ("Prior authorization summary", "Authorization PA-55501", "06/01/2026 to 12/31/2026",
                     "J1745, 96413", "Units approved: 300", "Covers this service: yes", "PA-11100",
                     "Covers this service: no", "Number on the claim: PA-55501"):
        assert expected in text, expected
    empty = _flat(_text(render_authorization_summary(replace(FACTS, authorizations=()))))
    assert "No authorization is on file that covers 11/02/2026" in empty


def test_the_templates_name_the_enclosures_the_app_prints() -> None:
    printed = {e.printed_by_app for e in template_for("authorization").enclosures}
    assert {ADMINISTRATION_RECORD, AUTHORIZATION_SUMMARY} <= printed
    assert ADMINISTRATION_RECORD in {e.printed_by_app for e in template_for("coding").enclosures}


def test_covered_indications_come_from_the_clinics_list() -> None:
    # resources/covered_diagnoses.json lists Crohn's disease (K50) for infliximab
    assert covered_indication("J1745", "K50.90")
    assert covered_indication("j1745", "K5090") == covered_indication("J1745", "K50.90")
    assert covered_indication("J1745", "Z00.00") is None
    assert covered_indication("J9999", "K50.90") is None
