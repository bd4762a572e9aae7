r"""Reading X12 files: delimiters from the fixed-width ISA, segments, and the checked envelope.

    >>> text = (
    ...     "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     "
    ...     "*261120*0930*^*00501*000000017*0*T*:~\r\n"
    ...     "GS*HB*CLEARINGHOUSE*DEMOCLINIC*20261120*0930*17*X*005010X279A1~"
    ...     "ST*271*0001*005010X279A1~BHT*0022*11*B1*20261120*0930~SE*3*0001~"
    ...     "GE*1*17~IEA*1*000000017~"
    ... )
    >>> (interchange,) = parse(text)
    >>> interchange.delimiters.component, interchange.control_number
    (':', '000000017')
    >>> st = interchange.groups[0].transactions[0]
    >>> st.code, [s.tag for s in st.segments]
    ('271', ['ST', 'BHT', 'SE'])
    >>> st.segments[1].element(3)
    'B1'
    >>> parse(text.replace("SE*3", "SE*4"))
    Traceback (most recent call last):
    ...
    infusion_desk.billing.x12.syntax.X12Error: segment 5 (SE): SE01 says 4 segments; set 0001 has 3.

Receivers find the delimiters by position, never by searching: the element separator is
the ISA's 4th character, the repetition separator its 83rd (ISA11), the component
separator its 105th (ISA16) and the segment terminator its 106th. Line breaks after a
terminator and a UTF-8 byte-order mark are tolerated; several interchanges may follow
one another. Anything else that breaks the envelope raises :class:`X12Error` naming
the segment's position in the file (1 for the first ISA).
"""

from __future__ import annotations

from dataclasses import dataclass

ISA_LENGTH = 106
"""The ISA segment is exactly 106 characters, its terminator included."""

_ISA_SEPARATOR_POSITIONS = (3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103)
_LINE_BREAKS = "\r\n"
_MAX_DIGITS = 18
"""The most digits an X12 number has; far more than any count or control number needs."""


class X12Error(ValueError):
    """The text is not a well-formed X12 interchange; ``segment_number`` says where (1-based)."""

    def __init__(self, message: str, segment_number: int | None = None, tag: str | None = None) -> None:
        self.segment_number = segment_number
        self.tag = tag
        self.reason = message
        where = ""
        if segment_number is not None:
            where = f"segment {segment_number}" + (f" ({tag})" if tag else "") + ": "
        super().__init__(where + message)


@dataclass(frozen=True, slots=True)
class Delimiters:
    element: str = "*"
    repetition: str = "^"
    component: str = ":"
    segment: str = "~"

    @property
    def all(self) -> tuple[str, ...]:
        return (self.element, self.repetition, self.component, self.segment)


@dataclass(frozen=True, slots=True)
class Segment:
    """One segment: its tag, its elements (``elements[0]`` is the tag) and its position in the file."""

    elements: tuple[str, ...]
    number: int
    delimiters: Delimiters

    @property
    def tag(self) -> str:
        return self.elements[0]

    def element(self, position: int) -> str:
        """Element ``position`` as the TR3 numbers it (``NM1`` 03 is ``element(3)``); "" when absent."""
        return self.elements[position] if 0 < position < len(self.elements) else ""

    def components(self, position: int) -> tuple[str, ...]:
        value = self.element(position)
        return tuple(value.split(self.delimiters.component)) if value else ()

    def repeats(self, position: int) -> tuple[str, ...]:
        """The repetitions of element ``position`` (an ``EB03`` may list several service types)."""
        value = self.element(position)
        if not value:
            return ()
        return tuple(value.split(self.delimiters.repetition)) if self.delimiters.repetition else (value,)

    def text(self) -> str:
        return self.delimiters.element.join(self.elements) + self.delimiters.segment


@dataclass(frozen=True, slots=True)
class TransactionSet:
    code: str
    """ST01: 270, 271, 835, 837..."""
    control_number: str
    version: str
    """ST03 when present, else the group's GS08."""
    segments: tuple[Segment, ...]
    """ST through SE inclusive."""


@dataclass(frozen=True, slots=True)
class FunctionalGroup:
    functional_id: str
    """GS01: HS for 270, HB for 271, HC for 837, HP for 835..."""
    sender: str
    receiver: str
    control_number: str
    version: str
    transactions: tuple[TransactionSet, ...]


@dataclass(frozen=True, slots=True)
class Interchange:
    delimiters: Delimiters
    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    date: str
    time: str
    control_number: str
    usage: str
    """ISA15: P production, T test."""
    groups: tuple[FunctionalGroup, ...]


