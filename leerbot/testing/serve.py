"""The local fake Discord as a process of its own, for a bot started as a program.

    python -m leerbot.testing.serve --info fake.json [--members 5] [--report report.json]

Starts the fake on 127.0.0.1 with one server ("Community of Learners": an administrator
"Coördinator", `--members` members, the channels #algemeen and #aankondigingen), writes
`--info` (JSON: `url`, `token`, `guild_id`) once it listens, and serves until SIGTERM or
SIGINT. Point `leerbot run` at it with

    LEERBOT_DISCORD_URL=<url> LEERBOT_DISCORD_TOKEN=<token> leerbot run

On exit it writes `--report` (JSON: `violations` — requests the real Discord would have
refused —, `dms` per member, `commands_synced`) and exits 1 when there were violations.
Used by `.ci/image-recipe`; tests that act as members run the fake in their own process
instead (`run_fake_discord`), with only the bot as a program.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from leerbot.testing.api import FakeDiscord
from leerbot.testing.state import ADMINISTRATOR


def declare(fake: FakeDiscord, members: int) -> dict[str, Any]:
    guild = fake.add_guild("Community of Learners", locale="nl")
    beheer = fake.add_role(guild, "Beheer", permissions=ADMINISTRATOR)
    fake.add_channel(guild, "algemeen")
    fake.add_channel(guild, "aankondigingen")
    admin = fake.add_member(guild, "Coördinator", roles=[beheer], locale="nl")
    people = [fake.add_member(guild, f"Lid {i + 1}", locale="nl") for i in range(members)]
    return {"guild": guild, "admin": admin, "members": people}


async def serve(info: Path, report: Path | None, members: int) -> int:
    fake = FakeDiscord()
    world = declare(fake, members)
    await fake.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for number in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(number, stop.set)
    _write(info, {"url": fake.base_url, "token": fake.token, "guild_id": str(world["guild"].id)})
    try:
        await stop.wait()
    finally:
        await fake.stop()
    violations = [
        {"kind": v.kind, "method": v.method, "path": v.path, "errors": v.errors}
        for v in fake.violations
    ]
    if report is not None:
        people = [world["admin"], *world["members"]]
        _write(
            report,
            {
                "violations": violations,
                "dms": {m.name: len(fake.dms(m)) for m in people},
                "commands_synced": fake.sync_count,
            },
        )
    for violation in violations:
        print(f"violation: {violation}", file=sys.stderr)
    return 1 if violations else 0


def _write(path: Path, data: dict[str, Any]) -> None:
    """Whole or not at all: whoever waits for the file never reads half of it."""
    partial = path.with_suffix(path.suffix + ".part")
    partial.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str), "utf-8")
    partial.replace(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m leerbot.testing.serve", description=__doc__)
    parser.add_argument("--info", type=Path, required=True, help="where to write url and token")
    parser.add_argument("--report", type=Path, help="where to write what happened, at exit")
    parser.add_argument("--members", type=int, default=5)
    args = parser.parse_args(argv)
    return asyncio.run(serve(args.info, args.report, args.members))


if __name__ == "__main__":
    raise SystemExit(main())
