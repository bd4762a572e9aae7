"""Properties of the coding engine over random visits (Hypothesis).

Visits are one site and one encounter, 1-5 administrations of random class, method and time,
no flags, each drug with an explicit billing unit so nothing depends on the catalog. The
properties come from coding-rules §3.1 (one initial code per encounter), §5 (added hours grow
with time), §3.3 (the initial service is chosen irrespective of order) and §12.1 (units =
dose / unit size, rounded up).
"""

from __future__ import annotations

import random
from decimal import ROUND_CEILING, Decimal
from typing import Any, NamedTuple

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infusion_desk.billing.coding import code_json
from tests.billing.coding_cases import HOUR_ADDON_CODES, INITIAL_CODES, admin, billed, visit

# Drug codes that are not in resources/drug_catalog.json, so the administration's own
# admin_class / billing_unit / single_dose_container are what the engine reads.
POOL = ("J9370", "J9190", "J9070", "J9000", "J3370", "J0696", "J2060", "J2543")
DRUG_CLASSES = ("chemotherapy", "complex_biologic", "therapeutic")
BASE = 7 * 60  # 07:00 on the date of service

SETTINGS = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


def iso(minute: int) -> str:
    """Minutes after midnight of 2026-03-02 as an ISO date-time (visits may pass midnight)."""
    day, rest = divmod(minute, 24 * 60)
    return f"2026-03-{2 + day:02d}T{rest // 60:02d}:{rest % 60:02d}"


class Spec(NamedTuple):
    cls: str  # a DRUG_CLASSES value or "hydration"
    method: str  # infusion, push, injection
    start: int  # minutes after BASE
    minutes: int  # ignored for injections

    @property
    def is_iv_drug(self) -> bool:
        return self.cls != "hydration" and self.method in ("infusion", "push")


def build(specs: list[Spec], order: list[int] | None = None) -> dict[str, Any]:
    items = []
    for index, spec in enumerate(specs):
        start = BASE + spec.start
        aid = f"a{index}"
        if spec.cls == "hydration":
            item = admin(
                aid, None, "infusion", iso(start), iso(start + spec.minutes), cls="hydration", bag=f"b{index}"
            )
        elif spec.method == "injection":
            item = admin(
                aid,
                POOL[index],
                "injection",
                iso(start),
                None,
                route="SC",
                cls=spec.cls,
                dose=(10 * (index + 1), "mg"),
                unit=(1, "mg"),
                sdc=False,
            )
        else:
            item = admin(
                aid,
                POOL[index],
                spec.method,
                iso(start),
                iso(start + spec.minutes),
                cls=spec.cls,
                dose=(10 * (index + 1), "mg"),
                unit=(1, "mg"),
                sdc=False,
                bag=f"b{index}",
            )
        items.append(item)
    if order is not None:
        items = [items[i] for i in order]
    return visit(*items)


@st.composite
def spec_strategy(draw: st.DrawFn, start: int | None = None) -> Spec:
    cls = draw(st.sampled_from((*DRUG_CLASSES, "hydration")))
    method = "infusion" if cls == "hydration" else draw(st.sampled_from(("infusion", "push", "injection")))
    if method == "push":
        minutes = draw(st.integers(1, 15))
    elif method == "injection":
        minutes = 1
    else:
        minutes = draw(st.integers(1, 300))
    if start is None:
        start = draw(st.integers(0, 120)) * 5  # a 5-minute grid makes equal start times likely
    return Spec(cls, method, start, minutes)


visits = st.lists(spec_strategy(), min_size=1, max_size=5)


@st.composite
def sequential_visits(draw: st.DrawFn) -> list[Spec]:
    """Administrations one after another (gaps of 0-30 min), so none overlaps another."""
    count = draw(st.integers(1, 5))
    specs: list[Spec] = []
    clock = 0
    for _ in range(count):
        clock += draw(st.integers(0, 30))
        spec = draw(spec_strategy(start=clock))
        specs.append(spec)
        clock = spec.start + spec.minutes
    return specs


def initial_units(result: dict[str, Any]) -> int:
    return sum(units for code, units, _ in billed(result) if code in INITIAL_CODES)


def addon_hours(result: dict[str, Any]) -> int:
    return sum(units for code, units, _ in billed(result) if code in HOUR_ADDON_CODES)


