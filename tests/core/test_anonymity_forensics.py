"""Anonymity against the database itself: an anonymous round of 24 members who answer in a
random order that only this test knows. Read as an administrator would — every table, the
physical row order, transaction ids, raw pages and dead tuples (PostgreSQL, `pageinspect`),
a `pg_dump`, the raw bytes of the SQLite file and its WAL — nothing may put the answers in
answering order, and no value may join an answer to a member.

While the round is open, the one thing promised is narrower (see the threat model in
leerbot/core/reflections.py): an answer is never written in the same transaction as anything
about its member. That check is what fails when the shared transaction comes back."""

from __future__ import annotations

import hashlib
import re
import secrets
import shutil
import struct
import subprocess
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from leerbot.app import App
from leerbot.core import reflections
from leerbot.core.actor import Actor
from leerbot.db.models import Base, Member
from tests.core.test_reflections import answer, start_round
from tests.helpers import actor_for

MEMBERS = 24
LIMIT = 0.6  # |Kendall tau| over 24 answers: chance alone passes 0.6 about once in 10,000


def kendall_tau(ranks: list[int]) -> float:
    """Rank correlation between storage order (the list's order) and answering order (the
    values). Ties count as neither concordant nor discordant (all equal → 0)."""
    pairs = list(combinations(range(len(ranks)), 2))
    if not pairs:
        return 0.0
    score = sum((ranks[j] > ranks[i]) - (ranks[j] < ranks[i]) for i, j in pairs)
    return score / len(pairs)


def answering_order() -> list[int]:
    """A random order of the members, known only to this test. Members are stored in the
    order they joined, which anyone may know, so an order that happens to follow it would
    say nothing: draw again until it does not (|tau| < 0.3 against joining order)."""
    rng = secrets.SystemRandom()
    while True:
        order = list(range(MEMBERS))
        rng.shuffle(order)
        if abs(kendall_tau(order)) < 0.3:
            return order


class Round:
    """The round as the test played it: who answered when, with which words."""

    def __init__(self) -> None:
        self.tag = secrets.token_hex(4)
        self.order = answering_order()
        self.position = {member: n for n, member in enumerate(self.order)}
        self.tokens: list[str] = []
        self.actors: list[Actor] = []
        self.round_id = 0
        self.first_version = f"eerste-versie-{self.tag}"
        self.answering_began = datetime.now(UTC)

    def words(self, member: int, question: str) -> str:
        return f"antwoord-{self.tag}-{member:02d}-{question}"

    def member_of(self, found: str) -> int:
        return int(found.split("-")[2])

    def ranks(self, texts_in_storage_order: list[str]) -> list[int]:
        """Answering positions, in storage order, of the answers found (one per member)."""
        seen: list[int] = []
        for found in texts_in_storage_order:
            member = self.member_of(found)
            if member not in seen:
                seen.append(member)
        return [self.position[m] for m in seen]


async def play(app: App) -> Round:
    played = Round()
    names = [f"Lid{n:02d}" for n in range(MEMBERS)]
    for name in names:
        played.actors.append(await actor_for(app.sessionmaker, name))
    played.round_id = await start_round(app, "anonymous", [])
    played.answering_began = datetime.now(UTC)
    for member in played.order:
        actor = played.actors[member]
        first = {"q1": played.words(member, "q1"), "q2": played.words(member, "q2")}
        if member == played.order[0]:  # the first one changes her mind: the old words must go
            first["q1"] = played.first_version
        result = await answer(app, actor, played.round_id, first)
        assert result.anonymous and result.token
        played.tokens.append(result.token)
        if member == played.order[0]:
            await answer(
                app,
                actor,
                played.round_id,
                {"q1": played.words(member, "q1")},
                token=result.token,
            )
    return played


def _read(path: Path) -> bytes:
    return path.read_bytes()


def _pg_dump(url: str) -> bytes:
    parsed = make_url(url)
    return subprocess.run(
        [
            shutil.which("pg_dump") or "pg_dump",
            "--data-only",
            "--table=reflection_anonymous_answers",
            "--table=reflection_recipients",
            "-h",
            parsed.host or "127.0.0.1",
            "-p",
            str(parsed.port or 5432),
            "-U",
            parsed.username or "postgres",
            parsed.database or "",
        ],
        capture_output=True,
        check=True,
        timeout=60,
    ).stdout


