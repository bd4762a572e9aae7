"""The application window: it appears at once with the sign-in form, then holds the workspaces.

    window = AppWindow(lambda: Services.open(url)[0])
    window.show()          # on screen before the data layer has even been imported

Opening the database (importing SQLAlchemy, declaring the models, checking the schema)
takes most of a second; it runs on the worker thread while the window is already up and
the user types their name. After sign-in the role workspaces replace the form in the same
window. This module imports nothing heavy at load time, on purpose.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QMainWindow, QSplitter, QStackedWidget, QWidget

from infusion_desk.ui.errors import describe
from infusion_desk.ui.passphrase_dialog import PassphraseDialog
from infusion_desk.ui.sign_in import SignInDialog
from infusion_desk.ui.tasks import TaskRunner, wait_for_idle
from infusion_desk.ui.workstation import workstation_settings

if TYPE_CHECKING:
    from infusion_desk.services.app import Services
    from infusion_desk.ui.backup_scheduler import BackupScheduler
    from infusion_desk.ui.first_run_wizard import FirstRunWizard
    from infusion_desk.ui.idle_lock import IdleLock
    from infusion_desk.ui.main_window import MainWindow

APP_NAME = "Infusion Desk"


def splitter_key(splitter: QSplitter) -> str:
    """A splitter's name in the workstation settings: its ancestors' object names down to it.

    ``"appWindow/mainWindow/billingWorkspace/claimsView/QSplitter0"``; a splitter without an
    object name is known by its class and its place among its like siblings.
    """
    parts: list[str] = []
    node: QObject | None = splitter
    while node is not None:
        name = node.objectName()
        if not name:
            parent = node.parent()
            siblings = [] if parent is None else [c for c in parent.children() if type(c) is type(node)]
            name = f"{type(node).__name__}{siblings.index(node) if node in siblings else 0}"
        parts.append(name)
        node = node.parent()
    return "/".join(reversed(parts))


class AppWindow(QMainWindow):
    ready = Signal()  # the database is open; signing in is possible
    signedIn = Signal()  # the workspaces are on screen

    def __init__(
        self,
        open_services: Callable[..., Services],
        parent: QWidget | None = None,
        *,
        choose_database: str | None = None,
        **main_window_options: Any,
    ) -> None:
        """The window, opening the database behind it with ``open_services``.

        ``choose_database``: nothing was chosen on this computer yet (its first start), so the
        first-run wizard opens at once, offering that location, instead of opening a database.
        """
        super().__init__(parent)
        self.setObjectName("appWindow")
        self.setWindowTitle(APP_NAME)
        self.services: Services | None = None
        self.main: MainWindow | None = None
        self._options = main_window_options
        self._open = open_services
        self._takes_passphrase = "passphrase" in inspect.signature(open_services).parameters
        self.passphrase_dialog: PassphraseDialog | None = None
        self.idle_lock: IdleLock | None = None
        self.wizard: FirstRunWizard | None = None
        self.backup_scheduler: BackupScheduler | None = None
        self._runner = TaskRunner(self)
        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.sign_in = SignInDialog(None)
        self.sign_in.setWindowFlags(Qt.WindowType.Widget)
        self.sign_in.accepted.connect(self._signed_in)
        self.sign_in.rejected.connect(self.close)
        self.stack.addWidget(self.sign_in)
        self.resize(self.sign_in.sizeHint().expandedTo(self.sign_in.minimumSizeHint()))
        self._restore_geometry()
        if choose_database is not None:
            self._show_wizard(None, choose_database)
        else:
            self._runner.run(open_services, self._opened, self._open_failed)

    def _opened(self, services: Services) -> None:
        """The database is open: an empty one (no clinic, no users) is set up first."""
        from infusion_desk.services.setup import SetupService

        self.services = services
        self._runner.run(
            lambda: SetupService(services.db).needs_setup(),
            lambda needed: self._setup_checked(services, needed),
            self._show_failure,
        )

    def _setup_checked(self, services: Services, needed: bool) -> None:
        if needed:
            self._show_wizard(services, services.db.display_name)
            return
        self.sign_in.attach(services)
        self.ready.emit()

    def _show_wizard(self, services: Services | None, default_url: str) -> None:
        from infusion_desk.ui.first_run_wizard import FirstRunWizard

        wizard = FirstRunWizard(default_url=default_url, services=services)
        wizard.setWindowFlags(Qt.WindowType.Widget)
        wizard.accepted.connect(self._wizard_done)
        wizard.rejected.connect(self.close)
        self.stack.addWidget(wizard)
        self.stack.setCurrentWidget(wizard)
        self.wizard = wizard
        self.resize(self.size().expandedTo(wizard.sizeHint()))

    def _wizard_done(self) -> None:
        """Set up (or the demo loaded): sign in, or go straight in as the new administrator."""
        wizard = self.wizard
        assert wizard is not None and wizard.services is not None
        self.services = wizard.services
        self.stack.setCurrentWidget(self.sign_in)
        self.sign_in.attach(wizard.services)
        self.ready.emit()
        if wizard.actor is not None:
            self.sign_in.actor = wizard.actor
            self._signed_in()

    def _open_failed(self, exc: Exception) -> None:
        from infusion_desk.services.vault import KeyNeeded, WrongKey

        if self._takes_passphrase and isinstance(exc, KeyNeeded | WrongKey):
            self._ask_passphrase(exc)
            return
        self._show_failure(exc)

    def _ask_passphrase(self, exc: Exception) -> None:
        """The key is not on this computer: ask for the passphrase, then open again with it."""
        from infusion_desk.services.vault import WrongKey

        first_run = getattr(exc, "first_run", False)
        tried = self.passphrase_dialog is not None
        if first_run and not tried:
            message, error = str(exc), None
        elif first_run:
            message, error = "Choose a passphrase for the clinic database.", str(exc)
        else:
            message = "The clinic database is encrypted. Type its passphrase to open it."
            error = str(exc) if tried or isinstance(exc, WrongKey) else None
        dialog = PassphraseDialog(first_run=first_run, message=message, error=error, parent=self)
        self.passphrase_dialog = dialog

        def retry() -> None:
            passphrase = dialog.passphrase()
            self._runner.run(lambda: self._open(passphrase=passphrase), self._opened, self._open_failed)

        dialog.accepted.connect(retry)
        dialog.rejected.connect(lambda: self._show_failure(exc))
        dialog.open()

    def _show_failure(self, exc: Exception) -> None:
        self.sign_in.clinic.setText("Infusion Desk cannot open the clinic database")
        self.sign_in.error.setText(describe(exc) if not isinstance(exc, RuntimeError) else str(exc))
        self.sign_in.error.show()

    def _signed_in(self) -> None:
        from infusion_desk.ui.main_window import MainWindow

        assert self.services is not None and self.sign_in.actor is not None
        main = MainWindow(self.services, self.sign_in.actor, **self._options)
        main.setWindowFlags(Qt.WindowType.Widget)
        # Quitting from the workspaces closes the application window, not just its content.
        main.quit_action.triggered.disconnect()
        main.quit_action.triggered.connect(self.close)
        main.windowTitleChanged.connect(self.setWindowTitle)
        self.setWindowTitle(main.windowTitle())
        self.stack.addWidget(main)
        self.stack.setCurrentWidget(main)
        self.main = main
        self.resize(self.size().expandedTo(main.sizeHint()))
        self._restore_splitters()
        self._start_idle_lock(main)
        self._start_backups(main)
        self.signedIn.emit()

    def _start_backups(self, main: MainWindow) -> None:
        """Automatic backups while the window is open; the status bar tells of each."""
        from infusion_desk.ui.backup_scheduler import BackupScheduler

        assert self.services is not None and self.sign_in.actor is not None
        self.backup_scheduler = BackupScheduler(self.services, self.sign_in.actor, self)
        self.backup_scheduler.message.connect(main.statusBar().showMessage)
        self.backup_scheduler.start()

    def _start_idle_lock(self, main: MainWindow) -> None:
        """Lock the window after the clinic's idle minutes; Ctrl+L locks it at once."""
        from infusion_desk.ui.idle_lock import IdleLock

        assert self.services is not None and self.sign_in.actor is not None
        actor, auth = self.sign_in.actor, self.services.auth
        self.idle_lock = IdleLock(
            self, lambda password: auth.confirm_password(actor, password),
            who=f"{actor.display_name} ({actor.username})",
        )
        main.lock_action.triggered.connect(self.idle_lock.lock)
        main.lock_action.setEnabled(True)
        main.lock_action.setVisible(True)
        self._runner.run(
            lambda: auth.idle_lock_minutes(actor), self.idle_lock.set_timeout_minutes, lambda _exc: None
        )

    # -- what this workstation remembers: the window's place and size, the splitters ---------

    def _restore_geometry(self) -> None:
        """Where and how big the window was when it last closed here (maximised stays maximised)."""
        geometry = workstation_settings().value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)  # Qt brings it back onto a screen that is still there

    def _restore_splitters(self) -> None:
        settings = workstation_settings()
        for splitter in self.findChildren(QSplitter):
            state = settings.value(f"splitters/{splitter_key(splitter)}")
            if isinstance(state, QByteArray):
                splitter.restoreState(state)

    def _save_layout(self) -> None:
        if not self.isVisible():
            return
        settings = workstation_settings()
        settings.setValue("window/geometry", self.saveGeometry())
        for splitter in self.findChildren(QSplitter):
            settings.setValue(f"splitters/{splitter_key(splitter)}", splitter.saveState())

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_layout()
        if self.backup_scheduler is not None:
            self.backup_scheduler.timer.stop()
        if self.idle_lock is not None:
            self.idle_lock.stop()
        wait_for_idle(3000)
        super().closeEvent(event)
