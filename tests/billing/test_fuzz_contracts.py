"""Hostile fee schedule and CMS ASP files: the readers answer with findings, never an exception.

``parse_fee_schedule`` and ``parse_asp_file`` document that they collect every problem as a
finding (with its row) and return no entries when any blocks. These tests feed them the
shipped template and the docstring examples mutated (flipped characters, truncation, deleted,
duplicated and swapped rows, cells replaced with tricky numbers and dates, unbalanced quotes,
a cell longer than the csv module reads, NUL and non-UTF-8 bytes decoded as the app decodes a
file) and rows generated from scratch, and check that whatever they return can be stored:
every entry's numbers fit their column's scale and a 64-bit integer.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.contracts import (
    FEE_COLUMNS,
    AspFile,
    FeeScheduleFile,
    parse_asp_file,
    parse_fee_schedule,
)
from infusion_desk.billing.findings import Level

EXAMPLES = 300
"""Files per test per CI run."""
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BIGINT = 2**63 - 1

TEMPLATE = read_resource_text("fee_schedule_template.csv")
ASP_SEED = (
    "ASP Pricing File for January 2026,,,,\n"
    "Note: payment limits are 106% of ASP,,,,\n"
    "HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit,Vaccine AWP%\n"
    "J1745,Infliximab not biosimil 10mg,10 MG,36.632,\n"
    "J3380,Vedolizumab injection,1 MG,\"36.1910\",\n"
    "J9999,Not otherwise classified,,,\n"
    "J2405,Ondansetron hcl injection,1 MG,0.120,\n"
    "Footnote: see the CMS site,,,,\n"
)

CELLS = (
    "", " ", "0", "-0", "-1", "0.00001", "180.00", "$1,000.00", "1e5", "1E+999999999", "1E-999999999", "NaN",
    "Infinity", "-inf", "106", "106%", "%", "$", ",", "1,2", "1.2.3", "9" * 30, "0E-1000000", "999999.9999",
    "1000000", "12345678901.0001", "3.14159", "²", "٣", "J1745", "j1745", "96413", "J17", "0J174", "JJJJJ",
    "2026-01-01", "01/01/2026", "1/2/2026", "2026-02-30", "0001-01-01", "9999-12-31", "2026-13-01",
    "٢٠٢٦-٠١-٠١", "\x00", "é", "\U0001f489", '"', '""', "\r", "\n", "\ufeff",
)
_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
_CELL = st.one_of(st.sampled_from(CELLS), st.text(_ALPHABET, max_size=15))


def decode(raw: bytes) -> str:
    """As ``services.inbound.read_inbound_file`` decodes: UTF-8 (BOM allowed), else Latin-1."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


@st.composite
def mutated_csv(draw: st.DrawFn, seed: str) -> str:
    """``seed`` with one to four row- or cell-level mutations."""
    text = seed
    for _ in range(draw(st.integers(1, 4))):
        lines = text.split("\n")
        at = draw(st.integers(0, len(lines) - 1))
        operation = draw(st.sampled_from(("cell", "cell", "cell", "flip", "truncate", "delete", "copy", "swap",
                                          "quote", "huge", "bytes", "separator")))
        if operation == "cell":
            cells = lines[at].split(",")
            cells[draw(st.integers(0, len(cells) - 1))] = draw(_CELL)
            lines[at] = ",".join(cells)
        elif operation == "flip" and lines[at]:
            where = draw(st.integers(0, len(lines[at]) - 1))
            lines[at] = lines[at][:where] + draw(_ALPHABET) + lines[at][where + 1:]
        elif operation == "truncate":
            text = text[: draw(st.integers(0, len(text)))]
            continue
        elif operation == "delete":
            del lines[at]
        elif operation == "copy":
            lines.insert(draw(st.integers(0, len(lines))), lines[at])
        elif operation == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif operation == "quote":
            lines[at] = '"' + lines[at]
        elif operation == "huge":
            lines[at] += "," + draw(st.sampled_from(("9", "x", '"'))) * 140_000
        elif operation == "bytes":
            raw = "\n".join(lines).encode()
            where = draw(st.integers(0, len(raw)))
            text = decode(raw[:where] + draw(st.binary(min_size=1, max_size=6)) + raw[where:])
            continue
        else:
            text = "\n".join(lines).replace(",", draw(st.sampled_from((";", "\t", ",,", ""))))
            continue
        text = "\n".join(lines)
    return text


@st.composite
def generated_fee_schedule(draw: st.DrawFn) -> str:
    header = draw(st.permutations(FEE_COLUMNS))
    rows = draw(st.lists(st.lists(_CELL, min_size=len(header), max_size=len(header)), max_size=6))
    return "\n".join(",".join(row) for row in [list(header), *rows])


@st.composite
def generated_asp_file(draw: st.DrawFn) -> str:
    rows = draw(st.lists(st.tuples(_CELL, _CELL, _CELL, _CELL), max_size=6))
    return "HCPCS Code,Short Description,HCPCS Code Dosage,Payment Limit\n" + "\n".join(
        ",".join(row) for row in rows
    )


