"""What the coding engine reads: a visit's administrations, the catalog and payer settings.

    >>> visit = parse_visit({
    ...     "payer": {"type": "medicare"}, "date_of_service": "2026-03-02",
    ...     "diagnoses": ["K50.90"],
    ...     "administrations": [{"id": "a1", "hcpcs": "J1745", "method": "infusion",
    ...                          "start": "09:02", "stop": "11:10",
    ...                          "dose": {"amount": 365, "unit": "mg"}}]})
    >>> visit.administrations[0].start.hour, visit.payer.type
    (9, 'medicare')

Malformed input raises :class:`CodingInputError` naming the field (``administrations[0].start``).
Everything here is a frozen dataclass of tuples, so the engine is a pure function.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from infusion_desk.billing.catalog import CatalogDrug

ADMIN_CLASSES = ("chemotherapy", "complex_biologic", "therapeutic", "hydration", "flush")
METHODS = ("infusion", "push", "injection")
ROUTES = ("IV", "SC", "IM", "ID", "IA")
PAYER_TYPES = ("medicare", "medicaid", "commercial")
DOSE_UNITS = ("mg", "g", "mcg", "mL", "units")
KNOWN_FLAGS = frozenset(
    {
        "continuously_present",
        "separate_site_required",
        "discontinued_for_reaction",
        "hormonal_antineoplastic",
        "protocol_hydration",
        "port_irrigation_only",
        "pump_initiation",
        "on_body_injector",
    }
)
NOC_CODES = frozenset({"J3490", "J3590", "J9999"})
FLUID_CODES = frozenset({"J7030", "J7040", "J7050"})


class CodingInputError(ValueError):
    """The visit cannot be read; ``field`` says where, the message says what to fix."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, slots=True)
class Amount:
    amount: Decimal
    unit: str


@dataclass(frozen=True, slots=True)
class Interval:
    start: datetime
    stop: datetime


@dataclass(frozen=True, slots=True)
class BagHung:
    hcpcs: str
    volume_ml: Decimal


@dataclass(frozen=True, slots=True)
class AdministrationInput:
    id: str
    method: str
    start: datetime
    hcpcs: str | None = None
    drug: str | None = None
    admin_class: str | None = None
    route: str = "IV"
    site: str = ""
    encounter: str = "1"
    bag: str | None = None
    stop: datetime | None = None
    interruptions: tuple[Interval, ...] = ()
    dose: Amount | None = None
    waste: Amount | None = None
    billing_unit: Amount | None = None
    single_dose_container: bool | None = None
    bags: tuple[BagHung, ...] = ()
    ndc: str | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EvaluationAndManagement:
    code: str
    significant_separately_identifiable: bool


@dataclass(frozen=True, slots=True)
class PayerInput:
    type: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class VisitInput:
    payer: PayerInput
    date_of_service: date
    administrations: tuple[AdministrationInput, ...]
    diagnoses: tuple[str, ...] = ()
    primary_reason: str | None = None
    evaluation_and_management: EvaluationAndManagement | None = None


@dataclass(frozen=True, slots=True)
class PayerSettings:
    """The coding choices that differ between payers; stored per payer as data."""

    complex_biologic_admin: str = "chemo"
    waste_modifiers: str = "jw_jz"
    separate_site_modifier: str = "XU"
    separate_encounter_modifier: str = "XE"
    bill_protocol_hydration: bool = False
    bill_vehicle_fluid: bool = False
    chemo_admin_hcpcs: tuple[str, ...] = ()
    therapeutic_admin_hcpcs: tuple[str, ...] = ()

    @classmethod
    def defaults_for(cls, payer_type: str) -> PayerSettings:
        if payer_type == "medicare":
            return cls()
        return cls(waste_modifiers="jw", separate_site_modifier="59", separate_encounter_modifier="59")

    @classmethod
    def from_mapping(cls, payer_type: str, values: Mapping[str, Any]) -> PayerSettings:
        """Payer defaults overridden by a stored settings mapping (unknown keys are refused)."""
        base = cls.defaults_for(payer_type)
        allowed = set(cls.__dataclass_fields__)
        unknown = set(values) - allowed
        if unknown:
            raise CodingInputError("payer_settings", f"unknown settings {sorted(unknown)}")
        choices = {
            "complex_biologic_admin": ("chemo", "therapeutic"),
            "waste_modifiers": ("jw_jz", "jw", "none"),
            "separate_site_modifier": ("59", "XS", "XU", "XP"),
            "separate_encounter_modifier": ("59", "XE"),
        }
        merged: dict[str, Any] = {}
        for key, value in values.items():
            if key in choices and value not in choices[key]:
                raise CodingInputError(f"payer_settings.{key}", f"must be one of {choices[key]}")
            if key in ("chemo_admin_hcpcs", "therapeutic_admin_hcpcs"):
                value = tuple(str(v).upper() for v in value)
            merged[key] = value
        return PayerSettings(**{**{k: getattr(base, k) for k in allowed}, **merged})


