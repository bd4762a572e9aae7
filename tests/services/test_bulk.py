"""The collector pause around bulk claim work always ends, and never switches on a collector that was off."""

from __future__ import annotations

import gc
import threading

import pytest

from infusion_desk.services.bulk import collector_paused


def test_the_collector_runs_again_after_the_work_even_when_it_fails() -> None:
    with pytest.raises(RuntimeError), collector_paused():
        assert not gc.isenabled()
        raise RuntimeError("export failed halfway")
    assert gc.isenabled()


def test_nested_and_concurrent_pauses_end_with_the_last_one() -> None:
    inner_done = threading.Event()
    release = threading.Event()

    def other_thread() -> None:
        with collector_paused():
            inner_done.set()
            release.wait(5)

    with collector_paused():
        worker = threading.Thread(target=other_thread)
        worker.start()
        assert inner_done.wait(5)
    # the other thread's bulk work is still running: the collector stays paused for it
    assert not gc.isenabled()
    release.set()
    worker.join(5)
    assert gc.isenabled()


def test_a_collector_switched_off_before_stays_off() -> None:
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
