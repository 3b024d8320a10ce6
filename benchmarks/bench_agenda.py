"""Benchmark: a large development agenda (ontwikkelagenda), at one size or several.

Seeds one community with 2,000 members and 10 pilot sites, N points spread over themes,
kinds, levels, statuses and sites (some anonymous), their status history (every point has
its "nieuw" row, about half have one to three further steps) and 10 supports per point on
average (unique (point, member) pairs, skewed: a few popular points), each point's
`support_count` equal to its number of supports. Then measures, per size:

1. commands as a member meets them, through the dispatcher (one unit of work each, the
   member already known to the bot): propose (the form sent), support (the button), view,
   the list's first page and its "next" button; p50 over `--repeats` runs, beside one raw
   INSERT of a point in its own transaction (the floor; both sides of the ratio are
   printed), and the SQL statements each sends (`before_cursor_execute`);
2. the coordinator's export of the whole agenda, per format: wall time of
   `core.agenda.report(...)` and of `exports.agenda.render(...)`, and the process's max RSS
   (a high-water mark: it only grows); with a traced pass (tracemalloc) unless
   `--skip-memory`;
3. `/agenda lijst` in the core, a fresh session per call: a mix of filters, sorts and
   pages ("next page" with the key the member's button carries), p50/p95; and a few deep
   pages the way an old page-number button asks for them (counted by OFFSET, kept apart).

With several sizes it ends with each figure at every size and the growth ratio (largest
size over smallest): about 1 means the command does not grow with the data. Prints the
data size and the machine; asserts nothing.

    python benchmarks/bench_agenda.py                      # 10,000 and 100,000 points
    python benchmarks/bench_agenda.py --size 100000        # one size
    python benchmarks/bench_agenda.py --smoke              # 2,000 points (CI)
    python benchmarks/bench_agenda.py --database-url postgresql+asyncpg://postgres@host/db

With `--database-url` for PostgreSQL a fresh database `leerbot_bench_<random>` is made on
that server per size (and dropped afterwards, also on error); a SQLite URL is used as it is.

Figures of 2026-12-01 (`--size 10000,100000 --skip-memory`), 2-core x86_64, Python 3.11,
Linux, on a machine shared with other test runs (load average 11-23 throughout): every
millisecond below is pessimistic and noisy; the statement counts are exact.

    statements per command (tests/test_statement_counts.py,    before issue 15   now
    12 and 60 items, both databases; 3 of each count are the
    unit of work: community, member, welcome check)
    agenda propose (the command that opens the form + the form)       18          12
    agenda support (button)                                           23          10
    agenda view                                                        9           6
    /agenda lijst, first page / next page                         35 / 35      8 / 7
    practice export (12 / 60 practices)                          70 / 334      5 / 5
    practice share (five steps)                                       63          43
    /sessie lijst / RSVP                                         64 / 17     9 / 14
    /ronde lijst / an answer sent                                34 / 10      5 / 9
    This benchmark counts the same way, on its data: propose 9, support 11, view 7, a list
    page 7 (first page and next page), at 10,000 and at 100,000 points alike.

    SQLite                                  10,000 points   100,000 points   growth
    raw INSERT of a point, p50                  14.3 ms          9.9 ms
    propose through the dispatcher, p50        137.4 ms         23.4 ms   (9.6x / 2.4x raw)
    support through the dispatcher, p50        183.9 ms         43.5 ms   (12.9x / 4.4x raw)
    view, p50                                   12.1 ms         12.6 ms    1.05x
    list, next page (button), p50               14.6 ms         13.8 ms    0.94x
    list, first page (counts the points), p50   16.4 ms        152.6 ms    9.3x
    export report(), all points                 1.65 s          34.1 s
    export csv / md / docx, in all              2.9 / 4.1 / 7.2 s   48.6 / 83.5 / 82.7 s
    max RSS of the process                      140 MiB          319 MiB

    PostgreSQL                              10,000 points   100,000 points   growth
    raw INSERT of a point, p50                  14.5 ms          9.5 ms
    propose through the dispatcher, p50         46.4 ms         51.7 ms   (3.2x / 5.4x raw)
    support through the dispatcher, p50         74.3 ms         84.3 ms   (5.1x / 8.9x raw)
    view, p50                                   54.6 ms         60.9 ms    1.12x
    list, next page (button), p50               73.1 ms         36.6 ms    0.50x
    list, first page (counts the points), p50   72.6 ms         81.2 ms    1.12x
    export report(), all points                 0.51 s          10.6 s
    export csv / md / docx, in all              1.3 / 1.5 / 2.7 s   17.3 / 21.8 / 23.2 s
    max RSS of the process                      131 MiB          320 MiB
    (seeding: SQLite 69 s and 755 s, PostgreSQL 122 s and 617 s)

What still grows: the first page of a list counts the matching points (an index-only scan,
linear in the points: 9x from 10,000 to 100,000 on SQLite); the next pages do not count
(their button carries the total) and read only their page along the index. A page asked by
number (a button from before keyset paging) still counts past the earlier points (the
"old button" row). The list filters on site and kind had no index of their own in this run
(they were added to migration 0015 after it). The export reads and renders every point:
linear by nature; at 100,000 points on PostgreSQL it completes (the points' ids are a
subquery, never a parameter list).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import platform
import random
import resource
import statistics
import sys
import time
import tracemalloc
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from _database import fresh_database  # benchmarks/_database.py
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.engine import make_url

from leerbot.app import App, open_app
from leerbot.config import load_settings
from leerbot.core import agenda as core
from leerbot.core.actor import system_actor
from leerbot.core.themes import load_themes
from leerbot.db.models import (
    AgendaItem,
    AgendaStatusChange,
    AgendaSupport,
    Community,
    Member,
    Site,
)
from leerbot.exports import agenda as exports

FORMATS = ("md", "html", "csv", "xlsx", "docx")
SITES = (
    ("De Achterkant", "Utrecht"),
    ("Herstelhuis Oost", "Enschede"),
    ("Proeftuin Noord", "Groningen"),
    ("Het Anker", "Rotterdam"),
    ("De Brug", "Amsterdam"),
    ("Inloophuis Zuid", "Eindhoven"),
    ("De Wissel", "Zwolle"),
    ("Buurtkamer West", "Den Haag"),
    ("Het Kompas", "Arnhem"),
    ("De Haven", "Vlissingen"),
)
FIRST = (
    "Anouk Bram Chantal Dirk Esra Fatima Gert Hanneke Ilse Jeroen Karin Lars Mila Noah "
    "Oksana Pieter Rachid Sanne Tim Yara"
).split()
LAST = (
    "de Vries|Jansen|Bakker|Visser|Smit|Meijer|de Boer|Mulder|de Groot|Bos|Vos|Peters|"
    "Hendriks|van Dijk|Yilmaz|El Amrani|Kok|Dekker|Brouwer|van Leeuwen"
).split("|")
TOPICS = (
    "herstelwerkplaatsen",
    "ervaringsdeskundigen in het team",
    "lotgenotengroepen",
    "intervisie met professionals",
    "scholing ervaringsdeskundigheid",
    "doorgroeiplekken",
    "de cliëntenraad",
    "re-integratie en werk",
    "vrijwilligers in de buurt",
    "een kennisbank voor proeftuinen",
    "uitwisseling met Europese projecten",
    "betaalde functies",
    "supervisie voor ervaringswerkers",
    "herstelgerichte taal in dossiers",
)
TITLE_FRAMES = (
    "Meer ruimte voor {t}",
    "Structurele financiering van {t}",
    "Betere samenwerking rond {t}",
    "Knelpunt: {t} bij de gemeente",
    "Wens: {t} in elke regio",
    "Hoe borgen we {t}?",
    "Dilemma bij {t}",
    "Ondersteuning nodig voor {t}",
)
SENTENCES = (
    "In onze proeftuin merken we dat {t} nog te vaak afhangt van één enthousiaste collega.",
    "Ervaringsdeskundigen en professionals willen samen afspraken maken over {t}.",
    "De organisatie heeft geen vast budget, waardoor {t} elk jaar opnieuw onzeker is.",
    "Deelnemers vertellen dat {t} hen helpt om weer regie te nemen over hun leven.",
    "We zoeken voorbeelden van andere locaties waar {t} al goed geregeld is.",
    "Het management staat positief tegenover {t}, maar de uitvoering blijft achter.",
    "Voor {t} is scholing nodig, en tijd om te reflecteren in intervisie.",
)
# Final status → possible paths from "nieuw" (every step allowed by core.TRANSITIONS).
PATHS = {
    "nieuw": ((),),
    "besproken": (("besproken",), ("geparkeerd", "besproken")),
    "in_uitvoering": (("besproken", "in_uitvoering"), ("in_uitvoering",)),
    "afgerond": (("besproken", "afgerond"), ("besproken", "in_uitvoering", "afgerond")),
    "geparkeerd": (("geparkeerd",), ("besproken", "geparkeerd")),
}
STATUS_WEIGHTS = {
    "nieuw": 50,
    "besproken": 20,
    "in_uitvoering": 13,
    "afgerond": 10,
    "geparkeerd": 7,
}
REASONS = (
    "Besproken in het coördinatorenoverleg.",
    "Opgepakt door de werkgroep scholing.",
    "Wacht op de begroting van volgend jaar.",
    "Afgerond: afspraken vastgelegd met de organisatie.",
    "Samen met de cliëntenraad verder uitgewerkt.",
)
CHUNK = 2000


# --- database ----------------------------------------------------------------------------


# --- seed --------------------------------------------------------------------------------


def support_counts(rng: random.Random, points: int, supports: int, members: int) -> list[int]:
    """A skewed spread (a few popular points, many with little support) summing to
    exactly `supports`, at most `members` per point."""
    supports = min(supports, points * members)
    weights = [rng.paretovariate(1.2) for _ in range(points)]
    total = sum(weights)
    counts = [min(members, int(supports * w / total)) for w in weights]
    missing = supports - sum(counts)
    while missing > 0:
        i = rng.randrange(points)
        if counts[i] < members:
            counts[i] += 1
            missing -= 1
    return counts


@dataclass
class Seeded:
    community_id: int
    points: int
    supports: int
    changes: int
    anonymous: int
    members: int
    seconds: float


async def seed(app: App, points: int, supports: int, members: int, seed_: int) -> Seeded:
    """Insert the community in chunks of points, each with its history and supports, so
    that seeding never holds the whole data set in memory (it would hide the export's
    RSS)."""
    started = time.perf_counter()
    rng = random.Random(seed_)
    now = datetime.now(UTC).replace(microsecond=0)
    theme_keys = list(load_themes(app.settings.content_dir))
    statuses, status_w = list(STATUS_WEIGHTS), list(STATUS_WEIGHTS.values())
    counts = support_counts(rng, points, supports, members)
    n_changes = n_anonymous = 0
    async with app.sessionmaker() as db, db.begin():
        community = Community(platform_id="bench-agenda", name="Bench CoL", locale="nl")
        db.add(community)
        await db.flush()
        cid = community.id
        site_ids = []
        for name, city in SITES:
            site = Site(community_id=cid, name=name, name_key=name.casefold(), city=city)
            db.add(site)
            await db.flush()
            site_ids.append(site.id)
        first_member = int(await db.scalar(select(func.coalesce(func.max(Member.id), 0)))) + 1
        member_ids = list(range(first_member, first_member + members))
        rows = [
            {
                "id": mid,
                "community_id": cid,
                "platform_id": f"bench-{mid}",
                "display_name": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                "site_id": rng.choice(site_ids),
                "is_moderator": False,
                "is_coordinator": False,
                "share_lived_experience": False,
                "created_at": now,
                "updated_at": now,
                "welcomed_at": now,  # an established community: nobody is new
            }
            for mid in member_ids
        ]
        for chunk in range(0, len(rows), CHUNK):
            await db.execute(insert(Member), rows[chunk : chunk + CHUNK])
        first_point = int(await db.scalar(select(func.coalesce(func.max(AgendaItem.id), 0)))) + 1
    for start in range(0, points, CHUNK):
        items, changes, supports_rows = [], [], []
        for n in range(start, min(points, start + CHUNK)):
            pid = first_point + n
            topic = rng.choice(TOPICS)
            status = rng.choices(statuses, status_w)[0]
            anonymous = rng.random() < 0.15
            n_anonymous += anonymous
            created = now - timedelta(days=730 * (points - n) / points, minutes=rng.randrange(600))
            items.append(
                {
                    "id": pid,
                    "community_id": cid,
                    "title": rng.choice(TITLE_FRAMES).format(t=topic)[:100],
                    "description": " ".join(
                        s.format(t=topic) for s in rng.sample(SENTENCES, rng.randint(1, 3))
                    ),
                    "theme": rng.choice(theme_keys),
                    "kind": rng.choice(core.KINDS),
                    "level": rng.choice(core.LEVELS),
                    "site_id": None if rng.random() < 0.1 else rng.choice(site_ids),
                    "author_id": None if anonymous else rng.choice(member_ids),
                    "anonymous": anonymous,
                    "status": status,
                    "support_count": counts[n],
                    "created_at": created,
                    "updated_at": created,
                }
            )
            previous, when = None, created
            for step in ("nieuw", *rng.choice(PATHS[status])):
                changes.append(
                    {
                        "item_id": pid,
                        "from_status": previous,
                        "to_status": step,
                        "reason": "" if previous is None else rng.choice(REASONS),
                        "changed_by_id": None if previous is None else rng.choice(member_ids),
                        "created_at": when,
                    }
                )
                previous, when = step, when + timedelta(days=rng.randint(1, 60))
            for mid in rng.sample(member_ids, counts[n]):
                supports_rows.append(
                    {"item_id": pid, "member_id": mid, "created_at": created + timedelta(hours=1)}
                )
        n_changes += len(changes)
        async with app.sessionmaker() as db, db.begin():
            for model, rows in (
                (AgendaItem, items),
                (AgendaStatusChange, changes),
                (AgendaSupport, supports_rows),
            ):
                for chunk in range(0, len(rows), 10_000):
                    await db.execute(insert(model), rows[chunk : chunk + 10_000])
    if app.engine.dialect.name == "postgresql":
        async with app.engine.begin() as conn:  # rows came with their ids: move the sequences
            for table in ("agenda_items", "members"):
                await conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        async with app.engine.connect() as conn:  # what autovacuum would have done by now
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    gc.collect()
    return Seeded(
        cid, points, sum(counts), n_changes, n_anonymous, members, time.perf_counter() - started
    )


# --- measurements ------------------------------------------------------------------------


def max_rss_mib() -> float:
    """The process's max RSS so far (Linux reports KiB, macOS bytes)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


