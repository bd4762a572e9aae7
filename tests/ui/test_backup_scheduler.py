"""The automatic backup scheduler: a due backup runs on the worker and failures reach the status bar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMainWindow
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.backups import BackupRecord, BackupService, BackupSettings, list_backups
from infusion_desk.ui.backup_scheduler import CHECK_EVERY_MS, BackupScheduler
from tests.conftest import make_actor

START = datetime(2026, 11, 26, 7, 30, tzinfo=UTC)


@pytest.fixture
def nurse(ui_services: Services) -> Actor:
    return make_actor(ui_services, Role.NURSE)


@pytest.fixture
def clock() -> list[datetime]:
    return [START]


@pytest.fixture
def window(qtbot: QtBot) -> QMainWindow:
    main = QMainWindow()
    qtbot.addWidget(main)
    return main


def scheduler_for(
    ui_services: Services, actor: Actor, window: QMainWindow, clock: list[datetime], folder: Path,
    interval_ms: int = CHECK_EVERY_MS,
) -> BackupScheduler:
    manager = make_actor(ui_services, Role.MANAGER)
    service = BackupService(ui_services.db, clock=lambda: clock[0])
    service.set_settings(manager, BackupSettings(folder=str(folder)))
    scheduler = BackupScheduler(ui_services, actor, window, service=service, interval_ms=interval_ms)
    scheduler.message.connect(window.statusBar().showMessage)
    return scheduler


def test_a_due_backup_is_made_at_start_whoever_is_signed_in(
    qtbot: QtBot, ui_services: Services, nurse: Actor, window: QMainWindow, clock: list[datetime],
    tmp_path: Path,
) -> None:
    scheduler = scheduler_for(ui_services, nurse, window, clock, tmp_path / "backups")
    assert scheduler.timer.interval() == 60 * 60_000

    with qtbot.waitSignal(scheduler.finished, timeout=10_000) as done:
        scheduler.start()

    record = done.args[0]
    assert isinstance(record, BackupRecord) and record.kind == "auto"
    assert [b.path for b in list_backups(tmp_path / "backups")] == [record.path]
    assert window.statusBar().currentMessage() == f"Automatic backup saved: {record.path}"
    scheduler.stop()


def test_nothing_is_made_until_the_interval_has_passed(
    qtbot: QtBot, ui_services: Services, nurse: Actor, window: QMainWindow, clock: list[datetime],
    tmp_path: Path,
) -> None:
    scheduler = scheduler_for(ui_services, nurse, window, clock, tmp_path / "backups", interval_ms=20)
    with qtbot.waitSignal(scheduler.finished, timeout=10_000):
        scheduler.start()
    clock[0] = START + timedelta(hours=23)
    with qtbot.waitSignal(scheduler.finished, timeout=10_000) as quiet:  # the timer's next check
        pass
    assert quiet.args == [None]
    clock[0] = START + timedelta(hours=24)
    with qtbot.waitSignal(scheduler.finished, timeout=10_000, check_params_cb=lambda r: r is not None) as due:
        pass
    scheduler.stop()
    assert due.args[0].taken_at == START + timedelta(hours=24)
    assert len(list_backups(tmp_path / "backups")) == 2


def test_a_failed_backup_stays_in_the_status_bar_saying_why(
    qtbot: QtBot, ui_services: Services, nurse: Actor, window: QMainWindow, clock: list[datetime],
    tmp_path: Path,
) -> None:
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the backup folder should be")
    scheduler = scheduler_for(ui_services, nurse, window, clock, blocked)

    with qtbot.waitSignal(scheduler.message, timeout=10_000) as shown:
        scheduler.start()
    scheduler.stop()

    text, timeout = shown.args
    assert text.startswith(f"Automatic backup failed: The backup could not be written to {blocked}")
    assert timeout == 0 and window.statusBar().currentMessage() == text
    assert blocked.read_text() == "a file where the backup folder should be"
    qtbot.waitUntil(lambda: not scheduler.running)
