"""The console at a real terminal, with prompt_toolkit.

- Line editing as in a shell: arrow keys, Home/End, Ctrl-A/E/K/U/W, and the history of this
  session's commands with ↑ and ↓ (Ctrl-R searches it). The history is kept in memory only:
  commands can hold personal text, so nothing is written to disk. What is typed into a form
  or at numbered choices is not remembered at all.
- Tab completes command names, option names (`titel:`, with their one-line description
  beside them), choices (`soort:verslavingszorg`) and the console's own `.als` / `.taal`.
- Ctrl-L clears the screen. Ctrl-C drops the line being typed, or cancels a form; Ctrl-D on
  an empty line ends the console (see `ConsoleSession` for what each means where).
- While the console waits for a line, the event loop runs: the scheduler sends reminders and
  notices then, and they are printed above the prompt without breaking what is being typed
  (prompt_toolkit's `in_terminal`: the prompt is taken away, the lines written, the prompt
  drawn again).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from prompt_toolkit import PromptSession
from prompt_toolkit.application import Application, in_terminal
from prompt_toolkit.application.current import set_app
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import DummyHistory, InMemoryHistory
from prompt_toolkit.patch_stdout import patch_stdout

from leerbot.adapters.console.session import ALL_ROLES, Interrupted
from leerbot.chat.commands import Command, ParamType, Registry
from leerbot.i18n import LOCALES, has_key, translate

if TYPE_CHECKING:
    from prompt_toolkit.input import Input
    from prompt_toolkit.output import Output

META_COMMANDS = {"nl": ("als", "taal", "stop"), "en": ("as", "lang", "stop")}
YES_NO = {"nl": ("ja", "nee"), "en": ("yes", "no")}


def split_for_completion(text: str) -> tuple[list[str], str]:
    """The words before the cursor and the one being typed; double quotes group words,
    as in `parse_command_line`. `naam:"De Ach` → ([...], 'naam:"De Ach')."""
    words: list[str] = []
    current = ""
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
            current += char
        elif char.isspace() and not quoted:
            if current:
                words.append(current)
            current = ""
        else:
            current += char
    return words, current


class CommandCompleter(Completer):
    """Completes from the command registry, in the member's language (the other language's
    names are offered when nothing matches, since both work)."""

    def __init__(self, registry: Registry, locale: Callable[[], str]) -> None:
        self.registry = registry
        self.locale = locale

    def get_completions(
        self, document: Document, complete_event: CompleteEvent
    ) -> Iterable[Completion]:
        text = document.text_before_cursor
        stripped = text.lstrip()
        if stripped.startswith("."):
            yield from self._meta(stripped[1:])
        elif stripped.startswith("/"):
            yield from self._command(stripped[1:])
        elif not stripped:
            yield from self._first_words("", slash=True)

    # --- commands ------------------------------------------------------------------------

    def _command(self, text: str) -> Iterator[Completion]:
        words, current = split_for_completion(text)
        if not words:
            yield from self._first_words(current)
            return
        names = [word for word in words if ":" not in word]
        if names != words[: len(names)]:
            return  # a word after the options: nothing sensible to offer
        found = self.registry.find(names)
        if found is None:
            if len(names) == len(words) == 1 and ":" not in current:
                yield from self._second_words(words[0], current)
            return
        command, rest = found
        takes_words = any(getattr(param, "words", False) for param in command.params)
        if takes_words and len(names) == len(words) and ":" not in current:
            # `/help sessie pl` → the words name a command (`/help sessie plannen`)
            if not rest:
                yield from self._first_words(current)
                if command.params:
                    yield from self._options(command, current, set())
            elif len(rest) == 1:
                yield from self._second_words(rest[0], current)
            return
        if rest:
            return
        if ":" in current:
            name, _, value = current.partition(":")
            yield from self._values(command, name, value)
        else:
            used = {word.partition(":")[0].lower() for word in words}
            yield from self._options(command, current, used)

    def _first_words(self, prefix: str, *, slash: bool = False) -> Iterator[Completion]:
        locale = self.locale()
        choices: dict[str, str] = {}
        for language in (locale, *(other for other in LOCALES if other != locale)):
            for command in self.registry.sorted_commands():
                path = command.path_en if language == "en" else command.path
                if len(path) == 1:
                    meta = translate(locale, f"{command.key}.description")
                else:
                    key = f"commands.groups.{command.path[0]}"
                    meta = translate(locale, key) if has_key(key) else ""
                choices.setdefault(path[0], meta)
            matching = {w: m for w, m in choices.items() if w.startswith(prefix.lower())}
            if matching:
                break
            choices = {}
        for word, meta in sorted(matching.items()):
            shown = "/" + word if slash else word
            yield Completion(
                shown + " ", start_position=-len(prefix), display="/" + word, display_meta=meta
            )

    def _second_words(self, first: str, prefix: str) -> Iterator[Completion]:
        locale = self.locale()
        first = first.lower()
        for language in (locale, *(other for other in LOCALES if other != locale)):
            matching = []
            for command in self.registry.sorted_commands():
                path = command.path_en if language == "en" else command.path
                if len(path) == 2 and path[0] == first and path[1].startswith(prefix.lower()):
                    matching.append((path[1], translate(locale, f"{command.key}.description")))
            if matching:
                for word, meta in matching:
                    yield Completion(
                        word + " ", start_position=-len(prefix), display=word, display_meta=meta
                    )
                return

    def _options(self, command: Command, prefix: str, used: set[str]) -> Iterator[Completion]:
        locale = self.locale()
        required = translate(locale, "console.required")
        params = sorted(command.params, key=lambda p: not p.required)
        for language in (locale, *(other for other in LOCALES if other != locale)):
            matching = []
            for param in params:
                if param.name in used or param.name_en in used:
                    continue
                name = param.name_en if language == "en" else param.name
                if name.startswith(prefix.lower()):
                    meta = translate(locale, f"{command.key}.params.{param.name}")
                    matching.append((name, f"{required}: {meta}" if param.required else meta))
            if matching:
                for name, meta in matching:
                    yield Completion(
                        name + ":", start_position=-len(prefix), display=name, display_meta=meta
                    )
                return

    def _values(self, command: Command, name: str, typed: str) -> Iterator[Completion]:
        param = command.param(name.lower())
        if param is None:
            return
        locale = self.locale()
        prefix = typed.lstrip('"').casefold()
        options: list[tuple[str, str]] = []
        if param.choices:
            for choice in param.choices:
                label = choice.name_en if locale == "en" else choice.name_nl
                options.append((choice.value, label if label != choice.value else ""))
        elif param.type is ParamType.BOOLEAN:
            options = [(word, "") for word in YES_NO["en" if locale == "en" else "nl"]]
        for value, meta in options:
            if value.casefold().startswith(prefix):
                written = f'"{value}"' if any(c.isspace() for c in value) else value
                yield Completion(
                    written + " ", start_position=-len(typed), display=value, display_meta=meta
                )

    # --- the console's own lines ---------------------------------------------------------

    def _meta(self, text: str) -> Iterator[Completion]:
        words, current = split_for_completion(text)
        locale = self.locale()
        if not words:
            for verb in META_COMMANDS["en" if locale == "en" else "nl"]:
                if verb.startswith(current.lower()):
                    yield Completion(verb + " ", start_position=-len(current), display="." + verb)
            return
        verb = words[0].lower()
        if verb in ("taal", "lang") and len(words) == 1:
            options: Iterable[str] = LOCALES
        elif verb in ("als", "as") and len(words) >= 2:
            options = ALL_ROLES
        else:
            return
        for option in options:
            if option.startswith(current.lower()):
                yield Completion(option, start_position=-len(current))


class Terminal:
    """Asks for lines at a terminal and shows what the console says; `input`/`output` are
    for tests (a pipe for the keyboard, an emulated screen)."""

    def __init__(
        self,
        registry: Registry,
        locale: Callable[[], str],
        *,
        input: Input | None = None,
        output: Output | None = None,
    ) -> None:
        self._commands: PromptSession[str] = PromptSession(
            history=InMemoryHistory(),
            completer=CommandCompleter(registry, locale),
            complete_while_typing=False,
            input=input,
            output=output,
        )
        # Answers in forms can be personal: they are not remembered, not even in memory.
        self._answers: PromptSession[str] = PromptSession(
            history=DummyHistory(), input=input, output=output
        )
        self._output = self._commands.app.output
        self._asking: Application[str] | None = None
        self._pending: list[str] = []
        self._writer: asyncio.Future[None] | None = None

    # --- input ---------------------------------------------------------------------------

    async def ask(self, prompt: str, kind: str = "command") -> str | None:
        """One line; None at Ctrl-D on an empty line; `Interrupted` at Ctrl-C."""
        session = self._commands if kind == "command" else self._answers
        self._asking = session.app
        try:
            return await session.prompt_async(prompt)
        except EOFError:
            return None
        except KeyboardInterrupt:
            raise Interrupted from None
        finally:
            self._asking = None

    # --- output --------------------------------------------------------------------------

    def say(self, text: str) -> None:
        """Show a line (it may hold escape codes for bold and colour). While a prompt is on
        the screen, the line goes above it and the prompt, with what is typed, is drawn
        again below; lines keep their order."""
        self._pending.append(text)
        app = self._asking
        if app is not None and app.is_running:
            if self._writer is None or self._writer.done():
                self._writer = asyncio.ensure_future(self._write_above(app))
        else:
            self.flush()

    def flush(self) -> None:
        lines, self._pending = self._pending, []
        if lines:
            self._output.write_raw("\n".join(lines) + "\n")
            self._output.flush()

    async def _write_above(self, app: Application[str]) -> None:
        with set_app(app):
            async with in_terminal():
                self.flush()

    def width(self) -> int:
        return self._output.get_size().columns

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """While the console runs: anything else printed (a library's warning) also goes
        above the prompt; at the end, every line is out."""
        try:
            with patch_stdout(raw=True):
                yield
        finally:
            self.flush()
