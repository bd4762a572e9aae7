"""835 remittances: every public sample read (or refused) as a biller would see it, our own files round trip, damage never crashes."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infusion_desk.billing.remittance import (
    REVERSAL,
    CasAdjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    balance_problems,
    replace,
)
from infusion_desk.billing.x12.remit835 import read_835
from infusion_desk.billing.x12.syntax import X12Error
from tests.billing.x12.pyx12_check import pyx12_errors
from tests.billing.x12.remit_fixtures import (
    CLINIC_NPI,
    D,
    infusion_line,
    paid_claim,
    remittance,
    write_835,
)

SAMPLES = Path("/work/shared/x12-samples")
needs_samples = pytest.mark.skipif(
    not SAMPLES.is_dir(), reason=f"the shared public X12 samples ({SAMPLES}) are not on this machine"
)
PRETTY_PRINTED = {
    "oopfactory__835_WithMultipleInterchanges.txt",
    "oopfactory__ExampleFromNth.txt",
    "oopfactory__Example1.txt",
}
"""SOURCES.md: OopFactory fixtures are pretty-printed (indented segments), which syntax.py refuses."""


def sample(name: str, kind: str = "835") -> str:
    raw = (SAMPLES / kind / name).read_bytes()
    if name.startswith("stupidedi2019__"):
        # SOURCES.md "Annotated files": prose (and a validator's error list) before the first ISA
        # line; one header has a Windows-1252 apostrophe, so it is cut off before decoding.
        found = re.search(rb"^ISA", raw, re.MULTILINE)
        assert found is not None
        raw = raw[found.start() :]
    text = raw.decode("utf-8-sig")
    if name in PRETTY_PRINTED:
        # An in-memory copy without the indentation (SOURCES.md: modified copies only in memory).
        text = re.sub(r"~\s+", "~", text)
    return text


# ------------------------------------------------------------------------------------------------
# Every public 835 sample, and what happens to it.

READS: dict[str, tuple[int, bool]] = {
    # name: (how many remittances, whether every one balances per balance_problems)
    # Source of "balances": the sums the 835 guide requires, worked by hand for the herophilus and
    # stupidedi files (e.g. OutpatientRetro: BPR02 0 = -7151.17 + 7131.01 - PLB -20.16).
    "herophilus__835SampleOutpatientRetro.txt": (1, True),
    "herophilus__835_Inst_SampleInpatient_DRG_Retro.txt": (1, True),
    "herophilus__835_Sample_Institutional_Claims_only.2014.txt": (1, True),
    "herophilus__835_Sample_Pharmacy.2014.txt": (1, True),
    "herophilus__835_Sample_Professional_Claims_only-no_payment.2014.txt": (1, True),
    "herophilus__835_Sample_Professional_Claims_only-w_payment.2014.txt": (1, True),
    "lfh__medicare-part-a.835": (1, True),
    "pyx12__835_mult_loops.txt": (1, True),
    "stupidedi__X221A1-dollars-and-data-sent-separate.edi": (1, True),
    "stupidedi__X221A1-dollars-and-data-sent-together.edi": (1, True),
    "stupidedi__X221A1-era-sample.edi": (1, True),
    "stupidedi__X221A1-multiple-claims-single-check.edi": (1, True),
    "stupidedi__X221A1-secondary-payment-with-higher-fee-schedule.edi": (1, True),
    "stupidedi__X221A1-secondary-payments.edi": (1, True),
    "stupidedi__X221A1-tertiary-payments.edi": (1, True),
    # SOURCES.md: de-identified production files, amounts masked with 9s, so the sums cannot hold
    # (e.g. a claim of $999.99 with $1,099.98 of adjustments); three interchanges, one 835 each.
    "oopfactory__835_WithMultipleInterchanges.txt": (3, False),
    "oopfactory__ExampleFromNth.txt": (3, False),
}

REFUSED: dict[str, tuple[int, str]] = {
    # name: (segment number, the message the biller sees); the defect each names is real:
    # SOURCES.md: "SE/GE/IEA counts and control numbers wrong"
    "badx12__error_validation.edi": (29, "SE01 says 30 segments; set 112233 has 27."),
    # ISA16 is ':' but the SVC composites use '>' (pyx12: "Segment SVC*HC>… not found")
    "lfh__cob-contractural-adjustment.835": (
        21,
        "SVC01 (the procedure paid on claim 0001000055) 'HC>55669' has no procedure code: it must be a "
        "qualifier and a code separated by ':' (the file's ISA16), such as HC:96365.",
    ),
    "lfh__secondary-payment.835": (29, "SVC01 (the procedure paid on claim 0001000053) 'HC>12345>26' has no"),
    "stupidedi2019__X221A1-fail-3a.edi": (29, "SVC01 (the procedure paid on claim 0001000053) 'HC>12345>26'"),
    # pyx12: "BPR16 contains an invalid date" (month 23)
    "lfh__managed-care.835": (4, "BPR16 (the check or EFT date) '20002316' is not a date (CCYYMMDD)."),
    # pyx12: "Mandatory data element Adjudicated Procedure Code (SVC01-02) is missing"
    "lfh__tertiary-payment.835": (20, "SVC01 (the procedure paid on claim 0001000054) 'HC' has no procedure code"),
    # the file's last claim is cut short: CLP*090909*22~ (read after removing the indentation)
    "oopfactory__Example1.txt": (98, "a claim payment (CLP) needs at least CLP01 to CLP04"),
    # pyx12 agrees: "SE count of 32 for SE02=… is wrong. I count 33" (x12-pyx12-results.md), and so on
    "stupidedi2019__X221A1-pass-1.edi": (35, "SE01 says 32 segments; set 1234 has 33."),
    "stupidedi2019__X221A1-pass-2.edi": (35, "SE01 says 32 segments; set 112233 has 33."),
    "stupidedi2019__X221A1-pass-3a.edi": (44, "SE01 says 39 segments; set 0001 has 42."),
    "stupidedi2019__X221A1-pass-3b.edi": (27, "SE01 says 24 segments; set 0001 has 25."),
    "stupidedi2019__X221A1-pass-3c.edi": (29, "SE01 says 26 segments; set 0001 has 27."),
    "stupidedi2019__X221A1-fail-2.edi": (28, "SE01 says 25 segments; set 112233 has 26."),
    "stupidedi2019__X221A1-fail-3b.edi": (25, "SE01 says 38 segments; set 0001 has 23."),
    "stupidedi2019__X221A1-fail-3c.edi": (27, "SE01 says 38 segments; set 0001 has 25."),
}


@needs_samples
def test_every_835_sample_has_an_expected_outcome() -> None:
    names = {p.name for p in (SAMPLES / "835").iterdir()}
    assert names == set(READS) | set(REFUSED)


@needs_samples
@pytest.mark.parametrize("name", sorted(READS))
def test_a_public_sample_reads(name: str) -> None:
    count, balances = READS[name]
    remittances = read_835(sample(name))
    assert len(remittances) == count
    problems = [p for r in remittances for p in balance_problems(r)]
    assert (problems == []) == balances, problems


@needs_samples
@pytest.mark.parametrize("name", sorted(REFUSED))
def test_a_damaged_public_sample_is_refused_with_where_and_why(name: str) -> None:
    number, message = REFUSED[name]
    with pytest.raises(X12Error) as caught:
        read_835(sample(name))
    assert caught.value.segment_number == number
    assert caught.value.reason.startswith(message)


@needs_samples
@pytest.mark.parametrize("name", sorted(PRETTY_PRINTED))
def test_an_indented_file_is_refused_as_it_stands(name: str) -> None:
    # syntax.py takes line breaks between segments but not indentation (as the 277CA reader's tests show)
    text = (SAMPLES / "835" / name).read_text(encoding="utf-8-sig")
    with pytest.raises(X12Error, match="'  GS' is not a segment identifier"):
        read_835(text)


# -- what the samples say ------------------------------------------------------------------------


@needs_samples
def test_a_reversal_and_its_correction_in_one_remittance() -> None:
    # herophilus 835SampleOutpatientRetro.txt, read by eye: CLP…22 reversal, CLP…1 correction, PLB…FB
    (r,) = read_835(sample("herophilus__835SampleOutpatientRetro.txt"))
    assert (r.trace_number, r.payer_identifier, r.payer_name) == ("12345678901", "1141797357", "NYSDOH")
    assert (r.payment_method, r.payment_date, r.total_paid) == ("NON", date(2014, 1, 1), D("0"))
    assert r.production_date == date(2014, 1, 1)
    assert r.payee_npi is None  # N1*PE*…*FI: a tax id, not an NPI
    reversal, correction = r.claims
    assert reversal.status_code == REVERSAL
    assert (reversal.patient_control_number, reversal.total_charge, reversal.paid) == (
        "987654321", D("-7151.17"), D("-7151.17"),
    )
    assert reversal.payer_claim_control_number == correction.payer_claim_control_number == "1400000000000020"
    assert (reversal.filing_indicator, reversal.frequency_code, reversal.remark_codes) == ("MC", "7", ("N689",))
    assert (reversal.patient_last_name, reversal.patient_first_name, reversal.member_id) == (
        "ANGELA", "APPLE", "AA11111A",
    )
    assert (reversal.service_date_from, reversal.service_date_to) == (date(2014, 2, 1), date(2014, 2, 1))
    assert (correction.status_code, correction.total_charge, correction.paid) == ("1", D("7151.17"), D("7131.01"))
    assert correction.adjustments == (CasAdjustment("CO", "45", D("20.16")),)
    assert correction.remark_codes == ("N419",)
    assert (correction.service_date_from, correction.service_date_to) == (date(2014, 1, 1), date(2014, 2, 11))
    assert r.provider_adjustments == (ProviderAdjustment("FB", "FCN#201401011010200", D("-20.16")),)
    assert balance_problems(r) == ()


@needs_samples
def test_pharmacy_lines_an_adjustment_segment_with_two_reasons_and_a_recoupment() -> None:
    # herophilus 835_Sample_Pharmacy.2014.txt: SVC*N4:…, CAS*CO*91*-3.5**45*36.32, PLB…WO:FCN#…*3.99
    (r,) = read_835(sample("herophilus__835_Sample_Pharmacy.2014.txt"))
    assert r.total_paid == D("219.65")
    assert [c.paid for c in r.claims] == [D("0"), D("0"), D("223.64")]
    line = r.claims[2].lines[0]
    assert (line.code, line.charge, line.paid, line.units_paid) == ("54092051902", D("256.46"), D("223.64"), D("30"))
    assert line.adjustments == (CasAdjustment("CO", "91", D("-3.50")), CasAdjustment("CO", "45", D("36.32")))
    assert (line.service_date, line.allowed) == (date(2010, 1, 1), D("223.64"))
    assert r.claims[0].lines[0].remark_codes == ()  # LQ*RX (an NCPDP reject code) is not a remark code
    assert r.provider_adjustments == (ProviderAdjustment("WO", "FCN#201001010000000", D("3.99")),)


@needs_samples
def test_inpatient_remark_codes_come_from_mia() -> None:
    # herophilus 835_Inst_SampleInpatient_DRG_Retro.txt: MIA*0***-19.37*N689 and MIA*0***19.37*N419
    (r,) = read_835(sample("herophilus__835_Inst_SampleInpatient_DRG_Retro.txt"))
    assert [c.remark_codes for c in r.claims] == [("N689",), ("N419",)]
    assert r.claims[0].adjustments == (CasAdjustment("CO", "45", D("-36989.36")),)
    assert r.payee_npi == "0123456789"


@needs_samples
def test_a_corrected_name_does_not_replace_the_patient() -> None:
    # herophilus 835_Sample_Institutional_Claims_only.2014.txt: NM1*QC then NM1*74 (corrected name)
    (r,) = read_835(sample("herophilus__835_Sample_Institutional_Claims_only.2014.txt"))
    claim = r.claims[1]
    assert (claim.patient_last_name, claim.patient_first_name, claim.member_id) == (
        "SUBMITTED LAST", "SUBMITTED FIRST", "LL88888L",
    )
    assert (claim.patient_responsibility, claim.adjustments) == (D("805"), (CasAdjustment("PR", "142", D("805")),))
    assert claim.lines == ()


@needs_samples
def test_three_interchanges_give_three_remittances() -> None:
    # oopfactory 835_WithMultipleInterchanges.txt: ISA13 31, 32, 33, each with one ST*835 (8001, 9001, 10001);
    # ISA16 is '>' there, so SVC*HC>90716 is code 90716
    first, second, third = read_835(sample("oopfactory__835_WithMultipleInterchanges.txt"))
    assert [r.total_paid for r in (first, second, third)] == [D("999.99"), D("9999.99"), D("482.13")]
    assert [len(r.claims) for r in (first, second, third)] == [19, 23, 14]
    assert first.payment_date == date(2012, 2, 1)
    claim = first.claims[0]
    assert (claim.patient_control_number, claim.status_code, claim.member_id) == ("9999999999-999", "4", "99999999999")
    shot = claim.lines[1]
    assert (shot.code, shot.charge, shot.paid, shot.units_paid) == ("90716", D("99.99"), D("0"), D("9.999"))
    assert shot.adjustments == (CasAdjustment("CO", "24", D("99.99"), D("0")),)
    assert (shot.line_control_number, shot.remark_codes) == ("999X999999999999999999", ("N1",))


@needs_samples
def test_institutional_totals_payer_reference_and_a_cost_report_plb() -> None:
    # stupidedi X221A1-dollars-and-data-sent-together.edi: REF*2U*999, MIA/MOA, PLB*…*CV:CP*-1.27
    (r,) = read_835(sample("stupidedi__X221A1-dollars-and-data-sent-together.edi"))
    assert (r.payer_id, r.payee_npi, r.payment_method, r.total_paid) == ("999", "6543210903", "ACH", D("150000"))
    assert [c.patient_control_number for c in r.claims] == ["666123", "777777"]
    assert [c.remark_codes for c in r.claims] == [(), ("MA02",)]  # MIA*0***138018.4 carries no remark code
    assert r.claims[0].member_id == "666666666A"  # NM1*QC…*HN*: a Medicare number
    assert r.provider_adjustments == (ProviderAdjustment("CV", "CP", D("-1.27")),)


@needs_samples
def test_modifiers_and_a_cas_with_two_patient_reasons() -> None:
    # stupidedi X221A1-secondary-payments.edi: SVC*HC:66543:26*585*280*220*1, CAS*PR*1*150**2*70
    (r,) = read_835(sample("stupidedi__X221A1-secondary-payments.edi"))
    claim = r.claims[1]
    assert (claim.patient_responsibility, claim.payer_claim_control_number) == (D("220"), "50630626430")
    line = claim.lines[1]
    assert (line.code, line.modifiers, line.charge, line.paid, line.units_paid) == (
        "66543", ("26",), D("585"), D("280"), D("1"),
    )
    assert line.adjustments == (
        CasAdjustment("PR", "1", D("150")), CasAdjustment("PR", "2", D("70")), CasAdjustment("CO", "42", D("85")),
    )
    assert (line.allowed, line.service_date) == (D("500"), date(2005, 1, 6))
    assert r.claims[0].lines == () and r.claims[0].adjustments == (CasAdjustment("OA", "23", D("9411.64")),)


@needs_samples
def test_the_patients_number_is_kept_over_the_subscribers() -> None:
    # stupidedi X221A1-multiple-claims-single-check.edi, LX*2: NM1*QC…MI*SJD11111 then NM1*IL…MI*123456
    (r,) = read_835(sample("stupidedi__X221A1-multiple-claims-single-check.edi"))
    assert len(r.claims) == 9 and r.total_paid == D("810.80")
    assert r.claims[1].member_id == "SJD11111"
    assert [line.code for line in r.claims[0].lines] == ["D0120", "D0220", "D0230", "D0274", "D1110"]


@needs_samples
def test_a_period_start_stands_for_the_date_of_service() -> None:
    # pyx12 835_mult_loops.txt: lines with DTM*150/151 and no DTM*472, LQ*HE*N14
    (r,) = read_835(sample("pyx12__835_mult_loops.txt"))
    (claim,) = r.claims
    assert [line.service_date for line in claim.lines] == [date(2003, 11, 29), date(2003, 10, 30), date(2003, 10, 31)]
    assert [line.units_paid for line in claim.lines] == [D("68"), D("16"), D("36")]
    assert {line.remark_codes for line in claim.lines} == {("N14",)}
    assert claim.lines[1].adjustments == (CasAdjustment("OA", "A7", D("127.80")),)


# ------------------------------------------------------------------------------------------------
# Our own files: what write_835 writes, pyx12 accepts and read_835 gives back.


def _denied_line() -> ServicePayment:
    return ServicePayment(
        code="J1745", modifiers=("JZ",), charge=D("3200"), paid=D("0"), units_paid=D("0"),
        service_date=date(2026, 11, 2), line_control_number="C0000044L02",
        adjustments=(CasAdjustment("CO", "16", D("3200")),), remark_codes=("N130", "M51"),
    )


def _recoded_line() -> ServicePayment:
    # the payer paid 96366 x2 for the 96365 x3 we billed (SVC06, SVC07)
    return ServicePayment(
        code="96366", modifiers=("59",), charge=D("300"), paid=D("120"), units_paid=D("2"),
        original_code="96365", original_modifiers=("59", "XU"), original_units=D("3"),
        service_date=date(2026, 11, 3), line_control_number="C0000045L01", allowed=D("120"),
        adjustments=(CasAdjustment("CO", "150", D("180"), D("1")),),
    )


def _many_reasons() -> ServicePayment:
    # seven CO reasons: more than one CAS segment holds (six)
    reasons = [CasAdjustment("CO", str(n), D("10"), D(n)) for n in range(1, 8)]
    return ServicePayment(
        code="96413", modifiers=(), charge=D("100"), paid=D("30"), adjustments=tuple(reasons),
    )


def _reversal_and_correction() -> Remittance:
    reversal = paid_claim(
        "C0000042",
        infusion_line("C0000042L01", charge="-250", paid="-160", coinsurance="-40"),
        status=REVERSAL, icn="ICN0042",
    )
    correction = paid_claim("C0000042", infusion_line("C0000042L01", paid="170", coinsurance="30"), icn="ICN0042B")
    return remittance(
        reversal, correction,
        provider_adjustments=[ProviderAdjustment("WO", "ICN0007", D("25")), ProviderAdjustment("L6", None, D("-1.25"))],
    )


def _claim_level_denial() -> Remittance:
    denied = ClaimPayment(
        patient_control_number="C0000046", status_code="4", total_charge=D("550"), paid=D("0"),
        filing_indicator="MC", payer_claim_control_number="ICN0046",
        patient_last_name="EXAMPLE", patient_first_name="TESTY",
        adjustments=(CasAdjustment("CO", "31", D("550")),), remark_codes=("MA130",),
    )
    return replace(
        remittance(denied, trace="NOPAY1", method="NON"), payer_id=None, payee_npi=None, production_date=None
    )


def _seven_provider_adjustments() -> Remittance:
    adjustments = [ProviderAdjustment("WO", f"ICN{n:04d}", D("1")) for n in range(6)]
    adjustments.append(ProviderAdjustment("72", None, D("-2")))
    return remittance(paid_claim("C0000047"), trace="CHK9", method="CHK", provider_adjustments=adjustments)


ROUND_TRIPS: dict[str, tuple[Remittance, ...]] = {
    "a paid claim": (remittance(paid_claim("C0000042")),),
    "reversal, correction, PLB with and without reference": (_reversal_and_correction(),),
    "denied zero-paid line": (remittance(paid_claim("C0000044", infusion_line("C0000044L01"), _denied_line())),),
    "payer changed the code (SVC06, SVC07)": (remittance(paid_claim("C0000045", _recoded_line())),),
    "seven reasons in one group": (remittance(paid_claim("C0000048", _many_reasons())),),
    "claim-level denial, no payment, no NPI": (_claim_level_denial(),),
    "seven PLB reasons": (_seven_provider_adjustments(),),
    "no member number": (
        remittance(replace(paid_claim("C0000049"), member_id=None, service_date_to=None), trace="EFT2"),
    ),
    "two remittances in one file": (
        remittance(paid_claim("C0000050"), trace="EFT3"),
        remittance(paid_claim("C0000051"), trace="CHK4", method="CHK"),
    ),
}


@pytest.fixture(scope="module")
def written() -> dict[str, str]:
    return {
        name: write_835(*remittances, control_number=number)
        for number, (name, remittances) in enumerate(ROUND_TRIPS.items(), start=1)
    }


PYX12_FOOTER_BUG = "seven PLB reasons"
"""Two PLB segments: the TR3 and pyx12's own map allow PLB more than once (max_use >1 in
835.5010.X221.A1.xml), yet pyx12 counts the second as a second FOOTER loop (it says the same of
stupidedi2019 X221A1-pass-3a, x12-pyx12-results.md)."""


def test_pyx12_accepts_every_file_we_write(written: dict[str, str]) -> None:
    # one pyx12 run over every interchange (loading its maps is most of its cost)
    files = [text for name, text in written.items() if name != PYX12_FOOTER_BUG]
    assert pyx12_errors("".join(files)) == []


def test_pyx12_only_miscounts_a_second_plb(written: dict[str, str]) -> None:
    assert pyx12_errors(written[PYX12_FOOTER_BUG]) == [
        "Line:25 SEG:4 - Loop FOOTER exceeded max count.  Found 2, should have 1",
        "Failed to create 999 response",
    ]


def test_pyx12_is_not_a_rubber_stamp(written: dict[str, str]) -> None:
    broken = written["a paid claim"].replace("PER*BL*EDI SUPPORT*TE*2175550199~", "")
    broken = broken.replace("SE*22*", "SE*21*")
    assert any("PER" in message for message in pyx12_errors(broken))


@pytest.mark.parametrize("name", list(ROUND_TRIPS))
def test_what_we_write_reads_back_the_same(name: str, written: dict[str, str]) -> None:
    expected = ROUND_TRIPS[name]
    got = read_835(written[name])
    assert got == expected
    # production_date is left out of Remittance equality (compare=False), so compared here
    assert [r.production_date for r in got] == [r.production_date for r in expected]
    assert [balance_problems(r) for r in got] == [() for _ in got]


def test_write_835_lays_out_the_envelope(written: dict[str, str]) -> None:
    text = write_835(remittance(paid_claim("C0000042")), sender_id="PAYERX", receiver_id="CLINICY", control_number=42)
    segments = text.split("~")
    assert segments[0].startswith("ISA*00*") and len(segments[0]) + 1 == 106
    assert segments[0][-24:] == "*^*00501*000000042*0*T*:"
    assert segments[1] == "GS*HP*PAYERX*CLINICY*20261120*0930*42*X*005010X221A1"
    assert segments[2] == "ST*835*0001"
    assert segments[-4:] == ["SE*22*0001", "GE*1*42", "IEA*1*000000042", ""]


# ------------------------------------------------------------------------------------------------
# Bad input: a plain message naming the segment, never another exception.

BASE = remittance(paid_claim("C0000042"))
"""ST*835 is segment 3, BPR 4; LX 13, CLP 14, SVC 18, DTM*472 19, CAS 20 and 21, AMT*B6 23 (no PLB), SE 24."""


def _body() -> list[str]:
    segments = write_835(BASE).split("~")[:-1]
    return segments[3 : next(i for i, s in enumerate(segments) if s.startswith("SE*"))]


def _file(body: list[str]) -> str:
    """The base file's envelope around ``body`` (BPR … ), SE01 counted."""
    head = write_835(BASE).split("~")[:3]
    return "~".join([*head, *body, f"SE*{len(body) + 2}*0001", "GE*1*1", "IEA*1*000000001"]) + "~"


