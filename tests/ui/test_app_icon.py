"""The application's icon is vector-drawn: sharp at any size a high-DPI screen asks for."""

from __future__ import annotations

from PySide6.QtCore import QSize
from PySide6.QtGui import QColor

from infusion_desk.ui.app import app_icon


def test_the_icon_renders_crisp_at_small_and_high_dpi_sizes(qtbot) -> None:  # type: ignore[no-untyped-def]
    icon = app_icon()
    assert not icon.isNull()
    for side in (16, 48, 256, 512):
        image = icon.pixmap(QSize(side, side)).toImage()
        assert image.width() == side and image.height() == side  # drawn at that size, not a raster scaled
        opaque = sum(
            1 for x in range(0, side, max(1, side // 16)) for y in range(0, side, max(1, side // 16))
            if QColor(image.pixel(x, y)).alpha() > 0
        )
        assert opaque > 0  # something was drawn
