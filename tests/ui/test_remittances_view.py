"""Billing → Payments: 835 files posted on the worker thread, the payments and the review list shown."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.services.access import Permission
from infusion_desk.services.app import Services
from infusion_desk.ui.remittances_view import RemittancesView
from tests.billing.x12.remit_fixtures import write_835
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
    return built_template(tmp_path_factory.mktemp("payments-demo"))


@pytest.fixture
def clinic(template: Path, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(template, tmp_path)
    yield services
    close(services)


def _era(services: Services, folder: Path) -> tuple[Path, str]:
    """An 835 paying the first exported claim in full, plus a payment for a claim we never sent."""
    summary = export_batches(services, folder / "outbox")
    claim = read_837p(summary.files[0].path.read_text(encoding="ascii"))[0]
    lines = tuple(
        ServicePayment(
            code=line.code, modifiers=line.modifiers, charge=line.charge, paid=line.charge,
            line_control_number=line.control_number,
        )
        for line in claim.lines
    )
    total = sum((line.charge for line in claim.lines), Decimal(0))
    ours = ClaimPayment(claim.claim_number, "1", total, total, payer_claim_control_number="ICN-UI", lines=lines)
    stranger = ClaimPayment(
        "C7777777", "1", Decimal("100.00"), Decimal("80.00"),
        adjustments=(CasAdjustment("CO", "45", Decimal("20.00")),),
    )
    path = folder / "payment.835"
    path.write_text(
        write_835(
            Remittance(
                trace_number="EFT-UI-1", payer_identifier="1999999999", payer_name="FICTIONAL HEALTH PLAN",
                payment_method="ACH", payment_date=TODAY, total_paid=total + Decimal("80.00"),
                claims=(ours, stranger),
            )
        ),
        encoding="ascii",
    )
    return path, claim.claim_number


def test_importing_an_835_waits_for_review_then_posts_and_lists_what_it_could_not_place(
    qtbot: QtBot, clinic: Services, tmp_path: Path
) -> None:
    era, number = _era(clinic, tmp_path)
    broken = tmp_path / "broken.835"
    broken.write_text("ISA*this is not an 835~", encoding="ascii")
    view = RemittancesView(clinic, biller(clinic), choose_files=lambda _parent: [str(era), str(broken)])
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    assert view.payments.rowCount() == 0 and "No payer payments" in view.summary.text()

    with qtbot.waitSignal(view.finished, timeout=20_000), qtbot.waitSignal(view.changed, timeout=20_000):
        qtbot.keyClick(view, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.payments.rowCount() == 1, timeout=10_000)
    # the readable file went in; the broken one was refused and changed nothing
    assert "Read 1 of 2 file(s)" in view.message.text() and "broken.835" in view.message.text()
    assert "1 payment(s) wait for your review" in view.message.text()
    report = view.report.toPlainText()
    assert "waiting for review" in report and "not a readable 835" in report
    assert column(view.payments_table, "Check / EFT") == ["EFT-UI-1"]
    assert column(view.payments_table, "Status") == ["Waiting for review"]
    assert column(view.review_table, "Claim") == ["C7777777"]
    assert "No claim numbered C7777777" in column(view.review_table, "Why it needs you")[0]

    # the biller reviews it and posts it from the keyboard
    assert not view.post_button.isEnabled()
    view.payments_table.setFocus()
    qtbot.keyClick(view.payments_table, Qt.Key.Key_Down)
    assert view.post_button.isEnabled()
    with qtbot.waitSignal(view.finished, timeout=20_000):
        qtbot.keyClick(view, Qt.Key.Key_P, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: column(view.payments_table, "Status") == ["Posted"], timeout=10_000)
    assert "Posted payment EFT-UI-1" in view.message.text()
    assert "1 claim(s) posted" in view.report.toPlainText() and number not in column(view.review_table, "Claim")
    assert not view.post_button.isEnabled()


def test_the_page_is_for_billers_only(qtbot: QtBot, clinic: Services) -> None:
    frontdesk = clinic.auth.sign_in("frontdesk", "demo")
    assert not frontdesk.can(Permission.REMITTANCE_POST)
    view = RemittancesView(clinic, frontdesk, choose_files=lambda _parent: pytest.fail("no file dialog"))
    qtbot.addWidget(view)
    assert not view.import_button.isEnabled() and not view.eob_button.isEnabled()
    view.import_remittances()  # the shortcuts do nothing either
    view.key_paper_eob()
    assert view.eob_dialog is None
