"""Every control a user can tab to has a name a screen reader can say.

Qt names a control from its own text (a button's caption) or from the label whose buddy it
is; a control with neither needs ``setAccessibleName``. The main window is opened as an
administrator, so all four workspaces and every page are built, and then the main dialogs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QCalendarWidget,
    QComboBox,
    QDialog,
    QLineEdit,
    QPlainTextEdit,
    QTabBar,
    QTextEdit,
    QWidget,
)
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.patient_payments import PatientPaymentService
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
