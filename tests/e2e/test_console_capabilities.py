# ruff: noqa: E501  (the script lines are commands as a member types them)
"""Every capability through the console, as a scripted session: intervisie, a reflection
round, the development agenda and the practice log, with files written to disk."""

from __future__ import annotations

from pathlib import Path

from icalendar import Calendar

from tests.e2e.test_console import run_console
from tests.helpers import csv_rows

SCRIPT = """\
/leerbot setup sessies:intervisie agenda:ontwikkelagenda praktijken:praktijken aankondigingen:algemeen
/site toevoegen naam:"De Achterkant" plaats:Utrecht
/sessie plannen titel:"Intervisie Utrecht" start:"2027-01-12 19:30" adres:"De Achterkant" herhaling:wekelijks elke:2 aantal:3 plaatsen:2
.als Sanne ervaringsdeskundige
/sessie bekijken sessie:1
1
/sessie agenda sessie:1
.als Daan professional
/sessie bekijken sessie:1
1
.als Eva lid
/sessie bekijken sessie:1
1
.als Mo moderator
/ronde start titel:Terugblik vraag1:"Wat neem je mee?" vraag2:"Wat heb je nodig?" anoniem:anonymous
.als Sanne ervaringsdeskundige
/ronde beantwoorden ronde:1
1
Rust en ruimte
Meer tijd
.als Sanne ervaringsdeskundige
/agenda voorstel thema:samenwerking soort:wens niveau:organisatie
Intervisie in elk team
Elk team krijgt maandelijks intervisie met ervaringsdeskundigen.
.als Daan professional
/agenda steun punt:1
.als Co coordinator
/agenda status punt:1 status:besproken reden:"Besproken in de CoL"
/agenda export formaat:csv
.als Sanne ervaringsdeskundige
/praktijk delen site:"De Achterkant" thema:samenwerking
Trainingen voor nieuwe collega's
Volwassenen in herstel, in de wijk
Maandelijks een training van twee uur
Ervaringsdeskundigen geven de training samen met een professional
Herkenning en hoop
1
Twintig deelnemers dit jaar
Te weinig tijd; we plannen nu vooruit
Een ruimte en koffie
Subsidie van de gemeente
training, herstel
1
/praktijk zoek vraag:training
.als Co coordinator
/praktijk export formaat:md
"""


def test_all_capabilities_in_one_console_script(database_url: str, tmp_path: Path) -> None:
    result = run_console(
        database_url, SCRIPT, "--as", "Co", "--role", "coordinator", "--no-demo", cwd=tmp_path
    )
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr
    # Intervisie: two places, the third member waits.
    assert "Fijn dat je komt!" in out and "Je staat op de wachtlijst" in out
    assert "[in #intervisie]" in out and "[evenement gemaakt: Intervisie Utrecht" in out
    calendar = Calendar.from_ical((tmp_path / "files" / "leerbot-sessie-1.ics").read_bytes())
    assert "RRULE" in calendar.walk("VEVENT")[0]
    # Reflection round: the invitation went out as a direct message; the answer is anonymous.
    assert "[privébericht aan sanne]" in out
    assert "Je anonieme antwoord voor Terugblik is bewaard" in out
    # Agenda: proposed, supported, status with reason, exported by the coordinator.
    assert "Je punt staat op de agenda als #1" in out
    assert "Je steunt nu Intervisie in elk team" in out
    rows = csv_rows(next((tmp_path / "files").glob("ontwikkelagenda-*.csv")).read_bytes())
    assert rows[0]["Titel"] == "Intervisie in elk team" and rows[0]["Steun"] == "1"
    assert rows[0]["Status"] == "besproken"
    # Practice log: shared after the client check, found by a stemmed search, exported.
    assert "Controle voor je deelt" in out and "Je praktijk staat in het logboek als #1" in out
    assert "Trainingen voor nieuwe collega's" in out.split("/praktijk zoek vraag:training")[1]
    exported = (tmp_path / "files" / "praktijken.md").read_text(encoding="utf-8")
    assert "Trainingen voor nieuwe collega's" in exported and "Subsidie van de gemeente" in exported
