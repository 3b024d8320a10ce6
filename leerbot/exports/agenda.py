"""Agenda exports for coordinators: Markdown and HTML from Jinja2 templates in
`prompts/exports/`; CSV and XLSX with stable, labelled columns (`exports.spreadsheet`); a
DOCX report for managers (`exports.document`). Pure functions of the report data, with no
clock inside, so the same data gives the same bytes from Discord and from the command line."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from functools import lru_cache
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from leerbot.core.agenda import KINDS, LEVELS, STATUSES, AgendaReport, ReportPoint
from leerbot.exports.common import format_day, markdown
from leerbot.exports.document import PAGE_MARK, PAGES_MARK, DocxWriter, Meta
from leerbot.exports.document import Column as DocColumn
from leerbot.exports.spreadsheet import DEFAULT_DELIMITER, Properties, Table, write_csv, write_xlsx
from leerbot.exports.spreadsheet import Column as SheetColumn
from leerbot.i18n import has_key, translate, translate_many
from leerbot.paths import PROMPTS_DIR

FORMATS = ("md", "html", "csv", "xlsx", "docx")
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
    """The export templates. HTML templates (`*.html.j2`) escape everything by default;
    Markdown templates pass member text through the `md` filter (tests/chat/
    test_export_escaping.py renders every template with hostile text and fails otherwise)."""
    env = Environment(
        loader=FileSystemLoader(PROMPTS_DIR / "exports"),
        autoescape=select_autoescape(enabled_extensions=("html", "html.j2", "htm")),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["md"] = markdown
    return env


def _t(locale: str) -> Callable[..., str]:
    def t(key: str, **params: object) -> str:
        return translate_many(locale, f"exports.agenda.{key}", **params)

    return t


def _context(data: AgendaReport, locale: str) -> dict[str, object]:
    some_site = translate(locale, "agenda.some_site")
    by_theme: dict[str, list[ReportPoint]] = {}
    for point in data.points:  # one pass, not one per theme
        by_theme.setdefault(point.theme, []).append(point)
    return {
        "r": data,
        "t": _t(locale),
        "statuses": STATUSES,
        "status_name": _memo(lambda s: translate(locale, f"agenda.statuses.{s}")),
        "kind_name": _memo(lambda k: _label(locale, "agenda.kinds", k)),
        "level_name": _memo(lambda v: _label(locale, "agenda.levels", v)),
        "day": _memo(lambda d: format_day(d, locale)),
        "site_name": lambda p: some_site if p.site_withheld else (p.site or "-"),
        "some_site": some_site,
        "points_of": lambda theme: by_theme.get(theme, []),
        "meta": _meta(locale, some_site),
        "change": _change(locale),
    }


def _change(locale: str) -> Callable[[tuple[Any, ...], bool], str]:
    """One line per status change (85,000 of them in the benchmark): one call each."""
    status = _memo(lambda s: translate(locale, f"agenda.statuses.{s}"))
    day = _memo(lambda d: format_day(d, locale))

    def change(row: tuple[Any, ...], md: bool = False) -> str:
        when, number, title, old, new, reason = row
        if md:
            title, reason = markdown(title), markdown(reason)
        return translate_many(
            locale,
            "exports.agenda.change_line",
            day=day(when),
            number=number,
            title=title,
            old=status(old),
            new=status(new),
            reason=reason,
        )

    return change


def _meta(locale: str, some_site: str) -> Callable[[ReportPoint, bool], str]:
    """A point's line of facts (status, support, kind, level, site, author, date), made in
    one call per point: 100,000 points make Jinja's per-call cost count."""
    status = _memo(lambda s: translate(locale, f"agenda.statuses.{s}"))
    kind = _memo(lambda k: _label(locale, "agenda.kinds", k))
    level = _memo(lambda v: _label(locale, "agenda.levels", v))
    day = _memo(lambda d: format_day(d, locale))
    anonymous = translate(locale, "exports.agenda.anonymous")

    def meta(point: ReportPoint, md: bool = False) -> str:
        site = some_site if point.site_withheld else (point.site or "-")
        author = point.author or anonymous
        if md:
            site, author = markdown(site), markdown(author)
        return translate_many(
            locale,
            "exports.agenda.point_meta",
            status=status(point.status),
            support=point.support,
            kind=kind(point.kind),
            level=level(point.level),
            site=site,
            author=author,
            created=day(point.created),
        )

    return meta


def _memo(function: Callable[[Any], str]) -> Callable[[Any], str]:
    """Labels and dates repeat across 100,000 points: render each one once."""
    seen: dict[Any, str] = {}

    def cached(value: Any) -> str:
        text = seen.get(value)
        if text is None:
            text = seen[value] = function(value)
        return text

    return cached


