"""Small helpers for tests that call the core directly."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leerbot.chat.platform import Sent
from leerbot.core.actor import Actor, Function, Identity
from leerbot.core.community import get_or_create_community, resolve_actor
from leerbot.db.models import AuditEntry


async def actor_for(
    sessionmaker: async_sessionmaker[AsyncSession],
    name: str,
    *,
    coordinator: bool = False,
    moderator: bool = False,
    locale: str | None = None,
    place: str = "guild-1",
) -> Actor:
    """Create (or find) a member and return them as an Actor, committed."""
    granted: set[Function] = set()
    if coordinator:
        granted.add(Function.COORDINATOR)
    if moderator:
        granted.add(Function.MODERATOR)
    async with sessionmaker() as db, db.begin():
        community = await get_or_create_community(db, place, "Test community")
        return await resolve_actor(
            db,
            community,
            Identity(
                name.casefold(), name, locale_hint=locale, granted_functions=frozenset(granted)
            ),
        )


async def audit_count(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as db:
        return int(await db.scalar(select(func.count(AuditEntry.id))) or 0)


class Crash(BaseException):
    """The process dies here (as with SIGKILL): nothing after it runs, nothing uncommitted
    is kept. A BaseException, so no `except Exception` of the bot catches it."""


class RecordingPlatform:
    """A Platform that keeps what would have been sent, for core-level tests of scheduled
    work (end-to-end tests use the fake Discord instead). It plays Discord's part in sending
    once: a nonce seen in a channel within `remembers` returns the first message; `find_sent`
    reads its own history. `fail(...)` makes the next calls of a method fail, before or after
    the message is made (a lost answer), or crash the process."""

    def __init__(
        self,
        closed_dms: set[str] | None = None,
        *,
        nonce_window: timedelta = timedelta(minutes=2),
        remembers: timedelta = timedelta(minutes=5),
        history: bool = True,
    ) -> None:
        from leerbot.chat.reply import Reply  # noqa: F401  (for type readers)

        self.dms: list[tuple[str, object]] = []
        self.posts: list[tuple[str, object]] = []
        self.edits: list[tuple[str, str]] = []
        self.threads: list[tuple[str, bool, tuple[str, ...]]] = []
        self.renamed: list[tuple[str, str]] = []
        self.events: dict[str, object] = {}
        self.cancelled_events: list[str] = []
        self.closed_dms = closed_dms or set()
        self.nonce_window = nonce_window
        """How long the bot may count on a nonce (the Platform attribute)."""
        self.remembers = remembers
        """How long this "Discord" really remembers one."""
        self.history = history
        """False: `find_sent` cannot look (as without Read Message History)."""
        self.calls: list[str] = []
        self.history_reads = 0
        self._messages: dict[str, list[tuple[str, str, datetime]]] = {}
        """channel: [(message id, fingerprint, made at)]"""
        self._nonces: dict[tuple[str, str], tuple[str, datetime]] = {}
        self._thread_of: dict[str, str] = {}
        self._private_threads: list[tuple[str, str, str, datetime]] = []
        self._faults: list[list[Any]] = []
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    @staticmethod
    def now() -> datetime:
        from leerbot import clock

        return clock.now()

    def fail(
        self,
        method: str,
        error: BaseException,
        *,
        after: bool = False,
        times: int = 1,
        skip: int = 0,
    ) -> None:
        """After `skip` good calls, the next `times` calls of `method` raise `error`: before
        anything happens, or `after` the message (thread, event) was made, as when
        Discord's answer is lost."""
        self._faults.append([method, error, after, times, skip])

    def _fault(self, method: str, after: bool) -> None:
        for fault in self._faults:
            name, error, when, times, skip = fault
            if name != method or when != after or times <= 0:
                continue
            if skip > 0:
                fault[4] = skip - 1
                return
            fault[3] = times - 1
            raise error

    def fingerprint(self, place_id: str, reply: object, *, direct: bool = False) -> str:
        import hashlib

        from leerbot.chat.reply import render

        locale = getattr(reply, "locale", None) or "nl"
        parts = [
            render(getattr(reply, "title", None), locale),
            render(getattr(reply, "text", None), locale),
            [b.custom_id for b in getattr(reply, "buttons", [])],
        ]
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]

    def _create(self, channel: str, reply: object, nonce: str | None) -> tuple[str, bool]:
        """(message id, new?) as Discord's Create Message with enforce_nonce."""
        now = self.now()
        if nonce is not None:
            seen = self._nonces.get((channel, nonce))
            if seen is not None and now - seen[1] <= self.remembers:
                return seen[0], False
        message_id = self._id("m")
        self._messages.setdefault(channel, []).append(
            (message_id, self.fingerprint("", reply), now)
        )
        if nonce is not None:
            self._nonces[(channel, nonce)] = (message_id, now)
        return message_id, True

    async def send_dm(
        self, place_id: str, member_platform_id: str, reply: object, *, nonce: str | None = None
    ) -> Sent | None:
        self.calls.append("send_dm")
        self._fault("send_dm", False)
        if member_platform_id in self.closed_dms:
            return None
        channel = f"dm-{member_platform_id}"
        message_id, new = self._create(channel, reply, nonce)
        if new:
            self.dms.append((member_platform_id, reply))
        self._fault("send_dm", True)
        return Sent(channel, message_id)

    async def post(
        self, place_id: str, channel_id: str, reply: object, *, nonce: str | None = None
    ) -> str:
        self.calls.append("post")
        self._fault("post", False)
        message_id, new = self._create(channel_id, reply, nonce)
        if new:
            self.posts.append((channel_id, reply))
        self._fault("post", True)
        return message_id

    async def find_sent(
        self,
        place_id: str,
        *,
        channel_id: str | None = None,
        member_platform_id: str | None = None,
        fingerprints: object = (),
        since: datetime,
    ) -> str | None:
        from leerbot.chat.platform import Unverifiable

        self.calls.append("find_sent")
        self._fault("find_sent", False)
        if not self.history:
            raise Unverifiable("no history here")
        self.history_reads += 1
        channel = channel_id if channel_id is not None else f"dm-{member_platform_id}"
        for message_id, printed, made in self._messages.get(channel, []):
            if made >= since and printed in fingerprints:  # type: ignore[operator]
                return message_id
        return None

    async def edit(self, place_id: str, channel_id: str, message_id: str, reply: object) -> None:
        self.calls.append("edit")
        self._fault("edit", False)
        self.edits.append((channel_id, message_id))

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
        self.calls.append("open_thread")
        self._fault("open_thread", False)
        if message_id is not None and message_id in self._thread_of:
            return self._thread_of[message_id]
        if message_id is None and since is not None:
            for thread, parent, thread_name, made in self._private_threads:
                if parent == channel_id and thread_name == name and made >= since:
                    return thread
        self.threads.append((name, private, member_platform_ids))
        thread = self._id("t")
        if message_id is not None:
            self._thread_of[message_id] = thread
        else:
            self._private_threads.append((thread, channel_id, name, self.now()))
        self._fault("open_thread", True)
        return thread

    async def rename_thread(self, place_id: str, thread_id: str, name: str) -> None:
        self.renamed.append((thread_id, name))

    async def upsert_event(self, place_id: str, event_id: str | None, spec: object) -> str:
        self.calls.append("upsert_event")
        self._fault("upsert_event", False)
        if event_id is None:
            event_id = next((e for e, s in self.events.items() if s == spec), None)
        event_id = event_id or self._id("e")
        self.events[event_id] = spec
        self._fault("upsert_event", True)
        return event_id

    async def cancel_event(self, place_id: str, event_id: str) -> None:
        self.cancelled_events.append(event_id)


def csv_rows(data: bytes | str, delimiter: str = ";") -> list[dict[str, str]]:
    """An export's CSV as Excel reads it (UTF-8 with BOM, `;`), one dict per row by the
    header's labels ("Titel", "Steun", …)."""
    import csv
    import io

    if isinstance(data, bytes):
        assert data.startswith(b"\xef\xbb\xbf"), "CSV exports start with a UTF-8 BOM"
        data = data.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(data.lstrip("\ufeff"), newline=""), delimiter=delimiter))


def markdown_text(markdown: str) -> str:
    """What a reader sees of a Markdown file: rendered by a CommonMark parser, as text
    (member text in our Markdown is escaped, so the raw file shows backslashes)."""
    from html import unescape
    from html.parser import HTMLParser

    from markdown_it import MarkdownIt

    class Text(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.parts: list[str] = []

        def handle_data(self, data: str) -> None:
            self.parts.append(data)

    parser = Text()
    parser.feed(MarkdownIt("commonmark").render(markdown))
    return unescape("".join(parser.parts))
