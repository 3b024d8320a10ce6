"""Scheduled work survives restarts exactly once: rows are the record, the timer only wakes
us. Each test stops and restarts a scheduler around a job's due time.

Time is a `FakeClock` the test moves: a job due "in a minute" runs when the clock is moved a
minute on, however slow or busy the machine is; nothing here waits for the wall clock."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from leerbot.app import App, open_app
from leerbot.clock import FakeClock, using
from leerbot.config import Settings, load_settings
from leerbot.db.models import ScheduledJob
from leerbot.scheduling import JobRun, Scheduler, run_due, schedule
from tests.helpers import actor_for
from tests.waiting import GUARD, eventually


class Recorder:
    """A job handler that records each run and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.event = asyncio.Event()

    async def __call__(self, run: JobRun) -> None:
        self.runs.append(run.key)
        self.event.set()

    async def wait(self) -> None:
        """Until the next run (the guard only keeps a broken test from hanging)."""
        await asyncio.wait_for(self.event.wait(), GUARD)
        self.event.clear()


def make(app: App, recorder: Recorder, clock: FakeClock) -> Scheduler:
    scheduler = Scheduler(app.engine, app.sessionmaker, clock=clock)
    scheduler.handlers["test.ping"] = recorder
    return scheduler


async def add_job(app: App, clock: FakeClock, key: str, due_in: float, grace: float = 60) -> int:
    """A job due `due_in` seconds from the clock's now; returns its id."""
    actor = await actor_for(app.sessionmaker, "Ann")
    async with app.sessionmaker() as db, db.begin():
        job = await schedule(
            db,
            community_id=actor.community_id,
            kind="test.ping",
            key=key,
            due_at=clock.now() + timedelta(seconds=due_in),
            grace=timedelta(seconds=grace),
        )
        return job.id


async def armed(scheduler: Scheduler, job_id: int) -> None:
    """Until the scheduler knows the job (arming after a commit runs in a task of its own)."""
    await eventually(lambda: job_id in scheduler._armed, f"job {job_id} armed")


def on_a_timer(scheduler: Scheduler, job_id: int) -> bool:
    """Whether the job is on its way to run: a real timer set for its time, or queued for a
    worker (not while its time is still to come on the fake clock)."""
    assert scheduler._timer is not None
    timer = scheduler._wake_handle is not None
    return job_id in scheduler._queued or (timer and job_id in scheduler._armed)


async def job(app: App, key: str) -> ScheduledJob:
    async with app.sessionmaker() as db:
        row = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
    assert row is not None
    return row


async def test_a_job_created_while_running_is_armed_after_commit(
    app: App, clock: FakeClock
) -> None:
    recorder = Recorder()
    scheduler = make(app, recorder, clock)
    await scheduler.start()
    try:
        job_id = await add_job(app, clock, "ping:1", due_in=60)
        await armed(scheduler, job_id)
        assert recorder.runs == [] and not on_a_timer(scheduler, job_id), "not before its time"
        clock.advance(seconds=60)
        await recorder.wait()
    finally:
        await scheduler.stop()
    assert recorder.runs == ["ping:1"]
    assert (await job(app, "ping:1")).fired_at == clock.now()


async def test_a_job_created_inside_a_savepoint_runs_once_the_whole_work_commits(
    app: App, clock: FakeClock
) -> None:
    """A job handler that starts a round inside a savepoint (so that a refusal undoes only
    that part): the round's jobs must still run on time, not at the next sweep."""
    recorder = Recorder()
    scheduler = make(app, recorder, clock)
    actor = await actor_for(app.sessionmaker, "Ann")
    await scheduler.start()
    try:
        async with app.sessionmaker() as db, db.begin():
            async with db.begin_nested():
                created = await schedule(
                    db,
                    community_id=actor.community_id,
                    kind="test.ping",
                    key="ping:nested",
                    due_at=clock.now() + timedelta(seconds=60),
                )
            undone = await db.begin_nested()  # a part that is undone forgets nothing else
            await undone.rollback()
            job_id = created.id
            # whatever the savepoints set off has run before the work commits
            await eventually(lambda: not scheduler._tasks, "arming after the savepoints")
        await armed(scheduler, job_id)
        clock.advance(seconds=60)
        await recorder.wait()
    finally:
        await scheduler.stop()
    assert recorder.runs == ["ping:nested"]


