"""Intervisie sessions on Discord, end to end: the real LeerbotClient against the local fake
Discord, with the scheduler that posts cards, opens threads, mirrors scheduled events and
sends reminders. Each test asserts what a member would notice: the card's fields, DMs,
threads, the scheduled event's times and status, the calendar file.

"Time passes" the way the scheduler sees it: a pending job's `due_at` is moved to now and the
scheduler fires it (as its timer would); for attendance the session's own times are moved
into the past. Restarts run the bot as `leerbot run` does (`run_discord`) on the same
database and the same Discord server."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar
from sqlalchemy import and_, func, or_, select, update

from leerbot.adapters.discord import run_discord
from leerbot.app import App, open_app
from leerbot.clock import FakeClock
from leerbot.config import DiscordSettings, Settings
from leerbot.db.models import ScheduledJob, SessionOccurrence
from leerbot.scheduling import Scheduler
from leerbot.testing import FakeDiscord, run_fake_discord
from leerbot.testing import Reply as Seen
from leerbot.testing.state import Channel, Member, Message, ScheduledEvent
from tests.e2e.conftest import World, discord_world, unexpected_errors
from tests.e2e.conftest import _declare as declare
from tests.waiting import GUARD

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = "ma di wo do vr za zo".split()
MONTHS = "jan feb mrt apr mei jun jul aug sep okt nov dec".split()
EVENT_SCHEDULED, EVENT_CANCELED = 1, 4
PRIVATE_THREAD = 12


# --- what members see ---------------------------------------------------------------------


def seen(answer: Seen | Message | None) -> str:
    """Everything a member reads in a message: text, embed title, description and fields."""
    message = answer.message if isinstance(answer, Seen) else answer
    if message is None:
        return ""
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts += [item["name"], item["value"]]
    return "\n".join(p for p in parts if p)


def field(message: Seen | Message, name: str) -> str | None:
    """The value of one field of the embed, as Discord shows it (None: no such field)."""
    found = message.message if isinstance(message, Seen) else message
    assert found is not None
    for embed in found.embeds:
        for item in embed.get("fields") or []:
            if item["name"] == name:
                return str(item["value"])
    return None


def labels(message: Seen | Message) -> list[str]:
    found = message.message if isinstance(message, Seen) else message
    assert found is not None
    return [
        c["label"] for row in found.components for c in row.get("components", []) if c["type"] == 2
    ]


def dutch(day: date, at: str) -> str:
    """How the bot writes a moment for Dutch readers: "do 26 nov 2026 19:30"."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year} {at}"


def utc(text: str | None) -> datetime:
    assert text is not None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def local(day: date, at: str) -> datetime:
    hour, minute = (int(x) for x in at.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)


def in_days(days: int) -> date:
    return datetime.now(AMSTERDAM).date() + timedelta(days=days)


def dm_texts(fake: FakeDiscord, member: Member) -> list[str]:
    return [seen(m) for m in fake.dms(member)]


def private_threads(fake: FakeDiscord, parent: Channel, member: Member) -> list[Channel]:
    return [
        t
        for t in fake.threads(parent)
        if t.type == PRIVATE_THREAD and member.id in t.thread_members
    ]


# --- acting -------------------------------------------------------------------------------


async def setup_community(world: World) -> None:
    answer = await world.fake.slash(
        world.admin,
        "leerbot setup",
        aankondigingen=world.announcements,
        agenda=world.agenda,
        sessies=world.sessions,
        coordinatorrol=world.coordinators,
        taal="nl",
    )
    assert "De instellingen zijn opgeslagen." in seen(answer)


async def plan(world: World, title: str, day: date, at: str = "19:30", **options: Any) -> Seen:
    """A coordinator plans a session (in the voice channel unless an address is given)."""
    if "adres" not in options:
        options.setdefault("spraakkanaal", world.voice)
    answer = await world.fake.slash(
        world.admin, "sessie plannen", titel=title, start=f"{day.isoformat()} {at}", **options
    )
    assert answer.ephemeral
    assert "De intervisie is gepland" in seen(answer), seen(answer)
    return answer


async def card_of(fake: FakeDiscord, channel: Channel, number: int) -> Message:
    """The session's card in the sessions channel, once the scheduler posted it."""
    title = f"Intervisie #{number}:"

    def find() -> Message | None:
        return next((m for m in fake.messages(channel) if seen(m).startswith(title)), None)

    return await fake.wait_until(find, what=f"the card of session {number}")


async def event_named(world: World, name: str) -> ScheduledEvent:
    fake = world.fake
    return await fake.wait_until(
        lambda: next((e for e in fake.scheduled_events(world.guild) if e.name == name), None),
        what=f"the scheduled event {name!r}",
    )


async def card_shows(fake: FakeDiscord, card: Message, name: str, text: str | None) -> None:
    """Wait until the card's field `name` reads `text` (the card is edited in place)."""
    await fake.wait_until(
        lambda: field(card, name) == text,
        timeout=GUARD,
        what=f"the card's {name} to read {text!r} (now {field(card, name)!r})",
    )


def keep_up(fake: FakeDiscord) -> None:
    """For tests whose subject is not Discord's pace: Discord lets a bot edit 5 messages per
    channel (and 5 events per server) in 5 s, so a card edited on every click lags seconds
    behind; let edits keep up instead."""
    for route in (
        "PATCH /channels/{channel_id}/messages/{message_id}",
        "PATCH /guilds/{guild_id}/scheduled-events/{guild_scheduled_event_id}",
    ):
        fake.rest.limiter.set_route(route, 50, 1.0)


async def running_scheduler(fake: FakeDiscord, app: App) -> Scheduler:
    await fake.wait_until(
        lambda: app.scheduler is not None and app.scheduler.is_leader, what="the scheduler"
    )
    assert app.scheduler is not None
    return app.scheduler


