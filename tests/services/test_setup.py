"""The first-run set-up: one unit of work that makes an empty database a clinic, or refuses whole."""

from __future__ import annotations

import doctest
import threading
from dataclasses import replace
from pathlib import Path

import pytest
import sqlalchemy as sa
from keyring.backends import fail

from infusion_desk.models import AuditEvent, ClearinghouseProfile, Clinic, Setting, User
from infusion_desk.models.enums import Role
from infusion_desk.services import setup as first_run
from infusion_desk.services.app import Services
from infusion_desk.services.clearinghouse import ClearinghouseService, ClearinghouseSettings
from infusion_desk.services.errors import ValidationFailed
from infusion_desk.services.secrets import SERVICE_NAME
from infusion_desk.services.setup import (
    AdminAccount,
    AlreadySetUp,
    ClinicSetup,
    ConnectionFailed,
    ServerPasswordNotKept,
    SetupRefused,
    SetupService,
    SetupStep,
    check_admin,
    check_clinic,
    connection_failure,
    remember_server_password,
    server_url,
)
from tests.conftest import _new_pg_database, make_actor
from tests.memory_keyring import MemoryKeyring, installed

CLINIC = ClinicSetup(
    name="Lakeview Infusion Suite (test)",
    npi="1234567893",
    tin="12-3456789",
    taxonomy="261qi0500x",
    address1="400 Example Avenue",
    city="Springfield",
    state="il",
    zip_code="62701-0400",
    phone="217-555-0142",
    timezone="America/New_York",
    pay_to_address1="PO Box 100",
    pay_to_city="Springfield",
    pay_to_state="IL",
    pay_to_zip_code="62705-0100",
)
ADMIN = AdminAccount("Nell.Okafor", "Nell Okafor", "Quiet-Harbor-2026!", "Quiet-Harbor-2026!")
PROFILE = ClearinghouseSettings(
    name="Example Clearinghouse (test)",
    sender_qualifier="ZZ",
    sender_id="lakeview01",
    receiver_qualifier="ZZ",
    receiver_id="EXCH",
    application_sender_code="lakeview01",
    application_receiver_code="EXCH",
    production=False,
)


def _counts(services: Services) -> dict[str, int]:
    with services.db.session() as session:
        return {
            model.__tablename__: session.execute(sa.select(sa.func.count()).select_from(model)).scalar_one()
            for model in (User, Clinic, Setting, ClearinghouseProfile, AuditEvent)
        }


EMPTY = {"app_user": 0, "clinic": 0, "setting": 0, "clearinghouse_profile": 0, "audit_event": 0}


def test_worked_examples_hold() -> None:
    result = doctest.testmod(first_run)
    assert result.attempted >= 3 and result.failed == 0


def test_a_complete_setup_writes_the_clinic_its_administrator_and_clearinghouse(services: Services) -> None:
    setup = SetupService(services.db)
    assert setup.needs_setup()

    actor = setup.complete_setup(CLINIC, ADMIN, PROFILE)

    assert (actor.username, actor.display_name, actor.role) == ("nell.okafor", "Nell Okafor", Role.ADMIN)
    assert not setup.needs_setup()
    details = services.clinic.details()
    assert details is not None and not details.is_demo
    # stored as Clinic settings stores them: the EIN without its hyphen, codes in capitals
    assert (details.name, details.npi, details.tin, details.taxonomy, details.state) == (
        "Lakeview Infusion Suite (test)", "1234567893", "123456789", "261QI0500X", "IL",
    )
    with services.db.session() as session:
        clinic = session.execute(sa.select(Clinic)).scalar_one()
        assert (clinic.pay_to_address1, clinic.pay_to_zip_code) == ("PO Box 100", "62705-0100")
        assert session.get(Setting, "clinic.timezone").value == "America/New_York"
        actions = set(session.execute(sa.select(AuditEvent.action)).scalars())
    assert {"create", "update", "clearinghouse.save", "setup.complete"} <= actions
    profile = ClearinghouseService(services.db).profile(actor)
    assert profile is not None and (profile.sender_id, profile.receiver_id) == ("LAKEVIEW01", "EXCH")
    assert services.auth.sign_in("nell.okafor", "Quiet-Harbor-2026!").user_id == actor.user_id


