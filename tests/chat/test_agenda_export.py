"""Agenda exports as a coordinator gets them: from chat and from the command line, the
same bytes; the DOCX opens with python-docx; the CSV round-trips."""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document

from leerbot.app import App
from leerbot.chat.context import Place
from leerbot.chat.reply import render
from leerbot.core.actor import Function, Identity
from leerbot.exports.agenda import CSV_COLUMNS
from leerbot.i18n import translate
from tests.helpers import csv_rows

PLACE = Place("guild-1", "Community of Learners")
COORDINATOR = Identity("co", "Co", granted_functions=frozenset({Function.COORDINATOR}))


async def propose(app: App, who: Identity, title: str, anonymous: bool = False) -> None:
    form_reply = await app.dispatcher.run_text(
        PLACE,
        who,
        ["agenda", "voorstel"],
        {
            "thema": "samenwerking",
            "soort": "wens",
            "niveau": "organisatie",
            "anoniem": "ja" if anonymous else "nee",
        },
    )
    assert form_reply.form is not None, form_reply.text
    done = await app.dispatcher.submit(
        PLACE,
        who,
        form_reply.form.custom_id,
        {"titel": title, "beschrijving": f'Uitleg bij {title}, met komma\'s en "quotes".'},
    )
    assert not done.is_error, done.text


async def seed(app: App) -> None:
    await propose(app, Identity("anna", "Anna"), "Intervisie in elk team")
    await propose(app, Identity("bram", "Bram"), "Ruimte voor eigen verhaal", anonymous=True)
    for who in ("cem", "dewi"):
        reply = await app.dispatcher.press(PLACE, Identity(who, who.title()), "lb:agenda.support:1")
        assert not reply.is_error
    status = await app.dispatcher.run_text(
        PLACE,
        COORDINATOR,
        ["agenda", "status"],
        {"punt": "1", "status": "besproken", "reden": "Besproken in de CoL"},
    )
    assert not status.is_error


async def export(app: App, fmt: str) -> bytes:
    reply = await app.dispatcher.run_text(
        PLACE, COORDINATOR, ["agenda", "export"], {"formaat": fmt}
    )
    assert not reply.is_error, render(reply.text, "nl")
    return reply.attachments[0].data


async def test_docx_opens_and_reads_like_a_report(app: App) -> None:
    await seed(app)
    document = Document(io.BytesIO(await export(app, "docx")))
    text = "\n".join(p.text for p in document.paragraphs)
    assert "Ontwikkelagenda van Community of Learners" in text
    cells = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert "Besproken in de CoL" in cells, "the reason, in the table of changes"
    assert any("Intervisie in elk team" in c for c in cells)
    assert "Bram" not in text + "".join(cells)  # the anonymous point has no author


async def test_csv_round_trips_with_stable_columns(app: App) -> None:
    await seed(app)
    rows = csv_rows(await export(app, "csv"))
    labels = tuple(translate("nl", f"exports.sheets.agenda.{key}") for key in CSV_COLUMNS)
    assert tuple(rows[0].keys()) == labels
    by_title = {r["Titel"]: r for r in rows}
    assert by_title["Intervisie in elk team"]["Steun"] == "2"
    assert by_title["Intervisie in elk team"]["Status"] == "besproken"
    assert by_title["Ruimte voor eigen verhaal"]["Ingediend door"] == "anoniem"
    assert by_title["Intervisie in elk team"]["Beschrijving"].endswith('"quotes".')


async def test_members_cannot_export(app: App) -> None:
    reply = await app.dispatcher.run_text(PLACE, Identity("anna", "Anna"), ["agenda", "export"], {})
    assert reply.is_error and not reply.attachments


@pytest.mark.parametrize("fmt", ["md", "html", "csv", "xlsx", "docx"])
async def test_cli_export_is_identical_to_the_chat_export(
    app: App, database_url: str, tmp_path: Path, fmt: str
) -> None:
    await seed(app)
    from_chat = await export(app, fmt)
    target = tmp_path / f"agenda.{fmt}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")}
    result = await asyncio.to_thread(
        subprocess.run,
        [
            sys.executable,
            "-m",
            "leerbot",
            "export",
            "agenda",
            "--format",
            fmt,
            "--out",
            str(target),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=environment | {"LEERBOT_DATABASE_URL": database_url},
    )
    assert result.returncode == 0, result.stderr
    assert target.read_bytes() == from_chat
