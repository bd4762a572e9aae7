"""837P claims: every file we write passes pyx12 and reads back as the same claims; the TR3 examples read too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from infusion_desk.billing.claim_data import Adjustment, BillingProvider, ClaimData, Ndc, PersonName
from infusion_desk.billing.x12.claims837 import claim_problems
from infusion_desk.billing.x12.envelope import clean
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.billing.x12.syntax import X12Error, transactions
from tests.billing.x12.claim_fixtures import (
    CLINIC,
    SATELLITE,
    TWELVE_DIAGNOSES,
    admin_line,
    claim_level_only_secondary,
    cleaned,
    dependent_claim,
    drug_line,
    fifty_lines_claim,
    many_diagnoses_claim,
    replacement_claim,
    secondary_claim,
    simple_claim,
    tricky_names_claim,
    waste_claim,
    write,
)
from tests.billing.x12.pyx12_check import pyx12_errors

SAMPLES = Path("/work/shared/x12-samples/837p")
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"the shared public X12 samples ({SAMPLES}) are not on this machine"
)
TR3_EXAMPLES = sorted(p.name for p in SAMPLES.glob("stupidedi__X222A1-*.edi")) if SAMPLES.is_dir() else []


def sample(name: str) -> str:
    return (SAMPLES / name).read_text(encoding="utf-8-sig")


def in_file_order(claims: Sequence[ClaimData]) -> list[ClaimData]:
    """Claims as the writer lays them out: under their billing provider, providers in first-seen order."""
    groups: dict[BillingProvider, list[ClaimData]] = {}
    for claim in claims:
        groups.setdefault(claim.billing, []).append(claim)
    return [claim for group in groups.values() for claim in group]


def _several_providers() -> list[ClaimData]:
    claims = [simple_claim("CLMA"), dependent_claim("CLMB", "01"), simple_claim("CLMC")]
    claims[1] = replace(claims[1], billing=SATELLITE)
    return claims


def _two_hundred() -> list[ClaimData]:
    makers: list[Callable[[str], ClaimData]] = [
        simple_claim, waste_claim, dependent_claim, secondary_claim, replacement_claim, many_diagnoses_claim,
    ]
    claims = [makers[n % len(makers)](f"C{n:07d}") for n in range(200)]
    return [replace(c, billing=SATELLITE) if n % 7 == 0 else c for n, c in enumerate(claims)]


SCENARIOS: dict[str, Callable[[], list[ClaimData]]] = {
    "primary": lambda: [simple_claim("CLM1")],
    "waste": lambda: [waste_claim("CLMW")],
    "twelve diagnoses": lambda: [many_diagnoses_claim("CLMDX")],
    "fifty lines": lambda: [fifty_lines_claim("CLM50")],
    "spouse": lambda: [dependent_claim("CLMDEP", "01")],
    "child": lambda: [dependent_claim("CLMDEP", "19")],
    "names": lambda: [tricky_names_claim("CLMNAME")],
    "replacement": lambda: [replacement_claim("CLM7", "7")],
    "void": lambda: [replacement_claim("CLM8", "8")],
    "original with a stale ICN": lambda: [simple_claim("CLMO", payer_claim_control_number="ICN-STALE")],
    "secondary": lambda: [secondary_claim("CLMSEC")],
    "claim-level secondary": lambda: [claim_level_only_secondary("CLMSEC2")],
    "several providers": _several_providers,
    "two hundred": _two_hundred,
}


@pytest.fixture(scope="module")
def written() -> dict[str, str]:
    """Every scenario's file, each its own interchange (control numbers 1, 2, 3...)."""
    return {
        name: write(make(), interchange_control_number=number, group_control_number=number)
        for number, (name, make) in enumerate(SCENARIOS.items(), start=1)
    }


@pytest.fixture(scope="module")
def pyx12_verdict(written: dict[str, str]) -> list[str]:
    """pyx12 on all the scenario files at once: one run instead of one per file (map loading is most
    of its cost), each file still checked as written, as one interchange of the document."""
    return pyx12_errors("".join(written.values()))


