"""How many of the bot's messages about one thing (a round, a session) did not arrive.

A message is recorded before it is sent and confirmed after Discord took it
(`leerbot.chat.delivery`). Not delivered: refused for good or retries used up (`failed`),
not checkable after a crash (`unchecked`), or still unconfirmed a while after its record was
made (its job was cut off and not run again in time, or Discord has been failing for that
long). Moderators see the count (`/ronde samenvatting`, `/sessie bekijken`); who it was
about is never shown, only how many.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from leerbot import clock
from leerbot.db.models import ChannelPost, ReminderDelivery

UNCONFIRMED_AFTER = timedelta(minutes=15)
"""A record still unconfirmed this long after it was made counts as not delivered."""


async def undelivered(
    db: AsyncSession, prefix: str, now: datetime | None = None, *, posts: bool = True
) -> int:
    """Messages whose key starts with `prefix` (`round:12:`, `session:7:`) that did not
    arrive: direct messages and (unless `posts` is False) posts together."""
    stale = (now or clock.now()) - UNCONFIRMED_AFTER
    direct = await db.scalar(
        select(func.count(ReminderDelivery.id)).where(
            ReminderDelivery.job_key.startswith(prefix, autoescape=True),
            or_(
                ReminderDelivery.via.in_(("failed", "unchecked")),
                and_(
                    ReminderDelivery.via.in_(("pending", "pending-thread")),
                    ReminderDelivery.created_at < stale,
                ),
            ),
        )
    )
    if not posts:
        return int(direct or 0)
    posted = await db.scalar(
        select(func.count(ChannelPost.id)).where(
            ChannelPost.key.startswith(prefix, autoescape=True),
            or_(
                ChannelPost.state.in_(("failed", "unchecked")),
                and_(ChannelPost.state == "pending", ChannelPost.created_at < stale),
            ),
        )
    )
    return int(direct or 0) + int(posted or 0)
