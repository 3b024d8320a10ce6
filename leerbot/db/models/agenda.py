"""The development agenda (ontwikkelagenda): points, support, status history and links."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from leerbot.db.models.base import Base, UTCDateTime, utcnow

LISTING_INDEXES: dict[str, tuple[str, ...]] = {
    "ix_agenda_items_by_support": ("community_id", "support_count", "id"),
    "ix_agenda_items_by_date": ("community_id", "created_at", "id"),
    "ix_agenda_items_by_status": ("community_id", "status", "support_count", "id"),
    "ix_agenda_items_by_theme": ("community_id", "theme", "support_count", "id"),
    "ix_agenda_items_by_site": ("community_id", "site_id", "support_count", "id"),
    "ix_agenda_items_by_kind": ("community_id", "kind", "support_count", "id"),
}
"""The indexes behind `/agenda lijst` (migration 0015 makes the same)."""


class AgendaItem(Base):
    """A point on the agenda. `author_id` is empty for anonymous points (and after the
    author deleted their data): the community keeps the agenda, not the person."""

    __tablename__ = "agenda_items"
    # `/agenda lijst` reads a page along one of these (keyset paging, core.agenda.listing):
    # the community's points not merged away, by support or by date, optionally by status,
    # theme, site or kind; the count of the same points reads the index alone. Partial
    # indexes (only points not merged away): PostgreSQL does not take `merged_into_id IS
    # NULL` in an index's columns as an equality, and would sort the whole community again.
    __table_args__ = tuple(
        Index(
            name,
            *columns,
            postgresql_where=text("merged_into_id IS NULL"),
            sqlite_where=text("merged_into_id IS NULL"),
        )
        for name, columns in LISTING_INDEXES.items()
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text)
    theme: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(32))
    level: Mapped[str] = mapped_column(String(32))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(20), default="nieuw")
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="SET NULL")
    )
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """Set while a moderator has hidden the text (title and description) from everyone."""
    hidden_reason: Mapped[str | None] = mapped_column(String(300))
    """The moderator's reason; never shown with the point, never in the audit trail."""
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AgendaSupport(Base):
    __tablename__ = "agenda_supports"
    __table_args__ = (UniqueConstraint("item_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AgendaStatusChange(Base):
    """One step in a point's history, with the coordinator's short reason."""

    __tablename__ = "agenda_status_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(300))
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class AgendaLink(Base):
    """A point refers to an intervisie session or a practice (and they show it back)."""

    __tablename__ = "agenda_links"
    __table_args__ = (
        UniqueConstraint("item_id", "target_type", "target_id"),
        Index("ix_agenda_links_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True
    )
    target_type: Mapped[str] = mapped_column(String(16))  # session | practice
    target_id: Mapped[int] = mapped_column(Integer)
