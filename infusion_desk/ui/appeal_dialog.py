"""The appeal of one denial: the drafted letter to edit, its page preview, printing, enclosures, sending.

    dialog = AppealDialog(services, biller, work_item_id=12)   # drafts (or reopens) the appeal
    dialog.show()

The letter arrives filled from the record (patient, claim and payer claim numbers, the
denial in plain words, the order, the authorization, the nursing record's times, dose and
waste). The biller edits it in the editor; the preview beside it shows the pages exactly as
the PDF breaks them, and follows the typing. **Save draft** (Ctrl+S) keeps the text;
**Save PDF…** (Ctrl+P) writes the letter on the clinic's letterhead; **Enclosures…**
(Alt+E) writes the infusion administration record and the authorization summary the
checklist asks for; **Mark sent** (Alt+M) keeps the PDF as sent on the date chosen and
takes the denial off the work queue. :class:`OutcomeDialog` records the payer's decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Qt, QTimer, Signal
from PySide6.QtGui import QFont, QFontDatabase, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing.appeals import letter_pages
from infusion_desk.services.appeals import AppealDraft, AppealRow, AppealService
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

PREVIEW_DELAY_MS = 300

AskPath = Callable[[QWidget, str], str | None]
"""(parent, suggested file name) -> the path chosen, or None when cancelled."""
AskFolder = Callable[[QWidget], str | None]


def ask_pdf_path(parent: QWidget, suggested: str) -> str | None:
    path, _filter = QFileDialog.getSaveFileName(parent, "Save appeal letter", suggested, "PDF (*.pdf)")
    return path or None


def ask_enclosure_folder(parent: QWidget) -> str | None:
    return QFileDialog.getExistingDirectory(parent, "Save the enclosures in") or None


def _qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def preview_text(draft_text: str, draft: AppealDraft) -> str:
    """The letter's pages as the PDF lays them out, each under a page marker."""
    pages = letter_pages(draft_text, draft.letterhead)
    blocks = []
    for number, page in enumerate(pages, start=1):
        marker = f"──── page {number} of {len(pages)} ────"
        head = "(letterhead: " + draft.letterhead.name + ")\n" if number == 1 else ""
        blocks.append(f"{marker}\n{head}" + "\n".join(page))
    return "\n\n".join(blocks)


