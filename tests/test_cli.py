"""The command line: version, demo, database maintenance and a signed-in command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from infusion_desk import __version__
from infusion_desk.cli import main


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "infusion_desk", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"infusion-desk {__version__}"


def test_demo_then_find_a_patient_as_a_signed_in_user(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    assert (
        main(
            [
                "--database-url",
                url,
                "demo",
                "--patients",
                "15",
                "--months",
                "1",
                "--seed",
                "5",
                "--today",
                "2026-11-26",
            ]
        )
        == 0
    )
    assert "15 patients" in capsys.readouterr().out

    monkeypatch.delenv("INFUSION_DESK_USER", raising=False)
    assert main(["--database-url", url, "patients", "find", "a"]) == 2
    assert "--user" in capsys.readouterr().err

    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "wrong")
    assert main(["--database-url", url, "--user", "frontdesk", "patients", "find", "a"]) == 1
    assert "Wrong user name or password" in capsys.readouterr().err

    monkeypatch.setenv("INFUSION_DESK_PASSWORD", "demo")
    monkeypatch.setenv("INFUSION_DESK_USER", "frontdesk")
    assert main(["--database-url", url, "patients", "find", "DM00000", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 15 and all(row["mrn"].startswith("DM") for row in rows)


def test_demo_refuses_to_overwrite_a_clinic(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    assert main(["--database-url", url, "demo", "--patients", "2", "--months", "0"]) == 0
    assert main(["--database-url", url, "demo", "--patients", "2"]) == 1
    assert "already has a clinic" in capsys.readouterr().err


def test_db_status_and_upgrade(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'clinic.sqlite3'}"
    assert main(["--database-url", url, "db", "status"]) == 0
    assert "state: empty" in capsys.readouterr().out
    assert main(["--database-url", url, "db", "upgrade"]) == 0
    assert "Upgraded" in capsys.readouterr().out
    assert main(["--database-url", url, "db", "upgrade"]) == 0
    assert "already at schema" in capsys.readouterr().out
    assert main(["--database-url", url, "db", "status"]) == 0
    assert "state: up to date" in capsys.readouterr().out


def test_environment_variable_selects_the_database(tmp_path: Path) -> None:
    import os

    path = tmp_path / "env.sqlite3"
    env = {**os.environ, "INFUSION_DESK_DATABASE_URL": f"sqlite:///{path}"}

    # a computer with no keyring (the child process has none): a passphrase is needed first
    refused = run("db", "upgrade", env=env)
    assert refused.returncode == 1
    assert "INFUSION_DESK_PASSPHRASE" in refused.stderr
    assert not path.exists()

    env["INFUSION_DESK_PASSPHRASE"] = "correct horse battery"
    result = run("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert str(path) in result.stdout
    assert not path.read_bytes().startswith(b"SQLite format 3")  # encrypted at rest

    before = path.read_bytes()
    wrong = run("db", "status", env={**env, "INFUSION_DESK_PASSPHRASE": "incorrect horse battery"})
    assert wrong.returncode == 1
    assert "That passphrase does not open env.sqlite3" in wrong.stderr
    assert path.read_bytes() == before
    assert "state: up to date" in run("db", "status", env=env).stdout
