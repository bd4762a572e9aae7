"""A whole front-desk day through the workspace, as a receptionist does it with keyboard and mouse.

Register a patient, add a primary and a secondary plan, verify the primary, record the
physician's order and the payer's authorization, book today's visit and the next one, and
check the patient in: the one problem left on purpose (the secondary plan never verified)
is shown at check-in, its fix button opens the verification form, and Re-check clears it.

The schedule and check-in run on the real clock in the clinic's time zone, so the test puts
the clinic in a fixed-offset zone where it is about midday now: today's visit can be booked
half an hour ahead within opening hours, whenever the test runs.
"""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QLabel, QPushButton, QTabWidget, QWidget
from pytestqt.qtbot import QtBot

from infusion_desk.models import Payer, Setting, Visit
from infusion_desk.models.enums import PayerType, Role, VisitStatus
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.clinic import ClinicDetails, ProviderInput
from infusion_desk.services.schedule import ScheduleService
from infusion_desk.ui.tasks import wait_for_idle
from infusion_desk.ui.workspaces import FrontDeskWorkspace
from tests.conftest import make_actor
from tests.services.frontdesk_seed import make_drug
from tests.ui.helpers import column

pytestmark = pytest.mark.gui

WAIT = 10_000


def midday_zone() -> ZoneInfo:
    """A fixed-offset zone where the clock now reads between 12:00 and 12:59."""
    offset = 12 - datetime.now(UTC).hour  # -11..+12, inside the Etc zones' -12..+14
    return ZoneInfo(f"Etc/GMT{'-' if offset > 0 else '+'}{abs(offset)}")  # Etc signs are inverted


def _click_tab(qtbot: QtBot, tabs: QTabWidget, page: QWidget) -> None:
    bar = tabs.tabBar()
    qtbot.mouseClick(bar, Qt.MouseButton.LeftButton, pos=bar.tabRect(tabs.indexOf(page)).center())
    assert tabs.currentWidget() is page


def _activate(qtbot: QtBot, window: QWidget) -> None:
    """The window is active again, as a window manager makes it when a dialog closes.

    The offscreen platform does not hand activation back, and shortcuts need an active window.
    """
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=WAIT)


def _type(qtbot: QtBot, widget: QWidget, text: str) -> None:
    widget.setFocus()
    qtbot.keyClicks(widget, text)


def _save(qtbot: QtBot, buttons: QDialogButtonBox) -> None:
    qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Save), Qt.MouseButton.LeftButton)


def _seed_clinic(services: Services, admin: Actor) -> ZoneInfo:
    """What a manager set up before the day: time zone, chairs and hours, payers, drug, a physician."""
    zone = midday_zone()
    with services.db.session() as session:
        session.merge(Setting(key="clinic.timezone", value=zone.key))
        session.add_all([
            Payer(name="Lakeshore Mutual (test)", payer_id="LM001", payer_type=PayerType.COMMERCIAL),
            Payer(name="Harborview Supplemental (test)", payer_id="HV002", payer_type=PayerType.COMMERCIAL),
        ])
        make_drug(session, "J1745")
    services.clinic.add_provider(admin, ProviderInput("Ann", "Order", "1245319599", "MD"))
    ScheduleService(services.db).configure(admin, ["Chair 1", "Chair 2"], time(7, 0), time(19, 0))
    return zone


