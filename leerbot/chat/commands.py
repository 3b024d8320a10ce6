"""Commands are declared once: names in both languages, typed and length-limited parameters,
and the permission they need. Every front end builds its own surface from this registry."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from leerbot.core.errors import NotFound
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


DB_INT_MAX = 2_147_483_647
"""The largest whole number a database column holds (PostgreSQL `integer`; record numbers
are such columns). Every integer option stays within it, so Discord itself limits them."""
DB_INT_MIN = -DB_INT_MAX - 1


def fold(text: str) -> str:
    """For comparing what people type: case, accents and repeated spaces do not matter
    ("Coordinatoren" finds "coördinatoren")."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.split())


@dataclass(frozen=True)
class Choice:
    value: str
    name_nl: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_en if locale == "en" else self.name_nl

    def spellings(self) -> set[str]:
        """What a member may type for this choice: the value and both labels, and a label's
        short form without its explanation ("inbrenger" for "inbrenger (brengt een casus
        in)")."""
        out = {self.value, self.name_nl, self.name_en}
        out |= {re.sub(r"\s*\(.*\)\s*$", "", label) for label in (self.name_nl, self.name_en)}
        return {fold(s) for s in out if s.strip()}


@dataclass(frozen=True)
class Param:
    """One parameter. Names are lowercase words (Discord's rule), Dutch first.

    A text option with choices needs no `max_length`: the choice is the limit, and a label
    may be longer than the value it stands for. An integer option always has both bounds
    (by default what the database holds), so a member never meets an unbounded number."""

    name: str
    name_en: str
    type: ParamType = ParamType.TEXT
    required: bool = False
    max_length: int | None = None
    min_value: int | None = None
    max_value: int | None = None
    choices: tuple[Choice, ...] = ()
    channel_kind: str = "text"  # for CHANNEL parameters: "text" or "voice"
    words: bool = False
    """The words typed after the command fill this option (`/help sessie plannen`)."""

    def __post_init__(self) -> None:
        if self.type is ParamType.TEXT and self.max_length is None and not self.choices:
            raise ValueError(f"text parameter {self.name!r} needs a max_length")
        if len(self.choices) > 25:
            raise ValueError("at most 25 choices")
        if self.type is ParamType.INTEGER:
            low = DB_INT_MIN if self.min_value is None else max(self.min_value, DB_INT_MIN)
            high = DB_INT_MAX if self.max_value is None else min(self.max_value, DB_INT_MAX)
            object.__setattr__(self, "min_value", low)
            object.__setattr__(self, "max_value", high)

    def label(self, locale: str) -> str:
        """The option's name as the member types it."""
        return self.name_en if locale == "en" else self.name

    def choose(self, text: str) -> list[Choice]:
        """The choices `text` stands for: one exact match (value or label, in either
        language, case and accents aside), else those it is the beginning of, else those
        with a word that begins with it ("recovery climate" for "From a treatment climate
        to a recovery climate"). More than one means: ask which."""
        typed = fold(text)
        if not typed:
            return []
        exact = [c for c in self.choices if typed in c.spellings()]
        if exact:
            return exact[:1]
        starts = [c for c in self.choices if any(s.startswith(typed) for s in c.spellings())]
        if starts:
            return starts
        word = re.compile(r"(?:^|[\s(/-])" + re.escape(typed))
        return [c for c in self.choices if any(word.search(s) for s in c.spellings())]


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
    opens_form: bool = False
    """May answer with a form. Discord opens a form only as the very first answer, so such a
    command is answered when its work is done (it must be quick); every other one is
    acknowledged at once and answered when ready (see adapters/discord/client.py)."""

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


class StaleArguments(NotFound):
    """A button's or form's id that this bot did not make, or no longer understands (an
    old message, a changed format, a hand-made request). The dispatcher answers it as
    "this button (or form) no longer works"."""

    key = "errors.unknown_button"


def record_number(text: str | int) -> int:
    """A record's number from a button's or form's id: a whole number from 1 up to what the
    database holds. Anything else is a stale or forged id (StaleArguments), never a
    ValueError, nor a number the database would refuse."""
    value = str(text).strip()
    if not value.isascii() or not value.isdigit() or len(value) > len(str(DB_INT_MAX)):
        raise StaleArguments()
    number = int(value)
    if not 1 <= number <= DB_INT_MAX:
        raise StaleArguments()
    return number


def id_parts(arg: str, count: int = 1) -> list[int]:
    """The first `count` parts of a button's or form's argument (`"12:3:n:c"`) as record
    numbers; see `record_number`."""
    parts = arg.split(":")
    if len(parts) < count:
        raise StaleArguments()
    return [record_number(part) for part in parts[:count]]


ActionHandler = Callable[["Context", str], Awaitable["Reply"]]
FormHandler = Callable[["Context", str, dict[str, str]], Awaitable["Reply"]]


@dataclass(frozen=True)
class ActionSpec:
    action: str
    handler: ActionHandler
    permission: str
    opens_form: bool = False
    """May answer with a form (see `Command.opens_form`)."""


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
        opens_form: bool = False,
    ) -> Callable[[Handler], Handler]:
        def decorate(handler: Handler) -> Handler:
            cmd = Command(
                tuple(path.split()),
                tuple(path_en.split()),
                handler,
                permission,
                params,
                opens_form,
            )
            if len(cmd.path) != len(cmd.path_en) or not 1 <= len(cmd.path) <= 2:
                raise ValueError(f"bad command path {path!r}/{path_en!r}")
            if cmd.path in self.commands:
                raise ValueError(f"command {path!r} declared twice")
            self.commands[cmd.path] = cmd
            return handler

        return decorate

    def action(
        self, action: str, *, permission: str, opens_form: bool = False
    ) -> Callable[[Any], Any]:
        def decorate(handler: ActionHandler) -> ActionHandler:
            self.actions[action] = ActionSpec(action, handler, permission, opens_form)
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
