"""The audit trail on both engines: appends chain, concurrent workstations do not fork it,
tampering with the table is named, the manager searches and exports it."""

from __future__ import annotations

import csv
import threading
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk.billing.audit_chain import BreakKind
from infusion_desk.models import AuditEvent
from infusion_desk.models.db import Database
from infusion_desk.models.enums import Role
from infusion_desk.services import audit
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.audit import AuditService
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from tests.conftest import fictional_patient, make_actor


@pytest.fixture
def manager(services: Services) -> Actor:
    return make_actor(services, Role.MANAGER, "t_manager")


@pytest.fixture
def trail(services: Services) -> AuditService:
    return AuditService(services.db)


def _append(db: Database, actor: Actor | None, count: int, action: str = "view", **kwargs: object) -> None:
    for n in range(count):
        with db.session() as session:
            audit.record(session, actor, action, "thing", n, **kwargs)  # type: ignore[arg-type]


def _ids(db: Database) -> list[int]:
    with db.session() as session:
        return list(session.scalars(sa.select(AuditEvent.id).order_by(AuditEvent.id)))


def _patient(db: Database, mrn: str, last: str, first: str = "Testy") -> int:
    with db.session() as session:
        row = fictional_patient(mrn, last_name=last, first_name=first, search_last=last.lower(),
                                search_first=first.lower())
        session.add(row)
        session.flush()
        return row.id


# --- the chain -----------------------------------------------------------------------------


def test_a_trail_read_back_from_the_database_verifies(services: Services, manager: Actor, trail: AuditService) -> None:
    patient = _patient(services.db, "DM0000001", "Example")
    _append(services.db, manager, 3, patient_id=patient, detail={"pages": 2, "note": "Ünïcode ✓", "n": 1.5})
    with services.db.session() as session:
        # a timestamp on a whole second (no microseconds in its ISO text) and one with them
        for at in (datetime(2026, 11, 2, 6, 0, tzinfo=UTC), datetime(2026, 11, 2, 6, 0, 0, 1, tzinfo=UTC)):
            event = audit.record(session, manager, "print", "statement", 1, patient_id=patient)
            content = audit._content(manager, "print", "statement", 1, patient, None, at)
            event.at, event.hash = at, audit.digest(content, event.previous_hash)
    before = len(_ids(services.db))

    report = trail.verify(manager)

    assert report.intact, report.text
    assert report.text == f"Audit trail intact: {before} records"
    assert report.last_id == max(_ids(services.db)[:before])
    # the check is itself on the trail, after what it checked, and verifies next time
    last = trail.search(manager, limit=1)[0]
    assert (last.action, last.username) == ("verify", "t_manager")
    assert trail.verify(manager).records == before + 1


def test_only_managers_and_administrators_see_the_trail(services: Services, trail: AuditService) -> None:
    biller = make_actor(services, Role.BILLER)
    for call in (lambda: trail.verify(biller), lambda: trail.search(biller),
                 lambda: trail.export_csv(biller, Path("never.csv"))):
        with pytest.raises(PermissionDenied):
            call()
    admin = make_actor(services, Role.ADMIN, "t_admin2")
    assert trail.verify(admin).intact


def test_concurrent_workstations_append_one_unforked_chain(db_url: str, services: Services, manager: Actor) -> None:
    """Two connections appending at once: each append chains onto the other's, never the same tail."""
    key = getattr(services.db, "key", None)  # an encrypted SQLite file opens with the same key
    second = Database.open(db_url, key=key) if key is not None else Database.open(db_url)
    per_thread = 25
    start = threading.Barrier(2)
    failures: list[BaseException] = []

    def work(db: Database, name: str) -> None:
        try:
            start.wait()
            for n in range(per_thread):
                with db.session() as session:
                    audit.record(session, manager, "view", name, n)
                    session.execute(sa.select(1))  # a little more work while holding the tail
        except BaseException as exc:  # noqa: BLE001 - reported by the test below
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(db, name))
               for db, name in ((services.db, "first"), (second, "second"))]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        second.dispose()
    assert not failures, failures
    with services.db.session() as session:
        hashes = list(session.execute(sa.select(AuditEvent.previous_hash).order_by(AuditEvent.id)).scalars())
    assert len(hashes) == len(set(hashes)), "two records chained onto the same tail"
    report = AuditService(services.db).verify(manager)
    assert report.intact, report.text
    assert report.records >= 2 * per_thread


