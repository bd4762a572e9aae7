"""Small builders for coding-engine test visits (the JSON contract of docs/coding-engine.md).

    >>> visit(infusion("a1", "J1745", "09:00", 90, dose=(350, "mg")))["administrations"][0]["stop"]
    '10:30'

A stop given as an integer is a number of minutes after the start. Expected lines are
``(code, units, sorted modifiers)`` tuples made with :func:`L` and compared as a multiset.
Nothing here imports the engine, Qt or SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

DOS = "2026-03-02"

Line = tuple[str, int, tuple[str, ...]]

ADMIN_CODES = frozenset(
    {
        "96360",
        "96361",
        "96365",
        "96366",
        "96367",
        "96368",
        "96369",
        "96370",
        "96371",
        "96372",
        "96373",
        "96374",
        "96375",
        "96376",
        "96377",
        "96401",
        "96402",
        "96409",
        "96411",
        "96413",
        "96415",
        "96416",
        "96417",
        "96521",
        "96522",
        "96523",
        "G0498",
    }
)
INITIAL_CODES = frozenset({"96360", "96365", "96374", "96409", "96413", "96369"})
HOUR_ADDON_CODES = frozenset({"96366", "96415", "96361", "96370"})


def L(code: str, units: int = 1, *modifiers: str) -> Line:  # noqa: N802 - reads like a claim line
    return (code, units, tuple(sorted(modifiers)))


def clock(start: str, minutes: int) -> str:
    """``HH:MM`` plus minutes, on the same day (tests keep visits inside one day)."""
    hours, mins = (int(part) for part in start.split(":"))
    total = hours * 60 + mins + minutes
    assert 0 <= total < 24 * 60, "use ISO date-times for visits that cross midnight"
    return f"{total // 60:02d}:{total % 60:02d}"


def _stop(start: str, stop: str | int | None) -> str | None:
    if isinstance(stop, int):
        return clock(start, stop)
    return stop


def admin(
    aid: str,
    hcpcs: str | None,
    method: str,
    start: str,
    stop: str | int | None = None,
    *,
    dose: tuple[float | int | str, str] | None = None,
    waste: tuple[float | int | str, str] | None = None,
    cls: str | None = None,
    route: str | None = None,
    site: str | None = None,
    encounter: str | None = None,
    bag: str | None = None,
    pauses: Iterable[tuple[str, str]] = (),
    flags: Iterable[str] = (),
    unit: tuple[float | int | str, str] | None = None,
    sdc: bool | None = None,
    bags: Iterable[tuple[str, int]] = (),
    drug: str | None = None,
) -> dict[str, Any]:
    """One administration; ``unit``/``cls``/``sdc`` make the case independent of the catalog."""
    item: dict[str, Any] = {"id": aid, "method": method, "start": start}
    if hcpcs is not None:
        item["hcpcs"] = hcpcs
    if drug is not None:
        item["drug"] = drug
    stop_text = _stop(start, stop)
    if stop_text is not None:
        item["stop"] = stop_text
    if dose is not None:
        item["dose"] = {"amount": dose[0], "unit": dose[1]}
    if waste is not None:
        item["waste"] = {"amount": waste[0], "unit": waste[1]}
    if cls is not None:
        item["admin_class"] = cls
    if route is not None:
        item["route"] = route
    if site is not None:
        item["site"] = site
    if encounter is not None:
        item["encounter"] = encounter
    if bag is not None:
        item["bag"] = bag
    pauses = list(pauses)
    if pauses:
        item["interruptions"] = [{"start": a, "stop": b} for a, b in pauses]
    flags = list(flags)
    if flags:
        item["flags"] = flags
    if unit is not None:
        item["billing_unit"] = {"amount": unit[0], "unit": unit[1]}
    if sdc is not None:
        item["single_dose_container"] = sdc
    bags = list(bags)
    if bags:
        item["bags"] = [{"hcpcs": code, "volume_ml": volume} for code, volume in bags]
    return item


def infusion(aid: str, hcpcs: str | None, start: str, stop: str | int | None, **kw: Any) -> dict[str, Any]:
    return admin(aid, hcpcs, "infusion", start, stop, **kw)


def push(aid: str, hcpcs: str | None, start: str, stop: str | int | None = 2, **kw: Any) -> dict[str, Any]:
    """An IV push; by default it takes 2 minutes."""
    return admin(aid, hcpcs, "push", start, stop, **kw)


def injection(aid: str, hcpcs: str, at: str, *, route: str = "SC", **kw: Any) -> dict[str, Any]:
    return admin(aid, hcpcs, "injection", at, None, route=route, **kw)


def hydration(aid: str, start: str, stop: str | int | None, **kw: Any) -> dict[str, Any]:
    """Normal saline given for hydration (no drug HCPCS, so no drug line)."""
    return admin(aid, None, "infusion", start, stop, cls="hydration", drug="normal saline", **kw)


def flush(aid: str, start: str, stop: str | int | None, **kw: Any) -> dict[str, Any]:
    """KVO or flush fluid: never billed (coding-rules §4, §11)."""
    return admin(aid, None, "infusion", start, stop, cls="flush", drug="normal saline KVO", **kw)


def visit(
    *administrations: dict[str, Any],
    payer: str = "medicare",
    payer_name: str | None = None,
    primary: str | None = None,
    em: tuple[str, bool] | None = None,
) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "payer": {"type": payer} if payer_name is None else {"type": payer, "name": payer_name},
        "date_of_service": DOS,
        "diagnoses": ["K50.90"],
        "administrations": list(administrations),
    }
    if primary is not None:
        payload["primary_reason"] = primary
    if em is not None:
        payload["evaluation_and_management"] = {
            "code": em[0],
            "significant_separately_identifiable": em[1],
        }
    return payload


def billed(result: Mapping[str, Any]) -> list[Line]:
    """The result's lines as a sorted multiset of (code, units, sorted modifiers)."""
    return sorted(
        (str(line["code"]), int(line["units"]), tuple(sorted(line.get("modifiers") or ())))
        for line in result["lines"]
    )


def warning_codes(result: Mapping[str, Any]) -> set[str]:
    return {str(w["code"]) for w in result.get("warnings") or ()}


def is_drug_code(code: str) -> bool:
    return code[:1] in ("J", "Q")
