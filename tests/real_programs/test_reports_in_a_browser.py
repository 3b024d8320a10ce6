"""The agenda report as a coordinator opens it: the HTML in headless Chromium.

Member text that would run script if it were markup (a `<script>` that renames the page, an
`<img onerror>` that marks the body) is in the data. Chromium loads the report, runs whatever
it finds, and hands back the DOM: nothing may have run, and the hostile titles must be there
as text. Once as we ship it (with a Content-Security-Policy that forbids script), and once
with that policy taken out, so the test shows that the escaping alone is enough.

Chromium also prints the report to PDF (A4, the print CSS): the Dutch dates are in it, and
page 1 is kept as a PNG next to the other pictures (tests/real_programs/output/)."""

from __future__ import annotations

import re
import subprocess
import tempfile
from pathlib import Path

import pytest

from leerbot.core import agenda
from tests.real_programs.conftest import SCRIPT, World
from tests.real_programs.programs import OUTPUT, need, pdf_text, picture

TRAP_SCRIPT = "<script>document.title='PWNED'</script> in de titel"
TRAP_IMAGE = '<img src=x onerror="document.body.dataset.pwned=1"> in de tekst'
CSP = re.compile(rb'<meta http-equiv="Content-Security-Policy"[^>]*>')


def chromium(*arguments: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium with a throwaway profile and no network chatter (the machine has
    no network but the package registries)."""
    browser = need("chromium")
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [
                browser,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=2000",  # let any script (and onerror) run first
                *arguments,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


async def report_with_traps(world: World) -> bytes:
    async with world.app.sessionmaker() as db, db.begin():
        await agenda.propose(
            db,
            world.coordinator,
            world.app.settings,
            title=TRAP_SCRIPT,
            description=TRAP_IMAGE,
            theme="europa",
            kind="wens",
            level="organisatie",
        )
    return await world.agenda("html")


def dom(path: Path) -> str:
    result = chromium("--dump-dom", path.as_uri())
    assert result.returncode == 0 and "<body" in result.stdout, result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("policy", ["as shipped", "without the script policy"])
async def test_the_html_report_runs_no_member_script(
    world: World, tmp_path: Path, policy: str
) -> None:
    html = await report_with_traps(world)
    assert CSP.search(html), "the report forbids script itself"
    if policy != "as shipped":
        html = CSP.sub(b"", html)
    page = tmp_path / "ontwikkelagenda.html"
    page.write_bytes(html)
    shown = dom(page)
    assert "<title>PWNED</title>" not in shown and "data-pwned" not in shown
    assert "<script>" not in shown.split("</head>", 1)[1], "no script element in the body"
    assert "&lt;script&gt;document.title='PWNED'&lt;/script&gt; in de titel" in shown
    assert '&lt;img src=x onerror="document.body.dataset.pwned=1"&gt; in de tekst' in shown
    assert SCRIPT.replace("<", "&lt;").replace(">", "&gt;") in shown


async def test_the_html_report_prints_with_dutch_dates(world: World, tmp_path: Path) -> None:
    page = tmp_path / "ontwikkelagenda.html"
    page.write_bytes(await world.agenda("html"))
    pdf = tmp_path / "ontwikkelagenda.pdf"
    printed = chromium("--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.as_uri())
    assert printed.returncode == 0 and pdf.is_file(), printed.stderr[-2000:]
    text = re.sub(r"\s+", " ", pdf_text(pdf))
    assert "Ontwikkelagenda van" in text
    assert "12 januari 2026" in text and "3 november 2026" in text
    picture(pdf, "agenda-html")
    OUTPUT.mkdir(exist_ok=True)
    shot = OUTPUT / "agenda-html-screen.png"
    taken = chromium(
        "--hide-scrollbars", "--window-size=1100,1500", f"--screenshot={shot}", page.as_uri()
    )
    assert taken.returncode == 0 and shot.is_file() and shot.stat().st_size > 10_000
