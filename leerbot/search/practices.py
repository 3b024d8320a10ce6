"""The practice index on each database's own full-text engine.

SQLite: an FTS5 table `practice_fts` holding the Python-stemmed words (see
`leerbot.search.dutch`), ranked with bm25. PostgreSQL: a table `practice_search` with a
`tsvector` built by `to_tsvector('dutch', …)` and a GIN index, ranked with ts_rank. Both
answer "all words" searches (AND) the same way; "similar practices" use any word (OR).
The index tables are made by the migrations, outside the ORM models.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import Index, text
from sqlalchemy.ext.asyncio import AsyncSession

from leerbot.db.models import Practice
from leerbot.search.dutch import query_terms, query_words, stems, words

INDEX_TABLES = ("practice_fts", "practice_search")

SEARCHABLE = Index(
    "ix_practices_searchable",
    *(
        Practice.__table__.c[name]
        for name in ("community_id", "id", "site_id", "anonymous", "theme", "level")
    ),
    sqlite_where=text("state = 'shared' AND hidden_at IS NULL"),
    postgresql_where=text("state = 'shared' AND hidden_at IS NULL"),
)
"""The practices a member may find, with what the filters read (migration 0017). Each
full-text hit is checked against it instead of against the practice's whole row, which
holds its text: at 100,000 practices that lookup was half the time of a search."""


def is_index_table(name: str) -> bool:
    """For migrations and schema checks: the engine-specific index tables (and FTS5's
    shadow tables) are not ORM models."""
    return name in INDEX_TABLES or name.startswith("practice_fts_")


@dataclass(frozen=True)
class Hit:
    practice_id: int
    rank: float


async def index(db: AsyncSession, practice_id: int, title: str, body: str) -> None:
    if db.bind.dialect.name == "postgresql":
        # PostgreSQL gets the same words the query side uses (its own parser would keep
        # "24/7" or "2.0" whole and split "COVID-19" differently); it stems them itself.
        await db.execute(
            text(
                "INSERT INTO practice_search (practice_id, document) VALUES (:id, "
                "setweight(to_tsvector('dutch', :title), 'A') || to_tsvector('dutch', :body)) "
                "ON CONFLICT (practice_id) DO UPDATE SET document = EXCLUDED.document"
            ),
            {"id": practice_id, "title": " ".join(words(title)), "body": " ".join(words(body))},
        )
        return
    terms = (
        await asyncio.to_thread(_terms, title, body)
        if len(title) + len(body) > LARGE_TEXT
        else _terms(title, body)
    )
    await db.execute(text("DELETE FROM practice_fts WHERE rowid = :id"), {"id": practice_id})
    await db.execute(
        text("INSERT INTO practice_fts (rowid, title, body) VALUES (:id, :title, :body)"),
        {"id": practice_id, **terms},
    )


LARGE_TEXT = 2000
"""Characters from which a practice is stemmed in a worker thread, off the event loop (a
practice's fields hold up to several thousand; the thread's hand-over costs more than
stemming a short one)."""


def _terms(title: str, body: str) -> dict[str, str]:
    return {"title": " ".join(stems(title)), "body": " ".join(stems(body))}


async def remove(db: AsyncSession, practice_id: int) -> None:
    table, column = (
        ("practice_search", "practice_id")
        if db.bind.dialect.name == "postgresql"
        else ("practice_fts", "rowid")
    )
    await db.execute(text(f"DELETE FROM {table} WHERE {column} = :id"), {"id": practice_id})


async def search(
    db: AsyncSession, query: str, *, any_word: bool = False, limit: int = 500
) -> list[Hit]:
    """Practice ids matching all words of `query` (or any, for suggestions), best first.
    The caller has checked that the query has terms (`query_terms`)."""
    if db.bind.dialect.name == "postgresql":
        words = query_words(query)
        if not words:
            return []
        # plainto_tsquery reads no operators, so nothing the member typed is syntax;
        # "any word" joins one such query per word with tsquery's OR (||).
        params: dict[str, object] = {"limit": limit}
        if any_word:
            parts = []
            for n, word in enumerate(words):
                params[f"w{n}"] = word
                parts.append(f"plainto_tsquery('dutch', :w{n})")
            tsquery = "(" + " || ".join(parts) + ")"
        else:
            params["q"] = " ".join(words)
            tsquery = "plainto_tsquery('dutch', :q)"
        rows = await db.execute(
            text(
                f"SELECT practice_id, ts_rank(document, query.q) AS rank FROM practice_search, "
                f"(SELECT {tsquery} AS q) AS query WHERE document @@ query.q "
                f"ORDER BY rank DESC, practice_id LIMIT :limit"
            ),
            params,
        )
        return [Hit(int(i), float(r)) for i, r in rows]
    terms = query_terms(query)
    if not terms:
        return []
    match = (" OR " if any_word else " AND ").join(f'"{t}"' for t in terms)
    rows = await db.execute(
        text(
            "SELECT rowid, bm25(practice_fts, 4.0, 1.0) AS rank FROM practice_fts "
            "WHERE practice_fts MATCH :match ORDER BY rank, rowid LIMIT :limit"
        ),
        {"match": match, "limit": limit},
    )
    return [Hit(int(i), -float(r)) for i, r in rows]


@dataclass(frozen=True)
class Scope:
    """What a member may find, applied inside the ranked query (not after a global top-N,
    which lost hits when another community's practices ranked higher)."""

    community_id: int
    site_id: int | None = None
    named_only: bool = False
    """A small site's filter: anonymous practices stay out (the filter would name them)."""
    theme: str | None = None
    level: str | None = None
    tag: str | None = None
    other_than_site: int | None = None
    """Leave out this site's practices ("vergelijkbaar elders")."""
    other_than: int | None = None
    """Leave out this practice (the one suggestions are for)."""


async def find(
    db: AsyncSession,
    query: str,
    scope: Scope,
    *,
    limit: int,
    offset: int = 0,
    any_word: bool = False,
) -> tuple[list[int], int]:
    """Shared, visible practices of one community matching all words of `query` (or any
    of them, for suggestions), best first: one page of ids and the total number of hits,
    in one statement."""
    postgres = db.bind.dialect.name == "postgresql"
    params: dict[str, object] = {"community": scope.community_id, "limit": limit}
    params["offset"] = offset
    where = [
        "p.community_id = :community",
        "p.state = 'shared'",
        "p.hidden_at IS NULL",
    ]
    if scope.site_id is not None:
        where.append("p.site_id = :site")
        params["site"] = scope.site_id
    if scope.named_only:
        where.append("NOT p.anonymous")
    if scope.theme:
        where.append("p.theme = :theme")
        params["theme"] = scope.theme
    if scope.level:
        where.append("p.level = :level")
        params["level"] = scope.level
    if scope.tag:
        params["tag"] = scope.tag.strip().lower()
        where.append(
            "(p.tags::jsonb ? :tag)"
            if postgres
            else "EXISTS (SELECT 1 FROM json_each(p.tags) WHERE json_each.value = :tag)"
        )
    if scope.other_than_site is not None:
        where.append("(p.site_id IS NULL OR p.site_id != :other_site)")
        params["other_site"] = scope.other_than_site
    if scope.other_than is not None:
        where.append("p.id != :other_id")
        params["other_id"] = scope.other_than
    filters = " AND ".join(where)
    if postgres:
        words = query_words(query)
        if not words:
            return [], 0
        if any_word:  # one plainto_tsquery per word, joined with tsquery's OR
            parts = []
            for n, word in enumerate(words):
                params[f"w{n}"] = word
                parts.append(f"plainto_tsquery('dutch', :w{n})")
            tsquery = "(" + " || ".join(parts) + ")"
        else:
            params["q"] = " ".join(words)
            tsquery = "plainto_tsquery('dutch', :q)"
        sql = (
            "SELECT p.id, count(*) OVER () AS total FROM practice_search s "
            "JOIN practices p ON p.id = s.practice_id, "
            f"(SELECT {tsquery} AS q) AS query "
            f"WHERE s.document @@ query.q AND {filters} "
            "ORDER BY ts_rank(s.document, query.q) DESC, p.id LIMIT :limit OFFSET :offset"
        )
    else:
        terms = query_terms(query)
        if not terms:
            return [], 0
        params["match"] = (" OR " if any_word else " AND ").join(f'"{t}"' for t in terms)
        # FTS5 ranks only inside its own query: rank there, filter and page outside.
        # CROSS JOIN keeps the hits as the outer loop: left to itself, SQLite walked the
        # community's practices and ran the full-text query once per practice (two
        # minutes at 100,000). Each hit is then looked up in the searchable-practices
        # index, not in the table's rows (which hold the text).
        sql = (
            "SELECT p.id, count(*) OVER () AS total FROM (SELECT rowid AS id, "
            "bm25(practice_fts, 4.0, 1.0) AS rank FROM practice_fts "
            "WHERE practice_fts MATCH :match) AS hit "
            f"CROSS JOIN practices AS p INDEXED BY {SEARCHABLE.name} ON p.id = hit.id "
            f"WHERE {filters} ORDER BY hit.rank, p.id LIMIT :limit OFFSET :offset"
        )
    rows = (await db.execute(text(sql), params)).all()
    if not rows and offset:
        # past the last page: the total still tells the caller where the last page is
        count = await db.execute(text(f"SELECT count(*) FROM ({_counting(sql)}) AS c"), params)
        return [], int(count.scalar_one())
    return [int(r[0]) for r in rows], int(rows[0][1]) if rows else 0


def _counting(sql: str) -> str:
    return sql.split(" ORDER BY ")[0]


LIKE_TEXT = "lower(title || ' ' || what_we_do || ' ' || context || ' ' || why_it_works)"


async def like_scan(
    db: AsyncSession, query: str, community_id: int, *, limit: int, offset: int = 0
) -> tuple[list[int], int]:
    """The naive alternative for the benchmark, answering what `find` answers (one page
    and the total) for a community: `LIKE_TEXT LIKE '%word%'` for every word, on every
    shared, visible practice of the community (the total makes it read them all)."""
    words = query_words(query)
    if not words:
        return [], 0
    clauses = " AND ".join(f"{LIKE_TEXT} LIKE :w{n}" for n in range(len(words)))
    rows = (
        await db.execute(
            text(
                "SELECT id, count(*) OVER () AS total FROM practices "
                "WHERE community_id = :community AND state = 'shared' AND hidden_at IS NULL "
                f"AND {clauses} ORDER BY id LIMIT :limit OFFSET :offset"
            ),
            {
                **{f"w{n}": f"%{w}%" for n, w in enumerate(words)},
                "community": community_id,
                "limit": limit,
                "offset": offset,
            },
        )
    ).all()
    return [int(r[0]) for r in rows], int(rows[0][1]) if rows else 0
