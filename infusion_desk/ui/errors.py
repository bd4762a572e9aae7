"""How a failed service call is shown: bad input, a missing permission, a fault, or a bug.

    describe(NotFound("Patient 7 no longer exists."))  # -> "Patient 7 no longer exists."

Environment faults (database locked, server down) get a calm message and a Retry button;
anything unexpected is a bug and gets a report the user can copy and send.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

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
    return "Something went wrong"


def show_error(
    parent: QWidget, exc: BaseException, *, retry: Callable[[], None] | None = None
) -> QMessageBox:
    """Open a window-modal message about ``exc`` without blocking, and return it."""
    box = QMessageBox(parent)
    box.setObjectName("errorMessage")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setWindowTitle(_title(exc))
    box.setText(describe(exc))
    if isinstance(exc, ENVIRONMENT_ERRORS):
        box.setIcon(QMessageBox.Icon.Information)
        box.setInformativeText(str(exc))
        if retry is not None:
            box.setStandardButtons(QMessageBox.StandardButton.Retry | QMessageBox.StandardButton.Cancel)
            box.setDefaultButton(QMessageBox.StandardButton.Retry)
            box.button(QMessageBox.StandardButton.Retry).clicked.connect(retry)
    elif isinstance(exc, ServiceError):
        box.setIcon(QMessageBox.Icon.Warning)
    else:
        box.setIcon(QMessageBox.Icon.Critical)
        box.setInformativeText(
            "Please send the details below to your Infusion Desk support contact."
        )
        box.setDetailedText("".join(traceback.format_exception(exc)))
    box.open()
    return box
