"""The main window per role: which workspaces a user sees, the title, the status bar, shortcuts."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QDialog

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.demo import generate_demo
from infusion_desk.ui.app import create_main_window, run_gui
from infusion_desk.ui.app_window import AppWindow
from infusion_desk.ui.main_window import MainWindow
from infusion_desk.ui.patient_lookup import PatientLookupDialog
from infusion_desk.ui.visit_table import NURSING_COLUMNS, VisitTableModel
from tests.conftest import make_actor
from tests.ui.conftest import TODAY, clinic_details
from tests.ui.helpers import column

pytestmark = pytest.mark.gui


def _open(qtbot, services: Services, role: Role, **kwargs) -> MainWindow:  # type: ignore[no-untyped-def]
    window = MainWindow(services, make_actor(services, role), **kwargs)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.clinicLoaded, timeout=5_000):
        window.show()
    return window


def test_nurse_sees_nursing_not_billing(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, ui_services, Role.NURSE)
    assert window.workspace_titles() == ["Nursing"]
    assert window.statusBar().findChild(type(window.user_label), "statusUser").text() == (
        "Signed in: Test nurse (Nurse)"
    )
    assert ui_services.db.display_name in window.database_label.text()
    assert not window.settings_action.isVisible()


def test_biller_sees_billing_and_front_desk(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, ui_services, Role.BILLER)
    assert window.workspace_titles() == ["Front desk", "Billing"]
    billing = window.workspaces["billing"]
    window.activateWindow()
    qtbot.waitActive(window)
    with qtbot.waitSignal(billing.loaded, timeout=5_000):
        qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.tabs.currentWidget() is billing
    assert billing.status.text() == "Nothing waiting: every signed visit is coded."


def test_manager_sees_front_desk_billing_and_overview(qtbot, ui_services: Services, patients) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, ui_services, Role.MANAGER)
    assert window.workspace_titles() == ["Front desk", "Billing", "Manager"]
    manager = window.workspaces["manager"]
    with qtbot.waitSignal(manager.loaded, timeout=5_000):
        window.show_workspace("manager")
    assert manager.patients.text() == "3"
    assert manager.visits_today.text() == "0"
    assert manager.awaiting_coding.text() == "0"
    # Alt+4: the denial figures, loaded when first shown
    figures = manager.denial_figures
    assert figures is not None
    window.activateWindow()
    qtbot.waitActive(window)
    with qtbot.waitSignal(figures.loaded, timeout=5_000):
        qtbot.keyClick(manager, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    assert manager.pages.currentWidget() is figures
    assert figures.figures is not None and figures.figures.overall.claims == 0
    # Alt+2: the dashboard; a figure opens its report on the Reports page
    dashboard, reports = manager.dashboard, manager.reports
    assert dashboard is not None and reports is not None
    with qtbot.waitSignal(dashboard.loaded, timeout=10_000):
        qtbot.keyClick(manager, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    with qtbot.waitSignal(reports.loaded, timeout=10_000):
        dashboard.openReport.emit("aging")
    assert manager.pages.currentWidget() is reports
    assert not window.users_action.isVisible()  # managers do not manage users


def test_admin_sees_all_four_workspaces(qtbot, ui_services: Services, admin_actor, clinic) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(ui_services, admin_actor)
    qtbot.addWidget(window)
    window.show()
    assert window.workspace_titles() == ["Front desk", "Nursing", "Billing", "Manager"]
    # the audit trail is the manager workspace's fifth page; File → Users… is the administrator's
    manager = window.workspaces["manager"]
    assert manager.audit is not None and manager.pages.tabText(4) == "Audit trail  (Alt+5)"
    assert window.users_action.isVisible()
    window.users_action.trigger()
    qtbot.waitUntil(lambda: window.users_dialog.isVisible(), timeout=5_000)
    window.users_dialog.reject()
    # File → Back up now: a backup beside the database, and the status bar says where
    window.backup_action.trigger()
    qtbot.waitUntil(lambda: "Backed up to" in window.statusBar().currentMessage(), timeout=20_000)
    backup = Path(window.statusBar().currentMessage().removeprefix("Backed up to ").removesuffix("."))
    assert backup.exists() and backup.parent.name == "backups"


def test_title_names_the_clinic_without_demo(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, ui_services, Role.FRONT_DESK)
    assert window.windowTitle() == "Infusion Desk — Lakeview Infusion Suite"
    assert "DEMO" not in window.windowTitle()


def test_title_says_demo_for_a_demo_clinic(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    admin = make_actor(ui_services, Role.ADMIN)
    # is_demo is only taken from the first save, which creates the clinic.
    ui_services.clinic.update_details(admin, clinic_details("Sample Clinic", is_demo=True))
    window = _open(qtbot, ui_services, Role.FRONT_DESK)
    assert window.windowTitle() == "Infusion Desk — Sample Clinic [DEMO — fictional data]"


def test_nurse_chair_list_shows_todays_visits(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    generate_demo(ui_services.db, patients=80, months=1, seed=5, today=TODAY)
    nurse = ui_services.auth.sign_in("nurse", "demo")
    expected = ui_services.visits.day_list(nurse, TODAY)
    assert len(expected) > 1, "the demo clinic should have several visits on TODAY"
    window = MainWindow(ui_services, nurse, today=lambda: TODAY)
    qtbot.addWidget(window)
    nursing = window.workspaces["nursing"]
    with qtbot.waitSignal(nursing.loaded, timeout=10_000):
        window.show()

    assert "DEMO" in window.windowTitle()
    assert nursing.heading.text() == "Chair list for Thursday, 11/26/2026"
    assert column(nursing.table, "Patient") == [v.patient_name for v in expected]
    assert column(nursing.table, "Chair") == [v.chair for v in expected]
    assert all(column(nursing.table, "Time"))
    assert set(column(nursing.table, "Status")) == {"Scheduled"}
    assert nursing.status.text() == f"{len(expected)} visits today."


def test_nurse_ctrl_f_opens_the_finder_dialog(qtbot, ui_services: Services, patients) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, ui_services, Role.NURSE)
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    dialog = window.findChild(QDialog, "patientLookupDialog")
    assert isinstance(dialog, PatientLookupDialog) and dialog.isVisible()
    finder = dialog.lookup.finder
    with qtbot.waitSignal(finder.searchFinished, timeout=5_000):
        qtbot.keyClicks(finder.search_box, "vant")
    with qtbot.waitSignal(dialog.lookup.panel.patientShown, timeout=5_000):
        qtbot.keyClick(finder.search_box, Qt.Key.Key_Return)
    assert dialog.lookup.panel.name.text() == "Vantreese, Otto"


def test_f1_lists_the_shortcuts(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, ui_services, Role.MANAGER)
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(window, Qt.Key.Key_F1)
    dialog = window.findChild(QDialog, "shortcutsDialog")
    assert dialog is not None and dialog.isVisible()
    keys = [dialog.model.item(row, 0).text() for row in range(dialog.model.rowCount())]
    assert {"Ctrl+F", "Ctrl+1", "Ctrl+4", "Ctrl+,", "F1", "Ctrl+Q"} <= set(keys)


def test_create_main_window_is_not_shown_yet(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = create_main_window(ui_services, make_actor(ui_services, Role.BILLER))
    qtbot.addWidget(window)
    assert isinstance(window, MainWindow) and not window.isVisible()
    qtbot.waitSignal(window.clinicLoaded, timeout=5_000).wait()


def test_visit_model_passes_the_model_tester(qtmodeltester, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    generate_demo(ui_services.db, patients=10, months=1, seed=5, today=TODAY)
    nurse = ui_services.auth.sign_in("nurse", "demo")
    model = VisitTableModel(NURSING_COLUMNS)
    model.set_rows(ui_services.visits.day_list(nurse, TODAY))
    qtmodeltester.check(model)


def _visible(kind: type) -> object | None:
    return next((w for w in QApplication.topLevelWidgets() if isinstance(w, kind) and w.isVisible()), None)


def test_run_gui_signs_in_then_shows_the_main_window(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    make_actor(ui_services, Role.BILLER)
    seen: dict[str, str] = {}
    app = QApplication.instance()
    safety = QTimer()
    safety.setSingleShot(True)
    safety.timeout.connect(lambda: [w.close() for w in QApplication.topLevelWidgets()])
    safety.start(20_000)

    def close_main_window() -> None:
        window = _visible(AppWindow)
        main = window.main if isinstance(window, AppWindow) else None
        if main is None or main.clinic is None:
            QTimer.singleShot(50, close_main_window)
            return
        seen["title"] = window.windowTitle()
        seen["tabs"] = ", ".join(main.workspace_titles())
        window.close()

    def sign_in() -> None:
        window = _visible(AppWindow)
        dialog = window.sign_in if isinstance(window, AppWindow) else None
        if dialog is None or not dialog.sign_in_button.isEnabled():
            QTimer.singleShot(50, sign_in)
            return
        qtbot.keyClicks(dialog.username, "t_biller")
        qtbot.keyClicks(dialog.password, "pw-biller")
        qtbot.keyClick(dialog.password, Qt.Key.Key_Return)
        QTimer.singleShot(50, close_main_window)

    QTimer.singleShot(0, sign_in)
    assert run_gui(ui_services) == 0
    safety.stop()
    assert app.applicationName() == "Infusion Desk"
    assert seen == {"title": "Infusion Desk — Lakeview Infusion Suite", "tabs": "Front desk, Billing"}


def test_front_desk_exports_270_from_the_file_menu(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = _open(qtbot, ui_services, Role.FRONT_DESK)
    assert window.export_270_action.shortcut().toString() == "Ctrl+Shift+E"
    window.export_270_action.trigger()
    assert window.export_dialog.isVisible()
    assert window.export_dialog.windowTitle() == "Export eligibility inquiries (270)"
    nurse_window = _open(qtbot, ui_services, Role.NURSE)
    assert not nurse_window.export_270_action.isVisible()
