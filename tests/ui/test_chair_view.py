"""A nurse documents a visit at the chair with the keyboard and mouse; the lines shown are the engine's."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import AdminMethod, Role
from infusion_desk.services.app import Services
from infusion_desk.services.nursing import NursingService
from infusion_desk.ui.chair_view import ChairView
from infusion_desk.ui.tasks import wait_for_idle
from infusion_desk.ui.workspaces import NursingWorkspace
from tests.conftest import make_actor
from tests.services.test_nursing import seed_chair


class FakeClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: int) -> None:
        self.now += timedelta(minutes=minutes)


@pytest.fixture
def view(qtbot: QtBot, sqlite_services: Services):  # type: ignore[no-untyped-def]
    ids = seed_chair(sqlite_services)
    nurse = make_actor(sqlite_services, Role.NURSE)
    clock = FakeClock(datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(hours=4))
    workspace = NursingWorkspace(sqlite_services, nurse, lambda: clock().astimezone().date(), clock=clock)
    qtbot.addWidget(workspace)
    workspace.show()
    widget = workspace.chair
    qtbot.waitUntil(lambda: workspace.model.rowCount() == 1 and widget.drug_combo.count() == 3, timeout=5000)
    widget.pick_today = lambda: workspace.table.selectRow(0)  # type: ignore[attr-defined]
    yield widget, clock, ids, sqlite_services, nurse
    wait_for_idle()


def _rows(widget: ChairView) -> list[tuple[str, int, tuple[str, ...]]]:
    table = widget.lines_table
    return [
        (table.item(r, 0).text(), int(table.item(r, 1).text()), tuple(table.item(r, 2).text().split()))
        for r in range(table.rowCount())
    ]


def _open_and_start_infusion(widget: ChairView, qtbot: QtBot, dose: str) -> None:
    """Open today's visit and start the ordered drug now with ``dose``."""
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        widget.pick_today()  # type: ignore[attr-defined]
    qtbot.keyClicks(widget.dose_edit, dose)
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.add_now_button, Qt.MouseButton.LeftButton)


def _choose(widget: ChairView, drug_id: int, method: AdminMethod) -> None:
    widget.drug_combo.setCurrentIndex(widget.drug_combo.findData(drug_id))
    widget.method_combo.setCurrentIndex(widget.method_combo.findData(method))


def test_nurse_starts_and_stops_two_drugs_and_a_push_then_signs(view, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    widget, clock, ids, services, nurse = view
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        widget.pick_today()
    assert "Chairside" in widget.header.text() and "5 mg/kg" in widget.header.text()

    qtbot.keyClicks(widget.weight_edit, "73")
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.seat_button, Qt.MouseButton.LeftButton)
    # The dose field offers the order's dose for today's weight: 5 mg/kg x 73 kg.
    assert "give 365" in widget.header.text()
    assert widget.dose_edit.text() == "365"
    assert widget.drug_combo.currentData() == ids["infliximab"]

    qtbot.keyClicks(widget.site_edit, "L forearm")
    qtbot.keyClicks(widget.waste_edit, "35")
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.add_now_button, Qt.MouseButton.LeftButton)
    assert widget.admin_table.item(0, 7).text() == "running"

    clock.advance(130)
    widget.admin_table.selectRow(0)
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.keyClick(widget.admin_table, Qt.Key.Key_F7)  # Stop
    assert widget.admin_table.item(0, 5).text() == "130"

    clock.advance(2)
    _choose(widget, ids["diphenhydramine"], AdminMethod.PUSH)
    qtbot.keyClicks(widget.dose_edit, "25")
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.add_button, Qt.MouseButton.LeftButton)  # a push is given now

    clock.advance(3)
    _choose(widget, ids["ondansetron"], AdminMethod.INFUSION)
    qtbot.keyClicks(widget.dose_edit, "8")
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.add_now_button, Qt.MouseButton.LeftButton)
    clock.advance(20)
    widget.admin_table.selectRow(2)
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.stop_button, Qt.MouseButton.LeftButton)

    clock.advance(5)
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.sign_button, Qt.MouseButton.LeftButton)
    assert "signed" in widget.header.text()

    engine = NursingService(services.db).live_coding(nurse, widget._visit_id)
    shown = _rows(widget)
    assert shown == [(line.code, line.units, line.modifiers) for line in engine.lines]
    # Infliximab 130 min: 96413 + 96415; the push and the 20-minute ondansetron are sequential.
    assert shown[:4] == [("96413", 1, ()), ("96415", 1, ()), ("96375", 1, ()), ("96367", 1, ())]
    assert ("J1745", 37, ()) in shown and ("J1745", 3, ("JW",)) in shown
    # The timeline shows each administration with the codes it produced.
    labels = {row[0]: row[4] for row in widget.timeline.rows}
    assert "96413" in labels["infliximab"] and "96375" in labels["diphenhydramine hydrochloride"]


