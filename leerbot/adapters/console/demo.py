"""A small demo community, so a newcomer sees something at once: the four pilot sites of
the 2012 Community of Learners (factsheet "Liggen we op Koers?", shared/seeds/000)."""

from __future__ import annotations

from leerbot.adapters.console.session import CONSOLE_PLACE, Who
from leerbot.chat.dispatch import Dispatcher

DEMO_SCRIPT: tuple[tuple[str, str, str], ...] = (
    ("Coördinator", "coordinator", "/leerbot setup aankondigingen:algemeen sessies:intervisie"),
    (
        "Coördinator",
        "coordinator",
        '/site toevoegen naam:"De Achterkant" plaats:Utrecht organisatie:ETZ soort:ggz',
    ),
    (
        "Coördinator",
        "coordinator",
        '/site toevoegen naam:"Cliënten Service Desk" plaats:Amsterdam organisatie:Arkin '
        "soort:verslavingszorg",
    ),
    (
        "Coördinator",
        "coordinator",
        '/site toevoegen naam:"Help mijn buurman (ver)zuipt" plaats:Emmen organisatie:VNN '
        "soort:verslavingszorg",
    ),
    (
        "Coördinator",
        "coordinator",
        '/site toevoegen naam:"Kunstwerkplaats 4B" plaats:Venray organisatie:"Vincent van Gogh" '
        "soort:ggz",
    ),
    ("Sanne", "lid", '/profiel instellen rol:ervaringsdeskundige site:"De Achterkant"'),
    ("Daan", "lid", '/profiel instellen rol:professional site:"Kunstwerkplaats 4B"'),
)


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


async def create_demo(dispatcher: Dispatcher) -> None:
    """Fill the console community with the demo sites and two members, quietly."""
    from leerbot.adapters.console.session import parse_command_line

    for name, role, line in DEMO_SCRIPT:
        words, args = parse_command_line(line)
        reply = await dispatcher.run_text(
            CONSOLE_PLACE, Who(name, role).identity(None), words, dict(args)
        )
        if reply.is_error:
            raise RuntimeError(f"demo step failed: {line}")
