"""Underpayments (Billing workspace): paid lines the payer allowed less for than its contract says.

    view = UnderpaymentsView(services, biller)
    view.refresh()

The list holds every paid line (posted remittances; a reversed payment no longer counts)
whose allowed amount is below the contract's expected amount by more than the tolerance,
the biggest shortfall first, with each payer's total beside it. **Paid since** (Alt+S), the
**tolerance** in dollars (Alt+T) and percent (Alt+C) narrow it; Enter in any of them, or
**Apply** (Alt+Y), reloads. **Export CSV…** (Alt+X) saves the list for a spreadsheet or the
payer's representative; **Fee schedules…** (Alt+F) opens the contract rates and the ASP
prices they refer to. Lines whose code has no contract rate are counted, not listed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing.contracts import Tolerance, parse_date, parse_tolerance
from infusion_desk.billing.findings import Finding, error
from infusion_desk.services.contracts import (
    ContractService,
    PayerShortfall,
    UnderpaymentReport,
    UnderpaymentRow,
    underpayments_csv,
)
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.fee_schedule_dialog import FeeScheduleDialog
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.tables import Column, RowTableModel, configure_table

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

SaveAs = Callable[[QWidget, str], str | None]
"""(parent, suggested file name) -> the path to write, or None when cancelled."""

LOOK_BACK_DAYS = 365


def ask_save_path(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(parent, "Export underpayments", suggested, "CSV (*.csv)")
    return path or None


def _dollars(amount: object) -> str:
    return f"${amount:,.2f}"


UNDERPAYMENT_COLUMNS: tuple[Column[UnderpaymentRow], ...] = (
    ("Short by", lambda r: _dollars(r.short_by)),
    ("Claim", lambda r: r.claim_number),
    ("Patient", lambda r: r.patient),
    ("Payer", lambda r: r.payer),
    ("Date of service", lambda r: us_date(r.service_date)),
    ("Code", lambda r: " ".join((r.code, *r.modifiers))),
    ("Units", lambda r: f"{r.units.normalize():f}"),
    ("Expected", lambda r: _dollars(r.expected)),
    ("Allowed", lambda r: _dollars(r.allowed)),
    ("Paid", lambda r: _dollars(r.paid)),
    ("Paid on", lambda r: us_date(r.payment_date)),
    ("Contract rate", lambda r: r.basis),
)

PAYER_COLUMNS: tuple[Column[PayerShortfall], ...] = (
    ("Payer", lambda p: p.payer),
    ("Underpaid lines", lambda p: str(p.lines)),
    ("Short by", lambda p: _dollars(p.short_by)),
    ("Expected", lambda p: _dollars(p.expected)),
    ("Allowed", lambda p: _dollars(p.allowed)),
    ("Lines checked", lambda p: str(p.checked)),
    ("No contract rate", lambda p: str(p.no_contract)),
)


class UnderpaymentsView(Page):
    exported = Signal(str)  # the CSV file written

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        save_as: SaveAs | None = None,
        fee_dialog: Callable[[QWidget], FeeScheduleDialog] | None = None,
    ) -> None:
        super().__init__("underpayments", parent)
        self._services = services
        self._actor = actor
        self._service = ContractService(services.db)
        self._save_as = save_as or ask_save_path
        self._fee_dialog = fee_dialog or (lambda parent: FeeScheduleDialog(services, actor, parent))
        self._query: tuple[date | None, Tolerance] = (None, Tolerance())
        self.report: UnderpaymentReport | None = None
        self.fee_schedule_dialog: FeeScheduleDialog | None = None

        self.since = QLineEdit(us_date(today_local() - timedelta(days=LOOK_BACK_DAYS)), self)
        self.since.setObjectName("underpaidSince")
        self.since.setPlaceholderText("MM/DD/YYYY, empty for all")
        self.since.setToolTip("Payments dated on or after this day")
        self.tolerance = QLineEdit("1.00", self)
        self.tolerance.setObjectName("underpaidTolerance")
        self.tolerance.setToolTip("Lines short by this many dollars or less are left out")
        self.tolerance_percent = QLineEdit("", self)
        self.tolerance_percent.setObjectName("underpaidTolerancePercent")
        self.tolerance_percent.setPlaceholderText("e.g. 2")
        self.tolerance_percent.setToolTip("And lines short by this percent of the expected amount or less")
        self.apply_button = QPushButton("Appl&y", self)
        self.apply_button.setObjectName("applyUnderpaidButton")
        self.apply_button.clicked.connect(self.refresh)
        for field in (self.since, self.tolerance, self.tolerance_percent):
            field.returnPressed.connect(self.refresh)
        filters = QHBoxLayout()
        for text, field in (
            ("Paid &since:", self.since),
            ("&Tolerance $:", self.tolerance),
            ("or per&cent:", self.tolerance_percent),
        ):
            label = QLabel(text, self)
            label.setBuddy(field)
            filters.addWidget(label)
            filters.addWidget(field)
        filters.addWidget(self.apply_button)
        filters.addStretch(1)

        self.model: RowTableModel[UnderpaymentRow] = RowTableModel(UNDERPAYMENT_COLUMNS, self)
        self.table = configure_table(QTableView(self), "underpaymentList", "Underpaid lines")
        self.table.setModel(self.model)
        list_label = QLabel("&Underpaid lines (biggest shortfall first):", self)
        list_label.setBuddy(self.table)
        self.payers: RowTableModel[PayerShortfall] = RowTableModel(PAYER_COLUMNS, self)
        self.payer_table = configure_table(QTableView(self), "underpaymentPayers", "Shortfall by payer")
        self.payer_table.setModel(self.payers)
        payer_label = QLabel("&By payer:", self)
        payer_label.setBuddy(self.payer_table)

        self.export_button = QPushButton("E&xport CSV…", self)
        self.export_button.setObjectName("exportUnderpaymentsButton")
        self.export_button.clicked.connect(self.export_csv)
        self.fees_button = QPushButton("&Fee schedules…", self)
        self.fees_button.setObjectName("feeSchedulesButton")
        self.fees_button.setToolTip("Each payer's contract rates, and the quarterly ASP prices")
        self.fees_button.clicked.connect(self.open_fee_schedules)
        actions = QHBoxLayout()
        actions.addWidget(self.export_button)
        actions.addWidget(self.fees_button)
        actions.addStretch(1)

        upper = QWidget(self)
        upper_layout = QVBoxLayout(upper)
        upper_layout.setContentsMargins(0, 0, 0, 0)
        upper_layout.addWidget(list_label)
        upper_layout.addWidget(self.table, 1)
        lower = QWidget(self)
        lower_layout = QVBoxLayout(lower)
        lower_layout.setContentsMargins(0, 0, 0, 0)
        lower_layout.addWidget(payer_label)
        lower_layout.addWidget(self.payer_table, 1)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(upper)
        splitter.addWidget(lower)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)

        layout = QVBoxLayout(self)
        layout.addLayout(filters)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        layout.addLayout(actions)
        layout.addWidget(self.message)
        chain: list[QWidget] = [
            self.since, self.tolerance, self.tolerance_percent, self.apply_button, self.table,
            self.payer_table, self.export_button, self.fees_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.table)
        self.export_button.setEnabled(False)

    # -- loading ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        """Read the filters here (GUI thread), then load; bad input is said without a query."""
        findings: list[Finding] = []
        since: date | None = None
        if self.since.text().strip():
            try:
                since = parse_date(self.since.text())
            except ValueError as exc:
                findings.append(error("DATE", f"Paid since: {exc}", "since"))
        tolerance, problems = parse_tolerance(self.tolerance.text(), self.tolerance_percent.text())
        findings.extend(problems)
        if findings or tolerance is None:
            self._generation += 1  # an answer still on its way is no longer wanted
            self._started = True
            self.summary.setText(describe(ValidationFailed(findings)))
            return
        self._query = (since, tolerance)
        # Page.refresh hands the worker the bound method ``self._load``; when the page is closed
        # while a load runs, the worker thread can then drop the last reference to the widget
        # and destroy it there (a crash). The worker gets a closure that holds no widget.
        self._started = True
        self._generation += 1
        generation = self._generation
        self._runner.run(
            self._loader(), lambda value: self._loaded(generation, value),
            lambda exc: self._load_failed(generation, exc),
        )

    def _loader(self) -> Callable[[], UnderpaymentReport]:
        service, actor, (since, tolerance) = self._service, self._actor, self._query
        return lambda: service.underpayments(actor, since=since, tolerance=tolerance)

    def _load(self) -> UnderpaymentReport:
        return self._loader()()

    def _present(self, report: UnderpaymentReport) -> None:
        self.report = report
        self.model.set_rows(report.rows)
        self.payers.set_rows(report.by_payer)
        self.summary.setText(report.text())
        self.export_button.setEnabled(bool(report.rows))
        if report.rows:
            self.table.setCurrentIndex(self.model.index(0, 0))

    # -- actions ----------------------------------------------------------------------------------

    def export_csv(self) -> None:
        report = self.report
        if report is None or not report.rows:
            return
        chosen = self._save_as(self, f"underpayments-{today_local():%Y-%m-%d}.csv")
        if not chosen:
            return
        path = Path(chosen)
        text = underpayments_csv(report.rows)

        def write() -> str:
            partial = path.with_name(path.name + ".part")
            partial.write_text(text, encoding="utf-8", newline="")
            partial.replace(path)
            return str(path)

        self._runner.run(write, self._exported, self._export_failed)

    def _exported(self, path: str) -> None:
        count = len(self.report.rows) if self.report else 0
        self.say(f"{count} underpaid line(s) written to {path}.")
        self.exported.emit(path)

    def _export_failed(self, exc: Exception) -> None:
        if isinstance(exc, OSError):
            self.say(f"Could not write the file: {exc.strerror or exc}. Choose another folder.", error=True)
            return
        self.say(describe(exc), error=True)
        show_error(self, exc)

    def open_fee_schedules(self) -> None:
        dialog = self._fee_dialog(self)
        self.fee_schedule_dialog = dialog
        dialog.changed.connect(self.refresh)
        dialog.open()
