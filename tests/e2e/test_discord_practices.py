"""The shared practice log on Discord, end to end: the real LeerbotClient on the local fake
Discord, with the scheduler running so that cards, threads and the digest appear as members
would see them. Share (two forms and the client check) → search (stemmed Dutch, filters,
paging, hostile queries) → edit → withdraw → digest → export → links.

The file runs on SQLite and, with LEERBOT_TEST_DATABASE_URL, on PostgreSQL; the expected
search hits are the same constants in both runs, so both engines must give the same hits."""

from __future__ import annotations

import asyncio
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update

from leerbot.config import Settings
from leerbot.db.models import Practice
from leerbot.db.models.scheduling import ScheduledJob
from leerbot.testing import InteractionRefused
from leerbot.testing import Reply as Seen
from leerbot.testing.state import Member, Message
from tests.e2e.conftest import World, discord_world, unexpected_errors
from tests.helpers import csv_rows, markdown_text

CONFIRM = "Niemand is herkenbaar — delen"
SITES = ("De Achterkant", "Kunstwerkplaats 4B", "Help mijn buurman", "Cliënten Service Desk")

# (title, site, what we do, tag): the corpus of tests/core/test_practices.py, shared here
# through Discord.
CORPUS = [
    (
        "Trainingen voor ervaringsdeskundigen",
        "De Achterkant",
        "Wij geven maandelijks een training aan nieuwe ervaringsdeskundigen.",
        "training",
    ),
    (
        "Lotgenotengroep op dinsdag",
        "Kunstwerkplaats 4B",
        "Een ervaringsdeskundige leidt een wekelijkse groep met lotgenoten.",
        "lotgenoten",
    ),
    (
        "Wandelen met buren",
        "Help mijn buurman",
        "Samen wandelen in de wijk, twee keer per week, met vrijwilligers.",
        "wijk",
    ),
    (
        "Intervisie in het team",
        "De Achterkant",
        "Professionals en ervaringsdeskundigen bespreken casussen in intervisie.",
        "intervisie",
    ),
    (
        "Werk en re-integratie",
        "Cliënten Service Desk",
        "Begeleiding naar betaald werk door ervaringsdeskundige coaches.",
        "werk",
    ),
]
TRAINING, LOTGENOTEN, WANDELEN, INTERVISIE, WERK = (c[0] for c in CORPUS)

# The same expected hits on SQLite (FTS5 + Snowball stems) and PostgreSQL ('dutch').
QUERIES = {
    "trainingen": {TRAINING},
    "training": {TRAINING},
    "ervaringsdeskundigen": {TRAINING, LOTGENOTEN, INTERVISIE, WERK},
    "ervaringsdeskundige": {TRAINING, LOTGENOTEN, INTERVISIE, WERK},
    "ervaringsdeskundigen intervisie": {INTERVISIE},
    "groepen lotgenoten": {LOTGENOTEN},
    "wandelingen": {WANDELEN},
    "wandelen wijk": {WANDELEN},
    "Trainingen!": {TRAINING},
    "fietsen": set(),
}


# --- seeing what members see ---------------------------------------------------------------


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


def field_of(answer: Seen | Message, name: str) -> str | None:
    message = answer.message if isinstance(answer, Seen) else answer
    assert message is not None
    for embed in message.embeds:
        for item in embed.get("fields") or []:
            if item["name"] == name:
                return str(item["value"])
    return None


def labels(answer: Seen | Message) -> list[str]:
    message = answer.message if isinstance(answer, Seen) else answer
    assert message is not None
    return [
        c["label"]
        for row in message.components
        for c in row.get("components", [])
        if c["type"] == 2
    ]


def hits(answer: Seen) -> set[str]:
    """The titles in a result list ("**#3** Title · Site")."""
    return set(re.findall(r"\*\*#\d+\*\* (.+?) · ", seen(answer)))


def numbers(answer: Seen) -> list[int]:
    return [int(n) for n in re.findall(r"\*\*#(\d+)\*\*", seen(answer))]


def cards(world: World) -> list[Message]:
    """The practice cards in the practices channel (#algemeen in this world)."""
    return [
        m
        for m in world.fake.messages(world.general)
        if any((e.get("title") or "").startswith("Praktijk #") for e in m.embeds)
    ]


def card_of(world: World, number: int) -> Message:
    (found,) = [m for m in cards(world) if m.embeds[0]["title"].startswith(f"Praktijk #{number}:")]
    return found


def everything_in_discord(world: World) -> str:
    """Every message the bot posted anywhere in the server (channels and threads) and every
    thread name: what any member could read."""
    texts: list[str] = []
    for channel in world.fake.channels.values():
        texts.append(channel.name or "")
        for message in world.fake.messages(channel):
            texts.append(seen(message))
    return "\n".join(texts)


# --- the world ---------------------------------------------------------------------------


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    """The community with the scheduler on; #algemeen is the practices channel."""
    async with discord_world(settings, scheduler=True) as opened:
        # these tests share a dozen practices in a few seconds (a card and a thread each);
        # Discord's per-channel limits would make them wait, so they are raised here
        limiter = opened.fake.rest.limiter
        for route in (
            "POST /channels/{channel_id}/messages",
            "PATCH /channels/{channel_id}/messages/{message_id}",
            "POST /channels/{channel_id}/messages/{message_id}/threads",
        ):
            limiter.set_route(route, 100, 1.0)
        answer = await opened.fake.slash(
            opened.admin,
            "leerbot setup",
            praktijken=opened.general,
            agenda=opened.agenda,
            sessies=opened.sessions,
            coordinatorrol=opened.coordinators,
            taal="nl",
        )
        assert "De instellingen zijn opgeslagen." in seen(answer)
        for site in SITES:
            await opened.fake.slash(opened.admin, "site toevoegen", naam=site)
        yield opened
        errors = unexpected_errors(opened)
        assert not errors, f"the bot logged errors: {errors}"
        store = opened.client._connection._view_store
        assert not store._views and not store._modals and not store._synced_message_views