def test_record_patients_chains_one_event_per_patient(services: Services, manager: Actor,
                                                      trail: AuditService) -> None:
    ids = [_patient(services.db, f"DM000000{n}", f"Batch{n}") for n in range(1, 4)]
    with services.db.session() as session:
        assert audit.record_patients(session, manager, "export", "claim_batch", 9, [ids[2], ids[0], ids[1],
                                                                                    ids[0]]) == 3
        audit.record(session, manager, "view", "thing", 1)
    rows = trail.search(manager, action="export")
    assert sorted(r.patient_id for r in rows if r.patient_id) == sorted(ids)
    assert trail.verify(manager).intact


# --- tampering -----------------------------------------------------------------------------


def test_a_record_edited_with_sql_is_named(services: Services, manager: Actor, trail: AuditService) -> None:
    _append(services.db, manager, 5, detail={"amount": "40.00"})
    target = _ids(services.db)[-3]
    with services.db.engine.begin() as connection:
        connection.execute(
            sa.update(AuditEvent).where(AuditEvent.id == target).values(detail={"amount": "4.00"})
        )

    report = trail.verify(manager)

    assert not report.intact and report.broken is not None
    assert (report.broken.record_id, report.broken.kind) == (target, BreakKind.ALTERED)
    assert report.text.startswith(f"Audit trail broken at record {target}: its hash does not match")


def test_a_record_deleted_with_sql_is_named(services: Services, manager: Actor, trail: AuditService) -> None:
    _append(services.db, manager, 5)
    ids = _ids(services.db)
    with services.db.engine.begin() as connection:
        connection.execute(sa.delete(AuditEvent).where(AuditEvent.id == ids[-3]))

    report = trail.verify(manager)

    assert report.broken is not None
    assert (report.broken.record_id, report.broken.kind) == (ids[-2], BreakKind.REMOVED)
    assert f"record {ids[-3]} before it is missing" in report.text


def test_a_forged_hash_is_caught_at_the_next_record(services: Services, manager: Actor,
                                                    trail: AuditService) -> None:
    _append(services.db, manager, 4)
    ids = _ids(services.db)
    with services.db.engine.begin() as connection:
        connection.execute(sa.update(AuditEvent).where(AuditEvent.id == ids[-2]).values(hash="0" * 64))
    report = trail.verify(manager)
    # its own hash no longer matches: named itself
    assert report.broken is not None and report.broken.record_id == ids[-2]


def test_verification_reads_in_batches(services: Services, manager: Actor, monkeypatch: pytest.MonkeyPatch) -> None:
    _append(services.db, manager, 7)
    monkeypatch.setattr(audit, "BATCH", 2)
    seen = [r.id for r in audit.stored_chain(services.db, batch=2)]
    assert seen == _ids(services.db)
    assert AuditService(services.db).verify(manager).intact


# --- searching and exporting ---------------------------------------------------------------


