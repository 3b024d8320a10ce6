"""Calendar files as calendar programs read them (see this package's docstring).

One community, built through the core with a fixed "now" (1 March 2027; clocks in Amsterdam
move on Sunday 28 March 2027), and every file `/sessie agenda` makes for it:

- "Intervisie" weekly on Tuesday 19:30 from 9 March, 8 meetings, across the clock change;
  23 March moved to Wednesday 24 March 20:00, 6 April cancelled.
- "Casusronde" weekly on Thursday 10:00 from 4 March, 6 meetings; 18 March moved to Friday
  19 March; then the whole series moved to 13:30 from its first meeting on.
- "Inloop" weekly on Wednesday 19:00 from 3 March, open-ended, in a voice channel; from
  17 March on moved to 18:30 (the two before stay at 19:00); cancelled from 7 April on.
- "Kennissessie" once, 15 April 14:00, cancelled.
- Sanne signed up for meetings of all four (before the changes), among them the cancelled
  6 April, 14 April (after the series was cut) and 15 April.

The expected meetings are written out by hand below, in Amsterdam wall time.
"""

from __future__ import annotations

import io
import os
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import ics
import pytest
import recurring_ical_events
import vobject
import vobject.icalendar
from dateutil.tz import tzical
from icalendar import Calendar, Event
from sqlalchemy import select

from leerbot.app import App
from leerbot.chat.context import Context
from leerbot.chat.sessions import calendar_file
from leerbot.core import sessions
from leerbot.core.actor import Actor
from leerbot.db.models import Community, SessionOccurrence
from leerbot.exports.ics import vtimezone
from tests.helpers import actor_for
from tests.real_programs.programs import need

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
WINDOW = (datetime(2027, 2, 1), datetime(2027, 7, 1))

SERIES_EXPECTED = {
    "Intervisie": [
        "2027-03-09 19:30",
        "2027-03-16 19:30",
        "2027-03-24 20:00",
        "2027-03-30 19:30",  # after the clock change: still 19:30
        "2027-04-13 19:30",
        "2027-04-20 19:30",
        "2027-04-27 19:30",
    ],
    "Casusronde": [
        "2027-03-04 13:30",
        "2027-03-11 13:30",
        "2027-03-19 13:30",
        "2027-03-25 13:30",
        "2027-04-01 13:30",
        "2027-04-08 13:30",
    ],
    "Inloop": [
        "2027-03-03 19:00",
        "2027-03-10 19:00",
        "2027-03-17 18:30",
        "2027-03-24 18:30",
        "2027-03-31 18:30",
    ],
    "Kennissessie": [],
}
MINE_EXPECTED = [
    ("2027-03-10 19:00", "Inloop"),
    ("2027-03-16 19:30", "Intervisie"),
    ("2027-03-19 13:30", "Casusronde"),
    ("2027-03-24 18:30", "Inloop"),
    ("2027-03-24 20:00", "Intervisie"),
    ("2027-03-25 13:30", "Casusronde"),
    ("2027-04-13 19:30", "Intervisie"),
]
MINE_CANCELLED = [
    ("2027-04-06 19:30", "Intervisie"),
    ("2027-04-14 18:30", "Inloop"),
    ("2027-04-15 14:00", "Kennissessie"),
]
ALL_EXPECTED = sorted((when, title) for title, whens in SERIES_EXPECTED.items() for when in whens)


@dataclass
class Files:
    series: dict[str, tuple[str, bytes]]  # title -> (file name, data)
    mine: tuple[str, bytes]

    def every(self) -> list[tuple[str, bytes]]:
        return [*self.series.values(), self.mine]


def local(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=AMSTERDAM)


def wall(moment: datetime) -> str:
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%d %H:%M")


