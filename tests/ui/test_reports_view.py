"""Manager → Reports: pick a report, see its table, chart and formulas, drill into the claims, export it.

Most tests read hand-made reports through a fake source (this tests the screen; the
ReportService has its own tests); the last one reads the real ReportService over the demo clinic.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QTableView
from pytestqt.qtbot import QtBot

from infusion_desk.billing.report_model import (
    COUNT,
    DATE,
    MONEY,
    PERCENT,
    TEXT,
    Chart,
    Column,
    Figure,
    Report,
    Row,
)
from infusion_desk.models.enums import Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.ui.reports_view import ClaimsBehindDialog, ReportsView
from tests.conftest import make_actor
from tests.ui.helpers import column

pytestmark = pytest.mark.gui

TODAY = date(2026, 11, 26)
D = Decimal

TITLES = {
    "aging": "A/R aging",
    "denial-rate": "Denial rate",
    "collections-by-month": "Collections by month",
}


@dataclass(frozen=True)
class Claim:
    """The fields of ReportService's ClaimBehind that the drill-down lists."""

    claim_number: str
    patient: str
    payer: str
    service_date: date
    status: str
    charge: Decimal
    balance: Decimal


CLAIMS = {
    1: Claim("CLM-0001", "Quenby, Marisol (fictional)", "Fictional Health Plan", date(2026, 9, 3), "sent", D("1200.00"), D("1200.00")),
    2: Claim("CLM-0002", "Vantreese, Otto (fictional)", "Fictional Health Plan", date(2026, 10, 8), "sent", D("800.00"), D("300.00")),
    3: Claim("CLM-0003", "Arkwright, Delphine (fictional)", "Lakeshore Mutual (test)", date(2026, 11, 2), "denied", D("450.00"), D("450.00")),
}


def aging(start: date | None, end: date) -> Report:
    return Report(
        name="aging", title="A/R aging", start=None, end=end,
        columns=(Column("payer", "Payer", TEXT), Column("current", "0-30 days", MONEY),
                 Column("older", "Over 30 days", MONEY), Column("claims", "Claims", COUNT)),
        rows=(
            Row(("Fictional Health Plan", D("300.00"), D("1200.00"), 2), claim_ids=(1, 2)),
            Row(("Lakeshore Mutual (test)", D("450.00"), D("0.00"), 1), claim_ids=(3,)),
        ),
        total=Row(("Total", D("750.00"), D("1200.00"), 3)),
        chart=Chart("stacked_bar", "payer", ("current", "older"), "Open balances by age"),
        notes=("Age = days since the claim was first sent.",),
    )


def denial_rate(start: date | None, end: date) -> Report:
    return Report(
        name="denial-rate", title="Denial rate", start=start, end=end,
        columns=(Column("month", "Month", TEXT), Column("claims", "Claims answered", COUNT),
                 Column("rate", "Denial rate", PERCENT)),
        rows=(
            Row(("09/2026", 10, D("10.0")), claim_ids=(1,)),
            Row(("10/2026", 8, D("25.0")), claim_ids=(2,)),
            Row(("11/2026", 4, D("5.0")), claim_ids=(3,)),
        ),
        chart=Chart("line", "month", ("rate",)),
        notes=("Denial rate = claims with a denial ÷ claims the payers answered.",),
    )


def collections(start: date | None, end: date) -> Report:
    return Report(
        name="collections-by-month", title="Collections by month", start=start, end=end,
        columns=(Column("month", "Month", DATE), Column("insurance", "Insurance", MONEY)),
        rows=(Row((date(2026, 10, 1), D("-25.50")), claim_ids=(2,)), Row((date(2026, 11, 1), D("12345.67")))),
        total=Row((None, D("12320.17")), claim_ids=(2, 3)),
        chart=Chart("bar", "month", ("insurance",)),
    )


@dataclass
class FakeSource:
    """Hands out the reports above and records what the screen asked for."""

    asked: list[tuple[str, date | None, date]] = field(default_factory=list)
    drilled: list[tuple[int, ...]] = field(default_factory=list)
    figures: tuple[Figure, ...] = ()

    def report(self, actor: Actor, name: str, start: date | None, end: date) -> Report:
        self.asked.append((name, start, end))
        return {"aging": aging, "denial-rate": denial_rate, "collections-by-month": collections}[name](start, end)

    def claims_behind(self, actor: Actor, claim_ids: Sequence[int]) -> list[Claim]:
        self.drilled.append(tuple(claim_ids))
        return [CLAIMS[i] for i in claim_ids]

    def dashboard(self, actor: Actor, today: date) -> tuple[Figure, ...]:
        return self.figures


