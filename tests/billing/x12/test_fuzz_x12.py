"""Hostile input for every X12 reader: only :class:`X12Error` may come out, never a crash.

Each reader documents one error type for a file it cannot read: ``X12Error`` naming the
segment (``syntax.parse``, ``read_835``, ``read_acknowledgements``, ``parse_271``,
``read_837p``). These tests feed them mutated real files (the in-repo docstring examples,
which are fictional, and the public samples in ``/work/shared/x12-samples`` when that folder
is on the machine): flipped characters, truncation, deleted, duplicated and swapped
segments, elements replaced with random text or tricky numbers (``1E5``, ``NaN``, ``²``),
changed delimiters, inserted non-UTF-8 bytes (decoded as the app decodes a file: UTF-8, else
Latin-1) and plain random binary. Every crash found became an explicit regression test
below the fuzz tests.

Examples per CI run are the ``max_examples`` of each test (see ``FUZZ`` and ``RANDOM``).
"""

from __future__ import annotations

import doctest
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infusion_desk.billing.x12 import acknowledgements, eligibility, read837, remit835, syntax
from infusion_desk.billing.x12.syntax import X12Error

SAMPLES = Path("/work/shared/x12-samples")
FUZZ = 300
"""Mutated files per reader per CI run."""
RANDOM = 100
"""Random binary / random text files per reader per CI run."""

