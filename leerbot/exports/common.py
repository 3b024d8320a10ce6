"""What every export format shares: member text made inert for the program that opens the
file, dates written the way a reader of that language writes them, labels instead of keys.

- Markdown: `markdown()` escapes every character with a Markdown meaning inside a line, HTML's
  `<` and `&`, and what would start a heading, list or rule at the start of a line, so a title
  like `*sterretjes*`, `1. punt` or `<script>` stays text in any Markdown reader.
- Spreadsheets: `cell()` follows OWASP's rule against formula injection: a cell that starts
  with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'`, so Excel and
  LibreOffice show it as text instead of running it.
- Dates: Babel's CLDR data (`format_day`), not hand-made month tables.

Rendering is CPU work (a large agenda takes seconds): `rendered()` runs it in a worker
thread, so the bot keeps answering others meanwhile. Callers read the data in their unit of
work and render after it closed (no transaction is held open while a file is made).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import date, datetime

from babel.dates import format_date, format_datetime
from sqlalchemy.ext.asyncio import AsyncSession

from leerbot.core.steps import SecondStep
from leerbot.i18n import normalize_locale

_INLINE = ("\\", "`", "*", "_", "[", "]", "<", ">", "&", "|", "~")
_LINE_START = re.compile(r"^( *)([#+\-=]|\d+[.)])", re.MULTILINE)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BABEL_LOCALES = {"nl": "nl_NL", "en": "en_GB"}


async def rendered(render: Callable[[], bytes]) -> bytes:
    """The bytes of an export, made in a worker thread (never on the event loop). `render`
    works on plain data already read: it must not touch the database."""
    return await asyncio.to_thread(render)


def render_after_commit(
    steps: list[SecondStep], render: Callable[[], bytes], deliver: Callable[[bytes], None]
) -> None:
    """Render once the command's unit of work has committed and closed (a second step that
    touches no database), in a worker thread, and hand the bytes to `deliver` before the
    member is answered. The Discord adapter has deferred the interaction by then."""

    async def run(_db: AsyncSession) -> None:
        deliver(await rendered(render))

    steps.append(SecondStep(run))


def markdown(value: object) -> str:
    """Member text inside a Markdown document: shown as written, never as formatting or
    HTML. Line breaks are kept as Markdown line breaks."""
    text = str(value)
    for char in _INLINE:  # C-speed replaces: an export escapes a million of these
        if char in text:
            text = text.replace(char, "\\" + char)
    if "\n" in text or text[:1] in "#+-=0123456789 ":
        text = _LINE_START.sub(_escape_line_start, text)  # headings, lists, rules
    return text.replace("\r\n", "\n").replace("\n", "  \n")


def _escape_line_start(match: re.Match[str]) -> str:
    marker = match.group(2)
    if marker[0].isdigit():
        return match.group(1) + marker[:-1] + "\\" + marker[-1]
    return match.group(1) + "\\" + marker


def cell(value: object) -> object:
    """A spreadsheet cell that cannot be a formula (numbers and dates pass unchanged)."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def babel_locale(locale: str) -> str:
    return BABEL_LOCALES[normalize_locale(locale)]


def format_day(day: date | datetime | None, locale: str, style: str = "long") -> str:
    """'29 maart 2026' / '29 March 2026' (style "long"), '29-03-2026' / '29/03/2026'
    ("short"); empty for no date."""
    if day is None:
        return ""
    if isinstance(day, datetime):
        day = day.date()
    return format_date(day, format=style, locale=babel_locale(locale))


def format_moment(moment: datetime, locale: str, tz: object) -> str:
    """A date and time in the community's time zone: '29 maart 2026 19:30'."""
    local = moment.astimezone(tz)  # type: ignore[arg-type]
    return format_datetime(local, "d MMMM y HH:mm", locale=babel_locale(locale))