def test_a_front_desk_day_from_registration_to_check_in(
    qtbot: QtBot, ui_services: Services, clinic: ClinicDetails, admin_actor: Actor
) -> None:
    zone = _seed_clinic(ui_services, admin_actor)
    today = datetime.now(UTC).astimezone(zone).date()
    desk = make_actor(ui_services, Role.FRONT_DESK, "t_desk_day")
    workspace = FrontDeskWorkspace(ui_services, desk, today=lambda: today)
    qtbot.addWidget(workspace)
    workspace.resize(1400, 900)
    workspace.show()
    qtbot.waitExposed(workspace)
    _activate(qtbot, workspace)
    panel = workspace.panel
    tabs = panel.tabs

    # 1. Register the patient.
    qtbot.mouseClick(workspace.new_patient_button, Qt.MouseButton.LeftButton)
    registration = workspace.registration
    assert registration is not None and registration.isVisible()
    for name, text in {
        "first_name": "Wren", "last_name": "Fictitia", "birth_date": "05/17/1961",
        "address1": "77 Placeholder Row", "city": "Springfield", "state": "il", "zip_code": "62704",
        "phone": "217-555-0199",
    }.items():
        _type(qtbot, registration.fields[name], text)
    with qtbot.waitSignal(panel.patientShown, timeout=WAIT) as shown:
        qtbot.keyClick(registration.fields["phone"], Qt.Key.Key_Return)
    patient_id = shown.args[0]
    assert panel.name.text() == "Fictitia, Wren"
    assert not registration.isVisible()

    # 2. Two plans through Add insurance: the primary commercial plan, then the secondary.
    for payer, rank_keys, member, group in (
        ("Lakeshore", 0, "LKM-300-771", "GRP-88"),
        ("Harborview", 1, "HBV-900-115", ""),
    ):
        qtbot.mouseClick(workspace.add_policy_button, Qt.MouseButton.LeftButton)
        dialog = workspace.policy_dialog
        assert dialog is not None and dialog.isVisible()
        qtbot.waitUntil(lambda dialog=dialog: dialog.payer.count() == 2, timeout=WAIT)
        _type(qtbot, dialog.payer, payer)  # keyboard search in the payer list
        assert dialog.payer.currentText().startswith(payer)
        for _ in range(rank_keys):
            qtbot.keyClick(dialog.rank, Qt.Key.Key_Down)
        _type(qtbot, dialog.member_id, member)
        if group:
            _type(qtbot, dialog.group, group)
        _type(qtbot, dialog.effective, f"01/01/{today.year}")
        with qtbot.waitSignal(panel.patientShown, timeout=WAIT):
            qtbot.keyClick(dialog.effective, Qt.Key.Key_Return)
    assert column(panel.policies, "Rank") == ["Primary", "Secondary"]
    assert column(panel.policies, "Member ID") == ["LKM-300-771", "HBV-900-115"]

    # 3. Verify the primary plan's eligibility, with its benefits.
    eligibility = workspace.eligibility
    _click_tab(qtbot, tabs, eligibility)
    qtbot.waitUntil(lambda: eligibility.status.text().count("Not verified") == 2, timeout=WAIT)
    qtbot.mouseClick(eligibility.record_button, Qt.MouseButton.LeftButton)
    form = eligibility.dialog
    assert form is not None and form.isVisible()
    assert "LKM-300-771" in form.policy.currentText()
    qtbot.keyClick(form.method, Qt.Key.Key_Down)  # Portal -> Phone
    _type(qtbot, form.reference, "CALL-4410")
    _type(qtbot, form.copay, "30")
    _type(qtbot, form.deductible, "1,500")
    _type(qtbot, form.deductible_met, "1,500")
    _type(qtbot, form.coinsurance, "10")
    _type(qtbot, form.oop, "4,000")
    _type(qtbot, form.oop_met, "2,200")
    with qtbot.waitSignal(form.saved, timeout=WAIT):
        _save(qtbot, form.findChild(QDialogButtonBox, "eligibilityButtons"))
    qtbot.waitUntil(lambda: eligibility.model.rowCount() == 1, timeout=WAIT)
    assert column(eligibility.table, "Copay") == ["$30.00"]
    assert column(eligibility.table, "Reference") == ["CALL-4410"]
    lines = eligibility.status.text().splitlines()
    assert "LKM-300-771" in lines[0] and "Verified" in lines[0]
    assert "HBV-900-115" in lines[1] and "Not verified" in lines[1]

    # 4. The physician's order: infliximab 5 mg/kg every 2 weeks for Crohn's disease.
    # The per-kg dose needs a weight on file; the front desk does not weigh patients, so the
    # weight a nurse took at an earlier (cancelled) visit is arranged here.
    with ui_services.db.session() as session:
        earlier = today - timedelta(days=30)
        session.add(Visit(
            patient_id=patient_id, date_of_service=earlier, status=VisitStatus.CANCELLED,
            scheduled_start=datetime.combine(earlier, time(9), zone), weight_kg=Decimal(70),
        ))
    orders = workspace.orders
    _click_tab(qtbot, tabs, orders)
    qtbot.waitUntil(lambda: orders.new_button.isEnabled(), timeout=30_000)
    qtbot.mouseClick(orders.new_button, Qt.MouseButton.LeftButton)
    order_form = orders.dialog
    assert order_form is not None and order_form.isVisible()
    qtbot.waitUntil(lambda: order_form.loaded, timeout=WAIT)
    assert order_form.drug.currentText().startswith("infliximab")
    _type(qtbot, order_form.dose, "5")
    _type(qtbot, order_form.basis, "per")  # keyboard search: the first basis starting "per"
    assert order_form.basis.currentText() == "per kg"
    weighed = f"{earlier:%m/%d/%Y}"
    assert order_form.preview.text() == f"5 mg/kg → 350 mg at 70 kg ({weighed})"  # 5 x 70
    _type(qtbot, order_form.frequency, "every 2 weeks")
    _type(qtbot, order_form.doses, "8")
    _type(qtbot, order_form.expiry, f"{today + timedelta(days=365):%m/%d/%Y}")
    picker = order_form.diagnoses
    _type(qtbot, picker.search_box, "crohn disease unspecified without")
    qtbot.waitUntil(lambda: picker.results.count() > 0, timeout=30_000)
    assert picker.results.item(0).text().startswith("K50.90")
    qtbot.keyClick(picker.search_box, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: picker.codes() == ("K5090",), timeout=WAIT)
    with qtbot.waitSignal(order_form.saved, timeout=WAIT):
        _save(qtbot, order_form.buttons)
    qtbot.waitUntil(lambda: orders.model.rowCount() == 1, timeout=WAIT)
    order_row = [orders.model.index(0, c).data() for c in range(orders.model.columnCount())]
    assert any("350 mg at 70 kg" in str(cell) for cell in order_row)

    # 5. The payer's prior authorization for the primary plan, covering J1745.
    authorizations = workspace.authorizations
    _click_tab(qtbot, tabs, authorizations)
    qtbot.waitUntil(lambda: authorizations.new_button.isEnabled(), timeout=WAIT)
    qtbot.mouseClick(authorizations.new_button, Qt.MouseButton.LeftButton)
    auth_form = authorizations.dialog
    assert auth_form is not None and auth_form.isVisible()
    qtbot.waitUntil(lambda: auth_form.loaded, timeout=WAIT)
    _type(qtbot, auth_form.number, "PA-DAY-0001")
    assert "LKM-300-771" in auth_form.policy.currentText()
    qtbot.keyClick(auth_form.order, Qt.Key.Key_Down)  # (none) -> the infliximab order
    assert auth_form.codes.text() == "J1745"
    _type(qtbot, auth_form.units, "280")
    _type(qtbot, auth_form.valid_from, f"{today:%m/%d/%Y}")
    _type(qtbot, auth_form.valid_to, f"{today + timedelta(days=180):%m/%d/%Y}")
    with qtbot.waitSignal(auth_form.saved, timeout=WAIT):
        _save(qtbot, auth_form.buttons)
    qtbot.waitUntil(lambda: authorizations.model.rowCount() == 1, timeout=WAIT)
    assert authorizations.model.index(0, 0).data() == "PA-DAY-0001"
    assert authorizations.model.index(0, 5).data() == "280"

    # 6. Book today's visit half an hour ahead or more, and the next one two weeks on.
    schedule = workspace.schedule
    _click_tab(qtbot, workspace.pages, schedule)
    qtbot.waitUntil(lambda: schedule.grid is not None, timeout=WAIT)
    grid = schedule.grid
    assert grid is not None and grid.days == (today,)
    slot = grid.setup.slot_minutes
    soon = datetime.now(UTC).astimezone(zone) + timedelta(minutes=30 + slot)
    start = soon.replace(minute=soon.minute // slot * slot, second=0, microsecond=0)
    opening = datetime.combine(today, time(7, 0), zone)
    _activate(qtbot, workspace)
    schedule.canvas.setFocus()
    qtbot.keyClick(schedule.canvas, Qt.Key.Key_Right)  # Chair 2
    for _ in range(int((start - opening).total_seconds() // 60 // slot)):
        qtbot.keyClick(schedule.canvas, Qt.Key.Key_Down)
    qtbot.keyClick(schedule.canvas, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: schedule.dialog is not None and schedule.dialog.isVisible(), timeout=WAIT)
    booking = schedule.dialog
    qtbot.waitUntil(booking.book_button.isEnabled, timeout=WAIT)
    start_text = f"{start:%I:%M %p}".lstrip("0")
    assert booking.chair.currentText() == "Chair 2" and booking.start.currentText() == start_text
    assert "every 2 weeks" in booking.order.currentText()
    assert "LKM-300-771" in booking.policy.currentText()  # the primary plan is billed first
    qtbot.keyClick(booking.repeat, Qt.Key.Key_Up)  # two visits
    assert booking.interval.value() == 14 and "(the order's frequency)" in booking.interval_text.text()
    with qtbot.waitSignal(booking.booked, timeout=WAIT) as booked:
        qtbot.keyClick(booking.repeat, Qt.Key.Key_Return)
    first, second = booked.args[0]
    qtbot.waitUntil(lambda: first in schedule.blocks, timeout=WAIT)
    assert schedule.blocks[first].booking.chair_name == "Chair 2"
    assert schedule.blocks[first].times.startswith(start_text)
    assert schedule.blocks[first].label.startswith("Fictitia, Wren\ninfliximab")
    assert "Booked 2 visit(s)." in schedule.message.text()
    # Two weeks on, the second visit is in the same chair at the same time.
    _activate(qtbot, workspace)
    qtbot.keyClick(schedule, Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)  # week view
    qtbot.waitUntil(lambda: schedule.week_button.isChecked(), timeout=WAIT)
    schedule.canvas.setFocus()
    for _ in range(2):
        qtbot.keyClick(schedule.canvas, Qt.Key.Key_PageDown)
    qtbot.waitUntil(lambda: second in schedule.blocks, timeout=WAIT)
    assert schedule.blocks[second].booking.day == today + timedelta(days=14)
    assert schedule.blocks[second].booking.start == start + timedelta(days=14)

    # 7. Check in: the secondary plan was never verified, the one problem shown.
    check_in = workspace.check_in
    _click_tab(qtbot, workspace.pages, check_in)
    qtbot.waitUntil(lambda: check_in.model.rowCount() == 1, timeout=WAIT)
    check_in.arrivals.setFocus()
    qtbot.keyClick(check_in.arrivals, Qt.Key.Key_Down)
    desk_panel = check_in.panel
    qtbot.waitUntil(lambda: desk_panel.review is not None and desk_panel.review.visit_id == first, timeout=WAIT)
    assert "Fictitia, Wren" in desk_panel.heading.text()
    problems = [(p.code, message.text()) for p, message, _button in desk_panel.problem_rows]
    assert len(problems) == 1, problems
    code, message = problems[0]
    assert code == "ELIGIBILITY_UNVERIFIED" and "Harborview Supplemental (test)" in message
    assert not desk_panel.review.ready
    assert desk_panel.amount.text() == "30.00"  # the primary plan's copay, offered to collect
    fix = desk_panel.findChild(QPushButton, "fix_ELIGIBILITY_UNVERIFIED")
    assert fix is not None and fix.text() == "Verify eligibility…"
    verified_primary_form = form
    qtbot.mouseClick(fix, Qt.MouseButton.LeftButton)
    # The fix opens the patient's Eligibility tab with the form on the plan to verify.
    assert workspace.pages.currentWidget() is workspace.patients_page
    assert tabs.currentWidget() is eligibility
    qtbot.waitUntil(lambda: eligibility.dialog is not verified_primary_form and eligibility.dialog is not None
                    and eligibility.dialog.isVisible(), timeout=WAIT)
    second_form = eligibility.dialog
    assert "HBV-900-115" in second_form.policy.currentText()
    _type(qtbot, second_form.reference, "PORTAL-2291")
    _type(qtbot, second_form.copay, "0")
    _type(qtbot, second_form.coinsurance, "0")
    with qtbot.waitSignal(second_form.saved, timeout=WAIT):
        qtbot.keyClick(second_form.coinsurance, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: eligibility.model.rowCount() == 2, timeout=WAIT)

    # Back at check-in (Alt+2; showing the page checks again), Re-check (F5): nothing left to fix.
    _activate(qtbot, workspace)
    qtbot.keyClick(workspace, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert workspace.pages.currentWidget() is check_in
    qtbot.waitUntil(lambda: desk_panel.review is not None and desk_panel.review.ready, timeout=WAIT)
    assert wait_for_idle()
    checked = desk_panel.review
    qtbot.keyClick(check_in, Qt.Key.Key_F5)
    assert desk_panel.heading.text() == "Checking…"
    qtbot.waitUntil(lambda: desk_panel.review is not checked, timeout=WAIT)
    assert desk_panel.review is not None and desk_panel.review.ready and desk_panel.problem_rows == []
    assert desk_panel.findChild(QLabel, "checkInAllClear") is not None
    assert "Ready to check in." in desk_panel.summary.text()
    assert desk_panel.check_in_button.isEnabled()
    with qtbot.waitSignal(desk_panel.checkedIn, timeout=WAIT):
        qtbot.mouseClick(desk_panel.check_in_button, Qt.MouseButton.LeftButton)
    assert "checked in" in desk_panel.summary.text()
    assert not desk_panel.check_in_button.isEnabled()
    qtbot.waitUntil(lambda: column(check_in.arrivals, "Status") == ["Checked in"], timeout=WAIT)
    assert wait_for_idle()
