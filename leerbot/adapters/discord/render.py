"""A platform-neutral `Reply` as Discord sees it: one embed, buttons, files, or a modal.

Discord's limits are respected by shortening politely (with "…") instead of failing: a
member should get a slightly shorter answer rather than "the application did not respond".
Every message goes out with `AllowedMentions.none()`: text written by members (and our
own) can never ping anyone.

Views and modals are built for their components only and stopped before sending, so
discord.py does not keep them in its view store: a click arrives in `on_interaction`
and is dispatched by its custom_id, which also works after a restart.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import discord

from leerbot.chat.reply import (
    CUSTOM_ID_PREFIX,
    MAX_CUSTOM_ID,
    Button,
    ButtonStyle,
    Form,
    Mention,
    Reply,
    Text,
    UserText,
    Visibility,
)
from leerbot.i18n import translate

CONTENT_LIMIT = 2000
EMBED_TOTAL = 6000
TITLE_LIMIT = 256
DESCRIPTION_LIMIT = 4096
FIELD_COUNT = 25
FIELD_NAME_LIMIT = 256
FIELD_VALUE_LIMIT = 1024
BUTTON_LABEL_LIMIT = 80
BUTTONS_PER_ROW = 5
ROWS = 5
MODAL_TITLE_LIMIT = 45
LABEL_LIMIT = 45
PLACEHOLDER_LIMIT = 100
TEXT_INPUT_LIMIT = 4000
EMPTY = "\u200b"  # Discord refuses empty field names and values

COLOUR = discord.Colour(0x2E7D6B)  # calm green
ERROR_COLOUR = discord.Colour(0xB3541E)  # warm orange, not alarm red

NO_PINGS = discord.AllowedMentions.none()

BUTTON_STYLES: dict[ButtonStyle, discord.ButtonStyle] = {
    ButtonStyle.PRIMARY: discord.ButtonStyle.primary,
    ButtonStyle.SECONDARY: discord.ButtonStyle.secondary,
    ButtonStyle.SUCCESS: discord.ButtonStyle.success,
    ButtonStyle.DANGER: discord.ButtonStyle.danger,
}

# In a DM there is no server in the interaction, so buttons sent there carry it:
# "lbg:<guild id>:<action>:<arg>" instead of "lb:<action>:<arg>".
PLACED_PREFIX = "lbg"


def clip(text: str, limit: int) -> str:
    """Shorten to `limit` characters, ending with "…" when something was cut."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def text_of(value: Text | None, locale: str) -> str:
    """Render a text for Discord: channel and role mentions as Discord shows them."""
    if value is None:
        return ""
    if isinstance(value, Mention):
        return f"<#{value.platform_id}>" if value.kind == "channel" else f"<@&{value.platform_id}>"
    if isinstance(value, UserText):
        return value.text
    return value.render(locale)


def place_custom_id(custom_id: str, guild_id: str | None) -> str:
    """Carry the server in a custom_id for messages outside a server (DMs)."""
    if guild_id is None or not custom_id.startswith(CUSTOM_ID_PREFIX + ":"):
        return custom_id
    placed = f"{PLACED_PREFIX}:{guild_id}:{custom_id[len(CUSTOM_ID_PREFIX) + 1 :]}"
    return placed if len(placed) <= MAX_CUSTOM_ID else custom_id


def unplace_custom_id(custom_id: str) -> tuple[str | None, str]:
    """(guild id or None, our plain custom_id)."""
    parts = custom_id.split(":", 2)
    if len(parts) == 3 and parts[0] == PLACED_PREFIX and parts[1].isdigit():
        return parts[1], f"{CUSTOM_ID_PREFIX}:{parts[2]}"
    return None, custom_id


def embed_for(reply: Reply, locale: str) -> discord.Embed:
    """Title, text and fields as one embed within Discord's limits (6000 in total)."""
    title = clip(text_of(reply.title, locale), TITLE_LIMIT) or None
    budget = EMBED_TOTAL - len(title or "")
    description = clip(text_of(reply.text, locale), min(DESCRIPTION_LIMIT, budget)) or None
    budget -= len(description or "")
    embed = discord.Embed(
        title=title,
        description=description,
        colour=ERROR_COLOUR if reply.is_error else COLOUR,
    )
    more = translate(locale, "discord.more_fields", count=len(reply.fields))
    reserve = len(more) + 1  # room to say that fields were left out
    for index, item in enumerate(reply.fields):
        left = len(reply.fields) - index
        last_slot = index == FIELD_COUNT - 1 and left > 1
        name = clip(text_of(item.label, locale), FIELD_NAME_LIMIT) or EMPTY
        value = clip(text_of(item.value, locale), FIELD_VALUE_LIMIT) or EMPTY
        room = budget - len(name) - (reserve if left > 1 else 0)
        if last_slot or room < min(len(value), 20):
            note = translate(locale, "discord.more_fields", count=left)
            embed.add_field(name="…", value=clip(note, FIELD_VALUE_LIMIT), inline=False)
            break
        value = clip(value, room)
        embed.add_field(name=name, value=value, inline=item.inline)
        budget -= len(name) + len(value)
    return embed