async def test_restart_before_due_time_sends_once(app: App, clock: FakeClock) -> None:
    recorder = Recorder()
    first = make(app, recorder, clock)
    await first.start()
    job_id = await add_job(app, clock, "ping:2", due_in=60)
    await armed(first, job_id)
    await first.stop()  # the bot goes down before the job is due
    clock.advance(seconds=30)
    second = make(app, recorder, clock)
    await second.start()
    try:
        assert job_id in second._armed and not on_a_timer(second, job_id)
        assert recorder.runs == [], "restarted before the job was due"
        clock.advance(seconds=30)
        await recorder.wait()
        # nothing left that could run it a second time: no timer, nothing waiting
        await eventually(lambda: not on_a_timer(second, job_id), "the timer gone")
        assert job_id not in second._armed
    finally:
        await second.stop()
    assert recorder.runs == ["ping:2"]
    third = make(app, recorder, clock)  # and a restart after its time does not send it again
    await third.start()
    try:
        assert await run_due(third) == 0
    finally:
        await third.stop()
    assert recorder.runs == ["ping:2"]


async def test_restart_after_due_time_within_grace_sends_at_once(
    app: App, clock: FakeClock
) -> None:
    recorder = Recorder()
    await add_job(app, clock, "ping:3", due_in=-5, grace=600)  # became due while down
    scheduler = make(app, recorder, clock)
    await scheduler.start()
    try:
        await recorder.wait()
    finally:
        await scheduler.stop()
    again = make(app, recorder, clock)
    await again.start()  # and another restart does not send it again
    await again.stop()
    assert recorder.runs == ["ping:3"]


async def test_past_its_grace_a_job_is_marked_missed_and_never_sent_late(
    app: App, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    await add_job(app, clock, "ping:4", due_in=-3600, grace=60)
    scheduler = make(app, recorder, clock)
    with caplog.at_level(logging.WARNING, logger="leerbot.scheduling"):
        await scheduler.start()
        await scheduler.stop()
    assert recorder.runs == []
    assert (await job(app, "ping:4")).missed_at is not None
    assert any("ping:4" in r.getMessage() and "missed" in r.getMessage() for r in caplog.records)


async def test_two_schedulers_firing_the_same_job_run_it_once(app: App, clock: FakeClock) -> None:
    recorder = Recorder()
    await add_job(app, clock, "ping:5", due_in=-1)
    one, two = make(app, recorder, clock), make(app, recorder, clock)
    row = await job(app, "ping:5")
    results = await asyncio.gather(one.fire(row.id), two.fire(row.id))
    assert sorted(results) == [False, True]
    assert recorder.runs == ["ping:5"]


async def test_a_failing_handler_is_logged_and_does_not_stop_the_timer(
    app: App, clock: FakeClock
) -> None:
    recorder = Recorder()
    scheduler = make(app, recorder, clock)

    async def broken(run: JobRun) -> None:
        raise RuntimeError("boom")

    scheduler.handlers["test.broken"] = broken
    actor = await actor_for(app.sessionmaker, "Ann")
    async with app.sessionmaker() as db, db.begin():
        await schedule(
            db,
            community_id=actor.community_id,
            kind="test.broken",
            key="broken:1",
            due_at=clock.now(),
        )
    await scheduler.start()
    try:
        job_id = await add_job(app, clock, "ping:6", due_in=60)
        await armed(scheduler, job_id)
        clock.advance(minutes=1)
        await recorder.wait()
    finally:
        await scheduler.stop()
    assert "boom" in ((await job(app, "broken:1")).error or "")
    assert recorder.runs == ["ping:6"]


async def test_finished_jobs_are_forgotten_after_a_month_but_pending_ones_stay(
    app: App, clock: FakeClock
) -> None:
    from leerbot.scheduling import purge_finished

    await add_job(app, clock, "ping:old", due_in=-1)
    await add_job(app, clock, "ping:pending", due_in=3600)
    async with app.sessionmaker() as db, db.begin():
        old = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == "ping:old"))
        assert old is not None
        old.fired_at = clock.now() - timedelta(days=29)
    with using(clock):  # the purge reads the app's clock
        async with app.sessionmaker() as db, db.begin():
            assert await purge_finished(db) == 0, "kept for a month"
        clock.advance(days=2)
        async with app.sessionmaker() as db, db.begin():
            assert await purge_finished(db) == 1
    async with app.sessionmaker() as db:
        keys = list(await db.scalars(select(ScheduledJob.key)))
    assert keys == ["ping:pending"]


