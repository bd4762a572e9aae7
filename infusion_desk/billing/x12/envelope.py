r"""Writing X12: the ISA/GS/ST…SE/GE/IEA envelope around transaction sets, with clean element values.

    >>> parties = Parties("ZZ", "DEMOCLINIC", "ZZ", "CLEARINGHOUSE", "DEMOCLINIC", "CLEARINGHOUSE")
    >>> body = (segment("BHT", "0022", "13", "b-1", "20261120", "0930"),)
    >>> text = write_interchange(
    ...     parties, functional_id="HS", version="005010X279A1",
    ...     transactions=(Transaction("270", 1, body),),
    ...     interchange_control_number=17, group_control_number=17,
    ...     created=datetime(2026, 11, 20, 9, 30), production=False)
    >>> print(text.replace("~", "~\n"))
    ISA*00*          *00*          *ZZ*DEMOCLINIC     *ZZ*CLEARINGHOUSE  *261120*0930*^*00501*000000017*0*T*:~
    GS*HS*DEMOCLINIC*CLEARINGHOUSE*20261120*0930*17*X*005010X279A1~
    ST*270*0001*005010X279A1~
    BHT*0022*13*B-1*20261120*0930~
    SE*3*0001~
    GE*1*17~
    IEA*1*000000017~
    <BLANKLINE>
    >>> clean("O'Brien*Smith~Jr: ^ñ")
    "O'BRIEN SMITH JR N"

Values are upper-cased, folded to ASCII, and any delimiter, line break or control
character becomes a space, so no data value can ever split an element or a segment.
Trailing empty elements are dropped (``NM1*82*1*~`` is an error). Control numbers come
from the caller (a persistent counter), never from here. The writer is shared by the
270 inquiries and the 837P claim batches.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from infusion_desk.billing.x12.syntax import ISA_LENGTH, Delimiters

DEFAULT_DELIMITERS = Delimiters("*", "^", ":", "~")
Element = str | tuple[str, ...]
"""An element value, or a composite as its components."""

_SPACES = re.compile(r"\s+")
_ID = re.compile(r"^[A-Z0-9 ]{1,15}$")


def clean(value: str, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
    """``value`` as X12 data: ASCII upper case, no delimiter or control character, single spaces."""
    folded = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode("ascii").upper()
    kept = "".join(" " if ch in delimiters.all or not ch.isprintable() else ch for ch in folded)
    return _SPACES.sub(" ", kept).strip()


@dataclass(frozen=True, slots=True)
class OutSegment:
    tag: str
    elements: tuple[Element, ...]

    def render(self, delimiters: Delimiters = DEFAULT_DELIMITERS) -> str:
        values = [
            delimiters.component.join(clean(c, delimiters) for c in value).rstrip(delimiters.component)
            if isinstance(value, tuple)
            else clean(value, delimiters)
            for value in self.elements
        ]
        while values and not values[-1]:
            values.pop()
        return delimiters.element.join((self.tag, *values)) + delimiters.segment


def segment(tag: str, *elements: Element | None) -> OutSegment:
    """A segment to write; ``None`` is an empty element."""
    return OutSegment(tag, tuple("" if e is None else e for e in elements))


@dataclass(frozen=True, slots=True)
class Parties:
    """Who sends and who receives, as the clearinghouse's companion guide says (ISA05–08, GS02–03)."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    application_sender_code: str
    application_receiver_code: str


@dataclass(frozen=True, slots=True)
class Transaction:
    code: str
    """ST01: 270, 837..."""
    control_number: int
    body: tuple[OutSegment, ...]
    """Everything between ST and SE."""


def _id(value: str, name: str) -> str:
    text = clean(value)
    if not _ID.match(text):
        raise ValueError(f"{name} {value!r} must be 1 to 15 letters, digits or spaces.")
    return text


def _number(value: int, digits: int, name: str) -> str:
    if not 0 < value < 10**digits:
        raise ValueError(f"{name} {value} must be between 1 and {10**digits - 1}.")
    return str(value)


def write_interchange(
    parties: Parties,
    *,
    functional_id: str,
    version: str,
    transactions: Sequence[Transaction],
    interchange_control_number: int,
    group_control_number: int,
    created: datetime,
    production: bool,
    acknowledgment_requested: bool = False,
    delimiters: Delimiters = DEFAULT_DELIMITERS,
) -> str:
    """One interchange holding one functional group of ``transactions`` (one file to upload)."""
    if not transactions:
        raise ValueError("an interchange needs at least one transaction set.")
    qualifiers = (parties.sender_qualifier, parties.receiver_qualifier)
    if any(len(q) != 2 or not q.isalnum() for q in qualifiers):
        raise ValueError(f"ID qualifiers must be two letters or digits, got {qualifiers}.")
    isa13 = _number(interchange_control_number, 9, "Interchange control number").zfill(9)
    gs06 = _number(group_control_number, 9, "Group control number")
    isa = delimiters.element.join(
        (
            "ISA", "00", " " * 10, "00", " " * 10,
            parties.sender_qualifier.upper(), _id(parties.sender_id, "Sender ID").ljust(15),
            parties.receiver_qualifier.upper(), _id(parties.receiver_id, "Receiver ID").ljust(15),
            f"{created:%y%m%d}", f"{created:%H%M}", delimiters.repetition, "00501", isa13,
            "1" if acknowledgment_requested else "0", "P" if production else "T", delimiters.component,
        )
    ) + delimiters.segment
    assert len(isa) == ISA_LENGTH, isa
    out = [
        isa,
        segment(
            "GS", functional_id, _id(parties.application_sender_code, "Application sender code"),
            _id(parties.application_receiver_code, "Application receiver code"),
            f"{created:%Y%m%d}", f"{created:%H%M}", gs06, "X", version,
        ).render(delimiters),
    ]
    seen: set[int] = set()
    for transaction in transactions:
        if transaction.control_number in seen:
            raise ValueError(f"transaction set control number {transaction.control_number} is used twice.")
        seen.add(transaction.control_number)
        st02 = _number(transaction.control_number, 9, "Transaction set control number").zfill(4)
        out.append(segment("ST", transaction.code, st02, version).render(delimiters))
        out.extend(s.render(delimiters) for s in transaction.body)
        out.append(segment("SE", str(len(transaction.body) + 2), st02).render(delimiters))
    out.append(segment("GE", str(len(transactions)), gs06).render(delimiters))
    out.append(segment("IEA", "1", isa13).render(delimiters))
    return "".join(out)
