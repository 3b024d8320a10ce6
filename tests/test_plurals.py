"""Counts read right in both languages: every catalog entry is rendered with each of its
values set to 1 and to 2, and every number followed by a counted word must be followed by
the form CLDR's plural rules ask for ("1 punt", "2 punten"; "1 supporter", "2 supporters").
A word that cannot be counted at all ("3 support", "3 steun") fails too: write "steun: 3" or
"3 supporters". Entries use `plural(count, one, other)` (leerbot.i18n)."""

from __future__ import annotations

import re
from functools import cache
from typing import Any

import pytest
from babel import Locale
from jinja2 import meta

from leerbot.i18n import LOCALES, _env, catalog, translate
from leerbot.paths import PROMPTS_DIR

# Counted words: (one, other). Both forms of a pair may be the same ("1 keer", "2 keer").
# Every pair given to plural() in a catalog counts too (see `nouns`).
NOUNS: dict[str, set[tuple[str, str]]] = {
    "nl": {
        ("aanmelding", "aanmeldingen"),
        ("ander", "anderen"),
        ("antwoord", "antwoorden"),
        ("bijeenkomst", "bijeenkomsten"),
        ("byte", "bytes"),
        ("dag", "dagen"),
        ("deelnemer", "deelnemers"),
        ("keer", "keer"),
        ("lid", "leden"),
        ("mens", "mensen"),
        ("minuut", "minuten"),
        ("opdracht", "opdrachten"),
        ("persoon", "personen"),
        ("plaats", "plaatsen"),
        ("praktijk", "praktijken"),
        ("punt", "punten"),
        ("regel", "regels"),
        ("rol", "rollen"),
        ("ronde", "rondes"),
        ("sessie", "sessies"),
        ("tag", "tags"),
        ("teken", "tekens"),
        ("trefwoord", "trefwoorden"),
        ("uur", "uur"),
        ("vraag", "vragen"),
        ("week", "weken"),
    },
    "en": {
        ("answer", "answers"),
        ("attendance record", "attendance records"),
        ("byte", "bytes"),
        ("character", "characters"),
        ("command", "commands"),
        ("day", "days"),
        ("hour", "hours"),
        ("keyword", "keywords"),
        ("line", "lines"),
        ("meeting", "meetings"),
        ("member", "members"),
        ("minute", "minutes"),
        ("other", "others"),
        ("participant", "participants"),
        ("person", "people"),
        ("place", "places"),
        ("point", "points"),
        ("practice", "practices"),
        ("question", "questions"),
        ("role", "roles"),
        ("round", "rounds"),
        ("session", "sessions"),
        ("sign-up", "sign-ups"),
        ("supporter", "supporters"),
        ("tag", "tags"),
        ("time", "times"),
        ("week", "weeks"),
    },
}
UNCOUNTABLE = {"nl": {"steun"}, "en": {"support"}}
"""Words no number may stand before: "3 support" is not English; "support: 3" is."""

TEXT = {
    "field",
    "role",
    "title",
    "name",
    "status",
    "who",
    "when",
    "day",
    "site",
    "theme",
    "kind",
    "level",
}
"""Values that are always words, never counts ("The {{ role }} role is confirmed")."""

_COUNTED = re.compile(
    r"\{\{\s*(\w+)\s*\}\}\s*\{\{\s*plural\(\s*\1\s*,\s*'([^']*)'\s*,\s*'([^']*)'\s*\)"
)
"""`{{ n }} {{ plural(n, 'punt', 'punten') }}`: a counted word right after its number (a
verb chosen by plural() elsewhere, "is"/"are", is not a counted word)."""
_NUMBER_WORD = re.compile(
    r"(?<![#\w./:,+-])(\d+)(?:\*\*|`|\))?\s+(?:\*\*)?([^\W\d_]+(?:-[^\W\d_]+)*)"
)


class Probe(int):
    """Stands in for every value a template is given: a number when counted, text when
    shown, true when tested, an empty list when looped over, itself when asked anything."""

    def __getattr__(self, name: str) -> Any:
        if (
            name.startswith("_")
            or name.startswith("jinja")
            or name in ("unsafe_callable", "alters_data")
        ):
            raise AttributeError(name)
        return self

    def __call__(self, *args: Any, **kwargs: Any) -> Probe:
        return self

    def __iter__(self) -> Any:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __getitem__(self, key: Any) -> Probe:
        return self


@cache
def nouns(locale: str) -> tuple[dict[str, set[str]], set[str]]:
    """{word: the plural categories it belongs to} and the uncountable words."""
    pairs = set(NOUNS[locale])
    for source in catalog(locale).values():
        for _, one, other in _COUNTED.findall(source):
            pairs.add((one.split()[0], other.split()[0]))
    forms: dict[str, set[str]] = {}
    for one, other in pairs:
        forms.setdefault(one.lower(), set()).add("one")
        forms.setdefault(other.lower(), set()).add("other")
    return forms, UNCOUNTABLE[locale]


def miscounted(text: str, locale: str) -> list[str]:
    """Every "number word" in `text` where the word is not the form CLDR asks for."""
    rule = Locale.parse({"nl": "nl_NL", "en": "en_GB"}[locale]).plural_form
    forms, uncountable = nouns(locale)
    wrong = []
    for match in _NUMBER_WORD.finditer(text):
        count, word = int(match.group(1)), match.group(2).lower()
        if word in uncountable:
            wrong.append(f"{match.group(0)!r}: '{word}' cannot be counted")
        elif word in forms and rule(count) not in forms[word]:
            wrong.append(f"{match.group(0)!r}: {rule(count)} form needed")
    return wrong


def _files(locale: str) -> list[str]:
    return sorted(p.stem for p in (PROMPTS_DIR / locale).glob("*.yaml"))


def test_the_check_catches_what_members_reported() -> None:
    assert miscounted("Ontwikkelagenda (pagina 1 van 1, 1 punten)", "nl")
    assert miscounted("Je bent in 1 rondes gevraagd", "nl")
    assert miscounted("1 aanmeldingen, 1 rollen", "nl")
    assert miscounted("Er zijn minder dan 1 antwoorden.", "nl")
    assert miscounted("The point has 1 supporters.", "en")
    assert miscounted("**#4** Slaap · 3 support · new", "en")
    assert miscounted("#4 Slaap · 3 steun · nieuw", "nl")
    assert not miscounted("1 punt, 2 punten, 0 punten, #3 Slaap, 1 keer, 2 keer", "nl")
    assert not miscounted("1 supporter, 2 supporters, support: 3", "en")


@pytest.mark.parametrize(
    ("locale", "name"), [(loc, name) for loc in LOCALES for name in _files(loc)]
)
def test_every_count_in_a_catalog_has_the_right_form(locale: str, name: str) -> None:
    wrong = []
    for key, source in catalog(locale).items():
        if key.split(".", 1)[0] != name:
            continue
        variables = meta.find_undeclared_variables(_env.parse(source))
        variables -= {"plural", "list_and", "list_or"}
        for count in (1, 2):
            params: dict[str, Any] = {v: "tekst" if v in TEXT else Probe(count) for v in variables}
            text = translate(locale, key, **params)
            wrong += [f"{key} with {count}: {w}" for w in miscounted(text, locale)]
    assert not wrong, "\n".join(wrong)
