"""How a reply looks in the console.

Two renderers with one shape. `PlainRenderer` writes plain text: Markdown stays as typed
(`**vet**`), there are no escape codes, and a script's output reads the same in a file, a
pipe or a test. `TerminalRenderer` shows the same reply as a terminal would show it, with
rich: bold and italic text, headings, lists with bullets, code in its own colour. It is only
used when a person sits at a real terminal.

Text that members wrote can hold control characters (an escape sequence pasted into a form
could move the cursor, change the title of the window or hide text); both renderers show
them as visible symbols instead of passing them to the terminal.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from functools import cache
from typing import Protocol

from leerbot.chat.reply import Reply, render

# C0 controls except tab and newline, DEL, and the C1 controls (ESC starts most of them).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def visible(text: str) -> str:
    """Replace control characters with their visible picture (␛ for ESC): shown, harmless."""
    return _CONTROL.sub(_picture, text)


def _picture(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x20:
        return chr(0x2400 + code)  # the "Control Pictures" block: ␀ … ␟
    if code == 0x7F:
        return "\u2421"  # ␡
    return "\ufffd"  # C1 controls have no picture


class Renderer(Protocol):
    def reply(self, reply: Reply, locale: str) -> list[str]:
        """Title, text and fields of a reply as lines (buttons, forms and files apart)."""

    def error(self, text: str) -> str:
        """A refusal or a mistake, one block of text."""

    def buttons(self, labels: list[str]) -> str:
        """Numbered choices: `[1] Ja  [2] Nee`."""


class PlainRenderer:
    """Plain text: what a script, a pipe and the tests read."""

    def reply(self, reply: Reply, locale: str) -> list[str]:
        lines = []
        if reply.title:
            lines.append(f"== {visible(render(reply.title, locale))} ==")
        if reply.text:
            lines.append(visible(render(reply.text, locale)))
        for item in reply.fields:
            value = visible(render(item.value, locale)).replace("\n", "\n    ")
            lines.append(f"  {visible(render(item.label, locale))}: {value}")
        return lines

    def error(self, text: str) -> str:
        return "! " + visible(text)

    def buttons(self, labels: list[str]) -> str:
        return "  ".join(f"[{i}] {visible(label)}" for i, label in enumerate(labels, 1))


class TerminalRenderer:
    """Markdown as a terminal shows it (rich), wrapped to the terminal's width."""

    LABEL_BESIDE = 24  # a field's label up to this long stands beside its value

    def __init__(self, width: Callable[[], int], *, color_system: str | None = "auto") -> None:
        self._width = width
        self._color_system = color_system

    def reply(self, reply: Reply, locale: str) -> list[str]:
        from rich.padding import Padding
        from rich.text import Text

        parts: list[object] = []
        if reply.title:
            parts.append(Text(visible(render(reply.title, locale)), style="bold cyan"))
        if reply.text:
            parts.append(_markdown(visible(render(reply.text, locale))))
        for item in reply.fields:
            label = Text(visible(render(item.label, locale)) + ":", style="bold")
            value = _markdown(visible(render(item.value, locale)))
            if len(label) <= self.LABEL_BESIDE:
                parts.append(Padding(_beside(label, value), (0, 0, 0, 2)))
            else:
                parts.append(Padding(label, (0, 0, 0, 2)))
                parts.append(Padding(value, (0, 0, 0, 4)))
        return self._lines(parts)

    def error(self, text: str) -> str:
        from rich.text import Text

        sign = Text("!", style="bold red")
        return "\n".join(self._lines([_beside(sign, _markdown(visible(text), style="red"))]))

    def buttons(self, labels: list[str]) -> str:
        from rich.text import Text

        line = Text()
        for number, label in enumerate(labels, 1):
            if number > 1:
                line.append("  ")
            line.append(f"[{number}]", style="bold")
            line.append(" " + visible(label))
        return "\n".join(self._lines([line]))

    def _lines(self, parts: list[object]) -> list[str]:
        from rich.console import Console

        buffer = io.StringIO()
        console = Console(
            file=buffer,
            width=max(self._width(), 20),
            force_terminal=True,
            color_system=self._color_system,  # type: ignore[arg-type]
            highlight=False,
            markup=False,
            emoji=False,
            legacy_windows=False,
        )
        for part in parts:
            console.print(part)
        return [line.rstrip(" ") for line in buffer.getvalue().rstrip("\n").split("\n")]


def _beside(left: object, right: object) -> object:
    """Two renderables side by side: a label and its value, a sign and its text."""
    from rich.table import Table

    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row(left, right)  # type: ignore[arg-type]
    return grid


def _markdown(text: str, style: str = "none") -> object:
    """Markdown the way Discord reads it: every newline is a line break, four spaces at the
    start of a line are no code block, and HTML is text."""
    from markdown_it import MarkdownIt

    document = _markdown_class()(text, style=style, hyperlinks=False)
    parser = (
        MarkdownIt("commonmark", {"html": False})
        .disable(["code", "lheading"])
        .enable(["strikethrough", "table"])
    )
    tokens = parser.parse(text)
    for token in tokens:
        for child in token.children or ():
            if child.type == "softbreak":
                child.type = "hardbreak"
    document.parsed = tokens
    return document


@cache
def _markdown_class() -> type:
    from rich.console import Console, ConsoleOptions, RenderResult
    from rich.markdown import Heading, Markdown

    class LeftHeading(Heading):
        """Headings on the left, without a frame, as in a chat message (rich centres or
        frames the first level)."""

        def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
            text = self.text.copy()
            text.justify = "left"
            yield text

    class DiscordMarkdown(Markdown):
        elements = {**Markdown.elements, "heading_open": LeftHeading}

    return DiscordMarkdown
