"""The console front end, driven by a script on stdin exactly as a newcomer or a CI job
would run it: `python -m leerbot console < script`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_console(
    database_url: str, script: str, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = (
        {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")}
        | {"LEERBOT_DATABASE_URL": database_url}
        | (env or {})
    )
    return subprocess.run(
        [sys.executable, "-m", "leerbot", "console", "--files", str(cwd / "files"), *args],
        input=script,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


SETUP_SCRIPT = """\
# A coordinator sets up the community
/leerbot setup agenda:#ontwikkelagenda coordinatorrol:@Coordinatoren taal:nl
/site toevoegen naam:ETZ plaats:Utrecht organisatie:"De Achterkant" soort:verslavingszorg
/site toevoegen naam:"Kunstwerkplaats 4B" plaats:Venray
/site lijst
.als Sanne ervaringsdeskundige
/profiel instellen site:etz
/profiel ervaring
Ik deel dit alleen met mezelf.
/help
.taal en
/help
/mydata
1
/mydata
2
1
"""


def test_scripted_session_sets_up_shares_exports_and_deletes(
    database_url: str, tmp_path: Path
) -> None:
    result = run_console(
        database_url,
        SETUP_SCRIPT,
        "--as",
        "Ann",
        "--role",
        "coordinator",
        "--no-demo",
        cwd=tmp_path,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert "Traceback" not in out + result.stderr
    assert "Kanaal voor de ontwikkelagenda: #ontwikkelagenda" in out
    assert "De proeftuin **ETZ** is toegevoegd." in out
    assert "== Proeftuinen (2) ==" in out
    assert "ETZ: De Achterkant, Utrecht" in out
    # Sanne, a member, sees member commands only, in Dutch and then in English.
    dutch_help, english_help = out.split("== Hulp ==")[1], out.split("== Help ==")[1]
    assert "/profiel instellen" in dutch_help and "/site toevoegen" not in dutch_help.split("==")[0]
    assert "/profile set" in english_help and "/mydata" in english_help
    # Her export holds her own words, then deleting leaves nothing behind.
    exports = list((tmp_path / "files").glob("leerbot-mijngegevens-*.json"))
    assert len(exports) == 1
    document = json.loads(exports[0].read_text(encoding="utf-8"))
    profile = document["data"]["profile"]["profile"]
    assert profile["lived_experience"] == "Ik deel dit alleen met mezelf."
    assert profile["role"] == "ervaringsdeskundige" and profile["site"] == "ETZ"
    assert "Your data has been deleted." in out

    again = run_console(database_url, "/mydata\n1\n", "--as", "Sanne", "--no-demo", cwd=tmp_path)
    (new_export,) = set((tmp_path / "files").glob("leerbot-mijngegevens-*.json")) - set(exports)
    fresh = json.loads(new_export.read_text(encoding="utf-8"))["data"]["profile"]["profile"]
    assert again.returncode == 0
    assert fresh["lived_experience"] is None and fresh["site"] is None


def test_a_failed_command_makes_the_script_exit_non_zero(database_url: str, tmp_path: Path) -> None:
    script = "/site lijst\n/site toevoegen naam:Emmen\n/bestaat niet\n"
    result = run_console(database_url, script, "--as", "Bob", "--no-demo", cwd=tmp_path)
    assert result.returncode == 1
    assert "Dit mag alleen een coördinator." in result.stdout
    assert "Die opdracht ken ik niet: /bestaat niet." in result.stdout
    assert "2 opdrachten uit het script zijn niet gelukt." in result.stderr


def test_demo_community_for_a_newcomer(database_url: str, tmp_path: Path) -> None:
    """The four pilot sites as the 2012 factsheet "Liggen we op Koers?" describes them: each
    site is a project, run by an organisation, all four in addiction care."""
    import asyncio

    from sqlalchemy import select

    from leerbot.db.engine import create_engine
    from leerbot.db.models import Organisation

    result = run_console(database_url, "/site lijst\n", "--demo", cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 0, result.stderr
    assert "de vier proeftuinen uit de factsheet 'Liggen we op Koers?'" in out
    assert "ETZ: De Achterkant, Utrecht" in out
    assert "Ervaringsdeskundigen Trainen Zorgprofessionals." in out
    assert "zes cliëntenraden en Stichting G.O.U.D." in out
    assert "Cliënten Service Desk: Arkin, Amsterdam" in out
    assert (
        "Help mijn buurman (ver)zuipt: Verslavingszorg Noord Nederland (VNN), Emmen en Hoogeveen"
        in out
    )
    assert "Kunstwerkplaats 4B: Verslavingszorg Vincent van Gogh, Venray" in out

    async def kinds() -> dict[str, list[str]]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(select(Organisation.name, Organisation.kinds))
                return {name: list(kinds) for name, kinds in rows}
        finally:
            await engine.dispose()

    assert asyncio.run(kinds()) == {
        "De Achterkant": ["verslavingszorg"],
        "Arkin": ["verslavingszorg"],
        "Verslavingszorg Noord Nederland (VNN)": ["verslavingszorg"],
        "Verslavingszorg Vincent van Gogh": ["verslavingszorg"],
    }


def test_demo_in_english(database_url: str, tmp_path: Path) -> None:
    result = run_console(database_url, "/site list\n", "--demo", "--lang", "en", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Help mijn buurman (ver)zuipt: Verslavingszorg Noord Nederland (VNN), " in result.stdout
    assert "Emmen and Hoogeveen" in result.stdout
    assert "six client councils and Stichting G.O.U.D." in result.stdout


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('/site toevoegen naam:"De Achterkant', "aanhalingsteken"),
        ("site lijst", "Een opdracht begint met /"),
        ("/site toevoegen naam:A extra", "Ik begrijp 'extra' niet"),
        (".vlieg", "Die consoleopdracht ken ik niet"),
    ],
)
def test_unreadable_lines_get_a_plain_message(
    database_url: str, tmp_path: Path, line: str, message: str
) -> None:
    result = run_console(database_url, line + "\n", "--no-demo", cwd=tmp_path)
    assert result.returncode == 1
    assert message in result.stdout


def test_run_without_token_explains_how_to_get_one(database_url: str, tmp_path: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")}
    result = subprocess.run(
        [sys.executable, "-m", "leerbot", "run"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
        check=False,
        env=environment | {"LEERBOT_DATABASE_URL": database_url},
    )
    assert result.returncode == 2
    assert "LEERBOT_DISCORD_TOKEN" in result.stderr
    assert "discord.com/developers/applications" in result.stderr
    assert "Traceback" not in result.stderr


def test_switching_identity_again_and_again_writes_the_profile_once(
    database_url: str, tmp_path: Path
) -> None:
    """`.als NAAM ROL` sets the role on the profile at every switch; only the first time
    changes anything. Saving the same again answers that nothing changed, and audits
    nothing (one member once had 112 `profile.updated` rows)."""
    import asyncio

    from sqlalchemy import select

    from leerbot.db.engine import create_engine
    from leerbot.db.models import AuditEntry

    script = (
        ".als Sanne ervaringsdeskundige\n.als Kees professional\n"
        * 5
        + ".als Sanne ervaringsdeskundige\n"
        "/profiel instellen rol:ervaringsdeskundige\n"
        "/profiel ervaring\nMijn verhaal\n"
        "/profiel ervaring\nMijn verhaal\n"
        ".taal en\n"
        "/profile set role:ervaringsdeskundige\n"
    )
    result = run_console(database_url, script, "--no-demo", cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert out.count("Er is niets veranderd. Je profiel was al zo.") == 2, out
    assert "Nothing changed. Your profile was already like this." in out
    assert "Opgeslagen. Alleen jij ziet dit" in out, "the first time it is saved"

    async def entries() -> list[tuple[str, dict[str, object]]]:
        engine = create_engine(database_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(AuditEntry.action, AuditEntry.details)
                    .where(AuditEntry.action == "profile.updated")
                    .order_by(AuditEntry.id)
                )
                return [(a, d) for a, d in rows]
        finally:
            await engine.dispose()

    assert asyncio.run(entries()) == [
        ("profile.updated", {"fields": ["role"]}),  # Sanne, the first switch
        ("profile.updated", {"fields": ["role"]}),  # Kees, the first switch
        ("profile.updated", {"fields": ["lived_experience"]}),
    ]
