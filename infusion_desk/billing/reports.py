"""The arithmetic of the manager's reports that is a rule, not a query: aging buckets, days in A/R, rates.

A line's age is counted from its date of service to the report's "as of" day (not from the
claim's submission: a claim held back a month is a month older to the manager). The buckets
are 0-30, 31-60, 61-90, 91-120 and over 120 days.

    >>> from datetime import date
    >>> from decimal import Decimal as D
    >>> aging_bucket(date(2026, 10, 1), date(2026, 11, 30))     # 60 days old
    '31-60'
    >>> days_in_ar(D("90000.00"), D("270000.00"))               # $270,000 charged over 90 days
    Decimal('30.0')
    >>> net_collection_rate(D("760.00"), D("1000.00"), D("200.00"))
    Decimal('95.0')
    >>> rate(3, 4), margin(D("1400.00"), D("1100.00"))
    (Decimal('75.0'), Decimal('300.00'))
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Final

CENT: Final = Decimal("0.01")
TENTH: Final = Decimal("0.1")
ZERO: Final = Decimal("0.00")

AR_WINDOW_DAYS: Final = 90
"""Days in A/R divides by the average daily charges over this many days, ending on the as-of day."""

BUCKETS: Final = ("0-30", "31-60", "61-90", "91-120", "120+")
"""Aging buckets, by days from the date of service."""
_UPPER: Final = (30, 60, 90, 120)

DAYS_IN_AR_FORMULA: Final = (
    "Days in A/R = total A/R ÷ average daily charges, "
    f"where average daily charges = charges for services in the last {AR_WINDOW_DAYS} days ÷ {AR_WINDOW_DAYS}"
)
NET_COLLECTION_FORMULA: Final = "Net collection rate = payments ÷ (charges − contractual adjustments) × 100"


def aging_bucket(service_date: date, as_of: date) -> str:
    """The bucket of a balance from a service on ``service_date``, seen on ``as_of``.

    >>> [aging_bucket(date(2026, 11, 30) - timedelta(days=d), date(2026, 11, 30))
    ...  for d in (0, 30, 31, 60, 61, 90, 91, 120, 121)]
    ['0-30', '0-30', '31-60', '31-60', '61-90', '61-90', '91-120', '91-120', '120+']
    """
    age = (as_of - service_date).days
    for upper, label in zip(_UPPER, BUCKETS, strict=False):
        if age <= upper:
            return label
    return BUCKETS[-1]


def bucket_bounds(as_of: date) -> tuple[tuple[str, date | None, date | None], ...]:
    """Each bucket as an inclusive range of service dates ``(label, earliest, latest)``: for SQL.

    ``None`` is no limit. A service after ``as_of`` is in no bucket.

    >>> bucket_bounds(date(2026, 11, 30))[:2]
    (('0-30', datetime.date(2026, 10, 31), datetime.date(2026, 11, 30)), \
('31-60', datetime.date(2026, 10, 1), datetime.date(2026, 10, 30)))
    >>> bucket_bounds(date(2026, 11, 30))[-1]
    ('120+', None, datetime.date(2026, 8, 1))
    """
    bounds: list[tuple[str, date | None, date | None]] = []
    latest: date | None = as_of
    for upper, label in zip(_UPPER, BUCKETS, strict=False):
        earliest = as_of - timedelta(days=upper)
        bounds.append((label, earliest, latest))
        latest = earliest - timedelta(days=1)
    bounds.append((BUCKETS[-1], None, latest))
    return tuple(bounds)


def ar_window(as_of: date) -> tuple[date, date]:
    """The service dates whose charges make the average daily charges (90 days ending ``as_of``).

    >>> ar_window(date(2026, 11, 30))
    (datetime.date(2026, 9, 2), datetime.date(2026, 11, 30))
    """
    return as_of - timedelta(days=AR_WINDOW_DAYS - 1), as_of


def days_in_ar(
    total_ar: Decimal, charges_in_window: Decimal, window_days: int = AR_WINDOW_DAYS
) -> Decimal | None:
    """Total A/R ÷ (charges in the window ÷ window days), to a tenth of a day; None with no charges.

    >>> days_in_ar(Decimal("1500.00"), Decimal("4500.00"))      # $50 a day: 30 days of charges owed
    Decimal('30.0')
    >>> days_in_ar(Decimal("10.00"), Decimal("0.00")) is None
    True
    """
    if charges_in_window <= 0:
        return None
    daily = charges_in_window / window_days
    return (total_ar / daily).quantize(TENTH, ROUND_HALF_UP)


def average_daily_charges(charges_in_window: Decimal, window_days: int = AR_WINDOW_DAYS) -> Decimal:
    """The charges ÷ the days, to the cent (shown beside days in A/R).

    >>> average_daily_charges(Decimal("4500.00"))
    Decimal('50.00')
    """
    return (charges_in_window / window_days).quantize(CENT, ROUND_HALF_UP)


def rate(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    """``part`` as a percentage of ``whole``, to one place; None when ``whole`` is zero.

    >>> rate(1, 3), rate(0, 0)
    (Decimal('33.3'), None)
    """
    if not whole:
        return None
    return (Decimal(100) * Decimal(part) / Decimal(whole)).quantize(TENTH, ROUND_HALF_UP)


def net_collection_rate(payments: Decimal, charges: Decimal, contractual: Decimal) -> Decimal | None:
    """Payments ÷ (charges − contractual adjustments), as a percentage to one place.

    What was collected of what the clinic could collect once the contracts' reductions are taken
    off. None when nothing was collectable.

    >>> net_collection_rate(Decimal("450.00"), Decimal("1000.00"), Decimal("400.00"))
    Decimal('75.0')
    """
    return rate(payments, charges - contractual)


def first_pass_rate(clean: int, decided: int) -> Decimal | None:
    """Clean claims as a share of the claims decided, to one place.

    A claim is clean on the first pass when the payer accepted and answered it without a
    rejection, a denial or a corrected claim (see ``services/reports.py`` for the query).

    >>> first_pass_rate(9, 10)
    Decimal('90.0')
    """
    return rate(clean, decided)


def margin(revenue: Decimal, cost: Decimal) -> Decimal:
    """What a drug earned over what it cost, to the cent.

    >>> margin(Decimal("100.00"), Decimal("120.50"))
    Decimal('-20.50')
    """
    return (revenue - cost).quantize(CENT, ROUND_HALF_UP)


def drug_cost(units: Decimal, acquisition_cost: Decimal) -> Decimal:
    """Units billed × the acquisition cost of one billing unit, to the cent.

    >>> drug_cost(Decimal("40.000"), Decimal("27.3150"))
    Decimal('1092.60')
    """
    return (units * acquisition_cost).quantize(CENT, ROUND_HALF_UP)


def margin_rate(revenue: Decimal, cost: Decimal) -> Decimal | None:
    """Margin as a percentage of revenue, to one place (None with no revenue).

    >>> margin_rate(Decimal("200.00"), Decimal("150.00"))
    Decimal('25.0')
    """
    return rate(revenue - cost, revenue)


def month_key(day: date) -> str:
    """The month a day falls in, as reports label it.

    >>> month_key(date(2026, 3, 9))
    '2026-03'
    """
    return f"{day.year:04d}-{day.month:02d}"


def months_between(start: date, end: date) -> tuple[str, ...]:
    """Every month from ``start``'s to ``end``'s, inclusive.

    >>> months_between(date(2026, 11, 15), date(2027, 2, 1))
    ('2026-11', '2026-12', '2027-01', '2027-02')
    """
    months: list[str] = []
    year, month = start.year, start.month
    while (year, month) <= (end.year, end.month):
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


def month_end(key: str) -> date:
    """The last day of a month key.

    >>> month_end("2026-02"), month_end("2026-12")
    (datetime.date(2026, 2, 28), datetime.date(2026, 12, 31))
    """
    year, month = int(key[:4]), int(key[5:7])
    first_next = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first_next - timedelta(days=1)


def month_start(key: str) -> date:
    """The first day of a month key.

    >>> month_start("2026-02")
    datetime.date(2026, 2, 1)
    """
    return date(int(key[:4]), int(key[5:7]), 1)


def last_months(today: date, count: int = 6) -> tuple[str, ...]:
    """The ``count`` months ending with ``today``'s, oldest first.

    >>> last_months(date(2026, 2, 10), 3)
    ('2025-12', '2026-01', '2026-02')
    """
    year, month = today.year, today.month
    keys: list[str] = []
    for _ in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    return tuple(reversed(keys))
