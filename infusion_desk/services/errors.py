"""Errors a use case can raise, split the way the user must react to them.

* :class:`ValidationFailed` — bad input: show the findings, each names the field to fix.
* :class:`PermissionDenied` — the signed-in role may not do this.
* :class:`NotFound` — the record is gone (deleted elsewhere, wrong id).
* :class:`EnvironmentFault` — the machine's fault (database locked, disk full, server down):
  show a calm message and offer to retry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from infusion_desk.billing.findings import Finding
from infusion_desk.models.errors import DatabaseUnavailable


class ServiceError(Exception):
    """Base class of every error a service raises on purpose."""


class ValidationFailed(ServiceError):
    def __init__(self, findings: Iterable[Finding]) -> None:
        self.findings = tuple(findings)
        super().__init__("; ".join(f.message for f in self.findings if f.blocks))


class PossibleDuplicate(ServiceError):
    """The new record looks like one already on file; ``matches`` are the candidates to open instead."""

    def __init__(self, message: str, matches: tuple[Any, ...]) -> None:
        super().__init__(message)
        self.matches = matches


class PermissionDenied(ServiceError):
    pass


class AuthenticationFailed(ServiceError):
    pass


class NotFound(ServiceError):
    pass


class EnvironmentFault(ServiceError):
    """The database or the file system failed for reasons outside the user's input."""


ENVIRONMENT_ERRORS: tuple[type[BaseException], ...] = (EnvironmentFault, DatabaseUnavailable, OSError)
"""Failures that are the machine's, not the user's or a bug: show calmly and offer a retry."""
