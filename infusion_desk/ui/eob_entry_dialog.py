"""Keying a paper EOB (Billing → Payments → Key paper EOB…): the posting an 835 gets, typed by hand.

    dialog = EobEntryDialog(services, biller, parent)
    dialog.posted.connect(lambda result: payments_page.refresh())
    dialog.open()

The top of the form is the payment: payer, check or EFT number, date, method and total.
Under it, the claims the EOB answers. Type a claim number and press Enter (or Tab on): the
claim is found and its billed lines filled in (date, code, modifiers, units, charge), and
the payer is set from the claim when none is chosen yet. For each line type what the payer
paid and allowed, and its adjustments (group CO, PR, OA, PI or OI, the reason code and the
amount; as many as the EOB prints). The patient's share is what the PR adjustments add up to.

The balance under the tables is :func:`infusion_desk.billing.remittance.balance_problems`,
the same check an 835 file passes: each line's charge less paid must equal its adjustments,
and the check total what the claims pay less provider-level adjustments. **Post** (Ctrl+Enter)
hands the EOB to :meth:`RemittanceService.enter`, which saves all of it or nothing and says
what to correct (an unknown claim, a line that matches none of the claim's, a check already
posted); its findings appear under the form.

Keys: Insert adds and Delete removes a row of the table that has the focus (claims, lines,
adjustments, provider-level adjustments); typing or F2 edits a cell, Enter keeps it, and Tab
while editing moves on to the next cell. Money is typed as text (``1,250.00``, ``$40``,
``-12.50`` for a reversal) and read as ``Decimal``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.billing import remittance as rm
from infusion_desk.billing.money import CENT, ZERO, money, quantity
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.remittances import PostingResult, RemittanceService
from infusion_desk.ui import code_help
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import today_local, us_date
from infusion_desk.ui.tables import configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, GOOD, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.billing.claim_data import ClaimData
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services
    from infusion_desk.services.claims import ClaimRow

CLAIM_STATUSES: tuple[tuple[str, str], ...] = (
    ("1", "Processed as primary"),
    ("2", "Processed as secondary"),
    ("3", "Processed as tertiary"),
    ("4", "Denied"),
    (rm.REVERSAL, "Reversal of an earlier payment"),
)
"""CLP02 codes a paper EOB can say, with the words on the form."""

PAYMENT_METHODS: tuple[tuple[str, str], ...] = (
    ("CHK", "Check (CHK)"),
    ("ACH", "EFT / ACH"),
    ("BOP", "Check or EFT, payer's choice (BOP)"),
    ("FWT", "Wire transfer (FWT)"),
    ("NON", "No payment: all denied or zero (NON)"),
)
"""BPR04 payment methods."""

GROUP_CODES = ("CO", "PR", "OA", "PI", "OI")


# --- what the biller typed, as typed --------------------------------------------------------------


@dataclass(eq=False)
class AdjustmentDraft:
    group: str = "CO"
    reason: str = ""
    amount: str = ""


@dataclass(eq=False)
class LineDraft:
    service_date: str = ""
    code: str = ""
    modifiers: str = ""
    units: str = ""
    charge: str = ""
    paid: str = ""
    allowed: str = ""
    control_number: str | None = None
    """The billed line's REF*6R when the line came from the claim (what finds it when posting)."""
    adjustments: list[AdjustmentDraft] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class FoundClaim:
    """What a claim number found: the claim's row (status, payer) and its billed data."""

    number: str
    row: ClaimRow
    data: ClaimData


@dataclass(eq=False)
class ClaimDraft:
    number: str = ""
    status: str = "1"
    payer_claim_number: str = ""
    lines: list[LineDraft] = field(default_factory=list)
    found: FoundClaim | None = None
    note: str = ""
    """What the last look-up of the number said (the patient and payer, or that none was found)."""

    def blank(self) -> bool:
        return not self.number.strip() and not self.lines


@dataclass(eq=False)
class ProviderDraft:
    reason: str = ""
    reference: str = ""
    amount: str = ""


# --- reading typed text --------------------------------------------------------------------------------


def read_amount(text: str) -> Decimal:
    """Dollars as typed (``1,250``, ``$40.5``, ``-12.50``, ``(12.50)``) to the cent; ValueError if not."""
    cleaned = text.strip().replace("$", "").replace(",", "").replace(" ", "")
    if cleaned.startswith("(") and cleaned.endswith(")"):
        cleaned = "-" + cleaned[1:-1]
    if not cleaned:
        raise ValueError("is blank")
    value = quantity(cleaned)
    if value != value.quantize(CENT):
        raise ValueError("has more than cents")
    return money(value)