async def _build(app: App) -> Files:
    settings = app.settings
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True)
    sanne = await actor_for(app.sessionmaker, "Sanne")

    async def do(fn, actor: Actor, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        async with app.sessionmaker() as db, db.begin():
            return await fn(db, actor, *args, now=NOW, **kwargs)

    def weekly(title: str, start: str, **kwargs: object) -> dict[str, object]:
        return {"title": title, "start": start, "repeat": "wekelijks"} | kwargs

    planned = [
        await do(
            sessions.plan,
            mo,
            settings,
            **weekly(
                "Intervisie",
                "2027-03-09 19:30",
                count=8,
                location_kind="address",
                location="Buurthuis De Achterkant, Utrecht",
            ),
        ),
        await do(
            sessions.plan,
            mo,
            settings,
            **weekly(
                "Casusronde", "2027-03-04 10:00", count=6, location_kind="address", location="Emmen"
            ),
        ),
        await do(
            sessions.plan,
            mo,
            settings,
            **weekly("Inloop", "2027-03-03 19:00", location_kind="voice", location="4242"),
        ),
        await do(
            sessions.plan,
            mo,
            settings,
            title="Kennissessie",
            start="2027-04-15 14:00",
            location_kind="link",
            location="https://meet.example/kennis",
        ),
    ]
    async with app.sessionmaker() as db:
        meetings: dict[int, list[int]] = {}
        for occ in await db.scalars(
            select(SessionOccurrence).order_by(SessionOccurrence.original_local)
        ):
            meetings.setdefault(occ.series_id, []).append(occ.id)
    a, b, c, e = (meetings[p.series_id] for p in planned)

    for number, answer in (
        (a[1], "yes"),
        (a[2], "yes"),
        (a[4], "yes"),
        (a[5], "maybe"),
        (b[2], "yes"),
        (b[3], "yes"),
        (c[1], "yes"),
        (c[3], "yes"),
        (c[6], "yes"),
        (e[0], "yes"),
    ):
        await do(sessions.rsvp, sanne, number, answer)
    await do(sessions.edit, mo, settings, a[2], start="2027-03-24 20:00")
    await do(sessions.cancel, mo, a[4])
    await do(sessions.edit, mo, settings, b[2], start="2027-03-19 10:00")
    await do(sessions.edit, mo, settings, b[0], whole_series=True, start="2027-03-04 13:30")
    await do(sessions.edit, mo, settings, c[2], whole_series=True, start="2027-03-17 18:30")
    await do(sessions.cancel, mo, c[5], whole_series=True)
    await do(sessions.cancel, mo, e[0])

    async with app.sessionmaker() as db:
        community = await db.get(Community, sanne.community_id)
        assert community is not None
        ctx = Context(db=db, actor=sanne, community=community, settings=settings)
        series = {}
        for title, first in zip(SERIES_EXPECTED, (a[0], b[0], c[0], e[0]), strict=True):
            made = await calendar_file(ctx, first, now=NOW)
            assert made is not None
            assert made.filename == f"leerbot-sessie-{first}.ics"
            series[title] = (made.filename, made.data)
        mine = await calendar_file(ctx, None, now=NOW)
        assert mine is not None
    return Files(series, (mine.filename, mine.data))


@pytest.fixture
async def files(app: App) -> Files:
    return await _build(app)


# --- reading helpers ----------------------------------------------------------------------


def merge(*datas: bytes) -> Calendar:
    """What a calendar holds after importing `datas` in turn: components merged by UID and
    RECURRENCE-ID (a later import of the same meeting wins, unless its SEQUENCE is lower)."""
    merged: dict[tuple[str, datetime | None], Event] = {}
    zones = {}
    for data in datas:
        cal = Calendar.from_ical(data)
        for zone in cal.walk("VTIMEZONE"):
            zones.setdefault(str(zone["TZID"]), zone)
        for event in cal.walk("VEVENT"):
            rid = event.decoded("RECURRENCE-ID") if "RECURRENCE-ID" in event else None
            key = (str(event["UID"]), rid.astimezone(UTC) if rid else None)
            earlier = merged.get(key)
            if earlier is None or int(event.get("SEQUENCE", 0)) >= int(earlier.get("SEQUENCE", 0)):
                merged[key] = event
    calendar = Calendar()
    calendar.add("prodid", "-//tests//merge//")
    calendar.add("version", "2.0")
    for zone in zones.values():
        calendar.add_component(zone)
    for event in merged.values():
        calendar.add_component(event)
    return calendar


def instances(*datas: bytes) -> list[Event]:
    """The meetings a calendar shows (and the cancelled ones) after importing `datas`,
    expanded by recurring-ical-events."""
    return list(recurring_ical_events.of(merge(*datas)).between(*WINDOW))


def shown(events: Iterable[Event]) -> list[tuple[str, str]]:
    """(local start, title) of what a calendar shows as taking place, in order."""
    return sorted(
        (wall(e.decoded("DTSTART")), str(e["SUMMARY"]))
        for e in events
        if str(e.get("STATUS", "")).upper() != "CANCELLED"
    )


def cancelled(events: Iterable[Event]) -> list[tuple[str, str]]:
    return sorted(
        (wall(e.decoded("DTSTART")), str(e["SUMMARY"]))
        for e in events
        if str(e.get("STATUS", "")).upper() == "CANCELLED"
    )


def fresh_vobject(data: bytes) -> vobject.base.Component:
    """vobject, reading this file's VTIMEZONE: vobject keeps the first zone it saw under a
    TZID for the rest of the process, so the cache is emptied first."""
    registry = vars(vobject.icalendar)["__tzidMap"]
    registry.clear()
    vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)
    return vobject.readOne(data.decode())


