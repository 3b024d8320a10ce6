"""A large export does not hold up the bot: the file is made in a worker thread after the
command's unit of work has closed, and other members are answered meanwhile.

The renderer is held at a gate (a threading.Event) until the test has seen another command
answered; if rendering ran on the event loop, that command could not be answered before the
gate opened (the gate then times out and the export fails), so the test fails instead of
hanging. No timing is measured."""

from __future__ import annotations

import asyncio
import io
import threading
from typing import Any

import pytest
from docx import Document

from leerbot.app import App
from leerbot.chat.reply import render
from leerbot.core.actor import Identity
from leerbot.exports import agenda as agenda_exports
from tests.chat.test_agenda_export import COORDINATOR, PLACE, seed

GATE_TIMEOUT = 30  # seconds: only a guard against hanging, never reached when it works


async def test_others_are_answered_while_an_export_renders(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    await seed(app)
    started, release = threading.Event(), threading.Event()
    seen: dict[str, Any] = {}
    real_render = agenda_exports.render

    def held_render(*args: Any, **kwargs: Any) -> bytes:
        seen["thread"] = threading.current_thread()
        seen["connections"] = app.engine.sync_engine.pool.checkedout()
        started.set()
        if not release.wait(GATE_TIMEOUT):
            raise AssertionError("the export was rendered where nothing else could run")
        return real_render(*args, **kwargs)

    monkeypatch.setattr(agenda_exports, "render", held_render)
    export = asyncio.create_task(
        app.dispatcher.run_text(PLACE, COORDINATOR, ["agenda", "export"], {"formaat": "docx"})
    )
    try:
        assert await asyncio.to_thread(started.wait, GATE_TIMEOUT), "the export never rendered"
        listing = await app.dispatcher.run_text(
            PLACE, Identity("anna", "Anna"), ["agenda", "lijst"], {}
        )
        assert not listing.is_error, render(listing.text, "nl")
        assert "Intervisie in elk team" in render(listing.text, "nl") + "".join(
            render(f.value, "nl") for f in listing.fields
        )
        assert not export.done(), "another member is answered while the export is made"
    finally:
        release.set()
    reply = await export
    assert not reply.is_error, render(reply.text, "nl")
    document = Document(io.BytesIO(reply.attachments[0].data))
    assert "Intervisie in elk team" in "\n".join(p.text for p in document.paragraphs) + "".join(
        cell.text for table in document.tables for row in table.rows for cell in row.cells
    )
    assert seen["thread"] is not threading.main_thread(), "rendered in a worker thread"
    assert seen["connections"] == 0, "no database connection is held while the file is made"
