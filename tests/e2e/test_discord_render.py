"""The Discord adapter's translations, checked without a connection: the command JSON that
is synced, and replies that exceed Discord's limits (shortened, never refused)."""

from __future__ import annotations

import discord

from leerbot.adapters.discord import application_commands, bot_permissions, leerbot_intents
from leerbot.adapters.discord.commands import modal_values, parse_invocation
from leerbot.adapters.discord.render import (
    embed_for,
    message_for,
    modal_for,
    place_custom_id,
    unplace_custom_id,
)
from leerbot.chat import load_all
from leerbot.chat.commands import MemberRef
from leerbot.chat.reply import Button, Field, Form, FormField, Mention, Reply, UserText
from leerbot.i18n import Msg


def test_every_command_is_declared_with_dutch_names_and_english_localizations() -> None:
    registry = load_all()
    payload = application_commands(registry)
    names = {entry["name"] for entry in payload}
    assert {"site", "profiel", "leerbot", "help", "mijngegevens"} <= names
    for entry in payload:
        assert entry["contexts"] == [0]
        assert 1 <= len(entry["description"]) <= 100
        assert entry["name_localizations"]["en-US"] == entry["name_localizations"]["en-GB"]
        for option in entry["options"]:
            children = option.get("options", []) if option["type"] == 1 else [option]
            required = [o.get("required", False) for o in children]
            assert required == sorted(required, reverse=True), "required options come first"
    mydata = next(e for e in payload if e["name"] == "mijngegevens")
    assert mydata["name_localizations"]["en-US"] == "mydata"


def test_a_slash_command_payload_finds_its_command_and_member() -> None:
    registry = load_all()
    data = {
        "name": "profiel",
        "type": 1,
        "options": [
            {
                "name": "bekijken",
                "type": 1,
                "options": [{"name": "lid", "type": 6, "value": "42"}],
            }
        ],
        "resolved": {"users": {"42": {"id": "42", "username": "sanne", "global_name": "Sanne"}}},
    }
    invocation = parse_invocation(registry, data)
    assert invocation is not None
    assert invocation.command.path == ("profiel", "bekijken")
    assert invocation.args == {"lid": MemberRef("42", "Sanne")}
    assert parse_invocation(registry, {"name": "bestaatniet"}) is None


def test_modal_values_with_and_without_labels() -> None:
    labelled = [{"type": 18, "component": {"type": 4, "custom_id": "ervaring", "value": "x"}}]
    rows = [{"type": 1, "components": [{"type": 4, "custom_id": "a", "value": "y"}]}]
    assert modal_values(labelled) == {"ervaring": "x"}
    assert modal_values(rows) == {"a": "y"}


async def test_an_oversized_reply_is_shortened_politely() -> None:
    reply = Reply(
        title=UserText("T" * 300),
        text=UserText("d" * 5000),
        fields=[Field(UserText(f"veld {i}"), UserText("v" * 2000)) for i in range(40)],
    )
    embed = embed_for(reply, "nl")
    assert len(embed) <= 6000
    assert len(embed.fields) <= 25
    assert embed.title is not None and embed.title.endswith("…")
    assert embed.description is not None and embed.description.endswith("…")
    assert all(len(f.value or "") <= 1024 for f in embed.fields)
    assert embed.fields[-1].name == "…"
    assert "niet passen" in (embed.fields[-1].value or "")


async def test_mentions_buttons_and_files() -> None:
    reply = Reply(
        fields=[Field(Msg("community.setup.agenda"), Mention("channel", "123"))],
        buttons=[Button(UserText("knop"), f"test.{i}") for i in range(7)],  # type: ignore[arg-type]
    )
    message = message_for(reply, "en")
    assert message.embed is not None and message.embed.fields[0].value == "<#123>"
    assert message.view is not None and message.view.is_finished(), "never kept in memory"
    rows = message.view.to_components()
    assert [len(r["components"]) for r in rows] == [5, 2]
    assert message.kwargs()["allowed_mentions"].to_dict()["parse"] == []


async def test_a_form_becomes_a_modal_within_discords_limits() -> None:
    form = Form(
        form_id="profile.experience",
        title=UserText("x" * 60),  # type: ignore[arg-type]
        fields=(FormField("ervaring", UserText("y" * 60), paragraph=True, max_length=9000),),  # type: ignore[arg-type]
    )
    modal = modal_for(form, "nl")
    assert modal.is_finished()
    data = modal.to_dict()
    assert len(data["title"]) == 45
    label = data["components"][0]
    assert label["type"] == 18 and len(label["label"]) == 45
    assert label["component"]["custom_id"] == "ervaring"
    assert label["component"]["max_length"] == 4000


def test_buttons_in_dms_carry_their_server() -> None:
    placed = place_custom_id("lb:session.no:12", "987654321")
    assert placed == "lbg:987654321:session.no:12"
    assert unplace_custom_id(placed) == ("987654321", "lb:session.no:12")
    assert unplace_custom_id("lb:privacy.export:") == (None, "lb:privacy.export:")


def test_no_privileged_intents_and_a_fixed_permission_set() -> None:
    intents = leerbot_intents()
    assert not intents.members and not intents.message_content and not intents.presences
    assert intents.guilds
    permissions = bot_permissions()
    assert not permissions.administrator and not permissions.mention_everyone
    assert permissions.value == discord.Permissions(permissions.value).value
