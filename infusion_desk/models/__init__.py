"""SQLAlchemy entities for the whole clinic and the database engine/session (no Qt here)."""

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
    "Adjustment", "Administration", "AdministrationInterruption", "Appeal", "Attachment",
    "AuditEvent", "AuthorizationCode", "Base", "Chair", "ChargeMasterEntry", "Claim",
    "ClaimAcknowledgement", "ClaimBatch", "ClaimDiagnosis", "ClaimLine", "ClaimStatusEvent",
    "ClearinghouseProfile", "Clinic", "CodedLine", "CodedLineHistory", "CollectionNote", "ControlNumber",
    "DenialWorkItem", "Drug", "DrugNdc", "EligibilityCheck", "FeeScheduleEntry", "InboundFile",
    "InsurancePolicy", "Intervention", "OrderDiagnosis", "Patient", "PatientPayment", "Payer",
    "PaymentAllocation", "PaymentPlan", "PhysicianOrder", "PriorAuthorization", "Provider",
    "ProviderAdjustment", "Reaction", "Remittance", "RemittanceClaim", "RemittanceLine",
    "Setting", "Statement", "User", "Visit", "VisitAddendum", "VitalSign",
]
