"""The coding engine: a visit's documented administrations become CPT/HCPCS service lines.

    >>> result = code_json({
    ...     "payer": {"type": "medicare"}, "date_of_service": "2026-03-02",
    ...     "diagnoses": ["K50.90"],
    ...     "administrations": [{"id": "a1", "hcpcs": "J1745", "method": "infusion",
    ...                          "start": "09:02", "stop": "11:10",
    ...                          "dose": {"amount": 365, "unit": "mg"},
    ...                          "waste": {"amount": 35, "unit": "mg"}}]})
    >>> [(line["code"], line["units"], line["modifiers"]) for line in result["lines"]]
    [('96413', 1, []), ('96415', 1, []), ('J1745', 37, []), ('J1745', 3, ['JW'])]
    >>> result["lines"][1]["explanation"]
    '96415 x1: infliximab ran 09:02-11:10, 128 min; 68 min past the first hour, more than 30'

Every line explains itself so a coder can check it. The rules and the choices made
where sources disagree are in ``docs/coding-engine.md``; each rule cites
``../shared/domain/coding-rules.md``. :func:`code_visit` is pure: frozen inputs in,
frozen lines out, no database, no clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import IntEnum
from typing import Any

from infusion_desk.billing.coding_input import (
    FLUID_CODES,
    KNOWN_FLAGS,
    NOC_CODES,
    AdministrationInput,
    Amount,
    CodingInputError,
    CodingTables,
    DrugInfo,
    Interval,
    PayerSettings,
    VisitInput,
    parse_visit,
)

__all__ = [
    "CodingInputError",
    "CodingResult",
    "CodingWarning",
    "ServiceLine",
    "code_json",
    "code_visit",
    "hour_addon_units",
    "secondary_hydration_units",
]

INITIAL_CODES = frozenset({"96360", "96365", "96369", "96374", "96409", "96413", "96416"})
ADMINISTRATION_PREFIXES = ("963", "964", "965")
_MASS_TO_MG = {"mg": Decimal(1), "g": Decimal(1000), "mcg": Decimal("0.001")}


@dataclass(frozen=True, slots=True)
class ServiceLine:
    code: str
    units: int
    modifiers: tuple[str, ...]
    administrations: tuple[str, ...]
    explanation: str
    diagnosis_pointers: tuple[int, ...] = ()
    ndc: str | None = None
    ndc_quantity: Decimal | None = None
    ndc_unit: str | None = None


@dataclass(frozen=True, slots=True)
class CodingWarning:
    code: str
    message: str


@dataclass(frozen=True, slots=True)
class CodingResult:
    lines: tuple[ServiceLine, ...]
    warnings: tuple[CodingWarning, ...]


class Tier(IntEnum):
    """Rank in the hierarchy: lower wins the initial service (coding-rules §3.3, §21)."""

    CHEMO = 0
    THERAPEUTIC = 1
    HYDRATION = 2
    FLUSH = 3


class Kind(IntEnum):
    INFUSION = 0
    PUSH = 1
    SC_INFUSION = 2
    INJECTION = 3


# --- time rules (coding-rules §5) ----------------------------------------------------------


def hour_addon_units(minutes: int) -> int:
    """Additional hours after a first hour: a new hour starts at the 91st, 151st... minute."""
    return 0 if minutes < 91 else (minutes - 91) // 60 + 1


def secondary_hydration_units(minutes: int) -> int:
    """96361 units for hydration after a different initial service (31 minutes make an hour)."""
    return 0 if minutes < 31 else (minutes - 31) // 60 + 1


def _clock(moment: datetime) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


def _hours_explanation(
    code: str, units: int, name: str, start: datetime, stop: datetime, minutes: int
) -> str:
    past = minutes - 60 * units
    if units == 1:
        detail = f"{minutes - 60} min past the first hour, more than 30"
    else:
        detail = f"{units} hours past the first hour, the last one {past} min long, more than 30"
    return f"{code} x{units}: {name} ran {_clock(start)}-{_clock(stop)}, {minutes} min; {detail}"


# --- normalised services -------------------------------------------------------------------


@dataclass(frozen=True)
class Service:
    """One administration as the rules see it (administrations mixed in one bag are one service)."""

    ids: tuple[str, ...]
    tier: Tier
    kind: Kind
    start: datetime
    stop: datetime
    minutes: int
    site: str
    encounter: str
    hcpcs: frozenset[str]
    name: str
    flags: frozenset[str]
    running: tuple[Interval, ...]
    order: int  # position in the input, for stable tie-breaks


@dataclass
class _Builder:
    """Collects lines and warnings while a visit is coded."""

    lines: list[tuple[tuple[Any, ...], ServiceLine]] = field(default_factory=list)
    warnings: list[CodingWarning] = field(default_factory=list)

    def add(self, sort_key: tuple[Any, ...], line: ServiceLine) -> None:
        self.lines.append((sort_key, line))

    def warn(self, code: str, message: str) -> None:
        warning = CodingWarning(code, message)
        if warning not in self.warnings:
            self.warnings.append(warning)


def _drug_info(admin: AdministrationInput, catalog: Mapping[str, DrugInfo]) -> DrugInfo | None:
    if admin.hcpcs is None:
        return None
    return catalog.get(admin.hcpcs)


def _tier(admin: AdministrationInput, info: DrugInfo | None, payer: PayerSettings) -> Tier:
    admin_class = admin.admin_class or (info.admin_class if info else None)
    if admin_class is None:
        if admin.hcpcs in FLUID_CODES:
            admin_class = "hydration"
        else:
            raise CodingInputError(
                f"administrations[{admin.id}].admin_class",
                "is needed when the HCPCS code is missing or not in the catalog",
            )
    if admin.hcpcs and admin.hcpcs in payer.chemo_admin_hcpcs:
        return Tier.CHEMO
    if admin.hcpcs and admin.hcpcs in payer.therapeutic_admin_hcpcs:
        return Tier.THERAPEUTIC
    if admin_class == "chemotherapy":
        return Tier.CHEMO
    if admin_class == "complex_biologic":
        return Tier.CHEMO if payer.complex_biologic_admin == "chemo" else Tier.THERAPEUTIC
    if admin_class == "therapeutic":
        return Tier.THERAPEUTIC
    if admin_class == "hydration":
        return Tier.HYDRATION
    return Tier.FLUSH


def _running(admin: AdministrationInput, stop: datetime) -> tuple[Interval, ...] | None:
    """The stretches the substance actually ran, or ``None`` when the pauses do not fit."""
    pieces: list[Interval] = []
    cursor = admin.start
    for pause in sorted(admin.interruptions, key=lambda p: p.start):
        if pause.start < cursor or pause.stop < pause.start or pause.stop > stop:
            return None
        pieces.append(Interval(cursor, pause.start))
        cursor = pause.stop
    pieces.append(Interval(cursor, stop))
    return tuple(p for p in pieces if p.stop > p.start)


def _union(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Merge overlapping stretches (drugs mixed in one bag ran as one infusion)."""
    merged: list[Interval] = []
    for piece in sorted(intervals, key=lambda i: i.start):
        if merged and piece.start <= merged[-1].stop:
            if piece.stop > merged[-1].stop:
                merged[-1] = Interval(merged[-1].start, piece.stop)
        else:
            merged.append(piece)
    return tuple(merged)


