"""The scheduled work's view of Discord (`leerbot.chat.platform.Platform`): post and edit
cards, open threads, send DMs, mirror sessions as Guild Scheduled Events.

Everything works by id over REST when the cache does not have the object, so jobs that fire
right after a restart (before the gateway is ready) still reach their channel.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

import discord

from leerbot.adapters.discord.render import message_for
from leerbot.chat.platform import EventSpec
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
CANNOT_DM = 50007  # "Cannot send messages to this user"


def _iso(moment: datetime) -> str:
    return moment.isoformat()


class DiscordPlatform:
    """`Platform` for discord.py; every message with mentions disabled."""

    def __init__(self, client: LeerbotClient) -> None:
        self.client = client
        self._events_sent: dict[str, EventSpec] = {}
        """What each event last looked like in Discord (since this process started)."""

    def _locale(self, reply: Reply) -> str:
        return reply.locale or self.client.settings.default_locale

    async def _messageable(self, channel_id: str) -> Any:
        channel = self.client.get_channel(int(channel_id))
        if channel is None:
            channel = await self.client.fetch_channel(int(channel_id))
        return channel

    async def send_dm(self, place_id: str, member_platform_id: str, reply: Reply) -> bool:
        """False when the member does not accept DMs from the server (a common setting)."""
        message = message_for(reply, self._locale(reply), guild_id=place_id)
        try:
            # Open (or reuse) the DM channel by id: no user lookup first, so a DM costs two
            # requests at most, and one once discord.py knows the channel.
            channel = await self.client.create_dm(discord.Object(id=int(member_platform_id)))
            await channel.send(**message.kwargs(for_interaction=False))
        except discord.Forbidden as exc:
            log.info("member %s does not accept DMs (%s)", who(member_platform_id), exc.code)
            return False
        except discord.NotFound:
            log.info("member %s is unknown to Discord", who(member_platform_id))
            return False
        except discord.HTTPException as exc:
            if exc.code == CANNOT_DM:
                return False
            raise
        return True

    async def post(self, place_id: str, channel_id: str, reply: Reply) -> str:
        channel = await self._messageable(channel_id)
        sent = await channel.send(
            **message_for(reply, self._locale(reply)).kwargs(for_interaction=False)
        )
        return str(sent.id)

    async def edit(self, place_id: str, channel_id: str, message_id: str, reply: Reply) -> None:
        channel = await self._messageable(channel_id)
        message = channel.get_partial_message(int(message_id))
        await message.edit(**message_for(reply, self._locale(reply)).edit_kwargs())

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
        http = self.client.http
        if message_id is not None:
            data = await http.start_thread_with_message(
                int(channel_id),
                int(message_id),
                name=name[:100],
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
            )
        else:
            data = await http.start_thread_without_message(
                int(channel_id),
                name=name[:100],
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,
                type=discord.ChannelType.private_thread.value
                if private
                else discord.ChannelType.public_thread.value,
                invitable=False,
            )
        thread_id = str(data["id"])
        for member in member_platform_ids:
            await http.add_user_to_thread(int(thread_id), int(member))
        return thread_id

    async def rename_thread(self, place_id: str, thread_id: str, name: str) -> None:
        try:
            await self.client.http.edit_channel(int(thread_id), name=name[:100])
        except discord.NotFound:
            log.info("thread %s no longer exists; nothing to rename", thread_id)

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
        """Update the event; create it (again) when it is new or was deleted by hand."""
        http = self.client.http
        payload = self._event_payload(spec)
        if event_id is not None and self._events_sent.get(event_id) == spec:
            return event_id  # unchanged: Discord allows few event edits, keep them for changes
        if event_id is not None:
            try:
                await http.edit_scheduled_event(int(place_id), int(event_id), **payload)
                self._events_sent[event_id] = spec
                return event_id
            except discord.NotFound:
                log.info("scheduled event %s was deleted in Discord; creating it again", event_id)
        create = {k: v for k, v in payload.items() if v is not None}
        data = await http.create_guild_scheduled_event(int(place_id), **create)
        self._events_sent[str(data["id"])] = spec
        return str(data["id"])

    async def cancel_event(self, place_id: str, event_id: str) -> None:
        http = self.client.http
        try:
            await http.edit_scheduled_event(int(place_id), int(event_id), status=EVENT_CANCELED)
        except discord.NotFound:
            return
        except discord.HTTPException:
            # only a scheduled (not yet active) event can be cancelled; remove it otherwise
            try:
                await http.delete_scheduled_event(int(place_id), int(event_id))
            except discord.NotFound:
                return
