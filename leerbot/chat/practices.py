"""The practice log in chat: share (two short forms and a client check), search in Dutch,
read, edit with history, withdraw, link, moderation (hide and restore a practice's text),
export — and the scheduled cards, notices and digest."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import partial

from leerbot import clock, scheduling
from leerbot.chat.commands import Choice, Param, ParamType, id_parts, record_number, registry
from leerbot.chat.context import Context
from leerbot.chat.delivery import card_turn, deliver, post_card, post_once, retry_for
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
from leerbot.config import Settings
from leerbot.core import practices as core
from leerbot.core.community import find_site
from leerbot.core.themes import load_themes
from leerbot.db.models import Community, Member, Practice, SavedSearch, Site
from leerbot.exports import practices as exports
from leerbot.exports.common import render_after_commit
from leerbot.i18n import Msg, translate

NUMBER = Param("nummer", "number", ParamType.INTEGER, required=True, min_value=1)
PART_ONE = ("context", "what_we_do", "expert_role", "why_it_works")
PART_TWO = ("result", "pitfalls", "conditions", "funding")
LEVEL_CHOICES = tuple(
    Choice(
        k, translate("nl", f"agenda.level_choice.{k}"), translate("en", f"agenda.level_choice.{k}")
    )
    for k in core.LEVELS
)
MAX_QUERY = 200


def _theme_choices() -> tuple[Choice, ...]:
    return tuple(Choice(t.key, t.nl[:100], t.en[:100]) for t in load_themes().values())


def _threshold(settings: Settings) -> int:
    return settings.privacy.small_number_threshold


def title_of(item: core.PracticeView, locale: str) -> str:
    """The practice's title, or "hidden by a moderator" while its text is hidden."""
    return translate(locale, "practices.hidden.title") if item.hidden else item.title


def site_of(item: core.PracticeView, locale: str) -> str | None:
    """The site as members may see it: its name, "a pilot site" when an anonymous practice
    comes from a site too small to name (see core.practices), or None."""
    if item.site_withheld:
        return translate(locale, "practices.some_site")
    return item.site


def card(item: core.PracticeView, locale: str) -> Reply:
    fields = [
        Field(Msg(f"exports.practices.field_{name}"), UserText(item.fields[name][:1000]))
        for name in core.TEXT_FIELDS
        if item.fields[name]
    ]
    if not item.hidden:  # no name next to "hidden by a moderator" (see core.practices)
        fields.append(
            Field(
                Msg("practices.card.by"),
                UserText(item.author) if item.author else Msg("practices.card.anonymous"),
                inline=True,
            )
        )
    site = site_of(item, locale)
    if site:
        fields.append(Field(Msg("practices.card.site"), UserText(site), inline=True))
    if item.tags:
        fields.append(
            Field(Msg("practices.card.tags"), UserText(", ".join(item.tags)), inline=True)
        )
    links = [translate(locale, "practices.card.agenda_link", number=n) for n in item.agenda_links]
    links += [translate(locale, "agenda.link_session", number=n) for n in item.session_links]
    if links:
        fields.append(Field(Msg("practices.card.links"), UserText(", ".join(links))))
    if item.revisions:
        fields.append(
            Field(
                Msg("practices.card.edited"),
                Msg("practices.card.revisions", {"count": item.revisions}),
                inline=True,
            )
        )
    text = Msg("practices.card.withdrawn") if item.state == "withdrawn" else None
    if item.hidden:
        text = Msg("practices.hidden.text", {"withdrawn": item.state == "withdrawn"})
    return Reply(
        title=Msg("practices.card.title", {"number": item.id, "title": title_of(item, locale)}),
        text=text,
        fields=fields[:25],
        locale=locale,
    )


def _form_one(arg: str, current: core.PracticeView | None = None) -> Form:
    return Form(
        form_id="practice.part1",
        arg=arg,
        title=Msg("practices.form_one_title"),
        fields=(
            FormField(
                "title",
                Msg("practices.form.title"),
                max_length=100,
                default=current.title if current else None,
            ),
            *(
                FormField(
                    name,
                    Msg(f"practices.form.{name}"),
                    paragraph=True,
                    required=name in core.REQUIRED,
                    max_length=core.TEXT_FIELDS[name],
                    default=current.fields[name] if current else None,
                )
                for name in PART_ONE
            ),
        ),
    )


