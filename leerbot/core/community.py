"""The community core: communities, organisations, pilot sites, members and profiles."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from leerbot.core import audit
from leerbot.core.actor import Actor, Function, Identity, MemberRole
from leerbot.core.errors import Conflict, NotFound, ValidationFailed
from leerbot.core.permissions import Action, require
from leerbot.core.validation import clean_text, name_key
from leerbot.db.models import Community, Member, Organisation, Site
from leerbot.i18n import LOCALES, normalize_locale

ORGANISATION_KINDS: tuple[str, ...] = (
    "verslavingszorg",
    "ggz",
    "mo",
    "vo",
    "bw",
    "fz",
    "sociaal_domein",
    "clientenorganisatie",
    "welzijn",
    "herstelacademie",
)
"""Kinds of organisation (Valente 2023, and the client organisations, welfare work and
recovery colleges the other sources name); shown in words (prompts `community.kinds`)."""
LIVED_EXPERIENCE_MAX = 1000


# --- communities -------------------------------------------------------------------------


async def get_or_create_community(
    db: AsyncSession, platform_id: str, name: str, locale: str = "nl"
) -> Community:
    """The community for a Discord server (or the console), created on first contact."""
    community = await db.scalar(select(Community).where(Community.platform_id == platform_id))
    if community is not None:
        return community
    community = Community(platform_id=platform_id, name=name[:100] or "Community", locale=locale)
    try:
        async with db.begin_nested():
            db.add(community)
    except IntegrityError:  # created by a concurrent first contact
        community = await db.scalar(select(Community).where(Community.platform_id == platform_id))
        assert community is not None
    return community


@dataclass(frozen=True)
class SetupView:
    name: str
    locale: str
    announcement_channel_id: str | None
    agenda_channel_id: str | None
    sessions_channel_id: str | None
    practices_channel_id: str | None
    moderator_role_id: str | None
    coordinator_role_id: str | None


def _setup_view(community: Community) -> SetupView:
    return SetupView(
        name=community.name,
        locale=community.locale,
        announcement_channel_id=community.announcement_channel_id,
        agenda_channel_id=community.agenda_channel_id,
        sessions_channel_id=community.sessions_channel_id,
        practices_channel_id=community.practices_channel_id,
        moderator_role_id=community.moderator_role_id,
        coordinator_role_id=community.coordinator_role_id,
    )


SETUP_FIELDS = (
    "announcement_channel_id",
    "agenda_channel_id",
    "sessions_channel_id",
    "practices_channel_id",
    "moderator_role_id",
    "coordinator_role_id",
)


async def configure(
    db: AsyncSession, actor: Actor, *, locale: str | None = None, **channels_and_roles: str | None
) -> SetupView:
    """Set which channels and roles the bot uses (coordinators). Unset keys stay as they are."""
    require(actor, Action.SETUP_COMMUNITY)
    community = await db.get(Community, actor.community_id)
    assert community is not None
    changed: list[str] = []
    for key, value in channels_and_roles.items():
        if key not in SETUP_FIELDS:
            raise ValidationFailed("errors.unknown_setting", field=key)
        if value is not None and getattr(community, key) != value:
            setattr(community, key, value)
            changed.append(key)
    if locale is not None:
        if locale not in LOCALES:
            raise ValidationFailed(
                "errors.bad_choice", field="language", choices=", ".join(LOCALES)
            )
        if community.locale != locale:
            community.locale = locale
            changed.append("locale")
    if changed:
        await audit.record(
            db, actor, "community.configured", "community", community.id, fields=sorted(changed)
        )
    return _setup_view(community)


async def setup_view(db: AsyncSession, actor: Actor) -> SetupView:
    require(actor, Action.SETUP_COMMUNITY)
    community = await db.get(Community, actor.community_id)
    assert community is not None
    return _setup_view(community)


# --- members and actors ------------------------------------------------------------------


async def resolve_actor(db: AsyncSession, community: Community, identity: Identity) -> Actor:
    """Turn the platform's facts into an Actor; a first-time member gets a minimal row.

    Server admins are coordinators; the configured Discord roles grant functions too.
    """
    member = await db.scalar(
        select(Member).where(
            Member.community_id == community.id, Member.platform_id == identity.platform_id
        )
    )
    display_name = (identity.display_name or identity.platform_id)[:100]
    if member is None:
        member = Member(
            community_id=community.id,
            platform_id=identity.platform_id,
            display_name=display_name,
            is_moderator=False,
            is_coordinator=False,
            share_lived_experience=False,
        )
        try:
            async with db.begin_nested():
                db.add(member)
        except IntegrityError:
            member = await db.scalar(
                select(Member).where(
                    Member.community_id == community.id,
                    Member.platform_id == identity.platform_id,
                )
            )
            assert member is not None
    elif identity.in_community and member.display_name != display_name:
        member.display_name = display_name
    if identity.locale_hint:
        seen_locale = normalize_locale(identity.locale_hint)
        if member.platform_locale != seen_locale:
            member.platform_locale = seen_locale
    functions: set[Function] = set(identity.granted_functions)
    if (
        member.is_coordinator
        or identity.is_platform_admin
        or (
            community.coordinator_role_id
            and community.coordinator_role_id in identity.platform_role_ids
        )
    ):
        functions.add(Function.COORDINATOR)
    if member.is_moderator or (
        community.moderator_role_id and community.moderator_role_id in identity.platform_role_ids
    ):
        functions.add(Function.MODERATOR)
    locale = member.locale or (
        normalize_locale(identity.locale_hint) if identity.locale_hint else community.locale
    )
    return Actor(
        member_id=member.id,
        community_id=community.id,
        platform_id=member.platform_id,
        display_name=member.display_name,
        locale=locale,
        role=MemberRole(member.role) if member.role else None,
        functions=frozenset(functions),
        site_id=member.site_id,
    )


async def find_member(db: AsyncSession, actor: Actor, platform_id: str) -> Member:
    member = await db.scalar(
        select(Member).where(
            Member.community_id == actor.community_id, Member.platform_id == platform_id
        )
    )
    if member is None:
        raise NotFound("errors.member_not_found")
    return member


async def set_functions(
    db: AsyncSession,
    actor: Actor,
    target_platform_id: str,
    *,
    moderator: bool | None = None,
    coordinator: bool | None = None,
) -> Member:
    """Make someone moderator or coordinator, or take it back (coordinators only)."""
    require(actor, Action.ASSIGN_FUNCTIONS)
    if moderator is None and coordinator is None:
        raise ValidationFailed("errors.nothing_to_change")
    member = await find_member(db, actor, target_platform_id)
    if coordinator is False and member.id == actor.member_id:
        raise ValidationFailed("errors.cannot_remove_own_coordinator")
    if moderator is not None:
        member.is_moderator = moderator
    if coordinator is not None:
        member.is_coordinator = coordinator
    await audit.record(
        db,
        actor,
        "member.functions",
        "member",
        member.id,
        moderator=member.is_moderator,
        coordinator=member.is_coordinator,
    )
    return member


# --- organisations and sites -------------------------------------------------------------


@dataclass(frozen=True)
class SiteView:
    id: int
    name: str
    city: str | None
    organisation: str | None
    organisation_kinds: tuple[str, ...]
    description: str | None
    member_count: int


async def _organisation(
    db: AsyncSession, actor: Actor, name: str, kind: str | None
) -> Organisation:
    org = await db.scalar(
        select(Organisation).where(
            Organisation.community_id == actor.community_id,
            Organisation.name_key == name_key(name),
        )
    )
    if kind is not None and kind not in ORGANISATION_KINDS:
        raise ValidationFailed(
            "errors.bad_choice", field="kind", choices=", ".join(ORGANISATION_KINDS)
        )
    if org is None:
        org = Organisation(
            community_id=actor.community_id,
            name=name,
            name_key=name_key(name),
            kinds=[kind] if kind else [],
        )
        db.add(org)
        await db.flush()
        await audit.record(db, actor, "organisation.added", "organisation", org.id, name=name)
    elif kind and kind not in org.kinds:
        org.kinds = [*org.kinds, kind]
    return org


async def add_site(
    db: AsyncSession,
    actor: Actor,
    *,
    name: str,
    city: str | None = None,
    organisation: str | None = None,
    organisation_kind: str | None = None,
    description: str | None = None,
) -> SiteView:
    require(actor, Action.MANAGE_SITES)
    clean_name = clean_text(name, field="name", max_length=100)
    assert clean_name is not None
    clean_city = clean_text(city, field="city", max_length=100, required=False)
    clean_org = clean_text(organisation, field="organisation", max_length=100, required=False)
    clean_description = clean_text(description, field="description", max_length=500, required=False)
    if organisation_kind and not clean_org:
        raise ValidationFailed("errors.kind_needs_organisation")
    existing = await db.scalar(
        select(Site.id).where(
            Site.community_id == actor.community_id, Site.name_key == name_key(clean_name)
        )
    )
    if existing is not None:
        raise Conflict("errors.site_exists", name=clean_name)
    org = await _organisation(db, actor, clean_org, organisation_kind) if clean_org else None
    site = Site(
        community_id=actor.community_id,
        name=clean_name,
        name_key=name_key(clean_name),
        city=clean_city,
        organisation=org,
        description=clean_description,
    )
    db.add(site)
    try:
        async with db.begin_nested():
            await db.flush()
    except IntegrityError:
        raise Conflict("errors.site_exists", name=clean_name) from None
    await audit.record(db, actor, "site.added", "site", site.id, name=clean_name)
    return _site_view(site, 0)


def _site_view(site: Site, member_count: int) -> SiteView:
    return SiteView(
        id=site.id,
        name=site.name,
        city=site.city,
        organisation=site.organisation.name if site.organisation else None,
        organisation_kinds=tuple(site.organisation.kinds) if site.organisation else (),
        description=site.description,
        member_count=member_count,
    )


async def find_site(db: AsyncSession, actor: Actor, name: str) -> Site:
    site = await db.scalar(
        select(Site).where(Site.community_id == actor.community_id, Site.name_key == name_key(name))
    )
    if site is None:
        known = await db.scalars(
            select(Site.name).where(Site.community_id == actor.community_id).order_by(Site.name)
        )
        names = ", ".join(known)
        raise NotFound("errors.site_not_found", name=name.strip(), known=names)
    return site


PLACE_ROLES = ("ervaringsdeskundige", "professional", "moderator", "coordinator")


async def set_site_channel(db: AsyncSession, actor: Actor, name: str, channel_id: str) -> Site:
    """The channel where a pilot site meets: a site round's summary is published there."""
    require(actor, Action.MANAGE_SITES)
    site = await find_site(db, actor, name)
    if site.channel_id != channel_id:
        site.channel_id = channel_id
        await audit.record(db, actor, "site.channel_set", "site", site.id)
    return site


