"""What the chat layer asks of a platform beyond answering a command: post and edit cards,
open threads, send direct messages, mirror sessions as scheduled events.

The Discord adapter implements it with discord.py; the console prints. Job handlers (the
scheduled work of each capability) receive it as `services["platform"]`.

Sending at most once and at least once (see `leerbot.chat.delivery`): every message the bot
creates carries a `nonce` that is the same on every attempt. Within the platform's
`nonce_window` a second attempt with that nonce returns the first message instead of making
another (Discord's `enforce_nonce`). After the window, `find_sent` looks for the message in
the channel (by the `fingerprint` of what was sent) before anything is sent again; when it
cannot look, it raises `Unverifiable`. Failures are `SendFailed`, transient (worth trying
again: a 5xx, a timeout, a lost connection) or not (403, 404, a refused request).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from leerbot.chat.reply import Reply


class SendFailed(Exception):
    """The platform did not take the message (or thread, or event). `transient`: trying
    again later may work (5xx, timeout, connection); otherwise it is final (403, 404, …).
    `reason` is short and safe for the log and for moderators (no message text)."""

    def __init__(self, reason: str, *, transient: bool) -> None:
        super().__init__(reason)
        self.reason = reason[:300]
        self.transient = transient


class Unverifiable(Exception):
    """An earlier attempt may have created the message and the platform cannot check
    (no access to the channel's history, a platform that keeps none)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


@dataclass(frozen=True)
class Sent:
    """Where a direct message went: the DM channel and the message's id."""

    channel_id: str
    message_id: str


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
    nonce_window: timedelta
    """How long a nonce is sure to be remembered: a new attempt with the same nonce within
    it cannot create a second message. Zero when the platform remembers none."""

    def fingerprint(self, place_id: str, reply: Reply, *, direct: bool = False) -> str:
        """A short digest of the message as the platform would show it (`direct`: as a
        DM), to recognise it later in the channel's history."""
        ...

    async def send_dm(
        self, place_id: str, member_platform_id: str, reply: Reply, *, nonce: str | None = None
    ) -> Sent | None:
        """Send a direct message; None when the member does not accept DMs (Discord's
        50007). Raises SendFailed."""
        ...

    async def post(
        self, place_id: str, channel_id: str, reply: Reply, *, nonce: str | None = None
    ) -> str:
        """Post a card in a channel (or thread); returns the message id. Raises SendFailed."""
        ...

    async def find_sent(
        self,
        place_id: str,
        *,
        channel_id: str | None = None,
        member_platform_id: str | None = None,
        fingerprints: Sequence[str],
        since: datetime,
    ) -> str | None:
        """The id of the bot's message in the channel (or the DM with the member) made at or
        after `since` with one of `fingerprints`; None when there is none. Raises
        Unverifiable when it cannot look, SendFailed when the platform cannot be reached."""
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
        since: datetime | None = None,
    ) -> str:
        """Open a thread (on a message, or private with the given members); returns its id.
        On a message that already has its thread, that thread. `since`: an earlier attempt
        may have opened it then; the platform returns that thread when it finds it (raises
        Unverifiable when it cannot look)."""
        ...

    async def rename_thread(self, place_id: str, thread_id: str, name: str) -> None:
        """Give a thread the bot opened a new name (a hidden point's title must go)."""
        ...

    async def upsert_event(self, place_id: str, event_id: str | None, spec: EventSpec) -> str:
        """Update the event, or create it: without `event_id`, the platform first looks for
        one it made earlier for the same meeting (same name, start and description)."""
        ...

    async def cancel_event(self, place_id: str, event_id: str) -> None: ...
