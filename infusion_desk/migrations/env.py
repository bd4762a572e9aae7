"""Alembic environment: runs on the connection the app (or the ``alembic`` command) gives it."""

from __future__ import annotations

import os
from typing import Any

from alembic import context

from infusion_desk.models import Base
from infusion_desk.models.base import ScaledDecimal, UTCDateTime
from infusion_desk.models.db import DATABASE_URL_ENV

config = context.config
target_metadata = Base.metadata


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Render our column types as the plain types they store, so revisions import nothing of ours."""
    if type_ == "type" and isinstance(obj, ScaledDecimal):
        return "sa.BigInteger()"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Any) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ.get(DATABASE_URL_ENV)
    if not url:
        raise SystemExit("Set sqlalchemy.url or INFUSION_DESK_DATABASE_URL to run migrations.")
    # the same way in as the app's: an encrypted file needs its key
    from infusion_desk.services.vault import open_database

    engine = open_database(url).db.engine
    with engine.begin() as conn:
        _run(conn)
