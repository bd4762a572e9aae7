"""Billing → Claims: build claims, filter the queue, read a claim's lines, rule trace, findings and history."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from infusion_desk.models import Claim, ClaimStatusEvent, Patient
from infusion_desk.models.enums import ClaimStatus
from infusion_desk.services.acknowledgements import AcknowledgementService
from infusion_desk.services.app import Services
from infusion_desk.services.claims import ClaimDetail, ClaimService
from infusion_desk.ui.claims_view import ClaimsView, ReasonDialog
from infusion_desk.ui.workspaces import BillingWorkspace
from tests.ui.claims_seed import (
    TODAY,
    acknowledgement_999,
    biller,
    blank_address,
    build_claims,
    close,
    demo_template,
    export_batches,
    open_copy,
)
from tests.ui.helpers import column

pytestmark = pytest.mark.gui


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_template(tmp_path_factory.mktemp("claims-demo"))


@pytest.fixture
def clinic(template: Path, tmp_path: Path) -> Iterator[Services]:
    services = open_copy(template, tmp_path)
    yield services
    close(services)


def _open(qtbot: QtBot, clinic: Services) -> ClaimsView:
    view = ClaimsView(clinic, biller(clinic), today=lambda: TODAY)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        view.show()
    return view


def _activate(qtbot: QtBot, window: QWidget) -> None:
    """Bring the window to the front so its shortcuts reach it."""
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=5_000)


def _pick(qtbot: QtBot, view: ClaimsView, claim_number: str) -> None:
    """Put the cursor on a claim in the queue and press Enter, as a user would."""
    row = column(view.table, "Claim").index(claim_number)
    view.table.setFocus()
    with qtbot.waitSignal(view.detail.loaded, timeout=10_000):
        view.table.setCurrentIndex(view.model.index(row, 0))
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    assert view.detail.lines.hasFocus()


def _ready_claim(clinic: Services, lines: int = 1) -> ClaimDetail:
    """A claim that passed the scrub after building, with at least ``lines`` lines."""
    actor = biller(clinic)
    service = ClaimService(clinic.db)
    for row in service.claims(actor, statuses=[ClaimStatus.READY], today=TODAY):
        detail = service.detail(actor, row.id, today=TODAY)
        if len(detail.lines) >= lines:
            return detail
    raise AssertionError(f"the demo clinic has no ready claim with {lines} lines")


def _choose(qtbot: QtBot, view: ClaimsView, combo: object, text: str) -> None:
    """Type into a closed combo box (keyboard search) and wait for the queue to reload."""
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClicks(combo, text)  # type: ignore[arg-type]


def test_build_claims_then_filter_by_status_payer_and_search(
    qtbot: QtBot, qtmodeltester: object, clinic: Services
) -> None:
    view = _open(qtbot, clinic)
    assert view.model.rowCount() == 0
    assert "No claims yet" in view.count.text()
    _activate(qtbot, view)
    with qtbot.waitSignal(view.finished, timeout=20_000):
        qtbot.keyClick(view, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=10_000)
    with clinic.db.session() as session:
        statuses = list(session.scalars(sa.select(Claim.status)))
    ready = statuses.count(ClaimStatus.READY)
    assert view.message.text() == (
        f"{len(statuses)} claim(s) built: {ready} ready to export, {len(statuses) - ready} need fixing first."
    )
    assert view.model.rowCount() == len(statuses)
    assert ready > 0
    qtmodeltester.check(view.model)  # type: ignore[attr-defined]

    view.status_filter.setFocus()
    _choose(qtbot, view, view.status_filter, "Ready")
    assert view.status_filter.currentText() == "Ready"
    assert column(view.table, "Status") == ["Ready"] * ready

    payer = column(view.table, "Payer")[0]
    view.payer_filter.setFocus()
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        for _ in range(view.payer_filter.findText(payer)):  # arrow down to the payer ("All payers" is first)
            qtbot.keyClick(view.payer_filter, Qt.Key.Key_Down)
    assert view.payer_filter.currentText() == payer
    payers = column(view.table, "Payer")
    assert payers and set(payers) == {payer} and len(payers) <= ready

    for combo in (view.status_filter, view.payer_filter):  # Home: back to "All claims", "All payers"
        combo.setFocus()
        with qtbot.waitSignal(view.loaded, timeout=10_000):
            qtbot.keyClick(combo, Qt.Key.Key_Home)
    assert (view.status_filter.currentText(), view.payer_filter.currentText()) == ("All claims", "All payers")
    assert view.model.rowCount() == len(statuses)
    patient = column(view.table, "Patient")[0]
    mrn = patient.rsplit("(", 1)[1].rstrip(")")
    with qtbot.waitSignal(view.loaded, timeout=10_000):
        qtbot.keyClicks(view.search, mrn.lower())
        qtbot.keyClick(view.search, Qt.Key.Key_Return)
    found = column(view.table, "Patient")
    assert found and set(found) == {patient}
    with clinic.db.session() as session:
        theirs = session.scalar(
            sa.select(sa.func.count(Claim.id)).join(Patient, Patient.id == Claim.patient_id).where(Patient.mrn == mrn)
        )
    assert len(found) == theirs

    # Building again finds nothing new, and says so.
    with qtbot.waitSignal(view.finished, timeout=20_000):
        qtbot.keyClick(view, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert view.message.text() == "No signed visit is waiting for a claim."


def test_a_claim_shows_its_lines_rule_trace_findings_and_history(
    qtbot: QtBot, qtmodeltester: object, clinic: Services
) -> None:
    build_claims(clinic)
    actor = biller(clinic)
    service = ClaimService(clinic.db)
    claim = _ready_claim(clinic, lines=2)
    blank_address(clinic, claim.patient_id)
    service.scrub(actor, [claim.row.id], today=TODAY)
    view = _open(qtbot, clinic)
    _pick(qtbot, view, claim.row.claim_number)

    detail = view.detail
    assert claim.row.claim_number in detail.heading.text()
    assert detail.status_value.text() == "Draft"
    assert detail.patient_value.text() == claim.row.patient
    assert detail.frequency_value.text() == "1 (original)"
    assert detail.diagnoses_value.text().startswith(f"1. {claim.diagnoses[0]}")
    assert column(detail.lines, "Code") == [line.code for line in claim.lines]
    qtmodeltester.check(detail.lines_model)  # type: ignore[attr-defined]
    assert detail.trace.toPlainText() == claim.lines[0].explanation
    qtbot.keyClick(detail.lines, Qt.Key.Key_Down)
    assert detail.trace.toPlainText() == claim.lines[1].explanation
    assert "line 2" in detail.trace_label.text()

    # The scrubber found the missing address; its button asks for the patient to be edited.
    blocking = [(f, label, button) for f, label, button in detail.finding_rows if f.blocks]
    assert blocking
    finding, label, button = next(row for row in blocking if row[2] is not None and "address" in row[1].text().lower())
    assert isinstance(label, QLabel)
    qtbot.waitUntil(label.isVisible, timeout=5_000)
    assert isinstance(button, QPushButton)
    first_fix = next(b for _f, _l, b in detail.finding_rows if b is not None)
    _activate(qtbot, view)
    detail.trace.setFocus()
    qtbot.keyClick(detail.trace, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is first_fix  # Tab goes from the rule trace to the fixes
    with qtbot.waitSignal(view.fixRequested) as requested:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert requested.args == ["patient", claim.patient_id, claim.visit_id]
    assert finding.code in [view.finding_filter.itemText(i) for i in range(view.finding_filter.count())]

    qtmodeltester.check(detail.history_model)  # type: ignore[attr-defined]
    history = column(detail.history, "From → to")
    assert history[0] == "New → Draft"
    assert history[-1] == "Ready → Draft"
    assert all(when[2] == "/" and when[5] == "/" and when[10] == " " for when in column(detail.history, "When"))
    assert column(detail.history, "Why")[-1].startswith("Scrub")


def test_scrub_again_on_the_picked_claim_after_its_record_is_fixed(qtbot: QtBot, clinic: Services) -> None:
    build_claims(clinic)
    actor = biller(clinic)
    service = ClaimService(clinic.db)
    claim = _ready_claim(clinic)
    with clinic.db.session() as session:
        address = session.get(Patient, claim.patient_id).address1  # type: ignore[union-attr]
    blank_address(clinic, claim.patient_id)
    service.scrub(actor, [claim.row.id], today=TODAY)
    view = _open(qtbot, clinic)
    _pick(qtbot, view, claim.row.claim_number)
    assert view.detail.status_value.text() == "Draft"
    assert "1 selected claim" in view.scrub_button.text()
    with clinic.db.session() as session:
        session.get(Patient, claim.patient_id).address1 = address  # type: ignore[union-attr]
    _activate(qtbot, view)
    with qtbot.waitSignal(view.finished, timeout=20_000):
        qtbot.keyClick(view, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert view.message.text().startswith("Scrubbed 1 claim: 1 ready to export")
    qtbot.waitUntil(lambda: view.detail.status_value.text() == "Ready", timeout=10_000)


def test_closing_a_claim_needs_a_reason_and_is_kept_in_its_history(qtbot: QtBot, clinic: Services) -> None:
    built = build_claims(clinic)
    claim_id = built.claim_ids[0]
    number = ClaimService(clinic.db).detail(biller(clinic), claim_id, today=TODAY).row.claim_number
    view = _open(qtbot, clinic)
    _pick(qtbot, view, number)
    detail = view.detail
    assert detail.close_button.isEnabled()
    assert not detail.appeal_button.isEnabled()  # only a denied or partly paid claim is appealed
    qtbot.mouseClick(detail.close_button, Qt.MouseButton.LeftButton)
    dialog = detail.dialog
    assert isinstance(dialog, ReasonDialog)

    qtbot.mouseClick(dialog.confirm, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.error.text() != "", timeout=10_000)
    assert dialog.error.text() == "Say why the claim's status is changing."
    with clinic.db.session() as session:
        assert session.get(Claim, claim_id).status is not ClaimStatus.CLOSED  # type: ignore[union-attr]

    qtbot.keyClicks(dialog.reason, "Billed in error: duplicate visit entry")
    with qtbot.waitSignal(detail.loaded, timeout=10_000):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    assert detail.status_value.text() == "Closed"
    assert column(detail.history, "From → to")[-1].endswith("→ Closed")
    assert column(detail.history, "Why")[-1] == "Billed in error: duplicate visit entry"
    assert column(detail.history, "Who")[-1] == biller(clinic).display_name
    assert not detail.close_button.isEnabled() and not detail.appeal_button.isEnabled()
    with clinic.db.session() as session:
        event = session.scalars(
            sa.select(ClaimStatusEvent).where(ClaimStatusEvent.claim_id == claim_id).order_by(ClaimStatusEvent.id.desc())
        ).first()
        assert event is not None and event.to_status is ClaimStatus.CLOSED


def test_a_rejected_claim_shows_the_clearinghouse_reason(qtbot: QtBot, clinic: Services, tmp_path: Path) -> None:
    build_claims(clinic)
    exported = export_batches(clinic, tmp_path).files[0]
    AcknowledgementService(clinic.db).import_text(
        biller(clinic), acknowledgement_999(clinic, exported.batch_id, accepted=False), "answer.999"
    )
    view = _open(qtbot, clinic)
    view.status_filter.setFocus()
    _choose(qtbot, view, view.status_filter, "Needs")
    statuses = column(view.table, "Status")
    assert "Rejected" in statuses and set(statuses) <= {"Draft", "Rejected"}
    row = statuses.index("Rejected")
    problem = column(view.table, "First problem")[row]
    assert problem.startswith("The clearinghouse rejected the file")
    _pick(qtbot, view, column(view.table, "Claim")[row])
    assert view.detail.rejection.isVisibleTo(view) and view.detail.rejection.text() == f"Rejected: {problem}"


def test_billing_pages_switch_with_alt_keys_and_a_coding_fix_opens_the_visit(
    qtbot: QtBot, clinic: Services
) -> None:
    built = build_claims(clinic)
    claim = ClaimService(clinic.db).detail(biller(clinic), built.claim_ids[0], today=TODAY)
    workspace = BillingWorkspace(clinic, biller(clinic))
    qtbot.addWidget(workspace)
    with qtbot.waitSignal(workspace.loaded, timeout=10_000):
        workspace.show()
    _activate(qtbot, workspace)
    assert [workspace.pages.tabText(i) for i in range(workspace.pages.count())] == [
        "Coding  (Alt+1)",
        "Claims  (Alt+2)",
        "Batches  (Alt+3)",
        "Payments  (Alt+4)",
        "Denials  (Alt+5)",
        "Statements  (Alt+6)",
        "Collections  (Alt+7)",
        "Underpayments  (Alt+8)",
    ]
    claims = workspace.claims
    assert claims is not None and workspace.batches is not None and workspace.payments is not None
    with qtbot.waitSignal(workspace.payments.loaded, timeout=10_000):
        qtbot.keyClick(workspace, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    assert workspace.pages.currentWidget() is workspace.payments
    assert workspace.denials is not None
    with qtbot.waitSignal(workspace.denials.loaded, timeout=10_000):
        qtbot.keyClick(workspace, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    assert workspace.pages.currentWidget() is workspace.denials
    with qtbot.waitSignal(claims.loaded, timeout=10_000):
        qtbot.keyClick(workspace, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert workspace.pages.currentWidget() is claims
    assert claims.model.rowCount() == len(built.claim_ids)
    with qtbot.waitSignal(workspace.batches.loaded, timeout=10_000):
        qtbot.keyClick(workspace, Qt.Key.Key_3, Qt.KeyboardModifier.AltModifier)
    assert workspace.pages.currentWidget() is workspace.batches
    with qtbot.waitSignal(workspace.batches.loaded, timeout=10_000):
        workspace.refresh()  # what F5 does in the main window: the page shown reloads
    qtbot.keyClick(workspace, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    _pick(qtbot, claims, claim.row.claim_number)

    # A finding fixed in the coding opens the visit on the Coding page; others are passed on.
    with qtbot.waitSignal(workspace.review.reviewChanged, timeout=10_000):
        claims.fixRequested.emit("coding", claim.patient_id, claim.visit_id or 0)
    assert workspace.pages.currentWidget() is workspace.coding_page
    assert claim.row.patient.split(" (")[0] in workspace.review.header.text()
    with qtbot.waitSignal(workspace.fixRequested) as passed_on:
        claims.fixRequested.emit("authorization", claim.patient_id, claim.visit_id or 0)
    assert passed_on.args == ["authorization", claim.patient_id, claim.visit_id]
    assert QApplication.activeModalWidget() is None


def test_a_sent_claim_is_replaced_from_the_claim_screen_in_one_action(qtbot: QtBot, clinic: Services) -> None:
    build_claims(clinic)
    sent = _ready_claim(clinic)
    with clinic.db.session() as session:
        claim = session.get(Claim, sent.row.id)
        assert claim is not None
        claim.status = ClaimStatus.ACCEPTED  # as a 277CA acceptance leaves it
        claim.payer_claim_control_number = "ICN-FICTIONAL-7"
    view = _open(qtbot, clinic)
    _pick(qtbot, view, sent.row.claim_number)
    detail = view.detail
    assert detail.replace_button.isEnabled() and detail.void_button.isEnabled()
    assert not detail.rebuild_button.isEnabled()  # a sent claim is corrected, not rebuilt
    qtbot.mouseClick(detail.replace_button, Qt.MouseButton.LeftButton)
    dialog = detail.dialog
    assert isinstance(dialog, ReasonDialog)
    qtbot.keyClicks(dialog.reason, "Drug units corrected")
    with qtbot.waitSignal(detail.loaded, timeout=10_000):
        qtbot.keyClick(dialog.reason, Qt.Key.Key_Return)
    shown = detail.detail
    assert shown is not None and shown.row.frequency_code == "7"
    assert shown.original_claim_number == sent.row.claim_number
    assert "Replacement built" in detail.action_message.text()
    (data,) = ClaimService(clinic.db).claim_data(biller(clinic), [shown.row.id])
    assert data.payer_claim_control_number == "ICN-FICTIONAL-7"


def test_a_claim_drilled_into_from_a_report_opens_on_the_claims_page(qtbot: QtBot, clinic: Services) -> None:
    from infusion_desk.ui.main_window import MainWindow

    built = build_claims(clinic)
    with clinic.db.session() as session:
        number = session.get_one(Claim, built.claim_ids[-1]).claim_number
    window = MainWindow(clinic, clinic.auth.sign_in("manager", "demo"))
    qtbot.addWidget(window)
    window.show()
    manager, billing = window.workspaces["manager"], window.billing
    assert billing is not None and billing.claims is not None
    claims = billing.claims
    claims.status_filter.setCurrentIndex(claims.status_filter.count() - 1)  # a filter that hides it
    with qtbot.waitSignal(claims.detail.loaded, timeout=10_000):
        manager.reports.openClaim.emit(number)  # type: ignore[attr-defined]
    assert window.tabs.currentWidget() is billing and billing.pages.currentWidget() is claims
    assert claims.search.text() == number and column(claims.table, "Claim") == [number]
    assert claims.detail.claim_id == built.claim_ids[-1]
