"""A clean stop (issue 14, item 5): `leerbot run` as a program against the local fake Discord.

SIGTERM (what `docker stop` sends) while a round's invitations are going out: the bot stops
taking new work, hands the unfinished job back, gives back the lease, closes the connection
and the database, and exits 0 before Docker would kill it (10 s). Started again, it finishes
the job: every member has exactly one invitation. `leerbot health` says 0 while it runs and
1 once it stopped.

The fake Discord runs in the test's process (the test acts as the members); only the bot is
a program, pointed at the fake with LEERBOT_DISCORD_URL."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from leerbot import health
from leerbot.config import Settings
from leerbot.db.engine import create_engine, make_sessionmaker
from leerbot.db.models import RunningProcess, ScheduledJob, SchedulerLease
from leerbot.testing import FakeDiscord, run_fake_discord
from leerbot.testing.serve import declare
from leerbot.testing.state import Member, Message
from tests.e2e.conftest import discord_world
from tests.e2e.test_discord_rounds import INVITE, seen, titled
from tests.waiting import GUARD, eventually

MEMBERS = 14
DOCKER_GRACE = 10.0
"""`docker stop` kills a program that has not stopped 10 s after SIGTERM."""


def invitations(fake: FakeDiscord, member: Member) -> list[Message]:
    return titled(fake.dms(member), INVITE)


def environment(database_url: str, fake: FakeDiscord) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")} | {
        "LEERBOT_DATABASE_URL": database_url,
        "LEERBOT_DISCORD_TOKEN": fake.token,
        "LEERBOT_DISCORD_URL": fake.base_url,
    }


@asynccontextmanager
async def leerbot_run(
    database_url: str, fake: FakeDiscord, cwd: Path, log: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    """`leerbot run` as a program; killed at the end if a test left it running."""
    with log.open("ab") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "leerbot",
            "run",
            cwd=cwd,
            env=environment(database_url, fake),
            stdout=out,
            stderr=out,
        )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def leerbot_health(database_url: str, cwd: Path) -> tuple[int, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "leerbot",
        "health",
        cwd=cwd,
        env=env | {"LEERBOT_DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), GUARD)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def stop(process: asyncio.subprocess.Process, number: int) -> float:
    """Send the signal; returns the seconds until the program ended (a figure, printed)."""
    started = time.monotonic()
    process.send_signal(number)
    try:
        await asyncio.wait_for(process.wait(), DOCKER_GRACE)
    except TimeoutError:
        raise AssertionError(f"still running {DOCKER_GRACE:.0f} s after the signal") from None
    return time.monotonic() - started


async def test_sigterm_with_a_job_in_flight_exits_0_and_the_job_completes_after_restart(
    database_url: str, tmp_path: Path
) -> None:
    world: dict[str, Any] = {}
    log = tmp_path / "leerbot-run.log"
    engine = create_engine(database_url)
    sessionmaker = make_sessionmaker(engine)

    async def healthy() -> bool:
        return (await health.check(engine, datetime.now(UTC))).ok

    async def deliver_job() -> ScheduledJob | None:
        async with sessionmaker() as db:
            return await db.scalar(
                select(ScheduledJob).where(ScheduledJob.key == "round:1:deliver")
            )

    try:
        async with run_fake_discord(lambda fake: world.update(declare(fake, MEMBERS))) as fake:
            admin: Member = world["admin"]
            everyone: list[Member] = [admin, *world["members"]]
            guild = world["guild"]
            announcements = next(c for c in guild.channels.values() if c.name == "aankondigingen")
            # one DM channel a second: the invitations take as many seconds as there are
            # members, so the job is certainly in flight when the signal comes
            fake.rest.limiter.set_route("POST /users/@me/channels", 1, 1.0)

            async with leerbot_run(database_url, fake, tmp_path, log) as bot:
                await eventually(healthy, "the bot connected and running its scheduled work")
                code, said = await leerbot_health(database_url, tmp_path)
                assert code == 0 and said.startswith("Gezond: "), said
                setup = await fake.slash(admin, "leerbot setup", aankondigingen=announcements)
                assert "De instellingen zijn opgeslagen." in seen(setup)
                for member in world["members"]:  # known to the bot from now on
                    await fake.slash(member, "ronde lijst")
                await fake.slash(admin, "ronde start", titel="Terugblik", vraag1="Wat neem je mee?")
                await fake.wait_until(
                    lambda: sum(1 for m in everyone if invitations(fake, m)) >= 2,
                    timeout=GUARD,
                    what="the first invitations",
                )
                took = await stop(bot, signal.SIGTERM)
                assert bot.returncode == 0, log.read_text()
            print(f"\nSIGTERM with a fan-out in flight: stopped in {took:.2f} s")

            reached = [m for m in everyone if invitations(fake, m)]
            assert 2 <= len(reached) < len(everyone), "the job was cut off by the stop"
            text = log.read_text()
            assert "SIGTERM: stopping" in text and "handed back" in text, text
            assert "Traceback" not in text, text
            handed = await deliver_job()
            assert handed is not None and handed.started_at is None and handed.fired_at is None
            async with sessionmaker() as db:  # the lease went back; the process is gone
                assert await db.scalar(select(SchedulerLease.holder)) is None
                assert await db.scalar(select(RunningProcess.holder)) is None
            code, said = await leerbot_health(database_url, tmp_path)
            assert code == 1 and said.startswith("Niet gezond: er draait geen bot"), said

            # started again: the job finishes, and nobody gets a second invitation
            async with leerbot_run(database_url, fake, tmp_path, log) as bot:
                await fake.wait_until(
                    lambda: all(invitations(fake, m) for m in everyone),
                    timeout=GUARD,
                    what="every invitation",
                )

                async def finished() -> bool:
                    job = await deliver_job()
                    return job is not None and job.fired_at is not None

                await eventually(finished, "the job recorded as done")
                took_again = await stop(bot, signal.SIGINT)  # Ctrl-C stops the same way
                assert bot.returncode == 0, log.read_text()
            print(f"SIGINT with nothing in flight: stopped in {took_again:.2f} s")
            assert [len(invitations(fake, m)) for m in everyone] == [1] * len(everyone)
    finally:
        await engine.dispose()


async def test_while_stopping_new_commands_are_answered_and_change_nothing(
    settings: Settings,
) -> None:
    async with discord_world(settings) as world:
        await world.app.dispatcher.close(timeout=0)  # what a stop does first
        answer = await world.fake.slash(world.sanne, "profiel instellen", rol="professional")
        assert answer.ephemeral
        assert seen(answer) == (
            "leerbot stopt even, bijvoorbeeld voor een update. Er is niets veranderd. "
            "Probeer het over een paar minuten nog eens."
        )
        answer = await world.fake.slash(world.kees, "help")
        assert seen(answer).startswith("leerbot is stopping for a moment")
