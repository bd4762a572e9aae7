"""A claim finding's fix button in Billing lands where the fix is made, for each role.

The clinic is the demo's (tests/ui/claims_seed.py) with its claims built, and one patient's
street address removed so the scrubber holds that patient's claim with a finding fixed in
the patient's record.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox, QPushButton
from pytestqt.qtbot import QtBot

from infusion_desk.models import Claim
from infusion_desk.models.enums import ClaimStatus, Role
from infusion_desk.services.access import ROLE_PERMISSIONS, Actor, Permission
from infusion_desk.services.app import Services
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import DEMO_PASSWORD
from infusion_desk.ui.main_window import MainWindow
from infusion_desk.ui.registration import RegisterPatientDialog
from infusion_desk.ui.settings_dialog import SettingsDialog
from infusion_desk.ui.workspaces import BillingWorkspace, FrontDeskWorkspace
from tests.ui.claims_seed import TODAY, biller, blank_address, build_claims, close, demo_template, open_copy
from tests.ui.helpers import column

pytestmark = pytest.mark.gui


@dataclass(frozen=True)
class Seeded:
    path: Path
    claim_id: int
    claim_number: str
    patient_id: int
    visit_id: int


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    """The demo clinic, its claims built, one claim held for its patient's missing street address."""
    path = demo_template(tmp_path_factory.mktemp("billing-fixes"))
    services, _ = Services.open(f"sqlite:///{path}")
    try:
        build_claims(services)
        with services.db.session() as session:
            claim = session.scalars(
                sa.select(Claim).where(Claim.status == ClaimStatus.READY, Claim.visit_id.is_not(None)).limit(1)
            ).one()
            claim_id, number, patient_id, visit_id = claim.id, claim.claim_number, claim.patient_id, claim.visit_id
        assert visit_id is not None
        blank_address(services, patient_id)
        ClaimService(services.db).scrub(biller(services), [claim_id], today=TODAY)
    finally:
        services.close()
    return Seeded(path, claim_id, number, patient_id, visit_id)