def _delimiters(text: str, start: int, number: int) -> Delimiters:
    if len(text) - start < ISA_LENGTH:
        raise X12Error(
            f"the ISA segment is truncated: it must be {ISA_LENGTH} characters, "
            f"the file has {len(text) - start} left.",
            number,
            "ISA",
        )
    element = text[start + 3]
    if element.isalnum() or element.isspace():
        raise X12Error(f"{element!r} cannot be the element separator (ISA position 4).", number, "ISA")
    for position in _ISA_SEPARATOR_POSITIONS:
        if text[start + position] != element:
            raise X12Error(
                f"the ISA is not fixed width: character {position + 1} should be the element separator "
                f"{element!r} but is {text[start + position]!r}.",
                number,
                "ISA",
            )
    repetition = text[start + 82]
    component = text[start + 104]
    terminator = text[start + 105]
    if repetition.isalnum() or repetition.isspace():
        repetition = ""  # ISA11 "U" in 4010 files: no repetition separator
    chosen = [c for c in (element, repetition, component, terminator) if c]
    if len(set(chosen)) != len(chosen):
        raise X12Error(
            f"the ISA's delimiters are not distinct (element {element!r}, repetition {repetition!r}, "
            f"component {component!r}, segment {terminator!r}).",
            number,
            "ISA",
        )
    if component.isalnum() or component.isspace() or terminator.isalnum() or terminator == " ":
        raise X12Error(
            f"unknown delimiters: component {component!r} and terminator {terminator!r} "
            "(ISA positions 105 and 106).",
            number,
            "ISA",
        )
    return Delimiters(element, repetition, component, terminator)


def tokenize(text: str) -> tuple[Segment, ...]:
    """All segments of all interchanges in ``text``, each with the delimiters of its interchange."""
    if text.startswith("\ufeff"):
        text = text[1:]
    segments: list[Segment] = []
    position = 0
    size = len(text)
    while True:
        while position < size and text[position].isspace():
            position += 1
        if position >= size:
            break
        number = len(segments) + 1
        if not text.startswith("ISA", position):
            if not segments:
                raise X12Error("the file does not start with an ISA segment: it is not an X12 file.", 1)
            found = text[position : position + 20].split("*")[0]
            raise X12Error(f"unexpected text after IEA: {found!r}; expected another ISA.", number)
        delimiters = _delimiters(text, position, number)
        while position < size:
            end = text.find(delimiters.segment, position)
            raw = text[position:] if end < 0 else text[position:end]
            position = size if end < 0 else end + 1
            raw = raw.strip(_LINE_BREAKS) if delimiters.segment not in _LINE_BREAKS else raw
            if not raw.strip():
                continue
            number = len(segments) + 1
            if end < 0:
                raise X12Error(
                    f"the file ends in the middle of a segment ({raw[:20]!r}...): it is truncated.", number
                )
            elements = tuple(raw.split(delimiters.element))
            tag = elements[0]
            if not tag.isalnum() or not 2 <= len(tag) <= 3 or tag != tag.upper():
                raise X12Error(f"{tag[:20]!r} is not a segment identifier.", number)
            segments.append(Segment(elements, number, delimiters))
            if tag == "IEA":
                break
    if not segments:
        raise X12Error("the file is empty.")
    return tuple(segments)


def is_digits(value: str) -> bool:
    """Whether ``value`` is an X12 unsigned whole number that ``int()`` can read.

    ``str.isdigit`` alone also passes ``"²"`` and ``"①"``, which ``int()`` refuses, and a
    number thousands of digits long, which ``int()`` refuses too.

    >>> is_digits("0001"), is_digits("²"), is_digits(""), is_digits("9" * 19)
    (True, False, False, False)
    """
    return value.isascii() and value.isdigit() and len(value) <= _MAX_DIGITS


def _count(segment: Segment, position: int) -> int:
    value = segment.element(position)
    if not is_digits(value):
        raise X12Error(
            f"{segment.tag}{position:02d} must be a count, not {value!r}.", segment.number, segment.tag
        )
    return int(value)


def _same_number(opening: str, closing: Segment, position: int, what: str) -> None:
    value = closing.element(position)
    if value.strip() != opening.strip() and not (
        is_digits(value) and is_digits(opening.strip()) and int(value) == int(opening)
    ):
        raise X12Error(
            f"{closing.tag}{position:02d} {value} does not match the {what} control number "
            f"{opening.strip()}.",
            closing.number,
            closing.tag,
        )


