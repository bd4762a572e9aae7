"""Contracts: fee schedules and ASP prices on file, and the underpayment list from posted 835s."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa

from infusion_desk.billing.contracts import Tolerance
from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
from infusion_desk.models import (
    AspPrice,
    AuditEvent,
    Claim,
    ClaimLine,
    FeeScheduleEntry,
    InsurancePolicy,
    Payer,
)
from infusion_desk.models.enums import (
    ClaimStatus,
    EraPosting,
    PayerType,
    PolicyRank,
    Role,
    SubscriberRelationship,
)
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.contracts import ContractService, FeeEntryInput
from infusion_desk.services.errors import NotFound, PermissionDenied, ValidationFailed
from infusion_desk.services.remittances import RemittanceService
from tests.billing.x12.remit_fixtures import write_835
from tests.conftest import fictional_patient, make_actor

D = Decimal
DOS = date(2026, 8, 3)
PAID_ON = date(2026, 9, 10)

PRAIRIE_CSV = (
    "code,allowed,percent_of_asp,effective_from,effective_to\n"
    "96413,180.00,,2026-01-01,\n"
    "96413,170.00,,2025-01-01,2025-12-31\n"
    "J1745,,106,2026-01-01,\n"
)
ASP_CSV = (
    '"October 2026 ASP Pricing File (fictional test copy)",,,\n'
    '"HCPCS Code","Short Description","HCPCS Code Dosage","Payment Limit"\n'
    '"J1745","Infliximab not biosimil 10mg","10 MG","36.632"\n'
    '"J9999","Not otherwise classified","",""\n'
)


@dataclass(frozen=True)
class Lines:
    """Billed lines as (code, units, charge)."""

    items: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class Clinic:
    services: Services
    manager: Actor
    biller: Actor
    prairie: int
    lakeshore: int
    patient: int


def _payer(session: sa.orm.Session, name: str, payer_id: str) -> int:
    payer = Payer(name=name, payer_id=payer_id, payer_type=PayerType.COMMERCIAL, era_posting=EraPosting.ALL)
    session.add(payer)
    session.flush()
    return payer.id


@pytest.fixture
def clinic(services: Services) -> Clinic:
    return arrange_clinic(services)


def arrange_clinic(services: Services) -> Clinic:
    """Two fictional commercial payers posting 835s at once, a manager, a biller and one patient."""
    manager = make_actor(services, Role.MANAGER)
    biller = make_actor(services, Role.BILLER)
    with services.db.session() as session:
        prairie = _payer(session, "Prairie Mutual (test)", "PM001")
        lakeshore = _payer(session, "Lakeshore Health (test)", "LH001")
        patient = fictional_patient()
        session.add(patient)
        session.flush()
        patient_id = patient.id
    return Clinic(services, manager, biller, prairie, lakeshore, patient_id)


def _claim(clinic: Clinic, number: str, payer_id: int, lines: list[tuple[str, str, str]],
           day: date = DOS, sequence: str = "P") -> list[str]:
    """A submitted claim (no visit needed for posting); returns its lines' control numbers."""
    with clinic.services.db.session() as session:
        policy = InsurancePolicy(
            patient_id=clinic.patient, payer_id=payer_id, rank=PolicyRank.PRIMARY, member_id=f"M{number}",
            subscriber_relationship=SubscriberRelationship.SELF, effective_date=date(2025, 1, 1),
        )
        session.add(policy)
        session.flush()
        claim = Claim(
            claim_number=number, patient_id=clinic.patient, policy_id=policy.id, payer_id=payer_id,
            status=ClaimStatus.SUBMITTED, service_date_from=day, service_date_to=day,
            billing_provider_npi="1234567893", responsibility_sequence=sequence,
            total_charge=sum((D(charge) for _, _, charge in lines), D("0.00")),
        )
        claim.lines = [
            ClaimLine(
                line_number=n, line_control_number=f"{number}-{n}", service_date=day, code=code,
                modifiers=[], units=D(units), charge=D(charge), diagnosis_pointers=[1],
            )
            for n, (code, units, charge) in enumerate(lines, start=1)
        ]
        session.add(claim)
    return [f"{number}-{n}" for n in range(1, len(lines) + 1)]


