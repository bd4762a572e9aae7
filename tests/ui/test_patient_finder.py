"""Finding and opening a patient from the front desk workspace, by keyboard."""

from __future__ import annotations

import threading

import pytest
from PySide6.QtCore import Qt

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.ui.main_window import MainWindow
from infusion_desk.ui.patient_finder import PatientFinder, PatientTableModel
from infusion_desk.ui.tasks import worker_pool
from tests.conftest import make_actor
from tests.ui.helpers import column

pytestmark = pytest.mark.gui


@pytest.fixture
def window(qtbot, ui_services: Services, patients) -> MainWindow:  # type: ignore[no-untyped-def]
    desk = make_actor(ui_services, Role.FRONT_DESK)
    window = MainWindow(ui_services, desk)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def _finder(window: MainWindow) -> PatientFinder:
    assert window.front_desk is not None
    return window.front_desk.finder


def _type(qtbot, finder: PatientFinder, text: str) -> None:  # type: ignore[no-untyped-def]
    finder.search_box.selectAll()
    with qtbot.waitSignal(finder.searchFinished, timeout=5_000):
        qtbot.keyClicks(finder.search_box, text)


def test_last_name_then_down_enter_opens_the_patient(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    finder = _finder(window)
    assert finder.search_box.placeholderText() == "Name, MRN or date of birth"

    _type(qtbot, finder, "quen")
    assert column(finder.results, "Name") == ["Quenby, Marisol"]
    assert column(finder.results, "Date of birth") == ["04/11/1958"]
    assert finder.status.text() == "1 patient"

    qtbot.keyClick(finder.search_box, Qt.Key.Key_Down)
    assert window.focusWidget() is finder.results
    panel = window.front_desk.panel  # type: ignore[union-attr]
    with qtbot.waitSignal(panel.patientShown, timeout=5_000):
        qtbot.keyClick(finder.results, Qt.Key.Key_Return)

    assert panel.name.isVisible()
    assert panel.name.text() == "Quenby, Marisol"
    assert panel.mrn.text() == "MR10501"
    assert panel.birth_date.text() == "04/11/1958"
    assert column(panel.policies, "Payer") == ["Lakeshore Mutual (test)"]
    assert column(panel.policies, "Member ID") == ["QX123456789"]
    assert column(panel.policies, "Rank") == ["Primary"]
    assert column(panel.policies, "Effective") == ["01/01/2025"]


def test_double_click_opens_the_patient(qtbot, qtmodeltester, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    finder = _finder(window)
    panel = window.front_desk.panel  # type: ignore[union-attr]
    _type(qtbot, finder, "quenby")
    rect = finder.results.visualRect(finder.model.index(0, 1))
    viewport = finder.results.viewport()
    with qtbot.waitSignal(panel.patientShown, timeout=5_000):
        # A real double-click is a press-release followed by a double-click event.
        qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
        qtbot.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=rect.center())
    assert panel.name.text() == "Quenby, Marisol"
    qtmodeltester.check(panel.policy_model)


def test_results_of_older_keystrokes_are_dropped(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    finder = _finder(window)
    shown: list[int] = []
    finder.searchFinished.connect(shown.append)
    gate = threading.Event()
    worker_pool().start(lambda: gate.wait(5))  # hold the worker so both searches queue up
    qtbot.keyClicks(finder.search_box, "vant")
    qtbot.waitUntil(lambda: finder.status.text() == "Searching…", timeout=2_000)
    finder.search_box.selectAll()
    qtbot.keyClicks(finder.search_box, "arkw")
    qtbot.wait(400)  # past the typing pause: the second search is queued too
    gate.set()
    qtbot.waitUntil(lambda: finder.status.text() == "1 patient", timeout=5_000)
    qtbot.wait(100)
    assert column(finder.results, "Name") == ["Arkwright, Delphine"]
    assert shown == [1]  # the "vant" answer arrived first and was never shown


def test_date_of_birth_finds_the_patient(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    finder = _finder(window)
    _type(qtbot, finder, "07/24/1962")
    assert column(finder.results, "Name") == ["Vantreese, Otto"]


def test_mrn_prefix_lists_only_matching_mrns(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    finder = _finder(window)
    _type(qtbot, finder, "mr207")
    # Matches are listed in name order: Arkwright before Vantreese.
    assert column(finder.results, "MRN") == ["MR20778", "MR20777"]
    assert column(finder.results, "Name") == ["Arkwright, Delphine", "Vantreese, Otto"]
    assert finder.status.text() == "2 patients"


def test_no_match_says_so(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    finder = _finder(window)
    _type(qtbot, finder, "zzyzx")
    assert finder.model.rowCount() == 0
    assert finder.status.text() == "No patients match"


def test_enter_in_the_box_opens_the_first_match(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    finder = _finder(window)
    panel = window.front_desk.panel  # type: ignore[union-attr]
    # Enter pressed before the search pause is over: the match opens when it arrives.
    qtbot.keyClicks(finder.search_box, "arkw")
    with qtbot.waitSignal(panel.patientShown, timeout=5_000):
        qtbot.keyClick(finder.search_box, Qt.Key.Key_Return)
    assert panel.mrn.text() == "MR20778"


def test_ctrl_f_focuses_the_finder(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert window.focusWidget() is _finder(window).search_box


def test_finder_model_passes_the_model_tester(qtbot, qtmodeltester, ui_services: Services, patients) -> None:  # type: ignore[no-untyped-def]
    desk = make_actor(ui_services, Role.FRONT_DESK)
    model = PatientTableModel()
    qtmodeltester.check(model)
    model.set_rows(ui_services.patients.search(desk, "MR2") + ui_services.patients.search(desk, "MR1"))
    assert model.rowCount() == 3
    qtmodeltester.check(model)
