"""Async engine and session factory: one session per unit of work.

The connection pool is sized from the work a bot runs at once, so that no unit of work
waits for a connection (SQLAlchemy's default, 5 + 10 overflow, was exhausted by 1,000
reminders due in the same ten seconds: jobs failed after their claim and were lost):

- `JOB_SLOTS` scheduled jobs run at the same time (`leerbot.scheduling`), each holding at
  most one connection at a time;
- `INTERACTION_WORK_SLOTS` acknowledged interactions do their work at the same time (the
  Discord adapter); the rest wait, already acknowledged;
- `SPARE_CONNECTIONS` for the rest: the scheduler's lease heartbeat, arming, the sweep, a
  form's quick read, the console.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

# aiosqlite logs every statement with its parameters at DEBUG level, and SQLAlchemy's engine
# logger can do the same: that would put an anonymous answer next to the member who sent it
# in the log. Keep both quiet whatever level the rest of the bot logs at.
for _name in ("aiosqlite", "sqlalchemy.engine"):
    logging.getLogger(_name).setLevel(logging.WARNING)


JOB_SLOTS = 8
INTERACTION_WORK_SLOTS = 8
SPARE_CONNECTIONS = 4
POOL_SIZE = JOB_SLOTS + INTERACTION_WORK_SLOTS + SPARE_CONNECTIONS
POOL_OVERFLOW = 4
"""Beyond the pool, briefly: work that does not go through the slots (a form's quick read,
arming after commits) at a peak."""


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """Create the engine; on SQLite turn on foreign keys and WAL so deletes cascade and
    readers do not block the writer."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        kwargs.setdefault("connect_args", {"timeout": 30})
        if parsed.database and parsed.database != ":memory:":
            kwargs.setdefault("pool_size", POOL_SIZE)
            kwargs.setdefault("max_overflow", POOL_OVERFLOW)
        engine = create_async_engine(url, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # deleted rows are overwritten with zeros, not left in free space in the file
            # (an anonymous answer changed or rewritten at close leaves no old copy behind)
            cursor.execute("PRAGMA secure_delete=ON")
            if parsed.database and parsed.database != ":memory:":
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine.sync_engine, "savepoint")
        def _savepoint_inside_a_write_transaction(conn: Any, _name: str) -> None:
            # Python's sqlite3 opens a transaction only before the first INSERT, UPDATE or
            # DELETE; a SAVEPOINT before that opens one of its own, a deferred one. Reads in
            # it then fix a snapshot, and its first write fails at once with "database is
            # locked" (SQLITE_BUSY_SNAPSHOT, no busy wait) when another connection wrote
            # since: on a busy machine, with concurrent clicks or a job beside a command.
            # Its RELEASE would also commit on its own, half a unit of work. So take the
            # write lock first (BEGIN IMMEDIATE waits its turn, up to the busy timeout); the
            # unit of work's commit or rollback ends it.
            driver = conn.connection.driver_connection
            if not getattr(driver, "in_transaction", True):
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if kwargs.get("poolclass") is None:
        kwargs.setdefault("pool_size", POOL_SIZE)
        kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    return create_async_engine(url, **kwargs)


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
