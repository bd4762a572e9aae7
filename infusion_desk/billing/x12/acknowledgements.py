"""Reading the clearinghouse's answers to our 837P batches: TA1, 999 (005010X231A1) and 277CA (005010X214).

A batch is answered in up to three steps: a TA1 when the envelope itself (ISA/IEA) could not be
read, a 999 saying whether each transaction set (ST…SE) passed the syntax checks, then a 277CA
accepting or rejecting each claim, by our CLM01, before the payer adjudicates it. One file may
hold any mix of these, in several interchanges.

    >>> text = (
    ...     "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     "
    ...     "*261121*1200*^*00501*000000901*0*T*:~"
    ...     "GS*FA*CLEARINGHOUSE*DEMOCLINIC*20261121*1200*901*X*005010X231A1~"
    ...     "ST*999*0001*005010X231A1~AK1*HC*17*005010X222A1~AK2*837*0001*005010X222A1~IK5*A~"
    ...     "AK2*837*0002*005010X222A1~IK3*NM1*12*2010BA*8~CTX*CLM01:C2611004~IK4*9*67*7*XYZ~IK5*R*5~"
    ...     "AK9*P*2*2*1~SE*11*0001~GE*1*901~"
    ...     "GS*HN*CLEARINGHOUSE*DEMOCLINIC*20261122*0800*902*X*005010X214~"
    ...     "ST*277*0001*005010X214~BHT*0085*08*B17*20261122*0800*TH~"
    ...     "HL*1**20*1~NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~TRN*1*T1~DTP*050*D8*20261122~"
    ...     "DTP*009*D8*20261122~HL*2*1*21*1~NM1*41*2*DEMO INFUSION CLINIC*****46*DEMO~TRN*2*B17~"
    ...     "STC*A1:19:PR*20261122*WQ*2150~HL*3*2*19*1~NM1*85*2*DEMO INFUSION CLINIC*****XX*1245319599~"
    ...     "HL*4*3*PT~NM1*QC*1*EXAMPLE*TESTY~TRN*2*C2611003~STC*A7:562:85*20261122*U*2150~"
    ...     "DTP*472*D8*20261103~SE*19*0001~GE*1*902~IEA*2*000000901~"
    ... )
    >>> answer = read_acknowledgements(text)
    >>> (group,) = answer.group_acks
    >>> group.status, [(t.control_number, t.accepted) for t in group.transactions]
    ('P', [('0001', True), ('0002', False)])
    >>> rejected = group.transactions[1]
    >>> rejected.errors[0].claim_number
    'C2611004'
    >>> print(rejected.message)
    Rejected: segment NM1 at position 12 in loop 2010BA of claim C2611004: segment has data element errors...
    >>> print(rejected.errors[0].elements[0].message)
    NM109 (data element 67): invalid code value (sent 'XYZ')
    >>> (claim,) = answer.claim_acks
    >>> claim.claim_number, claim.accepted, claim.charge, claim.service_from
    ('C2611003', False, Decimal('2150.00'), datetime.date(2026, 11, 3))
    >>> print(claim.message)
    Rejected (A7: invalid information): 562 Entity's National Provider Identifier (NPI) — billing provider
    >>> print(claim.statuses[0].message)
    Rejected for invalid information: Entity's National Provider Identifier (NPI) — billing provider

What counts as accepted: a 999 transaction set with IK501 ``A`` or ``E``, a group with AK901
``A``, ``E`` or ``P``, a TA1 with TA104 ``A`` or ``E``. A 277CA claim is rejected when any of its
status categories rejects (A3, A4, A6, A7, A8, E0–E4), accepted when one accepts (A0, A1, A2,
A5), and otherwise follows the action code (STC03 ``WQ`` accepted, ``U`` rejected). The
category verdicts and every status code's wording are data, in
``resources/claim_status_categories.csv`` and ``resources/claim_status_codes.csv`` (X12 code
sources 507 and 508); a code missing there is named as such, never a failure.

Levels above the claims (the submitter's 2200B, a billing provider's 2200C) come back as
:class:`BatchAck`: a 277CA that rejects a whole file or a whole provider lists no claims.
Transactions that are not acknowledgements (an 835, a 271, a claim status 277 that is not a
277CA) are reported in :attr:`AcknowledgementFile.problems` and skipped; a file whose envelope
or acknowledgement structure is broken raises :class:`X12Error`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from types import MappingProxyType

from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.money import money
from infusion_desk.billing.x12.syntax import Segment, TransactionSet, X12Error, is_digits, parse, tokenize

CLAIM_ACK_VERSION = "005010X214"
NOT_IN_TABLE = "not in Infusion Desk's table"

# ----------------------------------------------------------------------------------------------
# Code meanings. TA1, 999 and 997 codes are X12 control-standard elements (names as X12 gives
# them, in sentence case); the 277CA code lists are external and live in resources/.

TA1_ACK_CODES: dict[str, str] = {"A": "Accepted", "E": "Accepted with errors", "R": "Rejected"}
"""TA104, X12 element I17."""

TA1_NOTES: dict[str, str] = {
    "000": "No error",
    "001": "The interchange control number in the header and trailer do not match",
    "002": "This standard as noted in the control standards identifier is not supported",
    "003": "This version of the controls is not supported",
    "004": "The segment terminator is invalid",
    "005": "Invalid interchange ID qualifier for sender",
    "006": "Invalid interchange sender ID",
    "007": "Invalid interchange ID qualifier for receiver",
    "008": "Invalid interchange receiver ID",
    "009": "Unknown interchange receiver ID",
    "010": "Invalid authorization information qualifier value",
    "011": "Invalid authorization information value",
    "012": "Invalid security information qualifier value",
    "013": "Invalid security information value",
    "014": "Invalid interchange date value",
    "015": "Invalid interchange time value",
    "016": "Invalid interchange standards identifier value",
    "017": "Invalid interchange version ID value",
    "018": "Invalid interchange control number value",
    "019": "Invalid acknowledgment requested value",
    "020": "Invalid test indicator value",
    "021": "Invalid number of included groups value",
    "022": "Invalid control structure",
    "023": "Improper (premature) end-of-file (transmission)",
    "024": "Invalid interchange content (e.g., invalid GS segment)",
    "025": "Duplicate interchange control number",
    "026": "Invalid data element separator",
    "027": "Invalid component element separator",
    "028": "Invalid delivery date in deferred delivery request",
    "029": "Invalid delivery time in deferred delivery request",
    "030": "Invalid delivery time code in deferred delivery request",
    "031": "Invalid grade of service code",
}
"""TA105 interchange note codes, X12 element I18."""

SEGMENT_ERRORS: dict[str, str] = {
    "1": "unrecognized segment ID",
    "2": "unexpected segment",
    "3": "required segment missing",
    "4": "loop occurs over maximum times",
    "5": "segment exceeds maximum use",
    "6": "segment not in defined transaction set",
    "7": "segment not in proper sequence",
    "8": "segment has data element errors",
    "I4": 'implementation "not used" segment present',
    "I6": "implementation dependent segment missing",
    "I7": "implementation loop occurs under minimum times",
    "I8": "implementation segment below minimum use",
    "I9": 'implementation dependent "not used" segment present',
}
"""IK304 (and the 997's AK304), X12 element 620."""

ELEMENT_ERRORS: dict[str, str] = {
    "1": "required data element missing",
    "2": "conditional required data element missing",
    "3": "too many data elements",
    "4": "data element too short",
    "5": "data element too long",
    "6": "invalid character in data element",
    "7": "invalid code value",
    "8": "invalid date",
    "9": "invalid time",
    "10": "exclusion condition violated",
    "12": "too many repetitions",
    "13": "too many components",
    "I6": "code value not used in implementation",
    "I9": "implementation dependent data element missing",
    "I10": 'implementation "not used" data element present',
    "I11": "implementation too few repetitions",
    "I12": "implementation pattern match failure",
    "I13": 'implementation dependent "not used" data element present',
}
"""IK403 (and the 997's AK403), X12 element 621."""

TRANSACTION_STATUS: dict[str, str] = {
    "A": "Accepted",
    "E": "Accepted with errors",
    "M": "Rejected (message authentication code failed)",
    "R": "Rejected",
    "W": "Rejected (assurance failed validity tests)",
    "X": "Rejected (content after decryption could not be analyzed)",
}
"""IK501, X12 element 717."""

TRANSACTION_ERRORS: dict[str, str] = {
    "1": "transaction set not supported",
    "2": "transaction set trailer missing",
    "3": "transaction set control number in header and trailer do not match",
    "4": "number of included segments does not match actual count",
    "5": "one or more segments in error",
    "6": "missing or invalid transaction set identifier",
    "7": "missing or invalid transaction set control number",
    "8": "authentication key name unknown",
    "9": "encryption key name unknown",
    "10": "requested service (authentication or encrypted) not available",
    "11": "unknown security recipient",
    "12": "incorrect message length (encryption only)",
    "13": "message authentication code failed",
    "15": "unknown security originator",
    "16": "syntax error in decrypted text",
    "17": "security not supported",
    "18": "transaction set not in functional group",
    "19": "invalid transaction set implementation convention reference",
    "23": "transaction set control number not unique within the functional group",
    "24": "S3E security end segment missing for S3S security start segment",
    "25": "S3S security start segment missing for S3E security end segment",
    "26": "S4E security end segment missing for S4S security start segment",
    "27": "S4S security start segment missing for S4E security end segment",
    "I5": "implementation one or more segments in error",
    "I6": "implementation convention not supported",
}
"""IK502–IK506, X12 element 618."""

GROUP_STATUS: dict[str, str] = {
    "A": "Accepted",
    "E": "Accepted with errors",
    "M": "Rejected (message authentication code failed)",
    "P": "Partially accepted",
    "R": "Rejected",
    "W": "Rejected (assurance failed validity tests)",
    "X": "Rejected (content after decryption could not be analyzed)",
}
"""AK901, X12 element 715."""

GROUP_ERRORS: dict[str, str] = {
    "1": "functional group not supported",
    "2": "functional group version not supported",
    "3": "functional group trailer missing",
    "4": "group control number in the functional group header and trailer do not agree",
    "5": "number of included transaction sets does not match actual count",
    "6": "group control number violates syntax",
    "10": "authentication key name unknown",
    "11": "encryption key name unknown",
    "12": "requested service (authentication or encryption) not available",
    "13": "unknown security recipient",
    "14": "unknown security originator",
    "15": "syntax error in decrypted text",
    "16": "security not supported",
    "17": "incorrect message length (encryption only)",
    "18": "message authentication code failed",
    "19": "functional group control number not unique within interchange",
    "23": "S3E security end segment missing for S3S security start segment",
    "24": "S3S security start segment missing for S3E end segment",
    "25": "S4E security end segment missing for S4S security start segment",
    "26": "S4S security start segment missing for S4E security end segment",
}
"""AK905–AK909, X12 element 716."""

ENTITIES: dict[str, str] = {
    "03": "dependent",
    "1P": "provider",
    "36": "employer",
    "40": "receiver",
    "41": "submitter",
    "71": "attending physician",
    "72": "operating physician",
    "73": "other physician",
    "77": "service location",
    "82": "rendering provider",
    "85": "billing provider",
    "87": "pay-to provider",
    "AY": "clearinghouse",
    "DK": "ordering physician",
    "DN": "referring provider",
    "DQ": "supervising physician",
    "FA": "facility",
    "GB": "other insured",
    "IL": "subscriber",
    "PR": "payer",
    "PRP": "primary payer",
    "QC": "patient",
    "SEP": "secondary payer",
    "TTP": "tertiary payer",
}
"""STC01-3 entity identifier codes (X12 element 98) a clinic's 277CA names."""

_ACCEPTED_SETS = frozenset("AE")
_ACCEPTED_GROUPS = frozenset("AEP")
_OTHER_KINDS = {
    "270": "an eligibility inquiry (270)",
    "271": "an eligibility response (271)",
    "276": "a claim status inquiry (276)",
    "835": "a remittance advice (835)",
    "837": "a claim batch (837)",
}
_997_TAGS = {"AK3": "IK3", "AK4": "IK4", "AK5": "IK5"}
_ACCEPTED_ACTION = "WQ"
_REJECTED_ACTION = "U"
_LEVELS = {"20": "source", "21": "submitter", "19": "billing provider", "PT": "patient"}


# ----------------------------------------------------------------------------------------------
# What the reader returns.


@dataclass(frozen=True, slots=True)
class InterchangeAck:
    """A TA1: the clearinghouse's word on one of our interchanges (ISA…IEA) as a whole."""

    control_number: int
    """TA101: the ISA13 of our interchange it answers."""
    accepted: bool
    """TA104 ``A``, or ``E`` (accepted with errors; the note says which)."""
    note_code: str
    """TA105."""
    message: str
    """The note code in plain English."""


@dataclass(frozen=True, slots=True)
class ElementError:
    """An IK4: one bad data element inside a segment the 999 names."""

    position: str
    """IK401: element position, then ``:component`` and ``:repeat`` when given (``"2"``, ``"5:3"``)."""
    reference: str | None
    """IK402: the X12 data element number (782 is a monetary amount)."""
    code: str
    """IK403."""
    bad_value: str | None
    """IK404: a copy of what we sent."""
    message: str


@dataclass(frozen=True, slots=True)
class SegmentError:
    """An IK3 with its context and element errors."""

    segment_id: str
    position: int
    """IK302: the segment's position in our transaction set, ST being 1."""
    loop: str | None
    code: str
    """IK304."""
    message: str
    claim_number: str | None
    """From ``CTX*CLM01:<our CLM01>``: the claim the error is in."""
    elements: tuple[ElementError, ...]


@dataclass(frozen=True, slots=True)
class TransactionAck:
    """AK2 … IK5: the verdict on one of our transaction sets."""

    transaction_code: str
    """AK201: 837 for a claim batch."""
    control_number: str
    """AK202: our ST02."""
    accepted: bool
    """IK501 ``A`` or ``E``. A rejected set rejects every claim in it."""
    status: str
    """IK501."""
    errors: tuple[SegmentError, ...]
    message: str
    error_codes: tuple[str, ...] = ()
    """IK502–IK506."""


@dataclass(frozen=True, slots=True)
class GroupAck:
    """One 999 transaction: AK1 … AK9, the verdict on one of our functional groups."""

    functional_id: str
    """AK101: HC for claims."""
    group_control_number: int
    """AK102: our GS06."""
    version: str | None
    """AK103: our GS08."""
    status: str
    """AK901: A, E, P (partially accepted) or R."""
    accepted: bool
    """AK901 ``A``, ``E`` or ``P``: at least part of the group got through."""
    transactions: tuple[TransactionAck, ...]
    sets_included: int
    sets_received: int
    sets_accepted: int
    error_codes: tuple[str, ...] = ()
    """AK905–AK909: what was wrong with the group's own envelope."""

    @property
    def message(self) -> str:
        head = GROUP_STATUS.get(self.status, f"Status {self.status}")
        text = f"{head}: {self.sets_accepted} of {self.sets_included} transaction set(s) accepted"
        reasons = [_lookup(GROUP_ERRORS, c, "group error code") for c in self.error_codes]
        return text + ("; " + "; ".join(reasons) if reasons else "") + "."


@dataclass(frozen=True, slots=True)
class ClaimStatus:
    """One status of a claim, line or batch (one STC01, STC10 or STC11 composite)."""

    category: str
    """Code source 507: A1 received, A2 accepted, A3/A6/A7/A8 rejected…"""
    code: str
    """Code source 508: 20 accepted for processing, 562 the entity's NPI…"""
    entity: str | None
    """Whose data the status is about: 85 billing provider, QC patient…"""
    message: str
    """E.g. "Rejected for invalid information: Entity's National Provider Identifier (NPI) — billing
    provider"."""

    @property
    def summary(self) -> str:
        """With the codes, as a biller searches for them: "Rejected (A7: invalid information): 562 …"."""
        category = claim_status_categories().get(self.category)
        if category is None:
            head = f"Status ({self.category}: category {NOT_IN_TABLE})"
        else:
            word = {"accepted": "Accepted", "rejected": "Rejected"}.get(category.verdict, "Status")
            head = f"{word} ({self.category}: {category.short})"
        if not self.code:
            return head + _entity_suffix(self.entity)
        return f"{head}: {_code_text(self.code, with_code=True)}{_entity_suffix(self.entity)}"


@dataclass(frozen=True, slots=True)
class LineAck:
    """A 2220D service line the 277CA comments on (usually because it is the one in error)."""

    line_control_number: str | None
    """REF*FJ: the line item control number we sent in the 837's REF*6R."""
    procedure: str
    """SVC01-2 (a HCPCS/CPT code), or the revenue code SVC04 when there is none."""
    modifiers: tuple[str, ...]
    charge: Decimal | None
    """SVC02."""
    units: Decimal | None
    """SVC07."""
    accepted: bool
    statuses: tuple[ClaimStatus, ...]
    service_from: date | None
    service_to: date | None

    @property
    def message(self) -> str:
        """E.g. "line 11 (J1745-JZ): Rejected (A7: invalid information): 218 NDC number"."""
        code = self.procedure + "".join(f"-{m}" for m in self.modifiers)
        label = f"line {self.line_control_number} ({code})" if self.line_control_number else f"line {code}"
        return f"{label}: " + ("; ".join(s.summary for s in self.statuses) or "no status given")


@dataclass(frozen=True, slots=True)
class ClaimAck:
    """A 2200D claim in a 277CA: accepted into the payer's system, or rejected with the reasons."""

    claim_number: str
    """TRN02 of 2200D: our CLM01."""
    accepted: bool
    statuses: tuple[ClaimStatus, ...]
    payer_claim_control_number: str | None
    """REF*1K: keep it; a replacement or void claim quotes it in REF*F8."""
    clearinghouse_trace: str | None
    """REF*D9."""
    charge: Decimal | None
    """STC04, the total claim charge as received."""
    service_from: date | None
    service_to: date | None
    line_statuses: tuple[LineAck, ...]
    notes: tuple[str, ...] = ()
    """STC12 free-form messages, as the payer wrote them."""
    patient_name: str | None = None
    """2100D NM1*QC, "LAST, FIRST"."""
    billing_provider_npi: str | None = None
    """2100C NM1*85 NM109 of the provider the claim is listed under."""

    @property
    def message(self) -> str:
        """Everything a biller needs to fix the claim, on one line."""
        parts = [s.summary for s in self.statuses] or ["no status given"]
        parts.extend(line.message for line in self.line_statuses if not line.accepted)
        parts.extend(f"payer's note: {note}" for note in self.notes)
        return "; ".join(parts)


@dataclass(frozen=True, slots=True)
class BatchAck:
    """The 277CA's verdict on a level above the claims: our whole file, or one billing provider.

    A rejection here (e.g. ``A3:24:41``, the submitter is not enrolled) covers claims the 277CA
    does not list one by one.
    """

    level: str
    """ "submitter" (2200B) or "billing provider" (2200C)."""
    name: str
    identifier: str | None
    """NM109: our submitter id for 2100B, the billing provider's NPI for 2100C."""
    trace: str | None
    """TRN02: at the submitter level, the BHT03 of the 837 file it answers."""
    accepted: bool | None
    """None when the statuses give no verdict."""
    statuses: tuple[ClaimStatus, ...]
    claims_accepted: int | None
    """QTY*90 (2200B) or QTY*QA (2200C)."""
    claims_rejected: int | None
    """QTY*AA (2200B) or QTY*QC (2200C)."""
    amount_accepted: Decimal | None
    """AMT*YU."""
    amount_rejected: Decimal | None
    """AMT*YY."""

    @property
    def message(self) -> str:
        parts = [s.summary for s in self.statuses]
        counts = []
        if self.claims_accepted is not None:
            counts.append(f"{self.claims_accepted} claim(s) accepted" + _amount_suffix(self.amount_accepted))
        if self.claims_rejected is not None:
            counts.append(f"{self.claims_rejected} claim(s) rejected" + _amount_suffix(self.amount_rejected))
        if counts:
            parts.append(", ".join(counts))
        return "; ".join(parts) or "no status given"


@dataclass(frozen=True, slots=True)
class AcknowledgementFile:
    """Everything in one file the clearinghouse sent back."""

    interchange_acks: tuple[InterchangeAck, ...]
    group_acks: tuple[GroupAck, ...]
    """From 999s (and 4010-style 997s)."""
    claim_acks: tuple[ClaimAck, ...]
    """From 277CAs."""
    problems: tuple[str, ...]
    """What was reported rather than read: other kinds of transaction, a 277 that is not a 277CA…"""
    batch_acks: tuple[BatchAck, ...] = ()
    """277CA verdicts on the submitter and billing provider levels."""


# ----------------------------------------------------------------------------------------------
# The 277CA code tables (resources/).


@dataclass(frozen=True, slots=True)
class StatusCategory:
    code: str
    verdict: str
    """accepted, rejected or other (not an acknowledgement verdict: pending, finalized…)."""
    label: str
    short: str
    description: str
    """The X12 code list's own wording."""


@cache
def claim_status_categories() -> Mapping[str, StatusCategory]:
    """Code source 507, from ``resources/claim_status_categories.csv``."""
    rows = csv.DictReader(io.StringIO(read_resource_text("claim_status_categories.csv")))
    table = {
        row["code"].strip(): StatusCategory(
            row["code"].strip(),
            row["verdict"].strip(),
            row["label"].strip(),
            row["short"].strip(),
            row["description"].strip(),
        )
        for row in rows
    }
    return MappingProxyType(table)


@cache
def claim_status_codes() -> Mapping[str, str]:
    """Code source 508, from ``resources/claim_status_codes.csv``: code → wording."""
    rows = csv.DictReader(io.StringIO(read_resource_text("claim_status_codes.csv")))
    return MappingProxyType({row["code"].strip(): row["description"].strip() for row in rows})


def _code_text(code: str, *, with_code: bool) -> str:
    wording = claim_status_codes().get(code.lstrip("0") or "0")
    if wording is None:
        return f"status code {code} ({NOT_IN_TABLE})"
    wording = wording.rstrip(".")
    return f"{code} {wording}" if with_code else wording


def _entity_suffix(entity: str | None) -> str:
    if not entity:
        return ""
    return f" — {ENTITIES.get(entity, f'entity {entity}')}"


def _amount_suffix(amount: Decimal | None) -> str:
    return f" (${amount:,})" if amount is not None else ""


def claim_status(category: str, code: str, entity: str | None) -> ClaimStatus:
    """One STC composite, described from the code tables."""
    found = claim_status_categories().get(category)
    label = found.label if found else f"Status category {category} ({NOT_IN_TABLE})"
    text = label if not code else f"{label}: {_code_text(code, with_code=False)}"
    return ClaimStatus(category, code, entity, text + _entity_suffix(entity))


def _verdict(statuses: Iterable[ClaimStatus], actions: Iterable[str]) -> bool | None:
    categories = claim_status_categories()
    verdicts = {categories[s.category].verdict for s in statuses if s.category in categories}
    if "rejected" in verdicts:
        return False
    if "accepted" in verdicts:
        return True
    action_codes = set(actions)
    if _REJECTED_ACTION in action_codes:
        return False
    if _ACCEPTED_ACTION in action_codes:
        return True
    return None


# ----------------------------------------------------------------------------------------------
# Small readers.


def _lookup(table: Mapping[str, str], code: str, what: str) -> str:
    return table.get(code, f"{what} {code} ({NOT_IN_TABLE})")


def _int(seg: Segment, position: int, what: str) -> int:
    value = seg.element(position).strip()
    if not is_digits(value):
        raise X12Error(
            f"{seg.tag}{position:02d} ({what}) must be a number, not {value!r}.", seg.number, seg.tag
        )
    return int(value)


def _amount(seg: Segment, position: int) -> Decimal | None:
    value = seg.element(position).strip()
    if not value:
        return None
    try:
        return money(value)
    except (ValueError, InvalidOperation):
        raise X12Error(f"{seg.tag}{position:02d} {value!r} is not an amount.", seg.number, seg.tag) from None


def _number(seg: Segment, position: int) -> Decimal | None:
    value = seg.element(position).strip()
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise X12Error(f"{seg.tag}{position:02d} {value!r} is not a number.", seg.number, seg.tag)
    return number


def _date(value: str, seg: Segment) -> date | None:
    try:
        day = datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 - a date, not a time
    except ValueError:
        raise X12Error(f"{value!r} is not a CCYYMMDD date.", seg.number, seg.tag) from None
    # Some payers send 10010101 when they have no date to give (eMedNY's samples do).
    return day if day.year >= 1900 else None


def _dates(seg: Segment) -> tuple[date | None, date | None]:
    """DTP03 of a DTP*472, D8 (one day) or RD8 (a range)."""
    qualifier, value = seg.element(2), seg.element(3).strip()
    if qualifier == "RD8":
        start, _, end = value.partition("-")
        if not end:
            raise X12Error(f"{value!r} is not a CCYYMMDD-CCYYMMDD date range.", seg.number, seg.tag)
        return _date(start, seg), _date(end, seg)
    if qualifier == "D8":
        day = _date(value, seg)
        return day, day
    raise X12Error(f"DTP02 {qualifier!r} is not a date format (D8 or RD8).", seg.number, seg.tag)


def _name(seg: Segment) -> str:
    last, first = seg.element(3).strip(), seg.element(4).strip()
    return f"{last}, {first}" if first else last


# ----------------------------------------------------------------------------------------------
# TA1


def _interchange_ack(seg: Segment) -> InterchangeAck:
    control = seg.element(1).strip()
    if not is_digits(control):
        raise X12Error(
            f"TA101 (the interchange control number answered) must be digits, not {control!r}.",
            seg.number,
            "TA1",
        )
    code = seg.element(4).strip().upper()
    if code not in TA1_ACK_CODES:
        raise X12Error(f"TA104 {code!r} is not A, E or R.", seg.number, "TA1")
    note = seg.element(5).strip()
    return InterchangeAck(
        control_number=int(control),
        accepted=code in ("A", "E"),
        note_code=note,
        message=_lookup(TA1_NOTES, note, "TA1 note code") if note else TA1_ACK_CODES[code],
    )


def _interchange_acks(text: str) -> list[list[InterchangeAck]]:
    """The TA1 segments of each interchange, found at its own level (outside any GS…GE group).

    The envelope reader steps over a TA1 between ISA and GS without keeping it, so they are
    picked up here from the segments.
    """
    found: list[list[InterchangeAck]] = []
    in_group = False
    for seg in tokenize(text):
        if seg.tag == "ISA":
            found.append([])
        elif seg.tag == "GS":
            in_group = True
        elif seg.tag == "GE":
            in_group = False
        elif seg.tag == "TA1" and not in_group and found:
            found[-1].append(_interchange_ack(seg))
    return found


# ----------------------------------------------------------------------------------------------
# 999 (and 997)


@dataclass
class _SegmentDraft:
    ik3: Segment
    claim_number: str | None = None
    triggers: list[str] = field(default_factory=list)
    elements: list[ElementError] = field(default_factory=list)

    def finish(self) -> SegmentError:
        seg = self.ik3
        segment_id = seg.element(1).strip()
        position = _int(seg, 2, "the segment position")
        loop = seg.element(3).strip() or None
        code = seg.element(4).strip()
        where = f"segment {segment_id} at position {position}"
        if loop:
            where += f" in loop {loop}"
        if self.claim_number:
            where += f" of claim {self.claim_number}"
        text = f"{where}: {_lookup(SEGMENT_ERRORS, code, 'segment error code')}" if code else where
        if self.triggers:
            text += f" ({'; '.join(self.triggers)})"
        if self.elements:
            text += " — " + "; ".join(e.message for e in self.elements)
        return SegmentError(segment_id, position, loop, code, text, self.claim_number, tuple(self.elements))


def _element_error(ik4: Segment, segment_id: str) -> ElementError:
    parts = [p.strip() for p in ik4.components(1)]
    if not parts or not is_digits(parts[0]):
        raise X12Error(
            f"IK401 (the element position) must be a number, not {ik4.element(1)!r}.", ik4.number, ik4.tag
        )
    name = f"{segment_id}{int(parts[0]):02d}"
    if len(parts) > 1 and is_digits(parts[1]):
        name += f"-{int(parts[1])}"
    reference = ik4.element(2).strip() or None
    code = ik4.element(3).strip()
    bad = ik4.element(4) or None
    text = name + (f" (data element {reference})" if reference else "")
    text += f": {_lookup(ELEMENT_ERRORS, code, 'element error code')}"
    if bad is not None:
        text += f" (sent {bad!r})"
    return ElementError(":".join(p for p in parts if p), reference, code, bad, text)


def _context(ctx: Segment) -> tuple[str | None, str | None]:
    """A CTX as (claim number, trigger text): ``CTX*CLM01:<id>`` or ``CTX*SITUATIONAL TRIGGER*…``."""
    name = ctx.components(1)
    first = name[0].strip().upper() if name else ""
    if first == "SITUATIONAL TRIGGER":
        trigger = ctx.element(2).strip()
        position = ctx.element(3).strip()
        where = ctx.components(5)
        if where and is_digits(where[0].strip()):
            trigger += f"{int(where[0]):02d}"
            if len(where) > 1 and is_digits(where[1].strip()):
                trigger += f"-{int(where[1])}"
        return None, f"required because of {trigger} at position {position}" if position else None
    if first == "CLM01" and len(name) > 1 and name[1].strip():
        return name[1].strip(), None
    return None, None


def _transaction_message(status: str, errors: Sequence[SegmentError], codes: Sequence[str]) -> str:
    head = TRANSACTION_STATUS.get(status, f"Status {status} ({NOT_IN_TABLE})")
    details = [e.message for e in errors]
    if not details:
        details = [_lookup(TRANSACTION_ERRORS, c, "error code") for c in codes]
    return f"{head}: {'; '.join(details)}." if details else f"{head}."


@dataclass
class _SetDraft:
    ak2: Segment
    segments: list[SegmentError] = field(default_factory=list)
    current: _SegmentDraft | None = None

    def close_segment(self) -> None:
        if self.current is not None:
            self.segments.append(self.current.finish())
            self.current = None

    def finish(self, ik5: Segment) -> TransactionAck:
        self.close_segment()
        status = ik5.element(1).strip().upper()
        if not status:
            raise X12Error("IK501 (the transaction set's verdict) is empty.", ik5.number, ik5.tag)
        codes = tuple(c.strip() for c in ik5.elements[2:7] if c.strip())
        return TransactionAck(
            transaction_code=self.ak2.element(1).strip(),
            control_number=self.ak2.element(2).strip(),
            accepted=status in _ACCEPTED_SETS,
            status=status,
            errors=tuple(self.segments),
            message=_transaction_message(status, self.segments, codes),
            error_codes=codes,
        )


def _unfinished(draft: _SetDraft) -> str:
    ak2 = draft.ak2
    return f"transaction set {ak2.element(2)} (AK2 at segment {ak2.number}) has no verdict (IK5)"


def _group_ack(transaction: TransactionSet, problems: list[str]) -> GroupAck:
    ak1: Segment | None = None
    ak9: Segment | None = None
    done: list[TransactionAck] = []
    open_set: _SetDraft | None = None
    for seg in transaction.segments[1:-1]:
        tag = _997_TAGS.get(seg.tag, seg.tag)
        if ak9 is not None:
            raise X12Error(f"{seg.tag} follows AK9, which ends the acknowledgement.", seg.number, seg.tag)
        if tag == "AK1":
            if ak1 is not None:
                raise X12Error("a second AK1 in one acknowledgement.", seg.number, seg.tag)
            ak1 = seg
            continue
        if ak1 is None:
            raise X12Error(f"{seg.tag} comes before AK1 (which group is acknowledged).", seg.number, seg.tag)
        if tag == "AK2":
            if open_set is not None:
                raise X12Error(f"{_unfinished(open_set)} before the next AK2.", seg.number, seg.tag)
            open_set = _SetDraft(seg)
        elif tag == "AK9":
            if open_set is not None:
                raise X12Error(f"{_unfinished(open_set)} before AK9.", seg.number, seg.tag)
            ak9 = seg
        elif open_set is None:
            raise X12Error(f"{seg.tag} appears outside an AK2 transaction set response.", seg.number, seg.tag)
        elif tag == "IK3":
            open_set.close_segment()
            open_set.current = _SegmentDraft(seg)
        elif tag == "IK4":
            if open_set.current is None:
                raise X12Error(f"{seg.tag} appears without the segment error (IK3) it belongs to.",
                               seg.number, seg.tag)
            open_set.current.elements.append(_element_error(seg, open_set.current.ik3.element(1).strip()))
        elif tag == "CTX":
            if open_set.current is None:
                continue  # a context with no segment error to attach to says nothing we can use
            claim, trigger = _context(seg)
            if claim and open_set.current.claim_number is None:
                open_set.current.claim_number = claim
            if trigger:
                open_set.current.triggers.append(trigger)
        elif tag == "IK5":
            done.append(open_set.finish(seg))
            open_set = None
        else:
            problems.append(
                f"segment {seg.number} ({seg.tag}) is not part of a {transaction.code} acknowledgement; "
                "it was ignored."
            )
    if ak1 is None:
        raise X12Error(
            f"the {transaction.code} (set {transaction.control_number}) has no AK1: it names no group.",
            transaction.segments[-1].number,
            "SE",
        )
    if open_set is not None:
        end = transaction.segments[-1].number
        raise X12Error(f"{_unfinished(open_set)}: the acknowledgement is incomplete.", end, "SE")
    if ak9 is None:
        raise X12Error(
            f"the {transaction.code} (set {transaction.control_number}) has no AK9 verdict for the group.",
            transaction.segments[-1].number,
            "SE",
        )
    status = ak9.element(1).strip().upper()
    return GroupAck(
        functional_id=ak1.element(1).strip(),
        group_control_number=_int(ak1, 2, "the group control number"),
        version=ak1.element(3).strip() or None,
        status=status,
        accepted=status in _ACCEPTED_GROUPS,
        transactions=tuple(done),
        sets_included=_int(ak9, 2, "the number of transaction sets included"),
        sets_received=_int(ak9, 3, "the number of transaction sets received"),
        sets_accepted=_int(ak9, 4, "the number of transaction sets accepted"),
        error_codes=tuple(c.strip() for c in ak9.elements[5:10] if c.strip()),
    )


# ----------------------------------------------------------------------------------------------
# 277CA


@dataclass
class _Statuses:
    statuses: list[ClaimStatus] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    charge: Decimal | None = None
    notes: list[str] = field(default_factory=list)

    def add(self, stc: Segment) -> None:
        found = []
        for position in (1, 10, 11):
            parts = [p.strip().upper() for p in stc.components(position)]
            if not parts or not parts[0]:
                continue
            code = parts[1] if len(parts) > 1 else ""
            entity = parts[2] if len(parts) > 2 and parts[2] else None
            found.append(claim_status(parts[0], code, entity))
        if not found:
            raise X12Error("STC01 (the status) is empty.", stc.number, "STC")
        self.statuses.extend(found)
        if stc.element(3).strip():
            self.actions.append(stc.element(3).strip().upper())
        if self.charge is None:
            self.charge = _amount(stc, 4)
        if stc.element(12).strip():
            self.notes.append(stc.element(12).strip())


@dataclass
class _LineDraft:
    svc: Segment
    statuses: _Statuses = field(default_factory=_Statuses)
    control: str | None = None
    dates: tuple[date | None, date | None] = (None, None)

    def finish(self, claim_verdict: bool) -> LineAck:
        parts = [p.strip() for p in self.svc.components(1)]
        procedure = parts[1] if len(parts) > 1 else ""
        verdict = _verdict(self.statuses.statuses, self.statuses.actions)
        return LineAck(
            line_control_number=self.control,
            procedure=procedure or self.svc.element(4).strip(),
            modifiers=tuple(m for m in parts[2:6] if m),
            charge=_amount(self.svc, 2),
            units=_number(self.svc, 7),
            accepted=claim_verdict if verdict is None else verdict,
            statuses=tuple(self.statuses.statuses),
            service_from=self.dates[0],
            service_to=self.dates[1],
        )


@dataclass
class _ClaimDraft:
    trn: Segment
    patient_name: str | None
    provider_npi: str | None
    statuses: _Statuses = field(default_factory=_Statuses)
    refs: dict[str, str] = field(default_factory=dict)
    dates: tuple[date | None, date | None] = (None, None)
    lines: list[_LineDraft] = field(default_factory=list)

    def finish(self, problems: list[str]) -> ClaimAck:
        number = self.trn.element(2).strip()
        verdict = _verdict(self.statuses.statuses, self.statuses.actions)
        if verdict is None:
            problems.append(
                f"claim {number} (segment {self.trn.number}) has no acknowledgement status Infusion Desk "
                "recognises; it is treated as not accepted."
            )
        accepted = bool(verdict)
        return ClaimAck(
            claim_number=number,
            accepted=accepted,
            statuses=tuple(self.statuses.statuses),
            payer_claim_control_number=self.refs.get("1K"),
            clearinghouse_trace=self.refs.get("D9"),
            charge=self.statuses.charge,
            service_from=self.dates[0],
            service_to=self.dates[1],
            line_statuses=tuple(line.finish(accepted) for line in self.lines),
            notes=tuple(self.statuses.notes),
            patient_name=self.patient_name,
            billing_provider_npi=self.provider_npi,
        )


@dataclass
class _BatchDraft:
    level: str
    name: str = ""
    identifier: str | None = None
    trace: str | None = None
    statuses: _Statuses = field(default_factory=_Statuses)
    quantities: dict[str, int] = field(default_factory=dict)
    amounts: dict[str, Decimal | None] = field(default_factory=dict)

    def read(self, seg: Segment) -> None:
        if seg.tag == "NM1":
            self.name = _name(seg)
            self.identifier = seg.element(9).strip() or None
        elif seg.tag == "TRN" and self.trace is None:
            self.trace = seg.element(2).strip() or None
        elif seg.tag == "STC":
            self.statuses.add(seg)
        elif seg.tag == "QTY":
            self.quantities[seg.element(1).strip()] = _int(seg, 2, "a quantity")
        elif seg.tag == "AMT":
            self.amounts[seg.element(1).strip()] = _amount(seg, 2)

    def finish(self) -> BatchAck:
        return BatchAck(
            level=self.level,
            name=self.name,
            identifier=self.identifier,
            trace=self.trace,
            accepted=_verdict(self.statuses.statuses, self.statuses.actions),
            statuses=tuple(self.statuses.statuses),
            claims_accepted=self.quantities.get("90", self.quantities.get("QA")),
            claims_rejected=self.quantities.get("AA", self.quantities.get("QC")),
            amount_accepted=self.amounts.get("YU"),
            amount_rejected=self.amounts.get("YY"),
        )


class _ClaimAckReader:
    """Walks one 277CA's HL levels: 20 source, 21 submitter, 19 billing provider, PT patient."""

    def __init__(self, transaction: TransactionSet, problems: list[str]) -> None:
        self.transaction = transaction
        self.problems = problems
        self.claims: list[ClaimAck] = []
        self.batches: list[BatchAck] = []
        self.level: str | None = None
        self.batch: _BatchDraft | None = None
        self.claim: _ClaimDraft | None = None
        self.line: _LineDraft | None = None
        self.patient: str | None = None
        self.provider_npi: str | None = None

    def read(self) -> None:
        for seg in self.transaction.segments[1:-1]:
            if seg.tag == "HL":
                self._close()
                self._level(seg)
            elif self.level in ("submitter", "billing provider") and self.batch is not None:
                self.batch.read(seg)
                if seg.tag == "NM1" and self.level == "billing provider":
                    self.provider_npi = self.batch.identifier
            elif self.level == "patient":
                self._patient(seg)
        self._close()

    def _level(self, hl: Segment) -> None:
        code = hl.element(3).strip().upper()
        self.level = _LEVELS.get(code)
        if self.level is None:
            self.problems.append(
                f"segment {hl.number}: HL level {code!r} is not a 277CA level (20, 21, 19 or PT); "
                "what follows it up to the next HL was skipped."
            )
        elif self.level in ("submitter", "billing provider"):
            self.batch = _BatchDraft(self.level)
            if self.level == "submitter":
                self.provider_npi = None
        elif self.level == "patient":
            self.patient = None

    def _close(self) -> None:
        self._close_claim()
        if self.batch is not None:
            if self.batch.statuses.statuses:
                self.batches.append(self.batch.finish())
            self.batch = None

    def _close_claim(self) -> None:
        if self.claim is not None:
            if self.line is not None:
                self.claim.lines.append(self.line)
            self.claims.append(self.claim.finish(self.problems))
        self.claim = None
        self.line = None

    def _patient(self, seg: Segment) -> None:
        tag = seg.tag
        if tag == "NM1" and self.claim is None:
            self.patient = _name(seg) or None
            return
        if tag == "TRN":
            self._close_claim()
            if not seg.element(2).strip():
                raise X12Error("TRN02 (our claim number) is empty.", seg.number, "TRN")
            self.claim = _ClaimDraft(seg, self.patient, self.provider_npi)
            return
        if self.claim is None:
            self.problems.append(
                f"segment {seg.number} ({tag}) comes before the claim's TRN (its claim number); "
                "it was ignored."
            )
            return
        if tag == "SVC":
            if self.line is not None:
                self.claim.lines.append(self.line)
            self.line = _LineDraft(seg)
        elif tag == "STC":
            (self.line or self.claim).statuses.add(seg)
        elif tag == "REF":
            qualifier, value = seg.element(1).strip().upper(), seg.element(2).strip()
            if self.line is not None:
                if qualifier == "FJ":
                    self.line.control = value or None
            else:
                self.claim.refs.setdefault(qualifier, value)
        elif tag == "DTP" and seg.element(1) == "472":
            (self.line or self.claim).dates = _dates(seg)


def _is_claim_ack(transaction: TransactionSet) -> bool:
    if transaction.version.startswith(CLAIM_ACK_VERSION):
        return True
    if transaction.version:
        return False
    bht = next((s for s in transaction.segments if s.tag == "BHT"), None)
    return bht is not None and bht.element(6).strip() == "TH"


# ----------------------------------------------------------------------------------------------
# The file.


def read_acknowledgements(text: str) -> AcknowledgementFile:
    """Every TA1, 999 and 277CA answer in ``text``; :class:`X12Error` when the file is not readable."""
    interchanges = parse(text)
    problems: list[str] = []
    groups: list[GroupAck] = []
    claims: list[ClaimAck] = []
    batches: list[BatchAck] = []
    ta1s = _interchange_acks(text)
    for interchange, own_ta1s in zip(interchanges, ta1s, strict=True):
        if not interchange.groups and not own_ta1s:
            problems.append(f"interchange {interchange.control_number} holds no acknowledgement.")
        for group in interchange.groups:
            for transaction in group.transactions:
                start = transaction.segments[0].number
                where = f"transaction set {transaction.control_number} (segment {start})"
                if transaction.code in ("999", "997"):
                    groups.append(_group_ack(transaction, problems))
                elif transaction.code == "277" and _is_claim_ack(transaction):
                    reader = _ClaimAckReader(transaction, problems)
                    reader.read()
                    claims.extend(reader.claims)
                    batches.extend(reader.batches)
                elif transaction.code == "277":
                    problems.append(
                        f"{where} is a claim status response (277, {transaction.version or 'no version'}), "
                        f"not a claim acknowledgement ({CLAIM_ACK_VERSION}); it was skipped."
                    )
                else:
                    kind = _OTHER_KINDS.get(transaction.code, f"a {transaction.code} transaction")
                    problems.append(f"{where} is {kind}, not an acknowledgement; it was skipped.")
    return AcknowledgementFile(
        interchange_acks=tuple(a for acks in ta1s for a in acks),
        group_acks=tuple(groups),
        claim_acks=tuple(claims),
        problems=tuple(problems),
        batch_acks=tuple(batches),
    )
