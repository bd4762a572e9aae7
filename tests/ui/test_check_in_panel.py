"""The check-in desk as a receptionist uses it: pick the arrival, fix what is flagged, take the copay."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from infusion_desk.models import EligibilityCheck
from infusion_desk.models.enums import Role, VerificationMethod
from infusion_desk.services.app import Services
from infusion_desk.services.eligibility import EligibilityInput, EligibilityService
from infusion_desk.ui.check_in_panel import CheckInDesk
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor
from tests.services.frontdesk_seed import Desk, seed_desk


@pytest.fixture
def desk(ui_services: Services) -> Desk:
    arranged = seed_desk(ui_services)
    with ui_services.db.session() as session:
        session.execute(sa.delete(EligibilityCheck))
    return arranged


def _open(qtbot: QtBot, services: Services, desk: Desk, tmp_path: Path) -> CheckInDesk:
    clerk = make_actor(services, Role.FRONT_DESK)
    view = CheckInDesk(services, clerk, lambda: desk.today, save_path=lambda _parent, name: str(tmp_path / name))
    qtbot.addWidget(view)
    view.show()
    view.refresh()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1)
    view.arrivals.setFocus()
    qtbot.keyClick(view.arrivals, Qt.Key.Key_Down)
    qtbot.waitUntil(lambda: view.panel.review is not None)
    return view


def test_receptionist_fixes_the_flagged_problem_and_checks_the_patient_in(
    qtbot: QtBot, ui_services: Services, desk: Desk, tmp_path: Path
) -> None:
    view = _open(qtbot, ui_services, desk, tmp_path)
    panel = view.panel
    message = panel.findChild(QLabel, "problem_ELIGIBILITY_UNVERIFIED")
    assert message is not None and "never been verified" in message.text()
    assert panel.total.text() == "unknown"
    fix = panel.findChild(QPushButton, "fix_ELIGIBILITY_UNVERIFIED")
    assert fix is not None and fix.text() == "Verify eligibility…"
    with qtbot.waitSignal(view.fixRequested) as requested:
        qtbot.mouseClick(fix, Qt.MouseButton.LeftButton)
    assert requested.args == ["verify_eligibility", desk.patient, desk.policy]

    # The fix screen records the verification; Re-check (F5) clears the problem.
    clerk = make_actor(ui_services, Role.FRONT_DESK, "t_other")
    EligibilityService(ui_services.db).record(clerk, desk.policy, EligibilityInput(
        VerificationMethod.PHONE, desk.today, True, "CALL-77", copay="25", deductible="1000",
        deductible_met="1000", coinsurance_percent="20"))
    qtbot.mouseClick(panel.recheck_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.findChild(QLabel, "checkInAllClear") is not None)
    assert panel.total.text().startswith("$") and "Copay $25.00" in panel.steps.text()
    assert panel.amount.text() == "25.00"  # the copay to collect is offered

    panel.method.setCurrentIndex(panel.method.findText("Card"))
    qtbot.keyClicks(panel.reference, "approval 0042")
    qtbot.mouseClick(panel.collect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Collected $25.00 by card" in panel.collected.text())
    qtbot.mouseClick(panel.receipt_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Receipt saved" in panel.collected.text())
    receipts = list(tmp_path.glob("receipt-R-*.pdf"))
    assert len(receipts) == 1
    text = PdfReader(io.BytesIO(receipts[0].read_bytes())).pages[0].extract_text()
    assert "$25.00" in text and "Deskcase, Testy" in text

    with qtbot.waitSignal(panel.checkedIn):
        qtbot.keyClick(panel, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "checked in" in panel.summary.text()
    assert not panel.check_in_button.isEnabled()
    assert wait_for_idle()


def test_bad_copay_is_shown_next_to_the_form(qtbot: QtBot, ui_services: Services, desk: Desk,
                                             tmp_path: Path) -> None:
    panel = _open(qtbot, ui_services, desk, tmp_path).panel
    panel.amount.setText("25")
    panel.method.setCurrentIndex(panel.method.findText("Check"))
    qtbot.mouseClick(panel.collect_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "check number" in panel.copay_findings.text())
    assert not panel.receipt_button.isEnabled()


def test_checking_in_with_errors_asks_first(qtbot: QtBot, ui_services: Services, desk: Desk,
                                           tmp_path: Path) -> None:
    view = _open(qtbot, ui_services, desk, tmp_path)
    panel = view.panel
    qtbot.mouseClick(panel.check_in_button, Qt.MouseButton.LeftButton)
    box = panel.findChild(QMessageBox, "acceptProblems")
    assert box is not None and "never been verified" in box.informativeText()
    anyway = next(b for b in box.buttons() if "anyway" in b.text())
    with qtbot.waitSignal(panel.checkedIn):
        qtbot.mouseClick(anyway, Qt.MouseButton.LeftButton)
    assert "checked in" in panel.summary.text()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1 and view.model.visit(0).status.value == "checked_in")