def marker_pattern(played: Round) -> re.Pattern[bytes]:
    return re.compile(rb"antwoord-" + played.tag.encode() + rb"-\d\d-q\d")


# --- while the round is open -----------------------------------------------------------------


async def _xmins(app: App, table: str, where: str = "") -> set[str]:
    async with app.engine.connect() as conn:
        rows = await conn.execute(text(f"SELECT xmin::text FROM {table} {where}"))
        return {r[0] for r in rows}


def _wal_commits(wal: bytes) -> list[list[tuple[int, bytes]]]:
    """The SQLite WAL as commits: each a list of (page number, page bytes)."""
    if len(wal) < 32:
        return []
    page_size = struct.unpack(">I", wal[8:12])[0]
    salts = wal[16:24]
    commits: list[list[tuple[int, bytes]]] = []
    current: list[tuple[int, bytes]] = []
    offset = 32
    while offset + 24 + page_size <= len(wal):
        header = wal[offset : offset + 24]
        if header[8:16] != salts:
            break  # frames left over from before the last checkpoint
        page, size_after_commit = struct.unpack(">II", header[:8])
        current.append((page, wal[offset + 24 : offset + 24 + page_size]))
        if size_after_commit:
            commits.append(current)
            current = []
        offset += 24 + page_size
    return commits


async def assert_no_shared_transaction_while_open(app: App, played: Round, url: str) -> None:
    dialect = make_url(url).get_backend_name()
    if dialect == "postgresql":
        answers = await _xmins(
            app, "reflection_anonymous_answers", f"WHERE round_id = {played.round_id}"
        )
        assert len(answers) >= MEMBERS, "each answer in a transaction of its own"
        for table in ("reflection_recipients", "members", "audit_entries"):
            shared = answers & await _xmins(app, table)
            assert not shared, f"an anonymous answer shares its transaction with {table}"
        return
    path = Path(make_url(url).database or "")
    async with app.engine.connect() as conn:
        root = (
            await conn.execute(
                text("SELECT rootpage FROM sqlite_master WHERE name = 'reflection_recipients'")
            )
        ).scalar_one()
    commits = _wal_commits(_read(Path(f"{path}-wal")))
    pattern = marker_pattern(played)
    with_answers = [c for c in commits if any(pattern.search(page) for _, page in c)]
    assert len(with_answers) >= MEMBERS, "the WAL holds the round (nothing checkpointed yet)"
    for commit in with_answers:
        pages = {number for number, _ in commit}
        new_words = any(pattern.search(page) for number, page in commit if number != root)
        assert not (root in pages and new_words), (
            "a commit wrote an anonymous answer and the recipients' page together"
        )


# --- after the round closed --------------------------------------------------------------------


async def dump(app: App) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    async with app.engine.connect() as conn:
        for table in Base.metadata.sorted_tables:
            out[table.name] = [dict(r._mapping) for r in await conn.execute(select(table))]
    return out


def member_columns() -> dict[str, list[str]]:
    """Per table, the columns that refer to a member."""
    out: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        for fk in table.foreign_keys:
            if fk.column.table.name == "members":
                out.setdefault(table.name, []).append(fk.parent.name)
    return out


async def assert_no_join_and_no_time(
    app: App, played: Round, opened: datetime, closed: datetime
) -> None:
    tables = await dump(app)
    answers = [
        r for r in tables["reflection_anonymous_answers"] if r["round_id"] == played.round_id
    ]
    assert len(answers) == 2 * MEMBERS
    old_hashes = {hashlib.sha256(t.encode("ascii")).hexdigest() for t in played.tokens}
    assert not {a["token_hash"] for a in answers} & old_hashes, "the members' keys open nothing"
    values = {str(a["id"]) for a in answers} | {a["token_hash"] for a in answers}
    for name, rows in tables.items():
        everything = repr(rows)
        if name != "reflection_anonymous_answers":
            assert not any(v in everything for v in values), f"{name} joins an answer"
            assert played.tag not in everything, f"{name} holds an answer's words"
        assert played.first_version not in everything, "the changed answer's old words stay"
        assert not any(t in everything for t in played.tokens)
    recipients = [r for r in tables["reflection_recipients"] if r["round_id"] == played.round_id]
    assert {r["status"] for r in recipients} == {"closed"}, "who answered is forgotten"
    # no row about a member carries a moment from while the answers came in
    refers = member_columns()
    for name, rows in tables.items():
        if name == "members" or name not in refers:
            continue
        for row in rows:
            if not any(row.get(c) is not None for c in refers[name]):
                continue
            for column, value in row.items():
                if isinstance(value, datetime):
                    moment = value if value.tzinfo else value.replace(tzinfo=UTC)
                    assert not opened <= moment < closed, f"{name}.{column} dates an answer"


