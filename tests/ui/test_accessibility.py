"""Every control a user can tab to has a name a screen reader can say; every coded field says what it is.

Qt names a control from its own text (a button's caption) or from the label whose buddy it
is; a control with neither needs ``setAccessibleName``. The main window is opened as an
administrator, so all four workspaces and every page are built, and then the main dialogs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QAccessible, QHelpEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCalendarWidget,
    QComboBox,
    QDialog,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTableView,
    QTextEdit,
    QToolTip,
    QWidget,
)
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.patient_payments import PatientPaymentService
from infusion_desk.ui import code_help
from infusion_desk.ui.app_window import AppWindow
from infusion_desk.ui.authorization_dialog import AuthorizationDialog
from infusion_desk.ui.booking_dialog import BookingDialog
from infusion_desk.ui.chairs_dialog import ChairsDialog
from infusion_desk.ui.change_password_dialog import ChangePasswordDialog
from infusion_desk.ui.clearinghouse_dialog import ClearinghouseDialog
from infusion_desk.ui.eob_entry_dialog import EobEntryDialog
from infusion_desk.ui.fee_schedule_dialog import FeeScheduleDialog
from infusion_desk.ui.main_window import MainWindow
from infusion_desk.ui.order_dialog import OrderDialog
from infusion_desk.ui.patient_billing_settings import PatientBillingSettingsDialog
from infusion_desk.ui.patient_payment_dialog import PatientPaymentDialog
from infusion_desk.ui.payer_settings import PayerSettingsDialog
from infusion_desk.ui.policy_dialog import PolicyDialog
from infusion_desk.ui.registration import RegisterPatientDialog
from infusion_desk.ui.settings_dialog import SettingsDialog
from infusion_desk.ui.shortcuts_help import ShortcutsDialog
from infusion_desk.ui.tables import header_tooltip
from infusion_desk.ui.tasks import wait_for_idle
from infusion_desk.ui.users_dialog import AddUserDialog, UsersDialog
from tests.conftest import make_actor
from tests.ui.conftest import TODAY, Patients

pytestmark = pytest.mark.gui

CONTROLS = (
    QLineEdit, QComboBox, QAbstractButton, QAbstractItemView, QAbstractSpinBox, QPlainTextEdit, QTextEdit,
)


def _inside_another_control(widget: QWidget) -> bool:
    """A combo box's own line edit and list, a spin box's line edit, a tab bar's arrows: named by their owner."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QComboBox | QAbstractSpinBox | QTabBar | QCalendarWidget):
            return True
        parent = parent.parentWidget()
    return False


def _where(widget: QWidget) -> str:
    chain: list[str] = []
    node: QWidget | None = widget
    while node is not None:
        chain.append(node.objectName() or type(node).__name__)
        node = node.parentWidget()
    return " < ".join(chain)


def unnamed_controls(root: QWidget) -> list[str]:
    """The controls under ``root`` that a screen reader would announce without a name."""
    missing = []
    for widget in [root, *root.findChildren(QWidget)]:
        if not isinstance(widget, CONTROLS) or widget.focusPolicy() == Qt.FocusPolicy.NoFocus:
            continue
        if _inside_another_control(widget):
            continue
        interface = QAccessible.queryAccessibleInterface(widget)
        name = interface.text(QAccessible.Text.Name) if interface is not None else ""
        if not name.replace("&", "").strip():
            missing.append(f"{type(widget).__name__}: {_where(widget)}")
    return missing


def test_every_control_of_the_administrators_main_window_has_a_name(  # type: ignore[no-untyped-def]
    qtbot: QtBot, ui_services: Services, admin_actor: Actor, patients: Patients
) -> None:
    window = MainWindow(ui_services, admin_actor)
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.clinicLoaded, timeout=10_000):
        window.show()
    assert window.workspace_titles() == ["Front desk", "Nursing", "Billing", "Manager"]
    for key in ("front_desk", "nursing", "billing", "manager"):
        window.show_workspace(key)
        qtbot.wait(10)
    front_desk = window.front_desk
    assert front_desk is not None
    front_desk.show_patient_page(patients.quenby)  # the patient's panel: policies, orders, authorizations…
    qtbot.wait(200)
    assert wait_for_idle(10_000)
    missing = unnamed_controls(window)
    assert missing == [], "\n".join(missing)


DialogMaker = Callable[[Services, Actor, Patients], QDialog]


def _users(services: Services, actor: Actor, _patients: Patients) -> QDialog:
    return UsersDialog(services, actor)


