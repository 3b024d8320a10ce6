"""`leerbot run`: connect to Discord with the configured token and serve until stopped."""

from __future__ import annotations

import logging

import discord

from leerbot.adapters.discord.client import LeerbotClient
from leerbot.adapters.discord.errors import DiscordLoginFailed, DiscordTokenMissing
from leerbot.app import App

log = logging.getLogger("leerbot.discord")

# discord.py logs request bodies (discord.http) and received events (discord.gateway) at
# DEBUG: that would put members' private texts in the log file. discord.ui.view logs the
# custom ids of forms it does not know (ours carry an anonymous answer's token) and
# discord.webhook logs follow-up URLs with interaction tokens. Never below INFO.
PRIVATE_LOGGERS = (
    "discord.http",
    "discord.gateway",
    "discord.client",
    "discord.state",
    "discord.ui",
    "discord.webhook",
)


def _quiet_private_loggers() -> None:
    for name in PRIVATE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.INFO:
            logger.setLevel(logging.INFO)


async def run_discord(app: App, **client_kwargs: object) -> None:
    """Serve the community on Discord until the connection is closed.

    Raises DiscordTokenMissing / DiscordLoginFailed (with `key` "token_invalid",
    "intents_missing" or "discord_unreachable") so the CLI can explain what to do. The
    token itself never appears in an exception or a log line.
    """
    secret = app.settings.discord.token
    token = secret.get_secret_value().strip() if secret is not None else ""
    if not token:
        raise DiscordTokenMissing()
    _quiet_private_loggers()
    client = LeerbotClient(app.dispatcher, app.settings, **client_kwargs)  # type: ignore[arg-type]

    async def start_scheduler() -> None:
        await app.start_scheduler(client.platform)
        log.info("scheduled work started")

    async def stop_scheduler() -> None:
        if app.scheduler is not None:
            await app.scheduler.stop()

    client.ready_hooks.append(start_scheduler)
    client.close_hooks.append(stop_scheduler)
    failure: DiscordLoginFailed | None = None
    try:
        async with client:
            await client.start(token)
    except discord.LoginFailure:
        failure = DiscordLoginFailed("token_invalid")
    except discord.PrivilegedIntentsRequired:
        failure = DiscordLoginFailed("intents_missing")
    except discord.HTTPException as exc:
        # e.g. Discord refused the command list while syncing in setup_hook
        log.error("Discord refused a request at start: %s %s", exc.status, exc.code)
        failure = DiscordLoginFailed("commands_refused")
    except (OSError, discord.GatewayNotFound):
        # aiohttp's connection errors are OSErrors: they must not read as a database problem
        failure = DiscordLoginFailed("discord_unreachable")
    if failure is not None:
        log.error("could not connect to Discord: %s", failure.key)
        raise failure from None
