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
from leerbot.db.models import ScheduledJob, SessionOccurrence, SessionRsvp
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