async def draft(
    world: World,
    member: Member,
    title: str,
    what: str,
    *,
    tags: str | None = None,
    part_one: dict[str, str] | None = None,
    part_two: dict[str, str] | None = None,
    **options: Any,
) -> Seen:
    """Both forms (the second only when something is filled in for it); returns the client
    check with its buttons."""
    fake = world.fake
    form = await fake.slash(member, "praktijk delen", **options)
    saved = await fake.submit_modal(form, {"title": title, "what_we_do": what, **(part_one or {})})
    assert saved.ephemeral, seen(saved)
    assert "Deel 1 is bewaard als concept. Alleen jij ziet het." in seen(saved), seen(saved)
    if tags is None and not part_two:
        return await fake.click(saved, "Naar de controle")
    second = await fake.click(saved, "Deel 2 invullen")
    return await fake.submit_modal(second, {"tags": tags or "", **(part_two or {})})


async def share(
    world: World, member: Member, title: str, what: str, **kwargs: Any
) -> tuple[int, Seen]:
    """Share a practice the way a member does; returns its number and the answer to the
    confirm button, after its card is in the practices channel."""
    check = await draft(world, member, title, what, **kwargs)
    assert "Controle voor je deelt" in seen(check), seen(check)
    waiter = world.fake.wait_for_message(world.general)
    done = await world.fake.click(check, CONFIRM)
    match = re.search(r"in het logboek als #(\d+)", seen(done))
    assert match, seen(done)
    posted = await waiter
    number = int(match.group(1))
    assert posted.embeds[0]["title"] == f"Praktijk #{number}: {title}"
    await settled(world)
    return number, done


async def settled(world: World) -> None:
    """Wait until the scheduled work that is due (cards, threads) has run."""

    async def pending() -> int:
        async with world.app.sessionmaker() as db:
            return int(
                await db.scalar(
                    select(func.count(ScheduledJob.id)).where(
                        ScheduledJob.fired_at.is_(None),
                        ScheduledJob.cancelled_at.is_(None),
                        ScheduledJob.missed_at.is_(None),
                        ScheduledJob.due_at <= datetime.now(UTC),
                    )
                )
                or 0
            )

    for _ in range(200):
        if not await pending():
            return
        await asyncio.sleep(0.02)
    async with world.app.sessionmaker() as db:
        rows = [
            (j.key, j.due_at, j.started_at, j.fired_at, j.error)
            for j in await db.scalars(select(ScheduledJob))
        ]
    raise AssertionError(f"the scheduled work did not run: {rows}")


async def share_corpus(world: World) -> dict[str, int]:
    numbers: dict[str, int] = {}
    for title, site, what, tag in CORPUS:
        numbers[title], _ = await share(
            world,
            world.sanne,
            title,
            what,
            tags=tag,
            site=site,
            thema="samenwerking",
            niveau="organisatie",
        )
    return numbers


async def search(world: World, member: Member | None = None, **options: Any) -> Seen:
    """A search by Bram, a Dutch member who shared nothing (unless someone else is given)."""
    return await world.fake.slash(member or world.closed, "praktijk zoek", **options)


async def db_count(world: World) -> int:
    async with world.app.sessionmaker() as db:
        return int(await db.scalar(select(func.count(Practice.id))) or 0)


async def stored(world: World, number: int) -> Practice:
    async with world.app.sessionmaker() as db:
        row = await db.get(Practice, number)
    assert row is not None
    return row


async def forged_submit(world: World, form: Seen, member: Member, values: dict[str, str]) -> Seen:
    """Submit the modal the bot opened as a modified client could: no client-side checks
    (required, max length) and possibly as someone else."""
    fake = world.fake
    assert form.modal is not None
    components = [  # what is not given keeps the value the form was opened with
        {
            "type": 18,
            "component": {
                "type": 4,
                "custom_id": i["custom_id"],
                "value": values.get(i["custom_id"], i.get("value") or ""),
            },
        }
        for i in form.modal.inputs()
    ]
    record = fake._interaction_base(
        5, member, world.general, {"custom_id": form.modal.custom_id, "components": components}
    )
    form.modal.submitted = True
    return await fake._send_interaction(record, 5.0, True, "a hand-made form")


# --- sharing ----------------------------------------------------------------------------


async def test_sharing_takes_two_forms_and_a_check_before_anything_is_visible(
    world: World,
) -> None:
    fake = world.fake
    form = await fake.slash(
        world.sanne, "praktijk delen", site="De Achterkant", thema="samenwerking"
    )
    assert form.modal is not None
    assert form.modal.title == "Praktijk delen (deel 1 van 2)"
    first = {i["custom_id"]: i for i in form.modal.inputs()}
    assert list(first) == ["title", "context", "what_we_do", "expert_role", "why_it_works"]
    assert first["title"]["label"] == "Titel" and first["title"]["max_length"] == 100
    assert first["what_we_do"]["required"] and not first["context"]["required"]
    assert first["what_we_do"]["max_length"] == 1500

    saved = await fake.submit_modal(
        form,
        {
            "title": "Herstelcafé",
            "context": "Volwassenen in de wijk",
            "what_we_do": "Elke maand een herstelcafé met ervaringsdeskundigen.",
        },
    )
    assert saved.ephemeral
    assert labels(saved) == ["Deel 2 invullen", "Naar de controle"]
    second_form = await fake.click(saved, "Deel 2 invullen")
    assert second_form.modal is not None
    assert second_form.modal.title == "Praktijk delen (deel 2 van 2)"
    second = [i["custom_id"] for i in second_form.modal.inputs()]
    assert second == ["result", "pitfalls", "conditions", "funding", "tags"]
    check = await fake.submit_modal(
        second_form,
        {"result": "Twintig bezoekers per keer", "tags": "Herstel, Lotgenoten, herstel"},
    )
    assert check.ephemeral
    text = seen(check)
    assert "Controle voor je deelt: kan iemand uit deze tekst een cliënt herkennen?" in text
    assert "Praktijk #1: Herstelcafé" in text and "Twintig bezoekers per keer" in text
    assert field_of(check, "Trefwoorden") == "herstel, lotgenoten"
    assert field_of(check, "Proeftuin") == "De Achterkant"
    assert labels(check) == [CONFIRM, "Nog aanpassen", "Niet delen"]

    # nothing in Discord yet, and nobody else can find or open the draft
    assert not fake.messages(world.general) and not fake.threads(world.general)
    other = await fake.slash(world.kees, "praktijk bekijken", nummer=1)
    assert other.ephemeral and "Herstelcafé" not in seen(other)
    assert "I do not know practice #1." in seen(other), "in Kees's language"
    assert "Niets gevonden" in seen(await search(world, vraag="herstelcafé"))

    # "Nog aanpassen" opens the second form again, filled in
    again = await fake.click(check, "Nog aanpassen")
    assert again.modal is not None
    assert {i["custom_id"]: i.get("value") for i in again.modal.inputs()}["tags"] == (
        "herstel, lotgenoten"
    )
    check = await fake.submit_modal(again, {"result": "Dertig bezoekers", "tags": "herstel"})
    assert "Dertig bezoekers" in seen(check)
    assert not fake.messages(world.general)

    waiter = fake.wait_for_message(world.general)
    done = await fake.click(check, CONFIRM)
    assert done.ephemeral
    assert "Dank je wel! Je praktijk staat in het logboek als #1." in seen(done)
    posted = await waiter
    assert posted.embeds[0]["title"] == "Praktijk #1: Herstelcafé"
    assert field_of(posted, "Gedeeld door") == "Sanne"
    assert "Dertig bezoekers" in seen(posted)
    assert not labels(posted), "the card has no buttons; questions go in its thread"
    (thread,) = await fake.wait_until(
        lambda: fake.threads(world.general), what="the thread for questions"
    )
    assert thread.id == posted.id, "the thread hangs under the card"
    assert thread.name == "Vragen over: Herstelcafé"
    assert posted.allowed_mentions == {"parse": []}

    # a second confirm does not share twice
    twice = await fake.click(check, CONFIRM)
    assert "Dit is geen concept van jou (meer)." in seen(twice)
    found = await search(world, vraag="herstelcafé")
    assert hits(found) == {"Herstelcafé"}
    assert len(cards(world)) == 1


