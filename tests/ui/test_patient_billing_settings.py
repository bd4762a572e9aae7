"""Patient billing settings: a manager changes the threshold, plan rules and collections age; bad values are said."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.collections import CollectionsService
from infusion_desk.services.patient_payments import PatientPaymentService
from infusion_desk.services.plans import PlanService
from infusion_desk.ui.main_window import MainWindow
from infusion_desk.ui.patient_billing_settings import PatientBillingSettingsDialog
from tests.conftest import make_actor

pytestmark = pytest.mark.gui


def _retype(qtbot, field, text: str) -> None:  # type: ignore[no-untyped-def]
    field.setFocus()
    qtbot.keyClick(field, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(field, text)


def _open(qtbot, services: Services, role: Role) -> tuple[MainWindow, PatientBillingSettingsDialog]:  # type: ignore[no-untyped-def]
    window = MainWindow(services, make_actor(services, role))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    window.billing_settings_action.trigger()
    dialog = window.findChild(QDialog, "patientBillingSettings")
    assert isinstance(dialog, PatientBillingSettingsDialog)
    qtbot.waitUntil(lambda: dialog.current is not None, timeout=5_000)
    return window, dialog


def test_a_manager_changes_the_patient_billing_settings_from_the_keyboard(  # type: ignore[no-untyped-def]
    qtbot, ui_services: Services, clinic
) -> None:
    window, dialog = _open(qtbot, ui_services, Role.MANAGER)
    assert dialog.small_balance.text() == "5.00" and dialog.minimum_instalment.text() == "25.00"
    assert dialog.collections_age.value() == 90

    _retype(qtbot, dialog.small_balance, "7.50")
    _retype(qtbot, dialog.minimum_instalment, "40")
    dialog.grace_days.setFocus()
    qtbot.keyClick(dialog.grace_days, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.grace_days, "14")
    dialog.collections_age.setFocus()
    qtbot.keyClick(dialog.collections_age, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.collections_age, "120")
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)

    manager = window.actor
    assert PatientPaymentService(ui_services.db).small_balance_threshold(manager) == Decimal("7.50")
    plans = PlanService(ui_services.db).settings(manager)
    assert (plans.minimum_instalment, plans.grace_days, plans.default_after_missed) == (Decimal("40"), 14, 2)
    assert CollectionsService(ui_services.db).min_age_days(manager) == 120


def test_a_refused_value_is_said_and_nothing_of_it_is_saved(  # type: ignore[no-untyped-def]
    qtbot, ui_services: Services, clinic
) -> None:
    window, dialog = _open(qtbot, ui_services, Role.MANAGER)
    _retype(qtbot, dialog.small_balance, "500")
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "at most $100.00" in dialog.message.text()
    assert dialog.isVisible() and dialog.small_balance.hasFocus()
    manager = window.actor
    assert PatientPaymentService(ui_services.db).small_balance_threshold(manager) == Decimal("5.00")

    _retype(qtbot, dialog.small_balance, "5.00")
    _retype(qtbot, dialog.minimum_instalment, "twenty")
    qtbot.keyClick(dialog, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert "dollars and cents" in dialog.message.text() and dialog.isVisible()


def test_a_biller_has_no_patient_billing_settings(qtbot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    window = MainWindow(ui_services, make_actor(ui_services, Role.BILLER))
    qtbot.addWidget(window)
    assert not window.billing_settings_action.isVisible() and not window.billing_settings_action.isEnabled()
