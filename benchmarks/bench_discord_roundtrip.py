"""Benchmark: a discord.py client against the fake Discord (leerbot.testing).

Measures, for a bare discord.py client and for leerbot's own client side by side,
(1) the time from starting the fake until the client is READY (login, gateway,
GUILD_CREATE, member chunking, command sync in setup_hook; leerbot's also migrates a fresh
SQLite database), and (2) the interaction round-trip: from the member's slash command
(INTERACTION_CREATE sent) until the bot's answer has arrived and been validated,
p50/p95/p99. Each client runs with its own fake in a process of its own, and the
interactions are interleaved (one bare, one leerbot, …), so both sides see the same
machine at the same moment. Prints the data size (guild members, interactions), the
machine, both sides of each ratio and each process's peak RSS; asserts nothing. leerbot's
database lives in a temporary folder that is removed afterwards.

    python benchmarks/bench_discord_roundtrip.py             # 1,000 members, 1,000 each
    python benchmarks/bench_discord_roundtrip.py --size 10000,100000 -n 300
    python benchmarks/bench_discord_roundtrip.py --smoke     # 100 interactions each (CI)

`--size` is the number of members of the guild (the fake sends them in chunks of 1,000);
with several sizes it prints how READY and the round-trip grow from the smallest to the
largest. Any client can be measured: ``measure(client_factory, command_name, n)`` takes a
function that returns a fresh, unstarted ``discord.Client`` whose ``setup_hook`` syncs its
commands.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import platform
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

import discord
from discord import app_commands

from leerbot.testing import FakeDiscord, run_fake_discord

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


def leerbot_client_factory(directory: str) -> ClientFactory:
    """leerbot's real client on a fresh, migrated SQLite database in `directory`.

    Every /help is a full unit of work (community, member, permission check, prompts), so
    the figure includes the database, not just the Discord round-trip.
    """
    import threading

    from leerbot.adapters.discord import LeerbotClient
    from leerbot.chat import load_all
    from leerbot.chat.dispatch import Dispatcher
    from leerbot.config import load_settings
    from leerbot.db import migrate
    from leerbot.db.engine import create_engine, make_sessionmaker

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


def _community(members: int) -> Callable[[FakeDiscord], None]:
    def setup(fake: FakeDiscord) -> None:
        guild = fake.add_guild("Community of Learners")
        fake.add_channel(guild, "algemeen")
        for i in range(members):
            fake.add_member(guild, f"Lid {i}", locale="nl" if i % 2 else "en-GB")

    return setup


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def peak_rss_mib() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


ACTIVE = 50
"""Members who send the commands, in turn."""


async def _serve(
    client_factory: ClientFactory, command_name: str, members: int, conn: Connection
) -> None:
    """One side: start a fake and the client until READY, then answer "go" with the
    round-trip of one interaction until "stop"."""
    started = time.perf_counter()
    async with run_fake_discord(_community(members)) as fake:
        client = client_factory()
        async with fake.running_client(client, timeout=600):
            conn.send(("ready", time.perf_counter() - started))
            guild = next(iter(fake.guilds.values()))
            active = [m for m in guild.members.values() if not m.user.bot][:ACTIVE]
            i = 0
            while await asyncio.to_thread(conn.recv) == "go":
                begin = time.perf_counter()
                try:
                    await fake.slash(active[i % len(active)], command_name)
                except AssertionError:  # not answered within Discord's 3 s: counted apart
                    conn.send(None)
                else:
                    conn.send(time.perf_counter() - begin)
                i += 1
        requests = len(fake.requests)
    conn.send(("done", requests, peak_rss_mib()))


def _side(kind: str, command_name: str, members: int, conn: Connection, directory: str) -> None:
    factory = bare_help_client if kind == "bare" else leerbot_client_factory(directory)
    asyncio.run(_serve(factory, command_name, members, conn))


def _figures(
    answers: list[float | None], ready_s: float, requests: int, rss: float
) -> dict[str, Any]:
    latencies = [a for a in answers if a is not None] or [float("nan")]
    return {
        "interactions": len(answers),
        "unanswered": sum(a is None for a in answers),
        "ready_s": ready_s,
        "p50_ms": _percentile(latencies, 0.50) * 1000,
        "p95_ms": _percentile(latencies, 0.95) * 1000,
        "p99_ms": _percentile(latencies, 0.99) * 1000,
        "mean_ms": statistics.fmean(latencies) * 1000,
        "max_ms": max(latencies) * 1000,
        "requests": requests,
        "peak_rss_mib": rss,
    }


def measure_interleaved(members: int, n: int, command_name: str = "help") -> dict[str, Any]:
    """Both sides in processes of their own, started together; then `n` interactions each,
    alternating. leerbot's database folder is removed afterwards."""
    context = multiprocessing.get_context("fork")  # before any event loop in this process
    with tempfile.TemporaryDirectory(prefix="leerbot-bench-") as directory:
        pipes, processes = {}, {}
        for kind in ("bare", "leerbot"):
            ours, theirs = context.Pipe()
            process = context.Process(
                target=_side, args=(kind, command_name, members, theirs, directory)
            )
            process.start()
            pipes[kind], processes[kind] = ours, process
        try:
            ready = {kind: pipe.recv()[1] for kind, pipe in pipes.items()}
            latencies: dict[str, list[float | None]] = {kind: [] for kind in pipes}
            for i in range(n):
                order = ("bare", "leerbot") if i % 2 == 0 else ("leerbot", "bare")
                for kind in order:
                    pipes[kind].send("go")
                    latencies[kind].append(pipes[kind].recv())
            figures = {}
            for kind, pipe in pipes.items():
                pipe.send("stop")
                _, requests, rss = pipe.recv()
                figures[kind] = _figures(latencies[kind], ready[kind], requests, rss)
        finally:
            for process in processes.values():
                process.join(timeout=120)
                if process.is_alive():
                    process.kill()
    return figures


