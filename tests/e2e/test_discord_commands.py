"""Commands as a new member meets them on Discord (issue 13, items 8–12, 14, 15): choices
by name, numbers Discord itself limits, characters that cannot be stored, buttons and forms
the bot never made, messages that say the right thing, counts that read right, the audit
log in words, and `/help` for one command. The real LeerbotClient talks to the local fake
Discord; requests a modified client could send are built by hand."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from leerbot.config import Settings
from leerbot.testing import Reply as Seen
from leerbot.testing.state import Member
from tests.e2e.conftest import World, discord_world
from tests.e2e.test_discord_agenda import (
    card,
    check_clean,
    field,
    open_form,
    seen,
    settle,
    setup_community,
)
from tests.e2e.test_discord_practices import share


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[World]:
    async with discord_world(settings, scheduler=True) as world:
        await setup_community(world)
        yield world
        await settle(world)
        check_clean(world)


async def raw_slash(world: World, member: Member, command: str, **options: Any) -> Seen:
    """A slash command as a modified (or outdated) client could send it: option values
    Discord's own client would have refused or replaced (labels for choices, numbers out of
    range, characters no keyboard makes)."""
    types = {bool: 5, int: 4, str: 3}
    words = command.split()
    synced = next(c for c in world.fake.commands[world.guild.id] if c.name == words[0])
    values = [{"type": types[type(v)], "name": k, "value": v} for k, v in options.items()]
    data: dict[str, Any] = {
        "id": str(synced.id),
        "name": words[0],
        "type": 1,
        "guild_id": str(world.guild.id),
        "options": [{"type": 1, "name": words[1], "options": values}]
        if len(words) == 2
        else values,
    }
    record = world.fake._interaction_base(2, member, world.general, data)
    return await world.fake._send_interaction(record, 5.0, True, f"/{command}")


async def forged_click(world: World, member: Member, custom_id: str) -> Seen:
    """A button press with an id the bot never put on a message (or an old one)."""
    data = {"custom_id": custom_id, "component_type": 2}
    record = world.fake._interaction_base(3, member, world.general, data)
    return await world.fake._send_interaction(record, 5.0, True, f"a click on {custom_id}")


async def submit_as_is(world: World, form: Seen, values: dict[str, str]) -> Seen:
    """Submit the modal the bot opened with exactly these values, unchecked."""
    assert form.modal is not None
    form.modal.submitted = True
    components = [
        {"type": 18, "component": {"type": 4, "custom_id": key, "value": value}}
        for key, value in values.items()
    ]
    data = {"custom_id": form.modal.custom_id, "components": components}
    member = form.interaction.member
    assert member is not None
    record = world.fake._interaction_base(5, member, world.general, data)
    return await world.fake._send_interaction(record, 5.0, True, "a form")


async def propose(world: World, member: Member, title: str) -> int:
    form = await open_form(world, member)
    done = await world.fake.submit_modal(form, {"titel": title, "beschrijving": "Uitleg."})
    return int(done.embeds[0]["title"].split("#", 1)[1].split(":", 1)[0])


def option(world: World, path: str, name: str) -> dict[str, Any]:
    words = path.split()
    node = next(c.data for c in world.fake.commands[world.guild.id] if c.name == words[0])
    for word in words[1:]:
        node = next(o for o in node["options"] if o["name"] == word)
    return next(o for o in node["options"] if o["name"] == name)


# --- 8. choices ---------------------------------------------------------------------------


async def test_choices_are_declared_by_name_and_accepted_by_label(world: World) -> None:
    await setup_community(world)
    day = option(world, "ronde herhalen", "dag")
    assert [c["name"] for c in day["choices"]][:2] == ["maandag", "dinsdag"]
    assert day["choices"][0]["name_localizations"]["en-GB"] == "Monday"
    assert "max_length" not in day and "max_length" not in option(world, "leerbot setup", "taal")
    # an outdated client sends the label it showed instead of the value
    answer = await raw_slash(world, world.admin, "leerbot setup", taal="Nederlands")
    assert "De instellingen zijn opgeslagen." in seen(answer), seen(answer)
    assert "te lang" not in seen(answer)
    english = await raw_slash(world, world.kees, "profiel instellen", taal="English")
    assert "Your profile has been saved." in seen(english)
    repeat = await world.fake.slash(
        world.admin,
        "ronde herhalen",
        titel="Maandvraag",
        bank="samenwerking",
        dag="woensdag",
        uur=10,
    )
    assert "komt nu vanzelf terug. De eerste start op wo " in seen(repeat), seen(repeat)


# --- 9. numbers, characters, forged ids ----------------------------------------------------


async def test_numbers_are_limited_by_discord_and_by_the_bot(live: World) -> None:
    world = live
    number = option(world, "sessie bekijken", "sessie")
    assert (number["min_value"], number["max_value"]) == (1, 2147483647)
    assert option(world, "agenda bekijken", "punt")["max_value"] == 2147483647
    # Discord's own client stops it …
    with pytest.raises(ValueError, match="out of range"):
        await world.fake.slash(world.admin, "agenda bekijken", punt=99999999999999999999)
    # … and a hand-made request gets the range, never an incident or "None"
    for command, name in (
        ("sessie bekijken", "sessie"),
        ("agenda bekijken", "punt"),
        ("praktijk bekijken", "nummer"),
        ("ronde samenvatting", "ronde"),
    ):
        for value in (99999999999999999999, 2147483648, -1):
            answer = await raw_slash(world, world.admin, command, **{name: value})
            assert answer.ephemeral
            assert seen(answer) == (
                f"Kies bij **{name}** een getal van 1 tot en met 2147483647."
            ), seen(answer)


async def test_characters_that_cannot_be_stored(live: World) -> None:
    world = live
    refused = await raw_slash(world, world.admin, "site toevoegen", naam="De\x00Achterkant")
    assert "In **naam** staat een onzichtbaar of kapot teken." in seen(refused)
    # (half a character, a lone surrogate, cannot travel through the local fake's gateway,
    # which writes UTF-8: tests/chat/test_commands_ux.py sends it to the dispatcher)
    listed = await world.fake.slash(world.admin, "site lijst")
    assert "Er zijn nog geen proeftuinen." in seen(listed)
    # a long text in a form is not thrown away for one broken character
    form = await open_form(world, world.sanne)
    done = await submit_as_is(
        world, form, {"titel": "Slaap\x00 genoeg", "beschrijving": "Rust en\x00 ruimte"}
    )
    assert "Dank je wel!" in seen(done), seen(done)
    assert done.embeds[0]["title"] == "Agendapunt #1: Slaap genoeg"
    (note,) = await done.wait_for_followups(1)
    assert "In je tekst stond een onzichtbaar of kapot teken. Dat heb ik weggehaald." in seen(note)


async def test_buttons_and_forms_the_bot_never_made(live: World) -> None:
    world = live
    point = await propose(world, world.sanne, "Slaap")
    for custom_id in (
        "lb:agenda.support:abc",
        "lb:agenda.support:99999999999999999999",
        "lb:agenda.page:x:,,,s",
        "lb:practice.check:-1",
        "lb:round.form:1:zz",
    ):
        answer = await forged_click(world, world.kees, custom_id)
        assert answer.ephemeral
        assert seen(answer) == "This button no longer works. Please run the command again.", (
            custom_id,
            seen(answer),
        )
    publish = await forged_click(world, world.admin, "lb:round.publish:2147483648")
    assert seen(publish) == "Deze knop werkt niet meer. Vraag de opdracht opnieuw op."
    form = await open_form(world, world.sanne)
    assert form.modal is not None
    form.modal.custom_id = form.modal.custom_id.rsplit(":", 2)[0] + ":99999999999999999999:0"
    answer = await submit_as_is(world, form, {"titel": "x", "beschrijving": "y"})
    assert seen(answer) == "Dit formulier werkt niet meer. Vraag de opdracht opnieuw op."
    still = await world.fake.slash(world.sanne, "agenda bekijken", punt=point)
    assert "Slaap" in seen(still)


# --- 10. messages ---------------------------------------------------------------------------


async def test_messages_say_what_is_meant(live: World) -> None:
    world = live
    first = await propose(world, world.sanne, "Een")
    second = await propose(world, world.sanne, "Twee")
    # a status that is not one: the option is called status, the choices are words
    wrong = await raw_slash(
        world, world.admin, "agenda status", punt=first, status="klaar", reden="x"
    )
    assert "Kies voor **status**:" in seen(wrong) and "antwoord" not in seen(wrong)
    assert "`in uitvoering`" in seen(wrong) and "in_uitvoering" not in seen(wrong)
    refused = await world.fake.slash(
        world.admin, "agenda status", punt=first, status="afgerond", reden="x"
    )
    assert seen(refused) == (
        "Van nieuw kan een punt niet naar afgerond. Het kan wel naar besproken, geparkeerd of "
        "in uitvoering."
    )
    # merging back and forth says which went where
    merged = await world.fake.slash(
        world.admin, "agenda samenvoegen", punt=second, in_punt=first, reden="Zelfde onderwerp"
    )
    assert f"Punt #{second} is samengevoegd met #{first}" in seen(merged)
    back = await world.fake.slash(
        world.admin, "agenda samenvoegen", punt=first, in_punt=second, reden="Terug"
    )
    assert seen(back) == (
        f"Punt #{second} is al samengevoegd met #{first}. Kies #{first} om verder te gaan."
    )
    shown = await world.fake.slash(world.sanne, "agenda bekijken", punt=second)
    history = field(shown.message, "Geschiedenis") or ""
    assert f"samengevoegd met #{first} — Zelfde onderwerp" in history, history
    assert "nieuw — Zelfde onderwerp" not in history
    # a coordinator who switches themselves off is told what cannot be done
    await world.fake.slash(world.admin, "help")
    self_off = await world.fake.slash(
        world.admin, "leerbot functie", lid=world.admin, coordinator=False
    )
    assert seen(self_off) == (
        "Je kunt je eigen taak als coördinator niet stoppen. Dat doet een andere coördinator "
        "voor je."
    )
    # an option a command does not have
    unknown = await raw_slash(world, world.sanne, "site lijst", foo="bar")
    assert seen(unknown) == "Deze optie ken ik niet: foo. Deze opdracht heeft geen opties."
    # a duration of nothing
    zero = await world.fake.slash(
        world.admin,
        "sessie plannen",
        titel="Casus",
        start="2030-03-05 19:30",
        adres="Utrecht",
        duur="0",
    )
    assert seen(zero) == (
        "Kies een duur van meer dan 0 minuten en hoogstens 8 uur. Bijvoorbeeld: 2 uur of 90 min."
    ), seen(zero)


# --- 11. counts -------------------------------------------------------------------------------


async def test_counts_read_right(live: World) -> None:
    world = live
    point = await propose(world, world.sanne, "Slaap")
    message = await card(world, point)
    supported = await world.fake.click(message, "Steun dit punt", by=world.kees)
    assert "The point has 1 supporter." in seen(supported), seen(supported)
    listed = await world.fake.slash(world.sanne, "agenda lijst")
    assert "(pagina 1 van 1, 1 punt)" in seen(listed), seen(listed)
    assert "· 1 keer steun ·" in seen(listed)
    english = await world.fake.slash(world.kees, "agenda lijst")
    assert "(page 1 of 1, 1 point)" in seen(english) and "· supported by 1 ·" in seen(english)


# --- 12. the audit log ----------------------------------------------------------------------


async def test_the_audit_log_in_words(live: World) -> None:
    world = live
    await world.fake.slash(world.admin, "site toevoegen", naam="Kunstwerkplaats 4B")
    await world.fake.slash(world.admin, "site verwijderen", site="Kunstwerkplaats 4B")
    log = await world.fake.slash(world.admin, "leerbot logboek")
    text = seen(log)
    assert "· Anna Beheer · proeftuin Kunstwerkplaats 4B verwijderd" in text, text
    assert "· Anna Beheer · proeftuin Kunstwerkplaats 4B toegevoegd" in text
    assert "· Anna Beheer · instellingen veranderd: kanaal voor de ontwikkelagenda" in text
    assert "site.removed" not in text and "community.configured" not in text
    assert "site 1" not in text and "reflection_round" not in text


# --- 14. help for one command -------------------------------------------------------------------


async def test_help_for_one_command_in_discord(live: World) -> None:
    world = live
    assert option(world, "help", "opdracht")["name_localizations"]["en-GB"] == "command"
    answer = await world.fake.slash(world.sanne, "help", opdracht="sessie plannen")
    assert answer.ephemeral
    assert answer.embeds[0]["title"] == "/sessie plannen"
    text = seen(answer)
    assert "• `titel` (verplicht) — Titel van de bijeenkomst." in text
    assert "• `plaatsen` — Aantal plaatsen (standaard 8). Een getal van 2 tot en met 50." in text
    assert '**Voorbeeld:** `/sessie plannen titel:Casusronde start:"di 19:30"' in text
    assert "Deze opdracht is alleen voor een moderator of coördinator." in text
    english = await world.fake.slash(world.kees, "help", opdracht="agenda propose")
    assert english.embeds[0]["title"] == "/agenda propose"
    assert "• `theme` (required)" in seen(english) and "**Example:** `/agenda propose" in seen(
        english
    )


async def test_all_missing_options_at_once(live: World) -> None:
    world = live
    answer = await raw_slash(world, world.admin, "agenda samenvoegen", reden="x")
    assert seen(answer) == "Vul **punt** en **in_punt** in. Die zijn nodig voor deze opdracht."


# --- 15. English wording ----------------------------------------------------------------------


async def test_english_names_and_words(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        await setup_community(world)
        await english_names_and_words(world)
        check_clean(world)


async def english_names_and_words(world: World) -> None:
    leerbot = next(c.data for c in world.fake.commands[world.guild.id] if c.name == "leerbot")
    functie = next(o for o in leerbot["options"] if o["name"] == "functie")
    assert functie["name_localizations"]["en-US"] == "tasks"
    await world.fake.slash(world.kees, "help")
    made = await world.fake.slash(world.admin, "leerbot tasks", lid=world.kees, moderator=True)
    assert "Kees is nu moderator." in seen(made)
    await world.fake.slash(world.admin, "leerbot setup", praktijken=world.general)
    point = await propose(world, world.sanne, "Meer trainingen")
    number, _ = await share(world, world.sanne, "Training", "We trainen samen.")
    await world.fake.slash(world.admin, "agenda koppel", punt=point, praktijk=number)
    practice = await world.fake.slash(world.kees, "praktijk bekijken", nummer=number)
    assert field(practice.message, "Linked to") == f"agenda point #{point}", seen(practice)
    agenda = await world.fake.slash(world.kees, "agenda bekijken", punt=point)
    assert field(agenda.message, "Linked to") == f"practice #{number}"
    assert "Belongs with" not in seen(practice) + seen(agenda)
    dutch = await world.fake.slash(world.sanne, "agenda bekijken", punt=point)
    assert field(dutch.message, "Gekoppeld aan") == f"praktijk #{number}"
