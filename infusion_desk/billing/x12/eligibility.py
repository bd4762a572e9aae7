"""Eligibility inquiries (270) and responses (271), 005010X279A1.

    >>> receiver = InformationReceiver("Demo Infusion Clinic", "1245319599", "1123456789")
    >>> inquiry = Inquiry(
    ...     payer_name="Fictional Health Plan", payer_id="FHP01", member_id="XYZ123456",
    ...     subscriber=Person("Example", "Testy", date(1960, 1, 2), "F"),
    ...     trace_number=trace_number(42, date(2026, 12, 3)), date_of_service=date(2026, 12, 3))
    >>> for s in inquiry_body((inquiry,), receiver, reference="E17", created=datetime(2026, 12, 1, 9, 5)):
    ...     print(s.render())
    BHT*0022*13*E17*20261201*0905~
    HL*1**20*1~
    NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~
    HL*2*1*21*1~
    NM1*1P*2*DEMO INFUSION CLINIC*****XX*1245319599~
    HL*3*2*22*0~
    TRN*1*P42-20261203*1123456789~
    NM1*IL*1*EXAMPLE*TESTY****MI*XYZ123456~
    DMG*D8*19600102*F~
    DTP*291*D8*20261203~
    EQ*30~

The payer's answer comes back with our trace number echoed as ``TRN*2``:

    >>> answer_text = (
    ...     "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     "
    ...     "*261201*0910*^*00501*000000005*0*T*:~GS*HB*CH*DC*20261201*0910*5*X*005010X279A1~"
    ...     "ST*271*0001*005010X279A1~BHT*0022*11*E17*20261201*0910~"
    ...     "HL*1**20*1~NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~"
    ...     "HL*2*1*21*1~NM1*1P*2*DEMO INFUSION CLINIC*****XX*1245319599~"
    ...     "HL*3*2*22*0~TRN*2*P42-20261203*1123456789~NM1*IL*1*EXAMPLE*TESTY****MI*XYZ123456~"
    ...     "DMG*D8*19600102*F~EB*1*IND*30**SILVER PLAN~EB*B*IND*30***27*40~"
    ...     "EB*C*IND*30***23*1500~EB*C*IND*30***29*1100~EB*A*IND*30*****0.2~"
    ...     "SE*16*0001~GE*1*5~IEA*1*000000005~"
    ... )
    >>> (answer,) = parse_271(answer_text).answers
    >>> answer.trace_numbers, answer.active, answer.plan_name
    (('P42-20261203',), True, 'SILVER PLAN')
    >>> answer.copay, answer.deductible, answer.deductible_met, answer.coinsurance_percent
    (Decimal('40.00'), Decimal('1500.00'), Decimal('400.00'), Decimal('20'))
    >>> parse_trace_number("P42-20261203")
    (42, datetime.date(2026, 12, 3))

Benefits are read from the EB segments: EB01 1–5 is active coverage, 6–8 inactive; B is
a copay (EB07), C a deductible and G an out-of-pocket maximum (EB06 23/24/25 the amount,
29 what remains, so met = amount − remaining), A coinsurance (EB08, 0.2 is 20%). Where a
payer sends several, the individual (EB02 IND), in-network (EB12 Y or absent) value for
service type 30 wins, else the first one given. AAA segments at any level become
:class:`Rejection` values with the reason and follow-up action spelled out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from infusion_desk.billing.money import money
from infusion_desk.billing.x12.envelope import OutSegment, Parties, Transaction, segment, write_interchange
from infusion_desk.billing.x12.syntax import Segment, TransactionSet, X12Error, transactions

VERSION = "005010X279A1"
HEALTH_BENEFIT_PLAN_COVERAGE = "30"

REJECT_REASONS: dict[str, str] = {
    "04": "Authorized quantity exceeded",
    "15": "Required application data missing",
    "33": "Input errors",
    "35": "Out of network",
    "41": "Authorization/access restrictions",
    "42": "Unable to respond at current time",
    "43": "Invalid/missing provider identification",
    "44": "Invalid/missing provider name",
    "45": "Invalid/missing provider specialty",
    "46": "Invalid/missing provider phone number",
    "47": "Invalid/missing provider state",
    "48": "Invalid/missing referring provider identification number",
    "49": "Provider is not primary care physician",
    "50": "Provider ineligible for inquiries",
    "51": "Provider not on file",
    "52": "Service dates not within provider plan enrollment",
    "53": "Inquired benefit inconsistent with provider type",
    "54": "Inappropriate product/service ID qualifier",
    "55": "Inappropriate product/service ID",
    "56": "Inappropriate date",
    "57": "Invalid/missing date(s) of service",
    "58": "Invalid/missing date of birth",
    "60": "Date of birth follows date(s) of service",
    "61": "Date of death precedes date(s) of service",
    "62": "Date of service not within allowable inquiry period",
    "63": "Date of service in future",
    "64": "Invalid/missing patient ID",
    "65": "Invalid/missing patient name",
    "66": "Invalid/missing patient gender code",
    "67": "Patient not found",
    "68": "Duplicate patient ID number",
    "69": "Inconsistent with patient's age",
    "70": "Inconsistent with patient's gender",
    "71": "Patient birth date does not match that for the patient on the database",
    "72": "Invalid/missing subscriber/insured ID",
    "73": "Invalid/missing subscriber/insured name",
    "74": "Invalid/missing subscriber/insured gender code",
    "75": "Subscriber/insured not found",
    "76": "Duplicate subscriber/insured ID number",
    "77": "Subscriber found, patient not found",
    "78": "Subscriber/insured not in group/plan identified",
    "79": "Invalid participant identification",
    "80": "No response received - transaction terminated",
    "97": "Invalid or missing provider address",
    "98": "Experimental service or procedure",
    "AA": "Authorization number not found",
    "AE": "Requires primary care physician authorization",
    "AF": "Invalid/missing diagnosis code(s)",
    "AG": "Invalid/missing procedure code(s)",
    "AO": "Additional patient condition information required",
    "CI": "Certification information does not match patient",
    "E8": "Requires medical review",
    "IA": "Invalid authorization number format",
    "MA": "Missing authorization",
    "T4": "Payer name or identifier missing",
}
"""AAA03 reject reason codes used in the 271 (X12 element 901), as the TR3 lists them."""

FOLLOW_UP_ACTIONS: dict[str, str] = {
    "C": "Please correct and resubmit",
    "N": "Resubmission not allowed",
    "P": "Please resubmit original transaction",
    "R": "Resubmission allowed",
    "S": "Do not resubmit; inquiry initiated to a third party",
    "W": "Please wait 30 days and resubmit",
    "X": "Please wait 10 days and resubmit",
    "Y": "Do not resubmit; we will hold your request and respond again shortly",
}
"""AAA04 follow-up action codes (X12 element 889)."""

ACTIVE_CODES = frozenset("12345")
INACTIVE_CODES = frozenset("678")
_TOTAL_PERIODS = ("23", "25", "22", "24")
"""EB06 time periods that carry the full amount: calendar year, contract, service year, year to date."""
_REMAINING_PERIOD = "29"
_TRACE = re.compile(r"^P(\d{1,12})-(\d{8})$")
_TRANSACTION_NAMES = {"270": "an eligibility inquiry (270)", "835": "a remittance advice (835)",
                      "837": "a claim batch (837)", "999": "an acknowledgment (999)",
                      "277": "a claim status (277)"}


# ----------------------------------------------------------------------------------------------
# 270


@dataclass(frozen=True, slots=True)
class Person:
    last_name: str
    first_name: str
    birth_date: date | None = None
    sex: str | None = None
    """F, M or U."""


@dataclass(frozen=True, slots=True)
class InformationReceiver:
    """Us, the clinic asking (loop 2100B), and the TRN03 that identifies who assigned the trace."""

    name: str
    npi: str
    trace_originator: str
    """TRN03: "1" followed by the clinic's EIN (10 characters)."""


