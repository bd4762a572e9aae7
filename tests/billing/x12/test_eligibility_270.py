"""270 inquiries and the envelope writer, checked by pyx12 against our X279A1 map."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from infusion_desk.billing.x12.eligibility import (
    InformationReceiver,
    Inquiry,
    Person,
    parse_trace_number,
    trace_number,
    write_270,
)
from infusion_desk.billing.x12.envelope import Parties, Transaction, clean, segment, write_interchange
from infusion_desk.billing.x12.syntax import parse, transactions
from tests.billing.x12.pyx12_270_map import build_map_directory, validate

SAMPLES = Path("/work/shared/x12-samples/270")
GOOD_SAMPLES = [
    "stupidedi__X279A1-generic-request-by-clinic-for-patient-subscriber-eligibility.edi",
    "stupidedi__X279A1-generic-request-by-physician-for-patient-dependent-eligibility.edi",
    "lfh__subscriber-health-benefit-check.270",
    "lfh__dependent-health-benefit-check.270",
]
PARTIES = Parties("ZZ", "DEMOCLINIC", "ZZ", "CLEARHOUSE", "DEMOCLINIC", "CLEARHOUSE")
RECEIVER = InformationReceiver("Demo Infusion Clinic, LLC", "1245319599", "1123456789")
CREATED = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)


@pytest.fixture(scope="module")
def map_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_map_directory(tmp_path_factory.mktemp("pyx12") / "map")


def subscriber_inquiry(policy: int = 7, payer: tuple[str, str] = ("Fictional Health Plan", "FHP01")) -> Inquiry:
    return Inquiry(payer_name=payer[0], payer_id=payer[1], member_id="XYZ123456",
                   subscriber=Person("O'Example", "Testy", date(1960, 1, 2), "F"),
                   trace_number=trace_number(policy, date(2026, 12, 3)), date_of_service=date(2026, 12, 3))


def dependent_inquiry(policy: int = 8) -> Inquiry:
    return Inquiry(payer_name="Imaginary Mutual", payer_id="IMU22", member_id="IMU-0042",
                   subscriber=Person("Sampleton", "Parent", date(1970, 3, 4), "M"),
                   patient=Person("Sampleton", "Kiddo", date(2010, 5, 6), "U"),
                   trace_number=trace_number(policy, date(2026, 12, 4)), date_of_service=date(2026, 12, 4))


def write(inquiries: list[Inquiry]) -> str:
    return write_270(PARTIES, RECEIVER, inquiries, reference="E000017", created=CREATED,
                     interchange_control_number=17, group_control_number=17, production=False)


# -- the map is right: it accepts the TR3's own examples and refuses broken ones ----------------------

@pytest.mark.parametrize("name", GOOD_SAMPLES)
def test_map_accepts_the_known_good_tr3_examples(map_dir: Path, name: str) -> None:
    assert validate((SAMPLES / name).read_text(), map_dir) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda t: t.replace("NM1*IL*1*SMITH*ROBERT****MI*11122333301~", ""), 'Mandatory loop "2100C"'),
        (lambda t: t.replace("SE*13*", "SE*12*"), "SE count of 12"),
        (lambda t: t.replace("DMG*D8*19430519", "DMG*D8*19430519*X"), "not a valid code"),
        (lambda t: t.replace("HL*3*2*22*0", "HL*3*2*24*0"), "not found"),
        (lambda t: t.replace("NM1*PR*2*ABC COMPANY*****PI*842610001", "NM1*PR*2*ABC COMPANY*****ZZ*842610001"),
         "not a valid code"),
    ],
)
def test_map_refuses_broken_270s(map_dir: Path, change, complaint: str) -> None:
    text = (SAMPLES / GOOD_SAMPLES[0]).read_text()
    problems = validate(change(text), map_dir)
    assert any(complaint in p for p in problems), problems


def test_map_refuses_the_sample_with_segments_outside_st(map_dir: Path) -> None:
    assert validate((SAMPLES / "badx12__unknown_segment_error.edi").read_text(), map_dir)


# -- our 270s -----------------------------------------------------------------------------------------

def test_a_subscriber_inquiry_validates_and_reads_back(map_dir: Path) -> None:
    text = write([subscriber_inquiry()])
    assert validate(text, map_dir) == []
    (st,) = transactions(text)
    lines = [s.text() for s in st.segments]
    assert "NM1*IL*1*O'EXAMPLE*TESTY****MI*XYZ123456~" in lines
    assert "TRN*1*P7-20261203*1123456789~" in lines
    assert "NM1*1P*2*DEMO INFUSION CLINIC, LLC*****XX*1245319599~" in lines
    assert "HL*3*2*22*0~" in lines and "EQ*30~" in lines and "DTP*291*D8*20261203~" in lines


def test_a_dependent_inquiry_puts_the_patient_in_loop_2000d(map_dir: Path) -> None:
    text = write([dependent_inquiry()])
    assert validate(text, map_dir) == []
    (st,) = transactions(text)
    tags = [s.text() for s in st.segments]
    assert tags[tags.index("HL*3*2*22*1~") + 1] == "NM1*IL*1*SAMPLETON*PARENT****MI*IMU-0042~"
    after = tags[tags.index("HL*4*3*23*0~"):]
    assert after[:4] == ["HL*4*3*23*0~", "TRN*1*P8-20261204*1123456789~", "NM1*03*1*SAMPLETON*KIDDO~",
                         "DMG*D8*20100506*U~"]


def test_several_payers_each_get_their_own_source_loop(map_dir: Path) -> None:
    text = write([subscriber_inquiry(1), dependent_inquiry(2), subscriber_inquiry(3),
                  subscriber_inquiry(4, ("Pretend Care", "PC9"))])
    assert validate(text, map_dir) == []
    (st,) = transactions(text)
    hls = [s.text() for s in st.segments if s.tag == "HL"]
    # FHP: 1 source, 2 receiver, 3 and 4 subscribers; IMU: 5, 6, 7 + dependent 8; PC9: 9, 10, 11.
    assert hls == ["HL*1**20*1~", "HL*2*1*21*1~", "HL*3*2*22*0~", "HL*4*2*22*0~",
                   "HL*5**20*1~", "HL*6*5*21*1~", "HL*7*6*22*1~", "HL*8*7*23*0~",
                   "HL*9**20*1~", "HL*10*9*21*1~", "HL*11*10*22*0~"]
    assert sum(1 for s in st.segments if s.tag == "NM1" and s.element(1) == "PR") == 3


def test_trace_numbers_carry_the_policy_and_day() -> None:
    assert parse_trace_number(trace_number(123, date(2026, 12, 31))) == (123, date(2026, 12, 31))
    assert parse_trace_number("93175-012547") is None
    assert parse_trace_number("P1-20261399") is None


def test_no_inquiries_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one inquiry"):
        write([])


# -- envelope -----------------------------------------------------------------------------------------

def test_isa_is_fixed_width_with_padded_ids_and_zero_filled_control_number() -> None:
    text = write([subscriber_inquiry()])
    isa = text[: text.index("~") + 1]
    assert len(isa) == 106
    assert isa[3] == "*" and isa[82] == "^" and isa[104] == ":" and isa[105] == "~"
    assert "*ZZ*DEMOCLINIC     *ZZ*CLEARHOUSE     *261201*0905*" in isa
    assert "*000000017*0*T*:" in isa
    (interchange,) = parse(text)
    assert interchange.groups[0].functional_id == "HS" and interchange.groups[0].version == "005010X279A1"


def test_data_can_never_carry_a_delimiter() -> None:
    assert clean("a*b~c:d^e\r\nf\tg") == "A B C D E F G"
    assert clean("  Ñúñez  ") == "NUNEZ"
    rendered = segment("NM1", "IL", "1", "Smith~Jones", ("HC", "J1745:JW")).render()
    assert rendered == "NM1*IL*1*SMITH JONES*HC:J1745 JW~"
    assert segment("NM1", "82", "1", "", None).render() == "NM1*82*1~"


def test_production_flag_and_acknowledgment_request() -> None:
    body = (segment("BHT", "0022", "13", "X", "20261201", "0905"),)
    text = write_interchange(PARTIES, functional_id="HS", version="005010X279A1",
                             transactions=(Transaction("270", 1, body),), interchange_control_number=5,
                             group_control_number=6, created=CREATED, production=True,
                             acknowledgment_requested=True)
    assert "*000000005*1*P*:~" in text and "GE*1*6~IEA*1*000000005~" in text


@pytest.mark.parametrize(
    ("parties", "numbers", "message"),
    [
        (Parties("ZZ", "A" * 16, "ZZ", "R", "A", "R"), (1, 1), "Sender ID"),
        (Parties("ZZZ", "A", "ZZ", "R", "A", "R"), (1, 1), "qualifiers"),
        (PARTIES, (0, 1), "Interchange control number 0"),
        (PARTIES, (1_000_000_000, 1), "Interchange control number"),
        (PARTIES, (1, 0), "Group control number"),
    ],
)
def test_bad_envelope_values_are_refused(parties: Parties, numbers: tuple[int, int], message: str) -> None:
    body = (segment("BHT", "0022", "13", "X", "20261201", "0905"),)
    with pytest.raises(ValueError, match=message):
        write_interchange(parties, functional_id="HS", version="005010X279A1",
                          transactions=(Transaction("270", 1, body),), interchange_control_number=numbers[0],
                          group_control_number=numbers[1], created=CREATED, production=False)
