"""The coding engine against the rules, one row per rule with its source.

Each row is a visit, the lines a certified coder would bill (compared as a multiset of
``(code, units, sorted modifiers)``), warnings that must be given and warnings that must not.
The expected answers come from ``shared/domain/coding-rules.md`` (section and citation key in
each comment) and the decisions in ``docs/coding-engine.md`` where sources conflict; they were
written from those documents, not from the engine.

Catalog facts used (resources/drug_catalog.json, coding-rules §12.2): J1569 IVIG 500 mg SDC;
J9045 carboplatin 50 mg multi-dose; J9267 paclitaxel 1 mg multi-dose; J1453 fosaprepitant 1 mg
SDC; J3489 zoledronic acid 1 mg SDC; J2405 ondansetron 1 mg multi-dose; J1200 diphenhydramine
up to 50 mg SDC; J1100 dexamethasone 1 mg SDC. Medicare lines of single-dose-container drugs
with nothing wasted carry JZ (§13).
"""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from infusion_desk.billing.coding import code_json
from tests.billing.coding_cases import (
    ADMIN_CODES,
    INITIAL_CODES,
    L,
    Line,
    billed,
    clock,
    flush,
    hydration,
    infusion,
    injection,
    is_drug_code,
    push,
    visit,
    warning_codes,
)


def code(payload: dict[str, Any], settings: dict[str, Any] | None = None) -> dict[str, Any]:
    if settings is None:
        return code_json(payload)
    return code_json(payload, payer_settings=settings)


# --- drugs used again and again ------------------------------------------------------------


def ivig(aid: str, start: str, stop: str | int | None, **kw: Any) -> dict[str, Any]:
    """Gammagard 10 g: J1569 x20 (500 mg units)."""
    return infusion(aid, "J1569", start, stop, dose=(10, "g"), **kw)


IVIG = L("J1569", 20, "JZ")
IVIG_C = L("J1569", 20)  # commercial: no JZ by default


def carbo(aid: str, start: str, stop: str | int | None, mg: int = 400, **kw: Any) -> dict[str, Any]:
    """Carboplatin 400 mg: J9045 x8 (50 mg units, multi-dose vial: no JW/JZ)."""
    return infusion(aid, "J9045", start, stop, dose=(mg, "mg"), **kw)


CARBO = L("J9045", 8)


def pacli(aid: str, start: str, stop: str | int | None, **kw: Any) -> dict[str, Any]:
    """Paclitaxel 300 mg: J9267 x300 (1 mg units, multi-dose vial)."""
    return infusion(aid, "J9267", start, stop, dose=(300, "mg"), **kw)


PACLI = L("J9267", 300)


def fosap(aid: str, start: str, stop: str | int | None, **kw: Any) -> dict[str, Any]:
    """Fosaprepitant 150 mg: J1453 x150."""
    return infusion(aid, "J1453", start, stop, dose=(150, "mg"), **kw)


FOSAP = L("J1453", 150, "JZ")


def zol(aid: str, start: str, stop: str | int | None, **kw: Any) -> dict[str, Any]:
    """Zoledronic acid 4 mg: J3489 x4."""
    return infusion(aid, "J3489", start, stop, dose=(4, "mg"), **kw)


ZOL = L("J3489", 4, "JZ")


def ondan(aid: str, start: str, mg: int = 8, stop: str | int | None = 2, **kw: Any) -> dict[str, Any]:
    """Ondansetron IV push: J2405, 1 mg units, multi-dose vial."""
    return push(aid, "J2405", start, stop, dose=(mg, "mg"), **kw)


def ondan_inf(aid: str, start: str, stop: str | int | None, **kw: Any) -> dict[str, Any]:
    return infusion(aid, "J2405", start, stop, dose=(8, "mg"), **kw)


ONDAN = L("J2405", 8)


def diph(aid: str, start: str, mg: int = 50, **kw: Any) -> dict[str, Any]:
    """Diphenhydramine IV push: J1200 up to 50 mg."""
    return push(aid, "J1200", start, dose=(mg, "mg"), **kw)


DIPH = L("J1200", 1, "JZ")


def dex(aid: str, start: str, **kw: Any) -> dict[str, Any]:
    return push(aid, "J1100", start, dose=(12, "mg"), **kw)


DEX = L("J1100", 12, "JZ")


def vincristine(aid: str, start: str, stop: str | int | None = 2, **kw: Any) -> dict[str, Any]:
    """Vincristine 1.4 mg push, catalog-independent: J9370 1 mg units -> x2."""
    return push(
        aid, "J9370", start, stop, dose=(1.4, "mg"), unit=(1, "mg"), cls="chemotherapy", sdc=False, **kw
    )


VINC = L("J9370", 2)


def ifx(aid: str, mg: int, waste: int | None = None, **kw: Any) -> dict[str, Any]:
    """Infliximab 09:00-10:00 (96413 under the Medicare complex-biologic default)."""
    return infusion(
        aid, "J1745", "09:00", 60, dose=(mg, "mg"), waste=None if waste is None else (waste, "mg"), **kw
    )


def scig(aid: str, start: str, stop: str | int | None) -> dict[str, Any]:
    """Hizentra 10 g by SC infusion: J1559 100 mg units -> x100."""
    return infusion(aid, "J1559", start, stop, dose=(10, "g"), route="SC")


SCIG = L("J1559", 100, "JZ")


# --- the table -----------------------------------------------------------------------------


class Case(NamedTuple):
    id: str
    payload: dict[str, Any]
    lines: list[Line]
    warnings: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    settings: dict[str, Any] | None = None


def therapeutic_after_ivig(minutes: int) -> dict[str, Any]:
    """IVIG 09:00-10:00 (96365), then ondansetron infused for ``minutes`` from 10:00."""
    return visit(ivig("a1", "09:00", 60), ondan_inf("a2", "10:00", minutes))


def chemo_after_paclitaxel(minutes: int) -> dict[str, Any]:
    """Paclitaxel 09:00-10:00, then carboplatin for ``minutes`` from 10:00."""
    return visit(pacli("a1", "09:00", 60), carbo("a2", "10:00", minutes))


def hydration_after_ivig(minutes: int) -> dict[str, Any]:
    return visit(ivig("a1", "09:00", 60), hydration("h1", "10:00", minutes))


