"""The CMS-1500 (02/12) paper claim: which text goes in which box, and the PDF that prints it.

    >>> home = Address("12 Example Lane", "Springfield", "IL", "62704")
    >>> testy = PersonName("Example", "Testy", "Quinn")
    >>> claim = ClaimData(
    ...     claim_number="C0000042", responsibility="P", frequency_code="1", place_of_service="11",
    ...     billing=BillingProvider("Lakeview Infusion Suite", "1234567893", "36-1234567", "261QI0500X",
    ...                             Address("400 Example Avenue", "Springfield", "IL", "627011234")),
    ...     payer=PayerData("Example Health Plan", "EXHP1"),
    ...     subscriber=Subscriber(testy, "XEH123456789", date(1962, 1, 15), "F", home),
    ...     relationship_code="18",
    ...     patient=PatientData(testy, date(1962, 1, 15), "F", home, "DM0000001"),
    ...     filing_indicator="CI", diagnoses=("K5090",),
    ...     lines=(ClaimLineData(1, "C0000042-1", date(2026, 11, 2), "J1745", Decimal(40), Decimal("3200.00"),
    ...                          (1,), ("JZ",), Ndc("57894003001", Decimal("4.000"), "UN")),))
    >>> page, = form_fields(claim)
    >>> page["2"], page["3"], page["1a"], page["21A"], page["24.1A.from"], page["24.1D"], page["24.1D.mod"]
    ('EXAMPLE, TESTY, Q', '01 15 1962', 'XEH123456789', 'K5090', '11 02 26', 'J1745', 'JZ')
    >>> page["24.1NDC"], page["24.1E"], page["24.1F"], page["24.1G"], page["28"], page["33a"]
    ('N457894003001 UN4', 'A', '3200 00', '40', '3200 00', '1234567893')
    >>> page["1:other"], page["6:self"], page["27:yes"], page["12"]
    ('X', 'X', 'X', 'SIGNATURE ON FILE')
    >>> render_cms1500([claim])[:5]
    b'%PDF-'

:func:`form_fields` is the one mapping from a claim to the form: one dict per printed page,
box id to the exact text printed there (a checkbox is ``"27:yes"`` holding ``"X"``; service
line *n* of the page is ``"24.nD"``, ``"24.nF"``…; ``"24.nNDC"`` is the shaded supplemental line
above it). :func:`render_cms1500` only places those strings, on a plain-paper drawing of the
form or, with ``PrintOptions(data_only=True)``, alone for pre-printed red forms. Where each box
sits is data: ``resources/cms1500_layout.json`` (the 10-characters-per-inch, 6-lines-per-inch
grid text-mode 1500 printers use).

The text follows the NUCC 1500 Reference Instruction Manual for the 02/12 form: upper case,
names ``LAST, FIRST, M`` (box 2, 4, 9) or ``FIRST M LAST CREDENTIAL`` (box 17), no punctuation in
addresses, nine-digit ZIP codes with their hyphen, telephone numbers as digits, birth dates
``MM DD YYYY`` and service dates ``MM DD YY``, money as dollars and cents in their two columns
without ``$`` or commas, the ICD indicator ``0`` and codes without the dot, pointer letters
``A``-``L`` without commas, and the NDC in the shaded line as ``N4`` + 11 digits, a space, the unit
qualifier and the quantity (at most three decimals, no trailing zeros).

A claim with more than six lines continues on more forms with every header box repeated.
NUCC says only that box 28 is the total of the claim's charges; payers' multi-page rules
(HMSA "Multi-page Claims", TMHP 5.3 "Multipage Claim Forms") put the total on the last form,
``CONTINUED`` in box 28 of the others, and ``PAGE 1 OF 2`` at the top right, so that is done here;
box 29 is printed once, on the last form.
"""

from __future__ import annotations

import io
import json
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cache
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.claim_data import (
    Address,
    BillingProvider,
    ClaimData,
    ClaimLineData,
    Ndc,
    OtherPayer,
    PatientData,
    PayerData,
    PersonName,
    Provider,
    Subscriber,
)

__all__ = ["PrintOptions", "form_fields", "render_cms1500"]

LINES_PER_FORM = 6
SIGNATURE_ON_FILE = "SIGNATURE ON FILE"
POINTER_LETTERS = "ABCDEFGHIJKL"
DATA_FONT = "Courier"
CAPTION_FONT = "Helvetica"
CAPTION_BOLD = "Helvetica-Bold"
FORM_NAME = "cms1500_02_12"
MM_TO_PT = Decimal(72) / Decimal("25.4")
MAX_OFFSET_MM = 50
"""More than 5 cm off is a misfed sheet or a typo, not printer alignment."""

# Box 1 from the claim filing indicator (SBR09). NUCC: "Other indicates health insurance
# including HMOs, commercial insurance, automobile accident, liability, or workers'
# compensation", so commercial plans (CI, BL, HM, PPO...) are Other; the Federal Employees
# Program is the one employer group plan SBR09 names.
PROGRAM_BOX = {
    "MA": "1:medicare",
    "MB": "1:medicare",
    "MC": "1:medicaid",
    "CH": "1:tricare",
    "VA": "1:champva",
    "FI": "1:group",
}
RELATIONSHIP_BOX = {"18": "6:self", "01": "6:spouse", "19": "6:child"}


