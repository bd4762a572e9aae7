"""Registering a new patient, or correcting one, with the existing record offered when already on file.

    dialog = RegisterPatientDialog(services, actor, today)
    dialog.registered.connect(lookup.open_patient)
    dialog.openExisting.connect(lookup.open_patient)

    editor = RegisterPatientDialog(services, actor, today, patient=detail)   # prefilled
    editor.updated.connect(lookup.open_patient)

Every rule is the service's: the dialog shows the findings next to the form and, when
the same name and date of birth are on file, offers to open that patient instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import Sex
from infusion_desk.services.concurrency import ChangedElsewhere
from infusion_desk.services.errors import PossibleDuplicate, ValidationFailed
from infusion_desk.ui.conflicts import offer_reload
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services
    from infusion_desk.services.patients import PatientDetail

FIELDS = (
    ("first_name", "&First name"),
    ("middle_name", "M&iddle name"),
    ("last_name", "&Last name"),
    ("birth_date", "Date of &birth (MM/DD/YYYY)"),
    ("address1", "&Address"),
    ("address2", "Address line &2"),
    ("city", "Cit&y"),
    ("state", "S&tate"),
    ("zip_code", "&ZIP"),
    ("phone", "P&hone"),
    ("member_id", "&Member ID (to find duplicates)"),
    ("guarantor_name", "&Guarantor (empty if self)"),
    ("guarantor_relationship", "Guarantor's &relationship"),
    ("guarantor_phone", "Guarantor's phone"),
)


class RegisterPatientDialog(QDialog):
    registered = Signal(int)
    updated = Signal(int)
    """Edit mode: the patient's corrections were saved."""
    openExisting = Signal(int)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        today: Callable[[], date],
        parent: QWidget | None = None,
        patient: PatientDetail | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("editPatientDialog" if patient is not None else "registerPatientDialog")
        self.setWindowTitle("Edit patient" if patient is not None else "New patient")
        self._services, self._actor, self._today = services, actor, today
        self.patient = patient
        self._runner = TaskRunner(self)
        self.fields: dict[str, QLineEdit] = {}
        form = QFormLayout()
        for name, label in FIELDS:
            edit = QLineEdit()
            edit.setObjectName(f"reg_{name}")
            self.fields[name] = edit
            caption = QLabel(label)
            caption.setBuddy(edit)
            form.addRow(caption, edit)
        self.sex = QComboBox()
        self.sex.setObjectName("reg_sex")
        for value, text in ((Sex.FEMALE, "Female"), (Sex.MALE, "Male"), (Sex.UNKNOWN, "Unknown")):
            self.sex.addItem(text, value)
        sex_caption = QLabel("&Sex")
        sex_caption.setBuddy(self.sex)
        form.insertRow([name for name, _ in FIELDS].index("birth_date") + 1, sex_caption, self.sex)
        self.error = QLabel("")
        self.error.setObjectName("regError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        self.duplicates = QListWidget()
        self.duplicates.setObjectName("regDuplicates")
        self.duplicates.setAccessibleName("Possible duplicate patients")
        self.duplicates.hide()
        self.open_existing = QPushButton("&Open the existing patient")
        self.open_existing.setObjectName("regOpenExisting")
        self.save_anyway = QPushButton("Save as a &different person")
        self.save_anyway.setObjectName("regSaveAnyway")
        self.save_button = QPushButton("&Save")
        self.save_button.setObjectName("regSave")
        self.save_button.setDefault(True)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.open_existing)
        buttons.addWidget(self.save_anyway)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        self.open_existing.hide()
        self.save_anyway.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.duplicates)
        layout.addLayout(buttons)
        self.save_button.clicked.connect(lambda: self.save(allow_duplicate=False))
        self.save_anyway.clicked.connect(lambda: self.save(allow_duplicate=True))
        self.open_existing.clicked.connect(self._open_existing)
        self.conflict: QMessageBox | None = None
        if patient is not None:
            self._prefill(patient)
            # Duplicate search by member ID is for new registrations; policies are edited on their own.
            form.setRowVisible(self.fields["member_id"], False)
        pin_minimum_size(self)

    def _prefill(self, patient: PatientDetail) -> None:
        values = {
            "first_name": patient.first_name,
            "middle_name": patient.middle_name,
            "last_name": patient.last_name,
            "birth_date": us_date(patient.birth_date),
            "address1": patient.address1,
            "address2": patient.address2,
            "city": patient.city,
            "state": patient.state,
            "zip_code": patient.zip_code,
            "phone": patient.phone,
            "guarantor_name": patient.guarantor_name,
            "guarantor_relationship": patient.guarantor_relationship,
            "guarantor_phone": patient.guarantor_phone,
        }
        for name, value in values.items():
            self.fields[name].setText(value or "")
        self.sex.setCurrentIndex(self.sex.findData(patient.sex))

    def reload(self) -> None:
        """Show the patient as saved now (after someone else's change), dropping what was typed."""
        assert self.patient is not None
        actor, patient_id, patients = self._actor, self.patient.id, self._services.patients
        self._runner.run(lambda: patients.get(actor, patient_id), self._reloaded, self._failed)

    def _reloaded(self, patient: PatientDetail) -> None:
        self.patient = patient
        self._prefill(patient)
        self._show("Reloaded: this is the patient as saved now. Make your change again and save.", None)

    def save(self, *, allow_duplicate: bool) -> None:
        from infusion_desk.services.patients import PatientInput

        text = {name: edit.text().strip() for name, edit in self.fields.items()}
        try:
            born = datetime.strptime(text["birth_date"], "%m/%d/%Y").date()  # noqa: DTZ007 - a date
        except ValueError:
            self._show("Date of birth: use MM/DD/YYYY, for example 03/14/1956.", "birth_date")
            return
        data = PatientInput(
            first_name=text["first_name"],
            middle_name=text["middle_name"] or None,
            last_name=text["last_name"],
            birth_date=born,
            sex=Sex(self.sex.currentData()),
            address1=text["address1"],
            address2=text["address2"] or None,
            city=text["city"],
            state=text["state"].upper(),
            zip_code=text["zip_code"],
            phone=text["phone"] or None,
            guarantor_name=text["guarantor_name"] or None,
            guarantor_relationship=text["guarantor_relationship"] or None,
            guarantor_phone=text["guarantor_phone"] or None,
        )
        actor, today, patients = self._actor, self._today(), self._services.patients
        if self.patient is not None:
            patient_id, version = self.patient.id, self.patient.version
            self._runner.run(
                lambda: patients.update_patient(
                    actor, patient_id, data, today, allow_duplicate=allow_duplicate, expected_version=version
                ),
                self._updated,
                self._failed,
            )
            return
        member_ids = (text["member_id"],) if text["member_id"] else ()
        self._runner.run(
            lambda: patients.register(
                actor, data, today, member_ids=member_ids, allow_duplicate=allow_duplicate
            ),
            self._saved,
            self._failed,
        )

    def _saved(self, patient_id: Any) -> None:
        self.registered.emit(int(patient_id))
        self.accept()

    def _updated(self, patient_id: Any) -> None:
        self.updated.emit(int(patient_id))
        self.accept()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, PossibleDuplicate):
            self.duplicates.clear()
            for match in exc.matches:
                self.duplicates.addItem(
                    f"{match.display_name} — {match.mrn} — born {us_date(match.birth_date)}"
                )
                item = self.duplicates.item(self.duplicates.count() - 1)
                item.setData(Qt.ItemDataRole.UserRole, match.id)
            self.duplicates.setCurrentRow(0)
            self.duplicates.show()
            self.open_existing.show()
            self.save_anyway.show()
            self._show(str(exc), None)
            self.open_existing.setFocus()
        elif isinstance(exc, ValidationFailed):
            first = exc.findings[0].subject if exc.findings else None
            self._show("\n".join(f.message for f in exc.findings), first)
        elif isinstance(exc, ChangedElsewhere):
            self._show(str(exc), None)
            self.conflict = offer_reload(self, exc, self.reload)
        else:
            show_error(self, exc)

    def _open_existing(self) -> None:
        item = self.duplicates.currentItem()
        if item is not None:
            self.openExisting.emit(int(item.data(Qt.ItemDataRole.UserRole)))
            self.accept()

    def _show(self, message: str, field: str | None) -> None:
        self.error.setText(message)
        if field in self.fields:
            self.fields[field].setFocus()
        grow_to_fit(self)
