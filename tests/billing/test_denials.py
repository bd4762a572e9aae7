"""Denial reasons: CAS group + CARC (+ RARC) to category, plain reason and next step; appeal deadlines."""

from __future__ import annotations

import csv
import io
import re
from datetime import date

import pytest

from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.denials import (
    APPEAL_DAYS,
    CATEGORIES,
    REMARK_CATEGORIES,
    appeal_deadline,
    carc_table,
    explain,
    is_denial,
    parse_carc_table,
    parse_rarc_table,
    rarc_table,
)
from infusion_desk.models.enums import DenialCategory, PayerType

# One case per category at least. Expected categories follow the CARC meanings in
# /work/shared/domain/coding-rules.md §20 (CMS CARC list) and the brief's grouping.
DENIALS = [
    ("CO", "197", "authorization"),       # precertification/authorization absent
    ("CO", "15", "authorization"),        # authorization number missing/invalid
    ("CO", "50", "medical_necessity"),    # not medically necessary
    ("CO", "151", "medical_necessity"),   # frequency/units not supported
    ("CO", "167", "medical_necessity"),   # diagnosis not covered
    ("CO", "4", "coding"),                # modifier inconsistent or missing
    ("CO", "11", "coding"),               # diagnosis inconsistent with procedure
    ("CO", "181", "coding"),              # procedure code invalid on date of service
    ("CO", "182", "coding"),              # modifier invalid on date of service
    ("CO", "16", "missing_information"),  # lacks information / billing error
    ("CO", "252", "missing_information"),  # attachment required
    ("CO", "96", "non_covered"),          # non-covered charge
    ("CO", "204", "non_covered"),         # not covered under current benefit plan
    ("CO", "119", "benefit_limit"),       # benefit maximum reached
    ("CO", "29", "timely_filing"),        # filing limit expired
    ("OA", "18", "duplicate"),            # exact duplicate (OA per X12 usage note)
    ("CO", "B13", "duplicate"),           # previously paid
    ("CO", "97", "bundling"),             # included in another service
    ("CO", "236", "bundling"),            # NCCI procedure-to-procedure pair
    ("CO", "27", "eligibility"),          # coverage terminated
    ("CO", "31", "eligibility"),          # patient not identified as insured
    ("OA", "22", "eligibility"),          # coordination of benefits
    ("CO", "109", "eligibility"),         # not covered by this payer
    ("CO", "B9", "eligibility"),          # patient in hospice
    ("CO", "B7", "other"),                # provider not certified/eligible on that date
    ("CO", "185", "other"),               # rendering provider not eligible
    ("PI", "A1", "other"),                # generic denial, remark says why
]

NOT_DENIALS = [
    ("CO", "45"),   # charge exceeds fee schedule: contractual write-off
    ("PR", "1"),    # deductible
    ("PR", "2"),    # coinsurance
    ("PR", "3"),    # copay
    ("CO", "253"),  # sequestration
    ("CO", "59"),   # multiple procedure reduction
    ("CO", "94"),   # processed in excess of charges
    ("CO", "B10"),  # component already paid
    ("OA", "23"),   # impact of prior payer adjudication
    ("PI", "45"),   # a contractual write-down stays one under any group
]


@pytest.mark.parametrize(("group", "reason", "category"), DENIALS)
def test_each_denial_reason_has_its_category_and_is_a_work_item(group: str, reason: str, category: str) -> None:
    explained = explain(group, reason)
    assert (explained.group, explained.reason) == (group, reason)
    assert explained.category == category
    assert explained.is_denial is True
    assert is_denial(group, reason) is True
    assert explained.description and explained.action
    assert explained.remarks == ()


def test_every_category_is_reached_by_some_reason_code() -> None:
    assert {category for _, _, category in DENIALS} == set(CATEGORIES)


@pytest.mark.parametrize(("group", "reason"), NOT_DENIALS)
def test_contractual_and_patient_share_adjustments_are_not_denials(group: str, reason: str) -> None:
    assert explain(group, reason).is_denial is False
    assert is_denial(group, reason) is False


def test_contractual_write_off_says_not_to_bill_the_patient() -> None:
    assert "Do not bill the patient" in explain("CO", "45").action


@pytest.mark.parametrize("reason", ["50", "96", "204", "27", "999"])
def test_patient_responsibility_is_never_a_denial_work_item(reason: str) -> None:
    explained = explain("PR", reason)
    assert explained.is_denial is False
    assert is_denial("PR", reason) is False


def test_patient_responsibility_keeps_the_reason_and_says_who_to_bill() -> None:
    explained = explain("PR", "50")
    assert explained.category == "medical_necessity"
    assert explained.description == carc_table()["50"].description == explain("CO", "50").description
    assert "bill the secondary payer" in explained.action
    assert "ABN" in explained.action
    # the same reason under CO is the clinic's to appeal
    assert "appeal" in explain("CO", "50").action