def _add_user(services: Services, actor: Actor, _patients: Patients) -> QDialog:
    holder = QWidget()
    dialog = AddUserDialog(services, actor, holder)
    dialog.setParent(None)
    return dialog


def _patient_payment(services: Services, actor: Actor, patients: Patients) -> QDialog:
    desk = PatientPaymentService(services.db)
    return PatientPaymentDialog(desk, actor, desk.account(actor, patients.quenby))


DIALOGS: dict[str, DialogMaker] = {
    "registration": lambda s, a, p: RegisterPatientDialog(s, a, lambda: TODAY),
    "policy": lambda s, a, p: PolicyDialog(s, a, p.quenby),
    "order": lambda s, a, p: OrderDialog(s, a, p.quenby),
    "authorization": lambda s, a, p: AuthorizationDialog(s, a, p.quenby),
    "booking": lambda s, a, p: BookingDialog(s, a, p.quenby, day=date(2026, 11, 30)),
    "clinic settings": lambda s, a, p: SettingsDialog(s, a),
    "payer settings": lambda s, a, p: PayerSettingsDialog(s, a),
    "patient billing settings": lambda s, a, p: PatientBillingSettingsDialog(s, a),
    "clearinghouse": lambda s, a, p: ClearinghouseDialog(s, a),
    "chairs": lambda s, a, p: ChairsDialog(s, a),
    "users": _users,
    "add user": _add_user,
    "change password": lambda s, a, p: ChangePasswordDialog(s, a),
    "patient payment": _patient_payment,
    "EOB entry": lambda s, a, p: EobEntryDialog(s, a, today=TODAY),
    "fee schedule": lambda s, a, p: FeeScheduleDialog(s, a),
}


@pytest.mark.parametrize("name", list(DIALOGS))
def test_every_control_of_the_dialog_has_a_name(  # type: ignore[no-untyped-def]
    qtbot: QtBot, ui_services: Services, patients: Patients, name: str
) -> None:
    actor = make_actor(ui_services, Role.ADMIN, "a11y_admin")
    dialog = DIALOGS[name](ui_services, actor, patients)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    qtbot.wait(100)
    assert wait_for_idle(10_000)
    assert unnamed_controls(dialog) == []


CODED_FIELDS: dict[str, dict[str, str]] = {
    "clinic settings": {
        "npiField": code_help.NPI, "tinField": code_help.TIN, "taxonomyField": code_help.TAXONOMY,
    },
    "policy": {
        "policyMemberId": code_help.MEMBER_ID,
        "policyGroup": code_help.GROUP_NUMBER,
        "policyMspType": code_help.MSP_TYPE,
        "policyFilingIndicator": code_help.CLAIM_FILING_INDICATOR,
    },
    "authorization": {
        "authNumber": code_help.AUTHORIZATION_NUMBER,
        "authCodes": code_help.PROCEDURE_CODES,
        "authUnits": code_help.AUTHORIZED_UNITS,
    },
    "order": {"icdQuery": code_help.ICD10, "icdChosen": code_help.ICD10},
    "EOB entry": {"eobTrace": code_help.TRACE_NUMBER, "eobPayerClaimNumber": code_help.PAYER_CLAIM_NUMBER},
    "clearinghouse": {"senderId": code_help.INTERCHANGE_ID, "receiverId": code_help.INTERCHANGE_ID},
}


@pytest.mark.parametrize("name", list(CODED_FIELDS))
def test_coded_fields_say_what_the_code_is_and_how_it_is_written(  # type: ignore[no-untyped-def]
    qtbot: QtBot, ui_services: Services, patients: Patients, name: str
) -> None:
    actor = make_actor(ui_services, Role.ADMIN, "a11y_admin")
    dialog = DIALOGS[name](ui_services, actor, patients)
    qtbot.addWidget(dialog)
    for object_name, kind in CODED_FIELDS[name].items():
        field = dialog.findChild(QWidget, object_name)
        assert field is not None, object_name
        assert field.toolTip() == code_help.CODE_HELP[kind], object_name
    assert wait_for_idle(10_000)


def test_the_npi_tooltip_names_the_check_digit() -> None:
    assert "10-digit" in code_help.CODE_HELP[code_help.NPI]
    assert "check digit" in code_help.CODE_HELP[code_help.NPI]