def _line(code: str, charge: str, paid: str, allowed: str | None, patient: str = "0", *,
          control: str, day: date = DOS) -> ServicePayment:
    """The payer's answer for a line: contractual write-down to allowed, the patient's share, the rest paid."""
    charge_d, paid_d, patient_d = D(charge), D(paid), D(patient)
    allowed_d = D(allowed) if allowed is not None else paid_d + patient_d
    adjustments = [CasAdjustment("CO", "45", charge_d - allowed_d)]
    if patient_d:
        adjustments.append(CasAdjustment("PR", "2", patient_d))
    return ServicePayment(
        code=code, modifiers=(), charge=charge_d, paid=paid_d, service_date=day, line_control_number=control,
        allowed=D(allowed) if allowed is not None else None, adjustments=tuple(adjustments),
    )


def _payment(number: str, *lines: ServicePayment, status: str = "1") -> ClaimPayment:
    return ClaimPayment(
        patient_control_number=number, status_code=status,
        total_charge=sum((line.charge for line in lines), D("0.00")),
        paid=sum((line.paid for line in lines), D("0.00")),
        patient_responsibility=sum(
            (a.amount for line in lines for a in line.adjustments if a.group == "PR"), D("0.00")
        ),
        filing_indicator="CI", payer_claim_control_number=f"ICN-{number}",
        patient_last_name="EXAMPLE", patient_first_name="TESTY", lines=lines,
    )


def _post(clinic: Clinic, *claims: ClaimPayment, trace: str, day: date = PAID_ON) -> None:
    remittance = Remittance(
        trace_number=trace, payer_identifier="1999999999", payer_name="FICTIONAL HEALTH PLAN",
        payment_method="CHK", payment_date=day, total_paid=sum((c.paid for c in claims), D("0.00")),
        claims=claims,
    )
    result = RemittanceService(clinic.services.db).import_text(clinic.biller, write_835(remittance), f"{trace}.835")
    assert result.review == [] and result.held == []


def _contracts(clinic: Clinic) -> ContractService:
    service = ContractService(clinic.services.db)
    service.import_fee_schedule_text(clinic.manager, clinic.prairie, PRAIRIE_CSV, "prairie.csv")
    service.import_fee_schedule_text(
        clinic.manager, clinic.lakeshore, "code,allowed,effective_from\n96413,180,2026-01-01\n", "lakeshore.csv"
    )
    service.import_asp_text(clinic.manager, ASP_CSV, "asp.csv", date(2026, 7, 1))
    return service


def _count(clinic: Clinic, model: type[object]) -> int:
    with clinic.services.db.session() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def post_underpaid_claims(clinic: Clinic) -> ContractService:
    """Both payers' rates and 2026-Q3 ASP on file; two claims paid: $65.28 and $30.00 short, and one 50¢ short."""
    service = _contracts(clinic)
    c1 = _claim(clinic, "C0000001", clinic.prairie, [("96413", "1", "400.00"), ("J1745", "40", "2400.00"),
                                                     ("96365", "1", "250.00")])
    c2 = _claim(clinic, "C0000002", clinic.lakeshore, [("96413", "1", "400.00")], day=date(2026, 8, 4))
    _post(
        clinic,
        _payment(
            "C0000001",
            _line("96413", "400.00", "120.00", "150.00", "30.00", control=c1[0]),  # $30.00 under $180
            # no AMT*B6: allowed is paid + the patient's share = 1400.00, under 36.632 × 40 = 1465.28
            _line("J1745", "2400.00", "1100.00", None, "300.00", control=c1[1]),
            _line("96365", "250.00", "200.00", "200.00", control=c1[2]),  # no contract rate for 96365
        ),
        _payment("C0000002", _line("96413", "400.00", "179.50", "179.50", control=c2[0])),  # 50¢ under
        trace="CHK1001",
    )
    return service


# --- the underpayment list ---------------------------------------------------------------------


