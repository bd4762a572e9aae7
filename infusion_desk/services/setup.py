"""The first-run set-up: an empty database becomes a clinic that can send a valid claim.

    setup = SetupService(db)
    if setup.needs_setup():                          # no clinic and no users yet
        actor = setup.complete_setup(clinic, admin, clearinghouse=None)   # signed in as the new admin
    SetupService.test_connection("postgresql://desk:…@db.clinic.lan/clinic?sslmode=require")
    # -> "Connected to PostgreSQL 16.4 at db.clinic.lan:5432, database clinic, as desk, over TLS. …"

:meth:`SetupService.complete_setup` checks every step first (the clinic's details with the
same rules as Clinic settings, the first administrator with the password policy, the optional
clearinghouse profile with the rules of File → Clearinghouse…) and refuses with the findings of
each step (:class:`SetupRefused`) before anything is written. It then writes all of it in ONE
unit of work, through the same services those screens use, so a refusal at any point leaves
the database as empty as it was. Two workstations finishing the set-up of one shared database
at the same moment cannot both succeed: the second is told it is set up already
(:class:`AlreadySetUp`).

:meth:`SetupService.load_demo` writes the fictional demo clinic instead.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from infusion_desk.billing import validation
from infusion_desk.billing.findings import Finding, error
from infusion_desk.models import Clinic, Setting, User
from infusion_desk.models.base import utcnow
from infusion_desk.models.db import Database, normalise_url, sqlite_path
from infusion_desk.models.enums import Role
from infusion_desk.services import audit
from infusion_desk.services.access import Actor
from infusion_desk.services.auth import AuthService, actor_for
from infusion_desk.services.clearinghouse import (
    ClearinghouseService,
    ClearinghouseSettings,
    validate_settings,
)
from infusion_desk.services.clinic import ClinicDetails, ClinicService, validate_clinic
from infusion_desk.services.errors import ServiceError, ValidationFailed
from infusion_desk.services.password_policy import check_password
from infusion_desk.services.settings_store import write_setting

if TYPE_CHECKING:
    from infusion_desk.services.demo import DemoSummary

TIMEZONE_SETTING = "clinic.timezone"
SETUP_SETTING = "setup.completed"
"""Written by the set-up's unit of work first: a second workstation's set-up collides on it."""
DEFAULT_TIMEZONE = "America/Chicago"
DEMO_PATIENTS = 200
DEMO_MONTHS = 6
CONNECT_TIMEOUT_SECONDS = 8

US_TIME_ZONES: tuple[tuple[str, str], ...] = (
    ("America/New_York", "Eastern"),
    ("America/Chicago", "Central"),
    ("America/Denver", "Mountain"),
    ("America/Phoenix", "Mountain, no daylight saving (Arizona)"),
    ("America/Los_Angeles", "Pacific"),
    ("America/Anchorage", "Alaska"),
    ("Pacific/Honolulu", "Hawaii"),
    ("America/Puerto_Rico", "Atlantic (Puerto Rico, U.S. Virgin Islands)"),
    ("Pacific/Guam", "Chamorro (Guam, Northern Mariana Islands)"),
)
"""The zones a U.S. clinic is in, as the wizard offers them (any IANA zone name is accepted)."""

SSL_MODES: tuple[tuple[str, str], ...] = (
    ("require", "Require TLS (encrypted), do not check the server's certificate"),
    ("verify-full", "Require TLS and check the server's certificate and name"),
    ("verify-ca", "Require TLS and check the server's certificate"),
    ("prefer", "TLS when the server offers it, else unencrypted"),
    ("disable", "Never use TLS (only on a network you trust)"),
)
"""libpq's ``sslmode`` choices, safest usable default first."""