# --- the tests ----------------------------------------------------------------------------


def test_every_file_parses_in_icalendar_vobject_and_ics(files: Files) -> None:
    for name, data in files.every():
        cal = Calendar.from_ical(data)
        for component in cal.walk():
            assert not component.errors, (name, component.name, component.errors)
        vevents = cal.walk("VEVENT")
        assert vevents, name
        parsed = fresh_vobject(data)
        assert len(parsed.vevent_list) == len(vevents), name
        assert len(ics.Calendar(data.decode()).events) == len(vevents), name


def test_each_series_file_expands_to_its_meetings_at_the_right_local_time(files: Files) -> None:
    for title, (name, data) in files.series.items():
        events = instances(data)
        assert shown(events) == [(when, title) for when in SERIES_EXPECTED[title]], name
    # the one-off meeting is in its file, cancelled
    assert cancelled(instances(files.series["Kennissessie"][1])) == [
        ("2027-04-15 14:00", "Kennissessie")
    ]


def test_the_clock_change_keeps_1930_and_moves_utc(files: Files) -> None:
    events = {wall(e.decoded("DTSTART")): e for e in instances(files.series["Intervisie"][1])}
    before, after = events["2027-03-16 19:30"], events["2027-03-30 19:30"]
    assert before.decoded("DTSTART").astimezone(UTC).hour == 18
    assert after.decoded("DTSTART").astimezone(UTC).hour == 17


def test_a_series_moved_as_a_whole_leaves_no_meeting_at_the_old_time(files: Files) -> None:
    for title in ("Casusronde", "Inloop"):
        events = instances(files.series[title][1])
        days = [when[:10] for when, _ in shown(events)]
        assert len(days) == len(set(days)), f"{title}: a day shows two meetings"
        assert [when for when, _ in shown(events)] == SERIES_EXPECTED[title]
        cal = Calendar.from_ical(files.series[title][1])
        (master,) = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e]
        assert master.decoded("DTSTART").time() == local(SERIES_EXPECTED[title][-1]).time()
        alone = Calendar()
        for component in [*cal.walk("VTIMEZONE"), master]:
            alone.add_component(component)
        slots = {
            wall(e.decoded("DTSTART")) for e in recurring_ical_events.of(alone).between(*WINDOW)
        }
        overrides = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" in e]
        assert overrides, title
        for override in overrides:
            # an override names a slot of the rule as it is now, never one at the old time
            assert wall(override.decoded("RECURRENCE-ID")) in slots, title


