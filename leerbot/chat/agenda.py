"""The development agenda in chat: propose (a form), support, browse with paging, status
with reasons, links, merges, moderation (hide and restore a point's text) and the
coordinator's export — plus the scheduled work that keeps each point's card in the agenda
channel up to date and tells proposers."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date, tzinfo
from functools import partial

from leerbot import scheduling
from leerbot.chat.commands import Choice, Param, ParamType, id_parts, record_number, registry
from leerbot.chat.context import Context
from leerbot.chat.delivery import card_turn, deliver, post_card
from leerbot.chat.formatting import when
from leerbot.chat.reply import (
    Attachment,
    Button,
    ButtonStyle,
    Field,
    Form,
    FormField,
    Reply,
    UserText,
)
from leerbot.chat.safety import thread_intro
from leerbot.core import agenda as core
from leerbot.core.errors import Conflict, ValidationFailed
from leerbot.core.themes import load_themes
from leerbot.core.timeparse import parse_day
from leerbot.db.models import AgendaItem, Community, Member
from leerbot.exports import agenda as exports
from leerbot.exports.common import render_after_commit, rendered
from leerbot.i18n import Msg, translate

POINT = Param("punt", "point", ParamType.INTEGER, required=True, min_value=1)


def _theme_choices() -> tuple[Choice, ...]:
    return tuple(Choice(t.key, t.nl[:100], t.en[:100]) for t in load_themes().values())


KIND_CHOICES = tuple(Choice(k, k, translate("en", f"agenda.kinds.{k}")) for k in core.KINDS)
LEVEL_CHOICES = tuple(
    Choice(
        k, translate("nl", f"agenda.level_choice.{k}"), translate("en", f"agenda.level_choice.{k}")
    )
    for k in core.LEVELS
)
STATUS_CHOICES = tuple(
    Choice(s, translate("nl", f"agenda.statuses.{s}"), translate("en", f"agenda.statuses.{s}"))
    for s in core.STATUSES
)
FORMAT_CHOICES = tuple(Choice(f, f, f) for f in exports.FORMATS)


def title_of(item: core.ItemView, locale: str) -> str:
    """The point's title, or "hidden by a moderator" while its text is hidden."""
    return translate(locale, "agenda.hidden.title") if item.hidden else item.title


def _step(step: core.HistoryStep, item: core.ItemView, locale: str) -> str:
    """What a step in the history did: a new status, or (the status unchanged) the merge."""
    if step.from_status == step.to_status and item.merged_into is not None:
        return translate(locale, "agenda.history_merged", number=item.merged_into)
    return translate(locale, f"agenda.statuses.{step.to_status}")


def card(item: core.ItemView, locale: str, *, tz: tzinfo, with_buttons: bool = True) -> Reply:
    """The point's card; its history in the community's time zone `tz`."""
    themes = load_themes()
    theme = themes[item.theme].name(locale) if item.theme in themes else item.theme
    fields = [
        Field(Msg("agenda.card.theme"), UserText(theme), inline=True),
        Field(Msg("agenda.card.kind"), Msg(f"agenda.kinds.{item.kind}"), inline=True),
        Field(Msg("agenda.card.level"), Msg(f"agenda.levels.{item.level}"), inline=True),
        Field(Msg("agenda.card.status"), Msg(f"agenda.statuses.{item.status}"), inline=True),
        Field(Msg("agenda.card.support"), UserText(str(item.support_count)), inline=True),
    ]
    if not item.hidden:  # no name next to "hidden by a moderator" (see core.agenda)
        fields.append(
            Field(
                Msg("agenda.card.by"),
                UserText(item.author) if item.author else Msg("agenda.card.anonymous"),
                inline=True,
            )
        )
    if item.site:
        fields.append(Field(Msg("agenda.card.site"), UserText(item.site), inline=True))
    elif item.site_withheld:
        fields.append(Field(Msg("agenda.card.site"), Msg("agenda.some_site"), inline=True))
    steps = [h for h in item.history if h.from_status is not None]
    if steps:
        fields.append(
            Field(
                Msg("agenda.card.history"),
                UserText(
                    "\n".join(
                        translate(
                            locale,
                            "agenda.history_line",
                            day=when(h.when, locale, tz),
                            status=_step(h, item, locale),
                            reason=h.reason,
                        )
                        for h in steps[-5:]
                    )
                ),
            )
        )
    if item.links:
        fields.append(
            Field(
                Msg("agenda.card.links"),
                UserText(
                    ", ".join(
                        translate(locale, f"agenda.link_{kind}", number=number)
                        for kind, number in item.links
                    )
                ),
            )
        )
    text: Msg | UserText = UserText(item.description)
    if item.merged_into:
        text = Msg("agenda.card.merged", {"number": item.merged_into})
    elif item.hidden:
        text = Msg("agenda.hidden.text")
    reply = Reply(
        title=Msg("agenda.card.title", {"number": item.id, "title": title_of(item, locale)}),
        text=text,
        fields=fields,
        locale=locale,
    )
    if with_buttons and item.merged_into is None and not item.hidden:
        reply.buttons = [
            Button(
                Msg("agenda.buttons.support"), "agenda.support", str(item.id), ButtonStyle.PRIMARY
            )
        ]
    return reply


