"""Adding an insurance policy to the opened patient: payer, rank, member and group IDs, dates, subscriber.

The subscriber's own fields open only when the patient is not the subscriber; every rule
(dates in order, subscriber data a claim needs, member ID characters) is the service's,
shown next to the form.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from infusion_desk.models.enums import PayerType, PolicyRank, Sex, SubscriberRelationship
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services


def _date(text: str, label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007 - a date
    except ValueError:
        raise ValueError(f"{label}: use MM/DD/YYYY, for example 01/01/2026.") from None


class PolicyDialog(QDialog):
    saved = Signal(int)  # the patient's id

    def __init__(
        self, services: Services, actor: Actor, patient_id: int, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("policyDialog")
        self.setWindowTitle("Add insurance")
        self._services, self._actor, self._patient_id = services, actor, patient_id
        self._runner = TaskRunner(self)
        form = QFormLayout(self)
        self.payer = QComboBox()
        self.payer.setObjectName("policyPayer")
        self.rank = QComboBox()
        self.rank.setObjectName("policyRank")
        for rank in PolicyRank:
            self.rank.addItem(rank.value.capitalize(), rank)
        self.member_id = QLineEdit()
        self.member_id.setObjectName("policyMemberId")
        self.group = QLineEdit()
        self.group.setObjectName("policyGroup")
        self.effective = QLineEdit()
        self.effective.setObjectName("policyEffective")
        self.effective.setPlaceholderText("MM/DD/YYYY")
        self.termination = QLineEdit()
        self.termination.setObjectName("policyTermination")
        self.termination.setPlaceholderText("MM/DD/YYYY, empty if open")
        self.relationship = QComboBox()
        self.relationship.setObjectName("policyRelationship")
        for relationship in SubscriberRelationship:
            self.relationship.addItem(relationship.value.capitalize(), relationship)
        self.subscriber_first = QLineEdit()
        self.subscriber_first.setObjectName("policySubscriberFirst")
        self.subscriber_last = QLineEdit()
        self.subscriber_last.setObjectName("policySubscriberLast")
        self.subscriber_birth = QLineEdit()
        self.subscriber_birth.setObjectName("policySubscriberBirth")
        self.subscriber_birth.setPlaceholderText("MM/DD/YYYY")
        self.subscriber_sex = QComboBox()
        self.subscriber_sex.setObjectName("policySubscriberSex")
        for value, text in ((Sex.FEMALE, "Female"), (Sex.MALE, "Male"), (Sex.UNKNOWN, "Unknown")):
            self.subscriber_sex.addItem(text, value)
        for label, widget in (
            ("&Payer", self.payer),
            ("&Rank", self.rank),
            ("&Member ID", self.member_id),
            ("&Group", self.group),
            ("&Effective", self.effective),
            ("&Termination", self.termination),
            ("Patient is the &subscriber's", self.relationship),
            ("Subscriber &first name", self.subscriber_first),
            ("Subscriber &last name", self.subscriber_last),
            ("Subscriber date of &birth", self.subscriber_birth),
            ("Subscriber se&x", self.subscriber_sex),
        ):
            form.addRow(label, widget)
        self.error = QLabel("")
        self.error.setObjectName("policyError")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020;")
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.relationship.currentIndexChanged.connect(self._subscriber_fields)
        self._subscriber_fields()
        pin_minimum_size(self)
        self._runner.run(
            lambda: services.clinic.payers(actor), self._fill_payers, lambda exc: show_error(self, exc)
        )

    def _fill_payers(self, payers: list[tuple[int, str, PayerType]]) -> None:
        for payer_id, name, _payer_type in payers:
            self.payer.addItem(name, payer_id)

    def _relationship(self) -> SubscriberRelationship:
        # Qt hands enum members back from item data as plain strings.
        return SubscriberRelationship(self.relationship.currentData())

    def _subscriber_fields(self) -> None:
        other = self._relationship() is not SubscriberRelationship.SELF
        for widget in (
            self.subscriber_first,
            self.subscriber_last,
            self.subscriber_birth,
            self.subscriber_sex,
        ):
            widget.setEnabled(other)

    def save(self) -> None:
        from infusion_desk.services.patients import PolicyInput

        try:
            effective = _date(self.effective.text(), "Effective date")
            termination = _date(self.termination.text(), "Termination date")
            subscriber_birth = _date(self.subscriber_birth.text(), "Subscriber date of birth")
        except ValueError as exc:
            self._show(str(exc))
            return
        if effective is None:
            self._show("Effective date is required.")
            return
        other = self._relationship() is not SubscriberRelationship.SELF
        data = PolicyInput(
            payer_id=self.payer.currentData(),
            rank=PolicyRank(self.rank.currentData()),
            member_id=self.member_id.text(),
            effective_date=effective,
            termination_date=termination,
            subscriber_relationship=self._relationship(),
            group_number=self.group.text().strip() or None,
            subscriber_first_name=(self.subscriber_first.text().strip() or None) if other else None,
            subscriber_last_name=(self.subscriber_last.text().strip() or None) if other else None,
            subscriber_birth_date=subscriber_birth if other else None,
            subscriber_sex=Sex(self.subscriber_sex.currentData()) if other else None,
        )
        actor, patient_id, patients = self._actor, self._patient_id, self._services.patients
        self._runner.run(lambda: patients.add_policy(actor, patient_id, data), self._saved, self._failed)

    def _saved(self, _policy_id: Any) -> None:
        self.saved.emit(self._patient_id)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            self._show("\n".join(f.message for f in exc.findings))
        else:
            show_error(self, exc)

    def _show(self, message: str) -> None:
        self.error.setText(message)
        grow_to_fit(self)