# (a) coding-rules §3.1 R-RAC71 / NCCI XI: one "initial" code per encounter.
@SETTINGS
@given(visits)
def test_at_most_one_initial_code_and_exactly_one_with_an_iv_drug(specs: list[Spec]) -> None:
    result = code_json(build(specs))
    count = initial_units(result)
    assert count <= 1, billed(result)
    if any(spec.is_iv_drug for spec in specs):
        # an IV push or infusion of a drug is always billable, so the encounter has its initial
        assert count == 1, billed(result)
    if all(spec.method == "injection" for spec in specs):
        # injections are never "initial" (docs/coding-engine.md "Initial service")
        assert count == 0, billed(result)


# (b) coding-rules §5: added hours depend only on running time, which only grows. The visit is
# sequential and the later administrations move by the same amount, so no new overlap appears
# (an overlap could turn a later infusion concurrent, or swallow hydration minutes).
@SETTINGS
@given(sequential_visits(), st.data())
def test_a_longer_infusion_never_loses_added_hours(specs: list[Spec], data: st.DataObject) -> None:
    infusions = [i for i, spec in enumerate(specs) if spec.method == "infusion"]
    if not infusions:
        return
    target = data.draw(st.sampled_from(infusions), label="target")
    extra = data.draw(st.integers(1, 240), label="extra minutes")
    longer = []
    for i, spec in enumerate(specs):
        if i == target:
            spec = spec._replace(minutes=spec.minutes + extra)
        elif i > target:
            spec = spec._replace(start=spec.start + extra)
        longer.append(spec)
    before = code_json(build(specs))
    after = code_json(build(longer))
    assert addon_hours(after) >= addon_hours(before), (billed(before), billed(after))


# (c) coding-rules §3.3: the initial service is chosen "irrespective of the order"; the listing
# order of the administrations carries no meaning at all.
@SETTINGS
@given(visits, st.randoms(use_true_random=False))
def test_result_does_not_depend_on_listing_order(specs: list[Spec], rnd: random.Random) -> None:
    order = list(range(len(specs)))
    rnd.shuffle(order)
    assert billed(code_json(build(specs, order))) == billed(code_json(build(specs)))


# (d) coding-rules §12.1 R-CGS-JWJZ: units = ceil(dose in the billing unit / unit size).
FACTOR = {
    ("mg", "mg"): Decimal(1),
    ("g", "mg"): Decimal(1000),
    ("mcg", "mg"): Decimal("0.001"),
    ("mg", "mcg"): Decimal(1000),
    ("mcg", "mcg"): Decimal(1),
    ("g", "mcg"): Decimal(1_000_000),
}
UNIT_SIZES = ("0.1", "0.5", "1", "2", "7.5", "10", "25", "50", "100", "125", "500", "1000")


@SETTINGS
@given(
    tenths=st.integers(1, 50_000),
    dose_unit=st.sampled_from(("mg", "g", "mcg")),
    size=st.sampled_from(UNIT_SIZES),
    size_unit=st.sampled_from(("mg", "mcg")),
    method=st.sampled_from(("infusion", "push", "injection")),
    cls=st.sampled_from(DRUG_CLASSES),
    sdc=st.booleans(),
    payer=st.sampled_from(("medicare", "commercial")),
)
def test_drug_units_are_dose_over_unit_rounded_up(
    tenths: int, dose_unit: str, size: str, size_unit: str, method: str, cls: str, sdc: bool, payer: str
) -> None:
    dose = Decimal(tenths) / 10
    expected = int(
        (dose * FACTOR[(dose_unit, size_unit)] / Decimal(size)).to_integral_value(rounding=ROUND_CEILING)
    )
    payload = visit(
        admin(
            "a1",
            "J9370",
            method,
            "09:00",
            None if method == "injection" else "09:45",
            route="SC" if method == "injection" else "IV",
            cls=cls,
            dose=(float(dose), dose_unit),
            unit=(size, size_unit),
            sdc=sdc,
        ),
        payer=payer,
    )
    result = code_json(payload)
    drug_lines = [line for line in billed(result) if line[0] == "J9370"]
    assert drug_lines, result
    assert [units for _, units, mods in drug_lines if "JW" not in mods] == [expected], (dose, dose_unit, size)
    assert not [line for line in drug_lines if "JW" in line[2]]  # nothing was wasted