def _form_two(practice_id: int, current: core.PracticeView | None = None) -> Form:
    return Form(
        form_id="practice.part2",
        arg=str(practice_id),
        title=Msg("practices.form_two_title"),
        fields=(
            *(
                FormField(
                    name,
                    Msg(f"practices.form.{name}"),
                    paragraph=True,
                    required=False,
                    max_length=core.TEXT_FIELDS[name],
                    default=current.fields[name] if current else None,
                )
                for name in PART_TWO
            ),
            FormField(
                "tags",
                Msg("practices.form.tags"),
                required=False,
                max_length=300,
                default=", ".join(current.tags) if current else None,
            ),
        ),
    )


@registry.command(
    "praktijk delen",
    "practice share",
    permission=core.SHARE,
    opens_form=True,
    params=(
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param("thema", "theme", ParamType.TEXT, max_length=40, choices=_theme_choices()),
        Param("niveau", "level", ParamType.TEXT, max_length=32, choices=LEVEL_CHOICES),
        Param("anoniem", "anonymous", ParamType.BOOLEAN),
    ),
)
async def share(
    ctx: Context, site: str | None, thema: str | None, niveau: str | None, anoniem: bool | None
) -> Reply:
    site_id = str((await find_site(ctx.db, ctx.actor, site)).id) if site else ""
    return Reply(form=_form_one(f"new:{site_id}:{thema or ''}:{niveau or ''}:{int(bool(anoniem))}"))


@registry.form("practice.part1", permission=core.SHARE)
async def part_one(ctx: Context, arg: str, values: dict[str, str]) -> Reply:
    kind, _, rest = arg.partition(":")
    if kind == "edit":
        item = await core.edit(
            ctx.db,
            ctx.actor,
            ctx.settings,
            record_number(rest),
            title=values.get("title"),
            fields={k: values.get(k) for k in PART_ONE if k in values},
        )
        reply = card(item, ctx.locale)
        reply.text = Msg("practices.edited")
        return reply
    site_id, theme, level, anonymous = [*rest.split(":"), "", "", "", "0"][:4]
    site_name = None
    if site_id:
        row = await ctx.db.get(Site, record_number(site_id))
        site_name = row.name if row else None
    draft = await core.start_draft(
        ctx.db,
        ctx.actor,
        ctx.settings,
        title=values.get("title", ""),
        site=site_name,
        theme=theme or None,
        level=level or None,
        anonymous=anonymous == "1",
        fields={k: values.get(k) for k in PART_ONE},
    )
    return Reply(
        text=Msg("practices.draft_saved"),
        buttons=[
            Button(
                Msg("practices.buttons.part_two"),
                "practice.part2",
                str(draft.id),
                ButtonStyle.PRIMARY,
            ),
            Button(Msg("practices.buttons.check"), "practice.check", str(draft.id)),
        ],
    )


@registry.action("practice.part2", permission=core.SHARE, opens_form=True)
async def part_two_button(ctx: Context, arg: str) -> Reply:
    item = await core.view(ctx.db, ctx.actor, *id_parts(arg))
    if item.hidden:  # the form would start empty and overwrite the hidden text
        return Reply.error("errors.practice_hidden", number=item.id)
    return Reply(form=_form_two(item.id, item))


@registry.form("practice.part2", permission=core.SHARE)
async def part_two(ctx: Context, arg: str, values: dict[str, str]) -> Reply:
    (practice_id,) = id_parts(arg)
    fields = {k: values.get(k) for k in PART_TWO if k in values}
    item = await core.view(ctx.db, ctx.actor, practice_id)
    if item.state == "draft":
        await core.complete_draft(ctx.db, ctx.actor, practice_id, fields)
        practice = await ctx.db.get(Practice, practice_id)
        assert practice is not None
        practice.tags = core._clean_tags(values.get("tags"))
        return await check(ctx, arg)
    item = await core.edit(
        ctx.db, ctx.actor, ctx.settings, practice_id, fields=fields, tags=values.get("tags")
    )
    reply = card(item, ctx.locale)
    reply.text = Msg("practices.edited")
    return reply


