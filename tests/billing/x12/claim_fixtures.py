"""Fictional claims for the 837P writer and reader (and any test that needs a ClaimData).

Every person, clinic and payer here is made up ("TESTPATIENT", "Zebulon Fictional",
"Fictional Health Plan"); NPIs are built with the real check digit so validators accept
them. :func:`cleaned` is what :func:`~infusion_desk.billing.x12.read837.read_837p` should
give back for a claim after :func:`~infusion_desk.billing.x12.claims837.write_837p`: text
cleaned for X12, and the few fields an 837P does not carry emptied.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

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
    Subscriber,
)
from infusion_desk.billing.validation import make_npi
from infusion_desk.billing.x12.claims837 import Receiver, Submitter, write_837p
from infusion_desk.billing.x12.envelope import Parties, clean

DAY = date(2026, 11, 2)
CREATED = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
PARTIES = Parties("ZZ", "DEMOCLINIC", "ZZ", "CLEARHOUSE", "DEMOCLINIC", "CLEARHOUSE")
SUBMITTER = Submitter("Demo Infusion Clinic", "DEMOCLINIC", "Billing Office", "2175550100")
RECEIVER = Receiver("Clear House Fictional", "CLEARHOUSE")

CLINIC = BillingProvider(
    name="Demo Infusion Clinic, LLC",
    npi=make_npi("124531959"),
    tin="123456789",
    taxonomy="261QI0500X",
    address=Address("100 Main St", "Springfield", "IL", "627011234", "Suite 2"),
    phone="2175550100",
)
SATELLITE = BillingProvider(
    name="Demo Infusion Satellite",
    npi=make_npi("198765432"),
    tin="987654321",
    taxonomy="261QI0500X",
    address=Address("9 Side Rd", "Decatur", "IL", "625210001"),
    pay_to=Address("PO Box 77", "Decatur", "IL", "625220077"),
)
RENDERING = Provider(PersonName("Fictional", "Zebulon", "Q"), make_npi("111222333"), "207RG0100X", "MD")
ORDERING = Provider(PersonName("Prescriber", "Pat"), make_npi("144455566"), "207RR0500X", "MD")
PAYER = PayerData("Fictional Health Plan", "FHP01", Address("PO Box 1000", "Chicago", "IL", "60601"))
SECOND_PAYER = PayerData("Imaginary Mutual", "IMU22")
HOME = Address("1 Elm St", "Springfield", "IL", "62701")
PATIENT = PatientData(PersonName("Testpatient", "Zebulon"), date(1960, 1, 2), "M", HOME, "MRN0007", "2175550199")
SELF = Subscriber(PATIENT.name, "XYZ123456", PATIENT.birth_date, "M", HOME, "GRP1", "Silver Plan")


def admin_line(number: int = 1, control: str = "CLM1L01", **overrides: Any) -> ClaimLineData:
    """96365: IV infusion, initial hour."""
    line = ClaimLineData(number, control, DAY, "96365", Decimal(1), Decimal("350.00"), (1,))
    return replace(line, **overrides)


def drug_line(number: int = 2, control: str = "CLM1L02", **overrides: Any) -> ClaimLineData:
    """J1745 infliximab 10 mg x 40, no waste (JZ), with the vial's NDC: 4 vials."""
    line = ClaimLineData(
        number, control, DAY, "J1745", Decimal(40), Decimal("3200.00"), (1,), ("JZ",),
        Ndc("57894003001", Decimal(4), "UN"),
    )
    return replace(line, **overrides)


def simple_claim(number: str = "CLM1", **overrides: Any) -> ClaimData:
    """A primary claim: the infusion and the drug it gave, the patient is the subscriber."""
    claim = ClaimData(
        claim_number=number,
        responsibility="P",
        frequency_code="1",
        place_of_service="11",
        billing=CLINIC,
        payer=PAYER,
        subscriber=SELF,
        relationship_code="18",
        patient=PATIENT,
        filing_indicator="CI",
        diagnoses=("K5090", "D509"),
        lines=(admin_line(control=f"{number}L01"), drug_line(control=f"{number}L02", diagnosis_pointers=(1, 2))),
        rendering=RENDERING,
        ordering=ORDERING,
        prior_authorization="PA-7788",
        patient_amount_paid=Decimal("40.00"),
    )
    return replace(claim, **overrides)


def waste_claim(number: str = "CLMW") -> ClaimData:
    """Bevacizumab (J9035, 10 mg units): 40 units given, 5 discarded from the same vial (JW)."""
    ndc = Ndc("50242006001", Decimal("16"), "ML")
    lines = (
        admin_line(control=f"{number}L01", code="96413"),
        drug_line(2, f"{number}L02", code="J9035", units=Decimal(40), charge=Decimal("2800.00"),
                  modifiers=("JZ",), ndc=ndc),
        drug_line(3, f"{number}L03", code="J9035", units=Decimal(5), charge=Decimal("350.00"),
                  modifiers=("JW",), ndc=Ndc("50242006001", Decimal(2), "ML"), prior_authorization="PA-LINE-9"),
    )
    return simple_claim(number, diagnoses=("C180",), lines=lines)


