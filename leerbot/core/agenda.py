"""The development agenda (ontwikkelagenda): members propose points (named or anonymous),
the community supports and discusses them, coordinators move them forward with a reason
for every step, merge duplicates, and export summaries for their organisations.

Anonymous points have no author at all (not even in the audit trail). When a member deletes
their data, their named points become anonymous and their support is removed: the
community keeps the agenda, not the person.

A moderator can hide a point's text (title and description) with a reason, and restore it.
While hidden, no view carries the text: `ItemView` and the export report have empty text
and `hidden=True`, and every front end and export shows "hidden by a moderator" instead. The
proposer's name is left out too, because a name next to "hidden by a moderator" would single
that person out. Status, support and discussion stay; new support waits until the text is
back. The proposer is told privately (a scheduled notice); an anonymous point has no stored
proposer, so then nobody is told. The proposer keeps the text in their own data export. The
audit trail records the action and the point's number, never the text and never the reason
(a reason may quote the text).
"""

from __future__ import annotations

import heapq
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Select,
    String,
    bindparam,
    cast,
    delete,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.types import Integer

from leerbot import clock, scheduling
from leerbot.config import Settings
from leerbot.core import audit
from leerbot.core.actor import Actor
from leerbot.core.community import find_site
from leerbot.core.errors import Conflict, NotFound, ValidationFailed
from leerbot.core.permissions import Standing, register_rule, require
from leerbot.core.themes import load_themes
from leerbot.core.validation import clean_text
from leerbot.db.models import (
    AgendaItem,
    AgendaLink,
    AgendaStatusChange,
    AgendaSupport,
    Member,
    Site,
)

PROPOSE = "agenda.propose"
VIEW = "agenda.view"
MANAGE = "agenda.manage"
EXPORT = "agenda.export"
MODERATE = "agenda.moderate"  # hide a point's text, and restore it
register_rule(PROPOSE, Standing.MEMBER)
register_rule(VIEW, Standing.MEMBER)
register_rule(MANAGE, Standing.COORDINATOR)
register_rule(EXPORT, Standing.COORDINATOR)
register_rule(MODERATE, Standing.MODERATOR)

KINDS = ("knelpunt", "ambitie", "dilemma", "wens", "ondersteuningsbehoefte")
LEVELS = ("institutioneel", "organisatie", "interpersoonlijk")
STATUSES = ("nieuw", "besproken", "in_uitvoering", "afgerond", "geparkeerd")
TRANSITIONS = {
    "nieuw": {"besproken", "in_uitvoering", "geparkeerd"},
    "besproken": {"in_uitvoering", "afgerond", "geparkeerd"},
    "in_uitvoering": {"afgerond", "geparkeerd", "besproken"},
    "geparkeerd": {"nieuw", "besproken", "in_uitvoering"},
    "afgerond": {"in_uitvoering"},
}
MAX_TITLE, MAX_DESCRIPTION, MAX_REASON = 100, 2000, 300
PAGE_SIZE = 5
LINK_TYPES = ("session", "practice")


@dataclass(frozen=True)
class HistoryStep:
    when: datetime
    from_status: str | None
    to_status: str
    reason: str


@dataclass(frozen=True)
class ItemView:
    id: int
    title: str
    description: str
    theme: str
    kind: str
    level: str
    site: str | None
    author: str | None
    anonymous: bool
    status: str
    support_count: int
    supported_by_me: bool
    created_at: datetime
    merged_into: int | None
    history: tuple[HistoryStep, ...] = ()
    links: tuple[tuple[str, int], ...] = ()
    channel_id: str | None = None
    message_id: str | None = None
    thread_id: str | None = None
    hidden: bool = False
    """A moderator hid the text: `title`, `description` and `author` are empty."""
    site_withheld: bool = False
    """Anonymous, from a site too small to name: `site` is empty, show "a pilot site"."""


@dataclass(frozen=True)
class Moderated:
    """The outcome of hiding or restoring: which point, and whether its proposer is told."""

    number: int
    author_told: bool


@dataclass(frozen=True)
class Filters:
    theme: str | None = None
    status: str | None = None
    site: str | None = None
    kind: str | None = None
    sort: str = "support"  # support | date


@dataclass
class Page:
    items: list[ItemView]
    page: int
    pages: int
    total: int
    first: str | None = None
    """The key of the first point: `listing(before=…)` reads the page before this one."""
    last: str | None = None
    """The key of the last point: `listing(after=…)` reads the next page."""


def _choice(value: str | None, allowed: tuple[str, ...] | dict[str, object], field: str) -> str:
    if value not in allowed:
        raise ValidationFailed("errors.bad_choice", field=field, choices=", ".join(allowed))
    return value