@pytest.fixture
def round_trip(written: dict[str, str], pyx12_verdict: list[str]) -> Callable[[str], list[str]]:
    def check(name: str) -> list[str]:
        """pyx12 found nothing, the reader gives the scenario's claims back; its ST…SE segments."""
        assert pyx12_verdict == []
        text = written[name]
        assert read_837p(text) == tuple(cleaned(claim) for claim in in_file_order(SCENARIOS[name]()))
        (transaction,) = transactions(text)
        return [segment.text() for segment in transaction.segments]

    return check


def from_(segments: list[str], first: str) -> list[str]:
    return segments[segments.index(first) :]


Check = Callable[[str], list[str]]


# -- claims we send -----------------------------------------------------------------------------


def test_a_primary_claim_carries_the_infusion_the_drug_with_its_ndc_and_the_prescriber(round_trip: Check) -> None:
    segments = round_trip("primary")
    assert segments[:13] == [
        "ST*837*0001*005010X222A1~", "BHT*0019*00*B000000017*20261120*0930*CH~",
        "NM1*41*2*DEMO INFUSION CLINIC*****46*DEMOCLINIC~", "PER*IC*BILLING OFFICE*TE*2175550100~",
        "NM1*40*2*CLEAR HOUSE FICTIONAL*****46*CLEARHOUSE~",
        "HL*1**20*1~", "PRV*BI*PXC*261QI0500X~", "NM1*85*2*DEMO INFUSION CLINIC, LLC*****XX*1245319599~",
        "N3*100 MAIN ST*SUITE 2~", "N4*SPRINGFIELD*IL*627011234~", "REF*EI*123456789~",
        "PER*IC**TE*2175550100~", "HL*2*1*22*0~",
    ]
    assert from_(segments, "HL*2*1*22*0~") == [
        "HL*2*1*22*0~", "SBR*P*18*GRP1*SILVER PLAN*****CI~", "NM1*IL*1*TESTPATIENT*ZEBULON****MI*XYZ123456~",
        "N3*1 ELM ST~", "N4*SPRINGFIELD*IL*62701~", "DMG*D8*19600102*M~",
        "NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~", "N3*PO BOX 1000~", "N4*CHICAGO*IL*60601~",
        "CLM*CLM1*3550***11:B:1*Y*A*Y*Y~", "AMT*F5*40~", "REF*G1*PA-7788~", "REF*EA*MRN0007~",
        "HI*ABK:K5090*ABF:D509~", "NM1*82*1*FICTIONAL*ZEBULON*Q***XX*1112223338~", "PRV*PE*PXC*207RG0100X~",
        "LX*1~", "SV1*HC:96365*350*UN*1***1~", "DTP*472*D8*20261102~", "REF*6R*CLM1L01~",
        "LX*2~", "SV1*HC:J1745:JZ*3200*UN*40***1:2~", "DTP*472*D8*20261102~", "REF*6R*CLM1L02~",
        "LIN**N4*57894003001~", "CTP****4*UN~", "NM1*DK*1*PRESCRIBER*PAT****XX*1444555662~",
        f"SE*{len(segments)}*0001~",
    ]


def test_a_waste_line_carries_jw_its_own_ndc_quantity_and_line_authorization(round_trip: Check) -> None:
    segments = round_trip("waste")
    assert from_(segments, "SV1*HC:J9035:JW*350*UN*5***1~")[:7] == [
        "SV1*HC:J9035:JW*350*UN*5***1~", "DTP*472*D8*20261102~", "REF*G1*PA-LINE-9~", "REF*6R*CLMWL03~",
        "LIN**N4*50242006001~", "CTP****2*ML~", "NM1*DK*1*PRESCRIBER*PAT****XX*1444555662~",
    ]
    assert "SV1*HC:J9035:JZ*2800*UN*40***1~" in segments
    # the administration (a CPT code) gets no drug data and no ordering provider
    assert from_(segments, "SV1*HC:96413*350*UN*1***1~")[3] == "LX*2~"


