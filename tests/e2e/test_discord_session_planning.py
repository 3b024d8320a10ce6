"""What a new member and a new moderator ran into with intervisie sessions (issue 13), end to
end through the local fake Discord: a year planned ahead, a long list, roles when someone
cannot come, meetings that are over or about to start, fewer places than people, the night
the clocks change, dates as people type them, local times on the agenda card, and English
words an English reader understands.

The bot runs on the real clock (as `leerbot run` does); every date here is counted from
today, so each test means the same on any day it runs."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar
from sqlalchemy import select, update

from leerbot.chat.formatting import when
from leerbot.config import Settings
from leerbot.db.models import AgendaStatusChange, SessionOccurrence
from leerbot.testing import Reply as Seen
from tests.e2e.conftest import World, discord_world, unexpected_errors
from tests.e2e.test_discord_agenda import propose
from tests.e2e.test_discord_sessions import (
    AMSTERDAM,
    MONTHS,
    card_of,
    card_shows,
    dutch,
    event_named,
    field,
    fire_now,
    in_days,
    keep_up,
    labels,
    local,
    plan,
    seen,
    settled,
    setup_community,
    utc,
)

MONTHS_FULL = (
    "januari februari maart april mei juni juli augustus september oktober november december"
).split()
WEEKDAYS_FULL = "maandag dinsdag woensdag donderdag vrijdag zaterdag zondag".split()


def number_of(answer: Seen) -> int:
    """The meeting's number from the card in an answer ("Intervisie #3: …")."""
    assert answer.message is not None and answer.message.embeds, seen(answer)
    match = re.search(r"#(\d+):", answer.message.embeds[0]["title"])
    assert match, answer.message.embeds[0]["title"]
    return int(match[1])


def listed_numbers(answer: Seen) -> list[int]:
    return [int(n) for n in re.findall(r"\*\*#(\d+)\*\*", seen(answer))]


async def attempt(world: World, start: str, **options: Any) -> str:
    """A moderator tries to plan with this start; what they read."""
    options.setdefault("adres", "Buurthuis, Utrecht")
    answer = await world.fake.slash(
        world.admin, "sessie plannen", titel="Poging", start=start, **options
    )
    assert answer.ephemeral
    return seen(answer)


# --- 1: a year ahead ----------------------------------------------------------------------


