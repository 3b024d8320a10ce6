"""Migration 0010 (forget-me leaves nothing) on a database that is in use: on SQLite it copies
every table with an integer key of its own to give it AUTOINCREMENT, so that a deleted
member's key is never handed out again. Not one row may be lost on the way up or down
(foreign keys are off while migrating: dropping the old copy of `members` would otherwise
cascade into everything), and keys the audit trail still names are not handed out either.
On PostgreSQL (sequences never reuse a value) only the saved searches' owner is added."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from leerbot.db import migrate
from leerbot.db.engine import create_engine, make_sessionmaker
from leerbot.db.models import AUTOINCREMENT_TABLES, Base, UTCDateTime
from leerbot.search import practices as search

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _value(table: str, column: sa.Column[Any]) -> Any:
    """One plausible value for a column (every key and reference is 1: each table has one
    row with key 1, so every reference holds)."""
    kind = column.type
    if column.primary_key and isinstance(kind, sa.String):
        return "a" * 32
    if isinstance(kind, sa.Integer):
        return 1
    if isinstance(kind, sa.Boolean):
        return False
    if isinstance(kind, UTCDateTime):
        return NOW
    if isinstance(kind, sa.DateTime):
        return NOW.replace(tzinfo=None)
    if isinstance(kind, sa.Date):
        return date(2026, 1, 5)
    if isinstance(kind, sa.JSON):
        return {}
    length = getattr(kind, "length", None) or 40
    return f"{table}.{column.name}"[:length]


async def _columns(conn: AsyncConnection, table: str) -> set[str]:
    return await conn.run_sync(
        lambda sync: {c["name"] for c in sa.inspect(sync).get_columns(table)}
    )


async def _tables(conn: AsyncConnection) -> set[str]:
    return await conn.run_sync(lambda sync: set(sa.inspect(sync).get_table_names()))


async def _fill_every_table(engine: AsyncEngine) -> None:
    """One row in every table there is at this revision, with the columns it has."""
    async with engine.begin() as conn:
        tables = await _tables(conn)
        for model in Base.metadata.sorted_tables:
            if model.name not in tables:
                continue  # made by a later migration
            present = await _columns(conn, model.name)
            columns = [c for c in model.columns if c.name in present]
            lightweight = sa.table(model.name, *(sa.column(c.name, c.type) for c in columns))
            await conn.execute(
                lightweight.insert().values({c.name: _value(model.name, c) for c in columns})
            )
    async with make_sessionmaker(engine)() as db, db.begin():
        await search.index(db, 1, "Wandelen met buren", "Samen wandelen in de wijk")


async def _state(engine: AsyncEngine, tables: set[str]) -> dict[str, Any]:
    """The rows of `tables` (those there were at 0009), the foreign keys, the search."""
    async with engine.connect() as conn:
        counts = {
            name: (await conn.execute(text(f'SELECT count(*) FROM "{name}"'))).scalar()
            for name in sorted(tables)
        }
        foreign_keys = (
            (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            if conn.dialect.name == "sqlite"
            else 1
        )
    async with make_sessionmaker(engine)() as db:
        found = [hit.practice_id for hit in await search.search(db, "wandelen")]
    return {"counts": counts, "found": found, "foreign_keys": foreign_keys}


async def _autoincrement_tables(engine: AsyncEngine) -> set[str]:
    async with engine.connect() as conn:
        rows = await conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'table'"))
        return {name for name, sql in rows if "AUTOINCREMENT" in (sql or "").upper()}


async def test_0010_keeps_every_row_of_every_table(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.downgrade(engine, "0009")
        await _fill_every_table(engine)
        async with engine.connect() as conn:
            tables = await _tables(conn) & {t.name for t in Base.metadata.sorted_tables}
        assert len(tables) > 20
        before = await _state(engine, tables)
        assert set(before["counts"].values()) == {1} and before["found"] == [1]
        assert before["foreign_keys"] == 1

        await migrate.upgrade(engine, "0010")
        assert await _state(engine, tables) == before
        async with engine.connect() as conn:
            owner = (await conn.execute(text("SELECT member_id FROM saved_searches"))).scalar()
        assert owner is None, "a search saved before owners were kept has none"

        await migrate.downgrade(engine, "0009")
        assert await _state(engine, tables) == before
        async with engine.connect() as conn:
            assert "member_id" not in await _columns(conn, "saved_searches")
        await migrate.upgrade(engine)
        assert await _state(engine, tables) == before
    finally:
        await engine.dispose()


async def test_every_table_with_a_key_of_its_own_has_autoincrement_on_sqlite(
    database_url: str,
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's sequences never hand out a value twice")
    expected = {
        t.name
        for t in Base.metadata.sorted_tables
        if len(t.primary_key.columns) == 1
        and isinstance(next(iter(t.primary_key.columns)).type, sa.Integer)
        and not next(iter(t.primary_key.columns)).foreign_keys
    }
    assert set(AUTOINCREMENT_TABLES) == expected
    assert {"members", "audit_entries", "saved_searches", "agenda_items"} <= expected
    engine = create_engine(database_url)
    try:
        assert expected <= await _autoincrement_tables(engine)  # a fresh, migrated database
        await migrate.downgrade(engine, "0009")
        assert not await _autoincrement_tables(engine)
        await migrate.upgrade(engine)
        assert expected <= await _autoincrement_tables(engine)
    finally:
        await engine.dispose()


async def test_keys_named_in_the_audit_trail_are_not_handed_out_again(database_url: str) -> None:
    """Members deleted before 0010 (SQLite could still reuse their keys): the audit trail
    names member 7 as a target and member 9 in its details, and the member with the highest
    key (3) is gone. The next member gets 10, not 3."""
    if not database_url.startswith("sqlite"):
        pytest.skip("PostgreSQL's sequences never hand out a value twice")
    engine = create_engine(database_url)
    statements = [
        "INSERT INTO communities (id, platform_id, name, locale, created_at, role_channels)"
        " VALUES (1, 'g', 'CoL', 'nl', :now, '{}')",
        *(
            "INSERT INTO members (id, community_id, platform_id, display_name, is_moderator,"
            f" is_coordinator, share_lived_experience, created_at, updated_at) VALUES ({i}, 1,"
            f" 'm{i}', 'M{i}', false, false, false, :now, :now)"
            for i in (1, 2, 3)
        ),
        "DELETE FROM members WHERE id = 3",
        "INSERT INTO audit_entries (community_id, actor_id, action, target_type, target_id,"
        " details, created_at) VALUES (1, NULL, 'profile.updated', 'member', '7',"
        " '{\"fields\": [\"role\"]}', :now), (1, 1, 'session.attendance', 'session_occurrence',"
        " '4', '{\"member\": 9, \"attended\": true}', :now), (1, 1, 'agenda.proposed',"
        " 'agenda_item', '12', '{}', :now)",
    ]
    try:
        await migrate.downgrade(engine, "0009")
        async with engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement), {"now": NOW.replace(tzinfo=None)})
        await migrate.upgrade(engine)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO members (community_id, platform_id, display_name, is_moderator,"
                    " is_coordinator, share_lived_experience, created_at, updated_at)"
                    " VALUES (1, 'new', 'Nieuw', false, false, false, :now, :now)"
                ),
                {"now": NOW.replace(tzinfo=None)},
            )
            new_id = (
                await conn.execute(text("SELECT id FROM members WHERE platform_id = 'new'"))
            ).scalar()
            sequence = dict(
                (await conn.execute(text("SELECT name, seq FROM sqlite_sequence"))).all()
            )
        assert new_id == 10
        assert sequence["agenda_items"] == 12
    finally:
        await engine.dispose()
