"""Benchmark: many intervisie sessions with pending reminders.

Measures (1) the time from scheduler start until every pending reminder is armed, and
(2) the lag between a reminder's due time and the moment it leaves the bot (handed to the
platform), p50/p99. Prints figures with the data size and the machine; asserts nothing.

    python benchmarks/bench_reminders.py            # 10,000 sessions
    python benchmarks/bench_reminders.py --smoke    # 1,000 sessions (CI)
    python benchmarks/bench_reminders.py --database-url postgresql+asyncpg://...
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from leerbot.app import App, open_app
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
    """Records when each DM leaves the bot."""

    def __init__(self, expected: int) -> None:
        self.sent: list[float] = []
        self.expected = expected
        self.all_sent = asyncio.Event()

    async def send_dm(self, place_id: str, member_platform_id: str, reply: object) -> bool:
        self.sent.append(time.time())
        if len(self.sent) >= self.expected:
            self.all_sent.set()
        return True

    async def post(self, *args: object, **kwargs: object) -> str:
        return "m"

    async def edit(self, *args: object, **kwargs: object) -> None:
        return None

    async def open_thread(self, *args: object, **kwargs: object) -> str:
        return "t"

    async def upsert_event(self, *args: object, **kwargs: object) -> str:
        return "e"

    async def cancel_event(self, *args: object, **kwargs: object) -> None:
        return None


async def seed(app: App, sessions: int, firing: int, spread: float) -> list[float]:
    """Insert `sessions` occurrences, each with one member signed up and two pending
    reminders; `firing` of them fall due within the next `spread` seconds."""
    now = datetime.now(UTC)
    due_times: list[float] = []
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
                if minutes == 60 and i < firing:
                    due = now + timedelta(seconds=2 + spread * i / max(firing, 1))
                    due_times.append(due.timestamp())
                else:
                    due = start - timedelta(minutes=minutes)
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
    return due_times


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="small run for CI")
    parser.add_argument("--sessions", type=int)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    sessions = args.sessions or (1000 if args.smoke else 10_000)
    firing = min(sessions, 200 if args.smoke else 1000)
    spread = 3.0 if args.smoke else 10.0
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{tmp}/bench.db"
        settings = load_settings(environ={"LEERBOT_DATABASE_URL": url})
        async with open_app(settings) as app:
            due_times = await seed(app, sessions, firing, spread)
            timing = TimingPlatform(firing)
            scheduler = app.make_scheduler(timing)  # type: ignore[arg-type]
            started = time.perf_counter()
            await scheduler.start()
            armed_in = time.perf_counter() - started
            try:
                await asyncio.wait_for(timing.all_sent.wait(), spread + 60)
            except TimeoutError:
                pass  # reported below as sent/firing
            await scheduler.stop()
    lags = [
        (sent - due) * 1000
        for sent, due in zip(sorted(timing.sent), sorted(due_times), strict=False)
    ]
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} db={url.split(':', 1)[0]}"
    )
    print(f"sessions: {sessions}, pending reminders: {2 * sessions}, firing during run: {firing}")
    print(f"time from scheduler start until all reminders armed: {armed_in * 1000:.0f} ms")
    if lags:
        print(
            f"reminder lag due→sent: p50 {statistics.median(lags):.1f} ms, "
            f"p99 {pct(lags, 0.99):.1f} ms, max {max(lags):.1f} ms "
            f"({len(timing.sent)}/{firing} sent)"
        )


if __name__ == "__main__":
    asyncio.run(main())
