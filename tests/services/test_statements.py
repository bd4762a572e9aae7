"""The statement run: who gets a statement, what is written and recorded, reprints, and failures."""

from __future__ import annotations

import io
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.models import (
    AuditEvent,
    Claim,
    ClaimLine,
    InsurancePolicy,
    Patient,
    PatientPayment,
    Payer,
)
from infusion_desk.models import Statement as StatementRow
from infusion_desk.models.enums import (
    ClaimStatus,
    EraPosting,
    LineResponsibility,
    PayerType,
    PaymentMethod,
    PolicyRank,
    Role,
    SubscriberRelationship,
)
from infusion_desk.services import statements as statements_module
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.batches import BatchService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.clinic import ClinicDetails
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.errors import EnvironmentFault, PermissionDenied, ValidationFailed
from infusion_desk.services.remittances import RemittanceService
from infusion_desk.services.statements import StatementService, StatementSettings
from tests.billing.x12.remit_fixtures import write_835
from tests.conftest import fictional_patient, make_actor

TODAY = date(2026, 11, 26)
_numbers = itertools.count(1)


@dataclass
class Clinic:
    services: Services
    biller: Actor
    payer_id: int


@pytest.fixture
def clinic(services: Services) -> Clinic:
    admin = make_actor(services, Role.ADMIN)
    services.clinic.update_details(admin, ClinicDetails(
        name="Lakeview Infusion Suite", npi="1234567893", tin="123456789", taxonomy="261QM1300X",
        address1="400 Example Avenue", city="Springfield", state="IL", zip_code="62701", phone="217-555-0142",
    ))
    with services.db.session() as session:
        payer = Payer(name="Fictional Health Plan", payer_id="FHP01", payer_type=PayerType.COMMERCIAL)
        session.add(payer)
        session.flush()
        payer_id = payer.id
    return Clinic(services, make_actor(services, Role.BILLER), payer_id)


def patient(clinic: Clinic, mrn: str, last: str, **overrides: object) -> int:
    with clinic.services.db.session() as session:
        person = fictional_patient(mrn, last_name=last, search_last=last.lower(), **overrides)
        session.add(person)
        session.flush()
        session.add(InsurancePolicy(
            patient_id=person.id, payer_id=clinic.payer_id, rank=PolicyRank.PRIMARY, member_id=f"M{mrn}",
            subscriber_relationship=SubscriberRelationship.SELF, effective_date=date(2025, 1, 1),
        ))
        return person.id


def owe(
    clinic: Clinic, patient_id: int, days_ago: int, share: str, *,
    state: LineResponsibility = LineResponsibility.PATIENT_DUE, patient_paid: str = "0", charge: str = "500.00",
    code: str = "96413",
) -> None:
    """A claim line whose split and state posting left as given (insurance paid 60%, the rest adjusted)."""
    number = next(_numbers)
    charge_d, share_d = Decimal(charge), Decimal(share)
    paid = (charge_d * Decimal("0.6")).quantize(Decimal("0.01")) if state is not LineResponsibility.INSURANCE_PENDING else Decimal(0)
    adjusted = charge_d - paid - share_d if state is not LineResponsibility.INSURANCE_PENDING else Decimal(0)
    on = TODAY - timedelta(days=days_ago)
    with clinic.services.db.session() as session:
        policy_id = session.scalar(sa.select(InsurancePolicy.id).where(InsurancePolicy.patient_id == patient_id))
        claim = Claim(
            claim_number=f"C9{number:06d}", patient_id=patient_id, policy_id=policy_id, payer_id=clinic.payer_id,
            status=ClaimStatus.PAID, service_date_from=on, service_date_to=on, billing_provider_npi="1234567893",
            total_charge=charge_d,
        )
        session.add(claim)
        session.flush()
        session.add(ClaimLine(
            claim_id=claim.id, line_number=1, line_control_number=f"C9{number:06d}L01", service_date=on, code=code,
            modifiers=[], units=Decimal(1), charge=charge_d, paid=paid, adjusted=adjusted,
            patient_responsibility=share_d, patient_paid=Decimal(patient_paid), responsibility=state,
        ))


