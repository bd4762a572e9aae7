"""The first-run wizard, walked with the keyboard: a new clinic on this computer, or the demo clinic."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role
from infusion_desk.services import setup as first_run
from infusion_desk.services.app import Services
from infusion_desk.services.clearinghouse import ClearinghouseService
from infusion_desk.ui.first_run_wizard import FirstRunWizard, Outcome, Page
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor
from tests.memory_keyring import installed

pytestmark = pytest.mark.gui

ALT = Qt.KeyboardModifier.AltModifier


@pytest.fixture
def wizard(qtbot: QtBot, tmp_path: Path) -> Iterator[FirstRunWizard]:
    wizard = FirstRunWizard(
        default_url=f"sqlite:///{tmp_path / 'data' / 'clinic.sqlite3'}", config_path=tmp_path / "settings.json"
    )
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is wizard.database_page.local)
    yield wizard
    assert wait_for_idle(20_000)
    if wizard.services is not None:
        wizard.services.close()


def _focused() -> QWidget:
    widget = QApplication.focusWidget()
    assert widget is not None
    return widget


def _enter(qtbot: QtBot) -> None:
    qtbot.keyClick(_focused(), Qt.Key.Key_Return)


def _fill(qtbot: QtBot, *texts: str) -> None:
    """Type each text into the focused field, Tab moving to the next field."""
    for index, text in enumerate(texts):
        if index:
            qtbot.keyClick(_focused(), Qt.Key.Key_Tab)
        field = _focused()
        assert isinstance(field, QLineEdit), f"focus is on {field.objectName()!r}, not a text field"
        qtbot.keyClicks(field, text)


def _wait_for_page(qtbot: QtBot, wizard: FirstRunWizard, page: Page) -> None:
    qtbot.waitUntil(lambda: wizard.currentId() == int(page), timeout=20_000)


def test_a_new_clinic_on_this_computer_from_the_keyboard(
    qtbot: QtBot, wizard: FirstRunWizard, tmp_path: Path
) -> None:
    start = wizard.database_page
    assert start.local.isChecked() and start.own.isChecked()
    assert str(tmp_path / "data" / "clinic.sqlite3") in start.local_path.text()
    assert not start.host.isEnabled()  # the server's fields wait for the server choice
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.CLINIC)

    clinic = wizard.clinic_page
    assert _focused() is clinic.form.fields["name"]
    _fill(qtbot, "Lakeview Infusion Suite (test)", "1234567890", "12-3456789", "261QI0500X",
          "400 Example Avenue", "", "Springfield", "IL", "62701-0400", "217-555-0142")
    _enter(qtbot)  # the NPI's check digit is wrong: the page stays, the reason under the field
    assert wizard.currentId() == int(Page.CLINIC)
    npi_error = clinic.form.errors["npi"]
    assert npi_error.isVisible() and "fails its check digit" in npi_error.text()
    assert _focused() is clinic.form.fields["npi"]
    assert "check digit" in clinic.form.fields["npi"].accessibleDescription()
    qtbot.keyClicks(_focused(), "1234567893")  # the wrong NPI is selected: typing replaces it
    assert not npi_error.isVisible()
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.ADMIN)

    assert _focused() is wizard.admin_page.form.fields["username"]
    _fill(qtbot, "nell.okafor", "Nell Okafor", "Quiet-Harbor-2026!", "Quiet-Harbor-2026!")
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.CLEARINGHOUSE)

    clearinghouse = wizard.clearinghouse_page
    qtbot.keyClick(_focused(), Qt.Key.Key_L, ALT)  # set it up later (a mnemonic clicks after a moment)
    qtbot.waitUntil(clearinghouse.later.isChecked)
    assert not clearinghouse.form.fields["sender_id"].isEnabled()
    assert wizard.button(wizard.WizardButton.CommitButton).text() == "&Create the clinic"
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.DONE)
    assert "signed in as Nell Okafor (nell.okafor)" in wizard.done_page.message.text()
    assert "File → Clearinghouse" in wizard.done_page.message.text()
    with qtbot.waitSignal(wizard.accepted, timeout=5000):
        _enter(qtbot)

    assert wizard.outcome is Outcome.SETUP
    assert wizard.actor is not None and wizard.actor.role is Role.ADMIN
    services = wizard.services
    assert services is not None
    details = services.clinic.details()
    assert details is not None and (details.name, details.npi) == ("Lakeview Infusion Suite (test)", "1234567893")
    assert services.auth.sign_in("nell.okafor", "Quiet-Harbor-2026!").user_id == wizard.actor.user_id
    assert ClearinghouseService(services.db).profile(wizard.actor) is None
    saved = json.loads((tmp_path / "settings.json").read_text(encoding="utf-8"))
    assert saved == {"database_url": wizard.database_url}
    assert wizard.database_url is not None and wizard.database_url.endswith("data/clinic.sqlite3")


def test_the_demo_clinic_instead(
    qtbot: QtBot, wizard: FirstRunWizard, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(first_run, "DEMO_PATIENTS", 4)
    monkeypatch.setattr(first_run, "DEMO_MONTHS", 1)
    qtbot.keyClick(_focused(), Qt.Key.Key_I, ALT)
    qtbot.waitUntil(wizard.database_page.demo.isChecked)
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.DEMO)
    page = wizard.demo_page
    qtbot.waitUntil(page.isComplete, timeout=60_000)
    said = page.message.text()
    assert "frontdesk, nurse, biller, manager, admin" in said and "password demo" in said
    with qtbot.waitSignal(wizard.accepted, timeout=5000):
        _enter(qtbot)
    assert wizard.outcome is Outcome.DEMO and wizard.actor is None
    services = wizard.services
    assert services is not None
    details = services.clinic.details()
    assert details is not None and details.is_demo
    assert services.auth.sign_in("biller", "demo").role is Role.BILLER
    assert "database_url" in json.loads((tmp_path / "settings.json").read_text(encoding="utf-8"))


def test_a_refusal_when_writing_returns_to_the_page_to_fix(
    qtbot: QtBot, wizard: FirstRunWizard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another workstation took the user name meanwhile: the wizard goes back to the admin page and says why."""
    from infusion_desk.billing.findings import error
    from infusion_desk.services.setup import SetupRefused, SetupService, SetupStep

    def refuse(self: SetupService, *args: object) -> None:
        raise SetupRefused({SetupStep.ADMIN: (error("USERNAME_TAKEN", "User name 'nell' is already taken.",
                                                    "username"),)})

    monkeypatch.setattr(SetupService, "complete_setup", refuse)
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.CLINIC)
    _fill(qtbot, "Lakeview Infusion Suite (test)", "1234567893", "123456789", "261QI0500X",
          "400 Example Avenue", "", "Springfield", "IL", "62701")
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.ADMIN)
    _fill(qtbot, "nell", "Nell Okafor", "Quiet-Harbor-2026!", "Quiet-Harbor-2026!")
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.CLEARINGHOUSE)
    qtbot.keyClick(_focused(), Qt.Key.Key_L, ALT)
    qtbot.waitUntil(wizard.clearinghouse_page.later.isChecked)
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.ADMIN)
    assert "already taken" in wizard.admin_page.form.errors["username"].text()
    assert _focused() is wizard.admin_page.form.fields["username"]
    assert wizard.outcome is None


