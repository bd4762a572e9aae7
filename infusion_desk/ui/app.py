"""Starting the desktop application: the window first, the database behind it, then sign-in.

    raise SystemExit(run_gui(lambda: Services.open(url)[0]))

Tests that need a signed-in window without the form use :func:`create_main_window`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from infusion_desk.ui.app_window import APP_NAME, AppWindow
from infusion_desk.ui.tasks import wait_for_idle

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services
    from infusion_desk.ui.main_window import MainWindow


def _application(argv: list[str] | None) -> QApplication:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing
    app = QApplication(list(argv) if argv is not None else sys.argv[:1])
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName(APP_NAME)
    app.setWindowIcon(app_icon())
    app.setDesktopFileName("infusion-desk")  # Wayland matches the window to the .desktop entry
    return app


def app_icon() -> QIcon:
    """The application's icon, drawn from SVG at whatever size and pixel ratio a screen asks."""
    from importlib.resources import as_file, files

    with as_file(files("infusion_desk.resources") / "icons" / "infusion-desk.svg") as path:
        return QIcon(str(path))


def create_main_window(services: Services, actor: Actor) -> MainWindow:
    """The main window for a signed-in user, not yet shown."""
    from infusion_desk.ui.main_window import MainWindow

    return MainWindow(services, actor)


def run_gui(
    services: Services | Callable[..., Services],
    argv: list[str] | None = None,
    *,
    choose_database: str | None = None,
) -> int:
    """Show the application window at once; open the database behind it; return the exit code.

    ``services`` is either open already or a callable that opens them (run on the worker
    thread, so the window is on screen first). ``choose_database``: no database was chosen on
    this computer yet, so the first-run wizard opens, offering that location.
    """
    app = _application(argv)
    app.setApplicationName(APP_NAME)
    opener = services if callable(services) else (lambda: services)
    window = AppWindow(opener, choose_database=choose_database)
    window.show()
    try:
        return app.exec()
    finally:
        wait_for_idle()