async def test_a_job_cut_off_by_a_crash_runs_again_after_the_restart(
    app: App, clock: FakeClock
) -> None:
    recorder = Recorder()
    await add_job(app, clock, "ping:crash", due_in=-1, grace=600)
    async with app.sessionmaker() as db, db.begin():
        row = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == "ping:crash"))
        assert row is not None
        row.started_at = clock.now()  # claimed by a process that was then killed
    scheduler = make(app, recorder, clock)
    await scheduler.start()
    try:
        await recorder.wait()
    finally:
        await scheduler.stop()
    assert recorder.runs == ["ping:crash"]
    assert (await job(app, "ping:crash")).fired_at is not None


async def test_the_app_hands_its_one_clock_to_the_dispatcher_and_the_scheduler(
    settings: Settings, clock: FakeClock
) -> None:
    async with open_app(settings, clock=clock) as app:
        assert app.clock is clock and app.dispatcher.clock is clock
        assert app.make_scheduler(platform=None).clock is clock  # type: ignore[arg-type]


async def test_jobs_run_with_the_schedulers_clock_as_the_current_one(
    app: App, clock: FakeClock
) -> None:
    from leerbot import clock as clocks

    seen: list[datetime] = []

    async def tell_time(run: JobRun) -> None:
        seen.append(clocks.now())  # what core code reads when it is not given `now=`

    scheduler = make(app, Recorder(), clock)
    scheduler.handlers["test.ping"] = tell_time
    await add_job(app, clock, "ping:time", due_in=0, grace=7 * 86400)
    clock.advance(days=3)
    assert await run_due(scheduler) == 1
    assert seen == [clock.now()]
    assert clocks.now() != clock.now(), "outside the job: the system's clock again"


# --- retries, many at once, the horizon ------------------------------------------------


