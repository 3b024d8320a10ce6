"""Reflection rounds in chat: start (also on a schedule or after each intervisie), answer in
forms of at most five questions, skip, pause, summaries and exports — and the scheduled
work that delivers invitations, sends the one gentle reminder and closes the round."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta
from functools import partial

from leerbot import clock, scheduling
from leerbot.chat.commands import Choice, Param, ParamType, StaleArguments, id_parts, registry
from leerbot.chat.context import Context
from leerbot.chat.delivery import (
    card_turn,
    deliver,
    post_once,
    retry_for,
    retrying,
    thread_once,
)
from leerbot.chat.formatting import when
from leerbot.chat.reply import (
    Attachment,
    Button,
    ButtonStyle,
    Field,
    Form,
    FormField,
    Mention,
    Reply,
    UserText,
)
from leerbot.chat.safety import help_field, house_rules_fields
from leerbot.config import Settings
from leerbot.core import reflections as core
from leerbot.core.actor import system_actor
from leerbot.core.errors import LeerbotError, ValidationFailed
from leerbot.core.questions import Bank, load_banks
from leerbot.db.models import Community, Member, ReflectionRound, ReflectionSchedule
from leerbot.exports import rounds as round_exports
from leerbot.exports.common import format_day, render_after_commit
from leerbot.i18n import Msg, translate

log = logging.getLogger("leerbot.reflections")

ROUND_PARAM = Param("ronde", "round", ParamType.INTEGER, required=True, min_value=1)
AUDIENCE_CHOICES = (
    Choice("everyone", "iedereen", "everyone"),
    Choice("role", "een rol", "a role"),
    Choice("site", "een proeftuin", "a pilot site"),
    Choice("session", "deelnemers van een intervisie", "participants of an intervision session"),
)
DELIVERY_CHOICES = (
    Choice("dm", "privébericht", "direct message"),
    Choice("thread", "draad in een kanaal", "thread in a channel"),
)
ANONYMITY_CHOICES = (
    Choice("named", "met naam", "with names"),
    Choice("anonymous", "anoniem", "anonymous"),
    Choice("choice", "lid kiest zelf", "each member chooses"),
)
SUMMARY_CHOICES = (
    Choice("audience", "bij het publiek", "to the audience"),
    Choice("moderators", "alleen moderatoren", "only moderators"),
)
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
WEEKDAY_CHOICES = tuple(
    Choice(en, nl, en.capitalize())
    for nl, en in zip(
        ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
        WEEKDAYS,
        strict=True,
    )
)
"""Weekdays are names (`dag:maandag`, `day:Monday`); Monday is 0 for the schedule."""


def _bank_choices() -> tuple[Choice, ...]:
    try:
        banks = load_banks()
    except Exception:  # reported at start-up by `check_banks`
        return ()
    return tuple(Choice(b.id, b.title("nl")[:100], b.title("en")[:100]) for b in banks.values())[
        :25
    ]


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _question_text(question: dict[str, str], locale: str) -> str:
    return question["en"] if locale == "en" else question["nl"]


# --- the invitation ----------------------------------------------------------------------


def _intros(item: core.RoundView, locale: str, settings: Settings) -> list[str]:
    """The one-line introductions of the banks the questions come from (e.g. Gerrit
    Zwart's four questions, quoted before the questions about one's work)."""
    try:
        banks = load_banks(settings.content_dir)
    except Exception:  # reported at start-up by `check_content`
        return []
    out: list[str] = []
    for question in item.questions:
        bank = banks.get(str(question.get("bank") or ""))
        intro = bank.intro(locale) if bank is not None else None
        if intro and intro not in out:
            out.append(intro)
    return out


def _question_value(question: dict[str, str], locale: str) -> str:
    text = _question_text(question, locale)
    source = str(question.get("source") or "")
    if source and source != core.OWN_QUESTION:
        text += "\n*" + translate(locale, "reflections.sources_label", source=source) + "*"
    return text


def who_reads(item: core.RoundView, place: core.SummaryPlace, settings: Settings) -> list[Field]:
    """Exactly who will read the member's words, and where: for every round."""
    fields = [
        Field(
            Msg("reflections.who_reads_title"),
            Msg(
                "reflections.who_reads",
                {
                    "place": place.kind,
                    "name": place.name or "",
                    "anonymity": item.anonymity,
                    "minimum": item.min_answers,
                    "floor": settings.privacy.small_number_threshold,
                    "auto_hours": settings.reflections.review_hours
                    if settings.reflections.auto_publish
                    else 0,
                },
            ),
        )
    ]
    if place.channel_id and place.kind not in ("moderators", "thread"):
        fields.append(
            Field(Msg("reflections.summary_place_label"), Mention("channel", place.channel_id))
        )
    return fields


