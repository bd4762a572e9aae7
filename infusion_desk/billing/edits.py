"""Code edit tables as data: MUE limits, NCCI procedure-to-procedure pairs, add-on primaries.

    >>> tables = reference_tables()
    >>> "96365" in tables.addon_primaries["96366"]
    True

The shipped CSV files in ``resources/`` hold only values with a cited source; a clinic
replaces them with the quarterly CMS files (same columns), never by editing code.
"""

from __future__ import annotations

import csv
import io
from functools import cache

from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.coding_input import CodingTables


def _rows(name: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(read_resource_text(name))))


def parse_mue(text: str) -> dict[str, int]:
    return {row["code"].strip(): int(row["mue"]) for row in csv.DictReader(io.StringIO(text))}


@cache
def reference_tables() -> CodingTables:
    mue_rows = _rows("mue_practitioner.csv")
    mue = {row["code"].strip(): int(row["mue"]) for row in mue_rows}
    mai = {row["code"].strip(): int(row["mai"]) for row in mue_rows if (row.get("mai") or "").strip()}
    pairs = {
        (row["column1"].strip(), row["column2"].strip()): int(row["modifier_indicator"])
        for row in _rows("ncci_ptp_practitioner.csv")
    }
    primaries = {
        row["addon"].strip(): frozenset(row["primaries"].split())
        for row in _rows("aoc_primaries.csv")
    }
    return CodingTables(mue=mue, mue_mai=mai, ncci_pairs=pairs, addon_primaries=primaries)
