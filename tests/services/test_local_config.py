"""This computer's settings file: where the clinic database lives, remembered between starts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infusion_desk.services.local_config import (
    CONFIG_ENV,
    LocalConfig,
    LocalConfigError,
    config_path,
    load_local_config,
    save_local_config,
)

SERVER = "postgresql+psycopg://desk@db.example.test:5432/clinic?sslmode=require"


def test_nothing_chosen_before_the_file_exists(tmp_path: Path) -> None:
    assert load_local_config(tmp_path / "settings.json") == LocalConfig(database_url=None)


def test_the_chosen_database_is_read_back_at_the_next_start(tmp_path: Path) -> None:
    path = tmp_path / "folder not made yet" / "settings.json"
    assert save_local_config(LocalConfig(SERVER), path) == path
    assert load_local_config(path).database_url == SERVER
    assert json.loads(path.read_text(encoding="utf-8")) == {"database_url": SERVER}
    assert not path.with_name("settings.json.partial").exists()


def test_settings_of_a_later_version_survive_a_save(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"database_url": "sqlite:///old.sqlite3", "theme": "dark"}), encoding="utf-8")
    save_local_config(LocalConfig("sqlite:////data/clinic.sqlite3"), path)
    assert json.loads(path.read_text(encoding="utf-8")) == {
        "database_url": "sqlite:////data/clinic.sqlite3", "theme": "dark",
    }


def test_a_server_password_is_never_written_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    with pytest.raises(ValueError, match="keyring"):
        save_local_config(LocalConfig("postgresql://desk:Secret-Word-1@db.example.test/clinic"), path)
    assert not path.exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "damaged"),
        ("[1, 2]", "JSON object"),
        ('{"database_url": 42}', "should be a database URL"),
        ('{"database_url": "  "}', "should be a database URL"),
    ],
)
def test_a_damaged_file_is_reported_with_its_name_not_ignored(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "settings.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(LocalConfigError, match=message) as caught:
        load_local_config(path)
    assert str(path) in str(caught.value)


def test_the_environment_can_name_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "workstation.json"
    monkeypatch.setenv(CONFIG_ENV, str(path))
    assert config_path() == path
    save_local_config(LocalConfig(SERVER))
    assert load_local_config().database_url == SERVER
