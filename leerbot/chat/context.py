"""What a command handler gets: one database session (its unit of work), the actor, the
community, the settings and the language to answer in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from leerbot.chat.reply import Reply
from leerbot.config import Settings
from leerbot.core.actor import Actor
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

    @property
    def locale(self) -> str:
        return self.actor.locale

    def reply(self, key: str, **params: Any) -> Reply:
        return Reply.say(key, **params)
