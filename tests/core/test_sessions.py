"""Intervisie sessions in the core: planning with recurrence across daylight saving,
sign-up with capacity and waitlist (also under concurrency), roles, attendance, validation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from leerbot.app import App
from leerbot.core import sessions
from leerbot.core.errors import PermissionDenied, ValidationFailed
from leerbot.db.models import ScheduledJob, SessionOccurrence, SessionRsvp, SessionSeries
from tests.helpers import actor_for, audit_count

NOW = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)  # a Monday


async def plan(app: App, **kwargs: object) -> sessions.OccurrenceView:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    args: dict[str, object] = {
        "title": "Intervisie",
        "start": "2027-03-16 19:30",
        "location_kind": "voice",
        "location": "123",
        "now": NOW,
    } | kwargs
    async with app.sessionmaker() as db, db.begin():
        return await sessions.plan(db, moderator, app.settings, **args)  # type: ignore[arg-type]


async def test_weekly_series_keeps_local_time_across_daylight_saving(app: App) -> None:
    first = await plan(app, repeat="wekelijks", every=2, count=3)
    async with app.sessionmaker() as db:
        occurrences = list(
            await db.scalars(
                select(SessionOccurrence)
                .where(SessionOccurrence.series_id == first.series_id)
                .order_by(SessionOccurrence.starts_at)
            )
        )
    # 16 March 19:30 CET, then 30 March and 13 April 19:30 CEST (clocks moved on 28 March).
    assert [o.starts_at for o in occurrences] == [
        datetime(2027, 3, 16, 18, 30, tzinfo=UTC),
        datetime(2027, 3, 30, 17, 30, tzinfo=UTC),
        datetime(2027, 4, 13, 17, 30, tzinfo=UTC),
    ]
    assert all(o.ends_at - o.starts_at == timedelta(hours=2) for o in occurrences)


async def test_monthly_on_the_nth_weekday(app: App) -> None:
    first = await plan(app, start="2027-03-09 10:00", repeat="maandelijks", count=3)  # 2nd Tue
    async with app.sessionmaker() as db:
        starts = list(
            await db.scalars(
                select(SessionOccurrence.original_local)
                .where(SessionOccurrence.series_id == first.series_id)
                .order_by(SessionOccurrence.original_local)
            )
        )
    assert [s.date().isoformat() for s in starts] == ["2027-03-09", "2027-04-13", "2027-05-11"]


async def test_planning_schedules_reminders_and_follow_up(app: App) -> None:
    first = await plan(app)
    async with app.sessionmaker() as db:
        jobs = {(j.kind, j.due_at) for j in await db.scalars(select(ScheduledJob))}
    start = first.starts_at
    assert ("session.reminder", start - timedelta(days=1)) in jobs
    assert ("session.reminder", start - timedelta(hours=1)) in jobs
    assert ("session.after", start + timedelta(hours=2)) in jobs
    assert any(kind == "session.publish" for kind, _ in jobs)


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"start": "2027-02-01 10:00"}, "errors.time_in_past"),
        ({"start": "volgende week ergens"}, "errors.bad_datetime"),
        ({"duration": "9 uur"}, "errors.duration_out_of_range"),
        ({"capacity": 1}, "errors.capacity_out_of_range"),
        ({"duration": "lang"}, "errors.bad_duration"),
        ({"method": "brainstorm"}, "errors.bad_choice"),
        ({"title": ""}, "errors.required"),
    ],
)
async def test_bad_plans_are_refused_and_change_nothing(
    app: App, kwargs: dict[str, object], key: str
) -> None:
    before = await audit_count(app.sessionmaker)
    with pytest.raises(ValidationFailed) as caught:
        await plan(app, **kwargs)
    assert caught.value.key == key
    assert await audit_count(app.sessionmaker) == before
    async with app.sessionmaker() as db:
        assert await db.scalar(select(func.count(SessionOccurrence.id))) == 0


async def test_members_cannot_plan(app: App) -> None:
    member = await actor_for(app.sessionmaker, "Bob")
    with pytest.raises(PermissionDenied):
        async with app.sessionmaker() as db, db.begin():
            await sessions.plan(
                db,
                member,
                app.settings,
                title="x",
                start="2027-03-16 19:30",
                location="x",
                location_kind="address",
                now=NOW,
            )


async def _rsvp(app: App, name: str, occurrence_id: int, status: str) -> sessions.RsvpResult:
    actor = await actor_for(app.sessionmaker, name)
    async with app.sessionmaker() as db, db.begin():
        return await sessions.rsvp(db, actor, occurrence_id, status, now=NOW)


async def test_full_session_puts_people_on_the_waitlist_and_promotes_them(app: App) -> None:
    first = await plan(app, capacity=2)
    assert (await _rsvp(app, "A", first.id, "yes")).status == "yes"
    assert (await _rsvp(app, "B", first.id, "yes")).status == "yes"
    assert (await _rsvp(app, "C", first.id, "yes")).status == "waitlist"
    assert (await _rsvp(app, "D", first.id, "yes")).status == "waitlist"
    result = await _rsvp(app, "A", first.id, "no")
    assert result.occurrence.yes_count == 2 and result.occurrence.waitlist_count == 1
    c = await actor_for(app.sessionmaker, "C")
    assert result.promoted == [c.member_id]  # C waited longest
    async with app.sessionmaker() as db:
        notices = list(
            await db.scalars(
                select(ScheduledJob.payload).where(ScheduledJob.kind == "session.notify")
            )
        )
    assert [n["what"] for n in notices] == ["promoted"]


async def test_simultaneous_sign_ups_never_exceed_capacity(app: App) -> None:
    first = await plan(app, capacity=3)
    names = [f"Lid{i}" for i in range(10)]
    actors = [await actor_for(app.sessionmaker, n) for n in names]

    async def press(actor: object) -> str:
        async with app.sessionmaker() as db, db.begin():
            return (await sessions.rsvp(db, actor, first.id, "yes", now=NOW)).status  # type: ignore[arg-type]

    results = await asyncio.gather(*(press(a) for a in actors))
    assert results.count("yes") == 3 and results.count("waitlist") == 7
    async with app.sessionmaker() as db:
        yes = await db.scalar(select(func.count(SessionRsvp.id)).where(SessionRsvp.status == "yes"))
    assert yes == 3


async def test_roles_rotate_to_whoever_waited_longest(app: App) -> None:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    first = await plan(app, repeat="wekelijks", count=2)
    for name in ("Anna", "Bram", "Cem"):
        await _rsvp(app, name, first.id, "yes")
    async with app.sessionmaker() as db, db.begin():
        await sessions.confirm_role(db, moderator, first.id, "anna", "inbrenger")
    async with app.sessionmaker() as db:
        second_id = await db.scalar(
            select(SessionOccurrence.id).where(SessionOccurrence.id != first.id)
        )
    for name in ("Anna", "Bram", "Cem"):
        await _rsvp(app, name, second_id, "yes")
    async with app.sessionmaker() as db:
        suggestions = await sessions.suggest_roles(db, moderator, second_id)
    by_role = {s.role: s.member_name for s in suggestions}
    assert by_role["inbrenger"] == "Bram"  # Anna brought the last case
    assert by_role["gespreksleider"] != by_role["inbrenger"]


async def test_cancelled_session_cannot_be_edited_and_tells_who_signed_up(app: App) -> None:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    first = await plan(app)
    await _rsvp(app, "A", first.id, "yes")
    async with app.sessionmaker() as db, db.begin():
        await sessions.cancel(db, moderator, first.id, now=NOW)
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await sessions.edit(db, moderator, app.settings, first.id, title="Nieuw", now=NOW)
    assert caught.value.key == "errors.session_cancelled"
    async with app.sessionmaker() as db:
        jobs = list(await db.scalars(select(ScheduledJob)))
    assert [j.payload["what"] for j in jobs if j.kind == "session.notify"] == ["cancelled"]
    assert all(j.cancelled_at is not None for j in jobs if j.kind == "session.reminder")


async def test_moving_a_session_moves_its_reminders(app: App) -> None:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    first = await plan(app)
    async with app.sessionmaker() as db, db.begin():
        moved = await sessions.edit(
            db, moderator, app.settings, first.id, start="2027-03-18 20:00", now=NOW
        )
    assert moved.starts_at == datetime(2027, 3, 18, 19, 0, tzinfo=UTC) and moved.moved
    async with app.sessionmaker() as db:
        pending = {
            j.due_at
            for j in await db.scalars(
                select(ScheduledJob).where(
                    ScheduledJob.kind == "session.reminder", ScheduledJob.cancelled_at.is_(None)
                )
            )
        }
    assert pending == {moved.starts_at - timedelta(days=1), moved.starts_at - timedelta(hours=1)}


async def test_names_can_be_hidden_from_the_list(app: App) -> None:
    first = await plan(app)
    await _rsvp(app, "Anna", first.id, "yes")
    await _rsvp(app, "Bram", first.id, "yes")
    bram = await actor_for(app.sessionmaker, "Bram")
    async with app.sessionmaker() as db, db.begin():
        assert await sessions.toggle_show_name(db, bram, first.id) is False
    async with app.sessionmaker() as db:
        seen = await sessions.view(db, bram, first.id)
    assert seen.listed_names == ("Anna",) and seen.unlisted_count == 1 and seen.yes_count == 2


async def test_a_session_shows_the_agenda_points_and_practices_linked_to_it(app: App) -> None:
    from leerbot.core import agenda, practices

    first = await plan(app)
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        point = await agenda.propose(
            db,
            coordinator,
            app.settings,
            title="Punt",
            description="D",
            theme="samenwerking",
            kind="wens",
            level="organisatie",
        )
        draft = await practices.start_draft(
            db, coordinator, app.settings, title="Praktijk", fields={"what_we_do": "Samen leren"}
        )
    async with app.sessionmaker() as db, db.begin():
        shared = await practices.confirm_and_share(db, coordinator, app.settings, draft.id)
        await agenda.link(db, coordinator, point.id, "session", first.id)
        await practices.link_session(db, coordinator, shared.id, first.id)
    async with app.sessionmaker() as db:
        seen = await sessions.view(db, coordinator, first.id)
    assert seen.agenda_links == (point.id,) and seen.practice_links == (shared.id,)


# --- far ahead: a year of meetings, the daily extension, cards three weeks ahead ------------


async def _occurrences(app: App, series_id: int) -> list[SessionOccurrence]:
    async with app.sessionmaker() as db:
        return list(
            await db.scalars(
                select(SessionOccurrence)
                .where(SessionOccurrence.series_id == series_id)
                .order_by(SessionOccurrence.starts_at)
            )
        )


@pytest.mark.parametrize(
    ("kwargs", "meetings"),
    [
        ({}, 1),
        ({"repeat": "maandelijks"}, 13),  # second Tuesdays, October 2027 to October 2028
        ({"repeat": "wekelijks", "count": 4}, 4),
        ({"repeat": "wekelijks", "until": "30 november"}, 8),  # "tot" without a year
    ],
    ids=["once", "monthly", "weekly-count", "weekly-until"],
)
async def test_a_series_far_ahead_is_planned_with_its_meetings(
    app: App, kwargs: dict[str, object], meetings: int
) -> None:
    first = await plan(app, start="2027-10-12 19:30", **kwargs)  # 225 days after NOW
    assert first.local_start.replace(tzinfo=None) == datetime(2027, 10, 12, 19, 30)
    found = await _occurrences(app, first.series_id)
    assert found[0].id == first.id
    assert len(found) == meetings
    # its card waits until three weeks before (not the whole year at once)
    async with app.sessionmaker() as db:
        publish = await db.scalar(
            select(ScheduledJob.due_at).where(
                ScheduledJob.kind == "session.publish",
                ScheduledJob.key.startswith(f"session:{first.id}:publish:"),
            )
        )
    assert publish == first.starts_at - sessions.PUBLISH_AHEAD


async def test_the_daily_extension_makes_every_meeting_of_a_long_series(app: App) -> None:
    """A counted series longer than one extension can make (60 at a time) and than the
    horizon (a year) still gets all its meetings as the days pass, each once."""
    first = await plan(app, start="2027-03-02 19:30", repeat="wekelijks", count=80)
    assert len(await _occurrences(app, first.series_id)) == 53  # a year ahead
    async with app.sessionmaker() as db, db.begin():
        series = await db.get(SessionSeries, first.series_id)
        assert series is not None
        for months in range(0, 24, 3):  # the extension, run now and then over two years
            await sessions.materialise(db, series, app.settings, NOW + timedelta(days=30 * months))
    found = await _occurrences(app, first.series_id)
    assert len(found) == 80
    assert len({o.original_local for o in found}) == 80
    assert found[-1].original_local == datetime(2027, 3, 2, 19, 30) + timedelta(weeks=79)


async def test_an_open_series_far_ahead_has_a_year_from_its_first_meeting(app: App) -> None:
    first = await plan(app, start="2028-06-06 10:00", repeat="wekelijks")  # 15 months ahead
    found = await _occurrences(app, first.series_id)
    assert found[0].original_local == datetime(2028, 6, 6, 10, 0)
    assert found[-1].original_local <= datetime(2029, 6, 7, 10, 0)
    assert len(found) == 53
    async with app.sessionmaker() as db:
        page = await sessions.listing(
            db,
            await actor_for(app.sessionmaker, "Lid"),
            sessions.ListFilters(),
            tz=app.settings.tz,
            now=NOW,
        )
    assert page.total == 53 and page.pages == 6 and len(page.items) == 10


# --- the list: pages and filters -------------------------------------------------------------


async def test_the_list_pages_and_filters_by_month_site_and_free_places(app: App) -> None:
    from leerbot.core import community

    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await community.add_site(db, coordinator, name="Venray")
    weekly = await plan(app, repeat="wekelijks", count=12, capacity=2)  # 16 March to 1 June
    venray = await plan(app, start="2027-04-20 14:00", site="Venray")
    for name in ("A", "B"):
        await _rsvp(app, name, weekly.id, "yes")
    lid = await actor_for(app.sessionmaker, "Lid")

    async def page(filters: sessions.ListFilters, number: int = 1) -> sessions.SessionPage:
        async with app.sessionmaker() as db:
            return await sessions.listing(db, lid, filters, number, tz=app.settings.tz, now=NOW)

    everything = await page(sessions.ListFilters())
    assert (everything.total, everything.pages, len(everything.items)) == (13, 2, 10)
    second = await page(sessions.ListFilters(), 2)
    assert len(second.items) == 3 and second.page == 2
    assert (await page(sessions.ListFilters(), 9)).page == 2, "a page beyond the last: the last"
    april = await page(sessions.ListFilters(month=(2027, 4)))
    assert [i.local_start.day for i in april.items] == [6, 13, 20, 20, 27]
    async with app.sessionmaker() as db:
        site_id = await sessions.site_for_filter(db, lid, "venray")
    only = await page(sessions.ListFilters(site_id=site_id))
    assert [i.id for i in only.items] == [venray.id] and only.site == "Venray"
    free = await page(sessions.ListFilters(only_free=True))
    assert free.total == 12 and weekly.id not in [i.id for i in free.items]


# --- roles, capacity, reminders ----------------------------------------------------------------


async def test_saying_no_gives_up_a_role_and_the_planner_is_told(app: App) -> None:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    first = await plan(app)
    await _rsvp(app, "Anna", first.id, "yes")
    anna = await actor_for(app.sessionmaker, "Anna")
    async with app.sessionmaker() as db, db.begin():
        await sessions.volunteer(db, anna, first.id, "gespreksleider", now=NOW)
        await sessions.confirm_role(db, moderator, first.id, "anna", "inbrenger")
    result = await _rsvp(app, "Anna", first.id, "no")
    assert result.freed_roles == ["gespreksleider", "inbrenger"] and result.planner_told
    assert result.occurrence.roles == ()
    async with app.sessionmaker() as db:
        notices = [
            j.payload
            for j in await db.scalars(
                select(ScheduledJob).where(ScheduledJob.kind == "session.notify")
            )
        ]
        told = await sessions.role_freed_recipients(db, first.id, anna.member_id)
    assert notices == [
        {
            "occurrence_id": first.id,
            "what": "role_freed",
            "roles": ["inbrenger"],
            "member_id": anna.member_id,
        }
    ]
    assert [m.display_name for m in told] == ["Mo"]


async def test_a_hidden_name_is_not_shown_under_the_roles(app: App) -> None:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    first = await plan(app)
    await _rsvp(app, "Anna", first.id, "yes")
    anna = await actor_for(app.sessionmaker, "Anna")
    async with app.sessionmaker() as db, db.begin():
        await sessions.confirm_role(db, moderator, first.id, "anna", "inbrenger")
        await sessions.toggle_show_name(db, anna, first.id)
    async with app.sessionmaker() as db:
        seen = await sessions.view(db, None, first.id)
    assert seen.roles == (("inbrenger", None),)


async def test_fewer_places_than_are_coming_is_refused(app: App) -> None:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    first = await plan(app, repeat="wekelijks", count=2)
    second = (await _occurrences(app, first.series_id))[1]
    for name in ("A", "B", "C"):
        await _rsvp(app, name, second.id, "yes")
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await sessions.edit(db, moderator, app.settings, first.id, capacity=2, now=NOW)
    assert caught.value.key == "sessions.errors.fewer_places_than_coming"
    assert caught.value.params == {"number": second.id, "coming": 3, "places": 2}
    async with app.sessionmaker() as db, db.begin():
        done = await sessions.edit(db, moderator, app.settings, first.id, capacity=3, now=NOW)
    assert done.capacity == 3


async def test_a_reminder_is_promised_only_while_one_is_coming(app: App) -> None:
    first = await plan(app)  # 16 March 19:30 (18:30 UTC)
    start = first.starts_at
    actor = await actor_for(app.sessionmaker, "A")
    async with app.sessionmaker() as db:
        assert await sessions.reminder_coming(db, first.id, NOW)
        assert await sessions.reminder_coming(db, first.id, start - timedelta(hours=2))
        assert not await sessions.reminder_coming(db, first.id, start - timedelta(minutes=30))
    async with app.sessionmaker() as db, db.begin():
        late = await sessions.rsvp(db, actor, first.id, "yes", now=start - timedelta(minutes=30))
    assert not late.reminder_coming


# --- the clock change -----------------------------------------------------------------------


async def test_a_time_the_clocks_skip_is_refused_and_a_twice_time_needs_a_hint(
    app: App,
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await plan(app, start="2027-03-28 02:30")
    assert caught.value.key == "dates.errors.nonexistent_time"
    assert caught.value.params["gap_to"] == "03:00"
    with pytest.raises(ValidationFailed) as caught:
        await plan(app, start="2027-10-31 02:30")
    assert caught.value.key == "dates.errors.ambiguous_time"
    winter = await plan(app, start="2027-10-31 02:30 wintertijd", repeat="wekelijks", count=2)
    summer = await plan(app, start="2027-10-31 02:30 zomertijd")
    assert winter.starts_at == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)
    assert summer.starts_at == datetime(2027, 10, 31, 0, 30, tzinfo=UTC)
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    async with app.sessionmaker() as db, db.begin():
        moved = await sessions.edit(
            db, moderator, app.settings, summer.id, start="31-10-2027 02:30 winter time", now=NOW
        )
    assert moved.starts_at == datetime(2027, 10, 31, 1, 30, tzinfo=UTC)


async def test_a_change_to_a_whole_series_does_not_post_a_year_of_cards_at_once(
    app: App,
) -> None:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    first = await plan(app, start="2027-03-02 19:30", repeat="wekelijks")  # a year: 53
    async with app.sessionmaker() as db, db.begin():
        await sessions.edit(db, moderator, app.settings, first.id, title="Nieuw", now=NOW)
    async with app.sessionmaker() as db:
        jobs = list(
            await db.execute(
                select(ScheduledJob.key, ScheduledJob.due_at, SessionOccurrence)
                .join(
                    SessionOccurrence,
                    SessionOccurrence.id == ScheduledJob.payload["occurrence_id"].as_integer(),
                )
                .where(ScheduledJob.kind == "session.publish")
            )
        )
    newest = {}  # the publish after the change: the highest version of each meeting
    for _key, due, occ in sorted(jobs, key=lambda j: int(j[0].rsplit(":", 1)[1])):
        newest[occ.id] = (due, occ.starts_at, occ.id)
    pending = list(newest.values())
    assert len(pending) == 53
    due_now = [number for due, _, number in pending if due == NOW]
    assert len(due_now) == 3, "the meeting changed and those in the next three weeks"
    assert all(due == max(NOW, start - sessions.PUBLISH_AHEAD) for due, start, _ in pending)
