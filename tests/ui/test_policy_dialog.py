"""The policy dialog: SBR05 only for Medicare as a secondary payer, SBR09 from the payer, editing a policy."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialogButtonBox
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import PayerType, PolicyRank, Role, Sex, SubscriberRelationship
from infusion_desk.services.app import Services
from infusion_desk.services.patients import PatientInput, PolicyInput
from infusion_desk.ui.policy_dialog import PolicyDialog
from infusion_desk.ui.tasks import wait_for_idle
from tests.conftest import make_actor
from tests.ui.conftest import TODAY


def _payers(services: Services) -> dict[str, int]:
    from infusion_desk.models import Payer

    made = {}
    with services.db.session() as session:
        for name, kind, code in (
            ("Medicare Part B (demo)", PayerType.MEDICARE, "DMCR1"),
            ("Sunvale Plan (demo)", PayerType.COMMERCIAL, "DSVP1"),
        ):
            payer = Payer(name=name, payer_id=code, payer_type=kind)
            session.add(payer)
            session.flush()
            made[name] = payer.id
    return made


def _save(dialog: PolicyDialog) -> None:
    dialog.buttons.button(QDialogButtonBox.StandardButton.Save).click()


def test_sbr05_opens_only_for_medicare_secondary_and_sbr09_is_saved(
    qtbot: QtBot, ui_services: Services
) -> None:
    desk = make_actor(ui_services, Role.FRONT_DESK)
    payers = _payers(ui_services)
    patient = ui_services.patients.register(
        desk,
        PatientInput(
            "Yara", "Quist", date(1952, 2, 2), Sex.FEMALE, "2 Demo Walk", "Springfield", "IL", "62704"
        ),
        TODAY,
    )
    dialog = PolicyDialog(ui_services, desk, patient)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.payer.count() == 2, timeout=5000)
    dialog.payer.setCurrentIndex(dialog.payer.findData(payers["Medicare Part B (demo)"]))
    assert not dialog.msp_type.isEnabled()  # Medicare as primary: no SBR05
    assert dialog.filing.itemText(0) == "Payer's default (MB)"
    dialog.rank.setCurrentIndex(dialog.rank.findData(PolicyRank.SECONDARY))
    assert dialog.msp_type.isEnabled()
    dialog.msp_type.setCurrentIndex(dialog.msp_type.findData("43"))
    assert dialog.msp_type.currentText() == "43 — Disability: large employer group health plan"
    dialog.payer.setCurrentIndex(dialog.payer.findData(payers["Sunvale Plan (demo)"]))
    assert not dialog.msp_type.isEnabled() and dialog.msp_type.currentData() == ""
    assert dialog.filing.itemText(0) == "Payer's default (CI)"

    dialog.payer.setCurrentIndex(dialog.payer.findData(payers["Medicare Part B (demo)"]))
    dialog.msp_type.setCurrentIndex(dialog.msp_type.findData("12"))
    qtbot.keyClicks(dialog.member_id, "1EG4-TE5-MK73")
    qtbot.keyClicks(dialog.effective, "01/01/2026")
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        _save(dialog)
    (policy,) = ui_services.patients.get(desk, patient, TODAY).policies
    assert (policy.rank, policy.medicare_secondary_type, policy.claim_filing_indicator) == (
        PolicyRank.SECONDARY,
        "12",
        "MB",
    )
    wait_for_idle()


def test_editing_a_spouse_policy_prefills_and_saves_the_subscriber_address(
    qtbot: QtBot, ui_services: Services
) -> None:
    desk = make_actor(ui_services, Role.FRONT_DESK)
    payers = _payers(ui_services)
    patient = ui_services.patients.register(
        desk,
        PatientInput(
            "Tove", "Brask", date(1980, 8, 8), Sex.FEMALE, "3 Demo Walk", "Springfield", "IL", "62704"
        ),
        TODAY,
    )
    ui_services.patients.add_policy(
        desk,
        patient,
        PolicyInput(
            payer_id=payers["Sunvale Plan (demo)"],
            rank=PolicyRank.PRIMARY,
            member_id="SV-42",
            effective_date=date(2025, 1, 1),
            claim_filing_indicator="HM",
            subscriber_relationship=SubscriberRelationship.SPOUSE,
            subscriber_first_name="Arvid",
            subscriber_last_name="Brask",
            subscriber_birth_date=date(1978, 3, 3),
            subscriber_sex=Sex.MALE,
        ),
    )
    (summary,) = ui_services.patients.get(desk, patient, TODAY).policies
    dialog = PolicyDialog(ui_services, desk, patient, policy=summary)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.windowTitle() == "Edit insurance"
    assert (dialog.member_id.text(), dialog.subscriber_first.text(), dialog.subscriber_birth.text()) == (
        "SV-42",
        "Arvid",
        "03/03/1978",
    )
    assert dialog.filing.currentData() == "HM" and dialog.subscriber_address.isEnabled()
    qtbot.waitUntil(lambda: dialog.payer.count() == 2, timeout=5000)
    assert dialog.payer.currentData() == payers["Sunvale Plan (demo)"]

    qtbot.keyClicks(dialog.subscriber_state, "zz")
    _save(dialog)
    qtbot.waitUntil(lambda: "subscriber_state" in dialog.error.text(), timeout=5000)
    dialog.subscriber_state.clear()
    for widget, text in (
        (dialog.subscriber_address, "3 Demo Walk"),
        (dialog.subscriber_city, "Springfield"),
        (dialog.subscriber_state, "il"),
        (dialog.subscriber_zip, "62704"),
    ):
        qtbot.keyClicks(widget, text)
    with qtbot.waitSignal(dialog.saved, timeout=5000):
        qtbot.keyClick(dialog.subscriber_zip, Qt.Key.Key_Return)
    (saved,) = ui_services.patients.get(desk, patient, TODAY).policies
    assert (saved.subscriber_address1, saved.subscriber_state, saved.claim_filing_indicator) == (
        "3 Demo Walk",
        "IL",
        "HM",
    )
    assert ui_services.patients.claim_data(desk, patient, TODAY) == ()
    wait_for_idle()