@registry.command(
    "agenda voorstel",
    "agenda propose",
    permission=core.PROPOSE,
    opens_form=True,
    params=(
        Param(
            "thema", "theme", ParamType.TEXT, required=True, max_length=40, choices=_theme_choices()
        ),
        Param("soort", "kind", ParamType.TEXT, required=True, max_length=32, choices=KIND_CHOICES),
        Param(
            "niveau", "level", ParamType.TEXT, required=True, max_length=32, choices=LEVEL_CHOICES
        ),
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param("anoniem", "anonymous", ParamType.BOOLEAN),
    ),
)
async def propose(
    ctx: Context, thema: str, soort: str, niveau: str, site: str | None, anoniem: bool | None
) -> Reply:
    site_id = ""
    if site:
        from leerbot.core.community import find_site

        site_id = str((await find_site(ctx.db, ctx.actor, site)).id)
    return Reply(
        form=Form(
            form_id="agenda.propose",
            arg=f"{thema}:{soort}:{niveau}:{site_id}:{1 if anoniem else 0}",
            title=Msg("agenda.form_title"),
            fields=(
                FormField("titel", Msg("agenda.form_field_title"), max_length=core.MAX_TITLE),
                FormField(
                    "beschrijving",
                    Msg("agenda.form_field_description"),
                    paragraph=True,
                    max_length=core.MAX_DESCRIPTION,
                ),
            ),
        )
    )


@registry.form("agenda.propose", permission=core.PROPOSE)
async def proposed(ctx: Context, arg: str, values: dict[str, str]) -> Reply:
    try:
        theme, kind, level, site_id, anonymous = arg.split(":")
    except ValueError:
        return Reply.error("errors.unknown_form")
    item = await core.propose(
        ctx.db,
        ctx.actor,
        ctx.settings,
        title=values.get("titel", ""),
        description=values.get("beschrijving", ""),
        theme=theme,
        kind=kind,
        level=level,
        site_id=record_number(site_id) if site_id else None,
        anonymous=anonymous == "1",
    )
    reply = card(item, ctx.locale, tz=ctx.settings.tz)
    reply.text = Msg("agenda.proposed", {"number": item.id, "anonymous": item.anonymous})
    return reply


@registry.command("agenda bekijken", "agenda view", permission=core.VIEW, params=(POINT,))
async def show(ctx: Context, punt: int) -> Reply:
    threshold = ctx.settings.privacy.small_number_threshold
    return card(
        await core.view(ctx.db, ctx.actor, punt, threshold=threshold),
        ctx.locale,
        tz=ctx.settings.tz,
    )


@registry.command(
    "agenda steun",
    "agenda support",
    permission=core.PROPOSE,
    params=(POINT, Param("intrekken", "withdraw", ParamType.BOOLEAN)),
)
async def support_command(ctx: Context, punt: int, intrekken: bool | None) -> Reply:
    item = await core.support(ctx.db, ctx.actor, punt, on=not intrekken)
    return Reply.say(
        "agenda.unsupported" if intrekken else "agenda.supported",
        title=title_of(item, ctx.locale),
        count=item.support_count,
    )


@registry.action("agenda.support", permission=core.PROPOSE)
async def support_button(ctx: Context, arg: str) -> Reply:
    (item_id,) = id_parts(arg)
    try:
        item = await core.support(ctx.db, ctx.actor, item_id)
    except Conflict as refused:
        if refused.key != "errors.already_supported":
            raise
        current = await core.view(ctx.db, ctx.actor, item_id)
        return Reply(
            text=Msg("agenda.already_supporting", {"title": title_of(current, ctx.locale)}),
            buttons=[
                Button(Msg("agenda.buttons.withdraw"), "agenda.unsupport", arg, ButtonStyle.DANGER)
            ],
        )
    return Reply.say("agenda.supported", title=title_of(item, ctx.locale), count=item.support_count)


