"""The console's side of the platform: what would appear in Discord channels, threads,
DMs and the server's event list is printed in the terminal instead. At a terminal these lines
appear above the prompt as they happen, also while the console waits for a line."""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from leerbot.adapters.console.render import PlainRenderer, Renderer, visible
from leerbot.chat.formatting import when
from leerbot.chat.platform import EventSpec, Sent, Unverifiable
from leerbot.chat.reply import Reply, render
from leerbot.i18n import translate


class ConsolePlatform:
    nonce_window = timedelta(0)
    """The terminal keeps nothing: a message that may have been printed before a crash
    cannot be checked, so it is not printed again (see `leerbot.chat.delivery`)."""

    def __init__(
        self,
        say: Callable[[str], None],
        locale: Callable[[], str],
        tz: ZoneInfo,
        renderer: Renderer | None = None,
    ) -> None:
        self._say = say
        self._renderer = renderer or PlainRenderer()
        self._tz = tz
        self._locale = locale
        self._ids = itertools.count(1)
        self.closed_dms: set[str] = set()

    def _show(self, header: str, reply: Reply) -> None:
        locale = reply.locale or self._locale()
        self._say(header)
        for line in self._renderer.reply(reply, locale):
            for part in line.split("\n"):
                self._say("  | " + part)
        if reply.buttons:
            self._say(
                "  | " + "  ".join(f"[{visible(render(b.label, locale))}]" for b in reply.buttons)
            )

    def fingerprint(self, place_id: str, reply: Reply, *, direct: bool = False) -> str:
        locale = reply.locale or self._locale()
        text = repr([render(reply.title, locale), render(reply.text, locale)])
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    async def send_dm(
        self, place_id: str, member_platform_id: str, reply: Reply, *, nonce: str | None = None
    ) -> Sent | None:
        if member_platform_id in self.closed_dms:
            return None
        self._show(translate(self._locale(), "console.platform_dm", name=member_platform_id), reply)
        return Sent(f"dm-{member_platform_id}", f"m{next(self._ids)}")

    async def post(
        self, place_id: str, channel_id: str, reply: Reply, *, nonce: str | None = None
    ) -> str:
        self._show(translate(self._locale(), "console.platform_post", channel=channel_id), reply)
        return f"m{next(self._ids)}"

    async def find_sent(
        self,
        place_id: str,
        *,
        channel_id: str | None = None,
        member_platform_id: str | None = None,
        fingerprints: Sequence[str],
        since: datetime,
    ) -> str | None:
        raise Unverifiable("the console keeps no history")

    async def edit(self, place_id: str, channel_id: str, message_id: str, reply: Reply) -> None:
        self._say(translate(self._locale(), "console.platform_edit", channel=channel_id))

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
        if message_id is None and since is not None:
            raise Unverifiable("the console keeps no threads")
        # one thread per message, with the message's name, as on Discord
        thread_id = f"draad-{message_id}" if message_id else f"draad-{next(self._ids)}"
        self._say(
            translate(
                self._locale(), "console.platform_thread", name=visible(name), private=private
            )
        )
        return thread_id

    async def rename_thread(self, place_id: str, thread_id: str, name: str) -> None:
        self._say(translate(self._locale(), "console.platform_thread_renamed", name=visible(name)))

    async def upsert_event(self, place_id: str, event_id: str | None, spec: EventSpec) -> str:
        self._say(
            translate(
                self._locale(),
                "console.platform_event",
                name=visible(spec.name),
                when=when(spec.starts_at.astimezone(self._tz), self._locale()),
                new=event_id is None,
            )
        )
        return event_id or f"e{next(self._ids)}"

    async def cancel_event(self, place_id: str, event_id: str) -> None:
        self._say(translate(self._locale(), "console.platform_event_cancelled"))