def invitation(
    item: core.RoundView,
    locale: str,
    tz: object,
    settings: Settings,
    place: core.SummaryPlace,
) -> Reply:
    fields = [
        Field(Msg("reflections.intro_label"), UserText(intro))
        for intro in _intros(item, locale, settings)
    ]
    fields += [
        Field(Msg("reflections.question_label", {"n": n}), UserText(_question_value(q, locale)))
        for n, q in enumerate(item.questions, 1)
    ]
    fields += who_reads(item, place, settings)
    fields += house_rules_fields(settings, locale)
    return Reply(
        title=Msg("reflections.invite_title", {"title": item.title}),
        text=Msg(
            "reflections.invite",
            {"closes": when(item.closes_at.astimezone(tz), locale)},  # type: ignore[arg-type]
        ),
        fields=fields[:25],
        buttons=[
            Button(
                Msg("reflections.buttons.answer"), "round.open", str(item.id), ButtonStyle.PRIMARY
            ),
            Button(Msg("reflections.buttons.skip"), "round.skip", str(item.id)),
            Button(Msg("reflections.buttons.pause"), "round.pause", "on"),
        ],
        locale=locale,
    )


def answer_form(
    item: core.RoundView, part: int, mode: str, locale: str, current: dict[str, str] | None = None
) -> Form:
    questions = item.part(part)
    return Form(
        form_id="round.answer",
        arg=f"{item.id}:{part}:{mode}:c",  # opened only after the recognisability check
        title=Msg("reflections.form_title", {"part": part, "parts": item.parts}),
        fields=tuple(
            FormField(
                name=q["id"],
                label=UserText(_short(_question_text(q, locale), 45)),
                paragraph=True,
                required=False,
                max_length=core.MAX_ANSWER,
                default=(current or {}).get(q["id"]),
                # Discord allows 45 characters in a label: a longer question goes on in
                # the placeholder, so the member can read all (or nearly all) of it.
                placeholder=UserText(_short(_question_text(q, locale), 100))
                if len(_question_text(q, locale)) > 45
                else Msg("reflections.form_placeholder"),
            )
            for q in questions
        ),
    )


# --- commands ----------------------------------------------------------------------------


@registry.command(
    "ronde start",
    "round start",
    permission=core.MANAGE_ROUNDS,
    params=(
        Param("titel", "title", ParamType.TEXT, required=True, max_length=100),
        Param("bank", "bank", ParamType.TEXT, max_length=40, choices=_bank_choices()),
        Param("vragen", "questions", ParamType.TEXT, max_length=300),
        Param("vraag1", "question1", ParamType.TEXT, max_length=300),
        Param("vraag2", "question2", ParamType.TEXT, max_length=300),
        Param("vraag3", "question3", ParamType.TEXT, max_length=300),
        Param("publiek", "audience", ParamType.TEXT, max_length=20, choices=AUDIENCE_CHOICES),
        Param("wie", "who", ParamType.TEXT, max_length=100),
        Param("bezorging", "delivery", ParamType.TEXT, max_length=20, choices=DELIVERY_CHOICES),
        Param("kanaal", "channel", ParamType.CHANNEL),
        Param("dagen", "days", ParamType.INTEGER, min_value=1, max_value=60),
        Param("anoniem", "anonymity", ParamType.TEXT, max_length=20, choices=ANONYMITY_CHOICES),
        Param("minimum", "minimum", ParamType.INTEGER, min_value=1, max_value=100),
        Param("samenvatting", "summary", ParamType.TEXT, max_length=20, choices=SUMMARY_CHOICES),
    ),
)
async def start(
    ctx: Context,
    titel: str,
    bank: str | None,
    vragen: str | None,
    vraag1: str | None,
    vraag2: str | None,
    vraag3: str | None,
    publiek: str | None,
    wie: str | None,
    bezorging: str | None,
    kanaal: str | None,
    dagen: int | None,
    anoniem: str | None,
    minimum: int | None,
    samenvatting: str | None,
) -> Reply:
    questions = core.resolve_questions(
        ctx.settings, bank, vragen, [q for q in (vraag1, vraag2, vraag3) if q]
    )
    item = await core.start(
        ctx.db,
        ctx.actor,
        ctx.settings,
        title=titel,
        questions=questions,
        audience_kind=publiek or "everyone",
        audience_value=wie,
        delivery=bezorging or "dm",
        window_days=dagen or ctx.settings.reflections.window_days,
        anonymity=anoniem or "choice",
        min_answers=minimum,
        channel_id=kanaal or ctx.community.announcement_channel_id,
        summary_to=samenvatting or "audience",
    )
    return Reply.say(
        "reflections.started",
        title=item.title,
        count=item.recipients,
        closes=when(item.closes_at.astimezone(ctx.settings.tz), ctx.locale),
        number=item.id,
    )


@registry.command("ronde lijst", "round list", permission=core.ANSWER_ROUNDS)
async def listing(ctx: Context) -> Reply:
    items = await core.list_rounds(ctx.db, ctx.actor)
    if not items:
        return Reply.say("reflections.none")
    lines = [
        translate(
            ctx.locale,
            "reflections.list_line",
            number=i.id,
            title=i.title,
            status=i.status,
            mine=i.my_status or "",
            closes=when(i.closes_at.astimezone(ctx.settings.tz), ctx.locale),
        )
        for i in items
    ]
    return Reply(title=Msg("reflections.list_title"), text=UserText("\n".join(lines)))


@registry.command(
    "ronde beantwoorden", "round answer", permission=core.ANSWER_ROUNDS, params=(ROUND_PARAM,)
)
async def answer_command(ctx: Context, ronde: int) -> Reply:
    return await open_round(ctx, str(ronde))


