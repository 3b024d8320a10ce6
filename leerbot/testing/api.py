"""The test-facing API: declare a community, start the fake, act as its members.

Tests talk in terms of what a member does (``slash``, ``click``, ``submit_modal``, ``select``,
``send_message``) and what a member sees (``dms``, ``messages``, ``threads``,
``scheduled_events``). Every wait is driven by a change notification, never by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import discord
import yarl
from aiohttp import web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from leerbot.testing import gateway as gw
from leerbot.testing.gateway import Gateway
from leerbot.testing.rest import API_PREFIX, RestApi, Violation
from leerbot.testing.state import (
    ADMINISTRATOR,
    BOT_DEFAULT,
    DM,
    EPHEMERAL,
    EVERYONE_DEFAULT,
    GUILD_TEXT,
    LOADING,
    Channel,
    Command,
    Guild,
    Member,
    Message,
    Role,
    ScheduledEvent,
    Snowflakes,
    User,
    new_token,
)

T = TypeVar("T")

WAIT_GUARD = 60.0
"""Seconds a wait for the bot (an answer, a message, a condition) lasts before it fails: a
guard against a test that hangs, not a measure of speed. A loaded machine is slow, not
wrong; Discord's own 3-second rule for acknowledging an interaction is checked separately
(`interaction_response_timeout`)."""
_log = logging.getLogger(__name__)

ALL_PRIVILEGED = gw.PRIVILEGED
# Application flags that say "privileged intent enabled in the developer portal".
_INTENT_FLAGS = {
    gw.GUILD_PRESENCES: 1 << 13,
    gw.GUILD_MEMBERS: 1 << 15,
    gw.MESSAGE_CONTENT: 1 << 19,
}


class InteractionRefused(Exception):
    """The member cannot do this in Discord's client (e.g. submit a closed modal)."""


@dataclass(eq=False)
class Modal:
    """A modal the bot opened (callback type 9); can be submitted once."""

    custom_id: str
    title: str
    components: list[dict[str, Any]]
    interaction: InteractionRecord
    submitted: bool = False

    def inputs(self) -> list[dict[str, Any]]:
        """The input components (text inputs, selects), each with the label shown above it."""
        found: list[dict[str, Any]] = []
        for top in self.components:
            if top.get("type") == 1:
                for inner in top.get("components") or []:
                    found.append(dict(inner))
            elif top.get("type") == 18 and isinstance(top.get("component"), dict):
                found.append(dict(top["component"]) | {"label": top.get("label")})
        return found


@dataclass(eq=False)
class InteractionRecord:
    """One interaction the fake sent, and everything the bot did with its token."""

    id: int
    token: str
    type: int
    guild: Guild | None
    channel: Channel
    user: User
    member: Member | None
    data: dict[str, Any]
    payload: dict[str, Any] = field(default_factory=dict, repr=False)
    component_message: Message | None = None
    parent: InteractionRecord | None = None
    created: float = field(default_factory=time.monotonic)
    response_type: int | None = None
    responded_at: float | None = None
    original: Message | None = None
    followups: list[Message] = field(default_factory=list)
    modal: Modal | None = None
    expired: bool = False
    edits: int = 0

    def answered(self) -> bool:
        """Whether the member sees the bot's answer (not just "thinking...")."""
        kind = self.response_type
        if kind in (4, 7, 9):
            return True
        if kind == 5:
            return bool(self.followups) or (
                self.original is not None and not self.original.flags & LOADING
            )
        if kind == 6:
            return self.edits > 0 or bool(self.followups)
        return False


class Reply:
    """What the member saw in answer to one interaction; reads live state (edits show up)."""

    def __init__(self, fake: FakeDiscord, interaction: InteractionRecord) -> None:
        self.fake = fake
        self.interaction = interaction

    def __repr__(self) -> str:
        return (
            f"<Reply type={self.response_type} content={self.content!r} "
            f"ephemeral={self.ephemeral} modal={self.modal is not None}>"
        )

    @property
    def response_type(self) -> int | None:
        return self.interaction.response_type

    @property
    def deferred(self) -> bool:
        return self.response_type in (5, 6)

    @property
    def message(self) -> Message | None:
        """The visible message: the original response, or the first follow-up. After a
        silent acknowledgement of a button (6) the original is the button's own message:
        the answer is the first follow-up, or that message as edited."""
        rec = self.interaction
        if rec.response_type == 6 and rec.followups:
            return rec.followups[0]
        if (
            rec.original is not None
            and not rec.original.deleted
            and not (rec.original.flags & LOADING)
        ):
            return rec.original
        return rec.followups[0] if rec.followups else rec.original

    @property
    def content(self) -> str:
        return self.message.content if self.message else ""

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.message.embeds if self.message else []

    @property
    def components(self) -> list[dict[str, Any]]:
        return self.message.components if self.message else []

    @property
    def files(self) -> list[Any]:
        return self.message.attachments if self.message else []

    @property
    def ephemeral(self) -> bool:
        return bool(self.message and self.message.flags & EPHEMERAL)

    @property
    def modal(self) -> Modal | None:
        return self.interaction.modal

    @property
    def followups(self) -> list[Message]:
        """Follow-ups beyond the answer itself (see `message`)."""
        rec = self.interaction
        extra = [m for m in rec.followups if m is not rec.original]
        if rec.response_type == 6:
            return extra[1:]  # the first one is the answer
        return extra

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in _walk(self.components) if c.get("type") == 2]

    async def wait_for_followups(
        self, count: int = 1, timeout: float = WAIT_GUARD
    ) -> list[Message]:
        """Wait until the bot has sent ``count`` follow-ups (beyond the answer itself)."""
        await self.fake.wait_until(
            lambda: len(self.followups) >= count, timeout, f"{count} follow-up(s)"
        )
        return self.followups


