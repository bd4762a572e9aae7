"""Chairs and opening hours (File → Chairs and hours…): what the schedule shows and books.

One chair per line, in the order the schedule shows them. Renaming a line keeps the
chair's bookings; removing a chair with bookings to come is refused with the visits named.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTime, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QPlainTextEdit,
    QSpinBox,
    QTimeEdit,
    QWidget,
)

from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.schedule import ScheduleService, ScheduleSetup
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services


class ChairsDialog(QDialog):
    saved = Signal(object)  # the new ScheduleSetup

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chairsDialog")
        self.setWindowTitle("Chairs and hours")
        self._service = ScheduleService(services.db)
        self._actor = actor
        self._runner = TaskRunner(self)
        self.chairs = QPlainTextEdit()
        self.chairs.setObjectName("chairNames")
        self.chairs.setTabChangesFocus(True)
        self.opens = QTimeEdit()
        self.opens.setObjectName("opens")
        self.opens.setDisplayFormat("h:mm AP")
        self.closes = QTimeEdit()
        self.closes.setObjectName("closes")
        self.closes.setDisplayFormat("h:mm AP")
        self.slot = QSpinBox()
        self.slot.setObjectName("slotMinutes")
        self.slot.setRange(5, 60)
        self.slot.setSingleStep(5)
        self.slot.setSuffix(" min")
        self.findings = QLabel()
        self.findings.setObjectName("chairsFindings")
        self.findings.setWordWrap(True)
        set_tone(self.findings, ERROR)
        form = QFormLayout(self)
        for text, widget in (
            ("C&hairs (one per line):", self.chairs),
            ("&Opens:", self.opens),
            ("C&loses:", self.closes),
            ("&Slot length:", self.slot),
        ):
            caption = QLabel(text)
            caption.setBuddy(widget)
            form.addRow(caption, widget)
        form.addRow(self.findings)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        self._runner.run(lambda: self._service.setup(actor), self._fill, lambda exc: show_error(self, exc))

    def _fill(self, setup: ScheduleSetup) -> None:
        self.chairs.setPlainText("\n".join(chair.name for chair in setup.chairs))
        self.opens.setTime(QTime(setup.opens.hour, setup.opens.minute))
        self.closes.setTime(QTime(setup.closes.hour, setup.closes.minute))
        self.slot.setValue(setup.slot_minutes)

    def save(self) -> None:
        names = [line.strip() for line in self.chairs.toPlainText().splitlines() if line.strip()]
        opens, closes = self.opens.time().toPython(), self.closes.time().toPython()
        slot = self.slot.value()
        self.findings.clear()
        self._runner.run(
            lambda: self._service.configure(self._actor, names, opens, closes, slot),
            self._saved,
            self._refused,
        )

    def _saved(self, setup: ScheduleSetup) -> None:
        self.saved.emit(setup)
        self.accept()

    def _refused(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            self.findings.setText("\n".join(f.message for f in exc.findings))
            return
        show_error(self, exc)
