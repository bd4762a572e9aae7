r"""Settings kept on this computer: where the clinic database lives, remembered between starts.

    save_local_config(LocalConfig(database_url="postgresql://desk@db.clinic.lan/clinic?sslmode=require"))
    load_local_config().database_url   # -> the same URL, next start

The first-run wizard writes the file once the user has chosen the database; ``infusion-desk``
reads it when neither ``--database-url`` nor ``INFUSION_DESK_DATABASE_URL`` names one. It is
a small JSON file in the user's configuration folder (``~/.config/InfusionDesk/settings.json``
on Linux, ``%LOCALAPPDATA%\InfusionDesk\InfusionDesk\settings.json`` on Windows), or the file
``INFUSION_DESK_CONFIG`` names. A server password never goes in it: it lives in the keyring
(:func:`infusion_desk.services.vault.store_server_password`).

A file that cannot be read is reported (:class:`LocalConfigError`), never ignored: starting
on a fresh local database while the clinic's data is on a server would split the clinic in two.
Keys this version does not know are kept when the file is saved again.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from platformdirs import user_config_dir

from infusion_desk.services.errors import ServiceError

CONFIG_ENV = "INFUSION_DESK_CONFIG"
CONFIG_FILE = "settings.json"


class LocalConfigError(ServiceError):
    """The settings file exists but cannot be read or written; the message names it and the fix."""


@dataclass(frozen=True, slots=True)
class LocalConfig:
    database_url: str | None = None
    """The clinic database this computer opens; ``None``: not chosen yet (the wizard asks)."""


def config_path() -> Path:
    """Where this user's settings file is (``INFUSION_DESK_CONFIG`` overrides the usual folder)."""
    explicit = os.environ.get(CONFIG_ENV)
    if explicit:
        return Path(explicit).expanduser()
    return Path(user_config_dir("InfusionDesk", "InfusionDesk")) / CONFIG_FILE


def _read(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise LocalConfigError(f"Cannot read this computer's settings file {path}: {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise LocalConfigError(
            f"This computer's settings file {path} is not text. Delete it and start Infusion Desk again "
            "to choose the clinic database."
        ) from exc
    try:
        data = json.loads(text) if text.strip() else {}
    except ValueError as exc:
        raise LocalConfigError(
            f"This computer's settings file {path} is damaged (not JSON, line "
            f"{getattr(exc, 'lineno', '?')}). "
            "Fix it, or delete it and start Infusion Desk again to choose the clinic database."
        ) from exc
    if not isinstance(data, dict):
        raise LocalConfigError(
            f"This computer's settings file {path} should hold a JSON object such as "
            '{"database_url": "..."}. Fix it, or delete it and start Infusion Desk again.'
        )
    return data


def load_local_config(path: Path | None = None) -> LocalConfig:
    """The settings kept on this computer; all ``None`` when the file does not exist yet."""
    where = path or config_path()
    url = _read(where).get("database_url")
    if url is not None and (not isinstance(url, str) or not url.strip()):
        raise LocalConfigError(
            f'In this computer\'s settings file {where}, "database_url" should be a database URL. '
            "Fix it, or delete the file and start Infusion Desk again to choose the clinic database."
        )
    return LocalConfig(database_url=url.strip() if url else None)


def save_local_config(config: LocalConfig, path: Path | None = None) -> Path:
    """Write ``config`` (atomically, keeping keys this version does not know); return the file.

    Raises ``ValueError`` for a URL carrying a password: it belongs in the keyring.
    """
    if config.database_url is not None:
        # SQLAlchemy only when saving: reading the file at start-up must not wait for it to load
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            parsed = make_url(config.database_url)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {exc}") from exc
        if parsed.password:
            raise ValueError("keep the server password in the keyring, not in the saved database URL")
    where = path or config_path()
    data = _read(where)
    if config.database_url is None:
        data.pop("database_url", None)
    else:
        data["database_url"] = config.database_url
    partial = where.with_name(where.name + ".partial")
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        os.replace(partial, where)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise LocalConfigError(
            f"Cannot save this computer's settings to {where}: {exc.strerror}. Check that the folder "
            "can be written to."
        ) from exc
    return where
