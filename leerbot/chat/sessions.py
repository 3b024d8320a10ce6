"""Intervisie sessions in chat: plan, sign up, roles, lists, calendar files — and the
scheduled work that posts the cards, reminds, tells about changes and follows up."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from leerbot import clock, scheduling
from leerbot.chat.commands import (
    Choice,
    MemberRef,
    Param,
    ParamType,
    StaleArguments,
    record_number,
    registry,
)
from leerbot.chat.context import Context
from leerbot.chat.delivery import card_turn, deliver, post_once, retry_for, retrying
from leerbot.chat.formatting import when
from leerbot.chat.platform import EventSpec, Platform
from leerbot.chat.reply import Attachment, Button, ButtonStyle, Field, Mention, Reply, UserText
from leerbot.chat.safety import thread_intro
from leerbot.core import sessions as core
from leerbot.core.methods import load_methods
from leerbot.core.permissions import may
from leerbot.core.timeparse import parse_month
from leerbot.db.models import Community, Member, SessionOccurrence
from leerbot.exports.ics import meetings_file, series_file
from leerbot.i18n import Msg, translate

log = logging.getLogger("leerbot.sessions")

SESSION_PARAM = Param("sessie", "session", ParamType.INTEGER, required=True, min_value=1)
REPEAT_CHOICES = (
    Choice("geen", "geen (eenmalig)", "none (once)"),
    Choice("wekelijks", "wekelijks", "weekly"),
    Choice("maandelijks", "maandelijks (zelfde weekdag)", "monthly (same weekday)"),
)
ROLE_CHOICES = (
    Choice(
        "inbrenger",
        "inbrenger (vertelt over een situatie uit het werk)",
        "case presenter (brings a situation from work)",
    ),
    Choice("gespreksleider", "gespreksleider", "facilitator"),
)


def _method_choices() -> tuple[Choice, ...]:
    return tuple(Choice(m.key, m.name("nl"), m.name("en")) for m in load_methods().values())[:25]


# --- the card ----------------------------------------------------------------------------


def _where(item: core.OccurrenceView) -> UserText | Mention:
    if item.location_kind == "voice":
        return Mention("channel", item.location)
    return UserText(item.location)


def _role_line(locale: str, role: str, name: str | None) -> str:
    holder = name if name is not None else translate(locale, "sessions.card.role_name_hidden")
    return f"{translate(locale, f'sessions.roles.{role}')}: {holder}"


def card(
    item: core.OccurrenceView,
    locale: str,
    *,
    with_buttons: bool = True,
    now: datetime | None = None,
) -> Reply:
    """The session as everyone sees it in the channel (names only of those listed). Once
    it has begun there is nothing to answer any more: no buttons, and it says so."""
    current = now or clock.now()
    started = item.starts_at <= current
    over = item.ends_at <= current
    methods = load_methods()
    method = methods.get(item.method)
    fields = [
        Field(
            Msg("sessions.card.when"),
            UserText(
                when(item.local_start, locale)
                + f"–{item.ends_at.astimezone(ZoneInfo(item.timezone)):%H:%M}"
            ),
            inline=True,
        ),
        Field(Msg("sessions.card.where"), _where(item), inline=True),
        Field(
            Msg("sessions.card.places"),
            Msg(
                "sessions.card.places_value",
                {
                    "yes": item.yes_count,
                    "capacity": item.capacity,
                    "waitlist": item.waitlist_count,
                    "maybe": item.maybe_count,
                },
            ),
            inline=True,
        ),
        Field(
            Msg("sessions.card.method"),
            UserText(method.name(locale) if method else item.method),
            inline=True,
        ),
    ]
    if item.site:
        fields.append(Field(Msg("sessions.card.site"), UserText(item.site), inline=True))
    else:
        fields.append(
            Field(Msg("sessions.card.site"), Msg("sessions.card.cross_site"), inline=True)
        )
    if item.theme:
        fields.append(Field(Msg("sessions.card.theme"), UserText(item.theme)))
    if item.listed_names or item.unlisted_count:
        fields.append(
            Field(
                Msg("sessions.card.coming"),
                Msg(
                    "sessions.card.coming_value",
                    {"names": list(item.listed_names), "others": item.unlisted_count},
                ),
            )
        )
    if item.roles:
        fields.append(
            Field(
                Msg("sessions.card.roles"),
                UserText(", ".join(_role_line(locale, role, name) for role, name in item.roles)),
            )
        )
    text: Msg | None = None
    if item.status == "cancelled":
        text = Msg("sessions.card.cancelled")
    elif over:
        text = Msg("sessions.card.over")
    elif started:
        text = Msg("sessions.card.started")
    elif item.moved:
        text = Msg("sessions.card.moved")
    reply = Reply(
        title=Msg("sessions.card.title", {"number": item.id, "title": item.title}),
        text=text,
        fields=fields,
        locale=locale,
    )
    if with_buttons and item.status == "scheduled" and not started:
        reply.buttons = [
            Button(Msg("sessions.buttons.yes"), "session.yes", str(item.id), ButtonStyle.SUCCESS),
            Button(Msg("sessions.buttons.maybe"), "session.maybe", str(item.id)),
            Button(Msg("sessions.buttons.no"), "session.no", str(item.id), ButtonStyle.DANGER),
            Button(Msg("sessions.buttons.hide_name"), "session.hide", str(item.id)),
        ]
    return reply


# --- commands ----------------------------------------------------------------------------

LOCATION_PARAMS = (
    Param("spraakkanaal", "voice_channel", ParamType.CHANNEL, channel_kind="voice"),
    Param("adres", "address", ParamType.TEXT, max_length=300),
)


def _location(spraakkanaal: str | None, adres: str | None) -> tuple[str | None, str | None]:
    if spraakkanaal:
        return "voice", spraakkanaal
    if adres:
        return ("link" if adres.strip().startswith(("http://", "https://")) else "address"), adres
    return None, None


@registry.command(
    "sessie plannen",
    "session plan",
    permission=core.MANAGE_SESSIONS,
    params=(
        Param("titel", "title", ParamType.TEXT, required=True, max_length=100),
        Param("start", "start", ParamType.TEXT, required=True, max_length=40),
        *LOCATION_PARAMS,
        Param("methode", "method", ParamType.TEXT, max_length=64, choices=_method_choices()),
        Param("duur", "duration", ParamType.TEXT, max_length=20),
        Param("herhaling", "repeat", ParamType.TEXT, max_length=20, choices=REPEAT_CHOICES),
        Param("elke", "every", ParamType.INTEGER, min_value=1, max_value=12),
        Param("tot", "until", ParamType.TEXT, max_length=30),
        Param("aantal", "count", ParamType.INTEGER, min_value=1, max_value=200),
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param("plaatsen", "places", ParamType.INTEGER, min_value=2, max_value=50),
        Param("thema", "theme", ParamType.TEXT, max_length=200),
    ),
)
async def plan(
    ctx: Context,
    titel: str,
    start: str,
    spraakkanaal: str | None,
    adres: str | None,
    methode: str | None,
    duur: str | None,
    herhaling: str | None,
    elke: int | None,
    tot: str | None,
    aantal: int | None,
    site: str | None,
    plaatsen: int | None,
    thema: str | None,
) -> Reply:
    kind, where = _location(spraakkanaal, adres)  # none: the core says so, after the date
    item = await core.plan(
        ctx.db,
        ctx.actor,
        ctx.settings,
        title=titel,
        start=start,
        method=methode or "casusronde",
        duration=duur,
        repeat=herhaling or "geen",
        every=elke or 1,
        until=tot,
        count=aantal,
        location_kind=kind,
        location=where,
        site=site,
        capacity=plaatsen,
        theme=thema,
        channel_id=ctx.community.sessions_channel_id or ctx.community.announcement_channel_id,
    )
    reply = card(item, ctx.locale)
    reply.text = Msg("sessions.planned", {"recurring": item.recurring})
    return reply


@registry.command(
    "sessie wijzigen",
    "session edit",
    permission=core.MANAGE_SESSIONS,
    params=(
        SESSION_PARAM,
        Param("start", "start", ParamType.TEXT, max_length=40),
        Param("duur", "duration", ParamType.TEXT, max_length=20),
        Param("titel", "title", ParamType.TEXT, max_length=100),
        *LOCATION_PARAMS,
        Param("plaatsen", "places", ParamType.INTEGER, min_value=2, max_value=50),
        Param("thema", "theme", ParamType.TEXT, max_length=200),
        Param("hele_reeks", "whole_series", ParamType.BOOLEAN),
    ),
)
async def edit(
    ctx: Context,
    sessie: int,
    start: str | None,
    duur: str | None,
    titel: str | None,
    spraakkanaal: str | None,
    adres: str | None,
    plaatsen: int | None,
    thema: str | None,
    hele_reeks: bool | None,
) -> Reply:
    kind, where = _location(spraakkanaal, adres)
    item = await core.edit(
        ctx.db,
        ctx.actor,
        ctx.settings,
        sessie,
        whole_series=bool(hele_reeks),
        title=titel,
        start=start,
        duration=duur,
        location_kind=kind,
        location=where,
        capacity=plaatsen,
        theme=thema,
    )
    reply = card(item, ctx.locale, with_buttons=False)
    reply.text = Msg("sessions.edited")
    return reply


@registry.command(
    "sessie annuleren",
    "session cancel",
    permission=core.MANAGE_SESSIONS,
    params=(SESSION_PARAM, Param("hele_reeks", "whole_series", ParamType.BOOLEAN)),
)
async def cancel(ctx: Context, sessie: int, hele_reeks: bool | None) -> Reply:
    item = await core.cancel(ctx.db, ctx.actor, sessie, whole_series=bool(hele_reeks))
    return Reply.say("sessions.cancelled", title=item.title, whole=bool(hele_reeks))


@registry.command(
    "sessie bekijken", "session view", permission=core.VIEW_SESSIONS, params=(SESSION_PARAM,)
)
async def show(ctx: Context, sessie: int) -> Reply:
    item = await core.view(ctx.db, ctx.actor, sessie)
    now = ctx.now()
    reply = card(item, ctx.locale, now=now)
    if may(ctx.actor, core.MANAGE_SESSIONS):  # moderators: messages that did not arrive
        count = await core.undelivered_count(ctx.db, ctx.actor, item.id)
        if count:
            reply.fields.append(
                Field(
                    Msg("delivery.undelivered_label"),
                    Msg("delivery.undelivered_session", {"count": count}),
                )
            )
    if item.my_status and item.status == "scheduled" and item.starts_at > now:
        reply.text = Msg(
            f"sessions.rsvp.{item.my_status}",
            {
                "title": item.title,
                "when": when(item.local_start, ctx.locale),
                "reminder": await core.reminder_coming(ctx.db, item.id, now),
                "roles": [],
                "told": False,
            },
        )
    return reply


def _line(item: core.OccurrenceView, locale: str) -> str:
    return translate(
        locale,
        "sessions.list_line",
        number=item.id,
        title=item.title,
        when=when(item.local_start, locale),
        free=item.free_places,
        capacity=item.capacity,
        status=item.my_status or "",
        cancelled=item.status == "cancelled",
    )


def _listing(items: list[core.OccurrenceView], locale: str, empty_key: str) -> Reply:
    if not items:
        return Reply.say(empty_key)
    lines = [_line(i, locale) for i in items]
    return Reply(title=Msg("sessions.mine_title"), text=UserText("\n".join(lines)))


def _encode(filters: core.ListFilters) -> str:
    month = f"{filters.month[0]:04}-{filters.month[1]:02}" if filters.month else ""
    return f"{int(filters.only_free)}:{filters.site_id or ''}:{month}"


def _decode(text: str) -> core.ListFilters:
    """The filters behind a page button (StaleArguments: not ours, or tampered with)."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0] not in ("0", "1"):
        raise StaleArguments()
    free, site, month = parts
    chosen: tuple[int, int] | None = None
    if month:
        found = re.fullmatch(r"(\d{4})-(\d{2})", month)
        if not found or not 1 <= int(found[2]) <= 12 or int(found[1]) < 1900:
            raise StaleArguments()
        chosen = (int(found[1]), int(found[2]))
    return core.ListFilters(
        only_free=free == "1", site_id=record_number(site) if site else None, month=chosen
    )