@dataclass
class ExportFigures:
    fmt: str
    render_s: float = 0.0
    size: int = 0
    peak_mib: float | None = None
    render_peak_mib: float | None = None
    rss_mib: float = 0.0
    error: str | None = None


@dataclass
class Exports:
    report_s: float = 0.0
    report_peak_mib: float | None = None
    report_kept_mib: float | None = None
    report_rss_mib: float = 0.0
    changes: int = 0
    formats: list[ExportFigures] = field(default_factory=list)
    error: str | None = None


def _error(exc: Exception) -> str:
    return f"{type(exc).__name__}: {(str(exc).splitlines() or [''])[0][:160]}"


async def _report(app: App, community_id: int) -> core.AgendaReport:
    async with app.sessionmaker() as db:
        return await core.report(db, system_actor(community_id), app.settings, locale="nl")


async def measure_exports(app: App, community_id: int, memory: bool) -> Exports:
    """`report()` does not depend on the format (the same call for every file a
    coordinator asks for), so it is timed once and each format's render after it; the
    traced pass repeats both with tracemalloc, keeping the report's data alive during each
    render as the bot does, so a format's peak is that of report + render."""
    out = Exports()
    gc.collect()
    started = time.perf_counter()
    try:
        data = await _report(app, community_id)
    except Exception as exc:
        out.error = _error(exc)
        return out
    out.report_s = time.perf_counter() - started
    out.report_rss_mib = max_rss_mib()
    out.changes = len(data.changes)
    print(f"  report(): {out.report_s:.1f} s, max RSS {out.report_rss_mib:.0f} MiB", flush=True)
    for fmt in FORMATS:
        figures = ExportFigures(fmt)
        try:
            started = time.perf_counter()
            figures.size = len(exports.render(data, fmt, "nl"))
            figures.render_s = time.perf_counter() - started
        except Exception as exc:  # reported in the table, the other formats still run
            figures.error = _error(exc)
        figures.rss_mib = max_rss_mib()
        out.formats.append(figures)
        print(
            f"  render {fmt}: {figures.render_s:.1f} s, {figures.size:,} bytes, "
            f"max RSS {figures.rss_mib:.0f} MiB",
            flush=True,
        )
    del data
    if not memory:
        return out
    gc.collect()
    tracemalloc.start()
    try:
        data = await _report(app, community_id)
        out.report_kept_mib, peak = (v / 2**20 for v in tracemalloc.get_traced_memory())
        out.report_peak_mib = peak
        print(f"  traced report(): peak {peak:.0f} MiB, kept {out.report_kept_mib:.0f} MiB")
        for figures in out.formats:
            if figures.error:
                continue
            tracemalloc.reset_peak()
            exports.render(data, figures.fmt, "nl")
            figures.render_peak_mib = tracemalloc.get_traced_memory()[1] / 2**20
            figures.peak_mib = max(peak, figures.render_peak_mib)
            print(
                f"  traced render {figures.fmt}: peak {figures.render_peak_mib:.0f} MiB",
                flush=True,
            )
        del data
    finally:
        tracemalloc.stop()
    return out


