"""Commands for the community core: setup, functions, audit trail, sites and profiles."""

from __future__ import annotations

from leerbot.chat.commands import Choice, MemberRef, Param, ParamType, registry
from leerbot.chat.context import Context
from leerbot.chat.dispatch import localized_field
from leerbot.chat.reply import (
    Button,
    ButtonStyle,
    Field,
    Form,
    FormField,
    Mention,
    Reply,
    UserText,
)
from leerbot.core import audit
from leerbot.core import community as core
from leerbot.core.actor import MemberRole
from leerbot.core.permissions import Action
from leerbot.i18n import Msg, has_key, list_and, translate

LANGUAGE_CHOICES = (Choice("nl", "Nederlands", "Dutch"), Choice("en", "Engels", "English"))
ROLE_CHOICES = (
    Choice(MemberRole.EXPERT_BY_EXPERIENCE.value, "ervaringsdeskundige", "expert by experience"),
    Choice(MemberRole.PROFESSIONAL.value, "professional", "professional"),
    Choice("geen", "zeg ik liever niet", "rather not say"),
)
KIND_CHOICES = tuple(
    Choice(
        kind, translate("nl", f"community.kinds.{kind}"), translate("en", f"community.kinds.{kind}")
    )
    for kind in core.ORGANISATION_KINDS
)


def _channel(value: str | None) -> Msg | Mention:
    return Mention("channel", value) if value else Msg("community.setup.not_set")


def _role(value: str | None) -> Msg | Mention:
    return Mention("role", value) if value else Msg("community.setup.not_set")


def _setup_reply(view: core.SetupView, key: str) -> Reply:
    return Reply(
        title=Msg("community.setup.title"),
        text=Msg(key),
        fields=[
            Field(Msg("community.setup.announcements"), _channel(view.announcement_channel_id)),
            Field(Msg("community.setup.agenda"), _channel(view.agenda_channel_id)),
            Field(Msg("community.setup.sessions"), _channel(view.sessions_channel_id)),
            Field(Msg("community.setup.practices"), _channel(view.practices_channel_id)),
            Field(Msg("community.setup.moderator_role"), _role(view.moderator_role_id)),
            Field(Msg("community.setup.coordinator_role"), _role(view.coordinator_role_id)),
            Field(Msg("community.setup.language"), Msg(f"languages.{view.locale}")),
        ],
    )


@registry.command(
    "leerbot setup",
    "leerbot setup",
    permission=Action.SETUP_COMMUNITY,
    params=(
        Param("aankondigingen", "announcements", ParamType.CHANNEL),
        Param("agenda", "agenda", ParamType.CHANNEL),
        Param("sessies", "sessions", ParamType.CHANNEL),
        Param("praktijken", "practices", ParamType.CHANNEL),
        Param("moderatorrol", "moderator_role", ParamType.ROLE),
        Param("coordinatorrol", "coordinator_role", ParamType.ROLE),
        Param("taal", "language", ParamType.TEXT, max_length=2, choices=LANGUAGE_CHOICES),
    ),
)
async def setup(
    ctx: Context,
    aankondigingen: str | None,
    agenda: str | None,
    sessies: str | None,
    praktijken: str | None,
    moderatorrol: str | None,
    coordinatorrol: str | None,
    taal: str | None,
) -> Reply:
    values = {
        "announcement_channel_id": aankondigingen,
        "agenda_channel_id": agenda,
        "sessions_channel_id": sessies,
        "practices_channel_id": praktijken,
        "moderator_role_id": moderatorrol,
        "coordinator_role_id": coordinatorrol,
    }
    if all(v is None for v in values.values()) and taal is None:
        return _setup_reply(await core.setup_view(ctx.db, ctx.actor), "community.setup.current")
    view = await core.configure(ctx.db, ctx.actor, locale=taal, **values)
    return _setup_reply(view, "community.setup.saved")