@dataclass(frozen=True, slots=True)
class PrintOptions:
    data_only: bool = False
    """Pre-printed red forms: print only the data, no lines or captions."""
    offset_x_mm: Decimal = Decimal(0)
    """Printer alignment; positive moves everything right."""
    offset_y_mm: Decimal = Decimal(0)
    """Printer alignment; positive moves everything down."""
    signed_on: date | None = None
    """The date printed beside box 31's signature (NUCC asks for one); blank when ``None``."""

    def __post_init__(self) -> None:
        for offset in (self.offset_x_mm, self.offset_y_mm):
            if not offset.is_finite() or abs(offset) > MAX_OFFSET_MM:
                raise ValueError(
                    f"A printer offset of {offset} mm is not usable: give millimetres between "
                    f"-{MAX_OFFSET_MM} and {MAX_OFFSET_MM}, e.g. 1.5 or -2."
                )


@dataclass(frozen=True, slots=True)
class Spot:
    """Where a field's text goes on the character grid (1-based row and column)."""

    row: int
    col: int
    width: int
    right: bool = False


@dataclass(frozen=True, slots=True)
class Layout:
    left: float
    top: float
    column: float
    row: float
    baseline: float
    font_size: float
    fields: dict[str, Spot]
    """Every box of the header, and each service line's boxes as ``24.nX`` for n = 1..6."""

    def x(self, col: float) -> float:
        """The left edge of a column."""
        return self.left + (col - 1) * self.column

    def rule_x(self, col: float) -> float:
        """A vertical rule through the middle of a column (data never uses that column)."""
        return self.left + (col - 0.5) * self.column

    def rule_y(self, row: float, height: float) -> float:
        """The horizontal rule under a row, from the page's bottom as PDF counts."""
        return height - (self.top + row * self.row)

    def baseline_y(self, row: float, height: float) -> float:
        return self.rule_y(row, height) + self.baseline


def _spot(raw: dict[str, Any], row_shift: int = 0) -> Spot:
    return Spot(int(raw["row"]) + row_shift, int(raw["col"]), int(raw["width"]), raw.get("align") == "right")


@cache
def layout() -> Layout:
    """The field positions from ``resources/cms1500_layout.json``, read once."""
    data = json.loads(read_resource_text("cms1500_layout.json"))
    grid = data["grid"]
    fields = {key: _spot(raw) for key, raw in data["fields"].items()}
    service = data["service_line"]
    for n in range(1, int(data["lines_per_page"]) + 1):
        first = int(service["first_row"]) + (n - 1) * int(service["row_step"])
        for key, raw in service["fields"].items():
            fields[f"24.{n}{key}"] = _spot(raw, first)
    return Layout(
        left=float(grid["left_pt"]), top=float(grid["top_pt"]), column=float(grid["column_pt"]),
        row=float(grid["row_pt"]), baseline=float(grid["baseline_pt"]), font_size=float(grid["font_size"]),
        fields=fields,
    )


# -- the text of each box


def _text(value: str) -> str:
    """Upper case plain ASCII, single spaces: what an OCR reader of the 1500 expects."""
    ascii_only = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii")
    return " ".join(ascii_only.upper().split())


def _unpunctuated(value: str) -> str:
    """NUCC: no punctuation or symbols in addresses (``123 N MAIN STREET 101``); names of firms alike."""
    return _text(value.replace(",", " ").replace(".", "").replace("#", " "))


def _name(name: PersonName) -> str:
    """Box 2, 4 and 9: ``LAST, FIRST, M`` (commas between the parts, no periods)."""
    parts = [name.last, name.first] + ([name.middle[:1]] if name.middle else [])
    return ", ".join(_text(part.replace(".", "").replace(",", " ")) for part in parts)


def _provider_name(provider: Provider) -> str:
    """Box 17: first name, middle initial, last name, then the credentials; no periods or commas."""
    name = provider.name
    parts = [name.first, name.middle[:1] if name.middle else "", name.last, provider.credentials or ""]
    return _text(" ".join(p.replace(".", "").replace(",", " ") for p in parts))


def _compact(number: str) -> str:
    """An identifier without the hyphens and spaces NUCC forbids inside it (boxes 9a, 23)."""
    return "".join(ch for ch in _text(number) if ch not in " -")


def _zip(code: str) -> str:
    digits = "".join(ch for ch in code if ch.isdigit())
    return f"{digits[:5]}-{digits[5:]}" if len(digits) == 9 else digits or _text(code)


def _phone(number: str | None) -> tuple[str, str]:
    """Area code and number as digits (NUCC: no hyphen or space inside the number)."""
    digits = "".join(ch for ch in number or "" if ch.isdigit())
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    return (digits[:3], digits[3:]) if len(digits) == 10 else ("", digits)


def _street(address: Address) -> str:
    return _unpunctuated(f"{address.line1} {address.line2 or ''}")


def _city_line(address: Address) -> str:
    return f"{_unpunctuated(address.city)} {_text(address.state)} {_zip(address.zip_code)}"