async def _page(ctx: Context, filters: core.ListFilters, page: int) -> Reply:
    result = await core.listing(ctx.db, ctx.actor, filters, page, tz=ctx.settings.tz)
    if not result.total:
        filtered = filters != core.ListFilters()
        return Reply.say("sessions.none_matching" if filtered else "sessions.none_upcoming")
    month = (
        translate(ctx.locale, "dates.month_year", year=filters.month[0], month=filters.month[1])
        if filters.month
        else None
    )
    reply = Reply(
        title=Msg(
            "sessions.list_title",
            {
                "page": result.page,
                "pages": result.pages,
                "total": result.total,
                "month": month,
                "site": result.site,
                "free": filters.only_free,
            },
        ),
        text=UserText("\n".join(_line(i, ctx.locale) for i in result.items)),
    )
    encoded = _encode(filters)
    if result.page > 1:
        reply.buttons.append(
            Button(Msg("sessions.buttons.previous"), "session.page", f"{result.page - 1}:{encoded}")
        )
    if result.page < result.pages:
        reply.buttons.append(
            Button(Msg("sessions.buttons.next"), "session.page", f"{result.page + 1}:{encoded}")
        )
    return reply


@registry.command(
    "sessie lijst",
    "session list",
    permission=core.VIEW_SESSIONS,
    params=(
        Param("vrij", "free", ParamType.BOOLEAN),
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param("maand", "month", ParamType.TEXT, max_length=30),
    ),
)
async def listing(ctx: Context, vrij: bool | None, site: str | None, maand: str | None) -> Reply:
    """The meetings to come, ten at a time with buttons to page, for a site or a month."""
    today = ctx.now().astimezone(ctx.settings.tz).date()
    filters = core.ListFilters(
        only_free=bool(vrij),
        site_id=await core.site_for_filter(ctx.db, ctx.actor, site) if site else None,
        month=parse_month(maand, today) if maand else None,
    )
    return await _page(ctx, filters, 1)


