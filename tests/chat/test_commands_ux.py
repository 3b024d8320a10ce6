"""What broke or confused when every command was tried as a new member would (issue 13):
choices, numbers, unusable characters, forged buttons and forms, messages, the audit log in
words, and `/help COMMAND`. Through the dispatcher, as every front end meets it; the same
things end to end on the local Discord are in tests/e2e/test_discord_commands.py."""

from __future__ import annotations

import logging

import pytest

from leerbot.app import App
from leerbot.chat import load_all
from leerbot.chat.commands import DB_INT_MAX, ParamType
from leerbot.chat.context import Place
from leerbot.chat.dispatch import coerce
from leerbot.chat.reply import Reply, render
from leerbot.core.actor import Function, Identity
from leerbot.core.errors import ValidationFailed
from leerbot.i18n import LOCALES
from tests.helpers import audit_count

PLACE = Place("guild-1", "Test community")
COORDINATOR = Identity("ann", "Ann", granted_functions=frozenset({Function.COORDINATOR}))
MEMBER = Identity("bob", "Bob")
ENGLISH = Identity("eve", "Eve", locale_hint="en-GB")
ENGLISH_COORDINATOR = Identity(
    "ann", "Ann", locale_hint="en-GB", granted_functions=frozenset({Function.COORDINATOR})
)


def text_of(reply: Reply) -> str:
    locale = reply.locale or "nl"
    parts = [render(reply.title, locale), render(reply.text, locale)]
    parts += [f"{render(f.label, locale)}: {render(f.value, locale)}" for f in reply.fields]
    return "\n".join(p for p in parts if p)


async def say(app: App, who: Identity, words: str, **args: object) -> tuple[bool, str]:
    reply = await app.dispatcher.run_text(PLACE, who, words.split(), dict(args))
    return reply.is_error, text_of(reply)


async def propose(app: App, who: Identity, title: str) -> int:
    form = await app.dispatcher.run_text(
        PLACE,
        who,
        ["agenda", "voorstel"],
        {"thema": "samenwerking", "soort": "wens", "niveau": "organisatie"},
    )
    assert form.form is not None, text_of(form)
    done = await app.dispatcher.submit(
        PLACE, who, form.form.custom_id, {"titel": title, "beschrijving": f"Over {title}."}
    )
    assert not done.is_error, text_of(done)
    return int(text_of(done).split("#", 1)[1].split(":", 1)[0])


# --- 8. choices ---------------------------------------------------------------------------


def test_every_choice_takes_its_value_and_both_labels_in_any_case() -> None:
    """What the bot lists is what it accepts: the value, the Dutch and the English label,
    upper or lower case, and a label without its explanation in brackets; a length limit
    is for free text only."""
    registry = load_all()
    checked = 0
    for command in registry.commands.values():
        for param in command.params:
            for choice in param.choices:
                for locale in LOCALES:
                    typed = [choice.value, choice.name_nl, choice.name_en, choice.name_en.upper()]
                    typed += [label.split(" (")[0] for label in (choice.name_nl, choice.name_en)]
                    for text in typed:
                        assert coerce(param, text, locale) == choice.value, (command.key, text)
                        checked += 1
    assert checked > 500


async def test_a_language_is_chosen_by_its_name(app: App) -> None:
    failed, text = await say(app, COORDINATOR, "leerbot setup", taal="Nederlands")
    assert not failed, text
    assert "Taal van de community: Nederlands" in text
    failed, text = await say(app, ENGLISH, "profile set", language="english")
    assert not failed and "Your profile has been saved." in text


