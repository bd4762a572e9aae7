"""Prior-authorization burn-down: approved, used, scheduled and remaining units, and the alerts.

A payer approved 120 units of J1745 (infliximab, billed per 10 mg) from 11/01/2026 to
01/31/2027. One visit was coded with 37 units and 3 units of JW waste; two visits are
booked at 5 mg/kg for a 73 kg patient, 365 mg, so 37 units each:

    >>> auth = AuthorizationTerms(
    ...     number="PA-0001", status="approved", approved_units=Decimal(120), approved_visits=None,
    ...     valid_from=date(2026, 11, 1), valid_to=date(2027, 1, 31), codes=("J1745",))
    >>> dose = expected_units(Decimal(365), "mg", Decimal(10), "mg")
    >>> dose
    Decimal('37')
    >>> uses = (
    ...     VisitUse(date(2026, 11, 5), VisitState.COMPLETED, Decimal(40)),
    ...     VisitUse(date(2026, 12, 3), VisitState.SCHEDULED, dose),
    ...     VisitUse(date(2027, 1, 28), VisitState.SCHEDULED, dose),
    ... )
    >>> bd = burn_down(auth, uses)
    >>> bd.used_units, bd.scheduled_units, bd.remaining_units, bd.used_visits, bd.scheduled_visits
    (Decimal('40'), Decimal('74'), Decimal('6'), 1, 2)
    >>> [f.code for f in alerts(auth, bd, today=date(2027, 1, 20))]
    ['AUTH_EXPIRING']
    >>> print(alerts(auth, bd, today=date(2027, 1, 20))[0].message)  # doctest: +NORMALIZE_WHITESPACE
    Authorization PA-0001 ends on 01/31/2027, in 11 days: ask the payer to renew it before the
    next visits.

Units used are never typed in: they come from the units billed on the visit's coded lines
for the authorized codes (waste lines with JW included, since the payer counts them), or,
for a completed visit not yet coded, from the order's dose. Scheduled units come from the
order's dose for the patient's latest weight; when a dose cannot be computed (no weight on
file for a per-kg order) the units are *unknown* (``None``), never guessed.

Remaining = approved − used − scheduled, for units and for visits, whichever the payer
approved. An alert is a warning finding; a denied or expired authorization is an error.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from infusion_desk.billing import validation
from infusion_desk.billing.findings import Finding, error, warning
from infusion_desk.billing.findings import plain as _n
from infusion_desk.billing.findings import us_date as _us

__all__ = [
    "EXPIRING_DAYS",
    "STATUSES",
    "AuthorizationTerms",
    "BurnDown",
    "VisitState",
    "VisitUse",
    "alerts",
    "burn_down",
    "check_authorization",
    "expected_units",
    "requires_prior_authorization",
    "units_left_for",
]

EXPIRING_DAYS = 14
"""An authorization ending within this many days of today is flagged for renewal."""

LOW_DOSES = 2
"""Remaining units should cover at least this many upcoming doses."""

STATUSES = ("requested", "pending", "approved", "denied", "expired")

LARGEST_APPROVAL = Decimal("1e12")
"""Approved units or visits from here up are a typing slip, and past what the record can count."""

# The same mass conversions the coding engine uses to bill a dose in the code's unit.
_MASS_TO_MG = {"mg": Decimal(1), "g": Decimal(1000), "mcg": Decimal("0.001")}



class VisitState(StrEnum):
    COMPLETED = "completed"
    """Given: its units are used."""
    SCHEDULED = "scheduled"
    """Booked, checked in or in the chair: its units are committed but not yet used."""


@dataclass(frozen=True, slots=True)
class AuthorizationTerms:
    """What the payer approved."""

    number: str
    status: str
    approved_units: Decimal | None
    approved_visits: int | None
    valid_from: date
    valid_to: date
    codes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class VisitUse:
    """One visit of the patient for an authorized code, with the units it bills or will bill."""

    date_of_service: date
    state: VisitState
    units: Decimal | None
    """Billed units for a completed visit, expected units for a scheduled one; None: unknown."""


@dataclass(frozen=True, slots=True)
class BurnDown:
    approved_units: Decimal | None
    approved_visits: int | None
    used_units: Decimal
    used_visits: int
    scheduled_units: Decimal | None
    """None when any scheduled visit's units are unknown (no weight on file)."""
    scheduled_visits: int
    remaining_units: Decimal | None
    """None when nothing was approved in units, or the scheduled units are unknown."""
    remaining_visits: int | None
    upcoming: tuple[VisitUse, ...]
    """Scheduled visits inside the window, by date."""
    outside_window: tuple[date, ...]
    """Scheduled visits for an authorized code that fall outside the window."""

    @property
    def units_unknown(self) -> bool:
        return self.scheduled_units is None