def _edit(old: str, new: str) -> str:
    body = _body()
    index = next(i for i, s in enumerate(body) if s.startswith(old))
    if new:
        body[index] = new
    else:
        del body[index]
    return _file(body)


def _move_before(tag: str, anchor: str) -> str:
    body = _body()
    segment = body.pop(next(i for i, s in enumerate(body) if s.startswith(tag)))
    body.insert(next(i for i, s in enumerate(body) if s.startswith(anchor)), segment)
    return _file(body)


BAD_INPUT: list[tuple[str, str, int, str]] = [
    # (case, file, segment number, message); the messages are the reader's, checked to be actionable
    (
        "paid amount with a letter O",
        _edit("CLP*", "CLP*C0000042*1*250*16O*40*12*ICNC0000042*11*1"),
        14,
        "CLP04 (what the payer paid on claim C0000042) '16O' is not an amount.",
    ),
    (
        "amount with an exponent",
        _edit("CLP*", "CLP*C0000042*1*2.5E2*160*40*12*ICNC0000042*11*1"),
        14,
        "CLP03 (the charge of claim C0000042) '2.5E2' is not an amount.",
    ),
    (
        "amount of 19 digits",
        _edit("SVC*", "SVC*HC:96365*1234567890123456789*160**1"),
        18,
        "SVC02 (the charge of 96365 on claim C0000042) '1234567890123456789' is not an amount.",
    ),
    (
        "claim with two elements",
        _edit("CLP*", "CLP*C0000042*1"),
        14,
        "a claim payment (CLP) needs at least CLP01 to CLP04 (our claim number, the claim status, the charge "
        "and what was paid); this one is 'CLP*C0000042*1~'.",
    ),
    (
        "service line before any claim",
        _move_before("SVC*", "LX*"),
        13,
        "a service line (SVC) comes before any claim (CLP): the file is damaged.",
    ),
    (
        "adjustment before any claim",
        _move_before("CAS*CO", "CLP*"),
        14,
        "an adjustment (CAS) comes before any claim (CLP): the file is damaged.",
    ),
    (
        "November 31st",
        _edit("DTM*472", "DTM*472*20261131"),
        19,
        "DTM02 (the date of service of 96365) '20261131' is not a date (CCYYMMDD).",
    ),
    (
        "no payment date",
        _edit("BPR*", "BPR*I*155*C*CHK"),
        4,
        "BPR16 (the check or EFT date) is missing.",
    ),
    (
        "procedure without a code",
        _edit("SVC*", "SVC*HC*250*160**1"),
        18,
        "SVC01 (the procedure paid on claim C0000042) 'HC' has no procedure code: it must be a qualifier and a "
        "code separated by ':' (the file's ISA16), such as HC:96365.",
    ),
    (
        "adjustment without its amount",
        _edit("CAS*CO", "CAS*CO*45"),
        20,
        "CAS03 (the amount of CO-45 on the 96365 line of claim C0000042) is missing.",
    ),
    (
        "adjustment amount without its reason",
        _edit("CAS*CO", "CAS*CO**50"),
        20,
        "CAS02 (the reason code) of the 96365 line of claim C0000042 is missing before its amount.",
    ),
    (
        "seven reasons in one CAS",
        _edit("CAS*CO", "CAS*CO" + "*45*1*1" * 7),
        20,
        "the adjustment (CAS) of the 96365 line of claim C0000042 has 22 elements; a CAS holds at most six "
        "reasons (19 elements).",
    ),
    (
        "provider adjustment amount",
        _file([*_body(), "PLB*1245319599*20261231*WO:ICN1*FIVE"]),
        24,
        "PLB04 (the amount of provider adjustment WO) 'FIVE' is not an amount.",
    ),
    ("no TRN", _edit("TRN*", ""), 3, "remittance 0001 has no check or EFT trace number (TRN segment)."),
    ("no payer", _edit("N1*PR", ""), 3, "remittance 0001 does not name the payer (N1*PR segment)."),
    ("no BPR", _edit("BPR*", ""), 3, "remittance 0001 has no payment information (BPR segment)."),
    (
        "an 835 that is a 999",
        write_835(BASE).replace("ST*835*", "ST*999*"),
        3,
        "this file has no 835 remittance in it (it holds an acknowledgment (999)).",
    ),
]


