"""What a validation or scrubber rule returns: findings, never exceptions.

    >>> f = Finding(Level.ERROR, "NPI_CHECK_DIGIT", "NPI 1234567890 fails its check digit.", "npi")
    >>> f.blocks
    True

The caller decides what to show; a rule only says what is wrong, where, and how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum


class Level(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Finding:
    level: Level
    code: str
    message: str
    subject: str = ""
    """The field or record the finding is about (``"npi"``, ``"policy.termination_date"``)."""

    @property
    def blocks(self) -> bool:
        return self.level is Level.ERROR


def error(code: str, message: str, subject: str = "") -> Finding:
    return Finding(Level.ERROR, code, message, subject)


def warning(code: str, message: str, subject: str = "") -> Finding:
    return Finding(Level.WARNING, code, message, subject)


def us_date(day: date) -> str:
    """A date as messages print it.

    >>> us_date(date(2026, 3, 2))
    '03/02/2026'
    """
    return f"{day:%m/%d/%Y}"


def plain(value: Decimal) -> str:
    """A quantity as messages print it: no exponent, no trailing zeros.

    >>> plain(Decimal("37.00")), plain(Decimal("1E+2"))
    ('37', '100')
    """
    return format(value.normalize(), "f")
