"""A patient's account: each billed line's split and state, payments and refunds, and what to do next.

    view = PatientAccountView(services, actor, parent)
    view.show_patient(patient_id)
    view.accountChanged.connect(...)          # after a payment, credit, refund or write-off

Totals say what the patient owes now, what still waits for insurance (never billed to the
patient) and the credit on the account. Take payment… (Ctrl+P) opens
:class:`~infusion_desk.ui.patient_payment_dialog.PatientPaymentDialog`; Apply credit puts
unapplied payments (copays, overpayments) on the lines due; Refund… and Write off small
balance are a manager's. Payment plan… (Alt+N) opens
:class:`~infusion_desk.ui.plan_dialog.PlanDialog` for the patient-due balance; the totals say
whether a plan is running (and how far behind it is) or the balance is with collections.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import LineResponsibility, PaymentMethod, PlanStatus
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.app import Services
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.patient_payments import (
    AccountLine,
    AccountPayment,
    PatientAccount,
    PatientPaymentService,
    RefundRecord,
)
from infusion_desk.services.plans import PlanDraft, PlanService, PlanView
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.patient_payment_dialog import (
    METHODS,
    PatientPaymentDialog,
    SavePath,
    ask_save_path,
    dollars,
)
from infusion_desk.ui.plan_dialog import PlanDialog
from infusion_desk.ui.prompts import AskReason, ask_reason
from infusion_desk.ui.tables import RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

_METHOD_LABELS = {method.value: label for method, label in METHODS} | {"eft": "EFT"}

LINE_COLUMNS = (
    ("Date of service", lambda line: us_date(line.service_date)),
    ("Claim", lambda line: line.claim_number),
    ("Service", lambda line: line.code),
    ("Charge", lambda line: dollars(line.charge)),
    ("Insurance paid", lambda line: dollars(line.insurance_paid)),
    ("Adjusted", lambda line: dollars(line.adjusted)),
    ("Patient's share", lambda line: dollars(line.patient_responsibility)),
    ("Patient paid", lambda line: dollars(line.patient_paid)),
    ("Due", lambda line: dollars(line.due)),
    ("State", lambda line: line.state_label),
)


def plan_text(plan: PlanView | None, account: PatientAccount) -> str:
    """The plan or collections line of the totals."""
    in_collections = sum(
        (
            line.patient_responsibility - line.patient_paid
            for line in account.lines
            if line.current and line.state is LineResponsibility.IN_COLLECTIONS
        ),
        Decimal("0.00"),
    )
    parts = []
    if plan is not None and plan.status is PlanStatus.ACTIVE:
        behind = f", {len(plan.missed)} instalment(s) missed" if plan.missed else ""
        parts.append(
            f"Active plan: {plan.instalments} × {dollars(plan.instalment_amount)} from "
            f"{us_date(plan.first_due_date)}; {dollars(plan.balance_left)} left{behind}"
        )
    elif plan is not None:
        parts.append(f"Last plan {plan.status_label.lower()}")
    if in_collections > 0:
        parts.append(f"{dollars(in_collections)} with collections")
    return "; ".join(parts) or "None"


def _kind(payment: AccountPayment) -> str:
    if payment.is_refund:
        return "Refund"
    return "Copay" if payment.visit_id is not None else "Payment"


PAYMENT_COLUMNS = (
    ("Date", lambda p: us_date(p.received_on)),
    ("Receipt", lambda p: p.receipt_number),
    ("Kind", _kind),
    ("Method", lambda p: _METHOD_LABELS.get(p.method.value, p.method.value)),
    ("Reference", lambda p: p.reference or ""),
    ("Amount", lambda p: f"-{dollars(p.amount)}" if p.is_refund else dollars(p.amount)),
    ("Not applied", lambda p: "" if p.is_refund else dollars(p.unallocated)),
)


class RefundDialog(QDialog):
    """Give back part of the credit: amount (the whole credit by default), method, reference, reason."""

    refunded = Signal(object)  # RefundRecord

    def __init__(
        self,
        desk: PatientPaymentService,
        actor: Actor,
        account: PatientAccount,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("refundDialog")
        self.setWindowTitle(f"Refund — {account.patient_name}")
        self._desk, self._actor, self._patient_id = desk, actor, account.patient_id
        self._runner = TaskRunner(self)
        self.amount = QLineEdit(f"{account.credit_balance:.2f}", self)
        self.amount.setObjectName("refundAmount")
        self.method = QComboBox(self)
        self.method.setObjectName("refundMethod")
        for method, label in METHODS:
            self.method.addItem(label, method.value)
        self.method.setCurrentIndex(self.method.findData(PaymentMethod.CHECK.value))
        self.reference = QLineEdit(self)
        self.reference.setObjectName("refundReference")
        self.reference.setPlaceholderText("check number, or card approval code")
        self.reason = QLineEdit(self)
        self.reason.setObjectName("refundReason")
        self.findings = QLabel(self)
        self.findings.setObjectName("refundFindings")
        self.findings.setWordWrap(True)
        set_tone(self.findings, ERROR)
        self.ok_button = QPushButton("&Refund", self)
        self.ok_button.setObjectName("refundButton")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow(QLabel(f"Credit on account: {dollars(account.credit_balance)}", self))
        for text, field in (
            ("&Amount:", self.amount),
            ("Refunded &by:", self.method),
            ("Re&ference:", self.reference),
            ("Rea&son:", self.reason),
        ):
            label = QLabel(text, self)
            label.setBuddy(field)
            form.addRow(label, field)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ok_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.findings)
        layout.addLayout(buttons)
        self.amount.setFocus()
        self.amount.selectAll()

    def submit(self) -> None:
        if self._runner.busy:
            return
        amount, reference, reason = self.amount.text(), self.reference.text(), self.reason.text()
        method = PaymentMethod(str(self.method.currentData()))
        patient_id = self._patient_id
        self.findings.clear()
        self._runner.run(
            lambda: self._desk.refund(self._actor, patient_id, amount, method, reference, reason),
            self._done,
            self._refused,
        )

    def _refused(self, exc: object) -> None:
        if isinstance(exc, ValidationFailed):
            self.findings.setText("\n".join(f.message for f in exc.findings))
            return
        assert isinstance(exc, Exception)
        show_error(self, exc)

    def _done(self, record: RefundRecord) -> None:
        self.refunded.emit(record)
        self.accept()


class PatientAccountView(QWidget):
    """The ledger of one patient (see :meth:`show_patient`), with the payment actions."""

    accountChanged = Signal(int)  # patient id
    loaded = Signal(object)  # PatientAccount

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        save_path: SavePath | None = None,
        ask: AskReason | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientAccountView")
        self._ask = ask or ask_reason
        self._actor = actor
        self._desk = PatientPaymentService(services.db)
        self._plans = PlanService(services.db)
        self.plan: PlanView | None = None
        self._runner = TaskRunner(self)
        self._save_path = save_path or ask_save_path
        self._patient_id: int | None = None
        self.account: PatientAccount | None = None
        self.dialog: QDialog | None = None

        self.heading = QLabel("No patient chosen.", self)
        self.heading.setObjectName("accountHeading")
        self.due_total = QLabel(self)
        self.due_total.setObjectName("accountDue")
        self.awaiting_total = QLabel(self)
        self.awaiting_total.setObjectName("accountAwaiting")
        self.credit_total = QLabel(self)
        self.credit_total.setObjectName("accountCredit")
        totals = QGroupBox("Balance", self)
        totals_form = QFormLayout(totals)
        totals_form.addRow("Patient owes now:", self.due_total)
        totals_form.addRow("Waiting for insurance:", self.awaiting_total)
        totals_form.addRow("Credit on account:", self.credit_total)
        self.plan_status = QLabel("None", self)
        self.plan_status.setObjectName("accountPlan")
        self.plan_status.setWordWrap(True)
        totals_form.addRow("Plan / collections:", self.plan_status)

        self.lines_model: RowTableModel[AccountLine] = RowTableModel(LINE_COLUMNS, self)
        self.lines = configure_table(QTableView(self), "accountLines", "Billed lines")
        self.lines.setModel(self.lines_model)
        self.payments_model: RowTableModel[AccountPayment] = RowTableModel(PAYMENT_COLUMNS, self)
        self.payments = configure_table(QTableView(self), "accountPayments", "Payments and refunds")
        self.payments.setModel(self.payments_model)
        lines_label = QLabel("&Lines:", self)
        lines_label.setBuddy(self.lines)
        payments_label = QLabel("Pa&yments:", self)
        payments_label.setBuddy(self.payments)

        self.message = QLabel(self)
        self.message.setObjectName("accountMessage")
        self.message.setWordWrap(True)

        self.pay_button = QPushButton("Take &payment…  (Ctrl+P)", self)
        self.pay_button.setObjectName("takePaymentButton")
        self.pay_button.clicked.connect(self.take_payment)
        take = QShortcut(QKeySequence("Ctrl+P"), self, self.take_payment)
        take.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # other pages may print with Ctrl+P
        self.credit_button = QPushButton("Apply &credit", self)
        self.credit_button.setObjectName("applyCreditButton")
        self.credit_button.clicked.connect(self.apply_credit)
        self.refund_button = QPushButton("Re&fund…", self)
        self.refund_button.setObjectName("refundCreditButton")
        self.refund_button.clicked.connect(self.refund)
        self.write_off_button = QPushButton("&Write off small balance", self)
        self.write_off_button.setObjectName("writeOffSmallButton")
        self.write_off_button.clicked.connect(self.write_off)
        self.receipt_button = QPushButton("Save r&eceipt…", self)
        self.receipt_button.setObjectName("accountReceiptButton")
        self.receipt_button.clicked.connect(self.save_receipt)
        self.plan_button = QPushButton("Payment pla&n…", self)
        self.plan_button.setObjectName("paymentPlanButton")
        self.plan_button.setToolTip("Put the patient-due balance on a payment plan")
        self.plan_button.clicked.connect(self.payment_plan)
        self.cancel_plan_button = QPushButton("C&ancel plan…", self)
        self.cancel_plan_button.setObjectName("cancelPlanButton")
        self.cancel_plan_button.setToolTip("End the running plan: its balance is patient-due again")
        self.cancel_plan_button.clicked.connect(self.cancel_plan)
        self.refund_button.setVisible(actor.can(Permission.PATIENT_REFUND))
        self.write_off_button.setVisible(actor.can(Permission.WRITE_OFF_APPROVE))
        self.payments.selectionModel().currentRowChanged.connect(lambda *_: self._update_buttons())

        buttons = QHBoxLayout()
        for button in (
            self.pay_button,
            self.credit_button,
            self.refund_button,
            self.write_off_button,
            self.receipt_button,
            self.plan_button,
            self.cancel_plan_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(totals)
        layout.addWidget(lines_label)
        layout.addWidget(self.lines, 2)
        layout.addWidget(payments_label)
        layout.addWidget(self.payments, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self._update_buttons()

    # Loading ------------------------------------------------------------------------------
    def show_patient(self, patient_id: int) -> None:
        self._patient_id = patient_id
        self.reload()

    def reload(self) -> None:
        patient_id = self._patient_id
        if patient_id is None:
            return
        self._runner.run(
            lambda: (self._desk.account(self._actor, patient_id), self._plans.plan(self._actor, patient_id)),
            self._show_with_plan,
            self._failed,
        )

    def _show_with_plan(self, value: tuple[PatientAccount, PlanView | None]) -> None:
        account, plan = value
        if account.patient_id != self._patient_id:
            return
        self.plan = plan
        self.plan_status.setText(plan_text(plan, account))
        self._show(account)

    def _failed(self, exc: object) -> None:
        assert isinstance(exc, Exception)
        show_error(self, exc, retry=self.reload)

    def _show(self, account: PatientAccount) -> None:
        if account.patient_id != self._patient_id:
            return  # an answer for the patient shown before
        self.account = account
        self.heading.setText(f"{account.patient_name} — MRN {account.mrn}")
        self.due_total.setText(dollars(account.patient_due))
        self.awaiting_total.setText(dollars(account.awaiting_insurance))
        self.credit_total.setText(dollars(account.credit_balance))
        self.lines_model.set_rows(account.lines)
        self.payments_model.set_rows(account.payments)
        self._update_buttons()
        self.loaded.emit(account)

    def _small_balance(self, account: PatientAccount) -> bool:
        return 0 < account.patient_due < account.small_balance_threshold and account.credit_balance <= 0

    def _update_buttons(self) -> None:
        account = self.account
        can_pay = self._actor.can(Permission.PATIENT_PAYMENT)
        self.pay_button.setEnabled(account is not None and can_pay)
        self.credit_button.setEnabled(
            account is not None and can_pay and account.credit_balance > 0 and account.patient_due > 0
        )
        self.refund_button.setEnabled(account is not None and account.credit_balance > 0)
        small = account is not None and self._small_balance(account)
        self.write_off_button.setEnabled(small)
        if account is not None and small:
            self.write_off_button.setText(f"&Write off small balance ({dollars(account.patient_due)})")
        else:
            self.write_off_button.setText("&Write off small balance")
        self.receipt_button.setEnabled(can_pay and self.payments.currentIndex().isValid())
        running = self.plan is not None and self.plan.status is PlanStatus.ACTIVE
        self.plan_button.setEnabled(
            account is not None and can_pay and account.patient_due > 0 and not running
        )
        self.cancel_plan_button.setEnabled(can_pay and running)

    def _changed(self, message: str) -> None:
        self.message.setText(message)
        if self._patient_id is not None:
            self.accountChanged.emit(self._patient_id)
        self.reload()

    def _action_failed(self, exc: object) -> None:
        if isinstance(exc, ValidationFailed):
            self.message.setText("\n".join(f.message for f in exc.findings))
            return
        assert isinstance(exc, Exception)
        show_error(self, exc)

    # Actions ------------------------------------------------------------------------------
    def take_payment(self) -> None:
        account = self.account
        if account is None or not self.pay_button.isEnabled():
            return
        dialog = PatientPaymentDialog(self._desk, self._actor, account, self, save_path=self._save_path)
        dialog.posted.connect(
            lambda record: self._changed(
                f"Payment {record.receipt_number} of {dollars(record.amount)} posted."
            )
        )
        self.dialog = dialog
        dialog.open()

    def apply_credit(self) -> None:
        patient_id = self._patient_id
        if patient_id is None or not self.credit_button.isEnabled():
            return
        self._runner.run(
            lambda: self._desk.apply_credit(self._actor, patient_id),
            lambda applied: self._changed(
                f"Applied {dollars(applied.amount)} of credit; {dollars(applied.credit_balance)} left."
            ),
            self._action_failed,
        )

    def refund(self) -> None:
        account = self.account
        if account is None or not self.refund_button.isEnabled():
            return
        dialog = RefundDialog(self._desk, self._actor, account, self)
        dialog.refunded.connect(
            lambda record: self._changed(f"Refunded {dollars(record.amount)} ({record.receipt_number}).")
        )
        self.dialog = dialog
        dialog.open()

    def write_off(self) -> None:
        patient_id = self._patient_id
        if patient_id is None or not self.write_off_button.isEnabled():
            return
        self._runner.run(
            lambda: self._desk.write_off_small_balances(self._actor, patient_id),
            lambda summary: self._changed(f"Wrote off a small balance of {dollars(summary.total)}."),
            self._action_failed,
        )

    def payment_plan(self) -> None:
        patient_id = self._patient_id
        if patient_id is None or not self.plan_button.isEnabled() or self._runner.busy:
            return
        self._runner.run(
            lambda: self._plans.draft(self._actor, patient_id), self._open_plan, self._action_failed
        )

    def cancel_plan(self) -> None:
        plan = self.plan
        if plan is None or not self.cancel_plan_button.isEnabled() or self._runner.busy:
            return
        reason = self._ask(self, "Cancel the payment plan", "Why is the plan cancelled?")
        if reason is None:
            return
        plan_id = plan.plan_id
        self._runner.run(
            lambda: self._plans.cancel(self._actor, plan_id, reason),
            lambda _view: self._changed("Payment plan cancelled; its balance is patient-due again."),
            self._action_failed,
        )

    def _open_plan(self, draft: PlanDraft) -> None:
        if draft.patient_id != self._patient_id:
            return
        dialog = PlanDialog(self._plans, self._actor, draft, self)
        dialog.created.connect(
            lambda view: self._changed(
                f"Payment plan made: {view.instalments} instalments, {dollars(view.total)} in all."
            )
        )
        self.dialog = dialog
        dialog.open()

    def save_receipt(self) -> None:
        index = self.payments.currentIndex()
        if not index.isValid():
            return
        payment = self.payments_model.row(index.row())
        path = self._save_path(self, f"receipt-{payment.receipt_number}.pdf")
        if not path:
            return
        payment_id = payment.payment_id

        def write() -> str:
            Path(path).write_bytes(self._desk.receipt(self._actor, payment_id))
            return path

        self._runner.run(
            write, lambda saved: self.message.setText(f"Receipt saved to {saved}."), self._failed
        )

