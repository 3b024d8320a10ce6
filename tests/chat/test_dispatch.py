"""The chat layer as every front end meets it: parameters, refusals, localized errors and
no traceback ever reaching a member."""

from __future__ import annotations

import logging

import pytest

from leerbot.app import App
from leerbot.chat.commands import registry
from leerbot.chat.context import Place
from leerbot.chat.reply import render
from leerbot.core.actor import Function, Identity
from tests.helpers import audit_count

PLACE = Place("guild-1", "Test community")
COORDINATOR = Identity("ann", "Ann", granted_functions=frozenset({Function.COORDINATOR}))
MEMBER = Identity("bob", "Bob")
ENGLISH_MEMBER = Identity("eve", "Eve", locale_hint="en-GB")


async def say(app: App, who: Identity, words: str, **args: object) -> tuple[bool, str]:
    reply = await app.dispatcher.run_text(PLACE, who, words.split(), dict(args))
    return reply.is_error, render(reply.text, reply.locale or "nl")


async def test_unknown_command_suggests_the_nearest(app: App) -> None:
    failed, text = await say(app, MEMBER, "site lijts")
    assert failed and "/site lijst" in text and "/help" in text


async def test_english_names_work_and_answer_in_english(app: App) -> None:
    failed, text = await say(app, COORDINATOR, "site add", name="Utrecht")
    assert not failed and "Utrecht" in text
    failed, text = await say(app, ENGLISH_MEMBER, "site add", name="Emmen")
    assert failed and text.startswith("Only a coordinator can do this")


async def test_missing_required_parameter(app: App) -> None:
    failed, text = await say(app, COORDINATOR, "site toevoegen", plaats="Utrecht")
    assert failed and text == "Vul **naam** in. Dat is nodig voor deze opdracht."


async def test_overlong_text_is_refused_before_the_core_and_nothing_changes(app: App) -> None:
    before = await audit_count(app.sessionmaker)
    failed, text = await say(app, COORDINATOR, "site toevoegen", naam="x" * 101)
    assert failed and "101 tekens" in text and "100" in text
    assert await audit_count(app.sessionmaker) == before


async def test_unknown_parameter_lists_the_known_ones(app: App) -> None:
    failed, text = await say(app, COORDINATOR, "site toevoegen", naam="A", stad="Utrecht")
    assert failed and "stad" in text and "plaats" in text


async def test_bad_choice_and_bad_boolean_in_english(app: App) -> None:
    failed, text = await say(app, ENGLISH_MEMBER, "profile set", role="patient")
    assert failed and "expert by experience" in text
    failed, text = await say(app, ENGLISH_MEMBER, "profile set", share_experience="perhaps")
    assert failed and "yes or no" in text


async def test_permission_refusal_leaves_audit_untouched(app: App) -> None:
    before = await audit_count(app.sessionmaker)
    failed, text = await say(app, MEMBER, "leerbot setup", agenda="123")
    assert failed and "coördinator" in text
    assert await audit_count(app.sessionmaker) == before


async def test_unexpected_failure_is_logged_with_a_reference_and_never_shown(
    app: App, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = registry.commands[("site", "lijst")]

    async def broken(ctx: object, **kwargs: object) -> None:
        raise RuntimeError("database exploded: secret detail")

    monkeypatch.setitem(
        registry.commands,
        ("site", "lijst"),
        type(command)(command.path, command.path_en, broken, command.permission),
    )
    with caplog.at_level(logging.ERROR, logger="leerbot.chat"):
        failed, text = await say(app, MEMBER, "site lijst")
    assert failed
    assert "secret detail" not in text and "Traceback" not in text
    reference = text.rsplit(" ", 1)[-1].rstrip(".")
    assert any(reference in r.getMessage() and r.exc_info for r in caplog.records)


async def test_stale_button_gets_a_localized_message(app: App) -> None:
    reply = await app.dispatcher.press(PLACE, MEMBER, "lb:does.not.exist:1")
    assert reply.is_error and "knop" in render(reply.text, reply.locale or "nl")


async def test_help_shows_only_what_the_caller_may_use(app: App) -> None:
    _, member_help = await say(app, MEMBER, "help")
    _, coordinator_help = await say(app, COORDINATOR, "help")
    assert "/site lijst" in member_help and "/site toevoegen" not in member_help
    assert "/site toevoegen" in coordinator_help and "/leerbot setup" in coordinator_help
    _, english = await say(app, MEMBER, "help", taal="en")
    assert "/site list" in english and "/mydata" in english and "/site lijst" not in english


async def test_language_choice_in_profile_switches_answers(app: App) -> None:
    failed, text = await say(app, MEMBER, "profiel instellen", taal="en")
    assert not failed and text == "Your profile has been saved."
    _, text = await say(app, MEMBER, "site lijst")
    assert text.startswith("There are no pilot sites yet")