def rows_by_mrn(clinic: Clinic, today: date = TODAY) -> dict[str, statements_module.PreviewRow]:
    preview = StatementService(clinic.services.db).preview_run(clinic.biller, today)
    return {row.mrn: row for row in preview.rows}


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def statement_count(clinic: Clinic) -> int:
    with clinic.services.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(StatementRow)) or 0


def test_the_preview_applies_hold_minimum_cycle_and_only_patient_due(clinic: Clinic, tmp_path: Path) -> None:
    service = StatementService(clinic.services.db)
    due = patient(clinic, "MR001", "Abernathy")
    owe(clinic, due, 40, "25.00")
    owe(clinic, due, 10, "0", state=LineResponsibility.INSURANCE_PENDING, charge="9000.00")  # not due
    held = patient(clinic, "MR002", "Brightwater")
    owe(clinic, held, 40, "80.00")
    service.set_hold(clinic.biller, held, True, "Disputes the 10/01 charge")
    small = patient(clinic, "MR003", "Cobblestone")
    owe(clinic, small, 40, "4.99")
    exactly = patient(clinic, "MR004", "Dunmore")
    owe(clinic, exactly, 40, "5.00")
    waiting = patient(clinic, "MR005", "Eversley")
    owe(clinic, waiting, 40, "60.00", state=LineResponsibility.SECONDARY_PENDING)
    paid_up = patient(clinic, "MR006", "Fairweather")
    owe(clinic, paid_up, 40, "30.00", patient_paid="30.00", state=LineResponsibility.SETTLED)
    recent = patient(clinic, "MR007", "Greystoke")
    owe(clinic, recent, 50, "45.00")
    service.run(clinic.biller, out_dir=tmp_path / "earlier", today=TODAY - timedelta(days=29))
    assert statement_count(clinic) == 3  # Abernathy, Dunmore and Greystoke were sent one 29 days ago

    rows = rows_by_mrn(clinic)
    assert "MR006" not in rows  # owes nothing at all: not listed
    assert rows["MR002"].reason == "on statement hold: Disputes the 10/01 charge" and not rows["MR002"].send
    assert rows["MR003"].reason == "under the minimum of $5.00"
    assert rows["MR005"].reason.startswith("nothing patient-due yet") and rows["MR005"].amount_due == 0
    assert rows["MR007"].reason == "statement sent 10/28/2026; next one from 11/27/2026"
    assert not any(rows[m].send for m in ("MR001", "MR004", "MR007"))  # all inside the 30-day cycle
    assert rows["MR001"].amount_due == Decimal("25.00")  # pending insurance never counts

    tomorrow = rows_by_mrn(clinic, TODAY + timedelta(days=1))  # 30 days after the last statement
    assert {m for m, r in tomorrow.items() if r.send} == {"MR001", "MR004", "MR007"}
    assert tomorrow["MR001"].oldest_days == 41 and tomorrow["MR001"].reason == "last statement 10/28/2026"

    service.set_hold(clinic.biller, held, False, "")
    assert rows_by_mrn(clinic)["MR002"].send


