"""Sending one message to each of several members, at most once each, even across a crash
or restart: the delivery row is committed before the message leaves. When a member does not
accept direct messages, the message goes to a private thread with just them."""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import select

from leerbot import scheduling
from leerbot.chat.platform import Platform
from leerbot.chat.reply import Reply
from leerbot.db.models import Community, Member, ReminderDelivery
from leerbot.i18n import translate

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
            log.exception("could not deliver %s to member %s", run.key, member.id)
        async with run.sessionmaker() as db, db.begin():
            row = await db.scalar(
                select(ReminderDelivery).where(
                    ReminderDelivery.job_key == run.key, ReminderDelivery.member_id == member.id
                )
            )
            if row is not None:
                row.via = via


async def post_card(
    platform: Platform,
    community: Community,
    channel: str,
    message_id: str | None,
    reply: Reply,
    thread_name: str,
) -> tuple[str, str] | None:
    """Keep one card per item in a channel: edit it when it exists, otherwise post it and
    open its discussion thread. Returns the new (message id, thread id) after a first post."""
    if message_id:
        await platform.edit(community.platform_id, channel, message_id, reply)
        return None
    posted = await platform.post(community.platform_id, channel, reply)
    thread = await platform.open_thread(
        community.platform_id, channel, thread_name[:100], message_id=posted
    )
    return posted, thread