@registry.action("practice.check", permission=core.SHARE)
async def check(ctx: Context, arg: str) -> Reply:
    item = await core.view(ctx.db, ctx.actor, *id_parts(arg), threshold=_threshold(ctx.settings))
    reply = card(item, ctx.locale)
    # shared anonymously from a small site: say before posting that the site is not named
    reply.text = Msg(
        "practices.client_check",
        {"small_site": item.site_withheld, "threshold": _threshold(ctx.settings)},
    )
    reply.buttons = [
        Button(Msg("practices.buttons.confirm"), "practice.confirm", arg, ButtonStyle.SUCCESS),
        Button(Msg("practices.buttons.adjust"), "practice.part2", arg),
        Button(Msg("practices.buttons.discard"), "practice.discard", arg, ButtonStyle.DANGER),
    ]
    return reply


@registry.action("practice.confirm", permission=core.SHARE)
async def confirm(ctx: Context, arg: str) -> Reply:
    item = await core.confirm_and_share(ctx.db, ctx.actor, ctx.settings, *id_parts(arg))
    reply = card(item, ctx.locale)
    similar = await core.similar(ctx.db, ctx.actor, item.id, threshold=_threshold(ctx.settings))
    reply.text = Msg("practices.shared", {"number": item.id})
    if similar:
        reply.fields.append(
            Field(
                Msg("practices.similar"),
                UserText(
                    "\n".join(
                        f"#{s.id} {title_of(s, ctx.locale)} ({site_of(s, ctx.locale) or '-'})"
                        for s in similar
                    )
                ),
            )
        )
    return reply


@registry.action("practice.discard", permission=core.SHARE)
async def discard(ctx: Context, arg: str) -> Reply:
    await core.discard_draft(ctx.db, ctx.actor, *id_parts(arg))
    return Reply.say("practices.discarded")


@registry.command("praktijk bekijken", "practice view", permission=core.VIEW, params=(NUMBER,))
async def show(ctx: Context, nummer: int) -> Reply:
    item = await core.view(ctx.db, ctx.actor, nummer, threshold=_threshold(ctx.settings))
    return card(item, ctx.locale)


@registry.command("praktijk wijzigen", "practice edit", permission=core.SHARE, params=(NUMBER,))
async def edit_command(ctx: Context, nummer: int) -> Reply:
    item = await core.view(ctx.db, ctx.actor, nummer)
    if not item.may_edit:
        return Reply.error("errors.not_your_practice")
    if item.hidden:
        return Reply.error("errors.practice_hidden", number=item.id)
    return Reply(
        text=Msg("practices.edit_which"),
        buttons=[
            Button(Msg("practices.buttons.edit_one"), "practice.edit1", str(nummer)),
            Button(Msg("practices.buttons.edit_two"), "practice.part2", str(nummer)),
        ],
    )


@registry.action("practice.edit1", permission=core.SHARE, opens_form=True)
async def edit_one_button(ctx: Context, arg: str) -> Reply:
    item = await core.view(ctx.db, ctx.actor, *id_parts(arg))
    if not item.may_edit:
        return Reply.error("errors.not_your_practice")
    if item.hidden:  # the form would start empty and overwrite the hidden text
        return Reply.error("errors.practice_hidden", number=item.id)
    return Reply(form=_form_one(f"edit:{item.id}", item))


@registry.command(
    "praktijk intrekken", "practice withdraw", permission=core.SHARE, params=(NUMBER,)
)
async def withdraw_command(ctx: Context, nummer: int) -> Reply:
    item = await core.withdraw(ctx.db, ctx.actor, nummer)
    return Reply.say("practices.withdrawn", title=title_of(item, ctx.locale))


@registry.command(
    "praktijk koppel",
    "practice link",
    permission=core.SHARE,
    params=(NUMBER, Param("sessie", "session", ParamType.INTEGER, required=True, min_value=1)),
)
async def link_command(ctx: Context, nummer: int, sessie: int) -> Reply:
    item = await core.link_session(ctx.db, ctx.actor, nummer, sessie)
    return Reply.say("practices.linked", title=title_of(item, ctx.locale), session=sessie)


@registry.command(
    "praktijk verbergen",
    "practice hide",
    permission=core.MODERATE,
    params=(
        NUMBER,
        Param("reden", "reason", ParamType.TEXT, required=True, max_length=core.MAX_REASON),
    ),
)
async def hide_command(ctx: Context, nummer: int, reden: str) -> Reply:
    done = await core.hide(ctx.db, ctx.actor, nummer, reden)
    return Reply.say("practices.hidden.done", number=done.number, told=done.author_told)


