"""Messages the bot posts in a channel or thread (cards, summaries, thread introductions,
digests) and threads it opens without a message: one row per thing, written before the
first attempt and confirmed with Discord's id after Discord accepted it (see
`leerbot.chat.delivery`). Direct messages to members are `ReminderDelivery` rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leerbot.db.models.base import Base, UTCDateTime, utcnow


class ChannelPost(Base):
    """One message (or thread) the bot creates in a channel, by what it is (`key`, e.g.
    `agenda:7:card`, `round:12:summary`). The row's id is the message's nonce."""

    __tablename__ = "channel_posts"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(160))
    job_key: Mapped[str | None] = mapped_column(String(160))
    """The scheduled job that last tried: while it has not finished, a pending row is work
    in progress, not a lost message."""
    channel_id: Mapped[str] = mapped_column(String(64))
    """Where it goes (for a thread: the channel it is opened in)."""
    state: Mapped[str] = mapped_column(String(16), default="pending")
    """pending | sent | failed | unchecked (as `ReminderDelivery.via`)."""
    message_id: Mapped[str | None] = mapped_column(String(64))
    """Discord's id of the message (or of the thread) once confirmed."""
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fingerprints: Mapped[str | None] = mapped_column(String(160))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reason: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
