"""Intervisie methods from `config/methods.yaml` (and a coordinator's content_dir)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from leerbot.paths import CONFIG_DIR


@dataclass(frozen=True)
class Method:
    key: str
    names: dict[str, str]
    source: str
    steps: dict[str, tuple[str, ...]]

    def name(self, locale: str) -> str:
        return self.names.get(locale) or self.names["nl"]


class MethodFileError(ValueError):
    """A methods file that cannot be used; names the file and the method."""


def _load(path: Path) -> dict[str, Method]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    methods: dict[str, Method] = {}
    for key, item in (data.get("methods") or {}).items():
        try:
            steps = {loc: tuple(str(s) for s in lines) for loc, lines in item["steps"].items()}
            methods[str(key)] = Method(
                key=str(key),
                names={loc: str(v) for loc, v in item["name"].items()},
                source=str(item["source"]),
                steps=steps,
            )
        except (KeyError, TypeError, AttributeError) as exc:
            raise MethodFileError(f"{path}: method {key!r}: missing or bad {exc}") from None
    return methods


@lru_cache(maxsize=8)
def load_methods(content_dir: Path | None = None) -> dict[str, Method]:
    methods = _load(CONFIG_DIR / "methods.yaml")
    if content_dir is not None and (content_dir / "methods.yaml").is_file():
        methods.update(_load(content_dir / "methods.yaml"))
    return methods
