"""Sessions as calendars see them, in the core (a fixed "now", a real database): a series'
rule, slots and meetings stay in step when the series moves or ends, so the calendar files
built from them agree with each other and with what the bot shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from leerbot.app import App
from leerbot.core import sessions
from leerbot.core.actor import Actor
from leerbot.db.models import Community, SessionOccurrence, SessionSeries
from tests.helpers import actor_for

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday; clocks move on 28 March


async def call(app: App, fn: Any, actor: Actor, *args: object, **kwargs: object) -> Any:
    async with app.sessionmaker() as db, db.begin():
        return await fn(db, actor, *args, **kwargs)


async def people(app: App) -> tuple[Actor, Actor]:
    return (
        await actor_for(app.sessionmaker, "Mo", moderator=True),
        await actor_for(app.sessionmaker, "Sanne"),
    )


async def plan(app: App, mo: Actor, **kwargs: object) -> sessions.OccurrenceView:
    args: dict[str, object] = {
        "title": "Intervisie",
        "start": "2027-03-09 19:30",
        "repeat": "wekelijks",
        "location_kind": "address",
        "location": "Utrecht",
        "now": NOW,
    } | kwargs
    return await call(app, sessions.plan, mo, app.settings, **args)


async def meetings(app: App, series_id: int) -> list[SessionOccurrence]:
    async with app.sessionmaker() as db:
        return list(
            await db.scalars(
                select(SessionOccurrence)
                .where(SessionOccurrence.series_id == series_id)
                .order_by(SessionOccurrence.starts_at)
            )
        )


def local(moment: datetime) -> str:
    return moment.astimezone(sessions.ZoneInfo("Europe/Amsterdam")).strftime("%a %Y-%m-%d %H:%M")


async def extend(app: App, series_id: int, now: datetime) -> None:
    """What the daily extension job does, on a later day."""
    async with app.sessionmaker() as db, db.begin():
        series = await db.get(SessionSeries, series_id)
        assert series is not None
        await sessions.materialise(db, series, app.settings, now)


async def test_moving_a_series_from_its_first_meeting_leaves_one_meeting_a_week(app: App) -> None:
    mo, sanne = await people(app)
    first = await plan(app, mo)  # open-ended
    await call(
        app,
        sessions.edit,
        mo,
        app.settings,
        first.id,
        whole_series=True,
        start="2027-03-09 20:00",
        now=NOW,
    )
    # weeks later the daily job makes the meetings that came within reach
    await extend(app, first.series_id, NOW + timedelta(days=30))
    starts = [local(o.starts_at) for o in await meetings(app, first.series_id)]
    assert len(starts) == len({s[:14] for s in starts}), "a day with two meetings"
    assert {s[-5:] for s in starts} == {"20:00"}
    assert starts[:4] == [
        "Tue 2027-03-09 20:00",
        "Tue 2027-03-16 20:00",
        "Tue 2027-03-23 20:00",
        "Tue 2027-03-30 20:00",
    ]
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    assert calendar.first_start_local == datetime(2027, 3, 9, 20, 0)
    assert calendar.overrides == (), "no meeting is off the rule"


async def test_moving_a_series_from_a_later_meeting_keeps_the_earlier_ones(app: App) -> None:
    mo, sanne = await people(app)
    first = await plan(app, mo, count=6)
    third = (await meetings(app, first.series_id))[2]
    await call(
        app,
        sessions.edit,
        mo,
        app.settings,
        third.id,
        whole_series=True,
        start="2027-03-24 18:00",  # Tuesday 19:30 becomes Wednesday 18:00
        now=NOW,
    )
    await extend(app, first.series_id, NOW + timedelta(days=30))
    assert [local(o.starts_at) for o in await meetings(app, first.series_id)] == [
        "Tue 2027-03-09 19:30",
        "Tue 2027-03-16 19:30",
        "Wed 2027-03-24 18:00",
        "Wed 2027-03-31 18:00",
        "Wed 2027-04-07 18:00",
        "Wed 2027-04-14 18:00",
    ]
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    # the rule is Wednesday 18:00; the two earlier meetings are overrides of its slots
    assert calendar.first_start_local == datetime(2027, 3, 10, 18, 0)
    assert calendar.count == 6
    assert [(m.slot_local, local(m.starts_at)) for m in calendar.overrides] == [
        (datetime(2027, 3, 10, 18, 0), "Tue 2027-03-09 19:30"),
        (datetime(2027, 3, 17, 18, 0), "Tue 2027-03-16 19:30"),
    ]


async def test_a_meeting_moved_on_its_own_stays_as_far_from_the_series(app: App) -> None:
    mo, sanne = await people(app)
    first = await plan(app, mo, count=4)
    third = (await meetings(app, first.series_id))[2]
    await call(app, sessions.edit, mo, app.settings, third.id, start="2027-03-24 19:30", now=NOW)
    await call(
        app,
        sessions.edit,
        mo,
        app.settings,
        first.id,
        whole_series=True,
        start="2027-03-09 13:30",
        now=NOW,
    )
    assert [local(o.starts_at) for o in await meetings(app, first.series_id)] == [
        "Tue 2027-03-09 13:30",
        "Tue 2027-03-16 13:30",
        "Wed 2027-03-24 13:30",  # still the day after its slot
        "Tue 2027-03-30 13:30",
    ]
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    assert [(m.slot_local, local(m.starts_at)) for m in calendar.overrides] == [
        (datetime(2027, 3, 23, 13, 30), "Wed 2027-03-24 13:30")
    ]


async def test_a_series_moved_by_a_week_takes_over_the_slots_of_its_own_meetings(
    app: App,
) -> None:
    mo, _ = await people(app)
    first = await plan(app, mo, count=4)
    # every meeting a week later: each new slot is the next meeting's old one
    await call(
        app,
        sessions.edit,
        mo,
        app.settings,
        first.id,
        whole_series=True,
        start="2027-03-16 19:30",
        now=NOW,
    )
    found = await meetings(app, first.series_id)
    assert [local(o.starts_at) for o in found] == [
        "Tue 2027-03-16 19:30",
        "Tue 2027-03-23 19:30",
        "Tue 2027-03-30 19:30",
        "Tue 2027-04-06 19:30",
    ]
    assert [o.original_local for o in found] == [
        o.starts_at.astimezone(sessions.ZoneInfo("Europe/Amsterdam")).replace(tzinfo=None)
        for o in found
    ]


async def test_a_monthly_series_moved_to_another_weekday(app: App) -> None:
    mo, sanne = await people(app)
    # the second Tuesday, until 13 July 2027: 9 March, 13 April, 11 May, 8 June, 13 July
    first = await plan(app, mo, start="2027-03-09 10:00", repeat="maandelijks", until="2027-07-13")
    second = (await meetings(app, first.series_id))[1]
    await call(
        app,
        sessions.edit,
        mo,
        app.settings,
        second.id,
        whole_series=True,
        start="2027-04-14 10:00",  # the second Wednesday of April
        now=NOW,
    )
    await extend(app, first.series_id, NOW + timedelta(days=60))
    assert [local(o.starts_at) for o in await meetings(app, first.series_id)] == [
        "Tue 2027-03-09 10:00",
        "Wed 2027-04-14 10:00",
        "Wed 2027-05-12 10:00",
        "Wed 2027-06-09 10:00",
        "Wed 2027-07-14 10:00",  # still there: the end moved with the series
    ]
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    assert calendar.byday == "2WE"
    assert calendar.until_local == datetime(2027, 7, 14, 10, 0)
    assert [local(m.starts_at) for m in calendar.overrides] == ["Tue 2027-03-09 10:00"]
    assert calendar.overrides[0].slot_local == datetime(2027, 3, 10, 10, 0)


async def test_a_cancelled_date_moves_with_the_series(app: App) -> None:
    mo, sanne = await people(app)
    first = await plan(app, mo, count=4)
    second = (await meetings(app, first.series_id))[1]
    await call(app, sessions.cancel, mo, second.id, now=NOW)
    await call(
        app,
        sessions.edit,
        mo,
        app.settings,
        first.id,
        whole_series=True,
        start="2027-03-10 19:30",
        now=NOW,
    )
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    assert calendar.exdates_local == (datetime(2027, 3, 17, 19, 30),)
    async with app.sessionmaker() as db:
        series = await db.get(SessionSeries, first.series_id)
        assert series is not None and series.skipped_dates == ["2027-03-17"]


async def test_cancelling_the_rest_of_an_open_ended_series_ends_its_rule(app: App) -> None:
    mo, sanne = await people(app)
    first = await plan(app, mo)  # open-ended
    fourth = (await meetings(app, first.series_id))[3]
    await call(app, sessions.cancel, mo, fourth.id, whole_series=True, now=NOW)
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    assert calendar.until_local == datetime(2027, 3, 23, 19, 30)  # the last one left
    assert calendar.count is None and not calendar.cancelled
    assert calendar.exdates_local == (), "the cancelled ones are after the end"
    before = len(await meetings(app, first.series_id))
    await extend(app, first.series_id, NOW + timedelta(days=60))
    assert len(await meetings(app, first.series_id)) == before


async def test_a_series_cancelled_from_its_first_meeting_is_one_cancelled_event(
    app: App,
) -> None:
    mo, sanne = await people(app)
    first = await plan(app, mo, count=3)
    await call(app, sessions.cancel, mo, first.id, whole_series=True, now=NOW)
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    assert calendar.cancelled and calendar.freq == "once"
    assert calendar.first_start_local == datetime(2027, 3, 9, 19, 30)


async def test_a_one_off_meeting_is_in_both_files_as_it_is(app: App) -> None:
    mo, sanne = await people(app)
    once = await plan(app, mo, repeat="geen", start="2027-03-12 14:00")
    await call(app, sessions.rsvp, sanne, once.id, "yes", now=NOW)
    await call(app, sessions.edit, mo, app.settings, once.id, start="2027-03-12 15:00", now=NOW)
    calendar = await call(app, sessions.series_calendar, sanne, once.id)
    assert calendar.freq == "once" and calendar.overrides == ()
    assert calendar.first_start_local == datetime(2027, 3, 12, 15, 0)
    (mine,) = await call(app, sessions.my_calendar, sanne, now=NOW)
    assert mine.uid == calendar.uid and mine.slot_local is None
    assert local(mine.starts_at) == "Fri 2027-03-12 15:00"


async def test_my_meetings_carry_the_series_uid_and_their_slot(app: App) -> None:
    mo, sanne = await people(app)
    first = await plan(app, mo, count=3)
    second, third = (await meetings(app, first.series_id))[1:]
    for number in (second.id, third.id):
        await call(app, sessions.rsvp, sanne, number, "yes", now=NOW)
    await call(app, sessions.edit, mo, app.settings, second.id, start="2027-03-17 20:00", now=NOW)
    await call(app, sessions.cancel, mo, third.id, now=NOW)
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    mine = await call(app, sessions.my_calendar, sanne, now=NOW)
    assert [(m.uid, m.slot_local, local(m.starts_at), m.cancelled) for m in mine] == [
        (calendar.uid, datetime(2027, 3, 16, 19, 30), "Wed 2027-03-17 20:00", False),
        (calendar.uid, datetime(2027, 3, 23, 19, 30), "Tue 2027-03-23 19:30", True),
    ]
    assert calendar.overrides[0].slot_local == mine[0].slot_local
    assert mine[0].sequence == calendar.sequence
    # later, the meetings that are over are not in my file any more
    assert await call(app, sessions.my_calendar, sanne, now=NOW + timedelta(days=30)) == []


async def test_uids_differ_between_communities_and_name_no_server(app: App) -> None:
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True)
    other = await actor_for(app.sessionmaker, "Mo", moderator=True, place="guild-2")
    ours = await plan(app, mo)
    theirs = await plan(app, other)
    uid_ours = (await call(app, sessions.series_calendar, mo, ours.id)).uid
    uid_theirs = (await call(app, sessions.series_calendar, other, theirs.id)).uid
    async with app.sessionmaker() as db:
        keys = list(await db.scalars(select(Community.calendar_key).order_by(Community.id)))
    assert len(keys) == 2 and len(set(keys)) == 2
    assert all(len(k) == 32 and int(k, 16) >= 0 for k in keys)
    assert uid_ours == f"series-{ours.series_id}-{keys[0]}@leerbot"
    assert uid_theirs == f"series-{theirs.series_id}-{keys[1]}@leerbot"
    assert "guild" not in uid_ours + uid_theirs


async def sequence(app: App, series_id: int) -> int:
    async with app.sessionmaker() as db:
        return int(
            await db.scalar(
                select(func.max(SessionSeries.calendar_sequence)).where(
                    SessionSeries.id == series_id
                )
            )
            or 0
        )


@pytest.mark.parametrize(
    ("change", "seen"),
    [
        ({"title": "Intervisie Utrecht"}, True),
        ({"location": "Amersfoort", "location_kind": "address"}, True),
        ({"duration": "90m"}, True),
        ({"start": "2027-03-09 20:00"}, True),
        ({"start": "2027-03-09 20:00", "whole_series": True}, True),
        ({"capacity": 12}, False),  # not in a calendar file
        ({"theme": "herstelklimaat"}, False),
    ],
)
async def test_every_change_a_calendar_shows_raises_the_sequence(
    app: App, change: dict[str, object], seen: bool
) -> None:
    mo, sanne = await people(app)
    first = await plan(app, mo, count=3)
    assert await sequence(app, first.series_id) == 0
    await call(app, sessions.edit, mo, app.settings, first.id, now=NOW, **change)
    assert await sequence(app, first.series_id) == (1 if seen else 0)
    calendar = await call(app, sessions.series_calendar, sanne, first.id)
    assert calendar.sequence == (1 if seen else 0)


async def test_cancelling_raises_the_sequence(app: App) -> None:
    mo, _ = await people(app)
    first = await plan(app, mo, count=3)
    second, third = (await meetings(app, first.series_id))[1:]
    await call(app, sessions.cancel, mo, second.id, now=NOW)
    assert await sequence(app, first.series_id) == 1
    await call(app, sessions.cancel, mo, third.id, whole_series=True, now=NOW)
    assert await sequence(app, first.series_id) == 2


async def test_the_until_date_of_a_series_moved_past_midnight(app: App) -> None:
    mo, _ = await people(app)
    first = await plan(app, mo, start="2027-03-09 23:00", until="2027-03-23")
    await call(
        app,
        sessions.edit,
        mo,
        app.settings,
        first.id,
        whole_series=True,
        start="2027-03-10 00:30",
        now=NOW,
    )
    async with app.sessionmaker() as db:
        series = await db.get(SessionSeries, first.series_id)
        assert series is not None and series.until_date == date(2027, 3, 24)
    assert [local(o.starts_at) for o in await meetings(app, first.series_id)] == [
        "Wed 2027-03-10 00:30",
        "Wed 2027-03-17 00:30",
        "Wed 2027-03-24 00:30",
    ]
