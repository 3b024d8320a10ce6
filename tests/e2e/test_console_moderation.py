"""Moderation through the console, as a scripted session: a member proposes an agenda point
that names a client, a member may not hide it, a moderator hides it with a reason (the
author is told privately, everyone else reads "hidden by a moderator"), and restores it."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.test_console import run_console

SCRIPT = """\
/leerbot setup agenda:ontwikkelagenda
.als Sanne ervaringsdeskundige
/agenda voorstel thema:samenwerking soort:wens niveau:organisatie
Gesprek met Jan de Vries uit Emmen
Wat Jan de Vries uit Emmen overkwam.
.als Daan lid
/agenda verbergen punt:1 reden:"Noemt een cliënt"
.als Mo moderator
/agenda verbergen punt:1 reden:"Noemt een cliënt bij naam"
/agenda verbergen punt:1 reden:"Nog een keer"
.als Daan lid
/agenda bekijken punt:1
/agenda lijst
.als Mo moderator
/agenda herstellen punt:1
.als Daan lid
/agenda bekijken punt:1
"""


def test_a_moderator_hides_and_restores_an_agenda_point_in_the_console(
    database_url: str, tmp_path: Path
) -> None:
    result = run_console(
        database_url, SCRIPT, "--as", "Co", "--role", "coordinator", "--no-demo", cwd=tmp_path
    )
    out = result.stdout
    # two commands are refused on purpose (a member hiding, hiding twice): exit code 1
    assert result.returncode == 1, out[-3000:] + result.stderr
    assert "Je punt staat op de agenda als #1" in out
    after_member = out.split('/agenda verbergen punt:1 reden:"Noemt een cliënt"', 1)[1]
    assert after_member.lstrip().startswith("! Dit mag alleen een moderator of coördinator.")

    hidden = out.split('reden:"Noemt een cliënt bij naam"', 1)[1]
    assert "De tekst van agendapunt #1 is verborgen." in hidden
    assert "De indiener krijgt een privébericht met je reden." in hidden
    # Sanne is told privately, with the reason
    notice = hidden.split("[privébericht aan sanne]", 1)[1]
    assert "Een moderator heeft de tekst van je agendapunt #1" in notice
    assert "Reden: Noemt een cliënt bij naam" in notice
    assert "! De tekst van agendapunt #1 is al verborgen. Er is niets veranderd." in out

    # Daan reads it while hidden: no text, no name
    while_hidden = out.split(".als Daan lid", 2)[2].split("/agenda herstellen", 1)[0]
    assert "Agendapunt #1: Tekst verborgen door een moderator" in while_hidden
    assert "Jan de Vries" not in while_hidden and "Sanne" not in while_hidden

    restored = out.split("/agenda herstellen punt:1", 1)[1]
    assert "De tekst van agendapunt #1 is weer zichtbaar." in restored
    assert "Je agendapunt #1 (Gesprek met Jan de Vries uit Emmen) is weer zichtbaar" in restored
    assert (
        "Agendapunt #1: Gesprek met Jan de Vries uit Emmen"
        in restored.split("/agenda bekijken punt:1", 1)[1]
    )
