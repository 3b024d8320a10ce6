"""Forget me, end to end: a member takes part in everything the community does on the local
fake Discord — a profile with her own lived experience, an agenda point, support for
someone else's point, a practice, a sign-up for an intervisie, a named and an anonymous
answer in reflection rounds — and then deletes her data with `/mijngegevens`.

Afterwards nothing in the database holds her key, her Discord id, her name or her private
texts (every table, read whole); no line the bot logged names her; every card in Discord
that showed her name is shown again without it, and the point she supported counts one
less; discord.py no longer keeps her DM channel; and the next new member does not get her
old key. Her anonymous answer stays: it was never linked to her, so it is not hers to take.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from leerbot.config import Settings
from leerbot.db.models import Base
from leerbot.testing.state import Member, Message
from tests.e2e.conftest import World, discord_world, unexpected_errors
from tests.e2e.test_discord_agenda import card as agenda_card
from tests.e2e.test_discord_agenda import card_shows as agenda_card_shows
from tests.e2e.test_discord_agenda import number_of, propose
from tests.e2e.test_discord_practices import card_of as practice_card
from tests.e2e.test_discord_practices import field_of, settled, share
from tests.e2e.test_discord_rounds import (
    SAVED_ANONYMOUS,
    SAVED_NAMED,
    answer_in_dm,
    dump_database,
    open_form,
    pass_deadline,
    start_round,
    titled,
)
from tests.e2e.test_discord_sessions import card_of as session_card
from tests.e2e.test_discord_sessions import card_shows as session_card_shows
from tests.e2e.test_discord_sessions import field as session_field
from tests.e2e.test_discord_sessions import in_days, plan

NAME = "Wieteke Vos"
LIVED = "Ik ben sinds drie jaar in herstel van een gokverslaving."
NAMED_ANSWER = "Ik merk dat ik in het teamoverleg vaker durf te spreken."
ANONYMOUS_ANSWER = "Het was moeilijk om over mijn eigen terugval te vertellen."
SMALL = 2  # a server of a few members: the small-number threshold is 2 here


def seen(message: Message | Any) -> str:
    found = getattr(message, "message", message)
    if found is None:
        return ""
    parts = [found.content or ""]
    for embed in found.embeds:
        parts += [embed.get("title") or "", embed.get("description") or ""]
        for item in embed.get("fields") or []:
            parts += [item["name"], item["value"]]
    return "\n".join(p for p in parts if p)


@pytest.fixture
async def world(settings: Settings) -> AsyncIterator[World]:
    small = settings.model_copy(
        update={"privacy": settings.privacy.model_copy(update={"small_number_threshold": SMALL})}
    )
    async with discord_world(small, scheduler=True) as opened:
        limiter = opened.fake.rest.limiter  # many cards in a few seconds
        for route in (
            "POST /channels/{channel_id}/messages",
            "PATCH /channels/{channel_id}/messages/{message_id}",
            "POST /channels/{channel_id}/messages/{message_id}/threads",
        ):
            limiter.set_route(route, 100, 1.0)
        done = await opened.fake.slash(
            opened.admin,
            "leerbot setup",
            aankondigingen=opened.announcements,
            agenda=opened.agenda,
            sessies=opened.sessions,
            praktijken=opened.general,
            coordinatorrol=opened.coordinators,
            taal="nl",
        )
        assert "De instellingen zijn opgeslagen." in seen(done)
        yield opened
        errors = unexpected_errors(opened)
        assert not errors, f"the bot logged errors: {errors}"
        store = opened.client._connection._view_store
        assert not store._views and not store._modals and not store._synced_message_views


async def member_key(world: World, member: Member) -> int | None:
    members = Base.metadata.tables["members"]
    async with world.app.sessionmaker() as db:
        return await db.scalar(select(members.c.id).where(members.c.platform_id == str(member.id)))


async def take_part_in_everything(world: World, wieteke: Member) -> dict[str, Any]:
    fake = world.fake
    # a profile with her own lived experience (private), and her role
    form = await fake.slash(wieteke, "profiel ervaring")
    saved = await fake.submit_modal(form, {"ervaring": LIVED})
    assert "Opgeslagen." in seen(saved), seen(saved)
    role = await fake.slash(wieteke, "profiel instellen", rol="ervaringsdeskundige")
    assert "Je profiel is opgeslagen." in seen(role)

    # her own agenda point, and support for Kees's
    own = number_of(await propose(world, wieteke, "Vaste plek voor ervaringsdeskundigen"))
    other = number_of(await propose(world, world.kees, "Meer intervisie tussen proeftuinen"))
    await agenda_card_shows(world, own, "Ingediend door", NAME)
    card = await agenda_card(world, other)
    supported = await fake.click(card, "Steun dit punt", by=wieteke)
    assert "Het punt heeft 1 keer steun." in seen(supported), seen(supported)
    await agenda_card_shows(world, other, "Steun", "1")
    twice = await fake.slash(wieteke, "agenda steun", punt=other)  # refused: logged, with who
    assert "Je steunt dit punt al." in seen(twice), seen(twice)

    # a practice with her name
    practice, _ = await share(
        world,
        wieteke,
        "Samen koken op vrijdag",
        "Elke vrijdag koken ervaringsdeskundigen en bewoners samen.",
    )
    assert field_of(practice_card(world, practice), "Gedeeld door") == NAME

    # an intervisie: she and Kees come
    await plan(world, "Intervisie herstel", in_days(3))
    session = await session_card(fake, world.sessions, 1)
    await fake.click(session, "Ik kom", by=wieteke)
    await fake.click(session, "Ik kom", by=world.kees)
    await session_card_shows(fake, session, "Wie komt er", f"{NAME}, Kees")

    # a named answer (the round stays open) and an anonymous one (the round closes)
    await start_round(world, titel="Terugblik", vraag1="Wat neem je mee?", anoniem="named")
    named = await answer_in_dm(world, wieteke, {"Wat neem je mee?": NAMED_ANSWER})
    assert SAVED_NAMED.format("Terugblik") in seen(named)
    await start_round(
        world, titel="Lastig", vraag1="Wat was moeilijk?", anoniem="anonymous", minimum=SMALL
    )
    hidden = await answer_round(world, wieteke, "Lastig", {"Wat was moeilijk?": ANONYMOUS_ANSWER})
    assert SAVED_ANONYMOUS.format("Lastig") in seen(hidden)
    await answer_round(world, world.kees, "Lastig", {"Wat was moeilijk?": "Wachten op de uitslag."})
    summary = await pass_deadline(world, 2)
    assert summary is not None and ANONYMOUS_ANSWER in summary.content
    assert NAME not in summary.content
    await settled(world)
    return {"own": own, "other": other, "practice": practice, "session": session}


async def answer_round(world: World, member: Member, title: str, values: dict[str, str]) -> Any:
    """Answer the invitation of the round called `title` (another may have come before)."""
    invitation = await world.fake.wait_until(
        lambda: titled(
            world.fake.dms(member), (f"Reflectieronde: {title}", f"Reflection round: {title}")
        ),
        what=f"the invitation to {title}",
    )
    form = await open_form(world, invitation[-1], member)
    return await world.fake.submit_modal(form, values)


async def delete_my_data(world: World, member: Member) -> None:
    fake = world.fake
    mine = await fake.slash(member, "mijngegevens")
    ask = await fake.click(mine, "Verwijder mijn gegevens")
    done = await fake.click(ask, "Ja, verwijder alles")
    assert "Je gegevens zijn verwijderd." in seen(done), seen(done)
    await settled(world)


def members_key_columns() -> list[tuple[str, str]]:
    """(table, column) of every reference to a member."""
    return [
        (table.name, fk.parent.name)
        for table in Base.metadata.sorted_tables
        for fk in table.foreign_keys
        if fk.column.table.name == "members"
    ]


async def test_forget_me_leaves_nothing_in_the_database_the_log_or_discord(
    world: World,
) -> None:
    fake = world.fake
    wieteke = fake.add_member(world.guild, NAME, locale="nl")
    known = await fake.slash(world.kees, "ronde lijst")  # Kees is known to the bot
    assert known.ephemeral
    cards = await take_part_in_everything(world, wieteke)
    key = await member_key(world, wieteke)
    assert key is not None
    user = wieteke.user
    assert user.global_name == NAME
    traces = {str(user.id), NAME, "Wieteke", user.username, LIVED, NAMED_ANSWER}
    before = await dump_database(world)
    everything = repr(before)
    stored = {str(user.id), NAME, LIVED, NAMED_ANSWER}  # (her username is never stored)
    assert all(trace in everything for trace in stored), "the test looks for what was there"
    assert fake.dms(wieteke), "the bot wrote to her: discord.py knows her DM channel"
    state = world.client._connection
    dm_channel = state._get_private_channel_by_user(user.id)
    assert dm_channel is not None

    await delete_my_data(world, wieteke)

    # --- no table holds her key, Discord id, name or private texts ---------------------
    dump = await dump_database(world)
    for table, rows in dump.items():
        for row in rows:
            values = " | ".join(str(v) for v in row.values())
            for trace in traces:
                assert trace not in values, f"{trace!r} is still in {table}: {row}"
    for table, column in members_key_columns():
        held = [row for row in dump[table] if row[column] == key]
        assert not held, f"{table}.{column} still holds her key: {held}"
    for row in dump["audit_entries"]:
        assert not (row["target_type"] == "member" and row["target_id"] == str(key)), row
        assert (row["details"] or {}).get("member") != key, row
    for row in dump["scheduled_jobs"]:
        assert (row["payload"] or {}).get("member_id") != key, row
    anonymous = [r["text"] for r in dump["reflection_anonymous_answers"]]
    assert ANONYMOUS_ANSWER in anonymous, "the anonymous answer was never hers to take"

    # --- no line the bot logged names her ------------------------------------------------
    lines = [record.getMessage() for record in world.logs]
    assert lines, "the log was captured"
    for line in lines:
        for trace in (str(user.id), NAME, "Wieteke", user.username):
            assert trace not in line, f"the log names her: {line}"

    # --- every card that showed her name is shown again without it -----------------------
    await agenda_card_shows(world, cards["own"], "Ingediend door", "anoniem")
    await agenda_card_shows(world, cards["other"], "Steun", "0")
    await fake.wait_until(
        lambda: field_of(practice_card(world, cards["practice"]), "Gedeeld door") == "anoniem",
        what="the practice card without her name",
    )
    await session_card_shows(fake, cards["session"], "Wie komt er", "Kees")
    assert session_field(cards["session"], "Plaatsen") == "1 van 8 bezet"
    for channel in (world.agenda, world.general, world.sessions, world.announcements):
        for message in fake.messages(channel):
            assert NAME not in seen(message), f"{NAME} still on a card: {seen(message)}"
    for event in fake.scheduled_events(world.guild):
        assert NAME not in (event.description or "") and NAME not in event.name

    # --- what discord.py kept in memory: her DM channel ----------------------------------
    assert state._get_private_channel_by_user(user.id) is None
    assert state._get_private_channel(dm_channel.id) is None
    assert all(m.channel.id != dm_channel.id for m in state._messages or ())

    # --- the next new member does not inherit her key ------------------------------------
    newcomer = fake.add_member(world.guild, "Nieuw Lid", locale="nl")
    answer = await fake.slash(newcomer, "profiel bekijken")
    assert "Profiel van Nieuw Lid" in seen(answer)
    new_key = await member_key(world, newcomer)
    assert new_key is not None and new_key > key
    audit_rows = (await dump_database(world))["audit_entries"]
    assert not [r for r in audit_rows if r["target_id"] == str(new_key)], (
        "no entry from before the newcomer came is about them"
    )
