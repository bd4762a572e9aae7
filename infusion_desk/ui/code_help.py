"""What each billing code a screen asks for or shows is, and how it is written: one text per kind.

    set_code_help(self.npi_field, NPI)     # hovering the field (or F1 on it with a screen reader) says
    column_help("claimLines", "Code")      # the text a table's column header shows as its tooltip

Tables configured by ``ui/tables.py`` show these as their header tooltips, found by column
title (``COLUMN_KINDS``) or, where a title means different things in different tables
(``Group``: a policy's group number, or an EOB adjustment's group code), by table name and
title (``TABLE_COLUMN_KINDS``).
"""

from __future__ import annotations

from typing import Final

from PySide6.QtWidgets import QWidget

NPI: Final = "npi"
TIN: Final = "tin"
TAXONOMY: Final = "taxonomy"
PROCEDURE_CODE: Final = "procedure_code"
PROCEDURE_CODES: Final = "procedure_codes"
MODIFIERS: Final = "modifiers"
ICD10: Final = "icd10"
DIAGNOSIS_POINTERS: Final = "diagnosis_pointers"
NDC: Final = "ndc"
NDC_UNIT: Final = "ndc_unit"
NDC_QUANTITY: Final = "ndc_quantity"
PLACE_OF_SERVICE: Final = "place_of_service"
PAYER_ID: Final = "payer_id"
MEMBER_ID: Final = "member_id"
GROUP_NUMBER: Final = "group_number"
ADJUSTMENT_GROUP: Final = "adjustment_group"
CARC: Final = "carc"
RARC: Final = "rarc"
GROUP_AND_REASON: Final = "group_and_reason"
PROVIDER_ADJUSTMENT: Final = "provider_adjustment"
AUTHORIZATION_NUMBER: Final = "authorization_number"
CLAIM_FREQUENCY: Final = "claim_frequency"
MSP_TYPE: Final = "msp_type"
CLAIM_FILING_INDICATOR: Final = "claim_filing_indicator"
UNITS: Final = "units"
AUTHORIZED_UNITS: Final = "authorized_units"
PAYER_CLAIM_NUMBER: Final = "payer_claim_number"
TRACE_NUMBER: Final = "trace_number"
INTERCHANGE_ID: Final = "interchange_id"

