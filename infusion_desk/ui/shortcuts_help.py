"""The F1 dialog: every keyboard shortcut of the main window, read from its actions.

    ShortcutsDialog(window_actions, main_window)   # the keys of main_window.workspaces' pages too

Menu actions list themselves (the given ones first, then the window's other enabled actions
with a key, such as Lock screen); then the keys of each workspace's pages the user has
(``WORKSPACE_KEYS``: Front desk Alt+1..4, Billing Alt+1..8, Manager Alt+1..5, the chair
view's F6..F8), then the keys every widget knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTableView, QVBoxLayout, QWidget

from infusion_desk.ui.tables import configure_table
from infusion_desk.ui.windowing import pin_minimum_size

# Keys that belong to a widget rather than to a menu action.
WIDGET_KEYS: tuple[tuple[str, str], ...] = (
    ("Down", "In the patient search box: move to the results"),
    ("Up", "On the first result: back to the search box"),
    ("Enter", "Open the selected patient (in the search box: the first match)"),
    ("Ctrl+Tab / Ctrl+Shift+Tab", "Next / previous workspace"),
    ("Tab / Shift+Tab", "Next / previous field"),
    ("Alt + underlined letter", "Jump to that field or button"),
    ("Esc", "Close a dialog without saving"),
)

# Keys of each workspace's pages (they work while that workspace is shown).
FRONT_DESK_KEYS: tuple[tuple[str, str], ...] = (
    ("Alt+1 … Alt+4", "Front desk: the Patients, Check-in, Schedule or Work queues page"),
    ("Ctrl+Enter", "Check-in: check the selected patient in"),
    ("Ctrl+P", "A patient's Account tab: take a payment"),
    ("PgUp / PgDown (Alt+Left / Alt+Right)", "Schedule: the previous / next day or week"),
    ("Ctrl+T", "Schedule: back to today"),
    ("Ctrl+B / Insert", "Schedule: book a visit"),
    ("Ctrl+M / Delete", "Schedule: move / cancel the selected booking"),
)

NURSING_KEYS: tuple[tuple[str, str], ...] = (
    ("F6 / F7 / F8", "Chair view: start / stop / pause or resume the selected administration"),
)

BILLING_KEYS: tuple[tuple[str, str], ...] = (
    ("Alt+1 … Alt+8", "Billing: the Coding, Claims, Batches, Payments, Denials, Statements, "
     "Collections or Underpayments page"),
    ("Ctrl+B", "Claims: build claims from the signed visits"),
    ("Ctrl+R", "Claims: scrub the selected claims again (all open claims when none is selected); "
     "Statements: run statements"),
    ("Ctrl+Shift+R", "Claims: scrub every open claim again"),
    ("Ctrl+E", "Batches: export a batch (837P); Payments: key a paper EOB"),
    ("Ctrl+I", "Batches: import acknowledgements (999, 277CA, TA1); Payments: import 835 remittances"),
    ("Ctrl+U", "Batches: upload the selected batch by SFTP"),
    ("Alt+A / Alt+C", "Denials: appeal the selected denial / correct and resubmit its claim"),
    ("Alt+L", "Denials: the appeals being tracked"),
    ("Ctrl+Enter", "Paper EOB, patient payment: post it"),
    ("Insert / Delete", "Paper EOB tables: add / remove a row"),
)

MANAGER_KEYS: tuple[tuple[str, str], ...] = (
    ("Alt+1 … Alt+5", "Manager: the Overview, Dashboard, Reports, Denial figures or Audit trail page"),
    ("Ctrl+Shift+S", "Reports and denial figures: export the table as CSV"),
)

WORKSPACE_KEYS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "front_desk": FRONT_DESK_KEYS,
    "nursing": NURSING_KEYS,
    "billing": BILLING_KEYS,
    "manager": MANAGER_KEYS,
}
"""The keys of each workspace's pages, by the main window's workspace key."""


def workspace_keys(workspaces: Iterable[str]) -> tuple[tuple[str, str], ...]:
    """The page keys of the workspaces a user has, in workspace order."""
    held = set(workspaces)
    return tuple(row for key, rows in WORKSPACE_KEYS.items() if key in held for row in rows)


class ShortcutsDialog(QDialog):
    def __init__(
        self,
        actions: Iterable[QAction],
        parent: QWidget | None = None,
        *,
        extra_keys: Sequence[tuple[str, str]] = (),
        workspaces: Iterable[str] | None = None,
    ) -> None:
        """``workspaces``: the user's workspace keys; by default those of ``parent.workspaces``."""
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.model = QStandardItemModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["Keys", "Does"])
        self._listed: set[tuple[str, str]] = set()
        given = list(actions)
        direct = Qt.FindChildOption.FindDirectChildrenOnly
        window_actions = parent.findChildren(QAction, options=direct) if parent is not None else []
        others = [action for action in window_actions if action not in given]
        for action in (*given, *others):
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys and action.isEnabled():
                self._add(keys, action.text().replace("&", "").rstrip("…").rstrip("."))
        if workspaces is None:
            held = getattr(parent, "workspaces", None)
            workspaces = list(held) if isinstance(held, Mapping) else []
        for keys, meaning in (*extra_keys, *workspace_keys(workspaces), *WIDGET_KEYS):
            self._add(keys, meaning)
        table = configure_table(QTableView(self), "shortcutsTable", "Keyboard shortcuts")
        table.setModel(self.model)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(640, 480)
        pin_minimum_size(self)
        table.setFocus()

    def rows(self) -> list[tuple[str, str]]:
        """What the list shows, (keys, what they do), in order."""
        model = self.model
        return [(model.item(row, 0).text(), model.item(row, 1).text()) for row in range(model.rowCount())]

    def _add(self, keys: str, meaning: str) -> None:
        if (keys, meaning) in self._listed:  # the window may pass a workspace's keys itself
            return
        self._listed.add((keys, meaning))
        key_item, meaning_item = QStandardItem(keys), QStandardItem(meaning)
        for item in (key_item, meaning_item):
            item.setEditable(False)
        self.model.appendRow([key_item, meaning_item])
