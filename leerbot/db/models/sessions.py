"""Intervisie sessions: a series (with its recurrence), its occurrences, sign-ups (RSVP),
volunteered roles, attendance and the reminders delivered."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from leerbot.db.models.base import Base, UTCDateTime, utcnow


class SessionSeries(Base):
    """What a moderator planned: one session, or a recurring series of them.

    The first start is kept as local wall time in `timezone`, so that 19:30 stays 19:30 across
    daylight-saving changes; occurrences are materialised from the rule in that zone.
    """

    __tablename__ = "session_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(
        ForeignKey("communities.id", ondelete="CASCADE"), index=True
    )
    title: Mapped[str] = mapped_column(String(100))
    method: Mapped[str] = mapped_column(String(64))
    theme: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64))
    first_start_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    freq: Mapped[str] = mapped_column(String(16))  # once | weekly | monthly
    interval: Mapped[int] = mapped_column(Integer, default=1)
    monthly_nth: Mapped[int | None] = mapped_column(Integer)  # 1..4, or -1 for "last"
    until_date: Mapped[date | None] = mapped_column(Date)
    count: Mapped[int | None] = mapped_column(Integer)
    skipped_dates: Mapped[list[str]] = mapped_column(JSON, default=list)
    location_kind: Mapped[str] = mapped_column(String(16))  # voice | address | link
    location: Mapped[str] = mapped_column(String(300))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    capacity: Mapped[int] = mapped_column(Integer, default=8)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("members.id", ondelete="SET NULL"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    calendar_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """The iCalendar SEQUENCE of the series and of each of its meetings: one more with every
    change a calendar shows (time, place, length, title, a cancellation), so that a calendar
    importing a newer file takes it as an update."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class SessionOccurrence(Base):
    """One meeting of a series, with its Discord mirror (message, thread, scheduled event)."""

    __tablename__ = "session_occurrences"
    __table_args__ = (UniqueConstraint("series_id", "original_local"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("session_series.id", ondelete="CASCADE"), index=True
    )
    original_local: Mapped[datetime] = mapped_column(DateTime(timezone=False))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # or cancelled
    moved: Mapped[bool] = mapped_column(Boolean, default=False)
    lock_version: Mapped[int] = mapped_column(Integer, default=0)
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(64))
    attendance_closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    series: Mapped[SessionSeries] = relationship(lazy="joined")


class SessionRsvp(Base):
    """A member's answer for one occurrence: yes, maybe, no, or on the waitlist."""

    __tablename__ = "session_rsvps"
    __table_args__ = (UniqueConstraint("occurrence_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("session_occurrences.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16))  # yes | maybe | no | waitlist
    show_name: Mapped[bool] = mapped_column(Boolean, default=True)
    responded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SessionRole(Base):
    """A member volunteering (and, once confirmed, serving) as inbrenger or gespreksleider."""

    __tablename__ = "session_roles"
    __table_args__ = (UniqueConstraint("occurrence_id", "member_id", "role"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("session_occurrences.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))  # inbrenger | gespreksleider
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SessionAttendance(Base):
    """Who was there: from the RSVP, corrected by a moderator."""

    __tablename__ = "session_attendance"
    __table_args__ = (UniqueConstraint("occurrence_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    occurrence_id: Mapped[int] = mapped_column(
        ForeignKey("session_occurrences.id", ondelete="CASCADE"), index=True
    )
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    attended: Mapped[bool] = mapped_column(Boolean)
    corrected: Mapped[bool] = mapped_column(Boolean, default=False)


class ReminderDelivery(Base):
    """One message of a job to one member (a reminder, an invitation, a notice): written
    before the first attempt, confirmed with Discord's message id after Discord accepted it
    (see `leerbot.chat.delivery`). The row's id is the message's nonce."""

    __tablename__ = "reminder_deliveries"
    __table_args__ = (UniqueConstraint("job_key", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job_key: Mapped[str] = mapped_column(String(160))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id", ondelete="CASCADE"), index=True)
    via: Mapped[str] = mapped_column(String(16), default="pending")
    """pending (by DM) | pending-thread (DMs closed: in a private thread) while not confirmed;
    then dm | thread (delivered), failed (refused for good, or retries used up) or unchecked
    (an earlier attempt may have arrived and it could not be checked: not sent again)."""
    channel_id: Mapped[str | None] = mapped_column(String(64))
    """The DM channel or the private thread the message went to."""
    message_id: Mapped[str | None] = mapped_column(String(64))
    attempted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    """The first attempt since the last check: until Discord's nonce window is over a new
    attempt with the same nonce cannot make a second message."""
    fingerprints: Mapped[str | None] = mapped_column(String(160))
    """What the attempts in that window sent (`Platform.fingerprint`, space-separated), to
    recognise the message in the channel's history after the window."""
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reason: Mapped[str | None] = mapped_column(String(300))
    """Why it is not delivered (yet): Discord's answer, for the log and the moderators."""
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
