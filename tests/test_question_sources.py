"""Sources members can see (issue 10, deliverables 10 and 11).

Every shipped question, bank, theme and method names its source as document, organisation,
year and section or page, never as a line number in our text extractions. The bank with
Gerrit Zwart's four questions quotes them in its intro and asks members about their work
with them, not about their own losses. A bank's optional intro is validated at load.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from leerbot.core.methods import load_methods
from leerbot.core.questions import QuestionBankError, load_bank, load_banks
from leerbot.core.themes import load_themes

LINE_REFERENCE = re.compile(r"\b\d{3}:\d+")
YEAR = re.compile(r"\b(19|20)\d{2}\b")
WITHOUT_DOCUMENT = ("algemene praktijk", "eigen vraag")
CLIENT_CENTRAAL = "De cliënt centraal, IVO, 2024"

ZWART_QUESTIONS = (
    "Wat ben je kwijtgeraakt?",
    "Wat wil je daarvan terug?",
    "Wat wil je per se niet terug?",
    "Hoe kan ik je daarbij ondersteunen?",
)


def _shipped_sources() -> list[tuple[str, str]]:
    sources: list[tuple[str, str]] = []
    for bank in load_banks().values():
        sources.append((f"bank {bank.id}", bank.source))
        sources += [(f"question {q.id}", q.source) for q in bank.questions]
    sources += [(f"theme {t.key}", t.source) for t in load_themes().values()]
    sources += [(f"method {m.key}", m.source) for m in load_methods().values()]
    return sources


def test_every_shipped_source_is_readable_not_a_line_reference() -> None:
    sources = _shipped_sources()
    assert len(sources) > 50
    problems = []
    for what, source in sources:
        if not source.strip():
            problems.append(f"{what}: no source")
        elif len(source) > 200:
            problems.append(f"{what}: longer than 200 characters")
        elif LINE_REFERENCE.search(source):
            problems.append(f"{what}: line reference in {source!r}")
        elif not source.startswith(WITHOUT_DOCUMENT) and not YEAR.search(source):
            problems.append(f"{what}: no year in {source!r}")
    assert not problems, problems


def test_a_line_reference_would_be_caught() -> None:
    assert LINE_REFERENCE.search("003:1586–1589")
    assert LINE_REFERENCE.search("algemene praktijk; 003:1764–1770")
    assert not LINE_REFERENCE.search("LIVE Handreiking, Phrenos en Trimbos, 2012, §3.3")
    assert not LINE_REFERENCE.search("De cliënt centraal, IVO, 2024, p. 18–20")


def test_document_sources_name_the_document_and_de_client_centraal_is_named_in_full() -> None:
    banks = load_banks()
    for question in banks["samenwerking"].questions:
        assert question.source.startswith(CLIENT_CENTRAAL), question.id
    assert banks["samenwerking"].source.startswith(CLIENT_CENTRAAL)
    for what, source in _shipped_sources():
        if "cliënt centraal" in source.lower():
            assert CLIENT_CENTRAAL in source, what
    for bank in banks.values():
        if bank.id.startswith("live-"):
            for question in bank.questions:
                assert question.source.startswith(
                    "LIVE Handreiking, Phrenos en Trimbos, 2012, §"
                ), question.id


def test_zwart_bank_quotes_the_four_questions_in_its_intro_and_asks_about_work() -> None:
    bank = load_banks()["zwart-vier-vragen"]
    intro_nl = bank.intro("nl")
    intro_en = bank.intro("en")
    assert intro_nl is not None and intro_en is not None
    quoted = " ".join(ZWART_QUESTIONS)
    assert quoted in intro_nl
    assert "Gerrit Zwart" in intro_nl and "Gerrit Zwart" in intro_en
    assert "Het Zwarte Gat" in intro_nl
    assert "2012" in bank.source and "Zwarte Gat" in bank.source
    assert 3 <= len(bank.questions) <= 5
    for question in bank.questions:
        assert ZWART_QUESTIONS[0].lower() not in question.nl.lower(), question.id
        assert not question.nl.lower().startswith(("wat ben je kwijt", "wat heb je verloren"))
        assert not question.en.lower().startswith(("what have you lost", "what did you lose"))
        assert question.nl not in ZWART_QUESTIONS, question.id
        # read alone in a form, each question still says which four questions it means
        assert "Gerrit Zwart" in question.nl and "Gerrit Zwart" in question.en, question.id
        assert any(w in question.nl for w in ("werk", "begeleidt", "team")), question.id


def test_banks_without_intro_have_none() -> None:
    banks = load_banks()
    assert banks["live-stigma"].intro("nl") is None
    assert banks["live-stigma"].intro("en") is None


BANK = """\
id: proef
title: {{nl: "Proef", en: "Test"}}
source: "algemene praktijk"
{intro}questions:
  - id: proef-een
    nl: "Wat neem je mee?"
    en: "What do you take away?"
    source: "algemene praktijk"
"""


def _bank(tmp_path: Path, intro: str) -> Path:
    path = tmp_path / "proef.yaml"
    path.write_text(BANK.format(intro=intro), encoding="utf-8")
    return path


def test_intro_loads_in_both_languages(tmp_path: Path) -> None:
    bank = load_bank(_bank(tmp_path, 'intro:\n  nl: "Een regel."\n  en: "One line."\n'))
    assert bank.intro("nl") == "Een regel."
    assert bank.intro("en") == "One line."
    assert load_bank(_bank(tmp_path, "")).intro("nl") is None


@pytest.mark.parametrize(
    ("intro", "line", "message"),
    [
        ('intro:\n  nl: "Alleen Nederlands."\n', 5, "'intro' needs both 'nl' and 'en'"),
        ('intro:\n  nl: ""\n  en: "One line."\n', 5, "'nl' must be a non-empty text"),
        (f'intro:\n  nl: "{"x" * 301}"\n  en: "One line."\n', 5, "longer than 300"),
        ('intro:\n  nl: "Twee\\nregels."\n  en: "One line."\n', 5, "one line"),
        ('intro: "Gewoon tekst."\n', 4, "'intro' must be a mapping"),
    ],
)
def test_a_malformed_intro_names_file_and_line(
    tmp_path: Path, intro: str, line: int, message: str
) -> None:
    path = _bank(tmp_path, intro)
    with pytest.raises(QuestionBankError) as caught:
        load_bank(path)
    assert f"{path}:{line}:" in str(caught.value)
    assert message in str(caught.value)
