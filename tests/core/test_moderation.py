"""Moderation in the core: a moderator hides the text of an agenda point or a practice with a
reason and restores it; members see "hidden by a moderator" everywhere (views, lists,
search, digest, every export), the author is told privately in their language and keeps the
text in their own data export, and the audit trail records the action without the text or
the reason. And small groups: an anonymous practice names its pilot site only when the site
has at least the threshold of members."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from leerbot.app import App
from leerbot.chat.agenda import card as agenda_card
from leerbot.chat.practices import card as practice_card
from leerbot.chat.reply import Reply, render
from leerbot.core import agenda, community, practices, privacy
from leerbot.core.actor import Actor
from leerbot.core.errors import (
    Conflict,
    LeerbotError,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)
from leerbot.db.models import AgendaItem, AuditEntry, Member, Practice, ScheduledJob
from leerbot.exports import agenda as agenda_exports
from leerbot.exports import practices as practice_exports
from leerbot.scheduling import run_due
from tests.helpers import RecordingPlatform, actor_for, audit_count, csv_rows

HIDDEN_NL = "Tekst verborgen door een moderator"
REASON = "Noemt een cliënt bij naam"
SECRET = "Jan de Vries uit Emmen"


def _package_text(data: bytes) -> bytes:
    """The text parts of a DOCX or XLSX (its body, its sheets), to search in."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        return b"".join(
            package.read(n) for n in package.namelist() if n.startswith(("word/", "xl/worksheets/"))
        )


def shown(reply: Reply, locale: str = "nl") -> str:
    """Everything a member reads in a reply: title, text and fields."""
    parts = [render(reply.title, locale), render(reply.text, locale)]
    for item in reply.fields:
        parts += [render(item.label, locale), render(item.value, locale)]
    return "\n".join(parts)


async def moderator(app: App) -> Actor:
    return await actor_for(app.sessionmaker, "Mo", moderator=True)


async def propose(
    app: App,
    actor: Actor,
    title: str = f"Gesprek met {SECRET}",
    *,
    description: str = f"Wat {SECRET} overkwam.",
    anonymous: bool = False,
) -> agenda.ItemView:
    async with app.sessionmaker() as db, db.begin():
        return await agenda.propose(
            db,
            actor,
            app.settings,
            title=title,
            description=description,
            theme="samenwerking",
            kind="wens",
            level="organisatie",
            anonymous=anonymous,
        )


async def share(
    app: App,
    actor: Actor,
    title: str = f"Werken met {SECRET}",
    *,
    site: str | None = None,
    anonymous: bool = False,
    what: str = f"Wij begeleiden {SECRET} bij wandelen.",
    tags: str = "wandelen",
) -> practices.PracticeView:
    async with app.sessionmaker() as db, db.begin():
        draft = await practices.start_draft(
            db,
            actor,
            app.settings,
            title=title,
            site=site,
            theme="samenwerking",
            level="organisatie",
            tags=tags,
            anonymous=anonymous,
            fields={"what_we_do": what, "context": "Volwassenen in de wijk"},
        )
    async with app.sessionmaker() as db, db.begin():
        return await practices.confirm_and_share(db, actor, app.settings, draft.id)


async def jobs(app: App, kind: str) -> list[ScheduledJob]:
    async with app.sessionmaker() as db:
        return list(await db.scalars(select(ScheduledJob).where(ScheduledJob.kind == kind)))