class AppealDialog(QDialog):
    """Drafts or reopens the appeal of a denial work item and lets the biller finish and send it."""

    changed = Signal()  # the appeal was saved, sent or decided: the pages listing it reload
    ready = Signal()  # the draft arrived and is shown

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        work_item_id: int | None = None,
        appeal_id: int | None = None,
        save_path: AskPath | None = None,
        ask_folder: AskFolder | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("appealDialog")
        self.setWindowTitle("Appeal")
        self.resize(1100, 720)
        self._actor = actor
        self._service = AppealService(services.db)
        self._runner = TaskRunner(self)
        self._save_path = save_path or ask_pdf_path
        self._ask_folder = ask_folder or ask_enclosure_folder
        self.draft: AppealDraft | None = None

        self.heading = QLabel("Drafting the letter from the record…", self)
        self.heading.setObjectName("appealHeading")
        self.heading.setWordWrap(True)
        self.editor = QPlainTextEdit(self)
        self.editor.setObjectName("appealLetter")
        self.editor.setAccessibleName("Appeal letter")
        self.editor.setEnabled(False)
        self.preview = QPlainTextEdit(self)
        self.preview.setObjectName("appealPreview")
        self.preview.setAccessibleName("Print preview")
        self.preview.setReadOnly(True)
        self.preview.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.preview.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(PREVIEW_DELAY_MS)
        self._preview_timer.timeout.connect(self.refresh_preview)
        self.editor.textChanged.connect(self._preview_timer.start)

        letter_label = QLabel("&Letter (edit before printing):", self)
        letter_label.setBuddy(self.editor)
        preview_label = QLabel("Pre&view (the printed pages):", self)
        preview_label.setBuddy(self.preview)
        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(letter_label)
        left_layout.addWidget(self.editor)
        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(preview_label)
        right_layout.addWidget(self.preview)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.addWidget(left)
        splitter.addWidget(right)

        self.checklist = QLabel("", self)
        self.checklist.setObjectName("appealEnclosures")
        self.checklist.setWordWrap(True)
        self.message = QLabel("", self)
        self.message.setObjectName("appealMessage")
        self.message.setWordWrap(True)

        self.save_button = QPushButton("&Save draft", self)
        self.save_button.setObjectName("saveAppealButton")
        self.save_button.setShortcut(QKeySequence("Ctrl+S"))
        self.save_button.setToolTip("Keep the edited letter (Ctrl+S)")
        self.save_button.clicked.connect(self.save)
        self.pdf_button = QPushButton("Save &PDF…", self)
        self.pdf_button.setObjectName("saveAppealPdfButton")
        self.pdf_button.setToolTip("Write the letter on the clinic's letterhead, to print or fax (Ctrl+P)")
        self.pdf_button.clicked.connect(self.save_pdf)
        QShortcut(QKeySequence("Ctrl+P"), self, self.save_pdf)
        self.enclosures_button = QPushButton("&Enclosures…", self)
        self.enclosures_button.setObjectName("saveEnclosuresButton")
        self.enclosures_button.setToolTip("Save the administration record and authorization summary PDFs")
        self.enclosures_button.clicked.connect(self.save_enclosures)
        sent_label = QLabel("Sent o&n:", self)
        self.sent_on = QDateEdit(self)
        self.sent_on.setObjectName("appealSentOn")
        self.sent_on.setCalendarPopup(True)
        self.sent_on.setDisplayFormat("MM/dd/yyyy")
        self.sent_on.setDate(QDate.currentDate())
        sent_label.setBuddy(self.sent_on)
        self.sent_button = QPushButton("&Mark sent", self)
        self.sent_button.setObjectName("markAppealSentButton")
        self.sent_button.setToolTip("The letter went to the payer: keep this PDF as sent")
        self.sent_button.clicked.connect(self.mark_sent)
        self.close_button = QPushButton("Close", self)
        self.close_button.clicked.connect(self.reject)
        actions = QHBoxLayout()
        for widget in (self.save_button, self.pdf_button, self.enclosures_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        for item in (sent_label, self.sent_on, self.sent_button, self.close_button):
            actions.addWidget(item)

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.checklist)
        layout.addWidget(self.message)
        layout.addLayout(actions)
        chain: list[QWidget] = [
            self.editor, self.preview, self.save_button, self.pdf_button, self.enclosures_button,
            self.sent_on, self.sent_button, self.close_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)
        self._enable()

        if appeal_id is not None:
            self._runner.run(lambda: self._service.open(actor, appeal_id), self._show, self._load_failed)
        elif work_item_id is not None:
            self._runner.run(lambda: self._service.draft(actor, work_item_id), self._show, self._load_failed)
        else:
            raise ValueError("AppealDialog needs a work item or an appeal")

    # -- showing ----------------------------------------------------------------------------------

    def _show(self, draft: AppealDraft) -> None:
        self.draft = draft
        self.setWindowTitle(f"Appeal of claim {draft.claim_number}")
        deadline = f"appeal by {us_date(draft.deadline)}" if draft.deadline else "no deadline on file"
        sent = f", sent {us_date(draft.sent_on)}" if draft.sent_on else ""
        self.heading.setText(
            f"{draft.claim_number}, {draft.patient}, {draft.payer}: "
            f"{draft.category.replace('_', ' ')} denial, "
            f"${draft.amount:,.2f} appealed, {deadline} (level {draft.level}, {draft.status}{sent})."
        )
        self.editor.setPlainText(draft.letter_text)
        self.editor.setReadOnly(draft.status != "draft")
        self.editor.setEnabled(True)
        lines = [
            f"☐ {e.item}" + (" (Enclosures… saves it)" if e.printed_by_app else "") for e in draft.enclosures
        ]
        self.checklist.setText("Enclosures to send:\n" + "\n".join(lines))
        self.refresh_preview()
        self._enable()
        self.editor.setFocus()
        self.ready.emit()

    def refresh_preview(self) -> None:
        if self.draft is not None:
            self.preview.setPlainText(preview_text(self.editor.toPlainText(), self.draft))

    def _enable(self) -> None:
        loaded = self.draft is not None and not self._runner.busy
        draft = loaded and self.draft is not None and self.draft.status == "draft"
        self.save_button.setEnabled(draft)
        self.sent_button.setEnabled(draft)
        self.sent_on.setEnabled(draft)
        self.pdf_button.setEnabled(loaded)
        self.enclosures_button.setEnabled(loaded)

    def say(self, text: str, *, error: bool = False) -> None:
        set_tone(self.message, ERROR if error else None)
        self.message.setText(text)

    # -- actions ----------------------------------------------------------------------------------

    def _text(self) -> str:
        return self.editor.toPlainText()

    def save(self) -> None:
        draft = self.draft
        if draft is None or not self.save_button.isEnabled():
            return
        text = self._text()
        self._run(lambda: self._service.save_letter(self._actor, draft.appeal_id, text), "Draft saved.", True)

    def save_pdf(self) -> None:
        draft = self.draft
        if draft is None or not self.pdf_button.isEnabled():
            return
        path = self._save_path(self, f"appeal-{draft.claim_number}.pdf")
        if not path:
            return
        text = self._text()
        editable = draft.status == "draft"

        def write() -> None:
            if editable:
                self._service.save_letter(self._actor, draft.appeal_id, text)
            Path(path).write_bytes(self._service.letter_pdf(self._actor, draft.appeal_id))

        self._run(write, f"Letter saved to {path}.", editable)

    def save_enclosures(self) -> None:
        draft = self.draft
        if draft is None or not self.enclosures_button.isEnabled():
            return
        folder = self._ask_folder(self)
        if not folder:
            return

        def write() -> list[str]:
            files = self._service.enclosures(self._actor, draft.appeal_id)
            for name, pdf in files.items():
                (Path(folder) / name).write_bytes(pdf)
            return sorted(files)

        def done(names: list[str]) -> None:
            self._enable()
            if names:
                self.say(f"Saved in {folder}: {', '.join(names)}.")
            else:
                self.say("This checklist has no enclosure Infusion Desk prints.")

        self._runner.run(write, done, self._failed)
        self._enable()

    def mark_sent(self) -> None:
        draft = self.draft
        if draft is None or not self.sent_button.isEnabled():
            return
        text = self._text()
        sent_on = _pydate(self.sent_on.date())

        def send() -> AppealDraft:
            self._service.save_letter(self._actor, draft.appeal_id, text)
            self._service.mark_sent(self._actor, draft.appeal_id, sent_on)
            return self._service.open(self._actor, draft.appeal_id)

        def done(updated: AppealDraft) -> None:
            self._show(updated)
            self.say(f"Marked sent on {us_date(sent_on)}; the denial waits for the payer's decision.")
            self.changed.emit()

        self._runner.run(send, done, self._failed)
        self._enable()

    def _run(self, work: Callable[[], None], done: str, saved: bool) -> None:
        def finished(_result: object) -> None:
            self._enable()
            self.say(done)
            if saved:
                self.changed.emit()

        self._runner.run(work, finished, self._failed)
        self._enable()

    def _failed(self, exc: Exception) -> None:
        self._enable()
        self.say(describe(exc), error=True)
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)

    def _load_failed(self, exc: Exception) -> None:
        self.heading.setText("The appeal could not be opened.")
        self._failed(exc)