async def test_a_draft_can_be_discarded_without_a_trace(world: World) -> None:
    check = await draft(world, world.sanne, "Geheim plan", "Iets met een training.")
    assert await db_count(world) == 1
    gone = await world.fake.click(check, "Niet delen")
    assert gone.ephemeral
    assert "Het concept is weggegooid. Er is niets gedeeld." in seen(gone)
    assert await db_count(world) == 0
    assert not world.fake.messages(world.general)
    late = await world.fake.click(check, CONFIRM)
    assert late.ephemeral and "Praktijk #1 ken ik niet" in seen(late)
    assert not world.fake.messages(world.general)


async def test_an_anonymous_practice_shows_no_name_anywhere_in_discord(world: World) -> None:
    number, done = await share(
        world,
        world.sanne,
        "Anoniem herstelverhaal",
        "Een ervaringsdeskundige vertelt over herstel.",
        site="De Achterkant",
        anoniem=True,
        tags="herstel",
    )
    assert field_of(done, "Gedeeld door") == "anoniem"
    await world.fake.wait_until(lambda: world.fake.threads(world.general), what="the thread")
    card = card_of(world, number)
    assert field_of(card, "Gedeeld door") == "anoniem"
    assert "Sanne" not in seen(done)
    found = await search(world, vraag="herstelverhaal")
    assert hits(found) == {"Anoniem herstelverhaal"} and "Sanne" not in seen(found)
    viewed = await world.fake.slash(world.kees, "praktijk bekijken", nummer=number)
    assert field_of(viewed, "Shared by") == "anonymous" and "Sanne" not in seen(viewed)
    exported = await world.fake.slash(world.admin, "praktijk export", formaat="csv")
    (row,) = csv_rows(exported.files[0].data)
    assert row["Titel"] == "Anoniem herstelverhaal" and row["Gedeeld door"] == "anoniem"
    assert "Sanne" not in exported.files[0].data.decode()
    assert "Sanne" not in everything_in_discord(world)
    assert (await stored(world, number)).author_id is None, "no link to her is kept"


# --- search ------------------------------------------------------------------------------


async def test_stemmed_dutch_search_gives_the_same_expected_hits_on_each_database(
    world: World,
) -> None:
    """The expected hits are constants: this run (SQLite, or PostgreSQL with the env var)
    must give exactly these, so both engines agree."""
    await share_corpus(world)
    found = {query: hits(await search(world, vraag=query)) for query in QUERIES}
    assert found == QUERIES
    answer = await search(world, vraag="trainingen")
    assert answer.ephemeral
    assert seen(answer).startswith("Praktijken voor 'trainingen' (pagina 1 van 1, 1 gevonden)")
    assert "maandelijks een training" in seen(answer), "a summary of what they do"
    none = await search(world, vraag="fietsen")
    assert none.ephemeral and not labels(none)
    assert seen(none) == ("Niets gevonden voor 'fietsen'. Probeer andere of minder woorden.")
    english = await search(world, world.kees, vraag="wandelingen")
    assert hits(english) == {WANDELEN}
    assert "page 1 of 1" in seen(english)


async def test_search_filters_by_site_theme_level_and_tag(world: World) -> None:
    await share_corpus(world)
    await share(
        world,
        world.admin,
        "Ervaringsdeskundigen in de raad van bestuur",
        "Twee ervaringsdeskundigen adviseren het bestuur.",
        site="De Achterkant",
        thema="herstelklimaat",
        niveau="institutioneel",
        tags="bestuur, training",
    )
    query = "ervaringsdeskundige"
    everything = {
        TRAINING,
        LOTGENOTEN,
        INTERVISIE,
        WERK,
        "Ervaringsdeskundigen in de raad van bestuur",
    }
    assert hits(await search(world, vraag=query)) == everything
    by_site = await search(world, vraag=query, site="De Achterkant")
    assert hits(by_site) == {TRAINING, INTERVISIE, "Ervaringsdeskundigen in de raad van bestuur"}
    assert hits(await search(world, vraag=query, site="de achterkant")) == hits(by_site)
    by_theme = await search(world, vraag=query, thema="herstelklimaat")
    assert hits(by_theme) == {"Ervaringsdeskundigen in de raad van bestuur"}
    assert hits(await search(world, vraag=query, thema="samenwerking")) == everything - hits(
        by_theme
    )
    by_level = await search(world, vraag=query, niveau="organisatie")
    assert hits(by_level) == everything - hits(by_theme)
    assert hits(await search(world, vraag=query, tag="Training")) == {
        TRAINING,
        "Ervaringsdeskundigen in de raad van bestuur",
    }
    combined = await search(world, vraag=query, site="De Achterkant", tag="training")
    assert hits(combined) == {TRAINING, "Ervaringsdeskundigen in de raad van bestuur"}
    nothing = await search(world, vraag=query, site="Help mijn buurman")
    assert "Niets gevonden voor 'ervaringsdeskundige'" in seen(nothing)
    unknown = await search(world, vraag=query, site="Nergensland")
    assert unknown.ephemeral
    assert "De proeftuin Nergensland ken ik niet." in seen(unknown)
    assert "De Achterkant" in seen(unknown), "it names the sites it knows"


