"""Commands are declared once: names in both languages, typed and length-limited parameters,
and the permission they need. Every front end builds its own surface from this registry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leerbot.core.permissions import Action

if TYPE_CHECKING:
    from leerbot.chat.context import Context
    from leerbot.chat.reply import Reply


class ParamType(StrEnum):
    TEXT = "text"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    MEMBER = "member"
    CHANNEL = "channel"
    ROLE = "role"


@dataclass(frozen=True)
class Choice:
    value: str
    name_nl: str
    name_en: str


@dataclass(frozen=True)
class Param:
    """One parameter. Names are lowercase words (Discord's rule), Dutch first."""

    name: str
    name_en: str
    type: ParamType = ParamType.TEXT
    required: bool = False
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[Choice, ...] = ()
    channel_kind: str = "text"  # for CHANNEL parameters: "text" or "voice"

    def __post_init__(self) -> None:
        if self.type is ParamType.TEXT and self.max_length is None:
            raise ValueError(f"text parameter {self.name!r} needs a max_length")
        if len(self.choices) > 25:
            raise ValueError("at most 25 choices")


@dataclass(frozen=True)
class MemberRef:
    """A member named in a command: the platform's id and the name shown."""

    platform_id: str
    display_name: str


Handler = Callable[..., Awaitable["Reply"]]


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    path_en: tuple[str, ...]
    handler: Handler
    permission: str
    params: tuple[Param, ...] = ()

    @property
    def key(self) -> str:
        """Prompt key stem: `commands.site_toevoegen`."""
        return "commands." + "_".join(self.path)

    def name(self, locale: str) -> str:
        return " ".join(self.path_en if locale == "en" else self.path)

    def param(self, name: str) -> Param | None:
        for p in self.params:
            if name in (p.name, p.name_en):
                return p
        return None


ActionHandler = Callable[["Context", str], Awaitable["Reply"]]
FormHandler = Callable[["Context", str, dict[str, str]], Awaitable["Reply"]]


@dataclass(frozen=True)
class ActionSpec:
    action: str
    handler: ActionHandler
    permission: str


@dataclass(frozen=True)
class FormSpec:
    form_id: str
    handler: FormHandler
    permission: str


@dataclass
class Registry:
    """All commands, button actions and form handlers of the bot."""

    commands: dict[tuple[str, ...], Command] = field(default_factory=dict)
    actions: dict[str, ActionSpec] = field(default_factory=dict)
    forms: dict[str, FormSpec] = field(default_factory=dict)

    def command(
        self,
        path: str,
        path_en: str,
        *,
        permission: str = Action.VIEW_HELP,
        params: tuple[Param, ...] = (),
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            cmd = Command(tuple(path.split()), tuple(path_en.split()), handler, permission, params)
            if len(cmd.path) != len(cmd.path_en) or not 1 <= len(cmd.path) <= 2:
                raise ValueError(f"bad command path {path!r}/{path_en!r}")
            if cmd.path in self.commands:
                raise ValueError(f"command {path!r} declared twice")
            self.commands[cmd.path] = cmd
            return handler

        return decorate

    def action(self, action: str, *, permission: str) -> Callable[[Any], Any]:
        def decorate(handler: ActionHandler) -> ActionHandler:
            self.actions[action] = ActionSpec(action, handler, permission)
            return handler

        return decorate

    def form(self, form_id: str, *, permission: str) -> Callable[[Any], Any]:
        def decorate(handler: FormHandler) -> FormHandler:
            self.forms[form_id] = FormSpec(form_id, handler, permission)
            return handler

        return decorate

    def find(self, words: list[str]) -> tuple[Command, list[str]] | None:
        """Find a command by its Dutch or English words; returns the rest of the words."""
        lowered = [w.lower() for w in words]
        for length in (2, 1):
            head = tuple(lowered[:length])
            if len(head) < length:
                continue
            for cmd in self.commands.values():
                if head in (cmd.path, cmd.path_en):
                    return cmd, words[length:]
        return None

    def sorted_commands(self) -> list[Command]:
        return sorted(self.commands.values(), key=lambda c: c.path)


registry = Registry()