@registry.command(
    "praktijk herstellen", "practice restore", permission=core.MODERATE, params=(NUMBER,)
)
async def restore_command(ctx: Context, nummer: int) -> Reply:
    done = await core.restore(ctx.db, ctx.actor, nummer)
    return Reply.say("practices.hidden.restored", number=done.number, told=done.author_told)


async def _results(
    ctx: Context,
    query: str,
    filters: core.SearchFilters,
    page: int,
    saved: SavedSearch | None = None,
) -> Reply:
    found = await core.search(
        ctx.db, ctx.actor, query, filters, page, threshold=_threshold(ctx.settings)
    )
    if not found.total:
        return Reply.say("practices.no_results", query=query)
    lines = [
        translate(
            ctx.locale,
            "practices.result_line",
            number=p.id,
            title=title_of(p, ctx.locale),
            site=site_of(p, ctx.locale) or "-",
            summary=(p.fields["what_we_do"] or "")[:120],
        )
        for p in found.items
    ]
    reply = Reply(
        title=Msg(
            "practices.results_title",
            {"query": query, "page": found.page, "pages": found.pages, "total": found.total},
        ),
        text=UserText("\n".join(lines)),
    )
    if found.pages > 1 and saved is None:
        saved = await core.save_search(ctx.db, ctx.actor, ctx.settings, query, filters)
    if saved is not None:
        if found.page > 1:
            reply.buttons.append(
                Button(
                    Msg("agenda.buttons.previous"), "practice.page", f"{saved.id}:{found.page - 1}"
                )
            )
        if found.page < found.pages:
            reply.buttons.append(
                Button(Msg("agenda.buttons.next"), "practice.page", f"{saved.id}:{found.page + 1}")
            )
    return reply


@registry.command(
    "praktijk zoek",
    "practice search",
    permission=core.VIEW,
    params=(
        Param("vraag", "query", ParamType.TEXT, required=True, max_length=MAX_QUERY),
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param("thema", "theme", ParamType.TEXT, max_length=40, choices=_theme_choices()),
        Param("niveau", "level", ParamType.TEXT, max_length=32, choices=LEVEL_CHOICES),
        Param("tag", "tag", ParamType.TEXT, max_length=40),
    ),
)
async def search_command(
    ctx: Context,
    vraag: str,
    site: str | None,
    thema: str | None,
    niveau: str | None,
    tag: str | None,
) -> Reply:
    return await _results(ctx, vraag, core.SearchFilters(site, thema, niveau, tag), 1)


@registry.action("practice.page", permission=core.VIEW)
async def page_button(ctx: Context, arg: str) -> Reply:
    saved_id, _, page = arg.partition(":")
    found = await core.saved_search(ctx.db, ctx.actor, record_number(saved_id))
    if found is None:
        return Reply.error("errors.unknown_button")
    saved, filters = found
    return await _results(ctx, saved.query, filters, record_number(page or 1), saved=saved)


async def export_practices(
    ctx: Context, fmt: str, site: str | None, theme: str | None
) -> tuple[str, Callable[[], bytes]]:
    """The export's name and how to render it: the practices are read here, in the unit
    of work; rendering needs no database."""
    items = await core.for_export(
        ctx.db, ctx.actor, site=site, theme=theme, threshold=_threshold(ctx.settings)
    )
    title = translate(ctx.locale, "exports.practices.title", community=ctx.community.name)
    themes = {k: v.name(ctx.locale) for k, v in load_themes(ctx.settings.content_dir).items()}
    render = partial(
        exports.render,
        items,
        fmt,
        ctx.locale,
        title,
        community=ctx.community.name,
        theme_names=themes,
        tz=ctx.settings.tz,
        delimiter=ctx.settings.exports.csv_delimiter,
    )
    return f"praktijken.{fmt}", render


@registry.command(
    "praktijk export",
    "practice export",
    permission=core.EXPORT,
    params=(
        Param(
            "formaat",
            "format",
            ParamType.TEXT,
            max_length=5,
            choices=tuple(Choice(f, f, f) for f in exports.FORMATS),
        ),
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param("thema", "theme", ParamType.TEXT, max_length=40, choices=_theme_choices()),
    ),
)
async def export_command(
    ctx: Context, formaat: str | None, site: str | None, thema: str | None
) -> Reply:
    name, render = await export_practices(ctx, formaat or "md", site, thema)
    reply = Reply(text=Msg("practices.export_ready"))
    render_after_commit(
        ctx.after_commit, render, lambda data: reply.attachments.append(Attachment(name, data))
    )
    return reply


