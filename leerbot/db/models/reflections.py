"""Reflection-question rounds: the round, who was asked, named answers, anonymous answers
(stored with no link to a member at all: see leerbot.core.reflections), pauses and
recurring schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leerbot.db.models.base import Base, UTCDateTime, utcnow


class ReflectionRound(Base):
    __tablename__ = "reflection_rounds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    audience_kind: Mapped[str] = mapped_column(String(16))  # everyone | role | site | session
    audience_value: Mapped[str | None] = mapped_column(String(100))
    delivery: Mapped[str] = mapped_column(String(16))  # dm | thread
    anonymity: Mapped[str] = mapped_column(String(16))  # named | anonymous | choice
    min_answers: Mapped[int] = mapped_column(Integer, default=5)
    opens_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closes_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    channel_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    summary_posted: Mapped[bool] = mapped_column(Boolean, default=False)
    """The close was handled: the draft went to the moderators (or the round was withheld)."""
    summary_to: Mapped[str] = mapped_column(String(16), default="audience")  # | moderators
    review_state: Mapped[str | None] = mapped_column(String(16))
    """None while open; then pending (draft with the moderators), published, kept (a
    moderator chose not to publish) or withheld (fewer answers than the minimum)."""
    reviewed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("members.id", ondelete="SET NULL")
    )
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    published_channel_id: Mapped[str | None] = mapped_column(String(64))
    published_message_id: Mapped[str | None] = mapped_column(String(64))
    sealed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """When the closed round was sealed: answers rewritten in random order, who-answered
    forgotten (see leerbot.core.reflections). From then on the counts below are the record."""
    asked_count: Mapped[int | None] = mapped_column(Integer)
    answered_count: Mapped[int | None] = mapped_column(Integer)
    skipped_count: Mapped[int | None] = mapped_column(Integer)
    anonymous_people: Mapped[int | None] = mapped_column(Integer)
    """How many members answered without a name (for the held-back rule)."""
    undelivered_count: Mapped[int | None] = mapped_column(Integer)
    """Messages of the round (invitations, reminders) not delivered when it was sealed:
    their delivery records go at the seal, the count stays for the moderators."""
    recurring_id: Mapped[int | None] = mapped_column(
        ForeignKey("reflection_schedules.id", ondelete="SET NULL")
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoundRecipient(Base):
    """Who was asked, and whether they answered or skipped — never *what* they answered."""

    __tablename__ = "reflection_recipients"
    __table_args__ = (UniqueConstraint("round_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("reflection_rounds.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="invited")
    """invited | answered | skipped while the round is open; closed for everyone once the
    round is sealed (who answered is then forgotten, only the counts stay)."""
    delivered_via: Mapped[str] = mapped_column(String(16), default="pending")


class NamedAnswer(Base):
    __tablename__ = "reflection_named_answers"
    __table_args__ = (UniqueConstraint("round_id", "member_id", "question_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("reflection_rounds.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    """Taken out of the summary by a moderator; the author still sees it in their data."""
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class AnonymousAnswer(Base):
    """No member, no time, a random key: rows cannot be put in answering order. The only
    handle is the hash of a token that lives in the member's own message."""

    __tablename__ = "reflection_anonymous_answers"
    __table_args__ = (
        UniqueConstraint("token_hash", "question_id"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    round_id: Mapped[int] = mapped_column(
        ForeignKey("reflection_rounds.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    question_id: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)
    removed: Mapped[bool] = mapped_column(Boolean, default=False)
    """Taken out of the summary by a moderator (its text is wiped then)."""


class ReflectionPause(Base):
    """A member who asked not to get rounds for a while (no reminders either)."""

    __tablename__ = "reflection_pauses"

    member_id: Mapped[int] = mapped_column(
        ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    since: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReflectionSchedule(Base):
    """A recurring round (e.g. every other Monday at 09:00) or one that follows each
    intervisie session."""

    __tablename__ = "reflection_schedules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # cron | after_session
    weekday: Mapped[int | None] = mapped_column(Integer)
    hour: Mapped[int | None] = mapped_column(Integer)
    minute: Mapped[int | None] = mapped_column(Integer)
    every_weeks: Mapped[int] = mapped_column(Integer, default=1)
    template: Mapped[dict[str, Any]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
