"""A terminal for tests: the console runs in a pseudo-terminal, its output is drawn on a
pyte screen (a VT100 emulator) and the test reads what a person would see and types keys.

Waiting is always for something on the screen (or the end of the program); the timeout is
only a guard against a hang, never a pause.
"""

from __future__ import annotations

import fcntl
import os
import pty
import select
import struct
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pyte

GUARD = 60.0  # seconds: only reached when something is broken

UP = "\x1b[A"
DOWN = "\x1b[B"
LEFT = "\x1b[D"
RIGHT = "\x1b[C"
HOME = "\x1b[H"
END = "\x1b[F"
TAB = "\t"
ENTER = "\r"
CTRL_C = "\x03"
CTRL_D = "\x04"
CTRL_L = "\x0c"


class _Screen(pyte.HistoryScreen):
    """Answers the cursor position request (prompt_toolkit asks it) as a terminal does, and
    keeps the lines that scrolled off the top."""

    def __init__(self, columns: int, lines: int, reply: Callable[[str], None]) -> None:
        super().__init__(columns, lines, history=100_000, ratio=0.5)
        self._reply = reply

    def write_process_input(self, data: str) -> None:
        self._reply(data)


class ScreenTimeout(AssertionError):
    pass


def scrollback(screen: pyte.HistoryScreen) -> str:
    """Everything shown since the start: the lines that scrolled away, then the screen."""
    columns = screen.columns
    gone = ["".join(row[x].data for x in range(columns)) for row in screen.history.top]
    return "\n".join(line.rstrip() for line in [*gone, *screen.display]).rstrip("\n")


class Terminal:
    """`python -m leerbot console …` at a terminal of `columns` × `lines`."""

    def __init__(
        self,
        args: list[str],
        *,
        cwd: Path,
        env: dict[str, str],
        columns: int = 100,
        lines: int = 40,
    ) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", lines, columns, 0, 0))
        self.screen = _Screen(columns, lines, self._answer)
        self.stream = pyte.ByteStream(self.screen)
        self.raw = b""
        self.process = subprocess.Popen(
            [sys.executable, "-m", "leerbot", *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=cwd,
            env=env | {"TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(lines)},
            start_new_session=True,
            close_fds=True,
        )
        os.close(slave)
        self.closed = False

    # --- typing --------------------------------------------------------------------------

    def type(self, keys: str) -> None:
        os.write(self.master, keys.encode("utf-8"))

    def _answer(self, data: str) -> None:
        os.write(self.master, data.encode("ascii"))

    # --- reading -------------------------------------------------------------------------

    def _read(self, timeout: float) -> bool:
        """Feed what arrived within `timeout`; False when the program closed the terminal."""
        if self.closed:
            return False
        ready, _, _ = select.select([self.master], [], [], timeout)
        if not ready:
            return True
        try:
            data = os.read(self.master, 65536)
        except OSError:  # EIO: every copy of the slave side is closed
            data = b""
        if not data:
            self.closed = True
            return False
        self.raw += data
        self.stream.feed(data)
        return True

    @property
    def text(self) -> str:
        """The screen as a person sees it, one line per row, trailing blanks removed."""
        return "\n".join(line.rstrip() for line in self.screen.display).rstrip("\n")

    @property
    def scrollback(self) -> str:
        return scrollback(self.screen)

    def wait_for(self, condition: str | Callable[[], bool], guard: float = GUARD) -> None:
        """Read until `condition` (a text on the screen, or a test) holds."""
        check = condition if callable(condition) else (lambda: condition in self.text)
        deadline = time.monotonic() + guard
        while not check():
            left = deadline - time.monotonic()
            if left <= 0 or (not self._read(min(left, 1.0)) and not check()):
                raise ScreenTimeout(
                    f"waited for {condition!r}; the screen shows:\n{self.text}\n"
                    f"(program {'ended' if self.closed else 'running'})"
                )

    def wait_for_count(self, text: str, count: int, guard: float = GUARD) -> None:
        self.wait_for(lambda: self.text.count(text) >= count, guard)

    def wait_for_end(self, guard: float = GUARD) -> int:
        deadline = time.monotonic() + guard
        while self._read(max(deadline - time.monotonic(), 0)):
            if time.monotonic() > deadline:
                raise ScreenTimeout(f"the program did not end; the screen shows:\n{self.text}")
        return self.process.wait(timeout=max(deadline - time.monotonic(), 1))

    def cursor_line(self) -> str:
        return self.screen.display[self.screen.cursor.y].rstrip()

    def styled(self, text: str, *, line_with: str = "") -> list[pyte.screens.Char]:
        """The screen cells of the first place where `text` is shown (for bold, colour), on a
        line that also shows `line_with`."""
        for y, line in enumerate(self.screen.display):
            x = line.find(text)
            if x >= 0 and line_with in line:
                row = self.screen.buffer[y]
                return [row[x + i] for i in range(len(text))]
        raise AssertionError(f"{text!r} is not on the screen:\n{self.text}")

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        os.close(self.master)


class ScreenOutput:
    """In-process: a file that prompt_toolkit's Vt100 output writes into, drawn on a pyte
    screen; `wait_for` wakes on each write (the event loop keeps running meanwhile)."""

    def __init__(self, columns: int = 100, lines: int = 40) -> None:
        import asyncio

        self.columns, self.lines = columns, lines
        self.screen = pyte.HistoryScreen(columns, lines, history=100_000)
        self.screen.set_mode(pyte.modes.LNM)  # a newline also returns, as a terminal's tty does
        self.stream = pyte.Stream(self.screen)
        self.encoding = "utf-8"
        self._loop = asyncio.get_running_loop()
        self._changed = asyncio.Event()

    # the file side -----------------------------------------------------------------------

    def write(self, data: str) -> int:
        self.stream.feed(data)
        self._loop.call_soon_threadsafe(self._changed.set)
        return len(data)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False  # so prompt_toolkit asks no cursor position reports

    def output(self) -> object:
        from prompt_toolkit.data_structures import Size
        from prompt_toolkit.output.vt100 import Vt100_Output

        return Vt100_Output(
            self,  # type: ignore[arg-type]
            lambda: Size(rows=self.lines, columns=self.columns),
            term="xterm-256color",
        )

    # the test side -----------------------------------------------------------------------

    @property
    def text(self) -> str:
        return "\n".join(line.rstrip() for line in self.screen.display).rstrip("\n")

    @property
    def scrollback(self) -> str:
        return scrollback(self.screen)

    def cursor_line(self) -> str:
        return self.screen.display[self.screen.cursor.y].rstrip()

    async def wait_for(self, condition: str | Callable[[], bool], guard: float = GUARD) -> None:
        import asyncio

        check = condition if callable(condition) else (lambda: condition in self.text)
        deadline = time.monotonic() + guard
        while True:
            self._changed.clear()
            if check():
                return
            left = deadline - time.monotonic()
            try:
                await asyncio.wait_for(self._changed.wait(), max(left, 0))
            except TimeoutError:
                raise ScreenTimeout(
                    f"waited for {condition!r}; the screen shows:\n{self.text}"
                ) from None
