"""Manager → denial figures: rate by payer and month, dollars by category, code and age, sorted and exported."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.billing.denials import explain
from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.services.app import Services
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.remittances import RemittanceService
from infusion_desk.ui.denial_analytics_view import DenialAnalyticsView
from tests.billing.x12.remit_fixtures import write_835
from tests.ui.claims_seed import TODAY, biller, built_template, close, export_batches, open_copy
from tests.ui.helpers import column

pytestmark = pytest.mark.gui

ZERO = Decimal("0.00")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_template(tmp_path_factory.mktemp("denial-figures-demo"))


@pytest.fixture
def clinic(template: Path, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(template, tmp_path)
    yield services
    close(services)


def _line(line, paid: bool, reason: str = "") -> ServicePayment:  # type: ignore[no-untyped-def]
    return ServicePayment(
        line.code, line.modifiers, line.charge, line.charge if paid else ZERO,
        service_date=line.service_date, line_control_number=line.control_number,
        adjustments=() if paid else (CasAdjustment("CO", reason, line.charge),),
    )


def _answer(claim: ClaimData, lines: tuple[ServicePayment, ...]) -> ClaimPayment:
    return ClaimPayment(
        claim.claim_number, "1", sum((li.charge for li in lines), ZERO), sum((li.paid for li in lines), ZERO),
        lines=lines,
    )


def _denials_posted(services: Services, folder: Path) -> dict[str, Decimal]:
    """An 835 answers three sent claims: one paid, one denied whole (CO-197), one with a line denied (CO-16).

    Returns the denied dollars by code, worked out here from the claims as billed.
    """
    summary = export_batches(services, folder)
    claims = [c for f in summary.files for c in read_837p(f.path.read_text(encoding="ascii"))]
    paid, denied = claims[0], claims[1]
    partly = next(c for c in claims[2:] if len(c.lines) >= 2)
    answers = (
        _answer(paid, tuple(_line(li, True) for li in paid.lines)),
        _answer(denied, tuple(_line(li, False, "197") for li in denied.lines)),
        _answer(partly, (_line(partly.lines[0], False, "16"), *(_line(li, True) for li in partly.lines[1:]))),
    )
    remittance = Remittance(
        "EFT-DENIALS-1", "1999999999", "FICTIONAL HEALTH PLAN", "ACH", TODAY,
        sum((a.paid for a in answers), ZERO), claims=answers,
    )
    service = RemittanceService(services.db)
    service.import_text(biller(services), write_835(remittance), "denials.835")
    for row in service.remittances(biller(services)):
        if row.posted_at is None:  # the payer's setting held it for review: the biller posts it
            service.post(biller(services), row.id)
    by_code: dict[str, Decimal] = {}
    for line in (*denied.lines, partly.lines[0]):
        by_code[line.code] = by_code.get(line.code, ZERO) + line.charge
    return by_code


def _show(qtbot: QtBot, view: DenialAnalyticsView) -> None:
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()


def _click_header(qtbot: QtBot, table: QTableView, header: str) -> None:
    model = table.model()
    section = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index(header)
    bar = table.horizontalHeader()
    qtbot.mouseClick(
        bar.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(bar.sectionViewportPosition(section) + 4, 4)
    )


def _amounts(table: QTableView, header: str) -> list[Decimal]:
    return [Decimal(text.replace("$", "").replace(",", "")) for text in column(table, header)]


def test_the_figures_after_an_835_with_denials_and_their_csv(
    qtbot: QtBot, qtmodeltester, clinic: Services, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    by_code = _denials_posted(clinic, tmp_path / "outbox")
    denied = sum(by_code.values(), ZERO)
    out = tmp_path / "figures.csv"
    manager = clinic.auth.sign_in("manager", "demo")
    view = DenialAnalyticsView(clinic, manager, today=TODAY, choose_path=lambda _parent, _name: str(out))
    _show(qtbot, view)
    for table in view.tables():
        qtmodeltester.check(table.model)

    assert view.since.text() == "12/01/2025"  # twelve calendar months, this one included
    # three claims answered, two with a denial
    assert "66.7% of the 3 claim(s)" in view.summary.text() and f"${denied:,.2f} denied" in view.summary.text()
    assert "Recovered by appeals: $0.00" in view.recovered.text()
    assert column(view.by_month.view, "Month") == ["11/2026"]
    assert column(view.by_month.view, "Denial rate") == ["66.7%"]
    assert sum(int(n) for n in column(view.by_payer.view, "Claims answered")) == 3
    assert sum(_amounts(view.by_payer.view, "Denied"), ZERO) == denied
    payers = {r.payer for r in ClaimService(clinic.db).claims(biller(clinic))}
    assert set(column(view.by_payer.view, "Payer")) <= payers
    assert dict(zip(column(view.by_code.view, "Code"), _amounts(view.by_code.view, "Amount"), strict=True)) == by_code
    categories = {explain("CO", "197").category.replace("_", " "), explain("CO", "16").category.replace("_", " ")}
    assert set(column(view.by_category.view, "Category")) == categories
    # nothing has been worked yet: every denial is open, decided today
    assert column(view.open_by_age.view, "Age") == ["0-30 days", "31-60 days", "61-90 days", "over 90 days"]
    assert _amounts(view.open_by_age.view, "Amount") == [denied, ZERO, ZERO, ZERO]

    # a click on a figure's header puts the largest first; another click, the smallest
    _click_header(qtbot, view.by_code.view, "Amount")
    assert _amounts(view.by_code.view, "Amount") == sorted(by_code.values(), reverse=True)
    _click_header(qtbot, view.by_code.view, "Amount")
    shown_codes = column(view.by_code.view, "Code")
    assert _amounts(view.by_code.view, "Amount") == sorted(by_code.values())

    with qtbot.waitSignal(view.exported, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert f"Wrote {out}" in view.message.text()
    rows = list(csv.reader(out.read_text(encoding="utf-8").splitlines()))
    assert rows[0] == ["Denial analytics since 12/01/2025"]
    assert rows[2] == ["3", "2", "66.7", str(denied), "0.00"]
    start = rows.index(["Denials by code (drug or administration)"])
    assert rows[start + 1] == ["Code", "Denials", "Claims denied", "Denial rate %", "Amount"]
    exported = rows[start + 2 : start + 2 + len(by_code)]
    assert [r[0] for r in exported] == shown_codes  # in the order shown
    assert {r[0]: Decimal(r[4]) for r in exported} == by_code
    for row in exported:  # the rate is the share of the 3 claims answered with that code denied
        assert Decimal(row[3]) == (Decimal(100) * int(row[2]) / 3).quantize(Decimal("0.1"))
    month = rows.index(["Denial rate by month"])
    assert rows[month + 1] == ["Month", "Claims answered", "With a denial", "Denial rate %", "Denied"]
    assert rows[month + 2] == ["11/2026", "3", "2", "66.7", str(denied)]


def test_the_since_date_narrows_the_figures_and_a_bad_date_is_said(qtbot: QtBot, clinic: Services, tmp_path: Path) -> None:
    _denials_posted(clinic, tmp_path / "outbox")
    view = DenialAnalyticsView(clinic, clinic.auth.sign_in("manager", "demo"), today=TODAY)
    _show(qtbot, view)
    assert "66.7%" in view.summary.text()

    view.since.setFocus()
    view.since.selectAll()
    qtbot.keyClicks(view.since, "11/21/2026")  # the day after the payment
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view.since, Qt.Key.Key_Return)
    assert "No claims answered by the payers since 11/21/2026" in view.summary.text()
    assert view.by_payer.model.rowCount() == 0 and view.by_code.model.rowCount() == 0

    view.since.selectAll()
    qtbot.keyClicks(view.since, "2026-11-01")
    qtbot.keyClick(view.since, Qt.Key.Key_Return)
    assert "MM/DD/YYYY" in view.message.text()
    assert "No claims answered" in view.summary.text()  # what was shown stays


def test_the_figures_need_the_reports_permission(qtbot: QtBot, clinic: Services, tmp_path: Path) -> None:
    nurse = clinic.auth.sign_in("nurse", "demo")
    view = DenialAnalyticsView(
        clinic, nurse, today=TODAY, choose_path=lambda _parent, _name: pytest.fail("nothing to export")
    )
    qtbot.addWidget(view)
    view.show()
    assert "reports" in view.summary.text() and not view.export_button.isEnabled()
    view.export_csv()
    assert view.figures is None