@registry.command(
    "ronde overslaan", "round skip", permission=core.ANSWER_ROUNDS, params=(ROUND_PARAM,)
)
async def skip_command(ctx: Context, ronde: int) -> Reply:
    return await skip_button(ctx, str(ronde))


@registry.command(
    "ronde pauze",
    "round pause",
    permission=core.ANSWER_ROUNDS,
    params=(Param("aan", "on", ParamType.BOOLEAN, required=True),),
)
async def pause_command(ctx: Context, aan: bool) -> Reply:
    await core.set_paused(ctx.db, ctx.actor, aan)
    return Reply.say("reflections.paused" if aan else "reflections.resumed")


@registry.command(
    "ronde sluiten", "round close", permission=core.MANAGE_ROUNDS, params=(ROUND_PARAM,)
)
async def close_command(ctx: Context, ronde: int) -> Reply:
    item = await core.close_now(ctx.db, ctx.actor, ronde)
    return Reply.say("reflections.closing", title=item.title)


@registry.command(
    "ronde samenvatting", "round summary", permission=core.MANAGE_ROUNDS, params=(ROUND_PARAM,)
)
async def summary_command(ctx: Context, ronde: int) -> Reply:
    """Any moderator: the draft (or the published summary) with the review buttons, and
    how many of the round's messages did not arrive."""
    data = await core.summary_for(ctx.db, ctx.actor, ronde, ctx.settings)
    if data.round.status == "open":
        reply = Reply.say(
            "reflections.still_open", answered=data.round.answered, asked=data.round.recipients
        )
        reply.fields = undelivered_fields(data)
        return reply
    return review_reply(data, ctx.locale, ctx.settings)


def undelivered_fields(data: core.Summary) -> list[Field]:
    """A line for the moderators when some of the round's messages did not arrive."""
    if not data.undelivered:
        return []
    return [
        Field(
            Msg("delivery.undelivered_label"),
            Msg("delivery.undelivered_round", {"count": data.undelivered}),
        )
    ]


@registry.command(
    "ronde export",
    "round export",
    permission=core.MANAGE_ROUNDS,
    params=(
        ROUND_PARAM,
        Param(
            "formaat",
            "format",
            ParamType.TEXT,
            max_length=8,
            choices=(
                Choice("md", "Markdown", "Markdown"),
                Choice("csv", "CSV", "CSV"),
                Choice("xlsx", "Excel (xlsx)", "Excel (xlsx)"),
            ),
        ),
    ),
)
async def export_command(ctx: Context, ronde: int, formaat: str | None) -> Reply:
    data = await core.summary_for(ctx.db, ctx.actor, ronde, ctx.settings)
    if data.round.status == "open":
        return Reply.say(
            "reflections.still_open", answered=data.round.answered, asked=data.round.recipients
        )
    fmt = formaat or "md"
    render: Callable[[], bytes]
    if fmt in round_exports.FORMATS:
        render = partial(
            round_exports.render,
            data,
            fmt,
            ctx.locale,
            floor=ctx.settings.privacy.small_number_threshold,
            community=ctx.community.name,
            tz=ctx.settings.tz,
            delimiter=ctx.settings.exports.csv_delimiter,
        )
        name = f"ronde-{ronde}.{fmt}"
    else:
        text = summary_text(data, ctx.locale, ctx.settings, draft=False)
        render, name = partial(text.encode, "utf-8"), f"ronde-{ronde}.md"
    reply = Reply(text=Msg("reflections.export_ready"))
    # read in the unit of work (above); made in a worker thread once it has closed
    render_after_commit(
        ctx.after_commit, render, lambda data: reply.attachments.append(Attachment(name, data))
    )
    return reply


@registry.command(
    "ronde herhalen",
    "round repeat",
    permission=core.MANAGE_ROUNDS,
    params=(
        Param("titel", "title", ParamType.TEXT, required=True, max_length=100),
        Param(
            "bank", "bank", ParamType.TEXT, required=True, max_length=40, choices=_bank_choices()
        ),
        Param("dag", "day", ParamType.TEXT, required=True, choices=WEEKDAY_CHOICES),
        Param("uur", "hour", ParamType.INTEGER, required=True, min_value=0, max_value=23),
        Param("elke_weken", "every_weeks", ParamType.INTEGER, min_value=1, max_value=8),
        Param("anoniem", "anonymity", ParamType.TEXT, max_length=20, choices=ANONYMITY_CHOICES),
    ),
)
async def repeat_command(
    ctx: Context,
    titel: str,
    bank: str,
    dag: str,
    uur: int,
    elke_weken: int | None,
    anoniem: str | None,
) -> Reply:
    core.resolve_questions(ctx.settings, bank, None, [])  # checks the bank now
    schedule = await core.create_schedule(
        ctx.db,
        ctx.actor,
        ctx.settings,
        kind="cron",
        template={"title": titel, "bank": bank, "anonymity": anoniem or "choice"},
        weekday=WEEKDAYS.index(dag),
        hour=uur,
        minute=0,
        every_weeks=elke_weken or 1,
    )
    first = core.next_run(schedule, ctx.settings, ctx.now())
    return Reply.say(
        "reflections.repeating",
        title=titel,
        first=when(first.astimezone(ctx.settings.tz), ctx.locale),
    )


