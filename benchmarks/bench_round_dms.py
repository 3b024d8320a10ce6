"""Benchmark: a reflection round to many members by direct message, through the local fake
Discord with Discord's real rate limits (global 50 requests/s by default, 429 with
retry_after, per-route buckets).

Prints the total delivery time against the theoretical minimum at the global limit (each DM
is two requests: open the DM channel, send the message), the 429s the bot met, and how many
DMs were lost (must be 0). Asserts nothing.

    python benchmarks/bench_round_dms.py            # 1,000 members (about 45 s)
    python benchmarks/bench_round_dms.py --smoke    # 100 members (CI, a few seconds)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import tempfile
import time
from datetime import UTC, datetime

from sqlalchemy import insert

from leerbot.adapters.discord import LeerbotClient
from leerbot.app import open_app
from leerbot.config import load_settings
from leerbot.db.models import Community, Member
from leerbot.testing import FakeDiscord, run_fake_discord
from leerbot.testing.state import ADMINISTRATOR


async def run(members: int, global_limit: int, dm_open_limit: int) -> dict[str, float]:
    state: dict[str, object] = {}

    def declare(fake: FakeDiscord) -> None:
        guild = fake.add_guild("Community of Learners", locale="nl")
        admin_role = fake.add_role(guild, "Beheer", permissions=ADMINISTRATOR)
        fake.add_channel(guild, "algemeen")
        state["guild"] = guild
        state["admin"] = fake.add_member(guild, "Coördinator", roles=[admin_role], locale="nl")
        state["members"] = [fake.add_member(guild, f"Lid {i}", locale="nl") for i in range(members)]

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings(
            environ={"LEERBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp}/b.db"}
        )
        async with (
            open_app(settings) as app,
            run_fake_discord(declare, global_rate_limit=global_limit) as fake,
        ):
            guild = state["guild"]
            now = datetime.now(UTC)
            async with app.sessionmaker() as db, db.begin():
                community = Community(
                    platform_id=str(guild.id),
                    name="Community of Learners",  # type: ignore[attr-defined]
                    locale="nl",
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
                        for m in state["members"]  # type: ignore[attr-defined]
                    ],
                )
            # The fake's default for opening DM channels is 10 per 10 s (a cautious guess at
            # Discord's). At that rate the bucket, not the global limit, sets the pace.
            fake.rest.limiter.set_route("POST /users/@me/channels", dm_open_limit, 1.0)
            client = LeerbotClient(app.dispatcher, settings)

            async def start_scheduler() -> None:
                await app.start_scheduler(client.platform)

            client.ready_hooks.append(start_scheduler)
            async with fake.running_client(client):
                await fake.wait_until(lambda: app.scheduler is not None, what="scheduler")
                before = len(fake.requests)
                throttled_before = _throttled(fake)
                started = time.perf_counter()
                reply = await fake.slash(
                    state["admin"],
                    "ronde start",
                    titel="Terugblik",  # type: ignore[arg-type]
                    vraag1="Wat neem je mee?",
                    samenvatting="moderators",  # no announcements channel in this server
                )
                assert "Reflectieronde #1" in (reply.content or str(reply.embeds)), reply
                # everyone in the community is asked, the coordinator who started it too
                recipients = [*state["members"], state["admin"]]  # type: ignore[misc]
                await fake.wait_until(
                    lambda: all(fake.dms(m) for m in recipients),
                    timeout=members * 0.2 + 60,
                    what="every invitation delivered",
                )
                elapsed = time.perf_counter() - started
                requests = len(fake.requests) - before
                throttled = _throttled(fake) - throttled_before
                lost = sum(1 for m in recipients if not fake.dms(m))
    return {
        "members": members,
        "elapsed": elapsed,
        "requests": requests,
        "throttled": throttled,
        "lost": lost,
        "global_limit": global_limit,
    }


def _throttled(fake: FakeDiscord) -> int:
    return sum(1 for r in fake.requests if getattr(r, "status", None) == 429)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="100 members (CI)")
    parser.add_argument("--members", type=int)
    parser.add_argument("--global-limit", type=int, default=50)
    parser.add_argument(
        "--dm-open-limit",
        type=int,
        default=50,
        help="DM channels opened per second (the fake's default is 1/s)",
    )
    args = parser.parse_args()
    members = args.members or (100 if args.smoke else 1000)
    figures = asyncio.run(run(members, args.global_limit, args.dm_open_limit))
    minimum = max(2 * members / args.global_limit, members / args.dm_open_limit)
    print(f"machine: {platform.machine()} cpus={os.cpu_count()} python={platform.python_version()}")
    print(
        f"round to {members} members by DM, global limit {args.global_limit} requests/s, "
        f"opening DM channels {args.dm_open_limit}/s"
    )
    print(
        f"delivered in {figures['elapsed']:.1f} s; theoretical minimum {minimum:.1f} s "
        f"(2 requests per DM at these limits); ratio {figures['elapsed'] / minimum:.2f}"
    )
    print(
        f"REST requests during the round: {figures['requests']:.0f}, "
        f"429 responses met: {figures['throttled']:.0f}, DMs lost: {figures['lost']:.0f}"
    )


if __name__ == "__main__":
    main()
