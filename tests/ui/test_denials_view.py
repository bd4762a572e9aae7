"""Billing → Denials: the work queue a biller works from the keyboard, and a manager's write-off approval."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.services.app import Services
from infusion_desk.services.remittances import RemittanceService
from infusion_desk.ui.denials_view import DenialsView
from tests.ui.claims_seed import (
    TODAY,
    biller,
    built_template,
    close,
    export_batches,
    open_copy,
)
from tests.ui.helpers import column

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_template(tmp_path_factory.mktemp("denials-demo"))


@pytest.fixture
def clinic(template: Path, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(template, tmp_path)
    yield services
    close(services)


def _denied(services: Services, folder: Path) -> list[str]:
    """A paper EOB denying every line of two exported claims: CO-197 (no authorization) and CO-16.

    The payer's claim numbers are ``ICN-`` and the claim number (a corrected claim needs them).
    """
    summary = export_batches(services, folder)
    claims = read_837p(summary.files[0].path.read_text(encoding="ascii"))[:2]
    payments = []
    for claim, reason in zip(claims, ("197", "16"), strict=True):
        lines = tuple(
            ServicePayment(
                line.code, line.modifiers, line.charge, Decimal("0.00"), line_control_number=line.control_number,
                adjustments=(CasAdjustment("CO", reason, line.charge),),
            )
            for line in claim.lines
        )
        total = sum((line.charge for line in claim.lines), Decimal("0.00"))
        payments.append(
            ClaimPayment(
                claim.claim_number, "1", total, Decimal("0.00"), lines=lines,
                payer_claim_control_number=f"ICN-{claim.claim_number}",
            )
        )
    RemittanceService(services.db).enter(
        biller(services),
        Remittance("EOB-77", "1999999999", "FICTIONAL HEALTH PLAN", "NON", TODAY, Decimal("0.00"),
                   claims=tuple(payments)),
    )
    return [c.claim_number for c in claims]


def test_a_biller_takes_and_transfers_a_denial_and_asks_for_a_write_off(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    numbers = _denied(clinic, tmp_path)
    answers = iter(["Waiver signed 11/02/2026", "Authorization never obtained"])
    view = DenialsView(clinic, biller(clinic), ask=lambda _parent, _title, _question: next(answers))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    rows = view.model.rowCount()
    assert rows >= 2 and set(column(view.table, "Claim")) == set(numbers)
    amounts = [Decimal(a.strip("$").replace(",", "")) for a in column(view.table, "Amount")]
    assert amounts == sorted(amounts, reverse=True)  # the most money first
    assert "to work" in view.summary.text()

    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    first = view.current()
    assert first is not None
    assert "Next step:" in view.detail.text() and first.reason.splitlines()[0] in view.detail.text()
    with qtbot.waitSignal(view.finished, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "biller" in column(view.table, "Owner"), timeout=10_000)
    assert "is yours" in view.message.text()

    view.table.selectRow(column(view.table, "Owner").index("biller"))
    with qtbot.waitSignal(view.finished, timeout=10_000):
        view.transfer_button.click()
    qtbot.waitUntil(lambda: view.model.rowCount() == rows - 1, timeout=10_000)
    assert "moved to the patient's responsibility" in view.message.text()

    view.table.selectRow(0)
    with qtbot.waitSignal(view.finished, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "write off requested" in column(view.table, "Status"), timeout=10_000)
    assert not view.approve_button.isVisible()  # a biller cannot approve a write-off


def test_a_manager_approves_a_requested_write_off(qtbot: QtBot, clinic: Services, tmp_path: Path) -> None:
    from infusion_desk.services.denials import DenialService

    _denied(clinic, tmp_path)
    service = DenialService(clinic.db)
    item = service.work_queue(biller(clinic))[0]
    service.request_write_off(biller(clinic), item.id, "Authorization never obtained")
    manager = clinic.auth.sign_in("manager", "demo")
    view = DenialsView(clinic, manager)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.table.selectRow(column(view.table, "Status").index("write off requested"))
    assert view.approve_button.isEnabled()
    before = view.model.rowCount()
    with qtbot.waitSignal(view.finished, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: view.model.rowCount() == before - 1, timeout=10_000)
    assert "written off" in view.message.text()


def test_correct_and_resubmit_answers_a_denial_with_a_corrected_claim(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    numbers = _denied(clinic, tmp_path)
    reasons: list[str] = []

    def ask(_parent: object, _title: str, question: str) -> str:
        reasons.append(question)
        return "Units corrected from the nursing record"

    view = DenialsView(clinic, biller(clinic), ask=ask)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.table.selectRow(0)
    picked = view.current()
    assert picked is not None and picked.claim_number in numbers
    assert view.resubmit_button.isEnabled() and view.appeal_button.isEnabled()
    view.table.setFocus()
    with qtbot.waitSignal(view.finished, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: picked.claim_number not in column(view.table, "Claim"), timeout=10_000)
    assert reasons and picked.claim_number in reasons[0]
    assert "corrected claim (frequency 7)" in view.message.text()


def test_a_reload_keeps_the_denial_the_biller_picked(qtbot: QtBot, clinic: Services, tmp_path: Path) -> None:
    _denied(clinic, tmp_path)
    view = DenialsView(clinic, biller(clinic))
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.table.selectRow(view.model.rowCount() - 1)
    picked = view.current()
    assert picked is not None and view.take_button.isEnabled()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.refresh()  # F5, or another action's reload, while the biller is looking at a row
    again = view.current()
    assert again is not None and again.id == picked.id and view.take_button.isEnabled()