@registry.action("agenda.unsupport", permission=core.PROPOSE)
async def unsupport_button(ctx: Context, arg: str) -> Reply:
    item = await core.support(ctx.db, ctx.actor, *id_parts(arg), on=False)
    return Reply.say(
        "agenda.unsupported", title=title_of(item, ctx.locale), count=item.support_count
    )


def _encode(filters: core.Filters) -> str:
    return ",".join(
        [filters.theme or "", filters.status or "", filters.kind or "", filters.sort[0]]
    )


def _decode(text: str) -> core.Filters:
    theme, status, kind, sort = [*text.split(","), "", "", "", "s"][:4]
    return core.Filters(
        theme=theme or None,
        status=status or None,
        kind=kind or None,
        sort="date" if sort == "d" else "support",
    )


async def _page(
    ctx: Context,
    filters: core.Filters,
    page: int,
    *,
    after: str | None = None,
    before: str | None = None,
    total: int | None = None,
) -> Reply:
    result = await core.listing(
        ctx.db,
        ctx.actor,
        filters,
        page,
        threshold=ctx.settings.privacy.small_number_threshold,
        after=after,
        before=before,
        total=total,
    )
    if not result.total:
        return Reply.say("agenda.none")
    lines = [
        translate(
            ctx.locale,
            "agenda.list_line",
            number=i.id,
            title=title_of(i, ctx.locale),
            support=i.support_count,
            status=translate(ctx.locale, f"agenda.statuses.{i.status}"),
        )
        for i in result.items
    ]
    reply = Reply(
        title=Msg(
            "agenda.list_title", {"page": result.page, "pages": result.pages, "total": result.total}
        ),
        text=UserText("\n".join(lines)),
    )
    encoded = _encode(filters)
    # each button says where its page starts and how many points the list had (keyset
    # paging, see core.listing): `page:a|b<key>.<total>:filters`
    if result.page > 1:
        reply.buttons.append(
            Button(
                Msg("agenda.buttons.previous"),
                "agenda.page",
                f"{result.page - 1}:b{result.first}.{result.total}:{encoded}",
            )
        )
    if result.page < result.pages:
        reply.buttons.append(
            Button(
                Msg("agenda.buttons.next"),
                "agenda.page",
                f"{result.page + 1}:a{result.last}.{result.total}:{encoded}",
            )
        )
    return reply


@registry.command(
    "agenda lijst",
    "agenda list",
    permission=core.VIEW,
    params=(
        Param("thema", "theme", ParamType.TEXT, max_length=40, choices=_theme_choices()),
        Param("status", "status", ParamType.TEXT, max_length=20, choices=STATUS_CHOICES),
        Param("soort", "kind", ParamType.TEXT, max_length=32, choices=KIND_CHOICES),
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param(
            "sorteer",
            "sort",
            ParamType.TEXT,
            max_length=10,
            choices=(Choice("support", "steun", "support"), Choice("date", "datum", "date")),
        ),
    ),
)
async def listing(
    ctx: Context,
    thema: str | None,
    status: str | None,
    soort: str | None,
    site: str | None,
    sorteer: str | None,
) -> Reply:
    filters = core.Filters(
        theme=thema, status=status, kind=soort, site=site, sort=sorteer or "support"
    )
    return await _page(ctx, filters, 1)


@registry.action("agenda.page", permission=core.VIEW)
async def page_button(ctx: Context, arg: str) -> Reply:
    page, _, rest = arg.partition(":")
    key, _, encoded = rest.partition(":")
    if not encoded and "," in key:  # a button from before keyset paging: `page:filters`
        key, encoded = "", key
    first, second, counted = [*key[1:].split("."), "", "", ""][:3]
    where = f"{first}.{second}" if first and second else None
    return await _page(
        ctx,
        _decode(encoded),
        record_number(page),
        after=where if key.startswith("a") else None,
        before=where if key.startswith("b") else None,
        total=int(counted) if counted.isdigit() else None,
    )


@registry.command(
    "agenda status",
    "agenda status",
    permission=core.MANAGE,
    params=(
        POINT,
        Param(
            "status", "status", ParamType.TEXT, required=True, max_length=20, choices=STATUS_CHOICES
        ),
        Param("reden", "reason", ParamType.TEXT, required=True, max_length=core.MAX_REASON),
    ),
)
async def status_command(ctx: Context, punt: int, status: str, reden: str) -> Reply:
    item = await core.set_status(ctx.db, ctx.actor, punt, status, reden)
    return Reply.say(
        "agenda.status_changed",
        title=title_of(item, ctx.locale),
        status=translate(ctx.locale, f"agenda.statuses.{item.status}"),
    )