def test_lines_allowed_below_contract_are_listed_biggest_shortfall_first_with_totals_per_payer(
    clinic: Clinic,
) -> None:
    service = post_underpaid_claims(clinic)
    report = service.underpayments(clinic.biller)
    assert [(r.claim_number, r.code, r.expected, r.allowed, r.short_by) for r in report.rows] == [
        ("C0000001", "J1745", D("1465.28"), D("1400.00"), D("65.28")),
        ("C0000001", "96413", D("180.00"), D("150.00"), D("30.00")),
    ]
    j1745 = report.rows[0]
    assert j1745.paid == D("1100.00") and j1745.units == D("40") and j1745.payer == "Prairie Mutual (test)"
    assert j1745.patient == "Example, Testy (DM0000001)" and j1745.service_date == DOS
    assert j1745.payment_date == PAID_ON
    assert "106% of ASP" in j1745.basis and "2026-Q3" in j1745.basis
    assert (report.checked, report.no_contract, report.no_asp_price) == (3, 1, 0)
    prairie, lakeshore = report.by_payer
    assert (prairie.payer, prairie.lines, prairie.short_by, prairie.no_contract) == (
        "Prairie Mutual (test)", 2, D("95.28"), 1,
    )
    assert (lakeshore.payer, lakeshore.lines, lakeshore.short_by, lakeshore.checked) == (
        "Lakeshore Health (test)", 0, D("0.00"), 1,
    )
    assert report.total_short == D("95.28")
    assert "2 underpaid line(s), $95.28 short" in report.text() and "1 with no contract rate" in report.text()

    # with no tolerance the 50¢ is listed too; at 5% the $65.28 is within 5% of $1,465.28 ($73.26)
    # while the $30.00 is more than 5% of $180.00 ($9.00)
    strict = service.underpayments(clinic.biller, tolerance=Tolerance(D("0"), D("0")))
    assert [r.short_by for r in strict.rows] == [D("65.28"), D("30.00"), D("0.50")]
    lenient = service.underpayments(clinic.biller, tolerance=Tolerance(D("1.00"), D("5")))
    assert [r.short_by for r in lenient.rows] == [D("30.00")]


def test_a_reversed_payment_no_longer_counts_and_its_correction_does(clinic: Clinic) -> None:
    service = _contracts(clinic)
    (control,) = _claim(clinic, "C0000003", clinic.prairie, [("96413", "1", "400.00")])
    first = _payment("C0000003", _line("96413", "400.00", "100.00", "100.00", control=control))
    _post(clinic, first, trace="CHK2001")
    assert [r.short_by for r in service.underpayments(clinic.biller).rows] == [D("80.00")]

    reversal = replace(
        first, status_code="22", total_charge=-first.total_charge, paid=-first.paid,
        lines=tuple(
            replace(line, charge=-line.charge, paid=-line.paid, allowed=None,
                    adjustments=tuple(replace(a, amount=-a.amount) for a in line.adjustments))
            for line in first.lines
        ),
    )
    _post(clinic, reversal, trace="CHK2002", day=date(2026, 9, 20))
    assert service.underpayments(clinic.biller).rows == ()  # taken back: nothing stands

    corrected = _payment("C0000003", _line("96413", "400.00", "180.00", "180.00", control=control))
    _post(clinic, corrected, trace="CHK2003", day=date(2026, 9, 21))
    report = service.underpayments(clinic.biller)
    assert report.rows == () and report.checked == 1  # the corrected payment pays the contract rate


def test_denied_secondary_unposted_and_out_of_period_lines_are_left_out(clinic: Clinic) -> None:
    service = _contracts(clinic)
    (denied,) = _claim(clinic, "C0000004", clinic.prairie, [("96413", "1", "400.00")])
    (secondary,) = _claim(clinic, "C0000005", clinic.prairie, [("96413", "1", "400.00")], sequence="S")
    (early,) = _claim(clinic, "C0000006", clinic.prairie, [("96413", "1", "400.00")])
    denied_line = ServicePayment(
        code="96413", modifiers=(), charge=D("400.00"), paid=D("0.00"), service_date=DOS,
        line_control_number=denied, adjustments=(CasAdjustment("CO", "197", D("400.00")),),
    )
    _post(
        clinic,
        _payment("C0000004", denied_line),
        _payment("C0000005", _line("96413", "400.00", "20.00", "20.00", control=secondary)),
        trace="CHK3001",
    )
    _post(clinic, _payment("C0000006", _line("96413", "400.00", "90.00", "90.00", control=early)),
          trace="CHK3002", day=date(2026, 8, 20))
    report = service.underpayments(clinic.biller, since=date(2026, 9, 1))
    assert report.rows == () and report.checked == 0
    whole = service.underpayments(clinic.biller)
    assert [(r.claim_number, r.short_by) for r in whole.rows] == [("C0000006", D("90.00"))]
    assert [r.claim_number for r in service.underpayments(clinic.biller, until=date(2026, 8, 31)).rows] == [
        "C0000006"
    ]
    with pytest.raises(ValidationFailed, match="ends"):
        service.underpayments(clinic.biller, since=date(2026, 9, 1), until=date(2026, 8, 1))


