"""The role workspaces of the main window: front desk, nursing, billing and manager.

Each read-only workspace loads its data on the background worker the first time it is
shown and again on :meth:`refresh` (F5); ``loaded`` fires when the new data is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.app import Services
from infusion_desk.services.errors import ENVIRONMENT_ERRORS, ServiceError
from infusion_desk.ui.chair_view import ChairView, Clock
from infusion_desk.ui.coder_review import CoderReview
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.patient_lookup import PatientLookup
from infusion_desk.ui.policy_dialog import PolicyDialog
from infusion_desk.ui.registration import RegisterPatientDialog
from infusion_desk.ui.tables import configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.visit_table import CODING_COLUMNS, NURSING_COLUMNS, VisitTableModel

CODING_QUEUE_LIMIT = 200


class FrontDeskWorkspace(PatientLookup):
    """Patient finder, the opened patient's demographics and insurance, and new registrations."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(services, actor, parent)
        self.setObjectName("frontDeskWorkspace")
        self.new_patient_button = QPushButton("&New patient…  (Ctrl+Shift+N)", self)
        self.new_patient_button.setObjectName("newPatientButton")
        self.new_patient_button.setEnabled(actor.can(Permission.PATIENT_EDIT))
        self.new_patient_button.clicked.connect(self.register_patient)
        layout = self.layout()
        assert isinstance(layout, QHBoxLayout)
        self.add_policy_button = QPushButton("Add &insurance…", self)
        self.add_policy_button.setObjectName("addPolicyButton")
        self.add_policy_button.setEnabled(False)
        self.add_policy_button.clicked.connect(self.add_policy)
        self.panel.patientShown.connect(
            lambda _patient_id: self.add_policy_button.setEnabled(actor.can(Permission.PATIENT_EDIT))
        )
        buttons = QVBoxLayout()
        buttons.addWidget(self.new_patient_button)
        buttons.addWidget(self.add_policy_button)
        buttons.addStretch(1)
        layout.insertLayout(0, buttons)
        self.registration: RegisterPatientDialog | None = None
        self.policy_dialog: PolicyDialog | None = None

    def add_policy(self) -> None:
        patient = self.panel.patient
        if patient is None or not self._actor.can(Permission.PATIENT_EDIT):
            return
        dialog = PolicyDialog(self._services, self._actor, patient.id, self)
        dialog.saved.connect(self.open_patient)
        dialog.open()
        self.policy_dialog = dialog

    def register_patient(self) -> None:
        if not self._actor.can(Permission.PATIENT_EDIT):
            return
        dialog = RegisterPatientDialog(self._services, self._actor, today_local, self)
        dialog.registered.connect(self.open_patient)
        dialog.openExisting.connect(self.open_patient)
        dialog.open()
        self.registration = dialog

    def refresh(self) -> None:
        if self.panel.patient is not None:
            self.open_patient(self.panel.patient.id)


