"""A claim as it leaves the building: the one shape the 837P writer, the CMS-1500 and the scrubber read.

    >>> line = ClaimLineData(
    ...     line_number=1, control_number="C1-1", service_date=date(2026, 11, 2), code="96365",
    ...     units=Decimal(1), charge=Decimal("350.00"), diagnosis_pointers=(1,))
    >>> line.is_drug, line.modifiers
    (False, ())
    >>> drug = ClaimLineData(
    ...     line_number=2, control_number="C1-2", service_date=date(2026, 11, 2), code="J1745",
    ...     units=Decimal(40), charge=Decimal("3200.00"), diagnosis_pointers=(1,), modifiers=("JZ",),
    ...     ndc=Ndc("57894003001", Decimal(4), "UN"))
    >>> drug.is_drug
    True
    >>> total_charge((line, drug))
    Decimal('3550.00')

Everything is a frozen dataclass of plain values (tuples, ``Decimal``, ``date``): the
services layer builds one from the database, and the writers and rules never touch a
session. Diagnosis codes are stored without the dot, as on a claim. Names and addresses
are kept as typed; the X12 writer cleans them for its character set.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class Address:
    line1: str
    city: str
    state: str
    zip_code: str
    """Five or nine digits, no hyphen (the 837P wants nine for the billing provider)."""
    line2: str | None = None


@dataclass(frozen=True, slots=True)
class PersonName:
    last: str
    first: str
    middle: str | None = None


@dataclass(frozen=True, slots=True)
class BillingProvider:
    """The clinic: 2010AA and CMS-1500 box 33 (and 25 for the TIN)."""

    name: str
    npi: str
    tin: str
    taxonomy: str
    address: Address
    phone: str | None = None
    pay_to: Address | None = None
    """2010AB / box 33 when payments go elsewhere; ``None`` when it is ``address``."""


@dataclass(frozen=True, slots=True)
class Provider:
    """A person: rendering (2310B, box 24J), ordering (2420E) or referring provider."""

    name: PersonName
    npi: str
    taxonomy: str | None = None
    credentials: str | None = None


@dataclass(frozen=True, slots=True)
class Subscriber:
    """The policy holder (2010BA, boxes 4, 7, 11) and the plan's details (2000B SBR)."""

    name: PersonName
    member_id: str
    birth_date: date | None
    sex: str
    """``M``, ``F`` or ``U``."""
    address: Address | None
    group_number: str | None = None
    group_name: str | None = None


@dataclass(frozen=True, slots=True)
class PatientData:
    """The patient (2010CA when not the subscriber; boxes 2, 3, 5)."""

    name: PersonName
    birth_date: date
    sex: str
    address: Address
    account_number: str
    """The clinic's MRN (REF*EA, box 26 is the claim number)."""
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class PayerData:
    """Who the claim goes to (2010BB, the CMS-1500 carrier block)."""

    name: str
    payer_id: str
    address: Address | None = None


@dataclass(frozen=True, slots=True)
class Ndc:
    """2410 LIN/CTP and the CMS-1500 shaded line: ``N4`` + 11 digits, quantity and unit."""

    code: str
    """Eleven digits, 5-4-2 without hyphens."""
    quantity: Decimal
    unit: str
    """``UN``, ``ML``, ``GR``, ``F2`` or ``ME``."""


@dataclass(frozen=True, slots=True)
class Adjustment:
    """A CAS triplet copied from a payer's remittance."""

    group: str
    """``CO``, ``PR``, ``OA``, ``PI``."""
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True, slots=True)
class LineAdjudication:
    """What another payer did with one of our lines (2430 SVD/CAS/DTP*573)."""

    line_number: int
    """The line of this claim it answers (its LX)."""
    code: str
    modifiers: tuple[str, ...]
    paid: Decimal
    units_paid: Decimal
    adjustments: tuple[Adjustment, ...]
    adjudication_date: date


