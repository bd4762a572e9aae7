"""Set up a payment plan from the patient's account: terms, a live preview of the schedule, create.

    draft = PlanService(db).draft(actor, patient_id)      # on the worker thread
    dialog = PlanDialog(plans, actor, draft, parent)
    dialog.created.connect(...)                            # PlanView

The plan takes every patient-due line. Choose the number of instalments (Alt+I) or the
instalment amount (Alt+A), the first due date (Alt+D) and the days between instalments
(Alt+E); the schedule and any rule broken (the clinic's minimum instalment, a date in the
past…) show as you type. Ctrl+Enter creates the plan.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing.plans import MAX_INSTALMENTS, Instalment
from infusion_desk.services.access import Actor
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.plans import PlanDraft, PlanInput, PlanService, PlanView, check_plan
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

SCHEDULE_COLUMNS: tuple[Column[Instalment], ...] = (
    ("#", lambda i: str(i.number)),
    ("Due", lambda i: us_date(i.due_date)),
    ("Amount", lambda i: f"${i.amount:,.2f}"),
)


class PlanDialog(QDialog):
    created = Signal(object)  # PlanView

    def __init__(
        self, plans: PlanService, actor: Actor, draft: PlanDraft, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("planDialog")
        self.setWindowTitle(f"Payment plan — {draft.patient_name}")
        self._plans, self._actor, self._draft = plans, actor, draft
        self._runner = TaskRunner(self)

        total = QLabel(
            f"Balance for the plan: ${draft.total_due:,.2f} on {len(draft.lines)} patient-due line(s). "
            f"Each instalment at least ${draft.settings.minimum_instalment:,.2f}.",
            self,
        )
        total.setObjectName("planTotal")
        total.setWordWrap(True)
        self.by_count = QRadioButton("Number of &instalments:", self)
        self.by_count.setObjectName("planByCount")
        self.by_amount = QRadioButton("Instalment &amount ($):", self)
        self.by_amount.setObjectName("planByAmount")
        mode = QButtonGroup(self)
        mode.addButton(self.by_count)
        mode.addButton(self.by_amount)
        self.by_count.setChecked(True)
        self.count = QSpinBox(self)
        self.count.setObjectName("planInstalments")
        self.count.setAccessibleName("Number of instalments")
        self.count.setRange(1, MAX_INSTALMENTS + 1)
        self.count.setValue(3)
        self.amount = QLineEdit(self)
        self.amount.setObjectName("planAmount")
        self.amount.setAccessibleName("Instalment amount")
        self.amount.setPlaceholderText("e.g. 50.00")
        self.first_due = QDateEdit(self)
        self.first_due.setObjectName("planFirstDue")
        self.first_due.setDisplayFormat("MM/dd/yyyy")
        self.first_due.setCalendarPopup(True)
        self.first_due.setDate(QDate(draft.today.year, draft.today.month, draft.today.day).addDays(30))
        self.interval = QSpinBox(self)
        self.interval.setObjectName("planInterval")
        self.interval.setRange(1, 365)
        self.interval.setValue(30)
        self.interval.setSuffix(" days")

        self.model: RowTableModel[Instalment] = RowTableModel(SCHEDULE_COLUMNS, self)
        self.schedule = configure_table(QTableView(self), "planSchedule", "Instalment schedule")
        self.schedule.setModel(self.model)
        self.summary = QLabel(self)
        self.summary.setObjectName("planSummary")
        self.findings = QLabel(self)
        self.findings.setObjectName("planFindings")
        self.findings.setWordWrap(True)
        set_tone(self.findings, ERROR)

        self.create_button = QPushButton("&Create plan  (Ctrl+Enter)", self)
        self.create_button.setObjectName("createPlanButton")
        self.create_button.setDefault(True)
        self.create_button.clicked.connect(self.create)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(sequence), self, self.create)

        form = QFormLayout()
        form.addRow(self.by_count, self.count)
        form.addRow(self.by_amount, self.amount)
        due_label = QLabel("First &due date:", self)
        due_label.setBuddy(self.first_due)
        form.addRow(due_label, self.first_due)
        every_label = QLabel("&Every:", self)
        every_label.setBuddy(self.interval)
        form.addRow(every_label, self.interval)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(total)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.schedule, 1)
        layout.addWidget(self.findings)
        layout.addLayout(buttons)
        chain: list[QWidget] = [
            self.by_count, self.count, self.by_amount, self.amount, self.first_due, self.interval,
            self.schedule, self.create_button, cancel,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)

        self.by_count.toggled.connect(self._mode_changed)
        self.count.valueChanged.connect(self._update_preview)
        self.amount.textChanged.connect(self._update_preview)
        self.first_due.dateChanged.connect(self._update_preview)
        self.interval.valueChanged.connect(self._update_preview)
        self._mode_changed()
        self.count.setFocus()
        self.count.selectAll()

    # -- the terms ----------------------------------------------------------------------------------

    def data(self) -> PlanInput:
        due: date = self.first_due.date().toPython()  # type: ignore[assignment]
        if self.by_count.isChecked():
            return PlanInput(
                instalments=self.count.value(), first_due_date=due, interval_days=self.interval.value()
            )
        return PlanInput(
            instalment_amount=self.amount.text(), first_due_date=due, interval_days=self.interval.value()
        )

    def _mode_changed(self) -> None:
        counting = self.by_count.isChecked()
        self.count.setEnabled(counting)
        self.amount.setEnabled(not counting)
        (self.count if counting else self.amount).setFocus()
        self._update_preview()

    def _update_preview(self) -> None:
        check = check_plan(self._draft, self.data())
        self.model.set_rows(check.schedule if check.ok else ())
        if check.ok:
            self.summary.setText(
                f"{len(check.schedule)} instalments, ${check.total:,.2f} in all, "
                f"last due {us_date(check.schedule[-1].due_date)}."
            )
        else:
            self.summary.setText("")
        self.findings.setText("\n".join(f.message for f in check.findings if f.blocks))
        self.create_button.setEnabled(check.ok and not self._runner.busy)

    # -- creating -----------------------------------------------------------------------------------

    def create(self) -> None:
        if self._runner.busy or not self.create_button.isEnabled():
            return
        data, patient_id = self.data(), self._draft.patient_id
        self.create_button.setEnabled(False)
        self._runner.run(
            lambda: self._plans.create(self._actor, patient_id, data), self._created, self._refused
        )

    def _refused(self, exc: object) -> None:
        self.create_button.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self.findings.setText("\n".join(f.message for f in exc.findings))
            field = {
                "instalments": self.count,
                "instalment_amount": self.amount,
                "first_due_date": self.first_due,
                "interval_days": self.interval,
            }.get(exc.findings[0].subject if exc.findings else "")
            if field is not None:
                field.setFocus()
            return
        assert isinstance(exc, Exception)
        show_error(self, exc)

    def _created(self, view: PlanView) -> None:
        self.created.emit(view)
        self.accept()
