"""`leerbot health`: is the bot on this machine working? One answer, for Docker's HEALTHCHECK.

It checks, in this order, and stops at the first problem:

1. the database answers and has this leerbot's schema;
2. a bot (`leerbot run`) on this machine keeps its row in `running_processes` fresh: its
   scheduler ticked within `STALE` (it renews every 10 s);
3. that bot saw its connection to Discord alive within `STALE`;
4. someone holds the lease on scheduled work (this bot or another one), so reminders and
   invitations go out.

"This machine" is the host name: in a container that is the container, so the check run by
Docker (or compose) inside it looks at the bot of that container, also when several bots
share one database.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from leerbot import lease
from leerbot.db import migrate
from leerbot.db.models.scheduling import RunningProcess, SchedulerLease

STALE = 2 * lease.TTL
"""A tick or a sign of the Discord connection older than this is a problem (60 s: six
missed renewals)."""


@dataclass(frozen=True)
class Health:
    ok: bool
    key: str
    """The text to show: a key under `cli.` in prompts/*/cli.yaml."""
    params: dict[str, Any] = field(default_factory=dict)


def _seconds(since: datetime, now: datetime) -> int:
    return max(0, int((now - since).total_seconds()))


async def check(engine: AsyncEngine, now: datetime, host: str | None = None) -> Health:
    """The health of the bot on `host` (this machine by default) at `now`. Raises OSError
    when the database cannot be reached and `migrate.DatabaseTooNew` for a newer schema."""
    host = host or socket.gethostname()[:255]
    state = await migrate.schema_state(engine)
    if not state.up_to_date:
        return Health(False, "health_schema", {"current": state.current or "-", "head": state.head})
    async with AsyncSession(engine) as db:
        bots = list(
            await db.scalars(
                select(RunningProcess)
                .where(RunningProcess.kind == "bot", RunningProcess.host == host)
                .order_by(RunningProcess.started_at.desc())
            )
        )
        held = await db.get(SchedulerLease, lease.SCHEDULER)
    if not bots:
        return Health(False, "health_no_bot", {"host": host})
    alive = [b for b in bots if b.expires_at >= now]
    bot = (alive or bots)[0]  # the newest that still renews, else the newest
    if bot.ticked_at is None or now - bot.ticked_at > STALE:
        since = bot.ticked_at or bot.started_at
        return Health(False, "health_stalled", {"seconds": _seconds(since, now)})
    if bot.gateway_at is None:
        return Health(False, "health_no_gateway_yet", {})
    if now - bot.gateway_at > STALE:
        return Health(False, "health_no_gateway", {"seconds": _seconds(bot.gateway_at, now)})
    if held is None or held.holder is None or held.expires_at < now:
        return Health(False, "health_no_scheduler", {})
    return Health(
        True,
        "health_ok" if held.holder == bot.holder else "health_ok_elsewhere",
        {
            "gateway": _seconds(bot.gateway_at, now),
            "tick": _seconds(bot.ticked_at, now),
        },
    )