@dataclass(frozen=True, slots=True)
class OtherPayer:
    """A payer that already adjudicated this visit, for a secondary claim (2320, 2330A/B, 2430)."""

    responsibility: str
    """SBR01 of that payer: ``P``, ``S`` or ``T``."""
    payer: PayerData
    subscriber: Subscriber
    relationship_code: str
    """Patient's relationship to that subscriber: ``18`` self, ``01`` spouse, ``19`` child, ``G8`` other."""
    filing_indicator: str
    """SBR09: ``MB``, ``MC``, ``CI``, ``BL``, ``HM``..."""
    paid: Decimal
    """AMT*D: what that payer paid for the whole claim."""
    claim_adjustments: tuple[Adjustment, ...]
    """Claim-level CAS from the remittance (line-level ones live in ``lines``)."""
    adjudication_date: date
    payer_claim_control_number: str | None = None
    patient_responsibility: Decimal | None = None
    """AMT*EAF: what the patient still owes after that payer."""
    lines: tuple[LineAdjudication, ...] = ()


@dataclass(frozen=True, slots=True)
class ClaimLineData:
    line_number: int
    control_number: str
    """REF*6R: comes back in the 835 so payments land on this line."""
    service_date: date
    code: str
    units: Decimal
    charge: Decimal
    diagnosis_pointers: tuple[int, ...]
    """1-based positions in ``ClaimData.diagnoses``, at most four."""
    modifiers: tuple[str, ...] = ()
    ndc: Ndc | None = None
    prior_authorization: str | None = None
    """Line-level REF*G1 when it differs from the claim's."""
    description: str | None = None
    """SV101-7 and the line note: only for not-otherwise-classified codes."""

    @property
    def is_drug(self) -> bool:
        """J-, Q- and the like: HCPCS Level II drug codes carry NDC data; CPT codes never do."""
        return self.code[:1].isalpha()


@dataclass(frozen=True, slots=True)
class Signatures:
    """The signature and assignment indicators (CLM06-09, CMS-1500 boxes 12, 13, 27, 31)."""

    provider_signature_on_file: bool = True
    accepts_assignment: bool = True
    benefits_assigned: bool = True
    release_of_information: str = "Y"
    """``Y`` signed release on file, ``I`` informed consent only."""


@dataclass(frozen=True, slots=True)
class ClaimData:
    claim_number: str
    """CLM01, the patient control number: comes back in the 277CA and the 835."""
    responsibility: str
    """SBR01 for this payer: ``P`` primary, ``S`` secondary, ``T`` tertiary."""
    frequency_code: str
    """CLM05-3: ``1`` original, ``7`` replacement, ``8`` void."""
    place_of_service: str
    billing: BillingProvider
    payer: PayerData
    subscriber: Subscriber
    relationship_code: str
    """Patient's relationship to the subscriber (``18`` self, ``01`` spouse, ``19`` child, ``G8`` other)."""
    patient: PatientData
    filing_indicator: str
    """SBR09."""
    diagnoses: tuple[str, ...]
    """ICD-10-CM codes without the dot, principal first, at most twelve."""
    lines: tuple[ClaimLineData, ...]
    rendering: Provider | None = None
    ordering: Provider | None = None
    prior_authorization: str | None = None
    """REF*G1 at claim level (box 23)."""
    payer_claim_control_number: str | None = None
    """REF*F8: the payer's number for the claim being replaced or voided (box 22)."""
    medicare_secondary_type: str | None = None
    """SBR05 when Medicare is not primary (12, 13, 14, 15, 16, 41, 42, 43, 47)."""
    signatures: Signatures = field(default_factory=Signatures)
    patient_amount_paid: Decimal | None = None
    """AMT*F5 / box 29: what the patient paid toward this claim (copay at check-in)."""
    other_payers: tuple[OtherPayer, ...] = ()

    @property
    def total_charge(self) -> Decimal:
        """CLM02 / box 28: always the sum of the lines."""
        return total_charge(self.lines)

    @property
    def service_date_from(self) -> date:
        return min(line.service_date for line in self.lines)

    @property
    def service_date_to(self) -> date:
        return max(line.service_date for line in self.lines)

    @property
    def patient_is_subscriber(self) -> bool:
        return self.relationship_code == "18"


def total_charge(lines: Iterable[ClaimLineData]) -> Decimal:
    return sum((line.charge for line in lines), Decimal("0.00"))
