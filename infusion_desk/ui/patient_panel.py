"""The opened patient: demographics, insurance policies and attachments, and the edits made from them.

    panel = PatientPanel()
    panel.show_patient(services.patients.get(actor, patient_id))
    panel.set_services(services, actor)     # enables Edit patient…, policy edits and attachments

Whoever opens the patient fetches the record. With services set, the panel edits the
patient (Edit patient…), edits, reorders (Ctrl+Up / Ctrl+Down) and terminates policies,
and keeps attachments; after a saved change it reloads the record itself and emits
``patientChanged``. Policies not in force on the day are greyed and marked.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QAction, QFont, QKeySequence, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Permission
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.patients import PatientDetail, PolicySummary
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import RANK_LABELS, SEX_LABELS, today_local, us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services
    from infusion_desk.ui.attachments_panel import AttachmentsPanel
    from infusion_desk.ui.policy_dialog import PolicyDialog
    from infusion_desk.ui.registration import RegisterPatientDialog

_Index = QModelIndex | QPersistentModelIndex


def policy_status(policy: PolicySummary, today: date) -> str:
    if policy.in_force:
        return "In force"
    if policy.termination_date is not None and policy.termination_date < today:
        return "Terminated"
    return f"Starts {us_date(policy.effective_date)}"


def _columns(today: Callable[[], date]) -> tuple[Column[PolicySummary], ...]:
    return (
        ("Rank", lambda p: RANK_LABELS.get(p.rank, str(p.rank))),
        ("Payer", lambda p: p.payer_name),
        ("Member ID", lambda p: p.member_id),
        ("Group", lambda p: p.group_number or ""),
        ("Effective", lambda p: us_date(p.effective_date)),
        ("Termination", lambda p: us_date(p.termination_date) or "open"),
        ("Filing (SBR09)", lambda p: p.claim_filing_indicator or ""),
        ("Status", lambda p: policy_status(p, today())),
    )


POLICY_COLUMNS: tuple[Column[PolicySummary], ...] = _columns(today_local)


class PolicyTableModel(RowTableModel[PolicySummary]):
    """A patient's insurance policies (a short list, replaced whenever a patient opens).

    Policies not in force are drawn in the palette's disabled colour.
    """

    def __init__(self, parent: QWidget | None = None, today: Callable[[], date] = today_local) -> None:
        super().__init__(_columns(today), parent)

    def set_policies(self, policies: tuple[PolicySummary, ...]) -> None:
        self.set_rows(policies)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.ForegroundRole and index.isValid() and 0 <= index.row() < self.rowCount():
            if not self.row(index.row()).in_force:
                return QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text)
            return None
        return super().data(index, role)


def _value_label(name: str, parent: QWidget) -> QLabel:
    label = QLabel(parent)
    label.setObjectName(name)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class TerminatePolicyDialog(QDialog):
    """Ask for the policy's last covered day and terminate it through the service."""

    terminated = Signal(int)  # the patient's id

    def __init__(
        self,
        services: Services,
        actor: Actor,
        policy: PolicySummary,
        today: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("terminatePolicyDialog")
        self.setWindowTitle("Terminate policy")
        self._services, self._actor, self._policy = services, actor, policy
        self._runner = TaskRunner(self)
        intro = QLabel(
            f"{RANK_LABELS.get(policy.rank, policy.rank)} policy {policy.payer_name}, member "
            f"{policy.member_id}. It stays on file for claims of earlier visits, but is no longer "
            "offered for visits after this date."
        )
        intro.setWordWrap(True)
        self.date = QLineEdit(us_date(today))
        self.date.setObjectName("terminationDate")
        self.date.setPlaceholderText("MM/DD/YYYY")
        self.date.selectAll()
        self.error = QLabel("")
        self.error.setObjectName("terminateError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("&Terminate")
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow(intro)
        caption = QLabel("&Last covered day")
        caption.setBuddy(self.date)
        form.addRow(caption, self.date)
        form.addRow(self.error)
        form.addRow(self.buttons)
        pin_minimum_size(self)

    def save(self) -> None:
        try:
            day = datetime.strptime(self.date.text().strip(), "%m/%d/%Y").date()  # noqa: DTZ007 - a date
        except ValueError:
            self._show("Last covered day: use MM/DD/YYYY, for example 06/30/2026.")
            return
        patients, actor, policy_id = self._services.patients, self._actor, self._policy.id
        self._runner.run(lambda: patients.terminate_policy(actor, policy_id, day), self._done, self._failed)

    def _done(self, patient_id: Any) -> None:
        self.terminated.emit(int(patient_id))
        self.accept()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            self._show(describe(exc))
        else:
            show_error(self, exc)

    def _show(self, message: str) -> None:
        self.error.setText(message)
        grow_to_fit(self)


class PatientPanel(QWidget):
    """Shows one :class:`PatientDetail`, or a hint when no patient is open."""

    patientShown = Signal(int)
    patientChanged = Signal(int)
    """A change saved from the panel (patient, policy or attachment); emitted once it is reloaded."""

    def __init__(
        self,
        parent: QWidget | None = None,
        services: Services | None = None,
        actor: Actor | None = None,
        today: Callable[[], date] = today_local,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientPanel")
        self.patient: PatientDetail | None = None
        self._services: Services | None = None
        self._actor: Actor | None = None
        self._today = today
        self._runner = TaskRunner(self)
        self._select_policy: int | None = None
        self.editor: RegisterPatientDialog | None = None
        self.policy_dialog: PolicyDialog | None = None
        self.terminate_dialog: TerminatePolicyDialog | None = None
        self.attachments: AttachmentsPanel | None = None

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
        self.edit_patient_button = QPushButton("&Edit patient…", page)
        self.edit_patient_button.setObjectName("editPatientButton")
        self.edit_patient_button.setAutoDefault(False)
        self.edit_patient_button.clicked.connect(self.edit_patient)
        self.mrn = _value_label("patientMrn", page)
        self.birth_date = _value_label("patientBirthDate", page)
        self.sex = _value_label("patientSex", page)
        self.address = _value_label("patientAddress", page)
        self.phone = _value_label("patientPhone", page)
        self.guarantor = _value_label("patientGuarantor", page)

        heading = QHBoxLayout()
        heading.addWidget(self.name, 1)
        heading.addWidget(self.edit_patient_button)
        form = QFormLayout()
        form.addRow("MRN:", self.mrn)
        form.addRow("Date of birth:", self.birth_date)
        form.addRow("Sex:", self.sex)
        form.addRow("Address:", self.address)
        form.addRow("Phone:", self.phone)
        form.addRow("Guarantor:", self.guarantor)

        self.tabs = QTabWidget(page)
        self.tabs.setObjectName("patientTabs")
        insurance = QWidget(self.tabs)
        self.policy_model = PolicyTableModel(self, lambda: self._today())
        self.policies = configure_table(QTableView(insurance), "patientPolicies", "Insurance policies")
        self.policies.setModel(self.policy_model)
        policies_label = QLabel("&Insurance policies:", insurance)
        policies_label.setBuddy(self.policies)
        self.no_policies = QLabel("No insurance on file (self-pay).", insurance)
        self.no_policies.setObjectName("patientNoPolicies")

        self.edit_policy_action = self._table_action("Edit p&olicy…", None, lambda: self.edit_policy())
        self.move_up_action = self._table_action("Move &up", "Ctrl+Up", lambda: self.move_policy(-1))
        self.move_down_action = self._table_action("Move do&wn", "Ctrl+Down", lambda: self.move_policy(1))
        self.terminate_action = self._table_action("&Terminate…", None, self.terminate_policy)
        self.policies.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.policies.activated.connect(lambda _index: self.edit_policy())
        self.policy_buttons = QWidget(insurance)
        buttons = QHBoxLayout(self.policy_buttons)
        buttons.setContentsMargins(0, 0, 0, 0)
        self.edit_policy_button = self._action_button(self.edit_policy_action, "editPolicyButton")
        self.move_up_button = self._action_button(self.move_up_action, "movePolicyUpButton")
        self.move_down_button = self._action_button(self.move_down_action, "movePolicyDownButton")
        self.terminate_button = self._action_button(self.terminate_action, "terminatePolicyButton")
        for button in (
            self.edit_policy_button,
            self.move_up_button,
            self.move_down_button,
            self.terminate_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.policy_status = QLabel("", insurance)
        self.policy_status.setObjectName("policyStatus")
        self.policy_status.setWordWrap(True)
        self.policies.selectionModel().selectionChanged.connect(self._update_actions)
        self.policy_model.modelReset.connect(self._update_actions)

        insurance_layout = QVBoxLayout(insurance)
        insurance_layout.addWidget(policies_label)
        insurance_layout.addWidget(self.no_policies)
        insurance_layout.addWidget(self.policies, 1)
        insurance_layout.addWidget(self.policy_status)
        insurance_layout.addWidget(self.policy_buttons)
        self.tabs.addTab(insurance, "Insurance")

        layout = QVBoxLayout(page)
        layout.addLayout(heading)
        layout.addLayout(form)
        layout.addWidget(self.tabs, 1)
        self._stack.addWidget(page)
        self._page = page

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self._stack)
        self.setFocusProxy(self.policies)
        if services is not None and actor is not None:
            self.set_services(services, actor)
        self._update_actions()

    def _table_action(self, text: str, keys: str | None, slot: Callable[[], None]) -> QAction:
        action = QAction(text, self.policies)
        if keys:
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.policies.addAction(action)
        return action

    def _action_button(self, action: QAction, name: str) -> QPushButton:
        keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        button = QPushButton(action.text() + (f"  ({keys})" if keys else ""), self.policy_buttons)
        button.setObjectName(name)
        button.setAutoDefault(False)
        button.clicked.connect(action.trigger)
        action.enabledChanged.connect(button.setEnabled)
        button.setEnabled(action.isEnabled())
        return button

    # --- services ---------------------------------------------------------------------------

    def set_services(self, services: Services, actor: Actor) -> None:
        """Turn on the edits and the attachments tab for ``actor`` (the panel stays read-only without)."""
        from infusion_desk.ui.attachments_panel import AttachmentsPanel

        self._services, self._actor = services, actor
        if self.attachments is None:
            self.attachments = AttachmentsPanel(services, actor, self.tabs)
            self.attachments.changed.connect(self.patientChanged)
            self.tabs.addTab(self.attachments, "Atta&chments")
            if self.patient is not None:
                self.attachments.set_patient(self.patient.id)
        self._update_actions()

    def _can_edit(self) -> bool:
        return (
            self._services is not None
            and self._actor is not None
            and self._actor.can(Permission.PATIENT_EDIT)
        )

    def selected_policy(self) -> PolicySummary | None:
        index = self.policies.currentIndex()
        if not index.isValid() or not self.policies.selectionModel().isRowSelected(
            index.row(), QModelIndex()
        ):
            return None
        return self.policy_model.row(index.row())

    def _in_force_ids(self) -> list[int]:
        return [p.id for p in self.patient.policies if p.in_force] if self.patient is not None else []

    def _update_actions(self, *_args: object) -> None:
        editable = self._can_edit()
        self.edit_patient_button.setVisible(editable)
        self.policy_buttons.setVisible(editable)
        chosen = self.selected_policy() if editable else None
        in_force = self._in_force_ids()
        position = in_force.index(chosen.id) if chosen is not None and chosen.id in in_force else -1
        self.edit_policy_action.setEnabled(chosen is not None)
        self.move_up_action.setEnabled(position > 0)
        self.move_down_action.setEnabled(0 <= position < len(in_force) - 1)
        terminated = chosen is not None and policy_status(chosen, self._today()) == "Terminated"
        self.terminate_action.setEnabled(chosen is not None and not terminated)

    # --- showing ------------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.patient = None
        self.message.setText(text)
        self._stack.setCurrentWidget(self.message)
        if self.attachments is not None:
            self.attachments.set_patient(None)
        self._update_actions()

    def show_patient(self, patient: PatientDetail) -> None:
        same_patient = self.patient is not None and self.patient.id == patient.id
        self.patient = patient
        middle = f" {patient.middle_name}" if patient.middle_name else ""
        self.name.setText(f"{patient.last_name}, {patient.first_name}{middle}")
        self.mrn.setText(patient.mrn)
        self.birth_date.setText(us_date(patient.birth_date))
        self.sex.setText(SEX_LABELS.get(patient.sex, str(patient.sex)))
        street = ", ".join(part for part in (patient.address1, patient.address2) if part)
        self.address.setText(f"{street}\n{patient.city}, {patient.state} {patient.zip_code}")
        self.phone.setText(patient.phone or "—")
        guarantor = patient.guarantor_name or "Self"
        if patient.guarantor_name and patient.guarantor_relationship:
            guarantor += f" ({patient.guarantor_relationship})"
        self.guarantor.setText(guarantor)
        self.policy_model.set_policies(patient.policies)
        self.no_policies.setVisible(not patient.policies)
        self.policies.setVisible(bool(patient.policies))
        select = self._select_policy
        self._select_policy = None
        if patient.policies:
            row = next((i for i, p in enumerate(patient.policies) if p.id == select), 0)
            self.policies.selectRow(row)
        if not same_patient:
            self.policy_status.setText("")
        self._stack.setCurrentWidget(self._page)
        if self.attachments is not None:
            if same_patient:
                self.attachments.refresh()
            else:
                self.attachments.set_patient(patient.id)
        self._update_actions()
        self.patientShown.emit(patient.id)

    def reload(self, select_policy: int | None = None) -> None:
        """Fetch the open patient again (after a change) and show it, keeping the chosen policy."""
        if self.patient is None or self._services is None or self._actor is None:
            return
        patient_id, patients, actor = self.patient.id, self._services.patients, self._actor
        chosen = self.selected_policy()
        self._select_policy = select_policy if select_policy is not None else (chosen.id if chosen else None)

        def shown(detail: PatientDetail) -> None:
            if self.patient is not None and self.patient.id == patient_id:
                self.show_patient(detail)
                self.patientChanged.emit(patient_id)

        self._runner.run(lambda: patients.get(actor, patient_id), shown, lambda exc: show_error(self, exc))

    # --- edits ----------------------------------------------------------------------------------

    def edit_patient(self) -> None:
        """Open the patient's demographics and guarantor for correction."""
        from infusion_desk.ui.registration import RegisterPatientDialog

        if self.patient is None or not self._can_edit():
            return
        assert self._services is not None and self._actor is not None
        dialog = RegisterPatientDialog(self._services, self._actor, self._today, self, patient=self.patient)
        dialog.updated.connect(lambda _patient_id: self.reload())
        dialog.openExisting.connect(self._open_other)
        dialog.open()
        self.editor = dialog

    def _open_other(self, patient_id: int) -> None:
        if self._services is None or self._actor is None:
            return
        patients, actor = self._services.patients, self._actor
        self._runner.run(
            lambda: patients.get(actor, patient_id), self.show_patient, lambda e: show_error(self, e)
        )

    def edit_policy(self, policy_id: int | None = None) -> None:
        """Open a policy (the selected one, or ``policy_id``) for correction."""
        from infusion_desk.ui.policy_dialog import PolicyDialog

        if self.patient is None or not self._can_edit():
            return
        assert self._services is not None and self._actor is not None
        if policy_id is None:
            chosen = self.selected_policy()
        else:
            chosen = next((p for p in self.patient.policies if p.id == policy_id), None)
        if chosen is None:
            return
        dialog = PolicyDialog(self._services, self._actor, self.patient.id, self, policy=chosen)
        dialog.saved.connect(lambda _patient_id: self.reload(chosen.id))
        dialog.open()
        self.policy_dialog = dialog

    def move_policy(self, direction: int) -> None:
        """Move the selected policy one rank up (-1) or down (+1) among the policies in force."""
        chosen = self.selected_policy()
        if chosen is None or not self._can_edit() or self.patient is None:
            return
        in_force = self._in_force_ids()
        if chosen.id not in in_force or not 0 <= in_force.index(chosen.id) + direction < len(in_force):
            return
        assert self._services is not None and self._actor is not None
        patients, actor, day = self._services.patients, self._actor, self._today()
        self.policy_status.setText("Moving…")
        self._runner.run(
            lambda: patients.move_policy(actor, chosen.id, direction, day),
            lambda _order: self._moved(chosen),
            self._move_failed,
        )

    def _moved(self, chosen: PolicySummary) -> None:
        self.policy_status.setText("")
        self.reload(chosen.id)

    def _move_failed(self, exc: Exception) -> None:
        self.policy_status.setText(describe(exc))
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)

    def terminate_policy(self) -> None:
        """Ask for the last covered day of the selected policy and terminate it."""
        chosen = self.selected_policy()
        if chosen is None or self.patient is None or not self._can_edit():
            return
        assert self._services is not None and self._actor is not None
        dialog = TerminatePolicyDialog(self._services, self._actor, chosen, self._today(), self)
        dialog.terminated.connect(lambda _patient_id: self.reload(chosen.id))
        dialog.open()
        self.terminate_dialog = dialog
