"""Dates and times the way people write them: one parser for every date option (planning and
moving a session, "tot", the month filter of `/sessie lijst`, the agenda export's van/tot).

What it understands, in Dutch and English, upper or lower case; commas, "om"/"at",
"op"/"on", "de"/"the" and "uur" after a time are left out:

- a day: "vandaag", "morgen", "overmorgen", "today", "tomorrow", "the day after tomorrow";
  a weekday, "dinsdag", "di", "tue" (today if the time is still to come, else next week);
  "volgende/aanstaande/komende dinsdag", "next tuesday" (the first Tuesday after today);
  "volgende week dinsdag", "dinsdag volgende week", "tuesday next week" (the Tuesday of the
  week after this one); "2026-12-03"; day first: "3-12", "3/12", "3.12.2026", "3-12-26";
  "10 december", "10 dec.", "10de december", "december 10th", "10 december 2026". A weekday
  with a date is checked ("donderdag 10 december" must be a Thursday). A date without a year
  is the next such date ("10 december" in January is this year's, in late December next
  year's); for a period (`parse_day`) it is this year's.
- a time: "19:30", "19.30", "19u30", "14u", "14 uur", "19h30", "7pm", "7:30 pm", "8 uur
  's avonds", "noon", "midnight"; a bare hour after "om"/"at" or after a whole date
  ("10 december 14").
- for the hour that happens twice when the clocks go back in October: "zomertijd" /
  "wintertijd", "summer time" / "winter time", "CEST" / "CET" (the first, the second time).

Everything is local wall time in the community's time zone. `parse_when(..., tz=...)` checks
that the time exists on that day (not in the hour skipped in March) and is not ambiguous
(the hour that happens twice in October, unless a hint says which); the datetime's `fold`
carries the choice, and the caller turns it into UTC.

Mistakes get their own message: a date without a time asks for the time, a time without a
date asks for the day, "31 februari" says that day does not exist, "25:00" that the time does
not, a weekday that does not match the date says so.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from leerbot.core.errors import ValidationFailed

WEEKDAYS = {
    "ma": 0, "maa": 0, "maan": 0, "maandag": 0, "mo": 0, "mon": 0, "monday": 0,
    "di": 1, "din": 1, "dins": 1, "dinsdag": 1, "tu": 1, "tue": 1, "tues": 1, "tuesday": 1,
    "wo": 2, "woe": 2, "woens": 2, "woensdag": 2, "we": 2, "wed": 2, "weds": 2,
    "wednesday": 2,
    "do": 3, "don": 3, "donder": 3, "donderdag": 3, "th": 3, "thu": 3, "thur": 3, "thurs": 3,
    "thursday": 3,
    "vr": 4, "vrij": 4, "vrijdag": 4, "fr": 4, "fri": 4, "friday": 4,
    "za": 5, "zat": 5, "zaterdag": 5, "sa": 5, "sat": 5, "saturday": 5,
    "zo": 6, "zon": 6, "zondag": 6, "su": 6, "sun": 6, "sunday": 6,
}  # fmt: skip
MONTHS = {
    "jan": 1, "januari": 1, "january": 1,
    "feb": 2, "febr": 2, "februari": 2, "february": 2,
    "mrt": 3, "maart": 3, "mar": 3, "march": 3,
    "apr": 4, "april": 4,
    "mei": 5, "may": 5,
    "jun": 6, "juni": 6, "june": 6,
    "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "augustus": 8, "august": 8,
    "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oktober": 10, "oct": 10, "october": 10,
    "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip
RELATIVE = {"vandaag": 0, "today": 0, "morgen": 1, "tomorrow": 1, "overmorgen": 2}
NEXT_WORDS = frozenset({"volgende", "aanstaande", "komende", "next"})
THIS_WORDS = frozenset({"deze", "this"})
FILLER = frozenset({"om", "at", "op", "on", "de", "het", "the", "of", "den", "uur"})
SUMMER_TIME = frozenset({"zomertijd", "cest"})
WINTER_TIME = frozenset({"wintertijd", "cet"})
WORD_TIMES = {"noon": time(12), "midnight": time(0), "middernacht": time(0)}

# Several words that mean one thing, turned into one token before splitting.
_PHRASES = (
    (re.compile(r"\b(?:the\s+)?day\s+after\s+tomorrow\b"), " overmorgen "),
    (re.compile(r"\b(?:summer\s*time|daylight\s+saving\s+time)\b"), " zomertijd "),
    (re.compile(r"\b(?:winter\s*time|standard\s+time)\b"), " wintertijd "),
    (re.compile(r"\b(?:volgende|komende|next)\s+week\b"), " #nextweek "),
    (re.compile(r"\b(?:volgende|komende|next)\s+(?:maand|month)\b"), " #nextmonth "),
    (re.compile(r"\b(?:deze|this)\s+(?:maand|month)\b"), " #thismonth "),
    (re.compile(r"(?:^|\s)'?s\s*(?:avonds|middags)\b|\bin\s+the\s+(?:evening|afternoon)\b"),
     " #pm "),
    (re.compile(r"(?:^|\s)'?s\s*(?:ochtends|morgens|nachts)\b|\bin\s+the\s+morning\b"), " #am "),
    (re.compile(r"\b([ap])\.m\.?"), r"\1m"),
)  # fmt: skip
_SUFFIXES = frozenset({"u", "uur", "h", "am", "pm"})

_TIME_DEFINITE = (
    re.compile(r"^(?P<h>\d{1,2}):(?P<m>\d{2})(?:u|uur|h)?$"),
    re.compile(r"^(?P<h>\d{1,2})(?:u|uur|h)(?P<m>\d{2})?$"),
    re.compile(r"^(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?(?P<ampm>am|pm)$"),
    re.compile(r"^(?P<h>\d{1,2})\.(?P<m>\d{2})(?:u|uur|h)$"),
)
_TIME_MAYBE = re.compile(r"^(?P<h>\d{1,2})(?:\.(?P<m>\d{2}))?$")
_ISO_DATE = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})([-/.])(\d{1,2})(?:\2(\d{2}|\d{4}))?$")
_ORDINAL = re.compile(r"^(\d{1,2})(?:e|de|ste|st|nd|rd|th)?$")
_YEAR = re.compile(r"^(\d{4}|'\d{2})$")
_ISO_MONTH = re.compile(r"^(\d{4})[-/](\d{1,2})$")
_MY = re.compile(r"^(\d{1,2})[-/](\d{4})$")


# --- errors ------------------------------------------------------------------------------


def _bad(text: str) -> ValidationFailed:
    return ValidationFailed("errors.bad_datetime", text=text)


def _day_params(day: date) -> dict[str, int]:
    """A day as the prompts take it: numbers, named in the reader's language there."""
    return {"day": day.day, "month": day.month, "year": day.year, "weekday": day.weekday()}


