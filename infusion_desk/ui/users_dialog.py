"""User accounts (File → Users…, administrators): who may sign in, with which role.

The list shows each account's role, whether it is active or locked out, and its last
sign-in. **Add…**, **Reset password…** and **Change role…** open small forms; **Deactivate** /
**Reactivate** and **Unlock** act on the selected account at once. Refusals (a weak password,
the last administrator) are shown in the dialog, naming what to fix. The idle-lock minutes
for every workstation are set here too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from infusion_desk.models.enums import Role
from infusion_desk.services.access import ROLE_LABELS
from infusion_desk.services.auth import IDLE_LOCK_RANGE, UserRow
from infusion_desk.services.errors import AuthenticationFailed, ValidationFailed
from infusion_desk.services.password_policy import password_rules_text
from infusion_desk.ui.change_password_dialog import findings_label, password_field
from infusion_desk.ui.errors import describe, show_error
from infusion_desk.ui.formatting import local_date, local_time, us_date
from infusion_desk.ui.tables import RowTableModel, configure_table
from infusion_desk.ui.tasks import TaskRunner
from infusion_desk.ui.theme import ERROR, set_tone

if TYPE_CHECKING:
    from infusion_desk.services.access import Actor
    from infusion_desk.services.app import Services


def _when(value: Any) -> str:
    return f"{us_date(local_date(value))} {local_time(value)}" if value is not None else "Never"


def _locked(row: UserRow) -> str:
    return f"Locked until {local_time(row.locked_until)}" if row.locked_until is not None else ""


COLUMNS: tuple[tuple[str, Callable[[UserRow], str]], ...] = (
    ("User name", lambda r: r.username),
    ("Name", lambda r: r.display_name),
    ("Role", lambda r: r.role_label),
    ("Status", lambda r: "Active" if r.active else "Inactive"),
    ("Locked", _locked),
    ("Last sign-in", lambda r: _when(r.last_sign_in_at)),
    ("Password", lambda r: "Must change at next sign-in" if r.must_change_password else ""),
)


def role_combo(parent: QWidget, current: Role | None = None) -> QComboBox:
    combo = QComboBox(parent)
    combo.setObjectName("roleCombo")
    for role, label in ROLE_LABELS.items():
        combo.addItem(label, role.value)
    if current is not None:
        combo.setCurrentIndex(combo.findData(current.value))
    return combo


class _FormDialog(QDialog):
    """A small form whose OK runs one service call; refusals are shown under the fields."""

    def __init__(self, title: str, name: str, ok_text: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setWindowTitle(title)
        self.saved_row: Any = None
        self._runner = TaskRunner(self)
        self.form = QFormLayout(self)
        self.findings = findings_label(self, f"{name}Findings")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok_button.setText(ok_text)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)

    def add_row(self, text: str, field: QWidget) -> None:
        caption = QLabel(text, self)
        caption.setBuddy(field)
        self.form.addRow(caption, field)

    def finish_layout(self) -> None:
        self.form.addRow(self.findings)
        self.form.addRow(self.buttons)

    def call(self) -> Callable[[], Any] | None:
        """The service call to run, or ``None`` after showing why the form is not ready."""
        raise NotImplementedError

    def save(self) -> None:
        if not self.ok_button.isEnabled():
            return
        call = self.call()
        if call is None:
            return
        self.ok_button.setEnabled(False)
        self.findings.hide()
        self._runner.run(call, self._saved, self._refused)

    def _saved(self, value: Any) -> None:
        self.ok_button.setEnabled(True)
        self.saved_row = value
        self.accept()

    def _refused(self, exc: Exception) -> None:
        self.ok_button.setEnabled(True)
        if isinstance(exc, ValidationFailed | AuthenticationFailed):
            self.show_findings(describe(exc))
        else:
            show_error(self, exc)

    def show_findings(self, text: str) -> None:
        self.findings.setText(text)
        self.findings.show()


class _NewPassword:
    """A new password typed twice, and whether the user must change it at next sign-in."""

    def __init__(self, form: _FormDialog, must_change: bool = True) -> None:
        self.password = password_field(form, "newPassword", "New password")
        self.confirm = password_field(form, "confirmPassword", "Confirm password")
        self.must_change = QCheckBox("&Must change it at next sign-in", form)
        self.must_change.setObjectName("mustChange")
        self.must_change.setChecked(must_change)
        form.add_row("&Password:", self.password)
        form.add_row("Con&firm password:", self.confirm)
        rules = QLabel(password_rules_text(), form)
        rules.setWordWrap(True)
        form.form.addRow(rules)
        form.form.addRow(self.must_change)

    def checked(self, form: _FormDialog) -> str | None:
        if self.password.text() != self.confirm.text():
            form.show_findings("Confirm password: the two passwords are not the same.")
            self.confirm.clear()
            self.confirm.setFocus(Qt.FocusReason.OtherFocusReason)
            return None
        return self.password.text()


class AddUserDialog(_FormDialog):
    def __init__(self, services: Services, actor: Actor, parent: QWidget) -> None:
        super().__init__("Add user", "addUserDialog", "&Add user", parent)
        self._auth, self._actor = services.auth, actor
        self.username = QLineEdit(self)
        self.username.setObjectName("newUsername")
        self.display_name = QLineEdit(self)
        self.display_name.setObjectName("newDisplayName")
        self.role = role_combo(self)
        self.add_row("&User name:", self.username)
        self.add_row("&Name:", self.display_name)
        self.add_row("&Role:", self.role)
        self.new_password = _NewPassword(self)
        self.finish_layout()
        self.username.setFocus(Qt.FocusReason.OtherFocusReason)

    def call(self) -> Callable[[], Any] | None:
        password = self.new_password.checked(self)
        if password is None:
            return None
        auth, actor = self._auth, self._actor
        username, display = self.username.text(), self.display_name.text()
        role = Role(self.role.currentData())
        must_change = self.new_password.must_change.isChecked()
        return lambda: auth.create_user(
            actor, username, display, role, password, must_change_password=must_change
        )


class ResetPasswordDialog(_FormDialog):
    def __init__(self, services: Services, actor: Actor, user: UserRow, parent: QWidget) -> None:
        super().__init__(f"Reset the password of {user.display_name}", "resetPasswordDialog",
                         "&Reset password", parent)
        self._auth, self._actor, self._user = services.auth, actor, user
        intro = QLabel(
            f"Give {user.display_name} ({user.username}) a new password. A reset also lifts a lockout.",
            self,
        )
        intro.setWordWrap(True)
        self.form.addRow(intro)
        self.new_password = _NewPassword(self)
        self.finish_layout()
        self.new_password.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def call(self) -> Callable[[], Any] | None:
        password = self.new_password.checked(self)
        if password is None:
            return None
        auth, actor, user_id = self._auth, self._actor, self._user.id
        must_change = self.new_password.must_change.isChecked()
        return lambda: auth.reset_password(actor, user_id, password, must_change)


class ChangeRoleDialog(_FormDialog):
    def __init__(self, services: Services, actor: Actor, user: UserRow, parent: QWidget) -> None:
        super().__init__(
            f"Change the role of {user.display_name}", "changeRoleDialog", "&Change role", parent
        )
        self._auth, self._actor, self._user = services.auth, actor, user
        self.role = role_combo(self, user.role)
        self.add_row("&Role:", self.role)
        self.finish_layout()
        self.role.setFocus(Qt.FocusReason.OtherFocusReason)

    def call(self) -> Callable[[], Any] | None:
        auth, actor, user_id = self._auth, self._actor, self._user.id
        role = Role(self.role.currentData())
        return lambda: auth.set_role(actor, user_id, role)


class UsersDialog(QDialog):
    changed = Signal()
    """An account was added or changed."""
    loaded = Signal()
    """The list (re)loaded from the database."""

    def __init__(self, services: Services, actor: Actor, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("usersDialog")
        self.setWindowTitle("Users")
        self._services = services
        self._auth = services.auth
        self._actor = actor
        self._runner = TaskRunner(self)
        self._select_id: int | None = None
        self.form: _FormDialog | None = None

        self.model: RowTableModel[UserRow] = RowTableModel(COLUMNS, self)
        self.table = configure_table(QTableView(self), "usersTable", "Users")
        self.table.setModel(self.model)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())
        caption = QLabel("U&sers:", self)
        caption.setBuddy(self.table)

        def button(text: str, name: str, slot: Callable[[], None]) -> QPushButton:
            widget = QPushButton(text, self)
            widget.setObjectName(name)
            widget.setAutoDefault(False)
            widget.clicked.connect(lambda _checked=False: slot())
            return widget

        self.add_button = button("&Add…", "addUserButton", self.add_user)
        self.reset_button = button("&Reset password…", "resetPasswordButton", self.reset_password)
        self.role_button = button("Change r&ole…", "changeRoleButton", self.change_role)
        self.active_button = button("&Deactivate", "activeButton", self.toggle_active)
        self.unlock_button = button("&Unlock", "unlockButton", self.unlock)
        self.close_button = button("Close", "closeUsersButton", self.reject)
        actions = QHBoxLayout()
        for widget in (self.add_button, self.reset_button, self.role_button, self.active_button,
                       self.unlock_button):
            actions.addWidget(widget)
        actions.addStretch(1)
        actions.addWidget(self.close_button)

        self.findings = findings_label(self, "usersFindings")
        self.idle_minutes = QSpinBox(self)
        self.idle_minutes.setObjectName("idleMinutes")
        self.idle_minutes.setRange(*IDLE_LOCK_RANGE)
        self.idle_minutes.setSuffix(" minutes without input")
        idle_caption = QLabel("&Lock the screen after:", self)
        idle_caption.setBuddy(self.idle_minutes)
        self.idle_save = button("Sa&ve", "idleSaveButton", self.save_idle_minutes)
        idle = QHBoxLayout()
        idle.addWidget(idle_caption)
        idle.addWidget(self.idle_minutes)
        idle.addWidget(self.idle_save)
        idle.addStretch(1)

        layout = QVBoxLayout(self)
        layout.addWidget(caption)
        layout.addWidget(self.table)
        layout.addLayout(actions)
        layout.addWidget(self.findings)
        layout.addLayout(idle)
        order = [self.table, self.add_button, self.reset_button, self.role_button, self.active_button,
                 self.unlock_button, self.close_button, self.idle_minutes, self.idle_save]
        for first, second in zip(order, order[1:], strict=False):
            QWidget.setTabOrder(first, second)
        self.resize(860, 420)
        self._update_buttons()
        self.refresh()
        auth, me = self._auth, actor
        self._runner.run(lambda: auth.idle_lock_minutes(me), self.idle_minutes.setValue, self._failed)

    # -- the list ---------------------------------------------------------------------------

    def refresh(self, select_id: int | None = None) -> None:
        current = self.selected()
        self._select_id = select_id if select_id is not None else (current.id if current else None)
        auth, actor = self._auth, self._actor
        self._runner.run(lambda: auth.list_users(actor), self._show, self._failed)

    def _show(self, rows: tuple[UserRow, ...]) -> None:
        self.model.set_rows(rows)
        wanted = next((i for i, row in enumerate(rows) if row.id == self._select_id), 0 if rows else None)
        if wanted is not None:
            self.table.selectRow(wanted)
        self._update_buttons()
        self.loaded.emit()

    def selected(self) -> UserRow | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.row(rows[0].row()) if rows else None

    def select_user(self, username: str) -> None:
        for index in range(self.model.rowCount()):
            if self.model.row(index).username == username:
                self.table.selectRow(index)
                return

    def _update_buttons(self) -> None:
        row = self.selected()
        for widget in (self.reset_button, self.role_button, self.active_button):
            widget.setEnabled(row is not None)
        self.unlock_button.setEnabled(row is not None and row.locked)
        self.active_button.setText("Reac&tivate" if row is not None and not row.active else "&Deactivate")

    # -- commands ---------------------------------------------------------------------------

    def _open_form(self, form: _FormDialog) -> None:
        form.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        form.accepted.connect(lambda: self._form_saved(form.saved_row))
        form.finished.connect(lambda _result: setattr(self, "form", None))
        self.form = form
        self.findings.hide()
        form.open()

    def _form_saved(self, value: Any) -> None:
        self.changed.emit()
        self.refresh(value.id if isinstance(value, UserRow) else value if isinstance(value, int) else None)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    def add_user(self) -> None:
        self._open_form(AddUserDialog(self._services, self._actor, self))

    def reset_password(self) -> None:
        row = self.selected()
        if row is not None:
            self._open_form(ResetPasswordDialog(self._services, self._actor, row, self))

    def change_role(self) -> None:
        row = self.selected()
        if row is not None:
            self._open_form(ChangeRoleDialog(self._services, self._actor, row, self))

    def toggle_active(self) -> None:
        row = self.selected()
        if row is None:
            return
        auth, actor, user_id = self._auth, self._actor, row.id
        if row.active:
            self._act(lambda: auth.deactivate(actor, user_id))
        else:
            self._act(lambda: auth.reactivate(actor, user_id))

    def unlock(self) -> None:
        row = self.selected()
        if row is not None:
            auth, actor, user_id = self._auth, self._actor, row.id
            self._act(lambda: auth.unlock(actor, user_id))

    def _act(self, call: Callable[[], UserRow]) -> None:
        self.findings.hide()
        self._runner.run(call, lambda row: self._form_saved(row), self._failed)

    def save_idle_minutes(self) -> None:
        auth, actor, minutes = self._auth, self._actor, self.idle_minutes.value()
        self.findings.hide()
        self._runner.run(lambda: auth.set_idle_lock_minutes(actor, minutes), self._idle_saved, self._failed)

    def _idle_saved(self, minutes: int) -> None:
        set_tone(self.findings, None)
        self.findings.setText(f"Screens lock after {minutes} minutes without input from the next sign-in.")
        self.findings.show()

    def _failed(self, exc: Exception) -> None:
        if isinstance(exc, ValidationFailed):
            set_tone(self.findings, ERROR)
            self.findings.setText(describe(exc))
            self.findings.show()
            return
        show_error(self, exc)