@dataclass(frozen=True, slots=True)
class Inquiry:
    """One question to one payer: is this member covered on this day of service."""

    payer_name: str
    payer_id: str
    member_id: str
    subscriber: Person
    trace_number: str
    date_of_service: date
    patient: Person | None = None
    """The patient when they are a dependent, not the subscriber (loop 2000D)."""
    service_types: tuple[str, ...] = (HEALTH_BENEFIT_PLAN_COVERAGE,)


def trace_number(policy_id: int, date_of_service: date) -> str:
    """Our TRN02: the policy and the day asked about, so the 271 finds its way back."""
    return f"P{policy_id}-{date_of_service:%Y%m%d}"


def parse_trace_number(value: str) -> tuple[int, date] | None:
    """The policy id and day in one of our trace numbers, ``None`` for anyone else's."""
    found = _TRACE.match(value.strip().upper())
    if found is None:
        return None
    try:
        day = datetime.strptime(found.group(2), "%Y%m%d").date()  # noqa: DTZ007 - a date, not a time
    except ValueError:
        return None
    return int(found.group(1)), day


def _person_segments(
    entity: str, person: Person, member_id: str | None, day: date, service_types: Iterable[str] | None
) -> list[OutSegment]:
    name = segment("NM1", entity, "1", person.last_name, person.first_name)
    if member_id is not None:
        name = segment("NM1", entity, "1", person.last_name, person.first_name, "", "", "", "MI", member_id)
    out = [name]
    if service_types is None:
        return out
    if person.birth_date is not None:
        out.append(segment("DMG", "D8", f"{person.birth_date:%Y%m%d}", person.sex or ""))
    out.append(segment("DTP", "291", "D8", f"{day:%Y%m%d}"))
    out.extend(segment("EQ", code) for code in service_types)
    return out