@registry.command(
    "ronde na_intervisie",
    "round after_session",
    permission=core.MANAGE_ROUNDS,
    params=(Param("bank", "bank", ParamType.TEXT, max_length=40, choices=_bank_choices()),),
)
async def after_session_command(ctx: Context, bank: str | None) -> Reply:
    chosen = bank or "na-intervisie"
    core.resolve_questions(ctx.settings, chosen, None, [])
    await core.create_schedule(
        ctx.db,
        ctx.actor,
        ctx.settings,
        kind="after_session",
        template={"bank": chosen, "anonymity": "choice"},
    )
    return Reply.say("reflections.after_sessions_on")


def _bank_line(bank: Bank, locale: str) -> str:
    """Question ids and the sources a member would read, within one embed field."""
    sources: list[str] = []
    for source in [bank.source, *(q.source for q in bank.questions)]:
        if source not in sources:
            sources.append(source)
    lines = [", ".join(q.id for q in bank.questions)]
    lines += [translate(locale, "reflections.sources_label", source=s) for s in sources]
    text = "\n".join(lines)
    return text if len(text) <= 1024 else text[:1023] + "…"


@registry.command("ronde banken", "round banks", permission=core.MANAGE_ROUNDS)
async def banks_command(ctx: Context) -> Reply:
    banks = load_banks(ctx.settings.content_dir)
    return Reply(
        title=Msg("reflections.banks_title"),
        fields=[
            Field(
                UserText(f"{b.id} — {b.title(ctx.locale)}"),
                UserText(_bank_line(b, ctx.locale)),
            )
            for b in list(banks.values())[:25]
        ],
    )


# --- buttons and forms -------------------------------------------------------------------
#
# Answering: invitation → *Beantwoorden* → a short check ("make nobody recognisable", with
# where to find help) whose button confirms it → the form (at most five questions a part)
# → the confirmation with *change* and *delete*. The form's id carries "c" once the member
# confirmed; the core stores no text without it.


def _ids(arg: str) -> list[str]:
    return arg.split(":")


def _round_part_mode(arg: str) -> tuple[int, int, str, bool]:
    """ "12:1:n:c" → round 12, part 1, mode "n" (named), "a" (anonymous) or the anonymous
    answer's token, and whether the member confirmed the check."""
    parts = _ids(arg)
    if len(parts) < 3 or not parts[2]:
        raise StaleArguments()
    round_id, part = id_parts(arg, 2)
    return round_id, part, parts[2], len(parts) > 3 and parts[3] == "c"


def _round_handle(arg: str) -> tuple[int, str]:
    """ "12:n" → round 12 and the handle ("n", "a" or a token)."""
    parts = _ids(arg)
    if len(parts) < 2 or not parts[1]:
        raise StaleArguments()
    return id_parts(arg)[0], parts[1]


def _check(item: core.RoundView, handle: str, settings: Settings, locale: str) -> Reply:
    """The step before the form: the recognisability check, one click, and help."""
    if handle == "choose":
        buttons = [
            Button(
                Msg("reflections.buttons.named_confirm"),
                "round.form",
                f"{item.id}:1:n:c",
                ButtonStyle.PRIMARY,
            ),
            Button(
                Msg("reflections.buttons.anonymous_confirm"),
                "round.form",
                f"{item.id}:1:a:c",
                ButtonStyle.PRIMARY,
            ),
        ]
        text = Msg("reflections.check_choose")
        fields = [Field(Msg("reflections.choose_mode_title"), Msg("reflections.choose_mode"))]
    else:
        buttons = [
            Button(
                Msg("reflections.buttons.confirm"),
                "round.form",
                f"{item.id}:1:{handle}:c",
                ButtonStyle.PRIMARY,
            )
        ]
        text = Msg("reflections.check")
        fields = []
    fields.append(help_field(settings, locale))
    return Reply(title=Msg("reflections.check_title"), text=text, fields=fields, buttons=buttons)


@registry.action("round.open", permission=core.ANSWER_ROUNDS)
async def open_round(ctx: Context, arg: str) -> Reply:
    item = await core.view(ctx.db, ctx.actor, *id_parts(arg))
    if item.status != "open":
        return Reply.error("errors.round_closed")
    if item.my_status is None:
        return Reply.error("errors.not_in_round")
    if item.my_status == "answered" and item.anonymity != "anonymous":
        current = await core.current_answers(ctx.db, ctx.actor, item.id, None)
        if current:
            return _check(item, "n", ctx.settings, ctx.locale)
    if item.my_status == "answered":
        return Reply.error("errors.already_answered")
    if item.anonymity == "choice":
        return _check(item, "choose", ctx.settings, ctx.locale)
    return _check(item, "a" if item.anonymity == "anonymous" else "n", ctx.settings, ctx.locale)


@registry.action("round.check", permission=core.ANSWER_ROUNDS)
async def check_button(ctx: Context, arg: str) -> Reply:
    """*Antwoord aanpassen* in the confirmation: the check again, then the filled form."""
    round_id, handle = _round_handle(arg)
    item = await core.view(ctx.db, ctx.actor, round_id)
    if item.status != "open":
        return Reply.error("errors.round_closed")
    return _check(item, handle, ctx.settings, ctx.locale)


