"""A unit of work is one transaction, also with a nested one inside, on both databases.

On SQLite, Python's driver opens a transaction only before the first write; a SAVEPOINT
before that used to open one of its own, whose RELEASE committed half the unit of work and
whose first write after a read failed at once with "database is locked" when another
connection had written meanwhile (a busy machine made that common: concurrent clicks, a job
beside a command). `leerbot.db.engine` now takes the write lock first."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url

from leerbot.app import App
from leerbot.db.models import Community


async def communities(app: App) -> list[str]:
    async with app.sessionmaker() as db:
        return list(await db.scalars(select(Community.platform_id).order_by(Community.id)))


async def test_a_rolled_back_unit_of_work_leaves_nothing_also_from_a_nested_one(app: App) -> None:
    class Refused(Exception):
        pass

    with pytest.raises(Refused):
        async with app.sessionmaker() as db, db.begin():
            async with db.begin_nested():
                db.add(Community(platform_id="half", name="Half"))
            raise Refused  # after the nested one was released
    assert await communities(app) == []


async def test_on_sqlite_a_nested_transaction_holds_the_write_lock_until_the_end(
    app: App,
) -> None:
    if app.engine.dialect.name != "sqlite":
        pytest.skip("SQLite's locking")
    path = make_url(str(app.engine.url)).database
    assert path
    other = sqlite3.connect(path, timeout=0, isolation_level=None)  # another process, say
    try:
        async with app.sessionmaker() as db, db.begin():
            async with db.begin_nested():
                assert await db.scalar(select(func.count(Community.id))) == 0  # read first
                # nobody may write between this unit of work's read and its write ...
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")  # what a write needs first
                db.add(Community(platform_id="mine", name="Mijn"))
                await db.flush()  # ... so its write cannot find its snapshot stale
        other.execute("BEGIN IMMEDIATE")  # and once it committed, the other one may write
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert await communities(app) == ["mine"]