@pytest.mark.parametrize(("text", "number", "message"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_names_the_segment_and_the_fix(text: str, number: int, message: str) -> None:
    with pytest.raises(X12Error) as caught:
        read_835(text)
    assert (caught.value.segment_number, caught.value.reason) == (number, message)


@needs_samples
def test_a_claim_batch_is_not_a_remittance() -> None:
    # stupidedi X222A1-commercial-health-insurance.edi is an 837P
    with pytest.raises(X12Error, match=r"^segment 3 \(ST\): this file has no 835 remittance in it \(it holds a "
                       r"claim batch \(837\)\)\.$"):
        read_835(sample("stupidedi__X222A1-commercial-health-insurance.edi", "837p"))


def test_other_transaction_sets_in_the_file_are_passed_over() -> None:
    ack = (
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     *261121*1200*^*00501*000000901*0*T*:~"
        "GS*FA*CLEARINGHOUSE*DEMOCLINIC*20261121*1200*901*X*005010X231A1~ST*999*0001*005010X231A1~"
        "AK1*HC*17*005010X222A1~AK9*A*0*0*0~SE*4*0001~GE*1*901~IEA*1*000000901~"
    )
    assert read_835(ack + write_835(BASE)) == (BASE,)


def test_a_negative_zero_reads_as_zero() -> None:
    (r,) = read_835(_edit("CLP*", "CLP*C0000042*1*250*160*-0*12*ICNC0000042*11*1"))
    assert str(r.claims[0].patient_responsibility) == "0.00"


def test_amounts_keep_more_than_two_decimals_as_sent() -> None:
    (r,) = read_835(_edit("AMT*B6", "AMT*B6*200.125"))
    assert str(r.claims[0].lines[0].allowed) == "200.125"


# ------------------------------------------------------------------------------------------------
# Damage: whatever happens to the file, read_835 gives remittances or X12Error, nothing else.

FUZZ_BASE = write_835(
    _reversal_and_correction(),
    remittance(paid_claim("C0000045", _recoded_line(), _denied_line(), _many_reasons()), trace="EFT5"),
)
FUZZ_SEGMENTS = FUZZ_BASE.split("~")[:-1]
NOISE = st.sampled_from(list("*~:^-.0123456789 EeNnaIf_+ABCXZ\n\r\x00é"))


def _reads_or_refuses(text: str) -> None:
    try:
        result = read_835(text)
    except X12Error:
        return
    assert isinstance(result, tuple) and all(isinstance(r, Remittance) for r in result)
    for r in result:
        assert isinstance(r.total_paid, Decimal) and isinstance(r.payment_date, date)
        balance_problems(r)  # the sums can be worked on whatever was read


def _recount(segments: list[str]) -> str:
    """Fix SE01 of every set, so damage inside a set reaches the 835 reader past the envelope check."""
    out: list[str] = []
    start = 0
    for segment in segments:
        if segment.startswith("ST*"):
            start = len(out)
        if segment.startswith("SE*"):
            segment = "SE*" + str(len(out) - start + 1) + "*" + segment.split("*")[-1]
        out.append(segment)
    return "~".join(out) + "~"


@st.composite
def damaged(draw: st.DrawFn) -> str:
    segments = list(FUZZ_SEGMENTS)
    for _ in range(draw(st.integers(1, 3))):
        index = draw(st.integers(3, len(segments) - 4))  # between ST and SE of the first set, or later
        action = draw(st.sampled_from(["drop", "duplicate", "truncate", "replace", "swap"]))
        if action == "drop":
            del segments[index]
        elif action == "duplicate":
            segments.insert(index, segments[index])
        elif action == "truncate":
            segments[index] = segments[index][: draw(st.integers(0, len(segments[index])))]
        elif action == "replace":
            text = segments[index]
            at = draw(st.integers(0, max(len(text) - 1, 0)))
            segments[index] = text[:at] + draw(NOISE) + text[at + 1 :]
        else:
            other = draw(st.integers(3, len(segments) - 4))
            segments[index], segments[other] = segments[other], segments[index]
    if draw(st.booleans()):
        return _recount(segments)
    return "~".join(segments) + "~"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged())
def test_damaged_segments_read_or_are_refused(text: str) -> None:
    _reads_or_refuses(text)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, len(FUZZ_BASE)), st.integers(0, len(FUZZ_BASE) - 1), NOISE)
def test_a_cut_or_a_stray_character_anywhere_reads_or_is_refused(cut: int, at: int, noise: str) -> None:
    _reads_or_refuses(FUZZ_BASE[:cut])
    _reads_or_refuses(FUZZ_BASE[:at] + noise + FUZZ_BASE[at + 1 :])


def test_the_fuzz_base_reads() -> None:
    # the damage above starts from a file that reads cleanly
    assert len(read_835(FUZZ_BASE)) == 2
    assert CLINIC_NPI in FUZZ_BASE
