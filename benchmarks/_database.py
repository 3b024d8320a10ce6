"""A fresh database for a benchmark run: a SQLite file in a temporary folder, or a new
PostgreSQL database on the given server that is dropped afterwards (also on error).
Shared by the benchmark scripts (run as `python benchmarks/bench_….py`)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from sqlalchemy.engine import make_url

from leerbot.db.engine import create_engine


@asynccontextmanager
async def fresh_database(url: str | None) -> AsyncIterator[str]:
    """A SQLite file in a temporary directory by default; for a PostgreSQL URL a new
    database on that server, dropped afterwards (also on error); other URLs as they are."""
    if url is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite+aiosqlite:///{tmp}/bench.db"
        return
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        yield url
        return
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    admin_url = parsed.render_as_string(hide_password=False)
    name = f"leerbot_bench_{uuid.uuid4().hex[:10]}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()
