"""Benchmark: every message once through SIGKILL (`leerbot.chat.delivery`).

`leerbot run` runs as a program against the local fake Discord, which runs in this
benchmark's process (so it can read what arrived). Each trial gives the bot work of one
kind, starts it, and kills it with SIGKILL at a random moment; some trials kill it twice.
After each kill the bot is started again and goes on; once all scheduled work is done the
fake's messages are counted against what was expected. The kinds:

- fan-out: a reflection round's invitations by DM to every member (`--members`);
- notice: agenda status changes, each a DM to the point's author;
- card: new agenda points, each a card in #agenda with its thread and its first message;
- summary: a reviewed round summary published in #aankondigingen.

The moment of a kill is random in one of three ways: after a random delay; when the bot asks
for its k-th message (random k), before the fake makes it; or right after the fake made it,
before the answer reaches the bot (the case a nonce is for). Each start trusts Discord's
nonce memory for the default 120 s, or for 0 s (`discord.nonce_trust_seconds`), so the bot
looks in the channel's history after every kill: both ways of recognising a message sent
before the crash are exercised. Work is made in the database (as a command would make it)
while the bot is down, and the bot picks it up when it starts. A killed bot's lease and
process row are expired at once (as 30 s would): no restart waits for the lease. The fake
keeps Discord's rate limits except the DM-channel bucket, widened so a trial takes seconds
(`bench_round_dms.py` measures at the fake's own limits).

Prints the data size, the machine, the kills per kind and the lost (an expected message that
never arrived) and duplicated (arrived more than once) per kind, per database. Exits 1 when
anything was lost or duplicated, or work did not finish; it asserts nothing about time.

    python benchmarks/bench_crash.py                       # SQLite and PostgreSQL, 20 kills each
    python benchmarks/bench_crash.py --smoke               # CI: 4 kills each (6.5 min at load 10)
    python benchmarks/bench_crash.py --database sqlite --kills 40 --seed 7
    python benchmarks/bench_crash.py --postgresql-url postgresql+asyncpg://postgres@host/db

PostgreSQL: a fresh database `leerbot_bench_<random>` on the server of `--postgresql-url`
(default: env LEERBOT_TEST_DATABASE_URL, else postgresql+asyncpg://postgres@127.0.0.1/test),
dropped afterwards.

Latest full run, 2026-12-01, after the fan-out change (several messages under way, records
a batch ahead): 200 members (+ the coordinator) per fan-out, 20 notices, 10 cards and 10
summaries per trial, 20 kills per database, seed 1; 2-core x86_64, Python 3.11, with heavy
other work on the machine (load average 8-22: a start of `leerbot run` took 50-80 s), both
databases at once, 55 minutes:

    kind      trials  kills  expected  SQLite: lost  dup    PostgreSQL: lost  dup
    fan-out        4      5       804            0     0                 0     0
    notice         4      5        80            0     0                 0     0
    card           4      5       200            0     0                 0     0
    summary        4      5        40            0     0                 0     0

(the same plan on both: 4 trials killed twice; moments on SQLite: 5 after a delay, 8 before
and 7 right after a message was made; PostgreSQL 4, 8 and 8. "card" counts each card and
its thread's first message, and the cards of the points the notices change. No job ended
with an error, no record was left failed or unchecked. The first 7 kills of each ran with
the fan-out recording all its recipients up front, the rest with a batch ahead.)
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import platform
import random
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from _database import fresh_database  # benchmarks/_database.py
from sqlalchemy import func, select, update

from leerbot import scheduling
from leerbot.app import open_app
from leerbot.config import Settings, load_settings
from leerbot.core import agenda, reflections
from leerbot.core.actor import Actor, Function, Identity
from leerbot.core.community import resolve_actor
from leerbot.db.engine import create_engine, make_sessionmaker
from leerbot.db.models import (
    ChannelPost,
    Community,
    Member,
    ReflectionRound,
    ReminderDelivery,
    RoundRecipient,
    RunningProcess,
    ScheduledJob,
    SchedulerLease,
)
from leerbot.testing import FakeDiscord, run_fake_discord
from leerbot.testing.state import ADMINISTRATOR, Channel, Message
from leerbot.testing.state import Member as FakeMember

KINDS = ("fan-out", "notice", "card", "summary")
MESSAGES = "POST /channels/{channel_id}/messages"
QUESTIONS = [{"id": "q1", "nl": "Wat neem je mee?", "en": "What do you take away?", "source": "-"}]
READY_TIMEOUT = 240.0
DONE_TIMEOUT = 600.0
MIGRATING = asyncio.Lock()


def seen(message: Message) -> str:
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        parts += [f"{f['name']} {f['value']}" for f in embed.get("fields") or []]
    parts += [a.filename for a in message.attachments]
    return "\n".join(parts)


@dataclass
class Check:
    """One expected message: where to look and how to know it."""

    kind: str
    count: Callable[[], int]


@dataclass
class Tally:
    trials: int = 0
    kills: int = 0
    expected: int = 0
    lost: int = 0
    duplicated: int = 0


@dataclass
class Figures:
    database: str
    tallies: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in KINDS})
    modes: dict[str, int] = field(default_factory=dict)
    unfinished: int = 0
    undelivered_rows: int = 0
    job_errors: int = 0
    seconds: float = 0.0
    double_kill_trials: int = 0


class Bench:
    def __init__(
        self,
        fake: FakeDiscord,
        world: dict[str, Any],
        url: str,
        tmp: Path,
        rng: random.Random,
        sizes: dict[str, int],
        figures: Figures,
        verbose: bool,
    ) -> None:
        self.fake = fake
        self.world = world
        self.url = url
        self.tmp = tmp
        self.rng = rng
        self.sizes = sizes
        self.figures = figures
        self.verbose = verbose
        self.engine = create_engine(url)
        self.sessionmaker = make_sessionmaker(self.engine)
        self.settings: Settings = load_settings(environ={"LEERBOT_DATABASE_URL": url})
        self.log = tmp / "leerbot-run.log"
        self.process: asyncio.subprocess.Process | None = None
        self.checks: list[Check] = []
        self.serial = itertools.count(1)
        self.pool: list[tuple[int, str, FakeMember]] = []  # agenda points for notices
        self.estimate = {
            "fan-out": sizes["members"] * 2 / 50,
            "notice": 2.0,
            "card": sizes["batch"] * 1.2,
            "summary": sizes["batch"] * 1.2,
        }
        self.configs = {}
        for trust in (0, 120):
            path = tmp / f"trust-{trust}.yaml"
            path.write_text(f"discord:\n  nonce_trust_seconds: {trust}\n", "utf-8")
            self.configs[trust] = path
        self.by_platform_id = {str(m.user.id): m for m in [world["admin"], *world["members"]]}

    # -- the community -------------------------------------------------------------------

    async def prepare(self) -> None:
        async with MIGRATING, open_app(self.settings):
            pass  # the schema, as `leerbot run` makes it (Alembic: one at a time)
        guild = self.world["guild"]
        now = datetime.now(UTC)
        async with self.sessionmaker() as db, db.begin():
            community = Community(
                platform_id=str(guild.id),
                name="Community of Learners",
                locale="nl",
                announcement_channel_id=str(self.world["announcements"].id),
                agenda_channel_id=str(self.world["agenda"].id),
            )
            db.add(community)
            await db.flush()
            self.community_id = community.id
            db.add_all(
                Member(
                    community_id=community.id,
                    platform_id=str(m.user.id),
                    display_name=m.name,
                    is_moderator=False,
                    is_coordinator=False,
                    share_lived_experience=False,
                    created_at=now,
                    updated_at=now,
                )
                for m in self.world["members"]
            )
            self.admin = await self.actor(db, community, self.world["admin"], coordinator=True)

    async def actor(
        self, db: Any, community: Community, member: FakeMember, *, coordinator: bool = False
    ) -> Actor:
        granted = {Function.COORDINATOR, Function.MODERATOR} if coordinator else set()
        return await resolve_actor(
            db,
            community,
            Identity(str(member.user.id), member.name, granted_functions=frozenset(granted)),
        )

    async def _community(self, db: Any) -> Community:
        community = await db.get(Community, self.community_id)
        assert community is not None
        return community

    # -- the bot as a program ------------------------------------------------------------

    def environment(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")}
        return env | {
            "LEERBOT_DATABASE_URL": self.url,
            "LEERBOT_DISCORD_TOKEN": self.fake.token,
            "LEERBOT_DISCORD_URL": self.fake.base_url,
        }

    async def start(self, trust: int) -> asyncio.subprocess.Process:
        with self.log.open("ab") as out:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "leerbot",
                "run",
                cwd=self.tmp,
                env=self.environment() | {"LEERBOT_CONFIG": str(self.configs[trust])},
                stdout=out,
                stderr=out,
            )
        process = self.process
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if process.returncode is not None:
                raise RuntimeError(f"leerbot run exited {process.returncode}; see {self.log}")
            async with self.sessionmaker() as db:
                held = await db.scalar(
                    select(func.count())
                    .select_from(SchedulerLease)
                    .join(RunningProcess, RunningProcess.holder == SchedulerLease.holder)
                    .where(
                        RunningProcess.pid == process.pid,
                        SchedulerLease.expires_at > datetime.now(UTC),
                    )
                )
            if held:
                return process
            await asyncio.sleep(0.05)
        raise RuntimeError(f"leerbot run did not take the scheduler in time; see {self.log}")

    def kill_now(self) -> None:
        process = self.process
        if process is not None and process.returncode is None:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    async def after_kill(self, process: asyncio.subprocess.Process) -> None:
        """What 30 s would do: the killed process's lease and row expire."""
        await process.wait()
        past = datetime.now(UTC) - timedelta(minutes=5)
        async with self.sessionmaker() as db, db.begin():
            mine = select(RunningProcess.holder).where(RunningProcess.pid == process.pid)
            holders = list(await db.scalars(mine))
            await db.execute(
                update(RunningProcess)
                .where(RunningProcess.holder.in_(holders))
                .values(expires_at=past)
            )
            await db.execute(
                update(SchedulerLease)
                .where(SchedulerLease.holder.in_(holders))
                .values(expires_at=past)
            )

    async def stop(self, process: asyncio.subprocess.Process) -> None:
        """All due work is done, nothing is in flight: a kill is as good as a clean stop
        (tests/e2e/test_stop.py tests that) and the next start need not wait."""
        self.kill_now()
        await self.after_kill(process)

    async def pending(self) -> int:
        """Scheduled work that is due and not finished."""
        async with self.sessionmaker() as db:
            return int(
                await db.scalar(
                    select(func.count())
                    .select_from(ScheduledJob)
                    .where(
                        ScheduledJob.due_at <= datetime.now(UTC),
                        ScheduledJob.fired_at.is_(None),
                        ScheduledJob.cancelled_at.is_(None),
                        ScheduledJob.missed_at.is_(None),
                    )
                )
                or 0
            )

    async def finished(self, process: asyncio.subprocess.Process) -> bool:
        """Wait until all due work is done (True), or the process ended (False); after
        DONE_TIMEOUT the work is left unfinished (counted, and lost messages show)."""
        deadline = time.monotonic() + DONE_TIMEOUT
        while process.returncode is None:
            if not await self.pending() or time.monotonic() > deadline:
                return True
            await asyncio.sleep(0.1)
        return False

    # -- a kill at a random moment -------------------------------------------------------

    def arm(self, kind: str, remaining: int) -> Callable[[], None]:
        """Arm one kill; returns what disarms it."""
        mode = self.rng.choice(("delay", "before", "after"))
        self.figures.modes[mode] = self.figures.modes.get(mode, 0) + 1
        if mode == "delay":
            wait = self.rng.uniform(0.0, max(self.estimate[kind], 0.5))

            async def later() -> None:
                await asyncio.sleep(wait)
                self.kill_now()

            task = asyncio.create_task(later())
            return task.cancel
        target = self.rng.randint(1, max(1, remaining))
        counter = itertools.count(1)
        fault = self.fake.rest.fail(
            MESSAGES,
            status=None,
            after=mode == "after",
            when=lambda ctx: next(counter) == target,
            action=self.kill_now,
        )

        def disarm() -> None:
            if fault in self.fake.rest.faults:
                self.fake.rest.faults.remove(fault)

        return disarm

    # -- work of each kind, made while the bot is down -----------------------------------

    async def make_fan_out(self) -> list[Check]:
        title = f"Ronde F{next(self.serial)}"
        async with self.sessionmaker() as db, db.begin():
            item = await reflections.start(
                db,
                self.admin,
                self.settings,
                title=title,
                questions=QUESTIONS,
                anonymity="named",
                min_answers=1,
                summary_to="moderators",
            )
            await scheduling.cancel(db, f"round:{item.id}:reminder")
            await scheduling.cancel(db, f"round:{item.id}:close")
            ids = list(
                await db.scalars(
                    select(Member.platform_id)
                    .join(RoundRecipient, RoundRecipient.member_id == Member.id)
                    .where(RoundRecipient.round_id == item.id)
                )
            )
        prefix = f"Reflectieronde: {title}"
        return [Check("fan-out", self._dm_counter(self.by_platform_id[pid], prefix)) for pid in ids]

    def _dm_counter(self, member: FakeMember, text: str) -> Callable[[], int]:
        return lambda: sum(1 for m in self.fake.dms(member) if text in seen(m))

    async def propose(self, count: int, prefix: str) -> list[tuple[int, str, FakeMember]]:
        made = []
        people = self.world["members"]
        async with self.sessionmaker() as db, db.begin():
            community = await self._community(db)
            for _ in range(count):
                number = next(self.serial)
                author = people[number % len(people)]
                title = f"{prefix}{number} meer intervisie"
                actor = await self.actor(db, community, author)
                item = await agenda.propose(
                    db,
                    actor,
                    self.settings,
                    title=title,
                    description="Wat nodig is.",
                    theme="samenwerking",
                    kind="wens",
                    level="organisatie",
                )
                made.append((item.id, title, author))
        return made

    async def make_cards(self) -> list[Check]:
        checks = []
        for _, title, _ in await self.propose(self.sizes["batch"], "Punt C"):
            checks.append(Check("card", self._card_counter(title)))
            checks.append(Check("card", self._intro_counter(title)))
        return checks

    def _cards(self, title: str) -> list[Message]:
        return [m for m in self.fake.messages(self.world["agenda"]) if title in seen(m)]

    def _card_counter(self, title: str) -> Callable[[], int]:
        return lambda: len(self._cards(title))

    def _intro_counter(self, title: str) -> Callable[[], int]:
        def count() -> int:
            total = 0
            for card in self._cards(title):
                thread: Channel | None = self.fake.channels.get(card.id)
                if thread is not None:
                    total += sum(1 for m in self.fake.messages(thread) if m.author.bot)
            return total

        return count

    async def make_notices(self) -> list[Check]:
        batch = self.sizes["batch"] * 2
        if len(self.pool) < batch:
            raise RuntimeError("the pool of agenda points for notices ran out")
        chosen, self.pool = self.pool[:batch], self.pool[batch:]
        async with self.sessionmaker() as db, db.begin():
            for item_id, _, _ in chosen:
                await agenda.set_status(db, self.admin, item_id, "besproken", "In de raad.")
        return [Check("notice", self._dm_counter(author, title)) for _, title, author in chosen]

    async def make_summaries(self) -> list[Check]:
        checks = []
        async with self.sessionmaker() as db, db.begin():
            for _ in range(self.sizes["batch"]):
                title = f"Ronde S{next(self.serial)}"
                item = await reflections.start(
                    db,
                    self.admin,
                    self.settings,
                    title=title,
                    questions=QUESTIONS,
                    anonymity="named",
                    min_answers=1,
                    audience_kind="everyone",
                )
                await scheduling.cancel(db, f"round:{item.id}:")  # no invitations here
                await reflections.close(db, item.id, self.settings)
                await db.execute(
                    update(ReflectionRound)
                    .where(ReflectionRound.id == item.id)
                    .values(review_state="pending")  # as if enough people answered
                )
                await reflections.publish(db, self.admin, item.id, self.settings)
                checks.append(Check("summary", self._summary_counter(title)))
        return checks

    def _summary_counter(self, title: str) -> Callable[[], int]:
        channel = self.world["announcements"]
        return lambda: sum(1 for m in self.fake.messages(channel) if title in seen(m))

    # -- trials --------------------------------------------------------------------------

    async def setup_pool(self, trials: int) -> None:
        """Agenda points whose status the notice trials change; their cards posted now."""
        self.pool = await self.propose(self.sizes["batch"] * 2 * trials, "Punt N")
        process = await self.start(120)
        done = await self.finished(process)
        await self.stop(process)
        if not done:
            raise RuntimeError(f"the bot stopped while posting the first cards; see {self.log}")
        self.checks += [Check("card", self._card_counter(t)) for _, t, _ in self.pool]

    async def trial(self, kind: str, kills: int) -> int:
        make: dict[str, Callable[[], Awaitable[list[Check]]]] = {
            "fan-out": self.make_fan_out,
            "notice": self.make_notices,
            "card": self.make_cards,
            "summary": self.make_summaries,
        }
        checks = await make[kind]()
        self.checks += checks
        tally = self.figures.tallies[kind]
        tally.trials += 1
        killed = 0
        trusts = []
        while True:
            trust = self.rng.choice((0, 120))
            trusts.append(trust)
            started = time.monotonic()
            process = await self.start(trust)
            ready = time.monotonic()
            if self.verbose:
                print(f"    started in {ready - started:.1f} s", flush=True)
            disarm = None
            if killed < kills:
                remaining = sum(1 for c in checks if c.count() == 0)
                disarm = self.arm(kind, remaining)
            done = await self.finished(process)
            if disarm is not None:
                disarm()
            if done:
                if killed == 0:
                    took = time.monotonic() - ready
                    self.estimate[kind] = max(0.5, 0.5 * self.estimate[kind] + 0.5 * took)
                t0 = time.monotonic()
                await self.stop(process)
                if self.verbose:
                    print(
                        f"    done {t0 - started:.1f} s, stopped in {time.monotonic() - t0:.1f} s",
                        flush=True,
                    )
                break
            killed += 1
            await self.after_kill(process)
        tally.kills += killed
        if killed >= 2:
            self.figures.double_kill_trials += 1
        if self.verbose:
            counts = [c.count() for c in checks]
            lost = sum(1 for n in counts if n == 0)
            dup = sum(n - 1 for n in counts if n > 1)
            print(
                f"  {self.figures.database} {kind}: {killed} kill(s) of {kills}, "
                f"trust {trusts}, {len(checks)} expected, lost {lost}, duplicated {dup}",
                flush=True,
            )
        return killed

    async def count(self) -> None:
        for check in self.checks:
            n = check.count()
            tally = self.figures.tallies[check.kind]
            tally.expected += 1
            tally.lost += n == 0
            tally.duplicated += max(0, n - 1)
        async with self.sessionmaker() as db:
            self.figures.unfinished = await self.pending()
            self.figures.job_errors = int(
                await db.scalar(
                    select(func.count())
                    .select_from(ScheduledJob)
                    .where(ScheduledJob.error.is_not(None))
                )
                or 0
            )
            self.figures.undelivered_rows = int(
                await db.scalar(
                    select(func.count())
                    .select_from(ReminderDelivery)
                    .where(ReminderDelivery.via.in_(("failed", "unchecked")))
                )
                or 0
            ) + int(
                await db.scalar(
                    select(func.count())
                    .select_from(ChannelPost)
                    .where(ChannelPost.state.in_(("failed", "unchecked")))
                )
                or 0
            )

    async def close(self) -> None:
        if self.process is not None and self.process.returncode is None:
            self.process.kill()
            await self.process.wait()
        await self.engine.dispose()


