"""The audit trail: who changed what, for coordinators. Never for anonymous content, and
never the text of private fields (only which field changed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import String, cast, delete, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from leerbot import clock
from leerbot.core.actor import Actor
from leerbot.core.permissions import Action, require
from leerbot.db.models import AuditEntry, Member, Site

MEMBER_DETAIL = "member"
"""The one key under which `details` may name a member (by key, never by name): what a
moderator did to someone (confirmed their role, recorded their attendance). Forgetting a
member (`forget_member`) looks for it; names and private texts never go into `details`."""


async def record(
    db: AsyncSession,
    actor: Actor,
    action: str,
    target_type: str,
    target_id: str | int | None = None,
    **details: Any,
) -> None:
    """Add an audit entry in the caller's unit of work (it commits with the change)."""
    db.add(
        AuditEntry(
            community_id=actor.community_id,
            actor_id=actor.member_id if actor.member_id > 0 else None,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            details=details,
        )
    )


@dataclass(frozen=True)
class AuditLine:
    when: datetime
    actor_name: str | None
    action: str
    target_type: str
    target_id: str | None
    details: dict[str, Any]
    target_name: str | None = None
    """The name a coordinator knows the target by (a pilot site's, a member's), when it
    still exists: sites and members are named, not numbered, everywhere else."""
    member_name: str | None = None
    """The member a moderator acted on (`details["member"]`), when they still exist."""
    own: bool = False
    """The actor acted on themselves (their own profile)."""


async def recent(db: AsyncSession, actor: Actor, limit: int = 20) -> list[AuditLine]:
    require(actor, Action.VIEW_AUDIT)
    rows = (
        await db.execute(
            select(AuditEntry, Member.display_name)
            .outerjoin(Member, Member.id == AuditEntry.actor_id)
            .where(AuditEntry.community_id == actor.community_id)
            .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
            .limit(max(1, min(limit, 100)))
        )
    ).all()
    sites = {_number(e.target_id) for e, _ in rows if e.target_type == "site"}
    members = {_number(e.target_id) for e, _ in rows if e.target_type == "member"}
    members |= {_number((e.details or {}).get(MEMBER_DETAIL)) for e, _ in rows}
    site_names = await _names(db, Site, sites - {None}, actor.community_id)
    member_names = await _names(db, Member, members - {None}, actor.community_id)
    named = {"site": site_names, "member": member_names}
    lines = []
    for entry, name in rows:
        details = dict(entry.details or {})
        target = _number(entry.target_id)
        lines.append(
            AuditLine(
                entry.created_at,
                name,
                entry.action,
                entry.target_type,
                entry.target_id,
                details,
                target_name=named.get(entry.target_type, {}).get(target),
                member_name=member_names.get(_number(details.get(MEMBER_DETAIL))),
                own=entry.target_type == "member"
                and entry.actor_id is not None
                and target == entry.actor_id,
            )
        )
    return lines


def _number(value: object) -> int | None:
    text = str(value) if value is not None else ""
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


async def _names(
    db: AsyncSession, model: Any, ids: set[int | None], community_id: int
) -> dict[int | None, str]:
    if not ids:
        return {}
    found = await db.execute(
        select(model.id, model.name if model is Site else model.display_name).where(
            model.id.in_(ids), model.community_id == community_id
        )
    )
    return {row[0]: row[1] for row in found}


async def forget_member(db: AsyncSession, member_id: int) -> None:
    """A member deleted their data: no audit row may point at them any more.

    - Rows *about* them (target "member") that they wrote themselves, or that have no
      author left, are removed: "someone changed a profile" tells a coordinator nothing, and
      a field list with a time is still about one person. Rows about them written by someone
      else (a coordinator who made them moderator) stay, without the target: that person's
      action stays accountable, but it no longer points at anybody.
    - A `details` key naming them (see MEMBER_DETAIL) is taken out; the action stays.
    - Rows they wrote lose their author.
    """
    about = (AuditEntry.target_type == "member") & (AuditEntry.target_id == str(member_id))
    await db.execute(
        delete(AuditEntry).where(
            about, or_(AuditEntry.actor_id == member_id, AuditEntry.actor_id.is_(None))
        )
    )
    await db.execute(update(AuditEntry).where(about).values(target_id=None))
    candidates = await db.scalars(
        select(AuditEntry).where(
            cast(AuditEntry.details, String).contains(f'"{MEMBER_DETAIL}"', autoescape=True)
        )
    )
    for entry in candidates:
        if (entry.details or {}).get(MEMBER_DETAIL) == member_id:
            entry.details = {k: v for k, v in entry.details.items() if k != MEMBER_DETAIL}
    await db.execute(
        update(AuditEntry).where(AuditEntry.actor_id == member_id).values(actor_id=None)
    )


async def purge_expired(db: AsyncSession, retention_days: int) -> int:
    """Delete audit entries older than the retention period; returns how many."""
    from datetime import timedelta

    cutoff = clock.now() - timedelta(days=retention_days)
    result = await db.execute(delete(AuditEntry).where(AuditEntry.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