async def set_role_channel(db: AsyncSession, actor: Actor, role: str, channel_id: str) -> None:
    """The channel where members of one role meet: a role round's summary goes there."""
    require(actor, Action.SETUP_COMMUNITY)
    if role not in PLACE_ROLES:
        raise ValidationFailed("errors.bad_choice", field="role", choices=", ".join(PLACE_ROLES))
    community = await db.get(Community, actor.community_id)
    assert community is not None
    channels = dict(community.role_channels or {})
    if channels.get(role) != channel_id:
        channels[role] = channel_id
        community.role_channels = channels
        await audit.record(
            db, actor, "community.role_channel_set", "community", community.id, role=role
        )


async def list_sites(db: AsyncSession, actor: Actor) -> list[SiteView]:
    require(actor, Action.VIEW_SITES)
    counts = (
        select(Member.site_id, func.count(Member.id).label("n"))
        .where(Member.community_id == actor.community_id)
        .group_by(Member.site_id)
        .subquery()
    )
    rows = await db.execute(
        select(Site, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.site_id == Site.id)
        .where(Site.community_id == actor.community_id)
        .order_by(Site.name_key)
    )
    return [_site_view(site, int(n)) for site, n in rows]


async def edit_site(
    db: AsyncSession,
    actor: Actor,
    site_name: str,
    *,
    name: str | None = None,
    city: str | None = None,
    description: str | None = None,
) -> SiteView:
    require(actor, Action.MANAGE_SITES)
    site = await find_site(db, actor, site_name)
    changed: list[str] = []
    if name is not None:
        new_name = clean_text(name, field="name", max_length=100)
        assert new_name is not None
        if name_key(new_name) != site.name_key:
            clash = await db.scalar(
                select(Site.id).where(
                    Site.community_id == actor.community_id, Site.name_key == name_key(new_name)
                )
            )
            if clash is not None:
                raise Conflict("errors.site_exists", name=new_name)
        site.name, site.name_key = new_name, name_key(new_name)
        changed.append("name")
    if city is not None:
        site.city = clean_text(city, field="city", max_length=100, required=False)
        changed.append("city")
    if description is not None:
        site.description = clean_text(
            description, field="description", max_length=500, required=False
        )
        changed.append("description")
    if not changed:
        raise ValidationFailed("errors.nothing_to_change")
    await audit.record(db, actor, "site.edited", "site", site.id, fields=changed)
    return _site_view(site, 0)


