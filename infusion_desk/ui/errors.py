"""How a failed service call is shown: bad input, a missing permission, a fault, or a bug.

    describe(NotFound("Patient 7 no longer exists."))  # -> "Patient 7 no longer exists."

Environment faults (database locked, server down) get a calm message and a Retry button;
anything unexpected is a bug and gets a report the user can copy and send. A service error
that knows it may pass (``retryable``: an SFTP server that did not answer, a locked password
store) shows its own message, also with Retry.
"""

from __future__ import annotations

import sys
import traceback
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QWidget

from infusion_desk.services.errors import (
    ENVIRONMENT_ERRORS,
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    ServiceError,
    ValidationFailed,
)

ENVIRONMENT_MESSAGE = (
    "Infusion Desk could not reach the clinic database just now. Nothing you entered was lost. "
    "Check the network or wait a moment, then try again."
)


def describe(exc: BaseException) -> str:
    """One line a user can act on."""
    if isinstance(exc, ValidationFailed):
        return "\n".join(f.message for f in exc.findings) or "The input was not accepted."
    if isinstance(exc, ENVIRONMENT_ERRORS):
        return ENVIRONMENT_MESSAGE
    if isinstance(exc, ServiceError):
        return str(exc)
    return f"Something went wrong inside Infusion Desk ({type(exc).__name__})."


def is_upload_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is an SFTP upload's :class:`~infusion_desk.services.uploads.UploadFailed`.

    Looked up without importing the upload module (and paramiko) at start-up: an
    ``UploadFailed`` can only exist once that module has been loaded.
    """
    uploads = sys.modules.get("infusion_desk.services.uploads")
    return uploads is not None and isinstance(exc, uploads.UploadFailed)


def is_secret_store_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is :class:`~infusion_desk.services.secrets.SecretStoreUnavailable`.

    Looked up the same way, so the keyring is not imported while the window first appears.
    """
    secrets = sys.modules.get("infusion_desk.services.secrets")
    return secrets is not None and isinstance(exc, secrets.SecretStoreUnavailable)


def can_retry(exc: BaseException) -> bool:
    """Whether trying the same thing again may work: an environment fault, or a service error saying so."""
    return isinstance(exc, ENVIRONMENT_ERRORS) or (
        isinstance(exc, ServiceError) and bool(getattr(exc, "retryable", False))
    )


def _title(exc: BaseException) -> str:
    if isinstance(exc, ValidationFailed):
        return "Please check the input"
    if isinstance(exc, PermissionDenied):
        return "Not allowed for your role"
    if isinstance(exc, NotFound):
        return "Record not found"
    if isinstance(exc, AuthenticationFailed):
        return "Sign-in needed"
    if isinstance(exc, ENVIRONMENT_ERRORS):
        return "Database not reachable"
    if is_secret_store_failure(exc):
        return "Password store not available"
    if is_upload_failure(exc):
        return "Upload not completed"
    return "Something went wrong"


def show_error(
    parent: QWidget, exc: BaseException, *, retry: Callable[[], None] | None = None
) -> QMessageBox:
    """Open a window-modal message about ``exc`` without blocking, and return it.

    ``retry`` is offered (as the default button) when trying again may help: see :func:`can_retry`.
    """
    box = QMessageBox(parent)
    box.setObjectName("errorMessage")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowTitle(_title(exc))
    box.setText(describe(exc))
    if retry is not None and can_retry(exc):
        box.setStandardButtons(QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Retry)
        box.button(QMessageBox.StandardButton.Retry).clicked.connect(retry)
    if isinstance(exc, ENVIRONMENT_ERRORS):
        box.setIcon(QMessageBox.Icon.Information)
        box.setInformativeText(str(exc))
    elif isinstance(exc, ServiceError):
        box.setIcon(QMessageBox.Icon.Information if can_retry(exc) else QMessageBox.Icon.Warning)
    else:
        box.setIcon(QMessageBox.Icon.Critical)
        box.setInformativeText(
            "Please send the details below to your Infusion Desk support contact."
        )
        box.setDetailedText("".join(traceback.format_exception(exc)))
    box.open()
    return box


def report_failure(
    parent: QWidget, label: QLabel, exc: BaseException, *, retry: Callable[[], None] | None = None
) -> None:
    """Say what went wrong in ``label``; all but bad input also gets a message box (Retry if it may help)."""
    label.setText(describe(exc))
    if not isinstance(exc, ValidationFailed):
        show_error(parent, exc, retry=retry)
