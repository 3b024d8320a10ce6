"""Scheduled work survives restarts exactly once: rows are the record, the timer only wakes
us. Each test stops and restarts a scheduler around a job's due time."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from leerbot.app import App
from leerbot.db.models import ScheduledJob
from leerbot.scheduling import JobRun, Scheduler, schedule
from tests.helpers import actor_for


class Recorder:
    """A job handler that records each run and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.runs: list[str] = []
        self.event = asyncio.Event()

    async def __call__(self, run: JobRun) -> None:
        self.runs.append(run.key)
        self.event.set()

    async def wait(self, timeout: float = 5) -> None:
        await asyncio.wait_for(self.event.wait(), timeout)
        self.event.clear()


def make(app: App, recorder: Recorder) -> Scheduler:
    scheduler = Scheduler(app.engine, app.sessionmaker)
    scheduler.handlers["test.ping"] = recorder
    return scheduler


async def add_job(app: App, key: str, due_in: float, grace: float = 60) -> None:
    actor = await actor_for(app.sessionmaker, "Ann")
    async with app.sessionmaker() as db, db.begin():
        await schedule(
            db,
            community_id=actor.community_id,
            kind="test.ping",
            key=key,
            due_at=datetime.now(UTC) + timedelta(seconds=due_in),
            grace=timedelta(seconds=grace),
        )


async def job(app: App, key: str) -> ScheduledJob:
    async with app.sessionmaker() as db:
        row = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
    assert row is not None
    return row


async def test_a_job_created_while_running_is_armed_after_commit(app: App) -> None:
    recorder = Recorder()
    scheduler = make(app, recorder)
    await scheduler.start()
    try:
        await add_job(app, "ping:1", due_in=0.2)
        await recorder.wait()
    finally:
        await scheduler.stop()
    assert recorder.runs == ["ping:1"]
    assert (await job(app, "ping:1")).fired_at is not None


async def test_restart_before_due_time_sends_once(app: App) -> None:
    recorder = Recorder()
    first = make(app, recorder)
    await first.start()
    await add_job(app, "ping:2", due_in=0.6)
    await first.stop()  # the bot goes down before the job is due
    second = make(app, recorder)
    await second.start()
    try:
        await recorder.wait()
        await asyncio.sleep(0.3)  # room for a wrongful second run to show up
    finally:
        await second.stop()
    assert recorder.runs == ["ping:2"]


async def test_restart_after_due_time_within_grace_sends_at_once(app: App) -> None:
    recorder = Recorder()
    await add_job(app, "ping:3", due_in=-5, grace=600)  # became due while the bot was down
    scheduler = make(app, recorder)
    await scheduler.start()
    try:
        await recorder.wait()
    finally:
        await scheduler.stop()
    again = make(app, recorder)
    await again.start()  # and another restart does not send it again
    await again.stop()
    assert recorder.runs == ["ping:3"]


async def test_past_its_grace_a_job_is_marked_missed_and_never_sent_late(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    recorder = Recorder()
    await add_job(app, "ping:4", due_in=-3600, grace=60)
    scheduler = make(app, recorder)
    with caplog.at_level(logging.WARNING, logger="leerbot.scheduling"):
        await scheduler.start()
        await scheduler.stop()
    assert recorder.runs == []
    assert (await job(app, "ping:4")).missed_at is not None
    assert any("ping:4" in r.getMessage() and "missed" in r.getMessage() for r in caplog.records)


async def test_two_schedulers_firing_the_same_job_run_it_once(app: App) -> None:
    recorder = Recorder()
    await add_job(app, "ping:5", due_in=-1)
    one, two = make(app, recorder), make(app, recorder)
    row = await job(app, "ping:5")
    results = await asyncio.gather(one.fire(row.id), two.fire(row.id))
    assert sorted(results) == [False, True]
    assert recorder.runs == ["ping:5"]


async def test_a_failing_handler_is_logged_and_does_not_stop_the_timer(app: App) -> None:
    recorder = Recorder()
    scheduler = make(app, recorder)

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
            due_at=datetime.now(UTC),
        )
    await scheduler.start()
    try:
        await add_job(app, "ping:6", due_in=0.2)
        await recorder.wait()
    finally:
        await scheduler.stop()
    assert "boom" in ((await job(app, "broken:1")).error or "")
    assert recorder.runs == ["ping:6"]


async def test_finished_jobs_are_forgotten_after_a_month_but_pending_ones_stay(app: App) -> None:
    from leerbot.scheduling import purge_finished

    await add_job(app, "ping:old", due_in=-1)
    await add_job(app, "ping:pending", due_in=3600)
    async with app.sessionmaker() as db, db.begin():
        old = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == "ping:old"))
        assert old is not None
        old.fired_at = datetime.now(UTC) - timedelta(days=40)
    async with app.sessionmaker() as db, db.begin():
        assert await purge_finished(db) == 1
    async with app.sessionmaker() as db:
        keys = list(await db.scalars(select(ScheduledJob.key)))
    assert keys == ["ping:pending"]


async def test_a_job_cut_off_by_a_crash_runs_again_after_the_restart(app: App) -> None:
    recorder = Recorder()
    await add_job(app, "ping:crash", due_in=-1, grace=600)
    async with app.sessionmaker() as db, db.begin():
        row = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == "ping:crash"))
        assert row is not None
        row.started_at = datetime.now(UTC)  # claimed by a process that was then killed
    scheduler = make(app, recorder)
    await scheduler.start()
    try:
        await recorder.wait()
    finally:
        await scheduler.stop()
    assert recorder.runs == ["ping:crash"]
    assert (await job(app, "ping:crash")).fired_at is not None
