"""The scheduled work's view of Discord (`leerbot.chat.platform.Platform`): post and edit
cards, open threads, send DMs, mirror sessions as Guild Scheduled Events.

Everything works by id over REST when the cache does not have the object, so jobs that fire
right after a restart (before the gateway is ready) still reach their channel.

Sending once (see `leerbot.chat.delivery` for the records): every message goes out with the
nonce the chat layer gives, and discord.py sets `enforce_nonce` with it, so within Discord's
window ("the past few minutes") a second attempt returns the first message. We count on
`NONCE_TRUST` of that window only. After it, `find_sent` reads the channel's history after
the first attempt (the bot's own messages, compared by `fingerprint`: content, embed title
and text, button ids and file names; the nonce itself is not kept in the history). A thread
started on a message has the message's id, so opening it again finds it (160004); a thread
without a message is looked up in the server's active threads (the gateway's cache), an
event among the server's events by name, start and description.

Failures become `SendFailed`: a 5xx, a timeout or a lost connection is transient; 403, 404
and other refusals are final, with Discord's status and code as the reason. A member who does
not accept DMs (50007) is not a failure: `send_dm` returns None and the message goes to a
private thread.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import aiohttp
import discord

from leerbot.adapters.discord.render import message_for
from leerbot.chat.platform import EventSpec, SendFailed, Sent, Unverifiable
from leerbot.chat.reply import Reply
from leerbot.logging_ids import who

if TYPE_CHECKING:
    from leerbot.adapters.discord.client import LeerbotClient

log = logging.getLogger("leerbot.discord")

THREAD_ARCHIVE_MINUTES = 10080  # a week: a session thread stays open until after the session
EVENT_GUILD_ONLY = 2
EVENT_VOICE = 2
EVENT_EXTERNAL = 3
EVENT_CANCELED = 4
EVENT_LIVE = (1, 2)  # scheduled, active
CANNOT_DM = 50007  # "Cannot send messages to this user"
THREAD_EXISTS = 160004  # "A thread has already been created for this message"
NONCE_TRUST = timedelta(minutes=2)
"""How long we count on Discord remembering a nonce (`discord.nonce_trust_seconds`).
Discord documents "the past few minutes"; we trust less, and check the history after it."""
CLOCK_SKEW = timedelta(minutes=1)
"""How far our clock and Discord's may disagree: history is read from this much earlier."""
HISTORY_PAGES = 5
"""Read at most this many pages of 100 messages when looking for one: more than that in a
channel since the attempt means we cannot be sure, and the message is not sent again."""

T = TypeVar("T")


def _iso(moment: datetime) -> str:
    return moment.isoformat()


def _digest(
    content: str, embeds: Sequence[tuple[str, str]], custom_ids: Sequence[str], files: Sequence[str]
) -> str:
    def norm(text: str) -> str:
        return " ".join(text.split())  # Discord may trim; whitespace never tells two apart

    parts = [norm(content), [[norm(t), norm(d)] for t, d in embeds], list(custom_ids), list(files)]
    raw = json.dumps(parts, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]


def message_fingerprint(message: discord.Message) -> str:
    """The fingerprint of a message as Discord returns it (see `DiscordPlatform.fingerprint`)."""
    custom_ids: list[str] = []
    for row in message.components:
        for child in getattr(row, "children", [row]):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                custom_ids.append(custom_id)
    return _digest(
        message.content or "",
        [(e.title or "", e.description or "") for e in message.embeds],
        custom_ids,
        [a.filename for a in message.attachments],
    )


TRANSIENT = (discord.DiscordServerError, discord.RateLimited, aiohttp.ClientError, OSError)
"""Errors worth trying again after: Discord's 5xx, a rate limit discord.py gave up on, a lost
or refused connection, a timeout (TimeoutError is an OSError)."""


def failure(what: str, exc: BaseException) -> SendFailed:
    """What a discord.py or connection error means for sending: transient or final."""
    if isinstance(exc, discord.HTTPException):  # DiscordServerError too
        transient = exc.status >= 500 or exc.status == 429
        return SendFailed(f"{what}: Discord {exc.status} ({exc.code})", transient=transient)
    return SendFailed(f"{what}: {type(exc).__name__}", transient=True)


