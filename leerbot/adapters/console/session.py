"""A text front end in the manner of Errbot's and Hubot's shells: the same commands as on
Discord (`/site toevoegen naam:"De Achterkant"`), forms asked field by field, buttons as
numbered choices, files written to disk. Reads a script from stdin when it is not a terminal.

Console-only lines start with a dot: `.als NAAM [rol]` switches who you are, `.taal en`
switches language, `.stop` ends. Lines starting with `#` are comments.

Where the lines come from and how replies look are given to the session: a script (an
iterator of lines, plain text) or a person at a terminal (`terminal.Terminal`: line editing,
completion, Ctrl-C; replies rendered as Markdown). Ctrl-C while the console waits for a line
raises `Interrupted` from `ask`: at the prompt it drops the line, in a form it cancels the
form (nothing is stored), at numbered choices it chooses nothing.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from leerbot.adapters.console.render import PlainRenderer, Renderer, visible
from leerbot.chat.commands import MemberRef, ParamType
from leerbot.chat.context import Place
from leerbot.chat.dispatch import Dispatcher
from leerbot.chat.reply import Reply, UserText, render
from leerbot.core.actor import Function, Identity
from leerbot.i18n import normalize_locale, translate

CONSOLE_PLACE = Place(platform_id="console", name="Console")
FUNCTION_ROLES = ("moderator", "coordinator")
MEMBER_ROLES = ("ervaringsdeskundige", "professional")
ALL_ROLES = (*FUNCTION_ROLES, *MEMBER_ROLES, "lid", "member")


class CommandLineError(ValueError):
    """A console line that cannot be read; carries a prompt key."""

    def __init__(self, key: str, **params: str) -> None:
        self.key = key
        self.params = params
        super().__init__(key)


def parse_command_line(line: str) -> tuple[list[str], dict[str, str]]:
    """`/site toevoegen naam:"De Achterkant"` → (["site", "toevoegen"], {"naam": "..."})."""
    try:
        tokens = shlex.split(line.strip().removeprefix("/"))
    except ValueError:
        raise CommandLineError("console.unbalanced_quotes") from None
    words: list[str] = []
    args: dict[str, str] = {}
    for token in tokens:
        name, sep, value = token.partition(":")
        if sep and name and name.replace("_", "").isalnum():
            args[name.lower()] = value
        elif args:
            raise CommandLineError("console.word_after_options", word=token)
        else:
            words.append(token)
    if not words:
        raise CommandLineError("console.no_command")
    return words, args


def format_reply(reply: Reply, locale: str) -> list[str]:
    """Title, text and fields of a reply as plain console lines (buttons and files apart)."""
    return PlainRenderer().reply(reply, locale)


class Interrupted(Exception):
    """Ctrl-C while the console waited for a line."""


Ask = Callable[[str, str], Awaitable[str | None]]
"""`ask(prompt, kind)` → the line typed, or None at the end (Ctrl-D); kind is "command",
"field" (a form) or "choice" (numbered buttons). Raises `Interrupted` on Ctrl-C."""


@dataclass
class Who:
    name: str
    role: str

    def identity(self, locale: str | None) -> Identity:
        granted = frozenset({Function(self.role)}) if self.role in FUNCTION_ROLES else frozenset()
        return Identity(
            platform_id=self.name.casefold(),
            display_name=self.name,
            locale_hint=locale,
            granted_functions=granted,
        )


@dataclass
class ConsoleSession:
    """One person (switchable) talking to the bot through text lines."""

    dispatcher: Dispatcher
    who: Who
    locale: str | None = None
    out: TextIO | None = None
    """Where lines go; None: `sys.stdout` at the moment of writing."""
    emit: Callable[[str], None] | None = None
    """Instead of `out`: a terminal that shows each line (above its prompt, if one is up)."""
    files_dir: Path = field(default_factory=Path.cwd)
    interactive: bool = False
    failures: int = 0
    _lines: Iterator[str] = field(default_factory=lambda: iter(()))
    _pushed: list[str] = field(default_factory=list)
    ask: Ask | None = None
    after_command: Callable[[], Awaitable[object]] | None = None
    renderer: Renderer = field(default_factory=PlainRenderer)
    hold_notices: bool = False
    """Interactive: what the platform shows (reminders, posts, DMs) while a command is being
    handled (with its form and choices) waits until the console is back at its prompt, so
    it never lands in the middle of the command's output; while the console waits at the
    prompt it is shown at once, above it."""
    _waiting: bool = False
    _held: list[str] = field(default_factory=list)

    # --- text ----------------------------------------------------------------------------

    @property
    def lang(self) -> str:
        return normalize_locale(self.locale or self.dispatcher.settings.default_locale)

    def t(self, key: str, **params: object) -> str:
        return translate(self.lang, key, **params)

    def say(self, text: str = "") -> None:
        if self.emit is not None:
            self.emit(text)
        else:
            print(text, file=self.out or sys.stdout, flush=True)

    def notice(self, text: str) -> None:
        """A line from the platform side (a DM, a post, an event), not from the command."""
        if self.hold_notices and not self._waiting:
            self._held.append(text)
        else:
            self.say(text)

    def flush_notices(self) -> None:
        held, self._held = self._held, []
        for text in held:
            self.say(text)

    # --- input ---------------------------------------------------------------------------

    async def _next_line(self, prompt: str, kind: str = "command") -> str | None:
        if self._pushed:
            return self._pushed.pop()
        if self.ask is not None:
            # Notices wait while a command, its form or its choices are under way, and show
            # (all, in order) once the console is back at its prompt, idle.
            idle = kind == "command"
            if idle:
                self.flush_notices()
            self._waiting = idle
            try:
                return await self.ask(prompt, kind)
            finally:
                self._waiting = False
        return next(self._lines, None)

    async def _peek_choice(self, count: int) -> int | None:
        """In a script, a line with just a number right after buttons picks one."""
        try:
            line = await self._next_line(
                self.t("console.choose_prompt", count=count) + " ", "choice"
            )
        except Interrupted:
            self.say(self.t("console.choice_interrupted"))
            return None
        if line is None:
            return None
        stripped = line.strip()
        if stripped.isdigit() and 1 <= int(stripped) <= count:
            return int(stripped)
        if stripped and not self.interactive:
            self._pushed.append(line)
        elif stripped:
            self.say(self.t("console.choice_out_of_range", count=count))
        return None

    # --- the loop ------------------------------------------------------------------------

    async def run_lines(self, lines: Iterator[str]) -> int:
        """Run every line; returns the number of commands that failed."""
        self._lines = lines
        while True:
            try:
                line = await self._next_line(self.t("console.prompt", name=self.who.name) + " ")
            except Interrupted:
                self.say(self.t("console.interrupted"))
                continue
            if line is None:
                break
            if not await self.handle_line(line):
                break
        return self.failures

    async def handle_line(self, line: str) -> bool:
        """Handle one line; False means stop."""
        text = line.strip()
        if not text or text.startswith("#"):
            return True
        if not self.interactive:
            self.say(f"{self.who.name}> {text}")
        if text.startswith("."):
            return await self._meta(text)
        if not text.startswith("/"):
            self.say(self.t("console.start_with_slash"))
            self.failures += 1
            return True
        await self.command(text)
        await self._settle()
        return True

    async def switch(self, who: Who) -> None:
        """Act as someone else; a member role (ervaringsdeskundige, professional) is also
        filled in on that person's profile, as they would do themselves."""
        self.who = who
        if who.role in MEMBER_ROLES:
            reply = await self.dispatcher.run_text(
                CONSOLE_PLACE,
                who.identity(self.locale),
                ["profiel", "instellen"],
                {"rol": who.role},
            )
            if reply.is_error:
                await self.show(reply)

    async def _meta(self, text: str) -> bool:
        parts = text[1:].split()
        verb = parts[0].lower() if parts else ""
        if verb in ("stop", "quit", "exit"):
            return False
        if verb in ("als", "as") and len(parts) >= 2:
            role = parts[-1].lower() if len(parts) >= 3 else "lid"
            name = " ".join(parts[1:-1]) if len(parts) >= 3 else parts[1]
            if role not in ALL_ROLES:
                self.say(self.t("console.unknown_role", roles=", ".join(ALL_ROLES)))
                self.failures += 1
                return True
            await self.switch(Who(name=name, role=role))
            self.say(self.t("console.now_acting_as", name=name, role=role))
            return True
        if verb in ("taal", "lang") and len(parts) == 2:
            self.locale = normalize_locale(parts[1])
            self.say(self.t("console.language_set"))
            return True
        self.say(self.t("console.unknown_meta"))
        self.failures += 1
        return True

    async def command(self, text: str) -> Reply | None:
        try:
            words, args = parse_command_line(text)
        except CommandLineError as exc:
            self.say("! " + self.t(exc.key, **exc.params))
            self.failures += 1
            return None
        found = self.dispatcher.registry.find(words)
        typed: dict[str, object] = dict(args)
        if found is not None and not found[1]:
            for name, value in args.items():
                param = found[0].param(name)
                if param is not None and param.type is ParamType.MEMBER:
                    shown = value.strip().lstrip("@")
                    typed[name] = MemberRef(shown.casefold(), shown)
                elif param is not None and param.type is ParamType.CHANNEL:
                    typed[name] = value.strip().lstrip("#")
                elif param is not None and param.type is ParamType.ROLE:
                    typed[name] = value.strip().lstrip("@")
        reply = await self.dispatcher.run_text(
            CONSOLE_PLACE, self.who.identity(self.locale), words, typed
        )
        await self.show(reply)
        return reply

    async def _settle(self) -> None:
        """Let scheduled work that is due now (cards, notices) show before the next line."""
        if self.after_command is not None:
            await self.after_command()

    # --- showing replies -----------------------------------------------------------------

    async def show(self, reply: Reply) -> None:
        locale = reply.locale or self.lang
        if reply.is_error:
            self.failures += 1
            self.say(self.renderer.error(render(reply.text, locale)))
            return
        for line in self.renderer.reply(reply, locale):
            self.say(line)
        for extra in reply.followups:
            for line in self.renderer.reply(extra, extra.locale or locale):
                self.say(line)
        for attachment in reply.attachments:
            path = self._write_file(attachment.filename, attachment.data)
            self.say(translate(locale, "console.file_written", path=str(path)))
        if reply.form is not None:
            await self._fill_form(reply, locale)
            return
        if reply.buttons:
            self.say(self.renderer.buttons([render(b.label, locale) for b in reply.buttons]))
            choice = await self._peek_choice(len(reply.buttons))
            if choice is not None:
                button = reply.buttons[choice - 1]
                if not self.interactive:
                    self.say(f"{self.who.name}> {choice}")
                result = await self.dispatcher.press(
                    CONSOLE_PLACE, self.who.identity(self.locale), button.custom_id
                )
                await self._settle()
                await self.show(result)

    async def _fill_form(self, reply: Reply, locale: str) -> None:
        form = reply.form
        assert form is not None
        self.say(f"-- {visible(render(form.title, locale))} --")
        values: dict[str, str] = {}
        for item in form.fields:
            # a question too long for a Discord label continues in its placeholder
            long_text = isinstance(item.placeholder, UserText)
            label = visible(render(item.placeholder if long_text else item.label, locale))
            hint = " " + translate(locale, "console.optional") if not item.required else ""
            try:
                line = await self._next_line(f"{label}{hint}: ", "field")
            except Interrupted:
                line = None
            if line is None:
                self.say("! " + translate(locale, "console.form_cancelled"))
                self.failures += 1
                return
            if not self.interactive:
                self.say(f"{label}{hint}: {line.strip()}")
            values[item.name] = line.strip().replace("\\n", "\n")
        result = await self.dispatcher.submit(
            CONSOLE_PLACE, self.who.identity(self.locale), form.custom_id, values
        )
        await self.show(result)

    def _write_file(self, filename: str, data: bytes) -> Path:
        self.files_dir.mkdir(parents=True, exist_ok=True)
        target = self.files_dir / Path(filename).name
        stem, suffix, n = target.stem, target.suffix, 1
        while target.exists():
            n += 1
            target = self.files_dir / f"{stem}-{n}{suffix}"
        target.write_bytes(data)
        return target
