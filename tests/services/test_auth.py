"""Signing in with argon2 hashes, and the lockout after repeated failures."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infusion_desk.models import AuditEvent, User
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.auth import MAX_FAILED_ATTEMPTS
from infusion_desk.services.errors import AuthenticationFailed, PermissionDenied
from tests.conftest import make_actor


def test_sign_in_returns_the_role_and_stores_no_plain_password(services: Services) -> None:
    make_actor(services, Role.BILLER, "bea")
    actor = services.auth.sign_in("BEA ", "pw-biller")
    assert (actor.username, actor.role) == ("bea", Role.BILLER)
    with services.db.session() as session:
        stored = session.execute(sa.select(User.password_hash).where(User.username == "bea")).scalar_one()
    assert stored.startswith("$argon2") and "pw-biller" not in stored


def test_wrong_password_is_refused_and_audited(services: Services) -> None:
    make_actor(services, Role.NURSE, "nell")
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        services.auth.sign_in("nell", "wrong")
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        services.auth.sign_in("nobody", "wrong")
    with services.db.session() as session:
        actions = session.execute(sa.select(AuditEvent.action)).scalars().all()
    assert "sign_in_failed" in actions


def test_account_locks_after_repeated_failures(sqlite_services: Services) -> None:
    make_actor(sqlite_services, Role.NURSE, "nell")
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            sqlite_services.auth.sign_in("nell", "wrong")
    with pytest.raises(AuthenticationFailed, match="locked"):
        sqlite_services.auth.sign_in("nell", "pw-nurse")


def test_only_administrators_add_users(sqlite_services: Services) -> None:
    manager = make_actor(sqlite_services, Role.MANAGER)
    with pytest.raises(PermissionDenied):
        sqlite_services.auth.create_user(manager, "eve", "Eve", Role.ADMIN, "secret")
    with pytest.raises(AuthenticationFailed):
        sqlite_services.auth.create_user(None, "eve", "Eve", Role.ADMIN, "secret")


def test_shipped_password_hashing_is_argon2id_at_full_strength() -> None:
    from argon2 import Type

    from infusion_desk.services.auth import PASSWORD_HASHER

    # RFC 9106's second recommended option: Argon2id, t=3, 64 MiB, 4 lanes.
    assert PASSWORD_HASHER.type is Type.ID
    assert PASSWORD_HASHER.time_cost >= 3 and PASSWORD_HASHER.memory_cost >= 64 * 1024
    assert PASSWORD_HASHER.hash("x").startswith("$argon2id$")
