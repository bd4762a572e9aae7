"""The first-run wizard: where the database lives, the clinic, its first administrator, the clearinghouse.

    wizard = FirstRunWizard(default_url="sqlite:///…/clinic.sqlite3")   # chooses and opens the database
    wizard = FirstRunWizard(default_url=url, services=services)        # the database is open already
    wizard.accepted  ->  wizard.services (open), wizard.actor (the new administrator, or None), wizard.outcome

Pages, all keyboard-driven (Enter = Next, Alt+letter on every label, Escape = Cancel):

1. **Welcome**: this computer (an encrypted SQLite file) or a PostgreSQL server (host, port,
   database, user, password, TLS mode; **Test connection**), and whether to set up the clinic
   or load the fictional demo clinic. Next opens the database on the worker thread, asking
   for the database passphrase where this computer has no keyring.
2. **Clinic**: name, NPI, TIN, taxonomy, address, phone, time zone, optional pay-to address.
3. **Administrator**: the first account, with the password policy.
4. **Clearinghouse** (may be left for later): the IDs from the companion guide. **Create the
   clinic** writes steps 2–4 in one unit of work (:class:`~infusion_desk.services.setup.SetupService`).
5. **Done** (signed in), or **Demo clinic** (written with progress), or **Set up already**
   (a shared database another workstation set up: sign in).

Each page's findings come from the service rules and are shown under the field they name;
the first such field gets the focus. The choice of database is remembered for the next start
(:mod:`~infusion_desk.services.local_config`) when the wizard made it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from enum import IntEnum, StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from infusion_desk.services.errors import ENVIRONMENT_ERRORS, ServiceError
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.field_findings import finding_text, place_findings
from infusion_desk.ui.passphrase_dialog import PassphraseDialog
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, GOOD, WARNING, set_tone

if TYPE_CHECKING:
    from infusion_desk.billing.findings import Finding
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services
    from infusion_desk.services.clearinghouse import ClearinghouseSettings
    from infusion_desk.services.setup import AdminAccount, ClinicSetup

OpenServices = Callable[[str, "str | None"], "Services"]
"""Opens the database at a URL with an optional passphrase (``Services.open(url, passphrase=…)[0]``)."""



class Page(IntEnum):
    DATABASE = 0
    CLINIC = 1
    ADMIN = 2
    CLEARINGHOUSE = 3
    DEMO = 4
    EXISTING = 5
    DONE = 6


class Outcome(StrEnum):
    SETUP = "setup"
    """The clinic was set up; ``wizard.actor`` is its first administrator, signed in."""
    DEMO = "demo"
    """The demo clinic was written; the users sign in with the password ``demo``."""
    EXISTING = "existing"
    """The database was set up already (another workstation): sign in."""


def _open_services(url: str, passphrase: str | None) -> Services:
    from infusion_desk.services.app import Services

    return Services.open(url, passphrase=passphrase)[0]


def _plain(label: str) -> str:
    """The label as a screen reader should say it: no mnemonic marker, no colon."""
    return label.replace("&", "").rstrip(":").strip()


class _Form:
    """Labelled fields with a findings line under each, as Clinic settings shows them."""

    def __init__(self, parent: QWidget) -> None:
        self.parent = parent
        self.layout = QFormLayout()
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.order: list[QWidget] = []

    def add(
        self, key: str, label_text: str, widget: QWidget | None = None, *, tooltip: str | None = None,
        placeholder: str | None = None,
    ) -> QWidget:
        field = widget if widget is not None else QLineEdit(self.parent)
        field.setObjectName(f"{key}Field")
        field.setAccessibleName(_plain(label_text))
        if tooltip:
            field.setToolTip(tooltip)
        if isinstance(field, QLineEdit):
            if placeholder:
                field.setPlaceholderText(placeholder)
            field.textEdited.connect(lambda _text, key=key: self.clear(key))
        error = QLabel(self.parent)
        error.setObjectName(f"{key}Error")
        error.setWordWrap(True)
        error.hide()
        cell = QVBoxLayout()
        cell.setSpacing(2)
        cell.addWidget(field)
        cell.addWidget(error)
        label = QLabel(label_text, self.parent)
        label.setBuddy(field)
        self.layout.addRow(label, cell)
        self.fields[key] = field
        self.errors[key] = error
        self.order.append(field)
        return field

    def text(self, key: str) -> str:
        field = self.fields[key]
        assert isinstance(field, QLineEdit)
        return field.text()

    def optional(self, key: str) -> str | None:
        return self.text(key).strip() or None

    def show_findings(self, findings: Sequence[Finding]) -> list[Finding]:
        """Put each finding under its field; return those no field here owns."""
        self.clear_all()
        keys, elsewhere = place_findings(findings, self.fields, self.errors)
        first = self.fields[keys[0]] if keys else None
        if first is not None:
            first.setFocus(Qt.FocusReason.OtherFocusReason)
            if isinstance(first, QLineEdit):
                first.selectAll()
        return elsewhere

    def clear(self, key: str) -> None:
        self.errors[key].clear()
        self.errors[key].hide()
        self.fields[key].setAccessibleDescription("")

    def clear_all(self) -> None:
        for key in self.fields:
            self.clear(key)


def _message_label(parent: QWidget, name: str) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def _say(label: QLabel, text: str, tone: str | None = None) -> None:
    label.setText(text)
    set_tone(label, tone)
    label.setAccessibleDescription(text)


# --- 1. where the database lives -----------------------------------------------------------------


class DatabasePage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        from infusion_desk.services.setup import SSL_MODES

        self._wizard = wizard
        self._runner = TaskRunner(self)
        self._opened_for: str | None = None
        self.setTitle("Welcome to Infusion Desk")
        self.setSubTitle("First: where the clinic's database lives, and what to start with.")

        self.location = QGroupBox("Where the clinic database lives", self)
        self.local = QRadioButton("&This computer (one workstation)", self.location)
        self.local.setObjectName("localChoice")
        self.local.setChecked(True)
        self.local_path = QLabel(self.location)
        self.local_path.setObjectName("localPath")
        self.local_path.setWordWrap(True)
        self.server = QRadioButton("A PostgreSQL &server (several workstations share it)", self.location)
        self.server.setObjectName("serverChoice")
        choice = QButtonGroup(self)
        choice.addButton(self.local)
        choice.addButton(self.server)

        self.server_form = _Form(self.location)
        self.host = self.server_form.add(
            "host", "&Host:", placeholder="db.clinic.lan",
            tooltip="The server's name or address on the clinic network (a folder starting with / is a "
            "local socket).",
        )
        port = QSpinBox(self.location)
        port.setRange(1, 65535)
        port.setValue(5432)
        self.port = self.server_form.add("port", "P&ort:", port, tooltip="PostgreSQL listens on 5432 unless "
                                         "its administrator chose another port.")
        self.database = self.server_form.add("database", "&Database:", tooltip="The database's name on the "
                                             "server; an empty one gets Infusion Desk's tables.")
        assert isinstance(self.database, QLineEdit)
        self.database.setText("infusion_desk")
        self.user = self.server_form.add("user", "&User:", tooltip="The server account Infusion Desk signs "
                                         "in as (not your own Infusion Desk user name).")
        password = QLineEdit(self.location)
        password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password = self.server_form.add(
            "password", "Pass&word:", password,
            tooltip="Kept in this computer's password store (keyring), never in a file.",
        )
        sslmode = QComboBox(self.location)
        for code, label in SSL_MODES:
            sslmode.addItem(f"{code} — {label}", code)
        self.sslmode = self.server_form.add(
            "sslmode", "TLS &mode:", sslmode,
            tooltip="How the connection is encrypted (libpq sslmode). Patient data crosses the network: "
            "keep TLS on unless the server is on this computer.",
        )
        self.test_button = QPushButton("Test &connection", self.location)
        self.test_button.setObjectName("testConnection")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self.test_connection)
        self.server_form.layout.addRow("", self.test_button)
        self.test_result = _message_label(self.location, "testResult")
        self.server_form.layout.addRow(self.test_result)

        location = QVBoxLayout(self.location)
        location.addWidget(self.local)
        location.addWidget(self.local_path)
        location.addWidget(self.server)
        location.addLayout(self.server_form.layout)

        self.fixed_location = QLabel(self)
        self.fixed_location.setObjectName("fixedLocation")
        self.fixed_location.setWordWrap(True)
        self.fixed_location.hide()

        self.start = QGroupBox("What to start with", self)
        self.own = QRadioButton("Set up &your clinic (its details, your administrator account)", self.start)
        self.own.setObjectName("ownClinicChoice")
        self.own.setChecked(True)
        self.demo = QRadioButton(
            "Try the fictional demo cl&inic instead (made-up patients and users, password demo)", self.start
        )
        self.demo.setObjectName("demoChoice")
        start_choice = QButtonGroup(self)
        start_choice.addButton(self.own)
        start_choice.addButton(self.demo)
        start = QVBoxLayout(self.start)
        start.addWidget(self.own)
        start.addWidget(self.demo)

        self.status = _message_label(self, "databaseStatus")

        layout = QVBoxLayout(self)
        layout.addWidget(self.location)
        layout.addWidget(self.fixed_location)
        layout.addWidget(self.start)
        layout.addWidget(self.status)
        layout.addStretch(1)

        order: list[QWidget] = [self.local, self.server, *self.server_form.order, self.test_button,
                                self.own, self.demo]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)
        self.server.toggled.connect(self._server_chosen)
        self._server_chosen(False)
        if wizard.fixed_services is not None:
            self.location.hide()
            self.fixed_location.setText(f"The clinic database: {wizard.fixed_services.db.display_name}")
            self.fixed_location.show()
        else:
            from infusion_desk.services.setup import database_file

            path = database_file(wizard.default_url)
            self.local_path.setText(f"An encrypted file: {path or wizard.default_url}")

    def focus_first(self) -> None:
        first = self.own if self._wizard.fixed_services is not None else self.local
        checked = next((button for button in (self.local, self.server) if button.isChecked()), first)
        (checked if self.location.isVisible() else first).setFocus(Qt.FocusReason.OtherFocusReason)

    def _server_chosen(self, chosen: bool) -> None:
        for field in (*self.server_form.fields.values(), self.test_button):
            field.setEnabled(chosen)
        if chosen:
            self.host.setFocus(Qt.FocusReason.OtherFocusReason)

    # the URL the choice stands for ------------------------------------------------------------

    def server_url(self, *, with_password: bool) -> str:
        from infusion_desk.services.setup import server_url

        assert isinstance(self.port, QSpinBox) and isinstance(self.sslmode, QComboBox)
        password = self.server_form.text("password") if with_password else None
        return server_url(
            self.server_form.text("host"), self.port.value(), self.server_form.text("database"),
            self.server_form.text("user"), sslmode=str(self.sslmode.currentData()), password=password or None,
        )

    def _server_findings(self) -> list[Finding]:
        from infusion_desk.billing.findings import error

        findings = []
        for key, what in (("host", "the server's name or address"), ("database", "the database's name"),
                          ("user", "the server account's name")):
            if not self.server_form.text(key).strip():
                findings.append(error("REQUIRED", f"{_plain(key.capitalize())}: enter {what}.", key))
        return findings

    def _refused_here(self) -> bool:
        findings = self._server_findings()
        self.server_form.show_findings(findings)
        return bool(findings)

    # Test connection --------------------------------------------------------------------------

    def test_connection(self) -> None:
        if self._runner.busy or self._refused_here():
            return
        from infusion_desk.services.setup import SetupService

        url = self.server_url(with_password=True)
        _say(self.test_result, "Connecting…")
        self.test_button.setEnabled(False)
        self._runner.run(lambda: SetupService.test_connection(url), self._tested, self._test_failed)

    def _tested(self, said: str) -> None:
        self.test_button.setEnabled(self.server.isChecked())
        _say(self.test_result, said, GOOD if "WITHOUT" not in said else WARNING)

    def _test_failed(self, exc: Exception) -> None:
        self.test_button.setEnabled(self.server.isChecked())
        _say(self.test_result, describe(exc), ERROR)
        self.test_result.setToolTip(getattr(exc, "details", ""))
        if not isinstance(exc, (ServiceError, *ENVIRONMENT_ERRORS)):
            show_error(self, exc)

    # Next: open the database ------------------------------------------------------------------

    def _choice(self) -> str:
        wizard = self._wizard
        if wizard.fixed_services is not None:
            return "fixed"
        if self.server.isChecked():
            return self.server_url(with_password=True)
        return wizard.default_url

    def validatePage(self) -> bool:
        if self._opened_for is not None and self._opened_for == self._choice():
            return True
        if self._runner.busy:
            return False
        if self._wizard.fixed_services is None and self.server.isChecked() and self._refused_here():
            return False
        self.open_database()
        return False

    def open_database(self, passphrase: str | None = None) -> None:
        from infusion_desk.services.local_config import LocalConfig, save_local_config
        from infusion_desk.services.setup import SetupService, remember_server_password

        wizard = self._wizard
        choice = self._choice()
        wizard.release_services()
        fixed = wizard.fixed_services
        server = fixed is None and self.server.isChecked()
        config_path = wizard.config_path
        open_services = wizard.open_services

        def open_and_check() -> tuple[Services, bool, str | None, str | None]:
            if fixed is not None:
                return fixed, SetupService(fixed.db).needs_setup(), None, None
            SetupService.test_connection(choice)
            url = remember_server_password(choice) if server else choice
            services = open_services(url, passphrase)
            try:
                needed = SetupService(services.db).needs_setup()
            except BaseException:
                services.close()
                raise
            problem = None
            if not needed:  # a database another workstation set up: this computer uses it from now on
                try:
                    save_local_config(LocalConfig(url), config_path)
                except ServiceError as exc:
                    problem = str(exc)
            return services, needed, url, problem

        _say(self.status, "Opening the clinic database…")
        self.setEnabled(False)
        self._runner.run(open_and_check, lambda result: self._opened(choice, result), self._open_failed)

    def _opened(self, choice: str, result: tuple[Services, bool, str | None, str | None]) -> None:
        services, needed, url, problem = result
        self.setEnabled(True)
        self._server_chosen(self.server.isChecked())
        wizard = self._wizard
        wizard.services = services
        wizard.database_url = url
        wizard.needs_setup = needed
        wizard.config_problem = problem
        self._opened_for = choice
        _say(self.status, f"Opened {services.db.display_name}.", GOOD)
        wizard.next()

    def _open_failed(self, exc: Exception) -> None:
        from infusion_desk.services.vault import KeyNeeded, WrongKey

        self.setEnabled(True)
        self._server_chosen(self.server.isChecked())
        if isinstance(exc, KeyNeeded | WrongKey):
            self._ask_passphrase(exc)
            return
        bare = isinstance(exc, RuntimeError) and not isinstance(exc, ServiceError)  # DatabaseTooNewError
        text = str(exc) if bare else describe(exc)
        _say(self.status, text, ERROR)
        self.status.setToolTip(getattr(exc, "details", ""))
        if not isinstance(exc, (ServiceError, RuntimeError, *ENVIRONMENT_ERRORS)):
            show_error(self, exc)

    def _ask_passphrase(self, exc: Exception) -> None:
        """The database key is not on this computer: ask for the passphrase (as the app window does)."""
        from infusion_desk.services.vault import WrongKey

        first_run = getattr(exc, "first_run", False)
        tried = self._wizard.passphrase_dialog is not None
        if first_run and not tried:
            message, error = str(exc), None
        elif first_run:
            message, error = "Choose a passphrase for the clinic database.", str(exc)
        else:
            message = "The clinic database is encrypted. Type its passphrase to open it."
            error = str(exc) if tried or isinstance(exc, WrongKey) else None
        # the wizard, not this page, is its parent: the page is disabled while the database opens
        dialog = PassphraseDialog(first_run=first_run, message=message, error=error, parent=self._wizard)
        self._wizard.passphrase_dialog = dialog
        dialog.accepted.connect(lambda: self.open_database(dialog.passphrase()))
        dialog.rejected.connect(
            lambda: _say(self.status, "The database stays closed without its passphrase.", ERROR)
        )
        dialog.open()

    def nextId(self) -> int:
        wizard = self._wizard
        if self._opened_for is None:
            return int(Page.CLINIC)
        if not wizard.needs_setup:
            return int(Page.EXISTING)
        return int(Page.DEMO if self.demo.isChecked() else Page.CLINIC)


# --- 2. the clinic -------------------------------------------------------------------------------


class ClinicPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        from infusion_desk.services.setup import DEFAULT_TIMEZONE, US_TIME_ZONES

        self.setTitle("The clinic")
        self.setSubTitle("As it appears on claims: the billing provider. Copy the codes from the clinic's "
                         "NPPES record and IRS letter.")
        self.form = _Form(self)
        add = self.form.add
        add("name", "Organisation na&me:", tooltip="The clinic's legal name, as on its NPPES record.")
        add("npi", "NP&I:", placeholder="10 digits",
            tooltip="The clinic's organisation (type 2) National Provider Identifier: 10 digits, the last "
            "a check digit. Look it up at npiregistry.cms.hhs.gov.")
        add("tin", "&TIN (EIN):", placeholder="12-3456789",
            tooltip="The clinic's federal Employer Identification Number from the IRS: 9 digits, "
            "with or without the hyphen.")
        add("taxonomy", "Ta&xonomy code:", placeholder="261QI0500X",
            tooltip="The NUCC provider taxonomy code on the NPPES record: 10 letters and digits ending in "
            "X. An infusion therapy clinic is 261QI0500X.")
        add("address1", "Service &address:", tooltip="Where patients are treated: a street address, not a "
            "PO box (claims name it as the billing provider's address).")
        add("address2", "Address line &2:")
        add("city", "&City:")
        add("state", "Stat&e:", placeholder="IL", tooltip="The two-letter USPS code.")
        add("zip_code", "&ZIP code:", placeholder="62701-0400",
            tooltip="ZIP+4 (12345-6789): the 837P claim asks for all nine digits of the billing address.")
        add("phone", "&Phone:", placeholder="217-555-0100")
        zones = QComboBox(self)
        for zone, label in US_TIME_ZONES:
            zones.addItem(f"{label} ({zone})", zone)
        zones.setCurrentIndex(zones.findData(DEFAULT_TIMEZONE))
        self.timezone = add("timezone", "Time z&one:", zones,
                            tooltip="The clinic's local time: dates of service and the schedule use it.")
        pay_to = QLabel("Pay-to address — only if payments go elsewhere (a lockbox): leave empty otherwise.",
                        self)
        pay_to.setWordWrap(True)
        self.form.layout.addRow(pay_to)
        add("pay_to_address1", "Pay-to &street:")
        add("pay_to_city", "Pay-to cit&y:")
        add("pay_to_state", "Pay-to state (2 &letters):")
        add("pay_to_zip_code", "Pay-to ZIP code (5 or 9 di&gits):")
        self.message = _message_label(self, "clinicMessage")
        layout = QVBoxLayout(self)
        layout.addLayout(self.form.layout)
        layout.addWidget(self.message)
        for first, second in zip(self.form.order, self.form.order[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def focus_first(self) -> None:
        self.form.fields["name"].setFocus(Qt.FocusReason.OtherFocusReason)

    def clinic(self) -> ClinicSetup:
        from infusion_desk.services.setup import ClinicSetup

        text, optional = self.form.text, self.form.optional
        assert isinstance(self.timezone, QComboBox)
        return ClinicSetup(
            name=text("name"), npi=text("npi").strip(), tin=text("tin").strip(), taxonomy=text("taxonomy"),
            address1=text("address1"), address2=optional("address2"), city=text("city"), state=text("state"),
            zip_code=text("zip_code"), phone=optional("phone"), timezone=str(self.timezone.currentData()),
            pay_to_address1=optional("pay_to_address1"), pay_to_city=optional("pay_to_city"),
            pay_to_state=optional("pay_to_state"), pay_to_zip_code=optional("pay_to_zip_code"),
        )

    def show_findings(self, findings: Sequence[Finding]) -> None:
        elsewhere = self.form.show_findings(findings)
        count = sum(1 for f in findings if f.blocks)
        summary = f"{count} thing{'s' if count != 1 else ''} to fix before going on." if count else ""
        _say(self.message, "\n".join([summary, *(finding_text(f) for f in elsewhere)]).strip(), ERROR)

    def validatePage(self) -> bool:
        from infusion_desk.services.setup import check_clinic

        findings = check_clinic(self.clinic())
        self.show_findings(findings)
        return not any(f.blocks for f in findings)


# --- 3. the first administrator ------------------------------------------------------------------


class AdminPage(QWizardPage):
    def __init__(self) -> None:
        super().__init__()
        from infusion_desk.services.password_policy import password_rules_text

        self.setTitle("Your administrator account")
        self.setSubTitle("The first user. Administrators add the other users (File → Users…) and may do "
                         "everything in Infusion Desk.")
        self.form = _Form(self)
        self.form.add("username", "&User name:", placeholder="nell.okafor",
                      tooltip="What you type to sign in: letters, digits, '.' or '_'.")
        self.form.add("display_name", "Your na&me:", tooltip="As the audit trail and the screens show it.")
        for key, label in (("password", "&Password:"), ("password_again", "Password a&gain:")):
            field = QLineEdit(self)
            field.setEchoMode(QLineEdit.EchoMode.Password)
            self.form.add(key, label, field, tooltip=password_rules_text())
        rules = QLabel(password_rules_text(), self)
        rules.setObjectName("passwordRules")
        rules.setWordWrap(True)
        self.message = _message_label(self, "adminMessage")
        layout = QVBoxLayout(self)
        layout.addLayout(self.form.layout)
        layout.addWidget(rules)
        layout.addWidget(self.message)
        for first, second in zip(self.form.order, self.form.order[1:], strict=False):
            QWidget.setTabOrder(first, second)

    def focus_first(self) -> None:
        self.form.fields["username"].setFocus(Qt.FocusReason.OtherFocusReason)

    def admin(self) -> AdminAccount:
        from infusion_desk.services.setup import AdminAccount

        text = self.form.text
        return AdminAccount(text("username"), text("display_name"), text("password"), text("password_again"))

    def show_findings(self, findings: Sequence[Finding]) -> None:
        elsewhere = self.form.show_findings(findings)
        _say(self.message, "\n".join(finding_text(f) for f in elsewhere), ERROR)

    def validatePage(self) -> bool:
        from infusion_desk.services.setup import check_admin

        findings = check_admin(self.admin())
        self.show_findings(findings)
        return not any(f.blocks for f in findings)


# --- 4. the clearinghouse, then everything is written --------------------------------------------


class ClearinghousePage(QWizardPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        from infusion_desk.services.clearinghouse import ID_QUALIFIERS

        self._wizard = wizard
        self._runner = TaskRunner(self)
        self._written = False
        self.setTitle("Clearinghouse (may wait)")
        self.setSubTitle("Who the clinic is to its clearinghouse, exactly as the clearinghouse's companion "
                         "guide gives it. Claims cannot be sent until this is entered.")
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "&Create the clinic")
        self.later = QCheckBox("Set up the clearinghouse &later (File → Clearinghouse…)", self)
        self.later.setObjectName("clearinghouseLater")
        self.form = _Form(self)
        add = self.form.add
        add("name", "Clearinghouse na&me:", tooltip="Any name you recognise the clearinghouse by.")

        def qualifiers() -> QComboBox:
            combo = QComboBox(self)
            for code, label in ID_QUALIFIERS.items():
                combo.addItem(f"{code} — {label}", code)
            combo.setCurrentIndex(combo.findData("ZZ"))
            return combo

        add("sender_qualifier", "Sender ID &qualifier (ISA05):", qualifiers(),
            tooltip="The kind of ID the clinic is known by (ISA05); usually ZZ, mutually defined.")
        add("sender_id", "&Sender ID (ISA06):",
            tooltip="The clinic's submitter ID at the clearinghouse (ISA06): up to 15 letters or digits.")
        add("receiver_qualifier", "Receiver ID q&ualifier (ISA07):", qualifiers(),
            tooltip="The kind of ID the clearinghouse is known by (ISA07); usually ZZ.")
        add("receiver_id", "&Receiver ID (ISA08):",
            tooltip="The clearinghouse's own ID (ISA08): up to 15 letters or digits.")
        add("application_sender_code", "Application s&ender code (GS02):", placeholder="as the sender ID",
            tooltip="GS02; left empty, the sender ID is used.")
        add("application_receiver_code", "Application recei&ver code (GS03):",
            placeholder="as the receiver ID", tooltip="GS03; left empty, the receiver ID is used.")
        self.production = QCheckBox("&Production (unticked: the clearinghouse's test mode)", self)
        self.production.setObjectName("production")
        self.form.layout.addRow(self.production)
        self.message = _message_label(self, "clearinghouseMessage")
        layout = QVBoxLayout(self)
        layout.addWidget(self.later)
        layout.addLayout(self.form.layout)
        layout.addWidget(self.message)
        order = [self.later, *self.form.order, self.production]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)
        self.later.toggled.connect(self._later)

    def focus_first(self) -> None:
        self.form.fields["name"].setFocus(Qt.FocusReason.OtherFocusReason)

    def _later(self, later: bool) -> None:
        for field in (*self.form.fields.values(), self.production):
            field.setEnabled(not later)
        if later:
            self.form.clear_all()

    def settings(self) -> ClearinghouseSettings | None:
        from infusion_desk.services.clearinghouse import ClearinghouseSettings

        if self.later.isChecked():
            return None
        text = self.form.text
        sender, receiver = self.form.fields["sender_qualifier"], self.form.fields["receiver_qualifier"]
        assert isinstance(sender, QComboBox) and isinstance(receiver, QComboBox)
        return ClearinghouseSettings(
            name=text("name"), sender_qualifier=str(sender.currentData()), sender_id=text("sender_id"),
            receiver_qualifier=str(receiver.currentData()), receiver_id=text("receiver_id"),
            application_sender_code=text("application_sender_code") or text("sender_id"),
            application_receiver_code=text("application_receiver_code") or text("receiver_id"),
            production=self.production.isChecked(),
        )

    def show_findings(self, findings: Sequence[Finding]) -> None:
        elsewhere = self.form.show_findings(findings)
        _say(self.message, "\n".join(finding_text(f) for f in elsewhere), ERROR)

    def validatePage(self) -> bool:
        if self._written:
            return True
        if self._runner.busy:
            return False
        from infusion_desk.services.setup import check_clearinghouse

        profile = self.settings()
        if profile is not None:
            findings = check_clearinghouse(profile)
            self.show_findings(findings)
            if any(f.blocks for f in findings):
                return False
        self._wizard.write_setup(profile)
        return False

    def written(self) -> None:
        self._written = True
        self._wizard.next()

    def nextId(self) -> int:
        return int(Page.EXISTING if self._wizard.set_up_elsewhere else Page.DONE)


# --- 5. the end of each path ---------------------------------------------------------------------


class _FinalPage(QWizardPage):
    """A page that ends the wizard (Finish, no Next)."""

    def nextId(self) -> int:
        return -1


class _Relay(QObject):
    """Carries the demo generator's progress from the worker thread to the page (a queued signal)."""

    message = Signal(str)


