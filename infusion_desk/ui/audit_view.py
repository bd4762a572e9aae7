"""Manager → Audit trail: who viewed, printed, exported or changed what, the chain check and the CSV export.

    view = AuditView(services, manager)
    view.refresh()

The filters narrow the list (newest first, at most :data:`~infusion_desk.services.audit.SEARCH_LIMIT`
records): **User** (Alt+U), **Patient** (Alt+T: a name, an MRN, a date of birth, or ``#`` and the
patient id), **From** / **To** (Alt+M / Alt+O, days in the clinic's time zone) and **Action**
(Alt+N); **Search** (Alt+S, or Enter in the patient field) applies them. **Verify chain**
(Alt+V) checks every record's hash and says the trail is intact or names the first record
altered or removed. **Export…** (Alt+E) writes the records the filters select, oldest first,
to a CSV file (the export is itself recorded).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing.audit_chain import ChainReport
from infusion_desk.services.audit import SEARCH_LIMIT, AuditRow, AuditService
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import local_date, local_time, today_local, us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.theme import ERROR, GOOD, set_tone

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

ChoosePath = Callable[[QWidget, str], str | None]
"""(parent, suggested file name) -> where to write the CSV, or None when cancelled."""



def ask_csv_path(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(
        parent, "Export audit trail", suggested, "CSV files (*.csv);;All files (*)"
    )
    return path or None


def _record(row: AuditRow) -> str:
    return f"{row.entity} {row.entity_id}" if row.entity_id else row.entity


COLUMNS: tuple[Column[AuditRow], ...] = (
    ("When", lambda r: f"{us_date(local_date(r.at))} {local_time(r.at)}"),
    ("User", lambda r: r.username),
    ("Action", lambda r: r.action),
    ("Record", _record),
    ("Patient", lambda r: r.patient),
    ("Detail", lambda r: r.detail),
    ("No.", lambda r: str(r.id)),
)


@dataclass(frozen=True, slots=True)
class Filters:
    """The filters as the user set them, read on the GUI thread before the worker runs."""

    user: str | None
    patient: str | None
    start: date | None
    end: date | None
    action: str | None


def _date_edit(parent: QWidget, name: str, day: date) -> QDateEdit:
    edit = QDateEdit(parent)
    edit.setObjectName(name)
    edit.setDisplayFormat("MM/dd/yyyy")
    edit.setCalendarPopup(True)
    edit.setDate(QDate(day.year, day.month, day.day))
    edit.setEnabled(False)
    return edit


class AuditView(Page):
    verified = Signal(str)  # the chain check's sentence
    exported = Signal(str)  # the file written

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        choose_path: ChoosePath | None = None,
    ) -> None:
        super().__init__("auditTrail", parent)
        self._actor = actor
        self._service = AuditService(services.db)
        self._choose_path = choose_path or ask_csv_path
        self._filters = Filters(None, None, None, None, None)
        today = today_local()

        self.user = QComboBox(self)
        self.user.setObjectName("auditUser")
        self.user.addItem("Any user", None)
        self.patient = QLineEdit(self)
        self.patient.setObjectName("auditPatient")
        self.patient.setPlaceholderText("Name, MRN, date of birth or #id")
        self.patient.setClearButtonEnabled(True)
        self.patient.returnPressed.connect(self.refresh)
        self.has_start = QCheckBox("Fro&m:", self)
        self.has_start.setObjectName("auditHasStart")
        self.start = _date_edit(self, "auditStart", today.replace(day=1))
        self.start.setAccessibleName("From date")
        self.has_start.toggled.connect(self.start.setEnabled)
        self.has_end = QCheckBox("T&o:", self)
        self.has_end.setObjectName("auditHasEnd")
        self.end = _date_edit(self, "auditEnd", today)
        self.end.setAccessibleName("To date")
        self.has_end.toggled.connect(self.end.setEnabled)
        self.action = QComboBox(self)
        self.action.setObjectName("auditAction")
        self.action.addItem("Any action", None)
        self.search_button = QPushButton("&Search", self)
        self.search_button.setObjectName("auditSearch")
        self.search_button.clicked.connect(self.refresh)

        self.model: RowTableModel[AuditRow] = RowTableModel(COLUMNS, self)
        self.table = configure_table(QTableView(self), "auditTable", "Audit records, newest first")
        self.table.setModel(self.model)

        self.verify_button = QPushButton("&Verify chain", self)
        self.verify_button.setObjectName("auditVerify")
        self.verify_button.clicked.connect(self.verify)
        self.export_button = QPushButton("&Export…", self)
        self.export_button.setObjectName("auditExport")
        self.export_button.clicked.connect(self.export_csv)
        self.chain = QLabel("", self)
        self.chain.setObjectName("auditChain")
        self.chain.setWordWrap(True)

        filters = QGridLayout()
        user_label = QLabel("&User:", self)
        user_label.setBuddy(self.user)
        patient_label = QLabel("Pa&tient:", self)
        patient_label.setBuddy(self.patient)
        action_label = QLabel("Actio&n:", self)
        action_label.setBuddy(self.action)
        filters.addWidget(user_label, 0, 0)
        filters.addWidget(self.user, 0, 1)
        filters.addWidget(patient_label, 0, 2)
        filters.addWidget(self.patient, 0, 3)
        filters.addWidget(action_label, 0, 4)
        filters.addWidget(self.action, 0, 5)
        filters.addWidget(self.has_start, 1, 0)
        filters.addWidget(self.start, 1, 1)
        filters.addWidget(self.has_end, 1, 2)
        filters.addWidget(self.end, 1, 3)
        filters.addWidget(self.search_button, 1, 5)
        filters.setColumnStretch(3, 1)
        actions = QHBoxLayout()
        actions.addWidget(self.verify_button)
        actions.addWidget(self.export_button)
        actions.addWidget(self.chain, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        chain: list[QWidget] = [
            self.user, self.patient, self.action, self.has_start, self.start, self.has_end, self.end,
            self.search_button, self.table, self.verify_button, self.export_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.patient)

    # -- loading ------------------------------------------------------------------------------------

    def filters(self) -> Filters:
        """What the filter widgets say now."""
        start: date = self.start.date().toPython()  # type: ignore[assignment]
        end: date = self.end.date().toPython()  # type: ignore[assignment]
        return Filters(
            user=self.user.currentData(),
            patient=self.patient.text().strip() or None,
            start=start if self.has_start.isChecked() else None,
            end=end if self.has_end.isChecked() else None,
            action=self.action.currentData(),
        )

    def refresh(self) -> None:
        self._filters = self.filters()
        super().refresh()

    def _load(self) -> tuple[tuple[AuditRow, ...], tuple[str, ...], tuple[str, ...]]:
        f = self._filters
        rows = self._service.search(
            self._actor, user=f.user, patient=f.patient, start=f.start, end=f.end, action=f.action
        )
        return rows, self._service.users(self._actor), self._service.actions(self._actor)

    def _present(self, value: tuple[tuple[AuditRow, ...], tuple[str, ...], tuple[str, ...]]) -> None:
        rows, users, actions = value
        _fill(self.user, "Any user", users)
        _fill(self.action, "Any action", actions)
        self.model.set_rows(rows)
        more = " (the newest; narrow the filters to see older ones)" if len(rows) >= SEARCH_LIMIT else ""
        self.summary.setText(f"{len(rows)} record(s){more}." if rows else "No records match these filters.")

    # -- actions ------------------------------------------------------------------------------------

    def verify(self) -> None:
        if not self.verify_button.isEnabled():
            return
        self.verify_button.setEnabled(False)
        set_tone(self.chain, None)
        self.chain.setText("Checking every record's hash…")
        service, actor = self._service, self._actor
        self._runner.run(lambda: service.verify(actor), self._verified, self._verify_failed)

    def _verified(self, report: ChainReport) -> None:
        self.verify_button.setEnabled(True)
        set_tone(self.chain, GOOD if report.intact else ERROR)
        text = report.text if report.broken else f"{report.text}."
        self.chain.setText(text)
        self.verified.emit(text)
        self.refresh()  # the check is itself on the trail

    def _verify_failed(self, exc: Exception) -> None:
        self.verify_button.setEnabled(True)
        self.chain.setText("")
        self._failed(exc)

    def export_csv(self) -> None:
        if not self.export_button.isEnabled():
            return
        chosen = self._choose_path(self, f"audit-trail-{today_local():%Y-%m-%d}.csv")
        if not chosen:
            return
        path = Path(chosen)
        f = self.filters()
        service, actor = self._service, self._actor
        self.export_button.setEnabled(False)
        self.say(f"Writing {path.name}…")
        self._runner.run(
            lambda: service.export_csv(
                actor, path, user=f.user, patient=f.patient, start=f.start, end=f.end, action=f.action
            ),
            lambda count: self._written(path, count),
            self._export_failed,
        )

    def _written(self, path: Path, count: int) -> None:
        self.export_button.setEnabled(True)
        self.say(f"Wrote {count} record(s) to {path}.")
        self.exported.emit(str(path))
        self.refresh()  # the export is itself on the trail

    def _export_failed(self, exc: Exception) -> None:
        self.export_button.setEnabled(True)
        self._failed(exc)

    def _failed(self, exc: Exception) -> None:
        self.say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)


def _fill(combo: QComboBox, anything: str, values: tuple[str, ...]) -> None:
    """Offer ``values`` after ``anything``, keeping the one picked if it is still there."""
    present = [combo.itemData(i) for i in range(1, combo.count())]
    if present == list(values):
        return
    picked = combo.currentData()
    combo.blockSignals(True)
    combo.clear()
    combo.addItem(anything, None)
    for value in values:
        combo.addItem(value, value)
    index = combo.findData(picked) if picked is not None else 0
    combo.setCurrentIndex(max(index, 0))
    combo.blockSignals(False)
