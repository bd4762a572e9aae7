"""Each role does its own work and is refused the rest, through the real services and the CLI.

The demo clinic's users (password ``demo``) each try what their role may not do; the call
is refused with :class:`PermissionDenied`, nothing changes, and the role that may do it does.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.cli import main
from infusion_desk.models import AuditEvent, ClaimBatch, DenialWorkItem
from infusion_desk.models.enums import EraPosting, Role
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.batches import BatchService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.denials import DenialService
from infusion_desk.services.errors import PermissionDenied
from infusion_desk.services.patient_payments import PatientPaymentService
from infusion_desk.services.remittances import RemittanceService
from tests.billing.x12.remit_fixtures import write_835
from tests.services.billing_seed import TODAY, paid, remittance


def _as(services: Services, user: str) -> Actor:
    return services.auth.sign_in(user, "demo")


def _audit_count(services: Services) -> int:
    with services.db.session() as session:
        return session.execute(sa.select(sa.func.count(AuditEvent.id))).scalar_one()


@pytest.fixture
def clinic(services: Services) -> Services:
    """A small demo clinic whose visits are built into claims, ready to export."""
    generate_demo(services.db, patients=8, months=2, seed=5, today=TODAY)
    ClaimService(services.db).build(_as(services, "biller"), today=TODAY)
    return services


def test_a_nurse_or_front_desk_cannot_export_a_batch_and_a_biller_can(clinic: Services, tmp_path: Path) -> None:
    batches = BatchService(clinic.db)
    out = tmp_path / "batches"
    out.mkdir()
    for user in ("nurse", "frontdesk"):
        with pytest.raises(PermissionDenied, match="may not do this"):
            batches.export(_as(clinic, user), out_dir=out, today=TODAY)
    assert list(out.iterdir()) == []
    with clinic.db.session() as session:
        assert session.execute(sa.select(sa.func.count(ClaimBatch.id))).scalar_one() == 0

    summary = batches.export(_as(clinic, "biller"), out_dir=out, today=TODAY)
    assert summary.files and all(f.path.exists() for f in summary.files)


@pytest.fixture
def denied(clinic: Services, tmp_path: Path) -> tuple[Services, int]:
    """One claim exported and its first line denied by the payer: the denial queue holds an item."""
    biller = _as(clinic, "biller")
    summary = BatchService(clinic.db).export(biller, out_dir=tmp_path / "sent", today=TODAY)
    claim = read_837p(summary.files[0].path.read_text(encoding="ascii"))[0]
    with clinic.db.session() as session:
        from infusion_desk.models import Payer

        session.execute(sa.update(Payer).values(era_posting=EraPosting.ALL))
    RemittanceService(clinic.db).import_text(
        biller, write_835(remittance(paid(claim, icn="R1", deny_line=1))), "roles.835"
    )
    (item,) = DenialService(clinic.db).work_queue(biller)
    return clinic, item.id


def test_front_desk_and_nurses_cannot_see_the_denial_queue_or_post_payments(
    denied: tuple[Services, int],
) -> None:
    services, _item = denied
    denials = DenialService(services.db)
    for user in ("frontdesk", "nurse"):
        with pytest.raises(PermissionDenied, match="denial.work"):
            denials.work_queue(_as(services, user))
        with pytest.raises(PermissionDenied, match="remittance.post"):
            RemittanceService(services.db).import_text(_as(services, user), "ISA*", "x.835")
        with pytest.raises(PermissionDenied, match="reports.view"):
            denials.analytics(_as(services, user), date(2026, 1, 1), today=TODAY)
    assert len(denials.work_queue(_as(services, "biller"))) == 1
    assert denials.analytics(_as(services, "manager"), date(2026, 1, 1), today=TODAY) is not None


def test_only_a_manager_approves_a_write_off_a_biller_asked_for(denied: tuple[Services, int]) -> None:
    services, item_id = denied
    denials = DenialService(services.db)
    for user in ("nurse", "frontdesk"):
        with pytest.raises(PermissionDenied, match="writeoff.request"):
            denials.request_write_off(_as(services, user), item_id, "Authorization never obtained")
    denials.request_write_off(_as(services, "biller"), item_id, "Authorization never obtained")

    before = _audit_count(services)
    for user in ("nurse", "frontdesk", "biller"):
        with pytest.raises(PermissionDenied, match="writeoff.approve"):
            denials.approve_write_off(_as(services, user), item_id)
    with services.db.session() as session:
        assert session.get(DenialWorkItem, item_id).status.value == "write_off_requested"  # type: ignore[union-attr]
    # Only the sign-ins above were recorded: no refused approval left a trace of a change.
    assert _audit_count(services) == before + 3

    denials.approve_write_off(_as(services, "manager"), item_id)
    with services.db.session() as session:
        assert session.get(DenialWorkItem, item_id).status.value == "written_off"  # type: ignore[union-attr]


def test_only_a_manager_writes_off_small_patient_balances(clinic: Services) -> None:
    payments = PatientPaymentService(clinic.db)
    for user in ("nurse", "frontdesk", "biller"):
        with pytest.raises(PermissionDenied, match="writeoff.approve"):
            payments.write_off_small_balances(_as(clinic, user), today=TODAY)
    summary = payments.write_off_small_balances(_as(clinic, "manager"), today=TODAY)
    assert summary.threshold > 0  # the manager's run went through


def test_a_nurse_cannot_build_claims_and_only_an_administrator_manages_users(clinic: Services) -> None:
    with pytest.raises(PermissionDenied, match="Nurse accounts may not do this"):
        ClaimService(clinic.db).build(_as(clinic, "nurse"), today=TODAY)
    for user in ("biller", "manager", "frontdesk", "nurse"):
        actor = _as(clinic, user)
        with pytest.raises(PermissionDenied, match="users.manage"):
            clinic.auth.list_users(actor)
        with pytest.raises(PermissionDenied, match="users.manage"):
            clinic.auth.create_user(actor, "mallory", "Mallory Test", Role.ADMIN, "Quiet-Harbor-77")
        with pytest.raises(PermissionDenied, match="users.manage"):
            clinic.auth.set_role(actor, actor.user_id, Role.ADMIN)
    assert _as(clinic, "biller").role is Role.BILLER  # no one promoted themselves
    admin = _as(clinic, "admin")
    assert {row.username for row in clinic.auth.list_users(admin)} >= {"admin", "biller", "nurse"}


def test_the_command_line_refuses_a_nurses_batch_export(
    sqlite_services: Services, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    generate_demo(sqlite_services.db, patients=4, months=1, seed=3, today=TODAY)
    monkeypatch.setenv("INFUSION_DESK_USER", "nurse")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "demo")
    out = tmp_path / "out"
    code = main(["--database-url", sqlite_url, "batch", "export", "--out", str(out), "--today", TODAY.isoformat()])
    assert code == 1
    assert "Nurse accounts may not do this (batch.export)" in capsys.readouterr().err
    assert not out.exists() or list(out.iterdir()) == []