@pytest.fixture
def manager(ui_services: Services) -> Actor:
    return make_actor(ui_services, Role.MANAGER)


def _view(qtbot: QtBot, services: Services, actor: Actor, source: Any, **kwargs: Any) -> ReportsView:
    view = ReportsView(services, actor, source=source, titles=TITLES, today=TODAY, **kwargs)
    qtbot.addWidget(view)
    view.resize(1100, 800)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    return view


def _choose(qtbot: QtBot, view: ReportsView, title: str) -> None:
    """Pick a report as a keyboard user does: Alt+R, then the arrow keys."""
    view.activateWindow()  # the offscreen platform does not give it back when a dialog closes
    qtbot.waitUntil(view.isActiveWindow)
    qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert view.picker.hasFocus()
    titles = [view.picker.itemText(i) for i in range(view.picker.count())]
    steps = titles.index(title) - view.picker.currentIndex()
    key = Qt.Key.Key_Down if steps > 0 else Qt.Key.Key_Up
    for _ in range(abs(steps)):
        with qtbot.waitSignal(view.loaded, timeout=10_000):
            qtbot.keyClick(view.picker, key)
    assert view.picker.currentText() == title


def _drill_with(qtbot: QtBot, view: ReportsView, action: Any) -> ClaimsBehindDialog:
    with qtbot.waitSignal(view.drilled, timeout=10_000) as blocker:
        action()
    dialog = blocker.args[0]
    assert isinstance(dialog, ClaimsBehindDialog) and dialog.isVisible()
    return dialog


def _click_header(qtbot: QtBot, table: QTableView, header: str) -> None:
    model = table.model()
    section = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())].index(header)
    bar = table.horizontalHeader()
    qtbot.mouseClick(bar.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(bar.sectionViewportPosition(section) + 4, 4))


def test_the_first_report_shows_its_rows_total_chart_and_formula(
    qtbot: QtBot, qtmodeltester, ui_services: Services, manager: Actor  # type: ignore[no-untyped-def]
) -> None:
    source = FakeSource()
    view = _view(qtbot, ui_services, manager, source)
    qtmodeltester.check(view.model)
    qtmodeltester.check(view.proxy)

    assert source.asked == [("aging", date(2026, 6, 1), TODAY)]  # twelve months to today by default
    assert view.start.text() == "06/01/2026" and view.end.text() == "11/26/2026"
    assert column(view.table, "Payer") == ["Fictional Health Plan", "Lakeshore Mutual (test)", "Total"]
    assert column(view.table, "0-30 days") == ["$300.00", "$450.00", "$750.00"]
    assert column(view.table, "Over 30 days") == ["$1,200.00", "$0.00", "$1,200.00"]
    assert column(view.table, "Claims") == ["2", "1", "3"]
    assert "A/R aging, as of 11/26/2026: 2 rows" in view.summary.text()
    assert view.notes.text() == "Age = days since the claim was first sent."
    # the chart stacks the two ages per payer and leaves the total out
    assert view.chart.kind == "stacked_bar"
    assert view.chart.series_heights() == [[300.0, 1200.0], [450.0, 0.0]]
    assert view.chart.figure.axes[0].get_title() == "Open balances by age"
    assert all(b.isEnabled() for b in view.export_buttons.values())