def _column(view: QTableView, title: str) -> int:
    model = view.model()
    titles = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    return titles.index(title)


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # the offscreen platform's tooltip
def test_code_columns_of_the_eob_tables_explain_their_codes_on_hover(  # type: ignore[no-untyped-def]
    qtbot: QtBot, ui_services: Services, patients: Patients
) -> None:
    actor = make_actor(ui_services, Role.ADMIN, "a11y_admin")
    dialog = DIALOGS["EOB entry"](ui_services, actor, patients)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    lines = dialog.findChild(QTableView, "eobLines")
    adjustments = dialog.findChild(QTableView, "eobAdjustments")
    assert lines is not None and adjustments is not None
    assert header_tooltip(lines, _column(lines, "Code")) == code_help.CODE_HELP[code_help.PROCEDURE_CODE]
    assert header_tooltip(lines, _column(lines, "Modifiers")) == code_help.CODE_HELP[code_help.MODIFIERS]
    assert header_tooltip(lines, _column(lines, "Units")) == code_help.CODE_HELP[code_help.UNITS]
    # "Group" and "Reason" mean the adjustment's group code and CARC here, not a policy's group number
    group = _column(adjustments, "Group")
    assert header_tooltip(adjustments, group) == code_help.CODE_HELP[code_help.ADJUSTMENT_GROUP]
    assert header_tooltip(adjustments, _column(adjustments, "Reason")) == code_help.CODE_HELP[code_help.CARC]
    assert header_tooltip(lines, _column(lines, "Charge")) == ""

    # hovering the header shows it
    header = adjustments.horizontalHeader()
    where = QPoint(header.sectionViewportPosition(group) + 5, header.height() // 2)
    QApplication.sendEvent(
        header.viewport(), QHelpEvent(QEvent.Type.ToolTip, where, header.viewport().mapToGlobal(where))
    )
    qtbot.waitUntil(QToolTip.isVisible)
    assert QToolTip.text() == code_help.CODE_HELP[code_help.ADJUSTMENT_GROUP]
    QToolTip.hideText()
    assert wait_for_idle(10_000)


def _signed_in(qtbot: QtBot, services: Services, username: str, password: str) -> AppWindow:
    window = AppWindow(lambda: services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.services is not None, timeout=10_000)
    qtbot.keyClicks(window.sign_in.username, username)
    qtbot.keyClicks(window.sign_in.password, password)
    qtbot.waitUntil(window.sign_in.sign_in_button.isEnabled, timeout=10_000)  # the clinic's name has loaded
    with qtbot.waitSignal(window.signedIn, timeout=30_000):  # password hashing on a busy machine
        qtbot.keyClick(window.sign_in.password, Qt.Key.Key_Return)
    return window


def _f1_rows(qtbot: QtBot, window: AppWindow) -> list[tuple[str, str]]:
    main = window.main
    assert main is not None
    window.activateWindow()
    qtbot.waitActive(window)
    qtbot.keyClick(main, Qt.Key.Key_F1)
    dialog = main.findChild(ShortcutsDialog)
    assert dialog is not None
    rows = dialog.rows()
    dialog.close()
    return rows


def test_f1_lists_the_lock_key_and_the_page_keys_of_each_workspace_the_user_has(  # type: ignore[no-untyped-def]
    qtbot: QtBot, ui_services: Services, clinic
) -> None:
    make_actor(ui_services, Role.MANAGER, "mia")
    window = _signed_in(qtbot, ui_services, "mia", "pw-manager")
    rows = _f1_rows(qtbot, window)
    said = dict(rows)
    assert said["Ctrl+L"] == "Lock screen"
    assert "Audit trail" in said["Alt+1 … Alt+5"]
    assert said["Alt+1 … Alt+4"].startswith("Front desk:")
    assert said["Alt+1 … Alt+8"].startswith("Billing:")
    assert len(rows) == len(set(rows))  # the window's own billing list is not repeated
    assert "F6 / F7 / F8" not in said  # a manager has no Nursing workspace
    wait_for_idle()
    window.close()


def test_f1_gives_a_nurse_the_chair_keys_and_no_billing_pages(qtbot: QtBot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    make_actor(ui_services, Role.NURSE, "nora")
    window = _signed_in(qtbot, ui_services, "nora", "pw-nurse")
    said = dict(_f1_rows(qtbot, window))
    assert said["Ctrl+L"] == "Lock screen"
    assert "start / stop / pause" in said["F6 / F7 / F8"]
    assert "Alt+1 … Alt+8" not in said and "Alt+1 … Alt+5" not in said
    wait_for_idle()
    window.close()
