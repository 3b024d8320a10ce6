"""The command line: `leerbot run | console | health | db upgrade | db status | check-config`.

Every failure a coordinator can cause (a bad config file, a missing token, a database that
is newer than the code) ends with a plain message and a non-zero exit code, no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import logging
import os
import signal
import sys
from pathlib import Path

from leerbot import __version__
from leerbot.config import ConfigError, Settings, check_content, load_settings, masked
from leerbot.i18n import translate

EXIT_OK = 0
EXIT_FAILED_COMMANDS = 1
EXIT_CONFIG = 2
EXIT_DATABASE = 3
EXIT_INTERRUPTED = 130  # as a shell reports a program stopped with Ctrl-C


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="leerbot",
        description="leerbot — a Community of Learners on Discord (and in your terminal).",
    )
    parser.add_argument("--version", action="version", version=f"leerbot {__version__}")
    parser.add_argument(
        "--config", metavar="FILE", help="configuration file (default: $LEERBOT_CONFIG, or none)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("run", help="connect to Discord and serve the community")
    commands.add_parser(
        "health",
        help="is the bot on this machine working? (exit 0 yes, 1 no, with the reason)",
    )

    console = commands.add_parser(
        "console", help="talk to the bot in this terminal (no Discord needed)"
    )
    console.add_argument("--as", dest="as_name", metavar="NAME", help="act as this member")
    console.add_argument(
        "--role",
        choices=[
            "lid",
            "member",
            "ervaringsdeskundige",
            "professional",
            "moderator",
            "coordinator",
        ],
        help="act with this role (default: coordinator, it is your own local community)",
    )
    console.add_argument("--lang", choices=["nl", "en"], help="language of the answers")
    demo = console.add_mutually_exclusive_group()
    demo.add_argument("--demo", action="store_true", help="fill an empty community with a demo")
    demo.add_argument("--no-demo", action="store_true", help="never offer the demo")
    console.add_argument(
        "--files", metavar="DIR", default=".", help="where exported files are written"
    )

    db = commands.add_parser("db", help="database maintenance")
    db.set_defaults(usage=db.format_help)
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_commands.add_parser("upgrade", help="bring the database to this version's schema")
    db_commands.add_parser("status", help="show the database's schema version")

    commands.add_parser("check-config", help="print the resolved configuration, secrets masked")

    export = commands.add_parser("export", help="export for coordinators (written to a file)")
    export.set_defaults(usage=export.format_help)
    export_kinds = export.add_subparsers(dest="export_kind", metavar="WHAT")
    agenda = export_kinds.add_parser("agenda", help="the development agenda")
    agenda.add_argument("--format", choices=["md", "html", "csv", "xlsx", "docx"], default="md")
    agenda.add_argument("--van", "--from", dest="start", metavar="YYYY-MM-DD")
    agenda.add_argument("--tot", "--to", dest="end", metavar="YYYY-MM-DD")
    agenda.add_argument("--site", help="only this pilot site")
    agenda.add_argument("--thema", "--theme", dest="theme", help="only this theme (key)")
    agenda.add_argument("--lang", choices=["nl", "en"], help="language of the export")
    agenda.add_argument("--community", help="server id or name (needed with several)")
    agenda.add_argument("--out", metavar="FILE", help="file to write (default: a name in .)")
    return parser


def _configure_logging(settings: Settings, *, quiet_console: bool) -> None:
    level = getattr(logging, settings.logging.level)
    handlers: list[logging.Handler] = []
    if settings.logging.file:
        handlers.append(logging.FileHandler(settings.logging.file, encoding="utf-8"))
    elif quiet_console:
        handlers.append(logging.FileHandler("leerbot.log", encoding="utf-8"))
    else:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(
        level=level,
        handlers=handlers,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return EXIT_OK
    try:
        settings = load_settings(args.config)
        check_content(settings)
    except ConfigError as exc:  # for `health` too a "no" (Docker reserves exit code 2)
        return _fail(str(exc), EXIT_FAILED_COMMANDS if args.command == "health" else EXIT_CONFIG)
    locale = settings.default_locale

    if args.command == "check-config":
        print(json.dumps(masked(settings), indent=2, ensure_ascii=False))
        return EXIT_OK
    if args.command == "db":
        if args.db_command not in ("upgrade", "status"):
            return _fail(args.usage().rstrip(), EXIT_CONFIG)
        _configure_logging(settings, quiet_console=False)
        return asyncio.run(_db(settings, args.db_command, locale))
    if args.command == "console":
        _configure_logging(settings, quiet_console=True)
        try:
            return asyncio.run(_console(settings, args))
        except KeyboardInterrupt:  # Ctrl-C while a command was running
            print("\n" + translate(args.lang or locale, "console.stopped"), flush=True)
            return EXIT_INTERRUPTED
    if args.command == "export":
        if args.export_kind != "agenda":
            return _fail(args.usage().rstrip(), EXIT_CONFIG)
        _configure_logging(settings, quiet_console=False)
        return asyncio.run(_export_agenda(settings, args))
    if args.command == "run":
        _configure_logging(settings, quiet_console=False)
        return asyncio.run(_run(settings, locale))
    if args.command == "health":
        return asyncio.run(_health(settings, locale))
    return EXIT_CONFIG


async def _health(settings: Settings, locale: str) -> int:
    """One line, exit 0 (healthy) or 1: what Docker's HEALTHCHECK and compose run."""
    from datetime import UTC, datetime

    from leerbot import health
    from leerbot.db import migrate
    from leerbot.db.engine import create_engine

    url = settings.database_url.get_secret_value()
    missing = _missing_sqlite_file(url)
    if missing is not None:  # connecting would create it
        print(translate(locale, "cli.health_db_missing", path=str(missing)))
        return EXIT_FAILED_COMMANDS
    engine = create_engine(url)
    try:
        # the wall clock: the bot writes its heartbeat on the computer's clock too
        found = await asyncio.wait_for(health.check(engine, datetime.now(UTC)), timeout=20)
    except migrate.DatabaseTooNew as exc:
        found = health.Health(False, "health_too_new", {"revision": exc.revision})
    except Exception as exc:  # unreachable, refused, timed out, or answered with an error
        found = health.Health(False, "health_db_unreachable", {"error": type(exc).__name__})
    finally:
        await engine.dispose()
    print(translate(locale, f"cli.{found.key}", **found.params))
    return EXIT_OK if found.ok else EXIT_FAILED_COMMANDS


