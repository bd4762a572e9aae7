"""One measured start: prints the wall-clock time at which a window was shown, then exits.

    python -m bench.startup_probe bare
    python -m bench.startup_probe app sqlite:///path/to/clinic.sqlite3

``bare`` is the baseline: a QApplication and an empty QMainWindow. ``app`` is Infusion
Desk as a user starts it: open and check the database, sign in, build the main window.
After the window is shown the probe runs a few finder searches and reports peak memory.
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
    if mode == "bare":
        window = QMainWindow()
    else:
        from infusion_desk.services.app import Services
        from infusion_desk.ui.app import create_main_window

        services, _ = Services.open(sys.argv[2])
        actor = services.auth.sign_in("frontdesk", "demo")
        window = create_main_window(services, actor)

    def shown() -> None:
        result["shown_ns"] = time.time_ns()
        if mode != "bare":
            for query in ("smi", "john", "DM00123", "03/14/1956", "garcia, m"):
                services.patients.search(actor, query)
        result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        app.quit()

    window.show()
    QTimer.singleShot(0, shown)
    app.exec()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
