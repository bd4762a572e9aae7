"""The workstation remembers its layout: the window's place and size, splitters, each table's columns."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QHeaderView, QSplitter, QTableView
from pytestqt.qtbot import QtBot

from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.ui.app_window import AppWindow
from infusion_desk.ui.tables import SAVE_DELAY_MS, ColumnMemory, RowTableModel, configure_table
from infusion_desk.ui.tasks import wait_for_idle
from infusion_desk.ui.workstation import workstation_settings
from tests.conftest import make_actor

pytestmark = pytest.mark.gui


@dataclass(frozen=True)
class Drug:
    code: str
    name: str
    note: str


COLUMNS = (("Code", lambda d: d.code), ("Drug", lambda d: d.name), ("Note", lambda d: d.note))
ROWS = [Drug("J1745", "Infliximab (fictional lot)", "per 10 mg"), Drug("J2505", "Pegfilgrastim", "6 mg")]


def _table(qtbot: QtBot, rows: list[Drug], name: str = "drugTable", columns=COLUMNS) -> QTableView:  # type: ignore[no-untyped-def]
    view = configure_table(QTableView(), name, "Drugs")
    model = RowTableModel(columns, view)
    view.setModel(model)
    model.set_rows(rows)
    qtbot.addWidget(view)
    view.resize(700, 300)
    view.show()
    qtbot.waitExposed(view)
    return view


def _memory(view: QTableView) -> ColumnMemory:
    memory = view.findChild(ColumnMemory)
    assert memory is not None
    return memory


def _drag_edge(qtbot: QtBot, view: QTableView, logical: int, by: int) -> None:
    """Drag the right edge of a column in the header, as a user widens it with the mouse."""
    header = view.horizontalHeader()
    edge = header.sectionViewportPosition(logical) + header.sectionSize(logical) - 1
    start = QPoint(edge, header.height() // 2)
    QTest.mousePress(header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for step in range(1, 5):
        QTest.mouseMove(header.viewport(), start + QPoint(by * step // 4, 0))
    QTest.mouseRelease(
        header.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start + QPoint(by, 0)
    )


def _text_width(view: QTableView, text: str) -> int:
    return view.fontMetrics().horizontalAdvance(text)


def test_columns_fit_their_rows_when_data_arrives_and_the_user_can_resize_them(qtbot: QtBot) -> None:
    view = _table(qtbot, ROWS)
    header = view.horizontalHeader()
    assert header.sectionResizeMode(1) == QHeaderView.ResizeMode.Interactive
    qtbot.waitUntil(lambda: header.sectionSize(1) >= _text_width(view, "Infliximab (fictional lot)"))
    fitted = header.sectionSize(1)
    _drag_edge(qtbot, view, 1, 80)
    assert header.sectionSize(1) == pytest.approx(fitted + 80, abs=2)


def test_a_hand_made_layout_comes_back_when_the_table_is_built_again(qtbot: QtBot) -> None:
    view = _table(qtbot, ROWS)
    header = view.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(1) >= _text_width(view, "Infliximab (fictional lot)"))
    _drag_edge(qtbot, view, 0, 120)
    header.moveSection(header.visualIndex(2), 0)  # "Note" dragged to the front
    widths = [header.sectionSize(c) for c in range(2)]
    order = [header.logicalIndex(v) for v in range(3)]
    assert order == [2, 0, 1]
    view.close()  # closing writes what is waiting for the drag to rest
    view.deleteLater()
    qtbot.waitUntil(lambda: workstation_settings().contains("tables/drugTable/header"))

    again = _table(qtbot, ROWS)
    header = again.horizontalHeader()
    assert [header.logicalIndex(v) for v in range(3)] == order
    assert [header.sectionSize(c) for c in range(2)] == widths
    assert _memory(again).by_hand


def test_reloading_rows_refits_until_the_user_resizes_then_keeps_the_hand_width(qtbot: QtBot) -> None:
    view = _table(qtbot, ROWS)
    header, model = view.horizontalHeader(), view.model()
    assert isinstance(model, RowTableModel)
    longer = "Infliximab-dyyb biosimilar, fictional lot for tests"
    model.set_rows([*ROWS, Drug("Q5103", longer, "")])
    qtbot.waitUntil(lambda: header.sectionSize(1) >= _text_width(view, longer))

    _drag_edge(qtbot, view, 1, -150)  # the user narrows it
    narrowed = header.sectionSize(1)
    assert narrowed < _text_width(view, longer)
    model.set_rows([*ROWS, Drug("Q5103", longer + " again", "")])
    qtbot.wait(50)
    assert header.sectionSize(1) == narrowed
    qtbot.wait(SAVE_DELAY_MS + 100)
    assert workstation_settings().contains("tables/drugTable/header")


def test_fit_columns_to_contents_forgets_the_hand_made_layout(qtbot: QtBot) -> None:
    view = _table(qtbot, ROWS)
    header = view.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(1) >= _text_width(view, "Infliximab (fictional lot)"))
    fitted = header.sectionSize(1)
    _drag_edge(qtbot, view, 1, 90)
    header.moveSection(header.visualIndex(2), 0)
    qtbot.wait(SAVE_DELAY_MS + 100)
    memory = _memory(view)
    memory.fit_action.trigger()
    assert [header.logicalIndex(v) for v in range(3)] == [0, 1, 2]
    assert header.sectionSize(1) == fitted
    assert not memory.by_hand
    assert not workstation_settings().contains("tables/drugTable/header")


def test_a_layout_saved_for_other_columns_is_not_applied(qtbot: QtBot) -> None:
    view = _table(qtbot, ROWS)
    _drag_edge(qtbot, view, 0, 200)
    view.close()
    qtbot.waitUntil(lambda: workstation_settings().contains("tables/drugTable/header"))

    other = (("Code", lambda d: d.code), ("Description", lambda d: d.name))
    again = _table(qtbot, ROWS, columns=other)
    header = again.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(1) >= _text_width(again, "Infliximab (fictional lot)"))
    assert header.sectionSize(0) < 200
    assert not _memory(again).by_hand


def test_a_big_table_fits_from_the_rows_on_screen_not_from_every_row(qtbot: QtBot) -> None:
    rows = [Drug(f"J{n:04d}", "Saline", "") for n in range(20_000)]
    far_down = "A very long fictional drug name that only the last row carries, far below the screen"
    rows[-1] = Drug("J9999", far_down, "")
    view = _table(qtbot, rows)
    header = view.horizontalHeader()
    qtbot.waitUntil(lambda: header.sectionSize(1) >= _text_width(view, "Saline"))
    qtbot.wait(20)
    assert header.sectionSize(1) < _text_width(view, far_down)


def test_the_window_comes_back_where_and_as_big_as_it_was(qtbot: QtBot) -> None:
    def closed() -> Services:
        raise RuntimeError("no database in this test")

    window = AppWindow(closed)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    window.resize(640, 470)
    window.move(40, 30)
    qtbot.wait(20)
    window.close()
    wait_for_idle()

    again = AppWindow(closed)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (640, 470)
    assert (again.pos() - window.pos()).manhattanLength() <= 4  # the offscreen frame may shift it
    again.showMaximized()
    qtbot.waitExposed(again)
    again.close()
    wait_for_idle()

    third = AppWindow(closed)
    qtbot.addWidget(third)
    assert third.windowState() & Qt.WindowState.WindowMaximized
    wait_for_idle()


def _sign_in(qtbot: QtBot, services: Services) -> AppWindow:
    window = AppWindow(lambda: services)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.services is not None, timeout=5000)
    qtbot.keyClicks(window.sign_in.username, "bea")
    qtbot.keyClicks(window.sign_in.password, "pw-biller")
    qtbot.waitUntil(window.sign_in.sign_in_button.isEnabled, timeout=10_000)  # the clinic's name has loaded
    with qtbot.waitSignal(window.signedIn, timeout=30_000):
        qtbot.keyClick(window.sign_in.password, Qt.Key.Key_Return)
    return window


def test_the_splitters_come_back_as_the_user_left_them(qtbot: QtBot, ui_services: Services, clinic) -> None:  # type: ignore[no-untyped-def]
    make_actor(ui_services, Role.BILLER, "bea")
    window = _sign_in(qtbot, ui_services)
    window.resize(780, 560)
    qtbot.wait(20)
    splitter = next(s for s in window.findChildren(QSplitter) if s.isVisible())
    total = sum(splitter.sizes())
    splitter.setSizes([total // 5, total - total // 5])
    window.close()
    wait_for_idle()

    again = _sign_in(qtbot, ui_services)
    same = next(s for s in again.findChildren(QSplitter) if s.isVisible())
    first, second = same.sizes()
    assert first / (first + second) == pytest.approx(0.2, abs=0.02)  # the window may lay it out wider
    wait_for_idle()
    again.close()
