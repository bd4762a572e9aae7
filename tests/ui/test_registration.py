"""The front desk registers a patient from the keyboard; a patient already on file is offered instead."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role, Sex
from infusion_desk.services.app import Services
from infusion_desk.services.patients import PatientInput
from infusion_desk.ui.tasks import wait_for_idle
from infusion_desk.ui.workspaces import FrontDeskWorkspace
from tests.conftest import make_actor


def _type(qtbot: QtBot, dialog, values: dict[str, str]) -> None:  # type: ignore[no-untyped-def]
    for name, text in values.items():
        dialog.fields[name].clear()
        qtbot.keyClicks(dialog.fields[name], text)


FORM = {"first_name": "Ines", "last_name": "Varga", "birth_date": "07/21/1958", "address1": "4 Demo Lane",
        "city": "Springfield", "state": "il", "zip_code": "62704", "phone": "217-555-0142"}


def test_register_then_the_same_person_again_opens_the_existing_record(qtbot: QtBot, ui_services: Services) -> None:
    desk = make_actor(ui_services, Role.FRONT_DESK)
    workspace = FrontDeskWorkspace(ui_services, desk)
    qtbot.addWidget(workspace)
    workspace.show()

    qtbot.mouseClick(workspace.new_patient_button, Qt.MouseButton.LeftButton)
    dialog = workspace.registration
    assert dialog is not None and dialog.isVisible()
    _type(qtbot, dialog, {**FORM, "birth_date": "21/07/1958"})
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert "MM/DD/YYYY" in dialog.error.text()  # nothing was sent

    _type(qtbot, dialog, FORM)
    with qtbot.waitSignal(workspace.panel.patientShown, timeout=5000):
        qtbot.keyClick(dialog.fields["phone"], Qt.Key.Key_Return)
    assert "Varga" in workspace.panel.name.text()
    assert ui_services.patients.count(desk) == 1
    (first,) = ui_services.patients.search(desk, "varga")

    # The same person typed again: offered, and opening the existing record saves nothing.
    qtbot.mouseClick(workspace.new_patient_button, Qt.MouseButton.LeftButton)
    again = workspace.registration
    _type(qtbot, again, {**FORM, "first_name": "ines", "last_name": "VARGA"})
    qtbot.mouseClick(again.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: again.open_existing.isVisible(), timeout=5000)
    assert "may already be on file" in again.error.text()
    assert first.mrn in again.duplicates.item(0).text()
    with qtbot.waitSignal(workspace.panel.patientShown, timeout=5000):
        qtbot.mouseClick(again.open_existing, Qt.MouseButton.LeftButton)
    assert ui_services.patients.count(desk) == 1
    wait_for_idle()


def test_service_findings_are_shown_and_nothing_is_saved(qtbot: QtBot, ui_services: Services) -> None:
    desk = make_actor(ui_services, Role.FRONT_DESK)
    workspace = FrontDeskWorkspace(ui_services, desk)
    qtbot.addWidget(workspace)
    workspace.show()
    workspace.register_patient()
    dialog = workspace.registration
    _type(qtbot, dialog, {**FORM, "state": "QQ", "birth_date": "01/01/2099"})
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "future" in dialog.error.text(), timeout=5000)
    assert "state" in dialog.error.text().lower()
    assert ui_services.patients.count(desk) == 0
    # A different person with the same name is saved after confirming.
    ui_services.patients.register(desk, PatientInput("Ines", "Varga", date(1958, 7, 21), Sex.FEMALE,
                                                     "1 Demo St", "Springfield", "IL", "62701"), date(2026, 11, 26))
    _type(qtbot, dialog, FORM)
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.save_anyway.isVisible(), timeout=5000)
    with qtbot.waitSignal(dialog.registered, timeout=5000):
        qtbot.mouseClick(dialog.save_anyway, Qt.MouseButton.LeftButton)
    assert ui_services.patients.count(desk) == 2
    wait_for_idle()


def test_the_new_patient_command_opens_registration_for_the_front_desk_only(qtbot: QtBot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    from infusion_desk.ui.app import create_main_window

    window = create_main_window(ui_services, make_actor(ui_services, Role.FRONT_DESK))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert window.new_patient_action.shortcut().toString() == "Ctrl+Shift+N"
    window.new_patient_action.trigger()
    dialog = window.front_desk.registration
    assert dialog is not None and dialog.isVisible()
    dialog.reject()
    nurse_window = create_main_window(ui_services, make_actor(ui_services, Role.NURSE))
    qtbot.addWidget(nurse_window)
    assert not nurse_window.new_patient_action.isVisible()
    wait_for_idle()


def test_add_insurance_with_a_spouse_subscriber(qtbot: QtBot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    from infusion_desk.models import Payer
    from infusion_desk.models.enums import PayerType, SubscriberRelationship

    desk = make_actor(ui_services, Role.FRONT_DESK)
    with ui_services.db.session() as session:
        session.add(Payer(name="Bluebonnet Health Plan (demo)", payer_id="DEMO3", payer_type=PayerType.COMMERCIAL))
    patient_id = ui_services.patients.register(desk, PatientInput("Ines", "Varga", date(1958, 7, 21), Sex.FEMALE,
                                                                   "4 Demo Lane", "Springfield", "IL", "62704"),
                                               date(2026, 11, 26))
    workspace = FrontDeskWorkspace(ui_services, desk)
    qtbot.addWidget(workspace)
    workspace.show()
    assert not workspace.add_policy_button.isEnabled()  # no patient open yet
    with qtbot.waitSignal(workspace.panel.patientShown, timeout=5000):
        workspace.open_patient(patient_id)
    qtbot.mouseClick(workspace.add_policy_button, Qt.MouseButton.LeftButton)
    dialog = workspace.policy_dialog
    qtbot.waitUntil(lambda: dialog.payer.count() == 1, timeout=5000)
    qtbot.keyClicks(dialog.member_id, "DEMO 123")
    qtbot.keyClicks(dialog.effective, "01/01/2026")
    dialog.relationship.setCurrentIndex(dialog.relationship.findData(SubscriberRelationship.SPOUSE))
    assert dialog.subscriber_first.isEnabled()
    qtbot.keyClicks(dialog.subscriber_first, "Gabor")
    dialog.save()
    qtbot.waitUntil(lambda: "Member ID" in dialog.error.text(), timeout=5000)
    assert "subscriber" in dialog.error.text().lower()  # last name, date of birth and sex are missing
    assert ui_services.patients.get(desk, patient_id).policies == ()

    dialog.member_id.clear()
    qtbot.keyClicks(dialog.member_id, "DEMO123")
    qtbot.keyClicks(dialog.subscriber_last, "Varga")
    qtbot.keyClicks(dialog.subscriber_birth, "02/03/1955")
    dialog.subscriber_sex.setCurrentIndex(dialog.subscriber_sex.findData(Sex.MALE))
    with qtbot.waitSignal(workspace.panel.patientShown, timeout=5000):
        dialog.save()
    (policy,) = ui_services.patients.get(desk, patient_id).policies
    assert policy.member_id == "DEMO123" and policy.subscriber_relationship is SubscriberRelationship.SPOUSE
    assert workspace.panel.policy_model.rowCount() == 1
    wait_for_idle()


def test_a_member_id_on_file_is_a_duplicate_and_the_guarantor_is_kept(qtbot: QtBot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    from infusion_desk.models import Patient, Payer
    from infusion_desk.models.enums import PayerType, PolicyRank
    from infusion_desk.services.patients import PolicyInput

    desk = make_actor(ui_services, Role.FRONT_DESK)
    with ui_services.db.session() as session:
        payer = Payer(name="Evergreen Mutual (demo)", payer_id="DEMO4", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        payer_id = payer.id
    existing = ui_services.patients.register(desk, PatientInput("Kai", "Lindqvist", date(2001, 5, 5), Sex.MALE,
                                                                "9 Demo Court", "Springfield", "IL", "62701"),
                                             date(2026, 11, 26))
    ui_services.patients.add_policy(desk, existing, PolicyInput(payer_id=payer_id, rank=PolicyRank.PRIMARY,
                                                               member_id="EVG555", effective_date=date(2026, 1, 1)))
    workspace = FrontDeskWorkspace(ui_services, desk)
    qtbot.addWidget(workspace)
    workspace.show()
    workspace.register_patient()
    dialog = workspace.registration
    # A different spelling of the name, but the card's member ID is on file.
    _type(qtbot, dialog, {**FORM, "first_name": "Kay", "last_name": "Lindquist", "member_id": "EVG555"})
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.open_existing.isVisible(), timeout=5000)
    assert "Lindqvist" in dialog.duplicates.item(0).text()

    # A minor with a parent as guarantor, no member ID: saved with the guarantor.
    workspace.register_patient()
    minor = workspace.registration
    _type(qtbot, minor, {**FORM, "first_name": "Noor", "last_name": "Haddad", "birth_date": "03/03/2015",
                         "guarantor_name": "Samir Haddad", "guarantor_relationship": "parent"})
    with qtbot.waitSignal(minor.registered, timeout=5000) as blocker:
        qtbot.mouseClick(minor.save_button, Qt.MouseButton.LeftButton)
    with ui_services.db.session() as session:
        saved = session.get(Patient, blocker.args[0])
        assert (saved.guarantor_name, saved.guarantor_relationship) == ("Samir Haddad", "parent")
    wait_for_idle()


def test_edit_mode_prefills_and_asks_before_renaming_into_another_patient(qtbot: QtBot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    from infusion_desk.ui.registration import RegisterPatientDialog

    desk = make_actor(ui_services, Role.FRONT_DESK)
    today = date(2026, 11, 26)
    ui_services.patients.register(desk, PatientInput("Ines", "Varga", date(1958, 7, 21), Sex.FEMALE, "1 Demo St",
                                                     "Springfield", "IL", "62701"), today)
    other = ui_services.patients.register(desk, PatientInput("Inez", "Varga", date(1958, 7, 21), Sex.FEMALE,
                                                             "4 Demo Lane", "Springfield", "IL", "62704",
                                                             guarantor_name="Bela Varga"), today)
    dialog = RegisterPatientDialog(ui_services, desk, lambda: today, patient=ui_services.patients.get(desk, other))
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Edit patient"
    assert dialog.fields["first_name"].text() == "Inez" and dialog.fields["guarantor_name"].text() == "Bela Varga"
    assert not dialog.fields["member_id"].isVisible()

    # Correcting the spelling makes it the same person as a record on file: asked first.
    _type(qtbot, dialog, {"first_name": "Ines"})
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.save_anyway.isVisible(), timeout=5000)
    assert "may already be on file" in dialog.error.text()
    assert ui_services.patients.get(desk, other).first_name == "Inez"
    with qtbot.waitSignal(dialog.updated, timeout=5000) as blocker:
        qtbot.mouseClick(dialog.save_anyway, Qt.MouseButton.LeftButton)
    assert blocker.args == [other]
    saved = ui_services.patients.get(desk, other)
    assert (saved.first_name, saved.guarantor_name, saved.address1) == ("Ines", "Bela Varga", "4 Demo Lane")
    assert ui_services.patients.count(desk) == 2
    wait_for_idle()


def test_a_save_after_someone_else_saved_the_patient_offers_a_reload(qtbot: QtBot, ui_services: Services) -> None:
    from PySide6.QtWidgets import QMessageBox

    from infusion_desk.ui.registration import RegisterPatientDialog

    anna = make_actor(ui_services, Role.FRONT_DESK, "anna")
    ben = make_actor(ui_services, Role.FRONT_DESK, "ben")
    today = date(2026, 11, 26)
    patient_id = ui_services.patients.register(
        anna, PatientInput("Ines", "Varga", date(1958, 7, 21), Sex.FEMALE, "1 Demo St", "Springfield", "IL",
                           "62701"), today,
    )
    dialog = RegisterPatientDialog(ui_services, anna, lambda: today, patient=ui_services.patients.get(anna, patient_id))
    qtbot.addWidget(dialog)
    dialog.show()
    # meanwhile, at the other desk, ben saves a new phone number
    shown = ui_services.patients.get(ben, patient_id)
    ui_services.patients.update_patient(
        ben, patient_id,
        PatientInput("Ines", "Varga", date(1958, 7, 21), Sex.FEMALE, "1 Demo St", "Springfield", "IL", "62701",
                     phone="2175550188"),
        today, expected_version=shown.version,
    )

    _type(qtbot, dialog, {"city": "Shelbyville"})
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.conflict is not None and dialog.conflict.isVisible(), timeout=5000)
    box = dialog.conflict
    assert isinstance(box, QMessageBox) and "changed by ben at" in box.text()
    assert ui_services.patients.get(anna, patient_id).city == "Springfield"  # nothing was overwritten
    assert dialog.fields["city"].text() == "Shelbyville"  # anna's typing is still on screen

    box.findChild(type(dialog.save_button), "reloadButton").click()
    qtbot.waitUntil(lambda: dialog.fields["phone"].text() == "2175550188", timeout=5000)
    assert dialog.fields["city"].text() == "Springfield" and "Reloaded" in dialog.error.text()
    _type(qtbot, dialog, {"city": "Shelbyville"})
    with qtbot.waitSignal(dialog.updated, timeout=5000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    saved = ui_services.patients.get(anna, patient_id)
    assert (saved.phone, saved.city) == ("2175550188", "Shelbyville")
    wait_for_idle()
