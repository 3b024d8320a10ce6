"""A community on the local fake Discord with the real LeerbotClient connected to it.

`discord_world` builds the server (channels, roles, members in two languages), opens the
app on the test database (`settings` from tests/conftest.py: SQLite, or PostgreSQL when
LEERBOT_TEST_DATABASE_URL is set), and runs the client until the test is done. On the way
out it fails the test when Discord would have refused a request (the fake's OpenAPI check)
or when the bot logged an error nobody expected.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from leerbot.adapters.discord import LeerbotClient
from leerbot.adapters.discord.runner import discord_server
from leerbot.app import App, open_app
from leerbot.config import DiscordSettings, Settings
from leerbot.testing import FakeDiscord, run_fake_discord
from leerbot.testing.state import ADMINISTRATOR, GUILD_VOICE, Channel, Guild, Member, Role


@dataclass
class World:
    """The server as members know it, and the running bot."""

    fake: FakeDiscord
    guild: Guild
    admin: Member  # server administrator, Dutch
    sanne: Member  # member, Dutch
    kees: Member  # member, Discord in English (en-US)
    closed: Member  # does not accept DMs
    coordinators: Role
    general: Channel
    announcements: Channel
    agenda: Channel
    sessions: Channel
    voice: Channel
    app: App
    client: LeerbotClient
    logs: list[logging.LogRecord] = field(default_factory=list)


def _declare(fake: FakeDiscord) -> dict[str, Any]:
    guild = fake.add_guild("Community of Learners", locale="nl")
    beheer = fake.add_role(guild, "Beheer", permissions=ADMINISTRATOR)
    coordinators = fake.add_role(guild, "Coördinatoren")
    return {
        "guild": guild,
        "coordinators": coordinators,
        "general": fake.add_channel(guild, "algemeen"),
        "announcements": fake.add_channel(guild, "aankondigingen"),
        "agenda": fake.add_channel(guild, "ontwikkelagenda"),
        "sessions": fake.add_channel(guild, "intervisie"),
        "voice": fake.add_channel(guild, "Intervisie spraak", type=GUILD_VOICE),
        "admin": fake.add_member(guild, "Anna Beheer", roles=[beheer], locale="nl"),
        "sanne": fake.add_member(guild, "Sanne", locale="nl"),
        "kees": fake.add_member(guild, "Kees", locale="en-US"),
        "closed": fake.add_member(guild, "Bram", locale="nl", dms_open=False),
    }


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.asynccontextmanager
async def discord_world(
    settings: Settings, *, guild_commands: bool = True, scheduler: bool = False
) -> AsyncIterator[World]:
    """The fake server with the bot connected; commands synced to the server (fast, like a
    test server) or globally."""
    declared: dict[str, Any] = {}

    def setup(fake: FakeDiscord) -> None:
        declared.update(_declare(fake))

    capture = _Capture()
    logger = logging.getLogger("leerbot")
    logger.addHandler(capture)
    previous = logger.level
    logger.setLevel(logging.INFO)
    try:
        async with run_fake_discord(setup) as fake:
            guild_id = declared["guild"].id if guild_commands else None
            configured = settings.model_copy(
                update={"discord": DiscordSettings(test_guild_id=guild_id)}
            )
            async with open_app(configured) as app:
                client = LeerbotClient(app.dispatcher, configured)
                if scheduler:  # as run_discord: a bot, for the Discord servers only
                    client.ready_hooks.append(
                        lambda: app.start_scheduler(client.platform, serves=discord_server)
                    )

                    async def stop_scheduler() -> None:  # as run_discord: before the socket
                        if app.scheduler is not None:
                            await app.scheduler.stop()

                    client.close_hooks.append(stop_scheduler)
                async with fake.running_client(client):
                    yield World(fake=fake, app=app, client=client, logs=capture.records, **declared)
    finally:
        logger.removeHandler(capture)
        logger.setLevel(previous)


def unexpected_errors(world: World) -> list[str]:
    return [r.getMessage() for r in world.logs if r.levelno >= logging.ERROR]


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    async with discord_world(settings) as opened:
        yield opened
        errors = unexpected_errors(opened)
        assert not errors, f"the bot logged errors: {errors}"
        # buttons and forms are dispatched by custom_id: discord.py keeps no view or modal
        store = opened.client._connection._view_store
        assert not store._views and not store._modals and not store._synced_message_views
