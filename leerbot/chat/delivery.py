"""Sending one message to each of several members, at most once each, even across a crash
or restart: the delivery row is committed before the message leaves. When a member does not
accept direct messages, the message goes to a private thread with just them."""

from __future__ import annotations

import asyncio
import logging
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from sqlalchemy import select, update

from leerbot import scheduling
from leerbot.chat.platform import Platform
from leerbot.chat.reply import Reply
from leerbot.db.models import Community, Member, ReminderDelivery
from leerbot.i18n import translate
from leerbot.logging_ids import who

log = logging.getLogger("leerbot.delivery")


async def deliver(
    run: scheduling.JobRun,
    platform: Platform,
    community: Community,
    members: list[Member],
    make: Callable[[str], Reply],
    thread_parent: str | None,
) -> None:
    """Send one message per member, at most once each: the delivery row is committed
    before sending. Closed DMs fall back to a private thread."""
    for member in members:
        async with run.sessionmaker() as db, db.begin():
            exists = await db.scalar(
                select(ReminderDelivery.id).where(
                    ReminderDelivery.job_key == run.key, ReminderDelivery.member_id == member.id
                )
            )
            if exists is not None:
                continue
            delivery = ReminderDelivery(job_key=run.key, member_id=member.id, via="pending")
            db.add(delivery)
        locale = member.language(community.locale)
        reply = make(locale)
        reply.locale = locale
        via = "failed"
        try:
            if await platform.send_dm(community.platform_id, member.platform_id, reply):
                via = "dm"
            elif thread_parent:
                thread = await platform.open_thread(
                    community.platform_id,
                    thread_parent,
                    translate(locale, "delivery.private_thread_name", name=member.display_name)[
                        :100
                    ],
                    private=True,
                    member_platform_ids=(member.platform_id,),
                )
                await platform.post(community.platform_id, thread, reply)
                via = "thread"
        except Exception:
            log.exception("could not deliver %s to member %s", run.key, who(member.id))
        async with run.sessionmaker() as db, db.begin():
            # one statement: the row may be gone meanwhile (a round sealed at its close, a
            # member who deleted their data), and then there is nothing to record
            await db.execute(
                update(ReminderDelivery)
                .where(ReminderDelivery.job_key == run.key, ReminderDelivery.member_id == member.id)
                .values(via=via)
            )


async def post_card(
    platform: Platform,
    community: Community,
    channel: str,
    message_id: str | None,
    reply: Reply,
    thread_name: str,
    intro: Reply | None = None,
) -> tuple[str, str] | None:
    """Keep one card per item in a channel: edit it when it exists, otherwise post it and
    open its discussion thread, whose first message is `intro` (the house rules). Returns
    the new (message id, thread id) after a first post."""
    if message_id:
        await platform.edit(community.platform_id, channel, message_id, reply)
        return None
    posted = await platform.post(community.platform_id, channel, reply)
    thread = await platform.open_thread(
        community.platform_id, channel, thread_name[:100], message_id=posted
    )
    if intro is not None:
        await platform.post(community.platform_id, thread, intro)
    return posted, thread


_CARD_LOCKS: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


def card_lock(kind: str, item_id: int) -> asyncio.Lock:
    """One card update at a time per item: each reads the item's state inside the lock,
    so the last update shown is the latest state, and a card is never posted twice."""
    key = f"{kind}:{item_id}"
    lock = _CARD_LOCKS.get(key)
    if lock is None:
        lock = asyncio.Lock()
        _CARD_LOCKS[key] = lock
    return lock


_QUEUED: dict[str, int] = {}


@asynccontextmanager
async def card_turn(kind: str, item_id: int) -> AsyncIterator[bool]:
    """Wait for this item's turn to update its card; yields False when newer updates are
    already queued behind this one (they will show the later state, so this one may skip).
    Ten quick clicks then cost two edits, not ten, under Discord's edit limit."""
    key = f"{kind}:{item_id}"
    _QUEUED[key] = _QUEUED.get(key, 0) + 1
    try:
        async with card_lock(kind, item_id):
            yield _QUEUED[key] == 1
    finally:
        _QUEUED[key] -= 1
        if not _QUEUED[key]:
            del _QUEUED[key]