def _no_such_date(day: int, month: int, year: int) -> ValidationFailed:
    return ValidationFailed(
        "dates.errors.no_such_date",
        day=day,
        month=month,
        year=year,
        days=calendar.monthrange(year, month)[1],
    )


# --- reading the words -------------------------------------------------------------------


@dataclass(frozen=True)
class _Words:
    tokens: tuple[str, ...]
    marks: frozenset[str]  # #pm, #am, #nextweek, #nextmonth, #thismonth
    fold: int | None  # 0: summer time (the first time), 1: winter time (the second)


def _words(text: str) -> _Words:
    cleaned = text.strip().lower().replace("’", "'").replace("`", "'")
    cleaned = re.sub(r"[(),;]", " ", cleaned)
    for pattern, replacement in _PHRASES:
        cleaned = pattern.sub(replacement, cleaned)
    raw = [t.rstrip(".") for t in cleaned.split()]
    raw = [t for t in raw if t]
    tokens: list[str] = []
    marks: set[str] = set()
    folds: set[int] = set()
    for token in raw:
        if token.startswith("#"):
            marks.add(token)
        elif token in SUMMER_TIME:
            folds.add(0)
        elif token in WINTER_TIME:
            folds.add(1)
        elif token in _SUFFIXES and tokens and re.fullmatch(r"\d{1,2}(?:[:.]\d{2})?", tokens[-1]):
            tokens[-1] += token  # "19:30 uur", "7 pm", "14 u"
        else:
            tokens.append(token)
    if len(folds) > 1:
        raise _bad(text)
    return _Words(tuple(tokens), frozenset(marks), folds.pop() if folds else None)