def test_twelve_diagnoses_fill_one_hi_segment_principal_first(round_trip: Check) -> None:
    segments = round_trip("twelve diagnoses")
    expected = "HI*ABK:K5090*" + "*".join(f"ABF:{code}" for code in TWELVE_DIAGNOSES[1:]) + "~"
    assert expected in segments
    assert "SV1*HC:96365*350*UN*1***9:10:11:12~" in segments


def test_fifty_lines_are_numbered_and_priced_without_trailing_zeros(round_trip: Check) -> None:
    segments = round_trip("fifty lines")
    assert [s for s in segments if s.startswith("LX*")] == [f"LX*{n}~" for n in range(1, 51)]
    assert "SV1*HC:J1745:JZ*1.5*UN*1***1~" in segments and "SV1*HC:J1745:JZ*50.5*UN*50***1~" in segments
    assert "CLM*CLM50*1300***11:B:1*Y*A*Y*Y~" in segments  # 1.5 + 2.5 + ... + 50.5
    assert "DTP*472*D8*20261029~" in segments  # line 4: four days before 2 November


@pytest.mark.parametrize("relationship", ["01", "19"], ids=["spouse", "child"])
def test_a_patient_who_is_not_the_subscriber_gets_a_patient_loop(round_trip: Check, relationship: str) -> None:
    segments = round_trip("spouse" if relationship == "01" else "child")
    assert from_(segments, "HL*2*1*22*1~")[:15] == [
        "HL*2*1*22*1~", "SBR*P**G-77******CI~", "NM1*IL*1*TESTPARENT*ULYSSES*B***MI*DEP987654~",
        "N3*77 OAK AVE*APT 3~", "N4*PEORIA*IL*616021234~", "DMG*D8*19700304*M~",
        "NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~", "N3*PO BOX 1000~", "N4*CHICAGO*IL*60601~",
        "HL*3*2*23*0~", f"PAT*{relationship}~", "NM1*QC*1*TESTPATIENT*KIDDO~", "N3*1 ELM ST~",
        "N4*SPRINGFIELD*IL*62701~", "DMG*D8*20100506*F~",
    ]
    assert from_(segments, "DMG*D8*20100506*F~")[1].startswith("CLM*CLMDEP*")


def test_delimiters_and_accents_in_names_and_addresses_cannot_break_the_file(round_trip: Check) -> None:
    segments = round_trip("names")
    assert "NM1*85*2*CLINICA DEMO INFUSION LLC*****XX*1245319599~" in segments
    assert from_(segments, "SBR*P*18*GRP*PLAN UNIQUE*****CI~")[:5] == [
        "SBR*P*18*GRP*PLAN UNIQUE*****CI~", "NM1*IL*1*O'BRIEN NUNEZ*ZOE ANN****MI*MBR 42 X~",
        "N3*12 RUE CHATEAU*BLDG 4~", "N4*SAINT-ETIENNE EAST*IL*62702~", "DMG*D8*19800708*F~",
    ]
    assert "NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~" in segments
    assert "REF*EA*MRN 1~" in segments and "NM1*82*1*ANGSTROM*ZEBULON****XX*1112223338~" in segments


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=30))
def test_any_name_comes_back_exactly_as_cleaned(name: str) -> None:
    claim = dependent_claim("CLMH")
    claim = replace(claim, patient=replace(claim.patient, name=PersonName("Testpatient", name)))
    (back,) = read_837p(write([claim]))
    assert back.patient.name.first == clean(name)


@pytest.mark.parametrize(("frequency", "name"), [("7", "replacement"), ("8", "void")])
def test_replacement_and_void_name_the_payers_claim_number(round_trip: Check, frequency: str, name: str) -> None:
    segments = round_trip(name)
    clm = f"CLM*CLM{frequency}*3550***11:B:{frequency}*Y*A*Y*Y~"
    assert from_(segments, clm)[:5] == [clm, "AMT*F5*40~", "REF*G1*PA-7788~", "REF*F8*ICN2026110400123~",
                                        "REF*EA*MRN0007~"]


