r"""Reading an 837P (005010X222A1) back into :class:`~infusion_desk.billing.claim_data.ClaimData`.

    >>> text = (
    ...     "ISA*00*          *00*          *ZZ*DEMOCLINIC     *ZZ*CLEARHOUSE     "
    ...     "*261120*0930*^*00501*000000042*0*T*:~"
    ...     "GS*HC*DEMOCLINIC*CLEARHOUSE*20261120*0930*42*X*005010X222A1~"
    ...     "ST*837*0001*005010X222A1~BHT*0019*00*B42*20261120*0930*CH~"
    ...     "NM1*41*2*DEMO INFUSION CLINIC*****46*DEMOCLINIC~PER*IC*BILLING OFFICE*TE*2175550100~"
    ...     "NM1*40*2*CLEAR HOUSE*****46*CLEARHOUSE~"
    ...     "HL*1**20*1~PRV*BI*PXC*261QI0500X~NM1*85*2*DEMO INFUSION CLINIC*****XX*1245319599~"
    ...     "N3*100 MAIN ST~N4*SPRINGFIELD*IL*627011234~REF*EI*123456789~"
    ...     "HL*2*1*22*0~SBR*P*18*GRP1******CI~NM1*IL*1*TESTPATIENT*ZEBULON****MI*XYZ123456~"
    ...     "N3*1 ELM ST~N4*SPRINGFIELD*IL*62701~DMG*D8*19600102*M~"
    ...     "NM1*PR*2*FICTIONAL HEALTH PLAN*****PI*FHP01~"
    ...     "CLM*C0000042*3550***11:B:1*Y*A*Y*Y~REF*EA*MRN0007~HI*ABK:K5090~"
    ...     "LX*1~SV1*HC:96365*350*UN*1***1~DTP*472*D8*20261102~REF*6R*C0000042L01~"
    ...     "LX*2~SV1*HC:J1745:JZ*3200*UN*40***1~DTP*472*D8*20261102~REF*6R*C0000042L02~"
    ...     "LIN**N4*57894003001~CTP****4*UN~SE*32*0001~GE*1*42~IEA*1*000000042~"
    ... )
    >>> (claim,) = read_837p(text)
    >>> claim.claim_number, claim.total_charge, claim.patient.name.last, claim.patient.account_number
    ('C0000042', Decimal('3550.00'), 'TESTPATIENT', 'MRN0007')
    >>> drug = claim.lines[1]
    >>> drug.code, drug.modifiers, drug.units, drug.ndc
    ('J1745', ('JZ',), Decimal('40'), Ndc(code='57894003001', quantity=Decimal('4'), unit='UN'))
    >>> read_837p(text.replace("ST*837", "ST*835"))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    infusion_desk.billing.x12.syntax.X12Error: segment 3 (ST): this file holds a remittance advice (835),
    not a professional claim batch (837P).

The envelope is checked by :func:`~infusion_desk.billing.x12.syntax.parse`; loops are found
from the HL levels and each loop's first segment (NM1 entity codes, SBR, CLM, LX, SVD), so
the TR3's own examples read as well as our files. What the 837P does not carry comes back
empty: the patient's phone, a provider's credentials, the ordering provider's taxonomy,
and another payer's subscriber's birth date and sex (``None`` and ``U``). When the patient
is the subscriber, the patient is the 2010BA subscriber. A 2320 loop that reports no
adjudication (no AMT*D and no DTP*573) describes coverage not yet billed, which
``ClaimData`` does not hold; it is left out. Lines are numbered by their LX.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from infusion_desk.billing.claim_data import (
    Address,
    Adjustment,
    BillingProvider,
    ClaimData,
    ClaimLineData,
    LineAdjudication,
    Ndc,
    OtherPayer,
    PatientData,
    PayerData,
    PersonName,
    Provider,
    Signatures,
    Subscriber,
    total_charge,
)
from infusion_desk.billing.x12.syntax import Segment, TransactionSet, X12Error, is_digits, transactions

__all__ = ["read_837p"]

PROFESSIONAL = "005010X222"
_KINDS = {
    "270": "an eligibility inquiry (270)",
    "271": "an eligibility response (271)",
    "276": "a claim status inquiry (276)",
    "277": "a claim status response (277)",
    "835": "a remittance advice (835)",
    "999": "an acknowledgment (999)",
}
_DIAGNOSIS_QUALIFIERS = frozenset({"ABK", "ABF", "BK", "BF"})


def _day(value: str, segment: Segment) -> date:
    text = value.split("-")[0]
    try:
        if len(text) != 8 or not is_digits(text):
            raise ValueError(text)
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        raise X12Error(f"{value!r} is not a CCYYMMDD date.", segment.number, segment.tag) from None


def _decimal(value: str, segment: Segment, what: str) -> Decimal:
    try:
        return Decimal(value)
    except InvalidOperation:
        raise X12Error(f"{what} {value!r} is not a number.", segment.number, segment.tag) from None


def _optional(value: str) -> str | None:
    return value or None


@dataclass
class _Party:
    """An NM1 and the N3/N4/DMG/REF/PER segments that follow it."""

    nm1: Segment
    n3: Segment | None = None
    n4: Segment | None = None
    dmg: Segment | None = None
    phone: str | None = None

    @property
    def name(self) -> PersonName:
        return PersonName(self.nm1.element(3), self.nm1.element(4), _optional(self.nm1.element(5)))

    @property
    def organisation(self) -> str:
        if self.nm1.element(2) == "1" and self.nm1.element(4):
            return f"{self.nm1.element(3)}, {self.nm1.element(4)}"
        return self.nm1.element(3)

    @property
    def identifier(self) -> str:
        return self.nm1.element(9)

    @property
    def address(self) -> Address | None:
        if self.n3 is None and self.n4 is None:
            return None
        n3, n4 = self.n3, self.n4
        return Address(
            line1=n3.element(1) if n3 else "",
            city=n4.element(1) if n4 else "",
            state=n4.element(2) if n4 else "",
            zip_code=n4.element(3) if n4 else "",
            line2=_optional(n3.element(2)) if n3 else None,
        )

    @property
    def birth_date(self) -> date | None:
        return _day(self.dmg.element(2), self.dmg) if self.dmg and self.dmg.element(2) else None

    @property
    def sex(self) -> str:
        return (self.dmg.element(3) if self.dmg else "") or "U"


@dataclass
class _Adjudication:
    svd: Segment
    line_number: int
    adjustments: list[Adjustment] = field(default_factory=list)
    day: date | None = None


@dataclass
class _Line:
    lx: Segment
    sv1: Segment | None = None
    service_date: date | None = None
    control_number: str = ""
    prior_authorization: str | None = None
    ndc_code: str | None = None
    ctp: Segment | None = None
    adjudications: list[_Adjudication] = field(default_factory=list)


@dataclass
class _Other:
    sbr: Segment
    adjustments: list[Adjustment] = field(default_factory=list)
    paid: Decimal | None = None
    patient_responsibility: Decimal | None = None
    subscriber: _Party | None = None
    payer: _Party | None = None
    day: date | None = None
    claim_number: str | None = None


@dataclass
class _Claim:
    clm: Segment
    billing: BillingProvider
    sbr: Segment
    subscriber: _Party
    payer: _Party
    patient: _Party | None
    relationship: str
    patient_paid: Decimal | None = None
    prior_authorization: str | None = None
    payer_claim_number: str | None = None
    account_number: str = ""
    diagnoses: list[str] = field(default_factory=list)
    rendering: Provider | None = None
    ordering: Provider | None = None
    others: list[_Other] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)


def _adjustments(segment: Segment) -> list[Adjustment]:
    group = segment.element(1)
    out: list[Adjustment] = []
    for position in range(2, 20, 3):
        reason = segment.element(position)
        if not reason:
            continue
        amount = _decimal(segment.element(position + 1), segment, "CAS amount")
        quantity = segment.element(position + 2)
        count = _decimal(quantity, segment, "CAS quantity") if quantity else None
        out.append(Adjustment(group, reason, amount, count))
    return out


def _procedure(segment: Segment, position: int) -> tuple[str, tuple[str, ...], str | None]:
    parts = segment.components(position)
    if len(parts) < 2 or not parts[1]:
        raise X12Error(
            f"{segment.tag}{position:02d} has no procedure code.", segment.number, segment.tag
        )
    modifiers = tuple(m for m in parts[2:6] if m)
    description = parts[6] if len(parts) > 6 and parts[6] else None
    return parts[1], modifiers, description


class _Reader:
    """Walks one transaction set's segments, keeping the loop it is in."""

    def __init__(self, transaction: TransactionSet) -> None:
        self.transaction = transaction
        self.claims: list[ClaimData] = []
        self.loop = ""
        self.party: _Party | None = None
        self.billing_parts: dict[str, _Party] = {}
        self.billing_taxonomy = ""
        self.billing_tin = ""
        self.billing: BillingProvider | None = None
        self.sbr: Segment | None = None
        self.subscriber: _Party | None = None
        self.payer: _Party | None = None
        self.patient: _Party | None = None
        self.relationship = ""
        self.claim: _Claim | None = None
        self.other: _Other | None = None
        self.line: _Line | None = None
        self.adjudication: _Adjudication | None = None
        self.rendering_nm1: Segment | None = None

    # -- loops ---------------------------------------------------------------------------

    def read(self) -> list[ClaimData]:
        handlers = {
            "HL": self._hl, "NM1": self._nm1, "N3": self._n3, "N4": self._n4, "DMG": self._dmg,
            "PER": self._per, "PRV": self._prv, "REF": self._ref, "SBR": self._sbr, "PAT": self._pat,
            "CLM": self._clm, "AMT": self._amt, "HI": self._hi, "CAS": self._cas, "LX": self._lx,
            "SV1": self._sv1, "DTP": self._dtp, "LIN": self._lin, "CTP": self._ctp, "SVD": self._svd,
        }
        for segment in self.transaction.segments[1:-1]:
            handler = handlers.get(segment.tag)
            if handler is not None:
                handler(segment)
        self._finish_claim()
        return self.claims

    def _hl(self, segment: Segment) -> None:
        self._finish_claim()
        level = segment.element(3)
        self.party = None
        if level == "20":
            self.loop = "2000A"
            self.billing_parts, self.billing_taxonomy, self.billing_tin = {}, "", ""
            self.billing = None
            self.sbr = self.subscriber = self.payer = self.patient = None
        elif level == "22":
            self._require_billing(segment)
            self.loop = "2000B"
            self.sbr = self.subscriber = self.payer = self.patient = None
            self.relationship = ""
        elif level == "23":
            if self.sbr is None:
                raise X12Error(
                    "a patient level (HL 23) comes before any subscriber level.", segment.number, "HL"
                )
            self.loop = "2000C"
            self.patient = None
        else:
            raise X12Error(
                f"HL03 {level!r} is not an 837P level (20 billing provider, 22 subscriber, 23 patient).",
                segment.number,
                "HL",
            )

    def _require_billing(self, segment: Segment) -> BillingProvider:
        if self.billing is not None:
            return self.billing
        provider = self.billing_parts.get("85")
        if provider is None:
            raise X12Error(
                "a subscriber level comes before any billing provider (HL 20 with NM1*85).",
                segment.number,
                "HL",
            )
        address = provider.address
        if address is None:
            raise X12Error("the billing provider has no address (N3/N4).", provider.nm1.number, "NM1")
        pay_to = self.billing_parts.get("87")
        self.billing = BillingProvider(
            name=provider.organisation,
            npi=provider.identifier,
            tin=self.billing_tin,
            taxonomy=self.billing_taxonomy,
            address=address,
            phone=provider.phone,
            pay_to=pay_to.address if pay_to is not None else None,
        )
        return self.billing

    def _nm1(self, segment: Segment) -> None:
        entity = segment.element(1)
        party = _Party(segment)
        self.party = party
        if self.line is not None:
            self.loop = "2420"
            if entity == "DK" and self.claim is not None and self.claim.ordering is None:
                self.claim.ordering = Provider(party.name, party.identifier)
        elif self.other is not None:
            if entity == "IL":
                self.loop, self.other.subscriber = "2330A", party
            elif entity == "PR":
                self.loop, self.other.payer = "2330B", party
            else:
                self.loop = "2330"
        elif self.claim is not None:
            self.loop = "2310B" if entity == "82" else "2310"
            if entity == "82":
                self.claim.rendering = Provider(party.name, party.identifier)
        elif entity in ("85", "87"):
            self.loop = "2010AA" if entity == "85" else "2010AB"
            self.billing_parts[entity] = party
        elif entity == "IL":
            self.loop, self.subscriber = "2010BA", party
        elif entity == "PR":
            self.loop, self.payer = "2010BB", party
        elif entity == "QC":
            self.loop, self.patient = "2010CA", party
        else:
            self.loop = "1000" if entity in ("40", "41") else "other"
            self.party = None

    def _n3(self, segment: Segment) -> None:
        if self.party is not None:
            self.party.n3 = segment

    def _n4(self, segment: Segment) -> None:
        if self.party is not None:
            self.party.n4 = segment

    def _dmg(self, segment: Segment) -> None:
        if self.party is not None:
            self.party.dmg = segment

    def _per(self, segment: Segment) -> None:
        if self.loop == "2010AA" and self.party is not None:
            for position in (3, 5, 7):
                if segment.element(position) == "TE":
                    self.party.phone = segment.element(position + 1)
                    break

    def _prv(self, segment: Segment) -> None:
        if segment.element(1) == "BI" and self.loop == "2000A":
            self.billing_taxonomy = segment.element(3)
        elif segment.element(1) == "PE" and self.loop == "2310B" and self.claim and self.claim.rendering:
            rendering = self.claim.rendering
            self.claim.rendering = Provider(rendering.name, rendering.npi, segment.element(3))

    def _ref(self, segment: Segment) -> None:
        qualifier, value = segment.element(1), segment.element(2)
        if self.loop == "2010AA" and qualifier in ("EI", "SY"):
            self.billing_tin = value
        elif self.line is not None and self.loop == "2400":
            if qualifier == "6R":
                self.line.control_number = value
            elif qualifier == "G1" and self.line.prior_authorization is None:
                self.line.prior_authorization = value
        elif self.claim is not None and self.loop == "2300":
            if qualifier == "G1":
                self.claim.prior_authorization = value
            elif qualifier == "F8":
                self.claim.payer_claim_number = value
            elif qualifier == "EA":
                self.claim.account_number = value
        elif self.other is not None and self.loop == "2330B" and qualifier == "F8":
            self.other.claim_number = value

    def _sbr(self, segment: Segment) -> None:
        if self.claim is None:
            self.sbr = segment
            self.relationship = "18" if segment.element(2) == "18" else ""
            return
        if self.line is not None:
            raise X12Error("an other-payer SBR (2320) comes after the service lines.", segment.number, "SBR")
        self.loop = "2320"
        self.party = None
        self.other = _Other(segment)
        self.claim.others.append(self.other)

    def _pat(self, segment: Segment) -> None:
        if self.loop == "2000C":
            self.relationship = segment.element(1)

    def _clm(self, segment: Segment) -> None:
        self._finish_claim()
        billing = self.billing
        if billing is None or self.sbr is None or self.subscriber is None or self.payer is None:
            raise X12Error(
                "a claim (CLM) comes before its billing provider, subscriber (NM1*IL) and payer (NM1*PR).",
                segment.number,
                "CLM",
            )
        if not self.relationship:
            raise X12Error(
                f"claim {segment.element(1)}: the patient is neither the subscriber (SBR02 18) nor in a "
                "patient level (HL 23 with PAT).",
                segment.number,
                "CLM",
            )
        if self.relationship != "18" and self.patient is None:
            raise X12Error(
                f"claim {segment.element(1)}: the patient level has no patient name (NM1*QC).",
                segment.number,
                "CLM",
            )
        self.loop = "2300"
        self.party = None
        self.claim = _Claim(
            segment, billing, self.sbr, self.subscriber, self.payer,
            self.patient if self.relationship != "18" else None, self.relationship,
        )

    def _amt(self, segment: Segment) -> None:
        qualifier, value = segment.element(1), segment.element(2)
        if self.claim is not None and self.loop == "2300" and qualifier == "F5":
            self.claim.patient_paid = _decimal(value, segment, "AMT02")
        elif self.other is not None and self.loop == "2320":
            if qualifier == "D":
                self.other.paid = _decimal(value, segment, "AMT02")
            elif qualifier == "EAF":
                self.other.patient_responsibility = _decimal(value, segment, "AMT02")

    def _hi(self, segment: Segment) -> None:
        if self.claim is None or self.loop != "2300":
            return
        for position in range(1, len(segment.elements)):
            parts = segment.components(position)
            if len(parts) >= 2 and parts[0] in _DIAGNOSIS_QUALIFIERS:
                self.claim.diagnoses.append(parts[1])

    def _cas(self, segment: Segment) -> None:
        if self.adjudication is not None and self.loop == "2430":
            self.adjudication.adjustments += _adjustments(segment)
        elif self.other is not None and self.loop == "2320":
            self.other.adjustments += _adjustments(segment)

    def _lx(self, segment: Segment) -> None:
        if self.claim is None:
            raise X12Error("a service line (LX) comes before any claim (CLM).", segment.number, "LX")
        if not is_digits(segment.element(1)):
            raise X12Error(f"LX01 {segment.element(1)!r} is not a line number.", segment.number, "LX")
        self.loop = "2400"
        self.party = None
        self.other = None
        self.adjudication = None
        self.line = _Line(segment)
        self.claim.lines.append(self.line)

    def _sv1(self, segment: Segment) -> None:
        if self.line is None:
            raise X12Error("a professional service (SV1) comes before its LX.", segment.number, "SV1")
        self.line.sv1 = segment

    def _dtp(self, segment: Segment) -> None:
        qualifier = segment.element(1)
        if qualifier == "472" and self.line is not None and self.loop == "2400":
            self.line.service_date = _day(segment.element(3), segment)
        elif qualifier == "573" and self.adjudication is not None and self.loop == "2430":
            self.adjudication.day = _day(segment.element(3), segment)
        elif qualifier == "573" and self.other is not None and self.loop == "2330B":
            self.other.day = _day(segment.element(3), segment)

    def _lin(self, segment: Segment) -> None:
        if self.line is not None and segment.element(2) == "N4":
            self.loop = "2410"
            self.line.ndc_code = segment.element(3)

    def _ctp(self, segment: Segment) -> None:
        if self.line is not None and self.loop == "2410":
            self.line.ctp = segment

    def _svd(self, segment: Segment) -> None:
        if self.line is None:
            raise X12Error("a line adjudication (SVD) comes before its LX.", segment.number, "SVD")
        self.loop = "2430"
        self.party = None
        self.adjudication = _Adjudication(segment, int(self.line.lx.element(1)))
        self.line.adjudications.append(self.adjudication)

    # -- building the claim ----------------------------------------------------------------

    def _finish_claim(self) -> None:
        claim = self.claim
        if claim is not None:
            self.claims.append(_build(claim))
        self.claim = self.other = self.line = self.adjudication = None


