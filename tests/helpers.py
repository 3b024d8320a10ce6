"""Small helpers for tests that call the core directly."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

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


class RecordingPlatform:
    """A Platform that keeps what would have been sent, for core-level tests of scheduled
    work (end-to-end tests use the fake Discord instead)."""

    def __init__(self, closed_dms: set[str] | None = None) -> None:
        from leerbot.chat.reply import Reply  # noqa: F401  (for type readers)

        self.dms: list[tuple[str, object]] = []
        self.posts: list[tuple[str, object]] = []
        self.edits: list[tuple[str, str]] = []
        self.threads: list[tuple[str, bool, tuple[str, ...]]] = []
        self.renamed: list[tuple[str, str]] = []
        self.events: dict[str, object] = {}
        self.cancelled_events: list[str] = []
        self.closed_dms = closed_dms or set()
        self._n = 0

    def _id(self, prefix: str) -> str:
        self._n += 1
        return f"{prefix}{self._n}"

    async def send_dm(self, place_id: str, member_platform_id: str, reply: object) -> bool:
        if member_platform_id in self.closed_dms:
            return False
        self.dms.append((member_platform_id, reply))
        return True

    async def post(self, place_id: str, channel_id: str, reply: object) -> str:
        self.posts.append((channel_id, reply))
        return self._id("m")

    async def edit(self, place_id: str, channel_id: str, message_id: str, reply: object) -> None:
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
    ) -> str:
        self.threads.append((name, private, member_platform_ids))
        return self._id("t")

    async def rename_thread(self, place_id: str, thread_id: str, name: str) -> None:
        self.renamed.append((thread_id, name))

    async def upsert_event(self, place_id: str, event_id: str | None, spec: object) -> str:
        event_id = event_id or self._id("e")
        self.events[event_id] = spec
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
