"""CMS-1500 (02/12): the text of each box, and the PDF read back with pypdf.

The expected box texts come from the NUCC 1500 Reference Instruction Manual (02/12 form);
the shaded-line NDC format from coding-rules §14; multi-page totals from the payers' rules the
module docstring cites. Every person, number and address here is made up.
"""

from __future__ import annotations

import io
import re
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from pypdf import PdfReader
from pypdf.generic import ContentStream

from infusion_desk.billing.claim_data import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimData,
    ClaimLineData,
    Ndc,
    OtherPayer,
    PatientData,
    PayerData,
    PersonName,
    Provider,
    Signatures,
    Subscriber,
)
from infusion_desk.billing.cms1500 import PrintOptions, form_fields, layout, render_cms1500

CLINIC = BillingProvider(
    name="Lakeview Infusion, LLC",
    npi="1234567893",
    tin="36-1234567",
    taxonomy="261QI0500X",
    address=Address("400 Example Avenue", "Springfield", "IL", "627011234", "Suite 2"),
    phone="(217) 555-0142",
)
PAYER = PayerData("Example Health Plan", "EXHP1", Address("PO Box 9000", "Example City", "IL", "62999"))
TESTY = PersonName("Example", "Testy", "Quinn")
HOME = Address("12 Example Lane", "Springfield", "IL", "62704", "Apt. #3")
DOS = date(2026, 11, 2)


def line(n: int, code: str = "96413", charge: str = "350.00", units: str = "1", **kwargs: object) -> ClaimLineData:
    values: dict[str, object] = {
        "line_number": n, "control_number": f"C0000042-{n}", "service_date": DOS, "code": code,
        "units": Decimal(units), "charge": Decimal(charge), "diagnosis_pointers": (1,),
    }
    values.update(kwargs)
    return ClaimLineData(**values)  # type: ignore[arg-type]


INFLIXIMAB = line(
    2, "J1745", "3200.00", "40", diagnosis_pointers=(1, 2), modifiers=("JZ",),
    ndc=Ndc("57894003001", Decimal("4.000"), "UN"),
)


