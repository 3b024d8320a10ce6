"""Pytest fixtures for the fake Discord.

Use from a conftest.py::

    from leerbot.testing import pytest_plugin

    fake_discord = pytest_plugin.fake_discord

then override ``fake_discord_setup`` to declare the community, and take ``fake_discord`` in
a test. The fixture fails the test at teardown if the bot sent any request Discord would
refuse (unless the test wrapped it in ``fake.expect_violation()``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from leerbot.testing.api import FakeDiscord, Setup, run_fake_discord


@pytest.fixture
def fake_discord_setup() -> Setup | None:
    """Override to declare guilds, roles, members and channels before the fake starts."""
    return None


@pytest.fixture
def fake_discord_options() -> dict[str, object]:
    """Override to pass options to :class:`FakeDiscord` (e.g. ``global_rate_limit``)."""
    return {}


@pytest.fixture
async def fake_discord(
    fake_discord_setup: Setup | None, fake_discord_options: dict[str, object]
) -> AsyncIterator[FakeDiscord]:
    """A started fake Discord with discord.py pointed at it; violations fail the test."""
    async with run_fake_discord(
        fake_discord_setup, check_violations=False, **fake_discord_options
    ) as fake:
        yield fake
    fake.assert_no_violations()