def expected_units(
    dose: Decimal, dose_unit: str, billing_unit_amount: Decimal, billing_unit: str
) -> Decimal | None:
    """Billing units for ``dose``: the dose in the code's unit / the unit size, rounded up.

    The coding engine's rule for a drug line (domain/coding-rules.md, drug units), so the
    units an authorization expects match the units the claim will bill:

    >>> expected_units(Decimal(365), "mg", Decimal(10), "mg")
    Decimal('37')
    >>> expected_units(Decimal("0.5"), "g", Decimal(500), "mg")
    Decimal('1')
    >>> expected_units(Decimal(5), "mL", Decimal(10), "mg") is None  # no conversion known
    True
    """
    if billing_unit_amount <= 0 or dose <= 0:
        return None
    if dose_unit == billing_unit:
        amount = dose
    elif dose_unit in _MASS_TO_MG and billing_unit in _MASS_TO_MG:
        amount = dose * _MASS_TO_MG[dose_unit] / _MASS_TO_MG[billing_unit]
    else:
        return None
    return Decimal(math.ceil(amount / billing_unit_amount))


def burn_down(
    terms: AuthorizationTerms,
    visits: Iterable[VisitUse],
    outside_window: Iterable[date] = (),
    *,
    completed_units: Decimal = Decimal(0),
    completed_visits: int = 0,
) -> BurnDown:
    """Approved / used / scheduled / remaining for ``terms`` from the visits of its codes.

    ``visits`` are the patient's visits for the authorized codes; those outside the window
    neither use nor reserve units. ``outside_window`` are scheduled dates the caller found
    for the codes outside the window and not covered by another authorization.
    ``completed_units`` and ``completed_visits`` are totals of completed visits in the window
    that the caller summed already instead of listing them (a database adds them up faster
    than it lists them): they count exactly as the same visits listed as completed would.
    """
    inside = sorted(
        (v for v in visits if terms.valid_from <= v.date_of_service <= terms.valid_to),
        key=lambda v: v.date_of_service,
    )
    used = [v for v in inside if v.state is VisitState.COMPLETED]
    upcoming = tuple(v for v in inside if v.state is VisitState.SCHEDULED)
    used_units = sum((v.units or Decimal(0) for v in used), completed_units)
    scheduled_units: Decimal | None = Decimal(0)
    for v in upcoming:
        scheduled_units = None if scheduled_units is None or v.units is None else scheduled_units + v.units
    remaining_units = (
        None
        if terms.approved_units is None or scheduled_units is None
        else terms.approved_units - used_units - scheduled_units
    )
    remaining_visits = (
        None
        if terms.approved_visits is None
        else terms.approved_visits - len(used) - completed_visits - len(upcoming)
    )
    return BurnDown(
        approved_units=terms.approved_units,
        approved_visits=terms.approved_visits,
        used_units=used_units,
        used_visits=len(used) + completed_visits,
        scheduled_units=scheduled_units,
        scheduled_visits=len(upcoming),
        remaining_units=remaining_units,
        remaining_visits=remaining_visits,
        upcoming=upcoming,
        outside_window=tuple(sorted(set(outside_window))),
    )