async def remove_site(db: AsyncSession, actor: Actor, site_name: str) -> str:
    require(actor, Action.MANAGE_SITES)
    site = await find_site(db, actor, site_name)
    name = site.name
    await audit.record(db, actor, "site.removed", "site", site.id, name=name)
    await db.delete(site)
    return name


# --- profiles ----------------------------------------------------------------------------


@dataclass(frozen=True)
class ProfileView:
    """A profile as the viewer may see it: private fields are None for others."""

    display_name: str
    role: str | None
    functions: tuple[str, ...]
    site: str | None
    locale: str | None
    lived_experience: str | None
    share_lived_experience: bool
    is_own: bool
    changed: tuple[str, ...] = ()
    """After `update_profile`: the fields that really changed (empty: nothing did)."""


def _profile_view(member: Member, *, own: bool, changed: tuple[str, ...] = ()) -> ProfileView:
    functions = tuple(
        f
        for f, on in (("coordinator", member.is_coordinator), ("moderator", member.is_moderator))
        if on
    )
    show_private = own or member.share_lived_experience
    return ProfileView(
        display_name=member.display_name,
        role=member.role,
        functions=functions,
        site=member.site.name if member.site else None,
        locale=member.locale if own else None,
        lived_experience=member.lived_experience if show_private else None,
        share_lived_experience=member.share_lived_experience,
        is_own=own,
        changed=changed,
    )


