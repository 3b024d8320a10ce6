"""One runner of scheduled work per database (issue 14, item 4), on SQLite and PostgreSQL.

Two schedulers with different holder names play two processes on one database. Time is a
`FakeClock` the test moves: a lease expires because the clock passed its expiry, never
because the test waited."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from leerbot import lease
from leerbot.app import App
from leerbot.clock import FakeClock
from leerbot.db.engine import create_engine
from leerbot.db.models import RunningProcess, ScheduledJob, SchedulerLease
from leerbot.scheduling import HandBack, JobRun, Scheduler, run_due, schedule
from tests.helpers import actor_for
from tests.waiting import eventually

AFTER_EXPIRY = lease.TTL + timedelta(seconds=1)


class Handler:
    """Records each run; `block` makes a run wait until released (a job in flight)."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, str]] = []
        self.started: list[str] = []
        self.block = False
        self.release = asyncio.Event()

    async def __call__(self, run: JobRun) -> None:
        self.started.append(run.key)
        if self.block:
            await self.release.wait()
        self.runs.append((run.key, run.services["name"]))


def process(
    app: App, clock: FakeClock, handler: Handler, name: str, kind: str = "bot", **kwargs: object
) -> Scheduler:
    scheduler = Scheduler(
        app.engine,
        app.sessionmaker,
        services={"name": name},
        clock=clock,
        holder=f"{name}-holder",
        kind=kind,
        **kwargs,  # type: ignore[arg-type]
    )
    scheduler.handlers["test.ping"] = handler
    return scheduler


async def add_job(app: App, clock: FakeClock, key: str, place: str = "1234") -> int:
    actor = await actor_for(app.sessionmaker, "Ann", place=place)
    async with app.sessionmaker() as db, db.begin():
        job = await schedule(
            db,
            community_id=actor.community_id,
            kind="test.ping",
            key=key,
            due_at=clock.now(),
            grace=timedelta(days=1),
        )
        return job.id


async def row(app: App, job_id: int) -> ScheduledJob:
    async with app.sessionmaker() as db:
        found = await db.get(ScheduledJob, job_id)
    assert found is not None
    return found


async def holder(app: App) -> str | None:
    async with app.sessionmaker() as db:
        return await db.scalar(
            select(SchedulerLease.holder).where(SchedulerLease.name == lease.SCHEDULER)
        )


async def test_a_crashed_holders_lease_expires_and_another_process_takes_over(app: App) -> None:
    clock = FakeClock()
    handler = Handler()
    first = process(app, clock, handler, "first")
    second = process(app, clock, handler, "second")
    assert await first.tick() and first.is_leader
    assert not await second.tick() and not second.is_leader
    assert await holder(app) == "first-holder"

    # the first process claims a job and dies in the middle of it (as with SIGKILL: no
    # stop, no hand-back, no more renewals)
    job = await add_job(app, clock, "crash:1")
    handler.block = True
    running = asyncio.create_task(first.fire(job))
    await eventually(lambda: handler.started, "the job started")
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    handler.block = False
    claimed = await row(app, job)
    assert claimed.started_at is not None and claimed.claimed_by == "first-holder"

    # while its lease runs, nobody takes over, and its claimed job is left alone
    clock.advance(seconds=20)
    assert not await second.tick()
    assert (await row(app, job)).claimed_by == "first-holder"
    assert await run_due(second) == 0

    # it does not renew: once the lease has expired, the second process takes over, gives
    # back the job of the process that is gone and runs it
    clock.advance(AFTER_EXPIRY)
    assert await second.tick() and second.is_leader
    assert await holder(app) == "second-holder"
    handed = await row(app, job)
    assert handed.started_at is None and handed.claimed_by is None
    assert await run_due(second) == 1
    assert handler.runs == [("crash:1", "second")]
    assert (await row(app, job)).claimed_by == "second-holder"

    # the first process, were it only paused, may not run anything any more
    later = await add_job(app, clock, "crash:2")
    assert not await first.fire(later)
    assert not await first.tick() and not first.is_leader
    assert await run_due(second) == 1
    assert handler.runs[-1] == ("crash:2", "second")
    await second.stop()
    await first.stop()


async def test_a_holder_that_cannot_renew_stops_running_jobs(app: App) -> None:
    clock = FakeClock()
    handler = Handler()
    holder_process = process(app, clock, handler, "holder")
    assert await holder_process.tick()
    job = await add_job(app, clock, "renew:1")
    # its database connection is lost: the renewal fails (a real refused connection)
    lost = create_engine("postgresql+asyncpg://leerbot@127.0.0.1:9/none")
    good = holder_process.lease.sessionmaker
    holder_process.lease.sessionmaker = async_sessionmaker(lost)
    try:
        clock.advance(seconds=15)
        try:
            await holder_process.tick()
        except Exception:
            pass
        else:  # pragma: no cover - the renewal must fail
            raise AssertionError("renewed without a database")
        assert not holder_process.is_leader
        assert not await holder_process.fire(job)  # no lease confirmed: nothing starts
        assert (await row(app, job)).started_at is None
    finally:
        holder_process.lease.sessionmaker = good
        await lost.dispose()
    # the connection is back: it renews (nobody took over meanwhile) and runs the job
    assert await holder_process.tick()
    assert await holder_process.fire(job)
    assert handler.runs == [("renew:1", "holder")]
    await holder_process.stop()


