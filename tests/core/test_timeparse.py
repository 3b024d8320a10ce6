"""Dates people type, Dutch and English: one parser for every date option (`parse_when` for
planning and moving sessions, `parse_day` for "tot" and the agenda export's van/tot,
`parse_month` for the month filter of `/sessie lijst`).

Every phrasing is read against a fixed "now" (Tuesday 1 December 2026, 10:00 in Amsterdam),
never the wall clock, so the table means the same on any day the tests run."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from leerbot.core.errors import ValidationFailed
from leerbot.core.timeparse import parse_day, parse_month, parse_weekday, parse_when
from leerbot.i18n import translate

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
NOW = datetime(2026, 12, 1, 10, 0)  # local wall time: a Tuesday morning
TODAY = NOW.date()


def at(day: str, clock: str) -> datetime:
    return datetime.fromisoformat(f"{day} {clock}")


WHEN = [
    # --- Dutch: what the issue asked for ---------------------------------------------------
    ("volgende dinsdag 19:30", at("2026-12-08", "19:30")),
    ("10 december 14u30", at("2026-12-10", "14:30")),
    ("donderdag 10 december 19:30", at("2026-12-10", "19:30")),
    ("10 dec. 19:30", at("2026-12-10", "19:30")),
    ("morgen 20:00", at("2026-12-02", "20:00")),
    ("3-12 om 14u", at("2026-12-03", "14:00")),
    ("2026-12-03 19:30", at("2026-12-03", "19:30")),
    ("di 19.30 uur", at("2026-12-01", "19:30")),  # today: still to come
    # --- Dutch: weekdays and words for days ------------------------------------------------
    ("di 9:00", at("2026-12-08", "09:00")),  # today's 9:00 has passed: next week
    ("dinsdag 19:30", at("2026-12-01", "19:30")),
    ("woensdag om 20.00", at("2026-12-02", "20:00")),
    ("aanstaande vrijdag 14:00", at("2026-12-04", "14:00")),
    ("komende maandag 10u", at("2026-12-07", "10:00")),
    ("volgende week dinsdag 19:30", at("2026-12-08", "19:30")),
    ("donderdag volgende week 19:30", at("2026-12-10", "19:30")),
    ("volgende week vrijdag om 15 uur", at("2026-12-11", "15:00")),
    ("vandaag 16:00", at("2026-12-01", "16:00")),
    ("overmorgen om 9 uur", at("2026-12-03", "09:00")),
    ("morgen 8 uur 's avonds", at("2026-12-02", "20:00")),
    ("morgen om 12 uur 's middags", at("2026-12-02", "12:00")),
    ("zo 6 dec 10:00", at("2026-12-06", "10:00")),
    ("vr 4 december 2026, 19:30", at("2026-12-04", "19:30")),
    ("maandag 7 december om 9.15", at("2026-12-07", "09:15")),
    # --- Dutch: dates in numbers and words -------------------------------------------------
    ("10 december 2026 19:30", at("2026-12-10", "19:30")),
    ("10de december 19:30", at("2026-12-10", "19:30")),
    ("1 januari 10:00", at("2027-01-01", "10:00")),  # no year: the next 1 January
    ("30-11 19:30", at("2027-11-30", "19:30")),  # 30 November has passed this year
    ("15 maart 2027 om 19u30", at("2027-03-15", "19:30")),
    ("15-3-2027 19:30", at("2027-03-15", "19:30")),
    ("15/3/27 19:30", at("2027-03-15", "19:30")),
    ("15.03.2027 19.30", at("2027-03-15", "19:30")),
    ("3-12 14:00", at("2026-12-03", "14:00")),
    ("10 december 14", at("2026-12-10", "14:00")),  # a bare hour after a whole date
    ("10 dec 19:30 uur", at("2026-12-10", "19:30")),
    ("2026-12-10 7 uur 's ochtends", at("2026-12-10", "07:00")),
    ("2026-12-10 20u", at("2026-12-10", "20:00")),
    ("2026-12-10 19h30", at("2026-12-10", "19:30")),
    # --- Dutch: order, capitals, spaces ----------------------------------------------------
    ("19:30 morgen", at("2026-12-02", "19:30")),
    ("om 19:30 op donderdag", at("2026-12-03", "19:30")),
    ("Donderdag 10 December 19:30", at("2026-12-10", "19:30")),
    ("  morgen   20:00  ", at("2026-12-02", "20:00")),
    # --- English ---------------------------------------------------------------------------
    ("next tuesday 7:30pm", at("2026-12-08", "19:30")),
    ("tomorrow 8pm", at("2026-12-02", "20:00")),
    ("tomorrow at 8 pm", at("2026-12-02", "20:00")),
    ("today 4:15 pm", at("2026-12-01", "16:15")),
    ("the day after tomorrow at noon", at("2026-12-03", "12:00")),
    ("Thursday 10 December 19:30", at("2026-12-10", "19:30")),
    ("December 10th at 7:30 pm", at("2026-12-10", "19:30")),
    ("Dec 10 2026 19:30", at("2026-12-10", "19:30")),
    ("10th of December 2:30pm", at("2026-12-10", "14:30")),
    ("Thu, Dec 10, 7.30pm", at("2026-12-10", "19:30")),
    ("tuesday next week 19:30", at("2026-12-08", "19:30")),
    ("next week friday 3 pm", at("2026-12-11", "15:00")),
    ("friday at 10", at("2026-12-04", "10:00")),
    ("monday 9:30 am", at("2026-12-07", "09:30")),
    ("tomorrow 12am", at("2026-12-02", "00:00")),
    ("tomorrow 12 pm", at("2026-12-02", "12:00")),
    ("tomorrow midnight", at("2026-12-02", "00:00")),
    ("31 March 2027 7:30pm", at("2027-03-31", "19:30")),
    ("tomorrow 8 in the evening", at("2026-12-02", "20:00")),
    ("1 Jan 9 a.m.", at("2027-01-01", "09:00")),
]

REFUSED = [
    # a date without a time asks for the time; a time without a date asks for the day
    ("10 december", "dates.errors.time_missing"),
    ("volgende dinsdag", "dates.errors.time_missing"),
    ("December 10", "dates.errors.time_missing"),
    ("19:30", "dates.errors.date_missing"),
    ("7pm", "dates.errors.date_missing"),
    # days and times that do not exist
    ("31 februari 19:30", "dates.errors.no_such_date"),
    ("31-04-2027 10:00", "dates.errors.no_such_date"),
    ("29 februari 2027 10:00", "dates.errors.no_such_date"),
    ("February 30 10:00", "dates.errors.no_such_date"),
    ("morgen 25:00", "dates.errors.no_such_time"),
    ("tomorrow 13pm", "dates.errors.no_such_time"),
    # a weekday that is not the date's
    ("dinsdag 10 december 19:30", "dates.errors.weekday_mismatch"),
    ("Tuesday 10 December 19:30", "dates.errors.weekday_mismatch"),
    # not a moment at all
    ("ergens volgende week", "errors.bad_datetime"),
    ("sometime next week", "errors.bad_datetime"),
    ("32 december 19:30", "errors.bad_datetime"),
    ("13-13 19:30", "errors.bad_datetime"),
    ("", "errors.bad_datetime"),
]


@pytest.mark.parametrize(("text", "expected"), WHEN, ids=[t for t, _ in WHEN])
def test_a_moment_as_people_write_it(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, AMSTERDAM) == expected


@pytest.mark.parametrize(("text", "key"), REFUSED, ids=[t or "empty" for t, _ in REFUSED])
def test_what_cannot_be_a_moment_gets_its_own_message(text: str, key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_when(text, NOW, AMSTERDAM)
    assert caught.value.key == key
    for locale in ("nl", "en"):  # the message renders in both languages
        assert translate(locale, caught.value.key, **caught.value.params)


def test_the_table_is_long_enough() -> None:
    assert len(WHEN) + len(REFUSED) >= 60


def message(text: str, locale: str = "nl") -> str:
    with pytest.raises(ValidationFailed) as caught:
        parse_when(text, NOW, AMSTERDAM)
    return translate(locale, caught.value.key, **caught.value.params)


def test_the_messages_say_what_is_wrong_in_plain_words() -> None:
    assert message("31 februari 19:30") == (
        "31 februari 2027 bestaat niet. Die maand heeft 28 dagen. Kies een andere datum."
    )
    assert message("10 december").startswith(
        "Hoe laat? Je schreef wel een dag (donderdag 10 december 2026), maar geen tijd."
    )
    assert message("December 10", "en").startswith(
        "At what time? You wrote a day (Thursday 10 December 2026) but no time."
    )
    assert message("dinsdag 10 december 19:30").startswith(
        "10 december 2026 is een donderdag, geen dinsdag."
    )


# --- the clock change ------------------------------------------------------------------------


def test_a_time_skipped_when_the_clocks_go_forward_is_refused_with_the_next_valid_time() -> None:
    text = message("2027-03-28 02:30")
    assert text == (
        "Op zondag 28 maart 2027 bestaat 02:30 niet. Die nacht gaat de klok een uur vooruit: "
        "van 02:00 meteen naar 03:00 (zomertijd). Kies een andere tijd, bijvoorbeeld 03:00."
    )
    assert "there is no 02:30" in message("28 March 2027 2:30 am", "en")
    # the minutes around it are fine
    assert parse_when("2027-03-28 01:59", NOW, AMSTERDAM) == at("2027-03-28", "01:59")
    assert parse_when("2027-03-28 03:00", NOW, AMSTERDAM) == at("2027-03-28", "03:00")


def test_a_time_that_happens_twice_asks_which_one() -> None:
    text = message("2027-10-31 02:30")
    assert "is het twee keer 02:30" in text
    assert "om 03:00 wordt het weer 02:00" in text
    assert "'31-10-2027 02:30 zomertijd'" in text and "'31-10-2027 02:30 wintertijd'" in text
    # both answers it suggests are understood, and mean an hour apart
    summer = parse_when("31-10-2027 02:30 zomertijd", NOW, AMSTERDAM)
    winter = parse_when("31-10-2027 02:30 wintertijd", NOW, AMSTERDAM)
    assert summer.replace(tzinfo=AMSTERDAM).astimezone(UTC) == datetime(
        2027, 10, 31, 0, 30, tzinfo=UTC
    )
    assert winter.replace(tzinfo=AMSTERDAM).astimezone(UTC) == datetime(
        2027, 10, 31, 1, 30, tzinfo=UTC
    )
    for hint, fold in (("(summer time)", 0), ("winter time", 1), ("CEST", 0), ("CET", 1)):
        assert parse_when(f"31 October 2027 2:30 am {hint}", NOW, AMSTERDAM).fold == fold
    # a hint on an ordinary time changes nothing
    assert parse_when("10 december 19:30 wintertijd", NOW, AMSTERDAM) == at("2026-12-10", "19:30")


def test_without_a_time_zone_nothing_is_checked() -> None:
    assert parse_when("2027-03-28 02:30", NOW) == at("2027-03-28", "02:30")


# --- days (periods, "tot") and months --------------------------------------------------------

DAYS = [
    ("2026-11-01", date(2026, 11, 1)),
    ("1-11-2026", date(2026, 11, 1)),
    ("1/11", date(2026, 11, 1)),  # a period: this year's, also when it has passed
    ("1 november 2026", date(2026, 11, 1)),
    ("1 nov", date(2026, 11, 1)),
    ("vandaag", TODAY),
    ("today", TODAY),
    ("December 31st", date(2026, 12, 31)),
    ("volgende dinsdag", date(2026, 12, 8)),
]


@pytest.mark.parametrize(("text", "expected"), DAYS, ids=[t for t, _ in DAYS])
def test_a_day_for_a_period(text: str, expected: date) -> None:
    assert parse_day(text, TODAY) == expected


def test_a_day_to_come_is_the_next_one() -> None:
    assert parse_day("1 maart", TODAY, future=True) == date(2027, 3, 1)
    assert parse_day("21 december", TODAY, future=True) == date(2026, 12, 21)
    assert parse_day("2027-06-30 19:30", TODAY, future=True) == date(2027, 6, 30)


@pytest.mark.parametrize(
    ("text", "key"),
    [("31 februari", "dates.errors.no_such_date"), ("bla", "dates.errors.bad_day"),
     ("19:30", "dates.errors.bad_day")],
)  # fmt: skip
def test_a_day_that_is_not_one(text: str, key: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_day(text, TODAY)
    assert caught.value.key == key


MONTHS = [
    ("december", (2026, 12)),
    ("dec", (2026, 12)),
    ("november", (2027, 11)),  # the next November
    ("januari", (2027, 1)),
    ("maart 2027", (2027, 3)),
    ("March 2027", (2027, 3)),
    ("2027-03", (2027, 3)),
    ("3-2027", (2027, 3)),
    ("deze maand", (2026, 12)),
    ("volgende maand", (2027, 1)),
    ("next month", (2027, 1)),
]


@pytest.mark.parametrize(("text", "expected"), MONTHS, ids=[t for t, _ in MONTHS])
def test_a_month(text: str, expected: tuple[int, int]) -> None:
    assert parse_month(text, TODAY) == expected


@pytest.mark.parametrize("text", ["maand 13", "2027-13", "ergens", "10 december"])
def test_what_is_not_a_month(text: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_month(text, TODAY)
    assert caught.value.key == "dates.errors.bad_month"


def test_weekdays_by_name() -> None:
    assert [parse_weekday(w) for w in ("maandag", "di", "Wednesday", "thu", "vr.")] == [
        0,
        1,
        2,
        3,
        4,
    ]
    with pytest.raises(ValidationFailed):
        parse_weekday("feestdag")