async def test_search_results_page_with_previous_and_next(world: World) -> None:
    await share_corpus(world)
    for n in range(3):
        await share(
            world,
            world.admin,
            f"Ervaringsdeskundige inzet {n + 1}",
            "Ervaringsdeskundigen op de afdeling.",
            site="Kunstwerkplaats 4B",
            tags="inzet",
        )
    first = await search(world, vraag="ervaringsdeskundigen")
    assert "(pagina 1 van 2, 7 gevonden)" in seen(first)
    assert len(numbers(first)) == 5
    assert labels(first) == ["Volgende"]
    second = await world.fake.click(first, "Volgende")
    assert "(pagina 2 van 2, 7 gevonden)" in seen(second)
    assert len(numbers(second)) == 2
    assert not set(numbers(first)) & set(numbers(second))
    assert hits(first) | hits(second) == {
        TRAINING,
        LOTGENOTEN,
        INTERVISIE,
        WERK,
        *(f"Ervaringsdeskundige inzet {n + 1}" for n in range(3)),
    }
    assert labels(second) == ["Vorige"]
    back = await world.fake.click(second, "Vorige")
    assert numbers(back) == numbers(first)

    # the filters stay with the pages
    for n in range(3):
        await share(
            world,
            world.admin,
            f"Ervaringsdeskundige inzet {n + 4}",
            "Ervaringsdeskundigen op de afdeling.",
            site="Kunstwerkplaats 4B",
            tags="inzet",
        )
    filtered = await search(world, vraag="ervaringsdeskundigen", site="Kunstwerkplaats 4B")
    assert "(pagina 1 van 2, 7 gevonden)" in seen(filtered), "6 'inzet' + the lotgenotengroep"
    on = await world.fake.click(filtered, "Volgende")
    assert "(pagina 2 van 2, 7 gevonden)" in seen(on)
    assert hits(filtered) | hits(on) == {
        LOTGENOTEN,
        *(f"Ervaringsdeskundige inzet {n + 1}" for n in range(6)),
    }
    tagged = await search(world, vraag="ervaringsdeskundigen", tag="inzet")
    on = await world.fake.click(tagged, "Volgende")
    assert hits(on) and all(t.startswith("Ervaringsdeskundige inzet") for t in hits(on))


NO_WORDS = ["***", "^*:", "()", '"', "-- ;", "de het een", "*:(){}[]<>", "_", "„…”"]
# What members might type, with operators of FTS5 or tsquery inside: each is read as plain
# words (all of them must occur), never as syntax.
AS_WORDS = {
    'training" OR "wandelen': set(),  # both words must occur: no practice has both
    "training OR wandelen": set(),  # "or" is a word too
    "training AND NOT werk": set(),
    "training & !wandelen | wijk": set(),
    "werk*": {WERK},
    "werk^": {WERK},
    "training:*": {TRAINING},
    "(training)": {TRAINING},
    "NEAR(training": set(),  # "near" is a word no practice has
    "title:training": set(),
    '" OR 1=1 --': set(),
    "'; DROP TABLE practices; --": set(),
    "lotgenoten-groep": {LOTGENOTEN},  # a hyphen is no NOT
    "Lotgenoten, groep!": {LOTGENOTEN},
}


async def test_hostile_queries_get_a_clear_message_or_are_read_as_words(world: World) -> None:
    await share_corpus(world)
    for query in NO_WORDS:
        answer = await search(world, vraag=query)
        assert answer.ephemeral
        assert seen(answer) == (
            "Typ een of meer woorden om op te zoeken, bijvoorbeeld: lotgenoten training."
        ), query
    blank = await search(world, vraag="   ")
    assert blank.ephemeral and seen(blank) == "Vul **vraag** in. Dat is nodig voor deze opdracht."
    english = await search(world, world.kees, vraag="***")
    assert seen(english) == "Type one or more words to search for, for example: peer training."

    found = {query: hits(await search(world, vraag=query)) for query in AS_WORDS}
    assert found == AS_WORDS
    # "and", "or", "not" are ordinary words: a practice that uses them is found
    await share(world, world.admin, "Not-cafe", "Het NOT-cafe: trainingen OR koffie.")
    assert hits(await search(world, vraag="NOT")) == {"Not-cafe"}
    assert hits(await search(world, vraag='"OR" koffie')) == {"Not-cafe"}
    # the engine took every query without a syntax error; nothing was changed
    assert hits(await search(world, vraag="ervaringsdeskundige")) == QUERIES["ervaringsdeskundige"]


async def test_an_overlong_query_is_refused_in_words(world: World) -> None:
    with pytest.raises(ValueError, match="characters"):
        await search(world, vraag="woord " * 40)
    query = " ".join(["lotgenoten"] * 20)
    overlong = await raw_slash(world, world.closed, "praktijk", "zoek", vraag=query)
    assert overlong.ephemeral
    assert "**vraag** is te lang: 219 tekens. Het mag maximaal 200 tekens zijn." in seen(overlong)


async def raw_slash(world: World, member: Member, group: str, sub: str, **options: str) -> Seen:
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


# --- forms: missing and overlong fields ----------------------------------------------------


