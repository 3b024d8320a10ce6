"""The development agenda on Discord, end to end: members propose points (named and
anonymous) in a form, each point gets a card with a *Steun dit punt* button and its own
thread in the agenda channel, members support and discuss, coordinators move points on,
merge duplicates and export — the same file from Discord as from the command line. The real
LeerbotClient talks to the local fake Discord; each test asserts what a member or
coordinator would notice."""

from __future__ import annotations

import asyncio
import csv
import io
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy import select

from leerbot.config import Settings
from leerbot.db.models import ScheduledJob
from leerbot.exports.agenda import CSV_COLUMNS
from leerbot.i18n import translate
from leerbot.testing import InteractionRefused
from leerbot.testing import Reply as Seen
from leerbot.testing.state import Channel, Member, Message
from tests.e2e.conftest import World, discord_world, unexpected_errors
from tests.helpers import csv_rows
from tests.waiting import GUARD

THEME = "samenwerking"
THEME_NAME = "Samenwerking ervaringsdeskundigen en professionals"


# --- what members see --------------------------------------------------------------------


def seen(answer: Seen | Message | None) -> str:
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


def field(message: Message | None, name: str) -> str | None:
    """The value of the card's field called `name` (as shown), or None."""
    if message is None:
        return None
    for embed in message.embeds:
        for item in embed.get("fields") or []:
            if item["name"] == name:
                return str(item["value"])
    return None


def buttons(message: Message | None) -> list[str]:
    if message is None:
        return []
    return [
        c.get("label", "")
        for row in message.components
        for c in row.get("components", [])
        if c.get("type") == 2
    ]


def card_of(world: World, number: int) -> Message | None:
    """The card of point `number` in the agenda channel (None before it is posted)."""
    cards = [
        m
        for m in world.fake.messages(world.agenda)
        if m.embeds and (m.embeds[0].get("title") or "").startswith(f"Agendapunt #{number}:")
    ]
    assert len(cards) <= 1, f"point #{number} has {len(cards)} cards"
    return cards[0] if cards else None


async def card(world: World, number: int) -> Message:
    found = await world.fake.wait_until(
        lambda: card_of(world, number), what=f"the card of point #{number}"
    )
    assert found is not None
    return found


async def card_shows(
    world: World, number: int, name: str, value: str, timeout: float = GUARD
) -> Message:
    """Wait until the card's field `name` shows `value` (the bot edits the card)."""
    message = await card(world, number)
    await world.fake.wait_until(
        lambda: field(message, name) == value,
        timeout=timeout,
        what=f"card #{number} showing {name} = {value} (shows {field(message, name)!r})",
    )
    return message


def thread_of(world: World, message: Message) -> Channel | None:
    return next((t for t in world.fake.threads(world.agenda) if t.id == message.id), None)


# --- acting ------------------------------------------------------------------------------


async def setup_community(world: World) -> None:
    answer = await world.fake.slash(
        world.admin,
        "leerbot setup",
        agenda=world.agenda,
        coordinatorrol=world.coordinators,
        taal="nl",
    )
    assert "De instellingen zijn opgeslagen." in seen(answer)


async def open_form(
    world: World,
    member: Member,
    *,
    thema: str = THEME,
    soort: str = "wens",
    niveau: str = "organisatie",
    **options: Any,
) -> Seen:
    form = await world.fake.slash(
        member, "agenda voorstel", thema=thema, soort=soort, niveau=niveau, **options
    )
    assert form.modal is not None, seen(form)
    return form


async def propose(
    world: World, member: Member, title: str, description: str = "", **options: Any
) -> Seen:
    form = await open_form(world, member, **options)
    done = await world.fake.submit_modal(
        form, {"titel": title, "beschrijving": description or f"Uitleg bij {title}."}
    )
    assert done.ephemeral
    thanks = "Thank you!" if member.user.locale.startswith("en") else "Dank je wel!"
    assert thanks in seen(done), seen(done)
    return done


def number_of(done: Seen) -> int:
    title = done.embeds[0]["title"]
    return int(title.split("#", 1)[1].split(":", 1)[0])


