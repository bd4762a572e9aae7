"""Billing → Statements: preview, run with progress, reprint, hold and settings, from the keyboard and mouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models import Payer
from infusion_desk.models.enums import LineResponsibility, PayerType, Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.clinic import ClinicDetails
from infusion_desk.ui.statements_view import StatementsView
from tests.conftest import make_actor
from tests.services.test_statements import TODAY, Clinic, owe, patient
from tests.ui.helpers import column

pytestmark = pytest.mark.gui


@pytest.fixture
def billing(ui_services: Services, clinic: ClinicDetails) -> Clinic:
    with ui_services.db.session() as session:
        payer = Payer(name="Fictional Health Plan", payer_id="FHP01", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        payer_id = payer.id
    seeded = Clinic(ui_services, make_actor(ui_services, Role.BILLER), payer_id)
    owe(seeded, patient(seeded, "MR901", "Quenby"), 45, "120.00")
    owe(seeded, patient(seeded, "MR902", "Vantreese"), 10, "3.00")  # under the $5.00 minimum
    owe(seeded, patient(seeded, "MR903", "Arkwright"), 5, "0", state=LineResponsibility.INSURANCE_PENDING)
    owe(seeded, patient(seeded, "MR904", "Arkwright"), 5, "60.00", state=LineResponsibility.SECONDARY_PENDING)
    return seeded


def show(qtbot: QtBot, view: StatementsView) -> StatementsView:
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    return view


def pick(qtbot: QtBot, view: StatementsView, mrn: str) -> None:
    row = column(view.table, "MRN").index(mrn)
    rect = view.table.visualRect(view.model.index(row, 0))
    qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.current() is not None and view.current().mrn == mrn  # type: ignore[union-attr]


def reload(qtbot: QtBot, view: StatementsView) -> None:
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        pass


def test_the_preview_lists_who_gets_a_statement_and_why_the_others_do_not(qtbot: QtBot, billing: Clinic) -> None:
    view = show(qtbot, StatementsView(billing.services, billing.biller, today=TODAY))
    assert column(view.table, "MRN")[0] == "MR901"  # the statements to send come first
    statuses = dict(zip(column(view.table, "MRN"), column(view.table, "Status"), strict=True))
    assert statuses["MR901"] == "Will be sent"
    assert statuses["MR902"] == "Skipped: under the minimum of $5.00"
    assert statuses["MR904"].startswith("Skipped: nothing patient-due yet")
    assert "MR903" not in statuses  # insurance owes it all: the patient owes nothing
    assert dict(zip(column(view.table, "MRN"), column(view.table, "Amount due"), strict=True))["MR901"] == "$120.00"
    assert "1 statement(s) to send on 11/26/2026, $120.00 due" in view.summary.text()
    assert not view.minimum.isEnabled() and not view.save_button.isEnabled()  # a manager's setting


def test_ctrl_r_runs_with_progress_and_a_reprint_saves_the_same_pdf(
    qtbot: QtBot, billing: Clinic, tmp_path: Path
) -> None:
    out = tmp_path / "statements"
    out.mkdir()
    saved = tmp_path / "again.pdf"
    view = show(qtbot, StatementsView(
        billing.services, billing.biller, today=TODAY, ask_folder=lambda _parent: str(out),
        save_path=lambda _parent, suggested: str(saved) if suggested == "statement_20261126_MR901.pdf" else None,
    ))
    assert view.run_button.isEnabled()
    view.table.setFocus()
    progress: list[int] = []
    view.progress.valueChanged.connect(progress.append)
    with qtbot.waitSignal(view.finished, timeout=20_000):
        qtbot.keyClick(view.table, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert "Sent 1 statement(s)" in view.message.text() and 1 in progress
    sent = out / "statement_20261126_MR901.pdf"
    assert sent.exists() and len(list(out.glob("statements_20261126_*.pdf"))) == 1
    reload(qtbot, view)
    statuses = dict(zip(column(view.table, "MRN"), column(view.table, "Status"), strict=True))
    assert statuses["MR901"] == "Skipped: statement sent 11/26/2026; next one from 12/26/2026"
    assert not view.run_button.isEnabled()  # nothing left to send today

    pick(qtbot, view, "MR901")
    assert view.reprint_button.isEnabled()
    with qtbot.waitSignal(view.finished, timeout=10_000):
        qtbot.mouseClick(view.reprint_button, Qt.MouseButton.LeftButton)
    assert saved.read_bytes() == sent.read_bytes()
    assert "Saved" in view.message.text()


def test_hold_asks_why_and_release_resumes(qtbot: QtBot, billing: Clinic) -> None:
    view = show(qtbot, StatementsView(
        billing.services, billing.biller, today=TODAY, ask_reason=lambda _p, _t, _q: "Disputes the charge",
    ))
    pick(qtbot, view, "MR901")
    assert view.hold_button.text() == "&Hold statements…"
    with qtbot.waitSignal(view.finished, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    reload(qtbot, view)
    statuses = dict(zip(column(view.table, "MRN"), column(view.table, "Status"), strict=True))
    assert statuses["MR901"] == "Skipped: on statement hold: Disputes the charge"
    assert "No statements to send" in view.summary.text()
    pick(qtbot, view, "MR901")
    assert view.hold_button.text() == "Release &hold"
    with qtbot.waitSignal(view.finished, timeout=10_000):
        qtbot.mouseClick(view.hold_button, Qt.MouseButton.LeftButton)
    reload(qtbot, view)
    assert dict(zip(column(view.table, "MRN"), column(view.table, "Status"), strict=True))["MR901"] == "Will be sent"


def test_a_manager_changes_the_minimum_and_a_bad_amount_is_refused(
    qtbot: QtBot, billing: Clinic, ui_services: Services
) -> None:
    manager: Actor = make_actor(ui_services, Role.MANAGER)
    view = show(qtbot, StatementsView(ui_services, manager, today=TODAY))
    assert view.minimum.text() == "5.00" and view.cycle.value() == 30 and view.due_days.value() == 21
    view.minimum.selectAll()
    qtbot.keyClicks(view.minimum, "lots")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    assert "Minimum balance" in view.message.text()
    view.minimum.clear()
    qtbot.keyClicks(view.minimum, "150")
    with qtbot.waitSignal(view.finished, timeout=10_000):
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    reload(qtbot, view)
    assert view.minimum.text() == "150.00"
    statuses = dict(zip(column(view.table, "MRN"), column(view.table, "Status"), strict=True))
    assert statuses["MR901"] == "Skipped: under the minimum of $150.00"
