# ruff: noqa: E501  (the script lines are commands as a member types them)
"""Safe reflection in the console, as a scripted session: the recognisability check with
help lines, the draft for the moderator, an answer taken out (its author told), publishing in
the audience's place, the export without the answer; the floor under the minimum; a site
round refused without the site's own place; help and house rules in /help."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import run_console
from tests.helpers import csv_rows

SCRIPT = """\
/leerbot setup aankondigingen:algemeen
/site toevoegen naam:"De Achterkant"
.als Sanne ervaringsdeskundige
/profiel instellen site:"De Achterkant"
.als Daan professional
.als Mo moderator
/ronde start titel:Klein vraag1:"Hoe gaat het?" anoniem:anonymous minimum:2
/ronde start titel:Proeftuin vraag1:"Wat werkt?" publiek:site wie:"De Achterkant" anoniem:named minimum:1
/ronde start titel:Terugblik vraag1:"Wat neem je mee?" anoniem:named minimum:1
.als Sanne ervaringsdeskundige
/ronde beantwoorden ronde:1
1
Mijn cliënt Jan uit Emmen
.als Daan professional
/ronde beantwoorden ronde:1
1
Rust
.als Mo moderator
/ronde sluiten ronde:1
/ronde samenvatting ronde:1
2
1
Een cliënt is herkenbaar
/ronde samenvatting ronde:1
1
/ronde export ronde:1 formaat:csv
/help
"""


def test_review_take_out_and_publish_in_the_console(database_url: str, tmp_path: Path) -> None:
    result = run_console(
        database_url, SCRIPT, "--as", "Co", "--role", "coordinator", "--no-demo", cwd=tmp_path
    )
    out = result.stdout
    # two refusals are expected (see the end): the floor, and the site without a place
    assert "Het minimum kan niet lager dan 5 bij een ronde zonder namen." in out
    assert "Proeftuin De Achterkant heeft nog geen eigen kanaal." in out
    # the check before the form, with help
    assert "Maak niemand herkenbaar" in out and "[1] Niemand is herkenbaar: naar de vragen" in out
    assert "Bel 113 Zelfmoordpreventie" in out and "Bel 112" in out
    # the draft goes to the moderator who started the round, privately
    before_close, after_close = out.split("Mo> /ronde sluiten ronde:1", 1)
    assert "# Samenvatting" not in before_close
    draft_dm = after_close.split("[privébericht aan mo]", 1)[1].split("Mo> ", 1)[0]
    assert "Concept: Terugblik" in draft_dm and "[Publiceren]" in draft_dm
    assert "[1] Mijn cliënt Jan uit Emmen — Sanne" in draft_dm
    # taken out: Sanne is told with the reason; the published summary and the export lack it
    assert "Antwoord 1 is weggehaald uit de samenvatting en de exports." in out
    notice = after_close.split("[privébericht aan sanne]", 1)[1].split("Mo> ", 1)[0]
    assert "Reden: Een cliënt is herkenbaar." in notice
    published = after_close.split("[in #algemeen]", 1)[1].split("Mo> ", 1)[0]
    assert "# Samenvatting: Terugblik" in published and "- Rust — Daan" in published
    assert "Emmen" not in published
    rows = csv_rows((tmp_path / "files" / "ronde-1.csv").read_bytes())
    assert [r["Antwoord"] for r in rows] == ["Rust"]
    # /help carries the house rules and where to find help
    help_text = out.split("Mo> /help", 1)[1]
    assert "Wat hier gezegd wordt, blijft hier." in help_text and "0800-0113" in help_text
    assert (
        result.returncode == 1 and "2 opdrachten uit het script zijn niet gelukt." in result.stderr
    )