class _LoadingWorkspace(QWidget):
    """Loads once when first shown; subclasses say what to fetch and how to show it."""

    loaded = Signal()

    def __init__(self, name: str, services: Services, actor: Actor, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self._services = services
        self._actor = actor
        self._runner = TaskRunner(self)
        self._generation = 0
        self._started = False
        self.heading = QLabel(self)
        self.heading.setObjectName(f"{name}Heading")
        font = self.heading.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        self.heading.setFont(font)
        self.status = QLabel("Loading…", self)
        self.status.setObjectName(f"{name}Status")
        self.status.setWordWrap(True)
        self.body = QVBoxLayout(self)
        self.body.addWidget(self.heading)

    def _fetch(self) -> Callable[[], Any]:
        """A callable for the worker thread (it must not touch widgets)."""
        raise NotImplementedError

    def _present(self, result: Any) -> None:
        raise NotImplementedError

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._started:
            self.refresh()

    def refresh(self) -> None:
        self._started = True
        self._generation += 1
        generation = self._generation
        self.status.setText("Loading…")
        self._runner.run(
            self._fetch(),
            lambda result: self._done(generation, result),
            lambda exc: self._failed(generation, exc),
        )

    def _done(self, generation: int, result: Any) -> None:
        if generation == self._generation:
            self._present(result)
            self.loaded.emit()

    def _failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        self.status.setText(describe(exc))
        if isinstance(exc, ENVIRONMENT_ERRORS):
            show_error(self, exc, retry=self.refresh)
        elif not isinstance(exc, ServiceError):
            show_error(self, exc)


def _side_by_side(table: QTableView, status: QLabel, detail: QWidget) -> QSplitter:
    """The list (with its status line) on the left, the picked record's detail on the right."""
    left = QWidget()
    column = QVBoxLayout(left)
    column.setContentsMargins(0, 0, 0, 0)
    column.addWidget(table, 1)
    column.addWidget(status)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(detail)
    splitter.setStretchFactor(1, 3)
    return splitter


class NursingWorkspace(_LoadingWorkspace):
    """Today's chair list, and the chair view of the visit picked in it."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        today: Callable[[], date],
        parent: QWidget | None = None,
        *,
        clock: Clock | None = None,
    ) -> None:
        super().__init__("nursingWorkspace", services, actor, parent)
        self._today = today
        self._day = today()
        self.model = VisitTableModel(NURSING_COLUMNS, self)
        self.table = configure_table(QTableView(self), "chairList", "Today's chair list")
        self.table.setModel(self.model)
        self.chair = ChairView(services, actor, clock=clock) if clock else ChairView(services, actor)
        self.body.addWidget(_side_by_side(self.table, self.status, self.chair), 1)
        self.setFocusProxy(self.table)
        self._show_heading()
        self.table.selectionModel().currentRowChanged.connect(self._open_row)
        self.chair.visitStatusChanged.connect(lambda _visit_id: self.refresh())

    def _open_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.chair.open_visit(self.model.visit(current.row()).id)

    def _show_heading(self) -> None:
        self.heading.setText(f"Chair list for {self._day:%A}, {us_date(self._day)}")

    def _fetch(self) -> Callable[[], Any]:
        self._day = self._today()
        self._show_heading()
        services, actor, day = self._services, self._actor, self._day
        return lambda: services.visits.day_list(actor, day)

    def _present(self, result: Any) -> None:
        self.model.set_rows(result)
        count = len(result)
        self.status.setText(
            "No visits booked today." if count == 0 else f"{count} visit{'s' if count != 1 else ''} today."
        )


class BillingWorkspace(_LoadingWorkspace):
    """Signed visits waiting to be coded, oldest first."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__("billingWorkspace", services, actor, parent)
        self.heading.setText("Visits awaiting coding")
        self.model = VisitTableModel(CODING_COLUMNS, self)
        self.table = configure_table(QTableView(self), "codingQueue", "Visits awaiting coding")
        self.table.setModel(self.model)
        self.review = CoderReview(services, actor)
        self.body.addWidget(_side_by_side(self.table, self.status, self.review), 1)
        self.setFocusProxy(self.table)
        self.table.selectionModel().currentRowChanged.connect(self._open_row)
        self.review.visitCoded.connect(lambda _visit_id: self.refresh())

    def _open_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            visit = self.model.visit(current.row())
            self.review.open_visit(visit.id, f"{visit.patient_name} ({visit.mrn})")

    def _fetch(self) -> Callable[[], Any]:
        services, actor = self._services, self._actor
        return lambda: services.visits.awaiting_coding(actor, limit=CODING_QUEUE_LIMIT)

    def _present(self, result: Any) -> None:
        self.model.set_rows(result)
        count = len(result)
        self.status.setText(
            "Nothing waiting: every signed visit is coded."
            if count == 0
            else f"{count} visit{'s' if count != 1 else ''} waiting, oldest first."
        )


@dataclass(frozen=True, slots=True)
class Overview:
    patients: int
    visits_today: int
    awaiting_coding: int | None


class ManagerWorkspace(_LoadingWorkspace):
    """A small overview of the clinic's day."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        today: Callable[[], date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__("managerWorkspace", services, actor, parent)
        self.heading.setText("Clinic overview")
        self._today = today
        self.patients = QLabel("—", self)
        self.patients.setObjectName("overviewPatients")
        self.visits_today = QLabel("—", self)
        self.visits_today.setObjectName("overviewVisitsToday")
        self.awaiting_coding = QLabel("—", self)
        self.awaiting_coding.setObjectName("overviewAwaitingCoding")
        form = QFormLayout()
        form.addRow("Patients on file:", self.patients)
        form.addRow("Visits today:", self.visits_today)
        form.addRow("Visits awaiting coding:", self.awaiting_coding)
        self.body.addLayout(form)
        self.body.addWidget(self.status)
        self.body.addStretch(1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def _fetch(self) -> Callable[[], Any]:
        services, actor, day = self._services, self._actor, self._today()

        def overview() -> Overview:
            coding = (
                services.visits.count_awaiting_coding(actor) if actor.can(Permission.CODE_VISIT) else None
            )
            return Overview(
                patients=services.patients.count(actor),
                visits_today=len(services.visits.day_list(actor, day)),
                awaiting_coding=coding,
            )

        return overview

    def _present(self, result: Any) -> None:
        self.patients.setText(f"{result.patients:,}")
        self.visits_today.setText(f"{result.visits_today:,}")
        coding = result.awaiting_coding
        self.awaiting_coding.setText("—" if coding is None else f"{coding:,}")
        self.status.setText(f"As of {us_date(self._today())}. Press F5 to refresh.")
