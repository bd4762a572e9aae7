r"""Professional claims as an X12 837P (005010X222A1) batch for the clearinghouse.

    >>> from infusion_desk.billing.claim_data import (
    ...     Address, BillingProvider, ClaimLineData, Ndc, PatientData, PayerData, PersonName)
    >>> clinic = BillingProvider("Demo Infusion Clinic", "1245319599", "123456789", "261QI0500X",
    ...                          Address("100 Main St", "Springfield", "IL", "627011234"))
    >>> patient = PatientData(PersonName("Testpatient", "Zebulon"), date(1960, 1, 2), "M",
    ...                       Address("1 Elm St", "Springfield", "IL", "62701"), "MRN0007")
    >>> holder = Subscriber(patient.name, "XYZ123456", patient.birth_date, "M", patient.address, "GRP1")
    >>> claim = ClaimData(
    ...     "C0000042", "P", "1", "11", clinic, PayerData("Fictional Health Plan", "FHP01"), holder, "18",
    ...     patient, "CI", ("K5090",),
    ...     (ClaimLineData(1, "C0000042L01", date(2026, 11, 2), "96365", Decimal(1), Decimal("350.00"), (1,)),
    ...      ClaimLineData(2, "C0000042L02", date(2026, 11, 2), "J1745", Decimal(40), Decimal("3200.00"),
    ...                    (1,), ("JZ",), Ndc("57894003001", Decimal(4), "UN"))))
    >>> claim_problems(claim)
    ()
    >>> text = write_837p(
    ...     [claim], parties=Parties("ZZ", "DEMOCLINIC", "ZZ", "CLEARHOUSE", "DEMOCLINIC", "CLEARHOUSE"),
    ...     submitter=Submitter("Demo Infusion Clinic", "DEMOCLINIC", "Billing Office", "2175550100"),
    ...     receiver=Receiver("Clear House", "CLEARHOUSE"), interchange_control_number=42,
    ...     group_control_number=42, transaction_control_number=1, reference="B000000042",
    ...     created=datetime(2026, 11, 20, 9, 30), production=False)
    >>> print(text.replace("~", "~\n"))
    ISA*00*          *00*          *ZZ*DEMOCLINIC     *ZZ*CLEARHOUSE     *261120*0930*^*00501*000000042*0*T*:~
    GS*HC*DEMOCLINIC*CLEARHOUSE*20261120*0930*42*X*005010X222A1~
    ST*837*0001*005010X222A1~
    BHT*0019*00*B000000042*20261120*0930*CH~
    NM1*41*2*DEMO INFUSION CLINIC*****46*DEMOCLINIC~
    PER*IC*BILLING OFFICE*TE*2175550100~
    NM1*40*2*CLEAR HOUSE*****46*CLEARHOUSE~
    HL*1**20*1~
    PRV*BI*PXC*261QI0500X~
    NM1*85*2*DEMO INFUSION CLINIC*****XX*1245319599~
    N3*100 MAIN ST~
    N4*SPRINGFIELD*IL*627011234~
    REF*EI*123456789~
    HL*2*1*22*0~
    SBR*P*18*GRP1******CI~
    NM1*IL*1*TESTPATIENT*ZEBULON****MI*XYZ123456~
    N3*1 ELM ST~
    N4*SPRINGFIELD*IL*62701~
    DMG*D8*19600102*M~
    NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~
    CLM*C0000042*3550***11:B:1*Y*A*Y*Y~
    REF*EA*MRN0007~
    HI*ABK:K5090~
    LX*1~
    SV1*HC:96365*350*UN*1***1~
    DTP*472*D8*20261102~
    REF*6R*C0000042L01~
    LX*2~
    SV1*HC:J1745:JZ*3200*UN*40***1~
    DTP*472*D8*20261102~
    REF*6R*C0000042L02~
    LIN**N4*57894003001~
    CTP****4*UN~
    SE*32*0001~
    GE*1*42~
    IEA*1*000000042~
    <BLANKLINE>

A claim the 837P cannot carry is refused with the reason and the fix, before anything is written:

    >>> from dataclasses import replace
    >>> for problem in claim_problems(replace(claim, claim_number="C42*7", frequency_code="7")):
    ...     print(problem)  # doctest: +NORMALIZE_WHITESPACE
    The claim number 'C42*7' contains an X12 delimiter (* ~ : ^). Use letters, digits and hyphens only.
    A replacement claim (frequency 7) must name the claim it replaces: enter the payer's claim
    number (ICN from the remittance or the 277CA) as the payer claim control number.

The file is one interchange, one functional group and one transaction set: a billing
provider loop (2000A) for each distinct billing provider, then one subscriber loop
(2000B) per claim, with a patient loop (2000C) when the patient is not the subscriber.
Amounts carry no trailing zeros (``3550``, ``12.5``), every text value is cleaned for
the X12 character set, and :func:`claim_problems` lists what the writer refuses: too
many lines, diagnoses, pointers or modifiers, a bad claim number, a replacement or
void without the payer's claim number, codes X12 does not allow, and secondary claims
whose coordination of benefits does not balance (per other payer: each line's charge
minus its adjustments is what that payer paid on it, and the claim's charge minus every
adjustment is what it paid on the claim).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from infusion_desk.billing.claim_data import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimData,
    LineAdjudication,
    OtherPayer,
    PersonName,
    Provider,
    Subscriber,
)
from infusion_desk.billing.x12.envelope import Parties, Transaction, clean, segment, write_interchange

__all__ = ["VERSION", "Receiver", "Submitter", "claim_problems", "write_837p"]

VERSION = "005010X222A1"
MAX_LINES = 50
MAX_DIAGNOSES = 12
MAX_POINTERS = 4
MAX_MODIFIERS = 4
MAX_CLAIM_NUMBER = 20
MAX_LINE_CONTROL_NUMBER = 50
MAX_DESCRIPTION = 80
MAX_REFERENCE = 50
MAX_OTHER_PAYERS = 10
MAX_LINE_ADJUDICATIONS = 15
CAS_TRIPLETS = 6
"""Reason/amount/quantity triplets one CAS segment holds."""
MAX_CAS_SEGMENTS = 5
"""CAS segments a 2320 or a 2430 loop holds."""

FREQUENCIES = {"1": "original", "7": "replacement", "8": "void"}
RESPONSIBILITY_CODES = frozenset("ABCDEFGHPSTU")
PATIENT_RELATIONSHIPS = frozenset({"01", "19", "20", "21", "39", "40", "53", "G8"})
"""PAT01 in 2000C: the patient is not the subscriber (``18`` goes in SBR02 instead)."""
OTHER_RELATIONSHIPS = PATIENT_RELATIONSHIPS | {"18"}
FILING_INDICATORS = frozenset(
    "11 12 13 14 15 16 17 AM BL CH CI DS FI HM LM MA MB MC OF TV".split()
)
"""SBR09 claim filing indicator codes the X222A1 TR3 allows."""
MEDICARE_SECONDARY_TYPES = frozenset({"12", "13", "14", "15", "16", "41", "42", "43", "47"})
SEXES = frozenset({"F", "M", "U"})
NDC_UNITS = frozenset({"F2", "GR", "ME", "ML", "UN"})
ADJUSTMENT_GROUPS = frozenset({"CO", "CR", "OA", "PI", "PR"})
RELEASE_CODES = frozenset({"I", "Y"})
_DELIMITERS = "*~:^"


@dataclass(frozen=True, slots=True)
class Submitter:
    """Loop 1000A: who sends the file (the clinic, with the ETIN the clearinghouse assigned)."""

    name: str
    identifier: str
    """NM109: the ETIN; we pass the ISA sender id."""
    contact_name: str
    phone: str
    """Digits only."""


@dataclass(frozen=True, slots=True)
class Receiver:
    """Loop 1000B: the clearinghouse (or payer) receiving the file."""

    name: str
    identifier: str


# -- what the writer refuses ------------------------------------------------------------------


def _blank_problems(claim: ClaimData) -> list[str]:
    required: list[tuple[str | None, str]] = [
        (claim.billing.name, "the billing provider's name (Clinic settings)"),
        (claim.billing.npi, "the billing provider's NPI (Clinic settings)"),
        (claim.billing.tin, "the billing provider's tax ID (Clinic settings)"),
        (claim.payer.name, "the payer's name (Payers)"),
        (claim.payer.payer_id, "the payer's clearinghouse payer ID (Payers)"),
        (claim.subscriber.name.last, "the subscriber's last name (the patient's policy)"),
        (claim.subscriber.member_id, "the subscriber's member ID (the patient's policy)"),
        (claim.patient.name.last, "the patient's last name (the patient's record)"),
    ]
    required += _address_fields(claim.billing.address, "the billing provider's", "Clinic settings")
    if not claim.patient_is_subscriber:
        required += _address_fields(claim.patient.address, "the patient's", "the patient's record")
    for other in claim.other_payers:
        where = f"other payer {other.payer.name or other.payer.payer_id}"
        required += [
            (other.payer.name, f"the name of {where}"),
            (other.payer.payer_id, f"the payer ID of {where}"),
            (other.subscriber.name.last, f"the subscriber's last name at {where}"),
            (other.subscriber.member_id, f"the subscriber's member ID at {where}"),
        ]
    return [
        f"{what[0].upper()}{what[1:]} is empty once characters X12 cannot carry are removed. Enter it."
        for value, what in required
        if not _text(value or "")
    ]


def _address_fields(address: Address, whose: str, where: str) -> list[tuple[str | None, str]]:
    return [
        (address.line1, f"{whose} street address ({where})"),
        (address.city, f"{whose} city ({where})"),
        (address.state, f"{whose} state ({where})"),
        (address.zip_code, f"{whose} ZIP code ({where})"),
    ]


def _code_problems(claim: ClaimData) -> list[str]:
    out: list[str] = []
    if claim.frequency_code not in FREQUENCIES:
        out.append(
            f"Frequency code {claim.frequency_code!r} is not 1 (original), 7 (replacement) or 8 (void). "
            "Pick one of those."
        )
    if claim.responsibility not in RESPONSIBILITY_CODES:
        out.append(
            f"Payer responsibility {claim.responsibility!r} is not P (primary), S (secondary) or "
            "T (tertiary). Set the policy's rank."
        )
    if claim.relationship_code != "18" and claim.relationship_code not in PATIENT_RELATIONSHIPS:
        out.append(
            f"Relationship code {claim.relationship_code!r} is not an X12 code (18 self, 01 spouse, "
            "19 child, G8 other...). Set the patient's relationship to the subscriber on the policy."
        )
    if claim.filing_indicator not in FILING_INDICATORS:
        out.append(
            f"Claim filing indicator {claim.filing_indicator!r} is not an X12 code (CI commercial, "
            "MB Medicare Part B, MC Medicaid, BL Blue Cross...). Set it on the patient's policy."
        )
    if claim.medicare_secondary_type is not None and claim.medicare_secondary_type not in (
        MEDICARE_SECONDARY_TYPES
    ):
        out.append(
            f"Medicare secondary type {claim.medicare_secondary_type!r} is not one of "
            f"{', '.join(sorted(MEDICARE_SECONDARY_TYPES))}. Correct it on the Medicare policy."
        )
    if len(claim.place_of_service) != 2 or not claim.place_of_service.isdigit():
        out.append(
            f"Place of service {claim.place_of_service!r} must be a two-digit code (11 office, "
            "12 home, 19 or 22 outpatient hospital). Correct the visit's place of service."
        )
    sexes = [("patient", claim.patient.sex), ("subscriber", claim.subscriber.sex)]
    out += [
        f"The {who}'s sex {sex!r} must be F, M or U. Correct it in the {who}'s record."
        for who, sex in sexes
        if sex not in SEXES
    ]
    if claim.signatures.release_of_information not in RELEASE_CODES:
        out.append(
            f"Release of information {claim.signatures.release_of_information!r} must be Y (signed "
            "release on file) or I (informed consent). Correct the patient's signature on file."
        )
    return out


def _identifier_problems(claim: ClaimData) -> list[str]:
    out: list[str] = []
    number = claim.claim_number
    if not number.strip():
        out.append("The claim number is empty. Build the claim again to number it.")
    elif len(number) > MAX_CLAIM_NUMBER:
        out.append(
            f"The claim number {number!r} is {len(number)} characters; the 837P allows {MAX_CLAIM_NUMBER}. "
            "Use a shorter claim number."
        )
    if any(ch in number for ch in _DELIMITERS):
        out.append(
            f"The claim number {number!r} contains an X12 delimiter (* ~ : ^). "
            "Use letters, digits and hyphens only."
        )
    elif number.strip() and _text(number) != number:
        out.append(
            f"The claim number {number!r} would change when written ({clean(number)!r}), so the "
            "payer's answers would not match it. Use upper-case letters, digits and hyphens only."
        )
    for line in claim.lines:
        control = line.control_number
        if control and (len(control) > MAX_LINE_CONTROL_NUMBER or _text(control) != control):
            out.append(
                f"Line {line.line_number}'s control number {control!r} must be at most "
                f"{MAX_LINE_CONTROL_NUMBER} upper-case letters, digits or hyphens, so remittances can "
                "find the line. Build the claim again to renumber it."
            )
    return out


def _line_problems(claim: ClaimData) -> list[str]:
    out: list[str] = []
    count = len(claim.diagnoses)
    if not claim.lines:
        out.append("The claim has no service lines. Add at least one line.")
    elif len(claim.lines) > MAX_LINES:
        out.append(
            f"The claim has {len(claim.lines)} lines; an 837P claim holds at most {MAX_LINES}. "
            "Split the visit's lines over two claims."
        )
    if not claim.diagnoses:
        out.append(
            "The claim has no diagnosis. Add the diagnosis the infusion treats (at least one ICD-10-CM code)."
        )
    elif count > MAX_DIAGNOSES:
        out.append(
            f"The claim has {count} diagnoses; an 837P claim holds at most {MAX_DIAGNOSES}. "
            "Keep the ones the lines point to, principal first."
        )
    for line in claim.lines:
        label = f"Line {line.line_number}"
        pointers = line.diagnosis_pointers
        if not pointers:
            out.append(f"{label} has no diagnosis pointer. Point it at the diagnosis it treats.")
        elif len(pointers) > MAX_POINTERS:
            out.append(
                f"{label} has {len(pointers)} diagnosis pointers; a line takes at most {MAX_POINTERS}. "
                "Keep the four that matter most, the main one first."
            )
        out += [
            f"{label} points to diagnosis {pointer}, but the claim has {count}. "
            f"Point it at a diagnosis from 1 to {min(count, MAX_DIAGNOSES)}."
            for pointer in pointers
            if count and not 1 <= pointer <= min(count, MAX_DIAGNOSES)
        ]
        if len(line.modifiers) > MAX_MODIFIERS:
            out.append(
                f"{label} has {len(line.modifiers)} modifiers; a line takes at most {MAX_MODIFIERS}. "
                "Remove the ones the payer does not need."
            )
        if line.description is not None and len(line.description) > MAX_DESCRIPTION:
            out.append(
                f"{label}'s description is {len(line.description)} characters; the 837P allows "
                f"{MAX_DESCRIPTION}. Shorten it."
            )
        if line.ndc is not None:
            if len(line.ndc.code) != 11 or not line.ndc.code.isdigit():
                out.append(
                    f"{label}'s NDC {line.ndc.code!r} must be 11 digits (5-4-2, no hyphens). "
                    "Correct the drug's NDC."
                )
            if line.ndc.unit not in NDC_UNITS:
                out.append(
                    f"{label}'s NDC unit {line.ndc.unit!r} must be UN, ML, GR, ME or F2. "
                    "Correct the drug's NDC unit."
                )
    return out


def _cas_segments(adjustments: Iterable[Adjustment]) -> int:
    groups: dict[str, int] = {}
    for adjustment in adjustments:
        groups[adjustment.group] = groups.get(adjustment.group, 0) + 1
    return sum(-(-n // CAS_TRIPLETS) for n in groups.values())


def _cob_problems(claim: ClaimData) -> list[str]:
    out: list[str] = []
    others = claim.other_payers
    if len(others) > MAX_OTHER_PAYERS:
        out.append(f"The claim names {len(others)} other payers; the 837P holds at most {MAX_OTHER_PAYERS}.")
    ids = [other.payer.payer_id for other in others]
    out += [
        f"Two other payers share the payer ID {payer_id!r}, so their line payments cannot be told apart. "
        "Correct the payer IDs."
        for payer_id in sorted({i for i in ids if ids.count(i) > 1})
    ]
    lines = {line.line_number: line for line in claim.lines}
    per_line: dict[int, int] = {}
    for other in others:
        who = f"Other payer {other.payer.name} ({other.payer.payer_id})"
        if other.responsibility not in RESPONSIBILITY_CODES:
            out.append(f"{who}: responsibility {other.responsibility!r} is not P, S or T.")
        if other.relationship_code not in OTHER_RELATIONSHIPS:
            out.append(
                f"{who}: relationship code {other.relationship_code!r} is not an X12 code (18, 01, 19, G8)."
            )
        if other.filing_indicator not in FILING_INDICATORS:
            out.append(
                f"{who}: claim filing indicator {other.filing_indicator!r} is not an X12 code (CI, MB, MC)."
            )
        adjustments = [*other.claim_adjustments, *(a for la in other.lines for a in la.adjustments)]
        out += [
            f"{who}: adjustment group {a.group!r} is not CO, PR, OA, PI or CR. "
            "Copy it from the remittance again."
            for a in adjustments
            if a.group not in ADJUSTMENT_GROUPS
        ]
        if _cas_segments(other.claim_adjustments) > MAX_CAS_SEGMENTS:
            out.append(f"{who}: too many claim-level adjustments for the 837P (at most five CAS segments).")
        line_total = Decimal(0)
        for adjudication in other.lines:
            line = lines.get(adjudication.line_number)
            if line is None:
                out.append(
                    f"{who} paid a line {adjudication.line_number} that this claim does not have. "
                    "Rebuild the secondary claim from the posted remittance."
                )
                continue
            per_line[line.line_number] = per_line.get(line.line_number, 0) + 1
            if _cas_segments(adjudication.adjustments) > MAX_CAS_SEGMENTS:
                out.append(
                    f"{who}, line {line.line_number}: too many adjustments for the 837P (at most five CAS)."
                )
            adjusted = sum((a.amount for a in adjudication.adjustments), Decimal(0))
            line_total += adjusted
            if line.charge - adjusted != adjudication.paid:
                out.append(
                    f"{who}, line {line.line_number}: the charge {_amount(line.charge)} minus adjustments "
                    f"{_amount(adjusted)} is {_amount(line.charge - adjusted)}, but that payer paid "
                    f"{_amount(adjudication.paid)}. Post that payer's remittance again so the line balances."
                )
        claim_adjusted = sum((a.amount for a in other.claim_adjustments), Decimal(0))
        expected = claim.total_charge - claim_adjusted - line_total
        if expected != other.paid:
            out.append(
                f"{who}: the claim charge {_amount(claim.total_charge)} minus adjustments "
                f"{_amount(claim_adjusted + line_total)} is {_amount(expected)}, but that payer paid "
                f"{_amount(other.paid)}. Post that payer's remittance again so the claim balances."
            )
    out += [
        f"Line {number} carries {count} other payers' adjudications; "
        f"the 837P allows {MAX_LINE_ADJUDICATIONS}."
        for number, count in per_line.items()
        if count > MAX_LINE_ADJUDICATIONS
    ]
    return out


def claim_problems(claim: ClaimData) -> tuple[str, ...]:
    """Why the 837P writer would refuse ``claim``, each reason in plain English with its fix."""
    problems = [
        *_line_problems(claim),
        *_identifier_problems(claim),
        *_code_problems(claim),
        *_blank_problems(claim),
    ]
    if claim.frequency_code in ("7", "8") and not (claim.payer_claim_control_number or "").strip():
        kind = FREQUENCIES[claim.frequency_code]
        problems.append(
            f"A {kind} claim (frequency {claim.frequency_code}) must name the claim it "
            f"{'replaces' if claim.frequency_code == '7' else 'voids'}: enter the payer's claim number "
            "(ICN from the remittance or the 277CA) as the payer claim control number."
        )
    problems += _cob_problems(claim)
    return tuple(problems)


# -- writing ----------------------------------------------------------------------------------
#
# The body is rendered here rather than through ``envelope.OutSegment.render``: that cleans
# every element character by character (about 20 µs a segment), and 5,000 claims are some
# 130,000 segments. ``_text`` gives exactly ``clean``'s result, taking a shortcut for the
# usual value that is already upper-case ASCII without delimiters; numbers and dates are
# made here and cannot hold a delimiter.


def _text(value: str) -> str:
    """``clean(value)``; fast when there is nothing to clean."""
    if value.isascii() and value.isprintable():
        upper = value.upper()
        if (
            "*" not in upper
            and "~" not in upper
            and ":" not in upper
            and "^" not in upper
            and "  " not in upper
            and upper[:1] != " "
            and upper[-1:] != " "
        ):
            return upper
    return clean(value)


def _seg(*elements: str) -> str:
    return "*".join(elements).rstrip("*") + "~"


def _amount(value: Decimal) -> str:
    """``100`` not ``100.00``, ``12.5``; never an exponent."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _day(value: date) -> str:
    return value.isoformat().replace("-", "")


