"""Contract rules: fee schedule and ASP files, the entry and quarter that apply, the expected amount, the shortfall."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from infusion_desk.billing.contracts import (
    FeeEntry,
    LineAnswer,
    PriceStatus,
    Tolerance,
    entry_in_effect,
    expected_allowed,
    line_allowed,
    make_entry,
    parse_asp_file,
    parse_fee_schedule,
    parse_quarter,
    parse_tolerance,
    price_line,
    quarter_start,
    shortfall,
    standing_answers,
)

D = Decimal
HEADER = "code,allowed,percent_of_asp,effective_from,effective_to\n"


# --- the fee schedule CSV ----------------------------------------------------------------------


def test_a_clean_file_reads_every_row_as_a_clinic_writes_it() -> None:
    text = (
        "\ufeffCode, Allowed ,Percent of ASP,Effective From,Effective To,Description\n"
        "96413,$180.00,,2026-01-01,,Chemo infusion first hour\n"
        "\n"
        "j1745,,106%,01/01/2026,12/31/2026,Infliximab\n"
        "J2506,\"1,234.5678\",,2026-01-01,,Pegfilgrastim\n"
    )
    parsed = parse_fee_schedule(text)
    assert parsed.ok and parsed.findings == ()
    assert parsed.entries == (
        FeeEntry("96413", D("180.00"), None, date(2026, 1, 1)),
        FeeEntry("J1745", None, D("106"), date(2026, 1, 1), date(2026, 12, 31)),
        FeeEntry("J2506", D("1234.5678"), None, date(2026, 1, 1)),
    )


def test_a_bad_file_names_every_bad_row_and_imports_nothing() -> None:
    text = HEADER + (
        "96413,180.00,,2026-01-01,\n"       # row 2: fine
        "J17,12.00,,2026-01-01,\n"          # row 3: not a code
        "96365,150,106,2026-01-01,\n"       # row 4: both bases
        "96366,,,2026-01-01,\n"             # row 5: neither
        "96367,45.00,,2026-13-01,\n"        # row 6: no such date
        "96368,45.00,,2026-06-01,2026-01-01\n"  # row 7: ends before it starts
        "96413,175.00,,2026-01-01,\n"       # row 8: same code and start as row 2
        "96375,,106,2026-01-01,\n"          # row 9: ASP for a CPT code
        "J1100,0.12345,,2026-01-01,\n"      # row 10: five decimal places
        "J2405,abc,,2026-01-01,\n"          # row 11: not an amount
        "J1200,,-5,2026-01-01,\n"           # row 12: negative percent
        "J1885,12.00,,,\n"                  # row 13: no start date
    )
    parsed = parse_fee_schedule(text)
    assert not parsed.ok and parsed.entries == ()
    by_row = {f.message.split(":")[0]: f.message for f in parsed.findings}
    assert sorted(by_row, key=lambda r: int(r.split()[1])) == [f"Row {n}" for n in range(3, 14)]
    assert "'J17' is not a CPT or HCPCS code" in by_row["Row 3"]
    assert "not both" in by_row["Row 4"]
    assert "give the allowed amount per unit" in by_row["Row 5"]
    assert "'2026-13-01' is not a date" in by_row["Row 6"]
    assert "ends (01/01/2026) before it starts (06/01/2026)" in by_row["Row 7"]
    assert "already on row 2" in by_row["Row 8"]
    assert "96375 is a CPT code" in by_row["Row 9"]
    assert "more than four decimal places" in by_row["Row 10"]
    assert "'abc' is not an amount" in by_row["Row 11"]
    assert "must be more than 0" in by_row["Row 12"]
    assert "effective_from) is required" in by_row["Row 13"]
    assert len(parsed.findings) == 11  # one message per bad row, none repeated


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "The file is empty"),
        ("code,allowed\n96413,180\n", "missing effective_from"),
        ("hcpcs,rate,start\n96413,180,2026-01-01\n", "missing code, effective_from, allowed or percent_of_asp"),
        (HEADER, "no rates"),
    ],
)
def test_a_file_without_the_columns_or_rows_says_what_it_needs(text: str, message: str) -> None:
    parsed = parse_fee_schedule(text)
    assert parsed.entries == () and message in parsed.findings[0].message


def test_make_entry_checks_a_typed_entry() -> None:
    entry, findings = make_entry(" 96413 ", "180", "", date(2026, 1, 1), None)
    assert findings == () and entry == FeeEntry("96413", D("180"), None, date(2026, 1, 1))
    entry, findings = make_entry("96413", "180", "", None, None)
    assert entry is None and findings[0].subject == "effective_from"


# --- the CMS ASP pricing file ------------------------------------------------------------------

# The layout of CMS's quarterly "ASP Pricing File" CSV: title and notes lines, then the column
# row "HCPCS Code","Short Description","HCPCS Code Dosage","Payment Limit",... then one row per
# code; some codes have no payment limit (left to the contractor). Values below are fictional.
ASP_FILE = (
    '"October 2026 ASP Pricing File (fictional test copy)",,,,\n'
    '"Note: the payment limits are 106% of ASP.",,,,\n'
    ",,,,\n"
    '"HCPCS Code ","Short Description","HCPCS Code Dosage","Payment Limit","Notes"\n'
    '"J1745","Infliximab not biosimil 10mg","10 MG","36.632",\n'
    '"j2506","Inj pegfilgrastim 0.5mg","0.5 MG","$1,204.5",\n'
    '"J9999","Not otherwise classified, antineoplastic drugs","","",\n'
    ",,,,\n"
    '"* Payment limits for codes not listed are set by the local contractor.",,,,\n'
)


def test_the_asp_file_is_read_past_its_preamble_and_notes() -> None:
    parsed = parse_asp_file(ASP_FILE)
    assert parsed.ok and parsed.skipped == 1
    assert [(p.code, p.payment_limit, p.dosage) for p in parsed.prices] == [
        ("J1745", D("36.632"), "10 MG"),
        ("J2506", D("1204.5"), "0.5 MG"),
    ]
    assert parsed.prices[0].description == "Infliximab not biosimil 10mg"
    assert "1 code(s) have no payment limit" in parsed.findings[0].message and not parsed.findings[0].blocks


def test_a_bad_asp_file_names_its_rows_and_gives_no_prices() -> None:
    text = (
        "HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit\n"
        "J1745,Infliximab,10 MG,36.632\n"
        "J1745,Infliximab again,10 MG,36.700\n"
        "J2506,Pegfilgrastim,0.5 MG,lots\n"
        "XYZ,Junk,,12.00\n"
    )
    parsed = parse_asp_file(text)
    assert parsed.prices == () and not parsed.ok
    messages = [f.message for f in parsed.findings]
    assert messages[0].startswith("Row 3: J1745 is listed again (first on row 2)")
    assert messages[1].startswith("Row 4: the payment limit of J2506, 'lots', is not an amount")
    assert messages[2].startswith("Row 5: 'XYZ' is not a HCPCS code")


def test_a_file_that_is_not_the_asp_file_is_refused_in_words() -> None:
    parsed = parse_asp_file(HEADER + "96413,180,,2026-01-01,\n")
    assert parsed.prices == () and "'HCPCS Code' and 'Payment Limit'" in parsed.findings[0].message


# --- which entry, which quarter ------------------------------------------------------------------


def test_the_entry_in_effect_on_the_date_of_service_and_the_latest_start_wins() -> None:
    old = FeeEntry("96413", D("170"), None, date(2025, 1, 1), date(2025, 12, 31))
    open_ended = FeeEntry("96413", D("175"), None, date(2025, 6, 1))
    new = FeeEntry("96413", D("180"), None, date(2026, 1, 1))
    entries = (old, open_ended, new)
    assert entry_in_effect(entries, "96413", date(2024, 12, 31)) is None
    assert entry_in_effect(entries, "96413", date(2025, 5, 31)) == old
    assert entry_in_effect(entries, "96413", date(2025, 12, 31)) == open_ended  # both cover it: the later start
    assert entry_in_effect(entries, "96413", date(2026, 1, 1)) == new
    assert entry_in_effect(entries, "96365", date(2026, 1, 1)) is None
    ended = FeeEntry("96365", D("90"), None, date(2025, 1, 1), date(2025, 12, 31))
    assert entry_in_effect((ended,), "96365", date(2025, 12, 31)) == ended  # the last day is inclusive
    assert entry_in_effect((ended,), "96365", date(2026, 1, 1)) is None


def test_the_asp_price_of_the_quarter_holding_the_date_of_service() -> None:
    entry = FeeEntry("J1745", None, D("106"), date(2026, 1, 1))
    limits = {("J1745", date(2026, 4, 1)): D("36.000"), ("J1745", date(2026, 7, 1)): D("37.000")}
    assert price_line((entry,), "J1745", date(2026, 6, 30), D("10"), limits).expected == D("360.00")
    assert price_line((entry,), "J1745", date(2026, 7, 1), D("10"), limits).expected == D("370.00")
    missing = price_line((entry,), "J1745", date(2026, 10, 1), D("10"), limits)
    assert missing.status is PriceStatus.NO_ASP_PRICE and missing.expected is None
    assert "2026-Q4" in missing.basis
    assert quarter_start(date(2026, 12, 31)) == date(2026, 10, 1)
    assert parse_quarter("2026-Q4") == date(2026, 10, 1)
    with pytest.raises(ValueError, match="e.g. 2026-Q3"):
        parse_quarter("2026-Q5")


# --- the arithmetic --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("entry", "units", "limit", "expected"),
    [
        # ASP + 6% is CMS's payment limit exactly: 36.632 × 40 = 1465.28
        (FeeEntry("J1745", None, D("106"), date(2026, 1, 1)), D("40"), D("36.632"), D("1465.28")),
        # 100% of ASP = 36.632 / 1.06 × 40 = 1382.3396… → 1382.34
        (FeeEntry("J1745", None, D("100"), date(2026, 1, 1)), D("40"), D("36.632"), D("1382.34")),
        # rounded once at the end: 12.3456 × 3 = 37.0368 → 37.04 (per unit first would give 37.05)
        (FeeEntry("J2405", D("12.3456"), None, date(2026, 1, 1)), D("3"), None, D("37.04")),
        # half up: 0.125 → 0.13
        (FeeEntry("J1100", D("0.125"), None, date(2026, 1, 1)), D("1"), None, D("0.13")),
        # fractional units (J7050 saline 250 cc at 0.5)
        (FeeEntry("J7050", D("4.00"), None, date(2026, 1, 1)), D("0.5"), None, D("2.00")),
    ],
)
def test_expected_allowed(entry: FeeEntry, units: Decimal, limit: Decimal | None, expected: Decimal) -> None:
    assert expected_allowed(entry, units, limit) == expected


def test_the_allowed_amount_falls_back_to_paid_plus_the_patients_share() -> None:
    assert line_allowed(LineAnswer(1, 1, False, paid=D("80.00"), allowed=D("120.00"))) == D("120.00")
    assert line_allowed(LineAnswer(1, 1, False, paid=D("80.00"), patient_responsibility=D("20.00"))) == D("100.00")


def test_the_tolerance_is_the_larger_of_the_amount_and_the_percent() -> None:
    assert shortfall(D("100.00"), D("99.00"), Tolerance()) is None  # exactly $1.00 short: within
    assert shortfall(D("100.00"), D("98.99"), Tolerance()) == D("1.01")
    assert shortfall(D("100.00"), D("101.00"), Tolerance()) is None  # paid more than expected
    two_percent = Tolerance(D("1.00"), D("2"))
    assert shortfall(D("1000.00"), D("985.00"), two_percent) is None  # $15 is within 2% ($20)
    assert shortfall(D("1000.00"), D("975.00"), two_percent) == D("25.00")
    assert shortfall(D("10.00"), D("8.50"), two_percent) == D("1.50")  # 2% is 20¢: the $1 decides
    assert Tolerance(D("5.00"), D("2")).text == "$5.00 or 2%, whichever is more"


def test_parse_tolerance() -> None:
    assert parse_tolerance("", "") == (Tolerance(), ())
    assert parse_tolerance("$2.5", "1.5") == (Tolerance(D("2.50"), D("1.5")), ())
    _, findings = parse_tolerance("-1", "150")
    assert [f.subject for f in findings] == ["tolerance", "tolerance_percent"]


# --- which payment stands --------------------------------------------------------------------------


def test_a_reversal_withdraws_the_claims_earlier_answers_and_the_correction_stands() -> None:
    first = LineAnswer(1, 11, False, paid=D("50.00"), allowed=D("60.00"))
    other_claim = LineAnswer(2, 21, False, paid=D("30.00"))
    reversal = LineAnswer(1, None, True)
    corrected = LineAnswer(1, 11, False, paid=D("70.00"), allowed=D("90.00"))
    assert standing_answers([first, other_claim, reversal]) == {21: other_claim}
    assert standing_answers([first, other_claim, reversal, corrected]) == {11: corrected, 21: other_claim}
    later = LineAnswer(1, 11, False, paid=D("75.00"))
    assert standing_answers([first, later]) == {11: later}


# --- properties ----------------------------------------------------------------------------------

amounts = st.decimals(min_value=0, max_value=100_000, places=4, allow_nan=False, allow_infinity=False)
units = st.decimals(min_value=0, max_value=5_000, places=3, allow_nan=False, allow_infinity=False)
percents = st.decimals(min_value=D("0.001"), max_value=1000, places=3, allow_nan=False, allow_infinity=False)


@given(amounts, units)
def test_a_fixed_rate_is_never_negative_and_is_rounded_once(allowed: Decimal, count: Decimal) -> None:
    expected = expected_allowed(FeeEntry("J1745", allowed, None, date(2026, 1, 1)), count)
    assert expected >= 0
    assert expected == (allowed * count).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    assert abs(expected - allowed * count) <= D("0.005")


@given(amounts, units, percents)
def test_an_asp_rate_is_within_half_a_cent_of_the_exact_amount(
    limit: Decimal, count: Decimal, percent: Decimal
) -> None:
    expected = expected_allowed(FeeEntry("J1745", None, percent, date(2026, 1, 1)), count, limit)
    assert expected >= 0
    assert abs(expected - limit * percent * count / 106) <= D("0.005") + D("1e-20")
    # ASP + 6% pays the payment limit, to the cent
    assert expected_allowed(FeeEntry("J1745", None, D("106"), date(2026, 1, 1)), count, limit) == (
        (limit * count).quantize(D("0.01"), rounding=ROUND_HALF_UP)
    )


def test_the_shipped_template_reads_without_a_finding() -> None:
    from importlib import resources

    text = resources.files("infusion_desk.resources").joinpath("fee_schedule_template.csv").read_text(encoding="utf-8")
    parsed = parse_fee_schedule(text)
    assert parsed.findings == () and len(parsed.entries) == 8
    assert {e.code for e in parsed.entries if e.percent_of_asp is not None} == {"J1745", "J3380"}
