"""Data rights: every member table is covered; export returns one's own data; delete
removes it and leaves others untouched."""

from __future__ import annotations

import json

from sqlalchemy import select

from leerbot.app import App
from leerbot.core import community as core
from leerbot.core import privacy
from leerbot.db.models import AuditEntry, Base, Member
from tests.helpers import actor_for


def test_every_table_referring_to_members_has_a_data_handler() -> None:
    from leerbot.chat import load_all

    load_all()  # capabilities register their handlers when their modules load
    referring = {"members"} | {
        table.name
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "members"
    }
    missing = referring - privacy.covered_tables()
    assert not missing, f"no privacy.DataHandler covers: {sorted(missing)}"


async def test_export_contains_own_data_and_nobody_elses(app: App) -> None:
    sanne = await actor_for(app.sessionmaker, "Sanne")
    daan = await actor_for(app.sessionmaker, "Daan")
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(
            db, sanne, lived_experience="Sanne's verhaal", role="ervaringsdeskundige"
        )
        await core.update_profile(db, daan, lived_experience="Daan's verhaal")
    async with app.sessionmaker() as db:
        document = json.loads(await privacy.export(db, sanne))
    profile = document["data"]["profile"]["profile"]
    assert profile["lived_experience"] == "Sanne's verhaal"
    assert profile["role"] == "ervaringsdeskundige"
    assert [a["action"] for a in document["data"]["profile"]["actions_you_took"]] == [
        "profile.updated"
    ]
    assert "Daan" not in json.dumps(document)


async def test_summary_counts_what_is_held(app: App) -> None:
    sanne = await actor_for(app.sessionmaker, "Sanne")
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(db, sanne, lived_experience="x", locale="en")
    async with app.sessionmaker() as db:
        summaries = await privacy.summarize(db, sanne)
    assert summaries[0].counts == {"profile_fields": 2, "audit_entries": 1}


async def test_delete_removes_member_and_unlinks_audit_but_keeps_others(app: App) -> None:
    from leerbot.core import agenda

    sanne = await actor_for(app.sessionmaker, "Sanne")
    daan = await actor_for(app.sessionmaker, "Daan")
    mo = await actor_for(app.sessionmaker, "Mo", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(db, sanne, lived_experience="weg ermee")
        await core.update_profile(db, daan, lived_experience="blijft")
        await core.set_functions(db, mo, "sanne", moderator=True)
        await core.set_functions(db, mo, "daan", moderator=True)
        await agenda.propose(
            db,
            sanne,
            app.settings,
            title="Punt",
            description="D",
            theme="doorgroei",
            kind="wens",
            level="organisatie",
        )
    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, sanne)
    async with app.sessionmaker() as db:
        members = {m.platform_id: m for m in await db.scalars(select(Member))}
        entries = list(await db.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert "sanne" not in members
    assert members["daan"].lived_experience == "blijft"
    daan_id, mo_id = members["daan"].id, members["mo"].id
    assert [(e.action, e.actor_id, e.target_type, e.target_id) for e in entries] == [
        # her own profile change is gone: it was about her and by her
        ("profile.updated", daan_id, "member", str(daan_id)),
        # what the coordinator did stays accountable, but points at nobody
        ("member.functions", mo_id, "member", None),
        ("member.functions", mo_id, "member", str(daan_id)),
        # what she did stays, without her
        ("agenda.proposed", None, "agenda_item", "1"),
    ]


async def test_no_audit_row_or_job_names_a_deleted_member(app: App) -> None:
    """Role confirmations and attendance name the member in `details`; a notice for them
    waits in a job's payload: after the delete none of it points at them."""
    from datetime import UTC, datetime, timedelta

    from leerbot import scheduling
    from leerbot.core import audit, sessions
    from leerbot.db.models import ScheduledJob

    mo = await actor_for(app.sessionmaker, "Mo", coordinator=True)
    sanne = await actor_for(app.sessionmaker, "Sanne")
    daan = await actor_for(app.sessionmaker, "Daan")
    start = (datetime.now(app.settings.tz) + timedelta(days=5)).strftime("%Y-%m-%d 19:30")
    async with app.sessionmaker() as db, db.begin():
        item = await sessions.plan(
            db,
            mo,
            app.settings,
            title="Intervisie",
            start=start,
            location_kind="address",
            location="Utrecht",
        )
    for actor in (sanne, daan):
        async with app.sessionmaker() as db, db.begin():
            await sessions.rsvp(db, actor, item.id, "yes")
            await sessions.volunteer(db, actor, item.id, "inbrenger")
    async with app.sessionmaker() as db, db.begin():
        await sessions.confirm_role(db, mo, item.id, "sanne", "inbrenger")
        for actor in (sanne, daan):
            await scheduling.schedule(
                db,
                community_id=mo.community_id,
                kind="test.notice",
                key=f"notice:{actor.member_id}",
                due_at=datetime.now(UTC) + timedelta(days=1),
                payload={"member_id": actor.member_id},
            )
        await audit.record(
            db, mo, "test.about", "session_occurrence", item.id, member=daan.member_id
        )
    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, sanne)
    async with app.sessionmaker() as db:
        entries = list(await db.scalars(select(AuditEntry).order_by(AuditEntry.id)))
        jobs = [j.payload for j in await db.scalars(select(ScheduledJob))]
    confirmed = [e for e in entries if e.action == "session.role_confirmed"]
    assert confirmed and all("member" not in e.details for e in confirmed)
    assert confirmed[0].details["role"] == "inbrenger", "the action itself stays"
    assert [e.details["member"] for e in entries if e.action == "test.about"] == [daan.member_id]
    for entry in entries:
        assert entry.actor_id != sanne.member_id
        assert not (entry.target_type == "member" and entry.target_id == str(sanne.member_id))
        assert entry.details.get("member") != sanne.member_id
    assert {"member_id": daan.member_id} in jobs
    assert {"member_id": sanne.member_id} not in jobs