async def assert_postgres_leaves_no_order(app: App, played: Round, url: str) -> None:
    where = f"WHERE round_id = {played.round_id}"
    async with app.engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    f"SELECT ctid::text, xmin::text, text FROM reflection_anonymous_answers {where}"
                )
            )
        ).all()
        asked = (
            await conn.execute(
                text(f"SELECT ctid::text, xmin::text, member_id FROM reflection_recipients {where}")
            )
        ).all()
    members = {a.member_id: n for n, a in enumerate(played.actors)}

    def physical(ctid: str) -> tuple[int, int]:
        page, item = ctid.strip("()").split(",")
        return int(page), int(item)

    by_place = [t for _, _, t in sorted(rows, key=lambda r: physical(r[0]))]
    assert abs(kendall_tau(played.ranks(by_place))) < LIMIT, "physical order of the answers"
    assert len({x for _, x, _ in rows}) == 1, "the answers share one transaction id (the close)"
    by_xmin = sorted(rows, key=lambda r: int(r[1]))
    assert abs(kendall_tau(played.ranks([t for _, _, t in by_xmin]))) < LIMIT
    recipients_in_place = [
        played.position[members[m]]
        for _, _, m in sorted(asked, key=lambda r: physical(r[0]))
        if m in members
    ]
    assert abs(kendall_tau(recipients_in_place)) < LIMIT, "physical order of the recipients"
    assert len({x for _, x, _ in asked}) == 1, "the recipients share one transaction id"
    # raw pages, dead tuples and free space included (after VACUUM FULL there are none)
    async with app.engine.connect() as conn:
        await conn.execute(text("CREATE EXTENSION IF NOT EXISTS pageinspect"))
        await conn.commit()
        raw = b""
        for table in reflections.ANSWER_TABLES:
            pages = (
                await conn.execute(text(f"SELECT pg_relation_size('{table}') / 8192"))
            ).scalar_one()
            for block in range(int(pages)):
                raw += (
                    await conn.execute(text(f"SELECT get_raw_page('{table}', {block})"))
                ).scalar_one()
    found = [m.decode() for m in marker_pattern(played).findall(raw)]
    assert len(found) == 2 * MEMBERS, "each answer once in the pages: no old copies"
    assert played.first_version.encode() not in raw
    assert abs(kendall_tau(played.ranks(found))) < LIMIT, "byte order in the raw pages"
    # the README's backup: a plain pg_dump
    dumped = _pg_dump(url)
    in_dump = [m.decode() for m in marker_pattern(played).findall(dumped)]
    assert abs(kendall_tau(played.ranks(in_dump))) < LIMIT, "row order in pg_dump"
    assert played.first_version.encode() not in dumped


def assert_sqlite_file_leaves_no_order(played: Round, url: str) -> None:
    path = Path(make_url(url).database or "")
    wal = Path(f"{path}-wal")
    leftover = wal.read_bytes() if wal.exists() else b""
    assert not marker_pattern(played).search(leftover), "the WAL was checkpointed and emptied"
    assert played.first_version.encode() not in leftover
    raw = path.read_bytes()
    found = [m.decode() for m in marker_pattern(played).findall(raw)]
    assert len(found) == 2 * MEMBERS, "each answer once in the file: no old copies"
    assert played.first_version.encode() not in raw, "secure_delete zeroed the old words"
    assert abs(kendall_tau(played.ranks(found))) < LIMIT, "byte order in the SQLite file"
    for token in played.tokens:
        assert hashlib.sha256(token.encode("ascii")).hexdigest().encode() not in raw


