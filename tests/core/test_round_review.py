"""Safe reflection in the core: a floor under the minimum, the audience's own place, a draft
that waits for a moderator, answers taken out, the recognisability check, and help lines that
a community can extend or replace."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from leerbot.app import App
from leerbot.chat.safety import help_text
from leerbot.config import ConfigError, load_settings
from leerbot.core import audit, reflections
from leerbot.core.community import add_site, set_site_channel, update_profile
from leerbot.core.errors import NotFound, PermissionDenied, ValidationFailed
from leerbot.db.models import (
    AnonymousAnswer,
    NamedAnswer,
    ReflectionRound,
    RoundRecipient,
    ScheduledJob,
)
from leerbot.exports import rounds as round_exports
from tests.core.test_reflections import (
    FIVE,
    QUESTIONS,
    answer,
    close_and_summarise,
    shown,
    start_round,
)
from tests.helpers import actor_for


async def _refused(app: App, key: str, **kwargs: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await start_round(app, str(kwargs.pop("anonymity")), ["Anna"], **kwargs)
    assert caught.value.key == key


async def test_the_minimum_cannot_go_below_the_threshold_without_names(app: App) -> None:
    for mode in ("anonymous", "choice"):
        await _refused(app, "errors.round_minimum_below_floor", anonymity=mode, min_answers=1)
        await _refused(app, "errors.round_minimum_below_floor", anonymity=mode, min_answers=4)
    async with app.sessionmaker() as db:
        assert await db.scalar(select(reflections.ReflectionRound.id)) is None  # nothing made
    # a named round may go lower: its invitation says the answers come with names
    round_id = await start_round(app, "named", ["Anna"], min_answers=1)
    async with app.sessionmaker() as db:
        assert (await reflections.view(db, None, round_id)).min_answers == 1


async def test_a_site_round_needs_the_sites_own_place_or_stays_with_the_moderators(
    app: App,
) -> None:
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True, coordinator=True)
    anna = await actor_for(app.sessionmaker, "Anna")
    async with app.sessionmaker() as db, db.begin():
        await add_site(db, mo, name="De Achterkant")
        await update_profile(db, anna, site="De Achterkant")
    with pytest.raises(ValidationFailed) as caught:
        await start_round(
            app, "named", [], audience_kind="site", audience_value="De Achterkant", min_answers=1
        )
    assert caught.value.key == "errors.round_no_place_site"
    # kept with the moderators: allowed, and the place says so
    kept = await start_round(
        app,
        "named",
        [],
        audience_kind="site",
        audience_value="De Achterkant",
        min_answers=1,
        summary_to="moderators",
    )
    async with app.sessionmaker() as db, db.begin():
        await set_site_channel(db, mo, "de achterkant", "site-channel")
    placed = await start_round(
        app, "named", [], audience_kind="site", audience_value="De Achterkant", min_answers=1
    )
    for round_id in (kept, placed):
        await answer(app, anna, round_id, {"q1": "Iets"})
    kept_data = await close_and_summarise(app, kept)
    placed_data = await close_and_summarise(app, placed)
    assert kept_data.place == reflections.SummaryPlace("moderators", None)
    assert placed_data.place == reflections.SummaryPlace("site", "site-channel", "De Achterkant")
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await reflections.publish(db, mo, kept, app.settings)
    assert caught.value.key == "errors.summary_no_place_moderators"


async def test_nothing_is_published_until_a_moderator_publishes_and_only_once(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna"], min_answers=1)
    anna = await actor_for(app.sessionmaker, "Anna")
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True, coordinator=True)
    await answer(app, anna, round_id, {"q1": "Rust"})
    data = await close_and_summarise(app, round_id)
    assert data.round.review_state == "pending"
    async with app.sessionmaker() as db:
        kinds = {j.kind for j in await db.scalars(select(ScheduledJob))}
    assert "round.publish" not in kinds and "round.auto_publish" not in kinds
    with pytest.raises(PermissionDenied):  # a member may not publish
        async with app.sessionmaker() as db, db.begin():
            await reflections.publish(db, anna, round_id, app.settings)
    async with app.sessionmaker() as db, db.begin():
        published = await reflections.publish(db, mo, round_id, app.settings)
    assert published.round.review_state == "published"
    assert published.place == reflections.SummaryPlace("announcements", "announcements")
    for action, key in (
        (reflections.publish, "errors.summary_already_published"),
        (reflections.keep_with_moderators, "errors.summary_already_published_keep"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            async with app.sessionmaker() as db, db.begin():
                await action(db, mo, round_id)  # type: ignore[operator]
        assert caught.value.key == key
    async with app.sessionmaker() as db:
        jobs = [j.key for j in await db.scalars(select(ScheduledJob))]
    assert jobs.count(f"round:{round_id}:publish") == 1


async def test_not_publishing_keeps_it_with_the_moderators(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna"], min_answers=1)
    anna = await actor_for(app.sessionmaker, "Anna")
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True, coordinator=True)
    await answer(app, anna, round_id, {"q1": "Rust"})
    await close_and_summarise(app, round_id)
    async with app.sessionmaker() as db, db.begin():
        kept = await reflections.keep_with_moderators(db, mo, round_id)
    assert kept.review_state == "kept"
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await reflections.keep_with_moderators(db, mo, round_id)
    assert caught.value.key == "errors.summary_already_kept"


async def test_a_moderator_takes_one_answer_out_of_summary_and_export(app: App) -> None:
    round_id = await start_round(app, "choice", FIVE)
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True, coordinator=True)
    for name in FIVE:
        actor = await actor_for(app.sessionmaker, name)
        await answer(app, actor, round_id, {"q1": f"Zonder naam {name}"}, anonymous=True)
    await answer(
        app,
        await actor_for(app.sessionmaker, "Mo"),
        round_id,
        {"q1": "Cliënt J. uit E."},
        anonymous=False,
    )
    data = await close_and_summarise(app, round_id)
    numbers = {a.text: a.number for _, answers in data.per_question for a in answers}
    harmful, anonymous = numbers["Cliënt J. uit E."], numbers["Zonder naam Cem"]
    for number in (harmful, anonymous):
        async with app.sessionmaker() as db, db.begin():
            removal = await reflections.remove_answer(
                db, mo, round_id, number, "Maakt iemand herkenbaar", app.settings
            )
        assert not removal.published
    assert removal.author_id is None  # anonymous: nobody to tell
    async with app.sessionmaker() as db:
        data = await reflections.summary(db, round_id, app.settings)
        csv_text = round_exports.render(data, "csv", "nl", floor=5).decode("utf-8")
        wiped = await db.scalar(select(AnonymousAnswer.text).where(AnonymousAnswer.removed))
        kept = await db.scalar(select(NamedAnswer.text).where(NamedAnswer.removed))
        jobs = {j.kind: j for j in await db.scalars(select(ScheduledJob))}
        trail = await audit.recent(db, mo, limit=50)
    texts = [t for answers in shown(data) for t, _ in answers]
    assert "Cliënt J. uit E." not in texts and "Zonder naam Cem" not in texts
    assert "Zonder naam Anna" in texts
    assert "Cliënt J. uit E." not in csv_text and "Zonder naam Cem" not in csv_text
    assert wiped == ""  # an anonymous answer taken out keeps nothing
    assert kept == "Cliënt J. uit E."  # the author keeps their own words in their data
    notice = jobs["round.answer_removed"]
    assert notice.payload["reason"] == "Maakt iemand herkenbaar"
    assert notice.payload["member_id"] == mo.member_id
    removed_lines = [t for t in trail if t.action == "round.answer_removed"]
    assert len(removed_lines) == 2
    everything = str([(t.action, t.target_id) for t in trail])
    assert "herkenbaar" not in everything and "Cliënt" not in everything
    # bad input changes nothing
    for number, key in (
        (harmful, "errors.answer_already_removed"),
        (99, "errors.answer_number_unknown"),
    ):
        with pytest.raises((ValidationFailed, NotFound)) as caught:
            async with app.sessionmaker() as db, db.begin():
                await reflections.remove_answer(db, mo, round_id, number, "x", app.settings)
        assert caught.value.key == key
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await reflections.remove_answer(
                db, mo, round_id, numbers["Zonder naam Anna"], "  ", app.settings
            )
    assert caught.value.key == "errors.required"


async def test_taking_out_an_answer_after_publishing_updates_the_summary(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna"], min_answers=1)
    anna = await actor_for(app.sessionmaker, "Anna")
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True, coordinator=True)
    await answer(app, anna, round_id, {"q1": "Te veel gezegd"})
    await close_and_summarise(app, round_id)
    async with app.sessionmaker() as db, db.begin():
        await reflections.publish(db, mo, round_id, app.settings)
    async with app.sessionmaker() as db, db.begin():
        removal = await reflections.remove_answer(db, mo, round_id, 1, "Op verzoek", app.settings)
    assert removal.published and removal.author_id == anna.member_id
    async with app.sessionmaker() as db:
        keys = {j.key for j in await db.scalars(select(ScheduledJob))}
    assert any(k.startswith(f"round:{round_id}:update:") for k in keys)


async def test_an_answer_is_stored_only_after_the_recognisability_check(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna"], min_answers=1)
    anna = await actor_for(app.sessionmaker, "Anna")
    with pytest.raises(ValidationFailed) as caught:
        await answer(app, anna, round_id, {"q1": "Mijn cliënt Jan"}, confirmed=False)
    assert caught.value.key == "errors.answer_not_confirmed"
    async with app.sessionmaker() as db:
        assert await db.scalar(select(NamedAnswer.id)) is None
        assert (await reflections.view(db, anna, round_id)).my_status == "invited"


async def test_auto_publishing_waits_for_the_review_period(app: App) -> None:
    auto = app.settings.model_copy(
        update={
            "reflections": app.settings.reflections.model_copy(
                update={"auto_publish": True, "review_hours": 24}
            )
        }
    )
    round_id = await start_round(app, "named", ["Anna"], min_answers=1)
    await answer(app, await actor_for(app.sessionmaker, "Anna"), round_id, {"q1": "Rust"})
    closed_at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    async with app.sessionmaker() as db, db.begin():
        await reflections.close(db, round_id, auto, now=closed_at)
    async with app.sessionmaker() as db:
        job = await db.scalar(select(ScheduledJob).where(ScheduledJob.kind == "round.auto_publish"))
    assert job is not None and job.due_at == closed_at + timedelta(hours=24)
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True, coordinator=True)
    async with app.sessionmaker() as db, db.begin():
        await reflections.keep_with_moderators(db, mo, round_id)
    async with app.sessionmaker() as db:
        job = await db.get(ScheduledJob, job.id)
    assert job is not None and job.cancelled_at is not None  # a moderator decided first


def test_help_lines_can_be_extended_or_replaced_and_are_validated(tmp_path: Path) -> None:
    standard = load_settings(environ={})
    assert "113" in help_text(standard, "nl") and "112" in help_text(standard, "nl")
    assert "0800-0113" in help_text(standard, "en") and "GP" in help_text(standard, "en")
    config = tmp_path / "leerbot.yaml"
    config.write_text(
        "safety:\n  help_lines:\n    nl: 'Vertrouwenspersoon Anna: 06-1234'\n", encoding="utf-8"
    )
    extended = load_settings(config, environ={})
    assert "113" in help_text(extended, "nl") and "Anna: 06-1234" in help_text(extended, "nl")
    config.write_text(
        "safety:\n  help_lines:\n    mode: replace\n    nl: 'Ring 988'\n    en: 'Call 988'\n",
        encoding="utf-8",
    )
    replaced = load_settings(config, environ={})
    assert help_text(replaced, "nl") == "Ring 988" and help_text(replaced, "en") == "Call 988"
    for body, reason in (
        ("safety:\n  help_lines:\n    nl: '   '\n", "must not be empty"),
        (f"safety:\n  help_lines:\n    nl: '{'x' * 601}'\n", "at most 600"),
        ("safety:\n  help_lines:\n    mode: replace\n    nl: 'Alleen NL'\n", "needs both"),
    ):
        config.write_text(body, encoding="utf-8")
        with pytest.raises(ConfigError) as caught:
            load_settings(config, environ={})
        assert "safety.help_lines" in str(caught.value) and reason in str(caught.value)


async def test_own_questions_carry_no_source_and_bank_questions_do(app: App) -> None:
    chosen = reflections.resolve_questions(app.settings, "live-stigma", None, ["Eigen vraag?"])
    assert [q["bank"] for q in chosen if q["id"].startswith("live-")] == ["live-stigma"] * 2
    sources = reflections.sources([*QUESTIONS, *chosen])
    assert any("LIVE Handreiking" in s for s in sources)
    assert reflections.OWN_QUESTION not in sources


async def test_who_was_asked_is_forgotten_after_the_retention_period(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna"], min_answers=1)
    await answer(app, await actor_for(app.sessionmaker, "Anna"), round_id, {"q1": "Rust"})
    closed_at = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
    async with app.sessionmaker() as db, db.begin():
        await reflections.close(db, round_id, app.settings, now=closed_at)
        kept = await reflections.purge_recipients(db, 365 * 5)
    assert kept == 0
    async with app.sessionmaker() as db, db.begin():
        purged = await reflections.purge_recipients(db, 30)
    assert purged == 2  # Anna and Mo were asked
    async with app.sessionmaker() as db:
        view = await reflections.view(db, None, round_id)
        left = await db.scalar(select(func.count(RoundRecipient.id)))
    assert left == 0
    assert (view.recipients, view.answered) == (2, 1), "the counts stay on the round"


async def test_a_round_closed_before_sealing_existed_is_sealed_at_start(app: App) -> None:
    round_id = await start_round(app, "anonymous", FIVE)
    for name in FIVE:
        await answer(app, await actor_for(app.sessionmaker, name), round_id, {"q1": name})
    async with app.sessionmaker() as db, db.begin():  # as an older version closed rounds
        row = await db.get(ReflectionRound, round_id)
        assert row is not None
        row.status = "closed"
    async with app.sessionmaker() as db, db.begin():
        assert await reflections.seal_closed_rounds(db) == 1
        assert await reflections.seal_closed_rounds(db) == 0
    async with app.sessionmaker() as db:
        statuses = set(await db.scalars(select(RoundRecipient.status)))
        view = await reflections.view(db, None, round_id)
    assert statuses == {"closed"} and view.answered == 5


async def test_a_published_summary_loses_a_deleted_members_answer(app: App) -> None:
    from leerbot.core import privacy

    round_id = await start_round(app, "named", ["Anna", "Bram"], min_answers=1)
    anna = await actor_for(app.sessionmaker, "Anna")
    mo = await actor_for(app.sessionmaker, "Mo", moderator=True, coordinator=True)
    await answer(app, anna, round_id, {"q1": "Van Anna"})
    await answer(app, await actor_for(app.sessionmaker, "Bram"), round_id, {"q1": "Van Bram"})
    await close_and_summarise(app, round_id)
    async with app.sessionmaker() as db, db.begin():
        await reflections.publish(db, mo, round_id, app.settings)
    async with app.sessionmaker() as db, db.begin():
        await privacy.delete(db, anna)
    async with app.sessionmaker() as db:
        data = await reflections.summary(db, round_id, app.settings)
        keys = {j.key for j in await db.scalars(select(ScheduledJob))}
    assert shown(data)[0] == [("Van Bram", "Bram")]
    assert any(k.startswith(f"round:{round_id}:update:forgotten:") for k in keys), (
        "the posted summary is brought up to date"
    )