# Column widths (models/clinic.py, models/claims.py): a longer value would fail on PostgreSQL.
_CLINIC_LENGTHS = {
    "name": 120, "address1": 80, "address2": 80, "city": 60, "phone": 20,
    "pay_to_address1": 80, "pay_to_city": 60,
}
_LABELS = {
    "name": "Clinic name", "address1": "Street address", "address2": "Address line 2", "city": "City",
    "phone": "Phone", "pay_to_address1": "Pay-to street", "pay_to_city": "Pay-to city",
}


class SetupStep(StrEnum):
    CLINIC = "clinic"
    ADMIN = "admin"
    CLEARINGHOUSE = "clearinghouse"


class SetupRefused(ValidationFailed):
    """Some steps have findings that block the set-up; nothing was written."""

    def __init__(self, by_step: dict[SetupStep, tuple[Finding, ...]]) -> None:
        self.by_step = by_step
        super().__init__(finding for findings in by_step.values() for finding in findings)

    @property
    def first_step(self) -> SetupStep:
        """The earliest step the user must go back to."""
        return next(step for step in SetupStep if step in self.by_step)


class AlreadySetUp(ServiceError):
    """The database has a clinic or users already (perhaps set up from another workstation): sign in."""


class ConnectionFailed(ServiceError):
    """The server could not be reached or refused us: ``reason`` says which, ``details`` the driver."""

    def __init__(self, message: str, *, reason: str, details: str = "") -> None:
        super().__init__(message)
        self.reason = reason
        self.details = details


class ServerPasswordNotKept(ServiceError):
    """The computer has no password store to keep the server password in."""


@dataclass(frozen=True, slots=True)
class ClinicSetup:
    """The clinic as the wizard collects it: the details of Clinic settings, a time zone, a pay-to address."""

    name: str
    npi: str
    tin: str
    taxonomy: str
    address1: str
    city: str
    state: str
    zip_code: str
    address2: str | None = None
    phone: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    pay_to_address1: str | None = None
    pay_to_city: str | None = None
    pay_to_state: str | None = None
    pay_to_zip_code: str | None = None

    def details(self) -> ClinicDetails:
        return ClinicDetails(
            name=self.name, npi=self.npi, tin=self.tin, taxonomy=self.taxonomy, address1=self.address1,
            city=self.city, state=self.state, zip_code=self.zip_code,
            address2=(self.address2 or "").strip() or None, phone=(self.phone or "").strip() or None,
        )

    @property
    def has_pay_to(self) -> bool:
        return any(
            (value or "").strip()
            for value in (self.pay_to_address1, self.pay_to_city, self.pay_to_state, self.pay_to_zip_code)
        )


@dataclass(frozen=True, slots=True)
class AdminAccount:
    """The first administrator: the person setting the clinic up."""

    username: str
    display_name: str
    password: str
    password_again: str


# --- the rules of each step, checked before anything is written ----------------------------------


def check_clinic(clinic: ClinicSetup) -> tuple[Finding, ...]:
    """Clinic settings' rules (:func:`~infusion_desk.services.clinic.validate_clinic`), plus the rest."""
    findings = list(validate_clinic(clinic.details()))
    for field, limit in _CLINIC_LENGTHS.items():
        value = (getattr(clinic, field) or "").strip()
        if len(value) > limit:
            findings.append(
                error("TOO_LONG", f"{_LABELS[field]}: use at most {limit} characters (this has "
                      f"{len(value)}).", field)
            )
    findings.extend(check_timezone(clinic.timezone))
    if clinic.has_pay_to:
        if not (clinic.pay_to_address1 or "").strip() or not (clinic.pay_to_city or "").strip():
            findings.append(
                error("REQUIRED", "Pay-to address: enter its street and city, or leave all four fields empty "
                      "when payments come to the clinic's address.", "pay_to_address1")
            )
        findings.extend(validation.check_state(clinic.pay_to_state or "", "pay_to_state"))
        findings.extend(validation.check_zip(clinic.pay_to_zip_code or "", "pay_to_zip_code"))
    return tuple(findings)