def _walk(components: Sequence[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for comp in components:
        yield comp
        yield from _walk(comp.get("components") or [])
        for key in ("accessory", "component"):
            if isinstance(comp.get(key), dict):
                yield from _walk([comp[key]])


class _ErrorCapture(logging.Handler):
    """Collects discord.py's ERROR logs ("Ignoring exception in ...") so tests can fail."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


NONCE_WINDOW = timedelta(minutes=5)


class FakeDiscord:
    """A local Discord: gateway websocket and REST API on 127.0.0.1, plus the test API.

    Declare the world (``add_guild``, ``add_role``, ``add_member``, ``add_channel``), then
    ``await start()`` and point discord.py at it with ``patch_client()`` (or use
    :func:`run_fake_discord` and :meth:`running_client`, which do both).
    """

    def __init__(
        self,
        *,
        token: str = "fake-bot-token",
        bot_name: str = "leerbot",
        privileged_intents: int = ALL_PRIVILEGED,
        validate_responses: bool = False,
        interaction_response_timeout: float = 3.0,
        global_rate_limit: int = 50,
    ) -> None:
        self.ids = Snowflakes()
        self.token = token
        self.privileged_intents = privileged_intents
        self.validate_responses = validate_responses
        self.interaction_response_timeout = interaction_response_timeout
        self.bot_user = User(self.ids.next(), bot_name, None, bot=True)
        self.application_id = self.bot_user.id
        self.users: dict[int, User] = {self.bot_user.id: self.bot_user}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self.commands: dict[int | None, list[Command]] = {}
        self.interactions: dict[int, InteractionRecord] = {}
        self.interactions_by_token: dict[str, InteractionRecord] = {}
        self.violations: list[Violation] = []
        self.expected_violations: list[Violation] = []
        self.requests: list[Any] = []
        self.sync_count = 0
        self.gateway = Gateway(self)
        self.rest = RestApi(self)
        self.rest.limiter.set_global(global_rate_limit, 1.0)
        self._dm_channels: dict[int, Channel] = {}
        self.nonce_window = NONCE_WINDOW
        """How long Discord remembers a message's nonce for `enforce_nonce` ("the past few
        minutes" in Discord's documentation of Create Message)."""
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        """The fake's own time, for the nonce window (tests move it)."""
        self._nonces: dict[tuple[int, int, str], tuple[Message, datetime]] = {}
        self._event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._expecting = 0
        self._client_tasks: list[asyncio.Task[Any]] = []
        self._client_errors: list[logging.LogRecord] = []

    # -- declaring the world -------------------------------------------------------------

    def add_guild(
        self,
        name: str,
        *,
        locale: str = "nl",
        bot_permissions: int = BOT_DEFAULT,
        everyone_permissions: int = EVERYONE_DEFAULT,
        owner_name: str = "Eigenaar",
    ) -> Guild:
        """A guild with @everyone, an owner, and the bot (with its managed role)."""
        guild_id = self.ids.next()
        owner = User(self.ids.next(), owner_name.lower(), owner_name)
        guild = Guild(guild_id, name, owner.id, preferred_locale=locale)
        guild.roles[guild_id] = Role(guild_id, guild_id, "@everyone", everyone_permissions, 0)
        bot_role = Role(
            self.ids.next(),
            guild_id,
            self.bot_user.username,
            bot_permissions,
            1,
            managed=True,
            bot_id=self.bot_user.id,
        )
        guild.roles[bot_role.id] = bot_role
        self.guilds[guild_id] = guild
        self.users[owner.id] = owner
        guild.members[owner.id] = Member(owner, guild)
        guild.members[self.bot_user.id] = Member(self.bot_user, guild, [bot_role.id])
        return guild

    def bot_role(self, guild: Guild) -> Role:
        return next(r for r in guild.roles.values() if r.bot_id == self.bot_user.id)

    def add_role(
        self,
        guild: Guild,
        name: str,
        *,
        permissions: int = 0,
        color: int = 0,
        mentionable: bool = False,
        hoist: bool = False,
        above_bot: bool = False,
    ) -> Role:
        """A role below the bot's own (so the bot may assign it), or above it if ``above_bot``."""
        bot_role = self.bot_role(guild)
        if above_bot:
            position = max(r.position for r in guild.roles.values()) + 1
        else:
            position = bot_role.position
            bot_role.position += 1
            for role in guild.roles.values():
                if role is not bot_role and role.position > position:
                    role.position += 1
        role = Role(
            self.ids.next(), guild.id, name, permissions, position, color, hoist, mentionable
        )
        guild.roles[role.id] = role
        return role

    def _roles(self, guild: Guild, roles: Sequence[Role | str]) -> list[int]:
        return [(r if isinstance(r, Role) else guild.role_named(r)).id for r in roles]

    def add_member(
        self,
        guild: Guild,
        name: str,
        *,
        roles: Sequence[Role | str] = (),
        dms_open: bool = True,
        locale: str = "nl",
        nick: str | None = None,
        username: str | None = None,
        user: User | None = None,
        bot: bool = False,
    ) -> Member:
        """A member (a new user unless ``user`` is given, e.g. the same person in two guilds)."""
        if user is None:
            user = User(
                self.ids.next(),
                username or name.lower().replace(" ", "_"),
                name,
                bot=bot,
                locale=locale,
                dms_open=dms_open,
            )
            self.users[user.id] = user
        member = Member(user, guild, self._roles(guild, roles), nick=nick)
        guild.members[user.id] = member
        return member

    def add_channel(
        self,
        guild: Guild,
        name: str,
        *,
        type: int = GUILD_TEXT,
        topic: str | None = None,
        category: Channel | None = None,
    ) -> Channel:
        position = sum(1 for c in guild.channels.values() if not c.is_thread)
        channel = Channel(
            self.ids.next(),
            type,
            name,
            guild,
            position=position,
            parent_id=category.id if category else None,
            topic=topic,
        )
        self._add_channel(channel)
        if guild.system_channel_id is None and type == GUILD_TEXT:
            guild.system_channel_id = channel.id
        return channel

    def _add_channel(self, channel: Channel) -> None:
        self.channels[channel.id] = channel
        if channel.guild is not None:
            channel.guild.channels[channel.id] = channel

    def dm_channel(self, user: User | Member) -> Channel:
        """The DM channel between the bot and ``user`` (made on first use, as Discord does)."""
        user = user.user if isinstance(user, Member) else user
        channel = self._dm_channels.get(user.id)
        if channel is None:
            channel = Channel(self.ids.next(), DM, "", None, recipients=[user])
            self._dm_channels[user.id] = channel
            self.channels[channel.id] = channel
        return channel

    def application_payload(self) -> dict[str, Any]:
        owner = next(iter(self.guilds.values())).owner_id if self.guilds else self.bot_user.id
        flags = sum(
            flag for intent, flag in _INTENT_FLAGS.items() if self.privileged_intents & intent
        )
        return {
            "id": str(self.application_id),
            "name": self.bot_user.username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot": self.bot_user.to_payload() | {"bot": True},
            "bot_public": False,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": flags,
            "flags_new": str(flags),
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "role_connections_verification_url": None,
            "owner": self.users[owner].to_payload()
            if owner in self.users
            else self.bot_user.to_payload(),
            "approximate_guild_count": len(self.guilds),
            "approximate_user_install_count": 0,
            "approximate_user_authorization_count": 0,
            "explicit_content_filter": 0,
            "team": None,
            "eligible_oauth2_scopes": ["bot", "applications.commands"],
            "integration_types_config": {"0": {}},
        }

    @property
    def application_flags(self) -> int:
        return sum(
            flag for intent, flag in _INTENT_FLAGS.items() if self.privileged_intents & intent
        )

    # -- server --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port (REST under /api/v10, gateway at /)."""
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_get("/", self.gateway.handle)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self.rest.handle)
        app.router.add_get(
            "/attachments/{channel_id}/{attachment_id}/{filename}", self._serve_attachment
        )
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        self._runner = runner
        server = site._server
        assert server is not None
        self._port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def stop(self) -> None:
        await self.gateway.close_all()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _serve_attachment(self, request: web.Request) -> web.StreamResponse:
        wanted = int(request.match_info["attachment_id"])
        for channel in self.channels.values():
            for message in channel.messages:
                for attachment in message.attachments:
                    if attachment.id == wanted:
                        return web.Response(
                            body=attachment.data,
                            content_type=attachment.content_type or "application/octet-stream",
                        )
        for rec in self.interactions.values():
            for message in (rec.original, *rec.followups):
                for attachment in message.attachments if message else []:
                    if attachment.id == wanted:
                        return web.Response(body=attachment.data)
        raise web.HTTPNotFound()

    @property
    def base_url(self) -> str:
        if self._port is None:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://127.0.0.1:{self._port}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self._port}/"

    @contextlib.contextmanager
    def patch_client(self) -> Iterator[None]:
        """Point discord.py (REST, webhooks, interaction callbacks, gateway) at this fake."""
        old_base, old_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
        Route.BASE = self.base_url + API_PREFIX
        DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(self.gateway_url)
        try:
            yield
        finally:
            Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = old_base, old_gateway

    @contextlib.asynccontextmanager
    async def running_client(
        self,
        client: discord.Client,
        *,
        token: str | None = None,
        timeout: float = WAIT_GUARD,
        guild_ready_timeout: float | None = 0.05,
        allow_errors: bool = False,
    ) -> AsyncIterator[discord.Client]:
        """Run ``client.start(token)`` against the fake until READY; close it on exit.

        Fails if the client task raised, or (unless ``allow_errors``) if discord.py logged
        an error such as "Ignoring exception in command" while it ran.
        ``guild_ready_timeout`` only shortens how long discord.py waits for more
        GUILD_CREATEs after READY (the fake sends them all at once).
        """
        if guild_ready_timeout is not None:
            client._connection.guild_ready_timeout = guild_ready_timeout
        capture = _ErrorCapture()
        discord_logger = logging.getLogger("discord")
        discord_logger.addHandler(capture)
        self._client_errors = capture.records
        with self.patch_client():
            task = asyncio.create_task(client.start(token or self.token), name="fake-client")
            self._client_tasks.append(task)
            task.add_done_callback(lambda _: self._changed())
            try:
                await self._wait_ready(client, task, timeout)
                body_failed = True
                try:
                    yield client
                    body_failed = False
                finally:
                    await client.close()
                    with contextlib.suppress(asyncio.CancelledError):
                        await asyncio.wait_for(asyncio.shield(task), timeout)
                    if not body_failed:
                        if task.done() and not task.cancelled() and task.exception():
                            raise AssertionError("the client failed") from task.exception()
                        if capture.records and not allow_errors:
                            raise AssertionError(
                                "discord.py logged errors:\n"
                                + "\n".join(_format_record(r) for r in capture.records)
                            )
            finally:
                self._client_tasks.remove(task)
                if not task.done():
                    task.cancel()
                discord_logger.removeHandler(capture)

    async def _wait_ready(
        self, client: discord.Client, task: asyncio.Task[Any], timeout: float
    ) -> None:
        deadline = asyncio.get_running_loop().time() + timeout
        # ``_ready`` exists once login started (its first request changes the fake's state).
        await self.wait_until(
            lambda: task.done() or client._ready is not discord.utils.MISSING,
            timeout,
            "the client to log in",
            check_clients=False,
        )
        if task.done():
            task.result()
            raise AssertionError("the client stopped before it was ready")
        waiter = asyncio.ensure_future(client.wait_until_ready())
        remaining = max(0.0, deadline - asyncio.get_running_loop().time())
        done, _ = await asyncio.wait(
            {task, waiter}, timeout=remaining, return_when=asyncio.FIRST_COMPLETED
        )
        if waiter not in done:
            waiter.cancel()
            if task in done:
                task.result()
                raise AssertionError("the client stopped before it was ready")
            raise TimeoutError(f"the client was not ready after {timeout}s")

    # -- notifications and waiting -------------------------------------------------------

    def _changed(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    def notify(self) -> None:
        """Wake every ``wait_until`` now (e.g. from a client event handler in a test)."""
        self._changed()

    async def wait_until(
        self,
        predicate: Callable[[], T],
        timeout: float = WAIT_GUARD,
        what: str = "a condition",
        *,
        check_clients: bool = True,
        recheck: float = 0.05,
    ) -> T:
        """Wait until ``predicate()`` is truthy.

        Woken by every change of the fake's state; also re-checked every ``recheck``
        seconds, because predicates may look at the client's or the bot's own state, which
        changes without the fake knowing (discord.py runs event handlers as tasks).
        Fails fast when a new violation is recorded or a running client died or logged an
        error, with that as the reason, instead of running into the timeout.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        seen_violations = len(self.violations)
        seen_errors = len(self._client_errors)
        while True:
            result = predicate()
            if result:
                return result
            if not self._expecting and len(self.violations) > seen_violations:
                raise AssertionError(
                    "the fake recorded a violation while waiting for "
                    f"{what}:\n" + "\n".join(str(v) for v in self.violations[seen_violations:])
                )
            if check_clients:
                for task in self._client_tasks:
                    if task.done():
                        exc = None if task.cancelled() else task.exception()
                        raise AssertionError(
                            f"the client stopped while waiting for {what}"
                        ) from exc
                if len(self._client_errors) > seen_errors:
                    raise AssertionError(
                        f"discord.py logged an error while waiting for {what}:\n"
                        + "\n".join(_format_record(r) for r in self._client_errors[seen_errors:])
                    )
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"timed out after {timeout}s waiting for {what}")
            event = self._event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(remaining, recheck))

    # -- violations ----------------------------------------------------------------------

    @contextlib.contextmanager
    def expect_violation(self, match: str | None = None) -> Iterator[list[Violation]]:
        """The block must cause at least one violation (containing ``match``); they are
        moved to ``expected_violations`` so that the teardown check passes."""
        start = len(self.violations)
        self._expecting += 1
        caught: list[Violation] = []
        try:
            yield caught
        finally:
            self._expecting -= 1
        new = self.violations[start:]
        del self.violations[start:]
        caught.extend(new)
        self.expected_violations.extend(new)
        if not new:
            raise AssertionError("expected the fake to record a violation, but none was")
        if match is not None and not any(match in str(v) for v in new):
            raise AssertionError(
                f"no violation matched {match!r}:\n" + "\n".join(str(v) for v in new)
            )

    def assert_no_violations(self) -> None:
        if self.violations:
            raise AssertionError(
                f"{len(self.violations)} request(s) that Discord would refuse:\n"
                + "\n".join(f"  - {v}" for v in self.violations)
            )

    # -- internal state changes used by the REST handlers --------------------------------

    async def _dispatch(
        self,
        event: str,
        data: Any,
        *,
        intent: int | None = None,
        shape: Callable[[gw.Session], Any] | None = None,
    ) -> None:
        await self.gateway.dispatch(event, data, intent=intent, shape=shape)
        self._changed()

    def _message_payload(self, message: Message, *, gateway: bool = False) -> dict[str, Any]:
        return message.to_payload(gateway=gateway, users=self.users)

    def _store_message(self, message: Message) -> None:
        if message.ephemeral:
            return  # only the member sees it; not part of the channel's history
        channel = message.channel
        channel.messages.append(message)
        channel.last_message_id = message.id
        if channel.is_thread:
            channel.message_count += 1
        self._changed()

    async def _dispatch_message(self, event: str, message: Message) -> None:
        guild_message = message.guild is not None
        intent = gw.GUILD_MESSAGES if guild_message else gw.DIRECT_MESSAGES
        full = self._message_payload(message, gateway=True)

        def shape(session: gw.Session) -> dict[str, Any]:
            # Without MESSAGE_CONTENT a bot sees content only of DMs, its own messages and
            # messages that mention it (Discord's rule).
            if (
                session.intents & gw.MESSAGE_CONTENT
                or not guild_message
                or message.author.id == self.bot_user.id
                or self.bot_user.id in message.mentioned_user_ids()
            ):
                return full
            return full | {"content": "", "embeds": [], "attachments": [], "components": []}

        await self._dispatch(event, full, intent=intent, shape=shape)

    async def _delete_message(self, message: Message) -> None:
        message.deleted = True
        if message.ephemeral:
            self._changed()
            return
        data = {"id": str(message.id), "channel_id": str(message.channel.id)}
        if message.guild is not None:
            data["guild_id"] = str(message.guild.id)
        intent = gw.GUILD_MESSAGES if message.guild is not None else gw.DIRECT_MESSAGES
        await self._dispatch("MESSAGE_DELETE", data, intent=intent)

    def _new_interaction_message(self, rec: InteractionRecord) -> Message:
        message = Message(
            self.ids.next(),
            rec.channel,
            self.bot_user,
            webhook_id=self.application_id,
            application_id=self.application_id,
            type=20 if rec.type == 2 else 0,
        )
        root = rec.parent or rec
        message.interaction_metadata = {
            "id": str(rec.id),
            "type": rec.type,
            "user": rec.user.to_payload(),
            "authorizing_integration_owners": (
                {"0": str(rec.guild.id)} if rec.guild else {"1": str(rec.user.id)}
            ),
        }
        if rec.type == 3 and rec.component_message is not None:
            message.interaction_metadata["interacted_message_id"] = str(rec.component_message.id)
        if rec.type == 5 and root is not rec:
            message.interaction_metadata["triggering_interaction_metadata"] = {
                "id": str(root.id),
                "type": root.type,
                "user": root.user.to_payload(),
                "authorizing_integration_owners": message.interaction_metadata[
                    "authorizing_integration_owners"
                ],
            }
        return message

    def _new_modal(self, rec: InteractionRecord, data: dict[str, Any]) -> Modal:
        return Modal(data["custom_id"], data["title"], data["components"], rec)

    # -- acting as members ---------------------------------------------------------------

    def _interaction_base(
        self, kind: int, member: Member | User, channel: Channel, data: dict[str, Any]
    ) -> InteractionRecord:
        if isinstance(member, Member):
            guild: Guild | None = member.guild
            user = member.user
            the_member: Member | None = member
        else:
            guild, user, the_member = None, member, None
        rec = InteractionRecord(
            self.ids.next(), new_token(), kind, guild, channel, user, the_member, data
        )
        bot = guild.members[self.bot_user.id] if guild else None
        channel_payload = channel.to_payload() | {
            "permissions": str(the_member.permissions if the_member else 0)
        }
        payload: dict[str, Any] = {
            "id": str(rec.id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "channel": channel_payload,
            "channel_id": str(channel.id),
            "token": rec.token,
            "version": 1,
            "locale": user.locale,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "attachment_size_limit": 10 * 1024 * 1024,
            "app_permissions": str(bot.permissions if bot else 0),
        }
        if guild is not None and the_member is not None:
            payload.update(
                {
                    "guild_id": str(guild.id),
                    "guild": {
                        "id": str(guild.id),
                        "locale": guild.preferred_locale,
                        "features": guild.features,
                    },
                    "guild_locale": guild.preferred_locale,
                    "member": the_member.to_payload(permissions=True),
                    "authorizing_integration_owners": {"0": str(guild.id)},
                    "context": 0,
                }
            )
        else:
            payload.update(
                {
                    "user": user.to_payload(),
                    "context": 1,
                    "authorizing_integration_owners": {"1": str(user.id)},
                }
            )
        rec.payload = payload
        return rec

    async def _send_interaction(
        self, rec: InteractionRecord, timeout: float, expect_answer: bool, what: str
    ) -> Reply:
        if not self.gateway.sessions:
            raise RuntimeError("no bot is connected to the fake gateway")
        self.interactions[rec.id] = rec
        self.interactions_by_token[rec.token] = rec
        await self._dispatch("INTERACTION_CREATE", rec.payload)

        def done() -> bool:
            if rec.expired:
                raise AssertionError(
                    f"the bot answered {what} too late (after "
                    f"{self.interaction_response_timeout}s: 'interaction failed')"
                )
            return rec.answered() if expect_answer else rec.response_type is not None

        try:
            await self.wait_until(done, timeout, f"the bot's answer to {what}")
        except TimeoutError:
            state = (
                "no response at all"
                if rec.response_type is None
                else f"response type {rec.response_type} but no visible answer yet"
            )
            raise TimeoutError(
                f"the bot did not answer {what} within {timeout}s ({state})"
            ) from None
        return Reply(self, rec)

    def _find_command(self, member: Member | User, name: str) -> Command:
        guild_id = member.guild.id if isinstance(member, Member) else None
        candidates = (
            [*self.commands.get(guild_id, []), *self.commands.get(None, [])]
            if guild_id is not None
            else list(self.commands.get(None, []))
        )
        for cmd in candidates:
            if cmd.type == 1 and _names(cmd.data, name):
                return cmd
        known = sorted({c.name for c in candidates})
        raise LookupError(f"no synced slash command {name!r}; synced: {known}")

    async def slash(
        self,
        member: Member | User,
        command: str,
        *,
        channel: Channel | None = None,
        timeout: float = WAIT_GUARD,
        expect_answer: bool = True,
        **options: Any,
    ) -> Reply:
        """``/command [group] [subcommand] option=value ...`` as ``member`` types it.

        Built from the commands the bot synced; names may be default or localized. Waits
        for the visible answer (a message, a modal, or the edit after a "thinking" defer).
        """
        parts = command.split()
        cmd = self._find_command(member, parts[0])
        guild = member.guild if isinstance(member, Member) else None
        if guild is not None and isinstance(member, Member):
            _check_command_permission(cmd, member)
        channel = channel or self._default_channel(member)
        node: dict[str, Any] = cmd.data
        path: list[dict[str, Any]] = []
        for part in parts[1:]:
            child = next(
                (
                    o
                    for o in node.get("options") or []
                    if o.get("type") in (1, 2) and _names(o, part)
                ),
                None,
            )
            if child is None:
                raise LookupError(f"/{cmd.name} has no subcommand (group) {part!r}")
            path.append(child)
            node = child
        if any(o.get("type") in (1, 2) for o in node.get("options") or []):
            subs = [o["name"] for o in node.get("options") or []]
            raise LookupError(f"/{command} needs a subcommand: one of {subs}")
        resolved: dict[str, dict[str, Any]] = {}
        values = self._option_values(node.get("options") or [], options, resolved, guild)
        leaf: list[dict[str, Any]] = values
        for step in reversed(path):
            leaf = [{"type": step["type"], "name": step["name"], "options": leaf}]
        data: dict[str, Any] = {"id": str(cmd.id), "name": cmd.name, "type": 1}
        if leaf:
            data["options"] = leaf
        if cmd.guild_id is not None:
            data["guild_id"] = str(cmd.guild_id)
        if resolved:
            data["resolved"] = resolved
        rec = self._interaction_base(2, member, channel, data)
        return await self._send_interaction(rec, timeout, expect_answer, f"/{command}")

    def _default_channel(self, member: Member | User) -> Channel:
        if isinstance(member, Member):
            for channel in member.guild.channels.values():
                if channel.type == GUILD_TEXT:
                    return channel
            raise LookupError(f"guild {member.guild.name!r} has no text channel")
        return self.dm_channel(member)

    def _option_values(
        self,
        definitions: list[dict[str, Any]],
        given: dict[str, Any],
        resolved: dict[str, dict[str, Any]],
        guild: Guild | None,
    ) -> list[dict[str, Any]]:
        remaining = dict(given)
        values: list[dict[str, Any]] = []
        for opt in definitions:
            key = next((k for k in remaining if _names(opt, k)), None)
            if key is None:
                if opt.get("required"):
                    raise ValueError(f"option {opt['name']!r} is required")
                continue
            value = remaining.pop(key)
            values.append(
                {
                    "type": opt["type"],
                    "name": opt["name"],
                    "value": self._option_value(opt, value, resolved, guild),
                }
            )
        if remaining:
            names = [o["name"] for o in definitions]
            raise ValueError(f"unknown option(s) {sorted(remaining)}; the command has {names}")
        return values

    def _option_value(
        self,
        opt: dict[str, Any],
        value: Any,
        resolved: dict[str, dict[str, Any]],
        guild: Guild | None,
    ) -> Any:
        kind = opt["type"]
        choices = opt.get("choices") or []
        if choices:
            for choice in choices:
                if value == choice["value"] or (isinstance(value, str) and _names(choice, value)):
                    return choice["value"]
            raise ValueError(
                f"{value!r} is not a choice of {opt['name']!r}: {[c['name'] for c in choices]}"
            )
        if kind == 3:
            text = str(value)
            low, high = opt.get("min_length", 0), opt.get("max_length", 6000)
            if not low <= len(text) <= high:
                raise ValueError(f"{opt['name']!r} must be {low}–{high} characters")
            return text
        if kind in (4, 10):
            number = int(value) if kind == 4 else float(value)
            if ("min_value" in opt and number < opt["min_value"]) or (
                "max_value" in opt and number > opt["max_value"]
            ):
                raise ValueError(f"{opt['name']!r} is out of range")
            return number
        if kind == 5:
            return bool(value)
        if kind in (6, 9) and isinstance(value, Member | User):
            user = value.user if isinstance(value, Member) else value
            resolved.setdefault("users", {})[str(user.id)] = user.to_payload()
            member = (
                value
                if isinstance(value, Member)
                else (guild.members.get(user.id) if guild else None)
            )
            if member is not None:
                resolved.setdefault("members", {})[str(user.id)] = member.to_payload(
                    with_user=False, permissions=True
                )
            return str(user.id)
        if kind in (8, 9) and isinstance(value, Role):
            resolved.setdefault("roles", {})[str(value.id)] = value.to_payload()
            return str(value.id)
        if kind == 7 and isinstance(value, Channel):
            resolved.setdefault("channels", {})[str(value.id)] = {
                k: v
                for k, v in value.to_payload().items()
                if k in ("id", "name", "type", "parent_id", "thread_metadata")
            } | {"permissions": str(ALL_PERMS_CHANNEL)}
            return str(value.id)
        raise ValueError(f"cannot give {value!r} for option {opt['name']!r} (type {kind})")

    def _clicker(self, target: Reply | Message, by: Member | User | None) -> Member | User:
        if by is not None:
            return by
        if isinstance(target, Reply):
            rec = target.interaction
            return rec.member or rec.user
        raise ValueError("say who clicks: by=<member>")

    @staticmethod
    def _message_of(target: Reply | Message) -> Message:
        message = target.message if isinstance(target, Reply) else target
        if message is None:
            raise LookupError(f"{target!r} has no message with components")
        return message

    async def click(
        self,
        target: Reply | Message,
        label: str,
        *,
        by: Member | User | None = None,
        timeout: float = WAIT_GUARD,
        expect_answer: bool = True,
    ) -> Reply:
        """Click the button with this label (or custom_id) on a message or reply."""
        message = self._message_of(target)
        buttons = [c for c in _walk(message.components) if c.get("type") == 2]
        button = next((b for b in buttons if b.get("label") == label), None) or next(
            (b for b in buttons if b.get("custom_id") == label), None
        )
        if button is None:
            raise LookupError(
                f"no button {label!r}; buttons: "
                f"{[b.get('label') or b.get('custom_id') for b in buttons]}"
            )
        if button.get("disabled"):
            raise InteractionRefused(f"button {label!r} is disabled")
        if "custom_id" not in button:
            raise InteractionRefused(f"button {label!r} is a link or premium button")
        who = self._clicker(target, by)
        data = {"custom_id": button["custom_id"], "component_type": 2}
        return await self._component(
            message, who, data, timeout, expect_answer, f"a click on {label!r}"
        )

    async def select(
        self,
        target: Reply | Message,
        placeholder_or_custom_id: str,
        values: Sequence[Any],
        *,
        by: Member | User | None = None,
        timeout: float = WAIT_GUARD,
        expect_answer: bool = True,
    ) -> Reply:
        """Pick ``values`` in a select menu (string selects: option values or labels)."""
        message = self._message_of(target)
        selects = [c for c in _walk(message.components) if c.get("type") in (3, 5, 6, 7, 8)]
        menu = next(
            (s for s in selects if s.get("placeholder") == placeholder_or_custom_id), None
        ) or next((s for s in selects if s.get("custom_id") == placeholder_or_custom_id), None)
        if menu is None:
            raise LookupError(f"no select {placeholder_or_custom_id!r}")
        if menu.get("disabled"):
            raise InteractionRefused("the select menu is disabled")
        low, high = menu.get("min_values", 1), menu.get("max_values", 1)
        if not low <= len(values) <= high:
            raise InteractionRefused(f"pick between {low} and {high} values")
        who = self._clicker(target, by)
        guild = who.guild if isinstance(who, Member) else None
        resolved: dict[str, dict[str, Any]] = {}
        if menu["type"] == 3:
            picked = []
            for value in values:
                option = next(
                    (
                        o
                        for o in menu.get("options") or []
                        if value in (o.get("value"), o.get("label"))
                    ),
                    None,
                )
                if option is None:
                    raise InteractionRefused(f"{value!r} is not an option of the menu")
                picked.append(option["value"])
        else:
            kind = {5: 6, 6: 8, 7: 7, 8: 9}[menu["type"]]
            picked = [
                self._option_value({"type": kind, "name": "select"}, v, resolved, guild)
                for v in values
            ]
        data: dict[str, Any] = {
            "custom_id": menu["custom_id"],
            "component_type": menu["type"],
            "values": picked,
        }
        if resolved:
            data["resolved"] = resolved
        return await self._component(
            message, who, data, timeout, expect_answer, f"a choice in {placeholder_or_custom_id!r}"
        )

    async def _component(
        self,
        message: Message,
        who: Member | User,
        data: dict[str, Any],
        timeout: float,
        expect_answer: bool,
        what: str,
    ) -> Reply:
        rec = self._interaction_base(3, who, message.channel, data)
        rec.component_message = message
        rec.payload["message"] = self._message_payload(message)
        return await self._send_interaction(rec, timeout, expect_answer, what)

    async def submit_modal(
        self,
        target: Reply | Modal,
        values: dict[str, str],
        *,
        timeout: float = WAIT_GUARD,
        expect_answer: bool = True,
    ) -> Reply:
        """Fill in and submit the modal the bot opened; keys are custom_ids or labels."""
        modal = target.modal if isinstance(target, Reply) else target
        if modal is None:
            raise LookupError("the bot did not answer with a modal")
        if modal.submitted:
            raise InteractionRefused("this modal was already submitted (it closed)")
        remaining = dict(values)
        inputs = modal.inputs()

        def take(component: dict[str, Any], label: str | None) -> Any:
            for key in (component.get("custom_id"), label):
                if key is not None and key in remaining:
                    return remaining.pop(key)
            return None

        def answer(component: dict[str, Any], label: str | None) -> dict[str, Any]:
            value = take(component, label)
            out: dict[str, Any] = {"type": component["type"], "custom_id": component["custom_id"]}
            if "id" in component:
                out["id"] = component["id"]
            if component["type"] == 4:
                text = "" if value is None else str(value)
                if component.get("required", True) and not text:
                    raise InteractionRefused(f"{label or component['custom_id']!r} is required")
                low = component.get("min_length", 0)
                high = component.get("max_length", 4000)
                if text and not low <= len(text) <= high:
                    raise InteractionRefused(f"{label!r} must be {low}–{high} characters")
                out["value"] = text
            else:
                out["values"] = list(value or [])
            return out

        components: list[dict[str, Any]] = []
        for top in modal.components:
            if top.get("type") == 1:
                components.append(
                    {
                        "type": 1,
                        "components": [
                            answer(c, c.get("label")) for c in top.get("components") or []
                        ],
                    }
                )
            elif top.get("type") == 18:
                components.append(
                    {
                        "type": 18,
                        "id": top.get("id"),
                        "component": answer(top["component"], top.get("label")),
                    }
                )
        if remaining:
            raise LookupError(
                f"the modal has no input(s) {sorted(remaining)}; inputs: "
                f"{[i.get('label') or i.get('custom_id') for i in inputs]}"
            )
        parent = modal.interaction
        who = parent.member or parent.user
        rec = self._interaction_base(
            5, who, parent.channel, {"custom_id": modal.custom_id, "components": components}
        )
        rec.parent = parent
        if parent.component_message is not None:
            rec.component_message = parent.component_message
            rec.payload["message"] = self._message_payload(parent.component_message)
        modal.submitted = True
        return await self._send_interaction(
            rec, timeout, expect_answer, f"the modal {modal.title!r}"
        )

    async def send_message(self, member: Member, channel: Channel, content: str) -> Message:
        """``member`` posts ``content`` in ``channel`` (MESSAGE_CREATE to the bot)."""
        message = Message(self.ids.next(), channel, member.user, content)
        self._store_message(message)
        await self._dispatch_message("MESSAGE_CREATE", message)
        return message

    async def send_dm(self, member: Member | User, content: str) -> Message:
        """``member`` writes the bot a direct message."""
        user = member.user if isinstance(member, Member) else member
        channel = self.dm_channel(user)
        message = Message(self.ids.next(), channel, user, content)
        self._store_message(message)
        await self._dispatch_message("MESSAGE_CREATE", message)
        return message

    async def member_join(self, guild: Guild, name: str, **kwargs: Any) -> Member:
        """A new member joins (GUILD_MEMBER_ADD, needs the members intent)."""
        member = self.add_member(guild, name, **kwargs)
        await self._dispatch(
            "GUILD_MEMBER_ADD",
            {"guild_id": str(guild.id), **member.to_payload()},
            intent=gw.GUILD_MEMBERS,
        )
        return member

    async def role_create(self, guild: Guild, name: str, **kwargs: Any) -> Role:
        """A new role made in the server settings (GUILD_ROLE_CREATE, guilds intent)."""
        role = self.add_role(guild, name, **kwargs)
        await self._dispatch(
            "GUILD_ROLE_CREATE",
            {"guild_id": str(guild.id), "role": role.to_payload()},
            intent=gw.GUILDS,
        )
        return role

    async def member_leave(self, member: Member) -> None:
        """A member leaves (GUILD_MEMBER_REMOVE)."""
        member.guild.members.pop(member.id, None)
        await self._dispatch(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": str(member.guild.id), "user": member.user.to_payload()},
            intent=gw.GUILD_MEMBERS,
        )

    async def drop_connection(self, code: int | None = None) -> None:
        """Break the gateway connection(s) abnormally; the client should RESUME."""
        if not await self.gateway.drop(code):
            raise RuntimeError("no gateway connection to drop")
        self._changed()

    async def wait_for_resume(self, count: int = 1, timeout: float = WAIT_GUARD) -> None:
        await self.wait_until(lambda: self.gateway.resume_count >= count, timeout, "a RESUME")

    # -- what members see ----------------------------------------------------------------

    def messages(self, channel: Channel) -> list[Message]:
        """The channel's visible history, oldest first (no ephemeral or deleted messages)."""
        return [m for m in channel.messages if not m.deleted]

    def dms(self, member: Member | User) -> list[Message]:
        """Messages the bot sent to ``member`` in DMs, oldest first."""
        user = member.user if isinstance(member, Member) else member
        channel = self._dm_channels.get(user.id)
        if channel is None:
            return []
        return [m for m in channel.messages if not m.deleted and m.author.id == self.bot_user.id]

    def threads(self, channel: Channel) -> list[Channel]:
        return [c for c in self.channels.values() if c.is_thread and c.parent_id == channel.id]

    def scheduled_events(self, guild: Guild) -> list[ScheduledEvent]:
        return [e for e in guild.scheduled_events.values() if not e.deleted]

    def wait_for_message(
        self,
        channel: Channel,
        predicate: Callable[[Message], bool] | None = None,
        *,
        timeout: float = WAIT_GUARD,
        existing: bool = False,
        from_bot: bool = True,
    ) -> Awaitable[Message]:
        """The first message in ``channel`` posted after this *call* (unless ``existing``).

        Not a coroutine function on purpose: what exists is noted when it is called, so
        ``waiter = fake.wait_for_message(chan)``, then act, then ``await waiter``.
        """
        skip = set() if existing else {m.id for m in channel.messages}

        def found() -> Message | None:
            for message in channel.messages:
                if message.id in skip or message.deleted:
                    continue
                if from_bot and message.author.id != self.bot_user.id:
                    continue
                if predicate is None or predicate(message):
                    return message
            return None

        where = f"#{channel.name}" if channel.name else "a DM"
        return self.wait_until(found, timeout, f"a message in {where}")

    def wait_for_dm(
        self,
        member: Member | User,
        predicate: Callable[[Message], bool] | None = None,
        *,
        timeout: float = WAIT_GUARD,
        existing: bool = False,
    ) -> Awaitable[Message]:
        """The first DM the bot sends ``member`` after this call (unless ``existing``)."""
        return self.wait_for_message(
            self.dm_channel(member), predicate, timeout=timeout, existing=existing
        )


ALL_PERMS_CHANNEL = discord.Permissions.all().value


def _names(definition: dict[str, Any], name: str) -> bool:
    """Whether ``name`` is the default or any localized name of a command/option/choice."""
    if definition.get("name") == name:
        return True
    return name in (definition.get("name_localizations") or {}).values()


def _check_command_permission(cmd: Command, member: Member) -> None:
    """Discord's client hides commands a member may not use; refuse them the same way."""
    contexts = cmd.data.get("contexts")
    if contexts is not None and 0 not in contexts:
        raise InteractionRefused(f"/{cmd.name} cannot be used in a server")
    required = cmd.data.get("default_member_permissions")
    if required is None:
        return
    needed = int(required)
    perms = member.permissions
    if perms & ADMINISTRATOR:
        return
    if needed == 0 or perms & needed != needed:
        raise InteractionRefused(f"{member.name} lacks the permissions for /{cmd.name}")


def _format_record(record: logging.LogRecord) -> str:
    text = record.getMessage()
    if record.exc_info:
        text += "\n" + logging.Formatter().formatException(record.exc_info)
    return text


Setup = Callable[[FakeDiscord], Awaitable[None] | None]


@contextlib.asynccontextmanager
async def run_fake_discord(
    setup: Setup | None = None, *, check_violations: bool = True, **options: Any
) -> AsyncIterator[FakeDiscord]:
    """Start a :class:`FakeDiscord` (after ``setup(fake)`` declared its world), point
    discord.py at it, and on exit stop it and fail if Discord would have refused a request.
    """
    fake = FakeDiscord(**options)
    if setup is not None:
        result = setup(fake)
        if inspect.isawaitable(result):
            await result
    await fake.start()
    failed = True
    try:
        with fake.patch_client():
            yield fake
        failed = False
    finally:
        await fake.stop()
    if check_violations and not failed:
        fake.assert_no_violations()