@registry.action("round.form", permission=core.ANSWER_ROUNDS, opens_form=True)
async def form_button(ctx: Context, arg: str) -> Reply:
    round_id, part, mode, confirmed = _round_part_mode(arg)
    item = await core.view(ctx.db, ctx.actor, round_id)
    if item.status != "open":
        return Reply.error("errors.round_closed")
    if part > item.parts:
        raise StaleArguments()
    if not confirmed:
        return _check(item, mode, ctx.settings, ctx.locale)
    current = None
    if mode not in ("a", "n") or item.my_status == "answered":
        current = await core.current_answers(
            ctx.db, ctx.actor, item.id, None if mode == "n" else mode
        )
    return Reply(form=answer_form(item, part, mode, ctx.locale, current))


@registry.form("round.answer", permission=core.ANSWER_ROUNDS)
async def answer_submitted(ctx: Context, arg: str, values: dict[str, str]) -> Reply:
    round_id, part, mode, confirmed = _round_part_mode(arg)
    token = None if mode in ("a", "n") else mode
    result = await core.answer(
        ctx.db,
        ctx.actor,
        round_id,
        values,
        anonymous=mode != "n",
        token=token,
        part=part,
        confirmed=confirmed,
    )
    ctx.after_commit.extend(result.steps)  # an anonymous answer: in its own transaction
    handle = result.token if result.anonymous else "n"
    buttons = []
    if result.next_part:
        buttons.append(
            Button(
                Msg("reflections.buttons.next", {"part": result.next_part}),
                "round.form",
                f"{round_id}:{result.next_part}:{handle}:c",
                ButtonStyle.PRIMARY,
            )
        )
    buttons += [
        Button(Msg("reflections.buttons.edit"), "round.check", f"{round_id}:{handle}"),
        Button(
            Msg("reflections.buttons.withdraw"),
            "round.withdraw",
            f"{round_id}:{handle}",
            ButtonStyle.DANGER,
        ),
    ]
    key = "reflections.saved_anonymous" if result.anonymous else "reflections.saved_named"
    return Reply(
        text=Msg(key, {"title": result.round.title}),
        fields=[
            Field(Msg("reflections.saved_help_title"), Msg("reflections.saved_help")),
            help_field(ctx.settings, ctx.locale),
        ],
        buttons=buttons,
    )


@registry.action("round.withdraw", permission=core.ANSWER_ROUNDS)
async def withdraw_button(ctx: Context, arg: str) -> Reply:
    round_id, handle = _round_handle(arg)
    done = await core.withdraw(ctx.db, ctx.actor, round_id, None if handle == "n" else handle)
    ctx.after_commit.extend(done.steps)
    return Reply.say("reflections.withdrawn")


@registry.action("round.skip", permission=core.ANSWER_ROUNDS)
async def skip_button(ctx: Context, arg: str) -> Reply:
    await core.skip(ctx.db, ctx.actor, *id_parts(arg))
    return Reply.say("reflections.skipped")


@registry.action("round.pause", permission=core.ANSWER_ROUNDS)
async def pause_button(ctx: Context, arg: str) -> Reply:
    paused = await core.set_paused(ctx.db, ctx.actor, arg != "off")
    reply = Reply.say("reflections.paused" if paused else "reflections.resumed")
    if paused:
        reply.buttons = [Button(Msg("reflections.buttons.resume"), "round.pause", "off")]
    return reply


# --- the moderators' review --------------------------------------------------------------


def summary_text(data: core.Summary, locale: str, settings: Settings, *, draft: bool) -> str:
    """The summary as Markdown: for readers (removed answers left out) or as the
    moderators' numbered draft. Member text is escaped: it stays text."""
    rows = data.per_question if draft else data.shown()
    text = translate(
        locale,
        "reflections.summary_md",
        draft=draft,
        title=data.round.title,
        answered=data.answered,
        asked=data.round.recipients,
        withheld=data.withheld,
        minimum=data.round.min_answers,
        held_back=data.anonymous_held_back,
        floor=settings.privacy.small_number_threshold,
        questions=[
            {
                "text": _question_text(q, locale),
                "answers": [
                    {"number": a.number, "text": a.text, "name": a.name, "removed": a.removed}
                    for a in answers
                ],
            }
            for q, answers in rows
        ],
        sources=core.sources(data.round.questions),
        period=translate(
            locale,
            "reflections.summary_period",
            opens=format_day(data.round.opens_at.astimezone(settings.tz), locale),
            closes=format_day(data.round.closes_at.astimezone(settings.tz), locale),
        ),
    )
    return re.sub(r"\n{3,}", "\n\n", text)


