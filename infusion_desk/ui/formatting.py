"""How dates, times and closed vocabularies read on screen (US clinic conventions).

    us_date(date(1956, 3, 14))  # -> "03/14/1956"

Times are stored in UTC and shown on the workstation's clock.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from infusion_desk.models.enums import PolicyRank, Sex, VisitStatus

SEX_LABELS: dict[Sex, str] = {Sex.FEMALE: "Female", Sex.MALE: "Male", Sex.UNKNOWN: "Unknown"}

RANK_LABELS: dict[PolicyRank, str] = {
    PolicyRank.PRIMARY: "Primary",
    PolicyRank.SECONDARY: "Secondary",
    PolicyRank.TERTIARY: "Tertiary",
}

STATUS_LABELS: dict[VisitStatus, str] = {
    VisitStatus.SCHEDULED: "Scheduled",
    VisitStatus.CHECKED_IN: "Checked in",
    VisitStatus.IN_CHAIR: "In chair",
    VisitStatus.COMPLETED: "Completed",
    VisitStatus.CANCELLED: "Cancelled",
    VisitStatus.NO_SHOW: "No-show",
}


def us_date(value: date | None) -> str:
    return "" if value is None else f"{value:%m/%d/%Y}"


def local_time(value: datetime) -> str:
    """A stored UTC timestamp as this workstation's wall-clock time, e.g. ``"8:30 AM"``."""
    return value.astimezone().strftime("%I:%M %p").lstrip("0")


def local_date(value: datetime) -> date:
    return value.astimezone().date()


def today_local() -> date:
    """Today on this workstation's clock (the clinic's day, not UTC's)."""
    return datetime.now(UTC).astimezone().date()


def sex_label(value: str) -> str:
    try:
        return SEX_LABELS[Sex(value)]
    except ValueError:
        return value