async def fire_now(fake: FakeDiscord, app: App, kind: str, key_part: str = "") -> list[str]:
    """Let time pass for the pending jobs of `kind` (key containing `key_part`): move them to
    now and fire them, as the timer would. Returns the keys that ran."""
    scheduler = await running_scheduler(fake, app)
    async with app.sessionmaker() as db, db.begin():
        jobs = list(
            await db.scalars(
                select(ScheduledJob)
                .where(
                    ScheduledJob.kind == kind,
                    ScheduledJob.key.contains(key_part),
                    ScheduledJob.started_at.is_(None),
                    ScheduledJob.cancelled_at.is_(None),
                    ScheduledJob.missed_at.is_(None),
                )
                .order_by(ScheduledJob.due_at, ScheduledJob.id)
            )
        )
        for job in jobs:
            job.due_at = app.clock.now()
        found = [(job.id, job.key) for job in jobs]
    return [key for job_id, key in found if await scheduler.fire(job_id)]


async def settled(app: App, timeout: float = GUARD) -> None:
    """Wait until no scheduled work is due or running (cards, events, notices all sent)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        async with app.sessionmaker() as db:
            busy = await db.scalar(
                select(func.count())
                .select_from(ScheduledJob)
                .where(
                    or_(
                        and_(
                            ScheduledJob.started_at.is_not(None),
                            ScheduledJob.fired_at.is_(None),
                            ScheduledJob.missed_at.is_(None),
                        ),
                        and_(
                            ScheduledJob.started_at.is_(None),
                            ScheduledJob.cancelled_at.is_(None),
                            ScheduledJob.missed_at.is_(None),
                            ScheduledJob.due_at <= app.clock.now(),
                        ),
                    )
                )
            )
        if not busy:
            return
        assert loop.time() < deadline, f"{busy} scheduled job(s) still due or running"
        await asyncio.sleep(0.05)


async def move_due(app: App, key_part: str, due: datetime) -> str:
    """Set when one pending job is due (while the bot is down); returns its key."""
    async with app.sessionmaker() as db, db.begin():
        job = await db.scalar(select(ScheduledJob).where(ScheduledJob.key.contains(key_part)))
        assert job is not None and job.started_at is None
        job.due_at = due
        return job.key


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@dataclass
class Restartable:
    """One Discord server that outlives the bot: `bot()` runs it as `leerbot run` does
    (`run_discord`: connect, start the scheduled work at READY) on the same database, and
    stops it as Ctrl-C does (the task is cancelled: the scheduler stops, the connection
    closes)."""

    fake: FakeDiscord
    declared: dict[str, Any]
    settings: Settings
    logs: list[logging.LogRecord]
    clock: FakeClock
    """The bot's time, kept across restarts: a test moves it past a job's time."""

    def started(self) -> int:
        """How often a scheduler finished loading its pending jobs."""
        return sum(1 for r in self.logs if r.getMessage().startswith("scheduler started"))

    @contextlib.asynccontextmanager
    async def bot(self) -> AsyncIterator[World]:
        configured = self.settings.model_copy(
            update={
                "discord": DiscordSettings(
                    token=self.fake.token,  # type: ignore[arg-type]
                    test_guild_id=self.declared["guild"].id,
                )
            }
        )
        before = self.started()
        async with open_app(configured, clock=self.clock) as app:
            task = asyncio.create_task(run_discord(app, guild_ready_timeout=0.01))
            try:
                await self.fake.wait_until(
                    lambda: task.done() or self.started() > before,
                    what="the bot to start its scheduled work",
                )
                assert not task.done(), "the bot stopped at start"
                assert app.scheduler is not None
                client = app.scheduler.services["platform"].client
                yield World(fake=self.fake, app=app, client=client, logs=self.logs, **self.declared)
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


@contextlib.asynccontextmanager
async def restartable(settings: Settings) -> AsyncIterator[Restartable]:
    declared: dict[str, Any] = {}
    capture = _Capture()
    logger = logging.getLogger("leerbot")
    logger.addHandler(capture)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        async with run_fake_discord(lambda fake: declared.update(declare(fake))) as fake:
            yield Restartable(fake, declared, settings, capture.records, FakeClock())
    finally:
        logger.removeHandler(capture)
        logger.setLevel(previous)


# --- create → RSVP → waitlist → reminder → reschedule → cancel ----------------------------


async def test_a_session_from_planning_to_cancellation(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake, app = world.fake, world.app
        await setup_community(world)
        fatima = fake.add_member(world.guild, "Fatima", locale="nl")
        day = in_days(3)
        answer = await plan(world, "Intervisie herstel", day, plaatsen=2, duur="90 min")
        assert field(answer, "Plaatsen") == "0 van 2 bezet"

        card = await card_of(fake, world.sessions, 1)
        assert field(card, "Wanneer") == f"{dutch(day, '19:30')}–21:00"
        assert field(card, "Waar") == f"<#{world.voice.id}>"
        assert labels(card) == ["Ik kom", "Misschien", "Ik kan niet", "Naam wel/niet tonen"]
        (thread,) = await fake.wait_until(lambda: fake.threads(world.sessions), what="thread")
        assert thread.name == f"Intervisie herstel · {dutch(day, '19:30')}"
        event = await event_named(world, "Intervisie herstel")
        assert utc(event.scheduled_start_time) == local(day, "19:30")
        assert utc(event.scheduled_end_time) == local(day, "21:00")
        assert event.channel_id == world.voice.id and event.status == EVENT_SCHEDULED

        # sign up: two places, the third member goes on the waitlist
        yes = await fake.click(card, "Ik kom", by=world.sanne)
        assert yes.ephemeral
        assert "Fijn dat je komt! Je staat op de lijst voor Intervisie herstel" in seen(yes)
        await fake.click(card, "Ik kom", by=world.kees)
        await card_shows(fake, card, "Plaatsen", "2 van 2 bezet")
        waiting = await fake.click(card, "Ik kom", by=fatima)
        assert "is vol. Je staat op de wachtlijst." in seen(waiting)
        await card_shows(fake, card, "Plaatsen", "2 van 2 bezet · 1 op de wachtlijst")
        assert field(card, "Wie komt er") == "Sanne, Kees"

        # Kees cannot come after all: Fatima gets his place, and a DM that says so
        promoted = fake.wait_for_dm(fatima)
        await fake.click(card, "Ik kan niet", by=world.kees)
        told = await promoted
        assert "Goed nieuws: er is een plek vrijgekomen bij Intervisie herstel" in seen(told)
        assert "Ik kan niet" in labels(told)
        await card_shows(fake, card, "Plaatsen", "2 van 2 bezet")
        assert field(card, "Wie komt er") == "Sanne, Fatima"

        # the day before: a reminder for who is coming, not for Kees
        assert await fire_now(fake, app, "session.reminder", ":reminder:1440:")
        (reminder,) = [m for m in fake.dms(world.sanne) if "Herinnering" in seen(m)]
        assert f"Herinnering: Intervisie herstel begint morgen ({dutch(day, '19:30')})" in seen(
            reminder
        )
        assert labels(reminder) == ["Ik kan niet"]
        assert any("Herinnering" in t for t in dm_texts(fake, fatima))
        assert not any("Herinnering" in t for t in dm_texts(fake, world.kees))

        # reschedule to the next day at 20:00: card, event and a DM with the new time
        moved_to = day + timedelta(days=1)
        sanne_told = fake.wait_for_dm(world.sanne, lambda m: "verplaatst" in seen(m))
        edited = await fake.slash(
            world.admin, "sessie wijzigen", sessie=1, start=f"{moved_to.isoformat()} 20:00"
        )
        assert edited.ephemeral and "De intervisie is aangepast." in seen(edited)
        assert (
            f"Let op: Intervisie herstel is verplaatst. Nieuwe tijd: {dutch(moved_to, '20:00')}."
            in seen(await sanne_told)
        )
        await card_shows(fake, card, "Wanneer", f"{dutch(moved_to, '20:00')}–21:30")
        assert "Let op: de tijd of plek is veranderd." in seen(card)
        await fake.wait_until(
            lambda: utc(event.scheduled_start_time) == local(moved_to, "20:00"),
            what="the event moved",
        )
        assert utc(event.scheduled_end_time) == local(moved_to, "21:30")
        assert len(fake.scheduled_events(world.guild)) == 1, "moved, not created again"
        viewed = await fake.slash(world.sanne, "sessie bekijken", sessie=1)
        assert field(viewed, "Wanneer") == f"{dutch(moved_to, '20:00')}–21:30"

        # the reminder follows the new time (the one for the old time was withdrawn)
        before = len(fake.dms(world.sanne))
        (ran,) = await fire_now(fake, app, "session.reminder", ":reminder:1440:")
        assert ran.endswith(str(int(local(moved_to, "20:00").timestamp())))
        assert len(fake.dms(world.sanne)) == before + 1
        assert f"begint morgen ({dutch(moved_to, '20:00')})" in seen(fake.dms(world.sanne)[-1])

        # cancel: the event is cancelled, the card says so without buttons, members are told
        cancelled_dm = fake.wait_for_dm(fatima, lambda m: "gaat niet door" in seen(m))
        cancelled = await fake.slash(world.admin, "sessie annuleren", sessie=1)
        assert "Deze bijeenkomst van Intervisie herstel is geannuleerd." in seen(cancelled)
        await fake.wait_until(lambda: event.status == EVENT_CANCELED, what="event cancelled")
        await fake.wait_until(lambda: "gaat niet door" in seen(card), what="card cancelled")
        assert labels(card) == []
        assert f"Intervisie herstel op {dutch(moved_to, '20:00')} gaat niet door." in seen(
            await cancelled_dm
        )
        assert any("gaat niet door" in t for t in dm_texts(fake, world.sanne))
        assert not any("gaat niet door" in t for t in dm_texts(fake, world.kees))
        listing = await fake.slash(world.sanne, "sessie lijst")
        assert "Er zijn geen intervisiebijeenkomsten gepland." in seen(listing)
        assert len(fake.messages(world.sessions)) == 1, "one card, edited in place"
        await settled(app)
        assert not unexpected_errors(world)


# --- many members at the same moment ------------------------------------------------------


async def test_many_members_pressing_ik_kom_at_once_never_overfill_a_session(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        await setup_community(world)
        await plan(world, "Drukte", in_days(4), plaatsen=3)
        card = await card_of(fake, world.sessions, 1)
        crowd = [fake.add_member(world.guild, f"Lid {n:02}", locale="nl") for n in range(12)]
        keep_up(fake)

        answers = await asyncio.gather(*(fake.click(card, "Ik kom", by=m) for m in crowd))

        texts = [seen(a) for a in answers]
        coming = [t for t in texts if t.startswith("Fijn dat je komt!")]
        waiting = [t for t in texts if "Je staat op de wachtlijst." in t]
        assert (len(coming), len(waiting)) == (3, 9), texts
        await card_shows(fake, card, "Plaatsen", "3 van 3 bezet · 9 op de wachtlijst")
        names = (field(card, "Wie komt er") or "").split(", ")
        assert len(names) == 3 and set(names) <= {f"Lid {n:02}" for n in range(12)}
        viewed = await fake.slash(world.sanne, "sessie bekijken", sessie=1)
        assert field(viewed, "Plaatsen") == "3 van 3 bezet · 9 op de wachtlijst"
        assert field(viewed, "Wie komt er") == field(card, "Wie komt er")
        listed = await fake.slash(world.sanne, "sessie lijst")
        assert "**#1** Drukte" in seen(listed) and "· vol" in seen(listed)
        free = await fake.slash(world.sanne, "sessie lijst", vrij=True)
        assert "Drukte" not in seen(free)
        await settled(world.app)
        assert not unexpected_errors(world)


# --- a recurring series across a daylight-saving change -----------------------------------


def next_clock_change(after: date) -> date:
    """The next day Amsterdam's clocks move (last Sunday of March or October)."""
    day = after
    while (
        datetime(day.year, day.month, day.day, 12, tzinfo=AMSTERDAM).utcoffset()
        == datetime(day.year, day.month, day.day, 0, tzinfo=AMSTERDAM).utcoffset()
    ):
        day += timedelta(days=1)
    return day


