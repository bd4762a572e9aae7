"""Patient billing settings: the small-balance threshold, payment-plan rules and the collections age.

File → Patient billing settings… (managers and administrators). The values load on the
worker thread; **Save** (`Ctrl+Enter`) hands each group to its service, which checks it and
records the change in the audit log. A refused value is said under the form with the field
named, and the dialog stays open; groups saved before it are said to be saved.
(The statement minimum, cycle and due days are on the Statements page, beside the run.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.collections import CollectionsService
from infusion_desk.services.errors import ServiceError, ValidationFailed
from infusion_desk.services.patient_payments import PatientPaymentService
from infusion_desk.services.plans import PlanService, PlanSettings
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import pin_minimum_size


@dataclass(frozen=True, slots=True)
class BillingSettings:
    small_balance: Decimal
    plans: PlanSettings
    collections_age: int


class PatientBillingSettingsDialog(QDialog):
    loaded = Signal()
    saved = Signal()

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientBillingSettings")
        self.setWindowTitle("Patient billing settings")
        self._actor = actor
        self._payments = PatientPaymentService(services.db)
        self._plans = PlanService(services.db)
        self._collections = CollectionsService(services.db)
        self._runner = TaskRunner(self)
        self.current: BillingSettings | None = None

        self.small_balance = QLineEdit(self)
        self.small_balance.setObjectName("smallBalance")
        self.small_balance.setToolTip(
            "A manager may write off a patient's whole balance when it is under this amount"
        )
        self.minimum_instalment = QLineEdit(self)
        self.minimum_instalment.setObjectName("minimumInstalment")
        self.grace_days = QSpinBox(self)
        self.grace_days.setObjectName("graceDays")
        self.grace_days.setRange(0, 60)
        self.default_after = QSpinBox(self)
        self.default_after.setObjectName("defaultAfter")
        self.default_after.setRange(1, 12)
        self.collections_age = QSpinBox(self)
        self.collections_age.setObjectName("collectionsAge")
        self.collections_age.setRange(30, 365)
        self.collections_age.setSuffix(" days")
        form = QFormLayout()
        for label, field in (
            ("&Small-balance write-off under ($)", self.small_balance),
            ("&Minimum plan instalment ($)", self.minimum_instalment),
            ("&Grace days before an instalment is missed", self.grace_days),
            ("Plan &defaults after missed instalments", self.default_after),
            ("&Collections worklist from", self.collections_age),
        ):
            caption = QLabel(label, self)
            caption.setBuddy(field)
            form.addRow(caption, field)
        self.message = QLabel("Loading…", self)
        self.message.setObjectName("patientBillingSettingsMessage")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        QShortcut(QKeySequence("Ctrl+Return"), self, activated=self.save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        pin_minimum_size(self)
        self._set_enabled(False)
        actor_, payments, plans, collections = actor, self._payments, self._plans, self._collections
        self._runner.run(
            lambda: BillingSettings(
                payments.small_balance_threshold(actor_),
                plans.settings(actor_),
                collections.min_age_days(actor_),
            ),
            self._show,
            self._failed,
        )

    def _set_enabled(self, enabled: bool) -> None:
        fields: tuple[QWidget, ...] = (
            self.small_balance,
            self.minimum_instalment,
            self.grace_days,
            self.default_after,
            self.collections_age,
        )
        for field in fields:
            field.setEnabled(enabled)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(enabled)

    def _show(self, current: BillingSettings) -> None:
        self.current = current
        self.small_balance.setText(f"{current.small_balance:.2f}")
        self.minimum_instalment.setText(f"{current.plans.minimum_instalment:.2f}")
        self.grace_days.setValue(current.plans.grace_days)
        self.default_after.setValue(current.plans.default_after_missed)
        self.collections_age.setValue(current.collections_age)
        self.message.setText("")
        self._set_enabled(True)
        self.small_balance.setFocus()
        self.loaded.emit()

    def _failed(self, exc: Exception) -> None:
        set_tone(self.message, ERROR)
        self.message.setText(describe(exc))
        if not isinstance(exc, ServiceError):
            show_error(self, exc)

    def save(self) -> None:
        """Each group that changed goes to its service; the first refusal stops and is said."""
        current = self.current
        if current is None:
            return
        try:
            minimum = Decimal(self.minimum_instalment.text().strip().lstrip("$").replace(",", ""))
        except InvalidOperation:
            self._refused("Type the minimum plan instalment as dollars and cents, for example 25.00.")
            self.minimum_instalment.setFocus()
            return
        plans = PlanSettings(minimum, self.grace_days.value(), self.default_after.value())
        threshold, age = self.small_balance.text().strip(), self.collections_age.value()
        steps: list[tuple[str, QWidget, Callable[[], object]]] = []
        if threshold != f"{current.small_balance:.2f}":
            steps.append((
                "the small-balance threshold",
                self.small_balance,
                partial(self._payments.set_small_balance_threshold, self._actor, threshold),
            ))
        if plans != current.plans:
            steps.append((
                "the payment-plan rules",
                self.minimum_instalment,
                partial(self._plans.set_settings, self._actor, plans),
            ))
        if age != current.collections_age:
            steps.append((
                "the collections age",
                self.collections_age,
                partial(self._collections.set_min_age_days, self._actor, age),
            ))
        done: list[str] = []
        for what, field, step in steps:
            try:
                step()
            except ValidationFailed as exc:
                saved = f" ({', '.join(done)} saved)" if done else ""
                self._refused(f"{describe(exc)}{saved}")
                field.setFocus()
                return
            except ServiceError as exc:
                self._refused(describe(exc))
                return
            done.append(what)
        self.saved.emit()
        self.accept()

    def _refused(self, text: str) -> None:
        set_tone(self.message, ERROR)
        self.message.setText(text)
