"""The F1 dialog: every keyboard shortcut of the main window, read from its actions.

    ShortcutsDialog(window_actions, parent, extra_keys=BILLING_KEYS)  # a biller's list

Menu actions list themselves; the keys of a workspace's own pages (``BILLING_KEYS``) are
added by the window for the users who have that workspace, then the keys every widget knows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

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

# Keys of the Billing workspace's pages (they work while that workspace is shown).
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
)


class ShortcutsDialog(QDialog):
    def __init__(
        self,
        actions: Iterable[QAction],
        parent: QWidget | None = None,
        *,
        extra_keys: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.model = QStandardItemModel(0, 2, self)
        self.model.setHorizontalHeaderLabels(["Keys", "Does"])
        for action in actions:
            keys = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            if keys and action.isEnabled():
                self._add(keys, action.text().replace("&", "").rstrip("…").rstrip("."))
        for keys, meaning in (*extra_keys, *WIDGET_KEYS):
            self._add(keys, meaning)
        table = configure_table(QTableView(self), "shortcutsTable", "Keyboard shortcuts")
        table.setModel(self.model)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        layout.addWidget(buttons)
        self.resize(560, 420)
        pin_minimum_size(self)
        table.setFocus()

    def _add(self, keys: str, meaning: str) -> None:
        key_item, meaning_item = QStandardItem(keys), QStandardItem(meaning)
        for item in (key_item, meaning_item):
            item.setEditable(False)
        self.model.appendRow([key_item, meaning_item])
