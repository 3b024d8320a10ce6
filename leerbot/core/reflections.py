"""Reflection-question rounds: a few questions to an audience, answers collected over a
window, one gentle reminder, and a summary afterwards — reviewed by a moderator, and only
when enough people answered.

Anonymity: the threat model
===========================

What is stored. Who was asked lives in `reflection_recipients` (member, status), so a member
cannot answer twice and gets no reminder after answering; it never says *what*. Anonymous
answers live in `reflection_anonymous_answers`: no member column, no timestamp, a random key,
and as only handle the SHA-256 of a random token that exists only in the member's own
confirmation message (the "change / delete" buttons). The token is never stored or logged.

1. Anyone reading summaries, exports, logs or the bot's messages (members, moderators,
   coordinators, funders): cannot link an anonymous answer to a member. Summaries show no
   names for anonymous answers and nothing below the round's minimum (never below
   `privacy.small_number_threshold` without names); in the member's-choice mode anonymous
   answers are held back unless at least that many chose anonymous; no audit entry is
   written for answering; the log never holds a token or an answer.

2. Anyone with a copy of the database taken after the round closed (the SQLite file and its
   WAL, a `pg_dump`, a backup, the tables read by an administrator): cannot link either. The
   close seals the round (`seal`): the counts are kept on the round; every anonymous answer is
   written again in random order with a new random key and a new random handle (the members'
   tokens open nothing any more); every recipient row is written again in member order with
   one status, so who answered, who skipped and in which order is forgotten; the round's
   delivery records are deleted. All of it happens in the closing transaction, so the rows
   share one transaction id. Then `compact` removes the old row versions: SQLite overwrites
   deleted content with zeros (`secure_delete`) and the WAL is checkpointed and truncated;
   PostgreSQL rewrites the tables with VACUUM FULL, which also removes dead row versions and
   rebuilds the indexes. A forensic test (tests/core/test_anonymity_forensics.py) checks row
   contents, physical order, transaction ids, raw pages, `pg_dump` order and the SQLite bytes
   on both databases.

   Not covered: PostgreSQL's write-ahead log itself. A file-level copy of the server's data
   directory (including `pg_wal`) or archived WAL (point-in-time recovery) taken or kept from
   while the round was open holds the open-round history of item 3. A plain `pg_dump`, the
   README's backup, does not. Deleted files may also linger on the disk below the database
   (file system, SSD), which only disk encryption addresses.

3. An administrator of the live database server while a round is open (or anyone with its
   WAL archive): can see *when* things are written. An anonymous answer is never written in
   the same transaction as anything about its member: the member's "answered" mark is
   committed first, in its own transaction, and the answer rows after it in another
   (`SecondStep`), so no transaction id or WAL commit holds both. But the two transactions
   follow each other within milliseconds, so someone watching the server (or reading the
   WAL, or polling the recipients' status) while the round is open can pair a member with an
   answer by timing, and in SQLite the order of rows in the answers' pages follows answering
   order until the close. This lasts until the round closes and is sealed; it is the reason
   the README asks hosts not to archive WAL. The text of an answer can itself reveal its
   author in a small group, and Discord holds the member's confirmation message with the
   token.

The order of the two steps is chosen so that nothing acknowledged is lost and nobody answers
twice: if the second step fails (or the round closes in between), the mark is undone and the
member is told; a crash between the two leaves the member marked without an answer (they were
never told it was saved, and are counted as having answered).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import case, delete, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from leerbot import clock, scheduling
from leerbot.config import Settings
from leerbot.core import audit, deliveries
from leerbot.core.actor import Actor
from leerbot.core.community import find_site, name_key
from leerbot.core.errors import NotFound, ValidationFailed
from leerbot.core.permissions import Standing, register_rule, require
from leerbot.core.questions import load_banks
from leerbot.core.steps import SecondStep, Work
from leerbot.core.validation import clean_text
from leerbot.db.models import (
    AnonymousAnswer,
    Community,
    Member,
    NamedAnswer,
    ReflectionPause,
    ReflectionRound,
    ReflectionSchedule,
    ReminderDelivery,
    RoundRecipient,
    SessionAttendance,
    SessionOccurrence,
    SessionRsvp,
    Site,
)

MANAGE_ROUNDS = "reflections.manage"
ANSWER_ROUNDS = "reflections.answer"
register_rule(MANAGE_ROUNDS, Standing.MODERATOR)
register_rule(ANSWER_ROUNDS, Standing.MEMBER)

MAX_ANSWER = 1500
MAX_QUESTIONS = 10
FORM_SIZE = 5  # Discord allows five inputs in one modal
AUDIENCES = ("everyone", "role", "site", "session")
DELIVERIES = ("dm", "thread")
ANONYMITY = ("named", "anonymous", "choice")
AUDIENCE_ROLES = ("ervaringsdeskundige", "professional", "moderator", "coordinator")
SUMMARY_TO = ("audience", "moderators")
OWN_QUESTION = "eigen vraag"
SMALL_NUMBER_DEFAULT = 5


@dataclass(frozen=True)
class RoundView:
    id: int
    title: str
    questions: tuple[dict[str, str], ...]
    anonymity: str
    delivery: str
    audience_kind: str
    audience_value: str | None
    opens_at: datetime
    closes_at: datetime
    status: str
    min_answers: int
    recipients: int
    answered: int
    skipped: int
    my_status: str | None
    channel_id: str | None
    thread_id: str | None
    summary_to: str = "audience"
    review_state: str | None = None
    published_channel_id: str | None = None
    published_message_id: str | None = None

    @property
    def parts(self) -> int:
        return (len(self.questions) + FORM_SIZE - 1) // FORM_SIZE

    def part(self, number: int) -> tuple[dict[str, str], ...]:
        return self.questions[(number - 1) * FORM_SIZE : number * FORM_SIZE]


@dataclass
class AnswerResult:
    round: RoundView
    anonymous: bool
    token: str | None = None
    next_part: int | None = None
    steps: tuple[SecondStep, ...] = ()
    """To run after the caller committed, each in its own transaction (see `answer`)."""


@dataclass(frozen=True)
class SummaryPlace:
    """Where a round's summary may be published: the place its audience already meets.
    `channel_id` None: there is no such place (yet), so the summary stays with the
    moderators."""

    kind: str  # announcements | thread | site | role | session | moderators
    channel_id: str | None
    name: str | None = None


@dataclass(frozen=True)
class SummaryAnswer:
    number: int
    """Stable for a closed round: the moderators remove an answer by this number."""
    ref: str
    text: str
    name: str | None
    removed: bool = False


@dataclass
class Summary:
    round: RoundView
    answered: int
    withheld: bool
    per_question: list[tuple[dict[str, str], list[SummaryAnswer]]] = field(default_factory=list)
    anonymous_held_back: int = 0
    """Members' choice: this many chose anonymous, fewer than the threshold: not shown."""
    removed: int = 0
    place: SummaryPlace | None = None
    undelivered: int = 0
    """The round's messages that did not arrive (invitations, reminders, the draft, the
    summary): for the moderators, a count and no names."""

    def shown(self) -> list[tuple[dict[str, str], list[SummaryAnswer]]]:
        """What readers of the published summary and exports see: removed answers left out."""
        return [(q, [a for a in answers if not a.removed]) for q, answers in self.per_question]


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def _now(now: datetime | None) -> datetime:
    return now or clock.now()