@registry.action("session.page", permission=core.VIEW_SESSIONS)
async def page_button(ctx: Context, arg: str) -> Reply:
    number, _, encoded = arg.partition(":")
    return await _page(ctx, _decode(encoded), record_number(number))


@registry.command("sessie mijn", "session mine", permission=core.VIEW_SESSIONS)
async def my_sessions(ctx: Context) -> Reply:
    items = await core.mine(ctx.db, ctx.actor)
    return _listing(items, ctx.locale, "sessions.none_mine")


@registry.command(
    "sessie rol",
    "session role",
    permission=core.JOIN_SESSIONS,
    params=(
        SESSION_PARAM,
        Param("rol", "role", ParamType.TEXT, required=True, max_length=20, choices=ROLE_CHOICES),
    ),
)
async def volunteer(ctx: Context, sessie: int, rol: str) -> Reply:
    item = await core.volunteer(ctx.db, ctx.actor, sessie, rol)
    return Reply.say(
        "sessions.volunteered",
        role=translate(ctx.locale, f"sessions.roles.{rol}"),
        title=item.title,
    )


@registry.command(
    "sessie rollen", "session roles", permission=core.MANAGE_SESSIONS, params=(SESSION_PARAM,)
)
async def roles(ctx: Context, sessie: int) -> Reply:
    suggestions = await core.suggest_roles(ctx.db, ctx.actor, sessie)
    if not suggestions:
        return Reply.say("sessions.no_role_candidates")
    fields = [
        Field(
            Msg(f"sessions.roles.{s.role}"),
            Msg(
                "sessions.suggestion",
                {
                    "name": s.member_name,
                    "last": when(s.last_served.astimezone(ctx.settings.tz), ctx.locale)
                    if s.last_served
                    else None,
                    "volunteered": s.volunteered,
                },
            ),
        )
        for s in suggestions
    ]
    buttons = [
        Button(
            Msg(
                "sessions.buttons.confirm_role",
                {"role": translate(ctx.locale, f"sessions.roles.{s.role}"), "name": s.member_name},
            ),
            "session.confirm_role",
            f"{sessie}:{s.role}:{s.member_platform_id}",
            ButtonStyle.PRIMARY,
        )
        for s in suggestions
    ]
    return Reply(
        title=Msg("sessions.roles_title"),
        text=Msg("sessions.roles_intro"),
        fields=fields,
        buttons=buttons,
    )


