"""`leerbot db`: status looks without touching, upgrade says when there is nothing to do, and
a missing action is answered with the usage (issue 13, item 20)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def leerbot(
    *args: str, cwd: Path, database_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")}
    if database_url is not None:
        environment["LEERBOT_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "leerbot", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
        check=False,
    )


def test_db_status_in_an_empty_folder_creates_no_database(tmp_path: Path) -> None:
    result = leerbot("db", "status", cwd=tmp_path)
    assert result.returncode == 3
    assert f"Er is nog geen database: {tmp_path / 'leerbot.db'} bestaat niet." in result.stderr
    assert "leerbot db upgrade" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_db_without_an_action_prints_the_usage_and_exits_2(tmp_path: Path) -> None:
    result = leerbot("db", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("usage: leerbot db")
    assert "upgrade" in result.stderr and "status" in result.stderr
    assert list(tmp_path.iterdir()) == []
    export = leerbot("export", cwd=tmp_path)
    assert export.returncode == 2 and export.stderr.startswith("usage: leerbot export")


def test_db_upgrade_on_a_current_database_says_it_is_current(
    database_url: str, tmp_path: Path
) -> None:
    result = leerbot("db", "upgrade", cwd=tmp_path, database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("De database is up-to-date (versie ")
    assert "bijgewerkt" not in result.stdout