async def _round(db: AsyncSession, actor: Actor | None, round_id: int) -> ReflectionRound:
    item = await db.get(ReflectionRound, round_id)
    if item is None or (actor is not None and item.community_id != actor.community_id):
        raise NotFound("errors.round_not_found", number=round_id)
    return item


async def view(db: AsyncSession, actor: Actor | None, round_id: int) -> RoundView:
    """The round as `actor` sees it: two statements (the round, its counts with the actor's
    own status)."""
    (found,) = await _views(db, actor, [await _round(db, actor, round_id)])
    return found


async def _views(
    db: AsyncSession, actor: Actor | None, rounds: list[ReflectionRound]
) -> list[RoundView]:
    """Views of several rounds with one more statement (up to 500 rounds at a time): how
    many were asked, answered and skipped per round, and the actor's own status, together."""
    me = actor.member_id if actor is not None else None
    counts: dict[int, dict[str, int]] = {item.id: {} for item in rounds}
    mine: dict[int, str] = {}
    ids = [item.id for item in rounds]
    for chunk in [ids[i : i + 500] for i in range(0, len(ids), 500)]:
        for round_id, status, count, own in await db.execute(
            select(
                RoundRecipient.round_id,
                RoundRecipient.status,
                func.count(RoundRecipient.id),
                func.max(case((RoundRecipient.member_id == me, 1), else_=0)),
            )
            .where(RoundRecipient.round_id.in_(chunk))
            .group_by(RoundRecipient.round_id, RoundRecipient.status)
        ):
            counts[round_id][status] = int(count)
            if me is not None and own:
                mine[round_id] = status
    return [_make_view(item, counts[item.id], mine.get(item.id)) for item in rounds]


def _make_view(item: ReflectionRound, counts: dict[str, int], mine: str | None) -> RoundView:
    sealed = item.sealed_at is not None and item.asked_count is not None
    return RoundView(
        id=item.id,
        title=item.title,
        questions=tuple(item.questions),
        anonymity=item.anonymity,
        delivery=item.delivery,
        audience_kind=item.audience_kind,
        audience_value=item.audience_value,
        opens_at=item.opens_at,
        closes_at=item.closes_at,
        status=item.status,
        min_answers=item.min_answers,
        recipients=item.asked_count if sealed else sum(counts.values()),
        answered=int(item.answered_count or 0) if sealed else int(counts.get("answered", 0)),
        skipped=int(item.skipped_count or 0) if sealed else int(counts.get("skipped", 0)),
        my_status=mine,
        channel_id=item.channel_id,
        thread_id=item.thread_id,
        summary_to=item.summary_to,
        review_state=item.review_state,
        published_channel_id=item.published_channel_id,
        published_message_id=item.published_message_id,
    )


# --- starting a round --------------------------------------------------------------------


def resolve_questions(
    settings: Settings, bank: str | None, question_ids: str | None, typed: list[str]
) -> list[dict[str, str]]:
    """Questions from a bank (all, or the ids named), or typed in by the moderator."""
    chosen: list[dict[str, str]] = []
    if bank:
        banks = load_banks(settings.content_dir)
        if bank not in banks:
            raise ValidationFailed("errors.bad_choice", field="bank", choices=", ".join(banks))
        wanted = [q.strip() for q in (question_ids or "").split(",") if q.strip()]
        by_id = {q.id: q for q in banks[bank].questions}
        unknown = [q for q in wanted if q not in by_id]
        if unknown:
            raise ValidationFailed(
                "errors.unknown_questions", ids=", ".join(unknown), known=", ".join(by_id)
            )
        for question in [by_id[q] for q in wanted] or list(banks[bank].questions):
            chosen.append(
                {
                    "id": question.id,
                    "nl": question.nl,
                    "en": question.en,
                    "source": question.source,
                    "bank": bank,
                }
            )
    for n, text in enumerate(typed, 1):
        clean = clean_text(text, field="question", max_length=300, required=False)
        if clean:
            chosen.append({"id": f"eigen-{n}", "nl": clean, "en": clean, "source": OWN_QUESTION})
    if not chosen:
        raise ValidationFailed("errors.round_no_questions")
    if len(chosen) > MAX_QUESTIONS:
        raise ValidationFailed("errors.round_too_many_questions", max=MAX_QUESTIONS)
    return chosen


async def audience(db: AsyncSession, actor: Actor, kind: str, value: str | None) -> list[int]:
    """Member ids in the audience, paused members left out."""
    if kind not in AUDIENCES:
        raise ValidationFailed("errors.bad_choice", field="audience", choices=", ".join(AUDIENCES))
    query = select(Member.id).where(Member.community_id == actor.community_id)
    if kind == "role":
        if value not in AUDIENCE_ROLES:
            raise ValidationFailed(
                "errors.bad_choice", field="role", choices=", ".join(AUDIENCE_ROLES)
            )
        if value == "moderator":
            query = query.where((Member.is_moderator.is_(True)) | (Member.is_coordinator.is_(True)))
        elif value == "coordinator":
            query = query.where(Member.is_coordinator.is_(True))
        else:
            query = query.where(Member.role == value)
    elif kind == "site":
        if not value:
            raise ValidationFailed("errors.missing_param", field="site")
        site = await find_site(db, actor, value)
        query = query.where(Member.site_id == site.id)
    elif kind == "session":
        try:
            occurrence_id = int(value or "")
        except ValueError:
            raise ValidationFailed("errors.not_a_number", field="session") from None
        present = select(SessionAttendance.member_id).where(
            SessionAttendance.occurrence_id == occurrence_id, SessionAttendance.attended.is_(True)
        )
        said_yes = select(SessionRsvp.member_id).where(
            SessionRsvp.occurrence_id == occurrence_id, SessionRsvp.status == "yes"
        )
        has_attendance = await db.scalar(select(func.count()).select_from(present.subquery()))
        query = query.where(Member.id.in_(present if has_attendance else said_yes))
    paused = select(ReflectionPause.member_id)
    ids = list(await db.scalars(query.where(Member.id.not_in(paused)).order_by(Member.id)))
    if not ids:
        raise ValidationFailed("errors.audience_empty")
    return ids