def _label(locale: str, group: str, key: str) -> str:
    """A kind or level as the reader's language names it (the key when none is known)."""
    name = f"{group}.{key}"
    return translate(locale, name) if has_key(name) else key


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


def render(data: AgendaReport, fmt: str, locale: str, delimiter: str = DEFAULT_DELIMITER) -> bytes:
    """The export file's bytes. `delimiter`: the CSV column separator
    (`exports.csv_delimiter`)."""
    data = readable(data, locale)
    if fmt in ("md", "html"):
        return _streamed(f"agenda.{fmt}.j2", _context(data, locale))
    if fmt == "csv":
        return write_csv(_points_table(data, locale), delimiter)
    if fmt == "xlsx":
        return _xlsx(data, locale)
    if fmt == "docx":
        return _docx(data, locale)
    raise ValueError(fmt)


def _streamed(template: str, context: dict[str, object]) -> bytes:
    """Render chunk by chunk into bytes: the whole text as one string, its pieces and its
    encoded copy would otherwise be in memory at once (three times 60 MB for 100,000
    points)."""
    out = io.BytesIO()
    pending: list[str] = []
    size = 0
    for chunk in _env().get_template(template).generate(**context):
        pending.append(chunk)
        size += len(chunk)
        if size > 1 << 16:
            out.write("".join(pending).encode())
            pending.clear()
            size = 0
    out.write("".join(pending).encode())
    return out.getvalue()


# --- spreadsheets (CSV, XLSX) and DOCX: leerbot/exports/spreadsheet.py, document.py -------


def _names(locale: str) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """Statuses, kinds and levels as the reader's language names them, looked up once."""
    return (
        {s: translate(locale, f"agenda.statuses.{s}") for s in STATUSES},
        {k: _label(locale, "agenda.kinds", k) for k in KINDS},
        {v: _label(locale, "agenda.levels", v) for v in LEVELS},
    )


def _site(point: ReportPoint, some_site: str) -> str:
    return point.site or (some_site if point.site_withheld else "")


def _report_day(data: AgendaReport) -> date | None:
    """The date the document is about (its core properties): the end of the period, or
    the last day anything happened in it. No clock: the same data gives the same bytes."""
    if data.end:
        return data.end
    days = [p.created for p in data.points] + [change[0] for change in data.changes]
    return max(days, default=None)


def _points_table(data: AgendaReport, locale: str) -> Table:
    """One row per point, the same columns in CSV and XLSX (`CSV_COLUMNS`, labelled)."""
    statuses, kinds, levels = _names(locale)
    anonymous = translate(locale, "exports.sheets.anonymous")
    some_site = translate(locale, "agenda.some_site")
    shapes = {"id": ("number", 9), "title": ("long", 40), "description": ("long", 60)}
    shapes |= {"support": ("number", 9), "created": ("date", 14), "theme": ("text", 30)}
    shapes |= {"kind": ("text", 24), "level": ("text", 18), "site": ("text", 24)}
    columns = [
        SheetColumn(
            translate(locale, f"exports.sheets.agenda.{key}"), *shapes.get(key, ("text", 20))
        )
        for key in CSV_COLUMNS
    ]
    rows = (
        (
            p.id,
            p.title,
            p.description,
            p.theme,
            kinds.get(p.kind, p.kind),
            levels.get(p.level, p.level),
            _site(p, some_site),
            "" if p.hidden else p.author or anonymous,  # hidden: no name, not even "-"
            statuses.get(p.status, p.status),
            p.support,
            p.created,
        )
        for p in data.points
    )
    name = translate(locale, "exports.sheets.names.agenda_points")
    return Table(name, columns, rows, len(data.points))


def _changes_table(data: AgendaReport, locale: str) -> Table:
    statuses = _names(locale)[0]

    def label(key: str) -> str:
        return translate(locale, f"exports.sheets.change.{key}")

    columns = [
        SheetColumn(label("day"), "date", 14),
        SheetColumn(label("id"), "number", 9),
        SheetColumn(label("title"), "long", 40),
        SheetColumn(label("from"), "text", 14),
        SheetColumn(label("to"), "text", 14),
        SheetColumn(label("reason"), "long", 50),
    ]
    rows = (
        (day, number, title, statuses.get(old, old), statuses.get(new, new), reason)
        for day, number, title, old, new, reason in data.changes
    )
    name = translate(locale, "exports.sheets.names.agenda_changes")
    return Table(name, columns, rows, len(data.changes))


def _xlsx(data: AgendaReport, locale: str) -> bytes:
    title = _t(locale)("title", community=data.community)
    return write_xlsx(
        [_points_table(data, locale), _changes_table(data, locale)],
        Properties(title, data.community, _report_day(data), locale),
    )


