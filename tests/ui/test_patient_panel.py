"""The opened patient's panel: policies greyed when terminated, reordered, edited and terminated from the keyboard."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QDialogButtonBox
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import PayerType, PolicyRank, Role, Sex
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.patients import PatientInput, PolicyInput
from infusion_desk.ui.patient_panel import PatientPanel
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor
from tests.ui.conftest import TODAY
from tests.ui.helpers import column


def _payer(services: Services, name: str, payer_type: PayerType, code: str) -> int:
    from infusion_desk.models import Payer

    with services.db.session() as session:
        payer = Payer(name=name, payer_id=code, payer_type=payer_type)
        session.add(payer)
        session.flush()
        return payer.id


class Record:
    def __init__(self, services: Services) -> None:
        self.desk = make_actor(services, Role.FRONT_DESK)
        self.patient = services.patients.register(
            self.desk,
            PatientInput(
                "Odile",
                "Framboise",
                date(1951, 3, 9),
                Sex.FEMALE,
                "8 Demo Close",
                "Springfield",
                "IL",
                "62704",
                phone="217-555-0177",
            ),
            TODAY,
        )
        self.medicare = _payer(services, "Medicare Part B (demo)", PayerType.MEDICARE, "DMCR1")
        self.commercial = _payer(services, "Pinecrest Health (demo)", PayerType.COMMERCIAL, "DPCH1")
        add = services.patients.add_policy
        self.employer = add(
            self.desk,
            self.patient,
            PolicyInput(
                payer_id=self.commercial,
                rank=PolicyRank.PRIMARY,
                member_id="PCH-100",
                effective_date=date(2024, 1, 1),
                group_number="G-1",
            ),
        )
        self.medicare_id = add(
            self.desk,
            self.patient,
            PolicyInput(
                payer_id=self.medicare,
                rank=PolicyRank.SECONDARY,
                member_id="1EG4-TE5-MK72",
                effective_date=date(2024, 1, 1),
                medicare_secondary_type="12",
            ),
        )
        self.old = add(
            self.desk,
            self.patient,
            PolicyInput(
                payer_id=self.commercial,
                rank=PolicyRank.TERTIARY,
                member_id="OLD-9",
                effective_date=date(2020, 1, 1),
                termination_date=date(2025, 12, 31),
            ),
        )


@pytest.fixture
def record(ui_services: Services, clinic) -> Record:  # type: ignore[no-untyped-def]
    return Record(ui_services)


def _open(
    qtbot: QtBot, services: Services, actor: Actor, patient_id: int, *, with_services: bool = True
) -> PatientPanel:
    panel = (
        PatientPanel(services=services, actor=actor, today=lambda: TODAY) if with_services else PatientPanel()
    )
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    panel.show_patient(services.patients.get(actor, patient_id, TODAY))
    return panel


def _ranks(services: Services, actor: Actor, patient_id: int) -> dict[str, PolicyRank]:
    return {p.member_id: p.rank for p in services.patients.get(actor, patient_id, TODAY).policies}


def test_policies_show_sbr09_and_terminated_ones_are_greyed(
    qtbot: QtBot, ui_services: Services, record: Record
) -> None:
    panel = _open(qtbot, ui_services, record.desk, record.patient)
    assert column(panel.policies, "Member ID") == ["PCH-100", "1EG4-TE5-MK72", "OLD-9"]
    assert column(panel.policies, "Rank") == ["Primary", "Secondary", "Tertiary"]
    assert column(panel.policies, "Filing (SBR09)") == ["CI", "MB", "CI"]
    assert column(panel.policies, "Status") == ["In force", "In force", "Terminated"]
    grey = QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
    model = panel.policy_model
    assert model.index(2, 1).data(Qt.ItemDataRole.ForegroundRole) == grey
    assert model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole) is None
    # The terminated policy cannot be moved or terminated again, only corrected.
    panel.policies.selectRow(2)
    assert panel.edit_policy_button.isEnabled()
    assert not panel.move_up_button.isEnabled() and not panel.terminate_button.isEnabled()
    wait_for_idle()


def test_ctrl_down_makes_the_primary_secondary(qtbot: QtBot, ui_services: Services, record: Record) -> None:
    panel = _open(qtbot, ui_services, record.desk, record.patient)
    panel.activateWindow()
    qtbot.waitActive(panel)
    panel.policies.setFocus()
    qtbot.waitUntil(panel.policies.hasFocus)
    panel.policies.selectRow(0)
    assert not panel.move_up_button.isEnabled() and panel.move_down_button.isEnabled()
    assert "Ctrl+Down" in panel.move_down_button.text()
    with qtbot.waitSignal(panel.patientChanged, timeout=5000):
        qtbot.keyClick(panel.policies, Qt.Key.Key_Down, Qt.KeyboardModifier.ControlModifier)
    assert _ranks(ui_services, record.desk, record.patient) == {
        "1EG4-TE5-MK72": PolicyRank.PRIMARY,
        "PCH-100": PolicyRank.SECONDARY,
        "OLD-9": PolicyRank.TERTIARY,
    }
    assert column(panel.policies, "Member ID") == ["1EG4-TE5-MK72", "PCH-100", "OLD-9"]
    # The moved policy stays selected, so pressing Ctrl+Up puts it back.
    assert panel.selected_policy().member_id == "PCH-100"
    with qtbot.waitSignal(panel.patientChanged, timeout=5000):
        qtbot.mouseClick(panel.move_up_button, Qt.MouseButton.LeftButton)
    assert column(panel.policies, "Member ID") == ["PCH-100", "1EG4-TE5-MK72", "OLD-9"]
    # Medicare became primary on the way, so its SBR05 was dropped.
    medicare = ui_services.patients.get(record.desk, record.patient, TODAY).policies[1]
    assert medicare.medicare_secondary_type is None
    wait_for_idle()


def test_terminate_asks_the_date_and_refuses_one_before_the_policy_began(
    qtbot: QtBot, ui_services: Services, record: Record
) -> None:
    panel = _open(qtbot, ui_services, record.desk, record.patient)
    panel.policies.selectRow(0)
    qtbot.mouseClick(panel.terminate_button, Qt.MouseButton.LeftButton)
    dialog = panel.terminate_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.date.text() == "11/26/2026"
    dialog.date.clear()
    qtbot.keyClicks(dialog.date, "12/31/2023")
    qtbot.keyClick(dialog.date, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "before the effective date" in dialog.error.text(), timeout=5000)
    assert ui_services.patients.get(record.desk, record.patient, TODAY).policies[0].termination_date is None

    dialog.date.clear()
    qtbot.keyClicks(dialog.date, "11/25/2026")
    with qtbot.waitSignal(panel.patientChanged, timeout=5000):
        qtbot.keyClick(dialog.date, Qt.Key.Key_Return)
    assert column(panel.policies, "Status")[0] == "Terminated"
    assert column(panel.policies, "Termination")[0] == "11/25/2026"
    assert panel.selected_policy().member_id == "PCH-100"
    wait_for_idle()


def test_edit_policy_fills_the_form_and_saves_sbr05(
    qtbot: QtBot, ui_services: Services, record: Record
) -> None:
    ui_services.patients.update_policy(
        record.desk,
        record.medicare_id,
        PolicyInput(
            payer_id=record.medicare,
            rank=PolicyRank.SECONDARY,
            member_id="1EG4-TE5-MK72",
            effective_date=date(2024, 1, 1),
        ),
    )
    panel = _open(qtbot, ui_services, record.desk, record.patient)
    panel.policies.selectRow(1)
    qtbot.mouseClick(panel.edit_policy_button, Qt.MouseButton.LeftButton)
    dialog = panel.policy_dialog
    assert dialog is not None and dialog.windowTitle() == "Edit insurance"
    qtbot.waitUntil(lambda: dialog.payer.count() == 2, timeout=5000)
    assert dialog.payer.currentText() == "Medicare Part B (demo)"
    assert dialog.member_id.text() == "1EG4-TE5-MK72" and dialog.effective.text() == "01/01/2024"
    assert dialog.msp_type.isEnabled() and dialog.msp_type.currentData() == ""
    dialog.msp_type.setCurrentIndex(dialog.msp_type.findData("12"))
    with qtbot.waitSignal(panel.patientChanged, timeout=5000):
        qtbot.mouseClick(
            dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton
        )
    assert ui_services.patients.claim_data(record.desk, record.patient, TODAY) == ()
    wait_for_idle()


def test_edit_patient_saves_the_corrected_address(
    qtbot: QtBot, ui_services: Services, record: Record
) -> None:
    panel = _open(qtbot, ui_services, record.desk, record.patient)
    qtbot.mouseClick(panel.edit_patient_button, Qt.MouseButton.LeftButton)
    editor = panel.editor
    assert editor is not None and editor.windowTitle() == "Edit patient"
    assert (
        editor.fields["last_name"].text() == "Framboise"
        and editor.fields["birth_date"].text() == "03/09/1951"
    )
    assert not editor.fields["member_id"].isVisible()
    editor.fields["zip_code"].clear()
    qtbot.keyClicks(editor.fields["zip_code"], "627")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "ZIP" in editor.error.text(), timeout=5000)
    assert ui_services.patients.get(record.desk, record.patient).zip_code == "62704"

    editor.fields["address1"].clear()
    qtbot.keyClicks(editor.fields["address1"], "19 Sample Parade")
    qtbot.keyClicks(editor.fields["zip_code"], "01")
    with qtbot.waitSignal(panel.patientChanged, timeout=5000):
        qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert panel.address.text().startswith("19 Sample Parade")
    assert ui_services.patients.get(record.desk, record.patient).zip_code == "62701"
    wait_for_idle()


def test_read_only_without_services_or_the_right_role(
    qtbot: QtBot, ui_services: Services, record: Record
) -> None:
    plain = _open(qtbot, ui_services, record.desk, record.patient, with_services=False)
    assert not plain.edit_patient_button.isVisible() and not plain.edit_policy_button.isVisible()
    assert plain.tabs.count() == 1
    nurse = make_actor(ui_services, Role.NURSE)
    panel = _open(qtbot, ui_services, nurse, record.patient)
    assert not panel.edit_patient_button.isVisible() and not panel.move_down_button.isVisible()
    assert panel.tabs.count() == 2 and panel.attachments is not None
    assert not panel.attachments.add_button.isEnabled()
    panel.policies.selectRow(0)
    panel.move_policy(1)  # a shortcut that slipped through still does nothing
    assert _ranks(ui_services, record.desk, record.patient)["PCH-100"] is PolicyRank.PRIMARY
    wait_for_idle()


def test_policy_model_passes_the_model_tester(qtmodeltester, ui_services: Services, record: Record) -> None:  # type: ignore[no-untyped-def]
    from infusion_desk.ui.patient_panel import PolicyTableModel

    model = PolicyTableModel(today=lambda: TODAY)
    model.set_policies(ui_services.patients.get(record.desk, record.patient, TODAY).policies)
    qtmodeltester.check(model)