async def test_meetings_planned_far_ahead_can_be_seen_joined_and_put_in_a_calendar(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake, app = world.fake, world.app
        keep_up(fake)
        await setup_community(world)
        far = in_days(200)
        once = await plan(world, "Ver weg", far, adres="Utrecht")
        assert field(once, "Wanneer") == f"{dutch(far, '19:30')}–21:30"
        monthly = await plan(world, "Maandelijks", in_days(150), herhaling="maandelijks")
        weekly = await plan(world, "Voorjaar", in_days(300), herhaling="wekelijks", aantal=3)
        assert "met herhaling" in seen(monthly) and "met herhaling" in seen(weekly)

        # a member finds the far meeting, signs up with its button and gets it in her file
        viewed = await fake.slash(world.sanne, "sessie bekijken", sessie=number_of(once))
        assert labels(viewed) == ["Ik kom", "Misschien", "Ik kan niet", "Naam wel/niet tonen"]
        yes = await fake.click(viewed, "Ik kom", by=world.sanne)
        assert "Fijn dat je komt! Je staat op de lijst voor Ver weg" in seen(yes)
        assert "Je krijgt vooraf een herinnering." in seen(yes)
        own = await fake.slash(world.sanne, "sessie agenda")
        (event,) = Calendar.from_ical(own.files[0].data).walk("VEVENT")
        assert event.decoded("dtstart") == local(far, "19:30")

        # every meeting of the weekly series exists, also 300 days ahead
        series = await fake.slash(world.sanne, "sessie agenda", sessie=number_of(weekly))
        (master,) = Calendar.from_ical(series.files[0].data).walk("VEVENT")
        assert master.decoded("dtstart") == local(in_days(300), "19:30")
        assert "COUNT=3" in master["RRULE"].to_ical().decode()
        # the monthly series: a year of meetings from its first, each one open to sign up
        mine = await fake.slash(world.sanne, "sessie lijst", maand=_month_of(in_days(400)))
        assert "Maandelijks" in seen(mine), seen(mine)
        last_monthly = max(listed_numbers(mine))
        later = await fake.slash(world.kees, "session view", session=last_monthly)
        assert "I'll come" in labels(later)

        # cards wait until three weeks before: the channel is not flooded with a year (the
        # meeting Sanne signed up for shows its card at once)
        await settled(app)
        posted = [seen(m).splitlines()[0] for m in fake.messages(world.sessions)]
        assert posted == [f"Intervisie #{number_of(once)}: Ver weg"]
        assert not unexpected_errors(world)


def _month_of(day: date) -> str:
    return f"{MONTHS_FULL[day.month - 1]} {day.year}"


# --- 2: a long list, in pages, for a site or a month --------------------------------------


async def test_the_list_has_pages_and_filters_for_site_and_month(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        await setup_community(world)
        for name, city in (("De Achterkant", "Utrecht"), ("Kunstwerkplaats 4B", "Venray")):
            await fake.slash(world.admin, "site toevoegen", naam=name, plaats=city)
        first = in_days(3)
        await plan(
            world, "Wekelijks", first, herhaling="wekelijks", aantal=12, adres="Utrecht",
            site="De Achterkant",
        )  # fmt: skip
        venray = await plan(world, "Venray", in_days(10), adres="Venray", site="Kunstwerkplaats 4B")

        page_one = await fake.slash(world.sanne, "sessie lijst")
        assert "Intervisie (pagina 1 van 2, 13 bijeenkomsten)" in seen(page_one), seen(page_one)
        assert len(listed_numbers(page_one)) == 10
        assert labels(page_one) == ["Volgende"]
        page_two = await fake.click(page_one, "Volgende", by=world.sanne)
        assert "(pagina 2 van 2, 13 bijeenkomsten)" in seen(page_two)
        assert len(listed_numbers(page_two)) == 3
        assert set(listed_numbers(page_one)).isdisjoint(listed_numbers(page_two))
        assert labels(page_two) == ["Vorige"]
        back = await fake.click(page_two, "Vorige", by=world.sanne)
        assert listed_numbers(back) == listed_numbers(page_one)

        only_venray = await fake.slash(world.sanne, "sessie lijst", site="kunstwerkplaats 4b")
        assert listed_numbers(only_venray) == [number_of(venray)]
        assert "· Kunstwerkplaats 4B" in seen(only_venray)
        assert "(pagina 1 van 1, 1 bijeenkomst)" in seen(only_venray)
        assert labels(only_venray) == []

        weekly_days = [first + timedelta(weeks=n) for n in range(12)]
        month = weekly_days[6]
        expected = [d for d in weekly_days if (d.year, d.month) == (month.year, month.month)]
        in_month = await fake.slash(world.sanne, "sessie lijst", maand=MONTHS_FULL[month.month - 1])
        shown = seen(in_month)
        assert f"Intervisie in {_month_of(month)}" in shown, shown
        also = 1 if (in_days(10).year, in_days(10).month) == (month.year, month.month) else 0
        assert len(listed_numbers(in_month)) == len(expected) + also
        assert shown.count("Wekelijks") == len(expected)
        english = await fake.slash(
            world.kees, "session list", month=f"{month:%B} {month.year}", site="De Achterkant"
        )
        assert f"Intervision sessions in {month:%B} {month.year} · De Achterkant" in seen(english)

        nothing = await fake.slash(world.sanne, "sessie lijst", maand=_month_of(in_days(500)))
        assert "Er zijn geen bijeenkomsten die hierbij passen." in seen(nothing)
        bad = await fake.slash(world.sanne, "sessie lijst", maand="ooit")
        assert "Ik begrijp de maand 'ooit' niet." in seen(bad)
        unknown = await fake.slash(world.sanne, "sessie lijst", site="Nergens")
        assert unknown.ephemeral and "Nergens" in seen(unknown)
        await settled(world.app)
        assert not unexpected_errors(world)


# --- 3: roles when someone cannot come, and hidden names ----------------------------------


async def test_a_role_is_given_up_and_the_planner_told_when_its_holder_cannot_come(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        keep_up(fake)
        await setup_community(world)
        await plan(world, "Rollen", in_days(4))
        card = await card_of(fake, world.sessions, 1)
        for member in (world.sanne, world.kees):
            await fake.click(card, "Ik kom", by=member)
        await fake.slash(world.sanne, "sessie rol", sessie=1, rol="inbrenger")
        await fake.slash(world.admin, "sessie bevestig", sessie=1, lid=world.sanne, rol="inbrenger")
        await card_shows(fake, card, "Rollen", "inbrenger: Sanne")

        told = fake.wait_for_dm(world.admin, lambda m: "is daardoor vrij" in seen(m))
        gone = await fake.click(card, "Ik kan niet", by=world.sanne)
        assert "Jammer dat je niet kunt." in seen(gone)
        assert "Je bent nu geen inbrenger meer voor deze bijeenkomst." in seen(gone)
        assert "Wie de bijeenkomst plande, krijgt bericht dat de rol vrij is." in seen(gone)
        await card_shows(fake, card, "Rollen", None)
        assert "Sanne kan niet komen naar Rollen" in seen(await told)
        assert "/sessie rollen sessie:1" in seen(fake.dms(world.admin)[-1])
        suggested = await fake.slash(world.admin, "sessie rollen", sessie=1)
        assert "Sanne" not in seen(suggested), "she is neither coming nor volunteering"

        # a confirmed facilitator who hid her name is not named under the roles either
        await fake.slash(
            world.admin, "sessie bevestig", sessie=1, lid=world.kees, rol="gespreksleider"
        )
        await card_shows(fake, card, "Rollen", "gespreksleider: Kees")
        await fake.click(card, "Naam wel/niet tonen", by=world.kees)
        await card_shows(fake, card, "Rollen", "gespreksleider: bevestigd (naam niet getoond)")
        assert "Kees" not in seen(card)
        viewed = await fake.slash(world.kees, "session view", session=1)
        assert field(viewed, "Roles") == "facilitator: confirmed (name not shown)"
        await settled(world.app)
        assert not unexpected_errors(world)


# --- 4: a meeting that is over, or about to start -----------------------------------------


async def test_a_meeting_that_is_over_or_about_to_start_promises_nothing(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake, app = world.fake, world.app
        await setup_community(world)
        await plan(world, "Straks", in_days(3))
        card = await card_of(fake, world.sessions, 1)
        await fake.click(card, "Ik kom", by=world.sanne)
        await settled(app)
        async with app.sessionmaker() as db, db.begin():  # it took place yesterday
            await db.execute(
                update(SessionOccurrence).values(
                    starts_at=datetime.now(UTC) - timedelta(days=1),
                    ends_at=datetime.now(UTC) - timedelta(days=1) + timedelta(hours=2),
                )
            )
        over = await fake.slash(world.sanne, "sessie bekijken", sessie=1)
        assert "Deze bijeenkomst is voorbij." in seen(over)
        assert "Fijn dat je komt" not in seen(over) and "herinnering" not in seen(over)
        assert labels(over) == []

        # forty minutes from now: the reminder an hour before has gone, none is promised
        soon = (datetime.now(AMSTERDAM) + timedelta(minutes=40)).replace(second=0, microsecond=0)
        planned = await plan(world, "Zo meteen", soon.date(), f"{soon:%H:%M}")
        number = number_of(planned)
        viewed = await fake.slash(world.sanne, "sessie bekijken", sessie=number)
        coming = await fake.click(viewed, "Ik kom", by=world.sanne)
        assert "Fijn dat je komt!" in seen(coming)
        assert "De bijeenkomst begint al snel." in seen(coming)
        assert "herinnering" not in seen(coming)
        again = await fake.slash(world.sanne, "sessie bekijken", sessie=number)
        assert "De bijeenkomst begint al snel." in seen(again)
        await settled(app)
        assert not unexpected_errors(world)


# --- 5: fewer places than people coming ---------------------------------------------------


async def test_fewer_places_than_people_coming_is_refused(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        keep_up(fake)
        await setup_community(world)
        await plan(world, "Vol", in_days(4), herhaling="wekelijks", aantal=2)
        card = await card_of(fake, world.sessions, 2)
        for member in (world.sanne, world.kees, world.closed):
            await fake.click(card, "Ik kom", by=member)
        await card_shows(fake, card, "Plaatsen", "3 van 8 bezet")

        refused = await fake.slash(world.admin, "sessie wijzigen", sessie=1, plaatsen=2)
        assert refused.ephemeral
        assert "Bij bijeenkomst #2 komen al 3 mensen." in seen(refused), seen(refused)
        assert "Kies minstens 3 plaatsen." in seen(refused)
        english = await fake.slash(world.kees, "session view", session=2)
        assert field(english, "Places") == "3 of 8 taken"
        await settled(world.app)
        assert field(card, "Plaatsen") == "3 van 8 bezet"

        fits = await fake.slash(world.admin, "sessie wijzigen", sessie=1, plaatsen=3)
        assert "De intervisie is aangepast." in seen(fits)
        await card_shows(fake, card, "Plaatsen", "3 van 3 bezet")
        assert not unexpected_errors(world)


# --- 6: the night the clocks change -------------------------------------------------------


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def next_last_sunday(month: int) -> date:
    today = datetime.now(AMSTERDAM).date()
    day = last_sunday(today.year, month)
    return day if day > today + timedelta(days=1) else last_sunday(today.year + 1, month)


async def test_a_time_the_clock_skips_or_repeats_is_asked_about(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake, app = world.fake, world.app
        await setup_community(world)
        spring, autumn = next_last_sunday(3), next_last_sunday(10)

        skipped = await attempt(world, f"{spring.isoformat()} 02:30")
        assert (
            f"Op zondag {spring.day} maart {spring.year} bestaat 02:30 niet. Die nacht gaat de "
            "klok een uur vooruit: van 02:00 meteen naar 03:00 (zomertijd). Kies een andere "
            "tijd, bijvoorbeeld 03:00." in skipped
        ), skipped
        twice = await attempt(world, f"{autumn.isoformat()} 02:30")
        example = f"{autumn.day}-10-{autumn.year} 02:30"
        assert "is het twee keer 02:30" in twice and "om 03:00 wordt het weer 02:00" in twice
        assert f"'{example} zomertijd'" in twice and f"'{example} wintertijd'" in twice
        await settled(app)
        assert fake.messages(world.sessions) == [], "nothing was planned"

        # the answer it suggests is understood: the second 02:30, an hour after the first
        planned = await world.fake.slash(
            world.admin, "sessie plannen", titel="Nacht", start=f"{example} wintertijd",
            adres="Utrecht",
        )  # fmt: skip
        assert "De intervisie is gepland" in seen(planned), seen(planned)
        await fire_now(fake, app, "session.publish")
        event = await event_named(world, "Nacht")
        assert utc(event.scheduled_start_time) == datetime(
            autumn.year, 10, autumn.day, 1, 30, tzinfo=UTC
        )
        assert not unexpected_errors(world)


# --- 13: dates as people type them --------------------------------------------------------


async def test_dates_as_people_type_them(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        await setup_community(world)
        today = datetime.now(AMSTERDAM).date()
        day = in_days(10)
        written = f"{WEEKDAYS_FULL[day.weekday()]} {day.day} {MONTHS_FULL[day.month - 1]} 19:30"
        planned = await world.fake.slash(
            world.admin, "sessie plannen", titel="Getypt", start=written, adres="Utrecht"
        )
        assert field(planned, "Wanneer") == f"{dutch(day, '19:30')}–21:30", seen(planned)
        tuesday = today + timedelta(days=(1 - today.weekday()) % 7 or 7)
        planned = await world.fake.slash(
            world.admin, "sessie plannen", titel="Dinsdag", start="volgende dinsdag 19:30",
            adres="Utrecht",
        )  # fmt: skip
        assert field(planned, "Wanneer") == f"{dutch(tuesday, '19:30')}–21:30"
        short = f"{day.day} {MONTHS[day.month - 1]}. 14u30"
        moved = await fake.slash(world.admin, "sessie wijzigen", sessie=1, start=short)
        assert field(moved, "Wanneer") == f"{dutch(day, '14:30')}–16:30", seen(moved)
        until = await world.fake.slash(
            world.admin, "sessie plannen", titel="Reeks", start="morgen 20:00",
            herhaling="wekelijks", tot=f"{in_days(15).day} {MONTHS_FULL[in_days(15).month - 1]}",
            adres="Utrecht",
        )  # fmt: skip
        assert "met herhaling" in seen(until), seen(until)
        series = await fake.slash(world.sanne, "sessie agenda", sessie=number_of(until))
        (master,) = Calendar.from_ical(series.files[0].data).walk("VEVENT")
        assert "UNTIL=" in master["RRULE"].to_ical().decode()

        no_time = await attempt(world, f"{day.day} {MONTHS_FULL[day.month - 1]}")
        assert no_time.startswith("Hoe laat? Je schreef wel een dag"), no_time
        no_day = await attempt(world, "31 februari 19:30")
        assert "31 februari" in no_day and "bestaat niet. Die maand heeft" in no_day
        wrong_day = WEEKDAYS_FULL[(day.weekday() + 1) % 7]
        mismatch = await attempt(world, f"{wrong_day} {day.day} {MONTHS_FULL[day.month - 1]} 19:30")
        assert f"is een {WEEKDAYS_FULL[day.weekday()]}, geen {wrong_day}." in mismatch
        world.kees.role_ids.append(world.coordinators.id)  # a coordinator who reads English
        english = await fake.slash(
            world.kees, "session plan", title="T", start="tomorrow", address="Utrecht"
        )
        assert "At what time? You wrote a day" in seen(english)
        # the date is checked before the place
        nowhere = await fake.slash(world.admin, "sessie plannen", titel="T", start="morgen")
        assert "Hoe laat?" in seen(nowhere), seen(nowhere)
        await settled(world.app)
        assert not unexpected_errors(world)


# --- 7: local times on the agenda card and in the status notice ---------------------------


async def test_agenda_history_and_the_status_notice_show_local_time(settings: Settings) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake, app = world.fake, world.app
        await setup_community(world)
        await propose(world, world.sanne, "Scholing", thema="doorgroei")
        notice = fake.wait_for_dm(world.sanne, lambda m: "staat nu op" in seen(m))
        await fake.slash(
            world.admin, "agenda status", punt=1, status="besproken", reden="In de CoL"
        )
        dm = await notice
        async with app.sessionmaker() as db:
            changed = await db.scalar(select(AgendaStatusChange.created_at))
        assert changed is not None
        line = f"{when(changed.astimezone(AMSTERDAM), 'nl')}: besproken — In de CoL"
        assert field(dm, "Geschiedenis") == line, (field(dm, "Geschiedenis"), line)
        viewed = await fake.slash(world.sanne, "agenda bekijken", punt=1)
        assert field(viewed, "Geschiedenis") == line
        await settled(app)
        assert not unexpected_errors(world)


# --- 15: words an English reader understands ----------------------------------------------


async def test_english_readers_read_intervision_session_and_case_presenter(
    settings: Settings,
) -> None:
    async with discord_world(settings, scheduler=True) as world:
        fake = world.fake
        keep_up(fake)
        await setup_community(world)
        await plan(world, "Casus", in_days(4))
        viewed = await fake.slash(world.kees, "session view", session=1)
        assert viewed.message is not None
        assert viewed.message.embeds[0]["title"] == "Intervision session #1: Casus"
        assert labels(viewed) == ["I'll come", "Maybe", "I can't", "Show/hide my name"]
        offered = await fake.slash(world.kees, "session role", session=1, role="inbrenger")
        assert "You volunteered as case presenter for Casus." in seen(offered)
        declined = await fake.click(viewed, "I can't", by=world.kees)
        assert "Sorry you can't make it." in seen(declined)
        assert "You are no longer the case presenter for this meeting." in seen(declined)
        assert "intervisie" not in seen(viewed).lower()
        listed = await fake.slash(world.kees, "session list")
        assert "Intervision sessions (page 1 of 1, 1 meeting)" in seen(listed)
        await settled(world.app)
        assert not unexpected_errors(world)