def _date6(day: date) -> str:
    return f"{day:%m %d %y}"


def _date8(day: date) -> str:
    return f"{day:%m %d %Y}"


def _money(amount: Decimal) -> str:
    """Dollars, a space where the form's dotted line divides the columns, cents: ``3200 00``."""
    cents = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    dollars, _, fraction = f"{abs(cents):f}".partition(".")
    return f"{sign}{dollars} {fraction}"


def _quantity(value: Decimal) -> str:
    """At most three decimals, no trailing zeros, no exponent: ``4``, ``1.5``, ``0.125``."""
    rounded = value.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
    return format(rounded.normalize(), "f")


def _ndc(ndc: Ndc) -> str:
    """The NUCC shaded-line NDC: qualifier N4 and the 11 digits, a space, unit qualifier and quantity."""
    return f"N4{ndc.code} {_text(ndc.unit)}{_quantity(ndc.quantity)}"


def _sex_box(box: str, sex: str) -> dict[str, str]:
    return {f"{box}:{sex.upper()}": "X"} if sex.upper() in ("M", "F") else {}


def _other_payer(claim: ClaimData) -> OtherPayer | None:
    """The plan boxes 9, 9a and 9d name: the earliest payer (the primary on a secondary claim)."""
    if not claim.other_payers:
        return None
    return min(claim.other_payers, key=lambda other: other.responsibility)


def _amount_paid(claim: ClaimData) -> Decimal | None:
    """Box 29, NUCC: what the patient and/or other payers paid on the covered services."""
    if claim.patient_amount_paid is None and not claim.other_payers:
        return None
    paid = claim.patient_amount_paid or Decimal("0.00")
    return paid + sum((other.paid for other in claim.other_payers), Decimal("0.00"))


def _prior_authorization(claim: ClaimData) -> str | None:
    """Box 23: the claim's number, or the lines' one number when they all carry the same."""
    number = claim.prior_authorization
    if number is None:
        numbers = {line.prior_authorization for line in claim.lines}
        number = numbers.pop() if len(numbers) == 1 else None
    return _compact(number) if number else None


def _carrier(payer: PayerData) -> list[str]:
    rows = [_unpunctuated(payer.name)]
    if payer.address is not None:
        rows.append(_unpunctuated(payer.address.line1))
        if payer.address.line2:
            rows.append(_unpunctuated(payer.address.line2))
        rows.append(_city_line(payer.address))
    return rows


def _patient_boxes(patient: PatientData) -> dict[str, str]:
    area, number = _phone(patient.phone)
    return {
        "2": _name(patient.name),
        "3": _date8(patient.birth_date),
        **_sex_box("3", patient.sex),
        "5.street": _street(patient.address),
        "5.city": _unpunctuated(patient.address.city),
        "5.state": _text(patient.address.state),
        "5.zip": _zip(patient.address.zip_code),
        "5.area": area,
        "5.phone": number,
    }


def _insured_boxes(claim: ClaimData) -> dict[str, str]:
    insured: Subscriber = claim.subscriber
    address = insured.address or (claim.patient.address if claim.patient_is_subscriber else None)
    area, number = _phone(claim.patient.phone) if claim.patient_is_subscriber else ("", "")
    fields = {"4": _name(insured.name)}
    if address is not None:
        fields |= {
            "7.street": _street(address),
            "7.city": _unpunctuated(address.city),
            "7.state": _text(address.state),
            "7.zip": _zip(address.zip_code),
            "7.area": area,
            "7.phone": number,
        }
    return fields


def _header(claim: ClaimData, signed_on: date | None) -> dict[str, str]:
    """Every box but 24, 28 and 29: the same on each form of a claim."""
    fields: dict[str, str] = {f"carrier.{n}": row for n, row in enumerate(_carrier(claim.payer), 1)}
    fields[PROGRAM_BOX.get(claim.filing_indicator, "1:other")] = "X"
    fields["1a"] = _text(claim.subscriber.member_id)
    fields |= _patient_boxes(claim.patient)
    fields |= _insured_boxes(claim)
    fields[RELATIONSHIP_BOX.get(claim.relationship_code, "6:other")] = "X"
    other = _other_payer(claim)
    if other is not None:
        fields["9"] = _name(other.subscriber.name)
        # NUCC: no hyphen or space as a separator within the policy or group number.
        fields["9a"] = _compact(other.subscriber.group_number or other.subscriber.member_id)
        fields["9d"] = _unpunctuated(other.payer.name)
    # 10a-c: nothing an infusion claim carries is work- or accident-related.
    fields |= {"10a:no": "X", "10b:no": "X", "10c:no": "X"}
    if claim.subscriber.group_number:
        fields["11"] = _text(claim.subscriber.group_number)
    if claim.subscriber.birth_date is not None:
        fields["11a"] = _date8(claim.subscriber.birth_date)
    fields |= _sex_box("11a", claim.subscriber.sex)
    fields["11c"] = _unpunctuated(claim.payer.name)
    fields["11d:yes" if other is not None else "11d:no"] = "X"
    signatures = claim.signatures
    if signatures.release_of_information == "Y":
        fields["12"] = SIGNATURE_ON_FILE
    if signatures.benefits_assigned:
        fields["13"] = SIGNATURE_ON_FILE
    if claim.ordering is not None:
        fields["17.qual"] = "DK"
        fields["17"] = _provider_name(claim.ordering)
        fields["17b"] = claim.ordering.npi
    fields["21.ind"] = "0"
    for letter, code in zip(POINTER_LETTERS, claim.diagnoses, strict=False):
        fields[f"21{letter}"] = _text(code.replace(".", ""))
    if claim.frequency_code in ("7", "8"):
        fields["22.code"] = claim.frequency_code
        if claim.payer_claim_control_number:
            fields["22.original"] = _text(claim.payer_claim_control_number)
    prior_authorization = _prior_authorization(claim)
    if prior_authorization:
        fields["23"] = prior_authorization
    fields["25"] = "".join(ch for ch in claim.billing.tin if ch.isalnum())
    fields["25:ein"] = "X"
    fields["26"] = _text(claim.claim_number)
    fields["27:yes" if signatures.accepts_assignment else "27:no"] = "X"
    fields |= _provider_boxes(claim.billing, signatures.provider_signature_on_file, signed_on)
    return fields