@registry.command(
    "leerbot functie",
    "leerbot tasks",
    permission=Action.ASSIGN_FUNCTIONS,
    params=(
        Param("lid", "member", ParamType.MEMBER, required=True),
        Param("moderator", "moderator", ParamType.BOOLEAN),
        Param("coordinator", "coordinator", ParamType.BOOLEAN),
    ),
)
async def assign_function(
    ctx: Context, lid: MemberRef, moderator: bool | None, coordinator: bool | None
) -> Reply:
    member = await core.set_functions(
        ctx.db, ctx.actor, lid.platform_id, moderator=moderator, coordinator=coordinator
    )
    return Reply.say(
        "community.functions.saved",
        name=member.display_name,
        moderator=member.is_moderator,
        coordinator=member.is_coordinator,
    )


@registry.command(
    "leerbot logboek",
    "leerbot auditlog",
    permission=Action.VIEW_AUDIT,
    params=(Param("aantal", "count", ParamType.INTEGER, min_value=1, max_value=50),),
)
async def audit_log(ctx: Context, aantal: int | None) -> Reply:
    lines = await audit.recent(ctx.db, ctx.actor, limit=aantal or 15)
    if not lines:
        return Reply.say("community.audit.empty")
    rendered = [
        translate(
            ctx.locale,
            "community.audit.line",
            when=line.when.astimezone(ctx.settings.tz).strftime("%Y-%m-%d %H:%M"),
            who=line.actor_name,
            what=audit_what(line, ctx.locale),
        )
        for line in lines
    ]
    return Reply(title=Msg("community.audit.title"), text=UserText("\n".join(rendered)))


def _words(prefix: str, key: object, locale: str) -> str:
    """A vocabulary key (`in_uitvoering`, `inbrenger`) in words; never the key itself."""
    full = f"{prefix}.{key}"
    return translate(locale, full) if has_key(full) else str(key).replace("_", " ")


def audit_what(line: audit.AuditLine, locale: str) -> str:
    """What an audit entry says happened, in words (`proeftuin De Achterkant verwijderd`),
    from `community.audit.actions.<action>`; an action without words of its own still says
    what kind of thing changed. Every name a template may use is always given."""
    d = line.details
    gone = "gone_member" if line.target_type == "member" else "gone_site"
    link_type, _, link_number = str(d.get("target") or "").partition(":")
    count = d.get("recipients", d.get("occurrences"))
    words = {
        "number": line.target_id,
        "target": line.target_name or translate(locale, f"community.audit.{gone}"),
        "member": line.member_name or translate(locale, "community.audit.gone_member"),
        "own": line.own,
        "name": d.get("name"),
        "title": d.get("title"),
        "fields": list_and(
            [localized_field(str(f), locale) for f in d.get("fields") or []], locale
        ),
        "from_status": _words("agenda.statuses", d.get("from_status"), locale),
        "to_status": _words("agenda.statuses", d.get("to_status"), locale),
        "link": translate(locale, f"agenda.link_{link_type}", number=link_number)
        if link_type in ("session", "practice")
        else "",
        "into": d.get("into"),
        "group": _words("community.groups", d.get("role"), locale),
        "role": _words("sessions.roles", d.get("role"), locale),
        "count": count if isinstance(count, int) else None,
        "moderator": bool(d.get("moderator")),
        "coordinator": bool(d.get("coordinator")),
        "whole_series": bool(d.get("whole_series")),
        "attended": bool(d.get("attended")),
        "answer": d.get("number"),
        "kind": d.get("kind"),
    }
    key = f"community.audit.actions.{line.action}"
    if has_key(key):
        return translate(locale, key, **words)
    thing = line.target_type if has_key(f"community.audit.things.{line.target_type}") else "unknown"
    return translate(
        locale,
        "community.audit.other",
        thing=translate(locale, f"community.audit.things.{thing}"),
        number=line.target_id if line.target_type not in ("site", "member", "community") else None,
    )


# --- sites -------------------------------------------------------------------------------

SITE_PARAM = Param("site", "site", ParamType.TEXT, required=True, max_length=100)


