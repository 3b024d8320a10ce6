"""The registry as Discord application commands, and interaction data back to arguments.

Our commands are data (`leerbot.chat.commands`), not decorated functions, so we build the
application-command JSON ourselves instead of using discord.py's `CommandTree`: Dutch names
and descriptions are the defaults, English ones are localizations. A two-word command is a
group (one top-level command) with subcommands.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from leerbot.chat.commands import (
    DB_INT_MAX,
    DB_INT_MIN,
    Command,
    MemberRef,
    Param,
    ParamType,
    Registry,
)
from leerbot.i18n import has_key, translate

log = logging.getLogger("leerbot.discord")

ENGLISH_LOCALES = ("en-US", "en-GB")
"""Discord's locales that get the English names and descriptions."""

# Discord's enums (https://discord.com/developers/docs/interactions/application-commands).
CHAT_INPUT = 1
SUB_COMMAND = 1
OPTION_TYPES: dict[ParamType, int] = {
    ParamType.TEXT: 3,
    ParamType.INTEGER: 4,
    ParamType.BOOLEAN: 5,
    ParamType.MEMBER: 6,
    ParamType.CHANNEL: 7,
    ParamType.ROLE: 8,
}
GUILD_CONTEXT = 0
GUILD_INSTALL = 0

# Channel kinds offered in the picker, by the parameter's declared `channel_kind`.
TEXT_CHANNEL_TYPES = [0, 5]  # text, announcement
VOICE_CHANNEL_TYPES = [2, 13]  # voice, stage

NAME_LIMIT = 32
DESCRIPTION_LIMIT = 100
CHOICE_LIMIT = 100


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _english(value: str, limit: int) -> dict[str, str]:
    return {locale: _clip(value, limit) for locale in ENGLISH_LOCALES}


def _described(key: str, fallback: str) -> dict[str, Any]:
    """Description from prompts/; a missing one (tests/test_prompts.py catches it) must not
    keep the bot from starting, so it falls back to the name."""
    if not has_key(key):
        log.warning("no prompt %s; using %r as the description", key, fallback)
        return {"description": fallback}
    return {
        "description": _clip(translate("nl", key), DESCRIPTION_LIMIT) or fallback,
        "description_localizations": _english(translate("en", key), DESCRIPTION_LIMIT),
    }


def _named(name: str, name_en: str) -> dict[str, Any]:
    if len(name) > NAME_LIMIT or len(name_en) > NAME_LIMIT:
        raise ValueError(f"command or option name too long for Discord: {name!r}/{name_en!r}")
    return {"name": name, "name_localizations": _english(name_en, NAME_LIMIT)}


def option_json(command: Command, param: Param) -> dict[str, Any]:
    """One option of a command, with the limits the core also checks."""
    option: dict[str, Any] = {
        "type": OPTION_TYPES[param.type],
        **_named(param.name, param.name_en),
        **_described(f"{command.key}.params.{param.name}", param.name),
        "required": param.required,
    }
    if param.type is ParamType.TEXT:
        # A choice is its own limit: a length limit would only hide choices whose value is
        # longer (Discord sends the value, the member picks the label).
        if param.max_length is not None and not param.choices:
            option["max_length"] = min(param.max_length, 6000)
        if param.choices:
            option["choices"] = [
                {
                    "name": _clip(choice.name_nl, CHOICE_LIMIT),
                    "name_localizations": _english(choice.name_en, CHOICE_LIMIT),
                    "value": choice.value,
                }
                for choice in param.choices
            ]
    elif param.type is ParamType.INTEGER:
        # Always both bounds (by default what a database column holds): Discord's own
        # client then refuses 99999999999999999999 before it reaches the bot.
        option["min_value"] = param.min_value if param.min_value is not None else DB_INT_MIN
        option["max_value"] = param.max_value if param.max_value is not None else DB_INT_MAX
    elif param.type is ParamType.CHANNEL:
        option["channel_types"] = (
            VOICE_CHANNEL_TYPES if param.channel_kind == "voice" else TEXT_CHANNEL_TYPES
        )
    return option


