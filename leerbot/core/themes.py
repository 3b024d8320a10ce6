"""Agenda themes from `config/themes.yaml` (or the coordinator's content_dir copy)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from leerbot.paths import CONFIG_DIR

KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")


class ThemeFileError(ValueError):
    """A themes file that cannot be used; names the file and the theme."""


@dataclass(frozen=True)
class Theme:
    key: str
    nl: str
    en: str
    source: str

    def name(self, locale: str) -> str:
        return self.en if locale == "en" else self.nl


@lru_cache(maxsize=8)
def load_themes(content_dir: Path | None = None) -> dict[str, Theme]:
    path = CONFIG_DIR / "themes.yaml"
    if content_dir is not None and (content_dir / "themes.yaml").is_file():
        path = content_dir / "themes.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    themes: dict[str, Theme] = {}
    for key, item in (data.get("themes") or {}).items():
        if not KEY.match(str(key)):
            raise ThemeFileError(f"{path}: theme key {key!r} may only use a-z, 0-9 and '-'")
        try:
            themes[str(key)] = Theme(
                str(key), str(item["nl"]), str(item["en"]), str(item.get("source", ""))
            )
        except (KeyError, TypeError):
            raise ThemeFileError(f"{path}: theme {key!r} needs 'nl' and 'en'") from None
    if not themes:
        raise ThemeFileError(f"{path}: no themes")
    if len(themes) > 25:
        raise ThemeFileError(f"{path}: at most 25 themes (Discord shows 25 choices)")
    return themes
