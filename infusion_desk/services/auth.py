"""Signing in: argon2 password hashes, failed-attempt lockout, and the Actor a session acts as."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from infusion_desk.billing.findings import error
from infusion_desk.models import User
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database
from infusion_desk.models.enums import Role
from infusion_desk.services import audit
from infusion_desk.services.access import Actor, Permission
from infusion_desk.services.errors import AuthenticationFailed, ValidationFailed

MAX_FAILED_ATTEMPTS = 5
LOCKOUT = timedelta(minutes=15)

PASSWORD_HASHER = PasswordHasher()
"""Argon2id with argon2-cffi's defaults (RFC 9106 low-memory profile)."""
_hasher = PASSWORD_HASHER


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def actor_for(user: User) -> Actor:
    return Actor(user.id, user.username, user.display_name, user.role)


class AuthService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def sign_in(self, username: str, password: str) -> Actor:
        """Return the user as an :class:`Actor`, or raise :class:`AuthenticationFailed`."""
        vague = "Wrong user name or password."
        with self._db.session() as session:
            user = session.execute(
                sa.select(User).where(User.username == username.strip().lower())
            ).scalar_one_or_none()
            if user is None or not user.active:
                raise AuthenticationFailed(vague)
            now = utcnow()
            if user.locked_until is not None and user.locked_until > now:
                minutes = max(1, int((user.locked_until - now).total_seconds() // 60) + 1)
                raise AuthenticationFailed(
                    f"This account is locked after {MAX_FAILED_ATTEMPTS} failed sign-ins. "
                    f"Try again in {minutes} minutes or ask an administrator."
                )
            try:
                _hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                user.failed_attempts += 1
                if user.failed_attempts >= MAX_FAILED_ATTEMPTS:
                    user.locked_until = now + LOCKOUT
                    user.failed_attempts = 0
                audit.record(session, None, "sign_in_failed", "user", user.id)
                session.commit()
                raise AuthenticationFailed(vague) from None
            if _hasher.check_needs_rehash(user.password_hash):
                user.password_hash = hash_password(password)
            user.failed_attempts = 0
            user.locked_until = None
            user.last_sign_in_at = now
            actor = actor_for(user)
            audit.record(session, actor, "sign_in", "user", user.id)
            return actor

    def create_user(
        self, actor: Actor | None, username: str, display_name: str, role: Role, password: str
    ) -> int:
        """Add a user; ``actor`` may be ``None`` only while the database has no users yet."""
        with self._db.session() as session:
            has_users = session.execute(sa.select(sa.func.count(User.id))).scalar_one() > 0
            if has_users:
                if actor is None:
                    raise AuthenticationFailed("Sign in as an administrator to add users.")
                actor.require(Permission.USERS_MANAGE)
            name = username.strip().lower()
            if not name or not name.replace("_", "").replace(".", "").isalnum():
                raise ValidationFailed(
                    [error("USERNAME", "User name: use letters, digits, '.' or '_'.", "username")]
                )
            if len(password) < 4:
                raise ValidationFailed(
                    [error("PASSWORD", "Password: use at least 4 characters.", "password")]
                )
            exists = session.execute(sa.select(User.id).where(User.username == name)).first()
            if exists:
                raise ValidationFailed(
                    [error("USERNAME_TAKEN", f"User name {name!r} is already taken.", "username")]
                )
            user = User(
                username=name,
                display_name=display_name.strip() or name,
                role=role,
                password_hash=hash_password(password),
            )
            session.add(user)
            session.flush()
            audit.record(session, actor, "create", "user", user.id, detail={"role": role.value})
            return user.id
