"""Small helpers for tests that call the core directly."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leerbot.core.actor import Actor, Function, Identity
from leerbot.core.community import get_or_create_community, resolve_actor
from leerbot.db.models import AuditEntry


async def actor_for(
    sessionmaker: async_sessionmaker[AsyncSession],
    name: str,
    *,
    coordinator: bool = False,
    moderator: bool = False,
    locale: str | None = None,
    place: str = "guild-1",
) -> Actor:
    """Create (or find) a member and return them as an Actor, committed."""
    granted: set[Function] = set()
    if coordinator:
        granted.add(Function.COORDINATOR)
    if moderator:
        granted.add(Function.MODERATOR)
    async with sessionmaker() as db, db.begin():
        community = await get_or_create_community(db, place, "Test community")
        return await resolve_actor(
            db,
            community,
            Identity(
                name.casefold(), name, locale_hint=locale, granted_functions=frozenset(granted)
            ),
        )


async def audit_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count(AuditEntry.id))) or 0)