CASES: list[Case] = [
    # ---- §5 time thresholds: therapeutic infusion as the initial service --------------------
    # §4/§5 R-NOR-JFB-CHEMO: an infusion of 15 min or less is a push.
    Case("ther_15min_is_push_96374", visit(zol("a1", "09:00", 15)), [L("96374"), ZOL]),
    # §5 R-NOR-JFB-CHEMO: 96365 needs 16 min.
    Case("ther_16min_96365", visit(zol("a1", "09:00", 16)), [L("96365"), ZOL]),
    # §5 R-AAPC-PULM/R-MPS-TABLE: 16-90 min = initial hour only.
    Case("ther_90min_96365_only", visit(ivig("a1", "09:00", 90)), [L("96365"), IVIG]),
    # §5: 91st minute starts the first added hour.
    Case("ther_91min_96366x1", visit(ivig("a1", "09:00", 91)), [L("96365"), L("96366"), IVIG]),
    Case("ther_150min_96366x1", visit(ivig("a1", "09:00", 150)), [L("96365"), L("96366"), IVIG]),
    # §5: 151st minute starts the second added hour.
    Case("ther_151min_96366x2", visit(ivig("a1", "09:00", 151)), [L("96365"), L("96366", 2), IVIG]),
    Case("ther_210min_96366x2", visit(ivig("a1", "09:00", 210)), [L("96365"), L("96366", 2), IVIG]),
    # §5: 211th minute starts the third added hour.
    Case("ther_211min_96366x3", visit(ivig("a1", "09:00", 211)), [L("96365"), L("96366", 3), IVIG]),
    # ---- §5 time thresholds: chemotherapy infusion as the initial service --------------------
    # §2/§4: a 15 min chemo infusion is a chemo push 96409 (R-CLEARCOST-96409, R-NOR-JFB-CHEMO).
    Case("chemo_15min_is_push_96409", visit(carbo("a1", "09:00", 15)), [L("96409"), CARBO]),
    # §5 R-AAPC-QUIZ: 96413 needs 16 min.
    Case("chemo_16min_96413", visit(carbo("a1", "09:00", 16)), [L("96413"), CARBO]),
    Case("chemo_90min_96413_only", visit(carbo("a1", "09:00", 90)), [L("96413"), CARBO]),
    Case("chemo_91min_96415x1", visit(carbo("a1", "09:00", 91)), [L("96413"), L("96415"), CARBO]),
    Case("chemo_150min_96415x1", visit(carbo("a1", "09:00", 150)), [L("96413"), L("96415"), CARBO]),
    Case("chemo_151min_96415x2", visit(carbo("a1", "09:00", 151)), [L("96413"), L("96415", 2), CARBO]),
    Case("chemo_210min_96415x2", visit(carbo("a1", "09:00", 210)), [L("96413"), L("96415", 2), CARBO]),
    Case("chemo_211min_96415x3", visit(carbo("a1", "09:00", 211)), [L("96413"), L("96415", 3), CARBO]),
    # ---- §5/§6 hydration as the initial service ----------------------------------------------
    # §6 R-RAC137: 30 min or less is not reportable.
    Case("hyd_initial_30min_not_billed", visit(hydration("h1", "09:00", 30)), []),
    # §2 R-RAC137/R-NOR-A52732: 96360 is 31 min to 1 h.
    Case("hyd_initial_31min_96360", visit(hydration("h1", "09:00", 31)), [L("96360")]),
    Case("hyd_initial_90min_96360_only", visit(hydration("h1", "09:00", 90)), [L("96360")]),
    # §5 R-CPT-EX-HYD: hours after the first as for drug infusions (91st, 151st minute).
    Case("hyd_initial_91min_96361x1", visit(hydration("h1", "09:00", 91)), [L("96360"), L("96361")]),
    Case("hyd_initial_150min_96361x1", visit(hydration("h1", "09:00", 150)), [L("96360"), L("96361")]),
    Case("hyd_initial_151min_96361x2", visit(hydration("h1", "09:00", 151)), [L("96360"), L("96361", 2)]),
    Case("hyd_initial_210min_96361x2", visit(hydration("h1", "09:00", 210)), [L("96360"), L("96361", 2)]),
    Case("hyd_initial_211min_96361x3", visit(hydration("h1", "09:00", 211)), [L("96360"), L("96361", 3)]),
    # ---- §5/§6 hydration after a different initial service: 96361 only -----------------------
    # §5 R-AAPC-CONQUER/R-CODAPEDIA-HYD: secondary hydration of 30 min or less is not reported.
    Case("hyd_secondary_30min_not_billed", hydration_after_ivig(30), [L("96365"), IVIG]),
    # §5: secondary hydration 31 min = 96361 x1 (not 96360: §6 R-SELECTHEALTH).
    Case("hyd_secondary_31min_96361x1", hydration_after_ivig(31), [L("96365"), L("96361"), IVIG]),
    Case("hyd_secondary_90min_96361x1", hydration_after_ivig(90), [L("96365"), L("96361"), IVIG]),
    # §5: units = floor((d-31)/60)+1, so 91 min = 2.
    Case("hyd_secondary_91min_96361x2", hydration_after_ivig(91), [L("96365"), L("96361", 2), IVIG]),
    Case("hyd_secondary_150min_96361x2", hydration_after_ivig(150), [L("96365"), L("96361", 2), IVIG]),
    Case("hyd_secondary_151min_96361x3", hydration_after_ivig(151), [L("96365"), L("96361", 3), IVIG]),
    # ---- §4/§5 sequential infusion of a new non-chemo drug -----------------------------------
    # §4 R-AAPC-SEQ171590: a sequential infusion of 15 min or less is a sequential push 96375.
    Case("seq_ther_15min_is_96375", therapeutic_after_ivig(15), [L("96365"), L("96375"), IVIG, ONDAN]),
    # §5 R-AAPC-INITTYPE: 96367 needs 16 min.
    Case("seq_ther_16min_96367", therapeutic_after_ivig(16), [L("96365"), L("96367"), IVIG, ONDAN]),
    Case("seq_ther_90min_96367_only", therapeutic_after_ivig(90), [L("96365"), L("96367"), IVIG, ONDAN]),
    # §2 +96366 also for the added hours of a 96367 infusion (docs decision "Sequential").
    Case(
        "seq_ther_91min_96367_96366",
        therapeutic_after_ivig(91),
        [L("96365"), L("96367"), L("96366"), IVIG, ONDAN],
    ),
    Case(
        "seq_ther_151min_96367_96366x2",
        therapeutic_after_ivig(151),
        [L("96365"), L("96367"), L("96366", 2), IVIG, ONDAN],
    ),
    # §4/§5: both infusions 95 min; hour add-ons of the initial and the sequential merge (docs "Merging").
    Case(
        "seq_ther_hours_merge_96366x2",
        visit(ivig("a1", "09:00", 95), fosap("a2", "10:35", 95)),
        [L("96365"), L("96367"), L("96366", 2), IVIG, FOSAP],
    ),
    # ---- §4/§5 sequential chemo ---------------------------------------------------------------
    # §4: a second chemo of 15 min or less is 96411 (chemo push, each additional drug).
    Case("seq_chemo_15min_is_96411", chemo_after_paclitaxel(15), [L("96413"), L("96411"), PACLI, CARBO]),
    # §2 R-AAPC-CONQUER: 96417 needs 16 min.
    Case("seq_chemo_16min_96417", chemo_after_paclitaxel(16), [L("96413"), L("96417"), PACLI, CARBO]),
    # §2: 96417 one unit per drug, its added hours are 96415 (R-AAPC-CONQUER, R-CAREEST-96417).
    Case(
        "seq_chemo_91min_96417_96415",
        chemo_after_paclitaxel(91),
        [L("96413"), L("96417"), L("96415"), PACLI, CARBO],
    ),
    Case(
        "seq_chemo_151min_96417_96415x2",
        chemo_after_paclitaxel(151),
        [L("96413"), L("96417"), L("96415", 2), PACLI, CARBO],
    ),
    # ---- §5 worked examples -------------------------------------------------------------------
    # §5 R-AAPC-PULM: 75-min infusion -> 96365 only.
    Case("aapc_pulm_75min_96365_only", visit(ivig("a1", "09:00", 75)), [L("96365"), IVIG]),
    # §5 R-AAPC-PULM: 1 h 45 min -> 96365 + 96366.
    Case("aapc_pulm_1h45_96365_96366", visit(ivig("a1", "09:00", 105)), [L("96365"), L("96366"), IVIG]),
    # §5 R-AAPC-QUIZ: 105-min chemo -> 96413 + 96415.
    Case("aapc_quiz_chemo_105min", visit(carbo("a1", "09:00", 105)), [L("96413"), L("96415"), CARBO]),
    # §5 R-AAPC-SEQ171590: 115-min chemo -> 96413 + 96415.
    Case("aapc_seq_chemo_115min", visit(carbo("a1", "09:00", 115)), [L("96413"), L("96415"), CARBO]),
    # §5 R-CODINGAHEAD-96361: hydration 9:00-12:20 -> 96360 + 96361 x2.
    Case(
        "codingahead_hydration_0900_1220",
        visit(hydration("h1", "09:00", "12:20")),
        [L("96360"), L("96361", 2)],
    ),
    # §5 R-CPT-EX-HYD: CPT's 11 pm-2 am hydration (3 h, across midnight) -> 96360 + 96361 x2.
    Case(
        "cpt_hydration_2300_0200",
        visit(hydration("h1", "2026-03-02T23:00", "2026-03-03T02:00")),
        [L("96360"), L("96361", 2)],
    ),
    # §5 R-TRANSTUTORS: hydration 1 h 32 min -> 96360 + 96361.
    Case("transtutors_hydration_92min", visit(hydration("h1", "09:00", 92)), [L("96360"), L("96361")]),
    # §5 R-AAPC-RITUX-PAUSE: 5 h 20 min with a 1 h 15 min pause = 245 min -> 96413 + 96415 x3.
    # §12.1 rituximab 712.5 mg / 10 mg = 71.25 -> 72 units.
    Case(
        "aapc_rituximab_5h20_pause_1h15",
        visit(infusion("a1", "J9312", "09:00", "14:20", dose=(712.5, "mg"), pauses=[("10:00", "11:15")])),
        [L("96413"), L("96415", 3), L("J9312", 72, "JZ")],
    ),
    # ---- §4/§5 interruptions --------------------------------------------------------------------
    # §4 R-AAPC-RITUX-PAUSE: 100 min less a 10 min pause = 90 -> no added hour.
    Case(
        "pause_100_less_10_is_90min",
        visit(ivig("a1", "09:00", 100, pauses=[("09:30", "09:40")])),
        [L("96365"), IVIG],
    ),
    Case(
        "pause_101_less_10_is_91min",
        visit(ivig("a1", "09:00", 101, pauses=[("09:30", "09:40")])),
        [L("96365"), L("96366"), IVIG],
    ),
    # §5: 180 min less two pauses (20 + 10) = 150 -> one added hour.
    Case(
        "two_pauses_chemo_180_less_30",
        visit(carbo("a1", "09:00", 180, pauses=[("10:00", "10:20"), ("11:00", "11:10")])),
        [L("96413"), L("96415"), CARBO],
    ),
    # §4/§5: 25 min less a 10 min pause = 15 min of running time -> push.
    Case(
        "pause_leaves_15min_push",
        visit(zol("a1", "09:00", 25, pauses=[("09:10", "09:20")])),
        [L("96374"), ZOL],
    ),
    # docs "Invalid times": an interruption outside the administration -> not coded, INVALID_TIMES.
    Case(
        "pause_outside_is_invalid",
        visit(ivig("a1", "09:00", 60), hydration("h1", "10:00", 60, pauses=[("11:30", "11:40")])),
        [L("96365"), IVIG],
        warnings=("INVALID_TIMES",),
    ),
    # ---- §4 concurrent infusions ------------------------------------------------------------------
    # §4 R-ASCO-CONC/R-MEDLEARN-CONC23: a second drug in its own bag running at the same time -> 96368,
    # no added hours for it.
    Case(
        "concurrent_one_drug_96368",
        visit(ivig("a1", "09:00", 180, bag="b1"), fosap("a2", "09:30", 30, bag="b2")),
        [L("96365"), L("96366", 2), L("96368"), IVIG, FOSAP],
    ),
    # §2 R-MEDLEARN-CONC23: 96368 once per encounter however many drugs run concurrently.
    Case(
        "concurrent_two_drugs_96368_once",
        visit(
            ivig("a1", "09:00", 180, bag="b1"),
            fosap("a2", "09:30", 30, bag="b2"),
            zol("a3", "10:30", 30, bag="b3"),
        ),
        [L("96365"), L("96366", 2), L("96368"), IVIG, FOSAP, ZOL],
    ),
    # §5: a 2 h concurrent infusion still gets no hours; hours only from the 240-min initial (x3).
    Case(
        "concurrent_long_no_hours",
        visit(ivig("a1", "09:00", 240, bag="b1"), fosap("a2", "09:30", 120, bag="b2")),
        [L("96365"), L("96366", 3), L("96368"), IVIG, FOSAP],
    ),
    # §0.6/§4 R-AAPC-CONC2006: no concurrent-chemo code; only the drug is billed.
    Case(
        "concurrent_chemo_no_code",
        visit(
            infusion("a1", "J9312", "09:00", 240, dose=(712.5, "mg"), bag="b1"),
            carbo("a2", "10:00", 60, bag="b2"),
        ),
        [L("96413"), L("96415", 3), L("J9312", 72, "JZ"), CARBO],
        warnings=("CONCURRENT_CHEMO",),
    ),
    # §18: 96368 with a 96413 primary (a non-chemo drug concurrent with chemo).
    Case(
        "concurrent_therapeutic_with_chemo_initial",
        visit(
            infusion("a1", "J9312", "09:00", 120, dose=(712.5, "mg"), bag="b1"),
            fosap("a2", "09:30", 30, bag="b2"),
        ),
        [L("96413"), L("96415"), L("96368"), L("J9312", 72, "JZ"), FOSAP],
        absent=("CONCURRENT_CHEMO",),
    ),
    # ---- §4 drugs mixed in one bag -------------------------------------------------------------------
    # §4 R-ASCO-CONC: one infusate = one administration; each drug's J-code still billed.
    Case(
        "same_bag_two_drugs_one_96365",
        visit(
            ondan_inf("a1", "09:00", 30, bag="b1"),
            infusion("a2", "J1100", "09:00", 30, dose=(12, "mg"), bag="b1"),
        ),
        [L("96365"), ONDAN, DEX],
    ),
    # §4 R-MEDLEARN-2024: a mixed bag of 15 min or less is one push.
    Case(
        "same_bag_10min_one_push",
        visit(
            ondan_inf("a1", "09:00", 10, bag="b1"),
            infusion("a2", "J1100", "09:00", 10, dose=(12, "mg"), bag="b1"),
        ),
        [L("96374"), ONDAN, DEX],
    ),
    # docs "Same bag": earliest start to latest stop, 09:00-10:35 = 95 min -> one added hour.
    Case(
        "same_bag_span_95min",
        visit(
            ondan_inf("a1", "09:00", 40, bag="b1"),
            infusion("a2", "J1100", "09:05", "10:35", dose=(12, "mg"), bag="b1"),
        ),
        [L("96365"), L("96366"), ONDAN, DEX],
    ),
    # ---- §3.2 separate encounters -------------------------------------------------------------------
    # §3.2 R-AAPC-2TRIPS, §15: a second encounter gets its own initial code; Medicare XE.
    Case(
        "second_encounter_medicare_XE",
        visit(ivig("a1", "09:00", 60, encounter="1"), ondan("a2", "15:00", encounter="2")),
        [L("96365"), L("96374", 1, "XE"), IVIG, ONDAN],
    ),
    # §3.2/§15: other payers 59 (docs "Second site / encounter").
    Case(
        "second_encounter_commercial_59",
        visit(
            ivig("a1", "09:00", 60, encounter="1"), ondan("a2", "15:00", encounter="2"), payer="commercial"
        ),
        [L("96365"), L("96374", 1, "59"), IVIG_C, ONDAN],
    ),
    Case(
        "second_encounter_medicaid_59",
        visit(ivig("a1", "09:00", 60, encounter="1"), ondan("a2", "15:00", encounter="2"), payer="medicaid"),
        [L("96365"), L("96374", 1, "59"), IVIG_C, ONDAN],
    ),
    # §12.1 R-AAPC-FORUM-96376: the same drug twice on one date is one drug line (100 + 100 mg).
    Case(
        "second_encounter_same_drug_one_line",
        visit(
            infusion("a1", "J1756", "09:00", 30, dose=(100, "mg"), encounter="1"),
            infusion("a2", "J1756", "16:00", 30, dose=(100, "mg"), encounter="2"),
        ),
        [L("96365"), L("96365", 1, "XE"), L("J1756", 200, "JZ")],
    ),
    # §3.2: hydration alone in the second encounter is that encounter's initial: 96360, not 96361.
    Case(
        "second_encounter_hydration_96360_XE",
        visit(carbo("a1", "09:00", 60, encounter="1"), hydration("h1", "14:00", 60, encounter="2")),
        [L("96413"), L("96360", 1, "XE"), CARBO],
    ),
    # docs: only the later encounter's initial code carries XE, its hour add-on does not.
    Case(
        "second_encounter_addon_without_modifier",
        visit(carbo("a1", "09:00", 60, encounter="1"), ivig("a2", "14:00", 100, encounter="2")),
        [L("96413"), L("96365", 1, "XE"), L("96366"), CARBO, IVIG],
    ),
    # ---- §3.2 second IV site -------------------------------------------------------------------
    # §3.2 R-RAC71: a medically necessary second site gets a second initial; Medicare XU.
    Case(
        "second_site_required_medicare_XU",
        visit(
            ivig("a1", "09:00", 120, site="L arm", bag="b1"),
            fosap("a2", "09:30", 60, site="R arm", bag="b2", flags=["separate_site_required"]),
        ),
        [L("96365"), L("96366"), L("96365", 1, "XU"), IVIG, FOSAP],
    ),
    Case(
        "second_site_required_commercial_59",
        visit(
            ivig("a1", "09:00", 120, site="L arm", bag="b1"),
            fosap("a2", "09:30", 60, site="R arm", bag="b2", flags=["separate_site_required"]),
            payer="commercial",
        ),
        [L("96365"), L("96366"), L("96365", 1, "59"), IVIG_C, L("J1453", 150)],
    ),
    # §3.1 NCCI XI: without medical necessity, one initial per encounter -> sequential 96367.
    Case(
        "second_site_not_required_sequential",
        visit(ivig("a1", "09:00", 60, site="L arm"), fosap("a2", "10:15", 30, site="R arm")),
        [L("96365"), L("96367"), IVIG, FOSAP],
        warnings=("SECOND_SITE_NOT_NECESSARY",),
    ),
    Case(
        "second_site_not_required_concurrent",
        visit(
            ivig("a1", "09:00", 120, site="L arm", bag="b1"),
            fosap("a2", "09:30", 60, site="R arm", bag="b2"),
        ),
        [L("96365"), L("96366"), L("96368"), IVIG, FOSAP],
        warnings=("SECOND_SITE_NOT_NECESSARY",),
    ),
    # ---- §3.1/§4 pushes -------------------------------------------------------------------------------
    # §3.1 R-SELECTHEALTH/R-PPT-GUIDE: the first push after an initial infusion is 96375, not 96374.
    Case(
        "push_after_infusion_96375",
        visit(ivig("a1", "09:00", 60), diph("a2", "10:05")),
        [L("96365"), L("96375"), IVIG, DIPH],
        absent=("REPEAT_PUSH_SAME_DRUG",),
    ),
    # §3.3 R-NOR-JEA-CHEMO: initial by hierarchy irrespective of chronology (premed push first).
    Case(
        "push_before_infusion_still_96375",
        visit(diph("a1", "08:50"), ivig("a2", "09:00", 60)),
        [L("96365"), L("96375"), IVIG, DIPH],
    ),
    # §2 +96375 per new drug; merged to one line x2 (docs "Merging").
    Case(
        "two_premed_pushes_96375x2",
        visit(diph("a1", "08:45"), ondan("a2", "08:50"), ivig("a3", "09:00", 60)),
        [L("96365"), L("96375", 2), IVIG, DIPH, ONDAN],
    ),
    # §2 R-NOR-JFB-CHEMO: a push alone is 96374.
    Case("push_alone_96374", visit(ondan("a1", "09:00")), [L("96374"), ONDAN]),
    Case(
        "two_pushes_new_drugs_96374_96375",
        visit(ondan("a1", "09:00"), diph("a2", "09:10")),
        [L("96374"), L("96375"), ONDAN, DIPH],
    ),
    # §2 R-CLEARCOST-96409: 96411 with a 96413 primary.
    Case(
        "chemo_push_after_chemo_infusion_96411",
        visit(carbo("a1", "09:00", 60), vincristine("a2", "10:05")),
        [L("96413"), L("96411"), CARBO, VINC],
    ),
    Case("chemo_push_alone_96409", visit(vincristine("a1", "09:00")), [L("96409"), VINC]),
    Case(
        "two_chemo_pushes_96409_96411",
        visit(
            vincristine("a1", "09:00"),
            push("a2", "J9000", "09:10", dose=(50, "mg"), unit=(10, "mg"), cls="chemotherapy", sdc=False),
        ),
        [L("96409"), L("96411"), VINC, L("J9000", 5)],
    ),
    # §4 R-AAPC-SEQ171590: prophylactic infusion before chemo -> 96413 initial + 96367.
    Case(
        "premed_infusion_before_chemo_96367",
        visit(fosap("a1", "08:30", 30), carbo("a2", "09:00", 60)),
        [L("96413"), L("96367"), CARBO, FOSAP],
    ),
    # docs hierarchy: chemo push > therapeutic infusion, so 96409 is initial and the infusion 96367.
    Case(
        "chemo_push_outranks_ther_infusion",
        visit(fosap("a1", "08:30", 30), vincristine("a2", "09:05")),
        [L("96409"), L("96367"), VINC, FOSAP],
    ),
    # ---- §0.3/§4 the same drug pushed again ------------------------------------------------------
    # §0.3 R-AAPC-96376: 96376 is facility-only; office adds only drug units (4 + 4 mg).
    Case(
        "repeat_push_within_30min",
        visit(ondan("a1", "09:00", mg=4), ondan("a2", "09:20", mg=4)),
        [L("96374"), ONDAN],
        warnings=("REPEAT_PUSH_SAME_DRUG",),
    ),
    Case(
        "repeat_push_after_30min",
        visit(ondan("a1", "09:00", mg=4), ondan("a2", "10:00", mg=4)),
        [L("96374"), ONDAN],
        warnings=("REPEAT_PUSH_SAME_DRUG",),
    ),
    # §4 + §12.1: 50 + 50 mg diphenhydramine around an infusion: one 96375, J1200 x2.
    Case(
        "repeat_push_around_infusion",
        visit(diph("a1", "08:50"), ivig("a2", "09:00", 120), diph("a3", "10:30")),
        [L("96365"), L("96366"), L("96375"), IVIG, L("J1200", 2, "JZ")],
        warnings=("REPEAT_PUSH_SAME_DRUG",),
    ),
    # ---- chemo + therapeutic + hydration in one visit ----------------------------------------------
    # §4/§5/§6: 96413 initial, 96367 sequential, hydration after chemo 96361 (NCCI XI B.4).
    Case(
        "chemo_ther_hydration_one_visit",
        visit(carbo("a1", "09:00", 60), fosap("a2", "10:00", 30), hydration("h1", "10:30", 60)),
        [L("96413"), L("96367"), L("96361"), CARBO, FOSAP],
    ),
    # Paclitaxel 3 h (96415 x2), carboplatin 30 min (96417), three premed pushes (96375 x3),
    # post-hydration 60 min (96361); carboplatin 450 mg = 9 units.
    Case(
        "full_chemo_day",
        visit(
            ondan("p1", "08:40"),
            dex("p2", "08:45"),
            diph("p3", "08:50"),
            pacli("c1", "09:00", 180),
            carbo("c2", "12:00", 30, mg=450),
            hydration("h1", "12:30", 60),
        ),
        [
            L("96413"),
            L("96415", 2),
            L("96417"),
            L("96375", 3),
            L("96361"),
            ONDAN,
            DEX,
            DIPH,
            PACLI,
            L("J9045", 9),
        ],
    ),
    # ---- §4/§6 hydration at the same time as a drug infusion -----------------------------------
    # §4 NCCI XI B.5 R-AAPC-NS-CHEMO: overlapped minutes do not count; 120 - 60 = 60 -> 96361 x1.
    Case(
        "hydration_overlap_leaves_60",
        visit(hydration("h1", "09:00", 120), ivig("a1", "09:30", 60)),
        [L("96365"), L("96361"), IVIG],
    ),
    Case(
        "hydration_fully_overlapped",
        visit(hydration("h1", "09:00", 60), ivig("a1", "09:00", 60)),
        [L("96365"), IVIG],
    ),
    # 100 - 70 = 30 min left -> not reportable (§5 30/31).
    Case(
        "hydration_overlap_leaves_30",
        visit(hydration("h1", "09:00", "10:40"), ivig("a1", "09:30", "10:40")),
        [L("96365"), IVIG],
    ),
    Case(
        "hydration_overlap_leaves_31",
        visit(hydration("h1", "08:59", "10:40"), ivig("a1", "09:30", "10:40")),
        [L("96365"), L("96361"), IVIG],
    ),
    # 180 - 60 = 120 min with chemo -> 96361 x2; hydration is never 96368 (docs "Concurrent").
    Case(
        "hydration_overlap_chemo_leaves_120",
        visit(hydration("h1", "09:00", 180), carbo("a1", "10:00", 60)),
        [L("96413"), L("96361", 2), CARBO],
    ),
    # hydration starting while a drug runs is not concurrent (96368): 90 - 30 = 60 -> 96361.
    Case(
        "hydration_starting_during_drug_not_96368",
        visit(ivig("a1", "09:00", 60), hydration("h1", "09:30", 90)),
        [L("96365"), L("96361"), IVIG],
    ),
    # ---- §4/§6 KVO, flush, vehicle ------------------------------------------------------------
    # §4 R-RAC137/R-NOR-JEA-HYD: KVO fluid is not reportable.
    Case(
        "kvo_with_infusion_not_billed",
        visit(flush("k1", "08:55", "11:00"), ivig("a1", "09:00", 60)),
        [L("96365"), IVIG],
    ),
    Case("kvo_alone_not_billed", visit(flush("k1", "09:00", 60)), []),
    # §4 R-RAC137: fluid that is only the drug's vehicle (same bag) is not hydration.
    Case(
        "vehicle_same_bag_not_hydration",
        visit(ivig("a1", "09:00", 120, bag="b1"), hydration("h1", "09:00", 120, bag="b1")),
        [L("96365"), L("96366"), IVIG],
    ),
    # §6 R-AAPC-NS-JCODES: a vehicle bag is an optional line, billed only with bill_vehicle_fluid.
    Case(
        "vehicle_bag_not_billed_by_default",
        visit(ivig("a1", "09:00", 60, bags=[("J7050", 250)])),
        [L("96365"), IVIG],
    ),
    Case(
        "vehicle_bag_billed_with_setting",
        visit(ivig("a1", "09:00", 60, bags=[("J7050", 250)]), payer="commercial", payer_name="Acme"),
        [L("96365"), IVIG_C, L("J7050")],
        settings={"Acme": {"bill_vehicle_fluid": True}},
    ),
    # §6 R-HCPCS2020: hydration fluid J7030 (1000 cc = 1 unit) is chosen by bag.
    Case(
        "hydration_bag_supply_line",
        visit(hydration("h1", "09:00", 60, bags=[("J7030", 1000)])),
        [L("96360"), L("J7030")],
    ),
    # ---- §3.3 primary reason -------------------------------------------------------------------------
    # §0.1/§3.3 R-AAPC-PRIMARY: the documented primary reason is initial; warn it differs (§22.1/§22.8).
    Case(
        "primary_reason_hydration_over_push",
        visit(hydration("h1", "09:00", 90), ondan("a1", "09:10"), primary="h1"),
        [L("96360"), L("96375"), ONDAN],
        warnings=("PRIMARY_REASON_DIFFERS",),
    ),
    # §3.3 R-NOR-JEA-CHEMO: without it, the hierarchy: 96374 + secondary hydration 96361 (90 min -> 1).
    Case(
        "hierarchy_push_over_hydration",
        visit(hydration("h1", "09:00", 90), ondan("a1", "09:10")),
        [L("96374"), L("96361"), ONDAN],
        absent=("PRIMARY_REASON_DIFFERS",),
    ),
    Case(
        "primary_reason_agrees_no_warning",
        visit(fosap("a1", "08:30", 30), carbo("a2", "09:00", 60), primary="a2"),
        [L("96413"), L("96367"), CARBO, FOSAP],
        absent=("PRIMARY_REASON_DIFFERS",),
    ),
    # docs: an injection is never initial, even as the primary reason.
    Case(
        "primary_reason_injection_never_initial",
        visit(injection("i1", "J0897", "09:00", dose=(60, "mg")), ondan("a1", "09:10"), primary="i1"),
        [L("96374"), L("96372"), L("J0897", 60, "JZ"), ONDAN],
    ),
    # ---- §8 injections --------------------------------------------------------------------------------
    # §7 R-FCSO-PROLIA, §12.2: denosumab 60 mg -> 96372 + J0897 x60.
    Case(
        "denosumab_medicare",
        visit(injection("i1", "J0897", "09:00", dose=(60, "mg"))),
        [L("96372"), L("J0897", 60, "JZ")],
    ),
    Case(
        "denosumab_commercial",
        visit(injection("i1", "J0897", "09:00", dose=(60, "mg")), payer="commercial"),
        [L("96372"), L("J0897", 60)],
    ),
    # §0.2 R-J2506-MSHO: pegfilgrastim 6 mg = 12 units of J2506; prefilled syringe 96372 (§8 R-A54682).
    Case(
        "pegfilgrastim_syringe_96372",
        visit(injection("i1", "J2506", "09:00", dose=(6, "mg"))),
        [L("96372"), L("J2506", 12, "JZ")],
    ),
    # §8 R-A54682: on-body injector -> 96377.
    Case(
        "pegfilgrastim_on_body_96377",
        visit(injection("i1", "J2506", "09:00", dose=(6, "mg"), flags=["on_body_injector"])),
        [L("96377"), L("J2506", 12, "JZ")],
    ),
    # §7 R-MEDCODER-96401: hormonal antineoplastic SC/IM -> 96402; leuprolide 22.5 mg / 7.5 = 3.
    Case(
        "leuprolide_hormonal_96402",
        visit(
            injection(
                "i1", "J9217", "09:00", route="IM", dose=(22.5, "mg"), flags=["hormonal_antineoplastic"]
            )
        ),
        [L("96402"), L("J9217", 3, "JZ")],
    ),
    # §7: non-hormonal chemo SC -> 96401; bortezomib 2.6 mg / 0.1 mg = 26.
    Case(
        "bortezomib_sc_96401",
        visit(injection("i1", "J9041", "09:00", dose=(2.6, "mg"))),
        [L("96401"), L("J9041", 26, "JZ")],
    ),
    # §12.2 J3420 up to 1000 mcg, multi-dose: 1000 mcg IM -> 96372 + J3420 x1.
    Case(
        "b12_im_96372",
        visit(injection("i1", "J3420", "09:00", route="IM", dose=(1000, "mcg"))),
        [L("96372"), L("J3420")],
    ),
    # §8: one 96372 per injection of a different drug; merged to x2 (docs "Merging").
    Case(
        "two_injections_96372x2",
        visit(
            injection("i1", "J0897", "09:00", dose=(60, "mg")),
            injection("i2", "J3420", "09:05", route="IM", dose=(1000, "mcg")),
        ),
        [L("96372", 2), L("J0897", 60, "JZ"), L("J3420")],
    ),
    # docs "Initial service": injections are reported in their own right next to an infusion.
    Case(
        "injection_with_infusion",
        visit(ivig("a1", "09:00", 60), injection("i1", "J0897", "10:10", dose=(60, "mg"))),
        [L("96365"), L("96372"), IVIG, L("J0897", 60, "JZ")],
    ),
    # §7 (omalizumab is 96372), §12.2 J2357 5 mg: 375 mg -> 75.
    Case(
        "omalizumab_375mg_96372",
        visit(injection("i1", "J2357", "09:00", dose=(375, "mg"))),
        [L("96372"), L("J2357", 75, "JZ")],
    ),
    # ---- §2/§5 subcutaneous infusion ----------------------------------------------------------------
    # §2 R-CLEARCOST-SC: 96369 up to 1 h, 96370 per added hour (>30 min).
    Case("scig_60min_96369", visit(scig("a1", "09:00", 60)), [L("96369"), SCIG]),
    Case("scig_90min_96369_only", visit(scig("a1", "09:00", 90)), [L("96369"), SCIG]),
    Case("scig_91min_96370x1", visit(scig("a1", "09:00", 91)), [L("96369"), L("96370"), SCIG]),
    Case("scig_151min_96370x2", visit(scig("a1", "09:00", 151)), [L("96369"), L("96370", 2), SCIG]),
    # ---- §8 E/M ---------------------------------------------------------------------------------------
    # §8 R-NOR-JFA-EM: significant, separately identifiable E/M with 25.
    Case(
        "em_significant_with_25",
        visit(ivig("a1", "09:00", 60), em=("99214", True)),
        [L("96365"), L("99214", 1, "25"), IVIG],
    ),
    # §8 R-NOR-JFA-EM: routine pre-infusion assessment is not a separate E/M.
    Case(
        "em_not_significant_not_billed",
        visit(ivig("a1", "09:00", 60), em=("99214", False)),
        [L("96365"), IVIG],
        warnings=("EM_NOT_BILLED",),
    ),
    # §8 R-HHS-99211: 99211 is never reported with drug administration.
    Case(
        "em_99211_bundled",
        visit(ivig("a1", "09:00", 60), em=("99211", True)),
        [L("96365"), IVIG],
        warnings=("EM_99211_BUNDLED",),
    ),
    # ---- §13 JW/JZ -------------------------------------------------------------------------------------
    # §13 R-NOR-JEB-JWJZ: Medicare, nothing discarded -> JZ on the drug line.
    Case("jz_infliximab_350_no_waste", visit(ifx("a1", 350)), [L("96413"), L("J1745", 35, "JZ")]),
    # §13 R-CGS-JWJZ: 365 given of 400 -> 37 + JW ceil(400/10) - 37 = 3, no JZ.
    Case(
        "jw_infliximab_365_waste_35",
        visit(ifx("a1", 365, waste=35)),
        [L("96413"), L("J1745", 37), L("J1745", 3, "JW")],
    ),
    # §13 R-CGS-JWJZ worked example: 305 mg of 400 mg, 10 mg units -> 31 + JW 9.
    Case(
        "jw_cgs_305_of_400",
        visit(ifx("a1", 305, waste=95)),
        [L("96413"), L("J1745", 31), L("J1745", 9, "JW")],
    ),
    # §13/§22.7 R-NOR-JDDME-JZ: waste below one unit (305 + 5 still 31 units) -> JZ, no JW line.
    Case(
        "jz_waste_below_one_unit",
        visit(ifx("a1", 305, waste=5)),
        [L("96413"), L("J1745", 31, "JZ")],
    ),
    # §13 R-FINDACODE-JW/R-MEDLEARN-JW2016: unit >= dose + waste -> 1 unit with JZ.
    Case(
        "jz_upto_code_diphenhydramine_25_of_50",
        visit(diph("a1", "09:00", mg=25, waste=(25, "mg"))),
        [L("96374"), L("J1200", 1, "JZ")],
    ),
    # §13 R-PRIORITY + docs: commercial default `jw` -> JW line, never JZ.
    Case(
        "commercial_jw_line_no_jz",
        visit(ifx("a1", 365, waste=35), payer="commercial"),
        [L("96413"), L("J1745", 37), L("J1745", 3, "JW")],
    ),
    Case(
        "commercial_no_waste_no_jz",
        visit(ifx("a1", 350), payer="commercial"),
        [L("96413"), L("J1745", 35)],
    ),
    Case(
        "medicaid_jw_line_no_jz",
        visit(ifx("a1", 365, waste=35), payer="medicaid"),
        [L("96413"), L("J1745", 37), L("J1745", 3, "JW")],
    ),
    # §13 R-PRIORITY: a commercial plan that follows Medicare (payer setting jw_jz) -> JZ.
    Case(
        "commercial_setting_jw_jz",
        visit(ifx("a1", 350), payer="commercial", payer_name="Priority"),
        [L("96413"), L("J1745", 35, "JZ")],
        settings={"Priority": {"waste_modifiers": "jw_jz"}},
    ),
    # §13 R-FCSO-JWJZ: multi-dose containers never get JW or JZ (explicit override).
    Case(
        "multi_dose_override_no_jw_jz",
        visit(ifx("a1", 350, waste=50, sdc=False)),
        [L("96413"), L("J1745", 35)],
    ),
    Case(
        "multi_dose_catalog_carboplatin_waste",
        visit(carbo("a1", "09:00", 60, waste=(50, "mg"))),
        [L("96413"), CARBO],
    ),
    # ---- §12 drug units ------------------------------------------------------------------------------
    # §12.1: 5 mg/kg x 73 kg = 365 mg -> 37 units.
    Case("units_infliximab_365_is_37", visit(ifx("a1", 365)), [L("96413"), L("J1745", 37, "JZ")]),
    # §12.1 R-CARECOSTOPT-IFX: 350 mg -> 35.
    Case("units_infliximab_350_is_35", visit(ifx("a1", 350)), [L("96413"), L("J1745", 35, "JZ")]),
    # §12.2 J1569 500 mg: 0.4 g/kg x 70 kg = 28 g -> 56 (g converted to mg).
    Case(
        "units_ivig_28g_is_56",
        visit(infusion("a1", "J1569", "09:00", 60, dose=(28, "g"))),
        [L("96365"), L("J1569", 56, "JZ")],
    ),
    # §12.1 R-HCPCS2020 "up to 50 mg": 25 -> 1, 50 -> 1, 75 -> 2.
    Case(
        "units_diphenhydramine_25_is_1", visit(diph("a1", "09:00", mg=25)), [L("96374"), L("J1200", 1, "JZ")]
    ),
    Case(
        "units_diphenhydramine_50_is_1", visit(diph("a1", "09:00", mg=50)), [L("96374"), L("J1200", 1, "JZ")]
    ),
    Case(
        "units_diphenhydramine_75_is_2", visit(diph("a1", "09:00", mg=75)), [L("96374"), L("J1200", 2, "JZ")]
    ),
    # §12.2 J2930 up to 125 mg: 100 -> 1, 250 -> 2.
    Case(
        "units_methylpred_100_is_1",
        visit(push("a1", "J2930", "09:00", dose=(100, "mg"))),
        [L("96374"), L("J2930", 1, "JZ")],
    ),
    Case(
        "units_methylpred_250_is_2",
        visit(push("a1", "J2930", "09:00", dose=(250, "mg"))),
        [L("96374"), L("J2930", 2, "JZ")],
    ),
    # §12.1 J1885 15 mg: 20 mg -> 2 (round up, R-CGS-JWJZ).
    Case(
        "units_ketorolac_20_is_2",
        visit(push("a1", "J1885", "09:00", dose=(20, "mg"))),
        [L("96374"), L("J1885", 2, "JZ")],
    ),
    # §12.2 J2469 25 mcg: 0.25 mg = 250 mcg -> 10 (mg converted to mcg).
    Case(
        "units_palonosetron_mg_to_mcg",
        visit(push("a1", "J2469", "09:00", dose=(0.25, "mg"))),
        [L("96374"), L("J2469", 10, "JZ")],
    ),
    # §12.2 J3420 up to 1000 mcg: 1 mg -> 1.
    Case(
        "units_b12_1mg_is_1",
        visit(injection("i1", "J3420", "09:00", route="IM", dose=(1, "mg"))),
        [L("96372"), L("J3420")],
    ),
    # §12.2 J0696 250 mg (explicit unit): 1 g -> 4.
    Case(
        "units_ceftriaxone_explicit_1g_is_4",
        visit(
            injection(
                "i1",
                "J0696",
                "09:00",
                route="IM",
                dose=(1, "g"),
                unit=(250, "mg"),
                cls="therapeutic",
                sdc=False,
            )
        ),
        [L("96372"), L("J0696", 4)],
    ),
    # §12.2 J9070 100 mg (explicit unit, chemo): 1200 mg -> 12.
    Case(
        "units_cyclophosphamide_explicit",
        visit(
            infusion(
                "a1", "J9070", "09:00", 60, dose=(1200, "mg"), unit=(100, "mg"), cls="chemotherapy", sdc=False
            )
        ),
        [L("96413"), L("J9070", 12)],
    ),
    # §12.2 R-CCO-INJ + docs: NOC codes bill 1 unit.
    Case(
        "units_noc_j3490_is_1",
        visit(
            push("a1", "J3490", "09:00", dose=(500, "mg"), cls="therapeutic", sdc=False, drug="levetiracetam")
        ),
        [L("96374"), L("J3490")],
    ),
    # docs "Drug units": mL cannot be converted to a mg code -> UNIT_MISMATCH, no drug line.
    Case(
        "units_mismatch_ml_for_mg_code",
        visit(infusion("a1", "J1569", "09:00", 60, dose=(200, "mL"))),
        [L("96365")],
        warnings=("UNIT_MISMATCH",),
    ),
    # §7 + catalog complex_biologic, Medicare default chemo admin: vedolizumab 300 mg 30 min -> 96413.
    Case(
        "vedolizumab_medicare_complex_96413",
        visit(infusion("a1", "J3380", "09:00", 30, dose=(300, "mg"))),
        [L("96413"), L("J3380", 300, "JZ")],
    ),
    # §7/§22.6 R-GENENTECH-OCR: a payer paying biologics as therapeutic -> 96365.
    Case(
        "vedolizumab_payer_therapeutic_96365",
        visit(infusion("a1", "J3380", "09:00", 30, dose=(300, "mg")), payer="commercial", payer_name="Plan"),
        [L("96365"), L("J3380", 300)],
        settings={"Plan": {"complex_biologic_admin": "therapeutic"}},
    ),
    # §5 + §12.2: ocrelizumab 600 mg over 3.5 h (210 min) -> 96413 + 96415 x2, J2350 x600.
    Case(
        "ocrelizumab_210min",
        visit(infusion("a1", "J2350", "09:00", 210, dose=(600, "mg"))),
        [L("96413"), L("96415", 2), L("J2350", 600, "JZ")],
    ),
    # ---- docs: invalid times and flags ----------------------------------------------------------------
    # docs "Invalid times": stop before start -> not coded, INVALID_TIMES.
    Case(
        "stop_before_start_not_coded",
        visit(ivig("a1", "09:00", 60), hydration("h1", "11:00", "10:00")),
        [L("96365"), IVIG],
        warnings=("INVALID_TIMES",),
    ),
    Case(
        "infusion_without_stop_not_coded",
        visit(ivig("a1", "09:00", 60), hydration("h1", "10:00", None)),
        [L("96365"), IVIG],
        warnings=("INVALID_TIMES",),
    ),
    Case(
        "unknown_flag_warned",
        visit(ivig("a1", "09:00", 60, flags=["premedicated_at_home"])),
        [L("96365"), IVIG],
        warnings=("UNKNOWN_FLAG",),
    ),
    # §4 R-NOR-JFB-CHEMO: a push is "continuously present ... or 15 min or less"; 20 min without
    # the nurse present is an infusion.
    Case(
        "push_20min_not_present_is_infusion",
        visit(push("a1", "J1756", "09:00", 20, dose=(200, "mg"))),
        [L("96365"), L("J1756", 200, "JZ")],
        warnings=("PUSH_OVER_15_MIN",),
    ),
    Case(
        "push_20min_continuously_present_is_push",
        visit(push("a1", "J1756", "09:00", 20, dose=(200, "mg"), flags=["continuously_present"])),
        [L("96374"), L("J1756", 200, "JZ")],
        absent=("PUSH_OVER_15_MIN",),
    ),
    Case(
        "push_15min_is_push_no_warning",
        visit(push("a1", "J1756", "09:00", 15, dose=(200, "mg"))),
        [L("96374"), L("J1756", 200, "JZ")],
        absent=("PUSH_OVER_15_MIN",),
    ),
    # §5/§22.2 (docs decision): discontinued for a reaction -> by documented time (10 min = push).
    Case(
        "discontinued_for_reaction_by_time",
        visit(infusion("a1", "J1569", "09:00", 10, dose=(1, "g"), flags=["discontinued_for_reaction"])),
        [L("96374"), L("J1569", 2, "JZ")],
        warnings=("DISCONTINUED_INFUSION",),
    ),
    # §2/§9 R-CODINGAHEAD-96416: pump initiation -> 96416 (Medicare: review G0498); 5-FU
    # 2400 mg / 500 mg = 4.8 -> 5.
    Case(
        "pump_initiation_96416",
        visit(
            infusion(
                "a1",
                "J9190",
                "2026-03-02T11:00",
                "2026-03-04T09:00",
                dose=(2400, "mg"),
                unit=(500, "mg"),
                cls="chemotherapy",
                sdc=False,
                flags=["pump_initiation"],
            )
        ),
        [L("96416"), L("J9190", 5)],
        warnings=("PUMP_G0498",),
    ),
    # §9 R-IFRAME-96523: port irrigation only when it is the sole service.
    Case(
        "port_irrigation_alone_96523",
        visit(flush("f1", "09:00", 5, flags=["port_irrigation_only"])),
        [L("96523")],
    ),
    Case(
        "port_irrigation_with_infusion_bundled",
        visit(flush("f1", "08:55", 5, flags=["port_irrigation_only"]), ivig("a1", "09:00", 60)),
        [L("96365"), IVIG],
    ),
    # §6/§22.5 (docs decision): protocol hydration not billed unless the payer allows it.
    Case(
        "protocol_hydration_not_billed",
        visit(
            infusion(
                "a1", "J9060", "09:00", 60, dose=(100, "mg"), unit=(10, "mg"), cls="chemotherapy", sdc=False
            ),
            hydration("h1", "10:00", 60, flags=["protocol_hydration"]),
        ),
        [L("96413"), L("J9060", 10)],
        warnings=("PROTOCOL_HYDRATION",),
    ),
    Case(
        "protocol_hydration_billed_by_setting",
        visit(
            infusion(
                "a1", "J9060", "09:00", 60, dose=(100, "mg"), unit=(10, "mg"), cls="chemotherapy", sdc=False
            ),
            hydration("h1", "10:00", 60, flags=["protocol_hydration"]),
            payer="commercial",
            payer_name="Acme",
        ),
        [L("96413"), L("96361"), L("J9060", 10)],
        settings={"Acme": {"bill_protocol_hydration": True}},
    ),
    # §5/§22.3 (docs decision): split hydration pieces are added (30 + 20 = 50 -> 96361) and warned.
    Case(
        "hydration_split_around_chemo",
        visit(hydration("h1", "08:30", 30), carbo("a1", "09:00", 60), hydration("h2", "10:00", 20)),
        [L("96413"), L("96361"), CARBO],
        warnings=("HYDRATION_SPLIT",),
    ),
    Case(
        "hydration_pieces_not_split",
        visit(hydration("h1", "08:00", 20), hydration("h2", "08:20", 20), carbo("a1", "09:00", 60)),
        [L("96413"), L("96361"), CARBO],
        absent=("HYDRATION_SPLIT",),
    ),
    # ---- more edges ------------------------------------------------------------------------------
    # §4: a push of a new drug while an infusion runs is a sequential push (no concurrent-push code).
    Case(
        "push_during_infusion_96375",
        visit(ivig("a1", "09:00", 120), diph("a2", "10:00")),
        [L("96365"), L("96366"), L("96375"), IVIG, DIPH],
    ),
    # §4/§6: hydration minutes overlapped by two concurrent drugs count once (union 09:30-11:00):
    # 181 - 90 = 91 min left -> 96361 x2 (floor((91-31)/60)+1).
    Case(
        "hydration_overlap_counts_union",
        visit(
            hydration("h1", "09:00", 181),
            ivig("a1", "09:30", 90, bag="b1"),
            fosap("a2", "10:00", 45, bag="b2"),
        ),
        [L("96365"), L("96368"), L("96361", 2), IVIG, FOSAP],
    ),
    # docs "Order of lines": encounters are ordered by first start time, not by label, so the
    # 15:00 encounter is the second one and gets XE.
    Case(
        "encounter_order_by_time_not_label",
        visit(ivig("a1", "09:00", 60, encounter="2"), ondan("a2", "15:00", encounter="1")),
        [L("96365"), L("96374", 1, "XE"), IVIG, ONDAN],
    ),
    # §3.2: a required second site whose only service is a push gets 96374 XU.
    Case(
        "second_site_required_push_96374_XU",
        visit(
            ivig("a1", "09:00", 60, site="L arm"),
            diph("a2", "09:30", site="R arm", flags=["separate_site_required"]),
        ),
        [L("96365"), L("96374", 1, "XU"), IVIG, DIPH],
    ),
    # §4: a chemo "push" of 20 min without the nurse present is a chemo infusion.
    Case(
        "chemo_push_20min_is_infusion_96413",
        visit(vincristine("a1", "09:00", stop=20)),
        [L("96413"), VINC],
        warnings=("PUSH_OVER_15_MIN",),
    ),
    Case(
        "push_16min_is_infusion_96365",
        visit(push("a1", "J1756", "09:00", 16, dose=(200, "mg"))),
        [L("96365"), L("J1756", 200, "JZ")],
        warnings=("PUSH_OVER_15_MIN",),
    ),
    # §5: a push needs no stop time.
    Case(
        "push_without_stop_is_fine",
        visit(ondan("a1", "09:00", stop=None)),
        [L("96374"), ONDAN],
        absent=("INVALID_TIMES",),
    ),
    # docs "Invalid times": a pause running past the stop is outside the administration.
    Case(
        "pause_past_stop_is_invalid",
        visit(ivig("a1", "09:00", 60), hydration("h1", "10:00", 60, pauses=[("10:50", "11:10")])),
        [L("96365"), IVIG],
        warnings=("INVALID_TIMES",),
    ),
    # §5 crossing midnight needs dates: 23:00 -> 01:00 as HH:MM is stop before start.
    Case(
        "hhmm_across_midnight_is_invalid",
        visit(hydration("h1", "23:00", "01:00")),
        [],
        warnings=("INVALID_TIMES",),
    ),
    # §12.1: exact decimal arithmetic; bortezomib 2.2 mg / 0.1 mg = 22 (not 23 from float error).
    Case(
        "units_bortezomib_2_2mg_is_22",
        visit(injection("i1", "J9041", "09:00", dose=(2.2, "mg"))),
        [L("96401"), L("J9041", 22, "JZ")],
    ),
    # §12.2 J9263 0.5 mg: oxaliplatin 85 mg/m2 x 1.8 m2 = 153 mg -> 306 (120 min: 96413 + 96415).
    Case(
        "units_oxaliplatin_153mg_is_306",
        visit(infusion("a1", "J9263", "09:00", 120, dose=(153, "mg"))),
        [L("96413"), L("96415"), L("J9263", 306, "JZ")],
    ),
    # §12.1 unit conversion mcg -> mg: dexamethasone 4000 mcg = 4 mg -> J1100 x4.
    Case(
        "units_dexamethasone_mcg_to_mg",
        visit(push("a1", "J1100", "09:00", dose=(4000, "mcg"))),
        [L("96374"), L("J1100", 4, "JZ")],
    ),
    # §13 R-CGS-JWJZ with g: 27.5 g given from 30 g -> 55 + JW ceil(30000/500) - 55 = 5.
    Case(
        "jw_ivig_grams_27_5_of_30",
        visit(infusion("a1", "J1569", "09:00", 60, dose=(27.5, "g"), waste=(2.5, "g"))),
        [L("96365"), L("J1569", 55), L("J1569", 5, "JW")],
    ),
    # §13 + docs "Waste": 75 mg from two 50 mg vials: ceil(100/50) - ceil(75/50) = 0 -> JZ.
    Case(
        "jz_upto_code_75_of_100",
        visit(diph("a1", "09:00", mg=75, waste=(25, "mg"))),
        [L("96374"), L("J1200", 2, "JZ")],
    ),
    # §4 R-AAPC-RITUX-PAUSE / §5 "d = minutes the substance actually ran": a second bag of the
    # same drug is not a new drug (no 96367) and its time counts: 60 + 60 = 120 -> 96365 + 96366.
    Case(
        "same_drug_second_bag_time_counts",
        visit(ivig("a1", "09:00", 60, bag="b1"), ivig("a2", "10:00", 60, bag="b2")),
        [L("96365"), L("96366"), L("J1569", 40, "JZ")],
    ),
    # §5/§6: two hydration bags running at the same time are 60 min of hydration, not 120.
    Case(
        "two_hydration_bags_at_once_count_clock_time",
        visit(hydration("h1", "09:00", 60, bag="x"), hydration("h2", "09:00", 60, bag="y")),
        [L("96360")],
    ),
    # §3.1 CR 3631 "the initial code ... best describes the primary service": two bags started the
    # same minute, the 2 h IVIG is initial (with its hours), the 30 min premed concurrent; in
    # either listing order (§3.3 "irrespective of the order").
    Case(
        "simultaneous_start_main_infusion_initial",
        visit(ivig("a1", "09:00", 120, bag="b1"), fosap("a2", "09:00", 30, bag="b2")),
        [L("96365"), L("96366"), L("96368"), IVIG, FOSAP],
    ),
    Case(
        "simultaneous_start_main_infusion_initial_reversed",
        visit(fosap("a2", "09:00", 30, bag="b2"), ivig("a1", "09:00", 120, bag="b1")),
        [L("96365"), L("96366"), L("96368"), IVIG, FOSAP],
    ),
]


