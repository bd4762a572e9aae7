"""Scanning a drug package: GS1 element strings as a keyboard-wedge scanner types them."""

from __future__ import annotations

from datetime import date

import pytest

from infusion_desk.billing.barcode import (
    GROUP_SEPARATOR,
    BarcodeError,
    gtin_check_digit,
    match_ndc,
    ndc11_candidates,
    parse_gs1,
)

# Remicade 100 mg vial, NDC 57894-030-01 (5-3-2) -> GTIN-14 00357894030010.
GTIN = "00357894030010"


@pytest.mark.parametrize(
    ("text", "lot", "expiry", "serial"),
    [
        # Fixed fields first, lot last with no separator (end of data ends it).
        (f"01{GTIN}17261231" + "10AB1234", "AB1234", date(2026, 12, 31), None),
        # Symbology identifier ]d2 (GS1 DataMatrix) that many scanners prefix.
        (f"]d201{GTIN}17270600" + "10LOT9", "LOT9", date(2027, 6, 30), None),
        # Lot before expiry: the group separator ends the variable-length lot.
        (f"01{GTIN}10X-77{GROUP_SEPARATOR}17280229" + "21SN0001", "X-77", date(2028, 2, 29), "SN0001"),
        # Human-readable form with parentheses.
        (f"(01){GTIN}(17)261130(10)B55", "B55", date(2026, 11, 30), None),
    ],
)
def test_reads_gtin_lot_expiry_serial(text: str, lot: str, expiry: date, serial: str | None) -> None:
    scan = parse_gs1(text)
    assert (scan.gtin, scan.lot, scan.expiry, scan.serial) == (GTIN, lot, expiry, serial)
    assert scan.ndc10 == "5789403001"


def test_day_00_means_the_last_day_of_the_month() -> None:
    # GS1 General Specifications 7.12: DD = 00 means the last day of the month.
    assert parse_gs1(f"01{GTIN}17270200").expiry == date(2027, 2, 28)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("01003578940300111726123110AB", "check digit"),
        (f"01{GTIN}17261331", "month 13"),
        (f"01{GTIN}17260231", "not a date"),
        ("17261231", "no GTIN"),
        (f"01{GTIN}99ABC", "unsupported application identifier"),
        ("0112345", "needs 14 digits"),
        (f"01{GTIN}10", "1 to 20 characters"),
    ],
)
def test_bad_scans_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(BarcodeError, match=message):
        parse_gs1(text)


def test_ndc_candidates_and_matching_against_the_catalog() -> None:
    # CMS 10-to-11 digit conversion: 4-4-2 leading zero, 5-3-2 zero in the product code,
    # 5-4-1 zero in the package code (coding-rules §14).
    assert ndc11_candidates("5789403001") == ("05789403001", "57894003001", "57894030001")
    scan = parse_gs1(f"01{GTIN}")
    assert match_ndc(scan, {"57894003001", "12345678901"}) == "57894003001"
    assert match_ndc(scan, {"12345678901"}) is None


def test_a_non_drug_gtin_has_no_ndc() -> None:
    body = "0761234567890"
    scan = parse_gs1(f"01{body}{gtin_check_digit(body)}")
    with pytest.raises(BarcodeError, match="not a US drug code"):
        _ = scan.ndc10
