"""The console's side of the platform: what would appear in Discord channels, threads,
DMs and the server's event list is printed in the terminal instead. At a terminal these lines
appear above the prompt as they happen, also while the console waits for a line."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from zoneinfo import ZoneInfo

from leerbot.adapters.console.render import PlainRenderer, Renderer, visible
from leerbot.chat.formatting import when
from leerbot.chat.platform import EventSpec
from leerbot.chat.reply import Reply, render
from leerbot.i18n import translate


class ConsolePlatform:
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

    async def send_dm(self, place_id: str, member_platform_id: str, reply: Reply) -> bool:
        if member_platform_id in self.closed_dms:
            return False
        self._show(translate(self._locale(), "console.platform_dm", name=member_platform_id), reply)
        return True

    async def post(self, place_id: str, channel_id: str, reply: Reply) -> str:
        self._show(translate(self._locale(), "console.platform_post", channel=channel_id), reply)
        return f"m{next(self._ids)}"

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
    ) -> str:
        thread_id = f"draad-{next(self._ids)}"
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
