"""271 responses: every public sample read with its actual values, and the ways a file goes wrong."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from infusion_desk.billing.x12.eligibility import parse_271
from infusion_desk.billing.x12.syntax import X12Error

SAMPLES = Path("/work/shared/x12-samples/271")


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


def build(body: str, *, st: str = "271", gs01: str = "HB") -> str:
    """A 271 around ``body`` (segments between BHT and SE), with the counts right."""
    segments = [s for s in body.split("~") if s]
    count = len(segments) + 3
    return (
        "ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*DEMOCLINIC     *261201*0910*^*00501*000000005*0*T*:~"
        f"GS*{gs01}*CH*DC*20261201*0910*5*X*005010X279A1~ST*{st}*0001*005010X279A1~BHT*0022*11*E1*20261201*0910~"
        + "".join(s + "~" for s in segments)
        + f"SE*{count}*0001~GE*1*5~IEA*1*000000005~"
    )


SOURCE = "HL*1**20*1~NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~HL*2*1*21*1~NM1*1P*2*DEMO CLINIC*****XX*1245319599~"


# -- the seven public samples -------------------------------------------------------------------------

def test_stupidedi_subscriber_response() -> None:
    # TR3 example: SMITH JOHN, member 123456789, GOLD 123 PLAN; copay 10 in network (EB12 Y), 30 out (N).
    response = parse_271(sample("stupidedi__X279-response-to-generic-request-by-clinic-for-patient-subscriber-eligibility.edi"))
    (answer,) = response.answers
    assert answer.trace_numbers == ("93175-012547",)
    assert (answer.payer_name, answer.payer_id) == ("ABC COMPANY", "842610001")
    assert (answer.last_name, answer.first_name, answer.member_id) == ("SMITH", "JOHN", "123456789")
    assert answer.birth_date == date(1963, 5, 19) and answer.sex == "M"
    assert answer.is_dependent is False
    assert answer.active is True and answer.plan_name == "GOLD 123 PLAN"
    assert answer.copay == Decimal("10.00")
    assert answer.deductible is None and answer.coinsurance_percent is None and answer.out_of_pocket_max is None
    assert answer.rejections == () and response.rejections == ()
    # LS/LE: the benefit-related provider's NM1*P3 (JONES) is not mistaken for the patient.
    assert "NM1*P3*1*JONES" in answer.raw and answer.last_name == "SMITH"


def test_stupidedi_dependent_response() -> None:
    response = parse_271(sample("stupidedi__X279-response-to-generic-request-by-physician-for-patient-dependent-eligibility.edi"))
    (answer,) = response.answers
    assert answer.is_dependent is True
    assert (answer.last_name, answer.first_name, answer.birth_date) == ("SMITH", "MARY", date(1998, 10, 14))
    assert (answer.subscriber_last_name, answer.subscriber_first_name) == ("SMITH", "JOHN")
    assert answer.member_id == "123456789"  # the subscriber's, the dependent has none of her own
    assert answer.trace_numbers == ("93175-012547",)
    assert answer.active is True and answer.copay == Decimal("10.00") and answer.plan_name == "GOLD 123 PLAN"


def test_stupidedi_provider_not_eligible_rejection() -> None:
    response = parse_271(sample("stupidedi__X279A1-error-response-from-payer-to-clinic-not-eligible-for-inquiries-with-payer.edi"))
    assert response.answers == ()
    (rejection,) = response.rejections
    assert (rejection.code, rejection.follow_up, rejection.level) == ("50", "N", "provider")
    assert rejection.text == "Provider ineligible for inquiries (50). Resubmission not allowed."
    assert response.payer_names == ("ABC COMPANY",)


def test_lfh_subscriber_response_with_line_breaks() -> None:
    (answer,) = parse_271(sample("lfh__subscriber-health-benefit-check.271")).answers
    assert (answer.payer_id, answer.member_id, answer.first_name) == ("841610001", "123456789", "JOHN")
    assert answer.active is True and answer.copay == Decimal("10.00") and answer.plan_name == "GOLD 123 PLAN"


def test_lfh_dependent_response() -> None:
    (answer,) = parse_271(sample("lfh__dependent-health-benefit-check.271")).answers
    assert answer.is_dependent and answer.first_name == "MARY" and answer.sex == "F"
    assert answer.copay == Decimal("10.00")


def test_lfh_error_sample_has_a_mismatched_se02_and_is_reported_not_guessed() -> None:
    # The file says ST*271*4321 but SE*8*4323: a genuine envelope defect in the public sample.
    text = sample("lfh__subscriber-health-benefit-check-error.271")
    with pytest.raises(X12Error, match="SE02 4323 does not match the ST02 control number 4321") as caught:
        parse_271(text)
    assert caught.value.segment_number == 10
    # Repaired, it is the same AAA*Y**50*N rejection at the provider level.
    (rejection,) = parse_271(text.replace("SE*8*4323", "SE*8*4321")).rejections
    assert (rejection.code, rejection.follow_up) == ("50", "N")


def test_emedny_eligible_response() -> None:
    (answer,) = parse_271(sample("herophilus__271SampleEligible.txt")).answers
    assert (answer.payer_name, answer.payer_id) == ("NYSDOH", "141797357")
    assert answer.member_id == "XX99999X"
    assert answer.trace_numbers == ("110010101000002",)
    assert answer.active is True and answer.plan_name == "MA Eligible"
    assert answer.copay == Decimal("0.00")  # EB*B*IND*30****0
    # NM1*P3 and NM1*P4 inside LS/LE loops do not replace the patient's name.
    assert answer.last_name == "Patient Last Name"
    assert len(answer.benefits) == 14  # 14 EB segments in the file


# -- our own cases -----------------------------------------------------------------------------------

def test_benefits_prefer_individual_in_network_service_type_30() -> None:
    text = build(
        SOURCE + "HL*3*2*22*0~TRN*2*P9-20261203*1123456789~NM1*IL*1*EXAMPLE*TESTY****MI*M1~REF*6P*GRP-77~"
        "DMG*D8*19600102*F~EB*1*FAM*30**SILVER PPO~"
        "EB*C*FAM*30***23*3000*****Y~EB*C*IND*30***23*1500*****N~EB*C*IND*30***23*1000*****Y~"
        "EB*C*IND*30***29*250*****Y~EB*G*IND*30***23*6000~EB*G*IND*30***29*5400~"
        "EB*A*IND*30*****0.15****N~EB*A*IND*30*****0.2****Y~EB*B*IND*98***27*35*****Y~EB*B*IND*30***27*25*****Y~"
    )
    (answer,) = parse_271(text).answers
    assert answer.deductible == Decimal("1000.00") and answer.deductible_met == Decimal("750.00")
    assert answer.out_of_pocket_max == Decimal("6000.00") and answer.out_of_pocket_met == Decimal("600.00")
    assert answer.coinsurance_percent == Decimal("20")
    assert answer.copay == Decimal("25.00")
    assert answer.group_number == "GRP-77" and answer.plan_name == "SILVER PPO"


def test_inactive_coverage() -> None:
    text = build(SOURCE + "HL*3*2*22*0~TRN*2*P1-20261203*X~NM1*IL*1*EXAMPLE*TESTY****MI*M1~EB*6**30~")
    (answer,) = parse_271(text).answers
    assert answer.active is False and answer.rejections == ()


def test_subscriber_level_rejection_and_a_second_subscriber_in_one_file() -> None:
    text = build(
        SOURCE
        + "HL*3*2*22*0~TRN*2*P1-20261203*X~NM1*IL*1*NOBODY*KNOWN****MI*ZZZ~AAA*N**75*C~"
        + "HL*4*2*22*0~TRN*2*P2-20261203*X~NM1*IL*1*EXAMPLE*TESTY****MI*M2~EB*1**30~"
    )
    first, second = parse_271(text).answers
    assert first.active is None and first.last_name == "NOBODY"
    assert first.rejection_text == "Subscriber/insured not found (75). Please correct and resubmit."
    assert second.active is True and second.rejections == ()


@pytest.mark.parametrize(
    ("code", "reason"),
    [("72", "Invalid/missing subscriber/insured ID"), ("73", "Invalid/missing subscriber/insured name"),
     ("42", "Unable to respond at current time"), ("41", "Authorization/access restrictions"),
     ("79", "Invalid participant identification"), ("58", "Invalid/missing date of birth"),
     ("15", "Required application data missing"), ("ZZ", "Reject reason ZZ")],
)
def test_rejection_reasons_are_spelled_out(code: str, reason: str) -> None:
    text = build(SOURCE + f"HL*3*2*22*0~NM1*IL*1*EXAMPLE*TESTY****MI*M1~AAA*N**{code}*R~")
    (answer,) = parse_271(text).answers
    assert answer.rejections[0].reason == reason
    assert answer.rejections[0].action == "Resubmission allowed"


def test_payer_level_rejection_reaches_the_subscribers_under_it() -> None:
    text = build("HL*1**20*1~NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~AAA*Y**42*R~HL*2*1*21*1~"
                 "NM1*1P*2*DEMO CLINIC*****XX*1245319599~HL*3*2*22*0~NM1*IL*1*EXAMPLE*TESTY****MI*M1~")
    (answer,) = parse_271(text).answers
    assert answer.rejections[0].code == "42" and answer.rejections[0].level == "payer"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not an edi file at all", "does not start with an ISA"),
        (build(SOURCE)[:150], "truncated"),
        (build(SOURCE, st="270", gs01="HS"), "eligibility inquiry (270), not an eligibility response (271)"),
        (build(SOURCE, st="835", gs01="HP"), "remittance advice (835)"),
        (build(SOURCE + "HL*3*9*22*0~"), "names parent '9'"),
        (build(SOURCE + "HL*3*2*22*0~NM1*IL*1*A*B~DMG*D8*19601399~"), "'19601399' is not a CCYYMMDD date"),
        (build(SOURCE + "HL*3*2*22*0~NM1*IL*1*A*B~EB*B*IND*30***27*ten~"), "EB07 'ten' is not a number"),
        # found by the fuzzing: an exponent no ledger holds (it raised decimal.InvalidOperation)
        (build(SOURCE + "HL*3*2*22*0~NM1*IL*1*A*B~EB*1*IND*1****1E+999999999~"),
         "EB07 '1E+999999999' is too large to be an amount"),
        (build(SOURCE + "HL*3*2*22*0~NM1*IL*1*A*B~EB*C*IND*30***23*100000000000~"),
         "EB07 '100000000000' is too large to be an amount"),
        (build("NM1*PR*2*X~"), "before the first HL"),
        (build(SOURCE).replace("*:~", "*Z~", 1), "unknown delimiters"),
    ],
)
def test_malformed_271s_raise_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(X12Error, match=None) as caught:
        parse_271(text)
    assert message in str(caught.value)
