"""The audit trail: who changed what, for coordinators. Never for anonymous content, and
never the text of private fields (only which field changed)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from leerbot.core.actor import Actor
from leerbot.core.permissions import Action, require
from leerbot.db.models import AuditEntry, Member


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


async def recent(db: AsyncSession, actor: Actor, limit: int = 20) -> list[AuditLine]:
    require(actor, Action.VIEW_AUDIT)
    rows = await db.execute(
        select(AuditEntry, Member.display_name)
        .outerjoin(Member, Member.id == AuditEntry.actor_id)
        .where(AuditEntry.community_id == actor.community_id)
        .order_by(AuditEntry.created_at.desc(), AuditEntry.id.desc())
        .limit(max(1, min(limit, 100)))
    )
    return [
        AuditLine(e.created_at, name, e.action, e.target_type, e.target_id, dict(e.details))
        for e, name in rows
    ]


async def purge_expired(db: AsyncSession, retention_days: int) -> int:
    """Delete audit entries older than the retention period; returns how many."""
    from datetime import UTC, timedelta

    from sqlalchemy import delete

    cutoff = datetime.now(UTC) - timedelta(days=retention_days)
    result = await db.execute(delete(AuditEntry).where(AuditEntry.created_at < cutoff))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
