"""Safe reflection on Discord, end to end: a round's summary is a draft for the moderators
until one publishes it, then appears only where its audience meets (a site's channel, the
intervisie's thread); an answer can be taken out of summary and exports; the floor under
the minimum holds; help lines and house rules are one glance away; questions show their
sources; a new member is welcomed once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from leerbot.config import Settings
from leerbot.db.models import ScheduledJob
from leerbot.scheduling import run_due
from tests.e2e.conftest import World, discord_world
from tests.e2e.test_discord_rounds import (
    answer_in_dm,
    answers_in,
    check_clean,
    drafts_for,
    invitation_for,
    labels,
    make_due,
    modal_fields,
    open_form,
    publish_draft,
    seen,
    setup_community,
    summaries,
)
from tests.helpers import csv_rows


def _small(settings: Settings) -> Settings:
    """A server of four: a small-number threshold of 2 lets rounds reach their minimum."""
    return settings.model_copy(
        update={"privacy": settings.privacy.model_copy(update={"small_number_threshold": 2})}
    )


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    async with discord_world(_small(settings), scheduler=True) as opened:
        await setup_community(opened)
        yield opened
        check_clean(opened)


@pytest.fixture
async def standard_world(settings: Settings) -> AsyncIterator[World]:
    """The default configuration: threshold 5."""
    async with discord_world(settings, scheduler=True) as opened:
        await setup_community(opened)
        yield opened
        check_clean(opened)


async def close_round(world: World, round_id: int = 1) -> None:
    await make_due(world, f"round:{round_id}:close")
    assert world.app.scheduler is not None
    await run_due(world.app.scheduler)


async def site_with_members(world: World) -> None:
    """Pilot site De Achterkant meets in #algemeen; Sanne and Kees belong to it."""
    fake = world.fake
    added = await fake.slash(world.admin, "site toevoegen", naam="De Achterkant")
    assert "is toegevoegd" in seen(added)
    placed = await fake.slash(
        world.admin, "site kanaal", site="De Achterkant", kanaal=world.general
    )
    assert "Samenvattingen van rondes voor deze proeftuin komen daar" in seen(placed)
    for member in (world.sanne, world.kees):
        await fake.slash(member, "profiel instellen", site="De Achterkant")


# --- the review ----------------------------------------------------------------------------


