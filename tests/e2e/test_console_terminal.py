"""The console as a person uses it at a terminal (issue 13, items 16–19).

`leerbot console` runs in a pseudo-terminal; a VT100 emulator (pyte) draws what it writes,
and the test types keys and reads the screen as a person would. The reminder test runs the
same terminal front end in this process, on a pipe for the keyboard and the emulator for the
screen, so that the test can make the reminder come due while the console waits.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from leerbot.config import Settings
from tests.e2e.screen import (
    CTRL_C,
    CTRL_D,
    CTRL_L,
    ENTER,
    GUARD,
    LEFT,
    TAB,
    UP,
    ScreenOutput,
    Terminal,
)
from tests.e2e.test_console import run_console


@pytest.fixture
def terminal_env(database_url: str) -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("LEERBOT_")} | {
        "LEERBOT_DATABASE_URL": database_url
    }


@pytest.fixture
def console(terminal_env: dict[str, str], tmp_path: Path) -> Iterator[Terminal]:
    terminal = Terminal(
        ["console", "--as", "Ann", "--role", "coordinator", "--no-demo"],
        cwd=tmp_path,
        env=terminal_env,
    )
    try:
        terminal.wait_for("Ann>")
        yield terminal
    finally:
        terminal.close()


def starting_with(terminal: Terminal | ScreenOutput, text: str) -> int:
    """How many lines shown so far start with `text` (a prompt: how often it was asked)."""
    return sum(1 for line in terminal.scrollback.splitlines() if line.startswith(text))


def prompts(terminal: Terminal | ScreenOutput, name: str = "Ann") -> int:
    return starting_with(terminal, f"{name}>")


def run(terminal: Terminal, line: str) -> None:
    """Type a line and wait until the console asks for the next one."""
    before = prompts(terminal)
    terminal.type(line + ENTER)
    terminal.wait_for(lambda: prompts(terminal) > before and terminal.cursor_line() == "Ann>")


# --- 16: line editing, history, Ctrl-L, completion ---------------------------------------


def test_arrow_keys_edit_the_line_and_bring_back_earlier_commands(console: Terminal) -> None:
    run(console, "/site toevoegen naam:Emmen")
    assert "De proeftuin Emmen is toegevoegd." in console.text
    # ↑ brings the command back; ← moves inside it to change the name
    console.type(UP)
    console.wait_for(lambda: console.cursor_line() == "Ann> /site toevoegen naam:Emmen")
    console.type(LEFT * len("Emmen") + "Nieuw-")
    console.wait_for(lambda: console.cursor_line() == "Ann> /site toevoegen naam:Nieuw-Emmen")
    assert "^[" not in console.text
    console.type(ENTER)
    console.wait_for("De proeftuin Nieuw-Emmen is toegevoegd.")


def test_ctrl_l_clears_the_screen_and_keeps_the_line(console: Terminal) -> None:
    run(console, "/site lijst")
    console.type("/help")
    console.type(CTRL_L)
    console.wait_for(lambda: console.text == "Ann> /help")
    assert "Welkom bij leerbot" not in console.text


def test_tab_completes_commands_options_and_choices(console: Terminal) -> None:
    console.type("/sessie pl" + TAB)
    console.wait_for(lambda: console.cursor_line() == "Ann> /sessie plannen")
    console.type(TAB)  # the options, required ones first, each with its description
    console.wait_for(lambda: all(word in console.text for word in ("titel", "start", "adres")))
    menu = console.text.split("Ann> /sessie plannen", 1)[1]
    assert menu.index("titel") < menu.index("start") < menu.index("adres")
    assert "verplicht: Titel van de bijeenkomst" in menu
    interrupt(console)
    console.type("/site toevoegen naam:X so" + TAB)
    console.wait_for(lambda: console.cursor_line().endswith("naam:X soort:"))
    console.type("vers" + TAB)
    console.wait_for(lambda: console.cursor_line().endswith("soort:verslavingszorg"))
    interrupt(console)
    console.type(".als Sanne erv" + TAB)
    console.wait_for(lambda: console.cursor_line() == "Ann> .als Sanne ervaringsdeskundige")


def interrupt(terminal: Terminal) -> None:
    """Ctrl-C at the prompt; wait for the next one (keys typed before it would be typed
    between two prompts)."""
    before = terminal.scrollback.count("Afgebroken.")
    terminal.type(CTRL_C)
    terminal.wait_for(
        lambda: (
            terminal.scrollback.count("Afgebroken.") > before and terminal.cursor_line() == "Ann>"
        )
    )


# --- 17: Ctrl-C and Ctrl-D -------------------------------------------------------------


def test_ctrl_c_cancels_calmly_and_ctrl_d_ends_with_a_newline(
    console: Terminal, database_url: str
) -> None:
    # at the prompt: the line is dropped, the console stays
    console.type("/site toevoegen naam:Half")
    interrupt(console)
    assert "Afgebroken. Typ een nieuwe opdracht, of .stop om te stoppen." in console.text
    # in a form: the form is cancelled and nothing is stored
    console.type("/profiel ervaring" + ENTER)
    console.wait_for(lambda: console.cursor_line().endswith(":"))
    console.type("Iets wat ik toch niet wil bewaren")
    console.type(CTRL_C)
    console.wait_for("Het formulier is niet afgemaakt. Er is niets opgeslagen.")
    console.wait_for(lambda: console.cursor_line() == "Ann>")
    # Ctrl-D ends the console: a goodbye on its own line, the shell's prompt on the next
    console.type(CTRL_D)
    assert console.wait_for_end() == 0
    assert "Tot ziens." in console.text
    assert console.raw.endswith(b"Tot ziens.\r\n")
    assert b"Traceback" not in console.raw and b"KeyboardInterrupt" not in console.raw
    assert asyncio.run(_lived_experience(database_url, "ann")) is None


async def _lived_experience(database_url: str, platform_id: str) -> str | None:
    from leerbot.db.engine import create_engine
    from leerbot.db.models import Member

    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return await conn.scalar(
                select(Member.lived_experience).where(Member.platform_id == platform_id)
            )
    finally:
        await engine.dispose()


# --- 19: Markdown as a terminal shows it ---------------------------------------------


def test_markdown_is_shown_bold_at_a_terminal_and_plain_in_a_script(
    console: Terminal, database_url: str, tmp_path: Path
) -> None:
    run(console, '/site toevoegen naam:"De Achterkant"')
    assert "De proeftuin De Achterkant is toegevoegd." in console.text
    assert "**" not in console.text
    shown = "De proeftuin De Achterkant is toegevoegd."
    assert all(cell.bold for cell in console.styled("De Achterkant", line_with=shown))
    assert not any(cell.bold for cell in console.styled("De proeftuin", line_with=shown))
    run(console, "/help")
    assert "`" not in console.text  # inline code is coloured, not quoted
    # a script keeps plain text that a file, a pipe and the tests can read
    script = run_console(database_url, '/site toevoegen naam:"Emmen"\n', cwd=tmp_path)
    assert "De proeftuin **Emmen** is toegevoegd." in script.stdout
    assert "\x1b" not in script.stdout


def test_escape_codes_in_member_text_are_shown_not_obeyed(
    console: Terminal, database_url: str, tmp_path: Path
) -> None:
    script = '/site toevoegen naam:"Evil\x1b[2J\x1b]0;pwned\x07"\n'
    assert run_console(database_url, script, cwd=tmp_path).returncode == 0
    run(console, "/site lijst")
    assert "Welkom bij leerbot" in console.text, "the screen was not cleared"
    assert "Evil␛[2J␛]0;pwned␇" in console.text


# --- 18: reminders while the console waits --------------------------------------------


async def test_a_reminder_appears_while_the_console_waits_for_a_line(settings: Settings) -> None:
    """The bug: the console read its input in a way that stopped the event loop, so a due
    reminder waited for the next command and then printed in the middle of its output."""
    from prompt_toolkit.application import create_app_session
    from prompt_toolkit.input import create_pipe_input

    from leerbot import scheduling
    from leerbot.adapters.console.run import ConsoleOptions, run_terminal
    from leerbot.app import open_app
    from leerbot.db.models import ScheduledJob

    start = (datetime.now(settings.tz) + timedelta(days=3)).strftime("%Y-%m-%d 19:30")
    screen = ScreenOutput(columns=100, lines=40)
    async with open_app(settings) as app:
        with create_pipe_input() as keys, create_app_session(input=keys, output=screen.output()):
            options = ConsoleOptions(name="Mo", role="moderator", demo=False)
            console = asyncio.create_task(run_terminal(app, options))

            async def line(text: str, then: str) -> None:
                """Type a line; wait until the console asks the next thing (`then`)."""
                before = starting_with(screen, then)
                keys.send_text(text + ENTER)
                await screen.wait_for(
                    lambda: (
                        starting_with(screen, then) > before
                        and screen.cursor_line().startswith(then)
                    )
                )

            await screen.wait_for("Mo>")
            plan = f'/sessie plannen titel:Intervisie start:"{start}" adres:Utrecht'
            await line(plan, "Kies een nummer")  # the card has buttons: Enter goes on
            await line("", "Mo>")
            await line(".als Sanne ervaringsdeskundige", "Sanne>")
            await line("/sessie bekijken sessie:1", "Kies een nummer")  # 1 = I come
            await line("1", "Sanne>")
            keys.send_text("/site li")  # she is typing, and stops for a moment
            await screen.wait_for(lambda: screen.cursor_line() == "Sanne> /site li")

            # the day before arrives: the reminder comes due while the console waits
            async with app.sessionmaker() as db, db.begin():
                job = await db.scalar(
                    select(ScheduledJob)
                    .where(ScheduledJob.kind == "session.reminder")
                    .order_by(ScheduledJob.due_at)
                )
                assert job is not None
                await scheduling.schedule(
                    db,
                    community_id=job.community_id,
                    kind=job.kind,
                    key=job.key,
                    due_at=datetime.now(UTC) + timedelta(milliseconds=200),
                    payload=dict(job.payload),
                )
            await screen.wait_for("[privébericht aan sanne]")
            await screen.wait_for(lambda: screen.cursor_line() == "Sanne> /site li")
            shown = screen.text.splitlines()
            dm = max(i for i, text in enumerate(shown) if text == "[privébericht aan sanne]")
            assert shown.index("Sanne> /site li") > dm, "the reminder is above the prompt"
            assert "Intervisie" in "\n".join(shown[dm:])

            await line("jst", "Sanne>")  # what she typed is intact
            assert "Sanne> /site lijst" in screen.text
            keys.send_text(CTRL_D)
            await asyncio.wait_for(console, GUARD)
    assert "Tot ziens." in screen.text