def _docx(data: AgendaReport, locale: str) -> bytes:
    """The report for a manager: overview, per site, most supported, what changed, and
    every point per theme with its kind, level, status, support, site, author and date."""
    t = _t(locale)
    statuses, kinds, levels = _names(locale)
    some_site = translate(locale, "agenda.some_site")

    def d(key: str, **params: object) -> str:
        return translate(locale, f"exports.docx.{key}", **params)

    days: dict[date | None, str] = {}

    def day(value: date | None) -> str:  # Babel takes ~40 µs a date: each one once
        text = days.get(value)
        if text is None:
            text = days[value] = format_day(value, locale)
        return text

    title = t("title", community=data.community)
    footer = d("footer", title=title, page=PAGE_MARK, pages=PAGES_MARK)
    doc = DocxWriter(Meta(title, data.community, locale, footer, _report_day(data)))
    doc.heading(title, 0)
    doc.paragraph(t("period", start=day(data.start), end=day(data.end)))
    if data.site or data.theme:
        doc.paragraph(t("filters", site=data.site or "-", theme=data.theme_name or "-"))

    doc.heading(t("overview"), 1)
    overview = [
        (theme, *(data.small(row[s]) for s in STATUSES))
        for theme, row in data.by_theme_status.items()
    ]
    doc.table(
        [
            DocColumn(t("theme"), grow=1, words=[row[0] for row in overview]),
            *(
                DocColumn(
                    statuses[s],
                    words=[str(row[n]) for row in overview],
                    nowrap=True,
                    align="right",
                )
                for n, s in enumerate(STATUSES, 1)
            ),
        ],
        overview,
    )

    doc.heading(t("per_site"), 1)
    sites = [(site, data.small(count)) for site, count in sorted(data.by_site.items())]
    if data.some_site:
        sites.append((some_site, data.small(data.some_site)))
    doc.table(
        [
            DocColumn(t("site"), grow=1, words=[s for s, _ in sites]),
            DocColumn(d("count"), words=[c for _, c in sites], nowrap=True, align="right"),
        ],
        sites,
    )

    doc.heading(t("top"), 1)
    for p in data.top:
        doc.numbered(t("top_line", title=p.title, support=p.support, status=statuses[p.status]))

    doc.heading(t("changes"), 1)
    if not data.changes:
        doc.paragraph(t("no_changes"))
    else:
        steps = {
            (old, new): d("step", old=statuses.get(old, old), new=statuses.get(new, new))
            for old, new in {(c[3], c[4]) for c in data.changes}
        }
        doc.table(
            [
                DocColumn(
                    d("day"), words={day(c[0]) for c in data.changes}, nowrap=True, repeats=True
                ),
                DocColumn(t("point"), grow=3),
                DocColumn(d("change"), words=steps.values(), repeats=True),
                DocColumn(d("reason"), grow=2),
            ],
            (
                (day(when), f"#{number} {name}", steps[(old, new)], reason)
                for when, number, name, old, new, reason in data.changes
            ),
        )

    doc.heading(t("points"), 1)
    by_theme: dict[str, list[ReportPoint]] = {name: [] for _, name in data.themes}
    for p in data.points:
        by_theme.setdefault(p.theme, []).append(p)
    points = data.points
    anonymous = t("anonymous")
    created = [day(d) for d in {p.created for p in points}]
    columns = [
        DocColumn(d("number"), words=[f"#{p.id}" for p in points[-1:]], nowrap=True),
        DocColumn(t("point"), grow=1),
        DocColumn(d("kind_level"), words=[*kinds.values(), *levels.values()], repeats=True),
        DocColumn(
            d("status_support"),
            words=[*statuses.values(), *(d("support_line", support=p.support) for p in data.top)],
            repeats=True,
        ),
        DocColumn(
            d("site_author_day"),
            words=[
                *{_site(p, some_site) for p in points},
                *{p.author for p in points},
                anonymous,
                *created,
            ],
            repeats=True,
        ),
    ]
    support_line = d("support_line", support="\x00")

    def row(p: ReportPoint) -> tuple[str, tuple[tuple[str, bool], ...], ...]:
        return (
            f"#{p.id}",
            ((p.title, True), (p.description, False)),
            ((kinds.get(p.kind, p.kind), False), (levels.get(p.level, p.level), False)),
            (
                (statuses.get(p.status, p.status), False),
                (support_line.replace("\x00", str(p.support)), False),
            ),
            (
                (_site(p, some_site) or "-", False),
                (p.author or anonymous, False),
                (day(p.created), False),
            ),
        )

    for theme, theme_points in by_theme.items():
        if not theme_points:
            continue
        doc.heading(theme, 2)
        doc.table(columns, (row(p) for p in theme_points))
    return doc.finish()
