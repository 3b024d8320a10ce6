"""The shared practice log: what works in which context, across pilot sites.

A member shares a practice in two short forms; it stays a draft until the author confirms
that no client can be recognised from it. Practices can be searched in Dutch (stemmed, on
the database's own full-text engine), filtered, edited with history kept, withdrawn, linked
to agenda points and sessions, and collected in a cross-site digest.

Small groups re-identify people: an anonymous practice names its pilot site only when that
site has at least `privacy.small_number_threshold` members (the `threshold` the views take);
otherwise it says "a pilot site". Searching or exporting by a small site's name leaves its
anonymous practices out, so that a filter cannot name the site either. Named practices always
show their site.

A moderator can hide a practice's text (title, every text field and the tags) with a reason,
and restore it. While hidden, `PracticeView` carries no text and no author (`hidden=True`);
every front end and export shows "hidden by a moderator" instead. The author is told
privately when the practice is named (an anonymous one has no stored author, so nobody is
told) and keeps the text in their own data export; the audit trail records the action and
the number, never the text or the reason. A hidden practice drops out of search (and so out
of "similar practices"): a hit whose words nobody can see would still reveal, word by word,
what the hidden text says, and a member who searches expects to read what they found.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, literal, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from leerbot import clock, scheduling
from leerbot.config import Settings
from leerbot.core import audit
from leerbot.core.actor import Actor
from leerbot.core.community import find_site
from leerbot.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from leerbot.core.permissions import Standing, may, register_rule, require
from leerbot.core.themes import load_themes
from leerbot.core.validation import clean_text
from leerbot.db.models import (
    Member,
    Practice,
    PracticeLink,
    PracticeRevision,
    SavedSearch,
    Site,
)
from leerbot.search import practices as index
from leerbot.search.dutch import query_terms

SHARE = "practices.share"
VIEW = "practices.view"
MANAGE = "practices.manage"  # edit or withdraw anyone's practice
EXPORT = "practices.export"
MODERATE = "practices.moderate"  # hide a practice's text, and restore it
register_rule(SHARE, Standing.MEMBER)
register_rule(VIEW, Standing.MEMBER)
register_rule(MANAGE, Standing.COORDINATOR)
register_rule(EXPORT, Standing.COORDINATOR)
register_rule(MODERATE, Standing.MODERATOR)

LEVELS = ("institutioneel", "organisatie", "interpersoonlijk")
TEXT_FIELDS: dict[str, int] = {
    "context": 1000,
    "what_we_do": 1500,
    "expert_role": 1000,
    "why_it_works": 1500,
    "result": 1000,
    "pitfalls": 1500,
    "conditions": 1000,
    "funding": 500,
}
REQUIRED = ("what_we_do",)
MAX_TAGS, MAX_TAG = 10, 40
MAX_REASON = 300
PAGE_SIZE = 5


@dataclass(frozen=True)
class PracticeView:
    id: int
    title: str
    site: str | None
    fields: dict[str, str]
    theme: str | None
    level: str | None
    tags: tuple[str, ...]
    author: str | None
    anonymous: bool
    state: str
    shared_at: datetime | None
    updated_at: datetime
    revisions: int
    agenda_links: tuple[int, ...]
    session_links: tuple[int, ...]
    may_edit: bool
    channel_id: str | None = None
    message_id: str | None = None
    thread_id: str | None = None
    hidden: bool = False
    """A moderator hid the text: `title`, `fields`, `tags` and `author` are empty."""
    site_withheld: bool = False
    """Anonymous, from a site too small to name: `site` is empty, show "a pilot site"."""


@dataclass(frozen=True)
class Moderated:
    """The outcome of hiding or restoring: which practice, and whether its author is told."""

    number: int
    author_told: bool


@dataclass
class SearchPage:
    items: list[PracticeView]
    page: int
    pages: int
    total: int


def _body(practice: Practice) -> str:
    parts = [getattr(practice, f) for f in TEXT_FIELDS] + [" ".join(practice.tags or [])]
    return "\n".join(p for p in parts if p)


async def _practice(db: AsyncSession, actor: Actor | None, practice_id: int) -> Practice:
    practice = await db.get(Practice, practice_id)
    if practice is None:
        raise NotFound("errors.practice_not_found", number=practice_id)
    _check_visible(actor, practice, practice_id)
    return practice


def _check_visible(actor: Actor | None, practice: Practice, practice_id: int) -> None:
    """Another community's practice, or someone else's draft, is not there for `actor`."""
    if actor is not None and practice.community_id != actor.community_id:
        raise NotFound("errors.practice_not_found", number=practice_id)
    if actor is not None and practice.state == "draft" and practice.author_id != actor.member_id:
        raise NotFound("errors.practice_not_found", number=practice_id)


def _may_edit(actor: Actor | None, practice: Practice) -> bool:
    if actor is None:
        return False
    return practice.author_id == actor.member_id or may(actor, MANAGE)


async def _site_members(db: AsyncSession, site_id: int) -> int:
    return int(await db.scalar(select(func.count(Member.id)).where(Member.site_id == site_id)) or 0)


async def _small_site(db: AsyncSession, site_id: int, threshold: int | None) -> bool:
    """Too few members to name the site next to an anonymous practice. Without a threshold
    every site counts as small (the safe side)."""
    return threshold is None or await _site_members(db, site_id) < threshold


def _select_practices() -> Select[Any]:
    """Practices with what their view shows beside them, in one query: the site's name, the
    site's member count (whether it is too small to name), the author's name, the number of
    revisions."""
    neighbour = aliased(Member)
    site_size = (
        select(func.count(neighbour.id))
        .where(neighbour.site_id == Practice.site_id)
        .correlate(Practice)
        .scalar_subquery()
    )
    revisions = (
        select(func.count(PracticeRevision.id))
        .where(PracticeRevision.practice_id == Practice.id)
        .correlate(Practice)
        .scalar_subquery()
    )
    return (
        select(Practice, Site.name, site_size, Member.display_name, revisions)
        .outerjoin(Site, Site.id == Practice.site_id)
        .outerjoin(Member, Member.id == Practice.author_id)
    )


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    """Parameter lists of a bounded length (PostgreSQL takes at most 32,767 in a statement)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


