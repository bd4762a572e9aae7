"""Dependencies point one way: ui -> services -> billing/models; the core never imports Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "infusion_desk"

FORBIDDEN = {
    "billing": (
        "PySide6",
        "infusion_desk.ui",
        "infusion_desk.services",
        "sqlalchemy",
        "infusion_desk.models",
    ),
    "models": ("PySide6", "infusion_desk.ui", "infusion_desk.services"),
    "services": ("PySide6", "infusion_desk.ui"),
    "ui": ("sqlalchemy", "infusion_desk.models.db"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_one_way(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files, f"no modules under {layer}/"
    offenders = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in files
        for name in _imports(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert offenders == []