def test_choosing_another_report_by_keyboard_shows_it_and_sorting_keeps_the_total_last(
    qtbot: QtBot, qtmodeltester, ui_services: Services, manager: Actor  # type: ignore[no-untyped-def]
) -> None:
    source = FakeSource()
    view = _view(qtbot, ui_services, manager, source)

    _choose(qtbot, view, "Collections by month")
    qtmodeltester.check(view.model)
    assert source.asked[-1] == ("collections-by-month", date(2026, 6, 1), TODAY)
    assert column(view.table, "Month") == ["10/01/2026", "11/01/2026", ""]
    assert column(view.table, "Insurance") == ["-$25.50", "$12,345.67", "$12,320.17"]
    assert view.chart.kind == "bar" and view.chart.series_heights() == [[-25.5], [12345.67]]
    labels = [t.get_text() for t in view.chart.figure.axes[0].get_yticklabels()]
    assert any(text.startswith("$") and "," in text for text in labels)  # the money axis reads in dollars
    assert view.notes.text() == ""

    # a figure's header puts the largest first, then the smallest; the total stays last either way
    _click_header(qtbot, view.table, "Insurance")
    assert column(view.table, "Insurance") == ["$12,345.67", "-$25.50", "$12,320.17"]
    _click_header(qtbot, view.table, "Insurance")
    assert column(view.table, "Insurance") == ["-$25.50", "$12,345.67", "$12,320.17"]

    _choose(qtbot, view, "Denial rate")
    assert column(view.table, "Denial rate") == ["10.0%", "25.0%", "5.0%"]
    assert view.chart.kind == "line"
    assert view.notes.text().startswith("Denial rate = claims with a denial")
    # a new report comes in its own order, not the last one's sort
    assert column(view.table, "Month") == ["09/2026", "10/2026", "11/2026"]


def test_dates_are_typed_and_checked(qtbot: QtBot, ui_services: Services, manager: Actor) -> None:
    source = FakeSource()
    view = _view(qtbot, ui_services, manager, source)
    _choose(qtbot, view, "Denial rate")

    view.start.setFocus()
    view.start.selectAll()
    qtbot.keyClicks(view.start, "10/01/2026")
    view.end.selectAll()
    qtbot.keyClicks(view.end, "10/31/2026")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view.end, Qt.Key.Key_Return)
    assert source.asked[-1] == ("denial-rate", date(2026, 10, 1), date(2026, 10, 31))
    assert "Denial rate, 10/01/2026 to 10/31/2026" in view.summary.text()

    asked = len(source.asked)
    view.start.selectAll()
    qtbot.keyClicks(view.start, "2026-10-01")
    qtbot.keyClick(view.start, Qt.Key.Key_Return)
    assert "From: type a date as MM/DD/YYYY" in view.message.text()
    view.start.selectAll()
    qtbot.keyClicks(view.start, "11/01/2026")
    qtbot.keyClick(view.start, Qt.Key.Key_Return)
    assert view.message.text() == "From must be on or before To."
    assert len(source.asked) == asked  # nothing was asked for with bad dates
    assert "10/01/2026 to 10/31/2026" in view.summary.text()  # what was shown stays

    view.start.clear()  # no From: from the start
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.mouseClick(view.show_button, Qt.MouseButton.LeftButton)
    assert source.asked[-1] == ("denial-rate", None, date(2026, 10, 31)) and view.message.text() == ""


def test_enter_on_a_row_lists_the_claims_behind_it(
    qtbot: QtBot, qtmodeltester, ui_services: Services, manager: Actor  # type: ignore[no-untyped-def]
) -> None:
    source = FakeSource()
    view = _view(qtbot, ui_services, manager, source)

    # sorted by payer, Z to A: the table's first row is Lakeshore's (the report's second)
    _click_header(qtbot, view.table, "Payer")
    _click_header(qtbot, view.table, "Payer")
    assert column(view.table, "Payer")[0] == "Lakeshore Mutual (test)"
    view.table.setFocus()
    view.table.selectRow(0)
    dialog = _drill_with(qtbot, view, lambda: qtbot.keyClick(view.table, Qt.Key.Key_Return))
    qtmodeltester.check(dialog.model)
    assert source.drilled == [(3,)]
    assert column(dialog.table, "Claim") == ["CLM-0003"]
    assert column(dialog.table, "Patient") == ["Arkwright, Delphine (fictional)"]
    assert column(dialog.table, "Date of service") == ["11/02/2026"]
    assert column(dialog.table, "Balance") == ["$450.00"]
    assert "A/R aging — Lakeshore Mutual (test)" in dialog.heading.text()
    assert dialog.summary.text() == "1 claim(s): $450.00 charged, $450.00 still open."
    # Enter on a claim asks to open it
    with qtbot.waitSignal(view.openClaim) as opened:
        qtbot.keyClick(dialog.table, Qt.Key.Key_Return)
    assert opened.args == ["CLM-0003"]
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: view.claims_dialog is None)

    # the total row: every claim behind the report
    view.table.setFocus()
    view.table.selectRow(2)
    dialog = _drill_with(qtbot, view, lambda: qtbot.keyClick(view.table, Qt.Key.Key_Return))
    assert source.drilled[-1] == (1, 2, 3)
    assert column(dialog.table, "Claim") == ["CLM-0001", "CLM-0002", "CLM-0003"]
    assert dialog.summary.text() == "3 claim(s): $2,450.00 charged, $1,950.00 still open."
    dialog.close()