async def _item(db: AsyncSession, actor: Actor | None, item_id: int) -> AgendaItem:
    item = await db.get(AgendaItem, item_id)
    if item is None or (actor is not None and item.community_id != actor.community_id):
        raise NotFound("errors.agenda_not_found", number=item_id)
    return item


def _select_items(actor: Actor | None) -> Select[Any]:
    """Points with what their view shows beside them: the proposer's name, the site's name
    and whether `actor` supports the point, in one query."""
    if actor is not None:
        mine: Any = (
            select(AgendaSupport.id)
            .where(
                AgendaSupport.item_id == AgendaItem.id, AgendaSupport.member_id == actor.member_id
            )
            .exists()
        )
    else:
        mine = literal(False)
    return (
        select(AgendaItem, Member.display_name, Site.name, mine)
        .outerjoin(Member, Member.id == AgendaItem.author_id)
        .outerjoin(Site, Site.id == AgendaItem.site_id)
    )


_Row = tuple[AgendaItem, str | None, str | None, bool]


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    """Parameter lists of a bounded length (PostgreSQL takes at most 32,767 in a statement)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]


async def _views(
    db: AsyncSession, actor: Actor | None, rows: list[_Row], *, threshold: int | None
) -> list[ItemView]:
    """The views of `rows` (from `_select_items`) in a fixed number of statements: their
    history and links for all of them at once, the small sites only when an anonymous point
    names a site."""
    if not rows:
        return []
    ids = [item.id for item, *_ in rows]
    history: dict[int, list[HistoryStep]] = {i: [] for i in ids}
    links: dict[int, list[tuple[str, int]]] = {i: [] for i in ids}
    for chunk in _chunks(ids):
        # sorted here, not in SQL: an ORDER BY lets the planner walk a whole table in its
        # order (the index on created_at, the primary key) instead of looking up the page
        steps = (
            await db.execute(
                select(
                    AgendaStatusChange.item_id,
                    AgendaStatusChange.created_at,
                    AgendaStatusChange.id,
                    AgendaStatusChange.from_status,
                    AgendaStatusChange.to_status,
                    AgendaStatusChange.reason,
                ).where(AgendaStatusChange.item_id.in_(chunk))
            )
        ).all()
        for c in sorted(steps, key=lambda c: (c.created_at, c.id)):
            history[c.item_id].append(
                HistoryStep(c.created_at, c.from_status, c.to_status, c.reason)
            )
        found = (
            await db.execute(
                select(
                    AgendaLink.id, AgendaLink.item_id, AgendaLink.target_type, AgendaLink.target_id
                ).where(AgendaLink.item_id.in_(chunk))
            )
        ).all()
        for link_row in sorted(found):
            links[link_row.item_id].append((link_row.target_type, link_row.target_id))
    small: set[int] = set()
    if threshold is not None and any(item.anonymous and item.site_id for item, *_ in rows):
        small = await _small_sites(db, rows[0][0].community_id, threshold)
    return [
        _make_view(
            item,
            author=author,
            site=site,
            mine=bool(mine),
            small_sites=small if threshold is not None else None,
            history=tuple(history[item.id]),
            links=tuple(links[item.id]),
        )
        for item, author, site, mine in rows
    ]


def _make_view(
    item: AgendaItem,
    *,
    author: str | None,
    site: str | None,
    mine: bool,
    small_sites: set[int] | None,
    history: tuple[HistoryStep, ...],
    links: tuple[tuple[str, int], ...],
) -> ItemView:
    """`small_sites` None: no threshold was given, an anonymous point never names its site."""
    hidden = item.hidden_at is not None
    withheld = bool(
        item.site_id and item.anonymous and (small_sites is None or item.site_id in small_sites)
    )
    return ItemView(
        id=item.id,
        title="" if hidden else item.title,
        description="" if hidden else item.description,
        theme=item.theme,
        kind=item.kind,
        level=item.level,
        site=None if withheld or not item.site_id else site,
        site_withheld=withheld,
        author=author if item.author_id is not None and not item.anonymous and not hidden else None,
        anonymous=item.anonymous,
        status=item.status,
        support_count=item.support_count,
        supported_by_me=mine,
        created_at=item.created_at,
        merged_into=item.merged_into_id,
        history=history,
        links=links,
        channel_id=item.channel_id,
        message_id=item.message_id,
        thread_id=item.thread_id,
        hidden=hidden,
    )


async def _rows(db: AsyncSession, query: Select[Any]) -> list[_Row]:
    return [tuple(r) for r in await db.execute(query)]  # type: ignore[misc]


async def _row(db: AsyncSession, actor: Actor | None, item_id: int) -> _Row:
    found = (await db.execute(_select_items(actor).where(AgendaItem.id == item_id))).first()
    if found is None or (actor is not None and found[0].community_id != actor.community_id):
        raise NotFound("errors.agenda_not_found", number=item_id)
    return tuple(found)  # type: ignore[return-value]


async def view(
    db: AsyncSession, actor: Actor | None, item_id: int, *, threshold: int | None = None
) -> ItemView:
    """One point as members see it. `threshold` is `privacy.small_number_threshold`: an
    anonymous point names its site only when the site has at least that many members
    (without it, an anonymous point never names its site). Three statements: the point
    with its names, its history, its links (a fourth for an anonymous point's site)."""
    (found,) = await _views(db, actor, [await _row(db, actor, item_id)], threshold=threshold)
    return found


async def _publish(db: AsyncSession, item: AgendaItem) -> None:
    await scheduling.schedule(
        db,
        community_id=item.community_id,
        kind="agenda.publish",
        key=f"agenda:{item.id}:publish:{uuid.uuid4().hex}",
        due_at=clock.now(),
        payload={"item_id": item.id},
        grace=timedelta(days=7),
    )


async def propose(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    title: str,
    description: str,
    theme: str,
    kind: str,
    level: str,
    site: str | None = None,
    site_id: int | None = None,
    anonymous: bool = False,
) -> ItemView:
    """A new point (`site` by name, or `site_id` as a form remembers it). Its view is made
    from what was written, not read back: one insert each for the point, its first step,
    the audit entry and the card's job."""
    require(actor, PROPOSE)
    clean_title = clean_text(title, field="title", max_length=MAX_TITLE)
    clean_description = clean_text(description, field="description", max_length=MAX_DESCRIPTION)
    _choice(theme, load_themes(settings.content_dir), "theme")
    _choice(kind, KINDS, "kind")
    _choice(level, LEVELS, "level")
    if site_id is not None:  # a site removed since the form opened: no site, as before
        site_row = await db.get(Site, site_id)
        if site_row is not None and site_row.community_id != actor.community_id:
            site_row = None
    else:
        site_row = await find_site(db, actor, site) if site else None
    item = AgendaItem(
        community_id=actor.community_id,
        title=clean_title,
        description=clean_description,
        theme=theme,
        kind=kind,
        level=level,
        site_id=site_row.id if site_row else None,
        author_id=None if anonymous else actor.member_id,
        anonymous=anonymous,
        status="nieuw",
        support_count=0,
    )
    db.add(item)
    await db.flush()
    first = AgendaStatusChange(
        item_id=item.id, from_status=None, to_status="nieuw", reason="", changed_by_id=None
    )
    db.add(first)
    if not anonymous:
        await audit.record(db, actor, "agenda.proposed", "agenda_item", item.id)
    await _publish(db, item)  # flushes the step too
    return _make_view(
        item,
        author=actor.display_name,
        site=site_row.name if site_row else None,
        mine=False,
        small_sites=None,  # as `view` without a threshold: an anonymous point names no site
        history=(HistoryStep(first.created_at, None, "nieuw", ""),),
        links=(),
    )


async def support(db: AsyncSession, actor: Actor, item_id: int, on: bool = True) -> ItemView:
    """Support a point (once per member), or withdraw one's support. A handful of
    statements: the point, the support row, the new count, the card's job, the view's
    history and links."""
    require(actor, PROPOSE)
    item, author, site, _ = await _row(db, actor, item_id)
    if item.merged_into_id is not None:
        raise ValidationFailed("errors.agenda_merged", number=item.merged_into_id)
    if on and item.hidden_at is not None:  # withdrawing one's support stays possible
        raise ValidationFailed("errors.agenda_hidden", number=item.id)
    if on:
        added = await db.scalar(
            _insert_ignoring_duplicates(db)
            .values(item_id=item.id, member_id=actor.member_id, created_at=clock.now())
            .returning(AgendaSupport.id)
        )
        if added is None:
            raise Conflict("errors.already_supported")
        delta = 1
    else:
        removed = await db.scalar(
            delete(AgendaSupport)
            .where(AgendaSupport.item_id == item.id, AgendaSupport.member_id == actor.member_id)
            .returning(AgendaSupport.id)
        )
        if removed is None:
            raise ValidationFailed("errors.not_supported")
        delta = -1
    count = await db.scalar(
        update(AgendaItem)
        .where(AgendaItem.id == item.id)
        .values(support_count=AgendaItem.support_count + delta, updated_at=clock.now())
        .returning(AgendaItem.support_count)
        .execution_options(synchronize_session=False)
    )
    set_committed_value(item, "support_count", int(count or 0))
    await _publish(db, item)
    (result,) = await _views(db, actor, [(item, author, site, on)], threshold=None)
    return result


def _insert_ignoring_duplicates(db: AsyncSession) -> Any:
    """INSERT … ON CONFLICT DO NOTHING into agenda_supports (one statement, no savepoint)."""
    if db.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(AgendaSupport).on_conflict_do_nothing(index_elements=["item_id", "member_id"])


async def set_status(
    db: AsyncSession, actor: Actor, item_id: int, status: str, reason: str
) -> ItemView:
    require(actor, MANAGE)
    item = await _item(db, actor, item_id)
    _choice(status, STATUSES, "status")
    clean_reason = clean_text(reason, field="reason", max_length=MAX_REASON)
    if status == item.status:
        raise ValidationFailed("errors.status_unchanged", status=status)
    if status not in TRANSITIONS[item.status]:
        raise ValidationFailed(
            "errors.status_not_allowed",
            current=item.status,
            status=status,
            allowed=", ".join(sorted(TRANSITIONS[item.status])),
        )
    db.add(
        AgendaStatusChange(
            item_id=item.id,
            from_status=item.status,
            to_status=status,
            reason=clean_reason or "",
            changed_by_id=actor.member_id,
        )
    )
    previous, item.status = item.status, status
    await audit.record(
        db, actor, "agenda.status", "agenda_item", item.id, from_status=previous, to_status=status
    )
    await _publish(db, item)
    if item.author_id is not None and not item.anonymous:
        await scheduling.schedule(
            db,
            community_id=item.community_id,
            kind="agenda.notify",
            key=f"agenda:{item.id}:notify:{uuid.uuid4().hex}",
            due_at=clock.now(),
            payload={"item_id": item.id},
            grace=timedelta(days=2),
        )
    return await view(db, actor, item.id)


async def hide(db: AsyncSession, actor: Actor, item_id: int, reason: str) -> Moderated:
    """A moderator hides the point's text with a reason (see the module's docstring)."""
    require(actor, MODERATE)
    item = await _item(db, actor, item_id)
    clean_reason = clean_text(reason, field="reason", max_length=MAX_REASON)
    if item.hidden_at is not None:
        raise Conflict("errors.agenda_already_hidden", number=item.id)
    item.hidden_at = clock.now()
    item.hidden_reason = clean_reason
    item.hidden_by_id = actor.member_id if actor.member_id > 0 else None
    await audit.record(db, actor, "agenda.hidden", "agenda_item", item.id)
    await _publish(db, item)
    return Moderated(item.id, await _tell_author(db, item, "hidden"))


async def restore(db: AsyncSession, actor: Actor, item_id: int) -> Moderated:
    """A moderator shows the point's text again."""
    require(actor, MODERATE)
    item = await _item(db, actor, item_id)
    if item.hidden_at is None:
        raise Conflict("errors.agenda_not_hidden", number=item.id)
    item.hidden_at = item.hidden_reason = item.hidden_by_id = None
    await audit.record(db, actor, "agenda.restored", "agenda_item", item.id)
    await _publish(db, item)
    return Moderated(item.id, await _tell_author(db, item, "restored"))


async def _tell_author(db: AsyncSession, item: AgendaItem, action: str) -> bool:
    """Schedule the private notice to the proposer; False when there is nobody to tell."""
    if item.author_id is None or item.anonymous:
        return False
    await scheduling.schedule(
        db,
        community_id=item.community_id,
        kind="agenda.moderated",
        key=f"agenda:{item.id}:{action}:{uuid.uuid4().hex}",
        due_at=clock.now(),
        # the reason goes with the notice (so it arrives even after a quick restore);
        # finished jobs are purged after 30 days, and it never enters the audit trail
        payload={"item_id": item.id, "action": action, "reason": item.hidden_reason or ""},
        grace=timedelta(days=2),
    )
    return True


async def link(
    db: AsyncSession, actor: Actor, item_id: int, target_type: str, target_id: int
) -> ItemView:
    require(actor, MANAGE)
    item = await _item(db, actor, item_id)
    _choice(target_type, LINK_TYPES, "link_type")
    if target_type == "session":
        from leerbot.core import sessions

        await sessions.view(db, actor, target_id)  # raises NotFound for an unknown session
    else:
        from leerbot.core import practices

        await practices.require_shared(db, actor, target_id)  # unknown, or someone's draft
    try:
        async with db.begin_nested():
            db.add(AgendaLink(item_id=item.id, target_type=target_type, target_id=target_id))
    except IntegrityError:
        raise Conflict("errors.already_linked") from None
    await audit.record(
        db, actor, "agenda.linked", "agenda_item", item.id, target=f"{target_type}:{target_id}"
    )
    await _publish(db, item)  # both cards show the link
    await _republish_target(db, target_type, target_id)
    return await view(db, actor, item.id)


async def _republish_target(db: AsyncSession, target_type: str, target_id: int) -> None:
    from leerbot.db.models import Practice, SessionOccurrence

    if target_type == "practice":
        from leerbot.core import practices

        practice = await db.get(Practice, target_id)
        if practice is not None:
            await practices.publish(db, practice)
    else:
        from leerbot.core import sessions

        occurrence = await db.get(SessionOccurrence, target_id)
        if occurrence is not None:
            await sessions.republish(db, occurrence)


async def linked_items(
    db: AsyncSession, actor: Actor, target_type: str, target_id: int
) -> list[ItemView]:
    """The agenda points that refer to a session or practice (they show them back)."""
    require(actor, VIEW)
    rows = (
        await db.execute(
            _select_items(actor)
            .join(AgendaLink, AgendaLink.item_id == AgendaItem.id)
            .where(
                AgendaLink.target_type == target_type,
                AgendaLink.target_id == target_id,
                AgendaItem.community_id == actor.community_id,
            )
            .order_by(AgendaItem.id)
        )
    ).all()
    return await _views(db, actor, [tuple(r) for r in rows], threshold=None)


async def merge(
    db: AsyncSession, actor: Actor, source_id: int, target_id: int, reason: str
) -> ItemView:
    """Merge `source` into `target`: its support moves over (nobody counted twice), its
    links too, and its history says where it went."""
    require(actor, MANAGE)
    if source_id == target_id:
        raise ValidationFailed("errors.merge_self")
    source = await _item(db, actor, source_id)
    target = await _item(db, actor, target_id)
    for item in (source, target):  # say which point went where, not the other way round
        if item.merged_into_id is not None:
            raise ValidationFailed(
                "errors.agenda_already_merged", point=item.id, number=item.merged_into_id
            )
    clean_reason = clean_text(reason, field="reason", max_length=MAX_REASON)
    already = select(AgendaSupport.member_id).where(AgendaSupport.item_id == target.id)
    moved = await db.execute(
        update(AgendaSupport)
        .where(AgendaSupport.item_id == source.id, AgendaSupport.member_id.not_in(already))
        .values(item_id=target.id)
    )
    await db.execute(AgendaSupport.__table__.delete().where(AgendaSupport.item_id == source.id))
    target_links = {
        (t, i)
        for t, i in (
            await db.execute(
                select(AgendaLink.target_type, AgendaLink.target_id).where(
                    AgendaLink.item_id == target.id
                )
            )
        ).all()
    }
    for existing in await db.scalars(select(AgendaLink).where(AgendaLink.item_id == source.id)):
        if (existing.target_type, existing.target_id) in target_links:
            await db.delete(existing)
        else:
            existing.item_id = target.id
    target.support_count = int(
        await db.scalar(
            select(func.count(AgendaSupport.id)).where(AgendaSupport.item_id == target.id)
        )
        or 0
    )
    source.support_count = 0
    source.merged_into_id = target.id
    db.add(
        AgendaStatusChange(
            item_id=source.id,
            from_status=source.status,
            to_status=source.status,
            reason=clean_reason or "",
            changed_by_id=actor.member_id,
        )
    )
    await audit.record(
        db,
        actor,
        "agenda.merged",
        "agenda_item",
        source.id,
        into=target.id,
        supports_moved=int(moved.rowcount or 0),
    )  # type: ignore[attr-defined]
    await _publish(db, source)
    await _publish(db, target)
    return await view(db, actor, target.id)


async def listing(
    db: AsyncSession,
    actor: Actor,
    filters: Filters,
    page: int = 1,
    page_size: int = PAGE_SIZE,
    *,
    threshold: int | None = None,
    after: str | None = None,
    before: str | None = None,
    total: int | None = None,
) -> Page:
    """A page of points, by support or by date. `after` (the next page) and `before` (the
    previous one) are a page's `last` and `first` keys: the page is read along the index
    from there (keyset paging), never by counting past every earlier point, so page 2,000
    costs what page 1 does. Without a key, `page` is counted (older page buttons). `total`
    is the count the first page found: a page with a key and a total does not count the
    points again."""
    require(actor, VIEW)
    conditions = [
        AgendaItem.community_id == actor.community_id,
        AgendaItem.merged_into_id.is_(None),
    ]
    if filters.theme:
        conditions.append(AgendaItem.theme == filters.theme)
    if filters.status:
        conditions.append(AgendaItem.status == _choice(filters.status, STATUSES, "status"))
    if filters.kind:
        conditions.append(AgendaItem.kind == _choice(filters.kind, KINDS, "kind"))
    if filters.site:
        site = await find_site(db, actor, filters.site)
        conditions.append(AgendaItem.site_id == site.id)
        if threshold is None or site.id in await _small_sites(db, actor.community_id, threshold):
            conditions.append(AgendaItem.anonymous.is_(False))  # the filter would name it
    if total is None or not (after or before):
        total = int(
            await db.scalar(select(func.count()).select_from(AgendaItem).where(*conditions)) or 0
        )
    pages = max(1, (total + page_size - 1) // page_size)
    page = min(max(1, page), pages)
    by_support = filters.sort != "date"
    first_column: Any = AgendaItem.support_count if by_support else AgendaItem.created_at
    sort_key = tuple_(first_column, AgendaItem.id)
    query = _select_items(actor).where(*conditions).limit(page_size)
    key = _decode_key(after or before, by_support)
    rows: list[_Row] = []
    if key is not None and after:
        query_after = query.where(sort_key < _key_params(key, first_column))
        rows = await _rows(db, query_after.order_by(first_column.desc(), AgendaItem.id.desc()))
    elif key is not None:
        query_before = query.where(sort_key > _key_params(key, first_column))
        rows = (await _rows(db, query_before.order_by(first_column, AgendaItem.id)))[::-1]
    if not rows:  # no key, or nothing left there (points merged since): count the page
        ordered = query.order_by(first_column.desc(), AgendaItem.id.desc())
        rows = await _rows(db, ordered.offset((page - 1) * page_size))
    items = await _views(db, actor, rows, threshold=threshold)
    return Page(
        items,
        page,
        pages,
        total,
        first=_encode_key(items[0], by_support) if items else None,
        last=_encode_key(items[-1], by_support) if items else None,
    )


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _encode_key(item: ItemView, by_support: bool) -> str:
    """Where a page starts or ends in its order: `support.id`, or `microseconds.id`."""
    if by_support:
        return f"{item.support_count}.{item.id}"
    moment = item.created_at if item.created_at.tzinfo else item.created_at.replace(tzinfo=UTC)
    return f"{(moment - _EPOCH) // timedelta(microseconds=1)}.{item.id}"


def _decode_key(text: str | None, by_support: bool) -> tuple[object, int] | None:
    if not text:
        return None
    first, _, second = text.partition(".")
    try:
        number, item_id = int(first), int(second)
    except ValueError:
        return None  # not a key: the page is counted instead
    if by_support:
        return number, item_id
    return _EPOCH + timedelta(microseconds=number), item_id


def _key_params(key: tuple[object, int], first_column: Any) -> Any:
    return tuple_(
        bindparam(None, key[0], type_=first_column.type), bindparam(None, key[1], type_=Integer())
    )


# --- export ------------------------------------------------------------------------------


@dataclass(slots=True)
class ReportPoint:
    id: int
    title: str
    description: str
    theme: str
    kind: str
    level: str
    site: str
    author: str
    status: str
    support: int
    created: date
    hidden: bool = False
    """A moderator hid the text: `title`, `description` and `author` are empty."""
    site_withheld: bool = False
    """An anonymous point from a site with fewer members than the threshold: `site` is
    empty and the export says "een proeftuin" (see AgendaReport)."""


@dataclass
class AgendaReport:
    community: str
    start: date | None
    end: date | None
    site: str | None
    theme: str | None
    threshold: int
    themes: list[tuple[str, str]]  # key, name
    by_theme_status: dict[str, dict[str, int]] = field(default_factory=dict)
    by_site: dict[str, int] = field(default_factory=dict)
    top: list[ReportPoint] = field(default_factory=list)
    changes: list[tuple[date, int, str, str, str, str]] = field(default_factory=list)
    points: list[ReportPoint] = field(default_factory=list)
    theme_name: str | None = None
    """The theme filter as readers name it (`theme` is its key)."""
    some_site: int = 0
    """Anonymous points from small sites, counted together under "een proeftuin"."""

    def small(self, count: int) -> str:
        """How a count reads in the export. The small-count rule of this report (README,
        *Privacy*): what is protected is a *person* who could be narrowed down to fewer than
        `threshold` people by what the same document says. Counts of points (per theme and
        status, per site) and support counts name nobody and are shown exactly; hiding
        them as "< 5" protected nobody, because the point list beside them gives every
        number away. What could narrow someone down is the site of an *anonymous* point from
        a small site (its author is one of a handful of members): such a point shows "een
        proeftuin", counts under "een proeftuin" in the per-site counts, and is left out of
        an export filtered on that site."""
        return str(count)


async def report(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    start: date | None = None,
    end: date | None = None,
    site: str | None = None,
    theme: str | None = None,
    locale: str = "nl",
) -> AgendaReport:
    """The data of a coordinator's export; the same for every format and front end."""
    require(actor, EXPORT)
    from leerbot.db.models import Community

    themes = load_themes(settings.content_dir)
    if theme is not None:
        _choice(theme, themes, "theme")
    if start and end and end < start:
        raise ValidationFailed("errors.period_reversed")
    community = await db.get(Community, actor.community_id)
    threshold = settings.privacy.small_number_threshold
    conditions = [
        AgendaItem.community_id == actor.community_id,
        AgendaItem.merged_into_id.is_(None),
    ]
    site_name = None
    small_sites = await _small_sites(db, actor.community_id, threshold)
    if site:
        site_row = await find_site(db, actor, site)
        conditions.append(AgendaItem.site_id == site_row.id)
        if site_row.id in small_sites:  # the filter itself would name an anonymous author's site
            conditions.append(AgendaItem.anonymous.is_(False))
        site_name = site_row.name
    if theme:
        conditions.append(AgendaItem.theme == theme)
    tz = settings.tz
    if end:
        conditions.append(AgendaItem.created_at < _day_start(end + timedelta(days=1), tz))
    site_names = dict(
        (
            await db.execute(
                select(Site.id, Site.name).where(Site.community_id == actor.community_id)
            )
        ).all()
    )
    authors = dict(
        (
            await db.execute(
                select(Member.id, Member.display_name).where(
                    Member.community_id == actor.community_id
                )
            )
        ).all()
    )
    out = AgendaReport(
        community=community.name if community else "",
        start=start,
        end=end,
        site=site_name,
        theme=theme,
        threshold=threshold,
        themes=[(k, t.name(locale)) for k, t in themes.items()],
        theme_name=themes[theme].name(locale) if theme and theme in themes else theme,
    )
    # Columns, not ORM objects, and the points' ids as a subquery, not a list of parameters
    # (PostgreSQL allows 32,767 of those): 100,000 points in one pass.
    chosen = select(AgendaItem.id).where(*conditions)
    titles: dict[int, str] = {}
    theme_names = {k: t.name(locale) for k, t in themes.items()}
    moment = _moments(db, tz)
    connection = await db.connection()  # Core rows: no ORM bookkeeping for 100,000 of them
    rows = await connection.execute(
        select(
            AgendaItem.id,
            AgendaItem.title,
            AgendaItem.description,
            AgendaItem.theme,
            AgendaItem.kind,
            AgendaItem.level,
            AgendaItem.site_id,
            AgendaItem.author_id,
            AgendaItem.anonymous,
            AgendaItem.status,
            AgendaItem.support_count,
            moment.column(AgendaItem.created_at),
            AgendaItem.hidden_at.is_not(None),
        )
        .where(*conditions)
        .order_by(AgendaItem.id)
    )
    for row in rows:
        (item_id, title, description, theme_key, kind, level, site_id, author_id, anonymous,
         status, support, created, hidden) = row  # fmt: skip
        withheld = anonymous and site_id in small_sites
        titles[item_id] = "" if hidden else title
        point = ReportPoint(
            id=item_id,
            title="" if hidden else title,
            description="" if hidden else description,
            theme=theme_names.get(theme_key, theme_key),
            kind=kind,
            level=level,
            site="" if withheld else site_names.get(site_id, "") or "",
            author="" if hidden or anonymous or author_id is None else authors.get(author_id, ""),
            status=status,
            support=support,
            created=moment.local_day(created),
            hidden=hidden,
            site_withheld=withheld,
        )
        out.points.append(point)
        counts = out.by_theme_status.get(point.theme)
        if counts is None:
            counts = out.by_theme_status[point.theme] = dict.fromkeys(STATUSES, 0)
        counts[status] += 1
        if withheld:
            out.some_site += 1
        else:
            out.by_site[point.site or "-"] = out.by_site.get(point.site or "-", 0) + 1
    changes = await connection.execute(
        select(
            AgendaStatusChange.item_id,
            AgendaStatusChange.from_status,
            AgendaStatusChange.to_status,
            AgendaStatusChange.reason,
            moment.column(AgendaStatusChange.created_at),
        )
        .where(
            AgendaStatusChange.item_id.in_(chosen),
            AgendaStatusChange.from_status.is_not(None),
        )
        .order_by(AgendaStatusChange.created_at, AgendaStatusChange.id)
    )
    for item_id, from_status, to_status, reason, created_at in changes:
        day = moment.local_day(created_at)
        if (start is None or day >= start) and (end is None or day <= end):
            out.changes.append((day, item_id, titles[item_id], from_status, to_status, reason))
    out.top = heapq.nsmallest(10, out.points, key=lambda p: (-p.support, p.id))
    return out


class _Moments:
    """Timestamps read in bulk, as local days. SQLite keeps them as text, and SQLAlchemy's
    parser costs about as much as the rest of a 100,000-point report: read the text and work
    per quarter of an hour (a local day can only change there), parsing each one once.
    PostgreSQL's driver returns datetimes; the same cache applies."""

    def __init__(self, sqlite: bool, tz: Any) -> None:
        self.sqlite = sqlite
        self.tz = tz
        self._days: dict[object, date] = {}

    def column(self, column: Any) -> Any:
        return cast(column, String) if self.sqlite else column

    def local_day(self, raw: Any) -> date:
        # every zone's offset is a multiple of 15 minutes: so is the bucket
        if isinstance(raw, str):
            hour: object = (raw[:13], int(raw[14:16]) // 15)
        else:
            hour = (raw.date(), raw.hour, raw.minute // 15, raw.utcoffset())
        day = self._days.get(hour)
        if day is None:
            moment = datetime.fromisoformat(raw) if isinstance(raw, str) else raw
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            day = self._days[hour] = moment.astimezone(self.tz).date()
        return day


def _moments(db: AsyncSession, tz: Any) -> _Moments:
    return _Moments(db.get_bind().dialect.name == "sqlite", tz)


async def _small_sites(db: AsyncSession, community_id: int, threshold: int) -> set[int]:
    """Sites with fewer members than the threshold: too small to name next to anonymous
    work."""
    sizes = dict(
        (
            await db.execute(
                select(Site.id, func.count(Member.id))
                .outerjoin(Member, Member.site_id == Site.id)
                .where(Site.community_id == community_id)
                .group_by(Site.id)
            )
        ).all()
    )
    return {site_id for site_id, size in sizes.items() if size < threshold}


def _day_start(day: date, tz: object) -> datetime:
    return datetime.combine(day, datetime.min.time()).replace(tzinfo=tz).astimezone(UTC)  # type: ignore[arg-type]


# --- data rights -------------------------------------------------------------------------


async def _count_data(db: AsyncSession, member: Member) -> dict[str, int]:
    named = await db.scalar(
        select(func.count(AgendaItem.id)).where(
            AgendaItem.author_id == member.id, AgendaItem.anonymous.is_(False)
        )
    )
    supported = await db.scalar(
        select(func.count(AgendaSupport.id)).where(AgendaSupport.member_id == member.id)
    )
    return {"points": int(named or 0), "supports": int(supported or 0)}


async def _export_data(db: AsyncSession, member: Member) -> dict[str, object]:
    points = await db.scalars(
        select(AgendaItem).where(AgendaItem.author_id == member.id, AgendaItem.anonymous.is_(False))
    )
    supported = await db.execute(
        select(AgendaItem.id, AgendaItem.title, AgendaItem.hidden_at)
        .join(AgendaSupport, AgendaSupport.item_id == AgendaItem.id)
        .where(AgendaSupport.member_id == member.id)
    )
    return {
        "points": [
            {
                "number": p.id,
                "title": p.title,
                "description": p.description,
                "theme": p.theme,
                "status": p.status,
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
            for p in points
        ],
        # someone else's point: while a moderator hides it, its title is not yours to get
        "supported": [
            {"number": i, "title": t} if hidden_at is None else {"number": i, "hidden": True}
            for i, t, hidden_at in supported
        ],
    }


async def _delete_data(db: AsyncSession, member: Member) -> None:
    """Support is withdrawn (the counts drop), named points stay without the name, and the
    card of every point that showed the name or counted the support is shown again."""
    supported = list(
        await db.scalars(select(AgendaSupport.item_id).where(AgendaSupport.member_id == member.id))
    )
    await db.execute(AgendaSupport.__table__.delete().where(AgendaSupport.member_id == member.id))
    for item_id in supported:
        await db.execute(
            update(AgendaItem)
            .where(AgendaItem.id == item_id)
            .values(support_count=AgendaItem.support_count - 1)
        )
    named = list(
        await db.scalars(
            select(AgendaItem.id).where(
                AgendaItem.author_id == member.id, AgendaItem.anonymous.is_(False)
            )
        )
    )
    await db.execute(
        update(AgendaItem)
        .where(AgendaItem.author_id == member.id)
        .values(author_id=None, anonymous=True)
    )
    for item_id in sorted(set(supported) | set(named)):
        item = await db.get(AgendaItem, item_id)
        if item is not None:
            await _publish(db, item)
    await db.execute(
        update(AgendaStatusChange)
        .where(AgendaStatusChange.changed_by_id == member.id)
        .values(changed_by_id=None)
    )
    await db.execute(  # a moderator who leaves: the point stays hidden, without their name
        update(AgendaItem).where(AgendaItem.hidden_by_id == member.id).values(hidden_by_id=None)
    )


def _register_data_handler() -> None:
    from leerbot.core import privacy

    privacy.register(
        privacy.DataHandler(
            name="agenda",
            tables=("agenda_items", "agenda_supports", "agenda_status_changes"),
            summary_key="privacy.summary.agenda",
            count=_count_data,
            export=_export_data,
            delete=_delete_data,
            delete_note_key="privacy.delete_note.agenda",
            order=30,
        )
    )


_register_data_handler()
