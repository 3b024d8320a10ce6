"""Runs commands, button presses and form submissions for every front end.

One unit of work per call: open a session, resolve the actor, check the permission, coerce
the parameters, run the handler, commit, and only then hand back the reply. Expected
failures become a short localized message; anything else is logged with a reference and the
member sees a calm apology, never a traceback.
"""

from __future__ import annotations

import difflib
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leerbot.chat.commands import Command, MemberRef, Param, ParamType, Registry, registry
from leerbot.chat.context import Context, Place
from leerbot.chat.reply import Reply, parse_custom_id
from leerbot.chat.safety import welcome
from leerbot.config import Settings
from leerbot.core.actor import Identity
from leerbot.core.community import get_or_create_community, resolve_actor
from leerbot.core.errors import LeerbotError, NotFound, ValidationFailed
from leerbot.core.permissions import require
from leerbot.core.steps import SecondStep
from leerbot.db.models import Member
from leerbot.i18n import has_key, normalize_locale, translate
from leerbot.logging_ids import who

log = logging.getLogger("leerbot.chat")

TRUE_WORDS = {"ja", "yes", "true", "waar", "aan", "on", "1", "j", "y"}
FALSE_WORDS = {"nee", "no", "false", "onwaar", "uit", "off", "0", "n"}


def localized_field(field: str, locale: str) -> str:
    key = f"fields.{field}"
    return translate(locale, key) if has_key(key) else field


def error_reply(exc: LeerbotError, locale: str) -> Reply:
    params = dict(exc.params)
    if "field" in params:
        params["field"] = localized_field(str(params["field"]), locale)
    if "needed" in params:
        params["needed"] = translate(locale, f"standings.{params['needed']}")
    if "role" in params and has_key(f"sessions.roles.{params['role']}"):
        params["role"] = translate(locale, f"sessions.roles.{params['role']}")
    reply = Reply.error(exc.key, **params)
    reply.locale = locale
    return reply


