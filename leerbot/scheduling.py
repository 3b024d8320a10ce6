"""Scheduled work that survives restarts, exactly once.

Our own table (`scheduled_jobs`) is the record of what is due; APScheduler 3's
`AsyncIOScheduler` with its in-memory store is only the timer. Why not APScheduler's
SQLAlchemyJobStore: in 3.x it is synchronous (it would block the gateway loop), pickles jobs,
and cannot be shared by several processes.

- Capabilities create rows with `schedule(db, ...)` inside their own unit of work; after the
  commit the row is armed automatically (a session `after_commit` hook), so core code never
  touches the timer.
- On start, pending rows are loaded and armed with deterministic ids (`job:42`,
  `replace_existing=True`). Overdue rows run at once when still within their grace period;
  otherwise they are marked missed and logged — a reminder is never sent hours late.
- A firing claims its row atomically (`UPDATE … SET started_at = now WHERE id = :id AND
  started_at IS NULL`), so a double run, or two bot processes, cannot send twice. With
  PostgreSQL, only the process holding an advisory lock runs the timer at all.
- A periodic sweep arms rows created by other processes (the CLI, a second bot).
- A job cut off by a crash (claimed, never finished) runs again at the next start; jobs that
  send messages record each recipient before sending (`leerbot.chat.delivery`), so the rerun
  skips everyone already reached. The one window left — a crash between recording and
  sending — loses that one message rather than sending it twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from leerbot.db.models.scheduling import ScheduledJob

log = logging.getLogger("leerbot.scheduling")

JobHandler = Callable[["JobRun"], Awaitable[None]]
ADVISORY_LOCK_KEY = 0x1EE2B07  # "leerbot" scheduler, PostgreSQL only
SWEEP_SECONDS = 300
SWEEP_HORIZON = timedelta(minutes=10)
_ACTIVE: dict[int, Scheduler] = {}


@dataclass(frozen=True)
class JobRun:
    """What a handler gets: the claimed row's data and a way to open units of work."""

    job_id: int
    community_id: int
    kind: str
    key: str
    payload: dict[str, Any]
    due_at: datetime
    sessionmaker: async_sessionmaker[AsyncSession]
    services: dict[str, Any]


async def schedule(
    db: AsyncSession,
    *,
    community_id: int,
    kind: str,
    key: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    grace: timedelta = timedelta(hours=1),
) -> ScheduledJob:
    """Create or move a pending job (idempotent by `key`) in the caller's unit of work."""
    job = await db.scalar(select(ScheduledJob).where(ScheduledJob.key == key))
    if job is None:
        job = ScheduledJob(community_id=community_id, kind=kind, key=key, payload={})
        db.add(job)
    elif job.started_at is not None or job.fired_at is not None:
        return job  # already done: moving it would send twice
    job.due_at = due_at
    job.payload = payload or {}
    job.grace_seconds = int(grace.total_seconds())
    job.missed_at = None
    job.cancelled_at = None
    await db.flush()
    _pending_arms(db).add(job.id)
    return job


