"""Slash commands, buttons, selects and modals, round-trip through an unmodified discord.py."""

from __future__ import annotations

import io

import aiohttp
import discord
import pytest
from discord import app_commands
from discord.http import Route

from leerbot.testing import FakeDiscord, InteractionRefused
from tests.harness.conftest import Community, bare_client


class Vote(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=None)
        self.votes = 0

    @discord.ui.button(label="Steun dit punt", custom_id="vote", style=discord.ButtonStyle.green)
    async def vote(self, interaction: discord.Interaction, button: discord.ui.Button[Vote]) -> None:
        self.votes += 1
        await interaction.response.edit_message(content=f"Steun: {self.votes}", view=self)

    @discord.ui.select(
        custom_id="thema",
        placeholder="Kies een thema",
        options=[
            discord.SelectOption(label="Herstel", value="herstel"),
            discord.SelectOption(label="Werk", value="werk"),
        ],
    )
    async def thema(
        self, interaction: discord.Interaction, select: discord.ui.Select[Vote]
    ) -> None:
        await interaction.response.send_message(f"Thema: {select.values[0]}", ephemeral=True)


class Proposal(discord.ui.Modal, title="Nieuw agendapunt"):
    titel = discord.ui.TextInput(label="Titel", custom_id="titel", max_length=80)
    toelichting = discord.ui.TextInput(
        label="Toelichting", style=discord.TextStyle.paragraph, required=False
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            f"Voorstel ontvangen: {self.titel.value} ({self.toelichting.value or '-'})"
        )