@registry.command(
    "sessie bevestig",
    "session confirm",
    permission=core.MANAGE_SESSIONS,
    params=(
        SESSION_PARAM,
        Param("lid", "member", ParamType.MEMBER, required=True),
        Param("rol", "role", ParamType.TEXT, required=True, max_length=20, choices=ROLE_CHOICES),
    ),
)
async def confirm(ctx: Context, sessie: int, lid: MemberRef, rol: str) -> Reply:
    await core.confirm_role(ctx.db, ctx.actor, sessie, lid.platform_id, rol)
    return Reply.say(
        "sessions.role_confirmed",
        name=lid.display_name,
        role=translate(ctx.locale, f"sessions.roles.{rol}"),
    )


@registry.command(
    "sessie aanwezigheid",
    "session attendance",
    permission=core.MANAGE_SESSIONS,
    params=(
        SESSION_PARAM,
        Param("lid", "member", ParamType.MEMBER),
        Param("aanwezig", "present", ParamType.BOOLEAN),
    ),
)
async def attendance(
    ctx: Context, sessie: int, lid: MemberRef | None, aanwezig: bool | None
) -> Reply:
    if lid is not None:
        if aanwezig is None:
            return Reply.error("errors.missing_param", field="aanwezig")
        await core.correct_attendance(ctx.db, ctx.actor, sessie, lid.platform_id, aanwezig)
    rows = await core.attendance(ctx.db, ctx.actor, sessie)
    if not rows:
        return Reply.say("sessions.attendance_empty")
    text = "\n".join(
        translate(ctx.locale, "sessions.attendance_line", name=name, present=present)
        for name, present in rows
    )
    return Reply(title=Msg("sessions.attendance_title"), text=UserText(text))