async def classified(what: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run one request; discord.py's and the connection's errors become SendFailed."""
    try:
        return await call()
    except (discord.HTTPException, *TRANSIENT) as exc:
        raise failure(what, exc) from exc


class DiscordPlatform:
    """`Platform` for discord.py; every message with mentions disabled."""

    def __init__(self, client: LeerbotClient) -> None:
        self.client = client
        self.nonce_window = timedelta(seconds=client.settings.discord.nonce_trust_seconds)
        """How long we count on Discord remembering a nonce (`NONCE_TRUST` by default)."""
        self._events_sent: dict[str, EventSpec] = {}
        """What each event last looked like in Discord (since this process started)."""

    def _locale(self, reply: Reply) -> str:
        return reply.locale or self.client.settings.default_locale

    async def _messageable(self, channel_id: str) -> Any:
        channel = self.client.get_channel(int(channel_id))
        if channel is None:
            channel = await self.client.fetch_channel(int(channel_id))
        return channel

    def _bot_id(self) -> int:
        user = self.client.user
        if user is None:
            raise SendFailed("not logged in to Discord", transient=True)
        return user.id

    def fingerprint(self, place_id: str, reply: Reply, *, direct: bool = False) -> str:
        message = message_for(reply, self._locale(reply), guild_id=place_id if direct else None)
        embed = message.embed
        return _digest(
            message.content or "",
            [(embed.title or "", embed.description or "")] if embed is not None else [],
            [
                item.custom_id
                for item in (message.view.children if message.view is not None else [])
                if isinstance(item, discord.ui.Button) and item.custom_id
            ],
            [f.filename or "" for f in message.files],
        )

    async def send_dm(
        self, place_id: str, member_platform_id: str, reply: Reply, *, nonce: str | None = None
    ) -> Sent | None:
        """None when the member does not accept DMs from the server (a common setting)."""
        message = message_for(reply, self._locale(reply), guild_id=place_id)
        try:
            # Open (or reuse) the DM channel by id: no user lookup first, so a DM costs two
            # requests at most, and one once discord.py knows the channel.
            channel = await self.client.create_dm(discord.Object(id=int(member_platform_id)))
            sent = await channel.send(nonce=nonce, **message.kwargs(for_interaction=False))
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM:
                log.info("member %s does not accept DMs", who(member_platform_id))
                return None
            raise failure("direct message", exc) from exc
        except discord.HTTPException as exc:
            if exc.code == CANNOT_DM:
                return None
            raise failure("direct message", exc) from exc
        except TRANSIENT as exc:
            raise failure("direct message", exc) from exc
        return Sent(str(channel.id), str(sent.id))

    async def open_dm(self, place_id: str, member_platform_id: str) -> None:
        """Open (or find) the DM channel ahead of the message (a fan-out does this for the
        next members while it sends): `send_dm` then finds it in discord.py's cache."""
        await self.client.create_dm(discord.Object(id=int(member_platform_id)))

    async def post(
        self, place_id: str, channel_id: str, reply: Reply, *, nonce: str | None = None
    ) -> str:
        async def send() -> str:
            channel = await self._messageable(channel_id)
            sent = await channel.send(
                nonce=nonce, **message_for(reply, self._locale(reply)).kwargs(for_interaction=False)
            )
            return str(sent.id)

        return await classified("post", send)

    async def find_sent(
        self,
        place_id: str,
        *,
        channel_id: str | None = None,
        member_platform_id: str | None = None,
        fingerprints: Sequence[str],
        since: datetime,
    ) -> str | None:
        async def look() -> str | None:
            if member_platform_id is not None:
                channel = await self.client.create_dm(discord.Object(id=int(member_platform_id)))
            else:
                assert channel_id is not None
                channel = await self._messageable(channel_id)
                self._require_history(channel)
            bot = self._bot_id()
            after = discord.Object(id=discord.utils.time_snowflake(since - CLOCK_SKEW))
            seen = 0
            async for message in channel.history(
                limit=HISTORY_PAGES * 100, after=after, oldest_first=True
            ):
                seen += 1
                if message.author.id == bot and message_fingerprint(message) in fingerprints:
                    return str(message.id)
            if seen >= HISTORY_PAGES * 100:
                raise Unverifiable(f"more than {seen} messages in the channel since the attempt")
            return None

        try:
            return await classified("history", look)
        except SendFailed as exc:
            if exc.transient:
                raise
            raise Unverifiable(exc.reason) from exc

    def _require_history(self, channel: Any) -> None:
        """Without Read Message History Discord answers with no messages at all, which would
        read as "not sent": refuse to look instead."""
        guild = getattr(channel, "guild", None)
        me = guild.me if guild is not None else None
        if me is None or not hasattr(channel, "permissions_for"):
            return  # a DM, or not in the cache: the request itself tells
        if not channel.permissions_for(me).read_message_history:
            raise Unverifiable("no Read Message History permission in the channel")

    async def edit(self, place_id: str, channel_id: str, message_id: str, reply: Reply) -> None:
        async def change() -> None:
            channel = await self._messageable(channel_id)
            message = channel.get_partial_message(int(message_id))
            await message.edit(**message_for(reply, self._locale(reply)).edit_kwargs())

        await classified("edit", change)

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
        http = self.client.http
        thread_id: str | None = None
        if message_id is not None:
            try:
                data = await http.start_thread_with_message(
                    int(channel_id),
                    int(message_id),
                    name=name[:100],
                    auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                )
                thread_id = str(data["id"])
            except discord.HTTPException as exc:
                if exc.code != THREAD_EXISTS:
                    raise failure("thread", exc) from exc
                thread_id = message_id  # a thread on a message has the message's id
            except TRANSIENT as exc:
                raise failure("thread", exc) from exc
        else:
            if since is not None:
                thread_id = self._find_thread(place_id, channel_id, name[:100], since)
            if thread_id is None:
                data = await classified(
                    "thread",
                    lambda: http.start_thread_without_message(
                        int(channel_id),
                        name=name[:100],
                        auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                        type=discord.ChannelType.private_thread.value
                        if private
                        else discord.ChannelType.public_thread.value,
                        invitable=False,
                    ),
                )
                thread_id = str(data["id"])
        for member in member_platform_ids:
            await classified(
                "thread member", lambda m=member: http.add_user_to_thread(int(thread_id), int(m))
            )
        return thread_id

    def _find_thread(
        self, place_id: str, channel_id: str, name: str, since: datetime
    ) -> str | None:
        """A thread the bot opened in the channel with this name at or after `since`, from
        the active threads the gateway gave us (Discord sends them with the server)."""
        guild = self.client.get_guild(int(place_id))
        if guild is None:
            raise Unverifiable("the server's threads are not known yet")
        bot = self._bot_id()
        after = discord.utils.time_snowflake(since - CLOCK_SKEW)
        found = sorted(
            t.id
            for t in guild.threads
            if t.parent_id == int(channel_id)
            and t.owner_id == bot
            and t.name == name
            and t.id >= after
        )
        return str(found[0]) if found else None

    async def rename_thread(self, place_id: str, thread_id: str, name: str) -> None:
        try:
            await self.client.http.edit_channel(int(thread_id), name=name[:100])
        except discord.NotFound:
            log.info("thread %s no longer exists; nothing to rename", thread_id)
        except (discord.HTTPException, *TRANSIENT) as exc:
            raise failure("rename thread", exc) from exc

    def _event_payload(self, spec: EventSpec) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "name": spec.name[:100],
            "description": spec.description[:1000],
            "privacy_level": EVENT_GUILD_ONLY,
            "scheduled_start_time": _iso(spec.starts_at),
            "scheduled_end_time": _iso(spec.ends_at),
        }
        if spec.voice_channel_id:
            payload.update(
                entity_type=EVENT_VOICE, channel_id=int(spec.voice_channel_id), entity_metadata=None
            )
        else:
            payload.update(
                entity_type=EVENT_EXTERNAL,
                channel_id=None,
                entity_metadata={"location": (spec.location or "-")[:100]},
            )
        return payload

    async def upsert_event(self, place_id: str, event_id: str | None, spec: EventSpec) -> str:
        """Update the event; create it (again) when it is new or was deleted by hand. Before
        creating, look for ours among the server's events (same name, start and description:
        the description names the meeting's number), so a crash after Discord created it and
        before we wrote its id down does not give the meeting a second event."""
        http = self.client.http
        payload = self._event_payload(spec)
        if event_id is not None and self._events_sent.get(event_id) == spec:
            return event_id  # unchanged: Discord allows few event edits, keep them for changes
        if event_id is None:
            event_id = await self._find_event(place_id, payload, spec)
        if event_id is not None:
            try:
                await http.edit_scheduled_event(int(place_id), int(event_id), **payload)
                self._events_sent[event_id] = spec
                return event_id
            except discord.NotFound:
                log.info("scheduled event %s was deleted in Discord; creating it again", event_id)
            except (discord.HTTPException, *TRANSIENT) as exc:
                raise failure("event", exc) from exc
        create = {k: v for k, v in payload.items() if v is not None}
        data = await classified(
            "event", lambda: http.create_guild_scheduled_event(int(place_id), **create)
        )
        self._events_sent[str(data["id"])] = spec
        return str(data["id"])

    async def _find_event(
        self, place_id: str, payload: dict[str, Any], spec: EventSpec
    ) -> str | None:
        bot = str(self._bot_id())
        events = await classified(
            "events", lambda: self.client.http.get_scheduled_events(int(place_id), False)
        )
        for data in events:
            if (
                str(data.get("creator_id")) == bot
                and data.get("status") in EVENT_LIVE
                and data.get("name") == payload["name"]
                and (data.get("description") or "") == payload["description"]
                and _same_moment(data.get("scheduled_start_time"), spec.starts_at)
            ):
                log.info("found scheduled event %s made earlier for this meeting", data["id"])
                return str(data["id"])
        return None

    async def cancel_event(self, place_id: str, event_id: str) -> None:
        http = self.client.http
        try:
            await http.edit_scheduled_event(int(place_id), int(event_id), status=EVENT_CANCELED)
        except discord.NotFound:
            return
        except discord.HTTPException as exc:
            if exc.status >= 500:
                raise failure("cancel event", exc) from exc
            # only a scheduled (not yet active) event can be cancelled; remove it otherwise
            try:
                await http.delete_scheduled_event(int(place_id), int(event_id))
            except discord.NotFound:
                return
            except (discord.HTTPException, *TRANSIENT) as exc2:
                raise failure("cancel event", exc2) from exc2
        except TRANSIENT as exc:
            raise failure("cancel event", exc) from exc


def _same_moment(text: object, moment: datetime) -> bool:
    if not isinstance(text, str):
        return False
    try:
        return datetime.fromisoformat(text) == moment
    except ValueError:
        return False
