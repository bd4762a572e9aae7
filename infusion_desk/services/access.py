"""Who may do what: roles map to permissions, and every service checks one.

The signed-in user is an :class:`Actor`; the GUI and the CLI obtain one from
:meth:`~infusion_desk.services.auth.AuthService.sign_in` and pass it to every call.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from infusion_desk.models.enums import Role
from infusion_desk.services.errors import PermissionDenied


class Permission(StrEnum):
    PATIENT_VIEW = "patient.view"
    PATIENT_EDIT = "patient.edit"
    SCHEDULE_EDIT = "schedule.edit"
    CHECK_IN = "visit.check_in"
    DOCUMENT_ADMINISTRATION = "visit.document"
    SIGN_VISIT = "visit.sign"
    CODE_VISIT = "visit.code"
    CLAIM_EDIT = "claim.edit"
    BATCH_EXPORT = "batch.export"
    REMITTANCE_POST = "remittance.post"
    DENIAL_WORK = "denial.work"
    WRITE_OFF_REQUEST = "writeoff.request"
    WRITE_OFF_APPROVE = "writeoff.approve"
    PATIENT_PAYMENT = "payment.patient"
    PATIENT_REFUND = "payment.refund"
    COLLECTIONS_HANDOFF = "collections.handoff"
    REPORTS_VIEW = "reports.view"
    CLINIC_SETTINGS = "clinic.settings"
    USERS_MANAGE = "users.manage"
    DEMO_CREATE = "demo.create"
    AUDIT_VIEW = "audit.view"
    DATABASE_KEY = "database.key"


_FRONT_DESK = {
    Permission.PATIENT_VIEW,
    Permission.PATIENT_EDIT,
    Permission.SCHEDULE_EDIT,
    Permission.CHECK_IN,
    Permission.PATIENT_PAYMENT,
}
_NURSE = {
    Permission.PATIENT_VIEW,
    Permission.CHECK_IN,
    Permission.DOCUMENT_ADMINISTRATION,
    Permission.SIGN_VISIT,
}
_BILLER = {
    Permission.PATIENT_VIEW,
    Permission.PATIENT_EDIT,
    Permission.CODE_VISIT,
    Permission.CLAIM_EDIT,
    Permission.BATCH_EXPORT,
    Permission.REMITTANCE_POST,
    Permission.DENIAL_WORK,
    Permission.WRITE_OFF_REQUEST,
    Permission.PATIENT_PAYMENT,
    Permission.REPORTS_VIEW,
}
_MANAGER = _FRONT_DESK | _BILLER | {
    Permission.WRITE_OFF_APPROVE,
    Permission.PATIENT_REFUND,
    Permission.COLLECTIONS_HANDOFF,
    Permission.CLINIC_SETTINGS,
    Permission.AUDIT_VIEW,
}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.FRONT_DESK: frozenset(_FRONT_DESK),
    Role.NURSE: frozenset(_NURSE),
    Role.BILLER: frozenset(_BILLER),
    Role.MANAGER: frozenset(_MANAGER),
    Role.ADMIN: frozenset(Permission),
}

ROLE_LABELS: dict[Role, str] = {
    Role.FRONT_DESK: "Front desk",
    Role.NURSE: "Nurse",
    Role.BILLER: "Biller",
    Role.MANAGER: "Manager",
    Role.ADMIN: "Administrator",
}


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in user on whose behalf a service acts."""

    user_id: int
    username: str
    display_name: str
    role: Role

    def can(self, permission: Permission) -> bool:
        return permission in ROLE_PERMISSIONS[self.role]

    def require(self, permission: Permission) -> None:
        if not self.can(permission):
            raise PermissionDenied(
                f"{ROLE_LABELS[self.role]} accounts may not do this ({permission.value}). "
                f"Ask a user with the right role."
            )
