"""``infusion-desk appeals``: a demo claim denied by a posted 835, its appeal letter and enclosures, the tracking list.

Needs ``cli_appeals`` wired into ``infusion_desk/cli.py`` as ``cli_claims`` is.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from infusion_desk.billing.remittance import CasAdjustment, ClaimPayment, Remittance, ServicePayment
from infusion_desk.billing.x12.read837 import read_837p
from infusion_desk.cli import main
from infusion_desk.models import Payer
from infusion_desk.models.enums import EraPosting
from infusion_desk.services.app import Services
from infusion_desk.services.batches import BatchService
from infusion_desk.services.claims import ClaimService
from infusion_desk.services.demo import generate_demo
from infusion_desk.services.remittances import RemittanceService
from tests.billing.x12.remit_fixtures import write_835

TODAY = date(2026, 11, 20)


@pytest.fixture
def denied(
    sqlite_services: Services, sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, str, str]:
    """A demo clinic whose first exported claim the payer denied whole (CO-50, not medically necessary).

    Returns the database URL, the denied claim's number and a claim number with no denial.
    """
    services = sqlite_services
    generate_demo(services.db, patients=10, months=2, seed=5, today=TODAY)
    biller = services.auth.sign_in("biller", "demo")
    ClaimService(services.db).build(biller, today=TODAY)
    summary = BatchService(services.db).export(biller, out_dir=tmp_path / "outbox", today=TODAY)
    claims = [c for f in summary.files for c in read_837p(f.path.read_text(encoding="ascii"))]
    claim, other = claims[0], claims[1]
    with services.db.session() as session:
        session.execute(sa.update(Payer).values(era_posting=EraPosting.ALL))
    lines = tuple(
        ServicePayment(
            line.code, line.modifiers, line.charge, Decimal("0.00"), line_control_number=line.control_number,
            adjustments=(CasAdjustment("CO", "50", line.charge),),
        )
        for line in claim.lines
    )
    total = sum((line.charge for line in claim.lines), Decimal("0.00"))
    payment = ClaimPayment(claim.claim_number, "4", total, Decimal("0.00"), lines=lines,
                           payer_claim_control_number="ICN-CLI-1")
    RemittanceService(services.db).import_text(
        biller,
        write_835(Remittance("EFT-CLI", "1999999999", "FICTIONAL HEALTH PLAN", "NON", TODAY, Decimal("0.00"),
                             claims=(payment,))),
        "denial.835",
    )
    monkeypatch.setenv("INFUSION_DESK_USER", "biller")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "demo")
    return sqlite_url, claim.claim_number, other.claim_number


def _text(path: Path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages).split())


def test_letter_writes_the_appeal_of_the_claims_newest_denial_with_its_enclosures(
    denied: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, number, _other = denied
    out = tmp_path / "appeal.pdf"
    folder = tmp_path / "enclosures"
    assert main(["--database-url", url, "appeals", "letter", number, "--out", str(out),
                 "--enclosures", str(folder)]) == 0
    printed = capsys.readouterr()
    assert printed.out.splitlines()[0] == str(out)
    assert "medical necessity appeal" in printed.err
    text = _text(out)
    for expected in (number, "ICN-CLI-1", "Appeal of medical necessity denial", "CO-50", "Dear Appeals Reviewer"):
        assert expected in text, expected
    assert sorted(p.name for p in folder.iterdir()) == [
        f"{number}-administration-record.pdf", f"{number}-authorization-summary.pdf"
    ]
    assert "Infusion administration record" in _text(folder / f"{number}-administration-record.pdf")

    # the same draft again (not a second appeal), and the tracking list shows it
    assert main(["--database-url", url, "appeals", "letter", number, "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["--database-url", url, "appeals", "list", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["claim"], r["status"], r["level"]) for r in rows] == [(number, "draft", "1")]
    assert main(["--database-url", url, "appeals", "list"]) == 0
    assert number in capsys.readouterr().out


def test_a_claim_without_a_denial_is_refused_with_the_reason(
    denied: tuple[str, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url, _number, other = denied
    out = tmp_path / "appeal.pdf"
    assert main(["--database-url", url, "appeals", "letter", other, "--out", str(out)]) == 1
    assert f"Claim {other} has no denial to appeal" in capsys.readouterr().err
    assert not out.exists()
    assert main(["--database-url", url, "appeals", "letter", "C9999999", "--out", str(out)]) == 1
    assert "There is no claim C9999999" in capsys.readouterr().err
    assert main(["--database-url", url, "appeals", "list"]) == 0
    assert "No appeals." in capsys.readouterr().out