async def test_weekdays_are_names_and_a_number_is_not_a_day(app: App) -> None:
    failed, text = await say(
        app, COORDINATOR, "ronde herhalen", titel="X", bank="samenwerking", dag="maandag", uur=10
    )
    assert not failed, text
    assert "De eerste start op ma " in text
    failed, text = await say(
        app, ENGLISH, "round repeat", title="X", bank="samenwerking", day="Tuesday", hour=10
    )
    assert "too long" not in text
    failed, text = await say(
        app, COORDINATOR, "ronde herhalen", titel="X", bank="samenwerking", dag="0", uur=10
    )
    assert failed and "`maandag`, `dinsdag`" in text and "`zondag`" in text
    failed, text = await say(
        app, COORDINATOR, "ronde herhalen", titel="X", bank="samenwerking", dag="d", uur=10
    )
    assert failed and text == "Kies voor **dag**: `dinsdag` of `donderdag`."


async def test_english_members_type_english_labels(app: App) -> None:
    failed, text = await say(
        app, ENGLISH, "agenda propose", theme="recovery climate", kind="Wish", level="organisation"
    )
    assert not failed, text


# --- 9. numbers, characters, forged ids ----------------------------------------------------


def test_every_integer_option_has_both_bounds_within_the_database() -> None:
    for command in load_all().commands.values():
        for param in command.params:
            if param.type is ParamType.INTEGER:
                assert param.min_value is not None and param.max_value is not None
                assert param.max_value <= DB_INT_MAX, (command.key, param.name)


@pytest.mark.parametrize("typed", ["99999999999999999999", "2147483648", "-1", "0"])
async def test_numbers_out_of_range_say_the_range(app: App, typed: str) -> None:
    for words, option in (
        ("sessie bekijken", "sessie"),
        ("agenda bekijken", "punt"),
        ("praktijk bekijken", "nummer"),
        ("ronde samenvatting", "ronde"),
    ):
        failed, text = await say(app, COORDINATOR, words, **{option: typed})
        assert failed
        assert text == f"Kies bij **{option}** een getal van 1 tot en met 2147483647.", text


async def test_the_largest_number_is_looked_up_calmly(app: App) -> None:
    failed, text = await say(app, COORDINATOR, "agenda bekijken", punt=str(DB_INT_MAX))
    assert failed and "Agendapunt #2147483647 ken ik niet" in text
    failed, text = await say(app, COORDINATOR, "agenda bekijken", punt="twee")
    assert failed and text == "Vul bij **punt** een getal in."


@pytest.mark.parametrize("bad", ["De\x00Achterkant", "De Achterkant \ud83d"])
async def test_a_nul_byte_or_half_a_character_in_an_option_is_refused(app: App, bad: str) -> None:
    before = await audit_count(app.sessionmaker)
    failed, text = await say(app, COORDINATOR, "site toevoegen", naam=bad)
    assert failed
    assert text == (
        "In **naam** staat een onzichtbaar of kapot teken. Typ de tekst opnieuw en probeer "
        "het nog eens."
    )
    assert await audit_count(app.sessionmaker) == before


async def test_a_nul_byte_or_half_a_character_in_a_form_is_taken_out_and_said(
    app: App,
) -> None:
    form = await app.dispatcher.run_text(
        PLACE,
        MEMBER,
        ["agenda", "voorstel"],
        {"thema": "samenwerking", "soort": "wens", "niveau": "organisatie"},
    )
    assert form.form is not None
    done = await app.dispatcher.submit(
        PLACE,
        MEMBER,
        form.form.custom_id,
        {"titel": "Slaap\x00 genoeg \udc00", "beschrijving": "Rust\x00 en ruimte"},
    )
    assert not done.is_error, text_of(done)
    assert "Slaap genoeg" in text_of(done) and "\x00" not in text_of(done)
    notes = [text_of(f) for f in done.followups]
    assert any("kapot teken. Dat heb ik weggehaald" in n for n in notes), notes


FORGED = [
    *("", "abc", "-1", "0", "99999999999999999999", "2147483648"),
    *("1:x", "x:y:z:w", "1:1", "1:99:n:c", "1:1:", "1:0:n:c"),
]