@pytest.fixture
def clinic(seeded: Seeded, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(seeded.path, tmp_path)
    yield services
    close(services)


def _window(qtbot: QtBot, clinic: Services, actor: Actor) -> MainWindow:
    window = MainWindow(clinic, actor)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    with qtbot.waitSignal(window.clinicLoaded, timeout=10_000):
        window.show()
    window.activateWindow()
    qtbot.waitActive(window)
    return window


def _billing(window: MainWindow) -> BillingWorkspace:
    billing = window.billing
    assert billing is not None and billing.claims is not None
    return billing


def _fix(window: MainWindow, target: str, seeded: Seeded) -> None:
    """What a finding's fix button on the Claims page sends (target, patient, visit)."""
    claims = _billing(window).claims
    assert claims is not None
    claims.fixRequested.emit(target, seeded.patient_id, seeded.visit_id)


def _message(qtbot: QtBot, window: MainWindow) -> QMessageBox:
    qtbot.waitUntil(lambda: window.fix_message is not None and window.fix_message.isVisible(), timeout=5_000)
    box = window.fix_message
    assert isinstance(box, QMessageBox)
    return box


def _front_desk_on(qtbot: QtBot, window: MainWindow, patient_id: int) -> FrontDeskWorkspace:
    front = window.front_desk
    assert front is not None
    assert window.tabs.currentWidget() is front
    assert front.pages.currentWidget() is front.patients_page
    qtbot.waitUntil(lambda: front.panel.patient is not None and front.panel.patient.id == patient_id, timeout=10_000)
    return front


def test_the_fix_button_of_a_claim_finding_opens_the_patient_for_editing_at_the_front_desk(
    qtbot: QtBot, clinic: Services, seeded: Seeded
) -> None:
    window = _window(qtbot, clinic, biller(clinic))
    billing = _billing(window)
    with qtbot.waitSignal(billing.loaded, timeout=10_000):
        qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    claims = billing.claims
    assert claims is not None
    with qtbot.waitSignal(claims.loaded, timeout=10_000):
        qtbot.keyClick(billing, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    row = column(claims.table, "Claim").index(seeded.claim_number)
    claims.table.setFocus()
    with qtbot.waitSignal(claims.detail.loaded, timeout=10_000):
        claims.table.setCurrentIndex(claims.model.index(row, 0))
    button = next(
        b for _f, label, b in claims.detail.finding_rows if b is not None and "address" in label.text().lower()
    )
    assert button.text() == "Edit patient…"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    front = _front_desk_on(qtbot, window, seeded.patient_id)
    qtbot.waitUntil(lambda: front.panel.editor is not None and front.panel.editor.isVisible(), timeout=10_000)
    assert isinstance(front.panel.editor, RegisterPatientDialog)
    assert window.fix_message is None


@pytest.mark.parametrize(
    ("target", "screen"),
    [("authorization", "authorizations"), ("order", "orders"), ("eligibility", "eligibility"), ("subscriber", None)],
)
def test_each_front_desk_fix_opens_its_screen_on_the_patient(
    qtbot: QtBot, clinic: Services, seeded: Seeded, target: str, screen: str | None
) -> None:
    window = _window(qtbot, clinic, biller(clinic))
    _fix(window, target, seeded)
    front = _front_desk_on(qtbot, window, seeded.patient_id)
    if screen is None:  # the subscriber is corrected on the policy: its form opens
        assert front.panel.tabs.currentIndex() == 0
        qtbot.waitUntil(
            lambda: front.panel.policy_dialog is not None and front.panel.policy_dialog.isVisible(), timeout=10_000
        )
    else:
        qtbot.waitUntil(lambda: front.panel.tabs.currentWidget() is getattr(front, screen), timeout=10_000)
    if target == "eligibility":  # the verification form opens on the patient's policy
        qtbot.waitUntil(lambda: front.eligibility.dialog is not None and front.eligibility.dialog.isVisible(),
                        timeout=10_000)


def test_a_clinic_fix_opens_the_clinic_settings_for_a_manager_and_names_who_can_for_a_biller(
    qtbot: QtBot, clinic: Services, seeded: Seeded
) -> None:
    manager = clinic.auth.sign_in("manager", DEMO_PASSWORD)
    window = _window(qtbot, clinic, manager)
    _fix(window, "clinic", seeded)
    assert isinstance(window.settings_dialog, SettingsDialog) and window.settings_dialog.isVisible()
    window.settings_dialog.reject()

    window = _window(qtbot, clinic, biller(clinic))
    _fix(window, "clinic", seeded)
    box = _message(qtbot, window)
    assert window.settings_dialog is None
    assert "File → Clinic settings…" in box.text()
    assert "Ask a Manager or Administrator user" in box.text()
    box.accept()


@pytest.mark.parametrize(
    ("target", "words"),
    [
        ("charge_master", "charge master"),
        ("drug_catalog", "drug catalog"),
        ("provider", "providers"),
        ("claim", "the claim itself"),
    ],
)
def test_a_fix_without_a_screen_yet_says_what_to_do(
    qtbot: QtBot, clinic: Services, seeded: Seeded, target: str, words: str
) -> None:
    window = _window(qtbot, clinic, biller(clinic))
    billing = _billing(window)
    window.show_workspace("billing")
    _fix(window, target, seeded)
    box = _message(qtbot, window)
    assert words in box.text() and "ask your infusion desk support contact" in box.text().lower()
    assert window.tabs.currentWidget() is billing  # the user stays where they were
    box.accept()
    qtbot.waitUntil(lambda: window.fix_message is None, timeout=5_000)


def test_without_the_front_desk_workspace_the_message_names_who_can_fix_it(
    qtbot: QtBot, clinic: Services, seeded: Seeded, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A clinic whose billers may not edit patients: they have Billing but not the Front desk.
    monkeypatch.setitem(
        ROLE_PERMISSIONS, Role.BILLER, ROLE_PERMISSIONS[Role.BILLER] - {Permission.PATIENT_EDIT}
    )
    window = _window(qtbot, clinic, biller(clinic))
    assert window.workspace_titles() == ["Billing"]
    _fix(window, "patient", seeded)
    box = _message(qtbot, window)
    assert "the patient's record, in the Front desk workspace, which Biller accounts do not open" in box.text()
    assert "Ask a Front desk, Manager or Administrator user" in box.text()
    assert window.tabs.currentWidget() is window.billing
    box.accept()


def test_f1_lists_the_billing_keys_for_billing_users_only(qtbot: QtBot, clinic: Services) -> None:
    def keys(window: MainWindow) -> dict[str, str]:
        qtbot.keyClick(window, Qt.Key.Key_F1)
        dialog = window.findChild(QDialog, "shortcutsDialog")
        assert dialog is not None and dialog.isVisible()
        listed = {dialog.model.item(r, 0).text(): dialog.model.item(r, 1).text() for r in range(dialog.model.rowCount())}
        dialog.findChild(QPushButton).click()  # Close
        return listed

    billing = keys(_window(qtbot, clinic, biller(clinic)))
    for key in ("Alt+1 … Alt+8", "Ctrl+B", "Ctrl+R", "Ctrl+Shift+R", "Ctrl+E", "Ctrl+I", "Ctrl+U"):
        assert key in billing
    assert billing["Ctrl+U"] == "Batches: upload the selected batch by SFTP"
    assert "Payments: import 835 remittances" in billing["Ctrl+I"]
    assert {"Ctrl+F", "F1", "Ctrl+Q"} <= set(billing)

    front_desk = keys(_window(qtbot, clinic, clinic.auth.sign_in("frontdesk", DEMO_PASSWORD)))
    assert "Ctrl+U" not in front_desk and "Ctrl+F" in front_desk