def _patient(claim: _Claim) -> PatientData:
    source = claim.patient or claim.subscriber
    birth_date, address = source.birth_date, source.address
    where = "patient (2010CA)" if claim.patient else "subscriber who is the patient (2010BA)"
    number = claim.clm.element(1)
    if birth_date is None:
        raise X12Error(f"claim {number}: the {where} has no birth date (DMG).", source.nm1.number, "NM1")
    if address is None:
        raise X12Error(f"claim {number}: the {where} has no address (N3/N4).", source.nm1.number, "NM1")
    return PatientData(source.name, birth_date, source.sex, address, claim.account_number)


def _line(claim: _Claim, line: _Line) -> ClaimLineData:
    sv1 = line.sv1
    if sv1 is None:
        raise X12Error(f"service line {line.lx.element(1)} has no SV1.", line.lx.number, "LX")
    if line.service_date is None:
        raise X12Error(
            f"service line {line.lx.element(1)} has no service date (DTP*472).", line.lx.number, "LX"
        )
    code, modifiers, description = _procedure(sv1, 1)
    pointers = sv1.components(7)
    if not all(is_digits(p) for p in pointers):
        raise X12Error(f"SV107 {sv1.element(7)!r} is not a list of diagnosis pointers.", sv1.number, "SV1")
    ndc = None
    if line.ndc_code is not None:
        if line.ctp is None:
            raise X12Error("an NDC (LIN) has no drug quantity (CTP).", line.lx.number, "LX")
        ndc = Ndc(
            line.ndc_code,
            _decimal(line.ctp.element(4), line.ctp, "CTP04"),
            (line.ctp.components(5) or ("",))[0],
        )
    return ClaimLineData(
        line_number=int(line.lx.element(1)),
        control_number=line.control_number,
        service_date=line.service_date,
        code=code,
        units=_decimal(sv1.element(4), sv1, "SV104"),
        charge=_decimal(sv1.element(2), sv1, "SV102"),
        diagnosis_pointers=tuple(int(p) for p in pointers),
        modifiers=modifiers,
        ndc=ndc,
        prior_authorization=line.prior_authorization,
        description=description,
    )


