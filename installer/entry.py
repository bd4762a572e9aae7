"""The bundle's entry point: what ``dist/infusion-desk/infusion-desk`` runs.

It is ``infusion_desk.cli.main`` with two additions that the bundle needs on its own:

* ``--self-test`` (alone) runs :func:`infusion_desk.selftest.run_self_test`, so a freshly built or
  installed bundle can prove itself headless (``installer/build.sh`` runs it after every build).
* ``INFUSION_DESK_STARTUP_PROBE=shown`` starts the application window as a user would and prints,
  on one line of JSON, the wall-clock time (``time.time_ns()``) at which the window was shown and
  the peak memory, then quits; ``=signed-in`` also waits for the database, signs in as the demo
  clinic's ``frontdesk`` through the form and adds ``signed_in_ns``. ``installer/probe.sh``
  uses it to time the bundle against the source checkout, the same way ``bench/startup_probe.py``
  times the app from source.

Running this file with the project's Python (``python installer/entry.py …``) behaves exactly
as the bundle does, which is how the start-up of the two is compared.
"""

from __future__ import annotations

import json
import os
import sys

PROBE_ENV = "INFUSION_DESK_STARTUP_PROBE"


def _probe(mode: str) -> None:
    """Watch for the application window, report when it is shown (and signed in), then quit."""
    import resource

    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication

    from infusion_desk.ui.app_window import APP_NAME

    app = QApplication(sys.argv[:1])  # the GUI's run_gui takes this one instead of making its own
    app.setApplicationName(APP_NAME)
    result: dict[str, int] = {}

    def finish() -> None:
        result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps(result), flush=True)
        app.quit()

    class Watcher(QObject):
        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
            if event.type() == QEvent.Type.Show and watched.objectName() == "appWindow" and not result:
                app.removeEventFilter(self)
                QTimer.singleShot(0, lambda: shown(watched))
            return False

    def shown(window: QObject) -> None:
        result["shown_ns"] = time_ns()
        if mode != "signed-in":
            finish()
            return

        def ready() -> None:
            form = window.sign_in  # type: ignore[attr-defined]
            form.username.setText("frontdesk")
            form.password.setText("demo")
            form.sign_in()

        def signed_in() -> None:
            result["signed_in_ns"] = time_ns()
            finish()

        if window.services is not None:  # type: ignore[attr-defined]
            QTimer.singleShot(0, ready)
        else:
            window.ready.connect(ready)  # type: ignore[attr-defined]
        window.signedIn.connect(lambda: QTimer.singleShot(0, signed_in))  # type: ignore[attr-defined]

    watcher = Watcher(app)
    app.installEventFilter(watcher)


def time_ns() -> int:
    import time

    return time.time_ns()


def _keep_matplotlib_cache() -> None:
    """Undo PyInstaller's throw-away matplotlib folder, so the font cache is built once, not per start.

    PyInstaller's run-time hook points ``MPLCONFIGDIR`` at a temporary folder removed at exit;
    matplotlib then rebuilds its font list the first time each session draws a report chart
    (half a second here, seconds on a desktop with many fonts). The hooks run before this
    script and matplotlib is imported only later, so setting it here is enough.
    """
    if getattr(sys, "frozen", False):
        from platformdirs import user_cache_dir

        cache = user_cache_dir("InfusionDesk", "InfusionDesk")
        os.environ["MPLCONFIGDIR"] = os.path.join(cache, "matplotlib")


def main() -> int:
    _keep_matplotlib_cache()
    args = sys.argv[1:]
    if args == ["--self-test"]:
        from infusion_desk.selftest import run_self_test

        return run_self_test(lambda line: print(line, flush=True))
    mode = os.environ.get(PROBE_ENV)
    if mode:  # a command other than the GUI ignores the probe's (unshown) application object
        _probe(mode)
    from infusion_desk.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
