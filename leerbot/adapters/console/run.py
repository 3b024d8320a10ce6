"""Starting the console: a script read line by line, or a person at a terminal.

A script (standard input is not a terminal) gets plain text and runs due work after each
line, in order, so that its output reads the same every time. Beside a running bot (which
holds the scheduler's lease, `leerbot.lease`) the console runs only the work of its own local
community: the bot's reminders and invitations are for the members on Discord. A person
gets the terminal front end (`terminal.Terminal`): the scheduler runs while the console
waits for a line, so reminders and notices appear at their time, above the prompt.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from leerbot.adapters.console.demo import community_is_empty, create_demo
from leerbot.adapters.console.platform import ConsolePlatform
from leerbot.adapters.console.session import CONSOLE_PLACE, ConsoleSession, Interrupted, Who
from leerbot.scheduling import run_due

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

    from leerbot.app import App

YES = ("j", "ja", "y", "yes", "")


@dataclass(frozen=True)
class ConsoleOptions:
    name: str
    role: str
    locale: str | None = None
    files_dir: Path = Path()
    demo: bool | None = None
    """True: make the demo in an empty community; False: never; None: offer it (terminal)."""


async def run_script(app: App, options: ConsoleOptions, lines: Iterator[str]) -> int:
    """Run the lines; returns how many commands failed."""
    session = _session(app, options, interactive=False)
    platform = ConsolePlatform(session.say, lambda: session.lang, app.settings.tz)
    # not started: due work runs after each line (only its own, beside a running bot)
    scheduler = app.make_scheduler(platform, kind="console", own=_own_community)
    session.after_command = lambda: run_due(scheduler)
    if options.demo and await community_is_empty(app.dispatcher):
        await create_demo(app.dispatcher, session.lang)
        session.say(session.t("console.demo_created"))
    await session.switch(session.who)
    return await session.run_lines(lines)


async def run_terminal(
    app: App,
    options: ConsoleOptions,
    *,
    input: Input | None = None,
    output: Output | None = None,
) -> None:
    """A person at a terminal, until `.stop` or Ctrl-D. `input`/`output`: for tests."""
    from leerbot.adapters.console.render import TerminalRenderer
    from leerbot.adapters.console.terminal import Terminal

    session = _session(app, options, interactive=True)
    terminal = Terminal(app.dispatcher.registry, lambda: session.lang, input=input, output=output)
    with terminal.running():
        session.emit = terminal.say
        session.ask = terminal.ask
        session.renderer = TerminalRenderer(terminal.width)
        session.hold_notices = True
        platform = ConsolePlatform(
            session.notice,
            lambda: session.lang,
            app.settings.tz,
            renderer=TerminalRenderer(lambda: terminal.width() - 4),  # after "  | "
        )
        scheduler = await app.start_scheduler(platform, kind="console", own=_own_community)
        session.after_command = lambda: run_due(scheduler)
        session.say(session.t("console.welcome", name=session.who.name, role=session.who.role))
        if options.demo is not False and await community_is_empty(app.dispatcher):
            wants_demo = options.demo
            if wants_demo is None:
                try:
                    answer = await terminal.ask(session.t("console.offer_demo") + " ", "choice")
                except Interrupted:
                    answer = None
                wants_demo = answer is not None and answer.strip().lower() in YES
            if wants_demo:
                await create_demo(app.dispatcher, session.lang)
                session.say(session.t("console.demo_created"))
        await session.switch(session.who)
        await session.run_lines(iter(()))
        session.flush_notices()
        session.say(session.t("console.goodbye"))


def _own_community(platform_id: str) -> bool:
    """The console's local community: its work is the console's, whoever holds the lease
    (no bot can deliver it). Everything else only when no bot runs (the lease)."""
    return platform_id == CONSOLE_PLACE.platform_id


def _session(app: App, options: ConsoleOptions, *, interactive: bool) -> ConsoleSession:
    return ConsoleSession(
        app.dispatcher,
        Who(name=options.name, role=options.role),
        locale=options.locale,
        files_dir=options.files_dir,
        interactive=interactive,
    )