def test_the_clearinghouse_may_be_left_for_later(services: Services) -> None:
    actor = SetupService(services.db).complete_setup(replace(CLINIC, pay_to_address1=None, pay_to_city=None,
                                                             pay_to_state=None, pay_to_zip_code=None), ADMIN)
    assert ClearinghouseService(services.db).profile(actor) is None
    with services.db.session() as session:
        assert session.execute(sa.select(Clinic.pay_to_address1)).scalar_one() is None


@pytest.mark.parametrize(
    ("clinic", "admin", "profile", "step", "subject", "message"),
    [
        (replace(CLINIC, npi="1234567890"), ADMIN, PROFILE, SetupStep.CLINIC, "npi", "fails its check digit"),
        (replace(CLINIC, tin="12-345"), ADMIN, PROFILE, SetupStep.CLINIC, "tin", "not a tax identification"),
        (CLINIC, replace(ADMIN, password="short1!", password_again="short1!"), None, SetupStep.ADMIN,
         "password", "at least 12 characters"),
        (CLINIC, replace(ADMIN, password_again="Quiet-Harbor-2027!"), None, SetupStep.ADMIN,
         "password_again", "the two passwords differ"),
        (CLINIC, ADMIN, replace(PROFILE, receiver_id="EXCH/1"), SetupStep.CLEARINGHOUSE, "receiver_id",
         "1 to 15 letters"),
    ],
)
def test_a_refused_step_leaves_the_database_empty(  # noqa: PLR0913
    services: Services, clinic: ClinicSetup, admin: AdminAccount, profile: ClearinghouseSettings | None,
    step: SetupStep, subject: str, message: str,
) -> None:
    with pytest.raises(SetupRefused) as refused:
        SetupService(services.db).complete_setup(clinic, admin, profile)
    assert refused.value.first_step is step
    assert any(f.subject == subject and message in f.message for f in refused.value.by_step[step])
    assert _counts(services) == EMPTY
    assert SetupService(services.db).needs_setup()


@pytest.mark.parametrize(
    ("clinic", "subject", "message"),
    [
        (replace(CLINIC, timezone="Central"), "timezone", "not a time zone"),
        (replace(CLINIC, name="X" * 121), "name", "at most 120"),
        (replace(CLINIC, city="Y" * 61), "city", "at most 60"),
        (replace(CLINIC, pay_to_state="ZZ"), "pay_to_state", "not a USPS"),
        (replace(CLINIC, pay_to_address1=" "), "pay_to_address1", "enter its street and city"),
        (replace(CLINIC, address1=""), "address1", "Street address and city are required"),
    ],
)
def test_the_clinic_rules_beyond_clinic_settings(clinic: ClinicSetup, subject: str, message: str) -> None:
    assert any(f.subject == subject and message in f.message for f in check_clinic(clinic))


def test_the_pay_to_address_may_be_left_empty() -> None:
    assert check_clinic(replace(CLINIC, pay_to_address1="", pay_to_city=None, pay_to_state="",
                                pay_to_zip_code=None)) == ()


def test_the_administrators_user_name_follows_the_user_rules() -> None:
    findings = check_admin(replace(ADMIN, username="nell okafor"))
    assert [f.subject for f in findings] == ["username"]
    assert check_admin(replace(ADMIN, display_name=" "))[0].subject == "display_name"


def test_every_step_is_checked_before_the_first_is_refused(services: Services) -> None:
    bad_admin = replace(ADMIN, password_again="something else")
    with pytest.raises(SetupRefused) as refused:
        SetupService(services.db).complete_setup(replace(CLINIC, npi="1234567890"), bad_admin, PROFILE)
    assert set(refused.value.by_step) == {SetupStep.CLINIC, SetupStep.ADMIN}
    assert refused.value.first_step is SetupStep.CLINIC