async def _db(settings: Settings, action: str, locale: str) -> int:
    from leerbot.db import migrate
    from leerbot.db.engine import create_engine

    url = settings.database_url.get_secret_value()
    missing = _missing_sqlite_file(url)
    if action == "status" and missing is not None:  # connecting would create it
        return _fail(translate(locale, "cli.db_missing", path=str(missing)), EXIT_DATABASE)
    engine = create_engine(url)
    try:
        if action == "upgrade":
            before = await migrate.schema_state(engine)
            if before.up_to_date:
                print(translate(locale, "cli.db_current", current=before.current))
                return EXIT_OK
            after = await migrate.upgrade(engine)
            print(
                translate(
                    locale, "cli.db_upgraded", before=before.current or "-", after=after.current
                )
            )
        else:
            state = await migrate.schema_state(engine)
            key = "cli.db_current" if state.up_to_date else "cli.db_behind"
            print(translate(locale, key, current=state.current or "-", head=state.head))
        return EXIT_OK
    except migrate.DatabaseTooNew as exc:
        return _fail(translate(locale, "cli.db_too_new", revision=exc.revision), EXIT_DATABASE)
    except OSError as exc:
        return _fail(translate(locale, "cli.db_unreachable", error=str(exc)), EXIT_DATABASE)
    finally:
        await engine.dispose()


def _missing_sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database that does not exist yet (None for anything else)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    database = parsed.database
    if not parsed.drivername.startswith("sqlite") or not database:
        return None
    if database == ":memory:" or database.startswith("file:"):
        return None
    path = Path(database).absolute()
    return None if path.exists() else path


async def _console(settings: Settings, args: argparse.Namespace) -> int:
    from leerbot.adapters.console.run import ConsoleOptions, run_script, run_terminal
    from leerbot.app import open_app
    from leerbot.db import migrate

    locale = args.lang or settings.default_locale
    # A person at a terminal gets line editing, completion and Markdown; anything else
    # (a pipe, a file, a test) is a script, read line by line, in plain text.
    interactive = sys.stdin.isatty() and sys.stdout.isatty()
    name = args.as_name or _default_name()
    options = ConsoleOptions(
        name=name,
        role=args.role or ("coordinator" if not args.as_name else "lid"),
        locale=args.lang,
        files_dir=Path(args.files),
        demo=True if args.demo else False if args.no_demo else None,
    )
    try:
        async with open_app(settings) as app:
            if interactive:
                await run_terminal(app, options)
                return EXIT_OK
            failures = await run_script(
                app,
                dataclasses.replace(options, demo=bool(args.demo)),
                iter(sys.stdin.readline, ""),
            )
    except migrate.DatabaseTooNew as exc:
        return _fail(translate(locale, "cli.db_too_new", revision=exc.revision), EXIT_DATABASE)
    except OSError as exc:
        return _fail(translate(locale, "cli.db_unreachable", error=str(exc)), EXIT_DATABASE)
    if failures:
        return _fail(
            translate(locale, "console.script_failures", count=failures), EXIT_FAILED_COMMANDS
        )
    return EXIT_OK


