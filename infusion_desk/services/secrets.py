"""The SFTP password (or key passphrase) for a clearinghouse, kept in the operating system's keyring.

    store_sftp_secret("Demo Clearinghouse", "s3cret")   # Windows Credential Manager, macOS Keychain,
    load_sftp_secret("Demo Clearinghouse")              # GNOME Keyring / KWallet... -> "s3cret"
    forget_sftp_secret("Demo Clearinghouse")

The secret is stored under the service name ``Infusion Desk`` and a per-profile key (see
:func:`sftp_secret_key`), for the signed-in operating-system user of this computer only. It is
never written to the database, a file, a log or the audit trail: the clearinghouse profile holds
the host, port, user name and folder, and :class:`SecretService` records *that* the secret was
changed, never what it is. A computer without a usable keyring raises
:class:`SecretStoreUnavailable`; the upload can still go ahead with a password typed for that
one upload.
"""

from __future__ import annotations

import keyring
import keyring.errors
import sqlalchemy as sa
from sqlalchemy.orm import Session

from infusion_desk.billing.findings import error
from infusion_desk.models import ClearinghouseProfile
from infusion_desk.models.db import Database
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import NotFound, ServiceError, ValidationFailed

SERVICE_NAME = "Infusion Desk"

NO_KEYRING = (
    "This computer has no password store that Infusion Desk can use, so the SFTP password cannot "
    "be saved. Type it when you upload, or ask your IT support to turn on the system's password "
    "store (Windows Credential Manager, macOS Keychain, or GNOME Keyring / KWallet on Linux)."
)
LOCKED_KEYRING = (
    "The computer's password store is locked. Unlock it (it usually asks for your computer "
    "password), then try again."
)
KEYRING_FAILED = "The computer's password store did not answer ({reason}). Try again in a moment."


class SecretStoreUnavailable(ServiceError):
    """No usable keyring: the message says what to do, and ``retryable`` whether trying again can help."""

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


def sftp_secret_key(profile_name: str) -> str:
    """The keyring entry (its "username") holding the SFTP secret of a clearinghouse profile.

    >>> sftp_secret_key("  Demo Clearinghouse ")
    'sftp:Demo Clearinghouse'
    """
    return f"sftp:{profile_name.strip()}"


def _unavailable(exc: keyring.errors.KeyringError) -> SecretStoreUnavailable:
    if isinstance(exc, keyring.errors.NoKeyringError):
        return SecretStoreUnavailable(NO_KEYRING)
    if isinstance(exc, keyring.errors.KeyringLocked):
        return SecretStoreUnavailable(LOCKED_KEYRING, retryable=True)
    # Backend messages name the backend and the D-Bus or OS error; they never carry the secret.
    return SecretStoreUnavailable(KEYRING_FAILED.format(reason=type(exc).__name__), retryable=True)


def store_sftp_secret(profile_name: str, secret: str) -> None:
    """Save the password or key passphrase for ``profile_name``, replacing any saved before."""
    try:
        keyring.set_password(SERVICE_NAME, sftp_secret_key(profile_name), secret)
    except keyring.errors.KeyringError as exc:
        raise _unavailable(exc) from None


def load_sftp_secret(profile_name: str) -> str | None:
    """The saved secret for ``profile_name``, or ``None`` when none is saved on this computer."""
    try:
        return keyring.get_password(SERVICE_NAME, sftp_secret_key(profile_name))
    except keyring.errors.KeyringError as exc:
        raise _unavailable(exc) from None


def forget_sftp_secret(profile_name: str) -> None:
    """Remove the saved secret for ``profile_name``; nothing happens when none is saved."""
    try:
        keyring.delete_password(SERVICE_NAME, sftp_secret_key(profile_name))
    except keyring.errors.PasswordDeleteError:
        return
    except keyring.errors.KeyringError as exc:
        raise _unavailable(exc) from None


class SecretService:
    """Saving and forgetting a clearinghouse's SFTP secret on behalf of a signed-in user, audited.

    Those who upload batches (``Permission.BATCH_EXPORT``: billers, managers, administrators)
    may save the secret: it lives in each computer's own keyring, so each workstation that
    uploads needs it once.
    """

    def __init__(self, db: Database) -> None:
        self._db = db

    def _profile_id(self, session: Session, profile_name: str) -> int:
        profile_id = session.scalar(
            sa.select(ClearinghouseProfile.id).where(ClearinghouseProfile.name == profile_name.strip())
        )
        if profile_id is None:
            raise NotFound(f"There is no clearinghouse named {profile_name.strip()!r}.")
        return profile_id

    def has_sftp_secret(self, actor: Actor, profile_name: str) -> bool:
        """Whether this computer has a secret saved for the profile (the secret itself stays put)."""
        actor.require(Permission.BATCH_EXPORT)
        return load_sftp_secret(profile_name) is not None

    def set_sftp_secret(self, actor: Actor, profile_name: str, secret: str) -> None:
        """Save the SFTP password or key passphrase in this computer's keyring, and audit that it changed."""
        actor.require(Permission.BATCH_EXPORT)
        if not secret:
            raise ValidationFailed([error("REQUIRED", "Enter the SFTP password (or the key's passphrase) "
                                          "to save.", "sftp_secret")])
        with self._db.session() as session:
            profile_id = self._profile_id(session, profile_name)
            audit.record(session, actor, "clearinghouse.sftp_secret_changed", "clearinghouse_profile",
                         profile_id, detail={"stored_in": "system keyring"})
            # Inside the unit of work: if the keyring refuses, the audit record is rolled back too.
            store_sftp_secret(profile_name, secret)

    def forget_sftp_secret(self, actor: Actor, profile_name: str) -> None:
        """Remove this computer's saved secret for the profile, and audit it."""
        actor.require(Permission.BATCH_EXPORT)
        with self._db.session() as session:
            profile_id = self._profile_id(session, profile_name)
            audit.record(session, actor, "clearinghouse.sftp_secret_forgotten", "clearinghouse_profile",
                         profile_id)
            forget_sftp_secret(profile_name)