async def start(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    title: str,
    questions: list[dict[str, str]],
    audience_kind: str = "everyone",
    audience_value: str | None = None,
    delivery: str = "dm",
    window_days: int = 7,
    anonymity: str = "choice",
    min_answers: int | None = None,
    channel_id: str | None = None,
    schedule_id: int | None = None,
    summary_to: str = "audience",
    require_place: bool = True,
    now: datetime | None = None,
) -> RoundView:
    """Start a round. Anonymous and member's-choice rounds can never have a minimum below
    the small-number threshold. The summary goes to the audience's own place after review
    (`summary_to="audience"`; refused when there is no such place and `require_place`), or
    stays with the moderators."""
    require(actor, MANAGE_ROUNDS)
    clean_title = clean_text(title, field="title", max_length=100)
    assert clean_title is not None
    if delivery not in DELIVERIES:
        raise ValidationFailed("errors.bad_choice", field="delivery", choices=", ".join(DELIVERIES))
    if anonymity not in ANONYMITY:
        raise ValidationFailed("errors.bad_choice", field="anonymity", choices=", ".join(ANONYMITY))
    if not 1 <= window_days <= 60:
        raise ValidationFailed("errors.out_of_range", field="window", min=1, max=60)
    floor = settings.privacy.small_number_threshold
    threshold = min_answers if min_answers is not None else floor
    if not 1 <= threshold <= 100:
        raise ValidationFailed("errors.out_of_range", field="minimum", min=1, max=100)
    if anonymity != "named" and threshold < floor:
        raise ValidationFailed(
            "errors.round_minimum_below_floor", minimum=threshold, floor=floor, mode=anonymity
        )
    if summary_to not in SUMMARY_TO:
        raise ValidationFailed("errors.bad_choice", field="summary", choices=", ".join(SUMMARY_TO))
    if delivery == "thread" and not channel_id:
        raise ValidationFailed("errors.round_needs_channel")
    if not questions:
        raise ValidationFailed("errors.round_no_questions")
    members = await audience(db, actor, audience_kind, audience_value)
    opens = _now(now)
    item = ReflectionRound(
        community_id=actor.community_id,
        title=clean_title,
        questions=questions,
        audience_kind=audience_kind,
        audience_value=audience_value,
        delivery=delivery,
        anonymity=anonymity,
        min_answers=threshold,
        opens_at=opens,
        closes_at=opens + timedelta(days=window_days),
        status="open",
        channel_id=channel_id,
        recurring_id=schedule_id,
        created_by_id=actor.member_id or None,
        summary_posted=False,
        summary_to=summary_to,
    )
    if summary_to == "audience" and require_place and delivery != "thread":
        place = await summary_place(db, item)
        if place.channel_id is None:
            raise ValidationFailed(f"errors.round_no_place_{place.kind}", name=place.name or "")
    db.add(item)
    await db.flush()
    db.add_all(
        RoundRecipient(round_id=item.id, member_id=m, status="invited", delivered_via="pending")
        for m in members
    )
    await db.flush()
    await _schedule_round(db, item, settings)
    await audit.record(
        db,
        actor,
        "round.started",
        "reflection_round",
        item.id,
        title=clean_title,
        recipients=len(members),
        anonymity=anonymity,
    )
    return await view(db, actor, item.id)


async def _schedule_round(db: AsyncSession, item: ReflectionRound, settings: Settings) -> None:
    base = f"round:{item.id}:"
    await scheduling.schedule(
        db,
        community_id=item.community_id,
        kind="round.deliver",
        key=base + "deliver",
        due_at=clock.now(),
        payload={"round_id": item.id},
        grace=timedelta(days=2),
    )
    reminder_at = item.closes_at - timedelta(hours=settings.reflections.reminder_hours)
    if reminder_at > item.opens_at + timedelta(hours=1):
        await scheduling.schedule(
            db,
            community_id=item.community_id,
            kind="round.reminder",
            key=base + "reminder",
            due_at=reminder_at,
            payload={"round_id": item.id},
            grace=timedelta(hours=4),
        )
    await scheduling.schedule(
        db,
        community_id=item.community_id,
        kind="round.close",
        key=base + "close",
        due_at=item.closes_at,
        payload={"round_id": item.id},
        grace=timedelta(days=30),
    )


# --- answering ---------------------------------------------------------------------------


async def _recipient(db: AsyncSession, actor: Actor, item: ReflectionRound) -> RoundRecipient:
    entry = await db.scalar(
        select(RoundRecipient).where(
            RoundRecipient.round_id == item.id, RoundRecipient.member_id == actor.member_id
        )
    )
    if entry is None:
        raise ValidationFailed("errors.not_in_round")
    return entry


def _open(item: ReflectionRound, now: datetime | None) -> None:
    if item.status != "open" or _now(now) >= item.closes_at:
        raise ValidationFailed("errors.round_closed")


def _clean_answers(item: ReflectionRound, values: dict[str, str]) -> dict[str, str]:
    known = {q["id"] for q in item.questions}
    answers: dict[str, str] = {}
    for question_id, text in values.items():
        if question_id not in known:
            raise ValidationFailed(
                "errors.unknown_questions", ids=question_id, known=", ".join(sorted(known))
            )
        clean = (text or "").strip()
        if len(clean) > MAX_ANSWER:
            raise ValidationFailed(
                "errors.too_long", field="answer", max=MAX_ANSWER, length=len(clean)
            )
        answers[question_id] = clean
    return answers


