"""Coloured text and row washes stay readable when the system's theme is dark."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from infusion_desk.ui.passphrase_dialog import PassphraseDialog
from infusion_desk.ui.theme import ERROR, GOOD, READABLE, WARNING, contrast_ratio, set_tone, tint, tone_colour

pytestmark = pytest.mark.gui


def dark_palette() -> QPalette:
    """A dark scheme as a platform theme hands it to Qt: light text on near-black."""
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1e1e1e",
        QPalette.ColorRole.WindowText: "#e8e8e8",
        QPalette.ColorRole.Base: "#121212",
        QPalette.ColorRole.AlternateBase: "#1b1b1b",
        QPalette.ColorRole.Text: "#e8e8e8",
        QPalette.ColorRole.Button: "#2b2b2b",
        QPalette.ColorRole.ButtonText: "#e8e8e8",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    return palette


@pytest.fixture
def app_palette(qapp: QApplication) -> Iterator[QApplication]:
    """Tests change the application's palette; the next test gets the original back."""
    original = QPalette(qapp.palette())
    yield qapp
    qapp.setPalette(original)


def _text_contrast(qtbot: QtBot, widget: QWidget) -> float:
    """What the user sees: the rendered text's colour against the background around it."""
    qtbot.waitUntil(lambda: widget.isVisible())
    image = widget.grab().toImage()
    background = image.pixelColor(1, 1)
    strongest = max(
        (image.pixelColor(x, y) for x in range(image.width()) for y in range(image.height())),
        key=lambda colour: contrast_ratio(colour, background),
    )
    return contrast_ratio(strongest, background)


def test_an_error_label_reads_on_a_dark_palette(qtbot: QtBot, app_palette: QApplication) -> None:
    app_palette.setPalette(dark_palette())
    dialog = PassphraseDialog(first_run=False, message="Type the passphrase.", error="That passphrase is wrong.")
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    assert _text_contrast(qtbot, dialog.error) >= READABLE
    # the old fixed red would not have: #b00020 on this window is about 2:1
    assert contrast_ratio(QColor("#b00020"), QColor("#1e1e1e")) < READABLE


def test_a_label_is_recoloured_when_the_theme_turns_dark_and_back(qtbot: QtBot, app_palette: QApplication) -> None:
    label = QLabel("The claim was rejected: the member ID is not on file.")
    set_tone(label, ERROR)
    qtbot.addWidget(label)
    label.show()
    qtbot.waitExposed(label)
    light_red = QColor(label.styleSheet().split("color: ")[1][:7])
    assert _text_contrast(qtbot, label) >= READABLE

    app_palette.setPalette(dark_palette())
    qtbot.waitUntil(lambda: QColor(label.styleSheet().split("color: ")[1][:7]) != light_red)
    assert _text_contrast(qtbot, label) >= READABLE

    set_tone(label, None)  # the message went away: plain text, and no recolouring later
    app_palette.setPalette(QPalette())
    qtbot.wait(10)
    assert label.styleSheet() == ""


@pytest.mark.parametrize("tone", [ERROR, WARNING, GOOD, "#1b7a3a"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_every_tone_meets_the_wcag_ratio_on_both_schemes(tone: str, scheme: str) -> None:
    palette = dark_palette() if scheme == "dark" else QPalette(QColor("#efefef"))
    window = palette.color(QPalette.ColorRole.Window)
    assert contrast_ratio(tone_colour(tone, palette), window) >= READABLE
    base = palette.color(QPalette.ColorRole.Base)
    assert contrast_ratio(tone_colour(tone, palette, QPalette.ColorRole.Base), base) >= READABLE
    # a row washed in the tone keeps its text readable
    assert contrast_ratio(tint(tone, palette), palette.color(QPalette.ColorRole.Text)) >= READABLE


def test_a_row_wash_is_dark_on_a_dark_palette_and_pale_on_a_light_one() -> None:
    assert tint(ERROR, dark_palette()).lightness() < 80
    assert tint(ERROR, QPalette(QColor("#efefef"))).lightness() > 180


def test_contrast_ratio_matches_the_wcag_figures() -> None:
    # WCAG 2.x: black on white is 21:1; #767676 on white is the lightest grey passing 4.5:1
    assert contrast_ratio(QColor("#000000"), QColor("#ffffff")) == pytest.approx(21.0)
    assert contrast_ratio(QColor("#767676"), QColor("#ffffff")) == pytest.approx(4.54, abs=0.01)