CODE_HELP: Final[dict[str, str]] = {
    NPI: "NPI: the 10-digit National Provider Identifier; the last digit is a check digit (Luhn).",
    TIN: "TIN (EIN): the 9-digit federal Tax Identification Number, typed with or without the dash "
    "(12-3456789).",
    TAXONOMY: "Taxonomy: the 10-character provider taxonomy code from the NUCC list, e.g. 261QM1300X "
    "(multi-specialty clinic).",
    PROCEDURE_CODE: "CPT/HCPCS code: 5 characters; CPT codes are 5 digits (96413), HCPCS Level II codes "
    "a letter and 4 digits (J1745).",
    PROCEDURE_CODES: "CPT/HCPCS codes: 5 characters each (96413, J1745), separated by spaces or commas.",
    MODIFIERS: "Modifiers: up to four 2-character codes after the procedure code, e.g. JW (drug wasted), "
    "JZ (no waste), 59 or XU (distinct service), 25.",
    ICD10: "ICD-10-CM diagnosis code: a letter, 2 characters, then up to 4 more after the dot, e.g. C50.911; "
    "claims carry it without the dot.",
    DIAGNOSIS_POINTERS: "Diagnosis pointers: which of the claim's diagnoses (1 to 12, in claim order) "
    "this line treats, up to 4; the first is the primary reason.",
    NDC: "NDC: the 11-digit National Drug Code in 5-4-2 form (00002-7510-01) for the drug given; required "
    "on drug lines by most payers.",
    NDC_UNIT: "NDC unit of measure: UN (each), ML (milliliter), GR (gram), ME (milligram) or F2 "
    "(international unit).",
    NDC_QUANTITY: "NDC quantity: how much of the drug in the NDC unit of measure, e.g. 40 (ML), up to "
    "3 decimals.",
    PLACE_OF_SERVICE: "Place of service: the 2-digit CMS code for where the care was given, e.g. 11 "
    "(office), 19 or 22 (hospital outpatient).",
    PAYER_ID: "Payer ID: the clearinghouse's electronic identifier for the payer (often 5 characters, "
    "e.g. 60054); it routes the claim.",
    MEMBER_ID: "Member ID: the subscriber's identifier exactly as printed on the insurance card, "
    "letters and digits, without spaces.",
    GROUP_NUMBER: "Group number: the employer's or plan's group on the insurance card (SBR03); leave empty "
    "for individual and Medicare plans.",
    ADJUSTMENT_GROUP: "Adjustment group code: CO (contractual obligation, written off), PR (patient "
    "responsibility), OA (other adjustment) or PI (payer-initiated reduction).",
    CARC: "CARC: the Claim Adjustment Reason Code the payer gives for the adjustment, e.g. 45 (charge "
    "exceeds the fee schedule), 197 (no prior authorization).",
    RARC: "RARC: Remittance Advice Remark Codes that add detail to the reason, e.g. N130, M15; "
    "separated by spaces.",
    GROUP_AND_REASON: "Adjustment: the group code and the CARC the payer sent, e.g. CO-197 (contractual, "
    "no prior authorization) or PR-1 (deductible).",
    PROVIDER_ADJUSTMENT: "Provider-level adjustment reason (PLB03), e.g. WO (overpayment recovery), "
    "FB (forwarding balance), L6 (interest).",
    AUTHORIZATION_NUMBER: "Authorization number: the prior-authorization reference the payer issued, as they "
    "wrote it; it goes on the claim (REF*G1).",
    CLAIM_FREQUENCY: "Claim frequency code (CLM05-3): 1 original claim, 7 replacement of a paid claim, "
    "8 void of a claim sent in error.",
    MSP_TYPE: "Medicare Secondary Payer type (SBR05): why Medicare pays second, e.g. 12 (working aged, "
    "employer group plan), 43 (disability), 47 (liability). Only for a Medicare policy that is not primary.",
    CLAIM_FILING_INDICATOR: "Claim filing indicator (SBR09): the kind of plan, e.g. MB (Medicare Part B), "
    "MC (Medicaid), CI (commercial), BL (Blue Cross/Blue Shield), HM (HMO).",
    UNITS: "Units: billing units of the code (for a drug, the dose divided by the HCPCS unit, e.g. "
    "400 mg of J1745 (10 mg) = 40 units); whole units on most lines.",
    AUTHORIZED_UNITS: "Approved units: the billing units of the authorized codes the payer approved "
    "(empty when the authorization counts visits only).",
    PAYER_CLAIM_NUMBER: "Payer claim control number (CLP07): the payer's own number for the claim, "
    "needed to correct or void it later.",
    TRACE_NUMBER: "Check or EFT trace number (TRN02): the number of the check or electronic payment, "
    "as printed on the EOB.",
    INTERCHANGE_ID: "Interchange ID (ISA06/ISA08): up to 15 characters agreed with the clearinghouse; "
    "often the clinic's TIN or the clearinghouse's submitter ID.",
}
"""The tooltip for each kind of code: what it is and how it is written."""

COLUMN_KINDS: Final[dict[str, str]] = {
    "Code": PROCEDURE_CODE,
    "Codes": PROCEDURE_CODES,
    "Modifiers": MODIFIERS,
    "Units": UNITS,
    "NDC": NDC,
    "NDC unit": NDC_UNIT,
    "NDC qty": NDC_QUANTITY,
    "Member ID": MEMBER_ID,
    "Diagnoses": ICD10,
    "Pointers": DIAGNOSIS_POINTERS,
    "Authorization": AUTHORIZATION_NUMBER,
}
"""Column titles that mean one kind of code wherever they appear."""

TABLE_COLUMN_KINDS: Final[dict[tuple[str, str], str]] = {
    ("patientPolicies", "Group"): GROUP_NUMBER,
    ("denialQueue", "Adjustment"): GROUP_AND_REASON,
    ("eobAdjustments", "Group"): ADJUSTMENT_GROUP,
    ("eobAdjustments", "Reason"): CARC,
    ("eobProviderAdjustments", "Reason"): PROVIDER_ADJUSTMENT,
}
"""Titles that mean different codes in different tables, by (table name, column title)."""


def code_help(kind: str) -> str:
    return CODE_HELP[kind]


def set_code_help(widget: QWidget, kind: str) -> None:
    """Give ``widget`` the tooltip of ``kind`` (a screen reader reads it as the field's description)."""
    widget.setToolTip(CODE_HELP[kind])


def column_help(table: str, title: str) -> str:
    """The header tooltip for column ``title`` of table ``table`` ("" when it shows no code)."""
    kind = TABLE_COLUMN_KINDS.get((table, title)) or COLUMN_KINDS.get(title)
    return CODE_HELP[kind] if kind else ""
