"""The prior-authorization form: policy, optional order, codes, approved units or visits, window, status.

Choosing an order adds its drug's HCPCS code to the codes. The service checks everything
(dates in order, code shapes, approved numbers, the policy and order being the patient's);
each finding is shown under the field it names, and nothing is saved until all pass.
Units used are never typed here: they come from the visits.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import AuthorizationStatus
from infusion_desk.services.authorizations import (
    STATUS_LABELS,
    AuthorizationChoices,
    AuthorizationInput,
    AuthorizationService,
    AuthorizationSummary,
)
from infusion_desk.services.concurrency import ChangedElsewhere
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui import code_help
from infusion_desk.ui.conflicts import offer_reload
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.order_dialog import parse_date
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

_SPLIT = re.compile(r"[\s,;]+")


def _units(value: object) -> str:
    return "" if value is None else format(value, "f") if not isinstance(value, int) else str(value)


class AuthorizationDialog(QDialog):
    saved = Signal(int)  # the authorization's id

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        authorization: AuthorizationSummary | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("authorizationDialog")
        self.setWindowTitle("Edit authorization" if authorization else "New prior authorization")
        self._actor, self._patient_id, self._existing = actor, patient_id, authorization
        self._service = AuthorizationService(services.db)
        self._runner = TaskRunner(self)
        self.loaded = False
        outer = QVBoxLayout(self)
        form = QFormLayout()
        outer.addLayout(form)
        self.number = QLineEdit()
        self.number.setObjectName("authNumber")
        code_help.set_code_help(self.number, code_help.AUTHORIZATION_NUMBER)
        self.policy = QComboBox()
        self.policy.setObjectName("authPolicy")
        self.order = QComboBox()
        self.order.setObjectName("authOrder")
        self.codes = QLineEdit()
        self.codes.setObjectName("authCodes")
        code_help.set_code_help(self.codes, code_help.PROCEDURE_CODES)
        self.codes.setPlaceholderText("J1745, 96413")
        self.units = QLineEdit()
        self.units.setObjectName("authUnits")
        code_help.set_code_help(self.units, code_help.AUTHORIZED_UNITS)
        self.visits = QLineEdit()
        self.visits.setObjectName("authVisits")
        self.valid_from = QLineEdit()
        self.valid_from.setObjectName("authValidFrom")
        self.valid_from.setPlaceholderText("MM/DD/YYYY")
        self.valid_to = QLineEdit()
        self.valid_to.setObjectName("authValidTo")
        self.valid_to.setPlaceholderText("MM/DD/YYYY")
        self.status = QComboBox()
        self.status.setObjectName("authStatus")
        for status in AuthorizationStatus:
            self.status.addItem(STATUS_LABELS[status], status)
        self.status.setCurrentIndex(self.status.findData(AuthorizationStatus.APPROVED))
        self.notes = QPlainTextEdit()
        self.notes.setObjectName("authNotes")
        self.notes.setTabChangesFocus(True)
        self.notes.setMaximumHeight(70)
        self._fields: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        for subject, label, widget in (
            ("number", "Authorization &number", self.number),
            ("policy_id", "&Policy", self.policy),
            ("order_id", "&Order (optional)", self.order),
            ("codes", "&Codes (HCPCS/CPT)", self.codes),
            ("approved_units", "Approved &units", self.units),
            ("approved_visits", "Approved &visits", self.visits),
            ("valid_from", "Valid &from", self.valid_from),
            ("valid_to", "Valid &to", self.valid_to),
            ("status", "&Status", self.status),
            ("notes", "Not&es", self.notes),
        ):
            form.addRow(label, widget)
            message = QLabel("")
            message.setObjectName(f"authError_{subject}")
            message.setWordWrap(True)
            set_tone(message, ERROR)
            message.hide()
            form.addRow("", message)
            self._fields[subject] = widget
            self._errors[subject] = message
        self.error = QLabel("")
        self.error.setObjectName("authError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        outer.addWidget(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
        outer.addWidget(self.buttons)
        self.order.currentIndexChanged.connect(self._order_chosen)
        if authorization is not None:
            self._prefill(authorization)
        pin_minimum_size(self)
        service = self._service
        self._runner.run(
            lambda: service.choices(actor, patient_id), self._loaded, lambda exc: show_error(self, exc)
        )

    def _prefill(self, authorization: AuthorizationSummary) -> None:
        self.number.setText(authorization.number)
        self.codes.setText(", ".join(authorization.codes))
        self.units.setText(_units(authorization.approved_units))
        self.visits.setText(_units(authorization.approved_visits))
        self.valid_from.setText(us_date(authorization.valid_from))
        self.valid_to.setText(us_date(authorization.valid_to))
        self.status.setCurrentIndex(self.status.findData(authorization.status))
        self.notes.setPlainText(authorization.notes or "")

    def reload(self) -> None:
        """Show the authorization as saved now (after someone else's change), dropping what was typed."""
        assert self._existing is not None
        actor, service, authorization_id = self._actor, self._service, self._existing.id
        self._runner.run(lambda: service.get(actor, authorization_id), self._reloaded, self._failed)

    def _reloaded(self, authorization: AuthorizationSummary) -> None:
        self._existing = authorization
        self._prefill(authorization)
        self.policy.setCurrentIndex(max(self.policy.findData(authorization.policy_id), 0))
        self.order.setCurrentIndex(max(self.order.findData(authorization.order_id), 0))
        self.error.setText(
            "Reloaded: this is the authorization as saved now. Make your change again and save."
        )

    def _loaded(self, choices: AuthorizationChoices) -> None:
        existing = self._existing
        self.order.blockSignals(True)
        for policy in choices.policies:
            self.policy.addItem(policy.label, policy.id)
        self.order.addItem("(none)", None)
        self._order_codes: dict[int, str] = {}
        for order in choices.orders:
            self.order.addItem(order.label, order.id)
            self._order_codes[order.id] = order.hcpcs
        if existing is not None:
            self.policy.setCurrentIndex(max(self.policy.findData(existing.policy_id), 0))
            if existing.order_id is not None and self.order.findData(existing.order_id) < 0:
                self.order.addItem(existing.order or f"Order {existing.order_id}", existing.order_id)
            self.order.setCurrentIndex(max(self.order.findData(existing.order_id), 0))
        self.order.blockSignals(False)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(True)
        self.loaded = True

    def _order_chosen(self, _index: int) -> None:
        hcpcs = self._order_codes.get(self.order.currentData()) if self.order.currentData() else None
        if hcpcs is None:
            return
        codes = self._code_list()
        if hcpcs not in codes:
            self.codes.setText(", ".join([hcpcs, *codes]))

    def _code_list(self) -> list[str]:
        return [c.upper() for c in _SPLIT.split(self.codes.text().strip()) if c]

    def save(self) -> None:
        self._clear()
        problems: list[tuple[str, str]] = []
        try:
            valid_from = parse_date(self.valid_from.text(), "valid_from")
        except ValueError as exc:
            problems.append(("valid_from", str(exc)))
            valid_from = None
        try:
            valid_to = parse_date(self.valid_to.text(), "valid_to")
        except ValueError as exc:
            problems.append(("valid_to", str(exc)))
            valid_to = None
        if problems:
            self._show(problems)
            return
        data = AuthorizationInput(
            patient_id=self._patient_id,
            policy_id=self.policy.currentData(),
            number=self.number.text(),
            status=AuthorizationStatus(self.status.currentData()),
            valid_from=valid_from,
            valid_to=valid_to,
            codes=tuple(self._code_list()),
            approved_units=self.units.text(),
            approved_visits=self.visits.text(),
            order_id=self.order.currentData(),
            notes=self.notes.toPlainText(),
        )
        actor, service, existing = self._actor, self._service, self._existing
        if existing is None:
            self._runner.run(lambda: service.create(actor, data), self._saved, self._failed)
        else:
            version = existing.version
            self._runner.run(
                lambda: (service.update(actor, existing.id, data, expected_version=version), existing.id)[1],
                self._saved,
                self._failed,
            )

    def _saved(self, authorization_id: int) -> None:
        self.saved.emit(authorization_id)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationFailed):
            self._show([(f.subject, f.message) for f in exc.findings])
        elif isinstance(exc, ChangedElsewhere):
            self.error.setText(str(exc))
            self.conflict = offer_reload(self, exc, self.reload)
        else:
            show_error(self, exc)

    def _clear(self) -> None:
        self.error.setText("")
        for subject, widget in self._fields.items():
            set_tone(widget, None)
            self._errors[subject].hide()
            self._errors[subject].setText("")

    def _show(self, problems: list[tuple[str, str]]) -> None:
        general: list[str] = []
        first: QWidget | None = None
        for subject, message in problems:
            key = subject.split("[")[0]
            if key in self._fields:
                set_tone(self._fields[key], ERROR, "border: 1px solid {colour};", text=False)
                label = self._errors[key]
                label.setText("\n".join(filter(None, [label.text(), message])))
                label.show()
                first = first or self._fields[key]
            else:
                general.append(message)
        self.error.setText("\n".join(general))
        if first is not None:
            first.setFocus()
        grow_to_fit(self)
