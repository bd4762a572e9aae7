"""Closed vocabularies shared by the models, the services and the billing rules."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    FRONT_DESK = "front_desk"
    NURSE = "nurse"
    BILLER = "biller"
    MANAGER = "manager"
    ADMIN = "admin"


class Sex(StrEnum):
    FEMALE = "F"
    MALE = "M"
    UNKNOWN = "U"


class PayerType(StrEnum):
    MEDICARE = "medicare"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"
    OTHER = "other"


class PolicyRank(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    TERTIARY = "tertiary"


class SubscriberRelationship(StrEnum):
    SELF = "self"
    SPOUSE = "spouse"
    CHILD = "child"
    OTHER = "other"


class VerificationMethod(StrEnum):
    PORTAL = "portal"
    PHONE = "phone"
    X12_271 = "271"
    FAX = "fax"


class EligibilityStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"
    ERROR = "error"


class AdminClass(StrEnum):
    CHEMOTHERAPY = "chemotherapy"
    COMPLEX_BIOLOGIC = "complex_biologic"
    THERAPEUTIC = "therapeutic"
    HYDRATION = "hydration"
    FLUSH = "flush"


class AdminMethod(StrEnum):
    INFUSION = "infusion"
    PUSH = "push"
    INJECTION = "injection"


class DoseBasis(StrEnum):
    FIXED = "fixed"
    PER_KG = "per_kg"
    PER_M2 = "per_m2"


class OrderStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class AuthorizationStatus(StrEnum):
    REQUESTED = "requested"
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


class VisitStatus(StrEnum):
    SCHEDULED = "scheduled"
    CHECKED_IN = "checked_in"
    IN_CHAIR = "in_chair"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"


class ClaimStatus(StrEnum):
    DRAFT = "draft"
    READY = "ready"
    BATCHED = "batched"
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    PAID = "paid"
    PARTIALLY_PAID = "partially_paid"
    DENIED = "denied"
    APPEALED = "appealed"
    CLOSED = "closed"


class BatchStatus(StrEnum):
    OPEN = "open"
    EXPORTED = "exported"
    SUBMITTED = "submitted"
    ACKNOWLEDGED = "acknowledged"
    REJECTED = "rejected"


class AdjustmentGroup(StrEnum):
    CO = "CO"
    PR = "PR"
    OI = "OI"
    PI = "PI"
    OA = "OA"


class EraPosting(StrEnum):
    """How a payer's 835 remittances are posted (the pattern of the best practice-management systems)."""

    REVIEW = "review"
    """Every remittance waits until a biller reviews and posts it (the default)."""
    MATCHED = "matched"
    """Posted at once when every claim and line found its match; otherwise it waits."""
    ALL = "all"
    """Posted at once; what finds no match waits on the review list."""


class PaymentMethod(StrEnum):
    CASH = "cash"
    CHECK = "check"
    CARD = "card"
    EFT = "eft"
    OTHER = "other"


class LineResponsibility(StrEnum):
    INSURANCE_PENDING = "insurance_pending"
    SECONDARY_PENDING = "secondary_pending"
    PATIENT_DUE = "patient_due"
    PAYMENT_PLAN = "payment_plan"
    IN_COLLECTIONS = "in_collections"
    WRITTEN_OFF = "written_off"
    SETTLED = "settled"


class DenialCategory(StrEnum):
    AUTHORIZATION = "authorization"
    MEDICAL_NECESSITY = "medical_necessity"
    CODING = "coding"
    MISSING_INFORMATION = "missing_information"
    NON_COVERED = "non_covered"
    BENEFIT_LIMIT = "benefit_limit"
    TIMELY_FILING = "timely_filing"
    DUPLICATE = "duplicate"
    BUNDLING = "bundling"
    ELIGIBILITY = "eligibility"
    OTHER = "other"


class WorkItemStatus(StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    RESUBMITTED = "resubmitted"
    APPEALED = "appealed"
    TRANSFERRED = "transferred_to_patient"
    WRITE_OFF_REQUESTED = "write_off_requested"
    WRITTEN_OFF = "written_off"
    CLOSED = "closed"


class AppealStatus(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    WON = "won"
    LOST = "lost"


class PlanStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    DEFAULTED = "defaulted"
    CANCELLED = "cancelled"
