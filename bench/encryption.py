"""What encryption at rest costs: opening the database and the patient search, encrypted against plain.

The benchmark clinic (100,000 patients) is copied once into a SQLCipher file with a fixed
benchmark key (cached beside it). In the same run, on the same machine, each of the two files is

* **opened** as the app opens it: engine, first connection (keyed, for the encrypted file), the
  schema revision read, and the clinic's name read for the sign-in form, ``OPENS`` times each,
  alternating, the median kept;
* **searched** with the finder's keystroke queries (every prefix of 150 surnames) through
  ``PatientService.search``, each query timed on both files.

The goal is under 1.3 times the plain file for both figures.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

from bench.dataset import CACHE

OPENS = 15
BENCH_KEY_CODE = "-".join(["B3AC4E11"] * 12)
"""The benchmark file's key and salt, fixed so the cached copy opens in every run (fictional data only)."""


def encrypted_copy(clinic: Path) -> Path:
    from infusion_desk.models import encryption
    from infusion_desk.models.encryption import DatabaseKey

    path = CACHE / f"{clinic.stem}-encrypted.sqlite3"
    if path.exists() and path.stat().st_mtime >= clinic.stat().st_mtime:
        return path
    partial = path.with_suffix(".partial")
    encryption.remove_sqlite_file(partial)
    print(f"bench: encrypting a copy of {clinic.name} (once)...", file=sys.stderr)
    encryption.encrypt_copy(clinic, partial, DatabaseKey.from_recovery_code(BENCH_KEY_CODE))
    partial.replace(path)
    return path


def _open_once(path: Path, key: object) -> float:
    import sqlalchemy as sa

    from infusion_desk.models.db import Database
    from infusion_desk.models.migrate import current_revision

    started = time.perf_counter()
    db = Database.open(f"sqlite:///{path}", key=key)  # type: ignore[arg-type]
    try:
        current_revision(db.engine)
        with db.session() as session:
            session.execute(sa.text("SELECT name FROM clinic")).all()  # what the sign-in form shows
        return time.perf_counter() - started
    finally:
        db.dispose()


def bench_encryption(clinic: Path) -> dict[str, float]:
    from bench.dataset import open_plain
    from bench.run import _keystroke_queries
    from infusion_desk.models.db import Database
    from infusion_desk.models.encryption import DatabaseKey
    from infusion_desk.services.app import Services
    from infusion_desk.services.auth import AuthService

    key = DatabaseKey.from_recovery_code(BENCH_KEY_CODE)
    encrypted = encrypted_copy(clinic)
    _open_once(clinic, None)
    _open_once(encrypted, key)
    plain_open, encrypted_open = [], []
    for _ in range(OPENS):
        plain_open.append(_open_once(clinic, None))
        encrypted_open.append(_open_once(encrypted, key))

    queries = _keystroke_queries(clinic)
    plain = open_plain(clinic)
    secret = Services.for_database(Database.open(f"sqlite:///{encrypted}", key=key))
    plain_ms: list[float] = []
    encrypted_ms: list[float] = []
    try:
        plain_actor = AuthService(plain.db).sign_in("frontdesk", "demo")
        secret_actor = AuthService(secret.db).sign_in("frontdesk", "demo")
        for query in queries[:20]:
            plain.patients.search(plain_actor, query)
            secret.patients.search(secret_actor, query)
        for query in queries:
            started = time.perf_counter()
            plain.patients.search(plain_actor, query)
            plain_ms.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            secret.patients.search(secret_actor, query)
            encrypted_ms.append((time.perf_counter() - started) * 1000)
    finally:
        plain.close()
        secret.close()
    same_build_plain, same_build_encrypted = _same_build_search(clinic, encrypted, key, queries)
    open_plain_s, open_encrypted_s = statistics.median(plain_open), statistics.median(encrypted_open)
    search_plain, search_encrypted = statistics.median(plain_ms), statistics.median(encrypted_ms)
    return {
        "open_plain_ms": open_plain_s * 1000,
        "open_encrypted_ms": open_encrypted_s * 1000,
        "open_ratio": open_encrypted_s / open_plain_s,
        "queries": float(len(queries)),
        "search_plain_ms": search_plain,
        "search_encrypted_ms": search_encrypted,
        "search_ratio": search_encrypted / search_plain,
        "search_total_ratio": sum(encrypted_ms) / sum(plain_ms),
        "raw_plain_ms": same_build_plain,
        "raw_encrypted_ms": same_build_encrypted,
        "raw_ratio": same_build_encrypted / same_build_plain,
    }


def _same_build_search(clinic: Path, encrypted: Path, key: object, queries: list[str]) -> tuple[float, float]:
    """The finder's SQL through one SQLite build (SQLCipher's), on the plain file and the encrypted one.

    The app's plain figures above use Python's own sqlite3 module (a different SQLite build);
    this isolates what decrypting pages costs.
    """
    from bench.run import RAW_SQL
    from infusion_desk.models import encryption

    plain = encryption.dbapi().connect(str(clinic))
    secret = encryption.connect(encrypted, key)  # type: ignore[arg-type]
    timings: dict[int, list[float]] = {0: [], 1: []}
    try:
        for connection in (plain, secret):
            connection.execute("PRAGMA cache_size=-65536")
        for query in queries:
            low = query.lower()
            high = low[:-1] + chr(ord(low[-1]) + 1)
            for index, connection in enumerate((plain, secret)):
                connection.execute(RAW_SQL, (low, high, low, high)).fetchall()
                started = time.perf_counter()
                connection.execute(RAW_SQL, (low, high, low, high)).fetchall()
                timings[index].append((time.perf_counter() - started) * 1000)
    finally:
        plain.close()
        secret.close()
    return statistics.median(timings[0]), statistics.median(timings[1])


def report(figures: dict[str, float]) -> str:
    return f"""## Encryption at rest (SQLCipher)

The 100,000-patient clinic, plain and as a SQLCipher copy, measured in the same run (goal: under
1.3 times the plain file).

| Figure | Plain | Encrypted | Ratio |
|---|---|---|---|
| Open the database (engine, first keyed connection, schema check, a first read), median of {OPENS} | {figures['open_plain_ms']:.1f} ms | {figures['open_encrypted_ms']:.1f} ms | **{figures['open_ratio']:.2f}** |
| Patient search, median of {int(figures['queries'])} keystroke queries | {figures['search_plain_ms']:.2f} ms | {figures['search_encrypted_ms']:.2f} ms | **{figures['search_ratio']:.2f}** |
| Patient search, all {int(figures['queries'])} queries together | | | {figures['search_total_ratio']:.2f} |
| The finder's SQL alone, both files through the SQLCipher build of SQLite (median) | {figures['raw_plain_ms']:.3f} ms | {figures['raw_encrypted_ms']:.3f} ms | {figures['raw_ratio']:.2f} |

"Plain" is the app as it was before encryption: Python's own sqlite3 module on a plain file.
The SQLCipher wheel brings a newer SQLite than Python's, which is why the encrypted app can be
as fast; the last row compares the two files through the same SQLite build, which is what
decrypting and checking pages costs by itself. Each connection keeps up to 64 MiB of pages.
"""


def main() -> int:
    from bench.dataset import clinic_database

    figures = bench_encryption(clinic_database())
    print(report(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
