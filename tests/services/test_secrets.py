"""The SFTP secret lives in the keyring only: saved, read back, forgotten, audited without its value.

Every test runs against an in-memory keyring installed for the test (never the developer's own).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from keyring.backend import KeyringBackend
from keyring.backends import fail

from infusion_desk.models import AuditEvent
from infusion_desk.models.db import Database
from infusion_desk.models.enums import Role
from infusion_desk.models.migrate import upgrade
from infusion_desk.services.app import Services
from infusion_desk.services.clearinghouse import ClearinghouseService, ClearinghouseSettings
from infusion_desk.services.errors import NotFound, PermissionDenied, ValidationFailed
from infusion_desk.services.secrets import (
    SERVICE_NAME,
    SecretService,
    SecretStoreUnavailable,
    forget_sftp_secret,
    load_sftp_secret,
    sftp_secret_key,
    store_sftp_secret,
)
from tests.conftest import make_actor
from tests.memory_keyring import LockedKeyring, MemoryKeyring, installed

SECRET = "Fictional-SFTP-Secret-8c41e2"
PROFILE = "Test Clearinghouse"


def _install(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    yield from installed(backend)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    yield from _install(backend)  # type: ignore[misc]


@pytest.fixture
def no_keyring() -> Iterator[KeyringBackend]:
    yield from _install(fail.Keyring())


def test_a_secret_is_stored_read_back_replaced_and_forgotten(memory_keyring: MemoryKeyring) -> None:
    assert load_sftp_secret(PROFILE) is None
    store_sftp_secret(PROFILE, SECRET)
    store_sftp_secret("Other Clearinghouse", "another-fictional-secret")

    assert load_sftp_secret(PROFILE) == SECRET
    assert memory_keyring.entries[(SERVICE_NAME, sftp_secret_key(PROFILE))] == SECRET
    store_sftp_secret(PROFILE, "replaced-fictional-secret")
    assert load_sftp_secret(PROFILE) == "replaced-fictional-secret"

    forget_sftp_secret(PROFILE)
    assert load_sftp_secret(PROFILE) is None
    assert load_sftp_secret("Other Clearinghouse") == "another-fictional-secret"
    forget_sftp_secret(PROFILE)  # already gone: nothing to complain about


def test_each_profile_has_its_own_entry_under_the_app_name() -> None:
    assert sftp_secret_key(PROFILE) == "sftp:Test Clearinghouse"
    assert sftp_secret_key(PROFILE) != sftp_secret_key("Other Clearinghouse")
    assert SERVICE_NAME == "Infusion Desk"


def test_a_computer_without_a_keyring_gets_a_plain_message(no_keyring: KeyringBackend) -> None:
    for attempt in (lambda: store_sftp_secret(PROFILE, SECRET), lambda: load_sftp_secret(PROFILE),
                    lambda: forget_sftp_secret(PROFILE)):
        with pytest.raises(SecretStoreUnavailable, match="no password store that Infusion Desk can use") as caught:
            attempt()
        assert not caught.value.retryable
        assert "Type it when you upload" in str(caught.value)


def test_a_locked_keyring_is_worth_a_retry() -> None:
    for _ in _install(LockedKeyring()):
        for attempt in (lambda: store_sftp_secret(PROFILE, SECRET), lambda: load_sftp_secret(PROFILE)):
            with pytest.raises(SecretStoreUnavailable, match="password store is locked. Unlock it") as caught:
                attempt()
            assert caught.value.retryable


def _profile(services: Services) -> None:
    manager = make_actor(services, Role.MANAGER)
    ClearinghouseService(services.db).save(manager, ClearinghouseSettings(
        name=PROFILE, sender_qualifier="ZZ", sender_id="FICTIONAL", receiver_qualifier="ZZ", receiver_id="TESTCH",
        application_sender_code="FICTIONAL", application_receiver_code="TESTCH", production=False,
        sftp_host="sftp.clearinghouse.example", sftp_port=22, sftp_username="clinic01", sftp_remote_dir="/inbound",
    ))


def _audit(services: Services) -> list[tuple[str, str]]:
    with services.db.session() as session:
        rows = session.execute(sa.select(AuditEvent.action, AuditEvent.detail).order_by(AuditEvent.id)).all()
    return [(action, json.dumps(detail)) for action, detail in rows]


def test_a_biller_saves_the_secret_and_the_audit_says_so_without_it(services: Services,
                                                                    memory_keyring: MemoryKeyring) -> None:
    _profile(services)
    biller = make_actor(services, Role.BILLER)
    secrets = SecretService(services.db)
    assert secrets.has_sftp_secret(biller, PROFILE) is False

    secrets.set_sftp_secret(biller, PROFILE, SECRET)

    assert load_sftp_secret(PROFILE) == SECRET and secrets.has_sftp_secret(biller, PROFILE)
    audit = _audit(services)
    assert audit[-1][0] == "clearinghouse.sftp_secret_changed"
    assert not any(SECRET in action or SECRET in detail for action, detail in audit)

    secrets.forget_sftp_secret(biller, PROFILE)
    assert load_sftp_secret(PROFILE) is None
    assert _audit(services)[-1][0] == "clearinghouse.sftp_secret_forgotten"


def test_the_secret_is_refused_for_the_wrong_role_an_unknown_profile_or_when_empty(
    services: Services, memory_keyring: MemoryKeyring,
) -> None:
    _profile(services)
    secrets = SecretService(services.db)

    with pytest.raises(PermissionDenied):
        secrets.set_sftp_secret(make_actor(services, Role.FRONT_DESK), PROFILE, SECRET)
    biller = make_actor(services, Role.BILLER)
    with pytest.raises(NotFound, match="no clearinghouse named 'Nowhere Clearinghouse'"):
        secrets.set_sftp_secret(biller, "Nowhere Clearinghouse", SECRET)
    with pytest.raises(ValidationFailed) as caught:
        secrets.set_sftp_secret(biller, PROFILE, "")
    assert caught.value.findings[0].subject == "sftp_secret"
    assert "Enter the SFTP password" in caught.value.findings[0].message

    assert memory_keyring.entries == {}
    assert not any("sftp_secret" in action for action, _ in _audit(services))


def test_when_the_keyring_refuses_nothing_is_audited(services: Services, no_keyring: KeyringBackend) -> None:
    _profile(services)
    biller = make_actor(services, Role.BILLER)
    before = _audit(services)
    with pytest.raises(SecretStoreUnavailable):
        SecretService(services.db).set_sftp_secret(biller, PROFILE, SECRET)
    assert _audit(services) == before


def test_the_secret_is_nowhere_in_the_database_file(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    # a plain (unencrypted) file, so a byte search can see what was written
    database = tmp_path / "plain.sqlite3"
    services = Services.for_database(Database.open(f"sqlite:///{database}"))
    upgrade(services.db)
    _profile(services)
    SecretService(services.db).set_sftp_secret(make_actor(services, Role.BILLER), PROFILE, SECRET)
    services.close()  # flush everything (write-ahead log included) to the files

    stored = b"".join(p.read_bytes() for p in database.parent.glob(database.name + "*"))
    assert b"clearinghouse.sftp_secret_changed" in stored  # the search does find what was written...
    assert SECRET.encode() not in stored  # ...and the secret was not
    assert load_sftp_secret(PROFILE) == SECRET
