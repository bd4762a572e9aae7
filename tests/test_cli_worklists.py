"""``infusion-desk worklists``: the four front-desk queues from the command line."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from infusion_desk.cli import main
from infusion_desk.models import EligibilityCheck
from infusion_desk.models.enums import Role
from infusion_desk.services.app import Services
from tests.conftest import make_actor
from tests.services.frontdesk_seed import clinic_today, seed_desk


@pytest.fixture
def url(sqlite_services: Services, sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    seed_desk(sqlite_services, day=clinic_today() + timedelta(days=2))
    with sqlite_services.db.session() as session:
        session.execute(sa.delete(EligibilityCheck))
    make_actor(sqlite_services, Role.FRONT_DESK, "desk")
    monkeypatch.setenv("INFUSION_DESK_USER", "desk")
    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "pw-front_desk")
    return sqlite_url


def test_worklists_as_json(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    today = clinic_today()
    assert main(["--database-url", url, "worklists", "--format", "json", "--today", today.isoformat()]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["today"] == today.isoformat()
    items = data["queues"]["unverified_coverage"]["items"]
    assert [(i["mrn"], i["due"]) for i in items] == [("DM0000101", (today + timedelta(days=2)).isoformat())]
    assert data["queues"]["missing_claim_data"]["items"] == []


def test_worklists_as_a_report(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--database-url", url, "worklists"]) == 0
    out = capsys.readouterr().out
    assert "Coverage to verify (next 7 days): 1" in out
    assert "DM0000101" in out and "never been verified" in out
    assert "Orders to renew: 0" in out


def test_worklists_needs_a_user(sqlite_url: str, monkeypatch: pytest.MonkeyPatch,
                                capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delenv("INFUSION_DESK_USER", raising=False)
    assert main(["--database-url", sqlite_url, "worklists"]) == 2
    assert "needs a user" in capsys.readouterr().err