def view_for(buttons: list[Button], locale: str, guild_id: str | None = None) -> discord.ui.View:
    """Buttons in rows of five; stopped, so discord.py does not store it (see module doc)."""
    view = discord.ui.View(timeout=None)
    for index, button in enumerate(buttons[: BUTTONS_PER_ROW * ROWS]):
        view.add_item(
            discord.ui.Button(
                label=clip(text_of(button.label, locale), BUTTON_LABEL_LIMIT) or EMPTY,
                custom_id=place_custom_id(button.custom_id, guild_id),
                style=BUTTON_STYLES.get(button.style, discord.ButtonStyle.secondary),
                row=index // BUTTONS_PER_ROW,
            )
        )
    view.stop()
    return view


def modal_for(form: Form, locale: str, guild_id: str | None = None) -> discord.ui.Modal:
    """A modal with one labelled text input per form field (custom_id = the field name)."""
    modal = discord.ui.Modal(
        title=clip(text_of(form.title, locale), MODAL_TITLE_LIMIT) or EMPTY,
        custom_id=place_custom_id(form.custom_id, guild_id),
        timeout=None,
    )
    for item in form.fields:
        max_length = min(item.max_length, TEXT_INPUT_LIMIT)
        text_input: discord.ui.TextInput[Any] = discord.ui.TextInput(
            custom_id=item.name,
            style=discord.TextStyle.paragraph if item.paragraph else discord.TextStyle.short,
            required=item.required,
            max_length=max_length,
            min_length=min(item.min_length, max_length) or None,
            default=clip(item.default, max_length) if item.default else None,
            placeholder=clip(text_of(item.placeholder, locale), PLACEHOLDER_LIMIT) or None,
        )
        label = text_of(item.label, locale)
        modal.add_item(
            discord.ui.Label(
                text=clip(label, LABEL_LIMIT) or EMPTY,
                # a label longer than Discord allows is shown whole as the description
                description=clip(label, 100) if len(label) > LABEL_LIMIT else None,
                component=text_input,
            )
        )
    modal.stop()
    return modal


@dataclass
class Message:
    """Keyword arguments for discord.py's send methods (minus `ephemeral` for channels)."""

    content: str | None = None
    embed: discord.Embed | None = None
    view: discord.ui.View | None = None
    files: list[discord.File] = field(default_factory=list)
    ephemeral: bool = True

    def kwargs(self, *, for_interaction: bool = True) -> dict[str, Any]:
        out: dict[str, Any] = {"allowed_mentions": NO_PINGS}
        if self.content is not None:
            out["content"] = self.content
        if self.embed is not None:
            out["embed"] = self.embed
        if self.view is not None:
            out["view"] = self.view
        if self.files:
            out["files"] = self.files
        if for_interaction:
            out["ephemeral"] = self.ephemeral
        return out

    def edit_kwargs(self) -> dict[str, Any]:
        """For editing a message: replace everything (old text, embed and buttons go)."""
        return {
            "content": self.content,
            "embed": self.embed,
            "view": self.view,
            "attachments": list(self.files),  # old files go: a removed answer must not stay
            "allowed_mentions": NO_PINGS,
        }


def is_private(reply: Reply) -> bool:
    """Errors and only-you replies are ephemeral: nobody else sees a refusal."""
    return reply.is_error or reply.visibility is Visibility.ONLY_YOU


def message_for(reply: Reply, locale: str, guild_id: str | None = None) -> Message:
    """Everything of a reply except its form (see `modal_for`).

    A short plain reply is sent as text (it reads like a chat message); anything with a
    title, fields or a long text becomes an embed. `guild_id` is given for DMs only.
    """
    plain = text_of(reply.text, locale)
    message = Message(ephemeral=is_private(reply))
    if reply.title is None and not reply.fields and plain:
        if len(plain) <= CONTENT_LIMIT:
            message.content = plain
        else:
            message.embed = embed_for(reply, locale)
    elif reply.title is not None or reply.fields or plain:
        message.embed = embed_for(reply, locale)
    if reply.buttons:
        message.view = view_for(reply.buttons, locale, guild_id)
    for attachment in reply.attachments[:10]:
        message.files.append(
            discord.File(
                io.BytesIO(attachment.data),
                filename=attachment.filename,
                description=clip(text_of(attachment.description, locale), 1024) or None,
            )
        )
    if message.content is None and message.embed is None and not message.files:
        message.content = EMPTY  # Discord refuses a message without anything in it
    return message
