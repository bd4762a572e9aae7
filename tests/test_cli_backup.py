"""``infusion-desk backup`` and ``restore``: the handlers, and the command as a user runs it.

``backup`` runs as a signed-in handler and ``restore`` as a command given the database URL,
as ``cli.COMMANDS`` calls them; the last test goes through ``infusion_desk.cli.main``.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk import cli_backup
from infusion_desk.cli import CliError
from infusion_desk.models import Patient
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.backups import BackupService, list_backups
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.errors import PermissionDenied
from tests.conftest import make_actor
from tests.memory_keyring import MemoryKeyring, installed


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="infusion-desk")
    parser.add_argument("--user")
    cli_backup.add_parsers(parser.add_subparsers(dest="command"))
    return parser.parse_args(list(argv))


def restore(url: str, *argv: str) -> int:
    args = parse(*argv)
    return cli_backup.COMMANDS[args.command](args, url)


@pytest.fixture
def clinic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Path]]:
    """A closed demo database and one backup of it; the manager signs in from the environment."""
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    services, _ = Services.open(url)
    try:
        generate_demo(services.db, patients=4, months=1, seed=3, today=date(2026, 11, 26))
        record = BackupService(services.db).backup_now(services.auth.sign_in("manager", "demo"))
    finally:
        services.close()
    monkeypatch.setenv("INFUSION_DESK_USER", "manager")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "demo")
    yield url, record.path


def surnames(url: str) -> list[str]:
    services, _ = Services.open(url)
    try:
        with services.db.session() as session:
            return sorted(session.scalars(sa.select(Patient.last_name)))
    finally:
        services.close()


def rename_everyone(url: str) -> None:
    services, _ = Services.open(url)
    try:
        with services.db.session() as session:
            session.execute(sa.update(Patient).values(last_name="Afterwards"))
    finally:
        services.close()


def test_backup_writes_the_file_and_names_it(
    sqlite_services: Services, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manager = make_actor(sqlite_services, Role.MANAGER)
    args = parse("backup", "--out", str(tmp_path / "usb"))

    assert cli_backup.HANDLERS["backup"](args, sqlite_services.db, manager) == 0

    (made,) = list_backups(tmp_path / "usb")
    assert made.kind == "manual"
    assert f"to {made.path} (" in capsys.readouterr().out


def test_backup_is_refused_to_a_biller(sqlite_services: Services, tmp_path: Path) -> None:
    biller = make_actor(sqlite_services, Role.BILLER)
    with pytest.raises(PermissionDenied):
        cli_backup.HANDLERS["backup"](parse("backup", "--out", str(tmp_path)), sqlite_services.db, biller)
    assert list_backups(tmp_path) == () and not list(tmp_path.glob("*.partial"))


def test_restore_yes_puts_the_backup_back_and_keeps_the_current_database(
    clinic: tuple[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    url, backup = clinic
    original = surnames(url)
    rename_everyone(url)

    assert restore(url, "restore", str(backup), "--yes") == 0

    assert surnames(url) == original
    out = capsys.readouterr().out
    assert f"Restored {backup.name}" in out
    kept = [b for b in list_backups(backup.parent) if b.kind == "before-restore"]
    assert len(kept) == 1 and f"kept at {kept[0].path}" in out


def test_restore_asks_first_and_a_no_changes_nothing(
    clinic: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, backup = clinic
    rename_everyone(url)
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    questions: list[str] = []
    monkeypatch.setattr("builtins.input", lambda question: questions.append(question) or "no")

    with pytest.raises(CliError, match="Nothing was restored"):
        restore(url, "restore", str(backup))

    assert "Replace the database" in questions[0] and backup.name in questions[0]
    assert set(surnames(url)) == {"Afterwards"}
    assert [b.kind for b in list_backups(backup.parent)] == ["manual"]


def test_restore_without_a_terminal_needs_yes(clinic: tuple[str, Path]) -> None:
    url, backup = clinic
    rename_everyone(url)
    with pytest.raises(CliError, match="pass --yes. Nothing was restored"):
        restore(url, "restore", str(backup))
    assert set(surnames(url)) == {"Afterwards"}


def test_restore_needs_a_manager_of_the_current_database(
    clinic: tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, backup = clinic
    rename_everyone(url)
    monkeypatch.setenv("INFUSION_DESK_USER", "biller")
    with pytest.raises(PermissionDenied):
        restore(url, "restore", str(backup), "--yes")
    monkeypatch.setenv("INFUSION_DESK_USER", "manager")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "not the password")
    with pytest.raises(CliError):
        restore(url, "restore", str(backup), "--yes")
    assert set(surnames(url)) == {"Afterwards"}


def test_a_damaged_current_database_is_restored_with_the_recovery_code_only(
    clinic: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, backup = clinic
    original = surnames(url)
    services, _ = Services.open(url)
    code = services.db.key.recovery_code()
    services.close()
    database = tmp_path / "clinic.sqlite3"
    database.write_bytes(b"\x00" * 4096)  # overwritten: no key opens it, nobody can sign in

    with pytest.raises(CliError, match="cannot be opened .* give the backup's recovery code"):
        restore(url, "restore", str(backup), "--yes")
    assert database.read_bytes() == b"\x00" * 4096

    monkeypatch.setenv("INFUSION_DESK_RECOVERY_CODE", code)
    assert restore(url, "restore", str(backup), "--yes") == 0
    monkeypatch.delenv("INFUSION_DESK_RECOVERY_CODE")
    assert surnames(url) == original
    kept = [b for b in list_backups(backup.parent) if b.kind == "before-restore"]
    assert kept[0].path.read_bytes() == b"\x00" * 4096  # the broken file is kept as it was


def test_on_a_new_computer_the_recovery_code_restores_and_the_key_is_kept(
    clinic: tuple[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url, backup = clinic
    original = surnames(url)
    services, _ = Services.open(url)
    code = services.db.key.recovery_code()
    services.close()
    elsewhere = f"sqlite:///{tmp_path / 'new-computer' / 'clinic.sqlite3'}"
    keys = installed(MemoryKeyring())  # this computer's keyring knows nothing of the clinic
    next(keys)
    try:
        with pytest.raises(CliError, match="there is no database at"):
            restore(elsewhere, "restore", str(backup), "--yes")
        monkeypatch.setenv("INFUSION_DESK_RECOVERY_CODE", code)
        assert restore(elsewhere, "restore", str(backup), "--yes") == 0
        monkeypatch.delenv("INFUSION_DESK_RECOVERY_CODE")
        assert surnames(elsewhere) == original  # opened with the key the restore kept in the keyring
    finally:
        keys.close()


def test_a_missing_file_is_named(clinic: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = clinic
    with pytest.raises(CliError, match=f"There is no file {tmp_path / 'nope.sqlite3'}"):
        restore(url, "restore", str(tmp_path / "nope.sqlite3"), "--yes")


def test_backup_and_restore_through_the_infusion_desk_command(
    clinic: tuple[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from infusion_desk.cli import main

    url, _first = clinic
    original = surnames(url)
    assert main(["--database-url", url, "backup", "--out", str(tmp_path / "usb")]) == 0
    (made,) = list_backups(tmp_path / "usb")
    rename_everyone(url)
    assert main(["--database-url", url, "restore", str(made.path), "--yes"]) == 0
    assert surnames(url) == original
    assert main(["--database-url", url, "--user", "biller", "backup", "--out", str(tmp_path / "usb")]) == 1
    assert "may not do this" in capsys.readouterr().err
