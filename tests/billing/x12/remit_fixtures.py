"""A small 835 (005010X221A1) writer for tests, and fictional remittances to write with it.

``write_835(remittance)`` lays a :class:`Remittance` out as a payer would (ISA/GS, one ST…SE
per remittance, GE/IEA, counts and control numbers right, PER*BL and the payer's address that
pyx12 requires), so that ``read_835(write_835(r)) == (r,)``. Values go through the envelope
writer's ``clean`` (upper case, no delimiters), so give it upper-case names and codes.
What a ``Remittance`` does not hold (the payer's address, the payee's name, the bank details
of an ACH payment, the PLB's provider and fiscal period) is filled with fixed fictional values.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from infusion_desk.billing.remittance import (
    CasAdjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from infusion_desk.billing.x12.envelope import OutSegment, segment

VERSION = "005010X221A1"
PAYEE_NAME = "DEMO INFUSION CLINIC"
PAYEE_TIN = "123456789"
CLINIC_NPI = "1245319599"
"""A fictional NPI with a valid check digit (the one the claim fixtures bill under)."""

_CREATED = ("261120", "20261120", "0930")
"""ISA09, GS04 and the time of ISA10 and GS05: fixed, so a file is the same every run."""
_NO_BANK = (None,) * 11
"""BPR05–BPR15 of a check or of no payment: no bank details."""
_ACH_BANK = ("CCP", "01", "999999992", "DA", "123456", "1512345678", None, "01", "999988880", "DA", "98765")


def _amount(value: Decimal) -> str:
    """``100`` not ``100.00``, ``12.5``; never an exponent (as the 837 writer writes amounts)."""
    text = f"{value:f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _optional(value: Decimal | None) -> str | None:
    return None if value is None else _amount(value)


def _day(value: date) -> str:
    return f"{value:%Y%m%d}"


def _cas(adjustments: Sequence[CasAdjustment]) -> list[OutSegment]:
    """Consecutive adjustments of one group share a CAS (six at most), so the order reads back."""
    runs: list[list[CasAdjustment]] = []
    for adjustment in adjustments:
        if runs and runs[-1][0].group == adjustment.group and len(runs[-1]) < 6:
            runs[-1].append(adjustment)
        else:
            runs.append([adjustment])
    out: list[OutSegment] = []
    for run in runs:
        elements: list[str | None] = [run[0].group]
        for a in run:
            elements += [a.reason, _amount(a.amount), _optional(a.quantity)]
        out.append(segment("CAS", *elements))
    return out


def _line(line: ServicePayment) -> list[OutSegment]:
    original = ("HC", line.original_code, *line.original_modifiers) if line.original_code else None
    out = [
        segment(
            "SVC", ("HC", line.code, *line.modifiers), _amount(line.charge), _amount(line.paid), None,
            _optional(line.units_paid), original, _optional(line.original_units),
        )
    ]
    if line.service_date is not None:
        out.append(segment("DTM", "472", _day(line.service_date)))
    out += _cas(line.adjustments)
    if line.line_control_number:
        out.append(segment("REF", "6R", line.line_control_number))
    if line.allowed is not None:
        out.append(segment("AMT", "B6", _amount(line.allowed)))
    out += [segment("LQ", "HE", code) for code in line.remark_codes]
    return out


def _claim(claim: ClaimPayment) -> list[OutSegment]:
    out = [
        segment(
            "CLP", claim.patient_control_number, claim.status_code, _amount(claim.total_charge),
            _amount(claim.paid), _amount(claim.patient_responsibility) if claim.patient_responsibility else None,
            claim.filing_indicator, claim.payer_claim_control_number,
            "11" if claim.frequency_code else None, claim.frequency_code,
        )
    ]
    out += _cas(claim.adjustments)
    member = ("MI", claim.member_id) if claim.member_id else (None, None)
    out.append(segment("NM1", "QC", "1", claim.patient_last_name, claim.patient_first_name, None, None, None, *member))
    if claim.remark_codes:
        if len(claim.remark_codes) > 5:
            raise ValueError("MOA holds at most five claim remark codes (MOA03-MOA07).")
        out.append(segment("MOA", None, None, *claim.remark_codes))
    if claim.service_date_from is not None:
        out.append(segment("DTM", "232", _day(claim.service_date_from)))
    if claim.service_date_to is not None:
        out.append(segment("DTM", "233", _day(claim.service_date_to)))
    for line in claim.lines:
        out += _line(line)
    return out


def _plb(remittance: Remittance) -> list[OutSegment]:
    out: list[OutSegment] = []
    provider = remittance.payee_npi or CLINIC_NPI
    fiscal_period_end = f"{remittance.payment_date.year}1231"
    adjustments = remittance.provider_adjustments
    for start in range(0, len(adjustments), 6):  # six reasons to a PLB
        elements: list[str | tuple[str, ...] | None] = [provider, fiscal_period_end]
        for adjustment in adjustments[start : start + 6]:
            reason = (adjustment.reason, adjustment.reference) if adjustment.reference else (adjustment.reason,)
            elements += [reason, _amount(adjustment.amount)]
        out.append(segment("PLB", *elements))
    return out


def _body(remittance: Remittance) -> tuple[OutSegment, ...]:
    method = remittance.payment_method
    handling = "H" if method == "NON" else "I"
    bank = _ACH_BANK if method == "ACH" else _NO_BANK
    out = [
        segment("BPR", handling, _amount(remittance.total_paid), "C", method, *bank, _day(remittance.payment_date)),
        segment("TRN", "1", remittance.trace_number, remittance.payer_identifier),
    ]
    if remittance.production_date is not None:
        out.append(segment("DTM", "405", _day(remittance.production_date)))
    out += [
        segment("N1", "PR", remittance.payer_name),
        segment("N3", "1 PLAN WAY"),
        segment("N4", "SPRINGFIELD", "IL", "62701"),
    ]
    if remittance.payer_id:
        out.append(segment("REF", "2U", remittance.payer_id))
    out.append(segment("PER", "BL", "EDI SUPPORT", "TE", "2175550199"))
    if remittance.payee_npi:
        out.append(segment("N1", "PE", PAYEE_NAME, "XX", remittance.payee_npi))
    else:
        out += [segment("N1", "PE", PAYEE_NAME, "FI", PAYEE_TIN)]
    if remittance.claims:
        out.append(segment("LX", "1"))
        for claim in remittance.claims:
            out += _claim(claim)
    out += _plb(remittance)
    return tuple(out)


def write_835(
    *remittances: Remittance,
    sender_id: str = "FICTIONALPAYER",
    receiver_id: str = "DEMOCLINIC",
    control_number: int = 1,
) -> str:
    """One interchange (ISA13 and GS06 ``control_number``) with one 835 per remittance (ST02 0001, 0002...).

    The envelope is written here rather than by ``envelope.write_interchange`` because an 835
    has no ST03 (pyx12: "ST03 is marked as Not Used" in X221A1).
    """
    if not remittances:
        raise ValueError("write_835 needs at least one remittance.")
    if not 0 < control_number < 10**9:
        raise ValueError(f"control number {control_number} must be between 1 and 999999999.")
    for name, value in (("sender", sender_id), ("receiver", receiver_id)):
        if not (0 < len(value) <= 15 and value.replace(" ", "").isalnum() and value == value.upper()):
            raise ValueError(f"{name} id {value!r} must be 1 to 15 upper-case letters, digits or spaces.")
    isa13 = f"{control_number:09d}"
    short_day, day, time = _CREATED
    out = [
        f"ISA*00*{' ' * 10}*00*{' ' * 10}*ZZ*{sender_id:<15}*ZZ*{receiver_id:<15}*{short_day}*{time}"
        f"*^*00501*{isa13}*0*T*:~",
        f"GS*HP*{sender_id}*{receiver_id}*{day}*{time}*{control_number}*X*{VERSION}~",
    ]
    for number, remittance in enumerate(remittances, start=1):
        body = _body(remittance)
        out.append(f"ST*835*{number:04d}~")
        out.extend(s.render() for s in body)
        out.append(f"SE*{len(body) + 2}*{number:04d}~")
    out += [f"GE*{len(remittances)}*{control_number}~", f"IEA*1*{isa13}~"]
    return "".join(out)


# -- fictional remittances -----------------------------------------------------------------------

D = Decimal
PAID_DAY = date(2026, 11, 20)


def infusion_line(
    control: str, *, charge: str = "250", paid: str = "160", coinsurance: str = "40", code: str = "96365"
) -> ServicePayment:
    """An infusion line paid with a contractual write-off and coinsurance (charge - paid = CO 45 + PR 2)."""
    write_off = D(charge) - D(paid) - D(coinsurance)
    adjustments = [CasAdjustment("CO", "45", write_off)] if write_off else []
    if D(coinsurance):
        adjustments.append(CasAdjustment("PR", "2", D(coinsurance)))
    return ServicePayment(
        code=code, modifiers=(), charge=D(charge), paid=D(paid), units_paid=D("1"),
        service_date=date(2026, 11, 2), line_control_number=control, allowed=D(paid) + D(coinsurance),
        adjustments=tuple(adjustments),
    )


def paid_claim(number: str, *lines: ServicePayment, status: str = "1", icn: str | None = None) -> ClaimPayment:
    """A processed claim whose totals are its lines' (balances by construction)."""
    lines = lines or (infusion_line(f"{number}L01"),)
    return ClaimPayment(
        patient_control_number=number, status_code=status,
        total_charge=sum((line.charge for line in lines), D(0)),
        paid=sum((line.paid for line in lines), D(0)),
        patient_responsibility=sum(
            (a.amount for line in lines for a in line.adjustments if a.group == "PR"), D(0)
        ),
        filing_indicator="12", payer_claim_control_number=icn or f"ICN{number}", frequency_code="1",
        patient_last_name="TESTPATIENT", patient_first_name="ZEBULON", member_id="XYZ123456",
        service_date_from=date(2026, 11, 2), service_date_to=date(2026, 11, 2), lines=lines,
    )


def remittance(
    *claims: ClaimPayment,
    trace: str = "EFT7788",
    method: str = "ACH",
    provider_adjustments: Sequence[ProviderAdjustment] = (),
) -> Remittance:
    """A payment of ``claims`` whose BPR02 is what they pay less the provider-level adjustments."""
    total = sum((c.paid for c in claims), D(0)) - sum((p.amount for p in provider_adjustments), D(0))
    return Remittance(
        trace_number=trace, payer_identifier="1999999999", payer_name="FICTIONAL HEALTH PLAN",
        payment_method=method, payment_date=PAID_DAY, total_paid=total, claims=claims,
        provider_adjustments=tuple(provider_adjustments), payer_id="FHP01", payee_npi=CLINIC_NPI,
        production_date=date(2026, 11, 19),
    )