def test_an_open_ended_series_cancelled_from_a_date_ends_with_until(files: Files) -> None:
    cal = Calendar.from_ical(files.series["Inloop"][1])
    (master,) = [e for e in cal.walk("VEVENT") if "RECURRENCE-ID" not in e]
    rule = master["RRULE"]
    assert "COUNT" not in rule
    (until,) = rule["UNTIL"]
    assert until.tzinfo is not None and until.utcoffset() == timedelta(0)
    assert wall(until) == "2027-03-31 18:30"  # the last meeting left
    far = list(recurring_ical_events.of(cal).between(datetime(2027, 4, 1), datetime(2030, 1, 1)))
    assert far == []


def test_my_file_holds_my_meetings_and_marks_the_cancelled_ones(files: Files) -> None:
    events = instances(files.mine[1])
    assert shown(events) == MINE_EXPECTED
    assert cancelled(events) == MINE_CANCELLED


def test_importing_the_series_files_and_my_file_shows_each_meeting_once(files: Files) -> None:
    series_data = [data for _, data in files.series.values()]
    for order in ([*series_data, files.mine[1]], [files.mine[1], *series_data]):
        events = instances(*order)
        assert shown(events) == ALL_EXPECTED
        assert not set(cancelled(events)) & set(shown(events))


def test_my_meetings_have_the_uid_and_slot_they_have_in_the_series_files(files: Files) -> None:
    in_series = {
        (str(e["UID"]), e.decoded("RECURRENCE-ID").astimezone(UTC)): e
        for _, data in files.series.values()
        for e in instances(data)
        if "RECURRENCE-ID" in e
    }
    one_offs = {
        str(e["UID"]): e
        for _, data in files.series.values()
        for e in Calendar.from_ical(data).walk("VEVENT")
        if "RRULE" not in e and "RECURRENCE-ID" not in e
    }
    for mine in Calendar.from_ical(files.mine[1]).walk("VEVENT"):
        uid = str(mine["UID"])
        if "RECURRENCE-ID" not in mine:
            theirs = one_offs[uid]
        elif str(mine.get("STATUS", "")) == "CANCELLED":
            continue  # gone from the series (EXDATE, or after its UNTIL)
        else:
            theirs = in_series[(uid, mine.decoded("RECURRENCE-ID").astimezone(UTC))]
        for field in ("DTSTART", "DTEND"):
            assert mine.decoded(field) == theirs.decoded(field), (uid, field)
        assert str(mine["SUMMARY"]) == str(theirs["SUMMARY"])
        assert str(mine.get("LOCATION")) == str(theirs.get("LOCATION"))
        assert int(mine["SEQUENCE"]) == int(theirs["SEQUENCE"])


def test_vobject_reads_our_time_zone_and_expands_the_rule(files: Files) -> None:
    for title, (name, data) in files.series.items():
        parsed = fresh_vobject(data)
        from_rule: set[datetime] = set()
        overrides: dict[datetime, datetime | None] = {}  # slot -> start (None: cancelled)
        for vevent in parsed.vevent_list:
            start = vevent.dtstart.value
            # the zone is the one in this file, not a time-zone database vobject brought along
            assert "tzicalvtz" in type(start.tzinfo).__name__, (name, start.tzinfo)
            cancelled = getattr(vevent, "status", None) is not None
            if hasattr(vevent, "recurrence_id"):
                slot = vevent.recurrence_id.value.astimezone(UTC)
                overrides[slot] = None if cancelled else start.astimezone(UTC)
            elif not cancelled:
                rules = vevent.getrruleset(addRDate=True)
                if rules is None:
                    from_rule.add(start.astimezone(UTC))
                else:
                    window = [moment.replace(tzinfo=UTC) for moment in WINDOW]
                    from_rule |= {d.astimezone(UTC) for d in rules.between(*window, inc=True)}
        seen = {s for s in from_rule if s not in overrides}
        seen |= {s for s in overrides.values() if s is not None}
        expected = {local(when).astimezone(UTC) for when in SERIES_EXPECTED[title]}
        assert seen == expected, name


