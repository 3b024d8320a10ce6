"""Where shipped data lives: `prompts/` and `config/` beside the package in a checkout,
or inside the package (`leerbot/_data/`) in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name
    if installed.is_dir():
        return installed
    return _PACKAGE.parent / name


PROMPTS_DIR = _data_dir("prompts")
CONFIG_DIR = _data_dir("config")
