"""The manager's reports over a small fictional clinic whose every figure is worked out by hand below.

The clinic (as of 11/30/2026), all claims primary, lines' balances as ``services/balances`` leaves them:

=====  ==========  =====  =======  ==========================================================  ============
claim  payer       DOS    charge   what happened                                               state
=====  ==========  =====  =======  ==========================================================  ============
C1     Prairie     11/20   400.00  sent, no answer yet                                         ins. pending
C2     Prairie     10/15  2400.00  J1745 × 40: paid 1100 on 11/05, CO-45 1000, PR-2 300;        patient due
                                   the patient paid 100 on 11/10
C3     Lakeshore   08/01   250.00  denied CO-197 on 09/10 (authorization), appealed, won        ins. pending
C4     Lakeshore   09/15   300.00  paid 240 on 10/01, CO-45 60 (contract says 300: short 60)    settled
C5     Prairie     11/01   999.00  still a draft: never counted                                draft
C6     Prairie     11/02   100.00  rejected by the clearinghouse on 11/03                       ins. pending
=====  ==========  =====  =======  ==========================================================  ============
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from infusion_desk.billing.report_model import Report
from infusion_desk.models import (
    Adjustment,
    Appeal,
    AuditEvent,
    Claim,
    ClaimLine,
    ClaimStatusEvent,
    DenialWorkItem,
    Drug,
    FeeScheduleEntry,
    InsurancePolicy,
    PatientPayment,
    Payer,
    PaymentAllocation,
    PriorAuthorization,
    Remittance,
    RemittanceClaim,
    RemittanceLine,
)
from infusion_desk.models.enums import (
    AdjustmentGroup,
    AdminClass,
    AppealStatus,
    AuthorizationStatus,
    ClaimStatus,
    DenialCategory,
    LineResponsibility,
    PayerType,
    PaymentMethod,
    PolicyRank,
    Role,
    SubscriberRelationship,
    WorkItemStatus,
)
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.denials import denial_analytics
from infusion_desk.services.errors import PermissionDenied, ValidationFailed
from infusion_desk.services.reports import REPORTS, ReportService, drill_key
from tests.conftest import fictional_patient, make_actor

D = Decimal
START = date(2026, 8, 1)
END = date(2026, 11, 30)


@dataclass(frozen=True)
class Clinic:
    services: Services
    manager: Actor
    claims: dict[str, int]

    @property
    def reports(self) -> ReportService:
        return ReportService(self.services.db)

    def report(self, name: str, start: date | None = START, end: date = END) -> Report:
        return self.reports.report(self.manager, name, start, end)

    def numbers(self, ids: tuple[int, ...]) -> list[str]:
        names = {v: k for k, v in self.claims.items()}
        return sorted(names[i] for i in ids)


def _row(report: Report, *key: str) -> dict[str, object]:
    for row in report.rows:
        if drill_key(report, row)[: len(key)] == key:
            return {c.key: v for c, v in zip(report.columns, row.values, strict=True)} | {"ids": row.claim_ids}
    raise AssertionError(f"no row {key} in {[drill_key(report, r) for r in report.rows]}")


def _total(report: Report) -> dict[str, object]:
    assert report.total is not None
    return {c.key: v for c, v in zip(report.columns, report.total.values, strict=True)}


@pytest.fixture
def clinic(services: Services) -> Clinic:
    manager = make_actor(services, Role.MANAGER)
    ids: dict[str, int] = {}
    with services.db.session() as s:
        prairie = Payer(name="Prairie Mutual (test)", payer_id="PM001", payer_type=PayerType.COMMERCIAL)
        lakeshore = Payer(name="Lakeshore Health (test)", payer_id="LH001", payer_type=PayerType.COMMERCIAL)
        patient = fictional_patient()
        s.add_all([prairie, lakeshore, patient])
        s.flush()
        policies = {}
        for payer in (prairie, lakeshore):
            policy = InsurancePolicy(
                patient_id=patient.id, payer_id=payer.id, rank=PolicyRank.PRIMARY, member_id=f"M{payer.id}",
                subscriber_relationship=SubscriberRelationship.SELF, effective_date=date(2025, 1, 1),
            )
            s.add(policy)
            s.flush()
            policies[payer.id] = policy.id
        auth = PriorAuthorization(
            patient_id=patient.id, policy_id=policies[prairie.id], number="PA-TEST-1",
            status=AuthorizationStatus.APPROVED, approved_units=D("120"), approved_visits=6,
            valid_from=date(2026, 10, 1), valid_to=date(2026, 12, 31),
        )
        s.add(auth)
        s.add(Drug(name="Infliximab (test)", hcpcs="J1745", billing_unit_amount=D("10"), billing_unit="mg",
                   admin_class=AdminClass.COMPLEX_BIOLOGIC, unit_price=D("60"), acquisition_cost=D("27.3150")))
        s.add(FeeScheduleEntry(payer_id=lakeshore.id, code="96413", allowed=D("300.00"),
                               effective_from=date(2026, 1, 1)))
        s.flush()

        def claim(number: str, payer: Payer, dos: date, code: str, charge: str, *, units: str = "1",
                  status: ClaimStatus = ClaimStatus.SUBMITTED, paid: str = "0", adjusted: str = "0",
                  patient_share: str = "0", patient_paid: str = "0",
                  state: LineResponsibility = LineResponsibility.INSURANCE_PENDING,
                  authorization: int | None = None) -> ClaimLine:
            c = Claim(
                claim_number=number, patient_id=patient.id, policy_id=policies[payer.id], payer_id=payer.id,
                status=status, service_date_from=dos, service_date_to=dos, billing_provider_npi="1234567893",
                total_charge=D(charge), submitted_at=datetime.combine(dos, datetime.min.time(), UTC),
            )
            line = ClaimLine(
                line_number=1, line_control_number=f"{number}-1", service_date=dos, code=code, modifiers=[],
                units=D(units), charge=D(charge), diagnosis_pointers=[1], paid=D(paid), adjusted=D(adjusted),
                patient_responsibility=D(patient_share), patient_paid=D(patient_paid), responsibility=state,
                authorization_id=authorization,
            )
            c.lines = [line]
            s.add(c)
            s.flush()
            ids[number] = c.id
            return line

        def remit(trace: str, payer: Payer, day: date, line: ClaimLine, paid: str, allowed: str | None,
                  *adjustments: tuple[AdjustmentGroup, str, str], status: str = "1") -> RemittanceLine:
            r = Remittance(payer_id=payer.id, payer_identifier="1999999999", trace_number=trace,
                           payment_method="CHK", payment_date=day, total_paid=D(paid),
                           posted_at=datetime(2026, 11, 30, tzinfo=UTC))
            s.add(r)
            s.flush()
            rc = RemittanceClaim(remittance_id=r.id, claim_id=line.claim_id, patient_control_number="x",
                                 status_code=status, total_charge=line.charge, paid=D(paid),
                                 patient_responsibility=sum((D(a) for g, _, a in adjustments
                                                             if g is AdjustmentGroup.PR), D(0)))
            s.add(rc)
            s.flush()
            rl = RemittanceLine(remittance_claim_id=rc.id, claim_line_id=line.id, code=line.code, modifiers=[],
                                service_date=line.service_date, charge=line.charge, paid=D(paid),
                                allowed=D(allowed) if allowed else None)
            s.add(rl)
            s.flush()
            for group, reason, amount in adjustments:
                s.add(Adjustment(remittance_claim_id=rc.id, remittance_line_id=rl.id, group_code=group,
                                 reason_code=reason, amount=D(amount)))
            return rl

        CO, PR = AdjustmentGroup.CO, AdjustmentGroup.PR
        claim("C1", prairie, date(2026, 11, 20), "96413", "400.00")
        c2 = claim("C2", prairie, date(2026, 10, 15), "J1745", "2400.00", units="40", status=ClaimStatus.PAID,
                   paid="1100.00", adjusted="1000.00", patient_share="300.00", patient_paid="100.00",
                   state=LineResponsibility.PATIENT_DUE, authorization=auth.id)
        remit("T2", prairie, date(2026, 11, 5), c2, "1100.00", "1400.00", (CO, "45", "1000.00"),
              (PR, "2", "300.00"))
        payment = PatientPayment(patient_id=patient.id, received_on=date(2026, 11, 10), amount=D("100.00"),
                                 method=PaymentMethod.CASH)
        payment.allocations = [PaymentAllocation(claim_line_id=c2.id, amount=D("100.00"))]
        s.add(payment)
        c3 = claim("C3", lakeshore, date(2026, 8, 1), "96365", "250.00", status=ClaimStatus.APPEALED)
        denied = remit("T3", lakeshore, date(2026, 9, 10), c3, "0.00", None, (CO, "197", "250.00"), status="4")
        item = DenialWorkItem(claim_id=c3.claim_id, claim_line_id=c3.id, remittance_line_id=denied.id,
                              group_code=CO, reason_code="197", remark_codes=[],
                              category=DenialCategory.AUTHORIZATION, amount=D("250.00"),
                              status=WorkItemStatus.APPEALED)
        s.add(item)
        s.flush()
        s.add(Appeal(work_item_id=item.id, claim_id=c3.claim_id, status=AppealStatus.WON,
                     sent_on=date(2026, 10, 1), outcome_on=date(2026, 11, 15), amount=D("250.00"),
                     recovered=D("250.00")))
        c4 = claim("C4", lakeshore, date(2026, 9, 15), "96413", "300.00", status=ClaimStatus.PAID,
                   paid="240.00", adjusted="60.00", state=LineResponsibility.SETTLED)
        remit("T4", lakeshore, date(2026, 10, 1), c4, "240.00", "240.00", (CO, "45", "60.00"))
        claim("C5", prairie, date(2026, 11, 1), "96413", "999.00", status=ClaimStatus.DRAFT)
        c6 = claim("C6", prairie, date(2026, 11, 2), "96360", "100.00", status=ClaimStatus.REJECTED)
        s.add(ClaimStatusEvent(claim_id=c6.claim_id, at=datetime(2026, 11, 3, 15, tzinfo=UTC),
                               from_status=ClaimStatus.SUBMITTED, to_status=ClaimStatus.REJECTED))
    return Clinic(services, manager, ids)


def test_aging_buckets_each_payers_balance_by_date_of_service_and_patients_apart(clinic: Clinic) -> None:
    report = clinic.report("aging")
    assert report.start is None and report.end == END
    prairie = _row(report, "Insurance", "Prairie Mutual (test)")
    # C1 400.00 (10 days) + C6 100.00 (28 days); C2 owes the payer 2400 − 1100 − 1000 − 300 = 0.
    # A difference summed in SQL comes back in raw cents (50000) unless read as money: this catches it.
    assert prairie["b0-30"] == D("500.00") and prairie["total"] == D("500.00")
    assert clinic.numbers(prairie["ids"]) == ["C1", "C6"]  # type: ignore[arg-type]
    lakeshore = _row(report, "Insurance", "Lakeshore Health (test)")
    # C3 250.00 served 08/01: 121 days; C4 is settled (300 − 240 − 60 = 0)
    assert lakeshore["b120+"] == D("250.00") and lakeshore["b61-90"] == D("0.00")
    assert lakeshore["total"] == D("250.00")
    patient = _row(report, "Patient", "Patients: due")
    # C2: the patient's share 300.00 − paid 100.00 = 200.00, served 10/15: 46 days
    assert patient["b31-60"] == D("200.00") and clinic.numbers(patient["ids"]) == ["C2"]  # type: ignore[arg-type]
    total = _total(report)
    assert total["total"] == D("950.00")  # 500 + 250 + 200; C5 (a draft) is not A/R
    assert report.total is not None and clinic.numbers(report.total.claim_ids) == ["C1", "C2", "C3", "C6"]
    assert any("date of service" in note for note in report.notes)


def test_days_in_ar_shows_the_formula_and_its_inputs(clinic: Clinic) -> None:
    report = clinic.report("days-in-ar", date(2026, 9, 1))
    total = _total(report)
    # A/R 950.00 (as aging); charges served 09/02..11/30: C1 400 + C2 2400 + C6 100 = 2900.00
    # (C4 served 09/15 too: + 300 = 3200.00; C3 08/01 is before the window)
    assert total["ar"] == D("950.00")
    assert total["charges"] == D("3200.00")
    assert total["daily"] == D("35.56")  # 3200 ÷ 90 = 35.555…
    assert total["days"] == D("26.7")  # 950 ÷ (3200 ÷ 90) = 85500 ÷ 3200 = 26.72
    assert any("Days in A/R = total A/R ÷ average daily charges" in n for n in report.notes)
    assert any("950.00 ÷ (3,200.00 ÷ 90)" in n for n in report.notes)
    september = _row(report, "2026-09")
    # services up to 09/30 still open: C3 250.00; window 07/03..09/30: C3 250 + C4 300 = 550.00
    assert (september["ar"], september["charges"]) == (D("250.00"), D("550.00"))
    assert september["days"] == D("40.9")  # 250 ÷ (550 ÷ 90) = 22500 ÷ 550 = 40.909…
    assert clinic.numbers(september["ids"]) == ["C3"]  # type: ignore[arg-type]


def test_charges_payments_and_adjustments_by_month(clinic: Clinic) -> None:
    report = clinic.report("collections-by-month")
    assert [r.values[0] for r in report.rows] == ["2026-08", "2026-09", "2026-10", "2026-11"]
    august, september = _row(report, "2026-08"), _row(report, "2026-09")
    october, november = _row(report, "2026-10"), _row(report, "2026-11")
    assert august["charges"] == D("250.00")  # C3
    # C3's CO-197 on 09/10 is a denial being worked, not an adjustment
    assert (september["charges"], september["payments"], september["adjustments"]) == (
        D("300.00"), D("0.00"), D("0.00"))
    assert (october["charges"], october["insurance_paid"], october["contractual"]) == (
        D("2400.00"), D("240.00"), D("60.00"))
    # November: C1 400 + C6 100 (C5 is a draft); 1100 from Prairie + 100 from the patient; CO-45 1000
    assert (november["charges"], november["insurance_paid"], november["patient_paid"], november["payments"]) == (
        D("500.00"), D("1100.00"), D("100.00"), D("1200.00"))
    assert november["adjustments"] == D("1000.00")
    assert clinic.numbers(november["ids"]) == ["C1", "C2", "C6"]  # type: ignore[arg-type]
    total = _total(report)
    assert (total["charges"], total["payments"], total["adjustments"]) == (
        D("3450.00"), D("1440.00"), D("1060.00"))


def test_net_collection_rate_is_payments_over_charges_less_contractual(clinic: Clinic) -> None:
    report = clinic.report("net-collection-rate")
    # 1440.00 ÷ (3450.00 − 1060.00) = 1440 ÷ 2390 = 60.25%
    assert _total(report)["rate"] == D("60.3")
    assert _row(report, "2026-10")["rate"] == D("10.3")  # 240 ÷ (2400 − 60) = 10.26%
    assert _row(report, "2026-08")["rate"] == D("0.0")  # nothing paid on 250 of charges
    assert any("1,440.00 ÷ (3,450.00 − 1,060.00)" in n for n in report.notes)


def test_denial_rate_by_payer_reason_and_month_agrees_with_the_denial_analytics(clinic: Clinic) -> None:
    report = clinic.report("denial-rate")
    # adjudicated: C2 (11/05), C3 (09/10, denied 250.00), C4 (10/01); C1 and C6 have no answer
    lakeshore = _row(report, "Payer", "Lakeshore Health (test)")
    assert (lakeshore["claims"], lakeshore["denied"], lakeshore["rate"], lakeshore["amount"]) == (
        2, 1, D("50.0"), D("250.00"))
    assert clinic.numbers(lakeshore["ids"]) == ["C3", "C4"]  # type: ignore[arg-type]
    prairie = _row(report, "Payer", "Prairie Mutual (test)")
    assert (prairie["claims"], prairie["denied"], prairie["rate"]) == (1, 0, D("0.0"))
    reason = _row(report, "Reason", "authorization")
    assert (reason["denied"], reason["rate"]) == (1, D("33.3"))  # 1 of the 3 adjudicated
    assert clinic.numbers(reason["ids"]) == ["C3"]  # type: ignore[arg-type]
    assert _row(report, "Month", "2026-09")["rate"] == D("100.0")
    assert _row(report, "Month", "2026-11")["rate"] == D("0.0")
    total = _total(report)
    assert (total["claims"], total["denied"], total["rate"]) == (3, 1, D("33.3"))
    with clinic.services.db.session() as session:
        analytics = denial_analytics(session, START, END)
    assert {r.key: r.rate for r in analytics.by_payer} == {
        r.values[1]: r.values[4] for r in report.rows if r.values[0] == "Payer"
    }
    assert analytics.overall.rate == total["rate"]


def test_first_pass_clean_claim_rate_by_month_of_service(clinic: Clinic) -> None:
    report = clinic.report("clean-claims")
    # Aug: C3 answered with a denial → decided, not clean; Sep: C4 clean; Oct: C2 clean;
    # Nov: C1 waiting, C6 rejected → decided, not clean (C5 is a draft)
    assert [(r.values[0], r.values[1], r.values[2], r.values[3], r.values[4], r.values[5]) for r in report.rows] == [
        ("2026-08", 1, 0, 1, 0, D("0.0")),
        ("2026-09", 1, 0, 1, 1, D("100.0")),
        ("2026-10", 1, 0, 1, 1, D("100.0")),
        ("2026-11", 2, 1, 1, 0, D("0.0")),
    ]
    assert _total(report)["rate"] == D("50.0")  # 2 clean ÷ 4 decided


def test_drug_margin_is_paid_less_units_times_acquisition_cost(clinic: Clinic) -> None:
    row = _row(clinic.report("drug-margin"), "Infliximab (test)", "J1745")
    # paid 1100.00 + patient 100.00 = 1200.00; cost 40 × 27.3150 = 1092.60; margin 107.40 = 8.95%
    assert (row["units"], row["revenue"], row["cost"], row["margin"], row["margin_rate"]) == (
        D("40.000"), D("1200.00"), D("1092.60"), D("107.40"), D("9.0"))
    assert clinic.numbers(row["ids"]) == ["C2"]  # type: ignore[arg-type]


def test_authorization_use_counts_units_and_days_billed_against_it(clinic: Clinic) -> None:
    row = _row(clinic.report("authorization-use"), "PA-TEST-1")
    # 40 of 120 units = 33.3%; 1 of 6 visits = 16.7%
    assert (row["used_units"], row["units_rate"], row["used_visits"], row["visits_rate"]) == (
        D("40.000"), D("33.3"), 1, D("16.7"))
    assert clinic.numbers(row["ids"]) == ["C2"]  # type: ignore[arg-type]


def test_underpayments_per_payer_come_from_the_contracts(clinic: Clinic) -> None:
    report = clinic.report("underpayments")
    row = _row(report, "Lakeshore Health (test)")
    # C4: contract 300.00, allowed 240.00 → 60.00 short
    assert (row["lines"], row["expected"], row["allowed"], row["short_by"]) == (
        1, D("300.00"), D("240.00"), D("60.00"))
    assert clinic.numbers(row["ids"]) == ["C4"]  # type: ignore[arg-type]
    assert _row(report, "Prairie Mutual (test)")["no_contract"] == 1  # J1745 has no Prairie rate


def test_appeals_recovered_by_payer(clinic: Clinic) -> None:
    row = _row(clinic.report("appeals"), "Lakeshore Health (test)")
    assert (row["sent"], row["won"], row["win_rate"], row["recovered"]) == (1, 1, D("100.0"), D("250.00"))
    assert clinic.numbers(row["ids"]) == ["C3"]  # type: ignore[arg-type]


def test_drill_lists_the_same_claims_as_the_row_and_claims_behind_shows_them(clinic: Clinic) -> None:
    report = clinic.report("aging")
    for row in report.rows:
        assert clinic.reports.drill(clinic.manager, "aging", None, END, drill_key(report, row)) == row.claim_ids
    ids = clinic.reports.drill(clinic.manager, "aging", None, END, ("Insurance", "Prairie Mutual (test)"))
    behind = clinic.reports.claims_behind(clinic.manager, ids)
    assert [(c.claim_number, c.payer, c.status, c.charge, c.balance) for c in behind] == [
        ("C6", "Prairie Mutual (test)", "rejected", D("100.00"), D("100.00")),
        ("C1", "Prairie Mutual (test)", "submitted", D("400.00"), D("400.00")),
    ]
    assert behind[0].patient == "Example, Testy (DM0000001)"
    (c2,) = clinic.reports.claims_behind(clinic.manager, [clinic.claims["C2"]])
    assert c2.balance == D("200.00")  # the patient's 200.00 still owed
    # the list names patients: each listing is a view of theirs in the audit trail
    with clinic.services.db.session() as session:
        viewed = session.execute(
            sa.select(AuditEvent.username, AuditEvent.patient_id).where(AuditEvent.entity == "report_claims")
        ).all()
    assert viewed and all(name == clinic.manager.username and pid is not None for name, pid in viewed)


def test_dashboard_gives_five_figures_with_six_months_of_trend(clinic: Clinic) -> None:
    figures = {f.name: f for f in clinic.reports.dashboard(clinic.manager, END)}
    assert list(figures) == ["days_in_ar", "denial_rate", "net_collection_rate", "clean_claim_rate", "total_ar"]
    for figure in figures.values():
        assert [m for m, _ in figure.trend] == ["2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"]
        assert figure.report in REPORTS
    assert figures["days_in_ar"].value == D("26.7") and figures["days_in_ar"].better == "down"
    assert figures["total_ar"].value == D("950.00")
    assert dict(figures["denial_rate"].trend)["2026-09"] == D("100.0")
    assert dict(figures["net_collection_rate"].trend)["2026-10"] == D("10.3")
    assert dict(figures["clean_claim_rate"].trend)["2026-09"] == D("100.0")


def test_every_report_runs_and_bad_requests_are_refused(clinic: Clinic) -> None:
    for name in REPORTS:
        report = clinic.report(name)
        assert report.name == name and report.title == REPORTS[name] and report.notes
    with pytest.raises(ValidationFailed, match="no report named 'nope'"):
        clinic.report("nope")
    with pytest.raises(ValidationFailed, match="before it starts"):
        clinic.report("aging", date(2026, 12, 1), END)
    nurse = make_actor(clinic.services, Role.NURSE)
    with pytest.raises(PermissionDenied):
        clinic.reports.report(nurse, "aging", None, END)
    with pytest.raises(PermissionDenied):
        clinic.reports.dashboard(nurse, END)


def test_big_reports_leave_claims_to_drill(clinic: Clinic, monkeypatch: pytest.MonkeyPatch) -> None:
    import infusion_desk.services.reports as module

    monkeypatch.setattr(module, "INLINE_CLAIMS", 2)
    report = clinic.report("aging")
    assert all(row.claim_ids == () for row in report.rows)
    assert clinic.numbers(clinic.reports.drill(clinic.manager, "aging", None, END, ("Insurance",))) == [
        "C1", "C3", "C6"]
    with clinic.services.db.session() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Claim)) == 6