@registry.command(
    "sessie agenda",
    "session calendar",
    permission=core.VIEW_SESSIONS,
    params=(Param("sessie", "session", ParamType.INTEGER, min_value=1),),
)
async def calendar(ctx: Context, sessie: int | None) -> Reply:
    attachment = await calendar_file(ctx, sessie)
    if attachment is None:
        return Reply.say("sessions.none_mine")
    return Reply(
        text=Msg("sessions.ics_ready", {"series": sessie is not None}),
        attachments=[attachment],
    )


async def calendar_file(
    ctx: Context, sessie: int | None, *, now: datetime | None = None
) -> Attachment | None:
    """The file `/sessie agenda` gives: with a number, that meeting's whole series, named
    after the number asked for; without, the member's own meetings (None: there are none).
    See `leerbot.exports.ics` for how one meeting appears in both, once."""
    stamp = now or ctx.now()
    description = translate(ctx.locale, "sessions.ics_description")
    if sessie is not None:
        series = await core.series_calendar(ctx.db, ctx.actor, sessie)
        data = series_file(series, description=description, stamp=stamp)
        return Attachment(f"leerbot-sessie-{sessie}.ics", data)
    meetings = await core.my_calendar(ctx.db, ctx.actor, now=now)
    if not meetings:
        return None
    data = meetings_file(meetings, description=description, stamp=stamp)
    return Attachment("leerbot-mijn-sessies.ics", data)


