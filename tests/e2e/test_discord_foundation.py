"""The foundation on Discord, end to end: the real discord.py client and LeerbotClient talk
to the local fake Discord over loopback; every request is checked against Discord's OpenAPI
document. Each test asserts what a member would notice."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

import pytest

from leerbot.adapters.discord import (
    DiscordLoginFailed,
    DiscordTokenMissing,
    LeerbotClient,
    run_discord,
)
from leerbot.adapters.discord.render import message_for
from leerbot.app import open_app
from leerbot.chat.commands import Registry
from leerbot.chat.dispatch import Dispatcher
from leerbot.chat.reply import Button, Reply, UserText, Visibility
from leerbot.config import DiscordSettings, Settings
from leerbot.i18n import Msg
from leerbot.testing import Reply as Seen
from leerbot.testing import run_fake_discord
from leerbot.testing.state import Message
from tests.e2e.conftest import World, discord_world, unexpected_errors


def seen(answer: Seen | Message) -> str:
    """Everything a member reads in a message: text, embed title, description and fields."""
    message = answer.message if isinstance(answer, Seen) else answer
    if message is None:
        return ""
    parts = [message.content or ""]
    for embed in message.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts += [item["name"], item["value"]]
    return "\n".join(p for p in parts if p)


def labels(answer: Seen) -> list[str]:
    return [b["label"] for b in answer.buttons()]


async def setup_community(world: World) -> Seen:
    return await world.fake.slash(
        world.admin,
        "leerbot setup",
        aankondigingen=world.announcements,
        agenda=world.agenda,
        sessies=world.sessions,
        coordinatorrol=world.coordinators,
        taal="nl",
    )


# --- commands in Discord ---------------------------------------------------------------


async def test_commands_are_synced_in_dutch_with_english_names(world: World) -> None:
    fake = world.fake
    synced = {c.name: c.data for c in fake.commands[world.guild.id]}
    assert fake.sync_count == 1
    assert {"help", "mijngegevens", "site", "profiel", "leerbot"} <= set(synced)
    site = synced["site"]
    assert site["name_localizations"]["en-US"] == "site"
    add = next(o for o in site["options"] if o["name"] == "toevoegen")
    assert add["name_localizations"] == {"en-US": "add", "en-GB": "add"}
    assert add["description"].startswith("Voeg een proeftuin toe")
    assert add["description_localizations"]["en-US"].startswith("Add a pilot site")
    name = add["options"][0]
    assert (name["name"], name["required"], name["max_length"]) == ("naam", True, 100)
    assert synced["mijngegevens"]["name_localizations"]["en-GB"] == "mydata"
    assert all(c["contexts"] == [0] for c in synced.values()), "only inside a server"
    fake.assert_no_violations()  # Discord's OpenAPI schema accepted every request


async def test_global_sync_when_no_test_server_is_set(settings: Settings) -> None:
    async with discord_world(settings, guild_commands=False) as world:
        assert world.guild.id not in world.fake.commands or not world.fake.commands[world.guild.id]
        assert {c.name for c in world.fake.commands[None]} >= {"help", "site"}
        # commands are for servers only; if one arrives in a DM anyway, the bot says where
        # it works (in the member's language)
        answer = await world.fake.slash(world.kees.user, "help")
        assert answer.ephemeral
        assert "only work in the community's server" in seen(answer)


# --- setup -------------------------------------------------------------------------------


async def test_a_server_admin_sets_up_channels_and_roles(world: World) -> None:
    answer = await setup_community(world)
    text = seen(answer)
    assert answer.ephemeral
    assert "De instellingen zijn opgeslagen." in text
    assert f"<#{world.agenda.id}>" in text
    assert f"<@&{world.coordinators.id}>" in text
    # the coordinator role now works: a member with it may add a pilot site
    world.sanne.role_ids.append(world.coordinators.id)
    added = await world.fake.slash(world.sanne, "site toevoegen", naam="De Achterkant")
    assert "De proeftuin **De Achterkant** is toegevoegd." in seen(added)


async def test_a_member_who_is_not_an_admin_is_refused_setup(world: World) -> None:
    refused = await world.fake.slash(world.sanne, "leerbot setup", agenda=world.agenda)
    assert refused.ephemeral
    assert "Dit mag alleen een coördinator" in seen(refused)
    current = await world.fake.slash(world.admin, "leerbot setup")
    assert "nog niet gekozen" in seen(current)
    assert f"<#{world.agenda.id}>" not in seen(current), "nothing was changed"
    english = await world.fake.slash(world.kees, "leerbot setup", taal="Engels")
    assert "Only a coordinator can do this" in seen(english)


# --- sites -------------------------------------------------------------------------------


async def test_sites_are_added_listed_and_checked(world: World) -> None:
    fake = world.fake
    added = await fake.slash(
        world.admin,
        "site toevoegen",
        naam="De Achterkant",
        plaats="Utrecht",
        organisatie="ETZ",
        soort="ggz",
    )
    assert "De proeftuin **De Achterkant** is toegevoegd." in seen(added)
    await fake.slash(world.admin, "site toevoegen", naam="Kunstwerkplaats 4B", plaats="Venray")

    listed = await fake.slash(world.sanne, "site lijst")
    text = seen(listed)
    assert "De Achterkant" in text and "Kunstwerkplaats 4B" in text and "Utrecht" in text

    again = await fake.slash(world.admin, "site toevoegen", naam="de achterkant")
    assert again.ephemeral
    assert "Er is al een proeftuin met de naam de achterkant." in seen(again)

    # Discord's own client refuses a name over the declared 100 characters …
    with pytest.raises(ValueError, match="characters"):
        await fake.slash(world.admin, "site toevoegen", naam="x" * 101)
    # … and a hand-made request that skips that check gets the localized refusal
    overlong = await raw_slash(world, world.admin, "site", "toevoegen", naam="x" * 150)
    assert "**naam** is te lang: 150 tekens. Het mag maximaal 100 tekens zijn." in seen(overlong)
    assert overlong.ephemeral
    listed_again = await fake.slash(world.admin, "site lijst")
    assert "xxxx" not in seen(listed_again)


async def raw_slash(world: World, member: Any, group: str, sub: str, **options: str) -> Seen:
    """A slash command built by hand, as a modified client could send it (bypasses the
    fake's client-side checks such as max_length)."""
    fake = world.fake
    command = next(c for c in fake.commands[world.guild.id] if c.name == group)
    data = {
        "id": str(command.id),
        "name": group,
        "type": 1,
        "guild_id": str(world.guild.id),
        "options": [
            {
                "type": 1,
                "name": sub,
                "options": [{"type": 3, "name": k, "value": v} for k, v in options.items()],
            }
        ],
    }
    record = fake._interaction_base(2, member, world.general, data)
    return await fake._send_interaction(record, 5.0, True, f"/{group} {sub}")


# --- mentions ----------------------------------------------------------------------------


async def test_names_with_mentions_never_ping_anyone(world: World) -> None:
    fake = world.fake
    answer = await fake.slash(world.admin, "site toevoegen", naam="@everyone <@123>")
    assert "@everyone <@123>" in seen(answer), "the name is shown as it was typed"
    assert answer.message is not None
    assert answer.message.allowed_mentions == {"parse": []}
    assert not answer.message.mentions_everyone()
    assert answer.message.mentioned_user_ids() == []
    # acknowledged first ("thinking…"), then answered with a follow-up that says so too
    followup = [
        r for r in fake.requests if r.route == "POST /webhooks/{webhook_id}/{webhook_token}"
    ]
    assert followup[-1].body["allowed_mentions"] == {"parse": []}
    # also in a message in a channel (the scheduled work's path)
    await world.client.platform.post(
        str(world.guild.id),
        str(world.general.id),
        Reply(text=UserText("@everyone kijk <@&1>"), locale="nl"),
    )
    posted = fake.messages(world.general)[-1]
    assert posted.allowed_mentions == {"parse": []}
    assert not posted.mentions_everyone()


# --- profile -----------------------------------------------------------------------------


async def test_profile_settings_and_the_private_experience_form(world: World) -> None:
    fake = world.fake
    await fake.slash(world.admin, "site toevoegen", naam="De Achterkant")
    saved = await fake.slash(
        world.sanne, "profiel instellen", rol="ervaringsdeskundige", site="de achterkant"
    )
    text = seen(saved)
    assert "Je profiel is opgeslagen." in text
    assert "ervaringsdeskundige" in text.lower() and "De Achterkant" in text

    form = await fake.slash(world.sanne, "profiel ervaring")
    assert form.modal is not None
    assert form.modal.title == "Mijn ervaring (niet verplicht)"
    (field,) = form.modal.inputs()
    assert field["custom_id"] == "ervaring" and field["style"] == 2
    assert field["label"] == "Wat wil je delen? Laat leeg om te wissen."
    stored = await fake.submit_modal(form, {"ervaring": "Twintig jaar zoeken, nu werk ik mee."})
    assert stored.ephemeral
    assert "Twintig jaar zoeken" in seen(stored)

    # another member does not see it …
    other = await fake.slash(world.kees, "profiel bekijken", lid=world.sanne)
    assert "Twintig jaar" not in seen(other)
    assert "Sanne" in seen(other)
    # … until Sanne chooses to share it
    await fake.slash(world.sanne, "profiel instellen", ervaring_delen=True)
    shared = await fake.slash(world.kees, "profiel bekijken", lid=world.sanne)
    assert "Twintig jaar zoeken" in seen(shared)

    # the button on her own profile opens the form again, filled in
    own = await fake.slash(world.sanne, "profiel bekijken")
    reopened = await fake.click(own, "Ervaring aanpassen")
    assert reopened.modal is not None
    assert reopened.modal.inputs()[0]["value"].startswith("Twintig jaar")


async def test_language_choice_changes_the_answers(world: World) -> None:
    answer = await world.fake.slash(world.sanne, "profiel instellen", taal="Engels")
    assert "Your profile has been saved." in seen(answer)
    helped = await world.fake.slash(world.sanne, "help")
    assert "`/site list`" in seen(helped)


# --- help --------------------------------------------------------------------------------


async def test_help_in_dutch_and_english_hides_coordinator_commands(world: World) -> None:
    fake = world.fake
    dutch = seen(await fake.slash(world.sanne, "help"))
    assert dutch.startswith("Hulp")
    assert "`/site lijst`" in dutch and "`/mijngegevens`" in dutch
    assert "`/site toevoegen`" not in dutch and "`/leerbot setup`" not in dutch

    english = seen(await fake.slash(world.kees, "help"))
    assert english.startswith("Help")
    assert "`/site list`" in english and "`/mydata`" in english
    assert "`/profile view`" in english
    assert "`/site add`" not in english and "`/leerbot setup`" not in english

    # Kees types the English names his Discord shows him; the answers are English too
    english_profile = await fake.slash(world.kees, "profile view")
    assert "Profile of Kees" in seen(english_profile)

    admin = seen(await fake.slash(world.admin, "help"))
    assert "`/site toevoegen`" in admin and "`/leerbot setup`" in admin


# --- data rights -------------------------------------------------------------------------


async def test_my_data_export_and_delete(world: World) -> None:
    fake = world.fake
    await fake.slash(world.admin, "site toevoegen", naam="De Achterkant")
    for member in (world.sanne, world.kees):
        await fake.slash(member, "profiel instellen", site="De Achterkant", rol="professional")
    form = await fake.slash(world.sanne, "profiel ervaring")
    await fake.submit_modal(form, {"ervaring": "Mijn eigen verhaal"})

    overview = await fake.slash(world.sanne, "mijngegevens")
    assert overview.ephemeral
    assert "Mijn gegevens" in seen(overview)
    assert labels(overview) == ["Download mijn gegevens", "Verwijder mijn gegevens"]

    download = await fake.click(overview, "Download mijn gegevens")
    assert download.ephemeral
    (file,) = download.files
    assert file.filename.startswith("leerbot-mijngegevens-") and file.filename.endswith(".json")
    exported = json.dumps(json.loads(file.data), ensure_ascii=False)
    assert "Mijn eigen verhaal" in exported and "Sanne" in exported
    assert "Kees" not in exported, "only her own data"

    ask = await fake.click(overview, "Verwijder mijn gegevens")
    assert "Weet je het zeker?" in seen(ask)
    done = await fake.click(ask, "Ja, verwijder alles")
    assert "Je gegevens zijn verwijderd." in seen(done)

    after = await fake.slash(world.sanne, "profiel bekijken")
    assert "Mijn eigen verhaal" not in seen(after)
    assert "De Achterkant" not in seen(after)
    kees = await fake.slash(world.kees, "profiel bekijken")
    assert "De Achterkant" in seen(kees), "another member's data is untouched"


# --- stale buttons, DMs and failures -------------------------------------------------------


async def test_an_old_button_gets_a_friendly_answer(world: World) -> None:
    await world.client.platform.post(
        str(world.guild.id),
        str(world.general.id),
        Reply(
            text=UserText("oud bericht"),
            buttons=[Button(Msg("privacy.button_cancel"), "removed.long.ago", "7")],
            visibility=Visibility.CHANNEL,
            locale="nl",
        ),
    )
    message = world.fake.messages(world.general)[-1]
    answer = await world.fake.click(message, "Nee, toch niet", by=world.kees)
    assert answer.ephemeral
    assert "This button no longer works. Please run the command again." in seen(answer)


async def test_dms_with_buttons_reach_the_member_and_keep_working(world: World) -> None:
    platform = world.client.platform
    guild = str(world.guild.id)
    reply = Reply(
        text=UserText("Je gegevens"),
        buttons=[Button(Msg("privacy.button_export"), "privacy.export")],
        locale="nl",
    )
    sent = await platform.send_dm(guild, str(world.sanne.id), reply)
    assert await platform.send_dm(guild, str(world.closed.id), reply) is None
    (dm,) = world.fake.dms(world.sanne)
    assert sent is not None and sent.message_id == str(dm.id)
    assert dm.allowed_mentions == {"parse": []}
    download = await world.fake.click(dm, "Download mijn gegevens", by=world.sanne.user)
    assert download.files and download.files[0].filename.endswith(".json")

    # a member whose DMs are closed is reached in a private thread instead
    thread_id = await platform.open_thread(
        guild,
        str(world.sessions.id),
        "Herinnering voor Bram",
        private=True,
        member_platform_ids=(str(world.closed.id),),
    )
    (thread,) = world.fake.threads(world.sessions)
    assert str(thread.id) == thread_id and thread.type == 12  # private thread
    assert world.closed.id in thread.thread_members

    # a button in a DM that does not say which server it belongs to
    user = await world.client.fetch_user(world.kees.id)
    plain = message_for(
        Reply(buttons=[Button(Msg("privacy.button_export"), "privacy.export")]), "en"
    )
    await user.send(**plain.kwargs(for_interaction=False))
    (old,) = world.fake.dms(world.kees)
    answer = await world.fake.click(old, "Download my data", by=world.kees.user)
    assert "I only work in the community's server" in seen(answer)


async def test_answers_are_acknowledged_first_and_a_late_form_says_so(world: World) -> None:
    fake = world.fake
    listed = await fake.slash(world.sanne, "site lijst")
    assert listed.deferred and listed.ephemeral  # "thinking…" at once, then the answer
    assert "proeftuinen" in seen(listed).lower()
    overview = await fake.slash(world.sanne, "mijngegevens")
    download = await fake.click(overview, "Download mijn gegevens")
    assert download.interaction.response_type == 6  # acknowledged silently, then sent
    assert download.ephemeral and download.files[0].filename.endswith(".json")
    assert download.message is not overview.message and not download.followups
    form = await fake.slash(world.sanne, "profiel ervaring")  # may open a form: answered
    assert form.modal is not None and not form.deferred  # directly, with the form
    world.client.reply_timeout = 0.0  # behave as if the database were slow
    late_form = await fake.slash(world.sanne, "profiel ervaring")
    assert late_form.modal is None
    assert "Het formulier kon niet op tijd openen." in seen(late_form)


async def test_a_failure_in_the_adapter_gets_a_calm_answer_with_a_code(
    settings: Settings,
) -> None:
    from leerbot.chat import load_all

    base = load_all()
    commands = Registry(dict(base.commands), dict(base.actions), dict(base.forms))

    @commands.command("kapot", "broken")
    async def broken(ctx: Any) -> Reply:  # a reply Discord cannot take: custom_id > 100
        return Reply(buttons=[Button(Msg("privacy.button_cancel"), "x", "y" * 200)])

    async with discord_world(settings) as world:
        world.client.dispatcher = Dispatcher(
            world.app.sessionmaker, world.client.settings, commands
        )
        await world.client.sync_commands()
        answer = await world.fake.slash(world.sanne, "kapot")
        assert answer.ephemeral
        text = seen(answer)
        assert text.startswith("Sorry, er ging iets mis aan onze kant.")
        assert "Traceback" not in text
        ref = text.rsplit(" ", 1)[-1].rstrip(".")
        assert any(ref in message for message in unexpected_errors(world))


# --- starting the bot --------------------------------------------------------------------


async def test_a_missing_or_wrong_token_is_explained_without_showing_it(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    async with open_app(settings) as app:
        with pytest.raises(DiscordTokenMissing) as missing:
            await run_discord(app)
        assert missing.value.key == "token_missing"

    wrong = "MTIz.wrong-token.secret"
    configured = settings.model_copy(
        update={"discord": DiscordSettings(token=wrong)}  # type: ignore[arg-type]
    )
    caplog.set_level(logging.DEBUG)
    async with run_fake_discord(check_violations=False), open_app(configured) as app:
        with pytest.raises(DiscordLoginFailed) as failed:
            await run_discord(app)
    assert failed.value.key == "token_invalid"
    assert wrong not in caplog.text and wrong not in str(failed.value)


async def test_run_discord_serves_and_starts_the_scheduled_work(settings: Settings) -> None:
    configured = settings.model_copy(
        update={"discord": DiscordSettings(token="fake-bot-token")}  # type: ignore[arg-type]
    )
    async with run_fake_discord() as fake, open_app(configured) as app:
        task = asyncio.create_task(run_discord(app, guild_ready_timeout=0.01))
        try:
            await fake.wait_until(lambda: app.scheduler is not None, what="the scheduler")
            assert fake.sync_count == 1 and fake.commands[None], "synced globally"
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        assert task.done()


async def test_the_client_uses_no_privileged_intents(world: World) -> None:
    session = next(iter(world.fake.gateway.sessions.values()))
    assert not world.client.intents.members and not world.client.intents.message_content
    assert session.intents == world.client.intents.value
    assert isinstance(world.client, LeerbotClient)


# --- scheduled work ------------------------------------------------------------------------


async def test_a_planned_session_appears_as_card_thread_and_event(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        await setup_community(world)
        planned = await fake.slash(
            world.admin,
            "sessie plannen",
            titel="Intervisie @everyone",
            start="morgen 19:30",
            spraakkanaal=world.voice,
        )
        assert planned.ephemeral, seen(planned)
        card = await fake.wait_for_message(world.sessions, existing=True)
        assert "Intervisie @everyone" in seen(card)
        assert not card.mentions_everyone()
        assert [b["label"] for b in _buttons(card)][:1] == ["Ik kom"]
        await fake.wait_until(lambda: fake.threads(world.sessions), what="the session thread")
        events = await fake.wait_until(
            lambda: fake.scheduled_events(world.guild), what="the scheduled event"
        )
        assert events[0].name == "Intervisie @everyone"
        answer = await fake.click(card, "Ik kom", by=world.sanne)
        assert answer.ephemeral and "Intervisie @everyone" in seen(answer)
        assert "0 van 8 bezet" in seen(card)
        await fake.wait_until(lambda: "1 van 8 bezet" in seen(card), what="the card updated")
        assert len(fake.messages(world.sessions)) == 1, "edited in place, not posted again"

        cancelled = await fake.slash(world.admin, "sessie annuleren", sessie=1)
        assert cancelled.ephemeral, seen(cancelled)
        await fake.wait_until(lambda: events[0].status == 4, what="the event cancelled")
        await fake.wait_until(lambda: "gaat niet door" in seen(card), what="the card cancelled")
        assert not _buttons(card), "no sign-up buttons on a cancelled session"
        notice = await fake.wait_for_dm(world.sanne, existing=True)
        assert "gaat niet door" in seen(notice)
        assert not unexpected_errors(world)


def _buttons(message: Message) -> list[dict[str, Any]]:
    return [c for row in message.components for c in row.get("components", []) if c["type"] == 2]