def test_an_original_claim_never_sends_a_payer_claim_number(round_trip: Check) -> None:
    assert not any(s.startswith("REF*F8") for s in round_trip("original with a stale ICN"))


def test_a_secondary_claim_repeats_the_primarys_adjudication_and_balances(round_trip: Check) -> None:
    assert claim_problems(secondary_claim()) == ()
    segments = round_trip("secondary")
    assert "SBR*S*18*IMU-G******CI~" in segments
    assert from_(segments, "SBR*P*18*GRP1*SILVER PLAN*****CI~")[:12] == [
        "SBR*P*18*GRP1*SILVER PLAN*****CI~", "CAS*OA*23*10~", "AMT*D*2740~", "AMT*EAF*220~", "OI***Y***Y~",
        "NM1*IL*1*TESTPATIENT*ZEBULON****MI*XYZ123456~", "N3*1 ELM ST~", "N4*SPRINGFIELD*IL*62701~",
        "NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~", "N3*PO BOX 1000~", "N4*CHICAGO*IL*60601~",
        "REF*F8*FHP-ICN-0001~",  # no DTP*573 here: the lines carry it
    ]
    assert from_(segments, "SVD*FHP01*250*HC:96365**1~")[:4] == [
        "SVD*FHP01*250*HC:96365**1~", "CAS*CO*45*80~", "CAS*PR*2*20~", "DTP*573*D8*20261115~",
    ]
    assert from_(segments, "SVD*FHP01*2500*HC:J1745:JZ**40~")[:4] == [
        "SVD*FHP01*2500*HC:J1745:JZ**40~", "CAS*CO*45*500*1~", "CAS*PR*1*150**2*50~", "DTP*573*D8*20261115~",
    ]


def test_a_claim_level_adjudication_dates_the_other_payer_and_splits_cas_by_six(round_trip: Check) -> None:
    segments = round_trip("claim-level secondary")
    assert from_(segments, "SBR*P*18*GRP1*SILVER PLAN*****CI~")[1:4] == [
        "CAS*CO*40*10**41*10**42*10**43*10**44*10**45*10~", "CAS*CO*46*10**47*10~", "AMT*D*3470~",
    ]
    assert from_(segments, "NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~")[3] == "DTP*573*D8*20261115~"
    assert not any(s.startswith("SVD") for s in segments)


def test_each_billing_provider_gets_one_loop_and_its_claims_follow_it(round_trip: Check) -> None:
    segments = round_trip("several providers")
    assert [s for s in segments if s.startswith(("HL", "CLM"))] == [
        "HL*1**20*1~", "HL*2*1*22*0~", "CLM*CLMA*3550***11:B:1*Y*A*Y*Y~",
        "HL*3*1*22*0~", "CLM*CLMC*3550***11:B:1*Y*A*Y*Y~",
        "HL*4**20*1~", "HL*5*4*22*1~", "HL*6*5*23*0~", "CLM*CLMB*3550***11:B:1*Y*A*Y*Y~",
    ]
    # the satellite is paid at its PO box (2010AB)
    assert from_(segments, "REF*EI*987654321~")[:4] == [
        "REF*EI*987654321~", "NM1*87*2~", "N3*PO BOX 77~", "N4*DECATUR*IL*625220077~",
    ]


def test_two_hundred_claims_in_one_file(round_trip: Check) -> None:
    segments = round_trip("two hundred")
    assert sum(1 for s in segments if s.startswith("CLM*")) == 200
    assert segments[-1] == f"SE*{len(segments)}*0001~"


