"""Benchmark: a crowd pressing the same button at once, on a loaded machine.

`--size` members (default 200) of one server press "Ik kom" on one intervisie session's
card at the same moment, through the local fake Discord (`leerbot.testing`, in this process)
and the real bot (`leerbot run` pointed at the fake, in its own process), while two
CPU-burning processes
(`python -c "while True: pass"`) load the machine for the whole run. The session has room for
a quarter of them; the rest go on the waitlist, so every press is a real unit of work (lock
the occurrence, count, insert, audit) followed by a card edit.

Measured on the fake's side, as Discord counts: from the moment the interaction is created
until the bot's initial response (the acknowledgement) arrives. A press with no initial
response within Discord's 3 s is *unanswered* (the member sees "interaction failed").
Printed: data size, machine (platform, cpus, load average), unanswered, acknowledgement time
p50/p99/max, how many presses got their visible answer (the follow-up), and the peak RSS of
the bot (and of the fake). The fake's own work (it checks every request against Discord's
OpenAPI document) is on the same machine, which makes the figures pessimistic. Asserts
nothing.

    python benchmarks/bench_presses.py                       # 200 presses, SQLite
    python benchmarks/bench_presses.py --database both       # SQLite and PostgreSQL
    python benchmarks/bench_presses.py --smoke               # CI: 40 presses, under a minute
    python benchmarks/bench_presses.py --size 500 --database postgresql \
        --postgresql-url postgresql+asyncpg://postgres@127.0.0.1:5432/test

For PostgreSQL a fresh database is made on the server of `--postgresql-url` (default
`$LEERBOT_TEST_DATABASE_URL`) and dropped afterwards.

Full run, 2026-12-01 02:05-02:13 UTC, 2-cpu x86_64 (Linux 6.18, Python 3.11.7, discord.py
2.7.1), 200 presses, the bot as `leerbot run` in its own process, two CPU burners, and at the
same time other engineers' test runs and the reminder benchmark (load average 17-24 on 2
cpus, so each process got a small share of a cpu):

    SQLite:      184 of 200 unanswered; of the 16 acknowledged p50 1183 ms, p99 2843 ms;
                 bot peak RSS 136 MiB
    PostgreSQL:  0 of 200 unanswered; ack p50 1947 ms, p99 2611 ms, max 2613 ms;
                 74/200 visible answers after 120 s; bot peak RSS 123 MiB

Where the time went (traced on SQLite at load 8-13, before the changes in `client.py`): the
bot's handler started p50 1.4 s after the fake created the press (delivery over the gateway
and discord.py's parsing, in a starved process), and the acknowledgement then took seconds
to reach the fake, because discord.py opened one new connection per request (no connection
limit) and 200 connects at once overflowed the fake's listen backlog (128): the system
retries a refused connect after 1 s and 3 s. Also, 8 units of work side by side kept the
bot's event loop from sending the later acknowledgements. `client.py` now limits the
connections (aiohttp's default of 100), acknowledges every pending press before any work
starts, runs the work 8 at a time, and does not answer an interaction Discord has already
forgotten a second time. On this overloaded machine the figures still swing from run to
run (SQLite 75-200 unanswered); the acknowledgement is no longer behind the work, but the
machine leaves no margin to show a clean result. The fake's own checks of each request
against the OpenAPI document are remembered per distinct body (`remember_checks`), so
that 200 identical acknowledgements do not each cost it ~10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import discord
from _database import fresh_database  # benchmarks/_database.py

from leerbot.testing import FakeDiscord, run_fake_discord
from leerbot.testing.api import InteractionRecord
from leerbot.testing.state import ADMINISTRATOR, GUILD_VOICE

DISCORD_LIMIT = 3.0
BURNERS = 2
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def remember_checks() -> None:
    """The fake checks every request body against Discord's OpenAPI document (jsonschema,
    about 10 ms a body on a loaded machine, in the fake's one event loop). 200 identical
    acknowledgements would then queue behind each other in the fake for seconds that Discord
    does not spend. The result depends only on the body, so remember it: every body is still
    checked, each distinct one once."""
    from leerbot.testing import openapi

    check = openapi.validate
    known: dict[tuple[str, str], list[Any]] = {}

    def validate(pointer: str, body: Any) -> list[Any]:
        try:
            key = (pointer, json.dumps(body, sort_keys=True))
        except (TypeError, ValueError):
            return check(pointer, body)
        if key not in known:
            known[key] = check(pointer, body)
        return list(known[key])

    openapi.validate = validate  # type: ignore[assignment]


def max_rss_mib() -> float:
    """The process's high-water mark (Linux reports KiB, macOS bytes)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