TWELVE_DIAGNOSES = ("K5090", "D509", "E119", "I10", "M0579", "L400", "K5190", "M069", "G35", "D611", "N186", "Z79899")


def many_diagnoses_claim(number: str = "CLMDX") -> ClaimData:
    lines = tuple(
        admin_line(i, f"{number}L{i:02d}", diagnosis_pointers=tuple(range(i * 4 - 3, i * 4 + 1)))
        for i in range(1, 4)
    )
    return simple_claim(number, diagnoses=TWELVE_DIAGNOSES, lines=lines)


def fifty_lines_claim(number: str = "CLM50") -> ClaimData:
    lines = tuple(
        drug_line(i, f"{number}L{i:02d}", charge=Decimal(i) + Decimal("0.5"), units=Decimal(i),
                  service_date=DAY - timedelta(days=i % 5))
        for i in range(1, 51)
    )
    return simple_claim(number, lines=lines)


def dependent_claim(number: str = "CLMDEP", relationship: str = "19") -> ClaimData:
    """The patient is the subscriber's child (19) or spouse (01): 2000C carries the patient."""
    holder = Subscriber(
        PersonName("Testparent", "Ulysses", "B"), "DEP987654", date(1970, 3, 4), "M",
        Address("77 Oak Ave", "Peoria", "IL", "616021234", "Apt 3"), "G-77", None,
    )
    patient = PatientData(PersonName("Testpatient", "Kiddo"), date(2010, 5, 6), "F", HOME, "MRN0099")
    return simple_claim(number, subscriber=holder, relationship_code=relationship, patient=patient,
                        rendering=None, prior_authorization=None, patient_amount_paid=None)


def tricky_names_claim(number: str = "CLMNAME") -> ClaimData:
    """Delimiters and accents in every kind of text value."""
    patient = PatientData(
        PersonName("O'Brien*Núñez~", "Zoë:Ann", "^"), date(1980, 7, 8), "F",
        Address("12 Rue*Château~", "Saint-Étienne: East", "IL", "62702", "Bldg ^4"), "MRN*~1",
    )
    holder = Subscriber(patient.name, "MBR:42^X", patient.birth_date, "F", patient.address, "GRP~*", "Plan: Ünique")
    billing = replace(CLINIC, name="Clínica*Demo~Infusión: LLC")
    return simple_claim(number, patient=patient, subscriber=holder, billing=billing,
                        payer=PayerData("Fictíonal^Health*Plan", "FHP01"),
                        rendering=replace(RENDERING, name=PersonName("Ångström*", "Zebulon~"), credentials=None))


def replacement_claim(number: str = "CLMREP", frequency: str = "7") -> ClaimData:
    return simple_claim(number, frequency_code=frequency, payer_claim_control_number="ICN2026110400123")


def secondary_claim(number: str = "CLMSEC") -> ClaimData:
    """Billed to Imaginary Mutual after Fictional Health Plan paid part of it (balanced COB).

    Line 1 (350): paid 250, CO-45 80 and PR-2 20. Line 2 (3200): paid 2500, CO-45 500,
    PR-1 150 and PR-2 50. Claim level: OA-23 10 (so AMT*D = 3550 - 10 - 800 = 2740).
    """
    adjudicated = date(2026, 11, 15)
    primary = OtherPayer(
        responsibility="P",
        payer=PAYER,
        subscriber=SELF,
        relationship_code="18",
        filing_indicator="CI",
        paid=Decimal("2740.00"),
        claim_adjustments=(Adjustment("OA", "23", Decimal("10.00")),),
        adjudication_date=adjudicated,
        payer_claim_control_number="FHP-ICN-0001",
        patient_responsibility=Decimal("220.00"),
        lines=(
            LineAdjudication(1, "96365", (), Decimal("250.00"), Decimal(1),
                             (Adjustment("CO", "45", Decimal("80.00")), Adjustment("PR", "2", Decimal("20.00"))),
                             adjudicated),
            LineAdjudication(2, "J1745", ("JZ",), Decimal("2500.00"), Decimal(40),
                             (Adjustment("CO", "45", Decimal("500.00"), Decimal(1)),
                              Adjustment("PR", "1", Decimal("150.00")),
                              Adjustment("PR", "2", Decimal("50.00"))),
                             adjudicated),
        ),
    )
    secondary_holder = replace(SELF, member_id="IMU-0042", group_number="IMU-G", group_name=None)
    return simple_claim(number, responsibility="S", payer=SECOND_PAYER, subscriber=secondary_holder,
                        other_payers=(primary,), patient_amount_paid=None)


def claim_level_only_secondary(number: str = "CLMSEC2") -> ClaimData:
    """The primary adjudicated the claim as a whole (no 2430 lines): DTP*573 goes in 2330B.

    Many adjustments of one group, to need a second CAS segment (six triplets each).
    """
    adjustments = tuple(Adjustment("CO", str(reason), Decimal("10.00")) for reason in range(40, 48))
    primary = replace(
        secondary_claim(number).other_payers[0], lines=(), claim_adjustments=adjustments, paid=Decimal("3470.00"),
        patient_responsibility=None, payer_claim_control_number=None,
    )
    return replace(secondary_claim(number), other_payers=(primary,))


