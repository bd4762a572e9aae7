"""The worked examples that open each billing module are run as tests, so they stay true."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "infusion_desk.billing.money",
    "infusion_desk.billing.findings",
    "infusion_desk.billing.catalog",
    "infusion_desk.billing.coding",
    "infusion_desk.billing.coding_input",
    "infusion_desk.billing.edits",
    "infusion_desk.billing.barcode",
    "infusion_desk.billing.dosing",
    "infusion_desk.billing.x12.syntax",
    "infusion_desk.billing.x12.envelope",
    "infusion_desk.billing.x12.eligibility",
    "infusion_desk.billing.authorizations",
    "infusion_desk.billing.icd10",
]


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no worked example"
    assert result.failed == 0
