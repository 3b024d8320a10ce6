"""The local console: try the bot in a terminal, or run a script of commands."""

from leerbot.adapters.console.session import ConsoleSession, parse_command_line

__all__ = ["ConsoleSession", "parse_command_line"]