def inquiry_body(
    inquiries: Sequence[Inquiry], receiver: InformationReceiver, *, reference: str, created: datetime
) -> tuple[OutSegment, ...]:
    """The segments between ST and SE: one information source (HL 20) per payer, in first-seen order."""
    if not inquiries:
        raise ValueError("a 270 needs at least one inquiry.")
    by_payer: dict[tuple[str, str], list[Inquiry]] = {}
    for inquiry in inquiries:
        by_payer.setdefault((inquiry.payer_id, inquiry.payer_name), []).append(inquiry)
    out = [segment("BHT", "0022", "13", reference, f"{created:%Y%m%d}", f"{created:%H%M}")]
    hl = 0
    for (payer_id, payer_name), asked in by_payer.items():
        hl += 1
        source = hl
        out.append(segment("HL", str(source), "", "20", "1"))
        out.append(segment("NM1", "PR", "2", payer_name, "", "", "", "", "PI", payer_id))
        hl += 1
        receiver_hl = hl
        out.append(segment("HL", str(receiver_hl), str(source), "21", "1"))
        out.append(segment("NM1", "1P", "2", receiver.name, "", "", "", "", "XX", receiver.npi))
        for inquiry in asked:
            hl += 1
            subscriber_hl = hl
            trn = segment("TRN", "1", inquiry.trace_number, receiver.trace_originator)
            dependent = inquiry.patient
            children = "0" if dependent is None else "1"
            out.append(segment("HL", str(subscriber_hl), str(receiver_hl), "22", children))
            if dependent is None:
                out.append(trn)
                out.extend(
                    _person_segments("IL", inquiry.subscriber, inquiry.member_id, inquiry.date_of_service,
                                     inquiry.service_types)
                )
                continue
            out.extend(
                _person_segments("IL", inquiry.subscriber, inquiry.member_id, inquiry.date_of_service, None)
            )
            hl += 1
            out.append(segment("HL", str(hl), str(subscriber_hl), "23", "0"))
            out.append(trn)
            out.extend(
                _person_segments("03", dependent, None, inquiry.date_of_service, inquiry.service_types)
            )
    return tuple(out)


def write_270(
    parties: Parties,
    receiver: InformationReceiver,
    inquiries: Sequence[Inquiry],
    *,
    reference: str,
    created: datetime,
    interchange_control_number: int,
    group_control_number: int,
    production: bool,
) -> str:
    """A complete 270 file: one interchange, one group, one transaction set."""
    body = inquiry_body(inquiries, receiver, reference=reference, created=created)
    return write_interchange(
        parties,
        functional_id="HS",
        version=VERSION,
        transactions=(Transaction("270", 1, body),),
        interchange_control_number=interchange_control_number,
        group_control_number=group_control_number,
        created=created,
        production=production,
    )


# ----------------------------------------------------------------------------------------------
# 271


@dataclass(frozen=True, slots=True)
class Rejection:
    """An AAA segment: the payer could not answer, and why."""

    code: str
    follow_up: str
    level: str
    """Who was rejected: "payer", "provider", "subscriber" or "dependent"."""
    segment_number: int

    @property
    def reason(self) -> str:
        return REJECT_REASONS.get(self.code, f"Reject reason {self.code}")

    @property
    def action(self) -> str:
        return FOLLOW_UP_ACTIONS.get(self.follow_up, "")

    @property
    def text(self) -> str:
        """As the front desk reads it: "Subscriber/insured not found (75). Please correct and resubmit."."""
        action = f" {self.action}." if self.action else ""
        return f"{self.reason} ({self.code}).{action}"


