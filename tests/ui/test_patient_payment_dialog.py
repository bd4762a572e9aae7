"""Taking a patient's payment with the keyboard: amount, method, reference, the lines it pays, the receipt.

The clinic is the demo's, with one patient's first two claims paid by the payer (20%
coinsurance left to the patient), written once per module and copied per test.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.models import Claim, ClaimLine, InsurancePolicy, PatientPayment, Payer
from infusion_desk.models.enums import EraPosting, LineResponsibility, PaymentMethod, PolicyRank
from infusion_desk.services.app import Services
from infusion_desk.services.batches import BatchService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import DEMO_PASSWORD, generate_demo
from infusion_desk.services.patient_payments import PatientAccount, PatientPaymentService
from infusion_desk.services.remittances import RemittanceService
from infusion_desk.ui.patient_payment_dialog import PatientPaymentDialog
from infusion_desk.ui.tasks import wait_for_idle
from tests.billing.x12.remit_fixtures import write_835
from tests.services.billing_seed import TODAY
from tests.services.billing_seed import paid as _paid
from tests.services.billing_seed import remittance as _remittance

D = Decimal


@dataclass(frozen=True)
class Template:
    path: Path
    patient_id: int
    """Only a primary policy; the first two claims answered, the rest waiting for the payer."""


def billed_template(directory: Path) -> Template:
    """The demo clinic, claims built and exported, one patient's first two claims paid with coinsurance."""
    path = directory / "billed.sqlite3"
    services, _ = Services.open(f"sqlite:///{path}")
    try:
        generate_demo(services.db, patients=6, months=2, seed=5, today=TODAY)
        biller = services.auth.sign_in("biller", DEMO_PASSWORD)
        ClaimService(services.db).build(biller, today=TODAY)
        summary = BatchService(services.db).export(biller, out_dir=directory, today=TODAY)
        exported = [c for f in summary.files for c in read_837p(f.path.read_text(encoding="ascii"))]
        with services.db.session() as session:
            session.execute(sa.update(Payer).values(era_posting=EraPosting.ALL))
            owner = {
                c.claim_number: session.scalars(
                    sa.select(Claim.patient_id).where(Claim.claim_number == c.claim_number)
                ).one()
                for c in exported
            }
            primary_only = {
                p
                for p in set(owner.values())
                if set(session.scalars(sa.select(InsurancePolicy.rank).where(InsurancePolicy.patient_id == p)))
                == {PolicyRank.PRIMARY}
            }
        patient = max(primary_only, key=lambda p: sum(1 for o in owner.values() if o == p))
        claims = sorted(
            (c for c in exported if owner[c.claim_number] == patient), key=lambda c: c.lines[0].service_date
        )
        text = write_835(_remittance(*(_paid(c, icn=f"ICN-{c.claim_number}") for c in claims[:2])))
        RemittanceService(services.db).import_text(biller, text, "era.835")
    finally:
        services.close()
    return Template(path, patient)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return billed_template(tmp_path_factory.mktemp("billed"))


@pytest.fixture
def billed(template: Template, tmp_path: Path) -> Iterator[tuple[Services, int]]:
    target = tmp_path / "clinic.sqlite3"
    target.write_bytes(template.path.read_bytes())
    services, _ = Services.open(f"sqlite:///{target}")
    yield services, template.patient_id
    assert wait_for_idle(10_000)
    services.close()


def _open(
    qtbot: QtBot, services: Services, patient_id: int, tmp_path: Path
) -> tuple[PatientPaymentDialog, PatientAccount]:
    clerk = services.auth.sign_in("frontdesk", DEMO_PASSWORD)
    desk = PatientPaymentService(services.db)
    account = desk.account(clerk, patient_id)
    dialog = PatientPaymentDialog(desk, clerk, account, save_path=lambda _parent, name: str(tmp_path / name))
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog, account


def _payments(services: Services) -> int:
    with services.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(PatientPayment)) or 0