def test_a_drug_priced_on_asp_without_a_price_for_its_quarter_is_counted_not_guessed(clinic: Clinic) -> None:
    service = _contracts(clinic)
    (control,) = _claim(clinic, "C0000007", clinic.prairie, [("J1745", "40", "2400.00")], day=date(2026, 10, 5))
    _post(clinic, _payment("C0000007", _line("J1745", "2400.00", "500.00", "500.00", control=control)),
          trace="CHK4001", day=date(2026, 10, 30))
    report = service.underpayments(clinic.biller)
    assert report.rows == () and (report.checked, report.no_asp_price) == (0, 1)
    assert "no ASP price for the quarter" in report.text()


# --- fee schedules ---------------------------------------------------------------------------------


def test_importing_adds_or_replaces_by_code_and_start_and_replace_starts_over(clinic: Clinic) -> None:
    service = ContractService(clinic.services.db)
    first = service.import_fee_schedule_text(clinic.manager, clinic.prairie, PRAIRIE_CSV, "prairie.csv")
    assert (first.added, first.replaced) == (3, 0)
    again = service.import_fee_schedule_text(
        clinic.manager, clinic.prairie,
        "code,allowed,percent_of_asp,effective_from,effective_to\n96413,185.00,,2026-01-01,\n"
        "96365,95.00,,2026-01-01,\n",
        "prairie-2.csv",
    )
    assert (again.added, again.replaced, again.removed) == (1, 1, 0)
    rows = service.fee_schedule(clinic.biller, clinic.prairie)
    assert [(r.code, r.basis, r.effective_from) for r in rows] == [
        ("96365", "$95.00 a unit", date(2026, 1, 1)),
        ("96413", "$185.00 a unit", date(2026, 1, 1)),
        ("96413", "$170.00 a unit", date(2025, 1, 1)),
        ("J1745", "106% of ASP", date(2026, 1, 1)),
    ]
    fresh = service.import_fee_schedule_text(
        clinic.manager, clinic.prairie, "code,allowed,effective_from\n96413,190,2027-01-01\n", "2027.csv",
        replace=True,
    )
    assert (fresh.added, fresh.removed) == (1, 4) and "4 earlier entries removed" in fresh.text()
    assert [r.code for r in service.fee_schedule(clinic.biller, clinic.prairie)] == ["96413"]
    assert service.fee_schedule(clinic.biller, clinic.lakeshore) == []
    with clinic.services.db.session() as session:
        actions = session.scalars(sa.select(AuditEvent.action).where(AuditEvent.entity == "fee_schedule")).all()
    assert actions == ["import", "import", "import"]


