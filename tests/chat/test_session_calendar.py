"""Calendar files as members get them from `/sessie agenda`, parsed back with icalendar, and
what `/sessie mijn` and `/sessie bekijken` say about the same meetings.

These go through the commands, which plan from the real "now": every date is counted from
today, so the tests mean the same on any day they run. (The real-program tests in
`tests/real_programs/test_calendars.py` build a community with a fixed "now" instead.)"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from icalendar import Calendar, Event
from sqlalchemy import select

from leerbot.app import App
from leerbot.chat.context import Place
from leerbot.chat.reply import Reply, render
from leerbot.core.actor import Function, Identity
from leerbot.db.models import Community

PLACE = Place("guild-1", "Test")
MODERATOR = Identity("mo", "Mo", granted_functions=frozenset({Function.MODERATOR}))
SANNE = Identity("sanne", "Sanne")
SAM = Identity("sam", "Sam", locale_hint="en")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")


async def run(app: App, who: Identity, words: str, **args: object) -> Reply:
    reply = await app.dispatcher.run_text(PLACE, who, words.split(), dict(args))
    assert not reply.is_error, render(reply.text, reply.locale or "nl")
    return reply


def text(reply: Reply) -> str:
    return render(reply.text, reply.locale or "nl")


def in_days(days: int) -> date:
    return datetime.now(AMSTERDAM).date() + timedelta(days=days)


def at(day: date, clock: str) -> str:
    return f"{day.isoformat()} {clock}"


def local(day: date, clock: str) -> datetime:
    hour, minute = (int(part) for part in clock.split(":"))
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM)


def next_clock_change(after: date) -> date:
    """The next day Amsterdam's clocks move."""
    day = after
    while (
        datetime(day.year, day.month, day.day, 12, tzinfo=AMSTERDAM).utcoffset()
        == datetime(day.year, day.month, day.day, 0, tzinfo=AMSTERDAM).utcoffset()
    ):
        day += timedelta(days=1)
    return day


def events(reply: Reply) -> list[Event]:
    (attachment,) = reply.attachments
    return list(Calendar.from_ical(attachment.data).walk("VEVENT"))


async def calendar_key(app: App) -> str:
    async with app.sessionmaker() as db:
        key = await db.scalar(
            select(Community.calendar_key).where(Community.platform_id == "guild-1")
        )
    assert key
    return key


async def test_series_file_keeps_1930_across_the_clock_change(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    # meetings are made 120 days ahead; the next clock change may be further away
    monkeypatch.setattr("leerbot.core.sessions.HORIZON", timedelta(days=400))
    change = next_clock_change(in_days(16))
    first = change - timedelta(days=12)  # two meetings before the change, two after
    await run(
        app,
        MODERATOR,
        "sessie plannen",
        titel="Intervisie",
        start=at(first, "19:30"),
        adres="Utrecht",
        herhaling="wekelijks",
        aantal="5",
    )
    await run(app, MODERATOR, "sessie annuleren", sessie="3")  # one skipped
    reply = await run(app, SANNE, "sessie agenda", sessie="1")
    (attachment,) = reply.attachments
    assert attachment.filename == "leerbot-sessie-1.ics"
    calendar = Calendar.from_ical(attachment.data)
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Amsterdam"
    assert all("RRULE" in part and "RDATE" not in part for part in zone.subcomponents)
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, str(start.tzinfo)) == (19, 30, "Europe/Amsterdam")
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    exdates = {d.dt for d in event["EXDATE"].dts}
    days = [first + timedelta(weeks=n) for n in range(5)]
    assert exdates == {local(days[2], "19:30")}
    assert [d for d in rule if d not in exdates] == [
        local(d, "19:30") for d in (days[0], days[1], days[3], days[4])
    ]
    assert len({d.utcoffset() for d in rule}) == 2, "UTC moves, the local time does not"
    assert str(event["LOCATION"]) == "Utrecht"


async def test_the_file_is_named_after_the_meeting_asked_for(app: App) -> None:
    await run(
        app,
        MODERATOR,
        "sessie plannen",
        titel="Inloop",
        start=at(in_days(5), "19:00"),
        adres="Emmen",
        herhaling="wekelijks",
        aantal="4",
    )
    reply = await run(app, SANNE, "sessie agenda", sessie="3")
    assert reply.attachments[0].filename == "leerbot-sessie-3.ics"
    assert "alle bijeenkomsten van de reeks" in text(reply)
    (event,) = events(reply)
    assert str(event["UID"]) == f"series-1-{await calendar_key(app)}@leerbot"


