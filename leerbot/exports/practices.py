"""Practice exports (Markdown from a Jinja2 template in `prompts/exports/`, CSV with stable
columns, DOCX), pure functions of the practices, as the agenda export."""

from __future__ import annotations

import csv
import io
from dataclasses import replace

from leerbot.core.practices import TEXT_FIELDS, PracticeView
from leerbot.exports.agenda import _env, _normalise_zip
from leerbot.i18n import translate

FORMATS = ("md", "csv", "docx")
CSV_COLUMNS = ("id", "title", "site", "theme", "level", "tags", "author", *TEXT_FIELDS, "shared_at")


def readable(item: PracticeView, locale: str) -> PracticeView:
    """The practice as the export shows it: "hidden by a moderator" instead of hidden text
    (the core leaves it empty), and "a pilot site" for a site too small to name next to an
    anonymous practice. One place for every format."""
    if item.site_withheld:
        item = replace(item, site=translate(locale, "practices.some_site"))
    if item.hidden:
        item = replace(
            item,
            title=translate(locale, "practices.hidden.title"),
            fields={f: "" for f in TEXT_FIELDS}
            | {"what_we_do": translate(locale, "practices.hidden.text", withdrawn=False)},
            tags=(),
            author="-",
        )
    return item


def render(items: list[PracticeView], fmt: str, locale: str, title: str) -> bytes:
    def t(key: str, **params: object) -> str:
        return translate(locale, f"exports.practices.{key}", **params)

    items = [readable(p, locale) for p in items]

    if fmt == "md":
        return (
            _env()
            .get_template("practices.md.j2")
            .render(items=items, t=t, fields=list(TEXT_FIELDS), title=title)
            .encode()
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for p in items:
            writer.writerow(
                [
                    p.id,
                    p.title,
                    p.site or "",
                    p.theme or "",
                    p.level or "",
                    ";".join(p.tags),
                    p.author or "",
                    *(p.fields[f] for f in TEXT_FIELDS),
                    p.shared_at.date().isoformat() if p.shared_at else "",
                ]
            )
        return out.getvalue().encode("utf-8")
    if fmt == "docx":
        from docx import Document

        doc = Document()
        doc.core_properties.title = title
        doc.core_properties.author = "leerbot"
        doc.add_heading(title, level=0)
        for p in items:
            doc.add_heading(f"#{p.id} {p.title}", level=1)
            doc.add_paragraph(
                t(
                    "meta",
                    site=p.site or "-",
                    author=p.author or t("anonymous"),
                    tags=", ".join(p.tags) or "-",
                )
            )
            for name in TEXT_FIELDS:
                if p.fields[name]:
                    doc.add_heading(t(f"field_{name}"), level=2)
                    doc.add_paragraph(p.fields[name])
        raw = io.BytesIO()
        doc.save(raw)
        return _normalise_zip(raw.getvalue())
    raise ValueError(fmt)