@dataclass(frozen=True, slots=True)
class Outcome:
    won: bool
    recovered: Decimal
    on: date
    note: str


class OutcomeDialog(QDialog):
    """The payer's decision on a sent appeal: won or lost, what it recovered, when, and a note."""

    recorded = Signal()

    def __init__(
        self, services: Services, actor: Actor, row: AppealRow, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("appealOutcomeDialog")
        self.setWindowTitle(f"Outcome of the appeal of {row.claim_number}")
        self._actor = actor
        self._row = row
        self._service = AppealService(services.db)
        self._runner = TaskRunner(self)

        intro = QLabel(
            f"{row.claim_number}, {row.patient}: ${row.amount:,.2f} appealed, sent {us_date(row.sent_on)}.",
            self,
        )
        intro.setWordWrap(True)
        self.won = QRadioButton("&Won (the payer pays all or part)", self)
        self.won.setObjectName("appealWon")
        self.lost = QRadioButton("&Lost (the denial stands)", self)
        self.lost.setObjectName("appealLost")
        group = QButtonGroup(self)
        group.addButton(self.won)
        group.addButton(self.lost)
        self.won.setChecked(True)
        self.recovered = QLineEdit(f"{row.amount:.2f}", self)
        self.recovered.setObjectName("appealRecovered")
        self.decided_on = QDateEdit(self)
        self.decided_on.setObjectName("appealDecidedOn")
        self.decided_on.setCalendarPopup(True)
        self.decided_on.setDisplayFormat("MM/dd/yyyy")
        self.decided_on.setDate(QDate.currentDate())
        self.note = QLineEdit(self)
        self.note.setObjectName("appealOutcomeNote")
        self.lost.toggled.connect(lambda lost: self.recovered.setText("0.00") if lost else None)
        self.error = QLabel("", self)
        self.error.setObjectName("appealOutcomeError")
        set_tone(self.error, ERROR)
        self.error.setWordWrap(True)
        bold = QFont(self.error.font())
        bold.setBold(True)
        self.error.setFont(bold)

        form = QFormLayout()
        form.addRow(intro)
        form.addRow(self.won)
        form.addRow(self.lost)
        form.addRow("&Recovered ($):", self.recovered)
        form.addRow("&Decided on:", self.decided_on)
        form.addRow("N&ote:", self.note)
        self.ok_button = QPushButton("Record", self)
        self.ok_button.setObjectName("recordOutcomeButton")
        self.ok_button.setDefault(True)
        self.ok_button.clicked.connect(self.submit)
        cancel = QPushButton("Cancel", self)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.ok_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

    def outcome(self) -> Outcome | None:
        text = self.recovered.text().strip().replace("$", "").replace(",", "") or "0"
        try:
            recovered = Decimal(text)
        except InvalidOperation:
            self.error.setText(f"Recovered: {self.recovered.text()!r} is not an amount; type it like 450.00.")
            return None
        return Outcome(self.won.isChecked(), recovered, _pydate(self.decided_on.date()), self.note.text())

    def submit(self) -> None:
        outcome = self.outcome()
        if outcome is None or self._runner.busy:
            return
        self.error.setText("")
        self.ok_button.setEnabled(False)
        appeal_id = self._row.id
        self._runner.run(
            lambda: self._service.record_outcome(
                self._actor, appeal_id, won=outcome.won, recovered=outcome.recovered, on=outcome.on,
                note=outcome.note,
            ),
            self._done,
            self._failed,
        )

    def _done(self, _result: object) -> None:
        self.recorded.emit()
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self.ok_button.setEnabled(True)
        self.error.setText(describe(exc))
        if not isinstance(exc, ValidationFailed):
            show_error(self, exc)