def _maybe_amount(text: str) -> Decimal | None:
    try:
        return read_amount(text)
    except ValueError:
        return None


def _dollars(amount: Decimal | None) -> str:
    if amount is None:
        return ""
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def _read_date(text: str) -> date:
    return datetime.strptime(text.strip(), "%m/%d/%Y").date()  # noqa: DTZ007 - a calendar date


def _patient_owes(line: LineDraft) -> Decimal:
    return sum(
        (
            amount
            for a in line.adjustments
            if a.group.strip().upper() == "PR" and (amount := _maybe_amount(a.amount)) is not None
        ),
        ZERO,
    )


def _adjustments_text(line: LineDraft) -> str:
    return ", ".join(
        f"{a.group.strip().upper()}-{a.reason.strip()} {a.amount.strip()}".strip() for a in line.adjustments
    )


class _Reader:
    """Turns the drafts into the remittance contract, collecting what cannot be read."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def amount(self, text: str, where: str, *, blank: Decimal | None = None) -> Decimal:
        if not text.strip() and blank is not None:
            return blank
        try:
            return read_amount(text)
        except ValueError as exc:
            typed = text.strip()
            if not typed:
                what = "is blank"
            elif "cents" in str(exc):
                what = f"{typed!r} has more than cents"
            else:
                what = f"{typed!r} is not an amount"
            self.problems.append(f"{where} {what}: type dollars and cents, for example 1,250.00.")
            return ZERO

    def optional_amount(self, text: str, where: str) -> Decimal | None:
        return self.amount(text, where) if text.strip() else None

    def units(self, text: str, where: str) -> Decimal | None:
        if not text.strip():
            return None
        try:
            return quantity(text.strip().replace(",", ""))
        except ValueError:
            self.problems.append(f"{where}: units {text.strip()!r} are not a number.")
            return None

    def day(self, text: str, where: str) -> date | None:
        if not text.strip():
            return None
        try:
            return _read_date(text)
        except ValueError:
            self.problems.append(f"{where} {text.strip()!r}: use MM/DD/YYYY, for example 11/20/2026.")
            return None

    def line(self, claim: str, number: int, line: LineDraft) -> rm.ServicePayment:
        where = f"Claim {claim}, line {number}"
        code = line.code.strip().upper()
        if not code:
            self.problems.append(f"{where}: type the procedure or drug code the EOB shows.")
        adjustments = []
        for index, adjustment in enumerate(line.adjustments, start=1):
            group = adjustment.group.strip().upper()
            if group not in GROUP_CODES:
                self.problems.append(
                    f"{where}, adjustment {index}: group {adjustment.group.strip()!r} is not one of "
                    f"{', '.join(GROUP_CODES)}."
                )
            reason = adjustment.reason.strip().upper()
            if not reason or len(reason) > 5:
                self.problems.append(
                    f"{where}, adjustment {index}: type the reason code (CARC) printed on the EOB, e.g. 45."
                )
            amount = self.amount(adjustment.amount, f"{where}, adjustment {index}: the amount")
            adjustments.append(rm.CasAdjustment(group, reason, amount))
        return rm.ServicePayment(
            code=code,
            modifiers=tuple(m for m in line.modifiers.replace(",", " ").upper().split() if m),
            charge=self.amount(line.charge, f"{where}: the charge"),
            paid=self.amount(line.paid, f"{where}: paid", blank=ZERO),
            units_paid=self.units(line.units, where),
            service_date=self.day(line.service_date, f"{where}: the date"),
            line_control_number=line.control_number,
            allowed=self.optional_amount(line.allowed, f"{where}: allowed"),
            adjustments=tuple(adjustments),
        )

    def claim(self, draft: ClaimDraft) -> rm.ClaimPayment:
        number = draft.number.strip().upper()
        lines = tuple(self.line(number, i, line) for i, line in enumerate(draft.lines, start=1))
        data = draft.found.data if draft.found is not None and draft.found.number == number else None
        return rm.ClaimPayment(
            patient_control_number=number,
            status_code=draft.status,
            total_charge=sum((line.charge for line in lines), ZERO),
            paid=sum((line.paid for line in lines), ZERO),
            patient_responsibility=sum(
                (a.amount for line in lines for a in line.adjustments if a.group == "PR"), ZERO
            ),
            filing_indicator=data.filing_indicator if data is not None else "",
            payer_claim_control_number=draft.payer_claim_number.strip() or None,
            patient_last_name=data.patient.name.last if data is not None else "",
            patient_first_name=data.patient.name.first if data is not None else "",
            member_id=data.subscriber.member_id if data is not None else None,
            service_date_from=min((li.service_date for li in lines if li.service_date), default=None),
            service_date_to=max((li.service_date for li in lines if li.service_date), default=None),
            lines=lines,
        )


# --- the editable tables ---------------------------------------------------------------------------------

T = TypeVar("T")
_Index = QModelIndex | QPersistentModelIndex
Field = tuple[str, Callable[[T], str], Callable[[T, str], None] | None]
"""(header, what the cell shows, how a typed value is kept; None for a column that is worked out)."""


class DraftModel(QAbstractTableModel, Generic[T]):
    """A table over a list of drafts the dialog owns; editable columns write the typed text back."""

    def __init__(self, fields: Sequence[Field[T]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._fields = tuple(fields)
        self._rows: list[T] = []

    def set_rows(self, rows: list[T]) -> None:
        """Show ``rows`` (the very list: inserts and removals change it)."""
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row(self, index: int) -> T:
        return self._rows[index]

    def insert(self, at: int, item: T) -> None:
        self.beginInsertRows(QModelIndex(), at, at)
        self._rows.insert(at, item)
        self.endInsertRows()

    def remove(self, at: int) -> None:
        self.beginRemoveRows(QModelIndex(), at, at)
        del self._rows[at]
        self.endRemoveRows()

    def changed(self, row: int | None = None) -> None:
        """Repaint one row (or all): what it shows was worked out from something else that changed."""
        if not self._rows:
            return
        first, last = (0, len(self._rows) - 1) if row is None else (row, row)
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(self._fields) - 1))

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._fields)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return self._fields[index.column()][1](self._rows[index.row()])
        return None

    def setData(self, index: _Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if role != Qt.ItemDataRole.EditRole or not index.isValid() or index.row() >= len(self._rows):
            return False
        setter = self._fields[index.column()][2]
        if setter is None:
            return False
        setter(self._rows[index.row()], str(value))
        self.changed(index.row())
        return True

    def flags(self, index: _Index) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.isValid() and self._fields[index.column()][2] is not None:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if (
            role == Qt.ItemDataRole.DisplayRole
            and orientation == Qt.Orientation.Horizontal
            and 0 <= section < len(self._fields)
        ):
            return self._fields[section][0]
        return None


def _setter(name: str) -> Callable[[Any, str], None]:
    return lambda draft, value: setattr(draft, name, value.strip())


def _status_label(code: str) -> str:
    return dict(CLAIM_STATUSES).get(code, code)


CLAIM_FIELDS: tuple[Field[ClaimDraft], ...] = (
    ("Claim", lambda c: c.number.strip().upper(), None),
    ("Patient", lambda c: f"{c.found.row.patient}" if c.found else "", None),
    ("On the EOB", lambda c: _status_label(c.status), None),
    ("Charge", lambda c: _dollars(sum((_maybe_amount(li.charge) or ZERO for li in c.lines), ZERO)), None),
    ("Paid", lambda c: _dollars(sum((_maybe_amount(li.paid) or ZERO for li in c.lines), ZERO)), None),
    ("Patient owes", lambda c: _dollars(sum((_patient_owes(li) for li in c.lines), ZERO)), None),
    ("Lines", lambda c: str(len(c.lines)), None),
)

LINE_FIELDS: tuple[Field[LineDraft], ...] = (
    ("Date", lambda li: li.service_date, _setter("service_date")),
    ("Code", lambda li: li.code, lambda li, v: setattr(li, "code", v.strip().upper())),
    ("Modifiers", lambda li: li.modifiers, lambda li, v: setattr(li, "modifiers", v.strip().upper())),
    ("Units", lambda li: li.units, _setter("units")),
    ("Charge", lambda li: li.charge, _setter("charge")),
    ("Paid", lambda li: li.paid, _setter("paid")),
    ("Allowed", lambda li: li.allowed, _setter("allowed")),
    ("Adjustments", _adjustments_text, None),
    ("Patient owes", lambda li: _dollars(_patient_owes(li)), None),
)
PAID_COLUMN = 5

ADJUSTMENT_FIELDS: tuple[Field[AdjustmentDraft], ...] = (
    ("Group", lambda a: a.group, lambda a, v: setattr(a, "group", v.strip().upper())),
    ("Reason", lambda a: a.reason, lambda a, v: setattr(a, "reason", v.strip().upper())),
    ("Amount", lambda a: a.amount, _setter("amount")),
)

PROVIDER_FIELDS: tuple[Field[ProviderDraft], ...] = (
    ("Reason", lambda p: p.reason, lambda p, v: setattr(p, "reason", v.strip().upper())),
    ("Reference", lambda p: p.reference, _setter("reference")),
    ("Amount", lambda p: p.amount, _setter("amount")),
)


def _grid(view: QTableView, name: str, accessible: str) -> QTableView:
    configure_table(view, name, accessible)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
    view.setEditTriggers(
        QAbstractItemView.EditTrigger.AnyKeyPressed
        | QAbstractItemView.EditTrigger.EditKeyPressed
        | QAbstractItemView.EditTrigger.DoubleClicked
    )
    view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    view.horizontalHeader().setMinimumSectionSize(70)
    return view


# --- the dialog -------------------------------------------------------------------------------------------


class EobEntryDialog(QDialog):
    """Key one paper EOB; ``posted`` carries the service's :class:`PostingResult` once it is saved."""

    posted = Signal(object)

    def __init__(
        self,
        services: Services,
        actor: Actor,
        parent: QWidget | None = None,
        *,
        today: date | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("eobEntryDialog")
        self.setWindowTitle("Key a paper EOB")
        self._actor = actor
        self._remittances = RemittanceService(services.db)
        self._claims_service = ClaimService(services.db)
        self._runner = TaskRunner(self)
        self._posting = False
        self._payer_codes: dict[int, str] = {}
        """Our payer id -> the identifier the payer is known by (learned from its claims' data)."""
        self.claims: list[ClaimDraft] = [ClaimDraft()]
        self.provider_adjustments: list[ProviderDraft] = []

        # the payment
        self.payer = QComboBox(self)
        self.payer.setObjectName("eobPayer")
        self.payer.addItem("Choose the payer (or find a claim)", None)
        self.trace = QLineEdit(self)
        self.trace.setObjectName("eobTrace")
        code_help.set_code_help(self.trace, code_help.TRACE_NUMBER)
        self.trace.setPlaceholderText("as printed on the check or EOB")
        self.payment_date = QLineEdit(us_date(today or today_local()), self)
        self.payment_date.setObjectName("eobPaymentDate")
        self.payment_date.setPlaceholderText("MM/DD/YYYY")
        self.method = QComboBox(self)
        self.method.setObjectName("eobMethod")
        for code, text in PAYMENT_METHODS:
            self.method.addItem(text, code)
        self.total = QLineEdit(self)
        self.total.setObjectName("eobTotal")
        self.total.setPlaceholderText("0.00")
        header = QFormLayout()
        for text, widget in (
            ("&Payer", self.payer),
            ("Check / &EFT number", self.trace),
            ("Payment &date", self.payment_date),
            ("Payment &method", self.method),
            ("&Total of the check", self.total),
        ):
            header.addRow(text, widget)

        # the claims it answers
        self.claims_model: DraftModel[ClaimDraft] = DraftModel(CLAIM_FIELDS, self)
        self.claims_model.set_rows(self.claims)
        self.claims_table = configure_table(QTableView(self), "eobClaims", "Claims on this EOB")
        self.claims_table.setModel(self.claims_model)
        claims_label = QLabel("C&laims on this EOB (Insert adds one, Delete removes it):", self)
        claims_label.setBuddy(self.claims_table)
        self.add_claim_button = QPushButton("&Add claim", self)
        self.add_claim_button.setObjectName("eobAddClaim")
        self.add_claim_button.clicked.connect(self.add_claim)

        self.claim_number = QLineEdit(self)
        self.claim_number.setObjectName("eobClaimNumber")
        self.claim_number.setPlaceholderText("e.g. C0000042, then Enter")
        self.claim_number.setToolTip("Our claim number (the EOB's patient account number); Enter finds it")
        self.find_button = QPushButton("&Find claim", self)
        self.find_button.setObjectName("eobFindClaim")
        self.find_button.clicked.connect(self.find_claim)
        self.claim_status = QComboBox(self)
        self.claim_status.setObjectName("eobClaimStatus")
        for code, text in CLAIM_STATUSES:
            self.claim_status.addItem(text, code)
        self.payer_claim = QLineEdit(self)
        self.payer_claim.setObjectName("eobPayerClaimNumber")
        code_help.set_code_help(self.payer_claim, code_help.PAYER_CLAIM_NUMBER)
        self.payer_claim.setPlaceholderText("the payer's claim or ICN number")
        self.claim_note = QLabel("", self)
        self.claim_note.setObjectName("eobClaimNote")
        self.claim_note.setWordWrap(True)
        claim_form = QGridLayout()
        number_label = QLabel("Claim &number", self)
        number_label.setBuddy(self.claim_number)
        status_label = QLabel("Claim stat&us", self)
        status_label.setBuddy(self.claim_status)
        icn_label = QLabel("Payer's claim num&ber", self)
        icn_label.setBuddy(self.payer_claim)
        claim_form.addWidget(number_label, 0, 0)
        claim_form.addWidget(self.claim_number, 0, 1)
        claim_form.addWidget(self.find_button, 0, 2)
        claim_form.addWidget(status_label, 0, 3)
        claim_form.addWidget(self.claim_status, 0, 4)
        claim_form.addWidget(icn_label, 1, 0)
        claim_form.addWidget(self.payer_claim, 1, 1)
        claim_form.addWidget(self.claim_note, 1, 2, 1, 3)

        self.lines_model: DraftModel[LineDraft] = DraftModel(LINE_FIELDS, self)
        self.lines_table = _grid(QTableView(self), "eobLines", "Service lines of the claim")
        self.lines_table.setModel(self.lines_model)
        lines_label = QLabel("Service l&ines of the claim (type paid and allowed; Insert / Delete):", self)
        lines_label.setBuddy(self.lines_table)
        self.adjustments_model: DraftModel[AdjustmentDraft] = DraftModel(ADJUSTMENT_FIELDS, self)
        self.adjustments_table = _grid(QTableView(self), "eobAdjustments", "Adjustments of the line")
        self.adjustments_table.setModel(self.adjustments_model)
        self.adjustments_label = QLabel(self)
        self.adjustments_label.setBuddy(self.adjustments_table)
        self.provider_model: DraftModel[ProviderDraft] = DraftModel(PROVIDER_FIELDS, self)
        self.provider_model.set_rows(self.provider_adjustments)
        self.provider_table = _grid(QTableView(self), "eobProviderAdjustments", "Provider-level adjustments")
        self.provider_table.setModel(self.provider_model)
        provider_label = QLabel(
            "Pro&vider-level adjustments (PLB: reason, reference, amount; positive takes money back):", self
        )
        provider_label.setBuddy(self.provider_table)
        self.provider_table.setMaximumHeight(120)
        self.claims_table.setMaximumHeight(150)

        self.balance = QLabel("", self)
        self.balance.setObjectName("eobBalance")
        self.balance.setWordWrap(True)
        self.error = QLabel("", self)
        self.error.setObjectName("eobError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        self.post_button = QPushButton("Po&st EOB  (Ctrl+Enter)", self)
        self.post_button.setObjectName("eobPost")
        self.post_button.clicked.connect(self.post)
        self.cancel_button = QPushButton("Cancel", self)
        self.cancel_button.setObjectName("eobCancel")
        self.cancel_button.clicked.connect(self.reject)
        for button in (self.add_claim_button, self.find_button, self.post_button, self.cancel_button):
            button.setAutoDefault(False)  # Enter in a field finds a claim or keeps a cell, never posts

        claims_row = QHBoxLayout()
        claims_row.addWidget(claims_label, 1)
        claims_row.addWidget(self.add_claim_button)
        detail = QGridLayout()
        detail.addWidget(lines_label, 0, 0)
        detail.addWidget(self.adjustments_label, 0, 1)
        detail.addWidget(self.lines_table, 1, 0)
        detail.addWidget(self.adjustments_table, 1, 1)
        detail.setColumnStretch(0, 3)
        detail.setColumnStretch(1, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.post_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(header)
        layout.addLayout(claims_row)
        layout.addWidget(self.claims_table, 1)
        layout.addLayout(claim_form)
        layout.addLayout(detail, 2)
        layout.addWidget(provider_label)
        layout.addWidget(self.provider_table, 1)
        layout.addWidget(self.balance)
        layout.addWidget(self.error)
        layout.addLayout(buttons)

        chain: list[QWidget] = [
            self.payer,
            self.trace,
            self.payment_date,
            self.method,
            self.total,
            self.claims_table,
            self.add_claim_button,
            self.claim_number,
            self.find_button,
            self.claim_status,
            self.payer_claim,
            self.lines_table,
            self.adjustments_table,
            self.provider_table,
            self.post_button,
            self.cancel_button,
        ]
        for first, second in zip(chain, chain[1:], strict=False):
            self.setTabOrder(first, second)

        for keys in ("Ctrl+Return", "Ctrl+Enter"):
            QShortcut(QKeySequence(keys), self, self.post)
        rows: tuple[tuple[QTableView, Callable[[], None], Callable[[], None]], ...] = (
            (self.claims_table, self.add_claim, self.remove_claim),
            (self.lines_table, self.add_line, self.remove_line),
            (self.adjustments_table, self.add_adjustment, self.remove_adjustment),
            (self.provider_table, self.add_provider_adjustment, self.remove_provider_adjustment),
        )
        for table, add, remove in rows:
            for key, action in (("Insert", add), ("Delete", remove)):
                shortcut = QShortcut(QKeySequence(key), table, action)
                shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)

        self.claims_table.selectionModel().currentRowChanged.connect(lambda *_: self._show_claim())
        self.lines_table.selectionModel().currentRowChanged.connect(lambda *_: self._show_line())
        self.claim_number.textEdited.connect(self._number_typed)
        self.claim_number.editingFinished.connect(self.find_claim)
        self.claim_status.currentIndexChanged.connect(self._status_chosen)
        self.payer_claim.textEdited.connect(self._payer_claim_typed)
        self.total.textChanged.connect(lambda _text: self._update_balance())
        self.payment_date.textChanged.connect(lambda _text: self._update_balance())
        for model, edited in (
            (self.lines_model, self._lines_edited),
            (self.adjustments_model, self._adjustments_edited),
            (self.provider_model, self._update_balance),
        ):
            model.dataChanged.connect(lambda *_, edited=edited: edited())
            model.rowsInserted.connect(lambda *_, edited=edited: edited())
            model.rowsRemoved.connect(lambda *_, edited=edited: edited())

        self.claims_table.setCurrentIndex(self.claims_model.index(0, 0))
        self._show_claim()
        self.resize(1100, 760)
        pin_minimum_size(self)
        self.trace.setFocus()
        self._runner.run(
            lambda: services.clinic.payers(actor), self._fill_payers, lambda exc: show_error(self, exc)
        )

    # -- payers ----------------------------------------------------------------------------------------

    def _fill_payers(self, payers: list[tuple[int, str, Any]]) -> None:
        keep = self.payer.currentData()
        for payer_id, name, _payer_type in payers:
            if self.payer.findData(payer_id) < 0:
                self.payer.addItem(name, payer_id)
        if keep is not None:
            self.payer.setCurrentIndex(max(0, self.payer.findData(keep)))

    # -- the current claim -------------------------------------------------------------------------------

    def current_claim(self) -> ClaimDraft | None:
        index = self.claims_table.currentIndex()
        return self.claims[index.row()] if index.isValid() and index.row() < len(self.claims) else None

    def _claim_row(self, claim: ClaimDraft) -> int:
        return next(i for i, c in enumerate(self.claims) if c is claim)

    def _show_claim(self) -> None:
        claim = self.current_claim()
        for widget in (self.claim_number, self.find_button, self.claim_status, self.payer_claim):
            widget.setEnabled(claim is not None)
        self.claim_number.setText(claim.number if claim else "")
        self.claim_status.blockSignals(True)
        self.claim_status.setCurrentIndex(max(0, self.claim_status.findData(claim.status if claim else "1")))
        self.claim_status.blockSignals(False)
        self.payer_claim.setText(claim.payer_claim_number if claim else "")
        self.claim_note.setText(claim.note if claim else "")
        self.lines_model.set_rows(claim.lines if claim is not None else [])
        if claim is not None and claim.lines:
            self.lines_table.setCurrentIndex(self.lines_model.index(0, PAID_COLUMN))
        self._show_line()

    def current_line(self) -> LineDraft | None:
        index = self.lines_table.currentIndex()
        if not index.isValid() or index.row() >= self.lines_model.rowCount():
            return None
        return self.lines_model.row(index.row())

    def _show_line(self) -> None:
        line = self.current_line()
        self.adjustments_model.set_rows(line.adjustments if line is not None else [])
        if line is None:
            self.adjustments_label.setText("Ad&justments (pick a line first)")
        else:
            number = self.lines_table.currentIndex().row() + 1
            self.adjustments_label.setText(
                f"Ad&justments of line {number} ({line.code}): group, reason, amount"
            )
        self._update_balance()

    def _number_typed(self, text: str) -> None:
        claim = self.current_claim()
        if claim is not None:
            claim.number = text
            self.claims_model.changed(self._claim_row(claim))

    def _status_chosen(self) -> None:
        claim = self.current_claim()
        if claim is not None:
            claim.status = str(self.claim_status.currentData())
            self.claims_model.changed(self._claim_row(claim))
            self._update_balance()

    def _payer_claim_typed(self, text: str) -> None:
        claim = self.current_claim()
        if claim is not None:
            claim.payer_claim_number = text

    def _lines_edited(self) -> None:
        claim = self.current_claim()
        if claim is not None:
            self.claims_model.changed(self._claim_row(claim))
        self._update_balance()

    def _adjustments_edited(self) -> None:
        """The line's adjustments and patient share columns are worked out from its adjustments."""
        index = self.lines_table.currentIndex()
        if index.isValid():
            self.lines_model.changed(index.row())  # which repaints the claim and the balance too

    # -- finding a claim and its billed lines -------------------------------------------------------

    def find_claim(self) -> None:
        claim = self.current_claim()
        if claim is None:
            return
        number = self.claim_number.text().strip().upper()
        claim.number = number
        if not number or (claim.found is not None and claim.found.number == number):
            return
        claims, actor = self._claims_service, self._actor

        def look_up() -> FoundClaim | None:
            rows = claims.claims(actor, search=number, limit=20)
            row = next((r for r in rows if r.claim_number == number), None)
            if row is None:
                return None
            (data,) = claims.claim_data(actor, [row.id])
            return FoundClaim(number, row, data)

        claim.note = f"Looking for claim {number}…"
        self.claim_note.setText(claim.note)
        self._runner.run(look_up, lambda found: self._found(claim, number, found), self._failed)

    def _found(self, claim: ClaimDraft, number: str, found: FoundClaim | None) -> None:
        if claim not in self.claims or claim.number.strip().upper() != number:
            return  # the biller has moved on to another number; this answer is stale
        if found is None:
            if claim.found is not None:  # the lines were another claim's
                claim.lines.clear()
            claim.found = None
            claim.note = f"No claim numbered {number}: check the patient account number on the EOB."
        else:
            row = found.row
            claim.found = found
            claim.lines[:] = [
                LineDraft(
                    service_date=us_date(line.service_date),
                    code=line.code,
                    modifiers=" ".join(line.modifiers),
                    units=f"{line.units.normalize():f}",
                    charge=f"{line.charge:.2f}",
                    control_number=line.control_number,
                )
                for line in found.data.lines
            ]
            self._payer_codes[row.payer_id] = found.data.payer.payer_id
            if self.payer.currentData() is None:
                index = self.payer.findData(row.payer_id)
                if index < 0:
                    self.payer.addItem(row.payer, row.payer_id)
                    index = self.payer.count() - 1
                self.payer.setCurrentIndex(index)
            claim.note = (
                f"{row.patient}, {row.payer}; date of service {us_date(row.service_date)}, "
                f"billed {_dollars(row.total_charge)}, now {row.status.value.replace('_', ' ')}."
            )
        self.claims_model.changed(self._claim_row(claim))
        if claim is self.current_claim():
            self._show_claim()

    # -- rows ----------------------------------------------------------------------------------------------

    def add_claim(self) -> None:
        self.claims_model.insert(len(self.claims), ClaimDraft())
        self.claims_table.setCurrentIndex(self.claims_model.index(len(self.claims) - 1, 0))
        self.claim_number.setFocus()

    def remove_claim(self) -> None:
        claim = self.current_claim()
        if claim is None:
            return
        row = self._claim_row(claim)
        self.claims_model.remove(row)
        if not self.claims:
            self.claims_model.insert(0, ClaimDraft())
        self.claims_table.setCurrentIndex(self.claims_model.index(min(row, len(self.claims) - 1), 0))
        self._show_claim()

    def add_line(self) -> None:
        if self.current_claim() is None:
            return
        at = self.lines_model.rowCount()
        self.lines_model.insert(at, LineDraft())
        self.lines_table.setCurrentIndex(self.lines_model.index(at, 0))

    def remove_line(self) -> None:
        index = self.lines_table.currentIndex()
        if index.isValid():
            self.lines_model.remove(index.row())
            self._show_line()

    def add_adjustment(self) -> None:
        if self.current_line() is None:
            self.error.setText("Pick the service line first: adjustments belong to a line.")
            return
        at = self.adjustments_model.rowCount()
        self.adjustments_model.insert(at, AdjustmentDraft())
        self.adjustments_table.setCurrentIndex(self.adjustments_model.index(at, 0))

    def remove_adjustment(self) -> None:
        index = self.adjustments_table.currentIndex()
        if index.isValid():
            self.adjustments_model.remove(index.row())

    def add_provider_adjustment(self) -> None:
        at = self.provider_model.rowCount()
        self.provider_model.insert(at, ProviderDraft())
        self.provider_table.setCurrentIndex(self.provider_model.index(at, 0))

    def remove_provider_adjustment(self) -> None:
        index = self.provider_table.currentIndex()
        if index.isValid():
            self.provider_model.remove(index.row())

    # -- the remittance and its balance ------------------------------------------------------------------

    def _payer_identity(self) -> tuple[str, str]:
        """(the payer's identifier, its name) for the remittance."""
        payer_id = self.payer.currentData()
        if payer_id is None:
            return "", ""
        return self._payer_codes.get(payer_id, ""), self.payer.currentText()

    def remittance(self) -> tuple[rm.Remittance | None, list[str]]:
        """The EOB as the remittance contract, or None with what could not be read."""
        reader = _Reader()
        claims = tuple(reader.claim(c) for c in self.claims if not c.blank())
        provider = []
        for index, plb in enumerate(self.provider_adjustments, start=1):
            where = f"Provider-level adjustment {index}"
            if not plb.reason.strip():
                reader.problems.append(f"{where}: type its reason code (WO, FB, L6, 72…).")
            amount = reader.amount(plb.amount, f"{where}: the amount")
            reference = plb.reference.strip() or None
            provider.append(rm.ProviderAdjustment(plb.reason.strip()[:2], reference, amount))
        total = reader.amount(self.total.text(), "The total of the check")
        paid_on = reader.day(self.payment_date.text(), "The payment date")
        if not self.payment_date.text().strip():
            reader.problems.append("Type the payment date printed on the EOB (MM/DD/YYYY).")
        if reader.problems or paid_on is None:
            return None, reader.problems
        code, name = self._payer_identity()
        return (
            rm.Remittance(
                trace_number=self.trace.text().strip(),
                payer_identifier=code,
                payer_name=name,
                payment_method=str(self.method.currentData()),
                payment_date=paid_on,
                total_paid=total,
                claims=claims,
                provider_adjustments=tuple(provider),
                payer_id=code or None,
            ),
            [],
        )

    def _update_balance(self) -> None:
        remittance, problems = self.remittance()
        if remittance is None:
            set_tone(self.balance, None)
            self.balance.setText(f"Balance: not yet — {problems[0]}" if problems else "")
            return
        paid = sum((c.paid for c in remittance.claims), ZERO)
        taken = sum((p.amount for p in remittance.provider_adjustments), ZERO)
        figures = (
            f"Claims pay {_dollars(paid)}; provider-level adjustments {_dollars(taken)}; "
            f"check total {_dollars(remittance.total_paid)}."
        )
        unbalanced = rm.balance_problems(remittance)
        if unbalanced:
            set_tone(self.balance, ERROR)
            self.balance.setText(figures + " Does not balance:\n" + "\n".join(unbalanced))
        else:
            set_tone(self.balance, GOOD)
            self.balance.setText(figures + " Balanced.")
        grow_to_fit(self)

    # -- posting ---------------------------------------------------------------------------------------------

    def _before_posting(self, remittance: rm.Remittance) -> list[str]:
        """What the form itself can tell is missing before the service is asked."""
        problems = list(rm.balance_problems(remittance))
        payer_id = self.payer.currentData()
        if payer_id is None:
            problems.append("Choose the payer printed on the EOB (or find one of its claims).")
        for claim in self.claims:
            if claim.blank():
                continue
            number = claim.number.strip().upper()
            if not number:
                problems.append("A claim on the EOB has lines but no claim number: type it.")
            elif not claim.lines:
                problems.append(f"Claim {number} has no lines: press Enter in Claim number to fill them.")
            found = claim.found if claim.found is not None and claim.found.number == number else None
            if found is not None and payer_id is not None and found.row.payer_id != payer_id:
                problems.append(
                    f"Claim {number} was billed to {found.row.payer}, not to {self.payer.currentText()}: "
                    "check the payer and the claim number on the EOB."
                )
        if payer_id is not None and not self._payer_codes.get(payer_id):
            problems.append(
                f"None of these claims was found billed to {self.payer.currentText()}: type a claim number "
                "from the EOB and press Enter, so the payment goes to the right payer."
            )
        return problems

    def post(self) -> None:
        if self._posting:
            return
        # a cell still being edited is kept before reading the form
        if QApplication.focusWidget() is not None:
            self.post_button.setFocus()
        remittance, problems = self.remittance()
        if remittance is not None:
            problems = self._before_posting(remittance)
        if remittance is None or problems:
            self._show("Nothing was posted. " + "\n".join(problems))
            return
        service, actor = self._remittances, self._actor
        self._posting = True
        self.post_button.setEnabled(False)
        self._show("")
        self._runner.run(lambda: service.enter(actor, remittance), self._posted, self._failed)

    def _posted(self, result: PostingResult) -> None:
        self._posting = False
        self.post_button.setEnabled(True)
        self.posted.emit(result)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._posting = False
        self.post_button.setEnabled(True)
        if isinstance(exc, ValidationFailed):
            self._show("Nothing was posted. " + "\n".join(f.message for f in exc.findings))
        else:
            show_error(self, exc)

    def _show(self, message: str) -> None:
        self.error.setText(message)
        grow_to_fit(self)