def _definite_time(token: str) -> tuple[int, int, str | None] | None:
    if token in WORD_TIMES:
        found = WORD_TIMES[token]
        return found.hour, found.minute, None
    for pattern in _TIME_DEFINITE:
        if match := pattern.match(token):
            parts = match.groupdict()
            return int(parts["h"]), int(parts.get("m") or 0), parts.get("ampm")
    return None


def _maybe_time(token: str) -> tuple[int, int, str | None] | None:
    if (match := _TIME_MAYBE.match(token)) and int(match["h"]) <= 23:
        return int(match["h"]), int(match["m"] or 0), None
    return None


def _make_time(found: tuple[int, int, str | None], marks: frozenset[str]) -> time:
    hour, minute, ampm = found
    if ampm and not 1 <= hour <= 12:
        raise ValidationFailed("dates.errors.no_such_time", time=f"{hour}{ampm}")
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    elif ampm is None and "#pm" in marks and hour < 12:
        hour += 12  # "8 uur 's avonds"
    elif ampm is None and "#am" in marks and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValidationFailed("dates.errors.no_such_time", time=f"{hour:02}:{minute:02}")
    return time(hour, minute)


# --- the day -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _DateForm:
    """What the words say about the day, not yet checked against the calendar."""

    kind: str  # none | relative | weekday | dated
    offset: int = 0  # relative: days from today
    weekday: int | None = None
    next_word: bool = False  # "volgende dinsdag"
    next_week: bool = False  # "volgende week dinsdag"
    day: int = 0
    month: int = 0
    year: int | None = None


def _year(text: str) -> int:
    number = int(text.lstrip("'"))
    return number + 2000 if number < 100 else number


def _date_form(tokens: list[str], marks: frozenset[str]) -> _DateForm | None:
    """The day the words name, or None when they are not a day at all."""
    weekday: int | None = None
    next_word = False
    rest: list[str] = []
    for token in tokens:
        if token in WEEKDAYS and weekday is None:
            weekday = WEEKDAYS[token]
        elif token in NEXT_WORDS:
            next_word = True
        elif token in THIS_WORDS or token in FILLER:
            continue
        else:
            rest.append(token)
    next_week = "#nextweek" in marks
    if next_word and (weekday is None or rest):
        return None  # "volgende 10 december"
    if next_week and (weekday is None or rest):
        return None
    common = {"weekday": weekday, "next_word": next_word, "next_week": next_week}
    if not rest:
        return _DateForm("weekday" if weekday is not None else "none", **common)  # type: ignore[arg-type]
    if len(rest) == 1 and rest[0] in RELATIVE:
        return _DateForm("relative", offset=RELATIVE[rest[0]], **common)  # type: ignore[arg-type]
    if len(rest) == 1 and (match := _ISO_DATE.match(rest[0])):
        return _DateForm(
            "dated", day=int(match[3]), month=int(match[2]), year=int(match[1]), **common
        )  # type: ignore[arg-type]
    if len(rest) == 1 and (match := _DMY.match(rest[0])):
        year = _year(match[4]) if match[4] else None
        return _DateForm("dated", day=int(match[1]), month=int(match[3]), year=year, **common)  # type: ignore[arg-type]
    if 2 <= len(rest) <= 3:
        year: int | None = None
        if len(rest) == 3:
            if not _YEAR.match(rest[2]) and not (rest[2].isdigit() and len(rest[2]) == 2):
                return None
            year = _year(rest[2])
        first, second = rest[0], rest[1]
        if first in MONTHS and (match := _ORDINAL.match(second)):
            return _DateForm("dated", day=int(match[1]), month=MONTHS[first], year=year, **common)  # type: ignore[arg-type]
        if second in MONTHS and (match := _ORDINAL.match(first)):
            return _DateForm("dated", day=int(match[1]), month=MONTHS[second], year=year, **common)  # type: ignore[arg-type]
    return None


def _plausible(form: _DateForm) -> bool:
    """Could this be a day at all (a month 1–12, a day 1–31)? "31 februari" can."""
    if form.kind != "dated":
        return True
    return 1 <= form.month <= 12 and 1 <= form.day <= 31 and (form.year or 2000) >= 1900


