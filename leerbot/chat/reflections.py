"""Reflection rounds in chat: start (also on a schedule or after each intervisie), answer in
forms of at most five questions, skip, pause, summaries and exports — and the scheduled
work that delivers invitations, sends the one gentle reminder and closes the round."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from leerbot import scheduling
from leerbot.chat.commands import Choice, Param, ParamType, registry
from leerbot.chat.context import Context
from leerbot.chat.delivery import deliver
from leerbot.chat.formatting import when
from leerbot.chat.reply import (
    Attachment,
    Button,
    ButtonStyle,
    Field,
    Form,
    FormField,
    Reply,
    UserText,
)
from leerbot.core import reflections as core
from leerbot.core.actor import system_actor
from leerbot.core.questions import load_banks
from leerbot.db.models import Community, ReflectionRound, ReflectionSchedule
from leerbot.i18n import Msg, translate

log = logging.getLogger("leerbot.reflections")

ROUND_PARAM = Param("ronde", "round", ParamType.INTEGER, required=True, min_value=1)
AUDIENCE_CHOICES = (
    Choice("everyone", "iedereen", "everyone"),
    Choice("role", "een rol", "a role"),
    Choice("site", "een proeftuin", "a pilot site"),
    Choice("session", "deelnemers van een intervisie", "participants of an intervisie"),
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
WEEKDAY_CHOICES = tuple(
    Choice(str(i), nl, en)
    for i, (nl, en) in enumerate(
        zip(
            ("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
            strict=True,
        )
    )
)


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


def invitation(item: core.RoundView, locale: str, tz: object) -> Reply:
    fields = [
        Field(Msg("reflections.question_label", {"n": n}), UserText(_question_text(q, locale)))
        for n, q in enumerate(item.questions, 1)
    ]
    fields.append(Field(Msg("reflections.house_rules_title"), Msg("reflections.house_rules")))
    return Reply(
        title=Msg("reflections.invite_title", {"title": item.title}),
        text=Msg(
            "reflections.invite",
            {
                "closes": when(item.closes_at.astimezone(tz), locale),  # type: ignore[arg-type]
                "anonymity": item.anonymity,
            },
        ),
        fields=fields,
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
        arg=f"{item.id}:{part}:{mode}",
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


def _summary_text(data: core.Summary, locale: str) -> str:
    return translate(
        locale,
        "reflections.summary_md",
        title=data.round.title,
        answered=data.answered,
        asked=data.round.recipients,
        withheld=data.withheld,
        minimum=data.round.min_answers,
        questions=[
            {"text": _question_text(q, locale), "answers": [{"text": t, "name": n} for t, n in a]}
            for q, a in data.per_question
        ],
    )


@registry.command(
    "ronde samenvatting", "round summary", permission=core.MANAGE_ROUNDS, params=(ROUND_PARAM,)
)
async def summary_command(ctx: Context, ronde: int) -> Reply:
    data = await core.summary_for(ctx.db, ctx.actor, ronde)
    if data.round.status == "open":
        return Reply.say(
            "reflections.still_open", answered=data.round.answered, asked=data.round.recipients
        )
    text = _summary_text(data, ctx.locale)
    return Reply(
        text=UserText(text[:1900]),
        attachments=[Attachment(f"ronde-{ronde}.md", text.encode("utf-8"))]
        if len(text) > 1900
        else [],
    )


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
            choices=(Choice("md", "Markdown", "Markdown"), Choice("csv", "CSV", "CSV")),
        ),
    ),
)
async def export_command(ctx: Context, ronde: int, formaat: str | None) -> Reply:
    data = await core.summary_for(ctx.db, ctx.actor, ronde)
    if (formaat or "md") == "csv":
        payload, name = core.export_csv(data, ctx.locale), f"ronde-{ronde}.csv"
    else:
        payload, name = _summary_text(data, ctx.locale).encode("utf-8"), f"ronde-{ronde}.md"
    return Reply(text=Msg("reflections.export_ready"), attachments=[Attachment(name, payload)])


@registry.command(
    "ronde herhalen",
    "round repeat",
    permission=core.MANAGE_ROUNDS,
    params=(
        Param("titel", "title", ParamType.TEXT, required=True, max_length=100),
        Param(
            "bank", "bank", ParamType.TEXT, required=True, max_length=40, choices=_bank_choices()
        ),
        Param("dag", "day", ParamType.TEXT, required=True, max_length=2, choices=WEEKDAY_CHOICES),
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
        weekday=int(dag),
        hour=uur,
        minute=0,
        every_weeks=elke_weken or 1,
    )
    first = core.next_run(schedule, ctx.settings, datetime.now(UTC))
    return Reply.say(
        "reflections.repeating",
        title=titel,
        first=when(first.astimezone(ctx.settings.tz), ctx.locale),
    )


@registry.command(
    "ronde na_intervisie",
    "round after_intervisie",
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


@registry.command("ronde banken", "round banks", permission=core.MANAGE_ROUNDS)
async def banks_command(ctx: Context) -> Reply:
    banks = load_banks(ctx.settings.content_dir)
    return Reply(
        title=Msg("reflections.banks_title"),
        fields=[
            Field(
                UserText(f"{b.id} — {b.title(ctx.locale)}"),
                UserText(", ".join(q.id for q in b.questions)[:1000]),
            )
            for b in list(banks.values())[:25]
        ],
    )


# --- buttons and forms -------------------------------------------------------------------


def _ids(arg: str) -> list[str]:
    return arg.split(":")


@registry.action("round.open", permission=core.ANSWER_ROUNDS)
async def open_round(ctx: Context, arg: str) -> Reply:
    item = await core.view(ctx.db, ctx.actor, int(_ids(arg)[0]))
    if item.status != "open":
        return Reply.error("errors.round_closed")
    if item.my_status is None:
        return Reply.error("errors.not_in_round")
    if item.my_status == "answered" and item.anonymity != "anonymous":
        current = await core.current_answers(ctx.db, ctx.actor, item.id, None)
        if current:
            return Reply(form=answer_form(item, 1, "n", ctx.locale, current))
    if item.my_status == "answered":
        return Reply.error("errors.already_answered")
    if item.anonymity == "choice":
        return Reply(
            text=Msg("reflections.choose_mode"),
            buttons=[
                Button(
                    Msg("reflections.buttons.named"),
                    "round.form",
                    f"{item.id}:1:n",
                    ButtonStyle.PRIMARY,
                ),
                Button(
                    Msg("reflections.buttons.anonymous"),
                    "round.form",
                    f"{item.id}:1:a",
                    ButtonStyle.PRIMARY,
                ),
            ],
        )
    mode = "a" if item.anonymity == "anonymous" else "n"
    return Reply(form=answer_form(item, 1, mode, ctx.locale))


@registry.action("round.form", permission=core.ANSWER_ROUNDS)
async def form_button(ctx: Context, arg: str) -> Reply:
    round_id, part, mode = _ids(arg)[:3]
    item = await core.view(ctx.db, ctx.actor, int(round_id))
    if item.status != "open":
        return Reply.error("errors.round_closed")
    current = None
    if mode not in ("a", "n") or item.my_status == "answered":
        current = await core.current_answers(
            ctx.db, ctx.actor, item.id, None if mode == "n" else mode
        )
    return Reply(form=answer_form(item, int(part), mode, ctx.locale, current))


@registry.form("round.answer", permission=core.ANSWER_ROUNDS)
async def answer_submitted(ctx: Context, arg: str, values: dict[str, str]) -> Reply:
    round_id, part, mode = _ids(arg)[:3]
    token = None if mode in ("a", "n") else mode
    result = await core.answer(
        ctx.db,
        ctx.actor,
        int(round_id),
        values,
        anonymous=mode != "n",
        token=token,
        part=int(part),
    )
    handle = result.token if result.anonymous else "n"
    buttons = []
    if result.next_part:
        buttons.append(
            Button(
                Msg("reflections.buttons.next", {"part": result.next_part}),
                "round.form",
                f"{round_id}:{result.next_part}:{handle}",
                ButtonStyle.PRIMARY,
            )
        )
    buttons += [
        Button(Msg("reflections.buttons.edit"), "round.form", f"{round_id}:1:{handle}"),
        Button(
            Msg("reflections.buttons.withdraw"),
            "round.withdraw",
            f"{round_id}:{handle}",
            ButtonStyle.DANGER,
        ),
    ]
    key = "reflections.saved_anonymous" if result.anonymous else "reflections.saved_named"
    return Reply(text=Msg(key, {"title": result.round.title}), buttons=buttons)


@registry.action("round.withdraw", permission=core.ANSWER_ROUNDS)
async def withdraw_button(ctx: Context, arg: str) -> Reply:
    round_id, handle = _ids(arg)[:2]
    await core.withdraw(ctx.db, ctx.actor, int(round_id), None if handle == "n" else handle)
    return Reply.say("reflections.withdrawn")


@registry.action("round.skip", permission=core.ANSWER_ROUNDS)
async def skip_button(ctx: Context, arg: str) -> Reply:
    await core.skip(ctx.db, ctx.actor, int(_ids(arg)[0]))
    return Reply.say("reflections.skipped")


@registry.action("round.pause", permission=core.ANSWER_ROUNDS)
async def pause_button(ctx: Context, arg: str) -> Reply:
    paused = await core.set_paused(ctx.db, ctx.actor, arg != "off")
    reply = Reply.say("reflections.paused" if paused else "reflections.resumed")
    if paused:
        reply.buttons = [Button(Msg("reflections.buttons.resume"), "round.pause", "off")]
    return reply


# --- scheduled work ----------------------------------------------------------------------


async def _load(run: scheduling.JobRun) -> tuple[Community, core.RoundView]:
    async with run.sessionmaker() as db:
        community = await db.get(Community, run.community_id)
        item = await core.view(db, None, int(run.payload["round_id"]))
    assert community is not None
    return community, item


async def deliver_job(run: scheduling.JobRun) -> None:
    community, item = await _load(run)
    platform = run.services.get("platform")
    settings = run.services["settings"]
    if platform is None or item.status != "open":
        return
    if item.delivery == "thread" and item.channel_id:
        locale = community.locale
        thread = await platform.open_thread(
            community.platform_id,
            item.channel_id,
            translate(locale, "reflections.thread_name", title=item.title)[:100],
        )
        await platform.post(community.platform_id, thread, invitation(item, locale, settings.tz))
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
        lambda locale: invitation(item, locale, settings.tz),
        item.channel_id or community.announcement_channel_id,
    )


async def reminder_job(run: scheduling.JobRun) -> None:
    community, item = await _load(run)
    platform = run.services.get("platform")
    settings = run.services["settings"]
    if platform is None or item.status != "open":
        return
    async with run.sessionmaker() as db:
        members = await core.recipients_to_remind(db, item.id)

    def make(locale: str) -> Reply:
        reply = invitation(item, locale, settings.tz)
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
    async with run.sessionmaker() as db, db.begin():
        await core.close(db, int(run.payload["round_id"]))
        data = await core.summary(db, int(run.payload["round_id"]))
        row = await db.get(ReflectionRound, data.round.id)
        assert row is not None
        if row.summary_posted:
            return
        row.summary_posted = True
    community, item = await _load(run)
    platform = run.services.get("platform")
    target = item.thread_id or item.channel_id or community.announcement_channel_id
    if platform is None or target is None:
        return
    locale = community.locale
    if data.withheld:
        log.info("round %s closed below its minimum: no summary posted", item.id)
        return
    text = _summary_text(data, locale)
    reply = Reply(text=UserText(text[:1900]), locale=locale)
    if len(text) > 1900:
        reply.text = Msg("reflections.summary_attached", {"title": item.title})
        reply.attachments = [Attachment(f"ronde-{item.id}.md", text.encode("utf-8"))]
    await platform.post(community.platform_id, target, reply)


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
            await core.start(
                db,
                actor,
                settings,
                title=str(template["title"]),
                questions=core.resolve_questions(settings, str(template["bank"]), None, []),
                anonymity=str(template.get("anonymity", "choice")),
                channel_id=community.announcement_channel_id,
            )
        except Exception:
            log.exception("recurring round %s could not start", schedule.id)
        await core.schedule_next_run(db, schedule, settings)


async def after_session_hook(run: scheduling.JobRun, occurrence: object) -> None:
    """Follow an intervisie with a short round for those who were there, if configured."""
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
        community = await db.get(Community, run.community_id)
        assert community is not None
        try:
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
            )
        except Exception:
            log.info(
                "no reflection round after session %s (nobody to ask)",
                getattr(occurrence, "id", "?"),
            )


JOBS = {
    "round.deliver": deliver_job,
    "round.reminder": reminder_job,
    "round.close": close_job,
    "round.recurring": recurring_job,
}
