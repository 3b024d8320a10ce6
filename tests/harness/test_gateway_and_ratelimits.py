"""Back-pressure (429s) and a dropped gateway connection that resumes without loss."""

from __future__ import annotations

import asyncio

import aiohttp
import discord

from leerbot.testing import FakeDiscord
from tests.harness.conftest import Community, bare_client


async def test_global_429_is_retried_and_every_message_arrives(
    fake_discord: FakeDiscord, c: Community
) -> None:
    fake_discord.rest.limiter.set_global(4, 0.3)
    channels = [fake_discord.add_channel(c.guild, f"kanaal-{i}") for i in range(8)]
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        # Eight channels, so eight per-route buckets: only the global limit can bite.
        await asyncio.gather(
            *(
                client.get_partial_messageable(ch.id).send(f"Bericht {i}")
                for i, ch in enumerate(channels)
            )
        )
    assert [len(fake_discord.messages(ch)) for ch in channels] == [1] * 8
    served = fake_discord.rest.limiter.served_429
    assert served and all(is_global for _, _, is_global in served)


async def test_per_route_bucket_slows_the_client_down(
    fake_discord: FakeDiscord, c: Community
) -> None:
    route = "POST /channels/{channel_id}/messages"
    limiter = fake_discord.rest.limiter
    limiter.set_route(route, 2, 0.25)
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        channel = client.get_channel(c.agenda.id)
        await asyncio.gather(*(channel.send(f"Bericht {i}") for i in range(6)))
    assert sorted(m.content for m in fake_discord.messages(c.agenda)) == [
        f"Bericht {i}" for i in range(6)
    ]
    # At most two per window, so at least three windows (a busy machine may need more,
    # never fewer), and not one refusal: discord.py read the headers and waited for each
    # reset instead of running into 429s. Counted by the fake's limiter, not a stopwatch.
    assert limiter.windows(route) >= 3
    assert [s for s in limiter.served_429 if s[0] == route] == []


async def test_429_shape_and_headers(fake_discord: FakeDiscord, c: Community) -> None:
    limiter = fake_discord.rest.limiter
    limiter.set_route("POST /channels/{channel_id}/messages", 1, 5.0)
    # The limiter's clocks stand still: both requests fall in the first moment of the window
    # however long the machine takes between them.
    limiter.clock = lambda: 100.0
    limiter.wall = lambda: 1_800_000_000.0
    url = f"{fake_discord.base_url}/api/v10/channels/{c.agenda.id}/messages"
    headers = {"Authorization": f"Bot {fake_discord.token}"}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, json={"content": "een"}, headers=headers) as first:
            assert first.status == 200
            assert first.headers["X-RateLimit-Limit"] == "1"
            assert first.headers["X-RateLimit-Remaining"] == "0"
            assert first.headers["X-RateLimit-Reset-After"] == "5.000"
            assert first.headers["X-RateLimit-Reset"] == "1800000005.000"
            bucket = first.headers["X-RateLimit-Bucket"]
        async with session.post(url, json={"content": "twee"}, headers=headers) as second:
            assert second.status == 429
            assert second.headers["Content-Type"] == "application/json"
            assert second.headers["X-RateLimit-Scope"] == "user"
            assert second.headers["X-RateLimit-Bucket"] == bucket
            assert second.headers["Retry-After"] == "5"
            assert second.headers["Via"]
            body = await second.json()
    assert body["message"] == "You are being rate limited."
    assert body["global"] is False and body["retry_after"] == 5.0
    assert [m.content for m in fake_discord.messages(c.agenda)] == ["een"]


async def test_interaction_callbacks_are_exempt_from_the_global_limit(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, tree = bare_client()

    @tree.command(name="ping", description="Pong")
    async def ping(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("pong", ephemeral=True)

    client.setup_hook = lambda: tree.sync()  # type: ignore[method-assign]
    async with fake_discord.running_client(client):
        fake_discord.rest.limiter.set_global(1, 60.0)
        replies = await asyncio.gather(*(fake_discord.slash(c.bob, "ping") for _ in range(5)))
    assert [r.content for r in replies] == ["pong"] * 5
    assert fake_discord.rest.limiter.served_429 == []


async def test_dropped_connection_resumes_and_replays_missed_events(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    said: list[str] = []
    resumed: list[bool] = []

    @client.event
    async def on_message(message: discord.Message) -> None:
        said.append(message.content)

    @client.event
    async def on_resumed() -> None:
        resumed.append(True)

    async with fake_discord.running_client(client):
        await fake_discord.send_message(c.bob, c.general, "voor")
        await fake_discord.wait_until(lambda: said == ["voor"], what="the first message")
        await fake_discord.drop_connection()
        # Dispatched while the bot is away: buffered in the session, replayed on RESUME.
        await fake_discord.send_message(c.bob, c.general, "tijdens 1")
        await fake_discord.send_message(c.alice, c.general, "tijdens 2")
        await fake_discord.wait_for_resume()
        await fake_discord.wait_until(lambda: len(said) == 3 and resumed, what="the replay")
        await fake_discord.send_message(c.bob, c.general, "na")
        await fake_discord.wait_until(lambda: len(said) == 4, what="a message after RESUME")
    assert said == ["voor", "tijdens 1", "tijdens 2", "na"]
    assert fake_discord.gateway.identify_count == 1  # resumed, not re-identified
    assert fake_discord.gateway.resume_count == 1


async def test_close_code_4000_also_resumes(fake_discord: FakeDiscord, c: Community) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        await fake_discord.drop_connection(4000)
        await fake_discord.wait_for_resume()
        assert client.is_ready()
    assert fake_discord.gateway.identify_count == 1