def agenda_tree(
    tree: app_commands.CommandTree[discord.Client],
    seen: list[discord.Interaction],
) -> None:
    agenda = app_commands.Group(name="agenda", description="Agenda van de community")

    @agenda.command(name="voorstel", description="Stel een punt voor")
    @app_commands.describe(thema="Waar gaat het over?")
    async def voorstel(interaction: discord.Interaction, thema: str, minuten: int = 10) -> None:
        seen.append(interaction)
        embed = discord.Embed(title="Voorstel", description=thema)
        embed.add_field(name="Minuten", value=str(minuten))
        await interaction.response.send_message(f"Voorstel: {thema}", embed=embed, view=Vote())

    @agenda.command(name="nieuw", description="Open het formulier")
    async def nieuw(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(Proposal())

    tree.add_command(agenda)

    @tree.command(name="help", description="Help")
    async def help_(interaction: discord.Interaction) -> None:
        seen.append(interaction)
        await interaction.response.send_message("Hulp is onderweg", ephemeral=True)

    @tree.command(name="traag", description="Denkt even na")
    @app_commands.choices(
        stijl=[
            app_commands.Choice(name="Bewerken", value="edit"),
            app_commands.Choice(name="Vervolg", value="followup"),
        ]
    )
    async def traag(interaction: discord.Interaction, stijl: app_commands.Choice[str]) -> None:
        await interaction.response.defer(thinking=True)
        if stijl.value == "edit":
            await interaction.edit_original_response(content="Klaar (bewerkt)")
        else:
            await interaction.followup.send("Klaar (vervolg)")
            await interaction.followup.send("En nog iets", ephemeral=True)

    @tree.command(name="beheer", description="Alleen voor beheerders")
    @app_commands.default_permissions(manage_guild=True)
    async def beheer(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)


class Translator(app_commands.Translator):
    async def translate(
        self,
        string: app_commands.locale_str,
        locale: discord.Locale,
        context: app_commands.TranslationContext[object, object],
    ) -> str | None:
        if locale is discord.Locale.dutch and string.message == "help":
            return "hulp"
        return None


async def _started(
    fake: FakeDiscord,
    c: Community,
    seen: list[discord.Interaction],
) -> discord.Client:
    client, tree = bare_client()
    agenda_tree(tree, seen)
    await tree.set_translator(Translator())
    tree.copy_global_to(guild=discord.Object(c.guild.id))
    client.setup_hook = lambda: tree.sync(guild=discord.Object(c.guild.id))  # type: ignore
    return client


async def test_slash_round_trip_with_embed_and_button_then_click(
    fake_discord: FakeDiscord, c: Community
) -> None:
    seen: list[discord.Interaction] = []
    client = await _started(fake_discord, c, seen)
    async with fake_discord.running_client(client):
        reply = await fake_discord.slash(c.alice, "agenda voorstel", thema="Zelfzorg")
        assert reply.content == "Voorstel: Zelfzorg"
        assert not reply.ephemeral
        assert reply.embeds[0]["title"] == "Voorstel"
        assert reply.embeds[0]["fields"] == [{"name": "Minuten", "value": "10", "inline": True}]
        assert [b["label"] for b in reply.buttons()] == ["Steun dit punt"]
        # The public answer is part of the channel's history, and discord.py can fetch it.
        assert fake_discord.messages(c.agenda) == [reply.message]
        # What the bot saw: locale, guild locale, member permissions, app permissions.
        interaction = seen[0]
        assert interaction.locale is discord.Locale.dutch
        assert interaction.guild_locale is discord.Locale.dutch
        assert interaction.permissions.manage_guild
        assert interaction.app_permissions.manage_roles

        clicked = await fake_discord.click(reply, "Steun dit punt", by=c.bob)
        assert clicked.response_type == 7
        assert clicked.content == "Steun: 1"
        assert reply.content == "Steun: 1"  # the same message was updated in place
        again = await fake_discord.click(reply, "vote", by=c.alice)  # by custom_id
        assert again.content == "Steun: 2"

        picked = await fake_discord.select(reply, "Kies een thema", ["Werk"], by=c.bob)
        assert picked.content == "Thema: werk" and picked.ephemeral
        with pytest.raises(InteractionRefused):
            await fake_discord.select(reply, "thema", ["vakantie"], by=c.bob)


async def test_ephemeral_reply_and_localized_command_name(
    fake_discord: FakeDiscord, c: Community
) -> None:
    seen: list[discord.Interaction] = []
    client = await _started(fake_discord, c, seen)
    async with fake_discord.running_client(client):
        reply = await fake_discord.slash(c.alice, "hulp")  # the Dutch name of /help
        assert reply.content == "Hulp is onderweg"
        assert reply.ephemeral
        assert fake_discord.messages(c.agenda) == []  # ephemeral: not in the channel


async def test_deferred_answers_edit_and_followup(fake_discord: FakeDiscord, c: Community) -> None:
    client = await _started(fake_discord, c, [])
    async with fake_discord.running_client(client):
        edited = await fake_discord.slash(c.bob, "traag", stijl="Bewerken")
        assert edited.response_type == 5 and edited.content == "Klaar (bewerkt)"
        followed = await fake_discord.slash(c.bob, "traag", stijl="followup")
        # The first follow-up after a thinking defer replaces the loading message.
        assert followed.content == "Klaar (vervolg)"
        [extra] = await followed.wait_for_followups(1)
        assert extra.content == "En nog iets" and extra.ephemeral


async def test_modal_open_submit_once(fake_discord: FakeDiscord, c: Community) -> None:
    client = await _started(fake_discord, c, [])
    async with fake_discord.running_client(client):
        opened = await fake_discord.slash(c.alice, "agenda nieuw")
        assert opened.modal is not None and opened.modal.title == "Nieuw agendapunt"
        assert [i["label"] for i in opened.modal.inputs()] == ["Titel", "Toelichting"]
        with pytest.raises(InteractionRefused):  # a required input left empty
            await fake_discord.submit_modal(opened, {"Toelichting": "x"})
        done = await fake_discord.submit_modal(opened, {"titel": "Slaap", "Toelichting": "rust"})
        assert done.content == "Voorstel ontvangen: Slaap (rust)"
        with pytest.raises(InteractionRefused):
            await fake_discord.submit_modal(opened, {"titel": "Nog eens"})


async def test_admin_only_command_is_hidden_from_members(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client = await _started(fake_discord, c, [])
    async with fake_discord.running_client(client):
        assert (await fake_discord.slash(c.alice, "beheer")).content == "ok"
        with pytest.raises(InteractionRefused):
            await fake_discord.slash(c.bob, "beheer")


async def test_second_initial_response_is_40060(fake_discord: FakeDiscord, c: Community) -> None:
    client, tree = bare_client()
    statuses: list[tuple[int, int]] = []

    @tree.command(name="dubbel", description="Antwoordt twee keer")
    async def dubbel(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("een")
        # discord.py refuses a second response itself; go around it as a buggy bot would.
        url = f"{Route.BASE}/interactions/{interaction.id}/{interaction.token}/callback"
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json={"type": 4, "data": {"content": "twee"}}) as response,
        ):
            statuses.append((response.status, (await response.json())["code"]))

    client.setup_hook = lambda: tree.sync()  # type: ignore[method-assign]
    async with fake_discord.running_client(client):
        reply = await fake_discord.slash(c.bob, "dubbel")
        assert reply.content == "een"
        await fake_discord.wait_until(lambda: statuses, what="the second response")
    assert statuses == [(400, 40060)]


async def test_answer_after_three_seconds_fails_the_interaction(
    fake_discord: FakeDiscord, c: Community
) -> None:
    fake_discord.interaction_response_timeout = 0.0  # every answer is late
    client, tree = bare_client()

    @tree.command(name="laat", description="Te laat")
    async def laat(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("te laat")

    client.setup_hook = lambda: tree.sync()  # type: ignore[method-assign]
    async with fake_discord.running_client(client, allow_errors=True):
        with pytest.raises(AssertionError, match="too late"):
            await fake_discord.slash(c.bob, "laat")
    assert any(r.status == 404 and r.response["code"] == 10062 for r in fake_discord.requests)


async def test_files_in_responses_and_original_fetch_edit_delete(
    fake_discord: FakeDiscord, c: Community
) -> None:
    client, tree = bare_client()
    fetched: list[str] = []

    @tree.command(name="export", description="Agenda als bestand")
    async def export(interaction: discord.Interaction) -> None:
        await interaction.response.send_message(
            "Hier is de agenda", file=discord.File(io.BytesIO(b"BEGIN:VCALENDAR"), "agenda.ics")
        )
        original = await interaction.original_response()
        fetched.append(original.content)
        await interaction.followup.send(
            "En de notulen", ephemeral=True, file=discord.File(io.BytesIO(b"notulen"), "n.txt")
        )
        await interaction.edit_original_response(content="Hier is de agenda (v2)")

    @tree.command(name="weg", description="Antwoord en haal het weer weg")
    async def weg(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("even")
        await interaction.delete_original_response()

    client.setup_hook = lambda: tree.sync()  # type: ignore[method-assign]
    async with fake_discord.running_client(client):
        reply = await fake_discord.slash(c.alice, "export")
        [notulen] = await reply.wait_for_followups(1)
        await fake_discord.wait_until(lambda: reply.interaction.edits == 1, what="the edit")
        assert [(f.filename, f.data) for f in reply.files] == [("agenda.ics", b"BEGIN:VCALENDAR")]
        assert reply.content == "Hier is de agenda (v2)"
        assert fetched == ["Hier is de agenda"]
        assert notulen.ephemeral and notulen.attachments[0].data == b"notulen"

        gone = await fake_discord.slash(c.alice, "weg")
        await fake_discord.wait_until(lambda: gone.interaction.original.deleted, what="delete")
        assert [m.content for m in fake_discord.messages(c.agenda)] == ["Hier is de agenda (v2)"]
