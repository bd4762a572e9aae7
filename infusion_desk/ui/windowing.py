"""Sizing top-level windows so they fit their content without fighting the platform.

Left alone, a layout resets its window's minimum size whenever content changes (an error
label appears); platform plugins without size-hint support (offscreen, used by the tests)
warn about every such change. So each window pins its minimum once and grows to fit.
"""

from __future__ import annotations

from PySide6.QtWidgets import QWidget


def pin_minimum_size(window: QWidget) -> None:
    """Fix the window's minimum to what its layout needs now (call at the end of ``__init__``)."""
    window.setMinimumSize(window.minimumSizeHint())


def grow_to_fit(window: QWidget) -> None:
    """Make the window at least as large as its content now asks for."""
    layout = window.layout()
    if layout is not None:
        layout.activate()
    hint = window.sizeHint()
    width, height = max(window.width(), hint.width()), max(window.height(), hint.height())
    if (width, height) != (window.width(), window.height()):
        window.resize(width, height)