def test_a_click_on_a_bar_or_a_point_lists_its_claims(qtbot: QtBot, ui_services: Services, manager: Actor) -> None:
    source = FakeSource()
    view = _view(qtbot, ui_services, manager, source)
    canvas = view.chart.canvas

    # the second payer's stacked bar
    dialog = _drill_with(
        qtbot, view, lambda: qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=view.chart.point_of(0))
    )
    assert column(dialog.table, "Claim") == ["CLM-0001", "CLM-0002"]
    dialog.close()
    qtbot.waitUntil(lambda: view.claims_dialog is None)

    # a click beside the bars asks for nothing
    drilled = len(source.drilled)
    qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=QPoint(3, 3))
    assert len(source.drilled) == drilled

    _choose(qtbot, view, "Denial rate")
    dialog = _drill_with(
        qtbot, view, lambda: qtbot.mouseClick(canvas, Qt.MouseButton.LeftButton, pos=view.chart.point_of(1))
    )
    assert column(dialog.table, "Claim") == ["CLM-0002"] and "10/2026" in dialog.heading.text()
    dialog.close()


def test_a_row_without_claims_says_so(qtbot: QtBot, ui_services: Services, manager: Actor) -> None:
    source = FakeSource()
    view = _view(qtbot, ui_services, manager, source)
    _choose(qtbot, view, "Collections by month")
    view.table.setFocus()
    view.table.selectRow(1)  # November: no claim ids, and the fake has no drill()
    dialog = _drill_with(qtbot, view, lambda: qtbot.keyClick(view.table, Qt.Key.Key_Return))
    assert dialog.model.rowCount() == 0 and dialog.summary.text() == "No claims are behind this figure."
    dialog.close()


def test_rows_without_claim_ids_are_drilled_through_the_source(
    qtbot: QtBot, ui_services: Services, manager: Actor
) -> None:
    @dataclass
    class BigReportSource(FakeSource):
        """A report on too many claims to carry them: the source finds a row's claims by its key."""

        keys: list[tuple[str, date | None, date, tuple[str, ...]]] = field(default_factory=list)

        def report(self, actor: Actor, name: str, start: date | None, end: date) -> Report:
            full = super().report(actor, name, start, end)
            bare = tuple(Row(r.values) for r in full.rows)
            return Report(full.name, full.title, full.start, full.end, full.columns, bare,
                          Row(full.total.values) if full.total else None, full.chart, full.notes)

        def drill(self, actor: Actor, name: str, start: date | None, end: date, key: Sequence[str] = ()) -> tuple[int, ...]:
            self.keys.append((name, start, end, tuple(key)))
            return {("Lakeshore Mutual (test)",): (3,), (): (1, 2, 3)}.get(tuple(key), ())

    source = BigReportSource()
    view = _view(qtbot, ui_services, manager, source)
    view.table.setFocus()
    view.table.selectRow(1)
    dialog = _drill_with(qtbot, view, lambda: qtbot.keyClick(view.table, Qt.Key.Key_Return))
    # the row is named by its text values, as the service's drill_key does
    assert source.keys == [("aging", None, TODAY, ("Lakeshore Mutual (test)",))]
    assert column(dialog.table, "Claim") == ["CLM-0003"]
    dialog.close()
    qtbot.waitUntil(lambda: view.claims_dialog is None)

    view.table.setFocus()
    view.table.selectRow(2)  # the total: the whole report
    dialog = _drill_with(qtbot, view, lambda: qtbot.keyClick(view.table, Qt.Key.Key_Return))
    assert source.keys[-1] == ("aging", None, TODAY, ())
    assert column(dialog.table, "Claim") == ["CLM-0001", "CLM-0002", "CLM-0003"]
    dialog.close()


@dataclass
class Written:
    paths: list[str] = field(default_factory=list)
    filters: list[str] = field(default_factory=list)

    def chooser(self, *answers: Path | None) -> Any:
        queue = list(answers)

        def choose(_parent: Any, suggested: str, filters: str) -> str | None:
            self.paths.append(suggested)
            self.filters.append(filters)
            answer = queue.pop(0)
            return None if answer is None else str(answer)

        return choose


