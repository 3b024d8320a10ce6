"""Benchmark: a reflection round to many members by direct message, through the local fake
Discord with its own rate limits (Discord's global 50 requests/s, 429 with retry_after,
per-route buckets: opening DM channels 10 per 10 s, 5 messages per 5 s per channel).

Prints the data size and the machine; the time from `/ronde start` until every invitation
arrived, next to the theoretical minimum at those limits (each DM is two requests, opening
the DM channel and sending, and the slowest of the global limit and the DM-channel bucket
sets the pace) and their ratio; the DMs lost (a member without the invitation when it
ended, counted from what the fake received) and duplicated; the 429s the bot met; the
process's peak RSS (bot and fake together). Asserts nothing; exits 1 when DMs were lost or
duplicated.

    python benchmarks/bench_round_dms.py                  # 1,000 members, both databases
    python benchmarks/bench_round_dms.py --smoke          # 100 members, SQLite (CI)
    python benchmarks/bench_round_dms.py --database postgresql --size 2000
    python benchmarks/bench_round_dms.py --dm-open-limit 50   # DM channels at 50/s instead

`--dm-open-limit N` lets the fake open N DM channels per second (Discord does not document
this bucket; the fake's 10 per 10 s is a cautious guess): then the global limit sets the
pace. PostgreSQL: a fresh database on the server of `--postgresql-url` (default: env
LEERBOT_TEST_DATABASE_URL, else postgresql+asyncpg://postgres@127.0.0.1:5432/test),
dropped afterwards.

Latest run, 2026-12-01, 1,000 members (1,001 DMs with the coordinator), the fake's own
limits, 2-core x86_64, Python 3.11, with heavy other work on the machine (load average 22),
SQLite and PostgreSQL each in its own process at the same time:

    database     delivered   minimum   ratio   lost  dup   429s   REST requests   peak RSS
    SQLite        1046.8 s   1000.0 s   1.05      0    0    146            2151    152 MiB
    PostgreSQL    1041.4 s   1000.0 s   1.04      0    0    144            2149    142 MiB

The minimum is set by the DM-channel bucket (10 per 10 s): 100 windows of 10 s. The fan-out
keeps `SENDERS` (8) messages under way and opens DM channels ahead, so the bucket is never
idle; the 429s are discord.py meeting that bucket while several requests wait on it. Before
(one member at a time, two commits and two requests each) a round to 1,000 members took
70 s with the rate limits lifted.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import platform
import resource
import sys
import time
from datetime import UTC, datetime
from typing import Any

from _database import fresh_database  # benchmarks/_database.py
from sqlalchemy import insert

from leerbot.adapters.discord import LeerbotClient
from leerbot.app import open_app
from leerbot.config import load_settings
from leerbot.db.models import Community, Member
from leerbot.testing import FakeDiscord, run_fake_discord
from leerbot.testing.state import ADMINISTRATOR

DM_OPEN = "POST /users/@me/channels"
INVITE = "Reflectieronde: Terugblik"


def minimum_seconds(fake: FakeDiscord, dms: int) -> tuple[float, str]:
    """The least time `dms` DMs can take at the fake's limits, and what sets it."""
    limiter = fake.rest.limiter
    glob = limiter.global_limit
    at_global = 2 * dms / glob.limit * glob.per
    opens = limiter.routes.get(DM_OPEN, limiter.default_limit)
    # the first window opens at the first request: n windows take (n - 1) periods and a bit
    at_bucket = (math.ceil(dms / opens.limit) - 1) * opens.per
    if at_bucket > at_global:
        return at_bucket, f"opening DM channels, {opens.limit} per {opens.per:g} s"
    return at_global, f"the global limit, {glob.limit} requests per {glob.per:g} s"


def invitations(fake: FakeDiscord, member: Any) -> int:
    return sum(
        1 for m in fake.dms(member) if any(INVITE in (e.get("title") or "") for e in m.embeds)
    )