def measure(client_factory: ClientFactory, command_name: str, n: int) -> dict[str, Any]:
    """One client alone, for other callers: its figures with 50 members."""

    async def run() -> dict[str, Any]:
        started = time.perf_counter()
        async with run_fake_discord(_community(ACTIVE)) as fake:
            async with fake.running_client(client_factory(), timeout=600):
                ready_s = time.perf_counter() - started
                guild = next(iter(fake.guilds.values()))
                active = [m for m in guild.members.values() if not m.user.bot]
                latencies: list[float | None] = []
                for i in range(n):
                    begin = time.perf_counter()
                    await fake.slash(active[i % len(active)], command_name)
                    latencies.append(time.perf_counter() - begin)
            requests = len(fake.requests)
        return _figures(latencies, ready_s, requests, peak_rss_mib())

    return asyncio.run(run())


def _report(label: str, members: int, figures: dict[str, Any]) -> None:
    print(
        f"[{label}] {members:,} members: READY {figures['ready_s'] * 1000:.0f} ms; "
        f"round-trip over {figures['interactions']} interactions "
        f"({figures['unanswered']} not answered within 3 s, left out): "
        f"p50 {figures['p50_ms']:.2f} ms, p95 {figures['p95_ms']:.2f} ms, "
        f"p99 {figures['p99_ms']:.2f} ms, mean {figures['mean_ms']:.2f} ms, "
        f"max {figures['max_ms']:.2f} ms; {figures['requests']} REST requests; "
        f"peak RSS {figures['peak_rss_mib']:.0f} MiB"
    )


def _ratio(ours: dict[str, Any], bare: dict[str, Any], key: str, unit: str = "ms") -> str:
    scale = 1000 if key == "ready_s" else 1
    return (
        f"{key.removesuffix('_ms').removesuffix('_s')} {ours[key] * scale:.2f}/"
        f"{bare[key] * scale:.2f} {unit} = {ours[key] / bare[key]:.1f}x"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="100 interactions (CI)")
    parser.add_argument("-n", type=int, default=None, help="interactions per side")
    parser.add_argument(
        "--size",
        type=lambda text: [int(p.replace("_", "")) for p in text.split(",") if p.strip()],
        help="guild members, or several sizes separated by commas (default 1000)",
    )
    args = parser.parse_args()
    n = args.n or (100 if args.smoke else 1000)
    sizes = args.size or [1000]
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} discord.py={discord.__version__} "
        f"system={platform.system()} {platform.release()} "
        f"load={' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    print(
        f"data: 1 guild of {', '.join(f'{m:,}' for m in sizes)} members ({ACTIVE} of them send "
        f"commands), {n} interactions per side, interleaved (/help: embed + button, "
        "ephemeral); every request validated against the OpenAPI document",
        flush=True,
    )
    results = {}
    for members in sizes:
        figures = measure_interleaved(members, n)
        results[members] = figures
        bare, ours = figures["bare"], figures["leerbot"]
        _report("bare discord.py", members, bare)
        _report("leerbot", members, ours)
        print(
            f"ratio leerbot / bare discord.py at {members:,} members: "
            + ", ".join(_ratio(ours, bare, k) for k in ("ready_s", "p50_ms", "p95_ms", "p99_ms"))
            + " (leerbot: READY includes migrating a fresh database and syncing its commands; "
            "each interaction includes a database unit of work)",
            flush=True,
        )
    if len(sizes) > 1:
        small, large = results[sizes[0]], results[sizes[-1]]
        print(f"growth from {sizes[0]:,} to {sizes[-1]:,} members ({sizes[-1] / sizes[0]:.0f}x):")
        for kind in ("bare", "leerbot"):
            print(
                f"  {kind}: "
                + ", ".join(
                    _ratio(large[kind], small[kind], k) for k in ("ready_s", "p50_ms", "p95_ms")
                )
            )
    print(
        f"peak RSS of the coordinating process: {peak_rss_mib():.0f} MiB; load at the end "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )


if __name__ == "__main__":
    main()