def check_timezone(name: str) -> tuple[Finding, ...]:
    """The clinic's time zone must be an IANA name this computer knows (America/Chicago).

    >>> check_timezone("America/Chicago")
    ()
    >>> check_timezone("Central")[0].message
    "Time zone: 'Central' is not a time zone name; choose one from the list (America/Chicago)."
    """
    try:
        ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return (
            error("TIMEZONE", f"Time zone: {name.strip()!r} is not a time zone name; choose one from the "
                  "list (America/Chicago).", "timezone"),
        )
    return ()


def _username_findings(username: str) -> list[Finding]:
    """The user-name rule of :meth:`AuthService.create_user` (it checks again when writing)."""
    name = username.strip().lower()
    if not name or not name.replace("_", "").replace(".", "").isalnum() or len(name) > 60:
        return [error("USERNAME", "User name: use up to 60 letters, digits, '.' or '_'.", "username")]
    return []


def check_admin(admin: AdminAccount) -> tuple[Finding, ...]:
    """The first administrator: a user name, a name, and a password meeting the policy, typed twice."""
    findings = _username_findings(admin.username)
    shown = admin.display_name.strip()
    if not shown:
        findings.append(error("REQUIRED", "Name: enter your name as the audit trail should show it.",
                              "display_name"))
    elif len(shown) > 120:
        findings.append(error("DISPLAY_NAME", "Name: use at most 120 characters.", "display_name"))
    username = admin.username.strip().lower()
    findings.extend(check_password(admin.password, username=username, display_name=shown))
    if admin.password != admin.password_again:
        findings.append(error("PASSWORD_AGAIN", "Password again: the two passwords differ; type the same one "
                              "twice.", "password_again"))
    return tuple(findings)


def check_clearinghouse(profile: ClearinghouseSettings) -> tuple[Finding, ...]:
    """The rules of File → Clearinghouse… (:func:`~infusion_desk.services.clearinghouse.validate_settings`).

    The IDs are checked as that screen saves them: trimmed, in capitals, an empty file name
    pattern meaning the default one.
    """
    profile = replace(
        profile, sender_qualifier=profile.sender_qualifier.strip().upper(),
        sender_id=profile.sender_id.strip().upper(),
        receiver_qualifier=profile.receiver_qualifier.strip().upper(),
        receiver_id=profile.receiver_id.strip().upper(),
        application_sender_code=profile.application_sender_code.strip().upper(),
        application_receiver_code=profile.application_receiver_code.strip().upper(),
        file_name_pattern=profile.file_name_pattern.strip() or "{profile}_{icn}.837",
    )
    findings = list(validate_settings(profile))
    if len(profile.name.strip()) > 80:
        findings.append(error("TOO_LONG", "Clearinghouse name: use at most 80 characters.", "name"))
    return tuple(findings)


def _blocking(findings: tuple[Finding, ...]) -> bool:
    return any(f.blocks for f in findings)


# --- database location ---------------------------------------------------------------------------


def database_file(url: str) -> Path | None:
    """The file a SQLite URL (or a bare path) names, for showing where "this computer" keeps it."""
    return sqlite_path(normalise_url(url))


def server_url(
    host: str, port: int, database: str, user: str, *, sslmode: str = "require", password: str | None = None
) -> str:
    """The URL of a PostgreSQL database; a ``host`` starting with ``/`` is a Unix socket folder.

    >>> server_url("db.clinic.lan", 5432, "clinic", "desk")
    'postgresql+psycopg://desk@db.clinic.lan:5432/clinic?sslmode=require'
    """
    query = {"sslmode": sslmode}
    host = host.strip()
    if host.startswith("/"):
        query["host"] = host
        host = ""
    url = URL.create(
        "postgresql+psycopg", username=user.strip() or None, password=password or None, host=host or None,
        port=port, database=database.strip() or None, query=query,
    )
    return url.render_as_string(hide_password=False)


