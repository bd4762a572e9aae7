"""Coder review: each signed visit's lines with their explanations, overrides with a reason, mark coded.

    review = CoderReview(services, biller)     # beside the Billing workspace's coding queue
    review.open_visit(visit_id)

The engine's explanation sits next to every line so the coder can trust it or overrule
it; an override needs a reason, which is kept in the line's history.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.coding import CoderReviewService, VisitReview
from infusion_desk.ui import code_help
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.tasks import TaskRunner


def _item(text: str) -> QTableWidgetItem:
    item = QTableWidgetItem(text)
    item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


class CoderReview(QWidget):
    """The Billing workspace's coding queue."""

    reviewChanged = Signal(int)
    visitCoded = Signal(int)  # the coding queue is out of date

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("coderReview")
        self._services = services
        self._review = CoderReviewService(services.db)
        self._actor = actor
        self._runner = TaskRunner(self)
        self._visit_id: int | None = None
        self._current: VisitReview | None = None
        self._label: str | None = None
        self._build()

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.header = QLabel("Pick a visit waiting for coding.")
        self.header.setObjectName("reviewHeader")
        layout.addWidget(self.header)
        self.lines_table = QTableWidget(0, 5)
        self.lines_table.setObjectName("reviewLines")
        self.lines_table.setHorizontalHeaderLabels(["Code", "Units", "Modifiers", "Why", "Override"])
        self.lines_table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.lines_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines_table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.lines_table.itemSelectionChanged.connect(self._line_selected)
        self.lines_table.setAccessibleName("Coded lines")
        layout.addWidget(self.lines_table)
        self.warnings_label = QLabel("")
        self.warnings_label.setObjectName("reviewWarnings")
        self.warnings_label.setWordWrap(True)
        layout.addWidget(self.warnings_label)

        override = QHBoxLayout()
        self.code_edit = QLineEdit()
        self.code_edit.setObjectName("overrideCode")
        code_help.set_code_help(self.code_edit, code_help.PROCEDURE_CODE)
        self.code_edit.setAccessibleName("Override code (CPT or HCPCS)")
        self.code_edit.setPlaceholderText("Code")
        self.units_edit = QLineEdit()
        self.units_edit.setObjectName("overrideUnits")
        code_help.set_code_help(self.units_edit, code_help.UNITS)
        self.units_edit.setAccessibleName("Override units")
        self.units_edit.setPlaceholderText("Units")
        self.modifiers_edit = QLineEdit()
        self.modifiers_edit.setObjectName("overrideModifiers")
        code_help.set_code_help(self.modifiers_edit, code_help.MODIFIERS)
        self.modifiers_edit.setAccessibleName("Override modifiers")
        self.modifiers_edit.setPlaceholderText("Modifiers (e.g. XU JW)")
        self.reason_edit = QLineEdit()
        self.reason_edit.setObjectName("overrideReason")
        self.reason_edit.setAccessibleName("Reason for the override")
        self.reason_edit.setPlaceholderText("Reason for the override (required)")
        self.override_button = QPushButton("&Override line")
        self.override_button.setObjectName("overrideButton")
        for widget in (
            self.code_edit,
            self.units_edit,
            self.modifiers_edit,
            self.reason_edit,
            self.override_button,
        ):
            override.addWidget(widget)
        layout.addLayout(override)
        self.mark_coded_button = QPushButton("&Mark visit coded")
        self.mark_coded_button.setObjectName("markCodedButton")
        layout.addWidget(self.mark_coded_button)
        self.override_button.clicked.connect(self._override)
        self.reason_edit.returnPressed.connect(self._override)
        self.mark_coded_button.clicked.connect(self._mark_coded)

    def open_visit(self, visit_id: int, label: str | None = None) -> None:
        """Show a visit's lines; ``label`` names the patient in the header."""
        if label is not None or visit_id != self._visit_id:
            self._label = label
        self._visit_id = visit_id
        actor = self._actor
        self._runner.run(lambda: self._review.review(actor, visit_id), self._show, self._error)

    def _show(self, review: VisitReview) -> None:
        self._current = review
        who = self._label or f"Visit {review.visit_id}"
        self.header.setText(f"<b>{who}</b>{' — coded' if review.coded else ''}")
        self.lines_table.setRowCount(len(review.lines))
        for index, line in enumerate(review.lines):
            values = (
                line.code,
                f"{line.units.normalize():f}",
                " ".join(line.modifiers),
                line.explanation.partition(": ")[2] or line.explanation,
                line.override_reason or "",
            )
            for column, value in enumerate(values):
                item = _item(value)
                item.setData(Qt.ItemDataRole.UserRole, line.sequence)
                if column == 3:
                    item.setToolTip(line.explanation)
                self.lines_table.setItem(index, column, item)
        self.warnings_label.setText("\n".join(f"⚠ {w}" for w in review.warnings))
        self.mark_coded_button.setEnabled(not review.coded)
        self.override_button.setEnabled(not review.coded)
        self.reviewChanged.emit(review.visit_id)

    def _line_selected(self) -> None:
        rows = self.lines_table.selectionModel().selectedRows()
        if not rows or self._current is None:
            return
        line = self._current.lines[rows[0].row()]
        self.code_edit.setText(line.code)
        self.units_edit.setText(f"{line.units.normalize():f}")
        self.modifiers_edit.setText(" ".join(line.modifiers))

    def _override(self) -> None:
        rows = self.lines_table.selectionModel().selectedRows()
        if not rows or self._visit_id is None:
            self.warnings_label.setText("⚠ Select the line to override first.")
            return
        visit_id, actor = self._visit_id, self._actor
        sequence = int(self.lines_table.item(rows[0].row(), 0).data(Qt.ItemDataRole.UserRole))
        code = self.code_edit.text().strip() or None
        units = self.units_edit.text().strip() or None
        modifiers = tuple(self.modifiers_edit.text().upper().split())
        reason = self.reason_edit.text()

        def done(_result: Any) -> None:
            self.reason_edit.clear()
            self.open_visit(visit_id)

        self._runner.run(
            lambda: self._review.override(
                actor, visit_id, sequence, code=code, units=units, modifiers=modifiers, reason=reason
            ),
            done,
            self._error,
        )

    def _mark_coded(self) -> None:
        if self._visit_id is None:
            return
        visit_id, actor = self._visit_id, self._actor

        def done(_result: Any) -> None:
            self.open_visit(visit_id)
            self.visitCoded.emit(visit_id)

        self._runner.run(lambda: self._review.mark_coded(actor, visit_id), done, self._error)

    def _error(self, exc: Exception) -> None:
        show_error(self, exc)
