"""Arbitrary text, dates and numbers through the service validators: findings, never a crash.

The registration, policy and authorization rules return findings for bad input; the
services turn blocking findings into ``ValidationFailed`` and save nothing. Nursing
documentation (an administration's dose, waste, NDC and times) is checked inside
``NursingService.add_administration``. These tests feed them any text (control characters,
NUL, emoji, thousands of characters), any date and number-like text (``1e30``, ``NaN``,
``1.2345``) and check that the pure rules only return findings and that the services either
save the input or raise ``ValidationFailed`` with every table's row count unchanged (SQLite).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infusion_desk.billing.authorizations import check_authorization
from infusion_desk.billing.findings import Finding
from infusion_desk.models import Administration
from infusion_desk.models.base import Base
from infusion_desk.models.enums import (
    AdminClass,
    AdminMethod,
    AuthorizationStatus,
    PayerType,
    PolicyRank,
    Role,
    Sex,
    SubscriberRelationship,
)
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.nursing import AdministrationDraft, NursingService
from infusion_desk.services.patients import PatientInput, PolicyInput, validate_patient, validate_policy
from tests.conftest import make_actor
from tests.services.test_nursing import seed_chair

PURE = 500
"""Inputs per pure rule per CI run."""
SAVED = 40
"""Inputs per service call per CI run (each a database round trip on SQLite)."""

NUMBERS = ("", " ", "0", "-1", "1", "1.5", "0.125", "1e3", "1e-999999999", "NaN", "sNaN", "Infinity", "-inf",
           "0x10", "1_000", "²", "٣", "1,000", "$5", " 12 ", "\x00", "5 mg", "1.2345", "1e30", "1E+999999999",
           "9" * 40, "999999999999.999")
TEXTS = st.one_of(
    st.text(max_size=40),
    st.sampled_from(("", " ", "\x00", "\t\n", "Zebulon\x00", "😀", "O'Brien-Smith", "x" * 5000, "IL", "62701",
                     "62701-1234", "1 Demo St", "Robert'); DROP TABLE patient;--", *NUMBERS)),
)
OPTIONAL_TEXTS = st.none() | TEXTS
DATES = st.one_of(st.dates(), st.sampled_from((date.min, date.max, date(1900, 1, 1), date(2026, 2, 28))))
TODAY = st.dates(date(2000, 1, 1), date(2100, 12, 31))
"""The clinic's clock, not typed input: the rules may count back 130 years from it."""


def only_findings(findings: object) -> None:
    assert isinstance(findings, tuple) and all(isinstance(f, Finding) and f.message.strip() for f in findings)


patients = st.builds(
    PatientInput,
    first_name=TEXTS, last_name=TEXTS, birth_date=DATES, sex=st.sampled_from(Sex), address1=TEXTS, city=TEXTS,
    state=TEXTS, zip_code=TEXTS, middle_name=OPTIONAL_TEXTS, address2=OPTIONAL_TEXTS, phone=OPTIONAL_TEXTS,
    email=OPTIONAL_TEXTS, guarantor_name=OPTIONAL_TEXTS, guarantor_relationship=OPTIONAL_TEXTS,
    guarantor_phone=OPTIONAL_TEXTS, mrn=OPTIONAL_TEXTS,
)


@settings(max_examples=PURE, deadline=None)
@given(data=patients, today=TODAY)
def test_any_registration_form_is_answered_with_findings(data: PatientInput, today: date) -> None:
    only_findings(validate_patient(data, today))


@settings(max_examples=PURE, deadline=None)
@given(
    data=st.builds(
        PolicyInput,
        payer_id=st.integers(), rank=st.sampled_from(PolicyRank), member_id=TEXTS, effective_date=DATES,
        subscriber_relationship=st.sampled_from(SubscriberRelationship), group_number=OPTIONAL_TEXTS,
        plan_name=OPTIONAL_TEXTS, termination_date=st.none() | DATES, subscriber_first_name=OPTIONAL_TEXTS,
        subscriber_last_name=OPTIONAL_TEXTS, subscriber_birth_date=st.none() | DATES,
        subscriber_sex=st.none() | st.sampled_from(Sex), medicare_secondary_type=OPTIONAL_TEXTS,
        claim_filing_indicator=OPTIONAL_TEXTS, subscriber_address1=OPTIONAL_TEXTS,
        subscriber_city=OPTIONAL_TEXTS, subscriber_state=OPTIONAL_TEXTS, subscriber_zip_code=OPTIONAL_TEXTS,
    ),
    payer_type=st.none() | st.sampled_from(PayerType),
)
def test_any_policy_form_is_answered_with_findings(data: PolicyInput, payer_type: PayerType | None) -> None:
    only_findings(validate_policy(data, payer_type))