@registry.command(
    "agenda koppel",
    "agenda link",
    permission=core.MANAGE,
    params=(
        POINT,
        Param("sessie", "session", ParamType.INTEGER, min_value=1),
        Param("praktijk", "practice", ParamType.INTEGER, min_value=1),
    ),
)
async def link_command(ctx: Context, punt: int, sessie: int | None, praktijk: int | None) -> Reply:
    if (sessie is None) == (praktijk is None):
        raise ValidationFailed("errors.link_one")
    kind, number = ("session", sessie) if sessie is not None else ("practice", praktijk)
    item = await core.link(ctx.db, ctx.actor, punt, kind, number)  # type: ignore[arg-type]
    return Reply.say("agenda.linked", title=title_of(item, ctx.locale))


@registry.command(
    "agenda samenvoegen",
    "agenda merge",
    permission=core.MANAGE,
    params=(
        POINT,
        Param("in_punt", "into_point", ParamType.INTEGER, required=True, min_value=1),
        Param("reden", "reason", ParamType.TEXT, required=True, max_length=core.MAX_REASON),
    ),
)
async def merge_command(ctx: Context, punt: int, in_punt: int, reden: str) -> Reply:
    item = await core.merge(ctx.db, ctx.actor, punt, in_punt, reden)
    return Reply.say(
        "agenda.merged",
        source=punt,
        number=item.id,
        title=title_of(item, ctx.locale),
        count=item.support_count,
    )


@registry.command(
    "agenda verbergen",
    "agenda hide",
    permission=core.MODERATE,
    params=(
        POINT,
        Param("reden", "reason", ParamType.TEXT, required=True, max_length=core.MAX_REASON),
    ),
)
async def hide_command(ctx: Context, punt: int, reden: str) -> Reply:
    done = await core.hide(ctx.db, ctx.actor, punt, reden)
    return Reply.say("agenda.hidden.done", number=done.number, told=done.author_told)


@registry.command("agenda herstellen", "agenda restore", permission=core.MODERATE, params=(POINT,))
async def restore_command(ctx: Context, punt: int) -> Reply:
    done = await core.restore(ctx.db, ctx.actor, punt)
    return Reply.say("agenda.hidden.restored", number=done.number, told=done.author_told)


def _parse_day(text: str | None, field: str, today: date) -> date | None:
    """ "1-11-2026", "1 november", "2026-11-01": the dates people type elsewhere too."""
    if not text:
        return None
    try:
        return parse_day(text, today)
    except ValidationFailed:
        raise ValidationFailed("errors.bad_date", field=field, text=text) from None


def export_name(stem: str, fmt: str, *parts: str | date | None) -> str:
    """A file name that says what was asked: `ontwikkelagenda-europa-2026-11-01-2026-11-30.md`,
    or `ontwikkelagenda-alles.md` for everything."""
    words = []
    for part in parts:
        if part is None or part == "":
            continue
        text = part.isoformat() if isinstance(part, date) else str(part)
        slug = re.sub(
            r"[^a-z0-9]+",
            "-",
            unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower(),
        ).strip("-")
        if slug:
            words.append(slug[:40])
    return f"{stem}-{'-'.join(words) or 'alles'}.{fmt}"


async def export_report(
    ctx: Context,
    fmt: str,
    start: str | None,
    end: str | None,
    site: str | None,
    theme: str | None,
) -> tuple[str, bytes]:
    """The export file (name, bytes); the CLI calls the same function."""
    name, render = await _read_report(ctx, fmt, start, end, site, theme)
    return name, await rendered(render)


async def _read_report(
    ctx: Context,
    fmt: str,
    start: str | None,
    end: str | None,
    site: str | None,
    theme: str | None,
) -> tuple[str, Callable[[], bytes]]:
    """The export's name and how to render it: the data is read here, in the unit of
    work; rendering needs no database."""
    today = ctx.now().astimezone(ctx.settings.tz).date()
    first, last = _parse_day(start, "van", today), _parse_day(end, "tot", today)
    data = await core.report(
        ctx.db,
        ctx.actor,
        ctx.settings,
        start=first,
        end=last,
        site=site,
        theme=theme,
        locale=ctx.locale,
    )
    name = export_name("ontwikkelagenda", fmt, theme, data.site, first, last)
    return name, partial(exports.render, data, fmt, ctx.locale, ctx.settings.exports.csv_delimiter)


