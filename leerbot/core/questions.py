"""Question banks for reflection rounds: `prompts/questions/*.yaml` plus a coordinator's own
banks in `<content_dir>/questions/`. Every question carries its source; a bank may have a
one-line intro in both languages. A malformed bank stops the program at start with the file
and the line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from leerbot.paths import PROMPTS_DIR

ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
MAX_QUESTION = 300
MAX_INTRO = 300
MAX_SOURCE = 200


class QuestionBankError(ValueError):
    """A bank that cannot be used: says file, line and what is wrong."""


@dataclass(frozen=True)
class Question:
    id: str
    nl: str
    en: str
    tags: tuple[str, ...]
    source: str

    def text(self, locale: str) -> str:
        return self.en if locale == "en" else self.nl


@dataclass(frozen=True)
class Bank:
    id: str
    title_nl: str
    title_en: str
    source: str
    questions: tuple[Question, ...]
    path: Path
    intro_nl: str | None = None
    intro_en: str | None = None

    def title(self, locale: str) -> str:
        return self.title_en if locale == "en" else self.title_nl

    def intro(self, locale: str) -> str | None:
        """The bank's one-line introduction in this locale, or None when it has none."""
        return self.intro_en if locale == "en" else self.intro_nl


def _fail(path: Path, node: yaml.Node | None, message: str) -> QuestionBankError:
    line = f":{node.start_mark.line + 1}" if node is not None else ""
    return QuestionBankError(f"{path}{line}: {message}")


def _mapping(node: yaml.Node) -> dict[str, yaml.Node]:
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {str(k.value): v for k, v in node.value}


def _text(
    path: Path,
    parent: yaml.Node,
    mapping: dict[str, yaml.Node],
    key: str,
    limit: int = MAX_QUESTION,
) -> str:
    node = mapping.get(key)
    if node is None:
        raise _fail(path, parent, f"missing '{key}'")
    if not isinstance(node, yaml.ScalarNode) or not str(node.value).strip():
        raise _fail(path, node, f"'{key}' must be a non-empty text")
    value = str(node.value).strip()
    if len(value) > limit:
        raise _fail(path, node, f"'{key}' is longer than {limit} characters")
    return value


def _intro(path: Path, top: dict[str, yaml.Node]) -> tuple[str | None, str | None]:
    """The optional `intro: {nl: ..., en: ...}`: both languages, one line each."""
    node = top.get("intro")
    if node is None:
        return None, None
    if not isinstance(node, yaml.MappingNode):
        raise _fail(path, node, "'intro' must be a mapping with 'nl' and 'en'")
    fields = _mapping(node)
    texts = []
    for key in ("nl", "en"):
        if key not in fields:
            raise _fail(path, node, f"'intro' needs both 'nl' and 'en' (missing '{key}')")
        value = _text(path, node, fields, key, MAX_INTRO)
        if "\n" in value:
            raise _fail(path, fields[key], f"'intro' '{key}' must be one line")
        texts.append(value)
    return texts[0], texts[1]


def load_bank(path: Path) -> Bank:
    try:
        root = yaml.compose(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark else ""
        raise QuestionBankError(f"{path}{where}: not valid YAML") from None
    if root is None or not isinstance(root, yaml.MappingNode):
        raise _fail(path, root, "a bank must be a mapping with id, title, source, questions")
    top = _mapping(root)
    bank_id = _text(path, root, top, "id", 40)
    if not ID_PATTERN.match(bank_id):
        raise _fail(path, top["id"], "id may only use a-z, 0-9 and '-'")
    title = _mapping(top.get("title", root))
    source = _text(path, root, top, "source", MAX_SOURCE)
    intro_nl, intro_en = _intro(path, top)
    items = top.get("questions")
    if not isinstance(items, yaml.SequenceNode) or not items.value:
        raise _fail(path, items or root, "'questions' must be a non-empty list")
    questions = []
    for item in items.value:
        fields = _mapping(item)
        if not fields:
            raise _fail(path, item, "each question is a mapping with id, nl, en, source")
        question_id = _text(path, item, fields, "id", 40)
        if not ID_PATTERN.match(question_id):
            raise _fail(path, fields["id"], "question id may only use a-z, 0-9 and '-'")
        tags_node = fields.get("tags")
        tags: tuple[str, ...] = ()
        if isinstance(tags_node, yaml.SequenceNode):
            tags = tuple(str(t.value) for t in tags_node.value)
        questions.append(
            Question(
                id=question_id,
                nl=_text(path, item, fields, "nl"),
                en=_text(path, item, fields, "en"),
                tags=tags,
                source=_text(path, item, fields, "source", MAX_SOURCE),
            )
        )
    return Bank(
        id=bank_id,
        title_nl=_text(path, root, title, "nl", 100) if title else bank_id,
        title_en=_text(path, root, title, "en", 100) if title else bank_id,
        source=source,
        questions=tuple(questions),
        path=path,
        intro_nl=intro_nl,
        intro_en=intro_en,
    )


@lru_cache(maxsize=8)
def load_banks(content_dir: Path | None = None) -> dict[str, Bank]:
    """All banks by id; raises QuestionBankError on a malformed bank or a duplicate id."""
    paths = sorted((PROMPTS_DIR / "questions").glob("*.yaml"))
    if content_dir is not None:
        paths += sorted((content_dir / "questions").glob("*.yaml"))
    banks: dict[str, Bank] = {}
    seen: dict[str, Path] = {}
    for path in paths:
        bank = load_bank(path)
        if bank.id in banks:
            raise QuestionBankError(
                f"{path}: bank id '{bank.id}' is also used in {banks[bank.id].path}"
            )
        for question in bank.questions:
            if question.id in seen:
                raise QuestionBankError(
                    f"{path}: question id '{question.id}' is also used in {seen[question.id]}"
                )
            seen[question.id] = path
        banks[bank.id] = bank
    return banks
