"""Agenda exports for coordinators: Markdown and HTML from Jinja2 templates in
`prompts/exports/`, CSV with stable columns, DOCX with python-docx. Pure functions of the
report data, with no clock inside, so the same data gives the same bytes from Discord and
from the command line."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable
from dataclasses import replace
from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from leerbot.core.agenda import STATUSES, AgendaReport, ReportPoint
from leerbot.i18n import translate
from leerbot.paths import PROMPTS_DIR

FORMATS = ("md", "html", "csv", "docx")
CSV_COLUMNS = (
    "id",
    "title",
    "description",
    "theme",
    "kind",
    "level",
    "site",
    "author",
    "status",
    "support",
    "created",
)


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(PROMPTS_DIR / "exports"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def _t(locale: str) -> Callable[..., str]:
    def t(key: str, **params: object) -> str:
        return translate(locale, f"exports.agenda.{key}", **params)

    return t


def _context(data: AgendaReport, locale: str) -> dict[str, object]:
    return {
        "r": data,
        "t": _t(locale),
        "statuses": STATUSES,
        "status_name": lambda s: translate(locale, f"agenda.statuses.{s}"),
    }


def readable(data: AgendaReport, locale: str) -> AgendaReport:
    """The report with "hidden by a moderator" where a point's text is hidden (the core
    leaves it empty), in every list that names the point: one place for every format."""
    hidden = {p.id for p in data.points if p.hidden}
    if not hidden:
        return data
    title = translate(locale, "agenda.hidden.title")
    text = translate(locale, "agenda.hidden.text")

    def shown(point: ReportPoint) -> ReportPoint:
        if not point.hidden:
            return point
        return replace(point, title=title, description=text, author="-")

    return replace(
        data,
        points=[shown(p) for p in data.points],
        top=[shown(p) for p in data.top],
        changes=[
            (day, number, title if number in hidden else name, old, new, reason)
            for day, number, name, old, new, reason in data.changes
        ],
    )


def render(data: AgendaReport, fmt: str, locale: str) -> bytes:
    data = readable(data, locale)
    if fmt == "md":
        return _env().get_template("agenda.md.j2").render(**_context(data, locale)).encode()
    if fmt == "html":
        return _env().get_template("agenda.html.j2").render(**_context(data, locale)).encode()
    if fmt == "csv":
        return _csv(data)
    if fmt == "docx":
        return _docx(data, locale)
    raise ValueError(fmt)


def _csv(data: AgendaReport) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in data.points:
        writer.writerow(
            [
                p.id,
                p.title,
                p.description,
                p.theme,
                p.kind,
                p.level,
                p.site,
                p.author,
                p.status,
                p.support,
                p.created.isoformat(),
            ]
        )
    return out.getvalue().encode("utf-8")


def _docx(data: AgendaReport, locale: str) -> bytes:
    from docx import Document
    from docx.shared import Pt

    t = _t(locale)

    def status_name(status: str) -> str:
        return translate(locale, f"agenda.statuses.{status}")

    doc = Document()
    doc.core_properties.title = t("title", community=data.community)
    doc.core_properties.author = "leerbot"
    doc.add_heading(t("title", community=data.community), level=0)
    doc.add_paragraph(t("period", start=data.start, end=data.end))
    if data.site or data.theme:
        doc.add_paragraph(t("filters", site=data.site or "-", theme=data.theme or "-"))
    doc.add_heading(t("overview"), level=1)
    table = doc.add_table(rows=1, cols=len(STATUSES) + 1)
    table.style = "Light Grid Accent 1"
    header = table.rows[0].cells
    header[0].text = t("theme")
    for n, status in enumerate(STATUSES, 1):
        header[n].text = status_name(status)
    for theme, row in data.by_theme_status.items():
        cells = table.add_row().cells
        cells[0].text = theme
        for n, status in enumerate(STATUSES, 1):
            cells[n].text = data.small(row[status])
    doc.add_heading(t("per_site"), level=1)
    for site, count in sorted(data.by_site.items()):
        doc.add_paragraph(f"{site}: {data.small(count)}", style="List Bullet")
    doc.add_heading(t("top"), level=1)
    for p in data.top:
        doc.add_paragraph(
            t("top_line", title=p.title, support=p.support, status=status_name(p.status)),
            style="List Number",
        )
    doc.add_heading(t("changes"), level=1)
    if not data.changes:
        doc.add_paragraph(t("no_changes"))
    for day, number, title, old, new, reason in data.changes:
        doc.add_paragraph(
            t(
                "change_line",
                day=day.isoformat(),
                number=number,
                title=title,
                old=status_name(old),
                new=status_name(new),
                reason=reason,
            ),
            style="List Bullet",
        )
    doc.add_heading(t("points"), level=1)
    for theme_key, theme_name in data.themes:
        points = [p for p in data.points if p.theme == theme_name]
        if not points:
            continue
        doc.add_heading(theme_name, level=2)
        table = doc.add_table(rows=1, cols=4)
        table.style = "Light Grid Accent 1"
        for cell, label in zip(
            table.rows[0].cells, (t("point"), t("status"), t("support"), t("site")), strict=True
        ):
            cell.text = label
        for p in points:
            cells = table.add_row().cells
            cells[0].text = f"#{p.id} {p.title}\n{p.description}"
            cells[1].text = status_name(p.status)
            cells[2].text = str(p.support)
            cells[3].text = p.site or "-"
        for paragraph in doc.paragraphs[-1:]:
            for run in paragraph.runs:
                run.font.size = Pt(10)
        del theme_key
    raw = io.BytesIO()
    doc.save(raw)
    return _normalise_zip(raw.getvalue())


def _normalise_zip(data: bytes) -> bytes:
    """Fixed timestamps inside the .docx, so the same report gives the same bytes."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            content = source.read(info.filename)
            if info.filename == "docProps/core.xml":
                import re

                content = re.sub(
                    rb"<dcterms:(created|modified)[^>]*>[^<]*</dcterms:\1>", b"", content
                )
            fixed = zipfile.ZipInfo(info.filename, date_time=(2000, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, content)
    return out.getvalue()
