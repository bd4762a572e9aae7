"""Clinic settings: the clinic's name, identifiers and address as they appear on claims.

The form only collects text; :meth:`ClinicService.update_details` checks it. Each finding
it returns is shown under the field it names, and the first such field gets the focus.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.clinic import ClinicDetails
from infusion_desk.services.errors import ENVIRONMENT_ERRORS, ServiceError, ValidationFailed
from infusion_desk.ui import code_help
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.field_findings import finding_text, place_findings
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.billing.findings import Finding

# (ClinicDetails attribute, label with its Alt mnemonic), in tab order.
FIELDS: tuple[tuple[str, str], ...] = (
    ("name", "Clinic &name"),
    ("npi", "NP&I"),
    ("tin", "&TIN (EIN)"),
    ("taxonomy", "Ta&xonomy code"),
    ("address1", "&Address"),
    ("address2", "Address line &2"),
    ("city", "&City"),
    ("state", "Stat&e"),
    ("zip_code", "&ZIP code"),
    ("phone", "&Phone"),
)
_OPTIONAL = {"address2", "phone"}


class SettingsDialog(QDialog):
    loaded = Signal()
    """The clinic's current details are in the form."""
    findingsShown = Signal()
    """A save was refused and its findings are on screen."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("settingsDialog")
        self.setWindowTitle("Clinic settings")
        self._services = services
        self._actor = actor
        self._runner = TaskRunner(self)
        self._current: ClinicDetails | None = None
        self.saved: ClinicDetails | None = None

        self.fields: dict[str, QLineEdit] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label_text in FIELDS:
            field = QLineEdit(self)
            field.setObjectName(f"{key}Field")
            field.setToolTip(code_help.CODE_HELP.get(key, ""))  # npi, tin, taxonomy
            field.textEdited.connect(lambda _text, key=key: self._clear_error(key))
            error = QLabel(self)
            error.setObjectName(f"{key}Error")
            error.setWordWrap(True)
            error.hide()
            cell = QVBoxLayout()
            cell.setSpacing(2)
            cell.addWidget(field)
            cell.addWidget(error)
            label = QLabel(label_text + ":", self)
            label.setBuddy(field)
            form.addRow(label, cell)
            self.fields[key] = field
            self.errors[key] = error

        self.message = QLabel("Loading the clinic's details…", self)
        self.message.setObjectName("settingsMessage")
        self.message.setWordWrap(True)

        self.save_button = QPushButton("&Save", self)
        self.save_button.setObjectName("settingsSave")
        self.save_button.setDefault(True)
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        cancel = QPushButton("Cancel", self)
        cancel.setObjectName("settingsCancel")
        cancel.setAutoDefault(False)
        cancel.clicked.connect(self.reject)
        QShortcut(QKeySequence.StandardKey.Save, self, self.save)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)

        order = [self.fields[key] for key, _ in FIELDS] + [self.save_button, cancel]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)
        self._set_editable(False)
        self.resize(520, self.sizeHint().height())
        pin_minimum_size(self)
        self._load()

    def _set_editable(self, editable: bool) -> None:
        for field in self.fields.values():
            field.setReadOnly(not editable)
        self.save_button.setEnabled(editable)

    def _load(self) -> None:
        self._runner.run(self._services.clinic.details, self._fill, self._load_failed)

    def _fill(self, details: ClinicDetails | None) -> None:
        self._current = details
        if details is not None:
            for key, field in self.fields.items():
                field.setText(getattr(details, key) or "")
        self.message.setText(
            "" if details is not None else "No clinic is set up yet: enter its details and save."
        )
        self._set_editable(True)
        self.fields["name"].setFocus(Qt.FocusReason.OtherFocusReason)
        self.loaded.emit()

    def _load_failed(self, exc: Exception) -> None:
        self.message.setText(describe(exc))
        if isinstance(exc, ENVIRONMENT_ERRORS):
            show_error(self, exc, retry=self._load)
        elif not isinstance(exc, ServiceError):
            show_error(self, exc)

    def details(self) -> ClinicDetails:
        """What the form says, on top of what was loaded (the demo flag, place of service)."""
        values = {key: field.text() for key, field in self.fields.items()}
        for key in _OPTIONAL:
            values[key] = values[key].strip() or None  # type: ignore[assignment]
        if self._current is None:
            return ClinicDetails(**values)  # type: ignore[arg-type]
        return replace(self._current, **values)  # type: ignore[arg-type]

    def save(self) -> None:
        if not self.save_button.isEnabled():
            return  # still loading, or a save is already on its way
        data = self.details()
        self._clear_findings()
        self._set_editable(False)
        self.message.setText("Saving…")
        services, actor = self._services, self._actor
        self._runner.run(
            lambda: services.clinic.update_details(actor, data),
            lambda _none: self._saved(data),
            self._save_failed,
        )

    def _saved(self, data: ClinicDetails) -> None:
        self.saved = data
        self.message.clear()
        self.accept()

    def _save_failed(self, exc: Exception) -> None:
        self._set_editable(True)
        if isinstance(exc, ValidationFailed):
            self.show_findings(exc.findings)
            return
        self.message.setText(describe(exc))
        if isinstance(exc, ENVIRONMENT_ERRORS):
            show_error(self, exc, retry=self.save)
        elif not isinstance(exc, ServiceError):
            show_error(self, exc)

    def show_findings(self, findings: tuple[Finding, ...]) -> None:
        keys, elsewhere = place_findings(findings, self.fields, self.errors)
        count = sum(1 for f in findings if f.blocks)
        summary = f"Not saved: {count} thing{'s' if count != 1 else ''} to fix."
        self.message.setText("\n".join([summary, *(finding_text(f) for f in elsewhere)]))
        first = next((key for key, _ in FIELDS if key in keys), None)
        if first is not None:
            self.fields[first].setFocus(Qt.FocusReason.OtherFocusReason)
            self.fields[first].selectAll()
        grow_to_fit(self)
        self.findingsShown.emit()

    def _clear_error(self, key: str) -> None:
        self.errors[key].clear()
        self.errors[key].hide()
        self.fields[key].setAccessibleDescription("")

    def _clear_findings(self) -> None:
        for key in self.fields:
            self._clear_error(key)
