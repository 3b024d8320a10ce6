"""Scheduled work that survives restarts, exactly once.

Our own table (`scheduled_jobs`) is the record of what is due; APScheduler 3's
`AsyncIOScheduler` with its in-memory store is only the timer. Why not APScheduler's
SQLAlchemyJobStore: in 3.x it is synchronous (it would block the gateway loop), pickles jobs,
and cannot be shared by several processes.

- Capabilities create rows with `schedule(db, ...)` inside their own unit of work; after the
  commit the row is armed automatically (a session `after_commit` hook), so core code never
  touches the timer.
- Arming is bounded: only rows due within `ARM_HORIZON` (10 minutes) are held in memory, read
  in batches of `ARM_BATCH` that yield to the event loop in between, so that 100,000 pending
  reminders neither block the gateway nor fill the memory. One timer (the event loop's
  `call_later`) is set for the earliest armed row, instead of an APScheduler job per row
  (adding 100,000 of those blocked the loop for 13-38 s); APScheduler runs the sweep every
  `SWEEP_SECONDS`, which (like a moved fake clock) arms the rows that came within the horizon
  since. Overdue rows run at once when still within their grace period; otherwise they are
  marked missed and logged — a reminder is never sent hours late.
- Due jobs run at most `JOB_SLOTS` at a time (`leerbot.db.engine`, which sizes the connection
  pool from it), in due order; the rest wait in memory, unclaimed.
- A job whose handler fails is tried again with backoff (`RETRY_FIRST`, doubling, at most
  `RETRY_MOST`) while that stays within its grace; then it is marked missed, with its last
  error, and logged. Between attempts the row is pending again (a cancel still works); it is
  never recorded as done when it did not succeed.
- A firing claims its row atomically (`UPDATE … SET started_at = now WHERE id = :id AND
  started_at IS NULL`), so a double run, or two bot processes, cannot send twice.
- One process per database runs scheduled work: the holder of the lease (`leerbot.lease`,
  a row renewed every 10 s, on SQLite and PostgreSQL). Others (a second bot, a console
  beside the bot) run none of it, and take over when the holder stops renewing. A bot takes
  the lease from a console. A console always runs the work of its own local community,
  which no bot can deliver; a bot never runs it.
- A stop (`stop`) takes no new jobs, gives running ones a few seconds to finish, and hands
  back (unclaims) the rest, which run again at the next start; a job can hand itself back
  sooner at a safe point (`JobRun.stopping()`, `HandBack`).
- A periodic sweep arms rows created by other processes (the CLI, a second bot).
- Due times are on the app's clock (`leerbot.clock`); jobs run with it as the current
  clock. Tests give a `FakeClock` and move it: what became due runs at once, without
  waiting for the computer's clock.
- A job cut off by a crash (claimed, never finished) runs again when the process that takes
  over sees that its claimer (`claimed_by`) is gone — never while that process lives; jobs that
  send messages record each recipient before sending (`leerbot.chat.delivery`), so the rerun
  skips everyone already reached. The one window left — a crash between recording and
  sending — loses that one message rather than sending it twice.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import event, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from leerbot import clock as clocks
from leerbot import lease as leases
from leerbot.db.engine import JOB_SLOTS
from leerbot.db.models.community import Community
from leerbot.db.models.scheduling import ScheduledJob, SchedulerLease
from leerbot.lease import Lease, ProcessRecord

log = logging.getLogger("leerbot.scheduling")

JobHandler = Callable[["JobRun"], Awaitable[None]]
STOP_SECONDS = 5.0
"""How long a stop waits for running jobs before it hands them back (a clean stop must end
within Docker's 10 s)."""
SWEEP_SECONDS = 300
ARM_HORIZON = timedelta(minutes=10)
"""Rows due within this are armed (held in memory with the timer set); later ones wait in
the database until a sweep, every `SWEEP_SECONDS`, finds them within it."""
SWEEP_HORIZON = ARM_HORIZON
ARM_BATCH = 2000
"""Rows read per query when arming; the event loop runs other work between batches."""
RETRY_FIRST = timedelta(seconds=10)
RETRY_MOST = timedelta(minutes=5)
MISSED_LOGGED = 20
"""Missed jobs logged one by one at start; beyond that, a count."""
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
    stopping: Callable[[], bool] = field(default=lambda: False, compare=False)
    """True once the process is stopping: a long job (a fan-out) may raise `HandBack` at a
    point where nothing is half done; it then runs again, from there, at the next start."""


class HandBack(Exception):
    """Raised by a job handler that stops early because the process is stopping: the job is
    unclaimed, not finished, and runs again at the next start."""


def _everything(platform_id: str) -> bool:
    return True


def _nothing(platform_id: str) -> bool:
    return False


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
    now = clocks.now()
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
    if session.in_nested_transaction():
        return  # a savepoint released: the jobs are not visible to others until the commit
    ids = session.info.pop("leerbot_arm", None)
    if not ids:
        return
    try:
        database = session.get_bind()
    except Exception:  # a session bound to nothing has scheduled nothing
        return
    for scheduler in list(_ACTIVE.values()):
        if scheduler.engine.sync_engine is database:  # only the schedulers of this database
            scheduler.request_arm(ids)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint rolled back: arming ids that are gone finds nothing, harmlessly
    session.info.pop("leerbot_arm", None)


class Scheduler:
    """The one timer of a bot process. Start it inside the running event loop."""

    def __init__(
        self,
        engine: AsyncEngine,
        sessionmaker: async_sessionmaker[AsyncSession],
        *,
        services: dict[str, Any] | None = None,
        clock: clocks.Clock | Callable[[], datetime] | None = None,
        holder: str | None = None,
        kind: str = "bot",
        serves: Callable[[str], bool] | None = None,
        own: Callable[[str], bool] | None = None,
        lease_ttl: timedelta = leases.TTL,
    ) -> None:
        """`holder`: this process's name (`leerbot.lease.holder_name()`, one per app);
        `kind`: "bot" or "console" (a bot takes the lease from a console). `serves(place)`:
        the communities (by platform id) whose work this process can deliver at all (a bot:
        Discord servers); `own(place)`: those only it can deliver (a console: its local
        community), run without the lease."""
        self.engine = engine
        self.sessionmaker = sessionmaker
        self.services = services if services is not None else {}
        self.handlers: dict[str, JobHandler] = {}
        self.clock = clocks.as_clock(clock)
        """The app's clock: due times are on it, and every job runs with it as the current
        one. A fake clock (tests) fires a job when it is moved past the job's time."""
        self._armed: dict[int, datetime] = {}
        """Jobs waiting for their time, due within the horizon (id: when to run)."""
        self._heap: list[tuple[datetime, int]] = []
        """`_armed` in time order; entries that no longer match `_armed` are skipped."""
        self._timer_at: datetime | None = None
        """When the one timer is set for, on the app's clock."""
        self._wake_handle: asyncio.TimerHandle | None = None
        self._loaded_until: datetime | None = None
        """Rows due until then were read when arming last (now + horizon)."""
        self._due: deque[int] = deque()
        self._queued: set[int] = set()
        self._workers: set[asyncio.Task[None]] = set()
        self._attempts: dict[int, int] = {}
        self._retry_at: dict[int, datetime] = {}
        """Failed jobs waiting for their next attempt (not before then, whatever arms them)."""
        self._unsubscribe: Callable[[], None] | None = None
        self._timer: AsyncIOScheduler | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.holder = holder or leases.holder_name()
        self.kind = kind
        self.lease = Lease(
            sessionmaker,
            holder=self.holder,
            priority=leases.PRIORITY.get(kind, leases.CONSOLE),
            ttl=lease_ttl,
        )
        self.process = ProcessRecord(sessionmaker, holder=self.holder, kind=kind, ttl=lease_ttl)
        self.gateway: Callable[[], bool] | None = None
        """For a bot: whether its connection to Discord is alive now (recorded on each tick,
        read by `leerbot health`)."""
        self._serves = serves or _everything
        self._own = own or _nothing
        self._places: dict[int, str] = {}
        self._in_flight: dict[int, asyncio.Task[Any]] = {}
        self._beat_task: asyncio.Task[None] | None = None
        self.stopping = False

    @property
    def is_leader(self) -> bool:
        """Whether this process holds the lease: it runs the scheduled work."""
        return self.lease.holding

    def handler(self, kind: str) -> Callable[[JobHandler], JobHandler]:
        def decorate(func: JobHandler) -> JobHandler:
            self.handlers[kind] = func
            return func

        return decorate

    # --- life cycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Start the timer and the lease's heartbeat. The process runs scheduled work when it
        holds the lease (now, or later when the holder stops renewing); otherwise only the
        work of its own communities (a console's)."""
        self._loop = asyncio.get_running_loop()
        self.stopping = False
        self._timer = AsyncIOScheduler(timezone=UTC, event_loop=self._loop)
        self._timer.start()
        _ACTIVE[id(self)] = self
        self._unsubscribe = self.clock.subscribe(self._clock_moved)
        self._timer.add_job(
            _sweep,
            "interval",
            seconds=SWEEP_SECONDS,
            args=[id(self)],
            id="sweep",
            replace_existing=True,
        )
        if not await self.tick():
            armed = await self.load_pending()  # the work of its own communities, if any
            log.info(
                "another process runs the scheduled work; this one serves commands and "
                "takes over when that one stops (%d own jobs armed)",
                armed,
            )
        self._beat_task = self._loop.create_task(self._beat())

    async def tick(self) -> bool:
        """Renew this process's row and the lease, or take the lease when it is free or
        expired (or held by a console while this is a bot). Taking it over runs the jobs cut
        off in a process that is gone and arms the pending ones. Returns whether this process
        holds the lease. The heartbeat calls it every `lease.ttl / 3`; a console script after
        each line; tests after moving their clock."""
        now = self.clock.now()
        await self.process.beat(now, gateway=self.gateway is not None and self.gateway())
        had = self.lease.holding
        held = await self.lease.acquire(now)
        if held and not had:
            await self._recover_interrupted()
            if self._timer is not None:
                armed = await self.load_pending()
                log.info("scheduler started, %d jobs armed (%s)", armed, self.holder)
        elif had and not held:
            log.warning(
                "another process took over the scheduled work; this one runs none of it now"
            )
        return held

    async def _beat(self) -> None:
        interval = self.lease.ttl.total_seconds() / 3
        while True:
            await asyncio.sleep(interval)  # real time: the lease is between real processes
            try:
                await self.tick()
            except Exception as exc:
                # no renewal: `lease.holding` is False now, so no job starts until one works
                log.warning("could not renew the scheduler's lease: %s", type(exc).__name__)

    async def stop(self, timeout: float = STOP_SECONDS) -> None:
        """Stop: no new jobs start; running ones get `timeout` seconds to finish (a job that
        checks `run.stopping()` hands itself back sooner); the rest are cancelled and handed
        back (unclaimed), to run again at the next start. Then the lease goes back, so that
        the next process takes it at once, and this process's row goes."""
        _ACTIVE.pop(id(self), None)
        self.stopping = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        self._armed.clear()
        self._heap.clear()
        self._due.clear()
        self._queued.clear()
        self._timer_at = None
        if self._wake_handle is not None:
            self._wake_handle.cancel()
            self._wake_handle = None
        self._loaded_until = None
        if self._beat_task is not None:
            self._beat_task.cancel()
            await asyncio.gather(self._beat_task, return_exceptions=True)
            self._beat_task = None
        if self._timer is not None:
            self._timer.pause()
        current = asyncio.current_task()
        running = {j: t for j, t in self._in_flight.items() if not t.done() and t is not current}
        # workers between jobs start none now (`stopping`): they end by themselves
        workers = {w for w in self._workers if w is not current and not w.done()}
        if running or workers:
            if running:
                log.info(
                    "stopping: waiting up to %.0f s for %d running job(s)", timeout, len(running)
                )
            _, late = await asyncio.wait({*running.values(), *workers}, timeout=timeout)
            if late:
                cut = [j for j, t in self._in_flight.items() if t in late]
                for task in late:
                    task.cancel()
                await asyncio.gather(*late, return_exceptions=True)
                try:
                    await self._hand_back(cut)
                except Exception as exc:  # the database: they run again after the lease expires
                    log.warning("stopping: could not hand back jobs: %s", type(exc).__name__)
        if self._timer is not None:
            self._timer.shutdown(wait=False)
            self._timer = None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._attempts.clear()
        self._retry_at.clear()
        try:
            if self.lease.holding:
                await self.lease.release(self.clock.now())
            await self.process.remove()
        except Exception as exc:  # the database is gone: the lease expires by itself
            log.warning("could not give back the scheduler's lease: %s", type(exc).__name__)

    async def _hand_back(self, ids: list[int]) -> None:
        """Unclaim jobs this process started but did not finish: they run again at the next
        start (message jobs skip everyone already reached)."""
        if not ids:
            return
        async with self.sessionmaker() as db, db.begin():
            result = await db.execute(
                update(ScheduledJob)
                .where(
                    ScheduledJob.id.in_(ids),
                    ScheduledJob.fired_at.is_(None),
                    ScheduledJob.claimed_by == self.holder,
                )
                .values(started_at=None, claimed_by=None)
            )
        log.warning(
            "stopping: %d unfinished job(s) handed back; they run again at the next start",
            result.rowcount,  # type: ignore[attr-defined]
        )

    async def _recover_interrupted(self) -> None:
        """A job claimed but never finished by a process that is gone (a crash, a kill, a
        lost connection: its row in `running_processes` expired) runs again, within its
        grace; message jobs skip everyone who already got theirs (`reminder_deliveries`).
        A job that another live process is running is left alone."""
        now = self.clock.now()
        async with self.sessionmaker() as db, db.begin():
            result = await db.execute(
                update(ScheduledJob)
                .where(
                    ScheduledJob.started_at.is_not(None),
                    ScheduledJob.fired_at.is_(None),
                    ScheduledJob.missed_at.is_(None),
                    ScheduledJob.cancelled_at.is_(None),
                    or_(
                        ScheduledJob.claimed_by.is_(None),
                        ScheduledJob.claimed_by.not_in(leases.alive_holders(now)),
                    ),
                )
                .values(started_at=None, claimed_by=None)
            )
        if result.rowcount:  # type: ignore[attr-defined]
            log.warning(
                "%d job(s) were cut off in a process that is gone; running them again",
                result.rowcount,  # type: ignore[attr-defined]
            )

    def _may_run(self, platform_id: str) -> bool:
        """Whether this process runs the work of this community now."""
        return self._serves(platform_id) and (self._own(platform_id) or self.lease.holding)

    async def _lease_ok(self, now: datetime) -> bool:
        """Whether this process may start leased work now: it holds the lease and renewed it
        in time. After a pause (a moved clock, a slow loop) it renews first; a failed
        renewal means no."""
        if not self.process.registered:
            await self.tick()  # not started (a console script, a test): take it if free
        if self.lease.held(now):
            return True
        if not self.lease.holding:
            return False
        try:
            return await self.lease.acquire(now)
        except Exception as exc:
            log.warning("could not renew the scheduler's lease: %s", type(exc).__name__)
            return False

    async def _platform_id(self, db: AsyncSession, community_id: int) -> str:
        found = self._places.get(community_id)
        if found is None:
            found = (
                await db.scalar(select(Community.platform_id).where(Community.id == community_id))
                or ""
            )
            self._places[community_id] = found
        return found

    # --- arming --------------------------------------------------------------------------

    async def load_pending(self, horizon: timedelta | None = ARM_HORIZON) -> int:
        """Arm the pending rows this process runs now that are due within `horizon` (None:
        all of them), reading `ARM_BATCH` rows at a time and letting the event loop run in
        between; mark hopeless ones missed. Returns how many were armed."""
        now = self.clock.now()
        until = None if horizon is None else now + horizon
        base = (
            select(
                ScheduledJob.id,
                ScheduledJob.due_at,
                ScheduledJob.grace_seconds,
                ScheduledJob.key,
                ScheduledJob.kind,
                Community.platform_id,
            )
            .join(Community, Community.id == ScheduledJob.community_id)
            .where(
                ScheduledJob.started_at.is_(None),
                ScheduledJob.missed_at.is_(None),
                ScheduledJob.cancelled_at.is_(None),
            )
            .order_by(ScheduledJob.due_at, ScheduledJob.id)
            .limit(ARM_BATCH)
        )
        if until is not None:
            base = base.where(ScheduledJob.due_at <= until)
        armed = 0
        missed: list[tuple[int, str, str, datetime]] = []
        after: tuple[datetime, int] | None = None
        while True:
            query = base
            if after is not None:  # keyset paging: the next rows after the last one read
                query = query.where(
                    or_(
                        ScheduledJob.due_at > after[0],
                        (ScheduledJob.due_at == after[0]) & (ScheduledJob.id > after[1]),
                    )
                )
            async with self.sessionmaker() as db:
                rows = (await db.execute(query)).all()
            for job_id, due_at, grace, key, kind, platform_id in rows:
                if not self._may_run(platform_id):
                    continue
                if due_at + timedelta(seconds=grace) < now:
                    missed.append((job_id, key, kind, due_at))
                    continue
                self._arm(job_id, due_at, fire=False)
                armed += 1
            if rows:
                after = (rows[-1][1], rows[-1][0])
            self._fire_due()  # what is due runs while the rest is read
            if len(rows) < ARM_BATCH:
                break
            await asyncio.sleep(0)  # the gateway and the commands get their turn
        if until is not None and (self._loaded_until is None or until > self._loaded_until):
            self._loaded_until = until
        if missed:
            await self._mark_missed(missed, now)
        return armed

    def request_arm(self, ids: set[int]) -> None:
        """Called after a commit, possibly from inside a running coroutine. A scheduler whose
        event loop is gone (it was never stopped) leaves the list and holds up nobody."""
        if self._loop is not None and self._loop.is_closed():
            _ACTIVE.pop(id(self), None)
            return
        if self._loop is None or self._timer is None:
            return
        self._spawn(self._arm_ids(ids))

    def _spawn(self, work: Awaitable[Any]) -> None:
        assert self._loop is not None
        task = self._loop.create_task(work)  # type: ignore[arg-type]
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _arm_ids(self, ids: set[int]) -> None:
        async with self.sessionmaker() as db:
            rows = (
                await db.execute(
                    select(ScheduledJob.id, ScheduledJob.due_at, Community.platform_id)
                    .join(Community, Community.id == ScheduledJob.community_id)
                    .where(
                        ScheduledJob.id.in_(ids),
                        ScheduledJob.started_at.is_(None),
                        ScheduledJob.cancelled_at.is_(None),
                    )
                )
            ).all()
        for job_id, due_at, platform_id in rows:
            if self._may_run(platform_id):
                self._arm(job_id, due_at)

    def _arm(self, job_id: int, due_at: datetime, *, fire: bool = True) -> None:
        """Hold the job until its time, if that is within the horizon (a later one is found
        by a sweep); a failed job not before its next attempt. Sets the one timer."""
        if self._timer is None:
            return
        at = max(due_at, self._retry_at.get(job_id, due_at))
        if at > self.clock.now() + ARM_HORIZON:
            self._armed.pop(job_id, None)  # moved out of the horizon: a sweep finds it
            return
        if self._armed.get(job_id) == at:
            return
        self._armed[job_id] = at
        heapq.heappush(self._heap, (at, job_id))
        if fire:
            self._fire_due()

    def _clock_moved(self) -> None:
        """The clock was moved by hand (a test): what became due runs now, and rows that
        came within the horizon are armed."""
        self._fire_due()
        now = self.clock.now()
        if self._timer is not None and self._loaded_until is not None:
            if now + ARM_HORIZON / 2 > self._loaded_until:
                self._loaded_until = now + ARM_HORIZON  # one load at a time
                self._spawn(self.load_pending())

    def _fire_due(self) -> None:
        """Queue the armed jobs whose time has come, in time order, start workers for them,
        and set the timer for the next one."""
        if self._timer is None:
            return
        now = self.clock.now()
        heap = self._heap
        while heap:
            at, job_id = heap[0]
            if self._armed.get(job_id) != at:
                heapq.heappop(heap)  # moved or gone since
                continue
            if at > now:
                break
            heapq.heappop(heap)
            del self._armed[job_id]
            if job_id not in self._queued:
                self._queued.add(job_id)
                self._due.append(job_id)
        self._set_timer()
        self._pump()

    def _set_timer(self) -> None:
        """The one timer, for the earliest armed job: the loop's own (`call_later`), so that
        moving it costs nothing and a wake-up is never skipped."""
        if self._timer is None or self._loop is None:
            return
        nxt = self._heap[0][0] if self._heap else None
        if nxt == self._timer_at and (nxt is None or self._wake_handle is not None):
            return
        self._timer_at = nxt
        if self._wake_handle is not None:
            self._wake_handle.cancel()
            self._wake_handle = None
        wait = None if nxt is None else self.clock.seconds_until(nxt)
        if wait is None:  # nothing armed, or a fake clock: `_clock_moved` does it
            return
        # on the computer's clock: the job's time in real seconds
        self._wake_handle = self._loop.call_later(wait, self._wake)

    def _wake(self) -> None:
        self._wake_handle = None
        self._timer_at = None  # this timer is spent
        self._fire_due()

    def _pump(self) -> None:
        """Workers for the queued jobs, `JOB_SLOTS` at most."""
        if self._loop is None or self.stopping:
            return
        while self._due and len(self._workers) < JOB_SLOTS:
            task = self._loop.create_task(self._work())
            self._workers.add(task)
            task.add_done_callback(self._workers.discard)

    async def _work(self) -> None:
        while self._due and not self.stopping:
            job_id = self._due.popleft()
            self._queued.discard(job_id)
            try:
                await self.fire(job_id)
            except asyncio.CancelledError:
                if not self.stopping:
                    raise
                return  # cut off by a stop, which hands the job back
            except Exception as exc:  # before its claim (the database): it stays pending
                log.warning(
                    "job %s could not start (%s); trying again in %d s",
                    job_id,
                    type(exc).__name__,
                    RETRY_FIRST.total_seconds(),
                )
                self._retry_at[job_id] = self.clock.now() + RETRY_FIRST
                self._arm(job_id, self._retry_at[job_id])

    async def _mark_missed(self, jobs: list[tuple[int, str, str, datetime]], now: datetime) -> None:
        for number, (_job_id, key, kind, due_at) in enumerate(jobs):
            if number == MISSED_LOGGED:
                log.warning("missed %d more jobs past their grace period", len(jobs) - number)
                break
            log.warning(
                "missed %s (%s), due %s: past its grace period, not sent late",
                key,
                kind,
                due_at.isoformat(timespec="minutes"),
            )
        ids = [job[0] for job in jobs]
        for chunk in range(0, len(ids), ARM_BATCH):
            async with self.sessionmaker() as db, db.begin():
                await db.execute(
                    update(ScheduledJob)
                    .where(
                        ScheduledJob.id.in_(ids[chunk : chunk + ARM_BATCH]),
                        ScheduledJob.started_at.is_(None),
                    )
                    .values(missed_at=now)
                )

    # --- firing --------------------------------------------------------------------------

    async def fire(self, job_id: int) -> bool:
        """Claim and run one job; False when someone else already did (or it is gone), or
        when it failed (it is then tried again later, within its grace). The job runs with
        the scheduler's clock as the current one (`leerbot.clock.now()`)."""
        with clocks.using(self.clock):
            return await self._fire_now(job_id)

    async def _fire_now(self, job_id: int) -> bool:
        now = self.clock.now()
        leased = await self._lease_ok(now)
        async with self.sessionmaker() as db, db.begin():
            job = await db.get(ScheduledJob, job_id)
            if job is None or job.cancelled_at is not None:
                self._forget_attempts(job_id)
                return False
            platform_id = await self._platform_id(db, job.community_id)
            own = self._own(platform_id)
            if not self._serves(platform_id) or not (own or leased):
                return False  # another process's work (the lease holder's, or a console's)
            mine = [ScheduledJob.id == job_id, ScheduledJob.started_at.is_(None)]
            if not own:  # only while the lease is still ours in the database
                mine.append(
                    exists().where(
                        SchedulerLease.name == self.lease.name,
                        SchedulerLease.holder == self.holder,
                    )
                )
            if job.due_at + timedelta(seconds=job.grace_seconds) < now and job.started_at is None:
                claimed = await db.execute(
                    update(ScheduledJob)
                    .where(*mine)
                    .values(missed_at=now, started_at=now, claimed_by=self.holder)
                )
                if claimed.rowcount:  # type: ignore[attr-defined]
                    log.warning("missed %s: due %s, now %s", job.key, job.due_at, now)
                self._forget_attempts(job_id)
                return False
            if job.due_at > now + timedelta(seconds=1):
                self._arm(job.id, job.due_at)  # moved later since it was armed
                return False
            if self.stopping:
                return False  # a stop began meanwhile: it runs at the next start
            claimed = await db.execute(
                update(ScheduledJob).where(*mine).values(started_at=now, claimed_by=self.holder)
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
                stopping=lambda: self.stopping,
            )
            grace = timedelta(seconds=job.grace_seconds)
        task = asyncio.current_task()
        if task is not None:
            self._in_flight[job_id] = task  # a stop waits for it, or hands it back
        try:
            handler = self.handlers.get(run.kind)
            error: str | None = None
            if handler is None:
                error = f"no handler for {run.kind}"
                log.error("job %s: %s", run.key, error)
            else:
                try:
                    await handler(run)
                except HandBack:
                    await self._hand_back([job_id])
                    return False
                except Exception as exc:  # a failing job must not stop the timer
                    error = f"{type(exc).__name__}: {exc}"[:1000]
                    log.exception("job %s failed", run.key)
            if error is None:
                async with self.sessionmaker() as db, db.begin():
                    await db.execute(
                        update(ScheduledJob)
                        .where(ScheduledJob.id == job_id)
                        .values(fired_at=self.clock.now(), error=None)
                    )
                self._forget_attempts(job_id)
                return True
            await self._failed(run, grace, error)
            return False
        finally:
            if task is not None and self._in_flight.get(job_id) is task:
                del self._in_flight[job_id]

    async def _failed(self, run: JobRun, grace: timedelta, error: str) -> None:
        """After a failed attempt: again later (the row pending again, unclaimed) while that
        is within the job's grace; otherwise missed, with the error, and logged."""
        now = self.clock.now()
        attempt = self._attempts.get(run.job_id, 0) + 1
        wait = min(RETRY_FIRST * 2 ** (attempt - 1), RETRY_MOST)
        again = now + wait
        if again <= run.due_at + grace and not self.stopping:
            async with self.sessionmaker() as db, db.begin():
                await db.execute(
                    update(ScheduledJob)
                    .where(ScheduledJob.id == run.job_id, ScheduledJob.claimed_by == self.holder)
                    .values(started_at=None, claimed_by=None, error=error)
                )
            self._attempts[run.job_id] = attempt
            self._retry_at[run.job_id] = again
            log.warning(
                "job %s failed (attempt %d); trying again in %d s",
                run.key,
                attempt,
                wait.total_seconds(),
            )
            self._arm(run.job_id, again)
            return
        if self.stopping:  # the next start tries again, within its grace
            await self._hand_back([run.job_id])
            return
        async with self.sessionmaker() as db, db.begin():
            await db.execute(
                update(ScheduledJob)
                .where(ScheduledJob.id == run.job_id)
                .values(missed_at=now, error=error)
            )
        self._forget_attempts(run.job_id)
        log.error(
            "missed %s (%s), due %s: failed %d time(s), the last: %s; past its grace period, "
            "not tried again",
            run.key,
            run.kind,
            run.due_at.isoformat(timespec="minutes"),
            attempt,
            error,
        )

    def _forget_attempts(self, job_id: int) -> None:
        self._attempts.pop(job_id, None)
        self._retry_at.pop(job_id, None)


async def _sweep(scheduler_id: int) -> None:
    scheduler = _ACTIVE.get(scheduler_id)
    if scheduler is not None:
        if scheduler.is_leader:  # a process that died since (a console beside the bot)
            await scheduler._recover_interrupted()
        await scheduler.load_pending(ARM_HORIZON)


async def run_due(scheduler: Scheduler) -> int:
    """Fire every pending job that is due now and that this process may run, in due order
    (the console calls this after each command so that its effects show at once); returns
    how many ran. Renews (or takes) the lease first: beside a running bot, a console runs
    only the work of its own community."""
    await scheduler.tick()
    now = scheduler.clock.now()
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

    now = clocks.now()
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