def _tail(path: Path) -> str:
    return path.read_text("utf-8", errors="replace")[-5000:] if path.exists() else ""


def declare(fake: FakeDiscord, members: int) -> dict[str, Any]:
    guild = fake.add_guild("Community of Learners", locale="nl")
    beheer = fake.add_role(guild, "Beheer", permissions=ADMINISTRATOR)
    world: dict[str, Any] = {"guild": guild}
    world["algemeen"] = fake.add_channel(guild, "algemeen")
    world["announcements"] = fake.add_channel(guild, "aankondigingen")
    world["agenda"] = fake.add_channel(guild, "agenda")
    world["admin"] = fake.add_member(guild, "Coördinator", roles=[beheer], locale="nl")
    world["members"] = [fake.add_member(guild, f"Lid {i + 1}", locale="nl") for i in range(members)]
    # Opening a DM channel is 10 per 10 s in the fake (a guess at Discord's); a trial of 200
    # members would take minutes. bench_round_dms.py measures at that limit.
    fake.rest.limiter.set_route("POST /users/@me/channels", 50, 1.0)
    return world


def plan(kills: int, rng: random.Random) -> list[tuple[str, int]]:
    """Trials in a random order: each kind gets its share of the kills; about one in three
    trials kills twice."""
    trials: list[tuple[str, int]] = []
    for index, kind in enumerate(KINDS):
        share = kills // len(KINDS) + (1 if index < kills % len(KINDS) else 0)
        while share > 0:
            twice = share >= 2 and rng.random() < 0.35
            trials.append((kind, 2 if twice else 1))
            share -= 2 if twice else 1
    rng.shuffle(trials)
    return trials


