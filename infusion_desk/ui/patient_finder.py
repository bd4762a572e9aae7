"""The patient finder: type part of a name, an MRN or a date of birth and pick a patient.

    finder = PatientFinder(services, actor)
    finder.patientActivated.connect(open_patient)   # Enter or double-click on a result

Searches run on the background worker after a short pause in typing; answers to older
keystrokes are dropped, so the list always matches what is in the box.
"""

from __future__ import annotations

from PySide6.QtCore import (
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.patients import SEARCH_LIMIT, PatientRow
from infusion_desk.ui.errors import describe
from infusion_desk.ui.formatting import sex_label, us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner

SEARCH_DELAY_MS = 150



PATIENT_COLUMNS: tuple[Column[PatientRow], ...] = (
    ("MRN", lambda r: r.mrn),
    ("Name", lambda r: r.display_name),
    ("Date of birth", lambda r: us_date(r.birth_date)),
    ("Sex", lambda r: sex_label(r.sex)),
    ("Phone", lambda r: r.phone or ""),
)


class PatientTableModel(RowTableModel[PatientRow]):
    """The finder's results: one row per :class:`PatientRow`, at most one search's worth."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(PATIENT_COLUMNS, parent)

    def patient_id(self, row: int) -> int:
        return self.row(row).id


class _SearchBox(QLineEdit):
    downPressed = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down and event.modifiers() == Qt.KeyboardModifier.NoModifier:
            self.downPressed.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class _ResultsView(QTableView):
    """Enter opens the current row on every platform; Up from the top goes back to the box."""

    rowActivated = Signal(int)
    upFromTop = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        current = self.currentIndex()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and current.isValid():
            self.rowActivated.emit(current.row())
            event.accept()
            return
        if key == Qt.Key.Key_Up and current.row() <= 0:
            self.upFromTop.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class PatientFinder(QWidget):
    """Search box over a results table; emits ``patientActivated(patient_id)``."""

    patientActivated = Signal(int)
    searchFinished = Signal(int)
    """A search's results are on screen (the argument is how many rows)."""

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        delay_ms: int = SEARCH_DELAY_MS,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("patientFinder")
        self._services = services
        self._actor = actor
        self._runner = TaskRunner(self)
        self._generation = 0
        self._shown_generation = 0
        self._open_first_when_ready = False

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(delay_ms)
        self._timer.timeout.connect(self._start_search)

        self.search_box = _SearchBox(self)
        self.search_box.setObjectName("finderSearch")
        self.search_box.setPlaceholderText("Name, MRN or date of birth")
        self.search_box.setClearButtonEnabled(True)
        self.search_box.setAccessibleName("Find patient")
        self.search_box.textChanged.connect(self._text_changed)
        self.search_box.returnPressed.connect(self._return_in_box)
        self.search_box.downPressed.connect(self.focus_results)

        label = QLabel("Find &patient (Ctrl+F):", self)
        label.setBuddy(self.search_box)

        self.model = PatientTableModel(self)
        self.results = _ResultsView(self)
        configure_table(self.results, "finderResults", "Matching patients")
        self.results.setModel(self.model)
        self.results.rowActivated.connect(self._activate_row)
        self.results.doubleClicked.connect(lambda index: self._activate_row(index.row()))
        self.results.upFromTop.connect(self.focus_search)

        self.status = QLabel(self)
        self.status.setObjectName("finderStatus")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(label)
        layout.addWidget(self.search_box)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        self.setFocusProxy(self.search_box)
        QWidget.setTabOrder(self.search_box, self.results)

    @property
    def searching(self) -> bool:
        """Typed text whose results are not on screen yet."""
        return self._shown_generation != self._generation

    def focus_search(self) -> None:
        self.search_box.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_box.selectAll()

    def focus_results(self) -> None:
        if self.model.rowCount() == 0:
            return
        if not self.results.currentIndex().isValid():
            self.results.setCurrentIndex(self.model.index(0, 0))
        self.results.setFocus(Qt.FocusReason.OtherFocusReason)

    def _text_changed(self, text: str) -> None:
        self._generation += 1  # whatever is in flight now answers an older question
        self._open_first_when_ready = False
        if not text.strip():
            self._timer.stop()
            self._shown_generation = self._generation
            self.model.set_rows([])
            self.status.clear()
            return
        self._timer.start()

    def _start_search(self) -> None:
        generation = self._generation
        text = self.search_box.text()
        services, actor = self._services, self._actor
        self.status.setText("Searching…")
        self._runner.run(
            lambda: services.patients.search(actor, text),
            lambda rows: self._show_results(generation, rows),
            lambda exc: self._search_failed(generation, exc),
        )

    def _show_results(self, generation: int, rows: list[PatientRow]) -> None:
        if generation != self._generation:
            return
        self._shown_generation = generation
        self.model.set_rows(rows)
        if rows:
            self.results.setCurrentIndex(self.model.index(0, 0))
        count = len(rows)
        if count == 0:
            self.status.setText("No patients match")
        elif count >= SEARCH_LIMIT:
            self.status.setText(f"First {count} patients shown — type more to narrow the search")
        else:
            self.status.setText("1 patient" if count == 1 else f"{count} patients")
        self.searchFinished.emit(count)
        if self._open_first_when_ready:
            self._open_first_when_ready = False
            if rows:
                self._activate_row(0)

    def _search_failed(self, generation: int, exc: Exception) -> None:
        if generation != self._generation:
            return
        self._shown_generation = generation
        self._open_first_when_ready = False
        self.model.set_rows([])
        self.status.setText(f"Search failed: {describe(exc)}")

    def _return_in_box(self) -> None:
        if not self.search_box.text().strip():
            return
        if self.searching:
            # Enter typed faster than the pause: search now and open the first match.
            self._open_first_when_ready = True
            if self._timer.isActive():
                self._timer.stop()
                self._start_search()
            return
        current = self.results.currentIndex()
        if current.isValid():
            self._activate_row(current.row())
        elif self.model.rowCount() > 0:
            self._activate_row(0)

    def _activate_row(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.patientActivated.emit(self.model.patient_id(row))
