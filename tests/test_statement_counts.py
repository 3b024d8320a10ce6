"""The main commands send the same few statements to the database however much the
community holds: the same count with 12 points (practices, sessions, rounds) as with 60.
That is what a member notices as "it stays fast" when there are 100,000.

Each test builds a community with a small amount of everything, counts the statements of
one command, adds more of everything, and counts the same command again (tests/statements.py
counts). The upper bounds are what the commands send now, so that a new N+1 shows up here
before a member notices it.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from leerbot.app import App
from leerbot.chat.context import Place
from leerbot.chat.reply import Reply, render
from leerbot.core.actor import Function, Identity
from leerbot.db.models import (
    AgendaItem,
    AgendaLink,
    AgendaStatusChange,
    AgendaSupport,
    Community,
    Member,
    ReflectionRound,
    RoundRecipient,
    SessionOccurrence,
    SessionRsvp,
    SessionSeries,
    Site,
)
from tests.statements import Counted, count_statements

PLACE = Place("guild-1", "Community of Learners")
COORDINATOR = Identity("co", "Co", granted_functions=frozenset({Function.COORDINATOR}))
MODERATOR = Identity("mo", "Mo", granted_functions=frozenset({Function.MODERATOR}))
SANNE = Identity("sanne", "Sanne")
SAM = Identity("sam", "Sam")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SMALL, LARGE = 12, 60
BOUNDS = {
    # the unit of work itself: the community, the member, and the member again for the
    # one-time welcome (3 of each count below)
    "agenda propose": 12,  # the command that opens the form, and the form sent
    "agenda support": 10,
    "agenda view": 6,
    "agenda list": 8,
    "agenda list by date": 8,
    "agenda next page": 7,  # keyset: no count, the button carries it
    "agenda export": 8,
    "practice share": 43,  # five steps: two forms, a button, the check, the confirmation
    "practice view": 5,
    "practice search": 16,
    "practice search next page": 15,
    "practice export": 5,
    "session rsvp": 14,
    "session view": 7,
    "session list": 9,
    "session mine": 8,
    "round answer": 9,
    "round list": 5,
}
"""At most this many statements, at any size (SQLite's count; PostgreSQL's is not higher)."""


def ok(reply: Reply) -> Reply:
    assert not reply.is_error, render(reply.text, reply.locale or "nl")
    return reply


async def say(app: App, who: Identity, words: str, **args: object) -> Reply:
    return ok(await app.dispatcher.run_text(PLACE, who, words.split(), dict(args)))


async def press(app: App, who: Identity, custom_id: str) -> Reply:
    return ok(await app.dispatcher.press(PLACE, who, custom_id))


async def submit(app: App, who: Identity, custom_id: str, values: dict[str, str]) -> Reply:
    return ok(await app.dispatcher.submit(PLACE, who, custom_id, values))


async def counted(app: App, action: Callable[[], Awaitable[object]]) -> Counted:
    """The statements of `action`, or of the part of it that counted itself (`_counted`)."""
    async with count_statements(app.engine) as result:
        await action()
    return app.__dict__.pop("_counted", result)


# --- building a community of a given size ------------------------------------------------


def member(n: int) -> Identity:
    return Identity(f"m{n}", f"Lid {n}")


async def propose(app: App, who: Identity, title: str, anonymous: bool = False) -> int:
    form = await say(
        app,
        who,
        "agenda voorstel",
        thema="samenwerking",
        soort="wens",
        niveau="organisatie",
        site="Utrecht",
        anoniem="ja" if anonymous else "nee",
    )
    assert form.form is not None
    done = await submit(
        app, who, form.form.custom_id, {"titel": title, "beschrijving": f"Uitleg bij {title}"}
    )
    return int(render(done.title, "nl").split("#")[1].split()[0].strip(":"))


async def community_ids(app: App) -> tuple[int, int]:
    """(community id, id of the site "Utrecht")."""
    async with app.sessionmaker() as db:
        community = await db.scalar(select(Community.id).where(Community.platform_id == "guild-1"))
        site = await db.scalar(select(Site.id).where(Site.name == "Utrecht"))
    assert community is not None and site is not None
    return community, site


async def members(app: App, db: AsyncSession, start: int, upto: int) -> list[int]:
    community, site = await community_ids(app)
    rows = [
        Member(
            community_id=community,
            platform_id=f"m{n}",
            display_name=f"Lid {n}",
            site_id=site,
            is_moderator=False,
            is_coordinator=False,
            share_lived_experience=False,
        )
        for n in range(start, upto + 1)
    ]
    db.add_all(rows)
    await db.flush()
    return [m.id for m in rows]


async def grow_agenda(app: App, upto: int) -> None:
    """Points up to `upto` (written straight into the tables, as many as a command would
    leave): every other one anonymous, each with support, a status step and a link, the
    things a point's view reads."""
    community, site = await community_ids(app)
    start = app.__dict__.get("_points", 0) + 1
    async with app.sessionmaker() as db, db.begin():
        people = await members(app, db, start, upto)
        items = [
            AgendaItem(
                community_id=community,
                title=f"Punt {n}",
                description=f"Uitleg bij punt {n}",
                theme="samenwerking",
                kind="wens",
                level="organisatie",
                site_id=site,
                author_id=None if n % 2 == 0 else author,
                anonymous=n % 2 == 0,
                status="besproken",
                support_count=1,
            )
            for n, author in zip(range(start, upto + 1), people, strict=True)
        ]
        db.add_all(items)
        await db.flush()
        for item, supporter in zip(items, people[1:] + people[:1], strict=True):
            db.add(AgendaSupport(item_id=item.id, member_id=supporter))
            db.add(AgendaStatusChange(item_id=item.id, to_status="nieuw", reason=""))
            db.add(
                AgendaStatusChange(
                    item_id=item.id, from_status="nieuw", to_status="besproken", reason="Ja"
                )
            )
            db.add(AgendaLink(item_id=item.id, target_type="session", target_id=1))
    app.__dict__["_points"] = upto


