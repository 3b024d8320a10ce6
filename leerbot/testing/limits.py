"""Limits the live API enforces that the OpenAPI document does not (fully) express.

Each check returns :class:`SchemaError` entries located like Discord's ``errors`` object, so
the fake answers exactly as it answers a schema error: 400 with code 50035.
"""

from __future__ import annotations

import re
from typing import Any

from leerbot.testing.openapi import SchemaError

Path = tuple[str | int, ...]

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBED_TOTAL_MAX = 6000
ACTION_ROWS_MAX = 5
BUTTONS_PER_ROW_MAX = 5
CUSTOM_ID_MAX = 100
SELECT_OPTIONS_MAX = 25
MODAL_COMPONENTS_MAX = 5
MODAL_TITLE_MAX = 45
COMMAND_OPTIONS_MAX = 25
CHOICES_MAX = 25
IS_COMPONENTS_V2 = 1 << 15

# Discord's documented regex; \p{L}/\p{N} expressed with Python's Unicode-aware \w minus "_".
_COMMAND_NAME = re.compile(r"^[-_\w]{1,32}$", re.UNICODE)

# The locales Discord accepts as keys of *_localizations.
LOCALES = frozenset(
    "id da de en-GB en-US es-ES es-419 fr hr it lt hu nl no pl pt-BR ro fi sv-SE vi tr cs el "
    "bg ru uk hi th zh-CN ja zh-TW ko".split()
)