def claim(**changes: object) -> ClaimData:
    base = ClaimData(
        claim_number="C0000042",
        responsibility="P",
        frequency_code="1",
        place_of_service="11",
        billing=CLINIC,
        payer=PAYER,
        subscriber=Subscriber(TESTY, "XEH123456789", date(1962, 1, 15), "F", HOME, group_number="GRP-77"),
        relationship_code="18",
        patient=PatientData(TESTY, date(1962, 1, 15), "F", HOME, "DM0000001", phone="217-555-0199"),
        filing_indicator="CI",
        diagnoses=("K5090", "Z79899"),
        lines=(line(1, diagnosis_pointers=(1,)), INFLIXIMAB),
        rendering=Provider(PersonName("Nurse", "Rita", None), "1679576722", credentials="MD"),
        ordering=Provider(PersonName("Doctor", "Olivia", "Jane"), "1245319599", credentials="M.D."),
        prior_authorization="PA-2026 0001",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def spouse_claim() -> ClaimData:
    """Secondary to a spouse's plan, after the primary paid."""
    spouse = Subscriber(PersonName("Example", "Sam", None), "PRI555", date(1960, 5, 6), "M", HOME,
                        group_number="PG100")
    primary = OtherPayer(
        responsibility="P",
        payer=PayerData("Primary Example Insurance", "PRIM1"),
        subscriber=spouse,
        relationship_code="01",
        filing_indicator="CI",
        paid=Decimal("2800.00"),
        claim_adjustments=(Adjustment("PR", "2", Decimal("400.00")),),
        adjudication_date=date(2026, 11, 20),
    )
    return claim(responsibility="S", other_payers=(primary,), patient_amount_paid=Decimal("40.00"))


def pages_text(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def positions(pdf: bytes, page: int = 0) -> dict[str, tuple[float, float]]:
    """Where each piece of text starts on the page, in points from the bottom left."""
    found: dict[str, tuple[float, float]] = {}

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.strip():
            found.setdefault(text.strip(), (cm[4] + tm[4] * cm[0], cm[5] + tm[5] * cm[3]))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return found


# -- form_fields: which text goes in which box


def test_every_box_the_claim_fills() -> None:
    page, = form_fields(claim(), signed_on=date(2026, 11, 3))
    assert page == {
        "carrier.1": "EXAMPLE HEALTH PLAN", "carrier.2": "PO BOX 9000", "carrier.3": "EXAMPLE CITY IL 62999",
        "1:other": "X", "1a": "XEH123456789",
        "2": "EXAMPLE, TESTY, Q", "3": "01 15 1962", "3:F": "X",
        "5.street": "12 EXAMPLE LANE APT 3", "5.city": "SPRINGFIELD", "5.state": "IL", "5.zip": "62704",
        "5.area": "217", "5.phone": "5550199",
        "4": "EXAMPLE, TESTY, Q",
        "7.street": "12 EXAMPLE LANE APT 3", "7.city": "SPRINGFIELD", "7.state": "IL", "7.zip": "62704",
        "7.area": "217", "7.phone": "5550199",
        "6:self": "X",
        "10a:no": "X", "10b:no": "X", "10c:no": "X",
        "11": "GRP-77", "11a": "01 15 1962", "11a:F": "X", "11c": "EXAMPLE HEALTH PLAN", "11d:no": "X",
        "12": "SIGNATURE ON FILE", "13": "SIGNATURE ON FILE",
        "17.qual": "DK", "17": "OLIVIA J DOCTOR MD", "17b": "1245319599",
        "21.ind": "0", "21A": "K5090", "21B": "Z79899",
        "23": "PA20260001",
        "25": "361234567", "25:ein": "X", "26": "C0000042", "27:yes": "X",
        "33.area": "217", "33.phone": "5550142",
        "32.name": "LAKEVIEW INFUSION LLC", "33.name": "LAKEVIEW INFUSION LLC",
        "32.street": "400 EXAMPLE AVENUE SUITE 2", "33.street": "400 EXAMPLE AVENUE SUITE 2",
        "31": "SIGNATURE ON FILE", "31.date": "11 03 26",
        "32.city": "SPRINGFIELD IL 62701-1234", "33.city": "SPRINGFIELD IL 62701-1234",
        "32a": "1234567893", "33a": "1234567893",
        "24.1A.from": "11 02 26", "24.1A.to": "11 02 26", "24.1B": "11", "24.1D": "96413", "24.1E": "A",
        "24.1F": "350 00", "24.1G": "1", "24.1J": "1679576722",
        "24.2NDC": "N457894003001 UN4",
        "24.2A.from": "11 02 26", "24.2A.to": "11 02 26", "24.2B": "11", "24.2D": "J1745", "24.2D.mod": "JZ",
        "24.2E": "AB", "24.2F": "3200 00", "24.2G": "40", "24.2J": "1679576722",
        "28": "3550 00",
    }


def drug(n: int, code: str = "J1745", ndc: Ndc | None = None, **kwargs: object) -> ClaimLineData:
    return line(n, code, "100.00", "1", ndc=ndc or Ndc("57894003001", Decimal(1), "UN"), **kwargs)


def secondary_claim_without_copay() -> ClaimData:
    return replace(spouse_claim(), patient_amount_paid=None)


# (what differs from claim(), box, the text printed there; None when the box stays empty)
BOXES = [
    # Box 1 from the claim filing indicator (SBR09)
    ({"filing_indicator": "MB"}, "1:medicare", "X"),
    ({"filing_indicator": "MC"}, "1:medicaid", "X"),
    ({"filing_indicator": "CH"}, "1:tricare", "X"),
    ({"filing_indicator": "VA"}, "1:champva", "X"),
    ({"filing_indicator": "FI"}, "1:group", "X"),
    # NUCC: "Other indicates health insurance including HMOs, commercial insurance, ..."
    ({"filing_indicator": "CI"}, "1:other", "X"),
    ({"filing_indicator": "HM"}, "1:other", "X"),
    ({"filing_indicator": "BL"}, "1:other", "X"),
    ({"filing_indicator": "WC"}, "1:other", "X"),
    ({"filing_indicator": "CI"}, "1:group", None),
    # Box 2: LAST, FIRST, MIDDLE INITIAL; no periods
    ({"patient": replace(claim().patient, name=PersonName("O'Example-Smith", "Mary Ann", None))},
     "2", "O'EXAMPLE-SMITH, MARY ANN"),
    ({"patient": replace(claim().patient, name=PersonName("Example Jr.", "Testy", "q."))}, "2", "EXAMPLE JR, TESTY, Q"),
    ({"patient": replace(claim().patient, name=PersonName("Exampleton-Longname", "Bartholomew", "Q"))},
     "2", "EXAMPLETON-LONGNAME, BARTHOL"),  # cut at the box's 28 characters
    ({"patient": replace(claim().patient, name=PersonName("Éxample", "Zoë", None))}, "2", "EXAMPLE, ZOE"),
    # Box 3: 8-digit birth date, sex M or F, nothing for unknown
    ({"patient": replace(claim().patient, birth_date=date(2001, 12, 9), sex="M")}, "3", "12 09 2001"),
    ({"patient": replace(claim().patient, sex="M")}, "3:M", "X"),
    ({"patient": replace(claim().patient, sex="U")}, "3:F", None),
    ({"patient": replace(claim().patient, sex="U")}, "3:M", None),
    # Box 5: nine-digit ZIP with its hyphen, phone digits only
    ({"patient": replace(claim().patient, address=replace(HOME, zip_code="627041234"))}, "5.zip", "62704-1234"),
    ({"patient": replace(claim().patient, phone="1 (217) 555 0100")}, "5.area", "217"),
    ({"patient": replace(claim().patient, phone=None)}, "5.phone", None),
    # Box 6
    ({"relationship_code": "01"}, "6:spouse", "X"),
    ({"relationship_code": "19"}, "6:child", "X"),
    ({"relationship_code": "G8"}, "6:other", "X"),
    ({"relationship_code": "G8"}, "6:self", None),
    # Box 9, 9a, 9d and 11d: the other plan, on a secondary claim only
    ({}, "9", None),
    ({}, "11d:no", "X"),
    ({"other_payers": spouse_claim().other_payers}, "9", "EXAMPLE, SAM"),
    ({"other_payers": spouse_claim().other_payers}, "9a", "PG100"),
    ({"other_payers": spouse_claim().other_payers}, "9d", "PRIMARY EXAMPLE INSURANCE"),
    ({"other_payers": (replace(spouse_claim().other_payers[0], subscriber=replace(
        spouse_claim().other_payers[0].subscriber, group_number=None, member_id="PRI 555-01")),)},
     "9a", "PRI55501"),  # the member id when there is no group number; no separators
    ({"other_payers": spouse_claim().other_payers}, "11d:yes", "X"),
    ({"other_payers": spouse_claim().other_payers}, "11d:no", None),
    # Box 11: the group number, blank when there is none
    ({"subscriber": replace(claim().subscriber, group_number=None)}, "11", None),
    # Box 12, 13, 31: signature on file, else left for a pen
    ({"signatures": Signatures(release_of_information="I")}, "12", None),
    ({"signatures": Signatures(benefits_assigned=False)}, "13", None),
    ({"signatures": Signatures(provider_signature_on_file=False)}, "31", None),
    # Box 17: the ordering provider with qualifier DK, first name first, no periods
    ({"ordering": None}, "17", None),
    ({"ordering": None}, "17.qual", None),
    ({"ordering": Provider(PersonName("Doctor", "Olivia"), "1245319599")}, "17", "OLIVIA DOCTOR"),
    # Box 21: ICD indicator 0, codes without the dot, A to L
    ({"diagnoses": ("K50.90",)}, "21A", "K5090"),
    ({"diagnoses": tuple(f"Z{n:02d}" for n in range(12))}, "21L", "Z11"),
    # Box 22: resubmission code and the payer's claim number, never on an original claim
    ({}, "22.code", None),
    ({"frequency_code": "7", "payer_claim_control_number": "ICN 2026-0099"}, "22.code", "7"),
    ({"frequency_code": "7", "payer_claim_control_number": "ICN 2026-0099"}, "22.original", "ICN 2026-0099"),
    ({"frequency_code": "8", "payer_claim_control_number": "ICN77"}, "22.code", "8"),
    ({"frequency_code": "8", "payer_claim_control_number": "ICN77"}, "22.original", "ICN77"),
    # Box 23: no hyphens or spaces; the lines' number when the claim has none and they agree
    ({"prior_authorization": None}, "23", None),
    ({"prior_authorization": None, "lines": (line(1, prior_authorization="AUTH-1"), line(2, prior_authorization="AUTH-1"))},
     "23", "AUTH1"),
    ({"prior_authorization": None, "lines": (line(1, prior_authorization="AUTH-1"), line(2, prior_authorization="AUTH-2"))},
     "23", None),
    # Box 24: dates MM DD YY, up to four modifiers, pointer letters, units as typed
    ({"lines": (line(1, service_date=date(2027, 1, 5)),)}, "24.1A.from", "01 05 27"),
    ({"lines": (line(1, modifiers=("JW", "XU", "59", "76")),)}, "24.1D.mod", "JW XU 59 76"),
    ({"lines": (line(1, diagnosis_pointers=(1, 3, 4, 12)),), "diagnoses": tuple(f"Z{n:02d}" for n in range(12))},
     "24.1E", "ACDL"),
    ({"lines": (line(1, diagnosis_pointers=(2, 3, 0)),)}, "24.1E", "B"),  # only letters box 21 fills
    ({"lines": (line(1, units="1.50"),)}, "24.1G", "1.5"),
    ({"lines": (line(1, charge="12345.6"),)}, "24.1F", "12345 60"),
    ({"rendering": None}, "24.1J", None),
    # the shaded line: N4 + NDC, a space, unit and quantity (3 decimals at most, no trailing zeros)
    ({"lines": (drug(1, ndc=Ndc("00006302902", Decimal("0.5000"), "ML")),)}, "24.1NDC", "N400006302902 ML0.5"),
    ({"lines": (drug(1, ndc=Ndc("00006302902", Decimal("12.3456"), "ML")),)}, "24.1NDC", "N400006302902 ML12.346"),
    ({"lines": (drug(1, ndc=Ndc("00006302902", Decimal("1E+2"), "UN")),)}, "24.1NDC", "N400006302902 UN100"),
    ({"lines": (line(1, ndc=Ndc("00006302902", Decimal(1), "UN")),)}, "24.1NDC", None),  # a CPT code carries no NDC
    ({"lines": (drug(1, "J3490", description="Examplemab 10 mg"),)}, "24.1NDC",
     "N457894003001 UN1   ZZEXAMPLEMAB 10 MG"),
    # Box 25, 26, 27
    ({"billing": replace(CLINIC, tin="36 1234567")}, "25", "361234567"),
    ({"claim_number": "C0009999"}, "26", "C0009999"),
    ({"signatures": Signatures(accepts_assignment=False)}, "27:no", "X"),
    ({"signatures": Signatures(accepts_assignment=False)}, "27:yes", None),
    # Box 29: what the patient and other payers paid, blank when nobody did
    ({}, "29", None),
    ({"patient_amount_paid": Decimal("40")}, "29", "40 00"),
    ({"patient_amount_paid": Decimal("40"), "other_payers": spouse_claim().other_payers}, "29", "2840 00"),
    # Box 33: paid to the pay-to address when there is one, service facility (32) stays the clinic
    ({"billing": replace(CLINIC, pay_to=Address("PO Box 55", "Springfield", "IL", "62705"))}, "33.street", "PO BOX 55"),
    ({"billing": replace(CLINIC, pay_to=Address("PO Box 55", "Springfield", "IL", "62705"))}, "32.street",
     "400 EXAMPLE AVENUE SUITE 2"),
    ({"billing": replace(CLINIC, phone=None)}, "33.phone", None),
]


@pytest.mark.parametrize(("changes", "box", "expected"), BOXES)
def test_box(changes: dict[str, object], box: str, expected: str | None) -> None:
    page, = form_fields(claim(**changes))
    assert page.get(box) == expected


def test_a_dependant_names_the_parent_as_insured() -> None:
    parent = Subscriber(PersonName("Example", "Pat", "R"), "XEH000111", date(1970, 3, 4), "M",
                        Address("9 Other Road", "Decatur", "IL", "62521"))
    page, = form_fields(claim(subscriber=parent, relationship_code="19"))
    assert (page["2"], page["4"], page["7.street"], page["7.city"], page["11a"], page["11a:M"]) == (
        "EXAMPLE, TESTY, Q", "EXAMPLE, PAT, R", "9 OTHER ROAD", "DECATUR", "03 04 1970", "X")
    assert "7.phone" not in page  # the patient's phone is not the insured's


def test_box_31_is_dated_only_when_asked() -> None:
    assert "31.date" not in form_fields(claim())[0]
    assert form_fields(claim(), signed_on=date(2026, 12, 1))[0]["31.date"] == "12 01 26"


def test_nine_lines_continue_on_a_second_form() -> None:
    lines = tuple(line(n, f"9{n:04d}", charge="10.00") for n in range(1, 10))
    first, second = form_fields(claim(lines=lines, patient_amount_paid=Decimal("40.00")))
    assert [first[f"24.{n}D"] for n in range(1, 7)] == ["90001", "90002", "90003", "90004", "90005", "90006"]
    assert [second[f"24.{n}D"] for n in range(1, 4)] == ["90007", "90008", "90009"]
    assert "24.4D" not in second
    assert (first["page"], second["page"]) == ("PAGE 1 OF 2", "PAGE 2 OF 2")
    # The total of all nine lines on the last form, CONTINUED before it; box 29 once.
    assert (first["28"], second["28"]) == ("CONTINUED", "90 00")
    assert ("29" in first, second["29"]) == (False, "40 00")
    header = {k: v for k, v in first.items() if not k.startswith(("24.", "28", "29", "page"))}
    assert header == {k: v for k, v in second.items() if not k.startswith(("24.", "28", "29", "page"))}
    assert header["2"] == "EXAMPLE, TESTY, Q" and header["21B"] == "Z79899"


def test_six_lines_fit_one_form() -> None:
    page, = form_fields(claim(lines=tuple(line(n) for n in range(1, 7))))
    assert "page" not in page and page["24.6D"] == "96413" and page["28"] == "2100 00"


def test_every_field_has_its_own_place_on_the_form() -> None:
    """The layout file: inside the form, and no two fields of a row overlap."""
    taken: dict[tuple[int, int], str] = {}
    for key, spot in layout().fields.items():
        assert 1 <= spot.row <= 61 and 1 <= spot.col and spot.col + spot.width - 1 <= 78, key
        for col in range(spot.col, spot.col + spot.width):
            assert (spot.row, col) not in taken, f"{key} overlaps {taken[(spot.row, col)]}"
            taken[(spot.row, col)] = key


# -- the PDF


def test_pdf_shows_the_form_and_the_claim() -> None:
    page, = pages_text(render_cms1500([claim()]))
    for caption in ("HEALTH INSURANCE CLAIM FORM", "1a. INSURED'S I.D. NUMBER", "2. PATIENT'S NAME",
                    "21. DIAGNOSIS OR NATURE OF ILLNESS OR INJURY", "33. BILLING PROVIDER INFO & PH #"):
        assert caption in page
    for data in ("EXAMPLE, TESTY, Q", "XEH123456789", "01 15 1962", "K5090", "Z79899", "PA20260001",
                 "N457894003001 UN4", "J1745", "JZ", "AB", "3200 00", "3550 00", "SIGNATURE ON FILE",
                 "C0000042", "361234567", "1234567893", "DK OLIVIA J DOCTOR MD"):
        assert data in page
    lines = page.splitlines()
    assert any(re.search(r"11 02 26 11 02 26 11 J1745 JZ AB 3200 00 40 1679576722", text) for text in lines)


def test_pdf_of_a_corrected_and_a_void_claim() -> None:
    corrected = claim(claim_number="C0000043", frequency_code="7", payer_claim_control_number="ICN20261104")
    void = claim(claim_number="C0000044", frequency_code="8", payer_claim_control_number="ICN20261105")
    first, second = pages_text(render_cms1500([corrected, void]))
    assert re.search(r"\b7 ICN20261104\b", first) and "C0000043" in first
    assert re.search(r"\b8 ICN20261105\b", second) and "C0000044" in second


def test_pdf_of_a_secondary_claim() -> None:
    page, = pages_text(render_cms1500([spouse_claim()]))
    for data in ("EXAMPLE, SAM", "PG100", "PRIMARY EXAMPLE INSURANCE", "2840 00"):
        assert data in page


def test_pdf_of_nine_lines_has_two_pages() -> None:
    lines = tuple(line(n, f"9{n:04d}", charge="10.00") for n in range(1, 10))
    first, second = pages_text(render_cms1500([claim(lines=lines)]))
    assert "90006" in first and "90007" not in first and "CONTINUED" in first and "PAGE 1 OF 2" in first
    assert all(code in second for code in ("90007", "90008", "90009")) and "90006" not in second
    assert "90 00" in second and "PAGE 2 OF 2" in second and "EXAMPLE, TESTY, Q" in second


def test_claims_print_in_the_order_given() -> None:
    many = tuple(line(n) for n in range(1, 8))
    claims = [claim(claim_number="C0000003"), claim(claim_number="C0000001", lines=many),
              claim(claim_number="C0000002")]
    numbers = [re.findall(r"C000000\d", text) for text in pages_text(render_cms1500(claims))]
    assert [found[0] for found in numbers] == ["C0000003", "C0000001", "C0000001", "C0000002"]


def test_data_only_prints_no_form() -> None:
    page, = pages_text(render_cms1500([claim()], PrintOptions(data_only=True)))
    for caption in ("HEALTH INSURANCE CLAIM FORM", "INSURED'S I.D. NUMBER", "PATIENT'S NAME", "DIAGNOSIS",
                    "NPI", "PICA", "YES"):
        assert caption not in page
    for data in ("EXAMPLE, TESTY, Q", "XEH123456789", "K5090", "N457894003001 UN4", "3550 00"):
        assert data in page


def test_offsets_move_every_string() -> None:
    plain = positions(render_cms1500([claim()], PrintOptions(data_only=True)))
    moved = positions(render_cms1500(
        [claim()], PrintOptions(data_only=True, offset_x_mm=Decimal(10), offset_y_mm=Decimal("-2.5"))))
    assert moved.keys() == plain.keys() and len(plain) > 20
    for text, (x, y) in plain.items():
        # 10 mm right is 28.35 pt; 2.5 mm up (negative down) is 7.09 pt
        assert moved[text] == (pytest.approx(x + 28.3465, abs=0.01), pytest.approx(y + 7.0866, abs=0.01)), text


def test_offsets_move_the_form_too() -> None:
    """The form is one drawing reused on every page; the page moves it before drawing it."""
    reader = PdfReader(io.BytesIO(render_cms1500([claim()] * 2, PrintOptions(offset_y_mm=Decimal(5)))))
    for page in reader.pages:
        operations = ContentStream(page.get_contents(), reader).operations
        drawn_at = [i for i, (_, operator) in enumerate(operations) if operator == b"Do"]
        moves = [operands for operands, operator in operations[: drawn_at[0]] if operator == b"cm"]
        assert len(drawn_at) == 1
        assert sum(float(m[5]) for m in moves) == pytest.approx(-14.1732, abs=0.001)  # 5 mm down


def test_same_claims_render_the_same_bytes() -> None:
    claims = [claim(), spouse_claim()]
    assert render_cms1500(claims) == render_cms1500(claims)
    assert render_cms1500(claims, PrintOptions(data_only=True)) == render_cms1500(claims, PrintOptions(data_only=True))


@pytest.mark.parametrize("offset", [Decimal("NaN"), Decimal("Infinity"), Decimal("51"), Decimal("-60")])
def test_unusable_printer_offsets_are_refused(offset: Decimal) -> None:
    with pytest.raises(ValueError, match="millimetres between -50 and 50"):
        PrintOptions(offset_x_mm=offset)
    with pytest.raises(ValueError, match="printer offset"):
        PrintOptions(offset_y_mm=offset)


def test_nothing_to_print_is_refused() -> None:
    with pytest.raises(ValueError, match="no claim"):
        render_cms1500([])