# --- scheduled work ----------------------------------------------------------------------


async def publish_job(run: scheduling.JobRun) -> None:
    """One card update at a time per practice, reading its state in turn (see card_turn)."""
    async with card_turn("practice", int(run.payload["practice_id"])) as latest:
        if latest:
            await _publish_card(run)


async def _publish_card(run: scheduling.JobRun) -> None:
    platform = run.services.get("platform")
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        item = await core.view(
            db,
            None,
            int(run.payload["practice_id"]),
            threshold=_threshold(run.services["settings"]),
        )
    if platform is None or community is None:
        return
    channel = item.channel_id or community.practices_channel_id
    if channel is None or (item.state != "shared" and not item.message_id):
        return
    name = translate(
        community.locale, "practices.thread_name", title=title_of(item, community.locale)
    )
    posted = await post_card(
        run,
        platform,
        community,
        channel,
        item.message_id,
        card(item, community.locale),
        name,
        intro=thread_intro(run.services["settings"], community.locale),
        key=f"practice:{item.id}",
    )
    if posted is not None:  # written after Discord confirmed the card and its thread
        async with run.sessionmaker() as db, db.begin():
            row = await db.get(Practice, item.id)
            assert row is not None
            row.channel_id, row.message_id, row.thread_id = posted


async def digest_job(run: scheduling.JobRun) -> None:
    platform = run.services.get("platform")
    settings = run.services["settings"]
    since = clock.now() - timedelta(days=int(run.payload.get("since_days", 7)))
    async with run.sessionmaker() as db, db.begin():
        community = await db.get(Community, run.community_id)
        per_site = await core.digest(db, run.community_id, since, threshold=_threshold(settings))
        await core.schedule_digest(db, run.community_id, settings)
    if platform is None or community is None or not community.practices_channel_id:
        return
    if not per_site:
        return
    locale = community.locale
    fields = [
        Field(
            UserText(
                translate(locale, "practices.some_site")
                if site is None
                else site or translate(locale, "practices.no_site")
            ),
            UserText(
                "\n".join(
                    translate(
                        locale,
                        "practices.digest_line",
                        number=item.id,
                        title=title_of(item, locale),
                        new=is_new,
                    )
                    for item, is_new in items
                )[:1000]
            ),
        )
        for site, items in per_site.items()
    ][:25]
    await post_once(
        run.sessionmaker,
        platform,
        community,
        key=run.key,
        channel_id=community.practices_channel_id,
        reply=Reply(
            title=Msg("practices.digest_title"),
            text=Msg(
                "practices.digest_intro", {"since": when(since.astimezone(settings.tz), locale)}
            ),
            fields=fields,
            locale=locale,
        ),
        retry=await retry_for(run),
        job_key=run.key,
    )


async def moderated_job(run: scheduling.JobRun) -> None:
    """Tell the author privately, in their language, that a moderator hid (with the reason)
    or restored the text of their practice. At most once, even across a restart; when their
    DMs are closed, in a private thread in the practices channel."""
    platform = run.services.get("platform")
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        row = await db.get(Practice, int(run.payload["practice_id"]))
        author = await db.get(Member, row.author_id) if row and row.author_id else None
        item = await core.view(db, None, row.id) if row is not None else None
    if platform is None or community is None or row is None or item is None:
        return
    if row.thread_id:  # the discussion thread was named after the title: it follows
        name = translate(
            community.locale, "practices.thread_name", title=title_of(item, community.locale)
        )
        await platform.rename_thread(community.platform_id, row.thread_id, name[:100])
    if author is None or row.anonymous:
        return
    hidden = run.payload.get("action") == "hidden"
    params = {"number": row.id, "title": row.title, "reason": run.payload.get("reason", "")}

    def make(locale: str) -> Reply:
        key = "practices.hidden.notice_hidden" if hidden else "practices.hidden.notice_restored"
        return Reply(text=Msg(key, params))

    await deliver(run, platform, community, [author], make, community.practices_channel_id)


JOBS = {
    "practice.publish": publish_job,
    "practice.digest": digest_job,
    "practice.moderated": moderated_job,
}
