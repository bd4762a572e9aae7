"""The worked examples that open each billing module are run as tests, so they stay true.

Every module under ``infusion_desk.billing`` is collected, so a new module without a worked
example fails here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

from infusion_desk import billing

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(billing.__path__, "infusion_desk.billing.")
    if not info.ispkg
)


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no worked example"
    assert result.failed == 0
