"""The application's services over one open database: what the GUI and the CLI hold."""

from __future__ import annotations

from dataclasses import dataclass

from infusion_desk.models.db import Database
from infusion_desk.models.migrate import UpgradeResult, upgrade
from infusion_desk.services.auth import AuthService
from infusion_desk.services.clinic import ClinicService
from infusion_desk.services.patients import PatientService
from infusion_desk.services.visits import VisitService


@dataclass
class Services:
    db: Database
    auth: AuthService
    clinic: ClinicService
    patients: PatientService
    visits: VisitService

    @classmethod
    def for_database(cls, db: Database) -> Services:
        return cls(
            db=db, auth=AuthService(db), clinic=ClinicService(db), patients=PatientService(db),
            visits=VisitService(db),
        )

    @classmethod
    def open(cls, url: str, *, migrate: bool = True) -> tuple[Services, UpgradeResult | None]:
        """Open the database at ``url``, bring its schema up to date, and return the services."""
        db = Database.open(url)
        result = upgrade(db) if migrate else None
        return cls.for_database(db), result

    def close(self) -> None:
        self.db.dispose()
