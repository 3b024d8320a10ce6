"""A faithful local fake of Discord for tests: gateway websocket and REST on loopback.

The unmodified discord.py client connects to it; every request is checked against Discord's
OpenAPI document and limits. See ``leerbot/testing/README.md``.
"""

from leerbot.testing.api import (
    FakeDiscord,
    InteractionRecord,
    InteractionRefused,
    Modal,
    Reply,
    run_fake_discord,
)
from leerbot.testing.rest import Violation

__all__ = [
    "FakeDiscord",
    "InteractionRecord",
    "InteractionRefused",
    "Modal",
    "Reply",
    "Violation",
    "run_fake_discord",
]
