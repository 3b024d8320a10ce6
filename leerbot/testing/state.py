"""The fake's world: users, guilds, roles, members, channels, messages, events, commands.

Everything is kept as Discord keeps it (snowflake ids with real timestamps, messages that can
be fetched and edited later) and serialised into the payload shapes of ``discord/types/*.py``
and the OpenAPI response schemas. Nothing here does I/O.
"""

from __future__ import annotations

import itertools
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import discord

DISCORD_EPOCH_MS = 1420070400000

# Permission bits the fake checks (values as in Discord's documentation).
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
MANAGE_ROLES = 1 << 28
MANAGE_EVENTS = 1 << 33
MANAGE_THREADS = 1 << 34
CREATE_PUBLIC_THREADS = 1 << 35
CREATE_PRIVATE_THREADS = 1 << 36
SEND_MESSAGES_IN_THREADS = 1 << 38
USE_APPLICATION_COMMANDS = 1 << 31
CREATE_EVENTS = 1 << 44
ALL_PERMISSIONS = discord.Permissions.all().value

# What @everyone may do in a fresh community server.
EVERYONE_DEFAULT = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | READ_MESSAGE_HISTORY
    | EMBED_LINKS
    | ATTACH_FILES
    | USE_APPLICATION_COMMANDS
    | CREATE_PUBLIC_THREADS
    | SEND_MESSAGES_IN_THREADS
)
# What the bot's managed role gets when invited with a typical permission set.
BOT_DEFAULT = (
    EVERYONE_DEFAULT
    | MANAGE_ROLES
    | MANAGE_EVENTS
    | CREATE_EVENTS
    | MANAGE_THREADS
    | CREATE_PRIVATE_THREADS
    | MANAGE_MESSAGES
)

# Channel types.
GUILD_TEXT, DM, GUILD_VOICE, GUILD_CATEGORY, GUILD_NEWS = 0, 1, 2, 4, 5
NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD, GUILD_STAGE_VOICE, GUILD_FORUM = 10, 11, 12, 13, 15
THREAD_TYPES = (NEWS_THREAD, PUBLIC_THREAD, PRIVATE_THREAD)

# Message flags.
EPHEMERAL = 1 << 6
LOADING = 1 << 7


class Snowflakes:
    """Snowflake ids in Discord's real format: ms since 2015 << 22 | worker | process | seq."""

    def __init__(self, worker: int = 1, process: int = 0) -> None:
        self._lock = threading.Lock()
        self._last = 0
        self._seq = itertools.count()
        self._worker = worker
        self._process = process

    def next(self) -> int:
        with self._lock:
            now = int(time.time() * 1000) - DISCORD_EPOCH_MS
            if now <= self._last >> 22:
                # Same or earlier millisecond: keep ids strictly increasing.
                candidate = self._last + 1
            else:
                candidate = (now << 22) | (self._worker << 17) | (self._process << 12)
            self._last = candidate
            return candidate