async def audit_rows(app: App) -> list[AuditEntry]:
    async with app.sessionmaker() as db:
        return list(await db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def stored_anywhere(rows: list[AuditEntry], *texts: str) -> list[str]:
    found = []
    for row in rows:
        blob = json.dumps(
            [row.action, row.target_type, row.target_id, row.details], ensure_ascii=False
        )
        found += [t for t in texts if t in blob]
    return found


# --- agenda points -----------------------------------------------------------------------


async def test_a_moderator_hides_a_point_and_restores_it(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna", locale="en")
    kees = await actor_for(app.sessionmaker, "Kees")
    mo = await moderator(app)
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await community.configure(db, coordinator, agenda_channel_id="agenda-channel")
    item = await propose(app, anna)
    other = await propose(app, kees, "Meer intervisie", description="Elke maand.")
    async with app.sessionmaker() as db, db.begin():
        await agenda.support(db, kees, item.id)
    platform = RecordingPlatform()
    await run_due(app.make_scheduler(platform))  # the cards are posted
    edits = len(platform.edits)

    async with app.sessionmaker() as db, db.begin():
        done = await agenda.hide(db, mo, item.id, f"  {REASON}  ")
    assert done == agenda.Moderated(item.id, author_told=True)

    # what members see: no text, no name, the same number, status and support
    async with app.sessionmaker() as db:
        seen = await agenda.view(db, kees, item.id)
        page = await agenda.listing(db, kees, agenda.Filters())
    assert seen.hidden and seen.title == "" and seen.description == "" and seen.author is None
    assert seen.support_count == 1 and seen.status == "nieuw"
    assert [(i.id, i.hidden) for i in page.items] == [(item.id, True), (other.id, False)]
    text = shown(agenda_card(seen, "nl", tz=app.settings.tz))
    assert HIDDEN_NL in text and "Een moderator heeft de tekst van dit punt verborgen." in text
    assert SECRET not in text and "Anna" not in text and REASON not in text
    assert agenda_card(seen, "nl", tz=app.settings.tz).buttons == [], "no support on a hidden point"

    # new support waits; withdrawing one's support still works
    joost = await actor_for(app.sessionmaker, "Joost")
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await agenda.support(db, joost, item.id)
    assert caught.value.key == "errors.agenda_hidden"
    async with app.sessionmaker() as db, db.begin():
        assert (await agenda.support(db, kees, item.id, on=False)).support_count == 0

    # the card is brought up to date and Anna is told, in English, with the reason
    await run_due(app.make_scheduler(platform))
    assert len(platform.edits) > edits, "the card was brought up to date"
    ((to, dm),) = platform.dms
    assert to == "anna"
    notice = render(dm.text, dm.locale)  # type: ignore[attr-defined]
    assert dm.locale == "en"  # type: ignore[attr-defined]
    assert f"A moderator has hidden the text of your agenda point #{item.id}" in notice
    assert f"Reason: {REASON}" in notice and "/mydata" in notice

    async with app.sessionmaker() as db, db.begin():
        back = await agenda.restore(db, mo, item.id)
    assert back.author_told
    async with app.sessionmaker() as db:
        seen = await agenda.view(db, kees, item.id)
        row = await db.get(AgendaItem, item.id)
    assert not seen.hidden and seen.title == item.title and seen.author == "Anna"
    assert row is not None and (row.hidden_at, row.hidden_reason, row.hidden_by_id) == (None,) * 3
    await run_due(app.make_scheduler(platform))
    assert "visible to everyone again" in render(platform.dms[-1][1].text, "en")  # type: ignore[attr-defined]

    # the audit trail has both actions by number, never the text or the reason
    rows = await audit_rows(app)
    assert [(r.action, r.target_id) for r in rows if r.action.startswith("agenda.")][-2:] == [
        ("agenda.hidden", str(item.id)),
        ("agenda.restored", str(item.id)),
    ]
    assert stored_anywhere(rows, SECRET, REASON, "cliënt") == []


async def test_hiding_an_anonymous_point_tells_nobody(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    mo = await moderator(app)
    item = await propose(app, anna, anonymous=True)
    async with app.sessionmaker() as db, db.begin():
        done = await agenda.hide(db, mo, item.id, REASON)
    assert not done.author_told
    assert await jobs(app, "agenda.moderated") == []
    async with app.sessionmaker() as db, db.begin():
        assert not (await agenda.restore(db, mo, item.id)).author_told
    platform = RecordingPlatform()
    await run_due(app.make_scheduler(platform))
    assert platform.dms == []


@pytest.mark.parametrize(
    ("who", "action", "number", "reason", "error", "key"),
    [
        ("member", "hide", 0, REASON, PermissionDenied, "errors.permission_denied"),
        ("member", "restore", 1, None, PermissionDenied, "errors.permission_denied"),
        ("mo", "hide", 0, "   ", ValidationFailed, "errors.required"),
        ("mo", "hide", 0, "x" * 301, ValidationFailed, "errors.too_long"),
        ("mo", "hide", 1, REASON, Conflict, "errors.agenda_already_hidden"),
        ("mo", "restore", 0, None, Conflict, "errors.agenda_not_hidden"),
        ("mo", "hide", 99, REASON, NotFound, "errors.agenda_not_found"),
        ("elsewhere", "hide", 0, REASON, NotFound, "errors.agenda_not_found"),
        ("elsewhere", "restore", 1, None, NotFound, "errors.agenda_not_found"),
    ],
)
async def test_bad_moderation_of_points_is_refused_and_changes_nothing(
    app: App,
    who: str,
    action: str,
    number: int,
    reason: str | None,
    error: type[LeerbotError],
    key: str,
) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    mo = await moderator(app)
    visible = await propose(app, anna, "Zichtbaar punt")
    hidden = await propose(app, anna, "Verborgen punt")
    async with app.sessionmaker() as db, db.begin():
        await agenda.hide(db, mo, hidden.id, "Eerder verborgen")
    actor = {
        "member": await actor_for(app.sessionmaker, "Kees"),
        "mo": mo,
        "elsewhere": await actor_for(app.sessionmaker, "Mo", moderator=True, place="guild-2"),
    }[who]
    target = {0: visible.id, 1: hidden.id}.get(number, number)
    before = (await audit_count(app.sessionmaker), len(await jobs(app, "agenda.moderated")))
    with pytest.raises(error) as caught:
        async with app.sessionmaker() as db, db.begin():
            if action == "hide":
                await agenda.hide(db, actor, target, reason or "")
            else:
                await agenda.restore(db, actor, target)
    assert caught.value.key == key
    after = (await audit_count(app.sessionmaker), len(await jobs(app, "agenda.moderated")))
    assert after == before
    async with app.sessionmaker() as db:
        rows = {r.id: r for r in await db.scalars(select(AgendaItem))}
    assert rows[visible.id].hidden_at is None
    assert rows[hidden.id].hidden_reason == "Eerder verborgen"


async def test_the_author_keeps_the_text_in_their_data_export(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    kees = await actor_for(app.sessionmaker, "Kees")
    mo = await moderator(app)
    item = await propose(app, anna)
    practice = await share(app, anna)
    async with app.sessionmaker() as db, db.begin():
        await agenda.support(db, kees, item.id)
    async with app.sessionmaker() as db, db.begin():
        await agenda.hide(db, mo, item.id, REASON)
        await practices.hide(db, mo, practice.id, REASON)
    async with app.sessionmaker() as db:
        mine = json.loads(await privacy.export(db, anna))
        theirs = json.loads(await privacy.export(db, kees))
    (point,) = mine["data"]["agenda"]["points"]
    assert point["title"] == item.title and point["description"] == f"Wat {SECRET} overkwam."
    assert point["hidden_by_moderator"] is True and point["hidden_reason"] == REASON
    (shared,) = mine["data"]["practices"]["practices"]
    assert shared["title"] == practice.title and SECRET in shared["what_we_do"]
    assert shared["hidden_by_moderator"] is True and shared["hidden_reason"] == REASON
    # Kees supported the point: his export names the number, not the hidden text
    assert theirs["data"]["agenda"]["supported"] == [{"number": item.id, "hidden": True}]
    assert SECRET not in json.dumps(theirs, ensure_ascii=False)


async def test_a_moderator_who_deletes_their_data_leaves_the_text_hidden(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    mo = await moderator(app)
    item = await propose(app, anna)
    practice = await share(app, anna)
    async with app.sessionmaker() as db, db.begin():
        await agenda.hide(db, mo, item.id, REASON)
        await practices.hide(db, mo, practice.id, REASON)
    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, mo)
    async with app.sessionmaker() as db:
        point = await db.get(AgendaItem, item.id)
        row = await db.get(Practice, practice.id)
        assert await db.scalar(select(Member).where(Member.platform_id == "mo")) is None
    assert point is not None and point.hidden_at is not None and point.hidden_by_id is None
    assert row is not None and row.hidden_at is not None and row.hidden_by_id is None


async def test_agenda_exports_show_the_hidden_state_in_every_format(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    mo = await moderator(app)
    item = await propose(app, anna)
    await propose(app, anna, "Meer intervisie", description="Elke maand.")
    async with app.sessionmaker() as db, db.begin():
        await agenda.set_status(db, coordinator, item.id, "besproken", "In de CoL")
        await agenda.hide(db, mo, item.id, REASON)
    async with app.sessionmaker() as db:
        report = await agenda.report(db, coordinator, app.settings)
    texts = {}
    for fmt in agenda_exports.FORMATS:
        data = agenda_exports.render(report, fmt, "nl")
        if fmt in ("docx", "xlsx"):
            data = _package_text(data)
        texts[fmt] = data.decode("utf-8")
    for fmt, text in texts.items():
        assert SECRET not in text and REASON not in text, fmt
        assert HIDDEN_NL in text and "Meer intervisie" in text, fmt
    rows = {r["Nummer"]: r for r in csv_rows(texts["csv"])}
    assert rows[str(item.id)]["Titel"] == HIDDEN_NL and rows[str(item.id)]["Ingediend door"] == ""
    assert rows[str(item.id)]["Status"] == "besproken", "the rest of the point stays"
    # the list of status changes names the hidden point by number only
    assert f"#{item.id} {HIDDEN_NL}" in texts["md"]


# --- practices ---------------------------------------------------------------------------


async def titles_found(app: App, actor: Actor, query: str) -> set[str]:
    async with app.sessionmaker() as db:
        page = await practices.search(db, actor, query, threshold=5)
    return {p.title for p in page.items}


async def test_a_hidden_practice_drops_out_of_search_and_comes_back(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    kees = await actor_for(app.sessionmaker, "Kees", locale="en")
    mo = await moderator(app)
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    for site in ("De Achterkant", "Kunstwerkplaats 4B"):
        async with app.sessionmaker() as db, db.begin():
            await community.add_site(db, coordinator, name=site)
    practice = await share(app, anna, site="De Achterkant")
    other = await share(
        app, kees, "Wandelen met buren", site="Kunstwerkplaats 4B", what="Samen wandelen."
    )
    assert await titles_found(app, kees, "wandelen") == {practice.title, other.title}

    async with app.sessionmaker() as db, db.begin():
        done = await practices.hide(db, mo, practice.id, REASON)
    assert done.author_told
    assert await titles_found(app, kees, "wandelen") == {other.title}
    assert await titles_found(app, kees, "Vries") == set(), "its words find nothing"
    async with app.sessionmaker() as db:
        seen = await practices.view(db, kees, practice.id, threshold=5)
        similar = await practices.similar(db, kees, other.id, threshold=5)
        digest = await practices.digest(
            db, kees.community_id, datetime.now(UTC) - timedelta(days=7), threshold=5
        )
    assert seen.hidden and seen.title == "" and seen.author is None and seen.tags == ()
    assert set(seen.fields.values()) == {""}
    assert seen.site == "De Achterkant", "a named practice keeps its site"
    assert similar == []
    assert [(i.id, i.hidden) for i, _ in digest["De Achterkant"]] == [(practice.id, True)]
    text = shown(practice_card(seen, "en"), "en")
    assert "Text hidden by a moderator" in text and SECRET not in text and "Anna" not in text

    # the author cannot edit it meanwhile (the form would start from hidden text)
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await practices.edit(db, anna, app.settings, practice.id, title="Nieuw")
    assert caught.value.key == "errors.practice_hidden"

    async with app.sessionmaker() as db, db.begin():
        await practices.restore(db, mo, practice.id)
    assert await titles_found(app, kees, "wandelen") == {practice.title, other.title}
    async with app.sessionmaker() as db:
        assert (await practices.view(db, kees, practice.id)).title == practice.title

    rows = await audit_rows(app)
    assert [(r.action, r.target_id) for r in rows if r.action.startswith("practice.h")] == [
        ("practice.hidden", str(practice.id))
    ]
    assert ("practice.restored", str(practice.id)) in [(r.action, r.target_id) for r in rows]
    assert stored_anywhere(rows, SECRET, REASON) == []

    platform = RecordingPlatform()
    await run_due(app.make_scheduler(platform))
    notices = [render(r.text, r.locale) for who, r in platform.dms if who == "anna"]  # type: ignore[attr-defined]
    assert len(notices) == 2
    assert f"Een moderator heeft de tekst van je praktijk #{practice.id}" in notices[0]
    assert f"Reden: {REASON}" in notices[0] and "/mijngegevens" in notices[0]
    assert "weer zichtbaar voor iedereen" in notices[1]


@pytest.mark.parametrize(
    ("who", "action", "number", "reason", "error", "key"),
    [
        ("member", "hide", 0, REASON, PermissionDenied, "errors.permission_denied"),
        ("mo", "hide", 0, "", ValidationFailed, "errors.required"),
        ("mo", "hide", 0, "x" * 301, ValidationFailed, "errors.too_long"),
        ("mo", "hide", 1, REASON, Conflict, "errors.practice_already_hidden"),
        ("mo", "restore", 0, None, Conflict, "errors.practice_not_hidden"),
        ("mo", "hide", 99, REASON, NotFound, "errors.practice_not_found"),
        ("mo", "hide", 2, REASON, NotFound, "errors.practice_not_found"),  # a draft
        ("elsewhere", "hide", 0, REASON, NotFound, "errors.practice_not_found"),
    ],
)
async def test_bad_moderation_of_practices_is_refused_and_changes_nothing(
    app: App,
    who: str,
    action: str,
    number: int,
    reason: str | None,
    error: type[LeerbotError],
    key: str,
) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    mo = await moderator(app)
    visible = await share(app, anna, "Zichtbaar")
    hidden = await share(app, anna, "Verborgen")
    async with app.sessionmaker() as db, db.begin():
        await practices.hide(db, mo, hidden.id, "Eerder verborgen")
        draft = await practices.start_draft(
            db, anna, app.settings, title="Concept", fields={"what_we_do": "Nog niet klaar"}
        )
    actor = {
        "member": await actor_for(app.sessionmaker, "Kees"),
        "mo": mo,
        "elsewhere": await actor_for(app.sessionmaker, "Mo", moderator=True, place="guild-2"),
    }[who]
    target = {0: visible.id, 1: hidden.id, 2: draft.id}.get(number, number)
    before = (await audit_count(app.sessionmaker), len(await jobs(app, "practice.moderated")))
    with pytest.raises(error) as caught:
        async with app.sessionmaker() as db, db.begin():
            if action == "hide":
                await practices.hide(db, actor, target, reason or "")
            else:
                await practices.restore(db, actor, target)
    assert caught.value.key == key
    after = (await audit_count(app.sessionmaker), len(await jobs(app, "practice.moderated")))
    assert after == before
    assert await titles_found(app, anna, "zichtbaar") == {"Zichtbaar"}
    async with app.sessionmaker() as db:
        rows = {r.id: r for r in await db.scalars(select(Practice))}
    assert rows[visible.id].hidden_at is None and rows[draft.id].hidden_at is None
    assert rows[hidden.id].hidden_reason == "Eerder verborgen"


async def test_practice_exports_show_the_hidden_state_in_every_format(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    mo = await moderator(app)
    practice = await share(app, anna, tags="jan de vries")
    await share(app, anna, "Wandelen met buren", what="Samen wandelen.")
    async with app.sessionmaker() as db, db.begin():
        done = await practices.hide(db, mo, practice.id, REASON)
        assert done.author_told
    async with app.sessionmaker() as db:
        items = await practices.for_export(db, coordinator, threshold=5)
    for fmt in practice_exports.FORMATS:
        data = practice_exports.render(items, fmt, "nl", "Praktijken")
        if fmt in ("docx", "xlsx"):
            data = _package_text(data)
        text = data.decode("utf-8")
        assert SECRET not in text and "jan de vries" not in text and REASON not in text, fmt
        assert HIDDEN_NL in text and "Wandelen met buren" in text, fmt
        assert "Anna" in text, "the visible practice keeps its author"
        assert text.count("Anna") == 1, "the hidden one shows no name"


# --- small groups ------------------------------------------------------------------------


async def test_an_anonymous_practice_names_its_site_only_when_the_site_is_big_enough(
    app: App,
) -> None:
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    for site in ("De Achterkant", "Kunstwerkplaats 4B"):
        async with app.sessionmaker() as db, db.begin():
            await community.add_site(db, coordinator, name=site)
    anna = await actor_for(app.sessionmaker, "Anna")
    async with app.sessionmaker() as db, db.begin():
        await community.update_profile(db, anna, site="Kunstwerkplaats 4B")
    alone = await share(app, anna, "Alleen bij ons", site="Kunstwerkplaats 4B", anonymous=True)
    named = await share(app, anna, "Met naam gedeeld", site="Kunstwerkplaats 4B")
    assert alone.site is None and alone.site_withheld, "one member: the site is not named"
    assert named.site == "Kunstwerkplaats 4B" and not named.site_withheld

    async with app.sessionmaker() as db:
        found = await practices.search(db, anna, "wandelen", threshold=5)
        by_site = await practices.search(
            db, anna, "wandelen", practices.SearchFilters(site="Kunstwerkplaats 4B"), threshold=5
        )
        exported = await practices.for_export(
            db, coordinator, site="Kunstwerkplaats 4B", threshold=5
        )
        digest = await practices.digest(
            db, anna.community_id, datetime.now(UTC) - timedelta(days=1), threshold=5
        )
        unconfigured = await practices.view(db, anna, alone.id)
    assert {(p.title, p.site, p.site_withheld) for p in found.items} == {
        ("Alleen bij ons", None, True),
        ("Met naam gedeeld", "Kunstwerkplaats 4B", False),
    }
    # a filter by the small site's name would name it: its anonymous practices stay out
    assert [p.title for p in by_site.items] == ["Met naam gedeeld"]
    assert [p.title for p in exported] == ["Met naam gedeeld"]
    assert {k: [i.title for i, _ in v] for k, v in digest.items()} == {
        "Kunstwerkplaats 4B": ["Met naam gedeeld"],
        None: ["Alleen bij ons"],
    }
    assert unconfigured.site_withheld, "without a threshold: the safe side"
    withheld = next(p for p in found.items if p.site_withheld)
    text = shown(practice_card(withheld, "nl"))
    assert "een proeftuin" in text and "Kunstwerkplaats" not in text

    # four more members at the site: five in all, the threshold; now the site is named
    for name in ("Bas", "Cor", "Dewi", "Eef"):
        member = await actor_for(app.sessionmaker, name)
        async with app.sessionmaker() as db, db.begin():
            await community.update_profile(db, member, site="Kunstwerkplaats 4B")
    async with app.sessionmaker() as db:
        now = await practices.view(db, anna, alone.id, threshold=5)
        stricter = await practices.view(db, anna, alone.id, threshold=6)
        by_site = await practices.search(
            db, anna, "wandelen", practices.SearchFilters(site="Kunstwerkplaats 4B"), threshold=5
        )
    assert now.site == "Kunstwerkplaats 4B" and not now.site_withheld
    assert stricter.site is None and stricter.site_withheld
    assert {p.title for p in by_site.items} == {"Alleen bij ons", "Met naam gedeeld"}


async def test_exports_say_a_pilot_site_for_a_small_site(app: App) -> None:
    coordinator = await actor_for(app.sessionmaker, "Co", coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await community.add_site(db, coordinator, name="Kunstwerkplaats 4B")
    anna = await actor_for(app.sessionmaker, "Anna")
    await share(app, anna, "Alleen bij ons", site="Kunstwerkplaats 4B", anonymous=True)
    async with app.sessionmaker() as db:
        items = await practices.for_export(db, coordinator, threshold=5)
    rows = csv_rows(practice_exports.render(items, "csv", "en", "Practices"))
    assert [(r["Title"], r["Pilot site"], r["Shared by"]) for r in rows] == [
        ("Alleen bij ons", "a pilot site", "anonymous")
    ]
    markdown = practice_exports.render(items, "md", "nl", "Praktijken").decode()
    assert "een proeftuin" in markdown and "Kunstwerkplaats" not in markdown