async def test_missing_or_overlong_fields_get_a_clear_message_and_nothing_is_saved(
    world: World,
) -> None:
    fake = world.fake
    # Discord's client refuses an empty required field or too many characters …
    form = await fake.slash(world.sanne, "praktijk delen")
    with pytest.raises(InteractionRefused, match="required"):
        await fake.submit_modal(form, {"title": "", "what_we_do": "Iets"})
    form = await fake.slash(world.sanne, "praktijk delen")
    with pytest.raises(InteractionRefused, match="characters"):
        await fake.submit_modal(form, {"title": "x" * 101, "what_we_do": "Iets"})
    # … but spaces pass it, and a modified client sends anything: the bot says what is wrong
    cases = [
        ({"title": "   ", "what_we_do": "Iets"}, "Vul **titel** in."),
        ({"title": "Iets", "what_we_do": "  \n "}, "Vul **wat we doen** in."),
        ({"title": "", "what_we_do": "Iets"}, "Vul **titel** in."),
        (
            {"title": "x" * 150, "what_we_do": "Iets"},
            "**titel** is te lang: 150 tekens. Het mag maximaal 100 tekens zijn.",
        ),
        (
            {"title": "Iets", "what_we_do": "y" * 1501},
            "**wat we doen** is te lang: 1501 tekens. Het mag maximaal 1500 tekens zijn.",
        ),
        (
            {"title": "Iets", "what_we_do": "Iets", "context": "z" * 1001},
            "**context** is te lang: 1001 tekens. Het mag maximaal 1000 tekens zijn.",
        ),
    ]
    for values, message in cases:
        form = await fake.slash(world.sanne, "praktijk delen")
        answer = await forged_submit(world, form, world.sanne, values)
        assert answer.ephemeral
        assert seen(answer) == message, values
    assert await db_count(world) == 0, "no draft was saved"

    # the second form: too many or too long tags, an overlong field
    saved = await fake.submit_modal(
        await fake.slash(world.sanne, "praktijk delen"), {"title": "Goed", "what_we_do": "Iets"}
    )
    for values, message in [
        ({"tags": ", ".join(f"tag{n}" for n in range(11))}, "Gebruik hoogstens 10 trefwoorden."),
        (
            {"tags": "werk, " + "t" * 41},
            "**trefwoorden** is te lang: 41 tekens. Het mag maximaal 40 tekens zijn.",
        ),
        (
            {"funding": "f" * 501},
            "**financiering** is te lang: 501 tekens. Het mag maximaal 500 tekens zijn.",
        ),
    ]:
        second = await fake.click(saved, "Deel 2 invullen")
        answer = await forged_submit(world, second, world.sanne, values)
        assert answer.ephemeral and seen(answer) == message
    row = await stored(world, 1)
    assert (row.tags, row.funding, row.state) == ([], "", "draft"), "nothing was changed"
    assert not fake.messages(world.general)


# --- edit and withdraw ----------------------------------------------------------------------


async def test_the_author_edits_both_parts_and_the_card_shows_it_was_edited(
    world: World,
) -> None:
    fake = world.fake
    number, _ = await share(
        world,
        world.sanne,
        "Wandelen met buren",
        "Samen wandelen in de wijk.",
        site="Help mijn buurman",
        tags="wijk",
    )
    card = card_of(world, number)
    assert field_of(card, "Aangepast") is None

    which = await fake.slash(world.sanne, "praktijk wijzigen", nummer=number)
    assert which.ephemeral
    assert "Welk deel wil je aanpassen? De vorige versie blijft bewaard." in seen(which)
    assert labels(which) == ["Deel 1 aanpassen", "Deel 2 aanpassen"]
    form = await fake.click(which, "Deel 1 aanpassen")
    assert form.modal is not None
    filled = {i["custom_id"]: i.get("value") for i in form.modal.inputs()}
    assert filled["title"] == "Wandelen met buren"
    assert filled["what_we_do"] == "Samen wandelen in de wijk."
    edited = await fake.submit_modal(
        form,
        {
            "title": "Fietsen met buren",
            "what_we_do": "Samen fietsen door de wijk.",
            "why_it_works": "Bewegen helpt.",
        },
    )
    assert edited.ephemeral
    assert "De praktijk is aangepast. De vorige versie is bewaard." in seen(edited)
    assert field_of(edited, "Aangepast") == "1 keer (eerdere versies bewaard)"
    await settled(world)
    # the card in the channel is edited in place, and says so
    assert card.embeds[0]["title"] == f"Praktijk #{number}: Fietsen met buren"
    assert "Samen fietsen door de wijk." in seen(card) and "Bewegen helpt." in seen(card)
    assert field_of(card, "Aangepast") == "1 keer (eerdere versies bewaard)"
    assert card.edited_timestamp is not None
    assert len(cards(world)) == 1

    second = await fake.click(which, "Deel 2 aanpassen")
    assert second.modal is not None
    assert {i["custom_id"]: i.get("value") for i in second.modal.inputs()}["tags"] == "wijk"
    again = await fake.submit_modal(second, {"tags": "wijk, fietsen", "result": "Tien buren"})
    assert field_of(again, "Aangepast") == "2 keer (eerdere versies bewaard)"
    assert field_of(again, "Trefwoorden") == "wijk, fietsen"
    await settled(world)
    assert field_of(card, "Aangepast") == "2 keer (eerdere versies bewaard)"
    assert "Tien buren" in seen(card)

    # search follows the new text
    assert hits(await search(world, vraag="fietsen")) == {"Fietsen met buren"}
    assert "Niets gevonden" in seen(await search(world, vraag="wandelen"))

    # a coordinator may edit too (and an emptied required field is refused)
    form = await fake.click(
        await fake.slash(world.admin, "praktijk wijzigen", nummer=number), "Deel 1 aanpassen"
    )
    refused = await forged_submit(world, form, world.admin, {"what_we_do": "  "})
    assert seen(refused) == "Vul **wat we doen** in."
    assert (await stored(world, number)).what_we_do == "Samen fietsen door de wijk."


async def test_another_member_cannot_edit_or_withdraw_and_nothing_changes(world: World) -> None:
    fake = world.fake
    number, _ = await share(world, world.sanne, "Herstelcafé", "Een herstelcafé.", tags="cafe")
    card = card_of(world, number)
    before = seen(card)

    refused = await fake.slash(world.closed, "praktijk wijzigen", nummer=number)
    assert refused.ephemeral and not labels(refused)
    assert seen(refused) == (
        "Alleen wie de praktijk deelde, of een coördinator, kan hem aanpassen of intrekken."
    )
    english = await fake.slash(world.kees, "practice edit", number=number)
    assert seen(english) == (
        "Only the person who shared the practice, or a coordinator, can change or withdraw it."
    )
    # Sanne's edit form, submitted by Bram with a modified client
    which = await fake.slash(world.sanne, "praktijk wijzigen", nummer=number)
    form = await fake.click(which, "Deel 1 aanpassen")
    forged = await forged_submit(world, form, world.closed, {"title": "Van Bram"})
    assert forged.ephemeral and "Alleen wie de praktijk deelde" in seen(forged)
    second = await fake.click(which, "Deel 2 aanpassen")
    forged = await forged_submit(world, second, world.closed, {"tags": "bram"})
    assert forged.ephemeral and "Alleen wie de praktijk deelde" in seen(forged)
    withdraw = await fake.slash(world.closed, "praktijk intrekken", nummer=number)
    assert withdraw.ephemeral and "Alleen wie de praktijk deelde" in seen(withdraw)

    row = await stored(world, number)
    assert (row.title, row.tags, row.state) == ("Herstelcafé", ["cafe"], "shared")
    viewed = await fake.slash(world.closed, "praktijk bekijken", nummer=number)
    assert field_of(viewed, "Aangepast") is None
    await settled(world)
    assert seen(card) == before and card.edited_timestamp is None


