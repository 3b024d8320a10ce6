"""What a command handler gets: one database session (its unit of work), the actor, the
community, the settings, the app's clock and the language to answer in."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leerbot.chat.reply import Reply
from leerbot.clock import SYSTEM, Clock
from leerbot.config import Settings
from leerbot.core.actor import Actor
from leerbot.core.steps import SecondStep
from leerbot.db.models import Community


@dataclass(frozen=True)
class Place:
    """Where a command was given: a Discord server, or the local console."""

    platform_id: str
    name: str


@dataclass
class Context:
    db: AsyncSession
    actor: Actor
    community: Community
    settings: Settings
    after_commit: list[SecondStep] = field(default_factory=list)
    """Work for units of their own once this one committed, before the member is answered
    (see leerbot.core.steps)."""
    clock: Clock = SYSTEM
    """The app's clock: what "now" is for this command (`ctx.now()`)."""

    def now(self) -> datetime:
        return self.clock.now()

    @property
    def locale(self) -> str:
        return self.actor.locale

    def reply(self, key: str, **params: Any) -> Reply:
        return Reply.say(key, **params)