def test_the_file_is_one_interchange_group_and_set_with_our_control_numbers() -> None:
    text = write([simple_claim("CLM1"), simple_claim("CLM2")], interchange_control_number=123,
                 group_control_number=45, transaction_control_number=6789, reference="B123", production=True)
    assert text.startswith("ISA*") and len(text[: text.index("~") + 1]) == 106
    assert "*000000123*0*P*:~GS*HC*DEMOCLINIC*CLEARHOUSE*20261120*0930*45*X*005010X222A1~" in text
    assert "~ST*837*6789*005010X222A1~BHT*0019*00*B123*20261120*0930*CH~" in text
    assert text.endswith("*6789~GE*1*45~IEA*1*000000123~")
    assert "\n" not in text and "\r" not in text


# -- pyx12 is not a rubber stamp -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda t: t.replace("*11:B:1*", "*11::1*"), 'Mandatory data element "Facility Code Qualifier" (CLM05-02)'),
        (lambda t: t.replace("DMG*D8*19600102*M~", "DMG*D8*19600102*X~"), "(X) is not a valid code"),
        (lambda t: t.replace("~LX*2~", "~LX*3~"), "LX"),
    ],
    ids=["CLM05-2 removed", "DMG03 invalid", "LX out of sequence"],
)
def test_pyx12_catches_a_broken_copy_of_our_output(
    written: dict[str, str], change: Callable[[str], str], complaint: str
) -> None:
    text = written["primary"]
    broken = change(text)
    assert broken != text
    problems = pyx12_errors(broken)
    assert any(complaint in p for p in problems), problems


# -- what the writer refuses ---------------------------------------------------------------------


def _unbalanced_line() -> ClaimData:
    claim = secondary_claim("CLMUB")
    primary = claim.other_payers[0]
    line = replace(primary.lines[0], paid=Decimal("260.00"))
    return replace(claim, other_payers=(replace(primary, lines=(line, primary.lines[1]), paid=Decimal("2750")),))


def _unbalanced_claim() -> ClaimData:
    claim = secondary_claim("CLMUC")
    return replace(claim, other_payers=(replace(claim.other_payers[0], paid=Decimal("2700.00")),))


REFUSALS: list[tuple[str, ClaimData, str]] = [
    ("no lines", simple_claim("R1", lines=()), "no service lines. Add at least one line"),
    ("51 lines", replace(fifty_lines_claim("R2"), lines=(*fifty_lines_claim("R2").lines, admin_line(51, "R2L51"))),
     "51 lines; an 837P claim holds at most 50. Split"),
    ("13 diagnoses", simple_claim("R3", diagnoses=(*TWELVE_DIAGNOSES, "R51")),
     "13 diagnoses; an 837P claim holds at most 12"),
    ("no diagnosis", simple_claim("R4", diagnoses=(), lines=(admin_line(control="R4L01"),)),
     "no diagnosis. Add the diagnosis"),
    ("pointer out of range", simple_claim("R5", lines=(admin_line(control="R5L01", diagnosis_pointers=(3,)),)),
     "Line 1 points to diagnosis 3, but the claim has 2. Point it at a diagnosis from 1 to 2"),
    ("five pointers",
     replace(many_diagnoses_claim("R6"), lines=(admin_line(control="R6L01", diagnosis_pointers=(1, 2, 3, 4, 5)),)),
     "Line 1 has 5 diagnosis pointers; a line takes at most 4"),
    ("no pointer", simple_claim("R7", lines=(admin_line(control="R7L01", diagnosis_pointers=()),)),
     "Line 1 has no diagnosis pointer"),
    ("five modifiers", simple_claim("R8", lines=(drug_line(1, "R8L01", modifiers=("JZ", "59", "XU", "GA", "KX")),)),
     "Line 1 has 5 modifiers; a line takes at most 4"),
    ("long claim number", simple_claim("R9" + "0" * 19), "is 21 characters; the 837P allows 20"),
    ("delimiter in claim number", simple_claim("R10*A"), "contains an X12 delimiter (* ~ : ^)"),
    ("lower-case claim number", simple_claim("r11"), "would change when written ('R11')"),
    ("replacement without ICN", simple_claim("R12", frequency_code="7"),
     "A replacement claim (frequency 7) must name the claim it replaces: enter the payer's claim number"),
    ("void without ICN", simple_claim("R13", frequency_code="8"),
     "A void claim (frequency 8) must name the claim it voids"),
    ("unknown frequency", simple_claim("R14", frequency_code="2"), "Frequency code '2' is not 1"),
    ("unbalanced COB line", _unbalanced_line(),
     "line 1: the charge 350 minus adjustments 100 is 250, but that payer paid 260. Post that payer's "
     "remittance again"),
    ("unbalanced COB claim", _unbalanced_claim(),
     "the claim charge 3550 minus adjustments 810 is 2740, but that payer paid 2700"),
    ("adjudication of a missing line",
     replace(secondary_claim("R15"), lines=secondary_claim("R15").lines[:1]),
     "paid a line 2 that this claim does not have"),
    ("filing indicator ZZ", simple_claim("R16", filing_indicator="ZZ"),
     "Claim filing indicator 'ZZ' is not an X12 code"),
    ("NDC unit", simple_claim("R17", lines=(drug_line(1, "R17L01", ndc=Ndc("57894003001", Decimal(4), "MG")),)),
     "NDC unit 'MG' must be UN, ML, GR, ME or F2"),
    ("NDC digits", simple_claim("R18", lines=(drug_line(1, "R18L01", ndc=Ndc("57894-0030-01", Decimal(4), "UN")),)),
     "NDC '57894-0030-01' must be 11 digits"),
    ("empty payer id", simple_claim("R19", payer=replace(simple_claim().payer, payer_id=" ")),
     "The payer's clearinghouse payer ID (Payers) is empty"),
    ("relationship", simple_claim("R20", relationship_code="99"), "Relationship code '99' is not an X12 code"),
    ("place of service", simple_claim("R21", place_of_service="1"), "Place of service '1' must be a two-digit"),
]


