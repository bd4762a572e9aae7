"""The worked examples in the services' and models' docstrings are run as tests, so they stay true.

Unlike the billing modules, not every module here has one (many need a database); those that
do must pass.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

from infusion_desk import models, services


def _has_examples(name: str) -> bool:
    tests = doctest.DocTestFinder().find(importlib.import_module(name))
    return any(not example.options.get(doctest.SKIP) for test in tests for example in test.examples)


MODULES = sorted(
    info.name
    for package, prefix in ((services, "infusion_desk.services."), (models, "infusion_desk.models."))
    for info in pkgutil.walk_packages(package.__path__, prefix)
    if not info.ispkg and _has_examples(info.name)
)


@pytest.mark.parametrize("name", MODULES)
def test_module_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_the_modules_with_examples_are_collected() -> None:
    assert {"infusion_desk.services.vault", "infusion_desk.models.encryption"} <= set(MODULES)