# Drug lines only (the administration code of these examples is outside the engine's scope,
# e.g. chemodenervation for onabotulinumtoxinA).
DRUG_LINE_CASES: list[Case] = [
    # §13 R-CARECOSTOPT-JW: Botox 155 units from a 200-unit vial -> J0585 x155 + J0585-JW x45.
    Case(
        "botox_155_of_200",
        visit(injection("i1", "J0585", "09:00", route="IM", dose=(155, "units"), waste=(45, "units"))),
        [L("J0585", 155), L("J0585", 45, "JW")],
    ),
    # §13 R-FINDACODE-JW: 95 of a 100-unit vial -> 95 + JW 5.
    Case(
        "findacode_95_of_100",
        visit(injection("i1", "J0585", "09:00", route="IM", dose=(95, "units"), waste=(5, "units"))),
        [L("J0585", 95), L("J0585", 5, "JW")],
    ),
    # §13 (Noridian JF "Modifier JZ"): infliximab 400 mg from 4 x 100 mg -> J1745-JZ x40.
    Case("noridian_infliximab_400_jz", visit(ifx("a1", 400, waste=0)), [L("J1745", 40, "JZ")]),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in DRUG_LINE_CASES])
def test_drug_lines(case: Case) -> None:
    result = code(case.payload, case.settings)
    assert sorted(line for line in billed(result) if is_drug_code(line[0])) == sorted(case.lines)


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_coding_rule(case: Case) -> None:
    result = code(case.payload, case.settings)
    assert billed(result) == sorted(case.lines)
    got = warning_codes(result)
    assert set(case.warnings) <= got, f"missing warnings {set(case.warnings) - got}"
    assert not set(case.absent) & got, f"unexpected warnings {set(case.absent) & got}"