def test_vobject_and_ics_read_my_file_at_the_right_moments(files: Files) -> None:
    data = files.mine[1]
    expected = {
        (local(when).astimezone(UTC), title) for when, title in MINE_EXPECTED + MINE_CANCELLED
    }
    parsed = fresh_vobject(data)
    assert {
        (v.dtstart.value.astimezone(UTC), v.summary.value) for v in parsed.vevent_list
    } == expected
    assert {
        (e.begin.datetime.astimezone(UTC), e.name) for e in ics.Calendar(data.decode()).events
    } == expected


def test_the_time_zone_is_rule_based_and_right_every_hour(files: Files) -> None:
    for name, data in files.every():
        (zone,) = Calendar.from_ical(data).walk("VTIMEZONE")
        assert str(zone["TZID"]) == "Europe/Amsterdam"
        # read back by two independent readers, icalendar's and dateutil's (vobject's and
        # ics's): the same offset as the time-zone database, for three years
        own = zone.to_tz()
        readers = tzical(io.StringIO(zone.to_ical().decode()))
        (reader,) = [readers.get(key) for key in readers.keys()]
        hour = datetime(2026, 1, 1, tzinfo=UTC)
        while hour < datetime(2029, 1, 1, tzinfo=UTC):
            truth = hour.astimezone(AMSTERDAM).utcoffset()
            assert hour.astimezone(own).utcoffset() == truth, (name, hour)
            assert hour.astimezone(reader).utcoffset() == truth, (name, hour)
            # every hour of the months the clocks move in, every day at this hour otherwise
            hour += timedelta(hours=1 if hour.month in (3, 10) else 24)
        # the conventional shape: a yearly rule for each, no list of dates
        parts = zone.walk("STANDARD") + zone.walk("DAYLIGHT")
        assert parts and not any("RDATE" in p for p in parts), name
        assert {str(p["RRULE"]["BYDAY"][0]) for p in parts} == {"-1SU"}
        assert sorted(int(p["RRULE"]["BYMONTH"][0]) for p in parts) == [3, 10]


@pytest.mark.parametrize(
    ("tzid", "first", "last"),
    [
        ("Europe/Amsterdam", 2027, 2027),
        ("America/New_York", 2027, 2028),  # second Sunday of March, first of November
        ("Australia/Sydney", 2027, 2027),  # summer time from October to April
        ("Asia/Kolkata", 2027, 2027),  # no clock changes
        ("Europe/Dublin", 2027, 2027),  # winter time is a negative "DST" in tzdata
        ("America/Sao_Paulo", 2017, 2020),  # rules changed in 2018, ended in 2019
        ("Europe/Moscow", 2010, 2013),  # summer time kept for good in 2011
        ("Africa/Casablanca", 2026, 2028),  # changes around Ramadan: no yearly rule
        ("Pacific/Chatham", 2027, 2027),  # +12:45
    ],
)
def test_the_time_zone_of_any_community_reads_right(tzid: str, first: int, last: int) -> None:
    zone = vtimezone(tzid, datetime(first, 3, 1), datetime(last, 6, 1))
    truth = ZoneInfo(tzid)
    own = zone.to_tz()
    readers = tzical(io.StringIO(zone.to_ical().decode()))
    (reader,) = [readers.get(key) for key in readers.keys()]
    day = datetime(first, 1, 1, tzinfo=UTC)
    while day < datetime(last + 2, 1, 1, tzinfo=UTC):
        changes = (
            day.astimezone(truth).utcoffset()
            != (day + timedelta(days=1)).astimezone(truth).utcoffset()
        )
        # around a change every quarter of an hour for three days, else once a day
        moments = (
            [day - timedelta(days=1) + timedelta(minutes=15 * q) for q in range(4 * 24 * 3)]
            if changes
            else [day + timedelta(hours=12)]
        )
        for moment in moments:
            expected = moment.astimezone(truth).utcoffset()
            assert moment.astimezone(own).utcoffset() == expected, (tzid, moment)
            assert moment.astimezone(reader).utcoffset() == expected, (tzid, moment)
        day += timedelta(days=1)
    assert not any("RDATE" in part for part in zone.subcomponents)
    if tzid != "Africa/Casablanca":  # one component per rule, not one per year
        assert len(zone.subcomponents) <= 4


