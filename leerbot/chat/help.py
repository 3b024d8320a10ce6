"""`/help`: the commands the caller may use, one line each, in their language; and
`/help COMMAND` (`/help sessie plannen`, or `opdracht:` in Discord): that command's options,
each with a line of explanation, and an example to copy."""

from __future__ import annotations

import difflib

from leerbot.chat.commands import (
    DB_INT_MAX,
    Command,
    Param,
    ParamType,
    fold,
    registry,
)
from leerbot.chat.community import LANGUAGE_CHOICES
from leerbot.chat.context import Context
from leerbot.chat.reply import Reply, UserText
from leerbot.chat.safety import house_rules_fields
from leerbot.core.errors import NotFound
from leerbot.core.permissions import RULES, Action, may
from leerbot.i18n import Msg, has_key, list_or, translate


@registry.command(
    "help",
    "help",
    permission=Action.VIEW_HELP,
    params=(
        Param("opdracht", "command", ParamType.TEXT, max_length=60, words=True),
        Param("taal", "language", ParamType.TEXT, choices=LANGUAGE_CHOICES),
    ),
)
async def help_command(ctx: Context, opdracht: str | None, taal: str | None) -> Reply:
    locale = taal or ctx.locale
    if opdracht:
        reply = command_help(ctx, opdracht, locale)
        reply.locale = locale
        return reply
    lines = []
    for command in registry.sorted_commands():
        if may(ctx.actor, command.permission):
            description = translate(locale, f"{command.key}.description")
            lines.append(f"`/{command.name(locale)}` — {description}")
    reply = Reply(
        title=Msg("help.title"),
        text=UserText(translate(locale, "help.intro") + "\n\n" + "\n".join(lines)),
        fields=house_rules_fields(ctx.settings, locale),
    )
    reply.locale = locale
    return reply


def find_commands(text: str) -> list[Command]:
    """The command `text` names, in either language (`sessie plannen`, `/session plan`), or
    every command of a group (`sessie`); empty when nothing matches."""
    words = fold(text).lstrip("/").split()
    found = registry.find(words)
    if found is not None and not found[1]:
        return [found[0]]
    if len(words) == 1:
        return [
            c
            for c in registry.sorted_commands()
            if len(c.path) == 2 and words[0] in (c.path[0], c.path_en[0])
        ]
    return []


def command_help(ctx: Context, text: str, locale: str) -> Reply:
    found = find_commands(text)
    if not found:
        names = [
            " ".join(c.path_en if locale == "en" else c.path) for c in registry.commands.values()
        ]
        close = difflib.get_close_matches(fold(text).lstrip("/"), names, n=1, cutoff=0.5)
        raise NotFound(
            "errors.help_unknown_command", command=text, suggestion=close[0] if close else ""
        )
    if len(found) > 1:
        lines = [
            f"`/{c.name(locale)}` — {translate(locale, f'{c.key}.description')}" for c in found
        ]
        return Reply(
            title=Msg("help.group_title", {"group": found[0].name(locale).split()[0]}),
            text=UserText(
                "\n".join(lines)
                + "\n\n"
                + translate(locale, "help.group_more", example=found[0].name(locale))
            ),
        )
    command = found[0]
    parts = [translate(locale, f"{command.key}.description")]
    if command.params:
        lines = [_option_line(command, p, locale) for p in _in_form_order(command)]
        parts.append("\n".join([translate(locale, "help.options_title"), *lines]))
    else:
        parts.append(translate(locale, "help.no_options"))
    parts.append(
        translate(locale, "help.example", example=translate(locale, f"{command.key}.example"))
    )
    if not may(ctx.actor, command.permission):
        needed = RULES.get(command.permission)  # type: ignore[call-overload]
        standing = needed.name.lower() if needed is not None else "coordinator"
        parts.append(
            translate(locale, "help.only_for", needed=translate(locale, f"standings.{standing}"))
        )
    return Reply(title=UserText(f"/{command.name(locale)}"), text=UserText("\n\n".join(parts)))


def _in_form_order(command: Command) -> list[Param]:
    """Required options first, each group in the declared order: as Discord's form asks."""
    return sorted(command.params, key=lambda p: not p.required)


def _option_line(command: Command, param: Param, locale: str) -> str:
    key = f"{command.key}.params.{param.name}"
    description = translate(locale, key) if has_key(key) else ""
    return translate(
        locale,
        "help.option_line",
        name=param.label(locale),
        required=param.required,
        description=description.rstrip("."),
        kind=_kind(param, locale),
    )


def _kind(param: Param, locale: str) -> str:
    """What the option takes, in words: its choices, a range of numbers, yes or no, …"""
    if param.choices:
        names = [f"`{c.name(locale)}`" for c in param.choices]
        return translate(locale, "help.kinds.choice", choices=list_or(names, locale))
    if param.type is ParamType.INTEGER:
        if param.max_value is None or param.max_value >= DB_INT_MAX:
            return translate(locale, "help.kinds.number_from", min=param.min_value)
        return translate(locale, "help.kinds.number", min=param.min_value, max=param.max_value)
    if param.type is ParamType.CHANNEL:
        return translate(
            locale, f"help.kinds.{'voice' if param.channel_kind == 'voice' else 'channel'}"
        )
    if param.type is ParamType.BOOLEAN:
        return translate(locale, "help.kinds.boolean")
    if param.type is ParamType.MEMBER:
        return translate(locale, "help.kinds.member")
    if param.type is ParamType.ROLE:
        return translate(locale, "help.kinds.role")
    return ""  # free text: the description says what to write