def storable(value: Decimal | None, places: int) -> bool:
    """Whether ``value`` goes into a ScaledDecimal(places) column: whole at that scale, within 64 bits."""
    if value is None:
        return True
    scaled = value.scaleb(places)
    return scaled == scaled.to_integral_value() and abs(int(scaled)) <= BIGINT


def check_fee_schedule(text: str) -> None:
    parsed = parse_fee_schedule(text)
    assert isinstance(parsed, FeeScheduleFile)
    blocking = [f for f in parsed.findings if f.level is Level.ERROR]
    assert not (blocking and parsed.entries), "entries came back although an error blocks the file"
    assert parsed.entries or parsed.findings, "a file with no rates must say why"
    for finding in parsed.findings:
        assert finding.message.strip()
    for entry in parsed.entries:
        assert storable(entry.allowed, 4) and storable(entry.percent_of_asp, 3), entry


def check_asp_file(text: str) -> None:
    parsed = parse_asp_file(text)
    assert isinstance(parsed, AspFile)
    blocking = [f for f in parsed.findings if f.level is Level.ERROR]
    assert not (blocking and parsed.prices)
    for finding in parsed.findings:
        assert finding.message.strip()
    for price in parsed.prices:
        assert storable(price.payment_limit, 4), price


@SETTINGS
@given(text=st.one_of(mutated_csv(TEMPLATE), generated_fee_schedule()))
def test_a_hostile_fee_schedule_is_answered_with_findings_and_storable_entries(text: str) -> None:
    check_fee_schedule(text)


@SETTINGS
@given(text=st.one_of(mutated_csv(ASP_SEED), generated_asp_file()))
def test_a_hostile_asp_file_is_answered_with_findings_and_storable_prices(text: str) -> None:
    check_asp_file(text)


@settings(max_examples=100, deadline=None)
@given(raw=st.binary(max_size=300))
def test_random_bytes_are_answered_with_findings(raw: bytes) -> None:
    check_fee_schedule(decode(raw))
    check_asp_file(decode(raw))


# --- crashes the fuzzing found, kept as plain examples ------------------------------------------

HEADER = "code,allowed,percent_of_asp,effective_from\n"


def only_error(parsed: FeeScheduleFile | AspFile) -> str:
    (finding,) = [f for f in parsed.findings if f.level is Level.ERROR]
    return finding.message


def test_a_cell_longer_than_the_csv_module_reads_is_a_finding_not_a_csv_error() -> None:
    # an unclosed quote swallows the rest of the file into one cell: csv.Error past 131,072 characters
    text = HEADER + 'J1745,"180.00' + "9" * 140_000
    assert only_error(parse_fee_schedule(text)).startswith(
        "Row 2: the file cannot be read as CSV (a cell is longer than 131,072 characters); check for a quote"
    )
    asp = parse_asp_file("HCPCS Code,Payment Limit\nJ1745,\"" + "x" * 140_000)
    assert "cannot be read as CSV" in only_error(asp) and asp.prices == ()


def test_a_file_whose_rows_end_in_a_lone_carriage_return_is_read() -> None:
    # classic Mac line endings: csv.Error "new-line character seen in unquoted field" before the fix
    parsed = parse_fee_schedule(HEADER.replace("\n", "\r") + "J1745,,106,2026-01-01\r96413,180,,2026-01-01\r")
    assert [e.code for e in parsed.entries] == ["J1745", "96413"] and parsed.findings == ()
    asp = parse_asp_file("HCPCS Code,Payment Limit\rJ1745,36.632\r")
    assert [p.code for p in asp.prices] == ["J1745"]


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        # decimal.Overflow from Decimal.normalize() before the fix
        ("J1745,,1E+999999999", "Row 2: percent of ASP '1E+999999999' is not a number (write 106 for ASP + 6%)."),
        # accepted, then refused by the database column ("more than 4 decimal places") before the fix
        ("J2405,1E-999999999,", "Row 2: allowed '1E-999999999' is not an amount (e.g. 180.00)."),
    ],
)
def test_a_rate_with_an_absurd_exponent_is_refused_in_words(cells: str, message: str) -> None:
    parsed = parse_fee_schedule(HEADER + cells + ",2026-01-01\n")
    assert only_error(parsed) == message and parsed.entries == ()


@pytest.mark.parametrize("limit", ["1E+999999999", "1E-999999999", "123456789012.5"])
def test_an_asp_payment_limit_that_cannot_be_stored_is_refused_in_words(limit: str) -> None:
    # Overflow, a value the column refuses, and one past a 64-bit count of ten-thousandths
    parsed = parse_asp_file(f"HCPCS Code,Payment Limit\nJ1745,{limit}\n")
    assert only_error(parsed) == f"Row 2: the payment limit of J1745, {limit!r}, is not an amount."
    assert parsed.prices == ()


def test_a_gene_therapy_payment_limit_of_millions_is_still_read() -> None:
    (price,) = parse_asp_file("HCPCS Code,Payment Limit\nJ3399,2250000.0000\n").prices
    assert price.payment_limit == Decimal("2250000")
