"""A table of visits (the chair list, the coding queue) built from service ``VisitRow``s.

    model = VisitTableModel(NURSING_COLUMNS)
    model.set_rows(services.visits.day_list(actor, today))

The columns are data, so the nursing and billing workspaces share one model.
"""

from __future__ import annotations

from infusion_desk.services.visits import VisitRow
from infusion_desk.ui.formatting import STATUS_LABELS, local_time, us_date
from infusion_desk.ui.tables import Column, RowTableModel

NURSING_COLUMNS: tuple[Column[VisitRow], ...] = (
    ("Chair", lambda v: v.chair or "—"),
    ("Time", lambda v: local_time(v.scheduled_start)),
    ("Patient", lambda v: v.patient_name),
    ("Drug", lambda v: v.drug or ""),
    ("Status", lambda v: STATUS_LABELS.get(v.status, str(v.status))),
)

CODING_COLUMNS: tuple[Column[VisitRow], ...] = (
    ("Date of service", lambda v: us_date(v.date_of_service)),
    ("Patient", lambda v: v.patient_name),
    ("MRN", lambda v: v.mrn),
    ("Drug", lambda v: v.drug or ""),
    ("Chair", lambda v: v.chair or "—"),
)


class VisitTableModel(RowTableModel[VisitRow]):
    def visit(self, row: int) -> VisitRow:
        return self.row(row)