def review_reply(data: core.Summary, locale: str, settings: Settings) -> Reply:
    """What a moderator sees of a closed round: the numbered draft, where it would go,
    its state, and *Publiceren* / *Antwoord weghalen* / *Niet publiceren*."""
    item = data.round
    if data.withheld:
        return Reply(
            title=Msg("reflections.draft_title", {"title": item.title}),
            text=Msg(
                "reflections.draft_withheld",
                {
                    "title": item.title,
                    "answered": data.answered,
                    "asked": item.recipients,
                    "minimum": item.min_answers,
                },
            ),
            fields=undelivered_fields(data),
            locale=locale,
        )
    place = data.place or core.SummaryPlace("moderators", None)
    text = summary_text(data, locale, settings, draft=True)
    fields = [
        Field(
            Msg("reflections.draft_place"),
            Msg(
                "reflections.draft_place_value",
                {
                    "place": place.kind,
                    "name": place.name or "",
                    "available": place.channel_id is not None,
                    "auto_hours": settings.reflections.review_hours
                    if settings.reflections.auto_publish and item.review_state == "pending"
                    else 0,
                },
            ),
        )
    ]
    if place.channel_id and place.kind != "moderators":
        fields.append(Field(Msg("community.place"), Mention("channel", place.channel_id)))
    fields.append(
        Field(
            Msg("reflections.draft_state_label"),
            Msg("reflections.draft_state", {"state": item.review_state}),
        )
    )
    fields.extend(undelivered_fields(data))
    buttons = []
    if item.review_state != "published" and place.channel_id and place.kind != "moderators":
        buttons.append(
            Button(
                Msg("reflections.buttons_review.publish"),
                "round.publish",
                str(item.id),
                ButtonStyle.SUCCESS,
            )
        )
    buttons.append(Button(Msg("reflections.buttons_review.remove"), "round.remove", str(item.id)))
    if item.review_state == "pending":
        buttons.append(
            Button(
                Msg("reflections.buttons_review.keep"),
                "round.keep",
                str(item.id),
                ButtonStyle.DANGER,
            )
        )
    reply = Reply(
        title=Msg("reflections.draft_title", {"title": item.title}),
        text=Msg("reflections.draft_intro"),
        fields=fields,
        buttons=buttons,
        locale=locale,
    )
    if len(text) <= DRAFT_INLINE:
        reply.fields.insert(0, Field(Msg("reflections.draft_label"), UserText(text)))
    else:
        reply.fields.insert(
            0, Field(Msg("reflections.draft_label"), Msg("reflections.draft_attached"))
        )
        reply.attachments = [Attachment(f"concept-ronde-{item.id}.md", text.encode("utf-8"))]
    return reply


DRAFT_INLINE = 1000  # an embed field holds 1,024 characters


@registry.action("round.publish", permission=core.MANAGE_ROUNDS)
async def publish_button(ctx: Context, arg: str) -> Reply:
    data = await core.publish(ctx.db, ctx.actor, *id_parts(arg), ctx.settings)
    return Reply.say("reflections.published", title=data.round.title)


@registry.action("round.keep", permission=core.MANAGE_ROUNDS)
async def keep_button(ctx: Context, arg: str) -> Reply:
    item = await core.keep_with_moderators(ctx.db, ctx.actor, *id_parts(arg))
    return Reply.say("reflections.kept", title=item.title)


@registry.action("round.remove", permission=core.MANAGE_ROUNDS, opens_form=True)
async def remove_button(ctx: Context, arg: str) -> Reply:
    (round_id,) = id_parts(arg)
    await core.summary_for(ctx.db, ctx.actor, round_id)  # permission and community check
    return Reply(
        form=Form(
            form_id="round.remove",
            arg=str(round_id),
            title=Msg("reflections.remove_form_title"),
            fields=(
                FormField("number", Msg("reflections.remove_number"), max_length=4),
                FormField(
                    "reason", Msg("reflections.remove_reason"), paragraph=True, max_length=300
                ),
            ),
        )
    )


@registry.form("round.remove", permission=core.MANAGE_ROUNDS)
async def remove_submitted(ctx: Context, arg: str, values: dict[str, str]) -> Reply:
    (round_id,) = id_parts(arg)
    typed = (values.get("number") or "").strip().lstrip("[#").rstrip("]").strip()
    if not typed.isascii() or not typed.isdigit():
        raise ValidationFailed("errors.not_a_number", field="number")
    # compared in Python with the draft's numbers (never sent to the database)
    number = int(typed) if len(typed) <= 9 else 0
    removal = await core.remove_answer(
        ctx.db, ctx.actor, round_id, number, values.get("reason") or "", ctx.settings
    )
    return Reply.say(
        "reflections.removed",
        number=removal.number,
        published=removal.published,
        told=removal.author_id is not None,
    )


# --- scheduled work ----------------------------------------------------------------------


async def _load(
    run: scheduling.JobRun,
) -> tuple[Community, core.RoundView, core.SummaryPlace]:
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        item = await core.view(db, None, int(run.payload["round_id"]))
        row = await db.get(ReflectionRound, item.id)
        assert row is not None
        place = await core.summary_place(db, row)
    assert community is not None
    return community, item, place


