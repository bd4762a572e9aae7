"""Finder and patient panel side by side: the front desk workspace and the Ctrl+F dialog.

Activating a result opens that patient's record on the background worker; if the user
opens another patient before it arrives, the older record is dropped.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QHBoxLayout, QPushButton, QSplitter, QVBoxLayout, QWidget

from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.errors import ENVIRONMENT_ERRORS, ServiceError
from infusion_desk.services.patients import PatientDetail
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.patient_finder import PatientFinder
from infusion_desk.ui.patient_panel import PatientPanel
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.windowing import pin_minimum_size


class PatientLookup(QWidget):
    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._services = services
        self._actor = actor
        self._runner = TaskRunner(self)
        self._requested: int | None = None

        self.finder = PatientFinder(services, actor, self)
        self.panel = PatientPanel(self)
        self.finder.patientActivated.connect(self.open_patient)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setChildrenCollapsible(False)
        splitter.addWidget(self.finder)
        splitter.addWidget(self.panel)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)
        self.setFocusProxy(self.finder)

    def open_patient(self, patient_id: int) -> None:
        self._requested = patient_id
        self.panel.show_message("Opening patient…")
        services, actor = self._services, self._actor
        self._runner.run(
            lambda: services.patients.get(actor, patient_id),
            lambda detail: self._opened(patient_id, detail),
            lambda exc: self._failed(patient_id, exc),
        )

    def _opened(self, patient_id: int, detail: PatientDetail) -> None:
        if patient_id != self._requested:
            return
        self.panel.show_patient(detail)
        if self.panel.policies.isVisible():
            self.panel.policies.setFocus(Qt.FocusReason.OtherFocusReason)

    def _failed(self, patient_id: int, exc: Exception) -> None:
        if patient_id != self._requested:
            return
        self.panel.show_message(describe(exc))
        if isinstance(exc, ENVIRONMENT_ERRORS):
            show_error(self, exc, retry=lambda: self.open_patient(patient_id))
        elif not isinstance(exc, ServiceError):
            show_error(self, exc)


class PatientLookupDialog(QDialog):
    """The finder for roles without the front desk workspace (Ctrl+F from anywhere)."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientLookupDialog")
        self.setWindowTitle("Find patient")
        self.lookup = PatientLookup(services, actor, self)
        close = QPushButton("Close", self)
        close.setAutoDefault(False)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.lookup, 1)
        layout.addLayout(buttons)
        self.resize(900, 520)
        pin_minimum_size(self)