def test_a_database_set_up_elsewhere_only_asks_to_sign_in(qtbot: QtBot, sqlite_services: Services) -> None:
    make_actor(sqlite_services, Role.ADMIN)
    wizard = FirstRunWizard(default_url="sqlite:///unused.sqlite3", services=sqlite_services)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.activateWindow()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is wizard.database_page.own)
    assert not wizard.database_page.location.isVisible()
    assert wizard.database_page.fixed_location.isVisible()
    _enter(qtbot)
    _wait_for_page(qtbot, wizard, Page.EXISTING)
    assert "already has a clinic and users" in wizard.existing_page.message.text()
    with qtbot.waitSignal(wizard.accepted, timeout=5000):
        _enter(qtbot)
    assert wizard.outcome is Outcome.EXISTING and wizard.services is sqlite_services
    assert wait_for_idle(10_000)


@pytest.fixture
def no_keyring() -> Iterator[KeyringBackend]:
    yield from installed(fail.Keyring())


def test_without_a_keyring_the_wizard_asks_for_the_database_passphrase(
    qtbot: QtBot, wizard: FirstRunWizard, no_keyring: KeyringBackend
) -> None:
    _enter(qtbot)
    qtbot.waitUntil(lambda: wizard.passphrase_dialog is not None and wizard.passphrase_dialog.isVisible(),
                    timeout=20_000)
    dialog = wizard.passphrase_dialog
    assert dialog is not None and dialog.first_run
    qtbot.keyClicks(dialog.passphrase_edit, "seven quiet chairs by the window")
    qtbot.keyClicks(dialog.confirm_edit, "seven quiet chairs by the window")
    qtbot.keyClick(dialog.confirm_edit, Qt.Key.Key_Return)
    _wait_for_page(qtbot, wizard, Page.CLINIC)
    assert wizard.services is not None and wizard.services.opened is not None
    assert wizard.services.opened.key_source == "passphrase"


def test_the_server_choice_checks_its_fields_and_tests_the_connection(
    qtbot: QtBot, wizard: FirstRunWizard
) -> None:
    page = wizard.database_page
    qtbot.keyClick(_focused(), Qt.Key.Key_S, ALT)
    qtbot.waitUntil(page.server.isChecked)
    assert page.host.isEnabled() and _focused() is page.host
    for field in page.server_form.fields.values():
        assert field.accessibleName()
    for key in ("host", "port", "sslmode"):
        assert page.server_form.fields[key].toolTip()
    _enter(qtbot)  # no host, no user: refused under the fields, nothing opened
    assert page.server_form.errors["host"].isVisible() and page.server_form.errors["user"].isVisible()
    assert wizard.currentId() == int(Page.DATABASE) and wizard.services is None
    qtbot.keyClicks(page.host, "127.0.0.1")
    page.port.setValue(1)  # nothing listens on port 1
    qtbot.keyClicks(page.user, "desk")
    qtbot.keyClick(page.user, Qt.Key.Key_C, ALT)
    qtbot.waitUntil(lambda: page.test_result.text() not in ("", "Connecting…"), timeout=20_000)
    assert "No PostgreSQL server answered at 127.0.0.1:1" in page.test_result.text()
    assert wizard.currentId() == int(Page.DATABASE)
