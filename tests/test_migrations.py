"""Migrations: the same scripts build the models' schema on SQLite and PostgreSQL, go down
cleanly, and a database newer than the code is refused before anything is written."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from leerbot.app import open_app
from leerbot.config import Settings
from leerbot.db import migrate
from leerbot.db.engine import create_engine
from leerbot.db.models import Base
from leerbot.search.practices import is_index_table


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(
                        sync,
                        opts={
                            "include_name": lambda name, type_, _: (
                                not (type_ == "table" and name and is_index_table(name))
                            )
                        },
                    ),
                    Base.metadata,
                )
            )
        assert diff == []
        state = await migrate.schema_state(engine)
        assert state.up_to_date
    finally:
        await engine.dispose()


async def test_downgrade_to_nothing_and_up_again(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.downgrade(engine, "base")
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {t for t in tables if not t.startswith("sqlite_")} <= {"alembic_version"}
        state = await migrate.upgrade(engine)
        assert state.up_to_date
        async with engine.connect() as conn:
            tables = await conn.run_sync(lambda sync: set(inspect(sync).get_table_names()))
        assert {t.name for t in Base.metadata.sorted_tables} <= tables
    finally:
        await engine.dispose()


async def test_database_newer_than_code_is_refused(settings: Settings, database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '9999_future'"))
    finally:
        await engine.dispose()
    try:
        with pytest.raises(migrate.DatabaseTooNew) as caught:
            async with open_app(settings):
                pass
        assert caught.value.revision == "9999_future"
    finally:  # the PostgreSQL database is shared by the whole run: put it back
        engine = create_engine(database_url)
        head = migrate.ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": head})
        await engine.dispose()
