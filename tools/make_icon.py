"""Render the app icon's PNG from its SVG (``resources/icons/infusion-desk.svg``).

    QT_QPA_PLATFORM=offscreen .venv/bin/python -m tools.make_icon

The SVG is the source, drawn by hand; the PNG (256 px, transparent) is what the Linux
``.desktop`` entry, the window and the Windows/macOS builds use (PyInstaller turns it into
``.ico``/``.icns`` there). Run this after changing the SVG and commit both.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ICONS = Path(__file__).resolve().parent.parent / "resources" / "icons"
SIZE = 256


def render(svg: Path, png: Path, size: int = SIZE) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 - Qt needs it alive
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter)
    painter.end()
    if not image.save(str(png), "PNG"):
        raise SystemExit(f"cannot write {png}")


def main() -> int:
    render(ICONS / "infusion-desk.svg", ICONS / "infusion-desk.png")
    print(ICONS / "infusion-desk.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