def measured(i: int) -> Identity:
    """The member whose command is counted the `i`-th time (known to the bot already)."""
    return Identity(f"meet{i}", f"Meet {i}")


async def base(app: App) -> None:
    await say(app, COORDINATOR, "site toevoegen", naam="Utrecht", plaats="Utrecht")
    for who in (measured(0), measured(1), COORDINATOR, MODERATOR):
        await say(app, who, "help")
    start = (datetime.now(AMSTERDAM) + timedelta(days=3)).strftime("%Y-%m-%d 19:30")
    await say(app, MODERATOR, "sessie plannen", titel="Intervisie", start=start, adres="Utrecht")


# --- the agenda --------------------------------------------------------------------------


async def measure(
    app: App,
    grow: Callable[[App, int], Awaitable[None]],
    action: Callable[[App, Identity], Awaitable[object]],
) -> tuple[Counted, Counted]:
    await base(app)
    await grow(app, SMALL)
    small = await counted(app, lambda: action(app, measured(0)))
    await grow(app, LARGE)
    large = await counted(app, lambda: action(app, measured(1)))
    if os.environ.get("LEERBOT_SHOW_STATEMENTS"):
        print(small.report())
    return small, large


AGENDA: dict[str, Callable[[App, Identity], Awaitable[object]]] = {
    "agenda propose": lambda app, who: propose(app, who, "Nieuw punt"),
    "agenda support": lambda app, who: press(app, who, "lb:agenda.support:3"),
    "agenda view": lambda app, who: say(app, who, "agenda bekijken", punt="3"),
    "agenda list": lambda app, who: say(app, who, "agenda lijst"),
    "agenda list by date": lambda app, who: say(app, who, "agenda lijst", sorteer="date"),
    "agenda next page": lambda app, who: next_page(app, who),
    "agenda export": lambda app, who: say(app, COORDINATOR, "agenda export", formaat="csv"),
}


async def next_page(app: App, who: Identity) -> None:
    """The third page, from the second page's button (keyset paging)."""
    first = await say(app, who, "agenda lijst")
    second = await press(app, who, first.buttons[-1].custom_id)
    async with count_statements(app.engine) as third:
        await press(app, who, second.buttons[-1].custom_id)
    app.__dict__["_counted"] = third


@pytest.mark.parametrize("command", list(AGENDA))
async def test_agenda_commands_send_the_same_statements_at_any_size(app: App, command: str) -> None:
    small, large = await measure(app, grow_agenda, AGENDA[command])
    print(f"{command}: {small.count} statements at {SMALL}, {large.count} at {LARGE}")
    assert large.count == small.count, large.report()
    assert large.count <= BOUNDS[command], large.report()


# --- the practice log --------------------------------------------------------------------


async def grow_practices(app: App, upto: int) -> None:
    """Shared practices up to `upto`, through the core (the search index follows them),
    every other one anonymous."""
    from leerbot.core import practices
    from tests.helpers import actor_for

    start = app.__dict__.get("_practices", 0) + 1
    for n in range(start, upto + 1):
        author = await actor_for(app.sessionmaker, f"Auteur {n}")
        async with app.sessionmaker() as db, db.begin():
            draft = await practices.start_draft(
                db,
                author,
                app.settings,
                title=f"Training {n} voor nieuwe collega's",
                site="Utrecht",
                theme="samenwerking",
                level="organisatie",
                anonymous=n % 2 == 0,
                fields={"context": "In de wijk", "what_we_do": f"Trainingen, ronde {n}"},
            )
            await practices.complete_draft(db, author, draft.id, {"result": "Herkenning"})
            await practices.confirm_and_share(db, author, app.settings, draft.id)
    app.__dict__["_practices"] = upto


