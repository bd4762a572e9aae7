"""Manager → Audit trail by keyboard: filters, Verify chain (Alt+V), Export… (Alt+E)."""

from __future__ import annotations

import csv
from pathlib import Path

import sqlalchemy as sa
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from infusion_desk.models import AuditEvent
from infusion_desk.models.enums import Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.ui.audit_view import AuditView
from tests.conftest import make_actor
from tests.ui.conftest import Patients
from tests.ui.helpers import column


def _view(qtbot: QtBot, services: Services, actor: Actor, **kwargs: object) -> AuditView:
    view = AuditView(services, actor, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    view.activateWindow()
    return view


def _opened(services: Services, patients: Patients) -> Actor:
    """The front desk opens two patients: two 'view' records naming them."""
    desk = services.auth.sign_in("t_registrar", "pw-front_desk")
    services.patients.get(desk, patients.quenby)
    services.patients.get(desk, patients.vantreese)
    return make_actor(services, Role.MANAGER, "t_manager")


def test_a_manager_filters_by_patient_and_user_from_the_keyboard(
    qtbot: QtBot, qtmodeltester: object, ui_services: Services, patients: Patients
) -> None:
    manager = _opened(ui_services, patients)
    view = _view(qtbot, ui_services, manager)
    qtmodeltester.check(view.model)  # type: ignore[attr-defined]
    assert "view" in column(view.table, "Action")
    assert view.user.findData("t_registrar") > 0 and view.action.findData("view") > 0

    qtbot.keyClick(view, Qt.Key.Key_T, Qt.KeyboardModifier.AltModifier)
    assert view.patient.hasFocus()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClicks(view.patient, "quenby")
        qtbot.keyClick(view.patient, Qt.Key.Key_Return)
    assert column(view.table, "Patient") == ["Quenby, Marisol (MR10501)"] * len(column(view.table, "Patient"))
    assert "view" in column(view.table, "Action") and set(column(view.table, "User")) == {"t_registrar"}

    view.patient.clear()
    qtbot.keyClick(view, Qt.Key.Key_N, Qt.KeyboardModifier.AltModifier)
    assert view.action.hasFocus()
    view.action.setCurrentIndex(view.action.findData("view"))
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    assert set(column(view.table, "Action")) == {"view"}
    assert set(column(view.table, "Patient")) == {"Quenby, Marisol (MR10501)", "Vantreese, Otto (MR20777)"}
    assert view.summary.text() == "2 record(s)."


def test_the_dates_must_be_in_order(qtbot: QtBot, ui_services: Services, patients: Patients) -> None:
    view = _view(qtbot, ui_services, _opened(ui_services, patients))
    qtbot.keyClick(view, Qt.Key.Key_M, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(view, Qt.Key.Key_O, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: view.has_start.isChecked() and view.has_end.isChecked(), timeout=5_000)
    assert view.start.isEnabled() and view.end.isEnabled()
    view.start.setDate(view.end.date().addDays(1))
    qtbot.keyClick(view, Qt.Key.Key_S, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "is after the last day" in view.summary.text(), timeout=10_000)


def test_verify_chain_says_intact_then_names_a_tampered_record(
    qtbot: QtBot, ui_services: Services, patients: Patients
) -> None:
    view = _view(qtbot, ui_services, _opened(ui_services, patients))
    with qtbot.waitSignal(view.verified, timeout=10_000) as intact:
        qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    assert intact.args[0].startswith("Audit trail intact: ") and view.chain.text() == intact.args[0]
    qtbot.waitUntil(lambda: "verify" in column(view.table, "Action"), timeout=10_000)

    with ui_services.db.engine.begin() as connection:
        target = connection.execute(
            sa.select(sa.func.min(AuditEvent.id)).where(AuditEvent.action == "view")
        ).scalar_one()
        connection.execute(sa.update(AuditEvent).where(AuditEvent.id == target).values(patient_id=None))
    with qtbot.waitSignal(view.verified, timeout=10_000) as broken:
        qtbot.keyClick(view, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    assert broken.args[0].startswith(f"Audit trail broken at record {target}: its hash does not match")
    assert "b00020" in view.chain.styleSheet()


def test_export_writes_what_the_filters_select(
    qtbot: QtBot, ui_services: Services, patients: Patients, tmp_path: Path
) -> None:
    out = tmp_path / "audit.csv"
    asked: list[str] = []

    def choose(_parent: object, suggested: str) -> str:
        asked.append(suggested)
        return str(out)

    view = _view(qtbot, ui_services, _opened(ui_services, patients), choose_path=choose)
    view.patient.setText(f"#{patients.vantreese}")
    with qtbot.waitSignal(view.exported, timeout=10_000):
        qtbot.keyClick(view, Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    assert asked[0].startswith("audit-trail-") and asked[0].endswith(".csv")
    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert {r[7] for r in rows[1:]} == {"Vantreese, Otto (MR20777)"}
    assert view.message.text() == f"Wrote {len(rows) - 1} record(s) to {out}."
    qtbot.waitUntil(lambda: "export" in column(view.table, "Action"), timeout=10_000)
