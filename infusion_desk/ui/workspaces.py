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
from PySide6.QtGui import QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.app import Services
from infusion_desk.services.check_in import Fix
from infusion_desk.services.errors import ENVIRONMENT_ERRORS, ServiceError
from infusion_desk.ui.audit_view import AuditView
from infusion_desk.ui.authorizations_panel import AuthorizationsPanel
from infusion_desk.ui.chair_view import ChairView, Clock
from infusion_desk.ui.check_in_panel import CheckInDesk
from infusion_desk.ui.coder_review import CoderReview
from infusion_desk.ui.eligibility_panel import EligibilityPanel
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.orders_panel import OrdersPanel
from infusion_desk.ui.patient_account_view import PatientAccountView
from infusion_desk.ui.patient_lookup import PatientLookup
from infusion_desk.ui.policy_dialog import PolicyDialog
from infusion_desk.ui.registration import RegisterPatientDialog
from infusion_desk.ui.schedule_view import ScheduleView
from infusion_desk.ui.tables import configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.visit_table import CODING_COLUMNS, NURSING_COLUMNS, VisitTableModel
from infusion_desk.ui.work_queues import WorkQueuesView

CODING_QUEUE_LIMIT = 200


class FrontDeskWorkspace(PatientLookup):
    """The front desk: patients (record, eligibility, orders, authorizations), check-in, schedule, queues.

    Alt+1..Alt+4 switch between the four pages. A problem found at check-in or in a work
    queue opens the patient on the Patients page with the screen that fixes it.
    """

    def __init__(
        self, services: Services, actor: Actor, parent: QWidget | None = None,
        *, today: Callable[[], date] = today_local,
    ) -> None:
        super().__init__(services, actor, parent)
        self.setObjectName("frontDeskWorkspace")
        self._today = today
        self._pending_fix: tuple[Fix, int | None] | None = None
        self.new_patient_button = QPushButton("New patient…  (Ctrl+Shift+N)", self)
        self.new_patient_button.setObjectName("newPatientButton")
        self.new_patient_button.setEnabled(actor.can(Permission.PATIENT_EDIT))
        self.new_patient_button.clicked.connect(self.register_patient)
        self.add_policy_button = QPushButton("&Add insurance…", self)
        self.add_policy_button.setObjectName("addPolicyButton")
        self.add_policy_button.setEnabled(False)
        self.add_policy_button.clicked.connect(self.add_policy)
        self.panel.set_services(services, actor)
        self.panel.patientShown.connect(self._patient_shown)
        self.panel.patientChanged.connect(lambda _patient_id: self._changed())

        self.eligibility = EligibilityPanel(services, actor, self.panel.tabs)
        self.eligibility.changed.connect(lambda _patient_id: self._changed())
        self.orders = OrdersPanel(services, actor, self.panel.tabs)
        self.authorizations = AuthorizationsPanel(services, actor, self.panel.tabs)
        self.panel.tabs.addTab(self.eligibility, "Eligibility")
        self.panel.tabs.addTab(self.orders, "Orders")
        self.panel.tabs.addTab(self.authorizations, "Authorizations")
        self.account: PatientAccountView | None = None
        if actor.can(Permission.PATIENT_PAYMENT):
            self.account = PatientAccountView(services, actor, self.panel.tabs)
            self.panel.tabs.addTab(self.account, "Account")

        # The finder and patient (built by PatientLookup) become the first page.
        lookup_layout = self.layout()
        assert isinstance(lookup_layout, QHBoxLayout)
        patients_page = QWidget(self)
        patients_layout = QHBoxLayout(patients_page)
        buttons = QVBoxLayout()
        buttons.addWidget(self.new_patient_button)
        buttons.addWidget(self.add_policy_button)
        buttons.addStretch(1)
        patients_layout.addLayout(buttons)
        while lookup_layout.count():
            item = lookup_layout.takeAt(0)
            if item.widget() is not None:
                patients_layout.addWidget(item.widget(), 1)
        QWidget().setLayout(lookup_layout)  # frees the old layout so the pages can take its place

        self.check_in = CheckInDesk(services, actor, today, self)
        self.check_in.fixRequested.connect(self.open_fix)
        self.schedule = ScheduleView(services, actor, self, today=today)
        self.schedule.openPatient.connect(self.show_patient_page)
        self.schedule.bookingChanged.connect(self._changed)
        self.queues = WorkQueuesView(services, actor, today, self)
        self.queues.fixRequested.connect(self.open_fix)

        self.pages = QTabWidget(self)
        self.pages.setObjectName("frontDeskPages")
        self.pages.addTab(patients_page, "Patients  (Alt+1)")
        self.pages.addTab(self.check_in, "Check-in  (Alt+2)")
        self.pages.addTab(self.schedule, "Schedule  (Alt+3)")
        self.pages.addTab(self.queues, "Work queues  (Alt+4)")
        self.pages.currentChanged.connect(self._page_shown)
        self.patients_page = patients_page
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)
        for number, page in enumerate((patients_page, self.check_in, self.schedule, self.queues), start=1):
            shortcut = QShortcut(QKeySequence(f"Alt+{number}"), self)
            shortcut.activated.connect(lambda page=page: self.show_page(page))
        self.registration: RegisterPatientDialog | None = None
        self.policy_dialog: PolicyDialog | None = None
        self._stale: set[QWidget] = set()

    # -- pages ------------------------------------------------------------------------------

    def show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)
        page.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def show_patient_page(self, patient_id: int) -> None:
        self.pages.setCurrentWidget(self.patients_page)
        self.open_patient(patient_id)

    def _page_shown(self, _index: int) -> None:
        page = self.pages.currentWidget()
        if page is self.check_in or page is self.queues:
            page.refresh()
        elif page is self.schedule and page in self._stale:
            self.schedule.refresh()
        self._stale.discard(page)

    def _changed(self) -> None:
        """Something the other pages show was saved: they reload when next shown."""
        self._stale.update({self.check_in, self.schedule, self.queues})

    def _patient_shown(self, patient_id: int) -> None:
        self.add_policy_button.setEnabled(self._actor.can(Permission.PATIENT_EDIT))
        self.eligibility.show_patient(patient_id)
        self.orders.show_patient(patient_id)
        self.authorizations.show_patient(patient_id)
        if self.account is not None:
            self.account.show_patient(patient_id)
        self.schedule.set_patient(patient_id)
        if self._pending_fix is not None:
            fix, target = self._pending_fix
            self._pending_fix = None
            self._apply_fix(fix, patient_id, target)

    # -- fixes from check-in and the work queues ----------------------------------------------

    def open_fix(self, fix: str, patient_id: int, target_id: int) -> None:
        """Open ``patient_id`` on the Patients page with the screen that fixes the problem."""
        self.pages.setCurrentWidget(self.patients_page)
        target = target_id or None
        current = self.panel.patient
        if current is not None and current.id == patient_id:
            self._apply_fix(Fix(fix), patient_id, target)
            return
        self._pending_fix = (Fix(fix), target)
        self.open_patient(patient_id)

    def _apply_fix(self, fix: Fix, patient_id: int, target: int | None) -> None:
        tabs = self.panel.tabs
        if fix is Fix.VERIFY_ELIGIBILITY:
            tabs.setCurrentWidget(self.eligibility)
            self.eligibility.record_for(patient_id, target)
        elif fix is Fix.AUTHORIZATION:
            tabs.setCurrentWidget(self.authorizations)
            self.authorizations.setFocus(Qt.FocusReason.OtherFocusReason)
        elif fix is Fix.ORDER:
            tabs.setCurrentWidget(self.orders)
            self.orders.setFocus(Qt.FocusReason.OtherFocusReason)
        elif fix is Fix.EDIT_PATIENT:
            self.panel.edit_patient()
        elif fix is Fix.EDIT_POLICY:
            tabs.setCurrentIndex(0)
            self.panel.edit_policy(target)
        elif fix is Fix.INSURANCE:
            tabs.setCurrentIndex(0)
            self.add_policy_button.setFocus(Qt.FocusReason.OtherFocusReason)

    # -- commands ----------------------------------------------------------------------------

    def add_policy(self) -> None:
        patient = self.panel.patient
        if patient is None or not self._actor.can(Permission.PATIENT_EDIT):
            return
        dialog = PolicyDialog(self._services, self._actor, patient.id, self)
        dialog.saved.connect(self.open_patient)
        dialog.saved.connect(lambda _patient_id: self._changed())
        dialog.open()
        self.policy_dialog = dialog

    def register_patient(self) -> None:
        if not self._actor.can(Permission.PATIENT_EDIT):
            return
        self.pages.setCurrentWidget(self.patients_page)
        dialog = RegisterPatientDialog(self._services, self._actor, self._today, self)
        dialog.registered.connect(self.open_patient)
        dialog.openExisting.connect(self.open_patient)
        dialog.open()
        self.registration = dialog

    def refresh(self) -> None:
        page = self.pages.currentWidget()
        if page is self.patients_page:
            if self.panel.patient is not None:
                self.open_patient(self.panel.patient.id)
        else:
            refresh = getattr(page, "refresh", None)
            if callable(refresh):
                refresh()


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
    """Billing in pages: Coding, Claims, Batches, Payments, Denials, Statements, Collections, Underpayments.

    Coding is the queue of signed visits waiting to be coded, oldest first, beside the
    coder's review. A claim finding fixed in the coding opens that visit on the Coding
    page; any other fix (patient, policy, authorization…) is passed on as ``fixRequested``.
    """

    fixRequested = Signal(str, int, int)  # fix target, patient id, visit id (0 = none)

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        # The claim screens are imported here, next to their only use in this module.
        from infusion_desk.ui.batches_view import BatchesView
        from infusion_desk.ui.claims_view import ClaimsView
        from infusion_desk.ui.collections_view import CollectionsView
        from infusion_desk.ui.contracts_view import UnderpaymentsView
        from infusion_desk.ui.denials_view import DenialsView
        from infusion_desk.ui.remittances_view import RemittancesView
        from infusion_desk.ui.statements_view import StatementsView

        super().__init__("billingWorkspace", services, actor, parent)
        self.heading.setText("Visits awaiting coding")
        self.model = VisitTableModel(CODING_COLUMNS, self)
        self.table = configure_table(QTableView(self), "codingQueue", "Visits awaiting coding")
        self.table.setModel(self.model)
        self.review = CoderReview(services, actor)
        self.body.removeWidget(self.heading)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.coding_page = QWidget(self)
        coding = QVBoxLayout(self.coding_page)
        coding.addWidget(self.heading)
        coding.addWidget(_side_by_side(self.table, self.status, self.review), 1)
        self.coding_page.setFocusProxy(self.table)
        self.table.selectionModel().currentRowChanged.connect(self._open_row)
        self.review.visitCoded.connect(self._visit_coded)

        self.pages = QTabWidget(self)
        self.pages.setObjectName("billingPages")
        self.pages.addTab(self.coding_page, "Coding  (Alt+1)")
        self.claims: ClaimsView | None = None
        self.batches: BatchesView | None = None
        if actor.can(Permission.CLAIM_EDIT):
            self.claims = ClaimsView(services, actor, self)
            self.claims.fixRequested.connect(self.open_fix)
            self.claims.changed.connect(lambda: self._mark_stale(self.batches))
            self.pages.addTab(self.claims, f"Claims  (Alt+{self.pages.count() + 1})")
        if actor.can(Permission.BATCH_EXPORT):
            self.batches = BatchesView(services, actor, self)
            self.batches.changed.connect(lambda: self._mark_stale(self.claims))
            self.pages.addTab(self.batches, f"Batches  (Alt+{self.pages.count() + 1})")
        self.payments: RemittancesView | None = None
        if actor.can(Permission.REMITTANCE_POST):
            self.payments = RemittancesView(services, actor, self)
            self.payments.changed.connect(lambda: self._mark_stale(self.claims))
            self.pages.addTab(self.payments, f"Payments  (Alt+{self.pages.count() + 1})")
        self.denials: DenialsView | None = None
        if actor.can(Permission.DENIAL_WORK):
            self.denials = DenialsView(services, actor, self)
            self.pages.addTab(self.denials, f"Denials  (Alt+{self.pages.count() + 1})")
            if self.payments is not None:
                self.payments.changed.connect(lambda: self._mark_stale(self.denials))
        self.statements: StatementsView | None = None
        if actor.can(Permission.PATIENT_PAYMENT) and actor.can(Permission.REPORTS_VIEW):
            self.statements = StatementsView(services, actor, self)
            self.pages.addTab(self.statements, f"Statements  (Alt+{self.pages.count() + 1})")
            if self.payments is not None:
                self.payments.changed.connect(lambda: self._mark_stale(self.statements))
        self.collections: CollectionsView | None = None
        if actor.can(Permission.PATIENT_PAYMENT) and actor.can(Permission.REPORTS_VIEW):
            self.collections = CollectionsView(services, actor, self)
            self.pages.addTab(self.collections, f"Collections  (Alt+{self.pages.count() + 1})")
            if self.payments is not None:
                self.payments.changed.connect(lambda: self._mark_stale(self.collections))
        self.underpayments: UnderpaymentsView | None = None
        if actor.can(Permission.REPORTS_VIEW):
            self.underpayments = UnderpaymentsView(services, actor, self)
            self.pages.addTab(self.underpayments, f"Underpayments  (Alt+{self.pages.count() + 1})")
            if self.payments is not None:
                self.payments.changed.connect(lambda: self._mark_stale(self.underpayments))
        self.body.addWidget(self.pages, 1)
        pages = [self.pages.widget(position) for position in range(self.pages.count())]
        for number, page in enumerate(pages, start=1):
            shortcut = QShortcut(QKeySequence(f"Alt+{number}"), self)
            shortcut.activated.connect(lambda page=page: self.show_page(page))
        self._stale: set[QWidget] = set()
        self.pages.currentChanged.connect(self._page_shown)
        self.setFocusProxy(self.coding_page)

    # -- pages ------------------------------------------------------------------------------

    def show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)
        page.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _page_shown(self, _index: int) -> None:
        page = self.pages.currentWidget()
        self.setFocusProxy(page)
        if page in self._stale:
            self._stale.discard(page)
            self.refresh()

    def _mark_stale(self, page: QWidget | None) -> None:
        """Something ``page`` shows has changed: it reloads when next shown."""
        if page is not None:
            self._stale.add(page)

    def refresh(self) -> None:
        """Reload the page shown (the coding queue also loads the first time the workspace opens)."""
        page = self.pages.currentWidget()
        if page is self.coding_page or not self._started:
            super().refresh()
        refresh = getattr(page, "refresh", None)
        if page is not self.coding_page and callable(refresh):
            self._stale.discard(page)
            refresh()

    # -- coding ------------------------------------------------------------------------------

    def _open_row(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            visit = self.model.visit(current.row())
            self.review.open_visit(visit.id, f"{visit.patient_name} ({visit.mrn})")

    def _visit_coded(self, _visit_id: int) -> None:
        self._mark_stale(self.claims)
        super().refresh()

    def open_fix(self, target: str, patient_id: int, visit_id: int) -> None:
        """A claim finding's fix: the visit's coding opens here; anything else is passed on."""
        if target != "coding" or not visit_id:
            self.fixRequested.emit(target, patient_id, visit_id)
            return
        self.show_page(self.coding_page)
        for row in range(self.model.rowCount()):
            if self.model.visit(row).id == visit_id:
                self.table.selectRow(row)
                return
        detail = self.claims.detail.detail if self.claims is not None else None
        label = detail.row.patient if detail is not None and detail.visit_id == visit_id else None
        self.review.open_visit(visit_id, label)

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
    """The manager's pages (Alt+1..Alt+5); F5 refreshes.

    Overview, Dashboard, Reports, Denial figures and the Audit trail.
    """

    def __init__(
        self,
        services: Services,
        actor: Actor,
        today: Callable[[], date],
        parent: QWidget | None = None,
    ) -> None:
        from infusion_desk.ui.dashboard_view import DashboardView
        from infusion_desk.ui.denial_analytics_view import DenialAnalyticsView
        from infusion_desk.ui.reports_view import ReportsView

        super().__init__("managerWorkspace", services, actor, parent)
        self.heading.setText("Clinic overview")
        self._today = today
        self.patients = QLabel("—", self)
        self.patients.setObjectName("overviewPatients")
        self.visits_today = QLabel("—", self)
        self.visits_today.setObjectName("overviewVisitsToday")
        self.awaiting_coding = QLabel("—", self)
        self.awaiting_coding.setObjectName("overviewAwaitingCoding")
        self.body.removeWidget(self.heading)
        self.body.setContentsMargins(0, 0, 0, 0)
        self.overview_page = QWidget(self)
        self.overview_page.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        overview = QVBoxLayout(self.overview_page)
        overview.addWidget(self.heading)
        form = QFormLayout()
        form.addRow("Patients on file:", self.patients)
        form.addRow("Visits today:", self.visits_today)
        form.addRow("Visits awaiting coding:", self.awaiting_coding)
        overview.addLayout(form)
        overview.addWidget(self.status)
        overview.addStretch(1)

        self.pages = QTabWidget(self)
        self.pages.setObjectName("managerPages")
        self.pages.addTab(self.overview_page, "Overview  (Alt+1)")
        self.denial_figures: DenialAnalyticsView | None = None
        self.dashboard: DashboardView | None = None
        self.reports: ReportsView | None = None
        if actor.can(Permission.REPORTS_VIEW):
            self.dashboard = DashboardView(services, actor, self, today=today())
            self.pages.addTab(self.dashboard, f"Dashboard  (Alt+{self.pages.count() + 1})")
            self.reports = ReportsView(services, actor, self, today=today())
            self.pages.addTab(self.reports, f"Reports  (Alt+{self.pages.count() + 1})")
            self.dashboard.openReport.connect(self.open_report)
            self.denial_figures = DenialAnalyticsView(services, actor, self, today=today())
            self.pages.addTab(self.denial_figures, f"Denial figures  (Alt+{self.pages.count() + 1})")
        self.audit: AuditView | None = None
        if actor.can(Permission.AUDIT_VIEW):
            self.audit = AuditView(services, actor, self)
            self.pages.addTab(self.audit, f"Audit trail  (Alt+{self.pages.count() + 1})")
        self.body.addWidget(self.pages, 1)
        for number in range(1, self.pages.count() + 1):
            page = self.pages.widget(number - 1)
            shortcut = QShortcut(QKeySequence(f"Alt+{number}"), self)
            shortcut.activated.connect(lambda page=page: self.show_page(page))
        self.pages.currentChanged.connect(lambda _index: self.setFocusProxy(self.pages.currentWidget()))
        self.setFocusProxy(self.overview_page)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)

    def show_page(self, page: QWidget) -> None:
        self.pages.setCurrentWidget(page)
        page.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def open_report(self, name: str) -> None:
        """A dashboard figure's report, on the Reports page."""
        if self.reports is not None:
            self.show_page(self.reports)
            self.reports.open_report(name)

    def refresh(self) -> None:
        """Reload the page shown (the overview also loads the first time the workspace opens)."""
        page = self.pages.currentWidget()
        if page is self.overview_page or not self._started:
            super().refresh()
        refresh = getattr(page, "refresh", None)
        if page is not self.overview_page and callable(refresh):
            refresh()

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