def _provider_boxes(billing: BillingProvider, signed: bool, signed_on: date | None) -> dict[str, str]:
    """Boxes 31, 32 (where the service was given: the clinic) and 33 (who is paid)."""
    pay_to = billing.pay_to or billing.address
    area, number = _phone(billing.phone)
    fields = {
        "33.area": area,
        "33.phone": number,
        "32.name": _unpunctuated(billing.name),
        "33.name": _unpunctuated(billing.name),
        "32.street": _street(billing.address),
        "33.street": _street(pay_to),
    }
    if signed:
        fields["31"] = SIGNATURE_ON_FILE
    fields |= {"32.city": _city_line(billing.address), "33.city": _city_line(pay_to)}
    if signed and signed_on is not None:
        fields["31.date"] = _date6(signed_on)
    fields |= {"32a": billing.npi, "33a": billing.npi}
    return fields


def _line_boxes(n: int, line: ClaimLineData, claim: ClaimData) -> dict[str, str]:
    prefix = f"24.{n}"
    supplemental = []
    if line.ndc is not None and line.is_drug:
        supplemental.append(_ndc(line.ndc))
    if line.description:
        supplemental.append("ZZ" + _text(line.description))
    fields = {}
    if supplemental:
        # NUCC: the first item starts at 24A, three spaces before the next qualifier.
        fields[f"{prefix}NDC"] = "   ".join(supplemental)
    fields |= {
        f"{prefix}A.from": _date6(line.service_date),
        f"{prefix}A.to": _date6(line.service_date),
        f"{prefix}B": _text(claim.place_of_service),
        f"{prefix}D": _text(line.code),
    }
    if line.modifiers:
        fields[f"{prefix}D.mod"] = " ".join(_text(m) for m in line.modifiers[:4])
    pointers = [p for p in line.diagnosis_pointers if 1 <= p <= len(claim.diagnoses)][:4]
    fields[f"{prefix}E"] = "".join(POINTER_LETTERS[p - 1] for p in pointers)
    fields[f"{prefix}F"] = _money(line.charge)
    fields[f"{prefix}G"] = _quantity(line.units)
    if claim.rendering is not None:
        fields[f"{prefix}J"] = claim.rendering.npi
    return fields


def _fit(fields: dict[str, str]) -> dict[str, str]:
    """Text cut to its box's width, so what is returned is what is printed; money is never cut."""
    spots = layout().fields
    fitted = {}
    for key, value in fields.items():
        if not value:
            continue
        spot = spots[key]
        fitted[key] = value if spot.right else value[: spot.width].rstrip()
    return fitted


def form_fields(claim: ClaimData, *, signed_on: date | None = None) -> tuple[dict[str, str], ...]:
    """The text of each box, one dict per form: six service lines to a form, header repeated."""
    chunks = [claim.lines[i : i + LINES_PER_FORM] for i in range(0, len(claim.lines), LINES_PER_FORM)]
    chunks = chunks or [()]
    header = _header(claim, signed_on)
    paid = _amount_paid(claim)
    pages = []
    for index, chunk in enumerate(chunks, 1):
        last = index == len(chunks)
        page = {"page": f"PAGE {index} OF {len(chunks)}"} if len(chunks) > 1 else {}
        page |= header
        for n, line in enumerate(chunk, 1):
            page |= _line_boxes(n, line, claim)
        page["28"] = _money(claim.total_charge) if last else "CONTINUED"
        if last and paid is not None:
            page["29"] = _money(paid)
        pages.append(_fit(page))
    return tuple(pages)


# -- the PDF