async def test_the_next_new_member_never_gets_a_deleted_members_key(app: App) -> None:
    """SQLite reuses the highest key once its row is gone, unless the table has
    AUTOINCREMENT; PostgreSQL's sequences never do."""
    await actor_for(app.sessionmaker, "Anna")
    bram = await actor_for(app.sessionmaker, "Bram")  # the highest key
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(db, bram, lived_experience="weg")
        await privacy.delete(db, bram)
    cees = await actor_for(app.sessionmaker, "Cees")
    assert cees.member_id > bram.member_id


async def test_saved_searches_belong_to_the_searcher_and_go_with_them(app: App) -> None:
    from leerbot.core import practices
    from leerbot.db.models import SavedSearch

    anna = await actor_for(app.sessionmaker, "Anna")
    bram = await actor_for(app.sessionmaker, "Bram")
    async with app.sessionmaker() as db, db.begin():
        mine = await practices.save_search(
            db, anna, app.settings, "wandelen", practices.SearchFilters(tag="wijk")
        )
        theirs = await practices.save_search(
            db, bram, app.settings, "koken", practices.SearchFilters()
        )
    async with app.sessionmaker() as db:
        assert await practices.saved_search(db, anna, mine.id) is not None
        assert await practices.saved_search(db, anna, theirs.id) is None, "not someone else's"
        exported = json.loads(await privacy.export(db, anna))["data"]["practices"]
    assert exported["searches_with_more_pages"][0]["query"] == "wandelen"
    assert exported["searches_with_more_pages"][0]["filters"] == {"tag": "wijk"}
    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, anna)
    async with app.sessionmaker() as db:
        left = [s.query for s in await db.scalars(select(SavedSearch))]
    assert left == ["koken"]


async def test_old_saved_searches_are_purged_after_the_configured_days(app: App) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from leerbot import scheduling
    from leerbot.core import practices
    from leerbot.db.models import SavedSearch

    anna = await actor_for(app.sessionmaker, "Anna")
    async with app.sessionmaker() as db, db.begin():
        old = await practices.save_search(db, anna, app.settings, "oud", practices.SearchFilters())
        await practices.save_search(db, anna, app.settings, "nieuw", practices.SearchFilters())
        await db.execute(
            update(SavedSearch)
            .where(SavedSearch.id == old.id)
            .values(created_at=datetime.now(UTC) - timedelta(days=8))
        )
    async with app.sessionmaker() as db, db.begin():
        await scheduling.purge_finished(db, saved_search_days=30)
    async with app.sessionmaker() as db:
        assert len(list(await db.scalars(select(SavedSearch)))) == 2
    async with app.sessionmaker() as db, db.begin():
        await scheduling.purge_finished(db, saved_search_days=7)
    async with app.sessionmaker() as db:
        assert [s.query for s in await db.scalars(select(SavedSearch))] == ["nieuw"]
    week = app.settings.model_copy(
        update={"practices": app.settings.practices.model_copy(update={"saved_search_days": 1})}
    )
    async with app.sessionmaker() as db, db.begin():
        await db.execute(
            update(SavedSearch).values(created_at=datetime.now(UTC) - timedelta(days=2))
        )
        await practices.save_search(db, anna, week, "vandaag", practices.SearchFilters())
    async with app.sessionmaker() as db:
        assert [s.query for s in await db.scalars(select(SavedSearch))] == ["vandaag"], (
            "saving a search purges expired ones while the bot runs"
        )


