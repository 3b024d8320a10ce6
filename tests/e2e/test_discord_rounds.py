"""Reflection-question rounds on Discord, end to end: the real LeerbotClient with its
scheduler on the local fake Discord. A moderator starts a round, members get the invitation
(with the house rules) as a DM — or in a private thread when their DMs are closed —, answer
in forms of at most five questions, skip or pause, get one gentle reminder, and after the
deadline the summary is posted only when enough people answered. Each test asserts what a
member or moderator would notice; the anonymity test dumps the whole database and the log.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from leerbot.adapters.discord import LeerbotClient
from leerbot.adapters.discord.runner import PRIVATE_LOGGERS, _quiet_private_loggers
from leerbot.app import open_app
from leerbot.config import DiscordSettings, Settings
from leerbot.db.models import Base, ScheduledJob
from leerbot.scheduling import run_due
from leerbot.testing import FakeDiscord, run_fake_discord
from leerbot.testing import Reply as Seen
from leerbot.testing.state import Member, Message
from tests.e2e.conftest import World, _declare, discord_world, unexpected_errors

# Invitations and reminders come in each member's language (Kees's Discord is English).
INVITE = ("Reflectieronde: ", "Reflection round: ")
HOUSE_RULES = "Geef geen ongevraagd advies."
SAVED_NAMED = "Dank je wel! Je antwoord voor {} is bewaard."
SAVED_ANONYMOUS = "Dank je wel! Je anonieme antwoord voor {} is bewaard."
CONFIRM = "Niemand is herkenbaar: naar de vragen"


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


def buttons_of(message: Seen | Message) -> list[dict[str, Any]]:
    components = message.components
    return [c for row in components for c in row.get("components", []) if c["type"] == 2]


def labels(message: Seen | Message) -> list[str]:
    return [b["label"] for b in buttons_of(message)]


def titled(messages: list[Message], prefix: str | tuple[str, ...]) -> list[Message]:
    return [m for m in messages if any((e.get("title") or "").startswith(prefix) for e in m.embeds)]


def invitations(world: World, member: Member) -> list[Message]:
    return titled(world.fake.dms(member), INVITE)


def reminders(world: World, member: Member) -> list[Message]:
    return titled(world.fake.dms(member), ("Herinnering: ", "Reminder: "))


async def invitation_for(world: World, member: Member) -> Message:
    found = await world.fake.wait_until(
        lambda: invitations(world, member), what=f"the invitation for {member.user.global_name}"
    )
    return found[-1]


def summaries(world: World) -> list[Message]:
    return [m for m in world.fake.messages(world.announcements) if "# Samenvatting" in m.content]


def answers_in(summary: str) -> dict[str, list[str]]:
    """{question: [answer lines]} as a reader sees the posted Markdown summary."""
    found: dict[str, list[str]] = {}
    current: list[str] = []
    for line in summary.splitlines():
        if line.startswith(("**Bronnen**", "**Sources**")):
            break  # the list of sources at the end
        if line.startswith("## "):
            current = found.setdefault(line[3:], [])
        elif line.startswith("- "):
            current.append(line[2:])
    return found


def modal_fields(answer: Seen) -> list[dict[str, Any]]:
    assert answer.modal is not None, f"no form opened: {seen(answer)!r}"
    return answer.modal.inputs()


# --- the community -----------------------------------------------------------------------


async def setup_community(world: World) -> None:
    done = await world.fake.slash(
        world.admin,
        "leerbot setup",
        aankondigingen=world.announcements,
        coordinatorrol=world.coordinators,
        taal="nl",
    )
    assert "De instellingen zijn opgeslagen." in seen(done)
    for member in (world.sanne, world.kees, world.closed):  # known to the bot from now on
        listed = await world.fake.slash(member, "ronde lijst")
        assert listed.ephemeral


def check_clean(world: World) -> None:
    errors = unexpected_errors(world)
    assert not errors, f"the bot logged errors: {errors}"
    store = world.client._connection._view_store
    assert not store._views and not store._modals and not store._synced_message_views


SMALL = 2
"""These rounds run in a server of four: the small-number threshold is 2 here (the default,
5, is tested in test_discord_safety.py and tests/core/test_round_review.py)."""


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    small = settings.model_copy(
        update={"privacy": settings.privacy.model_copy(update={"small_number_threshold": SMALL})}
    )
    async with discord_world(small, scheduler=True) as opened:
        await setup_community(opened)
        yield opened
        check_clean(opened)


async def start_round(world: World, **options: Any) -> Seen:
    options.setdefault("titel", "Terugblik")
    started = await world.fake.slash(world.admin, "ronde start", **options)
    assert started.ephemeral
    return started


async def jobs(world: World, round_id: int = 1) -> dict[str, ScheduledJob]:
    async with world.app.sessionmaker() as db:
        rows = await db.scalars(
            select(ScheduledJob).where(ScheduledJob.key.startswith(f"round:{round_id}:"))
        )
        return {row.key.split(":", 2)[2]: row for row in rows}


async def make_due(world: World, key: str) -> None:
    """The moment comes: move a scheduled job's time to now (as if the days had passed)."""
    async with world.app.sessionmaker() as db, db.begin():
        moved = await db.execute(
            update(ScheduledJob)
            .where(ScheduledJob.key == key)
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
        assert moved.rowcount == 1, key  # type: ignore[attr-defined]


async def pass_deadline(world: World, round_id: int = 1, *, publish: bool = True) -> Message | None:
    """The round's deadline passes: the moderator who started it gets the draft; with
    `publish` they press *Publiceren*. Returns the summary posted, if any."""
    before = len(summaries(world))
    drafts = len(drafts_for(world, world.admin))
    await make_due(world, f"round:{round_id}:close")
    assert world.app.scheduler is not None
    await run_due(world.app.scheduler)
    if publish:
        draft = await world.fake.wait_until(
            lambda: drafts_for(world, world.admin)[drafts:], what="the draft for the moderator"
        )
        if "Publiceren" in labels(draft[-1]):
            await publish_draft(world, draft[-1])
    after = summaries(world)
    return after[-1] if len(after) > before else None


def drafts_for(world: World, member: Member) -> list[Message]:
    return titled(world.fake.dms(member), ("Concept: ", "Draft: "))


async def publish_draft(world: World, draft: Message | Seen) -> Seen:
    before = len(summaries(world))
    published = await world.fake.click(draft, "Publiceren", by=world.admin.user)
    assert "wordt nu gepubliceerd" in seen(published), seen(published)
    await world.fake.wait_until(lambda: len(summaries(world)) > before, what="the summary")
    return published


ENGLISH = {
    "Beantwoorden": "Answer",
    "Overslaan": "Skip",
    "Pauzeer mij": "Pause me",
    CONFIRM: "Nobody is recognisable: to the questions",
    "Met mijn naam": "Nobody is recognisable: with my name",
    "Anoniem": "Nobody is recognisable: without a name",
}
NL_CHOICE = {
    "Met mijn naam": "Niemand is herkenbaar: met mijn naam",
    "Anoniem": "Niemand is herkenbaar: zonder naam",
}


def button(member: Member, dutch: str) -> str:
    """A button's label as this member sees it (Kees's Discord is in English)."""
    return ENGLISH.get(dutch, dutch) if member.user.locale.startswith("en") else dutch


async def open_form(
    world: World, message: Message | Seen, member: Member, *, mode: str | None = None
) -> Seen:
    """*Beantwoorden*, then the recognisability check (with help lines), whose button —
    one, or *met mijn naam* / *anoniem* in a member's-choice round — opens the form."""
    check = await world.fake.click(message, button(member, "Beantwoorden"), by=member.user)
    assert check.modal is None, "the check comes before the form"
    text = seen(check)
    assert "113" in text and "112" in text, "help lines with the check"
    if mode is None:
        assert labels(check) == [button(member, CONFIRM)], labels(check)
        return await world.fake.click(check, button(member, CONFIRM))
    assert len(labels(check)) == 2, labels(check)
    choice = mode if mode.startswith(("Niemand", "Nobody")) else button(member, mode)
    if member.user.locale.startswith("nl"):
        choice = NL_CHOICE.get(mode, choice)
    return await world.fake.click(check, choice)


async def confirm(world: World, check: Seen, member: Member) -> Seen:
    """Press the one button of the recognisability check: the form opens."""
    assert check.modal is None and labels(check) == [button(member, CONFIRM)], seen(check)
    return await world.fake.click(check, button(member, CONFIRM))


async def form_by_command(world: World, member: Member, round_id: int = 1) -> Seen:
    """`/ronde beantwoorden`: the check, then the form."""
    check = await world.fake.slash(member, "ronde beantwoorden", ronde=round_id)
    return await confirm(world, check, member)


async def answer_in_dm(
    world: World, member: Member, values: dict[str, str], *, mode: str | None = None
) -> Seen:
    """Open the invitation in the DM, pass the check (choosing named or anonymous in a
    member's-choice round: `mode` is "Met mijn naam" or "Anoniem"), and fill in the form."""
    invitation = await invitation_for(world, member)
    form = await open_form(world, invitation, member, mode=mode)
    return await world.fake.submit_modal(form, values)


# --- named, anonymous, member's choice -----------------------------------------------------


async def test_a_named_round_from_invitation_to_summary(world: World) -> None:
    fake = world.fake
    started = await start_round(
        world,
        vraag1="Wat neem je mee uit deze maand?",
        vraag2="Wat heb je nodig van de groep?",
        anoniem="named",
        minimum=2,
    )
    text = seen(started)
    assert "Reflectieronde #1 (Terugblik) is gestart voor 4 leden." in text

    invitation = await invitation_for(world, world.sanne)
    (embed,) = invitation.embeds
    assert embed["title"] == "Reflectieronde: Terugblik"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert [(f["name"], f["value"]) for f in embed["fields"]][:2] == [
        ("Vraag 1", "Wat neem je mee uit deze maand?"),
        ("Vraag 2", "Wat heb je nodig van de groep?"),
    ]
    who = fields["Wie leest je antwoord?"]
    assert "Een moderator leest de samenvatting eerst." in who
    assert "in het kanaal voor aankondigingen. Iedereen in deze community kan die lezen." in who
    assert "Je antwoord komt met je naam in de samenvatting." in who
    assert "minstens 2 mensen antwoorden" in who
    assert fields["Samenvatting"] == f"<#{world.announcements.id}>"
    assert HOUSE_RULES in fields["Huisregels"]
    assert "113" in fields["Hulp nodig?"] and "112" in fields["Hulp nodig?"]
    assert labels(invitation) == ["Beantwoorden", "Overslaan", "Pauzeer mij"]
    assert invitation.allowed_mentions == {"parse": []}

    form = await open_form(world, invitation, world.sanne)
    assert form.modal is not None and form.modal.title == "Reflectie (deel 1 van 1)"
    fields = modal_fields(form)
    assert [f["label"] for f in fields] == [
        "Wat neem je mee uit deze maand?",
        "Wat heb je nodig van de groep?",
    ]
    assert all(f["style"] == 2 and not f.get("required") for f in fields)
    assert all(f["max_length"] == 1500 for f in fields)
    assert fields[0]["placeholder"] == "Alleen wat je wilt delen. Leeg laten mag."
    saved = await fake.submit_modal(form, {"Wat neem je mee uit deze maand?": "Meer rust."})
    assert SAVED_NAMED.format("Terugblik") in seen(saved)
    assert saved.ephemeral
    assert labels(saved) == ["Antwoord aanpassen", "Antwoord verwijderen"]
    assert "113" in seen(saved), "help lines with the confirmation"

    saved = await answer_in_dm(
        world, world.kees, {"Wat heb je nodig van de groep?": "Dat we elkaar laten uitpraten."}
    )
    assert "Terugblik" in seen(saved)

    still_open = await fake.slash(world.admin, "ronde samenvatting", ronde=1)
    assert "Deze ronde is nog open: 2 van 4 hebben geantwoord." in seen(still_open)

    listed = await fake.slash(world.sanne, "ronde lijst")
    assert "**#1** Terugblik · open tot" in seen(listed)
    assert "je hebt geantwoord" in seen(listed)

    posted = await pass_deadline(world, publish=False)
    assert posted is None, "nothing is posted before a moderator publishes"
    (draft,) = drafts_for(world, world.admin)
    assert "Nog niets is gedeeld: alleen moderatoren zien dit." in seen(draft)
    assert "[1] Meer rust. — Sanne" in seen(draft)
    assert labels(draft) == ["Publiceren", "Antwoord weghalen", "Niet publiceren"]
    for member in (world.sanne, world.kees):
        assert not drafts_for(world, member)
    await publish_draft(world, draft)
    (posted,) = summaries(world)
    summary = posted.content
    assert summary.startswith("# Samenvatting: Terugblik")
    assert "2 van de 4 leden hebben geantwoord." in summary
    assert answers_in(summary) == {
        "Wat neem je mee uit deze maand?": ["Meer rust. — Sanne"],
        "Wat heb je nodig van de groep?": ["Dat we elkaar laten uitpraten. — Kees"],
    }
    assert posted.allowed_mentions == {"parse": []}

    again = await fake.slash(world.admin, "ronde samenvatting", ronde=1)
    assert "Gepubliceerd." in seen(again) and "[2] Dat we elkaar laten uitpraten." in seen(again)
    assert labels(again) == ["Antwoord weghalen"]
    twice = await fake.click(draft, "Publiceren", by=world.admin.user)
    assert "Deze samenvatting is al gepubliceerd." in seen(twice)
    listed = await fake.slash(world.sanne, "ronde lijst")
    assert "**#1** Terugblik · gesloten" in seen(listed)
    assert len(summaries(world)) == 1


async def test_an_anonymous_round_from_invitation_to_summary(world: World) -> None:
    fake = world.fake
    await start_round(world, vraag1="Wat gaf je energie?", anoniem="anonymous", minimum=2)
    invitation = await invitation_for(world, world.sanne)
    who = seen(invitation)
    assert "Je antwoord komt zonder je naam in de samenvatting. Wie de samenvatting leest, " in who
    assert "Niemand kan zien dat ze van jou zijn, ook de moderatoren niet." in who
    assert "niemand kan zien wat jij schreef" not in who  # the old, untrue promise

    saved = await answer_in_dm(world, world.sanne, {"Wat gaf je energie?": "De wandeling."})
    assert SAVED_ANONYMOUS.format("Terugblik") in seen(saved)
    assert "bewaar dit bericht dus" in seen(saved)
    assert labels(saved) == ["Antwoord aanpassen", "Antwoord verwijderen"]
    await answer_in_dm(world, world.kees, {"Wat gaf je energie?": "Samen koken."})

    # an anonymous answer cannot be given twice from the invitation: only her own buttons
    twice = await fake.click(invitation, "Beantwoorden", by=world.sanne.user)
    assert twice.modal is None
    assert "Je hebt deze ronde al beantwoord." in seen(twice)

    posted = await pass_deadline(world)
    assert posted is not None
    summary = posted.content
    assert "2 van de 4 leden hebben geantwoord." in summary
    assert sorted(answers_in(summary)["Wat gaf je energie?"]) == ["De wandeling.", "Samen koken."]
    assert "Sanne" not in summary and "Kees" not in summary
    exported = await fake.slash(world.admin, "ronde export", ronde=1, formaat="csv")
    (file,) = exported.files
    table = file.data.decode("utf-8")
    assert "De wandeling." in table and "Sanne" not in table and "Kees" not in table


async def test_a_members_choice_round_shows_names_only_for_named_answers(world: World) -> None:
    fake = world.fake
    await start_round(world, vraag1="Wat heb je geleerd?", minimum=2)  # anoniem: lid kiest
    invitation = await invitation_for(world, world.sanne)
    assert "Je kiest zelf: met je naam, of zonder naam." in seen(invitation)
    assert "alleen in de samenvatting als minstens 2 mensen zonder naam antwoorden" in seen(
        invitation
    )

    choose = await fake.click(invitation, "Beantwoorden", by=world.sanne.user)
    assert (
        "Anoniem: je woorden staan in de samenvatting, maar niemand kan zien dat ze van "
        in seen(choose)
    )
    assert labels(choose) == [
        "Niemand is herkenbaar: met mijn naam",
        "Niemand is herkenbaar: zonder naam",
    ]
    form = await fake.click(choose, "Niemand is herkenbaar: met mijn naam")
    named = await fake.submit_modal(form, {"Wat heb je geleerd?": "Luisteren zonder oordeel."})
    assert SAVED_NAMED.format("Terugblik") in seen(named)
    # Kees's Discord is in English: the bot answers his clicks in English
    hidden = await answer_in_dm(
        world, world.kees, {"Wat heb je geleerd?": "Dat ik niet alleen ben."}, mode="Anoniem"
    )
    assert "Thank you! Your anonymous answer for Terugblik is saved." in seen(hidden)
    await answer_in_dm(
        world, world.admin, {"Wat heb je geleerd?": "Vragen stellen."}, mode="Anoniem"
    )

    posted = await pass_deadline(world)
    assert posted is not None
    summary = posted.content
    assert answers_in(summary)["Wat heb je geleerd?"][0] == "Luisteren zonder oordeel. — Sanne"
    assert sorted(answers_in(summary)["Wat heb je geleerd?"][1:]) == [
        "Dat ik niet alleen ben.",
        "Vragen stellen.",
    ]
    assert "Kees" not in summary and "Anna" not in summary


async def test_one_anonymous_answer_among_named_ones_is_held_back(world: World) -> None:
    """Three answered, two with their name: the one answer without a name would point at
    the third person, so it is counted but not shown, to the moderator either."""
    await start_round(world, vraag1="Wat heb je geleerd?", minimum=2)
    for member, said in ((world.sanne, "Rust."), (world.admin, "Geduld.")):
        await answer_in_dm(world, member, {"Wat heb je geleerd?": said}, mode="Met mijn naam")
    await answer_in_dm(world, world.kees, {"Wat heb je geleerd?": "Van Kees."}, mode="Anoniem")
    posted = await pass_deadline(world)
    assert posted is not None
    summary = posted.content
    assert "3 van de 4 leden hebben geantwoord." in summary
    assert "Van Kees." not in summary
    assert "1 antwoord zonder naam staat hier niet: minder dan 2 mensen kozen" in summary
    (draft,) = drafts_for(world, world.admin)
    assert "Van Kees." not in seen(draft)


async def test_a_moderator_closes_a_round_early_and_the_summary_follows(world: World) -> None:
    fake = world.fake
    await start_round(world, vraag1="Wat neem je mee?", anoniem="named", minimum=1)
    await answer_in_dm(world, world.sanne, {"Wat neem je mee?": "Moed."})
    closing = await fake.slash(world.admin, "ronde sluiten", ronde=1)
    assert "De ronde Terugblik wordt nu gesloten. Jij krijgt eerst een concept" in seen(closing)
    (draft,) = await fake.wait_until(lambda: drafts_for(world, world.admin), what="the draft")
    assert not summaries(world), "nothing in the channel before a moderator publishes"
    await publish_draft(world, draft)
    (posted,) = summaries(world)
    assert answers_in(posted.content) == {"Wat neem je mee?": ["Moed. — Sanne"]}
    late = await fake.click(await invitation_for(world, world.kees), "Answer", by=world.kees.user)
    assert "This round is closed. Answering is no longer possible." in seen(late)  # Kees: en-US


# --- the threshold -------------------------------------------------------------------------


async def test_too_few_answers_withhold_the_summary(world: World) -> None:
    fake = world.fake
    await start_round(world, vraag1="Wat was lastig?", anoniem="named", minimum=3)
    await answer_in_dm(world, world.sanne, {"Wat was lastig?": "Het gesprek met mijn teamleider."})
    kees = await invitation_for(world, world.kees)
    skipped = await fake.click(kees, "Skip", by=world.kees.user)
    assert "Fine, you skip this round." in seen(skipped)  # his Discord is in English

    posted = await pass_deadline(world)
    assert posted is None, "below the minimum nothing is posted"
    assert not [m for m in fake.messages(world.announcements) if "teamleider" in seen(m)]
    (note,) = drafts_for(world, world.admin)
    assert "Dat is minder dan het minimum van 3. Er is dus geen samenvatting" in seen(note)
    assert "teamleider" not in seen(note) and not labels(note)

    moderator = await fake.slash(world.admin, "ronde samenvatting", ronde=1)
    text = seen(moderator)
    assert "1 van de 4 leden" in text
    assert "Dat is minder dan het minimum van 3. Er is dus geen samenvatting" in text
    assert "teamleider" not in text and "Sanne" not in text and "Wat was lastig?" not in text
    for kind in ("md", "csv"):
        exported = await fake.slash(world.admin, "ronde export", ronde=1, formaat=kind)
        (file,) = exported.files
        assert "teamleider" not in file.data.decode("utf-8")
        assert "Sanne" not in file.data.decode("utf-8")
    # members cannot ask for it at all
    refused = await fake.slash(world.sanne, "ronde samenvatting", ronde=1)
    assert refused.ephemeral and seen(refused).startswith("Dit mag alleen een ")
    assert "teamleider" not in seen(refused)


# --- the reminder, skip and pause ------------------------------------------------------------


async def test_one_gentle_reminder_only_to_those_who_did_nothing(world: World) -> None:
    fake = world.fake
    lotte = fake.add_member(world.guild, "Lotte", locale="nl")
    await fake.slash(lotte, "ronde lijst")
    started = await start_round(world, vraag1="Wat gaf je moed?", anoniem="anonymous", minimum=2)
    assert "gestart voor 5 leden" in seen(started)
    await answer_in_dm(world, world.sanne, {"Wat gaf je moed?": "Mijn collega."})
    kees = await invitation_for(world, world.kees)
    skipped = await fake.click(kees, "Skip", by=world.kees.user)
    assert "You will get no reminder for it." in seen(skipped)
    paused = await fake.click(await invitation_for(world, lotte), "Pauzeer mij", by=lotte.user)
    assert "Je bent gepauzeerd" in seen(paused)
    # Anna (the moderator) and Bram (DMs closed) did nothing
    (thread,) = await fake.wait_until(lambda: fake.threads(world.announcements), what="thread")
    await fake.wait_until(lambda: fake.messages(thread), what="Bram's invitation")

    await make_due(world, "round:1:reminder")
    assert world.app.scheduler is not None
    assert await run_due(world.app.scheduler) == 1
    (reminder,) = reminders(world, world.admin)
    (embed,) = reminder.embeds
    assert embed["title"] == "Herinnering: Terugblik"
    assert embed["description"].startswith("Misschien had je nog geen tijd. De ronde sluit op ")
    assert "Overslaan mag altijd, of pauzeer de rondes een tijdje." in embed["description"]
    assert "Wat gaf je moed?" in seen(reminder) and HOUSE_RULES in seen(reminder)
    assert labels(reminder) == ["Beantwoorden", "Overslaan", "Pauzeer mij"]
    for member in (world.sanne, world.kees, lotte):
        assert not reminders(world, member), member.user.global_name
        assert len(invitations(world, member)) == 1
    bram_threads = fake.threads(world.announcements)
    assert len(bram_threads) == 2, "Bram's reminder reaches him in a private thread too"
    assert seen(fake.messages(bram_threads[-1])[0]).startswith("Herinnering: Terugblik")
    assert world.closed.id in bram_threads[-1].thread_members

    # the reminder is sent once: firing again, or the next check, sends nothing
    assert await run_due(world.app.scheduler) == 0
    await make_due(world, "round:1:reminder")
    assert not await world.app.scheduler.fire((await jobs(world))["reminder"].id)
    assert len(reminders(world, world.admin)) == 1
    assert len(fake.threads(world.announcements)) == 2

    # the reminder's own button works like the invitation's
    form = await confirm(
        world, await fake.click(reminder, "Beantwoorden", by=world.admin.user), world.admin
    )
    assert [f["label"] for f in modal_fields(form)] == ["Wat gaf je moed?"]


async def test_skip_and_pause(world: World) -> None:
    fake = world.fake
    await start_round(world, titel="Ronde een", vraag1="Hoe gaat het?", minimum=2)
    invitation = await invitation_for(world, world.sanne)
    skipped = await fake.click(invitation, "Overslaan", by=world.sanne.user)
    assert seen(skipped) == "Prima, je slaat deze ronde over. Je krijgt er geen herinnering voor."
    listed = await fake.slash(world.sanne, "ronde lijst")
    assert "Ronde een · open tot" in seen(listed) and "overgeslagen" in seen(listed)
    # skipping by command works as well
    by_command = await fake.slash(world.admin, "ronde overslaan", ronde=1)
    assert "je slaat deze ronde over" in seen(by_command)

    paused = await fake.click(invitation, "Pauzeer mij", by=world.sanne.user)
    assert seen(paused).startswith("Je bent gepauzeerd: je krijgt geen nieuwe reflectierondes")
    assert labels(paused) == ["Ik doe weer mee"]
    second = await start_round(world, titel="Ronde twee", vraag1="Wat lukte?", minimum=2)
    assert "gestart voor 3 leden" in seen(second), "Sanne is left out while paused"
    await invitation_for(world, world.kees)
    await fake.wait_until(
        lambda: len(titled(world.fake.dms(world.kees), INVITE)) == 2, what="Kees's 2nd invitation"
    )
    assert [m.embeds[0]["title"] for m in invitations(world, world.sanne)] == [
        "Reflectieronde: Ronde een"
    ]
    listed = await fake.slash(world.sanne, "ronde lijst")
    (line,) = [x for x in seen(listed).splitlines() if "Ronde twee" in x]
    assert "open tot" in line and "uitgenodigd" not in line

    back = await fake.click(paused, "Ik doe weer mee")
    assert seen(back) == "Welkom terug! Je krijgt weer reflectierondes."
    third = await start_round(world, titel="Ronde drie", vraag1="Wat leerde je?", minimum=2)
    assert "gestart voor 4 leden" in seen(third)
    await fake.wait_until(
        lambda: len(invitations(world, world.sanne)) == 2, what="Sanne's next invitation"
    )
    assert invitations(world, world.sanne)[-1].embeds[0]["title"] == "Reflectieronde: Ronde drie"

    # pausing by command, in the middle of a round: no reminder for it either
    await fake.slash(world.kees, "ronde pauze", aan=True)
    await make_due(world, "round:3:reminder")
    assert world.app.scheduler is not None
    await run_due(world.app.scheduler)
    assert [m.embeds[0]["title"] for m in reminders(world, world.sanne)] == [
        "Herinnering: Ronde drie"
    ]
    assert not reminders(world, world.kees)


# --- DMs closed ------------------------------------------------------------------------------


async def test_a_member_with_closed_dms_answers_in_a_private_thread(world: World) -> None:
    fake = world.fake
    await start_round(world, vraag1="Wat wil je kwijt?", anoniem="anonymous", minimum=2)
    (thread,) = await fake.wait_until(
        lambda: fake.threads(world.announcements), what="the private thread"
    )
    (invitation,) = await fake.wait_until(lambda: fake.messages(thread), what="the invitation")
    assert thread.type == 12 and thread.name == "Bericht voor Bram"
    assert world.closed.id in thread.thread_members
    assert not {world.sanne.id, world.kees.id, world.admin.id} & set(thread.thread_members)
    assert invitation.embeds[0]["title"] == "Reflectieronde: Terugblik"
    assert HOUSE_RULES in seen(invitation)
    assert not fake.dms(world.closed)

    form = await confirm(
        world, await fake.click(invitation, "Beantwoorden", by=world.closed), world.closed
    )
    saved = await fake.submit_modal(form, {"Wat wil je kwijt?": "Dat ik moe ben."})
    assert SAVED_ANONYMOUS.format("Terugblik") in seen(saved)
    assert saved.ephemeral, "only Bram sees his confirmation (it holds his answer's key)"
    assert fake.messages(thread) == [invitation]
    assert not [m for m in fake.messages(world.announcements) if "moe" in seen(m)]
    await answer_in_dm(world, world.sanne, {"Wat wil je kwijt?": "Niets."})

    posted = await pass_deadline(world)
    assert posted is not None
    assert sorted(answers_in(posted.content)["Wat wil je kwijt?"]) == ["Dat ik moe ben.", "Niets."]
    assert "Bram" not in posted.content


# --- answering in forms ------------------------------------------------------------------------


async def test_more_than_five_questions_continue_in_a_second_form(world: World) -> None:
    fake = world.fake
    started = await start_round(world, bank="na-intervisie", anoniem="anonymous", minimum=2)
    assert "Reflectieronde #1 (Terugblik)" in seen(started)
    invitation = await invitation_for(world, world.sanne)
    names = [f["name"] for f in invitation.embeds[0]["fields"]]
    assert names == [f"Vraag {n}" for n in range(1, 9)] + [
        "Wie leest je antwoord?",
        "Samenvatting",
        "Huisregels",
        "Hulp nodig?",
    ]
    questions = [f["value"].split("\n")[0] for f in invitation.embeds[0]["fields"][:8]]
    assert questions[0] == "Wat neem je mee uit deze intervisie?"
    assert all("\n*Uit: " in f["value"] for f in invitation.embeds[0]["fields"][:8]), (
        "every question shows where it comes from"
    )

    first = await confirm(
        world, await fake.click(invitation, "Beantwoorden", by=world.sanne.user), world.sanne
    )
    assert first.modal is not None and first.modal.title == "Reflectie (deel 1 van 2)"
    fields = modal_fields(first)
    assert [f["custom_id"] for f in fields] == [
        "na-meenemen",
        "na-verrast",
        "na-ander-perspectief",
        "na-eigen-positie",
        "na-verwachtingen",
    ]
    for field_, question in zip(fields, questions[:5], strict=True):
        # a label holds 45 characters: a longer question is cut with "…" and continues,
        # in full or nearly, in the placeholder
        assert len(field_["label"]) <= 45
        assert question.startswith(field_["label"].rstrip("…"))
        if len(question) > 45:
            assert field_["label"].endswith("…")
            assert question.startswith(field_["placeholder"].rstrip("…"))
    saved = await fake.submit_modal(
        first, {"na-meenemen": "Dat ik mag twijfelen.", "na-verrast": "Hoe open iedereen was."}
    )
    assert SAVED_ANONYMOUS.format("Terugblik") in seen(saved)
    assert labels(saved) == ["Verder (deel 2)", "Antwoord aanpassen", "Antwoord verwijderen"]

    second = await fake.click(saved, "Verder (deel 2)")
    assert second.modal is not None and second.modal.title == "Reflectie (deel 2 van 2)"
    assert [f["custom_id"] for f in modal_fields(second)] == [
        "na-uitproberen",
        "na-inbrengen-luisteren",
        "na-volgende-keer",
    ]
    done = await fake.submit_modal(second, {"na-volgende-keer": "Meer tijd voor de casus."})
    assert SAVED_ANONYMOUS.format("Terugblik") in seen(done)
    assert "Verder (deel 3)" not in labels(done)
    await answer_in_dm(world, world.kees, {"na-verrast": "Hoe snel het ging."})

    posted = await pass_deadline(world)
    assert posted is not None
    found = answers_in(posted.content)
    assert found["Wat neem je mee uit deze intervisie?"] == ["Dat ik mag twijfelen."]
    assert sorted(found["Wat verraste je in deze bijeenkomst?"]) == [
        "Hoe open iedereen was.",
        "Hoe snel het ging.",
    ]
    assert found[questions[7]] == ["Meer tijd voor de casus."]
    assert found[questions[5]] == ["(geen antwoorden)"]


async def test_changing_and_withdrawing_an_answer_while_the_round_is_open(world: World) -> None:
    fake = world.fake
    await start_round(
        world, vraag1="Wat neem je mee?", vraag2="Wat laat je achter?", anoniem="named", minimum=1
    )
    saved = await answer_in_dm(world, world.sanne, {"Wat neem je mee?": "Eerste gedachte."})

    edit = await confirm(world, await fake.click(saved, "Antwoord aanpassen"), world.sanne)
    values = {f["custom_id"]: f.get("value") for f in modal_fields(edit)}
    assert values == {"eigen-1": "Eerste gedachte.", "eigen-2": None}, "the form comes back filled"
    changed = await fake.submit_modal(
        edit, {"eigen-1": "Tweede gedachte.", "eigen-2": "Mijn oude angst."}
    )
    assert SAVED_NAMED.format("Terugblik") in seen(changed)

    # the invitation's button also opens her answer, filled in
    invitation = await invitation_for(world, world.sanne)
    again = await confirm(
        world, await fake.click(invitation, "Beantwoorden", by=world.sanne.user), world.sanne
    )
    values = {f["custom_id"]: f.get("value") for f in modal_fields(again)}
    assert values == {"eigen-1": "Tweede gedachte.", "eigen-2": "Mijn oude angst."}

    kees = await answer_in_dm(world, world.kees, {"Wat neem je mee?": "Iets voor mezelf."})
    withdrawn = await fake.click(kees, "Delete answer")  # his Discord is in English
    assert seen(withdrawn) == "Your answer has been deleted."
    listed = await fake.slash(world.kees, "ronde lijst")
    assert "you are invited" in seen(listed)
    nothing = await fake.click(kees, "Delete answer")
    assert nothing.ephemeral and "There is no answer to delete." in seen(nothing)

    posted = await pass_deadline(world)
    assert posted is not None
    assert answers_in(posted.content) == {
        "Wat neem je mee?": ["Tweede gedachte. — Sanne"],
        "Wat laat je achter?": ["Mijn oude angst. — Sanne"],
    }
    assert "Iets voor mezelf" not in posted.content and "Eerste gedachte" not in posted.content


async def test_empty_and_overlong_answers_are_refused_kindly(world: World) -> None:
    fake = world.fake
    await start_round(world, vraag1="Wat wil je delen?", anoniem="named", minimum=1)
    await invitation_for(world, world.sanne)

    form = await form_by_command(world, world.sanne)
    empty = await fake.submit_modal(form, {})
    assert empty.ephemeral
    assert seen(empty) == (
        "Je hebt nog niets ingevuld. Wil je deze ronde niet doen? Kies dan Overslaan."
    )
    form = await form_by_command(world, world.sanne)
    blank = await fake.submit_modal(form, {"Wat wil je delen?": "   \n  "})
    assert "Je hebt nog niets ingevuld." in seen(blank)

    # Discord's client keeps to the form's 1500 characters; a modified client may not
    form = await form_by_command(world, world.sanne)
    (field_,) = modal_fields(form)
    assert field_["max_length"] == 1500
    assert form.modal is not None
    for top in form.modal.components:
        for inner in [top.get("component") or {}, *(top.get("components") or [])]:
            inner.pop("max_length", None)
    overlong = await fake.submit_modal(form, {"Wat wil je delen?": "x" * 1501})
    assert overlong.ephemeral
    too_long = "**antwoord** is te lang: 1501 tekens. Het mag maximaal 1500 tekens zijn."
    assert seen(overlong) == too_long
    listed = await fake.slash(world.sanne, "ronde lijst")
    assert "je bent uitgenodigd" in seen(listed), "nothing was stored"

    form = await form_by_command(world, world.sanne)
    fits = await fake.submit_modal(form, {"Wat wil je delen?": "y" * 1500})
    assert SAVED_NAMED.format("Terugblik") in seen(fits)


async def test_answering_after_the_round_closed(world: World) -> None:
    fake = world.fake
    await start_round(world, vraag1="Wat neem je mee?", anoniem="named", minimum=1)
    kees = await answer_in_dm(world, world.kees, {"Wat neem je mee?": "Op tijd."})
    invitation = await invitation_for(world, world.sanne)
    form = await confirm(  # she starts typing
        world, await fake.click(invitation, "Beantwoorden", by=world.sanne.user), world.sanne
    )

    posted = await pass_deadline(world)
    assert posted is not None
    closed = "Deze ronde is gesloten. Antwoorden kan niet meer."
    late = await fake.submit_modal(form, {"Wat neem je mee?": "Te laat."})
    assert late.ephemeral and seen(late) == closed
    again = await fake.click(invitation, "Beantwoorden", by=world.sanne.user)
    assert again.modal is None and seen(again) == closed
    assert seen(await fake.click(invitation, "Overslaan", by=world.sanne.user)) == closed
    assert seen(await fake.slash(world.sanne, "ronde beantwoorden", ronde=1)) == closed
    edit = await fake.click(kees, "Change answer")  # his Discord is in English
    assert edit.modal is None and "This round is closed." in seen(edit)
    gone = await fake.click(kees, "Delete answer")
    assert "This round is closed." in seen(gone)

    summary = await fake.slash(world.admin, "ronde samenvatting", ronde=1)
    assert answers_in(seen(summary)) == {"Wat neem je mee?": ["[1] Op tijd. — Kees"]}
    assert len(summaries(world)) == 1


# --- a restart in the middle of a round ----------------------------------------------------------


@contextlib.asynccontextmanager
async def bot_process(
    fake: FakeDiscord, settings: Settings, declared: dict[str, Any]
) -> AsyncIterator[World]:
    """One run of the bot (app, client and scheduler) against the same fake Discord."""
    configured = settings.model_copy(
        update={"discord": DiscordSettings(test_guild_id=declared["guild"].id)}
    )
    async with open_app(configured) as app:
        client = LeerbotClient(app.dispatcher, configured)
        client.ready_hooks.append(lambda: app.start_scheduler(client.platform))
        async with fake.running_client(client):
            opened = World(fake=fake, app=app, client=client, **declared)
            await fake.wait_until(
                lambda: app.scheduler is not None and app.scheduler.is_leader,
                what="the scheduler",
            )
            yield opened


async def test_a_restart_in_the_middle_of_a_round(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    declared: dict[str, Any] = {}
    caplog.set_level(logging.INFO, logger="leerbot")
    async with run_fake_discord(lambda fake: declared.update(_declare(fake))) as fake:
        async with bot_process(fake, settings, declared) as world:
            await setup_community(world)
            await start_round(world, vraag1="Wat neem je mee?", anoniem="named", minimum=2)
            await answer_in_dm(world, world.sanne, {"Wat neem je mee?": "Voor de herstart."})
            kees_invitation = await invitation_for(world, world.kees)
            await invitation_for(world, world.admin)
            await fake.wait_until(
                lambda: [m for t in fake.threads(world.announcements) for m in fake.messages(t)],
                what="Bram's invitation",
            )
        # the bot is down; meanwhile the time for the reminder comes
        async with world.app.sessionmaker() as db, db.begin():
            await db.execute(
                update(ScheduledJob)
                .where(ScheduledJob.key == "round:1:reminder")
                .values(due_at=datetime.now(UTC) - timedelta(minutes=5))
            )

        async with bot_process(fake, settings, declared) as world:
            assert fake.sync_count == 2 and world.app.scheduler is not None
            # the reminder, overdue but within its grace, goes out once, after the restart
            reminder = (
                await fake.wait_until(lambda: reminders(world, world.kees), what="the reminder")
            )[0]
            await fake.wait_until(lambda: reminders(world, world.admin), what="Anna's reminder")
            assert not reminders(world, world.sanne), "she answered before the restart"
            # her answer was kept: the old invitation's button opens it, filled in
            old = await confirm(
                world,
                await fake.click(
                    await invitation_for(world, world.sanne), "Beantwoorden", by=world.sanne.user
                ),
                world.sanne,
            )
            assert [f.get("value") for f in modal_fields(old)] == ["Voor de herstart."]
            # buttons of messages sent before the restart still work
            form = await confirm(
                world,
                await fake.click(kees_invitation, "Answer", by=world.kees.user),
                world.kees,
            )
            saved = await fake.submit_modal(form, {"Wat neem je mee?": "Na de herstart."})
            assert "Thank you! Your answer for Terugblik is saved." in seen(saved)
            assert seen(reminder).startswith("Reminder: Terugblik")  # Kees reads English

            # the deadline comes: the new process's timer closes the round
            await make_due(world, "round:1:close")
            await world.app.scheduler.load_pending()  # what its periodic sweep does
            (draft,) = await fake.wait_until(
                lambda: drafts_for(world, world.admin), what="the draft"
            )
            await publish_draft(world, draft)
            (posted,) = summaries(world)
            assert sorted(answers_in(posted.content)["Wat neem je mee?"]) == [
                "Na de herstart. — Kees",
                "Voor de herstart. — Sanne",
            ]
            assert await run_due(world.app.scheduler) == 0

            # nothing was delivered twice
            for member in (world.sanne, world.kees, world.admin):
                assert len(invitations(world, member)) == 1
                assert len(reminders(world, member)) == (0 if member is world.sanne else 1)
            bram = [
                seen(m).split("\n")[0]
                for t in fake.threads(world.announcements)
                for m in fake.messages(t)
            ]
            assert bram == ["Reflectieronde: Terugblik", "Herinnering: Terugblik"]
            assert len(summaries(world)) == 1
            done = {k: (j.started_at is not None, j.error) for k, j in (await jobs(world)).items()}
            assert done == {
                "deliver": (True, None),
                "reminder": (True, None),
                "close": (True, None),
                "compact:1": (True, None),
                "publish": (True, None),
            }
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors


# --- anonymity: the whole database and the log ----------------------------------------------


class _EveryLine(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("leerbot.testing"):
            return  # the fake Discord's own log: that is Discord's side, not the bot's
        text = f"{record.name} {record.levelname} {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(text)


@contextlib.contextmanager
def every_log_line(level: int) -> Iterator[list[str]]:
    """Every line the bot process logs at `level` (root and all libraries), with the private
    discord.py loggers kept at INFO as `leerbot run` does."""
    handler = _EveryLine()
    root, bot = logging.getLogger(), logging.getLogger("leerbot")
    before = {name: logging.getLogger(name).level for name in PRIVATE_LOGGERS}
    levels = (root.level, bot.level)
    root.addHandler(handler)
    root.setLevel(level)
    bot.setLevel(level)
    _quiet_private_loggers()
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        root.setLevel(levels[0])
        bot.setLevel(levels[1])
        for name, old in before.items():
            logging.getLogger(name).setLevel(old)


async def dump_database(world: World) -> dict[str, list[dict[str, Any]]]:
    """SELECT * of every table the bot has."""
    out: dict[str, list[dict[str, Any]]] = {}
    async with world.app.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = await connection.execute(select(table))
            out[table.name] = [dict(row._mapping) for row in rows]
    return out


def token_of(confirmation: Seen) -> str:
    """The key in the member's own "change answer" button (…:round.check:<round>:<token>)."""
    (edit,) = [b for b in confirmation.buttons() if ":round.check:" in b["custom_id"]]
    token = edit["custom_id"].rsplit(":", 1)[1]
    assert len(token) == 32 and token not in ("a", "n")
    return token


async def answer_anonymously(world: World) -> dict[str, Any]:
    """An anonymous round answered by three members through forms: Sanne (DM, and she
    changes her answer), Kees (DM, English Discord) and Bram (private thread)."""
    fake = world.fake
    await start_round(
        world, vraag1="Wat was moeilijk?", vraag2="Wat hielp?", anoniem="anonymous", minimum=3
    )
    first = "Ik durfde in het overleg niets te zeggen."
    sanne = await answer_in_dm(world, world.sanne, {"Wat was moeilijk?": first})
    edit = await confirm(world, await fake.click(sanne, "Antwoord aanpassen"), world.sanne)
    assert {f["custom_id"]: f.get("value") for f in modal_fields(edit)} == {
        "eigen-1": first,
        "eigen-2": None,
    }, "her anonymous answer comes back filled in, through her own button"
    changed = await fake.submit_modal(
        edit,
        {"eigen-1": "Mijn eigen grenzen aangeven.", "eigen-2": "Een wandeling met een maatje."},
    )
    assert SAVED_ANONYMOUS.format("Terugblik") in seen(changed)
    kees = await answer_in_dm(world, world.kees, {"Wat was moeilijk?": "Wachten op de uitslag."})
    thread = (await fake.wait_until(lambda: fake.threads(world.announcements), what="thread"))[0]
    invitation = (await fake.wait_until(lambda: fake.messages(thread), what="invitation"))[0]
    form = await confirm(
        world, await fake.click(invitation, "Beantwoorden", by=world.closed), world.closed
    )
    bram = await fake.submit_modal(form, {"Wat hielp?": "Dat niemand oordeelde."})
    posted = await pass_deadline(world)
    assert posted is not None
    in_summary = {q: sorted(a) for q, a in answers_in(posted.content).items()}
    assert in_summary == {  # in no particular order: the storage order is random
        "Wat was moeilijk?": ["Mijn eigen grenzen aangeven.", "Wachten op de uitslag."],
        "Wat hielp?": ["Dat niemand oordeelde.", "Een wandeling met een maatje."],
    }
    return {
        "texts": {
            "Mijn eigen grenzen aangeven.": world.sanne,
            "Een wandeling met een maatje.": world.sanne,
            "Wachten op de uitslag.": world.kees,
            "Dat niemand oordeelde.": world.closed,
        },
        "replaced": first,
        "tokens": {
            token_of(sanne): world.sanne,
            token_of(changed): world.sanne,
            token_of(kees): world.kees,
            token_of(bram): world.closed,
        },
        "summary": posted.content,
    }


async def identifiers(world: World, member: Member) -> tuple[int, set[str]]:
    """The member's id in the bot's database, and their Discord user id and names."""
    members = Base.metadata.tables["members"]
    async with world.app.sessionmaker() as db:
        member_id = await db.scalar(
            select(members.c.id).where(members.c.platform_id == str(member.id))
        )
    assert member_id is not None and member.user.global_name is not None
    return member_id, {str(member.id), member.user.global_name, member.user.username}


async def check_unlinkable(world: World, answered: dict[str, Any], lines: list[str]) -> None:
    texts: dict[str, Member] = answered["texts"]
    tokens: dict[str, Member] = answered["tokens"]
    assert len(tokens) == 3, "one key per member's answer (it stays when she changes it)"
    dump = await dump_database(world)
    # the answers' table has no column that could hold a member, a time or an order
    answers_table = Base.metadata.tables["reflection_anonymous_answers"]
    assert set(answers_table.c.keys()) == {
        "id",
        "round_id",
        "token_hash",
        "question_id",
        "text",
        "removed",  # a moderator took it out: a flag, no person
    }
    assert {fk.column.table.name for fk in answers_table.foreign_keys} == {"reflection_rounds"}
    stored = {row["token_hash"] for row in dump["reflection_anonymous_answers"]}
    assert len(stored) == len(dump["reflection_anonymous_answers"]), "sealed: a handle per row"
    assert not stored & {hashlib.sha256(t.encode("ascii")).hexdigest() for t in tokens}, (
        "once the round is sealed, the members' keys open nothing"
    )
    assert sorted(r["text"] for r in dump["reflection_anonymous_answers"]) == sorted(texts)

    who = {member: await identifiers(world, member) for member in set(texts.values())}
    for table, rows in dump.items():
        for row in rows:
            values = " | ".join(str(v) for v in row.values())
            for token in tokens:
                assert token not in values, f"the answer key is stored in {table}: {row}"
            assert answered["replaced"] not in values, f"a replaced answer is kept in {table}"
            for text, author in texts.items():
                if text in values:
                    assert table == "reflection_anonymous_answers", f"{text!r} in {table}: {row}"
                    for known in who[author][1]:
                        assert known not in values, f"{text!r} next to {known!r}: {row}"
    member_ids = {member_id for member_id, _ in who.values()}
    assert not [r for r in dump["audit_entries"] if r["actor_id"] in member_ids], (
        "no audit entry for answering"
    )

    assert lines, "the log was captured"
    for line in lines:
        for token in tokens:
            assert token not in line, f"the answer key is in the log: {line}"
        for text in [*texts, answered["replaced"]]:
            assert text not in line, f"an anonymous answer is in the log: {line}"


async def test_anonymous_answers_cannot_be_linked_to_the_members_who_wrote_them(
    world: World,
) -> None:
    with every_log_line(logging.INFO) as lines:  # the bot's default level
        answered = await answer_anonymously(world)
    await check_unlinkable(world, answered, [*lines, *(r.getMessage() for r in world.logs)])
    summary = answered["summary"]
    assert not {"Sanne", "Kees", "Bram"} & set(summary.replace(".", " ").split())


async def test_anonymous_answers_leave_no_key_in_a_debug_log(world: World) -> None:
    """`logging.level: DEBUG` is a supported setting, and the bot quiets the loggers that
    would write private texts at DEBUG (discord.http, aiosqlite, SQLAlchemy): the answer key
    must not reach the log file that way either."""
    with every_log_line(logging.DEBUG) as lines:
        answered = await answer_anonymously(world)
    await check_unlinkable(world, answered, lines)


# --- refusals that change nothing ---------------------------------------------------------------


async def nothing_started(world: World) -> None:
    listed = await world.fake.slash(world.sanne, "ronde lijst")
    assert seen(listed) == "Er zijn nog geen reflectierondes."
    assert await jobs(world) == {}
    assert not invitations(world, world.sanne) and not world.fake.threads(world.announcements)


async def test_a_round_without_questions_is_refused(world: World) -> None:
    refused = await world.fake.slash(world.admin, "ronde start", titel="Leeg")
    assert refused.ephemeral
    assert seen(refused) == (
        "Een ronde heeft minstens één vraag nodig. Kies een vragenbank of typ een vraag."
    )
    blank = await world.fake.slash(world.admin, "ronde start", titel="Leeg", vraag1="   ")
    assert "minstens één vraag" in seen(blank)
    await nothing_started(world)


async def test_an_audience_with_nobody_in_it_is_refused(world: World) -> None:
    fake = world.fake
    refused = await fake.slash(
        world.admin,
        "ronde start",
        titel="Alleen professionals",
        vraag1="Hoe gaat het?",
        publiek="role",
        wie="professional",
    )
    assert refused.ephemeral
    assert seen(refused) == "Er is niemand om deze ronde aan te sturen. Kies een ander publiek."
    await nothing_started(world)

    # in English for a coordinator whose Discord is English
    world.kees.role_ids.append(world.coordinators.id)
    english = await fake.slash(
        world.kees,
        "round start",
        title="Professionals",
        question1="How are you?",
        audience="role",
        who="professional",
    )
    assert seen(english) == "There is nobody to send this round to. Choose another audience."
    await nothing_started(world)


async def test_the_summary_counts_in_correct_dutch(world: World) -> None:
    await start_round(world, vraag1="Wat neem je mee?", anoniem="named", minimum=1)
    await answer_in_dm(world, world.sanne, {"Wat neem je mee?": "Rust."})
    posted = await pass_deadline(world)
    assert posted is not None
    assert "1 van de 4 leden heeft geantwoord." in posted.content