# --- khal ---------------------------------------------------------------------------------


def _khal(tmp_path: Path, *datas: bytes) -> list[tuple[str, str, str]]:
    """Import `datas` into a fresh khal calendar and list what it shows in the window:
    (local start, title, status)."""
    khal = need("khal")
    home = tmp_path / f"khal-{len(list(tmp_path.iterdir()))}"
    (home / "calendar").mkdir(parents=True)
    config = home / "config"
    config.write_text(
        "[calendars]\n[[leerbot]]\n"
        f"path = {home / 'calendar'}\ntype = calendar\n"
        "[locale]\ntimeformat = %H:%M\ndateformat = %Y-%m-%d\n"
        "longdateformat = %Y-%m-%d\ndatetimeformat = %Y-%m-%d %H:%M\n"
        "longdatetimeformat = %Y-%m-%d %H:%M\n"
        "local_timezone = Europe/Amsterdam\ndefault_timezone = Europe/Amsterdam\n"
        f"[sqlite]\npath = {home / 'khal.db'}\n"
    )
    environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}

    def run(*args: str) -> str:
        done = subprocess.run(
            [khal, "-c", str(config), *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=environment,
            check=False,
        )
        assert done.returncode == 0 and "error" not in done.stderr.lower(), (
            args,
            done.stdout,
            done.stderr,
        )
        return done.stdout

    for number, data in enumerate(datas):
        path = home / f"import-{number}.ics"
        path.write_bytes(data)
        run("import", "--batch", "-a", "leerbot", str(path))
    listed = run(
        "list",
        "--format",
        "{start}|{title}|{status}",
        "--day-format",
        "",
        WINDOW[0].strftime("%Y-%m-%d"),
        WINDOW[1].strftime("%Y-%m-%d"),
    )
    rows = []
    for line in listed.splitlines():
        if line.strip():
            start, title, status = line.split("|")
            rows.append((start, title, status.strip()))
    return sorted(rows)


def _taking_place(rows: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    return [(start, title) for start, title, status in rows if status != "CANCELLED"]


def test_khal_shows_each_series_at_the_right_local_times(files: Files, tmp_path: Path) -> None:
    for title, (name, data) in files.series.items():
        rows = _khal(tmp_path, data)
        assert _taking_place(rows) == [(when, title) for when in SERIES_EXPECTED[title]], name


def test_khal_shows_my_file(files: Files, tmp_path: Path) -> None:
    rows = _khal(tmp_path, files.mine[1])
    assert _taking_place(rows) == MINE_EXPECTED
    assert [(s, t) for s, t, status in rows if status == "CANCELLED"] == MINE_CANCELLED


def test_khal_shows_each_meeting_once_with_the_series_and_my_file_together(
    files: Files, tmp_path: Path
) -> None:
    series_data = [data for _, data in files.series.values()]
    # khal keeps one item per UID and replaces it on import (a later file with a few
    # meetings of a series would replace the series): the merge a calendar does is done here
    rows = _khal(tmp_path, merge(*series_data, files.mine[1]).to_ical())
    assert _taking_place(rows) == ALL_EXPECTED
