"""`leerbot run`: connect to Discord with the configured token and serve until stopped.

Stopping (SIGTERM from `docker stop`, or Ctrl-C: `leerbot.cli` sets the `stop` event): new
commands, buttons and forms are answered with "try again in a minute"; commands already
being handled and running scheduled jobs get `STOP_SECONDS` to finish (a job not done by then
is handed back and runs again at the next start); the lease on scheduled work is given back;
then the connection to Discord closes, and the database after it. Well within Docker's 10 s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import discord

from leerbot.adapters.discord.client import LeerbotClient
from leerbot.adapters.discord.errors import DiscordLoginFailed, DiscordTokenMissing
from leerbot.app import App
from leerbot.scheduling import STOP_SECONDS

log = logging.getLogger("leerbot.discord")

DISCORD_URL_ENV = "LEERBOT_DISCORD_URL"
"""Talk to another Discord than discord.com: the local fake of `leerbot.testing` (its REST
API under /api/v10, its gateway at /), for end-to-end tests and CI. Never set in production."""

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


def discord_server(platform_id: str) -> bool:
    """The communities a bot serves: Discord servers (their ids are numbers), not the
    console's local community."""
    return platform_id.isdigit()


def _point_at(url: str) -> None:
    import yarl
    from discord.gateway import DiscordWebSocket
    from discord.http import Route

    base = url.rstrip("/")
    log.warning("%s is set: talking to %s, not to Discord", DISCORD_URL_ENV, base)
    Route.BASE = base + "/api/v10"
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        base.replace("http://", "ws://", 1).replace("https://", "wss://", 1) + "/"
    )


def gateway_alive(client: discord.Client) -> bool:
    """The bot's connection to Discord works now: ready, open, not closing. discord.py closes
    and reconnects a connection whose heartbeats Discord stops acknowledging."""
    ws = client.ws
    return client.is_ready() and not client.is_closed() and ws is not None and ws.open


async def run_discord(
    app: App, *, stop: asyncio.Event | None = None, **client_kwargs: object
) -> None:
    """Serve the community on Discord until the connection is closed, or `stop` is set.

    Raises DiscordTokenMissing / DiscordLoginFailed (with `key` "token_invalid",
    "intents_missing" or "discord_unreachable") so the CLI can explain what to do. The
    token itself never appears in an exception or a log line.
    """
    secret = app.settings.discord.token
    token = secret.get_secret_value().strip() if secret is not None else ""
    if not token:
        raise DiscordTokenMissing()
    _quiet_private_loggers()
    if os.environ.get(DISCORD_URL_ENV):
        _point_at(os.environ[DISCORD_URL_ENV])
    client = LeerbotClient(app.dispatcher, app.settings, **client_kwargs)  # type: ignore[arg-type]

    async def start_scheduler() -> None:
        if stop is not None and stop.is_set():
            return
        scheduler = app.make_scheduler(client.platform, kind="bot", serves=discord_server)
        scheduler.gateway = lambda: gateway_alive(client)
        await scheduler.start()
        log.info("scheduled work started")

    async def stop_serving() -> None:
        """Before the connection closes, so that work in flight can still reach Discord."""
        waits = [app.dispatcher.close(STOP_SECONDS)]
        if app.scheduler is not None:
            waits.append(app.scheduler.stop(STOP_SECONDS))
        await asyncio.gather(*waits)

    async def watch() -> None:
        assert stop is not None
        await stop.wait()
        log.info("stopping: no new interactions; work in flight finishes or is handed back")
        await client.close()

    client.ready_hooks.append(start_scheduler)
    client.close_hooks.append(stop_serving)
    watcher = asyncio.create_task(watch()) if stop is not None else None
    failure: DiscordLoginFailed | None = None
    try:
        async with client:
            if stop is None or not stop.is_set():
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
    finally:
        if watcher is not None:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher
    if failure is not None and stop is not None and stop.is_set():
        log.info("stopped while connecting (%s)", failure.key)
        return
    if failure is not None:
        log.error("could not connect to Discord: %s", failure.key)
        raise failure from None