@pytest.mark.parametrize(("claim", "message"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS])
def test_the_writer_refuses_a_claim_naming_it_and_the_fix(claim: ClaimData, message: str) -> None:
    assert any(message in problem for problem in claim_problems(claim)), claim_problems(claim)
    with pytest.raises(ValueError, match="837P was not written") as raised:
        write([simple_claim("GOOD1"), claim])
    text = str(raised.value)
    assert f"Claim {claim.claim_number}: " in text and message in text
    assert "GOOD1" not in text


def test_an_empty_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one claim"):
        write([])


def test_a_claim_twice_in_one_batch_is_refused() -> None:
    with pytest.raises(ValueError, match="Claim CLM1: it is in the batch twice"):
        write([simple_claim("CLM1"), simple_claim("CLM2"), simple_claim("CLM1")])


@pytest.mark.parametrize("reference", ["", "*~", "B" * 51])
def test_a_batch_reference_that_bht03_cannot_hold_is_refused(reference: str) -> None:
    with pytest.raises(ValueError, match=r"batch reference .* \(BHT03\) must be 1 to 50 characters"):
        write([simple_claim("CLM1")], reference=reference)


def test_every_fixture_is_accepted() -> None:
    fixtures = [simple_claim(), waste_claim(), many_diagnoses_claim(), fifty_lines_claim(), dependent_claim(),
                tricky_names_claim(), replacement_claim(), secondary_claim(), claim_level_only_secondary()]
    assert [claim_problems(claim) for claim in fixtures] == [()] * len(fixtures)


def test_cob_balancing_counts_claim_and_line_adjustments_of_each_payer_apart() -> None:
    claim = secondary_claim("CLMB2")
    primary = claim.other_payers[0]
    # moving 10 from a claim-level adjustment to line 1 unbalances line 1 but not the claim
    moved = replace(primary, claim_adjustments=(),
                    lines=(replace(primary.lines[0], adjustments=(*primary.lines[0].adjustments,
                                                                  Adjustment("OA", "23", Decimal(10)))),
                           primary.lines[1]))
    problems = claim_problems(replace(claim, other_payers=(moved,)))
    assert len(problems) == 1 and "line 1: the charge 350 minus adjustments 110 is 240" in problems[0]