async def share_practice(app: App, who: Identity) -> None:
    """The whole of sharing: two forms, the check, the confirmation."""
    opened = await say(app, who, "praktijk delen", site="Utrecht", thema="samenwerking")
    assert opened.form is not None
    first = await submit(
        app,
        who,
        opened.form.custom_id,
        {"title": "Training met ervaringsdeskundigen", "what_we_do": "Samen trainen"},
    )
    second = await press(app, who, first.buttons[0].custom_id)
    assert second.form is not None
    checked = await submit(app, who, second.form.custom_id, {"result": "Meer hoop"})
    confirm = next(b for b in checked.buttons if "practice.confirm" in b.custom_id)
    await press(app, who, confirm.custom_id)


PRACTICES: dict[str, Callable[[App, Identity], Awaitable[object]]] = {
    "practice share": share_practice,
    "practice view": lambda app, who: say(app, who, "praktijk bekijken", nummer="3"),
    "practice search": lambda app, who: say(app, who, "praktijk zoek", vraag="training"),
    "practice search next page": lambda app, who: search_next_page(app, who),
    "practice export": lambda app, who: say(app, COORDINATOR, "praktijk export", formaat="csv"),
}


async def search_next_page(app: App, who: Identity) -> None:
    first = await say(app, who, "praktijk zoek", vraag="training")
    async with count_statements(app.engine) as second:
        await press(app, who, first.buttons[-1].custom_id)
    app.__dict__["_counted"] = second


@pytest.mark.parametrize("command", list(PRACTICES))
async def test_practice_commands_send_the_same_statements_at_any_size(
    app: App, command: str
) -> None:
    small, large = await measure(app, grow_practices, PRACTICES[command])
    print(f"{command}: {small.count} statements at {SMALL}, {large.count} at {LARGE}")
    assert large.count == small.count, large.report()
    assert large.count <= BOUNDS[command], large.report()


# --- intervisie --------------------------------------------------------------------------


async def grow_sessions(app: App, upto: int) -> None:
    """Meetings to come up to `upto` (one a day from tomorrow), each with answers (the
    measured members say yes to all of them); plus as many meetings long past, which no
    list of meetings to come should read."""
    community, site = await community_ids(app)
    start = app.__dict__.get("_sessions", 0) + 1
    now = datetime.now(UTC)
    async with app.sessionmaker() as db, db.begin():
        measuring = list(
            await db.scalars(select(Member.id).where(Member.platform_id.in_(["meet0", "meet1"])))
        )
        people = await members(app, db, 10_000 + start, 10_000 + upto)
        for n, person in zip(range(start, upto + 1), people, strict=True):
            for days in (n, -400 - n):  # one to come, one long past
                local = (datetime.now(AMSTERDAM) + timedelta(days=days)).replace(
                    hour=19, minute=30, second=0, microsecond=0
                )
                series = SessionSeries(
                    community_id=community,
                    title=f"Intervisie {n}",
                    method="incidentmethode",
                    timezone="Europe/Amsterdam",
                    first_start_local=local.replace(tzinfo=None),
                    duration_minutes=90,
                    freq="once",
                    location_kind="address",
                    location="Utrecht",
                    site_id=site,
                    capacity=8,
                )
                db.add(series)
                await db.flush()
                occurrence = SessionOccurrence(
                    series_id=series.id,
                    original_local=local.replace(tzinfo=None),
                    starts_at=local.astimezone(UTC),
                    ends_at=local.astimezone(UTC) + timedelta(minutes=90),
                )
                db.add(occurrence)
                await db.flush()
                answers = [(person, "yes"), (people[0], "maybe")]
                answers += [(m, "maybe") for m in measuring] if days > 0 else []
                for member_id, status in answers:
                    if member_id != person or status == "yes":
                        db.add(
                            SessionRsvp(
                                occurrence_id=occurrence.id,
                                member_id=member_id,
                                status=status,
                                responded_at=now,
                            )
                        )
    app.__dict__["_sessions"] = upto


SESSIONS: dict[str, Callable[[App, Identity], Awaitable[object]]] = {
    "session rsvp": lambda app, who: press(app, who, "lb:session.yes:1"),
    "session view": lambda app, who: say(app, who, "sessie bekijken", sessie="1"),
    "session list": lambda app, who: say(app, who, "sessie lijst"),
    "session mine": lambda app, who: say(app, who, "sessie mijn"),
}