@dataclass(frozen=True, slots=True)
class DrugInfo:
    """What the engine needs to know about a HCPCS drug code."""

    hcpcs: str
    name: str
    unit_amount: Decimal
    unit: str
    up_to: bool
    admin_class: str
    single_dose_container: bool
    ndcs: tuple[str, ...] = ()

    @classmethod
    def from_catalog(cls, drug: CatalogDrug) -> DrugInfo:
        return cls(
            hcpcs=drug.hcpcs,
            name=drug.name,
            unit_amount=drug.billing_unit_amount,
            unit=drug.billing_unit,
            up_to=drug.billing_unit_up_to,
            admin_class=drug.admin_class,
            single_dose_container=drug.single_dose_container,
            ndcs=tuple(n.ndc for n in drug.ndcs),
        )


# --- parsing -----------------------------------------------------------------------------


def _require(data: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in data or data[key] is None:
        raise CodingInputError(f"{where}{key}", "is required")
    return data[key]


def _mapping(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise CodingInputError(where, "must be an object")
    return value


def _decimal(value: Any, where: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise CodingInputError(where, "must be a number")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise CodingInputError(where, f"{value!r} is not a number") from None
    if not result.is_finite() or result < 0:
        raise CodingInputError(where, "must be a number zero or more")
    return result


def _amount(value: Any, where: str) -> Amount:
    data = _mapping(value, where)
    unit = _require(data, "unit", f"{where}.")
    if unit not in DOSE_UNITS:
        raise CodingInputError(f"{where}.unit", f"must be one of {', '.join(DOSE_UNITS)}")
    return Amount(_decimal(_require(data, "amount", f"{where}."), f"{where}.amount"), unit)


def _time(value: Any, day: date, where: str) -> datetime:
    if not isinstance(value, str):
        raise CodingInputError(where, "must be HH:MM or an ISO 8601 date-time")
    text = value.strip()
    try:
        if len(text) <= 5 and ":" in text:
            hours, minutes = text.split(":")
            return datetime.combine(day, time(int(hours), int(minutes)))
        return datetime.fromisoformat(text)
    except ValueError:
        raise CodingInputError(where, f"{value!r} is not HH:MM or an ISO 8601 date-time") from None


def _string(value: Any, where: str) -> str:
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise CodingInputError(where, "must be a string")
    return str(value).strip()


def _list(value: Any, where: str) -> list[Any] | tuple[Any, ...]:
    """An optional list (``null`` or absent is an empty one)."""
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        raise CodingInputError(where, "must be a list")
    return value


def _administration(data: Mapping[str, Any], day: date, where: str) -> AdministrationInput:
    admin_id = _string(_require(data, "id", where + "."), f"{where}.id")
    method = _require(data, "method", where + ".")
    if method not in METHODS:
        raise CodingInputError(f"{where}.method", f"must be one of {', '.join(METHODS)}")
    admin_class = data.get("admin_class")
    if admin_class is not None and admin_class not in ADMIN_CLASSES:
        raise CodingInputError(f"{where}.admin_class", f"must be one of {', '.join(ADMIN_CLASSES)}")
    route = data.get("route") or ("IV" if method != "injection" else "SC")
    if route not in ROUTES:
        raise CodingInputError(f"{where}.route", f"must be one of {', '.join(ROUTES)}")
    hcpcs = data.get("hcpcs")
    if hcpcs is not None:
        hcpcs = _string(hcpcs, f"{where}.hcpcs").upper()
        if len(hcpcs) != 5 or not hcpcs[0].isalpha() or not hcpcs[1:].isdigit():
            raise CodingInputError(f"{where}.hcpcs", f"{hcpcs!r} is not a HCPCS code like J1745")
    start = _time(_require(data, "start", where + "."), day, f"{where}.start")
    stop = _time(data["stop"], day, f"{where}.stop") if data.get("stop") is not None else None
    interruptions = []
    for index, item in enumerate(_list(data.get("interruptions"), f"{where}.interruptions")):
        path = f"{where}.interruptions[{index}]"
        item = _mapping(item, path)
        interruptions.append(
            Interval(
                _time(_require(item, "start", path + "."), day, f"{path}.start"),
                _time(_require(item, "stop", path + "."), day, f"{path}.stop"),
            )
        )
    bags = []
    for index, item in enumerate(_list(data.get("bags"), f"{where}.bags")):
        path = f"{where}.bags[{index}]"
        item = _mapping(item, path)
        bags.append(
            BagHung(
                _string(_require(item, "hcpcs", path + "."), f"{path}.hcpcs").upper(),
                _decimal(_require(item, "volume_ml", path + "."), f"{path}.volume_ml"),
            )
        )
    flags = data.get("flags") or []
    if not isinstance(flags, list | tuple) or not all(isinstance(f, str) for f in flags):
        raise CodingInputError(f"{where}.flags", "must be a list of strings")
    single = data.get("single_dose_container")
    if single is not None and not isinstance(single, bool):
        raise CodingInputError(f"{where}.single_dose_container", "must be true or false")
    site = data.get("site")
    return AdministrationInput(
        id=admin_id,
        method=method,
        start=start,
        hcpcs=hcpcs,
        drug=data.get("drug"),
        admin_class=admin_class,
        route=route,
        site="" if site is None else _string(site, f"{where}.site"),
        encounter=_string(data.get("encounter") or "1", f"{where}.encounter"),
        bag=None if data.get("bag") is None else _string(data["bag"], f"{where}.bag"),
        stop=stop,
        interruptions=tuple(interruptions),
        dose=_amount(data["dose"], f"{where}.dose") if data.get("dose") is not None else None,
        waste=_amount(data["waste"], f"{where}.waste") if data.get("waste") is not None else None,
        billing_unit=(
            _amount(data["billing_unit"], f"{where}.billing_unit")
            if data.get("billing_unit") is not None
            else None
        ),
        single_dose_container=single,
        bags=tuple(bags),
        ndc=data.get("ndc"),
        flags=tuple(flags),
    )


def parse_visit(payload: Any) -> VisitInput:
    """Read the JSON contract into a :class:`VisitInput`, or raise :class:`CodingInputError`."""
    data = _mapping(payload, "(top level)")
    payer = _mapping(_require(data, "payer", ""), "payer")
    payer_type = _require(payer, "type", "payer.")
    if payer_type not in PAYER_TYPES:
        raise CodingInputError("payer.type", f"must be one of {', '.join(PAYER_TYPES)}")
    try:
        day = date.fromisoformat(str(_require(data, "date_of_service", "")))
    except ValueError:
        raise CodingInputError("date_of_service", "must be a date like 2026-03-02") from None
    diagnoses = data.get("diagnoses") or []
    if not isinstance(diagnoses, list) or not all(isinstance(d, str) for d in diagnoses):
        raise CodingInputError("diagnoses", "must be a list of ICD-10-CM codes")
    items = _require(data, "administrations", "")
    if not isinstance(items, list):
        raise CodingInputError("administrations", "must be a list")
    administrations = tuple(
        _administration(_mapping(item, f"administrations[{i}]"), day, f"administrations[{i}]")
        for i, item in enumerate(items)
    )
    ids = [a.id for a in administrations]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise CodingInputError("administrations", f"ids must be unique; repeated: {duplicates}")
    moments = [
        moment
        for a in administrations
        for moment in (a.start, a.stop, *(t for pause in a.interruptions for t in (pause.start, pause.stop)))
        if moment is not None
    ]
    aware = {moment.tzinfo is not None for moment in moments}
    if len(aware) > 1:
        raise CodingInputError(
            "administrations", "mix of times with and without a UTC offset; use one form"
        )
    primary = data.get("primary_reason")
    if primary is not None and primary not in ids:
        raise CodingInputError("primary_reason", f"{primary!r} is not an administration id")
    em = data.get("evaluation_and_management")
    em_input = None
    if em is not None:
        em = _mapping(em, "evaluation_and_management")
        em_input = EvaluationAndManagement(
            code=_string(
                _require(em, "code", "evaluation_and_management."), "evaluation_and_management.code"
            ),
            significant_separately_identifiable=bool(em.get("significant_separately_identifiable", False)),
        )
    name = payer.get("name")
    return VisitInput(
        payer=PayerInput(payer_type, None if name is None else _string(name, "payer.name")),
        date_of_service=day,
        administrations=administrations,
        diagnoses=tuple(diagnoses),
        primary_reason=primary,
        evaluation_and_management=em_input,
    )


@dataclass(frozen=True, slots=True)
class CodingTables:
    """The edit tables (MUE per code, NCCI pairs, add-on primaries), loaded from resources."""

    mue: Mapping[str, int] = field(default_factory=dict)
    mue_mai: Mapping[str, int] = field(default_factory=dict)
    """MUE adjudication indicator per code: 1 per claim line, 2 or 3 per date of service."""
    ncci_pairs: Mapping[tuple[str, str], int] = field(default_factory=dict)
    addon_primaries: Mapping[str, frozenset[str]] = field(default_factory=dict)