def _fake_exporters() -> dict[str, Any]:
    def to_csv(report: Report) -> str:
        return "\r\n".join(",".join(str(v) for v in row.values) for row in report.rows) + "\r\n"

    return {
        "csv": to_csv,
        "xlsx": lambda report: b"PK-fake-xlsx " + report.name.encode(),
        "pdf": lambda report: b"%PDF-fake " + report.name.encode(),
    }


def test_export_writes_csv_xlsx_and_pdf(qtbot: QtBot, ui_services: Services, manager: Actor, tmp_path: Path) -> None:
    written = Written()
    choose = written.chooser(
        tmp_path / "aging.csv", tmp_path / "aging", tmp_path / "aging.pdf", None, tmp_path / "chosen.xlsx",
        tmp_path / "aging.txt",
    )
    view = _view(qtbot, ui_services, manager, FakeSource(), choose_path=choose, exporters=_fake_exporters())

    with qtbot.waitSignal(view.exported, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    assert written.paths[-1] == "aging-2026-11-26.csv" and written.filters[-1].startswith("CSV files (*.csv)")
    rows = list(csv.reader((tmp_path / "aging.csv").read_text(encoding="utf-8").splitlines()))
    assert rows == [["Fictional Health Plan", "300.00", "1200.00", "2"], ["Lakeshore Mutual (test)", "450.00", "0.00", "1"]]
    assert view.message.text() == f"Wrote {tmp_path / 'aging.csv'}."

    with qtbot.waitSignal(view.exported, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_X, Qt.KeyboardModifier.AltModifier)
    assert (tmp_path / "aging.xlsx").read_bytes() == b"PK-fake-xlsx aging"  # the extension is added

    with qtbot.waitSignal(view.exported, timeout=10_000):
        qtbot.mouseClick(view.export_buttons["pdf"], Qt.MouseButton.LeftButton)
    assert (tmp_path / "aging.pdf").read_bytes() == b"%PDF-fake aging"

    # Ctrl+Shift+S: cancelled, then a workbook chosen by its type, then a type it cannot write
    ctrl_shift = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(view, Qt.Key.Key_S, ctrl_shift)
    assert len(written.paths) == 4 and not (tmp_path / "chosen.xlsx").exists()
    with qtbot.waitSignal(view.exported, timeout=10_000) as blocker:
        qtbot.keyClick(view, Qt.Key.Key_S, ctrl_shift)
    assert blocker.args == [str(tmp_path / "chosen.xlsx")]
    assert "Excel workbooks (*.xlsx)" in written.filters[-1] and "PDF files (*.pdf)" in written.filters[-1]
    assert (tmp_path / "chosen.xlsx").read_bytes() == b"PK-fake-xlsx aging"
    qtbot.keyClick(view, Qt.Key.Key_S, ctrl_shift)
    assert "name the file .csv, .xlsx or .pdf" in view.message.text()
    assert not (tmp_path / "aging.txt").exists()


def test_an_export_to_a_folder_that_is_gone_says_so(
    qtbot: QtBot, ui_services: Services, manager: Actor, tmp_path: Path
) -> None:
    target = tmp_path / "gone" / "aging.csv"
    view = _view(
        qtbot, ui_services, manager, FakeSource(), choose_path=Written().chooser(target), exporters=_fake_exporters()
    )
    qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "Could not write the file" in view.message.text(), timeout=10_000)
    assert view.export_buttons["csv"].isEnabled() and not target.exists()


def test_reports_need_the_reports_permission(qtbot: QtBot, ui_services: Services) -> None:
    nurse = make_actor(ui_services, Role.NURSE)
    source = FakeSource()
    view = ReportsView(ui_services, nurse, source=source, titles=TITLES, today=TODAY)
    qtbot.addWidget(view)
    view.show()
    assert "may view reports" in view.summary.text()
    assert source.asked == [] and not view.picker.isEnabled()
    assert not any(b.isEnabled() for b in view.export_buttons.values())


# -- the real ReportService and exporters -------------------------------------------------------------


