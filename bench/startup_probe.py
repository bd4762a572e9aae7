"""One measured start: prints the wall-clock time at which the window was shown, then exits.

    python -m bench.startup_probe bare
    python -m bench.startup_probe app sqlite:///path/to/clinic.sqlite3

``bare`` is the baseline: a QApplication and an empty QMainWindow. ``app`` is Infusion
Desk as a user starts it: the application window appears with its sign-in form while the
database opens behind it. After it is shown the probe waits for the database, signs in
``frontdesk`` through the form, runs a few finder searches and reports peak memory.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    mode = sys.argv[1]
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    result: dict[str, object] = {}

    def finish() -> None:
        result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        app.quit()

    if mode == "bare":
        window = QMainWindow()

        def shown() -> None:
            result["shown_ns"] = time.time_ns()
            finish()
    else:
        from infusion_desk.ui.app_window import AppWindow

        url = sys.argv[2]

        def open_services():  # type: ignore[no-untyped-def]
            from pathlib import Path

            from bench.dataset import open_plain

            return open_plain(Path(url.removeprefix("sqlite:///")))

        window = AppWindow(open_services)

        def signed_in() -> None:
            services, actor = window.services, window.sign_in.actor
            for query in ("smi", "john", "DM00123", "03/14/1956", "garcia, m"):
                services.patients.search(actor, query)
            result["signed_in_ns"] = time.time_ns()
            finish()

        def ready() -> None:
            window.sign_in.username.setText("frontdesk")
            window.sign_in.password.setText("demo")
            window.sign_in.sign_in()

        window.ready.connect(ready)
        window.signedIn.connect(lambda: QTimer.singleShot(0, signed_in))

        def shown() -> None:
            result["shown_ns"] = time.time_ns()

    window.show()
    QTimer.singleShot(0, shown)
    app.exec()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
