"""SQLAlchemy entities for the whole clinic and the database engine/session (no Qt here).

The entity classes load on first use (``from infusion_desk.models import Patient``), so
importing a light submodule such as ``models.enums`` does not pull in SQLAlchemy: the
window can appear before the data layer has finished importing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

_ENTITY_MODULES = ("base", "clinic", "patients", "visits", "claims", "payments")

if TYPE_CHECKING:
    from infusion_desk.models.base import Base
    from infusion_desk.models.claims import (
        Claim,
        ClaimAcknowledgement,
        ClaimBatch,
        ClaimDiagnosis,
        ClaimLine,
        ClaimStatusEvent,
        ClearinghouseProfile,
        ControlNumber,
        InboundFile,
    )
    from infusion_desk.models.clinic import (
        AspPrice,
        Chair,
        ChargeMasterEntry,
        Clinic,
        Drug,
        DrugNdc,
        FeeScheduleEntry,
        Payer,
        Provider,
        Setting,
        User,
    )
    from infusion_desk.models.patients import (
        Attachment,
        AuthorizationCode,
        EligibilityCheck,
        InsurancePolicy,
        OrderDiagnosis,
        Patient,
        PhysicianOrder,
        PriorAuthorization,
    )
    from infusion_desk.models.payments import (
        Adjustment,
        Appeal,
        AuditEvent,
        CollectionNote,
        DenialWorkItem,
        LineAdjustment,
        PatientPayment,
        PaymentAllocation,
        PaymentPlan,
        ProviderAdjustment,
        Remittance,
        RemittanceClaim,
        RemittanceLine,
        Statement,
    )
    from infusion_desk.models.visits import (
        Administration,
        AdministrationInterruption,
        CodedLine,
        CodedLineHistory,
        Intervention,
        Reaction,
        Visit,
        VisitAddendum,
        VitalSign,
    )

__all__ = [
    "Adjustment", "Administration", "AdministrationInterruption", "Appeal", "AspPrice", "Attachment",
    "AuditEvent", "AuthorizationCode", "Base", "Chair", "ChargeMasterEntry", "Claim",
    "ClaimAcknowledgement", "ClaimBatch", "ClaimDiagnosis", "ClaimLine", "ClaimStatusEvent",
    "ClearinghouseProfile", "Clinic", "CodedLine", "CodedLineHistory", "CollectionNote", "ControlNumber",
    "DenialWorkItem", "Drug", "DrugNdc", "EligibilityCheck", "FeeScheduleEntry", "InboundFile",
    "InsurancePolicy", "Intervention", "LineAdjustment", "OrderDiagnosis", "Patient", "PatientPayment",
    "Payer",
    "PaymentAllocation", "PaymentPlan", "PhysicianOrder", "PriorAuthorization", "Provider",
    "ProviderAdjustment", "Reaction", "Remittance", "RemittanceClaim", "RemittanceLine",
    "Setting", "Statement", "User", "Visit", "VisitAddendum", "VitalSign",
]


def load_all() -> None:
    """Import every entity module, so the mappers and the metadata are complete."""
    for name in _ENTITY_MODULES:
        importlib.import_module(f"{__name__}.{name}")


def __getattr__(name: str) -> Any:
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    load_all()
    for module_name in _ENTITY_MODULES:
        module = importlib.import_module(f"{__name__}.{module_name}")
        if hasattr(module, name):
            value = getattr(module, name)
            globals()[name] = value
            return value
    raise AttributeError(name)