@dataclass(frozen=True, slots=True)
class Benefit:
    """One EB segment."""

    code: str
    coverage_level: str
    service_types: tuple[str, ...]
    insurance_type: str
    plan: str
    time_period: str
    amount: Decimal | None
    percent: Decimal | None
    in_network: str
    segment_number: int


@dataclass(frozen=True, slots=True)
class Answer:
    """What the payer said about one person (a subscriber, or a dependent under a subscriber)."""

    trace_numbers: tuple[str, ...]
    payer_name: str
    payer_id: str
    member_id: str
    last_name: str
    first_name: str
    birth_date: date | None
    sex: str
    is_dependent: bool
    subscriber_last_name: str
    subscriber_first_name: str
    active: bool | None
    """True active, False inactive, None when the payer said neither (a rejection)."""
    plan_name: str | None
    group_number: str | None
    copay: Decimal | None
    deductible: Decimal | None
    deductible_met: Decimal | None
    coinsurance_percent: Decimal | None
    out_of_pocket_max: Decimal | None
    out_of_pocket_met: Decimal | None
    rejections: tuple[Rejection, ...]
    benefits: tuple[Benefit, ...]
    raw: str
    """The answer's own segments (payer, subscriber, dependent), one per line."""
    answered_on: date | None = None
    """BHT04: the day the payer answered."""

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}".strip(", ") or "(no name)"

    @property
    def rejection_text(self) -> str | None:
        return " ".join(r.text for r in self.rejections) or None


@dataclass(frozen=True, slots=True)
class Response:
    answers: tuple[Answer, ...]
    rejections: tuple[Rejection, ...]
    """Rejections of the whole inquiry (payer or provider level) that name no subscriber."""
    payer_names: tuple[str, ...] = ()


@dataclass
class _Node:
    level: str
    segments: list[Segment] = field(default_factory=list)
    payer: tuple[str, str] = ("", "")
    payer_segments: tuple[Segment, ...] = ()
    inherited: tuple[Rejection, ...] = ()
    parent: _Node | None = None
    has_children: bool = False


def _date(value: str, where: Segment) -> date:
    try:
        return datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 - a date, not a time
    except ValueError:
        raise X12Error(f"{value!r} is not a CCYYMMDD date.", where.number, where.tag) from None


def _decimal(value: str, where: Segment, name: str) -> Decimal | None:
    if not value:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise X12Error(f"{name} {value!r} is not a number.", where.number, where.tag)
    if number and number.adjusted() >= 11:  # 100 billion or more: no benefit amount is that
        raise X12Error(f"{name} {value!r} is too large to be an amount.", where.number, where.tag)
    return number


def _benefit(eb: Segment) -> Benefit:
    amount = _decimal(eb.element(7), eb, "EB07")
    percent = _decimal(eb.element(8), eb, "EB08")
    if percent is not None and percent <= 1:
        percent = (percent * 100).normalize()
        if percent == percent.to_integral_value():
            percent = percent.quantize(Decimal(1))
    return Benefit(
        code=eb.element(1),
        coverage_level=eb.element(2),
        service_types=eb.repeats(3),
        insurance_type=eb.element(4),
        plan=eb.element(5),
        time_period=eb.element(6),
        amount=None if amount is None else money(amount),
        percent=percent,
        in_network=eb.element(12),
        segment_number=eb.number,
    )


def _preferred(benefits: Iterable[Benefit]) -> list[Benefit]:
    """In-network first (Y, W or absent), then individual, then service type 30; stable otherwise."""
    return sorted(
        benefits,
        key=lambda b: (
            b.in_network == "N",
            b.coverage_level not in ("IND", ""),
            HEALTH_BENEFIT_PLAN_COVERAGE not in b.service_types,
        ),
    )


def _first(
    benefits: Iterable[Benefit], code: str, *, amount: bool = False, percent: bool = False
) -> Benefit | None:
    for benefit in _preferred(b for b in benefits if b.code == code):
        if (amount and benefit.amount is None) or (percent and benefit.percent is None):
            continue
        return benefit
    return None


