"""Waiting for something to happen, never for time to pass.

Tests move a `FakeClock` to make work due; what then happens runs in other tasks (the
scheduler's timer, the bot's event handlers), so the test waits for its *result*. The guard
only keeps a broken test from hanging: it is long (a loaded machine is slow, not wrong) and
a test never passes or fails by how fast the machine is.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")

GUARD = 60.0
"""Seconds before a wait that never comes true fails (against hanging, not a clock)."""


async def eventually(
    predicate: Callable[[], T | Awaitable[T]], what: str, guard: float = GUARD
) -> T:
    """Wait until `predicate()` (a function or a coroutine function, such as a database
    query) is truthy and return it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + guard
    while True:
        result = predicate()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            raise TimeoutError(f"never happened: {what} (waited {guard:.0f}s)")
        await asyncio.sleep(0.01)