def render_cms1500(claims: Sequence[ClaimData], options: PrintOptions = PrintOptions()) -> bytes:
    """Every claim's forms in order, as one letter-size PDF."""
    if not claims:
        raise ValueError("There is no claim to print.")
    grid = layout()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=LETTER, invariant=True, pageCompression=1)
    canvas.setTitle(f"CMS-1500 {claims[0].claim_number}" if len(claims) == 1 else "CMS-1500 claims")
    canvas.setSubject("Health insurance claim form 1500 (02/12)")
    _, height = LETTER
    if not options.data_only:
        canvas.beginForm(FORM_NAME)
        _draw_form(canvas, grid, height)
        canvas.endForm()
    shift_x = float(options.offset_x_mm * MM_TO_PT)
    shift_y = float(options.offset_y_mm * MM_TO_PT)
    for claim in claims:
        for page in form_fields(claim, signed_on=options.signed_on):
            canvas.translate(shift_x, -shift_y)
            if not options.data_only:
                canvas.doForm(FORM_NAME)
            _draw_data(canvas, grid, height, page)
            canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _draw_data(canvas: Any, grid: Layout, height: float, page: dict[str, str]) -> None:
    text = canvas.beginText()
    text.setFont(DATA_FONT, grid.font_size)
    for key, value in page.items():
        spot = grid.fields[key]
        x = grid.x(spot.col)
        if spot.right:
            x = grid.x(spot.col + spot.width) - stringWidth(value, DATA_FONT, grid.font_size)
        text.setTextOrigin(x, grid.baseline_y(spot.row, height))
        text.textOut(value)
    canvas.drawText(text)


# -- the plain-paper form: rules, shading, checkboxes and captions on the same grid as the data.
# Rows are the grid's text rows; a rule "under row r" separates r from r + 1. Columns 0 and 79
# are the outer border; a vertical rule runs through the middle of a column no data uses.