class DemoPage(_FinalPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self._runner = TaskRunner(self)
        self._done = False
        self.setTitle("The demo clinic")
        self.setSubTitle("A fictional clinic to try Infusion Desk with: every name, number and visit is "
                         "made up.")
        self.setFinalPage(True)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("demoProgress")
        self.progress.setRange(0, 0)
        self.progress.setAccessibleName("Writing the demo clinic")
        self.message = _message_label(self, "demoMessage")
        self.relay = _Relay(self)
        self.relay.message.connect(self._progress)
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def initializePage(self) -> None:
        from infusion_desk.services.local_config import LocalConfig, save_local_config
        from infusion_desk.services.setup import SetupService

        wizard = self._wizard
        wizard.setButtonLayout([QWizard.WizardButton.Stretch, QWizard.WizardButton.FinishButton])
        services, url, config_path = wizard.services, wizard.database_url, wizard.config_path
        assert services is not None
        emit = self.relay.message.emit

        def write() -> str | None:
            SetupService(services.db).load_demo(progress=emit)
            if url is not None:
                try:
                    save_local_config(LocalConfig(url), config_path)
                except ServiceError as exc:
                    return str(exc)
            return None

        _say(self.message, "Writing the demo clinic…")
        self._runner.run(write, self._written, self._failed)

    def _progress(self, text: str) -> None:
        _say(self.message, f"Writing the demo clinic: {text}…")

    def _written(self, problem: str | None) -> None:
        from infusion_desk.services.demo import DEMO_PASSWORD, DEMO_USERS

        self._done = True
        self._wizard.outcome = Outcome.DEMO
        self.progress.setRange(0, 1)
        self.progress.setValue(1)
        names = ", ".join(username for username, _name, _role in DEMO_USERS)
        text = (f"The demo clinic is ready. Sign in as {names} — every one with the password "
                f"{DEMO_PASSWORD}. Press Enter to finish.")
        _say(self.message, text + (f"\n{problem}" if problem else ""), GOOD)
        self.completeChanged.emit()
        self._wizard.button(QWizard.WizardButton.FinishButton).setFocus(Qt.FocusReason.OtherFocusReason)

    def _failed(self, exc: Exception) -> None:
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        _say(self.message, f"The demo clinic was not written: {describe(exc)}", ERROR)
        self._wizard.setButtonLayout([QWizard.WizardButton.Stretch, QWizard.WizardButton.CancelButton])
        if not isinstance(exc, (ServiceError, *ENVIRONMENT_ERRORS)):
            show_error(self, exc)

    def isComplete(self) -> bool:
        return self._done


class ExistingPage(_FinalPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("This database is set up already")
        self.setFinalPage(True)
        self.message = _message_label(self, "existingMessage")
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def initializePage(self) -> None:
        self._wizard.outcome = Outcome.EXISTING
        services = self._wizard.services
        where = services.db.display_name if services is not None else "the database"
        _say(self.message, f"{where} already has a clinic and users (perhaps set up from another "
             "workstation). Press Enter, then sign in with your user name; an administrator adds "
             "users in File → Users…." + (f"\n{self._wizard.config_problem}" if self._wizard.config_problem
                                        else ""))


class DonePage(_FinalPage):
    def __init__(self, wizard: FirstRunWizard) -> None:
        super().__init__()
        self._wizard = wizard
        self.setTitle("The clinic is set up")
        self.setFinalPage(True)
        self.message = _message_label(self, "doneMessage")
        layout = QVBoxLayout(self)
        layout.addWidget(self.message)
        layout.addStretch(1)

    def initializePage(self) -> None:
        wizard = self._wizard
        wizard.setButtonLayout([QWizard.WizardButton.Stretch, QWizard.WizardButton.FinishButton])
        actor = wizard.actor
        assert actor is not None
        lines = [
            f"You are signed in as {actor.display_name} ({actor.username}), administrator.",
            "Next: add the staff's accounts (File → Users…), the payers and the chairs.",
        ]
        if wizard.clearinghouse_skipped:
            lines.append("Before sending claims, enter the clearinghouse's IDs (File → Clearinghouse…).")
        if wizard.config_problem:
            lines.append(wizard.config_problem)
        lines.append("Press Enter to start.")
        _say(self.message, "\n".join(lines))


# --- the wizard ----------------------------------------------------------------------------------


class FirstRunWizard(QWizard):
    """Set up an empty clinic database; see the module's description."""

    def __init__(
        self,
        *,
        default_url: str,
        services: Services | None = None,
        config_path: Path | None = None,
        open_services: OpenServices | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``services``: the database is open already (its location is not asked).

        ``default_url``: "this computer" (normally ``cli.default_database_path()``); ``config_path``:
        where the choice is remembered (default: :func:`~infusion_desk.services.local_config.config_path`).
        """
        super().__init__(parent)
        self.setObjectName("firstRunWizard")
        self.setWindowTitle("Set up Infusion Desk")
        self.default_url = default_url
        self.fixed_services = services
        self.config_path = config_path
        self.open_services: OpenServices = open_services or _open_services
        self.services: Services | None = services
        self.database_url: str | None = None
        """The URL remembered for the next start; ``None`` when the wizard did not choose it."""
        self.needs_setup = True
        self.actor: Actor | None = None
        self.outcome: Outcome | None = None
        self.set_up_elsewhere = False
        self.clearinghouse_skipped = False
        self.config_problem: str | None = None
        self.passphrase_dialog: PassphraseDialog | None = None
        self._runner = TaskRunner(self)

        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.NextButton, "&Next >")
        self.setButtonText(QWizard.WizardButton.BackButton, "< &Back")
        self.setButtonText(QWizard.WizardButton.FinishButton, "&Finish")
        self.database_page = DatabasePage(self)
        self.clinic_page = ClinicPage()
        self.admin_page = AdminPage()
        self.clearinghouse_page = ClearinghousePage(self)
        self.demo_page = DemoPage(self)
        self.existing_page = ExistingPage(self)
        self.done_page = DonePage(self)
        for page_id, page in (
            (Page.DATABASE, self.database_page), (Page.CLINIC, self.clinic_page),
            (Page.ADMIN, self.admin_page),
            (Page.CLEARINGHOUSE, self.clearinghouse_page), (Page.DEMO, self.demo_page),
            (Page.EXISTING, self.existing_page), (Page.DONE, self.done_page),
        ):
            self.setPage(int(page_id), page)
        self.setStartId(int(Page.DATABASE))
        self.currentIdChanged.connect(self._focus_page)
        self.resize(640, 620)

    def _focus_page(self, _page_id: int) -> None:
        """Each page starts with the cursor in its first field, so typing can begin at once."""
        focus_first = getattr(self.currentPage(), "focus_first", None)
        if focus_first is not None:
            focus_first()

    # the set-up itself ---------------------------------------------------------------------

    def write_setup(self, profile: ClearinghouseSettings | None) -> None:
        """Write steps 2–4 on the worker (called by the clearinghouse page's Create the clinic)."""
        from infusion_desk.services.local_config import LocalConfig, save_local_config
        from infusion_desk.services.setup import SetupService

        assert self.services is not None
        services, url, config_path = self.services, self.database_url, self.config_path
        clinic, admin = self.clinic_page.clinic(), self.admin_page.admin()
        self.clearinghouse_skipped = profile is None

        def write() -> tuple[Actor, str | None]:
            actor = SetupService(services.db).complete_setup(clinic, admin, profile)
            if url is None:
                return actor, None
            try:
                save_local_config(LocalConfig(url), config_path)
            except ServiceError as exc:
                return actor, str(exc)
            return actor, None

        page = self.clearinghouse_page
        _say(page.message, "Creating the clinic…")
        page.setEnabled(False)
        self.button(QWizard.WizardButton.BackButton).setEnabled(False)  # until the write has an answer
        self._runner.run(write, self._set_up, self._refused)

    def _set_up(self, result: tuple[Actor, str | None]) -> None:
        self.clearinghouse_page.setEnabled(True)
        self.actor, self.config_problem = result
        self.outcome = Outcome.SETUP
        self.clearinghouse_page.written()

    def _refused(self, exc: Exception) -> None:
        from infusion_desk.services.setup import AlreadySetUp, SetupRefused, SetupStep

        page = self.clearinghouse_page
        page.setEnabled(True)
        page.completeChanged.emit()  # the wizard enables its buttons again
        if isinstance(exc, AlreadySetUp):
            self.set_up_elsewhere = True
            page.written()
            return
        if isinstance(exc, SetupRefused):
            step = exc.first_step
            target = {SetupStep.CLINIC: self.clinic_page, SetupStep.ADMIN: self.admin_page}.get(step, page)
            while self.currentPage() is not target and self.currentId() != int(Page.DATABASE):
                self.back()
            target.show_findings(exc.by_step[step])
            return
        _say(page.message, describe(exc), ERROR)
        if isinstance(exc, ENVIRONMENT_ERRORS):
            show_error(self, exc, retry=lambda: self.write_setup(page.settings()))
        elif not isinstance(exc, ServiceError):
            show_error(self, exc)

    # closing ---------------------------------------------------------------------------------

    def release_services(self) -> None:
        """Close the database the wizard opened (a new choice is about to be opened)."""
        if self.services is not None and self.services is not self.fixed_services:
            self.services.close()
        self.services = self.fixed_services

    def reject(self) -> None:
        if self.outcome in (Outcome.SETUP, Outcome.DEMO):
            self.accept()  # written already: Escape finishes rather than pretending to cancel
            return
        if self._runner.busy or self.database_page._runner.busy or self.demo_page._runner.busy:
            return  # the database is being opened or written: wait for it
        self.release_services()
        super().reject()

