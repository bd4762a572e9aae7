"""Burn-down arithmetic, alerts and field checks for prior authorizations (pure, no database)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from infusion_desk.billing.authorizations import (
    AuthorizationTerms,
    VisitState,
    VisitUse,
    alerts,
    burn_down,
    check_authorization,
    expected_units,
    requires_prior_authorization,
    units_left_for,
)

D = Decimal
DONE, BOOKED = VisitState.COMPLETED, VisitState.SCHEDULED


def terms(units: str | None = "120", visits: int | None = None, status: str = "approved",
          valid_from: date = date(2026, 11, 1), valid_to: date = date(2027, 1, 31)) -> AuthorizationTerms:
    return AuthorizationTerms("PA-TEST-1", status, D(units) if units else None, visits,
                              valid_from, valid_to, ("J1745",))


@pytest.mark.parametrize(
    ("dose", "unit", "size", "size_unit", "expected"),
    [
        # DOMAIN.md: units = dose / unit size, rounded up; J1745 is billed per 10 mg: 365/10 -> 37
        ("365", "mg", "10", "mg", "37"),
        # exactly 40 units: 400/10, no rounding
        ("400", "mg", "10", "mg", "40"),
        # J1569 immune globulin per 500 mg; 0.5 g = 500 mg -> 1 unit (mass conversion as in coding.py)
        ("0.5", "g", "500", "mg", "1"),
        # J2506 pegfilgrastim per 0.5 mg: 6 mg / 0.5 = 12
        ("6", "mg", "0.5", "mg", "12"),
        # J3380 vedolizumab per 1 mg: 300 mg -> 300
        ("300", "mg", "1", "mg", "300"),
        # mL cannot be billed in mg without a concentration: unknown, not guessed
        ("5", "mL", "10", "mg", None),
    ],
)
def test_expected_units_round_up_like_the_coding_engine(dose, unit, size, size_unit, expected) -> None:
    result = expected_units(D(dose), unit, D(size), size_unit)
    assert result == (None if expected is None else D(expected))


@pytest.mark.parametrize(
    ("approved_units", "approved_visits", "uses", "expected"),
    [
        # Arithmetic: 120 approved, 40 billed (37 + 3 JW), 2 x 37 booked -> 120 - 40 - 74 = 6
        ("120", None, [(date(2026, 11, 5), DONE, "40"), (date(2026, 12, 3), BOOKED, "37"),
                       (date(2027, 1, 28), BOOKED, "37")], ("40", 1, "74", 2, "6", None)),
        # visits outside the window neither use nor reserve: only the 12/03 visit counts
        ("120", None, [(date(2026, 10, 5), DONE, "40"), (date(2026, 12, 3), BOOKED, "37"),
                       (date(2027, 2, 28), BOOKED, "37")], ("0", 0, "37", 1, "83", None)),
        # approved in visits only: 6 - 2 used - 1 booked = 3 visits; units not approved -> None
        (None, 6, [(date(2026, 11, 5), DONE, "37"), (date(2026, 11, 19), DONE, "37"),
                   (date(2026, 12, 3), BOOKED, "37")], ("74", 2, "37", 1, None, 3)),
        # a booked dose with unknown units (no weight on file): scheduled and remaining unknown
        ("120", 4, [(date(2026, 11, 5), DONE, "37"), (date(2026, 12, 3), BOOKED, None)],
         ("37", 1, None, 1, None, 2)),
        # overdrawn: 50 approved, 37 used, 37 booked -> -24 (shown as negative, never clipped)
        ("50", None, [(date(2026, 11, 5), DONE, "37"), (date(2026, 12, 3), BOOKED, "37")],
         ("37", 1, "37", 1, "-24", None)),
    ],
)
def test_burn_down(approved_units, approved_visits, uses, expected) -> None:
    bd = burn_down(terms(approved_units, approved_visits),
                   [VisitUse(day, state, D(units) if units else None) for day, state, units in uses])
    used, used_visits, scheduled, scheduled_visits, remaining, remaining_visits = expected
    assert bd.used_units == D(used)
    assert bd.used_visits == used_visits
    assert bd.scheduled_units == (D(scheduled) if scheduled else None)
    assert bd.scheduled_visits == scheduled_visits
    assert bd.remaining_units == (D(remaining) if remaining else None)
    assert bd.remaining_visits == remaining_visits


@pytest.mark.parametrize(
    ("case", "uses", "status", "today", "typical", "codes"),
    [
        # 120 - 40 = 80 covers the next two doses (74): nothing to say, 12/01 is 61 days before expiry
        ("healthy", [(date(2026, 11, 5), DONE, "40"), (date(2026, 12, 3), BOOKED, "37"),
                     (date(2027, 1, 28), BOOKED, "37")], "approved", date(2026, 12, 1), None, []),
        # 120 - 90 = 30 < 37 + 37: AUTH_LOW
        ("low", [(date(2026, 11, 5), DONE, "90"), (date(2026, 12, 3), BOOKED, "37"),
                 (date(2027, 1, 28), BOOKED, "37")], "approved", date(2026, 12, 1), None, ["AUTH_LOW"]),
        # only one dose booked; the order's typical dose (37) stands in for the second: 50 < 74
        ("low with one booked", [(date(2026, 11, 5), DONE, "70"), (date(2026, 12, 3), BOOKED, "37")],
         "approved", date(2026, 12, 1), D(37), ["AUTH_LOW"]),
        # 01/31 - 01/17 = 14 days: within the 14-day horizon (boundary counts)
        ("expiring boundary", [], "approved", date(2027, 1, 17), None, ["AUTH_EXPIRING"]),
        # 15 days left: not yet
        ("not yet expiring", [], "approved", date(2027, 1, 16), None, []),
        # window ended yesterday while still marked approved: expired
        ("lapsed", [], "approved", date(2027, 2, 1), None, ["AUTH_EXPIRED"]),
        ("expired status", [], "expired", date(2026, 12, 1), None, ["AUTH_EXPIRED"]),
        ("denied", [], "denied", date(2026, 12, 1), None, ["AUTH_DENIED"]),
        # weight unknown for the next booked dose: say so instead of computing a low alert
        ("unknown units", [(date(2026, 12, 3), BOOKED, None)], "approved", date(2026, 12, 1), None,
         ["AUTH_UNITS_UNKNOWN"]),
        # pending authorizations get no burn-down alerts yet
        ("pending", [(date(2026, 11, 5), DONE, "119"), (date(2026, 12, 3), BOOKED, "37")],
         "pending", date(2026, 12, 1), None, []),
    ],
)
def test_alerts(case, uses, status, today, typical, codes) -> None:
    t = terms(status=status)
    bd = burn_down(t, [VisitUse(day, state, D(units) if units else None) for day, state, units in uses])
    assert [f.code for f in alerts(t, bd, today, typical)] == codes, case


@pytest.mark.parametrize(
    ("listed", "totals"),
    [
        # the caller summed two completed visits (37 + 41 units) instead of listing them
        ([(date(2026, 11, 5), "37"), (date(2026, 11, 12), "41")], ("78", 2)),
        # a completed visit whose dose cannot be computed counts as a visit with no units
        ([(date(2026, 11, 5), "37"), (date(2026, 11, 12), None)], ("37", 2)),
    ],
)
def test_completed_totals_count_like_listed_completed_visits(listed, totals) -> None:
    t = terms(visits=6)
    booked = [VisitUse(date(2026, 12, 3), BOOKED, D(37))]
    as_listed = burn_down(t, [VisitUse(day, DONE, D(u) if u else None) for day, u in listed] + booked)
    units, visits = totals
    as_totals = burn_down(t, booked, completed_units=D(units), completed_visits=visits)
    assert as_totals == as_listed
    assert (as_totals.used_units, as_totals.used_visits, as_totals.remaining_visits) == (D(units), visits, 3)


def test_low_visits_counts_approved_visits() -> None:
    # 4 approved visits, 3 used -> 1 left, fewer than the next two doses
    t = terms(units=None, visits=4)
    bd = burn_down(t, [VisitUse(date(2026, 11, d), DONE, D(37)) for d in (2, 9, 16)])
    (finding,) = alerts(t, bd, date(2026, 11, 20))
    assert finding.code == "AUTH_LOW"
    assert "only 1 of 4 approved visits left" in finding.message


def test_outside_window_names_each_date() -> None:
    t = terms()
    bd = burn_down(t, [], outside_window=[date(2027, 2, 11), date(2026, 10, 20)])
    messages = [f.message for f in alerts(t, bd, date(2026, 10, 15)) if f.code == "AUTH_OUTSIDE_WINDOW"]
    assert len(messages) == 2
    assert messages[0].startswith("The visit on 10/20/2026 is before it starts")
    assert messages[1].startswith("The visit on 02/11/2027 is after it ends")


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # 120 - 40 used = 80; nothing booked before 12/03 -> 80 left for the 12/03 dose
        (date(2026, 12, 3), "80"),
        # for 01/28, the 12/03 dose (37) comes first: 80 - 37 = 43
        (date(2027, 1, 28), "43"),
    ],
)
def test_units_left_for_a_day(day, expected) -> None:
    t = terms()
    bd = burn_down(t, [VisitUse(date(2026, 11, 5), DONE, D(40)), VisitUse(date(2026, 12, 3), BOOKED, D(37)),
                       VisitUse(date(2027, 1, 28), BOOKED, D(37))])
    assert units_left_for(bd, day) == D(expected)


@pytest.mark.parametrize(
    ("payer_type", "rule", "expected"),
    [
        ("medicare", None, False),  # traditional Part B: no prior auth for office infusion drugs (brief)
        ("medicaid", None, True),
        ("commercial", None, True),
        ("other", None, True),
        ("medicare", True, True),  # the payer's own recorded rule wins
        ("commercial", False, False),
    ],
)
def test_requires_prior_authorization(payer_type, rule, expected) -> None:
    assert requires_prior_authorization(payer_type, rule) is expected


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (dict(), []),
        (dict(number="  "), [("REQUIRED", "number")]),
        (dict(valid_from=date(2026, 3, 1), valid_to=date(2026, 1, 1)), [("AUTH_DATES", "valid_to")]),
        (dict(valid_from=None), [("REQUIRED", "valid_from")]),
        (dict(codes=[]), [("REQUIRED", "codes")]),
        (dict(codes=["J1745", "9641"]), [("HCPCS_FORMAT", "codes[1]")]),
        (dict(codes=["J1745", "j1745 "]), [("DUPLICATE", "codes[1]")]),
        (dict(units="", visits=""), [("REQUIRED", "approved_units")]),
        # a request does not have approved numbers yet
        (dict(status="requested", units="", visits=""), []),
        (dict(units="-5"), [("NUMBER", "approved_units")]),
        (dict(units="ten"), [("NUMBER", "approved_units")]),
        (dict(visits="2.5"), [("NUMBER", "approved_visits")]),
        (dict(status="bogus"), [("AUTH_STATUS", "status")]),
    ],
)
def test_check_authorization(fields, expected) -> None:
    values = dict(number="PA-1", status="approved", valid_from=date(2026, 1, 1), valid_to=date(2026, 6, 30),
                  codes=["J1745", "96413"], units="120", visits="6")
    values.update(fields)
    findings, units, visits = check_authorization(
        values["number"], values["status"], values["valid_from"], values["valid_to"], values["codes"],
        values["units"], values["visits"])
    assert [(f.code, f.subject) for f in findings] == expected
    if not expected:
        assert units == (D(values["units"]) if values["units"] else None)


def test_reversed_dates_message_is_clear() -> None:
    (finding,), _, _ = check_authorization("PA-1", "approved", date(2026, 3, 1), date(2026, 1, 1),
                                           ["J1745"], "120", None)
    assert "ends before it starts (03/01/2026 to 01/01/2026)" in finding.message
