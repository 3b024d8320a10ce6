"""Dates and times as people read them: "di 24 nov 19:30" / "Tue 24 Nov 19:30"."""

from __future__ import annotations

from datetime import datetime, tzinfo

from leerbot.i18n import translate


def when(moment: datetime, locale: str, tz: tzinfo | None = None) -> str:
    """Date and time with the weekday and month names of `locale`. With `tz`, `moment` (a
    time the database keeps in UTC) is shown in that time zone, the community's: every time a
    member reads is local."""
    if tz is not None:
        if moment.tzinfo is None:
            raise ValueError("a moment to show in a time zone must say its own (UTC)")
        moment = moment.astimezone(tz)
    weekdays = translate(locale, "dates.weekdays").split(",")
    months = translate(locale, "dates.months").split(",")
    return (
        f"{weekdays[moment.weekday()]} {moment.day} {months[moment.month - 1]} "
        f"{moment.year} {moment:%H:%M}"
    )


def time_only(moment: datetime) -> str:
    return f"{moment:%H:%M}"
