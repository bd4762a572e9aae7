"""The fee schedule editor: one payer's contract rates, and the CMS ASP prices they can refer to.

    dialog = FeeScheduleDialog(services, manager)
    dialog.open()

Pick the payer (Alt+P); the table lists its rates by code, newest period first. **Add…**
(Alt+A or Ins), **Edit…** (Alt+E, or Enter on a row) and **Delete** (Alt+D or Del) change one
rate; **Import CSV…** (Alt+I) reads a whole file of rates (every bad row is named and nothing is
saved); **Import ASP file…** (Alt+S) loads the CMS quarterly ASP pricing file for a quarter.
Billers see the rates; only managers and administrators change them (the buttons say so).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing.contracts import parse_date, quarter_label, quarter_start
from infusion_desk.services.access import Permission
from infusion_desk.services.contracts import (
    AspImportResult,
    ContractService,
    FeeEntryInput,
    FeeImportResult,
    FeeScheduleRow,
    PayerChoice,
)
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui import code_help
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

CSV_FILTER = "CSV files (*.csv *.txt);;All files (*)"

ChooseFile = Callable[[QWidget, str], str | None]
"""(parent, title) -> the path chosen, or None when cancelled."""
AskQuarter = Callable[[QWidget, list[str]], str | None]
"""(parent, quarters offered, newest first) -> the quarter chosen (``2026-Q3``), or None."""
Confirm = Callable[[QWidget, str], bool]


def choose_csv(parent: QWidget, title: str) -> str | None:
    path, _filter = QFileDialog.getOpenFileName(parent, title, "", CSV_FILTER)
    return path or None


def ask_asp_quarter(parent: QWidget, quarters: list[str]) -> str | None:
    text, ok = QInputDialog.getItem(
        parent, "ASP quarter", "Which quarter does this ASP pricing file price?", quarters, 1, False
    )
    return text if ok and text else None


def confirm_action(parent: QWidget, question: str) -> bool:
    answer = QMessageBox.question(parent, "Fee schedule", question)
    return answer == QMessageBox.StandardButton.Yes


def quarters_around(day: date) -> list[str]:
    """The next quarter, this one and the six before it, newest first (CMS posts a file ahead)."""
    start = quarter_start(day)
    month = start.year * 12 + start.month - 1 + 3
    out = []
    for _ in range(8):
        out.append(quarter_label(date(month // 12, month % 12 + 1, 1)))
        month -= 3
    return out


def _rate(row: FeeScheduleRow) -> str:
    return row.basis


FEE_COLUMNS: tuple[Column[FeeScheduleRow], ...] = (
    ("Code", lambda r: r.code),
    ("Rate", _rate),
    ("From", lambda r: us_date(r.effective_from)),
    ("To", lambda r: us_date(r.effective_to) or "until replaced"),
)


def _date_or_none(text: str, label: str) -> date | None:
    if not text.strip():
        return None
    try:
        return parse_date(text)
    except ValueError as exc:
        raise ValueError(f"{label}: {exc}") from None


class FeeEntryDialog(QDialog):
    """Add or edit one rate: the code, an allowed amount per unit *or* a percent of ASP, the period."""

    saved = Signal()

    def __init__(
        self,
        service: ContractService,
        actor: Actor,
        payer: PayerChoice,
        parent: QWidget | None = None,
        entry: FeeScheduleRow | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("feeEntryDialog")
        self.setWindowTitle(f"{'Edit' if entry else 'Add'} rate — {payer.name}")
        self._service, self._actor, self._payer, self._entry = service, actor, payer, entry
        self._runner = TaskRunner(self)
        self.code = QLineEdit(self)
        self.code.setObjectName("feeCode")
        code_help.set_code_help(self.code, code_help.PROCEDURE_CODE)
        self.code.setMaxLength(5)
        self.code.setPlaceholderText("96413 or J1745")
        self.allowed = QLineEdit(self)
        self.allowed.setObjectName("feeAllowed")
        self.allowed.setPlaceholderText("per unit, e.g. 180.00 (leave empty for a percent of ASP)")
        self.percent = QLineEdit(self)
        self.percent.setObjectName("feePercent")
        self.percent.setPlaceholderText("drugs only: 106 is ASP + 6%")
        self.effective_from = QLineEdit(self)
        self.effective_from.setObjectName("feeFrom")
        self.effective_from.setPlaceholderText("MM/DD/YYYY")
        self.effective_to = QLineEdit(self)
        self.effective_to.setObjectName("feeTo")
        self.effective_to.setPlaceholderText("MM/DD/YYYY, empty until replaced")
        form = QFormLayout(self)
        for label, widget in (
            ("&Code", self.code),
            ("&Allowed per unit ($)", self.allowed),
            ("&Percent of ASP", self.percent),
            ("&From", self.effective_from),
            ("&To", self.effective_to),
        ):
            form.addRow(label, widget)
        self.error = QLabel("", self)
        self.error.setObjectName("feeEntryError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        if entry is not None:
            self.code.setText(entry.code)
            self.allowed.setText("" if entry.allowed is None else _plain_amount(entry.allowed))
            percent = entry.percent_of_asp
            self.percent.setText("" if percent is None else f"{percent.normalize():f}")
            self.effective_from.setText(us_date(entry.effective_from))
            self.effective_to.setText(us_date(entry.effective_to))
        else:
            self.effective_from.setText(us_date(date(today_local().year, 1, 1)))
        pin_minimum_size(self)

    def save(self) -> None:
        try:
            start = _date_or_none(self.effective_from.text(), "From")
            end = _date_or_none(self.effective_to.text(), "To")
        except ValueError as exc:
            self._show(str(exc))
            return
        data = FeeEntryInput(self.code.text(), self.allowed.text(), self.percent.text(), start, end)
        service, actor, payer_id = self._service, self._actor, self._payer.id
        self.buttons.setEnabled(False)
        if self._entry is not None:
            entry_id = self._entry.id
            self._runner.run(lambda: service.update_entry(actor, entry_id, data), self._saved, self._failed)
        else:
            self._runner.run(lambda: service.add_entry(actor, payer_id, data), self._saved, self._failed)

    def _saved(self, _value: Any) -> None:
        self.saved.emit()
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.buttons.setEnabled(True)
        self._show(describe(exc))
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)

    def _show(self, message: str) -> None:
        self.error.setText(message)
        grow_to_fit(self)


def _plain_amount(value: Any) -> str:
    text = f"{value.normalize():f}"
    whole, _, cents = text.partition(".")
    return f"{whole}.{cents.ljust(2, '0')}"


class FeeScheduleDialog(QDialog):
    changed = Signal()  # rates or ASP prices changed: an underpayment list on screen is stale
    loaded = Signal()  # the payer's rates are on screen

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        payer_id: int | None = None,
        choose_file: ChooseFile | None = None,
        ask_quarter: AskQuarter | None = None,
        confirm: Confirm | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("feeScheduleDialog")
        self.setWindowTitle("Fee schedules")
        self._actor = actor
        self._service = ContractService(services.db)
        self._choose_file = choose_file or choose_csv
        self._ask_quarter = ask_quarter or ask_asp_quarter
        self._confirm = confirm or confirm_action
        self._wanted_payer = payer_id
        self._payers: dict[int, PayerChoice] = {}
        self._runner = TaskRunner(self)
        self._runner.busyChanged.connect(lambda _busy: self._enable())
        self._can_edit = actor.can(Permission.CLINIC_SETTINGS)

        self.payer = QComboBox(self)
        self.payer.setObjectName("feePayer")
        self.payer.currentIndexChanged.connect(lambda _i: self.reload())
        payer_label = QLabel("&Payer:", self)
        payer_label.setBuddy(self.payer)
        self.model: RowTableModel[FeeScheduleRow] = RowTableModel(FEE_COLUMNS, self)
        self.table = configure_table(QTableView(self), "feeTable", "Contract rates")
        self.table.setModel(self.model)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        self.table.doubleClicked.connect(lambda _index: self.edit())
        rates_label = QLabel("&Rates (by code, newest period first):", self)
        rates_label.setBuddy(self.table)
        self.asp_info = QLabel("", self)
        self.asp_info.setObjectName("aspQuarters")
        self.asp_info.setWordWrap(True)

        self.add_button = QPushButton("&Add…", self)
        self.add_button.setObjectName("addFeeButton")
        self.add_button.clicked.connect(self.add)
        self.edit_button = QPushButton("&Edit…", self)
        self.edit_button.setObjectName("editFeeButton")
        self.edit_button.clicked.connect(self.edit)
        self.delete_button = QPushButton("&Delete", self)
        self.delete_button.setObjectName("deleteFeeButton")
        self.delete_button.clicked.connect(self.delete)
        self.import_button = QPushButton("&Import CSV…", self)
        self.import_button.setObjectName("importFeesButton")
        self.import_button.setToolTip("Columns: code, allowed, percent_of_asp, effective_from, effective_to")
        self.import_button.clicked.connect(self.import_csv)
        self.replace_box = QCheckBox("Import &replaces the payer's whole schedule", self)
        self.replace_box.setObjectName("replaceFeesBox")
        self.replace_box.setToolTip(
            "Unticked: rates in the file are added, or replace the same code and start date"
        )
        self.asp_button = QPushButton("Import A&SP file…", self)
        self.asp_button.setObjectName("importAspButton")
        self.asp_button.setToolTip("The CMS quarterly ASP pricing file (CSV)")
        self.asp_button.clicked.connect(self.import_asp)
        if not self._can_edit:
            for button in (self.add_button, self.edit_button, self.delete_button, self.import_button,
                           self.asp_button):
                button.setToolTip("Managers and administrators change contract rates.")
            self.replace_box.setEnabled(False)
        # Enter edits, Ins adds, Del deletes while the table has the focus. Enter is taken here, not
        # through ``activated``: the view passes that key on to this dialog, which would press the
        # default button of the rate dialog it just opened (a child) and save it unchanged.
        self.table.installEventFilter(self)

        self.message = QLabel("", self)
        self.message.setObjectName("feeMessage")
        self.message.setWordWrap(True)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        close.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(payer_label)
        top.addWidget(self.payer, 1)
        actions = QHBoxLayout()
        for button in (self.add_button, self.edit_button, self.delete_button):
            actions.addWidget(button)
        actions.addStretch(1)
        files = QHBoxLayout()
        files.addWidget(self.import_button)
        files.addWidget(self.replace_box)
        files.addStretch(1)
        files.addWidget(self.asp_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(rates_label)
        layout.addWidget(self.table, 1)
        layout.addLayout(actions)
        layout.addLayout(files)
        layout.addWidget(self.asp_info)
        layout.addWidget(self.message)
        layout.addWidget(close)
        chain: list[QWidget] = [
            self.payer, self.table, self.add_button, self.edit_button, self.delete_button,
            self.import_button, self.replace_box, self.asp_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        # Enter on a rate edits it; no button may take Enter as the dialog's default as well
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.resize(640, 480)
        pin_minimum_size(self)
        self._enable()
        self._runner.run(self._read_payers(), self._fill_payers, self._failed)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table and event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.edit()
                return True
            if key == Qt.Key.Key_Insert:
                self.add()
                return True
            if key == Qt.Key.Key_Delete:
                self.delete()
                return True
        return super().eventFilter(watched, event)

    # -- loading ----------------------------------------------------------------------------------

    def _read_payers(self) -> Callable[[], tuple[list[PayerChoice], list[Any]]]:
        """The worker thread's reading of the payers and ASP quarters (it never touches the dialog)."""
        service, actor = self._service, self._actor
        return lambda: (service.payers(actor), service.asp_quarters(actor))

    def _fill_payers(self, value: tuple[list[PayerChoice], list[Any]]) -> None:
        payers, quarters = value
        self._show_quarters(quarters)
        self._payers = {p.id: p for p in payers}
        self.payer.blockSignals(True)
        self.payer.clear()
        for p in payers:
            self.payer.addItem(f"{p.name} ({p.entries} rate{'' if p.entries == 1 else 's'})", p.id)
        if self._wanted_payer is not None:
            self.payer.setCurrentIndex(max(0, self.payer.findData(self._wanted_payer)))
        self.payer.blockSignals(False)
        if not payers:
            self.say("No payers are set up yet.")
        self.reload()

    def _show_quarters(self, quarters: list[Any]) -> None:
        if quarters:
            listed = ", ".join(f"{q.label} ({q.prices})" for q in quarters[:6])
            self.asp_info.setText(f"ASP prices on file: {listed}.")
        else:
            self.asp_info.setText(
                "No ASP prices on file: rates set as a percent of ASP cannot be checked yet."
            )

    def current_payer(self) -> PayerChoice | None:
        payer_id = self.payer.currentData()
        return self._payers.get(int(payer_id)) if payer_id is not None else None

    def reload(self) -> None:
        payer = self.current_payer()
        if payer is None:
            self.model.set_rows([])
            self._enable()
            return
        service, actor = self._service, self._actor
        self._runner.run(lambda: service.fee_schedule(actor, payer.id), self._present, self._failed)

    def _present(self, rows: list[FeeScheduleRow]) -> None:
        self.model.set_rows(rows)
        if rows:
            self.table.setCurrentIndex(self.model.index(0, 0))
        self._enable()
        self.loaded.emit()

    def current(self) -> FeeScheduleRow | None:
        index = self.table.currentIndex()
        return self.model.row(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        has_payer = self.current_payer() is not None
        picked = self.current() is not None
        busy = self._runner.busy
        self.add_button.setEnabled(self._can_edit and has_payer)
        self.edit_button.setEnabled(self._can_edit and picked)
        self.delete_button.setEnabled(self._can_edit and picked)
        self.import_button.setEnabled(self._can_edit and has_payer and not busy)
        self.asp_button.setEnabled(self._can_edit and not busy)

    # -- one rate ---------------------------------------------------------------------------------

    def add(self) -> None:
        payer = self.current_payer()
        if payer is not None and self.add_button.isEnabled():
            self._open_entry(FeeEntryDialog(self._service, self._actor, payer, self))

    def edit(self) -> None:
        payer, row = self.current_payer(), self.current()
        if payer is not None and row is not None and self.edit_button.isEnabled():
            self._open_entry(FeeEntryDialog(self._service, self._actor, payer, self, row))

    def _open_entry(self, dialog: FeeEntryDialog) -> None:
        self.entry_dialog = dialog
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.saved.connect(lambda: self._changed("Rate saved."))
        dialog.open()

    def delete(self) -> None:
        row = self.current()
        if row is None or not self.delete_button.isEnabled():
            return
        question = f"Delete the rate for {row.code} from {us_date(row.effective_from)} ({row.basis})?"
        if not self._confirm(self, question):
            return
        service, actor = self._service, self._actor
        self._runner.run(
            lambda: service.delete_entry(actor, row.id),
            lambda _v: self._changed(f"Rate for {row.code} from {us_date(row.effective_from)} deleted."),
            self._failed,
        )

    # -- files ------------------------------------------------------------------------------------

    def import_csv(self) -> None:
        payer = self.current_payer()
        if payer is None or not self.import_button.isEnabled():
            return
        chosen = self._choose_file(self, f"Import a fee schedule for {payer.name}")
        if not chosen:
            return
        replace = self.replace_box.isChecked()
        if replace and not self._confirm(
            self, f"Remove every rate of {payer.name} and keep only the file's?"
        ):
            return
        service, actor = self._service, self._actor
        self.say(f"Reading {Path(chosen).name}…")
        self._runner.run(
            lambda: service.import_fee_schedule(actor, payer.id, Path(chosen), replace=replace),
            self._imported,
            self._failed,
        )
        self._enable()

    def _imported(self, result: FeeImportResult) -> None:
        self._changed(result.text())

    def import_asp(self) -> None:
        if not self.asp_button.isEnabled():
            return
        chosen = self._choose_file(self, "Import the CMS ASP pricing file")
        if not chosen:
            return
        quarter = self._ask_quarter(self, quarters_around(today_local()))
        if not quarter:
            return
        from infusion_desk.billing.contracts import parse_quarter

        try:
            start = parse_quarter(quarter)
        except ValueError as exc:
            self.say(str(exc), error=True)
            return
        service, actor = self._service, self._actor
        self.say(f"Reading {Path(chosen).name}…")
        self._runner.run(
            lambda: service.import_asp(actor, Path(chosen), start), self._asp_imported, self._failed
        )
        self._enable()

    def _asp_imported(self, result: AspImportResult) -> None:
        self._changed(result.text())

    # -- outcomes ---------------------------------------------------------------------------------

    def _changed(self, text: str) -> None:
        self.say(text)
        self.changed.emit()
        self._runner.run(self._read_payers(), self._refill, self._failed)

    def _refill(self, value: tuple[list[PayerChoice], list[Any]]) -> None:
        self._wanted_payer = self.payer.currentData()
        self._fill_payers(value)

    def _failed(self, exc: Exception) -> None:
        self.say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)
        self._enable()

    def say(self, text: str, *, error: bool = False) -> None:
        set_tone(self.message, ERROR if error else None)
        self.message.setText(text)
        grow_to_fit(self)
