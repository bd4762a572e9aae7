"""A biller reviews a signed visit's lines, overrides one with a reason, and marks it coded."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from infusion_desk.services.app import Services
from infusion_desk.services.coding import CoderReviewService
from infusion_desk.services.demo import generate_demo
from infusion_desk.ui.tasks import wait_for_idle
from infusion_desk.ui.workspaces import BillingWorkspace


def test_review_override_and_mark_coded(qtbot: QtBot, sqlite_services: Services) -> None:
    generate_demo(sqlite_services.db, patients=6, months=1, seed=9, today=date(2026, 11, 26))
    biller = sqlite_services.auth.sign_in("biller", "demo")
    workspace = BillingWorkspace(sqlite_services, biller)
    qtbot.addWidget(workspace)
    workspace.show()
    widget = workspace.review
    qtbot.waitUntil(lambda: workspace.model.rowCount() > 0, timeout=5000)
    waiting = workspace.model.rowCount()
    patient = workspace.model.visit(0).patient_name

    with qtbot.waitSignal(widget.reviewChanged, timeout=5000):
        workspace.table.selectRow(0)
    assert patient in widget.header.text()
    first_code = widget.lines_table.item(0, 0).text()
    assert first_code.startswith("96")
    why = widget.lines_table.item(0, 3)
    assert "initial service" in why.text() and why.toolTip().startswith(first_code)

    widget.lines_table.selectRow(0)
    assert widget.code_edit.text() == first_code
    widget.modifiers_edit.clear()
    qtbot.keyClicks(widget.modifiers_edit, "XU")
    # Without a reason the override is refused and the line is unchanged.
    qtbot.mouseClick(widget.override_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: widget.findChild(QMessageBox, "errorMessage") is not None, timeout=5000)
    box = widget.findChild(QMessageBox, "errorMessage")
    assert "reason" in box.text()
    box.close()
    del box  # closing deletes the message box; keep no Python handle to it
    assert widget.lines_table.item(0, 2).text() == ""

    qtbot.keyClicks(widget.reason_edit, "Separate site documented")
    with qtbot.waitSignal(widget.reviewChanged, timeout=5000):
        qtbot.keyClick(widget.reason_edit, Qt.Key.Key_Return)
    assert widget.lines_table.item(0, 2).text() == "XU"
    assert widget.lines_table.item(0, 4).text() == "Separate site documented"

    with qtbot.waitSignal(workspace.loaded, timeout=5000):
        qtbot.mouseClick(widget.mark_coded_button, Qt.MouseButton.LeftButton)
    assert workspace.model.rowCount() == waiting - 1
    history = CoderReviewService(sqlite_services.db).history(biller, widget._visit_id)
    assert [h.reason for h in history] == ["Separate site documented"]
    wait_for_idle()
