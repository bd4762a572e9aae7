"""Reading the GS1 barcode on a drug package: GTIN (and so the NDC), lot and expiry.

    >>> scan = parse_gs1("]d20100357894030010172612311012AB34")
    >>> scan.gtin, scan.expiry, scan.lot
    ('00357894030010', datetime.date(2026, 12, 31), '12AB34')
    >>> ndc11_candidates(scan.ndc10)
    ('05789403001', '57894003001', '57894030001')

A scanner that types like a keyboard sends the element string with a group separator
(ASCII 29) after variable-length fields; some send no separator at all after the last
field, some use the human-readable form with parentheses. All three are read here.
A US drug GTIN carries the 10-digit NDC without its hyphens, so which 11-digit NDC it is
depends on the labeler's segment format: :func:`ndc11_candidates` lists the three
possibilities and the caller picks the one in the clinic's catalog.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date

GROUP_SEPARATOR = "\x1d"
_SYMBOLOGY_PREFIX = re.compile(r"^\][A-Za-z][0-9]")
# Application identifiers we use, with their fixed lengths (None = variable, up to 20).
_FIXED = {"01": 14, "17": 6, "11": 6, "15": 6}
_VARIABLE = {"10", "21"}


class BarcodeError(ValueError):
    """The scanned text is not a GS1 drug barcode we can read."""


@dataclass(frozen=True, slots=True)
class Gs1Scan:
    gtin: str
    lot: str | None
    expiry: date | None
    serial: str | None

    @property
    def ndc10(self) -> str:
        """The 10 NDC digits inside a US pharmaceutical GTIN-14 (indicator, 03, NDC, check)."""
        if not self.gtin.startswith(("003", "103", "203", "303", "403", "503", "603", "703", "803")):
            raise BarcodeError(f"GTIN {self.gtin} is not a US drug code (it does not carry an NDC)")
        return self.gtin[3:13]


def gtin_check_digit(body: str) -> int:
    """GS1 mod-10 check digit of the digits before it."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def _expiry(text: str) -> date:
    year, month, day = 2000 + int(text[0:2]), int(text[2:4]), int(text[4:6])
    if not 1 <= month <= 12:
        raise BarcodeError(f"expiry {text}: month {month} does not exist")
    if day == 0:  # GS1: day 00 means the last day of the month
        day = calendar.monthrange(year, month)[1]
    try:
        return date(year, month, day)
    except ValueError:
        raise BarcodeError(f"expiry {text} is not a date") from None


def _normalise(text: str) -> str:
    text = _SYMBOLOGY_PREFIX.sub("", text.strip())
    if text.startswith("("):
        # Human-readable form: (01)...(17)...(10)...
        parts = re.findall(r"\((\d{2})\)([^(]*)", text)
        if not parts:
            raise BarcodeError("no application identifiers in parentheses")
        return GROUP_SEPARATOR.join(ai + value for ai, value in parts)
    return text


def parse_gs1(text: str) -> Gs1Scan:
    """Read a GS1 element string; raise :class:`BarcodeError` saying what is wrong."""
    data = _normalise(text)
    fields: dict[str, str] = {}
    position = 0
    while position < len(data):
        if data[position] == GROUP_SEPARATOR:
            position += 1
            continue
        ai = data[position : position + 2]
        position += 2
        if ai in _FIXED:
            length = _FIXED[ai]
            value = data[position : position + length]
            if len(value) != length or not value.isdigit():
                raise BarcodeError(f"AI ({ai}) needs {length} digits")
            position += length
        elif ai in _VARIABLE:
            end = data.find(GROUP_SEPARATOR, position)
            end = len(data) if end == -1 else end
            value = data[position:end]
            if not value or len(value) > 20:
                raise BarcodeError(f"AI ({ai}) must be 1 to 20 characters")
            position = end
        else:
            raise BarcodeError(f"unsupported application identifier ({ai})")
        fields[ai] = value
    gtin = fields.get("01")
    if gtin is None:
        raise BarcodeError("the barcode has no GTIN (AI 01)")
    if gtin_check_digit(gtin[:13]) != int(gtin[13]):
        raise BarcodeError(f"GTIN {gtin} fails its check digit: scan again")
    return Gs1Scan(
        gtin=gtin,
        lot=fields.get("10"),
        expiry=_expiry(fields["17"]) if "17" in fields else None,
        serial=fields.get("21"),
    )


def ndc11_candidates(ndc10: str) -> tuple[str, ...]:
    """The 11-digit NDCs a 10-digit NDC can stand for: 4-4-2, 5-3-2 and 5-4-1 padded."""
    if len(ndc10) != 10 or not ndc10.isdigit():
        raise BarcodeError(f"{ndc10!r} is not a 10-digit NDC")
    return (
        "0" + ndc10,  # 4-4-2
        ndc10[:5] + "0" + ndc10[5:],  # 5-3-2
        ndc10[:9] + "0" + ndc10[9:],  # 5-4-1
    )


def match_ndc(scan: Gs1Scan, known: set[str]) -> str | None:
    """The catalog NDC the scanned package is, if exactly one candidate is known."""
    matches = [c for c in ndc11_candidates(scan.ndc10) if c in known]
    return matches[0] if len(matches) == 1 else None