async def raw_interaction(
    world: World, kind: int, member: Member, data: dict[str, Any], what: str
) -> Seen:
    """An interaction built by hand, as a modified client could send it (skips the checks
    Discord's own client makes: choices, max_length)."""
    fake = world.fake
    record = fake._interaction_base(kind, member, world.general, data)
    return await fake._send_interaction(record, 5.0, True, what)


async def raw_slash(world: World, member: Member, sub: str, **options: Any) -> Seen:
    command = next(c for c in world.fake.commands[world.guild.id] if c.name == "agenda")
    types = {bool: 5, int: 4, str: 3}
    data = {
        "id": str(command.id),
        "name": "agenda",
        "type": 1,
        "guild_id": str(world.guild.id),
        "options": [
            {
                "type": 1,
                "name": sub,
                "options": [
                    {"type": types[type(v)], "name": k, "value": v} for k, v in options.items()
                ],
            }
        ],
    }
    return await raw_interaction(world, 2, member, data, f"/agenda {sub}")


async def raw_submit(world: World, form: Seen, values: dict[str, str]) -> Seen:
    """Submit the propose form with values the Discord client would not let through."""
    assert form.modal is not None
    form.modal.submitted = True
    components = [
        {"type": 18, "component": {"type": 4, "custom_id": key, "value": value}}
        for key, value in values.items()
    ]
    data = {"custom_id": form.modal.custom_id, "components": components}
    member = form.interaction.member
    assert member is not None
    return await raw_interaction(world, 5, member, data, "the propose form")