FUZZ_SETTINGS = settings(
    max_examples=FUZZ, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
RANDOM_SETTINGS = settings(max_examples=RANDOM, deadline=None)


# --- seeds ------------------------------------------------------------------------------------


def docstring_file(module: ModuleType) -> str:
    """The fictional X12 text a reader's module docstring builds (``text = (...)``)."""
    namespace: dict[str, Any] = {}
    for example in doctest.DocTestParser().get_examples(module.__doc__ or ""):
        if example.source.startswith(("text = (", "answer_text = (")):
            exec(example.source, namespace)  # noqa: S102 - a string literal from our own docstring
    found = namespace.get("answer_text") or namespace.get("text")
    assert isinstance(found, str), f"{module.__name__} has no X12 example in its docstring"
    return found


def sample_files(*kinds: str) -> tuple[str, ...]:
    """The public samples of ``kinds`` (see SOURCES.md), decoded as the app decodes an inbound file."""
    found: list[str] = []
    for kind in kinds:
        folder = SAMPLES / kind
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            raw = path.read_bytes()
            start = re.search(rb"^ISA", raw, re.MULTILINE)  # annotated files: prose before the ISA
            if start is None:
                continue
            found.append(decode(raw[start.start():]))
    return tuple(found)


def decode(raw: bytes) -> str:
    """As ``services.inbound.read_inbound_file`` decodes: UTF-8 (BOM allowed), else Latin-1."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


SEEDS_835 = (docstring_file(remit835), *sample_files("835"))
SEEDS_ACK = (docstring_file(acknowledgements), *sample_files("999", "277ca"))
SEEDS_271 = (docstring_file(eligibility), *sample_files("271"))
SEEDS_837 = (docstring_file(read837), *sample_files("837p"))
SEEDS_ALL = (docstring_file(syntax), *SEEDS_835, *SEEDS_ACK, *SEEDS_271, *SEEDS_837)


# --- mutations --------------------------------------------------------------------------------

TRICKY_VALUES = (
    "", " ", "0", "-0", "-", ".", "-.", "1.", ".5", "1.2.3", "--1", "1-", "1E5", "1e-9999999", "1E+999999999",
    "NaN", "sNaN", "Infinity", "-inf", "1_000", " 5", "5 ", "+5", "0x10", "²", "٣", "①", "１２", "Ⅻ",
    "9" * 18, "9" * 19, "9" * 40, "1" * 4301, "1" + "0" * 17 + ".99", "99999999999999999.99", "0.000000000000000001",
    "20261131", "20260229", "00000000", "99999999", "2026113", "202611201", "１９６０0102", "19600102-",
    "20261101-20261031", "RD8", "D8", "A", "R", "E", "P", "X", "ZZZZZZZZZZ", "HC:", ":", "::", "HC::::::::",
    "N4", "\x00", "\u00e9", "\ud7ff", "\uffff", "\U0001f489", "ISA", "SE", "IEA", "é" * 30,
)
"""Element values that have broken number, date, code and count parsing in readers like these."""

_ALPHABET = st.characters(codec="utf-8", exclude_categories=("Cs",))
_TEXT = st.text(_ALPHABET, max_size=25)
_ELEMENT = st.one_of(st.sampled_from(TRICKY_VALUES), _TEXT, st.from_regex(r"-?[0-9]{0,20}(\.[0-9]{0,6})?"))


def terminator(text: str) -> str:
    """The segment terminator the ISA declares (position 106), or ``~`` when there is none."""
    start = text.find("ISA")
    if start >= 0 and len(text) >= start + 106 and not text[start + 105].isalnum():
        return text[start + 105]
    return "~"


def separator(text: str) -> str:
    start = text.find("ISA")
    return text[start + 3] if start >= 0 and len(text) > start + 3 else "*"


def _segments(text: str) -> tuple[list[str], str]:
    end = terminator(text)
    return text.split(end), end


def _flip(draw: st.DrawFn, text: str) -> str:
    if not text:
        return text
    at = draw(st.integers(0, len(text) - 1))
    return text[:at] + draw(st.one_of(st.sampled_from("*~:^|\n\r 0-.E"), _ALPHABET)) + text[at + 1:]


def _truncate(draw: st.DrawFn, text: str) -> str:
    return text[: draw(st.integers(0, len(text)))]


def _delete_segment(draw: st.DrawFn, text: str) -> str:
    parts, end = _segments(text)
    at = draw(st.integers(0, len(parts) - 1))
    return end.join(parts[:at] + parts[at + 1:])


def _duplicate_segment(draw: st.DrawFn, text: str) -> str:
    parts, end = _segments(text)
    at = draw(st.integers(0, len(parts) - 1))
    to = draw(st.integers(0, len(parts)))
    parts.insert(to, parts[at])
    return end.join(parts)


def _swap_segments(draw: st.DrawFn, text: str) -> str:
    parts, end = _segments(text)
    a, b = draw(st.integers(0, len(parts) - 1)), draw(st.integers(0, len(parts) - 1))
    parts[a], parts[b] = parts[b], parts[a]
    return end.join(parts)


def _replace_element(draw: st.DrawFn, text: str) -> str:
    parts, end = _segments(text)
    at = draw(st.integers(0, len(parts) - 1))
    sep = separator(text)
    elements = parts[at].split(sep)
    where = draw(st.integers(0, len(elements)))
    value = draw(_ELEMENT)
    if where == len(elements):
        elements.append(value)
    elif where == 0 and parts[at].lstrip().startswith("ISA"):
        return text  # the ISA's tag keeps the file an X12 file; other mutations break the ISA
    else:
        elements[where] = value
    parts[at] = sep.join(elements)
    return end.join(parts)


def _change_delimiter(draw: st.DrawFn, text: str) -> str:
    old = draw(st.sampled_from((terminator(text), separator(text), ":", "^", "\n")))
    new = draw(st.sampled_from(("*", "~", ":", "^", "|", "\n", "A", " ", "", "**", "~\r\n")))
    return text.replace(old, new)


def _insert(draw: st.DrawFn, text: str) -> str:
    at = draw(st.integers(0, len(text)))
    return text[:at] + draw(st.one_of(_TEXT, st.sampled_from(TRICKY_VALUES))) + text[at:]


def _bytes(draw: st.DrawFn, text: str) -> str:
    """Non-UTF-8 bytes spliced into the file's bytes, then decoded as the app decodes a file."""
    raw = text.encode("utf-8")
    at = draw(st.integers(0, len(raw)))
    junk = draw(st.one_of(st.binary(min_size=1, max_size=8), st.sampled_from((b"\xff", b"\xc3", b"\xe9", b"\x00"))))
    return decode(raw[:at] + junk + raw[at:])


def _bom_and_breaks(draw: st.DrawFn, text: str) -> str:
    end = terminator(text)
    return draw(st.sampled_from(("\ufeff", "", "\r\n", " "))) + text.replace(end, end + draw(
        st.sampled_from(("\r\n", "\n", "\r", " ", "\t", "")))
    )


MUTATIONS: tuple[Callable[[st.DrawFn, str], str], ...] = (
    _flip, _truncate, _delete_segment, _duplicate_segment, _swap_segments, _replace_element,
    _replace_element, _replace_element, _change_delimiter, _insert, _bytes, _bom_and_breaks,
)


@st.composite
def mutated(draw: st.DrawFn, seeds: tuple[str, ...]) -> str:
    """A seed file with one to four mutations applied."""
    text = draw(st.sampled_from(seeds))
    for _ in range(draw(st.integers(1, 4))):
        text = draw(st.sampled_from(MUTATIONS))(draw, text)
    return text


BODY_TAGS = (
    "BPR", "TRN", "DTM", "N1", "REF", "LX", "CLP", "CAS", "NM1", "MOA", "MIA", "SVC", "AMT", "LQ", "PLB", "QTY",
    "AK1", "AK2", "IK3", "CTX", "IK4", "IK5", "AK9", "TA1", "BHT", "HL", "STC", "DTP", "SVC", "PER", "EB", "AAA",
    "DMG", "INS", "MSG", "III", "HSD", "CLM", "SV1", "HI", "SBR", "PAT", "LIN", "CTP", "PWK", "CN1", "K3", "NTE",
)
"""Segments the readers act on: a body mutation may turn any segment into one of these."""


def well_formed(seeds: tuple[str, ...]) -> tuple[tuple[syntax.Segment, ...], ...]:
    """The seeds whose envelope is sound, as segments (only they can be mutated inside the envelope)."""
    found = []
    for text in seeds:
        try:
            syntax.parse(text)
        except X12Error:
            continue
        found.append(syntax.tokenize(text))
    return tuple(found)


def render(segments: list[list[str]], delimiters: syntax.Delimiters) -> str:
    """The segments as a file, each SE01 recounted so the envelope stays sound."""
    opened = 0
    for index, elements in enumerate(segments):
        if elements[0] == "ST":
            opened = index
        elif elements[0] == "SE" and len(elements) > 1:
            elements[1] = str(index - opened + 1)
    return "".join(delimiters.element.join(e) + delimiters.segment for e in segments)


@st.composite
def body_mutated(draw: st.DrawFn, seeds: tuple[tuple[syntax.Segment, ...], ...]) -> str:
    """A sound file whose transaction sets' insides are mutated: the envelope still reads.

    Values never hold the element separator or the terminator (that would break the envelope,
    which :func:`mutated` covers); they may hold the component and repetition separators.
    """
    seed = seeds[draw(st.integers(0, len(seeds) - 1))]
    delimiters = seed[0].delimiters
    segments = [list(s.elements) for s in seed]
    envelope = {"ISA", "GS", "ST", "SE", "GE", "IEA"}
    forbidden = {delimiters.element, delimiters.segment}

    def value() -> str:
        text = draw(st.one_of(_ELEMENT, st.builds(delimiters.component.join, st.lists(_ELEMENT, max_size=4))))
        return "".join(c for c in text if c not in forbidden)

    for _ in range(draw(st.integers(1, 5))):
        body = [i for i, s in enumerate(segments) if s[0] not in envelope]
        if not body:
            break
        at = draw(st.sampled_from(body))
        elements = segments[at]
        operation = draw(st.sampled_from(("value", "value", "value", "drop", "grow", "delete", "copy", "move",
                                          "retag", "blank")))
        if operation == "value" and len(elements) > 1:
            elements[draw(st.integers(1, len(elements) - 1))] = value()
        elif operation == "drop":
            del elements[draw(st.integers(1, len(elements))):]
        elif operation == "grow":
            elements.extend(value() for _ in range(draw(st.integers(1, 20))))
        elif operation == "delete":
            del segments[at]
        elif operation == "copy":
            segments.insert(draw(st.sampled_from(body)), list(elements))
        elif operation == "move":
            segments.insert(draw(st.sampled_from(body)), segments.pop(at))
        elif operation == "retag":
            elements[0] = draw(st.sampled_from(BODY_TAGS))
        else:
            segments[at] = [elements[0]] + [""] * (len(elements) - 1)
    return render(segments, delimiters)


random_files = st.one_of(
    st.binary(max_size=400).map(decode),
    _TEXT,
    st.builds(lambda head, tail: head + tail, st.sampled_from([s[:106] for s in SEEDS_ALL]), st.text(_ALPHABET)),
)
"""Random bytes, random text, and a real ISA followed by random text."""


# --- the rule -----------------------------------------------------------------------------------


def only_x12_error(reader: Callable[[str], object], text: str) -> None:
    """``reader`` reads ``text`` or refuses it with an X12Error that says what is wrong."""
    try:
        reader(text)
    except X12Error as exc:
        assert str(exc).strip(), "an X12Error without a message tells the user nothing"
        assert exc.segment_number is None or exc.segment_number >= 1


READERS: dict[str, tuple[Callable[[str], object], tuple[str, ...]]] = {
    "syntax": (syntax.parse, SEEDS_ALL),
    "835": (remit835.read_835, SEEDS_835),
    "999/277CA": (acknowledgements.read_acknowledgements, SEEDS_ACK),
    "271": (eligibility.parse_271, SEEDS_271),
    "837P": (read837.read_837p, SEEDS_837),
}


@pytest.mark.parametrize("name", list(READERS))
def test_every_seed_is_read_or_refused_in_words(name: str) -> None:
    reader, seeds = READERS[name]
    for text in seeds:
        only_x12_error(reader, text)


@pytest.mark.parametrize("name", list(READERS))
@FUZZ_SETTINGS
@given(data=st.data())
def test_mutated_files_raise_only_x12_error(name: str, data: st.DataObject) -> None:
    reader, seeds = READERS[name]
    only_x12_error(reader, data.draw(mutated(seeds)))


@pytest.mark.parametrize("name", list(READERS))
@RANDOM_SETTINGS
@given(text=random_files)
def test_random_files_raise_only_x12_error(name: str, text: str) -> None:
    only_x12_error(READERS[name][0], text)


SOUND = {name: well_formed(seeds) for name, (_, seeds) in READERS.items()}


@pytest.mark.parametrize("name", list(READERS))
@FUZZ_SETTINGS
@given(data=st.data())
def test_files_mutated_inside_a_sound_envelope_raise_only_x12_error(name: str, data: st.DataObject) -> None:
    only_x12_error(READERS[name][0], data.draw(body_mutated(SOUND[name])))


# --- crashes the fuzzing found, kept as plain examples --------------------------------------------
# Each was an IndexError or ValueError out of a reader before its fix.

SYNTAX_TEXT = docstring_file(syntax)
REMIT_TEXT = docstring_file(remit835)
ACK_TEXT = docstring_file(acknowledgements)
CLAIM_TEXT = docstring_file(read837)


def refused(reader: Callable[[str], object], text: str) -> X12Error:
    with pytest.raises(X12Error) as caught:
        reader(text)
    return caught.value


@pytest.mark.parametrize(
    ("old", "new", "where"),
    [
        ("SE*3*0001", "SE*\u00b3*0001", "segment 5 (SE): SE01 must be a count, not '\u00b3'"),
        ("SE*3*0001", "SE*3*\u2460", "segment 5 (SE): SE02 \u2460 does not match the ST02 control number 0001"),
        ("GE*1*17", "GE*\u00b9*17", "segment 6 (GE): GE01 must be a count"),
        ("IEA*1*000000017", "IEA*1*\u00b9\u2077", "segment 7 (IEA): IEA02 \u00b9\u2077 does not match"),
        ("SE*3*0001", "SE*" + "3" * 5000 + "*0001", "segment 5 (SE): SE01 must be a count"),
    ],
)
def test_a_count_or_control_number_in_superscript_or_thousands_of_digits_is_refused(
    old: str, new: str, where: str
) -> None:
    # str.isdigit() is true for "³" and "①", which int() refuses (ValueError before the fix)
    assert str(refused(syntax.parse, SYNTAX_TEXT.replace(old, new))).startswith(where)


def test_a_short_mia_in_an_835_has_no_inpatient_remarks_rather_than_crashing() -> None:
    # MIA20-MIA23 lay past the reader's padding: an MIA of three elements or fewer raised IndexError
    text = REMIT_TEXT.replace("DTM*232*20261102~", "DTM*232*20261102~MIA*0~").replace("SE*23*0001", "SE*24*0001")
    (remittance,) = remit835.read_835(text)
    assert remittance.claims[0].remark_codes == ()
    assert remittance.claims[0].paid == Decimal("160.00")


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("AK9*P*2*2*1", "AK9*P*\u00b2*2*1", "AK902 (the number of transaction sets included) must be a number"),
        ("AK1*HC*17*", "AK1*HC*\u2460\u2466*", "AK102 (the group control number) must be a number"),
        ("IK3*NM1*12*", "IK3*NM1*\u00b9\u00b2*", "IK302 (the segment position) must be a number"),
        ("IK4*9*67", "IK4*\u2468*67", "IK401 (the element position) must be a number"),
    ],
)
def test_a_999_number_written_in_superscript_is_refused_naming_the_element(
    old: str, new: str, message: str
) -> None:
    assert message in str(refused(acknowledgements.read_acknowledgements, ACK_TEXT.replace(old, new)))