def _real_reports() -> Any:
    try:
        from infusion_desk.services import reports
    except ImportError as exc:  # pragma: no cover - until the ReportService lands
        pytest.skip(f"infusion_desk.services.reports is not in the tree yet ({exc})")
    return reports


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo clinic with its claims built and submitted (so they are open in A/R)."""
    from infusion_desk.services.batches import BatchService
    from tests.ui.claims_seed import biller, built_template, close, export_batches, open_copy

    folder = tmp_path_factory.mktemp("reports-demo")
    (folder / "built").mkdir()
    built = built_template(folder / "built")
    services = open_copy(built, folder)
    try:
        export_batches(services, folder / "outbox")
        batches = BatchService(services.db)
        for batch in batches.batches(biller(services)):
            batches.confirm_upload(biller(services), batch.id)  # uploaded to the portal: submitted
    finally:
        close(services)
    return folder / "clinic.sqlite3"


@pytest.fixture
def demo(template: Path, tmp_path: Path) -> Iterator[Services]:
    from tests.ui.claims_seed import close, open_copy

    services = open_copy(template, tmp_path)
    yield services
    close(services)


def _real_view(qtbot: QtBot, demo: Services, **kwargs: Any) -> ReportsView:
    from tests.ui.claims_seed import TODAY as DEMO_TODAY

    view = ReportsView(demo, demo.auth.sign_in("manager", "demo"), today=DEMO_TODAY, **kwargs)
    qtbot.addWidget(view)
    view.resize(1100, 800)
    with qtbot.waitSignal(view.loaded, timeout=20_000):
        view.show()
    return view


def test_the_real_reports_show_and_drill_into_their_claims(qtbot: QtBot, qtmodeltester, request) -> None:  # type: ignore[no-untyped-def]
    reports = _real_reports()
    demo: Services = request.getfixturevalue("demo")
    view = _real_view(qtbot, demo)
    assert [view.picker.itemData(i) for i in range(view.picker.count())] == list(reports.REPORTS)

    for name in reports.REPORTS:  # every report the service knows shows, table and chart, without a Qt warning
        with qtbot.waitSignal(view.loaded, timeout=20_000):
            view.open_report(name)
        assert view.report is not None and view.report.name == name
        qtmodeltester.check(view.model)
        assert view.model.rowCount() == len(view.report.rows) + (1 if view.report.total else 0)

    with qtbot.waitSignal(view.loaded, timeout=20_000):
        view.open_report("aging")
    report = view.report
    assert report is not None and report.rows, "the demo clinic's claims were sent, so they are open in A/R"
    assert "as of" in view.summary.text()
    view.table.setFocus()
    view.table.selectRow(0)
    row = view.model.report_row(view.proxy.mapToSource(view.proxy.index(0, 0)).row())
    dialog = _drill_with(qtbot, view, lambda: qtbot.keyClick(view.table, Qt.Key.Key_Return))
    claims = [dialog.model.row(i) for i in range(dialog.model.rowCount())]
    assert claims, "an A/R row stands on at least one claim"
    if row.claim_ids:
        assert sorted(c.claim_id for c in claims) == sorted(row.claim_ids)
    assert all(c.balance > 0 for c in claims)  # open A/R: every claim behind it still owes something
    dialog.close()


def test_the_real_exporters_write_the_report_shown(qtbot: QtBot, tmp_path: Path, request) -> None:  # type: ignore[no-untyped-def]
    _real_reports()
    try:
        from infusion_desk.billing import report_export  # noqa: F401
    except ImportError as exc:  # pragma: no cover - until the exporters land
        pytest.skip(f"infusion_desk.billing.report_export is not in the tree yet ({exc})")
    demo: Services = request.getfixturevalue("demo")
    out = tmp_path / "out"
    out.mkdir()
    answers = iter([out / "aging.csv", out / "aging.xlsx", out / "aging.pdf"])
    view = _real_view(qtbot, demo, choose_path=lambda *_args: str(next(answers)))
    with qtbot.waitSignal(view.loaded, timeout=20_000):
        view.open_report("aging")
    assert view.report is not None

    for key, fmt in ((Qt.Key.Key_C, "csv"), (Qt.Key.Key_X, "xlsx"), (Qt.Key.Key_P, "pdf")):
        with qtbot.waitSignal(view.exported, timeout=20_000):
            qtbot.keyClick(view, key, Qt.KeyboardModifier.AltModifier)
        assert (out / f"aging.{fmt}").stat().st_size > 0
    assert view.report.columns[1].header in (out / "aging.csv").read_text(encoding="utf-8")
    assert (out / "aging.xlsx").read_bytes().startswith(b"PK")
    assert (out / "aging.pdf").read_bytes().startswith(b"%PDF")
