"""Signing in, the accounts administrators manage, and the password rules they obey.

    auth = AuthService(db)
    result = auth.authenticate("nell", typed)        # -> SignIn(actor, must_change_password)
    if result.must_change_password:                   # an administrator reset it
        auth.change_password(result.actor, typed, new_password)
    auth.reset_password(admin, user_id, "Temp-Pass-2026!")   # the user must change it next time

Passwords are Argon2id hashes; five wrong passwords in a row lock the account for 15
minutes (an administrator may unlock it sooner). Every new password meets the rules in
:mod:`~infusion_desk.services.password_policy`; only the demo clinic and tests create users
with ``policy=False``. Account changes are audited with what changed before and after, never
a password or its hash. There is always at least one active administrator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from infusion_desk.billing.findings import Finding, error
from infusion_desk.models import User
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import Role
from infusion_desk.services import audit
from infusion_desk.services.access import ROLE_LABELS, Actor, Permission
from infusion_desk.services.errors import (
    AuthenticationFailed,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from infusion_desk.services.password_policy import check_password
from infusion_desk.services.settings_store import read_setting, write_setting

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)

IDLE_LOCK_SETTING = "security.idle_lock_minutes"
DEFAULT_IDLE_LOCK_MINUTES = 10
IDLE_LOCK_RANGE = (1, 120)

PASSWORD_HASHER = PasswordHasher()
"""Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile)."""
_hasher = PASSWORD_HASHER

_VAGUE = "Wrong user name or password."


class PasswordChangeRequired(AuthenticationFailed):
    """The password is right but was reset by an administrator: the user must choose a new one first."""


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def actor_for(user: User) -> Actor:
    return Actor(user.id, user.username, user.display_name, user.role)


@dataclass(frozen=True, slots=True)
class SignIn:
    """A successful sign-in: who, and whether they must choose a new password before working."""

    actor: Actor
    must_change_password: bool


@dataclass(frozen=True, slots=True)
class UserRow:
    """One account as the user list shows it."""

    id: int
    username: str
    display_name: str
    role: Role
    active: bool
    locked_until: datetime | None
    """Set only while the account is locked out."""
    last_sign_in_at: datetime | None
    must_change_password: bool
    password_changed_at: datetime | None

    @property
    def locked(self) -> bool:
        return self.locked_until is not None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]


def _row(user: User, now: datetime) -> UserRow:
    locked = user.locked_until if user.locked_until is not None and user.locked_until > now else None
    return UserRow(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        locked_until=locked,
        last_sign_in_at=user.last_sign_in_at,
        must_change_password=user.must_change_password,
        password_changed_at=user.password_changed_at,
    )


def _state(user: User, now: datetime) -> dict[str, Any]:
    """What the audit trail keeps of an account: never the password or its hash."""
    return {
        "role": user.role.value,
        "active": user.active,
        "locked": user.locked_until is not None and user.locked_until > now,
        "must_change_password": user.must_change_password,
    }


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() // 60) + 1)


def _locked_message(until: datetime, now: datetime) -> str:
    return (
        f"This account is locked after {MAX_FAILED_ATTEMPTS} failed sign-ins. "
        f"Try again in {_minutes_left(until, now)} minutes or ask an administrator."
    )


def _policy(password: str, username: str, display_name: str) -> None:
    findings = check_password(password, username=username, display_name=display_name)
    if findings:
        raise ValidationFailed(findings)


def _active_admins(session: Session) -> int:
    """How many active administrators there are, their rows locked until the change commits."""
    query = sa.select(User.id).where(User.role == Role.ADMIN, User.active.is_(True)).with_for_update()
    return len(session.execute(query).all())


class AuthService:
    def __init__(self, db: Database) -> None:
        self._db = db

    # -- signing in -------------------------------------------------------------------------

    def _verify(self, session: Session, user: User, password: str, now: datetime) -> None:
        """Check ``password`` against ``user``: a failure counts towards the lockout and is committed."""
        if user.locked_until is not None and user.locked_until > now:
            raise AuthenticationFailed(_locked_message(user.locked_until, now))
        try:
            _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            user.failed_attempts += 1
            if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
                user.locked_until = now + LOCKOUT
                user.failed_attempts = 0
            audit.record(session, None, "sign_in_failed", "user", user.id)
            session.commit()
            raise AuthenticationFailed(_VAGUE) from None
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        user.failed_attempts = 0
        user.locked_until = None

    def authenticate(self, username: str, password: str) -> SignIn:
        """Check the name and password; the caller asks for a new password when the result says so."""
        with self._db.session() as session:
            user = session.execute(
                sa.select(User).where(User.username == username.strip().lower())
            ).scalar_one_or_none()
            if user is None or not user.active:
                raise AuthenticationFailed(_VAGUE)
            now = utcnow()
            self._verify(session, user, password, now)
            user.last_sign_in_at = now
            actor = actor_for(user)
            audit.record(
                session, actor, "sign_in", "user", user.id,
                detail={"must_change_password": True} if user.must_change_password else None,
            )
            return SignIn(actor, user.must_change_password)

    def sign_in(self, username: str, password: str) -> Actor:
        """Return the user as an :class:`Actor`, or raise :class:`AuthenticationFailed`.

        A user whose password was reset gets :class:`PasswordChangeRequired`: only the
        window's sign-in form (:meth:`authenticate` then :meth:`change_password`) lets them in.
        """
        result = self.authenticate(username, password)
        if result.must_change_password:
            raise PasswordChangeRequired(
                "An administrator reset this password: sign in to the Infusion Desk window "
                "to choose a new one, then try again."
            )
        return result.actor

    def confirm_password(self, actor: Actor, password: str) -> None:
        """Check the signed-in user's own password (unlocking an idle screen); failures count."""
        with self._db.session() as session:
            user = session.get(User, actor.user_id)
            if user is None or not user.active:
                raise AuthenticationFailed("This account is no longer active. Sign out.")
            now = utcnow()
            self._verify(session, user, password, now)
            audit.record(session, actor, "unlock_screen", "user", user.id)

    def change_password(self, actor: Actor, old_password: str, new_password: str) -> None:
        """The signed-in user replaces their own password; a wrong current one counts as a failure."""
        with self._db.session() as session:
            user = session.get(User, actor.user_id)
            if user is None or not user.active:
                raise AuthenticationFailed("This account is no longer active.")
            now = utcnow()
            try:
                self._verify(session, user, old_password, now)
            except AuthenticationFailed as exc:
                if str(exc) == _VAGUE:
                    raise AuthenticationFailed("Current password: that is not your password.") from None
                raise
            findings = list(
                check_password(new_password, username=user.username, display_name=user.display_name)
            )
            if new_password == old_password:
                findings.append(
                    error(
                        "PASSWORD_SAME", "New password: choose one unlike the current one.", "password"
                    )
                )
            if findings:
                session.commit()  # keep the failed-attempt reset of a right current password
                raise ValidationFailed(findings)
            before = _state(user, now)
            user.password_hash = hash_password(new_password)
            user.password_changed_at = now
            user.must_change_password = False
            audit.record(
                session, actor, "change_password", "user", user.id,
                detail={"before": before, "after": _state(user, now)},
            )

    # -- administration ----------------------------------------------------------------------

    def _administrator(self, session: Session, actor: Actor) -> None:
        """The actor must be an administrator now, not only when they signed in."""
        actor.require(Permission.USERS_MANAGE)
        me = session.get(User, actor.user_id)
        if me is None or not me.active or me.role is not Role.ADMIN:
            raise PermissionDenied("Your account is no longer an active administrator. Sign in again.")

    def _user(self, session: Session, user_id: int) -> User:
        user = session.get(User, user_id, with_for_update=True)
        if user is None:
            raise NotFound(f"User {user_id} no longer exists.")
        return user

    def _audit(
        self, session: Session, actor: Actor, action: str, user: User, before: dict[str, Any]
    ) -> UserRow:
        now = utcnow()
        audit.record(
            session, actor, action, "user", user.id,
            detail={"username": user.username, "before": before, "after": _state(user, now)},
        )
        return _row(user, now)

    def list_users(self, actor: Actor) -> tuple[UserRow, ...]:
        actor.require(Permission.USERS_MANAGE)
        with self._db.session() as session:
            now = utcnow()
            users = session.execute(sa.select(User).order_by(User.username)).scalars()
            return tuple(_row(user, now) for user in users)

    def create_user(
        self,
        actor: Actor | None,
        username: str,
        display_name: str,
        role: Role,
        password: str,
        *,
        must_change_password: bool = False,
        policy: bool = True,
    ) -> int:
        """Add a user; ``actor`` may be ``None`` only while the database has no users yet.

        ``policy=False`` skips the password rules: for seeding demo and test users only.
        """
        with self._db.session() as session:
            has_users = session.execute(sa.select(sa.func.count(User.id))).scalar_one() > 0
            if has_users:
                if actor is None:
                    raise AuthenticationFailed("Sign in as an administrator to add users.")
                self._administrator(session, actor)
            name = username.strip().lower()
            shown = display_name.strip() or name
            findings: list[Finding] = []
            if not name or not name.replace("_", "").replace(".", "").isalnum() or len(name) > 60:
                findings.append(
                    error("USERNAME", "User name: use up to 60 letters, digits, '.' or '_'.", "username")
                )
            elif session.execute(sa.select(User.id).where(User.username == name)).first():
                findings.append(error("USERNAME_TAKEN", f"User name {name!r} is already taken.", "username"))
            if len(shown) > 120:
                findings.append(error("DISPLAY_NAME", "Name: use at most 120 characters.", "display_name"))
            if policy:
                findings.extend(check_password(password, username=name, display_name=shown))
            elif not password:
                findings.append(error("PASSWORD", "Password: enter one.", "password"))
            if findings:
                raise ValidationFailed(findings)
            user = User(
                username=name,
                display_name=shown,
                role=Role(role),
                password_hash=hash_password(password),
                must_change_password=must_change_password,
                password_changed_at=utcnow(),
            )
            session.add(user)
            session.flush()
            audit.record(
                session, actor, "create", "user", user.id,
                detail={"username": name, "before": None, "after": _state(user, utcnow())},
            )
            return user.id

    def reset_password(
        self, actor: Actor, user_id: int, new_password: str, must_change: bool = True
    ) -> UserRow:
        """Give a user a new password (and unlock them); by default they must replace it at sign-in."""
        with self._db.session() as session:
            self._administrator(session, actor)
            user = self._user(session, user_id)
            _policy(new_password, user.username, user.display_name)
            now = utcnow()
            before = _state(user, now)
            user.password_hash = hash_password(new_password)
            user.password_changed_at = now
            user.must_change_password = must_change
            user.failed_attempts = 0
            user.locked_until = None
            return self._audit(session, actor, "reset_password", user, before)

    def set_role(self, actor: Actor, user_id: int, role: Role) -> UserRow:
        role = Role(role)
        with self._db.session() as session:
            self._administrator(session, actor)
            user = self._user(session, user_id)
            if user.role is role:
                return _row(user, utcnow())
            if user.role is Role.ADMIN and user.active and _active_admins(session) <= 1:
                raise ValidationFailed([_last_admin(user, "change the role of")])
            before = _state(user, utcnow())
            user.role = role
            return self._audit(session, actor, "set_role", user, before)

    def deactivate(self, actor: Actor, user_id: int) -> UserRow:
        """The user can no longer sign in; their name stays on everything they did."""
        with self._db.session() as session:
            self._administrator(session, actor)
            user = self._user(session, user_id)
            if not user.active:
                return _row(user, utcnow())
            if user.role is Role.ADMIN and _active_admins(session) <= 1:
                raise ValidationFailed([_last_admin(user, "deactivate")])
            before = _state(user, utcnow())
            user.active = False
            return self._audit(session, actor, "deactivate", user, before)

    def reactivate(self, actor: Actor, user_id: int) -> UserRow:
        with self._db.session() as session:
            self._administrator(session, actor)
            user = self._user(session, user_id)
            if user.active:
                return _row(user, utcnow())
            before = _state(user, utcnow())
            user.active = True
            return self._audit(session, actor, "reactivate", user, before)

    def unlock(self, actor: Actor, user_id: int) -> UserRow:
        """Lift a lockout after failed sign-ins before its 15 minutes are up."""
        with self._db.session() as session:
            self._administrator(session, actor)
            user = self._user(session, user_id)
            now = utcnow()
            if (user.locked_until is None or user.locked_until <= now) and not user.failed_attempts:
                return _row(user, now)
            before = _state(user, now)
            user.locked_until = None
            user.failed_attempts = 0
            return self._audit(session, actor, "unlock", user, before)

    # -- idle lock ---------------------------------------------------------------------------

    def idle_lock_minutes(self, actor: Actor) -> int:
        """Minutes without keyboard or mouse input before the window locks itself."""
        del actor  # every signed-in user's window locks
        with self._db.session() as session:
            value = read_setting(session, IDLE_LOCK_SETTING)
        return value if isinstance(value, int) else DEFAULT_IDLE_LOCK_MINUTES

    def set_idle_lock_minutes(self, actor: Actor, minutes: int) -> int:
        low, high = IDLE_LOCK_RANGE
        with self._db.session() as session:
            self._administrator(session, actor)
            if isinstance(minutes, bool) or not isinstance(minutes, int) or not low <= minutes <= high:
                raise ValidationFailed(
                    [error("IDLE_MINUTES", f"Lock after: use {low} to {high} minutes.", "idle_lock_minutes")]
                )
            before = read_setting(session, IDLE_LOCK_SETTING)
            write_setting(session, IDLE_LOCK_SETTING, minutes)
            audit.record(
                session, actor, "update", "setting", IDLE_LOCK_SETTING,
                detail={"before": before, "after": minutes},
            )
            return minutes


def _last_admin(user: User, verb: str) -> Finding:
    return error(
        "LAST_ADMIN",
        f"{user.display_name} is the only active administrator: make another user an administrator "
        f"before you {verb} this account.",
        "role",
    )