def test_search_narrows_by_user_patient_action_and_day(services: Services, manager: Actor,
                                                        trail: AuditService) -> None:
    desk = make_actor(services, Role.FRONT_DESK, "t_desk")
    wren = _patient(services.db, "DM0000011", "Talbot", "Wren")
    ash = _patient(services.db, "DM0000012", "Quill", "Ash")
    with services.db.session() as session:
        audit.record(session, desk, "view", "patient", wren, patient_id=wren)
        audit.record(session, desk, "print", "statement", 5, patient_id=wren)
        audit.record(session, manager, "view", "patient", ash, patient_id=ash)
    late_evening = datetime(2026, 11, 2, 5, 59, tzinfo=UTC)   # 11/01 23:59 in Chicago
    next_morning = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)    # 11/02 00:00 in Chicago
    with services.db.engine.begin() as connection:
        ids = _ids(services.db)[-3:]
        connection.execute(sa.update(AuditEvent).where(AuditEvent.id == ids[0]).values(at=late_evening))
        connection.execute(sa.update(AuditEvent).where(AuditEvent.id.in_(ids[1:])).values(at=next_morning))

    def found(**filters: object) -> list[tuple[str, str, str]]:
        return [(r.username, r.action, r.patient) for r in trail.search(manager, **filters)  # type: ignore[arg-type]
                if r.patient]

    assert found(user="T_DESK") == [("t_desk", "print", "Talbot, Wren (DM0000011)"),
                                    ("t_desk", "view", "Talbot, Wren (DM0000011)")]
    assert found(patient_id=ash) == [("t_manager", "view", "Quill, Ash (DM0000012)")]
    assert found(patient="talbot, w") == found(patient=f"#{wren}") == found(user="t_desk")
    assert found(patient="DM0000012") == found(patient_id=ash)
    assert found(patient="nobody here") == []
    assert found(action="print") == [("t_desk", "print", "Talbot, Wren (DM0000011)")]
    assert found(start=date(2026, 11, 2), end=date(2026, 11, 2)) == [
        ("t_manager", "view", "Quill, Ash (DM0000012)"), ("t_desk", "print", "Talbot, Wren (DM0000011)")]
    assert found(end=date(2026, 11, 1)) == [("t_desk", "view", "Talbot, Wren (DM0000011)")]
    assert len(trail.search(manager, limit=2)) == 2
    with pytest.raises(ValidationFailed) as refused:
        trail.search(manager, start=date(2026, 11, 3), end=date(2026, 11, 2))
    assert refused.value.findings[0].message == "The first day (11/03/2026) is after the last day (11/02/2026)."
    assert "t_desk" in trail.users(manager) and {"view", "print"} <= set(trail.actions(manager))


def test_export_writes_the_matching_records_oldest_first_and_is_itself_audited(
    services: Services, manager: Actor, trail: AuditService, tmp_path: Path
) -> None:
    wren = _patient(services.db, "DM0000021", "Talbot", "Wren")
    with services.db.session() as session:
        audit.record(session, manager, "view", "patient", wren, patient_id=wren)
        audit.record(session, manager, "print", "statement", 8, patient_id=wren, detail={"pages": 1})
        audit.record(session, manager, "view", "thing", 1)
    out = tmp_path / "audit.csv"

    assert trail.export_csv(manager, out, patient_id=wren) == 2

    rows = list(csv.reader(out.open(encoding="utf-8")))
    assert rows[0] == list(audit.CSV_HEADER)
    assert [(r[2], r[3], r[7], r[8]) for r in rows[1:]] == [
        ("t_manager", "view", "Talbot, Wren (DM0000021)", ""),
        ("t_manager", "print", "Talbot, Wren (DM0000021)", '{"pages": 1}'),
    ]
    assert datetime.fromisoformat(rows[1][1]).tzinfo is not None and len(rows[1][10]) == 64
    assert not (tmp_path / "audit.csv.part").exists()
    export = trail.search(manager, action="export")[0]
    assert (export.username, export.patient_id) == ("t_manager", wren)
    assert '"file": "audit.csv"' in export.detail and '"rows": 2' in export.detail
    assert trail.verify(manager).intact


