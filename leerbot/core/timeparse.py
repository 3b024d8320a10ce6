"""Dates and times the way people write them: "di 19:30", "2026-12-01 19:30",
"morgen 10:00", "1 december 19:30", "tue 7:30pm"; durations like "2 uur", "90 min", "1:30".

Everything is local wall time in the community's time zone; the caller turns it into UTC.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from leerbot.core.errors import ValidationFailed

WEEKDAYS = {
    "ma": 0, "maandag": 0, "mon": 0, "monday": 0,
    "di": 1, "dinsdag": 1, "tue": 1, "tues": 1, "tuesday": 1,
    "wo": 2, "woensdag": 2, "wed": 2, "wednesday": 2,
    "do": 3, "donderdag": 3, "thu": 3, "thur": 3, "thurs": 3, "thursday": 3,
    "vr": 4, "vrijdag": 4, "fri": 4, "friday": 4,
    "za": 5, "zaterdag": 5, "sat": 5, "saturday": 5,
    "zo": 6, "zondag": 6, "sun": 6, "sunday": 6,
}  # fmt: skip
MONTHS = {
    "jan": 1, "januari": 1, "january": 1, "feb": 2, "februari": 2, "february": 2,
    "mrt": 3, "maart": 3, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "mei": 5, "may": 5, "jun": 6, "juni": 6, "june": 6, "jul": 7, "juli": 7, "july": 7,
    "aug": 8, "augustus": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "okt": 10, "oktober": 10, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}  # fmt: skip
RELATIVE = {"vandaag": 0, "today": 0, "morgen": 1, "tomorrow": 1, "overmorgen": 2}

_TIME = re.compile(r"^(\d{1,2})(?:[:.](\d{2}))?\s*(am|pm|u|uur|h)?$")
_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_DMY = re.compile(r"^(\d{1,2})[-/.](\d{1,2})(?:[-/.](\d{2,4}))?$")


def _bad(text: str) -> ValidationFailed:
    return ValidationFailed("errors.bad_datetime", text=text)


def _parse_time(token: str, original: str) -> time:
    match = _TIME.match(token)
    if not match:
        raise _bad(original)
    hour, minute = int(match.group(1)), int(match.group(2) or 0)
    suffix = match.group(3)
    if suffix == "pm" and hour < 12:
        hour += 12
    elif suffix == "am" and hour == 12:
        hour = 0
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _bad(original)
    return time(hour, minute)


def _parse_date(tokens: list[str], today: date, original: str) -> date:
    text = " ".join(tokens)
    if text in RELATIVE:
        return today + timedelta(days=RELATIVE[text])
    if text in WEEKDAYS:
        ahead = (WEEKDAYS[text] - today.weekday()) % 7
        return today + timedelta(days=ahead)
    try:
        if match := _ISO_DATE.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _DMY.match(text):
            year = int(match[3]) if match[3] else today.year
            year = year + 2000 if year < 100 else year
            day = date(year, int(match[2]), int(match[1]))
            return day if match[3] or day >= today else day.replace(year=year + 1)
        if len(tokens) in (2, 3) and tokens[0].isdigit() and tokens[1] in MONTHS:
            year = int(tokens[2]) if len(tokens) == 3 and tokens[2].isdigit() else today.year
            day = date(year, MONTHS[tokens[1]], int(tokens[0]))
            return day if len(tokens) == 3 or day >= today else day.replace(year=year + 1)
    except ValueError:
        raise _bad(original) from None
    raise _bad(original)


def parse_day(text: str, today: date) -> date:
    """A day as people write it for a period (past days are fine): "2026-11-01",
    "1-11-2026", "1/11", "1 november 2026", "1 nov", "vandaag". A day and month without a
    year is in this year."""
    original = text
    cleaned = re.sub(r"\s+", " ", text.strip().lower().replace(",", " "))
    tokens = [t for t in cleaned.split(" ") if t]
    if not tokens:
        raise _bad(original)
    try:
        if len(tokens) == 1 and (match := _DMY.match(tokens[0])) and not match[3]:
            return date(today.year, int(match[2]), int(match[1]))
        if len(tokens) == 2 and tokens[0].isdigit() and tokens[1] in MONTHS:
            return date(today.year, MONTHS[tokens[1]], int(tokens[0]))
    except ValueError:
        raise _bad(original) from None
    return _parse_date(tokens, today, original)


def parse_when(text: str, now_local: datetime) -> datetime:
    """A naive local datetime from what someone typed; "di 19:30" is the next Tuesday at
    19:30 (today if that is still to come, otherwise next week)."""
    original = text
    cleaned = re.sub(r"\s+", " ", text.strip().lower().replace(",", " ").replace(" om ", " "))
    tokens = [t for t in cleaned.split(" ") if t and t not in ("om", "at")]
    if len(tokens) >= 2 and tokens[-1] in ("am", "pm", "u", "uur"):
        tokens[-2:] = [tokens[-2] + tokens[-1]]
    if len(tokens) < 2:
        raise _bad(original)
    at = _parse_time(tokens[-1], original)
    day = _parse_date(tokens[:-1], now_local.date(), original)
    result = datetime.combine(day, at)
    if tokens[:-1] and " ".join(tokens[:-1]) in WEEKDAYS and result <= now_local:
        result += timedelta(days=7)
    return result


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
