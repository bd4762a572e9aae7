"""The Reports page (Manager workspace): a report's table, its chart, how it is computed, its claims.

    view = ReportsView(services, manager)                          # the ReportService, today
    view = ReportsView(services, manager, today=date(2026, 11, 26), source=fake, titles={"aging": "Aging"})
    view.open_report("aging")                                      # what a dashboard tile asks for

**Report** picks one (keyboard: Alt+R, then the arrows; choosing loads it), **From** and
**To** are dates (MM/DD/YYYY; six months to today at first, as the dashboard's trends; an
empty From lets the report choose), **Show** (Enter in a date) loads it again. A report of
balances on a day (aging) reads only To. The table sorts by any column (its total row stays last); the chart
draws the same rows, and the notes under the table say how each figure is computed.

Every figure can be drilled into: Enter or a double-click on a row, or a click on its bar,
lists the claims behind it (claim, patient, payer, date of service, status, charge,
balance). **Export CSV… / XLSX… / PDF…** (Alt+C, Alt+X, Alt+P) write the report shown;
Ctrl+Shift+S asks where and takes the format from the file type chosen. Loads, drill-downs
and exports run on the worker thread; the newest load wins.

The report source (``source``) is anything with the :class:`ReportSource` methods — the
:class:`~infusion_desk.services.reports.ReportService` unless a test gives another.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
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

from infusion_desk.billing.report_model import DATE, MONEY, TEXT, Report
from infusion_desk.billing.report_model import Row as ReportRow
from infusion_desk.services.access import Permission
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.report_chart import ReportChart, show_value
from infusion_desk.ui.tables import RowTableModel, configure_table

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

_Index = QModelIndex | QPersistentModelIndex


class ReportSource(Protocol):
    """What the page reads reports through (the ReportService's methods)."""

    def report(self, actor: Actor, name: str, start: date | None, end: date) -> Report: ...

    def claims_behind(self, actor: Actor, claim_ids: Sequence[int]) -> Sequence[Any]: ...


Exporter = Callable[[Report], str | bytes]

FORMATS: dict[str, tuple[str, str]] = {
    "csv": ("CSV", "CSV files (*.csv)"),
    "xlsx": ("XLSX", "Excel workbooks (*.xlsx)"),
    "pdf": ("PDF", "PDF files (*.pdf)"),
}

ChoosePath = Callable[[QWidget, str, str], str | None]
"""(parent, suggested file name, file type filter) -> where to write, or None when cancelled."""


def ask_export_path(parent: QWidget, suggested: str, filters: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(parent, "Export report", suggested, filters)
    return path or None


def default_exporters() -> dict[str, Exporter]:
    """The report exporters (imported on first use, so this page loads without them)."""
    from infusion_desk.billing import report_export

    return {"csv": report_export.to_csv, "xlsx": report_export.to_xlsx, "pdf": report_export.to_pdf}


def default_titles() -> Mapping[str, str]:
    from infusion_desk.services.reports import REPORTS

    return REPORTS


def six_months_back(today: date) -> date:
    """The first day of the month five months before ``today``'s: six calendar months, as the trends."""
    months = today.year * 12 + today.month - 1 - 5
    return date(months // 12, months % 12 + 1, 1)


def drill_key(report: Report, row: ReportRow) -> tuple[str, ...]:
    """What names a row to the source's ``drill``: its values up to the first non-text column.

    The ReportService's own rule (``services.reports.drill_key``) when it is there.
    """
    try:
        from infusion_desk.services.reports import drill_key as service_key
    except ImportError:
        pass
    else:
        return service_key(report, row)
    key: list[str] = []
    for column, value in zip(report.columns, row.values, strict=False):
        if column.kind != TEXT:
            break
        key.append(str(value))
    return tuple(key)


def row_label(report: Report, row: ReportRow) -> str:
    """How a drill-down names its row: its leading text values (``Payer, Fictional Health Plan``)."""
    texts = [str(v) for c, v in zip(report.columns, row.values, strict=False) if c.kind == TEXT and v]
    return ", ".join(texts) or show_value(report.columns[0].kind, row.values[0])


def _parse_date(text: str) -> date:
    return datetime.strptime(text.strip(), "%m/%d/%Y").date()  # noqa: DTZ007 - a calendar date, no time


# -- the report's table ---------------------------------------------------------------------------


class ReportTableModel(QAbstractTableModel):
    """A report's rows and, last, its total row (bold); cells read as the column's kind says."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.report: Report | None = None
        self._rows: tuple[ReportRow, ...] = ()

    def set_report(self, report: Report | None) -> None:
        self.beginResetModel()
        self.report = report
        self._rows = () if report is None else report.rows + ((report.total,) if report.total else ())
        self.endResetModel()

    def is_total(self, row: int) -> bool:
        return self.report is not None and self.report.total is not None and row == len(self._rows) - 1

    def report_row(self, row: int) -> ReportRow:
        return self._rows[row]

    def value(self, row: int, column: int) -> Any:
        return self._rows[row].values[column]

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() or self.report is None else len(self.report.columns)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        report = self.report
        if report is None or not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        column = report.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            return show_value(column.kind, self.value(index.row(), index.column()))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if column.kind in (TEXT, DATE):
                return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and self.is_total(index.row()):
            font = QFont()
            font.setBold(True)
            return font
        return None

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        report = self.report
        horizontal = orientation == Qt.Orientation.Horizontal
        if report is None or not horizontal or not 0 <= section < len(report.columns):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return report.columns[section].header
        if role == Qt.ItemDataRole.InitialSortOrderRole:
            # a click on a figure's header puts the largest first; on a name or date, A to Z
            kind = report.columns[section].kind
            return Qt.SortOrder.AscendingOrder if kind in (TEXT, DATE) else Qt.SortOrder.DescendingOrder
        return None


def _sort_key(value: Any) -> tuple[int, Any]:
    # empties last; numbers as numbers (Decimal, int); dates as dates; text without case
    if value is None or value == "":
        return (2, 0)
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        return (0, Decimal(value))
    if isinstance(value, date):
        return (0, value)
    return (1, str(value).casefold())


class TotalLastProxy(QSortFilterProxyModel):
    """Sorts a report's rows by their values (not their text) and keeps the total row last."""

    def lessThan(self, left: _Index, right: _Index) -> bool:
        source = self.sourceModel()
        assert isinstance(source, ReportTableModel)
        ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
        if source.is_total(left.row()):
            return not ascending
        if source.is_total(right.row()):
            return ascending
        a = _sort_key(source.value(left.row(), left.column()))
        b = _sort_key(source.value(right.row(), right.column()))
        if a[0] != b[0]:
            # empties go last whichever way the column sorts
            return (a[0] < b[0]) == ascending
        try:
            return bool(a[1] < b[1])
        except TypeError:
            return str(a[1]) < str(b[1])


# -- the claims behind a figure -------------------------------------------------------------------


def _claim_columns() -> list[tuple[str, Callable[[Any], str]]]:
    return [
        ("Claim", lambda c: str(c.claim_number)),
        ("Patient", lambda c: str(c.patient)),
        ("Payer", lambda c: str(c.payer or "")),
        ("Date of service", lambda c: us_date(c.service_date)),
        ("Status", lambda c: str(c.status).replace("_", " ")),
        ("Charge", lambda c: show_value(MONEY, c.charge)),
        ("Balance", lambda c: show_value(MONEY, c.balance)),
    ]


class ClaimsBehindDialog(QDialog):
    """The claims behind one figure: Enter on one asks to open it (``claimActivated``)."""

    claimActivated = Signal(str)  # the claim number

    def __init__(self, heading: str, claims: Sequence[Any], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("claimsBehindDialog")
        self.setWindowTitle("Claims behind the figure")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.heading = QLabel(heading, self)
        self.heading.setObjectName("claimsBehindHeading")
        self.heading.setWordWrap(True)
        self.model: RowTableModel[Any] = RowTableModel(_claim_columns(), self)
        self.model.set_rows(claims)
        self.table = configure_table(QTableView(self), "claimsBehindTable", "Claims behind the figure")
        self.table.setModel(self.model)
        self.table.activated.connect(self._activated)
        charge = sum((Decimal(c.charge or 0) for c in claims), Decimal("0.00"))
        balance = sum((Decimal(c.balance or 0) for c in claims), Decimal("0.00"))
        self.summary = QLabel(
            f"{len(claims)} claim(s): {show_value(MONEY, charge)} charged, "
            f"{show_value(MONEY, balance)} still open."
            if claims
            else "No claims are behind this figure.",
            self,
        )
        self.summary.setObjectName("claimsBehindSummary")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(buttons)
        self.resize(760, 420)
        if claims:
            self.table.selectRow(0)
        self.table.setFocus()

    def _activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.claimActivated.emit(str(self.model.row(index.row()).claim_number))


# -- the page -------------------------------------------------------------------------------------


class ReportsView(Page):
    exported = Signal(str)  # the file written
    drilled = Signal(object)  # the ClaimsBehindDialog opened
    openClaim = Signal(str)  # a claim number chosen in the claims behind a figure

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        source: ReportSource | None = None,
        titles: Mapping[str, str] | None = None,
        today: date | None = None,
        choose_path: ChoosePath | None = None,
        exporters: Mapping[str, Exporter] | None = None,
    ) -> None:
        super().__init__("reports", parent)
        self._services = services
        self._actor = actor
        self._source = source
        self._today = today or today_local()
        self._choose_path = choose_path or ask_export_path
        self._exporters = dict(exporters) if exporters is not None else None
        self.report: Report | None = None
        self.claims_dialog: ClaimsBehindDialog | None = None
        self._name, self._start, self._end = "", None, self._today
        allowed = actor.can(Permission.REPORTS_VIEW)
        titles = dict(titles) if titles is not None else (dict(default_titles()) if allowed else {})

        self.picker = QComboBox(self)
        self.picker.setObjectName("reportsPicker")
        self.picker.setAccessibleName("Report")
        for name, title in titles.items():
            self.picker.addItem(title, name)
        self.picker.activated.connect(lambda _index: self.refresh())
        picker_label = QLabel("&Report", self)
        picker_label.setBuddy(self.picker)
        self.start = self._date_field("reportsFrom", us_date(six_months_back(self._today)))
        self.start.setToolTip("The first day counted (MM/DD/YYYY); empty: the report's own default")
        self.end = self._date_field("reportsTo", us_date(self._today))
        self.end.setToolTip("The last day counted, or the day balances are aged to (MM/DD/YYYY)")
        start_label = QLabel("&From", self)
        start_label.setBuddy(self.start)
        end_label = QLabel("&To", self)
        end_label.setBuddy(self.end)
        self.show_button = QPushButton("Sho&w", self)
        self.show_button.setObjectName("reportsShow")
        self.show_button.clicked.connect(self.refresh)
        self.export_buttons: dict[str, QPushButton] = {}
        for fmt, text in (("csv", "Export &CSV…"), ("xlsx", "Export XLS&X…"), ("pdf", "Export &PDF…")):
            button = QPushButton(text, self)
            button.setObjectName(f"reportsExport{fmt.upper()}")
            button.setToolTip(
                f"Write the report shown to a {FORMATS[fmt][0]} file (Ctrl+Shift+S: choose the type)"
            )
            button.clicked.connect(lambda _checked=False, fmt=fmt: self.export(fmt))
            button.setEnabled(False)
            self.export_buttons[fmt] = button
        for widget in (self.picker, self.start, self.end, self.show_button):
            widget.setEnabled(allowed)
        top = QHBoxLayout()
        top.addWidget(picker_label)
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        top.addWidget(self.picker)
        top.addWidget(start_label)
        top.addWidget(self.start)
        top.addWidget(end_label)
        top.addWidget(self.end)
        top.addWidget(self.show_button)
        top.addStretch(1)
        for button in self.export_buttons.values():
            top.addWidget(button)

        self.model = ReportTableModel(self)
        self.proxy = TotalLastProxy(self)
        self.proxy.setSourceModel(self.model)
        self.table = configure_table(QTableView(self), "reportsTable", "Report figures")
        self.table.setModel(self.proxy)
        # as the report ordered its rows until a header is clicked
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)
        self.table.activated.connect(self._row_activated)
        self.table.setToolTip("Enter or double-click: the claims behind the row's figures")
        self.notes = QLabel("", self)
        self.notes.setObjectName("reportsNotes")
        self.notes.setWordWrap(True)
        self.notes.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.chart = ReportChart(self)
        self.chart.setToolTip("Click a bar: the claims behind it")
        self.chart.rowClicked.connect(self.drill)
        table_box = QWidget(self)
        table_layout = QVBoxLayout(table_box)
        table_layout.setContentsMargins(0, 0, 0, 0)
        table_layout.addWidget(self.table, 1)
        table_layout.addWidget(self.notes)
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(table_box)
        splitter.addWidget(self.chart)
        splitter.setChildrenCollapsible(False)
        splitter.setStretchFactor(0, 3)  # the figures first; the chart takes what is left
        splitter.setStretchFactor(1, 2)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.message)
        QShortcut(QKeySequence("Ctrl+Shift+S"), self, self.export_chosen)
        chain: list[QWidget] = [
            self.picker, self.start, self.end, self.show_button, *self.export_buttons.values(), self.table,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.picker)

    def _date_field(self, name: str, text: str) -> QLineEdit:
        field = QLineEdit(text, self)
        field.setObjectName(name)
        field.setPlaceholderText("MM/DD/YYYY")
        field.setMaximumWidth(120)
        field.returnPressed.connect(self.refresh)
        return field

    @property
    def source(self) -> ReportSource:
        if self._source is None:
            from infusion_desk.services.reports import ReportService

            self._source = ReportService(self._services.db)
        return self._source

    @property
    def chosen(self) -> str:
        """The name of the report picked (``aging``), or "" when there is none."""
        return str(self.picker.currentData() or "")

    def open_report(self, name: str) -> None:
        """Pick report ``name`` and load it (what a dashboard tile asks for)."""
        index = self.picker.findData(name)
        if index < 0:
            self.say(f"There is no report called {name!r}.", error=True)
            return
        self.picker.setCurrentIndex(index)
        self.refresh()

    # -- loading ----------------------------------------------------------------------------------

    def refresh(self) -> None:
        self._started = True
        if not self._actor.can(Permission.REPORTS_VIEW):
            self.summary.setText("Reports are for accounts that may view reports (managers, billers).")
            return
        if not self.chosen:
            self.summary.setText("No reports to choose from.")
            return
        try:
            self._start = _parse_date(self.start.text()) if self.start.text().strip() else None
        except ValueError:
            self.say("From: type a date as MM/DD/YYYY, e.g. 06/01/2026, or leave it empty.", error=True)
            self.start.setFocus()
            return
        try:
            self._end = _parse_date(self.end.text())
        except ValueError:
            self.say("To: type a date as MM/DD/YYYY, for example 11/30/2026.", error=True)
            self.end.setFocus()
            return
        if self._start is not None and self._start > self._end:
            self.say("From must be on or before To.", error=True)
            self.start.setFocus()
            return
        self.say("")
        self.summary.setText(f"Loading {self.picker.currentText()}…")
        self._name = self.chosen
        super().refresh()

    def _load(self) -> Report:
        return self.source.report(self._actor, self._name, self._start, self._end)

    def _present(self, report: Report) -> None:
        self.report = report
        self.model.set_report(report)
        self.table.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
        self.proxy.sort(-1)
        self.chart.show_report(report)
        end = us_date(report.end)
        period = f"{us_date(report.start)} to {end}" if report.start else f"as of {end}"
        rows = len(report.rows)
        self.summary.setText(
            f"{report.title}, {period}: {rows} row{'s' if rows != 1 else ''}."
            + (" Enter on a row (or a click on its bar) lists the claims behind it." if rows else "")
        )
        self.notes.setText("\n".join(report.notes))
        for button in self.export_buttons.values():
            button.setEnabled(True)

    # -- drill-down -------------------------------------------------------------------------------

    def _row_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.drill(self.proxy.mapToSource(index).row())

    def drill(self, row: int) -> None:
        """List the claims behind row ``row`` of the report shown (the total row: all of them)."""
        report = self.report
        if report is None or not 0 <= row < self.model.rowCount():
            return
        figures = self.model.report_row(row)
        is_total = self.model.is_total(row)
        label = "Total" if is_total else row_label(report, figures)
        claim_ids = figures.claim_ids
        source, actor = self.source, self._actor
        drill_rows = getattr(source, "drill", None)
        # a big report leaves its rows' claims out: the source finds them by the row's key (the total: all)
        key = () if is_total else drill_key(report, figures)
        if is_total and not claim_ids and not callable(drill_rows):
            claim_ids = tuple(dict.fromkeys(i for r in report.rows for i in r.claim_ids))

        def claims() -> Sequence[Any]:
            ids: Sequence[int] = claim_ids
            if not ids and callable(drill_rows):
                ids = drill_rows(actor, report.name, report.start, report.end, key)
            return source.claims_behind(actor, ids) if ids else []

        heading = f"{report.title} — {label}: the claims behind its figures."
        self.say(f"Finding the claims behind {label}…")
        self._runner.run(claims, lambda found: self._show_claims(heading, found), self._drill_failed)

    def _show_claims(self, heading: str, claims: Sequence[Any]) -> None:
        self.say("")
        dialog = ClaimsBehindDialog(heading, claims, self)
        dialog.claimActivated.connect(self.openClaim)
        dialog.destroyed.connect(self._dialog_closed)
        self.claims_dialog = dialog
        dialog.open()
        self.drilled.emit(dialog)

    def _dialog_closed(self) -> None:
        self.claims_dialog = None
        self.table.setFocus()

    def _drill_failed(self, exc: Exception) -> None:
        self.say(describe(exc), error=True)
        show_error(self, exc)

    # -- export -----------------------------------------------------------------------------------

    def _suggested(self, report: Report, suffix: str) -> str:
        start = f"{report.start.isoformat()}-to-" if report.start else ""
        return f"{report.name}-{start}{report.end.isoformat()}.{suffix}"

    def export(self, fmt: str) -> None:
        """Ask where, then write the report shown as ``fmt`` (csv, xlsx, pdf) on the worker thread."""
        report = self.report
        if report is None or not self.export_buttons[fmt].isEnabled():
            return
        chosen = self._choose_path(self, self._suggested(report, fmt), f"{FORMATS[fmt][1]};;All files (*)")
        if chosen:
            path = Path(chosen)
            if path.suffix.lower() != f".{fmt}":
                path = path.with_name(f"{path.name}.{fmt}")
            self._write(report, fmt, path)

    def export_chosen(self) -> None:
        """Ctrl+Shift+S: ask where; the file type chosen (by its extension) says the format."""
        report = self.report
        if report is None or not self.export_buttons["csv"].isEnabled():
            return
        filters = ";;".join(FORMATS[fmt][1] for fmt in FORMATS)
        chosen = self._choose_path(self, self._suggested(report, "csv"), filters)
        if not chosen:
            return
        path = Path(chosen)
        fmt = path.suffix.lower().lstrip(".")
        if fmt not in FORMATS:
            self.say("Export: name the file .csv, .xlsx or .pdf to say which kind to write.", error=True)
            return
        self._write(report, fmt, path)

    def _write(self, report: Report, fmt: str, path: Path) -> None:
        exporters = self._exporters
        if exporters is None:
            exporters = self._exporters = default_exporters()
        export = exporters[fmt]

        def write() -> None:
            content = export(report)
            if isinstance(content, str):
                path.write_text(content, encoding="utf-8", newline="")
            else:
                path.write_bytes(content)

        for button in self.export_buttons.values():
            button.setEnabled(False)
        self.say(f"Writing {path.name}…")
        self._runner.run(write, lambda _none: self._written(path), self._export_failed)

    def _export_done(self) -> None:
        for button in self.export_buttons.values():
            button.setEnabled(self.report is not None)

    def _written(self, path: Path) -> None:
        self._export_done()
        self.say(f"Wrote {path}.")
        self.exported.emit(str(path))

    def _export_failed(self, exc: Exception) -> None:
        self._export_done()
        if isinstance(exc, OSError):  # a read-only or vanished folder, a full disk: choose another place
            self.say(f"Could not write the file ({exc.strerror or exc}); choose another folder.", error=True)
        else:
            self.say(describe(exc), error=True)
            show_error(self, exc)