@registry.command(
    "agenda export",
    "agenda export",
    permission=core.EXPORT,
    params=(
        Param("formaat", "format", ParamType.TEXT, max_length=5, choices=FORMAT_CHOICES),
        Param("van", "from", ParamType.TEXT, max_length=20),
        Param("tot", "to", ParamType.TEXT, max_length=20),
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param("thema", "theme", ParamType.TEXT, max_length=40, choices=_theme_choices()),
    ),
)
async def export_command(
    ctx: Context,
    formaat: str | None,
    van: str | None,
    tot: str | None,
    site: str | None,
    thema: str | None,
) -> Reply:
    name, render = await _read_report(ctx, formaat or "md", van, tot, site, thema)
    reply = Reply(text=Msg("agenda.export_ready"))
    render_after_commit(
        ctx.after_commit, render, lambda data: reply.attachments.append(Attachment(name, data))
    )
    return reply


# --- scheduled work ----------------------------------------------------------------------


async def publish_job(run: scheduling.JobRun) -> None:
    """One card update at a time per agenda, reading its state in turn (see card_turn)."""
    async with card_turn("agenda", int(run.payload["item_id"])) as latest:
        if latest:
            await _publish_card(run)


async def _publish_card(run: scheduling.JobRun) -> None:
    platform = run.services.get("platform")
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        item = await core.view(
            db,
            None,
            int(run.payload["item_id"]),
            threshold=run.services["settings"].privacy.small_number_threshold,
        )
    if platform is None or community is None:
        return
    channel = item.channel_id or community.agenda_channel_id
    if channel is None:
        return
    name = translate(
        community.locale,
        "agenda.thread_name",
        number=item.id,
        title=title_of(item, community.locale),
    )
    posted = await post_card(
        run,
        platform,
        community,
        channel,
        item.message_id,
        card(item, community.locale, tz=run.services["settings"].tz),
        name,
        intro=thread_intro(run.services["settings"], community.locale),
        key=f"agenda:{item.id}",
    )
    if posted is not None:  # written after Discord confirmed the card and its thread
        async with run.sessionmaker() as db, db.begin():
            row = await db.get(AgendaItem, item.id)
            assert row is not None
            row.channel_id, row.message_id, row.thread_id = posted


async def notify_job(run: scheduling.JobRun) -> None:
    platform = run.services.get("platform")
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        item = await core.view(db, None, int(run.payload["item_id"]))
        row = await db.get(AgendaItem, item.id)
        author = await db.get(Member, row.author_id) if row and row.author_id else None
    if platform is None or community is None or author is None or item.anonymous:
        return
    last = item.history[-1] if item.history else None

    def make(locale: str) -> Reply:
        reply = card(item, locale, tz=run.services["settings"].tz, with_buttons=False)
        reply.text = Msg(
            "agenda.notice_status",
            {
                "title": row.title if row else item.title,  # their own title, privately
                "status": translate(locale, f"agenda.statuses.{item.status}"),
                "reason": last.reason if last else "",
            },
        )
        return reply

    await deliver(run, platform, community, [author], make, community.agenda_channel_id)


async def moderated_job(run: scheduling.JobRun) -> None:
    """Tell the proposer privately, in their language, that a moderator hid (with the
    reason) or restored the text of their point. At most once, even across a restart; when
    their DMs are closed, in a private thread in the agenda channel."""
    platform = run.services.get("platform")
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        row = await db.get(AgendaItem, int(run.payload["item_id"]))
        author = await db.get(Member, row.author_id) if row and row.author_id else None
        item = await core.view(db, None, row.id) if row is not None else None
    if platform is None or community is None or row is None or item is None:
        return
    if row.thread_id:  # the discussion thread was named after the title: it follows
        name = translate(
            community.locale,
            "agenda.thread_name",
            number=item.id,
            title=title_of(item, community.locale),
        )
        await platform.rename_thread(community.platform_id, row.thread_id, name[:100])
    if author is None or row.anonymous:
        return
    hidden = run.payload.get("action") == "hidden"
    params = {"number": row.id, "title": row.title, "reason": run.payload.get("reason", "")}

    def make(locale: str) -> Reply:
        return Reply(
            text=Msg(
                "agenda.hidden.notice_hidden" if hidden else "agenda.hidden.notice_restored", params
            )
        )

    await deliver(run, platform, community, [author], make, community.agenda_channel_id)


JOBS = {
    "agenda.publish": publish_job,
    "agenda.notify": notify_job,
    "agenda.moderated": moderated_job,
}