# (under row, from column, to column)
_RULES = (
    *((r, 0, 79) for r in (6, 8, 10, 12, 16, 26, 32, 34, 36, 40, 42, 44, 46, 48, 50, 52, 54, 56)),
    *((r, 0, 29) for r in (14, 18, 20, 22, 24)),
    *((r, 49, 79) for r in (14, 18, 20, 22, 24, 38)),
    (33, 29, 49),
    (60, 21.5, 79),
)
_HEAVY_RULES = ((30, 0, 79), (61, 0, 79))
# (column, from under row, to under row)
_UPRIGHTS = (
    (0, 6, 61), (79, 6, 61),
    (49, 6, 42), (49, 54, 61),
    (29, 8, 26), (29, 30, 34),
    (25, 12, 14), (72, 12, 14), (13, 14, 16), (63, 14, 16),
    (61, 34, 38),
    *((c, 40, 42) for c in (18, 21, 24, 44, 58, 62)),
    (9, 41, 42),
    (64.5, 40, 54), (67, 40, 54),
    (21.5, 54, 61), (36, 54, 56), (60, 54, 56), (70, 54, 56),
    (34, 60, 61), (61, 60, 61),
)
_LINE_UPRIGHTS = (9, 18, 21, 24, 44, 49, 58, 62)
"""Through the unshaded half of each service line; the shaded half is one field from 24A to 24G."""
_DOTTED = (
    (32, 41, 42), (3, 33, 34), (32, 32, 34), (57, 55, 56), (67, 55, 56),
)
_LINE_DOTTED = (32, 35, 38, 41, 55)
# (row, sub-line 0 or 1 of the row, column, text): the small print at the top of a box.
_CAPTIONS: tuple[tuple[int, int, float, str], ...] = (
    (7, 0, 1, "1. MEDICARE"), (7, 0, 8, "MEDICAID"), (7, 0, 15, "TRICARE"), (7, 0, 24, "CHAMPVA"),
    (7, 0, 31, "GROUP HEALTH PLAN"), (7, 0, 39, "FECA BLK LUNG"), (7, 0, 45, "OTHER"),
    (7, 0, 50, "1a. INSURED'S I.D. NUMBER"), (7, 0, 66, "(For Program in Item 1)"),
    (9, 0, 1, "2. PATIENT'S NAME (Last Name, First Name, Middle Initial)"),
    (9, 0, 30, "3. PATIENT'S BIRTH DATE"), (9, 0, 43.5, "SEX"),
    (9, 1, 31, "MM"), (9, 1, 34, "DD"), (9, 1, 37, "YY"),
    (9, 0, 50, "4. INSURED'S NAME (Last Name, First Name, Middle Initial)"),
    (11, 0, 1, "5. PATIENT'S ADDRESS (No., Street)"), (11, 0, 30, "6. PATIENT RELATIONSHIP TO INSURED"),
    (11, 0, 50, "7. INSURED'S ADDRESS (No., Street)"),
    (13, 0, 1, "CITY"), (13, 0, 25.6, "STATE"), (13, 0, 30, "8. RESERVED FOR NUCC USE"),
    (13, 0, 50, "CITY"), (13, 0, 72.6, "STATE"),
    (15, 0, 1, "ZIP CODE"), (15, 0, 13.6, "TELEPHONE (Include Area Code)"),
    (15, 0, 50, "ZIP CODE"), (15, 0, 63.6, "TELEPHONE (Include Area Code)"),
    (17, 0, 1, "9. OTHER INSURED'S NAME (Last Name, First Name, Middle Initial)"),
    (17, 0, 30, "10. IS PATIENT'S CONDITION RELATED TO:"),
    (17, 0, 50, "11. INSURED'S POLICY GROUP OR FECA NUMBER"),
    (19, 0, 1, "a. OTHER INSURED'S POLICY OR GROUP NUMBER"),
    (19, 0, 30, "a. EMPLOYMENT? (Current or Previous)"),
    (19, 0, 50, "a. INSURED'S DATE OF BIRTH"), (19, 0, 70, "SEX"),
    (19, 1, 53, "MM"), (19, 1, 56, "DD"), (19, 1, 59, "YY"),
    (21, 0, 1, "b. RESERVED FOR NUCC USE"), (21, 0, 30, "b. AUTO ACCIDENT?"), (21, 0, 43.5, "PLACE (State)"),
    (21, 0, 50, "b. OTHER CLAIM ID (Designated by NUCC)"),
    (23, 0, 1, "c. RESERVED FOR NUCC USE"), (23, 0, 30, "c. OTHER ACCIDENT?"),
    (23, 0, 50, "c. INSURANCE PLAN NAME OR PROGRAM NAME"),
    (25, 0, 1, "d. INSURANCE PLAN NAME OR PROGRAM NAME"),
    (25, 0, 30, "10d. CLAIM CODES (Designated by NUCC)"),
    (25, 0, 50, "d. IS THERE ANOTHER HEALTH BENEFIT PLAN?"),
    (27, 0, 1, "READ BACK OF FORM BEFORE COMPLETING & SIGNING THIS FORM."),
    (27, 1, 1, "12. PATIENT'S OR AUTHORIZED PERSON'S SIGNATURE  I authorize the release of any medical or "
               "other information necessary"),
    (28, 0, 1, "to process this claim. I also request payment of government benefits either to myself or "
               "to the party who accepts"),
    (28, 1, 1, "assignment below."),
    (27, 0, 50, "13. INSURED'S OR AUTHORIZED PERSON'S SIGNATURE  I authorize"),
    (27, 1, 50, "payment of medical benefits to the undersigned physician or supplier"),
    (28, 0, 50, "for services described below."),
    (31, 0, 1, "14. DATE OF CURRENT ILLNESS, INJURY, or PREGNANCY (LMP)"),
    (31, 1, 2, "MM"), (31, 1, 5, "DD"), (31, 1, 8, "YY"),
    (31, 0, 30, "15. OTHER DATE"), (31, 1, 30, "QUAL."),
    (31, 1, 37, "MM"), (31, 1, 40, "DD"), (31, 1, 43, "YY"),
    (31, 0, 50, "16. DATES PATIENT UNABLE TO WORK IN CURRENT OCCUPATION"),
    (31, 1, 54, "MM"), (31, 1, 57, "DD"), (31, 1, 60, "YY"), (31, 1, 68, "MM"), (31, 1, 71, "DD"),
    (31, 1, 74, "YY"),
    (33, 0, 1, "17. NAME OF REFERRING PROVIDER OR OTHER SOURCE"),
    (33, 0, 50, "18. HOSPITALIZATION DATES RELATED TO CURRENT SERVICES"),
    (33, 1, 54, "MM"), (33, 1, 57, "DD"), (33, 1, 60, "YY"), (33, 1, 68, "MM"), (33, 1, 71, "DD"),
    (33, 1, 74, "YY"),
    (35, 0, 1, "19. ADDITIONAL CLAIM INFORMATION (Designated by NUCC)"),
    (35, 0, 50, "20. OUTSIDE LAB?"), (35, 0, 61.6, "$ CHARGES"),
    (37, 0, 1, "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY"),
    (37, 1, 1, "Relate A-L to service line below (24E)"),
    (37, 0, 50, "22. RESUBMISSION"), (37, 1, 50, "CODE"), (37, 0, 62, "ORIGINAL REF. NO."),
    (39, 0, 50, "23. PRIOR AUTHORIZATION NUMBER"),
    (41, 0, 1, "24. A."), (41, 1, 1, "DATE(S) OF SERVICE"),
    (42, 0, 1, "From"), (42, 0, 10, "To"),
    (42, 1, 1, "MM"), (42, 1, 4, "DD"), (42, 1, 7, "YY"), (42, 1, 10, "MM"), (42, 1, 13, "DD"),
    (42, 1, 16, "YY"),
    (41, 0, 24.6, "D. PROCEDURES, SERVICES, OR SUPPLIES"), (41, 1, 24.6, "(Explain Unusual Circumstances)"),
    (42, 0, 25, "CPT/HCPCS"), (42, 0, 33, "MODIFIER"),
    (41, 0, 44.6, "E."), (41, 1, 44.6, "DIAGNOSIS"), (42, 0, 44.6, "POINTER"),
    (41, 0, 49.6, "F."), (42, 0, 49.6, "$ CHARGES"),
    (41, 0, 67.6, "J."), (41, 1, 67.6, "RENDERING"), (42, 0, 67.6, "PROVIDER ID. #"),
    (55, 0, 1, "25. FEDERAL TAX I.D. NUMBER"), (55, 1, 16.4, "SSN"), (55, 1, 18.4, "EIN"),
    (55, 0, 22, "26. PATIENT'S ACCOUNT NO."),
    (55, 0, 36.6, "27. ACCEPT ASSIGNMENT?"), (55, 1, 36.6, "(For govt. claims, see back)"),
    (55, 0, 49.6, "28. TOTAL CHARGE"), (55, 0, 60.6, "29. AMOUNT PAID"),
    (55, 0, 70.6, "30. Rsvd for NUCC Use"),
    (57, 0, 1, "31. SIGNATURE OF PHYSICIAN OR SUPPLIER"), (57, 1, 1, "INCLUDING DEGREES OR CREDENTIALS"),
    (58, 0, 1, "(I certify that the statements on the reverse"),
    (58, 1, 1, "apply to this bill and are made a part thereof.)"),
    (57, 0, 22, "32. SERVICE FACILITY LOCATION INFORMATION"),
    (57, 0, 49.6, "33. BILLING PROVIDER INFO & PH #"),
)
# The same at a smaller size, for the narrow columns of box 24.
_NARROW_CAPTIONS: tuple[tuple[int, int, float, str], ...] = (
    (41, 0, 18.6, "B."), (41, 1, 18.6, "PLACE"), (42, 0, 18.6, "OF"), (42, 1, 18.6, "SERVICE"),
    (41, 0, 21.6, "C."), (41, 1, 21.6, "EMG"),
    (41, 0, 58.6, "G."), (41, 1, 58.6, "DAYS"), (42, 0, 58.6, "OR"), (42, 1, 58.6, "UNITS"),
    (41, 0, 62.6, "H."), (41, 1, 62.6, "EPSDT"), (42, 0, 62.6, "Family"), (42, 1, 62.6, "Plan"),
    (41, 0, 65.1, "I."), (41, 1, 65.1, "ID."), (42, 0, 65.1, "QUAL."),
)
# (row, column, text): small print level with the data, beside checkboxes and fields.
_LABELS: tuple[tuple[int, float, str], ...] = (
    (8, 2.1, "(Medicare#)"), (8, 9.1, "(Medicaid#)"), (8, 16.1, "(ID#/DoD#)"), (8, 25.1, "(Member ID#)"),
    (8, 32.1, "(ID#)"), (8, 40.1, "(ID#)"), (8, 46.1, "(ID#)"),
    (10, 40.6, "M"), (10, 45.8, "F"),
    (12, 30.2, "Self"), (12, 34.4, "Spouse"), (12, 39.4, "Child"), (12, 43.8, "Other"),
    (20, 36.1, "YES"), (20, 42.1, "NO"), (22, 36.1, "YES"), (22, 42.1, "NO"), (24, 36.1, "YES"),
    (24, 42.1, "NO"), (20, 66.6, "M"), (20, 73.8, "F"),
    (26, 53.1, "YES"), (26, 58.1, "NO"), (26, 60.5, "If yes, complete items 9, 9a, and 9d."),
    (29, 1, "SIGNED"), (29, 33.6, "DATE"), (29, 50, "SIGNED"),
    (32, 12.6, "QUAL."), (32, 50, "FROM"), (32, 65.4, "TO"),
    (33, 29.6, "17a."), (34, 29.6, "17b."), (34, 31.2, "NPI"),
    (34, 50, "FROM"), (34, 65.4, "TO"), (36, 53.1, "YES"), (36, 58.1, "NO"),
    (37, 37.6, "ICD Ind."),
    *((38 + i // 4, (1, 14, 27, 40)[i % 4] + 0.1, f"{letter}.") for i, letter in enumerate(POINTER_LETTERS)),
    (56, 39.1, "YES"), (56, 44.1, "NO"), (56, 49.7, "$"), (56, 60.7, "$"),
    (61, 1, "DATE"), (61, 22, "a."), (61, 34.7, "b."), (61, 49.6, "a."), (61, 61.6, "b."),
)
_PARENTHESES = ((16, 14, 18), (16, 64, 68), (57, 65, 69))
# (row, from column, to column): a line to write on.
_UNDERLINES = (
    (22, 45, 46), (29, 7, 32), (29, 36, 48), (29, 55, 78), (61, 6, 13),
    *((r, c, c + 7) for r in (38, 39, 40) for c in (3, 16, 29)), (38, 42, 48), (39, 42, 48), (40, 42, 48),
)
_SIDE_LABELS = ((0.5, 6, "CARRIER"), (6, 30, "PATIENT AND INSURED INFORMATION"),
                (30, 61, "PHYSICIAN OR SUPPLIER INFORMATION"))


def _draw_form(canvas: Any, grid: Layout, height: float) -> None:
    """The form itself, drawn once per document and reused on every page."""
    rule_x = grid.rule_x

    def rule_y(row: float) -> float:
        return grid.rule_y(row, height)

    top = grid.rule_y(0, height)

    canvas.setFillGray(0.88)
    for n in range(LINES_PER_FORM):
        shaded = grid.fields[f"24.{n + 1}NDC"].row
        canvas.rect(rule_x(0), rule_y(shaded), rule_x(79) - rule_x(0), grid.row, stroke=0, fill=1)
    canvas.setFillGray(0)

    canvas.setLineWidth(0.5)
    path = canvas.beginPath()
    for row, start, end in _RULES:
        path.moveTo(rule_x(start), rule_y(row))
        path.lineTo(rule_x(end), rule_y(row))
    for col, start, end in _UPRIGHTS:
        path.moveTo(rule_x(col), rule_y(start))
        path.lineTo(rule_x(col), rule_y(end))
    for n in range(LINES_PER_FORM):
        row = grid.fields[f"24.{n + 1}D"].row
        for col in _LINE_UPRIGHTS:
            path.moveTo(rule_x(col), rule_y(row - 1))
            path.lineTo(rule_x(col), rule_y(row))
        path.moveTo(rule_x(62), rule_y(row - 1))
        path.lineTo(rule_x(79), rule_y(row - 1))
    for row, start, end in _UNDERLINES:
        path.moveTo(grid.x(start), rule_y(row) + 1.5)
        path.lineTo(grid.x(end + 1), rule_y(row) + 1.5)
    for key, spot in grid.fields.items():
        if ":" in key:
            path.rect(grid.x(spot.col) - 0.4, rule_y(spot.row) + 1.2, grid.column + 0.8, grid.column + 0.8)
    canvas.drawPath(path, stroke=1, fill=0)

    canvas.setLineWidth(0.4)
    canvas.setDash(1, 1.5)
    dotted = canvas.beginPath()
    for col, start, end in _DOTTED:
        dotted.moveTo(rule_x(col), rule_y(start))
        dotted.lineTo(rule_x(col), rule_y(end))
    for n in range(LINES_PER_FORM):
        row = grid.fields[f"24.{n + 1}D"].row
        for col in _LINE_DOTTED:
            dotted.moveTo(rule_x(col), rule_y(row - 1))
            dotted.lineTo(rule_x(col), rule_y(row))
    canvas.drawPath(dotted, stroke=1, fill=0)
    canvas.setDash()

    canvas.setLineWidth(1.2)
    heavy = canvas.beginPath()
    for row, start, end in _HEAVY_RULES:
        heavy.moveTo(rule_x(start), rule_y(row))
        heavy.lineTo(rule_x(end), rule_y(row))
    canvas.drawPath(heavy, stroke=1, fill=0)

    text = canvas.beginText()
    text.setFont(CAPTION_BOLD, 20)
    text.setTextOrigin(grid.x(1), rule_y(3) + 2)
    text.textOut("1500")
    text.setFont(CAPTION_BOLD, 11)
    text.setTextOrigin(grid.x(1), rule_y(4) + 2)
    text.textOut("HEALTH INSURANCE CLAIM FORM")
    text.setFont(CAPTION_FONT, 5.5)
    text.setTextOrigin(grid.x(1), rule_y(5) + 3)
    text.textOut("APPROVED BY NATIONAL UNIFORM CLAIM COMMITTEE (NUCC) 02/12")
    text.setFont(CAPTION_BOLD, 6)
    for col in (1.2, 75.2):
        text.setTextOrigin(grid.x(col), rule_y(6) + 3)
        text.textOut("PICA")
    for n in range(LINES_PER_FORM):
        text.setTextOrigin(grid.x(-1.2), rule_y(grid.fields[f"24.{n + 1}D"].row) + 7)
        text.textOut(str(n + 1))
    text.setFont(CAPTION_FONT, 5.5)
    for size, captions in ((5.5, _CAPTIONS), (4.4, _NARROW_CAPTIONS)):
        text.setFont(CAPTION_FONT, size)
        for row, sub, col, caption in captions:
            text.setTextOrigin(grid.x(col), top - (row - 1) * grid.row - 5.6 - sub * 5.6)
            text.textOut(caption)
    for row, col, caption in _LABELS:
        text.setTextOrigin(grid.x(col), rule_y(row) + grid.baseline + 1.5)
        text.textOut(caption)
    for n in range(LINES_PER_FORM):
        text.setTextOrigin(grid.x(65.1), rule_y(grid.fields[f"24.{n + 1}D"].row) + grid.baseline + 1.5)
        text.textOut("NPI")
    text.setFont(CAPTION_FONT, 9)
    for row, opening, closing in _PARENTHESES:
        for col, mark in ((opening, "("), (closing, ")")):
            text.setTextOrigin(grid.x(col) + 1.5, rule_y(row) + grid.baseline)
            text.textOut(mark)
    text.setFont(CAPTION_FONT, 6)
    footer = rule_y(62) + 2
    text.setTextOrigin(grid.x(1), footer)
    text.textOut("NUCC Instruction Manual available at: www.nucc.org")
    text.setTextOrigin(grid.x(57), footer)
    text.textOut("FORM 1500 (02-12), plain-paper copy")
    text.setFont(CAPTION_BOLD, 7)
    text.setTextOrigin(grid.x(33), footer)
    text.textOut("PLEASE PRINT OR TYPE")
    canvas.drawText(text)

    canvas.setFont(CAPTION_BOLD, 6)
    canvas.setLineWidth(0.5)
    side = rule_x(79) + 4
    for start, end, label in _SIDE_LABELS:
        canvas.line(side, rule_y(start) - 1, side, rule_y(end) + 1)
        canvas.saveState()
        canvas.translate(side + 8, (rule_y(start) + rule_y(end)) / 2)
        canvas.rotate(-90)
        canvas.drawCentredString(0, 0, label)
        canvas.restoreState()
