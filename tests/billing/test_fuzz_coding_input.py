"""Hostile input to the coding contract (``infusion-desk code``): only ``CodingInputError`` comes out.

``code_json`` reads a visit as parsed JSON; ``parse_visit`` documents that malformed input
raises :class:`CodingInputError` naming the field. These tests take visits built with the
coding test builders (infusions with pauses, bags, doses and waste, pushes, injections,
hydration, an E/M) and mutate the JSON tree: a value anywhere replaced with any JSON value
(wrong types, ``NaN``, ``1e308``, huge integers, odd times and dates), keys deleted or added,
lists emptied or duplicated. The engine must then either code the visit or refuse it with a
message naming the field; never a ``TypeError``, ``KeyError`` or ``InvalidOperation``.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from infusion_desk.billing.coding import CodingInputError, code_json
from tests.billing.coding_cases import hydration, infusion, injection, push, visit

EXAMPLES = 1000
"""Mutated visits per CI run."""

SEEDS: tuple[dict[str, Any], ...] = (
    visit(
        infusion("a1", "J1745", "09:00", 150, dose=(365, "mg"), waste=(35, "mg"), pauses=[("09:30", "09:40")]),
        push("a2", "J2405", "08:50", dose=(8, "mg")),
        hydration("a3", "08:30", 25, bags=[("J7050", 500)]),
        primary="a1",
        em=("99213", True),
    ),
    visit(
        infusion("b1", "J9035", "2026-03-02T13:00:00+00:00", "2026-03-02T14:40:00+00:00", cls="chemotherapy",
                 dose=("400", "mg"), unit=(10, "mg"), sdc=True, encounter="2", site="left arm", bag="A"),
        injection("b2", "J0897", "2026-03-02T15:00:00+00:00", dose=(60, "mg"), flags=["hormonal_antineoplastic"]),
        payer="commercial",
        payer_name="Fictional Health Plan",
    ),
)

TIMES = ("09:00", "9:5", "24:00", "-1:30", "00:60", "1:2:3", "", "noon", "2026-03-02T25:00", "2026-03-02",
         "2026-03-02T09:00:00+14:00", "2026-03-02T09:00:00-23:59", "0001-01-01T00:00", "9999-12-31T23:59:59",
         "٠٩:٠٠", "²:00", "2026-03-02T09:00:00Z")
ODD = st.sampled_from((
    None, True, False, 0, -1, 10**30, 10**100, 1e308, -1e-308, float("nan"), float("inf"), "NaN", "Infinity",
    "1e999999999", "-0", "", " ", "J1745", "j1745", "J17455", "96413", "K50.90", "mg", "units", "mL", "g",
    "infusion", "push", "injection", "IV", "SC", "chemotherapy", "hydration", "medicare", "a1", "b1",
    *TIMES, [], {}, [None], {"": None}, ["a1"], {"amount": 1, "unit": "mg"}, {"start": "09:00", "stop": "09:10"},
))
_JSON = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=12), ODD),
    lambda children: st.one_of(st.lists(children, max_size=3),
                               st.dictionaries(st.text(max_size=8), children, max_size=3)),
    max_leaves=8,
).map(copy.deepcopy)  # ODD's lists and dicts are shared objects: a mutation must not change them
KEYS = ("id", "method", "start", "stop", "hcpcs", "drug", "dose", "waste", "billing_unit", "admin_class", "route",
        "site", "encounter", "bag", "interruptions", "bags", "flags", "single_dose_container", "ndc", "amount",
        "unit", "volume_ml", "payer", "type", "name", "date_of_service", "diagnoses", "administrations",
        "primary_reason", "evaluation_and_management", "code", "significant_separately_identifiable")


def _containers(node: Any, found: list[Any]) -> list[Any]:
    if isinstance(node, dict | list):
        found.append(node)
        for child in node.values() if isinstance(node, dict) else node:
            _containers(child, found)
    return found


@st.composite
def mutated_visit(draw: st.DrawFn) -> Any:
    payload = copy.deepcopy(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 4))):
        containers = _containers(payload, [])
        node = draw(st.sampled_from(containers))
        operation = draw(st.sampled_from(("replace", "replace", "replace", "delete", "add", "copy")))
        if isinstance(node, dict):
            key = draw(st.sampled_from(sorted(node))) if node else draw(st.sampled_from(KEYS))
            if operation == "delete":
                node.pop(key, None)
            elif operation == "add":
                node[draw(st.sampled_from(KEYS))] = draw(_JSON)
            elif operation == "copy" and key in node:
                other = draw(st.sampled_from(containers))
                if isinstance(other, dict):
                    other[key] = copy.deepcopy(node[key])
            else:
                node[key] = draw(_JSON)
        elif node:
            at = draw(st.integers(0, len(node) - 1))
            if operation == "delete":
                del node[at]
            elif operation in ("add", "copy"):
                node.insert(at, copy.deepcopy(node[at]))
            else:
                node[at] = draw(_JSON)
        else:
            node.append(draw(_JSON))
    if draw(st.integers(0, 9)) == 0:
        payload = draw(_JSON)
    return payload


def coded_or_refused(payload: Any) -> None:
    try:
        result = code_json(payload)
    except CodingInputError as exc:
        assert exc.field and exc.message, "a refusal must name the field and say what to fix"
    else:
        json.dumps(result)  # the CLI prints it


def test_the_seed_visits_are_coded() -> None:
    for seed in SEEDS:
        assert code_json(copy.deepcopy(seed))["lines"]


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(payload=mutated_visit())
def test_a_mutated_visit_is_coded_or_refused_naming_the_field(payload: Any) -> None:
    coded_or_refused(payload)


# --- crashes the fuzzing found, kept as plain examples ------------------------------------------


def refusal(payload: Any) -> CodingInputError:
    with pytest.raises(CodingInputError) as caught:
        code_json(payload)
    return caught.value


def one_infusion(**changes: Any) -> dict[str, Any]:
    payload = visit(infusion("a1", "J1745", "09:00", 150, dose=(365, "mg"), pauses=[("09:30", "09:40")]),
                    hydration("a2", "08:30", 25, bags=[("J7050", 500)]))
    payload["administrations"][0].update(changes)
    return payload


def test_a_payer_name_that_is_not_a_string_names_the_field() -> None:
    # TypeError "unhashable type: 'dict'" while looking up the payer's settings, before the fix
    payload = visit(infusion("a1", "J1745", "09:00", 90, dose=(350, "mg")), payer_name="x")
    payload["payer"]["name"] = {"plan": "Fictional"}
    assert str(refusal(payload)) == "payer.name: must be a string"


@pytest.mark.parametrize("key", ["interruptions", "bags"])
def test_pauses_or_bags_that_are_not_a_list_name_the_field(key: str) -> None:
    # TypeError "'int' object is not iterable" before the fix
    assert str(refusal(one_infusion(**{key: -1546}))) == f"administrations[0].{key}: must be a list"


@pytest.mark.parametrize(
    "changes",
    [
        {"stop": "2026-03-02T11:30:00+00:00"},
        {"interruptions": [{"start": "09:30", "stop": "2026-03-02T09:00:00+14:00"}]},
    ],
)
def test_a_stop_or_pause_with_a_utc_offset_beside_a_start_without_one_is_refused(changes: dict[str, Any]) -> None:
    # TypeError "can't compare offset-naive and offset-aware datetimes" inside the engine before the fix
    assert str(refusal(one_infusion(**changes))) == (
        "administrations: mix of times with and without a UTC offset; use one form"
    )
