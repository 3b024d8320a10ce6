"""Benchmark: a large development agenda (ontwikkelagenda).

Seeds one community with ~2,000 members and 10 pilot sites, N points spread over themes,
kinds, levels, statuses and sites (some anonymous), their status history (every point has
its "nieuw" row, about half have one to three further steps) and S supports as unique
(point, member) pairs, with each point's `support_count` equal to its number of supports.
Then measures

1. the coordinator's export of the whole agenda, per format (md, html, csv, docx): wall time
   of `core.agenda.report(...)` and of `exports.agenda.render(...)`, in a pass without
   tracing; then the peak of Python allocations (tracemalloc) in a second, traced pass, and
   the process's max RSS (a high-water mark for the whole process: it only ever grows,
   and lxml's own allocations for docx are not seen by tracemalloc, only by RSS);
2. `/agenda lijst` latency: `core.agenda.listing(...)` in a fresh session per call, as the
   bot does per interaction, with a mix of filters, sorts and pages; p50/p95 per mix and
   overall.

Prints figures with the data size and the machine; asserts nothing.

    python benchmarks/bench_agenda.py            # 100,000 points, 1,000,000 supports
    python benchmarks/bench_agenda.py --smoke    # 2,000 points, 20,000 supports (CI, ~10 s)
    python benchmarks/bench_agenda.py --database-url postgresql+asyncpg://postgres@host/db

With `--database-url` for PostgreSQL a fresh database `leerbot_bench_<random>` is made on
that server (and dropped afterwards, also on error); a SQLite URL is used as it is.

Full size, 2-core x86_64, Python 3.11, 100,000 points, 1,000,000 supports, 85,023 changes
in the period, measured with other work on the machine (load 2–3), so pessimistic:

    format   SQLite: report + render = total   PostgreSQL: report + render = total   peak
    md               1.26 + 1.48 = 2.74 s              1.61 + 1.59 = 3.20 s          151 MiB
    html             1.26 + 2.89 = 4.15 s              1.61 + 4.68 = 6.29 s          165 MiB
    csv              1.26 + 1.17 = 2.43 s              1.61 + 1.15 = 2.76 s          134 MiB
    xlsx             1.26 + 2.36 = 3.62 s              1.61 + 3.39 = 5.00 s          133 MiB
    docx             1.26 + 2.44 = 3.69 s              1.61 + 4.66 = 6.27 s          131 MiB

(peak: Python allocations over report + render, of which the report's data is 98 MiB; md and
html after rendering in chunks.) Before this round of work: report() 5.9 s; md 10.8 s, html
9.8 s, csv 6.3 s, docx 349 s in all; max RSS 615 MiB, 1.3 GiB with the DOCX. What bounds it
now: building one string per cell or line in Python (html: markupsafe escaping of ~800,000
values; xlsx/docx: f-strings and zlib), and reading 100,000 rows (SQLite's text dates, parsed
per quarter hour). /agenda lijst p50 66–82 ms, p95 154–166 ms over 200 calls.
`--skip-memory` leaves out the traced (tracemalloc) pass.
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

from _database import fresh_database  # benchmarks/_database.py
from sqlalchemy import func, insert, select, text
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
        started = time.perf_counter()
        async with app.sessionmaker() as db:
            await core.listing(db, actor, filters, page)
        timings.setdefault(label, []).append((time.perf_counter() - started) * 1000)
    return timings


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# --- main --------------------------------------------------------------------------------


async def run(args: argparse.Namespace, url: str) -> None:
    points = args.points or (2_000 if args.smoke else 100_000)
    supports = args.supports if args.supports is not None else (20_000 if args.smoke else 1_000_000)
    calls = args.calls or (50 if args.smoke else 200)
    began = time.perf_counter()
    settings = load_settings(environ={"LEERBOT_DATABASE_URL": url})
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} {platform.system()} {platform.release()} "
        f"db={make_url(url).get_backend_name()} "
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
        print("export of the whole agenda (report + render):", flush=True)
        exported = await measure_exports(app, seeded.community_id, not args.skip_memory)
        print("listing (/agenda lijst):", flush=True)
        listed = await measure_listing(app, seeded.community_id, calls, points)
    print()
    if exported.error:
        print(f"export failed in report(): {exported.error}")
    else:
        kept = exported.report_kept_mib
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
    print(f"{'/agenda lijst':<22}{'calls':>7}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    everything: list[float] = []
    for label, values in listed.items():
        everything += values
        print(
            f"{label:<22}{len(values):>7}{statistics.median(values):>10.1f}"
            f"{pct(values, 0.95):>10.1f}{max(values):>10.1f}"
        )
    print(
        f"{'all':<22}{len(everything):>7}{statistics.median(everything):>10.1f}"
        f"{pct(everything, 0.95):>10.1f}{max(everything):>10.1f}"
    )
    print(
        f"\ntotal run time: {time.perf_counter() - began:.0f} s; load average at the end "
        f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} (other work on the machine skews figures)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="small run for CI")
    parser.add_argument("--points", type=int, help="default 100,000 (smoke 2,000)")
    parser.add_argument("--supports", type=int, help="default 1,000,000 (smoke 20,000)")
    parser.add_argument("--members", type=int, default=2000)
    parser.add_argument("--calls", type=int, help="listing calls, default 200 (smoke 50)")
    parser.add_argument("--seed", type=int, default=42, help="random seed for the data")
    parser.add_argument(
        "--skip-memory", action="store_true", help="no traced pass (halves the export time)"
    )
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    args = parser.parse_args()
    async with fresh_database(args.database_url) as url:
        await run(args, url)


if __name__ == "__main__":
    asyncio.run(main())