@registry.command(
    "site toevoegen",
    "site add",
    permission=Action.MANAGE_SITES,
    params=(
        Param("naam", "name", ParamType.TEXT, required=True, max_length=100),
        Param("plaats", "city", ParamType.TEXT, max_length=100),
        Param("organisatie", "organisation", ParamType.TEXT, max_length=100),
        Param("soort", "kind", ParamType.TEXT, max_length=20, choices=KIND_CHOICES),
        Param("beschrijving", "description", ParamType.TEXT, max_length=500),
    ),
)
async def site_add(
    ctx: Context,
    naam: str,
    plaats: str | None,
    organisatie: str | None,
    soort: str | None,
    beschrijving: str | None,
) -> Reply:
    site = await core.add_site(
        ctx.db,
        ctx.actor,
        name=naam,
        city=plaats,
        organisation=organisatie,
        organisation_kind=soort,
        description=beschrijving,
    )
    return Reply.say("community.site.added", name=site.name)


@registry.command("site lijst", "site list", permission=Action.VIEW_SITES)
async def site_list(ctx: Context) -> Reply:
    sites = await core.list_sites(ctx.db, ctx.actor)
    if not sites:
        return Reply.say("community.site.none")
    fields = [
        Field(
            UserText(site.name),
            Msg(
                "community.site.line",
                {
                    "city": site.city,
                    "organisation": site.organisation,
                    "members": site.member_count,
                    "description": site.description,
                },
            ),
        )
        for site in sites[:25]
    ]
    return Reply(title=Msg("community.site.list_title", {"count": len(sites)}), fields=fields)


@registry.command(
    "site wijzigen",
    "site edit",
    permission=Action.MANAGE_SITES,
    params=(
        SITE_PARAM,
        Param("naam", "name", ParamType.TEXT, max_length=100),
        Param("plaats", "city", ParamType.TEXT, max_length=100),
        Param("beschrijving", "description", ParamType.TEXT, max_length=500),
    ),
)
async def site_edit(
    ctx: Context, site: str, naam: str | None, plaats: str | None, beschrijving: str | None
) -> Reply:
    view = await core.edit_site(
        ctx.db, ctx.actor, site, name=naam, city=plaats, description=beschrijving
    )
    return Reply.say("community.site.edited", name=view.name)


@registry.command(
    "site kanaal",
    "site channel",
    permission=Action.MANAGE_SITES,
    params=(SITE_PARAM, Param("kanaal", "channel", ParamType.CHANNEL, required=True)),
)
async def site_channel(ctx: Context, site: str, kanaal: str) -> Reply:
    found = await core.set_site_channel(ctx.db, ctx.actor, site, kanaal)
    return Reply(
        text=Msg("community.site.channel_set", {"name": found.name}),
        fields=[Field(Msg("community.place"), Mention("channel", kanaal))],
    )


PLACE_ROLE_CHOICES = (
    Choice("ervaringsdeskundige", "ervaringsdeskundigen", "experts by experience"),
    Choice("professional", "professionals", "professionals"),
    Choice("moderator", "moderatoren", "moderators"),
    Choice("coordinator", "coördinatoren", "coordinators"),
)


@registry.command(
    "leerbot rolkanaal",
    "leerbot rolechannel",
    permission=Action.SETUP_COMMUNITY,
    params=(
        Param(
            "rol", "role", ParamType.TEXT, required=True, max_length=20, choices=PLACE_ROLE_CHOICES
        ),
        Param("kanaal", "channel", ParamType.CHANNEL, required=True),
    ),
)
async def role_channel(ctx: Context, rol: str, kanaal: str) -> Reply:
    await core.set_role_channel(ctx.db, ctx.actor, rol, kanaal)
    return Reply(
        text=Msg(
            "community.role_channel_set", {"group": _words("community.groups", rol, ctx.locale)}
        ),
        fields=[Field(Msg("community.place"), Mention("channel", kanaal))],
    )


@registry.command(
    "site verwijderen", "site remove", permission=Action.MANAGE_SITES, params=(SITE_PARAM,)
)
async def site_remove(ctx: Context, site: str) -> Reply:
    name = await core.remove_site(ctx.db, ctx.actor, site)
    return Reply.say("community.site.removed", name=name)


# --- profiles ----------------------------------------------------------------------------


