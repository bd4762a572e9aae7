"""Payer payments (Billing → Payments): post 835 remittances and work what they could not place.

    view = RemittancesView(services, biller)
    view.changed.connect(claims_view.refresh)   # claims paid, partially paid or denied
    view.refresh()

**Import 835 remittances…** (Ctrl+I) reads one or more 835 files on the worker thread, with a
progress bar counting files, each as one transaction: a file that cannot be read, does not
balance or was imported before changes nothing, and the others still go in. Each payment is
then posted at once or waits for review, as the payer's setting says (File → Payer coding
settings…: review first, the default; post when everything matched; post everything).
**Key paper EOB…** (Ctrl+E) opens a form to type a payer's paper EOB, which posts at once
through the same records and checks as an 835 (see :mod:`infusion_desk.ui.eob_entry_dialog`).
**Payments** lists what came in, newest first; **Post payment** (Alt+P) posts the selected
payment that waited for review. **To review** lists the payments and paid lines the import
could not put on a claim or a line, with the reason, so nothing the payer sent is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Permission
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.remittances import PostingResult, RemittanceRow, RemittanceService, ReviewItem
from infusion_desk.ui.claims_view import local_stamp
from infusion_desk.ui.eob_entry_dialog import EobEntryDialog
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.pages import Page
from infusion_desk.ui.tables import Column, RowTableModel, configure_table

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

ERA_FILTER = "Remittances (*.835 *.era *.txt *.x12 *.edi);;All files (*)"

ChooseFiles = Callable[[QWidget], list[str]]


def ask_remittance_files(parent: QWidget) -> list[str]:
    paths, _filter = QFileDialog.getOpenFileNames(parent, "Import 835 remittance files", "", ERA_FILTER)
    return list(paths)


def _dollars(amount: Any) -> str:
    return f"${amount:,.2f}"


PAYMENT_COLUMNS: tuple[Column[RemittanceRow], ...] = (
    ("Status", lambda r: "Posted" if r.posted_at else "Waiting for review"),
    ("Paid on", lambda r: us_date(r.payment_date)),
    ("Payer", lambda r: r.payer),
    ("Check / EFT", lambda r: r.trace_number),
    ("Method", lambda r: r.payment_method),
    ("Amount", lambda r: _dollars(r.total_paid)),
    ("Claims", lambda r: str(r.claims)),
    ("To review", lambda r: str(r.to_review) if r.to_review else ""),
    ("File", lambda r: r.file_name),
    ("Posted", lambda r: local_stamp(r.posted_at)),
)

REVIEW_COLUMNS: tuple[Column[ReviewItem], ...] = (
    ("Paid on", lambda r: us_date(r.payment_date)),
    ("Check / EFT", lambda r: r.trace_number),
    ("Claim", lambda r: r.claim_number),
    ("Paid", lambda r: _dollars(r.paid)),
    ("Why it needs you", lambda r: r.reason),
)

Outcome = tuple[str, str | None, ValidationFailed | None, bool, int]
"""(file name, what it did, why it was refused, whether it left items to review, payments held)."""


class _ProgressRelay(QObject):
    progressed = Signal(int, int)


class RemittancesView(Page):
    changed = Signal()  # claims were paid, partially paid or denied: the claim queue is stale
    finished = Signal()  # an import finished and its result is shown

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        choose_files: ChooseFiles | None = None,
    ) -> None:
        super().__init__("remittances", parent)
        self._actor = actor
        self._service = RemittanceService(services.db)
        self._choose_files = choose_files or ask_remittance_files
        self._services = services
        self.eob_dialog: EobEntryDialog | None = None
        allowed = actor.can(Permission.REMITTANCE_POST)
        self.import_button = QPushButton("&Import 835 remittances…  (Ctrl+I)", self)
        self.import_button.setObjectName("importEraButton")
        self.import_button.setToolTip("Post payers' 835 electronic remittance files to claims and lines")
        self.import_button.setEnabled(allowed)
        self.import_button.clicked.connect(self.import_remittances)
        self.progress = QProgressBar(self)
        self.progress.setObjectName("eraProgress")
        self.progress.setFormat("%v of %m files")
        self.progress.setVisible(False)
        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.progress)
        top.addWidget(self.import_button)
        self.eob_button = QPushButton("&Key paper EOB…  (Ctrl+E)", self)
        self.eob_button.setObjectName("keyEobButton")
        self.eob_button.setToolTip("Type a payer's paper EOB; it posts at once, like an 835")
        self.eob_button.setEnabled(allowed)
        self.eob_button.clicked.connect(self.key_paper_eob)
        top.addWidget(self.eob_button)

        self.payments: RowTableModel[RemittanceRow] = RowTableModel(PAYMENT_COLUMNS, self)
        self.payments_table = configure_table(QTableView(self), "remittanceHistory", "Posted payments")
        self.payments_table.setModel(self.payments)
        self.payments_table.selectionModel().currentRowChanged.connect(lambda *_: self._enable())
        payments_label = QLabel("Pa&yments received (newest first):", self)
        payments_label.setBuddy(self.payments_table)
        self.post_button = QPushButton("&Post payment", self)
        self.post_button.setObjectName("postPaymentButton")
        self.post_button.setToolTip(
            "You reviewed this payment: post it to its claims (statuses, payer claim numbers, denials)"
        )
        self.post_button.clicked.connect(self.post_selected)
        self.post_button.setEnabled(False)
        payments_row = QHBoxLayout()
        payments_row.addWidget(payments_label, 1)
        payments_row.addWidget(self.post_button)
        self.review: RowTableModel[ReviewItem] = RowTableModel(REVIEW_COLUMNS, self)
        self.review_table = configure_table(QTableView(self), "remittanceReview", "Payments to review")
        self.review_table.setModel(self.review)
        self.review_label = QLabel("To re&view: payments the import could not place", self)
        self.review_label.setBuddy(self.review_table)

        self.report = QPlainTextEdit(self)
        self.report.setObjectName("remittancesReport")
        self.report.setAccessibleName("What the last import did")
        self.report.setReadOnly(True)
        self.report.setTabChangesFocus(True)
        self.report.setMaximumHeight(180)
        self.report.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(payments_row)
        layout.addWidget(self.payments_table, 2)
        layout.addWidget(self.review_label)
        layout.addWidget(self.review_table, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.report)
        QShortcut(QKeySequence("Ctrl+I"), self, self.import_remittances)
        QShortcut(QKeySequence("Ctrl+E"), self, self.key_paper_eob)
        chain: list[QWidget] = [
            self.import_button,
            self.eob_button,
            self.payments_table,
            self.post_button,
            self.review_table,
            self.report,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.payments_table)

    # -- loading ----------------------------------------------------------------------------------

    def _load(self) -> tuple[list[RemittanceRow], list[ReviewItem]]:
        return self._service.remittances(self._actor), self._service.review_items(self._actor)

    def _present(self, value: tuple[list[RemittanceRow], list[ReviewItem]]) -> None:
        rows, review = value
        self.payments.set_rows(rows)
        self.review.set_rows(review)
        waiting = sum(1 for r in rows if r.posted_at is None)
        if not rows:
            self.summary.setText(
                "No payer payments yet. Import the 835 files from your clearinghouse."
            )
        else:
            self.summary.setText(
                f"{len(rows) - waiting} payment(s) posted"
                + (f", {waiting} waiting for your review" if waiting else "")
                + (f"; {len(review)} item(s) to review." if review else "; nothing left to place.")
            )
        self._enable()
        self.review_label.setText(
            f"To re&view: {len(review)} payment(s) the import could not place"
            if review
            else "To re&view: nothing; every payment found its claim and lines"
        )

    # -- posting a reviewed payment ----------------------------------------------------------------

    def current_payment(self) -> RemittanceRow | None:
        index = self.payments_table.currentIndex()
        return self.payments.row(index.row()) if index.isValid() else None

    def _enable(self) -> None:
        payment = self.current_payment()
        self.post_button.setEnabled(
            self._actor.can(Permission.REMITTANCE_POST) and payment is not None and payment.posted_at is None
        )

    def post_selected(self) -> None:
        payment = self.current_payment()
        if payment is None or payment.posted_at is not None or not self.post_button.isEnabled():
            return
        service, actor = self._service, self._actor
        self.post_button.setEnabled(False)
        self.say(f"Posting payment {payment.trace_number}…")
        self._runner.run(
            lambda: service.post(actor, payment.id),
            lambda result: self._action_done(f"Posted payment {payment.trace_number}.", result.text()),
            self._import_failed,
        )

    def _action_done(self, summary: str, details: str) -> None:
        self.say(summary)
        self.report.setPlainText(details)
        self.report.setVisible(True)
        self.changed.emit()
        self.refresh()
        self.finished.emit()

    # -- a paper EOB -------------------------------------------------------------------------------

    def key_paper_eob(self) -> None:
        if not self._actor.can(Permission.REMITTANCE_POST):
            return
        if self.eob_dialog is not None and self.eob_dialog.isVisible():
            self.eob_dialog.activateWindow()
            return
        dialog = EobEntryDialog(self._services, self._actor, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.posted.connect(self._eob_posted)
        dialog.finished.connect(lambda _result: setattr(self, "eob_dialog", None))
        dialog.open()
        self.eob_dialog = dialog

    def _eob_posted(self, result: PostingResult) -> None:
        trace = self.eob_dialog.trace.text().strip() if self.eob_dialog is not None else ""
        self._action_done(f"Posted the paper EOB, check or EFT {trace}.", result.text())

    # -- import -----------------------------------------------------------------------------------

    def import_remittances(self) -> None:
        if not self._actor.can(Permission.REMITTANCE_POST) or not self.import_button.isEnabled():
            return
        paths = [Path(p) for p in self._choose_files(self)]
        if not paths:
            return
        service, actor = self._service, self._actor
        relay = _ProgressRelay(self)
        relay.progressed.connect(self._progressed)

        def work() -> list[Outcome]:
            out: list[Outcome] = []
            for done, path in enumerate(paths, start=1):
                try:
                    result = service.import_file(actor, path)
                    out.append((path.name, result.text(), None, bool(result.review), len(result.held)))
                except ValidationFailed as exc:  # this file changes nothing; the others still go in
                    out.append((path.name, None, exc, False, 0))
                relay.progressed.emit(done, len(paths))
            return out

        self.import_button.setEnabled(False)
        self.progress.setRange(0, len(paths))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self.say(f"Posting {len(paths)} file(s)…")
        self._runner.run(work, self._imported, self._import_failed)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _imported(self, results: list[Outcome]) -> None:
        self._import_over()
        refused = [name for name, _text, exc, _review, _held in results if exc is not None]
        review = any(flag for _name, _text, _exc, flag, _held in results)
        held = sum(count for *_rest, count in results)
        texts = [text if exc is None else f"{name}: {describe(exc)}" for name, text, exc, _, _ in results]
        summary = f"Read {len(results) - len(refused)} of {len(results)} file(s)."
        if refused:
            summary += f" Not read (nothing changed): {', '.join(refused)}."
        if held:
            summary += f" {held} payment(s) wait for your review: select one and Post payment."
        if review:
            summary += " Some payments could not be placed: see To review."
        self.say(summary, error=bool(refused))
        self.report.setPlainText("\n".join(t or "" for t in texts))
        self.report.setVisible(True)
        self.changed.emit()
        self.refresh()
        self.finished.emit()

    def _import_failed(self, exc: Exception) -> None:
        self._import_over()
        self.say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)
        self.refresh()
        self.finished.emit()

    def _import_over(self) -> None:
        self.progress.setVisible(False)
        self.import_button.setEnabled(self._actor.can(Permission.REMITTANCE_POST))
