"""Manager → Dashboard: five figures with their trends; a figure opens its report, a row its claims."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from infusion_desk.billing.report_model import COUNT, DAYS, MONEY, PERCENT, Figure
from infusion_desk.models.enums import Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.ui.dashboard_view import BAD, FLAT, GOOD, DashboardView
from infusion_desk.ui.reports_view import ReportsView
from tests.conftest import make_actor
from tests.ui.helpers import column
from tests.ui.test_reports_view import TITLES, FakeSource

pytestmark = pytest.mark.gui

TODAY = date(2026, 11, 26)
D = Decimal


def _trend(*values: str) -> tuple[tuple[str, Decimal], ...]:
    months = ("06/2026", "07/2026", "08/2026", "09/2026", "10/2026", "11/2026")
    return tuple(zip(months[-len(values):], (D(v) for v in values), strict=True))


FIGURES = (
    # a falling denial rate is good
    Figure("denial-rate", "Denial rate", D("8.5"), PERCENT, _trend("12.0", "11.0", "10.0", "9.7", "8.5"), "down", "denial-rate"),
    # a rising net collection rate is good; this one fell
    Figure("net-collection-rate", "Net collection rate", D("94.0"), PERCENT, _trend("96.0", "97.5", "94.0"), "up", "net-collection-rate"),
    # days in A/R rose: bad
    Figure("days-in-ar", "Days in A/R", D("41.5"), DAYS, _trend("38.0", "39.0", "41.5"), "down", "days-in-ar"),
    # collections rose: good
    Figure("collections", "Collected this month", D("182340.25"), MONEY, _trend("150000.00", "162000.00", "182340.25"), "up", "collections-by-month"),
    # open claims over 90 days did not move
    Figure("over-90", "Claims over 90 days", D("7"), COUNT, _trend("7", "7"), "down", "aging"),
)


@pytest.fixture
def manager(ui_services: Services) -> Actor:
    return make_actor(ui_services, Role.MANAGER)


def _dashboard(qtbot: QtBot, services: Services, actor: Actor, figures: tuple[Figure, ...] = FIGURES) -> DashboardView:
    view = DashboardView(services, actor, source=FakeSource(figures=figures), today=TODAY)
    qtbot.addWidget(view)
    view.resize(1200, 300)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.activateWindow()
    qtbot.waitUntil(view.isActiveWindow)  # keys go to the active window only
    return view


def test_five_tiles_with_value_trend_and_which_way_is_good(qtbot: QtBot, ui_services: Services, manager: Actor) -> None:
    view = _dashboard(qtbot, ui_services, manager)

    assert [tile.label.text() for tile in view.tiles] == [
        "Denial rate", "Net collection rate", "Days in A/R", "Collected this month", "Claims over 90 days",
    ]
    assert [tile.value.text() for tile in view.tiles] == ["8.5%", "94.0%", "41.5 days", "$182,340.25", "7"]
    said = {tile.figure.name: (tile.change.text(), tile.verdict, tile.colour) for tile in view.tiles}
    assert said == {
        "denial-rate": ("▼ -1.2 pts vs 10/2026", "good", GOOD),  # down, and down is better
        "net-collection-rate": ("▼ -3.5 pts vs 10/2026", "bad", BAD),  # down, but up is better
        "days-in-ar": ("▲ +2.5 days vs 10/2026", "bad", BAD),  # up, but down is better
        "collections": ("▲ +$20,340.25 vs 10/2026", "good", GOOD),  # up, and up is better
        "over-90": ("▶ ±0 vs 10/2026", "flat", FLAT),
    }
    assert all(tile.change.styleSheet() == f"color: {tile.colour};" for tile in view.tiles)
    # the sparkline draws the trend, oldest on the left, highest at the top
    line = view.tile("days-in-ar").sparkline
    points = line.points()
    assert len(points) == 3 and points[0].x() < points[1].x() < points[2].x()
    assert points[2].y() < points[1].y() < points[0].y()
    # the numbers behind the line are in the tooltip and what a screen reader says
    assert "09/2026: 38.0, 10/2026: 39.0, 11/2026: 41.5" in view.tile("days-in-ar").toolTip()
    assert "the wrong way" in view.tile("days-in-ar").accessibleName()
    assert "As of 11/26/2026" in view.summary.text()


def test_a_figure_without_a_trend_says_so(qtbot: QtBot, ui_services: Services, manager: Actor) -> None:
    lonely = Figure("clean-claims", "Clean claim rate", D("97.0"), PERCENT, (("11/2026", D("97.0")),), "up", "clean-claims")
    view = _dashboard(qtbot, ui_services, manager, (lonely,))
    tile = view.tile("clean-claims")
    assert tile.change.text() == "No trend yet." and tile.verdict is None and tile.colour == FLAT


def test_tiles_are_reached_by_keyboard_and_open_their_report(qtbot: QtBot, ui_services: Services, manager: Actor) -> None:
    view = _dashboard(qtbot, ui_services, manager)
    view.setFocus()
    assert view.tiles[0].hasFocus()
    with qtbot.waitSignal(view.openReport) as opened:
        qtbot.keyClick(view.tiles[0], Qt.Key.Key_Return)
    assert opened.args == ["denial-rate"]

    qtbot.keyClick(view.tiles[0], Qt.Key.Key_Tab)
    assert view.tiles[1].hasFocus()
    qtbot.keyClick(view.tiles[1], Qt.Key.Key_Right)
    assert view.tiles[2].hasFocus()
    qtbot.keyClick(view.tiles[2], Qt.Key.Key_Left)
    qtbot.keyClick(view.tiles[1], Qt.Key.Key_Left)
    qtbot.keyClick(view.tiles[0], Qt.Key.Key_Left)  # round to the last
    assert view.tiles[4].hasFocus()
    with qtbot.waitSignal(view.openReport) as opened:
        qtbot.keyClick(view.tiles[4], Qt.Key.Key_Space)
    assert opened.args == ["aging"]  # the figure's report, not its own name

    with qtbot.waitSignal(view.openReport) as opened:
        qtbot.mouseClick(view.tile("collections"), Qt.MouseButton.LeftButton)
    assert opened.args == ["collections-by-month"] and view.tile("collections").hasFocus()


def test_a_refresh_keeps_the_tile_in_focus(qtbot: QtBot, ui_services: Services, manager: Actor) -> None:
    view = _dashboard(qtbot, ui_services, manager)
    view.tiles[3].setFocus()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.refresh()
    assert len(view.tiles) == 5 and view.tiles[3].hasFocus()


def test_the_dashboard_needs_the_reports_permission(qtbot: QtBot, ui_services: Services) -> None:
    view = DashboardView(ui_services, make_actor(ui_services, Role.FRONT_DESK), source=FakeSource(figures=FIGURES))
    qtbot.addWidget(view)
    view.show()
    assert "may view reports" in view.summary.text() and view.tiles == []


def test_drill_from_a_dashboard_figure_to_its_report_and_the_claims_behind_a_row(
    qtbot: QtBot, qtmodeltester, ui_services: Services, manager: Actor  # type: ignore[no-untyped-def]
) -> None:
    """The morning check: a figure, the report behind it, a row of the report, the claims behind that row."""
    source = FakeSource(figures=FIGURES)
    window = QWidget()
    qtbot.addWidget(window)
    dashboard = DashboardView(ui_services, manager, window, source=source, today=TODAY)
    reports = ReportsView(ui_services, manager, window, source=source, titles=TITLES, today=TODAY)
    row = QHBoxLayout(window)
    row.addWidget(dashboard)
    row.addWidget(reports)
    dashboard.openReport.connect(reports.open_report)
    window.resize(1600, 800)
    with qtbot.waitSignal(dashboard.loaded, timeout=10_000), qtbot.waitSignal(reports.loaded, timeout=10_000):
        window.show()
    assert reports.report is not None and reports.report.name == "aging"  # the first report, by default

    dashboard.tile("collections").setFocus()
    with qtbot.waitSignal(reports.loaded, timeout=10_000):
        qtbot.keyClick(dashboard.tile("collections"), Qt.Key.Key_Return)
    assert reports.picker.currentText() == "Collections by month"
    assert reports.report is not None and reports.report.name == "collections-by-month"
    qtmodeltester.check(reports.model)
    assert column(reports.table, "Insurance") == ["-$25.50", "$12,345.67", "$12,320.17"]

    reports.table.setFocus()
    reports.table.selectRow(0)
    with qtbot.waitSignal(reports.drilled, timeout=10_000) as drilled:
        qtbot.keyClick(reports.table, Qt.Key.Key_Return)
    dialog = drilled.args[0]
    assert column(dialog.table, "Claim") == ["CLM-0002"]
    assert column(dialog.table, "Patient") == ["Vantreese, Otto (fictional)"]
    dialog.close()


# -- the real ReportService ---------------------------------------------------------------------------


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Services]:
    from tests.ui.claims_seed import built_template, close, open_copy

    services = open_copy(built_template(tmp_path / "template"), tmp_path)
    yield services
    close(services)


def test_the_real_dashboard_shows_its_five_figures_and_each_opens_a_known_report(
    qtbot: QtBot, request: Any
) -> None:
    try:
        from infusion_desk.services.reports import REPORTS
    except ImportError as exc:  # pragma: no cover - until the ReportService lands
        pytest.skip(f"infusion_desk.services.reports is not in the tree yet ({exc})")
    demo: Services = request.getfixturevalue("demo")
    from tests.ui.claims_seed import TODAY as DEMO_TODAY

    view = DashboardView(demo, demo.auth.sign_in("manager", "demo"), today=DEMO_TODAY)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=20_000):
        view.show()
    assert len(view.tiles) == 5
    for tile in view.tiles:
        assert tile.value.text()
        with qtbot.waitSignal(view.openReport) as opened:
            qtbot.mouseClick(tile, Qt.MouseButton.LeftButton)
        assert opened.args[0] in REPORTS
