"""Calendar files as members get them from `/sessie agenda`, parsed back with icalendar."""

from __future__ import annotations

from datetime import datetime

from dateutil.rrule import rrulestr
from icalendar import Calendar

from leerbot.app import App
from leerbot.chat.context import Place
from leerbot.core.actor import Function, Identity

PLACE = Place("guild-1", "Test")
MODERATOR = Identity("mo", "Mo", granted_functions=frozenset({Function.MODERATOR}))
SANNE = Identity("sanne", "Sanne")


async def run(app: App, who: Identity, words: str, **args: object):  # type: ignore[no-untyped-def]
    reply = await app.dispatcher.run_text(PLACE, who, words.split(), dict(args))
    assert not reply.is_error, reply.text
    return reply


async def test_series_calendar_has_rule_timezone_and_skipped_date(app: App) -> None:
    await run(
        app,
        MODERATOR,
        "sessie plannen",
        titel="Intervisie",
        start="2027-03-16 19:30",
        adres="Utrecht",
        herhaling="wekelijks",
        elke="2",
        aantal="4",
    )
    await run(app, MODERATOR, "sessie annuleren", sessie="1")  # 16 March is skipped
    reply = await run(app, SANNE, "sessie agenda", sessie="1")
    (attachment,) = reply.attachments
    assert attachment.filename.endswith(".ics")
    calendar = Calendar.from_ical(attachment.data)
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Amsterdam"
    (event,) = calendar.walk("VEVENT")
    start = event.decoded("dtstart")
    assert (start.hour, start.minute, str(start.tzinfo)) == (19, 30, "Europe/Amsterdam")
    rule = rrulestr(event["RRULE"].to_ical().decode(), dtstart=start)
    exdates = {d.dt for d in event["EXDATE"].dts}
    dates = [d for d in rule if d not in exdates]
    # Every meeting at 19:30 local time, before and after the clocks moved on 28 March.
    assert [(d.date().isoformat(), d.hour, d.minute) for d in dates] == [
        ("2027-03-30", 19, 30),
        ("2027-04-13", 19, 30),
        ("2027-04-27", 19, 30),
    ]
    assert str(event["LOCATION"]) == "Utrecht"


async def test_my_calendar_lists_only_what_i_signed_up_for(app: App) -> None:
    await run(
        app, MODERATOR, "sessie plannen", titel="Eerste", start="2027-03-16 19:30", adres="Utrecht"
    )
    await run(
        app, MODERATOR, "sessie plannen", titel="Tweede", start="2027-03-17 10:00", adres="Emmen"
    )
    await app.dispatcher.press(PLACE, SANNE, "lb:session.yes:2")
    reply = await run(app, SANNE, "sessie agenda")
    events = Calendar.from_ical(reply.attachments[0].data).walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Tweede"]
    start = events[0].decoded("dtstart")
    assert start.replace(tzinfo=None) == datetime(2027, 3, 17, 10, 0)
