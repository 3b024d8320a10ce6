"""REST state as Discord keeps it: DMs, messages and files, threads, events, members, roles."""

from __future__ import annotations

import io
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import discord
import pytest

from leerbot.testing import FakeDiscord
from tests.harness.conftest import Community, bare_client


async def test_dm_to_open_member_arrives_and_closed_dms_are_50007(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        bob = await client.fetch_user(c.bob.id)
        waiter = fake_discord.wait_for_dm(c.bob)
        await bob.send("Welkom in de community!")
        assert (await waiter).content == "Welkom in de community!"
        assert [m.content for m in fake_discord.dms(c.bob)] == ["Welkom in de community!"]

        carol = client.get_guild(c.guild.id).get_member(c.carol.id)
        with pytest.raises(discord.Forbidden) as refused:
            await carol.send("Hallo")
        assert refused.value.status == 403
        assert refused.value.code == 50007
        assert refused.value.text == "Cannot send messages to this user"
        assert fake_discord.dms(c.carol) == []


async def test_messages_files_edits_history_and_deletes(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        channel = client.get_channel(c.agenda.id)
        sent = await channel.send(
            f"Agenda voor <@{c.alice.id}> en <@{c.bob.id}>",
            embed=discord.Embed(title="Agenda", description="1. Welkom"),
            file=discord.File(io.BytesIO(b"BEGIN:VCALENDAR"), filename="sessie.ics"),
            allowed_mentions=discord.AllowedMentions(users=[discord.Object(c.alice.id)]),
        )
        [stored] = fake_discord.messages(c.agenda)
        assert stored.id == sent.id and stored.embeds[0]["title"] == "Agenda"
        assert [(a.filename, a.data) for a in stored.attachments] == [
            ("sessie.ics", b"BEGIN:VCALENDAR")
        ]
        assert await sent.attachments[0].read() == b"BEGIN:VCALENDAR"
        # Only Alice is pinged: allowed_mentions is honoured.
        assert [u.id for u in sent.mentions] == [c.alice.id]

        edited = await sent.edit(content="Agenda (bijgewerkt)")
        assert edited.edited_at is not None
        fetched = await channel.fetch_message(sent.id)
        assert fetched.content == "Agenda (bijgewerkt)"
        assert len(fetched.attachments) == 1  # an edit without attachments keeps them

        second = await channel.send("Tweede")
        history = [m.id async for m in channel.history(limit=10)]
        assert history == [second.id, sent.id]  # newest first, as Discord

        await second.delete()
        with pytest.raises(discord.NotFound) as gone:
            await channel.fetch_message(second.id)
        assert gone.value.code == 10008

        # A member's message cannot be edited by the bot.
        theirs = await fake_discord.send_message(c.bob, c.agenda, "Mijn bericht")
        with pytest.raises(discord.Forbidden) as refused:
            await channel.get_partial_message(theirs.id).edit(content="x")
        assert refused.value.code == 50005


async def test_threads_from_message_and_private_with_members(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    created: list[discord.Thread] = []
    client.event(_collect("on_thread_create", created))
    async with fake_discord.running_client(client):
        channel = client.get_channel(c.agenda.id)
        starter = await channel.send("Intervisie 12 maart")
        public = await starter.create_thread(name="Intervisie 12 maart", auto_archive_duration=1440)
        assert public.id == starter.id  # Discord gives the thread the starter's id
        assert public.type is discord.ChannelType.public_thread
        with pytest.raises(discord.HTTPException) as twice:
            await starter.create_thread(name="Nog een")
        assert twice.value.code == 160004

        private = await channel.create_thread(
            name="Buddy Alice & Bob", type=discord.ChannelType.private_thread, invitable=False
        )
        await private.add_user(discord.Object(c.alice.id))
        await private.add_user(discord.Object(c.bob.id))
        await private.send("Welkom jullie twee")

        threads = fake_discord.threads(c.agenda)
        assert [t.name for t in threads] == ["Intervisie 12 maart", "Buddy Alice & Bob"]
        assert set(threads[1].thread_members) == {fake_discord.bot_user.id, c.alice.id, c.bob.id}
        assert [m.content for m in fake_discord.messages(threads[1])] == ["Welkom jullie twee"]
        await fake_discord.wait_until(lambda: len(created) == 2, what="THREAD_CREATE twice")
        assert {t.id for t in created} == {public.id, private.id}


def _collect(name: str, into: list[object]) -> Callable[[object], Awaitable[None]]:
    """An event handler named ``name`` that records what discord.py gives it."""

    async def handler(item: object) -> None:
        into.append(item)

    handler.__name__ = name
    return handler


async def test_scheduled_events_create_edit_delete(fake_discord: FakeDiscord, c: Community) -> None:
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        guild = client.get_guild(c.guild.id)
        start = datetime.now(UTC) + timedelta(days=7)
        event = await guild.create_scheduled_event(
            name="Herstelcafé",
            start_time=start,
            end_time=start + timedelta(hours=2),
            entity_type=discord.EntityType.external,
            location="Buurthuis De Brug",
            privacy_level=discord.PrivacyLevel.guild_only,
            description="Samen leren",
        )
        [stored] = fake_discord.scheduled_events(c.guild)
        assert (stored.id, stored.name, stored.location) == (
            event.id,
            "Herstelcafé",
            "Buurthuis De Brug",
        )
        edited = await event.edit(
            name="Herstelcafé (verzet)",
            start_time=start + timedelta(days=1),
            end_time=start + timedelta(days=1, hours=2),
        )
        assert edited.name == "Herstelcafé (verzet)"
        assert fake_discord.scheduled_events(c.guild)[0].name == "Herstelcafé (verzet)"
        assert [e.id for e in await guild.fetch_scheduled_events()] == [event.id]
        await event.delete()
        assert fake_discord.scheduled_events(c.guild) == []
        with pytest.raises(discord.NotFound):
            await guild.fetch_scheduled_event(event.id)
        # The gateway told the client, as Discord does (GUILD_SCHEDULED_EVENT_*).
        await fake_discord.wait_until(
            lambda: guild.get_scheduled_event(event.id) is None, what="GUILD_SCHEDULED_EVENT_DELETE"
        )

        past = datetime.now(UTC) - timedelta(days=1)
        with (
            fake_discord.expect_violation("Cannot schedule event in the past"),
            pytest.raises(discord.HTTPException) as refused,
        ):
            await guild.create_scheduled_event(
                name="Gisteren",
                start_time=past,
                end_time=past + timedelta(hours=1),
                entity_type=discord.EntityType.external,
                location="Online",
                privacy_level=discord.PrivacyLevel.guild_only,
            )
        assert refused.value.code == 50035


async def test_members_roles_and_hierarchy(fake_discord: FakeDiscord, c: Community) -> None:
    mentor = fake_discord.add_role(c.guild, "Mentor")
    boss = fake_discord.add_role(c.guild, "Bestuur", above_bot=True)
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        guild = client.get_guild(c.guild.id)
        fetched = await guild.fetch_member(c.bob.id)
        assert fetched.display_name == "Bob"
        assert {m.id async for m in guild.fetch_members(limit=None)} >= {c.alice.id, c.bob.id}

        await fetched.add_roles(discord.Object(mentor.id))
        assert mentor.id in c.bob.role_ids
        await fake_discord.wait_until(
            lambda: guild.get_member(c.bob.id).get_role(mentor.id) is not None,
            what="GUILD_MEMBER_UPDATE",
        )
        await fetched.remove_roles(discord.Object(mentor.id))
        assert mentor.id not in c.bob.role_ids

        with pytest.raises(discord.Forbidden) as refused:  # above the bot's own role
            await fetched.add_roles(discord.Object(boss.id))
        assert refused.value.code == 50013
        with pytest.raises(discord.NotFound) as unknown:
            await guild.fetch_member(12345678901234567)
        assert unknown.value.code == 10007


async def test_member_events_and_plain_messages_reach_the_client(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, _ = bare_client()
    joined: list[discord.Member] = []
    left: list[discord.Member] = []
    said: list[discord.Message] = []
    client.event(_collect("on_member_join", joined))
    client.event(_collect("on_member_remove", left))
    client.event(_collect("on_message", said))
    async with fake_discord.running_client(client):
        dave = await fake_discord.member_join(c.guild, "Dave")
        await fake_discord.wait_until(lambda: joined, what="on_member_join")
        assert joined[0].id == dave.id and joined[0].guild.id == c.guild.id
        await fake_discord.member_leave(dave)
        await fake_discord.wait_until(lambda: left, what="on_member_remove")
        assert left[0].id == dave.id

        await fake_discord.send_message(c.bob, c.general, "Goedemorgen allemaal")
        await fake_discord.send_dm(c.alice, "Mag ik iets vragen?")
        await fake_discord.wait_until(lambda: len(said) == 2, what="two on_message")
        assert [(m.author.id, m.content) for m in said] == [
            (c.bob.id, "Goedemorgen allemaal"),
            (c.alice.id, "Mag ik iets vragen?"),
        ]
        assert isinstance(said[1].channel, discord.DMChannel)


async def test_without_message_content_intent_guild_content_is_empty(
    fake_discord: FakeDiscord, c: Community
) -> None:
    intents = discord.Intents.default()  # no message_content
    client, _ = bare_client(intents)
    said: list[discord.Message] = []
    client.event(_collect("on_message", said))
    async with fake_discord.running_client(client):
        await fake_discord.send_message(c.bob, c.general, "geheim")
        await fake_discord.send_message(c.bob, c.general, f"<@{fake_discord.bot_user.id}> hoi")
        await fake_discord.wait_until(lambda: len(said) == 2, what="two on_message")
    assert said[0].content == ""
    assert said[1].content.endswith("hoi")  # mentions of the bot are readable


async def test_enforce_nonce_returns_the_first_message_within_the_window(
    fake_discord: FakeDiscord, c: Community
) -> None:
    """As Discord documents Create Message: with `enforce_nonce` (discord.py sets it with
    every nonce), a nonce the same author used in the channel within the last minutes returns
    that message, and no second one is created."""
    moment = [datetime(2026, 12, 1, 9, 0, tzinfo=UTC)]
    fake_discord.clock = lambda: moment[0]
    client, _ = bare_client()
    async with fake_discord.running_client(client):
        channel = client.get_channel(c.agenda.id)
        first = await channel.send("Kaart van punt 7", nonce="agenda-7-card")
        again = await channel.send("Kaart van punt 7", nonce="agenda-7-card")
        assert again.id == first.id and len(fake_discord.messages(c.agenda)) == 1
        other = await channel.send("Kaart van punt 8", nonce="agenda-8-card")
        assert other.id != first.id
        moment[0] += fake_discord.nonce_window + timedelta(seconds=1)
        late = await channel.send("Kaart van punt 7", nonce="agenda-7-card")
        assert late.id != first.id, "after the window the nonce is forgotten"
        assert len(fake_discord.messages(c.agenda)) == 3