def _transaction(segments: tuple[Segment, ...], start: int, group_version: str) -> tuple[TransactionSet, int]:
    st = segments[start]
    index = start + 1
    while index < len(segments):
        tag = segments[index].tag
        if tag == "SE":
            break
        if tag in ("ST", "GE", "IEA", "ISA", "GS"):
            raise X12Error(
                f"transaction set {st.element(2)} (ST at segment {st.number}) has no SE before this {tag}: "
                "the file is truncated or damaged.",
                segments[index].number,
                tag,
            )
        index += 1
    else:
        raise X12Error(
            f"the file ends inside transaction set {st.element(2)} (ST at segment {st.number}): "
            "it is truncated.",
            segments[-1].number,
            segments[-1].tag,
        )
    se = segments[index]
    body = segments[start : index + 1]
    declared = _count(se, 1)
    if declared != len(body):
        raise X12Error(
            f"SE01 says {declared} segments; set {st.element(2)} has {len(body)}.",
            se.number,
            "SE",
        )
    _same_number(st.element(2), se, 2, "ST02")
    if not st.element(1):
        raise X12Error("ST01 (the transaction set code) is missing.", st.number, "ST")
    return TransactionSet(st.element(1), st.element(2), st.element(3) or group_version, body), index + 1


def _group(segments: tuple[Segment, ...], start: int) -> tuple[FunctionalGroup, int]:
    gs = segments[start]
    index = start + 1
    transactions: list[TransactionSet] = []
    while True:
        if index >= len(segments):
            raise X12Error(
                f"the file ends inside functional group {gs.element(6)} without GE: it is truncated.",
                segments[-1].number,
                segments[-1].tag,
            )
        segment = segments[index]
        if segment.tag == "ST":
            transaction, index = _transaction(segments, index, gs.element(8))
            transactions.append(transaction)
        elif segment.tag == "GE":
            break
        else:
            raise X12Error(
                f"{segment.tag} appears outside a transaction set (expected ST or GE).",
                segment.number,
                segment.tag,
            )
    ge = segments[index]
    if _count(ge, 1) != len(transactions):
        raise X12Error(
            f"GE01 says {ge.element(1)} transaction sets but the group has {len(transactions)}.",
            ge.number,
            "GE",
        )
    _same_number(gs.element(6), ge, 2, "GS06")
    group = FunctionalGroup(
        gs.element(1), gs.element(2), gs.element(3), gs.element(6), gs.element(8), tuple(transactions)
    )
    return group, index + 1


def parse(text: str) -> tuple[Interchange, ...]:
    """Every interchange in ``text``, with counts and control numbers checked."""
    segments = tokenize(text)
    interchanges: list[Interchange] = []
    index = 0
    while index < len(segments):
        isa = segments[index]
        if isa.tag != "ISA":
            raise X12Error(f"{isa.tag} appears outside an interchange (expected ISA).", isa.number, isa.tag)
        if len(isa.elements) != 17:
            raise X12Error(f"the ISA has {len(isa.elements) - 1} elements, not 16.", isa.number, "ISA")
        index += 1
        groups: list[FunctionalGroup] = []
        while True:
            if index >= len(segments) or segments[index].tag == "ISA":
                last = segments[index - 1]
                raise X12Error(
                    f"the file ends inside interchange {isa.element(13)} without IEA: it may be truncated.",
                    last.number,
                    last.tag,
                )
            segment = segments[index]
            if segment.tag == "GS":
                group, index = _group(segments, index)
                groups.append(group)
            elif segment.tag == "IEA":
                break
            elif segment.tag == "TA1":
                index += 1
            else:
                raise X12Error(
                    f"{segment.tag} appears outside a functional group (expected GS or IEA).",
                    segment.number,
                    segment.tag,
                )
        iea = segments[index]
        if _count(iea, 1) != len(groups):
            raise X12Error(
                f"IEA01 says {iea.element(1)} functional groups but the interchange has {len(groups)}.",
                iea.number,
                "IEA",
            )
        _same_number(isa.element(13), iea, 2, "ISA13")
        interchanges.append(
            Interchange(
                isa.delimiters,
                isa.element(5).strip(),
                isa.element(6).strip(),
                isa.element(7).strip(),
                isa.element(8).strip(),
                isa.element(9),
                isa.element(10),
                isa.element(13),
                isa.element(15),
                tuple(groups),
            )
        )
        index += 1
    return tuple(interchanges)


def transactions(text: str) -> tuple[TransactionSet, ...]:
    """Every transaction set in ``text``, in file order."""
    return tuple(t for i in parse(text) for g in i.groups for t in g.transactions)
