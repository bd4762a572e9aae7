"""The shared shape of reports: columns found by key, a clear error for a missing one."""

from __future__ import annotations

import doctest
from datetime import date
from decimal import Decimal

import pytest

from infusion_desk.billing import report_model
from infusion_desk.billing.report_model import MONEY, TEXT, Column, Report, Row


def test_worked_example() -> None:
    assert doctest.testmod(report_model).failed == 0


def test_a_missing_column_is_named_in_the_error() -> None:
    report = Report("aging", "A/R aging", None, date(2026, 11, 30),
                    (Column("payer", "Payer", TEXT), Column("total", "Total", MONEY)),
                    (Row(("Plan", Decimal("1.00"))),))
    with pytest.raises(KeyError, match="report 'aging' has no column 'days'"):
        report.rows[0].value(report, "days")
