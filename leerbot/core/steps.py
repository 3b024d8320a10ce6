"""A second unit of work: something a service needs committed in its own transaction, after
the caller's has committed (the anonymous answer after the member's "answered" mark, so the
two never share a transaction). The dispatcher runs it before the member gets the reply; when
it fails, `undo` runs in a transaction of its own and the member is told, so nothing is
acknowledged that was not stored."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

Work = Callable[[AsyncSession], Awaitable[None]]


@dataclass(frozen=True)
class SecondStep:
    run: Work
    undo: Work | None = None