async def _export_agenda(settings: Settings, args: argparse.Namespace) -> int:
    """The same export as `/agenda export`, made by the same function, as a coordinator."""
    from sqlalchemy import or_, select

    from leerbot.app import open_app
    from leerbot.chat.agenda import export_report
    from leerbot.chat.context import Context
    from leerbot.core.actor import system_actor
    from leerbot.core.errors import LeerbotError
    from leerbot.db import migrate
    from leerbot.db.models import Community

    locale = args.lang or settings.default_locale
    try:
        async with open_app(settings) as app, app.sessionmaker() as db:
            query = select(Community)
            if args.community:
                query = query.where(
                    or_(Community.platform_id == args.community, Community.name == args.community)
                )
            found = list(await db.scalars(query.order_by(Community.id)))
            if len(found) != 1:
                names = ", ".join(f"{c.name} ({c.platform_id})" for c in found) or "-"
                return _fail(
                    translate(locale, "cli.export_pick_community", names=names), EXIT_CONFIG
                )
            community = found[0]
            actor = dataclasses.replace(system_actor(community.id), locale=locale)
            ctx = Context(db=db, actor=actor, community=community, settings=settings)
            try:
                name, data = await export_report(
                    ctx, args.format, args.start, args.end, args.site, args.theme
                )
            except LeerbotError as exc:
                from leerbot.chat.dispatch import error_reply
                from leerbot.chat.reply import render

                reply = error_reply(exc, locale)
                return _fail(render(reply.text, locale), EXIT_CONFIG)
    except migrate.DatabaseTooNew as exc:
        return _fail(translate(locale, "cli.db_too_new", revision=exc.revision), EXIT_DATABASE)
    await asyncio.to_thread(_write_file, Path(args.out or name), data, locale)
    return EXIT_OK


def _write_file(target: Path, data: bytes, locale: str) -> None:
    target.write_bytes(data)
    print(translate(locale, "cli.export_written", path=str(target), size=len(data)))


def _default_name() -> str:
    try:
        return getpass.getuser().capitalize() or "Jij"
    except Exception:
        return "Jij"


async def _run(settings: Settings, locale: str) -> int:
    from leerbot.app import open_app
    from leerbot.db import migrate

    if settings.discord.token is None:
        return _fail(translate(locale, "cli.token_missing"), EXIT_CONFIG)
    try:
        from leerbot.adapters.discord import DiscordLoginFailed, run_discord
    except ImportError:  # the Discord front end is optional in a stripped install
        return _fail(translate(locale, "cli.discord_unavailable"), EXIT_CONFIG)
    stop = _stop_on_signals()
    try:
        async with open_app(settings) as app:
            if not stop.is_set():  # a signal during the start (a migration) ends it here
                await run_discord(app, stop=stop)
    except migrate.DatabaseTooNew as exc:
        return _fail(translate(locale, "cli.db_too_new", revision=exc.revision), EXIT_DATABASE)
    except DiscordLoginFailed as exc:
        return _fail(translate(locale, f"cli.{exc.key}"), EXIT_CONFIG)
    except OSError as exc:
        return _fail(translate(locale, "cli.db_unreachable", error=str(exc)), EXIT_DATABASE)
    return EXIT_OK


def _stop_on_signals() -> asyncio.Event:
    """SIGTERM (`docker stop`) and SIGINT (Ctrl-C) set the returned event: `leerbot run`
    then stops cleanly and exits 0 (see `leerbot.adapters.discord.runner`). A second signal
    stops at once: work in flight is then taken over after the lease expires."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    log = logging.getLogger("leerbot")

    def on_signal(number: int) -> None:
        name = signal.Signals(number).name
        if stop.is_set():
            log.warning("%s again: stopping at once", name)
            logging.shutdown()
            os._exit(EXIT_INTERRUPTED)
        log.info("%s: stopping", name)
        stop.set()

    for number in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(number, on_signal, number)
        except (NotImplementedError, RuntimeError):  # Windows: Ctrl-C stays an exception
            pass
    return stop


if __name__ == "__main__":
    raise SystemExit(main())
