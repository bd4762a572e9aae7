"""Booking a patient's visit: order, coverage, chair, date and time, duration, and how many visits.

    dialog = BookingDialog(services, actor, patient_id, parent, day=date(2026, 12, 3), chair_id=2,
                           start=time(9, 0))
    dialog.booked.connect(schedule_view.refresh)      # the new visits' ids
    dialog.open()

The order list shows each active order's drug, frequency and doses left; choosing one fills
the duration from the drug and the interval between visits from the order's frequency
(when the frequency cannot be read, the interval is left for the user to enter). Only
policies in force on the chosen date are offered, "Self-pay" when there are none. Every
rule is the service's; its findings appear in the form, and nothing is booked until they
are all answered.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import TYPE_CHECKING

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.schedule import (
    MAX_REPEAT,
    MAX_VISIT_MINUTES,
    BookingInput,
    BookingOptions,
    OrderOption,
    ScheduleService,
    ScheduleSetup,
    interval_label,
)
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import today_local
from infusion_desk.ui.schedule_view import clock_text, slot_combo, slot_time
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services

SELF_PAY = -1


class BookingDialog(QDialog):
    booked = Signal(list)  # the booked visits' ids, in date order

    def __init__(
        self, services: Services, actor: Actor, patient_id: int, parent: QWidget | None = None, *,
        day: date | None = None, chair_id: int | None = None, start: time | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("bookingDialog")
        self.setWindowTitle("Book a visit")
        self._actor, self._patient_id = actor, patient_id
        self._schedule = ScheduleService(services.db)
        self._runner = TaskRunner(self)
        self._wanted_chair, self._wanted_start = chair_id, start
        self.setup: ScheduleSetup | None = None
        self.options: BookingOptions | None = None
        self._options_request = 0

        self.order = QComboBox(self)
        self.order.setObjectName("bookingOrder")
        self.policy = QComboBox(self)
        self.policy.setObjectName("bookingPolicy")
        self.chair = QComboBox(self)
        self.chair.setObjectName("bookingChair")
        first = day or today_local()
        self.date = QDateEdit(QDate(first.year, first.month, first.day), self)
        self.date.setObjectName("bookingDate")
        self.date.setDisplayFormat("MM/dd/yyyy")
        self.date.setCalendarPopup(True)
        self.start = QComboBox(self)
        self.start.setObjectName("bookingStart")
        self.minutes = QSpinBox(self)
        self.minutes.setObjectName("bookingMinutes")
        self.minutes.setRange(5, MAX_VISIT_MINUTES)
        self.minutes.setSingleStep(15)
        self.minutes.setSuffix(" min")
        self.minutes.setValue(60)
        self.repeat = QSpinBox(self)
        self.repeat.setObjectName("bookingRepeat")
        self.repeat.setRange(1, MAX_REPEAT)
        self.repeat.setSuffix(" visit(s)")
        self.interval = QSpinBox(self)
        self.interval.setObjectName("bookingInterval")
        self.interval.setAccessibleName("Days between repeated visits")
        self.interval.setRange(0, 365)
        self.interval.setSpecialValueText("days apart?")
        self.interval.setSuffix(" days apart")
        self.interval_text = QLabel("", self)
        self.interval_text.setObjectName("bookingIntervalText")
        self.notes = QLineEdit(self)
        self.notes.setObjectName("bookingNotes")
        self.notes.setMaxLength(500)
        self.doses = QLabel("", self)
        self.doses.setObjectName("bookingDoses")
        self.doses.setWordWrap(True)

        form = QFormLayout(self)
        form.addRow("&Order", self.order)
        form.addRow("", self.doses)
        form.addRow("&Coverage", self.policy)
        form.addRow("C&hair", self.chair)
        form.addRow("&Date", self.date)
        form.addRow("&Start", self.start)
        form.addRow("D&uration", self.minutes)
        repeat_row = QHBoxLayout()
        repeat_row.addWidget(self.repeat)
        repeat_row.addWidget(self.interval)
        repeat_row.addWidget(self.interval_text, 1)
        repeat_label = QLabel("&Repeat", self)
        repeat_label.setBuddy(self.repeat)
        form.addRow(repeat_label, repeat_row)
        form.addRow("&Notes", self.notes)
        self.error = QLabel("", self)
        self.error.setObjectName("bookingError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.book_button = buttons.addButton("&Book", QDialogButtonBox.ButtonRole.AcceptRole)
        self.book_button.setObjectName("bookingConfirm")
        self.book_button.setDefault(True)
        self.book_button.setEnabled(False)
        buttons.accepted.connect(self.submit)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.setTabOrder(self.order, self.policy)
        for before, after in ((self.policy, self.chair), (self.chair, self.date), (self.date, self.start),
                              (self.start, self.minutes), (self.minutes, self.repeat),
                              (self.repeat, self.interval), (self.interval, self.notes)):
            self.setTabOrder(before, after)

        self.order.currentIndexChanged.connect(lambda _i: self._order_chosen())
        self.repeat.valueChanged.connect(lambda _v: self._describe_interval())
        self.interval.valueChanged.connect(lambda _v: self._describe_interval())
        self.date.dateChanged.connect(lambda _d: self._load_options())
        self.resize(560, self.sizeHint().height())
        pin_minimum_size(self)
        self.order.setFocus()
        schedule, actor_ = self._schedule, actor
        self._runner.run(lambda: schedule.setup(actor_), self._fill_setup, self._failed)
        self._load_options()

    # --- loading --------------------------------------------------------------------------

    @property
    def day(self) -> date:
        value = self.date.date().toPython()
        assert isinstance(value, date)
        return value

    def _fill_setup(self, setup: ScheduleSetup) -> None:
        self.setup = setup
        for chair in setup.chairs:
            self.chair.addItem(chair.name, chair.id)
        if self._wanted_chair is not None:
            self.chair.setCurrentIndex(max(self.chair.findData(self._wanted_chair), 0))
        combo = slot_combo(setup, self)
        for index in range(combo.count()):
            self.start.addItem(combo.itemText(index), combo.itemData(index))
        combo.deleteLater()
        if self._wanted_start is not None:
            self.start.setCurrentIndex(max(self.start.findText(clock_text(self._wanted_start)), 0))
        self.minutes.setSingleStep(setup.slot_minutes)
        self._ready()

    def _load_options(self) -> None:
        self._options_request += 1
        request, schedule, actor, patient_id, day = (
            self._options_request, self._schedule, self._actor, self._patient_id, self.day)
        self._runner.run(
            lambda: schedule.options(actor, patient_id, day),
            lambda options: self._fill_options(request, options),
            self._failed,
        )

    def _fill_options(self, request: int, options: BookingOptions) -> None:
        if request != self._options_request:
            return
        self.options = options
        chosen_order, chosen_policy = self.order.currentData(), self.policy.currentData()
        self.order.blockSignals(True)
        self.order.clear()
        for order in options.orders:
            self.order.addItem(order.label, order.id)
        self.order.blockSignals(False)
        if chosen_order is not None and self.order.findData(chosen_order) >= 0:
            self.order.setCurrentIndex(self.order.findData(chosen_order))
        self.policy.clear()
        for policy in options.policies:
            self.policy.addItem(policy.label, policy.id)
        if not options.policies:
            self.policy.addItem("Self-pay (no coverage in force on this date)", SELF_PAY)
        if chosen_policy is not None and self.policy.findData(chosen_policy) >= 0:
            self.policy.setCurrentIndex(self.policy.findData(chosen_policy))
        if not options.orders:
            self._show("This patient has no active order on this date: record the physician's order first.")
        elif self.error.text().startswith("This patient has no active order"):
            self._show("")
        self._order_chosen(keep_duration=chosen_order == self.order.currentData())
        self._ready()

    def _ready(self) -> None:
        self.book_button.setEnabled(self.setup is not None and self.options is not None
                                    and self.order.count() > 0 and self.chair.count() > 0)

    def chosen_order(self) -> OrderOption | None:
        if self.options is None:
            return None
        return next((o for o in self.options.orders if o.id == self.order.currentData()), None)

    def _order_chosen(self, *, keep_duration: bool = False) -> None:
        order = self.chosen_order()
        if order is None:
            self.doses.setText("")
            return
        if not keep_duration:
            self.minutes.setValue(order.default_minutes)
            self.interval.setValue(order.interval_days or 0)
        source = (f"drug's usual {order.typical_minutes} min" if order.typical_minutes
                  else "no usual time on file")
        left = "" if order.doses_left is None else f"; {order.doses_left} of {order.doses_ordered} doses left"
        until = f"; order ends {order.end_date:%m/%d/%Y}" if order.end_date else ""
        self.doses.setText(f"{order.frequency} ({source}{left}{until})")
        self._describe_interval()

    def _describe_interval(self) -> None:
        order = self.chosen_order()
        series = self.repeat.value() > 1
        self.interval.setEnabled(series)
        days = self.interval.value()
        if not series:
            self.interval_text.setText("one visit")
        elif days:
            origin = " (the order's frequency)" if order and order.interval_days == days else ""
            self.interval_text.setText(f"{interval_label(days)}{origin}")
        else:
            frequency = f'"{order.frequency}"' if order else "The frequency"
            self.interval_text.setText(f"{frequency} is not clear: enter the days between visits")

    # --- booking --------------------------------------------------------------------------

    def booking_input(self) -> BookingInput | None:
        if self.setup is None or self.order.currentData() is None:
            return None
        policy = self.policy.currentData()
        return BookingInput(
            patient_id=self._patient_id,
            order_id=int(self.order.currentData()),
            chair_id=int(self.chair.currentData()),
            start=datetime.combine(self.day, slot_time(self.start), self.setup.zone),
            policy_id=None if policy in (None, SELF_PAY) else int(policy),
            expected_minutes=self.minutes.value(),
            repeat=self.repeat.value(),
            notes=self.notes.text().strip() or None,
            interval_days=(self.interval.value() or None) if self.repeat.value() > 1 else None,
        )

    def submit(self) -> None:
        data = self.booking_input()
        if data is None:
            self._show("Choose the order the visit is for.")
            return
        schedule, actor = self._schedule, self._actor
        self.book_button.setEnabled(False)
        self._show("Booking…", problem=False)
        self._runner.run(lambda: schedule.book(actor, data), self._done, self._failed)

    def _done(self, visit_ids: tuple[int, ...]) -> None:
        self.booked.emit(list(visit_ids))
        self.accept()

    def _failed(self, exc: Exception) -> None:
        self._ready()
        if isinstance(exc, ValidationFailed):
            self._show(describe(exc))
        else:
            self._show("")
            show_error(self, exc)

    def _show(self, message: str, *, problem: bool = True) -> None:
        self.error.setText(message)
        set_tone(self.error, ERROR if problem else None)
        grow_to_fit(self)
