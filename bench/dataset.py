"""The benchmark clinic: a demo database with 100,000 patients, generated once and cached."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from infusion_desk.models.db import Database
from infusion_desk.models.migrate import upgrade
from infusion_desk.services.demo import generate_demo

if TYPE_CHECKING:
    from infusion_desk.services.app import Services

CACHE = Path(__file__).resolve().parent / ".cache"
TODAY = date(2026, 11, 26)
PATIENTS = int(os.environ.get("BENCH_PATIENTS", "100000"))
MONTHS = int(os.environ.get("BENCH_MONTHS", "5"))
SEED = 2026
DATA_VERSION = 3
"""Bump when the demo generator changes what it writes; schema-only changes are migrated in place."""


def open_plain(path: Path) -> Services:
    """The services over a cached benchmark file, which stays plain (not encrypted).

    The benchmark files are plain so that each figure compares with ``sqlite3`` reading the same
    file; what encryption costs is measured on its own (``bench/encryption.py``).
    """
    from infusion_desk.services.app import Services

    db = Database.open(f"sqlite:///{path}")
    upgrade(db)
    return Services.for_database(db)


def clinic_database() -> Path:
    """Path of the cached benchmark database, created on first use."""
    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"clinic-{PATIENTS}p-{MONTHS}m-{SEED}-v{DATA_VERSION}.sqlite3"
    if path.exists():
        db = Database.open(f"sqlite:///{path}")
        try:
            upgrade(db)  # new indexes and columns of later schema revisions
        finally:
            db.dispose()
        return path
    partial = path.with_suffix(".partial")
    for leftover in CACHE.glob(partial.name + "*"):
        leftover.unlink()
    print(f"bench: generating a {PATIENTS}-patient demo clinic (cached in {CACHE})...", file=sys.stderr)
    db = Database.open(f"sqlite:///{partial}")
    try:
        upgrade(db)
        summary = generate_demo(db, patients=PATIENTS, months=MONTHS, seed=SEED, today=TODAY)
        with db.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        db.dispose()
    shutil.move(partial, path)
    print(f"bench: {summary}", file=sys.stderr)
    return path