def snowflake_time(snowflake: int) -> datetime:
    """When a snowflake was made (as Discord's clients read it)."""
    return datetime.fromtimestamp(((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000, tz=UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def now_iso() -> str:
    return iso(datetime.now(UTC))


@dataclass(eq=False)
class User:
    id: int
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    locale: str = "en-US"
    dms_open: bool = True

    @property
    def display_name(self) -> str:
        return self.global_name or self.username

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "username": self.username,
            "avatar": self.avatar,
            "discriminator": "0",
            "public_flags": 0,
            "flags": 0,
            "global_name": self.global_name,
            "primary_guild": None,
            "banner": None,
            "accent_color": None,
            "avatar_decoration_data": None,
            "collectibles": None,
        }
        if self.bot:
            payload["bot"] = True
        return payload


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    bot_id: int | None = None

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "icon": None,
            "unicode_emoji": None,
            "flags": 0,
        }
        if self.bot_id is not None:
            payload["tags"] = {"bot_id": str(self.bot_id)}
        return payload


@dataclass(eq=False)
class Member:
    user: User
    guild: Guild
    role_ids: list[int] = field(default_factory=list)
    nick: str | None = None
    joined_at: str = field(default_factory=now_iso)
    pending: bool = False

    @property
    def id(self) -> int:
        return self.user.id

    @property
    def name(self) -> str:
        return self.nick or self.user.display_name

    @property
    def roles(self) -> list[Role]:
        return [self.guild.roles[r] for r in self.role_ids if r in self.guild.roles]

    @property
    def permissions(self) -> int:
        """Guild-level permissions as Discord computes them (owner and administrator: all)."""
        if self.user.id == self.guild.owner_id:
            return ALL_PERMISSIONS
        value = self.guild.everyone.permissions
        for role in self.roles:
            value |= role.permissions
        return ALL_PERMISSIONS if value & ADMINISTRATOR else value

    def has(self, permission: int) -> bool:
        return bool(self.permissions & permission) or bool(self.permissions & ADMINISTRATOR)

    @property
    def top_position(self) -> int:
        return max((r.position for r in self.roles), default=0)

    def to_payload(self, *, with_user: bool = True, permissions: bool = False) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "avatar": None,
            "banner": None,
            "communication_disabled_until": None,
            "flags": 0,
            "joined_at": self.joined_at,
            "nick": self.nick,
            "pending": self.pending,
            "premium_since": None,
            "roles": [str(r) for r in self.role_ids],
            "mute": False,
            "deaf": False,
        }
        if with_user:
            payload["user"] = self.user.to_payload()
        if permissions:
            payload["permissions"] = str(self.permissions)
        return payload


@dataclass(eq=False)
class Channel:
    id: int
    type: int
    name: str
    guild: Guild | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    recipients: list[User] = field(default_factory=list)
    # Threads.
    owner_id: int | None = None
    archived: bool = False
    auto_archive_duration: int = 1440
    invitable: bool = True
    created_at: str = field(default_factory=now_iso)
    thread_members: dict[int, str] = field(default_factory=dict)
    message_count: int = 0
    last_message_id: int | None = None
    messages: list[Message] = field(default_factory=list, repr=False)

    @property
    def is_thread(self) -> bool:
        return self.type in THREAD_TYPES

    @property
    def is_dm(self) -> bool:
        return self.type == DM

    def mention(self) -> str:
        return f"<#{self.id}>"

    def to_payload(self) -> dict[str, Any]:
        last = str(self.last_message_id) if self.last_message_id else None
        if self.is_dm:
            return {
                "id": str(self.id),
                "type": DM,
                "flags": 0,
                "last_message_id": last,
                "recipients": [u.to_payload() for u in self.recipients],
            }
        assert self.guild is not None
        payload: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "flags": 0,
            "guild_id": str(self.guild.id),
            "name": self.name,
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "last_message_id": last,
            "rate_limit_per_user": 0,
        }
        if self.is_thread:
            payload.update(
                {
                    "owner_id": str(self.owner_id),
                    "message_count": self.message_count,
                    "member_count": min(len(self.thread_members), 50),
                    "total_message_sent": self.message_count,
                    "thread_metadata": {
                        "archived": self.archived,
                        "archive_timestamp": self.created_at,
                        "auto_archive_duration": self.auto_archive_duration,
                        "locked": False,
                        "create_timestamp": self.created_at,
                        **({"invitable": self.invitable} if self.type == PRIVATE_THREAD else {}),
                    },
                }
            )
            return payload
        payload.update(
            {
                "position": self.position,
                "permission_overwrites": [],
                "nsfw": False,
            }
        )
        if self.type in (GUILD_TEXT, GUILD_NEWS, GUILD_FORUM):
            payload["topic"] = self.topic
            payload["default_auto_archive_duration"] = 1440
            payload["default_thread_rate_limit_per_user"] = 0
        if self.type in (GUILD_VOICE, GUILD_STAGE_VOICE):
            payload.update({"bitrate": 64000, "user_limit": 0, "rtc_region": None})
        if self.type == GUILD_CATEGORY:
            payload.pop("last_message_id")
            payload.pop("rate_limit_per_user")
        return payload

    def thread_member_payload(self, user_id: int) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "user_id": str(user_id),
            "join_timestamp": self.thread_members[user_id],
            "flags": 0,
        }


@dataclass(eq=False)
class Attachment:
    id: int
    filename: str
    data: bytes
    url: str
    content_type: str | None = None
    description: str | None = None

    def to_payload(self) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": len(self.data),
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            payload["content_type"] = self.content_type
        if self.description:
            payload["description"] = self.description
        return payload


