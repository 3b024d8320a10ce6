"""Intervisie sessions: planning (with recurrence), sign-up with capacity and waitlist,
roles with a fair rotation, attendance, and the jobs that remind and follow up.

The bot owns recurrence (Discord's is too limited): occurrences are materialised from a
`dateutil.rrule` in the series' time zone, so a session at 19:30 stays at 19:30 local time
across daylight-saving changes. Every platform effect (announcement, thread, scheduled event,
reminder, notice) is a row in `scheduled_jobs`, written in the same unit of work as the change
that causes it, so a crash never loses one and a restart never doubles one.
"""

from __future__ import annotations

import calendar as month_calendar
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from dateutil.rrule import MONTHLY, WEEKLY, rrule, weekday
from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value

from leerbot import clock, scheduling
from leerbot.config import Settings
from leerbot.core import audit, deliveries
from leerbot.core.actor import Actor
from leerbot.core.community import find_member, find_site
from leerbot.core.errors import Conflict, NotFound, ValidationFailed
from leerbot.core.methods import load_methods
from leerbot.core.permissions import Standing, may, register_rule, require
from leerbot.core.timeparse import parse_day, parse_duration, parse_when
from leerbot.core.validation import clean_text
from leerbot.db.models import (
    AgendaLink,
    Community,
    Member,
    Practice,
    PracticeLink,
    ScheduledJob,
    SessionAttendance,
    SessionOccurrence,
    SessionRole,
    SessionRsvp,
    SessionSeries,
    Site,
)

MANAGE_SESSIONS = "sessions.manage"
VIEW_SESSIONS = "sessions.view"
JOIN_SESSIONS = "sessions.join"
register_rule(MANAGE_SESSIONS, Standing.MODERATOR)
register_rule(VIEW_SESSIONS, Standing.MEMBER)
register_rule(JOIN_SESSIONS, Standing.MEMBER)

MAX_DURATION = 480
MIN_CAPACITY, MAX_CAPACITY = 2, 50
HORIZON = timedelta(days=366)  # meetings exist a year ahead (see `horizon_end`)
PUBLISH_AHEAD = timedelta(days=21)  # cards, threads and Discord events appear 3 weeks ahead
MAX_MATERIALISED = 60  # new meetings per series in one go
REPEATS = ("geen", "wekelijks", "maandelijks")
RSVP_STATUSES = ("yes", "maybe", "no")
ROLES = ("inbrenger", "gespreksleider")
LOCATION_KINDS = ("voice", "address", "link")


@dataclass(frozen=True)
class OccurrenceView:
    id: int
    series_id: int
    title: str
    method: str
    theme: str | None
    starts_at: datetime
    ends_at: datetime
    local_start: datetime
    timezone: str
    location_kind: str
    location: str
    site: str | None
    capacity: int
    status: str
    moved: bool
    recurring: bool
    yes_count: int
    maybe_count: int
    waitlist_count: int
    listed_names: tuple[str, ...]
    unlisted_count: int
    my_status: str | None
    roles: tuple[tuple[str, str | None], ...]
    """Confirmed roles: (role, name), the name None when its holder hid their name."""
    channel_id: str | None
    message_id: str | None
    thread_id: str | None
    event_id: str | None
    agenda_links: tuple[int, ...] = ()
    practice_links: tuple[int, ...] = ()

    @property
    def free_places(self) -> int:
        return max(0, self.capacity - self.yes_count)


@dataclass
class RsvpResult:
    occurrence: OccurrenceView
    status: str
    promoted: list[int] = field(default_factory=list)
    freed_roles: list[str] = field(default_factory=list)
    """The roles the member had for this meeting and gave up by saying they cannot come."""
    planner_told: bool = False
    """Whether a confirmed role became free, and who planned the meeting is told."""
    reminder_coming: bool = False
    """Whether a reminder is still to be sent before the meeting."""


# --- helpers -----------------------------------------------------------------------------


def _tz(series: SessionSeries) -> ZoneInfo:
    return ZoneInfo(series.timezone)


def _to_utc(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(UTC)


def _rule(series: SessionSeries, *, bare: bool = False) -> rrule | None:
    """The series' recurrence in local wall time; `bare`: without its end (UNTIL, COUNT).
    A series with both an end date and a number of meetings (a counted series cancelled
    from a date on) ends at whichever comes first: a rule may not have both (RFC 5545)."""
    if series.freq == "once":
        return None
    kwargs: dict[str, object] = {"dtstart": series.first_start_local, "interval": series.interval}
    if series.freq == "monthly":
        nth = series.monthly_nth or 1
        kwargs["byweekday"] = weekday(series.first_start_local.weekday(), nth)
    freq = WEEKLY if series.freq == "weekly" else MONTHLY
    if bare:
        return rrule(freq, **kwargs)  # type: ignore[arg-type]
    until = datetime.combine(series.until_date, datetime.max.time()) if series.until_date else None
    if series.count:
        counted = rrule(freq, count=series.count, **kwargs)  # type: ignore[arg-type]
        if until is None or counted[-1] <= until:
            return counted
    if until is not None:
        return rrule(freq, until=until, **kwargs)  # type: ignore[arg-type]
    return rrule(freq, **kwargs)  # type: ignore[arg-type]


def local_starts(series: SessionSeries, until_local: datetime) -> list[datetime]:
    """The series' local start times up to `until_local`, skipped dates left out."""
    rule = _rule(series)
    starts = (
        [series.first_start_local]
        if rule is None
        else list(rule.between(series.first_start_local, until_local, inc=True))
    )
    skipped = set(series.skipped_dates or [])
    return [s for s in starts if s.date().isoformat() not in skipped]


def nth_weekday_of_month(day: date) -> int:
    """1..4 for the first to fourth weekday of its month; -1 ("last") for a fifth."""
    nth = (day.day - 1) // 7 + 1
    return -1 if nth == 5 else nth


def _nth_weekday(year: int, month: int, day_of_week: int, nth: int) -> date:
    """The `nth` (1..4, or -1 for the last) `day_of_week` of a month."""
    if nth > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(day_of_week - first.weekday()) % 7 + 7 * (nth - 1))
    last = date(year, month, month_calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() - day_of_week) % 7)


async def _occurrence(db: AsyncSession, actor: Actor, occurrence_id: int) -> SessionOccurrence:
    occ = await db.scalar(
        select(SessionOccurrence)
        .join(SessionSeries, SessionSeries.id == SessionOccurrence.series_id)
        .where(
            SessionOccurrence.id == occurrence_id,
            SessionSeries.community_id == actor.community_id,
        )
    )
    if occ is None:
        raise NotFound("errors.session_not_found", number=occurrence_id)
    return occ


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


# --- jobs --------------------------------------------------------------------------------


