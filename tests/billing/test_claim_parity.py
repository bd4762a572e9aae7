"""The CMS-1500 and the 837P say the same thing about a claim, field by field.

Each fixture claim is written as an 837P and read back by our reader; the paper form
filled from the claim and the one filled from what the 837P carried must agree on every
box: assignment and signature indicators, totals, insured and patient, diagnoses, every
service line with its NDC, resubmission and prior authorization, and the other payer on a
secondary claim. The claim is compared as X12 can carry it (upper case, delimiters turned
into spaces: ``claim_fixtures.cleaned``); what the 837P has no element for (phone numbers
in boxes 5 and 7, the physician's credentials after the name in box 17) is compared
separately.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infusion_desk.billing.claim_data import ClaimData
from infusion_desk.billing.cms1500 import form_fields
from infusion_desk.billing.x12.read837 import read_837p
from tests.billing.x12 import claim_fixtures as fx

NOT_IN_837P = ("5.area", "5.phone", "7.area", "7.phone")
"""Boxes the 837P has no element for."""

CLAIMS: dict[str, Callable[[], ClaimData]] = {
    "primary with drug and NDC": fx.simple_claim,
    "JW waste line": fx.waste_claim,
    "12 diagnoses": fx.many_diagnoses_claim,
    "50 lines on 9 forms": fx.fifty_lines_claim,
    "patient is a dependent": fx.dependent_claim,
    "names with delimiters": fx.tricky_names_claim,
    "replacement": fx.replacement_claim,
    "void": lambda: fx.replacement_claim("CLMVOID", frequency="8"),
    "secondary with COB": fx.secondary_claim,
}


def _comparable(pages: tuple[dict[str, str], ...]) -> list[dict[str, str]]:
    out = []
    for page in pages:
        kept = {box: text for box, text in page.items() if box not in NOT_IN_837P}
        if "17" in kept:  # NM1*DK carries the name and NPI, not the credentials
            kept["17"] = kept["17"].removesuffix(" MD").removesuffix(" DO").removesuffix(" NP")
        out.append(kept)
    return out


@pytest.mark.parametrize("name", sorted(CLAIMS))
def test_the_paper_form_and_the_837p_agree_box_by_box(name: str) -> None:
    claim = CLAIMS[name]()
    (carried,) = read_837p(fx.write([claim]))
    on_paper = form_fields(fx.cleaned(claim))
    from_837p = form_fields(carried)
    assert _comparable(from_837p) == _comparable(on_paper)
    first, last = on_paper[0], on_paper[-1]
    # the boxes this parity is about are really on the form
    assert first["27:yes"] == "X"  # accepts assignment (CLM07 A)
    assert first["12"].startswith("SIGNATURE ON FILE") and first["13"].startswith("SIGNATURE ON FILE")
    assert last["28"].replace(" ", "").replace(".", "") == f"{claim.total_charge:.2f}".replace(".", "")


def test_a_difference_in_the_claim_shows_up_in_the_comparison() -> None:
    """The comparison can fail: a claim that does not accept assignment prints differently."""
    from dataclasses import replace

    from infusion_desk.billing.claim_data import Signatures

    claim = fx.simple_claim()
    refused = replace(claim, signatures=Signatures(accepts_assignment=False))
    assert _comparable(form_fields(refused)) != _comparable(form_fields(claim))
    (carried,) = read_837p(fx.write([refused]))
    assert carried.signatures.accepts_assignment is False
    assert form_fields(carried)[0].get("27:no") == "X"
