"""Reading and writing one clinic-wide setting (a JSON value under a key) inside a unit of work.

Each feature keeps its own keys, defaults and validation; this is only the storage, so a
value is read and replaced the same way everywhere:

    with db.session() as session:
        days = read_setting(session, "statements.cycle_days")  # None when never set
        write_setting(session, "statements.cycle_days", 30)
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from infusion_desk.models import Setting


def read_setting(session: Session, key: str) -> Any:
    """The stored value, or ``None`` when the setting was never saved."""
    row = session.get(Setting, key)
    return None if row is None else row.value


def write_setting(session: Session, key: str, value: object) -> None:
    """Store ``value`` (anything JSON can hold) under ``key``, replacing what was there."""
    row = session.get(Setting, key)
    if row is None:
        session.add(Setting(key=key, value=value))
    else:
        row.value = value
