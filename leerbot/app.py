"""Start-up shared by every front end: engine, schema check, dispatcher.

`run` and `console` upgrade an empty (or older) database and refuse one that is newer than
this code, so that nothing is ever written by code that does not understand the schema.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from leerbot import clock as clocks
from leerbot import lease, scheduling
from leerbot.chat import job_handlers, load_all
from leerbot.chat.dispatch import Dispatcher
from leerbot.chat.platform import Platform
from leerbot.config import Settings
from leerbot.core import audit, reflections
from leerbot.db import migrate
from leerbot.db.engine import create_engine, make_sessionmaker
from leerbot.scheduling import Scheduler

log = logging.getLogger("leerbot")


@dataclass
class App:
    settings: Settings
    engine: AsyncEngine
    sessionmaker: async_sessionmaker[AsyncSession]
    dispatcher: Dispatcher
    scheduler: Scheduler | None = None
    clock: clocks.Clock = field(default_factory=lambda: clocks.SYSTEM)
    """The one clock of core, chat and the scheduler (tests give a FakeClock)."""
    holder: str = field(default_factory=lease.holder_name)
    """This app's name as a holder of the scheduler's lease (one per process; every
    scheduler it makes uses it, so a new one continues where the last left off)."""

    def make_scheduler(
        self,
        platform: Platform,
        *,
        kind: str = "bot",
        serves: Callable[[str], bool] | None = None,
        own: Callable[[str], bool] | None = None,
    ) -> Scheduler:
        """A scheduler with every capability's job handlers, not yet started. `kind`, `serves`
        and `own`: see `Scheduler` (a bot, or a console with its own community)."""
        scheduler = Scheduler(
            self.engine,
            self.sessionmaker,
            services={"platform": platform, "settings": self.settings},
            clock=self.clock,
            holder=self.holder,
            kind=kind,
            serves=serves,
            own=own,
        )
        for kind, handler in job_handlers().items():
            scheduler.handlers[kind] = handler  # type: ignore[assignment]
        self.scheduler = scheduler
        return scheduler

    async def start_scheduler(
        self,
        platform: Platform,
        *,
        kind: str = "bot",
        serves: Callable[[str], bool] | None = None,
        own: Callable[[str], bool] | None = None,
    ) -> Scheduler:
        """Start the timer for scheduled work, with `platform` for its effects."""
        scheduler = self.make_scheduler(platform, kind=kind, serves=serves, own=own)
        await scheduler.start()
        return scheduler


async def prepare_database(engine: AsyncEngine) -> migrate.SchemaState:
    """Upgrade to the code's schema; raises DatabaseTooNew for a newer database."""
    state = await migrate.schema_state(engine)
    if not state.up_to_date:
        log.info("upgrading database schema from %s to %s", state.current or "empty", state.head)
        state = await migrate.upgrade(engine)
    return state


@asynccontextmanager
async def open_app(
    settings: Settings, *, upgrade: bool = True, clock: clocks.Clock | None = None
) -> AsyncIterator[App]:
    """The app on `settings`' database; `clock` is its time (the system's by default)."""
    clock = clock or clocks.SYSTEM
    engine = create_engine(settings.database_url.get_secret_value())
    try:
        if upgrade:
            await prepare_database(engine)
        sessionmaker = make_sessionmaker(engine)
        if upgrade:
            with clocks.using(clock):
                async with sessionmaker() as db, db.begin():
                    purged = await audit.purge_expired(db, settings.privacy.audit_retention_days)
                    finished = await scheduling.purge_finished(
                        db, saved_search_days=settings.practices.saved_search_days
                    )
                    sealed = await reflections.seal_closed_rounds(db)
                    asked = await reflections.purge_recipients(
                        db, settings.privacy.round_recipients_retention_days
                    )
            if purged or finished or sealed or asked:
                log.info(
                    "removed %d audit entries past their retention period, %d finished "
                    "scheduled jobs and %d rows of who was asked in finished rounds; "
                    "sealed %d closed rounds",
                    purged,
                    finished,
                    asked,
                    sealed,
                )
        dispatcher = Dispatcher(sessionmaker, settings, load_all(), clock=clock)
        opened = App(settings, engine, sessionmaker, dispatcher, clock=clock)
        try:
            yield opened
        finally:
            if opened.scheduler is not None:
                await opened.scheduler.stop()
    finally:
        await engine.dispose()
