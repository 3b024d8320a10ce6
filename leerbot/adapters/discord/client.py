"""The Discord client: syncs the declared commands, answers every interaction through the
dispatcher, and gives scheduled work a way to reach Discord.

Interactions are handled in `on_interaction` (not with discord.py's `CommandTree`): a slash
command, a button (custom_id "lb:...") and a modal submission each become one dispatcher
call, whose `Reply` is rendered by `render.py`.

Answering within Discord's 3 seconds, also on a busy machine: every interaction is
acknowledged first — a private "thinking…" for commands and form submissions, a silent
acknowledgement for buttons — before any work starts, and the reply follows when the work is
done (for a command it replaces the "thinking…"; for a button it is a private follow-up).
A busy database or a crowd pressing the same button should not make the acknowledgement
late, so with a crowd (`benchmarks/bench_presses.py`: 200 presses of "Ik kom" at once):

- while any acknowledgement is on its way, no work starts (at most `ACK_FIRST_SECONDS`):
  each unit of work holds the event loop for milliseconds at a time;
- the work runs at most `INTERACTION_WORK_SLOTS` at a time (`leerbot.db.engine`, which
  sizes the connection pool from it); the rest wait, already acknowledged;
- at most `HTTP_CONNECTIONS` connections to Discord (discord.py opens one per concurrent
  request, without limit);
- an interaction Discord has already forgotten (10062: it expired before we got to it) is
  not answered a second time with an apology, and its work is not done.

The exception is what may answer with a form (`opens_form` in the declaration): Discord opens
a form only as the very first answer, so there we wait for the dispatcher, at most until
`reply_timeout` after Discord created the interaction (its id says when), and answer
directly. Those handlers only read a little. When that budget runs out we defer after all;
a form that comes that late cannot open, and the member is asked to try again. A reply
meant for the channel that arrives after a private defer stays private: never the other way
round (today every reply is private).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import aiohttp
import discord

from leerbot.adapters.discord.commands import application_commands, modal_values, parse_invocation
from leerbot.adapters.discord.platform import DiscordPlatform
from leerbot.adapters.discord.render import (
    NO_PINGS,
    message_for,
    modal_for,
    unplace_custom_id,
)
from leerbot.chat.context import Place
from leerbot.chat.dispatch import Dispatcher
from leerbot.chat.reply import Reply, parse_custom_id
from leerbot.config import Settings
from leerbot.core.actor import Identity
from leerbot.db.engine import INTERACTION_WORK_SLOTS
from leerbot.i18n import normalize_locale, translate
from leerbot.logging_ids import who

log = logging.getLogger("leerbot.discord")


def leerbot_intents() -> discord.Intents:
    """What the bot listens to on the gateway. Nothing privileged:

    - guilds: servers, channels, roles and threads (roles decide who is a coordinator);
    - guild_scheduled_events: keeps the cache of the events we mirror sessions to.

    Not `members`: every interaction carries the member (roles, permissions, name, language)
    and member options carry their own data; DMs and thread invitations work by id. Not
    `message_content` or `dm_messages`: we only use interactions, never read messages.
    """
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_scheduled_events = True
    return intents


def bot_permissions() -> discord.Permissions:
    """What the bot needs in a server (the invite link asks for exactly these)."""
    return discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,
        embed_links=True,
        attach_files=True,
        create_public_threads=True,
        create_private_threads=True,
        create_events=True,
        connect=True,  # Discord asks it to put an event in a voice channel
    )


def invite_url(application_id: int) -> str:
    return discord.utils.oauth_url(
        application_id,
        permissions=bot_permissions(),
        scopes=("bot", "applications.commands"),
    )


ReadyHook = Callable[[], Awaitable[Any]]
ACK_FIRST_SECONDS = 2.0
HTTP_CONNECTIONS = 100
"""Connections to Discord's API at most (discord.py's default has no limit). A crowd of 200
presses otherwise opens 200 connections at once for the acknowledgements alone: TLS
handshakes on a busy machine, and refused connects that the system retries after 1 s and
3 s (the local fake Discord's listen backlog is 128), so that acknowledgements came seconds
late. Kept-alive connections are reused; a request waits its turn for one."""


class LeerbotClient(discord.Client):
    """discord.py client for leerbot; `client_kwargs` go to `discord.Client` (tests pass
    e.g. `chunk_guilds_at_startup=False`, `guild_ready_timeout`)."""

    reply_timeout: float = 1.5
    """For what may open a form: seconds after Discord created the interaction until which we
    wait for the dispatcher before deferring (Discord allows 3 for the first answer; the rest
    is for the request itself on a busy machine)."""

    def __init__(self, dispatcher: Dispatcher, settings: Settings, **client_kwargs: Any) -> None:
        client_kwargs.setdefault("intents", leerbot_intents())
        client_kwargs.setdefault("allowed_mentions", NO_PINGS)
        super().__init__(**client_kwargs)
        self.dispatcher = dispatcher
        self.settings = settings
        self.platform = DiscordPlatform(self)
        self.ready_hooks: list[ReadyHook] = []
        """Run once, at the first READY (run_discord starts the scheduler here)."""
        self.close_hooks: list[ReadyHook] = []
        """Run when the client closes, before the connection goes (run_discord stops the
        scheduler here, so work in flight can still reach Discord)."""
        self.synced_commands: list[dict[str, Any]] = []
        self._was_ready = False
        self._work_slots = asyncio.Semaphore(INTERACTION_WORK_SLOTS)
        """Acknowledged interactions whose work runs now (the rest wait their turn, already
        acknowledged): bounds the database connections and the event loop's share."""
        self._acknowledging = 0
        self._acknowledged = asyncio.Event()
        self._acknowledged.set()

    # --- start-up ------------------------------------------------------------------------

    async def login(self, token: str) -> None:
        if self.http.connector is discord.utils.MISSING:  # made here: it needs the loop
            self.http.connector = aiohttp.TCPConnector(limit=HTTP_CONNECTIONS)
        await super().login(token)

    async def setup_hook(self) -> None:
        await self.sync_commands()

    async def sync_commands(self) -> list[dict[str, Any]]:
        """Put the declared commands in Discord: to the test server at once, or globally."""
        payload = application_commands(self.dispatcher.registry)
        application_id = self.application_id
        if application_id is None:  # pragma: no cover - login sets it
            raise RuntimeError("sync_commands needs a logged-in client")
        guild_id = self.settings.discord.test_guild_id
        if guild_id is not None:
            await self.http.bulk_upsert_guild_commands(application_id, guild_id, payload)
            log.info("synced %d commands to test server %s", len(payload), guild_id)
        else:
            await self.http.bulk_upsert_global_commands(application_id, payload)
            log.info("synced %d commands globally", len(payload))
        self.synced_commands = payload
        return payload

    async def on_ready(self) -> None:
        log.info("connected to Discord as %s in %d server(s)", self.user, len(self.guilds))
        if self._was_ready:
            return
        self._was_ready = True
        if self.application_id is not None:
            log.info("invite link: %s", invite_url(self.application_id))
        for hook in self.ready_hooks:
            try:
                await hook()
            except Exception:
                log.exception("a start-up task failed; the bot answers, but check the log")

    async def close(self) -> None:
        hooks, self.close_hooks = self.close_hooks, []
        for hook in hooks:
            try:
                await hook()
            except Exception:
                log.exception("a shut-down task failed")
        await super().close()

    # --- interactions --------------------------------------------------------------------

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        locale = _hint(interaction)
        try:
            await self._handle(interaction)
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("incident %s while answering interaction %s", incident, interaction.id)
            await self._send_failure(interaction, incident, locale)

    async def _handle(self, interaction: discord.Interaction) -> None:
        kind = interaction.type
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        dm_guild, custom_id = unplace_custom_id(custom_id)
        if kind is discord.InteractionType.application_command:
            work = self._command(interaction, data)
        elif kind is discord.InteractionType.component:
            work = self._press(interaction, dm_guild, custom_id)
        elif kind is discord.InteractionType.modal_submit:
            work = self._submit(interaction, dm_guild, custom_id, data)
        else:
            return  # autocomplete and the like: we declare none
        if work is None:
            log.info("interaction %s outside a server from %s", kind.name, who(interaction.user.id))
            await self._send(interaction, self._only_in_server(interaction), None)
            return
        await self._answer(interaction, work, dm_guild, self._may_open_form(kind, data, custom_id))

    def _may_open_form(
        self, kind: discord.InteractionType, data: dict[str, Any], custom_id: str
    ) -> bool:
        """Whether the declared command or button may answer with a form (a form submission
        never does: Discord cannot answer a form with another)."""
        registry = self.dispatcher.registry
        if kind is discord.InteractionType.application_command:
            invocation = parse_invocation(registry, data)
            return invocation is not None and invocation.command.opens_form
        if kind is discord.InteractionType.component:
            parsed = parse_custom_id(custom_id)
            spec = registry.actions.get(parsed[0]) if parsed else None
            return spec is not None and spec.opens_form
        return False

    def _place(self, interaction: discord.Interaction, dm_guild: str | None) -> Place | None:
        if interaction.guild_id is not None:
            guild = interaction.guild
            name = guild.name if guild is not None and getattr(guild, "name", None) else ""
            return Place(
                platform_id=str(interaction.guild_id), name=name or str(interaction.guild_id)
            )
        if dm_guild is not None:
            guild = self.get_guild(int(dm_guild))
            if guild is not None:  # a button in a DM the bot sent for this server
                return Place(platform_id=dm_guild, name=guild.name)
        return None

    def _command(
        self, interaction: discord.Interaction, data: dict[str, Any]
    ) -> Awaitable[Reply] | None:
        place = self._place(interaction, None)
        if place is None:
            return None
        identity = identity_of(interaction)
        invocation = parse_invocation(self.dispatcher.registry, data)
        if invocation is None:  # a command Discord still shows but we no longer declare
            words = [str(data.get("name", ""))] + [
                str(o.get("name", "")) for o in data.get("options") or [] if o.get("type") == 1
            ]
            log.info("unknown command /%s from %s", " ".join(words), who(identity.platform_id))
            return self.dispatcher.run_text(place, identity, words, {})
        return self.dispatcher.run(place, identity, invocation.command, invocation.args)

    def _press(
        self, interaction: discord.Interaction, dm_guild: str | None, custom_id: str
    ) -> Awaitable[Reply] | None:
        place = self._place(interaction, dm_guild)
        if place is None:
            return None
        return self._in_place(interaction, place, self.dispatcher.press, custom_id)

    def _submit(
        self,
        interaction: discord.Interaction,
        dm_guild: str | None,
        custom_id: str,
        data: dict[str, Any],
    ) -> Awaitable[Reply] | None:
        place = self._place(interaction, dm_guild)
        if place is None:
            return None
        values = modal_values(list(data.get("components") or []))
        return self._in_place(interaction, place, self.dispatcher.submit, custom_id, values)

    async def _in_place(
        self, interaction: discord.Interaction, place: Place, call: Any, *args: Any
    ) -> Reply:
        return await call(place, await self._identity(interaction, place), *args)

    async def _identity(self, interaction: discord.Interaction, place: Place) -> Identity:
        """Who pressed: in a server the interaction says it all; in a DM (a button on a
        message the bot sent) it carries no roles, so ask the server for them, or a
        moderator by role could not act on a draft sent to them privately."""
        identity = identity_of(interaction)
        if interaction.guild_id is not None:
            return identity
        guild = self.get_guild(int(place.platform_id))
        if guild is None:
            return identity
        try:
            member = guild.get_member(interaction.user.id) or await guild.fetch_member(
                interaction.user.id
            )
        except discord.HTTPException:
            return identity  # no longer in the server: stored functions only
        rights = member.guild_permissions
        return replace(
            identity,
            platform_role_ids=frozenset(str(r.id) for r in member.roles if not r.is_default()),
            is_platform_admin=rights.administrator or rights.manage_guild,
        )

    def _only_in_server(self, interaction: discord.Interaction) -> Reply:
        reply = Reply.error("discord.only_in_server")
        reply.locale = _hint(interaction)
        return reply

    async def _answer(
        self,
        interaction: discord.Interaction,
        work: Awaitable[Reply],
        dm_guild: str | None,
        may_open_form: bool = False,
    ) -> None:
        deferred: str | None = None
        if not may_open_form:
            # Acknowledged before the work starts: nothing it waits for can make this late.
            # Should Discord refuse (the interaction expired on the way), nothing is done.
            deferred = await self._acknowledge(interaction, work)
            if deferred is None:
                return
            async with self._work_slots:  # then its turn: the work and its reply
                await self._acknowledgements_first()
                reply = await work
                await self._reply(interaction, reply, deferred, dm_guild)
            return
        task = asyncio.ensure_future(work)
        try:
            reply = await asyncio.wait_for(asyncio.shield(task), self._budget(interaction))
        except TimeoutError:
            deferred = await self._defer(interaction)
            reply = await task
        await self._reply(interaction, reply, deferred, dm_guild)

    async def _reply(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        deferred: str | None,
        dm_guild: str | None,
    ) -> None:
        if reply.is_error:
            key = getattr(reply.text, "key", "?")
            log.info(
                "refused interaction %s of %s: %s", interaction.id, who(interaction.user.id), key
            )
        try:
            await self._send(interaction, reply, deferred, dm_guild)
        finally:  # deleted is deleted, also when Discord refused the answer
            forget = reply.meta.get("forget_member")
            if forget:
                self.forget_member(str(forget))

    def forget_member(self, platform_id: str) -> None:
        """A member deleted their data: drop what discord.py keeps of them in memory — the
        DM channel (with the user it holds) and the bot's messages in it. Never logged."""
        try:
            user_id = int(platform_id)
        except ValueError:
            return
        state = self._connection
        channel = state._get_private_channel_by_user(user_id)
        if channel is not None:
            state._remove_private_channel(channel)
            if state._messages is not None:
                kept = [m for m in state._messages if m.channel.id != channel.id]
                state._messages.clear()
                state._messages.extend(kept)
        state._users.pop(user_id, None)

    def _budget(self, interaction: discord.Interaction) -> float:
        """Seconds left to answer directly: `reply_timeout` from when Discord created the
        interaction (the time in its id; Discord's 3 seconds run on Discord's clock, so this
        is the computer's clock, not the app's). A delay before the bot even saw it (a busy
        event loop) is taken off; an age beyond Discord's limit can only be clocks that
        disagree, and is ignored."""
        age = (datetime.now(UTC) - interaction.created_at).total_seconds()
        if not 0 <= age <= 3:
            age = 0.0
        return max(0.0, self.reply_timeout - age)

    async def _acknowledge(
        self, interaction: discord.Interaction, work: Awaitable[Reply]
    ) -> str | None:
        """Defer, counted: work waits while acknowledgements are on their way. None when
        Discord no longer knows the interaction (it expired before we got to it): the member
        saw "interaction failed", and the work is not done."""
        self._acknowledging += 1
        self._acknowledged.clear()
        try:
            return await self._defer(interaction)
        except discord.NotFound as exc:
            if exc.code != 10062:
                raise
            if asyncio.iscoroutine(work):
                work.close()
            log.warning(
                "interaction %s expired before it was acknowledged (%.1f s after Discord "
                "created it); nothing done",
                interaction.id,
                (datetime.now(UTC) - interaction.created_at).total_seconds(),
            )
            return None
        finally:
            self._acknowledging -= 1
            if not self._acknowledging:
                self._acknowledged.set()

    async def _acknowledgements_first(self) -> None:
        """While a crowd presses, acknowledge them all before doing the work of any: each
        unit of work holds the event loop for milliseconds at a time, and 8 of them side by
        side made the 200th acknowledgement late. Waits at most `ACK_FIRST_SECONDS`."""
        if self._acknowledging:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._acknowledged.wait(), ACK_FIRST_SECONDS)

    async def _defer(self, interaction: discord.Interaction) -> str:
        if interaction.type is discord.InteractionType.component:
            await interaction.response.defer()  # acknowledge silently; follow-ups are free
            return "silent"
        await interaction.response.defer(ephemeral=True, thinking=True)
        return "private"

    async def _send(
        self,
        interaction: discord.Interaction,
        reply: Reply,
        deferred: str | None,
        dm_guild: str | None = None,
    ) -> None:
        locale = reply.locale or _hint(interaction)
        form_guild = dm_guild if interaction.guild_id is None else None
        if reply.form is not None:
            can_open = (
                not interaction.response.is_done()
                and interaction.type is not discord.InteractionType.modal_submit
            )
            if can_open:
                await interaction.response.send_modal(modal_for(reply.form, locale, form_guild))
                return
            log.info(
                "form %s could not open for interaction %s", reply.form.form_id, interaction.id
            )
            fallback = Reply.error("discord.form_too_slow")
            fallback.locale = locale
            reply = fallback
        message = message_for(reply, locale, form_guild)
        if not interaction.response.is_done():
            await interaction.response.send_message(**message.kwargs())
        else:
            kwargs = message.kwargs()
            if deferred == "private" and not message.ephemeral:
                log.debug("channel reply to %s sent privately (it came late)", interaction.id)
                kwargs["ephemeral"] = True
            await interaction.followup.send(**kwargs)
        for extra in reply.followups:  # the welcome: always only for this member
            kwargs = message_for(extra, extra.locale or locale, form_guild).kwargs()
            kwargs["ephemeral"] = True
            await interaction.followup.send(**kwargs)

    async def _send_failure(
        self, interaction: discord.Interaction, incident: str, locale: str
    ) -> None:
        """The calm apology with the incident code, if Discord still lets us answer."""
        content = translate(locale, "errors.unexpected", ref=incident)
        try:
            if not interaction.response.is_done():
                await interaction.response.send_message(
                    content, ephemeral=True, allowed_mentions=NO_PINGS
                )
            else:
                await interaction.followup.send(content, ephemeral=True, allowed_mentions=NO_PINGS)
        except Exception:
            log.exception("incident %s: could not tell the member either", incident)


def _hint(interaction: discord.Interaction) -> str:
    locale = getattr(interaction, "locale", None)
    return normalize_locale(str(getattr(locale, "value", locale or "")))


def identity_of(interaction: discord.Interaction) -> Identity:
    """Discord's facts about the person (roles and server rights come with every interaction)."""
    user = interaction.user
    locale = getattr(interaction.locale, "value", None)
    roles: frozenset[str] = frozenset()
    admin = False
    if isinstance(user, discord.Member):
        roles = frozenset(str(role.id) for role in user.roles if not role.is_default())
        granted = [interaction.permissions, user.guild_permissions]
        admin = any(p.administrator or p.manage_guild for p in granted)
    return Identity(
        platform_id=str(user.id),
        display_name=user.display_name,
        locale_hint=str(locale) if locale else None,
        platform_role_ids=roles,
        is_platform_admin=admin,
        in_community=isinstance(user, discord.Member),
    )