def test_a_run_writes_each_pdf_and_the_run_pdf_records_every_statement_and_a_second_run_sends_nothing(
    clinic: Clinic, tmp_path: Path
) -> None:
    service = StatementService(clinic.services.db)
    first = patient(clinic, "MR101", "Holloway", guarantor_name="Jordan Holloway",
                    guarantor_address="9 Parent Road\nSpringfield, IL 62702")
    owe(clinic, first, 100, "120.00", code="J1745")
    owe(clinic, first, 20, "30.50", patient_paid="10.00")
    owe(clinic, first, 5, "0", state=LineResponsibility.INSURANCE_PENDING, charge="260.00")
    second = patient(clinic, "MR102", "Ingleby")
    owe(clinic, second, 10, "15.00")
    seen: list[tuple[int, int]] = []

    summary = service.run(clinic.biller, out_dir=tmp_path / "out", today=TODAY, progress=lambda d, t: seen.append((d, t)))

    assert seen == [(1, 2), (2, 2)]
    assert [s.mrn for s in summary.sent] == ["MR101", "MR102"] and summary.total_due == Decimal("155.50")
    assert summary.run_file is not None and summary.run_file.exists()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        ["statement_20261126_MR101.pdf", "statement_20261126_MR102.pdf", summary.run_file.name]
    )  # no temporary file left behind
    text = pdf_text(summary.sent[0].path.read_bytes())
    for expected in ("Jordan Holloway", "9 Parent Road", "Springfield, IL 62702", "Patient: Testy Holloway",
                     "MR101", "Amount due", "$140.50", "12/17/2026", "Over 90 days", "$120.00",
                     "Waiting for insurance", "$260.00", "Final notice", "REMITTANCE STUB", "400 Example Avenue"):
        assert expected in text, expected
    run_text = pdf_text(summary.run_file.read_bytes())
    assert "MR101" in run_text and "MR102" in run_text and "$15.00" in run_text

    history = service.statements_for(clinic.biller, first)
    assert len(history) == 1 and history[0].amount_due == Decimal("140.50") and history[0].previous_balance == 0
    assert history[0].run_id == summary.run_id and history[0].created_by == clinic.biller.username
    with clinic.services.db.session() as session:
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.action.like("statement%"))).all()
    assert actions.count("statement_sent") == 2 and "statement_run" in actions

    again = service.run(clinic.biller, out_dir=tmp_path / "again", today=TODAY)
    assert again.sent == () and again.run_file is None and statement_count(clinic) == 2
    assert not (tmp_path / "again").exists() or not any((tmp_path / "again").iterdir())
    assert all("statement sent 11/26/2026" in r.reason for r in again.skipped)


def test_the_next_statement_carries_the_previous_balance_and_the_payments_since(
    clinic: Clinic, tmp_path: Path
) -> None:
    service = StatementService(clinic.services.db)
    who = patient(clinic, "MR201", "Juniper")
    owe(clinic, who, 10, "100.00")
    service.run(clinic.biller, out_dir=tmp_path / "one", today=TODAY)
    with clinic.services.db.session() as session:  # the patient pays 40 and a later visit adds 25 due
        session.add(PatientPayment(patient_id=who, received_on=TODAY + timedelta(days=5), amount=Decimal("40.00"),
                                   method=PaymentMethod.CHECK, reference="Check 101"))
        session.execute(sa.update(ClaimLine).values(patient_paid=Decimal("40.00")))
    owe(clinic, who, 0, "25.00")
    later = TODAY + timedelta(days=31)
    summary = service.run(clinic.biller, out_dir=tmp_path / "two", today=later)
    [sent] = summary.sent
    assert sent.amount_due == Decimal("85.00")
    text = pdf_text(sent.path.read_bytes())
    # previous balance 100.00, payments -40.00, new charges 25.00: amount due 85.00
    assert "Previous balance\n$100.00" in text and "-$40.00" in text and "$25.00" in text and "$85.00" in text
    assert service.statements_for(clinic.biller, who)[0].previous_balance == Decimal("100.00")


def test_a_reprint_is_byte_identical_to_what_was_sent(clinic: Clinic, tmp_path: Path) -> None:
    service = StatementService(clinic.services.db)
    who = patient(clinic, "MR301", "Kestrel")
    owe(clinic, who, 70, "64.10", code="J1745")
    summary = service.run(clinic.biller, out_dir=tmp_path, today=TODAY)
    [sent] = summary.sent
    owe(clinic, who, 1, "500.00")  # later activity never changes an old statement
    with clinic.services.db.session() as session:
        session.execute(sa.update(Patient).values(address1="77 Moved Street"))
    assert service.reprint(clinic.biller, sent.statement_id) == sent.path.read_bytes()