def test_an_export_to_an_unwritable_place_says_so_and_records_nothing(
    services: Services, manager: Actor, trail: AuditService, tmp_path: Path
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        trail.export_csv(manager, tmp_path / "no such folder" / "audit.csv")
    assert refused.value.findings[0].message.startswith(f"Cannot write {tmp_path / 'no such folder'}")
    assert trail.search(manager, action="export") == ()



# --- views, prints and exports of patient information --------------------------------------


def _events(db: Database, action: str, entity: str) -> list[tuple[str | None, int | None]]:
    with db.session() as session:
        return [tuple(row) for row in session.execute(
            sa.select(AuditEvent.username, AuditEvent.patient_id)
            .where(AuditEvent.action == action, AuditEvent.entity == entity)
            .order_by(AuditEvent.id)
        )]


def test_opening_a_patient_names_the_user_and_the_patient(services: Services) -> None:
    desk = make_actor(services, Role.FRONT_DESK, "t_desk")
    wren = _patient(services.db, "DM0000031", "Talbot", "Wren")
    services.patients.get(desk, wren)
    assert _events(services.db, "view", "patient") == [("t_desk", wren)]


def test_printing_and_reprinting_a_statement_names_the_user_and_the_patient(
    services: Services, tmp_path: Path
) -> None:
    from decimal import Decimal

    from infusion_desk.models import Claim, ClaimLine, InsurancePolicy, Payer
    from infusion_desk.models.enums import (
        ClaimStatus,
        LineResponsibility,
        PayerType,
        PolicyRank,
        SubscriberRelationship,
    )
    from infusion_desk.services.clinic import ClinicDetails
    from infusion_desk.services.statements import StatementService

    services.clinic.update_details(make_actor(services, Role.ADMIN), ClinicDetails(
        name="Lakeview Infusion Suite", npi="1234567893", tin="123456789", taxonomy="261QM1300X",
        address1="400 Example Avenue", city="Springfield", state="IL", zip_code="62701", phone="217-555-0142",
    ))
    biller = make_actor(services, Role.BILLER, "t_biller")
    today = date(2026, 11, 20)
    on = date(2026, 9, 1)
    kestrel = _patient(services.db, "DM0000041", "Kestrel")
    with services.db.session() as session:
        payer = Payer(name="Fictional Health Plan", payer_id="FHP01", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        policy = InsurancePolicy(
            patient_id=kestrel, payer_id=payer.id, rank=PolicyRank.PRIMARY, member_id="MDM41",
            subscriber_relationship=SubscriberRelationship.SELF, effective_date=date(2025, 1, 1),
        )
        session.add(policy)
        session.flush()
        claim = Claim(
            claim_number="C9000041", patient_id=kestrel, policy_id=policy.id, payer_id=payer.id,
            status=ClaimStatus.PAID, service_date_from=on, service_date_to=on, billing_provider_npi="1234567893",
            total_charge=Decimal("500.00"),
        )
        session.add(claim)
        session.flush()
        session.add(ClaimLine(
            claim_id=claim.id, line_number=1, line_control_number="C9000041L01", service_date=on, code="96413",
            modifiers=[], units=Decimal(1), charge=Decimal("500.00"), paid=Decimal("300.00"),
            adjusted=Decimal("135.90"), patient_responsibility=Decimal("64.10"), patient_paid=Decimal(0),
            responsibility=LineResponsibility.PATIENT_DUE,
        ))
    statements = StatementService(services.db)

    [sent] = statements.run(biller, out_dir=tmp_path, today=today).sent
    statements.reprint(biller, sent.statement_id)

    assert _events(services.db, "statement_sent", "statement") == [("t_biller", kestrel)]
    assert _events(services.db, "statement_reprint", "statement") == [("t_biller", kestrel)]
    assert AuditService(services.db).verify(make_actor(services, Role.MANAGER, "t_manager")).intact


def test_a_batch_export_names_the_user_and_every_patient_in_it(services: Services, tmp_path: Path) -> None:
    from tests.services.billing_seed import exported_by_patient

    by_patient, _ranks = exported_by_patient(services, tmp_path, patients=4)

    exported = _events(services.db, "export", "claim_batch")
    assert {user for user, _patient in exported} == {"biller"}
    assert sorted(p for _user, p in exported) == sorted(by_patient)
    assert AuditService(services.db).verify(services.auth.sign_in("manager", "demo")).intact
