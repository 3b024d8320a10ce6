"""A closed reflection round as a spreadsheet (CSV or XLSX) for `/ronde export`: one row per
answer that readers may see (`Summary.shown()`: answers a moderator took out are left out).
Below the round's minimum there are no answers, only a row that says so; anonymous
answers held back in the member's-choice mode are counted in a last row, as in the summary.
The Markdown export is the summary itself (chat.reflections.summary_text)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import tzinfo

from leerbot.core.reflections import Summary
from leerbot.exports.spreadsheet import (
    DEFAULT_DELIMITER,
    Column,
    Properties,
    Table,
    write_csv,
    write_xlsx,
)
from leerbot.i18n import normalize_locale, translate

FORMATS = ("csv", "xlsx")
COLUMNS = ("round", "question_id", "question", "answer", "name", "source")


def render(
    data: Summary,
    fmt: str,
    locale: str,
    *,
    floor: int,
    community: str = "",
    tz: tzinfo | None = None,
    delimiter: str = DEFAULT_DELIMITER,
) -> bytes:
    """`floor`: the small-number threshold (named in the held-back row); `tz`: the
    community's time zone for the file's date."""
    table = _table(data, locale, floor)
    if fmt == "csv":
        return write_csv(table, delimiter)
    if fmt == "xlsx":
        closes = data.round.closes_at
        day = (closes.astimezone(tz) if tz else closes).date()
        return write_xlsx([table], Properties(data.round.title, community, day, locale))
    raise ValueError(fmt)


def _table(data: Summary, locale: str, floor: int) -> Table:
    def label(key: str, **params: object) -> str:
        return translate(locale, f"exports.sheets.round.{key}", **params)

    shapes = {"question": ("long", 40), "answer": ("long", 60), "round": ("text", 24)}
    columns = [Column(label(key), *shapes.get(key, ("text", 16))) for key in COLUMNS]
    return Table(
        translate(locale, "exports.sheets.names.round"), columns, _rows(data, locale, floor)
    )


def _rows(data: Summary, locale: str, floor: int) -> Iterator[Sequence[object]]:
    title = data.round.title
    if data.withheld:
        note = translate(
            locale,
            "exports.sheets.round.withheld",
            answered=data.answered,
            minimum=data.round.min_answers,
        )
        yield (title, "", "", note, "", "")
        return
    english = normalize_locale(locale) == "en"
    anonymous = translate(locale, "exports.sheets.anonymous")
    for question, answers in data.shown():
        text = question.get("en") if english else question.get("nl")
        for answer in answers:
            yield (
                title,
                question["id"],
                text or question.get("nl") or "",
                answer.text,
                answer.name or anonymous,
                question.get("source") or "",
            )
    if data.anonymous_held_back:
        note = translate(
            locale,
            "exports.sheets.round.held_back",
            held_back=data.anonymous_held_back,
            floor=floor,
        )
        yield (title, "", "", note, "", "")
