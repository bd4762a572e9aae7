"""A fictional demo clinic for the claim and batch screens, generated once per test module.

    @pytest.fixture(scope="module")
    def template(tmp_path_factory):           # the demo clinic, written once
        return demo_template(tmp_path_factory.mktemp("demo"))

    @pytest.fixture
    def clinic(template, tmp_path):           # each test works on its own copy
        services = open_copy(template, tmp_path)
        yield services
        close(services)

The clinic is the demo generator's (12 patients, two months of signed visits, a
clearinghouse profile), so every claim it produces is as fictional as the demo itself.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import sqlalchemy as sa

from infusion_desk.models import ClaimBatch, ClearinghouseProfile, Patient
from infusion_desk.services.access import Actor
from infusion_desk.services.app import Services
from infusion_desk.services.batches import BatchService, ExportSummary
from infusion_desk.services.claims import BuildSummary, ClaimService
from infusion_desk.services.demo import DEMO_PASSWORD, generate_demo
from infusion_desk.ui.tasks import wait_for_idle

TODAY = date(2026, 11, 20)


def demo_template(directory: Path) -> Path:
    """Write the demo clinic to a SQLite file in ``directory`` and close it (copied per test).

    Its recovery code is kept beside it, so a copy opens whatever keyring a test installs.
    """
    path = directory / "demo.sqlite3"
    services, _ = Services.open(f"sqlite:///{path}")
    try:
        generate_demo(services.db, patients=12, months=2, seed=3, today=TODAY)
        assert services.db.key is not None
        _code_file(path).write_text(services.db.key.recovery_code(), encoding="ascii")
    finally:
        services.close()
    return path


def _code_file(path: Path) -> Path:
    return path.with_name(path.name + ".recovery-code")


def _recovery_code(path: Path) -> str | None:
    code = _code_file(path)
    return code.read_text(encoding="ascii") if code.exists() else None


def built_template(directory: Path) -> Path:
    """The demo clinic with its claims built, written once and copied per test."""
    path = demo_template(directory)
    services, _ = Services.open(f"sqlite:///{path}", recovery_code=_recovery_code(path))
    try:
        build_claims(services)
    finally:
        services.close()
    return path


def open_copy(template: Path, directory: Path) -> Services:
    target = directory / "clinic.sqlite3"
    shutil.copyfile(template, target)
    services, _ = Services.open(f"sqlite:///{target}", recovery_code=_recovery_code(template))
    return services


def close(services: Services) -> None:
    """Let queued background calls finish before the database goes away."""
    assert wait_for_idle(10_000)
    services.close()


def biller(services: Services) -> Actor:
    return services.auth.sign_in("biller", DEMO_PASSWORD)


def build_claims(services: Services) -> BuildSummary:
    return ClaimService(services.db).build(biller(services), today=TODAY)


def export_batches(services: Services, folder: Path) -> ExportSummary:
    return BatchService(services.db).export(biller(services), out_dir=folder, today=TODAY)


def claims_per_file(services: Services, count: int) -> None:
    with services.db.session() as session:
        session.execute(sa.update(ClearinghouseProfile).values(claims_per_file=count))


def blank_address(services: Services, patient_id: int) -> None:
    """Remove a patient's street address, which every claim needs (the scrubber flags it)."""
    with services.db.session() as session:
        patient = session.get(Patient, patient_id)
        assert patient is not None
        patient.address1 = ""


def acknowledgement_999(services: Services, batch_id: int, *, accepted: bool) -> str:
    """The clearinghouse's 999 for a batch: AK1 names its group, AK2 its transaction set."""
    with services.db.session() as session:
        batch = session.get(ClaimBatch, batch_id)
        assert batch is not None
        group, transaction = batch.group_control_number, batch.transaction_control_number
    code = "A" if accepted else "R"
    body = [
        "ST*999*0001*005010X231A1",
        f"AK1*HC*{group}*005010X222A1",
        f"AK2*837*{transaction:04d}*005010X222A1",
    ]
    if not accepted:
        body += ["IK3*NM1*8*2010BA*8", "IK4*9*67*7*BAD"]
    body += [f"IK5*{code}", f"AK9*{code}*1*1*{1 if accepted else 0}"]
    body.append(f"SE*{len(body) + 1}*0001")
    return (
        "ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*DEMOCLINIC     *261121*1200*^*00501*000000901*0*T*:~"
        "GS*FA*CLEARINGHOUSE*DEMOCLINIC*20261121*1200*901*X*005010X231A1~"
        + "~".join(body)
        + "~GE*1*901~IEA*1*000000901~"
    )