def test_authorization_denial_tells_the_biller_where_to_look() -> None:
    action = explain("CO", "197").action
    assert "authorization number" in action
    assert "approval letter" in action
    assert "retro-authorization" in action


@pytest.mark.parametrize("reason", ["999", "Z9", "0"])
def test_unknown_reason_code_is_an_other_denial_that_asks_for_the_table_to_grow(reason: str) -> None:
    explained = explain("CO", reason)
    assert explained.is_denial is True
    assert explained.category == "other"
    assert f"Reason code {reason} is not in Infusion Desk's table" in explained.description
    assert explained.action == "Look the code up on the X12 CARC list and add it to resources/carc.csv."


def test_blank_codes_do_not_crash() -> None:
    explained = explain("", " ", remarks=["", "  "])
    assert explained.is_denial is True
    assert explained.category == "other"
    assert "(blank)" in explained.description
    assert explained.remarks == ()


def test_codes_are_read_whatever_their_case_and_spacing() -> None:
    explained = explain(" co ", " b9 ", remarks=[" n20 "])
    assert (explained.group, explained.reason) == ("CO", "B9")
    assert explained.remarks[0][0] == "N20"


def test_remarks_append_their_text_in_order_without_changing_the_category() -> None:
    explained = explain("CO", "16", remarks=["M119", "N290"])
    assert explained.category == "missing_information"
    assert explained.remarks == (
        ("M119", rarc_table()["M119"]),
        ("N290", rarc_table()["N290"]),
    )
    lines = explained.description.splitlines()
    assert lines[0] == carc_table()["16"].description
    assert lines[1] == f"Remark M119: {rarc_table()['M119']}"
    assert lines[2] == f"Remark N290: {rarc_table()['N290']}"
    assert "NDC" in lines[1]


def test_a_repeated_remark_is_shown_once() -> None:
    assert [code for code, _ in explain("CO", "16", remarks=["M51", "m51"]).remarks] == ["M51"]


def test_unknown_remark_is_shown_with_a_note_to_add_it() -> None:
    explained = explain("CO", "16", remarks=["N9999"])
    assert explained.category == "missing_information"
    code, text = explained.remarks[0]
    assert code == "N9999"
    assert "add it to resources/rarc.csv" in text
    assert "Remark N9999:" in explained.description


@pytest.mark.parametrize(
    ("reason", "remark", "category"),
    [
        ("96", "N20", "bundling"),        # not payable with another service the same day
        ("50", "M80", "bundling"),        # not covered in the same session as another service
        ("A1", "N390", "bundling"),       # cannot be billed separately
        ("16", "N54", "authorization"),   # claim does not match the authorized services
        ("A1", "N522", "duplicate"),      # already processed as a crossover claim
        ("50", "N426", "non_covered"),    # self-administered drug exclusion
        ("999", "N20", "bundling"),       # even an unknown reason code is refined
    ],
)
def test_a_few_remarks_settle_the_category(reason: str, remark: str, category: str) -> None:
    assert explain("CO", reason).category != category
    assert explain("CO", reason, remarks=[remark]).category == category


def test_the_first_remark_that_implies_a_category_wins() -> None:
    assert explain("CO", "A1", remarks=["M51", "N54", "N20"]).category == "authorization"


def test_remarks_never_turn_a_non_denial_into_a_denial() -> None:
    for group, reason in (("CO", "45"), ("PR", "2")):
        explained = explain(group, reason, remarks=["N20"])
        assert explained.is_denial is False
        assert explained.category == "other"
        assert "Remark N20:" in explained.description


def test_remark_categories_are_valid_and_their_codes_are_in_the_table() -> None:
    assert set(REMARK_CATEGORIES.values()) <= set(CATEGORIES)
    assert set(REMARK_CATEGORIES) <= set(rarc_table())


# Appeal windows. Sources: Medicare redetermination 120 days (42 CFR 405.942); Medicaid is set
# by each state, commonly 60-90 days (60 chosen, the safe side); commercial 180 days (ACA floor for
# internal appeals, 45 CFR 147.136); "other" falls back to the shortest default.
@pytest.mark.parametrize(
    ("payer_type", "expected"),
    [
        (PayerType.MEDICARE, date(2027, 3, 20)),    # 120 days after 11/20/2026
        (PayerType.MEDICAID, date(2027, 1, 19)),    # 60 days
        (PayerType.COMMERCIAL, date(2027, 5, 19)),  # 180 days
        (PayerType.OTHER, date(2027, 1, 19)),       # 60 days
        ("Medicare", date(2027, 3, 20)),            # the payer type as typed
    ],
)
def test_appeal_deadline_by_payer_type(payer_type: str, expected: date) -> None:
    assert appeal_deadline(date(2026, 11, 20), payer_type) == expected


def test_every_payer_type_has_a_default_window() -> None:
    assert set(APPEAL_DAYS) == {kind.value for kind in PayerType}