def _minutes(intervals: Iterable[Interval]) -> int:
    return int(sum(((i.stop - i.start) for i in intervals), timedelta()).total_seconds() // 60)


def _display_name(admin: AdministrationInput, info: DrugInfo | None) -> str:
    return admin.drug or (info.name if info else None) or admin.hcpcs or admin.id


def _normalise(
    visit: VisitInput, catalog: Mapping[str, DrugInfo], payer: PayerSettings, out: _Builder
) -> tuple[list[Service], set[str]]:
    """Turn administrations into services; return them and the ids that could not be coded."""
    singles: list[tuple[AdministrationInput, Service]] = []
    invalid: set[str] = set()
    for order, admin in enumerate(visit.administrations):
        for flag in admin.flags:
            if flag not in KNOWN_FLAGS:
                out.warn("UNKNOWN_FLAG", f"{admin.id}: flag {flag!r} is not known and was not used.")
        info = _drug_info(admin, catalog)
        tier = _tier(admin, info, payer)
        name = _display_name(admin, info)
        stop = admin.stop
        if stop is None:
            if admin.method == "infusion":
                out.warn("INVALID_TIMES", f"{admin.id} ({name}): an infusion needs a stop time; not coded.")
                invalid.add(admin.id)
                continue
            stop = admin.start
        if stop < admin.start:
            out.warn(
                "INVALID_TIMES",
                f"{admin.id} ({name}): stop {_clock(stop)} is before start {_clock(admin.start)}; not coded.",
            )
            invalid.add(admin.id)
            continue
        running = _running(admin, stop)
        if running is None:
            out.warn(
                "INVALID_TIMES",
                f"{admin.id} ({name}): an interruption falls outside the infusion; not coded.",
            )
            invalid.add(admin.id)
            continue
        minutes = _minutes(running)
        flags = frozenset(admin.flags)
        if "discontinued_for_reaction" in flags:
            out.warn(
                "DISCONTINUED_INFUSION",
                f"{admin.id} ({name}) was stopped for a reaction after {minutes} min and is coded by the "
                "documented time; some payers want the intended service with modifier 53. Review.",
            )
        if admin.route in ("SC", "IM", "ID") and admin.method == "injection":
            kind = Kind.INJECTION
        elif admin.route == "SC" and admin.method == "infusion":
            kind = Kind.SC_INFUSION
        elif admin.method == "infusion":
            kind = Kind.PUSH if minutes <= 15 and tier < Tier.HYDRATION else Kind.INFUSION
        elif admin.method == "push" and minutes > 15 and "continuously_present" not in flags:
            out.warn(
                "PUSH_OVER_15_MIN",
                f"{admin.id} ({name}): a push of {minutes} min without the nurse continuously present "
                "is coded as an infusion.",
            )
            kind = Kind.INFUSION
        else:
            kind = Kind.PUSH
        service = Service(
            ids=(admin.id,),
            tier=tier,
            kind=kind,
            start=admin.start,
            stop=stop,
            minutes=minutes,
            site=admin.site,
            encounter=admin.encounter,
            hcpcs=frozenset({admin.hcpcs} if admin.hcpcs else ()),
            name=name,
            flags=flags,
            running=running,
            order=order,
        )
        singles.append((admin, service))

    # Administrations mixed in one bag are one infusion (coding-rules §4, R-ASCO-CONC).
    services: list[Service] = []
    bags: dict[tuple[str, str], list[Service]] = {}
    for admin, service in singles:
        if admin.bag is None:
            services.append(service)
        else:
            bags.setdefault((admin.encounter, admin.bag), []).append(service)
    for members in bags.values():
        if len(members) == 1:
            services.append(members[0])
            continue
        drugs = [m for m in members if m.tier < Tier.HYDRATION] or members
        start = min(m.start for m in members)
        stop = max(m.stop for m in members)
        running = _union(i for m in members for i in m.running)
        minutes = _minutes(running)
        longest = max(members, key=lambda m: m.minutes)
        tier = min(m.tier for m in members)
        kind = Kind.PUSH if minutes <= 15 and tier < Tier.HYDRATION else longest.kind
        services.append(
            Service(
                ids=tuple(i for m in members for i in m.ids),
                tier=tier,
                kind=kind,
                start=start,
                stop=stop,
                minutes=minutes,
                site=members[0].site,
                encounter=members[0].encounter,
                hcpcs=frozenset().union(*(m.hcpcs for m in drugs)),
                name=" + ".join(m.name for m in drugs),
                flags=frozenset().union(*(m.flags for m in members)),
                running=running,
                order=min(m.order for m in members),
            )
        )
    services = _join_same_drug_infusions(services)
    services.sort(key=lambda s: (s.start, s.order))
    return services, invalid


def _join_same_drug_infusions(services: list[Service]) -> list[Service]:
    """One drug infused in several bags, or restarted, is one infusion: its running times add up.

    Coding-rules §4 (R-AAPC-RITUX-PAUSE) and §5: count the minutes the substance actually ran.
    """
    joined: dict[tuple[str, str, frozenset[str], Tier], Service] = {}
    result: list[Service] = []
    for service in sorted(services, key=lambda s: (s.start, s.order)):
        if service.kind is not Kind.INFUSION or not service.hcpcs or service.tier >= Tier.HYDRATION:
            result.append(service)
            continue
        key = (service.encounter, service.site, service.hcpcs, service.tier)
        earlier = joined.get(key)
        if earlier is None:
            joined[key] = service
            continue
        running = _union((*earlier.running, *service.running))
        joined[key] = replace(
            earlier,
            ids=earlier.ids + service.ids,
            stop=max(earlier.stop, service.stop),
            minutes=_minutes(running),
            running=running,
            flags=earlier.flags | service.flags,
        )
    return result + list(joined.values())


# --- administration codes ------------------------------------------------------------------


def _overlap_minutes(a: Iterable[Interval], b: Iterable[Interval]) -> int:
    total = timedelta()
    b_list = list(b)
    for x in a:
        for y in b_list:
            start, stop = max(x.start, y.start), min(x.stop, y.stop)
            if stop > start:
                total += stop - start
    return int(total.total_seconds() // 60)


def _subtract(pieces: Iterable[Interval], cuts: Iterable[Interval]) -> list[Interval]:
    result = list(pieces)
    for cut in cuts:
        next_result: list[Interval] = []
        for piece in result:
            if cut.stop <= piece.start or cut.start >= piece.stop:
                next_result.append(piece)
                continue
            if cut.start > piece.start:
                next_result.append(Interval(piece.start, cut.start))
            if cut.stop < piece.stop:
                next_result.append(Interval(cut.stop, piece.stop))
        result = next_result
    return result


def _rank(service: Service) -> tuple[int, int]:
    """Hierarchy: chemo infusion > chemo push > therapeutic infusion > therapeutic push > SC > hydration."""
    if service.tier is Tier.HYDRATION:
        return (9, 0)
    kind_rank = {Kind.INFUSION: 0, Kind.PUSH: 1, Kind.SC_INFUSION: 2}[service.kind]
    if service.kind is Kind.SC_INFUSION:
        return (4, 0)
    return (int(service.tier) * 2 + kind_rank, 0)


@dataclass
class _Encounter:
    label: str
    index: int
    services: list[Service]


def _initial_line(
    service: Service,
    minutes: int,
    modifiers: tuple[str, ...],
    payer_type: str,
    out: _Builder,
    key: tuple[Any, ...],
) -> None:
    """Lines for the initial service of a group: the initial code and its hour add-on."""
    name, start, stop = service.name, service.start, service.stop
    ids = service.ids
    span = f"{_clock(start)}-{_clock(stop)}"
    if service.tier is Tier.HYDRATION:
        out.add(
            key + (0,),
            ServiceLine(
                "96360",
                1,
                modifiers,
                ids,
                f"96360 x1: hydration ran {minutes} min of its own (31 min or more), the initial service",
            ),
        )
        hours = hour_addon_units(minutes)
        if hours:
            out.add(
                key + (1,),
                ServiceLine(
                    "96361",
                    hours,
                    (),
                    ids,
                    f"96361 x{hours}: hydration {minutes} min; {hours} hour(s) past the first, "
                    "each more than 30 min",
                ),
            )
        return
    if service.kind is Kind.SC_INFUSION:
        out.add(
            key + (0,),
            ServiceLine(
                "96369",
                1,
                modifiers,
                ids,
                f"96369 x1: {name} subcutaneous infusion {span}, {minutes} min, the initial service",
            ),
        )
        hours = hour_addon_units(minutes)
        if hours:
            out.add(
                key + (1,),
                ServiceLine(
                    "96370", hours, (), ids, _hours_explanation("96370", hours, name, start, stop, minutes)
                ),
            )
        return
    chemo = service.tier is Tier.CHEMO
    if service.kind is Kind.PUSH:
        code = "96409" if chemo else "96374"
        if service.minutes > 15:
            how = f"{minutes} min with the nurse continuously present"
        elif service.stop > service.start:
            how = f"{minutes} min, 15 or less"
        else:
            how = "a push"
        out.add(
            key + (0,),
            ServiceLine(
                code,
                1,
                modifiers,
                ids,
                f"{code} x1: {name} IV push at {_clock(start)} ({how}), the initial service",
            ),
        )
        return
    if chemo and "pump_initiation" in service.flags:
        out.add(
            key + (0,),
            ServiceLine(
                "96416",
                1,
                modifiers,
                ids,
                f"96416 x1: {name} prolonged infusion started on a pump at {_clock(start)}",
            ),
        )
        if payer_type == "medicare":
            out.warn("PUMP_G0498", f"{name}: Medicare pays an office-initiated pump as G0498; check.")
        return
    code, addon = ("96413", "96415") if chemo else ("96365", "96366")
    family = "chemotherapy/complex" if chemo else "therapeutic"
    out.add(
        key + (0,),
        ServiceLine(
            code,
            1,
            modifiers,
            ids,
            f"{code} x1: {name} ran {span}, {minutes} min ({family} infusion, 16 min or more), "
            "the initial service",
        ),
    )
    hours = hour_addon_units(minutes)
    if hours:
        out.add(
            key + (1,),
            ServiceLine(addon, hours, (), ids, _hours_explanation(addon, hours, name, start, stop, minutes)),
        )


def _code_group(
    group: list[Service],
    hydration: list[Service],
    encounter: _Encounter,
    modifiers: tuple[str, ...],
    visit: VisitInput,
    payer: PayerSettings,
    out: _Builder,
    all_infusions: list[Service],
) -> bool:
    """Code one initial group (an encounter, or a required separate site). Return True if coded."""
    key = (0, encounter.index)
    # Hydration minutes: only what does not overlap another infusion (coding-rules §6, NCCI XI B.5).
    drug_running = [i for s in all_infusions for i in s.running]
    # Bags running side by side are one stretch of hydration: count clock time, not bag time.
    hydration_running = _union(i for h in hydration for i in h.running)
    hydration_pieces = _subtract(hydration_running, drug_running)
    hydration_minutes = _minutes(hydration_pieces)
    overlapped = _minutes(hydration_running) - hydration_minutes
    if hydration and overlapped > 0:
        out.warn(
            "HYDRATION_CONCURRENT",
            f"{overlapped} min of hydration ran at the same time as another infusion and do not count.",
        )
    if len(hydration) > 1:
        first, last = hydration[0], hydration[-1]
        between = [s for s in group if s.tier < Tier.HYDRATION and first.stop <= s.start < last.start]
        if between:
            out.warn(
                "HYDRATION_SPLIT",
                f"Hydration before and after {between[0].name} was added together ({hydration_minutes} min); "
                "some payers refuse to add the pieces.",
            )
    hydration_ids = tuple(i for h in hydration for i in h.ids)
    hydration_billable = hydration_minutes >= 31

    candidates = [s for s in group if s.kind in (Kind.INFUSION, Kind.PUSH, Kind.SC_INFUSION)]
    hydration_service: Service | None = None
    if hydration:
        hydration_service = replace(hydration[0], ids=hydration_ids, minutes=hydration_minutes)
    ranked = sorted(candidates, key=lambda s: (_rank(s), s.start, s.order))
    hierarchy_pick: Service | None = (
        ranked[0] if ranked else (hydration_service if hydration_billable else None)
    )
    initial = hierarchy_pick
    primary = visit.primary_reason
    if primary is not None:
        chosen = next((s for s in candidates if primary in s.ids), None)
        if chosen is None and hydration_service is not None and primary in hydration_ids:
            chosen = hydration_service if hydration_billable else None
        if chosen is not None:
            initial = chosen
            if hierarchy_pick is not None and primary not in hierarchy_pick.ids:
                out.warn(
                    "PRIMARY_REASON_DIFFERS",
                    f"The documented primary reason ({chosen.name}) is coded as the initial service; "
                    f"the hierarchy would pick {hierarchy_pick.name}. Review.",
                )
    if initial is None:
        if hydration and not hydration_billable:
            out.warn(
                "HYDRATION_NOT_BILLABLE",
                f"Hydration of {hydration_minutes} min is under 31 min and is not billed.",
            )
        return False

    initial_is_hydration = hydration_service is not None and initial is hydration_service
    _initial_line(initial, initial.minutes, modifiers, visit.payer.type, out, key + (0, initial.start))

    coded_drugs: set[str] = set(initial.hcpcs)
    concurrent_done = False
    for service in sorted(candidates, key=lambda s: (s.start, s.order)):
        if service is initial:
            continue
        skey = key + (1, service.start, service.order)
        name, ids = service.name, service.ids
        chemo = service.tier is Tier.CHEMO
        if service.kind is Kind.SC_INFUSION:
            out.add(
                skey,
                ServiceLine(
                    "96371",
                    1,
                    (),
                    ids,
                    f"96371 x1: {name} additional subcutaneous infusion set-up at {_clock(service.start)}",
                ),
            )
            continue
        overlap_with = [
            other
            for other in candidates
            if other is not service
            and other.kind is Kind.INFUSION
            and service.kind is Kind.INFUSION
            and (other.start, other.order) < (service.start, service.order)
            and _overlap_minutes(service.running, other.running) > 15
        ]
        if overlap_with:
            other = overlap_with[0]
            if chemo:
                out.warn(
                    "CONCURRENT_CHEMO",
                    f"{name} ran at the same time as {other.name}: there is no code for a concurrent "
                    "chemotherapy infusion; only the drug is billed.",
                )
            elif concurrent_done:
                out.add(skey, ServiceLine("96368", 0, (), ids, ""))
            else:
                concurrent_done = True
                out.add(
                    skey,
                    ServiceLine(
                        "96368",
                        1,
                        (),
                        ids,
                        f"96368 x1: {name} started {_clock(service.start)} while {other.name} was running "
                        "(concurrent infusion, once per encounter)",
                    ),
                )
            coded_drugs |= service.hcpcs
            continue
        repeated = bool(service.hcpcs) and service.hcpcs <= coded_drugs
        if service.kind is Kind.PUSH:
            if repeated:
                out.warn(
                    "REPEAT_PUSH_SAME_DRUG",
                    f"{name} pushed again at {_clock(service.start)}: no office code for a repeat push "
                    "of the same drug (96376 is facility-only); the dose is added to the drug line.",
                )
                continue
            code = "96411" if chemo else "96375"
            out.add(
                skey,
                ServiceLine(
                    code,
                    1,
                    (),
                    ids,
                    f"{code} x1: {name} IV push at {_clock(service.start)}, "
                    "a new drug after the initial service",
                ),
            )
            coded_drugs |= service.hcpcs
            continue
        if repeated:
            out.warn(
                "REPEAT_INFUSION_SAME_DRUG",
                f"{name} infused again at {_clock(service.start)}: a sequential code is for a new drug; "
                "the dose is added to the drug line.",
            )
            continue
        code, addon = ("96417", "96415") if chemo else ("96367", "96366")
        span = f"{_clock(service.start)}-{_clock(service.stop)}"
        out.add(
            skey,
            ServiceLine(
                code,
                1,
                (),
                ids,
                f"{code} x1: {name} ran {span}, {service.minutes} min, a new drug after the initial service "
                "(sequential, 16 min or more)",
            ),
        )
        hours = hour_addon_units(service.minutes)
        if hours:
            out.add(
                skey + (1,),
                ServiceLine(
                    addon,
                    hours,
                    (),
                    ids,
                    _hours_explanation(addon, hours, name, service.start, service.stop, service.minutes),
                ),
            )
        coded_drugs |= service.hcpcs

    if hydration and not initial_is_hydration:
        units = secondary_hydration_units(hydration_minutes)
        if units:
            out.add(
                key + (1, hydration[0].start, hydration[0].order),
                ServiceLine(
                    "96361",
                    units,
                    (),
                    hydration_ids,
                    f"96361 x{units}: hydration {hydration_minutes} min of its own after the initial "
                    "service (31 min make the first hour; each further hour more than 30 min)",
                ),
            )
        else:
            out.warn(
                "HYDRATION_NOT_BILLABLE",
                f"Hydration of {hydration_minutes} min is under 31 min and is not billed.",
            )
    return True


def _code_administrations(
    services: list[Service], visit: VisitInput, payer: PayerSettings, out: _Builder
) -> bool:
    """Administration lines for every encounter; return True when any was billed."""
    encounters: dict[str, _Encounter] = {}
    for service in services:
        if service.encounter not in encounters:
            encounters[service.encounter] = _Encounter(service.encounter, len(encounters), [])
        encounters[service.encounter].services.append(service)
    billed = False
    for encounter in encounters.values():
        in_encounter = encounter.services
        # Hydration that is KVO, a vehicle or required by a drug's protocol is not a service.
        hydration: list[Service] = []
        for s in in_encounter:
            if s.tier is not Tier.HYDRATION:
                continue
            if "protocol_hydration" in s.flags and not payer.bill_protocol_hydration:
                out.warn(
                    "PROTOCOL_HYDRATION",
                    f"Hydration {', '.join(s.ids)} is required by the drug's protocol and is not billed "
                    "separately for this payer.",
                )
                continue
            hydration.append(s)
        iv = [
            s
            for s in in_encounter
            if s.tier < Tier.HYDRATION
            and s.kind is not Kind.INJECTION
            and "port_irrigation_only" not in s.flags
        ]
        infusions = [s for s in iv if s.kind is Kind.INFUSION]
        # Sites: a second initial only where a separate site was medically necessary (§3.2).
        main_site = next(
            (
                s.site
                for s in sorted(iv + hydration, key=lambda s: (s.start, s.order))
                if s.site and "separate_site_required" not in s.flags
            ),
            "",
        )
        groups: dict[str, list[Service]] = {"": []}
        for s in iv:
            if s.site and s.site != main_site and "separate_site_required" in s.flags:
                groups.setdefault(s.site, []).append(s)
                continue
            if s.site and main_site and s.site != main_site:
                out.warn(
                    "SECOND_SITE_NOT_NECESSARY",
                    f"{s.name} used IV site {s.site!r} without a documented medical need for a "
                    "separate site, so it does not get its own initial code.",
                )
            groups[""].append(s)
        if not groups[""] and not hydration and len(groups) > 1:
            # Every IV service was at the "separate" site: it is the encounter's only site.
            del groups[""]
            first_site = next(iter(groups))
            groups = {"": groups.pop(first_site), **groups}
        enc_modifier: tuple[str, ...] = (payer.separate_encounter_modifier,) if encounter.index > 0 else ()
        for site, group in groups.items():
            modifiers = enc_modifier if site == "" else (payer.separate_site_modifier,)
            group_hydration = hydration if site == "" else []
            if not group and not group_hydration:
                continue
            if _code_group(group, group_hydration, encounter, modifiers, visit, payer, out, infusions):
                billed = True
        # Injections are reported in their own right (coding-rules §8).
        seen: set[tuple[frozenset[str], datetime]] = set()
        for s in in_encounter:
            if s.kind is not Kind.INJECTION or s.tier is Tier.FLUSH:
                continue
            if (s.hcpcs, s.start) in seen:
                continue  # two syringes of one drug for one dose are one injection
            seen.add((s.hcpcs, s.start))
            key = (0, encounter.index, 2, s.start, s.order)
            if "on_body_injector" in s.flags:
                code, why = "96377", "on-body injector applied"
            elif s.tier is Tier.CHEMO:
                hormonal = "hormonal_antineoplastic" in s.flags
                code = "96402" if hormonal else "96401"
                kind = "hormonal" if hormonal else "non-hormonal"
                why = f"{kind} anti-neoplastic SC/IM injection"
            else:
                code, why = "96372", "therapeutic injection, SC or IM"
            out.add(key, ServiceLine(code, 1, (), s.ids, f"{code} x1: {s.name} at {_clock(s.start)}, {why}"))
            billed = True
    return billed


# --- drugs ---------------------------------------------------------------------------------


def _in_unit(amount: Amount, unit: str) -> Decimal | None:
    if amount.unit == unit:
        return amount.amount
    if amount.unit in _MASS_TO_MG and unit in _MASS_TO_MG:
        return amount.amount * _MASS_TO_MG[amount.unit] / _MASS_TO_MG[unit]
    return None


def _fmt(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text


def _code_drugs(
    visit: VisitInput, invalid: set[str], catalog: Mapping[str, DrugInfo], payer: PayerSettings, out: _Builder
) -> None:
    by_code: dict[str, list[AdministrationInput]] = {}
    for admin in visit.administrations:
        if admin.id in invalid or admin.hcpcs is None or admin.hcpcs in FLUID_CODES:
            continue
        info = catalog.get(admin.hcpcs)
        if (admin.admin_class or (info.admin_class if info else "")) in ("hydration", "flush"):
            continue
        by_code.setdefault(admin.hcpcs, []).append(admin)
    position = 0
    for hcpcs, admins in by_code.items():
        position += 1
        first = min(admins, key=lambda a: a.start)
        info = catalog.get(hcpcs)
        name = _display_name(first, info)
        ids = tuple(a.id for a in admins)
        key = (2, first.start, position)
        if hcpcs in NOC_CODES:
            out.add(
                key,
                ServiceLine(
                    hcpcs,
                    1,
                    (),
                    ids,
                    f"{hcpcs} x1: {name}, a not-otherwise-classified code bills one unit "
                    "(drug name, dose and NDC go in the line note)",
                    ndc=first.ndc,
                ),
            )
            continue
        unit = first.billing_unit or (Amount(info.unit_amount, info.unit) if info else None)
        if unit is None or unit.amount <= 0:
            out.warn(
                "UNKNOWN_DRUG",
                f"{hcpcs} ({name}) is not in the catalog and has no billing_unit; no drug line.",
            )
            continue
        up_to = info.up_to if info and first.billing_unit is None else False
        single_dose = (
            first.single_dose_container
            if first.single_dose_container is not None
            else (info.single_dose_container if info else False)
        )
        given = Decimal(0)
        wasted = Decimal(0)
        ok = True
        for admin in admins:
            if admin.dose is None:
                out.warn("NO_DOSE", f"{admin.id} ({name}): no dose documented; no units billed for it.")
                ok = False
                continue
            dose = _in_unit(admin.dose, unit.unit)
            waste = _in_unit(admin.waste, unit.unit) if admin.waste is not None else Decimal(0)
            if dose is None or waste is None:
                out.warn(
                    "UNIT_MISMATCH",
                    f"{admin.id} ({name}): dose in {admin.dose.unit} cannot be billed in {unit.unit}; "
                    "no drug line.",
                )
                ok = False
                break
            given += dose
            wasted += waste
        if not ok and given == 0:
            continue
        if given <= 0:
            continue
        units = math.ceil(given / unit.amount)
        unit_text = f"{'up to ' if up_to else ''}{_fmt(unit.amount)} {unit.unit}"
        ndc = next((a.ndc for a in admins if a.ndc), None)
        if ndc is None and info is not None and len(info.ndcs) == 1:
            ndc = info.ndcs[0]
        explanation = (
            f"{hcpcs} x{units}: {name} {_fmt(given)} {unit.unit} given; billing unit {unit_text}; "
            f"{_fmt(given)}/{_fmt(unit.amount)} rounded up"
        )
        modifiers: tuple[str, ...] = ()
        jw_units = 0
        if single_dose and payer.waste_modifiers != "none":
            jw_units = math.ceil((given + wasted) / unit.amount) - units
            if jw_units == 0 and payer.waste_modifiers == "jw_jz":
                modifiers = ("JZ",)
                explanation += (
                    "; nothing discarded from the single-dose container"
                    if wasted == 0
                    else (f"; {_fmt(wasted)} {unit.unit} discarded is less than one more unit")
                )
                explanation += ", so JZ"
        elif not single_dose and wasted > 0:
            explanation += "; multi-dose container: waste is not billed"
        out.add(key, ServiceLine(hcpcs, units, modifiers, ids, explanation, ndc=ndc))
        if jw_units > 0:
            out.add(
                key + (1,),
                ServiceLine(
                    hcpcs,
                    jw_units,
                    ("JW",),
                    ids,
                    f"{hcpcs}-JW x{jw_units}: {_fmt(wasted)} {unit.unit} discarded "
                    "from the single-dose container; "
                    f"{_fmt(given + wasted)}/{_fmt(unit.amount)} rounded up is "
                    f"{units + jw_units}, less the {units} given",
                    ndc=ndc,
                ),
            )


def _code_fluids(
    visit: VisitInput, invalid: set[str], catalog: Mapping[str, DrugInfo], payer: PayerSettings, out: _Builder
) -> None:
    """Fluid supply lines from the bags hung (J7030 1000 cc, J7040 500 mL, J7050 250 cc)."""
    volume = {"J7030": Decimal(1000), "J7040": Decimal(500), "J7050": Decimal(250)}
    totals: dict[str, list[tuple[str, Decimal]]] = {}
    for admin in visit.administrations:
        if admin.id in invalid:
            continue
        info = catalog.get(admin.hcpcs) if admin.hcpcs else None
        admin_class = admin.admin_class or (info.admin_class if info else None)
        if admin_class == "flush":
            continue
        if admin_class == "hydration":
            if "protocol_hydration" in admin.flags and not payer.bill_protocol_hydration:
                continue
        elif not payer.bill_vehicle_fluid:
            continue
        if admin.bags:
            for bag in admin.bags:
                totals.setdefault(bag.hcpcs, []).append((admin.id, bag.volume_ml))
        elif admin.hcpcs in FLUID_CODES and admin.dose is not None and admin.dose.unit == "mL":
            totals.setdefault(admin.hcpcs, []).append((admin.id, admin.dose.amount))
    for hcpcs, items in totals.items():
        size = volume.get(hcpcs)
        if size is None:
            out.warn("UNKNOWN_FLUID", f"{hcpcs} is not a fluid code this engine knows; no line.")
            continue
        ml = sum((v for _i, v in items), Decimal(0))
        units = max(1, math.ceil(ml / size))
        ids = tuple(dict.fromkeys(i for i, _v in items))
        out.add(
            (3, hcpcs),
            ServiceLine(
                hcpcs,
                units,
                (),
                ids,
                f"{hcpcs} x{units}: {_fmt(ml)} mL of fluid hung; billing unit {size} mL",
            ),
        )


# --- edits ---------------------------------------------------------------------------------


def _edits(lines: list[ServiceLine], tables: CodingTables, out: _Builder) -> None:
    codes = {line.code for line in lines}
    units_by_code: dict[str, int] = {}
    for line in lines:
        units_by_code[line.code] = units_by_code.get(line.code, 0) + line.units
    for code, units in units_by_code.items():
        limit = tables.mue.get(code)
        if limit is not None and units > limit:
            out.warn(
                "MUE", f"{code}: {units} units on this date exceed the medically unlikely edit of {limit}."
            )
    bypass = {"59", "XE", "XS", "XP", "XU", "25"}
    for (first, second), indicator in tables.ncci_pairs.items():
        if first in codes and second in codes:
            second_lines = [line for line in lines if line.code == second]
            if indicator == 0:
                out.warn(
                    "NCCI", f"{first} and {second} may not be billed together (NCCI, no modifier allowed)."
                )
            elif not any(set(line.modifiers) & bypass for line in second_lines):
                out.warn(
                    "NCCI",
                    f"{first} with {second}: NCCI pair; {second} needs a modifier (59/X) if the "
                    "services were distinct, otherwise it is not billable.",
                )
    for addon, primaries in tables.addon_primaries.items():
        if addon in codes and not (codes & primaries):
            out.warn(
                "ADD_ON_WITHOUT_PRIMARY",
                f"{addon} is an add-on code billed without one of its primary codes "
                f"({', '.join(sorted(primaries))}).",
            )


def _detail(explanation: str) -> str:
    return explanation.partition(": ")[2] if ": " in explanation else explanation


def _merge(
    entries: list[tuple[tuple[Any, ...], ServiceLine]], pointers: tuple[int, ...]
) -> list[ServiceLine]:
    """Sort lines as billed and merge lines with the same code and modifiers (units summed)."""
    merged: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
    for _key, line in sorted(entries, key=lambda e: e[0]):
        identity = (line.code, line.modifiers)
        detail = _detail(line.explanation)
        slot = merged.get(identity)
        if slot is None:
            merged[identity] = [
                line,
                line.units,
                list(line.administrations),
                [detail] if detail else [],
                line.ndc,
            ]
            continue
        slot[1] += line.units
        slot[2].extend(a for a in line.administrations if a not in slot[2])
        if detail:
            slot[3].append(detail)
        slot[4] = slot[4] or line.ndc
    result = []
    for first, units, administrations, details, ndc in merged.values():
        if units <= 0:
            continue
        modifiers = "-" + "-".join(first.modifiers) if first.modifiers else ""
        result.append(
            ServiceLine(
                code=first.code,
                units=units,
                modifiers=first.modifiers,
                administrations=tuple(administrations),
                explanation=f"{first.code}{modifiers} x{units}: {'; '.join(details)}",
                diagnosis_pointers=pointers,
                ndc=ndc,
                ndc_quantity=first.ndc_quantity,
                ndc_unit=first.ndc_unit,
            )
        )
    return result


def code_visit(
    visit: VisitInput,
    catalog: Mapping[str, DrugInfo],
    payer: PayerSettings,
    tables: CodingTables | None = None,
) -> CodingResult:
    """Code one visit: administration lines, E/M, drug lines with units and JW/JZ, fluid lines."""
    out = _Builder()
    # The order administrations are listed in must not matter: ties are broken by id.
    ordered = tuple(sorted(visit.administrations, key=lambda a: (a.start, a.id)))
    visit = replace(visit, administrations=ordered)
    services, invalid = _normalise(visit, catalog, payer, out)
    billed_admin = _code_administrations(services, visit, payer, out)

    irrigation = [s for s in services if "port_irrigation_only" in s.flags]
    if irrigation:
        if billed_admin or any(s.tier < Tier.HYDRATION for s in services if s not in irrigation):
            out.warn(
                "PORT_IRRIGATION_BUNDLED",
                "Port irrigation (96523) is only billed when it is the only service of the day; not billed.",
            )
        else:
            first = irrigation[0]
            out.add(
                (0, 0, 0, first.start),
                ServiceLine(
                    "96523",
                    1,
                    (),
                    first.ids,
                    f"96523 x1: irrigation of an implanted venous access device at {_clock(first.start)}, "
                    "the only service of the day",
                ),
            )
            billed_admin = True

    em = visit.evaluation_and_management
    if em is not None:
        if em.code == "99211" and billed_admin:
            out.warn("EM_99211_BUNDLED", "99211 is never billed with drug administration codes; not billed.")
        elif not em.significant_separately_identifiable:
            out.warn(
                "EM_NOT_BILLED",
                f"{em.code} is not documented as significant and separately "
                "identifiable from the drug administration; not billed.",
            )
        else:
            modifiers = ("25",) if billed_admin else ()
            why = "significant, separately identifiable E/M on the day of drug administration, so modifier 25"
            out.add(
                (1, 0),
                ServiceLine(
                    em.code, 1, modifiers, (), f"{em.code} x1: {why if billed_admin else 'E/M service'}"
                ),
            )

    _code_drugs(visit, invalid, catalog, payer, out)
    _code_fluids(visit, invalid, catalog, payer, out)

    pointers = tuple(range(1, min(4, len(visit.diagnoses)) + 1))
    lines = _merge(out.lines, pointers)
    _edits(lines, tables or CodingTables(), out)
    return CodingResult(tuple(lines), tuple(out.warnings))


# --- JSON contract -------------------------------------------------------------------------


def default_catalog() -> dict[str, DrugInfo]:
    from infusion_desk.billing.catalog import drug_catalog

    return {drug.hcpcs: DrugInfo.from_catalog(drug) for drug in drug_catalog()}


def result_to_json(result: CodingResult) -> dict[str, Any]:
    return {
        "lines": [
            {
                "code": line.code,
                "units": line.units,
                "modifiers": list(line.modifiers),
                "administrations": list(line.administrations),
                "explanation": line.explanation,
                "diagnosis_pointers": list(line.diagnosis_pointers),
                "ndc": line.ndc,
            }
            for line in result.lines
        ],
        "warnings": [{"code": w.code, "message": w.message} for w in result.warnings],
    }


def code_json(
    payload: Any,
    *,
    catalog: Mapping[str, DrugInfo] | None = None,
    payer_settings: Mapping[str, Mapping[str, Any]] | None = None,
    tables: CodingTables | None = None,
) -> dict[str, Any]:
    """The ``infusion-desk code`` contract: JSON visit in, JSON lines and warnings out.

    ``payer_settings`` maps a payer name to its stored settings; ``payer.name`` in the
    input selects one, otherwise the defaults for ``payer.type`` apply.
    """
    visit = parse_visit(payload)
    stored = (payer_settings or {}).get(visit.payer.name or "", {})
    payer = PayerSettings.from_mapping(visit.payer.type, stored)
    if tables is None:
        from infusion_desk.billing.edits import reference_tables

        tables = reference_tables()
    return result_to_json(code_visit(visit, catalog or default_catalog(), payer, tables))