async def _touch(db: AsyncSession, occ: SessionOccurrence) -> int:
    """Bump the occurrence's version under a row lock (serialises sign-ups on both
    databases) and schedule a publish of its card."""
    version = await db.scalar(
        update(SessionOccurrence)
        .where(SessionOccurrence.id == occ.id)
        .values(lock_version=SessionOccurrence.lock_version + 1)
        .returning(SessionOccurrence.lock_version)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(occ, "lock_version", int(version or 0))
    return occ.lock_version


async def _publish(
    db: AsyncSession,
    occ: SessionOccurrence,
    community_id: int,
    now: datetime | None = None,
    *,
    when_near: bool = False,
) -> None:
    """Schedule the card to be posted or updated now; `when_near` (for meetings made or
    changed in bulk: a series planned a year ahead, a new title for all of it): a card that
    is not in the channel yet is posted three weeks before its meeting, so the channel is
    not flooded. Each publish carries the occurrence's version: only the newest one acts."""
    version = await _touch(db, occ)
    await _schedule_publish(db, occ, community_id, version, now, when_near=when_near)


async def _schedule_publish(
    db: AsyncSession,
    occ: SessionOccurrence,
    community_id: int,
    version: int,
    now: datetime | None = None,
    *,
    when_near: bool = False,
) -> None:
    due = _now(now)
    if when_near and occ.message_id is None:
        due = max(due, occ.starts_at - PUBLISH_AHEAD)
    await scheduling.schedule(
        db,
        community_id=community_id,
        kind="session.publish",
        key=f"session:{occ.id}:publish:{version}",
        due_at=due,
        payload={"occurrence_id": occ.id, "version": version},
        grace=timedelta(days=7),
    )


async def _arm_occurrence(
    db: AsyncSession,
    occ: SessionOccurrence,
    community_id: int,
    settings: Settings,
    now: datetime | None = None,
) -> None:
    """(Re)schedule the reminders and the follow-up of an occurrence for its start time."""
    await scheduling.cancel(db, f"session:{occ.id}:reminder:")
    await scheduling.cancel(db, f"session:{occ.id}:after:")
    if occ.status != "scheduled":
        return
    stamp = int(occ.starts_at.timestamp())
    current = _now(now)
    for minutes in settings.sessions.reminder_minutes:
        due = occ.starts_at - timedelta(minutes=minutes)
        if due <= current:
            continue
        await scheduling.schedule(
            db,
            community_id=community_id,
            kind="session.reminder",
            key=f"session:{occ.id}:reminder:{minutes}:{stamp}",
            due_at=due,
            payload={"occurrence_id": occ.id, "minutes": minutes},
            grace=timedelta(minutes=min(max(minutes // 4, 5), 180)),
        )
    await scheduling.schedule(
        db,
        community_id=community_id,
        kind="session.after",
        key=f"session:{occ.id}:after:{stamp}",
        due_at=occ.ends_at,
        payload={"occurrence_id": occ.id},
        grace=timedelta(days=2),
    )


async def _notify(
    db: AsyncSession,
    occ: SessionOccurrence,
    community_id: int,
    what: str,
    now: datetime | None = None,
    **extra: object,
) -> None:
    await scheduling.schedule(
        db,
        community_id=community_id,
        kind="session.notify",
        key=f"session:{occ.id}:notify:{uuid.uuid4().hex}",
        due_at=_now(now),
        payload={"occurrence_id": occ.id, "what": what, **extra},
        grace=timedelta(hours=12),
    )


def horizon_end(series: SessionSeries, now: datetime) -> datetime:
    """How far ahead a series' meetings exist (local wall time): a year from today, or from
    its first meeting when that is later. So a coordinator who plans the whole year in
    January sees every meeting of it at once, members can sign up for any of them, and a
    series that starts in two years has its first year too."""
    tz = _tz(series)
    first = _to_utc(series.first_start_local, tz)
    return (max(now, first) + HORIZON).astimezone(tz).replace(tzinfo=None)


async def materialise(
    db: AsyncSession, series: SessionSeries, settings: Settings, now: datetime | None = None
) -> list[SessionOccurrence]:
    """Create the occurrences of `series` up to its horizon (see `horizon_end`) that do not
    exist yet, at most MAX_MATERIALISED at a time (the daily extension makes the rest)."""
    tz = _tz(series)
    current = _now(now)
    existing = set(
        await db.scalars(
            select(SessionOccurrence.original_local).where(SessionOccurrence.series_id == series.id)
        )
    )
    created = []
    for local in local_starts(series, horizon_end(series, current)):
        if local in existing:
            continue
        # the first meeting keeps the hour the planner chose when it happens twice
        # (`fold`, from "wintertijd"); later ones are computed from the rule
        start = _to_utc(
            series.first_start_local if local == series.first_start_local else local, tz
        )
        if start < current - timedelta(hours=1):
            continue
        occ = SessionOccurrence(
            series_id=series.id,
            original_local=local,
            starts_at=start,
            ends_at=start + timedelta(minutes=series.duration_minutes),
            status="scheduled",
            moved=False,
            lock_version=0,
        )
        occ.series = series
        db.add(occ)
        created.append(occ)
        if len(created) >= MAX_MATERIALISED:
            break
    await db.flush()
    for occ in created:
        await _arm_occurrence(db, occ, series.community_id, settings, current)
        await _publish(db, occ, series.community_id, current, when_near=True)
    return created


# --- the series' rule, when it changes -----------------------------------------------------

CALENDAR_FIELDS = frozenset({"title", "location", "duration", "start"})
"""Changes a calendar file shows (capacity and theme are not in it)."""


async def _next_sequence(db: AsyncSession, series: SessionSeries) -> None:
    """One more SEQUENCE for the series' calendar entries (atomic: two moderators changing
    the series at once both count)."""
    await db.execute(
        update(SessionSeries)
        .where(SessionSeries.id == series.id)
        .values(calendar_sequence=SessionSeries.calendar_sequence + 1)
    )
    await db.refresh(series, ["calendar_sequence"])


async def _this_and_following(
    db: AsyncSession, series: SessionSeries, occ: SessionOccurrence
) -> list[SessionOccurrence]:
    """`occ` and the scheduled meetings after it in the series' rule."""
    return list(
        await db.scalars(
            select(SessionOccurrence)
            .where(
                SessionOccurrence.series_id == series.id,
                SessionOccurrence.original_local >= occ.original_local,
                SessionOccurrence.status == "scheduled",
            )
            .order_by(SessionOccurrence.original_local)
        )
    )


def _moved_rule_start(series: SessionSeries, index: int, new_local: datetime) -> datetime:
    """Where the rule must start so that its slot number `index` is `new_local` (a monthly
    series takes the weekday and its place in the month, e.g. "third Wednesday", from
    `new_local`)."""
    if series.freq == "weekly":
        return new_local - timedelta(weeks=index * series.interval)
    months = new_local.year * 12 + new_local.month - 1 - index * series.interval
    year, month = divmod(months, 12)
    nth = nth_weekday_of_month(new_local.date())
    series.monthly_nth = nth
    return datetime.combine(
        _nth_weekday(year, month + 1, new_local.weekday(), nth), new_local.time()
    )


async def _move_series(
    db: AsyncSession, series: SessionSeries, occ: SessionOccurrence, new_local: datetime
) -> list[SessionOccurrence]:
    """A time change for `occ` and every later meeting (`hele_reeks`).

    The rule itself moves, so that `occ`'s slot becomes `new_local`, and every meeting keeps
    its place in the rule: its slot (`original_local`, a calendar's RECURRENCE-ID) is renamed
    to the new rule's. The scheduled meetings from `occ` on move with the rule (one that was
    moved on its own stays as far from its slot as it was); earlier ones stay where they
    were, and calendars show them as overrides. So the rule, the meetings and the calendar
    files agree: no slot at the old time is left over (which made calendars show two events
    every week), and the daily extension creates later meetings at the new time, not again
    at the old one. Returns the meetings that moved."""
    tz = _tz(series)
    following = await _this_and_following(db, series, occ)
    everything = list(
        await db.scalars(
            select(SessionOccurrence)
            .where(SessionOccurrence.series_id == series.id)
            .order_by(SessionOccurrence.original_local)
        )
    )
    old_time = series.first_start_local.time()
    skipped = [date.fromisoformat(d) for d in series.skipped_dates or []]
    old_rule = _rule(series, bare=True)
    if old_rule is None:  # a single meeting: the "rule" is its own time
        renamed = {occ.original_local: new_local}
        series.first_start_local = new_local
    else:
        ends = [o.original_local for o in everything]
        ends += [datetime.combine(d, old_time) for d in skipped]
        if series.until_date:
            ends.append(datetime.combine(series.until_date, datetime.max.time()))
        old_slots = list(old_rule.between(series.first_start_local, max(ends), inc=True))
        if occ.original_local not in old_slots:
            # Written before slots were kept in step with the rule: move the meetings only.
            shift = new_local - occ.starts_at.astimezone(tz).replace(tzinfo=None)
            for item in following:
                item.starts_at = _to_utc(
                    item.starts_at.astimezone(tz).replace(tzinfo=None) + shift, tz
                )
                item.moved = True
            return following
        last = None
        if series.until_date or series.count:
            bounded = _rule(series)
            assert bounded is not None
            last = sum(1 for _ in bounded) - 1
        series.first_start_local = _moved_rule_start(
            series, old_slots.index(occ.original_local), new_local
        )
        new_rule = _rule(series, bare=True)
        assert new_rule is not None
        new_slots = list(islice(new_rule, max(len(old_slots), (last or 0) + 1)))
        renamed = dict(zip(old_slots, new_slots, strict=False))
        if series.until_date and last is not None and last >= 0:
            series.until_date = new_slots[last].date()
        series.skipped_dates = sorted(
            renamed.get(datetime.combine(d, old_time), datetime.combine(d, old_time))
            .date()
            .isoformat()
            for d in skipped
        )
    targets = {o.id for o in following}
    plan: list[tuple[SessionOccurrence, datetime, datetime | None]] = []
    for item in everything:
        slot = renamed.get(item.original_local, item.original_local)
        start = None
        if item.id in targets:
            drift = item.starts_at.astimezone(tz).replace(tzinfo=None) - item.original_local
            start = slot + (timedelta(0) if item.id == occ.id else drift)
        plan.append((item, slot, start))
    # A slot is unique per series, and the new slots may be the old slots of others (a
    # series moved by a week): free them all first, then give each its new one.
    for item, slot, _ in plan:
        if slot != item.original_local:
            item.original_local = datetime(1900, 1, 1) + timedelta(seconds=item.id)
    await db.flush()
    for item, slot, start in plan:
        item.original_local = slot
        if start is not None:
            item.starts_at = _to_utc(start, tz)
            item.moved = True
    await db.flush()
    return following


# --- planning ----------------------------------------------------------------------------


def _validate_common(
    *, duration: int, capacity: int, location_kind: str, location: str | None
) -> str:
    if duration <= 0 or duration > MAX_DURATION:
        raise ValidationFailed("errors.duration_out_of_range", max_hours=MAX_DURATION // 60)
    if capacity < MIN_CAPACITY or capacity > MAX_CAPACITY:
        raise ValidationFailed("errors.capacity_out_of_range", min=MIN_CAPACITY, max=MAX_CAPACITY)
    if location_kind not in LOCATION_KINDS:
        raise ValidationFailed(
            "errors.bad_choice", field="location_kind", choices=", ".join(LOCATION_KINDS)
        )
    text = clean_text(location, field="location", max_length=300)
    assert text is not None
    return text


async def plan(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    title: str,
    start: str,
    method: str = "casusronde",
    duration: str | None = None,
    repeat: str = "geen",
    every: int = 1,
    until: str | None = None,
    count: int | None = None,
    location_kind: str | None = "voice",
    location: str | None = None,
    site: str | None = None,
    capacity: int | None = None,
    theme: str | None = None,
    channel_id: str | None = None,
    now: datetime | None = None,
) -> OccurrenceView:
    """Plan a session or series (moderators); returns the first occurrence. The moment is
    checked first (it is what people most often get wrong), then the rest."""
    require(actor, MANAGE_SESSIONS)
    clean_title = clean_text(title, field="title", max_length=100)
    assert clean_title is not None
    tz = settings.tz
    now_utc = _now(now)
    first_local = parse_when(start, now_utc.astimezone(tz).replace(tzinfo=None), tz)
    if _to_utc(first_local, tz) <= now_utc:
        raise ValidationFailed("errors.time_in_past", when=first_local.strftime("%Y-%m-%d %H:%M"))
    clean_theme = clean_text(theme, field="theme", max_length=200, required=False)
    methods = load_methods(settings.content_dir)
    if method not in methods:
        raise ValidationFailed("errors.bad_choice", field="method", choices=", ".join(methods))
    minutes = parse_duration(duration) if duration else settings.sessions.default_duration_minutes
    places = capacity if capacity is not None else settings.sessions.default_capacity
    if location_kind is None:
        raise ValidationFailed("errors.location_missing")
    where = _validate_common(
        duration=minutes, capacity=places, location_kind=location_kind, location=location
    )
    if repeat not in REPEATS:
        raise ValidationFailed("errors.bad_choice", field="repeat", choices=", ".join(REPEATS))
    if not 1 <= every <= 12:
        raise ValidationFailed("errors.out_of_range", field="every", min=1, max=12)
    until_date: date | None = None
    if until:
        until_date = parse_day(until, first_local.date(), future=True)
        if until_date < first_local.date():
            raise ValidationFailed("errors.until_before_start")
    if count is not None and not 1 <= count <= 200:
        raise ValidationFailed("errors.out_of_range", field="count", min=1, max=200)
    site_row: Site | None = await find_site(db, actor, site) if site else None
    freq = {"geen": "once", "wekelijks": "weekly", "maandelijks": "monthly"}[repeat]
    series = SessionSeries(
        community_id=actor.community_id,
        title=clean_title,
        method=method,
        theme=clean_theme,
        timezone=settings.timezone,
        first_start_local=first_local,
        duration_minutes=minutes,
        freq=freq,
        interval=every,
        monthly_nth=nth_weekday_of_month(first_local.date()) if freq == "monthly" else None,
        until_date=until_date,
        count=count,
        skipped_dates=[],
        location_kind=location_kind,
        location=where,
        site_id=site_row.id if site_row else None,
        capacity=places,
        channel_id=channel_id,
        created_by_id=actor.member_id,
    )
    db.add(series)
    await db.flush()
    created = await materialise(db, series, settings, now_utc)
    if freq != "once":
        await schedule_extension(db, actor.community_id, settings, now_utc)
    await audit.record(
        db,
        actor,
        "session.planned",
        "session_series",
        series.id,
        title=clean_title,
        occurrences=len(created),
    )
    # The first meeting always exists (the horizon runs from it when it is far ahead)
    first_id = await db.scalar(
        select(SessionOccurrence.id)
        .where(SessionOccurrence.series_id == series.id)
        .order_by(SessionOccurrence.starts_at)
        .limit(1)
    )
    assert first_id is not None
    return await view(db, actor, first_id)


async def _check_room_for_who_is_coming(
    db: AsyncSession, series: SessionSeries, capacity: int, now: datetime
) -> None:
    """Fewer places than people who are coming to a meeting still to come is refused: the
    card would read "3 van 2 bezet", and nobody would know who lost their place."""
    coming = func.count(SessionRsvp.id)
    fullest = (
        await db.execute(
            select(SessionOccurrence.id, coming)
            .join(SessionRsvp, SessionRsvp.occurrence_id == SessionOccurrence.id)
            .where(
                SessionOccurrence.series_id == series.id,
                SessionOccurrence.status == "scheduled",
                SessionOccurrence.ends_at >= now,
                SessionRsvp.status == "yes",
            )
            .group_by(SessionOccurrence.id)
            .order_by(coming.desc(), SessionOccurrence.id)
            .limit(1)
        )
    ).first()
    if fullest is not None and fullest[1] > capacity:
        raise ValidationFailed(
            "sessions.errors.fewer_places_than_coming",
            number=fullest[0],
            coming=int(fullest[1]),
            places=capacity,
        )


async def edit(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    occurrence_id: int,
    *,
    whole_series: bool = False,
    title: str | None = None,
    start: str | None = None,
    duration: str | None = None,
    location_kind: str | None = None,
    location: str | None = None,
    capacity: int | None = None,
    theme: str | None = None,
    now: datetime | None = None,
) -> OccurrenceView:
    """Change one occurrence (time) or the series (everything else); tells who signed up
    when the time or place changes."""
    require(actor, MANAGE_SESSIONS)
    occ = await _occurrence(db, actor, occurrence_id)
    series = occ.series
    if series.cancelled_at is not None or occ.status == "cancelled":
        raise ValidationFailed("errors.session_cancelled")
    now_utc = _now(now)
    if occ.ends_at < now_utc:
        raise ValidationFailed("errors.session_over")
    changed: list[str] = []
    if title is not None:
        series.title = clean_text(title, field="title", max_length=100) or series.title
        changed.append("title")
    if theme is not None:
        series.theme = clean_text(theme, field="theme", max_length=200, required=False)
        changed.append("theme")
    if capacity is not None:
        _validate_common(
            duration=series.duration_minutes,
            capacity=capacity,
            location_kind=series.location_kind,
            location=series.location,
        )
        await _check_room_for_who_is_coming(db, series, capacity, now_utc)
        series.capacity = capacity
        changed.append("capacity")
    if location is not None or location_kind is not None:
        series.location = _validate_common(
            duration=series.duration_minutes,
            capacity=series.capacity,
            location_kind=location_kind or series.location_kind,
            location=location if location is not None else series.location,
        )
        series.location_kind = location_kind or series.location_kind
        changed.append("location")
    minutes = parse_duration(duration) if duration else None
    if minutes is not None:
        _validate_common(
            duration=minutes,
            capacity=series.capacity,
            location_kind=series.location_kind,
            location=series.location,
        )
        series.duration_minutes = minutes
        changed.append("duration")
    targets = [occ]
    if whole_series:
        targets = await _this_and_following(db, series, occ)
    tz = _tz(series)
    moved = False
    if start is not None:
        new_local = parse_when(start, now_utc.astimezone(tz).replace(tzinfo=None), tz)
        new_start = _to_utc(new_local, tz)
        if new_start <= now_utc:
            raise ValidationFailed("errors.time_in_past", when=new_local.strftime("%Y-%m-%d %H:%M"))
        if whole_series:
            targets = await _move_series(db, series, occ, new_local)
            occ.starts_at = new_start  # its slot is new_local; the hour chosen when twice
        else:
            occ.starts_at = new_start
            occ.moved = True
        moved = True
        changed.append("start")
    if not changed:
        raise ValidationFailed("errors.nothing_to_change")
    if set(changed) & CALENDAR_FIELDS:
        await _next_sequence(db, series)
    # Title, theme, place, length and capacity belong to the series: every meeting still to
    # come shows them at once (card, event, reminders), so nothing disagrees anywhere.
    affected = {t.id: t for t in targets}
    if set(changed) - {"start"}:
        for upcoming_occ in await db.scalars(
            select(SessionOccurrence).where(
                SessionOccurrence.series_id == series.id,
                SessionOccurrence.ends_at >= now_utc,
                SessionOccurrence.status == "scheduled",
            )
        ):
            affected.setdefault(upcoming_occ.id, upcoming_occ)
    moved_ids = {t.id for t in targets} if moved else set()
    for target in sorted(affected.values(), key=lambda o: o.starts_at):
        target.ends_at = target.starts_at + timedelta(minutes=series.duration_minutes)
        await _arm_occurrence(db, target, series.community_id, settings, now_utc)
        await _touch(db, target)
        if "capacity" in changed:
            await _promote(db, target, now_utc)  # more places: the waitlist moves up, and is told
        # the meeting changed is shown at once; the rest of its series when it comes near
        await _publish(db, target, series.community_id, now_utc, when_near=target.id != occ.id)
        if target.id in moved_ids or "location" in changed:
            await _notify(db, target, series.community_id, "moved", now_utc)
    await audit.record(
        db,
        actor,
        "session.edited",
        "session_occurrence",
        occ.id,
        fields=changed,
        whole_series=whole_series,
    )
    return await view(db, actor, occ.id)


async def cancel(
    db: AsyncSession,
    actor: Actor,
    occurrence_id: int,
    *,
    whole_series: bool = False,
    now: datetime | None = None,
) -> OccurrenceView:
    """Cancel one occurrence or the rest of the series; everyone signed up is told."""
    require(actor, MANAGE_SESSIONS)
    occ = await _occurrence(db, actor, occurrence_id)
    series = occ.series
    if occ.status == "cancelled" or series.cancelled_at is not None:
        raise ValidationFailed("errors.session_cancelled")
    if occ.ends_at < _now(now):
        raise ValidationFailed("errors.session_over")
    targets = [occ]
    if whole_series:
        series.cancelled_at = _now(now)
        targets = await _this_and_following(db, series, occ)
        if series.freq != "once":
            # The rule ends before this meeting: calendars get an UNTIL and stop showing
            # the series (an open-ended RRULE would go on for ever).
            cut = occ.original_local.date() - timedelta(days=1)
            if series.until_date is None or cut < series.until_date:
                series.until_date = cut
    await _next_sequence(db, series)
    for target in targets:
        target.status = "cancelled"
        if series.freq != "once":
            skipped = set(series.skipped_dates or [])
            skipped.add(target.original_local.date().isoformat())
            series.skipped_dates = sorted(skipped)
        await scheduling.cancel(db, f"session:{target.id}:reminder:")
        await scheduling.cancel(db, f"session:{target.id}:after:")
        await _publish(db, target, series.community_id, now)
        await _notify(db, target, series.community_id, "cancelled", now)
    await audit.record(
        db,
        actor,
        "session.cancelled",
        "session_occurrence",
        occ.id,
        whole_series=whole_series,
        occurrences=len(targets),
    )
    return await view(db, actor, occ.id)


async def skip_date(
    db: AsyncSession, actor: Actor, occurrence_id: int, now: datetime | None = None
) -> OccurrenceView:
    """Skip one date of a recurring series (holidays): the same as cancelling it."""
    return await cancel(db, actor, occurrence_id, whole_series=False, now=now)


# --- sign-up -----------------------------------------------------------------------------


async def rsvp(
    db: AsyncSession,
    actor: Actor,
    occurrence_id: int,
    status: str,
    *,
    show_name: bool | None = None,
    now: datetime | None = None,
) -> RsvpResult:
    """Answer yes / maybe / no. Yes beyond capacity goes on the waitlist; a freed place is
    given to the longest-waiting member, who is told."""
    require(actor, JOIN_SESSIONS)
    if status not in RSVP_STATUSES:
        raise ValidationFailed(
            "errors.bad_choice", field="status", choices=", ".join(RSVP_STATUSES)
        )
    occ = await _occurrence(db, actor, occurrence_id)
    if occ.status == "cancelled":
        raise ValidationFailed("errors.session_cancelled")
    if occ.starts_at <= _now(now):
        raise ValidationFailed("errors.session_started")
    await _touch(db, occ)  # row lock: sign-ups for this occurrence now run one at a time
    mine = await db.scalar(
        select(SessionRsvp).where(
            SessionRsvp.occurrence_id == occ.id, SessionRsvp.member_id == actor.member_id
        )
    )
    previous = mine.status if mine else None
    final = status
    if status == "yes" and previous != "yes":
        taken = await db.scalar(
            select(func.count(SessionRsvp.id)).where(
                SessionRsvp.occurrence_id == occ.id, SessionRsvp.status == "yes"
            )
        )
        if int(taken or 0) >= occ.series.capacity:
            final = "waitlist"
    if mine is None:
        mine = SessionRsvp(
            occurrence_id=occ.id,
            member_id=actor.member_id,
            status=final,
            show_name=True if show_name is None else show_name,
            responded_at=_now(now),
        )
        db.add(mine)
    else:
        if not (previous == "waitlist" and final == "waitlist"):
            mine.responded_at = _now(now)
        mine.status = final
        if show_name is not None:
            mine.show_name = show_name
    await db.flush()
    promoted: list[int] = []
    if previous == "yes" and final != "yes":
        promoted = await _promote(db, occ, now)
    freed: list[tuple[str, bool]] = []
    if final == "no":
        freed = await _give_up_roles(db, occ, actor, now)
    await _schedule_publish(db, occ, actor.community_id, occ.lock_version, now)
    (current,) = await _views(db, actor, [occ])  # the answers are read fresh
    return RsvpResult(
        current,
        final,
        promoted,
        freed_roles=[role for role, _ in freed],
        planner_told=any(confirmed for _, confirmed in freed),
        reminder_coming=await reminder_coming(db, occ.id, now),
    )


async def _give_up_roles(
    db: AsyncSession, occ: SessionOccurrence, actor: Actor, now: datetime | None
) -> list[tuple[str, bool]]:
    """Who cannot come has no role any more (offered or confirmed). When a confirmed role
    becomes free, whoever planned the meeting (and its confirmed facilitator) is told, so
    that someone else can take it; returns the roles given up."""
    held = list(
        await db.scalars(
            select(SessionRole)
            .where(SessionRole.occurrence_id == occ.id, SessionRole.member_id == actor.member_id)
            .order_by(SessionRole.role)
        )
    )
    confirmed = [r.role for r in held if r.confirmed]
    for entry in held:
        await db.delete(entry)
    await db.flush()
    if confirmed:
        await _notify(
            db,
            occ,
            occ.series.community_id,
            "role_freed",
            now,
            roles=confirmed,
            member_id=actor.member_id,
        )
    return [(r.role, r.confirmed) for r in held]


async def role_freed_recipients(
    db: AsyncSession, occurrence_id: int, member_id: int
) -> list[Member]:
    """Who hears that a confirmed role became free: whoever planned the meeting, and the
    others with a confirmed role in it (the facilitator), not the member who gave it up."""
    occ = await db.get(SessionOccurrence, occurrence_id)
    if occ is None:
        return []
    ids = set(
        await db.scalars(
            select(SessionRole.member_id).where(
                SessionRole.occurrence_id == occurrence_id, SessionRole.confirmed.is_(True)
            )
        )
    )
    if occ.series.created_by_id is not None:
        ids.add(occ.series.created_by_id)
    ids.discard(member_id)
    if not ids:
        return []
    return list(await db.scalars(select(Member).where(Member.id.in_(ids)).order_by(Member.id)))


async def reminder_coming(
    db: AsyncSession, occurrence_id: int, now: datetime | None = None
) -> bool:
    """Whether a reminder for this meeting is still to be sent (so a sign-up may promise
    one): not when the meeting is less than the last reminder away."""
    pending = await db.scalar(
        select(func.count(ScheduledJob.id)).where(
            ScheduledJob.kind == "session.reminder",
            ScheduledJob.key.startswith(f"session:{occurrence_id}:reminder:", autoescape=True),
            ScheduledJob.started_at.is_(None),
            ScheduledJob.cancelled_at.is_(None),
            ScheduledJob.missed_at.is_(None),
            ScheduledJob.due_at > _now(now),
        )
    )
    return bool(pending)


async def _promote(
    db: AsyncSession, occ: SessionOccurrence, now: datetime | None = None
) -> list[int]:
    taken = int(
        await db.scalar(
            select(func.count(SessionRsvp.id)).where(
                SessionRsvp.occurrence_id == occ.id, SessionRsvp.status == "yes"
            )
        )
        or 0
    )
    free = occ.series.capacity - taken
    if free <= 0:
        return []
    waiting = list(
        await db.scalars(
            select(SessionRsvp)
            .where(SessionRsvp.occurrence_id == occ.id, SessionRsvp.status == "waitlist")
            .order_by(SessionRsvp.responded_at, SessionRsvp.id)
            .limit(free)
        )
    )
    for entry in waiting:
        entry.status = "yes"
        await _notify(db, occ, occ.series.community_id, "promoted", now, rsvp_id=entry.id)
    return [entry.member_id for entry in waiting]


# --- roles -------------------------------------------------------------------------------


async def volunteer(
    db: AsyncSession, actor: Actor, occurrence_id: int, role: str, now: datetime | None = None
) -> OccurrenceView:
    require(actor, JOIN_SESSIONS)
    if role not in ROLES:
        raise ValidationFailed("errors.bad_choice", field="role", choices=", ".join(ROLES))
    occ = await _occurrence(db, actor, occurrence_id)
    if occ.status == "cancelled":
        raise ValidationFailed("errors.session_cancelled")
    if occ.starts_at <= _now(now):
        raise ValidationFailed("errors.session_started")
    exists = await db.scalar(
        select(SessionRole.id).where(
            SessionRole.occurrence_id == occ.id,
            SessionRole.member_id == actor.member_id,
            SessionRole.role == role,
        )
    )
    if exists is not None:
        raise Conflict("errors.already_volunteered", role=role)
    db.add(SessionRole(occurrence_id=occ.id, member_id=actor.member_id, role=role, confirmed=False))
    await db.flush()
    return await view(db, actor, occ.id)


@dataclass(frozen=True)
class RoleSuggestion:
    role: str
    member_platform_id: str
    member_name: str
    last_served: datetime | None
    volunteered: bool


async def suggest_roles(db: AsyncSession, actor: Actor, occurrence_id: int) -> list[RoleSuggestion]:
    """A fair rotation: for each role, among volunteers (else everyone who said yes), the
    one who served that role longest ago (never = first)."""
    require(actor, MANAGE_SESSIONS)
    occ = await _occurrence(db, actor, occurrence_id)
    coming = list(
        await db.execute(
            select(Member)
            .join(SessionRsvp, SessionRsvp.member_id == Member.id)
            .where(SessionRsvp.occurrence_id == occ.id, SessionRsvp.status == "yes")
        )
    )
    coming_members = {m.id: m for (m,) in coming}
    suggestions: list[RoleSuggestion] = []
    taken: set[int] = set()
    for role in ROLES:
        volunteers = {
            m.id: m
            for (m,) in await db.execute(
                select(Member)
                .join(SessionRole, SessionRole.member_id == Member.id)
                .where(SessionRole.occurrence_id == occ.id, SessionRole.role == role)
            )
        }
        pool = volunteers or coming_members
        pool = {k: v for k, v in pool.items() if k not in taken} or pool
        if not pool:
            continue
        last = dict(
            (
                await db.execute(
                    select(SessionRole.member_id, func.max(SessionOccurrence.starts_at))
                    .join(SessionOccurrence, SessionOccurrence.id == SessionRole.occurrence_id)
                    .join(SessionSeries, SessionSeries.id == SessionOccurrence.series_id)
                    .where(
                        SessionRole.role == role,
                        SessionRole.confirmed.is_(True),
                        SessionRole.member_id.in_(list(pool)),
                        SessionSeries.community_id == actor.community_id,
                        SessionOccurrence.id != occ.id,
                    )
                    .group_by(SessionRole.member_id)
                )
            ).all()
        )
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        chosen = min(
            pool.values(),
            key=lambda m: (last.get(m.id) or epoch, m.display_name.casefold(), m.id),
        )
        taken.add(chosen.id)
        suggestions.append(
            RoleSuggestion(
                role,
                chosen.platform_id,
                chosen.display_name,
                last.get(chosen.id),
                chosen.id in volunteers,
            )
        )
    return suggestions


async def confirm_role(
    db: AsyncSession, actor: Actor, occurrence_id: int, member_platform_id: str, role: str
) -> OccurrenceView:
    require(actor, MANAGE_SESSIONS)
    if role not in ROLES:
        raise ValidationFailed("errors.bad_choice", field="role", choices=", ".join(ROLES))
    occ = await _occurrence(db, actor, occurrence_id)
    member = await find_member(db, actor, member_platform_id)
    await db.execute(
        update(SessionRole)
        .where(SessionRole.occurrence_id == occ.id, SessionRole.role == role)
        .values(confirmed=False)
    )
    entry = await db.scalar(
        select(SessionRole).where(
            SessionRole.occurrence_id == occ.id,
            SessionRole.member_id == member.id,
            SessionRole.role == role,
        )
    )
    if entry is None:
        entry = SessionRole(occurrence_id=occ.id, member_id=member.id, role=role)
        db.add(entry)
    entry.confirmed = True
    await db.flush()
    await _publish(db, occ, actor.community_id)
    await audit.record(
        db,
        actor,
        "session.role_confirmed",
        "session_occurrence",
        occ.id,
        role=role,
        member=member.id,
    )
    return await view(db, actor, occ.id)


# --- attendance --------------------------------------------------------------------------


async def close_attendance(db: AsyncSession, occurrence_id: int) -> list[int]:
    """After the session: everyone who said yes is counted present (moderators correct)."""
    occ = await db.get(SessionOccurrence, occurrence_id)
    if occ is None or occ.attendance_closed_at is not None or occ.status != "scheduled":
        return []
    yes = list(
        await db.scalars(
            select(SessionRsvp.member_id).where(
                SessionRsvp.occurrence_id == occ.id, SessionRsvp.status == "yes"
            )
        )
    )
    recorded = set(
        await db.scalars(
            select(SessionAttendance.member_id).where(SessionAttendance.occurrence_id == occ.id)
        )
    )
    for member_id in yes:
        if member_id not in recorded:
            db.add(
                SessionAttendance(
                    occurrence_id=occ.id, member_id=member_id, attended=True, corrected=False
                )
            )
    occ.attendance_closed_at = clock.now()
    await db.flush()
    return yes


async def correct_attendance(
    db: AsyncSession,
    actor: Actor,
    occurrence_id: int,
    member_platform_id: str,
    attended: bool,
    now: datetime | None = None,
) -> OccurrenceView:
    require(actor, MANAGE_SESSIONS)
    occ = await _occurrence(db, actor, occurrence_id)
    if occ.starts_at > _now(now):
        raise ValidationFailed("errors.session_not_started")
    member = await find_member(db, actor, member_platform_id)
    entry = await db.scalar(
        select(SessionAttendance).where(
            SessionAttendance.occurrence_id == occ.id, SessionAttendance.member_id == member.id
        )
    )
    if entry is None:
        entry = SessionAttendance(occurrence_id=occ.id, member_id=member.id)
        db.add(entry)
    entry.attended = attended
    entry.corrected = True
    await db.flush()
    await audit.record(
        db,
        actor,
        "session.attendance",
        "session_occurrence",
        occ.id,
        member=member.id,
        attended=attended,
    )
    return await view(db, actor, occ.id)


async def attendance(db: AsyncSession, actor: Actor, occurrence_id: int) -> list[tuple[str, bool]]:
    require(actor, MANAGE_SESSIONS)
    occ = await _occurrence(db, actor, occurrence_id)
    rows = await db.execute(
        select(Member.display_name, SessionAttendance.attended)
        .join(Member, Member.id == SessionAttendance.member_id)
        .where(SessionAttendance.occurrence_id == occ.id)
        .order_by(Member.display_name)
    )
    return [(name, bool(present)) for name, present in rows]


# --- reading -----------------------------------------------------------------------------


async def view(db: AsyncSession, actor: Actor | None, occurrence_id: int) -> OccurrenceView:
    """The occurrence as a member sees it (names only of those who chose to be listed)."""
    occ = await db.get(SessionOccurrence, occurrence_id, populate_existing=True)
    if occ is None or (actor is not None and occ.series.community_id != actor.community_id):
        raise NotFound("errors.session_not_found", number=occurrence_id)
    (found,) = await _views(db, actor, [occ])
    return found


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    """Parameter lists of a bounded length (PostgreSQL takes at most 32,767 in a statement)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


async def _occurrences(db: AsyncSession, query: Any) -> list[SessionOccurrence]:
    """Occurrences (with their series) chosen by `query`, read fresh: a page of them in one
    statement."""
    return list(
        (
            await db.scalars(
                select(SessionOccurrence)
                .where(SessionOccurrence.id.in_(query))
                .execution_options(populate_existing=True)
            )
        ).unique()
    )


async def _views(
    db: AsyncSession, actor: Actor | None, occurrences: list[SessionOccurrence]
) -> list[OccurrenceView]:
    """The views of several occurrences in a fixed number of statements (for up to 500 at a
    time): who answered, the confirmed roles, the sites' names and the links, each read for
    all of them at once."""
    ids = [occ.id for occ in occurrences]
    answers: dict[int, list[Any]] = {i: [] for i in ids}
    roles: dict[int, list[Any]] = {i: [] for i in ids}
    agenda_links: dict[int, list[int]] = {i: [] for i in ids}
    practice_links: dict[int, list[int]] = {i: [] for i in ids}
    site_ids = sorted({occ.series.site_id for occ in occurrences if occ.series.site_id})
    site_names: dict[int, str] = {}
    if site_ids:
        site_names = dict(
            (await db.execute(select(Site.id, Site.name).where(Site.id.in_(site_ids)))).all()
        )
    for chunk in _chunks(ids):
        for r in await db.execute(
            select(
                SessionRsvp.occurrence_id,
                SessionRsvp.status,
                SessionRsvp.show_name,
                SessionRsvp.member_id,
                Member.display_name,
            )
            .join(Member, Member.id == SessionRsvp.member_id)
            .where(SessionRsvp.occurrence_id.in_(chunk))
            .order_by(SessionRsvp.responded_at, SessionRsvp.id)
        ):
            answers[r.occurrence_id].append(r)
        for r in await db.execute(
            select(
                SessionRole.occurrence_id,
                SessionRole.role,
                Member.display_name,
                SessionRsvp.show_name,
            )
            .join(Member, Member.id == SessionRole.member_id)
            .outerjoin(
                SessionRsvp,
                and_(
                    SessionRsvp.occurrence_id == SessionRole.occurrence_id,
                    SessionRsvp.member_id == SessionRole.member_id,
                ),
            )
            .where(SessionRole.occurrence_id.in_(chunk), SessionRole.confirmed.is_(True))
            .order_by(SessionRole.role)
        ):
            roles[r.occurrence_id].append(r)
        links = (
            select(literal("agenda").label("kind"), AgendaLink.target_id, AgendaLink.item_id)
            .where(AgendaLink.target_type == "session", AgendaLink.target_id.in_(chunk))
            .union_all(
                select(
                    literal("practice").label("kind"),
                    PracticeLink.target_id,
                    PracticeLink.practice_id,
                )
                .join(Practice, Practice.id == PracticeLink.practice_id)
                .where(
                    PracticeLink.target_type == "session",
                    PracticeLink.target_id.in_(chunk),
                    Practice.state == "shared",
                )
            )
        )
        for kind, occurrence_id, number in await db.execute(links):
            (agenda_links if kind == "agenda" else practice_links)[occurrence_id].append(number)
    out = []
    for occ in occurrences:
        series = occ.series
        rows = answers[occ.id]
        yes = [r for r in rows if r.status == "yes"]
        my = next((r.status for r in rows if actor and r.member_id == actor.member_id), None)
        tz = _tz(series)
        out.append(
            OccurrenceView(
                id=occ.id,
                series_id=series.id,
                title=series.title,
                method=series.method,
                theme=series.theme,
                starts_at=occ.starts_at,
                ends_at=occ.ends_at,
                local_start=occ.starts_at.astimezone(tz),
                timezone=series.timezone,
                location_kind=series.location_kind,
                location=series.location,
                site=site_names.get(series.site_id) if series.site_id else None,
                capacity=series.capacity,
                status=occ.status,
                moved=occ.moved,
                recurring=series.freq != "once",
                yes_count=len(yes),
                maybe_count=sum(1 for r in rows if r.status == "maybe"),
                waitlist_count=sum(1 for r in rows if r.status == "waitlist"),
                listed_names=tuple(r.display_name for r in yes if r.show_name),
                unlisted_count=sum(1 for r in yes if not r.show_name),
                my_status=my,
                # who hid their name from "who is coming" is not named under the roles either
                roles=tuple(
                    (r.role, None if r.show_name is False else r.display_name)
                    for r in roles[occ.id]
                ),
                channel_id=occ.channel_id,
                message_id=occ.message_id,
                thread_id=occ.thread_id,
                event_id=occ.event_id,
                agenda_links=tuple(sorted(agenda_links[occ.id])),
                practice_links=tuple(sorted(practice_links[occ.id])),
            )
        )
    return out


PAGE_SIZE = 10


@dataclass(frozen=True)
class ListFilters:
    """What `/sessie lijst` may narrow the meetings to come down to."""

    only_free: bool = False
    site_id: int | None = None  # meetings for this pilot site only
    month: tuple[int, int] | None = None  # (year, month) in the community's time zone


@dataclass(frozen=True)
class SessionPage:
    items: tuple[OccurrenceView, ...]
    page: int
    pages: int
    total: int
    site: str | None  # the name of the site filtered on


async def site_for_filter(db: AsyncSession, actor: Actor, name: str) -> int:
    """The id of a pilot site named in a filter (an unknown name says which ones exist)."""
    return (await find_site(db, actor, name)).id


async def listing(
    db: AsyncSession,
    actor: Actor,
    filters: ListFilters,
    page: int = 1,
    *,
    tz: ZoneInfo,
    per_page: int = PAGE_SIZE,
    now: datetime | None = None,
) -> SessionPage:
    """One page of the meetings to come, soonest first, with how many there are in all."""
    require(actor, VIEW_SESSIONS)
    current = _now(now)
    conditions = [
        SessionSeries.community_id == actor.community_id,
        SessionOccurrence.status == "scheduled",
        SessionOccurrence.ends_at >= current,
        # no meeting lasts longer: the index on the start skips every meeting long past
        SessionOccurrence.starts_at >= current - timedelta(minutes=MAX_DURATION),
    ]
    site_name = None
    if filters.site_id is not None:
        site_name = await db.scalar(
            select(Site.name).where(
                Site.id == filters.site_id, Site.community_id == actor.community_id
            )
        )
        if site_name is None:  # a site removed since the page was shown
            raise NotFound("errors.not_found")
        conditions.append(SessionSeries.site_id == filters.site_id)
    if filters.month is not None:
        year, month = filters.month
        after = (year + 1, 1) if month == 12 else (year, month + 1)
        conditions += [
            SessionOccurrence.starts_at >= datetime(year, month, 1, tzinfo=tz).astimezone(UTC),
            SessionOccurrence.starts_at < datetime(*after, 1, tzinfo=tz).astimezone(UTC),
        ]
    if filters.only_free:
        coming = (
            select(func.count(SessionRsvp.id))
            .where(SessionRsvp.occurrence_id == SessionOccurrence.id, SessionRsvp.status == "yes")
            .correlate(SessionOccurrence)
            .scalar_subquery()
        )
        conditions.append(coming < SessionSeries.capacity)
    chosen = (
        select(SessionOccurrence.id)
        .join(SessionSeries, SessionSeries.id == SessionOccurrence.series_id)
        .where(*conditions)
    )
    total = int(await db.scalar(select(func.count()).select_from(chosen.subquery())) or 0)
    pages = max(1, -(-total // per_page))
    page = min(max(page, 1), pages)
    page_ids = (
        chosen.order_by(SessionOccurrence.starts_at, SessionOccurrence.id)
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    occurrences = await _occurrences(db, page_ids)
    occurrences.sort(key=lambda o: (o.starts_at, o.id))
    items = tuple(await _views(db, actor, occurrences))
    return SessionPage(items=items, page=page, pages=pages, total=total, site=site_name)


async def mine(
    db: AsyncSession, actor: Actor, *, now: datetime | None = None
) -> list[OccurrenceView]:
    """Upcoming occurrences the actor said yes or maybe to, or waits for."""
    require(actor, VIEW_SESSIONS)
    chosen = (
        select(SessionOccurrence.id)
        .join(
            SessionRsvp,
            and_(
                SessionRsvp.occurrence_id == SessionOccurrence.id,
                SessionRsvp.member_id == actor.member_id,
            ),
        )
        .where(
            SessionRsvp.status.in_(("yes", "maybe", "waitlist")),
            SessionOccurrence.ends_at >= _now(now),
            SessionOccurrence.starts_at >= _now(now) - timedelta(minutes=MAX_DURATION),
        )
    )
    occurrences = await _occurrences(db, chosen)
    occurrences.sort(key=lambda o: (o.starts_at, o.id))
    return await _views(db, actor, occurrences)


async def recipients(
    db: AsyncSession, occurrence_id: int, statuses: tuple[str, ...]
) -> list[Member]:
    return list(
        await db.scalars(
            select(Member)
            .join(SessionRsvp, SessionRsvp.member_id == Member.id)
            .where(SessionRsvp.occurrence_id == occurrence_id, SessionRsvp.status.in_(statuses))
            .order_by(Member.id)
        )
    )


# --- calendars -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CalendarMeeting:
    """One meeting as a calendar file holds it (see `leerbot.exports.ics`)."""

    uid: str
    sequence: int
    title: str
    location_kind: str
    location: str
    timezone: str
    slot_local: datetime | None
    """Its slot in the series' rule, local wall time (the RECURRENCE-ID); None for a
    meeting that is not part of a recurring series."""
    starts_at: datetime
    ends_at: datetime
    cancelled: bool


@dataclass(frozen=True)
class SeriesCalendar:
    """A series as one recurring calendar event: its rule, the slots left out (EXDATE),
    and the meetings that are not where the rule puts them (overrides)."""

    uid: str
    sequence: int
    title: str
    location_kind: str
    location: str
    timezone: str
    first_start_local: datetime
    duration: timedelta
    freq: str  # once | weekly | monthly
    interval: int
    byday: str | None  # monthly: "2TU", "-1FR"
    until_local: datetime | None  # the last slot, when the rule ends on a date
    count: int | None  # or after so many slots
    cancelled: bool  # nothing of it takes place any more
    exdates_local: tuple[datetime, ...]
    overrides: tuple[CalendarMeeting, ...]


def calendar_uid(community: Community, series: SessionSeries) -> str:
    """The UID of a series and of each of its meetings, in every file: random per community
    (`Community.calendar_key`), so no other community or installation makes it, and the
    same in the series file and in a member's own file."""
    return f"series-{series.id}-{community.calendar_key}@leerbot"


async def _calendar_uid(db: AsyncSession, series: SessionSeries) -> str:
    community = await db.get(Community, series.community_id)
    assert community is not None
    return calendar_uid(community, series)


def _meeting(
    uid: str, series: SessionSeries, occ: SessionOccurrence, cancelled: bool
) -> CalendarMeeting:
    return CalendarMeeting(
        uid=uid,
        sequence=series.calendar_sequence,
        title=series.title,
        location_kind=series.location_kind,
        location=series.location,
        timezone=series.timezone,
        slot_local=None if series.freq == "once" else occ.original_local,
        starts_at=occ.starts_at,
        ends_at=occ.ends_at,
        cancelled=cancelled,
    )


async def series_calendar(db: AsyncSession, actor: Actor, occurrence_id: int) -> SeriesCalendar:
    """The series of a meeting as calendars should see it."""
    require(actor, VIEW_SESSIONS)
    occ = await _occurrence(db, actor, occurrence_id)
    series = occ.series
    await db.refresh(series)
    tz = _tz(series)
    uid = await _calendar_uid(db, series)
    occurrences = list(
        await db.scalars(
            select(SessionOccurrence)
            .where(SessionOccurrence.series_id == series.id)
            .order_by(SessionOccurrence.original_local)
            .execution_options(populate_existing=True)
        )
    )
    duration = timedelta(minutes=series.duration_minutes)
    common = {
        "uid": uid,
        "sequence": series.calendar_sequence,
        "title": series.title,
        "location_kind": series.location_kind,
        "location": series.location,
        "timezone": series.timezone,
    }
    rule = _rule(series)
    nothing_left = (rule is None or series.cancelled_at is not None) and all(
        o.status == "cancelled" for o in occurrences
    )
    slots: list[datetime] | None = None
    if rule is not None and (series.until_date or series.count):
        slots = list(rule)
    if rule is None or slots == []:
        # One meeting (or a series cancelled before its first): one event, as it is.
        single = occurrences[0] if occurrences else None
        start = single.starts_at.astimezone(tz) if single else series.first_start_local
        return SeriesCalendar(
            **common,  # type: ignore[arg-type]
            first_start_local=start.replace(tzinfo=None),
            duration=(single.ends_at - single.starts_at) if single else duration,
            freq="once",
            interval=1,
            byday=None,
            until_local=None,
            count=None,
            cancelled=nothing_left,
            exdates_local=(),
            overrides=(),
        )
    time_of_day = series.first_start_local.time()
    exdates = {o.original_local for o in occurrences if o.status == "cancelled"}
    exdates |= {
        datetime.combine(date.fromisoformat(d), time_of_day) for d in series.skipped_dates or []
    }
    if slots is not None:
        exdates &= set(slots)  # a slot after the UNTIL is gone already
    overrides = tuple(
        _meeting(uid, series, o, cancelled=False)
        for o in occurrences
        if o.status == "scheduled"
        and (
            o.starts_at != _to_utc(o.original_local, tz)
            or o.ends_at != _to_utc(o.original_local, tz) + duration
        )
    )
    return SeriesCalendar(
        **common,  # type: ignore[arg-type]
        first_start_local=series.first_start_local,
        duration=duration,
        freq=series.freq,
        interval=series.interval,
        byday=(
            f"{series.monthly_nth or 1}"
            f"{('MO', 'TU', 'WE', 'TH', 'FR', 'SA', 'SU')[series.first_start_local.weekday()]}"
            if series.freq == "monthly"
            else None
        ),
        until_local=slots[-1] if slots and series.until_date else None,
        count=series.count if series.until_date is None else None,
        cancelled=nothing_left,
        exdates_local=tuple(sorted(exdates)),
        overrides=overrides,
    )


async def my_calendar(
    db: AsyncSession, actor: Actor, *, now: datetime | None = None
) -> list[CalendarMeeting]:
    """The meetings to come that the actor signed up for (yes, maybe, waitlist), each as in
    its series' file; a cancelled one stays in, marked cancelled, so that a calendar that
    imported it before takes it off."""
    require(actor, VIEW_SESSIONS)
    rows = await db.scalars(
        select(SessionOccurrence)
        .join(
            SessionRsvp,
            and_(
                SessionRsvp.occurrence_id == SessionOccurrence.id,
                SessionRsvp.member_id == actor.member_id,
            ),
        )
        .where(
            SessionRsvp.status.in_(("yes", "maybe", "waitlist")),
            SessionOccurrence.ends_at >= _now(now),
        )
        .order_by(SessionOccurrence.starts_at, SessionOccurrence.id)
        .execution_options(populate_existing=True)
    )
    meetings = []
    uids: dict[int, str] = {}
    for occ in list(rows):
        series = occ.series
        if series.id not in uids:
            uids[series.id] = await _calendar_uid(db, series)
        meetings.append(_meeting(uids[series.id], series, occ, occ.status == "cancelled"))
    return meetings


def can_manage(actor: Actor) -> bool:
    return may(actor, MANAGE_SESSIONS)


async def toggle_show_name(db: AsyncSession, actor: Actor, occurrence_id: int) -> bool:
    """Show or hide one's name in the list of who is coming; returns the new choice."""
    require(actor, JOIN_SESSIONS)
    occ = await _occurrence(db, actor, occurrence_id)
    entry = await db.scalar(
        select(SessionRsvp).where(
            SessionRsvp.occurrence_id == occ.id, SessionRsvp.member_id == actor.member_id
        )
    )
    if entry is None:
        raise ValidationFailed("errors.rsvp_first")
    entry.show_name = not entry.show_name
    await _publish(db, occ, actor.community_id)
    return entry.show_name


async def schedule_extension(
    db: AsyncSession, community_id: int, settings: Settings, now: datetime | None = None
) -> None:
    """Make sure the daily job that extends recurring series is due."""
    tz = settings.tz
    tomorrow = _now(now).astimezone(tz).replace(
        hour=3, minute=0, second=0, microsecond=0
    ) + timedelta(days=1)
    await scheduling.schedule(
        db,
        community_id=community_id,
        kind="session.extend",
        key=f"session.extend:{community_id}:{tomorrow.date().isoformat()}",
        due_at=tomorrow.astimezone(UTC),
        grace=timedelta(hours=20),
    )


# --- data rights -------------------------------------------------------------------------


async def _count_data(db: AsyncSession, member: Member) -> dict[str, int]:
    async def count(model: type, column: object) -> int:
        return int(
            await db.scalar(select(func.count()).select_from(model).where(column == member.id)) or 0
        )  # type: ignore[arg-type]

    return {
        "rsvps": await count(SessionRsvp, SessionRsvp.member_id),
        "roles": await count(SessionRole, SessionRole.member_id),
        "attendance": await count(SessionAttendance, SessionAttendance.member_id),
    }


async def _export_data(db: AsyncSession, member: Member) -> dict[str, object]:
    rows = await db.execute(
        select(
            SessionSeries.title,
            SessionOccurrence.starts_at,
            SessionRsvp.status,
            SessionRsvp.show_name,
        )
        .join(SessionOccurrence, SessionOccurrence.id == SessionRsvp.occurrence_id)
        .join(SessionSeries, SessionSeries.id == SessionOccurrence.series_id)
        .where(SessionRsvp.member_id == member.id)
        .order_by(SessionOccurrence.starts_at)
    )
    roles = await db.execute(
        select(
            SessionSeries.title,
            SessionOccurrence.starts_at,
            SessionRole.role,
            SessionRole.confirmed,
        )
        .join(SessionOccurrence, SessionOccurrence.id == SessionRole.occurrence_id)
        .join(SessionSeries, SessionSeries.id == SessionOccurrence.series_id)
        .where(SessionRole.member_id == member.id)
    )
    present = await db.execute(
        select(SessionSeries.title, SessionOccurrence.starts_at, SessionAttendance.attended)
        .join(SessionOccurrence, SessionOccurrence.id == SessionAttendance.occurrence_id)
        .join(SessionSeries, SessionSeries.id == SessionOccurrence.series_id)
        .where(SessionAttendance.member_id == member.id)
    )
    return {
        "sign_ups": [
            {"session": t, "starts_at": s.isoformat(), "answer": st, "name_listed": sn}
            for t, s, st, sn in rows
        ],
        "roles": [
            {"session": t, "starts_at": s.isoformat(), "role": r, "confirmed": c}
            for t, s, r, c in roles
        ],
        "attendance": [
            {"session": t, "starts_at": s.isoformat(), "present": a} for t, s, a in present
        ],
    }


async def _delete_data(db: AsyncSession, member: Member) -> None:
    from sqlalchemy import delete

    from leerbot.db.models import ReminderDelivery

    signed_up = list(
        await db.scalars(
            select(SessionOccurrence)
            .join(SessionRsvp, SessionRsvp.occurrence_id == SessionOccurrence.id)
            .where(
                SessionRsvp.member_id == member.id,
                SessionRsvp.status == "yes",
                SessionOccurrence.status == "scheduled",
                SessionOccurrence.starts_at > clock.now(),
            )
        )
    )
    # every card that counted them or showed their name (sign-ups, confirmed roles), also
    # of meetings that are over: it is shown again without them
    on_cards = list(
        await db.scalars(
            select(SessionOccurrence).where(
                SessionOccurrence.message_id.is_not(None),
                or_(
                    SessionOccurrence.id.in_(
                        select(SessionRsvp.occurrence_id).where(SessionRsvp.member_id == member.id)
                    ),
                    SessionOccurrence.id.in_(
                        select(SessionRole.occurrence_id).where(SessionRole.member_id == member.id)
                    ),
                ),
            )
        )
    )
    for model in (SessionRsvp, SessionRole, SessionAttendance, ReminderDelivery):
        await db.execute(delete(model).where(model.member_id == member.id))  # type: ignore[attr-defined]
    await db.execute(
        update(SessionSeries)
        .where(SessionSeries.created_by_id == member.id)
        .values(created_by_id=None)
    )
    for occ in signed_up:  # their place is free again: give it to the waitlist
        await _promote(db, occ)
    for occ in {o.id: o for o in [*signed_up, *on_cards]}.values():
        await _publish(db, occ, occ.series.community_id)


def _register_data_handler() -> None:
    from leerbot.core import privacy

    privacy.register(
        privacy.DataHandler(
            name="sessions",
            tables=(
                "session_series",
                "session_rsvps",
                "session_roles",
                "session_attendance",
                "reminder_deliveries",
            ),
            summary_key="privacy.summary.sessions",
            count=_count_data,
            export=_export_data,
            delete=_delete_data,
            delete_note_key="privacy.delete_note.sessions",
            order=10,
        )
    )


_register_data_handler()


async def republish(db: AsyncSession, occ: SessionOccurrence) -> None:
    """Bring the occurrence's card up to date (e.g. after something was linked to it)."""
    await _publish(db, occ, occ.series.community_id)


async def undelivered_count(db: AsyncSession, actor: Actor, occurrence_id: int) -> int:
    """How many of the meeting's messages (reminders, notices, its card, its thread's first
    messages) did not arrive: for moderators (see `leerbot.core.deliveries`)."""
    require(actor, MANAGE_SESSIONS)
    occ = await db.get(SessionOccurrence, occurrence_id)
    if occ is None or occ.series.community_id != actor.community_id:
        raise NotFound("errors.session_not_found", number=occurrence_id)
    return await deliveries.undelivered(db, f"session:{occurrence_id}:")
