"""A claim line's charge split among insurance, adjustments and the patient, and its one state."""

from __future__ import annotations

import doctest
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from infusion_desk.billing import line_balance as line_balance_module
from infusion_desk.billing.line_balance import (
    IN_COLLECTIONS,
    INSURANCE_PENDING,
    PATIENT_DUE,
    PAYMENT_PLAN,
    SECONDARY_PENDING,
    SETTLED,
    WRITTEN_OFF,
    Decisions,
    Postings,
    line_balance,
)

D = Decimal


def test_worked_example() -> None:
    assert doctest.testmod(line_balance_module).failed == 0


def test_an_unanswered_line_is_the_payers_in_full() -> None:
    balance = line_balance(D("350.00"), Postings(answered=False), Decisions(), next_payer=True)
    assert balance.state == INSURANCE_PENDING
    assert balance.insurance_balance == D("350.00") and balance.patient_responsibility == D("0.00")


def test_coinsurance_goes_to_the_secondary_payer_first_then_to_the_patient() -> None:
    answer = Postings(paid=D("160.00"), patient=D("40.00"), contractual=D("150.00"))
    assert line_balance(D("350.00"), answer, Decisions(), next_payer=True).state == SECONDARY_PENDING
    alone = line_balance(D("350.00"), answer, Decisions(), next_payer=False)
    assert alone.state == PATIENT_DUE and alone.patient_responsibility == D("40.00")
    assert line_balance(D("350.00"), answer, Decisions(), next_payer=False, patient_paid=D("40.00")).state == SETTLED


def test_a_denial_stays_with_insurance_until_someone_decides_and_is_never_adjusted_away_alone() -> None:
    denied = Postings(paid=D("0.00"), denied=D("350.00"))
    working = line_balance(D("350.00"), denied, Decisions(open_denials=1), next_payer=False)
    assert working.state == INSURANCE_PENDING and working.adjusted == D("0.00")
    assert working.insurance_balance == D("350.00")
    transferred = line_balance(D("350.00"), denied, Decisions(transferred=D("350.00")), next_payer=False)
    assert transferred.state == PATIENT_DUE and transferred.patient_responsibility == D("350.00")
    written_off = line_balance(D("350.00"), denied, Decisions(written_off=D("350.00")), next_payer=False)
    assert written_off.state == WRITTEN_OFF and written_off.adjusted == D("350.00")


def test_a_small_patient_balance_written_off_leaves_the_line_written_off() -> None:
    answer = Postings(paid=D("197.00"), patient=D("3.00"), contractual=D("150.00"))
    balance = line_balance(D("350.00"), answer, Decisions(patient_adjusted=D("3.00")), next_payer=False)
    assert balance.state == WRITTEN_OFF
    assert (balance.patient_responsibility, balance.adjusted) == (D("0.00"), D("153.00"))


def test_a_share_on_a_payment_plan_or_in_collections_is_held_there_not_due() -> None:
    answer = Postings(paid=D("160.00"), patient=D("40.00"), contractual=D("150.00"))
    on_plan = line_balance(D("350.00"), answer, Decisions(placement=PAYMENT_PLAN), next_payer=False)
    assert on_plan.state == PAYMENT_PLAN
    handed = line_balance(D("350.00"), answer, Decisions(placement=IN_COLLECTIONS), next_payer=False)
    assert handed.state == IN_COLLECTIONS
    paid_off = line_balance(
        D("350.00"), answer, Decisions(placement=PAYMENT_PLAN), next_payer=False, patient_paid=D("40.00")
    )
    assert paid_off.state == SETTLED
    waiting = line_balance(D("350.00"), answer, Decisions(placement=PAYMENT_PLAN), next_payer=True)
    assert waiting.state == SECONDARY_PENDING  # never placed before the next payer answers


cents = st.integers(min_value=0, max_value=10_000_000).map(lambda c: D(c) / 100)


@given(
    charge=cents, paid=cents, patient=cents, contractual=cents, transferred=cents, written_off=cents,
    patient_adjusted=cents,
)
def test_the_split_always_adds_back_to_the_charge_to_the_cent(
    charge: Decimal, paid: Decimal, patient: Decimal, contractual: Decimal, transferred: Decimal,
    written_off: Decimal, patient_adjusted: Decimal,
) -> None:
    balance = line_balance(
        charge,
        Postings(paid=paid, patient=patient, contractual=contractual),
        Decisions(transferred=transferred, written_off=written_off, patient_adjusted=patient_adjusted),
        next_payer=False,
    )
    total = balance.paid + balance.adjusted + balance.patient_responsibility + balance.insurance_balance
    assert total == charge
    assert balance.state in {INSURANCE_PENDING, SECONDARY_PENDING, PATIENT_DUE, WRITTEN_OFF, SETTLED}
    if balance.insurance_balance > 0:
        assert balance.state == INSURANCE_PENDING  # a patient is never billed while insurance owes