def test_case_ids_are_unique_and_enough() -> None:
    ids = [c.id for c in CASES + DRUG_LINE_CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 80


# --- order of lines and explanations (docs "Order of lines") ----------------------------------


ORDER_CASES = {
    "full_chemo_day": "96413",
    "push_before_infusion_still_96375": "96365",
    "hierarchy_push_over_hydration": "96374",
    "premed_infusion_before_chemo_96367": "96413",
    "primary_reason_hydration_over_push": "96360",
    "em_significant_with_25": "96365",
    "jw_cgs_305_of_400": "96413",
}


@pytest.mark.parametrize("case_id,initial", sorted(ORDER_CASES.items()))
def test_initial_code_comes_first_and_drugs_last(case_id: str, initial: str) -> None:
    case = next(c for c in CASES if c.id == case_id)
    lines = code(case.payload, case.settings)["lines"]
    codes = [line["code"] for line in lines]
    assert codes[0] == initial
    kinds = ["admin" if c in ADMIN_CODES else "drug" if c[0] in "JQ" else "em" for c in codes]
    # administration codes, then E/M, then drugs (JW right after its drug line)
    rank = {"admin": 0, "em": 1, "drug": 2}
    assert [rank[k] for k in kinds] == sorted(rank[k] for k in kinds), codes
    for index, line in enumerate(lines):
        if "JW" in line["modifiers"]:
            previous = lines[index - 1]
            assert previous["code"] == line["code"] and "JW" not in previous["modifiers"]


def test_initial_hour_addon_follows_its_initial() -> None:
    lines = code(CASES[[c.id for c in CASES].index("full_chemo_day")].payload)["lines"]
    assert [line["code"] for line in lines[:2]] == ["96413", "96415"]


def test_fluid_supply_lines_come_last() -> None:
    payload = visit(hydration("h1", "09:00", 60, bags=[("J7030", 1000)]), ondan("a1", "09:10"))
    codes = [line["code"] for line in code(payload)["lines"]]
    assert codes[-1] == "J7030"
    assert codes.index("J2405") < codes.index("J7030")


def test_explanations_name_the_minutes() -> None:
    # rituximab 09:00-11:08 = 128 min -> 96413 + 96415 (§5: 91-150 min = one added hour)
    payload = visit(
        infusion("a1", "J9312", "09:00", 128, dose=(700, "mg")),
        hydration("h1", clock("09:00", 128), 60),
    )
    lines = code(payload)["lines"]
    assert all(str(line.get("explanation") or "").strip() for line in lines)
    by_code = {line["code"]: line for line in lines}
    assert set(by_code) >= {"96413", "96415", "96361", "J9312"}
    assert "128 min" in by_code["96413"]["explanation"]
    assert "128 min" in by_code["96415"]["explanation"]
    assert "60 min" in by_code["96361"]["explanation"]
    assert by_code["96413"]["administrations"] == ["a1"]
    assert by_code["96361"]["administrations"] == ["h1"]


def test_every_line_has_an_explanation_and_administrations() -> None:
    for case in CASES:
        result = code(case.payload, case.settings)
        for line in result["lines"]:
            assert str(line.get("explanation") or "").strip(), (case.id, line["code"])
            if line["code"] in ADMIN_CODES or (is_drug_code(line["code"]) and line["code"][:3] != "J70"):
                assert line["administrations"], (case.id, line["code"])


def test_invalid_drug_administration_gets_no_administration_code() -> None:
    # docs "Invalid times": the administration is not coded and the warning names it.
    result = code(visit(ivig("bad1", "11:00", "10:00"), ondan("a2", "12:00")))
    admin_lines = [line for line in result["lines"] if line["code"] in ADMIN_CODES]
    assert all("bad1" not in line["administrations"] for line in admin_lines)
    assert [line["code"] for line in admin_lines] == ["96374"]
    invalid = [w for w in result["warnings"] if w["code"] == "INVALID_TIMES"]
    assert invalid and "bad1" in invalid[0]["message"]


def test_one_initial_code_in_single_encounter_cases() -> None:
    # §3.1 R-RAC71: one initial per encounter unless a second site or encounter applies.
    for case in CASES:
        admins = case.payload["administrations"]
        encounters = {a.get("encounter", "1") for a in admins}
        if len(encounters) > 1 or any("separate_site_required" in a.get("flags", ()) for a in admins):
            continue
        result = code(case.payload, case.settings)
        initials = [line for line in result["lines"] if line["code"] in INITIAL_CODES]
        assert sum(line["units"] for line in initials) <= 1, case.id
