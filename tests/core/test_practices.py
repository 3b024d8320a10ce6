"""The practice log: sharing with a client check, Dutch stemmed search with the same hits on
SQLite and PostgreSQL, hostile queries, filters and paging, edits with history, withdrawal,
similar practices, the digest and data rights."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from leerbot.app import App, open_app
from leerbot.config import load_settings
from leerbot.core import community, practices
from leerbot.core.actor import Actor
from leerbot.core.errors import NotFound, PermissionDenied, ValidationFailed
from tests.helpers import actor_for

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

QUERIES = {
    "trainingen": {"Trainingen voor ervaringsdeskundigen"},
    "training": {"Trainingen voor ervaringsdeskundigen"},
    "ervaringsdeskundige": {
        "Trainingen voor ervaringsdeskundigen",
        "Lotgenotengroep op dinsdag",
        "Intervisie in het team",
        "Werk en re-integratie",
    },
    "ervaringsdeskundigen intervisie": {"Intervisie in het team"},
    "groepen lotgenoten": {"Lotgenotengroep op dinsdag"},
    "wandelingen": {"Wandelen met buren"},
    "fietsen": set(),
    "wandelen wijk": {"Wandelen met buren"},
}


async def share(
    app: App,
    actor: Actor,
    title: str,
    site: str | None,
    what: str,
    tag: str,
    *,
    anonymous: bool = False,
    theme: str = "samenwerking",
) -> practices.PracticeView:
    async with app.sessionmaker() as db, db.begin():
        draft = await practices.start_draft(
            db,
            actor,
            app.settings,
            title=title,
            site=site,
            theme=theme,
            level="organisatie",
            tags=tag,
            anonymous=anonymous,
            fields={"what_we_do": what, "context": "Volwassenen"},
        )
    async with app.sessionmaker() as db, db.begin():
        return await practices.confirm_and_share(db, actor, app.settings, draft.id)


async def seed(app: App) -> Actor:
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    for site in sorted({c[1] for c in CORPUS}):
        async with app.sessionmaker() as db, db.begin():
            await community.add_site(db, coordinator, name=site)
    author = await actor_for(app.sessionmaker, "Anna")
    for title, site, what, tag in CORPUS:
        await share(app, author, title, site, what, tag)
    return author


async def titles(app: App, actor: Actor, query: str, **filters: str) -> set[str]:
    async with app.sessionmaker() as db:
        page = await practices.search(
            db, actor, query, practices.SearchFilters(**filters), page_size=50
        )
    return {p.title for p in page.items}


@pytest.mark.parametrize(("query", "expected"), sorted(QUERIES.items()))
async def test_stemmed_dutch_search(app: App, query: str, expected: set[str]) -> None:
    actor = await seed(app)
    assert await titles(app, actor, query) == expected


async def test_filters_and_paging(app: App) -> None:
    actor = await seed(app)
    assert await titles(app, actor, "ervaringsdeskundige", site="De Achterkant") == {
        "Trainingen voor ervaringsdeskundigen",
        "Intervisie in het team",
    }
    assert await titles(app, actor, "ervaringsdeskundige", tag="werk") == {"Werk en re-integratie"}
    async with app.sessionmaker() as db:
        first = await practices.search(db, actor, "ervaringsdeskundige", page_size=3)
        second = await practices.search(db, actor, "ervaringsdeskundige", page=2, page_size=3)
    assert (first.total, first.pages, len(first.items), len(second.items)) == (4, 2, 3, 1)
    assert not {p.id for p in first.items} & {p.id for p in second.items}


@pytest.mark.parametrize("query", ["***", "^*:", "()", "-- ;", "de het een", "  "])
async def test_hostile_or_empty_queries_get_a_clear_message(app: App, query: str) -> None:
    actor = await seed(app)
    with pytest.raises(ValidationFailed) as caught:
        await titles(app, actor, query)
    assert caught.value.key == "errors.search_no_words"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ('training" OR "wandelen', set()),  # no practice has both words
        ("training AND NOT werk", set()),  # "and", "not" are words, not operators
        ("werk*", {"Werk en re-integratie"}),
        ("NEAR(training", set()),
        ('" OR 1=1 --', set()),
    ],
)
async def test_operators_in_a_query_are_just_words(
    app: App, query: str, expected: set[str]
) -> None:
    actor = await seed(app)
    assert await titles(app, actor, query) == expected  # and no engine syntax error


async def test_drafts_are_invisible_until_the_client_check_is_confirmed(app: App) -> None:
    actor = await seed(app)
    other = await actor_for(app.sessionmaker, "Bram")
    async with app.sessionmaker() as db, db.begin():
        draft = await practices.start_draft(
            db, actor, app.settings, title="Geheime training", fields={"what_we_do": "training"}
        )
    assert "Geheime training" not in await titles(app, other, "training")
    with pytest.raises(NotFound):
        async with app.sessionmaker() as db:
            await practices.view(db, other, draft.id)


async def test_missing_or_overlong_fields_are_refused(app: App) -> None:
    actor = await actor_for(app.sessionmaker, "Anna")
    for kwargs, key in (
        ({"title": ""}, "errors.required"),
        ({"fields": {"what_we_do": ""}}, "errors.required"),
        ({"fields": {"what_we_do": "x" * 1501}}, "errors.too_long"),
    ):
        values = {"title": "T", "fields": {"what_we_do": "iets"}} | kwargs
        with pytest.raises(ValidationFailed) as caught:
            async with app.sessionmaker() as db, db.begin():
                await practices.start_draft(db, actor, app.settings, **values)  # type: ignore[arg-type]
        assert caught.value.key == key


async def test_edits_keep_history_and_only_author_or_coordinator_may_edit(app: App) -> None:
    anna = await seed(app)
    bram = await actor_for(app.sessionmaker, "Bram")
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    async with app.sessionmaker() as db:
        target = (await practices.search(db, anna, "wandelen")).items[0]
    with pytest.raises(PermissionDenied):
        async with app.sessionmaker() as db, db.begin():
            await practices.edit(db, bram, app.settings, target.id, title="Van Bram")
    async with app.sessionmaker() as db, db.begin():
        await practices.edit(
            db, anna, app.settings, target.id, fields={"what_we_do": "Fietsen door de wijk"}
        )
    async with app.sessionmaker() as db, db.begin():
        edited = await practices.edit(db, coordinator, app.settings, target.id, tags="fietsen")
    assert edited.revisions == 2
    assert await titles(app, anna, "fietsen") == {"Wandelen met buren"}
    async with app.sessionmaker() as db, db.begin():
        await practices.withdraw(db, anna, target.id)
    assert await titles(app, anna, "fietsen") == set()


async def test_similar_practices_come_from_other_sites(app: App) -> None:
    anna = await seed(app)
    new = await share(
        app,
        anna,
        "Training voor professionals",
        "Kunstwerkplaats 4B",
        "Een training over herstel.",
        "training",
    )
    async with app.sessionmaker() as db:
        similar = await practices.similar(db, anna, new.id)
    assert similar[0].title == "Trainingen voor ervaringsdeskundigen"
    assert all(s.site != "Kunstwerkplaats 4B" for s in similar)


async def test_digest_lists_new_and_updated_per_site(app: App) -> None:
    await seed(app)
    async with app.sessionmaker() as db:
        actor = await actor_for(app.sessionmaker, "Anna")
        per_site = await practices.digest(
            db, actor.community_id, datetime.now(UTC) - timedelta(days=7)
        )
    assert sorted(per_site) == sorted({c[1] for c in CORPUS})
    assert all(is_new for items in per_site.values() for _, is_new in items)


async def test_anonymous_practice_has_no_author_anywhere(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    item = await share(app, anna, "Anoniem gedeeld", None, "Iets", "x", anonymous=True)
    assert item.author is None and item.anonymous
    async with app.sessionmaker() as db:
        from leerbot.db.models import Practice

        row = await db.get(Practice, item.id)
    assert row is not None and row.author_id is None


async def test_same_hits_on_sqlite_and_postgresql(
    tmp_path: Path, sqlite_template: Path, postgres_url: str | None
) -> None:
    """With PostgreSQL configured, one corpus goes into both databases and every query
    gives the same hits. (Each run also checks the expected hits above.)"""
    if not postgres_url:
        pytest.skip("set LEERBOT_TEST_DATABASE_URL to compare with PostgreSQL")
    from tests.conftest import _empty_postgres

    path = tmp_path / "compare.db"
    shutil.copy(sqlite_template, path)
    await _empty_postgres(postgres_url)
    results: dict[str, dict[str, set[str]]] = {}
    for name, url in (("sqlite", f"sqlite+aiosqlite:///{path}"), ("postgresql", postgres_url)):
        settings = load_settings(environ={"LEERBOT_DATABASE_URL": url})
        async with open_app(settings) as app:
            actor = await seed(app)
            results[name] = {q: await titles(app, actor, q) for q in QUERIES}
    assert results["sqlite"] == results["postgresql"]
    await _empty_postgres(postgres_url)


async def test_a_members_results_are_complete_whatever_other_communities_hold(app: App) -> None:
    """Search filters by community inside the ranked query: 600 practices of another
    community that rank higher (the word in every field) do not push this community's
    practices out, as a global top 500 filtered afterwards did."""
    from sqlalchemy import insert

    from leerbot.db.models import Community, Practice
    from leerbot.search import practices as index

    mine = await actor_for(app.sessionmaker, "Anna", place="guild-1")
    async with app.sessionmaker() as db, db.begin():
        other = Community(platform_id="guild-2", name="Elders", locale="nl")
        db.add(other)
        await db.flush()
        now = datetime(2026, 6, 1, tzinfo=UTC)
        fields = {f: "training training training" for f in practices.TEXT_FIELDS}
        rows = [
            {
                "community_id": other.id,
                "title": f"Training {n}",
                "state": "shared",
                "anonymous": False,
                "tags": ["training"],
                "shared_at": now,
                "created_at": now,
                "updated_at": now,
                **fields,
            }
            for n in range(600)
        ]
        await db.execute(insert(Practice), rows)
        for practice in await db.scalars(select(Practice).where(Practice.community_id == other.id)):
            await index.index(db, practice.id, practice.title, "training " * 20)
    for n in range(3):
        await share(app, mine, f"Onze training {n}", None, "Een training per maand", "training")
    async with app.sessionmaker() as db:
        found = await practices.search(db, mine, "training", page_size=50)
        tagged = await practices.search(
            db, mine, "training", practices.SearchFilters(tag="Training"), page_size=50
        )
    assert found.total == 3 and {p.title for p in found.items} == {
        f"Onze training {n}" for n in range(3)
    }
    assert tagged.total == 3, "the tag filter works inside the query too"
    # "vergelijkbare praktijken" too: the other community's 600 do not crowd this one's out
    async with app.sessionmaker() as db:
        first = next(p for p in found.items if p.title == "Onze training 0")
        suggested = await practices.similar(db, mine, first.id, limit=3)
    assert {p.title for p in suggested} == {"Onze training 1", "Onze training 2"}