def _profile_reply(view: core.ProfileView, key: str | None = None) -> Reply:
    fields = [
        Field(
            Msg("community.profile.role"),
            Msg(f"roles.{view.role}") if view.role else Msg("community.profile.not_given"),
            inline=True,
        ),
        Field(
            Msg("community.profile.site"),
            UserText(view.site) if view.site else Msg("community.profile.not_given"),
            inline=True,
        ),
    ]
    if view.functions:
        fields.append(
            Field(
                Msg("community.profile.functions"),
                Msg("community.profile.function_list", {"functions": list(view.functions)}),
                inline=True,
            )
        )
    if view.is_own:
        fields.append(
            Field(
                Msg("community.profile.language"),
                Msg(f"languages.{view.locale}") if view.locale else Msg("community.profile.auto"),
                inline=True,
            )
        )
    if view.lived_experience is not None:
        fields.append(Field(Msg("community.profile.experience"), UserText(view.lived_experience)))
    if view.is_own:
        fields.append(
            Field(
                Msg("community.profile.experience_visibility"),
                Msg(
                    "community.profile.shared"
                    if view.share_lived_experience
                    else "community.profile.private"
                ),
            )
        )
    reply = Reply(
        title=Msg("community.profile.title", {"name": view.display_name}),
        text=Msg(key) if key else None,
        fields=fields,
    )
    if view.is_own:
        reply.buttons.append(
            Button(
                Msg("community.profile.edit_experience"),
                "profile.experience",
                style=ButtonStyle.SECONDARY,
            )
        )
    return reply


@registry.command(
    "profiel bekijken",
    "profile view",
    permission=Action.VIEW_PROFILES,
    params=(Param("lid", "member", ParamType.MEMBER),),
)
async def profile_view(ctx: Context, lid: MemberRef | None) -> Reply:
    view = await core.view_profile(ctx.db, ctx.actor, lid.platform_id if lid else None)
    return _profile_reply(view)


@registry.command(
    "profiel instellen",
    "profile set",
    permission=Action.EDIT_OWN_PROFILE,
    params=(
        Param("rol", "role", ParamType.TEXT, max_length=32, choices=ROLE_CHOICES),
        Param("site", "site", ParamType.TEXT, max_length=100),
        Param("taal", "language", ParamType.TEXT, max_length=2, choices=LANGUAGE_CHOICES),
        Param("ervaring_delen", "share_experience", ParamType.BOOLEAN),
    ),
)
async def profile_set(
    ctx: Context,
    rol: str | None,
    site: str | None,
    taal: str | None,
    ervaring_delen: bool | None,
) -> Reply:
    changes: dict[str, object] = {}
    if rol is not None:
        changes["role"] = rol
    if site is not None:
        changes["site"] = site
    if taal is not None:
        changes["locale"] = taal
    if ervaring_delen is not None:
        changes["share_lived_experience"] = ervaring_delen
    view = await core.update_profile(ctx.db, ctx.actor, **changes)  # type: ignore[arg-type]
    reply = _profile_reply(
        view, "community.profile.saved" if view.changed else "community.profile.unchanged"
    )
    if taal is not None:
        reply.locale = taal
    return reply


def _experience_form(current: str | None) -> Form:
    return Form(
        form_id="profile.experience",
        title=Msg("community.profile.experience_form_title"),
        fields=(
            FormField(
                name="ervaring",
                label=Msg("community.profile.experience_form_label"),
                paragraph=True,
                required=False,
                max_length=core.LIVED_EXPERIENCE_MAX,
                default=current,
                placeholder=Msg("community.profile.experience_form_placeholder"),
            ),
        ),
    )


@registry.command(
    "profiel ervaring",
    "profile experience",
    permission=Action.EDIT_OWN_PROFILE,
    opens_form=True,
)
async def profile_experience(ctx: Context) -> Reply:
    view = await core.view_profile(ctx.db, ctx.actor)
    return Reply(form=_experience_form(view.lived_experience))


@registry.action("profile.experience", permission=Action.EDIT_OWN_PROFILE, opens_form=True)
async def profile_experience_button(ctx: Context, _arg: str) -> Reply:
    return await profile_experience(ctx)


@registry.form("profile.experience", permission=Action.EDIT_OWN_PROFILE)
async def profile_experience_saved(ctx: Context, _arg: str, values: dict[str, str]) -> Reply:
    view = await core.update_profile(ctx.db, ctx.actor, lived_experience=values.get("ervaring", ""))
    return _profile_reply(
        view,
        "community.profile.experience_saved" if view.changed else "community.profile.unchanged",
    )