async def test_a_sealed_round_links_no_answer_to_anyone(app: App, database_url: str) -> None:
    played = await play(app)
    opened = played.answering_began
    await assert_no_shared_transaction_while_open(app, played, database_url)
    closed = datetime.now(UTC)
    async with app.sessionmaker() as db, db.begin():
        view = await reflections.close(db, played.round_id, app.settings)
    assert view.answered == MEMBERS and view.recipients == MEMBERS + 1  # Mo was asked too
    async with app.sessionmaker() as db:
        assert await reflections.compact(db)
    await assert_no_join_and_no_time(app, played, opened, closed)
    if make_url(database_url).get_backend_name() == "postgresql":
        await assert_postgres_leaves_no_order(app, played, database_url)
    else:
        assert_sqlite_file_leaves_no_order(played, database_url)
    # the summary still reads right: every answer, none twice, counts kept
    async with app.sessionmaker() as db:
        data = await reflections.summary(db, played.round_id, app.settings)
    texts = sorted(a.text for _, answers in data.per_question for a in answers)
    assert texts == sorted(played.words(m, q) for m in range(MEMBERS) for q in ("q1", "q2"))
    assert data.answered == MEMBERS and not data.withheld


async def test_the_shared_transaction_is_caught(app: App, database_url: str) -> None:
    """The open-round check is not vacuous: with the answer written in the member's own
    transaction (as before this fix), it fails."""
    import pytest

    played = Round()
    for n in range(MEMBERS):
        played.actors.append(await actor_for(app.sessionmaker, f"Lid{n:02d}"))
    played.round_id = await start_round(app, "anonymous", [])
    for member in played.order:
        async with app.sessionmaker() as db, db.begin():
            result = await reflections.answer(
                db,
                played.actors[member],
                played.round_id,
                {"q1": played.words(member, "q1"), "q2": played.words(member, "q2")},
                confirmed=True,
            )
            for step in result.steps:  # in the same transaction: the old, linkable way
                await step.run(db)
    with pytest.raises(AssertionError):
        await assert_no_shared_transaction_while_open(app, played, database_url)


async def test_a_member_cannot_answer_twice_or_lose_an_acknowledged_answer(app: App) -> None:
    """Two transactions, and still: once answered, no second answer; a failure of the
    second step undoes the mark, so the member can answer again; a closed round is sealed
    even when a second step comes too late."""
    from leerbot.core.errors import ValidationFailed

    others = ["Cem", "Dewi", "Eef", "Fien"]
    round_id = await start_round(app, "anonymous", ["Anna", "Bram", *others])
    anna = await actor_for(app.sessionmaker, "Anna")
    await answer(app, anna, round_id, {"q1": "Een"})
    for name in others:
        await answer(app, await actor_for(app.sessionmaker, name), round_id, {"q1": name})
    try:
        await answer(app, anna, round_id, {"q1": "Twee"})
    except ValidationFailed as exc:
        assert exc.key == "errors.already_answered"
    else:  # pragma: no cover - the assertion message
        raise AssertionError("answered twice")
    bram = await actor_for(app.sessionmaker, "Bram")
    async with app.sessionmaker() as db, db.begin():
        pending = await reflections.answer(db, bram, round_id, {"q1": "Bijna"}, confirmed=True)
    async with app.sessionmaker() as db, db.begin():  # the round closes in between
        await reflections.close(db, round_id, app.settings)
    (step,) = pending.steps
    try:
        async with app.sessionmaker() as db, db.begin():
            await step.run(db)
    except ValidationFailed as exc:
        assert exc.key == "errors.round_closed"  # refused, so never acknowledged
    else:  # pragma: no cover
        raise AssertionError("an answer was stored in a sealed round")
    async with app.sessionmaker() as db:
        data = await reflections.summary(db, round_id, app.settings)
        members = list(await db.scalars(select(Member.display_name)))
    assert sorted(a.text for a in data.per_question[0][1]) == sorted(["Een", *others])
    assert data.answered == 6, "Bram's mark was counted: the one thing a late step leaves"
    assert "Anna" in members
