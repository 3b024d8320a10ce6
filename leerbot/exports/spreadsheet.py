"""Spreadsheets people can open: CSV for Dutch Excel and LibreOffice, and XLSX.

One `Table` (a sheet name, labelled columns, rows of plain values) is written either way, so
the CSV and the XLSX of an export always hold the same cells.

CSV
- UTF-8 with a byte order mark: without it Excel reads "Café" as "CafÃ©".
- `;` between columns by default: what Dutch Excel expects when a coordinator double-clicks
  the file (with `,` every row lands in column A). Configurable (`exports.csv_delimiter`).
- CRLF after every row; a line break inside a cell stays LF, as Excel itself writes it.
- The header row holds labels in the reader's language, never our keys.
- Every text cell goes through `common.cell()` (OWASP's formula rule: a leading `'`).
- Dates as ISO 8601 (2026-03-29): the one form Excel and LibreOffice read as a date in
  every language; Dutch "1-3-2026" reads as 3 January in English Excel.

XLSX (XlsxWriter, rows streamed)
- XlsxWriter (maintained, no dependencies, writes what Excel writes) makes the workbook:
  styles, header row, frozen pane, filter, widths, print settings, properties. Its
  per-cell calls cost ~7 µs even in `constant_memory` mode (openpyxl's write-only mode is
  slower still), 10 s for 100,000 points, so the rows themselves are written as sheet XML
  straight into the zip (`_stream_rows`): typed cells (inline strings, numbers, dates with
  a date style), never a formula, member text XML-escaped, constant memory.
- Member text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return gets Excel's
  own mark for "typed with a leading apostrophe" (`quotePrefix` in the cell style): the
  cell shows the text as written, and stays text when someone edits it later.
- A bold header row, frozen below the header, a filter on every column, column widths,
  text wrapped (never cut off), real dates (date cells in the reader's short date format
  from CLDR), printed on A4 landscape with the header row on every page.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence, Sized
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import IO, Literal

from babel.dates import get_date_format

from leerbot.exports.common import FORMULA_START, babel_locale, cell
from leerbot.exports.document import xml_text

DEFAULT_DELIMITER = ";"
DELIMITERS = (";", ",", "\t")
EXCEL_EPOCH = date(1899, 12, 30)
SHEET_NAME_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")

Kind = Literal["text", "long", "number", "date"]


@dataclass(frozen=True)
class Column:
    label: str
    kind: Kind = "text"
    """text: short text; long: descriptions, answers (both wrap at the column's width);
    number; date."""
    width: float = 14
    """XLSX column width in characters."""


@dataclass
class Table:
    name: str
    """The sheet name in the XLSX (at most 31 characters)."""
    columns: Sequence[Column]
    rows: Iterable[Sequence[object]]
    """Each row one value per column: str, int, float, date, or None for empty."""
    count: int | None = None
    """How many rows there are, when `rows` is a generator (so it need not be a list)."""


@dataclass(frozen=True)
class Properties:
    """The file's own properties (File > Properties in Excel)."""

    title: str
    community: str
    day: date | None = None
    language: str = "nl"
    extra: dict[str, str] = field(default_factory=dict)


# --- CSV ---------------------------------------------------------------------------------


def _csv_value(value: object) -> object:
    if value is None:
        return ""
    if isinstance(value, str):
        text = cell(value)
        assert isinstance(text, str)
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_csv(table: Table, delimiter: str = DEFAULT_DELIMITER) -> bytes:
    """The table as CSV bytes: BOM, `delimiter`, CRLF, labels, inert cells."""
    if delimiter not in DELIMITERS:
        raise ValueError(f"CSV delimiter {delimiter!r}; use one of {DELIMITERS}")
    raw = io.BytesIO()
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="", write_through=False)
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow([_csv_value(c.label) for c in table.columns])
    value = _csv_value
    writer.writerows([value(v) for v in row] for row in table.rows)
    text.flush()
    text.detach()
    return raw.getvalue()


# --- XLSX --------------------------------------------------------------------------------


def excel_date_format(locale: str) -> str:
    """The reader's short date pattern from CLDR as an Excel number format:
    'dd-mm-yyyy' (nl), 'dd/mm/yyyy' (en-GB)."""
    pattern = get_date_format("short", locale=babel_locale(locale)).pattern
    out = []
    for token in re.findall(r"d+|M+|y+|'[^']*'|.", pattern):
        if token.startswith("d"):
            out.append("dd" if len(token) > 1 else "d")
        elif token.startswith("M"):
            out.append("mm" if len(token) > 1 else "m")
        elif token.startswith("y"):
            out.append("yyyy")
        elif token.startswith("'"):
            out.append(token.strip("'"))
        else:
            out.append(token)
    return "".join(out)


def sheet_name(name: str, taken: set[str]) -> str:
    """A sheet name Excel accepts: at most 31 characters, none of []:*?/\\, unique."""
    base = SHEET_NAME_FORBIDDEN.sub(" ", name).strip().strip("'")[:31] or "Blad"
    candidate, n = base, 1
    while candidate.casefold() in taken:
        n += 1
        candidate = f"{base[: 31 - len(str(n)) - 1]} {n}"
    taken.add(candidate.casefold())
    return candidate


