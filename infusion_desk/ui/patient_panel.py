"""The opened patient: demographics and insurance policies, read-only.

    panel = PatientPanel()
    panel.show_patient(services.patients.get(actor, patient_id))

The panel never loads anything itself; whoever opens the patient fetches the record.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QLabel,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.patients import PatientDetail, PolicySummary
from infusion_desk.ui.formatting import RANK_LABELS, SEX_LABELS, us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table

POLICY_COLUMNS: tuple[Column[PolicySummary], ...] = (
    ("Rank", lambda p: RANK_LABELS.get(p.rank, str(p.rank))),
    ("Payer", lambda p: p.payer_name),
    ("Member ID", lambda p: p.member_id),
    ("Group", lambda p: p.group_number or ""),
    ("Effective", lambda p: us_date(p.effective_date)),
    ("Termination", lambda p: us_date(p.termination_date) or "open"),
)


class PolicyTableModel(RowTableModel[PolicySummary]):
    """A patient's insurance policies (a short list, replaced whenever a patient opens)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(POLICY_COLUMNS, parent)

    def set_policies(self, policies: tuple[PolicySummary, ...]) -> None:
        self.set_rows(policies)


def _value_label(name: str, parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class PatientPanel(QWidget):
    """Shows one :class:`PatientDetail`, or a hint when no patient is open."""

    patientShown = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("patientPanel")
        self.patient: PatientDetail | None = None

        self._stack = QStackedWidget(self)
        self.message = QLabel("No patient open. Press Ctrl+F to find one.", self)
        self.message.setObjectName("patientPanelMessage")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self._stack.addWidget(self.message)

        page = QWidget(self)
        self.name = _value_label("patientName", page)
        font = QFont(self.name.font())
        font.setPointSizeF(font.pointSizeF() * 1.4)
        font.setBold(True)
        self.name.setFont(font)
        self.mrn = _value_label("patientMrn", page)
        self.birth_date = _value_label("patientBirthDate", page)
        self.sex = _value_label("patientSex", page)
        self.address = _value_label("patientAddress", page)
        self.phone = _value_label("patientPhone", page)

        form = QFormLayout()
        form.addRow("MRN:", self.mrn)
        form.addRow("Date of birth:", self.birth_date)
        form.addRow("Sex:", self.sex)
        form.addRow("Address:", self.address)
        form.addRow("Phone:", self.phone)

        self.policy_model = PolicyTableModel(self)
        self.policies = configure_table(QTableView(page), "patientPolicies", "Insurance policies")
        self.policies.setModel(self.policy_model)
        policies_label = QLabel("&Insurance policies:", page)
        policies_label.setBuddy(self.policies)
        self.no_policies = QLabel("No insurance on file (self-pay).", page)
        self.no_policies.setObjectName("patientNoPolicies")

        layout = QVBoxLayout(page)
        layout.addWidget(self.name)
        layout.addLayout(form)
        layout.addWidget(policies_label)
        layout.addWidget(self.no_policies)
        layout.addWidget(self.policies, 1)
        self._stack.addWidget(page)
        self._page = page

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._stack)
        self.setFocusProxy(self.policies)

    def show_message(self, text: str) -> None:
        self.patient = None
        self.message.setText(text)
        self._stack.setCurrentWidget(self.message)

    def show_patient(self, patient: PatientDetail) -> None:
        self.patient = patient
        middle = f" {patient.middle_name}" if patient.middle_name else ""
        self.name.setText(f"{patient.last_name}, {patient.first_name}{middle}")
        self.mrn.setText(patient.mrn)
        self.birth_date.setText(us_date(patient.birth_date))
        self.sex.setText(SEX_LABELS.get(patient.sex, str(patient.sex)))
        street = ", ".join(part for part in (patient.address1, patient.address2) if part)
        self.address.setText(f"{street}\n{patient.city}, {patient.state} {patient.zip_code}")
        self.phone.setText(patient.phone or "—")
        self.policy_model.set_policies(patient.policies)
        self.no_policies.setVisible(not patient.policies)
        self.policies.setVisible(bool(patient.policies))
        self._stack.setCurrentWidget(self._page)
        self.patientShown.emit(patient.id)
