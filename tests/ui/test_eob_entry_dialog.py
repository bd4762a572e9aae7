"""Key paper EOB: a biller types a payer's paper EOB from the keyboard; it posts like an 835, or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QTableView, QWidget
from pytestqt.qtbot import QtBot

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.models.enums import ClaimStatus
from infusion_desk.services.app import Services
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.remittances import RemittanceService
from infusion_desk.ui.eob_entry_dialog import EobEntryDialog, read_amount
from infusion_desk.ui.remittances_view import RemittancesView
from tests.ui.claims_seed import TODAY, biller, built_template, close, export_batches, open_copy
from tests.ui.helpers import column

pytestmark = pytest.mark.gui

CENT = Decimal("0.01")
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_template(tmp_path_factory.mktemp("eob-demo"))


@pytest.fixture
def clinic(template: Path, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(template, tmp_path)
    yield services
    close(services)


def _sent(services: Services, folder: Path) -> ClaimData:
    """A claim that was built and exported to the payer (batched): the EOB answers it."""
    summary = export_batches(services, folder)
    claims = read_837p(summary.files[0].path.read_text(encoding="ascii"))
    return next(c for c in claims if len(c.lines) >= 2)


def _status(services: Services, number: str) -> ClaimStatus:
    (row,) = [r for r in ClaimService(services.db).claims(biller(services), search=number) if r.claim_number == number]
    return row.status


def _split(charge: Decimal) -> tuple[Decimal, Decimal]:
    """The payer allows 80% of the charge and pays 80% of that (the patient owes 20% coinsurance)."""
    allowed = (charge * Decimal("0.8")).quantize(CENT)
    return allowed, (allowed * Decimal("0.8")).quantize(CENT)


def _alt(qtbot: QtBot, dialog: QWidget, key: Qt.Key) -> None:
    focused = QApplication.focusWidget()
    qtbot.keyClick(focused if focused is not None else dialog, key, ALT)


def _type(qtbot: QtBot, text: str) -> None:
    focused = QApplication.focusWidget()
    assert focused is not None
    qtbot.keyClicks(focused, text)


def _cells(qtbot: QtBot, table: QTableView, *values: str) -> None:
    """Type into the current cell and the ones after it (F2 edits, Tab moves on, Enter keeps)."""
    assert QApplication.focusWidget() is table
    qtbot.keyClick(table, Qt.Key.Key_F2)
    for number, value in enumerate(values):
        editor = QApplication.focusWidget()
        assert isinstance(editor, QLineEdit)
        editor.selectAll()
        qtbot.keyClicks(editor, value)
        qtbot.keyClick(editor, Qt.Key.Key_Tab if number < len(values) - 1 else Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is table, timeout=2_000)


def _go(qtbot: QtBot, table: QTableView, row: int, column: int) -> None:
    qtbot.keyClick(table, Qt.Key.Key_Home, CTRL)
    for _ in range(row):
        qtbot.keyClick(table, Qt.Key.Key_Down)
    for _ in range(column):
        qtbot.keyClick(table, Qt.Key.Key_Right)


def _activate(qtbot: QtBot, dialog: EobEntryDialog) -> None:
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    qtbot.waitUntil(lambda: dialog.payer.count() > 1, timeout=5_000)  # the payer list arrived


def _key_claim(qtbot: QtBot, dialog: EobEntryDialog, claim: ClaimData) -> Decimal:
    """Type the claim number, find its lines, and key each line's payment; returns what it pays."""
    _alt(qtbot, dialog, Qt.Key.Key_N)
    assert QApplication.focusWidget() is dialog.claim_number
    _type(qtbot, claim.claim_number)
    qtbot.keyClick(dialog.claim_number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: dialog.lines_model.rowCount() == len(claim.lines), timeout=5_000)
    # the claim's billed lines are filled in, and the payer comes from the claim
    assert column(dialog.lines_table, "Code") == [line.code for line in claim.lines]
    assert column(dialog.lines_table, "Charge") == [f"{line.charge:.2f}" for line in claim.lines]
    assert column(dialog.lines_table, "Date") == [f"{line.service_date:%m/%d/%Y}" for line in claim.lines]
    assert dialog.payer.currentText().upper() == claim.payer.name
    assert claim.patient.name.last.upper() in dialog.claim_note.text().upper()

    _alt(qtbot, dialog, Qt.Key.Key_B)
    _type(qtbot, "ICN-PAPER-1")
    paid_total = Decimal("0.00")
    for row, line in enumerate(claim.lines):
        allowed, paid = _split(line.charge)
        paid_total += paid
        _alt(qtbot, dialog, Qt.Key.Key_I)
        _go(qtbot, dialog.lines_table, row, 5)  # Paid, then Allowed
        _cells(qtbot, dialog.lines_table, f"{paid:,.2f}", f"${allowed}")
        _alt(qtbot, dialog, Qt.Key.Key_J)
        if row == 0:  # a row added by mistake is taken out again
            qtbot.keyClick(dialog.adjustments_table, Qt.Key.Key_Insert)
            assert dialog.adjustments_model.rowCount() == 1
            qtbot.keyClick(dialog.adjustments_table, Qt.Key.Key_Delete)
            assert dialog.adjustments_model.rowCount() == 0
        qtbot.keyClick(dialog.adjustments_table, Qt.Key.Key_Insert)
        _cells(qtbot, dialog.adjustments_table, "CO", "45", str(line.charge - allowed))
        qtbot.keyClick(dialog.adjustments_table, Qt.Key.Key_Insert)
        _cells(qtbot, dialog.adjustments_table, "pr", "2", str(allowed - paid))
        # the patient's share is what the PR adjustments say
        assert column(dialog.lines_table, "Patient owes")[row] == f"${allowed - paid:,.2f}"
    return paid_total


