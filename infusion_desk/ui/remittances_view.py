"""Payer payments (Billing → Payments): post 835 remittances and work what they could not place.

    view = RemittancesView(services, biller)
    view.changed.connect(claims_view.refresh)   # claims paid, partially paid or denied
    view.refresh()

**Import 835 remittances…** (Ctrl+I) reads one or more 835 files on the worker thread, with a
progress bar counting files, and posts each as one transaction: a file that cannot be read,
does not balance or was imported before posts nothing, and the others still post. What each
file did is listed below the tables. **Payments** lists what was posted, newest first;
**To review** lists the payments and paid lines the import could not put on a claim or a
line, with the reason, so nothing the payer sent is lost.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal
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
from infusion_desk.services.remittances import RemittanceRow, RemittanceService, ReviewItem
from infusion_desk.ui.claims_view import local_stamp
from infusion_desk.ui.errors import describe, report_failure, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

ERROR_STYLE = "color: #b00020;"
ERA_FILTER = "Remittances (*.835 *.era *.txt *.x12 *.edi);;All files (*)"

ChooseFiles = Callable[[QWidget], list[str]]


def ask_remittance_files(parent: QWidget) -> list[str]:
    paths, _filter = QFileDialog.getOpenFileNames(parent, "Import 835 remittance files", "", ERA_FILTER)
    return list(paths)


def _dollars(amount: Any) -> str:
    return f"${amount:,.2f}"


PAYMENT_COLUMNS: tuple[Column[RemittanceRow], ...] = (
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

Outcome = tuple[str, str | None, ValidationFailed | None, bool]
"""(file name, what it did, why it was refused, whether it left items to review)."""


class _ProgressRelay(QObject):
    progressed = Signal(int, int)


class RemittancesView(QWidget):
    changed = Signal()  # claims were paid, partially paid or denied: the claim queue is stale
    loaded = Signal()
    finished = Signal()  # an import finished and its result is shown

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        choose_files: ChooseFiles | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("remittancesView")
        self._actor = actor
        self._service = RemittanceService(services.db)
        self._choose_files = choose_files or ask_remittance_files
        self._runner = TaskRunner(self)
        self._generation = 0
        self._started = False
        allowed = actor.can(Permission.REMITTANCE_POST)

        self.summary = QLabel("Loading…", self)
        self.summary.setObjectName("remittancesSummary")
        self.summary.setWordWrap(True)
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

        self.payments: RowTableModel[RemittanceRow] = RowTableModel(PAYMENT_COLUMNS, self)
        self.payments_table = configure_table(QTableView(self), "remittanceHistory", "Posted payments")
        self.payments_table.setModel(self.payments)
        payments_label = QLabel("&Payments posted (newest first):", self)
        payments_label.setBuddy(self.payments_table)
        self.review: RowTableModel[ReviewItem] = RowTableModel(REVIEW_COLUMNS, self)
        self.review_table = configure_table(QTableView(self), "remittanceReview", "Payments to review")
        self.review_table.setModel(self.review)
        self.review_label = QLabel("To re&view: payments the import could not place", self)
        self.review_label.setBuddy(self.review_table)

        self.message = QLabel("", self)
        self.message.setObjectName("remittancesMessage")
        self.message.setWordWrap(True)
        self.report = QPlainTextEdit(self)
        self.report.setObjectName("remittancesReport")
        self.report.setAccessibleName("What the last import did")
        self.report.setReadOnly(True)
        self.report.setTabChangesFocus(True)
        self.report.setMaximumHeight(180)
        self.report.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(payments_label)
        layout.addWidget(self.payments_table, 2)
        layout.addWidget(self.review_label)
        layout.addWidget(self.review_table, 1)
        layout.addWidget(self.message)
        layout.addWidget(self.report)
        QShortcut(QKeySequence("Ctrl+I"), self, self.import_remittances)
        chain: list[QWidget] = [self.import_button, self.payments_table, self.review_table, self.report]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self.setFocusProxy(self.payments_table)

    # -- loading ----------------------------------------------------------------------------------

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        if not self._started:
            self.refresh()

    def refresh(self) -> None:
        self._started = True
        self._generation += 1
        generation = self._generation
        service, actor = self._service, self._actor

        def load() -> tuple[list[RemittanceRow], list[ReviewItem]]:
            return service.remittances(actor), service.review_items(actor)

        self._runner.run(
            load,
            lambda value: self._loaded(generation, *value),
            lambda exc: self._load_failed(generation, exc),
        )

    def _load_failed(self, generation: int, exc: Exception) -> None:
        if generation == self._generation:
            report_failure(self, self.summary, exc, retry=self.refresh)

    def _loaded(self, generation: int, rows: list[RemittanceRow], review: list[ReviewItem]) -> None:
        if generation != self._generation:
            return
        self.payments.set_rows(rows)
        self.review.set_rows(review)
        if not rows:
            self.summary.setText(
                "No payer payments are posted yet. Import the 835 files from your clearinghouse."
            )
        else:
            self.summary.setText(
                f"{len(rows)} payment(s) posted; "
                + (f"{len(review)} item(s) to review." if review else "nothing waits for review.")
            )
        self.review_label.setText(
            f"To re&view: {len(review)} payment(s) the import could not place"
            if review
            else "To re&view: nothing; every payment found its claim and lines"
        )
        self.loaded.emit()

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
                    out.append((path.name, result.text(), None, bool(result.review)))
                except ValidationFailed as exc:  # this file posts nothing; the others still post
                    out.append((path.name, None, exc, False))
                relay.progressed.emit(done, len(paths))
            return out

        self.import_button.setEnabled(False)
        self.progress.setRange(0, len(paths))
        self.progress.setValue(0)
        self.progress.setVisible(True)
        self._say(f"Posting {len(paths)} file(s)…")
        self._runner.run(work, self._imported, self._import_failed)

    def _progressed(self, done: int, total: int) -> None:
        self.progress.setRange(0, total)
        self.progress.setValue(done)

    def _imported(self, results: list[Outcome]) -> None:
        self._import_over()
        refused = [name for name, _text, exc, _review in results if exc is not None]
        review = any(flag for *_rest, flag in results)
        texts = [text if exc is None else f"{name}: {describe(exc)}" for name, text, exc, _ in results]
        summary = f"Posted {len(results) - len(refused)} of {len(results)} file(s)."
        if refused:
            summary += f" Not posted (nothing changed): {', '.join(refused)}."
        if review:
            summary += " Some payments need review: see To review."
        self._say(summary, error=bool(refused))
        self.report.setPlainText("\n".join(t or "" for t in texts))
        self.report.setVisible(True)
        self.changed.emit()
        self.refresh()
        self.finished.emit()

    def _import_failed(self, exc: Exception) -> None:
        self._import_over()
        self._say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)
        self.refresh()
        self.finished.emit()

    def _import_over(self) -> None:
        self.progress.setVisible(False)
        self.import_button.setEnabled(self._actor.can(Permission.REMITTANCE_POST))

    def _say(self, text: str, *, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "")
        self.message.setText(text)