async def test_a_bot_takes_the_lease_from_a_console_which_then_runs_only_its_own_work(
    app: App,
) -> None:
    clock = FakeClock()
    handler = Handler()
    console = process(
        app, clock, handler, "console", kind="console", own=lambda place: place == "console"
    )
    assert await console.tick()  # alone: the console runs everything, as before
    bots_job = await add_job(app, clock, "discord:1", place="1234")
    consoles_job = await add_job(app, clock, "console:1", place="console")

    bot = process(app, clock, handler, "bot", serves=str.isdigit)
    assert await bot.tick() and bot.is_leader  # a bot does not wait for a console
    assert not await console.tick()

    assert await run_due(console) == 1  # only its own community's work
    assert handler.runs == [("console:1", "console")]
    assert not await console.fire(bots_job)
    assert await run_due(bot) == 1  # never the console's
    assert handler.runs[-1] == ("discord:1", "bot")
    assert (await row(app, consoles_job)).claimed_by == "console-holder"

    # a console never takes it from a bot, even when it asks after the bot's renewal
    assert not await console.tick()
    # the bot stops cleanly: the lease is given back and the console may run it again
    await bot.stop()
    assert await holder(app) is None
    assert await console.tick()
    await console.stop()


async def test_a_stop_hands_back_a_job_that_does_not_finish_in_time(app: App) -> None:
    clock = FakeClock()
    handler = Handler()
    first = process(app, clock, handler, "first")
    await first.start()
    handler.block = True
    job = await add_job(app, clock, "stop:1")  # armed after the commit; due now
    await eventually(lambda: handler.started, "the job started")
    await first.stop(timeout=0)  # no time left: it is cancelled and handed back
    handed = await row(app, job)
    assert handed.started_at is None and handed.claimed_by is None and handed.fired_at is None
    assert await holder(app) is None  # the lease went back: the next process takes it at once
    async with app.sessionmaker() as db:
        assert await db.scalar(select(RunningProcess.holder)) is None

    handler.block = False
    second = process(app, clock, handler, "second")
    assert await second.tick()
    assert await run_due(second) == 1
    assert handler.runs == [("stop:1", "second")]
    await second.stop()


async def test_a_long_job_can_hand_itself_back_when_the_process_stops(app: App) -> None:
    clock = FakeClock()
    reached: list[int] = []
    stopping = asyncio.Event()

    async def fan_out(run: JobRun) -> None:
        for member in range(10):
            if run.stopping():
                raise HandBack
            reached.append(member)
            if member == 2:
                stopping.set()
                await asyncio.sleep(0)  # the stop is asked for here
                await eventually(run.stopping, "the stop")

    scheduler = Scheduler(app.engine, app.sessionmaker, clock=clock, holder="fan-out")
    scheduler.handlers["test.ping"] = fan_out
    await scheduler.start()
    job = await add_job(app, clock, "fan:1")
    await eventually(stopping.is_set, "three members reached")
    await scheduler.stop(timeout=60)  # the job stops at a safe point long before this
    assert reached == [0, 1, 2]
    handed = await row(app, job)
    assert handed.started_at is None and handed.fired_at is None


async def test_taking_over_leaves_the_jobs_of_live_processes_alone(app: App) -> None:
    clock = FakeClock()
    handler = Handler()
    first = process(app, clock, handler, "first")
    console = process(
        app, clock, handler, "console", kind="console", own=lambda place: place == "console"
    )
    assert await first.tick() and not await console.tick()
    own = await add_job(app, clock, "console:1", place="console")
    handler.block = True
    running = asyncio.create_task(console.fire(own))  # the console runs its own job
    await eventually(lambda: handler.started, "the job started")

    # the bot dies; the console, alone and alive, takes the lease: its own job stays its own
    clock.advance(AFTER_EXPIRY)
    assert await console.tick()
    assert (await row(app, own)).claimed_by == "console-holder"
    # a new bot takes the lease from the console: the console is alive, its job stays too
    bot = process(app, clock, handler, "bot")
    assert await bot.tick()
    claimed = await row(app, own)
    assert claimed.claimed_by == "console-holder" and claimed.started_at is not None
    handler.release.set()
    assert await running
    assert handler.runs == [("console:1", "console")]
    await bot.stop()
    await console.stop()
