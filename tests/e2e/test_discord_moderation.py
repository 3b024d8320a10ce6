"""Moderation and small groups on Discord, end to end: the real LeerbotClient on the local
fake Discord with the scheduler running. A moderator hides the text of an agenda point or a
practice with a reason: its card says so, the author gets a private message in their own
language (or a private thread when their DMs are closed), members may not do it, and restoring
brings the text back. An anonymous practice from a site with one member says "een proeftuin"
on its card and in search, while a named one keeps its site."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from leerbot.config import Settings
from leerbot.db.models import ScheduledJob
from leerbot.testing.state import Channel, Message
from tests.e2e.conftest import World, discord_world, unexpected_errors
from tests.e2e.test_discord_agenda import (
    buttons,
    card,
    card_of,
    field,
    propose,
    raw_slash,
    seen,
    thread_of,
)
from tests.e2e.test_discord_practices import card_of as practice_card_of
from tests.e2e.test_discord_practices import draft, hits, search, settled, share

SECRET = "Jan de Vries uit Emmen"
REASON = "Noemt een cliënt bij naam"
HIDDEN = "Tekst verborgen door een moderator"


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[World]:
    """Agenda in #ontwikkelagenda, practices in #algemeen, two pilot sites, and Kees (his
    Discord in English) made a moderator by the administrator."""
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        for route in (
            "POST /channels/{channel_id}/messages",
            "PATCH /channels/{channel_id}/messages/{message_id}",
            "POST /channels/{channel_id}/messages/{message_id}/threads",
        ):
            fake.rest.limiter.set_route(route, 100, 1.0)
        answer = await fake.slash(
            world.admin,
            "leerbot setup",
            agenda=world.agenda,
            praktijken=world.general,
            coordinatorrol=world.coordinators,
            taal="nl",
        )
        assert "De instellingen zijn opgeslagen." in seen(answer)
        for site in ("De Achterkant", "Kunstwerkplaats 4B"):
            await fake.slash(world.admin, "site toevoegen", naam=site)
        await fake.slash(world.kees, "agenda lijst")  # Kees is known to the bot from now on
        made = await fake.slash(world.admin, "leerbot functie", lid=world.kees, moderator=True)
        assert made.ephemeral and "Kees" in seen(made)
        yield world
        await settle(world)
        errors = unexpected_errors(world)
        assert not errors, f"the bot logged errors: {errors}"
        store = world.client._connection._view_store
        assert not store._views and not store._modals and not store._synced_message_views


async def settle(world: World) -> None:
    """Wait until the work that is due (cards, notices) has run (the weekly digest is not
    due yet), and none of it failed."""
    await settled(world)
    async with world.app.sessionmaker() as db:
        failed = list(
            await db.scalars(select(ScheduledJob.error).where(ScheduledJob.error.is_not(None)))
        )
    assert not failed, f"scheduled work failed: {failed}"


async def titled(world: World, number: int, title: str) -> Message:
    """Wait until the card of agenda point `number` carries `title` (the bot edits it)."""
    message = await card(world, number)
    expected = f"Agendapunt #{number}: {title}"
    await world.fake.wait_until(
        lambda: message.embeds[0].get("title") == expected,
        what=f"card #{number} titled {title!r} (is {message.embeds[0].get('title')!r})",
    )
    return message


# --- agenda points -----------------------------------------------------------------------


async def test_a_moderator_hides_a_point_the_author_is_told_and_restoring_brings_it_back(
    live: World,
) -> None:
    world, fake = live, live.fake
    await propose(world, world.sanne, f"Gesprek met {SECRET}", f"Wat {SECRET} overkwam.")
    message = await card(world, 1)
    assert SECRET in seen(message) and field(message, "Ingediend door") == "Sanne"
    await fake.click(message, "Steun dit punt", by=world.admin)
    await settle(world)

    # a member may not hide it; nothing changes and nobody is told
    refused = await fake.slash(world.sanne, "agenda verbergen", punt=1, reden=REASON)
    assert refused.ephemeral
    assert "Dit mag alleen een moderator of coördinator." in seen(refused)
    assert SECRET in seen(message)

    # Kees (a moderator, his Discord in English) hides it with a reason
    notice = fake.wait_for_dm(world.sanne, lambda m: "verborgen" in seen(m))
    hidden = await fake.slash(world.kees, "agenda hide", punt=1, reden=REASON)
    assert hidden.ephemeral
    assert "The text of agenda point #1 is hidden." in seen(hidden)
    assert "The proposer gets a private message with your reason." in seen(hidden)

    # the card says so: no text, no name, no support button; status and support stay
    await titled(world, 1, HIDDEN)
    assert "Een moderator heeft de tekst van dit punt verborgen." in seen(message)
    assert SECRET not in seen(message) and REASON not in seen(message)
    assert field(message, "Ingediend door") is None and "Sanne" not in seen(message)
    assert field(message, "Steun") == "1" and field(message, "Status") == "nieuw"
    assert buttons(message) == []
    assert len(fake.messages(world.agenda)) == 1, "the card is edited, not posted again"
    thread = thread_of(world, message)
    assert thread is not None
    await fake.wait_until(
        lambda: SECRET not in thread.name, what=f"the thread renamed (is {thread.name!r})"
    )

    # Sanne is told privately, in Dutch, with the reason; her text is still hers
    dm = await notice
    assert "Een moderator heeft de tekst van je agendapunt #1" in seen(dm)
    assert f"Reden: {REASON}" in seen(dm) and "/mijngegevens" in seen(dm)
    assert all(SECRET not in seen(m) for m in fake.dms(world.kees) + fake.dms(world.admin))

    # what everyone else reads
    for looked in (
        await fake.slash(world.closed, "agenda bekijken", punt=1),
        await fake.slash(world.closed, "agenda lijst"),
        await fake.slash(world.admin, "agenda bekijken", punt=1),
    ):
        assert HIDDEN in seen(looked) and SECRET not in seen(looked)
    support = await fake.slash(world.closed, "agenda steun", punt=1)
    assert "Steunen kan weer als de tekst terug is." in seen(support)
    again = await fake.slash(world.admin, "agenda verbergen", punt=1, reden="Nog eens")
    assert "De tekst van agendapunt #1 is al verborgen. Er is niets veranderd." in seen(again)
    exported = await fake.slash(world.admin, "agenda export", formaat="csv")
    data = exported.files[0].data.decode()
    assert HIDDEN in data and SECRET not in data and REASON not in data

    # her own data export keeps the text, marked as hidden
    mine = await fake.slash(world.sanne, "mijngegevens")
    download = await fake.click(mine, "Download mijn gegevens")
    document = json.loads(download.files[0].data)
    (point,) = document["data"]["agenda"]["points"]
    assert point["title"] == f"Gesprek met {SECRET}" and point["hidden_by_moderator"] is True

    # restoring brings the text, the name and the button back; Sanne is told
    notice = fake.wait_for_dm(world.sanne, lambda m: "weer zichtbaar" in seen(m))
    restored = await fake.slash(world.kees, "agenda restore", punt=1)
    assert "The text of agenda point #1 is visible again." in seen(restored)
    await titled(world, 1, f"Gesprek met {SECRET}")
    assert f"Wat {SECRET} overkwam." in seen(message)
    assert field(message, "Ingediend door") == "Sanne"
    assert buttons(message) == ["Steun dit punt"]
    await fake.wait_until(lambda: SECRET in thread.name, what="the thread's own name back")
    assert "Je agendapunt #1" in seen(await notice)
    twice = await fake.slash(world.kees, "agenda restore", punt=1)
    assert "The text of agenda point #1 is not hidden. There is nothing to restore." in seen(twice)


async def test_bad_moderation_input_gets_a_clear_answer_and_changes_nothing(
    live: World,
) -> None:
    world, fake = live, live.fake
    await propose(world, world.sanne, "Lotgenotengroep")
    message = await card(world, 1)
    empty = await fake.slash(world.kees, "agenda hide", punt=1, reden="   ")
    assert "Please fill in **reason**." in seen(empty)
    # Discord's client stops an overlong reason; a modified client gets the bot's answer
    with pytest.raises(ValueError):
        await fake.slash(world.admin, "agenda verbergen", punt=1, reden="r" * 301)
    overlong = await raw_slash(world, world.admin, "verbergen", punt=1, reden="r" * 400)
    assert "**reden** is te lang: 400 tekens. Het mag maximaal 300 tekens zijn." in seen(overlong)
    unknown = await fake.slash(world.admin, "agenda verbergen", punt=42, reden=REASON)
    assert "Agendapunt #42 ken ik niet." in seen(unknown)
    not_hidden = await fake.slash(world.admin, "agenda herstellen", punt=1)
    assert "is niet verborgen. Er is niets om te herstellen." in seen(not_hidden)
    unknown_practice = await fake.slash(world.admin, "praktijk verbergen", nummer=7, reden="x")
    assert "Praktijk #7 ken ik niet." in seen(unknown_practice)
    await settle(world)
    assert field(message, "Ingediend door") == "Sanne" and "Lotgenotengroep" in seen(message)
    assert not any("verborgen" in seen(m) for m in fake.dms(world.sanne))


async def test_an_anonymous_point_is_hidden_without_telling_anyone(live: World) -> None:
    world, fake = live, live.fake
    await propose(world, world.sanne, f"Over {SECRET}", anoniem=True)
    await card(world, 1)
    hidden = await fake.slash(world.admin, "agenda verbergen", punt=1, reden=REASON)
    assert "Het punt staat er zonder naam: er is niemand om bericht te sturen." in seen(hidden)
    message = await titled(world, 1, HIDDEN)
    await settle(world)
    assert SECRET not in seen(message)
    for member in (world.sanne, world.kees, world.admin, world.closed):
        assert not any("verborgen" in seen(m) for m in fake.dms(member))


async def test_an_author_with_closed_dms_is_told_in_a_private_thread(live: World) -> None:
    world, fake = live, live.fake
    await propose(world, world.closed, f"Over {SECRET}")  # Bram does not accept DMs
    message = await card(world, 1)
    public = await fake.wait_until(lambda: thread_of(world, message), what="the point's thread")
    await fake.slash(world.admin, "agenda verbergen", punt=1, reden=REASON)
    await settle(world)

    def private() -> list[Channel]:
        return [t for t in fake.threads(world.agenda) if t is not public]

    await fake.wait_until(private, what="a private thread for Bram")
    (thread,) = private()
    assert world.closed.id in thread.thread_members
    (notice,) = fake.messages(thread)
    assert "Een moderator heeft de tekst van je agendapunt #1" in seen(notice)
    assert f"Reden: {REASON}" in seen(notice)
    assert card_of(world, 1) is message


# --- practices ---------------------------------------------------------------------------


async def test_a_moderator_hides_a_practice_and_search_no_longer_finds_it(live: World) -> None:
    world, fake = live, live.fake
    number, _ = await share(
        world, world.sanne, f"Wandelen met {SECRET}", "Samen wandelen in de wijk."
    )
    card_message = practice_card_of(world, number)
    assert hits(await search(world, vraag="wandelen")) == {f"Wandelen met {SECRET}"}

    notice = fake.wait_for_dm(world.sanne, lambda m: "verborgen" in seen(m))
    done = await fake.slash(world.kees, "practice hide", nummer=number, reden=REASON)
    assert "search no longer finds the practice" in seen(done)
    await fake.wait_until(
        lambda: card_message.embeds[0]["title"] == f"Praktijk #{number}: {HIDDEN}",
        what="the hidden card",
    )
    assert "Een moderator heeft de tekst van deze praktijk verborgen." in seen(card_message)
    assert SECRET not in seen(card_message) and "Sanne" not in seen(card_message)
    assert "Samen wandelen" not in seen(card_message)
    assert "Niets gevonden voor 'wandelen'" in seen(await search(world, vraag="wandelen"))
    viewed = await fake.slash(world.closed, "praktijk bekijken", nummer=number)
    assert HIDDEN in seen(viewed) and SECRET not in seen(viewed)
    edit = await fake.slash(world.sanne, "praktijk wijzigen", nummer=number)
    assert "Aanpassen kan nu niet." in seen(edit)
    dm = await notice
    assert f"Een moderator heeft de tekst van je praktijk #{number}" in seen(dm)
    assert f"Reden: {REASON}" in seen(dm)

    await fake.slash(world.kees, "practice restore", nummer=number)
    await fake.wait_until(
        lambda: card_message.embeds[0]["title"] == f"Praktijk #{number}: Wandelen met {SECRET}",
        what="the restored card",
    )
    assert hits(await search(world, vraag="wandelen")) == {f"Wandelen met {SECRET}"}
    await settled(world)


# --- small groups ------------------------------------------------------------------------


async def test_an_anonymous_practice_from_a_one_member_site_does_not_name_the_site(
    live: World,
) -> None:
    world, fake = live, live.fake
    # Sanne is the only member of Kunstwerkplaats 4B
    profile = await fake.slash(world.sanne, "profiel instellen", site="Kunstwerkplaats 4B")
    assert profile.ephemeral
    check = await draft(
        world,
        world.sanne,
        "Herstelgroep op vrijdag",
        "Een wekelijkse groep over herstel.",
        site="Kunstwerkplaats 4B",
        anoniem=True,
    )
    # told before anything is posted
    assert "jouw proeftuin heeft minder dan 5 leden" in seen(check)
    assert "Daarom staat er 'een proeftuin' bij, niet de naam." in seen(check)
    assert not fake.messages(world.general)
    waiter = fake.wait_for_message(world.general)
    done = await fake.click(check, "Niemand is herkenbaar — delen")
    await waiter
    await settled(world)
    shared = re.search(r"in het logboek als #(\d+)", seen(done))
    assert shared, seen(done)
    anonymous = int(shared.group(1))

    named, _ = await share(
        world,
        world.sanne,
        "Herstelgroep met naam",
        "Een groep over herstel, met naam gedeeld.",
        site="Kunstwerkplaats 4B",
    )
    # a named one from elsewhere asks nothing extra
    other = await draft(
        world, world.admin, "Open inloop", "Herstel in de wijk.", site="De Achterkant"
    )
    assert "minder dan" not in seen(other)

    anonymous_card = practice_card_of(world, anonymous)
    named_card = practice_card_of(world, named)
    assert field(anonymous_card, "Proeftuin") == "een proeftuin"
    assert "Kunstwerkplaats" not in seen(anonymous_card)
    assert field(named_card, "Proeftuin") == "Kunstwerkplaats 4B"

    found = seen(await search(world, vraag="herstel"))
    lines = {line.split("** ", 1)[1] for line in found.splitlines() if line.startswith("**#")}
    assert "Herstelgroep op vrijdag · een proeftuin" in lines
    assert "Herstelgroep met naam · Kunstwerkplaats 4B" in lines
    english = seen(await search(world, world.kees, vraag="herstel"))
    assert "Herstelgroep op vrijdag · a pilot site" in english
    # searching by the site's name does not name it either
    by_site = await search(world, vraag="herstel", site="Kunstwerkplaats 4B")
    assert hits(by_site) == {"Herstelgroep met naam"}
    viewed = await fake.slash(world.closed, "praktijk bekijken", nummer=anonymous)
    assert field(viewed.message, "Proeftuin") == "een proeftuin"