def _resolve_day(form: _DateForm, today: date, *, future: bool) -> date | None:
    if form.kind == "none":
        return None
    if form.kind == "weekday":
        assert form.weekday is not None
        if form.next_week:
            monday = today - timedelta(days=today.weekday()) + timedelta(weeks=1)
            return monday + timedelta(days=form.weekday)
        ahead = (form.weekday - today.weekday()) % 7
        if form.next_word and ahead == 0:
            ahead = 7
        return today + timedelta(days=ahead)
    if form.kind == "relative":
        found = today + timedelta(days=form.offset)
    else:
        year = form.year if form.year is not None else today.year
        if form.year is None and future and (form.month, form.day) < (today.month, today.day):
            year += 1  # "10 maart" in December: next March
        if form.day > calendar.monthrange(year, form.month)[1]:
            raise _no_such_date(form.day, form.month, year)
        found = date(year, form.month, form.day)
    if form.weekday is not None and found.weekday() != form.weekday:
        raise ValidationFailed(
            "dates.errors.weekday_mismatch", said=form.weekday, **_day_params(found)
        )
    return found


@dataclass(frozen=True)
class _Scan:
    day: date | None
    at: time | None
    fold: int | None
    weekday_only: bool  # a weekday alone: next week's when the time has passed today


def _scan(text: str, today: date, *, future: bool) -> _Scan:
    words = _words(text)
    tokens = list(words.tokens)
    if not tokens:
        raise _bad(text)
    found: tuple[int, int, str | None] | None = None
    where: int | None = None
    definite = [(i, t) for i, t in enumerate(tokens) if _definite_time(t)]
    if len(definite) > 1:
        raise _bad(text)
    if definite:
        where, token = definite[0]
        found = _definite_time(token)
    else:
        for i, token in enumerate(tokens[:-1]):  # "om 20", "at 8"
            if token in ("om", "at") and _maybe_time(tokens[i + 1]):
                where, found = i + 1, _maybe_time(tokens[i + 1])
                break
    if found is None:
        # a number at the end of a whole date ("morgen 19.30", "10 december 14")
        for i in reversed(range(len(tokens))):
            maybe = _maybe_time(tokens[i])
            if maybe is None:
                continue
            rest = tokens[:i] + tokens[i + 1 :]
            form = _date_form(rest, words.marks)
            if form is not None and form.kind != "none" and _plausible(form):
                where, found = i, maybe
                break
    if where is not None:
        del tokens[where]
    form = _date_form(tokens, words.marks)
    if form is None or not _plausible(form):
        raise _bad(text)
    at = _make_time(found, words.marks) if found is not None else None
    day = _resolve_day(form, today, future=future)
    return _Scan(
        day=day,
        at=at,
        fold=words.fold,
        weekday_only=form.kind == "weekday" and not form.next_word and not form.next_week,
    )


# --- what the rest of leerbot calls --------------------------------------------------------


def parse_when(text: str, now_local: datetime, tz: tzinfo | None = None) -> datetime:
    """A naive local datetime from what someone typed ("di 19:30" is the next Tuesday at
    19:30: today if that is still to come, otherwise next week). With `tz`, a time that
    does not exist that day or happens twice is refused (see `check_local`)."""
    scan = _scan(text, now_local.date(), future=True)
    if scan.day is None and scan.at is None:
        raise _bad(text)
    if scan.day is None:
        assert scan.at is not None
        raise ValidationFailed("dates.errors.date_missing", time=f"{scan.at:%H:%M}")
    if scan.at is None:
        raise ValidationFailed("dates.errors.time_missing", **_day_params(scan.day))
    result = datetime.combine(scan.day, scan.at)
    if scan.weekday_only and result <= now_local:
        result += timedelta(days=7)
    if tz is not None:
        result = check_local(result, tz, scan.fold)
    return result


def parse_day(text: str, today: date, *, future: bool = False) -> date:
    """A day as people write it ("2026-11-01", "1-11-2026", "1/11", "1 november 2026",
    "1 nov", "vandaag", "volgende dinsdag"); a time with it is left out. Without a year:
    this year's (a period: past days are fine), or with `future` the next such day."""
    try:
        scan = _scan(text, today, future=future)
    except ValidationFailed as failed:
        if failed.key == "errors.bad_datetime":
            raise ValidationFailed("dates.errors.bad_day", text=text) from None
        raise
    if scan.day is None:
        raise ValidationFailed("dates.errors.bad_day", text=text)
    return scan.day


