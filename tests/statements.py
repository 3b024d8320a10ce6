"""Counting the SQL statements a command sends to the database.

A member notices the number of round trips, not the milliseconds of one run: a command that
sends the same few statements with 5 points on the agenda and with 50 stays fast when there
are 100,000. Count with

    async with count_statements(app.engine) as counted:
        await app.dispatcher.run_text(...)
    assert counted.count <= 8, counted.report()

Every statement the engine's connections execute while the block runs is counted (SQLAlchemy's
`before_cursor_execute` on the engine's `sync_engine`): queries, writes and savepoints alike.
BEGIN and COMMIT are not statements the drivers execute through a cursor, so they are not
counted; they are the same for every command.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine


@dataclass
class Counted:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)

    def report(self) -> str:
        """The statements, one line each, to read when an assertion fails."""
        return f"{self.count} statements:\n" + "\n".join(
            f"{n:3}. {' '.join(s.split())[:200]}" for n, s in enumerate(self.statements, 1)
        )


@asynccontextmanager
async def count_statements(engine: AsyncEngine) -> AsyncIterator[Counted]:
    counted = Counted()

    def listen(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        counted.statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    try:
        yield counted
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", listen)
