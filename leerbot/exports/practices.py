"""Practice exports: Markdown from a Jinja2 template in `prompts/exports/`; CSV and XLSX with
stable, labelled columns (`exports.spreadsheet`); DOCX (`exports.document`). Pure functions
of the practices, as the agenda export."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime, tzinfo

from leerbot.core.practices import TEXT_FIELDS, PracticeView
from leerbot.exports.agenda import _env, _label
from leerbot.exports.common import format_day
from leerbot.exports.document import PAGE_MARK, PAGES_MARK, DocxWriter, Meta
from leerbot.exports.spreadsheet import (
    DEFAULT_DELIMITER,
    Column,
    Properties,
    Table,
    write_csv,
    write_xlsx,
)
from leerbot.i18n import translate

FORMATS = ("md", "csv", "xlsx", "docx")
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


def render(
    items: list[PracticeView],
    fmt: str,
    locale: str,
    title: str,
    *,
    community: str = "",
    theme_names: Mapping[str, str] | None = None,
    tz: tzinfo | None = None,
    delimiter: str = DEFAULT_DELIMITER,
) -> bytes:
    """The export file's bytes. `theme_names`: theme keys to the names readers know
    (the key when missing); `tz`: the community's time zone for the day a practice was
    shared (UTC when None); `delimiter`: the CSV column separator."""

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
    names = _Names(locale, theme_names or {}, tz)
    if fmt == "csv":
        return write_csv(_table(items, names), delimiter)
    if fmt == "xlsx":
        return write_xlsx([_table(items, names)], Properties(title, community, _day(items), locale))
    if fmt == "docx":
        return _docx(items, names, title, community)
    raise ValueError(fmt)


class _Names:
    """Labels instead of keys, in the reader's language, and days in the community's zone."""

    def __init__(self, locale: str, themes: Mapping[str, str], tz: tzinfo | None) -> None:
        self.locale, self.themes, self.tz = locale, themes, tz

    def theme(self, key: str | None) -> str:
        return self.themes.get(key, key) if key else ""

    def level(self, key: str | None) -> str:
        return _label(self.locale, "agenda.levels", key) if key else ""

    def day(self, moment: datetime | None) -> date | None:
        if moment is None:
            return None
        return (moment.astimezone(self.tz) if self.tz else moment).date()


def _day(items: list[PracticeView]) -> date | None:
    """The last day a practice was shared: the document's date, with no clock inside."""
    return max((p.shared_at.date() for p in items if p.shared_at), default=None)


def _table(items: list[PracticeView], names: _Names) -> Table:
    locale = names.locale
    anonymous = translate(locale, "exports.sheets.anonymous")
    shapes = {"id": ("number", 9), "title": ("long", 40), "shared_at": ("date", 14)}
    columns = [
        Column(translate(locale, f"exports.sheets.practice.{key}"), *shapes.get(key, ("text", 20)))
        for key in ("id", "title", "site", "theme", "level", "tags", "author")
    ]
    columns += [
        Column(translate(locale, f"exports.practices.field_{name}"), "long", 50)
        for name in TEXT_FIELDS
    ]
    columns.append(Column(translate(locale, "exports.sheets.practice.shared"), "date", 14))
    rows = (
        (
            p.id,
            p.title,
            p.site or "",
            names.theme(p.theme),
            names.level(p.level),
            ", ".join(p.tags),
            "" if p.hidden else p.author or anonymous,  # hidden: no name, not even "-"
            *(p.fields[f] for f in TEXT_FIELDS),
            names.day(p.shared_at),
        )
        for p in items
    )
    return Table(translate(locale, "exports.sheets.names.practices"), columns, rows, len(items))


def _docx(items: list[PracticeView], names: _Names, title: str, community: str) -> bytes:
    locale = names.locale

    def t(key: str, **params: object) -> str:
        return translate(locale, f"exports.practices.{key}", **params)

    footer = translate(locale, "exports.docx.footer", title=title, page=PAGE_MARK, pages=PAGES_MARK)
    doc = DocxWriter(Meta(title, community, locale, footer, _day(items)))
    doc.heading(title, 0)
    if not items:
        doc.paragraph(t("none"))
    for p in items:
        doc.heading(f"#{p.id} {p.title}", 1)
        doc.paragraph(
            t(
                "meta",
                site=p.site or "-",
                author=p.author or t("anonymous"),
                tags=", ".join(p.tags) or "-",
            )
        )
        doc.paragraph(
            translate(
                locale,
                "exports.docx.practice_details",
                theme=names.theme(p.theme) or "-",
                level=names.level(p.level) or "-",
                shared=format_day(names.day(p.shared_at), locale) or "-",
            )
        )
        for name in TEXT_FIELDS:
            if p.fields[name]:
                doc.heading(t(f"field_{name}"), 2)
                doc.paragraph(p.fields[name])
    return doc.finish()