def without_password(url: str) -> str:
    """The URL to remember: the same, minus its password (which goes to the keyring)."""
    parsed = make_url(url)
    bare = URL.create(parsed.drivername, parsed.username, None, parsed.host, parsed.port, parsed.database,
                      parsed.query)
    return bare.render_as_string(hide_password=False)


def remember_server_password(url: str) -> str:
    """Keep the password of ``url`` in this computer's keyring; return the URL without it."""
    from keyring.errors import KeyringError

    from infusion_desk.services.vault import keyring_usable, store_server_password

    parsed = make_url(url)
    if not parsed.password:
        return url
    if not keyring_usable():
        raise ServerPasswordNotKept(
            "This computer has no password store to keep the server password in. Leave the password "
            "empty and put it in the PostgreSQL password file (~/.pgpass, or %APPDATA%\\postgresql\\"
            "pgpass.conf on Windows) instead, or ask your administrator."
        )
    try:
        store_server_password(parsed, str(parsed.password))
    except KeyringError as exc:
        raise ServerPasswordNotKept(
            f"This computer's password store did not keep the server password ({exc}). Unlock it and try "
            "again."
        ) from exc
    return without_password(url)


def _where(url: URL) -> str:
    host = url.host or str(url.query.get("host") or "this computer")
    return f"{host}:{url.port or 5432}"


_UNREACHABLE = (
    "connection refused", "no such file or directory", "timeout expired", "timed out",
    "could not translate host name", "failed to resolve host", "name or service not known",
    "nodename nor servname", "network is unreachable", "no route to host", "could not connect",
    "server closed the connection unexpectedly", "host is down",
)


def connection_failure(text: str, url: str | URL) -> ConnectionFailed:
    """What the driver said, as a message naming the setting to check (the driver's words in ``details``)."""
    parsed = normalise_url(url)
    lowered = text.lower()
    user, database, where = parsed.username or "(none)", parsed.database or "(none)", _where(parsed)
    sslmode = str(parsed.query.get("sslmode") or "prefer")
    detail = text.strip()

    def failed(reason: str, message: str) -> ConnectionFailed:
        return ConnectionFailed(message, reason=reason, details=detail)

    if "password authentication failed" in lowered or "authentication failed for user" in lowered:
        return failed("password", f"The server at {where} refused the password for user {user}. Check the "
                      "user name and password (passwords are case-sensitive).")
    if "no password supplied" in lowered or "fe_sendauth" in lowered:
        return failed("password", f"The server at {where} wants a password for user {user}: type it.")
    if "server does not support ssl" in lowered or "ssl was required" in lowered:
        return failed("tls", f"The server at {where} does not accept TLS (encrypted) connections, and TLS "
                      f"mode {sslmode!r} requires them. Ask the server's administrator to turn TLS on; on a "
                      "network you trust you may choose 'prefer' or 'disable'.")
    if "certificate" in lowered or "ssl error" in lowered or ("tls" in lowered and "handshake" in lowered):
        return failed("tls", f"The TLS connection to {where} failed: the server's certificate could not be "
                      f"checked (TLS mode {sslmode!r}). For verify-ca and verify-full, this computer needs "
                      "the certificate of the authority that signed the server's (~/.postgresql/root.crt); "
                      "or choose 'require'.")
    if "no pg_hba.conf entry" in lowered:
        if "no encryption" in lowered or "ssl off" in lowered:
            return failed("tls", f"The server at {where} accepts only encrypted connections: choose TLS mode "
                          "'require' (or verify-full).")
        return failed("refused", f"The server at {where} does not let user {user} from this computer into "
                      f"database {database}. Ask its administrator to allow this computer (pg_hba.conf).")
    if "database" in lowered and "does not exist" in lowered:
        return failed("database", f"The server at {where} has no database named {database!r}. Check the "
                      "name, or ask its administrator to create it (empty: Infusion Desk creates its "
                      "tables).")
    if "role" in lowered and "does not exist" in lowered:
        return failed("user", f"The server at {where} has no user named {user!r}. Check the user name.")
    if "invalid sslmode" in lowered:
        return failed("settings", f"{sslmode!r} is not a TLS mode: choose one from the list.")
    if any(marker in lowered for marker in _UNREACHABLE):
        return failed("unreachable", f"No PostgreSQL server answered at {where}. Check the host name and "
                      "port, that the server is running, and that the network and its firewall let this "
                      "computer through.")
    first = detail.splitlines()[0] if detail else "no reason given"
    return failed("other", f"The server at {where} refused the connection: {first}")