async def test_a_site_rounds_draft_reaches_only_moderators_and_its_summary_only_the_site(
    world: World,
) -> None:
    fake = world.fake
    await site_with_members(world)
    started = await fake.slash(
        world.admin,
        "ronde start",
        titel="Proeftuin",
        vraag1="Wat werkt bij ons?",
        publiek="site",
        wie="De Achterkant",
        anoniem="named",
        minimum=2,
    )
    assert "gestart voor 2 leden" in seen(started)
    invitation = await invitation_for(world, world.sanne)
    who = seen(invitation)
    assert "Pas daarna verschijnt die in het kanaal van proeftuin De Achterkant." in who
    assert f"<#{world.general.id}>" in who
    english = seen(await invitation_for(world, world.kees))
    assert "Only then does it appear in the channel of pilot site De Achterkant." in english
    await answer_in_dm(world, world.sanne, {"Wat werkt bij ons?": "Samen koffie drinken."})
    await answer_in_dm(world, world.kees, {"Wat werkt bij ons?": "Cliënt Jan uit Emmen."})

    await close_round(world)
    (draft,) = await fake.wait_until(lambda: drafts_for(world, world.admin), what="the draft")
    for member in (world.sanne, world.kees, world.closed):
        assert not drafts_for(world, member), "the draft reaches only the moderator"
    for channel in (world.general, world.announcements):
        assert not [m for m in fake.messages(channel) if "koffie" in seen(m)]
    text = seen(draft)
    assert "Nog niets is gedeeld: alleen moderatoren zien dit." in text
    assert "Het kanaal van proeftuin De Achterkant." in text
    numbers = {
        line.split("] ")[1]: line.split("]")[0].lstrip("- [")
        for line in text.splitlines()
        if line.startswith("- [")
    }
    assert set(numbers) == {"Samen koffie drinken. — Sanne", "Cliënt Jan uit Emmen. — Kees"}

    # a member cannot use the draft's buttons, even with its id
    refused = await fake.slash(world.sanne, "ronde samenvatting", ronde=1)
    assert seen(refused).startswith("Dit mag alleen een ")

    form = await fake.click(draft, "Antwoord weghalen", by=world.admin.user)
    assert [f["custom_id"] for f in modal_fields(form)] == ["number", "reason"]
    removed = await fake.submit_modal(
        form,
        {"number": numbers["Cliënt Jan uit Emmen. — Kees"], "reason": "Een cliënt is herkenbaar."},
    )
    assert "is weggehaald uit de samenvatting en de exports." in seen(removed)
    assert "De schrijver krijgt een privébericht met je reden." in seen(removed)
    notice = await fake.wait_until(
        lambda: [m for m in fake.dms(world.kees) if "taken out" in seen(m)], what="Kees's notice"
    )
    assert "Reason: Een cliënt is herkenbaar." in seen(notice[0])  # Kees reads English
    again = await fake.submit_modal(
        await fake.click(draft, "Antwoord weghalen", by=world.admin.user),
        {"number": numbers["Cliënt Jan uit Emmen. — Kees"], "reason": "Nog eens"},
    )
    assert "is al weggehaald" in seen(again)

    published = await fake.click(draft, "Publiceren", by=world.admin.user)
    assert "wordt nu gepubliceerd" in seen(published)
    (posted,) = await fake.wait_until(
        lambda: [m for m in fake.messages(world.general) if "# Samenvatting" in m.content],
        what="the summary in the site's channel",
    )
    assert not summaries(world), "nothing in the announcements channel"
    assert answers_in(posted.content) == {"Wat werkt bij ons?": ["Samen koffie drinken. — Sanne"]}
    assert "Emmen" not in posted.content

    for kind in ("md", "csv"):
        exported = await fake.slash(world.admin, "ronde export", ronde=1, formaat=kind)
        (file,) = exported.files
        content = file.data.decode("utf-8")
        assert "Samen koffie drinken." in content and "Emmen" not in content
    rows = csv_rows(file.data)
    assert [r["Antwoord"] for r in rows] == ["Samen koffie drinken."]


async def test_taking_out_an_answer_after_publishing_edits_the_posted_summary(
    world: World,
) -> None:
    fake = world.fake
    await fake.slash(
        world.admin,
        "ronde start",
        titel="Terugblik",
        vraag1="Wat neem je mee?",
        anoniem="anonymous",
        minimum=2,
    )
    await answer_in_dm(world, world.sanne, {"Wat neem je mee?": "Rust."})
    await answer_in_dm(world, world.kees, {"Wat neem je mee?": "Iets te persoonlijks."})
    await close_round(world)
    (draft,) = await fake.wait_until(lambda: drafts_for(world, world.admin), what="the draft")
    await publish_draft(world, draft)
    (posted,) = summaries(world)
    assert "Iets te persoonlijks." in posted.content
    review = await fake.slash(world.admin, "ronde samenvatting", ronde=1)
    assert labels(review) == ["Antwoord weghalen"]
    number = next(
        line.split("]")[0].lstrip("- [")
        for line in seen(review).splitlines()
        if "persoonlijks" in line
    )
    removed = await fake.submit_modal(
        await fake.click(review, "Antwoord weghalen"), {"number": number, "reason": "Te veel."}
    )
    assert "De gepubliceerde samenvatting wordt aangepast." in seen(removed)
    assert "niemand krijgt bericht" in seen(removed)  # anonymous: nobody to tell
    await fake.wait_until(
        lambda: "persoonlijks" not in posted.content, what="the posted summary to be edited"
    )
    assert answers_in(posted.content) == {"Wat neem je mee?": ["Rust."]}
    assert len(summaries(world)) == 1