def test_a_paper_eob_keyed_from_the_keyboard_posts_and_the_payments_page_shows_it(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    claim = _sent(clinic, tmp_path / "outbox")
    assert _status(clinic, claim.claim_number) is ClaimStatus.BATCHED
    view = RemittancesView(clinic, biller(clinic))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.activateWindow()
    qtbot.waitActive(view)

    qtbot.keyClick(view, Qt.Key.Key_E, CTRL)
    dialog = view.eob_dialog
    assert dialog is not None and dialog.isVisible()
    _activate(qtbot, dialog)
    assert QApplication.focusWidget() is dialog.trace
    _type(qtbot, "CHK 50123")
    paid = _key_claim(qtbot, dialog, claim)
    _alt(qtbot, dialog, Qt.Key.Key_T)
    _type(qtbot, f"{paid:,.2f}")
    assert "Balanced." in dialog.balance.text()

    with qtbot.waitSignal(view.finished, timeout=20_000), qtbot.waitSignal(view.changed, timeout=20_000):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: view.payments.rowCount() == 1, timeout=10_000)
    assert column(view.payments_table, "Check / EFT") == ["CHK 50123"]
    assert column(view.payments_table, "File") == ["entered by hand"]
    assert column(view.payments_table, "Amount") == [f"${paid:,.2f}"]
    assert "Posted the paper EOB, check or EFT CHK 50123" in view.message.text()
    assert "1 claim(s) posted" in view.report.toPlainText()
    # the claim was paid: its status and the payer's claim number come from the EOB
    assert _status(clinic, claim.claim_number) is ClaimStatus.PAID
    service = ClaimService(clinic.db)
    claim_id = service.claim_id(biller(clinic), claim.claim_number)
    assert service.detail(biller(clinic), claim_id).payer_claim_control_number == "ICN-PAPER-1"