@settings(max_examples=PURE, deadline=None)
@given(
    number=TEXTS, status=st.sampled_from([s.value for s in AuthorizationStatus]) | TEXTS,
    valid_from=st.none() | DATES, valid_to=st.none() | DATES, codes=st.lists(TEXTS, max_size=4),
    units=st.none() | st.sampled_from(NUMBERS) | TEXTS,
    visits=st.none() | st.sampled_from(NUMBERS) | TEXTS,
)
def test_any_authorization_form_is_answered_with_findings(
    number: str, status: str, valid_from: date | None, valid_to: date | None, codes: list[str],
    units: str | None, visits: str | None,
) -> None:
    findings, parsed_units, parsed_visits = check_authorization(
        number, status, valid_from, valid_to, codes, units, visits
    )
    only_findings(findings)
    if not any(f.blocks for f in findings):
        assert parsed_units is None or parsed_units.is_finite()


# --- through the services, on SQLite ------------------------------------------------------------


def counts(services: Services) -> dict[str, int]:
    with services.db.session() as session:
        return {
            t.name: session.scalar(sa.select(sa.func.count()).select_from(t)) or 0 for t in Base.metadata.sorted_tables
        }


def saved_or_refused(services: Services, call: Callable[[], object]) -> None:
    before = counts(services)
    try:
        call()
    except ValidationFailed as exc:
        assert exc.findings and all(f.message.strip() for f in exc.findings)
        assert counts(services) == before, "a refused form changed the database"


