"""The community core on a real database: sites, profiles, functions, setup, audit."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from leerbot.app import App
from leerbot.core import audit
from leerbot.core import community as core
from leerbot.core.actor import Function, Identity
from leerbot.core.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from leerbot.db.models import Member, Site
from tests.helpers import actor_for, audit_count


async def test_coordinator_adds_site_with_organisation(app: App) -> None:
    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.add_site(
            db,
            coordinator,
            name=" De Achterkant ",
            city="Utrecht",
            organisation="ETZ",
            organisation_kind="ggz",
        )
    async with app.sessionmaker() as db:
        sites = await core.list_sites(db, coordinator)
    assert [(s.name, s.city, s.organisation, s.organisation_kinds) for s in sites] == [
        ("De Achterkant", "Utrecht", "ETZ", ("ggz",))
    ]


async def test_duplicate_site_name_is_refused_whatever_the_case(app: App) -> None:
    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.add_site(db, coordinator, name="De Achterkant")
    before = await audit_count(app.sessionmaker)
    with pytest.raises(Conflict) as caught:
        async with app.sessionmaker() as db, db.begin():
            await core.add_site(db, coordinator, name="de  ACHTERKANT")
    assert caught.value.key == "errors.site_exists"
    assert await audit_count(app.sessionmaker) == before


async def test_member_cannot_add_site_and_nothing_changes(app: App) -> None:
    member = await actor_for(app.sessionmaker, "Bob")
    before = await audit_count(app.sessionmaker)
    with pytest.raises(PermissionDenied):
        async with app.sessionmaker() as db, db.begin():
            await core.add_site(db, member, name="Eigen site")
    async with app.sessionmaker() as db:
        assert await db.scalar(select(func.count(Site.id))) == 0
    assert await audit_count(app.sessionmaker) == before


@pytest.mark.parametrize(
    ("name", "key"),
    [("", "errors.required"), ("   ", "errors.required"), ("x" * 101, "errors.too_long")],
)
async def test_bad_site_names_are_refused(app: App, name: str, key: str) -> None:
    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await core.add_site(db, coordinator, name=name)
    assert caught.value.key == key
    assert caught.value.params["field"] == "name"


async def test_unknown_site_names_the_known_ones(app: App) -> None:
    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.add_site(db, coordinator, name="Kunstwerkplaats 4B")
    with pytest.raises(NotFound) as caught:
        async with app.sessionmaker() as db, db.begin():
            await core.update_profile(db, coordinator, site="Kunstwerkplaats")
    assert caught.value.params["known"] == "Kunstwerkplaats 4B"


async def test_lived_experience_is_private_until_shared(app: App) -> None:
    sanne = await actor_for(app.sessionmaker, "Sanne")
    daan = await actor_for(app.sessionmaker, "Daan")
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(
            db, sanne, lived_experience="Mijn eigen verhaal", role="ervaringsdeskundige"
        )
    async with app.sessionmaker() as db:
        own = await core.view_profile(db, sanne)
        seen_by_daan = await core.view_profile(db, daan, "sanne")
    assert own.lived_experience == "Mijn eigen verhaal"
    assert seen_by_daan.lived_experience is None
    assert seen_by_daan.role == "ervaringsdeskundige"
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(db, sanne, share_lived_experience=True)
    async with app.sessionmaker() as db:
        assert (await core.view_profile(db, daan, "sanne")).lived_experience == "Mijn eigen verhaal"


async def test_audit_names_private_fields_but_never_their_content(app: App) -> None:
    sanne = await actor_for(app.sessionmaker, "Sanne")
    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(db, sanne, lived_experience="geheim verhaal")
    async with app.sessionmaker() as db:
        lines = await audit.recent(db, coordinator)
    assert lines[0].action == "profile.updated"
    assert lines[0].details == {"fields": ["lived_experience"]}
    assert "geheim" not in repr(lines)


async def test_profile_rejects_unknown_role_and_overlong_experience(app: App) -> None:
    sanne = await actor_for(app.sessionmaker, "Sanne")
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await core.update_profile(db, sanne, role="patiënt")
    assert caught.value.key == "errors.bad_choice"
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await core.update_profile(db, sanne, lived_experience="x" * 1001)
    assert caught.value.key == "errors.too_long"


async def test_coordinator_assigns_functions_which_then_take_effect(app: App) -> None:
    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    bob = await actor_for(app.sessionmaker, "Bob")
    assert not bob.is_moderator
    async with app.sessionmaker() as db, db.begin():
        await core.set_functions(db, coordinator, "bob", moderator=True)
    bob_again = await actor_for(app.sessionmaker, "Bob")
    assert bob_again.is_moderator and not bob_again.is_coordinator
    with pytest.raises(PermissionDenied):
        async with app.sessionmaker() as db, db.begin():
            await core.set_functions(db, bob_again, "bob", coordinator=True)


async def test_configured_discord_roles_and_admins_grant_functions(app: App) -> None:
    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.configure(
            db,
            coordinator,
            moderator_role_id="111",
            coordinator_role_id="222",
            agenda_channel_id="333",
        )
    async with app.sessionmaker() as db, db.begin():
        community = await core.get_or_create_community(db, "guild-1", "x")
        assert community.agenda_channel_id == "333"
        mod = await core.resolve_actor(
            db, community, Identity("c", "C", platform_role_ids=frozenset({"111"}))
        )
        coord = await core.resolve_actor(
            db, community, Identity("d", "D", platform_role_ids=frozenset({"222"}))
        )
        admin = await core.resolve_actor(db, community, Identity("e", "E", is_platform_admin=True))
        plain = await core.resolve_actor(
            db, community, Identity("f", "F", platform_role_ids=frozenset({"999"}))
        )
    assert mod.functions == {Function.MODERATOR}
    assert coord.is_coordinator and admin.is_coordinator
    assert plain.functions == frozenset()


async def test_member_language_beats_platform_locale(app: App) -> None:
    sanne = await actor_for(app.sessionmaker, "Sanne", locale="en-US")
    assert sanne.locale == "en"
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(db, sanne, locale="nl")
    assert (await actor_for(app.sessionmaker, "Sanne", locale="en-US")).locale == "nl"


async def test_removing_a_site_keeps_its_members(app: App) -> None:
    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    sanne = await actor_for(app.sessionmaker, "Sanne")
    async with app.sessionmaker() as db, db.begin():
        await core.add_site(db, coordinator, name="Venray")
    async with app.sessionmaker() as db, db.begin():
        await core.update_profile(db, sanne, site="venray")
    async with app.sessionmaker() as db, db.begin():
        await core.remove_site(db, coordinator, "Venray")
    async with app.sessionmaker() as db:
        member = await db.scalar(select(Member).where(Member.platform_id == "sanne"))
    assert member is not None and member.site_id is None


async def test_audit_entries_past_retention_are_purged(app: App) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import update

    from leerbot.db.models import AuditEntry

    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.add_site(db, coordinator, name="Oud")
        await core.add_site(db, coordinator, name="Nieuw")
    async with app.sessionmaker() as db, db.begin():
        first = await db.scalar(select(func.min(AuditEntry.id)))
        await db.execute(
            update(AuditEntry)
            .where(AuditEntry.id == first)
            .values(created_at=datetime.now(UTC) - timedelta(days=800))
        )
    async with app.sessionmaker() as db, db.begin():
        assert await audit.purge_expired(db, 730) == 1
    async with app.sessionmaker() as db:
        names = [line.details.get("name") for line in await audit.recent(db, coordinator)]
    assert names == ["Nieuw"]


async def test_saving_an_unchanged_profile_writes_nothing_and_audits_nothing(app: App) -> None:
    """A front end that sets the profile again (the console's `.als NAAM ROL` does so at every
    switch, a form sent twice) must not write: one member had 112 `profile.updated` rows."""
    from sqlalchemy import event

    coordinator = await actor_for(app.sessionmaker, "Ann", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await core.add_site(db, coordinator, name="De Achterkant")
    sanne = await actor_for(app.sessionmaker, "Sanne")
    profile = {
        "role": "ervaringsdeskundige",
        "site": "De Achterkant",
        "locale": "nl",
        "lived_experience": "Mijn verhaal",
        "share_lived_experience": False,
    }
    async with app.sessionmaker() as db, db.begin():
        first = await core.update_profile(db, sanne, **profile)
    assert set(first.changed) == {"role", "site", "locale", "lived_experience"}
    async with app.sessionmaker() as db:
        stamp = (await db.get(Member, sanne.member_id)).updated_at  # type: ignore[union-attr]
    before = await audit_count(app.sessionmaker)

    writes: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            writes.append(statement)

    event.listen(app.engine.sync_engine, "before_cursor_execute", count)
    try:
        for again in (
            profile,
            {"role": "Ervaringsdeskundige ", "site": "de achterkant"},  # as typed, same values
            {"lived_experience": " Mijn verhaal "},
            {"share_lived_experience": False},
        ):
            async with app.sessionmaker() as db, db.begin():
                view = await core.update_profile(db, sanne, **again)
            assert view.changed == (), again
            assert view.site == "De Achterkant" and view.lived_experience == "Mijn verhaal"
    finally:
        event.remove(app.engine.sync_engine, "before_cursor_execute", count)
    assert writes == []
    assert await audit_count(app.sessionmaker) == before
    async with app.sessionmaker() as db:
        member = await db.get(Member, sanne.member_id)
    assert member is not None and member.updated_at == stamp

    async with app.sessionmaker() as db, db.begin():  # one real change among unchanged ones
        view = await core.update_profile(db, sanne, role="professional", site="De Achterkant")
    assert view.changed == ("role",)
    async with app.sessionmaker() as db:
        entries = await audit.recent(db, coordinator)
    assert entries[0].action == "profile.updated" and entries[0].details == {"fields": ["role"]}
    assert await audit_count(app.sessionmaker) == before + 1
