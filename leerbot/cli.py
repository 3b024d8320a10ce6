"""The command line: `leerbot run | console | db upgrade | db status | check-config`.

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
import sys
from pathlib import Path

from leerbot import __version__
from leerbot.config import ConfigError, Settings, check_content, load_settings, masked
from leerbot.i18n import translate

EXIT_OK = 0
EXIT_FAILED_COMMANDS = 1
EXIT_CONFIG = 2
EXIT_DATABASE = 3


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
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_commands.add_parser("upgrade", help="bring the database to this version's schema")
    db_commands.add_parser("status", help="show the database's schema version")

    commands.add_parser("check-config", help="print the resolved configuration, secrets masked")

    export = commands.add_parser("export", help="export for coordinators (written to a file)")
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
    except ConfigError as exc:
        return _fail(str(exc), EXIT_CONFIG)
    locale = settings.default_locale

    if args.command == "check-config":
        print(json.dumps(masked(settings), indent=2, ensure_ascii=False))
        return EXIT_OK
    if args.command == "db":
        if args.db_command not in ("upgrade", "status"):
            parser.parse_args(["db", "--help"])
            return EXIT_CONFIG
        _configure_logging(settings, quiet_console=False)
        return asyncio.run(_db(settings, args.db_command, locale))
    if args.command == "console":
        _configure_logging(settings, quiet_console=True)
        return asyncio.run(_console(settings, args))
    if args.command == "export":
        if args.export_kind != "agenda":
            parser.parse_args(["export", "--help"])
            return EXIT_CONFIG
        _configure_logging(settings, quiet_console=False)
        return asyncio.run(_export_agenda(settings, args))
    if args.command == "run":
        _configure_logging(settings, quiet_console=False)
        return asyncio.run(_run(settings, locale))
    return EXIT_CONFIG


async def _db(settings: Settings, action: str, locale: str) -> int:
    from leerbot.db import migrate
    from leerbot.db.engine import create_engine

    engine = create_engine(settings.database_url.get_secret_value())
    try:
        if action == "upgrade":
            before = await migrate.schema_state(engine)
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


async def _console(settings: Settings, args: argparse.Namespace) -> int:
    from leerbot.adapters.console.demo import community_is_empty, create_demo
    from leerbot.adapters.console.platform import ConsolePlatform
    from leerbot.adapters.console.session import ConsoleSession, Who
    from leerbot.app import open_app
    from leerbot.db import migrate
    from leerbot.scheduling import run_due

    locale = args.lang or settings.default_locale
    interactive = sys.stdin.isatty()
    name = args.as_name or _default_name()
    role = args.role or ("coordinator" if not args.as_name else "lid")
    try:
        async with open_app(settings) as app:
            session = ConsoleSession(
                app.dispatcher,
                Who(name=name, role=role),
                locale=args.lang,
                files_dir=Path(args.files),
                interactive=interactive,
            )
            platform = ConsolePlatform(session.say, lambda: session.lang, settings.tz)
            if interactive:
                scheduler = await app.start_scheduler(platform)
            else:  # a script: due work runs after each line, in order, for a readable log
                scheduler = app.make_scheduler(platform)
            session.after_command = lambda: run_due(scheduler)
            if interactive:
                session.ask = _ask
                session.say(translate(locale, "console.welcome", name=name, role=role))
            if not args.no_demo and await community_is_empty(app.dispatcher):
                wants_demo = args.demo
                if interactive and not wants_demo:
                    answer = _ask(translate(locale, "console.offer_demo") + " ")
                    wants_demo = (answer or "").strip().lower() in ("j", "ja", "y", "yes", "")
                if wants_demo:
                    await create_demo(app.dispatcher)
                    session.say(translate(locale, "console.demo_created"))
            await session.switch(session.who)
            failures = await session.run_lines(iter(sys.stdin.readline, ""))
    except migrate.DatabaseTooNew as exc:
        return _fail(translate(locale, "cli.db_too_new", revision=exc.revision), EXIT_DATABASE)
    except OSError as exc:
        return _fail(translate(locale, "cli.db_unreachable", error=str(exc)), EXIT_DATABASE)
    if not interactive and failures:
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


def _ask(prompt: str) -> str | None:
    try:
        return input(prompt)
    except EOFError:
        return None
    except KeyboardInterrupt:
        print()
        return None


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
    try:
        async with open_app(settings) as app:
            await run_discord(app)
    except migrate.DatabaseTooNew as exc:
        return _fail(translate(locale, "cli.db_too_new", revision=exc.revision), EXIT_DATABASE)
    except DiscordLoginFailed as exc:
        return _fail(translate(locale, f"cli.{exc.key}"), EXIT_CONFIG)
    except OSError as exc:
        return _fail(translate(locale, "cli.db_unreachable", error=str(exc)), EXIT_DATABASE)
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