async def test_withdrawing_removes_a_practice_from_search(world: World) -> None:
    fake = world.fake
    await share_corpus(world)
    number = 1
    assert hits(await search(world, vraag="training")) == {TRAINING}
    done = await fake.slash(world.sanne, "praktijk intrekken", nummer=number)
    assert done.ephemeral
    assert seen(done) == (f"{TRAINING} is ingetrokken. Het staat niet meer in de zoekresultaten.")
    await settled(world)
    assert "Niets gevonden voor 'training'" in seen(await search(world, vraag="training"))
    assert TRAINING not in hits(await search(world, vraag="ervaringsdeskundigen"))
    card = card_of(world, number)
    assert "Deze praktijk is ingetrokken." in seen(card)
    again = await fake.slash(world.sanne, "praktijk intrekken", nummer=number)
    assert seen(again) == "Deze praktijk is niet (meer) gedeeld."
    export = await fake.slash(world.admin, "praktijk export", formaat="csv")
    titles = {r["Titel"] for r in csv_rows(export.files[0].data)}
    assert titles == {LOTGENOTEN, WANDELEN, INTERVISIE, WERK}


# --- similar practices ------------------------------------------------------------------------


async def test_a_new_practice_like_one_from_another_site_shows_similar_practices(
    world: World,
) -> None:
    await share_corpus(world)
    _, done = await share(
        world,
        world.admin,
        "Training voor professionals",
        "Een training over herstel.",
        site="Kunstwerkplaats 4B",
        tags="training",
    )
    similar = field_of(done, "Vergelijkbare praktijken in andere proeftuinen")
    assert similar is not None, seen(done)
    assert similar.splitlines()[0] == f"#1 {TRAINING} (De Achterkant)"
    assert "Kunstwerkplaats 4B" not in similar, "only from other sites"
    # from the same site as the one that resembles it: nothing to point at
    _, alone = await share(
        world,
        world.admin,
        "Intervisie op maandag",
        "Collega's bespreken casussen.",
        site="De Achterkant",
        tags="intervisie",
    )
    assert field_of(alone, "Vergelijkbare praktijken in andere proeftuinen") is None
    _, unlike = await share(world, world.admin, "Moestuin", "Samen tuinieren.", tags="tuin")
    assert field_of(unlike, "Vergelijkbare praktijken in andere proeftuinen") is None


# --- digest ------------------------------------------------------------------------------


async def fire_digest(world: World) -> ScheduledJob:
    """Move the pending digest to now and let the app's scheduler run it."""
    async with world.app.sessionmaker() as db, db.begin():
        job = await db.scalar(
            select(ScheduledJob).where(
                ScheduledJob.kind == "practice.digest", ScheduledJob.fired_at.is_(None)
            )
        )
        assert job is not None, "sharing schedules the digest"
        assert job.due_at > datetime.now(UTC), "it is due later (weekly)"
        job.due_at = datetime.now(UTC)
        job_id = job.id
    scheduler = world.app.scheduler
    assert scheduler is not None
    assert await scheduler.fire(job_id)
    async with world.app.sessionmaker() as db:
        fired = await db.get(ScheduledJob, job_id)
    assert fired is not None and fired.fired_at is not None and fired.error is None
    return fired


async def test_the_digest_lists_new_and_updated_practices_per_site(world: World) -> None:
    fake = world.fake
    numbers = await share_corpus(world)
    old, _ = await share(world, world.sanne, "Oude praktijk", "Van lang geleden.", site=SITES[0])
    edited, _ = await share(world, world.sanne, "Oud maar aangepast", "Eerst.", site=SITES[1])
    gone, _ = await share(world, world.admin, "Ingetrokken", "Weg.", site=SITES[2])
    nowhere, _ = await share(world, world.admin, "Zonder plek", "Ergens.", anoniem=True)
    await fake.slash(world.admin, "praktijk intrekken", nummer=gone)
    # two were shared three weeks ago; one of them was edited this week
    weeks_ago = datetime.now(UTC) - timedelta(days=21)
    async with world.app.sessionmaker() as db, db.begin():
        await db.execute(
            update(Practice)
            .where(Practice.id.in_([old, edited]))
            .values(shared_at=weeks_ago, updated_at=weeks_ago)
        )
    form = await fake.click(
        await fake.slash(world.sanne, "praktijk wijzigen", nummer=edited), "Deel 1 aanpassen"
    )
    await fake.submit_modal(form, {"title": "Oud maar aangepast", "what_we_do": "Nu anders."})
    await settled(world)

    await fire_digest(world)  # returns when the job has run
    (digest,) = [m for m in fake.messages(world.general) if "praktijkenlogboek" in seen(m)]
    (embed,) = digest.embeds
    assert embed["title"] == "Nieuw en aangepast in het praktijkenlogboek"
    assert embed["description"].startswith("Dit is er sinds ")
    assert "kijk wat werkt bij de andere proeftuinen" in embed["description"]
    per_site = {f["name"]: f["value"].splitlines() for f in embed["fields"]}
    assert per_site == {
        "Zonder proeftuin": [f"#{nowhere} Zonder plek (nieuw)"],
        "Cliënten Service Desk": [f"#{numbers[WERK]} {WERK} (nieuw)"],
        "De Achterkant": [
            f"#{numbers[TRAINING]} {TRAINING} (nieuw)",
            f"#{numbers[INTERVISIE]} {INTERVISIE} (nieuw)",
        ],
        "Help mijn buurman": [f"#{numbers[WANDELEN]} {WANDELEN} (nieuw)"],
        "Kunstwerkplaats 4B": [
            f"#{numbers[LOTGENOTEN]} {LOTGENOTEN} (nieuw)",
            f"#{edited} Oud maar aangepast (aangepast)",
        ],
    }
    assert "Oude praktijk" not in seen(digest) and "Ingetrokken" not in seen(digest)
    assert digest.allowed_mentions == {"parse": []}
    assert "Sanne" not in seen(digest) and "Anna" not in seen(digest)


# --- export --------------------------------------------------------------------------------


