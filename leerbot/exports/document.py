"""A DOCX a coordinator can hand to a manager, written as a stream.

The styles, numbering, theme and footer come from python-docx's own template, adjusted
once per language and cached (`_skeleton`): A4 portrait with 2.5 cm margins, the document
language (nl-NL or en-GB, so Word checks the spelling of the right language), headings that
look like headings (Title, Heading 1, 2, 3 with their outline levels), a table text style, and
"Pagina 3 van 12" in the footer (PAGE and NUMPAGES fields).

The body is WordprocessingML that this module writes itself, straight into the zip, because
python-docx builds a tree of objects per cell: 100,000 agenda points took minutes and more
than a gigabyte. Member text is escaped here (`_xml`) and characters that XML 1.0 cannot hold
are dropped, so no text can break the file or become markup.

Tables get widths that fit their words (`fit_widths`): each column at least as wide as its
longest word (estimated from Calibri's letter widths, rendered with Carlito in LibreOffice),
the rest of the page to the columns with long text, so no word breaks in the middle. No
table style with a bold first column: a plain grid with a shaded header row that repeats on
every page (`tblLook` without firstColumn).

The same input gives the same bytes (fixed zip timestamps, no clock): a file from Discord
and one from the command line are identical.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Literal

from leerbot.exports.common import babel_locale

PAGE_WIDTH, PAGE_HEIGHT = 11906, 16838  # A4 in twentieths of a point (twips)
MARGIN = 1418  # 2.5 cm
TEXT_WIDTH = PAGE_WIDTH - 2 * MARGIN
CELL_PADDING = 2 * 108  # Table Grid's left and right cell margins
SLACK = 90  # borders, and rounding in the program that lays the table out
TABLE_FONT_HALF_POINTS = 18  # 9 pt
ZIP_TIME = (2000, 1, 1, 0, 0, 0)
LANGUAGES = {"nl_NL": "nl-NL", "en_GB": "en-GB"}
PAGE_MARK, PAGES_MARK = "\x00PAGE\x00", "\x00NUMPAGES\x00"

_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_BODY_MARK = "<w:p><w:r><w:t>LEERBOT-BODY</w:t></w:r></w:p>"
_CORE = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:title>{title}</dc:title><dc:subject>{community}</dc:subject>"
    "<dc:creator>leerbot</dc:creator><cp:keywords>{community}</cp:keywords>"
    "<dc:language>{language}</dc:language>{dates}</cp:coreProperties>"
)
_APP = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/'
    'extended-properties"><Application>leerbot</Application>'
    "<Company>{community}</Company></Properties>"
)

# Relative widths of Calibri's letters (em), rounded up; anything else counts as wide.
_NARROW = dict.fromkeys("ijl.,:;'!|", 0.25) | dict.fromkeys("frtI()[]-", 0.36)
_WIDE = dict.fromkeys("mw", 0.8) | dict.fromkeys("MW", 0.9)
_LOWER = dict.fromkeys("abcdeghknopqsuvxyz0123456789#", 0.53)


def text_width(text: str, half_points: int = TABLE_FONT_HALF_POINTS, bold: bool = False) -> int:
    """An estimate (on the safe side) of the width of `text` in twips."""
    em = sum(_NARROW.get(c) or _LOWER.get(c) or _WIDE.get(c) or 0.64 for c in text)
    return int(em * half_points * 10 * (1.08 if bold else 1.0)) + 1


# --- XML ---------------------------------------------------------------------------------


def xml_text(text: str) -> str:
    """Member text inside an XML element: escaped, without characters XML cannot hold."""
    if _INVALID_XML.search(text):
        text = _INVALID_XML.sub("", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _run(text: str, bold: bool = False) -> str:
    """One run; line breaks become <w:br/>, tabs <w:tab/>."""
    props = "<w:rPr><w:b/></w:rPr>" if bold else ""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    body = xml_text(text)
    if "\n" in body or "\t" in body:
        body = body.replace("\n", '</w:t><w:br/><w:t xml:space="preserve">').replace(
            "\t", '</w:t><w:tab/><w:t xml:space="preserve">'
        )
    return f'<w:r>{props}<w:t xml:space="preserve">{body}</w:t></w:r>'


def _paragraph(runs: str, style: str | None = None, align: str | None = None) -> str:
    props = ""
    if style or align:
        props = "<w:pPr>"
        if style:
            props += f'<w:pStyle w:val="{style}"/>'
        if align:
            props += f'<w:jc w:val="{align}"/>'
        props += "</w:pPr>"
    return f"<w:p>{props}{runs}</w:p>"


# --- tables ------------------------------------------------------------------------------


def _cell_maker(align: str, repeats: bool) -> Callable[[Cell], str]:
    """The paragraphs of one cell: a text (line breaks kept), a number, or paragraphs
    given as (text, bold)."""
    jc = "" if align == "left" else f'<w:jc w:val="{align}"/>'
    start = f'<w:p><w:pPr><w:pStyle w:val="TableText"/>{jc}</w:pPr>'
    cache: dict[tuple[str, bool], str] = {}

    def paragraph(text: str, bold: bool) -> str:
        if repeats:
            made = cache.get((text, bold))
            if made is None:
                made = cache[(text, bold)] = f"{start}{_run(text, bold)}</w:p>"
            return made
        return f"{start}{_run(text, bold)}</w:p>"

    def make(value: Cell) -> str:
        if isinstance(value, tuple):
            return "".join([paragraph(text, bold) for text, bold in value]) or f"{start}</w:p>"
        return paragraph(value if isinstance(value, str) else str(value), False)

    return make


Para = tuple[str, bool]
"""A paragraph inside a cell: its text and whether it is bold."""
Cell = str | int | tuple[Para, ...]


@dataclass(frozen=True)
class Column:
    label: str
    grow: float = 0
    """Share of the width left after every column has its longest word (0: none)."""
    words: Iterable[str] = ()
    """The texts this column will hold (or a sample with the longest words)."""
    nowrap: bool = False
    """Measure whole texts, not words (dates, numbers): they stay on one line."""
    align: Literal["left", "right"] = "left"
    repeats: bool = False
    """The same texts come back often (statuses, names, dates): each is written once and
    its XML reused."""


def fit_widths(columns: Sequence[Column], total: int = TEXT_WIDTH) -> list[int]:
    """Column widths in twips: each at least its longest word (or whole text with
    `nowrap`) and its header's longest word, the rest shared by `grow`."""
    need = []
    for column in columns:
        widest = max((text_width(w, bold=True) for w in column.label.split()), default=0)
        seen: set[str] = set()
        for text in column.words:
            if text in seen:
                continue
            seen.add(text)
            parts = [text] if column.nowrap else text.split()
            for part in parts:
                widest = max(widest, text_width(part))
        need.append(widest + CELL_PADDING + SLACK)
    spare = total - sum(need)
    weights = sum(c.grow for c in columns)
    if spare < 0 or not weights:  # does not fit: shrink everything in proportion
        scale = total / sum(need)
        return [int(n * scale) for n in need]
    return [n + int(spare * c.grow / weights) for n, c in zip(need, columns, strict=True)]


