"""The development agenda in the core: proposals, support (also concurrent), status steps,
merging without double counting, browsing, and the coordinator's report."""

from __future__ import annotations

import asyncio

import pytest

from leerbot.app import App
from leerbot.core import agenda
from leerbot.core.community import add_site
from leerbot.core.errors import Conflict, PermissionDenied, ValidationFailed
from tests.helpers import actor_for, audit_count


async def propose(
    app: App,
    name: str,
    title: str = "Meer intervisie",
    *,
    anonymous: bool = False,
    theme: str = "samenwerking",
) -> agenda.ItemView:
    actor = await actor_for(app.sessionmaker, name)
    async with app.sessionmaker() as db, db.begin():
        return await agenda.propose(
            db,
            actor,
            app.settings,
            title=title,
            description="Wat nodig is.",
            theme=theme,
            kind="wens",
            level="organisatie",
            anonymous=anonymous,
        )


async def supporting(app: App, name: str, item_id: int, on: bool = True) -> agenda.ItemView:
    actor = await actor_for(app.sessionmaker, name)
    async with app.sessionmaker() as db, db.begin():
        return await agenda.support(db, actor, item_id, on)


async def test_named_and_anonymous_points(app: App) -> None:
    named = await propose(app, "Anna")
    before = await audit_count(app.sessionmaker)
    anonymous = await propose(app, "Bram", "Stille wens", anonymous=True)
    assert named.author == "Anna" and not named.anonymous
    assert anonymous.author is None and anonymous.anonymous
    assert await audit_count(app.sessionmaker) == before  # nothing about anonymous points


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"title": " "}, "errors.required"),
        ({"title": "x" * 101}, "errors.too_long"),
        ({"description": "y" * 2001}, "errors.too_long"),
        ({"theme": "onbekend"}, "errors.bad_choice"),
        ({"kind": "klacht"}, "errors.bad_choice"),
    ],
)
async def test_bad_proposals_are_refused(app: App, kwargs: dict[str, str], key: str) -> None:
    actor = await actor_for(app.sessionmaker, "Anna")
    values = {
        "title": "T",
        "description": "D",
        "theme": "samenwerking",
        "kind": "wens",
        "level": "organisatie",
    } | kwargs
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await agenda.propose(db, actor, app.settings, **values)
    assert caught.value.key == key
    async with app.sessionmaker() as db:
        assert (await agenda.listing(db, actor, agenda.Filters())).total == 0


async def test_support_once_per_member_and_withdraw(app: App) -> None:
    item = await propose(app, "Anna")
    assert (await supporting(app, "Bram", item.id)).support_count == 1
    with pytest.raises(Conflict):
        await supporting(app, "Bram", item.id)
    assert (await supporting(app, "Cem", item.id)).support_count == 2
    assert (await supporting(app, "Bram", item.id, on=False)).support_count == 1


async def test_concurrent_support_counts_each_member_once(app: App) -> None:
    item = await propose(app, "Anna")
    names = [f"Lid{i}" for i in range(8)]
    actors = [await actor_for(app.sessionmaker, n) for n in names]

    async def press(actor: object) -> str:
        try:
            async with app.sessionmaker() as db, db.begin():
                await agenda.support(db, actor, item.id)  # type: ignore[arg-type]
            return "ok"
        except Conflict:
            return "twice"

    results = await asyncio.gather(*(press(a) for a in actors + actors[:3]))
    assert results.count("ok") == 8
    async with app.sessionmaker() as db:
        assert (await agenda.view(db, None, item.id)).support_count == 8


async def test_status_steps_need_a_coordinator_and_a_reason(app: App) -> None:
    item = await propose(app, "Anna")
    member = await actor_for(app.sessionmaker, "Bram")
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    with pytest.raises(PermissionDenied):
        async with app.sessionmaker() as db, db.begin():
            await agenda.set_status(db, member, item.id, "besproken", "ok")
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await agenda.set_status(db, coordinator, item.id, "besproken", "")
    assert caught.value.key == "errors.required"
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await agenda.set_status(db, coordinator, item.id, "afgerond", "klaar")
    assert caught.value.key == "errors.status_not_allowed"
    async with app.sessionmaker() as db, db.begin():
        await agenda.set_status(db, coordinator, item.id, "besproken", "In de CoL van mei")
        done = await agenda.set_status(db, coordinator, item.id, "in_uitvoering", "Pilot start")
    assert [(h.to_status, h.reason) for h in done.history[1:]] == [
        ("besproken", "In de CoL van mei"),
        ("in_uitvoering", "Pilot start"),
    ]