async def test_a_coordinator_exports_docx_csv_and_markdown_only_to_themselves(
    world: World,
) -> None:
    from docx import Document

    fake = world.fake
    await share_corpus(world)
    await settled(world)
    in_channel = len(fake.messages(world.general))

    docx = await fake.slash(world.admin, "praktijk export", formaat="docx")
    assert docx.ephemeral
    assert seen(docx) == "Hier is de export van de praktijken. Alleen jij ziet dit bericht."
    (file,) = docx.files
    assert file.filename == "praktijken.docx"
    document = Document(io.BytesIO(file.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert f"#1 {TRAINING}" in headings and f"#5 {WERK}" in headings
    assert document.core_properties.title == "Praktijken van Community of Learners"
    body = "\n".join(p.text for p in document.paragraphs)
    assert "maandelijks een training" in body and "Proeftuin: De Achterkant" in body

    table = await fake.slash(world.admin, "praktijk export", formaat="csv")
    (file,) = table.files
    assert table.ephemeral and file.filename == "praktijken.csv"
    rows = csv_rows(file.data)
    assert [r["Titel"] for r in rows] == [c[0] for c in CORPUS]
    assert rows[0]["Proeftuin"] == "De Achterkant" and rows[0]["Tags"] == "training"
    assert rows[0]["Gedeeld door"] == "Sanne"
    assert rows[0]["Thema"] == "Samenwerking ervaringsdeskundigen en professionals"
    assert rows[0]["Wat we doen"] == CORPUS[0][2]

    markdown = await fake.slash(world.admin, "praktijk export")
    (file,) = markdown.files
    assert markdown.ephemeral and file.filename == "praktijken.md", "Markdown by default"
    text = markdown_text(file.data.decode("utf-8"))
    assert all(c[0] in text for c in CORPUS)

    one_site = await fake.slash(world.admin, "praktijk export", formaat="csv", site="De Achterkant")
    site_rows = csv_rows(one_site.files[0].data)
    assert {r["Titel"] for r in site_rows} == {TRAINING, INTERVISIE}

    # only to them: nothing was posted anywhere, no file in any channel
    assert len(fake.messages(world.general)) == in_channel
    for channel in fake.channels.values():
        assert not any(m.attachments for m in fake.messages(channel))

    refused = await fake.slash(world.sanne, "praktijk export", formaat="csv")
    assert refused.ephemeral and not refused.files
    assert "Dit mag alleen een coördinator" in seen(refused)
    english = await fake.slash(world.kees, "practice export", format="docx")
    assert not english.files and "Only a coordinator can do this" in seen(english)
    # a member with the coordinator role may
    world.sanne.role_ids.append(world.coordinators.id)
    allowed = await fake.slash(world.sanne, "praktijk export", formaat="csv")
    assert allowed.files and allowed.files[0].filename == "praktijken.csv"


# --- links ---------------------------------------------------------------------------------


async def plan_session(world: World) -> int:
    planned = await world.fake.slash(
        world.admin,
        "sessie plannen",
        titel="Intervisie herstel",
        start="morgen 19:30",
        spraakkanaal=world.voice,
    )
    assert planned.ephemeral, seen(planned)
    await settled(world)
    return 1


async def propose_point(world: World) -> int:
    form = await world.fake.slash(
        world.sanne, "agenda voorstel", thema="samenwerking", soort="wens", niveau="organisatie"
    )
    proposed = await world.fake.submit_modal(
        form, {"titel": "Meer trainingen", "beschrijving": "Wij willen meer trainingen."}
    )
    match = re.search(r"op de agenda als #(\d+)", seen(proposed))
    assert match, seen(proposed)
    await settled(world)
    return int(match.group(1))


async def test_practices_link_to_sessions_and_agenda_points_and_show_each_other(
    world: World,
) -> None:
    fake = world.fake
    session = await plan_session(world)
    point = await propose_point(world)
    number, _ = await share(world, world.sanne, "Herstelcafé", "Een herstelcafé.", tags="cafe")

    linked = await fake.slash(world.sanne, "praktijk koppel", nummer=number, sessie=session)
    assert linked.ephemeral
    assert seen(linked) == f"Herstelcafé is gekoppeld aan intervisie #{session}."
    twice = await fake.slash(world.sanne, "praktijk koppel", nummer=number, sessie=session)
    assert seen(twice) == "Die koppeling bestaat al."
    unknown = await fake.slash(world.sanne, "praktijk koppel", nummer=number, sessie=99)
    assert "Bijeenkomst #99 ken ik niet." in seen(unknown)
    not_hers = await fake.slash(world.closed, "praktijk koppel", nummer=number, sessie=session)
    assert "Alleen wie de praktijk deelde" in seen(not_hers)

    member = await fake.slash(world.sanne, "agenda koppel", punt=point, praktijk=number)
    assert member.ephemeral and "Dit mag alleen een coördinator" in seen(member)
    done = await fake.slash(world.admin, "agenda koppel", punt=point, praktijk=number)
    assert done.ephemeral
    assert seen(done) == "De koppeling is gemaakt. Meer trainingen laat het nu zien."
    again = await fake.slash(world.admin, "agenda koppel", punt=point, praktijk=number)
    assert seen(again) == "Die koppeling bestaat al."
    both = await fake.slash(world.admin, "agenda koppel", punt=point)
    assert seen(both) == "Kies een sessie of een praktijk (één van de twee)."

    practice = await fake.slash(world.closed, "praktijk bekijken", nummer=number)
    assert field_of(practice, "Gekoppeld aan") == f"agendapunt #{point}, intervisie #{session}"
    agenda = await fake.slash(world.closed, "agenda bekijken", punt=point)
    assert field_of(agenda, "Gekoppeld aan") == f"praktijk #{number}"


async def test_a_practice_with_every_field_full_still_fits_on_discord(world: World) -> None:
    """Every field at its maximum: the card, its thread and the search results stay within
    Discord's limits (the fake checks every request against them)."""
    fake = world.fake
    unknown = await fake.slash(world.sanne, "praktijk delen", site="Nergensland")
    assert unknown.ephemeral and unknown.modal is None
    assert "De proeftuin Nergensland ken ik niet." in seen(unknown)

    title = "Ervaringsdeskundigen " + "t" * 79
    part_one = {"context": "c" * 1000, "expert_role": "e" * 1000, "why_it_works": "w" * 1500}
    part_two = {"result": "r" * 1000, "pitfalls": "p" * 1500, "conditions": "v" * 1000}
    part_two |= {"funding": "f" * 500}
    tags = ", ".join(f"{n}" * 40 for n in range(7))  # the form takes 300 characters
    number, done = await share(
        world,
        world.sanne,
        title,
        "@everyone " + "x" * 1490,
        site="Cliënten Service Desk",
        part_one=part_one,
        part_two=part_two,
        tags=tags,
    )
    assert len(title) == 100 and f"#{number}" in seen(done)
    card = card_of(world, number)
    embed = card.embeds[0]
    assert embed["title"] == f"Praktijk #{number}: {title}"
    assert not card.mentions_everyone()
    (thread,) = fake.threads(world.general)
    assert len(thread.name) <= 100 and thread.name.startswith("Vragen over: Ervaringsdeskundigen")
    found = await search(world, vraag="ervaringsdeskundigen")
    assert f"**#{number}**" in seen(found)
    fake.assert_no_violations()


async def test_the_posted_cards_show_their_links(world: World) -> None:
    """The card in the practices channel (with the thread for questions) and the agenda
    point's card in the agenda channel are updated when they are linked."""
    fake = world.fake
    session = await plan_session(world)
    point = await propose_point(world)
    number, _ = await share(world, world.sanne, "Herstelcafé", "Een herstelcafé.", tags="cafe")
    practice_card = card_of(world, number)
    (agenda_card,) = [
        m
        for m in fake.messages(world.agenda)
        if m.embeds and m.embeds[0]["title"].startswith(f"Agendapunt #{point}:")
    ]
    await fake.slash(world.sanne, "praktijk koppel", nummer=number, sessie=session)
    await fake.slash(world.admin, "agenda koppel", punt=point, praktijk=number)
    await settled(world)
    shown = (field_of(practice_card, "Gekoppeld aan"), field_of(agenda_card, "Gekoppeld aan"))
    assert shown == (f"agendapunt #{point}, intervisie #{session}", f"praktijk #{number}")


async def test_an_agenda_point_cannot_link_a_practice_that_does_not_exist(world: World) -> None:
    fake = world.fake
    point = await propose_point(world)
    check = await draft(world, world.sanne, "Nog geheim", "Alleen een concept.")
    assert labels(check)[0] == CONFIRM
    for number in (99, 1):  # unknown, and Sanne's draft (nobody else may see it)
        answer = await fake.slash(world.admin, "agenda koppel", punt=point, praktijk=number)
        assert answer.ephemeral
        assert seen(answer) == (
            f"Praktijk #{number} ken ik niet. Zoek praktijken met /praktijk zoek."
        )
    agenda = await fake.slash(world.closed, "agenda bekijken", punt=point)
    assert field_of(agenda, "Gekoppeld aan") is None, "nothing was linked"


async def test_numbers_and_codes_are_found_the_same_way_on_each_database(world: World) -> None:
    """Words with digits and signs in them ('COVID-19', '18-65', '24/7') are split into
    the same words in the practice and in the search, on SQLite and on PostgreSQL."""
    await share_corpus(world)
    await share(
        world,
        world.sanne,
        "Herstelcafé 24/7",
        "Voor volwassenen van 18-65 jaar; sinds COVID-19 ook online, versie 2.0.",
        tags="online",
    )
    queries = {
        "covid": {"Herstelcafé 24/7"},
        "COVID-19": {"Herstelcafé 24/7"},
        "24/7": {"Herstelcafé 24/7"},
        "18-65 jaar": {"Herstelcafé 24/7"},
        "versie 2.0": {"Herstelcafé 24/7"},
        "online herstelcafé": {"Herstelcafé 24/7"},
    }
    found = {query: hits(await search(world, vraag=query)) for query in queries}
    assert found == queries


async def test_a_draft_finished_days_later_is_new_in_the_digest(world: World) -> None:
    """Sanne starts a practice, comes back to it a week and a half later and shares it: it
    is new this week, so the digest lists it."""
    check = await draft(world, world.sanne, "Laat gedeeld", "Eerst bedacht, later gedeeld.")
    started = datetime.now(UTC) - timedelta(days=10)
    async with world.app.sessionmaker() as db, db.begin():
        await db.execute(update(Practice).values(created_at=started, updated_at=started))
    waiter = world.fake.wait_for_message(world.general)
    await world.fake.click(check, CONFIRM)
    await waiter
    await settled(world)
    await fire_digest(world)
    digests = [m for m in world.fake.messages(world.general) if "praktijkenlogboek" in seen(m)]
    assert [field_of(m, "Zonder proeftuin") for m in digests] == ["#1 Laat gedeeld (nieuw)"]


async def test_paging_keeps_the_query_with_filters(world: World) -> None:
    """Page 2 is the same search as page 1, also with every filter set."""
    tag = "ervaringsdeskundigheid in de organisatie"
    for n in range(7):
        await share(
            world,
            world.sanne,
            f"Eigen regie {n + 1}",
            "Ervaringsdeskundigen in de raad van toezicht.",
            site="Kunstwerkplaats 4B",
            thema="verzelfstandiging",
            niveau="interpersoonlijk",
            tags=tag,
        )
    first = await search(
        world,
        vraag="ervaringsdeskundigen toezicht",
        site="Kunstwerkplaats 4B",
        thema="verzelfstandiging",
        niveau="interpersoonlijk",
        tag=tag,
    )
    assert "(pagina 1 van 2, 7 gevonden)" in seen(first)
    second = await world.fake.click(first, "Volgende")
    assert seen(second).startswith(
        "Praktijken voor 'ervaringsdeskundigen toezicht' (pagina 2 van 2, 7 gevonden)"
    ), seen(second)
    assert len(numbers(second)) == 2


async def test_saving_the_edit_form_unchanged_is_not_an_edit(world: World) -> None:
    number, _ = await share(world, world.sanne, "Herstelcafé", "Een herstelcafé.")
    form = await world.fake.click(
        await world.fake.slash(world.sanne, "praktijk wijzigen", nummer=number),
        "Deel 1 aanpassen",
    )
    assert form.modal is not None
    same = {i["custom_id"]: i.get("value") or "" for i in form.modal.inputs()}
    answer = await world.fake.submit_modal(form, same)
    assert seen(answer) == "Je hebt niets gekozen om te veranderen.", seen(answer)
    await settled(world)
    assert field_of(card_of(world, number), "Aangepast") is None
