"""Reminders of intervisie sessions across restarts: each is sent exactly once, by DM or
(DMs closed) in a private thread; past its grace it is marked missed and never sent. Time
passes on a `FakeClock` the test moves, never by waiting."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update

from leerbot import clock as clocks
from leerbot.app import App
from leerbot.clock import FakeClock, using
from leerbot.core import community, sessions
from leerbot.db.models import ReminderDelivery, ScheduledJob
from leerbot.scheduling import run_due
from tests.helpers import RecordingPlatform, actor_for
from tests.waiting import eventually


async def _planned_with_sign_ups(app: App) -> sessions.OccurrenceView:
    coordinator = await actor_for(app.sessionmaker, "Mo", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await community.configure(db, coordinator, sessions_channel_id="chan-1")
    tomorrow = clocks.now().astimezone(app.settings.tz) + timedelta(days=2)
    async with app.sessionmaker() as db, db.begin():
        item = await sessions.plan(
            db,
            coordinator,
            app.settings,
            title="Intervisie",
            location_kind="address",
            location="Utrecht",
            start=tomorrow.strftime("%Y-%m-%d 19:30"),
        )
    for name, status in (("Anna", "yes"), ("Bram", "yes"), ("Cem", "maybe")):
        actor = await actor_for(app.sessionmaker, name)
        async with app.sessionmaker() as db, db.begin():
            await sessions.rsvp(db, actor, item.id, status)
    return item


async def _make_due(app: App, minutes: int, due: datetime) -> str:
    async with app.sessionmaker() as db, db.begin():
        job = await db.scalar(
            select(ScheduledJob).where(
                ScheduledJob.kind == "session.reminder",
                ScheduledJob.key.contains(f":reminder:{minutes}:"),
            )
        )
        assert job is not None
        job.due_at = due
        return job.key


async def _finished(app: App, key: str) -> bool:
    async with app.sessionmaker() as db:
        job = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
    return job is not None and job.fired_at is not None


async def test_reminder_survives_restarts_and_goes_out_once(
    clocked_app: App, clock: FakeClock
) -> None:
    app = clocked_app
    platform = RecordingPlatform(closed_dms={"bram"})
    with using(clock):
        item = await _planned_with_sign_ups(app)
    first = app.make_scheduler(platform)
    await run_due(first)  # publish the card: message, thread, event
    assert len(platform.events) == 1 and platform.posts[0][0] == "chan-1"
    key = await _make_due(app, 60, clock.now() + timedelta(minutes=1))
    await first.start()
    await first.stop()  # down before the reminder is due
    second = app.make_scheduler(platform)
    await second.start()
    try:
        assert platform.dms == [] and len(platform.threads) == 1, "not before its time"
        clock.advance(minutes=1)
        await eventually(
            lambda: len(platform.dms) >= 1 and len(platform.threads) >= 2,
            "the reminder, by DM and in a private thread",
        )
        await eventually(lambda: _finished(app, key), "the job done, not just its messages")
    finally:
        await second.stop()
    third = app.make_scheduler(platform)  # and up again after the due time: nothing twice
    await third.start()
    await third.stop()
    assert [who for who, _ in platform.dms] == ["anna"]
    private = [t for t in platform.threads if t[1]]
    assert private == [(private[0][0], True, ("bram",))]  # Bram's DMs are closed
    async with app.sessionmaker() as db:
        deliveries = {
            d.via
            for d in await db.scalars(
                select(ReminderDelivery).where(ReminderDelivery.job_key == key)
            )
        }
    assert deliveries == {"dm", "thread"}
    assert item.id


async def test_reminder_past_its_grace_is_missed_not_sent_at_night(
    clocked_app: App, clock: FakeClock
) -> None:
    app = clocked_app
    platform = RecordingPlatform()
    with using(clock):
        await _planned_with_sign_ups(app)
    async with app.sessionmaker() as db, db.begin():
        await db.execute(
            update(ScheduledJob)
            .where(ScheduledJob.kind == "session.reminder")
            .values(due_at=clock.now() - timedelta(hours=5))
        )
    scheduler = app.make_scheduler(platform)
    await scheduler.start()
    await scheduler.stop()
    assert platform.dms == []
    async with app.sessionmaker() as db:
        missed = [
            j.missed_at
            for j in await db.scalars(
                select(ScheduledJob).where(ScheduledJob.kind == "session.reminder")
            )
        ]
    assert missed and all(m is not None for m in missed)


async def test_promotion_from_the_waitlist_is_told_by_dm(app: App) -> None:
    platform = RecordingPlatform()
    coordinator = await actor_for(app.sessionmaker, "Mo", coordinator=True)
    start = (datetime.now(app.settings.tz) + timedelta(days=3)).strftime("%Y-%m-%d 10:00")
    async with app.sessionmaker() as db, db.begin():
        item = await sessions.plan(
            db,
            coordinator,
            app.settings,
            title="Klein",
            start=start,
            location_kind="address",
            location="Emmen",
            capacity=2,
        )
    for name in ("Anna", "Bram", "Cem"):
        actor = await actor_for(app.sessionmaker, name)
        async with app.sessionmaker() as db, db.begin():
            await sessions.rsvp(db, actor, item.id, "yes")
    anna = await actor_for(app.sessionmaker, "Anna")
    async with app.sessionmaker() as db, db.begin():
        await sessions.rsvp(db, anna, item.id, "no")
    await run_due(app.make_scheduler(platform))
    assert [who for who, _ in platform.dms] == ["cem"]


async def test_messages_nobody_asked_for_come_in_the_language_of_their_discord(app: App) -> None:
    platform = RecordingPlatform()
    coordinator = await actor_for(app.sessionmaker, "Mo", coordinator=True)
    start = (datetime.now(app.settings.tz) + timedelta(days=3)).strftime("%Y-%m-%d 10:00")
    async with app.sessionmaker() as db, db.begin():
        item = await sessions.plan(
            db,
            coordinator,
            app.settings,
            title="Klein",
            start=start,
            location_kind="address",
            location="Emmen",
        )
    kees = await actor_for(app.sessionmaker, "Kees", locale="en-US")  # never chose a language
    sanne = await actor_for(app.sessionmaker, "Sanne", locale="nl")
    for actor in (kees, sanne):
        async with app.sessionmaker() as db, db.begin():
            await sessions.rsvp(db, actor, item.id, "yes")
    async with app.sessionmaker() as db, db.begin():
        await sessions.cancel(db, coordinator, item.id)
    await run_due(app.make_scheduler(platform))
    languages = {who: reply.locale for who, reply in platform.dms}  # type: ignore[attr-defined]
    assert languages == {"kees": "en", "sanne": "nl"}
