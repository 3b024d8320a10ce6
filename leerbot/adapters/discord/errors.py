"""Why the Discord front end could not start. Each carries the key of a `cli.*` prompt, so
the command line can tell the coordinator what to do (never the token itself)."""

from __future__ import annotations


class DiscordLoginFailed(Exception):
    """The bot could not connect; `key` names the `cli.<key>` prompt that explains why."""

    key = "token_invalid"

    def __init__(self, key: str | None = None) -> None:
        if key is not None:
            self.key = key
        super().__init__(self.key)


class DiscordTokenMissing(DiscordLoginFailed):
    """No token in LEERBOT_DISCORD_TOKEN."""

    key = "token_missing"