def _digits(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


Emit = Callable[[str], None]


def _address(add: Emit, address: Address) -> None:
    add(_seg("N3", _text(address.line1), _text(address.line2 or "")))
    add(_seg("N4", _text(address.city), _text(address.state), _text(address.zip_code)))


def _person(entity: str, name: PersonName, qualifier: str = "", identifier: str = "") -> str:
    return _seg(
        "NM1", entity, "1", _text(name.last), _text(name.first), _text(name.middle or ""), "", "",
        qualifier, _text(identifier),
    )


def _provider(entity: str, provider: Provider) -> str:
    return _person(entity, provider.name, "XX", provider.npi)


def _billing(add: Emit, billing: BillingProvider, hl: int) -> None:
    add(f"HL*{hl}**20*1~")
    if billing.taxonomy:
        add(_seg("PRV", "BI", "PXC", _text(billing.taxonomy)))
    add(_seg("NM1", "85", "2", _text(billing.name), "", "", "", "", "XX", _text(billing.npi)))
    _address(add, billing.address)
    add(_seg("REF", "EI", _text(billing.tin.replace("-", ""))))
    if billing.phone:
        add(_seg("PER", "IC", "", "TE", _text(billing.phone)))
    if billing.pay_to is not None:
        add("NM1*87*2~")
        _address(add, billing.pay_to)


def _subscriber(add: Emit, claim: ClaimData) -> None:
    subscriber = claim.subscriber
    self = claim.patient_is_subscriber
    add(
        _seg(
            "SBR", claim.responsibility, "18" if self else "", _text(subscriber.group_number or ""),
            _text(subscriber.group_name or ""), claim.medicare_secondary_type or "", "", "", "",
            claim.filing_indicator,
        )
    )
    add(_person("IL", subscriber.name, "MI", subscriber.member_id))
    address = subscriber.address or (claim.patient.address if self else None)
    if address is not None:
        _address(add, address)
    born, sex = subscriber.birth_date, subscriber.sex
    if self and born is None:
        born, sex = claim.patient.birth_date, claim.patient.sex
    if born is not None:
        add(f"DMG*D8*{_day(born)}*{sex}~")
    payer = claim.payer
    add(_seg("NM1", "PR", "2", _text(payer.name), "", "", "", "", "PI", _text(payer.payer_id)))
    if payer.address is not None:
        _address(add, payer.address)


def _patient(add: Emit, claim: ClaimData, hl: int, parent: int) -> None:
    patient = claim.patient
    add(f"HL*{hl}*{parent}*23*0~")
    add(f"PAT*{claim.relationship_code}~")
    add(_person("QC", patient.name))
    _address(add, patient.address)
    add(f"DMG*D8*{_day(patient.birth_date)}*{patient.sex}~")


def _cas(add: Emit, adjustments: Sequence[Adjustment]) -> None:
    groups: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        groups.setdefault(adjustment.group, []).append(adjustment)
    for group, items in groups.items():
        for start in range(0, len(items), CAS_TRIPLETS):
            parts = [group]
            for a in items[start : start + CAS_TRIPLETS]:
                quantity = "" if a.quantity is None else _amount(a.quantity)
                parts += [_text(a.reason), _amount(a.amount), quantity]
            add(_seg("CAS", *parts))


def _other_payer(add: Emit, claim: ClaimData, other: OtherPayer) -> None:
    subscriber: Subscriber = other.subscriber
    add(
        _seg(
            "SBR", other.responsibility, other.relationship_code, _text(subscriber.group_number or ""),
            _text(subscriber.group_name or ""), "", "", "", "", other.filing_indicator,
        )
    )
    _cas(add, other.claim_adjustments)
    add(f"AMT*D*{_amount(other.paid)}~")
    if other.patient_responsibility is not None:
        add(f"AMT*EAF*{_amount(other.patient_responsibility)}~")
    signatures = claim.signatures
    add(f"OI***{'Y' if signatures.benefits_assigned else 'N'}***{signatures.release_of_information}~")
    add(_person("IL", subscriber.name, "MI", subscriber.member_id))
    if subscriber.address is not None:
        _address(add, subscriber.address)
    payer = other.payer
    add(_seg("NM1", "PR", "2", _text(payer.name), "", "", "", "", "PI", _text(payer.payer_id)))
    if payer.address is not None:
        _address(add, payer.address)
    if not other.lines:
        add(f"DTP*573*D8*{_day(other.adjudication_date)}~")
    if other.payer_claim_control_number:
        add(_seg("REF", "F8", _text(other.payer_claim_control_number)))


def _procedure(code: str, modifiers: Sequence[str], description: str | None = None) -> str:
    parts = ["HC", _text(code), *(_text(m) for m in modifiers)]
    if description:
        parts += [""] * (6 - len(parts)) + [_text(description)]
    return ":".join(parts).rstrip(":")


def _claim(add: Emit, claim: ClaimData) -> None:
    signatures = claim.signatures
    add(
        _seg(
            "CLM", _text(claim.claim_number), _amount(claim.total_charge), "", "",
            f"{claim.place_of_service}:B:{claim.frequency_code}",
            "Y" if signatures.provider_signature_on_file else "N",
            "A" if signatures.accepts_assignment else "C",
            "Y" if signatures.benefits_assigned else "N",
            signatures.release_of_information,
        )
    )
    if claim.patient_amount_paid is not None:
        add(f"AMT*F5*{_amount(claim.patient_amount_paid)}~")
    if claim.prior_authorization:
        add(_seg("REF", "G1", _text(claim.prior_authorization)))
    if claim.frequency_code in ("7", "8") and claim.payer_claim_control_number:
        add(_seg("REF", "F8", _text(claim.payer_claim_control_number)))
    if claim.patient.account_number:
        add(_seg("REF", "EA", _text(claim.patient.account_number)))
    codes = [_text(code.replace(".", "")) for code in claim.diagnoses]
    add("HI*" + "*".join(f"{'ABK' if i == 0 else 'ABF'}:{code}" for i, code in enumerate(codes)) + "~")
    if claim.rendering is not None:
        add(_provider("82", claim.rendering))
        if claim.rendering.taxonomy:
            add(_seg("PRV", "PE", "PXC", _text(claim.rendering.taxonomy)))
    adjudicated: dict[int, list[tuple[str, LineAdjudication]]] = {}
    for other in claim.other_payers:
        _other_payer(add, claim, other)
        for adjudication in other.lines:
            adjudicated.setdefault(adjudication.line_number, []).append((other.payer.payer_id, adjudication))
    ordering = _provider("DK", claim.ordering) if claim.ordering is not None else None
    for position, line in enumerate(claim.lines, start=1):
        add(f"LX*{position}~")
        add(
            _seg(
                "SV1", _procedure(line.code, line.modifiers, line.description), _amount(line.charge), "UN",
                _amount(line.units), "", "", ":".join(str(p) for p in line.diagnosis_pointers),
            )
        )
        add(f"DTP*472*D8*{_day(line.service_date)}~")
        if line.prior_authorization:
            add(_seg("REF", "G1", _text(line.prior_authorization)))
        if line.control_number:
            add(_seg("REF", "6R", _text(line.control_number)))
        if line.ndc is not None:
            add(f"LIN**N4*{_text(line.ndc.code)}~")
            add(f"CTP****{_amount(line.ndc.quantity)}*{line.ndc.unit}~")
        if ordering is not None and line.is_drug:
            add(ordering)
        for payer_id, adjudication in adjudicated.get(line.line_number, ()):
            add(
                _seg(
                    "SVD", _text(payer_id), _amount(adjudication.paid),
                    _procedure(adjudication.code, adjudication.modifiers), "",
                    _amount(adjudication.units_paid),
                )
            )
            _cas(add, adjudication.adjustments)
            add(f"DTP*573*D8*{_day(adjudication.adjudication_date)}~")


def _body(claims: Sequence[ClaimData], submitter: Submitter, receiver: Receiver) -> list[str]:
    out: list[str] = []
    add = out.append
    add(_seg("NM1", "41", "2", _text(submitter.name), "", "", "", "", "46", _text(submitter.identifier)))
    add(_seg("PER", "IC", _text(submitter.contact_name), "TE", _text(submitter.phone)))
    add(_seg("NM1", "40", "2", _text(receiver.name), "", "", "", "", "46", _text(receiver.identifier)))
    by_billing: dict[BillingProvider, list[ClaimData]] = {}
    for claim in claims:
        by_billing.setdefault(claim.billing, []).append(claim)
    hl = 0
    for billing, group in by_billing.items():
        hl += 1
        provider_hl = hl
        _billing(add, billing, hl)
        for claim in group:
            hl += 1
            subscriber_hl = hl
            add(f"HL*{hl}*{provider_hl}*22*{0 if claim.patient_is_subscriber else 1}~")
            _subscriber(add, claim)
            if not claim.patient_is_subscriber:
                hl += 1
                _patient(add, claim, hl, subscriber_hl)
            _claim(add, claim)
    return out


def write_837p(
    claims: Sequence[ClaimData],
    *,
    parties: Parties,
    submitter: Submitter,
    receiver: Receiver,
    interchange_control_number: int,
    group_control_number: int,
    transaction_control_number: int,
    reference: str,
    created: datetime,
    production: bool,
) -> str:
    """One 837P file holding ``claims``; ``ValueError`` naming each refused claim and why."""
    if not claims:
        raise ValueError("An 837P file needs at least one claim.")
    refused = [
        f"Claim {claim.claim_number}: {problem}" for claim in claims for problem in claim_problems(claim)
    ]
    seen: set[str] = set()
    for claim in claims:
        if claim.claim_number in seen:
            refused.append(
                f"Claim {claim.claim_number}: it is in the batch twice, so the payer's answers could not "
                "tell the two apart. Send it once."
            )
        seen.add(claim.claim_number)
    if not 1 <= len(_text(reference)) <= MAX_REFERENCE:
        refused.append(f"The batch reference {reference!r} (BHT03) must be 1 to {MAX_REFERENCE} characters.")
    if refused:
        raise ValueError("The 837P was not written:\n" + "\n".join(refused))
    body = _body(claims, submitter, receiver)
    bht = segment("BHT", "0019", "00", reference, f"{created:%Y%m%d}", f"{created:%H%M}", "CH")
    frame = write_interchange(
        parties,
        functional_id="HC",
        version=VERSION,
        transactions=(Transaction("837", transaction_control_number, (bht,)),),
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created=created,
        production=production,
    )
    # The envelope wrote ST, BHT and an SE counting 3; the body goes before that SE.
    start = frame.rindex("~SE*") + 1
    end = frame.index("~", start) + 1
    control = frame[start:end - 1].split("*")[2]
    return "".join((frame[:start], *body, f"SE*{len(body) + 3}*{control}~", frame[end:]))
