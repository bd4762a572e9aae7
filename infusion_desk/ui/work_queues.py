"""The front desk's four work queues, each a table; Enter opens the screen that fixes the item.

queues = WorkQueuesView(services, actor, today_local)
queues.fixRequested.connect(workspace.open_fix)   # (Fix value, patient id, target id)
queues.refresh()
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QTableView, QTabWidget, QVBoxLayout, QWidget

from infusion_desk.services.worklists import QUEUE_TITLES, Queue, WorkItem, WorklistService, WorkQueues
from infusion_desk.ui.errors import describe
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tables import Column, RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

COLUMNS: tuple[Column[WorkItem], ...] = (
    ("Date", lambda i: us_date(i.due)),
    ("Patient", lambda i: i.patient_name),
    ("MRN", lambda i: i.mrn),
    ("About", lambda i: i.about),
    ("Problem", lambda i: i.problem),
)


class WorkItemModel(RowTableModel[WorkItem]):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(COLUMNS, parent)


class WorkQueuesView(QWidget):
    """One tab per queue with its count in the title; Enter or double-click fixes the item."""

    fixRequested = Signal(str, int, int)

    def __init__(
        self, services: Services, actor: Actor, today: Callable[[], date], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("workQueues")
        self._actor, self._today = actor, today
        self._service = WorklistService(services.db)
        self._runner = TaskRunner(self)
        self.status = QLabel("", self)
        self.status.setObjectName("workQueuesStatus")
        self.tabs = QTabWidget(self)
        self.tabs.setObjectName("workQueueTabs")
        self.models: dict[Queue, WorkItemModel] = {}
        self.tables: dict[Queue, QTableView] = {}
        for queue in Queue:
            model = WorkItemModel(self)
            table = configure_table(QTableView(self), f"queue_{queue.value}", QUEUE_TITLES[queue])
            table.setModel(model)
            table.activated.connect(lambda index, q=queue: self._activate(q, index))
            self.models[queue] = model
            self.tables[queue] = table
            self.tabs.addTab(table, QUEUE_TITLES[queue])
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs)
        QShortcut(QKeySequence("F5"), self, self.refresh)
        self.queues: WorkQueues | None = None

    def refresh(self) -> None:
        day = self._today()
        self.status.setText("Refreshing…")
        self._runner.run(lambda: self._service.queues(self._actor, day), self._show, self._failed)

    def _failed(self, exc: object) -> None:
        assert isinstance(exc, Exception)
        self.status.setText(describe(exc))

    def _show(self, queues: WorkQueues) -> None:
        self.queues = queues
        for position, queue in enumerate(Queue):
            items = queues.queue(queue)
            self.models[queue].set_rows(items)
            self.tabs.setTabText(position, f"{QUEUE_TITLES[queue]} ({len(items)})")
        total = sum(len(queues.queue(q)) for q in Queue)
        self.status.setText(
            f"{total} item{'s' if total != 1 else ''} to work as of {us_date(queues.today)}. "
            "Select one and press Enter to fix it; F5 refreshes."
        )

    def _activate(self, queue: Queue, index: QModelIndex) -> None:
        if not index.isValid():
            return
        item = self.models[queue].row(index.row())
        self.fixRequested.emit(item.fix.value, item.patient_id, item.target_id or 0)
