"""The X12 reader: delimiters from the ISA's fixed positions, tolerated line breaks, clear errors."""

from __future__ import annotations

import pytest

from infusion_desk.billing.x12.syntax import X12Error, parse, tokenize, transactions

ISA = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *261120*0930*^*00501*000000017*0*T*:~"
BODY = "GS*HB*S*R*20261120*0930*17*X*005010X279A1~ST*271*0001*005010X279A1~BHT*0022*11*B1*20261120*0930~SE*3*0001~GE*1*17~IEA*1*000000017~"
GOOD = ISA + BODY


def test_isa_is_exactly_106_characters_in_the_fixture() -> None:
    assert len(ISA) == 106


def test_delimiters_are_read_from_their_fixed_positions() -> None:
    text = GOOD.replace("*", "|").replace("~", "!").replace(":", ">").replace("^", "+")
    (interchange,) = parse(text)
    assert interchange.delimiters.element == "|"
    assert interchange.delimiters.repetition == "+"
    assert interchange.delimiters.component == ">"
    assert interchange.delimiters.segment == "!"
    assert interchange.sender_id == "SENDER" and interchange.receiver_id == "RECEIVER"
    assert interchange.usage == "T"


def test_line_breaks_after_terminators_and_a_bom_are_tolerated() -> None:
    text = "\ufeff" + GOOD.replace("~", "~\r\n")
    (st,) = transactions(text)
    assert [s.tag for s in st.segments] == ["ST", "BHT", "SE"]
    assert st.segments[1].element(3) == "B1"


def test_several_interchanges_in_one_file() -> None:
    second = GOOD.replace("000000017", "000000018").replace("*17*", "*18*").replace("GE*1*17", "GE*1*18")
    interchanges = parse(GOOD + "\n" + second)
    assert [i.control_number for i in interchanges] == ["000000017", "000000018"]
    assert [s.number for s in tokenize(GOOD + second) if s.tag == "ISA"] == [1, 8]


def test_repetitions_and_components() -> None:
    text = GOOD.replace("BHT*0022*11*B1*20261120*0930~", "EB*1**1^33^AL*HM*A:B~")
    (st,) = transactions(text)
    eb = st.segments[1]
    assert eb.repeats(3) == ("1", "33", "AL")
    assert eb.components(5) == ("A", "B")
    assert eb.element(9) == ""


@pytest.mark.parametrize(
    ("text", "message", "segment"),
    [
        ("", "empty", None),
        ("GS*HB*S*R~", "does not start with an ISA", 1),
        ("ISA*00*   *00*", "ISA segment is truncated", 1),
        (ISA.replace("SENDER         ", "SENDER") + BODY, "not fixed width", 1),
        (ISA[:104] + "A~" + BODY, "unknown delimiters", 1),
        (ISA[:105] + "*" + BODY.replace("~", "*"), "not distinct", 1),
        (GOOD.replace("SE*3", "SE*4"), "SE01 says 4 segments; set 0001 has 3", 5),
        (GOOD.replace("SE*3*0001", "SE*3*0002"), "SE02 0002 does not match the ST02 control number 0001", 5),
        (GOOD.replace("GE*1*17", "GE*1*18"), "GE02 18 does not match the GS06 control number 17", 6),
        (GOOD.replace("GE*1*17", "GE*2*17"), "GE01 says 2 transaction sets but the group has 1", 6),
        (GOOD.replace("IEA*1*000000017", "IEA*1*000000099"), "IEA02 000000099 does not match", 7),
        (GOOD.replace("IEA*1*", "IEA*2*"), "IEA01 says 2 functional groups", 7),
        (GOOD[: GOOD.index("GE*")], "ends inside functional group 17 without GE", 5),
        (GOOD[: GOOD.index("SE*")], "ends inside transaction set 0001", 4),
        (GOOD[: GOOD.index("SE*") + 4], "ends in the middle of a segment", 5),
        (GOOD.replace("GE*1*17~IEA*1*000000017~", "GE*1*17~"), "without IEA", 6),
        (GOOD.replace("~ST*", "~HL*1**20*1~ST*"), "HL appears outside a transaction set", 3),
        (GOOD.replace("SE*3*0001~", "SE*3*0001~ST*271*0002~"), "has no SE before this GE", 7),
        (GOOD + "garbage", "expected another ISA", 8),
        (GOOD.replace("BHT*", "bht*"), "is not a segment identifier", 4),
    ],
)
def test_malformed_input_is_named_with_its_segment(text: str, message: str, segment: int | None) -> None:
    with pytest.raises(X12Error) as caught:
        parse(text)
    assert message in str(caught.value)
    assert caught.value.segment_number == segment


def test_a_4010_isa_without_repetition_separator() -> None:
    text = GOOD.replace("*^*00501*", "*U*00401*")
    (interchange,) = parse(text)
    assert interchange.delimiters.repetition == ""
    (st,) = transactions(text.replace("BHT*0022*11*B1*20261120*0930~", "EB*1**1^33~"))
    assert st.segments[1].repeats(3) == ("1^33",)