async def test_a_weekly_series_stays_at_1930_across_the_clock_change(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Occurrences are created 120 days ahead; the next clock change may be further away.
    # Look further ahead so both sides of it exist now (nothing else changes).
    monkeypatch.setattr("leerbot.core.sessions.HORIZON", timedelta(days=400))
    change = next_clock_change(in_days(16))
    first = change - timedelta(days=13)  # two meetings before the change, two after
    days = [first + timedelta(weeks=n) for n in range(4)]
    async with discord_world(settings, scheduler=True) as world:
        fake, app = world.fake, world.app
        await setup_community(world)
        answer = await plan(
            world, "Reeks", first, herhaling="wekelijks", aantal=4, adres="Buurthuis, Utrecht"
        )
        assert "met herhaling" in seen(answer)
        # cards and events appear three weeks ahead: let that time come for all four
        await fire_now(fake, app, "session.publish")
        cards = [await card_of(fake, world.sessions, n) for n in range(1, 5)]
        assert [field(c, "Wanneer") for c in cards] == [f"{dutch(d, '19:30')}–21:30" for d in days]
        events = await fake.wait_until(
            lambda: (found := fake.scheduled_events(world.guild)) and len(found) == 4 and found,
            what="four scheduled events",
        )
        starts = sorted(utc(e.scheduled_start_time) for e in events)
        assert starts == [local(d, "19:30").astimezone(UTC) for d in days]
        offsets = {
            s - local(d, "19:30").replace(tzinfo=UTC) for s, d in zip(starts, days, strict=True)
        }
        assert len(offsets) == 2, "the UTC time moves by an hour, the local time does not"
        assert {e.location for e in events} == {"Buurthuis, Utrecht"}
        listed = await fake.slash(world.sanne, "sessie lijst")
        for n, d in enumerate(days, 1):
            assert f"**#{n}** Reeks · {dutch(d, '19:30')}" in seen(listed)

        # the calendar file, parsed back: one event with a weekly rule in Europe/Amsterdam
        calendar = await fake.slash(world.sanne, "sessie agenda", sessie=1)
        assert "Hier is het kalenderbestand." in seen(calendar)
        (attachment,) = calendar.files
        assert attachment.filename == "leerbot-sessie-1.ics"
        parsed = Calendar.from_ical(attachment.data)
        (zone,) = parsed.walk("VTIMEZONE")
        assert str(zone["TZID"]) == "Europe/Amsterdam"
        (vevent,) = parsed.walk("VEVENT")
        assert str(vevent["SUMMARY"]) == "Reeks"
        assert str(vevent["LOCATION"]) == "Buurthuis, Utrecht"
        start = vevent.decoded("dtstart")
        assert vevent.decoded("dtend") - start == timedelta(hours=2)
        rule = rrulestr(vevent["RRULE"].to_ical().decode(), dtstart=start)
        assert [d.astimezone(UTC) for d in rule] == starts
        assert [(d.date(), d.hour, d.minute) for d in rule] == [(d, 19, 30) for d in days]

        # one meeting is skipped, one moved: the file says so (EXDATE, RECURRENCE-ID)
        await fake.slash(world.admin, "sessie annuleren", sessie=2)
        await fake.slash(world.admin, "sessie wijzigen", sessie=3, start=f"{days[2]} 20:00")
        await fake.wait_until(
            lambda: field(cards[2], "Wanneer") == f"{dutch(days[2], '20:00')}–22:00",
            what="the moved card",
        )
        await fake.wait_until(lambda: "gaat niet door" in seen(cards[1]), what="card 2 cancelled")
        calendar = await fake.slash(world.sanne, "sessie agenda", sessie=1)
        master, moved = Calendar.from_ical(calendar.files[0].data).walk("VEVENT")
        exdates = {d.dt for d in master["EXDATE"].dts}
        assert exdates == {local(days[1], "19:30")}
        assert moved.decoded("recurrence-id") == local(days[2], "19:30")
        assert moved.decoded("dtstart") == local(days[2], "20:00")
        assert str(moved["LOCATION"]) == "Buurthuis, Utrecht"
        remaining = [d for d in rrulestr(master["RRULE"].to_ical().decode(), dtstart=start)]
        assert [d for d in remaining if d not in exdates] == [
            local(days[0], "19:30"),
            local(days[2], "19:30"),  # replaced by the RECURRENCE-ID override
            local(days[3], "19:30"),
        ]

        # a member's own calendar: only what she signed up for, at the right moments
        await fake.click(cards[0], "Ik kom", by=world.sanne)
        await fake.click(cards[3], "Misschien", by=world.sanne)
        mine = await fake.slash(world.sanne, "sessie mijn")
        assert f"**#1** Reeks · {dutch(days[0], '19:30')}" in seen(mine)
        assert "je komt" in seen(mine) and "misschien" in seen(mine)
        assert "**#2**" not in seen(mine)
        own = await fake.slash(world.sanne, "sessie agenda")
        assert own.files[0].filename == "leerbot-mijn-sessies.ics"
        events_in_file = Calendar.from_ical(own.files[0].data).walk("VEVENT")
        assert sorted(e.decoded("dtstart").astimezone(UTC) for e in events_in_file) == [
            starts[0],
            starts[3],
        ]
        await settled(app)
        assert not unexpected_errors(world)


# --- restarts: each reminder once, or missed and logged -----------------------------------


def reminders(fake: FakeDiscord, world: World, member: Member) -> list[str]:
    """The reminders a member got (Dutch or English): by DM, or in private threads when
    DMs are closed."""
    sent = [seen(m) for m in fake.dms(member)]
    for thread in private_threads(fake, world.sessions, member):
        sent += [seen(m) for m in fake.messages(thread)]
    return [t for t in sent if "Herinnering:" in t or "Reminder:" in t]


async def test_reminders_are_sent_once_across_restarts_before_and_after_their_time(
    settings: Settings,
) -> None:
    async with restartable(settings) as server:
        fake = server.fake
        async with server.bot() as world:
            await setup_community(world)
            day = in_days(3)
            await plan(world, "Herstart", day)
            card = await card_of(fake, world.sessions, 1)
            await fake.click(card, "Ik kom", by=world.sanne)
            await fake.click(card, "Ik kom", by=world.closed)  # Bram: DMs closed
            await fake.click(card, "Misschien", by=world.kees)
            await card_shows(fake, card, "Plaatsen", "2 van 8 bezet · 1 misschien")
            await settled(world.app)

        # while the bot is down: the day-before reminder's time passes (within its grace),
        # the hour-before reminder comes due a minute after the bot is back
        clock = server.clock
        await move_due(world.app, ":reminder:1440:", clock.now() - timedelta(minutes=2))
        await move_due(world.app, ":reminder:60:", clock.now() + timedelta(minutes=1))

        async with server.bot() as world:
            await fake.wait_until(
                lambda: all(
                    len(reminders(fake, world, m)) == 1 for m in (world.sanne, world.closed)
                ),
                what="the day-before reminder, sent late within its grace",
            )
            await settled(world.app)
            assert len(reminders(fake, world, world.sanne)) == 1, "the hour-before: not yet"
            clock.advance(minutes=1)
            await fake.wait_until(
                lambda: (
                    len(reminders(fake, world, world.sanne)) == 2
                    and len(reminders(fake, world, world.closed)) == 2
                ),
                what="both reminders, to Sanne by DM and to Bram in a private thread",
            )
            await settled(world.app)

        async with server.bot() as world:  # up again after both times: nothing twice
            await settled(world.app)

        for member in (world.sanne, world.closed):
            got = reminders(fake, world, member)
            assert len(got) == 2, got
            assert f"Herinnering: Herstart begint morgen ({dutch(day, '19:30')})" in got[0]
            assert f"Herinnering: Herstart begint bijna ({dutch(day, '19:30')})" in got[1]
        assert fake.dms(world.closed) == []
        assert reminders(fake, world, world.kees) == [], "only for who said yes"
        assert not unexpected_errors(world)


async def test_a_reminder_past_its_grace_is_missed_and_logged_never_sent_late(
    settings: Settings,
) -> None:
    async with restartable(settings) as server:
        fake = server.fake
        async with server.bot() as world:
            await setup_community(world)
            await plan(world, "Te laat", in_days(3))
            card = await card_of(fake, world.sessions, 1)
            await fake.click(card, "Ik kom", by=world.sanne)
            await card_shows(fake, card, "Plaatsen", "1 van 8 bezet")
            await settled(world.app)

        # down for five hours around the day-before reminder (its grace is three hours)
        key = await move_due(world.app, ":reminder:1440:", server.clock.now() - timedelta(hours=5))
        async with server.bot() as world:
            await settled(world.app)
            assert reminders(fake, world, world.sanne) == [], "not sent late"
            warnings = [r.getMessage() for r in world.logs if r.levelname == "WARNING"]
            assert any(key in w and "not sent late" in w for w in warnings), warnings
            # the hour-before reminder is still to come, and does come
            await fire_now(fake, world.app, "session.reminder", ":reminder:60:")
            assert [
                r[r.index("Herinnering") :][:35] for r in reminders(fake, world, world.sanne)
            ] == ["Herinnering: Te laat begint bijna ("]
            # a timer that fires far too late (the machine slept) sends nothing either
            after = await move_due(world.app, ":after:", server.clock.now() - timedelta(days=3))
            scheduler = await running_scheduler(fake, world.app)
            async with world.app.sessionmaker() as db:
                job_id = await db.scalar(select(ScheduledJob.id).where(ScheduledJob.key == after))
            assert job_id is not None and await scheduler.fire(job_id) is False
            assert any(r.getMessage().startswith(f"missed {after}") for r in world.logs)
            (thread,) = fake.threads(world.sessions)
            assert not [m for m in fake.messages(thread) if "Dank jullie wel" in seen(m)]

        async with server.bot() as world:
            await settled(world.app)
        assert len(reminders(fake, world, world.sanne)) == 1
        assert not unexpected_errors(world)


async def test_a_reminder_being_sent_when_the_bot_stops_still_reaches_everyone(
    settings: Settings,
) -> None:
    async with restartable(settings) as server:
        fake = server.fake
        async with server.bot() as world:
            await setup_community(world)
            await plan(world, "Stoppen", in_days(3))
            card = await card_of(fake, world.sessions, 1)
            await fake.click(card, "Ik kom", by=world.sanne)
            await fake.click(card, "Ik kom", by=world.kees)
            await card_shows(fake, card, "Plaatsen", "2 van 8 bezet")
            await settled(world.app)
        await move_due(world.app, ":reminder:60:", server.clock.now())
        # Discord opens one DM channel at a time here: the second member waits 2 s
        fake.rest.limiter.set_route("POST /users/@me/channels", 1, 2.0)
        async with server.bot() as world:  # sends the reminder at once ...
            await fake.wait_until(
                lambda: reminders(fake, world, world.sanne) or reminders(fake, world, world.kees),
                what="the first reminder",
            )
        # ... and is stopped (as `leerbot run` on Ctrl-C) while the second one is on its way
        async with server.bot() as world:
            await settled(world.app)
            await fake.wait_until(
                lambda: (
                    len(reminders(fake, world, world.sanne)) == 1
                    and len(reminders(fake, world, world.kees)) == 1
                ),
                what="a reminder for each",
            )
        assert not unexpected_errors(world)


# --- bad input ----------------------------------------------------------------------------


async def raw_slash(world: World, group: str, sub: str, options: list[dict[str, Any]]) -> Seen:
    """A command built by hand, as a modified client could send it: it skips the checks
    Discord's own client makes (such as an option's min_value)."""
    fake = world.fake
    command = next(c for c in fake.commands[world.guild.id] if c.name == group)
    data = {
        "id": str(command.id),
        "name": group,
        "type": 1,
        "guild_id": str(world.guild.id),
        "options": [{"type": 1, "name": sub, "options": options}],
    }
    record = fake._interaction_base(2, world.admin, world.general, data)
    return await fake._send_interaction(record, 5.0, True, f"/{group} {sub}")


def text(name: str, value: str) -> dict[str, Any]:
    return {"type": 3, "name": name, "value": value}


def integer(name: str, value: int) -> dict[str, Any]:
    return {"type": 4, "name": name, "value": value}


def snapshot(world: World) -> list[object]:
    """Everything in the server the bot could have changed."""
    fake = world.fake
    return [
        [(m.id, seen(m), m.edited_timestamp, labels(m)) for m in fake.messages(world.sessions)],
        [(t.id, len(fake.messages(t))) for t in fake.threads(world.sessions)],
        [
            (e.id, e.name, e.scheduled_start_time, e.scheduled_end_time, e.status)
            for e in fake.scheduled_events(world.guild)
        ],
        [len(fake.dms(m)) for m in (world.sanne, world.kees, world.closed)],
    ]


async def test_bad_input_gets_a_clear_answer_and_changes_nothing(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        await setup_community(world)
        day = in_days(5).isoformat()
        refused = {
            "Dat tijdstip (2020-01-06 19:30) is al voorbij. Kies een moment in de toekomst.": {
                "start": "2020-01-06 19:30"
            },
            "Ik begrijp de tijd 'ergens volgende week' niet. Schrijf bijvoorbeeld": {
                "start": "ergens volgende week"
            },
            "31 februari 2027 bestaat niet. Die maand heeft 28 dagen.": {
                "start": "31-02-2027 19:30"
            },
            "hoogstens 8 uur": {"start": f"{day} 10:00", "duur": "9 uur"},
            "Ik begrijp de duur 'de hele dag' niet.": {
                "start": f"{day} 10:00",
                "duur": "de hele dag",
            },
        }
        for expected, options in refused.items():
            answer = await fake.slash(
                world.admin, "sessie plannen", titel="Fout", spraakkanaal=world.voice, **options
            )
            assert answer.ephemeral and expected in seen(answer), (options, seen(answer))
        nowhere = await fake.slash(
            world.admin, "sessie plannen", titel="Fout", start=f"{day} 10:00"
        )
        assert "Kies een **spraakkanaal** of vul een **adres** (of link) in." in seen(nowhere)
        # capacity below 2: Discord's client refuses it, a hand-made request gets an answer
        with pytest.raises(ValueError, match="out of range"):
            await fake.slash(
                world.admin, "sessie plannen", titel="Fout", start=f"{day} 10:00", plaatsen=1
            )
        tiny = await raw_slash(
            world,
            "sessie",
            "plannen",
            [text("titel", "Fout"), text("start", f"{day} 10:00"), text("adres", "Utrecht"),
             integer("plaatsen", 1)],
        )  # fmt: skip
        assert "Kies bij **plaatsen** een getal van 2 tot en met 50." in seen(tiny), seen(tiny)
        await settled(world.app)
        assert fake.messages(world.sessions) == [] and fake.scheduled_events(world.guild) == []
        assert "Er zijn geen intervisiebijeenkomsten gepland." in seen(
            await fake.slash(world.sanne, "sessie lijst")
        )

        # a planned session: a bad change is refused and leaves card and event as they were
        await plan(world, "Goed", in_days(5))
        card = await card_of(fake, world.sessions, 1)
        await event_named(world, "Goed")
        await fake.click(card, "Ik kom", by=world.sanne)
        await card_shows(fake, card, "Plaatsen", "1 van 8 bezet")
        await settled(world.app)
        before = snapshot(world)
        for expected, options in {
            "Dat tijdstip (2020-01-06 19:30) is al voorbij.": {"start": "2020-01-06 19:30"},
            "hoogstens 8 uur": {"duur": "12 uur"},
            "Bijeenkomst #7 ken ik niet.": {"sessie": 7, "titel": "Anders"},
            "Je hebt niets gekozen om te veranderen.": {},
        }.items():
            answer = await fake.slash(world.admin, "sessie wijzigen", **({"sessie": 1} | options))
            assert answer.ephemeral and expected in seen(answer), (options, seen(answer))
        small = await raw_slash(
            world, "sessie", "wijzigen", [integer("sessie", 1), integer("plaatsen", 1)]
        )
        assert "2 tot en met 50" in seen(small), seen(small)
        await settled(world.app)
        assert snapshot(world) == before

        # a cancelled session cannot be edited (or cancelled again)
        await fake.slash(world.admin, "sessie annuleren", sessie=1)
        await fake.wait_until(lambda: labels(card) == [], what="the card cancelled")
        await settled(world.app)
        before = snapshot(world)
        for command, options in (
            ("sessie wijzigen", {"titel": "Toch wel"}),
            ("sessie wijzigen", {"start": f"{in_days(6).isoformat()} 19:30"}),
            ("sessie annuleren", {}),
        ):
            answer = await fake.slash(world.admin, command, sessie=1, **options)
            assert answer.ephemeral
            assert "Deze bijeenkomst is geannuleerd. Je kunt er niets meer aan veranderen." in seen(
                answer
            ), seen(answer)
        await settled(world.app)
        assert snapshot(world) == before
        (event,) = fake.scheduled_events(world.guild)
        assert (event.name, event.status) == ("Goed", EVENT_CANCELED)
        assert not unexpected_errors(world)


# --- roles --------------------------------------------------------------------------------


async def test_roles_volunteer_fair_suggestion_and_confirm_by_button(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        keep_up(fake)
        await setup_community(world)
        await plan(world, "Rollen", in_days(4))
        card = await card_of(fake, world.sessions, 1)
        nobody = await fake.slash(world.admin, "sessie rollen", sessie=1)
        assert "Er heeft nog niemand gezegd te komen" in seen(nobody)
        for member in (world.sanne, world.kees):
            await fake.click(card, "Ik kom", by=member)

        offered = await fake.slash(world.sanne, "sessie rol", sessie=1, rol="inbrenger")
        assert offered.ephemeral
        assert "Dank je! Je hebt je aangemeld als inbrenger voor Rollen." in seen(offered)
        again = await fake.slash(world.sanne, "sessie rol", sessie=1, rol="inbrenger")
        assert "Je hebt je al aangemeld als inbrenger." in seen(again)
        english = await fake.slash(world.kees, "session role", session=1, role="facilitator")
        assert "Thank you! You volunteered as facilitator for Rollen." in seen(english)

        suggested = await fake.slash(world.admin, "sessie rollen", sessie=1)
        assert suggested.ephemeral and "Voorstel voor de rollen" in seen(suggested)
        assert field(suggested, "inbrenger") == "Sanne (meldde zich aan) · nog nooit gedaan"
        assert field(suggested, "gespreksleider") == "Kees (meldde zich aan) · nog nooit gedaan"
        assert labels(suggested) == ["inbrenger: Sanne", "gespreksleider: Kees"]
        assert field(card, "Rollen") is None, "nothing confirmed yet"

        confirmed = await fake.click(suggested, "inbrenger: Sanne", by=world.admin)
        assert "De rol inbrenger is bevestigd." in seen(confirmed)
        await card_shows(fake, card, "Rollen", "inbrenger: Sanne")
        await fake.click(suggested, "gespreksleider: Kees", by=world.admin)
        await card_shows(fake, card, "Rollen", "gespreksleider: Kees, inbrenger: Sanne")
        viewed = await fake.slash(world.kees, "session view", session=1)
        assert field(viewed, "Roles") == "facilitator: Kees, case presenter: Sanne"

        # next time, fair rotation: Sanne was case presenter, so Kees is suggested first
        day = in_days(11)
        await plan(world, "Rollen 2", day)
        second = await card_of(fake, world.sessions, 2)
        for member in (world.sanne, world.kees):
            await fake.click(second, "Ik kom", by=member)
        rotated = await fake.slash(world.admin, "sessie rollen", sessie=2)
        assert field(rotated, "inbrenger") == "Kees · nog nooit gedaan"
        assert field(rotated, "gespreksleider") == "Sanne · nog nooit gedaan"
        by_command = await fake.slash(
            world.admin, "sessie bevestig", sessie=2, lid=world.sanne, rol="inbrenger"
        )
        assert "Sanne is inbrenger." in seen(by_command)
        await card_shows(fake, second, "Rollen", "inbrenger: Sanne")
        # a member cannot confirm roles
        member_click = await fake.click(rotated, "gespreksleider: Sanne", by=world.kees)
        assert member_click.ephemeral and "Only a" in seen(member_click), seen(member_click)
        await settled(world.app)
        assert field(second, "Rollen") == "inbrenger: Sanne"
        assert not unexpected_errors(world)


# --- attendance ---------------------------------------------------------------------------


async def test_attendance_after_the_session_from_sign_ups_and_corrected(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake, app = world.fake, world.app
        await setup_community(world)
        await plan(world, "Afloop", in_days(2))
        card = await card_of(fake, world.sessions, 1)
        (thread,) = await fake.wait_until(lambda: fake.threads(world.sessions), what="thread")
        await fake.click(card, "Ik kom", by=world.sanne)
        await fake.click(card, "Ik kom", by=world.kees)
        await fake.click(card, "Misschien", by=world.closed)
        await card_shows(fake, card, "Plaatsen", "2 van 8 bezet · 1 misschien")
        early = await fake.slash(world.admin, "sessie aanwezigheid", sessie=1)
        assert "Er is nog geen aanwezigheid bekend." in seen(early)
        not_yet = await fake.slash(
            world.admin, "sessie aanwezigheid", sessie=1, lid=world.kees, aanwezig=False
        )
        assert "Deze bijeenkomst is nog niet begonnen." in seen(not_yet)
        seen_before = await fake.slash(world.closed, "sessie bekijken", sessie=1)
        await settled(app)

        # the session took place: it ended a few minutes ago
        async with app.sessionmaker() as db, db.begin():
            await db.execute(
                update(SessionOccurrence).values(
                    starts_at=datetime.now(UTC) - timedelta(hours=2),
                    ends_at=datetime.now(UTC) - timedelta(minutes=5),
                )
            )
        thanks = fake.wait_for_message(thread)
        assert await fire_now(fake, app, "session.after")
        assert "Dank jullie wel voor deze intervisie (2 deelnemers)." in seen(await thanks)

        listed = await fake.slash(world.admin, "sessie aanwezigheid", sessie=1)
        assert listed.ephemeral and "Aanwezigheid" in seen(listed)
        assert "Kees: aanwezig\nSanne: aanwezig" in seen(listed)
        assert "Bram" not in seen(listed), "maybe is not counted present"
        corrected = await fake.slash(
            world.admin, "sessie aanwezigheid", sessie=1, lid=world.kees, aanwezig=False
        )
        assert "Kees: niet aanwezig\nSanne: aanwezig" in seen(corrected)
        missing = await fake.slash(world.admin, "sessie aanwezigheid", sessie=1, lid=world.kees)
        assert "Vul **aanwezig** in." in seen(missing)
        refused = await fake.slash(world.sanne, "sessie aanwezigheid", sessie=1)
        assert "Dit mag alleen een" in seen(refused)
        # the card in the channel says it is over and has no buttons; a button seen before
        # (an old message) is refused
        await fake.wait_until(
            lambda: labels(card) == [] and "Deze bijeenkomst is voorbij." in seen(card),
            what="the card without buttons",
        )
        late = await fake.click(seen_before, "Ik kom", by=world.closed)
        assert "Deze bijeenkomst is al begonnen. Aanmelden kan niet meer." in seen(late)
        assert not unexpected_errors(world)


# --- closed DMs ---------------------------------------------------------------------------


async def test_a_member_with_closed_dms_gets_the_reminder_in_a_private_thread(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake, app = world.fake, world.app
        await setup_community(world)
        day = in_days(3)
        await plan(world, "Privé", day)
        card = await card_of(fake, world.sessions, 1)
        await fake.click(card, "Ik kom", by=world.closed)
        await fake.click(card, "Ik kom", by=world.sanne)
        await card_shows(fake, card, "Plaatsen", "2 van 8 bezet")

        assert await fire_now(fake, app, "session.reminder", ":reminder:60:")
        assert fake.dms(world.closed) == []
        (private,) = private_threads(fake, world.sessions, world.closed)
        assert private.name == "Bericht voor Bram"
        assert set(private.thread_members) - {fake.bot_user.id} == {world.closed.id}
        (reminder,) = fake.messages(private)
        assert f"Herinnering: Privé begint bijna ({dutch(day, '19:30')})" in seen(reminder)
        assert labels(reminder) == ["Ik kan niet"]
        assert not reminder.mentions_everyone()
        # Sanne, whose DMs are open, got hers by DM and has no thread
        assert any("Herinnering: Privé begint bijna" in t for t in dm_texts(fake, world.sanne))
        assert private_threads(fake, world.sessions, world.sanne) == []

        # the button in the thread works
        answer = await fake.click(reminder, "Ik kan niet", by=world.closed)
        assert "Jammer dat je niet kunt." in seen(answer)
        await card_shows(fake, card, "Plaatsen", "1 van 8 bezet")
        assert field(card, "Wie komt er") == "Sanne"
        await settled(app)
        assert not unexpected_errors(world)


# --- hiding one's name --------------------------------------------------------------------


async def test_members_can_hide_their_name_and_still_count(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        keep_up(fake)
        await setup_community(world)
        await plan(world, "Anoniem", in_days(4))
        card = await card_of(fake, world.sessions, 1)
        first = await fake.click(card, "Naam wel/niet tonen", by=world.sanne)
        assert "Meld je eerst aan met een van de knoppen." in seen(first)

        await fake.click(card, "Ik kom", by=world.sanne)
        await fake.click(card, "Ik kom", by=world.kees)
        await card_shows(fake, card, "Wie komt er", "Sanne, Kees")
        hidden = await fake.click(card, "Naam wel/niet tonen", by=world.sanne)
        assert hidden.ephemeral
        assert "Je naam staat niet meer in de lijst. Je telt wel mee." in seen(hidden)
        await card_shows(fake, card, "Wie komt er", "Kees en 1 ander")
        assert field(card, "Plaatsen") == "2 van 8 bezet"
        viewed = await fake.slash(world.kees, "sessie bekijken", sessie=1)
        assert field(viewed, "Who is coming") == "Kees and 1 other"
        assert "Sanne" not in seen(viewed)

        await fake.click(card, "Naam wel/niet tonen", by=world.kees)
        await card_shows(fake, card, "Wie komt er", "2 anderen")
        shown = await fake.click(card, "Naam wel/niet tonen", by=world.sanne)
        assert "Je naam staat weer in de lijst van wie er komt." in seen(shown)
        await card_shows(fake, card, "Wie komt er", "Sanne en 1 ander")
        await settled(world.app)
        assert not unexpected_errors(world)


# --- bugs found (these fail until the bot is fixed) ---------------------------------------


async def test_raising_the_capacity_gives_the_waitlist_the_new_places(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        keep_up(fake)
        await setup_community(world)
        fatima = fake.add_member(world.guild, "Fatima", locale="nl")
        await plan(world, "Meer plek", in_days(4), plaatsen=2)
        card = await card_of(fake, world.sessions, 1)
        for member in (world.sanne, world.kees, fatima):
            await fake.click(card, "Ik kom", by=member)
        await card_shows(fake, card, "Plaatsen", "2 van 2 bezet · 1 op de wachtlijst")

        told = fake.wait_for_dm(fatima, lambda m: "Goed nieuws" in seen(m))
        edited = await fake.slash(world.admin, "sessie wijzigen", sessie=1, plaatsen=3)
        assert "De intervisie is aangepast." in seen(edited)
        await card_shows(fake, card, "Plaatsen", "3 van 3 bezet")
        assert "er is een plek vrijgekomen bij Meer plek" in seen(await told)
        viewed = await fake.slash(fatima, "sessie bekijken", sessie=1)
        assert "Fijn dat je komt!" in seen(viewed)
        await settled(world.app)


async def test_already_volunteered_names_the_role_in_the_members_language(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        await setup_community(world)
        await plan(world, "Taal", in_days(4))
        await fake.slash(world.kees, "session role", session=1, role="facilitator")
        again = await fake.slash(world.kees, "session role", session=1, role="facilitator")
        assert "You already volunteered as facilitator." in seen(again), seen(again)
        await settled(world.app)


async def test_a_moved_meeting_of_a_voice_series_has_a_readable_calendar_location(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        await setup_community(world)
        first = in_days(3)
        await plan(world, "Online", first, herhaling="wekelijks", aantal=3)
        await fake.slash(
            world.admin, "sessie wijzigen", sessie=2, start=f"{first + timedelta(days=8)} 20:00"
        )
        calendar = await fake.slash(world.sanne, "sessie agenda", sessie=1)
        master, moved = Calendar.from_ical(calendar.files[0].data).walk("VEVENT")
        assert str(master["LOCATION"]) == "Discord"
        assert moved.decoded("dtstart") == local(first + timedelta(days=8), "20:00")
        assert str(moved["LOCATION"]) == "Discord", "not the voice channel's id"
        await settled(world.app)


async def test_a_new_place_for_one_meeting_shows_the_same_everywhere(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        keep_up(fake)
        await setup_community(world)
        first = in_days(3)
        await plan(world, "Plek", first, herhaling="wekelijks", aantal=2, adres="Utrecht")
        second_card = await card_of(fake, world.sessions, 2)
        await fake.click(second_card, "Ik kom", by=world.sanne)
        await card_shows(fake, second_card, "Plaatsen", "1 van 8 bezet")
        await settled(world.app)

        await fake.slash(world.admin, "sessie wijzigen", sessie=1, adres="Amersfoort")
        await settled(world.app)
        viewed = await fake.slash(world.sanne, "sessie bekijken", sessie=2)
        event = next(
            e
            for e in fake.scheduled_events(world.guild)
            if utc(e.scheduled_start_time) == local(first + timedelta(weeks=1), "19:30")
        )
        told = any("verplaatst" in t for t in dm_texts(fake, world.sanne))
        # what Sanne sees for meeting 2 agrees: the view, the card, the event and her DMs
        place = field(viewed, "Waar")
        assert (place, field(second_card, "Waar"), event.location, told) in (
            ("Utrecht", "Utrecht", "Utrecht", False),
            ("Amersfoort", "Amersfoort", "Amersfoort", True),
        )


async def test_a_sign_up_does_not_resend_the_unchanged_discord_event(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        keep_up(fake)
        await setup_community(world)
        await plan(world, "Zuinig", in_days(4))
        card = await card_of(fake, world.sessions, 1)
        await event_named(world, "Zuinig")
        await settled(world.app)
        before = [r for r in fake.requests if "scheduled-events" in r.path]
        for member in (world.sanne, world.kees):
            await fake.click(card, "Ik kom", by=member)
        await card_shows(fake, card, "Plaatsen", "2 van 8 bezet")
        await settled(world.app)
        after = [r for r in fake.requests if "scheduled-events" in r.path]
        # Discord allows 5 event edits per 5 s per server: edits that change nothing delay
        # the ones that matter (a reschedule right after a few sign-ups reaches the event
        # seconds late)
        assert [(r.method, r.path) for r in after[len(before) :]] == []