async def test_session_sign_ups_are_exported_and_deleting_frees_the_place(app: App) -> None:
    from datetime import datetime, timedelta

    from leerbot.core import sessions

    coordinator = await actor_for(app.sessionmaker, "Mo", coordinator=True)
    start = (datetime.now(app.settings.tz) + timedelta(days=5)).strftime("%Y-%m-%d 19:30")
    async with app.sessionmaker() as db, db.begin():
        item = await sessions.plan(
            db,
            coordinator,
            app.settings,
            title="Intervisie",
            start=start,
            location_kind="address",
            location="Utrecht",
            capacity=2,
        )
    names = ("Sanne", "Daan", "Eva")
    for name in names:
        actor = await actor_for(app.sessionmaker, name)
        async with app.sessionmaker() as db, db.begin():
            await sessions.rsvp(db, actor, item.id, "yes")
    sanne = await actor_for(app.sessionmaker, "Sanne")
    async with app.sessionmaker() as db, db.begin():
        await sessions.volunteer(db, sanne, item.id, "inbrenger")
    async with app.sessionmaker() as db:
        data = json.loads(await privacy.export(db, sanne))["data"]["sessions"]
    assert [s["answer"] for s in data["sign_ups"]] == ["yes"]
    assert data["roles"][0]["role"] == "inbrenger"
    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, sanne)
    async with app.sessionmaker() as db:
        after = await sessions.view(db, None, item.id)
    assert after.yes_count == 2 and after.waitlist_count == 0
    assert "Sanne" not in after.listed_names and "Eva" in after.listed_names


async def test_deleting_makes_named_agenda_points_anonymous_and_removes_support(
    app: App,
) -> None:
    from leerbot.core import agenda

    anna = await actor_for(app.sessionmaker, "Anna")
    bram = await actor_for(app.sessionmaker, "Bram")
    async with app.sessionmaker() as db, db.begin():
        own = await agenda.propose(
            db,
            anna,
            app.settings,
            title="Mijn punt",
            description="D",
            theme="doorgroei",
            kind="ambitie",
            level="organisatie",
        )
        other = await agenda.propose(
            db,
            bram,
            app.settings,
            title="Ander punt",
            description="D",
            theme="doorgroei",
            kind="wens",
            level="organisatie",
        )
    async with app.sessionmaker() as db, db.begin():
        await agenda.support(db, anna, other.id)
    async with app.sessionmaker() as db:
        exported = json.loads(await privacy.export(db, anna))["data"]["agenda"]
    assert [p["title"] for p in exported["points"]] == ["Mijn punt"]
    assert [s["title"] for s in exported["supported"]] == ["Ander punt"]
    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, anna)
    async with app.sessionmaker() as db:
        kept = await agenda.view(db, None, own.id)
        supported = await agenda.view(db, None, other.id)
    assert kept.title == "Mijn punt" and kept.author is None and kept.anonymous
    assert supported.support_count == 0


async def test_deleting_shows_session_cards_again_also_of_meetings_that_are_over(
    app: App,
) -> None:
    """A card lists who comes and who had a role: the card of a meeting that is over shows
    the name too. It is edited again without her; the Discord event of a meeting that is
    over is left as it was (Discord does not edit events in the past)."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from leerbot.core import sessions
    from leerbot.db.models import SessionOccurrence
    from leerbot.scheduling import run_due
    from tests.helpers import RecordingPlatform

    mo = await actor_for(app.sessionmaker, "Mo", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.configure(db, mo, sessions_channel_id="chan-1")
    start = (datetime.now(app.settings.tz) + timedelta(days=2)).strftime("%Y-%m-%d 19:30")
    async with app.sessionmaker() as db, db.begin():
        item = await sessions.plan(
            db,
            mo,
            app.settings,
            title="Intervisie",
            start=start,
            location_kind="address",
            location="Utrecht",
        )
    sanne = await actor_for(app.sessionmaker, "Sanne")
    daan = await actor_for(app.sessionmaker, "Daan")
    async with app.sessionmaker() as db, db.begin():
        await sessions.rsvp(db, sanne, item.id, "yes")
        await sessions.rsvp(db, daan, item.id, "yes")
        await sessions.volunteer(db, sanne, item.id, "inbrenger")
    async with app.sessionmaker() as db, db.begin():
        await sessions.confirm_role(db, mo, item.id, "sanne", "inbrenger")
    platform = RecordingPlatform()
    await run_due(app.make_scheduler(platform))
    assert len(platform.posts) >= 1 and len(platform.events) == 1
    events = dict(platform.events)
    async with app.sessionmaker() as db, db.begin():  # the meeting is over
        await db.execute(
            update(SessionOccurrence)
            .where(SessionOccurrence.id == item.id)
            .values(
                starts_at=datetime.now(UTC) - timedelta(days=3),
                ends_at=datetime.now(UTC) - timedelta(days=3) + timedelta(hours=2),
            )
        )
        shown = await sessions.view(db, None, item.id)
    assert "Sanne" in shown.listed_names and ("inbrenger", "Sanne") in shown.roles
    edits = len(platform.edits)

    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, sanne)
    await run_due(app.make_scheduler(platform))

    assert len(platform.edits) == edits + 1, "the card is edited once more"
    assert platform.events == events, "the event of a meeting that is over is left alone"
    async with app.sessionmaker() as db:
        shown = await sessions.view(db, None, item.id)
    assert shown.listed_names == ("Daan",) and shown.roles == ()
