"""The main window: one workspace per role the signed-in user holds, menus and shortcuts.

    window = MainWindow(services, actor)   # a nurse sees Nursing; a biller Front desk and Billing
    window.show()

Ctrl+F finds a patient, Ctrl+1..Ctrl+4 switch workspaces, Ctrl+, opens the clinic settings,
F5 refreshes, F1 lists every shortcut, Ctrl+Q quits.

A claim finding's fix button in Billing lands where the fix is made (:meth:`MainWindow.open_billing_fix`):
the patient's page in the Front desk workspace with the right screen open, the clinic
settings, or, where Infusion Desk has no screen for it yet, a message saying what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence, QShowEvent
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from infusion_desk.models.enums import Role
from infusion_desk.services.access import ROLE_LABELS, ROLE_PERMISSIONS, Actor, Permission
from infusion_desk.services.app import Services
from infusion_desk.services.check_in import Fix
from infusion_desk.services.clinic import ClinicDetails
from infusion_desk.services.errors import ENVIRONMENT_ERRORS, ServiceError
from infusion_desk.ui.chairs_dialog import ChairsDialog
from infusion_desk.ui.change_password_dialog import ChangePasswordDialog
from infusion_desk.ui.clearinghouse_dialog import ClearinghouseDialog
from infusion_desk.ui.eligibility_panel import Export270Dialog
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import today_local
from infusion_desk.ui.patient_billing_settings import PatientBillingSettingsDialog
from infusion_desk.ui.patient_lookup import PatientLookupDialog
from infusion_desk.ui.payer_settings import PayerSettingsDialog
from infusion_desk.ui.settings_dialog import SettingsDialog
from infusion_desk.ui.shortcuts_help import BILLING_KEYS, ShortcutsDialog
from infusion_desk.ui.tasks import TaskRunner, wait_for_idle
from infusion_desk.ui.users_dialog import UsersDialog
from infusion_desk.ui.windowing import pin_minimum_size
from infusion_desk.ui.workspaces import (
    BillingWorkspace,
    FrontDeskWorkspace,
    ManagerWorkspace,
    NursingWorkspace,
)

APP_NAME = "Infusion Desk"
DEMO_SUFFIX = " [DEMO — fictional data]"

# (key, tab title, shortcut), in the order of the tabs and of Ctrl+1..Ctrl+4.
WORKSPACES: tuple[tuple[str, str, str], ...] = (
    ("front_desk", "Front desk", "Ctrl+1"),
    ("nursing", "Nursing", "Ctrl+2"),
    ("billing", "Billing", "Ctrl+3"),
    ("manager", "Manager", "Ctrl+4"),
)

# Where a claim finding raised in Billing is fixed (billing/scrubber.py SUBJECTS).
FRONT_DESK_FIXES: dict[str, tuple[Fix, str]] = {
    "authorization": (Fix.AUTHORIZATION, "the patient's prior authorizations"),
    "eligibility": (Fix.VERIFY_ELIGIBILITY, "the patient's eligibility verification"),
    "patient": (Fix.EDIT_PATIENT, "the patient's record"),
    "subscriber": (Fix.EDIT_POLICY, "the patient's insurance policy (the subscriber)"),
    "order": (Fix.ORDER, "the physician's order"),
}
"""Fixed on the patient's page in the Front desk workspace: the screen, and what it is, for messages."""

NO_SCREEN_YET: dict[str, tuple[str, str]] = {
    "charge_master": (
        "Charge master",
        "Prices come from the clinic's charge master (drug lines: units × the drug's unit price), "
        "which has no screen in Infusion Desk yet. Ask your Infusion Desk support contact to enter "
        "the price for this code and to rebuild the claim from its visit: its lines keep the old "
        "charge until then.",
    ),
    "drug_catalog": (
        "Drug catalog",
        "The drug catalog (NDC numbers, package sizes and unit prices) has no screen in Infusion Desk "
        "yet. Ask your Infusion Desk support contact to correct the drug and to rebuild the claim "
        "from its visit: its lines keep the old NDC data until then.",
    ),
    "provider": (
        "Providers",
        "The list of providers (names, NPIs and taxonomy codes) has no screen in Infusion Desk yet. "
        "Ask your Infusion Desk support contact to correct the provider; then press Scrub again "
        "(Ctrl+R) on the Claims page.",
    ),
    "claim": (
        "Fixed on the claim",
        "This finding is about the claim itself, which cannot be edited on screen yet. Where the "
        "finding names a record (visit, patient, policy, payer), correct it there and press Scrub "
        "again (Ctrl+R); otherwise ask your Infusion Desk support contact.",
    ),
}
"""Fix targets without a screen yet: a message box title and what to do."""