# -- reading -------------------------------------------------------------------------------------


@needs_samples
@pytest.mark.parametrize("name", TR3_EXAMPLES)
def test_every_tr3_example_reads_and_survives_our_writer(name: str) -> None:
    claims = read_837p(sample(name))
    assert claims and all(claim_problems(claim) == () for claim in claims)
    again = read_837p(write(claims))
    assert again == tuple(cleaned(claim) for claim in claims)


@needs_samples
def test_the_tr3_examples_rewritten_by_us_pass_pyx12() -> None:
    claims = [claim for name in TR3_EXAMPLES for claim in read_837p(sample(name))]
    assert len(claims) == 16
    # several examples share a claim number (CLMNO12345, 26407789); one batch must not
    claims = [replace(claim, claim_number=f"TR3-{n}") for n, claim in enumerate(claims)]
    assert pyx12_errors(write(claims)) == []


@needs_samples
def test_the_drug_administered_in_the_office_example() -> None:
    (claim,) = read_837p(sample("stupidedi__X222A1-drug-administered-in-the-physician-office.edi"))
    assert (claim.claim_number, claim.total_charge, claim.place_of_service, claim.frequency_code) == (
        "CLMNO12345", Decimal("103.37"), "11", "1")
    assert claim.billing.name == "Associates in Medicine" and claim.billing.npi == "1234567893"
    assert claim.billing.tin == "587654321" and claim.payer.payer_id == "PLANID12345"
    assert claim.patient_is_subscriber and claim.patient.name == PersonName("Vaughn", "Steve", "R")
    assert claim.patient.birth_date == date(1943, 5, 1) and claim.subscriber.member_id == "MBRID12345"
    assert claim.diagnoses == ("03591",)
    assert claim.rendering is not None and claim.rendering.npi == "1122333341"
    assert claim.rendering.taxonomy == "208D00000X"
    office, drug = claim.lines
    assert (office.code, office.charge, office.ndc) == ("90782", Decimal(50), None)
    assert (drug.code, drug.charge, drug.units, drug.service_date) == (
        "J1550", Decimal("53.37"), Decimal(1), date(2004, 7, 11))
    assert drug.ndc == Ndc("00026063512", Decimal(10), "ML")


@needs_samples
def test_the_cob_example_to_payer_b() -> None:
    (claim,) = read_837p(sample("stupidedi__X222A1-COB-claim-from-billing-provider-to-payer-b.edi"))
    assert claim.responsibility == "S" and claim.relationship_code == "19"
    assert claim.patient.name == PersonName("SMITH", "TED") and claim.subscriber.name.first == "JACK"
    assert claim.billing.pay_to is not None and claim.billing.pay_to.line2 == "OCEAN BLVD"
    (primary,) = claim.other_payers
    assert (primary.payer.name, primary.payer.payer_id, primary.responsibility) == (
        "KEY INSURANCE COMPANY", "999996666", "P")
    assert primary.relationship_code == "01" and primary.subscriber.member_id == "JS00111223333"
    assert primary.paid == Decimal("39.15") and primary.patient_responsibility == Decimal("36.89")
    assert primary.claim_adjustments == (Adjustment("PR", "1", Decimal("21.89")),
                                         Adjustment("PR", "2", Decimal("15")))
    assert [(a.line_number, a.code, a.paid, a.adjudication_date) for a in primary.lines] == [
        (1, "99213", Decimal(40), date(2005, 10, 15)), (2, "90782", Decimal(15), date(2005, 10, 15)),
        (3, "J3301", Decimal("21.04"), date(2005, 10, 15))]
    assert primary.lines[0].adjustments == (Adjustment("CO", "42", Decimal(3)),)