async def run(database: str, url: str, size: int, dm_open_limit: int | None) -> dict[str, Any]:
    state: dict[str, Any] = {}

    def declare(fake: FakeDiscord) -> None:
        guild = fake.add_guild("Community of Learners", locale="nl")
        admin_role = fake.add_role(guild, "Beheer", permissions=ADMINISTRATOR)
        fake.add_channel(guild, "algemeen")
        state["guild"] = guild
        state["admin"] = fake.add_member(guild, "Coördinator", roles=[admin_role], locale="nl")
        state["members"] = [fake.add_member(guild, f"Lid {i}", locale="nl") for i in range(size)]
        if dm_open_limit is not None:
            fake.rest.limiter.set_route(DM_OPEN, dm_open_limit, 1.0)

    settings = load_settings(environ={"LEERBOT_DATABASE_URL": url})
    async with open_app(settings) as app, run_fake_discord(declare) as fake:
        now = datetime.now(UTC)
        async with app.sessionmaker() as db, db.begin():
            community = Community(
                platform_id=str(state["guild"].id), name="Community of Learners", locale="nl"
            )
            db.add(community)
            await db.flush()
            await db.execute(
                insert(Member),
                [
                    {
                        "community_id": community.id,
                        "platform_id": str(m.id),
                        "display_name": m.name,
                        "is_moderator": False,
                        "is_coordinator": False,
                        "share_lived_experience": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for m in state["members"]
                ],
            )
        client = LeerbotClient(app.dispatcher, settings)

        async def start_scheduler() -> None:
            await app.start_scheduler(client.platform)

        client.ready_hooks.append(start_scheduler)
        # everyone in the community is asked, the coordinator who starts it too
        recipients = [*state["members"], state["admin"]]
        minimum, binding = minimum_seconds(fake, len(recipients))
        async with fake.running_client(client):
            await fake.wait_until(lambda: app.scheduler is not None, what="scheduler")
            before = len(fake.requests)
            throttled_before = len(fake.rest.limiter.served_429)
            started = time.perf_counter()
            reply = await fake.slash(
                state["admin"],
                "ronde start",
                titel="Terugblik",
                vraag1="Wat neem je mee?",
                samenvatting="moderators",  # no announcements channel in this server
            )
            assert "Reflectieronde #1" in (reply.content or str(reply.embeds)), reply
            # long enough at any rate: three times the minimum, and two minutes more
            try:
                await fake.wait_until(
                    lambda: all(fake.dms(m) for m in recipients),
                    timeout=3 * minimum + 120,
                    what="every invitation delivered",
                )
            except (AssertionError, TimeoutError):
                pass  # counted below as lost
            elapsed = time.perf_counter() - started
            await asyncio.sleep(1.0)  # a duplicate would arrive after the last first one
            counts = [invitations(fake, m) for m in recipients]
            requests = len(fake.requests) - before
            throttled = len(fake.rest.limiter.served_429) - throttled_before
    return {
        "database": database,
        "recipients": len(recipients),
        "elapsed": elapsed,
        "minimum": minimum,
        "binding": binding,
        "requests": requests,
        "throttled": throttled,
        "lost": sum(1 for n in counts if n == 0),
        "duplicated": sum(n - 1 for n in counts if n > 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="100 members, SQLite (CI)")
    parser.add_argument("--size", type=int, help="members (default 1,000; smoke 100)")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"))
    parser.add_argument("--postgresql-url", help="server for PostgreSQL (see above)")
    parser.add_argument(
        "--dm-open-limit", type=int, help="DM channels per second (default: the fake's own)"
    )
    args = parser.parse_args()
    size = args.size or (100 if args.smoke else 1000)
    database = args.database or ("sqlite" if args.smoke else "both")
    chosen = ("sqlite", "postgresql") if database == "both" else (database,)
    server = (
        args.postgresql_url
        or os.environ.get("LEERBOT_TEST_DATABASE_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )

    async def one(name: str) -> dict[str, Any]:
        async with fresh_database(server if name == "postgresql" else None) as url:
            return await run(name, url, size, args.dm_open_limit)

    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.1f}"
    )
    ok = True
    for name in chosen:
        f = asyncio.run(one(name))
        print(
            f"\n{name}: round to {f['recipients']} members by DM "
            f"({size} members and the coordinator)"
        )
        print(
            f"  delivered in {f['elapsed']:.1f} s; theoretical minimum {f['minimum']:.1f} s "
            f"(2 requests per DM; set by {f['binding']}); "
            f"ratio {f['elapsed'] / f['minimum']:.2f}"
        )
        print(
            f"  lost {f['lost']}, duplicated {f['duplicated']}; REST requests {f['requests']}, "
            f"429s met {f['throttled']}"
        )
        ok = ok and not f["lost"] and not f["duplicated"]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\npeak RSS {peak:.0f} MiB (this process: the bot and the fake)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