async def _views(
    db: AsyncSession, actor: Actor | None, rows: list[Any], *, threshold: int | None
) -> list[PracticeView]:
    """The views of `rows` (from `_select_practices`), with their links read for up to 500
    practices per statement: a page costs what one practice costs."""
    from leerbot.db.models import AgendaLink

    ids = [row[0].id for row in rows]
    agenda: dict[int, list[int]] = {i: [] for i in ids}
    sessions: dict[int, list[int]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        links = (
            select(literal("agenda").label("kind"), AgendaLink.target_id, AgendaLink.item_id)
            .where(AgendaLink.target_type == "practice", AgendaLink.target_id.in_(chunk))
            .union_all(
                select(
                    literal("session").label("kind"),
                    PracticeLink.practice_id,
                    PracticeLink.target_id,
                ).where(PracticeLink.target_type == "session", PracticeLink.practice_id.in_(chunk))
            )
        )
        for kind, practice_id, number in await db.execute(links):
            (agenda if kind == "agenda" else sessions)[practice_id].append(number)
    return [
        _make_view(
            actor,
            practice,
            site_name=site_name,
            small_site=threshold is None or int(site_size or 0) < threshold,
            author=author,
            revisions=int(revisions or 0),
            agenda_links=tuple(sorted(agenda[practice.id])),
            session_links=tuple(sorted(sessions[practice.id])),
        )
        for practice, site_name, site_size, author, revisions in rows
    ]


def _make_view(
    actor: Actor | None,
    practice: Practice,
    *,
    site_name: str | None,
    small_site: bool,
    author: str | None,
    revisions: int,
    agenda_links: tuple[int, ...],
    session_links: tuple[int, ...],
) -> PracticeView:
    hidden = practice.hidden_at is not None
    withheld = bool(practice.site_id and practice.anonymous and small_site)
    return PracticeView(
        id=practice.id,
        title="" if hidden else practice.title,
        site=site_name if practice.site_id and not withheld else None,
        fields={f: "" if hidden else getattr(practice, f) for f in TEXT_FIELDS},
        theme=practice.theme,
        level=practice.level,
        tags=() if hidden else tuple(practice.tags or ()),
        author=author if practice.author_id and not practice.anonymous and not hidden else None,
        anonymous=practice.anonymous,
        state=practice.state,
        shared_at=practice.shared_at,
        updated_at=practice.updated_at,
        revisions=revisions,
        agenda_links=agenda_links,
        session_links=session_links,
        may_edit=_may_edit(actor, practice),
        channel_id=practice.channel_id,
        message_id=practice.message_id,
        thread_id=practice.thread_id,
        hidden=hidden,
        site_withheld=withheld,
    )


async def view(
    db: AsyncSession, actor: Actor | None, practice_id: int, *, threshold: int | None = None
) -> PracticeView:
    """One practice as members see it. `threshold` is `privacy.small_number_threshold`:
    an anonymous practice names its site only when the site has at least that many members
    (without it, an anonymous practice never names its site). Two statements: the practice
    with its names and counts, and its links."""
    found = (await db.execute(_select_practices().where(Practice.id == practice_id))).first()
    if found is not None:
        _check_visible(actor, found[0], practice_id)
    else:
        raise NotFound("errors.practice_not_found", number=practice_id)
    (item,) = await _views(db, actor, [found], threshold=threshold)
    return item


async def views(
    db: AsyncSession, actor: Actor | None, ids: list[int], *, threshold: int | None = None
) -> list[PracticeView]:
    """Several practices in the order of `ids` (a page of search results), in two
    statements per 500; ids that are not there, or not the actor's to see, are left out."""
    rows: dict[int, Any] = {}
    for chunk in _chunks(list(ids)):
        for row in await db.execute(_select_practices().where(Practice.id.in_(chunk))):
            try:
                _check_visible(actor, row[0], row[0].id)
            except NotFound:
                continue
            rows[row[0].id] = row
    return await _views(db, actor, [rows[i] for i in ids if i in rows], threshold=threshold)


async def require_shared(db: AsyncSession, actor: Actor, practice_id: int) -> None:
    """Raise NotFound unless the practice is shared in the actor's community (not someone's
    draft, not withdrawn)."""
    practice = await _practice(db, actor, practice_id)
    if practice.state != "shared":
        raise NotFound("errors.practice_not_found", number=practice_id)


def _clean_fields(values: dict[str, str | None], *, partial: bool) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, limit in TEXT_FIELDS.items():
        if name not in values:
            continue
        cleaned = clean_text(
            values[name], field=name, max_length=limit, required=name in REQUIRED and not partial
        )
        out[name] = cleaned or ""
    return out


def _clean_tags(tags: str | list[str] | None) -> list[str]:
    if tags is None:
        return []
    items = tags if isinstance(tags, list) else tags.split(",")
    clean = []
    for tag in items:
        tag = " ".join(tag.strip().lower().split())
        if not tag:
            continue
        if len(tag) > MAX_TAG:
            raise ValidationFailed("errors.too_long", field="tags", max=MAX_TAG, length=len(tag))
        if tag not in clean:
            clean.append(tag)
    if len(clean) > MAX_TAGS:
        raise ValidationFailed("errors.too_many_tags", max=MAX_TAGS)
    return clean


async def start_draft(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    title: str,
    site: str | None = None,
    theme: str | None = None,
    level: str | None = None,
    tags: str | None = None,
    anonymous: bool = False,
    fields: dict[str, str | None],
) -> PracticeView:
    """First form: a draft only the author sees, until they confirm the client check."""
    require(actor, SHARE)
    clean_title = clean_text(title, field="title", max_length=100)
    if theme is not None and theme not in load_themes(settings.content_dir):
        raise ValidationFailed(
            "errors.bad_choice", field="theme", choices=", ".join(load_themes(settings.content_dir))
        )
    if level is not None and level not in LEVELS:
        raise ValidationFailed("errors.bad_choice", field="level", choices=", ".join(LEVELS))
    clean = _clean_fields(fields, partial=False)
    site_row = await find_site(db, actor, site) if site else None
    practice = Practice(
        community_id=actor.community_id,
        title=clean_title,
        site_id=site_row.id if site_row else None,
        theme=theme,
        level=level,
        tags=_clean_tags(tags),
        author_id=actor.member_id,
        anonymous=anonymous,
        state="draft",
        **clean,
    )
    db.add(practice)
    await db.flush()
    return await view(db, actor, practice.id, threshold=settings.privacy.small_number_threshold)


async def _own_draft(db: AsyncSession, actor: Actor, practice_id: int) -> Practice:
    practice = await _practice(db, actor, practice_id)
    if practice.state != "draft" or practice.author_id != actor.member_id:
        raise ValidationFailed("errors.not_your_draft")
    return practice


async def complete_draft(
    db: AsyncSession, actor: Actor, practice_id: int, fields: dict[str, str | None]
) -> PracticeView:
    """Second form: result, pitfalls, conditions, funding."""
    require(actor, SHARE)
    practice = await _own_draft(db, actor, practice_id)
    for name, value in _clean_fields(fields, partial=True).items():
        setattr(practice, name, value)
    await db.flush()
    return await view(db, actor, practice.id)


async def confirm_and_share(
    db: AsyncSession, actor: Actor, settings: Settings, practice_id: int
) -> PracticeView:
    """The author confirms no client can be recognised: the practice becomes visible."""
    require(actor, SHARE)
    practice = await _own_draft(db, actor, practice_id)
    practice.state = "shared"
    practice.shared_at = practice.updated_at = clock.now()
    author_id = practice.author_id
    if practice.anonymous:
        practice.author_id = None  # anonymous from here on: no link kept
    await index.index(db, practice.id, practice.title, _body(practice))
    if not practice.anonymous and author_id:
        await audit.record(db, actor, "practice.shared", "practice", practice.id)
    await publish(db, practice)
    await schedule_digest(db, practice.community_id, settings)
    return await view(db, actor, practice.id, threshold=settings.privacy.small_number_threshold)


async def discard_draft(db: AsyncSession, actor: Actor, practice_id: int) -> None:
    practice = await _own_draft(db, actor, practice_id)
    await db.delete(practice)


async def publish(db: AsyncSession, practice: Practice) -> None:
    """Schedule the practice's card in the channel to be posted or brought up to date."""
    import uuid

    await scheduling.schedule(
        db,
        community_id=practice.community_id,
        kind="practice.publish",
        key=f"practice:{practice.id}:publish:{uuid.uuid4().hex}",
        due_at=clock.now(),
        payload={"practice_id": practice.id},
        grace=timedelta(days=7),
    )


async def edit(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    practice_id: int,
    *,
    title: str | None = None,
    fields: dict[str, str | None] | None = None,
    tags: str | None = None,
    theme: str | None = None,
) -> PracticeView:
    """Authors and coordinators edit; the previous version is kept as a revision."""
    practice = await _practice(db, actor, practice_id)
    if practice.state != "shared":
        raise ValidationFailed("errors.practice_not_shared")
    if not _may_edit(actor, practice):
        raise PermissionDenied("errors.not_your_practice")
    if practice.hidden_at is not None:  # the form would start from text nobody may see
        raise ValidationFailed("errors.practice_hidden", number=practice.id)
    snapshot = {
        "title": practice.title,
        "tags": list(practice.tags or []),
        "theme": practice.theme,
        **{f: getattr(practice, f) for f in TEXT_FIELDS},
    }
    changed: list[str] = []  # only what really differs counts as an edit
    if title is not None:
        new_title = clean_text(title, field="title", max_length=100) or practice.title
        if new_title != practice.title:
            practice.title = new_title
            changed.append("title")
    for name, value in _clean_fields(fields or {}, partial=True).items():
        if name in REQUIRED and not value:
            raise ValidationFailed("errors.required", field=name)
        if value != getattr(practice, name):
            setattr(practice, name, value)
            changed.append(name)
    if tags is not None:
        new_tags = _clean_tags(tags)
        if new_tags != list(practice.tags or []):
            practice.tags = new_tags
            changed.append("tags")
    if theme is not None and theme != practice.theme:
        if theme not in load_themes(settings.content_dir):
            raise ValidationFailed(
                "errors.bad_choice",
                field="theme",
                choices=", ".join(load_themes(settings.content_dir)),
            )
        practice.theme = theme
        changed.append("theme")
    if not changed:
        raise ValidationFailed("errors.nothing_to_change")
    db.add(PracticeRevision(practice_id=practice.id, editor_id=actor.member_id, snapshot=snapshot))
    practice.updated_at = clock.now()
    await index.index(db, practice.id, practice.title, _body(practice))
    await audit.record(db, actor, "practice.edited", "practice", practice.id, fields=changed)
    await publish(db, practice)
    return await view(db, actor, practice.id, threshold=settings.privacy.small_number_threshold)


async def withdraw(db: AsyncSession, actor: Actor, practice_id: int) -> PracticeView:
    practice = await _practice(db, actor, practice_id)
    if practice.state != "shared":
        raise ValidationFailed("errors.practice_not_shared")
    if not _may_edit(actor, practice):
        raise PermissionDenied("errors.not_your_practice")
    practice.state = "withdrawn"
    await index.remove(db, practice.id)
    await audit.record(db, actor, "practice.withdrawn", "practice", practice.id)
    await publish(db, practice)
    return await view(db, actor, practice.id)


async def hide(db: AsyncSession, actor: Actor, practice_id: int, reason: str) -> Moderated:
    """A moderator hides the practice's text with a reason (see the module's docstring)."""
    require(actor, MODERATE)
    practice = await _practice(db, actor, practice_id)
    if practice.state == "draft":  # a moderator's own draft: not shared, nothing to hide
        raise NotFound("errors.practice_not_found", number=practice_id)
    clean_reason = clean_text(reason, field="reason", max_length=MAX_REASON)
    if practice.hidden_at is not None:
        raise Conflict("errors.practice_already_hidden", number=practice.id)
    practice.hidden_at = clock.now()
    practice.hidden_reason = clean_reason
    practice.hidden_by_id = actor.member_id if actor.member_id > 0 else None
    await index.remove(db, practice.id)
    await audit.record(db, actor, "practice.hidden", "practice", practice.id)
    await publish(db, practice)
    return Moderated(practice.id, await _tell_author(db, practice, "hidden"))


async def restore(db: AsyncSession, actor: Actor, practice_id: int) -> Moderated:
    """A moderator shows the practice's text again (and search finds it again)."""
    require(actor, MODERATE)
    practice = await _practice(db, actor, practice_id)
    if practice.hidden_at is None:
        raise Conflict("errors.practice_not_hidden", number=practice.id)
    practice.hidden_at = practice.hidden_reason = practice.hidden_by_id = None
    if practice.state == "shared":
        await index.index(db, practice.id, practice.title, _body(practice))
    await audit.record(db, actor, "practice.restored", "practice", practice.id)
    await publish(db, practice)
    return Moderated(practice.id, await _tell_author(db, practice, "restored"))


async def _tell_author(db: AsyncSession, practice: Practice, action: str) -> bool:
    """Schedule the private notice to the author; False when there is nobody to tell."""
    import uuid

    if practice.author_id is None or practice.anonymous:
        return False
    await scheduling.schedule(
        db,
        community_id=practice.community_id,
        kind="practice.moderated",
        key=f"practice:{practice.id}:{action}:{uuid.uuid4().hex}",
        due_at=clock.now(),
        # the reason goes with the notice (so it arrives even after a quick restore);
        # finished jobs are purged after 30 days, and it never enters the audit trail
        payload={
            "practice_id": practice.id,
            "action": action,
            "reason": practice.hidden_reason or "",
        },
        grace=timedelta(days=2),
    )
    return True


async def link_session(
    db: AsyncSession, actor: Actor, practice_id: int, session_id: int
) -> PracticeView:
    practice = await _practice(db, actor, practice_id)
    if not _may_edit(actor, practice):
        raise PermissionDenied("errors.not_your_practice")
    from leerbot.core import sessions

    await sessions.view(db, actor, session_id)
    try:
        async with db.begin_nested():
            db.add(
                PracticeLink(practice_id=practice.id, target_type="session", target_id=session_id)
            )
    except IntegrityError:
        raise Conflict("errors.already_linked") from None
    await publish(db, practice)  # both cards show the link
    from leerbot.db.models import SessionOccurrence

    occurrence = await db.get(SessionOccurrence, session_id)
    if occurrence is not None:
        await sessions.republish(db, occurrence)
    return await view(db, actor, practice.id)


async def for_session(
    db: AsyncSession, actor: Actor, session_id: int, *, threshold: int | None = None
) -> list[PracticeView]:
    """Practices that refer to an intervisie session (it shows them back)."""
    rows = (
        await db.execute(
            _select_practices()
            .join(PracticeLink, PracticeLink.practice_id == Practice.id)
            .where(
                PracticeLink.target_type == "session",
                PracticeLink.target_id == session_id,
                Practice.community_id == actor.community_id,
                Practice.state == "shared",
            )
            .order_by(PracticeLink.id)
        )
    ).all()
    return await _views(db, actor, list(rows), threshold=threshold)


# --- search ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilters:
    site: str | None = None
    theme: str | None = None
    level: str | None = None
    tag: str | None = None


async def search(
    db: AsyncSession,
    actor: Actor,
    query: str,
    filters: SearchFilters = SearchFilters(),
    page: int = 1,
    page_size: int = PAGE_SIZE,
    *,
    threshold: int | None = None,
) -> SearchPage:
    """Dutch full-text search (all words), filtered, ranked, paged. A query with no words
    (only punctuation, operators or stop words) is refused before it reaches the engine.
    Hidden practices are not found (see the module's docstring)."""
    require(actor, VIEW)
    if len(query) > 200:
        raise ValidationFailed("errors.too_long", field="query", max=200, length=len(query))
    if not query_terms(query):
        raise ValidationFailed("errors.search_no_words")
    scope = index.Scope(
        community_id=actor.community_id,
        theme=filters.theme or None,
        level=filters.level or None,
        tag=filters.tag or None,
    )
    if filters.site:
        site = await find_site(db, actor, filters.site)
        small = await _small_site(db, site.id, threshold)  # the filter would name the site
        scope = replace(scope, site_id=site.id, named_only=small)
    page = max(1, page)
    ids, total = await index.find(db, query, scope, limit=page_size, offset=(page - 1) * page_size)
    pages = max(1, (total + page_size - 1) // page_size)
    if page > pages:  # past the end: the last page
        page = pages
        ids, total = await index.find(
            db, query, scope, limit=page_size, offset=(page - 1) * page_size
        )
    return SearchPage(await views(db, actor, ids, threshold=threshold), page, pages, total)


async def save_search(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    query: str,
    filters: SearchFilters,
) -> SavedSearch:
    """Keep a search behind its "next page" buttons (a button's id is too short for it).
    It belongs to the member who searched; searches older than
    `practices.saved_search_days` are purged here as well as at start."""
    from sqlalchemy import delete

    cutoff = clock.now() - timedelta(days=settings.practices.saved_search_days)
    await db.execute(delete(SavedSearch).where(SavedSearch.created_at < cutoff))
    saved = SavedSearch(
        community_id=actor.community_id,
        member_id=actor.member_id if actor.member_id > 0 else None,
        query=query,
        filters={
            "site": filters.site,
            "theme": filters.theme,
            "level": filters.level,
            "tag": filters.tag,
        },
    )
    db.add(saved)
    await db.flush()
    return saved


async def saved_search(
    db: AsyncSession, actor: Actor, saved_id: int
) -> tuple[SavedSearch, SearchFilters] | None:
    """The member's own saved search (None when it is gone, or someone else's)."""
    saved = await db.get(SavedSearch, saved_id)
    if saved is None or saved.community_id != actor.community_id:
        return None
    if saved.member_id is not None and saved.member_id != actor.member_id:
        return None
    return saved, SearchFilters(**{k: v for k, v in (saved.filters or {}).items() if v})


async def similar(
    db: AsyncSession,
    actor: Actor,
    practice_id: int,
    limit: int = 3,
    *,
    threshold: int | None = None,
) -> list[PracticeView]:
    """ "Vergelijkbare praktijken": shared practices from other sites that share words with
    this one's title and tags."""
    practice = await _practice(db, actor, practice_id)
    probe = " ".join([practice.title, *(practice.tags or [])])
    if not query_terms(probe):
        return []
    chosen, _ = await index.find(
        db,
        probe,
        index.Scope(
            community_id=practice.community_id,
            other_than_site=practice.site_id,
            other_than=practice.id,
        ),
        limit=limit,
        any_word=True,
    )
    return await views(db, actor, chosen, threshold=threshold)


# --- digest ------------------------------------------------------------------------------


async def schedule_digest(db: AsyncSession, community_id: int, settings: Settings) -> None:
    """Make sure the next cross-site digest is due (weekly or monthly, from the settings)."""
    if settings.practices.digest == "off":
        return
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(settings.timezone)
    now = clock.now().astimezone(tz)
    days_ahead = (settings.practices.digest_weekday - now.weekday()) % 7 or 7
    due = (now + timedelta(days=days_ahead)).replace(
        hour=settings.practices.digest_hour, minute=0, second=0, microsecond=0
    )
    if settings.practices.digest == "monthly":
        first = (now.replace(day=1) + timedelta(days=32)).replace(day=1)
        offset = (settings.practices.digest_weekday - first.weekday()) % 7
        due = (first + timedelta(days=offset)).replace(
            hour=settings.practices.digest_hour, minute=0, second=0, microsecond=0
        )
    await scheduling.schedule(
        db,
        community_id=community_id,
        kind="practice.digest",
        key=f"practice-digest:{community_id}:{due.date().isoformat()}",
        due_at=due.astimezone(UTC),
        payload={"since_days": 7 if settings.practices.digest == "weekly" else 31},
        grace=timedelta(hours=12),
    )


async def digest(
    db: AsyncSession, community_id: int, since: datetime, *, threshold: int | None = None
) -> dict[str | None, list[tuple[PracticeView, bool]]]:
    """New and updated practices since `since`, per site: (practice, is_new). The key is the
    site's name, "" for no site, and None for "a pilot site" (a site too small to name next to
    an anonymous practice)."""
    rows = (
        await db.execute(
            _select_practices()
            .where(
                Practice.community_id == community_id,
                Practice.state == "shared",
                Practice.updated_at >= since,
            )
            .order_by(Practice.updated_at, Practice.id)
        )
    ).all()
    out: dict[str | None, list[tuple[PracticeView, bool]]] = {}
    items = await _views(db, None, list(rows), threshold=threshold)
    for item, (practice, *_) in zip(items, rows, strict=True):
        is_new = practice.shared_at is not None and practice.shared_at >= since
        out.setdefault(None if item.site_withheld else item.site or "", []).append((item, is_new))
    return dict(sorted(out.items(), key=lambda kv: (kv[0] is None, kv[0] or "")))


# --- export ------------------------------------------------------------------------------


async def for_export(
    db: AsyncSession,
    actor: Actor,
    *,
    site: str | None = None,
    theme: str | None = None,
    threshold: int | None = None,
) -> list[PracticeView]:
    """Every shared practice for the coordinator's export: two statements per 500."""
    require(actor, EXPORT)
    query = _select_practices().where(
        Practice.community_id == actor.community_id, Practice.state == "shared"
    )
    if site:
        site_row = await find_site(db, actor, site)
        query = query.where(Practice.site_id == site_row.id)
        if await _small_site(db, site_row.id, threshold):  # the filter would name the site
            query = query.where(Practice.anonymous.is_(False))
    if theme:
        query = query.where(Practice.theme == theme)
    rows = (await db.execute(query.order_by(Practice.id))).all()
    return await _views(db, None, list(rows), threshold=threshold)


# --- data rights -------------------------------------------------------------------------


async def _count_data(db: AsyncSession, member: Member) -> dict[str, int]:
    named = await db.scalar(
        select(func.count(Practice.id)).where(
            Practice.author_id == member.id, Practice.anonymous.is_(False)
        )
    )
    return {"practices": int(named or 0)}


async def _export_data(db: AsyncSession, member: Member) -> dict[str, object]:
    practices = await db.scalars(
        select(Practice).where(Practice.author_id == member.id, Practice.anonymous.is_(False))
    )
    searches = await db.scalars(
        select(SavedSearch).where(SavedSearch.member_id == member.id).order_by(SavedSearch.id)
    )
    return {
        # kept only behind the "next page" buttons of a search, for a limited time
        "searches_with_more_pages": [
            {
                "query": s.query,
                "filters": {k: v for k, v in (s.filters or {}).items() if v},
                "when": s.created_at.isoformat(timespec="seconds"),
            }
            for s in searches
        ],
        "practices": [
            {
                "number": p.id,
                "title": p.title,
                "state": p.state,
                **{f: getattr(p, f) for f in TEXT_FIELDS},
                "tags": p.tags,
                # your own text stays yours, also while a moderator hides it from others
                "hidden_by_moderator": p.hidden_at is not None,
                **(
                    {
                        "hidden_at": p.hidden_at.isoformat(timespec="seconds"),
                        "hidden_reason": p.hidden_reason,
                    }
                    if p.hidden_at is not None
                    else {}
                ),
            }
            for p in practices
        ],
    }


async def _delete_data(db: AsyncSession, member: Member) -> None:
    """Drafts and saved searches go; shared practices stay without the name, and the card
    of each one that showed the name is shown again."""
    from sqlalchemy import delete, update

    drafts = select(Practice.id).where(Practice.author_id == member.id, Practice.state == "draft")
    await db.execute(delete(Practice).where(Practice.id.in_(drafts)))
    named = list(
        await db.scalars(
            select(Practice.id).where(
                Practice.author_id == member.id, Practice.anonymous.is_(False)
            )
        )
    )
    await db.execute(
        update(Practice)
        .where(Practice.author_id == member.id)
        .values(author_id=None, anonymous=True)
    )
    await db.execute(delete(SavedSearch).where(SavedSearch.member_id == member.id))
    for practice_id in named:
        practice = await db.get(Practice, practice_id)
        if practice is not None:
            await publish(db, practice)
    await db.execute(
        update(PracticeRevision)
        .where(PracticeRevision.editor_id == member.id)
        .values(editor_id=None)
    )
    await db.execute(  # a moderator who leaves: the practice stays hidden, without their name
        update(Practice).where(Practice.hidden_by_id == member.id).values(hidden_by_id=None)
    )


def _register_data_handler() -> None:
    from leerbot.core import privacy

    privacy.register(
        privacy.DataHandler(
            name="practices",
            tables=("practices", "practice_revisions", "saved_searches"),
            summary_key="privacy.summary.practices",
            count=_count_data,
            export=_export_data,
            delete=_delete_data,
            delete_note_key="privacy.delete_note.practices",
            order=40,
        )
    )


_register_data_handler()