def listing_mix(rng: random.Random, calls: int, pages: int) -> list[tuple[str, core.Filters, int]]:
    """What coordinators and members click: the default list, filters, date sort, paging."""
    themes = [
        "herstelklimaat",
        "kennisplatform",
        "doorgroei",
        "samenwerking",
        "verzelfstandiging",
        "europa",
    ]
    kinds: list[tuple[str, core.Filters, int]] = []
    for n in range(calls):
        match n % 8:
            case 0:
                kinds.append(("none, p1", core.Filters(), 1))
            case 1:
                kinds.append(("theme", core.Filters(theme=rng.choice(themes)), 1))
            case 2:
                kinds.append(("status", core.Filters(status=rng.choice(core.STATUSES)), 1))
            case 3:
                kinds.append(("sort=date", core.Filters(sort="date"), 1))
            case 4:
                kinds.append(("none, later page", core.Filters(), rng.randint(2, pages)))
            case 5:
                kinds.append(
                    (
                        "theme+status, p2",
                        core.Filters(theme=rng.choice(themes), status=rng.choice(core.STATUSES)),
                        2,
                    )
                )
            case 6:
                kinds.append(("site", core.Filters(site=rng.choice(SITES)[0]), 1))
            case _:
                by_kind = core.Filters(kind=rng.choice(core.KINDS), sort="date")
                kinds.append(("kind, sort=date, p3", by_kind, 3))
    return kinds


