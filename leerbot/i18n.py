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
    """Render prompt `key` in `locale` (falling back to Dutch)."""
    return _compiled(normalize_locale(locale), key).render(**params).strip()


def has_key(key: str, locale: str = DEFAULT_LOCALE) -> bool:
    return key in catalog(locale)