async def settle(world: World, timeout: float = GUARD) -> None:
    """Wait until the scheduled work that is due (cards, notices) has run; none failed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    due = (ScheduledJob.fired_at.is_(None)) & (ScheduledJob.missed_at.is_(None))
    while True:
        async with world.app.sessionmaker() as db:
            waiting = list(await db.scalars(select(ScheduledJob.key).where(due)))
            failed = list(
                await db.scalars(select(ScheduledJob.error).where(ScheduledJob.error.is_not(None)))
            )
        assert not failed, f"scheduled work failed: {failed}"
        if not waiting:
            return
        assert loop.time() < deadline, f"scheduled work still waiting: {waiting}"
        await asyncio.sleep(0.05)


def check_clean(world: World) -> None:
    errors = unexpected_errors(world)
    assert not errors, f"the bot logged errors: {errors}"
    store = world.client._connection._view_store
    assert not store._views and not store._modals and not store._synced_message_views


@pytest.fixture
async def live(settings: Settings) -> AsyncIterator[World]:
    """The community with its agenda channel set up and the scheduled work running (cards,
    threads, notices)."""
    async with discord_world(settings, scheduler=True) as world:
        await setup_community(world)
        yield world
        await settle(world)
        check_clean(world)


# --- propose, card, thread, support ------------------------------------------------------


async def test_a_named_point_gets_a_card_a_thread_and_live_support(live: World) -> None:
    world, fake = live, live.fake
    form = await open_form(world, world.sanne)
    assert form.modal is not None
    assert form.modal.title == "Nieuw punt voor de ontwikkelagenda"
    inputs = {i["custom_id"]: i for i in form.modal.inputs()}
    assert inputs["titel"]["label"] == "Titel (kort)" and inputs["titel"]["max_length"] == 100
    assert inputs["beschrijving"]["style"] == 2 and inputs["beschrijving"]["max_length"] == 2000
    done = await fake.submit_modal(
        form,
        {
            "titel": "Intervisie in elk team",
            "beschrijving": "Elk team krijgt maandelijks intervisie met een ervaringsdeskundige.",
        },
    )
    assert done.ephemeral
    assert "Dank je wel! Je punt staat op de agenda als #1. Anderen kunnen" in seen(done)

    message = await card(world, 1)
    assert message.embeds[0]["title"] == "Agendapunt #1: Intervisie in elk team"
    assert "maandelijks intervisie" in seen(message)
    assert field(message, "Thema") == THEME_NAME
    assert field(message, "Soort") == "wens"
    assert field(message, "Niveau") == "organisatie"
    assert field(message, "Status") == "nieuw"
    assert field(message, "Steun") == "0"
    assert field(message, "Ingediend door") == "Sanne"
    assert buttons(message) == ["Steun dit punt"]
    assert message.interaction_metadata is None, "posted by the bot, not as someone's reply"
    assert message.allowed_mentions == {"parse": []}

    # its own thread, started from the card; members discuss there
    thread = await fake.wait_until(lambda: thread_of(world, message), what="the point's thread")
    assert thread is not None and thread.name == "#1 Intervisie in elk team"
    said = await fake.send_message(world.kees, thread, "Goed idee, bij ons werkt dat al.")
    assert said in fake.messages(thread)

    # Kees supports it: he is told (in his language), and everyone sees the count go up
    supported = await fake.click(message, "Steun dit punt", by=world.kees)
    assert supported.ephemeral
    assert "You now support Intervisie in elk team. The point has 1 supporter." in seen(supported)
    await card_shows(world, 1, "Steun", "1")

    # a second click does not count twice: he may withdraw instead
    again = await fake.click(message, "Steun dit punt", by=world.kees)
    assert again.ephemeral
    assert "You already support Intervisie in elk team. Do you want to withdraw" in seen(again)
    assert field(message, "Steun") == "1"
    withdrawn = await fake.click(again, "Withdraw support", by=world.kees)
    assert "Your support for Intervisie in elk team is withdrawn." in seen(withdrawn)
    assert "The point has 0 supporters." in seen(withdrawn)
    await card_shows(world, 1, "Steun", "0")

    # the command does the same
    by_command = await fake.slash(world.admin, "agenda steun", punt=1)
    assert "Het punt heeft 1 keer steun." in seen(by_command)
    await card_shows(world, 1, "Steun", "1")
    twice = await fake.slash(world.admin, "agenda steun", punt=1)
    assert twice.ephemeral and "Je steunt dit punt al." in seen(twice)
    back = await fake.slash(world.admin, "agenda steun", punt=1, intrekken=True)
    assert "is ingetrokken. Het punt heeft 0 keer steun." in seen(back)
    nothing = await fake.slash(world.admin, "agenda steun", punt=1, intrekken=True)
    assert "Je steunde dit punt niet." in seen(nothing)
    await card_shows(world, 1, "Steun", "0")

    viewed = await fake.slash(world.kees, "agenda bekijken", punt=1)
    assert "Agenda point #1: Intervisie in elk team" in seen(viewed)
    assert message.edited_timestamp is not None
    assert len(fake.messages(world.agenda)) == 1, "the card is edited, never posted again"
    assert len(fake.threads(world.agenda)) == 1


async def test_many_members_supporting_at_once_count_once_each(live: World) -> None:
    world, fake = live, live.fake
    await propose(world, world.sanne, "Ervaringsdeskundigheid in de opleiding")
    message = await card(world, 1)
    await fake.wait_until(lambda: thread_of(world, message), what="the thread")
    crowd = [fake.add_member(world.guild, f"Lid {n}", locale="nl") for n in range(10)]
    # everyone clicks at the same moment, and three of them click twice
    clickers = [*crowd, *crowd[:3]]
    answers = await asyncio.gather(
        *(fake.click(message, "Steun dit punt", by=member) for member in clickers)
    )
    texts = [seen(a) for a in answers]
    assert sum("Je steunt nu" in t for t in texts) == len(crowd), texts
    for text in texts:
        assert "Je steunt nu" in text or "al" in text, text
        assert "Sorry, er ging iets mis" not in text
    viewed = await fake.slash(world.sanne, "agenda bekijken", punt=1)
    assert field(viewed.message, "Steun") == str(len(crowd))
    # once the bot has done all its card updates, the card shows the same count
    await settle(world)
    assert field(message, "Steun") == str(len(crowd)), "the card shows a stale count"


# --- anonymity ---------------------------------------------------------------------------


async def test_an_anonymous_point_never_shows_its_author(live: World) -> None:
    world, fake = live, live.fake
    done = await propose(
        world,
        world.sanne,
        "Ruimte voor het eigen verhaal",
        "Niet alles hoeft in het dossier.",
        anoniem=True,
    )
    assert "Je punt staat op de agenda als #1, zonder je naam." in seen(done)
    assert field(done.message, "Ingediend door") == "anoniem"
    message = await card(world, 1)
    assert field(message, "Ingediend door") == "anoniem"
    thread = await fake.wait_until(lambda: thread_of(world, message), what="the thread")
    assert thread is not None

    # a named point by her as well; then a coordinator moves both on
    await propose(world, world.sanne, "Herstelwerkplaats per regio")
    await card(world, 2)
    await fake.slash(world.admin, "agenda status", punt=1, status="besproken", reden="In de CoL")
    await card_shows(world, 1, "Status", "besproken")
    notice = fake.wait_for_dm(world.sanne)
    await fake.slash(world.admin, "agenda status", punt=2, status="besproken", reden="Ook")
    await notice
    (dm,) = fake.dms(world.sanne)
    assert "Herstelwerkplaats per regio" in seen(dm), "only the named point sends a notice"

    looked = [
        await fake.slash(world.kees, "agenda bekijken", punt=1),
        await fake.slash(world.admin, "agenda bekijken", punt=1),
        await fake.slash(world.kees, "agenda lijst"),
    ]
    shown = [seen(m) for m in [message, *fake.messages(thread)]] + [seen(a) for a in looked]
    for text in shown:
        assert "Sanne" not in text and str(world.sanne.id) not in text, text
    assert message.interaction_metadata is None
    assert thread.owner_id != world.sanne.id
    assert all(m.author.id != world.sanne.id for m in fake.messages(world.agenda))
    assert world.sanne.id not in thread.thread_members


# --- status, merge -----------------------------------------------------------------------


async def test_a_status_change_updates_the_card_and_tells_the_proposer(live: World) -> None:
    world, fake = live, live.fake
    # Kees chose English for the bot; notices reach him in his language
    chosen = await fake.slash(world.kees, "profile set", language="en")
    assert "Your profile has been saved." in seen(chosen)
    await propose(world, world.kees, "Budget voor scholing", thema="doorgroei")
    message = await card(world, 1)

    notice = fake.wait_for_dm(world.kees)
    changed = await fake.slash(
        world.admin, "agenda status", punt=1, status="besproken", reden="Besproken in de CoL"
    )
    assert changed.ephemeral
    assert "Budget voor scholing staat nu op besproken." in seen(changed)
    dm = await notice  # in Kees's own language
    assert "Your agenda point Budget voor scholing is now discussed." in seen(dm)
    assert "Reason: Besproken in de CoL" in seen(dm)
    assert buttons(dm) == [], "no support button in the notice"

    await card_shows(world, 1, "Status", "besproken")
    history = field(message, "Geschiedenis") or ""
    assert "besproken — Besproken in de CoL" in history

    # a coordinator by role (not a server admin) may do it too, in steps that make sense
    world.sanne.role_ids.append(world.coordinators.id)
    notice = fake.wait_for_dm(world.kees)
    busy = await fake.slash(
        world.sanne, "agenda status", punt=1, status="in uitvoering", reden="Pilot in Venray"
    )
    assert "staat nu op in uitvoering." in seen(busy)
    assert "is now in progress. Reason: Pilot in Venray" in seen(await notice)
    await card_shows(world, 1, "Status", "in uitvoering")

    refused = await fake.slash(world.admin, "agenda status", punt=1, status="nieuw", reden="x")
    assert "kan een punt niet naar nieuw" in seen(refused)
    same = await fake.slash(world.admin, "agenda status", punt=1, status="in uitvoering", reden="x")
    assert "Het punt staat al op" in seen(same)
    unknown = await fake.slash(world.admin, "agenda status", punt=9, status="afgerond", reden="x")
    assert "Agendapunt #9 ken ik niet." in seen(unknown)
    assert len(fake.dms(world.kees)) == 2, "refused changes send no notice"
    assert field(message, "Status") == "in uitvoering"


async def test_merging_moves_support_without_counting_anyone_twice(live: World) -> None:
    world, fake = live, live.fake
    await propose(world, world.sanne, "Meer intervisie")
    await propose(world, world.kees, "Intervisie voor iedereen", thema="herstelklimaat")
    first, second = await card(world, 1), await card(world, 2)
    await fake.click(first, "Steun dit punt", by=world.admin)
    await fake.click(second, "Steun dit punt", by=world.admin)  # supports both
    await fake.click(second, "Steun dit punt", by=world.sanne)
    await card_shows(world, 1, "Steun", "1")
    await card_shows(world, 2, "Steun", "2")

    merged = await fake.slash(
        world.admin, "agenda samenvoegen", punt=2, in_punt=1, reden="Zelfde vraag"
    )
    assert merged.ephemeral
    assert (
        "Punt #2 is samengevoegd met #1 (Meer intervisie). Het heeft nu 2 keer steun; "
        "niemand telt dubbel." in seen(merged)
    )
    await card_shows(world, 1, "Steun", "2")
    await fake.wait_until(
        lambda: "samengevoegd met punt #1" in seen(second), what="the merged card says where"
    )
    assert buttons(second) == [], "no support button on a merged point"
    assert buttons(first) == ["Steun dit punt"]

    late = await fake.slash(world.sanne, "agenda steun", punt=2)
    assert "Dit punt is samengevoegd met #1. Kijk daar." in seen(late)
    listed = seen(await fake.slash(world.sanne, "agenda lijst"))
    assert "#1** Meer intervisie · 2 keer steun" in listed and "#2**" not in listed
    again = await fake.slash(world.admin, "agenda samenvoegen", punt=1, in_punt=1, reden="x")
    assert "Een punt kan niet met zichzelf worden samengevoegd." in seen(again)
    twice = await fake.slash(world.admin, "agenda samenvoegen", punt=2, in_punt=1, reden="x")
    assert "Punt #2 is al samengevoegd met #1. Kies #1 om verder te gaan." in seen(twice)


# --- the list ----------------------------------------------------------------------------


async def test_the_list_is_filtered_and_paged(world: World) -> None:
    fake = world.fake
    for n in range(1, 8):
        await propose(world, world.sanne, f"Samenwerkingspunt {n}")
    await propose(world, world.kees, "Europees netwerk", thema="europa", soort="ambitie")
    for member in (world.kees, world.admin):
        await fake.slash(member, "agenda steun", punt=3)
    await fake.slash(world.kees, "agenda steun", punt=5)
    await fake.slash(world.admin, "agenda status", punt=6, status="geparkeerd", reden="Later")

    everything = await fake.slash(world.sanne, "agenda lijst")
    assert everything.ephemeral
    assert "Ontwikkelagenda (pagina 1 van 2, 8 punten)" in seen(everything)
    lines = seen(everything).splitlines()[1:]
    assert lines[:2] == [
        "**#3** Samenwerkingspunt 3 · 2 keer steun · nieuw",
        "**#5** Samenwerkingspunt 5 · 1 keer steun · nieuw",
    ], "most supported first"
    assert buttons(everything.message) == ["Volgende"]

    mine = await fake.slash(world.sanne, "agenda lijst", thema=THEME)
    assert "(pagina 1 van 2, 7 punten)" in seen(mine)
    assert "Europees netwerk" not in seen(mine)
    page_two = await fake.click(mine, "Volgende")
    assert "(pagina 2 van 2, 7 punten)" in seen(page_two)
    assert seen(page_two).count("Samenwerkingspunt") == 2
    assert "Europees netwerk" not in seen(page_two)
    assert buttons(page_two.message) == ["Vorige"]
    page_one = await fake.click(page_two, "Vorige")
    assert "(pagina 1 van 2, 7 punten)" in seen(page_one)
    assert seen(page_one).count("Samenwerkingspunt") == 5

    parked = seen(await fake.slash(world.sanne, "agenda lijst", status="geparkeerd"))
    assert "(pagina 1 van 1, 1 punt)" in parked
    assert "**#6** Samenwerkingspunt 6 · 0 keer steun · geparkeerd" in parked
    ambitions = seen(await fake.slash(world.sanne, "agenda lijst", soort="ambitie"))
    assert "Europees netwerk" in ambitions and "Samenwerkingspunt" not in ambitions
    by_date = seen(await fake.slash(world.sanne, "agenda lijst", sorteer="datum"))
    assert by_date.splitlines()[1].startswith("**#8** Europees netwerk")
    none = await fake.slash(world.sanne, "agenda lijst", thema="doorgroei")
    assert "Er staan (nog) geen punten op de agenda die hierbij passen." in seen(none)
    assert buttons(none.message) == []


# --- bad input ---------------------------------------------------------------------------


async def test_bad_input_is_refused_clearly_and_changes_nothing(live: World) -> None:
    world, fake = live, live.fake
    # Discord's client refuses an empty title; spaces only get the bot's own answer
    form = await open_form(world, world.sanne)
    with pytest.raises(InteractionRefused):
        await fake.submit_modal(form, {"titel": "", "beschrijving": "Iets"})
    blank = await fake.submit_modal(
        await open_form(world, world.sanne), {"titel": "   ", "beschrijving": "Iets"}
    )
    assert blank.ephemeral
    assert "Vul **titel** in." in seen(blank)
    # too long: Discord's client stops it, a modified client gets the localized refusal
    with pytest.raises(InteractionRefused):
        await fake.submit_modal(
            await open_form(world, world.sanne), {"titel": "x" * 101, "beschrijving": "Iets"}
        )
    overlong = await raw_submit(
        world, await open_form(world, world.sanne), {"titel": "x" * 150, "beschrijving": "Iets"}
    )
    assert "**titel** is te lang: 150 tekens. Het mag maximaal 100 tekens zijn." in seen(overlong)
    long_text = await raw_submit(
        world,
        await open_form(world, world.sanne),
        {"titel": "Goed", "beschrijving": "y" * 2500},
    )
    assert "is te lang: 2500 tekens. Het mag maximaal 2000 tekens zijn." in seen(long_text)
    # a theme that is not on the list
    with pytest.raises(ValueError, match="not a choice"):
        await open_form(world, world.sanne, thema="onbekend")
    odd = await raw_slash(
        world, world.sanne, "voorstel", thema="onbekend", soort="wens", niveau="organisatie"
    )
    assert odd.modal is None, "refused before the member types anything"
    assert odd.ephemeral
    assert "Kies voor **thema**: `Van behandelklimaat naar herstelklimaat`, `Een" in seen(odd)

    listed = await fake.slash(world.sanne, "agenda lijst")
    assert "Er staan (nog) geen punten op de agenda" in seen(listed)
    assert fake.messages(world.agenda) == [], "no card was posted"

    # a real point; then members try what only coordinators may do
    await propose(world, world.sanne, "Lotgenotengroep")
    message = await card(world, 1)
    await fake.click(message, "Steun dit punt", by=world.kees)
    await card_shows(world, 1, "Steun", "1")
    status = await fake.slash(world.sanne, "agenda status", punt=1, status="afgerond", reden="x")
    assert status.ephemeral
    assert "Dit mag alleen een coördinator" in seen(status)
    english = await fake.slash(world.kees, "agenda status", punt=1, status="afgerond", reden="x")
    assert "Only a coordinator can do this" in seen(english)
    merge = await fake.slash(world.sanne, "agenda samenvoegen", punt=1, in_punt=1, reden="x")
    assert "Dit mag alleen een coördinator" in seen(merge)
    export = await fake.slash(world.sanne, "agenda export", formaat="csv")
    assert export.ephemeral and not export.files
    assert "Dit mag alleen een coördinator" in seen(export)
    english = await fake.slash(world.kees, "agenda export", formaat="docx")
    assert "Only a coordinator can do this" in seen(english) and not english.files
    reason = await raw_slash(
        world, world.admin, "status", punt=1, status="besproken", reden="r" * 400
    )
    assert "**reden** is te lang: 400 tekens. Het mag maximaal 300 tekens zijn." in seen(reason)
    theme = await raw_slash(world, world.admin, "export", formaat="csv", thema="onbekend")
    assert "Kies voor **thema**: `Van behandelklimaat" in seen(theme) and not theme.files
    unknown = await fake.slash(world.sanne, "agenda bekijken", punt=42)
    assert "Agendapunt #42 ken ik niet. Bekijk de punten met /agenda lijst." in seen(unknown)

    viewed = await fake.slash(world.sanne, "agenda bekijken", punt=1)
    assert field(viewed.message, "Status") == "nieuw"
    assert field(viewed.message, "Steun") == "1"
    assert field(message, "Status") == "nieuw" and field(message, "Steun") == "1"
    assert len(fake.messages(world.agenda)) == 1
    assert fake.dms(world.sanne) == [], "nothing changed, so no notice"


# --- export ------------------------------------------------------------------------------


async def seed_through_discord(world: World) -> None:
    """Propose (named and anonymous) → support → discuss → status → merge."""
    fake = world.fake
    await propose(
        world, world.sanne, "Intervisie in elk team", 'Met komma\'s, "quotes" en\nregels.'
    )
    await propose(world, world.kees, "Ruimte voor eigen verhaal", anoniem=True, thema="europa")
    await propose(world, world.admin, "Intervisie voor iedereen")
    first = await card(world, 1)
    await fake.click(first, "Steun dit punt", by=world.closed)
    third = await card(world, 3)
    await fake.click(third, "Steun dit punt", by=world.kees)
    thread = await fake.wait_until(lambda: thread_of(world, first), what="the thread")
    assert thread is not None
    await fake.send_message(world.admin, thread, "Zullen we dit in de CoL bespreken?")
    await fake.slash(
        world.admin, "agenda status", punt=1, status="besproken", reden="Besproken in de CoL"
    )
    await fake.slash(world.admin, "agenda samenvoegen", punt=3, in_punt=1, reden="Dubbel")
    await card_shows(world, 1, "Steun", "2")
    await card_shows(world, 1, "Status", "besproken")


async def cli_export(database_url: str, fmt: str, target: Path) -> bytes:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")}
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "leerbot",
            "export",
            "agenda",
            "--format",
            fmt,
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment | {"LEERBOT_DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    return await asyncio.to_thread(target.read_bytes)


async def test_the_coordinator_exports_the_same_file_as_the_command_line(
    live: World, database_url: str, tmp_path: Path
) -> None:
    world, fake = live, live.fake
    await seed_through_discord(world)
    channel_messages = len(fake.messages(world.general))

    files: dict[str, bytes] = {}
    for fmt in ("md", "html", "csv", "xlsx", "docx"):
        answer = await fake.slash(world.admin, "agenda export", formaat=fmt)
        assert answer.ephemeral, "only the coordinator sees the export"
        assert "Hier is de export van de ontwikkelagenda. Alleen jij ziet dit bericht." in seen(
            answer
        )
        (attachment,) = answer.files
        assert attachment.filename == f"ontwikkelagenda-alles.{fmt}"
        files[fmt] = attachment.data
    assert len(fake.messages(world.general)) == channel_messages, "nothing posted for all"

    for fmt, data in files.items():
        from_cli = await cli_export(database_url, fmt, tmp_path / f"agenda.{fmt}")
        assert from_cli == data, f"the {fmt} export differs between Discord and the CLI"

    # the DOCX opens and reads like a report
    document = Document(io.BytesIO(files["docx"]))
    text = "\n".join(p.text for p in document.paragraphs)
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Ontwikkelagenda van Community of Learners" in text
    assert "Besproken in de CoL" in cells
    assert any("Intervisie in elk team" in c for c in cells)
    assert not any("Intervisie voor iedereen" in c for c in cells), "merged away"

    # the CSV round-trips: the same rows back, with stable columns
    rows = csv_rows(files["csv"])
    labels = [translate("nl", f"exports.sheets.agenda.{key}") for key in CSV_COLUMNS]
    assert list(rows[0].keys()) == labels
    by_id = {r["Nummer"]: r for r in rows}
    assert set(by_id) == {"1", "2"}
    assert by_id["1"]["Titel"] == "Intervisie in elk team"
    assert by_id["1"]["Beschrijving"] == 'Met komma\'s, "quotes" en\nregels.'
    assert (by_id["1"]["Steun"], by_id["1"]["Status"]) == ("2", "besproken")
    assert by_id["1"]["Ingediend door"] == "Sanne"
    assert by_id["2"]["Ingediend door"] == "anoniem", "the anonymous point has no author"
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow(labels)
    writer.writerows([r[c] for c in labels] for r in rows)
    assert ("\ufeff" + out.getvalue()).encode("utf-8") == files["csv"], "round-trips"

    for data in files.values():
        assert b"Kees" not in data, "the anonymous proposer is not in any export"
