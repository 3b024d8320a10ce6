"""Benchmark: the scheduler with many pending reminders.

Seeds `--size` pending reminders (intervisie sessions two days ahead and later, each with
one member signed up and a 24-hour and a 1-hour reminder), then, just before the scheduler
starts, makes 1,000 of them due within the next 10 s (`--firing`, `--spread`). Measures

1. arming: the time `Scheduler.start()` takes, and how responsive the event loop stays
   meanwhile (the largest gap between the ticks of a task that sleeps 10 ms);
2. firing: the lag from each of those reminders' due time until its DM leaves the bot
   (handed to the platform), p50/p99/max, over the reminders that were sent; the run waits
   until every one of them is sent, failed or missed (their rows say so), or until the
   last due time plus `--wait` seconds. A reminder not sent by then is *lost* and reported
   as such (not left out silently);
3. the peak RSS of the process.

Prints figures with the data size and the machine; asserts nothing.

    python benchmarks/bench_reminders.py                      # 10,000 and 100,000, SQLite
    python benchmarks/bench_reminders.py --database both      # and PostgreSQL
    python benchmarks/bench_reminders.py --size 100000 --database postgresql
    python benchmarks/bench_reminders.py --smoke              # CI: 2,000 reminders

PostgreSQL: a fresh database on the server of `--postgresql-url` (default
`$LEERBOT_TEST_DATABASE_URL`), dropped afterwards.

Full run, 2026-12-01 02:19-02:37 UTC, 2-cpu x86_64 (Linux 6.18, Python 3.11.7), with other
engineers' test suites running on the same machine (load average 12-18 on 2 cpus: every
figure here is several times what a quiet machine gives), `--wait 90`:

    reminders  db          start()   loop gap   lag p50 / p99 (sent)   not sent in time  RSS
    10,000     SQLite      1.0 s     233 ms     35.9 / 95.5 s  (274)   726 pending       141 MiB
    100,000    SQLite      1.5 s     382 ms     50.8 / 96.2 s  (345)   655 pending       251 MiB
    10,000     PostgreSQL  0.7 s     328 ms     63.4 / 100.0 s (136)   864 pending       251 MiB
    100,000    PostgreSQL  1.0 s     200 ms     62.7 / 116.5 s (173)   827 pending       251 MiB

Growth 10,000 → 100,000 (10x): start() 1.4x on SQLite, 1.3x on PostgreSQL; the loop's
largest gap 1.6x / 0.6x (noise: the machine's load). RSS is the process's high-water mark,
which only grows over the four runs in that order. On main before this change: start()
13.5-38.4 s at 100,000 with the loop blocked throughout (one APScheduler job per row), and
130/12/186 reminders lost
(recorded as done with an error after the pool of 5 + 10 ran out). Now only the rows due
within 10 minutes are armed (1,000 here), in batches, with one timer; the peak RSS at 100,000
is the seeding's (the rows built in Python), not the scheduler's.

Firing is where this machine fell short: 1,000 reminders due within 10 s were sent at about
3 a second (8 at a time), so most were still pending — not lost: unclaimed, within their
15-minute grace, none failed or missed — when the run stopped waiting 90 s after the last
due time. Each reminder is a handful of units of work (claim, delivery record before and
after the send, done), ~14 statements, and the process got a small share of a cpu; this
run was not repeated on a quiet machine. What is left to gain is in the reminder job itself
(fewer round trips), not in the arming.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from _database import fresh_database  # benchmarks/_database.py
from sqlalchemy import func, insert, select, update

from leerbot.app import App, open_app
from leerbot.chat.platform import Sent
from leerbot.config import load_settings
from leerbot.db.models import (
    Community,
    Member,
    ScheduledJob,
    SessionOccurrence,
    SessionRsvp,
    SessionSeries,
)


class TimingPlatform:
    """Records when each DM leaves the bot (member platform id: time.time())."""

    nonce_window = timedelta(0)

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.changed = asyncio.Event()

    def fingerprint(self, place_id: str, reply: object, *, direct: bool = False) -> str:
        return "f"

    async def send_dm(
        self, place_id: str, member_platform_id: str, reply: object, **kwargs: Any
    ) -> Sent:
        self.sent.setdefault(member_platform_id, time.time())
        self.changed.set()
        return Sent("dm", f"m{len(self.sent)}")

    async def find_sent(self, *args: object, **kwargs: object) -> str | None:
        return None

    async def post(self, *args: object, **kwargs: object) -> str:
        return "m"

    async def edit(self, *args: object, **kwargs: object) -> None:
        return None

    async def open_thread(self, *args: object, **kwargs: object) -> str:
        return "t"

    async def rename_thread(self, *args: object, **kwargs: object) -> None:
        return None

    async def upsert_event(self, *args: object, **kwargs: object) -> str:
        return "e"

    async def cancel_event(self, *args: object, **kwargs: object) -> None:
        return None


async def seed(app: App, sessions: int, firing: int) -> list[str]:
    """Insert `sessions` occurrences (two days ahead and later), each with one member
    signed up and two pending reminders (24 h and 1 h before). Returns the keys of the
    `firing` 1-hour reminders that the run makes due (their times are set just before the
    scheduler starts, not here: seeding 100,000 rows takes longer than the spread)."""
    now = datetime.now(UTC)
    keys: list[str] = []
    async with app.sessionmaker() as db, db.begin():
        community = Community(platform_id="bench", name="Bench", locale="nl")
        db.add(community)
        await db.flush()
        members = [
            {
                "id": i + 1,
                "community_id": community.id,
                "platform_id": f"m{i}",
                "display_name": f"Lid {i}",
                "is_moderator": False,
                "is_coordinator": False,
                "share_lived_experience": False,
                "created_at": now,
                "updated_at": now,
            }
            for i in range(min(sessions, 1000))
        ]
        await db.execute(insert(Member), members)
        series, occurrences, rsvps, jobs = [], [], [], []
        for i in range(sessions):
            start = now + timedelta(days=2, minutes=i)
            series.append(
                {
                    "id": i + 1,
                    "community_id": community.id,
                    "title": f"Sessie {i}",
                    "method": "casusronde",
                    "timezone": "Europe/Amsterdam",
                    "first_start_local": start.replace(tzinfo=None),
                    "duration_minutes": 120,
                    "freq": "once",
                    "interval": 1,
                    "skipped_dates": [],
                    "location_kind": "address",
                    "location": "Utrecht",
                    "capacity": 8,
                    "created_at": now,
                    "updated_at": now,
                }
            )
            occurrences.append(
                {
                    "id": i + 1,
                    "series_id": i + 1,
                    "original_local": start.replace(tzinfo=None),
                    "starts_at": start,
                    "ends_at": start + timedelta(hours=2),
                    "status": "scheduled",
                    "moved": False,
                    "lock_version": 0,
                }
            )
            rsvps.append(
                {
                    "occurrence_id": i + 1,
                    "member_id": (i % len(members)) + 1,
                    "status": "yes",
                    "show_name": True,
                    "responded_at": now,
                }
            )
            for minutes in (1440, 60):
                due = start - timedelta(minutes=minutes)
                if minutes == 60 and i < firing:
                    keys.append(f"session:{i + 1}:reminder:{minutes}:0")
                jobs.append(
                    {
                        "community_id": community.id,
                        "kind": "session.reminder",
                        "key": f"session:{i + 1}:reminder:{minutes}:0",
                        "due_at": due,
                        "grace_seconds": 900,
                        "created_at": now,
                        "payload": {"occurrence_id": i + 1, "minutes": minutes},
                    }
                )
        for model, rows in (
            (SessionSeries, series),
            (SessionOccurrence, occurrences),
            (SessionRsvp, rsvps),
            (ScheduledJob, jobs),
        ):
            for chunk in range(0, len(rows), 2000):
                await db.execute(insert(model), rows[chunk : chunk + 2000])
    return keys


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def max_rss_mib() -> float:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


class Ticker:
    """A task that sleeps 10 ms at a time and keeps the largest gap between its ticks."""

    def __init__(self) -> None:
        self.max_gap = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.perf_counter()
        while True:
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            self.max_gap = max(self.max_gap, now - last)
            last = now

    def __enter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


@dataclass
class Figures:
    size: int
    firing: int
    seed_s: float = 0.0
    start_s: float = 0.0
    start_gap_ms: float = 0.0
    fire_gap_ms: float = 0.0
    lags_ms: list[float] = field(default_factory=list)
    sent: int = 0
    failed: int = 0
    missed: int = 0
    pending: int = 0
    rss_mib: float = 0.0


async def measure(url: str, size: int, firing: int, spread: float, wait: float) -> Figures:
    sessions = size // 2
    firing = min(firing, sessions, 1000)
    out = Figures(size=2 * sessions, firing=firing)
    settings = load_settings(environ={"LEERBOT_DATABASE_URL": url})
    async with open_app(settings) as app:
        began = time.perf_counter()
        keys = await seed(app, sessions, firing)
        out.seed_s = time.perf_counter() - began
        # the due times now, after seeding: 2 s from now and spread over `spread` seconds
        base = datetime.now(UTC) + timedelta(seconds=2)
        due: dict[str, float] = {}
        async with app.sessionmaker() as db, db.begin():
            for n, key in enumerate(keys):
                moment = base + timedelta(seconds=spread * n / max(firing, 1))
                await db.execute(
                    update(ScheduledJob).where(ScheduledJob.key == key).values(due_at=moment)
                )
                due[f"m{n}"] = moment.timestamp()  # session n's member (one each, n < 1000)
        timing = TimingPlatform()
        scheduler = app.make_scheduler(timing)  # type: ignore[arg-type]
        with Ticker() as ticker:
            started = time.perf_counter()
            await scheduler.start()
            out.start_s = time.perf_counter() - started
            out.start_gap_ms = ticker.max_gap * 1000
        try:
            last_due = max(due.values(), default=time.time())
            with Ticker() as ticker:
                while time.time() < last_due + wait:
                    if len([m for m in timing.sent if m in due]) >= firing:
                        break
                    if time.time() > last_due + 1 and not await unsettled(app, keys):
                        break  # every one of them sent, failed or missed
                    timing.changed.clear()
                    try:
                        await asyncio.wait_for(timing.changed.wait(), 1.0)
                    except TimeoutError:
                        pass
                out.fire_gap_ms = ticker.max_gap * 1000
        finally:
            await scheduler.stop()
        async with app.sessionmaker() as db:
            rows = (
                await db.execute(
                    select(ScheduledJob.fired_at, ScheduledJob.error, ScheduledJob.missed_at).where(
                        ScheduledJob.key.in_(keys)
                    )
                )
            ).all()
    out.lags_ms = [(timing.sent[m] - t) * 1000 for m, t in due.items() if m in timing.sent]
    out.sent = len(out.lags_ms)
    out.failed = sum(1 for fired, error, _ in rows if fired is not None and error)
    out.missed = sum(1 for _, _, missed in rows if missed is not None)
    out.pending = sum(1 for fired, _, missed in rows if fired is None and missed is None)
    out.rss_mib = max_rss_mib()
    return out


async def unsettled(app: App, keys: list[str]) -> int:
    async with app.sessionmaker() as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(ScheduledJob)
                .where(
                    ScheduledJob.key.in_(keys),
                    ScheduledJob.fired_at.is_(None),
                    ScheduledJob.missed_at.is_(None),
                )
            )
            or 0
        )


def report(kind: str, f: Figures) -> None:
    lost = f.firing - f.sent
    print(
        f"[{kind}] {f.size:,} pending reminders (seeded in {f.seed_s:.0f} s): start() "
        f"{f.start_s * 1000:.0f} ms, loop's largest gap during it {f.start_gap_ms:.0f} ms "
        f"(a 10 ms ticker)",
        flush=True,
    )
    if f.lags_ms:
        lag = (
            f"lag due→sent p50 {statistics.median(f.lags_ms):.0f} ms, "
            f"p99 {pct(f.lags_ms, 0.99):.0f} ms, max {max(f.lags_ms):.0f} ms"
        )
    else:
        lag = "none sent"
    print(
        f"[{kind}] {f.firing:,} due within the run: {lag}; lost {lost} (not sent: "
        f"{f.missed} missed, {f.pending} still pending, {f.failed} recorded as failed); "
        f"loop's largest gap while firing {f.fire_gap_ms:.0f} ms; peak RSS {f.rss_mib:.0f} MiB",
        flush=True,
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="CI: 2,000 reminders")
    parser.add_argument(
        "--size",
        type=int,
        action="append",
        help="pending reminders (repeatable; default 10,000 and 100,000)",
    )
    parser.add_argument("--firing", type=int, default=1000, help="made due during the run")
    parser.add_argument("--spread", type=float, default=10.0, help="seconds they spread over")
    parser.add_argument(
        "--wait", type=float, help="seconds after the last due time (default 120, smoke 30)"
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument(
        "--postgresql-url",
        default=os.environ.get("LEERBOT_TEST_DATABASE_URL"),
        help="a PostgreSQL server (default $LEERBOT_TEST_DATABASE_URL)",
    )
    args = parser.parse_args()
    sizes = args.size or ([2000] if args.smoke else [10_000, 100_000])
    firing = min(args.firing, 200) if args.smoke else args.firing
    spread = 3.0 if args.smoke else args.spread
    wait = args.wait if args.wait is not None else (30.0 if args.smoke else 120.0)
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    if "postgresql" in kinds and not args.postgresql_url:
        parser.error("PostgreSQL needs --postgresql-url or LEERBOT_TEST_DATABASE_URL")
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} {platform.system()} {platform.release()} "
        f"load={' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    for kind in kinds:
        results: list[Figures] = []
        for size in sizes:
            async with fresh_database(None if kind == "sqlite" else args.postgresql_url) as url:
                figures = await measure(url, size, firing, spread, wait)
            report(kind, figures)
            results.append(figures)
        if len(results) >= 2:
            small, big = results[0], results[-1]
            print(
                f"[{kind}] growth {small.size:,} → {big.size:,} reminders "
                f"({big.size / small.size:.0f}x): start() "
                f"{big.start_s / max(small.start_s, 1e-9):.1f}x, largest loop gap "
                f"{big.start_gap_ms / max(small.start_gap_ms, 1e-9):.1f}x",
                flush=True,
            )
    print(f"load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    asyncio.run(main())