def _too_long(path: Path, limit: int) -> SchemaError:
    return SchemaError(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _length(path: Path, value: object, low: int, high: int) -> list[SchemaError]:
    if not isinstance(value, str):
        return []
    if not low <= len(value) <= high:
        return [
            SchemaError(
                path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length."
            )
        ]
    return []


def embed_errors(embeds: list[Any], base: Path) -> list[SchemaError]:
    """Per-field limits plus the 6,000-character total over all embeds of one message."""
    errors: list[SchemaError] = []
    if len(embeds) > EMBEDS_MAX:
        errors.append(_too_long(base, EMBEDS_MAX))
    total = 0
    for i, embed in enumerate(embeds):
        if not isinstance(embed, dict):
            continue
        here = (*base, i)
        for key, limit in (("title", 256), ("description", 4096)):
            value = embed.get(key) or ""
            total += len(value)
            if len(value) > limit:
                errors.append(_too_long((*here, key), limit))
        fields = embed.get("fields") or []
        if len(fields) > 25:
            errors.append(_too_long((*here, "fields"), 25))
        for j, fld in enumerate(fields):
            name, value = fld.get("name") or "", fld.get("value") or ""
            total += len(name) + len(value)
            errors += _length((*here, "fields", j, "name"), name, 1, 256)
            errors += _length((*here, "fields", j, "value"), value, 1, 1024)
        footer = (embed.get("footer") or {}).get("text") or ""
        author = (embed.get("author") or {}).get("name") or ""
        total += len(footer) + len(author)
        if len(footer) > 2048:
            errors.append(_too_long((*here, "footer", "text"), 2048))
        if len(author) > 256:
            errors.append(_too_long((*here, "author", "name"), 256))
    if total > EMBED_TOTAL_MAX:
        errors.append(
            SchemaError(
                base,
                "MAX_EMBED_SIZE_EXCEEDED",
                f"Embed size exceeds maximum size of {EMBED_TOTAL_MAX}",
            )
        )
    return errors


def _component_errors(component: dict[str, Any], here: Path) -> list[SchemaError]:
    errors: list[SchemaError] = []
    custom_id = component.get("custom_id")
    if isinstance(custom_id, str) and len(custom_id) > CUSTOM_ID_MAX:
        errors.append(_too_long((*here, "custom_id"), CUSTOM_ID_MAX))
    label = component.get("label")
    if component.get("type") == 2 and isinstance(label, str) and len(label) > 80:
        errors.append(_too_long((*here, "label"), 80))
    if component.get("type") == 3:
        options = component.get("options") or []
        if len(options) > SELECT_OPTIONS_MAX:
            errors.append(_too_long((*here, "options"), SELECT_OPTIONS_MAX))
    for key in ("components",):
        for k, child in enumerate(component.get(key) or []):
            if isinstance(child, dict):
                errors += _component_errors(child, (*here, key, k))
    for key in ("accessory", "component"):
        child = component.get(key)
        if isinstance(child, dict):
            errors += _component_errors(child, (*here, key))
    return errors


def component_errors(components: list[Any], base: Path, flags: int = 0) -> list[SchemaError]:
    """Action rows: at most 5, at most 5 buttons each, a select alone; ids at most 100."""
    errors: list[SchemaError] = []
    v2 = bool(flags & IS_COMPONENTS_V2)
    if not v2 and len(components) > ACTION_ROWS_MAX:
        errors.append(_too_long(base, ACTION_ROWS_MAX))
    for i, row in enumerate(components):
        if not isinstance(row, dict):
            continue
        here = (*base, i)
        if row.get("type") == 1:
            children = [c for c in row.get("components") or [] if isinstance(c, dict)]
            buttons = [c for c in children if c.get("type") == 2]
            if len(buttons) > BUTTONS_PER_ROW_MAX:
                errors.append(_too_long((*here, "components"), BUTTONS_PER_ROW_MAX))
            if len(children) > 1 and any(c.get("type") in (3, 5, 6, 7, 8) for c in children):
                errors.append(
                    SchemaError(
                        (*here, "components"),
                        "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                        "The specified component exceeds the maximum width",
                    )
                )
        errors += _component_errors(row, here)
    return errors


def message_errors(body: dict[str, Any], base: Path = ()) -> list[SchemaError]:
    """Content, embeds and components of any message-shaped payload."""
    errors: list[SchemaError] = []
    content = body.get("content")
    if isinstance(content, str) and len(content) > CONTENT_MAX:
        errors.append(_too_long((*base, "content"), CONTENT_MAX))
    embeds = body.get("embeds")
    if isinstance(embeds, list):
        errors += embed_errors(embeds, (*base, "embeds"))
    components = body.get("components")
    if isinstance(components, list):
        flags = body.get("flags") if isinstance(body.get("flags"), int) else 0
        errors += component_errors(components, (*base, "components"), flags or 0)
    return errors


def modal_errors(data: dict[str, Any], base: Path) -> list[SchemaError]:
    """Title 45, at most 5 top-level components, ids 100, text input label 45."""
    errors: list[SchemaError] = []
    errors += _length((*base, "title"), data.get("title"), 1, MODAL_TITLE_MAX)
    components = data.get("components") or []
    if len(components) > MODAL_COMPONENTS_MAX:
        errors.append(_too_long((*base, "components"), MODAL_COMPONENTS_MAX))
    custom_id = data.get("custom_id")
    if isinstance(custom_id, str) and len(custom_id) > CUSTOM_ID_MAX:
        errors.append(_too_long((*base, "custom_id"), CUSTOM_ID_MAX))
    for i, comp in enumerate(components):
        if isinstance(comp, dict):
            errors += _component_errors(comp, (*base, "components", i))
            if comp.get("type") == 18:
                errors += _length((*base, "components", i, "label"), comp.get("label"), 1, 45)
            for j, inner in enumerate(comp.get("components") or []):
                if isinstance(inner, dict) and inner.get("type") == 4:
                    errors += _length(
                        (*base, "components", i, "components", j, "label"),
                        inner.get("label"),
                        1,
                        45,
                    )
    return errors


def _localizations(
    value: object, path: Path, low: int, high: int, regex: re.Pattern[str] | None = None
) -> list[SchemaError]:
    errors: list[SchemaError] = []
    if not isinstance(value, dict):
        return errors
    for locale, text in value.items():
        if locale not in LOCALES:
            errors.append(
                SchemaError((*path, locale), "LOCALE_INVALID", f"Invalid locale {locale!r}")
            )
            continue
        errors += _length((*path, locale), text, low, high)
        if (
            regex is not None
            and isinstance(text, str)
            and (not regex.match(text) or text != text.lower())
        ):
            errors.append(
                SchemaError(
                    (*path, locale), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid"
                )
            )
    return errors


def _name_errors(name: object, path: Path, chat_input: bool) -> list[SchemaError]:
    if not isinstance(name, str):
        return []
    if chat_input and (not _COMMAND_NAME.match(name) or name != name.lower()):
        return [SchemaError(path, "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")]
    return _length(path, name, 1, 32)


def _option_errors(options: list[Any], base: Path) -> list[SchemaError]:
    errors: list[SchemaError] = []
    if len(options) > COMMAND_OPTIONS_MAX:
        errors.append(_too_long(base, COMMAND_OPTIONS_MAX))
    seen: set[str] = set()
    optional_seen = False
    for i, opt in enumerate(options):
        if not isinstance(opt, dict):
            continue
        here = (*base, i)
        name = opt.get("name")
        errors += _name_errors(name, (*here, "name"), True)
        if isinstance(name, str):
            if name in seen:
                errors.append(
                    SchemaError(
                        (*here, "name"),
                        "APPLICATION_COMMAND_OPTIONS_NAME_ALREADY_EXISTS",
                        "Option names must be unique",
                    )
                )
            seen.add(name)
        errors += _length((*here, "description"), opt.get("description"), 1, 100)
        errors += _localizations(
            opt.get("name_localizations"), (*here, "name_localizations"), 1, 32, _COMMAND_NAME
        )
        errors += _localizations(
            opt.get("description_localizations"), (*here, "description_localizations"), 1, 100
        )
        if opt.get("type") in (1, 2):
            errors += _option_errors(opt.get("options") or [], (*here, "options"))
            continue
        if opt.get("required"):
            if optional_seen:
                errors.append(
                    SchemaError(
                        (*here, "required"),
                        "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                        "Required options must be placed before non-required options",
                    )
                )
        else:
            optional_seen = True
        choices = opt.get("choices") or []
        if len(choices) > CHOICES_MAX:
            errors.append(_too_long((*here, "choices"), CHOICES_MAX))
        for k, choice in enumerate(choices):
            if isinstance(choice, dict):
                errors += _length((*here, "choices", k, "name"), choice.get("name"), 1, 100)
                errors += _localizations(
                    choice.get("name_localizations"),
                    (*here, "choices", k, "name_localizations"),
                    1,
                    100,
                )
                if isinstance(choice.get("value"), str):
                    errors += _length((*here, "choices", k, "value"), choice["value"], 1, 100)
    return errors


def command_errors(command: dict[str, Any], base: Path = ()) -> list[SchemaError]:
    """Name regex and lowercase, description 1–100, options, choices and localizations."""
    errors: list[SchemaError] = []
    chat_input = command.get("type", 1) == 1
    errors += _name_errors(command.get("name"), (*base, "name"), chat_input)
    errors += _localizations(
        command.get("name_localizations"),
        (*base, "name_localizations"),
        1,
        32,
        _COMMAND_NAME if chat_input else None,
    )
    if chat_input:
        errors += _length((*base, "description"), command.get("description") or "", 1, 100)
        errors += _localizations(
            command.get("description_localizations"), (*base, "description_localizations"), 1, 100
        )
        errors += _option_errors(command.get("options") or [], (*base, "options"))
    elif command.get("description"):
        errors.append(
            SchemaError(
                (*base, "description"),
                "BASE_TYPE_INVALID",
                "Context menu commands cannot have a description",
            )
        )
    return errors


def command_list_errors(commands: list[Any]) -> list[SchemaError]:
    """A bulk overwrite: each command, and names unique per type."""
    errors: list[SchemaError] = []
    seen: set[tuple[int, str]] = set()
    for i, cmd in enumerate(commands):
        if not isinstance(cmd, dict):
            continue
        errors += command_errors(cmd, (i,))
        key = (int(cmd.get("type", 1) or 1), str(cmd.get("name")))
        if key in seen:
            errors.append(
                SchemaError(
                    (i, "name"),
                    "APPLICATION_COMMANDS_DUPLICATE_NAME",
                    f"Application command names must be unique: {key[1]}",
                )
            )
        seen.add(key)
    if sum(1 for c in commands if isinstance(c, dict) and c.get("type", 1) == 1) > 100:
        errors.append(_too_long((), 100))
    return errors
