"""Colours that stay readable on the system's light or dark theme.

    set_tone(self.error, ERROR)                 # a red the user can read on this palette
    set_tone(self.message, ERROR if bad else None)
    model_background = tint(WARNING)            # a table row's amber wash, light or dark

Qt follows the system's light or dark scheme by itself; only colours written into the code
can break it (dark red text on a dark window). Every such colour goes through here: each
tone has a colour for light palettes and one for dark palettes, and whichever is used is
nudged lighter or darker until it meets WCAG's 4.5:1 contrast with the widget's background.
Widgets given a tone with :func:`set_tone` are recoloured when the scheme or the
application's palette changes.
"""

from __future__ import annotations

from typing import Final

from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

ERROR: Final = "error"
WARNING: Final = "warning"
GOOD: Final = "good"
NEUTRAL: Final = "neutral"

# tone: (on a light background, on a dark background)
_COLOURS: Final[dict[str, tuple[str, str]]] = {
    ERROR: ("#b00020", "#ff8a80"),
    WARNING: ("#8a5a00", "#ffcc66"),
    GOOD: ("#1b5e20", "#81c784"),
    NEUTRAL: ("#555555", "#b0b0b0"),
}
READABLE: Final = 4.5
"""WCAG 2 AA contrast for body text."""
TINT_STRENGTH: Final = 0.22
"""How much of the tone a row's background wash takes (the rest is the palette's base colour)."""


def _pair(tone: str) -> tuple[str, str]:
    # A tone by name, or a colour of the caller's own ("#1b7a3a") made readable like the others.
    return _COLOURS.get(tone, (tone, tone))


def luminance(colour: QColor) -> float:
    """Relative luminance per WCAG 2 (0 black … 1 white)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = channel(colour.redF()), channel(colour.greenF()), channel(colour.blueF())
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def contrast_ratio(first: QColor, second: QColor) -> float:
    """WCAG contrast between two colours: 1 (none) … 21 (black on white).

    >>> round(contrast_ratio(QColor("#000000"), QColor("#ffffff")), 1)
    21.0
    """
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _palette(widget: QWidget | None = None) -> QPalette:
    return widget.palette() if widget is not None else QApplication.palette()


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether text is drawn on a dark background (the palette decides; the scheme breaks ties)."""
    palette = palette or QApplication.palette()
    window = palette.color(QPalette.ColorRole.Window)
    text = palette.color(QPalette.ColorRole.WindowText)
    if luminance(window) != luminance(text):
        return luminance(window) < luminance(text)
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def readable(colour: QColor, background: QColor) -> QColor:
    """``colour``, made lighter or darker in small steps until it reads on ``background``."""
    result = QColor(colour)
    towards_white = luminance(background) < 0.18
    for _step in range(40):
        if contrast_ratio(result, background) >= READABLE:
            return result
        result = result.lighter(110) if towards_white else result.darker(110)
        if towards_white and result.lightness() >= 250:
            result = QColor(Qt.GlobalColor.white)
    return QColor(Qt.GlobalColor.white if towards_white else Qt.GlobalColor.black)


def tone_colour(
    tone: str,
    palette: QPalette | None = None,
    background: QPalette.ColorRole = QPalette.ColorRole.Window,
) -> QColor:
    """The text colour of ``tone`` on ``palette``'s ``background`` (Base for a table's cells).

    ``tone`` is ERROR, WARNING, GOOD, NEUTRAL, or a colour such as ``"#1b7a3a"`` for a
    light window, made lighter where the window is dark.

    The application's palette by default.
    """
    palette = palette or QApplication.palette()
    light, dark = _pair(tone)
    return readable(QColor(dark if is_dark(palette) else light), palette.color(background))


def tone_style(tone: str, extra: str = "") -> str:
    """A style sheet colouring text in ``tone`` for the current palette: ``"color: #b00020; …"``."""
    return f"color: {tone_colour(tone).name()}; {extra}".strip()


def tint(tone: str, palette: QPalette | None = None) -> QColor:
    """A row background for ``tone``: a wash of it over the palette's base, so its text stays readable."""
    palette = palette or QApplication.palette()
    base = palette.color(QPalette.ColorRole.Base)
    light, dark = _pair(tone)
    hue = QColor(dark if is_dark(palette) else light)
    mixed = QColor.fromRgbF(
        base.redF() + (hue.redF() - base.redF()) * TINT_STRENGTH,
        base.greenF() + (hue.greenF() - base.greenF()) * TINT_STRENGTH,
        base.blueF() + (hue.blueF() - base.blueF()) * TINT_STRENGTH,
    )
    if contrast_ratio(mixed, palette.color(QPalette.ColorRole.Text)) < READABLE:
        return base  # a palette too low in contrast for a wash: no wash rather than unreadable rows
    return mixed


_TONE = "themeTone"
_EXTRA = "themeToneExtra"
_TEXT = "themeToneText"


def set_tone(widget: QWidget, tone: str | None, extra: str = "", *, text: bool = True) -> None:
    """Colour ``widget``'s text in ``tone`` (None: the palette's own text colour) with ``extra`` CSS.

    ``extra`` may use ``{colour}`` for the tone's colour (a border the same red as the text);
    ``text=False`` leaves the text its own colour (an invalid field's red border only).
    The widget is recoloured when the system switches between light and dark.
    """
    widget.setProperty(_TONE, tone or "")
    widget.setProperty(_EXTRA, extra)
    widget.setProperty(_TEXT, text)
    _apply(widget)
    if tone:
        _Watcher.watch(widget)


def _apply(widget: QWidget) -> None:
    tone = str(widget.property(_TONE) or "")
    extra = str(widget.property(_EXTRA) or "")
    if not tone:
        widget.setStyleSheet(extra)
        return
    # The application's palette: a widget with a style sheet keeps the palette it was polished with.
    background = QApplication.palette().color(widget.backgroundRole())
    colour = readable(tone_colour(tone), background)
    style = extra.replace("{colour}", colour.name())
    if widget.property(_TEXT) is not False:
        style = f"color: {colour.name()}; {style}"
    widget.setStyleSheet(style.strip())


class _Watcher(QObject):
    """Recolours toned widgets when the colour scheme or the application palette changes."""

    _instance: _Watcher | None = None

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        QGuiApplication.styleHints().colorSchemeChanged.connect(self.refresh)
        app.paletteChanged.connect(self.refresh)

    @classmethod
    def watch(cls, widget: QWidget) -> None:
        del widget  # toned widgets are found again by their property when the theme changes
        app = QApplication.instance()
        if isinstance(app, QApplication) and (cls._instance is None or cls._instance.parent() is not app):
            cls._instance = cls(app)

    def refresh(self, *_args: object) -> None:
        # The widgets take the new palette as the change is handed round; recolour after that.
        QTimer.singleShot(0, self, self.recolour)

    def recolour(self) -> None:
        for widget in QApplication.allWidgets():
            if widget.property(_TONE):
                _apply(widget)