async def test_not_publishing_keeps_the_summary_with_the_moderators(world: World) -> None:
    fake = world.fake
    await fake.slash(
        world.admin,
        "ronde start",
        titel="Terugblik",
        vraag1="Wat neem je mee?",
        anoniem="named",
        minimum=1,
    )
    await answer_in_dm(world, world.sanne, {"Wat neem je mee?": "Rust."})
    await close_round(world)
    (draft,) = await fake.wait_until(lambda: drafts_for(world, world.admin), what="the draft")
    kept = await fake.click(draft, "Niet publiceren", by=world.admin.user)
    assert "wordt niet gepubliceerd. Die blijft bij de moderatoren." in seen(kept)
    twice = await fake.click(draft, "Niet publiceren", by=world.admin.user)
    assert "Je hebt al gekozen om deze samenvatting niet te publiceren." in seen(twice)
    assert world.app.scheduler is not None
    await run_due(world.app.scheduler)
    assert not summaries(world)


async def test_a_moderator_by_role_can_act_on_the_draft_in_a_direct_message(
    world: World,
) -> None:
    """The draft's buttons are pressed in a DM, which carries no roles: the bot asks the
    server, so a moderator by Discord role (not by /leerbot functie) may publish."""
    fake = world.fake
    moderators = await fake.role_create(world.guild, "Moderatoren")
    mira = fake.add_member(world.guild, "Mira", roles=[moderators], locale="nl")
    setup = await fake.slash(world.admin, "leerbot setup", moderatorrol=moderators)
    assert "De instellingen zijn opgeslagen." in seen(setup), seen(setup)
    started = await fake.slash(
        mira,
        "ronde start",
        titel="Terugblik",
        vraag1="Wat neem je mee?",
        anoniem="named",
        minimum=1,
    )
    assert "is gestart" in seen(started)
    await answer_in_dm(world, world.sanne, {"Wat neem je mee?": "Rust."})
    await close_round(world)
    (draft,) = await fake.wait_until(lambda: drafts_for(world, mira), what="Mira's draft")
    assert not drafts_for(world, world.admin)
    published = await fake.click(draft, "Publiceren", by=mira.user)
    assert "wordt nu gepubliceerd" in seen(published)
    await fake.wait_until(lambda: summaries(world), what="the summary")