def test_a_stop_before_the_start_is_refused_with_a_message(view, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    widget, clock, ids, services, nurse = view
    _open_and_start_infusion(widget, qtbot, "300")
    clock.advance(-30)
    widget.admin_table.selectRow(0)
    qtbot.mouseClick(widget.stop_button, Qt.MouseButton.LeftButton)
    box = None

    def message_shown() -> bool:
        nonlocal box
        box = widget.findChild(object, "errorMessage")
        return box is not None and box.isVisible()

    qtbot.waitUntil(message_shown, timeout=5000)
    assert "before start" in box.text()
    box.close()
    box = None  # closing deletes the message box; keep no Python handle to it
    assert widget.admin_table.item(0, 7).text() == "running"


def test_after_signing_a_time_is_corrected_only_with_a_reason(view, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    import sqlalchemy as sa
    from PySide6.QtWidgets import QMessageBox

    from infusion_desk.models import VisitAddendum

    widget, clock, ids, services, nurse = view
    _open_and_start_infusion(widget, qtbot, "350")
    clock.advance(100)
    widget.admin_table.selectRow(0)
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.keyClick(widget.admin_table, Qt.Key.Key_F7)
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.sign_button, Qt.MouseButton.LeftButton)
    assert [line[0] for line in _rows(widget)][:2] == ["96413", "96415"]

    # The nurse stopped the pump at the right time but pressed Stop 30 minutes late.
    corrected = (clock.now - timedelta(minutes=30)).astimezone().strftime("%H:%M")
    widget.admin_table.selectRow(0)
    qtbot.mouseClick(widget.edit_button, Qt.MouseButton.LeftButton)
    dialog = widget._edit_dialog
    dialog.stop_edit.clear()
    qtbot.keyClicks(dialog.stop_edit, corrected)
    qtbot.keyClick(dialog.stop_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: widget.findChild(QMessageBox, "errorMessage") is not None, timeout=5000)
    box = widget.findChild(QMessageBox, "errorMessage")
    assert "give a reason" in box.text()
    box.close()
    box = None

    widget.admin_table.selectRow(0)
    qtbot.mouseClick(widget.edit_button, Qt.MouseButton.LeftButton)
    dialog = widget._edit_dialog
    dialog.stop_edit.clear()
    qtbot.keyClicks(dialog.stop_edit, corrected)
    qtbot.keyClicks(dialog.reason_edit, "Stop pressed late; pump log shows the earlier time")
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.keyClick(dialog.reason_edit, Qt.Key.Key_Return)
    # 70 minutes now: no add-on hour any more.
    assert widget.admin_table.item(0, 5).text() == "70"
    assert [line[0] for line in _rows(widget)][:2] == ["96413", "J1745"]
    with services.db.session() as session:
        addendum = session.execute(sa.select(VisitAddendum)).scalar_one()
    assert addendum.reason.startswith("Stop pressed late")


def test_a_reaction_with_a_drug_given_for_it_is_recorded_and_coded(view, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    widget, clock, ids, services, nurse = view
    _open_and_start_infusion(widget, qtbot, "350")
    clock.advance(40)
    widget.admin_table.selectRow(0)
    qtbot.keyClicks(widget.reaction_edit, "Flushing and itching; infusion slowed")
    widget.reaction_drug_combo.setCurrentIndex(widget.reaction_drug_combo.findData(ids["diphenhydramine"]))
    qtbot.keyClicks(widget.reaction_dose_edit, "50")
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.reaction_button, Qt.MouseButton.LeftButton)
    sheet = NursingService(services.db).visit_sheet(nurse, widget._visit_id)
    assert len(sheet.reactions) == 1 and sheet.reactions[0].description.startswith("Flushing")
    assert [a.drug for a in sheet.administrations][1] == "diphenhydramine hydrochloride"
    codes = [row[0] for row in _rows(widget)]
    assert "96375" in codes and "J1200" in codes


def test_scanning_a_vial_fills_ndc_lot_and_expiry_and_vitals_are_recorded(view, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    widget, clock, ids, services, nurse = view
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        widget.pick_today()
    # A keyboard-wedge scanner types the GS1 DataMatrix of a Remicade 100 mg vial and Enter.
    qtbot.keyClicks(widget.scan_edit, "]d20100357894030010172712311012AB34")
    qtbot.keyClick(widget.scan_edit, Qt.Key.Key_Return)
    assert widget.scan_edit.text() == "57894003001"
    assert widget.lot_edit.text() == "12AB34"
    assert widget.expiry_edit.text() == "12/31/2027"
    # A scan that is not a GS1 code says so and leaves the fields alone.
    widget.scan_edit.clear()
    qtbot.keyClicks(widget.scan_edit, "]d2017")
    qtbot.keyClick(widget.scan_edit, Qt.Key.Key_Return)
    assert "Barcode not read" in widget.warnings_label.text()
    assert widget.lot_edit.text() == "12AB34"

    qtbot.keyClicks(widget.bp_edit, "118/76")
    qtbot.keyClicks(widget.pulse_edit, "72")
    qtbot.keyClicks(widget.spo2_edit, "98")
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.vitals_button, Qt.MouseButton.LeftButton)
    (vitals,) = NursingService(services.db).visit_sheet(nurse, widget._visit_id).vitals
    assert (vitals.systolic, vitals.diastolic, vitals.pulse, vitals.spo2) == (118, 76, 72, 98)
    assert widget.bp_edit.text() == ""


def test_an_infusion_added_without_start_now_waits_for_start(view, qtbot: QtBot) -> None:  # type: ignore[no-untyped-def]
    widget, clock, ids, services, nurse = view
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        widget.pick_today()
    _choose(widget, ids["infliximab"], AdminMethod.INFUSION)
    qtbot.keyClicks(widget.dose_edit, "300")
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.mouseClick(widget.add_button, Qt.MouseButton.LeftButton)
    assert widget.admin_table.item(0, 7).text() == "not started"
    clock.advance(5)
    widget.admin_table.selectRow(0)
    with qtbot.waitSignal(widget.visitChanged, timeout=5000):
        qtbot.keyClick(widget.admin_table, Qt.Key.Key_F6)  # Start
    assert widget.admin_table.item(0, 7).text() == "running"
