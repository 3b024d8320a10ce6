"""One runner of scheduled work per database: a lease row, on SQLite and PostgreSQL alike.

A process that wants to run scheduled work takes the lease (`scheduler_leases`, one row per
lease name) for a short time (`ttl`, 30 s) and renews it on a timer (every 10 s). It holds it
only while it keeps renewing: a process that crashed, hangs or lost its database connection
stops renewing, its lease expires, and another process takes over. A holder whose renewal
fails stops running jobs at once (it does not wait for the expiry). A clean stop gives the
lease back, so a restarted bot takes it without waiting.

Who may take it:
- anyone, when nobody holds it or the holder's lease has expired;
- a holder with a higher `priority` at any time: a bot (`BOT`) takes it from a console
  (`CONSOLE`), so that a console left open beside a bot never runs the bot's work, and a bot
  started after a console is not kept waiting. Equal priorities never take it from each
  other while it is renewed.

Every process that may run jobs also keeps a row in `running_processes` (`ProcessRecord`),
renewed on the same timer: a job records who claimed it (`scheduled_jobs.claimed_by`), so a
process that takes over gives back only the jobs of processes that are gone, never those a
live process is still running. The same row is what `leerbot health` reads: the scheduler's
last tick and, for a bot, the last moment its Discord connection was seen alive.

All times come from the caller (the scheduler's clock), so expiry is tested by moving a fake
clock. Between processes they are the computers' clocks: keep them in sync (NTP), as any
lease needs; a few seconds of difference only shift a takeover by as much.

For several bot processes and shards (issue 18): each process has its own holder name
(`holder_name()`), and a lease name per shard (`Lease(name="scheduler:shard-3")`) splits the
work without further changes here.
"""

from __future__ import annotations

import os
import secrets
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, case, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leerbot.db.models.scheduling import RunningProcess, SchedulerLease

SCHEDULER = "scheduler"
"""The lease of all scheduled work of a database (issue 18 may add one per shard)."""
TTL = timedelta(seconds=30)
"""How long a lease (and a process's row) lasts without renewal."""
RENEW_EVERY = TTL / 3
"""How often the holder renews: two renewals may fail before the lease expires."""
CONSOLE = 0
BOT = 10
PRIORITY = {"console": CONSOLE, "bot": BOT}
FORGET_AFTER = timedelta(days=1)
"""Rows of processes that stopped renewing (a crash) are removed after this long."""


def holder_name() -> str:
    """A name for this process, unique among all processes on all machines: the host, the
    process id and a random part (a restarted container has the same host and often the same
    process id)."""
    host = socket.gethostname()[:100]
    return f"{host}:{os.getpid()}:{secrets.token_hex(4)}"


def _insert_ignore(db: AsyncSession, table: type[SchedulerLease], values: dict[str, Any]) -> Any:
    """INSERT … ON CONFLICT DO NOTHING (both SQLite and PostgreSQL have it)."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).values(**values).on_conflict_do_nothing()


class Lease:
    """A named lease in the database, as seen by one holder."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        holder: str,
        priority: int = BOT,
        name: str = SCHEDULER,
        ttl: timedelta = TTL,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.holder = holder
        self.priority = priority
        self.name = name
        self.ttl = ttl
        self.holding = False
        """The last renewal (or taking) succeeded."""
        self.valid_until: datetime | None = None
        """Until when this holder may run work without renewing again."""

    def held(self, now: datetime) -> bool:
        """Whether this holder may run work at `now` (it renewed in time)."""
        return self.holding and self.valid_until is not None and now < self.valid_until

    async def acquire(self, now: datetime) -> bool:
        """Take the lease, or renew it when this holder has it; False when another process
        holds it. A failed renewal (a lost connection raises) leaves this holder without it."""
        expires = now + self.ttl
        try:
            taken = await self._take(now, expires)
        except BaseException:
            self.holding = False  # not renewed: run nothing until a renewal works
            self.valid_until = None
            raise
        self.holding = bool(taken)
        self.valid_until = expires if self.holding else None
        return self.holding

    async def _take(self, now: datetime, expires: datetime) -> int:
        async with self.sessionmaker() as db, db.begin():
            await db.execute(
                _insert_ignore(
                    db,
                    SchedulerLease,
                    {"name": self.name, "holder": None, "priority": 0, "expires_at": now},
                )
            )
            taken = await db.execute(
                update(SchedulerLease)
                .where(
                    SchedulerLease.name == self.name,
                    or_(
                        SchedulerLease.holder == self.holder,
                        SchedulerLease.holder.is_(None),
                        SchedulerLease.expires_at < now,
                        SchedulerLease.priority < self.priority,
                    ),
                )
                .values(
                    holder=self.holder,
                    priority=self.priority,
                    expires_at=expires,
                    acquired_at=case(
                        (SchedulerLease.holder == self.holder, SchedulerLease.acquired_at),
                        else_=now,
                    ),
                )
            )
        return int(taken.rowcount or 0)  # type: ignore[attr-defined]

    async def release(self, now: datetime) -> None:
        """Give the lease back (a clean stop): the next process takes it at once."""
        self.holding = False
        self.valid_until = None
        async with self.sessionmaker() as db, db.begin():
            await db.execute(
                update(SchedulerLease)
                .where(SchedulerLease.name == self.name, SchedulerLease.holder == self.holder)
                .values(holder=None, priority=0, expires_at=now)
            )

    async def current(self) -> SchedulerLease | None:
        async with self.sessionmaker() as db:
            return await db.get(SchedulerLease, self.name)


class ProcessRecord:
    """This process's row in `running_processes`: alive while renewed."""

    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        holder: str,
        kind: str,
        ttl: timedelta = TTL,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.holder = holder
        self.kind = kind
        self.ttl = ttl
        self.registered = False

    async def beat(self, now: datetime, *, gateway: bool = False) -> None:
        """Renew: alive for another `ttl`, the scheduler ticked now, and (when `gateway`) the
        connection to Discord was seen alive now."""
        values: dict[str, object] = {"expires_at": now + self.ttl, "ticked_at": now}
        if gateway:
            values["gateway_at"] = now
        async with self.sessionmaker() as db, db.begin():
            renewed = await db.execute(
                update(RunningProcess).where(RunningProcess.holder == self.holder).values(**values)
            )
            if not renewed.rowcount:  # type: ignore[attr-defined]
                if not self.registered:  # the first beat: forget processes long gone
                    await db.execute(
                        delete(RunningProcess).where(RunningProcess.expires_at < now - FORGET_AFTER)
                    )
                db.add(
                    RunningProcess(
                        holder=self.holder,
                        kind=self.kind,
                        host=socket.gethostname()[:255],
                        pid=os.getpid(),
                        started_at=now,
                        **values,
                    )
                )
        self.registered = True

    async def remove(self) -> None:
        if not self.registered:
            return
        self.registered = False
        async with self.sessionmaker() as db, db.begin():
            await db.execute(delete(RunningProcess).where(RunningProcess.holder == self.holder))


def alive_holders(now: datetime) -> Select[tuple[str]]:
    """A subquery: the holders of processes that are still renewing at `now`."""
    return select(RunningProcess.holder).where(RunningProcess.expires_at >= now)