def test_a_failure_midway_records_nothing_and_leaves_no_final_files(
    clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = StatementService(clinic.services.db)
    for index in range(4):
        owe(clinic, patient(clinic, f"MR40{index}", f"Lark{index}"), 10, "20.00")
    real = statements_module.render_statement
    calls = itertools.count(1)

    def third_fails(statement: statements_module.Statement) -> bytes:
        if next(calls) == 3:
            raise RuntimeError("printer driver fell over")
        return real(statement)

    monkeypatch.setattr(statements_module, "render_statement", third_fails)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError, match="printer driver"):
        service.run(clinic.biller, out_dir=out, today=TODAY)
    assert statement_count(clinic) == 0
    assert list(out.iterdir()) == []  # not even the temporary files of the first two

    monkeypatch.setattr(statements_module, "render_statement", real)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    with pytest.raises(EnvironmentFault, match="Nothing was sent"):
        service.run(clinic.biller, out_dir=blocked / "statements", today=TODAY)
    assert statement_count(clinic) == 0
    assert len(service.run(clinic.biller, out_dir=out, today=TODAY).sent) == 4  # and it works once fixed


def test_a_failure_while_recording_leaves_no_files(clinic: Clinic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    service = StatementService(clinic.services.db)
    owe(clinic, patient(clinic, "MR501", "Marlowe"), 10, "20.00")

    def refuse(*_args: object, **_kwargs: object) -> list[int]:
        raise EnvironmentFault("database is locked")

    monkeypatch.setattr(StatementService, "_record", refuse)
    with pytest.raises(EnvironmentFault):
        service.run(clinic.biller, out_dir=tmp_path / "out", today=TODAY)
    assert list((tmp_path / "out").iterdir()) == [] and statement_count(clinic) == 0


def test_an_existing_file_with_a_final_name_is_never_overwritten(clinic: Clinic, tmp_path: Path) -> None:
    owe(clinic, patient(clinic, "MR601", "Nightingale"), 10, "20.00")
    existing = tmp_path / "statement_20261126_MR601.pdf"
    existing.write_bytes(b"someone's file")
    with pytest.raises(ValidationFailed, match="already exists"):
        StatementService(clinic.services.db).run(clinic.biller, out_dir=tmp_path, today=TODAY)
    assert existing.read_bytes() == b"someone's file" and statement_count(clinic) == 0


def test_settings_are_checked_saved_and_used(clinic: Clinic, services: Services) -> None:
    service = StatementService(clinic.services.db)
    manager = make_actor(services, Role.MANAGER)
    assert service.settings(clinic.biller) == StatementSettings(Decimal("5.00"), 30, 21)
    with pytest.raises(PermissionDenied):
        service.set_settings(clinic.biller, StatementSettings(Decimal("10.00"), 30, 21))
    with pytest.raises(ValidationFailed) as refused:
        service.set_settings(manager, StatementSettings(Decimal("-1"), 0, 200))
    assert {f.subject for f in refused.value.findings} == {"minimum_balance", "cycle_days", "due_days"}
    assert service.settings(clinic.biller) == StatementSettings(Decimal("5.00"), 30, 21)  # nothing saved

    service.set_settings(manager, StatementSettings(Decimal("25"), 14, 10))
    assert service.settings(clinic.biller) == StatementSettings(Decimal("25.00"), 14, 10)
    owe(clinic, patient(clinic, "MR701", "Oakhurst"), 10, "20.00")
    row = rows_by_mrn(clinic)["MR701"]
    assert row.reason == "under the minimum of $25.00"


def test_roles_holds_need_a_reason_and_unknown_records(clinic: Clinic, services: Services, tmp_path: Path) -> None:
    service = StatementService(clinic.services.db)
    who = patient(clinic, "MR801", "Pemberton")
    with pytest.raises(PermissionDenied):
        service.preview_run(make_actor(services, Role.FRONT_DESK), TODAY)  # runs are billers' and managers'
    with pytest.raises(PermissionDenied):
        service.reprint(make_actor(services, Role.NURSE), 1)
    with pytest.raises(ValidationFailed, match="Say why"):
        service.set_hold(clinic.biller, who, True, "  ")
    with clinic.services.db.session() as session:
        assert session.get(Patient, who).statement_hold is False  # type: ignore[union-attr]
    with pytest.raises(statements_module.NotFound):
        service.reprint(clinic.biller, 999)
    with pytest.raises(statements_module.NotFound):
        service.set_hold(clinic.biller, 999, True, "dispute")


# --- end to end: a real 835 leaves the patient's coinsurance due --------------------------------


@pytest.fixture
def paid_demo(services: Services, tmp_path: Path) -> Iterator[tuple[Services, list[str]]]:
    """A small demo clinic whose exported claims a payer paid, leaving 20% coinsurance (PR-2)."""
    cent = Decimal("0.01")
    generate_demo(services.db, patients=8, months=2, seed=5, today=TODAY)
    biller = services.auth.sign_in("biller", "demo")
    ClaimService(services.db).build(biller, today=TODAY)
    summary = BatchService(services.db).export(biller, out_dir=tmp_path / "837", today=TODAY)
    claims = [c for f in summary.files for c in read_837p(f.path.read_text(encoding="ascii"))][:4]
    with services.db.session() as session:
        session.execute(sa.update(Payer).values(era_posting=EraPosting.ALL))
    payments = []
    for number, claim in enumerate(claims):
        lines = []
        for line in claim.lines:
            allowed = (line.charge * Decimal("0.8")).quantize(cent)
            paid = (allowed * Decimal("0.8")).quantize(cent)
            lines.append(ServicePayment(
                code=line.code, modifiers=line.modifiers, charge=line.charge, paid=paid, allowed=allowed,
                service_date=line.service_date, line_control_number=line.control_number,
                adjustments=(CasAdjustment("CO", "45", line.charge - allowed), CasAdjustment("PR", "2", allowed - paid)),
            ))
        payments.append(ClaimPayment(
            patient_control_number=claim.claim_number, status_code="1",
            total_charge=sum((x.charge for x in claim.lines), Decimal("0.00")),
            paid=sum((x.paid for x in lines), Decimal("0.00")),
            patient_responsibility=sum((a.amount for x in lines for a in x.adjustments if a.group == "PR"), Decimal(0)),
            filing_indicator="CI", payer_claim_control_number=f"ICN-{number}", lines=tuple(lines),
        ))
    remittance = Remittance(
        trace_number="EFT0001", payer_identifier="1999999999", payer_name="FICTIONAL HEALTH PLAN",
        payment_method="ACH", payment_date=TODAY, total_paid=sum((p.paid for p in payments), Decimal("0.00")),
        claims=tuple(payments),
    )
    RemittanceService(services.db).import_text(biller, write_835(remittance), "era.835")
    yield services, [c.claim_number for c in claims]


def test_coinsurance_from_a_posted_835_is_billed_and_nothing_insurance_still_owes(
    paid_demo: tuple[Services, list[str]], tmp_path: Path
) -> None:
    services, numbers = paid_demo
    biller = services.auth.sign_in("biller", "demo")
    with services.db.session() as session:
        due = session.execute(
            sa.select(Claim.patient_id, ClaimLine.patient_responsibility, ClaimLine.patient_paid)
            .join(Claim, Claim.id == ClaimLine.claim_id)
            .where(ClaimLine.responsibility == LineResponsibility.PATIENT_DUE)
        ).all()
    expected: dict[int, Decimal] = {}
    for patient_id, share, paid in due:
        expected[patient_id] = expected.get(patient_id, Decimal(0)) + share - paid
    assert expected, "posting the coinsurance left nothing patient-due"
    summary = StatementService(services.db).run(biller, out_dir=tmp_path / "statements", today=TODAY)
    sent = {s.patient_id: s.amount_due for s in summary.sent}
    billable = {p: a for p, a in expected.items() if a >= Decimal("5.00")}
    assert sent == billable  # exactly the posted patient shares; unpaid claims' lines are never due
    for statement in summary.sent:
        assert f"${statement.amount_due:,.2f}" in pdf_text(statement.path.read_bytes())
