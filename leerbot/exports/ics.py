"""Calendar files (.ics) that calendar programs agree with.

How one meeting appears, so that importing several files gives it once:

- **The series file** (`/sessie agenda sessie:N`) holds the series as one event with an
  RRULE in the series' time zone, the community's. A cancelled meeting is an EXDATE; a
  meeting that is not where the rule puts it (moved, or left at its old time when the rest
  of the series moved) is an override: the series' UID with a RECURRENCE-ID naming its slot
  in the rule. A series cancelled from a date on ends with an UNTIL; a series with nothing
  left is one event with STATUS:CANCELLED.
- **The personal file** (`/sessie agenda`) holds only the meetings a member signed up for,
  each as the series' UID plus the RECURRENCE-ID of its slot (a one-off meeting: the UID
  alone), exactly as in the series file; a cancelled one carries STATUS:CANCELLED, so a
  calendar that imported it before takes it off. This is how a calendar server gives an
  attendee only the instances they are invited to (RFC 6638, 3.2.6).
- The UID is the same in every file and no other community or installation makes it
  (`leerbot.core.sessions.calendar_uid`); every component carries the series' SEQUENCE,
  which grows with every change a calendar sees, so a newer file is taken as an update.

The VTIMEZONE is the conventional one: a STANDARD and a DAYLIGHT rule (RRULE
`FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU`), derived from the time-zone database, not a list of
RDATEs (which vobject reads only partly: 19:30 came out as 20:30 after a clock change).
Times a member reads (DTSTART, DTEND, RECURRENCE-ID, EXDATE) carry the zone's TZID; only
UNTIL and DTSTAMP are in UTC, as RFC 5545 requires.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

from leerbot.core.sessions import CalendarMeeting, SeriesCalendar

PRODID = "-//leerbot//Community of Learners//NL"
VOICE_LOCATION = "Discord"
WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
MAX_ZONE_YEARS = 60


def series_file(series: SeriesCalendar, *, description: str, stamp: datetime) -> bytes:
    """The whole series: one RRULE event, its EXDATEs and its overrides."""
    tz = ZoneInfo(series.timezone)
    moments = [
        series.first_start_local,
        *(m.starts_at.astimezone(tz).replace(tzinfo=None) for m in series.overrides),
    ]
    if series.until_local is not None:
        moments.append(series.until_local)
    cal = _calendar({series.timezone: moments})
    master = _event(
        series.uid,
        series.sequence,
        series.title,
        description,
        _location(series.location_kind, series.location),
        stamp,
    )
    start = series.first_start_local.replace(tzinfo=tz)
    master.add("dtstart", start)
    master.add("dtend", (start.astimezone(UTC) + series.duration).astimezone(tz))
    if series.freq != "once":
        rule: dict[str, object] = {
            "freq": "WEEKLY" if series.freq == "weekly" else "MONTHLY",
            "interval": series.interval,
        }
        if series.byday:
            rule["byday"] = series.byday
        if series.until_local is not None:
            rule["until"] = series.until_local.replace(tzinfo=tz).astimezone(UTC)
        elif series.count is not None:
            rule["count"] = series.count
        master.add("rrule", vRecur(rule))
        if series.exdates_local:
            master.add("exdate", [d.replace(tzinfo=tz) for d in series.exdates_local])
    if series.cancelled:
        master.add("status", "CANCELLED")
    cal.add_component(master)
    for meeting in series.overrides:
        cal.add_component(_meeting(meeting, description, stamp))
    return cal.to_ical()


def meetings_file(
    meetings: Sequence[CalendarMeeting], *, description: str, stamp: datetime
) -> bytes:
    """Single meetings (a member's own): each as it appears in its series' file."""
    zones: dict[str, list[datetime]] = {}
    for meeting in meetings:
        zones.setdefault(meeting.timezone, []).append(
            meeting.starts_at.astimezone(ZoneInfo(meeting.timezone)).replace(tzinfo=None)
        )
    cal = _calendar(zones)
    for meeting in meetings:
        cal.add_component(_meeting(meeting, description, stamp))
    return cal.to_ical()


# --- pieces -------------------------------------------------------------------------------


def _location(kind: str, location: str) -> str:
    """A voice channel's id means nothing outside Discord: the calendar says "Discord"."""
    return VOICE_LOCATION if kind == "voice" else location


def _calendar(zones: dict[str, list[datetime]]) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    for tzid, moments in sorted(zones.items()):
        if moments:
            cal.add_component(vtimezone(tzid, min(moments), max(moments)))
    return cal


def _event(
    uid: str, sequence: int, title: str, description: str, location: str, stamp: datetime
) -> Event:
    event = Event()
    event.add("uid", uid)
    event.add("sequence", sequence)
    event.add("dtstamp", stamp.astimezone(UTC))
    event.add("summary", title)
    event.add("description", description)
    if location:
        event.add("location", location)
    return event


def _meeting(meeting: CalendarMeeting, description: str, stamp: datetime) -> Event:
    tz = ZoneInfo(meeting.timezone)
    event = _event(
        meeting.uid,
        meeting.sequence,
        meeting.title,
        description,
        _location(meeting.location_kind, meeting.location),
        stamp,
    )
    if meeting.slot_local is not None:
        event.add("recurrence-id", meeting.slot_local.replace(tzinfo=tz))
    event.add("dtstart", meeting.starts_at.astimezone(tz))
    event.add("dtend", meeting.ends_at.astimezone(tz))
    if meeting.cancelled:
        event.add("status", "CANCELLED")
    return event


# --- the time zone ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Transition:
    at: datetime  # the first moment (UTC) of the new offset
    before: timedelta
    after: timedelta
    daylight: bool
    name: str

    @property
    def local_start(self) -> datetime:
        """The onset as VTIMEZONE writes it: local time in the offset being left."""
        return (self.at + self.before).replace(tzinfo=None)

    def shape(self) -> tuple[object, ...]:
        start = self.local_start
        return (
            self.daylight,
            start.month,
            start.weekday(),
            start.time(),
            self.before,
            self.after,
            self.name,
        )

    def positions(self) -> set[int]:
        """Which BYDAY ordinals describe the onset's day: its nth weekday, and -1 (the last
        such weekday of the month) when it is that."""
        start = self.local_start
        found = {(start.day - 1) // 7 + 1}
        if start.day + 7 > month_calendar.monthrange(start.year, start.month)[1]:
            found.add(-1)
        return found


def _transitions(tz: ZoneInfo, start: datetime, end: datetime) -> list[_Transition]:
    """Every change of UTC offset in [start, end), found day by day and then to the second."""
    found = []
    day = timedelta(days=1)
    moment = start
    offset = moment.astimezone(tz).utcoffset()
    while moment < end:
        following = moment + day
        next_offset = following.astimezone(tz).utcoffset()
        if next_offset != offset:
            low, high = moment, following
            while high - low > timedelta(seconds=1):
                middle = low + (high - low) / 2
                if middle.astimezone(tz).utcoffset() == offset:
                    low = middle
                else:
                    high = middle
            high = high.replace(microsecond=0)
            assert offset is not None and next_offset is not None
            # DAYLIGHT is the part of the year with the larger offset, as calendars expect
            # (Dublin's winter time is a negative "DST" in the time-zone database)
            name = high.astimezone(tz).tzname() or tz.key
            found.append(_Transition(high, offset, next_offset, next_offset > offset, name))
        moment, offset = following, next_offset
    return found


def _runs(transitions: Iterable[_Transition]) -> list[tuple[list[_Transition], set[int]]]:
    """Consecutive yearly transitions of one kind that one RRULE describes."""
    runs: list[tuple[list[_Transition], set[int]]] = []
    for item in transitions:
        if runs:
            run, ordinals = runs[-1]
            last = run[-1]
            common = ordinals & item.positions()
            if (
                last.shape() == item.shape()
                and item.local_start.year == last.local_start.year + 1
                and common
            ):
                run.append(item)
                runs[-1] = (run, common)
                continue
        runs.append(([item], item.positions()))
    return runs


def vtimezone(tzid: str, first: datetime, last: datetime) -> Timezone:
    """The conventional VTIMEZONE for `tzid`: one STANDARD and one DAYLIGHT component per
    rule, each a yearly RRULE (BYMONTH, BYDAY) from the zone's transitions around the years
    the events span. The rule in force at the end stays open, as calendars expect."""
    tz = ZoneInfo(tzid)
    first_year = first.year - 1
    last_year = min(max(last.year, first.year) + 2, first_year + MAX_ZONE_YEARS)
    window_start = datetime(first_year, 1, 1, tzinfo=UTC)
    window_end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    zone = Timezone()
    zone.add("tzid", tzid)
    transitions = _transitions(tz, window_start, window_end)
    if not transitions:
        moment = window_start.astimezone(tz)
        offset = moment.utcoffset()
        standard = TimezoneStandard()
        standard.add("dtstart", datetime(first_year, 1, 1))
        standard.add("tzoffsetfrom", offset)
        standard.add("tzoffsetto", offset)
        standard.add("tzname", moment.tzname() or tzid)
        zone.add_component(standard)
        return zone
    for daylight in (True, False):
        runs = _runs(t for t in transitions if t.daylight is daylight)
        for number, (run, ordinals) in enumerate(runs):
            head, tail = run[0], run[-1]
            part = TimezoneDaylight() if daylight else TimezoneStandard()
            part.add("dtstart", head.local_start)
            part.add("tzoffsetfrom", head.before)
            part.add("tzoffsetto", head.after)
            part.add("tzname", head.name)
            still_in_force = number == len(runs) - 1 and tail.local_start.year == last_year
            if len(run) > 1 or still_in_force:
                ordinal = -1 if -1 in ordinals else min(ordinals)
                rule: dict[str, object] = {
                    "freq": "YEARLY",
                    "bymonth": head.local_start.month,
                    "byday": f"{ordinal}{WEEKDAYS[head.local_start.weekday()]}",
                }
                if not still_in_force:
                    # In UTC (RFC 5545), a day after the last onset: a reader that takes it
                    # for local time (dateutil, so vobject) still counts that onset, and the
                    # next one would be a year later.
                    rule["until"] = tail.at + timedelta(days=1)
                part.add("rrule", vRecur(rule))
            zone.add_component(part)
    return zone