# --- buttons -----------------------------------------------------------------------------


async def _answer(ctx: Context, arg: str, status: str) -> Reply:
    occurrence_id = record_number(arg)
    result = await core.rsvp(ctx.db, ctx.actor, occurrence_id, status)
    return Reply.say(
        f"sessions.rsvp.{result.status}",
        title=result.occurrence.title,
        when=when(result.occurrence.local_start, ctx.locale),
        reminder=result.reminder_coming,
        roles=[translate(ctx.locale, f"sessions.roles.{r}") for r in result.freed_roles],
        told=result.planner_told,
    )


@registry.action("session.yes", permission=core.JOIN_SESSIONS)
async def answer_yes(ctx: Context, arg: str) -> Reply:
    return await _answer(ctx, arg, "yes")


@registry.action("session.maybe", permission=core.JOIN_SESSIONS)
async def answer_maybe(ctx: Context, arg: str) -> Reply:
    return await _answer(ctx, arg, "maybe")


@registry.action("session.no", permission=core.JOIN_SESSIONS)
async def answer_no(ctx: Context, arg: str) -> Reply:
    return await _answer(ctx, arg, "no")


@registry.action("session.hide", permission=core.JOIN_SESSIONS)
async def toggle_name(ctx: Context, arg: str) -> Reply:
    occurrence_id = record_number(arg)
    shown = await core.toggle_show_name(ctx.db, ctx.actor, occurrence_id)
    return Reply.say("sessions.name_shown" if shown else "sessions.name_hidden")


@registry.action("session.confirm_role", permission=core.MANAGE_SESSIONS)
async def confirm_button(ctx: Context, arg: str) -> Reply:
    number, role, platform_id = [*arg.split(":", 2), "", ""][:3]
    occurrence_id = record_number(number)
    await core.confirm_role(ctx.db, ctx.actor, occurrence_id, platform_id, role)
    return Reply.say(
        "sessions.role_confirmed_short", role=translate(ctx.locale, f"sessions.roles.{role}")
    )


# --- scheduled work ----------------------------------------------------------------------

JobFn = Callable[[scheduling.JobRun], Awaitable[None]]
AFTER_SESSION_HOOKS: list[Callable[[scheduling.JobRun, core.OccurrenceView], Awaitable[None]]] = []
"""Other capabilities (reflection rounds) add a coroutine here to follow each session."""


async def _context(
    run: scheduling.JobRun,
) -> tuple[Platform | None, Community, core.OccurrenceView]:
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        item = await core.view(db, None, int(run.payload["occurrence_id"]))
    assert community is not None
    return run.services.get("platform"), community, item


async def publish_job(run: scheduling.JobRun) -> None:
    """One card update at a time per session, reading its state in turn (see card_turn)."""
    async with card_turn("session", int(run.payload["occurrence_id"])) as latest:
        if latest:
            await _publish_card(run)


