"""Signing in with argon2 hashes, the lockout after repeated failures, password rules and account administration."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from infusion_desk.models import AuditEvent, User
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from infusion_desk.services.auth import MAX_FAILED_ATTEMPTS, PasswordChangeRequired
from infusion_desk.services.errors import AuthenticationFailed, PermissionDenied, ValidationFailed
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


# -- password rules, resets and forced changes ---------------------------------------------------

GOOD = "Quiet-Harbor-77"
BETTER = "lantern maple 4 river"


def _users(services: Services) -> int:
    with services.db.session() as session:
        return session.execute(sa.select(sa.func.count(User.id))).scalar_one()


def _details(services: Services, action: str) -> list[dict[str, object]]:
    with services.db.session() as session:
        return list(
            session.execute(sa.select(AuditEvent.detail).where(AuditEvent.action == action)).scalars()
        )


def test_a_new_user_needs_a_password_that_meets_the_rules(services: Services) -> None:
    admin = make_actor(services, Role.ADMIN)
    before = _users(services)
    with pytest.raises(ValidationFailed) as refused:
        services.auth.create_user(admin, "nell", "Nell Okafor", Role.NURSE, "nell2026")
    assert {f.code for f in refused.value.findings} == {"PASSWORD_SHORT", "PASSWORD_NAME", "PASSWORD_MIX"}
    assert "use at least 12 characters" in str(refused.value)
    assert _users(services) == before  # nothing saved

    user_id = services.auth.create_user(admin, "nell", "Nell Okafor", Role.NURSE, GOOD)
    assert services.auth.sign_in("nell", GOOD).user_id == user_id
    (created,) = [d for d in _details(services, "create") if d.get("username") == "nell"]
    assert created["after"] == {"role": "nurse", "active": True, "locked": False, "must_change_password": False}


def test_only_demo_and_test_seeding_may_skip_the_rules(sqlite_services: Services) -> None:
    admin = make_actor(sqlite_services, Role.ADMIN)
    sqlite_services.auth.create_user(admin, "demo_nurse", "Demo Nurse", Role.NURSE, "demo", policy=False)
    assert sqlite_services.auth.sign_in("demo_nurse", "demo").role is Role.NURSE


def test_a_reset_password_must_be_changed_before_working(services: Services) -> None:
    admin = make_actor(services, Role.ADMIN)
    nurse = make_actor(services, Role.NURSE, "nell")
    with pytest.raises(ValidationFailed, match="first passwords anyone would try"):
        services.auth.reset_password(admin, nurse.user_id, "Password123456!")

    row = services.auth.reset_password(admin, nurse.user_id, GOOD)
    assert row.must_change_password and row.username == "nell"
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        services.auth.sign_in("nell", "pw-nurse")  # the old password is gone
    with pytest.raises(PasswordChangeRequired, match="choose a new one"):
        services.auth.sign_in("nell", GOOD)  # the command line cannot skip the change
    result = services.auth.authenticate("nell", GOOD)
    assert result.must_change_password and result.actor.username == "nell"

    with pytest.raises(AuthenticationFailed, match="Current password: that is not your password"):
        services.auth.change_password(result.actor, "not-it", BETTER)
    with pytest.raises(ValidationFailed, match="unlike the current one"):
        services.auth.change_password(result.actor, GOOD, GOOD)
    with pytest.raises(ValidationFailed, match="at least 12 characters"):
        services.auth.change_password(result.actor, GOOD, "short")
    services.auth.change_password(result.actor, GOOD, BETTER)

    assert services.auth.sign_in("nell", BETTER).username == "nell"
    (changed,) = _details(services, "change_password")
    assert changed["before"]["must_change_password"] is True  # type: ignore[index]
    assert changed["after"]["must_change_password"] is False  # type: ignore[index]
    with services.db.session() as session:
        trail = " ".join(str(d) for d in session.execute(sa.select(AuditEvent.detail)).scalars())
        stored = session.execute(sa.select(User).where(User.username == "nell")).scalar_one()
        assert stored.password_changed_at is not None and not stored.must_change_password
    for secret in (GOOD, BETTER, "pw-nurse", "$argon2"):
        assert secret not in trail


def test_a_wrong_current_password_counts_towards_the_lockout(sqlite_services: Services) -> None:
    nurse = make_actor(sqlite_services, Role.NURSE, "nell")
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            sqlite_services.auth.change_password(nurse, "wrong", GOOD)
    with pytest.raises(AuthenticationFailed, match="locked"):
        sqlite_services.auth.sign_in("nell", "pw-nurse")


def test_an_administrator_unlocks_a_locked_account_and_a_reset_unlocks_too(sqlite_services: Services) -> None:
    admin = make_actor(sqlite_services, Role.ADMIN)
    nurse = make_actor(sqlite_services, Role.NURSE, "nell")
    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            sqlite_services.auth.sign_in("nell", "wrong")
    (row,) = [r for r in sqlite_services.auth.list_users(admin) if r.username == "nell"]
    assert row.locked and row.locked_until is not None

    unlocked = sqlite_services.auth.unlock(admin, nurse.user_id)
    assert not unlocked.locked
    assert sqlite_services.auth.sign_in("nell", "pw-nurse").username == "nell"
    (detail,) = _details(sqlite_services, "unlock")
    assert (detail["before"]["locked"], detail["after"]["locked"]) == (True, False)  # type: ignore[index]

    for _ in range(MAX_FAILED_ATTEMPTS):
        with pytest.raises(AuthenticationFailed):
            sqlite_services.auth.sign_in("nell", "wrong")
    sqlite_services.auth.reset_password(admin, nurse.user_id, GOOD, must_change=False)
    assert sqlite_services.auth.sign_in("nell", GOOD).username == "nell"


def test_the_user_list_shows_role_state_and_last_sign_in(sqlite_services: Services) -> None:
    admin = make_actor(sqlite_services, Role.ADMIN)
    make_actor(sqlite_services, Role.BILLER, "bea")
    rows = {r.username: r for r in sqlite_services.auth.list_users(admin)}
    assert list(rows) == ["bea", "t_admin"]
    assert rows["bea"].role_label == "Biller" and rows["bea"].active and not rows["bea"].locked
    assert rows["bea"].last_sign_in_at is not None


def test_roles_change_and_accounts_deactivate_but_one_administrator_always_remains(services: Services) -> None:
    admin = make_actor(services, Role.ADMIN)
    biller = make_actor(services, Role.BILLER, "bea")
    with pytest.raises(ValidationFailed, match="only active administrator"):
        services.auth.deactivate(admin, admin.user_id)
    with pytest.raises(ValidationFailed, match="only active administrator"):
        services.auth.set_role(admin, admin.user_id, Role.MANAGER)

    assert services.auth.set_role(admin, biller.user_id, Role.ADMIN).role is Role.ADMIN
    assert services.auth.set_role(admin, admin.user_id, Role.MANAGER).role is Role.MANAGER
    (detail,) = _details(services, "set_role")[1:]
    assert (detail["before"]["role"], detail["after"]["role"]) == ("admin", "manager")  # type: ignore[index]
    with pytest.raises(PermissionDenied, match="no longer an active administrator"):
        services.auth.set_role(admin, admin.user_id, Role.ADMIN)  # the old sign-in cannot promote itself back

    bea = services.auth.sign_in("bea", "pw-biller")  # now an administrator
    services.auth.deactivate(bea, admin.user_id)
    with pytest.raises(AuthenticationFailed, match="Wrong user name or password"):
        services.auth.sign_in("t_admin", "pw-admin")
    services.auth.reactivate(bea, admin.user_id)
    assert services.auth.sign_in("t_admin", "pw-admin").role is Role.MANAGER


def test_only_administrators_manage_accounts(sqlite_services: Services) -> None:
    manager = make_actor(sqlite_services, Role.MANAGER)
    nurse = make_actor(sqlite_services, Role.NURSE)
    calls = [
        lambda: sqlite_services.auth.list_users(manager),
        lambda: sqlite_services.auth.reset_password(manager, nurse.user_id, GOOD),
        lambda: sqlite_services.auth.set_role(manager, nurse.user_id, Role.ADMIN),
        lambda: sqlite_services.auth.deactivate(manager, nurse.user_id),
        lambda: sqlite_services.auth.reactivate(manager, nurse.user_id),
        lambda: sqlite_services.auth.unlock(manager, nurse.user_id),
        lambda: sqlite_services.auth.set_idle_lock_minutes(manager, 5),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied, match="Manager accounts may not"):
            call()
    assert sqlite_services.auth.sign_in("t_nurse", "pw-nurse").role is Role.NURSE  # unchanged


def test_the_idle_lock_defaults_to_ten_minutes_and_an_administrator_changes_it(sqlite_services: Services) -> None:
    admin = make_actor(sqlite_services, Role.ADMIN)
    nurse = make_actor(sqlite_services, Role.NURSE)
    assert sqlite_services.auth.idle_lock_minutes(nurse) == 10
    for wrong in (0, 121):
        with pytest.raises(ValidationFailed, match="use 1 to 120 minutes"):
            sqlite_services.auth.set_idle_lock_minutes(admin, wrong)
    assert sqlite_services.auth.idle_lock_minutes(nurse) == 10
    sqlite_services.auth.set_idle_lock_minutes(admin, 5)
    assert sqlite_services.auth.idle_lock_minutes(nurse) == 5


def test_confirming_the_password_unlocks_only_for_the_signed_in_user(sqlite_services: Services) -> None:
    nurse = make_actor(sqlite_services, Role.NURSE)
    make_actor(sqlite_services, Role.BILLER)
    sqlite_services.auth.confirm_password(nurse, "pw-nurse")
    with pytest.raises(AuthenticationFailed):
        sqlite_services.auth.confirm_password(nurse, "pw-biller")  # another user's password
    for _ in range(MAX_FAILED_ATTEMPTS - 1):
        with pytest.raises(AuthenticationFailed):
            sqlite_services.auth.confirm_password(nurse, "wrong")
    with pytest.raises(AuthenticationFailed, match="locked"):
        sqlite_services.auth.confirm_password(nurse, "pw-nurse")