async def answer(
    db: AsyncSession,
    actor: Actor,
    round_id: int,
    values: dict[str, str],
    *,
    anonymous: bool | None = None,
    token: str | None = None,
    part: int = 1,
    confirmed: bool = False,
    now: datetime | None = None,
) -> AnswerResult:
    """Store (or change) answers. Anonymous answers come back with a token the caller must
    hand to the member only (in the custom id of their own buttons), never store or log.
    Text is stored only once the member `confirmed` that nobody can be recognised in it.

    Anonymous answers are never written in the caller's transaction: that one holds at most
    the member's "answered" mark, and `result.steps` (run by the caller, each in its own
    transaction, after the caller committed) write the answer. So no transaction, and no
    transaction id, holds both a member and their anonymous words."""
    require(actor, ANSWER_ROUNDS)
    item = await _round(db, actor, round_id)
    _open(item, now)
    recipient = await _recipient(db, actor, item)
    answers = _clean_answers(item, values)
    if any(answers.values()) and not confirmed:
        raise ValidationFailed("errors.answer_not_confirmed")
    if part == 1 and not token and not any(answers.values()):
        raise ValidationFailed("errors.answer_empty")
    is_anonymous = {"named": False, "anonymous": True}.get(item.anonymity, bool(anonymous))
    if token is not None:
        is_anonymous = True
    steps: tuple[SecondStep, ...] = ()
    if is_anonymous:
        if token is None:
            if recipient.status == "answered":
                raise ValidationFailed("errors.already_answered")
            token = secrets.token_hex(16)
            recipient.status = "answered"  # the mark: alone in this transaction
            steps = (
                SecondStep(
                    _write_anonymous(item.id, _hash(token), answers),
                    undo=_unmark(item.id, actor.member_id),
                ),
            )
        else:
            owned = await db.scalar(
                select(func.count(AnonymousAnswer.id)).where(
                    AnonymousAnswer.round_id == item.id,
                    AnonymousAnswer.token_hash == _hash(token),
                )
            )
            if not owned and recipient.status == "answered":
                raise ValidationFailed("errors.answer_not_yours")
            if recipient.status != "answered":
                recipient.status = "answered"
                steps = (
                    SecondStep(
                        _write_anonymous(item.id, _hash(token), answers),
                        undo=_unmark(item.id, actor.member_id),
                    ),
                )
            else:
                steps = (SecondStep(_write_anonymous(item.id, _hash(token), answers)),)
    else:
        if recipient.status == "answered":
            has_named = await db.scalar(
                select(func.count(NamedAnswer.id)).where(
                    NamedAnswer.round_id == item.id, NamedAnswer.member_id == actor.member_id
                )
            )
            if not has_named and part == 1:
                raise ValidationFailed("errors.already_answered")
        existing_named = {
            a.question_id: a
            for a in await db.scalars(
                select(NamedAnswer).where(
                    NamedAnswer.round_id == item.id, NamedAnswer.member_id == actor.member_id
                )
            )
        }
        for question_id, text in answers.items():
            if question_id in existing_named:
                if text:
                    existing_named[question_id].text = text
                else:
                    await db.delete(existing_named[question_id])
            elif text:
                db.add(
                    NamedAnswer(
                        round_id=item.id,
                        member_id=actor.member_id,
                        question_id=question_id,
                        text=text,
                    )
                )
        token = None
        if recipient.status != "answered":
            recipient.status = "answered"
    await db.flush()
    result_view = await view(db, actor, item.id)
    next_part = part + 1 if part < result_view.parts else None
    return AnswerResult(result_view, is_anonymous, token, next_part, steps)


async def _open_for_writing(db: AsyncSession, round_id: int) -> ReflectionRound:
    """The round, locked against a concurrent close (which seals the answers)."""
    item = await db.scalar(
        select(ReflectionRound).where(ReflectionRound.id == round_id).with_for_update()
    )
    if item is None or item.status != "open" or item.sealed_at is not None:
        raise ValidationFailed("errors.round_closed")
    return item


def _write_anonymous(round_id: int, token_hash: str, answers: dict[str, str]) -> Work:
    """The second step of an anonymous answer: only answer rows, in a transaction that
    touches nothing else (no member, no recipient)."""

    async def write(db: AsyncSession) -> None:
        await _open_for_writing(db, round_id)
        existing = {
            a.question_id: a
            for a in await db.scalars(
                select(AnonymousAnswer).where(
                    AnonymousAnswer.round_id == round_id, AnonymousAnswer.token_hash == token_hash
                )
            )
        }
        for question_id, text in answers.items():
            if question_id in existing:
                if text:
                    existing[question_id].text = text
                else:
                    await db.delete(existing[question_id])
            elif text:
                db.add(
                    AnonymousAnswer(
                        id=secrets.token_hex(16),
                        round_id=round_id,
                        token_hash=token_hash,
                        question_id=question_id,
                        text=text,
                    )
                )
        await db.flush()

    return write


def _delete_anonymous(round_id: int, token_hash: str) -> Work:
    async def delete_rows(db: AsyncSession) -> None:
        await _open_for_writing(db, round_id)
        await db.execute(
            delete(AnonymousAnswer).where(
                AnonymousAnswer.round_id == round_id, AnonymousAnswer.token_hash == token_hash
            )
        )

    return delete_rows


def _unmark(round_id: int, member_id: int) -> Work:
    """Back to "invited" (an anonymous answer withdrawn, or one that could not be stored)."""

    async def unmark(db: AsyncSession) -> None:
        entry = await db.scalar(
            select(RoundRecipient).where(
                RoundRecipient.round_id == round_id, RoundRecipient.member_id == member_id
            )
        )
        if entry is not None and entry.status == "answered":
            entry.status = "invited"

    return unmark


async def current_answers(
    db: AsyncSession, actor: Actor, round_id: int, token: str | None
) -> dict[str, str]:
    """The caller's own answers (by token for anonymous ones), to fill the form again."""
    require(actor, ANSWER_ROUNDS)
    item = await _round(db, actor, round_id)
    if token:
        rows = await db.scalars(
            select(AnonymousAnswer).where(
                AnonymousAnswer.round_id == item.id, AnonymousAnswer.token_hash == _hash(token)
            )
        )
    else:
        rows = await db.scalars(
            select(NamedAnswer).where(
                NamedAnswer.round_id == item.id, NamedAnswer.member_id == actor.member_id
            )
        )
    return {row.question_id: row.text for row in rows}


@dataclass(frozen=True)
class Withdrawal:
    round: RoundView
    steps: tuple[SecondStep, ...] = ()


async def withdraw(
    db: AsyncSession, actor: Actor, round_id: int, token: str | None, now: datetime | None = None
) -> Withdrawal:
    """Delete one's own answers (anonymous ones by token) while the round is open. For an
    anonymous answer the deletion and the member's mark each get their own transaction
    (`steps`), as when answering."""
    require(actor, ANSWER_ROUNDS)
    item = await _round(db, actor, round_id)
    _open(item, now)
    recipient = await _recipient(db, actor, item)
    if token:
        owned = await db.scalar(
            select(func.count(AnonymousAnswer.id)).where(
                AnonymousAnswer.round_id == item.id, AnonymousAnswer.token_hash == _hash(token)
            )
        )
        if not owned:
            raise ValidationFailed("errors.nothing_to_withdraw")
        steps = (
            SecondStep(_delete_anonymous(item.id, _hash(token))),
            SecondStep(_unmark(item.id, actor.member_id)),
        )
        return Withdrawal(await view(db, actor, item.id), steps)
    removed = await db.execute(
        delete(NamedAnswer).where(
            NamedAnswer.round_id == item.id, NamedAnswer.member_id == actor.member_id
        )
    )
    if not removed.rowcount:  # type: ignore[attr-defined]
        raise ValidationFailed("errors.nothing_to_withdraw")
    recipient.status = "invited"
    await db.flush()
    return Withdrawal(await view(db, actor, item.id))


