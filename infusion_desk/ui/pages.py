"""A workspace page that loads on the worker thread: the first time it is shown, and on refresh.

    class DenialsView(Page):
        def _load(self):                 # runs on the worker thread: services only, no widgets
            return self._service.work_queue(self._actor)

        def _present(self, rows):        # back on the GUI thread
            self.model.set_rows(rows)

A refresh started while another is loading wins: the older answer is dropped, so a slow
load never paints over a newer one. A failed load is said in ``summary`` (a message box
too, with Retry, for anything but bad input); ``say`` reports an action's outcome in
``message``, in red for an error.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QWidget

from infusion_desk.ui.errors import report_failure
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone


class Page(QWidget):
    loaded = Signal()

    def __init__(self, object_name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self._runner = TaskRunner(self)
        self._generation = 0
        self._started = False
        self.summary = QLabel("Loading…", self)
        self.summary.setObjectName(f"{object_name}Summary")
        self.summary.setWordWrap(True)
        self.message = QLabel("", self)
        self.message.setObjectName(f"{object_name}Message")
        self.message.setWordWrap(True)

    def _load(self) -> Any:
        """What the page shows, read through the services (on the worker thread)."""
        raise NotImplementedError

    def _present(self, value: Any) -> None:
        """Show what ``_load`` returned (on the GUI thread)."""
        raise NotImplementedError

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._started:
            self.refresh()

    def refresh(self) -> None:
        self._started = True
        self._generation += 1
        generation = self._generation
        self._runner.run(
            self._load,
            lambda value: self._loaded(generation, value),
            lambda exc: self._load_failed(generation, exc),
        )

    def _loaded(self, generation: int, value: Any) -> None:
        if generation == self._generation:
            self._present(value)
            self.loaded.emit()

    def _load_failed(self, generation: int, exc: Exception) -> None:
        if generation == self._generation:
            report_failure(self, self.summary, exc, retry=self.refresh)

    def say(self, text: str, *, error: bool = False) -> None:
        set_tone(self.message, ERROR if error else None)
        self.message.setText(text)
