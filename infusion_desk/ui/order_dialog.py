"""The physician order form: drug, dose and today's dose, frequency, doses, diagnoses, provider, dates.

Every rule (billable diagnoses, dose a number, dates in order, at most 12 diagnoses) is the
service's; its findings are shown under the form and the fields they name are marked.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from infusion_desk.billing.icd10 import Diagnosis
from infusion_desk.models.enums import DoseBasis
from infusion_desk.services.clinic import DrugChoice, OrderInput
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.orders import (
    Measurements,
    OrderService,
    OrderSummary,
    ProviderChoice,
    describe_dose,
)
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.icd_picker import IcdPicker
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

BASIS_LABELS = {DoseBasis.FIXED: "fixed dose", DoseBasis.PER_KG: "per kg", DoseBasis.PER_M2: "per m²"}
DOSE_UNITS = ("mg", "g", "mcg", "units", "mL")


def parse_date(text: str, label: str) -> date | None:
    """A date typed MM/DD/YYYY, None when empty; ValueError naming the field otherwise."""
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007 - a date
    except ValueError:
        raise ValueError(f"{label}: use MM/DD/YYYY, for example 01/01/2026.") from None


@dataclass(frozen=True, slots=True)
class _FormData:
    drugs: list[DrugChoice]
    providers: list[ProviderChoice]
    measured: Measurements


class OrderDialog(QDialog):
    saved = Signal(int)  # the order's id

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        order: OrderSummary | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("orderDialog")
        self.setWindowTitle("Edit order" if order else "New physician order")
        self._services, self._actor, self._patient_id, self._order = services, actor, patient_id, order
        self._orders = OrderService(services.db)
        self._measured = Measurements()
        self._runner = TaskRunner(self)
        self.loaded = False
        form = QFormLayout(self)
        self.drug = QComboBox()
        self.drug.setObjectName("orderDrug")
        self.drug.setEditable(True)
        self.drug.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        completer = QCompleter(self.drug.model(), self.drug)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.drug.setCompleter(completer)
        self.dose = QLineEdit()
        self.dose.setObjectName("orderDose")
        self.unit = QComboBox()
        self.unit.setObjectName("orderDoseUnit")
        self.unit.setEditable(True)
        self.unit.addItems(DOSE_UNITS)
        self.basis = QComboBox()
        self.basis.setObjectName("orderDoseBasis")
        for basis in DoseBasis:
            self.basis.addItem(BASIS_LABELS[basis], basis)
        self.preview = QLabel("")
        self.preview.setObjectName("orderDosePreview")
        self.frequency = QLineEdit()
        self.frequency.setObjectName("orderFrequency")
        self.frequency.setPlaceholderText("every 8 weeks")
        self.doses = QLineEdit()
        self.doses.setObjectName("orderDoses")
        self.doses.setPlaceholderText("number of doses, empty if open")
        self.provider = QComboBox()
        self.provider.setObjectName("orderProvider")
        self.start = QLineEdit(us_date(today_local()))
        self.start.setObjectName("orderStart")
        self.start.setPlaceholderText("MM/DD/YYYY")
        self.expiry = QLineEdit()
        self.expiry.setObjectName("orderExpiry")
        self.expiry.setPlaceholderText("MM/DD/YYYY, empty if none")
        orders, actor_ = self._orders, actor
        self.diagnoses = IcdPicker(lambda text: orders.search_diagnoses(actor_, text))
        for label, widget in (
            ("&Drug", self.drug),
            ("D&ose", self.dose),
            ("&Unit", self.unit),
            ("&Basis", self.basis),
            ("Today's dose", self.preview),
            ("&Frequency", self.frequency),
            ("&Number of doses", self.doses),
            ("Ordering &provider", self.provider),
            ("&Start", self.start),
            ("E&xpiry", self.expiry),
            ("Dia&gnoses (ICD-10-CM)", self.diagnoses),
        ):
            form.addRow(label, widget)
        label = form.labelForField(self.diagnoses)
        if isinstance(label, QLabel):
            label.setBuddy(self.diagnoses.search_box)
        self.error = QLabel("")
        self.error.setObjectName("orderError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(False)
        form.addRow(self.buttons)
        self._fields: dict[str, QWidget] = {
            "drug_id": self.drug,
            "dose_amount": self.dose,
            "dose_unit": self.unit,
            "frequency": self.frequency,
            "doses_ordered": self.doses,
            "ordering_provider_id": self.provider,
            "start_date": self.start,
            "end_date": self.expiry,
            "diagnoses": self.diagnoses.search_box,
        }
        for signal in (self.dose.textChanged, self.unit.currentTextChanged):
            signal.connect(self._update_preview)
        self.basis.currentIndexChanged.connect(self._update_preview)
        if order is not None:
            self._fill(order)
        pin_minimum_size(self)
        self._runner.run(self._load, self._loaded, lambda exc: show_error(self, exc))

    def _load(self) -> _FormData:
        actor = self._actor
        return _FormData(
            self._services.clinic.drugs(actor),
            self._orders.providers(actor),
            self._orders.measurements(actor, self._patient_id),
        )

    def _loaded(self, data: _FormData) -> None:
        chosen_drug = self._order.drug_id if self._order else None
        chosen_provider = self._order.provider_id if self._order else None
        for drug in data.drugs:
            self.drug.addItem(drug.label, drug.id)
        for provider in data.providers:
            self.provider.addItem(f"{provider.name} (NPI {provider.npi})", provider.id)
        self._pick_data(self.drug, chosen_drug)
        self._pick_data(self.provider, chosen_provider)
        self._measured = data.measured
        self._update_preview()
        self.buttons.button(QDialogButtonBox.StandardButton.Save).setEnabled(True)
        self.loaded = True

    @staticmethod
    def _pick_data(combo: QComboBox, value: int | None) -> None:
        index = combo.findData(value) if value is not None else -1
        combo.setCurrentIndex(index if index >= 0 else (0 if combo.count() else -1))

    def _fill(self, order: OrderSummary) -> None:
        self.dose.setText(format(order.dose_amount.normalize(), "f"))
        self.unit.setCurrentText(order.dose_unit)
        self.basis.setCurrentIndex(self.basis.findData(order.dose_basis))
        self.frequency.setText(order.frequency)
        self.doses.setText("" if order.doses_ordered is None else str(order.doses_ordered))
        self.start.setText(us_date(order.start_date))
        self.expiry.setText(us_date(order.end_date))
        self.diagnoses.set_diagnoses([Diagnosis(d.code, d.description) for d in order.diagnoses])

    def _basis(self) -> DoseBasis:
        return DoseBasis(self.basis.currentData())

    def _update_preview(self, *_args: Any) -> None:
        try:
            amount = Decimal(self.dose.text().strip())
        except InvalidOperation:
            self.preview.setText("")
            return
        text = describe_dose(amount, self.unit.currentText().strip() or "mg", self._basis(), self._measured)
        self.preview.setText(text or f"{format(amount.normalize(), 'f')} {self.unit.currentText()} (fixed)")

    def _drug_id(self) -> int | None:
        # An editable combo keeps what was typed: only an exact catalog entry counts.
        index = self.drug.findText(self.drug.currentText())
        return self.drug.itemData(index) if index >= 0 else None

    def save(self) -> None:
        self._clear_marks()
        try:
            start = parse_date(self.start.text(), "start_date")
            end = parse_date(self.expiry.text(), "end_date")
        except ValueError as exc:
            self._show([(str(exc).split(":")[0], str(exc))])
            return
        if start is None:
            self._show([("start_date", "Start date is required.")])
            return
        doses_text = self.doses.text().strip()
        if doses_text and not doses_text.isdigit():
            self._show([("doses_ordered", "Number of doses must be a whole number.")])
            return
        drug_id = self._drug_id()
        if drug_id is None:
            self._show([("drug_id", "Choose a drug from the catalog.")])
            return
        data = OrderInput(
            patient_id=self._patient_id,
            drug_id=drug_id,
            ordering_provider_id=self.provider.currentData(),
            dose_amount=self.dose.text(),
            dose_unit=self.unit.currentText().strip(),
            dose_basis=self._basis(),
            frequency=self.frequency.text(),
            start_date=start,
            diagnoses=self.diagnoses.codes(),
            end_date=end,
            doses_ordered=int(doses_text) if doses_text else None,
        )
        actor, orders, order = self._actor, self._orders, self._order
        if order is None:
            self._runner.run(lambda: orders.create(actor, data), self._saved, self._failed)
        else:
            self._runner.run(
                lambda: (orders.update(actor, order.id, data), order.id)[1], self._saved, self._failed
            )

    def _saved(self, order_id: int) -> None:
        self.saved.emit(order_id)
        self.accept()

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, ValidationFailed):
            self._show([(f.subject, f.message) for f in exc.findings])
        else:
            show_error(self, exc)

    def _clear_marks(self) -> None:
        for widget in self._fields.values():
            set_tone(widget, None)
            widget.setToolTip("")

    def _show(self, problems: list[tuple[str, str]]) -> None:
        for subject, message in problems:
            widget = self._fields.get(subject.split("[")[0])
            if widget is not None:
                set_tone(widget, ERROR, "border: 1px solid {colour};", text=False)
                widget.setToolTip(message)
        self.error.setText("\n".join(message for _subject, message in problems))
        first = next(
            (self._fields.get(s.split("[")[0]) for s, _ in problems if s.split("[")[0] in self._fields), None
        )
        if first is not None:
            first.setFocus()
        grow_to_fit(self)
