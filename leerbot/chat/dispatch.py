"""Runs commands, button presses and form submissions for every front end.

One unit of work per call: open a session, resolve the actor, check the permission, coerce
the parameters, run the handler, commit, and only then hand back the reply. Expected
failures become a short localized message; anything else is logged with a reference and the
member sees a calm apology, never a traceback.
"""

from __future__ import annotations

import asyncio
import difflib
import logging
import re
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leerbot.chat.commands import (
    DB_INT_MAX,
    DB_INT_MIN,
    Command,
    MemberRef,
    Param,
    ParamType,
    Registry,
    StaleArguments,
    registry,
)
from leerbot.chat.context import Context, Place
from leerbot.chat.reply import Reply, parse_custom_id
from leerbot.chat.safety import welcome
from leerbot.clock import SYSTEM, Clock, using
from leerbot.config import Settings
from leerbot.core.actor import Identity
from leerbot.core.community import get_or_create_community, resolve_actor
from leerbot.core.errors import LeerbotError, NotFound, ValidationFailed
from leerbot.core.permissions import require
from leerbot.core.steps import SecondStep
from leerbot.db.models import Member
from leerbot.i18n import has_key, list_and, list_or, normalize_locale, translate
from leerbot.logging_ids import who

log = logging.getLogger("leerbot.chat")

TRUE_WORDS = {"ja", "yes", "true", "waar", "aan", "on", "1", "j", "y"}
FALSE_WORDS = {"nee", "no", "false", "onwaar", "uit", "off", "0", "n"}


class OptionName(str):
    """An option's name as the member typed it (`taal`, `language`): shown as it is, not
    looked up in `fields.yaml` like the core's field names."""


UNSAFE_CHARACTERS = re.compile("[\x00\ud800-\udfff]")
"""A NUL byte (PostgreSQL cannot store it in text) or half of a UTF-16 pair (cannot be
written as UTF-8): never from a keyboard, but from a hand-made request or a client that cut
an emoji in two."""

TERMS: dict[str, dict[str, str]] = {
    "errors.status_unchanged": {"status": "agenda.statuses"},
    "errors.status_not_allowed": {
        "current": "agenda.statuses",
        "status": "agenda.statuses",
        "allowed": "agenda.statuses",
    },
}
"""Error parameters that are keys of a vocabulary (`in_uitvoering`): shown as its words in
the member's language, never as the key. A comma-separated list becomes a list in words."""


def localized_field(field: str, locale: str) -> str:
    if isinstance(field, OptionName):
        return str(field)
    key = f"fields.{field}"
    return translate(locale, key) if has_key(key) else field.replace("_", " ")


def _term(prefix: str, value: object, locale: str) -> str:
    words = [w.strip() for w in str(value).split(",") if w.strip()]
    named = [
        translate(locale, f"{prefix}.{w}") if has_key(f"{prefix}.{w}") else w.replace("_", " ")
        for w in words
    ]
    return list_or(named, locale) if len(named) > 1 else "".join(named)


def error_reply(exc: LeerbotError, locale: str) -> Reply:
    params = dict(exc.params)
    if "field" in params:
        params["field"] = localized_field(params["field"], locale)
    if "fields" in params:
        params["fields"] = list_and(
            [f"**{localized_field(f, locale)}**" for f in params["fields"]], locale
        )
    if "needed" in params:
        params["needed"] = translate(locale, f"standings.{params['needed']}")
    if "role" in params and has_key(f"sessions.roles.{params['role']}"):
        params["role"] = translate(locale, f"sessions.roles.{params['role']}")
    for name, prefix in TERMS.get(exc.key, {}).items():
        if name in params:
            params[name] = _term(prefix, params[name], locale)
    reply = Reply.error(exc.key, **params)
    reply.locale = locale
    return reply


def check_characters(text: str, field: str) -> None:
    """Refuse text with a NUL byte or half a character before it goes anywhere."""
    if UNSAFE_CHARACTERS.search(text):
        raise ValidationFailed("errors.bad_characters", field=field)


def clean_characters(text: str) -> str:
    """Form text without NUL bytes and halves of characters (a long answer is not lost for
    one broken emoji); the member is told (`errors.characters_removed`)."""
    return UNSAFE_CHARACTERS.sub("", text)


_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


def _out_of_range(param: Param, label: str) -> ValidationFailed:
    return ValidationFailed(
        "errors.out_of_range", field=label, min=param.min_value, max=param.max_value
    )


def coerce(param: Param, value: Any, locale: str) -> Any:
    """Turn a raw value (text from the console, typed from Discord) into the declared type."""
    label = OptionName(param.label(locale))
    if isinstance(value, str):
        check_characters(value, label)
    if param.type is ParamType.TEXT:
        text = str(value).strip()
        if param.choices:
            found = param.choose(text)
            if len(found) == 1:
                return found[0].value
            names = [f"`{c.name(locale)}`" for c in (found or param.choices)]
            raise ValidationFailed("errors.bad_choice", field=label, choices=list_or(names, locale))
        if param.max_length is not None and len(text) > param.max_length:
            raise ValidationFailed(
                "errors.too_long", field=label, max=param.max_length, length=len(text)
            )
        return text
    if param.type is ParamType.INTEGER:
        if isinstance(value, bool):
            raise ValidationFailed("errors.not_a_number", field=label)
        if isinstance(value, int):
            number = value
        else:
            text = str(value).strip()
            if not _WHOLE_NUMBER.fullmatch(text):
                raise ValidationFailed("errors.not_a_number", field=label)
            if len(text.lstrip("+-").lstrip("0")) > len(str(DB_INT_MAX)):
                raise _out_of_range(param, label)
            number = int(text)
        low = param.min_value if param.min_value is not None else DB_INT_MIN
        high = param.max_value if param.max_value is not None else DB_INT_MAX
        if not low <= number <= high:
            raise _out_of_range(param, label)
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