async def forge_all(app: App, prefixes: tuple[str, ...], skip: tuple[str, ...] = ()) -> dict:
    """Press every declared button and submit every declared form whose name starts with
    one of `prefixes`, with ids the bot never made; {what: the answer's text}."""
    registry = load_all()
    await propose(app, MEMBER, "Echt punt")  # point 1, and round 1 open for Bob and Ann
    started = await app.dispatcher.run_text(
        PLACE,
        COORDINATOR,
        ["ronde", "start"],
        {"titel": "X", "bank": "zwart-vier-vragen", "samenvatting": "alleen moderatoren"},
    )
    assert not started.is_error, text_of(started)
    answers: dict[str, str] = {}
    for action in sorted(registry.actions):
        if action.startswith(prefixes) and not action.startswith(skip):
            for arg in FORGED:
                reply = await app.dispatcher.press(PLACE, COORDINATOR, f"lb:{action}:{arg}")
                answers[f"button {action}:{arg}"] = text_of(reply)
    for form in sorted(registry.forms):
        if form.startswith(prefixes) and not form.startswith(skip):
            for arg in FORGED:
                reply = await app.dispatcher.submit(
                    PLACE, COORDINATOR, f"lb:{form}:{arg}", {"titel": "x", "number": "1"}
                )
                answers[f"form {form}:{arg}"] = text_of(reply)
    return answers