async def view_profile(
    db: AsyncSession, actor: Actor, platform_id: str | None = None
) -> ProfileView:
    require(actor, Action.VIEW_PROFILES)
    target = platform_id or actor.platform_id
    member = await find_member(db, actor, target)
    return _profile_view(member, own=member.id == actor.member_id)


_UNSET = object()
PROFILE_FIELDS = {
    "role": "role",
    "site_id": "site",
    "locale": "locale",
    "lived_experience": "lived_experience",
    "share_lived_experience": "share_lived_experience",
}
"""Profile columns a member sets, and the field name the audit trail records for each."""


async def update_profile(
    db: AsyncSession,
    actor: Actor,
    *,
    role: str | object | None = _UNSET,
    site: str | object | None = _UNSET,
    locale: str | object | None = _UNSET,
    lived_experience: str | object | None = _UNSET,
    share_lived_experience: bool | object = _UNSET,
) -> ProfileView:
    """Change one's own profile. `""` (or "geen") clears a field; unset fields stay.

    Only what really differs is written and audited: saving a profile unchanged (a front end
    that sets the role each time, a form sent again) writes nothing at all, and the view's
    `changed` is empty so the member can be told that nothing changed."""
    require(actor, Action.EDIT_OWN_PROFILE)
    member = await db.get(Member, actor.member_id)
    assert member is not None
    wanted: dict[str, object] = {}
    if role is not _UNSET:
        value = str(role or "").strip().lower()
        if value in ("", "geen", "none"):
            wanted["role"] = None
        elif value in {r.value for r in MemberRole}:
            wanted["role"] = value
        else:
            raise ValidationFailed(
                "errors.bad_choice", field="role", choices=", ".join(r.value for r in MemberRole)
            )
    new_site: Site | None = None
    if site is not _UNSET:
        value = str(site or "").strip()
        if value.lower() not in ("", "geen", "none"):
            new_site = await find_site(db, actor, value)
        wanted["site_id"] = new_site.id if new_site else None
    if locale is not _UNSET:
        value = str(locale or "").strip().lower()
        if value in ("", "geen", "none"):
            wanted["locale"] = None
        elif value in LOCALES:
            wanted["locale"] = value
        else:
            raise ValidationFailed(
                "errors.bad_choice", field="language", choices=", ".join(LOCALES)
            )
    if lived_experience is not _UNSET:
        wanted["lived_experience"] = clean_text(
            str(lived_experience or ""),
            field="lived_experience",
            max_length=LIVED_EXPERIENCE_MAX,
            required=False,
        )
    if share_lived_experience is not _UNSET:
        wanted["share_lived_experience"] = bool(share_lived_experience)
    if not wanted:
        raise ValidationFailed("errors.nothing_to_change")
    changed: list[str] = []
    for column, value in wanted.items():
        if getattr(member, column) == value:
            continue
        setattr(member, column, value)
        if column == "site_id":
            member.site = new_site
        changed.append(PROFILE_FIELDS[column])
    if changed:
        # Only the names of the fields go into the audit trail, never their private content.
        await audit.record(db, actor, "profile.updated", "member", member.id, fields=changed)
    return _profile_view(member, own=True, changed=tuple(changed))