def test_a_step_refused_after_the_others_were_written_takes_them_back(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The clearinghouse is saved last: its refusal must take back the administrator and the clinic."""
    from infusion_desk.billing.findings import error

    def refuse(self: ClearinghouseService, actor: object, data: ClearinghouseSettings) -> None:
        raise ValidationFailed([error("X12_ID", "Sender ID refused by the test.", "sender_id")])

    monkeypatch.setattr(ClearinghouseService, "save", refuse)
    with pytest.raises(SetupRefused) as refused:
        SetupService(services.db).complete_setup(CLINIC, ADMIN, PROFILE)
    assert refused.value.first_step is SetupStep.CLEARINGHOUSE
    assert _counts(services) == EMPTY


def test_setup_is_refused_once_the_database_has_users(services: Services) -> None:
    make_actor(services, Role.NURSE)
    setup = SetupService(services.db)
    assert not setup.needs_setup()
    before = _counts(services)
    with pytest.raises(AlreadySetUp, match="Sign in instead"):
        setup.complete_setup(CLINIC, ADMIN)
    with pytest.raises(AlreadySetUp):
        setup.load_demo(patients=1, months=0)
    assert _counts(services) == before


def test_two_workstations_finishing_at_once_set_the_clinic_up_once(services: Services) -> None:
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def finish(admin: AdminAccount) -> None:
        start.wait(5)
        try:
            outcomes.append(SetupService(services.db).complete_setup(CLINIC, admin))
        except AlreadySetUp as exc:
            outcomes.append(exc)

    other = replace(ADMIN, username="second.desk", display_name="Second Desk")
    threads = [threading.Thread(target=finish, args=(admin,)) for admin in (ADMIN, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(type(outcome).__name__ for outcome in outcomes) == ["Actor", "AlreadySetUp"]
    counts = _counts(services)
    assert (counts["app_user"], counts["clinic"]) == (1, 1)


def test_the_demo_clinic_fills_an_empty_database(sqlite_services: Services) -> None:
    messages: list[str] = []
    summary = SetupService(sqlite_services.db).load_demo(progress=messages.append, patients=3, months=1)
    assert summary.patients == 3 and messages
    details = sqlite_services.clinic.details()
    assert details is not None and details.is_demo
    assert sqlite_services.auth.sign_in("admin", "demo").role is Role.ADMIN
    with pytest.raises(AlreadySetUp):
        SetupService(sqlite_services.db).load_demo(patients=1, months=0)


# --- where the database lives --------------------------------------------------------------------


def test_the_local_choice_says_where_the_file_will_be(tmp_path: Path) -> None:
    new = tmp_path / "not yet" / "clinic.sqlite3"
    assert "a new database will be created at" in SetupService.test_connection(f"sqlite:///{new}")
    new.parent.mkdir()
    new.write_bytes(b"")
    assert "the existing database" in SetupService.test_connection(f"sqlite:///{new}")


def test_a_folder_this_user_cannot_write_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(first_run, "_writable", lambda folder: False)
    with pytest.raises(ConnectionFailed, match="cannot create") as failed:
        SetupService.test_connection(f"sqlite:///{tmp_path / 'sub' / 'clinic.sqlite3'}")
    assert failed.value.reason == "folder"


@pytest.fixture
def pg_url(pg_server: str) -> str:
    """An empty database on the test run's PostgreSQL server."""
    return _new_pg_database(pg_server)


def test_the_connection_test_reaches_the_test_server(pg_url: str) -> None:
    said = SetupService.test_connection(pg_url)
    assert said.startswith("Connected to PostgreSQL ") and "It is empty" in said
    services, _ = Services.open(pg_url)
    services.close()
    assert "It holds an Infusion Desk database (schema " in SetupService.test_connection(pg_url)


def test_a_wrong_port_says_no_server_answered(pg_url: str) -> None:
    url = sa.engine.make_url(pg_url).set(port=5999).render_as_string(hide_password=False)
    with pytest.raises(ConnectionFailed, match="No PostgreSQL server answered at .*:5999") as failed:
        SetupService.test_connection(url)
    assert failed.value.reason == "unreachable" and "5999" in failed.value.details


def test_a_wrong_database_name_is_named(pg_url: str) -> None:
    url = sa.engine.make_url(pg_url).set(database="no_such_clinic").render_as_string(hide_password=False)
    with pytest.raises(ConnectionFailed, match="has no database named 'no_such_clinic'") as failed:
        SetupService.test_connection(url)
    assert failed.value.reason == "database"


# libpq's own words (src/interfaces/libpq/fe-connect.c, fe-auth.c; backend auth.c), as psycopg passes them on
@pytest.mark.parametrize(
    ("driver_said", "reason", "message"),
    [
        ('connection to server at "10.0.0.5", port 5432 failed: FATAL:  password authentication failed '
         'for user "desk"', "password", "refused the password for user desk"),
        ('connection to server at "10.0.0.5", port 5432 failed: fe_sendauth: no password supplied',
         "password", "wants a password"),
        ('connection to server at "10.0.0.5", port 5432 failed: server does not support SSL, but SSL was '
         "required", "tls", "does not accept TLS"),
        ('connection to server at "10.0.0.5", port 5432 failed: root certificate file '
         '"/home/desk/.postgresql/root.crt" does not exist', "tls", "certificate could not be checked"),
        ('connection to server at "10.0.0.5", port 5432 failed: FATAL:  no pg_hba.conf entry for host '
         '"10.0.0.9", user "desk", database "clinic", no encryption', "tls", "only encrypted connections"),
        ('connection to server at "10.0.0.5", port 5432 failed: Connection refused\n\tIs the server '
         "running on that host and accepting TCP/IP connections?", "unreachable", "No PostgreSQL server"),
        ("failed to resolve host 'db.clinic.invalid': [Errno -2] Name or service not known", "unreachable",
         "No PostgreSQL server"),
        ('connection to server at "10.0.0.5", port 5432 failed: timeout expired', "unreachable",
         "No PostgreSQL server"),
        ('connection to server at "10.0.0.5", port 5432 failed: FATAL:  role "desk" does not exist', "user",
         "no user named 'desk'"),
    ],
)
def test_what_the_driver_said_becomes_what_to_check(driver_said: str, reason: str, message: str) -> None:
    failure = connection_failure(driver_said, "postgresql://desk@10.0.0.5:5432/clinic?sslmode=require")
    assert failure.reason == reason
    assert message in str(failure)
    assert failure.details == driver_said


def test_a_server_url_keeps_its_tls_mode_and_takes_a_socket_folder() -> None:
    assert server_url("db.clinic.lan", 5433, "clinic", "desk", sslmode="verify-full") == (
        "postgresql+psycopg://desk@db.clinic.lan:5433/clinic?sslmode=verify-full"
    )
    local = sa.engine.make_url(server_url("/var/run/postgresql", 5432, "clinic", "desk", sslmode="disable"))
    assert local.host is None and local.query["host"] == "/var/run/postgresql"


def test_the_server_password_goes_to_the_keyring_not_the_url() -> None:
    keyring = MemoryKeyring()
    with_password = server_url("db.clinic.lan", 5432, "clinic", "desk", password="Server-Word-77")
    for _ in installed(keyring):
        remembered = remember_server_password(with_password)
    assert "Server-Word-77" not in remembered
    assert keyring.entries == {(SERVICE_NAME, "postgresql:desk@db.clinic.lan:5432/clinic"): "Server-Word-77"}


def test_without_a_password_store_the_server_password_is_refused_with_the_way_out() -> None:
    with_password = server_url("db.clinic.lan", 5432, "clinic", "desk", password="Server-Word-77")
    for _ in installed(fail.Keyring()):
        with pytest.raises(ServerPasswordNotKept, match="pgpass"):
            remember_server_password(with_password)
