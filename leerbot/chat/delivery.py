"""Every message the bot creates arrives once: not lost in a crash, not sent twice by a retry
or a restart.

A message is recorded before its first attempt (`ReminderDelivery` for a message to a member,
`ChannelPost` for a card, a summary, a thread's first message, a thread opened without a
message) and confirmed with the platform's message id only after the platform took it. The
row's id is the message's nonce: every attempt sends the same one, and within the platform's
`nonce_window` a second attempt returns the first message instead of making another
(Discord's `enforce_nonce`). A job cut off by a crash runs again at the next start
(`leerbot.scheduling`) and finds its unconfirmed rows:

- still inside the nonce window (measured from the first attempt since the last check): the
  message is sent again with the same nonce; Discord answers with the one that arrived, or
  makes it now;
- after the window: the platform looks for it in the channel (the DM, the thread, the
  channel) among the bot's messages since that attempt, by the fingerprints of what was sent.
  Found: it is confirmed with that id and not sent. Not there: a new window starts and it is
  sent;
- after the window and the platform cannot look (no Read Message History in the channel,
  more messages since than it reads, the console, which keeps no history): it is **not sent
  again** and marked `unchecked`, logged with the reason and counted for the moderators
  (`leerbot.core.deliveries`). A message that may already be there is not sent a second time;
  that it may be missing is not hidden.

Transient failures (Discord's 5xx, timeouts, lost connections) are tried again after 5 s,
15 s, 30 s, 1, 2, 5 and 10 minutes (`Retry`), never past the job's grace. A fan-out records
its recipients a batch ahead of their messages (a batch of members per statement), and has
up to `SENDERS` messages under way at once, each member's DM channel opened ahead
(discord.py's limiter paces the requests to Discord's limits; the job holds one database
connection at a time). At a transient failure it starts no further member (Discord is
having trouble: the others would fail too), lets those under way finish, waits, and goes on
from the member whose message failed; when the process is stopping it starts none either
and hands the job back once those under way are done (`scheduling.HandBack`): the next
start goes on where it stopped. A final failure (403,
404, another refusal) is recorded as `failed` with Discord's status and code and logged; a
member who does not accept DMs (Discord's 50007) gets the message in a private thread with
just them. Sleeps go through `services["sleep"]` (tests give one that does not wait).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from leerbot import clock, scheduling
from leerbot.chat.platform import Platform, SendFailed, Sent, Unverifiable
from leerbot.chat.reply import Reply
from leerbot.db.models import ChannelPost, Community, Member, ReminderDelivery, ScheduledJob
from leerbot.i18n import translate
from leerbot.logging_ids import who

log = logging.getLogger("leerbot.delivery")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[object]]
Sessions = Callable[[], AbstractAsyncContextManager[AsyncSession]]
"""A session factory: `async_sessionmaker`, or one that hands out sessions in turn."""

PENDING = ("pending", "pending-thread")
"""Not confirmed yet (by DM; in a private thread because the member's DMs are closed)."""
DELIVERED = ("dm", "thread", "sent")
UNDELIVERED = ("failed", "unchecked")
RETRY_DELAYS: tuple[float, ...] = (5, 15, 30, 60, 120, 300, 600)
"""Seconds before each next attempt after a transient failure; then it has failed."""
FINGERPRINTS_KEPT = 8


@dataclass(frozen=True)
class Retry:
    """When to try again after a transient failure: the next of `delays`, and never past
    `deadline` (the job's due time plus its grace: a reminder is not sent hours late)."""

    sleep: Sleep = asyncio.sleep
    deadline: datetime | None = None
    delays: tuple[float, ...] = RETRY_DELAYS

    def expired(self) -> bool:
        return self.deadline is not None and clock.now() > self.deadline

    def delay(self, attempts: int) -> float | None:
        """Seconds to wait after `attempts` attempts, or None: give up."""
        if attempts > len(self.delays):
            return None
        wait = self.delays[max(attempts, 1) - 1]
        if self.deadline is not None and clock.now() + timedelta(seconds=wait) > self.deadline:
            return None
        return wait


async def retry_for(run: scheduling.JobRun) -> Retry:
    """The retry policy of a job: its grace from its row, the sleep from its services."""
    async with run.sessionmaker() as db:
        grace = await db.scalar(
            select(ScheduledJob.grace_seconds).where(ScheduledJob.key == run.key)
        )
    deadline = run.due_at + timedelta(seconds=grace) if grace is not None else None
    return Retry(sleep=run.services.get("sleep") or asyncio.sleep, deadline=deadline)


# --- one record, one message ------------------------------------------------------------


@dataclass(frozen=True)
class _Snapshot:
    """What one attempt needs of a record (a ReminderDelivery or a ChannelPost row)."""

    id: int
    state: str
    channel_id: str | None
    message_id: str | None
    attempted_at: datetime | None
    fingerprints: tuple[str, ...]
    attempts: int
    reason: str | None


def _snapshot(row: ReminderDelivery | ChannelPost) -> _Snapshot:
    state = row.via if isinstance(row, ReminderDelivery) else row.state
    return _Snapshot(
        row.id,
        state,
        row.channel_id,
        row.message_id,
        row.attempted_at,
        tuple((row.fingerprints or "").split()),
        row.attempts or 0,
        row.reason,
    )


class _Record:
    """One row, changed by single UPDATE statements: a delivery row may be gone meanwhile (a
    round sealed at its close, a member who deleted their data), and then nothing is
    recorded and nothing more is sent."""

    def __init__(
        self,
        sessionmaker: Sessions,
        model: type[ReminderDelivery] | type[ChannelPost],
        row_id: int,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.model = model
        self.row_id = row_id
        self.state_column = "via" if model is ReminderDelivery else "state"

    def _where(self) -> ColumnElement[bool]:
        return self.model.id == self.row_id

    async def read(self) -> _Snapshot | None:
        async with self.sessionmaker() as db:
            row = await db.get(self.model, self.row_id)
            return _snapshot(row) if row is not None else None

    async def write(self, *, state: str | None = None, **values: Any) -> bool:
        if state is not None:
            values[self.state_column] = state
        async with self.sessionmaker() as db, db.begin():
            result = await db.execute(update(self.model).where(self._where()).values(**values))
        return bool(result.rowcount)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Outcome:
    kind: str
    """delivered | transient | failed | unchecked | closed (DMs closed) | gone (row deleted)"""
    channel_id: str | None = None
    message_id: str | None = None
    reason: str | None = None


async def _send_once(
    record: _Record,
    snap: _Snapshot,
    *,
    window: timedelta,
    fingerprint: str,
    find: Callable[[datetime, tuple[str, ...]], Awaitable[str | None]],
    send: Callable[[], Awaitable[tuple[str, str] | None]],
    delivered: str,
    channel_id: str | None = None,
) -> Outcome:
    """Send the record's message at most once and at least once (see the module's doc).
    `send` returns (channel id, message id), or None when the member's DMs are closed."""
    now = clock.now()
    since, prints = snap.attempted_at, snap.fingerprints
    if since is not None and now - since > window:
        try:
            found = await find(since, prints)
        except Unverifiable as exc:
            await record.write(state="unchecked", reason=exc.reason)
            return Outcome("unchecked", reason=exc.reason)
        except SendFailed as exc:
            await record.write(reason=exc.reason)
            return Outcome("transient" if exc.transient else "failed", reason=exc.reason)
        if found is not None:
            await record.write(state=delivered, message_id=found, reason=None)
            return Outcome("delivered", channel_id, found)
        since, prints = None, ()  # it is not there: a new window starts with this attempt
    if fingerprint not in prints:
        prints = (*prints, fingerprint)[-FINGERPRINTS_KEPT:]
    if not await record.write(
        attempted_at=since or now, fingerprints=" ".join(prints), attempts=snap.attempts + 1
    ):
        return Outcome("gone")
    try:
        result = await send()
    except SendFailed as exc:
        if exc.transient:
            await record.write(reason=exc.reason)
            return Outcome("transient", reason=exc.reason)
        await record.write(state="failed", reason=exc.reason)
        return Outcome("failed", reason=exc.reason)
    if result is None:
        return Outcome("closed")
    sent_channel, message_id = result
    await record.write(state=delivered, channel_id=sent_channel, message_id=message_id, reason=None)
    return Outcome("delivered", sent_channel, message_id)


# --- messages to members ----------------------------------------------------------------


async def deliver(
    run: scheduling.JobRun,
    platform: Platform,
    community: Community,
    members: list[Member],
    make: Callable[[str], Reply],
    thread_parent: str | None,
    *,
    key: str | None = None,
) -> None:
    """Send one message per member, once each (see the module's doc): by DM, or in a private
    thread in `thread_parent` when the member does not accept DMs. `key` names the messages
    (default: the job's key); two jobs that must not both send give the same one."""
    key = key or run.key
    retry = await retry_for(run)
    waiting = list({m.id: m for m in members}.values())  # listed twice: one message
    sessions = _one_at_a_time(run.sessionmaker)
    while waiting:
        if retry.expired():
            await _give_up(run.sessionmaker, key, waiting, "not sent: past the job's grace")
            return
        paused, waiting = await _send_all(
            run, sessions, platform, community, key, waiting, make, thread_parent
        )
        if paused is None:
            return
        first = waiting[0]
        attempts = await _attempts(run.sessionmaker, key, first)
        wait = retry.delay(attempts)
        if wait is None:
            await _give_up(run.sessionmaker, key, [first], f"gave up: {paused.reason}")
            waiting = waiting[1:]
            continue
        log.info(
            "Discord did not take %s for member %s (%s); trying again in %.0f s",
            key,
            who(first.id),
            paused.reason,
            wait,
        )
        if run.stopping():
            raise scheduling.HandBack()
        await retry.sleep(wait)


SENDERS = 8
"""Messages of one fan-out under way at once. discord.py's limiter paces the requests to
Discord's limits; this only keeps the pipe full (a request's round trip is longer than the
gap the global limit leaves between two)."""
OPEN_AHEAD = 16
"""DM channels opened ahead of the message that needs them (a request of its own, with its
own rate limit), at most `OPENERS` at a time."""
OPENERS = 4
STOP_CHECK = 0.2
"""Seconds between two looks at whether the process is stopping, while a DM channel opens
(its bucket may hold it for seconds): a stop does not wait for the bucket."""
RECORD_BATCH = 200
"""Recipients recorded per statement, a batch ahead of the messages (a record unconfirmed
for 15 minutes counts as not delivered, `leerbot.core.deliveries`: not one made long
before its message is due to go)."""


async def _record_batch(
    sessions: Sessions, key: str, members: Sequence[Member]
) -> dict[int, _Snapshot]:
    """Record these recipients (pending) before their messages go, in one statement, and
    return each one's record as it is (a rerun finds those already done)."""
    ids = list(dict.fromkeys(m.id for m in members))

    def of(chosen: list[int]) -> Any:
        return select(ReminderDelivery).where(
            ReminderDelivery.job_key == key, ReminderDelivery.member_id.in_(chosen)
        )

    async with sessions() as db, db.begin():
        known = {row.member_id: _snapshot(row) for row in await db.scalars(of(ids))}
        new = [i for i in ids if i not in known]
        if new:
            await db.execute(
                insert(ReminderDelivery),
                [{"job_key": key, "member_id": i, "via": "pending", "attempts": 0} for i in new],
            )
            known.update({row.member_id: _snapshot(row) for row in await db.scalars(of(new))})
    return known


def _one_at_a_time(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> Sessions:
    """Sessions taken in turn: the messages of a fan-out are under way together, but the job
    holds one database connection at a time (the pool is sized for that, `leerbot.db`)."""
    turn = asyncio.Lock()

    @asynccontextmanager
    async def session() -> AsyncIterator[AsyncSession]:
        async with turn, sessionmaker() as db:
            yield db

    return session


async def _send_all(
    run: scheduling.JobRun,
    sessions: Sessions,
    platform: Platform,
    community: Community,
    key: str,
    members: list[Member],
    make: Callable[[str], Reply],
    thread_parent: str | None,
) -> tuple[Outcome | None, list[Member]]:
    """Send to `members`, `SENDERS` at a time, opening DM channels ahead. At a transient
    failure no further member is started (Discord is having trouble: the others would fail
    too); those under way finish. Returns the first transient outcome and who is left (the
    failed ones first), or (None, []). When the process is stopping, hands the job back
    once those under way are done: between two messages nothing is half done."""
    open_dm = getattr(platform, "open_dm", None)
    place = community.platform_id
    opening = asyncio.Semaphore(OPENERS)
    opens: dict[int, asyncio.Task[None]] = {}
    failed: list[tuple[int, Outcome]] = []
    skipped: list[int] = []
    records: dict[int, _Snapshot] = {}
    recorded = 0  # members[:recorded] are in `records`
    recording = asyncio.Lock()
    taken = 0
    halt = False

    async def record_until(upto: int) -> None:
        nonlocal recorded
        async with recording:
            while recorded < min(upto, len(members)):
                batch = members[recorded : recorded + RECORD_BATCH]
                records.update(await _record_batch(sessions, key, batch))
                recorded += len(batch)

    async def open_one(member: Member) -> None:
        async with opening:
            if run.stopping() or halt:
                return
            with contextlib.suppress(Exception):  # the message's own attempt tells
                await open_dm(place, member.platform_id)

    def open_ahead(upto: int) -> None:
        if open_dm is None:
            return
        for index in range(upto, min(upto + OPEN_AHEAD, len(members))):
            member = members[index]
            known = records.get(member.id)
            if index not in opens and known is not None and known.state == "pending":
                opens[index] = asyncio.create_task(open_one(member))

    async def sender() -> None:
        nonlocal taken, halt
        while not halt and taken < len(members):
            if run.stopping():
                halt = True
                return
            index, taken = taken, taken + 1
            await record_until(index + OPEN_AHEAD + 1)
            if (
                records.get(members[index].id) is None
                or records[members[index].id].state not in PENDING
            ):
                continue  # done in an earlier run (or its record is gone)
            open_ahead(index)
            opened = opens.get(index)
            while opened is not None and not opened.done() and not run.stopping():
                await asyncio.wait({opened}, timeout=STOP_CHECK)  # the bucket may be slow
            if run.stopping():  # nothing of this member's message has happened yet
                skipped.append(index)
                halt = True
                return
            member = members[index]
            outcome = await _deliver_one(
                sessions,
                platform,
                community,
                key,
                member,
                make,
                thread_parent,
                known=records.get(member.id),
            )
            if outcome.kind == "transient":
                failed.append((index, outcome))
                halt = True

    workers = [asyncio.create_task(sender()) for _ in range(min(SENDERS, len(members)))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in (*workers, *opens.values()):
            task.cancel()
        await asyncio.gather(*workers, *opens.values(), return_exceptions=True)
    if not failed and (skipped or taken < len(members)) and run.stopping():
        raise scheduling.HandBack()
    if not failed:
        return None, []
    failed.sort(key=lambda pair: pair[0])
    left = [members[i] for i, _ in failed] + [members[i] for i in sorted(skipped)]
    return failed[0][1], left + members[taken:]


async def _attempts(
    sessionmaker: async_sessionmaker[AsyncSession], key: str, member: Member
) -> int:
    async with sessionmaker() as db:
        found = await db.scalar(
            select(ReminderDelivery.attempts).where(
                ReminderDelivery.job_key == key, ReminderDelivery.member_id == member.id
            )
        )
    return int(found or 0)


async def _give_up(
    sessionmaker: async_sessionmaker[AsyncSession],
    key: str,
    members: Sequence[Member],
    reason: str,
) -> None:
    """Members whose message could not go: recorded as failed (also those not tried yet)."""
    for member in members:
        async with sessionmaker() as db, db.begin():
            row = await db.scalar(
                select(ReminderDelivery).where(
                    ReminderDelivery.job_key == key, ReminderDelivery.member_id == member.id
                )
            )
            if row is None:
                row = ReminderDelivery(job_key=key, member_id=member.id, via="failed")
                db.add(row)
            elif row.via not in PENDING:
                continue
            row.via = "failed"
            row.reason = reason[:300]
        log.warning("could not deliver %s to member %s: %s", key, who(member.id), reason)


async def _deliver_one(
    sessionmaker: Sessions,
    platform: Platform,
    community: Community,
    key: str,
    member: Member,
    make: Callable[[str], Reply],
    thread_parent: str | None,
    *,
    known: _Snapshot | None = None,
) -> Outcome:
    """`known`: the record as just read (saves reading it again)."""
    if known is not None:
        snap = known
    else:
        async with sessionmaker() as db, db.begin():
            row = await db.scalar(
                select(ReminderDelivery).where(
                    ReminderDelivery.job_key == key, ReminderDelivery.member_id == member.id
                )
            )
            if row is None:
                row = ReminderDelivery(job_key=key, member_id=member.id, via="pending")
                db.add(row)
                await db.flush()
            snap = _snapshot(row)
    if snap.state not in PENDING:
        return Outcome("done")
    record = _Record(sessionmaker, ReminderDelivery, snap.id)
    locale = member.language(community.locale)
    reply = make(locale)
    reply.locale = locale
    nonce = f"d{snap.id}"
    place = community.platform_id

    if snap.state == "pending":

        async def find_dm(since: datetime, prints: tuple[str, ...]) -> str | None:
            return await platform.find_sent(
                place, member_platform_id=member.platform_id, fingerprints=prints, since=since
            )

        async def send_dm() -> tuple[str, str] | None:
            sent: Sent | None = await platform.send_dm(
                place, member.platform_id, reply, nonce=nonce
            )
            return (sent.channel_id, sent.message_id) if sent is not None else None

        outcome = await _send_once(
            record,
            snap,
            window=platform.nonce_window,
            fingerprint=platform.fingerprint(place, reply, direct=True),
            find=find_dm,
            send=send_dm,
            delivered="dm",
        )
        if outcome.kind != "closed":
            return _logged(outcome, key, member)
        if not thread_parent:
            reason = "DMs closed, and no channel for a private thread"
            await record.write(state="failed", reason=reason)
            return _logged(Outcome("failed", reason=reason), key, member)
        if not await record.write(
            state="pending-thread", attempted_at=None, fingerprints=None, attempts=0
        ):
            return Outcome("gone")
        fresh = await record.read()
        if fresh is None:
            return Outcome("gone")
        snap = fresh

    if not thread_parent and snap.channel_id is None:
        reason = "DMs closed, and no channel for a private thread"
        await record.write(state="failed", reason=reason)
        return _logged(Outcome("failed", reason=reason), key, member)
    thread = snap.channel_id
    if thread is None:
        assert thread_parent is not None
        # the private thread first; an earlier attempt to open it may have done so
        earlier = snap.attempted_at
        if not await record.write(attempted_at=earlier or clock.now()):
            return Outcome("gone")
        try:
            thread = await platform.open_thread(
                place,
                thread_parent,
                translate(locale, "delivery.private_thread_name", name=member.display_name)[:100],
                private=True,
                member_platform_ids=(member.platform_id,),
                since=earlier,
            )
        except Unverifiable as exc:
            await record.write(state="unchecked", reason=exc.reason)
            return _logged(Outcome("unchecked", reason=exc.reason), key, member)
        except SendFailed as exc:
            if exc.transient:
                await record.write(reason=exc.reason)
                return _logged(Outcome("transient", reason=exc.reason), key, member)
            await record.write(state="failed", reason=exc.reason)
            return _logged(Outcome("failed", reason=exc.reason), key, member)
        if not await record.write(channel_id=thread, attempted_at=None, fingerprints=None):
            return Outcome("gone")
        fresh = await record.read()
        if fresh is None:
            return Outcome("gone")
        snap = fresh
    outcome = await _post_once_in(
        record, snap, platform, place, thread, reply, nonce=nonce, delivered="thread"
    )
    return _logged(outcome, key, member)


async def _post_once_in(
    record: _Record,
    snap: _Snapshot,
    platform: Platform,
    place: str,
    channel_id: str,
    reply: Reply,
    *,
    nonce: str,
    delivered: str,
) -> Outcome:
    """One attempt at a record's message in a channel or thread (see `_send_once`)."""

    async def find(since: datetime, prints: tuple[str, ...]) -> str | None:
        return await platform.find_sent(
            place, channel_id=channel_id, fingerprints=prints, since=since
        )

    async def send() -> tuple[str, str]:
        return channel_id, await platform.post(place, channel_id, reply, nonce=nonce)

    return await _send_once(
        record,
        snap,
        window=platform.nonce_window,
        fingerprint=platform.fingerprint(place, reply),
        find=find,
        send=send,
        delivered=delivered,
        channel_id=channel_id,
    )


def _logged(outcome: Outcome, key: str, member: Member) -> Outcome:
    if outcome.kind in ("failed", "unchecked"):
        log.warning(
            "could not deliver %s to member %s (%s): %s",
            key,
            who(member.id),
            outcome.kind,
            outcome.reason,
        )
    return outcome


# --- posts in channels -------------------------------------------------------------------


@dataclass(frozen=True)
class Posted:
    channel_id: str
    message_id: str


async def _post_row(
    sessionmaker: async_sessionmaker[AsyncSession],
    community: Community,
    key: str,
    channel_id: str,
    job_key: str | None,
) -> _Snapshot:
    """The record of `key`, made when new. A post that failed for good in an earlier job is
    tried again by a later one (a card must be there); one that could not be checked is not
    (it may be there)."""
    async with sessionmaker() as db, db.begin():
        row = await db.scalar(select(ChannelPost).where(ChannelPost.key == key))
        if row is None:
            row = ChannelPost(
                community_id=community.id,
                key=key,
                job_key=job_key,
                channel_id=channel_id,
                state="pending",
            )
            db.add(row)
            await db.flush()
        elif row.state == "failed" and job_key is not None and row.job_key != job_key:
            row.state, row.channel_id, row.attempts = "pending", channel_id, 0
            row.attempted_at, row.fingerprints, row.reason = None, None, None
        if row.state == "pending":
            row.job_key = job_key or row.job_key
        return _snapshot(row)


async def post_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    platform: Platform,
    community: Community,
    *,
    key: str,
    channel_id: str,
    reply: Reply,
    retry: Retry | None = None,
    job_key: str | None = None,
) -> Posted | None:
    """Post `reply` once for `key` (what it is: `agenda:7:card`); returns where it is, also
    when an earlier attempt posted it. None when it could not be posted (recorded as
    failed or unchecked, and logged). An unconfirmed earlier attempt keeps its channel."""
    retry = retry or Retry()
    place = community.platform_id
    while True:
        snap = await _post_row(sessionmaker, community, key, channel_id, job_key)
        target = snap.channel_id or channel_id
        if snap.state == "sent" and snap.message_id:
            return Posted(target, snap.message_id)
        if snap.state in UNDELIVERED:
            return None
        record = _Record(sessionmaker, ChannelPost, snap.id)
        outcome = await _post_once_in(
            record, snap, platform, place, target, reply, nonce=f"p{snap.id}", delivered="sent"
        )
        if outcome.kind == "delivered" and outcome.message_id:
            return Posted(target, outcome.message_id)
        if outcome.kind == "transient":
            wait = retry.delay(snap.attempts + 1)
            if wait is not None:
                log.info("Discord did not take %s (%s); again in %.0f s", key, outcome.reason, wait)
                await retry.sleep(wait)
                continue
            await record.write(state="failed", reason=f"gave up: {outcome.reason}"[:300])
            outcome = Outcome("failed", reason=outcome.reason)
        if outcome.kind in ("failed", "unchecked"):
            log.warning("could not post %s (%s): %s", key, outcome.kind, outcome.reason)
        return None


async def thread_once(
    sessionmaker: async_sessionmaker[AsyncSession],
    platform: Platform,
    community: Community,
    *,
    key: str,
    channel_id: str,
    name: str,
    retry: Retry | None = None,
    job_key: str | None = None,
) -> str | None:
    """Open a thread without a message once for `key`; returns its id (also when an
    earlier attempt opened it: the platform finds it), None when it could not."""
    retry = retry or Retry()
    while True:
        snap = await _post_row(sessionmaker, community, key, channel_id, job_key)
        if snap.state == "sent" and snap.message_id:
            return snap.message_id
        if snap.state in UNDELIVERED:
            return None
        record = _Record(sessionmaker, ChannelPost, snap.id)
        earlier = snap.attempted_at
        await record.write(attempted_at=earlier or clock.now(), attempts=snap.attempts + 1)
        try:
            thread = await platform.open_thread(
                community.platform_id, snap.channel_id or channel_id, name, since=earlier
            )
        except Unverifiable as exc:
            await record.write(state="unchecked", reason=exc.reason)
            log.warning("could not open %s (unchecked): %s", key, exc.reason)
            return None
        except SendFailed as exc:
            wait = retry.delay(snap.attempts + 1) if exc.transient else None
            if wait is not None:
                await record.write(reason=exc.reason)
                await retry.sleep(wait)
                continue
            await record.write(state="failed", reason=exc.reason)
            log.warning("could not open %s: %s", key, exc.reason)
            return None
        await record.write(state="sent", message_id=thread, reason=None)
        return thread


async def retrying(retry: Retry, what: str, call: Callable[[], Awaitable[T]]) -> T:
    """Run an idempotent platform call (an edit, a thread on a message, an event), trying
    again after transient failures; a final one (or the last) is raised."""
    attempts = 0
    while True:
        attempts += 1
        try:
            return await call()
        except SendFailed as exc:
            wait = retry.delay(attempts) if exc.transient else None
            if wait is None:
                raise
            log.info("Discord did not take %s (%s); again in %.0f s", what, exc.reason, wait)
            await retry.sleep(wait)


async def post_card(
    run: scheduling.JobRun,
    platform: Platform,
    community: Community,
    channel: str,
    message_id: str | None,
    reply: Reply,
    thread_name: str,
    intro: Reply | None = None,
    *,
    key: str,
) -> tuple[str, str, str] | None:
    """Keep one card per item (`key`, e.g. `agenda:7`) in a channel: edit it when it exists,
    otherwise post it once and open its discussion thread, whose first message is `intro`
    (the house rules). Returns the new (channel id, message id, thread id) after a first
    post; None after an edit, or when the card could not be posted (recorded, logged)."""
    retry = await retry_for(run)
    if message_id:
        await retrying(
            retry,
            f"{key}:card",
            lambda: platform.edit(community.platform_id, channel, message_id, reply),
        )
        return None
    posted = await post_once(
        run.sessionmaker,
        platform,
        community,
        key=f"{key}:card",
        channel_id=channel,
        reply=reply,
        retry=retry,
        job_key=run.key,
    )
    if posted is None:
        return None
    thread = await retrying(
        retry,
        f"{key}:thread",
        lambda: platform.open_thread(
            community.platform_id,
            posted.channel_id,
            thread_name[:100],
            message_id=posted.message_id,
        ),
    )
    if intro is not None:
        await post_once(
            run.sessionmaker,
            platform,
            community,
            key=f"{key}:intro",
            channel_id=thread,
            reply=intro,
            retry=retry,
            job_key=run.key,
        )
    return posted.channel_id, posted.message_id, thread


# --- one card update at a time -----------------------------------------------------------


class _Cards:
    """The card updates of one event loop: the locks (gone when nobody holds or waits for
    them) and how many updates wait per card. Kept per loop, so that an update cut off with
    its loop (a test's, or a bot's that was stopped) can never hold up the cards of the next
    loop in the same process, whose items may have the same ids."""

    def __init__(self) -> None:
        self.locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        self.queued: dict[str, int] = {}


_CARDS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Cards] = weakref.WeakKeyDictionary()


def _cards() -> _Cards:
    loop = asyncio.get_running_loop()
    cards = _CARDS.get(loop)
    if cards is None:
        cards = _CARDS[loop] = _Cards()
    return cards


def card_lock(kind: str, item_id: int) -> asyncio.Lock:
    """One card update at a time per item: each reads the item's state inside the lock,
    so the last update shown is the latest state, and a card is never posted twice."""
    locks = _cards().locks
    key = f"{kind}:{item_id}"
    lock = locks.get(key)
    if lock is None:
        lock = asyncio.Lock()
        locks[key] = lock
    return lock


@asynccontextmanager
async def card_turn(kind: str, item_id: int) -> AsyncIterator[bool]:
    """Wait for this item's turn to update its card; yields False when newer updates are
    already queued behind this one (they will show the later state, so this one may skip).
    Ten quick clicks then cost two edits, not ten, under Discord's edit limit."""
    queued = _cards().queued
    key = f"{kind}:{item_id}"
    queued[key] = queued.get(key, 0) + 1
    try:
        async with card_lock(kind, item_id):
            yield queued[key] == 1
    finally:
        queued[key] -= 1
        if not queued[key]:
            del queued[key]
