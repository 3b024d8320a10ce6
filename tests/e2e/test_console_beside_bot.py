"""A console started beside a running bot (issue 14, item 4). The README's Docker example
runs `leerbot console` on the bot's own database; before the lease, the console ran the bot's
due jobs after each line: invitations meant for members on Discord were printed in the
terminal and recorded as sent, and never reached them.

Now the bot holds the lease on scheduled work: a reminder that comes due while the console
runs is not printed there, not claimed, and reaches the members on Discord. The console still
runs the work of its own local community (its own round's invitations)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

from sqlalchemy import select

from leerbot.config import Settings
from leerbot.db.models import ScheduledJob
from tests.e2e.conftest import discord_world
from tests.e2e.test_console import run_console
from tests.e2e.test_discord_rounds import (
    SMALL,
    check_clean,
    invitation_for,
    make_due,
    reminders,
    setup_community,
    start_round,
)
from tests.waiting import eventually

CONSOLE_SCRIPT = """\
/leerbot setup aankondigingen:algemeen
.als Sanne ervaringsdeskundige
/ronde lijst
.als Mo moderator
/ronde start titel:Thuis vraag1:"Wat neem je mee?" anoniem:named minimum:1
/ronde lijst
"""


async def job(world_app: object, key: str) -> ScheduledJob:
    async with world_app.sessionmaker() as db:  # type: ignore[attr-defined]
        found = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
    assert found is not None, key
    return found


async def test_a_console_beside_a_running_bot_runs_none_of_the_bots_jobs(
    settings: Settings, database_url: str, tmp_path: Path
) -> None:
    small = settings.model_copy(
        update={"privacy": settings.privacy.model_copy(update={"small_number_threshold": SMALL})}
    )
    async with discord_world(small, scheduler=True) as world:
        app = world.app
        await setup_community(world)
        await start_round(world, vraag1="Wat neem je mee?", anoniem="named", minimum=2)
        for member in (world.sanne, world.kees, world.admin):
            await invitation_for(world, member)
        assert app.scheduler is not None and app.scheduler.is_leader
        # the reminder's time comes while the console runs (the bot's timer waits for the
        # old time; its periodic sweep would find the row)
        await make_due(world, "round:1:reminder")

        result = await asyncio.to_thread(
            run_console,
            database_url,
            CONSOLE_SCRIPT,
            "--as",
            "Co",
            "--role",
            "coordinator",
            "--no-demo",
            cwd=tmp_path,
        )
        out = result.stdout
        assert result.returncode == 0, out[-3000:] + result.stderr

        # nothing of the bot's work in the terminal: no reminder, no message to a member on
        # Discord (their names there are numbers), and the job is still the bot's to run
        assert "Terugblik" not in out and "Herinnering" not in out
        assert not re.search(r"\[privébericht aan \d+\]", out), out
        reminder = await job(app, "round:1:reminder")
        assert reminder.started_at is None and reminder.fired_at is None
        # the console's own round: its invitation is its own work, shown as before
        assert "[privébericht aan sanne]" in out
        own = await job(app, "round:2:deliver")
        assert own.fired_at is not None and own.claimed_by not in (None, app.scheduler.holder)

        # the bot's sweep finds the due reminder: the members get it on Discord, once
        await app.scheduler.load_pending()
        for member in (world.sanne, world.kees, world.admin):
            await world.fake.wait_until(
                lambda m=member: reminders(world, m), what=f"the reminder for {member.name}"
            )

        async def finished() -> ScheduledJob | None:
            found = await job(app, "round:1:reminder")
            return found if found.fired_at is not None else None

        sent = await eventually(finished, "the reminder job finished")
        assert sent.claimed_by == app.scheduler.holder
        assert all(len(reminders(world, m)) == 1 for m in (world.sanne, world.kees, world.admin))
        check_clean(world)