async def test_merge_carries_support_without_counting_anyone_twice(app: App) -> None:
    first = await propose(app, "Anna", "Intervisie in teams")
    second = await propose(app, "Bram", "Teamintervisie")
    for name in ("Cem", "Dewi"):
        await supporting(app, name, first.id)
    for name in ("Dewi", "Eva"):
        await supporting(app, name, second.id)
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        merged = await agenda.merge(db, coordinator, first.id, second.id, "Zelfde punt")
    assert merged.support_count == 3  # Cem, Dewi, Eva
    async with app.sessionmaker() as db:
        page = await agenda.listing(db, coordinator, agenda.Filters())
        old = await agenda.view(db, None, first.id)
    assert [i.id for i in page.items] == [second.id] and old.merged_into == second.id
    with pytest.raises(ValidationFailed):
        await supporting(app, "Fenna", first.id)


async def test_listing_filters_sorts_and_pages(app: App) -> None:
    ids = [(await propose(app, f"A{i}", f"Punt {i}")).id for i in range(7)]
    await propose(app, "Z", "Ander thema", theme="europa")
    for name in ("B1", "B2"):
        await supporting(app, name, ids[3])
    member = await actor_for(app.sessionmaker, "Kijker")
    async with app.sessionmaker() as db:
        first = await agenda.listing(db, member, agenda.Filters(theme="samenwerking"))
        second = await agenda.listing(db, member, agenda.Filters(theme="samenwerking"), page=2)
        by_date = await agenda.listing(db, member, agenda.Filters(sort="date"))
    assert first.total == 7 and first.pages == 2 and first.items[0].id == ids[3]
    assert len(second.items) == 2
    assert by_date.items[0].title == "Ander thema"


async def test_report_hides_authors_of_anonymous_points_and_small_counts(app: App) -> None:
    """The small-count rule: counts of points are shown exactly (they name nobody); an
    anonymous point from a site with fewer members than the threshold names no site, is
    counted under "een proeftuin", and is left out when the export is filtered on that site."""
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await add_site(db, coordinator, name="Klein")
    for name, title, anonymous in (
        ("Anna", "Met naam", False),
        ("Bram", "Zonder naam", True),
        ("Cem", "Ook met naam", False),
    ):
        actor = await actor_for(app.sessionmaker, name)
        async with app.sessionmaker() as db, db.begin():
            await agenda.propose(
                db,
                actor,
                app.settings,
                title=title,
                description="Wat nodig is.",
                theme="samenwerking",
                kind="wens",
                level="organisatie",
                anonymous=anonymous,
                site="Klein",
            )
    async with app.sessionmaker() as db:
        data = await agenda.report(db, coordinator, app.settings)
        filtered = await agenda.report(db, coordinator, app.settings, site="Klein")
    authors = {p.title: p.author for p in data.points}
    assert authors == {"Met naam": "Anna", "Zonder naam": "", "Ook met naam": "Cem"}
    sites = {p.title: (p.site, p.site_withheld) for p in data.points}
    assert sites["Zonder naam"] == ("", True) and sites["Met naam"] == ("Klein", False)
    assert data.by_site == {"Klein": 2} and data.some_site == 1
    theme = "Samenwerking ervaringsdeskundigen en professionals"
    assert data.small(data.by_theme_status[theme]["nieuw"]) == "3", "counts of points: exact"
    assert [p.title for p in filtered.points] == ["Met naam", "Ook met naam"]
    member = await actor_for(app.sessionmaker, "Anna")
    with pytest.raises(PermissionDenied):
        async with app.sessionmaker() as db:
            await agenda.report(db, member, app.settings)


def test_report_days_are_local_days_in_any_zone() -> None:
    """The report reads timestamps in bulk and caches local days per quarter hour: the day
    must be the one the community's clock shows, also where the offset is not whole hours,
    and on both sides of a clock change."""
    from datetime import UTC, date, datetime
    from zoneinfo import ZoneInfo

    from leerbot.core.agenda import _Moments

    for zone, moments in (
        ("Europe/Amsterdam", ["2026-03-28 22:59:00", "2026-03-28 23:00:00", "2026-10-24 21:59:59"]),
        ("Asia/Kathmandu", ["2026-05-01 18:14:00", "2026-05-01 18:15:00", "2026-05-01 18:16:00"]),
    ):
        tz = ZoneInfo(zone)
        for sqlite in (True, False):
            cache = _Moments(sqlite, tz)
            for text in moments:
                utc = datetime.fromisoformat(text).replace(tzinfo=UTC)
                raw = text if sqlite else utc
                assert cache.local_day(raw) == utc.astimezone(tz).date(), (zone, text)
    assert _Moments(True, ZoneInfo("Asia/Kathmandu")).local_day("2026-05-01 18:15:00") == date(
        2026, 5, 2
    )
