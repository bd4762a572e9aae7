"""A manager enters the clearinghouse's IDs; the 270 export then has an envelope to write."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.clearinghouse import ClearinghouseService
from infusion_desk.ui.clearinghouse_dialog import ClearinghouseDialog
from tests.conftest import make_actor

pytestmark = pytest.mark.gui


def test_manager_saves_the_profile_and_bad_ids_are_explained(qtbot, ui_services: Services) -> None:  # type: ignore[no-untyped-def]
    manager = make_actor(ui_services, Role.MANAGER)
    dialog = ClearinghouseDialog(ui_services, manager)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "Example Clearinghouse (test)")
    qtbot.keyClicks(dialog.sender_id, "CLINIC*01")  # '*' is an X12 delimiter
    qtbot.keyClicks(dialog.receiver_id, "EXAMPLECH")
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Sender ID" in dialog.findings.text())
    assert ClearinghouseService(ui_services.db).profile(manager) is None

    dialog.sender_id.setText("CLINIC01")
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    profile = ClearinghouseService(ui_services.db).profile(manager)
    assert profile is not None and profile.sender_id == "CLINIC01" and profile.receiver_id == "EXAMPLECH"
    assert profile.application_sender_code == "CLINIC01" and profile.sender_qualifier == "ZZ"
    assert not profile.production

    again = ClearinghouseDialog(ui_services, manager)
    qtbot.addWidget(again)
    qtbot.waitUntil(lambda: again.sender_id.text() == "CLINIC01")
    assert again.name.text() == "Example Clearinghouse (test)"


def test_the_sftp_password_goes_to_the_keyring_not_the_database(  # type: ignore[no-untyped-def]
    qtbot, ui_services: Services, tmp_path
) -> None:
    import keyring

    from infusion_desk.services.secrets import load_sftp_secret
    from tests.services.test_secrets import MemoryKeyring

    previous = keyring.get_keyring()
    memory = MemoryKeyring()
    keyring.set_keyring(memory)
    try:
        manager = make_actor(ui_services, Role.MANAGER)
        dialog = ClearinghouseDialog(ui_services, manager)
        qtbot.addWidget(dialog)
        dialog.show()
        qtbot.keyClicks(dialog.name, "Example Clearinghouse")
        qtbot.keyClicks(dialog.sender_id, "CLINIC01")
        qtbot.keyClicks(dialog.receiver_id, "EXAMPLECH")
        qtbot.keyClicks(dialog.sftp_host, "sftp.example.invalid")
        qtbot.keyClicks(dialog.sftp_username, "democlinic")
        qtbot.keyClicks(dialog.sftp_secret, "fictional-Secret-42")
        with qtbot.waitSignal(dialog.saved):
            qtbot.mouseClick(dialog.buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)
        assert load_sftp_secret("Example Clearinghouse") == "fictional-Secret-42"
        assert dialog.sftp_secret.text() == ""
        with ui_services.db.engine.connect() as connection:
            dump = "\n".join(str(row) for table in ("clearinghouse_profile", "audit_event")
                             for row in connection.exec_driver_sql(f"SELECT * FROM {table}"))
        assert "fictional-Secret-42" not in dump
    finally:
        keyring.set_keyring(previous)


def test_claim_file_settings_are_saved_and_a_pattern_without_icn_is_refused(  # type: ignore[no-untyped-def]
    qtbot, ui_services: Services, tmp_path
) -> None:
    manager = make_actor(ui_services, Role.MANAGER)
    dialog = ClearinghouseDialog(ui_services, manager)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.name, "Example Clearinghouse")
    qtbot.keyClicks(dialog.sender_id, "CLINIC01")
    qtbot.keyClicks(dialog.receiver_id, "EXAMPLECH")
    dialog.claims_per_file.setValue(100)
    dialog.file_name_pattern.setText("claims_{date}.837")  # every file would get the same name
    qtbot.keyClicks(dialog.export_folder, str(tmp_path))
    save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "{icn}" in dialog.findings.text())
    dialog.file_name_pattern.setText("claims_{date}_{icn}.837")
    qtbot.keyClicks(dialog.sftp_host, "sftp.example.invalid")
    qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "SFTP user name" in dialog.findings.text())
    qtbot.keyClicks(dialog.sftp_username, "democlinic")
    with qtbot.waitSignal(dialog.saved):
        qtbot.mouseClick(save, Qt.MouseButton.LeftButton)
    profile = ClearinghouseService(ui_services.db).profile(manager)
    assert profile is not None
    assert (profile.claims_per_file, profile.file_name_pattern, profile.export_folder) == (
        100, "claims_{date}_{icn}.837", str(tmp_path)
    )
    assert (profile.sftp_host, profile.sftp_port, profile.sftp_username) == ("sftp.example.invalid", 22, "democlinic")