def _options(command: Command) -> list[dict[str, Any]]:
    # Discord wants required options before optional ones; the order is otherwise kept.
    ordered = sorted(command.params, key=lambda p: not p.required)
    return [option_json(command, p) for p in ordered]


def _guild_only() -> dict[str, Any]:
    return {"contexts": [GUILD_CONTEXT], "integration_types": [GUILD_INSTALL]}


def application_commands(registry: Registry) -> list[dict[str, Any]]:
    """The JSON for `PUT /applications/{id}/(guilds/{id}/)commands`: every declared command."""
    payload: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    for command in registry.sorted_commands():
        if len(command.path) == 1:
            payload.append(
                {
                    "type": CHAT_INPUT,
                    **_named(command.path[0], command.path_en[0]),
                    **_described(f"{command.key}.description", command.path[0]),
                    "options": _options(command),
                    **_guild_only(),
                }
            )
            continue
        group_name, sub_name = command.path
        group = groups.get(group_name)
        if group is None:
            group = {
                "type": CHAT_INPUT,
                **_named(group_name, command.path_en[0]),
                **_described(f"commands.groups.{group_name}", group_name),
                "options": [],
                **_guild_only(),
            }
            groups[group_name] = group
            payload.append(group)
        group["options"].append(
            {
                "type": SUB_COMMAND,
                **_named(sub_name, command.path_en[1]),
                **_described(f"{command.key}.description", sub_name),
                "options": _options(command),
            }
        )
    for entry in payload:
        if len(entry["options"]) > 25:
            raise ValueError(f"/{entry['name']} has more than 25 options or subcommands")
    if len(payload) > 100:
        raise ValueError("Discord allows at most 100 top-level commands")
    return payload


# --- from an interaction back to a command ---------------------------------------------------


@dataclass(frozen=True)
class Invocation:
    """A slash command as typed: the declared command and its raw arguments by Dutch name."""

    command: Command
    args: dict[str, Any]


def _member_ref(user_id: str, resolved: dict[str, Any]) -> MemberRef:
    """The name a member sees for someone: server nickname, else global name, else username."""
    member = (resolved.get("members") or {}).get(user_id) or {}
    user = (resolved.get("users") or {}).get(user_id) or {}
    name = member.get("nick") or user.get("global_name") or user.get("username") or user_id
    return MemberRef(platform_id=user_id, display_name=str(name))


def parse_invocation(registry: Registry, data: dict[str, Any]) -> Invocation | None:
    """Find the command in an APPLICATION_COMMAND interaction's data (names are always the
    default, Dutch, names there); None when it is not (or no longer) declared."""
    path = [str(data.get("name", ""))]
    options: list[dict[str, Any]] = list(data.get("options") or [])
    if len(options) == 1 and options[0].get("type") == SUB_COMMAND:
        path.append(str(options[0].get("name", "")))
        options = list(options[0].get("options") or [])
    command = registry.commands.get(tuple(path))
    if command is None:
        return None
    resolved: dict[str, Any] = data.get("resolved") or {}
    args: dict[str, Any] = {}
    for option in options:
        name = str(option.get("name", ""))
        param = command.param(name)
        value = option.get("value")
        if param is not None and param.type is ParamType.MEMBER and value is not None:
            args[name] = _member_ref(str(value), resolved)
        elif param is not None and param.type in (ParamType.CHANNEL, ParamType.ROLE):
            args[name] = None if value is None else str(value)
        else:
            # unknown options go through as they are: the dispatcher answers them politely
            args[name] = value
    return Invocation(command, args)


def modal_values(components: list[dict[str, Any]]) -> dict[str, str]:
    """{text input custom_id: value} from a MODAL_SUBMIT, with or without Label wrappers."""
    values: dict[str, str] = {}
    stack = list(components)
    while stack:
        component = stack.pop(0)
        if "components" in component:
            stack.extend(component["components"] or [])
        if component.get("component"):
            stack.append(component["component"])
        if component.get("type") == 4 and "custom_id" in component:
            values[str(component["custom_id"])] = str(component.get("value") or "")
    return values
