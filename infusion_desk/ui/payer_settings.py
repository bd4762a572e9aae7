"""Per-payer coding choices (JW/JZ, biologics, modifiers) and 835 posting, as a small form.

    PayerSettingsDialog(services, manager).open()

The choices are data stored with each payer; the coding engine reads them, so changing a
payer's policy never needs a new version of the program.
"""

from __future__ import annotations

from typing import Any

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

from infusion_desk.models.enums import EraPosting, PayerType
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.windowing import pin_minimum_size

CHOICES: dict[str, tuple[tuple[str, str], ...]] = {
    "complex_biologic_admin": (
        ("chemo", "Chemotherapy administration codes (96413...)"),
        ("therapeutic", "Therapeutic infusion codes (96365...)"),
    ),
    "waste_modifiers": (
        ("jw_jz", "JW for waste, JZ when none (Medicare)"),
        ("jw", "JW for waste only"),
        ("none", "Neither JW nor JZ"),
    ),
    "separate_site_modifier": (("XU", "XU"), ("59", "59"), ("XS", "XS"), ("XP", "XP")),
    "separate_encounter_modifier": (("XE", "XE"), ("59", "59")),
}
ERA_CHOICES: tuple[tuple[str, str], ...] = (
    (EraPosting.REVIEW.value, "After a biller reviews each remittance"),
    (EraPosting.MATCHED.value, "At once when every claim and line matched"),
    (EraPosting.ALL.value, "At once; what does not match waits for review"),
)
LABELS = {
    "complex_biologic_admin": "Complex &biologics billed with",
    "waste_modifiers": "&Waste modifiers",
    "separate_site_modifier": "Second IV &site modifier",
    "separate_encounter_modifier": "Second &encounter modifier",
}


class PayerSettingsDialog(QDialog):
    saved = Signal(int)

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("payerSettingsDialog")
        self.setWindowTitle("Payer coding settings")
        self._services = services
        self._actor = actor
        self._runner = TaskRunner(self)
        form = QFormLayout(self)
        self.payer_combo = QComboBox()
        self.payer_combo.setObjectName("payerCombo")
        form.addRow("&Payer", self.payer_combo)
        self.combos: dict[str, QComboBox] = {}
        for key, options in CHOICES.items():
            combo = QComboBox()
            combo.setObjectName(key)
            for value, text in options:
                combo.addItem(text, value)
            self.combos[key] = combo
            form.addRow(LABELS[key], combo)
        self.protocol_check = QCheckBox("Bill hydration that a drug's protocol requires")
        self.protocol_check.setObjectName("bill_protocol_hydration")
        self.vehicle_check = QCheckBox("Bill the fluid bag that only carries a drug")
        self.vehicle_check.setObjectName("bill_vehicle_fluid")
        self.chemo_codes_edit = QLineEdit()
        self.chemo_codes_edit.setObjectName("chemo_admin_hcpcs")
        self.chemo_codes_edit.setPlaceholderText("e.g. J2350 J1745")
        self.chemo_codes_edit.setToolTip("Drugs this payer pays with chemotherapy administration codes")
        self.therapeutic_codes_edit = QLineEdit()
        self.therapeutic_codes_edit.setObjectName("therapeutic_admin_hcpcs")
        self.therapeutic_codes_edit.setPlaceholderText("e.g. J2323")
        self.therapeutic_codes_edit.setToolTip("Drugs this payer pays only with therapeutic infusion codes")
        form.addRow("Always &chemo codes for", self.chemo_codes_edit)
        form.addRow("Always t&herapeutic codes for", self.therapeutic_codes_edit)
        form.addRow(self.protocol_check)
        form.addRow(self.vehicle_check)
        self.era_combo = QComboBox()
        self.era_combo.setObjectName("era_posting")
        for value, text in ERA_CHOICES:
            self.era_combo.addItem(text, value)
        form.addRow("835 payments &posted", self.era_combo)
        self.status = QLabel("")
        self.status.setObjectName("payerSettingsStatus")
        form.addRow(self.status)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Close
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.payer_combo.currentIndexChanged.connect(self._load_current)
        pin_minimum_size(self)
        self._runner.run(lambda: services.clinic.payers(actor), self._fill_payers, self._error)

    def _fill_payers(self, payers: list[tuple[int, str, PayerType]]) -> None:
        for payer_id, name, payer_type in payers:
            self.payer_combo.addItem(f"{name} ({payer_type.value})", payer_id)

    def _load_current(self) -> None:
        payer_id = self.payer_combo.currentData()
        if payer_id is None:
            return
        actor, clinic = self._actor, self._services.clinic
        self._runner.run(
            lambda: (
                clinic.payer_coding_settings(actor, payer_id),
                clinic.payer_era_posting(actor, payer_id),
            ),
            lambda value: self._show(*value),
            self._error,
        )

    def _show(self, settings: dict[str, Any], era_posting: EraPosting = EraPosting.REVIEW) -> None:
        self.era_combo.setCurrentIndex(max(0, self.era_combo.findData(era_posting.value)))
        for key, combo in self.combos.items():
            combo.setCurrentIndex(max(0, combo.findData(settings[key])))
        self.protocol_check.setChecked(bool(settings["bill_protocol_hydration"]))
        self.vehicle_check.setChecked(bool(settings["bill_vehicle_fluid"]))
        self.chemo_codes_edit.setText(" ".join(settings["chemo_admin_hcpcs"]))
        self.therapeutic_codes_edit.setText(" ".join(settings["therapeutic_admin_hcpcs"]))
        self.status.setText("")

    def save(self) -> None:
        payer_id = self.payer_combo.currentData()
        if payer_id is None:
            return
        changes: dict[str, object] = {key: combo.currentData() for key, combo in self.combos.items()}
        changes["bill_protocol_hydration"] = self.protocol_check.isChecked()
        changes["bill_vehicle_fluid"] = self.vehicle_check.isChecked()
        changes["chemo_admin_hcpcs"] = self.chemo_codes_edit.text().upper().replace(",", " ").split()
        changes["therapeutic_admin_hcpcs"] = (
            self.therapeutic_codes_edit.text().upper().replace(",", " ").split()
        )
        actor, clinic = self._actor, self._services.clinic
        era_posting = self.era_combo.currentData()

        def done(_result: Any) -> None:
            self.status.setText("Saved. New coding and new remittances use these settings.")
            self.saved.emit(payer_id)

        def save() -> None:
            clinic.set_payer_coding_settings(actor, payer_id, changes)
            clinic.set_payer_era_posting(actor, payer_id, era_posting)

        self._runner.run(save, done, self._error)

    def _error(self, exc: Exception) -> None:
        show_error(self, exc)
