"""Due work (reminders, deadlines, digests) as rows: the record survives restarts; the
timer (APScheduler) only wakes us up."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from leerbot.db.models.base import Base, UTCDateTime, utcnow


class ScheduledJob(Base):
    """One piece of due work. `key` makes scheduling idempotent (e.g. `reminder:12:24h`)."""

    __tablename__ = "scheduled_jobs"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_scheduled_jobs_pending", "fired_at", "missed_at", "due_at"),
        # the jobs not yet claimed in time order: arming reads them in batches (0016)
        Index(
            "ix_scheduled_jobs_armable",
            "due_at",
            "id",
            postgresql_where=text("started_at IS NULL"),
            sqlite_where=text("started_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(160))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime())
    grace_seconds: Mapped[int] = mapped_column(Integer, default=3600)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    missed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_by: Mapped[str | None] = mapped_column(String(160))
    """The process (`RunningProcess.holder`) that claimed it: after a crash only the jobs of
    a process that is gone are run again, never those another live process is running."""
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SchedulerLease(Base):
    """Who runs scheduled work: one row per lease (today one, `scheduler`; issue 18 may add
    one per shard). The holder renews `expires_at` on a timer; when it stops renewing (a
    crash, a lost connection) the lease expires and another process takes it. A holder with
    a higher `priority` (a bot) may take it from a lower one (a console) at any time."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(160))
    priority: Mapped[int] = mapped_column(Integer, default=0)
    acquired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


class RunningProcess(Base):
    """A running leerbot process that may run scheduled work (a bot, a console), renewed on
    the same timer as the lease: alive while `expires_at` is ahead. Also what `leerbot
    health` reads: the scheduler's last tick and, for a bot, the last time its connection to
    Discord was seen alive. A clean stop removes the row."""

    __tablename__ = "running_processes"

    holder: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ticked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    gateway_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