def _total_and_met(benefits: Sequence[Benefit], code: str) -> tuple[Decimal | None, Decimal | None]:
    with_amount = [b for b in benefits if b.code == code and b.amount is not None]
    if not with_amount:
        return None, None
    ordered = _preferred(with_amount)
    best = ordered[0]
    same_kind = [b for b in ordered if (b.in_network == "N") == (best.in_network == "N")
                 and b.coverage_level == best.coverage_level]
    total = next(
        (b.amount for period in _TOTAL_PERIODS for b in same_kind if b.time_period == period), None
    )
    remaining = next((b.amount for b in same_kind if b.time_period == _REMAINING_PERIOD), None)
    if total is None:
        total = next((b.amount for b in same_kind if b.time_period != _REMAINING_PERIOD), None)
    met = None
    if total is not None and remaining is not None:
        met = max(total - remaining, Decimal(0))
    return total, None if met is None else money(met)


def _rejection(aaa: Segment, level: str) -> Rejection:
    return Rejection(aaa.element(3), aaa.element(4), level, aaa.number)


_LEVEL_NAMES = {"20": "payer", "21": "provider", "22": "subscriber", "23": "dependent"}


@dataclass
class _PersonInfo:
    traces: list[str] = field(default_factory=list)
    member: str = ""
    last: str = ""
    first: str = ""
    birth_date: date | None = None
    sex: str = ""
    group: str | None = None
    plan_number: str | None = None
    rejections: list[Rejection] = field(default_factory=list)
    benefits: list[Benefit] = field(default_factory=list)


def _person(node: _Node) -> _PersonInfo:
    """Names, ids, traces and benefits of one subscriber or dependent loop."""
    info = _PersonInfo()
    in_entity = False
    after_benefit = False
    for seg in node.segments:
        tag = seg.tag
        if tag == "LS":
            in_entity = True
        elif tag == "LE":
            in_entity = False
        elif in_entity:
            continue
        elif tag == "TRN" and seg.element(1) == "2":
            info.traces.append(seg.element(2))
        elif tag == "NM1" and not after_benefit:
            info.last, info.first = seg.element(3), seg.element(4)
            info.member = seg.element(9) or info.member
        elif tag == "DMG" and not after_benefit:
            if seg.element(1) == "D8" and seg.element(2):
                info.birth_date = _date(seg.element(2), seg)
            info.sex = seg.element(3)
        elif tag == "REF" and not after_benefit:
            if seg.element(1) == "6P" or (seg.element(1) == "1L" and info.group is None):
                info.group = seg.element(2)
            elif seg.element(1) == "18":
                info.plan_number = seg.element(2)
        elif tag == "AAA":
            info.rejections.append(_rejection(seg, _LEVEL_NAMES[node.level]))
        elif tag == "EB":
            after_benefit = True
            info.benefits.append(_benefit(seg))
    return info


def _answer(node: _Node, answered_on: date | None) -> Answer:
    subscriber = node.parent if node.level == "23" and node.parent is not None else None
    own = _person(node)
    above = _person(subscriber) if subscriber is not None else _PersonInfo()
    benefits = own.benefits
    rejections = [*node.inherited, *above.rejections, *own.rejections]
    statuses = [b for b in benefits if b.code in ACTIVE_CODES | INACTIVE_CODES]
    active: bool | None = None
    if statuses:
        main = [b for b in statuses if HEALTH_BENEFIT_PLAN_COVERAGE in b.service_types] or statuses
        active = any(b.code in ACTIVE_CODES for b in main)
    plan = next((b.plan for b in _preferred(statuses) if b.code in ACTIVE_CODES and b.plan), None)
    copay = _first(benefits, "B", amount=True)
    coinsurance = _first(benefits, "A", percent=True)
    deductible, deductible_met = _total_and_met(benefits, "C")
    oop, oop_met = _total_and_met(benefits, "G")
    segments = [*node.payer_segments, *(subscriber.segments if subscriber else ()), *node.segments]
    return Answer(
        trace_numbers=tuple(own.traces or above.traces),
        payer_name=node.payer[0],
        payer_id=node.payer[1],
        member_id=own.member or above.member,
        last_name=own.last,
        first_name=own.first,
        birth_date=own.birth_date,
        sex=own.sex,
        is_dependent=subscriber is not None,
        subscriber_last_name=above.last if subscriber else own.last,
        subscriber_first_name=above.first if subscriber else own.first,
        active=active,
        plan_name=plan or own.plan_number or above.plan_number,
        group_number=own.group or above.group,
        copay=copay.amount if copay else None,
        deductible=deductible,
        deductible_met=deductible_met,
        coinsurance_percent=coinsurance.percent if coinsurance else None,
        out_of_pocket_max=oop,
        out_of_pocket_met=oop_met,
        rejections=tuple(rejections),
        benefits=tuple(benefits),
        raw="\n".join(s.text() for s in segments),
        answered_on=answered_on,
    )


