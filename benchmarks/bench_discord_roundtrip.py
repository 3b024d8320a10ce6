"""Benchmark: a discord.py client against the fake Discord (leerbot.testing).

Measures (1) the time from starting the fake until the client is READY (login, gateway,
GUILD_CREATE, member chunking, command sync in setup_hook), and (2) the interaction
round-trip: from the member's slash command (INTERACTION_CREATE sent) until the bot's
answer has arrived and been validated, p50/p95/p99. Prints figures with the data size and
the machine; asserts nothing.

    python benchmarks/bench_discord_roundtrip.py            # 1,000 interactions
    python benchmarks/bench_discord_roundtrip.py --smoke    # 100 interactions (CI)

Any client can be measured: ``measure(client_factory, command_name, n)`` takes a function
that returns a fresh, unstarted ``discord.Client`` whose ``setup_hook`` syncs its commands.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import time
from collections.abc import Callable
from typing import Any

import discord
from discord import app_commands

from leerbot.testing import FakeDiscord, run_fake_discord

MEMBERS = 50
ClientFactory = Callable[[], discord.Client]


def bare_help_client() -> discord.Client:
    """A bare discord.py client answering a /help-like command with an embed and a button."""
    client = discord.Client(intents=discord.Intents.all())
    tree = app_commands.CommandTree(client)

    @tree.command(name="help", description="Wat kan de bot?")
    async def help_(interaction: discord.Interaction) -> None:
        embed = discord.Embed(title="Hulp", description="Dit kan ik voor je doen.")
        view = discord.ui.View()
        view.add_item(discord.ui.Button(label="Meer", custom_id="help:more"))
        await interaction.response.send_message(embed=embed, view=view, ephemeral=True)

    async def setup_hook() -> None:
        await tree.sync()

    client.setup_hook = setup_hook  # type: ignore[method-assign]
    return client


def leerbot_client_factory() -> ClientFactory | None:
    """HOOK for the leerbot bot: its real client on a fresh, migrated SQLite database.

    Every /help is a full unit of work (community, member, permission check, prompts), so
    the figure includes the database, not just the Discord round-trip.
    """
    import tempfile
    import threading

    from leerbot.adapters.discord import LeerbotClient
    from leerbot.chat import load_all
    from leerbot.chat.dispatch import Dispatcher
    from leerbot.config import load_settings
    from leerbot.db import migrate
    from leerbot.db.engine import create_engine, make_sessionmaker

    directory = tempfile.mkdtemp(prefix="leerbot-bench-")
    url = f"sqlite+aiosqlite:///{directory}/bench.db"
    settings = load_settings(environ={"LEERBOT_DATABASE_URL": url})

    async def upgrade() -> None:
        engine = create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()

    class BenchClient(LeerbotClient):
        """Closes its database engine with the connection."""

        engine: Any = None

        async def close(self) -> None:
            await super().close()
            if self.engine is not None:
                await self.engine.dispose()

    def factory() -> discord.Client:
        # Called inside the benchmark's event loop: migrate in a thread with its own loop.
        worker = threading.Thread(target=asyncio.run, args=(upgrade(),))
        worker.start()
        worker.join()
        engine = create_engine(url)
        client = BenchClient(Dispatcher(make_sessionmaker(engine), settings, load_all()), settings)
        client.engine = engine
        return client

    return factory


def _community(fake: FakeDiscord) -> None:
    guild = fake.add_guild("Community of Learners")
    fake.add_channel(guild, "algemeen")
    for i in range(MEMBERS):
        fake.add_member(guild, f"Lid {i}", locale="nl" if i % 2 else "en-GB")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


async def measure_async(
    client_factory: ClientFactory,
    command_name: str,
    n: int,
) -> dict[str, Any]:
    """Start a fake, run the client until READY, then time ``n`` sequential interactions."""
    started = time.perf_counter()
    async with run_fake_discord(_community) as fake:
        client = client_factory()
        async with fake.running_client(client):
            ready_s = time.perf_counter() - started
            guild = next(iter(fake.guilds.values()))
            members = [m for m in guild.members.values() if not m.user.bot][:MEMBERS]
            latencies: list[float] = []
            for i in range(n):
                begin = time.perf_counter()
                await fake.slash(members[i % len(members)], command_name)
                latencies.append(time.perf_counter() - begin)
        requests = len(fake.requests)
    return {
        "interactions": n,
        "members": len(members),
        "ready_s": ready_s,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p95_ms": _percentile(latencies, 0.95) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "max_ms": max(latencies) * 1000,
        "requests": requests,
    }


def measure(client_factory: ClientFactory, command_name: str, n: int) -> dict[str, Any]:
    """Synchronous entry point: the figures for one client."""
    return asyncio.run(measure_async(client_factory, command_name, n))


def _report(label: str, figures: dict[str, Any]) -> None:
    print(f"[{label}] time from fake start to client READY: {figures['ready_s'] * 1000:.0f} ms")
    print(
        f"[{label}] interaction round-trip over {figures['interactions']} interactions "
        f"({figures['members']} members): p50 {figures['p50_ms']:.2f} ms, "
        f"p95 {figures['p95_ms']:.2f} ms, p99 {figures['p99_ms']:.2f} ms, "
        f"mean {figures['mean_ms']:.2f} ms, max {figures['max_ms']:.2f} ms; "
        f"{figures['requests']} REST requests"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="100 interactions (CI)")
    parser.add_argument("-n", type=int, default=None, help="number of interactions")
    args = parser.parse_args()
    n = args.n or (100 if args.smoke else 1000)
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} discord.py={discord.__version__} "
        f"system={platform.system()} {platform.release()}"
    )
    print(
        f"data: 1 guild, {MEMBERS} members, {n} interactions (/help: embed + button, "
        "ephemeral); every request validated against the OpenAPI document"
    )
    bare = measure(bare_help_client, "help", n)
    _report("bare discord.py", bare)
    factory = leerbot_client_factory()
    if factory is None:
        print("[leerbot] not measured: leerbot_client_factory() hook not wired yet")
        return
    ours = measure(factory, "help", n)
    _report("leerbot", ours)
    print(
        "ratio leerbot / bare discord.py: "
        f"READY {ours['ready_s'] / bare['ready_s']:.1f}x, "
        f"p50 {ours['p50_ms'] / bare['p50_ms']:.1f}x, p95 {ours['p95_ms'] / bare['p95_ms']:.1f}x, "
        f"p99 {ours['p99_ms'] / bare['p99_ms']:.1f}x "
        "(leerbot: READY includes migrating a fresh database and syncing 49 commands; each "
        "interaction includes a database unit of work)"
    )


if __name__ == "__main__":
    main()