async def test_forged_and_stale_buttons_and_forms_never_cause_an_incident(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Every button and form the bot declares, with ids it never made: a calm message."""
    with caplog.at_level(logging.ERROR, logger="leerbot"):
        answers = await forge_all(app, ("",), skip=("session.",))
    assert len(answers) > 150
    incidents = {k: v for k, v in answers.items() if "ging iets mis" in v}
    assert not incidents, incidents
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert answers["button agenda.support:abc"] == (
        "Deze knop werkt niet meer. Vraag de opdracht opnieuw op."
    )
    assert answers["form agenda.propose:x:y:z:w"] == (
        "Dit formulier werkt niet meer. Vraag de opdracht opnieuw op."
    )
    assert answers["form practice.part2:99999999999999999999"] == (
        "Dit formulier werkt niet meer. Vraag de opdracht opnieuw op."
    )


async def test_forged_session_buttons_never_cause_an_incident(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """The sessions' buttons too (leerbot/chat/sessions.py parses its own ids: a number
    larger than the database holds must be refused there, e.g. with `record_number`)."""
    with caplog.at_level(logging.ERROR, logger="leerbot"):
        answers = await forge_all(app, ("session.",))
    incidents = {k: v for k, v in answers.items() if "ging iets mis" in v}
    assert not incidents, incidents


# --- 10. messages ---------------------------------------------------------------------------


async def test_a_status_that_is_not_a_choice_names_the_status_option(app: App) -> None:
    number = await propose(app, MEMBER, "Slaap")
    failed, text = await say(
        app, COORDINATOR, "agenda status", punt=number, status="klaar", reden="x"
    )
    assert failed and "**status**" in text and "antwoord" not in text
    assert "`in uitvoering`" in text and "in_uitvoering" not in text


async def test_status_steps_are_said_in_words(app: App) -> None:
    number = await propose(app, MEMBER, "Slaap")
    failed, text = await say(
        app, COORDINATOR, "agenda status", punt=number, status="afgerond", reden="x"
    )
    assert failed and "in_uitvoering" not in text
    assert text == (
        "Van nieuw kan een punt niet naar afgerond. Het kan wel naar besproken, geparkeerd of "
        "in uitvoering."
    )
    await say(app, COORDINATOR, "agenda status", punt=number, status="besproken", reden="x")
    failed, text = await say(
        app, COORDINATOR, "agenda status", punt=number, status="besproken", reden="x"
    )
    assert failed and text == "Het punt staat al op besproken."


async def test_merging_back_says_which_point_went_where(app: App) -> None:
    first, second = await propose(app, MEMBER, "Een"), await propose(app, MEMBER, "Twee")
    failed, text = await say(
        app, COORDINATOR, "agenda samenvoegen", punt=second, in_punt=first, reden="Zelfde"
    )
    assert not failed, text
    failed, text = await say(
        app, COORDINATOR, "agenda samenvoegen", punt=first, in_punt=second, reden="Terug"
    )
    assert failed
    assert text == (
        f"Punt #{second} is al samengevoegd met #{first}. Kies #{first} om verder te gaan."
    )
    failed, card = await say(app, MEMBER, "agenda bekijken", punt=second)
    assert f"samengevoegd met #{first} — Zelfde" in card and "nieuw — Zelfde" not in card


async def test_a_coordinator_cannot_stop_being_one_and_is_told_so(app: App) -> None:
    await say(app, COORDINATOR, "help")
    failed, text = await say(
        app,
        COORDINATOR,
        "leerbot functie",
        lid="ann",
        coordinator="nee",
    )
    assert failed
    assert text == (
        "Je kunt je eigen taak als coördinator niet stoppen. Dat doet een andere coördinator "
        "voor je."
    )


async def test_an_option_for_a_command_without_options(app: App) -> None:
    failed, text = await say(app, MEMBER, "site lijst", foo="bar")
    assert failed and text == "Deze optie ken ik niet: foo. Deze opdracht heeft geen opties."
    failed, text = await say(app, COORDINATOR, "site toevoegen", naam="A", stad="Utrecht")
    assert failed and "`" not in text and "naam, plaats, organisatie, soort of beschrijving" in text


# --- 12. the audit log in words ---------------------------------------------------------------


async def test_the_audit_log_says_in_words_what_happened(app: App) -> None:
    await say(app, COORDINATOR, "site toevoegen", naam="De Achterkant")
    await say(app, COORDINATOR, "site wijzigen", site="De Achterkant", plaats="Utrecht")
    await say(app, COORDINATOR, "site verwijderen", site="De Achterkant")
    number = await propose(app, COORDINATOR, "Slaap")
    await say(app, COORDINATOR, "agenda status", punt=number, status="besproken", reden="x")
    await say(app, MEMBER, "profiel instellen", taal="nl")
    await say(app, COORDINATOR, "leerbot functie", lid="bob", moderator="ja")
    failed, text = await say(app, COORDINATOR, "leerbot logboek")
    assert not failed, text
    assert "proeftuin De Achterkant toegevoegd" in text
    assert "proeftuin De Achterkant verwijderd" in text
    assert "proeftuin een proeftuin die er niet meer is aangepast: plaats" in text
    assert f"agendapunt #{number} van nieuw naar besproken gezet" in text
    assert "· Bob · eigen profiel aangepast: taal" in text
    assert "taak van Bob veranderd: nu moderator" in text
    for raw in ("site.removed", "site 4", "agenda_item", "agenda.status", "member"):
        assert raw not in text
    await say(app, COORDINATOR, "profiel instellen", taal="en")
    failed, english = await say(app, COORDINATOR, "leerbot auditlog")
    assert "removed the pilot site De Achterkant" in english
    assert f"moved agenda point #{number} from new to discussed" in english
    assert "changed the task of Bob: now moderator" in english


# --- 14. help for one command, and missing options at once ------------------------------------


async def test_help_for_one_command_lists_its_options_and_an_example(app: App) -> None:
    failed, text = await say(app, MEMBER, "help sessie plannen")
    assert not failed, text
    assert text.startswith("/sessie plannen\nPlan een intervisie")
    assert "• `titel` (verplicht) — Titel van de bijeenkomst." in text
    assert "• `herhaling` — Eenmalig, wekelijks of maandelijks. Kies `geen (eenmalig)`" in text
    assert "• `plaatsen` — Aantal plaatsen (standaard 8). Een getal van 2 tot en met 50." in text
    assert "**Voorbeeld:** `/sessie plannen titel:" in text
    assert "Deze opdracht is alleen voor een moderator of coördinator." in text
    lines = text.splitlines()
    assert lines.index(next(x for x in lines if "`titel`" in x)) < lines.index(
        next(x for x in lines if "`start`" in x)
    )
    failed, english = await say(app, ENGLISH, "help", command="/session plan")
    assert (
        not failed
        and "• `title` (required)" in english
        and "**Example:** `/session plan" in english
    )


async def test_help_for_a_group_and_for_a_typo(app: App) -> None:
    failed, text = await say(app, MEMBER, "help", opdracht="agenda")
    assert not failed and "`/agenda voorstel`" in text and "`/agenda steun`" in text
    failed, text = await say(app, MEMBER, "help sesie planen")
    assert failed and "Bedoel je /sessie plannen? Typ dan /help sessie plannen." in text


async def test_all_missing_options_are_named_at_once_in_the_order_asked(app: App) -> None:
    failed, text = await say(app, COORDINATOR, "agenda samenvoegen")
    assert failed
    assert text == "Vul **punt**, **in_punt** en **reden** in. Die zijn nodig voor deze opdracht."
    failed, text = await say(app, COORDINATOR, "agenda samenvoegen", punt=1)
    assert text == "Vul **in_punt** en **reden** in. Die zijn nodig voor deze opdracht."
    failed, text = await say(app, ENGLISH_COORDINATOR, "agenda merge", point=1)
    assert text == "Please fill in **into_point** and **reason**. This command needs them."


def test_every_example_runs_as_typed_in_the_console() -> None:
    """Each command's example names the command, only its options, all required ones, and
    values the options accept; in both languages."""
    from leerbot.adapters.console.session import parse_command_line
    from leerbot.i18n import translate

    registry = load_all()
    for command in registry.commands.values():
        for locale in LOCALES:
            example = translate(locale, f"{command.key}.example")
            words, args = parse_command_line(example)
            found = registry.find(words)
            assert found is not None and found[0] is command, (locale, example)
            path = command.path_en if locale == "en" else command.path
            assert [w.lower() for w in words[: len(path)]] == list(path), (locale, example)
            for name, value in args.items():
                param = command.param(name)
                assert param is not None and param.label(locale) == name, (locale, example, name)
                try:
                    coerce(param, value, locale)
                except ValidationFailed as exc:  # pragma: no cover - the message
                    pytest.fail(f"{locale} {example}: {name}: {exc.key}")
            given = {command.param(n).name for n in args}  # type: ignore[union-attr]
            rest = [p for p in command.params if p.words and found[1]]
            missing = [p.name for p in command.params if p.required and p.name not in given]
            assert not missing or rest, (locale, example, missing)


def _recorded_actions() -> list[tuple[str, str, list[str]]]:
    """(action, target type, detail names) of every `audit.record(...)` in the code."""
    import ast
    from pathlib import Path

    found = []
    for path in (Path(__file__).resolve().parents[2] / "leerbot").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                action, target = (getattr(a, "value", None) for a in node.args[2:4])
                assert isinstance(action, str) and isinstance(target, str), ast.dump(node)
                found.append((action, target, [k.arg for k in node.keywords if k.arg]))
    return found


SAMPLES: dict[str, object] = {
    "fields": ["name", "city"],
    "from_status": "nieuw",
    "to_status": "in_uitvoering",
    "target": "session:5",
    "role": "inbrenger",
    "kind": "after_session",
    "into": 3,
    "number": 2,
    "member": 9,
}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_audited_action_reads_as_words(locale: str) -> None:
    from datetime import UTC, datetime

    from leerbot.chat.community import audit_what
    from leerbot.core.audit import AuditLine
    from leerbot.i18n import has_key

    actions = _recorded_actions()
    assert len({a for a, _, _ in actions}) >= 30
    for action, target, names in actions:
        assert has_key(f"community.audit.actions.{action}", locale), action
        details = {
            n: SAMPLES.get(n, 4 if n in ("recipients", "occurrences") else "X") for n in names
        }
        line = AuditLine(datetime.now(UTC), "Ann", action, target, "7", details, "Utrecht", "Bob")
        text = audit_what(line, locale)
        assert text and action not in text, (action, text)
        assert "_" not in text and "None" not in text, (action, text)