async def deliver_job(run: scheduling.JobRun) -> None:
    community, item, place = await _load(run)
    platform = run.services.get("platform")
    settings = run.services["settings"]
    if platform is None or item.status != "open":
        return
    if item.delivery == "thread" and item.channel_id:
        locale = community.locale
        retry = await retry_for(run)
        thread = await thread_once(
            run.sessionmaker,
            platform,
            community,
            key=f"round:{item.id}:thread",
            channel_id=item.channel_id,
            name=translate(locale, "reflections.thread_name", title=item.title)[:100],
            retry=retry,
            job_key=run.key,
        )
        if thread is None:
            return
        await post_once(
            run.sessionmaker,
            platform,
            community,
            key=f"round:{item.id}:thread-invitation",
            channel_id=thread,
            reply=invitation(item, locale, settings.tz, settings, place),
            retry=retry,
            job_key=run.key,
        )
        async with run.sessionmaker() as db, db.begin():
            row = await db.get(ReflectionRound, item.id)
            assert row is not None
            row.thread_id = thread
        return
    async with run.sessionmaker() as db:
        members = [m for m, _ in await core.all_recipients(db, item.id)]
    await deliver(
        run,
        platform,
        community,
        members,
        lambda locale: invitation(item, locale, settings.tz, settings, place),
        item.channel_id or community.announcement_channel_id,
    )


async def reminder_job(run: scheduling.JobRun) -> None:
    community, item, place = await _load(run)
    platform = run.services.get("platform")
    settings = run.services["settings"]
    if platform is None or item.status != "open":
        return
    async with run.sessionmaker() as db:
        members = await core.recipients_to_remind(db, item.id)

    def make(locale: str) -> Reply:
        reply = invitation(item, locale, settings.tz, settings, place)
        reply.title = Msg("reflections.reminder_title", {"title": item.title})
        reply.text = Msg(
            "reflections.reminder", {"closes": when(item.closes_at.astimezone(settings.tz), locale)}
        )
        return reply

    await deliver(
        run,
        platform,
        community,
        members,
        make,
        item.channel_id or community.announcement_channel_id,
    )


async def close_job(run: scheduling.JobRun) -> None:
    """Close the round and send its moderators the draft. Nothing is published here."""
    settings = run.services["settings"]
    round_id = int(run.payload["round_id"])
    async with run.sessionmaker() as db, db.begin():
        await core.close(db, round_id, settings)
        row = await db.get(ReflectionRound, round_id)
        assert row is not None
        if row.summary_posted:
            return
    async with run.sessionmaker() as db:
        data = await core.summary(db, round_id, settings)
        moderators = await core.reviewers(db, round_id)
        community = await db.get(Community, run.community_id)
    platform = run.services.get("platform")
    if platform is None or community is None:
        return
    if not moderators:
        log.info("round %s closed; no moderator on record to send the draft to", round_id)
    else:
        # one key for the draft whichever close job sends it (the early close, the
        # planned one): each moderator gets it once
        await deliver(
            run,
            platform,
            community,
            moderators,
            lambda locale: review_reply(data, locale, settings),
            community.announcement_channel_id,
            key=f"round:{round_id}:draft",
        )
    async with run.sessionmaker() as db, db.begin():
        row = await db.get(ReflectionRound, round_id)
        if row is not None:
            row.summary_posted = True  # after the draft went out, not before


async def publish_job(run: scheduling.JobRun) -> None:
    """Post the reviewed summary in its audience's place, or bring the posted one up to
    date after a moderator took out an answer."""
    settings = run.services["settings"]
    platform = run.services.get("platform")
    round_id = int(run.payload["round_id"])
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        data = await core.summary(db, round_id, settings)
    item = data.round
    if platform is None or community is None or item.review_state != "published":
        return
    place = data.place
    if place is None or place.channel_id is None:
        log.info("round %s: no place to publish the summary; it stays with the moderators", item.id)
        return
    locale = community.locale
    text = summary_text(data, locale, settings, draft=False)
    reply = Reply(text=UserText(text), locale=locale)
    if len(text) > SUMMARY_INLINE:
        reply.text = Msg("reflections.summary_attached", {"title": item.title})
        reply.attachments = [Attachment(f"ronde-{item.id}.md", text.encode("utf-8"))]
    async with card_turn("round-summary", item.id):
        async with run.sessionmaker() as db:
            row = await db.get(ReflectionRound, item.id)
            assert row is not None
            channel, message = row.published_channel_id, row.published_message_id
        retry = await retry_for(run)
        if channel and message:
            await retrying(
                retry,
                f"round:{item.id}:summary",
                lambda: platform.edit(community.platform_id, channel, message, reply),
            )
            return
        posted = await post_once(
            run.sessionmaker,
            platform,
            community,
            key=f"round:{item.id}:summary",
            channel_id=place.channel_id,
            reply=reply,
            retry=retry,
            job_key=run.key,
        )
        if posted is None:
            return
        async with run.sessionmaker() as db, db.begin():  # after Discord confirmed it
            row = await db.get(ReflectionRound, item.id)
            assert row is not None
            row.published_channel_id, row.published_message_id = (
                posted.channel_id,
                posted.message_id,
            )


SUMMARY_INLINE = 1900  # Discord allows 2,000 characters in a message


async def auto_publish_job(run: scheduling.JobRun) -> None:
    """`reflections.auto_publish`: the review period passed and no moderator decided."""
    settings = run.services["settings"]
    round_id = int(run.payload["round_id"])
    async with run.sessionmaker() as db, db.begin():
        row = await db.get(ReflectionRound, round_id)
        if row is None or row.review_state != "pending":
            return
        try:
            await core.publish(db, None, round_id, settings)
        except LeerbotError as exc:
            log.info("round %s not published automatically: %s", round_id, exc.key)