def coerce(param: Param, value: Any, locale: str) -> Any:
    """Turn a raw value (text from the console, typed from Discord) into the declared type."""
    label = param.name_en if locale == "en" else param.name
    if param.type is ParamType.TEXT:
        text = str(value).strip()
        if param.max_length is not None and len(text) > param.max_length:
            raise ValidationFailed(
                "errors.too_long", field=label, max=param.max_length, length=len(text)
            )
        if param.choices:
            for choice in param.choices:
                if text.casefold() in (
                    choice.value.casefold(),
                    choice.name_nl.casefold(),
                    choice.name_en.casefold(),
                ):
                    return choice.value
            names = [c.name_en if locale == "en" else c.name_nl for c in param.choices]
            raise ValidationFailed("errors.bad_choice", field=label, choices=", ".join(names))
        return text
    if param.type is ParamType.INTEGER:
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValidationFailed("errors.not_a_number", field=label) from None
        if (param.min_value is not None and number < param.min_value) or (
            param.max_value is not None and number > param.max_value
        ):
            raise ValidationFailed(
                "errors.out_of_range", field=label, min=param.min_value, max=param.max_value
            )
        return number
    if param.type is ParamType.BOOLEAN:
        if isinstance(value, bool):
            return value
        word = str(value).strip().casefold()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise ValidationFailed("errors.not_yes_no", field=label)
    if param.type is ParamType.MEMBER:
        if isinstance(value, MemberRef):
            return value
        text = str(value).strip().lstrip("@")
        return MemberRef(platform_id=text.casefold(), display_name=text)
    return str(value).strip()


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        commands: Registry = registry,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.registry = commands

    # --- entry points --------------------------------------------------------------------

    async def run(
        self, place: Place, identity: Identity, command: Command, args: dict[str, Any]
    ) -> Reply:
        """Run a declared command with raw arguments keyed by Dutch or English names."""

        async def body(ctx: Context) -> Reply:
            require(ctx.actor, command.permission)
            kwargs = self._arguments(command, args, ctx.locale)
            return await command.handler(ctx, **kwargs)

        return await self._unit_of_work(place, identity, body, what=command.key)

    async def run_text(
        self, place: Place, identity: Identity, words: list[str], args: dict[str, Any]
    ) -> Reply:
        """Find a command by its words (either language) and run it."""
        found = self.registry.find(words)
        if found is None or found[1]:
            return await self._unknown_command(place, identity, " ".join(words))
        return await self.run(place, identity, found[0], args)

    async def press(self, place: Place, identity: Identity, custom_id: str) -> Reply:
        """A button was pressed."""
        parsed = parse_custom_id(custom_id)
        spec = self.registry.actions.get(parsed[0]) if parsed else None

        async def body(ctx: Context) -> Reply:
            if spec is None or parsed is None:
                raise NotFound("errors.unknown_button")
            require(ctx.actor, spec.permission)
            return await spec.handler(ctx, parsed[1])

        # Only the action's name is logged: arguments may carry an anonymous answer's token.
        name = parsed[0] if parsed else "?"
        return await self._unit_of_work(place, identity, body, what=f"button {name}")

    async def submit(
        self, place: Place, identity: Identity, custom_id: str, values: dict[str, str]
    ) -> Reply:
        """A form was filled in."""
        parsed = parse_custom_id(custom_id)
        spec = self.registry.forms.get(parsed[0]) if parsed else None

        async def body(ctx: Context) -> Reply:
            if spec is None or parsed is None:
                raise NotFound("errors.unknown_form")
            require(ctx.actor, spec.permission)
            return await spec.handler(ctx, parsed[1], values)

        name = parsed[0] if parsed else "?"
        return await self._unit_of_work(place, identity, body, what=f"form {name}")

    # --- internals -----------------------------------------------------------------------

    def _arguments(self, command: Command, args: dict[str, Any], locale: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {p.name: None for p in command.params}
        for raw_name, value in args.items():
            param = command.param(raw_name.lower())
            if param is None:
                known = ", ".join(p.name_en if locale == "en" else p.name for p in command.params)
                raise ValidationFailed("errors.unknown_param", name=raw_name, known=known or "-")
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            kwargs[param.name] = coerce(param, value, locale)
        for param in command.params:
            if param.required and kwargs[param.name] is None:
                raise ValidationFailed(
                    "errors.missing_param", field=param.name_en if locale == "en" else param.name
                )
        return kwargs

    async def _unknown_command(self, place: Place, identity: Identity, text: str) -> Reply:
        locale = normalize_locale(identity.locale_hint or self.settings.default_locale)
        names = [" ".join(c.path) for c in self.registry.commands.values()] + [
            " ".join(c.path_en) for c in self.registry.commands.values()
        ]
        close = difflib.get_close_matches(text.lower(), names, n=1, cutoff=0.5)
        reply = Reply.error(
            "errors.unknown_command", command=text, suggestion=("/" + close[0]) if close else ""
        )
        reply.locale = locale
        return reply

    async def _welcome_once(self, ctx: Context, reply: Reply) -> None:
        """A member's first answer from the bot brings the welcome with the house rules and
        where to find help, once, in their language. Not with a form (Discord cannot follow
        a form with a message): then it comes with the next answer."""
        if reply.form is not None or reply.is_error:
            return
        member = await ctx.db.get(Member, ctx.actor.member_id)
        if member is None or member.welcomed_at is not None:
            return
        member.welcomed_at = datetime.now(UTC)
        reply.followups.append(welcome(self.settings, ctx.locale, ctx.community.name))

    async def _second_steps(self, steps: list[SecondStep], what: str) -> LeerbotError | None:
        """Run each step in a transaction of its own, in order. When one fails, its undo runs
        (in another) and the member is told; nothing later runs. Unexpected errors propagate
        to the calm apology, after the undo."""
        for step in steps:
            try:
                async with self.sessionmaker() as db, db.begin():
                    await step.run(db)
            except Exception as exc:
                if step.undo is not None:
                    try:
                        async with self.sessionmaker() as db, db.begin():
                            await step.undo(db)
                    except Exception:
                        log.exception("could not undo the first step of %s", what)
                if isinstance(exc, LeerbotError):
                    log.info("second step of %s refused: %s", what, exc.key)
                    return exc
                raise
        return None

    async def _unit_of_work(self, place: Place, identity: Identity, body: Any, what: str) -> Reply:
        locale = normalize_locale(identity.locale_hint or self.settings.default_locale)
        ctx: Context | None = None
        try:
            async with self.sessionmaker() as db:
                try:
                    async with db.begin():
                        community = await get_or_create_community(
                            db, place.platform_id, place.name, self.settings.default_locale
                        )
                        actor = await resolve_actor(db, community, identity)
                        locale = actor.locale
                        ctx = Context(
                            db=db, actor=actor, community=community, settings=self.settings
                        )
                        reply: Reply = await body(ctx)
                        reply.locale = reply.locale or ctx.locale
                        await self._welcome_once(ctx, reply)
                except LeerbotError as exc:
                    log.info("refused %s for %s: %s", what, who(identity.platform_id), exc.key)
                    return error_reply(exc, locale)
            if ctx is not None and ctx.after_commit:
                failed = await self._second_steps(ctx.after_commit, what)
                if failed is not None:
                    return error_reply(failed, locale)
            return reply
        except Exception:
            incident = uuid.uuid4().hex[:8]
            log.exception("incident %s while handling %s", incident, what)
            failure = Reply.error("errors.unexpected", ref=incident)
            failure.locale = locale
            return failure