def parse_month(text: str, today: date) -> tuple[int, int]:
    """(year, month) from "december", "dec 2027", "2027-12", "12-2027", "deze maand",
    "next month"; a month without a year is the next such month (this one included)."""
    words = _words(text)
    tokens = [t for t in words.tokens if t not in FILLER and t not in ("in", "maand", "month")]
    if "#thismonth" in words.marks and not tokens:
        return today.year, today.month
    if "#nextmonth" in words.marks and not tokens:
        return (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
    year: int | None = None
    month: int | None = None
    if len(tokens) == 1 and (match := _ISO_MONTH.match(tokens[0])):
        year, month = int(match[1]), int(match[2])
    elif len(tokens) == 1 and (match := _MY.match(tokens[0])):
        year, month = int(match[2]), int(match[1])
    elif len(tokens) in (1, 2) and tokens[0] in MONTHS:
        month = MONTHS[tokens[0]]
        if len(tokens) == 2:
            if not _YEAR.match(tokens[1]):
                raise ValidationFailed("dates.errors.bad_month", text=text)
            year = _year(tokens[1])
    elif len(tokens) == 2 and tokens[1] in MONTHS and _YEAR.match(tokens[0]):
        year, month = _year(tokens[0]), MONTHS[tokens[1]]
    if month is None or not 1 <= month <= 12:
        raise ValidationFailed("dates.errors.bad_month", text=text)
    if year is None:
        year = today.year if month >= today.month else today.year + 1
    return year, month


def parse_weekday(text: str) -> int:
    """0 (Monday) to 6 (Sunday) from a weekday's name in Dutch or English, whole or short."""
    word = text.strip().lower().rstrip(".")
    if word not in WEEKDAYS:
        raise ValidationFailed("dates.errors.bad_weekday", text=text)
    return WEEKDAYS[word]


# --- the clock change ----------------------------------------------------------------------


def _exists(local: datetime, tz: tzinfo) -> bool:
    aware = local.replace(tzinfo=tz, fold=0)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None, fold=0) == local.replace(
        fold=0
    )


def check_local(local: datetime, tz: tzinfo, fold: int | None = None) -> datetime:
    """`local` (naive wall time in `tz`) if it happens exactly once. A time in the hour the
    clocks skip is refused, with the first time that exists after it; a time in the hour
    that happens twice is refused unless `fold` says which (0: the first, still summer time;
    1: the second, winter time), which the result then carries."""
    minute = timedelta(minutes=1)
    if not _exists(local, tz):
        before = local
        while not _exists(before - minute, tz):
            before -= minute
        after = local
        while not _exists(after, tz):
            after += minute
        raise ValidationFailed(
            "dates.errors.nonexistent_time",
            time=f"{local:%H:%M}",
            gap_from=f"{before:%H:%M}",
            gap_to=f"{after:%H:%M}",
            **_day_params(local.date()),
        )
    first = local.replace(tzinfo=tz, fold=0)
    second = local.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return local.replace(fold=0)
    if fold is not None:
        return local.replace(fold=fold)
    # when the clocks go back: the first moment at which the offset changes
    change = first.astimezone(UTC)
    while change.astimezone(tz).utcoffset() == first.utcoffset():
        change += minute
    back_from = (change.replace(tzinfo=None) + (first.utcoffset() or timedelta(0))).time()
    back_to = change.astimezone(tz).time()
    raise ValidationFailed(
        "dates.errors.ambiguous_time",
        time=f"{local:%H:%M}",
        back_from=f"{back_from:%H:%M}",
        back_to=f"{back_to:%H:%M}",
        example=f"{local.day}-{local.month}-{local.year} {local:%H:%M}",
        **_day_params(local.date()),
    )


# --- durations -----------------------------------------------------------------------------

_DURATION = re.compile(
    r"^(?:(\d+(?:[.,]\d+)?)\s*(uur|u|h|hours?|uren)|(\d+)\s*(min|minuten|minutes?|m)"
    r"|(\d{1,2}):(\d{2})|(\d+))$"
)


def parse_duration(text: str) -> int:
    """Minutes from "2 uur", "1,5 uur", "90 min", "1:30" or a plain number of minutes."""
    cleaned = text.strip().lower()
    match = _DURATION.match(cleaned)
    if not match:
        raise ValidationFailed("errors.bad_duration", text=text)
    if match.group(1):
        return round(float(match.group(1).replace(",", ".")) * 60)
    if match.group(3):
        return int(match.group(3))
    if match.group(5):
        return int(match.group(5)) * 60 + int(match.group(6))
    return int(match.group(7))
