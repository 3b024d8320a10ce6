"""Alembic environment: runs on the connection leerbot hands over (see leerbot.db.migrate),
or on LEERBOT_DATABASE_URL when a developer runs `alembic` by hand."""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from leerbot.config import DEFAULT_DATABASE_URL
from leerbot.db.engine import create_engine
from leerbot.db.models import Base
from leerbot.search.practices import is_index_table

config = context.config
target_metadata = Base.metadata


def _include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave the engine-specific full-text tables to the migrations that made them."""
    return not (type_ == "table" and name is not None and is_index_table(name))


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=_include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    async with engine.begin() as connection:
        await connection.run_sync(_configure)
    await engine.dispose()


connection = config.attributes.get("connection")
if connection is not None:
    _configure(connection)
else:
    asyncio.run(_run_with_own_engine(os.environ.get("LEERBOT_DATABASE_URL", DEFAULT_DATABASE_URL)))
