"""The diagnosis picker: type a code or words, pick billable ICD-10-CM codes, keep them in order.

    picker = IcdPicker(lambda text: orders.search_diagnoses(actor, text))
    picker.codes()        # ("K5090", "M0579"), in the order they were added

Keys: typing searches (off the GUI thread, so the first search's index build never freezes
the form); Down moves into the results; Enter or a double-click adds the highlighted code
(Enter in the search box adds the first result); Delete removes the selected chosen code;
Alt+Up / Alt+Down move it. Up to 12 codes, as a claim can point at no more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLabel, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from infusion_desk.billing.icd10 import Diagnosis
from infusion_desk.ui import code_help
from infusion_desk.ui.errors import describe
from infusion_desk.ui.tasks import TaskRunner

MAX_CODES = 12
SEARCH_DELAY_MS = 120

_ENTER = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


class IcdPicker(QWidget):
    changed = Signal()

    def __init__(self, search: Callable[[str], Sequence[Diagnosis]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("icdPicker")
        self._search = search
        self._runner = TaskRunner(self)
        self._asked = 0
        self._add_when_ready = False
        self._chosen: list[Diagnosis] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.search_box = QLineEdit()
        self.search_box.setObjectName("icdQuery")
        code_help.set_code_help(self.search_box, code_help.ICD10)
        self.search_box.setPlaceholderText("Code (K50.90) or words (crohn small intestine)")
        self.search_box.setAccessibleName("Search diagnoses")
        self.results = QListWidget()
        self.results.setObjectName("icdResults")
        self.results.setAccessibleName("Matching billable codes")
        self.status = QLabel("")
        self.status.setObjectName("icdStatus")
        self.chosen = QListWidget()
        self.chosen.setObjectName("icdChosen")
        code_help.set_code_help(self.chosen, code_help.ICD10)
        self.chosen.setAccessibleName("Diagnoses on the order, first is primary")
        self.chosen.setMaximumHeight(120)
        chosen_label = QLabel("On the order (Delete removes, Alt+Up/Down reorders):")
        chosen_label.setBuddy(self.chosen)
        layout.addWidget(self.search_box)
        layout.addWidget(self.results)
        layout.addWidget(self.status)
        layout.addWidget(chosen_label)
        layout.addWidget(self.chosen)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._run_search)
        self.search_box.textChanged.connect(lambda _text: self._timer.start())
        self.results.itemDoubleClicked.connect(self._add_item)
        for widget in (self.search_box, self.results, self.chosen):
            widget.installEventFilter(self)
        self.setTabOrder(self.search_box, self.results)
        self.setTabOrder(self.results, self.chosen)

    # --- the chosen codes ---------------------------------------------------------------

    def codes(self) -> tuple[str, ...]:
        return tuple(d.code for d in self._chosen)

    def set_diagnoses(self, diagnoses: Sequence[Diagnosis]) -> None:
        self._chosen = list(diagnoses)[:MAX_CODES]
        self._refresh_chosen()

    def add(self, diagnosis: Diagnosis) -> bool:
        if any(d.code == diagnosis.code for d in self._chosen):
            self.status.setText(f"{diagnosis.display} is already on the order.")
            return False
        if len(self._chosen) >= MAX_CODES:
            self.status.setText(f"An order takes at most {MAX_CODES} diagnoses.")
            return False
        self._chosen.append(diagnosis)
        self._refresh_chosen()
        self.status.setText(f"Added {diagnosis.display}.")
        return True

    def _refresh_chosen(self) -> None:
        row = self.chosen.currentRow()
        self.chosen.clear()
        for position, diagnosis in enumerate(self._chosen, start=1):
            self.chosen.addItem(f"{position}. {diagnosis.label}")
        if self._chosen:
            self.chosen.setCurrentRow(min(max(row, 0), len(self._chosen) - 1))
        self.changed.emit()

    def _remove_current(self) -> None:
        row = self.chosen.currentRow()
        if 0 <= row < len(self._chosen):
            removed = self._chosen.pop(row)
            self._refresh_chosen()
            self.status.setText(f"Removed {removed.display}.")

    def _move_current(self, step: int) -> None:
        row = self.chosen.currentRow()
        target = row + step
        if 0 <= row < len(self._chosen) and 0 <= target < len(self._chosen):
            self._chosen[row], self._chosen[target] = self._chosen[target], self._chosen[row]
            self._refresh_chosen()
            self.chosen.setCurrentRow(target)

    # --- searching ----------------------------------------------------------------------

    def _run_search(self) -> None:
        text = self.search_box.text()
        if not text.strip():
            self._add_when_ready = False
        self._asked += 1
        asked = self._asked
        if not text.strip():
            self.results.clear()
            return
        search = self._search
        self._runner.run(lambda: search(text), lambda found: self._show(asked, found), self._failed)

    def _show(self, asked: int, found: Sequence[Diagnosis]) -> None:
        if asked != self._asked:
            return  # the user has typed more since: a newer answer is on its way
        self.results.clear()
        for diagnosis in found:
            item = QListWidgetItem(diagnosis.label)
            item.setData(Qt.ItemDataRole.UserRole, diagnosis)
            self.results.addItem(item)
        if found:
            self.results.setCurrentRow(0)
        self.status.setText("" if found else "No billable code matches.")
        if self._add_when_ready:
            self._add_when_ready = False
            if found:
                self.add(found[0])

    def _failed(self, exc: BaseException) -> None:
        self.status.setText(describe(exc))

    def _add_item(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        diagnosis = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(diagnosis, Diagnosis):
            self.add(diagnosis)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return super().eventFilter(watched, event)
        key, modifiers = event.key(), event.modifiers()
        if watched is self.search_box:
            if key in _ENTER:
                # Enter adds the highlighted result rather than pressing the dialog's Save.
                if self._timer.isActive() or self._runner.busy:
                    # Typed faster than the search: add the first match when it arrives.
                    self._add_when_ready = True
                    if self._timer.isActive():
                        self._timer.stop()
                        self._run_search()
                    return True
                self._add_item(self.results.currentItem() or self.results.item(0))
                return True
            if key == Qt.Key.Key_Down and self.results.count():
                self.results.setFocus()
                return True
        elif watched is self.results and key in _ENTER:
            self._add_item(self.results.currentItem())
            return True
        elif watched is self.chosen:
            if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
                self._remove_current()
                return True
            if modifiers & Qt.KeyboardModifier.AltModifier and key in (Qt.Key.Key_Up, Qt.Key.Key_Down):
                self._move_current(-1 if key == Qt.Key.Key_Up else 1)
                return True
        return super().eventFilter(watched, event)