def _test_folder(path: Path) -> str:
    if path.exists():
        return f"This computer: the existing database {path}."
    folder = path.parent
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    if not probe.is_dir() or not _writable(probe):
        raise ConnectionFailed(
            f"Infusion Desk cannot create {folder}: this user may not write to {probe}.", reason="folder"
        )
    return f"This computer: a new database will be created at {path}."


def _writable(folder: Path) -> bool:
    import os

    return os.access(folder, os.W_OK | os.X_OK)


class _OneUnitOfWork:
    """Hands services the caller's session, so several of their use cases commit together or not at all."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @contextmanager
    def session(self) -> Iterator[Session]:
        yield self._session


def _is_empty(session: Session) -> bool:
    has_users = session.execute(sa.select(User.id).limit(1)).first() is not None
    has_clinic = session.execute(sa.select(Clinic.id).limit(1)).first() is not None
    return not has_users and not has_clinic


_ALREADY = (
    "This database is set up already (it has a clinic or users, perhaps from another workstation). "
    "Sign in instead; an administrator adds users in File → Users…."
)


class SetupService:
    def __init__(self, db: Database) -> None:
        self._db = db

    def needs_setup(self) -> bool:
        """Whether the database has neither a clinic nor users (no sign-in needed: nobody could)."""
        with self._db.session() as session:
            return _is_empty(session)

    @staticmethod
    def test_connection(url: str) -> str:
        """Try the database at ``url`` (with the password being tested) and say what was found.

        Raises :class:`ConnectionFailed` with a message naming what to check.
        """
        try:
            parsed = normalise_url(url)
        except sa.exc.ArgumentError as exc:
            raise ConnectionFailed(f"That is not a database address: {exc}", reason="settings") from exc
        if parsed.get_backend_name() == "sqlite":
            path = sqlite_path(parsed)
            return "This computer: a database in memory." if path is None else _test_folder(path)
        engine = sa.create_engine(
            parsed, poolclass=NullPool, connect_args={"connect_timeout": CONNECT_TIMEOUT_SECONDS}
        )
        try:
            with engine.connect() as connection:
                version = connection.exec_driver_sql("SHOW server_version").scalar_one()
                pgconn = getattr(connection.connection.driver_connection, "pgconn", None)
                encrypted = bool(getattr(pgconn, "ssl_in_use", False))
                schema = None
                if sa.inspect(connection).has_table("alembic_version"):
                    schema = connection.exec_driver_sql("SELECT version_num FROM alembic_version").scalar()
        except sa.exc.DBAPIError as exc:
            raise connection_failure(str(exc.orig), parsed) from None
        finally:
            engine.dispose()
        version_text = str(version).split(" ")[0]
        tls = "over TLS (encrypted)" if encrypted else "WITHOUT encryption (TLS is off)"
        found = (
            f"It holds an Infusion Desk database (schema {schema})." if schema
            else "It is empty: Infusion Desk will create its tables."
        )
        return (
            f"Connected to PostgreSQL {version_text} at {_where(parsed)}, database {parsed.database}, "
            f"as {parsed.username}, {tls}. {found}"
        )

    def complete_setup(
        self, clinic: ClinicSetup, admin: AdminAccount, clearinghouse: ClearinghouseSettings | None = None
    ) -> Actor:
        """Write the clinic, its first administrator and the clearinghouse profile; return the admin.

        Every step is checked before anything is written (:class:`SetupRefused` lists each step's
        findings); the writes share one unit of work. :class:`AlreadySetUp` when the database has
        a clinic or users.
        """
        checks = {
            SetupStep.CLINIC: check_clinic(clinic),
            SetupStep.ADMIN: check_admin(admin),
            SetupStep.CLEARINGHOUSE: () if clearinghouse is None else check_clearinghouse(clearinghouse),
        }
        refused = {step: findings for step, findings in checks.items() if _blocking(findings)}
        if refused:
            raise SetupRefused(refused)
        try:
            with self._db.session() as session:
                return self._write(session, clinic, admin, clearinghouse)
        except sa.exc.IntegrityError:
            # another workstation's set-up committed its marker first
            raise AlreadySetUp(_ALREADY) from None

    def _write(
        self, session: Session, clinic: ClinicSetup, admin: AdminAccount,
        clearinghouse: ClearinghouseSettings | None,
    ) -> Actor:
        if not _is_empty(session):
            raise AlreadySetUp(_ALREADY)
        marker = session.get(Setting, SETUP_SETTING)
        stamp = {"at": utcnow().isoformat(), "by": admin.username.strip().lower()}
        if marker is None:
            session.add(Setting(key=SETUP_SETTING, value=stamp))
        else:  # left over from a database whose users were removed by hand
            marker.value = stamp
        session.flush()
        joined = cast(Database, _OneUnitOfWork(session))
        try:
            user_id = AuthService(joined).create_user(
                None, admin.username, admin.display_name, Role.ADMIN, admin.password
            )
        except ValidationFailed as exc:
            raise SetupRefused({SetupStep.ADMIN: exc.findings}) from None
        user = session.get(User, user_id)
        assert user is not None
        actor = actor_for(user)
        try:
            ClinicService(joined).update_details(actor, clinic.details())
        except ValidationFailed as exc:
            raise SetupRefused({SetupStep.CLINIC: exc.findings}) from None
        row = session.execute(sa.select(Clinic).limit(1)).scalar_one()
        if clinic.has_pay_to:
            row.pay_to_address1 = (clinic.pay_to_address1 or "").strip()
            row.pay_to_city = (clinic.pay_to_city or "").strip()
            row.pay_to_state = (clinic.pay_to_state or "").strip().upper()
            row.pay_to_zip_code = (clinic.pay_to_zip_code or "").strip()
        timezone = clinic.timezone.strip()
        write_setting(session, TIMEZONE_SETTING, timezone)
        if clearinghouse is not None:
            try:
                ClearinghouseService(joined).save(actor, clearinghouse)
            except ValidationFailed as exc:
                raise SetupRefused({SetupStep.CLEARINGHOUSE: exc.findings}) from None
        detail: dict[str, Any] = {
            "timezone": timezone, "pay_to": clinic.has_pay_to, "clearinghouse": clearinghouse is not None,
        }
        audit.record(session, actor, "setup.complete", "clinic", row.id, detail=detail)
        return actor

    def load_demo(
        self, *, progress: Callable[[str], None] | None = None, patients: int | None = None,
        months: int | None = None,
    ) -> DemoSummary:
        """Write a fictional demo clinic into an empty database (users frontdesk … admin, password demo)."""
        from infusion_desk.services.demo import DemoExistsError, generate_demo

        if not self.needs_setup():
            raise AlreadySetUp(_ALREADY)
        try:
            return generate_demo(
                self._db, patients=patients or DEMO_PATIENTS,
                months=DEMO_MONTHS if months is None else months, progress=progress,
            )
        except DemoExistsError as exc:
            raise AlreadySetUp(_ALREADY) from exc
