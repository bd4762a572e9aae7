"""The payment plan dialog, by keyboard: the schedule previews as the terms are typed, Ctrl+Enter creates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import QDate, Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models import Claim, ClaimLine, PaymentPlan
from infusion_desk.models.enums import LineResponsibility
from infusion_desk.services.app import Services
from infusion_desk.services.demo import DEMO_PASSWORD
from infusion_desk.services.plans import PlanService
from infusion_desk.ui.plan_dialog import PlanDialog
from infusion_desk.ui.tasks import wait_for_idle
from tests.ui.helpers import column
from tests.ui.test_patient_payment_dialog import Template, billed_template

D = Decimal


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


def _dialog(qtbot: QtBot, services: Services, patient_id: int) -> PlanDialog:
    actor = services.auth.sign_in("frontdesk", DEMO_PASSWORD)
    plans = PlanService(services.db)
    dialog = PlanDialog(plans, actor, plans.draft(actor, patient_id))
    qtbot.addWidget(dialog)
    with qtbot.waitActive(dialog):
        dialog.show()
        dialog.activateWindow()
    return dialog


def _states(services: Services, patient_id: int) -> set[LineResponsibility]:
    with services.db.session() as session:
        return set(
            session.scalars(
                sa.select(ClaimLine.responsibility)
                .join(Claim, Claim.id == ClaimLine.claim_id)
                .where(Claim.patient_id == patient_id)
            )
        )


def _plans(services: Services) -> int:
    with services.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(PaymentPlan)) or 0


def test_the_schedule_previews_as_you_type_and_ctrl_enter_creates_the_plan(
    qtbot: QtBot, qtmodeltester: object, billed: tuple[Services, int]
) -> None:
    services, patient_id = billed
    dialog = _dialog(qtbot, services, patient_id)
    total = dialog._draft.total_due
    assert total >= D("50.00")
    qtbot.waitUntil(dialog.count.hasFocus)
    assert len(column(dialog.schedule, "Amount")) == 3
    qtmodeltester.check(dialog.model)  # type: ignore[attr-defined]

    # too many instalments for the $25.00 minimum: said at once, and Ctrl+Enter does nothing
    many = int(total // D("25.00")) + 1
    qtbot.keyClick(dialog.count, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.count, str(many))
    assert "at least $25.00" in dialog.findings.text()
    assert not dialog.create_button.isEnabled() and dialog.model.rowCount() == 0
    qtbot.keyClick(dialog.count, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert wait_for_idle(5_000) and _plans(services) == 0

    qtbot.keyClick(dialog.count, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.count, "2")
    amounts = column(dialog.schedule, "Amount")
    assert len(amounts) == 2 and dialog.findings.text() == ""
    assert sum(D(a.strip("$").replace(",", "")) for a in amounts) == total
    with qtbot.waitSignal(dialog.created, timeout=10_000) as created:
        qtbot.keyClick(dialog.count, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert created.args[0].total == total and created.args[0].instalments == 2
    assert LineResponsibility.PAYMENT_PLAN in _states(services, patient_id)
    assert LineResponsibility.PATIENT_DUE not in _states(services, patient_id)


def test_an_instalment_amount_and_a_past_first_date(qtbot: QtBot, billed: tuple[Services, int]) -> None:
    services, patient_id = billed
    dialog = _dialog(qtbot, services, patient_id)
    total = dialog._draft.total_due
    qtbot.keyClick(dialog, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(dialog.amount.hasFocus)
    qtbot.keyClicks(dialog.amount, "25")
    amounts = column(dialog.schedule, "Amount")
    assert amounts[0] == "$25.00" and len(amounts) == -(-int(total * 100) // 2500)  # as many as needed

    past = dialog._draft.today - timedelta(days=1)
    dialog.first_due.setDate(QDate(past.year, past.month, past.day))
    assert "cannot be in the past" in dialog.findings.text()
    assert not dialog.create_button.isEnabled()
    qtbot.keyClick(dialog.amount, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert wait_for_idle(5_000) and _plans(services) == 0
    assert LineResponsibility.PAYMENT_PLAN not in _states(services, patient_id)

    qtbot.keyClick(dialog.amount, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.amount, "abc")
    assert "not a number" in dialog.findings.text()
