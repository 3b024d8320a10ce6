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
    sanne = await actor_for(app.sessionmaker, "Sanne")
    daan = await actor_for(app.sessionmaker, "Daan")
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(db, sanne, lived_experience="weg ermee")
        await core.update_profile(db, daan, lived_experience="blijft")
    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, sanne)
    async with app.sessionmaker() as db:
        members = {m.platform_id: m for m in await db.scalars(select(Member))}
        entries = list(await db.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert "sanne" not in members
    assert members["daan"].lived_experience == "blijft"
    assert [e.actor_id for e in entries] == [None, members["daan"].id]


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
