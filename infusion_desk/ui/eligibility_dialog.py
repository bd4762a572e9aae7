"""The verification form: what a portal, a phone call or a fax said about one policy.

Amounts are typed as the payer said them (``1,500``, ``$40``, ``20%``); every rule
(no negative money, coinsurance 0–100, met not over the total, no future date) is the
service's, shown under the form with the field to fix.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from infusion_desk.models.enums import VerificationMethod
from infusion_desk.services.eligibility import EligibilityInput, EligibilityService, PolicyVerification
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

METHOD_LABELS: dict[VerificationMethod, str] = {
    VerificationMethod.PORTAL: "Portal",
    VerificationMethod.PHONE: "Phone",
    VerificationMethod.FAX: "Fax",
    VerificationMethod.X12_271: "271",
}


class EligibilityDialog(QDialog):
    """Record one verification; ``saved`` carries the policy's id once the service accepted it."""

    saved = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        policies: tuple[PolicyVerification, ...],
        parent: QWidget | None = None,
        *,
        today: date | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("eligibilityDialog")
        self.setWindowTitle("Record verification")
        self._service = EligibilityService(services.db)
        self._actor = actor
        self._runner = TaskRunner(self)
        form = QFormLayout(self)
        self.policy = QComboBox()
        self.policy.setObjectName("eligibilityPolicy")
        for policy in policies:
            self.policy.addItem(policy.policy_label, policy.policy_id)
        self.method = QComboBox()
        self.method.setObjectName("eligibilityMethod")
        for method in (VerificationMethod.PORTAL, VerificationMethod.PHONE, VerificationMethod.FAX):
            self.method.addItem(METHOD_LABELS[method], method)
        self.checked_on = QLineEdit(us_date(today or date.today()))  # noqa: DTZ011 - the clerk's calendar day
        self.checked_on.setObjectName("eligibilityCheckedOn")
        self.checked_on.setPlaceholderText("MM/DD/YYYY")
        self.active = QCheckBox("Coverage is &active")
        self.active.setObjectName("eligibilityActive")
        self.active.setChecked(True)
        self.reference = QLineEdit()
        self.reference.setObjectName("eligibilityReference")
        self.copay = QLineEdit()
        self.copay.setObjectName("eligibilityCopay")
        self.deductible = QLineEdit()
        self.deductible.setObjectName("eligibilityDeductible")
        self.deductible_met = QLineEdit()
        self.deductible_met.setObjectName("eligibilityDeductibleMet")
        self.coinsurance = QLineEdit()
        self.coinsurance.setObjectName("eligibilityCoinsurance")
        self.coinsurance.setPlaceholderText("20 for 20%")
        self.oop = QLineEdit()
        self.oop.setObjectName("eligibilityOopMax")
        self.oop_met = QLineEdit()
        self.oop_met.setObjectName("eligibilityOopMet")
        self.notes = QLineEdit()
        self.notes.setObjectName("eligibilityNotes")
        for label, widget in (
            ("&Policy", self.policy),
            ("&How", self.method),
            ("&Checked on", self.checked_on),
            ("", self.active),
            ("&Reference number", self.reference),
            ("Co&pay", self.copay),
            ("&Deductible", self.deductible),
            ("Deductible &met", self.deductible_met),
            ("C&oinsurance %", self.coinsurance),
            ("Out-of-pocket ma&x", self.oop),
            ("Out-of-pocket m&et", self.oop_met),
            ("&Notes", self.notes),
        ):
            form.addRow(label, widget)
        self.error = QLabel("")
        self.error.setObjectName("eligibilityError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.setObjectName("eligibilityButtons")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        pin_minimum_size(self)

    def save(self) -> None:
        try:
            checked_on = datetime.strptime(self.checked_on.text().strip(), "%m/%d/%Y").date()  # noqa: DTZ007
        except ValueError:
            self._show("Checked on: use MM/DD/YYYY, for example 11/20/2026.")
            return
        policy_id = self.policy.currentData()
        if policy_id is None:
            self._show("The patient has no insurance in force to verify.")
            return
        data = EligibilityInput(
            method=VerificationMethod(self.method.currentData()),
            checked_on=checked_on,
            active=self.active.isChecked(),
            reference_number=self.reference.text(),
            copay=self.copay.text(),
            deductible=self.deductible.text(),
            deductible_met=self.deductible_met.text(),
            coinsurance_percent=self.coinsurance.text(),
            out_of_pocket_max=self.oop.text(),
            out_of_pocket_met=self.oop_met.text(),
            notes=self.notes.text(),
        )
        service, actor = self._service, self._actor
        self._runner.run(lambda: service.record(actor, int(policy_id), data), self._saved, self._failed)

    def _saved(self, row: Any) -> None:
        self.saved.emit(row.policy_id)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            self._show("\n".join(f.message for f in exc.findings))
        else:
            show_error(self, exc)

    def _show(self, message: str) -> None:
        self.error.setText(message)
        grow_to_fit(self)
