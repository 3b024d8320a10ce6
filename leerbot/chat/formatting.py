"""Dates and times as people read them: "di 24 nov 19:30" / "Tue 24 Nov 19:30"."""

from __future__ import annotations

from datetime import datetime

from leerbot.i18n import translate


def when(moment: datetime, locale: str) -> str:
    """Local date and time, with the weekday and month names of `locale`."""
    weekdays = translate(locale, "dates.weekdays").split(",")
    months = translate(locale, "dates.months").split(",")
    return (
        f"{weekdays[moment.weekday()]} {moment.day} {months[moment.month - 1]} "
        f"{moment.year} {moment:%H:%M}"
    )


def time_only(moment: datetime) -> str:
    return f"{moment:%H:%M}"