async def _publish_card(run: scheduling.JobRun) -> None:
    """Post or update the card, open the thread, mirror the scheduled event."""
    platform, community, item = await _context(run)
    async with run.sessionmaker() as db:
        occ = await db.get(SessionOccurrence, item.id)
        assert occ is not None
        if occ.lock_version != run.payload.get("version"):
            return  # a newer publish is on its way
    if platform is None:
        return
    channel = (
        item.channel_id
        or occ.series.channel_id
        or community.sessions_channel_id
        or community.announcement_channel_id
    )
    if channel is None:
        log.info("session %s: no sessions channel configured, card not posted", item.id)
        return
    locale = community.locale
    updates: dict[str, str | None] = {}
    reply = card(item, locale)
    retry = await retry_for(run)
    place = community.platform_id
    if item.message_id:
        await retrying(
            retry,
            f"session:{item.id}:card",
            lambda: platform.edit(place, channel, item.message_id or "", reply),
        )
    elif item.status == "scheduled" and item.starts_at > clock.now():
        # each step once (see leerbot.chat.delivery): a rerun after a crash finds the card,
        # its thread (same id as the card) and the thread's first messages
        posted = await post_once(
            run.sessionmaker,
            platform,
            community,
            key=f"session:{item.id}:card",
            channel_id=channel,
            reply=reply,
            retry=retry,
            job_key=run.key,
        )
        if posted is not None:
            updates["message_id"] = posted.message_id
            updates["channel_id"] = posted.channel_id
            thread = await retrying(
                retry,
                f"session:{item.id}:thread",
                lambda: platform.open_thread(
                    place,
                    posted.channel_id,
                    translate(
                        locale,
                        "sessions.thread_name",
                        title=item.title,
                        when=when(item.local_start, locale),
                    )[:100],
                    message_id=posted.message_id,
                ),
            )
            updates["thread_id"] = thread
            await post_once(
                run.sessionmaker,
                platform,
                community,
                key=f"session:{item.id}:intro",
                channel_id=thread,
                reply=thread_intro(run.services["settings"], locale),
                retry=retry,
                job_key=run.key,
            )
            method = load_methods().get(item.method)
            if method is not None:
                steps = "\n".join(
                    f"{n}. {s}"
                    for n, s in enumerate(method.steps.get(locale) or method.steps["nl"], 1)
                )
                await post_once(
                    run.sessionmaker,
                    platform,
                    community,
                    key=f"session:{item.id}:preparation",
                    channel_id=thread,
                    reply=Reply(
                        text=Msg(
                            "sessions.preparation",
                            {
                                "method": method.name(locale),
                                "source": method.source,
                                "steps": steps,
                            },
                        ),
                        locale=locale,
                    ),
                    retry=retry,
                    job_key=run.key,
                )
    if item.status == "cancelled":
        if item.event_id:
            event_id = item.event_id
            await retrying(
                retry,
                f"session:{item.id}:event",
                lambda: platform.cancel_event(place, event_id),
            )
    elif item.ends_at > clock.now():  # a meeting that is over keeps its event as it was
        spec = EventSpec(
            name=item.title[:100],
            description=translate(locale, "sessions.event_description", number=item.id)[:1000],
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            location=None if item.location_kind == "voice" else item.location[:100],
            voice_channel_id=item.location if item.location_kind == "voice" else None,
        )
        # without an id the platform first looks for the event an earlier attempt made
        event_id = await retrying(
            retry,
            f"session:{item.id}:event",
            lambda: platform.upsert_event(place, item.event_id, spec),
        )
        if event_id != item.event_id:
            updates["event_id"] = event_id
    if updates:  # written after Discord confirmed each of them
        async with run.sessionmaker() as db, db.begin():
            occ = await db.get(SessionOccurrence, item.id)
            assert occ is not None
            for key, value in updates.items():
                setattr(occ, key, value)


def _parent_channel(community: Community, item: core.OccurrenceView) -> str | None:
    return item.channel_id or community.sessions_channel_id or community.announcement_channel_id


async def reminder_job(run: scheduling.JobRun) -> None:
    platform, community, item = await _context(run)
    if platform is None or item.status != "scheduled":
        return
    async with run.sessionmaker() as db:
        members = await core.recipients(db, item.id, ("yes",))

    def make(locale: str) -> Reply:
        reply = card(item, locale, with_buttons=False)
        reply.text = Msg(
            "sessions.reminder",
            {
                "title": item.title,
                "when": when(item.local_start, locale),
                "minutes": run.payload.get("minutes"),
            },
        )
        reply.buttons = [
            Button(Msg("sessions.buttons.no"), "session.no", str(item.id), ButtonStyle.DANGER)
        ]
        return reply

    await deliver(run, platform, community, members, make, _parent_channel(community, item))


