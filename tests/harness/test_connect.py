"""Connecting: login, READY with the declared community, gateway encodings, refusals."""

from __future__ import annotations

import json
import zlib

import aiohttp
import discord
import pytest

from leerbot.testing import FakeDiscord, run_fake_discord
from tests.harness.conftest import Community, bare_client


async def test_ready_carries_guild_members_roles_and_channels(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        assert client.user is not None and client.user.id == fake_discord.bot_user.id
        guild = client.get_guild(c.guild.id)
        assert guild is not None and guild.name == "Community of Learners"
        assert {m.display_name for m in guild.members} >= {"Alice", "Bob", "Carol", "leerbot"}
        assert guild.get_member(c.alice.id).get_role(c.facilitator.id) is not None
        assert guild.get_member(c.alice.id).guild_permissions.manage_guild
        assert not guild.get_member(c.bob.id).guild_permissions.manage_guild
        assert [ch.name for ch in guild.text_channels] == ["agenda", "algemeen"]
        assert guild.get_channel(c.agenda.id).topic == "Wat we bespreken"
        assert guild.preferred_locale == discord.Locale.dutch
        assert client.application_id == fake_discord.application_id
    # discord.py asks for zlib-stream, as in production, and IDENTIFY was sent once.
    assert fake_discord.gateway.identify_count == 1


async def test_wrong_token_is_a_login_failure(fake_discord: FakeDiscord) -> None:
    client, _ = bare_client()
    with pytest.raises(discord.LoginFailure):
        async with fake_discord.running_client(client, token="not-the-token"):
            pass


async def test_privileged_intent_not_enabled_is_refused() -> None:
    async with run_fake_discord(lambda f: f.add_guild("G") and None, privileged_intents=0) as fake:
        client, _ = bare_client(discord.Intents.all())
        with pytest.raises(discord.PrivilegedIntentsRequired):
            async with fake.running_client(client):
                pass
        # Without privileged intents the same bot connects, and sees only itself as member.
        client, _ = bare_client(discord.Intents.default())
        async with fake.running_client(client):
            assert [m.id for m in client.guilds[0].members] == [fake.bot_user.id]


async def _raw_identify(fake: FakeDiscord, compress: bool) -> list[dict[str, object]]:
    """Speak the gateway protocol by hand; return HELLO, READY and GUILD_CREATE."""
    query = "?v=10&encoding=json" + ("&compress=zlib-stream" if compress else "")
    inflator = zlib.decompressobj()
    received: list[dict[str, object]] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(fake.gateway_url + query) as ws,
    ):

        async def next_payload() -> dict[str, object]:
            msg = await ws.receive(timeout=5)
            if compress:
                assert msg.type is aiohttp.WSMsgType.BINARY
                assert msg.data.endswith(b"\x00\x00\xff\xff")
                return json.loads(inflator.decompress(msg.data))
            assert msg.type is aiohttp.WSMsgType.TEXT
            return json.loads(msg.data)

        received.append(await next_payload())
        await ws.send_str(json.dumps({"op": 1, "d": None}))
        assert (await next_payload())["op"] == 11
        await ws.send_str(
            json.dumps({"op": 2, "d": {"token": fake.token, "intents": 513, "properties": {}}})
        )
        received.append(await next_payload())
        received.append(await next_payload())
    return received


@pytest.mark.parametrize("compress", [True, False], ids=["zlib-stream", "plain-json"])
async def test_gateway_speaks_zlib_stream_and_plain_json(
    fake_discord: FakeDiscord, c: Community, compress: bool
) -> None:
    hello, ready, guild_create = await _raw_identify(fake_discord, compress)
    assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
    assert ready["t"] == "READY" and ready["s"] == 1
    assert ready["d"]["resume_gateway_url"] == fake_discord.gateway_url
    assert guild_create["t"] == "GUILD_CREATE" and guild_create["s"] == 2
    # Without the members intent, GUILD_CREATE lists only the bot as member.
    assert [m["user"]["id"] for m in guild_create["d"]["members"]] == [
        str(fake_discord.bot_user.id)
    ]


async def test_gateway_bot_hands_out_the_fake_address(fake_discord: FakeDiscord) -> None:
    client = discord.AutoShardedClient(intents=discord.Intents.default())
    async with fake_discord.running_client(client):
        assert client.shard_count == 1
    assert any(r.route == "GET /gateway/bot" for r in fake_discord.requests)


async def test_member_chunks_are_served_when_the_client_asks(
    fake_discord: FakeDiscord, c: Community
) -> None:
    intents = discord.Intents.default()
    intents.members = True  # members but no presences: discord.py requests chunks (op 8)
    client, _ = bare_client(intents)
    async with fake_discord.running_client(client):
        guild = client.get_guild(c.guild.id)
        assert guild.chunked
        assert {m.id for m in guild.members} >= {c.alice.id, c.bob.id, c.carol.id}
    assert any(p["op"] == 8 for p in fake_discord.gateway.received)
