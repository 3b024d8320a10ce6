"""Shared fixtures: a fresh, migrated database per test.

By default SQLite (a copy of a migrated template file, so each test starts clean and fast).
With LEERBOT_TEST_DATABASE_URL set, the same tests run on PostgreSQL instead: one fresh
database per test run, created here and dropped afterwards, migrated once and emptied before
every test. CI runs the suite once each way.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from leerbot.app import App, open_app
from leerbot.clock import FakeClock
from leerbot.config import Settings, load_settings
from leerbot.db import migrate
from leerbot.db.engine import create_engine
from leerbot.db.models import Base

PG_ENV = "LEERBOT_TEST_DATABASE_URL"


def _async_pg_url(url: str) -> str:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


async def _admin(url: str, statement: str) -> None:
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(statement))
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str | None]:
    """A fresh PostgreSQL database for this run, or None when not configured."""
    base = os.environ.get(PG_ENV)
    if not base:
        yield None
        return
    admin_url = _async_pg_url(base)
    name = f"leerbot_test_{uuid.uuid4().hex[:10]}"
    asyncio.run(_admin(admin_url, f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    asyncio.run(_migrate(url))
    try:
        yield url
    finally:
        asyncio.run(_admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


async def _empty_postgres(url: str) -> None:
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


DATABASE_KIND = "postgresql" if os.environ.get(PG_ENV) else "sqlite"


@pytest.fixture(params=[DATABASE_KIND])
def database_url(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    sqlite_template: Path,
    postgres_url: str | None,
) -> str:
    """A clean, migrated database (SQLite, or PostgreSQL when configured)."""
    if request.param == "sqlite":
        path = tmp_path / "leerbot.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    assert postgres_url is not None
    asyncio.run(_empty_postgres(postgres_url))
    return postgres_url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return load_settings(environ={"LEERBOT_DATABASE_URL": database_url})


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[App]:
    async with open_app(settings) as opened:
        yield opened


@pytest.fixture
def clock() -> FakeClock:
    """The time of a test that lets time pass: it stands still until the test moves it
    (`clock.advance(minutes=5)`), and a scheduler on it runs what became due at once."""
    return FakeClock()


@pytest.fixture
async def clocked_app(settings: Settings, clock: FakeClock) -> AsyncIterator[App]:
    """The app on the fake `clock` (its dispatcher and schedulers read that time). Core calls
    in the test itself read it inside `with leerbot.clock.using(clock):` or with `now=`."""
    async with open_app(settings, clock=clock) as opened:
        yield opened
