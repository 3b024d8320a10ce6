"""Migration 0008 (moderators hide text) on a database that is in use: on SQLite, adding a
foreign key copies the agenda and practice tables; nothing that refers to them (supports,
status steps, links, merges, revisions, the search index) may be lost on the way up or down,
and foreign keys are on again afterwards. The same test runs on PostgreSQL when configured."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from leerbot.db import migrate
from leerbot.db.engine import create_engine, make_sessionmaker
from leerbot.search import practices as search

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
COUNTED = (
    "agenda_items",
    "agenda_supports",
    "agenda_status_changes",
    "agenda_links",
    "practices",
    "practice_revisions",
    "practice_links",
)


async def _fill_at_0007(engine: AsyncEngine) -> None:
    rows = [
        "INSERT INTO communities (id, platform_id, name, locale, created_at)"
        " VALUES (1, 'g', 'CoL', 'nl', :now)",
        "INSERT INTO members (id, community_id, platform_id, display_name, is_moderator,"
        " is_coordinator, share_lived_experience, created_at, updated_at)"
        " VALUES (1, 1, 'anna', 'Anna', false, false, false, :now, :now)",
        "INSERT INTO agenda_items (id, community_id, title, description, theme, kind, level,"
        " author_id, anonymous, status, support_count, created_at, updated_at) VALUES"
        " (1, 1, 'Meer intervisie', 'D', 'samenwerking', 'wens', 'organisatie', 1, false,"
        " 'nieuw', 1, :now, :now),"
        " (2, 1, 'Intervisie voor iedereen', 'D', 'samenwerking', 'wens', 'organisatie', 1,"
        " false, 'nieuw', 0, :now, :now)",
        "UPDATE agenda_items SET merged_into_id = 1 WHERE id = 2",
        "INSERT INTO agenda_supports (item_id, member_id, created_at) VALUES (1, 1, :now)",
        "INSERT INTO agenda_status_changes (item_id, from_status, to_status, reason,"
        " changed_by_id, created_at) VALUES (1, NULL, 'nieuw', '', NULL, :now)",
        "INSERT INTO agenda_links (item_id, target_type, target_id) VALUES (1, 'practice', 1)",
        "INSERT INTO practices (id, community_id, title, context, what_we_do, expert_role,"
        " why_it_works, result, pitfalls, conditions, funding, tags, author_id, anonymous,"
        " state, created_at, updated_at, shared_at) VALUES (1, 1, 'Wandelen met buren', '',"
        " 'Samen wandelen in de wijk', '', '', '', '', '', '', '[]', 1, false, 'shared',"
        " :now, :now, :now)",
        "INSERT INTO practice_revisions (practice_id, editor_id, snapshot, created_at)"
        " VALUES (1, 1, '{}', :now)",
        "INSERT INTO practice_links (practice_id, target_type, target_id) VALUES (1, 'session', 7)",
    ]
    async with engine.begin() as conn:
        for statement in rows:
            await conn.execute(text(statement), {"now": NOW} if ":now" in statement else {})
    async with make_sessionmaker(engine)() as db, db.begin():
        await search.index(db, 1, "Wandelen met buren", "Samen wandelen in de wijk")


async def _state(engine: AsyncEngine) -> dict[str, object]:
    async with engine.connect() as conn:
        counts = {
            table: (await conn.execute(text(f"SELECT count(*) FROM {table}"))).scalar()
            for table in COUNTED
        }
        merged = (
            await conn.execute(text("SELECT merged_into_id FROM agenda_items WHERE id = 2"))
        ).scalar()
        foreign_keys = (
            (await conn.execute(text("PRAGMA foreign_keys"))).scalar()
            if conn.dialect.name == "sqlite"
            else 1
        )
    async with make_sessionmaker(engine)() as db:
        found = [hit.practice_id for hit in await search.search(db, "wandelen")]
    return {"counts": counts, "merged": merged, "found": found, "foreign_keys": foreign_keys}


async def test_0008_keeps_every_row_that_refers_to_points_and_practices(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.downgrade(engine, "0007")
        await _fill_at_0007(engine)
        before = await _state(engine)
        assert before["counts"] == dict.fromkeys(COUNTED, 1) | {"agenda_items": 2}
        assert before["merged"] == 1 and before["found"] == [1]

        await migrate.upgrade(engine, "0008")
        assert await _state(engine) == before
        async with engine.connect() as conn:
            hidden = (
                await conn.execute(
                    text("SELECT count(*) FROM agenda_items WHERE hidden_at IS NULL")
                )
            ).scalar()
        assert hidden == 2, "nothing is hidden by the migration"

        await migrate.downgrade(engine, "0007")
        assert await _state(engine) == before
        await migrate.upgrade(engine)
        assert await _state(engine) == before
    finally:
        await engine.dispose()
