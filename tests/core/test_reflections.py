"""Reflection rounds in the core: named, anonymous and member's-choice answering, the
threshold that withholds a summary, skip and pause, validation, and the anonymity dump."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from leerbot.app import App
from leerbot.core import reflections
from leerbot.core.actor import Actor
from leerbot.core.community import configure
from leerbot.core.errors import ValidationFailed
from leerbot.core.questions import QuestionBankError, load_bank
from leerbot.core.steps import SecondStep
from leerbot.db.models import Base, ScheduledJob
from leerbot.exports import rounds as round_exports
from leerbot.scheduling import run_due
from tests.helpers import RecordingPlatform, actor_for

QUESTIONS = [
    {"id": "q1", "nl": "Wat neem je mee?", "en": "What do you take away?", "source": "test"},
    {"id": "q2", "nl": "Wat heb je nodig?", "en": "What do you need?", "source": "test"},
]


async def start_round(app: App, anonymity: str, members: list[str], **kwargs: object) -> int:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True, coordinator=True)
    for name in members:
        await actor_for(app.sessionmaker, name)
    async with app.sessionmaker() as db, db.begin():
        await configure(db, moderator, announcement_channel_id="announcements")
        item = await reflections.start(
            db,
            moderator,
            kwargs.pop("settings", app.settings),  # type: ignore[arg-type]
            title="Terugblik",
            questions=QUESTIONS,
            anonymity=anonymity,
            **kwargs,  # type: ignore[arg-type]
        )
    return item.id


async def answer(
    app: App, actor: Actor, round_id: int, values: dict[str, str], **kwargs: object
) -> reflections.AnswerResult:
    kwargs.setdefault("confirmed", True)  # the member pressed "nobody is recognisable"
    async with app.sessionmaker() as db, db.begin():
        result = await reflections.answer(db, actor, round_id, values, **kwargs)  # type: ignore[arg-type]
    await run_steps(app, result.steps)
    return result


async def run_steps(app: App, steps: tuple[SecondStep, ...]) -> None:
    """What the dispatcher does after the member's unit of work: each step on its own."""
    for step in steps:
        async with app.sessionmaker() as db, db.begin():
            await step.run(db)


async def close_and_summarise(app: App, round_id: int) -> reflections.Summary:
    async with app.sessionmaker() as db, db.begin():
        await reflections.close(db, round_id, app.settings)
        return await reflections.summary(db, round_id, app.settings)


def shown(data: reflections.Summary) -> list[list[tuple[str, str | None]]]:
    """What readers of the published summary see per question: (text, name)."""
    return [[(a.text, a.name) for a in answers] for _, answers in data.shown()]


FIVE = ["Anna", "Bram", "Cem", "Dewi", "Eef"]


