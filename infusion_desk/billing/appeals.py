"""Appeal letters and the enclosures the clinic prints itself, from the facts of one denial.

    >>> from infusion_desk.billing.money import money
    >>> facts = AppealFacts(
    ...     letter_date=date(2026, 11, 30), category="authorization",
    ...     letterhead=Letterhead("Lakeview Infusion Suite", ("400 Example Avenue", "Springfield, IL 62701"),
    ...                           "217-555-0142", "1234567893", "123456789"),
    ...     payer_name="Fictional Health Plan", payer_address=("PO Box 1", "Springfield, IL 62701"),
    ...     patient_name="Example, Testy", patient_birth_date=date(1960, 1, 2), mrn="DM0000001",
    ...     member_id="XYZ123456", group_number=None, claim_number="C0000042",
    ...     payer_claim_number="ICN-77", service_from=date(2026, 11, 2), service_to=date(2026, 11, 2),
    ...     denied_service="J1745 x 50 units on 11/02/2026", adjustment_code="CO-197",
    ...     denial_reason="The payer has no authorization for this service.",
    ...     amount_appealed=money("4500.00"), billed_amount=money("4812.00"), signer_name="Bill Er")
    >>> letter = draft_letter(facts, template_for("authorization"))
    >>> print(next(line for line in letter.splitlines() if line.startswith("Re:")))
    Re: Appeal of authorization denial, claim C0000042
    >>> "No authorization is on file" in letter    # a missing fact is said, never left blank
    True
    >>> render_letter_pdf(letter, facts.letterhead, title="Appeal C0000042")[:5]
    b'%PDF-'

The letter's words live in ``resources/appeal_letters.json``: a common frame (the header
with the patient, claim and payer claim numbers, the salutation, opening, closing and
signature) and one template per denial category (subject line, the argument that answers
that kind of denial, the enclosure checklist), with a ``default`` for categories without
their own. Placeholders such as ``{authorization_number}`` are filled from
:class:`AppealFacts`; an unknown placeholder is refused when the file is loaded, naming the
template and the placeholder. :func:`draft_letter` gives the plain text the biller edits;
:func:`render_letter_pdf` prints whatever text the biller kept, on the clinic's letterhead,
wrapped and paginated on letter paper, with text a reader can select.

:func:`render_administration_record` and :func:`render_authorization_summary` print the two
enclosures the clinic owns: the nursing record of the visit (each administration's drug,
dose, waste, lot, route, start and stop in the clinic's local time, the vitals, reactions and
the nurse) and the authorizations on file. Times in the facts are already local: the service
converts them with the clinic's time zone. Nothing here touches the database or the disk.
"""

from __future__ import annotations

import io
import json
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any

from reportlab.lib.pagesizes import LETTER
from reportlab.lib.units import inch
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas

from infusion_desk.billing.catalog import read_resource_text
from infusion_desk.billing.denials import CATEGORIES
from infusion_desk.billing.validation import format_icd10, normalize_icd10

__all__ = [
    "ADMINISTRATION_RECORD",
    "AUTHORIZATION_SUMMARY",
    "PLACEHOLDERS",
    "AdministrationFacts",
    "AppealFacts",
    "AuthorizationFacts",
    "DiagnosisFacts",
    "Enclosure",
    "LetterTemplate",
    "Letterhead",
    "OrderFacts",
    "ReactionFacts",
    "VitalFacts",
    "covered_indication",
    "draft_letter",
    "letter_pages",
    "letter_templates",
    "parse_letter_templates",
    "placeholder_values",
    "render_administration_record",
    "render_authorization_summary",
    "render_letter_pdf",
    "template_for",
]

TEMPLATES_FILE = "appeal_letters.json"
NO_AUTHORIZATION = "no authorization on file"
NO_DRUG = "no drug documented"
ADMINISTRATION_RECORD = "administration_record"
AUTHORIZATION_SUMMARY = "authorization_summary"
PRINTED_BY_APP = (ADMINISTRATION_RECORD, AUTHORIZATION_SUMMARY)
"""The enclosures Infusion Desk prints itself (``printed_by_app`` in the templates)."""


# --- the facts ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Letterhead:
    name: str
    address: tuple[str, ...]
    phone: str | None = None
    npi: str | None = None
    tin: str | None = None


@dataclass(frozen=True, slots=True)
class DiagnosisFacts:
    code: str
    """ICD-10-CM, with or without the dot."""
    description: str | None = None
    covered_indication: str | None = None
    """The indication the drug's covered-diagnosis list gives this code, or None when it lists none."""


