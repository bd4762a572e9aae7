r"""Reading a payer's 835 (005010X221A1) into :class:`~infusion_desk.billing.remittance.Remittance` records.

    >>> text = (
    ...     "ISA*00*          *00*          *ZZ*FICTIONALPAYER *ZZ*DEMOCLINIC     "
    ...     "*261120*0930*^*00501*000000007*0*T*:~"
    ...     "GS*HP*FICTIONALPAYER*DEMOCLINIC*20261120*0930*7*X*005010X221A1~ST*835*0001~"
    ...     "BPR*I*155*C*CHK************20261120~TRN*1*CHK7788*1999999999~DTM*405*20261119~"
    ...     "N1*PR*FICTIONAL HEALTH PLAN~N3*1 PLAN WAY~N4*SPRINGFIELD*IL*62701~REF*2U*FHP01~"
    ...     "PER*BL*EDI SUPPORT*TE*2175550199~N1*PE*DEMO INFUSION CLINIC*XX*1245319599~LX*1~"
    ...     "CLP*C0000042*1*250*160*40*CI*ICN0042*11*1~NM1*QC*1*TESTPATIENT*ZEBULON****MI*XYZ123456~"
    ...     "DTM*232*20261102~SVC*HC:96365*250*160**1~DTM*472*20261102~CAS*CO*45*50~CAS*PR*2*40~"
    ...     "REF*6R*C0000042L01~AMT*B6*200~LQ*HE*N130~PLB*1245319599*20261231*WO:C0000007*5~"
    ...     "SE*23*0001~GE*1*7~IEA*1*000000007~"
    ... )
    >>> from infusion_desk.billing.remittance import balance_problems
    >>> (remittance,) = read_835(text)
    >>> remittance.trace_number, remittance.total_paid, remittance.payment_date, remittance.payer_id
    ('CHK7788', Decimal('155.00'), datetime.date(2026, 11, 20), 'FHP01')
    >>> (claim,) = remittance.claims
    >>> claim.patient_control_number, claim.paid, claim.patient_responsibility, claim.member_id
    ('C0000042', Decimal('160.00'), Decimal('40.00'), 'XYZ123456')
    >>> (line,) = claim.lines
    >>> line.code, line.line_control_number, line.allowed, line.remark_codes
    ('96365', 'C0000042L01', Decimal('200.00'), ('N130',))
    >>> [(a.group, a.reason, a.amount) for a in line.adjustments]
    [('CO', '45', Decimal('50.00')), ('PR', '2', Decimal('40.00'))]
    >>> remittance.provider_adjustments
    (ProviderAdjustment(reason='WO', reference='C0000007', amount=Decimal('5.00')),)
    >>> balance_problems(remittance)
    ()
    >>> read_835(text.replace("*250*160*40*", "*250*16O*40*"))  # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    infusion_desk.billing.x12.syntax.X12Error: segment 14 (CLP): CLP04 (what the payer paid on claim
    C0000042) '16O' is not an amount.

One :class:`Remittance` comes back per 835 transaction set (ST…SE), in file order, across
every functional group and interchange of the file. The envelope is checked by
:func:`~infusion_desk.billing.x12.syntax.parse`; then each set is read in one pass, each
segment going to the loop it belongs to: the payment (BPR, TRN, DTM*405), the payer
(N1*PR, REF*2U), the payee (N1*PE … XX), each claim (CLP and the CAS, NM1*QC/IL,
DTM*232/233, MOA/MIA that follow it), each of its service lines (SVC and its DTM*472 or
DTM*150, CAS, REF*6R, AMT*B6, LQ*HE) and the provider-level adjustments (PLB). Segments
posting does not need (N3, PER, REF*EV, TS3, AMT*AU, QTY…) are passed over.

Amounts are :class:`~decimal.Decimal` (to the cent when they have no more decimals than
that, as sent otherwise), dates :class:`~datetime.date`. What the file does not carry
takes the dataclass default. The reader does not check that the sums balance: that is
:func:`~infusion_desk.billing.remittance.balance_problems`, which the caller runs and
reports. Transaction sets other than 835s in the same file are passed over; a file with
no 835 at all, an amount that is not a number, a date that is not a date, a claim or
service line without its required elements, or a service line or adjustment outside a
claim raises :class:`X12Error` naming the segment, and never any other exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation

from infusion_desk.billing.money import CENT, ZERO
from infusion_desk.billing.remittance import (
    CasAdjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from infusion_desk.billing.x12.syntax import Segment, TransactionSet, X12Error, transactions

__all__ = ["read_835"]

REMITTANCE = "835"
"""ST01 of a health care claim payment/advice."""

_KINDS = {
    "270": "an eligibility inquiry (270)",
    "271": "an eligibility response (271)",
    "276": "a claim status inquiry (276)",
    "277": "a claim status response (277)",
    "837": "a claim batch (837)",
    "997": "an acknowledgment (997)",
    "999": "an acknowledgment (999)",
}
_NUMERIC = "0123456789.-"
_DIGITS = 18
"""An X12 number (R) has at most 18 digits (besides a sign and a decimal point); this also keeps
``quantize`` within the decimal context."""
_LARGEST = Decimal("1E11")
"""No payment, charge or unit count reaches 100 billion; the ledger stores cents in 64 bits, so a
larger number (X12 allows 18 digits) is refused here rather than by the database on posting."""
_PAD = ("",) * 20
_CAS_ELEMENTS = 19
"""CAS01 and six reason / amount / quantity triplets."""
_PLB_ELEMENTS = 14
"""PLB01, PLB02 and six reason / amount pairs."""
_MOA_REMARKS = (3, 4, 5, 6, 7)
_MIA_REMARKS = (5, 20, 21, 22, 23)

# Messages are templates filled only when something is wrong: a large remittance reads
# hundreds of thousands of amounts, and formatting each one's description would double the time.


def _fail(segment: Segment, message: str) -> X12Error:
    return X12Error(message, segment.number, segment.tag)


def _bad(value: str, segment: Segment, noun: str, what: str, about: tuple[object, ...]) -> X12Error:
    described = what.format(*about)
    if not value:
        return _fail(segment, f"{described} is missing.")
    return _fail(segment, f"{described} {value!r} is not {noun}.")


def _short(value: str) -> bool:
    return len(value) <= _DIGITS or len(value) - value.count(".") - value.count("-") <= _DIGITS


def _number(value: str, segment: Segment, what: str, *about: object) -> Decimal:
    # Decimal() alone would take "1E3", "NaN", " 5" and "1_000", none of which is an X12 number.
    if value and not value.strip(_NUMERIC) and _short(value):
        try:
            number = Decimal(value)
        except InvalidOperation:
            pass
        else:
            if abs(number) < _LARGEST:
                return number
            raise _fail(segment, f"{what.format(*about)} {value!r} is too large: 100 billion or more.")
    raise _bad(value, segment, "a number", what, about)


def _amount(value: str, segment: Segment, what: str, *about: object) -> Decimal:
    if value and not value.strip(_NUMERIC) and _short(value):
        try:
            number = Decimal(value)
        except InvalidOperation:
            pass
        else:
            if abs(number) >= _LARGEST:
                described = what.format(*about)
                raise _fail(segment, f"{described} {value!r} is too large: no amount reaches 100 billion.")
            if value[0] == "-" and not number:
                return ZERO
            dot = value.find(".")
            return number.quantize(CENT) if dot < 0 or len(value) - dot <= 3 else number
    raise _bad(value, segment, "an amount", what, about)


def _date(value: str, segment: Segment, what: str, *about: object) -> date:
    if len(value) == 8 and value.isdigit() and value.isascii():
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise _bad(value, segment, "a date (CCYYMMDD)", what, about)


def _adjustments(segment: Segment, whose: str, *about: object) -> list[CasAdjustment]:
    """The reasons of one CAS; ``whose`` (a template filled with ``about``) names the claim or line."""
    elements = segment.elements
    size = len(elements)
    group = elements[1] if size > 1 else ""
    if not group:
        raise _fail(
            segment, f"CAS01 (the adjustment group: CO, PR, OA or PI) of {whose.format(*about)} is missing."
        )
    if size > _CAS_ELEMENTS + 1:
        raise _fail(
            segment,
            f"the adjustment (CAS) of {whose.format(*about)} has {size - 1} elements; a CAS holds at most "
            f"six reasons ({_CAS_ELEMENTS} elements).",
        )
    padded = elements + _PAD
    amount_of = "CAS{:02d} (the amount of {}-{} on " + whose + ")"
    found: list[CasAdjustment] = []
    for start in range(2, size, 3):
        reason = padded[start]
        amount = padded[start + 1]
        count = padded[start + 2]
        if not reason:
            if amount or count:
                raise _fail(
                    segment,
                    f"CAS{start:02d} (the reason code) of {whose.format(*about)} is missing before its "
                    "amount.",
                )
            continue
        found.append(
            CasAdjustment(
                group,
                reason,
                _amount(amount, segment, amount_of, start + 1, group, reason, *about),
                _number(count, segment, "CAS{:02d} (the quantity of {}-{})", start + 2, group, reason)
                if count
                else None,
            )
        )
    if not found:
        raise _fail(
            segment, f"the adjustment (CAS) of {whose.format(*about)} has a group, {group}, but no reason."
        )
    return found


_PLB_AMOUNT = "PLB{:02d} (the amount of provider adjustment {})"


def _provider_adjustments(segment: Segment) -> list[ProviderAdjustment]:
    elements = segment.elements
    size = len(elements)
    if size > _PLB_ELEMENTS + 1:
        raise _fail(
            segment,
            f"the provider-level adjustment (PLB) has {size - 1} elements; a PLB holds at most six reasons "
            f"({_PLB_ELEMENTS} elements).",
        )
    padded = elements + _PAD
    component = segment.delimiters.component
    found: list[ProviderAdjustment] = []
    for start in range(3, size, 2):
        reason, _, reference = padded[start].partition(component)
        amount = padded[start + 1]
        if not reason:
            if padded[start] or amount:
                raise _fail(segment, f"PLB{start:02d} (the adjustment reason: WO, FB, L6...) is missing.")
            continue
        found.append(
            ProviderAdjustment(
                reason,
                reference.partition(component)[0] or None,
                _amount(amount, segment, _PLB_AMOUNT, start + 1, reason),
            )
        )
    if not found:
        raise _fail(segment, "the provider-level adjustment (PLB) has no reason and amount.")
    return found


def _procedure(segment: Segment, position: int, claim_number: str) -> tuple[str, tuple[str, ...]]:
    """The code and modifiers of SVC01 (as paid) or SVC06 (as billed): qualifier:code:modifier..."""
    value = segment.elements[position] if position < len(segment.elements) else ""
    separator = segment.delimiters.component
    composite = value.split(separator)
    if len(composite) < 2 or not composite[1]:
        what = "the procedure paid" if position == 1 else "the procedure billed"
        raise _fail(
            segment,
            f"SVC{position:02d} ({what} on claim {claim_number}) {value!r} has no procedure code: it must "
            f"be a qualifier and a code separated by {separator!r} (the file's ISA16), such as "
            f"HC{separator}96365.",
        )
    if len(composite) == 2:
        return composite[1], ()
    return composite[1], tuple(m for m in composite[2:6] if m)


@dataclass(slots=True)
class _Line:
    """A service line (loop 2110) while its segments are read."""

    claim_number: str
    code: str
    modifiers: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    units_paid: Decimal | None
    original_code: str | None
    original_modifiers: tuple[str, ...]
    original_units: Decimal | None
    service_date: date | None = None
    period_start: date | None = None
    line_control_number: str | None = None
    allowed: Decimal | None = None
    adjustments: list[CasAdjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)

    def freeze(self) -> ServicePayment:
        return ServicePayment(
            code=self.code,
            modifiers=self.modifiers,
            charge=self.charge,
            paid=self.paid,
            units_paid=self.units_paid,
            original_code=self.original_code,
            original_modifiers=self.original_modifiers,
            original_units=self.original_units,
            service_date=self.service_date or self.period_start,
            line_control_number=self.line_control_number,
            allowed=self.allowed,
            adjustments=tuple(self.adjustments),
            remark_codes=tuple(self.remark_codes),
        )


def _line(segment: Segment, claim_number: str) -> _Line:
    elements = segment.elements + _PAD
    code, modifiers = _procedure(segment, 1, claim_number)
    original_code: str | None = None
    original_modifiers: tuple[str, ...] = ()
    if elements[6]:
        original_code, original_modifiers = _procedure(segment, 6, claim_number)
    units_paid = elements[5]
    original_units = elements[7]
    return _Line(
        claim_number,
        code,
        modifiers,
        _amount(elements[2], segment, "SVC02 (the charge of {} on claim {})", code, claim_number),
        _amount(elements[3], segment, "SVC03 (what the payer paid for {} on claim {})", code, claim_number),
        _number(units_paid, segment, "SVC05 (the units of {} paid)", code) if units_paid else None,
        original_code,
        original_modifiers,
        _number(original_units, segment, "SVC07 (the units of {} billed)", code) if original_units else None,
    )


@dataclass(slots=True)
class _Claim:
    """A claim payment (loop 2100) while its segments are read."""

    number: str
    status_code: str
    total_charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    filing_indicator: str
    payer_claim_control_number: str | None
    frequency_code: str | None
    patient_last_name: str = ""
    patient_first_name: str = ""
    patient_member_id: str | None = None
    subscriber_member_id: str | None = None
    service_date_from: date | None = None
    service_date_to: date | None = None
    adjustments: list[CasAdjustment] = field(default_factory=list)
    remark_codes: list[str] = field(default_factory=list)
    lines: list[_Line] = field(default_factory=list)

    def freeze(self) -> ClaimPayment:
        return ClaimPayment(
            patient_control_number=self.number,
            status_code=self.status_code,
            total_charge=self.total_charge,
            paid=self.paid,
            patient_responsibility=self.patient_responsibility,
            filing_indicator=self.filing_indicator,
            payer_claim_control_number=self.payer_claim_control_number,
            frequency_code=self.frequency_code,
            patient_last_name=self.patient_last_name,
            patient_first_name=self.patient_first_name,
            member_id=self.patient_member_id or self.subscriber_member_id,
            service_date_from=self.service_date_from,
            service_date_to=self.service_date_to,
            adjustments=tuple(self.adjustments),
            remark_codes=tuple(self.remark_codes),
            lines=tuple(line.freeze() for line in self.lines),
        )


def _claim(segment: Segment) -> _Claim:
    elements = segment.elements
    if len(elements) < 5 or not elements[1] or not elements[2]:
        raise _fail(
            segment,
            "a claim payment (CLP) needs at least CLP01 to CLP04 (our claim number, the claim status, the "
            f"charge and what was paid); this one is {segment.text()!r}.",
        )
    elements += _PAD
    number = elements[1]
    responsibility = elements[5]
    return _Claim(
        number,
        elements[2],
        _amount(elements[3], segment, "CLP03 (the charge of claim {})", number),
        _amount(elements[4], segment, "CLP04 (what the payer paid on claim {})", number),
        _amount(responsibility, segment, "CLP05 (the patient's share of claim {})", number)
        if responsibility
        else ZERO,
        elements[6],
        elements[7] or None,
        elements[9] or None,
    )


def _remarks(segment: Segment, positions: tuple[int, ...]) -> list[str]:
    # MIA20-23 lie past any padding: a short MIA simply has no remark codes there.
    return [segment.element(p) for p in positions if segment.element(p)]


def _describe(sets: tuple[TransactionSet, ...]) -> str:
    if not sets:
        return "no transaction set"
    return ", ".join(dict.fromkeys(_KINDS.get(t.code, f"a {t.code} transaction set") for t in sets))


def _read(transaction: TransactionSet) -> Remittance:
    """One 835 transaction set, each segment given to the loop it belongs to."""
    bpr: Segment | None = None
    trn: Segment | None = None
    payer: Segment | None = None
    payer_reference: str | None = None
    payee_npi: str | None = None
    production_date: date | None = None
    claims: list[_Claim] = []
    provider_adjustments: list[ProviderAdjustment] = []
    loop = "header"
    claim: _Claim | None = None
    line: _Line | None = None
    for segment in transaction.segments[1:-1]:
        elements = segment.elements
        tag = elements[0]
        qualifier = elements[1] if len(elements) > 1 else ""
        value = elements[2] if len(elements) > 2 else ""
        if tag == "SVC":
            if claim is None:
                raise _fail(
                    segment, "a service line (SVC) comes before any claim (CLP): the file is damaged."
                )
            line = _line(segment, claim.number)
            claim.lines.append(line)
        elif tag == "DTM":
            if line is not None:
                if qualifier == "472":
                    line.service_date = _date(value, segment, "DTM02 (the date of service of {})", line.code)
                elif qualifier == "150":
                    line.period_start = _date(
                        value, segment, "DTM02 (the first date of service of {})", line.code
                    )
            elif claim is not None:
                if qualifier == "232":
                    claim.service_date_from = _date(
                        value, segment, "DTM02 (the first date of service of claim {})", claim.number
                    )
                elif qualifier == "233":
                    claim.service_date_to = _date(
                        value, segment, "DTM02 (the last date of service of claim {})", claim.number
                    )
            elif loop == "header" and qualifier == "405":
                production_date = _date(value, segment, "DTM02 (the date the payer produced this remittance)")
        elif tag == "CAS":
            if line is not None:
                line.adjustments += _adjustments(
                    segment, "the {} line of claim {}", line.code, line.claim_number
                )
            elif claim is not None:
                claim.adjustments += _adjustments(segment, "claim {}", claim.number)
            else:
                raise _fail(segment, "an adjustment (CAS) comes before any claim (CLP): the file is damaged.")
        elif tag == "REF":
            if line is not None:
                if qualifier == "6R":
                    line.line_control_number = value or None
            elif loop == "payer" and qualifier == "2U":
                payer_reference = value or None
        elif tag == "AMT":
            if line is not None and qualifier == "B6":
                line.allowed = _amount(value, segment, "AMT02 (the allowed amount of {})", line.code)
        elif tag == "LQ":
            if line is not None and qualifier == "HE" and value:
                line.remark_codes.append(value)
        elif tag == "CLP":
            claim = _claim(segment)
            claims.append(claim)
            line = None
            loop = "claim"
        elif tag == "NM1":
            if claim is not None and line is None:
                if qualifier == "QC":
                    padded = elements + _PAD
                    claim.patient_last_name = padded[3]
                    claim.patient_first_name = padded[4]
                    claim.patient_member_id = padded[9] or None
                elif qualifier == "IL":
                    claim.subscriber_member_id = (elements + _PAD)[9] or None
        elif tag == "MOA" or tag == "MIA":
            if claim is not None and line is None:
                claim.remark_codes += _remarks(segment, _MOA_REMARKS if tag == "MOA" else _MIA_REMARKS)
        elif tag == "LX":
            claim = line = None
            loop = "header number"
        elif tag == "PLB":
            claim = line = None
            loop = "footer"
            provider_adjustments += _provider_adjustments(segment)
        elif tag == "N1":
            if qualifier == "PR":
                payer = payer or segment
                loop = "payer"
            elif qualifier == "PE":
                loop = "payee"
                if (elements + _PAD)[3] == "XX":
                    payee_npi = (elements + _PAD)[4] or None
            else:
                loop = "other party"
        elif tag == "BPR":
            bpr = bpr or segment
        elif tag == "TRN":
            trn = trn or segment
    st = transaction.segments[0]
    control = transaction.control_number
    if bpr is None:
        raise _fail(st, f"remittance {control} has no payment information (BPR segment).")
    if trn is None:
        raise _fail(st, f"remittance {control} has no check or EFT trace number (TRN segment).")
    if payer is None:
        raise _fail(st, f"remittance {control} does not name the payer (N1*PR segment).")
    bpr_elements = bpr.elements + _PAD
    trn_elements = trn.elements + _PAD
    payer_elements = payer.elements + _PAD
    if not bpr_elements[4]:
        raise _fail(bpr, "BPR04 (the payment method: ACH, CHK, BOP, FWT or NON) is missing.")
    if not trn_elements[2]:
        raise _fail(trn, "TRN02 (the check or EFT trace number) is missing.")
    if not trn_elements[3]:
        raise _fail(trn, "TRN03 (the payer's identifier for this payment) is missing.")
    if not payer_elements[2]:
        raise _fail(payer, "N102 (the payer's name) is missing.")
    return Remittance(
        trace_number=trn_elements[2],
        payer_identifier=trn_elements[3],
        payer_name=payer_elements[2],
        payment_method=bpr_elements[4],
        payment_date=_date(bpr_elements[16], bpr, "BPR16 (the check or EFT date)"),
        total_paid=_amount(bpr_elements[2], bpr, "BPR02 (the total amount of the payment)"),
        claims=tuple(c.freeze() for c in claims),
        provider_adjustments=tuple(provider_adjustments),
        payer_id=payer_reference or payer_elements[4] or None,
        payee_npi=payee_npi,
        production_date=production_date,
    )


def read_835(text: str) -> tuple[Remittance, ...]:
    """One :class:`Remittance` per 835 transaction set in ``text``, in file order.

    Raises :class:`X12Error` when the file is not a well-formed 835 (see the module's text).
    """
    sets = transactions(text)
    remittances = tuple(_read(t) for t in sets if t.code == REMITTANCE)
    if not remittances:
        first = sets[0].segments[0] if sets else None
        raise X12Error(
            f"this file has no 835 remittance in it (it holds {_describe(sets)}).",
            first.number if first else None,
            first.tag if first else None,
        )
    return remittances
