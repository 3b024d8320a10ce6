"""`leerbot health` (issue 14, item 5): exit 0 with one line when the bot on this machine
ticks, is in touch with Discord and someone runs the scheduled work; otherwise exit 1 with the
reason in one line. What it reads is what a running bot writes (`running_processes`,
`scheduler_leases`); `tests/e2e/test_stop.py` checks it against a real running bot."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leerbot import health, lease
from leerbot.app import App
from leerbot.db.models import RunningProcess, SchedulerLease

NOW = datetime(2027, 3, 9, 19, 30, tzinfo=UTC)
HOST = socket.gethostname()


def leerbot_health(cwd: Path, database_url: str | None) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")}
    if database_url is not None:
        environment["LEERBOT_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "leerbot", "health"],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


async def write(
    app: App,
    now: datetime,
    *,
    ticked: timedelta | None = timedelta(seconds=5),
    gateway: timedelta | None = timedelta(seconds=5),
    lease_holder: str | None = "bot-1",
    host: str = HOST,
) -> None:
    """What a bot ("bot-1") would have written, `ticked`/`gateway` before `now`."""
    async with app.sessionmaker() as db, db.begin():
        db.add(
            RunningProcess(
                holder="bot-1",
                kind="bot",
                host=host,
                pid=1,
                started_at=now - timedelta(hours=1),
                expires_at=now - (ticked or timedelta(hours=1)) + lease.TTL,
                ticked_at=now - ticked if ticked is not None else None,
                gateway_at=now - gateway if gateway is not None else None,
            )
        )
        if lease_holder is not None:
            db.add(
                SchedulerLease(
                    name=lease.SCHEDULER,
                    holder=lease_holder,
                    priority=lease.BOT,
                    acquired_at=now - timedelta(hours=1),
                    expires_at=now + timedelta(seconds=20),
                )
            )


async def test_healthy_when_the_bot_ticks_talks_to_discord_and_runs_the_work(app: App) -> None:
    await write(app, NOW)
    found = await health.check(app.engine, NOW)
    assert found.ok and found.key == "health_ok"


async def test_healthy_when_another_bot_runs_the_scheduled_work(app: App) -> None:
    await write(app, NOW, lease_holder="bot-2")
    found = await health.check(app.engine, NOW)
    assert found.ok and found.key == "health_ok_elsewhere"


@pytest.mark.parametrize(
    ("state", "key"),
    [
        ({"host": "another-machine"}, "health_no_bot"),
        ({"ticked": timedelta(minutes=5)}, "health_stalled"),
        ({"ticked": None}, "health_stalled"),
        ({"gateway": None}, "health_no_gateway_yet"),
        ({"gateway": timedelta(minutes=3)}, "health_no_gateway"),
        ({"lease_holder": None}, "health_no_scheduler"),
    ],
)
async def test_not_healthy_with_the_reason(app: App, state: dict[str, object], key: str) -> None:
    await write(app, NOW, **state)  # type: ignore[arg-type]
    found = await health.check(app.engine, NOW)
    assert not found.ok and found.key == key


async def test_an_expired_lease_means_nobody_runs_the_work(app: App) -> None:
    await write(app, NOW)
    found = await health.check(app.engine, NOW + timedelta(seconds=21))  # renewed until +20 s
    assert not found.ok and found.key == "health_no_scheduler"


def test_health_exits_1_without_a_database_and_creates_none(tmp_path: Path) -> None:
    result = leerbot_health(tmp_path, None)
    assert result.returncode == 1
    assert result.stdout.startswith("Niet gezond: er is nog geen database")
    assert len(result.stdout.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_health_exits_1_when_the_database_cannot_be_reached(tmp_path: Path) -> None:
    result = leerbot_health(tmp_path, "postgresql+asyncpg://leerbot@127.0.0.1:9/none")
    assert result.returncode == 1
    assert result.stdout.startswith("Niet gezond: de database is niet bereikbaar")
    assert "Traceback" not in result.stdout + result.stderr


async def test_health_exits_1_without_a_running_bot(database_url: str, tmp_path: Path) -> None:
    result = leerbot_health(tmp_path, database_url)
    assert result.returncode == 1
    assert result.stdout == f"Niet gezond: er draait geen bot op deze computer ({HOST}). " + (
        "Start hem met: leerbot run\n"
    )


async def test_health_exits_0_and_1_as_the_bot_writes(
    app: App, database_url: str, tmp_path: Path
) -> None:
    # written a little in the future, so that however slow the machine starts the program,
    # the heartbeat is fresh when it looks (a moment that never passes: no timing here)
    await write(app, datetime.now(UTC) + timedelta(minutes=10))
    result = leerbot_health(tmp_path, database_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.startswith("Gezond: de database werkt")
    assert len(result.stdout.splitlines()) == 1


async def test_health_exits_1_when_the_bot_hangs(
    app: App, database_url: str, tmp_path: Path
) -> None:
    await write(app, datetime.now(UTC) - timedelta(hours=1))
    result = leerbot_health(tmp_path, database_url)
    assert result.returncode == 1
    assert result.stdout.startswith("Niet gezond: de bot heeft al ")
