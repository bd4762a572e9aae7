"""The patient's account as the desk and a manager use it: totals, Take payment (Ctrl+P), credit, write-off."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models import Claim
from infusion_desk.models.enums import PaymentMethod
from infusion_desk.services.app import Services
from infusion_desk.services.check_in import CheckInService, CopayInput
from infusion_desk.services.demo import DEMO_PASSWORD
from infusion_desk.services.patient_payments import PatientPaymentService, PaymentInput
from infusion_desk.ui.patient_account_view import PatientAccountView, RefundDialog
from infusion_desk.ui.patient_payment_dialog import PatientPaymentDialog
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


def _view(qtbot: QtBot, services: Services, patient_id: int, user: str, tmp_path: Path) -> PatientAccountView:
    actor = services.auth.sign_in(user, DEMO_PASSWORD)
    view = PatientAccountView(services, actor, save_path=lambda _parent, name: str(tmp_path / name))
    qtbot.addWidget(view)
    with qtbot.waitActive(view):
        view.show()
        view.activateWindow()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show_patient(patient_id)
    return view


def test_the_ledger_shows_each_lines_state_and_ctrl_p_takes_a_payment(
    qtbot: QtBot, qtmodeltester: object, billed: tuple[Services, int], tmp_path: Path
) -> None:
    services, patient_id = billed
    view = _view(qtbot, services, patient_id, "frontdesk", tmp_path)
    account = view.account
    assert account is not None
    qtmodeltester.check(view.lines_model)  # type: ignore[attr-defined]
    qtmodeltester.check(view.payments_model)  # type: ignore[attr-defined]
    states = column(view.lines, "State")
    assert "Patient due" in states and "Insurance pending" in states
    assert view.due_total.text() == f"${account.patient_due:,.2f}"
    assert view.awaiting_total.text() == f"${account.awaiting_insurance:,.2f}" != "$0.00"
    assert not view.refund_button.isVisible() and not view.write_off_button.isVisible()
    assert not view.credit_button.isEnabled()  # no credit yet

    view.lines.setFocus()
    qtbot.keyClick(view.lines, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(view.dialog, PatientPaymentDialog) and view.dialog.isVisible())
    dialog = view.dialog
    assert isinstance(dialog, PatientPaymentDialog)
    qtbot.waitUntil(dialog.amount.hasFocus)
    qtbot.keyClick(dialog.amount, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.amount, str(account.patient_due + D("20.00")))
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(dialog.amount, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert view.due_total.text() == "$0.00" and view.credit_total.text() == "$20.00"
    assert "Patient due" not in column(view.lines, "State")
    assert column(view.payments, "Not applied") == ["$20.00"]
    assert "posted" in view.message.text()


def test_a_copay_taken_at_check_in_is_applied_with_apply_credit(
    qtbot: QtBot, billed: tuple[Services, int], tmp_path: Path
) -> None:
    services, patient_id = billed
    clerk = services.auth.sign_in("frontdesk", DEMO_PASSWORD)
    with services.db.session() as session:
        visit_id = session.scalars(
            sa.select(Claim.visit_id).where(Claim.patient_id == patient_id).order_by(Claim.service_date_from)
        ).first()
    assert visit_id is not None
    CheckInService(services.db).collect_copay(clerk, visit_id, CopayInput("15.00", PaymentMethod.CASH))
    view = _view(qtbot, services, patient_id, "frontdesk", tmp_path)
    account = view.account
    assert account is not None and account.credit_balance == D("15.00")
    assert column(view.payments, "Kind") == ["Copay"]
    assert view.credit_button.isEnabled()

    view.lines.setFocus()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_C, Qt.KeyboardModifier.AltModifier)  # Apply &credit
    assert view.credit_total.text() == "$0.00"
    assert view.due_total.text() == f"${account.patient_due - D('15.00'):,.2f}"
    assert "Applied $15.00 of credit" in view.message.text()


def test_a_manager_writes_off_a_small_balance_and_refunds_a_credit(
    qtbot: QtBot, billed: tuple[Services, int], tmp_path: Path
) -> None:
    services, patient_id = billed
    clerk = services.auth.sign_in("frontdesk", DEMO_PASSWORD)
    desk = PatientPaymentService(services.db)
    due = desk.account(clerk, patient_id).patient_due
    desk.post_payment(clerk, patient_id, PaymentInput(str(due - D("3.20")), PaymentMethod.CASH))
    view = _view(qtbot, services, patient_id, "manager", tmp_path)
    assert view.due_total.text() == "$3.20"
    assert view.write_off_button.isVisible() and "$3.20" in view.write_off_button.text()
    assert view.refund_button.isVisible() and not view.refund_button.isEnabled()  # no credit

    view.lines.setFocus()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)  # &Write off small balance
    assert view.due_total.text() == "$0.00" and not view.write_off_button.isEnabled()
    assert "Patient due" not in column(view.lines, "State")

    desk.post_payment(clerk, patient_id, PaymentInput("26.80", PaymentMethod.CASH))
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.reload()
    assert view.credit_total.text() == "$26.80" and view.refund_button.isEnabled()
    qtbot.keyClick(view, Qt.Key.Key_F, Qt.KeyboardModifier.AltModifier)  # Re&fund…
    qtbot.waitUntil(lambda: isinstance(view.dialog, RefundDialog) and view.dialog.isVisible())
    refund = view.dialog
    assert isinstance(refund, RefundDialog)
    assert refund.amount.text() == "26.80"  # the whole credit is offered
    refund.reference.setFocus()
    qtbot.keyClicks(refund.reference, "5521")
    qtbot.keyClick(refund.reference, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Say why" in refund.findings.text())  # a reason is needed
    refund.reason.setFocus()
    qtbot.keyClicks(refund.reason, "Overpaid; the patient asked for a check")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(refund.reason, Qt.Key.Key_Return)
    assert view.credit_total.text() == "$0.00"
    assert column(view.payments, "Kind")[0] == "Refund"
    assert column(view.payments, "Amount")[0] == "-$26.80"


def test_the_front_desk_opens_a_patients_account_beside_the_record(
    qtbot: QtBot, billed: tuple[Services, int]
) -> None:
    from infusion_desk.ui.workspaces import FrontDeskWorkspace

    services, patient_id = billed
    desk = services.auth.sign_in("frontdesk", DEMO_PASSWORD)
    workspace = FrontDeskWorkspace(services, desk)
    qtbot.addWidget(workspace)
    workspace.show()
    assert workspace.account is not None
    with qtbot.waitSignal(workspace.account.loaded, timeout=10_000) as shown:
        workspace.open_patient(patient_id)
    account = shown.args[0]
    assert account.patient_id == patient_id and account.patient_due > 0
    tabs = workspace.panel.tabs
    assert "Account" in [tabs.tabText(i) for i in range(tabs.count())]
    assert workspace.account.due_total.text() == f"${account.patient_due:,.2f}"


def test_alt_n_sets_up_a_payment_plan_and_the_totals_show_it(
    qtbot: QtBot, billed: tuple[Services, int], tmp_path: Path
) -> None:
    from infusion_desk.ui.plan_dialog import PlanDialog

    services, patient_id = billed
    view = _view(qtbot, services, patient_id, "frontdesk", tmp_path)
    assert view.plan_status.text() == "None" and view.plan_button.isEnabled()
    view.lines.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: isinstance(view.dialog, PlanDialog) and view.dialog.isVisible())
    dialog = view.dialog
    assert isinstance(dialog, PlanDialog)
    qtbot.waitUntil(dialog.count.hasFocus)
    qtbot.keyClick(dialog.count, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(dialog.count, "2")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(dialog.count, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert view.plan_status.text().startswith("Active plan: 2 ×")
    assert "Payment plan" in column(view.lines, "State")
    assert not view.plan_button.isEnabled()  # one active plan at a time
    assert view.message.text().startswith("Payment plan made")

    # Cancel plan (Alt+A) cancels it, with the reason asked for: the balance is patient-due again
    asked: list[str] = []
    view._ask = lambda _parent, _title, question: asked.append(question) or "Pays in full next week"
    assert view.cancel_plan_button.isEnabled()
    with qtbot.waitActive(view):  # back from the plan dialog
        view.activateWindow()
    view.lines.setFocus()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert asked == ["Why is the plan cancelled?"]
    assert "Payment plan" not in column(view.lines, "State") and "Patient due" in column(view.lines, "State")
    assert view.plan_status.text().startswith("Last plan cancelled")
    assert view.plan_button.isEnabled() and not view.cancel_plan_button.isEnabled()
