"""The background worker: service calls run off the GUI thread and report back by signal.

    runner = TaskRunner(widget)
    runner.run(lambda: services.patients.search(actor, "smi"), widget.show_rows, widget.show_error)

``fn`` runs on a worker thread and must not touch widgets; ``on_done`` / ``on_error`` run
on the GUI thread. If the widget that owns the runner is gone by then, the result is dropped.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, QThreadPool, Signal

_pool: QThreadPool | None = None
_dispatcher: _Dispatcher | None = None


def worker_pool() -> QThreadPool:
    """The one pool every service call runs on.

    A single thread, as in Anki: database work is serialised, so SQLite never sees two
    writers from this process and results arrive in the order they were asked for.
    """
    global _pool
    if _pool is None:
        _pool = QThreadPool(QCoreApplication.instance())
        _pool.setMaxThreadCount(1)
    return _pool


def wait_for_idle(msecs: int = 5000) -> bool:
    """Block until queued service calls have finished (on quit, and between tests)."""
    return worker_pool().waitForDone(msecs)


Callback = Callable[[Any], None]


class _Dispatcher(QObject):
    """Lives as long as the process, so a worker never signals an object that was deleted.

    Jobs emit ``finished`` from the worker thread; Qt queues the call to :meth:`_deliver`
    on the GUI thread, which hands the value to the runner that asked, if it still exists.
    """

    finished = Signal(int, bool, object)

    def __init__(self) -> None:
        super().__init__()
        # ``fn`` is kept here too, so the last reference to it (often a bound method of a
        # widget) is dropped on the GUI thread: a widget must never be destroyed on the worker.
        self._waiting: dict[int, tuple[TaskRunner, Callable[[], Any], Callback, Callback]] = {}
        self._ids = itertools.count(1)
        self.finished.connect(self._deliver)

    def submit(
        self, runner: TaskRunner, fn: Callable[[], Any], on_done: Callback, on_error: Callback
    ) -> None:
        job_id = next(self._ids)
        self._waiting[job_id] = (runner, fn, on_done, on_error)
        worker_pool().start(_Job(job_id, fn, self))

    def _deliver(self, job_id: int, ok: bool, value: Any) -> None:
        runner, _fn, on_done, on_error = self._waiting.pop(job_id)
        if not shiboken6.isValid(runner):
            return  # the window that asked has been closed; nobody is waiting for the answer
        runner._finished()
        (on_done if ok else on_error)(value)


def _dispatch() -> _Dispatcher:
    global _dispatcher
    if _dispatcher is None:
        _dispatcher = _Dispatcher()
    return _dispatcher


class _Job(QRunnable):
    def __init__(self, job_id: int, fn: Callable[[], Any], dispatcher: _Dispatcher) -> None:
        super().__init__()
        self._job_id = job_id
        self._fn: Callable[[], Any] | None = fn
        self._dispatcher = dispatcher

    def run(self) -> None:
        fn, self._fn = self._fn, None
        assert fn is not None, "a job runs once"
        ok, value = True, None
        try:
            value = fn()
        except Exception as exc:  # every failure is handed to the GUI to show
            ok, value = False, exc
        # Drop the worker's reference before the GUI thread can drop the dispatcher's.
        del fn
        self._dispatcher.finished.emit(self._job_id, ok, value)


class TaskRunner(QObject):
    """Runs callables on :func:`worker_pool` on behalf of one widget (its parent)."""

    busyChanged = Signal(bool)

    def __init__(self, parent: QObject) -> None:
        super().__init__(parent)
        self._pending = 0

    @property
    def busy(self) -> bool:
        return self._pending > 0

    def run(self, fn: Callable[[], Any], on_done: Callback, on_error: Callback) -> None:
        self._pending += 1
        if self._pending == 1:
            self.busyChanged.emit(True)
        _dispatch().submit(self, fn, on_done, on_error)

    def _finished(self) -> None:
        self._pending -= 1
        if self._pending == 0:
            self.busyChanged.emit(False)
