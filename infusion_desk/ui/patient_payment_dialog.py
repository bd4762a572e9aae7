"""Take a patient's payment at the desk: amount, method, reference, the lines it pays, and the receipt.

    dialog = PatientPaymentDialog(desk, actor, account, parent)
    dialog.posted.connect(view.reload)        # the account view refreshes from the record
    dialog.open()

By default the payment goes to the oldest patient-due lines; "Choose lines" lists the
lines due with a check box each, paid top to bottom. The preview under the form shows what
each choice pays and the credit left over before anything is saved; the rules are
:mod:`infusion_desk.billing.allocation`, the saving is :class:`PatientPaymentService`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence, QShortcut, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing.allocation import AllocationError, DueLine, allocate
from infusion_desk.models.enums import PaymentMethod
from infusion_desk.services.access import Actor
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.patient_payments import (
    PatientAccount,
    PatientPaymentService,
    PaymentInput,
    PaymentRecord,
    parse_amount,
)
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

METHODS = (
    (PaymentMethod.CASH, "Cash"),
    (PaymentMethod.CHECK, "Check"),
    (PaymentMethod.CARD, "Card"),
    (PaymentMethod.OTHER, "Other"),
)
REFERENCE_HINTS = {
    PaymentMethod.CASH.value: "optional",
    PaymentMethod.CHECK.value: "check number",
    PaymentMethod.CARD.value: "approval code or last 4 digits",
    PaymentMethod.OTHER.value: "optional",
}

SavePath = Callable[[QWidget, str], "str | None"]


def dollars(value: Decimal) -> str:
    return f"${value:,.2f}"


def ask_save_path(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(parent, "Save receipt", suggested, "PDF (*.pdf)")
    return path or None


class PatientPaymentDialog(QDialog):
    """Record one payment on ``account``; emits :attr:`posted` with the saved record."""

    posted = Signal(object)  # PaymentRecord

    def __init__(
        self,
        desk: PatientPaymentService,
        actor: Actor,
        account: PatientAccount,
        parent: QWidget | None = None,
        *,
        save_path: SavePath | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientPaymentDialog")
        self.setWindowTitle(f"Take payment — {account.patient_name}")
        self._desk, self._actor, self._account = desk, actor, account
        self._runner = TaskRunner(self)
        self._save_path = save_path or ask_save_path
        self.record: PaymentRecord | None = None
        self._due = account.due_lines

        name = html.escape(account.patient_name)
        owes = f"<b>{name}</b> (MRN {html.escape(account.mrn)}) owes {dollars(account.patient_due)}"
        if account.credit_balance > 0:
            owes += f"; credit on account {dollars(account.credit_balance)}"
        heading = QLabel(owes, self)
        heading.setObjectName("paymentHeading")
        heading.setWordWrap(True)

        self.amount = QLineEdit(self)
        self.amount.setObjectName("paymentAmount")
        self.amount.setPlaceholderText("0.00")
        if account.patient_due > 0:
            self.amount.setText(f"{account.patient_due:.2f}")
        self.method = QComboBox(self)
        self.method.setObjectName("paymentMethod")
        for method, label in METHODS:
            self.method.addItem(label, method.value)
        self.reference = QLineEdit(self)
        self.reference.setObjectName("paymentReference")
        self.received_on = QDateEdit(self)
        self.received_on.setObjectName("paymentReceivedOn")
        self.received_on.setDisplayFormat("MM/dd/yyyy")
        self.received_on.setCalendarPopup(True)
        today = today_local()
        self.received_on.setDate(QDate(today.year, today.month, today.day))
        self.received_on.setMaximumDate(QDate(today.year, today.month, today.day))

        self.oldest = QRadioButton("Pay the &oldest lines first", self)
        self.oldest.setObjectName("payOldest")
        self.oldest.setChecked(True)
        self.choose = QRadioButton("C&hoose lines", self)
        self.choose.setObjectName("chooseLines")
        self._mode = QButtonGroup(self)
        self._mode.addButton(self.oldest)
        self._mode.addButton(self.choose)

        self.lines_model = QStandardItemModel(0, 5, self)
        self.lines_model.setHorizontalHeaderLabels(["Pay", "Date of service", "Claim", "Service", "Due"])
        for line in self._due:
            check = QStandardItem()
            check.setCheckable(True)
            check.setCheckState(Qt.CheckState.Unchecked)
            check.setEditable(False)
            check.setData(line.line_id, Qt.ItemDataRole.UserRole)
            cells = [check] + [
                QStandardItem(text)
                for text in (us_date(line.service_date), line.claim_number, line.code, dollars(line.due))
            ]
            for cell in cells[1:]:
                cell.setEditable(False)
            self.lines_model.appendRow(cells)
        self.lines = QTableView(self)
        self.lines.setObjectName("paymentLines")
        self.lines.setAccessibleName("Lines due")
        self.lines.setModel(self.lines_model)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.lines.setTabKeyNavigation(False)
        self.lines.verticalHeader().hide()
        self.lines.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.lines.horizontalHeader().setStretchLastSection(True)
        self.lines.setEnabled(False)
        self.lines.installEventFilter(self)
        if not self._due:
            self.choose.setEnabled(False)

        self.preview = QLabel(self)
        self.preview.setObjectName("paymentPreview")
        self.preview.setWordWrap(True)
        self.findings = QLabel(self)
        self.findings.setObjectName("paymentFindings")
        self.findings.setWordWrap(True)
        set_tone(self.findings, ERROR)
        self.result = QLabel(self)
        self.result.setObjectName("paymentResult")
        self.result.setWordWrap(True)

        self.post_button = QPushButton("&Post payment  (Ctrl+Enter)", self)
        self.post_button.setObjectName("postPaymentButton")
        self.post_button.setDefault(True)
        self.post_button.clicked.connect(self.post)
        self.receipt_button = QPushButton("Save r&eceipt…", self)
        self.receipt_button.setObjectName("paymentReceiptButton")
        self.receipt_button.setEnabled(False)
        self.receipt_button.clicked.connect(self.save_receipt)
        self.close_button = QPushButton("Cancel", self)
        self.close_button.setObjectName("paymentCloseButton")
        self.close_button.clicked.connect(self.reject)
        for sequence in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(sequence), self, self.post)

        form = QFormLayout()
        for text, field in (
            ("&Amount:", self.amount),
            ("Paid &by:", self.method),
            ("&Reference:", self.reference),
            ("Recei&ved on:", self.received_on),
        ):
            label = QLabel(text, self)
            label.setBuddy(field)
            form.addRow(label, field)
        modes = QHBoxLayout()
        modes.addWidget(self.oldest)
        modes.addWidget(self.choose)
        modes.addStretch(1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.receipt_button)
        buttons.addStretch(1)
        buttons.addWidget(self.post_button)
        buttons.addWidget(self.close_button)
        layout = QVBoxLayout(self)
        layout.addWidget(heading)
        layout.addLayout(form)
        layout.addLayout(modes)
        layout.addWidget(self.lines)
        layout.addWidget(self.preview)
        layout.addWidget(self.findings)
        layout.addWidget(self.result)
        layout.addLayout(buttons)
        for first, second in (
            (self.amount, self.method),
            (self.method, self.reference),
            (self.reference, self.received_on),
            (self.received_on, self.oldest),
            (self.oldest, self.choose),
            (self.choose, self.lines),
            (self.lines, self.post_button),
            (self.post_button, self.receipt_button),
            (self.receipt_button, self.close_button),
        ):
            QWidget.setTabOrder(first, second)

        self.amount.textChanged.connect(self._update_preview)
        self.method.currentIndexChanged.connect(self._method_changed)
        self.choose.toggled.connect(self._mode_changed)
        self.lines_model.itemChanged.connect(self._update_preview)
        self._method_changed()
        self._update_preview()
        self.amount.setFocus()
        self.amount.selectAll()

    # The preview --------------------------------------------------------------------------
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            watched is self.lines
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.key() == Qt.Key.Key_Space
        ):
            index = self.lines.currentIndex()
            if index.isValid():
                item = self.lines_model.item(index.row(), 0)
                checked = item.checkState() == Qt.CheckState.Checked
                item.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)
            return True
        return super().eventFilter(watched, event)

    def chosen_line_ids(self) -> tuple[int, ...] | None:
        if not self.choose.isChecked():
            return None
        return tuple(
            int(self.lines_model.item(row, 0).data(Qt.ItemDataRole.UserRole))
            for row in range(self.lines_model.rowCount())
            if self.lines_model.item(row, 0).checkState() == Qt.CheckState.Checked
        )

    def _method_changed(self) -> None:
        self.reference.setPlaceholderText(REFERENCE_HINTS.get(str(self.method.currentData()), ""))

    def _mode_changed(self, choosing: bool) -> None:
        self.lines.setEnabled(choosing)
        if choosing:
            self.lines.setFocus()
            self.lines.setCurrentIndex(self.lines_model.index(0, 0))
        self._update_preview()

    def _update_preview(self) -> None:
        amount, problems = parse_amount(self.amount.text())
        if amount is None:
            self.preview.setText(problems[0].message if self.amount.text().strip() else "")
            return
        due = tuple(
            DueLine(line.line_id, line.service_date, line.line_number, line.due) for line in self._due
        )
        try:
            result = allocate(amount, due, chosen=self.chosen_line_ids())
        except AllocationError:
            self.preview.setText("")
            return
        paid = len(result.lines)
        parts = [f"Pays {dollars(result.allocated)} on {paid} line{'s' if paid != 1 else ''}"]
        parts.append(f"credit left over {dollars(result.credit)}")
        self.preview.setText("; ".join(parts) + ".")

    # Posting ------------------------------------------------------------------------------
    def post(self) -> None:
        if self.record is not None or self._runner.busy:
            return
        chosen = self.chosen_line_ids()
        if chosen == ():
            self.findings.setText("Check at least one line, or pay the oldest lines first.")
            return
        day = self.received_on.date()
        data = PaymentInput(
            amount=self.amount.text(),
            method=PaymentMethod(str(self.method.currentData())),
            reference=self.reference.text(),
            received_on=day.toPython(),  # type: ignore[arg-type]
            chosen_line_ids=chosen,
        )
        patient_id = self._account.patient_id
        self.findings.clear()
        self.post_button.setEnabled(False)
        self._runner.run(
            lambda: self._desk.post_payment(self._actor, patient_id, data), self._posted, self._refused
        )

    def _refused(self, exc: object) -> None:
        self.post_button.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self.findings.setText("\n".join(f.message for f in exc.findings))
            field = {
                "amount": self.amount,
                "method": self.method,
                "reference": self.reference,
                "received_on": self.received_on,
                "lines": self.lines,
            }.get(exc.findings[0].subject if exc.findings else "", self.amount)
            field.setFocus()
            return
        assert isinstance(exc, Exception)
        show_error(self, exc, retry=self.post)

    def _posted(self, record: PaymentRecord) -> None:
        self.record = record
        applied = "; ".join(f"{us_date(a.service_date)} {a.code} {dollars(a.amount)}" for a in record.applied)
        text = f"Posted {dollars(record.amount)} as receipt {record.receipt_number}."
        if applied:
            text += f" Paid: {applied}."
        if record.credit > 0:
            text += f" Credit left on the account: {dollars(record.credit)}."
        text += f" Still due: {dollars(record.patient_due)}."
        self.result.setText(text)
        for field in (self.amount, self.method, self.reference, self.received_on, self.oldest, self.choose):
            field.setEnabled(False)
        self.lines.setEnabled(False)
        self.receipt_button.setEnabled(True)
        self.close_button.setText("&Close")
        self.receipt_button.setFocus()
        self.posted.emit(record)

    def save_receipt(self) -> None:
        record = self.record
        if record is None:
            return
        path = self._save_path(self, f"receipt-{record.receipt_number}.pdf")
        if not path:
            return
        payment_id = record.payment_id

        def write() -> str:
            Path(path).write_bytes(self._desk.receipt(self._actor, payment_id))
            return path

        self._runner.run(
            write,
            lambda saved: self.result.setText(self.result.text() + f"\nReceipt saved to {saved}."),
            lambda exc: show_error(self, exc),
        )