async def test_an_after_intervisie_summary_lands_in_the_sessions_thread(world: World) -> None:
    fake = world.fake
    turned_on = await fake.slash(world.admin, "ronde na_intervisie")
    assert "Na elke intervisie" in seen(turned_on)
    await fake.slash(world.admin, "leerbot setup", sessies=world.sessions)
    day = (datetime.now(UTC) + timedelta(days=3)).date()
    planned = await fake.slash(
        world.admin,
        "sessie plannen",
        titel="Intervisie Utrecht",
        start=f"{day.isoformat()} 19:30",
        spraakkanaal=world.voice,
    )
    assert "De intervisie is gepland" in seen(planned)
    card = await fake.wait_until(
        lambda: next(
            (m for m in fake.messages(world.sessions) if seen(m).startswith("Intervisie #1")), None
        ),
        what="the session card",
    )
    for member in (world.sanne, world.kees):
        await fake.click(card, "Ik kom", by=member)
    (thread,) = await fake.wait_until(lambda: fake.threads(world.sessions), what="its thread")
    await fake.wait_until(lambda: fake.messages(thread), what="the thread's first message")
    async with world.app.sessionmaker() as db:
        job = await db.scalar(select(ScheduledJob).where(ScheduledJob.kind == "session.after"))
    assert job is not None
    first = fake.messages(thread)[0]
    assert "Wat hier gezegd wordt, blijft hier." in seen(first), "house rules open the thread"
    async with world.app.sessionmaker() as db, db.begin():
        await db.execute(
            update(ScheduledJob)
            .where(ScheduledJob.id == job.id)
            .values(due_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    assert world.app.scheduler is not None
    await run_due(world.app.scheduler)
    invitation = await invitation_for(world, world.sanne)
    assert "in de draad van de intervisie Intervisie Utrecht" in seen(invitation)
    assert not invitations_for_admin(world), "only those who were there are asked"
    await answer_in_dm(
        world,
        world.sanne,
        {"Wat neem je mee uit deze intervisie?": "Mijn vraag werd helder."},
        mode="Met mijn naam",
    )
    await answer_in_dm(
        world,
        world.kees,
        {"na-meenemen": "Luisteren."},
        mode="Met mijn naam",
    )
    await close_round(world)
    (draft,) = await fake.wait_until(lambda: drafts_for(world, world.admin), what="the draft")
    assert "De draad van de intervisie." in seen(draft)
    await fake.click(draft, "Publiceren", by=world.admin.user)
    posted = await fake.wait_until(
        lambda: [m for m in fake.messages(thread) if "# Samenvatting" in m.content],
        what="the summary in the session's thread",
    )
    assert "Mijn vraag werd helder. — Sanne" in posted[0].content
    assert not summaries(world), "not in the community-wide announcements"


def invitations_for_admin(world: World) -> list[object]:
    return [m for m in world.fake.dms(world.admin) if "Reflectieronde" in seen(m)]


# --- the floor, help lines, sources, the welcome ----------------------------------------------


async def test_the_minimum_cannot_be_lowered_below_the_threshold(standard_world: World) -> None:
    world = standard_world
    fake = world.fake
    for mode in ("anonymous", "choice"):
        refused = await fake.slash(
            world.admin,
            "ronde start",
            titel="Te klein",
            vraag1="Hoe gaat het?",
            anoniem=mode,
            minimum=2,
        )
        assert refused.ephemeral
        assert "Het minimum kan niet lager dan 5" in seen(refused)
    listed = await fake.slash(world.admin, "ronde lijst")
    assert "Er zijn nog geen reflectierondes." in seen(listed), "nothing was started"
    named = await fake.slash(
        world.admin,
        "ronde start",
        titel="Met namen",
        vraag1="Hoe gaat het?",
        anoniem="named",
        minimum=2,
    )
    assert "is gestart" in seen(named)
    invitation = await invitation_for(world, world.sanne)
    assert "Je antwoord komt met je naam in de samenvatting." in seen(invitation)


async def test_help_lines_in_invitation_check_and_confirmation_in_both_languages(
    world: World,
) -> None:
    fake = world.fake
    await fake.slash(
        world.admin,
        "ronde start",
        titel="Terugblik",
        vraag1="Wat neem je mee?",
        anoniem="named",
        minimum=1,
    )
    for member, title, line in (
        (world.sanne, "Hulp nodig?", "Denk je aan zelfmoord? Bel 113 Zelfmoordpreventie"),
        (world.kees, "Need help?", "Thinking about suicide? Call 113 Zelfmoordpreventie"),
    ):
        invitation = await invitation_for(world, member)
        fields = {f["name"]: f["value"] for f in invitation.embeds[0]["fields"]}
        assert line in fields[title] and "112" in fields[title]
        form = await open_form(world, invitation, member)  # asserts help in the check
        assert form.modal is not None
        saved = await fake.submit_modal(form, {"Wat neem je mee?": "Iets."})
        assert line in seen(saved)


async def test_a_community_adds_its_own_vertrouwenspersoon(settings: Settings) -> None:
    own = _small(settings).model_copy(
        update={
            "safety": settings.safety.model_copy(
                update={
                    "help_lines": settings.safety.help_lines.model_copy(
                        update={"nl": "Vertrouwenspersoon: Anna, 06-12345678."}
                    )
                }
            )
        }
    )
    async with discord_world(own, scheduler=True) as world:
        await setup_community(world)
        helped = await world.fake.slash(world.sanne, "help")
        text = seen(helped)
        assert "113" in text and "Vertrouwenspersoon: Anna, 06-12345678." in text
        assert "Wat hier gezegd wordt, blijft hier." in text
        check_clean(world)


async def test_questions_show_their_sources(world: World) -> None:
    fake = world.fake
    banks = await fake.slash(world.admin, "ronde banken")
    text = seen(banks)
    assert "Uit: LIVE Handreiking, Phrenos en Trimbos, 2012, §3.3" in text
    assert "Uit: De cliënt centraal, IVO, 2024" in text
    assert "003:" not in text and "002:" not in text
    await fake.slash(
        world.admin, "ronde start", titel="Stigma", bank="live-stigma", anoniem="named", minimum=1
    )
    invitation = await invitation_for(world, world.sanne)
    assert "Uit: LIVE Handreiking, Phrenos en Trimbos, 2012, §3.3" in seen(invitation)
    first = invitation.embeds[0]["fields"][0]["name"]
    await answer_in_dm(world, world.sanne, {"live-stigma-bewust": "Door het te benoemen."})
    await close_round(world)
    (draft,) = await fake.wait_until(lambda: drafts_for(world, world.admin), what="the draft")
    await publish_draft(world, draft)
    (posted,) = summaries(world)
    assert "**Bronnen**" in posted.content and "LIVE Handreiking" in posted.content
    assert first == "Vraag 1"


async def test_the_zwart_bank_asks_about_ones_work_with_its_introduction(world: World) -> None:
    fake = world.fake
    await fake.slash(
        world.admin,
        "ronde start",
        titel="Vier vragen",
        bank="zwart-vier-vragen",
        anoniem="named",
        minimum=1,
    )
    invitation = await invitation_for(world, world.sanne)
    fields = {f["name"]: f["value"] for f in invitation.embeds[0]["fields"]}
    assert "Wat ben je kwijtgeraakt?" in fields["Over deze vragen"]
    assert "de mensen die je begeleidt" in fields["Vraag 1"]


async def test_a_new_member_is_welcomed_once_with_the_house_rules(world: World) -> None:
    fake = world.fake
    lotte = fake.add_member(world.guild, "Lotte", locale="nl")
    first = await fake.slash(lotte, "site lijst")
    (welcome,) = await first.wait_for_followups(1)
    text = seen(welcome)
    assert text.startswith("Welkom bij Community of Learners")
    assert "Maak nooit een cliënt of iemand anders herkenbaar." in text and "113" in text
    assert welcome.flags & 64, "only Lotte sees it"
    second = await fake.slash(lotte, "site lijst")
    assert not second.followups
    piet = fake.add_member(world.guild, "Piet", locale="en-US")
    english = await fake.slash(piet, "site lijst")
    (welcome,) = await english.wait_for_followups(1)
    assert seen(welcome).startswith("Welcome to Community of Learners")


async def test_an_agenda_points_thread_opens_with_the_house_rules(world: World) -> None:
    fake = world.fake
    await fake.slash(world.admin, "leerbot setup", agenda=world.agenda)
    form = await fake.slash(
        world.sanne, "agenda voorstel", thema="samenwerking", soort="wens", niveau="organisatie"
    )
    assert form.modal is not None
    await fake.submit_modal(
        form, {"titel": "Intervisie in elk team", "beschrijving": "Elk team krijgt intervisie."}
    )
    (thread,) = await fake.wait_until(lambda: fake.threads(world.agenda), what="the thread")
    (first,) = await fake.wait_until(lambda: fake.messages(thread), what="its first message")
    assert "Wat hier gezegd wordt, blijft hier." in seen(first)
    assert "Bel 112" in seen(first)