def test_a_bad_fee_schedule_file_saves_nothing_and_names_each_row(clinic: Clinic, tmp_path: Path) -> None:
    service = ContractService(clinic.services.db)
    path = tmp_path / "bad.csv"
    path.write_text(
        "code,allowed,percent_of_asp,effective_from,effective_to\n"
        "96413,180.00,,2026-01-01,\n"
        "96365,ninety,,2026-01-01,\n"
        "96366,40.00,,2026-02-30,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        service.import_fee_schedule(clinic.manager, clinic.prairie, path, replace=True)
    messages = [f.message for f in caught.value.findings]
    assert messages[0].startswith("bad.csv, row 3: allowed 'ninety' is not an amount")
    assert messages[1].startswith("bad.csv, row 4: effective_from '2026-02-30' is not a date")
    assert _count(clinic, FeeScheduleEntry) == 0
    with pytest.raises(ValidationFailed, match="Cannot read"):
        service.import_fee_schedule(clinic.manager, clinic.prairie, tmp_path / "missing.csv")


def test_entries_are_added_edited_and_deleted_by_a_manager_and_audited(clinic: Clinic) -> None:
    service = ContractService(clinic.services.db)
    entry_id = service.add_entry(
        clinic.manager, clinic.prairie, FeeEntryInput("j1745", percent_of_asp="104", effective_from=date(2026, 1, 1))
    )
    with pytest.raises(ValidationFailed, match="already has a rate for J1745 from 01/01/2026"):
        service.add_entry(clinic.manager, clinic.prairie,
                          FeeEntryInput("J1745", allowed="40", effective_from=date(2026, 1, 1)))
    with pytest.raises(ValidationFailed, match="not both"):
        service.update_entry(clinic.manager, entry_id,
                             FeeEntryInput("J1745", "40", "106", effective_from=date(2026, 1, 1)))
    service.update_entry(
        clinic.manager, entry_id,
        FeeEntryInput("J1745", allowed="38.1234", effective_from=date(2026, 1, 1), effective_to=date(2026, 12, 31)),
    )
    (row,) = service.fee_schedule(clinic.biller, clinic.prairie)
    assert (row.allowed, row.percent_of_asp, row.effective_to) == (D("38.1234"), None, date(2026, 12, 31))
    service.delete_entry(clinic.manager, entry_id)
    assert service.fee_schedule(clinic.biller, clinic.prairie) == []
    with pytest.raises(NotFound):
        service.delete_entry(clinic.manager, entry_id)
    with clinic.services.db.session() as session:
        actions = session.scalars(
            sa.select(AuditEvent.action).where(AuditEvent.entity == "fee_schedule_entry").order_by(AuditEvent.id)
        ).all()
    assert actions == ["create", "update", "delete"]


def test_billers_see_contracts_but_only_managers_change_them(clinic: Clinic) -> None:
    service = ContractService(clinic.services.db)
    nurse = make_actor(clinic.services, Role.NURSE)
    with pytest.raises(PermissionDenied):
        service.add_entry(clinic.biller, clinic.prairie, FeeEntryInput("96413", "180", "", date(2026, 1, 1)))
    with pytest.raises(PermissionDenied):
        service.import_asp_text(clinic.biller, ASP_CSV, "asp.csv", date(2026, 7, 1))
    with pytest.raises(PermissionDenied):
        service.underpayments(nurse)
    with pytest.raises(NotFound):
        service.fee_schedule(clinic.biller, 9999)
    assert [p.name for p in service.payers(clinic.biller)] == ["Lakeshore Health (test)", "Prairie Mutual (test)"]
    assert _count(clinic, FeeScheduleEntry) == 0


# --- ASP prices ------------------------------------------------------------------------------------


def test_an_asp_file_replaces_its_quarter_and_a_bad_one_saves_nothing(clinic: Clinic) -> None:
    service = ContractService(clinic.services.db)
    result = service.import_asp_text(clinic.manager, ASP_CSV, "asp.csv", date(2026, 7, 1))
    assert (result.imported, result.replaced, result.skipped) == (1, 0, 1)
    assert result.text() == (
        "ASP 2026-Q3: 1 payment limit(s) imported, 1 code(s) without a payment limit skipped."
    )
    service.import_asp_text(clinic.manager, ASP_CSV, "asp.csv", date(2026, 10, 1))
    newer = ASP_CSV.replace("36.632", "37.001")
    assert service.import_asp_text(clinic.manager, newer, "asp-rev.csv", date(2026, 7, 1)).replaced == 1
    with clinic.services.db.session() as session:
        limits = session.execute(sa.select(AspPrice.quarter_start, AspPrice.payment_limit)
                                 .order_by(AspPrice.quarter_start)).all()
    assert [tuple(r) for r in limits] == [(date(2026, 7, 1), D("37.001")), (date(2026, 10, 1), D("36.632"))]
    assert [(q.label, q.prices) for q in service.asp_quarters(clinic.biller)] == [("2026-Q4", 1), ("2026-Q3", 1)]

    bad = ASP_CSV + '"J2506","Pegfilgrastim","0.5 MG","n/a"\n'
    with pytest.raises(ValidationFailed, match="asp-bad.csv, row 5: the payment limit of J2506"):
        service.import_asp_text(clinic.manager, bad, "asp-bad.csv", date(2026, 7, 1))
    with pytest.raises(ValidationFailed, match="not the first day of a quarter"):
        service.import_asp_text(clinic.manager, ASP_CSV, "asp.csv", date(2026, 7, 2))
    assert _count(clinic, AspPrice) == 2