async def notify_job(run: scheduling.JobRun) -> None:
    platform, community, item = await _context(run)
    if platform is None:
        return
    what = run.payload.get("what")
    if what == "role_freed":
        await _role_freed(run, platform, community, item)
        return
    async with run.sessionmaker() as db:
        if what == "promoted":
            from leerbot.db.models import SessionRsvp

            entry = await db.get(SessionRsvp, int(run.payload.get("rsvp_id", 0)))
            if entry is None or entry.status != "yes":
                return
            member = await db.get(Member, entry.member_id)
            members = [member] if member else []
        else:
            members = await core.recipients(db, item.id, ("yes", "maybe", "waitlist"))

    def make(locale: str) -> Reply:
        reply = card(item, locale, with_buttons=what == "promoted")
        reply.text = Msg(
            f"sessions.notice.{what}", {"title": item.title, "when": when(item.local_start, locale)}
        )
        return reply

    await deliver(run, platform, community, members, make, _parent_channel(community, item))


async def _role_freed(
    run: scheduling.JobRun, platform: Platform, community: Community, item: core.OccurrenceView
) -> None:
    """A confirmed role became free (its holder cannot come): the planner and the others
    with a role hear it by DM; with nobody to tell, the meeting's thread does (no name)."""
    roles = [str(r) for r in run.payload.get("roles", [])]
    member_id = int(run.payload.get("member_id", 0))
    async with run.sessionmaker() as db:
        members = await core.role_freed_recipients(db, item.id, member_id)
        gone = await db.get(Member, member_id)
    if item.status != "scheduled" or item.starts_at <= clock.now():
        return

    def params(locale: str) -> dict[str, object]:
        return {
            "title": item.title,
            "when": when(item.local_start, locale),
            "number": item.id,
            "roles": [translate(locale, f"sessions.roles.{r}") for r in roles],
            "name": gone.display_name if gone else "",
        }

    if members:

        def make(locale: str) -> Reply:
            reply = card(item, locale, with_buttons=False)
            reply.text = Msg("sessions.notice.role_freed", params(locale))
            return reply

        await deliver(run, platform, community, members, make, _parent_channel(community, item))
    elif item.thread_id:
        locale = community.locale
        await post_once(
            run.sessionmaker,
            platform,
            community,
            key=run.key,
            channel_id=item.thread_id,
            reply=Reply(
                text=Msg("sessions.notice.role_freed_thread", params(locale)), locale=locale
            ),
            retry=await retry_for(run),
            job_key=run.key,
        )


async def after_job(run: scheduling.JobRun) -> None:
    """After the session: attendance from the sign-ups, an invitation to reflect, and the
    card without its buttons (it says the meeting is over)."""
    async with run.sessionmaker() as db, db.begin():
        present = await core.close_attendance(db, int(run.payload["occurrence_id"]))
        occ = await db.get(SessionOccurrence, int(run.payload["occurrence_id"]))
        if occ is not None and occ.message_id is not None:
            await core.republish(db, occ)
    platform, community, item = await _context(run)
    if platform is not None and item.thread_id and item.status == "scheduled":
        await post_once(
            run.sessionmaker,
            platform,
            community,
            key=run.key,
            channel_id=item.thread_id,
            reply=Reply(
                text=Msg("sessions.after", {"count": len(present)}), locale=community.locale
            ),
            retry=await retry_for(run),
            job_key=run.key,
        )
    for hook in AFTER_SESSION_HOOKS:
        await hook(run, item)


async def extend_job(run: scheduling.JobRun) -> None:
    """Daily: materialise occurrences of open-ended series that came within the horizon."""
    from leerbot.db.models import SessionSeries

    settings = run.services["settings"]
    async with run.sessionmaker() as db, db.begin():
        series_list = list(
            await db.scalars(
                select(SessionSeries).where(
                    SessionSeries.community_id == run.community_id,
                    SessionSeries.cancelled_at.is_(None),
                    SessionSeries.freq != "once",
                )
            )
        )
        for series in series_list:
            await core.materialise(db, series, settings)
        if series_list:
            await core.schedule_extension(db, run.community_id, settings)


JOBS: dict[str, JobFn] = {
    "session.publish": publish_job,
    "session.reminder": reminder_job,
    "session.notify": notify_job,
    "session.after": after_job,
    "session.extend": extend_job,
}
