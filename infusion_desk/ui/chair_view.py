"""The nurse's chair view: one visit documented as it happens.

    view = ChairView(services, nurse)          # beside the Nursing workspace's chair list
    view.open_visit(visit_id)

Start, Stop and Pause stamp the current time (the clock is injectable for tests); the
coded lines and a timeline of the administrations refresh after every change, so the
nurse and the coder see what the documentation bills. Every service call runs on the
worker thread; this widget only paints.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QKeySequence, QPainter, QPaintEvent, QPen, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing.barcode import BarcodeError, match_ndc, parse_gs1
from infusion_desk.billing.coding import CodingResult
from infusion_desk.models.enums import AdminMethod, Severity
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.app import Services
from infusion_desk.services.clinic import DrugChoice
from infusion_desk.services.nursing import (
    AdministrationDraft,
    AdministrationView,
    InterventionInput,
    NursingService,
    ReactionInput,
    VisitSheet,
    VitalsInput,
)
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.windowing import pin_minimum_size

Clock = Callable[[], datetime]


def _utc_now() -> datetime:
    return datetime.now(UTC).replace(second=0, microsecond=0)


def _local(moment: datetime | None) -> str:
    return "" if moment is None else moment.astimezone().strftime("%H:%M")


def _minutes(admin: AdministrationView, now: datetime) -> int | None:
    if admin.start_at is None:
        return None
    end = admin.stop_at or now
    paused = sum(((p[1] or end) - p[0]).total_seconds() for p in admin.pauses)
    return int(((end - admin.start_at).total_seconds() - paused) // 60)


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


class TimelineWidget(QWidget):
    """Each administration as a bar over the clock, labelled with the codes it produced."""

    ROW = 26

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("timeline")
        self.setMinimumHeight(self.ROW * 2)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._rows: list[tuple[str, datetime, datetime, tuple[tuple[datetime, datetime], ...], str]] = []
        self.setAccessibleName("Timeline of administrations")

    @property
    def rows(self) -> list[tuple[str, datetime, datetime, tuple[tuple[datetime, datetime], ...], str]]:
        return list(self._rows)

    def set_rows(
        self, rows: list[tuple[str, datetime, datetime, tuple[tuple[datetime, datetime], ...], str]]
    ) -> None:
        self._rows = rows
        self.setFixedHeight(self.ROW * max(2, len(rows) + 1))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 - Qt's name
        painter = QPainter(self)
        painter.fillRect(self.rect(), self.palette().base())
        if not self._rows:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "Nothing started yet")
            return
        first = min(r[1] for r in self._rows)
        last = max(r[2] for r in self._rows)
        span = max((last - first).total_seconds(), 60.0)
        label_width = 150
        width = max(self.width() - label_width - 10, 50)

        def x(moment: datetime) -> float:
            return label_width + (moment - first).total_seconds() / span * width

        painter.setPen(self.palette().text().color())
        painter.drawText(QRectF(label_width, 0, 80, self.ROW), Qt.AlignmentFlag.AlignVCenter, _local(first))
        painter.drawText(
            QRectF(self.width() - 80, 0, 75, self.ROW),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight,
            _local(last),
        )
        for index, (label, start, stop, pauses, codes) in enumerate(self._rows, start=1):
            top = index * self.ROW
            painter.setPen(self.palette().text().color())
            painter.drawText(QRectF(4, top, label_width - 8, self.ROW), Qt.AlignmentFlag.AlignVCenter, label)
            bar = QRectF(x(start), top + 5, max(x(stop) - x(start), 3), self.ROW - 10)
            painter.fillRect(bar, QColor(70, 130, 180))
            for paused, resumed in pauses:
                painter.fillRect(
                    QRectF(x(paused), top + 5, max(x(resumed) - x(paused), 2), self.ROW - 10),
                    QColor(220, 220, 220),
                )
            painter.setPen(QPen(QColor(255, 255, 255)))
            painter.drawText(bar.adjusted(4, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, codes)
        painter.end()


class EditTimesDialog(QDialog):
    """Start and stop times of one administration, in the clinic's local time, and a reason."""

    def __init__(self, admin: AdministrationView, *, signed: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("editTimesDialog")
        self.setWindowTitle(f"Edit times — {admin.drug}")
        self._admin = admin
        form = QFormLayout(self)
        self.start_edit = QLineEdit(_local(admin.start_at))
        self.start_edit.setObjectName("editStart")
        self.stop_edit = QLineEdit(_local(admin.stop_at))
        self.stop_edit.setObjectName("editStop")
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("editReason")
        self.reason_edit.setPlaceholderText("Required: the visit is signed" if signed else "Optional")
        self.error_label = QLabel("")
        self.error_label.setObjectName("editError")
        form.addRow("&Start (HH:MM)", self.start_edit)
        form.addRow("S&top (HH:MM)", self.stop_edit)
        form.addRow("&Reason", self.reason_edit)
        form.addRow(self.error_label)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._changes: dict[str, datetime] = {}
        pin_minimum_size(self)

    def _at(self, text: str, like: datetime | None) -> datetime | None:
        text = text.strip()
        if not text:
            return None
        hours, _, minutes = text.partition(":")
        base = (like or datetime.now(UTC)).astimezone()
        return base.replace(hour=int(hours), minute=int(minutes), second=0, microsecond=0).astimezone(UTC)

    def _check(self) -> None:
        try:
            start = self._at(self.start_edit.text(), self._admin.start_at)
            stop = self._at(self.stop_edit.text(), self._admin.stop_at or self._admin.start_at)
        except ValueError:
            self.error_label.setText("Times are HH:MM, for example 09:05.")
            return
        self._changes = {}
        if start is not None and start != self._admin.start_at:
            self._changes["start_at"] = start
        if stop is not None and stop != self._admin.stop_at:
            self._changes["stop_at"] = stop
        self.accept()

    def changes(self) -> dict[str, datetime]:
        return dict(self._changes)

    def reason(self) -> str | None:
        return self.reason_edit.text().strip() or None


class ChairView(QWidget):
    """The Nursing workspace."""

    visitChanged = Signal(int)  # emitted after every refresh of the open visit
    visitStatusChanged = Signal(int)  # checked in, seated or signed: the chair list is out of date

    def __init__(
        self, services: Services, actor: Actor, *, clock: Clock = _utc_now, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("chairView")
        self._services = services
        self._nursing = NursingService(services.db)
        self._actor = actor
        self._clock = clock
        self._runner = TaskRunner(self)
        self._visit_id: int | None = None
        self._sheet: VisitSheet | None = None
        self._coding: CodingResult | None = None
        self._drugs: list[DrugChoice] = []
        self._build()
        self._runner.run(lambda: services.clinic.drugs(actor), self._fill_drugs, self._error)

    # --- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.header = QLabel("Pick a patient from today's list.")
        self.header.setObjectName("visitHeader")
        self.header.setWordWrap(True)
        layout.addWidget(self.header)

        visit_row = QHBoxLayout()
        self.check_in_button = QPushButton("&Check in")
        self.check_in_button.setObjectName("checkInButton")
        self.weight_edit = QLineEdit()
        self.weight_edit.setObjectName("weightEdit")
        self.weight_edit.setPlaceholderText("Weight kg")
        self.weight_edit.setAccessibleName("Today's weight in kilograms")
        self.seat_button = QPushButton("S&eat")
        self.seat_button.setObjectName("seatButton")
        self.sign_button = QPushButton("Si&gn visit")
        self.sign_button.setObjectName("signButton")
        for widget in (self.check_in_button, self.weight_edit, self.seat_button, self.sign_button):
            visit_row.addWidget(widget)
        layout.addLayout(visit_row)

        self.admin_table = QTableWidget(0, 8)
        self.admin_table.setObjectName("adminTable")
        self.admin_table.setHorizontalHeaderLabels(
            ["Drug", "Method", "Site", "Start", "Stop", "Min", "Dose", "Status"]
        )
        self.admin_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.admin_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.admin_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.admin_table.setAccessibleName("Administrations")
        layout.addWidget(self.admin_table)

        actions = QHBoxLayout()
        self.start_button = QPushButton("&Start  (F6)")
        self.start_button.setObjectName("startButton")
        self.stop_button = QPushButton("S&top  (F7)")
        self.stop_button.setObjectName("stopButton")
        self.pause_button = QPushButton("&Pause / Resume  (F8)")
        self.pause_button.setObjectName("pauseButton")
        self.edit_button = QPushButton("E&dit times…")
        self.edit_button.setObjectName("editButton")
        for widget in (self.start_button, self.stop_button, self.pause_button, self.edit_button):
            actions.addWidget(widget)
        layout.addLayout(actions)

        add_box = QGroupBox("Add an administration")
        form = QGridLayout(add_box)
        self.drug_combo = QComboBox()
        self.drug_combo.setObjectName("drugCombo")
        self.drug_combo.setEditable(False)
        self.drug_combo.setAccessibleName("Drug")
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("methodCombo")
        for method in AdminMethod:
            self.method_combo.addItem(method.value, method)
        self.site_edit = QLineEdit()
        self.site_edit.setObjectName("siteEdit")
        self.site_edit.setPlaceholderText("IV site (e.g. L forearm)")
        self.bag_edit = QLineEdit()
        self.bag_edit.setObjectName("bagEdit")
        self.bag_edit.setPlaceholderText("Bag (same label = mixed)")
        self.dose_edit = QLineEdit()
        self.dose_edit.setObjectName("doseEdit")
        self.dose_edit.setPlaceholderText("Dose")
        self.waste_edit = QLineEdit()
        self.waste_edit.setObjectName("wasteEdit")
        self.waste_edit.setPlaceholderText("Wasted")
        self.scan_edit = QLineEdit()
        self.scan_edit.setObjectName("scanEdit")
        self.scan_edit.setPlaceholderText("NDC, or scan the vial's barcode")
        self.lot_edit = QLineEdit()
        self.lot_edit.setObjectName("lotEdit")
        self.lot_edit.setPlaceholderText("Lot")
        self.expiry_edit = QLineEdit()
        self.expiry_edit.setObjectName("expiryEdit")
        self.expiry_edit.setPlaceholderText("Expiry MM/DD/YYYY")
        self.primary_check = QCheckBox("Primary reason for the visit")
        self.primary_check.setObjectName("primaryCheck")
        self.add_button = QPushButton("&Add")
        self.add_button.setObjectName("addButton")
        self.add_now_button = QPushButton("Add and start &now")
        self.add_now_button.setObjectName("addNowButton")
        cells = [
            ("Drug", self.drug_combo),
            ("Method", self.method_combo),
            ("Site", self.site_edit),
            ("Bag", self.bag_edit),
            ("Dose", self.dose_edit),
            ("Waste", self.waste_edit),
            ("NDC / scan", self.scan_edit),
            ("Lot", self.lot_edit),
            ("Expiry", self.expiry_edit),
        ]
        for index, (label, widget) in enumerate(cells):
            row, col = divmod(index, 3)
            caption = QLabel(label)
            caption.setBuddy(widget)
            form.addWidget(caption, row, col * 2)
            form.addWidget(widget, row, col * 2 + 1)
        form.addWidget(self.primary_check, 3, 0, 1, 2)
        form.addWidget(self.add_button, 3, 4)
        form.addWidget(self.add_now_button, 3, 5)
        layout.addWidget(add_box)

        vitals_box = QGroupBox("Vitals and reactions")
        vitals = QHBoxLayout(vitals_box)
        self.bp_edit = QLineEdit()
        self.bp_edit.setObjectName("bpEdit")
        self.bp_edit.setPlaceholderText("BP 120/80")
        self.pulse_edit = QLineEdit()
        self.pulse_edit.setObjectName("pulseEdit")
        self.pulse_edit.setPlaceholderText("Pulse")
        self.spo2_edit = QLineEdit()
        self.spo2_edit.setObjectName("spo2Edit")
        self.spo2_edit.setPlaceholderText("SpO2")
        self.temp_edit = QLineEdit()
        self.temp_edit.setObjectName("tempEdit")
        self.temp_edit.setPlaceholderText("Temp °C")
        self.vitals_button = QPushButton("Record &vitals")
        self.vitals_button.setObjectName("vitalsButton")
        self.reaction_edit = QLineEdit()
        self.reaction_edit.setObjectName("reactionEdit")
        self.reaction_edit.setPlaceholderText("Reaction and what was done")
        self.severity_combo = QComboBox()
        self.severity_combo.setObjectName("severityCombo")
        for severity in Severity:
            self.severity_combo.addItem(severity.value, severity)
        self.reaction_drug_combo = QComboBox()
        self.reaction_drug_combo.setObjectName("reactionDrugCombo")
        self.reaction_drug_combo.setAccessibleName("Drug given for the reaction")
        self.reaction_dose_edit = QLineEdit()
        self.reaction_dose_edit.setObjectName("reactionDoseEdit")
        self.reaction_dose_edit.setPlaceholderText("Dose given")
        self.reaction_button = QPushButton("Record &reaction")
        self.reaction_button.setObjectName("reactionButton")
        for widget in (
            self.bp_edit,
            self.pulse_edit,
            self.spo2_edit,
            self.temp_edit,
            self.vitals_button,
            self.reaction_edit,
            self.severity_combo,
            self.reaction_drug_combo,
            self.reaction_dose_edit,
            self.reaction_button,
        ):
            vitals.addWidget(widget)
        layout.addWidget(vitals_box)

        self.timeline = TimelineWidget()
        layout.addWidget(self.timeline)
        self.lines_table = QTableWidget(0, 4)
        self.lines_table.setObjectName("linesTable")
        self.lines_table.setHorizontalHeaderLabels(["Code", "Units", "Modifiers", "Why"])
        self.lines_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.lines_table.setAccessibleName("Coded lines")
        self.lines_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout.addWidget(self.lines_table)
        self.warnings_label = QLabel("")
        self.warnings_label.setObjectName("codingWarnings")
        self.warnings_label.setWordWrap(True)
        layout.addWidget(self.warnings_label)

        self.check_in_button.clicked.connect(self._check_in)
        self.seat_button.clicked.connect(self._seat)
        self.sign_button.clicked.connect(self._sign)
        self.start_button.clicked.connect(self.start_selected)
        self.stop_button.clicked.connect(self.stop_selected)
        self.pause_button.clicked.connect(self.pause_or_resume_selected)
        self.edit_button.clicked.connect(self.edit_selected)
        self.add_button.clicked.connect(lambda: self._add(start_now=False))
        self.add_now_button.clicked.connect(lambda: self._add(start_now=True))
        self.scan_edit.returnPressed.connect(self._read_scan)
        self.vitals_button.clicked.connect(self._vitals)
        self.reaction_button.clicked.connect(self._reaction)
        for key, slot in (
            (Qt.Key.Key_F6, self.start_selected),
            (Qt.Key.Key_F7, self.stop_selected),
            (Qt.Key.Key_F8, self.pause_or_resume_selected),
        ):
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(slot)
        can_document = self._actor.can(Permission.DOCUMENT_ADMINISTRATION)
        for widget in (
            self.seat_button,
            self.start_button,
            self.stop_button,
            self.pause_button,
            self.add_button,
            self.add_now_button,
            self.vitals_button,
            self.reaction_button,
        ):
            widget.setEnabled(can_document)
        self.sign_button.setEnabled(self._actor.can(Permission.SIGN_VISIT))
        self.check_in_button.setEnabled(self._actor.can(Permission.CHECK_IN))

    # --- loading ------------------------------------------------------------------------

    def _fill_drugs(self, drugs: list[DrugChoice]) -> None:
        self._drugs = drugs
        self.drug_combo.clear()
        self.reaction_drug_combo.clear()
        self.reaction_drug_combo.addItem("No drug given", None)
        for drug in drugs:
            self.drug_combo.addItem(drug.label, drug.id)
            self.reaction_drug_combo.addItem(drug.label, drug.id)

    def open_visit(self, visit_id: int) -> None:
        self._visit_id = visit_id
        self._refresh()

    def _refresh(self) -> None:
        visit_id = self._visit_id
        if visit_id is None:
            return
        actor = self._actor
        nursing = self._nursing
        now = self._clock()

        def load() -> tuple[VisitSheet, CodingResult]:
            return nursing.visit_sheet(actor, visit_id), nursing.live_coding(actor, visit_id, now)

        self._runner.run(load, self._show_visit, self._error)

    def _show_visit(self, loaded: tuple[VisitSheet, CodingResult]) -> None:
        sheet, coding = loaded
        self._sheet, self._coding = sheet, coding
        dose = (
            f"; give {sheet.dose_to_give:f} ({sheet.dose_note})"
            if sheet.dose_to_give is not None
            else (f"; {sheet.dose_note}" if sheet.dose_note else "")
        )
        signed = f" — signed {_local(sheet.signed_at)}" if sheet.signed_at else ""
        self.header.setText(
            f"<b>{sheet.patient_name}</b> ({sheet.mrn}) — {sheet.chair or 'no chair'} — "
            f"{sheet.status.value.replace('_', ' ')}{signed}<br>"
            f"Order: {sheet.ordered_drug or 'none'} {sheet.ordered_dose or ''}{dose}"
        )
        if sheet.ordered_drug_id is not None:
            index = self.drug_combo.findData(sheet.ordered_drug_id)
            if index >= 0 and not sheet.administrations:
                self.drug_combo.setCurrentIndex(index)
                if sheet.dose_to_give is not None and not self.dose_edit.text():
                    self.dose_edit.setText(f"{sheet.dose_to_give:f}")
        selected = self.selected_administration()
        now = self._clock()
        self.admin_table.setRowCount(len(sheet.administrations))
        for index, admin in enumerate(sheet.administrations):
            minutes = _minutes(admin, now)
            status = (
                "paused"
                if admin.paused
                else "running"
                if admin.running
                else "stopped"
                if admin.stop_at
                else "given"
                if admin.start_at
                else "not started"
            )
            if admin.method is not AdminMethod.INFUSION and admin.start_at is not None:
                status = "given"
            dose = f"{admin.dose_amount:f} {admin.dose_unit}" if admin.dose_amount is not None else ""
            values = (
                admin.drug,
                admin.method.value,
                admin.iv_site or "",
                _local(admin.start_at),
                _local(admin.stop_at),
                "" if minutes is None else str(minutes),
                dose,
                status,
            )
            for column, value in enumerate(values):
                item = _item(value)
                item.setData(Qt.ItemDataRole.UserRole, admin.id)
                self.admin_table.setItem(index, column, item)
            if admin.id == selected:
                self.admin_table.selectRow(index)
        self.lines_table.setRowCount(len(coding.lines))
        for index, line in enumerate(coding.lines):
            for column, value in enumerate(
                (line.code, str(line.units), " ".join(line.modifiers), line.explanation.partition(": ")[2])
            ):
                self.lines_table.setItem(index, column, _item(value))
        self.warnings_label.setText("\n".join(f"⚠ {w.message}" for w in coding.warnings))
        codes_by_admin: dict[str, list[str]] = {}
        for line in coding.lines:
            for admin_id in line.administrations:
                label = line.code + ("-" + "-".join(line.modifiers) if line.modifiers else "")
                codes_by_admin.setdefault(admin_id, []).append(label)
        rows = []
        for admin in sheet.administrations:
            if admin.start_at is None:
                continue
            stop = admin.stop_at or (now if admin.method is AdminMethod.INFUSION else admin.start_at)
            pauses = tuple((p, r or stop) for p, r in admin.pauses)
            rows.append(
                (
                    admin.drug,
                    admin.start_at,
                    max(stop, admin.start_at),
                    pauses,
                    " ".join(codes_by_admin.get(str(admin.id), [])),
                )
            )
        self.timeline.set_rows(rows)
        self.visitChanged.emit(sheet.visit_id)

    # --- actions ------------------------------------------------------------------------

    def selected_administration(self) -> int | None:
        rows = self.admin_table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.admin_table.item(rows[0].row(), 0)
        return None if item is None else int(item.data(Qt.ItemDataRole.UserRole))

    def _act(self, fn: Callable[[], Any], *, status_changes: bool = False) -> None:
        visit_id = self._visit_id

        def done(_result: Any) -> None:
            self._refresh()
            if status_changes and visit_id is not None:
                self.visitStatusChanged.emit(visit_id)

        self._runner.run(fn, done, self._error)

    def _error(self, exc: Exception) -> None:
        show_error(self, exc)

    def _require_visit(self) -> int | None:
        if self._visit_id is None:
            self.header.setText("Pick a patient from today's list first.")
        return self._visit_id

    def start_selected(self) -> None:
        admin_id, actor, at = self.selected_administration(), self._actor, self._clock()
        if admin_id is not None:
            self._act(lambda: self._nursing.start(actor, admin_id, at))

    def stop_selected(self) -> None:
        admin_id, actor, at = self.selected_administration(), self._actor, self._clock()
        if admin_id is not None:
            self._act(lambda: self._nursing.stop(actor, admin_id, at))

    def pause_or_resume_selected(self) -> None:
        admin_id, actor, at = self.selected_administration(), self._actor, self._clock()
        if admin_id is None or self._sheet is None:
            return
        admin = next(a for a in self._sheet.administrations if a.id == admin_id)
        if admin.paused:
            self._act(lambda: self._nursing.resume(actor, admin_id, at))
        else:
            self._act(lambda: self._nursing.pause(actor, admin_id, at))

    def edit_selected(self) -> None:
        """Correct a start or stop time; once the visit is signed the change needs a reason."""
        admin_id = self.selected_administration()
        if admin_id is None or self._sheet is None:
            return
        admin = next(a for a in self._sheet.administrations if a.id == admin_id)
        dialog = EditTimesDialog(admin, signed=self._sheet.signed_at is not None, parent=self)
        dialog.accepted.connect(lambda: self._save_times(admin_id, dialog))
        dialog.open()
        self._edit_dialog = dialog

    def _save_times(self, admin_id: int, dialog: EditTimesDialog) -> None:
        changes = dialog.changes()
        if not changes:
            return
        actor, reason = self._actor, dialog.reason()
        self._act(lambda: self._nursing.update_administration(actor, admin_id, changes, reason=reason))

    def _check_in(self) -> None:
        visit_id, actor, at = self._require_visit(), self._actor, self._clock()
        if visit_id is not None:
            self._act(lambda: self._nursing.check_in(actor, visit_id, at), status_changes=True)

    def _seat(self) -> None:
        visit_id, actor, weight = self._require_visit(), self._actor, self.weight_edit.text().strip()
        if visit_id is not None:
            self._act(
                lambda: self._nursing.seat(actor, visit_id, weight_kg=weight or None), status_changes=True
            )

    def _sign(self) -> None:
        visit_id, actor, at = self._require_visit(), self._actor, self._clock()
        if visit_id is not None:
            self._act(lambda: self._nursing.sign(actor, visit_id, at), status_changes=True)

    def _read_scan(self) -> None:
        """A scanner types the GS1 string and Enter: fill NDC, lot and expiry from it."""
        text = self.scan_edit.text()
        if not text.strip() or text.replace("-", "").strip().isdigit():
            return
        try:
            scan = parse_gs1(text)
        except BarcodeError as exc:
            self.warnings_label.setText(f"⚠ Barcode not read: {exc}")
            return
        drug_id = self.drug_combo.currentData()
        known = {n for d in self._drugs if d.id == drug_id for n in d.ndcs} or {
            n for d in self._drugs for n in d.ndcs
        }
        try:
            ndc = match_ndc(scan, known)
        except BarcodeError as exc:
            self.warnings_label.setText(f"⚠ {exc}")
            return
        self.scan_edit.setText(ndc or "")
        if ndc is None:
            self.warnings_label.setText("⚠ The scanned package is not in the catalog: type the NDC.")
        if scan.lot:
            self.lot_edit.setText(scan.lot)
        if scan.expiry:
            self.expiry_edit.setText(scan.expiry.strftime("%m/%d/%Y"))

    def _draft(self, start_now: bool) -> AdministrationDraft | None:
        expiry_text = self.expiry_edit.text().strip()
        expiry = None
        if expiry_text:
            try:
                expiry = datetime.strptime(expiry_text, "%m/%d/%Y").date()  # noqa: DTZ007 - a date
            except ValueError:
                self.warnings_label.setText("⚠ Expiry: use MM/DD/YYYY.")
                return None
        method = AdminMethod(self.method_combo.currentData())  # Qt returns enum members as plain str
        now = self._clock()
        return AdministrationDraft(
            method=method,
            drug_id=self.drug_combo.currentData(),
            iv_site=self.site_edit.text().strip() or None,
            bag=self.bag_edit.text().strip() or None,
            dose_amount=self.dose_edit.text().strip() or None,
            waste_amount=self.waste_edit.text().strip() or None,
            lot=self.lot_edit.text().strip() or None,
            lot_expiry=expiry,
            ndc=self.scan_edit.text().strip() or None,
            is_primary_reason=self.primary_check.isChecked(),
            start_at=now if start_now or method is not AdminMethod.INFUSION else None,
        )

    def _add(self, *, start_now: bool) -> None:
        visit_id, actor = self._require_visit(), self._actor
        draft = self._draft(start_now)
        if visit_id is None or draft is None:
            return

        def done(_admin_id: Any) -> None:
            for edit in (
                self.dose_edit,
                self.waste_edit,
                self.scan_edit,
                self.lot_edit,
                self.expiry_edit,
                self.bag_edit,
            ):
                edit.clear()
            self.primary_check.setChecked(False)
            self._refresh()

        self._runner.run(lambda: self._nursing.add_administration(actor, visit_id, draft), done, self._error)

    def _vitals(self) -> None:
        visit_id, actor = self._require_visit(), self._actor
        if visit_id is None:
            return
        systolic = diastolic = None
        bp = self.bp_edit.text().strip()
        try:
            if bp:
                high, _, low = bp.partition("/")
                systolic, diastolic = int(high), int(low)
            pulse = int(self.pulse_edit.text()) if self.pulse_edit.text().strip() else None
            spo2 = int(self.spo2_edit.text()) if self.spo2_edit.text().strip() else None
        except ValueError:
            self.warnings_label.setText("⚠ Vitals: BP as 120/80, pulse and SpO2 as whole numbers.")
            return
        vitals = VitalsInput(
            taken_at=self._clock(),
            systolic=systolic,
            diastolic=diastolic,
            pulse=pulse,
            spo2=spo2,
            temperature_c=self.temp_edit.text().strip() or None,
        )

        def done(_id: Any) -> None:
            for edit in (self.bp_edit, self.pulse_edit, self.spo2_edit, self.temp_edit):
                edit.clear()
            self._refresh()

        self._runner.run(lambda: self._nursing.record_vitals(actor, visit_id, vitals), done, self._error)

    def _reaction_drug(self, at: datetime) -> AdministrationDraft | None:
        """The drug given for the reaction, pushed now through the current line; it is coded too."""
        drug_id = self.reaction_drug_combo.currentData()
        if drug_id is None:
            return None
        site = (
            next((a.iv_site for a in self._sheet.administrations if a.iv_site), None) if self._sheet else None
        )
        return AdministrationDraft(
            method=AdminMethod.PUSH,
            drug_id=drug_id,
            iv_site=site,
            dose_amount=self.reaction_dose_edit.text().strip() or None,
            start_at=at,
        )

    def _reaction(self) -> None:
        visit_id, actor = self._require_visit(), self._actor
        text = self.reaction_edit.text().strip()
        if visit_id is None or not text:
            return
        at = self._clock()
        reaction = ReactionInput(
            onset_at=at,
            severity=Severity(self.severity_combo.currentData()),
            description=text,
            administration_id=self.selected_administration(),
            interventions=[
                InterventionInput(performed_at=at, description=text, drug=self._reaction_drug(at))
            ],
        )

        def done(_id: Any) -> None:
            self.reaction_edit.clear()
            self.reaction_dose_edit.clear()
            self.reaction_drug_combo.setCurrentIndex(0)
            self._refresh()

        self._runner.run(lambda: self._nursing.record_reaction(actor, visit_id, reaction), done, self._error)


__all__ = ["ChairView", "TimelineWidget"]
