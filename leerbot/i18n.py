"""Every sentence a member reads comes from `prompts/<locale>/*.yaml`.

Each YAML file is a catalog; its keys are prefixed with the file name, so
`prompts/nl/community.yaml` → `community.site.added`. Values are Jinja2 templates.
Dutch (`nl`) is the default and the fallback; English (`en`) must be complete.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import yaml
from jinja2 import StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from leerbot.paths import PROMPTS_DIR

DEFAULT_LOCALE = "nl"
LOCALES: tuple[str, ...] = ("nl", "en")


@dataclass(frozen=True)
class Msg:
    """A message to render later, in the reader's language."""

    key: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def render(self, locale: str) -> str:
        return translate(locale, self.key, **dict(self.params))


def normalize_locale(value: str | None) -> str:
    """Map Discord's and people's locale names ("en-US", "nl", "EN") onto ours."""
    if not value:
        return DEFAULT_LOCALE
    short = value.strip().lower().replace("_", "-").split("-")[0]
    return short if short in LOCALES else DEFAULT_LOCALE


def _flatten(prefix: str, node: Any, out: dict[str, str], source: Path) -> None:
    if isinstance(node, Mapping):
        for key, value in node.items():
            _flatten(f"{prefix}.{key}" if prefix else str(key), value, out, source)
    elif isinstance(node, str):
        out[prefix] = node
    else:
        raise ValueError(f"{source}: key {prefix!r} must be text, not {type(node).__name__}")


@cache
def catalog(locale: str, root: Path = PROMPTS_DIR) -> dict[str, str]:
    """All templates of one locale, keyed by dotted name."""
    out: dict[str, str] = {}
    directory = root / locale
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as handle:
            data = yaml.safe_load(handle) or {}
        _flatten(path.stem, data, out, path)
    return out


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_~|>#\[\]()<@-])")


def escape_markdown(text: object) -> str:
    """Member text shown inside a Markdown message: every character that Discord (or a
    Markdown reader) would treat as formatting is escaped, so text stays text."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


_env = SandboxedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=False
)
_env.filters["md"] = escape_markdown


@lru_cache(maxsize=4096)
def _compiled(locale: str, key: str) -> Any:
    texts = catalog(locale)
    source = texts.get(key)
    if source is None and locale != DEFAULT_LOCALE:
        source = catalog(DEFAULT_LOCALE).get(key)
    if source is None:
        raise KeyError(f"no prompt {key!r} for locale {locale!r}")
    return _env.from_string(source)


def translate(locale: str, key: str, **params: Any) -> str:
    """Render prompt `key` in `locale` (falling back to Dutch). Every template may use
    `plural(count, one, other)`: the word for `count` by the language's CLDR plural rules
    ("1 lid", "2 leden", "0 leden"; "1 member", "1.5 members"), and `list_and(items)` /
    `list_or(items)`: a list in words by CLDR ("a, b en c"; "a, b or c")."""
    locale = normalize_locale(locale)
    return _compiled(locale, key).render(**_helpers(locale), **params).strip()


_BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


def list_and(items: Any, locale: str) -> str:
    """ "a, b en c" / "a, b and c" (CLDR list patterns)."""
    from babel.lists import format_list

    words = [str(item) for item in items]
    return format_list(words, locale=_BABEL_LOCALES.get(normalize_locale(locale), "nl_NL"))


def list_or(items: Any, locale: str) -> str:
    """ "a, b of c" / "a, b or c" (CLDR list patterns)."""
    from babel.lists import format_list

    words = [str(item) for item in items]
    return format_list(
        words, style="or", locale=_BABEL_LOCALES.get(normalize_locale(locale), "nl_NL")
    )


@cache
def _helpers(locale: str) -> dict[str, Any]:
    return {
        "plural": _plurals(locale),
        "list_and": lambda items: list_and(items, locale),
        "list_or": lambda items: list_or(items, locale),
    }


@cache
def _plurals(locale: str) -> Any:
    from babel import Locale

    rule = Locale.parse(_BABEL_LOCALES.get(locale, "nl_NL")).plural_form

    def plural(count: Any, one: str, other: str) -> str:
        return one if rule(abs(count)) == "one" else other

    return plural


_PLAIN = re.compile(r"(\{\{\s*(\w+)\s*\}\})|(\{%\s*if\s+(\w+)\s*%\})|(\{%\s*endif\s*%\})")


@lru_cache(maxsize=256)
def _fast(locale: str, key: str) -> Any:
    """A plain Python renderer for prompts made only of text, `{{ name }}` and
    `{% if name %}…{% endif %}` (not nested): the lines an export repeats 100,000 times.
    None for anything else (the Jinja template is used). tests/test_prompts.py checks that
    both give the same text for every such prompt."""
    texts = catalog(locale)
    source = texts.get(key)
    if source is None and locale != DEFAULT_LOCALE:
        source = catalog(DEFAULT_LOCALE).get(key)
    if source is None or "{#" in source:
        return None
    pieces: list[tuple[str | None, list[str]]] = [(None, [])]  # (condition, format parts)
    position = 0
    for match in _PLAIN.finditer(source):
        text = source[position : match.start()]
        if "{{" in text or "{%" in text:
            return None
        pieces[-1][1].append(text.replace("{", "{{").replace("}", "}}"))
        if match.group(2):
            pieces[-1][1].append("{" + match.group(2) + "}")
        elif match.group(4):
            if pieces[-1][0] is not None:
                return None  # nested
            pieces.append((match.group(4), []))
        else:
            if pieces[-1][0] is None:
                return None
            pieces.append((None, []))
        position = match.end()
    rest = source[position:]
    if pieces[-1][0] is not None or "{{" in rest or "{%" in rest:
        return None
    pieces[-1][1].append(rest.replace("{", "{{").replace("}", "}}"))
    compiled = [(condition, "".join(parts)) for condition, parts in pieces if parts]
    if len(compiled) == 1 and compiled[0][0] is None:
        plain = compiled[0][1]
        return lambda params: plain.format_map(params).strip()

    def render(params: dict[str, Any]) -> str:
        return "".join(
            text.format_map(params)
            for condition, text in compiled
            if condition is None or params[condition]
        ).strip()

    return render


def translate_many(locale: str, key: str, **params: Any) -> str:
    """`translate` for a prompt rendered very many times (an export's lines): the same text,
    without Jinja's per-call cost when the prompt is plain."""
    locale = normalize_locale(locale)
    fast = _fast(locale, key)
    if fast is None:
        return translate(locale, key, **params)
    return fast(params)  # type: ignore[no-any-return]


def has_key(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    return key in catalog(locale)