async def cancel(db: AsyncSession, key_prefix: str) -> int:
    """Cancel every pending job whose key starts with `key_prefix`."""
    now = datetime.now(UTC)
    result = await db.execute(
        update(ScheduledJob)
        .where(
            ScheduledJob.key.startswith(key_prefix, autoescape=True),
            ScheduledJob.started_at.is_(None),
            ScheduledJob.cancelled_at.is_(None),
        )
        .values(cancelled_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _pending_arms(db: AsyncSession) -> set[int]:
    return db.sync_session.info.setdefault("leerbot_arm", set())  # type: ignore[no-any-return]


@event.listens_for(Session, "after_commit")
def _arm_after_commit(session: Session) -> None:
    ids = session.info.pop("leerbot_arm", None)
    if not ids:
        return
    for scheduler in list(_ACTIVE.values()):
        scheduler.request_arm(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop("leerbot_arm", None)


class Scheduler:
    """The one timer of a bot process. Start it inside the running event loop."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        services: dict[str, Any] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.services = services if services is not None else {}
        self.handlers: dict[str, JobHandler] = {}
        self.clock = clock
        self._timer: AsyncIOScheduler | None = None
        self._lock_connection: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._running: set[asyncio.Task[object]] = set()
        self.is_leader = False

    def handler(self, kind: str) -> Callable[[JobHandler], JobHandler]:
        def decorate(func: JobHandler) -> JobHandler:
            self.handlers[kind] = func
            return func

        return decorate

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if not await self._become_leader():
            log.info("another process holds the scheduler; this one only serves commands")
            return
        self.is_leader = True
        self._timer = AsyncIOScheduler(timezone=UTC, event_loop=self._loop)
        self._timer.start()
        _ACTIVE[id(self)] = self
        await self._recover_interrupted()
        armed = await self.load_pending()
        self._timer.add_job(
            _sweep,
            "interval",
            seconds=SWEEP_SECONDS,
            args=[id(self)],
            id="sweep",
            replace_existing=True,
        )
        log.info("scheduler started, %d jobs armed", armed)

    async def stop(self, timeout: float = 10) -> None:
        """Stop the timer; jobs already running may finish (a cancelled run would leave its
        row claimed but not done)."""
        _ACTIVE.pop(id(self), None)
        if self._timer is not None:
            self._timer.pause()
            running = [t for t in self._running if not t.done()]
            if running:
                await asyncio.wait(running, timeout=timeout)
            self._timer.shutdown(wait=False)
            self._timer = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._lock_connection is not None:
            from sqlalchemy import text

            # The connection goes back to the pool: release the session-level lock first.
            await self._lock_connection.execute(
                text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_LOCK_KEY}
            )
            await self._lock_connection.close()
            self._lock_connection = None
        self.is_leader = False

    async def _become_leader(self) -> bool:
        if self.engine.dialect.name != "postgresql":
            return True
        from sqlalchemy import text

        connection = await self.engine.connect()
        got = await connection.scalar(
            text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_LOCK_KEY}
        )
        if got:
            self._lock_connection = connection
            return True
        await connection.close()
        return False

    async def _recover_interrupted(self) -> None:
        """A job claimed but never finished was cut off by a crash or a kill of the process
        that held the timer. It runs again (within its grace): message jobs skip everyone
        who already got theirs (`reminder_deliveries`), so nobody gets a message twice."""
        async with self.sessionmaker() as db, db.begin():
            result = await db.execute(
                update(ScheduledJob)
                .where(
                    ScheduledJob.started_at.is_not(None),
                    ScheduledJob.fired_at.is_(None),
                    ScheduledJob.missed_at.is_(None),
                    ScheduledJob.cancelled_at.is_(None),
                )
                .values(started_at=None)
            )
        if result.rowcount:  # type: ignore[attr-defined]
            log.warning("%d job(s) were cut off by a stop; running them again", result.rowcount)  # type: ignore[attr-defined]

    # --- arming --------------------------------------------------------------------------

    async def load_pending(self, horizon: timedelta | None = None) -> int:
        """Arm every pending row (within `horizon` if given); mark hopeless ones missed."""
        now = self.clock()
        query = select(ScheduledJob.id, ScheduledJob.due_at, ScheduledJob.grace_seconds).where(
            ScheduledJob.started_at.is_(None),
            ScheduledJob.missed_at.is_(None),
            ScheduledJob.cancelled_at.is_(None),
        )
        if horizon is not None:
            query = query.where(ScheduledJob.due_at <= now + horizon)
        async with self.sessionmaker() as db:
            rows = (await db.execute(query)).all()
        armed = 0
        missed: list[int] = []
        for job_id, due_at, grace in rows:
            if due_at + timedelta(seconds=grace) < now:
                missed.append(job_id)
                continue
            self._arm(job_id, due_at)
            armed += 1
        if missed:
            await self._mark_missed(missed, now)
        return armed

    def request_arm(self, ids: set[int]) -> None:
        """Called after a commit, possibly from inside a running coroutine."""
        if self._loop is None or self._timer is None:
            return
        task = self._loop.create_task(self._arm_ids(ids))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _arm_ids(self, ids: set[int]) -> None:
        async with self.sessionmaker() as db:
            rows = (
                await db.execute(
                    select(ScheduledJob.id, ScheduledJob.due_at).where(
                        ScheduledJob.id.in_(ids),
                        ScheduledJob.started_at.is_(None),
                        ScheduledJob.cancelled_at.is_(None),
                    )
                )
            ).all()
        for job_id, due_at in rows:
            self._arm(job_id, due_at)

    def _arm(self, job_id: int, due_at: datetime) -> None:
        if self._timer is None:
            return
        self._timer.add_job(
            _fire,
            "date",
            run_date=max(due_at, self.clock()),
            args=[id(self), job_id],
            id=f"job:{job_id}",
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def _mark_missed(self, ids: list[int], now: datetime) -> None:
        async with self.sessionmaker() as db, db.begin():
            jobs = list(await db.scalars(select(ScheduledJob).where(ScheduledJob.id.in_(ids))))
            for job in jobs:
                job.missed_at = now
                log.warning(
                    "missed %s (%s), due %s: past its grace period, not sent late",
                    job.key,
                    job.kind,
                    job.due_at.isoformat(timespec="minutes"),
                )

    # --- firing --------------------------------------------------------------------------

    async def fire(self, job_id: int) -> bool:
        """Claim and run one job; False when someone else already did (or it is gone)."""
        now = self.clock()
        async with self.sessionmaker() as db, db.begin():
            job = await db.get(ScheduledJob, job_id)
            if job is None or job.cancelled_at is not None:
                return False
            if job.due_at + timedelta(seconds=job.grace_seconds) < now and job.started_at is None:
                claimed = await db.execute(
                    update(ScheduledJob)
                    .where(ScheduledJob.id == job_id, ScheduledJob.started_at.is_(None))
                    .values(missed_at=now, started_at=now)
                )
                if claimed.rowcount:  # type: ignore[attr-defined]
                    log.warning("missed %s: due %s, now %s", job.key, job.due_at, now)
                return False
            if job.due_at > now + timedelta(seconds=1):
                self._arm(job.id, job.due_at)  # moved later since it was armed
                return False
            claimed = await db.execute(
                update(ScheduledJob)
                .where(ScheduledJob.id == job_id, ScheduledJob.started_at.is_(None))
                .values(started_at=now)
            )
            if not claimed.rowcount:  # type: ignore[attr-defined]
                return False
            run = JobRun(
                job.id,
                job.community_id,
                job.kind,
                job.key,
                dict(job.payload),
                job.due_at,
                self.sessionmaker,
                self.services,
            )
        handler = self.handlers.get(run.kind)
        error: str | None = None
        if handler is None:
            error = f"no handler for {run.kind}"
            log.error("job %s: %s", run.key, error)
        else:
            try:
                await handler(run)
            except Exception as exc:  # a failing job must not stop the timer
                error = f"{type(exc).__name__}: {exc}"[:1000]
                log.exception("job %s failed", run.key)
        async with self.sessionmaker() as db, db.begin():
            await db.execute(
                update(ScheduledJob)
                .where(ScheduledJob.id == job_id)
                .values(fired_at=self.clock(), error=error)
            )
        return error is None


async def _fire(scheduler_id: int, job_id: int) -> None:
    """APScheduler's job function: module level, ids only."""
    scheduler = _ACTIVE.get(scheduler_id)
    if scheduler is None:
        return
    task = asyncio.current_task()
    if task is not None:
        scheduler._running.add(task)
    try:
        await scheduler.fire(job_id)
    finally:
        if task is not None:
            scheduler._running.discard(task)


async def _sweep(scheduler_id: int) -> None:
    scheduler = _ACTIVE.get(scheduler_id)
    if scheduler is not None:
        await scheduler.load_pending(SWEEP_HORIZON)


async def run_due(scheduler: Scheduler) -> int:
    """Fire every pending job that is due now, in due order (the console calls this after
    each command so that its effects show at once); returns how many ran."""
    now = scheduler.clock()
    async with scheduler.sessionmaker() as db:
        ids = list(
            await db.scalars(
                select(ScheduledJob.id)
                .where(
                    ScheduledJob.started_at.is_(None),
                    ScheduledJob.cancelled_at.is_(None),
                    ScheduledJob.missed_at.is_(None),
                    ScheduledJob.due_at <= now,
                )
                .order_by(ScheduledJob.due_at, ScheduledJob.id)
            )
        )
    ran = 0
    for job_id in ids:
        if await scheduler.fire(job_id):
            ran += 1
    return ran


MEMBER_KEY = "member_id"
"""The one payload key under which a job may name a member (by key: a notice for them)."""


async def forget_member(db: AsyncSession, member_id: int) -> int:
    """A member deleted their data: jobs whose payload names them go (a pending notice for
    someone who is gone has nobody to reach; a finished one is only a trace). Returns how
    many went; a timer already armed for one finds no row and does nothing."""
    from sqlalchemy import String, cast, delete

    candidates = await db.execute(
        select(ScheduledJob.id, ScheduledJob.payload).where(
            cast(ScheduledJob.payload, String).contains(f'"{MEMBER_KEY}"', autoescape=True)
        )
    )
    ids = [i for i, payload in candidates if (payload or {}).get(MEMBER_KEY) == member_id]
    if ids:
        await db.execute(delete(ScheduledJob).where(ScheduledJob.id.in_(ids)))
    return len(ids)


async def purge_finished(db: AsyncSession, days: int = 30, *, saved_search_days: int = 30) -> int:
    """Forget jobs that were done, cancelled or missed more than `days` ago, the delivery
    records of their messages, and the searches behind page buttons older than
    `saved_search_days`; returns how many jobs went."""
    from sqlalchemy import delete, or_

    from leerbot.db.models import ReminderDelivery

    now = datetime.now(UTC)
    cutoff = now - timedelta(days=days)
    result = await db.execute(
        delete(ScheduledJob).where(
            or_(
                ScheduledJob.fired_at < cutoff,
                ScheduledJob.cancelled_at < cutoff,
                ScheduledJob.missed_at < cutoff,
            )
        )
    )
    await db.execute(delete(ReminderDelivery).where(ReminderDelivery.created_at < cutoff))
    from leerbot.db.models import SavedSearch  # paging state behind old buttons

    await db.execute(
        delete(SavedSearch).where(SavedSearch.created_at < now - timedelta(days=saved_search_days))
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