async def skip(db: AsyncSession, actor: Actor, round_id: int, now: datetime | None = None) -> None:
    require(actor, ANSWER_ROUNDS)
    item = await _round(db, actor, round_id)
    _open(item, now)
    recipient = await _recipient(db, actor, item)
    if recipient.status != "answered":
        recipient.status = "skipped"


async def set_paused(db: AsyncSession, actor: Actor, paused: bool) -> bool:
    """Pause (or resume) receiving rounds; returns whether the member is now paused."""
    require(actor, ANSWER_ROUNDS)
    existing = await db.get(ReflectionPause, actor.member_id)
    if paused and existing is None:
        db.add(ReflectionPause(member_id=actor.member_id))
    elif not paused and existing is not None:
        await db.delete(existing)
    return paused


async def is_paused(db: AsyncSession, member_id: int) -> bool:
    return await db.get(ReflectionPause, member_id) is not None


# --- closing and summaries ---------------------------------------------------------------


async def close(
    db: AsyncSession, round_id: int, settings: Settings | None = None, now: datetime | None = None
) -> RoundView:
    """Close the round and seal it (see `seal`). The summary becomes a draft for the
    moderators (review_state pending), or is withheld when fewer than the minimum answered;
    nothing is published. With `reflections.auto_publish` the draft is published after the
    review period unless a moderator decided first."""
    item = await db.scalar(
        select(ReflectionRound).where(ReflectionRound.id == round_id).with_for_update()
    )
    if item is None:
        raise NotFound("errors.round_not_found", number=round_id)
    if item.status == "open":
        item.status = "closed"
        if item.closes_at > _now(now):
            item.closes_at = _now(now)
        await scheduling.cancel(db, f"round:{item.id}:reminder")
    if item.sealed_at is None:
        await seal(db, item, now)
    if item.review_state is None:
        if int(item.answered_count or 0) < item.min_answers:
            item.review_state = "withheld"
        else:
            item.review_state = "pending"
            if settings is not None and settings.reflections.auto_publish:
                await scheduling.schedule(
                    db,
                    community_id=item.community_id,
                    kind="round.auto_publish",
                    key=f"round:{item.id}:auto-publish",
                    due_at=_now(now) + timedelta(hours=settings.reflections.review_hours),
                    payload={"round_id": item.id},
                    grace=timedelta(days=30),
                )
    await db.flush()
    return await view(db, None, item.id)


async def seal(db: AsyncSession, item: ReflectionRound, now: datetime | None = None) -> None:
    """Make a closed round's storage say nothing about who answered what, or when.

    In the closing transaction: the counts are kept on the round; every anonymous answer is
    deleted and written again, in a random order, with a new random key and a new random
    handle (the member's token no longer opens anything); every recipient row is deleted and
    written again in member order with one status, "closed" (who answered, who skipped and
    in which order is forgotten); the round's delivery records (who had not answered when the
    reminder went out) are deleted. So the rows share one transaction id, their physical and
    dump order is random or by member, and no timestamp is left. Afterwards `compact` clears
    the old versions from the files (SQLite: zeroed on delete, the WAL checkpointed and
    truncated; PostgreSQL: the tables rewritten by VACUUM FULL)."""
    rng = secrets.SystemRandom()
    counts = dict(
        (
            await db.execute(
                select(RoundRecipient.status, func.count(RoundRecipient.id))
                .where(RoundRecipient.round_id == item.id)
                .group_by(RoundRecipient.status)
            )
        ).all()
    )
    item.asked_count = int(sum(counts.values()))
    item.answered_count = int(counts.get("answered", 0))
    item.skipped_count = int(counts.get("skipped", 0))
    rows = list(
        (
            await db.execute(
                select(
                    AnonymousAnswer.token_hash,
                    AnonymousAnswer.question_id,
                    AnonymousAnswer.text,
                    AnonymousAnswer.removed,
                ).where(AnonymousAnswer.round_id == item.id)
            )
        ).all()
    )
    item.anonymous_people = len({token for token, _, _, _ in rows})
    rng.shuffle(rows)
    await db.execute(delete(AnonymousAnswer).where(AnonymousAnswer.round_id == item.id))
    await db.flush()
    for _token, question_id, text, removed in rows:
        db.add(
            AnonymousAnswer(
                id=secrets.token_hex(16),
                round_id=item.id,
                token_hash=secrets.token_hex(32),
                question_id=question_id,
                text=text,
                removed=removed,
            )
        )
    asked = list(
        (
            await db.execute(
                select(RoundRecipient.member_id, RoundRecipient.delivered_via)
                .where(RoundRecipient.round_id == item.id)
                .order_by(RoundRecipient.member_id)
            )
        ).all()
    )
    await db.execute(delete(RoundRecipient).where(RoundRecipient.round_id == item.id))
    await db.flush()
    for member_id, via in asked:
        db.add(
            RoundRecipient(
                round_id=item.id, member_id=member_id, status="closed", delivered_via=via
            )
        )
    # the delivery records go; how many did not arrive stays, for the moderators
    item.undelivered_count = await deliveries.undelivered(
        db, f"round:{item.id}:", _now(now), posts=False
    )
    await db.execute(
        delete(ReminderDelivery).where(
            ReminderDelivery.job_key.startswith(f"round:{item.id}:", autoescape=True)
        )
    )
    item.sealed_at = _now(now)
    await scheduling.schedule(
        db,
        community_id=item.community_id,
        kind="round.compact",
        key=f"round:{item.id}:compact:1",
        due_at=_now(now),
        payload={"round_id": item.id, "attempt": 1},
        grace=timedelta(days=30),
    )
    await db.flush()


ANSWER_TABLES = ("reflection_anonymous_answers", "reflection_recipients", "reminder_deliveries")


async def compact(db: AsyncSession) -> bool:
    """After a seal has committed: remove the old row versions from the database files.
    Returns False when it could not finish now (another reader or a lock): try again later.

    SQLite deletes with zeros (`secure_delete`, set on every connection); here the WAL,
    which still holds the pages as they were while the round was open, is copied into the
    file and truncated to nothing. PostgreSQL keeps dead row versions until a vacuum; VACUUM
    FULL writes the tables (and their indexes) anew, without them."""
    engine = db.bind
    assert isinstance(engine, AsyncEngine)
    if engine.dialect.name == "sqlite":
        async with engine.connect() as conn:
            raw = await conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            row = raw.first()
        return row is None or int(row[0]) == 0
    async with engine.connect() as conn:
        auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
        try:
            await auto.exec_driver_sql("SET lock_timeout = '5s'")
            for table in ANSWER_TABLES:
                await auto.exec_driver_sql(f"VACUUM FULL {table}")
        except DBAPIError:
            return False
        finally:
            await auto.exec_driver_sql("RESET lock_timeout")
    return True