async def run_database(
    name: str, server: str | None, kills: int, sizes: dict[str, int], seed: int, verbose: bool
) -> Figures:
    figures = Figures(name)
    rng = random.Random(seed)
    started = time.monotonic()
    trials = plan(kills, rng)
    notices = sum(1 for kind, _ in trials if kind == "notice")
    world: dict[str, Any] = {}
    async with fresh_database(server) as url:
        with tempfile.TemporaryDirectory() as folder:
            async with run_fake_discord(
                lambda fake: world.update(declare(fake, sizes["members"]))
            ) as fake:
                bench = Bench(fake, world, url, Path(folder), rng, sizes, figures, verbose)
                try:
                    await bench.prepare()
                    await bench.setup_pool(notices + 2)
                    queue = list(trials)
                    extra = 0
                    while queue:
                        kind, planned = queue.pop(0)
                        killed = await bench.trial(kind, planned)
                        if killed < planned and extra < kills:  # the work ended first
                            queue.append((kind, planned - killed))
                            extra += 1
                    await bench.count()
                except BaseException:
                    if verbose:
                        print(_tail(Path(folder, "leerbot-run.log")))
                    raise
                finally:
                    await bench.close()
    figures.seconds = time.monotonic() - started
    return figures


def report(all_figures: list[Figures], sizes: dict[str, int]) -> bool:
    print(
        f"machine: {platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}"
    )
    print(
        f"data: {sizes['members']} members (+1 coordinator) per fan-out, {sizes['batch'] * 2} "
        f"notices, {sizes['batch']} cards (+thread message) and {sizes['batch']} summaries "
        f"per trial"
    )
    ok = True
    for figures in all_figures:
        print(
            f"\n{figures.database}: {figures.seconds:.0f} s, "
            f"{sum(t.kills for t in figures.tallies.values())} kills "
            f"({figures.double_kill_trials} trials killed twice; moments: "
            + ", ".join(f"{k} {v}" for k, v in sorted(figures.modes.items()))
            + ")"
        )
        print(f"  {'kind':<8} {'trials':>6} {'kills':>5} {'expected':>8} {'lost':>5} {'dup':>5}")
        for kind, t in figures.tallies.items():
            print(
                f"  {kind:<8} {t.trials:>6} {t.kills:>5} {t.expected:>8} "
                f"{t.lost:>5} {t.duplicated:>5}"
            )
        print(
            f"  unfinished jobs {figures.unfinished}, jobs with an error {figures.job_errors}, "
            f"records failed/unchecked {figures.undelivered_rows}"
        )
        bad = any(t.lost or t.duplicated for t in figures.tallies.values())
        ok = ok and not bad and not figures.unfinished
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--postgresql-url", help="server for PostgreSQL (see above)")
    parser.add_argument("--smoke", action="store_true", help="small and quick (CI)")
    parser.add_argument("--kills", type=int, help="kills per database (default 20, smoke 4)")
    parser.add_argument("--members", type=int, help="fan-out size (default 200, smoke 30)")
    parser.add_argument("--batch", type=int, help="cards/summaries per trial (default 10)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--verbose", action="store_true", help="a line per trial")
    args = parser.parse_args()
    sizes = {
        "members": args.members or (30 if args.smoke else 200),
        "batch": args.batch or (3 if args.smoke else 10),
    }
    kills = args.kills or (4 if args.smoke else 20)
    server = (
        args.postgresql_url
        or os.environ.get("LEERBOT_TEST_DATABASE_URL")
        or "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    chosen = ("sqlite", "postgresql") if args.database == "both" else (args.database,)

    async def everything() -> list[Figures]:
        # both databases at once, each with its own fake and bot: half the waiting for starts
        return list(
            await asyncio.gather(
                *(
                    run_database(
                        name,
                        server if name == "postgresql" else None,
                        kills,
                        sizes,
                        args.seed,
                        args.verbose,
                    )
                    for name in chosen
                )
            )
        )

    ok = report(asyncio.run(everything()), sizes)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