# --- the document ------------------------------------------------------------------------


@dataclass(frozen=True)
class Meta:
    title: str
    community: str
    locale: str
    footer: str
    """The footer text with `PAGE_MARK` and `PAGES_MARK` where the page numbers go."""
    day: date | None = None


class DocxWriter:
    """Write a document top to bottom; `finish()` returns the bytes.

    Paragraphs are buffered and flushed into the zip member in chunks, so a table of
    100,000 rows never exists in memory as a whole, only the compressed file does."""

    FLUSH = 1 << 18

    def __init__(self, meta: Meta) -> None:
        self.meta = meta
        self._raw = io.BytesIO()
        # level 1: the body is large and repetitive; level 6 costs twice the time for ~15%
        self._zip = zipfile.ZipFile(self._raw, "w", zipfile.ZIP_DEFLATED, compresslevel=1)
        skeleton = _skeleton(meta.locale, meta.footer)
        for name, content in skeleton.parts:
            self._put(name, content)
        self._put("docProps/core.xml", _core(meta).encode("utf-8"))
        self._put("docProps/app.xml", _APP.format(community=xml_text(meta.community)).encode())
        info = zipfile.ZipInfo("word/document.xml", date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._body = self._zip.open(info, "w")
        self._tail = skeleton.tail
        self._chunks: list[str] = [skeleton.head]
        self._size = 0
        self._widths: dict[int, tuple[Sequence[Column], list[int]]] = {}

    def _put(self, name: str, content: bytes) -> None:
        info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, content)

    def _write(self, xml: str) -> None:
        self._chunks.append(xml)
        self._size += len(xml)
        if self._size > self.FLUSH:
            self._flush()

    def _flush(self) -> None:
        self._body.write("".join(self._chunks).encode("utf-8"))
        self._chunks.clear()
        self._size = 0

    # building blocks

    def heading(self, text: str, level: int) -> None:
        """Level 0 is the document's title."""
        style = "Title" if level == 0 else f"Heading{level}"
        self._write(_paragraph(_run(text), style))

    def paragraph(self, text: str, style: str | None = None) -> None:
        self._write(_paragraph(_run(text), style))

    def labelled(self, label: str, text: str) -> None:
        """'Label: text' with the label in bold."""
        self._write(_paragraph(_run(f"{label}: ", bold=True) + _run(text)))

    def bullet(self, text: str) -> None:
        self._write(_paragraph(_run(text), "ListBullet"))

    def numbered(self, text: str) -> None:
        self._write(_paragraph(_run(text), "ListNumber"))

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence[Cell]]) -> None:
        """A table with a header row that repeats on every page, rows streamed."""
        known = self._widths.get(id(columns))  # kept alive in the dict: ids are not reused
        if known is None:  # one set of columns for several tables: measured once
            known = self._widths[id(columns)] = (columns, fit_widths(columns))
        widths = known[1]
        grid = "".join(f'<w:gridCol w:w="{w}"/>' for w in widths)
        self._write(
            '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/>'
            f'<w:tblW w:w="{sum(widths)}" w:type="dxa"/><w:tblLayout w:type="fixed"/>'
            '<w:tblLook w:val="0420" w:firstRow="1" w:lastRow="0" w:firstColumn="0" '
            'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr>'
            f"<w:tblGrid>{grid}</w:tblGrid>"
        )
        head = "".join(
            f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/>'
            '<w:shd w:val="clear" w:color="auto" w:fill="DCE6F1"/></w:tcPr>'
            f"{_paragraph(_run(c.label, bold=True), 'TableText')}</w:tc>"
            for c, w in zip(columns, widths, strict=True)
        )
        self._write(f"<w:tr><w:trPr><w:tblHeader/></w:trPr>{head}</w:tr>")
        opens = [f'<w:tc><w:tcPr><w:tcW w:w="{w}" w:type="dxa"/></w:tcPr>' for w in widths]
        makers = [_cell_maker(c.align, c.repeats) for c in columns]
        write = self._write
        for row in rows:
            write(
                "<w:tr>"
                + "".join(f"{opens[n]}{makers[n](value)}</w:tc>" for n, value in enumerate(row))
                + "</w:tr>"
            )
        self._write("</w:tbl>")
        self._write(_paragraph(""))  # Word needs a paragraph between two tables

    def finish(self) -> bytes:
        self._chunks.append(self._tail)
        self._flush()
        self._body.close()
        self._zip.close()
        return self._raw.getvalue()


