"""The eligibility panel: record a check from the keyboard, import 271 files, survive a broken one."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QWidget

from infusion_desk.models import Visit
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.clearinghouse import ClearinghouseService, ClearinghouseSettings
from infusion_desk.ui.eligibility_dialog import EligibilityDialog
from infusion_desk.ui.eligibility_panel import EligibilityPanel, Export270Dialog
from tests.billing.x12 import fixtures_271
from tests.conftest import make_actor
from tests.ui.conftest import Patients
from tests.ui.helpers import column

pytestmark = pytest.mark.gui


@pytest.fixture
def panel(qtbot, ui_services: Services, patients: Patients) -> EligibilityPanel:  # type: ignore[no-untyped-def]
    desk = make_actor(ui_services, Role.FRONT_DESK, "t_desk_elig")
    widget = EligibilityPanel(ui_services, desk)
    qtbot.addWidget(widget)
    widget.show()
    widget.activateWindow()
    qtbot.waitActive(widget)
    widget.show_patient(patients.quenby)
    qtbot.waitUntil(lambda: "Not verified" in widget.status.text(), timeout=5_000)
    return widget


def _type(qtbot, widget: QWidget, text: str) -> None:  # type: ignore[no-untyped-def]
    widget.setFocus()
    qtbot.keyClicks(widget, text)


def _open_dialog(qtbot, panel: EligibilityPanel) -> EligibilityDialog:  # type: ignore[no-untyped-def]
    qtbot.keyClick(panel, Qt.Key.Key_V, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=5_000)
    assert panel.dialog is not None
    panel.dialog.activateWindow()
    qtbot.waitActive(panel.dialog)
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.focusWidget() is not None, timeout=5_000)
    return panel.dialog


def _record_by_keyboard(qtbot, panel: EligibilityPanel) -> None:  # type: ignore[no-untyped-def]
    dialog = _open_dialog(qtbot, panel)
    assert dialog.focusWidget() is dialog.policy
    qtbot.keyClick(dialog.policy, Qt.Key.Key_H, Qt.KeyboardModifier.AltModifier)
    assert dialog.focusWidget() is dialog.method
    qtbot.keyClick(dialog.method, Qt.Key.Key_Down)  # Portal -> Phone
    _type(qtbot, dialog.reference, "CALL-778")
    _type(qtbot, dialog.copay, "35")
    _type(qtbot, dialog.deductible, "1,000")
    _type(qtbot, dialog.deductible_met, "250")
    _type(qtbot, dialog.coinsurance, "20")
    with qtbot.waitSignal(dialog.saved, timeout=5_000):
        qtbot.keyClick(dialog.copay, Qt.Key.Key_Return)


def test_a_manual_verification_from_the_keyboard_appears_in_the_log(qtbot, qtmodeltester, panel: EligibilityPanel) -> None:  # type: ignore[no-untyped-def]
    _record_by_keyboard(qtbot, panel)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5_000)
    qtmodeltester.check(panel.model)
    assert column(panel.table, "How") == ["Phone"]
    assert column(panel.table, "Result") == ["Active"]
    assert column(panel.table, "Copay") == ["$35.00"]
    assert column(panel.table, "Deductible") == ["$1,000.00 / $250.00 met"]
    assert column(panel.table, "Coinsurance") == ["20%"]
    assert column(panel.table, "Reference") == ["CALL-778"]
    assert column(panel.table, "By") == ["Test front_desk"]
    assert "Lakeshore Mutual (test) (primary, member QX123456789): Verified" in panel.status.text()
    assert "due again by" in panel.status.text()


def test_bad_input_is_shown_in_the_dialog_and_nothing_is_saved(qtbot, panel: EligibilityPanel) -> None:  # type: ignore[no-untyped-def]
    dialog = _open_dialog(qtbot, panel)
    _type(qtbot, dialog.deductible, "500")
    _type(qtbot, dialog.deductible_met, "900")
    _type(qtbot, dialog.coinsurance, "150")
    qtbot.keyClick(dialog.coinsurance, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "between 0 and 100%" in dialog.error.text(), timeout=5_000)
    assert "Deductible met ($900.00) is more than the deductible ($500.00)." in dialog.error.text()
    assert dialog.isVisible() and panel.model.rowCount() == 0
    dialog.reject()


def test_importing_a_271_records_the_answer_and_reports_strangers(
    qtbot, panel: EligibilityPanel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "answers.271"
    path.write_text(fixtures_271.response(
        fixtures_271.subscriber("QUENBY", "MARISOL", "QX123456789", date(1958, 4, 11)),
        fixtures_271.subscriber("NOBODY", "KNOWN", "ZZZ999", date(1950, 1, 1)),
        answered=date.today()))  # noqa: DTZ011
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(path), "")))
    qtbot.keyClick(panel, Qt.Key.Key_I, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5_000)
    assert "answers.271: 1 recorded, 1 not matched." in panel.message.text()
    assert "Not matched: NOBODY, KNOWN (member ZZZ999, born 01/01/1950)" in panel.message.text()
    assert column(panel.table, "How") == ["271"]
    assert column(panel.table, "Copay") == ["$40.00"]
    assert column(panel.table, "Out of pocket") == ["$6,000.00 / $1,000.00 met"]


def test_a_rejected_271_reads_as_rejected_with_the_reason(
    qtbot, panel: EligibilityPanel, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    path = tmp_path / "rejected.271"
    path.write_text(fixtures_271.response(
        fixtures_271.subscriber("QUENBY", "MARISOL", "QX123456789", date(1958, 4, 11), benefits="AAA*N**75*C~"),
        answered=date.today()))  # noqa: DTZ011
    panel.import_271(path)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5_000)
    assert column(panel.table, "Result") == ["Rejected"]
    assert column(panel.table, "Rejection / notes")[0].startswith(
        "Rejected: Subscriber/insured not found (75). Please correct and resubmit.")
    qtbot.waitUntil(lambda: ": Rejected " in panel.status.text(), timeout=5_000)


def test_a_malformed_file_is_reported_and_recording_still_works(
    qtbot, panel: EligibilityPanel, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    broken = tmp_path / "broken.271"
    broken.write_text("ISA*00*this is not a whole interchange")
    panel.import_271(broken)
    qtbot.waitUntil(lambda: "Nothing was imported" in panel.message.text(), timeout=5_000)
    assert "broken.271 cannot be read as a 271: segment 1 (ISA): the ISA segment is truncated" in panel.message.text()
    assert panel.import_button.isEnabled() and panel.model.rowCount() == 0

    _record_by_keyboard(qtbot, panel)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 1, timeout=5_000)
    assert column(panel.table, "How") == ["Phone"]


def test_export_270_dialog_writes_the_file_and_lists_what_was_skipped(
    qtbot, ui_services: Services, patients: Patients, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    manager = make_actor(ui_services, Role.MANAGER, "t_manager_270")
    dialog = Export270Dialog(ui_services, manager)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitActive(dialog)
    qtbot.waitUntil(lambda: dialog.focusWidget() is not None, timeout=5_000)
    out = tmp_path / "batch.270"
    dialog.path.setText(str(out))
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "No clearinghouse is set up" in dialog.result.text(), timeout=5_000)
    assert not out.exists()

    ClearinghouseService(ui_services.db).save(manager, ClearinghouseSettings(
        "Fictional Clearinghouse", "ZZ", "LAKEVIEW", "ZZ", "CLEARHOUSE", "LAKEVIEW", "CLEARHOUSE", False))
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "Nothing to send" in dialog.result.text(), timeout=5_000)
    assert not out.exists()

    tomorrow = date.today() + timedelta(days=1)  # noqa: DTZ011
    with ui_services.db.session() as session:
        for patient_id in (patients.quenby, patients.vantreese):
            session.add(Visit(patient_id=patient_id, date_of_service=tomorrow, scheduled_start=datetime.now(UTC)))
    qtbot.keyClick(dialog.focusWidget(), Qt.Key.Key_E, Qt.KeyboardModifier.AltModifier)
    qtbot.waitUntil(lambda: "Wrote 1 inquiries" in dialog.result.text(), timeout=5_000)
    assert f"Vantreese, Otto (MR20777) on {tomorrow:%m/%d/%Y}: no insurance in force that day (self-pay)" in (
        dialog.result.text())
    assert out.read_text().startswith("ISA*00*") and "NM1*IL*1*QUENBY*MARISOL****MI*QX123456789~" in out.read_text()


def test_the_form_opened_for_a_flagged_policy_starts_on_that_policy(
    qtbot, ui_services: Services, patients: Patients  # type: ignore[no-untyped-def]
) -> None:
    # A check-in problem or queue item about the secondary plan opens the form on that plan,
    # not on the primary, so the secondary's answer is not recorded against the primary.
    from infusion_desk.models.enums import PolicyRank
    from infusion_desk.services.patients import PolicyInput

    desk = make_actor(ui_services, Role.FRONT_DESK, "t_desk_flagged")
    (primary,) = ui_services.patients.get(desk, patients.quenby).policies
    secondary = ui_services.patients.add_policy(desk, patients.quenby, PolicyInput(
        payer_id=primary.payer_id, rank=PolicyRank.SECONDARY, member_id="QX-SEC-42",
        effective_date=date(2025, 1, 1)))
    panel = EligibilityPanel(ui_services, desk)
    qtbot.addWidget(panel)
    panel.show()
    panel.record_for(patients.quenby, secondary)  # before the patient's policies are loaded
    qtbot.waitUntil(lambda: panel.dialog is not None and panel.dialog.isVisible(), timeout=5_000)
    first = panel.dialog
    assert first is not None and first.policy.currentData() == secondary
    assert "QX-SEC-42" in first.policy.currentText()
    first.reject()

    panel.record_for(patients.quenby, secondary)  # already loaded: opens at once
    assert panel.dialog is not first and panel.dialog is not None
    assert panel.dialog.policy.currentData() == secondary
    panel.dialog.reject()
    qtbot.mouseClick(panel.record_button, Qt.MouseButton.LeftButton)  # the button: the first policy
    assert panel.dialog is not None and panel.dialog.policy.currentData() == primary.id
    panel.dialog.reject()
