"""Starting the desktop application: sign in, then the main window.

    services, _ = Services.open(url)
    raise SystemExit(run_gui(services))

Benchmarks and tests skip the dialog with :func:`create_main_window`.
"""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.ui.main_window import APP_NAME, MainWindow
from infusion_desk.ui.sign_in import SignInDialog
from infusion_desk.ui.tasks import wait_for_idle


def _application(argv: list[str] | None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    return app


def create_main_window(services: Services, actor: Actor) -> MainWindow:
    """The main window for a signed-in user, not yet shown."""
    return MainWindow(services, actor)


def run_gui(services: Services, argv: list[str] | None = None) -> int:
    """Show the sign-in dialog, then the main window; return the exit code."""
    app = _application(argv)
    app.setApplicationName(APP_NAME)
    dialog = SignInDialog(services)
    if dialog.exec() != QDialog.DialogCode.Accepted or dialog.actor is None:
        wait_for_idle()
        return 0
    window = create_main_window(services, dialog.actor)
    window.show()
    try:
        return app.exec()
    finally:
        wait_for_idle()


def show_startup_error(message: str, argv: list[str] | None = None) -> int:
    """Tell the user why the application cannot start (e.g. a database newer than the app)."""
    _application(argv)
    box = QMessageBox(QMessageBox.Icon.Critical, APP_NAME, "Infusion Desk cannot start.")
    box.setInformativeText(message)
    box.exec()
    return 1
