"""Emitting signals and running background jobs must not eat references to ``True``, and a
job's callable (often a widget's bound method) must be released on the GUI thread.

PySide6 6.12.0's ``SignalInstance.emit()`` returns a borrowed ``True``; on Python 3.11 a
few hundred emits (a morning of typing in the finder) abort the interpreter with
"bool_dealloc". pyproject.toml excludes that release; these tests fail if a Qt binding
with the bug is ever installed again.
"""

from __future__ import annotations

import gc
import sys

import pytest
from PySide6.QtCore import QCoreApplication, QEvent, QObject, Signal

from infusion_desk.ui.tasks import TaskRunner, wait_for_idle

pytestmark = pytest.mark.gui


def _settle() -> int:
    """Free what earlier tests left for the event loop and the collector, then count.

    Widgets deleted later and cyclic garbage from earlier tests also hold ``True``; freed
    in the middle of a measurement they would look like thousands of lost references.
    """
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        QCoreApplication.processEvents()
        gc.collect()
    return sys.getrefcount(True)


class _Source(QObject):
    ping = Signal(int)


def test_emit_keeps_true_alive(qtbot) -> None:  # type: ignore[no-untyped-def]
    source = _Source()
    received: list[int] = []
    source.ping.connect(received.append)
    before = _settle()
    for n in range(2000):
        source.ping.emit(n)
    assert len(received) == 2000
    # A leaking binding loses one reference per emit (2000); other code moves the count a little.
    assert _settle() >= before - 200


def test_background_jobs_keep_true_alive(qtbot) -> None:  # type: ignore[no-untyped-def]
    owner = QObject()
    runner = TaskRunner(owner)
    results: list[object] = []
    before = _settle()
    for n in range(1000):
        runner.run(lambda n=n: n, results.append, results.append)
    assert wait_for_idle(10_000)
    qtbot.waitUntil(lambda: len(results) == 1000, timeout=10_000)
    assert not runner.busy
    assert _settle() >= before - 200


def test_a_jobs_callable_is_released_on_the_gui_thread(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A page hands the worker its own bound method; the page must never die on the worker."""
    import threading

    freed_on_gui_thread: list[bool] = []

    class Holder:
        def __del__(self) -> None:
            freed_on_gui_thread.append(threading.current_thread() is threading.main_thread())

        def work(self) -> int:
            return 1

    owner = QObject()
    runner = TaskRunner(owner)
    results: list[object] = []
    for _ in range(20):
        runner.run(Holder().work, results.append, results.append)  # the job holds the only reference
    assert wait_for_idle(10_000)
    qtbot.waitUntil(lambda: len(results) == 20, timeout=10_000)
    assert freed_on_gui_thread == [True] * 20  # freed as each answer was delivered
