"""Honesty: requests are checked against Discord's OpenAPI document and limits."""

from __future__ import annotations

import discord
import pytest
from discord import app_commands
from discord.http import Route

from leerbot.testing import FakeDiscord, openapi, run_fake_discord
from tests.harness.conftest import Community, bare_client


async def test_content_over_2000_characters_is_refused_and_recorded(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        with (
            fake_discord.expect_violation("content") as caught,
            pytest.raises(discord.HTTPException) as refused,
        ):
            await client.get_channel(c.agenda.id).send("x" * 2001)
    assert refused.value.status == 400 and refused.value.code == 50035
    assert "Must be 2000 or fewer in length." in refused.value.text
    assert caught[0].kind == "limit" and caught[0].operation == "create_message"
    assert fake_discord.messages(c.agenda) == []


async def test_malformed_raw_request_fails_with_the_schema_error(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=c.agenda.id)
        with (
            fake_discord.expect_violation() as caught,
            pytest.raises(discord.HTTPException) as refused,
        ):
            await client.http.request(
                route, json={"content": "hoi", "embeds": {"title": "x"}, "tts": "ja"}
            )
    assert refused.value.code == 50035
    [violation] = caught
    assert violation.kind == "schema"
    assert any(e.startswith("embeds:") for e in violation.errors)
    assert any(e.startswith("tts:") for e in violation.errors)
    assert refused.value.response.headers["Content-Type"] == "application/json"


async def test_unknown_route_and_bad_path_parameter_are_violations(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        with (
            fake_discord.expect_violation("not in Discord's OpenAPI document"),
            pytest.raises(discord.NotFound),
        ):
            await client.http.request(
                Route("GET", "/channels/{channel_id}/agenda", channel_id=c.agenda.id)
            )
        with fake_discord.expect_violation("channel_id"), pytest.raises(discord.HTTPException):
            await client.http.request(Route("GET", "/channels/{channel_id}", channel_id="agenda"))


async def test_embed_and_component_limits(fake_discord: FakeDiscord, c: Community) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        channel = client.get_channel(c.agenda.id)
        big = [discord.Embed(title="t", description="d" * 4000) for _ in range(2)]
        with (
            fake_discord.expect_violation("Embed size exceeds maximum size of 6000"),
            pytest.raises(discord.HTTPException),
        ):
            await channel.send(embeds=big)
        rows = [
            {
                "type": 1,
                "components": [
                    {"type": 2, "style": 1, "label": f"{r}{i}", "custom_id": f"b{r}{i}"}
                    for i in range(5)
                ],
            }
            for r in range(6)
        ]
        route = Route("POST", "/channels/{channel_id}/messages", channel_id=c.agenda.id)
        with (
            fake_discord.expect_violation("components: Must be 5 or fewer"),
            pytest.raises(discord.HTTPException),
        ):
            await client.http.request(route, json={"content": "x", "components": rows})


async def test_invalid_command_definitions_fail_the_sync(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, tree = bare_client()

    @tree.command(name="agenda", description="Agenda")
    @app_commands.choices(
        thema=[app_commands.Choice(name=f"keuze {i}", value=str(i)) for i in range(26)]
    )
    async def agenda(interaction: discord.Interaction, thema: str) -> None:
        raise AssertionError("never called")

    async with fake_discord.running_client(client):
        with fake_discord.expect_violation() as caught, pytest.raises(discord.HTTPException):
            await tree.sync()
        assert "choices" in str(caught[0])
        # Upper case names are refused by Discord although discord.py builds them.
        payload = [{"name": "Agenda", "description": "x", "type": 1}]
        route = Route(
            "PUT",
            "/applications/{application_id}/commands",
            application_id=fake_discord.application_id,
        )
        with (
            fake_discord.expect_violation("Command name is invalid"),
            pytest.raises(discord.HTTPException),
        ):
            await client.http.request(route, json=payload)
    assert fake_discord.commands.get(None, []) == []


async def test_fixture_teardown_fails_on_unexpected_violations() -> None:
    with pytest.raises(AssertionError, match="Discord would refuse") as failed:
        async with run_fake_discord(lambda f: f.add_guild("G") and None) as fake:
            guild = next(iter(fake.guilds.values()))
            channel = fake.add_channel(guild, "x")
            client, _ = bare_client()
            async with fake.running_client(client, allow_errors=True):
                with pytest.raises(discord.HTTPException):
                    await client.get_channel(channel.id).send("y" * 2001)
    assert "content: Must be 2000 or fewer in length." in str(failed.value)


async def test_fake_responses_follow_the_openapi_response_schemas(
    fake_discord: FakeDiscord, c: Community
) -> None:
    """The fake's own payloads validate against the document's response schemas."""
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        message = await client.get_channel(c.agenda.id).send(
            "hoi", embed=discord.Embed(title="t"), view=_one_button()
        )
        starter = await client.get_channel(c.agenda.id).send("draad")
        await starter.create_thread(name="draad")
    stored = next(m for m in fake_discord.messages(c.agenda) if m.id == message.id)
    thread = fake_discord.threads(c.agenda)[0]
    samples = {
        "MessageResponse": fake_discord._message_payload(stored),
        "GuildChannelResponse": c.agenda.to_payload(),
        "ThreadResponse": thread.to_payload(),
        "GuildMemberResponse": c.alice.to_payload(),
        "UserResponse": c.bob.user.to_payload(),
        "GuildRoleResponse": c.facilitator.to_payload(),
        "PrivateApplicationResponse": fake_discord.application_payload(),
        "PrivateChannelResponse": fake_discord.dm_channel(c.bob).to_payload(),
    }
    for schema, payload in samples.items():
        assert openapi.validate(openapi.schema_pointer(schema), payload) == [], schema
    # Every response during this suite is also checked (validate_responses=True): the
    # teardown fails on any "response" violation. Prove the check would notice one:
    broken = samples["MessageResponse"] | {"timestamp": 5}
    assert openapi.validate(openapi.schema_pointer("MessageResponse"), broken)


def _one_button() -> discord.ui.View:
    view = discord.ui.View()
    view.add_item(discord.ui.Button(label="Ja", custom_id="ja"))
    return view