_USER_MENTION = re.compile(r"<@!?(\d+)>")
_ROLE_MENTION = re.compile(r"<@&(\d+)>")


@dataclass(eq=False)
class Message:
    id: int
    channel: Channel
    author: User
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    flags: int = 0
    type: int = 0
    timestamp: str = field(default_factory=now_iso)
    edited_timestamp: str | None = None
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    allowed_mentions: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    tts: bool = False
    thread_id: int | None = None
    deleted: bool = False
    nonce: str | int | None = None

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    @property
    def guild(self) -> Guild | None:
        return self.channel.guild

    def mentioned_user_ids(self) -> list[int]:
        """Users pinged by this message, honouring allowed_mentions as Discord does."""
        found = [int(x) for x in _USER_MENTION.findall(self.content)]
        allowed = self.allowed_mentions
        if allowed is None:
            return list(dict.fromkeys(found))
        if "users" in (allowed.get("parse") or []):
            return list(dict.fromkeys(found))
        explicit = {int(x) for x in allowed.get("users") or []}
        return list(dict.fromkeys(u for u in found if u in explicit))

    def mentioned_role_ids(self) -> list[int]:
        found = [int(x) for x in _ROLE_MENTION.findall(self.content)]
        allowed = self.allowed_mentions
        if allowed is None or "roles" in (allowed.get("parse") or []):
            return list(dict.fromkeys(found))
        explicit = {int(x) for x in allowed.get("roles") or []}
        return list(dict.fromkeys(r for r in found if r in explicit))

    def mentions_everyone(self) -> bool:
        if "@everyone" not in self.content and "@here" not in self.content:
            return False
        allowed = self.allowed_mentions
        return allowed is None or "everyone" in (allowed.get("parse") or [])

    def to_payload(
        self,
        *,
        gateway: bool = False,
        users: dict[int, User] | None = None,
    ) -> dict[str, Any]:
        """REST shape; ``gateway=True`` adds guild_id and member as MESSAGE_CREATE carries."""
        users = users or {}
        mentions = [users[u].to_payload() for u in self.mentioned_user_ids() if u in users]
        payload: dict[str, Any] = {
            "type": self.type,
            "content": self.content,
            "mentions": mentions,
            "mention_roles": [str(r) for r in self.mentioned_role_ids()],
            "attachments": [a.to_payload() for a in self.attachments],
            "embeds": self.embeds,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "flags": self.flags,
            "components": self.components,
            "id": str(self.id),
            "channel_id": str(self.channel.id),
            "author": self.author.to_payload(),
            "pinned": False,
            "mention_everyone": self.mentions_everyone(),
            "tts": self.tts,
        }
        if self.webhook_id is not None:
            payload["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            payload["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            payload["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            payload["message_reference"] = self.message_reference
        if self.nonce is not None:
            payload["nonce"] = self.nonce
        guild = self.guild
        if self.thread_id is not None and guild is not None and self.thread_id in guild.channels:
            payload["thread"] = guild.channels[self.thread_id].to_payload()
        if gateway and guild is not None:
            payload["guild_id"] = str(guild.id)
            member = guild.members.get(self.author.id)
            if member is not None and self.webhook_id is None:
                payload["member"] = member.to_payload(with_user=False)
        return payload


@dataclass(eq=False)
class ScheduledEvent:
    id: int
    guild: Guild
    name: str
    scheduled_start_time: str
    entity_type: int
    privacy_level: int = 2
    status: int = 1
    description: str | None = None
    scheduled_end_time: str | None = None
    channel_id: int | None = None
    location: str | None = None
    creator_id: int | None = None
    image: str | None = None
    deleted: bool = False

    def to_payload(self, users: dict[int, User] | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "id": str(self.id),
            "guild_id": str(self.guild.id),
            "name": self.name,
            "description": self.description,
            "channel_id": str(self.channel_id) if self.channel_id else None,
            "creator_id": str(self.creator_id) if self.creator_id else None,
            "image": self.image,
            "scheduled_start_time": self.scheduled_start_time,
            "scheduled_end_time": self.scheduled_end_time,
            "status": self.status,
            "entity_type": self.entity_type,
            "entity_id": None,
            "recurrence_rule": None,
            "privacy_level": self.privacy_level,
            "guild_scheduled_event_exceptions": [],
            "entity_metadata": {"location": self.location} if self.entity_type == 3 else None,
            "user_count": 0,
        }
        if users and self.creator_id in users:
            payload["creator"] = users[self.creator_id].to_payload()
        return payload


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    preferred_locale: str = "nl"
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    channels: dict[int, Channel] = field(default_factory=dict)
    scheduled_events: dict[int, ScheduledEvent] = field(default_factory=dict)
    features: list[str] = field(default_factory=lambda: ["COMMUNITY"])
    system_channel_id: int | None = None

    @property
    def everyone(self) -> Role:
        return self.roles[self.id]

    def role_named(self, name: str) -> Role:
        for role in self.roles.values():
            if role.name == name:
                return role
        raise KeyError(f"no role {name!r} in guild {self.name!r}")

    def channel_named(self, name: str) -> Channel:
        for channel in self.channels.values():
            if channel.name == name:
                return channel
        raise KeyError(f"no channel {name!r} in guild {self.name!r}")

    def to_payload(
        self,
        *,
        members: list[Member] | None,
        large_threshold: int = 250,
    ) -> dict[str, Any]:
        """GUILD_CREATE shape: the guild plus channels, threads, roles, members."""
        regular = [c for c in self.channels.values() if not c.is_thread]
        threads = [c for c in self.channels.values() if c.is_thread and not c.archived]
        return {
            "id": str(self.id),
            "name": self.name,
            "icon": None,
            "icon_hash": None,
            "splash": None,
            "discovery_splash": None,
            "owner_id": str(self.owner_id),
            "region": "deprecated",
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": [
                r.to_payload() for r in sorted(self.roles.values(), key=lambda r: r.position)
            ],
            "emojis": [],
            "features": self.features,
            "mfa_level": 0,
            "nsfw_level": 0,
            "application_id": None,
            "system_channel_id": str(self.system_channel_id) if self.system_channel_id else None,
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "vanity_url_code": None,
            "description": None,
            "banner": None,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": self.preferred_locale,
            "public_updates_channel_id": None,
            "max_video_channel_users": 25,
            "max_members": 500000,
            "incidents_data": None,
            "premium_progress_bar_enabled": False,
            "stickers": [],
            "stage_instances": [],
            "soundboard_sounds": [],
            "guild_scheduled_events": [
                e.to_payload() for e in self.scheduled_events.values() if not e.deleted
            ],
            "joined_at": now_iso(),
            "large": len(self.members) > large_threshold,
            "unavailable": False,
            "member_count": len(self.members),
            "voice_states": [],
            "members": [m.to_payload() for m in (members or [])],
            "channels": [c.to_payload() for c in regular],
            "threads": [c.to_payload() for c in threads],
            "presences": [],
        }


@dataclass(eq=False)
class Command:
    """A synced application command, stored as the bot sent it plus Discord's fields."""

    id: int
    application_id: int
    guild_id: int | None
    version: int
    data: dict[str, Any]

    @property
    def name(self) -> str:
        return str(self.data["name"])

    @property
    def type(self) -> int:
        return int(self.data.get("type") or 1)

    def to_payload(self) -> dict[str, Any]:
        payload = {k: v for k, v in self.data.items() if v is not None}
        perms = self.data.get("default_member_permissions")
        payload.update(
            {
                "id": str(self.id),
                "application_id": str(self.application_id),
                "version": str(self.version),
                "type": self.type,
                "description": self.data.get("description") or "",
                "default_member_permissions": str(perms) if perms is not None else None,
                "dm_permission": self.data.get("dm_permission", True),
                "nsfw": bool(self.data.get("nsfw", False)),
                "contexts": self.data.get("contexts"),
                "integration_types": self.data.get("integration_types") or [0],
            }
        )
        if self.guild_id is not None:
            payload["guild_id"] = str(self.guild_id)
        return payload


def new_token() -> str:
    """An interaction token: opaque, long, URL-safe, like Discord's."""
    return "aW50ZXJhY3Rpb24" + secrets.token_urlsafe(96)
