"""What the chat layer asks of a platform beyond answering a command: post and edit cards,
open threads, send direct messages, mirror sessions as scheduled events.

The Discord adapter implements it with discord.py; the console prints. Job handlers (the
scheduled work of each capability) receive it as `services["platform"]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from leerbot.chat.reply import Reply


@dataclass(frozen=True)
class EventSpec:
    """A scheduled event as the community's calendar shows it."""

    name: str
    description: str
    starts_at: datetime
    ends_at: datetime
    location: str | None = None
    voice_channel_id: str | None = None


class Platform(Protocol):
    async def send_dm(self, place_id: str, member_platform_id: str, reply: Reply) -> bool:
        """Send a direct message; False when the member does not accept DMs."""
        ...

    async def post(self, place_id: str, channel_id: str, reply: Reply) -> str:
        """Post a card in a channel (or thread); returns the message id."""
        ...

    async def edit(self, place_id: str, channel_id: str, message_id: str, reply: Reply) -> None: ...

    async def open_thread(
        self,
        place_id: str,
        channel_id: str,
        name: str,
        *,
        message_id: str | None = None,
        private: bool = False,
        member_platform_ids: tuple[str, ...] = (),
    ) -> str:
        """Open a thread (on a message, or private with the given members); returns its id."""
        ...

    async def rename_thread(self, place_id: str, thread_id: str, name: str) -> None:
        """Give a thread the bot opened a new name (a hidden point's title must go)."""
        ...

    async def upsert_event(self, place_id: str, event_id: str | None, spec: EventSpec) -> str: ...

    async def cancel_event(self, place_id: str, event_id: str) -> None: ...
