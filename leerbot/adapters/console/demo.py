"""A small demo community, so a newcomer sees something at once: the four pilot sites
(proeftuinen) of the 2012 Community of Learners, as the factsheet "Liggen we op Koers?"
(Kennisnetwerk Het Zwarte Gat and IVO, 2012) describes them. All four are in addiction care
(verslavingszorg). A site is the project; the organisation runs it:

- Ervaringsdeskundigen Trainen Zorgprofessionals (ETZ), run by De Achterkant in Utrecht: a
  partnership of six client councils and Stichting G.O.U.D.;
- Cliënten Service Desk, at Arkin in Amsterdam;
- Help mijn buurman (ver)zuipt, at VNN (Verslavingszorg Noord Nederland) in Emmen and
  Hoogeveen;
- Kunstwerkplaats 4B, at Verslavingszorg Vincent van Gogh in Venray.

The descriptions and the place names that differ by language are in prompts/*/console.yaml
(`console.demo`), in the language the console speaks when the demo is made.
"""

from __future__ import annotations

from dataclasses import dataclass

from leerbot.adapters.console.session import CONSOLE_PLACE, Who, parse_command_line
from leerbot.chat.dispatch import Dispatcher
from leerbot.i18n import translate

COORDINATOR = Who("Coördinator", "coordinator")


@dataclass(frozen=True)
class DemoSite:
    key: str  # console.demo.<key>.description (and .city when the place is two towns)
    name: str
    organisation: str
    city: str | None  # None: console.demo.<key>.city
    kind: str = "verslavingszorg"


DEMO_SITES: tuple[DemoSite, ...] = (
    DemoSite("etz", "ETZ", "De Achterkant", "Utrecht"),
    DemoSite("csd", "Cliënten Service Desk", "Arkin", "Amsterdam"),
    DemoSite(
        "buurman",
        "Help mijn buurman (ver)zuipt",
        "Verslavingszorg Noord Nederland (VNN)",
        None,
    ),
    DemoSite("4b", "Kunstwerkplaats 4B", "Verslavingszorg Vincent van Gogh", "Venray"),
)

DEMO_MEMBERS: tuple[tuple[Who, str], ...] = (
    (Who("Sanne", "lid"), "/profiel instellen rol:ervaringsdeskundige site:ETZ"),
    (Who("Daan", "lid"), '/profiel instellen rol:professional site:"Kunstwerkplaats 4B"'),
)


def demo_script(locale: str) -> list[tuple[Who, str]]:
    """The demo as console lines: who types what."""

    def quoted(text: str) -> str:
        return '"' + text.replace('"', "'") + '"'

    lines = [(COORDINATOR, "/leerbot setup aankondigingen:algemeen sessies:intervisie")]
    for site in DEMO_SITES:
        city = site.city or translate(locale, f"console.demo.{site.key}.city")
        description = translate(locale, f"console.demo.{site.key}.description")
        lines.append(
            (
                COORDINATOR,
                f"/site toevoegen naam:{quoted(site.name)} plaats:{quoted(city)} "
                f"organisatie:{quoted(site.organisation)} soort:{site.kind} "
                f"beschrijving:{quoted(description)}",
            )
        )
    return [*lines, *DEMO_MEMBERS]


async def community_is_empty(dispatcher: Dispatcher) -> bool:
    from sqlalchemy import func, select

    from leerbot.db.models import Community, Site

    async with dispatcher.sessionmaker() as db:
        count = await db.scalar(
            select(func.count(Site.id))
            .join(Community, Community.id == Site.community_id)
            .where(Community.platform_id == CONSOLE_PLACE.platform_id)
        )
    return not count


async def create_demo(dispatcher: Dispatcher, locale: str = "nl") -> None:
    """Fill the console community with the demo sites and two members, quietly."""
    for who, line in demo_script(locale):
        words, args = parse_command_line(line)
        reply = await dispatcher.run_text(CONSOLE_PLACE, who.identity(None), words, dict(args))
        if reply.is_error:
            raise RuntimeError(f"demo step failed: {line}")
