"""Words the way PostgreSQL's `dutch` configuration sees them, for the SQLite side.

SQLite's FTS5 has no Dutch stemmer, so leerbot stems in Python with the same Snowball
algorithm PostgreSQL 15 uses for `dutch` (Snowball's original Dutch stemmer, called
`dutch_porter` in snowballstemmer 3) and the same stop-word list (`dutch.stop`, from the
Snowball project, BSD licence, shipped beside this file). So *trainingen* finds *training*
and *ervaringsdeskundigen* finds *ervaringsdeskundige* on both databases, with the same hits.

User text never reaches an engine as query syntax: only these tokens do, quoted.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import snowballstemmer

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
STOPWORDS = frozenset(
    line.strip()
    for line in (Path(__file__).with_name("dutch.stop")).read_text(encoding="utf-8").splitlines()
    if line.strip()
)


@lru_cache(maxsize=1)
def _stemmer() -> snowballstemmer.stemmer:  # type: ignore[name-defined]
    algorithms = snowballstemmer.algorithms()
    return snowballstemmer.stemmer("dutch_porter" if "dutch_porter" in algorithms else "dutch")


def words(text: str) -> list[str]:
    """Lower-cased words and numbers, in order (punctuation and operators dropped). Single
    letters go too: "foto's" and "ervaringsdeskundige's" must not demand an "s"."""
    return [w.lower() for w in _WORD.findall(text or "") if len(w) > 1 or w.isdigit()]


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """One lower-cased word's term: numbers and codes as they are, others stemmed. Cached:
    a community's vocabulary is small next to its text, and Snowball costs per call."""
    return word if any(c.isdigit() for c in word) else _stemmer().stemWord(word)


def stems(text: str) -> list[str]:
    """Searchable terms: stop words dropped, words stemmed, numbers and codes kept."""
    return [stem(word) for word in words(text) if word not in STOPWORDS]


def query_terms(text: str, limit: int = 12) -> list[str]:
    """The distinct terms of a search, in order; empty when only punctuation, operators
    or stop words were typed."""
    return list(_query_terms(text, limit))


@lru_cache(maxsize=4096)
def _query_terms(text: str, limit: int) -> tuple[str, ...]:
    # A search is read several times per request (the check, the page, the last page) and
    # members repeat searches; the cache keeps tokenising and stemming off that path.
    return tuple(dict.fromkeys(stems(text)))[:limit]


def query_words(text: str, limit: int = 12) -> list[str]:
    """The distinct non-stop-words of a search, unstemmed (PostgreSQL stems them)."""
    return list(_query_words(text, limit))


@lru_cache(maxsize=4096)
def _query_words(text: str, limit: int) -> tuple[str, ...]:
    return tuple(dict.fromkeys(w for w in words(text) if w not in STOPWORDS))[:limit]