DB_SETTINGS = settings(
    max_examples=SAVED, deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@DB_SETTINGS
@given(data=patients, allow_duplicate=st.booleans())
def test_any_registration_is_saved_or_refused_without_a_trace(
    sqlite_services: Services, data: PatientInput, allow_duplicate: bool
) -> None:
    actor = _actor(sqlite_services, Role.FRONT_DESK)
    saved_or_refused(
        sqlite_services,
        lambda: sqlite_services.patients.register(actor, data, date(2026, 11, 20), allow_duplicate=allow_duplicate),
    )


NOW = datetime.now(UTC).replace(second=0, microsecond=0)
MOMENTS = st.none() | st.sampled_from((NOW - timedelta(hours=2), NOW - timedelta(hours=1), NOW + timedelta(days=1),
                                       datetime(1900, 1, 1, tzinfo=UTC)))


@DB_SETTINGS
@given(
    dose=st.none() | st.sampled_from(NUMBERS) | TEXTS, unit=st.none() | st.sampled_from(("mg", "mL", "kg", "")),
    waste=st.none() | st.sampled_from(NUMBERS), ndc=st.none() | st.sampled_from(("57894-0030-01", "1", "", "x" * 60)),
    start=MOMENTS, stop=MOMENTS, route=st.none() | TEXTS, site=st.none() | TEXTS, with_drug=st.booleans(),
)
def test_any_administration_is_documented_or_refused_without_a_trace(
    sqlite_services: Services, dose: str | None, unit: str | None, waste: str | None, ndc: str | None,
    start: datetime | None, stop: datetime | None, route: str | None, site: str | None, with_drug: bool,
) -> None:
    chair = _chair(sqlite_services)
    nurse = _actor(sqlite_services, Role.NURSE)
    draft = AdministrationDraft(
        method=AdminMethod.INFUSION, drug_id=chair["infliximab"] if with_drug else None,
        admin_class=None if with_drug else AdminClass.HYDRATION, route=route, iv_site=site, dose_amount=dose,
        dose_unit=unit, waste_amount=waste, ndc=ndc, start_at=start, stop_at=stop,
    )
    saved_or_refused(
        sqlite_services, lambda: NursingService(sqlite_services.db).add_administration(nurse, chair["visit"], draft)
    )


_ACTORS: dict[tuple[int, Role], Actor] = {}
_CHAIRS: dict[int, dict[str, int]] = {}


def _actor(services: Services, role: Role) -> Actor:
    """One user of ``role`` per database (hypothesis reuses the fixture's database across examples)."""
    key = (id(services), role)
    if key not in _ACTORS:
        _ACTORS[key] = make_actor(services, role)
    return _ACTORS[key]


def _chair(services: Services) -> dict[str, int]:
    if id(services) not in _CHAIRS:
        _CHAIRS[id(services)] = seed_chair(services)
    return _CHAIRS[id(services)]


@pytest.fixture(autouse=True)
def _forget_arrangements() -> None:
    _ACTORS.clear()
    _CHAIRS.clear()


# --- crashes the fuzzing found, kept as plain examples ------------------------------------------


def refused(services: Services, call: Callable[[], object]) -> list[tuple[str, str]]:
    """The (subject, message) of each finding ``call`` is refused with; nothing was saved."""
    before = counts(services)
    with pytest.raises(ValidationFailed) as refusal:
        call()
    assert counts(services) == before, "a refused form changed the database"
    return [(f.subject, f.message) for f in refusal.value.findings]


@pytest.mark.parametrize("visits", ["1e30", "1E+999999999", "9" * 40, "1000000000000"])
def test_approved_visits_too_large_to_count_are_refused_in_words(visits: str) -> None:
    findings, _, parsed = check_authorization(
        "PA-1", "approved", date(2026, 1, 1), date(2026, 12, 31), ["J1745"], "", visits
    )
    assert [(f.subject, f.message) for f in findings] == [
        ("approved_visits", f"approved_visits: approved visits {visits!r} is too large: no approval reaches a "
         "trillion. Check the number on the payer's letter.")
    ]
    assert parsed is None


def test_approved_units_just_under_a_trillion_are_kept() -> None:
    findings, units, _ = check_authorization(
        "PA-1", "approved", date(2026, 1, 1), date(2026, 12, 31), ["J1745"], "999999999999.999", ""
    )
    assert findings == () and units == Decimal("999999999999.999")


@pytest.mark.parametrize(
    ("field", "amount", "words"),
    [
        ("dose_amount", "1.2345", "Dose 1.2345 has more than 3 decimal places: enter it to at most 3."),
        ("waste_amount", "0.0001", "Waste 0.0001 has more than 3 decimal places: enter it to at most 3."),
        ("waste_amount", "1e30", "Waste 1e30 is too large: check the amount entered (it must be under a trillion)."),
        ("dose_amount", "1E+999999999",
         "Dose 1E+999999999 is too large: check the amount entered (it must be under a trillion)."),
        ("dose_amount", "9" * 40,
         f"Dose {'9' * 40} is too large: check the amount entered (it must be under a trillion)."),
    ],
)
def test_a_dose_or_waste_the_record_cannot_hold_is_refused_in_words(
    sqlite_services: Services, field: str, amount: str, words: str
) -> None:
    chair = _chair(sqlite_services)
    draft = AdministrationDraft(method=AdminMethod.INFUSION, drug_id=chair["infliximab"], dose_unit="mg",
                                **{field: amount})
    nurse = _actor(sqlite_services, Role.NURSE)
    assert refused(sqlite_services, lambda: NursingService(sqlite_services.db).add_administration(
        nurse, chair["visit"], draft)) == [(field, words)]


def test_a_dose_to_the_thousandth_just_under_a_trillion_is_documented(sqlite_services: Services) -> None:
    chair = _chair(sqlite_services)
    draft = AdministrationDraft(method=AdminMethod.INFUSION, drug_id=chair["infliximab"], dose_unit="mg",
                                dose_amount="999999999999.999", waste_amount="1.250")
    service = NursingService(sqlite_services.db)
    admin_id = service.add_administration(_actor(sqlite_services, Role.NURSE), chair["visit"], draft)
    with sqlite_services.db.session() as session:
        admin = session.get(Administration, admin_id)
        assert admin is not None
        assert (admin.dose_amount, admin.waste_amount) == (Decimal("999999999999.999"), Decimal("1.25"))


def test_a_stop_time_without_a_zone_is_refused_in_words(sqlite_services: Services) -> None:
    chair = _chair(sqlite_services)
    draft = AdministrationDraft(method=AdminMethod.INFUSION, drug_id=chair["infliximab"],
                                start_at=NOW - timedelta(hours=2), stop_at=(NOW - timedelta(hours=1)).replace(tzinfo=None))
    nurse = _actor(sqlite_services, Role.NURSE)
    assert refused(sqlite_services, lambda: NursingService(sqlite_services.db).add_administration(
        nurse, chair["visit"], draft)) == [("stop_at", "Times must carry a time zone.")]