@pytest.mark.parametrize("command", list(SESSIONS))
async def test_session_commands_send_the_same_statements_at_any_size(
    app: App, command: str
) -> None:
    small, large = await measure(app, grow_sessions, SESSIONS[command])
    print(f"{command}: {small.count} statements at {SMALL}, {large.count} at {LARGE}")
    assert large.count == small.count, large.report()
    assert large.count <= BOUNDS[command], large.report()


# --- reflection rounds -------------------------------------------------------------------


async def grow_rounds(app: App, upto: int) -> None:
    """Rounds up to `upto` beside round 1, and as many more members asked in round 1."""
    community, _ = await community_ids(app)
    start = app.__dict__.get("_rounds", 0) + 1
    now = datetime.now(UTC)
    async with app.sessionmaker() as db, db.begin():
        people = await members(app, db, 20_000 + start, 20_000 + upto)
        for n, person in zip(range(start, upto + 1), people, strict=True):
            earlier = ReflectionRound(
                community_id=community,
                title=f"Ronde {n}",
                questions=[{"id": "q1", "text": "Wat neem je mee?"}],
                audience_kind="everyone",
                delivery="dm",
                anonymity="named",
                opens_at=now - timedelta(days=n),
                closes_at=now + timedelta(days=7),
            )
            db.add(earlier)
            await db.flush()
            db.add(RoundRecipient(round_id=earlier.id, member_id=person, status="answered"))
            db.add(RoundRecipient(round_id=1, member_id=person))
    app.__dict__["_rounds"] = upto


async def answer_round(app: App, who: Identity) -> None:
    """The answer itself: the form sent (after the check and the form's button)."""
    check = await say(app, who, "ronde beantwoorden", ronde="1")
    button = next(b for b in check.buttons if "round.form" in b.custom_id)
    form = (await press(app, who, button.custom_id)).form
    assert form is not None
    values = {f.name: "Rust en ruimte" for f in form.fields}
    async with count_statements(app.engine) as sent:
        await submit(app, who, form.custom_id, values)
    app.__dict__["_counted"] = sent


async def grow_with_round(app: App, upto: int) -> None:
    if not app.__dict__.get("_rounds"):
        await say(
            app,
            MODERATOR,
            "ronde start",
            titel="Terugblik",
            vraag1="Wat neem je mee?",
            samenvatting="moderators",
        )
    await grow_rounds(app, upto)


ROUNDS: dict[str, Callable[[App, Identity], Awaitable[object]]] = {
    "round answer": answer_round,
    "round list": lambda app, who: say(app, who, "ronde lijst"),
}


@pytest.mark.parametrize("command", list(ROUNDS))
async def test_round_commands_send_the_same_statements_at_any_size(app: App, command: str) -> None:
    small, large = await measure(app, grow_with_round, ROUNDS[command])
    print(f"{command}: {small.count} statements at {SMALL}, {large.count} at {LARGE}")
    assert large.count == small.count, large.report()
    assert large.count <= BOUNDS[command], large.report()


# --- the agenda export above PostgreSQL's parameter limit --------------------------------

BIG = 40_000  # above 32,767, the most parameters PostgreSQL takes in one statement


@pytest.mark.skipif(
    "LEERBOT_TEST_DATABASE_URL" not in os.environ, reason="PostgreSQL's parameter limit"
)
async def test_agenda_export_above_the_parameter_limit_on_postgresql(app: App) -> None:
    """A coordinator exports an agenda of 40,000 points: every point is in the file, in
    the same few statements as a small agenda (seeded with bulk inserts)."""
    from sqlalchemy import insert

    from tests.helpers import csv_rows

    await base(app)
    community, site = await community_ids(app)
    now = datetime.now(UTC)
    async with app.sessionmaker() as db, db.begin():
        await db.execute(
            insert(AgendaItem),
            [
                {
                    "community_id": community,
                    "title": f"Punt {n}",
                    "description": "Uitleg",
                    "theme": "samenwerking",
                    "kind": "wens",
                    "level": "organisatie",
                    "site_id": site,
                    "author_id": None,
                    "anonymous": True,
                    "status": "nieuw",
                    "support_count": 0,
                    "created_at": now,
                    "updated_at": now,
                }
                for n in range(BIG)
            ],
        )
        await db.execute(
            AgendaStatusChange.__table__.insert().from_select(
                ["item_id", "from_status", "to_status", "reason", "created_at"],
                select(
                    AgendaItem.id,
                    literal("nieuw"),
                    literal("besproken"),
                    literal("Besproken"),
                    literal(now, AgendaItem.created_at.type),
                ),
            )
        )
    async with count_statements(app.engine) as counted:
        reply = await say(app, COORDINATOR, "agenda export", formaat="csv")
    (attachment,) = reply.attachments
    rows = csv_rows(attachment.data)
    assert len(rows) == BIG and rows[0]["Titel"] == "Punt 0", rows[:2]
    assert counted.count <= 10, counted.report()
