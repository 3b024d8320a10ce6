"""Migration 0012 (calendar identity) on a database that is in use: every existing community
gets its own random calendar key, every series starts at SEQUENCE 0, and nothing that refers
to a community is lost when SQLite copies the table (on the way up or down)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import text

from leerbot.db import migrate
from leerbot.db.engine import create_engine

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
ROWS = (
    "INSERT INTO communities (id, platform_id, name, locale, role_channels, created_at)"
    " VALUES (1, 'guild-a', 'A', 'nl', '{}', :now), (2, 'guild-b', 'B', 'nl', '{}', :now)",
    "INSERT INTO members (id, community_id, platform_id, display_name, is_moderator,"
    " is_coordinator, share_lived_experience, created_at, updated_at)"
    " VALUES (1, 1, 'anna', 'Anna', false, false, false, :now, :now)",
    "INSERT INTO session_series (id, community_id, title, method, timezone,"
    " first_start_local, duration_minutes, freq, interval, skipped_dates, location_kind,"
    " location, capacity, created_at, updated_at) VALUES (1, 2, 'Intervisie', 'casusronde',"
    " 'Europe/Amsterdam', '2027-03-09 19:30:00', 120, 'weekly', 1, '[]', 'address',"
    " 'Utrecht', 8, :now, :now)",
)


async def test_0012_gives_each_community_its_own_calendar_key(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        await migrate.downgrade(engine, "0011")
        async with engine.begin() as conn:
            for statement in ROWS:
                await conn.execute(text(statement), {"now": NOW})
        await migrate.upgrade(engine, "0012")
        async with engine.connect() as conn:
            keys = list(
                (
                    await conn.execute(text("SELECT calendar_key FROM communities ORDER BY id"))
                ).scalars()
            )
            sequence = (
                await conn.execute(text("SELECT calendar_sequence FROM session_series"))
            ).scalar()
            members = (await conn.execute(text("SELECT count(*) FROM members"))).scalar()
        assert len(keys) == 2 and keys[0] != keys[1]
        assert all(re.fullmatch(r"[0-9a-f]{32}", key) for key in keys)
        assert sequence == 0 and members == 1

        await migrate.downgrade(engine, "0011")
        async with engine.connect() as conn:
            members = (await conn.execute(text("SELECT count(*) FROM members"))).scalar()
            series = (await conn.execute(text("SELECT count(*) FROM session_series"))).scalar()
        assert members == 1 and series == 1
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
