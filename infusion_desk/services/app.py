"""The application's services over one open database: what the GUI and the CLI hold."""

from __future__ import annotations

from dataclasses import dataclass

from infusion_desk.models.db import Database
from infusion_desk.models.migrate import UpgradeResult, upgrade
from infusion_desk.services.auth import AuthService
from infusion_desk.services.clinic import ClinicService
from infusion_desk.services.patients import PatientService
from infusion_desk.services.vault import Opened, open_database
from infusion_desk.services.visits import VisitService


@dataclass
class Services:
    db: Database
    auth: AuthService
    clinic: ClinicService
    patients: PatientService
    visits: VisitService
    opened: Opened | None = None

    @classmethod
    def for_database(cls, db: Database) -> Services:
        return cls(
            db=db, auth=AuthService(db), clinic=ClinicService(db), patients=PatientService(db),
            visits=VisitService(db),
        )

    @classmethod
    def open(
        cls,
        url: str,
        *,
        migrate: bool = True,
        passphrase: str | None = None,
        recovery_code: str | None = None,
    ) -> tuple[Services, UpgradeResult | None]:
        """Open the database at ``url`` with its key, bring its schema up to date, and return the services.

        Raises :class:`~infusion_desk.services.vault.KeyNeeded` or
        :class:`~infusion_desk.services.vault.WrongKey` when the key cannot be found or is wrong.
        """
        opened = open_database(url, passphrase=passphrase, recovery_code=recovery_code)
        try:
            result = upgrade(opened.db) if migrate else None
        except BaseException:
            opened.db.dispose()
            raise
        services = cls.for_database(opened.db)
        services.opened = opened
        return services, result

    def close(self) -> None:
        self.db.dispose()