def test_a_superscript_component_position_in_an_ik4_is_left_out_of_the_element_name() -> None:
    answer = acknowledgements.read_acknowledgements(ACK_TEXT.replace("IK4*9*67", "IK4*9:\u00b2*67"))
    assert answer.group_acks[0].transactions[1].errors[0].elements[0].message.startswith("NM109 (data element")


def test_a_superscript_ta1_control_number_is_refused() -> None:
    text = ACK_TEXT.replace("GS*FA*", "TA1*\u00b9\u2070*261121*1200*R*001~GS*FA*", 1)
    assert "TA101 (the interchange control number answered) must be digits" in str(
        refused(acknowledgements.read_acknowledgements, text)
    )


def test_a_superscript_trigger_position_in_a_ctx_is_left_out() -> None:
    text = ACK_TEXT.replace("CTX*CLM01:C2611004~", "CTX*CLM01:C2611004~CTX*SITUATIONAL TRIGGER*CLM*9**\u00b2~")
    text = text.replace("SE*11*0001", "SE*12*0001")
    (group,) = acknowledgements.read_acknowledgements(text).group_acks
    assert group.transactions[1].errors[0].claim_number == "C2611004"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("LX*1~", "LX*\u00b9~", "segment 24 (LX): LX01 '\u00b9' is not a line number."),
        ("LX*2~", "LX*\u2461~", "LX01 '\u2461' is not a line number."),
        ("*UN*1***1~DTP", "*UN*1***\u00b9~DTP", "SV107 '\u00b9' is not a list of diagnosis pointers."),
        ("DTP*472*D8*20261102~REF*6R*C0000042L01", "DTP*472*D8*2026110\u00b2~REF*6R*C0000042L01",
         "'2026110\u00b2' is not a CCYYMMDD date."),
    ],
)
def test_an_837_line_number_pointer_or_date_in_superscript_is_refused(old: str, new: str, message: str) -> None:
    assert message in str(refused(read837.read_837p, CLAIM_TEXT.replace(old, new, 1)))


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("BPR*I*155*", "BPR*I*100000000000*", "segment 4 (BPR): BPR02 (the total amount of the payment) "
         "'100000000000' is too large: no amount reaches 100 billion."),
        ("SVC*HC:96365*250*160**1", "SVC*HC:96365*250*160**" + "9" * 18,
         "segment 17 (SVC): SVC05 (the units of 96365 paid) '999999999999999999' is too large: 100 billion or more."),
    ],
)
def test_an_835_number_past_what_the_ledger_stores_is_refused(old: str, new: str, message: str) -> None:
    # balanced, such a file reached the database and failed there with OverflowError
    assert str(refused(remit835.read_835, REMIT_TEXT.replace(old, new))) == message


def test_an_835_amount_just_under_100_billion_is_read() -> None:
    (remittance,) = remit835.read_835(REMIT_TEXT.replace("BPR*I*155*", "BPR*I*99999999999.99*"))
    assert remittance.total_paid == Decimal("99999999999.99")