def write(claims: Sequence[ClaimData], **overrides: Any) -> str:
    arguments: dict[str, Any] = dict(
        parties=PARTIES, submitter=SUBMITTER, receiver=RECEIVER, interchange_control_number=17,
        group_control_number=17, transaction_control_number=1, reference="B000000017", created=CREATED,
        production=False,
    )
    arguments.update(overrides)
    return write_837p(claims, **arguments)


# -- what the reader gives back ---------------------------------------------------------------


def _opt(value: str | None) -> str | None:
    return clean(value) or None if value is not None else None


def _name(name: PersonName) -> PersonName:
    return PersonName(clean(name.last), clean(name.first), _opt(name.middle))


def _address(address: Address | None) -> Address | None:
    if address is None:
        return None
    return Address(clean(address.line1), clean(address.city), clean(address.state), clean(address.zip_code),
                   _opt(address.line2))


def _subscriber(subscriber: Subscriber, carried_demographics: bool = True) -> Subscriber:
    born = subscriber.birth_date if carried_demographics else None
    return Subscriber(
        _name(subscriber.name), clean(subscriber.member_id), born, subscriber.sex if born else "U",
        _address(subscriber.address), _opt(subscriber.group_number), _opt(subscriber.group_name),
    )


def _payer(payer: PayerData) -> PayerData:
    return PayerData(clean(payer.name), clean(payer.payer_id), _address(payer.address))


def _grouped(adjustments: Sequence[Adjustment]) -> tuple[Adjustment, ...]:
    groups: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        groups.setdefault(adjustment.group, []).append(replace(adjustment, reason=clean(adjustment.reason)))
    return tuple(a for items in groups.values() for a in items)


def _line(line: ClaimLineData) -> ClaimLineData:
    return replace(
        line,
        control_number=clean(line.control_number),
        code=clean(line.code),
        modifiers=tuple(clean(m) for m in line.modifiers),
        ndc=replace(line.ndc, code=clean(line.ndc.code)) if line.ndc else None,
        prior_authorization=_opt(line.prior_authorization),
        description=_opt(line.description),
    )


def _other(other: OtherPayer) -> OtherPayer:
    lines = tuple(
        replace(la, code=clean(la.code), modifiers=tuple(clean(m) for m in la.modifiers),
                adjustments=_grouped(la.adjustments))
        for la in other.lines
    )
    return replace(
        other,
        payer=_payer(other.payer),
        subscriber=_subscriber(other.subscriber, carried_demographics=False),
        claim_adjustments=_grouped(other.claim_adjustments),
        adjudication_date=lines[0].adjudication_date if lines else other.adjudication_date,
        payer_claim_control_number=_opt(other.payer_claim_control_number),
        lines=lines,
    )


def cleaned(claim: ClaimData) -> ClaimData:
    """``claim`` as it reads back from an 837P we wrote."""
    billing = claim.billing
    subscriber = claim.subscriber
    patient = claim.patient
    if claim.patient_is_subscriber:
        born = subscriber.birth_date or patient.birth_date
        sex = subscriber.sex if subscriber.birth_date else patient.sex
        subscriber = replace(subscriber, address=subscriber.address or patient.address, birth_date=born, sex=sex)
        patient = PatientData(subscriber.name, born, sex, subscriber.address or patient.address,
                              patient.account_number)
    subscriber = _subscriber(subscriber, carried_demographics=subscriber.birth_date is not None)
    rendering = claim.rendering
    ordering = claim.ordering if any(line.is_drug for line in claim.lines) else None
    return replace(
        claim,
        claim_number=clean(claim.claim_number),
        billing=BillingProvider(
            clean(billing.name), clean(billing.npi), clean(billing.tin.replace("-", "")), clean(billing.taxonomy),
            _address(billing.address) or billing.address, _opt(billing.phone), _address(billing.pay_to),
        ),
        payer=_payer(claim.payer),
        subscriber=subscriber,
        patient=PatientData(
            _name(patient.name), patient.birth_date, patient.sex, _address(patient.address) or patient.address,
            clean(patient.account_number), None,
        ),
        diagnoses=tuple(clean(code.replace(".", "")) for code in claim.diagnoses),
        lines=tuple(_line(line) for line in claim.lines),
        rendering=(
            Provider(_name(rendering.name), clean(rendering.npi), _opt(rendering.taxonomy))
            if rendering else None
        ),
        ordering=Provider(_name(ordering.name), clean(ordering.npi)) if ordering else None,
        prior_authorization=_opt(claim.prior_authorization),
        payer_claim_control_number=(
            _opt(claim.payer_claim_control_number) if claim.frequency_code in ("7", "8") else None
        ),
        other_payers=tuple(_other(other) for other in claim.other_payers),
    )
