"""Adding or editing an insurance policy: payer, rank, member and group IDs, dates, subscriber, SBR05/SBR09.

    PolicyDialog(services, actor, patient_id)                  # add
    PolicyDialog(services, actor, patient_id, policy=summary)  # edit, prefilled

The subscriber's own fields open only when the patient is not the subscriber; the Medicare
secondary payer type (SBR05) only for a Medicare policy that is not primary. Every rule
(dates in order, subscriber data a claim needs, member ID characters, ranks) is the
service's, shown next to the form.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from infusion_desk.models.enums import PayerType, PolicyRank, Sex, SubscriberRelationship
from infusion_desk.services.concurrency import ChangedElsewhere
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.ui import code_help
from infusion_desk.ui.conflicts import offer_reload
from infusion_desk.ui.errors import show_error
from infusion_desk.ui.formatting import us_date
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone
from infusion_desk.ui.windowing import grow_to_fit, pin_minimum_size

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services
    from infusion_desk.services.patients import PolicySummary


def _date(text: str, label: str) -> date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return datetime.strptime(text, "%m/%d/%Y").date()  # noqa: DTZ007 - a date
    except ValueError:
        raise ValueError(f"{label}: use MM/DD/YYYY, for example 01/01/2026.") from None


class PolicyDialog(QDialog):
    saved = Signal(int)  # the patient's id

    def __init__(
        self,
        services: Services,
        actor: Actor,
        patient_id: int,
        parent: QWidget | None = None,
        policy: PolicySummary | None = None,
    ) -> None:
        # The code tables live with the service; importing them here keeps the window's start light.
        from infusion_desk.services.patients import CLAIM_FILING_INDICATORS, MEDICARE_SECONDARY_TYPES

        super().__init__(parent)
        self.setObjectName("policyDialog")
        self.setWindowTitle("Edit insurance" if policy is not None else "Add insurance")
        self._services, self._actor, self._patient_id = services, actor, patient_id
        self.policy = policy
        self._payer_types: dict[int, PayerType] = {}
        self._runner = TaskRunner(self)
        form = QFormLayout(self)
        self.payer = QComboBox()
        self.payer.setObjectName("policyPayer")
        self.rank = QComboBox()
        self.rank.setObjectName("policyRank")
        for rank in PolicyRank:
            self.rank.addItem(rank.value.capitalize(), rank)
        self.member_id = QLineEdit()
        self.member_id.setObjectName("policyMemberId")
        code_help.set_code_help(self.member_id, code_help.MEMBER_ID)
        self.group = QLineEdit()
        self.group.setObjectName("policyGroup")
        code_help.set_code_help(self.group, code_help.GROUP_NUMBER)
        self.effective = QLineEdit()
        self.effective.setObjectName("policyEffective")
        self.effective.setPlaceholderText("MM/DD/YYYY")
        self.termination = QLineEdit()
        self.termination.setObjectName("policyTermination")
        self.termination.setPlaceholderText("MM/DD/YYYY, empty if open")
        self.relationship = QComboBox()
        self.relationship.setObjectName("policyRelationship")
        for relationship in SubscriberRelationship:
            self.relationship.addItem(relationship.value.capitalize(), relationship)
        self.subscriber_first = QLineEdit()
        self.subscriber_first.setObjectName("policySubscriberFirst")
        self.subscriber_last = QLineEdit()
        self.subscriber_last.setObjectName("policySubscriberLast")
        self.subscriber_birth = QLineEdit()
        self.subscriber_birth.setObjectName("policySubscriberBirth")
        self.subscriber_birth.setPlaceholderText("MM/DD/YYYY")
        self.subscriber_sex = QComboBox()
        self.subscriber_sex.setObjectName("policySubscriberSex")
        for value, text in ((Sex.FEMALE, "Female"), (Sex.MALE, "Male"), (Sex.UNKNOWN, "Unknown")):
            self.subscriber_sex.addItem(text, value)
        self.subscriber_address = QLineEdit()
        self.subscriber_address.setObjectName("policySubscriberAddress")
        self.subscriber_city = QLineEdit()
        self.subscriber_city.setObjectName("policySubscriberCity")
        self.subscriber_state = QLineEdit()
        self.subscriber_state.setObjectName("policySubscriberState")
        self.subscriber_state.setMaxLength(2)
        self.subscriber_zip = QLineEdit()
        self.subscriber_zip.setObjectName("policySubscriberZip")
        self.msp_type = QComboBox()
        self.msp_type.setObjectName("policyMspType")
        self.msp_type.addItem("Not applicable", "")
        for code, text in MEDICARE_SECONDARY_TYPES.items():
            self.msp_type.addItem(f"{code} — {text}", code)
        code_help.set_code_help(self.msp_type, code_help.MSP_TYPE)
        self.filing = QComboBox()
        self.filing.setObjectName("policyFilingIndicator")
        self.filing.addItem("Payer's default", "")
        for code, text in CLAIM_FILING_INDICATORS.items():
            self.filing.addItem(f"{code} — {text}", code)
        code_help.set_code_help(self.filing, code_help.CLAIM_FILING_INDICATOR)
        for label, widget in (
            ("&Payer", self.payer),
            ("&Rank", self.rank),
            ("&Member ID", self.member_id),
            ("&Group", self.group),
            ("&Effective", self.effective),
            ("&Termination", self.termination),
            ("Patient is the &subscriber's", self.relationship),
            ("Subscriber &first name", self.subscriber_first),
            ("Subscriber &last name", self.subscriber_last),
            ("Subscriber date of &birth", self.subscriber_birth),
            ("Subscriber se&x", self.subscriber_sex),
            ("Subscriber a&ddress", self.subscriber_address),
            ("Subscriber cit&y", self.subscriber_city),
            ("Subscriber st&ate", self.subscriber_state),
            ("Subscriber &ZIP", self.subscriber_zip),
            ("Medicare se&condary type (SBR05)", self.msp_type),
            ("Claim filing &indicator (SBR09)", self.filing),
        ):
            form.addRow(label, widget)
        self.error = QLabel("")
        self.error.setObjectName("policyError")
        self.error.setWordWrap(True)
        set_tone(self.error, ERROR)
        form.addRow(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons = buttons
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.relationship.currentIndexChanged.connect(self._subscriber_fields)
        self.payer.currentIndexChanged.connect(self._code_fields)
        self.rank.currentIndexChanged.connect(self._code_fields)
        if policy is not None:
            self._prefill(policy)
        self._subscriber_fields()
        self._code_fields()
        pin_minimum_size(self)
        self._runner.run(
            lambda: services.clinic.payers(actor), self._fill_payers, lambda exc: show_error(self, exc)
        )

    def _prefill(self, policy: PolicySummary) -> None:
        from infusion_desk.services.patients import DEFAULT_FILING_INDICATOR

        self.rank.setCurrentIndex(self.rank.findData(policy.rank))
        self.member_id.setText(policy.member_id)
        self.group.setText(policy.group_number or "")
        self.effective.setText(us_date(policy.effective_date))
        self.termination.setText(us_date(policy.termination_date))
        self.relationship.setCurrentIndex(self.relationship.findData(policy.subscriber_relationship))
        self.subscriber_first.setText(policy.subscriber_first_name or "")
        self.subscriber_last.setText(policy.subscriber_last_name or "")
        self.subscriber_birth.setText(us_date(policy.subscriber_birth_date))
        if policy.subscriber_sex is not None:
            self.subscriber_sex.setCurrentIndex(self.subscriber_sex.findData(policy.subscriber_sex))
        self.subscriber_address.setText(policy.subscriber_address1 or "")
        self.subscriber_city.setText(policy.subscriber_city or "")
        self.subscriber_state.setText(policy.subscriber_state or "")
        self.subscriber_zip.setText(policy.subscriber_zip_code or "")
        # The payer type's own default stays "default", so changing the payer changes the code too.
        default = DEFAULT_FILING_INDICATOR.get(policy.payer_type) if policy.payer_type else None
        code = policy.claim_filing_indicator
        self.filing.setCurrentIndex(0 if code in (None, default) else max(0, self.filing.findData(code)))
        # The payer list arrives later; until then the policy's own payer stands in.
        self._payer_types[policy.payer_id] = policy.payer_type or PayerType.OTHER
        index = self.payer.findData(policy.payer_id)
        if index < 0:
            self.payer.addItem(policy.payer_name, policy.payer_id)
            index = self.payer.count() - 1
        self.payer.setCurrentIndex(index)
        self._msp_wanted = policy.medicare_secondary_type or ""
        msp = self.msp_type.findData(self._msp_wanted)
        if msp >= 0:
            self.msp_type.setCurrentIndex(msp)

    def reload(self) -> None:
        """Show the policy as saved now (after someone else's change), dropping what was typed."""
        assert self.policy is not None
        actor, patient_id, policy_id = self._actor, self._patient_id, self.policy.id
        patients = self._services.patients
        self._runner.run(
            lambda: next(p for p in patients.get(actor, patient_id).policies if p.id == policy_id),
            self._reloaded,
            self._failed,
        )

    def _reloaded(self, policy: PolicySummary) -> None:
        self.policy = policy
        self._prefill(policy)
        self._show("Reloaded: this is the policy as saved now. Make your change again and save.")

    _msp_wanted = ""

    def _fill_payers(self, payers: list[tuple[int, str, PayerType]]) -> None:
        keep = self.payer.currentData()
        self.payer.blockSignals(True)
        self.payer.clear()
        for payer_id, name, payer_type in payers:
            self._payer_types[payer_id] = payer_type
            self.payer.addItem(name, payer_id)
        if keep is not None:
            index = self.payer.findData(keep)
            if index < 0 and self.policy is not None:  # an inactive payer still shows on its policies
                self.payer.addItem(self.policy.payer_name, keep)
                index = self.payer.count() - 1
            self.payer.setCurrentIndex(index)
        self.payer.blockSignals(False)
        self._code_fields()

    def _payer_type(self) -> PayerType | None:
        payer_id = self.payer.currentData()
        return self._payer_types.get(payer_id) if payer_id is not None else None

    def _code_fields(self) -> None:
        """SBR05 is asked only for Medicare when it is not primary; SBR09 shows the payer's default."""
        from infusion_desk.services.patients import DEFAULT_FILING_INDICATOR

        payer_type = self._payer_type()
        medicare_second = (
            payer_type is PayerType.MEDICARE and PolicyRank(self.rank.currentData()) is not PolicyRank.PRIMARY
        )
        self.msp_type.setEnabled(medicare_second)
        if medicare_second:
            if self._msp_wanted:
                self.msp_type.setCurrentIndex(max(0, self.msp_type.findData(self._msp_wanted)))
                self._msp_wanted = ""
        else:
            self.msp_type.setCurrentIndex(0)
        default = DEFAULT_FILING_INDICATOR.get(payer_type) if payer_type is not None else None
        self.filing.setItemText(
            0, f"Payer's default ({default})" if default else "Payer's default (none: choose one)"
        )

    def _relationship(self) -> SubscriberRelationship:
        # Qt hands enum members back from item data as plain strings.
        return SubscriberRelationship(self.relationship.currentData())

    def _subscriber_fields(self) -> None:
        other = self._relationship() is not SubscriberRelationship.SELF
        for widget in (
            self.subscriber_first,
            self.subscriber_last,
            self.subscriber_birth,
            self.subscriber_sex,
            self.subscriber_address,
            self.subscriber_city,
            self.subscriber_state,
            self.subscriber_zip,
        ):
            widget.setEnabled(other)

    def save(self) -> None:
        from infusion_desk.services.patients import PolicyInput

        try:
            effective = _date(self.effective.text(), "Effective date")
            termination = _date(self.termination.text(), "Termination date")
            subscriber_birth = _date(self.subscriber_birth.text(), "Subscriber date of birth")
        except ValueError as exc:
            self._show(str(exc))
            return
        if effective is None:
            self._show("Effective date is required.")
            return
        other = self._relationship() is not SubscriberRelationship.SELF
        data = PolicyInput(
            payer_id=self.payer.currentData(),
            rank=PolicyRank(self.rank.currentData()),
            member_id=self.member_id.text(),
            effective_date=effective,
            termination_date=termination,
            subscriber_relationship=self._relationship(),
            group_number=self.group.text().strip() or None,
            subscriber_first_name=(self.subscriber_first.text().strip() or None) if other else None,
            subscriber_last_name=(self.subscriber_last.text().strip() or None) if other else None,
            subscriber_birth_date=subscriber_birth if other else None,
            subscriber_sex=Sex(self.subscriber_sex.currentData()) if other else None,
            subscriber_address1=(self.subscriber_address.text().strip() or None) if other else None,
            subscriber_city=(self.subscriber_city.text().strip() or None) if other else None,
            subscriber_state=(self.subscriber_state.text().strip().upper() or None) if other else None,
            subscriber_zip_code=(self.subscriber_zip.text().strip() or None) if other else None,
            medicare_secondary_type=self.msp_type.currentData() or None,
            claim_filing_indicator=self.filing.currentData() or None,
            plan_name=self.policy.plan_name if self.policy is not None else None,
        )
        if data.payer_id is None:
            self._show("Choose a payer from the list.")
            return
        actor, patient_id, patients = self._actor, self._patient_id, self._services.patients
        if self.policy is not None:
            policy_id, version = self.policy.id, self.policy.version
            self._runner.run(
                lambda: patients.update_policy(actor, policy_id, data, expected_version=version),
                self._saved,
                self._failed,
            )
        else:
            self._runner.run(lambda: patients.add_policy(actor, patient_id, data), self._saved, self._failed)

    def _saved(self, _policy_id: Any) -> None:
        self.saved.emit(self._patient_id)
        self.accept()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            self._show("\n".join(f.message for f in exc.findings))
        elif isinstance(exc, ChangedElsewhere):
            self._show(str(exc))
            self.conflict = offer_reload(self, exc, self.reload)
        else:
            show_error(self, exc)

    def _show(self, message: str) -> None:
        self.error.setText(message)
        grow_to_fit(self)
