"""The shared log of practices across pilot sites ("wat werkt in welke context")."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leerbot.db.models.base import Base, UTCDateTime, utcnow


class Practice(Base):
    """One practice. `author_id` is empty for anonymous entries (and after the author
    deleted their data). A draft becomes visible only after the author confirmed that no
    client can be recognised from it."""

    __tablename__ = "practices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    context: Mapped[str] = mapped_column(Text, default="")
    what_we_do: Mapped[str] = mapped_column(Text, default="")
    expert_role: Mapped[str] = mapped_column(Text, default="")
    why_it_works: Mapped[str] = mapped_column(Text, default="")
    result: Mapped[str] = mapped_column(Text, default="")
    pitfalls: Mapped[str] = mapped_column(Text, default="")
    conditions: Mapped[str] = mapped_column(Text, default="")
    funding: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str | None] = mapped_column(String(40))
    level: Mapped[str | None] = mapped_column(String(32))
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft|shared|withdrawn
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set while a moderator has hidden the text (title and every text field)."""
    hidden_reason: Mapped[str | None] = mapped_column(String(300))
    """The moderator's reason; never shown with the practice, never in the audit trail."""
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    shared_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PracticeRevision(Base):
    """The practice as it was before an edit: history is kept."""

    __tablename__ = "practice_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        ForeignKey("practices.id", ondelete="CASCADE"), index=True
    )
    editor_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PracticeLink(Base):
    """A practice refers to an intervisie session (agenda links live in agenda_links)."""

    __tablename__ = "practice_links"
    __table_args__ = (UniqueConstraint("practice_id", "target_type", "target_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    practice_id: Mapped[int] = mapped_column(
        ForeignKey("practices.id", ondelete="CASCADE"), index=True
    )
    target_type: Mapped[str] = mapped_column(String(16))  # session
    target_id: Mapped[int] = mapped_column(Integer)


class SavedSearch(Base):
    """A search behind a "next page" button: Discord allows 100 characters in a button's
    id, too few for a query with its filters. It belongs to the member who searched (their
    words are theirs), goes when they delete their data, and is purged after
    `practices.saved_search_days` in any case. Rows from before owners were kept have none."""

    __tablename__ = "saved_searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    query: Mapped[str] = mapped_column(String(200))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