async def test_a_failing_job_is_tried_again_with_backoff_and_then_marked_missed(
    app: App, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """Never recorded as done when it failed: again after 10 s, 20 s, … while within its
    grace; then missed, with its last error, and logged."""
    attempts: list[datetime] = []
    flaky: list[datetime] = []

    async def broken(run: JobRun) -> None:
        attempts.append(clock.now())
        raise RuntimeError(f"boom {len(attempts)}")

    async def once_broken(run: JobRun) -> None:
        flaky.append(clock.now())
        if len(flaky) == 1:
            raise RuntimeError("the platform was away")

    scheduler = make(app, Recorder(), clock)
    scheduler.handlers["test.broken"] = broken
    scheduler.handlers["test.flaky"] = once_broken
    actor = await actor_for(app.sessionmaker, "Ann")
    async with app.sessionmaker() as db, db.begin():
        for kind in ("test.broken", "test.flaky"):
            await schedule(
                db,
                community_id=actor.community_id,
                kind=kind,
                key=kind,
                due_at=clock.now(),
                grace=timedelta(seconds=60),
            )
    start = clock.now()
    with caplog.at_level(logging.WARNING, logger="leerbot.scheduling"):
        await scheduler.start()
        try:
            await eventually(lambda: len(attempts) == 1 and len(flaky) == 1, "first attempts")
            failed = await job(app, "test.broken")
            assert failed.fired_at is None and failed.missed_at is None, "not done"
            assert failed.started_at is None and "boom 1" in (failed.error or "")
            clock.advance(seconds=9)
            await asyncio.sleep(0)
            assert len(attempts) == 1, "not before its backoff"
            clock.advance(seconds=1)
            await eventually(lambda: len(attempts) == 2 and len(flaky) == 2, "second attempts")
            await eventually(lambda: scheduler._in_flight == {}, "the attempts finished")
            clock.advance(seconds=20)
            await eventually(lambda: len(attempts) == 3, "third attempt")
            await eventually(lambda: scheduler._in_flight == {}, "the attempt finished")
            # the next would come 40 s later, past due + 60 s: missed now
        finally:
            await scheduler.stop()
    assert attempts == [start, start + timedelta(seconds=10), start + timedelta(seconds=30)]
    missed = await job(app, "test.broken")
    assert missed.missed_at == start + timedelta(seconds=30) and missed.fired_at is None
    assert "boom 3" in (missed.error or "")
    assert any(
        "test.broken" in r.getMessage() and "missed" in r.getMessage() for r in caplog.records
    )
    recovered = await job(app, "test.flaky")
    assert recovered.fired_at == start + timedelta(seconds=10) and recovered.error is None
    assert len(flaky) == 2


async def test_many_jobs_due_at_once_all_run_exactly_once_a_few_at_a_time(
    app: App, clock: FakeClock
) -> None:
    from leerbot.db.engine import JOB_SLOTS

    runs: list[str] = []
    running = 0
    most = 0

    async def slow(run: JobRun) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        for _ in range(3):
            await asyncio.sleep(0)  # others get their turn meanwhile
        runs.append(run.key)
        running -= 1

    scheduler = make(app, Recorder(), clock)
    scheduler.handlers["test.ping"] = slow
    actor = await actor_for(app.sessionmaker, "Ann")
    count = 60
    async with app.sessionmaker() as db, db.begin():
        for n in range(count):
            await schedule(
                db,
                community_id=actor.community_id,
                kind="test.ping",
                key=f"many:{n}",
                due_at=clock.now() + timedelta(seconds=60 + n % 3),
            )
    await scheduler.start()
    try:
        await eventually(lambda: len(scheduler._armed) == count, "all armed")
        assert runs == []
        clock.advance(seconds=62)
        await eventually(lambda: len(runs) == count, f"{count} runs")
        assert await run_due(scheduler) == 0, "nothing left"
    finally:
        await scheduler.stop()
    assert sorted(runs) == sorted(f"many:{n}" for n in range(count)), "each exactly once"
    assert 1 <= most <= JOB_SLOTS, "never more at once than the slots"
    async with app.sessionmaker() as db:
        rows = list(await db.scalars(select(ScheduledJob)))
    assert all(r.fired_at is not None and r.error is None for r in rows)


async def test_only_jobs_within_the_horizon_are_armed_later_ones_as_time_moves(
    app: App, clock: FakeClock
) -> None:
    from leerbot.scheduling import ARM_HORIZON

    recorder = Recorder()
    scheduler = make(app, recorder, clock)
    start = clock.now()
    soon = await add_job(app, clock, "ping:soon", due_in=300)
    later = await add_job(app, clock, "ping:later", due_in=7200)
    await scheduler.start()
    try:
        assert soon in scheduler._armed and later not in scheduler._armed
        clock.advance(seconds=300)
        await recorder.wait()
        assert recorder.runs == ["ping:soon"] and later not in scheduler._armed
        created = await add_job(app, clock, "ping:created", due_in=3600)  # due at +3900 s
        await eventually(lambda: not scheduler._tasks, "arming after the commit")
        assert created not in scheduler._armed, "beyond the horizon: in the database only"
        clock.set(start + timedelta(seconds=3900) - ARM_HORIZON + timedelta(seconds=1))
        await armed(scheduler, created)
        assert later not in scheduler._armed and recorder.runs == ["ping:soon"]
        clock.set(start + timedelta(seconds=3900))
        await recorder.wait()
        assert recorder.runs == ["ping:soon", "ping:created"]
        clock.set(start + timedelta(seconds=7200) - ARM_HORIZON / 2)
        await armed(scheduler, later)
        assert recorder.runs == ["ping:soon", "ping:created"]
        clock.set(start + timedelta(seconds=7200))
        await recorder.wait()
    finally:
        await scheduler.stop()
    assert recorder.runs == ["ping:soon", "ping:created", "ping:later"]


def test_a_scheduler_left_behind_by_an_earlier_run_holds_up_no_later_one(
    settings: Settings, tmp_path: Path
) -> None:
    """A program (or a test) that ended without stopping its scheduler leaves it behind in
    the process, its event loop closed. The next run's commits must still arm their jobs:
    before, arming asked the old scheduler first, which raised, and the new one never heard
    of the job (a session card that never changed)."""

    earlier = load_settings(
        environ={"LEERBOT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'earlier.db'}"}
    )

    async def run_and_leave_behind() -> None:  # another database (another test's, say)
        async with open_app(earlier) as app:
            await Scheduler(app.engine, app.sessionmaker).start()  # never stopped

    asyncio.run(run_and_leave_behind())

    async def next_run() -> list[str]:
        clock = FakeClock()
        recorder = Recorder()
        async with open_app(settings, clock=clock) as app:
            scheduler = make(app, recorder, clock)
            await scheduler.start()
            try:
                await add_job(app, clock, "ping:later-run", due_in=0)  # commits
                await recorder.wait()
            finally:
                await scheduler.stop()
        return recorder.runs

    assert asyncio.run(next_run()) == ["ping:later-run"]
