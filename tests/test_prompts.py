"""Every sentence lives in prompts/: Dutch and English are complete, every key the code
uses exists, every template renders, and the language rules of domain.md hold."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from leerbot.chat import load_all
from leerbot.core import privacy
from leerbot.i18n import LOCALES, catalog
from leerbot.paths import PROMPTS_DIR

SOURCE = Path(__file__).resolve().parents[1] / "leerbot"
PREFIXES = sorted({key.split(".", 1)[0] for key in catalog("nl")})
_KEY = r"""["']((?:""" + "|".join(PREFIXES) + r""")\.[a-z0-9_]+(?:\.[a-z0-9_]+)*)["']"""
# Places where code names a prompt: Msg(...), Reply.say/error(...), errors, translate(...).
KEY_PATTERN = re.compile(
    r"(?:\b(?:Msg|say|error|t|ValidationFailed|NotFound|PermissionDenied|Conflict|LeerbotError"
    r"|CommandLineError)\(\s*|translate\([^,()]+,\s*|_key\s*=\s*)" + _KEY
)

# domain.md: non-diagnostic, non-stigmatising language.
FORBIDDEN = [
    r"ex-?verslaafde",
    r"\bverslaafden?\b",
    r"\bchronisch",
    r"\bsymptomen\b",
    r"\bpatiënten?\b",
    r"\bbeperkingen\b",
    r"\bjunkie",
    r"\baddicts?\b",
]


def test_dutch_and_english_have_the_same_keys() -> None:
    nl, en = set(catalog("nl")), set(catalog("en"))
    assert not nl - en, f"missing in English: {sorted(nl - en)}"
    assert not en - nl, f"missing in Dutch: {sorted(en - nl)}"


@pytest.mark.parametrize("locale", LOCALES)
def test_every_template_compiles(locale: str) -> None:
    env = SandboxedEnvironment()
    for key, source in catalog(locale).items():
        try:
            env.parse(source)
        except TemplateSyntaxError as exc:  # pragma: no cover - the assertion message
            pytest.fail(f"{locale}:{key}: {exc}")


def test_every_key_used_in_code_exists() -> None:
    known = set(catalog("nl"))
    missing = []
    for path in SOURCE.rglob("*.py"):
        if "testing" in path.parts:
            continue
        for key in KEY_PATTERN.findall(path.read_text(encoding="utf-8")):
            if key not in known and not any(k.startswith(key + ".") for k in known):
                missing.append(f"{path.relative_to(SOURCE)}: {key}")
    assert not missing, missing


def test_every_command_and_parameter_is_described_in_both_languages() -> None:
    registry = load_all()
    for locale in LOCALES:
        texts = catalog(locale)
        for command in registry.commands.values():
            description = texts.get(f"{command.key}.description")
            assert description, f"{locale}: {command.key}.description"
            assert len(description) <= 100
            for param in command.params:
                text = texts.get(f"{command.key}.params.{param.name}")
                assert text and len(text) <= 100, f"{locale}: {command.key}.params.{param.name}"
            if len(command.path) == 2:
                assert texts.get(f"commands.groups.{command.path[0]}"), command.path[0]


def test_every_data_handler_has_its_texts() -> None:
    load_all()
    for locale in LOCALES:
        texts = catalog(locale)
        for handler in privacy.handlers():
            assert handler.summary_key in texts
            assert f"privacy.handler.{handler.name}" in texts
            assert handler.delete_note_key is None or handler.delete_note_key in texts


def test_no_stigmatising_words() -> None:
    offenders = []
    for path in PROMPTS_DIR.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8").lower()
        offenders += [f"{path.name}: {w}" for w in FORBIDDEN if re.search(w, text)]
    assert not offenders, offenders


def test_shipped_question_banks_load_with_sources_and_fit_one_round() -> None:
    from leerbot.core.questions import load_banks
    from leerbot.core.reflections import MAX_QUESTIONS

    banks = load_banks()
    assert {"zwart-vier-vragen", "na-intervisie", "samenwerking", "dialoogthemas"} <= set(banks)
    assert any(key.startswith("live-") for key in banks)
    for bank in banks.values():
        assert len(bank.questions) <= MAX_QUESTIONS, bank.id
        for question in bank.questions:
            assert question.source.strip(), question.id
            assert not re.search(r"\b\d{3}:\d+", question.source), question.id
            assert question.nl.endswith("?") and question.en.endswith("?"), question.id


@pytest.mark.parametrize("locale", LOCALES)
def test_the_fast_path_renders_plain_prompts_exactly_as_jinja(locale: str) -> None:
    """Exports render some prompts 100,000 times without Jinja (`translate_many`): for every
    prompt that qualifies, the text must be the same, with conditions true and false."""
    from leerbot.i18n import _fast, translate

    checked = 0
    for key, source in catalog(locale).items():
        fast = _fast(locale, key)
        if fast is None:
            continue
        names = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", source))
        conditions = set(re.findall(r"\{%\s*if\s+(\w+)\s*%\}", source))
        for truth in ("ja", ""):
            params = {n: f"<{n}>" for n in names} | dict.fromkeys(conditions, truth)
            params |= {n: f"<{n}>" for n in names if n in conditions and truth}
            assert fast(params) == translate(locale, key, **params), key
        checked += 1
    assert checked > 50, "the fast path covers the plain prompts"
