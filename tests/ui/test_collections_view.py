"""Billing → Collections by keyboard: the aged worklist, Add note (Alt+N), Hand off (Alt+H), Recall (Alt+R)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.services.app import Services
from infusion_desk.services.demo import DEMO_PASSWORD
from infusion_desk.ui.collections_view import CollectionsView
from infusion_desk.ui.tasks import wait_for_idle
from tests.services.billing_seed import TODAY
from tests.ui.helpers import column
from tests.ui.test_patient_payment_dialog import Template, billed_template

LATER = TODAY + timedelta(days=150)
"""Far enough past the demo's dates of service for every patient-due balance to be over 120 days."""


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


def _view(qtbot: QtBot, services: Services, user: str, **kwargs: object) -> CollectionsView:
    actor = services.auth.sign_in(user, DEMO_PASSWORD)
    view = CollectionsView(services, actor, today=LATER, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.activateWindow()
    view.table.setFocus()
    return view


def test_a_biller_sees_the_old_balance_and_adds_a_note_with_alt_n(
    qtbot: QtBot, qtmodeltester: object, billed: tuple[Services, int]
) -> None:
    services, _patient_id = billed
    asked: list[str] = []

    def note(_parent: object, title: str) -> tuple[str, object]:
        asked.append(title)
        return "Left a voicemail", LATER + timedelta(days=7)

    view = _view(qtbot, services, "biller", ask_note=note)
    qtmodeltester.check(view.model)  # type: ignore[attr-defined]
    qtmodeltester.check(view.missed_model)  # type: ignore[attr-defined]
    assert column(view.table, "Bucket") == ["over 120"]
    assert not view.hand_off_button.isVisible()  # a manager's
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    assert view.current() is not None and view.note_button.isEnabled()

    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert asked and "Follow-up note" in asked[0]
    assert column(view.table, "Last note") == ["Left a voicemail"]
    assert column(view.table, "Next action") == [f"{LATER + timedelta(days=7):%m/%d/%Y}"]
    assert view.message.text().startswith("Note added")

    # the picked patient's notes, newest first, under the list
    qtbot.waitUntil(lambda: column(view.notes, "Note") == ["Left a voicemail"], timeout=10_000)
    view._ask_note = lambda _parent, _title: ("Sent a letter", None)
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: column(view.notes, "Note") == ["Sent a letter", "Left a voicemail"], timeout=10_000)
    qtmodeltester.check(view.notes_model)  # type: ignore[attr-defined]


def test_a_past_next_action_date_is_refused_in_the_message(qtbot: QtBot, billed: tuple[Services, int]) -> None:
    services, _patient_id = billed
    view = _view(qtbot, services, "biller", ask_note=lambda *_: ("Called", LATER - timedelta(days=1)))
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "cannot be in the past" in view.message.text())
    assert column(view.table, "Last note") == [""]


def test_a_manager_hands_off_with_alt_h_and_recalls_with_alt_r(qtbot: QtBot, billed: tuple[Services, int]) -> None:
    services, _patient_id = billed
    answers = iter(["Fictional Recovery Co", "Patient called to pay"])
    view = _view(qtbot, services, "manager", ask_text=lambda *_: next(answers))
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    assert view.hand_off_button.isVisible() and not view.recall_button.isEnabled()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    assert column(view.table, "Hand-off") == ["Sent to Fictional Recovery Co"]
    view.table.setFocus()
    qtbot.keyClick(view.table, Qt.Key.Key_Down)
    assert view.recall_button.isEnabled() and not view.hand_off_button.isEnabled()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.AltModifier)
    assert column(view.table, "Hand-off") == ["Recalled"]


def test_the_missed_payments_tab_opens_with_alt_m(qtbot: QtBot, billed: tuple[Services, int]) -> None:
    services, _patient_id = billed
    view = _view(qtbot, services, "biller")
    qtbot.keyClick(view, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    assert view.tabs.currentWidget() is view.missed
    assert view.missed_model.rowCount() == 0  # no plan in this clinic yet
    assert not view.note_button.isEnabled()
