"""Persistent X12 control numbers: each name counts up by one, never reused, safe with several workstations.

    with db.session() as session:
        isa13 = next_control_number(session, INTERCHANGE)   # 1, then 2, ... even across restarts

The counter row is created on first use (``INSERT ... ON CONFLICT DO NOTHING``), then
incremented with one ``UPDATE ... SET last_value = last_value + 1 ... RETURNING``: the
database's row lock (PostgreSQL) or write lock (SQLite) makes the read and the write one
step, so two workstations exporting at the same moment get different numbers. The number
belongs to the caller's transaction: if the export fails and rolls back, so does the number.
"""

from __future__ import annotations

from typing import cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from infusion_desk.models import ControlNumber

INTERCHANGE = "interchange"
"""ISA13/IEA02, unique per sender across every file sent to the clearinghouse (270, 837...)."""
GROUP = "group"
"""GS06/GE02."""

MAX_X12_CONTROL_NUMBER = 999_999_999


def next_control_number(session: Session, name: str) -> int:
    """The next value of counter ``name`` (1 on first use), within the caller's transaction."""
    if not name or len(name) > 40:
        raise ValueError(f"control number name {name!r} must be 1 to 40 characters")
    table = cast(sa.Table, ControlNumber.__table__)
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            insert(table).values(name=name, last_value=0).on_conflict_do_nothing(index_elements=["name"])
        )
    else:  # pragma: no cover - the app runs on SQLite and PostgreSQL only
        exists = session.execute(
            sa.select(table.c.name).where(table.c.name == name).with_for_update()
        ).first()
        if exists is None:
            session.execute(sa.insert(table).values(name=name, last_value=0))
    value = session.execute(
        sa.update(table)
        .where(table.c.name == name)
        .values(last_value=table.c.last_value + 1)
        .returning(table.c.last_value)
    ).scalar_one()
    return int(value)


def reserve_control_numbers(session: Session, name: str, count: int) -> range:
    """``count`` consecutive values of counter ``name`` in one step (for numbering many claims at once)."""
    if count < 1:
        raise ValueError(f"cannot reserve {count} control numbers")
    first = next_control_number(session, name)
    if count > 1:
        table = cast(sa.Table, ControlNumber.__table__)
        session.execute(
            sa.update(table).where(table.c.name == name).values(last_value=table.c.last_value + (count - 1))
        )
    return range(first, first + count)
