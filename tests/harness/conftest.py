"""Fixtures for the harness's own tests: a small community and a bare discord.py client."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import discord
import pytest
from discord import app_commands

from leerbot.testing import FakeDiscord, pytest_plugin
from leerbot.testing.state import Channel, Guild, Member, Role

# The reusable fixture; the bot's e2e tests take it the same way.
fake_discord = pytest_plugin.fake_discord


@dataclass
class Community:
    """Handles on the declared world, for assertions."""

    guild: Guild
    facilitator: Role
    alice: Member
    bob: Member
    carol: Member
    agenda: Channel
    general: Channel


@pytest.fixture
def community() -> dict[str, Community]:
    """Filled in by the setup below when the fake starts."""
    return {}


@pytest.fixture
def fake_discord_setup(community: dict[str, Community]) -> Callable[[FakeDiscord], None]:
    def setup(fake: FakeDiscord) -> None:
        guild = fake.add_guild("Community of Learners", locale="nl")
        facilitator = fake.add_role(guild, "Facilitator", permissions=1 << 5)  # manage_guild
        alice = fake.add_member(guild, "Alice", roles=[facilitator], locale="nl")
        bob = fake.add_member(guild, "Bob", locale="en-GB")
        carol = fake.add_member(guild, "Carol", dms_open=False)
        agenda = fake.add_channel(guild, "agenda", topic="Wat we bespreken")
        general = fake.add_channel(guild, "algemeen")
        community["c"] = Community(guild, facilitator, alice, bob, carol, agenda, general)

    return setup


@pytest.fixture
def fake_discord_options() -> dict[str, object]:
    # Every response the fake sends in these tests is checked against the OpenAPI document.
    return {"validate_responses": True}


@pytest.fixture
def c(community: dict[str, Community], fake_discord: FakeDiscord) -> Community:
    return community["c"]


def bare_client(
    intents: discord.Intents | None = None,
) -> tuple[discord.Client, app_commands.CommandTree[discord.Client]]:
    """A tiny discord.py client with a command tree (not the leerbot bot)."""
    client = discord.Client(intents=intents or discord.Intents.all())
    return client, app_commands.CommandTree(client)