def _check_form_declared(reply: Reply, declared: bool, what: str) -> None:
    """A form from a command or button that does not declare `opens_form` cannot open on
    Discord (it was acknowledged first): a mistake in the declaration, logged as an error so
    that the tests find it."""
    if reply.form is not None and not declared:
        log.error("%s answered with a form but does not declare opens_form=True", what)


class Dispatcher:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        settings: Settings,
        commands: Registry = registry,
        *,
        clock: Clock = SYSTEM,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.settings = settings
        self.registry = commands
        self.clock = clock
        """The app's clock: each unit of work runs with it as the current one."""
        self.closing = False
        """The process is stopping: every new command, button or form is answered with
        "try again in a minute" and changes nothing (`close`)."""
        self._working: set[asyncio.Task[Any]] = set()

    # --- entry points --------------------------------------------------------------------

    async def run(
        self, place: Place, identity: Identity, command: Command, args: dict[str, Any]
    ) -> Reply:
        """Run a declared command with raw arguments keyed by Dutch or English names."""

        async def body(ctx: Context) -> Reply:
            require(ctx.actor, command.permission)
            kwargs = self._arguments(command, args, ctx.locale)
            reply: Reply = await command.handler(ctx, **kwargs)
            _check_form_declared(reply, command.opens_form, command.key)
            return reply

        return await self._unit_of_work(place, identity, body, what=command.key)

    async def run_text(
        self, place: Place, identity: Identity, words: list[str], args: dict[str, Any]
    ) -> Reply:
        """Find a command by its words (either language) and run it."""
        found = self.registry.find(words)
        if found is not None and found[1]:  # `/help sessie plannen`: words fill an option
            command, extra = found
            rest = next((p for p in command.params if p.words), None)
            if rest is not None and all(command.param(a.lower()) is not rest for a in args):
                return await self.run(
                    place, identity, command, {**args, rest.name: " ".join(extra)}
                )
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
            reply: Reply = await spec.handler(ctx, parsed[1])
            _check_form_declared(reply, spec.opens_form, f"button {spec.action}")
            return reply

        # Only the action's name is logged: arguments may carry an anonymous answer's token.
        name = parsed[0] if parsed else "?"
        return await self._unit_of_work(place, identity, body, what=f"button {name}")

    async def submit(
        self, place: Place, identity: Identity, custom_id: str, values: dict[str, str]
    ) -> Reply:
        """A form was filled in."""
        parsed = parse_custom_id(custom_id)
        spec = self.registry.forms.get(parsed[0]) if parsed else None

        cleaned = {name: clean_characters(value) for name, value in values.items()}
        changed = cleaned != values

        async def body(ctx: Context) -> Reply:
            if spec is None or parsed is None:
                raise NotFound("errors.unknown_form")
            require(ctx.actor, spec.permission)
            try:
                reply = await spec.handler(ctx, parsed[1], cleaned)
            except StaleArguments:
                raise NotFound("errors.unknown_form") from None
            if changed and not reply.is_error:
                reply.followups.append(Reply.say("errors.characters_removed"))
            return reply

        name = parsed[0] if parsed else "?"
        return await self._unit_of_work(place, identity, body, what=f"form {name}")

    # --- internals -----------------------------------------------------------------------

    def _arguments(self, command: Command, args: dict[str, Any], locale: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {p.name: None for p in command.params}
        for raw_name, value in args.items():
            param = command.param(raw_name.lower())
            if param is None:
                known = list_or([p.label(locale) for p in command.params], locale)
                raise ValidationFailed("errors.unknown_param", name=raw_name, known=known)
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            kwargs[param.name] = coerce(param, value, locale)
        missing = [
            OptionName(p.label(locale))
            for p in command.params
            if p.required and kwargs[p.name] is None
        ]
        if len(missing) == 1:
            raise ValidationFailed("errors.missing_param", field=missing[0])
        if missing:  # all at once, in the order the command (and Discord's form) asks them
            raise ValidationFailed("errors.missing_params", fields=missing)
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
        member.welcomed_at = ctx.now()
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

    async def close(self, timeout: float) -> None:
        """Take no new work; wait up to `timeout` seconds for the work already started (and
        for the tasks that run it to send their answers)."""
        self.closing = True
        current = asyncio.current_task()
        working = [t for t in self._working if not t.done() and t is not current]
        if working:
            await asyncio.wait(working, timeout=timeout)

    async def _unit_of_work(self, place: Place, identity: Identity, body: Any, what: str) -> Reply:
        if self.closing:
            log.info("refused %s for %s: stopping", what, who(identity.platform_id))
            stopping = Reply.error("errors.stopping")
            stopping.locale = normalize_locale(identity.locale_hint or self.settings.default_locale)
            return stopping
        task = asyncio.current_task()
        if task is not None and task not in self._working:
            self._working.add(task)
            task.add_done_callback(self._working.discard)
        with using(self.clock):  # core code that is not given `now=` reads the app's clock
            return await self._run_unit(place, identity, body, what)

    async def _run_unit(self, place: Place, identity: Identity, body: Any, what: str) -> Reply:
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
                            db=db,
                            actor=actor,
                            community=community,
                            settings=self.settings,
                            clock=self.clock,
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