async def seal_closed_rounds(db: AsyncSession) -> int:
    """Rounds closed before sealing existed (or cut off by a crash): seal them now."""
    rounds = list(
        await db.scalars(
            select(ReflectionRound).where(
                ReflectionRound.status == "closed", ReflectionRound.sealed_at.is_(None)
            )
        )
    )
    for item in rounds:
        await seal(db, item)
    return len(rounds)


async def purge_recipients(db: AsyncSession, retention_days: int) -> int:
    """Who was asked in a round is kept `privacy.round_recipients_retention_days` after it
    closed (members see it in their own data), then forgotten; the counts stay."""
    cutoff = clock.now() - timedelta(days=retention_days)
    old = select(ReflectionRound.id).where(
        ReflectionRound.sealed_at.is_not(None), ReflectionRound.sealed_at < cutoff
    )
    result = await db.execute(delete(RoundRecipient).where(RoundRecipient.round_id.in_(old)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def close_now(db: AsyncSession, actor: Actor, round_id: int) -> RoundView:
    """A moderator ends a round early; the draft follows as at the deadline."""
    require(actor, MANAGE_ROUNDS)
    item = await _round(db, actor, round_id)
    if item.status != "open":
        raise ValidationFailed("errors.round_closed")
    # Cancel the deadline first: `cancel` matches by prefix, and the early close must stay.
    await scheduling.cancel(db, f"round:{item.id}:close")
    await scheduling.schedule(
        db,
        community_id=item.community_id,
        kind="round.close",
        key=f"round:{item.id}:early-close",
        due_at=clock.now(),
        payload={"round_id": item.id},
        grace=timedelta(days=30),
    )
    await audit.record(db, actor, "round.closed_early", "reflection_round", item.id)
    return await view(db, actor, item.id)


async def _answers(
    db: AsyncSession, item: ReflectionRound
) -> tuple[list[tuple[int, str, str, str, bool]], list[tuple[str, str, str, str, bool]]]:
    named = [
        tuple(row)
        for row in await db.execute(
            select(
                NamedAnswer.id,
                NamedAnswer.question_id,
                NamedAnswer.text,
                Member.display_name,
                NamedAnswer.removed,
            )
            .join(Member, Member.id == NamedAnswer.member_id)
            .where(NamedAnswer.round_id == item.id)
            .order_by(NamedAnswer.id)
        )
    ]
    anonymous = [
        tuple(row)
        for row in await db.execute(
            select(
                AnonymousAnswer.id,
                AnonymousAnswer.question_id,
                AnonymousAnswer.text,
                AnonymousAnswer.token_hash,
                AnonymousAnswer.removed,
            )
            .where(AnonymousAnswer.round_id == item.id)
            .order_by(AnonymousAnswer.id)  # random ids: no answering order
        )
    ]
    return named, anonymous  # type: ignore[return-value]


async def summary(db: AsyncSession, round_id: int, settings: Settings | None = None) -> Summary:
    """Answers per question, numbered for the moderators' review (names only for named
    answers). Nothing below the round's minimum. In the member's-choice mode, anonymous
    answers are held back unless at least the small-number threshold of members chose
    anonymous: otherwise "who answered" minus "who answered with a name" would point at
    one or two people."""
    item = await _round(db, None, round_id)
    item_view = await view(db, None, round_id)
    place = await summary_place(db, item)
    answered = item_view.answered
    undelivered = int(item.undelivered_count or 0) + await deliveries.undelivered(
        db, f"round:{item.id}:"
    )
    if answered < item_view.min_answers:
        return Summary(item_view, answered, withheld=True, place=place, undelivered=undelivered)
    named, anonymous = await _answers(db, item)
    floor = settings.privacy.small_number_threshold if settings else SMALL_NUMBER_DEFAULT
    held_back = 0
    if item.anonymity == "choice":
        anonymous_people = (
            int(item.anonymous_people or 0)
            if item.sealed_at is not None
            else len({token for _, _, _, token, _ in anonymous})
        )
        if anonymous_people and anonymous_people < floor:
            held_back = anonymous_people
            anonymous = []
    per_question = []
    number = 0
    removed = 0
    for question in item_view.questions:
        items: list[SummaryAnswer] = []
        for answer_id, qid, text, name, is_removed in named:
            if qid == question["id"]:
                number += 1
                items.append(SummaryAnswer(number, f"n{answer_id}", text, name, is_removed))
        for answer_id, qid, text, _token, is_removed in anonymous:
            if qid == question["id"]:
                number += 1
                items.append(SummaryAnswer(number, f"a{answer_id}", text, None, is_removed))
        removed += sum(1 for a in items if a.removed)
        per_question.append((question, items))
    return Summary(
        item_view,
        answered,
        withheld=False,
        per_question=per_question,
        anonymous_held_back=held_back,
        removed=removed,
        place=place,
        undelivered=undelivered,
    )


async def summary_for(
    db: AsyncSession, actor: Actor, round_id: int, settings: Settings | None = None
) -> Summary:
    require(actor, MANAGE_ROUNDS)
    await _round(db, actor, round_id)
    return await summary(db, round_id, settings)


# --- review: publish, remove an answer, keep with the moderators -------------------------


async def summary_place(db: AsyncSession, item: ReflectionRound) -> SummaryPlace:
    """Where the audience of this round already meets, and so where its summary may go."""
    if item.summary_to == "moderators":
        return SummaryPlace("moderators", None)
    if item.delivery == "thread":
        return SummaryPlace("thread", item.thread_id)
    community = await db.get(Community, item.community_id)
    assert community is not None
    if item.audience_kind == "everyone":
        return SummaryPlace("announcements", community.announcement_channel_id)
    if item.audience_kind == "site":
        site = await db.scalar(
            select(Site).where(
                Site.community_id == item.community_id,
                Site.name_key == name_key(item.audience_value or ""),
            )
        )
        if site is None:
            site = await db.get(Site, _int_or_zero(item.audience_value))
        if site is None or site.community_id != item.community_id:
            return SummaryPlace("site", None, item.audience_value)
        return SummaryPlace("site", site.channel_id, site.name)
    if item.audience_kind == "role":
        channel = (community.role_channels or {}).get(item.audience_value or "")
        return SummaryPlace("role", channel, item.audience_value)
    occurrence = await db.get(SessionOccurrence, _int_or_zero(item.audience_value))
    if occurrence is None or occurrence.series.community_id != item.community_id:
        return SummaryPlace("session", None)
    return SummaryPlace("session", occurrence.thread_id, occurrence.series.title)


def _int_or_zero(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


async def _reviewable(db: AsyncSession, actor: Actor | None, round_id: int) -> ReflectionRound:
    if actor is not None:
        require(actor, MANAGE_ROUNDS)
    item = await _round(db, actor, round_id)
    if item.status == "open" or item.review_state is None:
        raise ValidationFailed("errors.summary_round_open")
    if item.review_state == "withheld":
        raise ValidationFailed("errors.summary_withheld", minimum=item.min_answers)
    return item


async def publish(
    db: AsyncSession,
    actor: Actor | None,
    round_id: int,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> Summary:
    """A moderator (or, with auto_publish, the review period) publishes the reviewed
    summary in its audience's place. The post itself is scheduled work (`round.publish`)."""
    item = await _reviewable(db, actor, round_id)
    if item.review_state == "published":
        raise ValidationFailed("errors.summary_already_published")
    place = await summary_place(db, item)
    if place.channel_id is None:
        raise ValidationFailed(f"errors.summary_no_place_{place.kind}")
    item.review_state = "published"
    item.reviewed_by_id = actor.member_id if actor and actor.member_id else None
    item.reviewed_at = _now(now)
    await scheduling.cancel(db, f"round:{item.id}:auto-publish")
    await scheduling.schedule(
        db,
        community_id=item.community_id,
        kind="round.publish",
        key=f"round:{item.id}:publish",
        due_at=_now(now),
        payload={"round_id": item.id},
        grace=timedelta(days=30),
    )
    if actor is not None:
        await audit.record(db, actor, "round.summary_published", "reflection_round", item.id)
    await db.flush()
    return await summary(db, item.id, settings)


async def keep_with_moderators(
    db: AsyncSession, actor: Actor, round_id: int, now: datetime | None = None
) -> RoundView:
    """*Niet publiceren*: the summary stays with the moderators."""
    item = await _reviewable(db, actor, round_id)
    if item.review_state == "published":
        raise ValidationFailed("errors.summary_already_published_keep")
    if item.review_state == "kept":
        raise ValidationFailed("errors.summary_already_kept")
    item.review_state = "kept"
    item.reviewed_by_id = actor.member_id
    item.reviewed_at = _now(now)
    await scheduling.cancel(db, f"round:{item.id}:auto-publish")
    await audit.record(db, actor, "round.summary_kept", "reflection_round", item.id)
    await db.flush()
    return await view(db, actor, item.id)


@dataclass(frozen=True)
class Removal:
    round: RoundView
    number: int
    question: dict[str, str]
    author_id: int | None
    """The named answer's author (told privately); None for an anonymous answer."""
    published: bool


async def remove_answer(
    db: AsyncSession,
    actor: Actor,
    round_id: int,
    number: int,
    reason: str,
    settings: Settings | None = None,
) -> Removal:
    """*Antwoord weghalen*: take one answer out of the summary and every export, before or
    after publishing. The audit trail records that it happened, never the text or reason."""
    item = await _reviewable(db, actor, round_id)
    clean_reason = clean_text(reason, field="reason", max_length=300)
    assert clean_reason is not None
    data = await summary(db, item.id, settings)
    found = next(
        ((q, a) for q, answers in data.per_question for a in answers if a.number == number),
        None,
    )
    if found is None:
        raise NotFound("errors.answer_number_unknown", number=number)
    question, answer = found
    if answer.removed:
        raise ValidationFailed("errors.answer_already_removed", number=number)
    author_id = None
    if answer.ref.startswith("n"):
        row = await db.get(NamedAnswer, int(answer.ref[1:]))
        assert row is not None
        row.removed = True
        author_id = row.member_id
    else:
        anonymous = await db.get(AnonymousAnswer, answer.ref[1:])
        assert anonymous is not None
        anonymous.removed = True
        anonymous.text = ""  # nobody can claim it back: keep nothing
    published = item.review_state == "published"
    if published:
        await scheduling.schedule(
            db,
            community_id=item.community_id,
            kind="round.publish",
            key=f"round:{item.id}:update:{answer.ref}",
            due_at=clock.now(),
            payload={"round_id": item.id},
            grace=timedelta(days=30),
        )
    if author_id is not None:
        await scheduling.schedule(
            db,
            community_id=item.community_id,
            kind="round.answer_removed",
            key=f"round:{item.id}:removed:{answer.ref}",
            due_at=clock.now(),
            payload={
                "round_id": item.id,
                "member_id": author_id,
                "question_id": question["id"],
                "reason": clean_reason,
            },
            grace=timedelta(days=7),
        )
    await audit.record(
        db, actor, "round.answer_removed", "reflection_round", item.id, number=number
    )
    await db.flush()
    return Removal(await view(db, actor, item.id), number, question, author_id, published)


async def reviewers(db: AsyncSession, round_id: int) -> list[Member]:
    """Who gets the draft: the moderator who started the round (or set up its schedule);
    when they are gone, every moderator and coordinator the community has recorded. Any
    moderator can open the draft with `/ronde samenvatting`."""
    item = await _round(db, None, round_id)
    starter = await db.get(Member, item.created_by_id) if item.created_by_id else None
    if starter is not None:
        return [starter]
    return list(
        await db.scalars(
            select(Member)
            .where(
                Member.community_id == item.community_id,
                (Member.is_moderator.is_(True)) | (Member.is_coordinator.is_(True)),
            )
            .order_by(Member.id)
        )
    )


def sources(questions: Iterable[dict[str, str]]) -> list[str]:
    """The sources of a round's questions, in order, each once (own questions left out)."""
    seen: list[str] = []
    for question in questions:
        source = str(question.get("source") or "").strip()
        if source and source != OWN_QUESTION and source not in seen:
            seen.append(source)
    return seen


async def list_rounds(db: AsyncSession, actor: Actor, limit: int = 10) -> list[RoundView]:
    require(actor, ANSWER_ROUNDS)
    rounds = list(
        await db.scalars(
            select(ReflectionRound)
            .where(ReflectionRound.community_id == actor.community_id)
            .order_by(ReflectionRound.opens_at.desc(), ReflectionRound.id.desc())
            .limit(limit)
        )
    )
    return await _views(db, actor, rounds)


async def recipients_to_remind(db: AsyncSession, round_id: int) -> list[Member]:
    return list(
        await db.scalars(
            select(Member)
            .join(RoundRecipient, RoundRecipient.member_id == Member.id)
            .where(
                RoundRecipient.round_id == round_id,
                RoundRecipient.status == "invited",
                Member.id.not_in(select(ReflectionPause.member_id)),
            )
            .order_by(Member.id)
        )
    )


async def all_recipients(db: AsyncSession, round_id: int) -> list[tuple[Member, RoundRecipient]]:
    rows = await db.execute(
        select(Member, RoundRecipient)
        .join(RoundRecipient, RoundRecipient.member_id == Member.id)
        .where(RoundRecipient.round_id == round_id)
        .order_by(Member.id)
    )
    return [(m, r) for m, r in rows]


# --- recurring rounds --------------------------------------------------------------------


async def create_schedule(
    db: AsyncSession,
    actor: Actor,
    settings: Settings,
    *,
    kind: str,
    template: dict[str, object],
    weekday: int | None = None,
    hour: int | None = None,
    minute: int | None = None,
    every_weeks: int = 1,
) -> ReflectionSchedule:
    require(actor, MANAGE_ROUNDS)
    if kind == "cron":
        if weekday is None or hour is None or not (0 <= weekday <= 6 and 0 <= hour <= 23):
            raise ValidationFailed("errors.bad_schedule")
        if not 1 <= every_weeks <= 8:
            raise ValidationFailed("errors.out_of_range", field="every", min=1, max=8)
    schedule = ReflectionSchedule(
        community_id=actor.community_id,
        kind=kind,
        weekday=weekday,
        hour=hour,
        minute=minute or 0,
        every_weeks=every_weeks,
        template=template,
        active=True,
        created_by_id=actor.member_id,
    )
    db.add(schedule)
    await db.flush()
    if kind == "cron":
        await schedule_next_run(db, schedule, settings)
    await audit.record(db, actor, "round.scheduled", "reflection_schedule", schedule.id, kind=kind)
    return schedule


def next_run(schedule: ReflectionSchedule, settings: Settings, after: datetime) -> datetime:
    """The next start: the chosen weekday and time in the community's zone, every N weeks."""
    from apscheduler.triggers.cron import CronTrigger

    trigger = CronTrigger(
        day_of_week=schedule.weekday,
        hour=schedule.hour,
        minute=schedule.minute or 0,
        timezone=settings.tz,
    )
    moment = trigger.get_next_fire_time(None, after)
    assert moment is not None
    if schedule.every_weeks > 1:
        anchor = schedule.created_at.astimezone(settings.tz)
        while ((moment - anchor).days // 7) % schedule.every_weeks:
            moment = trigger.get_next_fire_time(moment, moment + timedelta(minutes=1))
            assert moment is not None
    return moment.astimezone(UTC)


async def schedule_next_run(
    db: AsyncSession, schedule: ReflectionSchedule, settings: Settings
) -> datetime:
    due = next_run(schedule, settings, clock.now())
    await scheduling.schedule(
        db,
        community_id=schedule.community_id,
        kind="round.recurring",
        key=f"round-schedule:{schedule.id}:{int(due.timestamp())}",
        due_at=due,
        payload={"schedule_id": schedule.id},
        grace=timedelta(hours=6),
    )
    return due


# --- data rights -------------------------------------------------------------------------


async def _count_data(db: AsyncSession, member: Member) -> dict[str, int]:
    named = await db.scalar(
        select(func.count(NamedAnswer.id)).where(NamedAnswer.member_id == member.id)
    )
    asked = await db.scalar(
        select(func.count(RoundRecipient.id)).where(RoundRecipient.member_id == member.id)
    )
    return {"named_answers": int(named or 0), "rounds": int(asked or 0)}


async def _export_data(db: AsyncSession, member: Member) -> dict[str, object]:
    rows = await db.execute(
        select(
            ReflectionRound.title,
            ReflectionRound.questions,
            NamedAnswer.question_id,
            NamedAnswer.text,
            NamedAnswer.removed,
        )
        .join(ReflectionRound, ReflectionRound.id == NamedAnswer.round_id)
        .where(NamedAnswer.member_id == member.id)
        .order_by(NamedAnswer.id)
    )
    answers = []
    for title, questions, question_id, text, removed in rows:
        question = next((q["nl"] for q in questions if q["id"] == question_id), question_id)
        entry: dict[str, object] = {"round": title, "question": question, "answer": text}
        if removed:
            entry["taken_out_of_the_summary_by_a_moderator"] = True
        answers.append(entry)
    asked = await db.execute(
        select(ReflectionRound.title, RoundRecipient.status)
        .join(ReflectionRound, ReflectionRound.id == RoundRecipient.round_id)
        .where(RoundRecipient.member_id == member.id)
    )
    return {
        "named_answers": answers,
        "rounds_you_were_asked": [{"round": t, "status": s} for t, s in asked],
        "paused": await is_paused(db, member.id),
        "anonymous_answers": "not linked to you, so they cannot be returned or found",
    }


async def _delete_data(db: AsyncSession, member: Member) -> None:
    published = list(
        await db.scalars(
            select(ReflectionRound).where(
                ReflectionRound.review_state == "published",
                ReflectionRound.id.in_(
                    select(NamedAnswer.round_id).where(NamedAnswer.member_id == member.id)
                ),
            )
        )
    )
    for model in (NamedAnswer, RoundRecipient, ReflectionPause):
        await db.execute(delete(model).where(model.member_id == member.id))  # type: ignore[attr-defined]
    from sqlalchemy import update

    for model in (ReflectionRound, ReflectionSchedule):
        await db.execute(
            update(model).where(model.created_by_id == member.id).values(created_by_id=None)  # type: ignore[attr-defined]
        )
    await db.execute(
        update(ReflectionRound)
        .where(ReflectionRound.reviewed_by_id == member.id)
        .values(reviewed_by_id=None)
    )
    for item in published:  # the posted summaries lose the member's answers and name
        await scheduling.schedule(
            db,
            community_id=item.community_id,
            kind="round.publish",
            key=f"round:{item.id}:update:forgotten:{secrets.token_hex(4)}",
            due_at=clock.now(),
            payload={"round_id": item.id},
            grace=timedelta(days=30),
        )


def _register_data_handler() -> None:
    from leerbot.core import privacy

    privacy.register(
        privacy.DataHandler(
            name="reflections",
            tables=(
                "reflection_rounds",
                "reflection_recipients",
                "reflection_named_answers",
                "reflection_pauses",
                "reflection_schedules",
            ),
            summary_key="privacy.summary.reflections",
            count=_count_data,
            export=_export_data,
            delete=_delete_data,
            delete_note_key="privacy.delete_note.reflections",
            order=20,
        )
    )


_register_data_handler()
