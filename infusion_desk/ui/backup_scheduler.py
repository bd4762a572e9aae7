"""Automatic backups while the window is open: a check at start and every hour, the backup on the worker.

    scheduler = BackupScheduler(services, actor, window)
    scheduler.message.connect(window.statusBar().showMessage)   # (text, milliseconds; 0: stays)
    scheduler.start()

Each check asks :meth:`~infusion_desk.services.backups.BackupService.run_scheduled` on the
background worker, which makes an automatic backup only when the last one is older than the
clinic's interval (24 hours unless a manager changed it) and then applies retention. A backup
that was made is announced for a few seconds; one that failed stays in the status bar, saying
why, until something else is shown. A check never starts while the previous one is running.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.backups import BackupRecord, BackupService
from infusion_desk.services.errors import ServiceError
from infusion_desk.ui.errors import describe
from infusion_desk.ui.tasks import TaskRunner

CHECK_EVERY_MS = 60 * 60_000
DONE_SHOWN_MS = 8_000


class BackupScheduler(QObject):
    message = Signal(str, int)
    """Text for the status bar and how long to show it (0: until replaced)."""
    finished = Signal(object)
    """After each check: the :class:`BackupRecord` made, ``None`` when none was due, or the error."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QObject | None = None,
        *,
        service: BackupService | None = None,
        interval_ms: int = CHECK_EVERY_MS,
    ) -> None:
        super().__init__(parent)
        self._actor = actor
        self._service = service or BackupService(services.db)
        self._runner = TaskRunner(self)
        self._running = False
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)

    @property
    def running(self) -> bool:
        return self._running

    def start(self) -> None:
        """Check now, then every hour."""
        self.timer.start()
        self.check()

    def stop(self) -> None:
        self.timer.stop()

    def check(self) -> None:
        if self._running:
            return
        self._running = True
        service, actor = self._service, self._actor
        self._runner.run(lambda: service.run_scheduled(actor), self._done, self._failed)

    def _done(self, record: BackupRecord | None) -> None:
        self._running = False
        if record is not None:
            self.message.emit(f"Automatic backup saved: {record.path}", DONE_SHOWN_MS)
        self.finished.emit(record)

    def _failed(self, exc: BaseException) -> None:
        self._running = False
        reason = str(exc) if isinstance(exc, ServiceError) and str(exc) else describe(exc)
        self.message.emit(f"Automatic backup failed: {reason} It will be tried again within the hour.", 0)
        self.finished.emit(exc)
