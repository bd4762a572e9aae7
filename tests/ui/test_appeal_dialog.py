"""The appeal dialog, opened from Billing → Denials: edit the letter, preview, save, print, send, record the outcome."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from infusion_desk.services.app import Services
from infusion_desk.ui.appeal_dialog import AppealDialog, OutcomeDialog
from infusion_desk.ui.denials_view import DenialsView
from infusion_desk.ui.tasks import wait_for_idle
from tests.ui.claims_seed import biller, built_template, close, open_copy
from tests.ui.helpers import column
from tests.ui.test_denials_view import _denied

pytestmark = pytest.mark.gui

ADDED = "Our nurse manager is available to discuss this claim."


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_template(tmp_path_factory.mktemp("appeals-demo"))


@pytest.fixture
def clinic(template: Path, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(template, tmp_path)
    yield services
    close(services)


def _pdf_text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages).split())


def test_a_biller_edits_prints_and_sends_an_appeal_then_records_that_it_was_won(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    _denied(clinic, tmp_path / "outbox")
    letter_pdf = tmp_path / "letter.pdf"
    folder = tmp_path / "enclosures"
    folder.mkdir()
    view = DenialsView(
        clinic, biller(clinic), save_path=lambda _parent, _name: str(letter_pdf),
        ask_folder=lambda _parent: str(folder),
    )
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.table.selectRow(column(view.table, "Adjustment").index("CO-197"))
    row = view.current()
    assert row is not None

    view.table.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)  # a mnemonic clicks after a moment
    qtbot.waitUntil(lambda: view.appeal_dialog is not None, timeout=5_000)
    dialog = view.appeal_dialog
    assert isinstance(dialog, AppealDialog)
    qtbot.waitUntil(lambda: dialog.draft is not None, timeout=10_000)
    letter = dialog.editor.toPlainText()
    assert row.claim_number in letter and f"ICN-{row.claim_number}" in letter and "CO-197" in letter
    assert "Dear Appeals Reviewer:" in letter
    assert "Authorization summary (Enclosures… saves it)" in dialog.checklist.text()
    assert "page 1 of" in dialog.preview.toPlainText()

    # the biller adds a sentence; the preview follows the typing
    dialog.editor.setFocus()
    dialog.editor.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClicks(dialog.editor, ADDED)
    qtbot.waitUntil(lambda: ADDED in dialog.preview.toPlainText(), timeout=5_000)
    qtbot.keyClick(dialog.editor, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.message.text() == "Draft saved.", timeout=10_000)

    dialog.pdf_button.click()
    qtbot.waitUntil(lambda: "Letter saved to" in dialog.message.text(), timeout=10_000)
    printed = _pdf_text(letter_pdf)
    assert ADDED in printed and row.claim_number in printed and row.patient.split(" (")[0] in printed

    qtbot.keyClick(dialog, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "Saved in" in dialog.message.text(), timeout=10_000)
    saved = sorted(p.name for p in folder.iterdir())
    assert saved == [
        f"{row.claim_number}-administration-record.pdf", f"{row.claim_number}-authorization-summary.pdf"
    ]
    assert "Infusion administration record" in _pdf_text(folder / saved[0])

    qtbot.keyClick(dialog, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "Marked sent" in dialog.message.text(), timeout=10_000)
    assert dialog.editor.isReadOnly() and not dialog.sent_button.isEnabled() and dialog.pdf_button.isEnabled()
    dialog.close()
    qtbot.waitUntil(lambda: "sent" in column(view.appeals_table, "Status"), timeout=10_000)
    # off the work queue while the payer decides
    assert row.id not in [view.model.row(i).id for i in range(view.model.rowCount())]

    with qtbot.waitActive(view):
        view.activateWindow()
    qtbot.keyClick(view, Qt.Key.Key_L, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: view.tabs.currentIndex() == 1, timeout=5_000)
    assert wait_for_idle(10_000)  # the appeals list has reloaded: a later reload would drop the selection
    view.appeals_table.selectRow(column(view.appeals_table, "Status").index("sent"))
    qtbot.waitUntil(view.outcome_button.isEnabled, timeout=5_000)
    if not view.isActiveWindow():  # a busy machine may hand activation elsewhere meanwhile
        with qtbot.waitActive(view):
            view.activateWindow()
    qtbot.keyClick(view, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: view.outcome_dialog is not None, timeout=5_000)
    outcome = view.outcome_dialog
    assert isinstance(outcome, OutcomeDialog)
    outcome.recovered.setText("999999.00")
    outcome.ok_button.click()
    qtbot.waitUntil(lambda: "more than the appeal asked for" in outcome.error.text(), timeout=10_000)
    assert outcome.isVisible()  # bad input keeps the dialog open with the reason
    outcome.recovered.selectAll()
    qtbot.keyClicks(outcome.recovered, "25.00")
    with qtbot.waitSignal(view.finished, timeout=10_000):
        outcome.ok_button.click()
    qtbot.waitUntil(lambda: column(view.appeals_table, "Status") == ["won"], timeout=10_000)
    assert column(view.appeals_table, "Recovered") == ["$25.00"]
    assert "outcome is recorded" in view.message.text()


def test_an_empty_letter_is_refused_in_the_dialog(qtbot: QtBot, clinic: Services, tmp_path: Path) -> None:
    _denied(clinic, tmp_path / "outbox")
    view = DenialsView(clinic, biller(clinic))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.table.selectRow(0)
    view.appeal_button.click()
    dialog = view.appeal_dialog
    assert dialog is not None
    qtbot.waitUntil(lambda: dialog.draft is not None, timeout=10_000)
    dialog.editor.clear()
    dialog.sent_button.click()
    qtbot.waitUntil(lambda: "The letter is empty" in dialog.message.text(), timeout=10_000)
    assert dialog.sent_button.isEnabled() and not dialog.editor.isReadOnly()  # still a draft
    dialog.close()
