"""One realistic community for the real-program tests: four pilot sites with members, the six
agenda themes, points of every kind and level with supports and status changes on dates
across a year (a daylight-saving change included), practices, and a closed reflection round
with answers, named and anonymous. The member text includes what a hostile or careless member
might type: formulas for spreadsheets, HTML for browsers, accents, a long Dutch word.

`world` builds it once per test (on SQLite or PostgreSQL, as the rest of the suite) and
hands out the export files as a coordinator gets them, through the chat commands."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import update

from leerbot.app import App
from leerbot.chat.context import Place
from leerbot.chat.reply import render
from leerbot.core import agenda, community, practices, reflections
from leerbot.core.actor import Actor, Function, Identity
from leerbot.db.models import (
    AgendaItem,
    AgendaStatusChange,
    Community,
    Practice,
    ReflectionRound,
)
from tests.helpers import actor_for

PLACE = Place("guild-1", "Community of Learners")
COORDINATOR = Identity("co", "Co", granted_functions=frozenset({Function.COORDINATOR}))
COMMUNITY = "Community of Learners Verslavingszorg"

HYPERLINK = '=HYPERLINK("http://x","klik")'
CMD = "=cmd|' /C calc'!A0"
PLUS = "+1+1"
AT_SUM = "@SUM(1)"
SCRIPT = "Titel met <script>alert(1)</script>"
CAFE = "Café"
LONG_WORD = "Doorgroeimogelijkheden"
HOSTILE = (HYPERLINK, CMD, PLUS, AT_SUM)

SITES = (
    ("De Achterkant", "Utrecht"),
    ("Cliënten Service Desk", "Amsterdam"),
    ("Help mijn buurman (ver)zuipt", "Emmen"),
    ("Kunstwerkplaats 4B", "Venray"),
)
MEMBERS = {  # five or more per site: anonymous points from these sites keep their site
    "De Achterkant": ("Anouk", "Bram", "Chantal", "Dirk", "Esra"),
    "Cliënten Service Desk": ("Fatima", "Gert", "Hanneke", "Ilse", "Jeroen"),
    "Help mijn buurman (ver)zuipt": ("Karin", "Lars", "Mila", "Noah", "Oksana"),
    "Kunstwerkplaats 4B": ("Pieter", "Rachid"),
}

SITE_OF = {name: site for site, names in MEMBERS.items() for name in names}


@dataclass
class Point:
    title: str
    description: str
    theme: str
    kind: str
    level: str
    author: str
    anonymous: bool = False
    created: date = date(2026, 1, 12)
    steps: tuple[tuple[date, str, str], ...] = ()
    supporters: tuple[str, ...] = ()
    id: int = 0


POINTS = (
    Point(
        f"{LONG_WORD} voor ervaringsdeskundigen in {CAFE} De Brug",
        "Ervaringsdeskundigen willen kunnen doorgroeien naar betaalde functies.\n"
        "- Samen een doel kiezen\n- Scholing op de werkvloer",
        "doorgroei",
        "ondersteuningsbehoefte",
        "interpersoonlijk",
        "Anouk",
        created=date(2026, 1, 12),
        steps=(
            (date(2026, 3, 29), "besproken", "Besproken in de CoL"),
            (date(2026, 10, 15), "in_uitvoering", "Werkgroep scholing is begonnen"),
        ),
        supporters=("Bram", "Chantal", "Fatima", "Gert", "Karin", "Lars"),
    ),
    Point(
        HYPERLINK,
        "Een titel die een formule lijkt.",
        "kennisplatform",
        "wens",
        "organisatie",
        "Bram",
        created=date(2026, 2, 3),
        supporters=("Anouk",),
    ),
    Point(
        PLUS,
        f"{AT_SUM} staat in de beschrijving.",
        "herstelklimaat",
        "knelpunt",
        "institutioneel",
        "Fatima",
        anonymous=True,
        created=date(2026, 2, 17),
        steps=((date(2026, 3, 2), "geparkeerd", "Wacht op de begroting"),),
    ),
    Point(
        AT_SUM,
        "-5 punten voor de begroting",
        "samenwerking",
        "dilemma",
        "organisatie",
        "Karin",
        created=date(2026, 4, 8),
    ),
    Point(
        SCRIPT,
        "<b>vet</b> en <img src=x onerror=alert(2)>",
        "europa",
        "ambitie",
        "institutioneel",
        "Gert",
        created=date(2026, 5, 20),
        steps=(
            (date(2026, 6, 1), "besproken", "Gedeeld met de Europese partners"),
            (date(2026, 11, 3), "afgerond", "Afspraken vastgelegd"),
        ),
        supporters=("Hanneke", "Ilse"),
    ),
    Point(
        f"Intervisie met professionals in {CAFE} Oost",
        "Elke twee weken intervisie met professionals en ervaringsdeskundigen samen.",
        "samenwerking",
        "ambitie",
        "interpersoonlijk",
        "Pieter",
        created=date(2026, 9, 9),
        supporters=("Rachid", "Noah", "Mila"),
    ),
    Point(
        "Verzelfstandiging van de proeftuinen",
        "Hoe blijven proeftuinen bestaan als de subsidie stopt?",
        "verzelfstandiging",
        "knelpunt",
        "organisatie",
        "Lars",
        anonymous=True,
        created=date(2026, 10, 26),
    ),
)

PRACTICES = (
    (
        CMD,
        "De Achterkant",
        "Anouk",
        {"what_we_do": "Een formule als titel.", "context": "Volwassenen in de wijk"},
    ),
    (
        f"Herstelwerkplaats in {CAFE} De Brug",
        "Cliënten Service Desk",
        "Fatima",
        {
            "what_we_do": "Elke maand een herstelwerkplaats.\nMet koffie en taart.",
            "why_it_works": f"{LONG_WORD} worden zichtbaar.",
            "context": "Bezoekers van de inloop",
        },
    ),
)

ROUND_TITLE = "Terugblik op de intervisie"
QUESTIONS = [
    {"id": "q1", "nl": "Wat neem je mee?", "en": "What do you take away?", "source": "test"},
    {"id": "q2", "nl": "Wat heb je nodig?", "en": "What do you need?", "source": "test"},
]
ANSWERS = {
    "Anouk": {"q1": "=1+1 is wat ik leerde", "q2": f"Meer tijd in {CAFE} De Brug"},
    "Bram": {"q1": "- Samen een doel kiezen\n- Elke week even bellen", "q2": AT_SUM},
    "Chantal": {"q1": "Rust", "q2": LONG_WORD},
    "Dirk": {"q1": HYPERLINK},
    "Esra": {"q1": "Moed", "q2": PLUS},
    "Fatima": {"q1": "Dit antwoord haalt een moderator weg", "q2": "Ja"},
}
REMOVED = ANSWERS["Fatima"]["q1"]
ROUND_OPENS = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)
ROUND_CLOSES = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # across the change to summer time


@dataclass
class World:
    app: App
    coordinator: Actor
    points: tuple[Point, ...]
    round_id: int
    files: dict[str, bytes] = field(default_factory=dict)

    async def command(self, path: list[str], options: dict[str, str]) -> tuple[str, bytes]:
        reply = await self.app.dispatcher.run_text(PLACE, COORDINATOR, path, options)
        assert not reply.is_error, render(reply.text, "nl")
        (attachment,) = reply.attachments
        return attachment.filename, attachment.data

    async def agenda(self, fmt: str, **options: str) -> bytes:
        return (await self.command(["agenda", "export"], {"formaat": fmt, **options}))[1]

    async def practices(self, fmt: str) -> bytes:
        return (await self.command(["praktijk", "export"], {"formaat": fmt}))[1]

    async def round(self, fmt: str) -> bytes:
        options = {"ronde": str(self.round_id), "formaat": fmt}
        return (await self.command(["ronde", "export"], options))[1]


def _at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


async def build(app: App) -> World:
    sessionmaker, settings = app.sessionmaker, app.settings
    co = await actor_for(sessionmaker, "Co", coordinator=True, moderator=True)
    async with sessionmaker() as db, db.begin():
        await db.execute(update(Community).values(name=COMMUNITY))
        for name, city in SITES:
            await community.add_site(db, co, name=name, city=city)
    people: dict[str, Actor] = {}
    for site, names in MEMBERS.items():
        for name in names:
            people[name] = await actor_for(sessionmaker, name)
            async with sessionmaker() as db, db.begin():
                await community.update_profile(db, people[name], site=site)
            people[name] = await actor_for(sessionmaker, name)

    points = []
    for point in POINTS:
        async with sessionmaker() as db, db.begin():
            made = await agenda.propose(
                db,
                people[point.author],
                settings,
                title=point.title,
                description=point.description,
                theme=point.theme,
                kind=point.kind,
                level=point.level,
                site=SITE_OF[point.author],
                anonymous=point.anonymous,
            )
        for supporter in point.supporters:
            async with sessionmaker() as db, db.begin():
                await agenda.support(db, people[supporter], made.id)
        for _day, status, reason in point.steps:
            async with sessionmaker() as db, db.begin():
                await agenda.set_status(db, co, made.id, status, reason)
        async with sessionmaker() as db, db.begin():  # the dates they happened on
            await db.execute(
                update(AgendaItem)
                .where(AgendaItem.id == made.id)
                .values(created_at=_at(point.created), updated_at=_at(point.created))
            )
            await db.execute(
                update(AgendaStatusChange)
                .where(
                    AgendaStatusChange.item_id == made.id,
                    AgendaStatusChange.from_status.is_(None),
                )
                .values(created_at=_at(point.created))
            )
            for n, (day, status, _reason) in enumerate(point.steps):
                await db.execute(
                    update(AgendaStatusChange)
                    .where(
                        AgendaStatusChange.item_id == made.id,
                        AgendaStatusChange.to_status == status,
                    )
                    .values(created_at=_at(day, 11 + n))
                )
        points.append(Point(**{**point.__dict__, "id": made.id}))

    for n, (title, site, author, fields) in enumerate(PRACTICES):
        async with sessionmaker() as db, db.begin():
            draft = await practices.start_draft(
                db,
                people[author],
                settings,
                title=title,
                site=site,
                theme="samenwerking",
                level="organisatie",
                tags="intervisie, herstel",
                fields=dict(fields),
            )
        async with sessionmaker() as db, db.begin():
            shared = await practices.confirm_and_share(db, people[author], settings, draft.id)
            when = _at(date(2026, 3, 29 + n))
            await db.execute(
                update(Practice).where(Practice.id == shared.id).values(shared_at=when)
            )

    async with sessionmaker() as db, db.begin():
        await community.configure(db, co, announcement_channel_id="announcements")
        started = await reflections.start(
            db,
            co,
            settings,
            title=ROUND_TITLE,
            questions=QUESTIONS,
            anonymity="choice",
            min_answers=5,
        )
    for name, values in ANSWERS.items():
        async with sessionmaker() as db, db.begin():
            result = await reflections.answer(
                db, people[name], started.id, values, confirmed=True, anonymous=name != "Dirk"
            )
        for step in result.steps:
            async with sessionmaker() as db, db.begin():
                await step.run(db)
    async with sessionmaker() as db, db.begin():
        await reflections.close(db, started.id, settings)
        await db.execute(
            update(ReflectionRound)
            .where(ReflectionRound.id == started.id)
            .values(opens_at=ROUND_OPENS, closes_at=ROUND_CLOSES)
        )
    async with sessionmaker() as db, db.begin():
        summary = await reflections.summary(db, started.id, settings)
        (number,) = [a.number for _, got in summary.per_question for a in got if a.text == REMOVED]
        await reflections.remove_answer(db, co, started.id, number, "Te herkenbaar", settings)
    return World(app, co, tuple(points), started.id)


@pytest.fixture
async def world(app: App) -> AsyncIterator[World]:
    yield await build(app)
