"""Communities, organisations, pilot sites and members (the community core)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leerbot.db.models.base import Base, UTCDateTime, utcnow


def new_calendar_key() -> str:
    """A random name for a community's calendar entries (see `Community.calendar_key`)."""
    return secrets.token_hex(16)


class Community(Base):
    """One community per Discord server (or the one local console community)."""

    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    locale: Mapped[str] = mapped_column(String(5), default="nl")
    announcement_channel_id: Mapped[str | None] = mapped_column(String(64))
    agenda_channel_id: Mapped[str | None] = mapped_column(String(64))
    sessions_channel_id: Mapped[str | None] = mapped_column(String(64))
    practices_channel_id: Mapped[str | None] = mapped_column(String(64))
    moderator_role_id: Mapped[str | None] = mapped_column(String(64))
    coordinator_role_id: Mapped[str | None] = mapped_column(String(64))
    role_channels: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    """Where each member role meets ({"professional": channel id}): a role round's summary
    is published there, and nowhere else."""
    calendar_key: Mapped[str] = mapped_column(String(32), default=new_calendar_key)
    """Random, made once per community: part of every calendar UID the community's files
    carry, so that no two communities (on this or another installation) share a UID, while
    every file that holds the same meeting gives it the same one (see
    `leerbot.core.sessions.calendar_uid`). Reveals nothing about the server."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Organisation(Base):
    """A care organisation; it may have several types (verslavingszorg, ggz, MO, …)."""

    __tablename__ = "organisations"
    __table_args__ = (UniqueConstraint("community_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Site(Base):
    """A pilot site (proeftuin), usually belonging to an organisation."""

    __tablename__ = "sites"
    __table_args__ = (UniqueConstraint("community_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    name: Mapped[str] = mapped_column(String(100))
    name_key: Mapped[str] = mapped_column(String(100))
    city: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    channel_id: Mapped[str | None] = mapped_column(String(64))
    """The site's own channel: a site round's summary is published there, nowhere else."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    organisation: Mapped[Organisation | None] = relationship(lazy="joined")


class Member(Base):
    """A person in the community. Personal fields are optional and private by default."""

    __tablename__ = "members"
    __table_args__ = (UniqueConstraint("community_id", "platform_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    platform_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str | None] = mapped_column(String(32))
    is_moderator: Mapped[bool] = mapped_column(Boolean, default=False)
    is_coordinator: Mapped[bool] = mapped_column(Boolean, default=False)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    locale: Mapped[str | None] = mapped_column(String(5))
    platform_locale: Mapped[str | None] = mapped_column(String(5))
    lived_experience: Mapped[str | None] = mapped_column(Text)
    share_lived_experience: Mapped[bool] = mapped_column(Boolean, default=False)
    welcomed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the member got the welcome with the house rules (once, on first contact)."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    site: Mapped[Site | None] = relationship(lazy="joined")

    def language(self, community_locale: str) -> str:
        """The language for messages the member did not ask for (reminders, notices): their
        own choice, else the language of their Discord, else the community's."""
        return self.locale or self.platform_locale or community_locale


class AuditEntry(Base):
    """Who changed what. Never written for anonymous content."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    actor_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(64))
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