def _other_payers(claim: _Claim) -> tuple[OtherPayer, ...]:
    by_payer: dict[str, list[LineAdjudication]] = {}
    known = {other.payer.identifier for other in claim.others if other.payer is not None}
    for line in claim.lines:
        for adjudication in line.adjudications:
            svd = adjudication.svd
            if svd.element(1) not in known:
                raise X12Error(
                    f"claim {claim.clm.element(1)}: SVD01 {svd.element(1)!r} names no other payer "
                    "(2330B NM109).",
                    svd.number,
                    "SVD",
                )
            if adjudication.day is None:
                raise X12Error("a line adjudication (SVD) has no DTP*573 date.", svd.number, "SVD")
            code, modifiers, _ = _procedure(svd, 3)
            by_payer.setdefault(svd.element(1), []).append(
                LineAdjudication(
                    line_number=adjudication.line_number,
                    code=code,
                    modifiers=modifiers,
                    paid=_decimal(svd.element(2), svd, "SVD02"),
                    units_paid=_decimal(svd.element(5), svd, "SVD05"),
                    adjustments=tuple(adjudication.adjustments),
                    adjudication_date=adjudication.day,
                )
            )
    out: list[OtherPayer] = []
    for other in claim.others:
        if other.subscriber is None or other.payer is None:
            raise X12Error(
                f"claim {claim.clm.element(1)}: another payer's loop (2320) lacks its subscriber (2330A) or "
                "payer (2330B).",
                other.sbr.number,
                "SBR",
            )
        lines = tuple(by_payer.get(other.payer.identifier, ()))
        day = other.day or (lines[0].adjudication_date if lines else None)
        if day is None and other.paid is None:
            continue  # coverage still to bill, not an adjudication: ClaimData has no place for it
        sbr = other.sbr
        subscriber = Subscriber(
            name=other.subscriber.name,
            member_id=other.subscriber.identifier,
            birth_date=None,
            sex="U",
            address=other.subscriber.address,
            group_number=_optional(sbr.element(3)),
            group_name=_optional(sbr.element(4)),
        )
        if day is None:
            raise X12Error(
                f"claim {claim.clm.element(1)}: other payer {other.payer.identifier} has no "
                "adjudication date (DTP*573).",
                other.payer.nm1.number,
                "NM1",
            )
        out.append(
            OtherPayer(
                responsibility=sbr.element(1),
                payer=PayerData(other.payer.nm1.element(3), other.payer.identifier, other.payer.address),
                subscriber=subscriber,
                relationship_code=sbr.element(2),
                filing_indicator=sbr.element(9),
                paid=other.paid if other.paid is not None else Decimal(0),
                claim_adjustments=tuple(other.adjustments),
                adjudication_date=day,
                payer_claim_control_number=other.claim_number,
                patient_responsibility=other.patient_responsibility,
                lines=lines,
            )
        )
    return tuple(out)