async def removed_notice_job(run: scheduling.JobRun) -> None:
    """Tell the author of a named answer, privately, that a moderator took it out."""
    platform = run.services.get("platform")
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        member = await db.get(Member, int(run.payload["member_id"]))
        item = await core.view(db, None, int(run.payload["round_id"]))
    if platform is None or community is None or member is None:
        return
    question = next((q for q in item.questions if q["id"] == run.payload["question_id"]), None)

    def make(locale: str) -> Reply:
        return Reply(
            title=Msg("reflections.removed_notice_title"),
            text=Msg(
                "reflections.removed_notice",
                {
                    "question": _question_text(question, locale) if question else "",
                    "title": item.title,
                    "reason": str(run.payload.get("reason") or ""),
                },
            ),
        )

    await deliver(run, platform, community, [member], make, community.announcement_channel_id)


async def recurring_job(run: scheduling.JobRun) -> None:
    settings = run.services["settings"]
    async with run.sessionmaker() as db, db.begin():
        schedule = await db.get(ReflectionSchedule, int(run.payload["schedule_id"]))
        if schedule is None or not schedule.active:
            return
        community = await db.get(Community, schedule.community_id)
        assert community is not None
        actor = system_actor(schedule.community_id, schedule.created_by_id)
        template = schedule.template
        try:
            async with db.begin_nested():
                await core.start(
                    db,
                    actor,
                    settings,
                    title=str(template["title"]),
                    questions=core.resolve_questions(settings, str(template["bank"]), None, []),
                    anonymity=str(template.get("anonymity", "choice")),
                    channel_id=community.announcement_channel_id,
                    require_place=False,
                )
        except LeerbotError as exc:
            log.warning("recurring round %s could not start: %s", schedule.id, exc.key)
        await core.schedule_next_run(db, schedule, settings)


async def after_session_hook(run: scheduling.JobRun, occurrence: object) -> None:
    """Follow an intervisie with a short round for those who were there, if configured.
    Its summary, once reviewed, goes to the session's own thread: never wider."""
    from sqlalchemy import select

    settings = run.services["settings"]
    async with run.sessionmaker() as db, db.begin():
        schedule = await db.scalar(
            select(ReflectionSchedule).where(
                ReflectionSchedule.community_id == run.community_id,
                ReflectionSchedule.kind == "after_session",
                ReflectionSchedule.active.is_(True),
            )
        )
        if schedule is None:
            return
        started = await db.scalar(  # a rerun of the job after a crash starts no second one
            select(ReflectionRound.id).where(
                ReflectionRound.community_id == run.community_id,
                ReflectionRound.audience_kind == "session",
                ReflectionRound.audience_value == str(getattr(occurrence, "id", "")),
            )
        )
        if started is not None:
            return
        community = await db.get(Community, run.community_id)
        assert community is not None
        try:
            async with db.begin_nested():
                await core.start(
                    db,
                    system_actor(run.community_id, schedule.created_by_id),
                    settings,
                    title=str(getattr(occurrence, "title", "Intervisie"))[:100],
                    questions=core.resolve_questions(
                        settings, str(schedule.template["bank"]), None, []
                    ),
                    audience_kind="session",
                    audience_value=str(getattr(occurrence, "id", "")),
                    anonymity=str(schedule.template.get("anonymity", "choice")),
                    window_days=3,
                    channel_id=community.announcement_channel_id,
                    require_place=False,
                )
        except LeerbotError as exc:
            log.info(
                "no reflection round after session %s: %s", getattr(occurrence, "id", "?"), exc.key
            )


async def compact_job(run: scheduling.JobRun) -> None:
    """After a round was sealed: clear the old row versions from the database files. When
    a reader or a lock is in the way, try again in ten minutes (five times at most)."""
    attempt = int(run.payload.get("attempt", 1))
    async with run.sessionmaker() as db:
        done = await core.compact(db)
    if done:
        log.info("round %s sealed and compacted", run.payload["round_id"])
        return
    if attempt >= COMPACT_ATTEMPTS:
        log.warning(
            "round %s: the database could not be compacted after %d attempts; it will be at "
            "the next round's close",
            run.payload["round_id"],
            attempt,
        )
        return
    async with run.sessionmaker() as db, db.begin():
        await scheduling.schedule(
            db,
            community_id=run.community_id,
            kind="round.compact",
            key=f"round:{run.payload['round_id']}:compact:{attempt + 1}",
            due_at=clock.now() + timedelta(minutes=10),
            payload={"round_id": run.payload["round_id"], "attempt": attempt + 1},
            grace=timedelta(days=30),
        )


COMPACT_ATTEMPTS = 5

JOBS = {
    "round.compact": compact_job,
    "round.deliver": deliver_job,
    "round.reminder": reminder_job,
    "round.close": close_job,
    "round.publish": publish_job,
    "round.auto_publish": auto_publish_job,
    "round.answer_removed": removed_notice_job,
    "round.recurring": recurring_job,
}
