"""Calendar files (.ics) with icalendar: a whole series as one event with RRULE, EXDATE for
skipped or cancelled dates, RECURRENCE-ID overrides for moved ones, and a VTIMEZONE for
Europe/Amsterdam so calendars keep 19:30 at 19:30 across daylight saving."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vRecur

PRODID = "-//leerbot//Community of Learners//NL"


@dataclass(frozen=True)
class CalendarOccurrence:
    uid: str
    title: str
    description: str
    location: str
    starts_at: datetime
    ends_at: datetime
    cancelled: bool = False


@dataclass(frozen=True)
class CalendarSeries:
    uid: str
    title: str
    description: str
    location: str
    timezone: str
    first_start_local: datetime
    duration: timedelta
    freq: str  # once | weekly | monthly
    interval: int
    monthly_nth: int | None
    until_local: datetime | None
    count: int | None
    exdates_local: tuple[datetime, ...]
    overrides: tuple[tuple[datetime, CalendarOccurrence], ...]  # (original local, moved)


def _calendar(timezone: str, first: datetime, last: datetime) -> Calendar:
    """A calendar with a VTIMEZONE covering just the years the events span."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add_component(
        Timezone.from_tzid(
            timezone,
            first_date=date(first.year - 1, 1, 1),
            last_date=date(last.year + 2, 1, 1),
        )
    )
    return cal


def _event(uid: str, title: str, description: str, location: str) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("summary", title)
    event.add("description", description)
    if location:
        event.add("location", location)
    event.add("dtstamp", datetime.now(ZoneInfo("UTC")))
    return event


def series_calendar(series: CalendarSeries) -> bytes:
    tz = ZoneInfo(series.timezone)
    last = series.until_local or series.first_start_local + timedelta(days=366 * 2)
    cal = _calendar(series.timezone, series.first_start_local, last)
    master = _event(series.uid, series.title, series.description, series.location)
    start = series.first_start_local.replace(tzinfo=tz)
    master.add("dtstart", start)
    master.add("dtend", start + series.duration)
    if series.freq != "once":
        rule: dict[str, object] = {
            "freq": "WEEKLY" if series.freq == "weekly" else "MONTHLY",
            "interval": series.interval,
        }
        if series.freq == "monthly":
            day = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")[series.first_start_local.weekday()]
            rule["byday"] = f"{series.monthly_nth or 1}{day}"
        if series.until_local is not None:
            rule["until"] = series.until_local.replace(tzinfo=tz).astimezone(ZoneInfo("UTC"))
        if series.count is not None:
            rule["count"] = series.count
        master.add("rrule", vRecur(rule))
        for exdate in series.exdates_local:
            master.add("exdate", exdate.replace(tzinfo=tz))
    cal.add_component(master)
    for original, moved in series.overrides:
        override = _event(series.uid, moved.title, moved.description, moved.location)
        override.add("recurrence-id", original.replace(tzinfo=tz))
        override.add("dtstart", moved.starts_at.astimezone(tz))
        override.add("dtend", moved.ends_at.astimezone(tz))
        cal.add_component(override)
    return cal.to_ical()


def occurrences_calendar(timezone: str, occurrences: Iterable[CalendarOccurrence]) -> bytes:
    tz = ZoneInfo(timezone)
    items = list(occurrences)
    now = datetime.now(tz)
    cal = _calendar(
        timezone,
        min((i.starts_at for i in items), default=now),
        max((i.starts_at for i in items), default=now),
    )
    for item in items:
        event = _event(item.uid, item.title, item.description, item.location)
        event.add("dtstart", item.starts_at.astimezone(tz))
        event.add("dtend", item.ends_at.astimezone(tz))
        if item.cancelled:
            event.add("status", "CANCELLED")
        cal.add_component(event)
    return cal.to_ical()