def _build(claim: _Claim) -> ClaimData:
    clm = claim.clm
    number = clm.element(1)
    location = clm.components(5)
    if len(location) < 3 or not location[0] or not location[2]:
        raise X12Error(
            f"claim {number}: CLM05 {clm.element(5)!r} must give the place of service, B and the "
            "frequency code.",
            clm.number,
            "CLM",
        )
    if not claim.diagnoses:
        raise X12Error(f"claim {number} has no diagnosis (HI).", clm.number, "CLM")
    if not claim.lines:
        raise X12Error(f"claim {number} has no service lines (LX/SV1).", clm.number, "CLM")
    lines = tuple(_line(claim, line) for line in claim.lines)
    stated = _decimal(clm.element(2), clm, "CLM02")
    if stated != total_charge(lines):
        raise X12Error(
            f"claim {number}: CLM02 says {stated} but its lines add up to {total_charge(lines)}.",
            clm.number,
            "CLM",
        )
    subscriber_party, sbr = claim.subscriber, claim.sbr
    subscriber = Subscriber(
        name=subscriber_party.name,
        member_id=subscriber_party.identifier,
        birth_date=subscriber_party.birth_date,
        sex=subscriber_party.sex,
        address=subscriber_party.address,
        group_number=_optional(sbr.element(3)),
        group_name=_optional(sbr.element(4)),
    )
    payer = claim.payer
    return ClaimData(
        claim_number=number,
        responsibility=sbr.element(1),
        frequency_code=location[2],
        place_of_service=location[0],
        billing=claim.billing,
        payer=PayerData(payer.nm1.element(3), payer.identifier, payer.address),
        subscriber=subscriber,
        relationship_code=claim.relationship,
        patient=_patient(claim),
        filing_indicator=sbr.element(9),
        diagnoses=tuple(claim.diagnoses),
        lines=lines,
        rendering=claim.rendering,
        ordering=claim.ordering,
        prior_authorization=claim.prior_authorization,
        payer_claim_control_number=claim.payer_claim_number,
        medicare_secondary_type=_optional(sbr.element(5)),
        signatures=Signatures(
            provider_signature_on_file=clm.element(6) == "Y",
            accepts_assignment=clm.element(7) in ("A", "B"),
            benefits_assigned=clm.element(8) == "Y",
            release_of_information=clm.element(9),
        ),
        patient_amount_paid=claim.patient_paid,
        other_payers=_other_payers(claim),
    )


def _check_kind(transaction: TransactionSet) -> None:
    st = transaction.segments[0]
    if transaction.code != "837":
        kind = _KINDS.get(transaction.code, f"a {transaction.code} transaction")
        raise X12Error(f"this file holds {kind}, not a professional claim batch (837P).", st.number, "ST")
    if not transaction.version.startswith(PROFESSIONAL):
        raise X12Error(
            f"this 837 is version {transaction.version!r}, not a professional claim (005010X222A1); "
            "an institutional 837 is 005010X223.",
            st.number,
            "ST",
        )


def read_837p(text: str) -> tuple[ClaimData, ...]:
    """Every claim in an 837P file, in file order; :class:`X12Error` when it is not a well-formed 837P."""
    sets = transactions(text)
    if not sets:
        raise X12Error("the file holds no transaction set.")
    for transaction in sets:
        _check_kind(transaction)
    claims: list[ClaimData] = []
    for transaction in sets:
        claims.extend(_Reader(transaction).read())
    return tuple(claims)