def _core(meta: Meta) -> str:
    dates = ""
    if meta.day is not None:
        stamp = f"{meta.day.isoformat()}T00:00:00Z"
        dates = (
            f'<dcterms:created xsi:type="dcterms:W3CDTF">{stamp}</dcterms:created>'
            f'<dcterms:modified xsi:type="dcterms:W3CDTF">{stamp}</dcterms:modified>'
        )
    return _CORE.format(
        title=xml_text(meta.title),
        community=xml_text(meta.community),
        language=language(meta.locale),
        dates=dates,
    )


def language(locale: str) -> str:
    return LANGUAGES[babel_locale(locale)]


# --- the template ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Skeleton:
    parts: tuple[tuple[str, bytes], ...]
    head: str
    tail: str


@lru_cache(maxsize=16)
def _skeleton(locale: str, footer: str) -> _Skeleton:
    """python-docx's template, adjusted: A4, language, heading sizes, a table text style,
    page numbers in the footer; everything but the body, core and app properties."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt, Twips

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Twips(PAGE_WIDTH), Twips(PAGE_HEIGHT)
    for side in ("left_margin", "right_margin", "top_margin", "bottom_margin"):
        setattr(section, side, Twips(MARGIN))
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name = "Calibri"  # the template's body font is Cambria, a serif
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.1
    for name, size, before, after in (
        ("Title", 24, 0, 12),
        ("Heading 1", 16, 18, 6),
        ("Heading 2", 13, 12, 4),
        ("Heading 3", 11.5, 10, 2),
    ):
        style = styles[name]
        style.font.size = Pt(size)
        style.paragraph_format.space_before = Pt(before)
        style.paragraph_format.space_after = Pt(after)
    table_text = styles.add_style("Table Text", WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    table_text.font.size = Pt(TABLE_FONT_HALF_POINTS / 2)
    table_text.paragraph_format.space_before = Pt(1)
    table_text.paragraph_format.space_after = Pt(1)
    table_text.paragraph_format.line_spacing = 1.0
    footer_style = styles["Footer"] if "Footer" in [s.name for s in styles] else None

    paragraph = section.footer.paragraphs[0]
    paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
    if footer_style is not None:
        paragraph.style = footer_style
    for piece in re.split(f"({PAGE_MARK}|{PAGES_MARK})", footer):
        if piece in (PAGE_MARK, PAGES_MARK):
            field = OxmlElement("w:fldSimple")
            field.set(qn("w:instr"), " PAGE " if piece == PAGE_MARK else " NUMPAGES ")
            run = OxmlElement("w:r")
            text = OxmlElement("w:t")
            text.text = "1"
            run.append(text)
            field.append(run)
            paragraph._p.append(field)
        elif piece:
            paragraph.add_run(piece).font.size = Pt(9)
    doc.add_paragraph("LEERBOT-BODY")

    raw = io.BytesIO()
    doc.save(raw)
    lang = language(locale)
    parts = []
    head = tail = ""
    with zipfile.ZipFile(raw) as source:
        for name in source.namelist():
            content = source.read(name)
            if name in ("docProps/core.xml", "docProps/app.xml", "docProps/thumbnail.jpeg"):
                continue
            if name in ("word/styles.xml", "word/stylesWithEffects.xml", "word/settings.xml"):
                content = re.sub(  # the language of the text, East Asian text too
                    rb"<w:(?:lang|themeFontLang) [^>]*>",
                    lambda m: m.group(0).replace(b"en-US", lang.encode()),
                    content,
                )
            if name == "_rels/.rels":
                content = re.sub(rb"<Relationship [^>]*thumbnail[^>]*/>", b"", content)
            if name == "word/document.xml":
                text = content.decode("utf-8")
                start = text.index(_BODY_MARK)
                head, tail = text[:start], text[start + len(_BODY_MARK) :]
                continue
            parts.append((name, content))
    return _Skeleton(tuple(parts), head, tail)