@dataclass(frozen=True, slots=True)
class OrderFacts:
    drug: str
    hcpcs: str | None
    dose: str
    """As ordered, e.g. ``5 mg/kg``."""
    frequency: str
    start_date: date
    end_date: date | None
    ordering_provider: str
    diagnoses: tuple[DiagnosisFacts, ...] = ()


@dataclass(frozen=True, slots=True)
class AuthorizationFacts:
    number: str
    status: str
    valid_from: date
    valid_to: date
    codes: tuple[str, ...] = ()
    approved_units: Decimal | None = None
    approved_visits: int | None = None
    covers_service: bool = False
    """Approved, with a window that holds the date of service and (when it lists codes) the code denied."""
    notes: str | None = None


@dataclass(frozen=True, slots=True)
class AdministrationFacts:
    drug: str
    hcpcs: str | None
    method: str
    route: str
    start: datetime | None
    """Local time."""
    stop: datetime | None
    pauses: tuple[tuple[datetime, datetime | None], ...] = ()
    iv_site: str | None = None
    dose_amount: Decimal | None = None
    dose_unit: str | None = None
    waste_amount: Decimal | None = None
    lot: str | None = None
    lot_expiry: date | None = None
    ndc: str | None = None
    nurse: str | None = None
    notes: str | None = None

    @property
    def minutes(self) -> int | None:
        """The minutes the drug ran: stop minus start, less the pauses."""
        if self.start is None or self.stop is None:
            return None
        seconds = (self.stop - self.start).total_seconds()
        for paused, resumed in self.pauses:
            seconds -= ((resumed or self.stop) - paused).total_seconds()
        return max(0, int(seconds // 60))


@dataclass(frozen=True, slots=True)
class VitalFacts:
    taken_at: datetime
    """Local time."""
    systolic: int | None = None
    diastolic: int | None = None
    pulse: int | None = None
    respiratory_rate: int | None = None
    temperature_c: Decimal | None = None
    spo2: int | None = None
    pain_score: int | None = None
    taken_by: str | None = None


@dataclass(frozen=True, slots=True)
class ReactionFacts:
    onset: datetime
    severity: str
    description: str
    resolved: datetime | None = None
    interventions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AppealFacts:
    """Everything a letter and its enclosures say, read from the record by the service."""

    letter_date: date
    category: str
    letterhead: Letterhead
    payer_name: str
    payer_address: tuple[str, ...]
    patient_name: str
    patient_birth_date: date
    mrn: str
    member_id: str
    group_number: str | None
    claim_number: str
    payer_claim_number: str | None
    service_from: date
    service_to: date
    denied_service: str
    adjustment_code: str
    denial_reason: str
    amount_appealed: Decimal
    billed_amount: Decimal
    signer_name: str
    billed_lines: tuple[str, ...] = ()
    """Each claim line as ``J1745 x 50 units ($4,500.00)``."""
    claim_authorization_number: str | None = None
    """The authorization number the claim carried (REF*G1)."""
    frequency_note: str | None = None
    """Original or replacement claim, in words."""
    rendering_provider: str | None = None
    order: OrderFacts | None = None
    diagnoses: tuple[DiagnosisFacts, ...] = ()
    """The claim's diagnoses, in claim order."""
    authorizations: tuple[AuthorizationFacts, ...] = ()
    """Authorizations on file for the claim's policy, the one covering the service first."""
    administrations: tuple[AdministrationFacts, ...] = ()
    vitals: tuple[VitalFacts, ...] = ()
    reactions: tuple[ReactionFacts, ...] = ()
    submissions: tuple[tuple[date, str], ...] = ()
    """The claim's submission history: (date, what happened), oldest first."""
    coverage: str | None = None
    """The policy in force and its latest eligibility check, in words."""
    printed_on: date | None = None

    @property
    def authorization(self) -> AuthorizationFacts | None:
        """The authorization on file that covers the service, if any."""
        return next((a for a in self.authorizations if a.covers_service), None)


# --- templates ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Enclosure:
    item: str
    printed_by_app: str | None = None
    """``administration_record`` or ``authorization_summary`` when Infusion Desk prints it."""


@dataclass(frozen=True, slots=True)
class LetterTemplate:
    name: str
    subject: str
    header: tuple[str, ...]
    salutation: str
    opening: tuple[str, ...]
    argument: tuple[str, ...]
    closing: tuple[str, ...]
    signature: tuple[str, ...]
    enclosures: tuple[Enclosure, ...] = field(default=())


def _date(value: date | None, missing: str = "not on file") -> str:
    return f"{value:%m/%d/%Y}" if value is not None else missing


def _money(value: Decimal) -> str:
    return f"${value:,.2f}"


def _amount(value: Decimal | None, unit: str | None) -> str:
    if value is None:
        return "not recorded"
    return f"{value.normalize():f} {unit or ''}".strip()


def _count(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _clock(moment: datetime | None) -> str:
    return f"{moment:%m/%d/%Y %H:%M}" if moment is not None else "not recorded"


def _dates_of_service(facts: AppealFacts) -> str:
    if facts.service_from == facts.service_to:
        return _date(facts.service_from)
    return f"{_date(facts.service_from)} to {_date(facts.service_to)}"


def _diagnoses(items: Sequence[DiagnosisFacts]) -> str:
    if not items:
        return "not on file (no diagnosis on the claim or the order)"
    return "; ".join(
        f"{format_icd10(d.code)} {d.description}" if d.description else format_icd10(d.code) for d in items
    )


def _diagnosis_support(facts: AppealFacts) -> str:
    items = facts.diagnoses or (facts.order.diagnoses if facts.order else ())
    supported = [d for d in items if d.covered_indication]
    drug = facts.order.drug if facts.order else "the drug"
    if supported:
        listed = "; ".join(f"{format_icd10(d.code)} ({d.covered_indication})" for d in supported)
        return f"These diagnoses are among the covered indications of {drug}: {listed}."
    if not items:
        return "No diagnosis is on file to show the indication."
    return (
        f"The clinic's covered-diagnosis list does not name these diagnoses for {drug}; the ordering "
        "physician's letter of medical necessity explains the indication."
    )


def _order_summary(order: OrderFacts | None) -> str:
    if order is None:
        return "no physician order is on file for this visit"
    ends = f" to {_date(order.end_date)}" if order.end_date else ""
    code = f" ({order.hcpcs})" if order.hcpcs else ""
    return (
        f"{order.drug}{code} {order.dose}, {order.frequency}, from {_date(order.start_date)}{ends}, "
        f"ordered by {order.ordering_provider}"
    )


def _authorization_summary(facts: AppealFacts) -> str:
    found = facts.authorization
    if found is None:
        others = ", ".join(f"{a.number} ({a.status}, {_date(a.valid_from)} to {_date(a.valid_to)})"
                           for a in facts.authorizations)
        tail = f" Authorizations on file for this policy: {others}." if others else ""
        return f"No authorization is on file that covers {_dates_of_service(facts)}.{tail}"
    codes = f" for {', '.join(found.codes)}" if found.codes else ""
    units = f", {_count(found.approved_units)} units approved" if found.approved_units is not None else ""
    visits = f", {found.approved_visits} visits approved" if found.approved_visits is not None else ""
    return (
        f"Authorization {found.number} was {found.status}{codes}, valid {_date(found.valid_from)} "
        f"to {_date(found.valid_to)}{units}{visits}, which covers the date of service "
        f"{_dates_of_service(facts)}."
    )


def _administration_line(a: AdministrationFacts) -> str:
    code = f" ({a.hcpcs})" if a.hcpcs else ""
    minutes = f" ({a.minutes} minutes)" if a.minutes is not None else ""
    waste = f"waste {_amount(a.waste_amount, a.dose_unit)}" if a.waste_amount else "no waste recorded"
    nurse = f", given by {a.nurse}" if a.nurse else ""
    lot = f", lot {a.lot}" if a.lot else ""
    return (
        f"{a.drug}{code} {_amount(a.dose_amount, a.dose_unit)} by {a.method} ({a.route}), "
        f"started {_clock(a.start)} and stopped {_clock(a.stop)}{minutes}, {waste}{lot}{nurse}"
    )


def _administrations(facts: AppealFacts, line: Callable[[AdministrationFacts], str]) -> str:
    if not facts.administrations:
        return "no administration is documented in the nursing record for this visit."
    return "; ".join(line(a) for a in facts.administrations) + "."


def _infusion_time(a: AdministrationFacts) -> str:
    minutes = f", {a.minutes} minutes" if a.minutes is not None else ""
    pauses = f" less {len(a.pauses)} pause(s)" if a.pauses else ""
    return f"{a.drug} by {a.method}: start {_clock(a.start)}, stop {_clock(a.stop)}{minutes}{pauses}"


def _dose_and_waste(a: AdministrationFacts) -> str:
    waste = _amount(a.waste_amount, a.dose_unit) if a.waste_amount else "none recorded"
    ndc = f", NDC {a.ndc}" if a.ndc else ""
    return f"{a.drug} dose {_amount(a.dose_amount, a.dose_unit)}, waste {waste}{ndc}"


def _first(facts: AppealFacts, value: Callable[[AdministrationFacts], str], missing: str) -> str:
    drugs = [a for a in facts.administrations if a.hcpcs and a.dose_amount is not None]
    chosen = drugs or list(facts.administrations)
    return "; ".join(value(a) for a in chosen) if chosen else missing


def _submissions(facts: AppealFacts) -> str:
    if not facts.submissions:
        return "no submission of this claim is recorded."
    return "; ".join(f"{_date(on)}: {what}" for on, what in facts.submissions) + "."


PLACEHOLDERS: Mapping[str, Callable[[AppealFacts], str]] = MappingProxyType({
    "letter_date": lambda f: _date(f.letter_date),
    "payer_name": lambda f: f.payer_name,
    "payer_address": lambda f: "\n".join(f.payer_address) or "(payer's appeal address not on file)",
    "patient_name": lambda f: f.patient_name,
    "patient_birth_date": lambda f: _date(f.patient_birth_date),
    "mrn": lambda f: f.mrn,
    "member_id": lambda f: f.member_id or "not on file",
    "group_number": lambda f: f.group_number or "none",
    "claim_number": lambda f: f.claim_number,
    "payer_claim_number": lambda f: f.payer_claim_number or "not given on the remittance",
    "dates_of_service": _dates_of_service,
    "denied_service": lambda f: f.denied_service,
    "adjustment_code": lambda f: f.adjustment_code,
    "denial_category": lambda f: f.category.replace("_", " "),
    "denial_reason": lambda f: " ".join(part.strip() for part in f.denial_reason.splitlines() if part),
    "amount_appealed": lambda f: _money(f.amount_appealed),
    "billed_amount": lambda f: _money(f.billed_amount),
    "billed_lines": lambda f: "; ".join(f.billed_lines) or "not on file",
    "clinic_name": lambda f: f.letterhead.name,
    "clinic_address": lambda f: ", ".join(f.letterhead.address),
    "clinic_phone": lambda f: f.letterhead.phone or "(clinic phone not on file)",
    "clinic_npi": lambda f: f.letterhead.npi or "not on file",
    "clinic_tin": lambda f: f.letterhead.tin or "not on file",
    "signer_name": lambda f: f.signer_name,
    "ordering_provider": lambda f: f.order.ordering_provider if f.order else "no ordering provider on file",
    "rendering_provider": lambda f: f.rendering_provider or "no rendering provider on file",
    "order_summary": lambda f: _order_summary(f.order),
    "diagnoses": lambda f: _diagnoses(f.diagnoses or (f.order.diagnoses if f.order else ())),
    "diagnosis_support": _diagnosis_support,
    "authorization_number": lambda f: f.authorization.number if f.authorization else NO_AUTHORIZATION,
    "authorization_dates": lambda f: (
        f"{_date(f.authorization.valid_from)} to {_date(f.authorization.valid_to)}"
        if f.authorization else NO_AUTHORIZATION
    ),
    "authorization_summary": _authorization_summary,
    "claim_authorization_number": lambda f: (
        f.claim_authorization_number or "none (the claim carried no authorization number)"
    ),
    "administration_summary": lambda f: _administrations(f, _administration_line),
    "infusion_times": lambda f: _administrations(f, _infusion_time),
    "drug": lambda f: _first(f, lambda a: f"{a.drug} ({a.hcpcs})" if a.hcpcs else a.drug, NO_DRUG),
    "dose": lambda f: _first(f, lambda a: _amount(a.dose_amount, a.dose_unit), "no dose documented"),
    "waste": lambda f: _first(
        f, lambda a: _amount(a.waste_amount, a.dose_unit) if a.waste_amount else "none recorded",
        "no waste documented",
    ),
    "dose_and_waste": lambda f: _first(f, _dose_and_waste, "no dose documented") + ".",
    "submission_history": _submissions,
    "claim_frequency": lambda f: f.frequency_note or "It is the only claim for these services.",
    "coverage_summary": lambda f: f.coverage or "No coverage record is on file for the date of service.",
})
"""Every placeholder a template may use, and how its text is made from the facts.

``subject`` is also allowed outside the subject line: it is the filled subject.
"""

_ALLOWED = frozenset(PLACEHOLDERS) | {"subject"}


def placeholder_values(facts: AppealFacts, template: LetterTemplate) -> dict[str, str]:
    values = {name: make(facts) for name, make in PLACEHOLDERS.items()}
    values["subject"] = template.subject.format_map(values)
    return values


def draft_letter(facts: AppealFacts, template: LetterTemplate) -> str:
    """The letter as plain text, every placeholder filled: what the biller edits before printing."""
    values = placeholder_values(facts, template)

    def fill(text: str) -> str:
        return text.format_map(values)

    blocks = [
        "\n".join(fill(line) for line in template.header),
        fill(template.salutation),
        *(fill(p) for p in (*template.opening, *template.argument, *template.closing)),
    ]
    if template.enclosures:
        blocks.append("\n".join(["Enclosures:", *(f"- {fill(e.item)}" for e in template.enclosures)]))
    blocks.append("\n".join(fill(line) for line in template.signature))
    return "\n\n".join(block for block in blocks if block.strip()) + "\n"


@cache
def letter_templates() -> Mapping[str, LetterTemplate]:
    """The shipped templates, by category (and ``default``), loaded once."""
    return parse_letter_templates(read_resource_text(TEMPLATES_FILE))


def template_for(category: str) -> LetterTemplate:
    """The template of a denial category, or the default when the category has none."""
    templates = letter_templates()
    return templates.get(category) or templates["default"]


def parse_letter_templates(text: str, name: str = TEMPLATES_FILE) -> Mapping[str, LetterTemplate]:
    """Read the templates file; a mistake is refused naming the template, the part and the fix."""
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{name}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError(f'{name}: the top level must be an object with "common" and "templates"')
    common = data.get("common")
    templates = data.get("templates")
    if not isinstance(common, dict):
        raise ValueError(
            f'{name}: "common" must be an object (header, salutation, opening, closing, signature)'
        )
    if not isinstance(templates, dict) or "default" not in templates:
        raise ValueError(f'{name}: "templates" must be an object with a "default" template')
    where = f"{name}: common"
    header = _lines(common, "header", where)
    salutation = _text(common, "salutation", where)
    opening = _lines(common, "opening", where)
    closing = _lines(common, "closing", where)
    signature = _lines(common, "signature", where)
    parsed: dict[str, LetterTemplate] = {}
    for key, body in templates.items():
        if key != "default" and key not in CATEGORIES:
            raise ValueError(
                f"{name}: template {key!r} is not a denial category; use default or one of "
                f"{', '.join(CATEGORIES)}"
            )
        where = f"{name}: template {key!r}"
        if not isinstance(body, dict):
            raise ValueError(f"{where}: must be an object with subject, argument and enclosures")
        unknown = set(body) - {"subject", "argument", "enclosures"}
        if unknown:
            raise ValueError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        subject = _text(body, "subject", where)
        if "{subject}" in subject:
            raise ValueError(f"{where} subject: the subject cannot use {{subject}} itself")
        parsed[key] = LetterTemplate(
            name=key,
            subject=subject,
            header=header,
            salutation=salutation,
            opening=opening,
            argument=_lines(body, "argument", where),
            closing=closing,
            signature=signature,
            enclosures=_enclosures(body.get("enclosures", []), where),
        )
        for part, texts in (
            ("subject", (subject,)),
            ("header", header),
            ("salutation", (salutation,)),
            ("opening", opening),
            ("argument", parsed[key].argument),
            ("closing", closing),
            ("signature", signature),
            ("enclosures", tuple(e.item for e in parsed[key].enclosures)),
        ):
            for index, piece in enumerate(texts):
                _check_placeholders(piece, f"{where} {part}[{index}]")
    return MappingProxyType(parsed)


def _text(body: Mapping[str, Any], key: str, where: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f'{where}: "{key}" must be non-empty text')
    return value


def _lines(body: Mapping[str, Any], key: str, where: str) -> tuple[str, ...]:
    value = body.get(key)
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise ValueError(f'{where}: "{key}" must be a non-empty list of text')
    return tuple(value)


def _enclosures(value: Any, where: str) -> tuple[Enclosure, ...]:
    if not isinstance(value, list):
        raise ValueError(f'{where}: "enclosures" must be a list of {{"item": ..., "printed_by_app": ...}}')
    found: list[Enclosure] = []
    for index, entry in enumerate(value):
        at = f"{where} enclosures[{index}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("item"), str) or not entry["item"].strip():
            raise ValueError(f'{at}: must be an object with non-empty "item" text')
        printed = entry.get("printed_by_app")
        if printed is not None and printed not in PRINTED_BY_APP:
            raise ValueError(f"{at}: printed_by_app {printed!r} must be one of {', '.join(PRINTED_BY_APP)}")
        found.append(Enclosure(entry["item"], printed))
    return tuple(found)


def _check_placeholders(text: str, where: str) -> None:
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}; write a literal brace as {{{{ or }}}}") from None
    for _literal, name, spec, conversion in parts:
        if name is None:
            continue
        if name not in _ALLOWED:
            raise ValueError(
                f"{where}: unknown placeholder {{{name}}}; known placeholders are "
                f"{', '.join(sorted(_ALLOWED))}"
            )
        if spec or conversion:
            raise ValueError(f"{where}: placeholder {{{name}}} takes no format or conversion")


# --- covered diagnoses -------------------------------------------------------------------------


@cache
def _indications() -> Mapping[str, tuple[tuple[str, str], ...]]:
    data = json.loads(read_resource_text("covered_diagnoses.json"))
    return MappingProxyType({
        str(item["hcpcs"]).strip().upper(): tuple(
            (normalize_icd10(code), str(label)) for code, label in item.get("codes", {}).items()
        )
        for item in data.get("drugs", [])
    })


def covered_indication(hcpcs: str, code: str) -> str | None:
    """The indication ``resources/covered_diagnoses.json`` gives ``code`` for the drug, if any.

    >>> covered_indication("J1745", "K50.90") is not None
    True
    >>> covered_indication("J1745", "Z00.00") is None
    True
    """
    bare = normalize_icd10(code)
    matches = [(p, label) for p, label in _indications().get(hcpcs.strip().upper(), ()) if bare.startswith(p)]
    return max(matches, key=lambda m: len(m[0]))[1] if matches else None


# --- PDF layout --------------------------------------------------------------------------------

WIDTH, HEIGHT = LETTER
MARGIN = 1 * inch
BODY_FONT = "Helvetica"
BOLD_FONT = "Helvetica-Bold"
BODY_SIZE = 11
LEADING = 14
FOOTER_Y = 0.6 * inch
BOTTOM = 1 * inch
TOP = HEIGHT - MARGIN
TEXT_WIDTH = WIDTH - 2 * MARGIN


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    if not text.strip():
        return [""]
    indent = ""
    if text.startswith("- "):
        indent = "  "
    lines: list[str] = [str(piece) for piece in simpleSplit(text, font, size, width)]
    return [lines[0], *(indent + line for line in lines[1:])] if lines else [""]


def _letterhead_height(letterhead: Letterhead) -> float:
    lines = len(letterhead.address) + (1 if (letterhead.phone or letterhead.npi) else 0)
    return 20 + 12 * lines + 28


def letter_pages(letter_text: str, letterhead: Letterhead) -> tuple[tuple[str, ...], ...]:
    """The letter's lines as they fall on each printed page (the preview shows the same)."""
    lines: list[str] = []
    for raw in letter_text.replace("\r\n", "\n").rstrip("\n").split("\n"):
        lines.extend(_wrap(raw.rstrip(), BODY_FONT, BODY_SIZE, TEXT_WIDTH))
    first = int((TOP - _letterhead_height(letterhead) - BOTTOM) // LEADING)
    others = int((TOP - 24 - BOTTOM) // LEADING)
    pages: list[tuple[str, ...]] = []
    start, capacity = 0, first
    while start < len(lines) or not pages:
        pages.append(tuple(lines[start : start + capacity]))
        start += capacity
        capacity = others
    return tuple(pages)


class _Pages:
    """Drawing operations gathered per page, drawn at the end when the page count is known."""

    def __init__(self, title: str, letterhead: Letterhead) -> None:
        self.title = title
        self.letterhead = letterhead
        self.pages: list[list[tuple[str, float, float, str, float, str]]] = []
        self.rules: list[list[tuple[float, float, float]]] = []
        self.y = 0.0
        self.new_page()

    def new_page(self) -> None:
        self.pages.append([])
        self.rules.append([])
        if len(self.pages) == 1:
            self._letterhead()
        else:
            self.text(MARGIN, TOP, f"{self.letterhead.name} - {self.title}", "Helvetica-Oblique", 9)
            self.y = TOP - 24

    def _letterhead(self) -> None:
        head = self.letterhead
        y = TOP
        self.text(MARGIN, y, head.name, BOLD_FONT, 16)
        y -= 20
        for line in head.address:
            self.text(MARGIN, y, line, BODY_FONT, 10)
            y -= 12
        contact = "   ".join(
            part for part in (
                f"Phone {head.phone}" if head.phone else "", f"NPI {head.npi}" if head.npi else ""
            ) if part
        )
        if contact:
            self.text(MARGIN, y, contact, BODY_FONT, 10)
            y -= 12
        self.rules[-1].append((MARGIN, WIDTH - MARGIN, y + 2))
        self.y = y - 26

    def text(self, x: float, y: float, text: str, font: str = BODY_FONT, size: float = BODY_SIZE,
             align: str = "left") -> None:
        self.pages[-1].append((text, x, y, font, size, align))

    def need(self, height: float) -> None:
        if self.y - height < BOTTOM:
            self.new_page()

    def line(self, text: str, font: str = BODY_FONT, size: float = BODY_SIZE, indent: float = 0) -> None:
        self.need(LEADING)
        self.text(MARGIN + indent, self.y, text, font, size)
        self.y -= LEADING

    def paragraph(self, text: str, font: str = BODY_FONT, size: float = BODY_SIZE, indent: float = 0) -> None:
        for piece in _wrap(text, font, size, TEXT_WIDTH - indent):
            self.line(piece, font, size, indent)

    def heading(self, text: str, size: float = 12) -> None:
        self.need(LEADING * 3)
        self.y -= 6
        self.line(text, BOLD_FONT, size)

    def fields(self, rows: Sequence[tuple[str, str]], label_width: float = 1.9 * inch) -> None:
        for label, value in rows:
            pieces = _wrap(value, BODY_FONT, 10, TEXT_WIDTH - label_width) or [""]
            self.need(LEADING * len(pieces))
            self.text(MARGIN, self.y, f"{label}:", BOLD_FONT, 10)
            for piece in pieces:
                self.text(MARGIN + label_width, self.y, piece, BODY_FONT, 10)
                self.y -= 13

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[float]) -> None:
        def draw(cells: Sequence[str], font: str) -> None:
            self.need(13)
            x = MARGIN
            for cell, width in zip(cells, widths, strict=True):
                self.text(x, self.y, _fit(cell, font, 9, width - 4), font, 9)
                x += width
            self.y -= 13

        draw(headers, BOLD_FONT)
        for row in rows:
            draw(row, BODY_FONT)

    def space(self, height: float = 8) -> None:
        self.y -= height

    def pdf(self, footer: str = "") -> bytes:
        buffer = io.BytesIO()
        canvas = Canvas(buffer, pagesize=LETTER, invariant=True)
        canvas.setTitle(self.title)
        canvas.setAuthor(self.letterhead.name)
        total = len(self.pages)
        for number, (ops, rules) in enumerate(zip(self.pages, self.rules, strict=True), start=1):
            for text, x, y, font, size, align in ops:
                canvas.setFont(font, size)
                if align == "right":
                    canvas.drawRightString(x, y, text)
                else:
                    canvas.drawString(x, y, text)
            for x1, x2, y in rules:
                canvas.line(x1, y, x2, y)
            canvas.setFont("Helvetica", 8)
            if footer:
                canvas.drawString(MARGIN, FOOTER_Y, footer)
            canvas.drawRightString(WIDTH - MARGIN, FOOTER_Y, f"Page {number} of {total}")
            canvas.showPage()
        canvas.save()
        return buffer.getvalue()


def _fit(text: str, font: str, size: float, width: float) -> str:
    if stringWidth(text, font, size) <= width:
        return text
    while text and stringWidth(text + "...", font, size) > width:
        text = text[:-1]
    return text + "..."


def render_letter_pdf(letter_text: str, letterhead: Letterhead, *, title: str = "Appeal letter") -> bytes:
    """The letter the biller kept, on the clinic's letterhead: wrapped, paginated, letter size."""
    doc = _Pages(title, letterhead)
    for index, page in enumerate(letter_pages(letter_text, letterhead)):
        if index:
            doc.new_page()
        for line in page:
            doc.text(MARGIN, doc.y, line)
            doc.y -= LEADING
    return doc.pdf()


def _record_header(doc: _Pages, title: str, facts: AppealFacts) -> None:
    doc.line(title, BOLD_FONT, 14)
    doc.space(4)
    doc.fields([
        ("Patient", facts.patient_name),
        ("Date of birth", _date(facts.patient_birth_date)),
        ("MRN", facts.mrn),
        ("Payer", facts.payer_name),
        ("Member ID", facts.member_id or "not on file"),
        ("Claim number", facts.claim_number),
        ("Payer claim number", facts.payer_claim_number or "not given on the remittance"),
        ("Date(s) of service", _dates_of_service(facts)),
    ])


def _printed(facts: AppealFacts) -> str:
    on = facts.printed_on or facts.letter_date
    return (
        f"Printed from the clinic's record by Infusion Desk on {on:%m/%d/%Y}. "
        "Times are the clinic's local time."
    )


def render_administration_record(facts: AppealFacts) -> bytes:
    """The infusion administration record of the visit, as the nurses documented it."""
    doc = _Pages(f"Infusion administration record {facts.claim_number}", facts.letterhead)
    _record_header(doc, "Infusion administration record", facts)
    doc.fields([
        ("Order", _order_summary(facts.order)),
        ("Diagnoses", _diagnoses(facts.diagnoses or (facts.order.diagnoses if facts.order else ()))),
        ("Rendering provider", facts.rendering_provider or "not on file"),
    ])
    doc.heading("Administrations")
    if not facts.administrations:
        doc.paragraph("No administration is documented in the nursing record for this visit.")
    for number, a in enumerate(facts.administrations, start=1):
        doc.need(LEADING * 6)
        doc.line(f"{number}. {a.drug}" + (f" ({a.hcpcs})" if a.hcpcs else ""), BOLD_FONT, 11)
        pauses = "; ".join(f"{_clock(p)} to {_clock(r) if r else 'not resumed'}" for p, r in a.pauses)
        doc.fields([
            ("Dose", _amount(a.dose_amount, a.dose_unit)),
            ("Waste", _amount(a.waste_amount, a.dose_unit) if a.waste_amount else "none recorded"),
            ("Method and route", f"{a.method}, {a.route}" + (f", site {a.iv_site}" if a.iv_site else "")),
            ("Start", _clock(a.start)),
            ("Stop", _clock(a.stop)),
            ("Minutes running", str(a.minutes) if a.minutes is not None else "not complete"),
            ("Pauses", pauses or "none"),
            ("NDC", a.ndc or "not recorded"),
            ("Lot", (a.lot or "not recorded") + (f", expires {_date(a.lot_expiry)}" if a.lot_expiry else "")),
            ("Nurse", a.nurse or "not recorded"),
            *((("Notes", a.notes),) if a.notes else ()),
        ])
        doc.space(4)
    doc.heading("Vital signs")
    if facts.vitals:
        doc.table(
            ("Time", "BP", "Pulse", "Resp", "Temp C", "SpO2", "Pain", "By"),
            [
                (
                    _clock(v.taken_at),
                    f"{v.systolic}/{v.diastolic}" if v.systolic and v.diastolic else "",
                    _opt(v.pulse), _opt(v.respiratory_rate),
                    f"{v.temperature_c:f}" if v.temperature_c is not None else "",
                    _opt(v.spo2), _opt(v.pain_score), v.taken_by or "",
                )
                for v in facts.vitals
            ],
            tuple(w * inch for w in (1.35, 0.75, 0.55, 0.5, 0.6, 0.5, 0.5, 1.75)),
        )
    else:
        doc.paragraph("No vital signs recorded.")
    doc.heading("Reactions")
    if not facts.reactions:
        doc.paragraph("No reaction recorded.")
    for r in facts.reactions:
        resolved = f", resolved {_clock(r.resolved)}" if r.resolved else ", not recorded as resolved"
        doc.paragraph(f"{_clock(r.onset)} ({r.severity}): {r.description}{resolved}.")
        for step in r.interventions:
            doc.paragraph(f"- {step}", indent=12)
    return doc.pdf(_printed(facts))


def _opt(value: int | None) -> str:
    return "" if value is None else str(value)


def render_authorization_summary(facts: AppealFacts) -> bytes:
    """The prior authorizations on file for the claim's policy, the one covering the service first."""
    doc = _Pages(f"Authorization summary {facts.claim_number}", facts.letterhead)
    _record_header(doc, "Prior authorization summary", facts)
    doc.fields([
        ("Service denied", facts.denied_service),
        ("Number on the claim", facts.claim_authorization_number or "none"),
    ])
    doc.heading("Authorizations on file")
    doc.paragraph(_authorization_summary(facts))
    for a in facts.authorizations:
        doc.space(4)
        doc.line(f"Authorization {a.number}", BOLD_FONT, 11)
        doc.fields([
            ("Status", a.status),
            ("Valid", f"{_date(a.valid_from)} to {_date(a.valid_to)}"),
            ("Codes", ", ".join(a.codes) or "none listed"),
            ("Units approved", _count(a.approved_units) if a.approved_units is not None else "not stated"),
            ("Visits approved", str(a.approved_visits) if a.approved_visits is not None else "not stated"),
            ("Covers this service", "yes" if a.covers_service else "no"),
            *((("Notes", a.notes),) if a.notes else ()),
        ])
    return doc.pdf(_printed(facts))
