"""Bring a database to the code's schema, and refuse one that is newer than the code.

Migrations ship inside the package so that `pip install leerbot` is enough to upgrade.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


class DatabaseTooNew(Exception):
    """The database was upgraded by a newer leerbot than this one."""

    def __init__(self, revision: str) -> None:
        self.revision = revision
        super().__init__(revision)


@dataclass(frozen=True)
class SchemaState:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def _state(connection: Connection) -> SchemaState:
    script = ScriptDirectory.from_config(alembic_config())
    head = script.get_current_head()
    assert head is not None, "no migrations shipped"
    current = MigrationContext.configure(connection).get_current_revision()
    if current is not None:
        try:
            script.get_revision(current)
        except Exception:
            raise DatabaseTooNew(current) from None
    return SchemaState(current=current, head=head)


async def schema_state(engine: AsyncEngine) -> SchemaState:
    async with engine.connect() as connection:
        return await connection.run_sync(_state)


def _upgrade(connection: Connection, revision: str) -> None:
    _state(connection)  # raises DatabaseTooNew before touching anything
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, revision)
    if _state(connection).up_to_date:
        _check_autoincrement(connection)


def _downgrade(connection: Connection, revision: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.downgrade(cfg, revision)


def _check_foreign_keys(connection: Connection) -> None:
    """On SQLite, refuse to commit a migration that left a row pointing at nothing."""
    if connection.dialect.name == "sqlite":
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"migration left broken references: {broken[:5]}")


def _check_autoincrement(connection: Connection) -> None:
    """On SQLite, refuse to commit a schema where a table lost AUTOINCREMENT (keys of deleted
    rows, such as a deleted member's, would be handed out again). Reflection does not see
    the keyword, so a migration that copies such a table (batch mode) must pass
    `table_kwargs={"sqlite_autoincrement": True}`, and one that creates a table must pass
    `sqlite_autoincrement=True`."""
    if connection.dialect.name != "sqlite":
        return
    from leerbot.db.models import AUTOINCREMENT_TABLES

    rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    created = {name: sql or "" for name, sql in rows}
    lost = [t for t in AUTOINCREMENT_TABLES if "AUTOINCREMENT" not in created.get(t, "").upper()]
    if lost:
        raise RuntimeError(
            f"migration left tables without AUTOINCREMENT: {lost}; copy them with "
            "table_kwargs={'sqlite_autoincrement': True}"
        )


@asynccontextmanager
async def _migrating(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for migrations. On SQLite, changing a table in batch mode copies it and
    drops the old one; with foreign keys on, that drop deletes (cascades to) every row that
    refers to the table: supports, status steps, links, revisions. So foreign keys are off
    while migrating (the pragma works only outside a transaction) and checked before commit,
    and on again before the connection goes back to the pool (Alembic's advice for SQLite)."""
    async with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            await connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            await connection.commit()
        try:
            yield connection
        finally:
            if sqlite:
                await connection.rollback()
                await connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                await connection.commit()


async def upgrade(engine: AsyncEngine, revision: str = "head") -> SchemaState:
    """Apply all migrations up to `revision`; returns the state afterwards."""
    async with _migrating(engine) as connection, connection.begin():
        await connection.run_sync(_upgrade, revision)
        await connection.run_sync(_check_foreign_keys)
    return await schema_state(engine)


async def downgrade(engine: AsyncEngine, revision: str = "base") -> None:
    async with _migrating(engine) as connection, connection.begin():
        await connection.run_sync(_downgrade, revision)
        await connection.run_sync(_check_foreign_keys)
