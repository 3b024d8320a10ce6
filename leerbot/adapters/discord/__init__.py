"""The Discord front end (discord.py 2.x): slash commands from the declared registry,
replies as embeds, buttons, modals and files, and the platform for scheduled work."""

from __future__ import annotations

from leerbot.adapters.discord.client import (
    LeerbotClient,
    bot_permissions,
    identity_of,
    invite_url,
    leerbot_intents,
)
from leerbot.adapters.discord.commands import application_commands
from leerbot.adapters.discord.errors import DiscordLoginFailed, DiscordTokenMissing
from leerbot.adapters.discord.platform import DiscordPlatform
from leerbot.adapters.discord.runner import run_discord

__all__ = [
    "DiscordLoginFailed",
    "DiscordPlatform",
    "DiscordTokenMissing",
    "LeerbotClient",
    "application_commands",
    "bot_permissions",
    "identity_of",
    "invite_url",
    "leerbot_intents",
    "run_discord",
]