async def test_a_cancelled_meeting_is_cancelled_wherever_a_member_looks(app: App) -> None:
    first = in_days(4)
    await run(
        app,
        MODERATOR,
        "sessie plannen",
        titel="Intervisie",
        start=at(first, "19:30"),
        adres="Utrecht",
        herhaling="wekelijks",
        aantal="3",
    )
    for number in ("1", "2"):
        await app.dispatcher.press(PLACE, SANNE, f"lb:session.yes:{number}")
    await app.dispatcher.press(PLACE, SAM, "lb:session.yes:2")
    await run(app, MODERATOR, "sessie annuleren", sessie="2")

    mine = text(await run(app, SANNE, "sessie mijn"))
    (one,) = [line for line in mine.splitlines() if "**#1**" in line]
    (two,) = [line for line in mine.splitlines() if "**#2**" in line]
    assert "je komt" in one
    assert "gaat niet door" in two and "je komt" not in two
    assert "cancelled" in text(await run(app, SAM, "sessie mijn"))
    viewed = await run(app, SANNE, "sessie bekijken", sessie="2")
    assert "Fijn dat je komt" not in text(viewed)
    assert "gaat niet door" in text(viewed)

    own = await run(app, SANNE, "sessie agenda")
    assert own.attachments[0].filename == "leerbot-mijn-sessies.ics"
    assert "waarvoor je je hebt aangemeld" in text(own)
    kept, dropped = events(own)
    series = events(await run(app, SANNE, "sessie agenda", sessie="1"))
    (master,) = [e for e in series if "RECURRENCE-ID" not in e]
    # the same meeting, the same UID and slot in both files
    assert str(kept["UID"]) == str(dropped["UID"]) == str(master["UID"])
    assert kept.decoded("RECURRENCE-ID") == kept.decoded("DTSTART") == local(first, "19:30")
    assert "STATUS" not in kept
    second = local(first + timedelta(weeks=1), "19:30")
    assert dropped.decoded("RECURRENCE-ID") == second
    assert str(dropped["STATUS"]) == "CANCELLED"
    assert {d.dt for d in master["EXDATE"].dts} == {second}


async def test_my_file_holds_only_what_i_signed_up_for(app: App) -> None:
    await run(
        app, MODERATOR, "sessie plannen", titel="Eerste", start=at(in_days(3), "19:30"), adres="U"
    )
    await run(
        app, MODERATOR, "sessie plannen", titel="Tweede", start=at(in_days(4), "10:00"), adres="E"
    )
    assert text(await run(app, SANNE, "sessie agenda")).startswith("Je hebt je nog niet")
    await app.dispatcher.press(PLACE, SANNE, "lb:session.yes:2")
    (event,) = events(await run(app, SANNE, "sessie agenda"))
    assert str(event["SUMMARY"]) == "Tweede"
    assert "RECURRENCE-ID" not in event, "a single meeting, as in its own file"
    assert event.decoded("dtstart") == local(in_days(4), "10:00")


async def test_moving_the_whole_series_leaves_no_meeting_at_the_old_time(app: App) -> None:
    first = in_days(3)
    await run(
        app,
        MODERATOR,
        "sessie plannen",
        titel="Casusronde",
        start=at(first, "10:00"),
        adres="Emmen",
        herhaling="wekelijks",
    )
    before = events(await run(app, SANNE, "sessie agenda", sessie="1"))
    await run(
        app, MODERATOR, "sessie wijzigen", sessie="1", start=at(first, "13:30"), hele_reeks="true"
    )
    after = events(await run(app, SANNE, "sessie agenda", sessie="1"))
    (master,) = after
    assert master.decoded("DTSTART") == local(first, "13:30")
    assert int(master["SEQUENCE"]) == int(before[0]["SEQUENCE"]) + 1
    listed = text(await run(app, SANNE, "sessie lijst"))
    assert "10:00" not in listed and listed.count("13:30") >= 10


async def test_cancelling_the_rest_of_an_open_ended_series_ends_its_rule(app: App) -> None:
    first = in_days(3)
    await run(
        app,
        MODERATOR,
        "sessie plannen",
        titel="Inloop",
        start=at(first, "19:00"),
        spraakkanaal="4242",
        herhaling="wekelijks",
    )
    await run(app, MODERATOR, "sessie annuleren", sessie="3", hele_reeks="true")
    (master,) = events(await run(app, SANNE, "sessie agenda", sessie="1"))
    (until,) = master["RRULE"]["UNTIL"]
    assert until == local(first + timedelta(weeks=1), "19:00").astimezone(UTC)
    assert str(master["LOCATION"]) == "Discord"
    assert "STATUS" not in master, "two meetings still take place"
