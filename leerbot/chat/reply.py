"""Platform-neutral replies. Commands return a `Reply`; each adapter turns it into embeds and
buttons (Discord) or lines and numbered choices (console). Text is always a `Msg` (a prompt
key), except `UserText`: words a member wrote, shown as written and never allowed to ping."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from leerbot.i18n import Msg

CUSTOM_ID_PREFIX = "lb"
MAX_CUSTOM_ID = 100


@dataclass(frozen=True)
class UserText:
    """Text written by a member; rendered literally, with mentions disabled."""

    text: str


@dataclass(frozen=True)
class Mention:
    """A channel or role of the platform; each adapter shows it its own way."""

    kind: str  # "channel" or "role"
    platform_id: str


Text = Msg | UserText | Mention


def render(text: Text | None, locale: str) -> str:
    """Plain rendering (the console's); the Discord adapter renders Mention itself."""
    if text is None:
        return ""
    if isinstance(text, UserText):
        return text.text
    if isinstance(text, Mention):
        return ("#" if text.kind == "channel" else "@") + text.platform_id
    return text.render(locale)


class Visibility(StrEnum):
    ONLY_YOU = "only_you"
    CHANNEL = "channel"


class ButtonStyle(StrEnum):
    PRIMARY = "primary"
    SECONDARY = "secondary"
    SUCCESS = "success"
    DANGER = "danger"


@dataclass(frozen=True)
class Button:
    """A choice the member can press; `action` names a registered action handler."""

    label: Msg | UserText
    action: str
    arg: str = ""
    style: ButtonStyle = ButtonStyle.SECONDARY

    @property
    def custom_id(self) -> str:
        value = f"{CUSTOM_ID_PREFIX}:{self.action}:{self.arg}"
        if len(value) > MAX_CUSTOM_ID:
            raise ValueError(f"custom_id too long: {value!r}")
        return value


def parse_custom_id(custom_id: str) -> tuple[str, str] | None:
    """("privacy.export", "") from "lb:privacy.export:"; None for ids that are not ours."""
    parts = custom_id.split(":", 2)
    if len(parts) != 3 or parts[0] != CUSTOM_ID_PREFIX:
        return None
    return parts[1], parts[2]


@dataclass(frozen=True)
class FormField:
    name: str
    label: Msg | UserText
    paragraph: bool = False
    required: bool = True
    max_length: int = 1000
    min_length: int = 0
    default: str | None = None
    placeholder: Msg | UserText | None = None


@dataclass(frozen=True)
class Form:
    """Asks for a few texts (a Discord modal: at most 5 fields)."""

    form_id: str
    title: Msg
    fields: tuple[FormField, ...]
    arg: str = ""

    def __post_init__(self) -> None:
        if not 1 <= len(self.fields) <= 5:
            raise ValueError("a form has 1 to 5 fields")

    @property
    def custom_id(self) -> str:
        return f"{CUSTOM_ID_PREFIX}:{self.form_id}:{self.arg}"


@dataclass(frozen=True)
class Field:
    label: Msg | UserText
    value: Text
    inline: bool = False


@dataclass(frozen=True)
class Attachment:
    filename: str
    data: bytes
    description: Msg | None = None


@dataclass
class Reply:
    """What a command answers."""

    text: Text | None = None
    title: Text | None = None
    fields: list[Field] = field(default_factory=list)
    buttons: list[Button] = field(default_factory=list)
    form: Form | None = None
    attachments: list[Attachment] = field(default_factory=list)
    visibility: Visibility = Visibility.ONLY_YOU
    is_error: bool = False
    locale: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    followups: list[Reply] = field(default_factory=list)
    """Further private messages after this one (the welcome on first contact)."""

    @classmethod
    def say(cls, key: str, **params: Any) -> Reply:
        return cls(text=Msg(key, params))

    @classmethod
    def error(cls, key: str, **params: Any) -> Reply:
        return cls(text=Msg(key, params), is_error=True)
