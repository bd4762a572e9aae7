"""Start-up of the bundle against the source checkout, measured the same way for both.

    .venv/bin/python installer/probe.py [--bundle dist/infusion-desk/infusion-desk] [--runs 7]

"Source" is ``installer/entry.py`` run by this Python (the code path of ``infusion-desk`` from a
checkout); "bundle" is the PyInstaller executable. Both open the same small encrypted demo
clinic (made once, passphrase from ``INFUSION_DESK_PASSPHRASE``, keyring off). For each, in
alternation after one warm-up start of each:

* ``--version``: wall time of the whole process (start, import of the CLI, exit);
* window shown: from just before the process is started to the moment the application window
  is shown and the event loop runs (``INFUSION_DESK_STARTUP_PROBE``, see ``installer/entry.py``;
  the same moment ``bench/startup_probe.py`` takes);
* signed in: to the workspaces on screen after the database opened and ``frontdesk`` signed in
  through the form;
* peak memory (max RSS) of that process.

Medians are printed as a Markdown table for ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PASSPHRASE = "start-up probe passphrase"


def _env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "QT_QPA_PLATFORM": "offscreen",
        "INFUSION_DESK_PASSPHRASE": PASSPHRASE,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        **extra,
    }


def _version(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run([*command, "--version"], check=True, capture_output=True, env=_env())
    return time.perf_counter() - start


def _window(command: list[str], url: str) -> dict[str, float]:
    started = time.time_ns()
    out = subprocess.run(
        [*command, "--database-url", url], check=True, capture_output=True, text=True, timeout=180,
        env=_env(INFUSION_DESK_STARTUP_PROBE="signed-in"),
    ).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return {
        "shown_s": (data["shown_ns"] - started) / 1e9,
        "signed_in_s": (data["signed_in_ns"] - started) / 1e9,
        "peak_mib": data["peak_rss_kib"] / 1024,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--bundle", type=Path, default=ROOT / "dist" / "infusion-desk" / "infusion-desk")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    if not args.bundle.exists():
        raise SystemExit(f"{args.bundle} does not exist: build it first (make dist)")
    commands = {
        "source": [sys.executable, str(ROOT / "installer" / "entry.py")],
        "bundle": [str(args.bundle.resolve())],
    }
    with tempfile.TemporaryDirectory(prefix="infusion-desk-probe-") as folder:
        url = f"sqlite:///{Path(folder) / 'clinic.sqlite3'}"
        subprocess.run(
            [*commands["source"], "--database-url", url, "demo", "--patients", "20", "--months", "1"],
            check=True, capture_output=True, env=_env(),
        )
        figures: dict[str, dict[str, list[float]]] = {k: {} for k in commands}
        for command in commands.values():  # warm the file cache once each
            _version(command)
            _window(command, url)
        for _ in range(args.runs):
            for name, command in commands.items():
                runs = figures[name]
                runs.setdefault("version_s", []).append(_version(command))
                for key, value in _window(command, url).items():
                    runs.setdefault(key, []).append(value)
    median = {n: {k: statistics.median(v) for k, v in f.items()} for n, f in figures.items()}
    s, b = median["source"], median["bundle"]
    print(f"## Start-up: bundle against source ({platform.system()} {platform.machine()}, "
          f"Python {platform.python_version()}, median of {args.runs} starts each, offscreen)\n")
    print("| Figure | Source checkout | Bundle | Bundle / source |")
    print("|---|---|---|---|")
    for key, label in (
        ("version_s", "`--version`, whole process"),
        ("shown_s", "Window shown"),
        ("signed_in_s", "Database open and signed in (workspaces shown)"),
    ):
        print(f"| {label} | {s[key]:.3f} s | {b[key]:.3f} s | {b[key] / s[key]:.2f} |")
    print(f"| Peak memory, signed in | {s['peak_mib']:.0f} MB | {b['peak_mib']:.0f} MB | "
          f"{b['peak_mib'] / s['peak_mib']:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
