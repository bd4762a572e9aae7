"""Billing → Underpayments and the fee schedule editor, driven from the keyboard and mouse."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models import FeeScheduleEntry
from infusion_desk.services.app import Services
from infusion_desk.ui.contracts_view import UnderpaymentsView
from infusion_desk.ui.fee_schedule_dialog import FeeScheduleDialog, quarters_around
from infusion_desk.ui.formatting import today_local
from infusion_desk.ui.tasks import wait_for_idle
from tests.services.test_contracts import ASP_CSV, Clinic, arrange_clinic, post_underpaid_claims
from tests.ui.helpers import column

pytestmark = pytest.mark.gui


@pytest.fixture
def clinic(ui_services: Services) -> Clinic:
    return arrange_clinic(ui_services)


def _rates(clinic: Clinic) -> int:
    with clinic.services.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(FeeScheduleEntry)) or 0


def _shown(qtbot: QtBot, view: UnderpaymentsView) -> None:
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()


def test_a_biller_sees_the_underpaid_lines_narrows_them_and_exports_the_list(
    qtbot: QtBot, qtmodeltester, clinic: Clinic, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    post_underpaid_claims(clinic)
    out = tmp_path / "short.csv"
    view = UnderpaymentsView(clinic.services, clinic.biller, save_as=lambda _parent, _name: str(out))
    qtbot.addWidget(view)
    view.since.setText("01/01/2026")
    _shown(qtbot, view)
    qtmodeltester.check(view.model)
    assert column(view.table, "Short by") == ["$65.28", "$30.00"]
    assert column(view.table, "Code") == ["J1745", "96413"]
    assert column(view.table, "Expected") == ["$1,465.28", "$180.00"]
    assert column(view.payer_table, "Payer") == ["Prairie Mutual (test)", "Lakeshore Health (test)"]
    assert column(view.payer_table, "Short by") == ["$95.28", "$0.00"]
    assert column(view.payer_table, "No contract rate") == ["1", "0"]
    assert "2 underpaid line(s), $95.28 short" in view.summary.text()
    assert "1 with no contract rate" in view.summary.text()

    # a tolerance of nothing lists the 50¢ too (type it, press Enter)
    view.tolerance.selectAll()
    qtbot.keyClicks(view.tolerance, "0")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view.tolerance, Qt.Key.Key_Return)
    assert column(view.table, "Short by") == ["$65.28", "$30.00", "$0.50"]

    # a tolerance that is not an amount is said, and the list stays as it was
    view.tolerance_percent.setText("lots")
    qtbot.keyClick(view.tolerance_percent, Qt.Key.Key_Return)
    assert "Tolerance percent 'lots' is not a number" in view.summary.text()
    assert view.model.rowCount() == 3

    with qtbot.waitSignal(view.exported, timeout=10_000):
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("claim,patient,payer,service_date,code")
    assert lines[1].startswith("C0000001,\"Example, Testy (DM0000001)\",Prairie Mutual (test),2026-08-03,J1745")
    assert len(lines) == 4 and "3 underpaid line(s) written" in view.message.text()


def test_no_underpayments_says_so_and_nothing_to_export(qtbot: QtBot, clinic: Clinic) -> None:
    view = UnderpaymentsView(clinic.services, clinic.biller)
    qtbot.addWidget(view)
    _shown(qtbot, view)
    assert view.model.rowCount() == 0 and not view.export_button.isEnabled()
    assert view.summary.text().startswith("No underpayments over $1.00.")


def test_a_manager_adds_edits_and_deletes_a_rate_and_bad_input_is_shown_in_the_form(
    qtbot: QtBot, clinic: Clinic
) -> None:
    dialog = FeeScheduleDialog(clinic.services, clinic.manager, payer_id=clinic.prairie,
                               confirm=lambda _parent, _question: True)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()
    assert dialog.current_payer() is not None and dialog.current_payer().name == "Prairie Mutual (test)"
    assert dialog.model.rowCount() == 0

    qtbot.mouseClick(dialog.add_button, Qt.MouseButton.LeftButton)
    entry = dialog.entry_dialog
    qtbot.keyClicks(entry.code, "j1745")
    qtbot.keyClicks(entry.allowed, "40")
    qtbot.keyClicks(entry.percent, "106")
    entry.save()
    qtbot.waitUntil(lambda: "not both" in entry.error.text(), timeout=10_000)
    assert _rates(clinic) == 0

    entry.allowed.clear()
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        entry.save()
    assert column(dialog.table, "Code") == ["J1745"] and column(dialog.table, "Rate") == ["106% of ASP"]
    assert "Rate saved." in dialog.message.text()

    dialog.table.setFocus()
    qtbot.keyClick(dialog.table, Qt.Key.Key_Return)  # Enter on a row edits it
    edit = dialog.entry_dialog
    assert edit.code.text() == "J1745" and edit.percent.text() == "106"
    edit.percent.clear()
    qtbot.keyClicks(edit.allowed, "38.5")
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        edit.save()
    assert column(dialog.table, "Rate") == ["$38.50 a unit"]

    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        qtbot.keyClick(dialog.table, Qt.Key.Key_Delete)
    assert "deleted" in dialog.message.text(), dialog.message.text()
    assert dialog.model.rowCount() == 0
    assert _rates(clinic) == 0


def test_a_bad_csv_names_its_rows_and_a_good_one_and_the_asp_file_load(
    qtbot: QtBot, clinic: Clinic, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("code,allowed,percent_of_asp,effective_from\n96413,1x0,,2026-01-01\nJ17,10,,2026-01-01\n",
                   encoding="utf-8")
    good = tmp_path / "good.csv"
    good.write_text("code,allowed,percent_of_asp,effective_from\n96413,180,,2026-01-01\nJ1745,,106,2026-01-01\n",
                    encoding="utf-8")
    asp = tmp_path / "asp.csv"
    asp.write_text(ASP_CSV, encoding="utf-8")
    files = iter([str(bad), str(good), str(asp)])
    quarters: list[list[str]] = []

    def pick_quarter(_parent: object, offered: list[str]) -> str:
        quarters.append(offered)
        return "2026-Q3"

    dialog = FeeScheduleDialog(clinic.services, clinic.manager, payer_id=clinic.lakeshore,
                               choose_file=lambda _parent, _title: next(files), ask_quarter=pick_quarter)
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        dialog.show()

    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "row 3" in dialog.message.text(), timeout=10_000)
    assert "bad.csv, row 2: allowed '1x0' is not an amount" in dialog.message.text()
    assert _rates(clinic) == 0

    with qtbot.waitSignal(dialog.loaded, timeout=10_000):
        qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    assert column(dialog.table, "Code") == ["96413", "J1745"]
    assert "Lakeshore Health (test): 2 rate(s) added, 0 replaced." in dialog.message.text()
    assert "(2 rates)" in dialog.payer.currentText()

    with qtbot.waitSignal(dialog.changed, timeout=10_000):
        qtbot.mouseClick(dialog.asp_button, Qt.MouseButton.LeftButton)
    assert "ASP 2026-Q3: 1 payment limit(s) imported" in dialog.message.text()
    qtbot.waitUntil(lambda: "2026-Q3 (1)" in dialog.asp_info.text(), timeout=10_000)
    assert quarters[0] == quarters_around(today_local())  # next quarter first, then this one and back


def test_a_biller_reads_the_rates_but_cannot_change_them(qtbot: QtBot, clinic: Clinic) -> None:
    post_underpaid_claims(clinic)
    view = UnderpaymentsView(clinic.services, clinic.biller)
    qtbot.addWidget(view)
    view.since.clear()
    _shown(qtbot, view)
    qtbot.mouseClick(view.fees_button, Qt.MouseButton.LeftButton)
    dialog = view.fee_schedule_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=10_000)
    assert not dialog.add_button.isEnabled() and not dialog.import_button.isEnabled()
    assert not dialog.asp_button.isEnabled() and not dialog.delete_button.isEnabled()
    assert "Managers and administrators" in dialog.add_button.toolTip()
    assert "2026-Q3 (1)" in dialog.asp_info.text()
    dialog.reject()
    assert wait_for_idle(10_000)


def test_quarters_offered_run_from_next_quarter_back() -> None:
    from datetime import date

    assert quarters_around(date(2026, 11, 27))[:3] == ["2027-Q1", "2026-Q4", "2026-Q3"]
    assert len(quarters_around(date(2026, 1, 5))) == 8
