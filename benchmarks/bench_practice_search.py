"""Benchmark: Dutch full-text search over a large practice log, against a LIKE scan.

Generates N shared practices of Dutch text (titles, "context", "wat we doen" and "waarom
het werkt" sentences about herstel, ervaringsdeskundigen, lotgenotengroepen, trainingen,
intervisie, wandelen, werk en re-integratie, vrijwilligers, de buurt, de cliëntenraad…),
indexes each through `leerbot.search.practices.index` (as sharing does), then runs ten
realistic queries R times each with

- FTS: `leerbot.search.practices.find(db, query, Scope(community), limit=PAGE_SIZE)`, the
  ranked query member search runs: page 1 (5 practices, best first) and the number of
  hits, over the shared, visible practices of the community (SQLite FTS5 with Python
  Snowball stems and bm25; PostgreSQL tsvector/GIN with the `dutch` configuration and
  ts_rank). Ranking needs every hit of the community, so its cost grows with the hits.
- LIKE: `leerbot.search.practices.like_scan(db, query, community, limit=PAGE_SIZE)`, the
  same answer (page 1 and the total) the naive way: for every word
  `lower(title || ' ' || what_we_do || ' ' || context || ' ' || why_it_works) LIKE
  '%word%'` on every shared, visible practice of the community (the total makes it read
  every row; it orders by id, it does not rank),
- core: `leerbot.core.practices.search(db, actor, query)`, page 1 as a member gets it (the
  ranked query above, then five practice views),

one fresh session per call, the methods interleaved. Prints the data size, the machine,
p50/p95 per method, the ratio LIKE/FTS with both sides, per query the medians and hit
counts, and the peak RSS of the process. With several sizes (`--size 10000,100000`) it
prints how the figures grow from the smallest to the largest. The two methods do not find
the same things: FTS matches stems of whole words (*trainingen* finds *training*), LIKE
matches substrings (*werk* finds *vrijwilligerswerk*, *wijk* finds *afwijken*). Asserts
nothing.

    python benchmarks/bench_practice_search.py                      # 100,000, SQLite
    python benchmarks/bench_practice_search.py --size 10000,100000 --both
    python benchmarks/bench_practice_search.py --smoke               # 5,000 (CI)
    python benchmarks/bench_practice_search.py --database-url postgresql+asyncpg://...

With a PostgreSQL URL a fresh database `leerbot_bench_<random>` is made on that server,
migrated, and dropped afterwards (also on error); `--both` uses `--database-url` or
postgresql+asyncpg://postgres@127.0.0.1:5432/test for its PostgreSQL half. After loading,
PostgreSQL gets VACUUM ANALYZE (what autovacuum does for a real database: statistics, and
the GIN index's pending list merged); SQLite gets nothing, as leerbot runs no ANALYZE.
The SQLite file lives in a temporary folder that is removed afterwards.

Run time on a 2-core x86_64 (measured with other work on the machine): `--both --size
10000,100000` about 25 minutes, most of it loading and indexing 100,000 practices twice.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import resource
import statistics
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from _database import fresh_database  # benchmarks/_database.py
from sqlalchemy import func, insert, select, text

from leerbot.app import App, open_app
from leerbot.config import load_settings
from leerbot.core import practices as core
from leerbot.core.actor import system_actor
from leerbot.core.themes import load_themes
from leerbot.db.models import Community, Member, Practice, Site
from leerbot.search import practices as search_index

DEFAULT_POSTGRES = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
QUERIES = (
    "trainingen ervaringsdeskundigen",
    "lotgenotengroep",
    "wandelen in de wijk",
    "intervisie professionals",
    "werk en re-integratie",
    "vrijwilligers buurt",
    "cliëntenraad",
    "herstelwerkplaats jongeren",
    "schulden",
    "ouders met psychische kwetsbaarheid",
)

# --- Dutch text ------------------------------------------------------------------------
# Activities with a weight (some common, some rare), each with the words a practice about
# it uses: a title, what is done, and the nouns that come back in the other sentences.


@dataclass(frozen=True)
class Activity:
    weight: int
    titles: tuple[str, ...]
    doing: tuple[str, ...]


ACTIVITIES = (
    Activity(
        6,
        (
            "Herstelwerkplaats voor {groep}",
            "Herstelwerkplaatsen in {plaats}",
            "WRAP-training door ervaringsdeskundigen",
        ),
        (
            "In de herstelwerkplaats werken deelnemers in acht bijeenkomsten aan hun eigen "
            "herstelverhaal.",
            "Twee ervaringsdeskundigen begeleiden de training, een professional sluit aan "
            "als toehoorder.",
            "We gebruiken het werkboek Herstellen doe je zelf en bespreken elke week één thema.",
        ),
    ),
    Activity(
        6,
        (
            "Lotgenotengroep voor {groep}",
            "Lotgenotencontact in {plaats}",
            "Lotgenotengroepen op zaterdag",
        ),
        (
            "Eens per twee weken komt de lotgenotengroep samen in het buurthuis.",
            "Deelnemers delen ervaringen en steunen elkaar zonder oordeel; een "
            "ervaringsdeskundige zit de groep voor.",
            "Nieuwe lotgenoten kunnen altijd aanschuiven, aanmelden is niet nodig.",
        ),
    ),
    Activity(
        6,
        (
            "Trainingen voor ervaringsdeskundigen",
            "Training ervaringsdeskundigheid in {plaats}",
            "Scholing voor ervaringswerkers",
        ),
        (
            "Ervaringsdeskundigen volgen een training van tien dagdelen over het inzetten "
            "van eigen ervaring.",
            "De trainingen worden gegeven door een ervaringsdeskundige trainer en een "
            "docent van de hogeschool.",
            "Na de training lopen deelnemers stage in een team van de organisatie.",
        ),
    ),
    Activity(
        5,
        (
            "Intervisie voor professionals en ervaringsdeskundigen",
            "Intervisiegroep in {plaats}",
            "Gezamenlijke intervisie met de casusmethode",
        ),
        (
            "Professionals en ervaringsdeskundigen bespreken maandelijks een casus in intervisie.",
            "We werken met de incidentmethode en wisselen de rol van voorzitter af.",
            "De intervisie gaat over dilemma's in het werk, niet over cliënten die "
            "herkenbaar zijn.",
        ),
    ),
    Activity(
        4,
        (
            "Wandelgroep in de wijk",
            "Samen wandelen in {plaats}",
            "Wandelen en praten met {groep}",
        ),
        (
            "Elke dinsdag wandelen we een uur door de wijk, daarna drinken we koffie.",
            "Tijdens het wandelen praat het makkelijker dan aan tafel.",
            "De wandeling start bij het wijkcentrum en is voor iedereen toegankelijk.",
        ),
    ),
    Activity(
        5,
        (
            "Re-integratie via vrijwilligerswerk",
            "Van dagbesteding naar betaald werk",
            "Werk en re-integratie voor {groep}",
        ),
        (
            "Een jobcoach met eigen ervaring begeleidt deelnemers naar werk of een opleiding.",
            "We zoeken samen met werkgevers in {plaats} naar passende werkplekken.",
            "Deelnemers beginnen met vrijwilligerswerk en groeien door naar een betaalde baan.",
        ),
    ),
    Activity(
        5,
        (
            "Buurtkamer met vrijwilligers",
            "Vrijwilligers in de buurt",
            "Inloop in de buurtkamer in {plaats}",
        ),
        (
            "Vrijwilligers uit de buurt houden de buurtkamer vier middagen per week open.",
            "Buurtbewoners en mensen met psychische klachten ontmoeten elkaar bij een maaltijd.",
            "De vrijwilliger is gastvrouw of gastheer en wijst de weg naar hulp.",
        ),
    ),
    Activity(
        3,
        (
            "De cliëntenraad denkt mee",
            "Cliëntenraad en medezeggenschap in {plaats}",
            "Ongevraagd advies van de cliëntenraad",
        ),
        (
            "De cliëntenraad geeft gevraagd en ongevraagd advies over het beleid van de "
            "organisatie.",
            "Leden van de cliëntenraad worden getraind in vergaderen en onderhandelen.",
            "Medezeggenschap begint bij de vraag wat cliënten zelf belangrijk vinden.",
        ),
    ),
    Activity(
        2,
        (
            "Geldzorgen en schulden bespreekbaar maken",
            "Schuldhulp met ervaringsdeskundigen",
            "Grip op geld voor {groep}",
        ),
        (
            "Een ervaringsdeskundige helpt deelnemers hun schulden in kaart te brengen.",
            "We werken samen met de schuldhulpverlening van de gemeente {plaats}.",
            "Geldzorgen worden bespreekbaar in een kleine groep met lotgenoten.",
        ),
    ),
    Activity(
        2,
        (
            "Steungroep voor ouders",
            "Ouders met psychische kwetsbaarheid",
            "KOPP-groep voor kinderen en ouders",
        ),
        (
            "Ouders met een psychische kwetsbaarheid delen hoe zij de opvoeding volhouden.",
            "Kinderen van ouders met psychische problemen krijgen een eigen groep.",
            "Het gezin kiest zelf welke ondersteuning past.",
        ),
    ),
    # a long tail of other practices, so that a query's topic is a few per cent of the log
    Activity(
        5,
        ("Herstelcafé op vrijdagavond", "Herstelcafé in {plaats}", "Een herstelcafé voor {groep}"),
        (
            "In het herstelcafé vertellen bezoekers elkaar hoe het met hun herstel gaat.",
            "Er is koffie, soep en een open microfoon voor wie iets wil delen.",
            "Het café wordt gerund door bezoekers zelf, met steun van een sociaal werker.",
        ),
    ),
    Activity(
        4,
        ("Atelier voor kunst en herstel", "Creatief atelier in {plaats}", "Schilderen met {groep}"),
        (
            "In het atelier schilderen, boetseren en fotograferen deelnemers in hun eigen tempo.",
            "Eens per jaar exposeren we het werk van deelnemers in de bibliotheek.",
            "Een kunstenaar met eigen ervaring geeft technieken mee en laat ruimte voor gesprek.",
        ),
    ),
    Activity(
        4,
        ("Moestuin als ontmoetingsplek", "Tuinieren in {plaats}", "Stadstuin voor {groep}"),
        (
            "Deelnemers zaaien, wieden en oogsten samen in een moestuin aan de rand van de stad.",
            "De oogst gaat naar de voedselbank en naar de gezamenlijke lunch.",
            "Buiten bezig zijn geeft rust in het hoofd en een reden om de deur uit te gaan.",
        ),
    ),
    Activity(
        4,
        ("Samen sporten", "Bootcamp voor {groep}", "Zwemmen en fitness in {plaats}"),
        (
            "Twee keer per week sporten we in de gymzaal met een trainer van de sportclub.",
            "Bewegen helpt tegen somberheid en slapeloosheid, merken deelnemers.",
            "Wie niet kan meedoen, helpt bij de organisatie of komt kijken.",
        ),
    ),
    Activity(
        4,
        ("Kookgroep", "Samen koken en eten in {plaats}", "Gezond koken voor {groep}"),
        (
            "Deelnemers bedenken een menu, doen boodschappen met een klein budget en koken samen.",
            "Na het eten wassen we samen af; daar ontstaan vaak de beste gesprekken.",
            "Het recept van de week gaat mee naar huis.",
        ),
    ),
    Activity(
        4,
        ("Housing First in {plaats}", "Begeleid zelfstandig wonen", "Een eigen huis als basis"),
        (
            "Dak- en thuislozen krijgen eerst een eigen woning, daarna volgt begeleiding.",
            "Een woonbegeleider komt thuis en helpt met post, huur en contact met de buren.",
            "De corporatie en de zorgaanbieder maken samen afspraken over overlast.",
        ),
    ),
    Activity(
        3,
        ("Digitaal café", "Online ontmoeten voor {groep}", "Digitale vaardigheden in {plaats}"),
        (
            "Vrijdagochtend helpen we deelnemers met hun telefoon, DigiD en videobellen.",
            "Online bijeenkomsten maken het makkelijker voor wie moeilijk de deur uit komt.",
            "Jongeren met digitale kennis leren ouderen de weg op internet.",
        ),
    ),
    Activity(
        3,
        ("De crisiskaart", "Signaleringsplan samen opstellen", "Crisiskaart in {plaats}"),
        (
            "Een consulent helpt deelnemers hun crisiskaart op te stellen, met eigen woorden.",
            "In het signaleringsplan staat wat iemand merkt als het slechter gaat, en wat helpt.",
            "De kaart is in crisissituaties bekend bij politie en crisisdienst.",
        ),
    ),
    Activity(
        4,
        ("Naastengroep", "Familie-ervaringsdeskundigheid", "Steun voor naasten in {plaats}"),
        (
            "Naasten en familieleden delen hun zorgen en leren grenzen te stellen.",
            "Een familie-ervaringsdeskundige sluit aan bij gesprekken met het behandelteam.",
            "We betrekken naasten vanaf het eerste gesprek, als de cliënt dat wil.",
        ),
    ),
    Activity(
        3,
        ("Voorlichting op scholen", "Stigma doorbreken in {plaats}", "Gastlessen over herstel"),
        (
            "Ervaringsdeskundigen geven gastlessen op middelbare scholen en het mbo.",
            "Leerlingen stellen vragen die ze thuis niet durven stellen.",
            "Eerlijke verhalen doorbreken vooroordelen over psychische aandoeningen.",
        ),
    ),
    Activity(
        3,
        ("Zingevingsgesprekken", "Rouw en verlies", "Een geestelijk verzorger in de wijk"),
        (
            "Een geestelijk verzorger voert gesprekken over zingeving, schuld en verlies.",
            "De gesprekken zijn gratis en vinden plaats waar de deelnemer zich prettig voelt.",
            "Rouw krijgt een plek, ook als het verlies al lang geleden is.",
        ),
    ),
    Activity(
        3,
        ("Muziekgroep", "Samen zingen in {plaats}", "Een band voor {groep}"),
        (
            "Elke maandag repeteert de band in de oefenruimte van het jongerencentrum.",
            "Samen zingen geeft energie en vraagt niets uit te leggen.",
            "Aan het eind van het seizoen geven we een optreden voor familie en buren.",
        ),
    ),
    Activity(
        3,
        ("Mindfulness en ontspanning", "Slaapgroep", "Rust vinden in {plaats}"),
        (
            "In acht lessen oefenen deelnemers met ademhaling, aandacht en ontspanning.",
            "We bespreken wat helpt om beter te slapen zonder medicatie.",
            "Thuis oefenen deelnemers met korte opnames.",
        ),
    ),
    Activity(
        4,
        (
            "Ervaringsdeskundige op de crisisdienst",
            "Peer support in de kliniek",
            "Herstelgerichte zorg op de afdeling",
        ),
        (
            "Op de opnameafdeling werkt een ervaringswerker mee in elke dienst.",
            "De ervaringswerker is er voor het gesprek, niet voor de behandeling.",
            "Het team evalueert separaties en zoekt samen naar alternatieven.",
        ),
    ),
    Activity(
        2,
        (
            "Verslavingsherstel met lotgenoten",
            "Herstelgroep na detox",
            "Nuchter blijven in {plaats}",
        ),
        (
            "Na de detox sluiten deelnemers aan bij een herstelgroep van ervaringsdeskundigen.",
            "We werken met de twaalf stappen, maar wie dat niet wil, is ook welkom.",
            "Terugval bespreken we zonder schaamte: het hoort bij herstel.",
        ),
    ),
)
GROUPS = (
    "jongeren",
    "ouderen",
    "mensen met een verslaving",
    "mensen met psychische klachten",
    "dak- en thuislozen",
    "nieuwkomers",
    "mantelzorgers",
    "jongvolwassenen",
)
PLACES = (
    "Utrecht",
    "Rotterdam",
    "Groningen",
    "Enschede",
    "Eindhoven",
    "Zwolle",
    "Amsterdam-Noord",
    "Den Haag",
    "Arnhem",
    "Maastricht",
    "Leeuwarden",
    "Vlissingen",
)
CONTEXT = (
    "De proeftuin is onderdeel van een instelling voor verslavingszorg in {plaats}.",
    "We werken in een wijk met veel eenzaamheid en weinig voorzieningen.",
    "Het idee ontstond in de ggz, nadat cliënten vroegen om meer contact met lotgenoten.",
    "De maatschappelijke opvang in {plaats} zocht een manier om herstel centraal te zetten.",
    "Het team bestaat uit professionals, ervaringsdeskundigen en vrijwilligers.",
    "De gemeente financiert het project voor drie jaar vanuit de Wmo.",
    "Veel deelnemers zijn {groep} die lang in zorg zijn geweest.",
    "Een wijkteam verwijst mensen door die niet meer weten waar ze terecht kunnen.",
    "We begonnen klein, met een handvol deelnemers en één vaste ruimte.",
    "Afwijken van het protocol mag, als de deelnemer dat vraagt.",
)
WHY = (
    "Herkenning door een ervaringsdeskundige geeft hoop: het kan dus wel.",
    "Deelnemers voelen zich gezien als mens en niet als diagnose.",
    "Het herstel staat centraal, niet de klachten.",
    "Door samen te werken leren professionals de taal van herstel.",
    "De lage drempel maakt dat mensen blijven komen.",
    "Vaste momenten geven structuur aan de week.",
    "Eigen regie groeit als mensen zelf kiezen wat ze willen leren.",
    "Het contact met de buurt doorbreekt eenzaamheid en stigma.",
    "Werk geeft betekenis, een ritme en een eigen inkomen.",
    "Vrijwilligers en deelnemers zijn gelijkwaardig: iedereen heeft iets te bieden.",
)
LEVELS = ("institutioneel", "organisatie", "interpersoonlijk")


def practice_text(rng: random.Random) -> tuple[str, str, str, str]:
    """(title, context, what_we_do, why_it_works) of one practice."""
    activity = rng.choices(ACTIVITIES, [a.weight for a in ACTIVITIES])[0]
    slots = {"groep": rng.choice(GROUPS), "plaats": rng.choice(PLACES)}
    title = rng.choice(activity.titles).format(**slots)
    what = " ".join(rng.sample(activity.doing, rng.randint(2, 3))).format(**slots)
    context = " ".join(rng.sample(CONTEXT, rng.randint(1, 3))).format(**slots)
    why = " ".join(rng.sample(WHY, rng.randint(1, 3)))
    return title[:100], context, what, why


# --- database ----------------------------------------------------------------------------


@dataclass
class Seeded:
    community_id: int
    practices: int
    text_mib: float
    insert_s: float
    index_s: float
    maintenance_s: float


async def seed(app: App, practices: int, batch: int, seed_: int) -> Seeded:
    """Insert the practices in bulk, then index each through `search.practices.index`
    in transactions of `batch` practices (sharing indexes one practice at a time)."""
    rng = random.Random(seed_)
    now = datetime.now(UTC).replace(microsecond=0)
    themes = list(load_themes(app.settings.content_dir))
    started = time.perf_counter()
    async with app.sessionmaker() as db, db.begin():
        community = Community(platform_id="bench-practices", name="Bench CoL", locale="nl")
        db.add(community)
        await db.flush()
        cid = community.id
        site_ids = []
        for place in PLACES[:10]:
            site = Site(community_id=cid, name=f"Proeftuin {place}", name_key=f"proeftuin {place}")
            db.add(site)
            await db.flush()
            site_ids.append(site.id)
        first_member = int(await db.scalar(select(func.coalesce(func.max(Member.id), 0)))) + 1
        member_ids = list(range(first_member, first_member + 200))
        await db.execute(
            insert(Member),
            [
                {
                    "id": mid,
                    "community_id": cid,
                    "platform_id": f"bench-{mid}",
                    "display_name": f"Lid {mid}",
                    "is_moderator": False,
                    "is_coordinator": False,
                    "share_lived_experience": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for mid in member_ids
            ],
        )
        first_id = int(await db.scalar(select(func.coalesce(func.max(Practice.id), 0)))) + 1
    documents: list[tuple[int, str, str]] = []
    chars = 0
    for start in range(0, practices, batch):
        rows = []
        for n in range(start, min(practices, start + batch)):
            pid = first_id + n
            title, context, what, why = practice_text(rng)
            anonymous = rng.random() < 0.1
            shared = now - timedelta(days=rng.randint(0, 1000))
            row = {
                "id": pid,
                "community_id": cid,
                "title": title,
                "site_id": rng.choice(site_ids),
                "theme": rng.choice(themes),
                "level": rng.choice(LEVELS),
                "tags": [],
                "author_id": None if anonymous else rng.choice(member_ids),
                "anonymous": anonymous,
                "state": "shared",
                "shared_at": shared,
                "created_at": shared,
                "updated_at": shared,
                **dict.fromkeys(core.TEXT_FIELDS, ""),
                "context": context,
                "what_we_do": what,
                "why_it_works": why,
            }
            rows.append(row)
            # the body exactly as core.practices builds it when a practice is shared
            body = "\n".join(p for p in [row[f] for f in core.TEXT_FIELDS] if p)
            documents.append((pid, title, body))
            chars += len(title) + len(body)
        async with app.sessionmaker() as db, db.begin():
            await db.execute(insert(Practice), rows)
    inserted = time.perf_counter()
    for start in range(0, len(documents), batch):
        async with app.sessionmaker() as db, db.begin():
            for pid, title, body in documents[start : start + batch]:
                await search_index.index(db, pid, title, body)
    indexed = time.perf_counter()
    if app.engine.dialect.name == "postgresql":
        async with app.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE"))
    return Seeded(
        cid,
        practices,
        chars / 2**20,
        inserted - started,
        indexed - inserted,
        time.perf_counter() - indexed,
    )


# --- measurements ------------------------------------------------------------------------


@dataclass
class Result:
    db: str
    seeded: Seeded
    runs: int
    times: dict[str, dict[str, list[float]]] = field(default_factory=dict)  # method→query→ms
    hits: dict[str, tuple[int, int]] = field(default_factory=dict)  # query→(FTS, LIKE) totals


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def overall(result: Result, method: str) -> list[float]:
    return [v for vs in result.times[method].values() for v in vs]


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def measure(app: App, seeded: Seeded, runs: int) -> Result:
    actor = system_actor(seeded.community_id)
    scope = search_index.Scope(seeded.community_id)
    result = Result(app.engine.dialect.name, seeded, runs)

    def fts(query: str) -> Callable[..., Awaitable[object]]:
        return lambda db: search_index.find(db, query, scope, limit=core.PAGE_SIZE)

    def like(query: str) -> Callable[..., Awaitable[object]]:
        return lambda db: search_index.like_scan(
            db, query, seeded.community_id, limit=core.PAGE_SIZE
        )

    def member(query: str) -> Callable[..., Awaitable[object]]:
        return lambda db: core.search(db, actor, query)

    methods = {"FTS": fts, "LIKE": like, "core": member}
    async with app.sessionmaker() as db:  # warm-up (caches, statements); hit counts
        for query in QUERIES:
            for make in methods.values():
                await make(query)(db)
            (_, found), (_, liked) = await fts(query)(db), await like(query)(db)
            result.hits[query] = (found, liked)
    for name in methods:
        result.times[name] = {q: [] for q in QUERIES}
    for _ in range(runs):
        for query in QUERIES:
            for name, make in methods.items():
                call = make(query)
                started = time.perf_counter()
                async with app.sessionmaker() as db:
                    await call(db)
                result.times[name][query].append((time.perf_counter() - started) * 1000)
    return result


def report(result: Result) -> None:
    s = result.seeded
    print(
        f"\n== {result.db}: {s.practices:,} shared practices in one community, "
        f"{s.text_mib:.0f} MiB of text; insert {s.insert_s:.1f} s, index {s.index_s:.1f} s "
        f"({s.practices / max(s.index_s, 1e-9):,.0f} practices/s)"
        + (f", VACUUM ANALYZE {s.maintenance_s:.1f} s" if result.db == "postgresql" else "")
    )
    print(
        f"   {len(QUERIES)} queries x {result.runs} runs per method; each answers page 1 "
        f"({core.PAGE_SIZE} practices) and the number of hits"
    )
    print(f"{'method':<8}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for name in result.times:
        values = overall(result, name)
        print(
            f"{name:<8}{statistics.median(values):>10.2f}{pct(values, 0.95):>10.2f}"
            f"{max(values):>10.2f}"
        )
    fts, like = overall(result, "FTS"), overall(result, "LIKE")
    print(
        f"ratio LIKE/FTS: p50 {statistics.median(like):.2f}/{statistics.median(fts):.2f} ms = "
        f"{statistics.median(like) / statistics.median(fts):.1f}x, p95 {pct(like, 0.95):.2f}/"
        f"{pct(fts, 0.95):.2f} ms = {pct(like, 0.95) / pct(fts, 0.95):.1f}x "
        f"(LIKE: {search_index.LIKE_TEXT} LIKE '%word%' for every word, every shared practice "
        "of the community)"
    )
    print(
        f"\n{'query':<37}{'FTS p50':>9}{'LIKE p50':>10}{'ratio':>7}{'core p50':>10}"
        f"{'hits FTS':>15}{'hits LIKE':>15}"
    )
    for query in QUERIES:
        f = statistics.median(result.times["FTS"][query])
        lk = statistics.median(result.times["LIKE"][query])
        c = statistics.median(result.times["core"][query])
        hits_fts, hits_like = result.hits[query]
        print(
            f"{query:<37}{f:>9.2f}{lk:>10.2f}{lk / f:>6.1f}x{c:>10.2f}"
            f"{hits_fts:>8,} {100 * hits_fts / s.practices:>4.1f}%"
            f"{hits_like:>8,} {100 * hits_like / s.practices:>4.1f}%"
        )
    print("(ms; hits: all matches in the community, and their share of the practices;")
    print(" FTS matches stemmed words, LIKE matches parts of words)")
    print(f"peak RSS of this process so far: {peak_rss_mib():.0f} MiB")


async def run(args: argparse.Namespace, url: str | None, practices: int, runs: int) -> Result:
    async with fresh_database(url) as real_url:
        settings = load_settings(environ={"LEERBOT_DATABASE_URL": real_url})
        async with open_app(settings) as app:
            print(f"{app.engine.dialect.name}: loading {practices:,} practices…", flush=True)
            seeded = await seed(app, practices, args.batch, args.seed)
            print(f"{app.engine.dialect.name}: measuring…", flush=True)
            result = await measure(app, seeded, runs)
    report(result)
    return result


def sizes(text: str) -> list[int]:
    return [int(part.replace("_", "")) for part in text.split(",") if part.strip()]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--smoke", action="store_true", help="small run for CI")
    parser.add_argument(
        "--size",
        "--practices",
        type=sizes,
        help="practices, or several sizes separated by commas (growth between them); "
        "default 100000 (smoke 5000)",
    )
    parser.add_argument("--runs", type=int, help="runs per query and method, default 20 (5)")
    parser.add_argument("--batch", type=int, default=2000, help="practices per transaction")
    parser.add_argument("--seed", type=int, default=42, help="random seed for the text")
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--both", action="store_true", help="SQLite, then PostgreSQL")
    args = parser.parse_args()
    counts = args.size or [5_000 if args.smoke else 100_000]
    runs = args.runs or (5 if args.smoke else 20)
    began = time.perf_counter()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''} cpus={os.cpu_count()} "
        f"python={platform.python_version()} {platform.system()} {platform.release()} "
        f"load={' '.join(f'{x:.1f}' for x in os.getloadavg())}",
        flush=True,
    )
    print(f"data: {', '.join(f'{n:,}' for n in counts)} practices; {runs} runs per query")
    urls = [None, args.database_url or DEFAULT_POSTGRES] if args.both else [args.database_url]
    results = [await run(args, url, n, runs) for url in urls for n in counts]
    print(
        f"\n{'database':<12}{'practices':>10}{'FTS p50':>9}{'FTS p95':>9}{'LIKE p50':>10}"
        f"{'LIKE p95':>10}{'x p50':>7}{'x p95':>7}{'core p50':>10}{'core p95':>10}"
    )
    for r in results:
        fts, like, mine = overall(r, "FTS"), overall(r, "LIKE"), overall(r, "core")
        print(
            f"{r.db:<12}{r.seeded.practices:>10,}{statistics.median(fts):>9.2f}"
            f"{pct(fts, 0.95):>9.2f}{statistics.median(like):>10.2f}{pct(like, 0.95):>10.2f}"
            f"{statistics.median(like) / statistics.median(fts):>6.1f}x"
            f"{pct(like, 0.95) / pct(fts, 0.95):>6.1f}x"
            f"{statistics.median(mine):>10.2f}{pct(mine, 0.95):>10.2f}"
        )
    if len(counts) > 1:
        print(
            f"\ngrowth from {counts[0]:,} to {counts[-1]:,} practices "
            f"({counts[-1] / counts[0]:.0f}x data):"
        )
        for db in dict.fromkeys(r.db for r in results):
            small = next(r for r in results if r.db == db and r.seeded.practices == counts[0])
            large = next(r for r in results if r.db == db and r.seeded.practices == counts[-1])
            parts = []
            for name in ("FTS", "LIKE", "core"):
                a, b = overall(small, name), overall(large, name)
                parts.append(
                    f"{name} p50 {statistics.median(a):.2f} -> {statistics.median(b):.2f} ms "
                    f"({statistics.median(b) / statistics.median(a):.1f}x), p95 "
                    f"{pct(a, 0.95):.2f} -> {pct(b, 0.95):.2f} ms "
                    f"({pct(b, 0.95) / pct(a, 0.95):.1f}x)"
                )
            print(f"  {db}: " + "; ".join(parts))
    print(
        f"\npeak RSS: {peak_rss_mib():.0f} MiB; "
        f"total run time: {time.perf_counter() - began:.0f} s;"
        f" load average at the end {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
        "(other work on the machine skews figures)"
    )


if __name__ == "__main__":
    asyncio.run(main())
