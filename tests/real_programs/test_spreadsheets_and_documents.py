"""The agenda, practice and round exports opened in the programs coordinators and managers
use: LibreOffice Writer for the DOCX, Calc for the XLSX and the CSV (with `;` and UTF-8, as
Dutch Excel reads it), converted to PDF and read back with pdftotext; page 1 of each PDF is
kept as a PNG in tests/real_programs/output/ for a person to look at.

What must hold: the expected titles and Dutch dates are in the rendered text, no word is
broken in the middle (every word in the PDF is a word of the document), and hostile member
text (formulas, HTML) stays visible text: no formula in any cell Calc read, and a control
file proves Calc would have made one."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import openpyxl
import pytest

from tests.real_programs.conftest import (
    AT_SUM,
    CAFE,
    CMD,
    COMMUNITY,
    HOSTILE,
    HYPERLINK,
    LONG_WORD,
    PLUS,
    REMOVED,
    ROUND_TITLE,
    SCRIPT,
    World,
)
from tests.real_programs.programs import convert, need, pdf_text, picture

CSV_FILTER = "CSV:59,34,76,1"  # `;` between columns, `"` around text, UTF-8, from line 1
DUTCH_DATES = ("12 januari 2026", "29 maart 2026", "15 oktober 2026", "3 november 2026")
TITLE = f"Ontwikkelagenda van {COMMUNITY}"


def flat(text: str) -> str:
    """PDF text with every run of white space as one space (lines wrap where they wrap)."""
    return re.sub(r"\s+", " ", text)


def words(text: str) -> set[str]:
    return set(re.findall(r"\w+", text))


def docx_words(data: bytes) -> set[str]:
    """Every word the DOCX holds, in its body and its footer."""
    with zipfile.ZipFile(io.BytesIO(data)) as package:
        xml = "".join(
            package.read(name).decode("utf-8")
            for name in package.namelist()
            if name.startswith("word/") and name.endswith(".xml")
        )
    runs = re.findall(r"<w:t(?: [^>]*)?>([^<]*)</w:t>", xml)
    text = " ".join(runs).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return words(text)


def broken(pdf_words: set[str], known: set[str]) -> set[str]:
    """Words in the PDF that are not words of the document: pieces of a word broken in
    the middle ("besproke", "n"). Numbers are page numbers."""
    return {w for w in pdf_words - known if not w.isdigit()}


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


# --- DOCX in Writer ----------------------------------------------------------------------


async def test_the_agenda_docx_reads_right_in_libreoffice(world: World, tmp_path: Path) -> None:
    need("soffice")
    data = await world.agenda("docx")
    pdf = convert(write(tmp_path, "ontwikkelagenda.docx", data), "pdf")
    picture(pdf, "agenda-docx")
    raw = pdf_text(pdf)
    text = flat(raw)
    assert TITLE in text
    for heading in ("Overzicht per thema en status", "Per proeftuin", "Alle punten"):
        assert heading in text
    for day in DUTCH_DATES:
        assert day in text, f"the Dutch date {day!r}"
    for hostile in (*HOSTILE[:1], PLUS, AT_SUM, SCRIPT):
        assert hostile in text, f"{hostile!r} is shown as written"
    for word in (LONG_WORD, "ondersteuningsbehoefte", "interpersoonlijk", "uitvoering", CAFE):
        assert word in words(raw), f"{word!r} is whole"
    assert not broken(words(raw), docx_words(data)), "no word is broken in the middle"
    assert re.search(r"pagina 1 van \d", text), "page numbers in the footer"
    for label in ("Soort en niveau", "Status en steun", "Proeftuin, door, datum"):
        assert label in text
    assert "De Achterkant Anouk 12 januari 2026" in text, "site, author and date of a point"
    assert "anoniem ingediend" in text


async def test_the_practices_docx_reads_right_in_libreoffice(world: World, tmp_path: Path) -> None:
    need("soffice")
    data = await world.practices("docx")
    pdf = convert(write(tmp_path, "praktijken.docx", data), "pdf")
    picture(pdf, "practices-docx")
    raw = pdf_text(pdf)
    text = flat(raw)
    assert f"Praktijken van {COMMUNITY}" in text
    assert f"#1 {CMD}" in text and f"Herstelwerkplaats in {CAFE} De Brug" in text
    assert "gedeeld op 29 maart 2026" in text and "gedeeld op 30 maart 2026" in text
    assert not broken(words(raw), docx_words(data))


# --- XLSX in Calc ------------------------------------------------------------------------


def no_formulas(path: Path) -> list[list[object]]:
    """The cells of every sheet; fails on any formula."""
    book = openpyxl.load_workbook(path)
    values = []
    for sheet in book:
        for row in sheet.iter_rows():
            formulas = [c.coordinate for c in row if c.data_type == "f"]
            assert not formulas, f"{path.name}: formulas in {sheet.title} {formulas}"
            values.append([c.value for c in row])
    return values


async def test_the_agenda_xlsx_opens_in_calc_with_text_dates_and_no_formulas(
    world: World, tmp_path: Path
) -> None:
    need("soffice")
    source = write(tmp_path, "ontwikkelagenda.xlsx", await world.agenda("xlsx"))
    pdf = convert(source, "pdf")
    picture(pdf, "agenda-xlsx")
    text = flat(pdf_text(pdf))
    for label in ("Nummer", "Titel", "Beschrijving", "Ingediend op", "Steun"):
        assert label in text
    for hostile in (HYPERLINK, PLUS, AT_SUM, SCRIPT, f"{LONG_WORD} voor"):
        assert hostile in text, f"{hostile!r} printed as written"
    assert "12-01-2026" in text and "29-03-2026" in text, "dates in the Dutch short form"
    assert "klik" not in text.replace(HYPERLINK, ""), "the HYPERLINK never ran"

    saved = convert(source, "ods")  # Calc read it: save what it holds and read that back
    resaved = convert(saved, "xlsx")
    cells = no_formulas(resaved)
    titles = [row[1] for row in cells[1:8]]
    assert HYPERLINK in titles and PLUS in titles and AT_SUM in titles


async def test_the_round_and_practice_xlsx_open_in_calc(world: World, tmp_path: Path) -> None:
    need("soffice")
    for name, data in (
        ("ronde.xlsx", await world.round("xlsx")),
        ("praktijken.xlsx", await world.practices("xlsx")),
    ):
        source = write(tmp_path, name, data)
        pdf = convert(source, "pdf")
        picture(pdf, name.replace(".", "-"))
        text = flat(pdf_text(pdf))
        cells = no_formulas(convert(convert(source, "ods"), "xlsx"))
        if name.startswith("ronde"):
            assert ROUND_TITLE in text and "=1+1 is wat ik leerde" in text
            assert REMOVED not in text, "an answer a moderator took out is not exported"
            assert ["Ronde", "Vraagcode", "Vraag", "Antwoord", "Naam", "Bron"] == cells[0]
        else:
            assert CMD in text and "29-03-2026" in text


# --- CSV in Calc -------------------------------------------------------------------------


def calc_reads_csv(path: Path) -> list[list[object]]:
    """The CSV as Calc opens it with `;` and UTF-8, saved as XLSX and read back."""
    return no_formulas(convert(path, "xlsx", CSV_FILTER))


def test_calc_would_run_a_formula_from_a_csv(tmp_path: Path) -> None:
    """The control: without the quote, Calc makes a formula of `=1+1`. So the checks
    below would fail if the exports let one through."""
    need("soffice")
    path = write(tmp_path, "control.csv", "\ufeffa;b\r\n=1+1;x\r\n".encode())
    with pytest.raises(AssertionError, match="formulas"):
        calc_reads_csv(path)


async def test_the_csv_files_open_in_calc_as_dutch_excel_would(
    world: World, tmp_path: Path
) -> None:
    need("soffice")
    agenda = calc_reads_csv(write(tmp_path, "ontwikkelagenda.csv", await world.agenda("csv")))
    header, rows = agenda[0], agenda[1:]
    assert header == [
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
    ], "every column its own, labels in Dutch"
    by_number = {row[0]: dict(zip(header, row, strict=True)) for row in rows}
    first = by_number[world.points[0].id]
    assert first["Titel"] == f"{LONG_WORD} voor ervaringsdeskundigen in {CAFE} De Brug"
    assert first["Status"] == "in uitvoering" and first["Steun"] == 6
    assert first["Thema"] == f"{LONG_WORD} voor ervaringsdeskundigen"
    assert first["Ingediend op"].date().isoformat() == "2026-01-12", "a real date"
    assert "\n- Samen een doel kiezen" in first["Beschrijving"], "line breaks kept"
    titles = {row["Titel"] for row in by_number.values()}
    for hostile in (HYPERLINK, PLUS, AT_SUM):
        assert "'" + hostile in titles, f"{hostile!r} stays text"
    assert SCRIPT in titles
    anonymous = by_number[world.points[2].id]
    assert anonymous["Ingediend door"] == "anoniem" and anonymous["Beschrijving"].startswith("'@")

    practices = calc_reads_csv(write(tmp_path, "praktijken.csv", await world.practices("csv")))
    assert practices[0][:3] == ["Nummer", "Titel", "Proeftuin"]
    assert practices[1][1] == "'" + CMD and practices[2][1].endswith(f"{CAFE} De Brug")

    answers = calc_reads_csv(write(tmp_path, "ronde.csv", await world.round("csv")))
    texts = [row[3] for row in answers[1:]]
    assert "'=1+1 is wat ik leerde" in texts and f"Meer tijd in {CAFE} De Brug" in texts
    assert REMOVED not in texts