def alerts(
    terms: AuthorizationTerms, bd: BurnDown, today: date, typical_dose: Decimal | None = None
) -> tuple[Finding, ...]:
    """What the desk should act on for one authorization, most serious first.

    * AUTH_DENIED / AUTH_EXPIRED (errors): the payer denied it, or its window has passed.
    * AUTH_LOW: approved − used covers fewer than the next two doses (the next two
      scheduled ones; ``typical_dose`` stands in for doses not yet booked).
    * AUTH_UNITS_UNKNOWN: a scheduled dose cannot be computed (no weight on file).
    * AUTH_EXPIRING: the window ends within 14 days of ``today``.
    * AUTH_OUTSIDE_WINDOW: one per scheduled visit outside the window, naming its date.
    """
    findings: list[Finding] = []
    subject = f"authorization:{terms.number}"
    if terms.status == "denied":
        findings.append(
            error(
                "AUTH_DENIED",
                f"Authorization {terms.number} was denied by the payer: "
                "appeal it or ask the ordering provider for an alternative.",
                subject,
            )
        )
    if terms.status == "expired" or (terms.status == "approved" and terms.valid_to < today):
        findings.append(
            error(
                "AUTH_EXPIRED",
                f"Authorization {terms.number} expired on {_us(terms.valid_to)}: "
                "request a new authorization.",
                subject,
            )
        )
    active = terms.status == "approved" and terms.valid_to >= today
    if active:
        findings.extend(_low(terms, bd, typical_dose, subject))
        days = (terms.valid_to - today).days
        if days <= EXPIRING_DAYS:
            when = "today" if days == 0 else "tomorrow" if days == 1 else f"in {days} days"
            findings.append(
                warning(
                    "AUTH_EXPIRING",
                    f"Authorization {terms.number} ends on {_us(terms.valid_to)}, "
                    f"{when}: ask the payer to renew it before the next visits.",
                    subject,
                )
            )
    if terms.status not in ("denied",):
        for day in bd.outside_window:
            side = "after it ends" if day > terms.valid_to else "before it starts"
            findings.append(
                warning(
                    "AUTH_OUTSIDE_WINDOW",
                    f"The visit on {_us(day)} is {side} "
                    f"(authorization {terms.number} runs {_us(terms.valid_from)}–{_us(terms.valid_to)}): "
                    "extend the authorization or move the visit.",
                    subject,
                )
            )
    return tuple(findings)


def _low(
    terms: AuthorizationTerms, bd: BurnDown, typical_dose: Decimal | None, subject: str
) -> list[Finding]:
    findings: list[Finding] = []
    if terms.approved_visits is not None:
        left = terms.approved_visits - bd.used_visits
        if left < LOW_DOSES:
            findings.append(
                warning(
                    "AUTH_LOW",
                    f"Authorization {terms.number}: only {left} of "
                    f"{terms.approved_visits} approved visits left, fewer than the next "
                    f"{LOW_DOSES} doses. Ask the payer for more visits.",
                    subject,
                )
            )
    if terms.approved_units is None:
        return findings
    doses = [v.units for v in bd.upcoming[:LOW_DOSES]]
    doses += [typical_dose] * (LOW_DOSES - len(doses)) if typical_dose is not None else []
    if any(d is None for d in doses):
        day = next(v.date_of_service for v in bd.upcoming if v.units is None)
        findings.append(
            warning(
                "AUTH_UNITS_UNKNOWN",
                f"Authorization {terms.number}: the dose for the visit on "
                f"{_us(day)} cannot be computed, so the units it needs are unknown. Record the "
                "patient's weight (and height for per-m² orders).",
                subject,
            )
        )
        return findings
    known = [d for d in doses if d is not None]
    needed = sum(known, Decimal(0))
    left_units = terms.approved_units - bd.used_units
    if known and left_units < needed:
        findings.append(
            warning(
                "AUTH_LOW",
                f"Authorization {terms.number}: {_n(left_units)} of "
                f"{_n(terms.approved_units)} approved units left, fewer than the next "
                f"{len(known)} doses need ({_n(needed)}). Ask the payer for more units.",
                subject,
            )
        )
    return findings


def units_left_for(bd: BurnDown, day: date, exclude_index: int | None = None) -> Decimal | None:
    """Approved units still free for a dose on ``day``: approved − used − doses booked before it.

    Doses booked after ``day`` do not reduce what today's dose may use; ``exclude_index``
    is the position in ``bd.upcoming`` of the visit being checked, which is not counted.

    >>> bd = burn_down(AuthorizationTerms("A", "approved", Decimal(50), None, date(2026, 1, 1),
    ...     date(2026, 12, 31), ("J1745",)), [VisitUse(date(2026, 3, 1), VisitState.COMPLETED, Decimal(37))])
    >>> units_left_for(bd, date(2026, 4, 1))
    Decimal('13')
    """
    if bd.approved_units is None:
        return None
    ahead = Decimal(0)
    for index, v in enumerate(bd.upcoming):
        if index == exclude_index or v.date_of_service >= day:
            continue
        if v.units is None:
            return None
        ahead += v.units
    return bd.approved_units - bd.used_units - ahead


def requires_prior_authorization(payer_type: str, payer_rule: bool | None = None) -> bool:
    """Whether a visit billed to a payer of ``payer_type`` needs a prior authorization.

    ``payer_rule`` is the payer's own answer when the clinic has recorded one; it wins.
    Without one, traditional Medicare (Part B) is assumed not to require prior authorization
    for office infusion drugs, and every other payer (Medicaid, commercial, other) is assumed
    to require it. This is the one place the default lives, so it can become payer data.

    >>> requires_prior_authorization("medicare"), requires_prior_authorization("commercial")
    (False, True)
    >>> requires_prior_authorization("medicare", payer_rule=True)
    True
    """
    if payer_rule is not None:
        return payer_rule
    return payer_type != "medicare"