def write_xlsx(tables: Sequence[Table], properties: Properties) -> bytes:
    """The tables as one workbook, a sheet each.

    XlsxWriter writes the workbook (styles, formats, header rows, frozen panes, filters,
    column widths, print settings, properties); the rows are then streamed into each
    sheet's XML as the package is written (`_stream_rows`), because one Python call per
    cell (even XlsxWriter's constant_memory mode) costs about 7 µs: 10 s for 100,000
    points. Text cells are inline strings, numbers and dates typed values with a style."""
    import xlsxwriter

    raw = io.BytesIO()
    workbook = xlsxwriter.Workbook(raw, {"in_memory": True, "strings_to_formulas": False})
    moment = datetime.combine(properties.day or EXCEL_EPOCH, datetime.min.time())
    workbook.set_properties(
        {
            "title": properties.title,
            "subject": properties.community,
            "company": properties.community,
            "author": "leerbot",
            "created": moment,
            **properties.extra,
        }
    )
    base = {"valign": "top", "font_size": 10}
    header = workbook.add_format(
        {**base, "bold": True, "bg_color": "#DCE6F1", "bottom": 1, "text_wrap": True}
    )
    formats = {
        "text": workbook.add_format({**base, "text_wrap": True}),
        "quoted": workbook.add_format({**base, "text_wrap": True, "quote_prefix": True}),
        "number": workbook.add_format(base),
        "date": workbook.add_format({**base, "num_format": excel_date_format(properties.language)}),
    }
    for used in formats.values():  # what a write with the format would do: a style index
        used._get_xf_index()
    taken: set[str] = set()
    bodies = []
    for table in tables:
        sheet = workbook.add_worksheet(sheet_name(table.name, taken))
        columns = list(table.columns)
        rows = table.rows
        if table.count is None and not isinstance(rows, Sized):
            rows = list(rows)
        count = len(rows) if table.count is None else table.count  # type: ignore[arg-type]
        for n, column in enumerate(columns):
            sheet.set_column(n, n, column.width)
            sheet.write_string(0, n, column.label, header)
        sheet.freeze_panes(1, 0)
        sheet.set_paper(9)  # printed: A4 landscape, the header row on every page
        sheet.set_landscape()
        sheet.repeat_rows(0)
        sheet.autofilter(0, 0, max(count, 1), len(columns) - 1)
        if count:  # a placeholder in the last cell: the sheet's dimension covers the rows
            sheet.write_string(count, len(columns) - 1, _PLACEHOLDER)
        bodies.append(
            (f"xl/worksheets/sheet{len(bodies) + 1}.xml", [c.width for c in columns], rows)
        )
    workbook.close()
    styles = {name: f.xf_index for name, f in formats.items()}
    out = io.BytesIO()
    with (
        zipfile.ZipFile(raw) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as target,
    ):
        streamed = {name: (width, rows) for name, width, rows in bodies}
        for name in source.namelist():
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            content = source.read(name)
            if name not in streamed:
                target.writestr(info, content)
                continue
            width, rows = streamed[name]
            with target.open(info, "w") as sheet_xml:
                _stream_rows(sheet_xml, content.decode("utf-8"), width, rows, styles)
    return out.getvalue()


_PLACEHOLDER = "\u2063leerbot-rows\u2063"
ZIP_TIME = (2000, 1, 1, 0, 0, 0)


ROW_POINTS = 15.0  # one line of 11-point text
MAX_ROW_POINTS = 409.0  # Excel's limit


def _lines(text: str, width: float) -> int:
    """How many lines wrapped text takes in a column `width` characters wide (a little
    generous: a cut-off answer is worse than a tall row)."""
    per_line = max(1, int(width * 1.05))
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _stream_rows(
    out: IO[bytes],
    skeleton: str,
    widths: list[float],
    rows: Iterable[Sequence[object]],
    styles: dict[str, int],
) -> None:
    """The sheet XML with the rows from row 2 on, after the header row (XlsxWriter's
    placeholder row is left out). A row holding wrapped text gets the height it needs:
    Excel fits row heights when it opens a file, LibreOffice does not, and would show
    the answers overlapping."""
    start = skeleton.index("</row>") + len("</row>")  # after the header row
    end = skeleton.index("</sheetData>")
    out.write(skeleton[:start].encode("utf-8"))
    width = len(widths)
    letters = [_column_letter(n) for n in range(width)]
    text, quoted = (
        f'" s="{styles["text"]}" t="inlineStr"><is><t xml:space="preserve">',
        (f'" s="{styles["quoted"]}" t="inlineStr"><is><t xml:space="preserve">'),
    )
    number, day = f'" s="{styles["number"]}"><v>', f'" s="{styles["date"]}"><v>'
    serials: dict[date, int] = {}
    chunk: list[str] = []
    size = 0
    for r, row in enumerate(rows, 2):
        parts = ["<row>"]
        lines = 1
        for c, value in enumerate(row):
            if value is None or value == "":
                continue
            if isinstance(value, str):
                kind = quoted if value.startswith(FORMULA_START) else text
                parts.append(f'<c r="{letters[c]}{r}{kind}{xml_text(value)}</t></is></c>')
                if len(value) > widths[c] or "\n" in value:
                    lines = max(lines, _lines(value, widths[c]))
            elif isinstance(value, date):
                key = value.date() if isinstance(value, datetime) else value
                serial = serials.get(key)
                if serial is None:
                    serial = serials[key] = (key - EXCEL_EPOCH).days
                parts.append(f'<c r="{letters[c]}{r}{day}{serial}</v></c>')
            else:
                parts.append(f'<c r="{letters[c]}{r}{number}{value}</v></c>')
        parts.append("</row>")
        if lines > 1:
            height = min(MAX_ROW_POINTS, lines * ROW_POINTS)
            parts[0] = f'<row r="{r}" ht="{height:g}" customHeight="1">'
        else:
            parts[0] = f'<row r="{r}">'
        line = "".join(parts)
        chunk.append(line)
        size += len(line)
        if size > 1 << 18:
            out.write("".join(chunk).encode("utf-8"))
            chunk.clear()
            size = 0
    out.write("".join(chunk).encode("utf-8"))
    out.write(skeleton[end:].encode("utf-8"))


def _column_letter(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