async def measure_listing(
    app: App, community_id: int, calls: int, points: int
) -> dict[str, list[float]]:
    actor = system_actor(community_id)
    mix = listing_mix(random.Random(7), calls, max(2, points // core.PAGE_SIZE))
    async with app.sessionmaker() as db:  # warm-up: connection, statement caches
        await core.listing(db, actor, core.Filters(), 1)
    timings: dict[str, list[float]] = {}
    for label, filters, page in mix:
        after = None
        if label == "none, later page":  # the member came there by "next": the key is known
            async with app.sessionmaker() as db:
                after = (await core.listing(db, actor, filters, page - 1)).last
            label = "next page (keyset)"
        started = time.perf_counter()
        async with app.sessionmaker() as db:
            await core.listing(db, actor, filters, page, after=after)
        timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
    deep = random.Random(11)
    for _ in range(max(4, calls // 20)):  # an old button: a deep page counted by OFFSET
        page = deep.randint(2, max(2, points // core.PAGE_SIZE))
        started = time.perf_counter()
        async with app.sessionmaker() as db:
            await core.listing(db, actor, core.Filters(), page)
        timings.setdefault("old button, deep page", []).append(
            (time.perf_counter() - started) * 1000
        )
    return timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- writes, statements per command --------------------------------------------------------


@dataclass
class Commands:
    """Per command as a member meets it (through the dispatcher, one unit of work each):
    p50 in ms and statements; beside them one raw INSERT of a point, the floor."""

    raw_insert_ms: float = 0.0
    p50_ms: dict[str, float] = field(default_factory=dict)
    statements: dict[str, int] = field(default_factory=dict)


class StatementCounter:
    """SQL statements sent while counting (`before_cursor_execute`, as tests/statements.py)."""

    def __init__(self, app: App) -> None:
        self.engine = app.engine.sync_engine
        self.count = 0
        event.listen(self.engine, "before_cursor_execute", self._seen)

    def _seen(self, *args: object) -> None:
        self.count += 1

    def take(self) -> int:
        count, self.count = self.count, 0
        return count

    def close(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


async def measure_commands(app: App, community_id: int, repeats: int) -> Commands:
    from leerbot.chat.context import Place
    from leerbot.core.actor import Function, Identity

    place = Place("bench-agenda", "Bench CoL")
    out = Commands()
    async with app.sessionmaker() as db:
        member_ids = list(
            await db.scalars(
                select(Member.platform_id).where(Member.community_id == community_id).limit(400)
            )
        )
        popular = list(
            await db.scalars(
                select(AgendaItem.id)
                .where(AgendaItem.community_id == community_id)
                .order_by(AgendaItem.support_count)
                .limit(repeats)
            )
        )
    people = [Identity(pid, pid) for pid in member_ids]
    coordinator = Identity("bench-co", "Co", granted_functions=frozenset({Function.COORDINATOR}))
    now = datetime.now(UTC)
    raw = []
    for n in range(repeats):  # the floor: one INSERT of a point in its own transaction
        started = time.perf_counter()
        async with app.engine.begin() as conn:
            await conn.execute(
                insert(AgendaItem).values(
                    community_id=community_id,
                    title=f"Rauw {n}",
                    description="Een punt zonder de bot eromheen.",
                    theme="samenwerking",
                    kind="wens",
                    level="organisatie",
                    anonymous=False,
                    status="nieuw",
                    support_count=0,
                    created_at=now,
                    updated_at=now,
                )
            )
        raw.append((time.perf_counter() - started) * 1000)
    out.raw_insert_ms = statistics.median(raw)
    opened = await app.dispatcher.run_text(
        place,
        people[0],
        ["agenda", "voorstel"],
        {"thema": "samenwerking", "soort": "wens", "niveau": "organisatie"},
    )
    assert opened.form is not None, opened.text
    form_id = opened.form.custom_id
    await app.dispatcher.run_text(place, coordinator, ["help"], {})  # known to the bot
    counter = StatementCounter(app)
    first_page = None
    try:

        async def timed(label: str, action: Any) -> None:
            times, counts = [], []
            for n in range(repeats):
                counter.take()
                started = time.perf_counter()
                reply = await action(n)
                times.append((time.perf_counter() - started) * 1000)
                counts.append(counter.take())
                assert not reply.is_error, (label, reply.text)
            out.p50_ms[label] = statistics.median(times)
            out.statements[label] = max(counts)

        values = {"titel": "Intervisie in elk team", "beschrijving": "Elk team, elke maand."}
        await timed(
            "agenda propose (form sent)",
            lambda n: app.dispatcher.submit(place, people[n % len(people)], form_id, values),
        )
        await timed(
            "agenda support (button)",
            lambda n: app.dispatcher.press(
                place, people[-1 - n % len(people)], f"lb:agenda.support:{popular[n]}"
            ),
        )
        await timed(
            "agenda view",
            lambda n: app.dispatcher.run_text(
                place, people[n], ["agenda", "bekijken"], {"punt": str(popular[n])}
            ),
        )
        await timed(
            "agenda list, page 1",
            lambda n: app.dispatcher.run_text(place, people[n], ["agenda", "lijst"], {}),
        )
        first_page = await app.dispatcher.run_text(place, people[0], ["agenda", "lijst"], {})
        next_id = first_page.buttons[-1].custom_id

        async def next_pages(n: int) -> Any:
            nonlocal next_id
            reply = await app.dispatcher.press(place, people[n], next_id)
            next_id = reply.buttons[-1].custom_id
            return reply

        await timed("agenda list, next page", next_pages)
    finally:
        counter.close()
    return out


# --- main --------------------------------------------------------------------------------


@dataclass
class Figures:
    """The headline figures of one size, compared across sizes at the end."""

    points: int
    values: dict[str, float] = field(default_factory=dict)
    """label → value (ms, s, statements or MiB, as the label says)"""


def machine() -> str:
    return (
        f"{platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} {platform.system()} {platform.release()}"
    ).replace("  ", " ")


async def run(args: argparse.Namespace, url: str, points: int) -> Figures:
    supports = args.supports if args.supports is not None else points * 10
    calls = args.calls or (50 if args.smoke else 200)
    figures = Figures(points)
    began = time.perf_counter()
    settings = load_settings(environ={"LEERBOT_DATABASE_URL": url})
    print(
        f"\n=== {points:,} points, db={make_url(url).get_backend_name()}, machine: {machine()}, "
        f"load={' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    async with open_app(settings) as app:
        seeded = await seed(app, points, supports, args.members, args.seed)
        print(
            f"data: {seeded.points:,} points ({seeded.anonymous:,} anonymous), "
            f"{seeded.supports:,} supports, {seeded.changes:,} status changes, "
            f"{seeded.members:,} members, {len(SITES)} sites; seeded in {seeded.seconds:.1f} s; "
            f"max RSS after seeding {max_rss_mib():.0f} MiB",
            flush=True,
        )
        print("commands through the dispatcher:", flush=True)
        commands = await measure_commands(app, seeded.community_id, args.repeats)
        exported = Exports(error="skipped (--skip-export)")
        if not args.skip_export:
            print("export of the whole agenda (report + render):", flush=True)
            exported = await measure_exports(app, seeded.community_id, not args.skip_memory)
        print("listing (/agenda lijst):", flush=True)
        listed = await measure_listing(app, seeded.community_id, calls, points)
    print()
    print(
        f"{'command (dispatcher)':<30}{'p50 ms':>9}{'raw INSERT ms':>15}{'ratio':>8}"
        f"{'statements':>12}"
    )
    for label, p50 in commands.p50_ms.items():
        print(
            f"{label:<30}{p50:>9.2f}{commands.raw_insert_ms:>15.2f}"
            f"{p50 / commands.raw_insert_ms:>7.1f}x{commands.statements[label]:>12}"
        )
        figures.values[f"{label}: p50 ms"] = p50
        figures.values[f"{label}: statements"] = commands.statements[label]
    figures.values["raw INSERT of a point: p50 ms"] = commands.raw_insert_ms
    print("(ratio: the command's p50 over one raw INSERT of a point in its own transaction)")
    print()
    if exported.error:
        print(f"export: {exported.error}")
    else:
        kept = exported.report_kept_mib
        figures.values["export report(): s"] = exported.report_s
        print(
            f"report(): {exported.report_s:.2f} s for {seeded.points:,} points and "
            f"{exported.changes:,} changes in the period; data kept "
            f"{'-' if kept is None else f'{kept:.0f}'} MiB (tracemalloc), "
            f"max RSS after it {exported.report_rss_mib:.0f} MiB"
        )
        print(
            f"{'format':<7}{'report s':>10}{'render s':>10}{'total s':>10}{'bytes':>13}"
            f"{'py peak MiB':>13}{'in render':>11}{'max RSS MiB':>13}"
        )
        for f in exported.formats:
            if f.error:
                print(f"{f.fmt:<7}  render failed: {f.error}")
                continue
            figures.values[f"export {f.fmt} total: s"] = exported.report_s + f.render_s
            peak = "-" if f.peak_mib is None else f"{f.peak_mib:.0f}"
            in_render = "-" if f.render_peak_mib is None else f"{f.render_peak_mib:.0f}"
            print(
                f"{f.fmt:<7}{exported.report_s:>10.2f}{f.render_s:>10.2f}"
                f"{exported.report_s + f.render_s:>10.2f}{f.size:>13,}{peak:>13}{in_render:>11}"
                f"{f.rss_mib:>13.0f}"
            )
        print("(report s: one timed call, the same for every format; py peak: tracemalloc over")
        print(" report + render in a second, traced pass; in render: the peak while rendering,")
        print(" the report's data included; max RSS: the process high-water mark after that")
        print(" format's untraced render, cumulative; lxml's docx tree is only in RSS)")
    print()
    print(f"{'/agenda lijst (core)':<24}{'calls':>7}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    everything: list[float] = []
    for label, values in listed.items():
        if label != "old button, deep page":
            everything += values
        figures.values[f"list {label}: p50 ms"] = statistics.median(values)
        print(
            f"{label:<24}{len(values):>7}{statistics.median(values):>10.1f}"
            f"{pct(values, 0.95):>10.1f}{max(values):>10.1f}"
        )
    figures.values["list all (without old buttons): p50 ms"] = statistics.median(everything)
    figures.values["list all (without old buttons): p95 ms"] = pct(everything, 0.95)
    print(
        f"{'all but old buttons':<24}{len(everything):>7}{statistics.median(everything):>10.1f}"
        f"{pct(everything, 0.95):>10.1f}{max(everything):>10.1f}"
    )
    figures.values["max RSS: MiB"] = max_rss_mib()
    print(
        f"\nmax RSS of the process so far {max_rss_mib():.0f} MiB; run time "
        f"{time.perf_counter() - began:.0f} s; load average at the end "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    return figures


def growth(all_figures: list[Figures]) -> None:
    """Each figure at every size and the ratio of the largest size's to the smallest's: a
    ratio near 1 means the command does not grow with the data."""
    small, large = all_figures[0], all_figures[-1]
    print(f"\n=== growth from {small.points:,} to {large.points:,} points ({machine()})")
    sizes = "".join(f"{f.points:>12,}" for f in all_figures)
    print(f"{'figure':<46}{sizes}{'ratio':>9}")
    for label in large.values:
        if label not in small.values:
            continue
        values = "".join(f"{f.values.get(label, float('nan')):>12.2f}" for f in all_figures)
        ratio = large.values[label] / small.values[label] if small.values[label] else float("nan")
        print(f"{label:<46}{values}{ratio:>8.2f}x")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="small run for CI")
    parser.add_argument(
        "--size",
        type=lambda text: [int(x) for x in text.replace("_", "").split(",")],
        help="points; several sizes comma-separated (default 10000,100000; smoke 2000)",
    )
    parser.add_argument("--points", type=int, help="the same as --size with one size")
    parser.add_argument("--supports", type=int, help="default 10 per point")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--calls", type=int, help="listing calls, default 200 (smoke 50)")
    parser.add_argument("--repeats", type=int, default=30, help="runs of each command")
    parser.add_argument("--seed", type=int, default=42, help="random seed for the data")
    parser.add_argument(
        "--skip-memory", action="store_true", help="no traced pass (halves the export time)"
    )
    parser.add_argument("--skip-export", action="store_true", help="no export measurements")
    parser.add_argument("--database-url", help="default: a fresh SQLite file per size")
    args = parser.parse_args()
    sizes = args.size or ([args.points] if args.points else None)
    sizes = sizes or ([2_000] if args.smoke else [10_000, 100_000])
    all_figures = []
    for points in sizes:
        async with fresh_database(args.database_url) as url:
            all_figures.append(await run(args, url, points))
    if len(all_figures) > 1:
        growth(all_figures)


if __name__ == "__main__":
    asyncio.run(main())