def _parse_units(
    text: str | None, field: str, label: str, whole: bool
) -> tuple[Decimal | None, list[Finding]]:
    value = (text or "").strip().replace(",", "")
    if not value:
        return None, []
    try:
        number = Decimal(value)
    except InvalidOperation:
        return None, [error("NUMBER", f"{field}: {label} {value!r} is not a number.", field)]
    if not number.is_finite():
        return None, [error("NUMBER", f"{field}: {label} {value!r} is not a number.", field)]
    if number <= 0:
        return None, [error("NUMBER", f"{field}: {label} must be more than zero.", field)]
    if number >= LARGEST_APPROVAL:
        return None, [
            error(
                "NUMBER",
                f"{field}: {label} {value!r} is too large: no approval reaches a trillion. "
                "Check the number on the payer's letter.",
                field,
            )
        ]
    if whole and number != number.to_integral_value():
        return None, [error("NUMBER", f"{field}: {label} must be a whole number.", field)]
    if number != number.quantize(Decimal("0.001")):
        return None, [error("NUMBER", f"{field}: {label} has more than 3 decimal places.", field)]
    return number, []


def check_authorization(
    number: str,
    status: str,
    valid_from: date | None,
    valid_to: date | None,
    codes: Iterable[str],
    approved_units: str | None,
    approved_visits: str | None,
) -> tuple[tuple[Finding, ...], Decimal | None, int | None]:
    """Check an authorization as typed; return the findings and the parsed units and visits.

    >>> findings, units, visits = check_authorization(
    ...     "PA-1", "approved", date(2026, 3, 1), date(2026, 1, 1), ["J1745"], "120", "")
    >>> [(f.code, f.subject) for f in findings]
    [('AUTH_DATES', 'valid_to')]
    >>> print(findings[0].message)  # doctest: +NORMALIZE_WHITESPACE
    valid_to: The authorization ends before it starts (03/01/2026 to 01/01/2026).
    Check the dates on the payer's approval letter.
    """
    findings: list[Finding] = []
    if not number.strip():
        findings.append(error("REQUIRED", "number: enter the authorization number from the payer.", "number"))
    if status not in STATUSES:
        findings.append(error("AUTH_STATUS", f"status: {status!r} is not an authorization status.", "status"))
    if valid_from is None:
        findings.append(
            error("REQUIRED", "valid_from: enter the first day the authorization covers.", "valid_from")
        )
    if valid_to is None:
        findings.append(
            error("REQUIRED", "valid_to: enter the last day the authorization covers.", "valid_to")
        )
    if valid_from is not None and valid_to is not None and valid_to < valid_from:
        findings.append(
            error(
                "AUTH_DATES",
                f"valid_to: The authorization ends before it starts ({_us(valid_from)} "
                f"to {_us(valid_to)}). Check the dates on the payer's approval letter.",
                "valid_to",
            )
        )
    code_list = [c for c in codes if c.strip()]
    if not code_list:
        findings.append(
            error(
                "REQUIRED",
                "codes: enter at least one HCPCS drug code or CPT administration code "
                "the authorization covers, for example J1745 or 96413.",
                "codes",
            )
        )
    seen: set[str] = set()
    for index, code in enumerate(code_list):
        findings.extend(validation.check_hcpcs(code, f"codes[{index}]"))
        bare = validation.normalize_hcpcs(code)
        if bare in seen:
            findings.append(error("DUPLICATE", f"codes[{index}]: {bare} is listed twice.", f"codes[{index}]"))
        seen.add(bare)
    units, unit_findings = _parse_units(approved_units, "approved_units", "approved units", whole=False)
    visits_number, visit_findings = _parse_units(
        approved_visits, "approved_visits", "approved visits", whole=True
    )
    findings += unit_findings + visit_findings
    if (
        status == "approved"
        and units is None
        and visits_number is None
        and not unit_findings + visit_findings
    ):
        findings.append(
            error(
                "REQUIRED",
                "approved_units: an approved authorization needs the approved units or "
                "visits from the payer's letter.",
                "approved_units",
            )
        )
    visits = int(visits_number) if visits_number is not None else None
    return tuple(findings), units, visits


def expiry_date(today: date, days: int = EXPIRING_DAYS) -> date:
    """The last expiry date that counts as "expiring soon" on ``today``."""
    return today + timedelta(days=days)