def load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


@contextmanager
def burning(count: int) -> Iterator[None]:
    """`count` processes that burn a CPU each until the block ends."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield
    finally:
        for burner in burners:
            burner.kill()
        for burner in burners:
            burner.wait()


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def seen(message: Any) -> str:
    parts = [message.content or ""]
    for embed in message.embeds or []:
        parts.append(str(embed.get("title") or ""))
        parts.append(str(embed.get("description") or ""))
    return "\n".join(p for p in parts if p)


def declare(fake: FakeDiscord, size: int) -> dict[str, Any]:
    guild = fake.add_guild("Community of Learners", locale="nl")
    beheer = fake.add_role(guild, "Beheer", permissions=ADMINISTRATOR)
    return {
        "guild": guild,
        "coordinators": fake.add_role(guild, "Coördinatoren"),
        "announcements": fake.add_channel(guild, "aankondigingen"),
        "agenda": fake.add_channel(guild, "ontwikkelagenda"),
        "sessions": fake.add_channel(guild, "intervisie"),
        "voice": fake.add_channel(guild, "Intervisie spraak", type=GUILD_VOICE),
        "admin": fake.add_member(guild, "Anna Beheer", roles=[beheer], locale="nl"),
        "crowd": [
            fake.add_member(guild, f"Lid {n:04}", locale="nl" if n % 3 else "en-GB")
            for n in range(size)
        ],
    }


@contextmanager
def bot_process(fake: FakeDiscord, url: str, guild_id: int, folder: str) -> Iterator[Any]:
    """`leerbot run` as a program of its own, pointed at the fake (as `.ci/image-recipe`
    does): the fake's own work (it checks every request against Discord's OpenAPI document)
    then does not sit in the bot's event loop."""
    config = os.path.join(folder, "leerbot.yaml")
    with open(config, "w", encoding="utf-8") as out:
        out.write(f"discord:\n  test_guild_id: {guild_id}\n")
    env = dict(os.environ)
    env.update(
        {
            "LEERBOT_DATABASE_URL": url,
            "LEERBOT_DISCORD_TOKEN": fake.token,
            "LEERBOT_DISCORD_URL": fake.base_url,
        }
    )
    with open(os.path.join(folder, "bot.log"), "wb") as log:
        bot = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "leerbot",
                "--config",
                config,
                "run",
            ],
            env=env,
            cwd=folder,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield bot
        finally:
            if bot.poll() is None:
                bot.send_signal(signal.SIGTERM)
                try:
                    bot.wait(30)
                except subprocess.TimeoutExpired:
                    bot.kill()
                    bot.wait()


def connected(fake: FakeDiscord, guild_id: int) -> bool:
    return bool(fake.commands.get(guild_id)) and bool(fake.gateway.sessions)


def tail(log: Path) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-4000:]