async def test_named_round_summary_shows_names(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna", "Bram"], min_answers=2)
    for name, said in (("Anna", "Rust"), ("Bram", "Moed")):
        actor = await actor_for(app.sessionmaker, name)
        await answer(app, actor, round_id, {"q1": said})
    data = await close_and_summarise(app, round_id)
    assert not data.withheld and data.answered == 2
    assert data.round.review_state == "pending"  # a draft for the moderators, not published
    assert sorted(shown(data)[0]) == [("Moed", "Bram"), ("Rust", "Anna")]


async def test_anonymous_answers_carry_no_name_and_can_be_changed_by_token(app: App) -> None:
    round_id = await start_round(app, "anonymous", FIVE)
    anna = await actor_for(app.sessionmaker, "Anna")
    first = await answer(app, anna, round_id, {"q1": "Eerste versie"})
    assert first.anonymous and first.token
    with pytest.raises(ValidationFailed) as caught:  # answering twice is refused
        await answer(app, anna, round_id, {"q1": "Nog eens"})
    assert caught.value.key == "errors.already_answered"
    await answer(app, anna, round_id, {"q1": "Tweede versie", "q2": "Tijd"}, token=first.token)
    for name in FIVE[1:]:
        await answer(app, await actor_for(app.sessionmaker, name), round_id, {"q2": "Ja"})
    data = await close_and_summarise(app, round_id)
    assert ("Tweede versie", None) in shown(data)[0]
    assert ("Eerste versie", None) not in shown(data)[0]
    assert ("Tijd", None) in shown(data)[1] and all(name is None for _, name in shown(data)[1])


async def test_members_choice_mixes_named_and_anonymous(app: App) -> None:
    round_id = await start_round(app, "choice", FIVE)
    for name in FIVE:
        actor = await actor_for(app.sessionmaker, name)
        await answer(app, actor, round_id, {"q1": f"Zonder naam {name}"}, anonymous=True)
    data = await close_and_summarise(app, round_id)
    assert data.anonymous_held_back == 0
    assert sorted(shown(data)[0]) == sorted((f"Zonder naam {n}", None) for n in FIVE)


async def test_members_choice_holds_back_anonymous_answers_when_few_chose_anonymous(
    app: App,
) -> None:
    """Four answer with their name, one without: showing that one answer would point at
    the one member who answered but is not among the names."""
    round_id = await start_round(app, "choice", FIVE)
    for name in FIVE[:4]:
        actor = await actor_for(app.sessionmaker, name)
        await answer(app, actor, round_id, {"q1": f"Met naam {name}"}, anonymous=False)
    eef = await actor_for(app.sessionmaker, "Eef")
    await answer(app, eef, round_id, {"q1": "Dit is van Eef"}, anonymous=True)
    data = await close_and_summarise(app, round_id)
    assert not data.withheld and data.answered == 5
    assert data.anonymous_held_back == 1
    texts = [t for answers in shown(data) for t, _ in answers]
    assert "Dit is van Eef" not in texts and "Met naam Anna" in texts
    async with app.sessionmaker() as db:
        csv_text = round_exports.render(
            await reflections.summary(db, round_id), "csv", "nl", floor=5
        )
    assert b"Dit is van Eef" not in csv_text


async def test_summary_is_withheld_below_the_minimum(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna", "Bram"], min_answers=3)
    anna = await actor_for(app.sessionmaker, "Anna")
    await answer(app, anna, round_id, {"q1": "Alleen ik"})
    data = await close_and_summarise(app, round_id)
    assert data.withheld and data.answered == 1 and data.per_question == []
    assert data.round.review_state == "withheld"
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await reflections.publish(db, moderator, round_id, app.settings)
    assert caught.value.key == "errors.summary_withheld"


async def test_bad_answers_and_late_answers_change_nothing(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna"], min_answers=1)
    anna = await actor_for(app.sessionmaker, "Anna")
    for values, key in (
        ({"q1": "  "}, "errors.answer_empty"),
        ({"q1": "x" * 1501}, "errors.too_long"),
        ({"q9": "?"}, "errors.unknown_questions"),
    ):
        with pytest.raises(ValidationFailed) as caught:
            await answer(app, anna, round_id, values)
        assert caught.value.key == key
    outsider = await actor_for(app.sessionmaker, "Buiten")
    with pytest.raises(ValidationFailed) as caught:
        await answer(app, outsider, round_id, {"q1": "Mag ik?"})
    assert caught.value.key == "errors.not_in_round"
    with pytest.raises(ValidationFailed) as caught:
        await answer(
            app, anna, round_id, {"q1": "Te laat"}, now=datetime.now(UTC) + timedelta(days=8)
        )
    assert caught.value.key == "errors.round_closed"
    async with app.sessionmaker() as db:
        view = await reflections.view(db, anna, round_id)
    assert view.answered == 0


async def test_round_without_questions_or_audience_is_refused(app: App) -> None:
    moderator = await actor_for(app.sessionmaker, "Mo", moderator=True)
    with pytest.raises(ValidationFailed) as caught:
        reflections.resolve_questions(app.settings, None, None, ["   "])
    assert caught.value.key == "errors.round_no_questions"
    with pytest.raises(ValidationFailed) as caught:
        async with app.sessionmaker() as db, db.begin():
            await reflections.start(
                db,
                moderator,
                app.settings,
                title="x",
                questions=QUESTIONS,
                audience_kind="role",
                audience_value="professional",
            )
    assert caught.value.key == "errors.audience_empty"


async def test_reminder_skips_answered_skipped_and_paused_members(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna", "Bram", "Cem", "Dewi"])
    actors = {n: await actor_for(app.sessionmaker, n) for n in ("Anna", "Bram", "Cem", "Dewi")}
    await answer(app, actors["Anna"], round_id, {"q1": "Klaar"})
    async with app.sessionmaker() as db, db.begin():
        await reflections.skip(db, actors["Bram"], round_id)
        await reflections.set_paused(db, actors["Cem"], True)
    async with app.sessionmaker() as db:
        reminded = [m.display_name for m in await reflections.recipients_to_remind(db, round_id)]
    assert sorted(reminded) == ["Dewi", "Mo"]


async def test_a_paused_member_gets_no_new_round(app: App) -> None:
    anna = await actor_for(app.sessionmaker, "Anna")
    async with app.sessionmaker() as db, db.begin():
        await reflections.set_paused(db, anna, True)
    round_id = await start_round(app, "named", ["Bram"])
    async with app.sessionmaker() as db:
        names = [m.display_name for m, _ in await reflections.all_recipients(db, round_id)]
    assert "Anna" not in names and "Bram" in names


async def test_rounds_survive_a_restart_with_their_deadline_and_reminder(app: App) -> None:
    round_id = await start_round(app, "named", ["Anna"])
    async with app.sessionmaker() as db:
        jobs = {j.kind: j for j in await db.scalars(select(ScheduledJob))}
    assert jobs["round.close"].due_at - jobs["round.reminder"].due_at == timedelta(hours=24)
    platform = RecordingPlatform()
    await run_due(app.make_scheduler(platform))  # invitations go out once
    await run_due(app.make_scheduler(platform))  # a "restart": nothing twice
    assert sorted(who for who, _ in platform.dms) == ["anna", "mo"]
    assert round_id


def test_a_malformed_bank_is_named_with_file_and_line(tmp_path: Path) -> None:
    bank = tmp_path / "kapot.yaml"
    bank.write_text(
        "id: kapot\ntitle: {nl: K, en: B}\nsource: test\nquestions:\n"
        "  - id: goed\n    nl: Goed?\n    en: Good?\n    source: x\n"
        "  - id: slecht\n    nl: Geen Engels?\n    source: x\n",
        encoding="utf-8",
    )
    with pytest.raises(QuestionBankError) as caught:
        load_bank(bank)
    assert f"{bank}:9:" in str(caught.value) and "'en'" in str(caught.value)


async def test_anonymity_dump_links_no_answer_to_anyone(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Run a whole anonymous round, then dump every table and every log line: no row and no
    line holds both an answer and anything that identifies its author."""
    caplog.set_level(logging.DEBUG)
    round_id = await start_round(app, "anonymous", ["Anna", "Bram", "Cem"], min_answers=5)
    platform = RecordingPlatform()
    await run_due(app.make_scheduler(platform))
    secret_texts = {"Anna": "Geheim-van-Anna-7f3", "Bram": "Geheim-van-Bram-c21"}
    tokens = {}
    for name, said in secret_texts.items():
        actor = await actor_for(app.sessionmaker, name)
        result = await answer(app, actor, round_id, {"q1": said})
        tokens[name] = result.token
        await answer(app, actor, round_id, {"q1": said + "-v2"}, token=result.token)
    async with app.sessionmaker() as db, db.begin():
        await reflections.close(db, round_id, app.settings)
    rows: list[str] = []
    async with app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            for row in await conn.execute(text(f'SELECT * FROM "{table.name}"')):
                rows.append(f"{table.name}: {tuple(row)}")
    identifying = {
        name: {name, name.casefold(), str((await actor_for(app.sessionmaker, name)).member_id)}
        for name in secret_texts
    }
    answer_rows = [r for r in rows if "Geheim-van" in r]
    assert len(answer_rows) == 2 and all(
        r.startswith("reflection_anonymous_answers") for r in answer_rows
    )
    for row in answer_rows:
        columns = row.split(": ", 1)[1]
        for marks in identifying.values():
            assert not any(f"'{m}'" in columns for m in marks), row
        assert "member" not in row
    every_line = "\n".join(r.getMessage() for r in caplog.records) + "\n".join(rows)
    for token in tokens.values():
        assert token and token not in every_line  # the token itself is stored nowhere
    log_text = "\n".join(r.getMessage() for r in caplog.records)
    assert "Geheim-van" not in log_text