def roles_allowed(permission: Permission) -> str:
    """The roles holding ``permission``, for a message: ``"Manager or Administrator"``.

    >>> roles_allowed(Permission.CLINIC_SETTINGS)
    'Manager or Administrator'
    """
    names = [ROLE_LABELS[role] for role in Role if permission in ROLE_PERMISSIONS[role]]
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} or {names[-1]}"


def workspace_keys(actor: Actor) -> list[str]:
    """The workspaces ``actor``'s role opens, in tab order."""
    shown = {
        "front_desk": actor.can(Permission.PATIENT_EDIT),
        "nursing": actor.can(Permission.DOCUMENT_ADMINISTRATION),
        "billing": actor.can(Permission.CODE_VISIT),
        "manager": actor.can(Permission.REPORTS_VIEW) and actor.can(Permission.CLINIC_SETTINGS),
    }
    return [key for key, _title, _keys in WORKSPACES if shown[key]]


def window_title(details: ClinicDetails | None) -> str:
    if details is None:
        return APP_NAME
    return f"{APP_NAME} — {details.name}" + (DEMO_SUFFIX if details.is_demo else "")


class MainWindow(QMainWindow):
    clinicLoaded = Signal()
    """The clinic's details arrived and the title shows them."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        *,
        today: Callable[[], date] = today_local,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("mainWindow")
        self.setWindowTitle(APP_NAME)
        self.services = services
        self.actor = actor
        self.clinic: ClinicDetails | None = None
        self._runner = TaskRunner(self)
        self._lookup_dialog: PatientLookupDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self.fix_message: QMessageBox | None = None

        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("workspaces")
        self.tabs.setDocumentMode(True)
        self.workspaces: dict[str, QWidget] = {}
        factories: dict[str, Callable[[], QWidget]] = {
            "front_desk": lambda: FrontDeskWorkspace(services, actor, self.tabs),
            "nursing": lambda: NursingWorkspace(services, actor, today, self.tabs),
            "billing": lambda: BillingWorkspace(services, actor, self.tabs),
            "manager": lambda: ManagerWorkspace(services, actor, today, self.tabs),
        }
        titles = {key: title for key, title, _keys in WORKSPACES}
        for key in workspace_keys(actor):
            widget = factories[key]()
            self.workspaces[key] = widget
            self.tabs.addTab(widget, titles[key])
        if not self.workspaces:
            empty = QLabel(
                f"{ROLE_LABELS[actor.role]} accounts have no workspace yet. "
                "Press Ctrl+F to look up a patient.",
                self.tabs,
            )
            empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.tabs.addTab(empty, "Welcome")
        self.tabs.currentChanged.connect(self._focus_current)
        self.setCentralWidget(self.tabs)
        billing = self.billing
        if billing is not None:
            billing.fixRequested.connect(self.open_billing_fix)
        manager = self.workspaces.get("manager")
        if billing is not None and billing.claims is not None and isinstance(manager, ManagerWorkspace):
            if manager.reports is not None:
                manager.reports.openClaim.connect(self.open_claim)

        self._build_actions()
        self._build_status_bar()
        self.resize(1180, 720)
        pin_minimum_size(self)
        self._load_clinic()

    @property
    def front_desk(self) -> FrontDeskWorkspace | None:
        widget = self.workspaces.get("front_desk")
        return widget if isinstance(widget, FrontDeskWorkspace) else None

    @property
    def billing(self) -> BillingWorkspace | None:
        widget = self.workspaces.get("billing")
        return widget if isinstance(widget, BillingWorkspace) else None

    def workspace_titles(self) -> list[str]:
        return [self.tabs.tabText(i) for i in range(self.tabs.count())]

    # -- menus and shortcuts ------------------------------------------------------------

    def _action(self, text: str, keys: str, slot: Callable[[], object], name: str) -> QAction:
        action = QAction(text, self)
        action.setObjectName(name)
        action.setShortcut(QKeySequence(keys))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_actions(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.settings_action = self._action(
            "Clinic &settings…", "Ctrl+,", self.open_settings, "settingsAction"
        )
        self.settings_action.setEnabled(self.actor.can(Permission.CLINIC_SETTINGS))
        self.settings_action.setVisible(self.actor.can(Permission.CLINIC_SETTINGS))
        self.new_patient_action = self._action(
            "&New patient…", "Ctrl+Shift+N", self.new_patient, "newPatientAction"
        )
        self.new_patient_action.setEnabled("front_desk" in self.workspaces)
        self.new_patient_action.setVisible("front_desk" in self.workspaces)
        file_menu.addAction(self.new_patient_action)
        self.export_270_action = self._action(
            "&Export eligibility inquiries (270)…", "Ctrl+Shift+E", self.export_270, "export270Action"
        )
        self.export_270_action.setEnabled("front_desk" in self.workspaces)
        self.export_270_action.setVisible("front_desk" in self.workspaces)
        file_menu.addAction(self.export_270_action)
        file_menu.addAction(self.settings_action)
        self.payer_settings_action = self._action(
            "&Payer coding settings…", "Ctrl+Shift+,", self.open_payer_settings, "payerSettingsAction"
        )
        self.payer_settings_action.setEnabled(self.actor.can(Permission.CLINIC_SETTINGS))
        self.payer_settings_action.setVisible(self.actor.can(Permission.CLINIC_SETTINGS))
        file_menu.addAction(self.payer_settings_action)
        self.billing_settings_action = self._action(
            "Patient &billing settings…", "", self.open_billing_settings, "billingSettingsAction"
        )
        self.billing_settings_action.setEnabled(self.actor.can(Permission.CLINIC_SETTINGS))
        self.billing_settings_action.setVisible(self.actor.can(Permission.CLINIC_SETTINGS))
        file_menu.addAction(self.billing_settings_action)
        self.clearinghouse_action = self._action(
            "&Clearinghouse…", "", self.open_clearinghouse, "clearinghouseAction"
        )
        self.clearinghouse_action.setEnabled(self.actor.can(Permission.CLINIC_SETTINGS))
        self.clearinghouse_action.setVisible(self.actor.can(Permission.CLINIC_SETTINGS))
        file_menu.addAction(self.clearinghouse_action)
        self.chairs_action = self._action("C&hairs and hours…", "", self.open_chairs, "chairsAction")
        self.chairs_action.setEnabled(self.actor.can(Permission.CLINIC_SETTINGS))
        self.chairs_action.setVisible(self.actor.can(Permission.CLINIC_SETTINGS))
        file_menu.addAction(self.chairs_action)
        self.backup_action = self._action("B&ack up now", "", self.back_up_now, "backupAction")
        self.backup_action.setEnabled(self.actor.can(Permission.CLINIC_SETTINGS))
        self.backup_action.setVisible(self.actor.can(Permission.CLINIC_SETTINGS))
        file_menu.addAction(self.backup_action)
        self.users_action = self._action("&Users…", "", self.open_users, "usersAction")
        self.users_action.setEnabled(self.actor.can(Permission.USERS_MANAGE))
        self.users_action.setVisible(self.actor.can(Permission.USERS_MANAGE))
        file_menu.addAction(self.users_action)
        file_menu.addSeparator()
        self.change_password_action = self._action(
            "Change my pass&word…", "", self.change_password, "changePasswordAction"
        )
        file_menu.addAction(self.change_password_action)
        self.lock_action = self._action("&Lock screen", "Ctrl+L", lambda: None, "lockAction")
        self.lock_action.setEnabled(False)  # the application window connects it to its idle lock
        self.lock_action.setVisible(False)
        file_menu.addAction(self.lock_action)
        file_menu.addSeparator()
        self.quit_action = self._action("&Quit", "Ctrl+Q", self.close, "quitAction")
        file_menu.addAction(self.quit_action)

        go_menu = bar.addMenu("&Go")
        self.find_action = self._action("&Find patient…", "Ctrl+F", self.find_patient, "findAction")
        self.find_action.setEnabled(self.actor.can(Permission.PATIENT_VIEW))
        go_menu.addAction(self.find_action)
        go_menu.addSeparator()
        self.workspace_actions: dict[str, QAction] = {}
        for key, title, keys in WORKSPACES:
            if key in self.workspaces:
                action = self._action(
                    f"&{title}", keys, lambda key=key: self.show_workspace(key), f"{key}Action"
                )
                go_menu.addAction(action)
                self.workspace_actions[key] = action
        go_menu.addSeparator()
        self.refresh_action = self._action("&Refresh", "F5", self.refresh, "refreshAction")
        go_menu.addAction(self.refresh_action)

        help_menu = bar.addMenu("&Help")
        self.help_action = self._action("&Keyboard shortcuts", "F1", self.show_shortcuts, "helpAction")
        help_menu.addAction(self.help_action)

    def _help_actions(self) -> list[QAction]:
        return [
            self.find_action,
            self.new_patient_action,
            self.export_270_action,
            *self.workspace_actions.values(),
            self.refresh_action,
            self.settings_action,
            self.payer_settings_action,
            self.help_action,
            self.quit_action,
        ]

    def _build_status_bar(self) -> None:
        self.user_label = QLabel(
            f"Signed in: {self.actor.display_name} ({ROLE_LABELS[self.actor.role]})", self
        )
        self.user_label.setObjectName("statusUser")
        self.database_label = QLabel(f"Database: {self.services.db.display_name}", self)
        self.database_label.setObjectName("statusDatabase")
        self.statusBar().addPermanentWidget(self.user_label)
        self.statusBar().addPermanentWidget(self.database_label)

    # -- commands -------------------------------------------------------------------------

    def show_workspace(self, key: str) -> None:
        widget = self.workspaces.get(key)
        if widget is not None:
            self.tabs.setCurrentWidget(widget)
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def find_patient(self) -> None:
        if not self.actor.can(Permission.PATIENT_VIEW):
            return
        front_desk = self.front_desk
        if front_desk is not None:
            self.tabs.setCurrentWidget(front_desk)
            front_desk.finder.focus_search()
            return
        if self._lookup_dialog is None:
            self._lookup_dialog = PatientLookupDialog(self.services, self.actor, self)
        # A child dialog stays above the main window; activating it is enough.
        self._lookup_dialog.show()
        self._lookup_dialog.activateWindow()
        self._lookup_dialog.lookup.finder.focus_search()

    def new_patient(self) -> None:
        front_desk = self.front_desk
        if front_desk is not None:
            self.tabs.setCurrentWidget(front_desk)
            front_desk.register_patient()

    def back_up_now(self) -> None:
        """A manual backup of the database, on the worker thread; the status bar says where it went."""
        if not self.actor.can(Permission.CLINIC_SETTINGS):
            return
        from infusion_desk.services.backups import BackupService

        service, actor = BackupService(self.services.db), self.actor
        self.statusBar().showMessage("Backing up the database…")
        self._runner.run(
            lambda: service.backup_now(actor),
            lambda record: self.statusBar().showMessage(f"Backed up to {record.path}.", 15000),
            self._backup_failed,
        )

    def _backup_failed(self, exc: Exception) -> None:
        self.statusBar().showMessage(f"Backup failed: {describe(exc)}")
        show_error(self, exc)

    def open_users(self) -> None:
        if not self.actor.can(Permission.USERS_MANAGE):
            return
        dialog = UsersDialog(self.services, self.actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.users_dialog = dialog

    def change_password(self) -> None:
        # kept (not deleted on close): one small dialog, reused
        dialog = getattr(self, "change_password_dialog", None)
        if dialog is None:
            dialog = ChangePasswordDialog(self.services, self.actor, self)
            self.change_password_dialog = dialog
        dialog.open()

    def open_chairs(self) -> None:
        if not self.actor.can(Permission.CLINIC_SETTINGS):
            return
        dialog = ChairsDialog(self.services, self.actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        front_desk = self.front_desk
        if front_desk is not None:
            dialog.saved.connect(lambda _setup: front_desk.schedule.refresh())
        dialog.open()
        self.chairs_dialog = dialog

    def open_clearinghouse(self) -> None:
        if not self.actor.can(Permission.CLINIC_SETTINGS):
            return
        dialog = ClearinghouseDialog(self.services, self.actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.clearinghouse_dialog = dialog

    def export_270(self) -> None:
        if "front_desk" not in self.workspaces:
            return
        dialog = Export270Dialog(self.services, self.actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        self.export_dialog = dialog

    def refresh(self) -> None:
        current = self.tabs.currentWidget()
        refresh = getattr(current, "refresh", None)
        if callable(refresh):
            refresh()

    def open_settings(self) -> None:
        if not self.actor.can(Permission.CLINIC_SETTINGS):
            return
        dialog = SettingsDialog(self.services, self.actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.accepted.connect(self._settings_saved)
        dialog.finished.connect(lambda _result: setattr(self, "settings_dialog", None))
        dialog.open()
        self.settings_dialog = dialog

    def open_payer_settings(self) -> None:
        if not self.actor.can(Permission.CLINIC_SETTINGS):
            return
        dialog = PayerSettingsDialog(self.services, self.actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def open_claim(self, claim_number: str) -> None:
        """A claim named elsewhere (a report's drill-down), on the Billing workspace's Claims page."""
        billing = self.billing
        if billing is None or billing.claims is None:
            return
        self.tabs.setCurrentWidget(billing)
        billing.show_page(billing.claims)
        billing.claims.find_claim(claim_number)

    def open_billing_settings(self) -> None:
        if not self.actor.can(Permission.CLINIC_SETTINGS):
            return
        dialog = PatientBillingSettingsDialog(self.services, self.actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda: self.statusBar().showMessage("Patient billing settings saved.", 5000))
        dialog.open()

    def show_shortcuts(self) -> None:
        extra = BILLING_KEYS if "billing" in self.workspaces else ()
        dialog = ShortcutsDialog(self._help_actions(), self, extra_keys=extra)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def _settings_saved(self) -> None:
        self.statusBar().showMessage("Clinic settings saved.", 5000)
        self._load_clinic()

    # -- fixes asked for from Billing --------------------------------------------------------

    def open_billing_fix(self, target: str, patient_id: int, visit_id: int) -> None:
        """Go where a claim finding is fixed: ``target`` is its subject (``"patient"``, ``"clinic"``…).

        ``visit_id`` (0 = none) is the claim's visit; the front desk screens find the patient's
        record, policy or authorization themselves, so it is not passed on.
        """
        del visit_id  # the front desk's fixes take a policy or check id, never a visit
        if target in FRONT_DESK_FIXES:
            fix, what = FRONT_DESK_FIXES[target]
            front_desk = self.front_desk
            if front_desk is None:
                self._tell(
                    "Fixed at the front desk",
                    f"This is fixed in {what}, in the Front desk workspace, which "
                    f"{ROLE_LABELS[self.actor.role]} accounts do not open. Ask a "
                    f"{roles_allowed(Permission.PATIENT_EDIT)} user to correct it; then press "
                    "Scrub again (Ctrl+R) on the Claims page.",
                )
                return
            self.tabs.setCurrentWidget(front_desk)
            front_desk.open_fix(fix.value, patient_id, 0)
        elif target == "clinic":
            if self.actor.can(Permission.CLINIC_SETTINGS):
                self.open_settings()
            else:
                self._tell(
                    "Clinic settings",
                    "This is fixed in the clinic settings (File → Clinic settings…), which "
                    f"{ROLE_LABELS[self.actor.role]} accounts may not change. Ask a "
                    f"{roles_allowed(Permission.CLINIC_SETTINGS)} user to correct it; then press "
                    "Scrub again (Ctrl+R) on the Claims page.",
                )
        else:
            title, text = NO_SCREEN_YET.get(target, NO_SCREEN_YET["claim"])
            self._tell(title, text)

    def _tell(self, title: str, text: str) -> QMessageBox:
        """A window-modal note that does not block (the billing page stays as it was)."""
        box = QMessageBox(QMessageBox.Icon.Information, title, text, QMessageBox.StandardButton.Ok, self)
        box.setObjectName("fixMessage")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: setattr(self, "fix_message", None))
        box.open()
        self.fix_message = box
        return box

    # -- clinic details -------------------------------------------------------------------

    def _load_clinic(self) -> None:
        self._runner.run(self.services.clinic.details, self._show_clinic, self._clinic_failed)

    def _show_clinic(self, details: ClinicDetails | None) -> None:
        self.clinic = details
        self.setWindowTitle(window_title(details))
        self.clinicLoaded.emit()

    def _clinic_failed(self, exc: Exception) -> None:
        self.statusBar().showMessage(describe(exc))
        if isinstance(exc, ENVIRONMENT_ERRORS):
            show_error(self, exc, retry=self._load_clinic)
        elif not isinstance(exc, ServiceError):
            show_error(self, exc)

    # -- focus and closing ------------------------------------------------------------------

    def _focus_current(self, _index: int = 0) -> None:
        current = self.tabs.currentWidget()
        if current is not None:
            current.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self._focus_current()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Let a query already running finish before the window (and its services) go away.
        wait_for_idle(3000)
        super().closeEvent(event)
