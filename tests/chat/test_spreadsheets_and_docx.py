"""Spreadsheets and the DOCX report as files: what Excel, LibreOffice and Word read from them.

CSV: UTF-8 with BOM, `;` (or the configured separator), CRLF, labels in the reader's
language, no cell that can start a formula. XLSX: header row, frozen pane, filter, widths,
real dates, every cell typed (no formulas). DOCX: A4, the reader's language, core
properties, real headings, no bold first column, page numbers, Dutch dates, every column
of a point, member text escaped. tests/real_programs/ opens the same files in LibreOffice."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from datetime import UTC, date, datetime
from xml.etree import ElementTree

import openpyxl
import pytest
from docx import Document

from leerbot.app import App
from leerbot.config import ConfigError, load_settings
from leerbot.core.agenda import STATUSES, AgendaReport, ReportPoint
from leerbot.core.practices import TEXT_FIELDS, PracticeView
from leerbot.core.reflections import RoundView, Summary, SummaryAnswer
from leerbot.exports import agenda as agenda_exports
from leerbot.exports import practices as practice_exports
from leerbot.exports import rounds as round_exports
from leerbot.exports.common import FORMULA_START
from leerbot.exports.document import TEXT_WIDTH, Column, fit_widths, text_width

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
HOSTILE = ('=HYPERLINK("http://x","klik")', "=cmd|' /C calc'!A0", "+1+1", "@SUM(1)", "-5", "\tx")
SCRIPT = "Titel met <script>alert(1)</script> & Café"
LONG = "Doorgroeimogelijkheden"


def point(n: int, title: str, **changes: object) -> ReportPoint:
    values: dict[str, object] = {
        "id": n,
        "title": title,
        "description": f"Uitleg bij {title}\ntweede regel\x01",
        "theme": LONG + " voor ervaringsdeskundigen",
        "kind": "ondersteuningsbehoefte",
        "level": "interpersoonlijk",
        "site": "De Achterkant",
        "author": "Anouk",
        "status": "in_uitvoering",
        "support": n * 2,
        "created": date(2026, 3, 29),
    }
    return ReportPoint(**(values | changes))  # type: ignore[arg-type]


def report() -> AgendaReport:
    points = [point(1, SCRIPT)]
    points += [point(n, text, author="") for n, text in enumerate(HOSTILE, 2)]
    data = AgendaReport(
        community="CoL Café",
        start=None,
        end=None,
        site=None,
        theme=None,
        threshold=5,
        themes=[("doorgroei", LONG + " voor ervaringsdeskundigen")],
        points=points,
        top=points[:3],
        changes=[(date(2026, 10, 15), 1, SCRIPT, "besproken", "in_uitvoering", "=1+1 reden")],
    )
    data.by_theme_status = {points[0].theme: dict.fromkeys(STATUSES, 0) | {"in_uitvoering": 7}}
    data.by_site = {"De Achterkant": 7}
    return data


def read_csv(data: bytes, delimiter: str = ";") -> list[list[str]]:
    assert data.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte order mark"
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=delimiter))


# --- CSV ---------------------------------------------------------------------------------


def test_agenda_csv_is_what_dutch_excel_expects() -> None:
    data = agenda_exports.render(report(), "csv", "nl")
    assert data.count(b"\r\n") == len(report().points) + 1, "CRLF after every row"
    assert re.search(rb"[^\r]\n(?!tweede)", data) is None, "LF only inside a cell"
    rows = read_csv(data)
    assert rows[0] == [
        "Nummer",
        "Titel",
        "Beschrijving",
        "Thema",
        "Soort",
        "Niveau",
        "Proeftuin",
        "Ingediend door",
        "Status",
        "Steun",
        "Ingediend op",
    ]
    first = dict(zip(rows[0], rows[1], strict=True))
    assert first["Titel"] == SCRIPT and first["Status"] == "in uitvoering"
    assert first["Soort"] == "ondersteuningsbehoefte" and first["Ingediend op"] == "2026-03-29"
    assert first["Beschrijving"] == f"Uitleg bij {SCRIPT}\ntweede regel\x01"
    for row, text in zip(rows[2:], HOSTILE, strict=True):
        assert row[1] == "'" + text, "OWASP: a leading quote, the text kept"
        assert row[7] == "anoniem"
    for row in rows:
        assert not any(value.startswith(FORMULA_START) for value in row), row


def test_english_labels_and_the_configured_separator() -> None:
    rows = read_csv(agenda_exports.render(report(), "csv", "en", ","), ",")
    assert rows[0][:3] == ["Number", "Title", "Description"]
    assert rows[1][4:6] == ["support need", "interpersonal"] and rows[1][8] == "in progress"
    tab = read_csv(agenda_exports.render(report(), "csv", "nl", "\t"), "\t")
    assert tab[1][1] == SCRIPT


@pytest.mark.parametrize("value", [";", ",", "tab", "\t"])
def test_the_separator_is_a_setting(tmp_path, value: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "leerbot.yaml"
    path.write_text(f'exports:\n  csv_delimiter: "{value}"\n', encoding="utf-8")
    expected = "\t" if value == "tab" else value
    assert load_settings(path, environ={}).exports.csv_delimiter == expected


def test_a_wrong_separator_is_named_with_its_key(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "leerbot.yaml"
    path.write_text('exports:\n  csv_delimiter: "|"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"exports\.csv_delimiter.*'\|' is not a column"):
        load_settings(path, environ={})


# --- XLSX --------------------------------------------------------------------------------


def test_agenda_xlsx_has_typed_cells_a_frozen_header_filters_and_dates() -> None:
    data = agenda_exports.render(report(), "xlsx", "nl")
    assert data == agenda_exports.render(report(), "xlsx", "nl"), "same data, same bytes"
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert book.sheetnames == ["Punten", "Statuswijzigingen"]
    assert book.properties.title == "Ontwikkelagenda van CoL Café"
    sheet = book["Punten"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:K{len(report().points) + 1}"
    assert sheet.column_dimensions["C"].width > 50, "the description has room"
    header = [c.value for c in sheet[1]]
    assert header[:2] == ["Nummer", "Titel"] and all(c.font.b for c in sheet[1])
    cells = [c for row in sheet.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type == "f"], "nothing is a formula"
    first = sheet[2]
    assert first[0].value == 1 and first[0].data_type == "n"
    assert first[1].value == SCRIPT and first[9].value == 2
    assert first[10].value == datetime(2026, 3, 29) and first[10].number_format == "dd-mm-yyyy"
    assert first[2].value.startswith(f"Uitleg bij {SCRIPT}\ntweede regel")
    assert first[2].alignment.wrap_text
    for row, text in zip(sheet.iter_rows(min_row=3), HOSTILE, strict=True):
        assert row[1].value == text and row[1].data_type == "s", "the text as written"
        assert row[1].quotePrefix, "Excel's mark for text that starts like a formula"
        assert not row[2].quotePrefix, "an ordinary cell is left alone"
    changes = book["Statuswijzigingen"]
    assert [c.value for c in changes[2]] == [
        datetime(2026, 10, 15),
        1,
        SCRIPT,
        "besproken",
        "in uitvoering",
        "=1+1 reden",
    ]
    assert changes[2][5].quotePrefix


def test_english_xlsx_dates_follow_cldr() -> None:
    book = openpyxl.load_workbook(io.BytesIO(agenda_exports.render(report(), "xlsx", "en")))
    assert book.sheetnames[0] == "Points"
    assert book["Points"]["K2"].number_format == "dd/mm/yyyy"


# --- DOCX --------------------------------------------------------------------------------


def docx_xml(data: bytes, part: str = "word/document.xml") -> ElementTree.Element:
    return ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read(part))


def test_agenda_docx_is_a_report_for_a_manager() -> None:
    data = agenda_exports.render(report(), "docx", "nl")
    assert data == agenda_exports.render(report(), "docx", "nl"), "same data, same bytes"
    document = Document(io.BytesIO(data))
    section = document.sections[0]
    assert (round(section.page_width.cm, 1), round(section.page_height.cm, 1)) == (21.0, 29.7)
    properties = document.core_properties
    assert properties.title == "Ontwikkelagenda van CoL Café"
    assert properties.subject == "CoL Café" and properties.language == "nl-NL"
    assert properties.created == datetime(2026, 10, 15, tzinfo=UTC), "the last day in it"
    styles = zipfile.ZipFile(io.BytesIO(data)).read("word/styles.xml").decode()
    assert 'w:lang w:val="nl-NL"' in styles and "en-US" not in styles
    headings = [(p.style.name, p.text) for p in document.paragraphs if p.style.name != "Normal"]
    assert headings[0] == ("Title", "Ontwikkelagenda van CoL Café")
    assert ("Heading 1", "Alle punten") in headings
    assert ("Heading 2", LONG + " voor ervaringsdeskundigen") in headings
    sizes = {s.name: s.font.size.pt for s in document.styles if getattr(s, "font", None)
             and s.font.size}  # fmt: skip
    assert sizes["Title"] > sizes["Heading 1"] > sizes["Heading 2"] > 11

    body = docx_xml(data)
    tables = body.iter(f"{W}tbl")
    for table in tables:
        look = table.find(f"{W}tblPr/{W}tblLook")
        assert look is not None and look.get(f"{W}firstColumn") == "0"
        assert table.find(f"{W}tblPr/{W}tblStyle").get(f"{W}val") == "TableGrid"
        widths = [int(c.get(f"{W}w")) for c in table.iter(f"{W}gridCol")]
        assert sum(widths) <= TEXT_WIDTH
    points = document.tables[-1]
    assert [c.text for c in points.rows[0].cells] == [
        "Nr.",
        "Punt",
        "Soort en niveau",
        "Status en steun",
        "Proeftuin, door, datum",
    ]
    first = [c.text for c in points.rows[1].cells]
    assert first == [
        "#1",
        f"{SCRIPT}\nUitleg bij {SCRIPT}\ntweede regel",
        "ondersteuningsbehoefte\ninterpersoonlijk",
        "in uitvoering\n2 keer steun",
        "De Achterkant\nAnouk\n29 maart 2026",
    ]
    assert [c.text for c in points.rows[2].cells][4].endswith("anoniem ingediend\n29 maart 2026")
    bold = [r.bold for c in points.rows[1].cells[2:] for p in c.paragraphs for r in p.runs]
    assert not any(bold), "no bold first (or any other) column"
    text = "\n".join(p.text for p in document.paragraphs)
    changes = [c.text for row in document.tables[2].rows[1:] for c in row.cells]
    assert changes[0] == "15 oktober 2026" and "besproken → in uitvoering" in changes
    assert "Periode: vanaf het begin tot en met nu" in text
    raw = zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml")
    assert b"&lt;script&gt;" in raw and b"<script>" not in raw and b"\x01" not in raw
    footer = zipfile.ZipFile(io.BytesIO(data)).read("word/footer1.xml").decode()
    assert 'w:instr=" PAGE "' in footer and 'w:instr=" NUMPAGES "' in footer
    assert "pagina" in footer


def test_english_docx_is_british_english() -> None:
    data = agenda_exports.render(report(), "docx", "en")
    document = Document(io.BytesIO(data))
    assert document.core_properties.language == "en-GB"
    cells = [c.text for c in document.tables[-1].rows[1].cells]
    assert cells[4].endswith("29 March 2026") and cells[3] == "in progress\nsupported by 2"


def test_columns_are_at_least_as_wide_as_their_longest_word() -> None:
    columns = [
        Column("Nr.", words=["#100000"], nowrap=True),
        Column("Punt", grow=1),
        Column("Soort en niveau", words=["ondersteuningsbehoefte", "interpersoonlijk"]),
        Column("Proeftuin", words=["Kunstwerkplaats 4B", "Help mijn buurman (ver)zuipt"]),
    ]
    widths = fit_widths(columns)
    assert sum(widths) == pytest.approx(TEXT_WIDTH, abs=len(columns))
    assert widths[0] > text_width("#100000")
    assert widths[2] > text_width("ondersteuningsbehoefte")
    assert widths[3] > text_width("Kunstwerkplaats") and widths[3] < widths[1]
    assert text_width("mmmm") > text_width("iiii"), "letters are not all alike"


def test_a_hundred_thousand_cells_stream_into_the_docx() -> None:
    many = [point(n, f"Punt {n}") for n in range(1, 3001)]
    data = report()
    data.points = many
    document = Document(io.BytesIO(agenda_exports.render(data, "docx", "nl")))
    assert len(document.tables[-1].rows) == 3001
    assert document.tables[-1].rows[-1].cells[0].text == "#3000"


# --- practices and rounds ----------------------------------------------------------------


def practice(n: int, title: str, **changes: object) -> PracticeView:
    values: dict[str, object] = {
        "id": n,
        "title": title,
        "site": "De Achterkant",
        "fields": dict.fromkeys(TEXT_FIELDS, "") | {"what_we_do": "=1+1 elke week"},
        "theme": "samenwerking",
        "level": "organisatie",
        "tags": ("intervisie", "herstel"),
        "author": "Anouk",
        "anonymous": False,
        "state": "shared",
        "shared_at": datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # 29 March in Amsterdam
        "updated_at": datetime(2026, 3, 28, 23, 30, tzinfo=UTC),
        "revisions": 0,
        "agenda_links": (),
        "session_links": (),
        "may_edit": False,
    }
    return PracticeView(**(values | changes))  # type: ignore[arg-type]


def test_practice_spreadsheets_name_themes_and_levels() -> None:
    from zoneinfo import ZoneInfo

    items = [practice(1, HOSTILE[1]), practice(2, "Wandelen", author=None, anonymous=True)]
    options = {"theme_names": {"samenwerking": "Samenwerking"}, "tz": ZoneInfo("Europe/Amsterdam")}
    rows = read_csv(practice_exports.render(items, "csv", "nl", "P", **options))  # type: ignore[arg-type]
    assert rows[0][:7] == [
        "Nummer",
        "Titel",
        "Proeftuin",
        "Thema",
        "Niveau",
        "Tags",
        "Gedeeld door",
    ]
    assert rows[1][1] == "'" + HOSTILE[1] and rows[1][3:6] == [
        "Samenwerking",
        "organisatie",
        "intervisie, herstel",
    ]
    assert rows[1][-1] == "2026-03-29" and rows[2][6] == "anoniem"
    book = openpyxl.load_workbook(
        io.BytesIO(practice_exports.render(items, "xlsx", "nl", "P", **options))  # type: ignore[arg-type]
    )
    sheet = book["Praktijken"]
    assert sheet["B2"].value == HOSTILE[1] and sheet["B2"].quotePrefix
    assert sheet.cell(2, sheet.max_column).value == datetime(2026, 3, 29)
    document = Document(io.BytesIO(practice_exports.render(items, "docx", "nl", "P", **options)))  # type: ignore[arg-type]
    text = "\n".join(p.text for p in document.paragraphs)
    assert "gedeeld op 29 maart 2026" in text and "niveau: organisatie" in text


def summary(withheld: bool = False, held_back: int = 0) -> Summary:
    questions = (
        {"id": "q1", "nl": "Wat neem je mee?", "en": "What do you take away?", "source": "bron"},
    )
    view = RoundView(
        id=1,
        title="Terugblik",
        questions=questions,
        anonymity="choice",
        delivery="dm",
        audience_kind="everyone",
        audience_value=None,
        opens_at=datetime(2026, 3, 23, tzinfo=UTC),
        closes_at=datetime(2026, 3, 30, tzinfo=UTC),
        status="closed",
        min_answers=5,
        recipients=9,
        answered=3 if withheld else 6,
        skipped=0,
        my_status=None,
        channel_id=None,
        thread_id=None,
    )
    answers = [
        SummaryAnswer(1, "n1", "=1+1 rust", "Dirk"),
        SummaryAnswer(2, "a1", "Weggehaald", None, removed=True),
        SummaryAnswer(3, "a2", "- Samen\n- Verder", None),
    ]
    return Summary(
        view,
        view.answered,
        withheld,
        [] if withheld else [(questions[0], answers)],
        anonymous_held_back=held_back,
    )


def test_round_export_leaves_out_removed_answers_and_says_what_is_held_back() -> None:
    rows = read_csv(round_exports.render(summary(held_back=2), "csv", "nl", floor=5))
    assert rows[0] == ["Ronde", "Vraagcode", "Vraag", "Antwoord", "Naam", "Bron"]
    assert rows[1] == ["Terugblik", "q1", "Wat neem je mee?", "'=1+1 rust", "Dirk", "bron"]
    assert rows[2][3:5] == ["'- Samen\n- Verder", "anoniem"]
    assert "Weggehaald" not in str(rows)
    assert rows[3][3].startswith("2 antwoorden zonder naam staan hier niet: minder dan 5")
    withheld = read_csv(round_exports.render(summary(withheld=True), "csv", "en", floor=5))
    assert len(withheld) == 2 and withheld[1][3].startswith("3 members answered. That is fewer")
    book = openpyxl.load_workbook(
        io.BytesIO(round_exports.render(summary(), "xlsx", "nl", floor=5))
    )
    sheet = book["Antwoorden"]
    assert sheet["D2"].value == "=1+1 rust" and sheet["D2"].quotePrefix
    assert sheet.max_row == 3


# --- through the commands ----------------------------------------------------------------


async def test_every_export_command_offers_xlsx(app: App) -> None:
    from leerbot.chat.commands import registry

    for name in ("agenda export", "praktijk export", "ronde export"):
        command = registry.commands[tuple(name.split())]
        (formats,) = [p for p in command.params if p.name == "formaat"]
        assert "xlsx" in [c.value for c in formats.choices], name