def test_an_eob_that_does_not_balance_says_where_and_posts_nothing(
    qtbot: QtBot, qtmodeltester, clinic: Services, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    claim = _sent(clinic, tmp_path / "outbox")
    dialog = EobEntryDialog(clinic, biller(clinic), today=TODAY)
    qtbot.addWidget(dialog)
    dialog.show()
    _activate(qtbot, dialog)
    _type(qtbot, "CHK 777")
    paid = _key_claim(qtbot, dialog, claim)
    for model in (dialog.claims_model, dialog.lines_model, dialog.adjustments_model):
        qtmodeltester.check(model)
    # the check says a dollar more than the claims pay
    _alt(qtbot, dialog, Qt.Key.Key_T)
    _type(qtbot, f"{paid + 1:.2f}")
    assert "Does not balance" in dialog.balance.text() and "BPR02" in dialog.balance.text()
    qtbot.keyClick(dialog.total, Qt.Key.Key_Return, CTRL)
    assert "Nothing was posted" in dialog.error.text() and f"${paid + 1:,.2f}" in dialog.error.text()
    assert dialog.isVisible()
    # a line whose adjustments do not explain what the payer did not pay is named
    _alt(qtbot, dialog, Qt.Key.Key_I)
    _go(qtbot, dialog.lines_table, 0, 5)
    _cells(qtbot, dialog.lines_table, "0.00")
    assert f"service line 1 ({claim.lines[0].code})" in dialog.balance.text()
    qtbot.keyClick(dialog.lines_table, Qt.Key.Key_Return, CTRL)
    assert "service line 1" in dialog.error.text()
    assert RemittanceService(clinic.db).remittances(biller(clinic)) == []
    assert _status(clinic, claim.claim_number) is ClaimStatus.BATCHED


def test_what_only_the_service_knows_is_shown_in_the_form_and_nothing_is_saved(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    claim = _sent(clinic, tmp_path / "outbox")
    dialog = EobEntryDialog(clinic, biller(clinic), today=TODAY)
    qtbot.addWidget(dialog)
    dialog.show()
    _activate(qtbot, dialog)
    _type(qtbot, "CHK 778")
    paid = _key_claim(qtbot, dialog, claim)
    # the EOB lists a line the claim never had: it balances, but matches none of the claim's lines
    _alt(qtbot, dialog, Qt.Key.Key_I)
    qtbot.keyClick(dialog.lines_table, Qt.Key.Key_Insert)
    _cells(qtbot, dialog.lines_table, claim.lines[0].service_date.strftime("%m/%d/%Y"), "99213", "", "1", "75.00")
    _alt(qtbot, dialog, Qt.Key.Key_J)
    qtbot.keyClick(dialog.adjustments_table, Qt.Key.Key_Insert)
    _cells(qtbot, dialog.adjustments_table, "CO", "97", "75.00")
    _alt(qtbot, dialog, Qt.Key.Key_T)
    _type(qtbot, f"{paid:.2f}")
    assert "Balanced." in dialog.balance.text()
    qtbot.keyClick(dialog.total, Qt.Key.Key_Return, CTRL)
    qtbot.waitUntil(lambda: "matches none of the claim's lines" in dialog.error.text(), timeout=10_000)
    assert "99213" in dialog.error.text() and dialog.isVisible()
    assert RemittanceService(clinic.db).remittances(biller(clinic)) == []
    assert _status(clinic, claim.claim_number) is ClaimStatus.BATCHED


def test_a_claim_number_that_is_not_ours_is_said_next_to_the_field(qtbot: QtBot, clinic: Services) -> None:
    dialog = EobEntryDialog(clinic, biller(clinic), today=TODAY)
    qtbot.addWidget(dialog)
    dialog.show()
    _activate(qtbot, dialog)
    _alt(qtbot, dialog, Qt.Key.Key_N)
    _type(qtbot, "c4040404")
    qtbot.keyClick(dialog.claim_number, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "No claim numbered C4040404" in dialog.claim_note.text(), timeout=5_000)
    assert dialog.lines_model.rowCount() == 0
    assert column(dialog.claims_table, "Claim") == ["C4040404"]


@pytest.mark.parametrize(
    ("typed", "amount"),
    [("1,250", "1250.00"), ("$40.5", "40.50"), ("-12.50", "-12.50"), ("(7.25)", "-7.25"), (" 0 ", "0.00")],
)
def test_money_is_read_as_typed_to_the_cent(typed: str, amount: str) -> None:
    assert read_amount(typed) == Decimal(amount)


@pytest.mark.parametrize("typed", ["", "abc", "12.345", "1e3x"])
def test_money_that_is_not_dollars_and_cents_is_refused(typed: str) -> None:
    with pytest.raises(ValueError):
        read_amount(typed)