def test_payer_appeal_days_override_the_default() -> None:
    assert appeal_deadline(date(2026, 11, 20), PayerType.COMMERCIAL, appeal_days=90) == date(2027, 2, 18)
    assert appeal_deadline(date(2026, 11, 20), PayerType.MEDICARE, appeal_days=120) == date(2027, 3, 20)
    assert appeal_deadline(date(2026, 11, 20), "anything", appeal_days=30) == date(2026, 12, 20)


def test_appeal_deadline_crosses_a_leap_day() -> None:
    assert appeal_deadline(date(2027, 12, 1), PayerType.MEDICAID) == date(2028, 1, 30)
    assert appeal_deadline(date(2028, 1, 15), PayerType.MEDICAID) == date(2028, 3, 15)  # Feb 2028 has 29 days


def test_appeal_deadline_refuses_a_bad_window_or_payer_type() -> None:
    with pytest.raises(ValueError, match="at least one day, not 0"):
        appeal_deadline(date(2026, 11, 20), PayerType.MEDICARE, appeal_days=0)
    with pytest.raises(ValueError, match="Unknown payer type 'dental'"):
        appeal_deadline(date(2026, 11, 20), "dental")


# The shipped tables, read as plain CSV (not through the parser under test).
def _csv(name: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(read_resource_text(name))))


def _order(code: str) -> tuple[str, int]:
    match = re.fullmatch(r"([A-Z]*)(\d+)", code)
    assert match, f"{code!r} is not a code of letters then digits"
    return match.group(1), int(match.group(2))


@pytest.mark.parametrize(
    ("name", "header"),
    [
        ("carc.csv", ["code", "category", "is_denial", "description", "action"]),
        ("rarc.csv", ["code", "description"]),
    ],
)
def test_shipped_table_is_well_formed_and_sorted(name: str, header: list[str]) -> None:
    rows = _csv(name)
    assert rows[0] == header
    body = rows[1:]
    for row in body:
        assert len(row) == len(header), row
        assert all(cell.strip() == cell and cell for cell in row), row
    codes = [row[0] for row in body]
    assert len(codes) == len(set(codes)), "a code appears twice"
    assert codes == sorted(codes, key=_order)


def test_carc_table_rows_have_valid_categories_and_flags() -> None:
    rows = _csv("carc.csv")[1:]
    assert len(rows) >= 60
    assert {category for _, category, *_ in rows} <= {c.value for c in DenialCategory}
    assert {flag for _, _, flag, *_ in rows} == {"0", "1"}


def test_carc_table_holds_the_codes_an_infusion_clinic_meets() -> None:
    table = carc_table()
    named = {"1", "2", "3", "4", "11", "15", "16", "18", "22", "27", "29", "31", "45", "50", "59", "94", "96",
             "97", "109", "119", "151", "167", "181", "182", "183", "185", "197", "204", "236", "252", "253",
             "B7", "B9", "B10"}
    assert named <= set(table)
    for code in ("1", "2", "3", "45", "253", "59", "94", "B10"):
        assert table[code].is_denial is False, code


def test_rarc_table_holds_the_common_remarks() -> None:
    assert len(rarc_table()) >= 30
    assert {"N20", "N290", "M20", "M51", "N56", "N115", "MA04", "N30", "N386", "N519", "MA130"} <= set(rarc_table())


def test_categories_are_exactly_the_denial_category_values() -> None:
    assert CATEGORIES == tuple(c.value for c in DenialCategory)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("code,category\n4,coding\n", "first line must be the column names"),
        ("code,category,is_denial,description,action\n4,typo,1,Bad modifier.,Fix it.\n",
         r"line 2 \(4\): category 'typo' is not one of authorization"),
        ("code,category,is_denial,description,action\n4,coding,yes,Bad modifier.,Fix it.\n",
         r"line 2 \(4\): is_denial must be 0 or 1"),
        ("code,category,is_denial,description,action\n4,coding,1,Bad modifier.,\n",
         "line 2: action is empty"),
        ("code,category,is_denial,description,action\n4,coding,1,Bad, modifier.,Fix it.\n",
         "line 2: 6 fields instead of 5.*double quotes"),
        ("code,category,is_denial,description,action\n4,coding,1,A.,B.\n\n4,coding,1,C.,D.\n",
         "line 4: code 4 appears twice"),
    ],
)
def test_a_malformed_carc_table_is_refused_with_the_line_and_the_fix(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_carc_table(text)


def test_an_edited_carc_table_is_read_with_quotes_blank_lines_and_lower_case_codes() -> None:
    table = parse_carc_table(
        'code,category,is_denial,description,action\n\nb7,other,1,"Not enrolled, yet.",Enroll.\n'
    )
    assert table["B7"].description == "Not enrolled, yet."
    assert table["B7"].is_denial is True


def test_a_malformed_rarc_table_is_refused() -> None:
    with pytest.raises(ValueError, match="rarc.csv line 3: code N20 appears twice"):
        parse_rarc_table("code,description\nN20,One.\nN20,Two.\n")
    with pytest.raises(ValueError, match="line 2: description is empty"):
        parse_rarc_table("code,description\nN20,\n")