def _check_kind(transaction: TransactionSet) -> None:
    if transaction.code != "271":
        kind = _TRANSACTION_NAMES.get(transaction.code, f"a {transaction.code} transaction")
        raise X12Error(
            f"this file holds {kind}, not an eligibility response (271).",
            transaction.segments[0].number,
            "ST",
        )


def _read_transaction(transaction: TransactionSet) -> tuple[list[Answer], list[Rejection], list[str]]:
    nodes: dict[str, _Node] = {}
    order: list[_Node] = []
    current: _Node | None = None
    payer: tuple[str, str] = ("", "")
    payer_segments: tuple[Segment, ...] = ()
    upper: list[Rejection] = []
    payers: list[str] = []
    answered_on: date | None = None
    for seg in transaction.segments[1:-1]:
        if seg.tag == "BHT":
            answered_on = _date(seg.element(4), seg) if seg.element(4) else None
            continue
        if seg.tag == "HL":
            level = seg.element(3)
            if level not in _LEVEL_NAMES:
                raise X12Error(f"HL03 {level!r} is not a 271 level (20, 21, 22 or 23).", seg.number, "HL")
            parent = nodes.get(seg.element(2)) if seg.element(2) else None
            if level in ("21", "22", "23") and parent is None:
                raise X12Error(
                    f"HL {seg.element(1)} names parent {seg.element(2)!r}, which is not in the file.",
                    seg.number,
                    "HL",
                )
            current = _Node(level, [seg], parent=parent)
            if parent is not None:
                parent.has_children = True
            nodes[seg.element(1)] = current
            order.append(current)
            if level == "20":
                payer, payer_segments = ("", ""), (seg,)
            continue
        if current is None:
            raise X12Error(f"{seg.tag} appears before the first HL.", seg.number, seg.tag)
        current.segments.append(seg)
        if current.level == "20":
            if seg.tag == "NM1":
                payer = (seg.element(3), seg.element(9))
                payers.append(seg.element(3))
            payer_segments = (*payer_segments, seg)
        current.payer = payer
        current.payer_segments = payer_segments
    answers: list[Answer] = []
    for node in order:
        if node.level in ("20", "21"):
            rejections = [_rejection(s, _LEVEL_NAMES[node.level]) for s in node.segments if s.tag == "AAA"]
            if rejections and not node.has_children:
                upper.extend(rejections)
            continue
        node.inherited = tuple(_upper_rejections(node))
        if node.level == "22" and node.has_children:
            continue
        if node.level == "23" and node.parent is not None:
            node.payer, node.payer_segments = node.parent.payer, node.parent.payer_segments
        answers.append(_answer(node, answered_on))
    return answers, upper, payers


def _upper_rejections(node: _Node) -> list[Rejection]:
    found: list[Rejection] = []
    above = node.parent
    while above is not None and above.level in ("21", "20", "22"):
        if above.level in ("20", "21"):
            found[:0] = [_rejection(s, _LEVEL_NAMES[above.level]) for s in above.segments if s.tag == "AAA"]
        above = above.parent
    return found


def parse_271(text: str) -> Response:
    """Every answer in a 271 file; :class:`X12Error` when the file is not a well-formed 271."""
    sets = transactions(text)
    if not sets:
        raise X12Error("the file holds no transaction set.")
    for transaction in sets:
        _check_kind(transaction)
    answers: list[Answer] = []
    rejections: list[Rejection] = []
    payers: list[str] = []
    for transaction in sets:
        found, upper, names = _read_transaction(transaction)
        answers.extend(found)
        rejections.extend(upper)
        payers.extend(names)
    return Response(tuple(answers), tuple(rejections), tuple(payers))