def peak_rss_mib(pid: int) -> float | None:
    """A running process's high-water mark (Linux: VmHWM), None elsewhere."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


async def measure(url: str, size: int) -> dict[str, Any]:
    declared: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as folder:
        async with run_fake_discord(lambda fake: declared.update(declare(fake, size))) as fake:
            guild = declared["guild"]
            with bot_process(fake, url, guild.id, folder) as bot:
                try:
                    await fake.wait_until(
                        lambda: (
                            bot.poll() is not None
                            or bool(fake.commands.get(guild.id) and fake.gateway.sessions)
                        ),
                        timeout=180,
                        what="the bot connected, its commands synced",
                    )
                    if bot.poll() is not None:
                        raise RuntimeError(f"the bot stopped (exit {bot.returncode})")
                    figures = await crowd(fake, declared)
                    figures["bot_rss_mib"] = peak_rss_mib(bot.pid)
                except BaseException:
                    print(tail(Path(folder, "bot.log")), file=sys.stderr)
                    raise
    return figures


async def crowd(fake: FakeDiscord, declared: dict[str, Any]) -> dict[str, Any]:
    admin = declared["admin"]
    await fake.slash(
        admin,
        "leerbot setup",
        aankondigingen=declared["announcements"],
        agenda=declared["agenda"],
        sessies=declared["sessions"],
        coordinatorrol=declared["coordinators"],
        taal="nl",
        timeout=30,
    )
    size = len(declared["crowd"])
    day = (datetime.now(AMSTERDAM) + timedelta(days=4)).date()
    await fake.slash(
        admin,
        "sessie plannen",
        titel="Drukte",
        start=f"{day.isoformat()} 19:30",
        spraakkanaal=declared["voice"],
        plaatsen=max(1, size // 4),
        timeout=30,
    )
    card = await fake.wait_until(
        lambda: next(
            (
                m
                for m in fake.messages(declared["sessions"])
                if seen(m).startswith("Intervisie #1:")
            ),
            None,
        ),
        timeout=60,
        what="the session's card",
    )
    button = next(
        b
        for row in card.components
        for b in row.get("components", [])
        if b.get("type") == 2 and b.get("label") == "Ik kom"
    )

    async def press(member: Any) -> InteractionRecord:
        """As `fake.click`, without its wait: 200 waiters re-checking every 50 ms would
        cost the fake's event loop more than the presses themselves."""
        data = {"custom_id": button["custom_id"], "component_type": 2}
        rec = fake._interaction_base(3, member, card.channel, data)
        rec.component_message = card
        rec.payload["message"] = fake._message_payload(card)
        fake.interactions[rec.id] = rec
        fake.interactions_by_token[rec.token] = rec
        await fake._dispatch("INTERACTION_CREATE", rec.payload)
        return rec

    began = time.perf_counter()
    presses = list(await asyncio.gather(*(press(m) for m in declared["crowd"])))
    deadline = time.perf_counter() + 180
    while time.perf_counter() < deadline:  # the visible answers come after the acks
        if all(r.answered() or r.expired for r in presses):
            break
        if (
            all(r.expired or r.response_type is not None for r in presses)
            and time.perf_counter() - began > 120
        ):
            break
        await asyncio.sleep(0.25)
    all_answered_s = time.perf_counter() - began
    acks = [
        r.responded_at - r.created for r in presses if r.responded_at is not None and not r.expired
    ]
    unanswered = sum(
        1
        for r in presses
        if r.expired or r.responded_at is None or r.responded_at - r.created > DISCORD_LIMIT
    )
    return {
        "presses": len(presses),
        "unanswered": unanswered,
        "acks": acks,
        "answered": sum(1 for r in presses if r.answered()),
        "all_answered_s": all_answered_s,
    }


async def run(kind: str, server: str | None, size: int) -> str:
    target = None if kind == "sqlite" else server
    async with fresh_database(target) as url:
        with burning(BURNERS):
            before = load()
            figures = await measure(url, size)
            after = load()
    acks = [a * 1000 for a in figures["acks"]]
    if acks:
        timing = (
            f"ack p50 {statistics.median(acks):.0f} ms, p99 {pct(acks, 0.99):.0f} ms, "
            f"max {max(acks):.0f} ms"
        )
    else:
        timing = "no acknowledgement at all"
    found = figures.get("bot_rss_mib")
    rss = "?" if found is None else f"{found:.0f} MiB"
    line = (
        f"{figures['presses']} presses, {figures['unanswered']} unanswered (no response within "
        f"{DISCORD_LIMIT:.0f} s); {timing}; {figures['answered']}/{figures['presses']} visible "
        f"answers after {figures['all_answered_s']:.1f} s; peak RSS of the bot {rss}, of the "
        f"fake (this process) {max_rss_mib():.0f} MiB"
    )
    print(f"[{kind}] load average {before} at the start, {after} at the end", flush=True)
    print(f"[{kind}] {line}", flush=True)
    return line


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=int, default=None, help="presses (default 200)")
    parser.add_argument("--smoke", action="store_true", help="CI: 40 presses, under a minute")
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("LEERBOT_TEST_DATABASE_URL"),
        help="a PostgreSQL server (default $LEERBOT_TEST_DATABASE_URL)",
    )
    args = parser.parse_args()
    size = args.size or (40 if args.smoke else 200)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not args.postgresql_url:
        parser.error("PostgreSQL needs --postgresql-url or LEERBOT_TEST_DATABASE_URL")
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} {platform.system()} {platform.release()} "
        f"discord.py={discord.__version__} load={load()}"
    )
    print(
        f"data: 1 server, {size} members pressing 'Ik kom' on one session card at once "
        f"(room for {max(1, size // 4)}, the rest on the waitlist); while {BURNERS} "
        "CPU-burning processes (python -c 'while True: pass') load the machine"
    )
    remember_checks()
    for kind in kinds:
        await run(kind, args.postgresql_url, size)


if __name__ == "__main__":
    asyncio.run(main())