@needs_samples
def test_the_medicare_secondary_payer_example() -> None:
    (claim,) = read_837p(sample("stupidedi__X222A1-medicare-secondary-payer-COB.edi"))
    assert (claim.responsibility, claim.medicare_secondary_type, claim.filing_indicator) == ("S", "12", "MB")
    assert claim.signatures.release_of_information == "Y"
    (primary,) = claim.other_payers
    assert (primary.payer.payer_id, primary.filing_indicator, primary.paid) == ("59999", "CI", Decimal(80))
    (line,) = primary.lines
    assert (line.code, line.modifiers) == ("99203", ("25",))
    assert line.adjustments == (Adjustment("CO", "42", Decimal(25)), Adjustment("PR", "2", Decimal(15)))


@needs_samples
def test_the_home_infusion_example_with_an_ordering_provider_and_date_ranges() -> None:
    (claim,) = read_837p(
        sample("stupidedi__X222A1-home-infusion-therapy-pharmacy-adjudicated-with-NDC-in-loop-2410.edi"))
    assert claim.place_of_service == "12" and len(claim.lines) == 6
    assert claim.ordering is not None and claim.ordering.name == PersonName("Welby", "Marcus")
    assert claim.ordering.npi == "1112223338"
    assert claim.lines[0].ndc is None and claim.lines[0].service_date == date(2004, 2, 1)
    assert [line.ndc.code for line in claim.lines[1:] if line.ndc] == [
        "00004196501", "63323024910", "00338004938", "08290033010", "08290038005"]
    assert claim.billing.tin == "10-1234567" and claim.billing.phone == "8019999999"


@needs_samples
def test_a_2320_that_reports_no_adjudication_is_left_out() -> None:
    (claim,) = read_837p(sample("stupidedi__X222A1-COB-claim-from-billing-provider-to-payer-a.edi"))
    assert claim.responsibility == "P" and claim.other_payers == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda t: t.replace("ST*837*0001*005010X222A1", "ST*835*0001"), "remittance advice (835)"),
        (lambda t: t.replace("005010X222A1", "005010X223A2"), "not a professional claim (005010X222A1)"),
        (lambda t: t.replace("CLM*CLM1*3550*", "CLM*CLM1*3551*"), "CLM02 says 3551 but its lines add up to 3550"),
        (lambda t: t.replace("DMG*D8*19600102*M~", "DMG*D8*19601302*M~"), "'19601302' is not a CCYYMMDD date"),
        (lambda t: t.replace("HL*1**20*1", "HL*1**21*1"), "HL03 '21' is not an 837P level"),
        (lambda t: t.replace("SV1*HC:96365*350*", "SV1*HC:96365*3X0*"), "SV102 '3X0' is not a number"),
        (lambda t: t[: t.index("LX*2~")], "truncated"),
        (lambda t: "hello, world", "not an X12 file"),
    ],
    ids=["835", "837I", "charge mismatch", "bad date", "bad HL level", "bad amount", "truncated", "not X12"],
)
def test_the_reader_explains_what_is_wrong(change: Callable[[str], str], message: str) -> None:
    text = change(write([simple_claim("CLM1")]))
    with pytest.raises(X12Error) as raised:
        read_837p(text)
    assert message in str(raised.value)


def test_the_reader_accepts_line_breaks_after_each_segment() -> None:
    claims = [simple_claim("CLM1"), dependent_claim("CLM2")]
    assert read_837p(write(claims).replace("~", "~\r\n")) == tuple(cleaned(c) for c in claims)


def test_a_subscriber_without_birth_date_comes_back_with_unknown_sex() -> None:
    claim = dependent_claim("CLMNB")
    claim = replace(claim, subscriber=replace(claim.subscriber, birth_date=None, sex="F"))
    (back,) = read_837p(write([claim]))
    assert back.subscriber.birth_date is None and back.subscriber.sex == "U"
    assert back == cleaned(claim)


def test_same_npi_with_different_details_gets_two_billing_loops() -> None:
    moved = replace(CLINIC, address=replace(CLINIC.address, line1="200 New St"))
    claims = [simple_claim("CLMX"), simple_claim("CLMY", billing=moved)]
    back = read_837p(write(claims))
    assert [c.billing.address.line1 for c in back] == ["100 MAIN ST", "200 NEW ST"]
