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