def _type(qtbot: QtBot, widget: object, text: str) -> None:
    widget.setFocus()  # type: ignore[attr-defined]
    qtbot.keyClick(widget, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(widget, text)


def test_a_check_pays_the_oldest_lines_and_the_receipt_is_saved(
    qtbot: QtBot, billed: tuple[Services, int], tmp_path: Path
) -> None:
    services, patient_id = billed
    dialog, account = _open(qtbot, services, patient_id, tmp_path)
    oldest = account.due_lines[0]
    assert dialog.amount.text() == f"{account.patient_due:.2f}"  # the whole balance is offered

    _type(qtbot, dialog.amount, str(oldest.due + D("5.00")))
    assert "on 2 lines" in dialog.preview.text() and "credit left over $0.00" in dialog.preview.text()
    dialog.method.setFocus()
    qtbot.keyClick(dialog.method, Qt.Key.Key_Down)  # Cash -> Check
    assert dialog.method.currentData() == PaymentMethod.CHECK.value
    qtbot.keyClick(dialog.method, Qt.Key.Key_Tab)
    assert dialog.reference.hasFocus()
    qtbot.keyClicks(dialog.reference, "1042")
    qtbot.keyClick(dialog.reference, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.record is not None)

    record = dialog.record
    assert record is not None
    assert [(a.line_id, a.amount) for a in record.applied] == [
        (oldest.line_id, oldest.due),
        (account.due_lines[1].line_id, D("5.00")),
    ]
    assert record.receipt_number in dialog.result.text()
    with services.db.session() as session:
        line = session.get(ClaimLine, oldest.line_id)
        assert line is not None and line.responsibility is LineResponsibility.SETTLED

    assert dialog.receipt_button.hasFocus()
    qtbot.keyClick(dialog.receipt_button, Qt.Key.Key_Space)
    saved = tmp_path / f"receipt-{record.receipt_number}.pdf"
    qtbot.waitUntil(lambda: "Receipt saved" in dialog.result.text())
    text = PdfReader(io.BytesIO(saved.read_bytes())).pages[0].extract_text()
    assert "Payment receipt" in text and "1042" in text and oldest.claim_number in text


def test_bad_input_is_shown_in_the_dialog_and_nothing_is_saved(
    qtbot: QtBot, billed: tuple[Services, int], tmp_path: Path
) -> None:
    services, patient_id = billed
    dialog, _account = _open(qtbot, services, patient_id, tmp_path)
    _type(qtbot, dialog.amount, "12.345")
    assert "at most two decimals" in dialog.preview.text()
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: bool(dialog.findings.text()))
    assert "at most two decimals" in dialog.findings.text()
    assert dialog.amount.hasFocus()

    _type(qtbot, dialog.amount, "20")
    dialog.method.setCurrentIndex(dialog.method.findData(PaymentMethod.CHECK.value))
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: "check number" in dialog.findings.text())
    assert dialog.reference.hasFocus()
    assert dialog.record is None and _payments(services) == 0


def test_chosen_lines_are_checked_with_the_space_bar_and_only_they_are_paid(
    qtbot: QtBot, billed: tuple[Services, int], tmp_path: Path
) -> None:
    services, patient_id = billed
    dialog, account = _open(qtbot, services, patient_id, tmp_path)
    newest = account.due_lines[-1]
    _type(qtbot, dialog.amount, str(newest.due + D("2.50")))
    qtbot.keyClick(dialog.amount, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)  # C&hoose lines
    qtbot.waitUntil(dialog.choose.isChecked)  # a mnemonic clicks after a moment
    assert dialog.lines.hasFocus()
    for _ in range(len(account.due_lines) - 1):
        qtbot.keyClick(dialog.lines, Qt.Key.Key_Down)
    qtbot.keyClick(dialog.lines, Qt.Key.Key_Space)
    assert dialog.chosen_line_ids() == (newest.line_id,)
    assert "on 1 line;" in dialog.preview.text() and "credit left over $2.50" in dialog.preview.text()
    qtbot.keyClick(dialog.lines, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: dialog.record is not None)
    record = dialog.record
    assert record is not None
    assert [(a.line_id, a.amount) for a in record.applied] == [(newest.line_id, newest.due)]
    assert record.credit == D("2.50") and "Credit left on the account: $2.50" in dialog.result.text()
